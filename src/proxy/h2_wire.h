/*
 * h2_wire.h - what both HTTP/2 codecs (h2_client.c towards clients,
 * h2_server.c towards servers) do between nghttp2 and a socket:
 *
 *   send     frames out of nghttp2, gathered in `out` so many small frames
 *            leave in one send, then `out` to the socket
 *   recv,    socket bytes into `in`, and `in` into nghttp2
 *   input
 *   data,    a DATA run into its stream's buffer, up to the room the
 *   unhold   stream has; what does not fit is held and nghttp2 paused on it
 *            (NGHTTP2_ERR_PAUSE), until the stream drained enough to take
 *            it (unhold) or went away (drop_held); `in` keeps the bytes the
 *            held run points into meanwhile
 *   credit   flow control as backpressure: a stream's window is credited
 *            back only as far as its buffer has room for
 *
 * nghttp2 runs (mem_recv, mem_send) only from the connection's own
 * context, never inside a stream's processing: see the codecs.
 */
#ifndef GH_PROXY_H2_WIRE_H
#define GH_PROXY_H2_WIRE_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "net/conn.h"

struct h2_wire {
	nghttp2_session *ng;
	struct buf in, out;
	void *held;                /* the stream state whose DATA run did not fit */
	const uint8_t *held_p;
	size_t held_len;
	bool resume;               /* the held run is in: nghttp2 goes on with its frame */
	/* Client side: the MAX_CONCURRENT_STREAMS our first SETTINGS frame
	 * says (nghttp2 was given more, h2_client.c says why); 0 = as is. */
	uint32_t say_max_streams;
	bool settings_sent;
};

/* What a codec hears from nghttp2 (NULL: not wanted). */
struct h2_wire_cbs {
	nghttp2_on_begin_frame_callback begin_frame;
	nghttp2_on_begin_headers_callback begin_headers;
	nghttp2_on_header_callback header;
	nghttp2_on_frame_recv_callback frame_recv;
	nghttp2_on_data_chunk_recv_callback data_chunk;
	nghttp2_on_stream_close_callback stream_close;
};

/* Makes w->ng, a server (towards clients) or client (towards servers)
 * session calling cbs with ud, nghttp2's own WINDOW_UPDATEs off (credit
 * follows the buffers, h2_wire_credit).  A server's incoming-reset limiter
 * gets reset_burst / reset_rate when those are not 0.  0, or -1 when out of
 * memory. */
int h2_wire_open(struct h2_wire *w, bool server, const struct h2_wire_cbs *cbs, void *ud,
		 uint64_t reset_burst, uint64_t reset_rate);

/* Frames out, then to the socket, until nothing is left or the socket is
 * full.  *sent is set when bytes left.  False when the connection failed. */
bool h2_wire_send(struct h2_wire *w, struct conn *c, bool *sent);

/* True while frames wait in `out` for the socket. */
static inline bool h2_wire_pending(const struct h2_wire *w)
{
	return w->out.area && buf_out_len(&w->out) > 0;
}

/* One socket read into `in`: bytes read, 0 when nothing came (EAGAIN,
 * EOF: see the conn's flags, or `in` full), -1 out of memory. */
ssize_t h2_wire_recv(struct h2_wire *w, struct conn *c);

/* `in` to nghttp2 until it is empty or a run is held.  0, or nghttp2's
 * (negative) error: the connection is over. */
int h2_wire_input(struct h2_wire *w);

/* A DATA run for the stream `who` into b, below `limit`: what fits goes
 * in, the rest is held.  Returns 0 or NGHTTP2_ERR_PAUSE (for the
 * callback to return). */
int h2_wire_data(struct h2_wire *w, void *who, struct buf *b, uint32_t limit,
		 const uint8_t *p, size_t len);

/* Moves what fits of the held run into b (below limit).  True when bytes
 * moved; *done when the run is all in (the caller then runs the input
 * again, deferred: nghttp2 goes on with the rest of `in`). */
bool h2_wire_unhold(struct h2_wire *w, struct buf *b, uint32_t limit, bool *done);

/* The held run's stream is gone or wants no more: the run is dropped and
 * the input goes on (the caller runs it, deferred). */
void h2_wire_drop_held(struct h2_wire *w);

/* Credits stream id with what its buffer (holding `buffered` bytes) has
 * room for within cap, the window the peer still has counted (negative
 * after a smaller INITIAL_WINDOW_SIZE of ours took effect), out of
 * *unacked bytes received; small credits wait for a worthwhile one.  True
 * when a WINDOW_UPDATE is due (flush). */
bool h2_wire_credit(struct h2_wire *w, int32_t id, uint32_t *unacked, uint32_t buffered,
		    uint32_t cap);

/* The session and both buffers go. */
void h2_wire_free(struct h2_wire *w);

#endif
