/*
 * listener.h - listening sockets.  Every worker thread opens its own socket
 * per bind address with SO_REUSEPORT, so the kernel spreads new
 * connections across threads and accept() never contends on a lock.
 */
#ifndef GH_NET_LISTENER_H
#define GH_NET_LISTENER_H

#include <sys/socket.h>

/* Opens, binds and listens (non-blocking, SO_REUSEADDR+SO_REUSEPORT,
 * TCP_DEFER_ACCEPT when `defer`).  Returns the fd or -1 with errno set. */
int listener_open(const struct sockaddr *addr, socklen_t len, int backlog, int defer);

/* Accepts one connection, non-blocking and close-on-exec, TCP_NODELAY set.
 * Returns the fd or -1 (errno EAGAIN when the queue is empty). */
int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *plen);

#endif
