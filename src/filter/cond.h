/*
 * cond.h - the condition language, shared by routing (use_backend ... if),
 * balancing (hash(<fetch>)) and, later, firewall rules, rate limits and
 * header rules.
 *
 *   <fetch> <op> <value>   joined with and / or / not and ( )
 *   fetches:   host path method src header(NAME) query(NAME) cookie(NAME)
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
};

struct fetch;
struct cond;

/*
 * Parses a fetch expression ("path", "header(X-User)", "cookie(sid)") from
 * one token.  Returns NULL and writes a message ("unknown fetch 'foo';
 * expected host, path, ...") into err on failure.
 */
struct fetch *fetch_parse(const struct cfg_tok *tok, char *err, size_t errlen);
void fetch_free(struct fetch *f);

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

#endif
