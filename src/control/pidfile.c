/*
 * pidfile.c - see pidfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control/pidfile.h"
#include "core/log.h"

int pidfile_write(const char *path)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	char b[32];
	int n = snprintf(b, sizeof(b), "%d\n", (int)getpid());
	bool ok = write(fd, b, (size_t)n) == n;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		log_err("pidfile %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

pid_t pidfile_read(const char *path, char *err, size_t elen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, elen, "cannot read pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	long pid = 0;
	int n = fscanf(f, "%ld", &pid);
	fclose(f);
	if (n != 1 || pid <= 1) {
		snprintf(err, elen, "pidfile %s holds no pid", path);
		return -1;
	}
	return (pid_t)pid;
}

void pidfile_remove(const char *path)
{
	char err[256];
	if (pidfile_read(path, err, sizeof(err)) == getpid())
		unlink(path);
}
