/*
 * h2_msg.h - HTTP/2 header blocks <-> struct http_msg (RFC 9113 8.2, 8.3).
 *
 * nghttp2 does the framing and HPACK; what it hands over, one decoded field
 * at a time, is turned here into the protocol-neutral message (msg.h) that
 * the pipeline's steps, rules and the HTTP/1 encoder work on, and a message
 * is turned back into the name/value list nghttp2 submits.  Nothing here
 * knows about sockets, streams or nghttp2 sessions, so it is unit-tested
 * and fuzzed alone (tests/unit/test_h2_msg.c, fuzz/fuzz_h2_msg.c).
 *
 * Strictness is that of the HTTP/1 parser: whatever is malformed or
 * ambiguous is refused, never forwarded, so an HTTP/2 request can never be
 * turned into an ambiguous HTTP/1.1 one (h2 -> h1 smuggling):
 *   - names: lowercase tokens only; values: no NUL, CR or LF, no leading or
 *     trailing space/tab;
 *   - connection-specific fields (connection, proxy-connection, keep-alive,
 *     transfer-encoding, upgrade) and `te` other than "trailers";
 *   - pseudo-headers: known ones only, each at most once, all before the
 *     regular fields, the required ones present (:method, :scheme, :path;
 *     CONNECT: :method and :authority only, unless extended CONNECT with
 *     :protocol), none of the other direction's;
 *   - content-length: digits only, several must agree;
 *   - a Host that disagrees with :authority.
 *
 * Fields are copied into the message's store (msg_store), so nghttp2's
 * buffers may go as soon as a call returns.
 */
#ifndef GH_HTTP_H2_MSG_H
#define GH_HTTP_H2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http/msg.h"

/* What a call returns: 0, or why the header block is refused.  The codec
 * answers H2M_MALFORMED with RST_STREAM(PROTOCOL_ERROR) (RFC 9113 8.1.1)
 * and H2M_TOO_LARGE with a 431 (or RST_STREAM when no answer can go). */
enum h2m_err {
	H2M_OK = 0,
	H2M_MALFORMED = -1,
	H2M_TOO_LARGE = -2,   /* the message's store or header table is full */
};

/* The decoder's state for one header block (request, response or
 * trailers).  Zero it (or h2m_begin) before the first field. */
struct h2m_state {
	uint32_t pseudo;          /* H2M_P_* seen */
	bool regular;             /* a regular field was seen: no pseudo may follow */
	bool trailers;            /* this block is trailers: no pseudo at all */
	bool response;            /* a response head */
	bool has_cl;              /* a content-length was seen (value in cl) */
	uint64_t cl;
	struct slice scheme;      /* :scheme, :protocol (stored in the message) */
	struct slice protocol;
	const char *reason;       /* static text for logs when a call fails */
};

#define H2M_P_METHOD    0x01
#define H2M_P_SCHEME    0x02
#define H2M_P_PATH      0x04
#define H2M_P_AUTHORITY 0x08
#define H2M_P_STATUS    0x10
#define H2M_P_PROTOCOL  0x20

/* Starts a block: st is reset, m must have been msg_reset(). */
void h2m_begin(struct h2m_state *st, struct http_msg *m, bool response, bool trailers);

/* One decoded field, in the order received. */
int h2m_field(struct h2m_state *st, struct http_msg *m, const uint8_t *name, size_t nlen,
	      const uint8_t *value, size_t vlen);

/*
 * The end of a request head.  Checks the pseudo-headers and sets up what
 * the pipeline reads: method and meth, target (":path", or the authority
 * for CONNECT), path and query, authority (":authority", else Host), a
 * Host field when there was none (an HTTP/1.1 server needs one), Cookie
 * crumbs joined into one field with "; " (RFC 9113 8.2.3), version 2.0,
 * MSG_F_TE_TRAILERS for `te: trailers`, and the framing: end_stream (the
 * HEADERS frame ended the stream) gives BODY_NONE (a non-zero
 * content-length is then malformed), a content-length BODY_LENGTH,
 * otherwise BODY_CHUNKED (the length is unknown: an HTTP/1.1 server gets
 * it chunked).  Extended CONNECT (RFC 8441) sets st->protocol.
 */
int h2m_req_end(struct h2m_state *st, struct http_msg *m, bool end_stream);

/* The end of a response head (status, framing as for requests, with
 * BODY_NONE for 1xx/204/304 and responses to HEAD: pass req_meth). */
int h2m_res_end(struct h2m_state *st, struct http_msg *m, bool end_stream, uint8_t req_meth);

/* A name/value pair for nghttp2 (same layout as nghttp2_nv, kept apart so
 * this header needs no nghttp2 include). */
struct h2m_nv {
	uint8_t *name;
	uint8_t *value;
	size_t namelen;
	size_t valuelen;
	uint8_t flags;
};

/*
 * A message as a header list for nghttp2: the pseudo-headers first
 * (response: ":status"; request: ":method", ":scheme" from `scheme`,
 * ":authority" from the authority, ":path"), then the live fields with
 * their names lowercased into `scratch`, leaving out deleted, hop-by-hop
 * and connection-specific ones (Connection, Keep-Alive, Proxy-Connection,
 * Transfer-Encoding, Upgrade, and TE unless it is "trailers"), Host
 * (carried by :authority) and, unless the body has a known length
 * (BODY_LENGTH, or MSG_F_KEEP_CL), Content-Length.  Returns the number of
 * entries written, or -1 when nv (max entries) or scratch is too small.
 */
int h2m_encode_response(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len);
int h2m_encode_request(const struct http_msg *m, struct slice scheme, struct h2m_nv *nv,
		       int max, char *scratch, size_t scratch_len);
/* Trailer fields (no pseudo-headers), same rules. */
int h2m_encode_trailers(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len);

#endif
