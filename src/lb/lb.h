/*
 * lb.h - load balancing: a tiny interface, one file per algorithm.
 *
 * Like nginx's upstream modules, an algorithm only supplies "init" and
 * "pick a server"; eligibility (down, disabled, draining, backup) is decided
 * here once, so every algorithm treats it the same way.  State is per
 * worker thread (struct backend_rt lives in the worker), so picking takes no
 * lock.
 */
#ifndef GH_LB_LB_H
#define GH_LB_LB_H

#include <stdbool.h>
#include <stdint.h>
#include "config/cfg.h"
#include "core/list.h"

struct cond_ctx;
struct backend_rt;

/* Per-thread runtime of one server. */
struct server_rt {
	const struct cfg_server *cfg;
	struct backend_rt *be;
	struct list idle;         /* idle keep-alive connections (struct srvconn) */
	uint32_t nidle;
	uint32_t active;          /* requests in flight from this thread */
	int64_t cur_weight;       /* smooth weighted round robin */
	uint64_t picked;          /* times chosen (stats, tests) */
};

struct lb_ops {
	const char *name;
	/* Prepares per-thread state; returns 0 or -1. */
	int (*init)(struct backend_rt *be);
	/* Returns a server among the eligible ones, never `avoid` if another
	 * is eligible (retries go elsewhere), or NULL. */
	struct server_rt *(*pick)(struct backend_rt *be, const struct cond_ctx *ctx,
				  const struct server_rt *avoid);
};

struct backend_rt {
	const struct cfg_backend *cfg;
	const struct lb_ops *lb;
	struct server_rt *servers;   /* [cfg->nservers] */
	int nservers;
};

/* Sets up be for one worker thread.  Returns 0 or -1 on OOM. */
int lb_backend_init(struct backend_rt *be, const struct cfg_backend *cfg);
void lb_backend_free(struct backend_rt *be);

/* Picks a server for a request (see struct lb_ops). */
struct server_rt *lb_pick(struct backend_rt *be, const struct cond_ctx *ctx,
			  const struct server_rt *avoid);

/* Whether s may take new requests, and whether it is a backup. */
bool lb_server_usable(const struct server_rt *s);

/* Whether the eligible set is the backups (no normal server usable). */
bool lb_use_backups(const struct backend_rt *be);

extern const struct lb_ops lb_roundrobin;

#endif
