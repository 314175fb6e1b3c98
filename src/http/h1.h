/*
 * h1.h - the HTTP/1.1 codec (RFC 9112): a strict, zero-copy parser for
 * request and response heads, an in-place chunked-body normaliser, and the
 * encoder that turns a struct http_msg back into an HTTP/1.1 head.
 *
 * Where this sits on the request's path: the proxy receives bytes into a
 * connection buffer, calls h1_parse_request() until it returns H1_DONE,
 * runs routing and header rules on the struct http_msg, then calls
 * h1_encode_request() to write the head it forwards.  Bodies stream through
 * h1_chunk_step() (chunked) or are simply counted (Content-Length).
 *
 * Security: anything ambiguous is an error (RFC 9112 6.3 and 11) - the caller
 * answers err->status and closes.  The parser never allocates and never
 * copies; it only fills slices into the caller's buffer.
 */
#ifndef GH_HTTP_H1_H
#define GH_HTTP_H1_H

#include <stddef.h>
#include <stdint.h>
#include "http/msg.h"

enum h1_res {
	H1_ERROR = -1,     /* malformed or ambiguous: see struct h1_err */
	H1_NEED_MORE = 0,  /* input ends before the element is complete */
	H1_DONE = 1,       /* element complete */
};

/* Why parsing failed: the HTTP status to answer (400, 413, 414, 431, 501,
 * 505 for requests; 502 for responses) and a short static reason for logs. */
struct h1_err {
	uint16_t status;
	const char *reason;   /* static string, e.g. "both Content-Length and Transfer-Encoding" */
	uint32_t offset;      /* byte offset in the head where it was detected */
};

struct h1_limits {
	uint32_t max_head;    /* whole head incl. request line; over -> 431 */
	uint32_t max_target;  /* request target length; over -> 414 */
	uint16_t max_hdrs;    /* number of fields, <= HTTP_MAX_HDRS; over -> 431 */
};

/*
 * Parses a request head from buf[0..len).  Call again with the same msg and
 * a longer len when more bytes arrive (the same bytes at the same address,
 * plus new ones): msg->scan_pos remembers how far the end-of-head search
 * got, so total work stays linear however the input is split.  The caller
 * must msg_reset() before the first call of each message.
 *
 * Leading empty lines (CRLF) before the request line are skipped (RFC 9112
 * 2.2); they count in msg->head_len.
 *
 * On H1_DONE, msg is filled and msg->head_len bytes form the head; bytes
 * after it belong to the body or to the next pipelined request.
 */
int h1_parse_request(const char *buf, size_t len, struct http_msg *msg,
		     const struct h1_limits *lim, struct h1_err *err);

/*
 * Same for a response head.  req_meth is the method of the request being
 * answered (HEAD and CONNECT change the framing, RFC 9112 6.3).  Interim 1xx
 * responses (other than 101) are returned as complete messages with
 * body == BODY_NONE; the caller forwards them and parses again.
 * A 101 response or a 2xx to CONNECT sets body = BODY_TUNNEL.
 */
int h1_parse_response(const char *buf, size_t len, struct http_msg *msg,
		      enum http_meth req_meth, const struct h1_limits *lim,
		      struct h1_err *err);

/*
 * Chunked body processing, in place.
 *
 * Consumes chunked-coded bytes from data[0..len) and writes the output at
 * data[0..] (output never outruns input, so this is safe in place):
 *   H1_CHUNK_NORMALIZE: re-emits the chunked coding in canonical form - hex
 *     size without leading zeros or extensions, CRLF, data, CRLF; the last
 *     chunk "0\r\n", validated trailer fields, "\r\n".
 *   H1_CHUNK_DECODE: emits only the data bytes (for an HTTP/1.0 peer);
 *     trailers are dropped.
 * Only whole chunk-size lines and trailer lines are consumed; an incomplete
 * line is left unconsumed so the caller may move it in the buffer.
 *
 * Returns H1_NEED_MORE after consuming what it could (*consumed, *produced
 * set), H1_DONE when the message's last byte was consumed (the caller's
 * next bytes belong to the next message), or H1_ERROR (bad size, missing
 * CRLF, overlong line, bad trailer field, size overflow).
 */
enum h1_chunk_mode { H1_CHUNK_NORMALIZE = 0, H1_CHUNK_DECODE = 1 };

struct h1_chunk {
	uint8_t state;           /* private */
	uint8_t mode;            /* enum h1_chunk_mode */
	uint64_t remaining;      /* data bytes left in the current chunk */
	uint64_t total;          /* data bytes seen so far (for max_body_size) */
};

void h1_chunk_init(struct h1_chunk *c, enum h1_chunk_mode mode);
int h1_chunk_step(struct h1_chunk *c, char *data, size_t len,
		  size_t *consumed, size_t *produced, struct h1_err *err);

/*
 * Serialises a head.  Writes the request line / status line, then every
 * header not flagged HDR_F_DELETED or HDR_F_HOP, except Content-Length and
 * Transfer-Encoding which are regenerated from msg->body:
 *   BODY_LENGTH  -> "Content-Length: N"
 *   BODY_CHUNKED -> "Transfer-Encoding: chunked"
 * then the `extra` bytes verbatim (already formatted "Name: value\r\n"
 * lines, e.g. "Connection: close\r\n"; may be NULL), then the final CRLF.
 * The request line always says HTTP/1.1, with an absolute-form target
 * rewritten to origin-form (path[?query]); the status line says HTTP/1.1.
 * Returns the number of bytes written, or -1 if `cap` is too small.
 */
int h1_encode_request(const struct http_msg *msg, const char *extra, size_t extra_len,
		      char *out, size_t cap);
int h1_encode_response(const struct http_msg *msg, const char *extra, size_t extra_len,
		       char *out, size_t cap);

#endif
