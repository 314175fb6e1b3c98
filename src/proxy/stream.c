/*
 * stream.c - drives one client connection: moves bytes between the client,
 * the buffers and the server, runs the HTTP analysers (http_req.c,
 * http_res.c) in between, ends transactions and enforces timeouts.
 *
 * stream_process() runs the steps below in order until none makes
 * progress.  Each step is small and checks its own preconditions, so the
 * order of events never matters:
 *
 *   cli_recv     client socket  -> req buffer (input)
 *   req_analyse  req input      -> req output   (parse, route, rewrite, frame)
 *   srv send     req output     -> server (its codec: h1_server.c, h2_server.c)
 *   srv recv     server         -> res buffer (input)
 *   res_analyse  res input      -> res output
 *   cli_send     res output     -> client socket
 *   check_end    transaction or tunnel finished? reuse, linger or close
 *
 * Backpressure falls out of it: a step that finds its buffer full (or its
 * peer not writable) does nothing, and nothing reads more until the buffer
 * drains.  Memory per stream is therefore bounded by two buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "filter/cond.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/body.h"
#include "proxy/stream.h"
#include "proxy/worker.h"


bool stream_closed(const struct stream *s)
{
	return s->flags & STRM_F_CLOSED;
}

uint32_t stream_head_room(const struct stream *s)
{
	/* While a head is being received, keep tune.maxrewrite bytes free so
	 * the forwarded head (with X-Forwarded-* added) fits in place. */
	return buf_size - s->w->cfg->global.maxrewrite;
}

/* The server has started answering: the request can no longer be replayed. */
void stream_srv_answered(struct stream *s)
{
	if (!(s->flags & STRM_F_REPLAY))
		return;
	s->flags &= (uint16_t)~STRM_F_REPLAY;
	stream_replay_drop(s);
	buf_consume(&s->req, s->req_sent);
	buf_release(&s->req);
	s->req_sent = 0;
}

/* Past this, a request kept for replay stays in its buffer: the copy
 * would cost as much as the buffer's touched pages. */
#define REPLAY_STASH_MAX 2048

void stream_replay_stash(struct stream *s)
{
	struct buf *b = &s->req;
	uint32_t len = b->area ? buf_out_len(b) : 0;

	if (!(s->flags & STRM_F_REPLAY) || s->replay || s->rq != RQ_DONE || !len ||
	    s->req_sent != len || buf_in_len(b) || len > REPLAY_STASH_MAX)
		return;
	char *p = malloc(len);
	if (!p)
		return;   /* it stays in the buffer */
	memcpy(p, buf_out(b), len);
	s->replay = p;
	s->replay_len = len;
	s->req_sent = 0;
	buf_release_force(b);
}

bool stream_replay_restore(struct stream *s)
{
	if (!s->replay)
		return true;
	bool ok = buf_alloc(&s->req) && buf_insert_out(&s->req, true, s->replay, s->replay_len);
	stream_replay_drop(s);
	return ok;
}

void stream_replay_drop(struct stream *s)
{
	free(s->replay);
	s->replay = NULL;
	s->replay_len = 0;
}

/* ---- analysers ---- */

/* The chunk decoder's callbacks during one buf_chunk_forward(). */
struct chunk_ev {
	struct stream *s;
	bool res;
	struct slice data;   /* the data run the decoder stopped after, if any */
};

static int chunk_on_data(void *arg, const char *p, size_t len)
{
	struct chunk_ev *ev = arg;

	/* The filters see it once the decoder is out of the buffer (a filter
	 * may answer, and a reply releases the buffer). */
	ev->data = (struct slice){ p, (uint32_t)len };
	return 1;
}

static int chunk_on_trailer(void *arg, struct slice name, struct slice value)
{
	struct chunk_ev *ev = arg;
	return body_trailer(ev->s, ev->res, name, value);
}

int buf_chunk_forward(struct stream *s, bool res, struct h1_chunk *c, struct h1_err *err,
		      bool *progress, struct slice *data)
{
	struct buf *b = res ? &s->res : &s->req;
	struct chunk_ev ev = { s, res, { NULL, 0 } };
	uint32_t in = buf_in_len(b);
	size_t consumed = 0, produced = 0;

	c->arg = &ev;
	c->on_data = body_wants(s, res ? FLT_RES_DATA : FLT_REQ_DATA) ||
			     (res && (s->txn->res_xf || s->txn->res_reframe)) ?
			     chunk_on_data : NULL;
	c->on_trailer = body_wants(s, res ? FLT_RES_END : FLT_REQ_END) ||
			(res ? s->txn->res_bare : s->txn->req_bare) ? chunk_on_trailer : NULL;
	int r = h1_chunk_step(c, buf_in(b), in, &consumed, &produced, err);
	c->arg = NULL;

	*progress = false;
	*data = ev.data;
	if (r == H1_ERROR)
		return r;
	/* Only the unconsumed tail moves: a data run the decoder reported
	 * lies in the output, where it stays. */
	if (consumed != produced) {
		memmove(b->area + b->pr + produced, b->area + b->pr + consumed, in - consumed);
		b->wr -= (uint32_t)(consumed - produced);
	}
	buf_advance(b, (uint32_t)produced);
	*progress = consumed > 0 || r == H1_DONE;
	return r;
}

static bool tunnel_analyse(struct buf *b)
{
	if (!b->area || buf_in_len(b) == 0)
		return false;
	b->pr = b->wr;
	return true;
}

/* The request direction: a tunnel relays, HTTP runs the transaction's
 * steps (steps.c) and the request body pump. */
static bool req_analyse(struct stream *s)
{
	if (s->rq == RQ_TUNNEL)
		return tunnel_analyse(&s->req);
	if (!(s->flags & STRM_F_HTTP) || (s->sess->flags & SESS_F_LINGER))
		return false;
	bool progress = stream_run_steps(s);
	if (s->flags & STRM_F_CLOSED)
		return true;
	return http_req_pump(s) | progress;
}

static bool res_analyse(struct stream *s)
{
	if (s->rs == RS_TUNNEL)
		return tunnel_analyse(&s->res);
	if (!(s->flags & STRM_F_HTTP) || s->rs == RS_NONE || s->rs == RS_DONE)
		return false;
	bool progress = false;
	if (s->step != STEP_DONE)
		progress = stream_run_steps(s);
	if (s->flags & STRM_F_CLOSED)
		return true;
	return http_res_pump(s) | progress;
}

/* ---- ends ---- */

/* The transaction is over (delivered, refused or cut): the debug line
 * and the filters' end phase (access log), once. */
void txn_end(struct stream *s)
{
	struct txn *t = s->txn;
	if (!t || !t->mono_start_us || t->logged)
		return;
	t->logged = true;
	filters_end(s);
	if (log_level < LOG_DEBUG || !t->req_head_len)
		return;
	char src[INET6_ADDRSTRLEN];
	log_debug("%s: %s \"%s\" %u %s/%s %llums", s->fe->name, stream_src_text(s, src, sizeof(src)),
		  txn_line(t), t->status, t->be ? t->be->cfg->name : "-",
		  s->sv ? s->sv->cfg->name : "-",
		  (unsigned long long)(s->w->loop.now - t->start_ms));
}

/* ---- timers ---- */

static uint64_t tunnel_timeout(const struct stream *s)
{
	const struct backend_rt *be = s->txn ? s->txn->be : s->tcp_be;
	if (s->fe->timeout_tunnel_ms)
		return s->fe->timeout_tunnel_ms;
	return be ? be->cfg->timeout_tunnel_ms : 3600000;
}

static const struct cfg_backend *cur_backend(const struct stream *s)
{
	if (s->txn && s->txn->be)
		return s->txn->be->cfg;
	return s->tcp_be ? s->tcp_be->cfg : NULL;
}

/*
 * The request body's clock, for `timeout body` and `min_body_rate`: it
 * runs from the end of the request head while the proxy waits on the
 * client, and stands still while the proxy itself holds the body back, so
 * a slow server never makes a fast client "slow": the client codec takes
 * no more bytes (buffer full, window closed) or has them all, a filter
 * judges the whole body, the head waits for a server (queue, connect), or
 * the client waits for our 100 Continue.  A body read and dropped after a
 * local reply still counts: a client dragging it out is cut.  Brought up
 * to date after every run of the stream (stream_arm_timer), where those
 * conditions change.
 */
static bool body_clock_on(const struct stream *s)
{
	return s->txn && s->txn->body_start && (s->fe->timeout_body_ms || s->fe->min_body_rate);
}

static void body_clock(struct stream *s)
{
	struct txn *t = s->txn;
	uint64_t now = s->w->loop.now;

	if (!body_clock_on(s))
		return;
	bool paused = s->rq != RQ_BODY || t->req_ended ||
		      (t->expect_continue && !t->continue_sent) || (t->assigned && t->head_pending) ||
		      txn_req_spilling(t) || s->sess->codec->req_stalled(s);
	if (paused && !t->body_paused) {
		t->body_paused = true;
		t->body_pause_since = now;
	} else if (!paused && t->body_paused) {
		t->body_paused = false;
		t->body_paused_ms += now - t->body_pause_since;
	}
}

/* What a stream can be waiting for, each with its own timeout. */
enum wait_kind {
	WAIT_LINGER,    /* discarding input before a close */
	WAIT_CONNECT,   /* timeout connect */
	WAIT_QUEUE,     /* timeout queue */
	WAIT_TUNNEL,    /* timeout tunnel, activity either way */
	WAIT_IDLE,      /* timeout client, between requests */
	WAIT_HEADER,    /* timeout header, whole request head */
	WAIT_CLIENT,    /* timeout client, body upload or response download */
	WAIT_SERVER,    /* timeout server */
	WAIT_UNTIL,     /* a filter's stream_wait_until() */
	WAIT_BODY,      /* timeout body, the request body's clock */
	WAIT_BODY_RATE, /* min_body_rate, the same clock */
};

/* The stream's last client progress: its session's, or its own when the
 * session carries several (HTTP/2). */
static inline uint64_t cli_last(const struct stream *s)
{
	return s->sess->codec->mux ? s->cli_last : s->sess->cli_last;
}

/* The earliest deadline among what the stream waits for; 0 for none. */
static uint64_t stream_deadline(const struct stream *s, enum wait_kind *what)
{
	const struct cfg_frontend *fe = s->fe;
	const struct cfg_backend *be = cur_backend(s);
	uint64_t d = 0;

#define CONSIDER(when, why) do { uint64_t _w = (when); \
	if (!d || _w < d) { d = _w; *what = (why); } } while (0)

	if (s->sess->flags & SESS_F_LINGER) {
		CONSIDER(s->sess->linger_start + LINGER_MS, WAIT_LINGER);
		return d;
	}
	if (s->wait_until)
		CONSIDER(s->wait_until, WAIT_UNTIL);
	if (s->srv && !s->srv->connected && be)
		CONSIDER(s->srv_last + be->timeout_connect_ms, WAIT_CONNECT);
	if (s->queued_be)
		CONSIDER(s->queue_start + s->queued_be->cfg->timeout_queue_ms, WAIT_QUEUE);
	if (s->rq == RQ_TUNNEL) {
		uint64_t last = cli_last(s) > s->srv_last ? cli_last(s) : s->srv_last;
		CONSIDER(last + tunnel_timeout(s), WAIT_TUNNEL);
		return d;
	}
	switch (s->rq) {
	case RQ_IDLE:
		CONSIDER(cli_last(s) + fe->timeout_client_ms, WAIT_IDLE);
		break;
	case RQ_HEAD:
		CONSIDER((s->sess->codec->mux ? s->cli_last : s->sess->head_start) +
			 fe->timeout_header_ms, WAIT_HEADER);
		break;
	case RQ_BODY:
		CONSIDER(cli_last(s) + fe->timeout_client_ms, WAIT_CLIENT);
		if (body_clock_on(s) && !s->txn->body_paused) {
			const struct txn *t = s->txn;
			uint64_t base = t->body_start + t->body_paused_ms;
			if (fe->timeout_body_ms)
				CONSIDER(base + fe->timeout_body_ms, WAIT_BODY);
			if (fe->min_body_rate) {
				/* the clock time by which what came is too little */
				uint64_t due = t->body_rcvd * 1000 / fe->min_body_rate;
				CONSIDER(base + (due > fe->min_body_grace_ms ? due : fe->min_body_grace_ms),
					 WAIT_BODY_RATE);
			}
		}
		break;
	default:
		break;
	}
	if ((s->res.area && buf_out_len(&s->res) > 0) || (s->txn && s->txn->local_ext))
		CONSIDER(cli_last(s) + fe->timeout_client_ms, WAIT_CLIENT);
	if (s->srv && s->srv->connected && be && (s->rs == RS_WAIT || s->rs == RS_BODY) &&
	    !(s->txn && s->txn->res_ended)) {   /* (the server's part is over) */
		/* timeout server is silence, not duration: a stream moving data
		 * never meets it; once streaming, stream_idle may allow more */
		uint32_t idle = s->rs == RS_BODY && be->timeout_stream_idle_ms ?
					be->timeout_stream_idle_ms : be->timeout_server_ms;
		CONSIDER(s->srv_last + idle, WAIT_SERVER);
	}
#undef CONSIDER
	return d;
}

static void stream_arm_timer(struct stream *s)
{
	enum wait_kind what;
	body_clock(s);
	uint64_t d = stream_deadline(s, &what);
	if (d)
		timer_set(&s->w->loop, &s->timer, d);
	else
		timer_del(&s->w->loop, &s->timer);
}

static void stream_timeout(struct timer *tm)
{
	struct stream *s = container_of(tm, struct stream, timer);
	enum wait_kind what = WAIT_IDLE;
	body_clock(s);
	uint64_t d = stream_deadline(s, &what);

	if (!d || d > s->w->loop.now) {
		stream_arm_timer(s);   /* activity moved the deadline */
		return;
	}
	switch (what) {
	case WAIT_UNTIL:
		stream_wake(s);   /* drops wait_until */
		return;
	case WAIT_LINGER:
	case WAIT_IDLE:
	case WAIT_TUNNEL:
		stream_close(s);
		return;
	case WAIT_HEADER:
		/* Nothing received: just close; a partial head gets a 408. */
		if (!s->req.area || buf_in_len(&s->req) == 0) {
			stream_close(s);
			return;
		}
		if (s->txn)
			s->txn->term = TERM_CLIENT_TIMEOUT;
		http_reply_error(s, 408, "timeout header: request head not received in time");
		break;
	case WAIT_QUEUE:
		backend_unqueue(s);
		if (!(s->flags & STRM_F_HTTP)) {
			stream_close(s);
			return;
		}
		if (s->txn)
			s->txn->term = TERM_QUEUE_TIMEOUT;
		http_reply_error(s, 503, "timeout queue: no server slot freed in time");
		break;
	case WAIT_CONNECT:
		backend_srv_failed(s, (s->srv->c.flags & CONN_F_CONNECTING) ? "connect timeout" :
				   "connect timeout (in the TLS handshake)", false);
		break;
	case WAIT_SERVER:
		backend_srv_failed(s, "server timeout", true);
		break;
	case WAIT_BODY:
	case WAIT_BODY_RATE:
		s->txn->term = what == WAIT_BODY ? TERM_BODY_TIMEOUT : TERM_SLOW_BODY;
		if (!s->txn->res_head_sent)
			http_reply_error(s, 408, what == WAIT_BODY ?
				"timeout body: request body not received in time" :
				"min_body_rate: request body too slow");
		else
			stream_abort(s, what == WAIT_BODY ? "timeout body" : "min_body_rate");
		break;
	case WAIT_CLIENT:
		if (s->txn)
			s->txn->term = TERM_CLIENT_TIMEOUT;
		if (s->rq == RQ_BODY && s->txn && !s->txn->res_head_sent)
			http_reply_error(s, 408, "timeout client: request body not received in time");
		else
			stream_abort(s, "timeout client");
		break;
	}
	stream_process(s);
}

/* ---- the driver ---- */

/* Between two requests of a keep-alive connection a stream holds nothing
 * of its own: it can go back to the pool (the session keeps the client).
 * Not while a deferred wake still points at it. */
static bool stream_idle(const struct stream *s)
{
	return (s->flags & (STRM_F_HTTP | STRM_F_WAKE)) == STRM_F_HTTP && s->rq == RQ_IDLE &&
	       !s->txn && !s->srv && !s->sv && !s->queued_be && !s->req.area && !s->res.area &&
	       !(s->sess->flags & (SESS_F_CLOSE | SESS_F_LINGER));
}

void stream_process(struct stream *s)
{
	bool progress;

	do {
		if (stream_closed(s))
			return;
		progress = s->sess->codec->recv(s);
		if (stream_closed(s))
			return;
		progress |= req_analyse(s);
		if (stream_closed(s))
			return;
		progress |= s->srv && s->srv_codec->send(s);
		if (stream_closed(s))
			return;
		progress |= s->srv && s->srv_codec->recv(s);
		if (stream_closed(s))
			return;
		progress |= res_analyse(s);
		if (stream_closed(s))
			return;
		progress |= s->sess->codec->send(s);
		if (stream_closed(s))
			return;
		progress |= s->sess->codec->check_end(s);
	} while (progress);
	if (stream_closed(s))
		return;
	if (stream_idle(s)) {
		timer_del(&s->w->loop, &s->timer);
		session_stream_idle(s->sess);   /* frees s */
		return;
	}
	stream_arm_timer(s);
}

/* ---- life cycle ---- */

void stream_close(struct stream *s)
{
	/* HTTP/1: with the connection; HTTP/2: the stream alone. */
	s->sess->codec->close_stream(s);
}

/* What the stream holds goes back (session_close() calls this; the
 * struct itself is freed with the session, deferred). */
void stream_release(struct stream *s)
{
	struct worker *w = s->w;

	if (stream_closed(s))
		return;
	s->flags |= STRM_F_CLOSED;
	timer_del(&w->loop, &s->timer);
	stream_orphan_fetch(s);   /* a fetch kept going (txn_keep_fetch): no txn or server left */
	backend_unqueue(s);
	if (s->srv)
		backend_release(s, false);
	buf_release_force(&s->req);
	buf_release_force(&s->res);
	stream_replay_drop(s);
	if (s->txn && !s->txn->term && !s->txn->logged)
		s->txn->term = s->w->stopping ? TERM_SHUTDOWN : TERM_CLIENT_ABORT;
	txn_end(s);
	txn_free(w, s->txn);
	s->txn = NULL;
}

static void stream_wake_deferred(void *arg)
{
	struct stream *s = arg;
	s->flags &= (uint16_t)~STRM_F_WAKE;
	if (!(s->flags & STRM_F_CLOSED))
		stream_process(s);
}

void stream_wake(struct stream *s)
{
	s->flags &= (uint16_t)~STRM_F_PARKED;
	s->wait_until = 0;
	if (s->flags & (STRM_F_WAKE | STRM_F_CLOSED))
		return;
	if (loop_defer(&s->w->loop, stream_wake_deferred, s) == 0)
		s->flags |= STRM_F_WAKE;
}

void stream_wait_until(struct stream *s, uint64_t deadline_ms)
{
	s->wait_until = deadline_ms ? deadline_ms : 1;
	stream_arm_timer(s);   /* stream_process() re-arms it too, when it runs */
}

void stream_cond_ctx(struct stream *s, struct cond_ctx *ctx, struct sockaddr_storage *ss)
{
	stream_src(s, ss);
	struct txn *t = s->txn;
	*ctx = (struct cond_ctx){ .msg = txn_req_msg(s), .src = ss,
				  .ssl_client_dn = session_tls_client_dn(s->sess),
				  .res = t && s->step >= STEP_RES_RULES ? &t->res : NULL,
				  .tls = conn_is_tls(&s->sess->cli),
				  .req_id = t ? (struct slice){ t->req_id, t->req_id_len } :
						(struct slice){ NULL, 0 },
				  .peer = session_peer(s->sess),
				  .proxy_authority = session_pp_authority(s->sess),
				  .var = flt_txn_var, .var_owner = t,
				  .two_ways = t ? &t->path_two_ways : NULL };
}

static struct backend_rt *tcp_route(struct stream *s)
{
	const struct cfg_frontend *fe = s->fe;
	struct sockaddr_storage ss;
	stream_src(s, &ss);
	struct cond_ctx ctx = { .msg = NULL, .src = &ss, .peer = session_peer(s->sess),
				.proxy_authority = session_pp_authority(s->sess) };
	for (int i = 0; i < fe->nrules; i++)
		if (cond_eval(fe->rules[i].cond, &ctx))
			return &s->gen->backends[fe->rules[i].backend->index];
	return fe->default_backend ? &s->gen->backends[fe->default_backend->index] : NULL;
}

void stream_init(struct stream *s, struct session *ss)
{
	s->sess = ss;
	s->w = ss->w;
	s->fe = ss->fe;
	s->gen = ss->gen;
	wgen_hold(s->gen);
	timer_init(&s->timer, stream_timeout);
	s->srv_last = s->w->loop.now;
}

/* ---- waking from another thread (stream.h) ---- */

struct stream_waker {
	_Atomic uint32_t refs;
	atomic_bool posted;         /* an MB_WAKE is on its way */
	struct worker *w;           /* the owner: whose mailbox */
	struct stream *s;           /* owner thread only; NULL once detached */
};

struct stream_waker *stream_waker(struct stream *s)
{
	struct stream_waker *k = s->waker;
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return NULL;
		atomic_init(&k->refs, 1);   /* the stream's */
		k->w = s->w;
		k->s = s;
		s->waker = k;
	}
	atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
	return k;
}

void stream_waker_put(struct stream_waker *k)
{
	if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
		free(k);
}

void stream_waker_post(struct stream_waker *k)
{
	if (!k || atomic_exchange(&k->posted, true))
		return;   /* one message on its way wakes for every post before it */
	atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
	if (!mailbox_post(&k->w->mb, (struct mb_msg){ .kind = MB_WAKE, .ptr = k })) {
		atomic_store(&k->posted, false);
		stream_waker_put(k);
	}
}

void stream_waker_run(struct stream_waker *k)
{
	/* cleared first: a post from now on sends another message */
	atomic_store(&k->posted, false);
	if (k->s)
		stream_wake(k->s);
	stream_waker_put(k);
}

void stream_put(struct stream *s)
{
	struct worker *w = s->w;
	struct wgen *g = s->gen;

	if (s->waker) {
		s->waker->s = NULL;
		stream_waker_put(s->waker);
		s->waker = NULL;
	}
	s->gen = NULL;
	pool_put(&w->stream_pool, s);
	wgen_drop(w, g);
}

void stream_follow(struct stream *s)
{
	struct session *ss = s->sess;

	session_follow(ss);
	if (s->gen == ss->gen)
		return;
	struct wgen *old = s->gen;
	s->gen = ss->gen;
	wgen_hold(s->gen);
	s->fe = ss->fe;
	wgen_drop(s->w, old);
}

void stream_resume(struct stream *s)
{
	/* A keep-alive connection's next request: its head is timed from its
	 * first byte (h1_recv), the connection waits under timeout client. */
	s->flags |= STRM_F_HTTP;
	s->rq = RQ_IDLE;
}

void stream_start(struct stream *s)
{
	const struct cfg_frontend *fe = s->fe;

	if (fe->mode == MODE_HTTP) {
		s->flags |= STRM_F_HTTP;
		/* The first request's head is timed from the accept, so a client
		 * that connects and sends nothing meets `timeout header`. */
		s->rq = RQ_HEAD;
	} else {
		s->rq = RQ_TUNNEL;
		s->rs = RS_TUNNEL;
		s->tcp_be = tcp_route(s);
		if (!s->tcp_be) {
			log_warn("%s: no backend for TCP connection", fe->name);
			stream_close(s);
			return;
		}
		s->retries_left = (int8_t)s->tcp_be->cfg->retries;
		backend_budget_deposit(s->tcp_be);
		if (backend_assign(s, s->tcp_be, NULL) < 0)
			return;
	}
	stream_process(s);
}
