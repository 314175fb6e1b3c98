/*
 * conn.c - raw TCP transport and connection helpers (see conn.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "net/conn.h"
#include "net/uring.h"

static ssize_t raw_recv(struct conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->io.fd, buf, len, 0);
	return n;
}

static ssize_t raw_send(struct conn *c, const void *buf, size_t len)
{
	return send(c->io.fd, buf, len, MSG_NOSIGNAL);
}

static void raw_shutw(struct conn *c)
{
	shutdown(c->io.fd, SHUT_WR);
}

static void raw_close(struct conn *c)
{
	close(c->io.fd);
}

const struct xprt xprt_raw = {
	.name = "raw",
	.recv = raw_recv,
	.send = raw_send,
	.shutw = raw_shutw,
	.close = raw_close,
};

void conn_init(struct conn *c, int fd, ev_io_cb cb)
{
	c->io.fd = fd;
	c->io.cb = cb;
	c->flags = 0;
	c->err = 0;
	c->xprt = &xprt_raw;
	c->xprt_ctx = NULL;
	c->us = NULL;
	c->rx = NULL;
	if (uring_tl && fd >= 0)
		uring_conn_track(c);
}

void conn_on_events(struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->flags |= CONN_F_RECV_READY;
	if (ev & (EPOLLRDHUP | EPOLLHUP))
		c->flags |= CONN_F_HUP;
	if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		c->flags |= CONN_F_SEND_READY;
	/* TLS: a read that waited for writability (or the reverse) is retried. */
	if ((c->flags & CONN_F_RD_WANT_WR) && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		c->flags &= (uint16_t)~CONN_F_RD_WANT_WR;
		c->flags |= CONN_F_RECV_READY;
	}
	if ((c->flags & CONN_F_WR_WANT_RD) && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		c->flags &= (uint16_t)~CONN_F_WR_WANT_RD;
		c->flags |= CONN_F_SEND_READY;
	}
}

ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	ssize_t n;
	c->flags |= CONN_F_RX_OWNED;
	if (c->rx) {
		/* tune.io_uring: read ahead with the turn's other reads. */
		n = uring_recv(c, buf, len);
		if (n != -2)
			return n;
	}
	n = c->xprt->recv(c, buf, len);
	if (n > 0) {
		/* A short read drained the socket: with edge triggering the
		 * next arrival raises a new event, so skip the EAGAIN call -
		 * unless EOF is already known to be pending behind the data,
		 * or the transport may hold more already (TLS records). */
		if ((size_t)n < len && !(c->flags & CONN_F_HUP) && !c->xprt->buffers_input)
			c->flags &= ~CONN_F_RECV_READY;
		return n;
	}
	if (n == 0) {
		c->flags |= CONN_F_RD_EOF;
		c->flags &= ~CONN_F_RECV_READY;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->flags &= ~CONN_F_RECV_READY;
		return -1;
	}
	if (errno == EINTR)
		return -1;
	c->flags |= CONN_F_ERROR;
	c->flags &= ~(CONN_F_RECV_READY | CONN_F_SEND_READY);
	c->err = errno;
	return -1;
}

/* What a send of len bytes that returned n means for c: bytes taken (a
 * short count clears SEND_READY), 0 (the socket is full, or EINTR), or -1
 * (an error, kept in c->err). */
static ssize_t sent(struct conn *c, ssize_t n, size_t len)
{
	if (n >= 0) {
		if ((size_t)n < len)
			c->flags &= ~CONN_F_SEND_READY;
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->flags &= ~CONN_F_SEND_READY;
		return 0;
	}
	if (errno == EINTR)
		return 0;
	c->flags |= CONN_F_ERROR;
	c->flags &= ~(CONN_F_RECV_READY | CONN_F_SEND_READY);
	c->err = errno;
	return -1;
}

ssize_t conn_send(struct conn *c, const void *buf, size_t len)
{
	if (uring_tl && c->xprt == &xprt_raw) {
		/* tune.io_uring: staged, sent with the turn's other sends. */
		ssize_t n = uring_send(c, buf, len);
		if (n > 0)
			return n;
		if (n == 0) {
			c->flags &= (uint16_t)~CONN_F_SEND_READY;
			return 0;
		}
	}
	return sent(c, c->xprt->send(c, buf, len), len);
}

bool conn_can_sendv(const struct conn *c)
{
	return c->xprt == &xprt_raw && !uring_tl && !c->us;
}

ssize_t conn_sendv(struct conn *c, const struct iovec *iov, int iovcnt)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	return sent(c, sendmsg(c->io.fd, &mh, MSG_NOSIGNAL), len);
}

int conn_handshake(struct conn *c)
{
	if (!c->xprt->handshake)
		return 1;
	int r = c->xprt->handshake(c);
	if (r >= 0)
		return r;
	c->flags |= CONN_F_ERROR;
	c->flags &= ~(CONN_F_RECV_READY | CONN_F_SEND_READY);
	c->err = errno;
	return -1;
}

void conn_shutw(struct conn *c)
{
	if (c->flags & CONN_F_WR_SHUT)
		return;
	c->flags |= CONN_F_WR_SHUT;
	if (c->us && uring_conn_shutw(c))
		return;   /* shut after the staged bytes */
	c->xprt->shutw(c);
}

void conn_close(struct loop *l, struct conn *c)
{
	if (c->io.fd < 0)
		return;
	if (c->rx || uring_tl)
		uring_conn_untrack(c);
	if (c->us && uring_conn_close(l, c)) {
		c->io.fd = -1;   /* the ring closes it after its send */
		c->flags = 0;
		return;
	}
	loop_forget(&c->io);
	c->xprt->close(c);
	c->io.fd = -1;
	c->flags = 0;
}

int conn_connect(struct loop *l, struct conn *c, const struct sockaddr *addr, socklen_t len,
		 ev_io_cb cb)
{
	return conn_connect_ex(l, c, addr, len, cb, NULL, NULL);
}

int conn_connect_ex(struct loop *l, struct conn *c, const struct sockaddr *addr, socklen_t len,
		    ev_io_cb cb, conn_prep_fn prep, void *arg)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (addr->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (prep && prep(fd, arg) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	conn_init(c, fd, cb);
	if (connect(fd, addr, len) < 0) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			c->io.fd = -1;
			errno = e;
			return -1;
		}
		c->flags |= CONN_F_CONNECTING;
	} else {
		c->flags |= CONN_F_SEND_READY;
	}
	if (loop_add(l, &c->io) < 0) {
		int e = errno;
		close(fd);
		c->io.fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int conn_finish_connect(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		c->err = err;
		c->flags |= CONN_F_ERROR;
		c->flags &= ~CONN_F_CONNECTING;
		return -1;
	}
	c->flags &= ~CONN_F_CONNECTING;
	return 0;
}

size_t ip4_ntop(const void *addr, char out[16])
{
	/* inet_ntop() costs more than a whole rule: this runs per request for
	 * X-Forwarded-For, %[src] and access logs. */
	const unsigned char *a = addr;
	char *p = out;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	return (size_t)(p - out - 1);
}

const char *addr_ntop(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET && len >= 16) {
		ip4_ntop(&((const struct sockaddr_in *)sa)->sin_addr, out);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && len >= 16)
			ip4_ntop(&s6->sin6_addr.s6_addr[12], out);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)len);
	} else {
		snprintf(out, len, "unknown");
	}
	return out;
}
