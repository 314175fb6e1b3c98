/*
 * strict.c - the WAF's strict decoding check (strict.h): one pass over the
 * raw target, then the body by its Content-Type (urlencoded, multipart,
 * JSON), refusing what two decoders could read two ways.
 *
 * Every check is a linear scan; parameter names and JSON keys are compared
 * by sorting (no quadratic worst case on a body of many names).  Memory:
 * one arena per call for names and keys, freed before it returns.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hex.h"
#include "waf/strict.h"

/* ---- helpers ---- */

static bool is_hex2(const char *p, size_t i, size_t n)
{
	return i + 1 < n && hex_digit(p[i]) >= 0 && hex_digit(p[i + 1]) >= 0;
}

static bool ambiguous(struct waf_strict_why *why, const char *what, const char *where,
		      const char *p, size_t len)
{
	size_t o = 0;

	why->what = what;
	why->where = where;
	for (size_t i = 0; i < len && o + 5 < sizeof(why->at); i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			why->at[o++] = (char)c;
		else
			o += (size_t)snprintf(why->at + o, sizeof(why->at) - o, "\\x%02x", c);
	}
	why->at[o] = '\0';
	return false;
}

/* A growable arena of names and their (offset, length) index. */
struct name { size_t off, len; };
struct names {
	char *buf;
	size_t len, cap;
	struct name *v;
	size_t n, vcap;
	bool oom;
};

static bool names_add(struct names *s, const char *p, size_t len)
{
	if (s->len + len > s->cap || !s->buf) {
		size_t cap = s->cap ? s->cap : 256;
		while (cap < s->len + len)
			cap *= 2;
		char *b = realloc(s->buf, cap);
		if (!b)
			return !(s->oom = true);
		s->buf = b;
		s->cap = cap;
	}
	if (s->n == s->vcap) {
		size_t cap = s->vcap ? s->vcap * 2 : 32;
		struct name *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return !(s->oom = true);
		s->v = v;
		s->vcap = cap;
	}
	if (len)
		memcpy(s->buf + s->len, p, len);
	s->v[s->n++] = (struct name){ s->len, len };
	s->len += len;
	return true;
}

static void names_free(struct names *s)
{
	free(s->buf);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Appends to the last name added. */
static bool names_add_more(struct names *s, const char *p, size_t len)
{
	size_t last = s->n - 1;
	size_t off = s->v[last].off;
	s->n--;
	if (!names_add(s, p, len)) {
		s->n++;
		return false;
	}
	s->n--;
	s->v[last] = (struct name){ off, s->len - off };
	s->n = last + 1;
	return true;
}

static int name_cmp(const void *a, const void *b, void *base)
{
	const struct name *x = a, *y = b;
	const char *cmp_base = base;
	size_t l = x->len < y->len ? x->len : y->len;
	int c = l ? memcmp(cmp_base + x->off, cmp_base + y->off, l) : 0;
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Sorts v[from..n) of s; the index of a name there equal to another, or
 * -1. */
static long names_dup(struct names *s, size_t from)
{
	size_t n = s->n - from;

	if (n < 2)
		return -1;
	struct name *v = s->v + from;
	qsort_r(v, n, sizeof(*v), name_cmp, s->buf);
	for (size_t i = 1; i < n; i++)
		if (name_cmp(&v[i - 1], &v[i], s->buf) == 0)
			return (long)(from + i);
	return -1;
}

/* ---- percent-encoding and UTF-8 ---- */

enum field { F_PATH, F_QUERY, F_FORM };

struct utf8 {
	int need;
	uint32_t cp, min;
	size_t start;    /* raw offset of the sequence's first byte */
};

/* Feeds one decoded byte; NULL or what is wrong. */
static inline __attribute__((always_inline)) const char *
utf8_feed(struct utf8 *u, unsigned char b, size_t at)
{
	if (!u->need) {
		u->start = at;
		if (b < 0x80)
			return NULL;
		if (b >= 0xc0 && b < 0xe0)
			u->need = 1, u->cp = b & 0x1f, u->min = 0x80;
		else if (b >= 0xe0 && b < 0xf0)
			u->need = 2, u->cp = b & 0x0f, u->min = 0x800;
		else if (b >= 0xf0 && b < 0xf8)
			u->need = 3, u->cp = b & 0x07, u->min = 0x10000;
		else
			return "invalid UTF-8";
		return NULL;
	}
	if ((b & 0xc0) != 0x80)
		return "invalid UTF-8";
	u->cp = u->cp << 6 | (b & 0x3f);
	if (--u->need)
		return NULL;
	if (u->cp < u->min)
		return "overlong UTF-8";
	if (u->cp >= 0xd800 && u->cp <= 0xdfff)
		return "a UTF-8 surrogate";
	if (u->cp > 0x10ffff)
		return "a code point above U+10FFFF";
	return NULL;
}

static bool excerpt(struct waf_strict_why *why, const char *what, const char *where,
		    const char *p, size_t n, size_t from, size_t to)
{
	if (to > n)
		to = n;
	return ambiguous(why, what, where, p + from, to > from ? to - from : 0);
}

/* The character at *i, a %XX decoded; -1 at the end. */
static int char_at(const char *p, size_t n, size_t *i)
{
	if (*i >= n)
		return -1;
	if (p[*i] == '%' && is_hex2(p, *i + 1, n)) {
		int c = hex_digit(p[*i + 1]) << 4 | hex_digit(p[*i + 2]);
		*i += 3;
		return c;
	}
	return (unsigned char)p[(*i)++];
}

/* Whether what follows an encoded '%' at i makes an escape once decoded:
 * two hex digits or a 'u' and four, themselves encoded or not (%252e, %25%32%65,
 * %25u0027). */
static bool second_escape(const char *p, size_t n, size_t i, size_t *end)
{
	int a = char_at(p, n, &i);
	if (a < 0)
		return false;
	if ((a | 0x20) == 'u') {   /* %25u0027: IIS's escape, encoded */
		int h = 0;
		while (h < 4 && i + (size_t)h < n && hex_digit(p[i + (size_t)h]) >= 0)
			h++;
		*end = i + 4;
		return h == 4;
	}
	int b = char_at(p, n, &i);
	*end = i;
	return hex_digit(a) >= 0 && b >= 0 && hex_digit(b) >= 0;
}

/*
 * D57: a letter encoded twice in a query or form value ("next=/en-gb/red/
 * ch%25C3%25A2teauneuf", a return path or URL that was percent-encoded
 * once and then sent as a field): p[i..) holds "%25HH" escapes, plain and
 * nothing else, that make one well-formed UTF-8 character of a script's
 * letters (U+00C0-U+1FFF: Latin, Greek, Cyrillic, Armenian, Hebrew,
 * Arabic, Indic, ...; U+3040-U+9FFF: kana and CJK; U+AC00-U+D7A3:
 * Hangul).  No such character is syntax to any decoder: punctuation,
 * symbols, U+0080-U+00BF (0xBC, 0xBE), the fullwidth and small forms a
 * normalising back end reads as "<" or "'", overlongs and surrogates,
 * and every ASCII byte stay refused as double percent-encoding.  *end is
 * the offset after the character's last escape.
 */
static bool double_letter(const char *p, size_t n, size_t i, size_t *end)
{
	struct utf8 u = { 0 };

	do {
		if (i + 5 > n || p[i] != '%' || p[i + 1] != '2' || p[i + 2] != '5' ||
		    !is_hex2(p, i + 3, n))
			return false;
		unsigned char b = (unsigned char)(hex_digit(p[i + 3]) << 4 | hex_digit(p[i + 4]));
		if (b < 0x80 || utf8_feed(&u, b, i))
			return false;
		i += 5;
	} while (u.need);
	*end = i;
	return (u.cp >= 0xc0 && u.cp <= 0x1fff) || (u.cp >= 0x3040 && u.cp <= 0x9fff) ||
	       (u.cp >= 0xac00 && u.cp <= 0xd7a3);
}

/* An npm package name's byte (npm's rules: lowercase in new names, capitals
 * in old ones; '.' '_' '~' '-' inside, never first). */
static bool npm_name_byte(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '~' || c == '-');
}

/*
 * D44: the one encoded slash a path may hold, an npm scoped package name
 * as npm and every registry client sends it ("/@babel%2fcore",
 * "/-/package/@acme%2fui/dist-tags"): p[seg..at) is the segment up to the
 * "%2f" at `at` and must be "@" and a scope, the rest of the segment from
 * at + 3 a name, both of raw name bytes, and the segment ends at a '/' or
 * the path's end (not ';').  No piece can be a dot segment (a name never
 * opens with '.'), no escape sits in either, and a segment holds one.
 */
static bool npm_scoped_slash(const char *p, size_t n, size_t seg, size_t at)
{
	if (!seg || p[seg - 1] != '/' || at - seg < 2 || p[seg] != '@')
		return false;
	for (size_t k = seg + 1; k < at; k++)
		if (!npm_name_byte((unsigned char)p[k], k == seg + 1))
			return false;
	size_t k = at + 3;
	if (k >= n || !npm_name_byte((unsigned char)p[k], true))
		return false;
	while (k < n && p[k] != '/' && npm_name_byte((unsigned char)p[k], false))
		k++;
	return k == n || p[k] == '/';
}

/* A path segment's decoded bytes, as far as dot segments go. */
struct seg {
	size_t from;     /* raw offset of its first byte */
	size_t len, dots, spaces;
	bool enc_dot;    /* one of its dots was %2e */
};

/* Ends segment g at raw offset `to`: an encoded dot segment is refused at
 * once; a segment of dots (and spaces, which Windows trims) is noted in
 * *dot_at for the encoded slash's rule. */
static bool seg_end(struct seg *g, const char *p, size_t n, size_t to, const char *where,
		    size_t *dot_from, size_t *dot_to, struct waf_strict_why *why)
{
	bool dotty = g->dots && g->len == g->dots + g->spaces;
	if (g->enc_dot && g->len == g->dots && g->len <= 2)
		return excerpt(why, "a dot segment hidden by percent-encoding", where, p, n,
			       g->from, to);
	if (dotty && *dot_from == SIZE_MAX) {
		*dot_from = g->from;
		*dot_to = to;
	}
	*g = (struct seg){ .from = to + 1 };
	return true;
}

/*
 * The path names gatehouse's default exclusions are keyed on
 * (crs_defaults.c: D16's collections, 90022's /graphql, 90083's /query),
 * read by ModSecurity in REQUEST_FILENAME, which is decoded: made by an
 * encoded slash ("/coupons/x%2fsnippets"), such a name would give a path
 * that a server keeping %2f reads as another resource the treatment of a
 * snippet store or a GraphQL endpoint.  The last segment, or the one
 * before it for a collection's item.
 */
struct piece { size_t from, to; bool enc; };

static bool piece_is(const char *p, const struct piece *c, const char *const *words)
{
	char w[10];
	size_t l = 0;

	for (size_t i = c->from; i < c->to; l++) {
		if (l == sizeof(w) - 1)
			return false;
		int ch = char_at(p, c->to, &i);
		w[l] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
	}
	w[l] = '\0';
	for (; *words; words++)
		if (!strcmp(w, *words))
			return true;
	return false;
}

static const char *const collection_names[] = {
	"snippet", "snippets", "gist", "gists", "paste", "pastes", NULL
};
static const char *const endpoint_names[] = {
	"snippet", "snippets", "gist", "gists", "paste", "pastes", "graphql", "query", NULL
};

/* ring[0..2]: the path's last three pieces (split on '/' and %2f), oldest
 * first; the last may be empty (a trailing slash).  The keyword piece, or
 * NULL. */
static const struct piece *default_name_piece(const char *p, const struct piece *ring)
{
	const struct piece *last = &ring[2], *prev = &ring[1];

	if (last->from == last->to) {
		last = &ring[1];
		prev = &ring[0];
	}
	if (last->enc && piece_is(p, last, endpoint_names))
		return last;
	if (prev->enc && piece_is(p, prev, collection_names))
		return prev;
	return NULL;
}

/*
 * Scans one field's raw bytes: percent-escapes well-formed and decoded
 * once to valid, shortest-form UTF-8 without NUL; in a path, no encoded
 * '\\' and no dot segment made of encoded dots.  An encoded '/' in a path
 * is taken (slash_ok: `strict_encoded_slash allow`; else only an npm
 * scoped name's, D44) as a separator of the path a decoding server reads:
 * then no segment may be dots (raw or encoded, `..%2f`, `%2f..`), an
 * encoded slash opens or closes no segment but one of its own (`/%2f/`, a
 * RabbitMQ vhost; not `/%2fetc`, an absolute path once decoded, nor
 * `/a%2f`), and it makes none of the names the WAF's defaults key on.
 */
static bool scan_field(const char *p, size_t n, enum field f, const char *where, bool slash_ok,
		       struct waf_strict_why *why)
{
	struct utf8 u = { 0 };
	struct seg g = { 0 };
	size_t slash_at = SIZE_MAX, dot_from = SIZE_MAX, dot_to = 0;
	struct piece ring[3] = { 0 };
	size_t piece_from = 0;
	bool seg_slash = false;   /* the raw segment holds an encoded slash (not an npm one) */
#define PIECE_END(to_) do { \
	ring[0] = ring[1]; \
	ring[1] = ring[2]; \
	ring[2] = (struct piece){ piece_from, (to_), seg_slash }; \
} while (0)

	for (size_t i = 0; i <= n;) {
		bool sep = f == F_PATH && (i == n || p[i] == '/' || p[i] == ';' || p[i] == '\\');
		if (sep && !seg_end(&g, p, n, i, where, &dot_from, &dot_to, why))
			return false;
		if (f == F_PATH && (i == n || p[i] == '/')) {
			PIECE_END(i);
			piece_from = i + 1;
			seg_slash = false;
		}
		if (i == n)
			break;
		unsigned char c = (unsigned char)p[i];
		size_t at = i;
		unsigned char d;
		bool enc_sep = false;
		if (c == '%') {
			if (i + 1 < n && (p[i + 1] | 0x20) == 'u')
				return excerpt(why, "a %u escape", where, p, n, i, i + 6);
			if (!is_hex2(p, i + 1, n))
				return excerpt(why, "malformed percent-encoding", where, p, n, i, i + 3);
			d = (unsigned char)(hex_digit(p[i + 1]) << 4 | hex_digit(p[i + 2]));
			size_t end;
			if (d == '%' && f != F_PATH && !u.need && double_letter(p, n, i, &end)) {
				i = end;   /* ASCII text to the decoder that reads it once */
				continue;
			}
			if (d == '%' && second_escape(p, n, i + 3, &end))
				return excerpt(why, "double percent-encoding", where, p, n, i, end);
			if (!d)
				return excerpt(why, "an encoded NUL", where, p, n, i, i + 3);
			if (f == F_PATH && d == '\\')
				return excerpt(why, "an encoded backslash", where, p, n, i, i + 3);
			if (f == F_PATH && d == '/') {
				bool npm = npm_scoped_slash(p, n, g.from, i);
				if (!slash_ok && !npm)
					return excerpt(why, "an encoded slash", where, p, n, i, i + 3);
				if (!npm && !g.len && i + 3 < n && p[i + 3] != '/')
					return excerpt(why, "an encoded slash opening a segment", where,
						       p, n, i, i + 6);
				if (!npm && g.len && (i + 3 == n || p[i + 3] == '/' || p[i + 3] == ';'))
					return excerpt(why, "an encoded slash closing a segment", where,
						       p, n, g.from, i + 3);
				if (slash_at == SIZE_MAX)
					slash_at = i;
				enc_sep = true;
				seg_slash |= !npm;
				PIECE_END(i);
				piece_from = i + 3;
			}
			g.enc_dot |= d == '.';
			i += 3;
		} else {
			if (!c)
				return excerpt(why, "a NUL byte", where, p, n, i, i + 1);
			d = c;
			i++;
		}
		if (enc_sep) {
			if (!seg_end(&g, p, n, at, where, &dot_from, &dot_to, why))
				return false;
			g.from = i;
		} else if (!sep) {
			g.len++;
			g.dots += d == '.';
			g.spaces += d == ' ';
		}
		const char *bad = utf8_feed(&u, d, at);
		if (bad)
			return excerpt(why, bad, where, p, n, u.start, i);
	}
	if (u.need)
		return excerpt(why, "invalid UTF-8", where, p, n, u.start, n);
#undef PIECE_END
	if (slash_at != SIZE_MAX && dot_from != SIZE_MAX)
		return excerpt(why, "a dot segment in a path with an encoded slash", where, p, n,
			       dot_from < slash_at ? dot_from : slash_at,
			       dot_to > slash_at + 3 ? dot_to : slash_at + 3);
	const struct piece *kw = slash_at != SIZE_MAX ? default_name_piece(p, ring) : NULL;
	if (kw)
		return excerpt(why, "a name the WAF's defaults read made by an encoded slash",
			       where, p, n, kw->from >= 3 ? kw->from - 3 : 0, kw->to);
	return true;
}

/* The names of p's parameters (split on '&', name before '='), decoded:
 * '+' is a space.  p was scanned.  False when out of memory. */
static bool param_names(const char *p, size_t n, struct names *s)
{
	char tmp[256];

	for (size_t i = 0; i < n;) {
		size_t e = i, len = 0;
		bool added = false;
		while (e < n && p[e] != '&' && p[e] != '=')
			e++;
		for (size_t k = i; k < e;) {
			char c = p[k];
			if (c == '%' && is_hex2(p, k + 1, e)) {
				c = (char)(hex_digit(p[k + 1]) << 4 | hex_digit(p[k + 2]));
				k += 3;
			} else {
				c = c == '+' ? ' ' : c;
				k++;
			}
			if (len == sizeof(tmp)) {   /* a long name: in pieces */
				if (!(added ? names_add_more(s, tmp, len) : names_add(s, tmp, len)))
					return false;
				added = true;
				len = 0;
			}
			tmp[len++] = c;
		}
		if ((len || added) &&
		    !(added ? names_add_more(s, tmp, len) : names_add(s, tmp, len)))
			return false;
		while (e < n && p[e] != '&')
			e++;
		i = e + 1;
	}
	return true;
}

/* ---- Content-Type ---- */

enum ctype { CT_OTHER, CT_FORM, CT_MULTIPART, CT_JSON };

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_bchar(char c, bool quoted)
{
	if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		return true;
	if (strchr("'+_-.", c) && c)
		return true;
	/* RFC 2046's other bchars are tspecials: only inside quotes */
	return quoted && c && strchr("()/,:=? ", c);
}

/*
 * The media type of v and, for multipart/form-data, its boundary (one,
 * 1-70 bchars, not ending in a space; a quoted one without escapes).
 */
static bool parse_ctype(const char *v, size_t n, enum ctype *ct, const char **bnd,
			size_t *blen, struct waf_strict_why *why)
{
	static const char where[] = "the Content-Type";
	size_t i = 0;

	while (i < n && is_ows(v[i]))
		i++;
	size_t ts = i;
	while (i < n && v[i] != ';' && !is_ows(v[i]))
		i++;
	size_t tl = i - ts;
	const char *t = v + ts;
	*ct = CT_OTHER;
	if (tl == 33 && !strncasecmp(t, "application/x-www-form-urlencoded", tl))
		*ct = CT_FORM;
	else if (tl == 19 && !strncasecmp(t, "multipart/form-data", tl))
		*ct = CT_MULTIPART;
	else if ((tl == 16 && !strncasecmp(t, "application/json", tl)) ||
		 (tl > 17 && !strncasecmp(t, "application/", 12) &&
		  !strncasecmp(t + tl - 5, "+json", 5)))
		*ct = CT_JSON;
	if (*ct != CT_MULTIPART)
		return true;

	int nb = 0;
	*bnd = NULL;
	*blen = 0;
	for (;;) {
		while (i < n && is_ows(v[i]))
			i++;
		if (i == n)
			break;
		if (v[i] != ';')
			return excerpt(why, "a malformed multipart Content-Type", where, v, n, i, n);
		i++;
		while (i < n && is_ows(v[i]))
			i++;
		size_t ns = i;
		while (i < n && v[i] != '=' && v[i] != ';' && !is_ows(v[i]))
			i++;
		bool boundary = i - ns == 8 && !strncasecmp(v + ns, "boundary", 8);
		while (i < n && is_ows(v[i]))
			i++;
		if (i == n || v[i] != '=') {
			if (boundary)
				return excerpt(why, "a multipart boundary without a value", where,
					       v, n, ns, i);
			continue;
		}
		i++;
		while (i < n && is_ows(v[i]))
			i++;
		size_t vs = i, vl;
		bool quoted = i < n && v[i] == '"', bad = false;
		if (quoted) {
			vs = ++i;
			while (i < n && v[i] != '"')
				bad |= v[i++] == '\\';
			if (i == n)
				return excerpt(why, "an unterminated quoted parameter", where, v, n,
					       vs - 1, n);
			vl = i++ - vs;
		} else {
			while (i < n && v[i] != ';' && !is_ows(v[i]))
				i++;
			vl = i - vs;
		}
		if (!boundary)
			continue;
		if (++nb > 1)
			return excerpt(why, "a duplicated multipart boundary", where, v, n, ns, i);
		if (!vl)
			return excerpt(why, "an empty multipart boundary", where, v, n, ns, i);
		bad |= vl > 70 || v[vs + vl - 1] == ' ';
		for (size_t k = 0; k < vl && !bad; k++)
			bad = !is_bchar(v[vs + k], quoted);
		if (bad)
			return excerpt(why, "an invalid multipart boundary", where, v, n, ns, i);
		*bnd = v + vs;
		*blen = vl;
	}
	if (!nb)
		return ambiguous(why, "multipart without a boundary", where, v, n);
	return true;
}

/* ---- multipart ---- */

static const char *memmem_(const char *h, size_t hn, const char *nd, size_t nn)
{
	return nn <= hn ? memmem(h, hn, nd, nn) : NULL;
}

/* A part's Content-Disposition value: name, filename, filename* once
 * each, and not filename* with filename. */
static bool check_disposition(const char *v, size_t n, struct waf_strict_why *why)
{
	static const char where[] = "a multipart part's Content-Disposition";
	int name = 0, fname = 0, fstar = 0;
	size_t i = 0;

	while (i < n && v[i] != ';')
		i++;
	while (i < n) {
		i++;   /* ';' */
		while (i < n && is_ows(v[i]))
			i++;
		size_t ns = i;
		while (i < n && v[i] != '=' && v[i] != ';' && !is_ows(v[i]))
			i++;
		size_t nl = i - ns;
		const char *pn = v + ns;
		int *cnt = NULL;
		if (nl == 4 && !strncasecmp(pn, "name", 4))
			cnt = &name;
		else if (nl == 8 && !strncasecmp(pn, "filename", 8))
			cnt = &fname;
		else if (nl == 9 && !strncasecmp(pn, "filename*", 9))
			cnt = &fstar;
		if (cnt && ++*cnt > 1)
			return ambiguous(why, "a parameter given twice", where, pn, nl);
		if (fname && fstar)
			return ambiguous(why, "filename* alongside filename", where, pn, nl);
		/* skip the value: a quoted string (with its escapes) or a token */
		while (i < n && is_ows(v[i]))
			i++;
		if (i < n && v[i] == '=') {
			i++;
			while (i < n && is_ows(v[i]))
				i++;
			if (i < n && v[i] == '"') {
				for (i++; i < n && v[i] != '"'; i++)
					if (v[i] == '\\')
						i++;
				i++;
			}
		}
		while (i < n && v[i] != ';')
			i++;
	}
	return true;
}

static bool check_multipart(const char *b, size_t n, const char *bnd, size_t blen,
			    struct waf_strict_why *why)
{
	static const char where[] = "the multipart body";
	char delim[2 + 70 + 1];
	size_t dl = 2 + blen, i = 0;

	delim[0] = delim[1] = '-';
	memcpy(delim + 2, bnd, blen);
	while (i < n && (is_ows(b[i]) || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i == n)
		return true;
	if (n - i < dl ? memcmp(b + i, delim, n - i) != 0 : memcmp(b + i, delim, dl) != 0)
		return excerpt(why, "data before the first boundary", where, b, n, i, i + 16);
	for (;;) {
		size_t bl = i;   /* the boundary line */
		i += dl;
		if (i >= n)
			return true;
		if (b[i] == '-' && i + 1 < n && b[i + 1] == '-')
			return true;   /* the close delimiter: the epilogue is not read */
		while (i < n && is_ows(b[i]))
			i++;
		if (i < n && b[i] == '\r')
			i++;
		if (i == n)
			return true;
		if (b[i] != '\n')
			return excerpt(why, "garbage after a boundary", where, b, n, bl, i + 8);
		i++;
		/* the part's header fields, to an empty line */
		int cd = 0;
		for (;;) {
			const char *nl = memchr(b + i, '\n', n - i);
			if (!nl)
				return true;   /* cut at body_limit */
			size_t e = (size_t)(nl - b), le = e;
			if (le > i && b[le - 1] == '\r')
				le--;
			if (le == i) {
				i = e + 1;
				break;
			}
			const char *colon = memchr(b + i, ':', le - i);
			if (colon) {
				size_t nlen = (size_t)(colon - (b + i));
				while (nlen && is_ows(b[i + nlen - 1]))
					nlen--;
				if (nlen == 19 && !strncasecmp(b + i, "content-disposition", 19)) {
					if (++cd > 1)
						return excerpt(why, "a duplicated Content-Disposition",
							       where, b, n, i, le);
					size_t vs = (size_t)(colon - b) + 1;
					if (!check_disposition(b + vs, le - vs, why))
						return false;
				}
			}
			i = e + 1;
		}
		/* the part's data, to the next delimiter */
		char nd[1 + sizeof(delim)];
		nd[0] = '\n';
		memcpy(nd + 1, delim, dl);
		const char *next = memmem_(b + i, n - i, nd, dl + 1);
		if (!next)
			return true;
		i = (size_t)(next - b) + 1;
	}
}

/* ---- JSON ---- */

/* A string's content from b[*i] (after the opening quote), unescaped into
 * s; false when it is not valid JSON (ModSecurity refuses those). */
static bool json_string(const char *b, size_t n, size_t *i, struct names *s, bool keep)
{
	char tmp[512];
	size_t len = 0;
	size_t k = *i;
	bool added = false;

#define PUT(c) do { \
	if (len == sizeof(tmp)) { \
		if (keep && !(added ? names_add_more(s, tmp, len) : names_add(s, tmp, len))) \
			return false; \
		added = true; \
		len = 0; \
	} \
	tmp[len++] = (char)(c); \
} while (0)

	while (k < n && b[k] != '"') {
		unsigned char c = (unsigned char)b[k++];
		if (c != '\\') {
			PUT(c);
			continue;
		}
		if (k >= n)
			return false;
		c = (unsigned char)b[k++];
		switch (c) {
		case '"': case '\\': case '/': PUT(c); break;
		case 'b': PUT('\b'); break;
		case 'f': PUT('\f'); break;
		case 'n': PUT('\n'); break;
		case 'r': PUT('\r'); break;
		case 't': PUT('\t'); break;
		case 'u': {
			uint32_t cp = 0;
			for (int h = 0; h < 4; h++) {
				int x = k < n ? hex_digit(b[k++]) : -1;
				if (x < 0)
					return false;
				cp = cp << 4 | (uint32_t)x;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && k + 5 < n && b[k] == '\\' &&
			    b[k + 1] == 'u') {
				uint32_t lo = 0;
				bool ok = true;
				for (int h = 0; h < 4; h++) {
					int x = hex_digit(b[k + 2 + h]);
					ok &= x >= 0;
					lo = lo << 4 | (uint32_t)(x & 0xf);
				}
				if (ok && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					k += 6;
				}
			}
			if (cp < 0x80) {
				PUT(cp);
			} else if (cp < 0x800) {
				PUT(0xc0 | cp >> 6); PUT(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				PUT(0xe0 | cp >> 12); PUT(0x80 | (cp >> 6 & 0x3f));
				PUT(0x80 | (cp & 0x3f));
			} else {
				PUT(0xf0 | cp >> 18); PUT(0x80 | (cp >> 12 & 0x3f));
				PUT(0x80 | (cp >> 6 & 0x3f)); PUT(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return false;
		}
	}
#undef PUT
	if (k >= n)
		return false;
	*i = k + 1;
	if (keep && !(added ? names_add_more(s, tmp, len) : names_add(s, tmp, len)))
		return false;
	return true;
}

/*
 * Duplicate keys in any object of a JSON text.  Keys of the open objects
 * are a stack in s; an object's are sorted and compared when it closes (or
 * when the text ends: a body cut at body_limit).  Anything that is not
 * JSON ends the scan quietly: ModSecurity's parser refuses it.
 */
#define JSON_DEPTH 512

static bool check_json(const char *b, size_t n, bool partial, struct names *s,
		       struct waf_strict_why *why)
{
	static const char where[] = "the JSON body";
	struct { size_t first, alen; bool obj; } st[JSON_DEPTH];
	int depth = 0;
	bool expect_key = false;
	size_t i = 0;

	while (i < n) {
		char c = b[i++];
		switch (c) {
		case '{':
		case '[':
			if (depth == JSON_DEPTH)
				return true;
			st[depth].first = s->n;
			st[depth].alen = s->len;
			st[depth++].obj = c == '{';
			expect_key = c == '{';
			break;
		case '}':
		case ']':
			if (!depth || st[depth - 1].obj != (c == '}'))
				return true;
			depth--;
			if (st[depth].obj) {
				long d = names_dup(s, st[depth].first);
				if (d >= 0)
					return ambiguous(why, "a duplicate key", where,
							 s->buf + s->v[d].off, s->v[d].len);
				s->len = st[depth].alen;
				s->n = st[depth].first;
			}
			expect_key = false;
			break;
		case ',':
			expect_key = depth && st[depth - 1].obj;
			break;
		case ':':
			expect_key = false;
			break;
		case '"': {
			bool key = expect_key && depth && st[depth - 1].obj;
			if (!json_string(b, n, &i, s, key))
				return true;   /* invalid or cut (s->oom says which) */
			expect_key = false;
			break;
		}
		default:
			break;
		}
	}
	if (!partial)
		return true;   /* unterminated: not JSON */
	for (; depth > 0; depth--) {   /* cut at body_limit: what was seen */
		if (!st[depth - 1].obj)
			continue;
		long d = names_dup(s, st[depth - 1].first);
		if (d >= 0)
			return ambiguous(why, "a duplicate key", where, s->buf + s->v[d].off,
					 s->v[d].len);
		s->n = st[depth - 1].first;
	}
	return true;
}

/* ---- the request ---- */

/* Whether name k of s is among its first nq (sorted). */
static bool name_in(const struct names *s, size_t nq, size_t k)
{
	size_t lo = 0, hi = nq;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(&s->v[mid], &s->v[k], s->buf);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

enum waf_strict_res waf_strict_check(const struct waf_strict_req *r, struct waf_strict_why *why)
{
	const char *t = r->target;
	size_t n = r->target_len;
	const char *q = t ? memchr(t, '?', n) : NULL;
	size_t pl = q ? (size_t)(q - t) : n, ps = 0;

	/* absolute-form: the path starts after the authority */
	const char *sch = pl >= 3 ? memmem(t, pl, "://", 3) : NULL;
	if (sch && t[0] != '/') {
		const char *slash = memchr(sch + 3, '/', (size_t)(t + pl - (sch + 3)));
		ps = slash ? (size_t)(slash - t) : pl;
	}
	if (!scan_field(t + ps, pl - ps, F_PATH, "the path", r->encoded_slash, why))
		return WAF_STRICT_AMBIGUOUS;
	const char *qs = q ? q + 1 : NULL;
	size_t ql = q ? n - pl - 1 : 0;
	if (qs && !scan_field(qs, ql, F_QUERY, "the query", false, why))
		return WAF_STRICT_AMBIGUOUS;

	if (r->nctype > 1) {
		ambiguous(why, "more than one Content-Type field", "the header fields",
			  r->ctype[1], r->ctype_len[1]);
		return WAF_STRICT_AMBIGUOUS;
	}
	enum ctype ct = CT_OTHER;
	const char *bnd = NULL;
	size_t blen = 0;
	if (r->nctype && !parse_ctype(r->ctype[0], r->ctype_len[0], &ct, &bnd, &blen, why))
		return WAF_STRICT_AMBIGUOUS;
	const char *b = r->body;
	size_t bl = b ? r->body_len : 0;
	if (!bl)
		return WAF_STRICT_OK;

	struct names s = { 0 };
	enum waf_strict_res res = WAF_STRICT_OK;
	switch (ct) {
	case CT_FORM: {
		if (r->partial) {   /* the last parameter may be cut anywhere */
			while (bl && b[bl - 1] != '&')
				bl--;
		}
		if (!scan_field(b, bl, F_FORM, "the body", false, why)) {
			res = WAF_STRICT_AMBIGUOUS;
			break;
		}
		if (!qs || !ql)
			break;
		if (!param_names(qs, ql, &s))
			break;
		size_t nq = s.n;
		if (!nq)
			break;
		qsort_r(s.v, nq, sizeof(s.v[0]), name_cmp, s.buf);
		if (!param_names(b, bl, &s))
			break;
		for (size_t k = nq; k < s.n; k++) {
			if (name_in(&s, nq, k)) {
				ambiguous(why, "a parameter in both the query and the body",
					  "the query and the body", s.buf + s.v[k].off, s.v[k].len);
				res = WAF_STRICT_AMBIGUOUS;
				break;
			}
		}
		break;
	}
	case CT_MULTIPART:
		if (!check_multipart(b, bl, bnd, blen, why))
			res = WAF_STRICT_AMBIGUOUS;
		break;
	case CT_JSON:
		if (!check_json(b, bl, r->partial, &s, why))
			res = WAF_STRICT_AMBIGUOUS;
		break;
	default:
		break;
	}
	if (s.oom && res == WAF_STRICT_OK)
		res = WAF_STRICT_NOMEM;
	names_free(&s);
	return res;
}
