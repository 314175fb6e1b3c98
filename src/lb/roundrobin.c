/*
 * roundrobin.c - smooth weighted round robin (the nginx method): each pick
 * adds every eligible server's weight to its running score, takes the
 * highest score and subtracts the total from it.  Weights 5,1,1 give
 * a a b a c a a rather than a burst of five a's.
 */
#include "core/loop.h"
#include "lb/lb.h"

static struct server_rt *rr_pick(struct backend_rt *be, const struct cond_ctx *ctx,
				 const struct server_rt *avoid)
{
	bool backups = lb_use_backups(be);
	struct server_rt *best = NULL;
	int64_t total = 0;
	uint64_t now = 0;

	for (int pass = 0; pass < 2 && !best; pass++) {
		for (int i = 0; i < be->nservers; i++) {
			struct server_rt *s = &be->servers[i];
			if (!lb_server_usable(s) || s->cfg->backup != backups)
				continue;
			/* First pass skips the server a retry is leaving; the
			 * second takes it if it is the only one left. */
			if (pass == 0 && s == avoid)
				continue;
			if (s->cfg->slowstart_ms && !now)
				now = loop_clock_ms();
			int w = lb_server_weight(s, now);
			s->cur_weight += w;
			total += w;
			if (!best || s->cur_weight > best->cur_weight)
				best = s;
		}
	}
	if (best)
		best->cur_weight -= total;
	return best;
}

const struct lb_ops lb_roundrobin = {
	.name = "roundrobin",
	.init = NULL,
	.pick = rr_pick,
};
