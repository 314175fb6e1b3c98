/*
 * metrics.c - /metrics: Prometheus text exposition 0.0.4 (metrics.h).
 * (First cut: the listener's contract; the counters follow.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_http.h"
#include "admin/metrics.h"
#include <stdatomic.h>
#include "lb/registry.h"

const double mx_lat_bounds[MX_LAT_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

bool metrics_server_snapshot(const char *backend, const char *server,
			     struct mx_server_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	struct server_shared *sh = registry_server(backend, server);
	if (!sh)
		return false;
	out->in_flight = atomic_load_explicit(&sh->active, memory_order_relaxed);
	return true;
}

double mx_hist_quantile(const struct mx_hist *h, double q)
{
	if (!h->count)
		return 0;
	double rank = q * (double)h->count, cum = 0, lo = 0;
	for (int i = 0; i < MX_LAT_BUCKETS; i++) {
		double c = (double)h->bucket[i];
		if (cum + c >= rank && c > 0) {
			if (i == MX_LAT_BUCKETS - 1)
				return mx_lat_bounds[MX_LAT_BUCKETS - 2];
			double hi = mx_lat_bounds[i];
			return lo + (hi - lo) * ((rank - cum) / c);
		}
		cum += c;
		if (i < MX_LAT_BUCKETS - 1)
			lo = mx_lat_bounds[i];
	}
	return mx_lat_bounds[MX_LAT_BUCKETS - 2];
}

void metrics_free(void)
{
}

bool admin_metrics(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c)
{
	if (strcmp(rq->path, "/metrics") != 0)
		return false;
	static const char body[] =
		"# HELP gatehouse_up 1 while gatehouse serves.\n"
		"# TYPE gatehouse_up gauge\n"
		"gatehouse_up 1\n";
	rs->status = 200;
	rs->ctype = "text/plain; version=0.0.4; charset=utf-8";
	rs->body = (char *)body;
	rs->len = sizeof(body) - 1;
	rs->body_static = true;
	return true;
}
