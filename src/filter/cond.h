/*
 * cond.h - the condition language, shared by routing (use_backend ... if),
 * balancing (hash(<fetch>)) and, later, firewall rules, rate limits and
 * header rules.
 *
 *   <fetch> <op> <value>   joined with and / or / not and ( )
 *   <boolean fetch>        alone, as a term: `if ssl`, `unless ssl`, `if not ssl`
 *   fetches:   host path method src header(NAME) query(NAME) cookie(NAME)
 *              ssl_client_dn (subject of a verified client certificate)
 *              url (the request target as received), query (the whole query
 *              string, without '?'), scheme ("http"/"https"), ssl (boolean:
 *              a TLS bind; renders "1"/"0"), req_id (the request's id),
 *              status and res_header(NAME) (the response: http_response
 *              rules only; the config checker refuses them elsewhere),
 *              waf_rules (the rule ids the WAF matched, "942100,949110";
 *              absent when none or before its verdict)
 *   operators: == != < <= > >= prefix suffix contains ~ (PCRE2, compiled at
 *              load) in
 *   `in` takes a list: CIDRs for src ("src in 10.0.0.0/8 192.168.0.0/16"),
 *   otherwise values; a list runs to the next and/or/)/end of condition.
 *   `file(PATH)` in a list is a file of CIDRs (net/iplist.h), loaded once
 *   per configuration: src and peer match it by address, any other fetch
 *   by the IP address its value spells (no match when it is not one).
 *   < <= > >= compare integers: the value must be one (checked at load) and
 *   a fetched value that is not an integer makes the test false.  == and !=
 *   compare numerically when both sides are integers (status == 200,
 *   header(X-N) == 007), as strings otherwise.
 *   Precedence: not > and > or.  host and header names compare
 *   case-insensitively, everything else case-sensitively.
 *
 * Conditions are parsed once at load into a small tree and evaluated per
 * request with no allocation.
 */
#ifndef GH_FILTER_COND_H
#define GH_FILTER_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "http/msg.h"

/* One token of a config line, as the config lexer produced it. */
struct cfg_tok {
	const char *s;      /* NUL-terminated; quotes removed, escapes resolved */
	int line, col;
	bool quoted;        /* was a "quoted string": never a keyword or paren */
};

/* What a request looks like to a fetch.  The pipeline fills it; fetches
 * only read it.  New fields go last: some callers initialise it by
 * position. */
struct cond_ctx {
	struct http_msg *msg;                 /* the request; NULL in TCP mode.  In
						 response rules it is still the
						 request (host, path... read it) */
	const struct sockaddr_storage *src;   /* client address */
	const char *ssl_client_dn;            /* verified client certificate subject
						 (RFC 2253), NULL if none / not TLS */
	struct http_msg *res;                 /* the response, for http_response rules
						 (status, res_header); NULL in the
						 request phase */
	bool tls;                             /* the client came in on a TLS bind:
						 ssl is true, scheme is "https" */
	struct slice req_id;                  /* this request's id (request_id); len 0
						 when there is none (req_id absent) */
	const struct sockaddr_in6 *peer;      /* the TCP peer when a PROXY header or
						 trusted_proxies changed src; NULL:
						 the same as src */
	struct slice proxy_authority;         /* PROXY v2 authority TLV; len 0: none */
	/* Values filters give (waf_rules: the ids the WAF matched): var(owner,
	 * FETCH_*) or NULL (none, or not judged yet); var NULL: no filters */
	const char *(*var)(const void *owner, int fetch);
	const void *var_owner;
	/* Set (if not NULL) when a path or url test read the path two ways:
	 * true as sent and false as a server that decodes %2f and unreserved
	 * %XX, merges slashes and removes dot segments reads it, or the
	 * reverse.  The proxy then
	 * refuses the request (400). */
	bool *two_ways;
};

struct fetch;
struct cond;

/* What a fetch reads.  Exposed so the config checker can tell which
 * conditions need HTTP (a tcp frontend only sees the client address). */
enum fetch_kind {
	FETCH_HOST = 0,
	FETCH_PATH,
	FETCH_METHOD,
	FETCH_SRC,
	FETCH_HEADER,
	FETCH_QUERY,
	FETCH_COOKIE,
	FETCH_SSL_CLIENT_DN,
	FETCH_URL,          /* request target as received */
	FETCH_QUERY_STRING, /* `query` without a name: the whole query string */
	FETCH_SCHEME,       /* "http" / "https" */
	FETCH_SSL,          /* boolean: TLS bind */
	FETCH_REQ_ID,       /* the request's id */
	FETCH_STATUS,       /* response status, a number */
	FETCH_RES_HEADER,   /* res_header(NAME) */
	FETCH_PEER,         /* the TCP peer, whatever PROXY / trusted_proxies said */
	FETCH_PROXY_AUTHORITY, /* PROXY v2 PP2_TYPE_AUTHORITY */
	FETCH_WAF_RULES,    /* rule ids the WAF matched: "942100,949110" */
	FETCH_KIND_COUNT
};
#define FETCH_MASK(k) (1u << (k))
/* all a tcp-mode proxy can read */
#define FETCH_MASK_L4 (FETCH_MASK(FETCH_SRC) | FETCH_MASK(FETCH_PEER) | \
		       FETCH_MASK(FETCH_PROXY_AUTHORITY))
/* What only exists once a response is there (http_response rules). */
#define FETCH_MASK_RES (FETCH_MASK(FETCH_STATUS) | FETCH_MASK(FETCH_RES_HEADER))
#define FETCH_MASK_ALL ((1u << FETCH_KIND_COUNT) - 1)

/*
 * Parses a fetch expression ("path", "header(X-User)", "cookie(sid)") from
 * one token.  Returns NULL and writes a message ("unknown fetch 'foo';
 * expected host, path, ...") into err on failure.
 */
struct fetch *fetch_parse(const struct cfg_tok *tok, char *err, size_t errlen);
void fetch_free(struct fetch *f);

/* What a parsed fetch reads, how it was written ("header(X-User)") and where
 * (the token's line and column), for the config checker's messages. */
enum fetch_kind fetch_kind(const struct fetch *f);
/* True for fetches that are a truth value (ssl): usable alone as a term. */
bool fetch_is_bool(const struct fetch *f);
const char *fetch_text(const struct fetch *f);
void fetch_where(const struct fetch *f, int *line, int *col);

/*
 * Evaluates a fetch.  Returns true and sets *out (borrowed from the message,
 * the context, a static string, or `scratch`, which must hold at least 64
 * bytes for `src` and `status`) when the value exists, false when it does
 * not (absent header, no such cookie, no response yet).  Never allocates.
 */
bool fetch_value(const struct fetch *f, const struct cond_ctx *ctx, struct slice *out,
		 char *scratch, size_t scratch_len);

/*
 * Parses a condition from toks[0..ntok).  On failure returns NULL, sets
 * *err_tok to the index of the offending token (ntok for "unexpected end")
 * and writes what was expected into err.
 */
struct cond *cond_parse(const struct cfg_tok *toks, int ntok, int *err_tok,
			char *err, size_t errlen);

/* Where `in file(PATH)` lists come from: the configuration, which loads
 * each file once and owns the list (config/cfg_iplist.c).  iplist()
 * returns NULL with the reason in err. */
struct iplist;
struct cond_loader {
	const struct iplist *(*iplist)(void *arg, const char *path, char *err, size_t errlen);
	void *arg;
};

/* cond_parse() with file lists from ld (cond_parse(): none, `file(...)`
 * is an error). */
struct cond *cond_parse_with(const struct cfg_tok *toks, int ntok, const struct cond_loader *ld,
			     int *err_tok, char *err, size_t errlen);
bool cond_eval(const struct cond *c, const struct cond_ctx *ctx);
void cond_free(struct cond *c);

/* Fills *out with the integer in s (optional sign, then 1 to 18 digits, no
 * blanks) and returns true; false when s is not such an integer. */
bool cond_parse_int(struct slice s, long long *out);

/* Wraps c in a `not` (for `unless`).  Takes ownership of c; returns NULL
 * (having freed c) when out of memory. */
struct cond *cond_negate(struct cond *c);

/* Returns the first fetch in c (in written order) whose kind is not in
 * `allowed` (a FETCH_MASK() set), or NULL if every fetch is allowed. */
const struct fetch *cond_fetch_outside(const struct cond *c, unsigned allowed);

/* Regex matching keeps one pcre2 match block per thread (match data cannot
 * be shared).  It is created on a thread's first regex match and freed
 * automatically when the thread exits; a worker that wants it gone earlier
 * (or the main thread, for leak checkers) may call this. */
void cond_thread_cleanup(void);

#endif
