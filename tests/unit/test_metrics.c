/*
 * test_metrics.c - unit tests of the metrics (src/admin/metrics.c): blocks
 * written by several threads are summed by the scrape; entries outlive a
 * generation (a second configuration naming the same frontend finds its
 * counts); the exposition has HELP/TYPE before samples, cumulative
 * histogram buckets ending in +Inf = count; the server snapshot and the
 * quantile the dashboard computes from it; other modules' writers.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_http.h"
#include "admin/metrics.h"
#include "admin/metrics_int.h"
#include "config/cfg.h"
#include "lb/registry.h"
#include "unit.h"

static const char CONF[] =
	"frontend web {\n    bind 127.0.0.1:8080\n    default_backend app\n}\n"
	"backend app {\n    server s1 127.0.0.1:9001\n    server s2 127.0.0.1:9002\n}\n";

static struct cfg *load(void)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", CONF, strlen(CONF), &errs);
	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

static char *scrape(struct cfg *c)
{
	struct admin_req rq = { "GET", "/metrics", "", "", 0 };
	struct admin_resp rs = { 0 };
	if (!admin_metrics(&rq, &rs, c) || rs.status != 200)
		return NULL;
	char *s = malloc(rs.len + 1);
	memcpy(s, rs.body, rs.len);
	s[rs.len] = '\0';
	if (!rs.body_static)
		free(rs.body);
	return s;
}

/* The value of the sample line that starts with `series` + ' ', or -1. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

struct worker_arg {
	struct cfg *c;
	int n;
};

/* A "worker": counts n requests of 2xx and an observation each. */
static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct cfg_frontend *fe = a->c->frontends[0];
	struct cfg_backend *be = a->c->backends[0];
	for (int i = 0; i < a->n; i++) {
		struct mx_fe_w *f = mx_blk(fe->mx);
		struct mx_be_w *b = mx_blk(be->mx);
		struct mx_srv_w *s = mx_blk(be->servers[0]->mx);
		MX_ADD(f->req[2], 1);
		MX_ADD(b->req[2], 1);
		MX_ADD(s->req[2], 1);
		mx_observe(&b->dur, 700);       /* 0.7 ms: the 0.001 bucket */
		mx_observe(&s->dur, i % 2 ? 700 : 20000);
	}
	metrics_conn_open(fe);
	metrics_conn_open(fe);
	metrics_conn_idle(fe, true);
	metrics_conn_close(fe, false);   /* one active connection left per thread */
	return NULL;
}

TEST(test_threads_summed_and_exposition)
{
	metrics_enable();
	struct cfg *c = load();
	CHECK(c != NULL);
	if (!c)
		return;
	registry_sync(c);
	CHECK(metrics_fe_conf(c->frontends[0]) == c->frontends[0]->mx);
	CHECK(metrics_be_conf(c->backends[0]) != NULL);
	CHECK(c->backends[0]->servers[1]->mx != NULL);

	pthread_t t[4];
	struct worker_arg a = { c, 1000 };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &a);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);

	char *m = scrape(c);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(sample(m, "gatehouse_frontend_requests_total{frontend=\"web\",code=\"2xx\"}") == 4000);
	CHECK(sample(m, "gatehouse_frontend_requests_total{frontend=\"web\",code=\"5xx\"}") == 0);
	CHECK(sample(m, "gatehouse_frontend_connections_total{frontend=\"web\"}") == 8);
	CHECK(sample(m, "gatehouse_frontend_connections{frontend=\"web\",state=\"idle\"}") == 4);
	CHECK(sample(m, "gatehouse_frontend_connections{frontend=\"web\",state=\"active\"}") == 0);
	CHECK(sample(m, "gatehouse_backend_request_duration_seconds_bucket{backend=\"app\","
			"le=\"0.0005\"}") == 0);
	CHECK(sample(m, "gatehouse_backend_request_duration_seconds_bucket{backend=\"app\","
			"le=\"0.001\"}") == 4000);
	CHECK(sample(m, "gatehouse_backend_request_duration_seconds_bucket{backend=\"app\","
			"le=\"+Inf\"}") == 4000);
	CHECK(sample(m, "gatehouse_backend_request_duration_seconds_count{backend=\"app\"}") == 4000);
	CHECK(sample(m, "gatehouse_backend_request_duration_seconds_sum{backend=\"app\"}") == 2.8);
	CHECK(sample(m, "gatehouse_server_requests_total{backend=\"app\",server=\"s2\","
			"code=\"2xx\"}") == 0);
	/* every family has its HELP and TYPE before its first sample */
	const char *h = strstr(m, "# TYPE gatehouse_backend_request_duration_seconds histogram\n");
	const char *first = strstr(m, "gatehouse_backend_request_duration_seconds_bucket");
	CHECK(h && first && h < first);
	CHECK(strstr(m, "# HELP gatehouse_frontend_requests_total ") != NULL);
	CHECK(m[strlen(m) - 1] == '\n');
	free(m);

	/* the snapshot: s1 got 4000, half at 0.7 ms and half at 20 ms */
	struct mx_server_snapshot snap;
	CHECK(metrics_server_snapshot("app", "s1", &snap));
	CHECK_EQ_INT(snap.requests, 4000);
	CHECK_EQ_INT(snap.status[1], 4000);
	CHECK_EQ_INT(snap.duration.count, 4000);
	double p50 = mx_hist_quantile(&snap.duration, 0.5);
	double p99 = mx_hist_quantile(&snap.duration, 0.99);
	CHECK(p50 > 0.0005 && p50 <= 0.001);
	CHECK(p99 > 0.01 && p99 <= 0.025);
	CHECK(!metrics_server_snapshot("app", "nope", &snap));

	/* a second generation with the same names finds the counts */
	struct cfg *c2 = load();
	metrics_fe_conf(c2->frontends[0]);
	metrics_be_conf(c2->backends[0]);
	CHECK(c2->frontends[0]->mx == c->frontends[0]->mx);
	m = scrape(c2);
	CHECK(m && sample(m, "gatehouse_frontend_requests_total{frontend=\"web\",code=\"2xx\"}") ==
			   4000);
	free(m);
	cfg_free(c2);
	cfg_free(c);
	registry_free();
}

/* What a scrape costs the admin thread (printed, not checked: a shared
 * machine's timings are not a test). */
TEST(test_scrape_cost)
{
	struct cfg *c = load();
	metrics_fe_conf(c->frontends[0]);
	metrics_be_conf(c->backends[0]);
	struct timespec t0, t1;
	size_t len = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++) {
		char *m = scrape(c);
		CHECK(m != NULL);
		len = m ? strlen(m) : 0;
		free(m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  scrape: %zu bytes, %.1f us each (1 frontend, 1 backend, 2 servers)\n", len,
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6);
	cfg_free(c);
}

TEST(test_quantile_edges)
{
	struct mx_hist h = { 0 };
	CHECK(mx_hist_quantile(&h, 0.5) == 0);
	h.bucket[MX_LAT_BUCKETS - 1] = 3;   /* all above the last bound */
	h.count = 3;
	CHECK(mx_hist_quantile(&h, 0.99) == mx_lat_bounds[MX_LAT_BUCKETS - 2]);
	memset(&h, 0, sizeof(h));
	h.bucket[0] = 10;                   /* all in (0, 0.5 ms] */
	h.count = 10;
	CHECK(mx_hist_quantile(&h, 0.5) == 0.00025);
}

/* A family of its own: with control/reload.h in the tree, metrics.c
 * writes gatehouse_config_reloads_total itself. */
static void extra_writer(struct metrics_out *o, void *arg)
{
	metrics_family(o, "gatehouse_test_extra_total", "counter", "A registered family.");
	metrics_sample(o, "gatehouse_test_extra_total", "result=\"ok\"", *(int *)arg);
}

TEST(test_registered_writer)
{
	static int three = 3;
	CHECK(metrics_register(extra_writer, &three) == 0);
	struct cfg *c = load();
	char *m = scrape(c);
	CHECK(m && sample(m, "gatehouse_test_extra_total{result=\"ok\"}") == 3);
	CHECK(m && strstr(m, "# TYPE gatehouse_test_extra_total counter\n"));
	free(m);
	cfg_free(c);
}

TEST(test_not_metrics)
{
	struct admin_req rq = { "GET", "/api/backends", "", "", 0 };
	struct admin_resp rs = { 0 };
	CHECK(!admin_metrics(&rq, &rs, NULL));
	struct admin_req post = { "POST", "/metrics", "", "", 0 };
	CHECK(admin_metrics(&post, &rs, NULL) && rs.status == 405);
}

int main(void)
{
	RUN(test_threads_summed_and_exposition);
	RUN(test_scrape_cost);
	RUN(test_quantile_edges);
	RUN(test_registered_writer);
	RUN(test_not_metrics);
	metrics_free();
	return UNIT_SUMMARY("test_metrics");
}
