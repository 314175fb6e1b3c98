/*
 * local.h - responses gatehouse produces itself: errors (400, 502, 503,
 * ...), and what filters answer (a rule's deny, return or redirect; later
 * a rate limit's 429 or a cache hit's headers).
 *
 * One producer for all of them: it fills the transaction's response
 * message (status, headers, body) and hands it to the response steps, so the
 * session's codec encodes it exactly like a server's response.  The
 * connection stays open where that is safe: the request was read whole (or
 * its remaining body can be read and dropped) and the reply is not a
 * protocol error.
 */
#ifndef GH_PROXY_LOCAL_H
#define GH_PROXY_LOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include "http/msg.h"

struct stream;

struct local_resp {
	uint16_t status;
	struct slice body;          /* body.p NULL: the errorfile for status, else a short text */
	struct slice content_type;  /* len 0: text/html for an errorfile, text/plain otherwise */
	struct slice location;      /* redirects; len 0 = none */
	uint8_t term;               /* enum strm_term, for the access log */
	const char *why;            /* logged as a warning when set */
	bool close;                 /* close the client connection afterwards */
	bool no_store;              /* Cache-Control: no-store (every generated error) */
	uint32_t retry_after;       /* Retry-After: seconds (a rate limit's 429); 0 = none */
};

/* Answers s's current request with r.  The strings r points to must live
 * until the stream ends (static, config-owned, or in the request's store);
 * they are copied into the response message's store anyway. */
void local_reply(struct stream *s, const struct local_resp *r);

/* A generated error: status, default or errorfile body, connection closed. */
void http_reply_error(struct stream *s, int status, const char *why);

/* Ends the stream with a warning line (no response can be sent). */
void stream_abort(struct stream *s, const char *why);

/* The reason phrase gatehouse uses for a status ("Forbidden"). */
const char *http_status_reason(int status);

#endif
