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
 * The message (msg.h) is protocol-neutral: it gets only what the head
 * says.  Where the parser is in its input - and, once done, how many bytes
 * the head took - lives in a struct h1_parser that the caller keeps next
 * to the message (the proxy: struct txn's req_ps and res_ps).
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

/* Why parsing failed: the HTTP status to answer (400, 414, 417, 431, 505
 * for requests; 502 for every response error) and a short static reason for
 * logs.  err may be NULL when the caller does not care. */
struct h1_err {
	uint16_t status;
	const char *reason;   /* static string, e.g. "both Content-Length and Transfer-Encoding" */
	uint32_t offset;      /* byte offset in the input where it was detected */
};

/* A zero field, or a NULL pointer, means the built-in default: 16384,
 * 8192 and HTTP_MAX_HDRS.  max_hdrs is capped at HTTP_MAX_HDRS. */
struct h1_limits {
	uint32_t max_head;    /* whole head incl. request line; over -> 431, reported
				 as soon as max_head bytes hold no complete head
				 (so a caller may cap its reads at max_head) */
	uint32_t max_target;  /* request target length; over -> 414 (a request line
				 that does not even fit in max_head gets 431) */
	uint16_t max_hdrs;    /* number of fields, <= HTTP_MAX_HDRS; over -> 431 */
};

/*
 * The resumable state of one head being parsed: where the parser is in the
 * caller's input, and the head's length once it is complete.  The caller
 * owns it (one per direction of an exchange is enough: a head is parsed
 * once, and an interim 1xx response is followed by h1_parser_reset()).
 * Offsets count from the start of the head's bytes, which the caller
 * passes at buf[0] on every call.  Callers read head_len; the other
 * fields are the parser's own.
 */
struct h1_parser {
	uint32_t head_len;      /* after H1_DONE: bytes the head took in the input,
				   leading empty lines and CRLFCRLF included; 0 before */
	uint32_t scan_pos;      /* how far the end-of-line search got */
	uint32_t line_pos;      /* start of the first line not parsed yet */
	bool start_done;        /* the request or status line was parsed */
	const char *base;       /* buf at the previous call, so the caller may move
				   the bytes between calls (the slices follow) */
};

/* Ready for a new head.  A zeroed struct h1_parser is reset already. */
void h1_parser_reset(struct h1_parser *ps);

/*
 * Parses a request head from buf[0..len) into msg.  Call again with the
 * same ps and msg and a longer len when more bytes arrive (the same bytes
 * plus new ones; they may have moved - e.g. a compacted buffer - and the
 * slices already filled follow them, msg_rebase()): ps->scan_pos remembers
 * how far the end-of-head search got, so total work stays linear however
 * the input is split.  Before the first call of each message the caller
 * must h1_parser_reset(ps) and msg_reset(msg).  After H1_DONE, the slices
 * are valid only while the head stays where it was last parsed (or until
 * msg_adopt() takes it), and further calls return H1_DONE untouched.
 *
 * Leading empty lines (CRLF) before the request line are skipped (RFC 9112
 * 2.2); they count in ps->head_len.
 *
 * On H1_DONE, msg is filled and ps->head_len bytes form the head; bytes
 * after it belong to the body or to the next pipelined request.  Each line
 * is judged only once it is complete, so the outcome (status, offset,
 * fields) is the same however the input was split.
 *
 * What the proxy can rely on after H1_DONE:
 *  - authority: the absolute-form or CONNECT target's authority, else Host.
 *    With an absolute-form target the Host field's value is replaced by
 *    that authority (RFC 9112 3.2.2), so rules and the server see the host
 *    we route on; an empty HTTP/1.0 Host is filled the same way.
 *  - path/query: query.p is NULL when there was no '?'; an absolute-form
 *    target with no path gets path "/".  A '#' in the target is a 400.
 *  - body: BODY_CHUNKED when Transfer-Encoding ends with chunked (listed
 *    once); "gzip, chunked" is accepted and sets MSG_F_TE_OTHER so the
 *    encoder forwards the codings.  BODY_LENGTH for any valid
 *    Content-Length, 0 included (so "Content-Length: 0" is forwarded).
 *  - HDR_F_HOP is set on Connection, Keep-Alive, TE, Trailer,
 *    Proxy-Connection, Upgrade and on every field Connection names -
 *    except Host, Content-Length and Transfer-Encoding, which a client may
 *    not strip from the next hop that way.
 *  - Expect: 100-continue sets MSG_F_EXPECT_CONTINUE (HTTP/1.1 only; 1.0
 *    must ignore it); any other expectation is refused with 417.
 */
int h1_parse_request(struct h1_parser *ps, const char *buf, size_t len, struct http_msg *msg,
		     const struct h1_limits *lim, struct h1_err *err);

/*
 * Same for a response head.  req_meth is the method of the request being
 * answered (HEAD and CONNECT change the framing, RFC 9112 6.3).  Interim 1xx
 * responses (other than 101) are returned as complete messages with
 * body == BODY_NONE; the caller forwards them, resets ps and msg, and parses
 * again.
 * A 101 response or a 2xx to CONNECT sets body = BODY_TUNNEL.
 *
 * Leading empty lines are skipped here too.  Every error is a 502, even a
 * head over max_head.  Both Content-Length and Transfer-Encoding, or
 * Transfer-Encoding in an HTTP/1.0 response, is refused whatever the
 * status: we never relay framing another hop could read differently.
 * A response to HEAD, or a 304, keeps its Content-Length for the encoder:
 * body == BODY_NONE, content_length set and MSG_F_KEEP_CL.
 */
int h1_parse_response(struct h1_parser *ps, const char *buf, size_t len,
		      struct http_msg *msg, enum http_meth req_meth,
		      const struct h1_limits *lim, struct h1_err *err);

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
 *
 * Details: chunk-size is at most 16 hex digits; extensions (BWS allowed
 * around ';' and '=', token or quoted-string values) are validated and
 * dropped; a size or trailer line may be 4096 bytes with its CRLF; at most
 * HTTP_MAX_HDRS trailer fields.  NORMALIZE forwards each valid trailer line
 * byte for byte, except Host, Content-Length, Transfer-Encoding,
 * Connection, Keep-Alive, TE, Trailer, Proxy-Connection, Upgrade and
 * Expect, which have no business in a trailer (RFC 9110 6.5.1).  Errors set
 * err->status 400: for a response body the caller answers 502.  After
 * H1_DONE a call consumes nothing and returns H1_DONE; after H1_ERROR it
 * keeps failing.
 */
enum h1_chunk_mode { H1_CHUNK_NORMALIZE = 0, H1_CHUNK_DECODE = 1 };

struct h1_chunk {
	uint8_t state;           /* private */
	uint8_t mode;            /* enum h1_chunk_mode */
	uint64_t remaining;      /* data bytes left in the current chunk */
	uint64_t total;          /* data bytes seen so far (for max_body_size) */
	/* The body events (optional, set after h1_chunk_init): each run of
	 * data as it lands in the output, and each trailer field that is kept
	 * (name and value valid during the call only).  A non-zero return
	 * from on_data ends the step right after that run (the caller pauses;
	 * the next call goes on from there); from on_trailer it fails the
	 * body ("trailer fields too large"). */
	int (*on_data)(void *arg, const char *p, size_t len);
	int (*on_trailer)(void *arg, struct slice name, struct slice value);
	void *arg;
};

void h1_chunk_init(struct h1_chunk *c, enum h1_chunk_mode mode);
int h1_chunk_step(struct h1_chunk *c, char *data, size_t len,
		  size_t *consumed, size_t *produced, struct h1_err *err);

/* The next non-empty element of a comma-separated list (RFC 9110 5.6.1)
 * in [*pp, e), OWS trimmed; advances *pp.  False at the end. */
bool h1_list_next(const char **pp, const char *e, struct slice *el);

/* [p, e) is a valid host [ ":" port ] (RFC 9110 4.2.3/7.2, RFC 3986
 * 3.2.2: reg-name, IPv4 or bracketed IPv6, no userinfo); need_port: the
 * port is required (CONNECT's authority-form). */
bool h1_host_valid(const char *p, const char *e, bool need_port);

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
 *
 * Details:
 *  - the target is rebuilt from msg->path and msg->query for every form
 *    but CONNECT (which sends msg->target), so a rule rewriting the path
 *    edits msg->path; an empty path goes out as "/".
 *  - a request with no live Host field gets "Host: <authority>" first when
 *    the authority is known (an HTTP/1.0 request forwarded as HTTP/1.1).
 *  - MSG_F_TE_OTHER: Transfer-Encoding lists the received codings, with
 *    chunked appended when the body goes out chunked and the list does not
 *    end with it (BODY_UNTIL_CLOSE responses keep the codings as received).
 *  - responses with body == BODY_NONE and MSG_F_KEEP_CL (HEAD, 304) get
 *    "Content-Length: content_length".
 */
int h1_encode_request(const struct http_msg *msg, const char *extra, size_t extra_len,
		      char *out, size_t cap);
int h1_encode_response(const struct http_msg *msg, const char *extra, size_t extra_len,
		       char *out, size_t cap);

#endif
