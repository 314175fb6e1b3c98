/*
 * sdnotify.c - see sdnotify.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "control/sdnotify.h"

int sdnotify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !path[0])
		return -1;
	size_t plen = strlen(path);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (plen >= sizeof(sun.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -1;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';   /* abstract namespace: not NUL-terminated */
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
				    (path[0] == '@' ? 0 : 1));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t r;
	do
		r = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	while (r < 0 && errno == EINTR);
	close(fd);
	return r < 0 ? -1 : 0;
}

void sdnotify_ready(const char *status)
{
	char m[512];
	snprintf(m, sizeof(m), "READY=1\nMAINPID=%d\nSTATUS=%s\n", (int)getpid(),
		 status ? status : "serving");
	sdnotify(m);
}

void sdnotify_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char m[128];
	snprintf(m, sizeof(m), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading\n",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	sdnotify(m);
}

void sdnotify_stopping(void)
{
	sdnotify("STOPPING=1\nSTATUS=stopping\n");
}
