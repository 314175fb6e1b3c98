/*
 * leastconn.c - fewest requests in flight relative to weight (nginx's
 * least_conn, HAProxy's leastconn).  The count is the process-wide one
 * (server_shared.active), so two workers do not both pile onto the server
 * each of them alone sees as idle.  Servers tied at the lowest
 * active/weight share the request by smooth weighted round robin: with
 * requests that finish at once everything is tied at zero and leastconn
 * behaves exactly like roundrobin, weights included, instead of always
 * sending to the first server.
 */
#include <stdlib.h>
#include "lb/lb_internal.h"

static struct server_rt *lc_pick(struct backend_rt *be, const struct cond_ctx *ctx,
				 const struct server_rt *avoid)
{
	struct lb_cand *c = be->lb_data;
	int n = lb_candidates(be, avoid, c);

	if (n <= 1)
		return n ? c[0].s : NULL;
	struct lb_cand least = c[0];
	for (int i = 1; i < n; i++)
		if (lb_less_loaded(&c[i], &least))
			least = c[i];
	/* Keep the ones tied with the least loaded (none is below it). */
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!lb_less_loaded(&least, &c[i]))
			c[k++] = c[i];
	return k == 1 ? c[0].s : lb_swrr(c, k);
}

const struct lb_ops lb_leastconn = {
	.name = "leastconn",
	.init = lb_cand_init,
	.pick = lc_pick,
};
