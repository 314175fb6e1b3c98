/*
 * backend.c - from "this request goes to backend X" to a connected server
 * socket: ask the balancer for a server (lb/), reuse one of its idle
 * keep-alive connections or open a new one, retry elsewhere when a connect
 * fails, and give connections back to the pool when a transaction ends.
 *
 * Idle server connections belong to the worker thread that opened them
 * (one pool per server per thread, like nginx's upstream keepalive), so
 * reuse needs no lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include "core/log.h"
#include "filter/cond.h"
#include "health/health.h"
#include "net/tls.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

#define SRV_IDLE_TIMEOUT_MS 30000
#define SRV_MAX_IDLE 256      /* per server and thread */
/* A non-idempotent request, which is never sent twice (RFC 9110 9.2.2),
 * only takes a pooled connection used this recently: the race with a
 * server closing an idle connection (its keep-alive timeout, seconds) is
 * then unlikely, and otherwise it gets a fresh connection. */
#define SRV_REUSE_UNSAFE_MS 1000

static void srvconn_free(void *arg)
{
	struct srvconn *sc = arg;
	pool_put(&sc->w->srvconn_pool, sc);
}

static void srvconn_destroy(struct srvconn *sc)
{
	struct worker *w = sc->w;
	if (!sc->owner && !list_empty(&sc->idle_link)) {
		list_del(&sc->idle_link);
		sc->srv->nidle--;
	}
	timer_del(&w->loop, &sc->idle_timer);
	conn_close(&w->loop, &sc->c);
	sc->owner = NULL;
	loop_defer(&w->loop, srvconn_free, sc);
}

static void srvconn_idle_expired(struct timer *t)
{
	srvconn_destroy(container_of(t, struct srvconn, idle_timer));
}

/*
 * Connecting to a server is the TCP connect and then, for a `tls` server,
 * the TLS handshake: both fall under `timeout connect`, and a failure of
 * either is a connect failure (retried on another server).  Returns 1 when
 * established, 0 while waiting for the socket, -1 on failure (c.err).
 */
static int srvconn_establish(struct srvconn *sc)
{
	if (sc->c.flags & CONN_F_CONNECTING) {
		if (!(sc->c.flags & CONN_F_SEND_READY))
			return 0;
		if (conn_finish_connect(&sc->c) < 0)
			return -1;
	}
	return conn_handshake(&sc->c);
}

/* Words for a failed connection to a server. */
static const char *srvconn_why(const struct srvconn *sc)
{
	const char *tls = tls_conn_why(&sc->c);
	return tls ? tls : strerror(sc->c.err);
}

/* Access log timings: when the server slot was taken and when the
 * connection was ready (both at once for a pooled connection). */
static void stamp_connect(struct stream *s, bool connected)
{
	struct txn *t = s->txn;
	if (!t)
		return;
	uint64_t now = mono_us();
	if (!t->mono_srv_us)
		t->mono_srv_us = now;
	if (connected)
		t->mono_conn_us = now;
}

static void srvconn_event(struct ev_io *io, uint32_t events)
{
	struct srvconn *sc = container_of(io, struct srvconn, c.io);

	conn_on_events(&sc->c, events);
	if (!sc->owner) {
		/* Idle: the server closed it, or sent bytes nobody asked for. */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			srvconn_destroy(sc);
		return;
	}
	struct stream *s = sc->owner;
	if (!sc->connected) {
		int r = srvconn_establish(sc);
		if (r < 0) {
			backend_srv_failed(s, srvconn_why(sc), false);
			stream_process(s);
			return;
		}
		if (r == 0)
			return;
		sc->connected = true;
		stamp_connect(s, true);
		if (!(s->flags & STRM_F_HTTP))   /* TCP mode: a connect is a success */
			health_observe(sc->srv->cfg, true, NULL);
		s->srv_last = s->w->loop.now;
	}
	stream_process(s);
}

/* Opens or reuses a connection to sv for s.  Returns 0 or -1 (errno). */
static int srv_connect(struct stream *s, struct server_rt *sv)
{
	struct worker *w = s->w;
	struct srvconn *sc;

	if (!list_empty(&sv->idle)) {
		sc = container_of(sv->idle.next, struct srvconn, idle_link);   /* the newest */
		if (s->txn && !msg_meth_idempotent(s->txn->meth) &&
		    w->loop.now - sc->idle_since > SRV_REUSE_UNSAFE_MS)
			goto fresh;
		list_del(&sc->idle_link);
		sv->nidle--;
		timer_del(&w->loop, &sc->idle_timer);
		sc->owner = s;
		sc->reused = true;
		s->srv = sc;
		s->srv_last = w->loop.now;
		stamp_connect(s, true);
		return 0;
	}
fresh:
	sc = pool_zget(&w->srvconn_pool);
	if (!sc) {
		errno = ENOMEM;
		return -1;
	}
	sc->w = w;
	sc->srv = sv;
	LIST_INIT(&sc->idle_link);
	timer_init(&sc->idle_timer, srvconn_idle_expired);
	const struct cfg_addr *a = &sv->cfg->addr;
	if (conn_connect(&w->loop, &sc->c, (const struct sockaddr *)&a->ss, a->len,
			 srvconn_event) < 0) {
		int e = errno;
		pool_put(&w->srvconn_pool, sc);
		errno = e;
		return -1;
	}
	/* TLS to the server: the handshake is part of connecting (see
	 * srvconn_establish), and the connection is pooled like a plain one. */
	if (sv->cfg->tls && tls_conn_connect(&sc->c, sv->cfg->tls, false) < 0) {
		conn_close(&w->loop, &sc->c);
		pool_put(&w->srvconn_pool, sc);
		errno = ENOMEM;
		return -1;
	}
	int r = srvconn_establish(sc);
	if (r < 0) {
		int e = sc->c.err;
		conn_close(&w->loop, &sc->c);
		pool_put(&w->srvconn_pool, sc);
		errno = e;
		return -1;
	}
	sc->owner = s;
	sc->connected = r == 1;
	s->srv = sc;
	s->srv_last = w->loop.now;
	stamp_connect(s, sc->connected);
	return 0;
}

/*
 * Counts a request in flight on sv, in this thread and process-wide.  The
 * process-wide count is what `maxconn` limits, so it is reserved with a
 * compare-and-swap: two threads can never both take the last slot.
 */
static bool server_try_take(struct stream *s, struct server_rt *sv)
{
	struct server_shared *sh = sv->cfg->shared;
	if (sh) {
		uint32_t max = sv->cfg->maxconn > 0 ? (uint32_t)sv->cfg->maxconn : UINT32_MAX;
		uint32_t cur = atomic_load_explicit(&sh->active, memory_order_relaxed);
		do {
			if (cur >= max)
				return false;
		} while (!atomic_compare_exchange_weak_explicit(&sh->active, &cur, cur + 1,
								memory_order_relaxed,
								memory_order_relaxed));
		atomic_fetch_add_explicit(&sh->requests, 1, memory_order_relaxed);
	}
	s->sv = sv;
	sv->active++;
	if (s->txn)
		s->txn->server_name = sv->cfg->name;
	return true;
}

static void queue_kick(struct backend_rt *be);

static void server_put(struct stream *s)
{
	struct server_rt *sv = s->sv;
	sv->active--;
	if (sv->cfg->shared)
		atomic_fetch_sub_explicit(&sv->cfg->shared->active, 1, memory_order_relaxed);
	s->sv = NULL;
	if (sv->be->nqueued)
		queue_kick(sv->be);
}

static void reply_or_close(struct stream *s, int status, const char *why)
{
	if (s->flags & STRM_F_HTTP)
		http_reply_error(s, status, why);
	else
		stream_close(s);
}

/* ---- the queue: requests waiting for a server under its maxconn ---- */

#define QUEUE_MAX 10000        /* per backend and thread */
#define QUEUE_POLL_MS 5        /* slots freed by other threads are seen this late */

static int queue_add(struct stream *s, struct backend_rt *be)
{
	if (be->nqueued >= QUEUE_MAX) {
		log_warn("backend %s: queue full (%u requests)", be->cfg->name, be->nqueued);
		reply_or_close(s, 503, "backend queue full");
		return -1;
	}
	list_add_tail(&be->queue, &s->qlink);
	be->nqueued++;
	s->queued_be = be;
	s->queue_start = s->w->loop.now;
	worker_queue_poll(s->w, QUEUE_POLL_MS);
	return 1;
}

void backend_unqueue(struct stream *s)
{
	if (!s->queued_be)
		return;
	list_del(&s->qlink);
	s->queued_be->nqueued--;
	s->queued_be = NULL;
}

/* Hands free slots to the oldest waiting requests, in order. */
void backend_dequeue(struct backend_rt *be)
{
	while (be->nqueued) {
		struct stream *s = container_of(be->queue.next, struct stream, qlink);
		uint64_t since = s->queue_start;
		backend_unqueue(s);
		int r = backend_assign(s, be, NULL);
		if (r == 1) {
			/* Still no room: back to the head of the line, keeping its
			 * place in time too (timeout queue counts from the first
			 * time it queued). */
			backend_unqueue(s);
			list_add_head(&be->queue, &s->qlink);
			be->nqueued++;
			s->queued_be = be;
			s->queue_start = since;
			return;
		}
		stream_wake(s);
	}
}

static void queue_kick_deferred(void *arg)
{
	struct backend_rt *be = arg;
	be->kick_pending = false;
	backend_dequeue(be);
}

static void queue_kick(struct backend_rt *be)
{
	if (be->kick_pending || !be->nqueued)
		return;
	struct stream *s = container_of(be->queue.next, struct stream, qlink);
	be->kick_pending = true;
	loop_defer(&s->w->loop, queue_kick_deferred, be);
}

/* ---- the retry budget ---- */

/*
 * A token bucket per backend, shared by all threads: every request adds
 * budget% of a token, every retry takes one.  It starts full (RETRY_CAP
 * tokens) so a burst of failures right after a quiet period still
 * retries, but a sustained failure rate above the budget cannot turn into
 * a retry storm.  Milli-tokens keep it in integers.
 */
#define RETRY_CAP_MILLI (100 * 1000)

void backend_budget_deposit(const struct cfg_backend *cb)
{
	struct backend_shared *bs = cb->shared;
	if (!bs || !cb->retry_budget_pct)
		return;
	int64_t add = (int64_t)cb->retry_budget_pct * 10;
	int64_t cur = atomic_load_explicit(&bs->retry_tokens_milli, memory_order_relaxed);
	int64_t next;
	do {
		if (cur >= RETRY_CAP_MILLI)
			return;
		next = cur + add > RETRY_CAP_MILLI ? RETRY_CAP_MILLI : cur + add;
	} while (!atomic_compare_exchange_weak_explicit(&bs->retry_tokens_milli, &cur, next,
							memory_order_relaxed, memory_order_relaxed));
}

static bool budget_withdraw(const struct cfg_backend *cb)
{
	struct backend_shared *bs = cb->shared;
	if (!bs || !cb->retry_budget_pct)
		return true;
	int64_t cur = atomic_load_explicit(&bs->retry_tokens_milli, memory_order_relaxed);
	do {
		if (cur < 1000)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&bs->retry_tokens_milli, &cur, cur - 1000,
							memory_order_relaxed, memory_order_relaxed));
	return true;
}

/*
 * Whether one more attempt is allowed: `retries` left and, if `charge`,
 * the budget.  A refused connect is not charged: it costs the server
 * nothing, and while a dead server is still "up" (before health checks or
 * outlier detection notice) a third of the traffic may need exactly that
 * retry - the budget is there to stop retries that add load.
 */
static bool may_retry(struct stream *s, struct backend_rt *be, bool charge)
{
	if (s->retries_left <= 0)
		return false;
	if (charge && !budget_withdraw(be->cfg)) {
		log_warn("backend %s: retry budget exhausted (%d%% of requests), not retrying",
			 be->cfg->name, be->cfg->retry_budget_pct);
		return false;
	}
	s->retries_left--;
	if (s->txn)
		s->txn->retries++;
	return true;
}

/* ---- assignment ---- */

/*
 * `sticky cookie NAME`: the cookie holds the name of the server that served
 * the client before.  Returns that server if it can take the request now
 * (its slot already reserved), else NULL and the balancer decides.
 */
static struct server_rt *sticky_pick(struct stream *s, struct backend_rt *be,
				     const struct cond_ctx *ctx, bool *had_cookie)
{
	char scratch[64];
	struct slice v;

	*had_cookie = false;
	if (!be->cfg->sticky_fetch || !ctx->msg ||
	    !fetch_value(be->cfg->sticky_fetch, ctx, &v, scratch, sizeof(scratch)))
		return NULL;
	for (int i = 0; i < be->nservers; i++) {
		struct server_rt *sv = &be->servers[i];
		if (!slice_eq(v, (struct slice){ sv->cfg->name, (uint32_t)strlen(sv->cfg->name) }))
			continue;
		*had_cookie = true;
		if (lb_server_usable(sv) && server_try_take(s, sv))
			return sv;
		return NULL;
	}
	return NULL;
}

int backend_assign(struct stream *s, struct backend_rt *be, const struct server_rt *avoid)
{
	struct sockaddr_storage ss;

	for (int attempt = 0;; attempt++) {
		struct cond_ctx ctx;
		stream_cond_ctx(s, &ctx, &ss);
		bool had_cookie = false;
		struct server_rt *sv = NULL;
		if (!avoid && s->txn && be->cfg->sticky_fetch) {
			sv = sticky_pick(s, be, &ctx, &had_cookie);
			/* No valid pin: whoever the balancer picks gets pinned. */
			s->txn->sticky_set = !sv;
			if (sv)
				goto connect;
		}
		sv = lb_pick(be, &ctx, avoid);
		if (!sv) {
			if (lb_backend_any_up(be))
				return queue_add(s, be);
			log_warn("backend %s: no server available", be->cfg->name);
			reply_or_close(s, 503, "no server available");
			return -1;
		}
		if (!server_try_take(s, sv)) {
			/* Another thread took the last slot since the pick. */
			if (attempt < be->nservers) {
				avoid = sv;
				continue;
			}
			return queue_add(s, be);
		}
		if (s->txn && be->cfg->sticky_fetch)
			s->txn->sticky_set = true;
connect:
		(void)had_cookie;
		if (srv_connect(s, sv) == 0)
			return 0;
		int err = errno;
		const char *why = strerror(err);
		if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
			/* Our shortage, not the server's fault: no health
			 * penalty, and no retry that would only fail the same. */
			log_err("server %s/%s: cannot open a connection: %s", be->cfg->name,
				sv->cfg->name, why);
			server_put(s);
			reply_or_close(s, 503, "out of local resources (descriptors or memory)");
			return -1;
		}
		log_warn("server %s/%s: connect failed: %s", be->cfg->name, sv->cfg->name, why);
		health_observe(sv->cfg, false, why);
		if (lb_wants_latency(sv))
			lb_observe(sv, 0, true);
		server_put(s);
		if (!may_retry(s, be, err != ECONNREFUSED)) {
			if (s->txn)
				s->txn->term = TERM_CONNECT_ERROR;
			reply_or_close(s, 502, "cannot connect to server");
			return -1;
		}
		avoid = sv;
	}
}

void backend_release(struct stream *s, bool reusable)
{
	struct srvconn *sc = s->srv;
	struct server_rt *sv = s->sv;

	if (sv)
		server_put(s);
	s->sent_ns = 0;
	if (!sc)
		return;
	s->srv = NULL;
	if (reusable && sc->connected && !s->w->stopping &&
	    !(sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR | CONN_F_HUP)) &&
	    sc->srv->nidle < SRV_MAX_IDLE) {
		sc->owner = NULL;
		sc->idle_since = s->w->loop.now;
		list_add_head(&sc->srv->idle, &sc->idle_link);
		sc->srv->nidle++;
		timer_set(&s->w->loop, &sc->idle_timer, s->w->loop.now + SRV_IDLE_TIMEOUT_MS);
		return;
	}
	sc->owner = NULL;
	srvconn_destroy(sc);
}

/*
 * What can be retried, and where:
 *  - a connect that failed sent nothing: another server (`retries`);
 *  - a request kept whole for replay (STRM_F_REPLAY) that got no response
 *    byte, if its method is idempotent: on a reused keep-alive connection
 *    the server most likely closed it as we wrote (a race, not a server
 *    fault), so it is sent again on a fresh connection without spending a
 *    retry; on a fresh connection it goes to another server, as a retry.
 *  - a non-idempotent request is never sent twice (RFC 9110 9.2.2: "A
 *    proxy MUST NOT automatically retry non-idempotent requests"), even
 *    after that race; srv_connect() keeps the race unlikely for it.
 * Anything else becomes a 502/504, or a cut if the response had started.
 */
void backend_srv_failed(struct stream *s, const char *why, bool timeout)
{
	struct srvconn *sc = s->srv;
	struct server_rt *sv = s->sv;
	struct backend_rt *be = sv ? sv->be : (s->txn ? s->txn->be : s->tcp_be);
	bool never_connected = sc && !sc->connected;
	bool refused = never_connected && sc->c.err == ECONNREFUSED;
	bool reused = sc && sc->reused;
	bool replay = (s->flags & STRM_F_REPLAY) && s->rs == RS_WAIT && !timeout &&
		      (!s->res.area || buf_in_len(&s->res) == 0) &&
		      !(s->txn && s->txn->res_head_sent);
	bool idempotent = s->txn && msg_meth_idempotent(s->txn->meth);
	/* A pooled connection the server closed as we wrote: a race, not a
	 * fault of the server, so no log line, health or ewma penalty. */
	bool race = reused && replay;

	if (!race)
		log_warn("server %s/%s: %s", be ? be->cfg->name : "-", sv ? sv->cfg->name : "-", why);
	else if (!idempotent)
		log_warn("server %s/%s: %s on a reused connection; not sent again, the method "
			 "is not idempotent (%s)", be ? be->cfg->name : "-",
			 sv ? sv->cfg->name : "-", why, s->txn ? s->txn->line : "-");
	/* Outlier detection: the end of a tunnel is no failure either. */
	if (sv && !race && (never_connected || s->rs != RS_TUNNEL))
		health_observe(sv->cfg, false, why);
	/* balance ewma: a failure counts as a slow answer (lb_observe floors it). */
	if (sv && !race && lb_wants_latency(sv) && (s->sent_ns || never_connected))
		lb_observe(sv, s->sent_ns ? lb_mono_ns() - s->sent_ns : 0, true);
	backend_release(s, false);
	s->req_sent = 0;

	if (be && race && idempotent) {
		backend_assign(s, be, NULL);   /* the caller runs stream_process() */
		return;
	}
	if (be && (never_connected || (replay && idempotent)) && may_retry(s, be, !refused)) {
		backend_assign(s, be, sv);
		return;
	}
	s->flags &= (uint16_t)~STRM_F_REPLAY;
	if (!(s->flags & STRM_F_HTTP)) {
		stream_close(s);
		return;
	}
	if (s->txn)
		s->txn->term = timeout ? TERM_SERVER_TIMEOUT :
			       !never_connected ? TERM_SERVER_RESET :
			       strstr(why, "timeout") ? TERM_CONNECT_TIMEOUT : TERM_CONNECT_ERROR;
	if (s->txn && s->txn->res_head_sent) {
		stream_abort(s, why);
		return;
	}
	http_reply_error(s, timeout ? 504 : 502, why);
}

void srvconn_close_idle_all(struct worker *w)
{
	for (int b = 0; b < w->cfg->nbackends; b++) {
		struct backend_rt *be = &w->backends[b];
		for (int i = 0; i < be->nservers; i++) {
			struct list *pos, *tmp;
			list_for_each_safe(pos, tmp, &be->servers[i].idle)
				srvconn_destroy(container_of(pos, struct srvconn, idle_link));
		}
	}
}
