/*
 * test_privs.c - the privilege drop (src/core/privs.c) keeps what a reload
 * needs: after privs_drop() the process is the configured user, cannot get
 * root back, and can still bind a port below 1024 (CAP_NET_BIND_SERVICE),
 * which is what a reload adding such a listener will do.  A control child
 * that also gives up that capability must be refused the same bind, so the
 * test cannot pass on a machine where low ports are open to everyone.
 *
 * Each case runs in a forked child (the drop is for good).  Needs root:
 * without it the test says so and fails, as CI runs it as root.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include "unit.h"
#include "config/cfg.h"
#include "core/privs.h"

/* Binds 127.0.0.1 on a free port below 1024: 0 on success, else errno. */
static int bind_low_port(void)
{
	int last = EADDRINUSE;
	for (int port = 990; port > 900 && last == EADDRINUSE; port--) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return errno;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		last = r == 0 ? 0 : errno;
		close(fd);
	}
	return last;
}

/* Drops every capability left (the control case). */
static int drop_all_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	return (int)syscall(SYS_capset, &h, d);
}

/* Child: 0 = dropped to 65534 and bound a low port (or, with `control`,
 * refused it with EACCES); other codes say which step failed. */
static int child(bool control)
{
	static const char text[] = "global {\n user 65534\n group 65534\n}\n"
				   "frontend f {\n bind 127.0.0.1:8080\n default_backend b\n}\n"
				   "backend b {\n server s 127.0.0.1:9001\n}\n";
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, sizeof(text) - 1, &errs);
	if (!c)
		return 10;
	char err[256];
	if (privs_drop(c, err, sizeof(err)) < 0)
		return 11;
	if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534)
		return 12;
	if (setuid(0) == 0)
		return 13;
	if (control && drop_all_caps() < 0)
		return 14;
	int r = bind_low_port();
	if (control)
		return r == EACCES ? 0 : 15;
	return r == 0 ? 0 : 16;
}

static int run_child(bool control)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(control));
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST(drop_keeps_low_port_binding)
{
	CHECK(geteuid() == 0);   /* CI and make test run as root */
	if (geteuid() != 0)
		return;
	CHECK_EQ_INT(run_child(false), 0);
}

TEST(without_the_capability_the_bind_is_refused)
{
	if (geteuid() != 0)
		return;
	CHECK_EQ_INT(run_child(true), 0);
}

int main(void)
{
	RUN(drop_keeps_low_port_binding);
	RUN(without_the_capability_the_bind_is_refused);
	return UNIT_SUMMARY("test_privs");
}
