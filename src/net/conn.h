/*
 * conn.h - a connection: one socket, its readiness, and the transport that
 * moves bytes over it.
 *
 * The transport (struct xprt) is raw TCP today; TLS (a later issue) plugs in
 * as another xprt with the same recv/send/shutw calls, so the proxy code
 * above never knows which one it talks to.  HTTP/2 sits above this layer.
 *
 * Readiness is tracked here because the loop is edge-triggered: an event
 * sets CONN_F_RECV_READY / CONN_F_SEND_READY, and a call that returns
 * EAGAIN (or reads/writes less than asked) clears it.  Callers only try I/O
 * while the flag is set.
 */
#ifndef GH_NET_CONN_H
#define GH_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include "core/loop.h"

#define CONN_F_RECV_READY 0x0001  /* the socket may have bytes (or EOF) to read */
#define CONN_F_SEND_READY 0x0002  /* the socket may accept bytes */
#define CONN_F_RD_EOF     0x0004  /* peer closed its sending side (recv gave 0) */
#define CONN_F_WR_SHUT    0x0008  /* we shut our sending side */
#define CONN_F_ERROR      0x0010  /* fatal socket error; see conn.err */
#define CONN_F_CONNECTING 0x0020  /* outgoing connect() not finished */
#define CONN_F_HUP        0x0040  /* EPOLLRDHUP/HUP seen: EOF is pending */
/* A transport with its own protocol (TLS) may need the other direction of
 * the socket to make progress: the handshake, or a record it must answer,
 * can make a read wait for writability and a write wait for readability.
 * The next event of that other kind makes the blocked call ready again. */
#define CONN_F_RD_WANT_WR 0x0080  /* last recv stopped on a blocked write */
#define CONN_F_WR_WANT_RD 0x0100  /* last send stopped on a missing read */
#define CONN_F_TLS_DONE   0x0200  /* TLS: the handshake's end was counted (tls_stats) */
/* The owner reads only through conn_recv (not a peek of the socket, as the
 * PROXY header's reader does first): net/uring.c may read ahead for it. */
#define CONN_F_RX_OWNED   0x0400

struct conn;
struct usend;
struct urx;

struct xprt {
	const char *name;
	/* The transport keeps input of its own (TLS: decrypted records), so a
	 * short read does not mean the socket was drained: readiness is only
	 * cleared by EAGAIN. */
	bool buffers_input;
	ssize_t (*recv)(struct conn *c, void *buf, size_t len);
	ssize_t (*send)(struct conn *c, const void *buf, size_t len);
	void (*shutw)(struct conn *c);
	void (*close)(struct conn *c);
	/* Optional (TLS): advance the handshake; 1 done, 0 waiting (readiness
	 * cleared), -1 failed (errno).  NULL: nothing to negotiate. */
	int (*handshake)(struct conn *c);
};

struct conn {
	struct ev_io io;            /* fd and the owner's event callback */
	uint16_t flags;             /* CONN_F_* */
	int err;                    /* errno of the failure when CONN_F_ERROR */
	const struct xprt *xprt;
	void *xprt_ctx;             /* transport state (SSL *), NULL for raw */
	struct usend *us;           /* net/uring.c: bytes staged or in the kernel */
	struct urx *rx;             /* net/uring.c: bytes read ahead, not yet taken */
};

extern const struct xprt xprt_raw;

/* Prepares c around an fd already set non-blocking; does not register it. */
void conn_init(struct conn *c, int fd, ev_io_cb cb);

/* Updates readiness from an epoll event mask. */
void conn_on_events(struct conn *c, uint32_t events);

/*
 * Receives into buf.  Returns >0 bytes, 0 on EOF (sets CONN_F_RD_EOF), or
 * -1 when nothing can be read now (EAGAIN: readiness cleared) or on error
 * (CONN_F_ERROR set).
 */
ssize_t conn_recv(struct conn *c, void *buf, size_t len);

/* Sends from buf.  Returns bytes sent (>=0) or -1 on error (CONN_F_ERROR). */
ssize_t conn_send(struct conn *c, const void *buf, size_t len);

/* Whether conn_sendv() can send on c now: raw TCP (TLS encrypts into
 * records of its own: callers copy into one buffer and use conn_send),
 * not under tune.io_uring (its sends are staged copies) and nothing
 * staged ahead. */
bool conn_can_sendv(const struct conn *c);

/* Sends the iovcnt runs of iov in order with one call (sendmsg), as
 * conn_send: bytes sent (>=0, a partial write clears SEND_READY) or -1 on
 * error (CONN_F_ERROR).  Only where conn_can_sendv(c). */
ssize_t conn_sendv(struct conn *c, const struct iovec *iov, int iovcnt);

/* Shuts our sending side once the output is flushed. */
void conn_shutw(struct conn *c);

/* Unregisters from the loop and closes.  The struct stays valid until the
 * owner frees it (through loop_defer, see loop.h). */
void conn_close(struct loop *l, struct conn *c);

/*
 * Starts a non-blocking connect to addr.  Returns 0 (connected or in
 * progress, CONN_F_CONNECTING set accordingly) with c registered on l, or
 * -1 with errno set (nothing to clean up).
 */
int conn_connect(struct loop *l, struct conn *c, const struct sockaddr *addr, socklen_t len,
		 ev_io_cb cb);

/* Same, with prep(fd, arg) run between socket() and connect() (socket
 * options, a bind to a source address); its -1 (errno) fails the connect. */
typedef int (*conn_prep_fn)(int fd, void *arg);
int conn_connect_ex(struct loop *l, struct conn *c, const struct sockaddr *addr, socklen_t len,
		    ev_io_cb cb, conn_prep_fn prep, void *arg);

/* Called on the first write-readiness of a connecting socket: returns 0 if
 * the connect succeeded, else -1 with c->err set. */
int conn_finish_connect(struct conn *c);

/*
 * Drives the transport's handshake (TLS) as far as the socket allows, so an
 * outgoing connection can count it as part of connecting (`timeout
 * connect`, retries).  Returns 1 when done (at once for raw TCP), 0 when it
 * waits for the socket (call again on the next event), -1 on failure
 * (CONN_F_ERROR set, c->err; for TLS, tls_last_error() says more).
 */
int conn_handshake(struct conn *c);

/* "1.2.3.4" / "::1" text of an address (port not included). */
const char *addr_ntop(const struct sockaddr *sa, char *out, size_t len);

/* Dotted-quad text of the 4 bytes at addr (NUL-terminated); returns its
 * length.  Same output as inet_ntop(AF_INET), a fraction of the cost. */
size_t ip4_ntop(const void *addr, char out[16]);

#endif
