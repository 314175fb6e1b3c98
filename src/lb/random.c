/*
 * random.c - power of N choices (`balance random(N)`, N = 2 by default):
 * draw N servers at random in proportion to their weights and send the
 * request to the one with the fewest requests in flight relative to its
 * weight.  Nearly as even as leastconn, without every worker herding onto
 * the same least loaded server between two updates of the counts (Mitzenmacher's
 * "power of two choices"; HAProxy's random(2)).  Draws are independent,
 * so a server may be drawn twice; with nothing in flight the first draw
 * wins and the split follows the weights exactly.
 */
#include <stdlib.h>
#include "lb/lb_internal.h"

static struct server_rt *rnd_pick(struct backend_rt *be, const struct cond_ctx *ctx,
				  const struct server_rt *avoid)
{
	struct lb_cand *c = be->lb_data;
	int n = lb_candidates(be, avoid, c);

	if (n <= 1)
		return n ? c[0].s : NULL;
	uint64_t total = lb_total_weight(c, n);
	int choices = be->cfg->random_choices > 0 ? be->cfg->random_choices : 2;
	int best = lb_weighted_draw(c, n, total);
	for (int k = 1; k < choices; k++) {
		int j = lb_weighted_draw(c, n, total);
		if (lb_less_loaded(&c[j], &c[best]))
			best = j;
	}
	return c[best].s;
}

const struct lb_ops lb_random = {
	.name = "random",
	.init = lb_cand_init,
	.pick = rnd_pick,
};
