/*
 * cfg_global.c - the `global { }` section: process-wide settings (workers,
 * connection limit, buffer sizes, drain timeout, log level).
 *
 * There is one struct cfg_global; several global blocks simply add to it.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg_internal.h"

int cfg_workers_effective(const struct cfg *c)
{
	if (c->global.workers > 0)
		return c->global.workers;
	cpu_set_t set;
	int n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0) {
		long on = sysconf(_SC_NPROCESSORS_ONLN);
		n = on > 0 ? (int)on : 1;
	}
	/* per-backend queue masks and per-worker tables hold 64 workers */
	return n > CFG_MAX_WORKERS ? CFG_MAX_WORKERS : n;
}

static int gl_workers(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;

	if (strcmp(n->toks[1].s, "auto") == 0) {
		g->workers = 0;
		return 0;
	}
	return cfg_val_int(p, &n->toks[1], 1, CFG_MAX_WORKERS, &g->workers);
}

static int gl_max_connections(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;

	return cfg_val_int(p, &n->toks[1], 1, 10000000, &g->max_connections);
}

static int gl_bufsize(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	uint64_t v;

	if (cfg_val_size(p, &n->toks[1], 4096, 1024 * 1024, &v) < 0)
		return -1;
	g->bufsize = (uint32_t)v;
	cfg_remember(p, &g->bufsize, &n->toks[1]);
	return 0;
}

static int gl_maxrewrite(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	uint64_t v;

	/* the upper bound against bufsize is checked once both are known */
	if (cfg_val_size(p, &n->toks[1], 0, 512 * 1024, &v) < 0)
		return -1;
	g->maxrewrite = (uint32_t)v;
	cfg_remember(p, &g->maxrewrite, &n->toks[1]);
	return 0;
}

static int gl_ocsp_check(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;

	return cfg_val_duration(p, &n->toks[1], &g->ocsp_check_ms);
}

static int gl_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const struct cfg_timeout_kw kinds[] = {
		{ "drain", offsetof(struct cfg_global, timeout_drain_ms) },
		{ NULL, 0 },
	};
	return cfg_val_timeout(p, s, n, kinds);
}

static int gl_log_level(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const levels[] = { "err", "warn", "info", "debug", NULL };
	struct cfg_global *g = s->obj;
	int i = cfg_val_choice(p, &n->toks[1], "log level", NULL, levels);

	if (i < 0)
		return -1;
	g->log_level = i;
	return 0;
}

static int gl_io_uring(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const words[] = { "off", "on", NULL };
	struct cfg_global *g = s->obj;
	int i = cfg_val_choice(p, &n->toks[1], "tune.io_uring", NULL, words);

	if (i < 0)
		return -1;
	g->io_uring = i == 1;
	return 0;
}

static const struct cfg_kw global_kws[] = {
	{ "workers", "workers auto|N", 1, 1, 0, gl_workers },
	{ "max_connections", "max_connections N", 1, 1, 0, gl_max_connections },
	{ "tune.bufsize", "tune.bufsize SIZE", 1, 1, 0, gl_bufsize },
	{ "tune.maxrewrite", "tune.maxrewrite SIZE", 1, 1, 0, gl_maxrewrite },
	{ "tune.ocsp_check", "tune.ocsp_check DURATION", 1, 1, 0, gl_ocsp_check },
	{ "tune.io_uring", "tune.io_uring on|off", 1, 1, 0, gl_io_uring },
	{ "timeout", "timeout drain DURATION", 2, 2, CFG_KW_MULTI, gl_timeout },
	{ "log_level", "log_level err|warn|info|debug", 1, 1, 0, gl_log_level },
	{ "user", "user NAME|UID", 1, 1, 0, cfg_gl_user },
	{ "group", "group NAME|GID", 1, 1, 0, cfg_gl_group },
	{ "chroot", "chroot DIR", 1, 1, 0, cfg_gl_chroot },
	{ "waf_threads", "waf_threads N", 1, 1, 0, cfg_gl_waf_threads },
	{ "waf_queue", "waf_queue N", 1, 1, 0, cfg_gl_waf_queue },
	{ "admin", "admin ADDR [token_file PATH]", 1, 3, 0, cfg_gl_admin },
	{ "pidfile", "pidfile PATH", 1, 1, 0, cfg_gl_pidfile },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_global_open(struct cfg_parser *p, const struct cfg_node *n)
{
	return &p->cfg->global;
}

const struct cfg_section cfg_section_global = {
	"global", "global {", 0, cfg_global_open, global_kws,
};
