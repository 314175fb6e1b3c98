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

/* Longest :protocol kept (RFC 8441; registered upgrade tokens such as
 * "websocket" or "connect-udp" are far shorter).  A longer one is refused
 * with H2M_TOO_LARGE. */
#define H2M_PROTOCOL_MAX 32

/* The decoder's state for one header block (request, response or
 * trailers).  Zero it (or h2m_begin) before the first field. */
struct h2m_state {
	uint32_t pseudo;          /* H2M_P_* seen */
	bool regular;             /* a regular field was seen: no pseudo may follow */
	bool trailers;            /* this block is trailers: no pseudo at all */
	bool response;            /* a response head */
	bool has_cl;              /* a content-length was seen (value in cl) */
	uint64_t cl;
	/* :scheme and :protocol.  Neither points into the message's store:
	 * the store moves when it grows and only slices inside the message
	 * follow it.  scheme is a static "http" or "https" (the only two
	 * accepted); protocol points at protocol_buf, so it stays valid for
	 * as long as this state does (do not copy the struct). */
	struct slice scheme;
	struct slice protocol;
	const char *reason;       /* static text for logs when a call fails */
	char protocol_buf[H2M_PROTOCOL_MAX];
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
 *
 * Details (h2_msg.c):
 *  - the Host field added is named "host" (lowercase, as every HTTP/2
 *    name; the HTTP/1 encoder writes names as stored) and its value is
 *    the authority's slice;
 *  - CONNECT, plain or extended, is BODY_NONE whatever END_STREAM says
 *    (its DATA are tunnel bytes); a non-zero content-length on it is
 *    malformed; a plain CONNECT's :authority needs a port;
 *  - :path, :method, :authority and Host must also pass what h1.c asks of
 *    a request line and a Host (VCHAR target, no fragment, token method,
 *    valid host), since the message may be written as HTTP/1.1;
 *  - Cookie crumbs joined: the first cookie field gets the joined value,
 *    the others are marked HDR_F_DELETED;
 *  - `te: trailers` and `trailer` fields are marked HDR_F_HOP as h1.c
 *    marks them; Expect other than 100-continue is forwarded, not refused
 *    (h1.c answers it 417; there is no h2m code for that).
 * In trailers (h2m_begin with trailers), host, content-length, te,
 * trailer and expect are marked deleted, as h1.c drops them from chunked
 * trailers; there is no end call for trailers.
 */
int h2m_req_end(struct h2m_state *st, struct http_msg *m, bool end_stream);

/*
 * The end of a response head (status, framing as for requests, with
 * BODY_NONE for 1xx/204/304 and responses to HEAD: pass req_meth).
 *
 * Details (h2_msg.c): a :status of 101 (none in HTTP/2, RFC 9113 8.6) and
 * a 1xx with end_stream (RFC 9113 8.1) are malformed; HEAD and 304 keep a
 * content-length in content_length with MSG_F_KEEP_CL, as h1.c does; a 2xx
 * to CONNECT is BODY_TUNNEL; end_stream on any other status is BODY_LENGTH
 * with content_length 0 (an HTTP/1.1 client gets "Content-Length: 0"), a
 * non-zero content-length then being malformed.  The reason is a static
 * standard phrase ("OK", "Not Found"...) or empty for a status without
 * one; MSG_F_RESPONSE is set.
 */
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
 * entries written, or -1 when nv (max entries) or scratch is too small
 * (or, for a response, the status is not three digits).
 *
 * Details (h2_msg.c):
 *  - entries point into the message (values, names that are lowercase
 *    already) or into scratch (lowercased names, ":status", the
 *    content-length digits, ":path" when a query is appended): both must
 *    stay valid until nghttp2_submit_*() returns (flags are 0: nghttp2
 *    copies them then);
 *  - content-length is written from m->content_length, after the fields;
 *    a request's "te: trailers" from MSG_F_TE_TRAILERS, where its first
 *    live TE field was;
 *  - :path is rebuilt from path and query as h1_enc.c rebuilds the target;
 *    CONNECT gets ":authority" = target and no :scheme or :path.  The
 *    :protocol of an extended CONNECT is not in the message: it goes out
 *    as a plain CONNECT, to be told apart by the caller.
 */
int h2m_encode_response(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len);
int h2m_encode_request(const struct http_msg *m, struct slice scheme, struct h2m_nv *nv,
		       int max, char *scratch, size_t scratch_len);
/* Trailer fields (no pseudo-headers), same rules. */
int h2m_encode_trailers(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len);

#endif
