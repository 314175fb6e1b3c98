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
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}
