/*
 * local.h - responses gatehouse produces itself: errors (400, 502, 503,
 * ...), and what filters answer (a rule's deny, return or redirect, a rate
 * limit's 429, a cache hit with its stored head and body).
 *
 * One producer for all of them: it fills the transaction's response
 * message (status, headers, body) and hands it to the response steps, so the
 * session's codec encodes it exactly like a server's response.
 *
 * Bodies: a short one is copied into the response buffer at once (an
 * errorfile, a rule's text).  A large one (a cache object) comes from a
 * producer (struct local_src): the response pump asks it for at most the
 * room left in the stream's response buffer each time the buffer drains,
 * and the client codec frames what it wrote like a server's bare body
 * (Content-Length when the producer knows the length, else chunked for
 * HTTP/1.1); so memory stays one buffer per stream and a slow client holds
 * the producer back (backpressure).  A producer with nothing yet (a body
 * still arriving from elsewhere) returns 0 without eof and calls
 * stream_wake() once it has more.  The
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

/* A local reply's body producer.  read() copies up to room bytes of the
 * body, from where the last call stopped, to dst and returns how many; it
 * sets *eof with (or after) the last byte.  arg must stay valid until the
 * transaction ends (e.g. a filter's per-transaction state, freed by its
 * ctx_free).
 *
 * External bodies: a producer whose whole body already sits in memory
 * that nobody writes any more (a cached object's chunks, reference
 * counted) also gives span(): the body's bytes from offset off (from the
 * start of this reply's body, whatever read() did) to the end of their
 * run, in place: *p and their count, 0 past the end.  Those bytes must
 * stay valid and unchanged until the transaction ends (the producer's
 * state holds a reference to what they live in).  A codec that can
 * (sess_codec.ext_body: HTTP/1 on raw TCP, a known length, no framing)
 * then sends them with the buffer's bytes in one sendmsg() per turn
 * (local_send_ext), never copying them; read() serves the others (TLS,
 * io_uring, HTTP/2, chunked). */
struct local_src {
	size_t (*read)(void *arg, char *dst, size_t room, bool *eof);
	size_t (*span)(void *arg, uint64_t off, const char **p);
	void *arg;
};
#define LOCAL_LEN_UNKNOWN UINT64_MAX

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
	/* A reply whose header fields come from the caller (a cache hit):
	 * head() adds them to m once its status line is set (then no
	 * Content-Type is added here); false when they do not fit. */
	bool (*head)(struct http_msg *m, void *arg);
	void *head_arg;
	/* src.read set: the body comes from the producer, src_len bytes (or
	 * LOCAL_LEN_UNKNOWN); body above is then not used.  Not for HEAD,
	 * 204 and 304 replies, which carry no body. */
	struct local_src src;
	uint64_t src_len;
};

/* Answers s's current request with r.  The strings r points to must live
 * until the stream ends (static, config-owned, or in the request's store);
 * they are copied into the response message's store anyway. */
void local_reply(struct stream *s, const struct local_resp *r);

/* The client codecs' delivery of a local reply's body (STEP_DELIVER):
 * a short body goes into the response buffer, a producer's is pumped
 * afterwards (s->rs RS_BODY); false when the short body does not fit. */
bool local_deliver_body(struct stream *s);

/* The response pump for a local reply with a producer: fills the room of
 * s->res from it, framed by the client codec; true on progress. */
bool local_body_pump(struct stream *s);

/* A client codec's send() while t->local_ext (local_src.span above): the
 * response buffer's bytes (the head), then the body's runs in place, in
 * one sendmsg() of up to LOCAL_EXT_IOV runs; a partial write resumes
 * where it stopped.  The last byte ends the body (s->rs RS_DONE).  True
 * on progress. */
bool local_send_ext(struct stream *s);

/* A generated error: status, default or errorfile body, connection closed. */
void http_reply_error(struct stream *s, int status, const char *why);

/* Ends the stream with a warning line (no response can be sent). */
void stream_abort(struct stream *s, const char *why);

/* The reason phrase gatehouse uses for a status ("Forbidden"). */
const char *http_status_reason(int status);

#endif
