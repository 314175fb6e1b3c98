/*
 * health.c - active health checks: one thread, one event loop, every
 * checked server a timer and at most one connection in flight.
 *
 * Why a dedicated thread rather than worker 0's loop: a check must not wait
 * behind traffic (a worker busy with a burst would delay checks and make
 * servers look slow), and traffic must not wait behind checks.  The thread
 * sleeps in epoll_wait between checks, so it costs one idle thread.  It
 * only writes the servers' process-wide atomics (struct server_shared,
 * looked up in the registry once at health_start() and kept in struct
 * hc_srv / outlier_watch); workers never wait for it.
 *
 * One check, start to end (struct hc_srv):
 *   timer fires -> non-blocking connect (conn_connect) -> on write
 *   readiness, for a `tls` server, the TLS handshake (with the server's
 *   verify/SNI settings: a check proves what traffic will meet; ALPN
 *   offers the one protocol the check speaks) ->
 *   `tcp` is done (OK); `http` over HTTP/1.1 sends
 *     METHOD PATH HTTP/1.1 / Host / Connection: close / User-Agent
 *   and reads until the status line is complete (health_parse_status);
 *   a status in `expect` is OK.  `http` over HTTP/2 and `grpc` hand the
 *   connection's bytes to an nghttp2 session of their own (health_h2.c):
 *   the preface, one request on one stream, and the verdict as soon as
 *   the answer gives it (the final head for `http`, the end of the stream
 *   for `grpc`).  A refused or reset connection, a close before the
 *   answer, something that is not the protocol spoken, or `timeout`
 *   running out (connect and response together) is a failure.
 * Every check opens a fresh connection, whatever its protocol: a check
 * then proves that a new connection works, as a retry would need, and an
 * HTTP/2 server's idle timeout or GOAWAY never shows up as a failed check.
 * The connection is then closed with an RST (SO_LINGER 0), as HAProxy does,
 * so checks every few hundred ms never pile up TIME_WAIT sockets here.  The
 * next check starts `interval` after this one started (or right after it
 * ended, if the timeout is longer than the interval).
 *
 * health_sm_step() turns results into UP/DOWN changes; each is logged:
 *   server app/app2 DOWN: 3 failed checks, last: connect refused
 *   server app/app2 UP: 2 successful checks
 *
 * The same loop runs outlier_sweep() every 100 ms when a backend has
 * `outlier`, to log servers coming back from ejection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "net/proxy_proto.h"
#include "core/list.h"
#include "core/log.h"
#include "core/loop.h"
#include "health/health.h"
#include "health/health_h2.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "net/conn.h"
#include "net/sockopt.h"
#include "net/tls.h"

#define HC_BUF 1024            /* a status line longer than this is a failure */
#define HC_SWEEP_MS 100        /* how late a return from ejection may be logged */
#define HC_ADOPT_MS 500        /* how late checks of a server added at run time may start */

enum hc_phase { HC_IDLE = 0, HC_CONNECTING, HC_HANDSHAKE, HC_SENDING, HC_READING, HC_H2 };

struct hc_srv {
	const struct cfg_server *srv;
	struct server_shared *sh;      /* its registry entry, looked up at start */
	const struct cfg_health *hc;
	struct health *h;
	struct conn c;                 /* c.io.fd < 0 between checks */
	struct timer timer;            /* next check, or the running check's deadline */
	enum hc_phase phase;
	uint64_t started;              /* loop ms the running check started */
	char *req;                     /* http over HTTP/1.1: the request (owned) */
	uint32_t req_len, sent;
	uint32_t len;
	struct hc_h2 *h2;              /* HC_H2: the running check's session (owned) */
	struct health_sm sm;
	char last_why[HC_H2_WHY];      /* last failure, for the DOWN line */
	char buf[HC_BUF];
};

struct health {
	const struct cfg *cfg;
	pthread_t thread;
	bool started;
	struct loop loop;
	int wake_fd;
	struct ev_io wake_io;
	struct hc_srv *srvs;           /* room for cap: never moves (timers, connections) */
	int nsrvs, cap;
	int *adopted;                  /* [nbackends]: servers added at run time (the admin
					  API) whose checks run, in registry order */
	bool adopt;                    /* some backend has checks: look for added servers */
	struct timer adopt_timer;
	struct outlier_watch *watch;    /* outlier_sweep(): servers of backends with `outlier` */
	int nwatch;
	bool sweep;
	struct timer sweep_timer;
};

/* ---- pure logic ---------------------------------------------------------- */

enum health_change health_sm_step(struct health_sm *sm, bool ok, int rise, int fall)
{
	if (ok) {
		sm->fail_run = 0;
		if (sm->ok_run < UINT16_MAX)
			sm->ok_run++;
		if (sm->down && sm->ok_run >= rise) {
			sm->down = false;
			return HEALTH_WENT_UP;
		}
	} else {
		sm->ok_run = 0;
		if (sm->fail_run < UINT16_MAX)
			sm->fail_run++;
		if (!sm->down && sm->fail_run >= fall) {
			sm->down = true;
			return HEALTH_WENT_DOWN;
		}
	}
	return HEALTH_SAME;
}

static const char *find_crlfcrlf(const char *p, const char *end)
{
	for (; end - p >= 4; p++)
		if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
			return p + 4;
	return NULL;
}

int health_parse_status(const char *buf, size_t len, int *status)
{
	const char *p = buf, *end = buf + len;

	for (;;) {
		/* Empty lines before a status line are tolerated (RFC 9112 2.2). */
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		/* "HTTP/1.x DDD" then SP or the end of the line. */
		static const char proto[] = "HTTP/1.";
		size_t have = (size_t)(end - p);
		size_t cmp = have < 7 ? have : 7;
		if (memcmp(p, proto, cmp) != 0)
			return -1;
		if (have < 13)
			return 0;
		if (p[7] < '0' || p[7] > '9' || p[8] != ' ')
			return -1;
		for (int i = 9; i < 12; i++)
			if (p[i] < '0' || p[i] > '9')
				return -1;
		if (p[12] != ' ' && p[12] != '\r' && p[12] != '\n')
			return -1;
		int st = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
		if (st < 100)
			return -1;
		if (st >= 200 || st == 101) {
			*status = st;
			return 1;
		}
		/* Interim: skip its whole head and look at the next one. */
		const char *next = find_crlfcrlf(p, end);
		if (!next)
			return 0;
		p = next;
	}
}

/* ---- one check ------------------------------------------------------------ */

static void hc_arm_next(struct hc_srv *hs);

static const char *hc_errno_why(int err, bool connecting, char *buf, size_t len)
{
	switch (err) {
	case ECONNREFUSED: return "connect refused";
	case ECONNRESET: return "connection reset";
	case EPIPE: return "connection reset";
	case ETIMEDOUT: return connecting ? "connect timeout" : "connection timed out";
	case EHOSTUNREACH: return "host unreachable";
	case ENETUNREACH: return "network unreachable";
	default:
		snprintf(buf, len, "%s%s", connecting ? "connect failed: " : "", strerror(err));
		return buf;
	}
}

static void hc_close(struct hc_srv *hs)
{
	if (hs->c.io.fd >= 0) {
		/* RST rather than FIN: no TIME_WAIT left behind on our side. */
		struct linger lg = { 1, 0 };
		setsockopt(hs->c.io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		conn_close(&hs->h->loop, &hs->c);
	}
	hc_h2_free(hs->h2);
	hs->h2 = NULL;
	hs->phase = HC_IDLE;
}

/* Ends the running check with its result and schedules the next one. */
static void hc_done(struct hc_srv *hs, bool ok, const char *why)
{
	const struct cfg_server *srv = hs->srv;
	struct server_shared *sh = hs->sh;

	/* first: why may point into the check's state that hc_close frees */
	if (!ok)
		snprintf(hs->last_why, sizeof(hs->last_why), "%s", why ? why : "failed");
	hc_close(hs);
	log_debug("server %s/%s check %s%s%s", srv->backend->name, srv->name, ok ? "OK" : "failed",
		  ok ? "" : ": ", ok ? "" : hs->last_why);
	switch (health_sm_step(&hs->sm, ok, hs->hc->rise, hs->hc->fall)) {
	case HEALTH_WENT_DOWN:
		atomic_store_explicit(&sh->health, SRV_DOWN, memory_order_relaxed);
		log_warn("server %s/%s DOWN: %d failed check%s, last: %s", srv->backend->name,
			 srv->name, hs->hc->fall, hs->hc->fall == 1 ? "" : "s", hs->last_why);
		break;
	case HEALTH_WENT_UP:
		/* up_since first: a balancer that sees UP must see the ramp. */
		atomic_store_explicit(&sh->up_since_ms, loop_clock_ms(), memory_order_relaxed);
		atomic_store_explicit(&sh->health, SRV_UP, memory_order_release);
		log_info("server %s/%s UP: %d successful check%s", srv->backend->name, srv->name,
			 hs->hc->rise, hs->hc->rise == 1 ? "" : "s");
		break;
	default:
		break;
	}
	hc_arm_next(hs);
}

static void hc_eval_status(struct hc_srv *hs, int status)
{
	char why[96];
	bool ok = hc_status_ok(hs->hc, status, why, sizeof(why));

	hc_done(hs, ok, ok ? NULL : why);
}

/* The check's own protocol: HTTP/2 for `grpc`, and for `http` when the
 * servers speak it or `proto h2` says so (cfg_health_check). */
static bool hc_is_h2(const struct cfg_health *hc)
{
	return hc->kind == HEALTH_GRPC || (hc->kind == HEALTH_HTTP && hc->proto == SRV_PROTO_H2);
}

/* The Host / :authority of a check: `host`, else the server's address (a
 * unix@ server has no host:port to name: "localhost"). */
static const char *hc_authority(const struct cfg_health *hc, const struct cfg_server *srv)
{
	return hc->host                        ? hc->host :
	       srv->addr.ss.ss_family == AF_UNIX ? "localhost" :
						   srv->addr.text;
}

/* An HTTP/2 check after the handshake: its session, once the server has
 * agreed by ALPN to speak HTTP/2 (RFC 9113 3.2) when there is TLS. */
static bool hc_h2_begin(struct hc_srv *hs)
{
	bool tls = conn_is_tls(&hs->c);

	if (tls && !tls_conn_alpn_is(&hs->c, "h2")) {
		hc_done(hs, false, "TLS: the server did not agree to HTTP/2 (no ALPN h2)");
		return false;
	}
	hs->h2 = hc_h2_new(hs->hc, hc_authority(hs->hc, hs->srv), tls);
	if (!hs->h2) {
		hc_done(hs, false, "out of memory (HTTP/2 session)");
		return false;
	}
	hs->phase = HC_H2;
	return true;
}

/* Moves an HTTP/2 check's bytes both ways until the socket or the session
 * has nothing more, or the check has its verdict. */
static void hc_h2_pump(struct hc_srv *hs)
{
	struct conn *c = &hs->c;
	uint8_t in[4096];
	char ebuf[96];
	bool moved = true;

	while (moved) {
		moved = false;
		while (c->flags & CONN_F_SEND_READY) {
			const uint8_t *p;
			size_t len;
			if (hc_h2_output(hs->h2, &p, &len) < 0) {
				hc_done(hs, false, hc_h2_why(hs->h2));
				return;
			}
			if (len == 0)
				break;
			ssize_t n = conn_send(c, p, len);
			if (n < 0) {
				hc_done(hs, false, hc_errno_why(c->err, false, ebuf, sizeof(ebuf)));
				return;
			}
			hc_h2_sent(hs->h2, (size_t)n);
		}
		if (!(c->flags & CONN_F_RECV_READY))
			break;
		ssize_t n = conn_recv(c, in, sizeof(in));
		if (n > 0) {
			int r = hc_h2_input(hs->h2, in, (size_t)n);
			if (r != HC_H2_MORE) {
				hc_done(hs, r == HC_H2_OK, hc_h2_why(hs->h2));
				return;
			}
			moved = true;   /* the session may have frames to answer with */
			continue;
		}
		if (n == 0) {
			hc_h2_eof(hs->h2);
			hc_done(hs, false, hc_h2_why(hs->h2));
			return;
		}
		if (c->flags & CONN_F_ERROR) {
			hc_done(hs, false, hc_errno_why(c->err, false, ebuf, sizeof(ebuf)));
			return;
		}
		moved = (c->flags & CONN_F_RECV_READY) != 0;   /* EINTR */
	}
}

/* Moves the check forward as far as the socket allows. */
static void hc_progress(struct hc_srv *hs)
{
	struct conn *c = &hs->c;
	char ebuf[96];

	if (hs->phase == HC_CONNECTING) {
		if (!(c->flags & CONN_F_SEND_READY))
			return;
		if (conn_finish_connect(c) < 0) {
			hc_done(hs, false, hc_errno_why(c->err, true, ebuf, sizeof(ebuf)));
			return;
		}
		hs->phase = HC_HANDSHAKE;
		/* send_proxy: a LOCAL header (v1: PROXY UNKNOWN) says "this is
		 * the balancer itself"; first and in clear, before any TLS.  A
		 * fresh socket's buffer takes its 15 or 16 bytes whole. */
		if (hs->srv->send_proxy) {
			uint8_t pp[PP_BUILD_MAX];
			size_t n = pp_build(hs->srv->send_proxy, NULL, NULL, true, pp, sizeof(pp));
			if (send(c->io.fd, pp, n, MSG_NOSIGNAL) != (ssize_t)n) {
				hc_done(hs, false, hc_errno_why(errno, false, ebuf, sizeof(ebuf)));
				return;
			}
		}
	}
	if (hs->phase == HC_HANDSHAKE) {
		int r = conn_handshake(c);
		if (r < 0) {
			const char *tls = tls_conn_why(c);
			hc_done(hs, false, tls ? tls : hc_errno_why(c->err, false, ebuf, sizeof(ebuf)));
			return;
		}
		if (r == 0)
			return;
		if (hs->hc->kind == HEALTH_TCP) {
			hc_done(hs, true, NULL);
			return;
		}
		if (hc_is_h2(hs->hc)) {
			if (hc_h2_begin(hs))
				hc_h2_pump(hs);
			return;
		}
		hs->phase = HC_SENDING;
	}
	if (hs->phase == HC_H2) {
		hc_h2_pump(hs);
		return;
	}
	if (hs->phase == HC_SENDING) {
		if (!(c->flags & CONN_F_SEND_READY))
			return;
		ssize_t n = conn_send(c, hs->req + hs->sent, hs->req_len - hs->sent);
		if (n < 0) {
			hc_done(hs, false, hc_errno_why(c->err, false, ebuf, sizeof(ebuf)));
			return;
		}
		hs->sent += (uint32_t)n;
		if (hs->sent < hs->req_len)
			return;
		hs->phase = HC_READING;
	}
	while (hs->phase == HC_READING && (c->flags & CONN_F_RECV_READY)) {
		if (hs->len == sizeof(hs->buf)) {
			hc_done(hs, false, "no status line in the first 1024 bytes of the response");
			return;
		}
		ssize_t n = conn_recv(c, hs->buf + hs->len, sizeof(hs->buf) - hs->len);
		if (n > 0) {
			int status = 0;
			hs->len += (uint32_t)n;
			int r = health_parse_status(hs->buf, hs->len, &status);
			if (r > 0) {
				hc_eval_status(hs, status);
				return;
			}
			if (r < 0) {
				hc_done(hs, false, "invalid response (not HTTP/1.x)");
				return;
			}
			continue;
		}
		if (n == 0) {
			hc_done(hs, false, hs->len ? "connection closed in the status line" :
						     "connection closed without a response");
			return;
		}
		if (c->flags & CONN_F_ERROR) {
			hc_done(hs, false, hc_errno_why(c->err, false, ebuf, sizeof(ebuf)));
			return;
		}
	}
}

static void hc_event(struct ev_io *io, uint32_t events)
{
	struct hc_srv *hs = container_of(io, struct hc_srv, c.io);

	conn_on_events(&hs->c, events);
	hc_progress(hs);
}

static void hc_start(struct hc_srv *hs)
{
	const struct cfg_addr *a = &hs->srv->addr;
	struct loop *l = &hs->h->loop;
	char ebuf[96];

	hs->started = l->now;
	hs->len = 0;
	hs->sent = 0;
	hs->phase = HC_CONNECTING;
	/* The deadline covers connect and response together. */
	timer_set(l, &hs->timer, l->now + hs->hc->timeout_ms);
	struct sock_prep prep = { hs->srv, NULL };   /* keepalive, source (no client) */
	if (conn_connect_ex(l, &hs->c, (const struct sockaddr *)&a->ss, a->len, hc_event,
			    sock_server_prep, &prep) < 0) {
		hs->c.io.fd = -1;
		hc_done(hs, false, hc_errno_why(errno, true, ebuf, sizeof(ebuf)));
		return;
	}
	/* ALPN offers what the check speaks, which `proto` on the health line
	 * may make different from the server's traffic */
	if (hs->srv->tls &&
	    (tls_conn_connect(&hs->c, hs->srv->tls, true) < 0 ||
	     (hs->hc->kind != HEALTH_TCP &&
	      tls_conn_set_alpn(&hs->c, hc_is_h2(hs->hc) ? "h2" : "http/1.1") < 0))) {
		hc_done(hs, false, "out of memory (TLS)");
		return;
	}
	if (!(hs->c.flags & CONN_F_CONNECTING))
		hc_progress(hs);
}

static void hc_timer(struct timer *t)
{
	struct hc_srv *hs = container_of(t, struct hc_srv, timer);

	if (hs->phase == HC_IDLE) {
		hc_start(hs);
		return;
	}
	char why[64];
	snprintf(why, sizeof(why), "%s timeout (%ums)",
		 hs->phase == HC_CONNECTING ? "connect" :
		 hs->phase == HC_HANDSHAKE ? "TLS handshake" : "response", hs->hc->timeout_ms);
	hc_done(hs, false, why);
}

static void hc_arm_next(struct hc_srv *hs)
{
	struct loop *l = &hs->h->loop;
	uint64_t next = hs->started + hs->hc->interval_ms;

	if (next <= l->now)
		next = l->now + 1;
	timer_set(l, &hs->timer, next);
}

/* ---- the thread ------------------------------------------------------------ */

static void sweep_timer_cb(struct timer *t)
{
	struct health *h = container_of(t, struct health, sweep_timer);

	outlier_sweep(h->watch, h->nwatch, loop_clock_ms());
	timer_set(&h->loop, &h->sweep_timer, h->loop.now + HC_SWEEP_MS);
}

static int hc_srv_init(struct health *h, const struct cfg_server *srv, int n);

/*
 * Servers the admin API added to this generation's checked backends
 * (lb/registry.h: registry_added_servers) get checks like the file's, on
 * this thread: looked for every HC_ADOPT_MS, appended in the room
 * health_setup() left (LB_ADDED_MAX per checked backend).
 */
static void adopt_timer_cb(struct timer *t)
{
	struct health *h = container_of(t, struct health, adopt_timer);
	const struct cfg *cfg = h->cfg;

	for (int b = 0; b < cfg->nbackends; b++) {
		const struct cfg_backend *be = cfg->backends[b];
		if (be->health.kind == HEALTH_NONE)
			continue;
		struct cfg_server *cs[LB_ADDED_MAX];
		struct server_shared *sh[LB_ADDED_MAX];
		int n = registry_added_servers(be, cs, sh, LB_ADDED_MAX);
		for (; h->adopted[b] < n && h->nsrvs < h->cap; h->adopted[b]++) {
			if (hc_srv_init(h, cs[h->adopted[b]], be->nservers) < 0)
				log_err("health checks: cannot check server %s/%s added at run time",
					be->name, cs[h->adopted[b]]->name);
			else
				log_info("health checks: server %s/%s added at run time is checked",
					 be->name, cs[h->adopted[b]]->name);
		}
	}
	timer_set(&h->loop, &h->adopt_timer, h->loop.now + HC_ADOPT_MS);
}

static void wake_cb(struct ev_io *io, uint32_t events)
{
	struct health *h = container_of(io, struct health, wake_io);
	uint64_t v;
	ssize_t r = read(io->fd, &v, sizeof(v));

	(void)r;
	h->loop.quit = true;
}

static void *health_main(void *arg)
{
	struct health *h = arg;

	h->loop.now = loop_clock_ms();
	loop_run(&h->loop);
	for (int i = 0; i < h->nsrvs; i++)
		hc_close(&h->srvs[i]);
	return NULL;
}

/* "GET /healthz HTTP/1.1" and the fixed fields; without `host`, each
 * server is asked by its own address. */
static char *hc_build_request(const struct cfg_health *hc, const struct cfg_server *srv)
{
	const char *host = hc_authority(hc, srv);
	size_t cap = strlen(hc->method) + strlen(hc->path) + strlen(host) + 128;
	char *r = malloc(cap);

	if (r)
		snprintf(r, cap,
			 "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
			 "User-Agent: gatehouse-health\r\n\r\n",
			 hc->method, hc->path, host);
	return r;
}

static void health_free(struct health *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nsrvs; i++)
		free(h->srvs[i].req);
	free(h->srvs);
	free(h->adopted);
	free(h->watch);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	loop_free(&h->loop);
	free(h);
}

/* Servers with active checks (enabled ones of backends with `health`). */
static int hc_count(const struct cfg *cfg)
{
	int n = 0;

	for (int b = 0; b < cfg->nbackends; b++) {
		const struct cfg_backend *be = cfg->backends[b];
		if (be->health.kind == HEALTH_NONE)
			continue;
		for (int i = 0; i < be->nservers; i++)
			n += !be->servers[i]->disabled;
	}
	return n;
}

/* Prepares the checks of srv, the n-th checked server of its backend. */
static int hc_srv_init(struct health *h, const struct cfg_server *srv, int n)
{
	const struct cfg_backend *be = srv->backend;
	const struct cfg_health *hc = &be->health;
	struct hc_srv *hs = &h->srvs[h->nsrvs++];

	hs->srv = srv;
	hs->sh = registry_server(be->name, srv->name);
	hs->hc = hc;
	hs->h = h;
	hs->c.io.fd = -1;
	timer_init(&hs->timer, hc_timer);
	if (!hs->sh) {
		log_err("health checks: server %s/%s has no runtime state", be->name, srv->name);
		errno = ENOENT;
		return -1;
	}
	/* After a reload the thread starts again: a server known DOWN stays
	 * so until `rise` good checks, as it would have without the reload. */
	hs->sm.down = atomic_load(&hs->sh->health) == SRV_DOWN;
	if (hc->kind == HEALTH_HTTP && !hc_is_h2(hc)) {
		hs->req = hc_build_request(hc, srv);
		if (!hs->req)
			return -1;
		hs->req_len = (uint32_t)strlen(hs->req);
	}
	/* Spread the first checks of a backend over one interval so a big
	 * pool is not checked in one burst. */
	timer_set(&h->loop, &hs->timer,
		  h->loop.now + (be->nservers ? (uint64_t)hc->interval_ms * (uint64_t)n /
							(uint64_t)be->nservers : 0));
	return 0;
}

static int hc_backend_init(struct health *h, const struct cfg_backend *be)
{
	int n = 0;

	if (be->health.kind == HEALTH_NONE)
		return 0;
	for (int i = 0; i < be->nservers; i++) {
		if (be->servers[i]->disabled)
			continue;
		if (hc_srv_init(h, be->servers[i], n++) < 0)
			return -1;
	}
	return 0;
}

static int health_wake_init(struct health *h)
{
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd < 0)
		return -1;
	h->wake_io.fd = h->wake_fd;
	h->wake_io.cb = wake_cb;
	return loop_add_events(&h->loop, &h->wake_io, EPOLLIN);
}

static int health_setup(struct health *h)
{
	const struct cfg *cfg = h->cfg;
	int nchecked = hc_count(cfg), nbe_checked = 0;

	for (int b = 0; b < cfg->nbackends; b++)
		nbe_checked += cfg->backends[b]->health.kind != HEALTH_NONE;
	/* Room for the servers the admin API may add (adopt_timer_cb). */
	h->cap = nchecked + nbe_checked * LB_ADDED_MAX;
	h->srvs = calloc((size_t)(h->cap ? h->cap : 1), sizeof(*h->srvs));
	h->adopted = calloc((size_t)(cfg->nbackends ? cfg->nbackends : 1), sizeof(*h->adopted));
	if (!h->srvs || !h->adopted)
		return -1;
	for (int b = 0; b < cfg->nbackends; b++)
		if (hc_backend_init(h, cfg->backends[b]) < 0)
			return -1;
	h->nwatch = outlier_watch_init(cfg, &h->watch);
	if (h->nwatch < 0)
		return -1;
	h->sweep = h->nwatch > 0;
	if (h->sweep) {
		timer_init(&h->sweep_timer, sweep_timer_cb);
		timer_set(&h->loop, &h->sweep_timer, h->loop.now + HC_SWEEP_MS);
	}
	h->adopt = nbe_checked > 0;
	if (h->adopt) {
		timer_init(&h->adopt_timer, adopt_timer_cb);
		timer_set(&h->loop, &h->adopt_timer, h->loop.now + HC_ADOPT_MS);
	}
	if (health_wake_init(h) < 0)
		return -1;
	if (nchecked)
		log_info("health checks: %d server%s", nchecked, nchecked == 1 ? "" : "s");
	return 0;
}

int health_start(const struct cfg *cfg, struct health **out)
{
	bool needed = false;

	*out = NULL;
	for (int b = 0; b < cfg->nbackends; b++)
		if (cfg->backends[b]->health.kind != HEALTH_NONE || cfg->backends[b]->outlier.enabled)
			needed = true;
	if (!needed)
		return 0;

	struct health *h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	h->cfg = cfg;
	h->wake_fd = -1;
	if (loop_init(&h->loop) < 0) {
		health_free(h);
		return -1;
	}
	if (health_setup(h) < 0) {
		log_err("health checks: out of memory or descriptors: %s", strerror(errno));
		health_free(h);
		return -1;
	}
	if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
		log_err("cannot start the health check thread");
		health_free(h);
		return -1;
	}
	h->started = true;
	*out = h;
	return 0;
}

void health_stop(struct health *h)
{
	if (!h)
		return;
	if (h->started) {
		uint64_t one = 1;
		ssize_t r = write(h->wake_fd, &one, sizeof(one));
		(void)r;
		pthread_join(h->thread, NULL);
	}
	health_free(h);
}
