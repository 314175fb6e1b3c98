/*
 * sockopt.c - socket options from the configuration (see sockopt.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "net/sockopt.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

int sock_keepalive(int fd, const struct cfg_keepalive *ka)
{
	int one = 1;

	if (!ka || !ka->on)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0)
		return -1;
	if (ka->idle_s && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka->idle_s, sizeof(int)) < 0)
		return -1;
	if (ka->interval_s &&
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka->interval_s, sizeof(int)) < 0)
		return -1;
	if (ka->count && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &ka->count, sizeof(int)) < 0)
		return -1;
	return 0;
}

/* A unix@ path about to be bound: free, or a socket file left by a process
 * that is gone (nobody accepts on it: connect() is refused), which is
 * removed.  Anything else - a regular file, a socket someone listens on -
 * is an error, never replaced. */
static int unix_stale(const struct sockaddr_un *sun, socklen_t len, char *err, size_t elen)
{
	struct stat st;

	if (lstat(sun->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, elen, "cannot stat %s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, elen, "%s exists and is not a socket; not replacing it",
			 sun->sun_path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, elen, "socket: %s", strerror(errno));
		return -1;
	}
	int rc = connect(fd, (const struct sockaddr *)sun, len);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, elen, "%s is in use: another process accepts connections on it",
			 sun->sun_path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, elen, "cannot tell whether %s is in use: %s", sun->sun_path,
			 strerror(e));
		return -1;
	}
	if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
		snprintf(err, elen, "cannot remove the stale socket %s: %s", sun->sun_path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_unix(const struct cfg_addr *a, int backlog, char *err, size_t elen)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	const struct cfg_bind_sock *bs = a->sock;

	if (unix_stale(sun, a->len, err, elen) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, elen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)sun, a->len) < 0) {
		snprintf(err, elen, "bind: %s", strerror(errno));
		goto fail;
	}
	/* Before listen(): until then a client's connect() is refused, so
	 * nobody gets in under looser permissions. */
	if (bs && bs->mode >= 0 && chmod(sun->sun_path, (mode_t)bs->mode) < 0) {
		snprintf(err, elen, "chmod %s: %s", sun->sun_path, strerror(errno));
		goto fail_unlink;
	}
	if (bs && (bs->uid >= 0 || bs->gid >= 0) &&
	    chown(sun->sun_path, (uid_t)bs->uid, (gid_t)bs->gid) < 0) {
		snprintf(err, elen, "chown %s: %s", sun->sun_path, strerror(errno));
		goto fail_unlink;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, elen, "listen: %s", strerror(errno));
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(sun->sun_path);
fail:
	close(fd);
	return -1;
}

static void warn_add(char *warn, size_t wlen, const char *what, int e)
{
	size_t n = strlen(warn);
	snprintf(warn + n, wlen - n, "%s%s: %s", n ? "; " : "", what, strerror(e));
}

int sock_listen(const struct cfg_addr *a, const struct cfg_keepalive *ka, char *warn,
		size_t wlen, char *err, size_t elen)
{
	const struct cfg_bind_sock *bs = a->sock;
	int backlog = bs && bs->backlog ? bs->backlog : SOCK_DEFAULT_BACKLOG;
	int one = 1;

	warn[0] = err[0] = '\0';
	if (a->ss.ss_family == AF_UNIX)
		return listen_unix(a, backlog, err, elen);
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, elen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, elen, "SO_REUSEPORT: %s", strerror(errno));
		goto fail;
	}
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY (Linux copies the listener's
	 * nonagle into the child), so accept() needs no setsockopt of its own:
	 * one syscall less per connection.  Keepalive and its timers too. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sock_keepalive(fd, ka) < 0)
		warn_add(warn, wlen, "tcp_keepalive", errno);
	/* TCP_FASTOPEN before listen(), as the kernel wants. */
	if (bs && bs->fastopen &&
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &bs->fastopen, sizeof(int)) < 0)
		warn_add(warn, wlen, "fastopen", errno);
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		snprintf(err, elen, "%s", strerror(errno));
		goto fail;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, elen, "listen: %s", strerror(errno));
		goto fail;
	}
	if (bs && bs->defer_accept) {
		/* The kernel hands over a connection once its first bytes are in
		 * (or after about a second of silence), saving a wake-up per
		 * connection; `timeout header` counts from then. */
		int secs = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0)
			warn_add(warn, wlen, "defer_accept", errno);
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int sock_server_prep(int fd, void *arg)
{
	const struct sock_prep *sp = arg;
	const struct cfg_server *srv = sp->srv;
	const struct cfg_source *src = &srv->source;
	int one = 1;

	if (srv->addr.ss.ss_family == AF_UNIX)
		return 0;
	if (sock_keepalive(fd, &srv->keepalive) < 0)
		return -1;
	if (src->kind == SOURCE_NONE || (src->kind == SOURCE_CLIENT && !sp->client))
		return 0;
	/* The port is picked at connect() with the destination known, so
	 * one source address serves far more than 64k connections. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (src->kind == SOURCE_ADDR)
		return bind(fd, (const struct sockaddr *)&src->ss, src->len);

	/* source client: the client's own address, which this host does not
	 * own; IP_TRANSPARENT (CAP_NET_ADMIN) lets us bind it, and the
	 * TPROXY routing the README shows brings the answers back. */
	struct sockaddr_storage ss;
	socklen_t len;
	const struct sockaddr_in6 *c6 = (const struct sockaddr_in6 *)sp->client;
	memset(&ss, 0, sizeof(ss));
	if (srv->addr.ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		if (sp->client->ss_family == AF_INET) {
			sin->sin_addr = ((const struct sockaddr_in *)sp->client)->sin_addr;
		} else if (sp->client->ss_family == AF_INET6 &&
			   IN6_IS_ADDR_V4MAPPED(&c6->sin6_addr)) {
			memcpy(&sin->sin_addr, &c6->sin6_addr.s6_addr[12], 4);
		} else {
			errno = EAFNOSUPPORT;   /* an IPv6 client cannot be an IPv4 source */
			return -1;
		}
		sin->sin_family = AF_INET;
		len = sizeof(*sin);
		if (setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0)
			return -1;
	} else {
		if (sp->client->ss_family != AF_INET6 || IN6_IS_ADDR_V4MAPPED(&c6->sin6_addr)) {
			errno = EAFNOSUPPORT;
			return -1;
		}
		memcpy(&ss, c6, sizeof(*c6));
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		len = sizeof(struct sockaddr_in6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) < 0)
			return -1;
	}
	return bind(fd, (const struct sockaddr *)&ss, len);
}
