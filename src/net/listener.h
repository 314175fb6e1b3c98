/*
 * listener.h - accepting on listening sockets.  The sockets themselves are
 * opened by sock_listen() (net/sockopt.h): for TCP, every worker thread
 * has its own per bind address with SO_REUSEPORT, so the kernel spreads
 * new connections across threads and accept() never contends on a lock;
 * a unix@ socket is shared by all workers.
 */
#ifndef GH_NET_LISTENER_H
#define GH_NET_LISTENER_H

#include <sys/socket.h>

/* Accepts one connection, non-blocking and close-on-exec, TCP_NODELAY set.
 * Returns the fd or -1 (errno EAGAIN when the queue is empty). */
int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *plen);

#endif
