/*
 * uring.h - batched sends over io_uring (`tune.io_uring on`).
 *
 * The loop stays epoll (readiness); only the sends of plain TCP
 * connections change.  conn_send() copies a small payload into a send
 * object of this module and returns at once as if the kernel had taken
 * it; before the loop's next wait every send of the turn goes to the
 * kernel in one io_uring_enter.  Under load a turn serves many requests,
 * so two send() syscalls per keep-alive request become a fraction of one
 * (the recv side keeps its recv() calls: readiness, not completion).
 *
 * Rules that keep the byte stream and the owners' view exact:
 * - at most one send object per connection: while one is in the kernel,
 *   conn_send() says "blocked" (SEND_READY cleared) and the completion
 *   wakes the owner with EPOLLOUT - backpressure as with send();
 *   a staged (not yet submitted) one takes more bytes while it has room;
 * - payloads larger than URING_SEND_MAX go out by send() as before
 *   (after a staged object of the same connection, never before it);
 * - TLS connections are not batched (OpenSSL writes the socket itself);
 * - closing or shutting a connection with a staged object sends it first
 *   with send() (no extra syscall in close mode); one still in the kernel
 *   (a peer that does not read) keeps the fd open until it completes, up
 *   to URING_ORPHAN_MS, like the kernel keeps a closed socket's queue;
 * - a send that fails later marks the connection CONN_F_ERROR and wakes
 *   its owner with EPOLLERR.
 *
 * One ring per worker thread; other threads (admin, health checks) and a
 * kernel without io_uring keep plain send().
 */
#ifndef GH_NET_URING_H
#define GH_NET_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct loop;
struct conn;

#define URING_SEND_MAX 8192       /* larger payloads are sent directly */
#define URING_ORPHAN_MS 60000     /* a closed connection's send is cancelled after */
#define URING_RX_SIZE 4096        /* read ahead per readable connection */

/* Sets up this thread's ring and hooks it into l (before_wait).  Returns
 * -1 with err filled when io_uring is not available (then nothing
 * changes: sends stay direct). */
int uring_attach(struct loop *l, char *err, size_t elen);

/* Sends what is staged, waits up to a second for what is in the kernel,
 * cancels the rest, closes orphaned fds and frees the ring. */
void uring_detach(struct loop *l);

extern __thread struct uring *uring_tl;

/* conn.c's side.  uring_send: bytes taken (len), 0 when the connection's
 * previous send is still in the kernel (the caller clears SEND_READY), or
 * -2 when the payload is not for the ring (send it directly: nothing of
 * this connection is staged). */
ssize_t uring_send(struct conn *c, const void *buf, size_t len);

/* Before close: returns true when the ring took the fd over (it closes it
 * after the send; the caller must not). */
bool uring_conn_close(struct loop *l, struct conn *c);

/* Reads ahead: conn_init tracks a connection by fd (the batch's events
 * carry only the ev_io), conn_close forgets it and frees what it holds.
 * uring_recv takes from what was read ahead: as conn_recv, or -2 when it
 * holds nothing (read the socket). */
void uring_conn_track(struct conn *c);
void uring_conn_untrack(struct conn *c);
ssize_t uring_recv(struct conn *c, void *buf, size_t len);

/* Before shutdown(SHUT_WR): returns true when the ring shuts the socket
 * after its send (the caller must not shut it now). */
bool uring_conn_shutw(struct conn *c);

#endif
