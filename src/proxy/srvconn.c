/*
 * srvconn.c - connections to servers: open one (TCP connect, then the TLS
 * handshake for a `tls` server, both under `timeout connect`), hand events
 * to the stream that owns it, and keep it in its server's idle pool between
 * transactions.
 *
 * Idle server connections belong to the worker thread that opened them
 * (one pool per server per thread, like nginx's upstream keepalive), so
 * reuse needs no lock.  A `send_proxy` server's connections start with a
 * PROXY header naming one client, and are never pooled.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include "core/log.h"
#include "filter/cond.h"
#include "health/health.h"
#include "net/sockopt.h"
#include "net/proxy_proto.h"
#include "net/tls.h"
#include "proxy/backend.h"
#include "proxy/srv_codec.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

/* An idle pooled connection unused this long is closed.  The pool takes
 * the newest first, so after a burst the connections it no longer needs
 * age out at this pace; without a `max_idle` cap the pool never holds more
 * than the server's peak of exchanges in flight on this thread (each idle
 * connection was busy at that peak), so its descriptors were needed then
 * anyway.  A fixed cap below that peak (256 before) made every burst past
 * it close and reopen the difference: one new connection per five requests
 * at 400 clients. */
#define SRV_IDLE_TIMEOUT_MS 30000
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

void srvconn_destroy(struct srvconn *sc)
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
/* send_proxy: the PROXY header with the client's addresses (its owner's
 * src, and the address it connected to) goes first, in clear, before a
 * TLS handshake and the request.  A fresh socket's buffer takes its 107
 * bytes at most whole. */
static int srvconn_send_proxy(struct srvconn *sc)
{
	struct stream *s = sc->owner;
	uint8_t hdr[PP_BUILD_MAX];
	struct sockaddr_storage src, dst;

	stream_src(s, &src);
	bool have_dst = session_dst(s->sess, &dst);
	size_t n = pp_build(sc->srv->cfg->send_proxy, (struct sockaddr *)&src,
			    have_dst ? (struct sockaddr *)&dst : NULL, false, hdr, sizeof(hdr));
	ssize_t w = send(sc->c.io.fd, hdr, n, MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		sc->c.err = w < 0 ? errno : EAGAIN;
		sc->c.flags |= CONN_F_ERROR;
		return -1;
	}
	sc->pp_sent = true;
	return 0;
}

int srvconn_establish(struct srvconn *sc)
{
	if (sc->c.flags & CONN_F_CONNECTING) {
		if (!(sc->c.flags & CONN_F_SEND_READY))
			return 0;
		if (conn_finish_connect(&sc->c) < 0)
			return -1;
	}
	if (sc->srv->cfg->send_proxy && !sc->pp_sent && srvconn_send_proxy(sc) < 0)
		return -1;
	return conn_handshake(&sc->c);
}

/* Words for a failed connection to a server. */
const char *srvconn_why(const struct srvconn *sc)
{
	const char *tls = tls_conn_why(&sc->c);
	return tls ? tls : strerror(sc->c.err);
}

/* Access log timings: when the server slot was taken and when the
 * connection was ready (both at once for a pooled connection). */
void stamp_connect(struct stream *s, bool connected)
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
	if (sc->h2) {
		h2srv_event(sc);   /* many streams: the codec dispatches */
		return;
	}
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
			health_observe(sc->srv, true, NULL);
		s->srv_last = s->w->loop.now;
	}
	stream_process(s);
}

struct srvconn *srvconn_open(struct stream *s, struct server_rt *sv)
{
	struct worker *w = s->w;
	struct srvconn *sc = pool_zget(&w->srvconn_pool);

	if (!sc) {
		errno = ENOMEM;
		return NULL;
	}
	sc->w = w;
	sc->srv = sv;
	sc->codec = &srv_codec_h1;
	LIST_INIT(&sc->idle_link);
	timer_init(&sc->idle_timer, srvconn_idle_expired);
	const struct cfg_addr *a = &sv->cfg->addr;
	struct sockaddr_storage cli;   /* for `source client` (net/sockopt.c) */
	session_src(s->sess, &cli);
	struct sock_prep prep = { sv->cfg, &cli };
	if (conn_connect_ex(&w->loop, &sc->c, (const struct sockaddr *)&a->ss, a->len,
			    srvconn_event, sock_server_prep, &prep) < 0) {
		int e = errno;
		pool_put(&w->srvconn_pool, sc);
		errno = e;
		return NULL;
	}
	/* TLS to the server: the handshake is part of connecting (see
	 * srvconn_establish), and the connection is pooled like a plain one. */
	if (sv->cfg->tls && tls_conn_connect(&sc->c, sv->cfg->tls, false) < 0) {
		conn_close(&w->loop, &sc->c);
		pool_put(&w->srvconn_pool, sc);
		errno = ENOMEM;
		return NULL;
	}
	sc->owner = s;   /* srvconn_establish may send its PROXY header */
	int r = srvconn_establish(sc);
	if (r < 0) {
		int e = sc->c.err;
		conn_close(&w->loop, &sc->c);
		pool_put(&w->srvconn_pool, sc);
		errno = e;
		return NULL;
	}
	sc->connected = r == 1;
	return sc;
}

/* Opens or reuses a connection to sv for s.  Returns 0 or -1 (errno). */
int srv_connect(struct stream *s, struct server_rt *sv)
{
	struct worker *w = s->w;
	struct srvconn *sc;

	if (sv->cfg->proto == SRV_PROTO_H2)
		return h2srv_attach(s, sv);   /* a shared connection */
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
		s->srv_codec = sc->codec;
		s->srv_last = w->loop.now;
		stamp_connect(s, true);
		return 0;
	}
fresh:
	sc = srvconn_open(s, sv);
	if (!sc)
		return -1;
	s->srv = sc;
	s->srv_codec = sc->codec;
	s->srv_last = w->loop.now;
	stamp_connect(s, sc->connected);
	return 0;
}

/* The stream is done with its server: its slot goes back (the queue may
 * get it), and its connection to the server's idle pool when `reusable`
 * (a clean end of the exchange) and still healthy, else it is closed. */
void backend_release(struct stream *s, bool reusable)
{
	struct srvconn *sc = s->srv;
	struct server_rt *sv = s->sv;

	if (sv)
		server_put(s);
	s->sent_ns = 0;
	if (!sc)
		return;
	if (sc->h2) {
		h2srv_detach(s, reusable);   /* the connection stays for its other streams */
		return;
	}
	s->srv = NULL;
	/* `source client` or send_proxy: the connection carries one client's
	 * address (told to the server), so it is never pooled and never
	 * carries another client. */
	if (reusable && sc->connected && !s->w->stopping && !sc->srv->cfg->send_proxy &&
	    sc->srv->cfg->source.kind != SOURCE_CLIENT &&
	    !(sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR | CONN_F_HUP)) &&
	    (sc->srv->cfg->max_idle < 0 || sc->srv->nidle < (uint32_t)sc->srv->cfg->max_idle)) {
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

void backend_rebind(struct stream *s)
{
	struct srvconn *sc = s->srv;

	if (!sc)
		return;
	if (sc->h2)
		h2srv_rebind(s);
	else
		sc->owner = s;
}

/* Stopping: every idle pooled connection of this worker is closed. */
void srvconn_close_idle_all(struct worker *w)
{
	struct list *gpos;
	list_for_each(gpos, &w->gens) {
		struct wgen *g = container_of(gpos, struct wgen, link);
		for (int b = 0; b < g->cfg->nbackends; b++) {
			struct backend_rt *be = &g->backends[b];
			for (int i = 0; i < be->nservers; i++) {
				struct list *pos, *tmp;
				list_for_each_safe(pos, tmp, &be->servers[i].idle)
					srvconn_destroy(container_of(pos, struct srvconn,
								     idle_link));
				h2srv_close_idle(&be->servers[i]);
			}
		}
	}
}

