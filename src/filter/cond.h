/*
 * cond.h - the condition language, shared by routing (use_backend ... if),
 * balancing (hash(<fetch>)) and, later, firewall rules, rate limits and
 * header rules.
 *
 *   <fetch> <op> <value>   joined with and / or / not and ( )
 *   fetches:   host path method src header(NAME) query(NAME) cookie(NAME)
 *              ssl_client_dn (subject of a verified client certificate)
 *   operators: == != prefix suffix contains ~ (PCRE2, compiled at load) in
 *   `in` takes a list: CIDRs for src ("src in 10.0.0.0/8 192.168.0.0/16"),
 *   otherwise values; a list runs to the next and/or/)/end of condition.
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

/* What a request looks like to a fetch. */
struct cond_ctx {
	struct http_msg *msg;                 /* NULL in TCP mode */
	const struct sockaddr_storage *src;   /* client address */
	const char *ssl_client_dn;            /* verified client certificate subject
						 (RFC 2253), NULL if none / not TLS */
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
	FETCH_KIND_COUNT
};
#define FETCH_MASK(k) (1u << (k))
#define FETCH_MASK_L4 FETCH_MASK(FETCH_SRC)   /* all a tcp-mode proxy can read */

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
const char *fetch_text(const struct fetch *f);
void fetch_where(const struct fetch *f, int *line, int *col);

/*
 * Evaluates a fetch.  Returns true and sets *out (borrowed from the message
 * or from `scratch`, which must hold at least 64 bytes for `src`) when the
 * value exists, false when it does not (absent header, no such cookie).
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
bool cond_eval(const struct cond *c, const struct cond_ctx *ctx);
void cond_free(struct cond *c);

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
