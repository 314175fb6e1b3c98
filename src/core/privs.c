/*
 * privs.c - the privilege drop (see privs.h).
 *
 * Capabilities: setuid() from root to another user clears the permitted
 * set unless PR_SET_KEEPCAPS is on; with it on, the permitted set survives
 * and capset() then trims it (and the effective set) to what we keep.  The
 * raw capset syscall avoids a libcap dependency for three lines.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/privs.h"

bool privs_root_without_user(const struct cfg *c)
{
	return geteuid() == 0 && c->global.uid < 0;
}

static bool uses_source_client(const struct cfg *c)
{
	for (int b = 0; b < c->nbackends; b++)
		for (int i = 0; i < c->backends[b]->nservers; i++)
			if (c->backends[b]->servers[i]->source.kind == SOURCE_CLIENT)
				return true;
	return false;
}

static int keep_caps(bool net_admin)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	uint32_t keep = 1u << CAP_NET_BIND_SERVICE;

	if (net_admin)
		keep |= 1u << CAP_NET_ADMIN;   /* IP_TRANSPARENT, `source client` */
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = keep;
	return (int)syscall(SYS_capset, &h, d);
}

int privs_drop(const struct cfg *c, char *err, size_t elen)
{
	const struct cfg_global *g = &c->global;

	if (g->chroot && (chroot(g->chroot) < 0 || chdir("/") < 0)) {
		snprintf(err, elen, "chroot %s: %s", g->chroot, strerror(errno));
		return -1;
	}
	if (g->uid < 0)
		return 0;
	uid_t uid = (uid_t)g->uid;
	gid_t gid = (gid_t)g->gid;
	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid)
			return 0;   /* started as that user already */
		snprintf(err, elen, "cannot switch to user %s: not running as root", g->user);
		return -1;
	}
	if (uid == 0)
		return 0;   /* `user root`: warned about at load */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		snprintf(err, elen, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
		return -1;
	}
	/* Supplementary groups first (root's would otherwise stay), then the
	 * group while we still may, then the user. */
	if (setgroups(1, &gid) < 0) {
		snprintf(err, elen, "setgroups(%d): %s", (int)gid, strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0) {
		snprintf(err, elen, "setgid(%d): %s", (int)gid, strerror(errno));
		return -1;
	}
	if (setuid(uid) < 0) {
		snprintf(err, elen, "setuid(%d): %s", (int)uid, strerror(errno));
		return -1;
	}
	if (keep_caps(uses_source_client(c)) < 0) {
		snprintf(err, elen, "capset: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	/* Trust, but verify: root must be out of reach now. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		snprintf(err, elen, "privileges could be regained after dropping them");
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		snprintf(err, elen, "credentials are not %d:%d after the drop", (int)uid,
			 (int)gid);
		return -1;
	}
	return 0;
}
