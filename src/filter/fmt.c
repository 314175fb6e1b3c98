/*
 * fmt.c - value formats (see fmt.h): "literal%[fetch]literal" parsed at
 * load, rendered per request by the rule runner (rules.c).
 *
 * A format is a list of parts, each a literal slice or a fetch.  The
 * literal bytes live in one block owned by the format; a format with no
 * fetch is a single literal that fmt_literal() hands out as is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/fmt.h"

struct fmt_part {
	struct slice lit;      /* when fetch is NULL */
	struct fetch *fetch;
};

struct fmt {
	enum fmt_class cls;
	struct fmt_part *parts;
	int nparts;
	char *text;            /* the literal bytes, '%%' already folded */
	bool literal;          /* no fetch: parts[0] (if any) is the whole value */
	bool clean;            /* one fetch alone, whose values need no safety scan
				  (fmt_fetch_clean) */
	bool lasting;          /* one fetch alone, whose values are static strings */
};

static const char *fmt_class_name(enum fmt_class c)
{
	switch (c) {
	case FMT_FIELD:
		return "a header value";
	case FMT_PATH:
		return "a path";
	case FMT_QUERY:
		return "a query string";
	default:
		return "a URI";
	}
}

/* Bytes a literal may not hold, for each class (see fmt.h). */
static bool fmt_lit_bad(enum fmt_class cls, unsigned char c)
{
	if (c == 0x7f || (c < 0x20 && !(c == '\t' && cls == FMT_FIELD)))
		return true;
	if (cls == FMT_FIELD)
		return false;
	if (c == ' ' || c >= 0x80)
		return true;
	return (cls == FMT_PATH && (c == '?' || c == '#')) || (cls == FMT_QUERY && c == '#');
}

static const char *fmt_lit_expected(enum fmt_class cls)
{
	switch (cls) {
	case FMT_FIELD:
		return "visible characters, spaces or tabs (no CR, LF or other control character)";
	case FMT_PATH:
		return "visible ASCII without '?' or '#' (percent-encode others; set_query "
		       "sets the query)";
	case FMT_QUERY:
		return "visible ASCII without '#' (percent-encode others)";
	default:
		return "visible ASCII (percent-encode others)";
	}
}

static void fmt_fail(char *err, size_t errlen, int *err_col, int col, const char *fmt_s,
		     const char *a, const char *b)
{
	snprintf(err, errlen, fmt_s, a, b);
	*err_col = col;
}

/* Parses the fetch of "%[...]" at s (just past "%["); returns its length
 * up to the ']' or -1 after filling err. */
static int fmt_add_fetch(struct fmt *f, const struct cfg_tok *tok, const char *s, int col,
			 char *err, size_t errlen, int *err_col)
{
	const char *end = strchr(s, ']');
	if (!end) {
		fmt_fail(err, errlen, err_col, col - 2,
			 "unterminated '%%[' in %s; expected '%%[FETCH]'%s", fmt_class_name(f->cls),
			 "");
		return -1;
	}
	if (end == s) {
		fmt_fail(err, errlen, err_col, col - 2, "empty '%%[]' in %s; expected %s",
			 fmt_class_name(f->cls), "a fetch inside, e.g. %[src]");
		return -1;
	}
	char *name = strndup(s, (size_t)(end - s));
	if (!name) {
		fmt_fail(err, errlen, err_col, col, "out of memory%s%s", "", "");
		return -1;
	}
	struct cfg_tok ft = { name, tok->line, col, false };
	struct fetch *fe = fetch_parse(&ft, err, errlen);
	free(name);
	if (!fe) {
		*err_col = col;
		return -1;
	}
	f->parts[f->nparts++] = (struct fmt_part){ { NULL, 0 }, fe };
	return (int)(end - s);
}

/* Fetches whose values gatehouse writes itself, from a fixed alphabet: an
 * address, "http"/"https", "0"/"1", three digits, a request id (reqid.h:
 * nothing reqid_valid() accepts, nor a generated one, needs escaping). */
static bool fmt_fetch_clean(const struct fetch *fe)
{
	switch (fetch_kind(fe)) {
	case FETCH_SRC:
	case FETCH_SCHEME:
	case FETCH_SSL:
	case FETCH_STATUS:
	case FETCH_REQ_ID:
		return true;
	default:
		return false;
	}
}

struct fmt *fmt_parse(const struct cfg_tok *tok, enum fmt_class cls, char *err, size_t errlen,
		      int *err_col)
{
	const char *s = tok->s;
	size_t len = strlen(s);
	int base = tok->col + (tok->quoted ? 1 : 0);
	struct fmt *f = calloc(1, sizeof(*f));

	/* at most one fetch per 3 bytes, each with a literal before it */
	if (f) {
		f->parts = calloc(len / 3 * 2 + 2, sizeof(*f->parts));
		f->text = malloc(len + 1);
	}
	if (!f || !f->parts || !f->text) {
		fmt_free(f);
		fmt_fail(err, errlen, err_col, base, "out of memory%s%s", "", "");
		return NULL;
	}
	f->cls = cls;
	f->literal = true;
	char *o = f->text, *lit = o;
	for (size_t i = 0; i < len;) {
		if (s[i] == '%' && (s[i + 1] == '[' || s[i + 1] == '%')) {
			if (s[i + 1] == '%') {
				*o++ = '%';
				i += 2;
				continue;
			}
			if (o > lit)
				f->parts[f->nparts++] =
					(struct fmt_part){ { lit, (uint32_t)(o - lit) }, NULL };
			lit = o;
			int n = fmt_add_fetch(f, tok, s + i + 2, base + (int)i + 2, err, errlen,
					      err_col);
			if (n < 0) {
				fmt_free(f);
				return NULL;
			}
			f->literal = false;
			i += (size_t)n + 3;
			continue;
		}
		if (fmt_lit_bad(cls, (unsigned char)s[i])) {
			char what[64];
			snprintf(what, sizeof(what), "invalid byte 0x%02x in %s",
				 (unsigned char)s[i], fmt_class_name(cls));
			fmt_fail(err, errlen, err_col, base + (int)i, "%s; expected %s", what,
				 fmt_lit_expected(cls));
			fmt_free(f);
			return NULL;
		}
		*o++ = s[i++];
	}
	if (o > lit)
		f->parts[f->nparts++] = (struct fmt_part){ { lit, (uint32_t)(o - lit) }, NULL };
	*o = '\0';
	f->clean = f->nparts == 1 && f->parts[0].fetch && fmt_fetch_clean(f->parts[0].fetch);
	/* fetch.c answers these two with string literals */
	f->lasting = f->clean && (fetch_kind(f->parts[0].fetch) == FETCH_SCHEME ||
				  fetch_kind(f->parts[0].fetch) == FETCH_SSL);
	return f;
}

void fmt_free(struct fmt *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nparts; i++)
		fetch_free(f->parts[i].fetch);
	free(f->parts);
	free(f->text);
	free(f);
}

bool fmt_literal(const struct fmt *f, struct slice *out)
{
	if (!f->literal)
		return false;
	*out = f->nparts ? f->parts[0].lit : (struct slice){ f->text, 0 };
	return true;
}

const struct fetch *fmt_fetch_outside(const struct fmt *f, unsigned allowed)
{
	for (int i = 0; i < f->nparts; i++)
		if (f->parts[i].fetch && !(FETCH_MASK(fetch_kind(f->parts[i].fetch)) & allowed))
			return f->parts[i].fetch;
	return NULL;
}

/* Whether a fetched byte must be percent-encoded in a target part. */
static bool fmt_uri_escape(enum fmt_class cls, unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return true;
	return (cls == FMT_PATH && (c == '?' || c == '#')) || (cls == FMT_QUERY && c == '#');
}

/* True when a header value may carry v as is: no control byte (HTAB
 * included, which the slow path keeps but this one does not look at) and
 * no DEL.  Eight bytes at a time: a byte < 0x20 or == 0x7f sets the high
 * bit of its lane (bytes >= 0x80 cannot, and are fine). */
static bool fmt_field_clean(const char *p, uint32_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, d;
		memcpy(&w, p + i, 8);
		d = w ^ (ones * 0x7f);
		if (((w - ones * 0x20) & ~w & highs) | ((d - ones) & ~d & highs))
			return false;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* Copies fetched bytes made safe for the class; returns the new length or
 * -1 when out of room. */
static long fmt_put_dynamic(enum fmt_class cls, struct slice v, char *out, size_t o, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";

	if (cls == FMT_FIELD && fmt_field_clean(v.p, v.len)) {
		if (cap - o < v.len)
			return -1;
		memcpy(out + o, v.p, v.len);
		return (long)(o + v.len);
	}
	for (uint32_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (cls == FMT_FIELD) {
			if (o >= cap)
				return -1;
			/* CR, LF, NUL, other controls, DEL: never emitted */
			out[o++] = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
		} else if (fmt_uri_escape(cls, c)) {
			if (cap - o < 3)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o >= cap)
				return -1;
			out[o++] = (char)c;
		}
	}
	return (long)o;
}

int fmt_render(const struct fmt *f, const struct cond_ctx *ctx, char *out, size_t cap)
{
	char scratch[64];
	size_t o = 0;

	for (int i = 0; i < f->nparts; i++) {
		const struct fmt_part *pt = &f->parts[i];
		if (!pt->fetch) {
			if (cap - o < pt->lit.len)
				return -1;
			memcpy(out + o, pt->lit.p, pt->lit.len);
			o += pt->lit.len;
			continue;
		}
		struct slice v;
		if (!fetch_value(pt->fetch, ctx, &v, scratch, sizeof(scratch)))
			continue;   /* absent: renders as nothing */
		long n = fmt_put_dynamic(f->cls, v, out, o, cap);
		if (n < 0 || n > (long)INT32_MAX)
			return -1;
		o = (size_t)n;
	}
	return (int)o;
}

enum fmt_val fmt_value(const struct fmt *f, const struct cond_ctx *ctx, char *out, size_t cap,
		       struct slice *val)
{
	struct slice v;

	if (f->literal) {
		fmt_literal(f, val);
		return FMT_VAL_LASTING;
	}
	/* "%[fetch]" alone, as most header values are: the fetched bytes
	 * themselves when they need no change (the fetch's scratch is out).
	 * What would not fit out is refused like a rendered value. */
	if (f->nparts == 1 && f->cls == FMT_FIELD && cap >= 64) {
		if (!fetch_value(f->parts[0].fetch, ctx, &v, out, cap)) {
			*val = (struct slice){ out, 0 };
			return FMT_VAL_BORROWED;
		}
		if (v.len <= cap && (f->clean || fmt_field_clean(v.p, v.len))) {
			*val = v;
			return f->lasting ? FMT_VAL_LASTING : FMT_VAL_BORROWED;
		}
	}
	int n = fmt_render(f, ctx, out, cap);
	if (n < 0)
		return FMT_VAL_TOO_BIG;
	*val = (struct slice){ out, (uint32_t)n };
	return FMT_VAL_BORROWED;
}
