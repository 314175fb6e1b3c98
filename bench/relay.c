/*
 * relay.c - the floor of an epoll proxy, for the benchmark only.
 *
 * Not part of gatehouse: `BENCH_PROXIES=... relay` builds it (bench.py)
 * and runs it like the proxies.  Each client connection gets its own
 * server connection, and bytes are copied both ways with one recv() and
 * one send() per readiness event: no HTTP parsing, no routing, no
 * buffering policy, no timers.  A keep-alive request through it costs
 * the same four socket calls as through any epoll proxy (a recv and a
 * send on each side) plus its share of epoll_wait, and nothing else, so
 * its CPU per request is what kernel and loop cost before any proxy
 * logic: the lowest an epoll-based gatehouse could reach.
 *
 * Usage: relay PORT ORIGIN_PORT (both on 127.0.0.1); relay -t checks
 * nothing and exits 0 (bench.py's config check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUFSZ (64 * 1024)

static int peer[MAXFD];          /* the other end of each fd, or -1 */
static char buf[BUFSZ];

static struct sockaddr_in addr_of(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void drop(int ep, int fd)
{
	int p = peer[fd];
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	peer[fd] = -1;
	if (p >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, p, NULL);
		close(p);
		peer[p] = -1;
	}
}

/* All of data to fd; a rare partial send waits for room (poll) rather
 * than buffering: the bench's bodies fit the socket buffers. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, 1000);
		} else if (w < 0 && errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

static void on_accept(int ep, int lfd, int origin)
{
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0)
			return;
		/* Connected while blocking (loopback: at once), then non-blocking. */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in o = addr_of(origin);
		int one = 1;
		if (s < 0 || c >= MAXFD || s >= MAXFD ||
		    connect(s, (struct sockaddr *)&o, sizeof(o)) < 0 ||
		    fcntl(s, F_SETFL, O_NONBLOCK) < 0) {
			close(c);
			if (s >= 0)
				close(s);
			continue;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		peer[c] = s;
		peer[s] = c;
		struct epoll_event ev = { .events = EPOLLIN };
		ev.data.fd = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
		ev.data.fd = s;
		epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	}
}

/* One recv, then all of it to the peer; EOF or an error ends both. */
static void on_readable(int ep, int fd)
{
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || peer[fd] < 0 || send_all(peer[fd], buf, (size_t)n) < 0)
		drop(ep, fd);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "-t") == 0)
		return 0;
	if (argc != 3) {
		fprintf(stderr, "usage: relay PORT ORIGIN_PORT | relay -t\n");
		return 2;
	}
	int port = atoi(argv[1]), origin = atoi(argv[2]);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {   /* two descriptors per client */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = addr_of(port);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0) {
		perror("relay: listen");
		return 1;
	}
	for (int i = 0; i < MAXFD; i++)
		peer[i] = -1;
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd)
				on_accept(ep, lfd, origin);
			else if (peer[fd] >= 0)   /* not closed earlier in this batch */
				on_readable(ep, fd);
		}
	}
}
