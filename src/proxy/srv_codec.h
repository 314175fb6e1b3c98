/*
 * srv_codec.h - the server side's protocol.
 *
 * A server connection speaks one protocol (HTTP/1.1: h1_server.c; HTTP/2,
 * `server ... proto h2`: h2_server.c), and its codec is the table of what that protocol does for
 * a stream using the connection.  The stream takes the codec of the
 * connection it is attached to (s->srv_codec, set by srv_connect), so
 * routing, balancing and the filters never see which protocol it is:
 *
 *   encode_head  t->req's head goes out for this server, in front of the
 *                body bytes already decoded.  It runs once a server
 *                connection is attached, so the message is encoded for the
 *                server that gets it.  False when it cannot be (a local
 *                reply is set up).
 *   read_head    STEP_WAIT_HEAD: server bytes -> t->res (interim
 *                responses and upgrades handled), then the response steps
 *   res_body     the response body decoder: server bytes -> body events
 *                (body.h) and the bytes the client's codec sends (bare
 *                data when t->res_bare); calls res_body_end() when the
 *                message ends.  True on progress.
 *   req_frame,   a bare request body (an HTTP/2 client's) gets the
 *   req_frame_end  framing this server needs (HTTP/1.1: chunked when the
 *                length is unknown)
 *   res_more     whether more response bytes may be readable at once
 *
 * HTTP/1.1 carries one stream per connection (srvconn.owner); HTTP/2
 * carries several with the same table (srvconn.h2, server_rt.h2conns).
 */
#ifndef GH_PROXY_SRV_CODEC_H
#define GH_PROXY_SRV_CODEC_H

#include <stdbool.h>

struct stream;
enum step_result;

struct srvconn;

struct srv_codec {
	const char *name;
	/* The stream's request output -> the server, the server -> its
	 * response input; true on progress. */
	bool (*send)(struct stream *s);
	bool (*recv)(struct stream *s);
	bool (*encode_head)(struct stream *s);
	enum step_result (*read_head)(struct stream *s);
	bool (*res_body)(struct stream *s);
	/* A bare request body (t->req_bare: the client codec does not frame
	 * it): the last n bytes of s->req's output get this protocol's
	 * framing; then the end of the body (trailers included).  Both false
	 * when the buffer has no room yet (call again once it drained).
	 * encode_head frames what was already there when it runs. */
	bool (*req_frame)(struct stream *s, uint32_t n);
	bool (*req_frame_end)(struct stream *s);
	/* Optional: the server may have more response bytes readable right
	 * now (its socket not drained yet).  A body transform (xform.h)
	 * flushes only once this is false; NULL: what is in the buffer is all
	 * there is for now. */
	bool (*res_more)(const struct stream *s);
};

extern const struct srv_codec srv_codec_h1;   /* h1_server.c */
extern const struct srv_codec srv_codec_h2;   /* h2_server.c: `proto h2` */

#endif
