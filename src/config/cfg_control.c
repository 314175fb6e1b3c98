/*
 * cfg_control.c - global directives of process control (src/control/):
 * `pidfile PATH`, where the running process writes its pid, so that
 * `gatehouse -s reload|stop|upgrade` finds it (as nginx -s does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg_internal.h"

int cfg_gl_pidfile(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	const struct cfg_tok *t = &n->toks[1];

	if (!t->s[0]) {
		cfg_error(p, t->line, t->col, "empty pidfile path; expected a file name");
		return -1;
	}
	char *path = cfg_path_join(p, t->s);
	if (!path) {
		cfg_oom(p);
		return -1;
	}
	/* Its directory must exist: the file is written once the process
	 * serves, and `gatehouse -t` should say so now rather than then. */
	char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		struct stat st;
		*slash = '\0';
		bool ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		int e = errno;
		*slash = '/';
		if (!ok) {
			cfg_error(p, t->line, t->col, "pidfile '%s': its directory %s", path,
				  e == ENOENT || e == 0 ? "does not exist" : strerror(e));
			free(path);
			return -1;
		}
	}
	free(g->pidfile);
	g->pidfile = path;
	return 0;
}
