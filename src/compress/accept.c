/*
 * accept.c - Accept-Encoding (RFC 9110 12.5.3) and the choice of a coding,
 * and the Content-Type test.  Pure functions: unit tests and the fuzz
 * target (fuzz/fuzz_accept_encoding.c) call them directly.
 *
 *   Accept-Encoding  = #( codings [ weight ] )
 *   codings          = content-coding / "identity" / "*"
 *   weight           = OWS ";" OWS "q=" qvalue
 *   qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 *
 * Lenient where it costs nothing: other parameters are skipped, a member
 * with a malformed q is dropped alone, "x-gzip" is gzip (RFC 9110 8.4.1.3).
 * When a coding is named twice the highest q counts.
 */
#include <string.h>
#include <strings.h>
#include "compress/compress.h"

static const char *const names[CZ_COUNT] = { "gzip", "br", "zstd" };

const char *cz_name(enum cz_algo a)
{
	return (unsigned)a < CZ_COUNT ? names[a] : "identity";
}

int cz_from_name(const char *s)
{
	for (int i = 0; i < CZ_COUNT; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

void ae_init(struct ae_prefs *p)
{
	for (int i = 0; i < CZ_COUNT; i++)
		p->q[i] = -1;
	p->star = -1;
	p->identity = -1;
	p->seen = false;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool tok_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* qvalue at p[0..n): thousandths, or -1 when malformed. */
static int parse_q(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	int q = (p[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	int scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static void set_q(int16_t *slot, int q)
{
	if (*slot < q)
		*slot = (int16_t)q;
}

void ae_parse(struct ae_prefs *p, const char *v, size_t len)
{
	const char *e = v + len;

	p->seen = true;
	while (v < e) {
		/* one member: token, then ;params up to the next comma */
		while (v < e && (is_ows(*v) || *v == ','))
			v++;
		const char *t = v;
		while (v < e && is_tchar(*v))
			v++;
		size_t tn = (size_t)(v - t);
		int q = 1000;
		bool bad = tn == 0;
		while (v < e && *v != ',') {
			while (v < e && is_ows(*v))
				v++;
			if (v >= e || *v == ',')
				break;
			if (*v != ';') {
				bad = true;
				v++;
				continue;
			}
			v++;
			while (v < e && is_ows(*v))
				v++;
			const char *pn = v;
			while (v < e && is_tchar(*v))
				v++;
			size_t pnl = (size_t)(v - pn);
			if (v < e && *v == '=') {
				v++;
				const char *pv = v;
				if (v < e && *v == '"') {   /* a quoted value: skipped */
					for (v++; v < e && *v != '"'; v++)
						if (*v == '\\' && v + 1 < e)
							v++;
					if (v < e)
						v++;
				} else {
					while (v < e && is_tchar(*v))
						v++;
				}
				if (pnl == 1 && (*pn == 'q' || *pn == 'Q')) {
					q = parse_q(pv, (size_t)(v - pv));
					bad |= q < 0;
				}
			} else if (pnl == 0) {
				bad = true;
				if (v < e && *v != ',' && *v != ';')
					v++;
			}
		}
		if (bad)
			continue;
		if (tn == 1 && *t == '*')
			set_q(&p->star, q);
		else if (tok_is(t, tn, "identity"))
			set_q(&p->identity, q);
		else if (tok_is(t, tn, "x-gzip"))
			set_q(&p->q[CZ_GZIP], q);
		else
			for (int i = 0; i < CZ_COUNT; i++)
				if (tok_is(t, tn, names[i]))
					set_q(&p->q[i], q);
	}
}

int ae_choose(const struct ae_prefs *p, const uint8_t *order, int n)
{
	int best = -1, best_q = 0;

	if (!p->seen)
		return -1;
	for (int i = 0; i < n; i++) {
		if (order[i] >= CZ_COUNT)
			continue;
		int q = p->q[order[i]] >= 0 ? p->q[order[i]] : p->star;
		if (q > best_q) {
			best_q = q;
			best = order[i];
		}
	}
	return best;
}

/* ---- Content-Type ---- */

const char *const cz_default_types[] = {
	"text/html", "text/plain", "text/css", "text/javascript", "text/xml", "text/csv",
	"text/markdown", "text/calendar", "text/vtt", "text/event-stream",
	"application/javascript", "application/x-javascript", "application/ecmascript",
	"application/json", "application/ld+json", "application/manifest+json",
	"application/problem+json", "application/geo+json", "application/xml",
	"application/rss+xml", "application/atom+xml", "application/xhtml+xml",
	"application/wasm", "application/x-ndjson", "application/graphql-response+json",
	"image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf",
	"application/vnd.ms-fontobject", "application/x-font-ttf",
	NULL,
};

static bool type_match(const char *pat, const char *v, size_t n)
{
	size_t pl = strlen(pat);

	if (pl == 1 && pat[0] == '*')
		return true;
	if (pl >= 2 && pat[pl - 1] == '*' && pat[pl - 2] == '/')   /* a whole type: "text/" then a star */
		return n > pl - 1 && strncasecmp(pat, v, pl - 1) == 0;
	return pl == n && strncasecmp(pat, v, n) == 0;
}

bool cz_type_ok(const char *v, size_t len, char *const *types, int n)
{
	/* the media type alone: up to ';' or white space */
	size_t k = 0;
	while (k < len && v[k] != ';' && !is_ows(v[k]))
		k++;
	if (!k || !memchr(v, '/', k))
		return false;
	if (!types) {
		for (const char *const *t = cz_default_types; *t; t++)
			if (type_match(*t, v, k))
				return true;
		return false;
	}
	for (int i = 0; i < n; i++)
		if (type_match(types[i], v, k))
			return true;
	return false;
}
