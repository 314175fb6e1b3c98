/*
 * uring.c - batched sends over io_uring (see uring.h).
 */
#include <errno.h>
#include <liburing.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "core/loop.h"
#include "core/log.h"
#include "net/conn.h"
#include "net/uring.h"

#define URING_ENTRIES 256
#define URING_FREE_MAX 64     /* send objects kept for reuse per thread */
#define URX_TAG 1ul           /* user_data of a read: the urx, low bit set */

/* A read ahead: what recv() gave for a connection epoll said was readable,
 * kept until its owner asks (conn_recv). */
struct urx {
	struct urx *next;         /* free list */
	int res;                  /* recv's result: >0 bytes, 0 EOF, -errno */
	uint32_t off;             /* data[off..res) not taken yet */
	bool pending;             /* submitted, completion not reaped */
	bool more;                /* readable again since: the socket has more */
	char data[URING_RX_SIZE];
};

struct usend {
	struct usend *next;       /* staged list, then free list */
	struct usend *onext;      /* orphan list */
	struct conn *c;           /* owner; NULL once the connection let go */
	int fd;
	uint32_t off, len;        /* data[off..len) is still to send */
	uint64_t deadline;        /* orphan: cancelled after (loop ms) */
	bool inflight;            /* submitted, completion not reaped */
	bool waiter;              /* the owner was told "blocked": wake it */
	bool done;                /* settled while staged: skip and free */
	bool close_after, shutw_after, cancelled;
	int dres;                 /* result held while reads are pending */
	struct usend *dnext;      /* list of those */
	char data[URING_SEND_MAX];
};

struct uring {
	struct io_uring ring;
	/* The ring's fd in epoll (level-triggered, readable while completions
	 * wait): a send that completes while the loop sleeps (a slow client
	 * finally reading) wakes it; the loop has no periodic tick. */
	struct ev_io ring_io;
	struct loop *loop;
	struct usend *staged;     /* waiting for the next submit */
	struct usend *orphans;    /* in the kernel for a closed connection */
	struct usend *freel;
	uint32_t nfree;
	uint32_t inflight;
	struct conn **byfd;       /* the connection an fd belongs to */
	int nbyfd;
	struct urx *rxfree;
	uint32_t nrxfree, rxpending;
	struct usend *held;       /* send completions held while reads are pending */
	struct timer orphan_timer; /* wakes the loop for an orphan's deadline */
};

__thread struct uring *uring_tl;

static struct usend *us_get(struct uring *u)
{
	struct usend *us = u->freel;
	if (us) {
		u->freel = us->next;
		u->nfree--;
	} else {
		us = malloc(sizeof(*us));
		if (!us)
			return NULL;
	}
	memset(us, 0, offsetof(struct usend, data));
	return us;
}

static void us_put(struct uring *u, struct usend *us)
{
	if (u->nfree >= URING_FREE_MAX) {
		free(us);
		return;
	}
	us->next = u->freel;
	u->freel = us;
	u->nfree++;
}

static void orphan_unlink(struct uring *u, struct usend *us)
{
	for (struct usend **pp = &u->orphans; *pp; pp = &(*pp)->onext)
		if (*pp == us) {
			*pp = us->onext;
			return;
		}
}

ssize_t uring_send(struct conn *c, const void *buf, size_t len)
{
	struct uring *u = uring_tl;
	struct usend *us = c->us;

	if (us) {
		if (!us->inflight && len <= URING_SEND_MAX - us->len) {
			memcpy(us->data + us->len, buf, len);
			us->len += (uint32_t)len;
			return (ssize_t)len;
		}
		us->waiter = true;   /* woken by the completion */
		return 0;
	}
	if (len > URING_SEND_MAX || !(us = us_get(u)))
		return -2;
	us->c = c;
	us->fd = c->io.fd;
	us->len = (uint32_t)len;
	memcpy(us->data, buf, len);
	us->next = u->staged;
	u->staged = us;
	c->us = us;
	return (ssize_t)len;
}

/* Sends a staged object's bytes now with send().  Returns true when it is
 * settled (all sent, or a hard error: the socket is going away anyway). */
static bool us_send_now(struct usend *us)
{
	ssize_t n = send(us->fd, us->data + us->off, us->len - us->off, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
	us->off += (uint32_t)n;
	return us->off == us->len;
}

bool uring_conn_close(struct loop *l, struct conn *c)
{
	struct usend *us = c->us;
	struct uring *u = uring_tl;

	c->us = NULL;
	us->c = NULL;
	if (!us->inflight && us_send_now(us)) {
		us->done = true;     /* freed by the next submit */
		return false;
	}
	/* The peer does not read fast enough: the fd stays open (out of
	 * epoll, its ev_io is about to be freed) until the send completes. */
	us->close_after = true;
	us->deadline = l->now + URING_ORPHAN_MS;
	us->onext = u->orphans;
	u->orphans = us;
	if (!u->orphan_timer.when)   /* a loop may otherwise sleep past it */
		timer_set(l, &u->orphan_timer, us->deadline);
	loop_del(l, &c->io);
	return true;
}

bool uring_conn_shutw(struct conn *c)
{
	struct usend *us = c->us;

	if (!us->inflight && us_send_now(us)) {
		us->done = true;
		us->c = NULL;
		c->us = NULL;
		return false;
	}
	us->shutw_after = true;
	return true;
}

static void us_complete(struct uring *u, struct usend *us, int res)
{
	us->inflight = false;
	u->inflight--;
	if (res > 0)
		us->off += (uint32_t)res;
	if (res > 0 && us->off < us->len && !us->cancelled) {
		us->next = u->staged;     /* short: the rest goes next */
		u->staged = us;
		return;
	}
	struct conn *c = us->c;
	if (!c) {
		orphan_unlink(u, us);
		close(us->fd);
		us_put(u, us);
		return;
	}
	c->us = NULL;
	bool wake = us->waiter, shutw = us->shutw_after;
	us_put(u, us);
	if (res < 0) {
		c->err = -res;
		c->flags |= CONN_F_ERROR;
		c->flags &= (uint16_t)~(CONN_F_RECV_READY | CONN_F_SEND_READY);
		if (c->io.cb)
			c->io.cb(&c->io, EPOLLERR);
		return;
	}
	if (shutw)
		shutdown(c->io.fd, SHUT_WR);
	if (wake && c->io.cb)
		c->io.cb(&c->io, EPOLLOUT);
}

/* Completions of this ring, each handled as it is taken off: a handler may
 * stage, close or free anything. */
static void reap(struct uring *u)
{
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		if (ud & URX_TAG) {
			struct urx *rx = (struct urx *)(ud & ~URX_TAG);
			rx->res = res;
			rx->pending = false;
			u->rxpending--;
		} else if (ud && u->rxpending) {
			/* Its handler may read a connection whose read ahead
			 * is still in the kernel: after every read is in. */
			struct usend *us = (struct usend *)ud;
			us->dres = res;
			us->dnext = u->held;
			u->held = us;
		} else if (ud) {
			us_complete(u, (struct usend *)ud, res);
		}
	}
}

static struct io_uring_sqe *get_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* One io_uring_enter for every staged send.  Returns how many it submitted. */
static int submit_staged(struct uring *u)
{
	struct usend *list = u->staged;
	int n = 0;

	u->staged = NULL;
	while (list) {
		struct usend *us = list;
		list = us->next;
		if (us->done) {
			us_put(u, us);
			continue;
		}
		struct io_uring_sqe *sqe = get_sqe(u);
		if (!sqe) {
			/* Ring full and not submittable: keep it for the next turn. */
			us->next = u->staged;
			u->staged = us;
			continue;
		}
		io_uring_prep_send(sqe, us->fd, us->data + us->off, us->len - us->off,
				   MSG_NOSIGNAL | MSG_WAITALL);
		io_uring_sqe_set_data(sqe, us);
		us->inflight = true;
		u->inflight++;
		n++;
	}
	if (n)
		io_uring_submit(&u->ring);
	return n;
}

static void cancel_expired(struct uring *u)
{
	for (struct usend *us = u->orphans; us; us = us->onext) {
		if (us->cancelled || !us->inflight || us->deadline > u->loop->now)
			continue;
		struct io_uring_sqe *sqe = get_sqe(u);
		if (!sqe)
			return;
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)us, 0);
		io_uring_sqe_set_data(sqe, NULL);
		us->cancelled = true;
	}
	io_uring_submit(&u->ring);
}

static void orphan_timer_cb(struct timer *t)
{
	struct uring *u = (struct uring *)((char *)t - offsetof(struct uring, orphan_timer));
	cancel_expired(u);
	uint64_t next = 0;
	for (struct usend *us = u->orphans; us; us = us->onext)
		if (!us->cancelled && (!next || us->deadline < next))
			next = us->deadline;
	if (next)
		timer_set(u->loop, &u->orphan_timer, next);
}

static void nothing(void *arg)
{
	(void)arg;
}

static void uring_before_wait(struct loop *l, void *arg)
{
	struct uring *u = arg;
	(void)l;
	reap(u);
	/* Wakes from completions may stage more: a few rounds, then leave
	 * the rest to the next turn (a defer keeps that wait at zero). */
	for (int round = 0; u->staged && round < 8; round++) {
		submit_staged(u);
		reap(u);
	}
	if (u->staged)
		loop_defer(l, nothing, NULL);
	if (u->orphans)
		cancel_expired(u);
}

/* ---- reads ahead ---- */

void uring_conn_track(struct conn *c)
{
	struct uring *u = uring_tl;
	int fd = c->io.fd;
	if (fd >= u->nbyfd) {
		int n = u->nbyfd ? u->nbyfd : 1024;
		while (n <= fd)
			n *= 2;
		struct conn **t = realloc(u->byfd, (size_t)n * sizeof(*t));
		if (!t)
			return;    /* not tracked: no read ahead for it */
		memset(t + u->nbyfd, 0, (size_t)(n - u->nbyfd) * sizeof(*t));
		u->byfd = t;
		u->nbyfd = n;
	}
	u->byfd[fd] = c;
}

static void rx_put(struct uring *u, struct urx *rx)
{
	if (u->nrxfree >= URING_FREE_MAX) {
		free(rx);
		return;
	}
	rx->next = u->rxfree;
	u->rxfree = rx;
	u->nrxfree++;
}

void uring_conn_untrack(struct conn *c)
{
	struct uring *u = uring_tl;
	int fd = c->io.fd;
	if (u && fd >= 0 && fd < u->nbyfd && u->byfd[fd] == c)
		u->byfd[fd] = NULL;
	if (c->rx) {
		/* Reads are reaped before any callback: never pending here. */
		if (u)
			rx_put(u, c->rx);
		else
			free(c->rx);
		c->rx = NULL;
	}
}

ssize_t uring_recv(struct conn *c, void *buf, size_t len)
{
	struct urx *rx = c->rx;
	int res = rx->res;

	if (rx->pending) {   /* cannot happen: reads are reaped before callbacks */
		errno = EAGAIN;
		return -1;
	}
	if (res > 0) {
		size_t avail = (size_t)res - rx->off;
		size_t n = len < avail ? len : avail;
		memcpy(buf, rx->data + rx->off, n);
		rx->off += (uint32_t)n;
		if (rx->off < (uint32_t)res)
			return (ssize_t)n;
		/* Taken whole.  A short read drained the socket (as in
		 * conn_recv); a full one may have left more: the next call
		 * reads the socket. */
		c->rx = NULL;
		bool more = rx->more;
		rx_put(uring_tl, rx);
		if (res < URING_RX_SIZE && n < len && !more && !(c->flags & CONN_F_HUP))
			c->flags &= (uint16_t)~CONN_F_RECV_READY;
		return (ssize_t)n;
	}
	c->rx = NULL;
	rx_put(uring_tl, rx);
	if (res == 0) {
		c->flags |= CONN_F_RD_EOF;
		c->flags &= (uint16_t)~CONN_F_RECV_READY;
		return 0;
	}
	if (res == -EAGAIN || res == -EINTR)
		return -2;   /* nothing was there: ask the socket itself */
	c->flags |= CONN_F_ERROR;
	c->flags &= (uint16_t)~(CONN_F_RECV_READY | CONN_F_SEND_READY);
	c->err = -res;
	errno = -res;
	return -1;
}

/* Every plain TCP connection this batch says is readable, and whose owner
 * reads through conn_recv, gets its recv in one io_uring_enter; conn_recv
 * then copies from it.  MSG_DONTWAIT: each completes during the submit. */
static void uring_before_dispatch(struct loop *l, void *arg, struct epoll_event *evs, int n)
{
	struct uring *u = arg;
	int k = 0;
	(void)l;

	for (int i = 0; i < n; i++) {
		if (!(evs[i].events & EPOLLIN))
			continue;
		struct ev_io *io = evs[i].data.ptr;
		if (!io->cb || io->fd < 0 || io->fd >= u->nbyfd)
			continue;
		struct conn *c = u->byfd[io->fd];
		if (c && &c->io == io && c->rx) {
			/* Not taken yet, and more came: whoever takes it
			 * must not think the socket drained. */
			c->rx->more = true;
			continue;
		}
		/* Data only: an error, a reset or an EOF is left to the socket
		 * (a recv here would consume the error a peek looks for). */
		if ((evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != EPOLLIN)
			continue;
		if (!c || &c->io != io || c->xprt != &xprt_raw ||
		    (c->flags & (CONN_F_RX_OWNED | CONN_F_RD_EOF | CONN_F_ERROR)) != CONN_F_RX_OWNED)
			continue;
		struct urx *rx = u->rxfree;
		if (rx) {
			u->rxfree = rx->next;
			u->nrxfree--;
		} else if (!(rx = malloc(sizeof(*rx)))) {
			break;
		}
		struct io_uring_sqe *sqe = get_sqe(u);
		if (!sqe) {
			rx_put(u, rx);
			break;
		}
		rx->off = 0;
		rx->res = -EAGAIN;
		rx->pending = true;
		rx->more = false;
		io_uring_prep_recv(sqe, io->fd, rx->data, URING_RX_SIZE, MSG_DONTWAIT);
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)rx | URX_TAG));
		u->rxpending++;
		c->rx = rx;
		k++;
	}
	if (!k)
		return;
	io_uring_submit(&u->ring);
	reap(u);
	while (u->rxpending) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&u->ring, &cqe) < 0)
			break;
		reap(u);
	}
	while (u->held) {
		struct usend *us = u->held;
		u->held = us->dnext;
		us_complete(u, us, us->dres);
	}
}

static void ring_readable(struct ev_io *io, uint32_t events)
{
	struct uring *u = (struct uring *)((char *)io - offsetof(struct uring, ring_io));
	(void)events;
	reap(u);
}

int uring_attach(struct loop *l, char *err, size_t elen)
{
	struct uring *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	int rc = io_uring_queue_init(URING_ENTRIES, &u->ring, 0);
	if (rc < 0) {
		snprintf(err, elen, "io_uring_queue_init: %s", strerror(-rc));
		free(u);
		return -1;
	}
	u->loop = l;
	u->ring_io.fd = u->ring.ring_fd;
	u->ring_io.cb = ring_readable;
	if (loop_add_events(l, &u->ring_io, EPOLLIN) < 0) {
		snprintf(err, elen, "epoll_ctl(io_uring fd): %s", strerror(errno));
		io_uring_queue_exit(&u->ring);
		free(u);
		return -1;
	}
	timer_init(&u->orphan_timer, orphan_timer_cb);
	uring_tl = u;
	l->before_wait = uring_before_wait;
	l->before_wait_arg = u;
	if (getenv("GH_URING_NORX") == NULL)   /* measuring: sends only */
		l->before_dispatch = uring_before_dispatch;
	return 0;
}

void uring_detach(struct loop *l)
{
	if (l->before_wait != uring_before_wait)
		return;
	struct uring *u = l->before_wait_arg;
	timer_del(l, &u->orphan_timer);
	loop_del(l, &u->ring_io);
	submit_staged(u);
	reap(u);
	/* What is still in the kernel: a second for it, then cancelled. */
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;
	uint64_t end = loop_clock_ms() + 1000;
	while (u->inflight && loop_clock_ms() < end &&
	       io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) == 0)
		reap(u);
	if (u->inflight) {
		struct io_uring_sqe *sqe = get_sqe(u);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data(sqe, NULL);
			io_uring_submit(&u->ring);
		}
		ts.tv_sec = 1;
		while (u->inflight && io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts) == 0)
			reap(u);
	}
	/* Staged by the handlers above, or never submitted: let go. */
	while (u->staged) {
		struct usend *us = u->staged;
		u->staged = us->next;
		if (us->c) {
			us->c->us = NULL;
		} else if (!us->done) {
			orphan_unlink(u, us);
			close(us->fd);
		}
		free(us);
	}
	while (u->orphans) {   /* only if the kernel never answered */
		struct usend *us = u->orphans;
		u->orphans = us->onext;
		close(us->fd);
	}
	while (u->freel) {
		struct usend *us = u->freel;
		u->freel = us->next;
		free(us);
	}
	while (u->rxfree) {
		struct urx *rx = u->rxfree;
		u->rxfree = rx->next;
		free(rx);
	}
	free(u->byfd);
	io_uring_queue_exit(&u->ring);
	if (uring_tl == u)
		uring_tl = NULL;
	l->before_wait = NULL;
	l->before_dispatch = NULL;
	l->before_wait_arg = NULL;
	free(u);
}
