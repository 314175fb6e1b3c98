/*
 * lb.c - what every balancing algorithm shares: per-thread setup, server
 * eligibility and the choice of algorithm.  Algorithms live in their own
 * files (roundrobin.c, ...).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include "core/loop.h"
#include "lb/lb.h"

int lb_shared_init(struct cfg *c)
{
	for (int b = 0; b < c->nbackends; b++) {
		struct cfg_backend *be = c->backends[b];
		be->shared = calloc(1, sizeof(*be->shared));
		if (!be->shared)
			return -1;
		/* The retry budget starts full: 100 retries' worth. */
		atomic_store(&be->shared->retry_tokens_milli, 100 * 1000);
		for (int i = 0; i < be->nservers; i++) {
			struct server_shared *sh = calloc(1, sizeof(*sh));
			if (!sh)
				return -1;
			atomic_store(&sh->admin_drain, be->servers[i]->drain ? 1 : 0);
			be->servers[i]->shared = sh;
		}
	}
	return 0;
}

void lb_shared_free(struct cfg *c)
{
	for (int b = 0; b < c->nbackends; b++) {
		free(c->backends[b]->shared);
		c->backends[b]->shared = NULL;
	}
	for (int b = 0; b < c->nbackends; b++)
		for (int i = 0; i < c->backends[b]->nservers; i++) {
			free(c->backends[b]->servers[i]->shared);
			c->backends[b]->servers[i]->shared = NULL;
		}
}

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
	LIST_INIT(&be->queue);
	be->lb = lb_ops_for(cfg->balance);
	return be->lb->init ? be->lb->init(be) : 0;
}

void lb_backend_free(struct backend_rt *be)
{
	free(be->servers);
	be->servers = NULL;
}

bool lb_server_up(const struct server_rt *s)
{
	const struct cfg_server *c = s->cfg;
	const struct server_shared *sh = c->shared;

	if (c->disabled || c->weight <= 0)
		return false;
	if (!sh)   /* unit tests without shared state */
		return !c->drain;
	if (atomic_load_explicit(&sh->admin_drain, memory_order_relaxed) ||
	    atomic_load_explicit(&sh->health, memory_order_relaxed) != SRV_UP)
		return false;
	uint64_t ej = atomic_load_explicit(&sh->ejected_until_ms, memory_order_relaxed);
	return ej == 0 || ej <= loop_clock_ms();
}

bool lb_server_has_room(const struct server_rt *s)
{
	const struct cfg_server *c = s->cfg;
	if (!c->maxconn || !c->shared)
		return true;
	return atomic_load_explicit(&c->shared->active, memory_order_relaxed) < (uint32_t)c->maxconn;
}

bool lb_server_usable(const struct server_rt *s)
{
	return lb_server_up(s) && lb_server_has_room(s);
}

bool lb_backend_any_up(const struct backend_rt *be)
{
	for (int i = 0; i < be->nservers; i++)
		if (lb_server_up(&be->servers[i]))
			return true;
	return false;
}

int lb_server_weight(const struct server_rt *s, uint64_t now_ms)
{
	const struct cfg_server *c = s->cfg;
	if (!c->slowstart_ms || !c->shared)
		return c->weight;
	uint64_t since = atomic_load_explicit(&c->shared->up_since_ms, memory_order_relaxed);
	if (!since || now_ms >= since + c->slowstart_ms)
		return c->weight;
	/* Linear ramp, at least 1 so a recovering server is not starved. */
	int w = (int)((uint64_t)c->weight * (now_ms - since) / c->slowstart_ms);
	return w < 1 ? 1 : w;
}

bool lb_use_backups(const struct backend_rt *be)
{
	/* "Up", not "usable": normal servers that are merely full make
	 * requests queue, they do not wake the backups. */
	for (int i = 0; i < be->nservers; i++)
		if (!be->servers[i].cfg->backup && lb_server_up(&be->servers[i]))
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
