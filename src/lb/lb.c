/*
 * lb.c - what every balancing algorithm shares: per-thread setup, server
 * eligibility and the choice of algorithm.  Algorithms live in their own
 * files (roundrobin.c, ...).
 */
#include <stdlib.h>
#include "lb/lb.h"

static const struct lb_ops *lb_ops_for(enum lb_algo a)
{
	switch (a) {
	case LB_ROUNDROBIN:
	default:
		/* The other algorithms arrive with the load-balancing issue;
		 * until then the config accepts them and rotates. */
		return &lb_roundrobin;
	}
}

int lb_backend_init(struct backend_rt *be, const struct cfg_backend *cfg)
{
	be->cfg = cfg;
	be->nservers = cfg->nservers;
	be->servers = calloc((size_t)(cfg->nservers ? cfg->nservers : 1), sizeof(*be->servers));
	if (!be->servers)
		return -1;
	for (int i = 0; i < cfg->nservers; i++) {
		struct server_rt *s = &be->servers[i];
		s->cfg = cfg->servers[i];
		s->be = be;
		LIST_INIT(&s->idle);
	}
	be->lb = lb_ops_for(cfg->balance);
	return be->lb->init ? be->lb->init(be) : 0;
}

void lb_backend_free(struct backend_rt *be)
{
	free(be->servers);
	be->servers = NULL;
}

bool lb_server_usable(const struct server_rt *s)
{
	return !s->cfg->disabled && !s->cfg->drain && s->cfg->weight > 0;
}

bool lb_use_backups(const struct backend_rt *be)
{
	for (int i = 0; i < be->nservers; i++)
		if (!be->servers[i].cfg->backup && lb_server_usable(&be->servers[i]))
			return false;
	return true;
}

struct server_rt *lb_pick(struct backend_rt *be, const struct cond_ctx *ctx,
			  const struct server_rt *avoid)
{
	if (be->nservers == 0)
		return NULL;
	struct server_rt *s = be->lb->pick(be, ctx, avoid);
	if (s)
		s->picked++;
	return s;
}
