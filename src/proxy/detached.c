/*
 * detached.c - requests with no client: a background fetch started by a
 * filter (the cache's stale-while-revalidate refresh) runs as a stream of
 * its own session, whose codec (sess_codec_detached) has no socket.
 *
 * stream_detached() copies a request head (encoded, then parsed again, so
 * the copy owns its bytes exactly as a decoded request does), makes a
 * session on the parent's worker, frontend and generation (its client
 * address and scheme the parent's) and a stream whose transaction starts at
 * STEP_ROUTE: the frontend's request filters already ran on the parent,
 * the backend's run on the copy.  Everything from routing on is the
 * ordinary path (servers, retries, timeouts, the response filters, the
 * access log); the client side is this codec:
 *   - nothing to receive: the request has no body (a copy with one is
 *     refused), so RQ_DONE from the start;
 *   - delivery: the response body is decoded bare (or transformed, as for
 *     any client) and whatever reaches the output is dropped at once, so
 *     the body streams through the response filters at the server's pace
 *     and a slow client never holds it back;
 *   - the exchange's end logs it and closes the session.
 * The session counts as a connection of its worker (w->sessions, g_conns)
 * and of its frontend on /metrics, so a graceful stop closes it and a
 * worker's exit frees it.  It keeps a copy of the parent's TLS details
 * (ss->tls, session_tls_*()), so rules and logs read what they read on the
 * parent.
 *
 * The same codec finishes a fetch whose client went away
 * (stream_orphan_fetch, for a transaction whose filter asked with
 * txn_keep_fetch): the client's exchange is logged, then its transaction,
 * buffers and server side move to a stream of this kind, as they were,
 * and the response goes on to its end through the response filters.
 */
#include <stdatomic.h>
#include <string.h>
#include "admin/metrics.h"
#include "core/log.h"
#include "net/tls.h"
#include "proxy/body.h"
#include "proxy/filter.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "proxy/xform.h"

static bool dt_recv(struct stream *s)
{
	(void)s;
	return false;
}

/* Output is dropped: nobody reads it. */
static bool dt_send(struct stream *s)
{
	if (!s->res.area || buf_out_len(&s->res) == 0)
		return false;
	if (s->txn)
		s->txn->bytes_out += buf_out_len(&s->res);
	buf_consume(&s->res, buf_out_len(&s->res));
	buf_release(&s->res);
	s->sess->cli_last = s->w->loop.now;
	return true;
}

static enum step_result dt_read_head(struct stream *s)
{
	(void)s;
	return STEP_WAIT;   /* never: the transaction starts at STEP_ROUTE */
}

static bool dt_req_body(struct stream *s)
{
	(void)s;
	return false;
}

static bool dt_req_stalled(struct stream *s)
{
	(void)s;
	return true;
}

static bool dt_send_continue(struct stream *s)
{
	(void)s;
	return true;
}

static enum step_result dt_deliver(struct stream *s)
{
	struct txn *t = s->txn;

	t->status = t->res.status;
	bool xf = xform_deliver(s);
	if (!t->local && !xf)
		res_decode_bare(s, t);
	if (t->local && !local_deliver_body(s)) {
		stream_abort(s, "local response too large");
		return STEP_STOP;
	}
	if (s->rs == RS_DONE && !t->local && body_wants(s, FLT_RES_END)) {
		t->res_ended = true;   /* the end event still comes, from the pump */
		s->rs = RS_BODY;
	}
	t->res_head_sent = true;
	s->step = STEP_DONE;
	return STEP_NEXT;
}

static bool dt_check_end(struct stream *s)
{
	struct txn *t = s->txn;

	if (!t || s->rs != RS_DONE || s->rq != RQ_DONE || (s->res.area && buf_out_len(&s->res)))
		return false;
	bool srv_clean = (!s->req.area || buf_out_len(&s->req) == 0) &&
			 (!s->res.area || buf_in_len(&s->res) == 0) &&
			 !(s->flags & STRM_F_SRV_CLOSE);
	txn_end(s);
	backend_release(s, srv_clean);
	stream_close(s);
	return true;
}

static bool dt_interim(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	struct buf *b = &s->res;
	(void)m;
	/* a 1xx is nobody's business here: dropped from the input */
	memmove(b->area + b->pr, b->area + b->pr + head_len, b->wr - b->pr - head_len);
	b->wr -= head_len;
	return true;
}

static bool dt_upgraded(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	(void)m;
	(void)head_len;
	backend_release(s, false);
	http_reply_error(s, 502, "a detached request cannot be upgraded");
	return false;
}

static bool dt_res_frame(struct stream *s, uint32_t n)
{
	(void)s;
	(void)n;
	return true;
}

static bool dt_res_frame_end(struct stream *s)
{
	s->txn->res_framed_end = true;
	return true;
}

static void dt_close_stream(struct stream *s)
{
	session_close(s->sess);
}

static void dt_on_event(struct session *ss)
{
	(void)ss;   /* no socket */
}

static bool dt_drain(struct session *ss)
{
	/* A fetch whose client left is read by the requests waiting on it:
	 * it ends within the drain time like theirs (at its deadline
	 * session_kill closes it).  A graceful stop does not wait for a
	 * refresh. */
	if (ss->strm && ss->strm->txn && ss->strm->txn->orphan)
		return false;
	session_close(ss);
	return true;
}

static void dt_release(struct session *ss)
{
	if (ss->strm)
		stream_release(ss->strm);
}

static void dt_free(struct session *ss)
{
	if (ss->strm)
		stream_put(ss->strm);
}

static const struct sess_codec sess_codec_detached = {
	.name = "detached",
	.recv = dt_recv,
	.send = dt_send,
	.read_head = dt_read_head,
	.req_body = dt_req_body,
	.req_stalled = dt_req_stalled,
	.send_continue = dt_send_continue,
	.deliver = dt_deliver,
	.check_end = dt_check_end,
	.interim = dt_interim,
	.upgraded = dt_upgraded,
	.res_frame = dt_res_frame,
	.res_frame_end = dt_res_frame_end,
	.close_stream = dt_close_stream,
	.on_event = dt_on_event,
	.drain = dt_drain,
	.release = dt_release,
	.free = dt_free,
	.mux = false,
};

static void no_idle(struct timer *t)
{
	(void)t;   /* a detached session is never idle: it closes with its stream */
}

/* A session with no socket and its stream, on parent's worker, frontend,
 * generation, client address and scheme, with a copy of the TLS details
 * of parent's client connection (SNI, version, client certificate: what
 * rules and logs read through session_tls_*()).  The stream has no
 * transaction yet.  NULL when memory is short. */
static struct stream *dt_open(struct stream *parent)
{
	struct worker *w = parent->w;
	struct session *ss = pool_zget(&w->session_pool);
	struct stream *s = ss ? pool_zget(&w->stream_pool) : NULL;
	if (!s) {
		if (ss)
			pool_put(&w->session_pool, ss);
		return NULL;
	}
	conn_init(&ss->cli, -1, NULL);
	/* The copy keeps the parent's scheme (rules' `ssl`, X-Forwarded-Proto,
	 * a cache key): a TLS transport with no TLS state of its own (the
	 * accessors answer NULL without one), and what the parent's said
	 * copied (ss->tls). */
	if (conn_is_tls(&parent->sess->cli)) {
		ss->cli.xprt = &xprt_tls;
		ss->tls = session_tls_copy(parent->sess);
	}
	ss->w = w;
	ss->fe = parent->fe;
	ss->gen = parent->gen;
	wgen_hold(ss->gen);
	ss->cfg = ss->gen->cfg;
	ss->codec = &sess_codec_detached;
	ss->strm = s;
	ss->src = parent->sess->src;
	ss->flags = SESS_F_SNIFFED | SESS_F_CLOSE;
	timer_init(&ss->idle_timer, no_idle);
	stream_init(s, ss);
	list_add_tail(&w->sessions, &ss->link);
	w->nsessions++;
	atomic_fetch_add_explicit(&g_conns, 1, memory_order_relaxed);
	metrics_conn_open(ss->fe);   /* session_close() counts it closed */
	ss->cli_last = ss->head_start = w->loop.now;
	s->flags |= STRM_F_HTTP;
	return s;
}

struct stream *stream_detached(struct stream *parent, const struct http_msg *req)
{
	struct worker *w = parent->w;

	if (w->stopping || parent->fe->mode != MODE_HTTP)
		return NULL;
	int n = h1_encode_request(req, NULL, 0, w->scratch, buf_size);
	if (n <= 0)
		return NULL;
	struct stream *s = dt_open(parent);
	if (!s)
		return NULL;

	struct txn *t = stream_txn(s);
	if (!t)
		goto fail;
	txn_first_byte(t);
	struct h1_limits lim = { .max_head = (uint32_t)n, .max_target = (uint32_t)n,
				 .max_hdrs = HTTP_MAX_HDRS };
	struct h1_err err = { 0 };
	if (h1_parse_request(&t->req_ps, w->scratch, (uint32_t)n, &t->req, &lim, &err) != H1_DONE ||
	    t->req.body != BODY_NONE || msg_adopt(&t->req, w->scratch, t->req_ps.head_len) < 0)
		goto fail;
	if (parent->txn && parent->txn->real_src_set) {
		t->real_src = parent->txn->real_src;
		t->real_src_set = true;
		t->fwd_trusted = parent->txn->fwd_trusted;
	}
	t->req_bare = true;
	s->rq = RQ_DONE;
	txn_head_decoded(s, t);
	s->step = STEP_ROUTE;   /* the frontend's request filters ran on the parent */
	stream_wake(s);
	return s;
fail:
	if (s->txn)
		s->txn->logged = true;   /* never a request: nothing to log */
	session_close(s->sess);
	return NULL;
}

/* ---- a fetch that outlives its client (txn_keep_fetch) ---- */

/* The client went away, rather than the server or a filter ending it:
 * its codec said so (an HTTP/2 reset, a timeout), or the connection is
 * closed or broken. */
static bool client_left(const struct stream *s)
{
	switch (s->txn->term) {
	case TERM_CLIENT_ABORT:
	case TERM_CLIENT_TIMEOUT:
		return true;
	case TERM_NONE:
		return (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR | CONN_F_HUP)) != 0;
	default:
		return false;
	}
}

bool stream_orphan_fetch(struct stream *o)
{
	struct txn *t = o->txn;

	/* Only a response whose head went to the client and whose body
	 * streams from a live server connection, with nothing of the stream
	 * out elsewhere (a parked filter, a queue, a replay copy). */
	if (!t || !t->keep_fetch || t->orphan || t->logged || t->local || !o->srv || !o->sv ||
	    o->w->stopping || o->step != STEP_DONE || o->rs != RS_BODY || o->rq != RQ_DONE ||
	    o->queued_be || (o->flags & (STRM_F_PARKED | STRM_F_REPLAY)) || t->res_data_wait ||
	    (o->srv->c.flags & (CONN_F_ERROR | CONN_F_RD_EOF)) || !client_left(o))
		return false;
	struct stream *n = dt_open(o);
	if (!n)
		return false;   /* cut, as without txn_keep_fetch */

	/* The client's exchange is over: its line, with its own cause. */
	if (!t->term)
		t->term = TERM_CLIENT_ABORT;
	txn_end(o);
	/* The rest is a request of its own, logged when it ends (its status,
	 * its cause, the bytes read after this point). */
	t->logged = false;
	t->term = TERM_NONE;
	t->bytes_in = t->bytes_out = 0;
	t->orphan = true;

	n->txn = t;
	o->txn = NULL;
	n->req = o->req;
	n->res = o->res;
	memset(&o->req, 0, sizeof(o->req));
	memset(&o->res, 0, sizeof(o->res));
	n->srv = o->srv;
	n->srv_codec = o->srv_codec;
	n->srv_cs = o->srv_cs;
	n->sv = o->sv;
	n->srv_last = o->srv_last;
	n->sent_ns = o->sent_ns;
	n->retries_left = o->retries_left;
	n->rq = o->rq;
	n->rs = o->rs;
	n->step = o->step;
	n->flt_pos = o->flt_pos;
	n->flt_be = o->flt_be;
	n->flags |= o->flags & (STRM_F_SRV_CLOSE | STRM_F_SENT | STRM_F_UNSEEN);
	o->srv = NULL;
	o->srv_cs = NULL;
	o->sv = NULL;
	o->sent_ns = 0;
	o->rq = RQ_DONE;
	o->rs = RS_DONE;
	backend_rebind(n);   /* the server connection's events go to n now */
	stream_wake(n);
	return true;
}
