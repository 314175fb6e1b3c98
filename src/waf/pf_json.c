/*
 * pf_json.c - the pre-filter's JSON body parser: the ARGS libmodsecurity's
 * JSON body processor (yajl, as 3.0.9 drives it) makes of a body, names
 * and values, through the scan's field sink (pf_multipart.h).  A body it
 * does not parse exactly as yajl would is "not parsed", and the request
 * goes to ModSecurity.  Moved out of pf_scan.c as it was.
 */
#include "waf/pf_int.h"
#include "waf/pf_multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define BIT(c) (1u << (c))

struct jcont {
	size_t name, nlen;	/* arena */
	bool array;
	unsigned long counter;
};

struct json {
	struct waf_pf_scratch *sc;
	const uint8_t *p, *end;
	struct jcont st[64];
	size_t depth;
	size_t key, klen;	/* m_current_key (arena), klen 0: empty */
	bool key_set;
	size_t *combined, *nargs;
};

/* getCurrentKey(): returns name (arena offset/len) */
static void cur_key(struct json *j, size_t *off, size_t *len)
{
	if (j->depth == 0) {
		*off = pf_sc_put(j->sc, "json", 4);
		*len = 4;
		return;
	}
	if (!j->key_set || j->klen == 0) {
		if (j->st[j->depth - 1].array) {
			*off = 0;
			*len = 0;
		} else {
			*off = pf_sc_put(j->sc, "empty-key", 9);
			*len = 9;
		}
		return;
	}
	*off = j->key;
	*len = j->klen;
	j->key_set = false;
	j->klen = 0;
}

static void j_arg(struct json *j, size_t voff, size_t vlen)
{
	struct waf_pf_scratch *sc = j->sc;
	size_t start = pf_sc_len(sc);
	char num[32];

	for (size_t i = 0; i < j->depth; i++) {
		if (!pf_sc_copy(sc, j->st[i].name, j->st[i].nlen))
			return;
		if (j->st[i].array) {
			memcpy(num, ".array_", 7);
			size_t n = 7 + pf_put_dec(num + 7, j->st[i].counter);
			pf_sc_put(sc, num, n);
		} else {
			pf_sc_put(sc, ".", 1);
		}
	}
	if (j->depth > 0 && j->st[j->depth - 1].array) {
		j->st[j->depth - 1].counter++;
	} else {
		size_t ko, kl;
		cur_key(j, &ko, &kl);
		if (!pf_sc_copy(sc, ko, kl))
			return;
	}
	size_t nlen = pf_sc_len(sc) - start;
	pf_sc_add_field(sc, BIT(PF_C_ARGS_JSON), start, nlen, voff, vlen);
	pf_sc_add_field(sc, BIT(PF_C_ARGS_JSON_NAMES), start, nlen, start, nlen);
	*j->combined += nlen + vlen;
	(*j->nargs)++;
}

static void j_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static void utf8_put(struct waf_pf_scratch *sc, unsigned long c)
{
	uint8_t b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (uint8_t)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (uint8_t)(0xc0 | c >> 6);
		b[1] = (uint8_t)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (uint8_t)(0xe0 | c >> 12);
		b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | c >> 18);
		b[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (c & 0x3f));
		n = 4;
	}
	pf_sc_put(sc, b, n);
}

static bool hex4(const uint8_t *p, unsigned long *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		if (!isxdigit(p[i]))
			return false;
		char h[2] = { (char)p[i], 0 };
		*v = *v << 4 | (unsigned long)strtol(h, NULL, 16);
	}
	return true;
}

/* yajl_lex_utf8_char(): the UTF-8 check yajl makes on raw bytes >= 0x80
 * in a string (ModSecurity leaves yajl_dont_validate_strings off): a lead
 * byte 110xxxxx, 1110xxxx or 11110xxx followed by that many 10xxxxxx
 * bytes; nothing more (overlong forms and surrogates pass).  The length of
 * the sequence at p, 0 when yajl would refuse it. */
static size_t yajl_utf8_len(const uint8_t *p, const uint8_t *end)
{
	size_t n;

	if (p[0] >> 5 == 0x6)
		n = 2;
	else if (p[0] >> 4 == 0xe)
		n = 3;
	else if (p[0] >> 3 == 0x1e)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (p[i] >> 6 != 0x2)
			return 0;
	return n;
}

/* A string token, decoded into the arena.  ASCII, UTF-8 sequences yajl
 * accepts (copied as they are, as yajl hands them on) and well-formed
 * escapes are accepted: anything else (bytes yajl refuses, lone
 * surrogates) is "not parsed" and the caller answers "might match". */
static bool j_string(struct json *j, size_t *off, size_t *len)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	*off = pf_sc_len(j->sc);
	while (j->p < j->end && *j->p != '"') {
		uint8_t c = *j->p;
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			size_t n = yajl_utf8_len(j->p, j->end);
			if (!n)
				return false;
			pf_sc_put(j->sc, j->p, n);
			j->p += n;
			continue;
		}
		if (c != '\\') {
			/* a run of plain ASCII bytes, copied at once */
			const uint8_t *b = j->p;
			while (j->p < j->end && *j->p >= 0x20 && *j->p < 0x80 && *j->p != '"' &&
			       *j->p != '\\')
				j->p++;
			pf_sc_put(j->sc, b, (size_t)(j->p - b));
			continue;
		}
		if (j->end - j->p < 2)
			return false;
		uint8_t e = j->p[1];
		j->p += 2;
		const char *map = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", e);
		if (e && map && ((map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2) == 0) {
			pf_sc_put(j->sc, map + 1, 1);
			continue;
		}
		if (e != 'u' || j->end - j->p < 4)
			return false;
		unsigned long u, lo;
		if (!hex4(j->p, &u))
			return false;
		j->p += 4;
		if (u >= 0xd800 && u < 0xdc00) {
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    !hex4(j->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return false;
			j->p += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return false;
		}
		if (u == 0)
			return false;	/* yajl and std::string agree, but keep it simple */
		utf8_put(j->sc, u);
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	*len = pf_sc_len(j->sc) - *off;
	return !pf_sc_oom(j->sc);
}

static bool j_value(struct json *j);

static bool j_container(struct json *j, bool array)
{
	size_t no, nl;

	if (j->depth == sizeof(j->st) / sizeof(j->st[0]))
		return false;
	cur_key(j, &no, &nl);
	j->st[j->depth++] = (struct jcont){ no, nl, array, 0 };
	j->p++;
	j_ws(j);
	if (j->p < j->end && *j->p == (array ? ']' : '}')) {
		j->p++;
	} else {
		for (;;) {
			if (!array) {
				size_t ko, kl;
				j_ws(j);
				if (!j_string(j, &ko, &kl))
					return false;
				j->key = ko;
				j->klen = kl;
				j->key_set = true;
				j_ws(j);
				if (j->p >= j->end || *j->p != ':')
					return false;
				j->p++;
			}
			if (!j_value(j))
				return false;
			j_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == (array ? ']' : '}')) {
				j->p++;
				break;
			}
			return false;
		}
	}
	j->depth--;
	if (j->depth > 0 && j->st[j->depth - 1].array)
		j->st[j->depth - 1].counter++;
	return true;
}

static bool j_value(struct json *j)
{
	j_ws(j);
	if (j->p >= j->end)
		return false;
	uint8_t c = *j->p;
	if (c == '{' || c == '[')
		return j_container(j, c == '[');
	if (c == '"') {
		size_t o, l;
		if (!j_string(j, &o, &l))
			return false;
		j_arg(j, o, l);
		return true;
	}
	static const char *const lits[] = { "true", "false", "null" };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);
		if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lits[i], n)) {
			j->p += n;
			if (j->p < j->end && isalnum(*j->p))
				return false;
			size_t o = pf_sc_put(j->sc, i == 2 ? "" : lits[i], i == 2 ? 0 : n);
			j_arg(j, o, i == 2 ? 0 : n);
			return true;
		}
	}
	/* number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	const uint8_t *b = j->p, *p = j->p;
	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || !isdigit(*p))
		return false;
	if (*p == '0')
		p++;
	else
		while (p < j->end && isdigit(*p))
			p++;
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || !isdigit(*p))
			return false;
		while (p < j->end && isdigit(*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !isdigit(*p))
			return false;
		while (p < j->end && isdigit(*p))
			p++;
	}
	if (p < j->end && (isalnum(*p) || *p == '.'))
		return false;
	j->p = p;
	size_t o = pf_sc_put(j->sc, b, (size_t)(p - b));
	j_arg(j, o, (size_t)(p - b));
	return true;
}

bool pf_json_parse(struct waf_pf_scratch *sc, const uint8_t *s, size_t len, size_t *combined,
		   size_t *nargs)
{
	struct json j = { .sc = sc, .p = s, .end = s + len, .combined = combined, .nargs = nargs };

	if (!j_value(&j))
		return false;
	j_ws(&j);
	return j.p == j.end && !pf_sc_oom(sc);
}
