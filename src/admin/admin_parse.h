/*
 * admin_parse.h - the admin listener's request-head parser and token
 * check (admin_parse.c), apart from the socket code so the fuzz target
 * (fuzz/fuzz_admin_http.c) and tests reach them.
 */
#ifndef GH_ADMIN_PARSE_H
#define GH_ADMIN_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* What the head said that the listener needs. */
struct ahead {
	char *method, *target, *query;   /* query: after the target's '?', or NULL */
	bool http10, keep_alive, close, has_host;
	bool has_cl, chunked, expect_continue;
	size_t cl;
	const char *auth;        /* the Authorization value, or NULL */
	size_t head_len;         /* bytes of the head, CRLFCRLF included */
};

/*
 * Parses a request head in place: in[0..end) is the head up to and with
 * its first CRLFCRLF, in[end] is NUL.  NULs are written into it; h's
 * strings point into it.  Returns 0, or the HTTP status to answer (400,
 * 411, 417) with *why set to a static text.
 */
int admin_parse_head(char *in, size_t end, struct ahead *h, const char **why);

/* Whether an Authorization value is `Bearer <want>` (scheme in any case),
 * compared in constant time (SHA-256 digests, CRYPTO_memcmp). */
bool admin_token_ok(const char *auth, const char *want, size_t want_len);

#endif
