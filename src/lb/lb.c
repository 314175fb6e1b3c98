/*
 * lb.c - what every balancing algorithm shares: per-thread setup, server
 * eligibility, the choice of algorithm and the response-time samples of
 * balance ewma.  Algorithms live in their own files (roundrobin.c,
 * leastconn.c, random.c, ewma.c, hash.c); their shared helpers are in
 * lb_pick.c (lb_internal.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "core/loop.h"
#include "lb/lb.h"
#include "lb/lb_internal.h"
#include "lb/registry.h"

static const struct lb_ops *lb_ops_for(enum lb_algo a)
{
	switch (a) {
	case LB_LEASTCONN:
		return &lb_leastconn;
	case LB_RANDOM:
		return &lb_random;
	case LB_EWMA:
		return &lb_ewma;
	case LB_HASH:
		return &lb_hash;
	case LB_ROUNDROBIN:
	default:
		return &lb_roundrobin;
	}
}

static void server_rt_init(struct server_rt *s, struct backend_rt *be,
			   const struct cfg_server *cs, struct server_shared *sh)
{
	s->cfg = cs;
	s->sh = sh;
	s->be = be;
	LIST_INIT(&s->idle);
	LIST_INIT(&s->h2conns);
}

int lb_backend_init(struct backend_rt *be, const struct cfg_backend *cfg)
{
	be->cfg = cfg;
	be->sh = registry_backend(cfg->name);
	be->nservers = cfg->nservers;
	be->lb_data = NULL;
	/* Room for the servers the API may add (lb_backend_sync): the array
	 * never moves, streams and connections point into it. */
	be->servers = calloc((size_t)cfg->nservers + LB_ADDED_MAX, sizeof(*be->servers));
	if (!be->servers)
		return -1;
	for (int i = 0; i < cfg->nservers; i++)
		server_rt_init(&be->servers[i], be, cfg->servers[i],
			       registry_server(cfg->name, cfg->servers[i]->name));
	LIST_INIT(&be->queue);
	be->lb = lb_ops_for(cfg->balance);
	return be->lb->init ? be->lb->init(be) : 0;
}

int lb_backend_sync(struct backend_rt *be)
{
	struct cfg_server *cs[LB_ADDED_MAX];
	struct server_shared *sh[LB_ADDED_MAX];
	int have = be->nservers - be->cfg->nservers;
	int n = registry_added_servers(be->cfg, cs, sh, LB_ADDED_MAX);

	for (int k = have; k < n; k++)
		server_rt_init(&be->servers[be->cfg->nservers + k], be, cs[k], sh[k]);
	int before = be->nservers;
	if (n > have)
		be->nservers = be->cfg->nservers + n;
	/* Rebuilt whether or not a server came: a live weight may have
	 * changed, and the hash ring is made from the weights. */
	if (!be->lb->init)
		return 0;
	void *old = be->lb_data;
	be->lb_data = NULL;
	if (be->lb->init(be) < 0) {
		free(be->lb_data);
		be->lb_data = old;
		be->nservers = before;   /* adopted at the next message */
		return -1;
	}
	free(old);
	return 0;
}

void lb_backend_free(struct backend_rt *be)
{
	free(be->servers);
	be->servers = NULL;
	free(be->lb_data);
	be->lb_data = NULL;
}

bool lb_server_up(const struct server_rt *s)
{
	const struct cfg_server *c = s->cfg;
	const struct server_shared *sh = s->sh;

	if (c->disabled || lb_live_weight(s) <= 0)
		return false;
	if (!sh)   /* unit tests without shared state */
		return !c->drain;
	if (atomic_load_explicit(&sh->admin_drain, memory_order_relaxed) ||
	    atomic_load_explicit(&sh->admin_disabled, memory_order_relaxed) ||
	    atomic_load_explicit(&sh->removed, memory_order_relaxed) ||
	    atomic_load_explicit(&sh->health, memory_order_relaxed) != SRV_UP)
		return false;
	uint64_t ej = atomic_load_explicit(&sh->ejected_until_ms, memory_order_relaxed);
	return ej == 0 || ej <= loop_clock_ms();
}

bool lb_server_has_room(const struct server_rt *s)
{
	const struct cfg_server *c = s->cfg;
	if (!c->maxconn || !s->sh)
		return true;
	return atomic_load_explicit(&s->sh->active, memory_order_relaxed) < (uint32_t)c->maxconn;
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
	int weight = lb_live_weight(s);
	if (!c->slowstart_ms || !s->sh || weight <= 0)
		return weight;
	uint64_t since = atomic_load_explicit(&s->sh->up_since_ms, memory_order_relaxed);
	if (!since || now_ms >= since + c->slowstart_ms)
		return weight;
	/* Linear ramp, at least 1 so a recovering server is not starved. */
	int w = (int)((uint64_t)weight * (now_ms - since) / c->slowstart_ms);
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

uint64_t lb_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void lb_observe(struct server_rt *s, uint64_t rtt_ns, bool failed)
{
	struct server_shared *sh = s->sh;

	if (!sh)
		return;
	if (failed && rtt_ns < LB_EWMA_FAIL_NS)
		rtt_ns = LB_EWMA_FAIL_NS;
	if (rtt_ns > LB_EWMA_MAX_NS)
		rtt_ns = LB_EWMA_MAX_NS;
	if (rtt_ns == 0)
		rtt_ns = 1;   /* 0 means "no sample yet" */
	uint64_t now = loop_clock_ms();
	uint64_t cur = atomic_load_explicit(&sh->ewma_ns, memory_order_relaxed);
	uint64_t next;
	do {
		if (rtt_ns >= cur) {
			next = rtt_ns;   /* the peak: a slower sample counts at once */
		} else {
			/* Weighted by the time since the previous sample, so the
			 * average forgets at the same pace however busy the
			 * server is.  The stamp is read apart from the value: a
			 * racing update may use a stamp 1 ms off, which shifts
			 * one sample's weight by a few 1e-4 at most. */
			uint64_t stamp = atomic_load_explicit(&sh->ewma_stamp_ms,
							      memory_order_relaxed);
			double keep = lb_ewma_decay(1.0, now > stamp ? now - stamp : 0);
			next = (uint64_t)((double)cur * keep + (double)rtt_ns * (1.0 - keep) + 0.5);
			if (next < rtt_ns)
				next = rtt_ns;
		}
	} while (!atomic_compare_exchange_weak_explicit(&sh->ewma_ns, &cur, next,
							memory_order_relaxed,
							memory_order_relaxed));
	atomic_store_explicit(&sh->ewma_stamp_ms, now, memory_order_relaxed);
}
