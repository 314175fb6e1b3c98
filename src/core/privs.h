/*
 * privs.h - giving up root once the sockets and files that need it are
 * open: `chroot`, then `group` and `user` (setgroups, setgid, setuid, in
 * that order, each checked), keeping only CAP_NET_BIND_SERVICE (and
 * CAP_NET_ADMIN for `source client`) so a later reload can still bind
 * ports below 1024.  main calls it before any thread starts, so every
 * thread runs with the same, reduced credentials.
 */
#ifndef GH_CORE_PRIVS_H
#define GH_CORE_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include "config/cfg.h"

/* True when the process runs as root and the configuration names no user:
 * main warns (at start and under -t). */
bool privs_root_without_user(const struct cfg *c);

/* chroot, then the drop described above, then a check that it held
 * (setuid(0) must fail).  Nothing to do without user/chroot.  Returns 0,
 * or -1 with the reason in err (the process must not go on). */
int privs_drop(const struct cfg *c, char *err, size_t elen);

#endif
