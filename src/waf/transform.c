/*
 * transform.c - ModSecurity's transformations (t:...) as the pre-filter
 * needs them, ported from libmodsecurity 3.0.9's
 * src/actions/transformations/ (and the mbedtls base64 it bundles) with
 * their quirks kept: what a rule's operator sees is what the pre-filter
 * must test.  lowercase, urlDecodeUni, urlDecode, compressWhitespace,
 * removeWhitespace, removeNulls, replaceComments, cmdLine, length, trim*,
 * htmlEntityDecode, jsDecode, cssDecode, utf8toUnicode, base64Decode,
 * normalisePath(Win).
 *
 * Any other transformation (sha1, hexEncode, ...) is "cannot compute":
 * pf_tfn_apply() returns 0 and the link counts as "might match" for that
 * value.  Soundness never depends on a guess.
 */
#include "waf/pf_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/hex.h"

static const struct {
	const char *name;
	int t;
} tfn_names[] = {
	{ "lowercase", T_LOWERCASE }, { "urlDecodeUni", T_URLDECODEUNI },
	{ "urlDecode", T_URLDECODE }, { "compressWhitespace", T_COMPRESSWS },
	{ "removeWhitespace", T_REMOVEWS }, { "removeNulls", T_REMOVENULLS },
	{ "replaceComments", T_REPLACECOMMENTS }, { "cmdLine", T_CMDLINE },
	{ "length", T_LENGTH }, { "trim", T_TRIM }, { "trimLeft", T_TRIMLEFT },
	{ "trimRight", T_TRIMRIGHT }, { "base64Decode", T_BASE64DECODE },
	{ "htmlEntityDecode", T_HTMLENTITYDECODE }, { "jsDecode", T_JSDECODE },
	{ "cssDecode", T_CSSDECODE }, { "utf8toUnicode", T_UTF8TOUNICODE },
	{ "normalisePath", T_NORMALISEPATH }, { "normalizePath", T_NORMALISEPATH },
	{ "normalisePathWin", T_NORMALISEPATHWIN }, { "normalizePathWin", T_NORMALISEPATHWIN },
};

int pf_tfn_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(tfn_names) / sizeof(tfn_names[0]); i++)
		if (!strcasecmp(tfn_names[i].name, name))
			return tfn_names[i].t;
	return -1;
}

int pf_buf_reserve(struct pf_buf *b, size_t n)
{
	if (n <= b->cap)
		return 0;
	size_t nc = b->cap ? b->cap : 256;
	while (nc < n)
		nc *= 2;
	uint8_t *p = realloc(b->p, nc);
	if (!p)
		return -1;
	b->p = p;
	b->cap = nc;
	return 0;
}

void pf_buf_free(struct pf_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Four hex digits at h (room checked by the caller). */
static bool hex4(const uint8_t *h)
{
	return hex_digit(h[0]) >= 0 && hex_digit(h[1]) >= 0 && hex_digit(h[2]) >= 0 &&
	       hex_digit(h[3]) >= 0;
}

/* The byte ModSecurity keeps of a %uHHHH (urlDecodeUni) or \uHHHH
 * (jsDecode) escape, h at its four hex digits: the low byte, and a
 * full-width ASCII form (U+FF01-U+FF5E) mapped to its ASCII character, as
 * both its decoders do without a unicode map. */
static uint8_t uni_byte(const uint8_t *h)
{
	uint8_t c = (uint8_t)(hex_digit(h[2]) << 4 | hex_digit(h[3]));
	if (c > 0 && c < 0x5f && (h[0] == 'f' || h[0] == 'F') && (h[1] == 'f' || h[1] == 'F'))
		c += 0x20;
	return c;
}

/* One step of utils::urldecode_nonstrict_inplace at in[*i] (< len): %HH
 * decoded, '+' as a space, any other byte (a '%' without two hex digits
 * included) as it is.  urlDecodeUni takes the same step where it has no
 * %u escape. */
static inline uint8_t url_decode_step(const uint8_t *in, size_t len, size_t *i)
{
	size_t k = *i;

	if (in[k] == '%' && k + 2 < len && hex_digit(in[k + 1]) >= 0 && hex_digit(in[k + 2]) >= 0) {
		*i = k + 3;
		return (uint8_t)(hex_digit(in[k + 1]) << 4 | hex_digit(in[k + 2]));
	}
	*i = k + 1;
	return in[k] == '+' ? ' ' : in[k];
}

/* UrlDecodeUni::inplace without a unicode map (SecUnicodeMapFile unset). */
static size_t url_decode_uni(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (in[i] == '%' && i + 1 < len && (in[i + 1] == 'u' || in[i + 1] == 'U')) {
			if (i + 5 < len && hex4(in + i + 2)) {
				d[o++] = uni_byte(in + i + 2);
				i += 6;
			} else {
				d[o++] = in[i++];
				d[o++] = in[i++];
			}
		} else {
			d[o++] = url_decode_step(in, len, &i);
		}
	}
	return o;
}

/* utils::urldecode_nonstrict_inplace (t:urlDecode and argument parsing). */
size_t pf_urldecode_nonstrict(const uint8_t *in, size_t len, uint8_t *d);
size_t pf_urldecode_nonstrict(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;

	while (i < len)
		d[o++] = url_decode_step(in, len, &i);
	return o;
}

/* HtmlEntityDecode::inplace */
static size_t html_entity_decode(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;
	char x[64];

	while (i < len) {
		size_t copy = 1;
		if (in[i] == '&' && i + 1 < len) {
			size_t k, j = i + 1;
			if (in[j] == '#') {
				copy++;
				if (!(j + 1 < len))
					goto out;
				j++;
				int base = 10;
				if (in[j] == 'x' || in[j] == 'X') {
					copy++;
					if (!(j + 1 < len))
						goto out;
					j++;
					base = 16;
				}
				k = j;
				while (j < len && (base == 16 ? isxdigit(in[j]) : isdigit(in[j])))
					j++;
				if (j == k)
					goto out;
				/* strtol saturates on long runs; (unsigned char) of it */
				size_t n = j - k < sizeof(x) - 1 ? j - k : sizeof(x) - 1;
				memcpy(x, in + k, n);
				x[n] = '\0';
				long v = strtol(x, NULL, base);
				if (j - k >= sizeof(x) - 1)
					v = 0x7fffffffffffffffL;	/* LONG_MAX */
				d[o++] = (uint8_t)v;
				i = j < len && in[j] == ';' ? j + 1 : j;
				continue;
			}
			k = j;
			while (j < len && isalnum(in[j]))
				j++;
			if (j > k) {
				size_t n = j - k;
				const char *name = (const char *)in + k;
				uint8_t c;
				if (n == 4 && !strncasecmp(name, "quot", 4))
					c = '"';
				else if (n == 3 && !strncasecmp(name, "amp", 3))
					c = '&';
				else if (n == 2 && !strncasecmp(name, "lt", 2))
					c = '<';
				else if (n == 2 && !strncasecmp(name, "gt", 2))
					c = '>';
				else if (n == 4 && !strncasecmp(name, "nbsp", 4))
					c = 0xa0;
				else {
					copy = j - k + 1;
					goto out;
				}
				d[o++] = c;
				i = j < len && in[j] == ';' ? j + 1 : j;
				continue;
			}
		}
out:
		for (size_t z = 0; z < copy && i < len; z++)
			d[o++] = in[i++];
	}
	return o;
}

static bool odigit(uint8_t c)
{
	return c >= '0' && c <= '7';
}

/* JsDecode::inplace */
static size_t js_decode(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (in[i] != '\\') {
			d[o++] = in[i++];
			continue;
		}
		if (i + 5 < len && in[i + 1] == 'u' && hex4(in + i + 2)) {
			d[o++] = uni_byte(in + i + 2);
			i += 6;
		} else if (i + 3 < len && in[i + 1] == 'x' && hex_digit(in[i + 2]) >= 0 &&
			   hex_digit(in[i + 3]) >= 0) {
			d[o++] = (uint8_t)(hex_digit(in[i + 2]) << 4 | hex_digit(in[i + 3]));
			i += 4;
		} else if (i + 1 < len && odigit(in[i + 1])) {
			char buf[4];
			size_t j = 0;
			while (i + 1 + j < len && j < 3) {
				buf[j] = (char)in[i + 1 + j];
				j++;
				if (i + 1 + j >= len || !odigit(in[i + 1 + j]))
					break;
			}
			buf[j] = '\0';
			if (j == 3 && buf[0] > '3') {
				j = 2;
				buf[j] = '\0';
			}
			d[o++] = (uint8_t)strtol(buf, NULL, 8);
			i += 1 + j;
		} else if (i + 1 < len) {
			uint8_t c = in[i + 1];
			switch (c) {
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'v': c = '\v'; break;
			}
			d[o++] = c;
			i += 2;
		} else {
			while (i < len)
				d[o++] = in[i++];
		}
	}
	return o;
}

/* Utils::Base64::decode: mbedtls_base64_decode (as bundled with
 * libmodsecurity 3.0.9) over the value up to its first NUL; "" when the
 * value is not strict base64. */
static size_t base64_decode(const uint8_t *src, size_t slen, uint8_t *dst)
{
	static const uint8_t map[128] = {
		127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
		127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
		127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 62, 127, 127, 127, 63,
		52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 127, 127, 127, 64, 127, 127,
		127, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 127, 127, 127, 127, 127,
		127, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
		41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 127, 127, 127, 127, 127,
	};
	size_t i, n;
	uint32_t j, x;
	const uint8_t *nul = memchr(src, 0, slen);

	if (nul)
		slen = (size_t)(nul - src);
	for (i = n = j = 0; i < slen; i++) {
		x = 0;
		while (i < slen && src[i] == ' ') {
			++i;
			++x;
		}
		if (i == slen)
			break;
		if (slen - i >= 2 && src[i] == '\r' && src[i + 1] == '\n')
			continue;
		if (src[i] == '\n')
			continue;
		if (x != 0)
			return 0;
		if (src[i] == '=' && ++j > 2)
			return 0;
		if (src[i] > 127 || map[src[i]] == 127)
			return 0;
		if (map[src[i]] < 64 && j != 0)
			return 0;
		n++;
	}
	if (n == 0)
		return 0;
	size_t o = 0;
	for (j = 3, n = x = 0; i > 0; i--, src++) {
		if (*src == '\r' || *src == '\n' || *src == ' ')
			continue;
		j -= (map[*src] == 64);
		x = (x << 6) | (map[*src] & 0x3F);
		if (++n == 4) {
			n = 0;
			if (j > 0)
				dst[o++] = (uint8_t)(x >> 16);
			if (j > 1)
				dst[o++] = (uint8_t)(x >> 8);
			if (j > 2)
				dst[o++] = (uint8_t)x;
		}
	}
	return o;
}

/* NormalisePath::normalize_path_inplace, with indexes for its pointers;
 * b is a writable copy of the value (win mode rewrites backslashes). */
static size_t normalise_path(uint8_t *b, long len, bool win)
{
	long src = 0, dst = 0, end = len - 1, ldst = 1;
	int hitroot = 0, done = 0;

	if (len <= 0)
		return 0;
	int relative = (b[0] == '/' || (win && b[0] == '\\')) ? 0 : 1;
	int trailing = (b[end] == '/' || (win && b[end] == '\\')) ? 1 : 0;
	while (!done && src <= end && dst <= end) {
		if (win) {
			if (b[src] == '\\')
				b[src] = '/';
			if (src < end && b[src + 1] == '\\')
				b[src + 1] = '/';
		}
		if (src == end)
			done = 1;
		else if (b[src + 1] != '/')
			goto copy;
		if (src != end && b[src] == '/') {
			goto copy;
		} else if (b[src] == '.') {
			if (dst > 0 && b[dst - 1] == '.') {
				if (relative && (hitroot || dst - 2 <= 0)) {
					hitroot = 1;
					goto copy;
				}
				dst -= 3;
				while (dst > 0 && b[dst] != '/')
					dst--;
				if (dst <= 0) {
					hitroot = 1;
					dst = 0;
					if (!relative && src == end)
						dst++;
				}
				if (done)
					goto length;
				src++;
			} else if (dst == 0) {
				if (done)
					goto length;
				src++;
			} else if (b[dst - 1] == '/') {
				if (done)
					goto length;
				dst--;
				src++;
			}
		} else if (dst > 0) {
			hitroot = 0;
		}
copy:
		if (b[src] == '/') {
			while (src < end && (b[src + 1] == '/' || (win && b[src + 1] == '\\')))
				src++;
			if (relative && dst == 0) {
				src++;
				goto length;
			}
		}
		b[dst++] = b[src++];
length:
		ldst = dst;
	}
	if (!trailing && dst > 0 && b[dst - 1] == '/') {
		ldst--;
		dst--;
	}
	return (size_t)ldst;
}

/* Utf8ToUnicode::inplace as libmodsecurity 3.0.9 runs it: over the value
 * and its NUL terminator (bytes_left never shrinks), multi-byte sequences
 * become %uHHHH, bytes of a broken sequence are dropped, an embedded NUL
 * vanishes (written and then overwritten), and the result is cut at the
 * first NUL. */
static size_t utf8_to_unicode(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t o = 0, n = len + 1;
#define AT(k) ((k) < len ? in[k] : 0)
	for (size_t i = 0; i < n;) {
		int ul = 0;
		unsigned long cp = 0;
		uint8_t c = AT(i);
		if ((c & 0x80) == 0) {
			if (!(c == 0 && n > i + 1))
				d[o++] = c;
		} else if ((c & 0xE0) == 0xC0) {
			if ((AT(i + 1) & 0xC0) == 0x80) {
				ul = 2;
				cp = (unsigned long)(c & 0x1F) << 6 | (AT(i + 1) & 0x3F);
			}
		} else if ((c & 0xF0) == 0xE0) {
			if ((AT(i + 1) & 0xC0) == 0x80 && (AT(i + 2) & 0xC0) == 0x80) {
				ul = 3;
				cp = (unsigned long)(c & 0x0F) << 12 | (unsigned long)(AT(i + 1) & 0x3F) << 6 |
				     (AT(i + 2) & 0x3F);
			}
		} else if ((c & 0xF8) == 0xF0) {
			if (c >= 0xF5)
				d[o++] = c;
			if ((AT(i + 1) & 0xC0) == 0x80 && (AT(i + 2) & 0xC0) == 0x80 &&
			    (AT(i + 3) & 0xC0) == 0x80) {
				ul = 4;
				cp = (unsigned long)(c & 0x07) << 18 | (unsigned long)(AT(i + 1) & 0x3F) << 12 |
				     (unsigned long)(AT(i + 2) & 0x3F) << 6 | (AT(i + 3) & 0x3F);
			}
		} else {
			d[o++] = c;
		}
		if (ul > 0) {
			char hex[16];
			int hl = snprintf(hex, sizeof(hex), "%lx", cp);
			d[o++] = '%';
			d[o++] = 'u';
			for (int z = hl; z < 4; z++)
				d[o++] = '0';
			memcpy(d + o, hex, (size_t)hl);
			o += (size_t)hl;
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			d[o++] = c;
		if ((ul == 4 && cp < 0x10000) || (ul == 3 && cp < 0x800) || (ul == 2 && cp < 0x80))
			d[o++] = c;
		i += ul > 0 ? (size_t)ul : 1;
	}
#undef AT
	const uint8_t *nul = memchr(d, 0, o);
	return nul ? (size_t)(nul - d) : o;
}

/* CssDecode: css_decode_inplace, then the result is read back as a C
 * string (std::string(tmp, 0, size) goes through strlen): cut at the first
 * NUL. */
static size_t css_decode(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (in[i] != '\\') {
			d[o++] = in[i++];
			continue;
		}
		if (i + 1 >= len) {
			i++;
			continue;
		}
		i++;
		size_t j = 0;
		while (j < 6 && i + j < len && hex_digit(in[i + j]) >= 0)
			j++;
		if (j == 0) {
			if (in[i] == '\n')
				i++;
			else
				d[o++] = in[i++];
			continue;
		}
		bool full = false;
		uint8_t c =
		    j == 1 ? (uint8_t)hex_digit(in[i])
			   : (uint8_t)(hex_digit(in[i + j - 2]) << 4 | hex_digit(in[i + j - 1]));
		switch (j) {
		case 4:
			full = true;
			break;
		case 5:
			full = in[i] == '0';
			break;
		case 6:
			full = in[i] == '0' && in[i + 1] == '0';
			break;
		}
		if (full && c > 0 && c < 0x5f && (in[i + j - 3] == 'f' || in[i + j - 3] == 'F') &&
		    (in[i + j - 4] == 'f' || in[i + j - 4] == 'F'))
			c += 0x20;
		d[o++] = c;
		if (i + j < len && isspace(in[i + j]))
			j++;
		i += j;
	}
	const uint8_t *nul = memchr(d, 0, o);
	return nul ? (size_t)(nul - d) : o;
}

/* glibc's isspace() on a (signed) char, as the C++ code calls it. */
static bool cspace(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* 0x80 in each byte of x that is 'A'..'Z', 0 in the others: the low
 * seven bits plus 0x3f reach 0x80 from 'A' on, plus 0x25 from '[' on,
 * with no carry between bytes; a byte with its high bit set is none. */
static inline uint64_t upper_bytes(uint64_t x)
{
	const uint64_t hi = 0x8080808080808080ull;
	uint64_t y = x & ~hi;

	return (y + 0x3f3f3f3f3f3f3f3full) & ~(y + 0x2525252525252525ull) & ~x & hi;
}

/* Byte classes of a value (pf_tfn_classes), for identity checks that
 * need no other pass over it (pf_tfn_identity_cls). */
enum {
	K_UPPER = 1u << 0, K_PCT = 1u << 1, K_PLUS = 1u << 2, K_AMP = 1u << 3,
	K_BSL = 1u << 4, K_NUL = 1u << 5, K_HI = 1u << 6, K_SP = 1u << 7,
	K_CTLWS = 1u << 8, K_SLASH = 1u << 9, K_QUOTE = 1u << 10, K_CARET = 1u << 11,
	K_COMMA = 1u << 12, K_SEMI = 1u << 13, K_STAR = 1u << 14,
	K_KNOWN = 1u << 31,
};

static const uint16_t byte_class[256] = {
	0x0020, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0100, 0x0100, 0x0100, 0x0100, 0x0100, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0080, 0x0000, 0x0400, 0x0000, 0x0000, 0x0002, 0x0008, 0x0400,
	0x0000, 0x0000, 0x4000, 0x0004, 0x1000, 0x0000, 0x0000, 0x0200,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x2000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001,
	0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001,
	0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001, 0x0001,
	0x0001, 0x0001, 0x0001, 0x0000, 0x0010, 0x0000, 0x0800, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
	0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040, 0x0040,
};

uint32_t pf_tfn_classes(const uint8_t *in, size_t len)
{
	uint32_t k = K_KNOWN;

	for (size_t i = 0; i < len; i++)
		k |= byte_class[in[i]];
	return k;
}

bool pf_tfn_identity_cls(int t, uint32_t k, const uint8_t *in, size_t len)
{
	/* true only where pf_tfn_identity() says so; the classes decide
	 * the checks that look for single bytes, the rest ask it */
	switch (t) {
	case T_LOWERCASE:
		return !(k & K_UPPER);
	case T_URLDECODE:
	case T_URLDECODEUNI:
		return !(k & (K_PCT | K_PLUS));
	case T_HTMLENTITYDECODE:
		return !(k & K_AMP);
	case T_JSDECODE:
		return !(k & K_BSL);
	case T_CSSDECODE:
		return !(k & (K_BSL | K_NUL));
	case T_REMOVENULLS:
		return !(k & K_NUL);
	case T_UTF8TOUNICODE:
		return !(k & (K_NUL | K_HI));
	case T_COMPRESSWS:
		if (!(k & (K_SP | K_CTLWS)))
			return true;
		break;
	case T_REMOVEWS:
		if (!(k & (K_SP | K_CTLWS | K_HI)))
			return true;
		break;
	case T_REPLACECOMMENTS:
		if (!(k & K_SLASH) || !(k & K_STAR))
			return true;
		break;
	case T_CMDLINE:
		if (!(k & (K_QUOTE | K_BSL | K_CARET | K_COMMA | K_SEMI | K_UPPER | K_SP | K_CTLWS |
			   K_HI)))
			return true;
		break;
	case T_NORMALISEPATH:
	case T_NORMALISEPATHWIN:
		return !(k & (K_SLASH | K_BSL)) && (len == 0 || in[len - 1] != '.');
	default:
		break;
	}
	return pf_tfn_identity(t, in, len);
}

bool pf_tfn_identity(int t, const uint8_t *in, size_t len)
{
	switch (t) {
	case T_LOWERCASE: {	/* tolower() in the C locale: A-Z only */
		size_t i = 0;
		for (; i + 8 <= len; i += 8) {
			uint64_t x;
			memcpy(&x, in + i, 8);
			if (upper_bytes(x))
				return false;
		}
		for (; i < len; i++)
			if (in[i] >= 'A' && in[i] <= 'Z')
				return false;
		return true;
	}
	case T_URLDECODE:
	case T_URLDECODEUNI:
		return !memchr(in, '%', len) && !memchr(in, '+', len);
	case T_HTMLENTITYDECODE:
		return !memchr(in, '&', len);
	case T_JSDECODE:
		return !memchr(in, '\\', len);
	case T_CSSDECODE:	/* and cut at the first NUL (css_decode) */
		return !memchr(in, '\\', len) && !memchr(in, '\0', len);
	case T_REMOVENULLS:
		return !memchr(in, '\0', len);
	case T_UTF8TOUNICODE:	/* ASCII without NUL is copied as it is */
		for (size_t i = 0; i < len; i++)
			if (in[i] == 0 || in[i] >= 0x80)
				return false;
		return true;
	case T_COMPRESSWS:	/* only single ' ' as white space */
		for (size_t i = 0; i < len; i++)
			if (cspace(in[i]) && (in[i] != ' ' || (i + 1 < len && cspace(in[i + 1]))))
				return false;
		return true;
	case T_REMOVEWS:
		for (size_t i = 0; i < len; i++)
			if (cspace(in[i]) || in[i] == 0xa0 || in[i] == 0xc2)
				return false;
		return true;
	case T_REPLACECOMMENTS:	/* only a comment's start changes anything */
		for (size_t i = 0; i + 1 < len; i++)
			if (in[i] == '/' && in[i + 1] == '*')
				return false;
		return true;
	case T_CMDLINE:
		/* nothing dropped, lowered or merged: no quote, '\\', '^',
		 * separator but single spaces, upper case, nor a space that
		 * a following space, '/' or '(' would remove */
		for (size_t i = 0; i < len; i++) {
			uint8_t c = in[i];
			if (c == '"' || c == '\'' || c == '\\' || c == '^' || c == ',' || c == ';' ||
			    c == '\t' || c == '\r' || c == '\n' || tolower(c) != c)
				return false;
			if (c == ' ' && i + 1 < len &&
			    (in[i + 1] == ' ' || in[i + 1] == ',' || in[i + 1] == ';' ||
			     in[i + 1] == '\t' || in[i + 1] == '\r' || in[i + 1] == '\n' ||
			     in[i + 1] == '/' || in[i + 1] == '('))
				return false;
		}
		return true;
	case T_TRIM:
	case T_TRIMLEFT:
	case T_TRIMRIGHT:
		return len == 0 || ((t == T_TRIMRIGHT || !cspace(in[0])) &&
				    (t == T_TRIMLEFT || !cspace(in[len - 1])));
	case T_NORMALISEPATH:
	case T_NORMALISEPATHWIN:
		/* without a separator normalise_path() copies every byte but
		 * a final "." or ".." (the last segment, dropped) */
		return !memchr(in, '/', len) && !memchr(in, '\\', len) &&
		       (len == 0 || in[len - 1] != '.');
	default:
		return false;
	}
}

int pf_tfn_apply(int t, const uint8_t *in, size_t len, struct pf_buf *out)
{
	size_t o = 0;

	if (pf_buf_reserve(out, len + 32) < 0)
		return -1;
	uint8_t *d = out->p;
	switch (t) {
	case T_LOWERCASE: {	/* tolower() in the C locale, inline */
		size_t i = 0;
		for (; i + 8 <= len; i += 8) {
			uint64_t x;
			memcpy(&x, in + i, 8);
			x |= upper_bytes(x) >> 2;	/* + 0x20 where 'A'..'Z' */
			memcpy(d + i, &x, 8);
		}
		for (; i < len; i++)
			d[i] = in[i] >= 'A' && in[i] <= 'Z' ? (uint8_t)(in[i] + 32) : in[i];
		o = len;
		break;
	}
	case T_URLDECODEUNI:
		o = url_decode_uni(in, len, d);
		break;
	case T_URLDECODE:
		o = pf_urldecode_nonstrict(in, len, d);
		break;
	case T_COMPRESSWS: {
		bool ws = false;
		for (size_t i = 0; i < len; i++) {
			if (cspace(in[i])) {
				if (!ws)
					d[o++] = ' ';
				ws = true;
			} else {
				d[o++] = in[i];
				ws = false;
			}
		}
		break;
	}
	case T_REMOVEWS:
		for (size_t i = 0; i < len; i++)
			if (!cspace(in[i]) && in[i] != 0xa0 && in[i] != 0xc2)
				d[o++] = in[i];
		break;
	case T_REMOVENULLS:
		for (size_t i = 0; i < len; i++)
			if (in[i])
				d[o++] = in[i];
		break;
	case T_REPLACECOMMENTS: {
		bool c = false;
		size_t i = 0;
		while (i < len) {
			if (!c) {
				if (in[i] == '/' && i + 1 < len && in[i + 1] == '*') {
					c = true;
					i += 2;
				} else {
					d[o++] = in[i++];
				}
			} else if (in[i] == '*' && i + 1 < len && in[i + 1] == '/') {
				c = false;
				i += 2;
				d[o++] = ' ';
			} else {
				i++;
			}
		}
		if (c)
			d[o++] = ' ';
		break;
	}
	case T_CMDLINE: {
		int space = 0;
		for (size_t i = 0; i < len; i++) {
			uint8_t a = in[i];
			switch (a) {
			case '"': case '\'': case '\\': case '^':
				break;
			case ' ': case ',': case ';': case '\t': case '\r': case '\n':
				if (!space) {
					d[o++] = ' ';
					space++;
				}
				break;
			case '/': case '(':
				if (space)
					o--;
				space = 0;
				d[o++] = a;
				break;
			default:	/* tolower() in the C locale */
				d[o++] = a >= 'A' && a <= 'Z' ? (uint8_t)(a + 32) : a;
				space = 0;
			}
		}
		break;
	}
	case T_LENGTH:
		o = (size_t)snprintf((char *)d, 32, "%zu", len);
		break;
	case T_TRIM:
	case T_TRIMLEFT:
	case T_TRIMRIGHT: {
		size_t b = 0, e = len;
		if (t != T_TRIMRIGHT)
			while (b < e && cspace(in[b]))
				b++;
		if (t != T_TRIMLEFT)
			while (e > b && cspace(in[e - 1]))
				e--;
		memmove(d, in + b, e - b);
		o = e - b;
		break;
	}
	case T_HTMLENTITYDECODE:
		o = html_entity_decode(in, len, d);
		break;
	case T_JSDECODE:
		o = js_decode(in, len, d);
		break;
	case T_BASE64DECODE:
		o = base64_decode(in, len, d);
		break;
	case T_NORMALISEPATH:
	case T_NORMALISEPATHWIN:
		memmove(d, in, len);
		o = normalise_path(d, (long)len, t == T_NORMALISEPATHWIN);
		break;
	case T_UTF8TOUNICODE:
		if (pf_buf_reserve(out, 8 * len + 16) < 0)
			return -1;
		d = out->p;
		o = utf8_to_unicode(in, len, d);
		break;
	case T_CSSDECODE:
		o = css_decode(in, len, d);
		break;
	default:
		return 0;
	}
	out->len = o;
	return 1;
}
