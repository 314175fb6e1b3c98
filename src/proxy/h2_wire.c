/*
 * h2_wire.c - nghttp2 between a socket and the streams' buffers, for both
 * HTTP/2 codecs (h2_wire.h).
 */
#include <string.h>
#include "proxy/h2_wire.h"

/* nghttp2 serialises at most a frame of this size per mem_send call at
 * the default SETTINGS_MAX_FRAME_SIZE (16 KiB payload + 9 header bytes). */
#define H2_FRAME_MAX (16384 + 9)

/* The first SETTINGS frame we send says w->say_max_streams for
 * MAX_CONCURRENT_STREAMS. */
static void settings_patch(struct h2_wire *w, uint8_t *p, size_t n)
{
	if (n < 9 || p[3] != NGHTTP2_SETTINGS || (p[4] & NGHTTP2_FLAG_ACK))
		return;
	size_t len = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
	w->settings_sent = true;
	for (size_t o = 9; o + 6 <= 9 + len && o + 6 <= n; o += 6) {
		if ((p[o] << 8 | p[o + 1]) != NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
			continue;
		uint32_t v = w->say_max_streams;
		p[o + 2] = (uint8_t)(v >> 24);
		p[o + 3] = (uint8_t)(v >> 16);
		p[o + 4] = (uint8_t)(v >> 8);
		p[o + 5] = (uint8_t)v;
	}
}

/* Frames into `out`, as many as fit: one send for many small frames. */
static bool gather(struct h2_wire *w)
{
	struct buf *b = &w->out;

	while (nghttp2_session_want_write(w->ng) && (b->wr == 0 || b->wr + H2_FRAME_MAX <= buf_size)) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(w->ng, &p);
		if (n == 0)
			break;
		/* a frame larger than the room: refuse rather than truncate */
		if (n < 0 || b->wr + (uint32_t)n > buf_size)
			return false;
		memcpy(b->area + b->wr, p, (size_t)n);
		if (w->say_max_streams && !w->settings_sent)
			settings_patch(w, (uint8_t *)b->area + b->wr, (size_t)n);
		b->wr += (uint32_t)n;
		b->pr = b->wr;
	}
	return true;
}

bool h2_wire_send(struct h2_wire *w, struct conn *c, bool *sent)
{
	for (;;) {
		if (!buf_alloc(&w->out) || !gather(w))
			return false;
		if (buf_out_len(&w->out) == 0) {
			buf_release(&w->out);
			return true;
		}
		if (!(c->flags & CONN_F_SEND_READY))
			return true;
		ssize_t n = conn_send(c, buf_out(&w->out), buf_out_len(&w->out));
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		*sent = true;
		buf_consume(&w->out, (uint32_t)n);
		if (h2_wire_pending(w))
			return true;   /* the socket is full */
	}
}

ssize_t h2_wire_recv(struct h2_wire *w, struct conn *c)
{
	if (!buf_alloc(&w->in))
		return -1;
	if (w->in.wr >= buf_size)
		buf_compact(&w->in);
	if (w->in.wr >= buf_size)
		return 0;
	ssize_t n = conn_recv(c, w->in.area + w->in.wr, buf_size - w->in.wr);
	if (n <= 0)
		return 0;
	w->in.wr += (uint32_t)n;
	return n;
}

int h2_wire_input(struct h2_wire *w)
{
	/* bytes nghttp2 took are kept while a held run points into them */
	if (w->in.area && !w->held_len)
		buf_consume(&w->in, buf_out_len(&w->in));
	/* After a pause nghttp2 still has the end of the paused DATA frame to
	 * process (its END_STREAM): it needs a call even with no new byte. */
	while ((w->in.area && buf_in_len(&w->in) && !w->held_len) || w->resume) {
		w->resume = false;
		const uint8_t *p = w->in.area ? (const uint8_t *)buf_in(&w->in) : (const uint8_t *)"";
		ssize_t n = nghttp2_session_mem_recv(w->ng, p, w->in.area ? buf_in_len(&w->in) : 0);
		if (n < 0)
			return (int)n;
		if (!w->in.area)
			continue;
		buf_advance(&w->in, (uint32_t)n);
		if (!w->held_len)
			buf_consume(&w->in, (uint32_t)n);
	}
	if (w->in.area && buf_empty(&w->in))
		buf_release(&w->in);
	return 0;
}

/* What fits of len bytes at the end of b, below limit (compacted if that
 * makes more room). */
static size_t take(struct buf *b, uint32_t limit, const uint8_t *p, size_t len)
{
	if (b->wr + len > limit && b->rd)
		buf_compact(b);
	size_t n = b->wr < limit ? limit - b->wr : 0;
	if (n > len)
		n = len;
	memcpy(b->area + b->wr, p, n);
	b->wr += (uint32_t)n;
	return n;
}

int h2_wire_data(struct h2_wire *w, void *who, struct buf *b, uint32_t limit,
		 const uint8_t *p, size_t len)
{
	size_t n = take(b, limit, p, len);
	if (n == len)
		return 0;
	w->held = who;
	w->held_p = p + n;
	w->held_len = len - n;
	return NGHTTP2_ERR_PAUSE;
}

bool h2_wire_unhold(struct h2_wire *w, struct buf *b, uint32_t limit, bool *done)
{
	*done = false;
	if (!w->held_len || !buf_alloc(b))
		return false;
	size_t n = take(b, limit, w->held_p, w->held_len);
	w->held_p += n;
	w->held_len -= n;
	if (w->held_len == 0) {
		w->held = NULL;
		w->resume = true;
		*done = true;
	}
	return n > 0;
}

void h2_wire_drop_held(struct h2_wire *w)
{
	w->held = NULL;
	w->held_len = 0;
	w->resume = true;
}

bool h2_wire_credit(struct h2_wire *w, int32_t id, uint32_t *unacked, uint32_t buffered,
		    uint32_t cap)
{
	if (!*unacked)
		return false;
	/* The window the peer has, signed: below zero once our SETTINGS
	 * shrank INITIAL_WINDOW_SIZE under what it had sent (a client that
	 * sent 64 KiB before it read them).  nghttp2's own getter says 0
	 * then, which would credit that much too little and leave the peer
	 * short of window with nothing left to wake the stream. */
	int32_t local = nghttp2_session_get_stream_effective_local_window_size(w->ng, id);
	int32_t recvd = nghttp2_session_get_stream_effective_recv_data_length(w->ng, id);
	/* (a stream nghttp2 closed has no window: its bytes still go back
	 * to the connection's as they drain) */
	int64_t win = local < 0 || recvd < 0 ? 0 : (int64_t)local - recvd;
	int64_t used = (int64_t)buffered + win;
	if (used >= (int64_t)cap)
		return false;
	uint64_t room = (uint64_t)((int64_t)cap - used);
	uint32_t credit = room < *unacked ? (uint32_t)room : *unacked;
	/* a WINDOW_UPDATE per few bytes costs more than it gives */
	if (credit < *unacked && credit < 4096)
		return false;
	nghttp2_session_consume(w->ng, id, credit);
	*unacked -= credit;
	return true;
}

int h2_wire_open(struct h2_wire *w, bool server, const struct h2_wire_cbs *cbs, void *ud,
		 uint64_t reset_burst, uint64_t reset_rate)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;

	/* nghttp2 copies both into the session: they go right after */
	if (nghttp2_session_callbacks_new(&cb))
		return -1;
	if (nghttp2_option_new(&opt)) {
		nghttp2_session_callbacks_del(cb);
		return -1;
	}
	if (cbs->begin_frame)
		nghttp2_session_callbacks_set_on_begin_frame_callback(cb, cbs->begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, cbs->begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, cbs->header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cbs->frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cbs->data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, cbs->stream_close);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	if (server && reset_burst && reset_rate)
		nghttp2_option_set_stream_reset_rate_limit(opt, reset_burst, reset_rate);
	int rv = server ? nghttp2_session_server_new2(&w->ng, cb, ud, opt) :
			  nghttp2_session_client_new2(&w->ng, cb, ud, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rv) {
		w->ng = NULL;
		return -1;
	}
	return 0;
}

void h2_wire_free(struct h2_wire *w)
{
	if (w->ng)
		nghttp2_session_del(w->ng);
	w->ng = NULL;
	buf_release_force(&w->in);
	buf_release_force(&w->out);
}
