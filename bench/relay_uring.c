/*
 * relay_uring.c - the floor of an io_uring proxy, for the benchmark only.
 *
 * The same byte copier as relay.c (one server connection per client
 * connection, bytes copied both ways, no HTTP, no timers), but with no
 * readiness loop and no socket call outside the ring once a connection
 * is up:
 *
 *   - one multishot accept on the listener;
 *   - per connection, one socket() and one setsockopt(TCP_NODELAY) for
 *     the server side (plain syscalls), then a connect over the ring;
 *   - one multishot recv per socket into a provided buffer ring (the
 *     kernel picks a buffer per completion);
 *   - a send from that same buffer to the peer (one send in flight per
 *     socket, later ones queued in order), the buffer going back to the
 *     ring when its send has completed;
 *   - a close is a cancel of the socket's requests linked to a close;
 *   - one io_uring_submit_and_wait() per loop turn: the only kernel entry
 *     of the steady state.
 *
 * Ring flags: SINGLE_ISSUER | DEFER_TASKRUN if the kernel takes them, else
 * COOP_TASKRUN, else none (RELAY_URING_MODE=defer|coop|plain forces a
 * start point; the mode used is printed on stderr).
 *
 * Not a proxy: no backpressure beyond the buffer ring (a socket whose
 * multishot recv ran out of buffers is re-armed once buffers come back),
 * no limits.  Its CPU per keep-alive request is what kernel and a ring
 * cost before any proxy logic.
 *
 * Usage: relay_uring PORT ORIGIN_PORT (127.0.0.1); relay_uring -t exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD (1 << 20)          /* fds fit in 20 bits of user_data */
#define NBUF 1024                /* provided buffers (power of two) */
#define BUFSZ (32 * 1024)
#define BGID 1
#define SQ_ENTRIES 1024
#define CQ_ENTRIES 16384

enum { OP_ACCEPT = 1, OP_CONNECT, OP_RECV, OP_SEND, OP_IGNORE };

struct fdst {
	uint32_t gen;            /* bumped when the fd is closed or reused */
	int peer;                /* -1: not in use */
	int inflight;            /* buffer whose send to this fd is in flight, or -1 */
	int qhead, qtail;        /* buffers waiting to be sent to this fd */
	unsigned char closing;   /* the pair closes once its sends are done */
	unsigned char hard;      /* ... without sending what is queued */
	unsigned char rearm;     /* recv to re-arm when buffers come back */
};

static struct fdst *st;
static int bnext[NBUF];          /* send queue link */
static uint32_t boff[NBUF], blen[NBUF];
static char *bufs;
static struct io_uring ring;
static struct io_uring_buf_ring *br;
static int nret;                 /* buffers added since the last advance */
static int lfd;
static struct sockaddr_in origin;
static int rearm_list[4096], nrearm;

static uint64_t ud(int op, int fd, int bid)
{
	return (uint64_t)st[fd].gen << 40 | (uint64_t)fd << 20 | (uint64_t)op << 16 |
	       (uint64_t)(bid & 0xffff);
}
#define UD_GEN(u) ((uint32_t)((u) >> 40))
#define UD_FD(u) ((int)(((u) >> 20) & 0xfffff))
#define UD_OP(u) ((int)(((u) >> 16) & 0xf))
#define UD_BID(u) ((int)((u) & 0xffff))

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&ring);
	while (!s) {
		io_uring_submit(&ring);
		s = io_uring_get_sqe(&ring);
	}
	return s;
}

static void buf_return(int bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUFSZ, BUFSZ, (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUF), nret++);
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *s = sqe_get();
	io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
	s->flags |= IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	io_uring_sqe_set_data64(s, ud(OP_RECV, fd, 0));
}

static void arm_accept(void)
{
	struct io_uring_sqe *s = sqe_get();
	io_uring_prep_multishot_accept(s, lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(s, (uint64_t)OP_ACCEPT << 16);
}

static void submit_send(int fd, int bid)
{
	struct io_uring_sqe *s = sqe_get();
	io_uring_prep_send(s, fd, bufs + (size_t)bid * BUFSZ + boff[bid], blen[bid] - boff[bid],
			   MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(s, ud(OP_SEND, fd, bid));
	st[fd].inflight = bid;
}

/* Starts the next queued send to fd if none is in flight. */
static void kick(int fd)
{
	struct fdst *f = &st[fd];
	if (f->inflight >= 0 || f->qhead < 0)
		return;
	int bid = f->qhead;
	f->qhead = bnext[bid];
	if (f->qhead < 0)
		f->qtail = -1;
	submit_send(fd, bid);
}

static void drop_queue(int fd)
{
	struct fdst *f = &st[fd];
	for (int b = f->qhead; b >= 0; b = bnext[b])
		buf_return(b);
	f->qhead = f->qtail = -1;
}

static void close_one(int fd)
{
	/* The cancel ends the socket's multishot recv (its last completion
	 * carries the old generation and is ignored); the close follows even
	 * if there was nothing to cancel (hard link). */
	struct io_uring_sqe *s = sqe_get();
	io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL);
	s->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(s, (uint64_t)OP_IGNORE << 16);
	s = sqe_get();
	io_uring_prep_close(s, fd);
	s->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(s, (uint64_t)OP_IGNORE << 16);
	st[fd].gen++;
	st[fd].peer = -1;
	st[fd].inflight = -1;
	st[fd].rearm = 0;
}

/* Closes the pair once no send to either side is in flight; queued data
 * is still sent first unless the close is hard (an error). */
static void try_close(int fd)
{
	int p = st[fd].peer;
	if (st[fd].hard || (p >= 0 && st[p].hard)) {
		drop_queue(fd);
		if (p >= 0)
			drop_queue(p);
	}
	if (st[fd].inflight >= 0 || (p >= 0 && st[p].inflight >= 0))
		return;
	if (st[fd].qhead >= 0 || (p >= 0 && st[p].qhead >= 0))
		return;
	close_one(fd);
	if (p >= 0)
		close_one(p);
}

static void start_close(int fd, int hard)
{
	int p = st[fd].peer;
	st[fd].closing = 1;
	st[fd].hard |= (unsigned char)hard;
	if (p >= 0) {
		st[p].closing = 1;
		st[p].hard |= (unsigned char)hard;
	}
	try_close(fd);
}

static void fd_init(int fd, int peer)
{
	struct fdst *f = &st[fd];
	f->gen++;
	f->peer = peer;
	f->inflight = -1;
	f->qhead = f->qtail = -1;
	f->closing = f->hard = f->rearm = 0;
}

static void on_accept(int c)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (s < 0 || c >= MAXFD || s >= MAXFD) {
		close(c);
		if (s >= 0)
			close(s);
		return;
	}
	/* The client socket inherits TCP_NODELAY from the listener. */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fd_init(c, s);
	fd_init(s, c);
	struct io_uring_sqe *q = sqe_get();
	io_uring_prep_connect(q, s, (struct sockaddr *)&origin, sizeof(origin));
	io_uring_sqe_set_data64(q, ud(OP_CONNECT, s, 0));
}

static void on_recv(int fd, struct io_uring_cqe *cqe)
{
	struct fdst *f = &st[fd];
	int res = cqe->res;
	if (res > 0) {
		int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		int p = f->peer;
		if (f->closing && f->hard) {
			buf_return(bid);
		} else {
			boff[bid] = 0;
			blen[bid] = (uint32_t)res;
			bnext[bid] = -1;
			if (st[p].qtail >= 0)
				bnext[st[p].qtail] = bid;
			else
				st[p].qhead = bid;
			st[p].qtail = bid;
			kick(p);
		}
		if (!(cqe->flags & IORING_CQE_F_MORE) && !f->closing)
			arm_recv(fd);
		return;
	}
	if (res == -ENOBUFS && !f->closing) {
		if (nrearm < (int)(sizeof(rearm_list) / sizeof(rearm_list[0]))) {
			f->rearm = 1;
			rearm_list[nrearm++] = fd;
		} else {
			start_close(fd, 1);
		}
		return;
	}
	if (!f->closing)
		start_close(fd, res != 0);
}

static void on_send(int fd, int bid, int res)
{
	struct fdst *f = &st[fd];
	f->inflight = -1;
	if (res > 0 && boff[bid] + (uint32_t)res < blen[bid] && !f->hard) {
		boff[bid] += (uint32_t)res;
		submit_send(fd, bid);
		return;
	}
	buf_return(bid);
	if (res < 0)
		start_close(fd, 1);
	else
		kick(fd);
	if (f->closing)
		try_close(fd);
}

static void handle(struct io_uring_cqe *cqe)
{
	uint64_t u = io_uring_cqe_get_data64(cqe);
	int op = UD_OP(u), fd = UD_FD(u);
	if (op == OP_ACCEPT) {
		if (cqe->res >= 0)
			on_accept(cqe->res);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_accept();
		return;
	}
	if (op == OP_IGNORE)
		return;
	if (st[fd].gen != UD_GEN(u) || st[fd].peer < 0) {
		/* A request of a closed socket: only its buffer matters. */
		if (op == OP_RECV && cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER))
			buf_return((int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
		else if (op == OP_SEND)
			buf_return(UD_BID(u));
		return;
	}
	switch (op) {
	case OP_CONNECT:
		if (cqe->res < 0) {
			start_close(fd, 1);
		} else {
			arm_recv(fd);
			arm_recv(st[fd].peer);
		}
		break;
	case OP_RECV:
		on_recv(fd, cqe);
		break;
	case OP_SEND:
		on_send(fd, UD_BID(u), cqe->res);
		break;
	}
}

static int ring_init(const char *mode)
{
	static const struct { const char *name; unsigned flags; } modes[] = {
		{ "defer", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN },
		{ "coop", IORING_SETUP_COOP_TASKRUN },
		{ "plain", 0 },
	};
	int i = 0;
	while (mode && i < 2 && strcmp(modes[i].name, mode) != 0)
		i++;
	for (; i < 3; i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = modes[i].flags | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		int r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
		if (r == 0) {
			fprintf(stderr, "relay_uring: ring mode %s\n", modes[i].name);
			return 0;
		}
		fprintf(stderr, "relay_uring: ring mode %s: %s\n", modes[i].name, strerror(-r));
	}
	return -1;
}

static int bufs_init(void)
{
	size_t rsz = NBUF * sizeof(struct io_uring_buf);
	br = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc((size_t)NBUF * BUFSZ);
	if (br == MAP_FAILED || !bufs)
		return -1;
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (unsigned long)br;
	reg.ring_entries = NBUF;
	reg.bgid = BGID;
	int r = io_uring_register_buf_ring(&ring, &reg, 0);
	if (r < 0) {
		fprintf(stderr, "relay_uring: buffer ring: %s\n", strerror(-r));
		return -1;
	}
	io_uring_buf_ring_init(br);
	for (int b = 0; b < NBUF; b++)
		buf_return(b);
	io_uring_buf_ring_advance(br, nret);
	nret = 0;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "-t") == 0)
		return 0;
	if (argc != 3) {
		fprintf(stderr, "usage: relay_uring PORT ORIGIN_PORT | relay_uring -t\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {   /* two descriptors per client */
		rl.rlim_cur = rl.rlim_max < MAXFD ? rl.rlim_max : MAXFD;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	st = calloc(MAXFD, sizeof(*st));
	if (!st)
		return 1;
	for (int i = 0; i < MAXFD; i++)
		st[i].peer = -1;
	memset(&origin, 0, sizeof(origin));
	origin.sin_family = AF_INET;
	origin.sin_port = htons((unsigned short)atoi(argv[2]));
	origin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in a = origin;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	int one = 1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0) {
		perror("relay_uring: listen");
		return 1;
	}
	if (ring_init(getenv("RELAY_URING_MODE")) < 0 || bufs_init() < 0)
		return 1;
	arm_accept();
	for (;;) {
		int r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			fprintf(stderr, "relay_uring: submit: %s\n", strerror(-r));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			handle(cqe);
			n++;
		}
		io_uring_cq_advance(&ring, n);
		if (nret) {
			io_uring_buf_ring_advance(br, nret);
			nret = 0;
			/* Buffers are back: re-arm the sockets that ran out. */
			int m = nrearm;
			nrearm = 0;
			for (int i = 0; i < m; i++) {
				int fd = rearm_list[i];
				if (st[fd].rearm && st[fd].peer >= 0 && !st[fd].closing) {
					st[fd].rearm = 0;
					arm_recv(fd);
				}
			}
		}
	}
}
