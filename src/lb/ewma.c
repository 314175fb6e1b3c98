/*
 * ewma.c - latency-aware balancing (Finagle's and Linkerd's "peak EWMA"
 * with power of two choices).  Each server's cost is its moving average of
 * response time, the peak kept (a slower sample replaces the average at
 * once, faster ones pull it down over ~10 s; lb_observe() in lb.c) and
 * decayed towards zero while the server gets no samples, multiplied by the
 * work queued on it.  Two servers are drawn and the cheaper one wins.
 *
 * Weights: a server of weight w counts as w interchangeable servers of
 * weight 1 sharing its latency and its requests, so
 *     cost = ewma * (active / w + 1)
 * and the two draws are two distinct such units.  With weight 1 everywhere
 * this is Finagle's ewma * (active + 1) over two distinct servers; with
 * equal latencies the split follows the weights; a slow server loses every
 * comparison until the others are loaded enough to cost more than it.
 *
 * A server with no sample yet costs nothing while idle (try it) and a large
 * penalty once it has requests in flight, so a newcomer is probed rather
 * than flooded before its first answer.  If lb_observe() is never called
 * (no samples anywhere) this degrades to power of two choices on load.
 */
#include <stdlib.h>
#include "core/loop.h"
#include "lb/lb_internal.h"

#define EWMA_UNKNOWN_BUSY_NS 1e9   /* cost of a busy server with no sample: 1 s */

static double ewma_cost(const struct lb_cand *c, uint64_t now_ms)
{
	const struct server_shared *sh = c->s->sh;
	double lat = sh ? lb_ewma_now(sh, now_ms) : 0;
	if (lat <= 0)
		lat = c->active ? EWMA_UNKNOWN_BUSY_NS : 0;
	return lat * ((double)c->active / c->weight + 1.0);
}

static struct server_rt *ewma_pick(struct backend_rt *be, const struct cond_ctx *ctx,
				   const struct server_rt *avoid)
{
	struct lb_cand *c = be->lb_data;
	int n = lb_candidates(be, avoid, c);

	if (n <= 1)
		return n ? c[0].s : NULL;
	uint64_t total = lb_total_weight(c, n);
	/* Two distinct units: the second draw leaves out the unit the first
	 * took, so it lands on the same server with odds (w-1)/(total-1). */
	int i = lb_weighted_draw(c, n, total);
	c[i].weight--;
	int j = lb_weighted_draw(c, n, total - 1);
	c[i].weight++;
	if (i == j)
		return c[i].s;
	uint64_t now = loop_clock_ms();
	return ewma_cost(&c[j], now) < ewma_cost(&c[i], now) ? c[j].s : c[i].s;
}

const struct lb_ops lb_ewma = {
	.name = "ewma",
	.init = lb_cand_init,
	.pick = ewma_pick,
};
