/*
 * h1_client.c - the HTTP/1.1 codec of a client session: bytes between the
 * client socket and the stream's buffers, the request head decoded
 * (req_read_head, http_req.c) and the response head encoded (res_deliver,
 * http_res.c), and what follows an exchange: the next request on the
 * connection (keep-alive, pipelining), a lingering close, or the end of a
 * tunnel.
 *
 * HTTP/1 carries one exchange at a time, so its session has one stream,
 * reused from request to request.  Bodies keep their HTTP/1 framing on the
 * way through (chunked normalised in place, http_req.c/http_res.c): with a
 * second protocol on either side they will travel as data, trailers and
 * end-of-message events instead.
 */
#include <errno.h>
#include <string.h>
#include "core/log.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/worker.h"


/* ---- client side ---- */

static bool h1_recv(struct stream *s)
{
	struct conn *c = &s->sess->cli;
	uint32_t limit;

	if (!(c->flags & CONN_F_RECV_READY) || (c->flags & (CONN_F_RD_EOF | CONN_F_ERROR)))
		return false;
	switch (s->rq) {
	case RQ_IDLE:
	case RQ_HEAD:
		limit = stream_head_room(s);
		break;
	case RQ_BODY:
		/* Until its head is encoded in front of them, body bytes may
		 * only take the room the head left (http_req.c). */
		limit = s->txn && s->txn->head_pending ? stream_head_room(s) - s->txn->req_head_len :
							 buf_size;
		break;
	case RQ_TUNNEL:
		limit = buf_size;
		break;
	default:
		/* RQ_DONE: a pipelined request waits in the socket until this
		 * transaction ends - unless we are lingering before a close. */
		if (!(s->sess->flags & SESS_F_LINGER))
			return false;
		limit = buf_size;
		break;
	}
	if (!buf_alloc(&s->req)) {
		stream_abort(s, "out of memory");
		return true;
	}
	if (s->req.wr >= limit) {
		buf_compact(&s->req);
		if (s->req.wr >= limit)
			return false;
	}
	ssize_t n = conn_recv(c, s->req.area + s->req.wr, limit - s->req.wr);
	if (n > 0) {
		s->sess->cli_last = s->w->loop.now;
		if (s->sess->flags & SESS_F_LINGER) {
			buf_release_force(&s->req);   /* discarded */
			return true;
		}
		s->req.wr += (uint32_t)n;
		if (s->rq == RQ_IDLE) {
			s->rq = RQ_HEAD;
			s->sess->head_start = s->w->loop.now;
		}
		return true;
	}
	buf_release(&s->req);
	return n == 0 || (c->flags & CONN_F_ERROR);
}

static bool h1_send(struct stream *s)
{
	struct conn *c = &s->sess->cli;

	if (!s->res.area || buf_out_len(&s->res) == 0 || !(c->flags & CONN_F_SEND_READY))
		return false;
	ssize_t n = conn_send(c, buf_out(&s->res), buf_out_len(&s->res));
	if (n < 0) {
		log_debug("%s: client send failed: %s", s->fe->name, strerror(c->err));
		stream_close(s);
		return true;
	}
	if (n == 0)
		return false;
	s->sess->cli_last = s->w->loop.now;
	if (s->txn)
		s->txn->bytes_out += (uint64_t)n;
	buf_consume(&s->res, (uint32_t)n);
	buf_release(&s->res);
	return true;
}

/* Propagates half-closes through a tunnel; closes when both ways are done. */
static bool tunnel_check_end(struct stream *s)
{
	struct srvconn *sc = s->srv;
	bool progress = false;

	if ((s->sess->cli.flags & CONN_F_ERROR) || (sc && (sc->c.flags & CONN_F_ERROR))) {
		stream_close(s);
		return true;
	}
	if (!sc || !sc->connected)
		return false;
	if ((s->sess->cli.flags & CONN_F_RD_EOF) && buf_empty(&s->req) && !(sc->c.flags & CONN_F_WR_SHUT)) {
		conn_shutw(&sc->c);
		progress = true;
	}
	if ((sc->c.flags & CONN_F_RD_EOF) && buf_empty(&s->res) &&
	    !(s->sess->cli.flags & CONN_F_WR_SHUT)) {
		conn_shutw(&s->sess->cli);
		progress = true;
	}
	if ((s->sess->cli.flags & CONN_F_WR_SHUT) && (sc->c.flags & CONN_F_WR_SHUT)) {
		stream_close(s);
		return true;
	}
	return progress;
}

/* Starts discarding the client's unread input after our final response so
 * closing does not turn into a reset that destroys that response in
 * flight (RFC 9112 9.6, "lingering close"). */
static void stream_linger(struct stream *s)
{
	conn_shutw(&s->sess->cli);
	s->sess->flags |= SESS_F_LINGER;
	s->sess->linger_start = s->w->loop.now;
	s->rq = RQ_DONE;
	s->rs = RS_DONE;
	buf_release_force(&s->req);
}

static bool client_may_have_input(const struct stream *s)
{
	return s->rq != RQ_DONE || (s->sess->flags & SESS_F_UNREAD) ||
	       (s->req.area && buf_in_len(&s->req) > 0) || (s->sess->cli.flags & CONN_F_RECV_READY);
}

static bool http_check_end(struct stream *s)
{
	struct txn *t = s->txn;

	if (s->sess->flags & SESS_F_LINGER) {
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);
			return true;
		}
		return false;
	}
	if (!t || s->rs != RS_DONE || (s->res.area && buf_out_len(&s->res) > 0))
		return false;
	/* A local reply answered before the request body ended: it is read
	 * and dropped first, so the connection can carry the next request. */
	if (t->discard_body && s->rq == RQ_BODY)
		return false;

	/* The response is delivered. */
	bool req_complete = s->rq == RQ_DONE;
	bool srv_clean = req_complete && (!s->req.area || buf_out_len(&s->req) == 0) &&
			 (!s->res.area || buf_in_len(&s->res) == 0) &&
			 !(s->flags & STRM_F_SRV_CLOSE);
	txn_end(s);
	backend_release(s, srv_clean);
	s->flags &= ~STRM_F_SRV_CLOSE;
	buf_release_force(&s->res);
	if (!req_complete)
		s->sess->flags |= SESS_F_CLOSE;
	if (s->w->stopping)
		s->sess->flags |= SESS_F_CLOSE;
	if (s->sess->flags & SESS_F_CLOSE) {
		if (client_may_have_input(s) && !(s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			stream_linger(s);
			return true;
		}
		stream_close(s);
		return true;
	}

	/* Keep-alive: next request, possibly already pipelined in the buffer. */
	s->rs = RS_NONE;
	s->step = STEP_READ_HEAD;
	if (s->req.area && buf_in_len(&s->req) > 0) {
		s->rq = RQ_HEAD;
		s->sess->head_start = s->w->loop.now;
		txn_reset(t);
	} else {
		s->rq = RQ_IDLE;
		buf_release_force(&s->req);
		txn_free(s->w, t);
		s->txn = NULL;
	}
	s->sess->cli_last = s->w->loop.now;
	return true;
}

static bool h1_check_end(struct stream *s)
{
	if (s->rq == RQ_TUNNEL)
		return tunnel_check_end(s);
	if (s->sess->cli.flags & CONN_F_ERROR) {
		stream_close(s);
		return true;
	}
	return http_check_end(s);
}


const struct sess_codec sess_codec_h1 = {
	.name = "http/1.1",
	.recv = h1_recv,
	.send = h1_send,
	.read_head = req_read_head,
	.deliver = res_deliver,
	.check_end = h1_check_end,
};
