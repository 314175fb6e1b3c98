/*
 * admin.c - the admin listener (admin.h): a small, strict HTTP/1.1 server
 * on a thread of its own, in front of the handlers of admin_http.h.
 *
 * Why its own thread and not a worker's loop: handlers sum every worker's
 * counters, take registry locks and (a reload) wait for main; none of that
 * may ever sit on a loop that carries traffic.  The thread has its own
 * epoll loop over the listening socket, an eventfd (stop) and at most
 * ADMIN_CONNS connections (an idle keep-alive one makes room for a new one;
 * with all of them busy, new ones wait in the kernel's backlog).
 *
 * A connection reads one whole request - a head of at most ADMIN_HEAD_MAX
 * (else 431) and a Content-Length body of at most ADMIN_BODY_MAX (else
 * 413; chunked bodies are refused) - within ADMIN_REQ_MS of its first byte,
 * checks the bearer token (constant time: both sides are hashed and the
 * digests compared with CRYPTO_memcmp, so neither the token's bytes nor its
 * length leak through timing), offers the request to each handler in turn
 * and writes the answer.  Keep-alive unless the client or an error says
 * close; an idle connection is closed after ADMIN_IDLE_MS.  Every error
 * is a JSON body {"error": "...", "status": N}.
 *
 * HEAD is handed to the handlers as GET and answered without the body.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "admin/admin.h"
#include "admin/admin_http.h"
#include "admin/admin_parse.h"
#include "admin/metrics.h"
#include "config/cfg.h"
#include "core/log.h"

#define ADMIN_CONNS     8                  /* served at once; more wait in the backlog */
#define ADMIN_HEAD_MAX  (16 * 1024)        /* request line and fields */
#define ADMIN_REQ_MS    10000              /* a whole request, from its first byte */
#define ADMIN_IDLE_MS   30000              /* keep-alive between requests */
#define ADMIN_WRITE_MS  10000              /* an answer's progress */
#define ADMIN_LINGER_MS 1000               /* input read and dropped after a closing answer */
#define ADMIN_REALM     "Bearer realm=\"gatehouse admin\""

/* The handlers the api helper's branch defines; weak here so the listener
 * links on its own (they then serve nothing: 404). */
__attribute__((weak)) bool admin_api(const struct admin_req *rq, struct admin_resp *rs,
				     struct cfg *c)
{
	return false;
}

__attribute__((weak)) bool admin_dashboard(const struct admin_req *rq, struct admin_resp *rs,
					   struct cfg *c)
{
	return false;
}

enum aconn_state { AC_FREE = 0, AC_READ, AC_WRITE, AC_LINGER };

struct aconn {
	int fd;
	enum aconn_state st;
	char *in;                 /* head + body being read, NUL-terminated */
	size_t in_len, in_cap;
	char *out;                /* the answer being written */
	size_t out_len, out_off;
	bool close_after;         /* close once the answer is out */
	bool continue_sent;       /* 100 Continue written for this request */
	bool keep10;              /* HTTP/1.0 keep-alive: say so in the answer */
	size_t consumed;          /* bytes of in[] the request being answered took */
	uint64_t deadline;        /* ms, monotonic */
};

struct admin {
	int lfd, efd, stopfd;
	pthread_t thread;
	bool started;
	bool paused;              /* lfd out of the epoll set: every slot busy */
	pthread_mutex_t lock;     /* cur */
	struct cfg *cur;          /* current generation (a reference) */
	char *token0;             /* the token at open: used if a later generation
				     has no admin line (the address cannot move) */
	size_t token0_len;
	char addr_text[128];
	struct aconn conns[ADMIN_CONNS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- lifecycle ------------------------------------------------------- */

int admin_open(struct cfg *c, struct admin **out)
{
	const struct cfg_admin *ca = c->global.admin;

	*out = NULL;
	if (!ca)
		return 0;
	struct admin *a = calloc(1, sizeof(*a));
	if (!a) {
		log_err("admin: out of memory");
		return -1;
	}
	a->lfd = a->efd = a->stopfd = -1;
	pthread_mutex_init(&a->lock, NULL);
	snprintf(a->addr_text, sizeof(a->addr_text), "%s", ca->addr.text);
	if (ca->token) {
		if (!(a->token0 = malloc(ca->token_len + 1)))
			goto fail;
		memcpy(a->token0, ca->token, ca->token_len + 1);
		a->token0_len = ca->token_len;
	}
	a->lfd = socket(ca->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->lfd < 0)
		goto sockfail;
	int one = 1;
	setsockopt(a->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ca->addr.ss.ss_family == AF_INET6)
		setsockopt(a->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(a->lfd, (const struct sockaddr *)&ca->addr.ss, ca->addr.len) < 0 ||
	    listen(a->lfd, 64) < 0)
		goto sockfail;
	a->cur = cfg_get(c);
	metrics_enable();   /* counters are kept once someone can read them */
	*out = a;
	return 0;
sockfail:
	log_err("admin: cannot listen on %s: %s", ca->addr.text, strerror(errno));
fail:
	if (a->lfd >= 0)
		close(a->lfd);
	free(a->token0);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return -1;
}

void admin_set_cfg(struct admin *a, struct cfg *c)
{
	if (!a)
		return;
	cfg_get(c);
	pthread_mutex_lock(&a->lock);
	struct cfg *old = a->cur;
	a->cur = c;
	pthread_mutex_unlock(&a->lock);
	cfg_put(old);
}

void admin_apply_cfg(struct cfg *c, void *a)
{
	admin_set_cfg(a, c);
}

/* The current generation, with a reference for the caller. */
static struct cfg *cur_get(struct admin *a)
{
	pthread_mutex_lock(&a->lock);
	struct cfg *c = cfg_get(a->cur);
	pthread_mutex_unlock(&a->lock);
	return c;
}

/* ---- connections ----------------------------------------------------- */

static void listen_pause(struct admin *a, bool pause);

static void conn_close(struct admin *a, struct aconn *k)
{
	epoll_ctl(a->efd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k->in);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
	listen_pause(a, false);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* Queues an answer on k: head, then body unless head_only.  `extra` is
 * more header lines, each ending in CRLF, or NULL. */
static void conn_answer(struct admin *a, struct aconn *k, int status, const char *ctype,
			const char *body, size_t len, bool head_only, const char *extra)
{
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s\r\n",
			  status, reason(status), ctype ? ctype : "application/octet-stream", len,
			  extra ? extra : "", k->close_after ? "Connection: close\r\n" : "");
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		k->close_after = true;
		hl = 0;
	}
	size_t blen = head_only ? 0 : len;
	char *o = realloc(k->out, k->out_len + (size_t)hl + blen);
	if (!o) {
		conn_close(a, k);
		return;
	}
	memcpy(o + k->out_len, head, (size_t)hl);
	if (blen)
		memcpy(o + k->out_len + (size_t)hl, body, blen);
	k->out = o;
	k->out_len += (size_t)hl + blen;
	k->st = AC_WRITE;
	k->deadline = now_ms() + ADMIN_WRITE_MS;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = k };
	epoll_ctl(a->efd, EPOLL_CTL_MOD, k->fd, &ev);
}

/* A JSON error answer; protocol errors close the connection. */
static void conn_error(struct admin *a, struct aconn *k, int status, const char *msg, bool close,
		       const char *extra)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"status\":%d}\n", msg, status);
	if (close)
		k->close_after = true;
	conn_answer(a, k, status, "application/json", body,
		    n > 0 && (size_t)n < sizeof(body) ? (size_t)n : 0, false, extra);
}

static bool method_known(const char *m)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
					      NULL };
	for (int i = 0; known[i]; i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

/* A whole request is in k->in: authorise, dispatch, answer. */
static void serve(struct admin *a, struct aconn *k, struct ahead *h)
{
	bool head_only = strcmp(h->method, "HEAD") == 0;
	struct cfg *c = cur_get(a);
	const struct cfg_admin *ca = c->global.admin;
	const char *want = ca ? ca->token : a->token0;
	size_t want_len = ca ? ca->token_len : a->token0_len;

	if (want && !admin_token_ok(h->auth, want, want_len) &&
	    !admin_public(h->method, h->target)) {
		conn_error(a, k, 401, h->auth ? "invalid token" : "missing bearer token", false,
			   h->auth ? "WWW-Authenticate: " ADMIN_REALM ", error=\"invalid_token\"\r\n" :
				     "WWW-Authenticate: " ADMIN_REALM "\r\n");
		cfg_put(c);
		return;
	}
	if (!method_known(h->method)) {
		conn_error(a, k, 405, "method not allowed", false,
			   "Allow: GET, HEAD, POST, PUT, DELETE, PATCH\r\n");
		cfg_put(c);
		return;
	}
	char path[1024];
	size_t plen = h->query ? (size_t)(h->query - 1 - h->target) : strlen(h->target);
	if (plen >= sizeof(path)) {
		conn_error(a, k, 414, "path too long", false, NULL);
		cfg_put(c);
		return;
	}
	memcpy(path, h->target, plen);
	path[plen] = '\0';
	/* the body follows the head in k->in; NUL-terminated for the handlers */
	char *body = k->in + h->head_len;
	char save = body[h->cl];
	body[h->cl] = '\0';
	struct admin_req rq = {
		.method = head_only ? "GET" : h->method,
		.path = path,
		.query = h->query ? h->query : "",
		.body = body,
		.body_len = h->cl,
	};
	struct admin_resp rs = { 0 };
	bool served = admin_metrics(&rq, &rs, c) || admin_api(&rq, &rs, c) ||
		      admin_dashboard(&rq, &rs, c);
	body[h->cl] = save;
	cfg_put(c);
	if (!served) {
		conn_error(a, k, 404, "not found", false, NULL);
		return;
	}
	if (!rs.status)
		rs.status = 200;
	/* the contract has no header fields: the two a status calls for */
	const char *extra = rs.status == 401 ? "WWW-Authenticate: " ADMIN_REALM "\r\n" :
			    rs.status == 405 && strcmp(path, "/metrics") == 0 ? "Allow: GET, HEAD\r\n" :
			    k->keep10 ? "Connection: keep-alive\r\n" : NULL;
	conn_answer(a, k, rs.status, rs.ctype ? rs.ctype : "application/json",
		    rs.body ? rs.body : "", rs.body ? rs.len : 0, head_only, extra);
	if (!rs.body_static)
		free(rs.body);
}

/* Looks at what k has read: a whole request is served, a partial one
 * waits, a bad one is answered with an error. */
static void conn_parse(struct admin *a, struct aconn *k)
{
	char *end = k->in_len >= 4 ? memmem(k->in, k->in_len, "\r\n\r\n", 4) : NULL;
	if (!end) {
		if (k->in_len >= ADMIN_HEAD_MAX)
			conn_error(a, k, 431, "request head too large", true, NULL);
		return;
	}
	size_t hlen = (size_t)(end - k->in) + 4;
	if (hlen > ADMIN_HEAD_MAX) {
		conn_error(a, k, 431, "request head too large", true, NULL);
		return;
	}
	/* parse a copy of the head: parsing writes NULs into it, and a
	 * request still waiting for its body is looked at again */
	char *hcopy = malloc(hlen + 1);
	if (!hcopy) {
		conn_close(a, k);
		return;
	}
	memcpy(hcopy, k->in, hlen);
	hcopy[hlen] = '\0';
	struct ahead h;
	const char *why = "bad request";
	int st = admin_parse_head(hcopy, hlen, &h, &why);
	if (st) {
		conn_error(a, k, st, why, true, NULL);
		free(hcopy);
		return;
	}
	if (h.cl > ADMIN_BODY_MAX) {
		conn_error(a, k, 413, "request body too large", true, NULL);
		free(hcopy);
		return;
	}
	if (k->in_len < hlen + h.cl) {
		if (h.expect_continue && !k->continue_sent) {
			/* best effort: a client that waits for it gets it now */
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			ssize_t w = send(k->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL);
			(void)w;
			k->continue_sent = true;
		}
		free(hcopy);
		return;   /* the body is still coming */
	}
	/* the handlers see the head as parsed (in hcopy) and the body in k->in */
	k->close_after = h.close || (h.http10 && !h.keep_alive);
	k->keep10 = h.http10 && !k->close_after;
	k->consumed = hlen + h.cl;   /* what follows is the next (pipelined) request */
	/* serve() reads the body at k->in + head_len */
	serve(a, k, &h);
	free(hcopy);
}

static void conn_read(struct admin *a, struct aconn *k)
{
	for (;;) {
		size_t want = ADMIN_HEAD_MAX + ADMIN_BODY_MAX + 1;
		if (k->in_cap < want) {
			char *n = realloc(k->in, want + 1);
			if (!n) {
				conn_close(a, k);
				return;
			}
			k->in = n;
			k->in_cap = want;
		}
		/* until the head has ended, read no more than a head may take */
		bool head_seen = k->in_len >= 4 && memmem(k->in, k->in_len, "\r\n\r\n", 4);
		size_t limit = head_seen ? k->in_cap : ADMIN_HEAD_MAX;
		if (k->in_len >= limit)
			break;   /* conn_parse answers 431 or 413 */
		ssize_t r = recv(k->fd, k->in + k->in_len, limit - k->in_len, 0);
		if (r > 0) {
			if (k->in_len == 0)
				k->deadline = now_ms() + ADMIN_REQ_MS;
			k->in_len += (size_t)r;
			k->in[k->in_len] = '\0';
			continue;
		}
		if (r == 0) {
			conn_close(a, k);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		conn_close(a, k);
		return;
	}
	conn_parse(a, k);
}

/* Back to reading the next request. */
static void conn_next(struct admin *a, struct aconn *k)
{
	free(k->out);
	k->out = NULL;
	k->out_len = k->out_off = 0;
	/* a pipelined request already read moves to the front */
	size_t rest = k->in_len > k->consumed ? k->in_len - k->consumed : 0;
	if (rest)
		memmove(k->in, k->in + k->consumed, rest);
	k->in_len = rest;
	if (k->in)
		k->in[rest] = '\0';
	k->consumed = 0;
	k->continue_sent = false;
	k->st = AC_READ;
	k->deadline = now_ms() + (rest ? ADMIN_REQ_MS : ADMIN_IDLE_MS);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = k };
	epoll_ctl(a->efd, EPOLL_CTL_MOD, k->fd, &ev);
	if (rest)
		conn_parse(a, k);
}

static void conn_linger(struct admin *a, struct aconn *k)
{
	char sink[4096];
	for (;;) {
		ssize_t r = recv(k->fd, sink, sizeof(sink), 0);
		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(a, k);   /* the client's FIN, or an error */
		return;
	}
}

static void conn_write(struct admin *a, struct aconn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
		if (w > 0) {
			k->out_off += (size_t)w;
			k->deadline = now_ms() + ADMIN_WRITE_MS;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(a, k);
		return;
	}
	if (k->close_after) {
		/* FIN after the answer, then read and drop what the client may
		 * still send (a refused body) for a moment: closing with unread
		 * input would reset the connection, and the answer with it */
		shutdown(k->fd, SHUT_WR);
		free(k->out);
		k->out = NULL;
		k->st = AC_LINGER;
		k->deadline = now_ms() + ADMIN_LINGER_MS;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = k };
		epoll_ctl(a->efd, EPOLL_CTL_MOD, k->fd, &ev);
		conn_linger(a, k);
		return;
	}
	conn_next(a, k);
}

/* A free slot; when all are taken, the idle keep-alive connection that
 * has waited longest makes room (as nginx reuses idle connections).  NULL
 * when every one is busy with a request. */
static struct aconn *conn_slot(struct admin *a)
{
	struct aconn *idle = NULL;
	for (int i = 0; i < ADMIN_CONNS; i++) {
		struct aconn *k = &a->conns[i];
		if (k->st == AC_FREE)
			return k;
		if (k->st == AC_READ && k->in_len == 0 && (!idle || k->deadline < idle->deadline))
			idle = k;
	}
	if (!idle)
		return NULL;
	conn_close(a, idle);
	return idle;
}

/* Listening only while a connection can be taken: with every slot busy
 * with a request, new ones wait in the kernel's backlog (the listening
 * socket leaves the epoll set until a slot frees). */
static void listen_pause(struct admin *a, bool pause)
{
	if (pause == a->paused)
		return;
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = &a->lfd };
	epoll_ctl(a->efd, pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, a->lfd, &le);
	a->paused = pause;
}

static void do_accept(struct admin *a)
{
	for (;;) {
		bool room = false;
		for (int i = 0; i < ADMIN_CONNS && !room; i++)
			room = a->conns[i].st == AC_FREE ||
			       (a->conns[i].st == AC_READ && a->conns[i].in_len == 0);
		if (!room) {
			listen_pause(a, true);
			return;
		}
		int fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;   /* EAGAIN, or a transient error: the next event retries */
		struct aconn *k = conn_slot(a);
		if (!k) {
			/* cannot happen: accept only runs while a slot is free */
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(k, 0, sizeof(*k));
		k->fd = fd;
		k->st = AC_READ;
		k->deadline = now_ms() + ADMIN_IDLE_MS;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = k };
		if (epoll_ctl(a->efd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			memset(k, 0, sizeof(*k));
		}
	}
}

static void *admin_main(void *arg)
{
	struct admin *a = arg;
	struct epoll_event evs[ADMIN_CONNS + 2];

	pthread_setname_np(pthread_self(), "gh:admin");   /* for top -H, ps -L */

	for (;;) {
		/* No connection open: sleep until one comes or the stop
		 * (no periodic tick, issue 15). */
		uint64_t now = now_ms(), next = UINT64_MAX;
		for (int i = 0; i < ADMIN_CONNS; i++) {
			struct aconn *k = &a->conns[i];
			if (k->st == AC_FREE)
				continue;
			if (k->deadline <= now) {
				/* a request started but not finished gets a 408 */
				if (k->st == AC_READ && k->in_len) {
					conn_error(a, k, 408, "request timeout", true, NULL);
					if (k->st == AC_WRITE)
						conn_write(a, k);
				} else
					conn_close(a, k);
				/* A 408 still being written or lingering has a new
				 * deadline: the wait below must not pass it. */
				if (k->st == AC_FREE)
					continue;
			}
			if (k->deadline < next)
				next = k->deadline;
		}
		int wait = next == UINT64_MAX ? -1 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
		int n = epoll_wait(a->efd, evs, ADMIN_CONNS + 2, wait);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &a->stopfd)
				return NULL;
			if (p == &a->lfd) {
				do_accept(a);
				continue;
			}
			struct aconn *k = p;
			if (k->st == AC_READ)
				conn_read(a, k);
			if (k->st == AC_WRITE)
				conn_write(a, k);
			else if (k->st == AC_LINGER)
				conn_linger(a, k);
		}
	}
}

int admin_start(struct admin *a)
{
	if (!a)
		return 0;
	for (int i = 0; i < ADMIN_CONNS; i++)
		a->conns[i].fd = -1;
	a->efd = epoll_create1(EPOLL_CLOEXEC);
	a->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event le = { .events = EPOLLIN, .data.ptr = &a->lfd };
	struct epoll_event se = { .events = EPOLLIN, .data.ptr = &a->stopfd };
	if (a->efd < 0 || a->stopfd < 0 || epoll_ctl(a->efd, EPOLL_CTL_ADD, a->lfd, &le) < 0 ||
	    epoll_ctl(a->efd, EPOLL_CTL_ADD, a->stopfd, &se) < 0 ||
	    pthread_create(&a->thread, NULL, admin_main, a) != 0) {
		log_err("admin: cannot start the listener thread: %s", strerror(errno));
		return -1;
	}
	a->started = true;
	log_info("admin listener on %s%s", a->addr_text,
		 a->token0 ? " (bearer token required)" : "");
	return 0;
}

void admin_stop(struct admin *a)
{
	if (!a)
		return;
	if (a->started) {
		uint64_t one = 1;
		ssize_t w = write(a->stopfd, &one, sizeof(one));
		(void)w;
		pthread_join(a->thread, NULL);
	}
	for (int i = 0; i < ADMIN_CONNS; i++)
		if (a->conns[i].st != AC_FREE)
			conn_close(a, &a->conns[i]);
	if (a->efd >= 0)
		close(a->efd);
	if (a->stopfd >= 0)
		close(a->stopfd);
	close(a->lfd);
	cfg_put(a->cur);
	if (a->token0) {
		OPENSSL_cleanse(a->token0, a->token0_len);
		free(a->token0);
	}
	pthread_mutex_destroy(&a->lock);
	free(a);
}
