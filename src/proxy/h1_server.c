/*
 * h1_server.c - the HTTP/1.1 server codec (srv_codec.h): what a stream
 * does on a server connection that speaks HTTP/1.1, one exchange at a time.
 *
 *   encode_head  t->req's head encoded as HTTP/1.1 for the server, in
 *                front of the body bytes already decoded
 *   read_head    STEP_WAIT_HEAD: server bytes -> t->res; interim 1xx
 *                forwarded (or dropped when we already sent our own 100
 *                Continue); 101 turns the stream into a tunnel; a final
 *                head is taken out of the buffer into the message, for the
 *                response filters
 *   res_body     the response body decoder: Content-Length counted,
 *                chunked decoded (written back normalised, or bare for an
 *                HTTP/1.0 client: res_framing in http_res.c chose), or
 *                until the server closes; each data run goes to the body
 *                events (body.h)
 *
 * A server that sends something malformed gets its client a 502 if no
 * response byte has left yet, otherwise a cut connection.
 *
 * Interim (1xx) and 101 heads are re-encoded here for the client, which
 * is HTTP/1 too: with a client codec of another protocol they will go
 * through it (a sess_codec operation) instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "health/health.h"
#include "proxy/body.h"
#include "proxy/local.h"
#include "proxy/srv_codec.h"
#include "proxy/stream.h"
#include "proxy/xform.h"
#include "proxy/worker.h"

/* ---- I/O: the stream's buffers <-> its own server socket ---- */

static bool h1s_send(struct stream *s)
{
	struct srvconn *sc = s->srv;

	if (!sc || !sc->connected || !s->req.area || !(sc->c.flags & CONN_F_SEND_READY))
		return false;
	uint32_t off = (s->flags & STRM_F_REPLAY) ? s->req_sent : 0;
	uint32_t len = buf_out_len(&s->req) - off;
	if (len == 0)
		return false;
	ssize_t n = conn_send(&sc->c, buf_out(&s->req) + off, len);
	if (n < 0) {
		backend_srv_failed(s, strerror(sc->c.err), false);
		return true;
	}
	if (n == 0)
		return false;
	s->srv_last = s->w->loop.now;
	if (!s->sent_ns && s->rs == RS_WAIT && s->sv && lb_wants_latency(s->sv))
		s->sent_ns = lb_mono_ns();
	if (s->flags & STRM_F_REPLAY) {
		s->req_sent += (uint32_t)n;
		stream_replay_stash(s);   /* sent whole: kept out of the buffer */
		return true;
	}
	buf_consume(&s->req, (uint32_t)n);
	buf_release(&s->req);
	return true;
}

static bool h1s_recv(struct stream *s)
{
	struct srvconn *sc = s->srv;
	uint32_t limit;

	if (!sc || !sc->connected || !(sc->c.flags & CONN_F_RECV_READY) ||
	    (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR)))
		return false;
	switch (s->rs) {
	case RS_WAIT:
		limit = stream_head_room(s);
		break;
	case RS_BODY:
	case RS_TUNNEL:
		limit = buf_size;
		break;
	default:
		return false;
	}
	if (!buf_alloc(&s->res)) {
		stream_abort(s, "out of memory");
		return true;
	}
	if (s->res.wr >= limit) {
		buf_compact(&s->res);
		if (s->res.wr >= limit)
			return false;
	}
	uint32_t want = limit - s->res.wr;
	if (s->rs == RS_BODY && s->txn && xform_relay(s)) {
		/* a relay's room (xform.h) */
		uint32_t cap = xform_res_cap(s), have = buf_data_len(&s->res);
		if (cap <= have) {
			buf_release(&s->res);
			return false;
		}
		if (cap - have < want)
			want = cap - have;
	}
	ssize_t n = conn_recv(&sc->c, s->res.area + s->res.wr, want);
	if (n > 0) {
		s->res.wr += (uint32_t)n;
		s->srv_last = s->w->loop.now;
		if (s->txn && !s->txn->mono_ttfb_us)
			s->txn->mono_ttfb_us = mono_us();
		if (s->sent_ns && s->sv) {   /* balance ewma: time to first byte */
			lb_observe(s->sv, lb_mono_ns() - s->sent_ns, false);
			s->sent_ns = 0;
		}
		stream_srv_answered(s);
		return true;
	}
	buf_release(&s->res);
	if (n < 0 && (sc->c.flags & CONN_F_ERROR)) {
		backend_srv_failed(s, strerror(sc->c.err), false);
		return true;
	}
	return n == 0;
}

/* ---- bare request bodies ---- */

/* The last n output bytes of s->req become one chunk when the length is
 * unknown (BODY_CHUNKED); a known length needs no framing. */
static bool h1s_req_frame(struct stream *s, uint32_t n)
{
	return s->txn->req.body != BODY_CHUNKED || body_chunk_frame(&s->req, n);
}

/* The last chunk and the trailer fields (RFC 9112 7.1.2), once. */
static bool h1s_req_frame_end(struct stream *s)
{
	struct txn *t = s->txn;

	if (t->req_framed_end)
		return true;
	if (t->req.body == BODY_CHUNKED &&
	    !body_chunk_end(&s->req, t->req_trailers, s->w->scratch, buf_size))
		return false;
	t->req_framed_end = true;
	return true;
}

/* ---- encode_head ---- */

/* Encodes the request head for the server, in front of the body bytes
 * already checked.  Upgrade is hop-by-hop, but it is the point of an
 * upgrade request: it goes along with the Connection token naming it. */
static bool h1s_encode_head(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	const char *extra = NULL;
	size_t extra_len = 0;

	if (t->upgrade) {
		for (int i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].id == HDR_UPGRADE)
				m->hdrs[i].flags &= (uint8_t)~HDR_F_HOP;
		extra = "Connection: upgrade\r\n";
		extra_len = strlen(extra);
	}
	/* A bare body (an HTTP/2 client's) decoded ahead of the head gets
	 * its framing now, as one chunk, and its end if it ended. */
	if (t->req_bare && s->req.area && buf_out_len(&s->req) &&
	    !h1s_req_frame(s, buf_out_len(&s->req) - s->req_sent))
		goto too_large;
	/* (a body spilled while held ends after its spilled bytes:
	 * http_req.c frames it once they went) */
	if (t->req_bare && t->req_ended && !t->req_spill.len && !h1s_req_frame_end(s))
		goto too_large;
	int n = h1_encode_request(m, extra, extra_len, s->w->scratch, buf_size);
	if (n < 0 || !buf_alloc(&s->req) ||
	    !buf_insert_out(&s->req, true, s->w->scratch, (uint32_t)n)) {
too_large:
		t->term = TERM_INTERNAL;
		http_reply_error(s, 500, "request head too large once rewritten");
		return false;
	}
	t->head_pending = false;
	return true;
}

/* ---- read_head ---- */

static void drop_head(struct buf *b, uint32_t len)
{
	/* Removes an interim head we will not forward. */
	memmove(b->area + b->pr, b->area + b->pr + len, b->wr - b->pr - len);
	b->wr -= len;
}


static bool res_interim(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	/* Our own 100 Continue went out already; HTTP/1.0 clients get no 1xx.
	 * The client's codec re-encodes the others. */
	if ((m->status == 100 && t->expect_continue) || t->req_minor == 0)
		drop_head(&s->res, t->res_ps.head_len);
	else if (!s->sess->codec->interim(s, m, t->res_ps.head_len))
		return true;
	msg_reset(m);
	h1_parser_reset(&t->res_ps);
	return true;
}

static bool res_upgrade(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	if (!t->upgrade) {
		backend_srv_failed(s, "101 Switching Protocols to a request without Upgrade", false);
		return true;
	}
	for (int i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == HDR_UPGRADE)
			m->hdrs[i].flags &= (uint8_t)~HDR_F_HOP;
	t->status = 101;
	if (s->sv)
		health_observe(s->sv, true, NULL);
	if (!s->sess->codec->upgraded(s, m, t->res_ps.head_len))
		return true;
	t->res_head_sent = true;
	s->flags |= STRM_F_SRV_CLOSE;
	s->rq = RQ_TUNNEL;
	s->rs = RS_TUNNEL;
	s->step = STEP_DONE;
	/* Bytes the client sent after its upgrade request are tunnel data. */
	if (s->req.area)
		s->req.pr = s->req.wr;
	return true;
}

/* A final head from the server: the message takes its bytes (the buffer
 * keeps the body that follows) and the response filters come next. */
static bool res_final(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	if (m->body == BODY_TUNNEL) {
		backend_srv_failed(s, "unexpected tunnel response", false);
		return true;
	}
	uint32_t len = t->res_ps.head_len;
	if (msg_adopt(m, buf_in(&s->res), len) < 0) {
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large");
		return true;
	}
	buf_drop_in(&s->res, len);
	if (s->sv)   /* outlier detection counts the server's 5xx, not ours */
		health_observe_status(s->sv, m->status);
	if (m->flags & MSG_F_CONN_CLOSE)
		s->flags |= STRM_F_SRV_CLOSE;
	s->step = STEP_RES_RULES;
	return true;
}

static bool res_head(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;
	struct srvconn *sc = s->srv;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (in == 0) {
		if (sc && (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			backend_srv_failed(s, "server closed the connection before responding", false);
			return true;
		}
		return false;
	}
	struct h1_limits lim = { .max_head = buf_size - s->w->cfg->global.maxrewrite,
				 .max_target = 0,
				 .max_hdrs = HTTP_MAX_HDRS };
	struct h1_err err = { 0 };
	int r = h1_parse_response(&t->res_ps, buf_in(b), in, &t->res, (enum http_meth)t->meth, &lim,
				  &err);
	if (r == H1_NEED_MORE) {
		if (sc && (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			backend_srv_failed(s, "server closed the connection in the middle of a response head", false);
			return true;
		}
		if (in >= lim.max_head) {   /* srv_recv stops at the head room */
			if (s->sv)
				health_observe(s->sv, false, "response head too large");
			backend_release(s, false);
			http_reply_error(s, 502, "response head too large");
			return true;
		}
		return false;
	}
	if (r == H1_ERROR) {
		char why[160];
		snprintf(why, sizeof(why), "invalid response: %s", err.reason ? err.reason : "malformed");
		if (s->sv)
			health_observe(s->sv, false, why);
		backend_release(s, false);
		http_reply_error(s, 502, why);
		return true;
	}
	struct http_msg *m = &t->res;
	if (m->status < 200 && m->status != 101)
		return res_interim(s, t);
	if (m->status == 101)
		return res_upgrade(s, t);
	return res_final(s, t);
}

static enum step_result h1s_read_head(struct stream *s)
{
	/* Interim responses are forwarded (or dropped) and parsing starts
	 * again; a final head moves the step on. */
	while (s->step == STEP_WAIT_HEAD && s->rs == RS_WAIT) {
		if (!res_head(s))
			return STEP_WAIT;
		if (s->flags & STRM_F_CLOSED)
			return STEP_STOP;
	}
	return STEP_NEXT;
}


/* ---- res_body ---- */

/* One pass of the response body decoder: Content-Length counted, chunked
 * normalised (or decoded for an HTTP/1.0 client), or until the server
 * closes; each data run goes past the filters. */
static bool h1s_res_body(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;
	struct srvconn *sc = s->srv;
	uint32_t in = b->area ? buf_in_len(b) : 0;
	bool srv_eof = !sc || (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR));

	if (in == 0) {
		if (!srv_eof)
			return false;
		if (!t->res_chunked && t->res.body == BODY_UNTIL_CLOSE) {
			s->flags |= STRM_F_SRV_CLOSE;
			return res_body_end(s);
		}
		stream_abort(s, "server closed the connection in the middle of the response body");
		return true;
	}
	if (t->res_chunked) {
		struct h1_err err = { 0 };
		struct slice data;
		bool progress;
		int r = buf_chunk_forward(s, true, &t->res_chunk, &err, &progress, &data);
		if (r == H1_ERROR) {
			stream_abort(s, err.reason ? err.reason : "bad chunked response body");
			return true;
		}
		if (data.len && body_data(s, true, data.p, data.len) != FLT_CONTINUE)
			return true;
		if (r == H1_DONE) {
			res_body_end(s);
		} else if (!progress && srv_eof) {   /* a line it will never finish */
			stream_abort(s, "server closed the connection in the middle of the response body");
			return true;
		}
		return progress;
	}
	uint32_t n = t->res.body == BODY_UNTIL_CLOSE || t->res_left > in ? in : (uint32_t)t->res_left;
	const char *p = buf_in(b);
	buf_advance(b, n);
	if (t->res.body != BODY_UNTIL_CLOSE)
		t->res_left -= n;
	/* A filter that waits on the last run (a WAF judging a held
	 * response) still gets the end event once it wakes: res_body_end()
	 * marks it due (t->res_ended) and the pump runs it again. */
	if (body_data(s, true, p, n) != FLT_CONTINUE && !(s->flags & STRM_F_PARKED))
		return true;
	if (t->res.body != BODY_UNTIL_CLOSE && t->res_left == 0)
		res_body_end(s);
	return true;
}

/* The socket was not drained by the last read: more may come at once. */
static bool h1s_res_more(const struct stream *s)
{
	const struct srvconn *sc = s->srv;
	return sc && (sc->c.flags & CONN_F_RECV_READY) &&
	       !(sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR));
}

const struct srv_codec srv_codec_h1 = {
	.name = "h1",
	.encode_head = h1s_encode_head,
	.read_head = h1s_read_head,
	.res_body = h1s_res_body,
	.send = h1s_send,
	.recv = h1s_recv,
	.req_frame = h1s_req_frame,
	.req_frame_end = h1s_req_frame_end,
	.res_more = h1s_res_more,
};
