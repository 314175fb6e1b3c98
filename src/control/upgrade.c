/*
 * upgrade.c - binary upgrade (upgrade.h says how it goes).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "config/cfg.h"
#include "control/upgrade.h"
#include "core/log.h"
#include "proxy/worker.h"

#define UPGRADE_MAX_FDS 4096

extern char **environ;

/* ---- the new process ---- */

struct inh {
	int fd;
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct inh *inh;
static int ninh;
static int ready_fd = -1;

int upgrade_inherit(void)
{
	const char *r = getenv("GATEHOUSE_READY_FD");
	if (r) {
		ready_fd = atoi(r);
		fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
		unsetenv("GATEHOUSE_READY_FD");
	}
	const char *v = getenv("GATEHOUSE_FDS");
	if (!v)
		return 0;
	char *list = strdup(v);
	unsetenv("GATEHOUSE_FDS");
	if (!list)
		return 0;
	int cap = 0;
	for (char *save = NULL, *tok = strtok_r(list, ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save)) {
		int fd = atoi(tok);
		struct inh x = { .fd = fd, .len = sizeof(x.ss) };
		int type = 0;
		socklen_t tl = sizeof(type);
		if (fd < 3 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		    type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&x.ss, &x.len) < 0) {
			log_warn("upgrade: inherited descriptor '%s' is not a listening socket", tok);
			continue;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (ninh == cap) {
			cap = cap ? cap * 2 : 16;
			struct inh *n = realloc(inh, (size_t)cap * sizeof(*n));
			if (!n)
				break;
			inh = n;
		}
		inh[ninh++] = x;
	}
	free(list);
	return ninh;
}

static bool same_addr(const struct inh *x, const struct cfg_addr *a)
{
	if (x->ss.ss_family != a->ss.ss_family)
		return false;
	switch (a->ss.ss_family) {
	case AF_INET: {
		const struct sockaddr_in *p = (const void *)&x->ss, *q = (const void *)&a->ss;
		return p->sin_port == q->sin_port && p->sin_addr.s_addr == q->sin_addr.s_addr;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *p = (const void *)&x->ss, *q = (const void *)&a->ss;
		return p->sin6_port == q->sin6_port &&
		       memcmp(&p->sin6_addr, &q->sin6_addr, sizeof(p->sin6_addr)) == 0;
	}
	case AF_UNIX: {
		const struct sockaddr_un *p = (const void *)&x->ss, *q = (const void *)&a->ss;
		return strncmp(p->sun_path, q->sun_path, sizeof(p->sun_path)) == 0;
	}
	}
	return false;
}

int upgrade_take_fd(const struct cfg_addr *a)
{
	for (int i = 0; i < ninh; i++)
		if (inh[i].fd >= 0 && same_addr(&inh[i], a)) {
			int fd = inh[i].fd, one = 1;
			inh[i].fd = -1;
			/* An older process may not have set it; accepted sockets
			 * inherit it (listener_accept relies on that). */
			if (a->ss.ss_family != AF_UNIX)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			return fd;
		}
	return -1;
}

void upgrade_inherit_done(void)
{
	int taken = 0;
	for (int i = 0; i < ninh; i++) {
		if (inh[i].fd < 0) {
			taken++;
			continue;
		}
		close(inh[i].fd);
	}
	if (ninh)
		log_info("upgrade: took over %d listening socket%s of the old process%s", taken,
			 taken == 1 ? "" : "s", taken < ninh ? " (closed the others)" : "");
	free(inh);
	inh = NULL;
	ninh = 0;
}

void upgrade_ready(void)
{
	if (ready_fd < 0)
		return;
	ssize_t r;
	do
		r = write(ready_fd, "R", 1);
	while (r < 0 && errno == EINTR);
	close(ready_fd);
	ready_fd = -1;
}

/* ---- the old process ---- */

static char exe[PATH_MAX];
static char **args;
static int pipe_rd = -1;
static pid_t child;

void upgrade_set_argv(int argc, char **argv)
{
	(void)argc;
	args = argv;
	/* The path as started, made absolute: `make install` may replace
	 * the file, and the new binary is the one at that path then. */
	if (strchr(argv[0], '/')) {
		if (!realpath(argv[0], exe))
			snprintf(exe, sizeof(exe), "%s", argv[0]);
	} else {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		/* readlink says "(deleted)" once replaced: search PATH then. */
		if (n <= 0 || strstr(exe, " (deleted)"))
			snprintf(exe, sizeof(exe), "%s", argv[0]);
	}
}

pid_t upgrade_child(void)
{
	return child;
}

int upgrade_start(struct worker *ws, int nworkers)
{
	if (child) {
		log_warn("upgrade: already under way (new process %d)", (int)child);
		return -1;
	}
	static int fds[UPGRADE_MAX_FDS];
	static const char *texts[UPGRADE_MAX_FDS];
	int n = workers_listen_fds(ws, nworkers, fds, texts, UPGRADE_MAX_FDS);
	/* Everything the child needs is built before fork(): after it, only
	 * async-signal-safe calls (this process has threads). */
	size_t cap = 64;
	for (int i = 0; i < n; i++)
		cap += strlen(texts[i]) + 16;
	char *fdenv = malloc(cap);
	char readyenv[64];
	int p[2];
	if (!fdenv || pipe2(p, O_CLOEXEC) < 0) {
		log_err("upgrade: %s", strerror(errno));
		free(fdenv);
		return -1;
	}
	size_t off = (size_t)snprintf(fdenv, cap, "GATEHOUSE_FDS=");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(fdenv + off, cap - off, "%s%d=%s", i ? ";" : "", fds[i],
					texts[i]);
	snprintf(readyenv, sizeof(readyenv), "GATEHOUSE_READY_FD=%d", p[1]);
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 3, sizeof(*envp));
	if (!envp) {
		free(fdenv);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "GATEHOUSE_FDS=", 14) != 0 &&
		    strncmp(environ[i], "GATEHOUSE_READY_FD=", 19) != 0)
			envp[k++] = environ[i];
	envp[k++] = fdenv;
	envp[k++] = readyenv;
	envp[k] = NULL;

	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++)
			fcntl(fds[i], F_SETFD, 0);
		fcntl(p[1], F_SETFD, 0);
		if (strchr(exe, '/'))
			execve(exe, args, envp);
		else
			execvpe(exe, args, envp);
		_exit(127);
	}
	int e = errno;
	free(fdenv);
	free(envp);
	close(p[1]);
	if (pid < 0) {
		log_err("upgrade: fork: %s", strerror(e));
		close(p[0]);
		return -1;
	}
	child = pid;
	pipe_rd = p[0];
	log_info("upgrade: started %s as pid %d with %d listening socket%s", exe, (int)pid, n,
		 n == 1 ? "" : "s");
	return pipe_rd;
}

int upgrade_poll(void)
{
	if (pipe_rd < 0)
		return 0;
	char b;
	ssize_t r = read(pipe_rd, &b, 1);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	close(pipe_rd);
	pipe_rd = -1;
	if (r == 1) {
		log_info("upgrade: new process %d is ready; this one drains and exits", (int)child);
		return 1;
	}
	int st = 0;
	if (waitpid(child, &st, 0) == child && WIFEXITED(st))
		log_err("upgrade: new process %d failed (exit %d); still serving", (int)child,
			WEXITSTATUS(st));
	else
		log_err("upgrade: new process %d failed; still serving", (int)child);
	child = 0;
	return -1;
}
