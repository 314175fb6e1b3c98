/*
 * json.c - the admin API's strict JSON reader and its writer (json.h says
 * what is accepted and why).
 *
 * The reader is a recursive descent over the bytes, depth-bounded, that
 * fills a pre-sized node array in document order: an object's members
 * follow it, chained by `next`.  Nothing is allocated during the parse, so
 * an error never leaves half a tree to free.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hex.h"
#include "admin/json.h"

struct jp {
	const char *p, *start, *end;
	struct json_doc *doc;
	int cap;                 /* nodes allocated */
	size_t strs_len;
	char *err;
	size_t errlen;
	bool failed;
};

static int jp_fail(struct jp *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int jp_fail(struct jp *j, const char *fmt, ...)
{
	if (j->failed)
		return -1;
	j->failed = true;
	if (j->errlen) {
		char msg[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(j->err, j->errlen, "%s at byte %zu", msg, (size_t)(j->p - j->start));
	}
	return -1;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int new_node(struct jp *j)
{
	if (j->doc->nnodes >= j->cap || j->doc->nnodes >= JSON_MAX_NODES)
		return jp_fail(j, "too many values (at most %d)", JSON_MAX_NODES);
	int i = j->doc->nnodes++;
	memset(&j->doc->nodes[i], 0, sizeof(j->doc->nodes[i]));
	j->doc->nodes[i].next = -1;
	j->doc->nodes[i].first = -1;
	return i;
}

/* Four hex digits at p (room checked by the caller), or -1. */
static long hex4(const char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_digit(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Length of the well-formed UTF-8 sequence at p (p < end, *p >= 0x80), or
 * 0: overlong forms, surrogates and code points past U+10FFFF are not
 * UTF-8 (RFC 3629).
 */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	unsigned long cp, min;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; cp = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; cp = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* A string at j->p (on its opening quote): decoded into the strings block.
 * *out and *olen are its decoded bytes (NUL-terminated). */
static int parse_string(struct jp *j, const char **out, size_t *olen)
{
	char *o = j->doc->strs + j->strs_len, *o0 = o;

	j->p++;   /* the quote */
	for (;;) {
		if (j->p >= j->end)
			return jp_fail(j, "unterminated string");
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20)
			return jp_fail(j, "control character in a string (escape it)");
		if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)j->p,
					    (const unsigned char *)j->end);
			if (!n)
				return jp_fail(j, "invalid UTF-8 in a string");
			memcpy(o, j->p, n);
			o += n;
			j->p += n;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			j->p++;
			continue;
		}
		if (j->end - j->p < 2)
			return jp_fail(j, "unterminated string");
		char e = j->p[1];
		j->p += 2;
		switch (e) {
		case '"': *o++ = '"'; continue;
		case '\\': *o++ = '\\'; continue;
		case '/': *o++ = '/'; continue;
		case 'b': *o++ = '\b'; continue;
		case 'f': *o++ = '\f'; continue;
		case 'n': *o++ = '\n'; continue;
		case 'r': *o++ = '\r'; continue;
		case 't': *o++ = '\t'; continue;
		case 'u': break;
		default:
			j->p -= 2;
			return jp_fail(j, "invalid escape in a string");
		}
		long cp = j->end - j->p >= 4 ? hex4(j->p) : -1;
		if (cp < 0) {
			j->p -= 2;
			return jp_fail(j, "invalid \\u escape");
		}
		j->p += 4;
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			j->p -= 6;
			return jp_fail(j, "lone low surrogate");
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') ?
					  hex4(j->p + 2) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF) {
				j->p -= 6;
				return jp_fail(j, "lone high surrogate");
			}
			j->p += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0) {
			j->p -= 6;
			return jp_fail(j, "\\u0000 is not accepted in a string");
		}
		o += put_utf8(o, (unsigned long)cp);
	}
	*o = '\0';
	*out = o0;
	*olen = (size_t)(o - o0);
	j->strs_len += *olen + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct jp *j, struct json_val *v)
{
	const char *s = j->p, *p = s;
	bool integer = true;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || !is_digit(*p))
		return jp_fail(j, "invalid number");
	if (*p == '0') {
		p++;
		if (p < j->end && is_digit(*p))
			return jp_fail(j, "invalid number (leading zero)");
	} else {
		while (p < j->end && is_digit(*p))
			p++;
	}
	if (p < j->end && *p == '.') {
		integer = false;
		p++;
		if (p >= j->end || !is_digit(*p))
			return jp_fail(j, "invalid number (digits expected after '.')");
		while (p < j->end && is_digit(*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		integer = false;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !is_digit(*p))
			return jp_fail(j, "invalid number (digits expected in the exponent)");
		while (p < j->end && is_digit(*p))
			p++;
	}
	/* strtod/strtoll need a terminated copy: the input may not be. */
	char tmp[64];
	size_t n = (size_t)(p - s);
	if (n >= sizeof(tmp))
		return jp_fail(j, "number too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v->type = JSON_NUM;
	v->d = strtod(tmp, NULL);
	if (!isfinite(v->d))
		return jp_fail(j, "number out of range");
	if (integer) {
		/* Exact when it fits: 19 digits always do, 20 may not. */
		const char *q = tmp + (tmp[0] == '-');
		size_t nd = strlen(q);
		if (nd < 19 || (nd == 19 && strcmp(q, "9223372036854775807") <= 0)) {
			v->is_int = true;
			v->i = strtoll(tmp, NULL, 10);
		} else if (nd == 19 && tmp[0] == '-' && strcmp(q, "9223372036854775808") == 0) {
			v->is_int = true;
			v->i = INT64_MIN;
		}
	}
	j->p = p;
	return 0;
}

static bool match_word(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static int parse_object(struct jp *j, int idx, int depth);

/* A value at j->p into node idx (its key already set). */
static int parse_value(struct jp *j, int idx, int depth)
{
	struct json_val *v = &j->doc->nodes[idx];

	if (j->p >= j->end)
		return jp_fail(j, "value expected");
	switch (*j->p) {
	case '{':
		return parse_object(j, idx, depth + 1);
	case '[':
		return jp_fail(j, "arrays are not accepted");
	case '"':
		v->type = JSON_STR;
		return parse_string(j, &v->s, &v->len);
	case 't':
		if (!match_word(j, "true"))
			break;
		v->type = JSON_BOOL;
		v->b = true;
		return 0;
	case 'f':
		if (!match_word(j, "false"))
			break;
		v->type = JSON_BOOL;
		return 0;
	case 'n':
		if (!match_word(j, "null"))
			break;
		v->type = JSON_NULL;
		return 0;
	default:
		if (*j->p == '-' || is_digit(*j->p))
			return parse_number(j, v);
		break;
	}
	return jp_fail(j, "unexpected character '%c'",
		       (unsigned char)*j->p >= 0x20 && (unsigned char)*j->p < 0x7f ? *j->p : '?');
}

static bool key_seen(const struct json_doc *d, int obj, const char *k, size_t klen)
{
	for (int m = d->nodes[obj].first; m >= 0; m = d->nodes[m].next)
		if (d->nodes[m].key_len == klen && memcmp(d->nodes[m].key, k, klen) == 0)
			return true;
	return false;
}

static int parse_object(struct jp *j, int idx, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return jp_fail(j, "objects nested deeper than %d", JSON_MAX_DEPTH);
	j->doc->nodes[idx].type = JSON_OBJ;
	j->p++;   /* { */
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	int last = -1;
	for (;;) {
		skip_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return jp_fail(j, "member name (a string) expected");
		const char *k;
		size_t klen;
		const char *kat = j->p;
		if (parse_string(j, &k, &klen) < 0)
			return -1;
		if (key_seen(j->doc, idx, k, klen)) {
			j->p = kat;
			return jp_fail(j, "duplicate key \"%.40s\"", k);
		}
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return jp_fail(j, "':' expected");
		j->p++;
		skip_ws(j);
		int m = new_node(j);
		if (m < 0)
			return -1;
		j->doc->nodes[m].key = k;
		j->doc->nodes[m].key_len = klen;
		/* Linked before the value is parsed, so a nested object's own
		 * nodes come after this one and `next` skips over them. */
		if (last < 0)
			j->doc->nodes[idx].first = m;
		else
			j->doc->nodes[last].next = m;
		j->doc->nodes[idx].nmembers++;
		last = m;
		if (parse_value(j, m, depth) < 0)
			return -1;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		return jp_fail(j, "',' or '}' expected");
	}
}

int json_parse(struct json_doc *doc, const char *buf, size_t len, char *err, size_t errlen)
{
	struct jp j = { .p = buf, .start = buf, .end = buf + len, .doc = doc, .err = err,
			.errlen = errlen };

	memset(doc, 0, sizeof(*doc));
	if (errlen)
		err[0] = '\0';
	/* Every value takes at least one byte and every member two more (its
	 * key's quotes): len / 2 + 1 nodes is always enough.  Decoded strings
	 * never outgrow their source, quotes included, so len + 1 bytes hold
	 * them all with their NULs. */
	size_t cap = len / 2 + 2;
	j.cap = cap > JSON_MAX_NODES + 1 ? JSON_MAX_NODES + 1 : (int)cap;
	doc->nodes = malloc((size_t)j.cap * sizeof(*doc->nodes));
	doc->strs = malloc(len + 1);
	if (!doc->nodes || !doc->strs) {
		json_free(doc);
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	skip_ws(&j);
	if (j.p >= j.end)
		jp_fail(&j, "empty body: a JSON object expected");
	else if (*j.p != '{')
		jp_fail(&j, "a JSON object expected");
	else if (new_node(&j) == 0 && parse_object(&j, 0, 1) == 0) {
		skip_ws(&j);
		if (j.p != j.end)
			jp_fail(&j, "trailing data after the object");
	}
	if (j.failed) {
		json_free(doc);
		return -1;
	}
	return 0;
}

void json_free(struct json_doc *doc)
{
	free(doc->nodes);
	free(doc->strs);
	memset(doc, 0, sizeof(*doc));
}

const struct json_val *json_root(const struct json_doc *doc)
{
	return doc->nnodes ? &doc->nodes[0] : NULL;
}

const struct json_val *json_first(const struct json_doc *doc, const struct json_val *o)
{
	return o && o->type == JSON_OBJ && o->first >= 0 ? &doc->nodes[o->first] : NULL;
}

const struct json_val *json_next(const struct json_doc *doc, const struct json_val *m)
{
	return m->next >= 0 ? &doc->nodes[m->next] : NULL;
}

const struct json_val *json_get(const struct json_doc *doc, const struct json_val *o,
				const char *key)
{
	size_t klen = strlen(key);
	for (const struct json_val *m = json_first(doc, o); m; m = json_next(doc, m))
		if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
			return m;
	return NULL;
}

/* ---- writer ---- */

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		while (cap < w->len + n + 1)
			cap *= 2;
		char *b = realloc(w->buf, cap);
		if (!b) {
			free(w->buf);
			w->buf = NULL;
			w->len = w->cap = 0;
			w->oom = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Before any value or key: the comma that separates it from the previous
 * one at this depth. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	uint64_t bit = 1ull << (w->depth & 63);
	if (w->need_comma & bit)
		jw_put(w, ",", 1);
	w->need_comma |= bit;
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	jw_put(w, &c, 1);
	w->depth++;
	w->need_comma &= ~(1ull << (w->depth & 63));
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	jw_put(w, &c, 1);
}

void jw_obj(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

static void jw_escaped(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	jw_put(w, "\"", 1);
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\' &&
		       *p != '<' && *p != '>' && *p != '&')
			p++;
		jw_put(w, (const char *)run, (size_t)(p - run));
		if (p >= end)
			break;
		unsigned char c = *p;
		if (c >= 0x80) {
			size_t l = utf8_len(p, end);
			if (l) {
				jw_put(w, (const char *)p, l);
				p += l;
			} else {
				jw_put(w, "\xEF\xBF\xBD", 3);   /* U+FFFD */
				p++;
			}
			continue;
		}
		p++;
		switch (c) {
		case '"': jw_put(w, "\\\"", 2); continue;
		case '\\': jw_put(w, "\\\\", 2); continue;
		case '\n': jw_put(w, "\\n", 2); continue;
		case '\r': jw_put(w, "\\r", 2); continue;
		case '\t': jw_put(w, "\\t", 2); continue;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jw_put(w, u, 6);
		}
		}
	}
	jw_put(w, "\"", 1);
}

void jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	jw_escaped(w, k, strlen(k));
	jw_put(w, ":", 1);
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_escaped(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void jw_int(struct jw *w, int64_t v)
{
	char b[24];
	jw_sep(w);
	jw_put(w, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v));
}

void jw_uint(struct jw *w, uint64_t v)
{
	char b[24];
	jw_sep(w);
	jw_put(w, b, (size_t)snprintf(b, sizeof(b), "%llu", (unsigned long long)v));
}

void jw_num(struct jw *w, double v)
{
	char b[32];
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	jw_sep(w);
	/* %.17g round-trips; %g never writes "1." or a leading '+'. */
	int n = snprintf(b, sizeof(b), "%.6g", v);
	if (strtod(b, NULL) != v)
		n = snprintf(b, sizeof(b), "%.17g", v);
	/* A double stays one when read back ("100.0", not the integer 100). */
	if (!strpbrk(b, ".e"))
		n += snprintf(b + n, sizeof(b) - (size_t)n, ".0");
	jw_put(w, b, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	jw_put(w, "null", 4);
}

void jw_kstr(struct jw *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
void jw_kint(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kuint(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_uint(w, v); }
void jw_knum(struct jw *w, const char *k, double v) { jw_key(w, k); jw_num(w, v); }
void jw_kbool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }

char *jw_finish(struct jw *w, size_t *len)
{
	if (!w->oom && !w->buf)
		jw_put(w, "", 0);   /* nothing written: still a string to hand over */
	char *b = w->oom ? NULL : w->buf;
	if (len)
		*len = b ? w->len : 0;
	memset(w, 0, sizeof(*w));
	return b;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}
