/*
 * pipe_harness.h - drives the proxy pipeline in-process, without real
 * origins or threads: for unit tests (tests/unit/test_pipeline.c) and the
 * pipeline fuzz target (fuzz/fuzz_pipeline.c).
 *
 * One harness = one configuration + one worker run on the calling thread,
 * a loop turn at a time (loop_run_once), so nothing ever blocks:
 *
 *   test --ph_send--> [client end] ==socketpair== session_accept() (fake peer)
 *                                                   | the steps
 *   test <-ph_recv_*- [server end] <==TCP== 127.0.0.1:port (the scripted server)
 *
 * The configuration text names the scripted server as @SRV@ (replaced by
 * its 127.0.0.1:PORT); its frontends need a bind line but none is opened.
 * Every wait is a bounded pump of the worker's loop; the test reads what
 * each side got with exact byte comparisons.  ph_close() frees everything
 * (tests run under ASan with leak detection) and reports whether every
 * client connection had ended.
 *
 * Header-only with static functions because the Makefile builds each
 * tests/unit/test_*.c on its own; `PH_FN` keeps unused ones quiet.
 */
#ifndef GH_PIPE_HARNESS_H
#define GH_PIPE_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config/cfg.h"
#include "core/loop.h"
#include "lb/lb.h"
#include "proxy/filter.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

#define PH_FN static __attribute__((unused))
#define PH_MAX_SRV 64          /* server connections one harness keeps track of */

/* One end the test holds: its socket and what has been read from it. */
struct ph_end {
	int fd;                  /* -1 once closed by the test */
	char *in;                /* bytes read, not yet consumed (NUL-terminated) */
	size_t len, cap;
	size_t total;            /* bytes ever read */
	bool eof;                /* the proxy closed (or reset) its side */
};

struct ph {
	struct cfg *cfg;
	struct worker w;
	bool inited, entered;    /* worker_fini / worker_leave are owed */
	int lfd;                 /* the scripted server's listening socket */
	uint16_t port;
	struct ph_end cli;       /* the client connection of the test */
	struct ph_end srv[PH_MAX_SRV];   /* accepted server connections, in order */
	int nsrv;
	int ntaken;              /* of those, handed to the test by ph_srv_accept */
};

/* ---- ends ---- */

PH_FN void ph_end_init(struct ph_end *e, int fd)
{
	memset(e, 0, sizeof(*e));
	e->fd = fd;
}

PH_FN void ph_end_free(struct ph_end *e, bool reset)
{
	if (e->fd >= 0) {
		/* RST: no TIME_WAIT left behind thousands of fuzz runs */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		if (reset)
			setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(e->fd);
	}
	free(e->in);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

/* Reads whatever is there without waiting; true if anything came. */
PH_FN bool ph_end_drain(struct ph_end *e)
{
	bool got = false;

	while (e->fd >= 0 && !e->eof) {
		if (e->cap - e->len < 4097) {
			size_t cap = e->cap ? e->cap * 2 : 8192;
			char *p = realloc(e->in, cap);
			if (!p)
				abort();
			e->in = p;
			e->cap = cap;
		}
		ssize_t n = recv(e->fd, e->in + e->len, e->cap - e->len - 1, MSG_DONTWAIT);
		if (n > 0) {
			e->len += (size_t)n;
			e->total += (size_t)n;
			e->in[e->len] = '\0';
			got = true;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			e->eof = true;
		break;
	}
	return got;
}

/* Drops the first n bytes read (the test has checked them). */
PH_FN void ph_consume(struct ph_end *e, size_t n)
{
	if (n > e->len)
		n = e->len;
	memmove(e->in, e->in + n, e->len - n);
	e->len -= n;
	if (e->in)
		e->in[e->len] = '\0';
}

/* ---- the loop ---- */

/* Accepts the proxy's pending server connections (never waits). */
PH_FN void ph_srv_accept_pending(struct ph *h)
{
	/* accept4 makes a socket before it finds the queue empty: ask first */
	struct pollfd p = { .fd = h->lfd, .events = POLLIN };

	if (h->lfd < 0 || poll(&p, 1, 0) != 1)
		return;
	while (h->lfd >= 0 && h->nsrv < PH_MAX_SRV) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* no Nagle: a split write must not wait for a delayed ACK */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ph_end_init(&h->srv[h->nsrv++], fd);
	}
}

/* One loop turn waiting at most ms, then both sides read. */
PH_FN void ph_turn(struct ph *h, int ms)
{
	loop_run_once(&h->w.loop, ms);
	ph_srv_accept_pending(h);
	ph_end_drain(&h->cli);
	for (int i = 0; i < h->nsrv; i++)
		ph_end_drain(&h->srv[i]);
}

/* Runs the worker for about ms milliseconds (at least one turn). */
PH_FN void ph_pump(struct ph *h, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)(ms > 0 ? ms : 0);

	do {
		uint64_t now = loop_clock_ms();
		ph_turn(h, now < end ? (int)(end - now) : 0);
	} while (loop_clock_ms() < end);
}

/* Turns with no wait, a bounded number of them (fuzzing: no sleep). */
PH_FN void ph_spin(struct ph *h, int turns)
{
	for (int i = 0; i < turns; i++)
		ph_turn(h, 0);
}

/* Pumps (10 ms turns) until e->in holds `needle`, at most ms.  Returns the
 * offset just past it, or -1. */
PH_FN ssize_t ph_recv_until(struct ph *h, struct ph_end *e, const char *needle, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	for (;;) {
		char *p = e->in ? memmem(e->in, e->len, needle, strlen(needle)) : NULL;
		if (p)
			return (p - e->in) + (ssize_t)strlen(needle);
		if (e->eof || loop_clock_ms() >= end)
			return -1;
		ph_turn(h, 10);
	}
}

/* Pumps until e has at least n bytes, at most ms.  True if it has. */
PH_FN bool ph_recv_n(struct ph *h, struct ph_end *e, size_t n, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (e->len < n && !e->eof && loop_clock_ms() < end)
		ph_turn(h, 10);
	return e->len >= n;
}

/* Pumps until the proxy closed its side of e, at most ms. */
PH_FN bool ph_recv_eof(struct ph *h, struct ph_end *e, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (!e->eof && loop_clock_ms() < end)
		ph_turn(h, 10);
	return e->eof;
}

/* Content-Length of the head at the start of e->in (case-insensitive), 0. */
PH_FN size_t ph_head_clen(const char *head, size_t head_len)
{
	static const char name[] = "\r\ncontent-length:";

	for (size_t i = 0; i + sizeof(name) - 1 <= head_len; i++)
		if (strncasecmp(head + i, name, sizeof(name) - 1) == 0)
			return (size_t)strtoul(head + i + sizeof(name) - 1, NULL, 10);
	return 0;
}

/* Pumps until e holds a whole head and its Content-Length body (no
 * chunked bodies), at most ms.  Returns its length, or -1. */
PH_FN ssize_t ph_recv_msg(struct ph *h, struct ph_end *e, int ms)
{
	ssize_t hl = ph_recv_until(h, e, "\r\n\r\n", ms);

	if (hl < 0)
		return -1;
	size_t total = (size_t)hl + ph_head_clen(e->in, (size_t)hl);
	return ph_recv_n(h, e, total, ms) ? (ssize_t)total : -1;
}

/* The proxy's next server connection the test has not had yet (accepted
 * meanwhile or waited for, pumping, at most ms), or NULL. */
PH_FN struct ph_end *ph_srv_accept(struct ph *h, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (h->nsrv <= h->ntaken && loop_clock_ms() < end)
		ph_turn(h, 10);
	return h->nsrv > h->ntaken ? &h->srv[h->ntaken++] : NULL;
}

/* A connection the proxy opened that nobody accepted yet? */
PH_FN bool ph_srv_pending(struct ph *h)
{
	struct pollfd p = { .fd = h->lfd, .events = POLLIN };

	return h->lfd >= 0 && poll(&p, 1, 0) == 1;
}

/* ---- sending ---- */

/* Writes all of data to e (pumping while the socket is full).  Returns
 * false if the proxy went away first. */
PH_FN bool ph_send(struct ph *h, struct ph_end *e, const void *data, size_t len)
{
	const char *p = data;

	for (int stuck = 0; len && stuck < 1000;) {
		ssize_t n = send(e->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stuck = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;
		ph_turn(h, 1);
		stuck++;
	}
	return len == 0;
}

PH_FN bool ph_send_str(struct ph *h, struct ph_end *e, const char *s)
{
	return ph_send(h, e, s, strlen(s));
}

/* Writes data `step` bytes at a time with a loop turn after each piece,
 * so the proxy reads it in that many pieces. */
PH_FN bool ph_send_split(struct ph *h, struct ph_end *e, const char *data, size_t len,
			 size_t step)
{
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		if (!ph_send(h, e, data + off, n))
			return false;
		ph_turn(h, 0);
	}
	return true;
}

/* ---- set up, tear down ---- */

/* cfg text with every @SRV@ replaced by 127.0.0.1:port (malloc'd). */
PH_FN char *ph_cfg_text(const char *tmpl, uint16_t port)
{
	char addr[32];
	size_t alen = (size_t)snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	char *out = malloc(strlen(tmpl) * 2 + 64), *o = out;

	if (!out)
		return NULL;
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, "@SRV@", 5) == 0) {
			memcpy(o, addr, alen);
			o += alen;
			p += 5;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

PH_FN int ph_listen(struct ph *h)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(h->lfd, 64) < 0 || getsockname(h->lfd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	h->port = ntohs(a.sin_port);
	return 0;
}

PH_FN int ph_load(struct ph *h, const char *tmpl, bool quiet)
{
	char *text = ph_cfg_text(tmpl, h->port), *errs = NULL;
	const char *ferr = NULL;

	if (!text)
		return -1;
	h->cfg = cfg_load_string("harness.conf", text, strlen(text), &errs);
	free(text);
	if (!h->cfg) {
		if (!quiet)
			fprintf(stderr, "harness: config: %s\n", errs ? errs : "?");
		free(errs);
		return -1;
	}
	if (registry_sync(h->cfg) < 0)
		return -1;
	if (filters_init(h->cfg, &ferr) < 0) {
		if (!quiet)
			fprintf(stderr, "harness: filters: %s\n", ferr);
		return -1;
	}
	return 0;
}

PH_FN void ph_close(struct ph *h);

/*
 * Loads the configuration (see the banner for @SRV@) and starts a worker
 * on this thread.  0, or -1 with everything freed.
 */
PH_FN int ph_open(struct ph *h, const char *cfg_tmpl)
{
	memset(h, 0, sizeof(*h));
	h->lfd = -1;
	h->w.wake_fd = -1;
	ph_end_init(&h->cli, -1);
	signal(SIGPIPE, SIG_IGN);
	if (ph_listen(h) < 0 || ph_load(h, cfg_tmpl, false) < 0)
		goto fail;
	h->inited = true;
	if (worker_init(&h->w, 0, h->cfg, false) < 0)
		goto fail;
	h->entered = true;
	if (worker_enter(&h->w) < 0)
		goto fail;
	return 0;
fail:
	ph_close(h);
	return -1;
}

/* A new client connection from `ip` (IPv4 text) on the first frontend;
 * the test's end is h->cli (a previous one is closed first). */
PH_FN bool ph_client_from(struct ph *h, const char *ip)
{
	struct sockaddr_storage peer = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
	int sv[2];

	ph_end_free(&h->cli, false);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	ph_end_init(&h->cli, sv[0]);
	/* what the listener does: the stream gives the count back when it ends */
	atomic_fetch_add_explicit(&g_conns, 1, memory_order_relaxed);
	session_accept(&h->w, h->cfg->frontends[0], NULL, sv[1], &peer);
	return true;
}

PH_FN bool ph_client(struct ph *h)
{
	return ph_client_from(h, "127.0.0.1");
}

/* The scripted server goes away (its listener first, so a retry is
 * refused rather than left waiting in the backlog; connections with a
 * reset) and so does the client; then the worker runs a few turns.  True
 * if no client stream is left. */
PH_FN bool ph_hangup(struct ph *h, int turns)
{
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
	ph_end_free(&h->cli, false);
	for (int i = 0; i < h->nsrv; i++)
		ph_end_free(&h->srv[i], true);
	ph_spin(h, turns);
	return h->w.nsessions == 0;
}

/*
 * Frees everything: the ends, the worker (streams still open are killed),
 * the configuration and its runtime state.  The connection count must be
 * back to 0 afterwards (checked by the caller via g_conns).
 */
PH_FN void ph_close(struct ph *h)
{
	ph_end_free(&h->cli, false);
	for (int i = 0; i < h->nsrv; i++)
		ph_end_free(&h->srv[i], true);
	h->nsrv = h->ntaken = 0;
	if (h->lfd >= 0)
		close(h->lfd);
	h->lfd = -1;
	if (h->entered)
		worker_leave(&h->w);
	if (h->inited)
		worker_fini(&h->w);
	h->entered = h->inited = false;
	if (h->cfg) {
		filters_free(h->cfg);
		registry_free();
		cfg_free(h->cfg);
	}
	h->cfg = NULL;
}

#endif
