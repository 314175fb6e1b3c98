/*
 * sockopt.h - the socket options the configuration asks for, in one place:
 * listening sockets (TCP and unix@, with their backlog, TCP_DEFER_ACCEPT,
 * TCP_FASTOPEN, keepalive, and the safe replacement of a stale unix
 * socket file) and server sockets (keepalive, `source`).
 */
#ifndef GH_NET_SOCKOPT_H
#define GH_NET_SOCKOPT_H

#include <stddef.h>
#include <sys/socket.h>
#include "config/cfg.h"

#define SOCK_DEFAULT_BACKLOG 4096

/* SO_KEEPALIVE and the TCP_KEEP* of ka on fd (nothing unless ka->on).
 * Returns 0, or -1 with errno. */
int sock_keepalive(int fd, const struct cfg_keepalive *ka);

/*
 * Opens the listening socket of bind a: TCP (SO_REUSEPORT, one per
 * worker) or unix@ (one for all workers, which share it).  A unix@ path
 * that exists is replaced only if it is a socket nobody listens on (a
 * connect() is refused); then mode/user/group are applied before listen(),
 * so no client connects before they are.  Keepalive (ka, inherited by
 * accepted sockets), defer_accept and fastopen are set on TCP sockets;
 * what the kernel refuses of those is written to warn (the socket is
 * still opened).  Returns the fd, or -1 with the reason in err.
 */
int sock_listen(const struct cfg_addr *a, const struct cfg_keepalive *ka, char *warn,
		size_t wlen, char *err, size_t elen);

/* What a server socket needs between socket() and connect() (the
 * conn_connect_ex() hook): keepalive and `source`.  client is the
 * client's address (session_src) for `source client`, NULL if there is no
 * client (health checks: no source then). */
struct sock_prep {
	const struct cfg_server *srv;
	const struct sockaddr_storage *client;
};
int sock_server_prep(int fd, void *arg);

#endif
