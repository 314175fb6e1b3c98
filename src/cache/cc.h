/*
 * cc.h - the cache's HTTP semantics, pure functions with no I/O (RFC 9111,
 * RFC 5861): Cache-Control parsing, HTTP dates, freshness and age,
 * storability, the cache key and Vary matching.  The filter (flt_cache.c)
 * asks these questions; the store (store.h) only keeps bytes.
 *
 * Conservative where the RFC leaves room: a directive given twice with
 * different values, or with a value that is not a number, makes the
 * response stale (RFC 9111 1.2.2, 4.2.1), never fresher; unknown
 * directives are ignored; a qualified `private="f"` is treated as plain
 * `private` (not stored at all).
 */
#ifndef GH_CACHE_CC_H
#define GH_CACHE_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http/msg.h"

/* Cache-Control directives seen (struct cc.flags). */
#define CC_NO_STORE        0x0001
#define CC_NO_CACHE        0x0002   /* unqualified: always revalidate */
#define CC_PRIVATE         0x0004   /* qualified or not: a shared cache never stores */
#define CC_PUBLIC          0x0008
#define CC_MUST_REVALIDATE 0x0010
#define CC_PROXY_REVALIDATE 0x0020
#define CC_ONLY_IF_CACHED  0x0040
#define CC_NO_TRANSFORM    0x0080
#define CC_MAX_STALE_ANY   0x0100   /* request max-stale without a value */
#define CC_NO_CACHE_FIELDS 0x0200   /* no-cache="a, b": fields in nc_fields */
#define CC_IMMUTABLE       0x0400

#define CC_ABSENT (-1)              /* a delta-seconds directive not given */
#define CC_DELTA_MAX 2147483648ll   /* RFC 9111 1.2.2: larger values mean this */
#define CC_FIELDS_MAX 8

struct cc {
	uint32_t flags;
	/* delta-seconds, CC_ABSENT when not given */
	int64_t max_age, s_maxage, max_stale, min_fresh, swr, sie;
	/* no-cache="..." field names, slices into the parsed text (valid as
	 * long as it is); more than CC_FIELDS_MAX: treated as plain no-cache */
	struct slice nc_fields[CC_FIELDS_MAX];
	int n_nc;
};

/* Empties cc (every delta CC_ABSENT). */
void cc_init(struct cc *cc);

/* Parses one Cache-Control field value into cc, adding to what earlier
 * lines of the same message gave (call once per line, after cc_init).
 * Never fails: what it cannot read is ignored or made conservative. */
void cc_parse(struct cc *cc, const char *p, size_t len);

/* Every Cache-Control line of m into cc (after cc_init inside). */
void cc_parse_msg(struct cc *cc, struct http_msg *m);

/* HTTP-date (IMF-fixdate, RFC 850, asctime: RFC 9110 5.6.7) to seconds
 * since the epoch; -1 when it is not one. */
int64_t http_date_parse(const char *p, size_t len);
/* IMF-fixdate of t into out (at least 30 bytes); returns its length. */
int http_date_fmt(int64_t t, char *out);

/* The times and values freshness needs, taken from a stored response. */
struct cc_times {
	int64_t request_time;    /* when the request left (s) */
	int64_t response_time;   /* when the response head came (s) */
	int64_t date;            /* Date, or -1 */
	int64_t expires;         /* Expires: -1 absent, 0 invalid (already expired) */
	int64_t age;             /* Age from upstream, 0 if absent */
	int64_t last_modified;   /* -1 if absent */
};

/* RFC 9111 4.2.1: the freshness lifetime (s), s-maxage before max-age
 * before Expires - Date; heuristic_pct (0 = off) percent of Date -
 * Last-Modified (capped at heuristic_max s) only when there is no
 * explicit lifetime.  *explicit_lt says whether one was given.  */
int64_t cc_lifetime(const struct cc *res, const struct cc_times *t, int heuristic_pct,
		    int64_t heuristic_max, bool *explicit_lt);

/* RFC 9111 4.2.3: the current age (s) at now. */
int64_t cc_current_age(const struct cc_times *t, int64_t now);

/* Whether the status is one the cache understands (RFC 9110 15) and
 * heuristically cacheable ones (RFC 9110 15.1). */
bool cc_status_understood(int status);
bool cc_status_heuristic(int status);

/* Why a response is not stored (cc_storable), for Cache-Status's detail
 * and the debug log; CC_OK when it is. */
enum cc_why {
	CC_OK = 0, CC_WHY_METHOD, CC_WHY_STATUS, CC_WHY_REQ_NO_STORE, CC_WHY_NO_STORE,
	CC_WHY_PRIVATE, CC_WHY_AUTH, CC_WHY_SET_COOKIE, CC_WHY_VARY_STAR, CC_WHY_NO_LIFETIME,
	CC_WHY_TOO_BIG,
};
const char *cc_why_text(enum cc_why w);

/* RFC 9111 3 (and 3.5 for Authorization): may a shared cache store this
 * response to this request?  req/res: the parsed Cache-Control of each;
 * lifetime from cc_lifetime (explicit_lt likewise); has_auth: the request
 * had Authorization; set_cookie: the response has Set-Cookie (stored only
 * when no-cache="set-cookie" or private="set-cookie" names it, so it is
 * stripped: never served to another client). */
enum cc_why cc_storable(int meth, int status, const struct cc *req, const struct cc *res,
			bool has_auth, bool set_cookie, bool vary_star, bool explicit_lt,
			int heuristic_pct);

/* What the cache may do with a stored response for a request (RFC 9111
 * 4.2, 4.2.4, 5.2.1, RFC 5861). */
enum cc_use {
	CC_USE_FRESH = 0,     /* serve it */
	CC_USE_STALE_OK,      /* stale, but the request's max-stale allows it */
	CC_USE_REVALIDATE,    /* must be validated first */
	CC_USE_SWR,           /* stale within stale-while-revalidate: serve, refresh behind */
};
/* lifetime, age: of the stored response; req/res its Cache-Control and
 * the request's.  *sie_ok: an error (5xx, no connection) may be answered
 * with it (stale-if-error of either side, never past must-revalidate). */
enum cc_use cc_usable(const struct cc *req, const struct cc *res, int64_t lifetime, int64_t age,
		      bool *sie_ok);

/* The cache key: method-normalised (HEAD uses GET's), scheme, host
 * (lowercased, default port dropped) and the target as received.
 * Returns its length, or -1 if it does not fit cap. */
int cache_key(char *out, size_t cap, bool tls, struct slice host, struct slice target);

/* Accept-Encoding reduced to the codings a response may be stored in, so
 * variants do not explode: "br,gzip,zstd" in that order, of those the
 * request accepts (q > 0), or "" (identity only).  Returns the length. */
int cc_norm_accept_encoding(const char *p, size_t len, char *out, size_t cap);

/* Vary: whether the field value lists "*"; the secondary key of a request
 * for a Vary list: for each listed name, its normalised request value
 * ("name:value\n"), in the order of the list.  Returns the length, or -1
 * if it does not fit cap (then the response is not stored). */
bool cc_vary_star(struct http_msg *res);
int cc_vary_key(struct http_msg *req, struct http_msg *res, char *out, size_t cap);
/* The same for a stored Vary list (names as "a,b,c"), against a request. */
int cc_vary_key_names(struct http_msg *req, const char *names, size_t nlen, char *out,
		      size_t cap);

/* The field names of m's Vary lines, lowercased, joined with ','; -1 if
 * they do not fit. */
int cc_vary_names(struct http_msg *res, char *out, size_t cap);

/* Entity tags: whether If-None-Match's value matches etag (weak
 * comparison, RFC 9110 13.1.2), "*" matching any. */
bool cc_etag_match(struct slice inm, struct slice etag);

#endif
