/*
 * listener.c - accepting a connection (see listener.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include "net/listener.h"

int listener_accept(int lfd, struct sockaddr_storage *peer, socklen_t *plen)
{
	*plen = sizeof(*peer);
	int fd = accept4(lfd, (struct sockaddr *)peer, plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* TCP_NODELAY comes from the listening socket (sock_listen,
	 * upgrade_take_fd): no setsockopt per connection. */
	return fd;
}
