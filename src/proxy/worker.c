/*
 * worker.c - worker threads: each runs its own event loop with its own
 * SO_REUSEPORT listeners, accepts connections and hands them to streams.
 * Other threads reach a worker through its mailbox (mailbox.h): a stop
 * request, a server slot freed for requests it has queued, or a reload
 * (a new generation and listeners: worker_swap, "Generations" below).
 * Graceful stop: the main thread posts MB_STOP; the worker closes its
 * listeners (new connections are refused), closes idle
 * connections, lets the others finish their transaction, and exits when
 * none is left or when `timeout drain` runs out.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "control/upgrade.h"
#include "core/buf.h"
#include "core/log.h"
#include "net/listener.h"
#include "net/sockopt.h"
#include "proxy/stream.h"
#include "log/access_log.h"
#include "net/uring.h"
#include "proxy/filter.h"
#include "proxy/worker.h"

atomic_int g_conns;

#define ACCEPT_BURST 64
#define ACCEPT_PAUSE_MS 100     /* out of descriptors: how long to stop accepting */
#define REFUSED_LOG_MS 1000     /* at most one line a second for each of the two */

/* Rate limit of a repeated log line: true (and *last moved to now) at most
 * once per REFUSED_LOG_MS. */
static bool log_due(uint64_t *last, uint64_t now)
{
	if (*last && now - *last < REFUSED_LOG_MS)
		return false;
	*last = now;
	return true;
}

static void listeners_watch(struct worker *w, uint32_t events)
{
	for (int i = 0; i < w->nlisteners; i++)
		if (w->listeners[i].io.fd >= 0)
			loop_mod_events(&w->loop, &w->listeners[i].io, events);
}

static void accept_resume(struct timer *t)
{
	struct worker *w = container_of(t, struct worker, accept_timer);

	w->accept_paused = false;
	if (!w->stopping)
		listeners_watch(w, EPOLLIN);
}

/*
 * accept() failed for want of a descriptor or memory (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM).  The listener stays readable, so retrying at once
 * would spin the core and flood the log; like nginx and HAProxy, stop
 * watching the listeners for a moment (clients wait in the backlog) and
 * say so at most once a second.  Connections closing meanwhile free
 * descriptors.
 */
static void accept_pause(struct worker *w, const struct listener_rt *l, int err)
{
	if (w->accept_paused)
		return;
	if (log_due(&w->pause_logged_ms, w->loop.now))
		log_err("%s: accept: %s (%d connections open); pausing accepts for %d ms",
			l->fe->name, strerror(err),
			atomic_load_explicit(&g_conns, memory_order_relaxed), ACCEPT_PAUSE_MS);
	w->accept_paused = true;
	listeners_watch(w, 0);
	timer_set(&w->loop, &w->accept_timer, w->loop.now + ACCEPT_PAUSE_MS);
}

/* Over max_connections: the connection is closed at once, and the log
 * says so at most once a second with the count. */
static void refuse_over_limit(struct worker *w, const struct listener_rt *l, int fd, int max)
{
	close(fd);
	w->refused++;
	if (!log_due(&w->refused_logged_ms, w->loop.now))
		return;
	log_warn("%s: max_connections (%d) reached, refused %u connection%s", l->fe->name, max,
		 w->refused, w->refused == 1 ? "" : "s");
	w->refused = 0;
}

static void listener_event(struct ev_io *io, uint32_t events)
{
	struct listener_rt *l = container_of(io, struct listener_rt, io);
	struct worker *w = l->w;
	int max = w->cfg->global.max_connections;

	for (int i = 0; i < ACCEPT_BURST && !w->stopping; i++) {
		struct sockaddr_storage peer;
		socklen_t plen;
		int fd = listener_accept(io->fd, &peer, &plen);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (errno == ECONNABORTED || errno == EPERM || errno == EPROTO)
				continue;   /* that client's problem, not ours */
			accept_pause(w, l, errno);
			return;
		}
		if (atomic_fetch_add_explicit(&g_conns, 1, memory_order_relaxed) >= max) {
			atomic_fetch_sub_explicit(&g_conns, 1, memory_order_relaxed);
			refuse_over_limit(w, l, fd, max);
			continue;
		}
		if (peer.ss_family == AF_UNIX) {
			/* A unix@ client has no IP: it is 0.0.0.0 port 0 for
			 * `src`, X-Forwarded-For and the logs (README). */
			memset(&peer, 0, sizeof(peer));
			peer.ss_family = AF_INET;
		}
		session_accept(w, l->fe, l->addr, fd, &peer);
	}
}

static void close_listeners(struct worker *w)
{
	for (int i = 0; i < w->nlisteners; i++) {
		struct listener_rt *l = &w->listeners[i];
		if (l->io.fd >= 0) {
			loop_del(&w->loop, &l->io);
			close(l->io.fd);
			l->io.fd = -1;
		}
	}
}

static void drain_expired(struct timer *t)
{
	struct worker *w = container_of(t, struct worker, drain_timer);
	if (w->nsessions)
		log_warn("worker %d: timeout drain reached, closing %u connections", w->id,
			 w->nsessions);
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->sessions)
		session_kill(container_of(pos, struct session, link));
	w->loop.quit = true;
}

/* soft (the old process of a binary upgrade): idle HTTP/1 keep-alive
 * connections are not closed under a client that may be sending its next
 * request right now; that request is answered with `Connection: close`
 * (the client reconnects, to the new process), or the connection goes at
 * its timeout client or the drain deadline.  HTTP/2 gets its GOAWAY. */
static void worker_begin_stop(struct worker *w, bool soft)
{
	if (w->stopping)
		return;
	w->stopping = true;
	close_listeners(w);
	srvconn_close_idle_all(w);
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->sessions) {
		struct session *ss = container_of(pos, struct session, link);
		if (soft && ss->codec == &sess_codec_h1 && !(ss->flags & SESS_F_LINGER))
			ss->flags |= SESS_F_CLOSE;
		else
			session_drain(ss);
	}
	timer_init(&w->drain_timer, drain_expired);
	timer_set(&w->loop, &w->drain_timer, w->loop.now + w->cfg->global.timeout_drain_ms);
	if (w->nsessions == 0)
		w->loop.quit = true;
}

/* ---- generations ---- */

struct wgen *wgen_new(struct cfg *c)
{
	struct wgen *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->backends = calloc((size_t)(c->nbackends ? c->nbackends : 1), sizeof(*g->backends));
	if (!g->backends) {
		free(g);
		return NULL;
	}
	g->cfg = cfg_get(c);
	LIST_INIT(&g->link);
	for (int b = 0; b < c->nbackends; b++)
		if (lb_backend_init(&g->backends[b], c->backends[b]) < 0) {
			wgen_discard(g);
			return NULL;
		}
	return g;
}

static void wgen_free(struct wgen *g)
{
	if (g->backends)
		for (int b = 0; b < g->cfg->nbackends; b++)
			lb_backend_free(&g->backends[b]);
	free(g->backends);
	free(g);
}

void wgen_discard(struct wgen *g)
{
	if (!g)
		return;
	struct cfg *c = g->cfg;
	wgen_free(g);
	cfg_put(c);
}

/* Every idle server connection of g (HTTP/1 pools, HTTP/2 connections
 * without streams) is closed. */
static void wgen_close_idle(struct wgen *g)
{
	for (int b = 0; b < g->cfg->nbackends; b++) {
		struct backend_rt *be = &g->backends[b];
		for (int i = 0; i < be->nservers; i++) {
			struct list *pos, *tmp;
			list_for_each_safe(pos, tmp, &be->servers[i].idle)
				srvconn_destroy(container_of(pos, struct srvconn, idle_link));
			h2srv_close_idle(&be->servers[i]);
		}
	}
}

static void wgen_free_deferred(void *arg)
{
	struct wgen *g = arg;
	struct cfg *c = g->cfg;
	wgen_free(g);
	cfg_put(c);
}

void wgen_hold(struct wgen *g)
{
	if (g)
		g->users++;
}

void wgen_drop(struct worker *w, struct wgen *g)
{
	if (!g || --g->users > 0)
		return;
	/* Nobody runs under g any more and it is not current: its idle
	 * connections go now, the struct after this batch (their own deferred
	 * frees still name its servers). */
	list_del(&g->link);
	wgen_close_idle(g);
	loop_defer(&w->loop, wgen_free_deferred, g);
}

/* Whether an idle connection to old may serve nw: same address and the
 * same way of talking to it. */
static bool server_same(const struct cfg_server *a, const struct cfg_server *b)
{
	if (a->addr.len != b->addr.len || memcmp(&a->addr.ss, &b->addr.ss, a->addr.len) != 0)
		return false;
	if (a->proto != b->proto || a->send_proxy != b->send_proxy ||
	    a->source.kind != b->source.kind || (a->tls != NULL) != (b->tls != NULL))
		return false;
	if (a->tls) {   /* the TLS session was checked against the old settings */
		const struct cfg_tls_server *x = a->tls, *y = b->tls;
		if (x->verify != y->verify || !!x->sni != !!y->sni ||
		    (x->sni && strcmp(x->sni, y->sni) != 0) || !!x->ca != !!y->ca ||
		    (x->ca && strcmp(x->ca, y->ca) != 0) || !!x->cert != !!y->cert ||
		    (x->cert && strcmp(x->cert, y->cert) != 0))
			return false;
	}
	return true;
}

/* The idle HTTP/1 connections of `from` move to the servers of `to` with
 * the same backend and server names (and the same address and settings):
 * a reload does not cost the pools. */
static void wgen_move_idle(struct wgen *from, struct wgen *to)
{
	for (int b = 0; b < from->cfg->nbackends; b++) {
		struct backend_rt *ob = &from->backends[b];
		const struct cfg_backend *nbc = cfg_find_backend(to->cfg, ob->cfg->name);
		if (!nbc)
			continue;
		struct backend_rt *nb = &to->backends[nbc->index];
		for (int i = 0; i < ob->nservers; i++) {
			struct server_rt *os = &ob->servers[i];
			struct server_rt *ns = NULL;
			for (int j = 0; j < nb->nservers && !ns; j++)
				if (strcmp(nb->servers[j].cfg->name, os->cfg->name) == 0)
					ns = &nb->servers[j];
			if (!ns || !server_same(os->cfg, ns->cfg))
				continue;
			while (!list_empty(&os->idle)) {
				struct srvconn *sc = container_of(os->idle.prev, struct srvconn,
								  idle_link);
				list_del(&sc->idle_link);
				os->nidle--;
				sc->srv = ns;
				list_add_head(&ns->idle, &sc->idle_link);
				ns->nidle++;
			}
		}
	}
}

static bool addr_same(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static bool fd_in(int fd, const struct listener_rt *ls, int n)
{
	for (int i = 0; i < n; i++)
		if (ls[i].io.fd == fd)
			return true;
	return false;
}

/* Listeners of w that a reload would keep or give: the worker's own. */
static int listeners_push(struct listener_rt **ls, int *n, int *cap, struct worker *w,
			  const struct cfg_frontend *fe, const struct cfg_addr *a, int fd)
{
	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 8;
		struct listener_rt *v = realloc(*ls, (size_t)ncap * sizeof(*v));
		if (!v)
			return -1;
		*ls = v;
		*cap = ncap;
	}
	struct listener_rt *l = &(*ls)[(*n)++];
	memset(l, 0, sizeof(*l));
	l->w = w;
	l->fe = fe;
	l->addr = a;
	l->io.cb = listener_event;
	l->io.fd = fd;
	return 0;
}

void worker_listeners_free(struct worker *w, struct listener_rt *ls, int n)
{
	for (int i = 0; i < n; i++)
		if (ls[i].io.fd >= 0 && !fd_in(ls[i].io.fd, w->listeners, w->nlisteners))
			close(ls[i].io.fd);
	free(ls);
}

int worker_listeners_for(struct worker *w, const struct cfg *c, struct listener_rt **out, int *nout,
			 char *err, size_t elen)
{
	struct listener_rt *ls = NULL;
	int n = 0, cap = 0;

	for (int f = 0; f < c->nfrontends; f++) {
		const struct cfg_frontend *fe = c->frontends[f];
		for (int i = 0; i < fe->nbinds; i++) {
			const struct cfg_addr *a = &fe->binds[i];
			bool kept = false;
			/* Every socket this worker has on that address stays (a
			 * process started by an upgrade may have several). */
			for (int k = 0; k < w->nlisteners; k++) {
				const struct listener_rt *o = &w->listeners[k];
				if (o->io.fd < 0 || !addr_same(o->addr, a))
					continue;
				kept = true;
				if (a->ss.ss_family != AF_UNIX)
					sock_keepalive(o->io.fd, &fe->keepalive);
				if (listeners_push(&ls, &n, &cap, w, fe, a, o->io.fd) < 0)
					goto oom;
			}
			if (kept)
				continue;
			int fd = -1;
			if (a->ss.ss_family != AF_UNIX || w->id == 0) {
				char warn[256], e[256];
				fd = sock_listen(a, &fe->keepalive, warn, sizeof(warn), e, sizeof(e));
				if (fd < 0) {
					snprintf(err, elen, "frontend %s: cannot listen on %s: %s",
						 fe->name, a->text, e);
					goto fail;
				}
			}
			if (listeners_push(&ls, &n, &cap, w, fe, a, fd) < 0) {
				if (fd >= 0)
					close(fd);
				goto oom;
			}
		}
	}
	*out = ls;
	*nout = n;
	return 0;
oom:
	snprintf(err, elen, "out of memory");
fail:
	worker_listeners_free(w, ls, n);
	return -1;
}

int worker_listeners_share(struct worker *ws, int nworkers, struct listener_rt **ls,
			   const int *n, char *err, size_t elen)
{
	/* Worker i's new unix@ listeners are duplicates of worker 0's (the
	 * lists are built from the same configuration, in the same order,
	 * but a kept bind may hold several sockets: match by address). */
	for (int i = 1; i < nworkers; i++)
		for (int j = 0; j < n[i]; j++) {
			struct listener_rt *l = &ls[i][j];
			if (l->io.fd >= 0)
				continue;
			for (int k = 0; k < n[0] && l->io.fd < 0; k++)
				if (ls[0][k].io.fd >= 0 && addr_same(ls[0][k].addr, l->addr)) {
					l->io.fd = fcntl(ls[0][k].io.fd, F_DUPFD_CLOEXEC, 0);
					if (l->io.fd < 0) {
						snprintf(err, elen, "frontend %s: cannot share %s: %s",
							 l->fe->name, l->addr->text, strerror(errno));
						return -1;
					}
				}
		}
	(void)ws;
	return 0;
}

static int listener_watch(struct worker *w, struct listener_rt *l)
{
	/* Level-triggered, so a burst cap never strands pending accepts.
	 * A unix@ socket is one for all workers: EPOLLEXCLUSIVE wakes one
	 * of them per connection rather than every one. */
	uint32_t ev = EPOLLIN | (l->addr->ss.ss_family == AF_UNIX ? EPOLLEXCLUSIVE : 0);
	if (w->accept_paused)
		ev = 0;
	return loop_add_events(&w->loop, &l->io, ev);
}

/* MB_RELOAD: the swap main prepared (worker_swap) takes effect. */
static void swap_apply(struct worker *w)
{
	struct worker_swap *sw = atomic_exchange(&w->swap, NULL);
	if (!sw)
		return;
	/* Listeners: the ones gone are closed (their pending connections with
	 * them: the bind was removed), the kept ones move to their new entry
	 * (same socket, same queue), the new ones are watched. */
	for (int i = 0; i < w->nlisteners; i++) {
		struct listener_rt *l = &w->listeners[i];
		if (l->io.fd < 0)
			continue;
		loop_del(&w->loop, &l->io);
		if (!fd_in(l->io.fd, sw->ls, sw->nls))
			close(l->io.fd);
		l->io.fd = -1;
	}
	free(w->listeners);
	w->listeners = sw->ls;
	w->nlisteners = sw->nls;
	for (int i = 0; i < w->nlisteners; i++) {
		struct listener_rt *l = &w->listeners[i];
		if (w->stopping && l->io.fd >= 0) {
			close(l->io.fd);
			l->io.fd = -1;
		}
		if (l->io.fd >= 0 && listener_watch(w, l) < 0)
			log_err("worker %d: epoll_ctl: %s", w->id, strerror(errno));
	}
	/* The generation: new sessions get it, sessions and streams of the
	 * old one finish under it or follow at their next request. */
	struct wgen *old = w->gen;
	list_add_tail(&w->gens, &sw->gen->link);
	sw->gen->users++;
	w->gen = sw->gen;
	w->cfg = sw->gen->cfg;
	if (old) {
		wgen_move_idle(old, w->gen);
		wgen_drop(w, old);
	}
	/* Idle keep-alive connections follow now rather than at their next
	 * request: an idle client must not keep an old generation (its WAF
	 * rule set, its TLS contexts) alive until its timeout client.  Idle:
	 * HTTP/1 between requests (no stream), HTTP/2 without a stream (its
	 * idle timer runs then, and only then). */
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->sessions) {
		struct session *ss = container_of(pos, struct session, link);
		bool idle = ss->codec->mux ? ss->idle_timer.when != 0 : !ss->strm;
		if (idle && !(ss->flags & (SESS_F_CLOSED | SESS_F_PP_WAIT | SESS_F_PP_DENY)))
			session_follow(ss);
	}
	sw->done(sw->arg);
}

bool worker_swap(struct worker *w, struct worker_swap *sw)
{
	atomic_store(&w->swap, sw);
	return mailbox_post(&w->mb, (struct mb_msg){ .kind = MB_RELOAD });
}

int workers_listen_fds(struct worker *ws, int nworkers, int *fds, const char **texts, int max)
{
	int n = 0;
	for (int i = 0; i < nworkers; i++)
		for (int j = 0; j < ws[i].nlisteners && n < max; j++) {
			const struct listener_rt *l = &ws[i].listeners[j];
			/* a unix@ socket is one, duplicated for each worker */
			if (l->io.fd < 0 || (i > 0 && l->addr->ss.ss_family == AF_UNIX))
				continue;
			fds[n] = l->io.fd;
			texts[n] = l->addr->text;
			n++;
		}
	return n;
}

/* MB_DEQUEUE: a server slot was freed somewhere for a backend whose index
 * (in some generation) is `slot` modulo WORKER_QSLOTS. */
static void dequeue_slot(struct worker *w, uint32_t slot)
{
	struct list *pos;
	list_for_each(pos, &w->gens) {
		struct wgen *g = container_of(pos, struct wgen, link);
		for (int b = (int)slot; b < g->cfg->nbackends; b += WORKER_QSLOTS)
			if (g->backends[b].nqueued)
				backend_dequeue(&g->backends[b]);
	}
}

/* MB_LB_SYNC: servers changed at run time; every generation's backends
 * look (each adopts only what was added to its own generation). */
static void lb_sync_gens(struct worker *w)
{
	struct list *pos;
	list_for_each(pos, &w->gens) {
		struct wgen *g = container_of(pos, struct wgen, link);
		for (int b = 0; b < g->cfg->nbackends; b++)
			if (lb_backend_sync(&g->backends[b]) < 0)
				log_err("worker %d: out of memory adopting the servers of backend %s",
					w->id, g->cfg->backends[b]->name);
	}
}

/* ---- the mailbox: wakeups from other threads ---- */

/* Every worker, so one can reach another; set before the threads start. */
static struct worker *g_workers;
static int g_nworkers;
/* Workers read g_workers without it (they exist only while it is set);
 * other threads (the admin API's workers_broadcast) take it. */
static pthread_mutex_t g_workers_lock = PTHREAD_MUTEX_INITIALIZER;
/* Per backend: which workers (bit id % 64) have requests queued on it. */
static _Atomic uint64_t *g_queued;

static void mailbox_event(struct ev_io *io, uint32_t events)
{
	struct worker *w = container_of(io, struct worker, wake_io);
	struct mb_msg msgs[64];
	uint32_t n;

	(void)events;
	do {
		n = mailbox_take(&w->mb, msgs, 64);
		for (uint32_t i = 0; i < n; i++) {
			if (msgs[i].kind == MB_STOP) {
				worker_begin_stop(w, msgs[i].arg == 1);
			} else if (msgs[i].kind == MB_RELOAD) {
				swap_apply(w);
			} else if (msgs[i].kind == MB_WAKE) {
				stream_waker_run(msgs[i].ptr);
			} else if (msgs[i].kind == MB_DEQUEUE && msgs[i].arg < WORKER_QSLOTS) {
				atomic_store_explicit(&w->dq_pending[msgs[i].arg], 0, memory_order_relaxed);
				dequeue_slot(w, msgs[i].arg);
			} else if (msgs[i].kind == MB_LB_SYNC) {
				lb_sync_gens(w);
			}
		}
	} while (n == 64);
	/* The same eventfd says offloaded jobs came back (offload.h). */
	offload_take(w);
}

void worker_queue_mark(struct worker *w, int be_index, bool queued)
{
	if (!g_queued)
		return;
	be_index %= WORKER_QSLOTS;
	uint64_t bit = 1ull << (w->id % 64);
	if (queued)
		atomic_fetch_or(&g_queued[be_index], bit);
	else
		atomic_fetch_and(&g_queued[be_index], ~bit);
}

void worker_slot_freed(struct worker *w, int be_index)
{
	if (!g_queued)
		return;
	be_index %= WORKER_QSLOTS;
	uint64_t mask = atomic_load(&g_queued[be_index]) & ~(1ull << (w->id % 64));
	if (!mask)
		return;
	for (int i = 0; i < g_nworkers; i++) {
		struct worker *o = &g_workers[i];
		if (o == w || !(mask & (1ull << (o->id % 64))))
			continue;
		/* One pending message per backend and worker is enough. */
		if (atomic_exchange_explicit(&o->dq_pending[be_index], 1, memory_order_relaxed))
			continue;
		if (!mailbox_post(&o->mb, (struct mb_msg){ .kind = MB_DEQUEUE, .arg = (uint32_t)be_index }))
			atomic_store_explicit(&o->dq_pending[be_index], 0, memory_order_relaxed);
	}
}

int workers_broadcast(struct mb_msg m)
{
	int refused = 0;

	pthread_mutex_lock(&g_workers_lock);
	for (int i = 0; i < g_nworkers; i++)
		refused += !mailbox_post(&g_workers[i].mb, m);
	pthread_mutex_unlock(&g_workers_lock);
	return refused;
}

void worker_session_closed(struct worker *w)
{
	if (w->stopping && w->nsessions == 0)
		w->loop.quit = true;
}

static void alog_flush_expired(struct timer *t)
{
	(void)t;
	access_log_flush_thread();
}

/*
 * Giving memory back after a burst (issue 15).  The pools keep what a burst
 * of requests freed (up to their max_free) and malloc keeps the rest (the
 * messages' stores, TLS and nghttp2 state) in its arenas, so an idle worker
 * would hold its peak forever.  While the pools hold more than TRIM_SPARE
 * bytes, or the sessions fell well below their peak, a timer runs every
 * TRIM_MS: each pool frees the objects nobody took since the last tick
 * (pool_trim, keeping TRIM_KEEP of each), and when that freed much or the
 * sessions went, malloc_trim() returns the arenas' free pages to the
 * system.  A steady load keeps its working set (what it used within the
 * last TRIM_MS); an idle worker with nothing to give back arms no timer, so
 * it is never woken for this.
 */
#define TRIM_MS        500
#define TRIM_SPARE     (1u << 20)
#define TRIM_KEEP      16
#define TRIM_SESSIONS  256
#define TRIM_MALLOC    (256u << 10)

static size_t worker_spare(const struct worker *w)
{
	return pool_spare(&w->session_pool) + pool_spare(&w->stream_pool) +
	       pool_spare(&w->txn_pool) + pool_spare(&w->srvconn_pool) + buf_pool_spare();
}

static bool worker_trim_due(const struct worker *w)
{
	return w->sess_peak >= w->nsessions + TRIM_SESSIONS || worker_spare(w) > TRIM_SPARE;
}

/* Some pool holds more than it keeps when idle. */
static bool worker_above_keep(const struct worker *w)
{
	return w->session_pool.nfree > TRIM_KEEP || w->stream_pool.nfree > TRIM_KEEP ||
	       w->txn_pool.nfree > TRIM_KEEP || w->srvconn_pool.nfree > TRIM_KEEP ||
	       buf_pool_spare() > (size_t)TRIM_KEEP * buf_size;
}

static void worker_trim(struct timer *t)
{
	struct worker *w = container_of(t, struct worker, trim_timer);
	size_t freed = pool_trim(&w->session_pool, TRIM_KEEP) +
		       pool_trim(&w->stream_pool, TRIM_KEEP) +
		       pool_trim(&w->txn_pool, TRIM_KEEP) +
		       pool_trim(&w->srvconn_pool, TRIM_KEEP) + buf_pool_trim(TRIM_KEEP);
	/* Objects that came back since the last tick wait for the next one:
	 * the trim goes on while it frees and the pools hold more than they
	 * keep.  malloc_trim runs once that much was freed, the sessions
	 * went, or the series ends with something freed. */
	bool more = freed && worker_above_keep(w);

	w->trim_freed += freed;
	if (w->trim_freed >= TRIM_MALLOC || (!more && w->trim_freed) ||
	    w->sess_peak >= w->nsessions + TRIM_SESSIONS) {
		malloc_trim(0);
		w->trim_freed = 0;
		w->sess_peak = w->nsessions;
	}
	if (more)
		timer_set(&w->loop, t, w->loop.now + TRIM_MS);
}

/* After each batch of events: access log lines leave in batches (and at
 * most 100 ms late: the timer catches a loop that goes quiet); the trim
 * timer is armed when there is memory to give back. */
static void worker_iter(struct loop *l, void *arg)
{
	struct worker *w = arg;
	if (access_log_flush_due(l->now) && w->alog_timer.idx < 0)
		timer_set(l, &w->alog_timer, l->now + 100);
	if (w->nsessions > w->sess_peak)
		w->sess_peak = w->nsessions;
	if (w->trim_timer.idx < 0 && worker_trim_due(w)) {
		/* Count unused objects from now on. */
		w->session_pool.low = w->session_pool.nfree;
		w->stream_pool.low = w->stream_pool.nfree;
		w->txn_pool.low = w->txn_pool.nfree;
		w->srvconn_pool.low = w->srvconn_pool.nfree;
		buf_pool_trim(UINT32_MAX);   /* frees nothing: resets its mark */
		timer_set(l, &w->trim_timer, l->now + TRIM_MS);
	}
}

int worker_enter(struct worker *w)
{
	buf_pool_init(w->cfg->global.bufsize);
	w->scratch = malloc(w->cfg->global.bufsize);
	if (!w->scratch) {
		log_err("worker %d: out of memory", w->id);
		w->exit_code = 1;
		return -1;
	}
	for (int i = 0; i < w->nlisteners; i++) {
		if (w->listeners[i].io.fd >= 0 && listener_watch(w, &w->listeners[i]) < 0) {
			log_err("worker %d: epoll_ctl: %s", w->id, strerror(errno));
			w->exit_code = 1;
			return -1;
		}
	}
	w->wake_io.cb = mailbox_event;
	loop_add_events(&w->loop, &w->wake_io, EPOLLIN);
	w->loop.now = loop_clock_ms();
	/* Access log lines of a batch leave in one hand-over to the writer. */
	w->loop.on_iter = worker_iter;
	w->loop.on_iter_arg = w;
	return 0;
}

void worker_leave(struct worker *w)
{
	/* Exit: everything still open is closed, every pool emptied. */
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->sessions)
		session_kill(container_of(pos, struct session, link));
	srvconn_close_idle_all(w);
	/* Wakes still in the mailbox hold their wakers (their streams are
	 * gone: nobody posts any more). */
	struct mb_msg msgs[64];
	uint32_t nm;
	do {
		nm = mailbox_take(&w->mb, msgs, 64);
		for (uint32_t i = 0; i < nm; i++)
			if (msgs[i].kind == MB_WAKE)
				stream_waker_run(msgs[i].ptr);
	} while (nm == 64);
	for (uint32_t i = 0; i < w->loop.ndefers; i++)
		w->loop.defers[i].fn(w->loop.defers[i].arg);
	w->loop.ndefers = 0;
	/* Their offloaded jobs were cancelled; wait for those still running. */
	offload_quiesce(w);
	close_listeners(w);
	/* The current generation's own reference: older ones went with
	 * their last session; the deferred frees run before the pools go. */
	if (w->gen) {
		struct wgen *g = w->gen;
		w->gen = NULL;
		wgen_drop(w, g);
	}
	for (uint32_t i = 0; i < w->loop.ndefers; i++)
		w->loop.defers[i].fn(w->loop.defers[i].arg);
	w->loop.ndefers = 0;
	pool_flush(&w->session_pool);
	pool_flush(&w->stream_pool);
	pool_flush(&w->txn_pool);
	pool_flush(&w->srvconn_pool);
	buf_pool_flush();
	free(w->scratch);
	w->scratch = NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (worker_enter(w) < 0)
		return NULL;
	if (w->cfg->global.io_uring) {
		char e[128];
		if (uring_attach(&w->loop, e, sizeof(e)) < 0)
			log_warn("worker %d: tune.io_uring: %s; sends stay direct", w->id, e);
	}
	loop_run(&w->loop);
	worker_leave(w);
	uring_detach(&w->loop);
	return NULL;
}

int worker_init(struct worker *w, int id, const struct cfg *cfg, bool listen)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	LIST_INIT(&w->sessions);
	w->wake_fd = -1;
	timer_init(&w->accept_timer, accept_resume);
	timer_init(&w->alog_timer, alog_flush_expired);
	timer_init(&w->trim_timer, worker_trim);
	if (loop_init(&w->loop) < 0)
		return -1;
	pool_init(&w->session_pool, "session", sizeof(struct session), 4096);
	pool_init(&w->stream_pool, "stream", sizeof(struct stream), 4096);
	pool_init(&w->txn_pool, "txn", sizeof(struct txn), 1024);
	pool_init(&w->srvconn_pool, "srvconn", sizeof(struct srvconn), 4096);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0 || mailbox_init(&w->mb, w->wake_fd) < 0 ||
	    offload_inbox_init(&w->ob, w->wake_fd) < 0)
		return -1;
	w->wake_io.fd = w->wake_fd;
	w->dq_pending = calloc(WORKER_QSLOTS, sizeof(*w->dq_pending));
	if (!w->dq_pending)
		return -1;
	LIST_INIT(&w->gens);
	w->gen = wgen_new((struct cfg *)cfg);
	if (!w->gen)
		return -1;
	w->gen->users = 1;
	list_add_tail(&w->gens, &w->gen->link);

	if (!listen)
		return 0;
	int n = 0;
	for (int f = 0; f < cfg->nfrontends; f++)
		n += cfg->frontends[f]->nbinds;
	w->listeners = calloc((size_t)(n ? n : 1), sizeof(*w->listeners));
	if (!w->listeners)
		return -1;
	for (int f = 0; f < cfg->nfrontends; f++) {
		const struct cfg_frontend *fe = cfg->frontends[f];
		for (int i = 0; i < fe->nbinds; i++) {
			struct listener_rt *l = &w->listeners[w->nlisteners];
			l->w = w;
			l->fe = fe;
			l->addr = &fe->binds[i];
			l->io.cb = listener_event;
			l->io.fd = -1;
			/* A unix@ socket is opened once, by worker 0; the others
			 * get a duplicate of it (workers_start). */
			if (l->addr->ss.ss_family == AF_UNIX && id > 0) {
				w->nlisteners++;
				continue;
			}
			/* A binary upgrade's new process takes the old one's
			 * sockets (control/upgrade.h): nothing is bound twice,
			 * no connection waits in a queue nobody reads. */
			l->io.fd = upgrade_take_fd(l->addr);
			if (l->io.fd >= 0) {
				w->nlisteners++;
				continue;
			}
			/* No TCP_DEFER_ACCEPT unless the bind asks (defer_accept):
			 * the kernel hands over a silent client only after its
			 * own timer, and `timeout header` counts from then. */
			char warn[256], err[256];
			l->io.fd = sock_listen(l->addr, &fe->keepalive, warn, sizeof(warn), err,
					       sizeof(err));
			if (l->io.fd < 0) {
				log_err("frontend %s: cannot listen on %s: %s", fe->name,
					l->addr->text, err);
				return -1;
			}
			if (warn[0] && id == 0)
				log_warn("frontend %s: bind %s: the kernel refused %s", fe->name,
					 l->addr->text, warn);
			w->nlisteners++;
		}
	}
	return 0;
}

void worker_fini(struct worker *w)
{
	close_listeners(w);
	if (w->wake_fd >= 0) {
		mailbox_free(&w->mb);
		offload_inbox_free(&w->ob);
		close(w->wake_fd);
	}
	w->wake_fd = -1;
	free((void *)w->dq_pending);
	w->dq_pending = NULL;
	/* A worker that never ran (or whose loop is gone): its generations
	 * are freed here, sessions or not (there are none). */
	if (w->gens.next) {
		while (!list_empty(&w->gens)) {
			struct wgen *g = container_of(w->gens.next, struct wgen, link);
			list_del(&g->link);
			wgen_free_deferred(g);
		}
	}
	w->gen = NULL;
	free(w->listeners);
	w->listeners = NULL;
	loop_free(&w->loop);
}

/* Worker i > 0 shares worker 0's unix@ listening sockets. */
static int share_unix_listeners(struct worker *ws, int nworkers)
{
	for (int i = 1; i < nworkers; i++)
		for (int j = 0; j < ws[i].nlisteners; j++) {
			struct listener_rt *l = &ws[i].listeners[j];
			if (l->io.fd >= 0)
				continue;
			l->io.fd = fcntl(ws[0].listeners[j].io.fd, F_DUPFD_CLOEXEC, 0);
			if (l->io.fd < 0) {
				log_err("frontend %s: cannot share %s: %s", l->fe->name,
					l->addr->text, strerror(errno));
				return -1;
			}
		}
	return 0;
}

/* A binary upgrade from a process with more sockets per bind than this one
 * has workers: the rest are shared out, so every socket of the old process
 * (and the connections in its queue) has a reader. */
static int adopt_inherited(struct worker *ws, int nworkers, const struct cfg *cfg)
{
	int k = 0;
	for (int f = 0; f < cfg->nfrontends; f++) {
		const struct cfg_frontend *fe = cfg->frontends[f];
		for (int i = 0; i < fe->nbinds; i++) {
			int fd;
			while ((fd = upgrade_take_fd(&fe->binds[i])) >= 0) {
				struct worker *w = &ws[k++ % nworkers];
				int cap = w->nlisteners;
				if (listeners_push(&w->listeners, &w->nlisteners, &cap, w, fe,
						   &fe->binds[i], fd) < 0) {
					close(fd);
					return -1;
				}
			}
		}
	}
	upgrade_inherit_done();
	return 0;
}

int workers_start(const struct cfg *cfg, int nworkers, struct worker **out)
{
	if (workers_prepare(cfg, nworkers, out) < 0)
		return -1;
	if (workers_run(*out, nworkers) < 0) {
		*out = NULL;
		return -1;
	}
	return 0;
}

void workers_discard(struct worker *ws, int nworkers)
{
	const struct cfg *cfg = nworkers > 0 ? ws[0].cfg : NULL;
	for (int j = 0; j < nworkers; j++)
		worker_fini(&ws[j]);
	free(ws);
	free((void *)g_queued);
	g_queued = NULL;
	pthread_mutex_lock(&g_workers_lock);
	g_workers = NULL;
	g_nworkers = 0;
	pthread_mutex_unlock(&g_workers_lock);
	if (cfg)
		filters_free((struct cfg *)cfg);
}

int workers_prepare(const struct cfg *cfg, int nworkers, struct worker **out)
{
	/* The filter chains are runtime built from this configuration; they
	 * go with it (workers_join frees them). */
	const char *ferr = NULL;
	if (filters_init((struct cfg *)cfg, &ferr) < 0) {
		log_err("filters: %s", ferr);
		return -1;
	}
	struct worker *ws = calloc((size_t)nworkers, sizeof(*ws));
	if (!ws) {
		filters_free((struct cfg *)cfg);
		return -1;
	}
	for (int i = 0; i < nworkers; i++) {
		if (worker_init(&ws[i], i, cfg, true) < 0) {
			for (int j = 0; j <= i; j++)
				worker_fini(&ws[j]);
			free(ws);
			filters_free((struct cfg *)cfg);
			return -1;
		}
	}
	g_queued = calloc(WORKER_QSLOTS, sizeof(*g_queued));
	if (!g_queued || share_unix_listeners(ws, nworkers) < 0 || adopt_inherited(ws, nworkers, cfg) < 0) {
		workers_discard(ws, nworkers);
		return -1;
	}
	pthread_mutex_lock(&g_workers_lock);
	g_workers = ws;
	g_nworkers = nworkers;
	pthread_mutex_unlock(&g_workers_lock);
	*out = ws;
	return 0;
}

int workers_run(struct worker *ws, int nworkers)
{
	for (int i = 0; i < nworkers; i++) {
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			log_err("cannot start worker thread %d", i);
			workers_stop(ws, i);
			workers_join(ws, i);
			return -1;
		}
	}
	return 0;
}

void workers_stop(struct worker *ws, int n)
{
	for (int i = 0; i < n; i++)
		mailbox_post(&ws[i].mb, (struct mb_msg){ .kind = MB_STOP });
}

void workers_drain(struct worker *ws, int n)
{
	for (int i = 0; i < n; i++)
		mailbox_post(&ws[i].mb, (struct mb_msg){ .kind = MB_STOP, .arg = 1 });
}

int workers_join(struct worker *ws, int n)
{
	int rc = 0;
	struct cfg *cfg = n > 0 ? (struct cfg *)ws[0].cfg : NULL;
	/* All threads first: a running worker may still post to another's
	 * mailbox, so none is torn down before every one has stopped. */
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].thread, NULL);
		if (ws[i].exit_code)
			rc = 1;
	}
	pthread_mutex_lock(&g_workers_lock);
	g_nworkers = 0;
	g_workers = NULL;
	pthread_mutex_unlock(&g_workers_lock);
	for (int i = 0; i < n; i++)
		worker_fini(&ws[i]);
	free(ws);
	free((void *)g_queued);
	g_queued = NULL;
	if (cfg)
		filters_free(cfg);
	return rc;
}
