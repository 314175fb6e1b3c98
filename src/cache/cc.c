/*
 * cc.c - the cache's HTTP semantics (see cc.h): pure functions, no I/O,
 * no clock of their own (the caller passes "now"), so the unit tests and
 * the fuzz target drive them directly.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cache/cc.h"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static char lc(char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

static bool tok_ieq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lc(p[i]) != lit[i])
			return false;
	return true;
}

void cc_init(struct cc *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = CC_ABSENT;
	cc->swr = cc->sie = CC_ABSENT;
}

/* delta-seconds (RFC 9111 1.2.2): digits only; too large means 2^31.
 * -1 when the value is not one. */
static int64_t delta_seconds(const char *p, size_t len)
{
	int64_t v = 0;
	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v < CC_DELTA_MAX)
			v = v * 10 + (p[i] - '0');
	}
	return v > CC_DELTA_MAX ? CC_DELTA_MAX : v;
}

/* How a second, different value of a directive resolves. */
enum dup_rule { DUP_ZERO, DUP_MIN, DUP_MAX };

static void set_delta(int64_t *slot, int64_t v, bool bad, enum dup_rule r, bool bad_is_zero)
{
	if (bad) {
		if (bad_is_zero)
			*slot = 0;
		return;
	}
	if (*slot == CC_ABSENT || *slot == v) {
		*slot = v;
		return;
	}
	switch (r) {
	case DUP_ZERO: *slot = 0; break;
	case DUP_MIN: *slot = v < *slot ? v : *slot; break;
	case DUP_MAX: *slot = v > *slot ? v : *slot; break;
	}
}

/* no-cache="a, b": the field names of the quoted list. */
static void nc_fields(struct cc *cc, const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (is_ows(p[i]) || p[i] == ','))
			i++;
		size_t s = i;
		while (i < len && !is_ows(p[i]) && p[i] != ',')
			i++;
		if (i == s)
			continue;
		if (cc->n_nc == CC_FIELDS_MAX) {
			cc->flags |= CC_NO_CACHE;    /* too many: revalidate always */
			return;
		}
		cc->nc_fields[cc->n_nc++] = (struct slice){ p + s, (uint32_t)(i - s) };
	}
}

static void directive(struct cc *cc, const char *n, size_t nl, const char *v, size_t vl,
		      bool has_v, bool quoted)
{
	int64_t d = has_v ? delta_seconds(v, vl) : -1;
	bool bad = d < 0;

	if (tok_ieq(n, nl, "max-age"))
		set_delta(&cc->max_age, d, bad, DUP_ZERO, true);
	else if (tok_ieq(n, nl, "s-maxage"))
		set_delta(&cc->s_maxage, d, bad, DUP_ZERO, true);
	else if (tok_ieq(n, nl, "max-stale")) {
		if (!has_v)
			cc->flags |= CC_MAX_STALE_ANY;
		else
			set_delta(&cc->max_stale, d, bad, DUP_MIN, false);
	} else if (tok_ieq(n, nl, "min-fresh"))
		set_delta(&cc->min_fresh, d, bad, DUP_MAX, false);
	else if (tok_ieq(n, nl, "stale-while-revalidate"))
		set_delta(&cc->swr, d, bad, DUP_ZERO, false);
	else if (tok_ieq(n, nl, "stale-if-error"))
		set_delta(&cc->sie, d, bad, DUP_ZERO, false);
	else if (tok_ieq(n, nl, "no-store"))
		cc->flags |= CC_NO_STORE;
	else if (tok_ieq(n, nl, "no-cache")) {
		if (has_v && quoted && vl) {
			cc->flags |= CC_NO_CACHE_FIELDS;
			nc_fields(cc, v, vl);
		} else {
			cc->flags |= CC_NO_CACHE;
		}
	} else if (tok_ieq(n, nl, "private"))
		cc->flags |= CC_PRIVATE;
	else if (tok_ieq(n, nl, "public"))
		cc->flags |= CC_PUBLIC;
	else if (tok_ieq(n, nl, "must-revalidate"))
		cc->flags |= CC_MUST_REVALIDATE;
	else if (tok_ieq(n, nl, "proxy-revalidate"))
		cc->flags |= CC_PROXY_REVALIDATE;
	else if (tok_ieq(n, nl, "only-if-cached"))
		cc->flags |= CC_ONLY_IF_CACHED;
	else if (tok_ieq(n, nl, "no-transform"))
		cc->flags |= CC_NO_TRANSFORM;
	else if (tok_ieq(n, nl, "immutable"))
		cc->flags |= CC_IMMUTABLE;
}

void cc_parse(struct cc *cc, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (is_ows(p[i]) || p[i] == ','))
			i++;
		size_t ns = i;
		while (i < len && p[i] != '=' && p[i] != ',' && !is_ows(p[i]))
			i++;
		size_t ne = i;
		while (i < len && is_ows(p[i]))
			i++;
		const char *v = NULL;
		size_t vl = 0;
		bool has_v = false, quoted = false, garbage = false;
		if (i < len && p[i] == '=') {
			i++;
			while (i < len && is_ows(p[i]))
				i++;
			has_v = true;
			if (i < len && p[i] == '"') {
				/* quoted-string: its value is kept as written (a
				 * backslash escape makes it unusable: ignored) */
				quoted = true;
				size_t s = ++i;
				while (i < len && p[i] != '"') {
					if (p[i] == '\\')
						garbage = true, i++;
					i++;
				}
				if (i >= len)
					garbage = true;   /* unterminated */
				v = p + s;
				vl = (i < len ? i : len) - s;
				if (i < len)
					i++;
			} else {
				size_t s = i;
				while (i < len && p[i] != ',' && !is_ows(p[i]))
					i++;
				v = p + s;
				vl = i - s;
			}
		}
		/* anything else before the next comma makes the directive garbage */
		while (i < len && p[i] != ',') {
			if (!is_ows(p[i]))
				garbage = true;
			i++;
		}
		if (ne == ns)
			continue;
		if (garbage) {
			/* an unreadable max-age or s-maxage still means "stale" */
			if (tok_ieq(p + ns, ne - ns, "max-age"))
				cc->max_age = 0;
			else if (tok_ieq(p + ns, ne - ns, "s-maxage"))
				cc->s_maxage = 0;
			else if (tok_ieq(p + ns, ne - ns, "no-cache"))
				cc->flags |= CC_NO_CACHE;
			else if (tok_ieq(p + ns, ne - ns, "private"))
				cc->flags |= CC_PRIVATE;
			else if (tok_ieq(p + ns, ne - ns, "no-store"))
				cc->flags |= CC_NO_STORE;
			continue;
		}
		directive(cc, p + ns, ne - ns, v, vl, has_v, quoted);
	}
}

void cc_parse_msg(struct cc *cc, struct http_msg *m)
{
	int pos = 0;
	struct http_hdr *h;

	cc_init(cc);
	while ((h = msg_hdr_find(m, SLICE_LIT("cache-control"), &pos)))
		cc_parse(cc, h->value.p, h->value.len);
}

/* ---- dates ---- */

static int month_of(const char *p)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3] = { lc(p[0]), lc(p[1]), lc(p[2]) };
	for (int i = 0; i < 12; i++)
		if (memcmp(months + 3 * i, m, 3) == 0)
			return i;
	return -1;
}

static bool num(const char *p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* "08:49:37" */
static bool hms(const char *p, struct tm *tm)
{
	return num(p, 2, &tm->tm_hour) && p[2] == ':' && num(p + 3, 2, &tm->tm_min) &&
	       p[5] == ':' && num(p + 6, 2, &tm->tm_sec) && tm->tm_hour < 24 && tm->tm_min < 60 &&
	       tm->tm_sec < 61;
}

int64_t http_date_parse(const char *p, size_t len)
{
	struct tm tm;
	char b[40];

	memset(&tm, 0, sizeof(tm));
	while (len && is_ows(*p))
		p++, len--;
	while (len && is_ows(p[len - 1]))
		len--;
	if (len >= sizeof(b) || len < 24)
		return -1;
	memcpy(b, p, len);
	b[len] = 0;
	const char *comma = memchr(b, ',', len);
	if (comma && len == 29 && comma == b + 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		if (b[4] != ' ' || !num(b + 5, 2, &tm.tm_mday) || b[7] != ' ' ||
		    (tm.tm_mon = month_of(b + 8)) < 0 || b[11] != ' ' || !num(b + 12, 4, &tm.tm_year) ||
		    b[16] != ' ' || !hms(b + 17, &tm) || strcmp(b + 25, " GMT"))
			return -1;
		tm.tm_year -= 1900;
	} else if (comma) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *q = comma + 1;
		if (strlen(q) != 23 || q[0] != ' ' || !num(q + 1, 2, &tm.tm_mday) || q[3] != '-' ||
		    (tm.tm_mon = month_of(q + 4)) < 0 || q[7] != '-' || !num(q + 8, 2, &tm.tm_year) ||
		    q[10] != ' ' || !hms(q + 11, &tm) || strcmp(q + 19, " GMT"))
			return -1;
		/* two-digit years: RFC 9110 5.6.7's 50-year rule, simplified */
		if (tm.tm_year < 70)
			tm.tm_year += 100;
	} else if (len == 24) {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		int day;
		if (b[3] != ' ' || (tm.tm_mon = month_of(b + 4)) < 0 || b[7] != ' ' ||
		    !(b[8] == ' ' ? num(b + 9, 1, &day) : num(b + 8, 2, &day)) || b[10] != ' ' ||
		    !hms(b + 11, &tm) || b[19] != ' ' || !num(b + 20, 4, &tm.tm_year))
			return -1;
		tm.tm_mday = day;
		tm.tm_year -= 1900;
	} else {
		return -1;
	}
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 70)
		return -1;
	time_t t = timegm(&tm);
	return t < 0 ? -1 : (int64_t)t;
}

int http_date_fmt(int64_t t, char *out)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return snprintf(out, 30, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", days + 3 * tm.tm_wday,
			tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			tm.tm_sec);
}

/* ---- freshness ---- */

int64_t cc_lifetime(const struct cc *res, const struct cc_times *t, int heuristic_pct,
		    int64_t heuristic_max, bool *explicit_lt)
{
	*explicit_lt = true;
	if (res->s_maxage != CC_ABSENT)
		return res->s_maxage;
	if (res->max_age != CC_ABSENT)
		return res->max_age;
	if (t->expires != -1) {
		if (t->expires == 0)
			return 0;   /* invalid Expires: already expired (5.3) */
		int64_t date = t->date >= 0 ? t->date : t->response_time;
		return t->expires > date ? t->expires - date : 0;
	}
	*explicit_lt = false;
	if (heuristic_pct > 0 && t->last_modified >= 0) {
		int64_t date = t->date >= 0 ? t->date : t->response_time;
		int64_t h = date > t->last_modified ? (date - t->last_modified) * heuristic_pct / 100 : 0;
		return h > heuristic_max ? heuristic_max : h;
	}
	return 0;
}

int64_t cc_current_age(const struct cc_times *t, int64_t now)
{
	int64_t apparent = t->date >= 0 && t->response_time > t->date ? t->response_time - t->date : 0;
	int64_t delay = t->response_time > t->request_time ? t->response_time - t->request_time : 0;
	int64_t corrected_age = (t->age > 0 ? t->age : 0) + delay;
	int64_t initial = apparent > corrected_age ? apparent : corrected_age;
	int64_t resident = now > t->response_time ? now - t->response_time : 0;
	return initial + resident;
}

bool cc_status_understood(int status)
{
	switch (status) {
	case 200: case 201: case 202: case 203: case 204: case 205: case 206:
	case 300: case 301: case 302: case 303: case 304: case 307: case 308:
	case 400: case 401: case 403: case 404: case 405: case 406: case 408: case 409:
	case 410: case 411: case 412: case 413: case 414: case 415: case 416: case 417:
	case 421: case 422: case 426: case 429:
	case 500: case 501: case 502: case 503: case 504: case 505:
		return true;
	default:
		return false;
	}
}

bool cc_status_heuristic(int status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301: case 308:
	case 404: case 405: case 410: case 414: case 501:
		return true;
	default:
		return false;
	}
}

const char *cc_why_text(enum cc_why w)
{
	switch (w) {
	case CC_OK: return "stored";
	case CC_WHY_METHOD: return "method";
	case CC_WHY_STATUS: return "status";
	case CC_WHY_REQ_NO_STORE: return "request-no-store";
	case CC_WHY_NO_STORE: return "no-store";
	case CC_WHY_PRIVATE: return "private";
	case CC_WHY_AUTH: return "authorization";
	case CC_WHY_SET_COOKIE: return "set-cookie";
	case CC_WHY_VARY_STAR: return "vary-star";
	case CC_WHY_NO_LIFETIME: return "no-freshness";
	case CC_WHY_TOO_BIG: return "too-big";
	}
	return "?";
}

static bool nc_names(const struct cc *res, const char *field)
{
	for (int i = 0; i < res->n_nc; i++)
		if (tok_ieq(res->nc_fields[i].p, res->nc_fields[i].len, field))
			return true;
	return false;
}

enum cc_why cc_storable(int meth, int status, const struct cc *req, const struct cc *res,
			bool has_auth, bool set_cookie, bool vary_star, bool explicit_lt,
			int heuristic_pct)
{
	if (meth != HTTP_METH_GET)
		return CC_WHY_METHOD;
	/* final and understood; partial content and 304 are not stored whole */
	if (status < 200 || status == 206 || status == 304 || !cc_status_understood(status))
		return CC_WHY_STATUS;
	if (req->flags & CC_NO_STORE)
		return CC_WHY_REQ_NO_STORE;
	if (res->flags & CC_NO_STORE)
		return CC_WHY_NO_STORE;
	if (res->flags & CC_PRIVATE)
		return CC_WHY_PRIVATE;
	/* RFC 9111 3.5 */
	if (has_auth && !(res->flags & (CC_MUST_REVALIDATE | CC_PUBLIC)) &&
	    res->s_maxage == CC_ABSENT)
		return CC_WHY_AUTH;
	if (set_cookie && !nc_names(res, "set-cookie"))
		return CC_WHY_SET_COOKIE;
	if (vary_star)
		return CC_WHY_VARY_STAR;
	/* explicit freshness, or a heuristic the configuration allows; a
	 * no-cache response with no lifetime is still worth keeping for its
	 * validators (always revalidated) */
	if (!explicit_lt && !(res->flags & CC_NO_CACHE) &&
	    !(heuristic_pct > 0 && (cc_status_heuristic(status) || (res->flags & CC_PUBLIC))))
		return CC_WHY_NO_LIFETIME;
	return CC_OK;
}

enum cc_use cc_usable(const struct cc *req, const struct cc *res, int64_t lifetime, int64_t age,
		      bool *sie_ok)
{
	bool strict = res->flags & (CC_MUST_REVALIDATE | CC_PROXY_REVALIDATE) ||
		      res->s_maxage != CC_ABSENT;   /* s-maxage implies proxy-revalidate */
	int64_t stale = age - lifetime;   /* > 0 once stale, = 0 at the limit */

	*sie_ok = false;
	if (!strict && stale > 0) {
		int64_t sie = req->sie != CC_ABSENT ? req->sie : res->sie;
		*sie_ok = sie != CC_ABSENT && stale <= sie;
	}
	if ((res->flags & CC_NO_CACHE) || (req->flags & CC_NO_CACHE))
		return CC_USE_REVALIDATE;
	/* max-age=N: an age of at most N; ages are whole seconds, so
	 * max-age=0 (a reload) always revalidates */
	if (req->max_age != CC_ABSENT && (age > req->max_age || req->max_age == 0))
		return CC_USE_REVALIDATE;
	if (req->min_fresh != CC_ABSENT && lifetime - age < req->min_fresh)
		return CC_USE_REVALIDATE;
	if (age < lifetime)
		return CC_USE_FRESH;
	/* stale (age >= lifetime: a lifetime of 0 is stale at once) */
	if (strict)
		return CC_USE_REVALIDATE;
	if ((req->flags & CC_MAX_STALE_ANY) ||
	    (req->max_stale != CC_ABSENT && stale <= req->max_stale))
		return CC_USE_STALE_OK;
	if (res->swr != CC_ABSENT && stale <= res->swr)
		return CC_USE_SWR;
	return CC_USE_REVALIDATE;
}

/* ---- key and Vary ---- */

int cache_key(char *out, size_t cap, bool tls, struct slice host, struct slice target)
{
	const char *scheme = tls ? "https" : "http";
	const char *dflt = tls ? ":443" : ":80";
	size_t hl = host.len, sl = strlen(scheme);

	/* the default port says nothing: "a" and "a:80" are one host */
	if (hl > strlen(dflt) && memcmp(host.p + hl - strlen(dflt), dflt, strlen(dflt)) == 0)
		hl -= strlen(dflt);
	size_t need = 4 + sl + 1 + hl + 1 + target.len;
	if (need > cap)
		return -1;
	char *o = out;
	memcpy(o, "GET ", 4);
	o += 4;
	memcpy(o, scheme, sl);
	o += sl;
	*o++ = ' ';
	for (size_t i = 0; i < hl; i++)
		*o++ = lc(host.p[i]);
	*o++ = ' ';
	memcpy(o, target.p, target.len);
	o += target.len;
	return (int)(o - out);
}

int cc_norm_accept_encoding(const char *p, size_t len, char *out, size_t cap)
{
	/* the codings a stored variant may be in (compression's list) */
	static const char *const names[] = { "br", "gzip", "zstd" };
	bool on[3] = { false, false, false }, star = false, star_seen = false;
	bool seen[3] = { false, false, false };
	size_t i = 0;

	while (i < len) {
		while (i < len && (is_ows(p[i]) || p[i] == ','))
			i++;
		size_t s = i;
		while (i < len && p[i] != ',' && p[i] != ';' && !is_ows(p[i]))
			i++;
		size_t e = i;
		bool zero = false;
		while (i < len && p[i] != ',') {
			/* ;q=0, ;q=0.0, ;q=0.000: refused */
			if (p[i] == ';') {
				size_t j = i + 1;
				while (j < len && is_ows(p[j]))
					j++;
				if (j + 1 < len && lc(p[j]) == 'q' && p[j + 1] == '=') {
					j += 2;
					zero = j < len && p[j] == '0';
					for (j++; zero && j < len && p[j] != ',' && !is_ows(p[j]); j++)
						if (p[j] != '.' && p[j] != '0')
							zero = false;
				}
			}
			i++;
		}
		if (e == s)
			continue;
		if (e - s == 1 && p[s] == '*') {
			star = !zero;
			star_seen = true;
			continue;
		}
		for (int k = 0; k < 3; k++)
			if (tok_ieq(p + s, e - s, names[k])) {
				on[k] = !zero;
				seen[k] = true;
			}
		if (tok_ieq(p + s, e - s, "x-gzip")) {
			on[1] = !zero;
			seen[1] = true;
		}
	}
	size_t o = 0;
	for (int k = 0; k < 3; k++) {
		bool yes = on[k] || (!seen[k] && star_seen && star);
		if (!yes)
			continue;
		size_t n = strlen(names[k]);
		if (o + n + 1 > cap)
			return -1;
		if (o)
			out[o++] = ',';
		memcpy(out + o, names[k], n);
		o += n;
	}
	return (int)o;
}

bool cc_vary_star(struct http_msg *res)
{
	int pos = 0;
	struct http_hdr *h;
	while ((h = msg_hdr_find(res, SLICE_LIT("vary"), &pos)))
		for (uint32_t i = 0; i < h->value.len; i++)
			if (h->value.p[i] == '*')
				return true;
	return false;
}

int cc_vary_names(struct http_msg *res, char *out, size_t cap)
{
	int pos = 0;
	size_t o = 0;
	struct http_hdr *h;

	while ((h = msg_hdr_find(res, SLICE_LIT("vary"), &pos))) {
		const char *p = h->value.p;
		size_t len = h->value.len, i = 0;
		while (i < len) {
			while (i < len && (is_ows(p[i]) || p[i] == ','))
				i++;
			size_t s = i;
			while (i < len && p[i] != ',' && !is_ows(p[i]))
				i++;
			if (i == s)
				continue;
			if (o + (i - s) + 1 > cap)
				return -1;
			if (o)
				out[o++] = ',';
			for (size_t k = s; k < i; k++)
				out[o++] = lc(p[k]);
		}
	}
	return (int)o;
}

/* One request field's value for the secondary key: every line of it,
 * joined by ",", whitespace runs squeezed (RFC 9111 4.1 allows it). */
static int field_value(struct http_msg *req, struct slice name, char *out, size_t cap)
{
	int pos = 0;
	size_t o = 0;
	struct http_hdr *h;
	bool first = true;

	if (slice_ieq_cstr(name, "accept-encoding")) {
		char joined[512];
		size_t jl = 0;
		while ((h = msg_hdr_find(req, name, &pos))) {
			if (jl + h->value.len + 1 >= sizeof(joined))
				return -1;
			if (jl)
				joined[jl++] = ',';
			memcpy(joined + jl, h->value.p, h->value.len);
			jl += h->value.len;
		}
		return cc_norm_accept_encoding(joined, jl, out, cap);
	}
	while ((h = msg_hdr_find(req, name, &pos))) {
		if (!first) {
			if (o + 1 > cap)
				return -1;
			out[o++] = ',';
		}
		first = false;
		bool sp = false;
		for (uint32_t i = 0; i < h->value.len; i++) {
			char c = h->value.p[i];
			if (is_ows(c)) {
				sp = true;
				continue;
			}
			if (o + 2 > cap)
				return -1;
			if (sp)
				out[o++] = ' ';
			sp = false;
			out[o++] = c;
		}
	}
	return (int)o;
}

int cc_vary_key_names(struct http_msg *req, const char *names, size_t nlen, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < nlen) {
		size_t s = i;
		while (i < nlen && names[i] != ',')
			i++;
		struct slice name = { names + s, (uint32_t)(i - s) };
		if (i < nlen)
			i++;
		if (!name.len)
			continue;
		if (o + name.len + 2 > cap)
			return -1;
		memcpy(out + o, name.p, name.len);
		o += name.len;
		out[o++] = ':';
		int n = field_value(req, name, out + o, cap - o - 1);
		if (n < 0)
			return -1;
		o += (size_t)n;
		out[o++] = '\n';
	}
	return (int)o;
}

int cc_vary_key(struct http_msg *req, struct http_msg *res, char *out, size_t cap)
{
	char names[512];
	int n = cc_vary_names(res, names, sizeof(names));
	if (n < 0)
		return -1;
	return cc_vary_key_names(req, names, (size_t)n, out, cap);
}

/* The opaque part of an entity tag, without W/ */
static struct slice etag_opaque(struct slice t)
{
	if (t.len >= 2 && t.p[0] == 'W' && t.p[1] == '/') {
		t.p += 2;
		t.len -= 2;
	}
	return t;
}

bool cc_etag_match(struct slice inm, struct slice etag)
{
	if (!etag.len)
		return false;
	struct slice want = etag_opaque(etag);
	size_t i = 0;
	while (i < inm.len) {
		while (i < inm.len && (is_ows(inm.p[i]) || inm.p[i] == ','))
			i++;
		if (i < inm.len && inm.p[i] == '*')
			return true;
		size_t s = i;
		if (i + 1 < inm.len && inm.p[i] == 'W' && inm.p[i + 1] == '/')
			i += 2;
		if (i < inm.len && inm.p[i] == '"') {
			i++;
			while (i < inm.len && inm.p[i] != '"')
				i++;
			if (i < inm.len)
				i++;
		} else {
			while (i < inm.len && inm.p[i] != ',')
				i++;
		}
		struct slice one = etag_opaque((struct slice){ inm.p + s, (uint32_t)(i - s) });
		if (slice_eq(one, want))
			return true;
	}
	return false;
}
