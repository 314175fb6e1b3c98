/*
 * test_lb.c - unit tests for the balancing algorithms (src/lb/).
 */
#include <stdlib.h>
#include "unit.h"
#include "lb/lb.h"

static struct cfg_server srvs[4];
static struct cfg_server *srvp[4];
static struct cfg_backend be_cfg;

static void setup(const int *weights, int n)
{
	memset(&be_cfg, 0, sizeof(be_cfg));
	be_cfg.name = "b";
	be_cfg.balance = LB_ROUNDROBIN;
	for (int i = 0; i < n; i++) {
		memset(&srvs[i], 0, sizeof(srvs[i]));
		srvs[i].name = "s";
		srvs[i].weight = weights[i];
		srvs[i].index = i;
		srvp[i] = &srvs[i];
	}
	be_cfg.servers = srvp;
	be_cfg.nservers = n;
}

TEST(roundrobin_follows_weights_smoothly)
{
	int w[3] = { 5, 1, 1 };
	setup(w, 3);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[3] = { 0 }, run = 0, maxrun = 0, last = -1;
	for (int i = 0; i < 7000; i++) {
		struct server_rt *s = lb_pick(&be, NULL, NULL);
		int k = (int)(s - be.servers);
		count[k]++;
		run = k == last ? run + 1 : 1;
		if (run > maxrun)
			maxrun = run;
		last = k;
	}
	CHECK_EQ_INT(count[0], 5000);
	CHECK_EQ_INT(count[1], 1000);
	CHECK_EQ_INT(count[2], 1000);
	/* Smooth: the cycle is a a b a c a a, so at most four a's in a row
	 * across two cycles, never a burst of the whole 5+5 of a naive walk. */
	CHECK(maxrun <= 4);
	lb_backend_free(&be);
}

TEST(roundrobin_skips_disabled_and_uses_backup)
{
	int w[3] = { 1, 1, 1 };
	setup(w, 3);
	srvs[1].disabled = true;
	srvs[2].backup = true;
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int i = 0; i < 10; i++)
		CHECK(lb_pick(&be, NULL, NULL) == &be.servers[0]);
	srvs[0].drain = true;   /* no normal server left: the backup takes over */
	for (int i = 0; i < 10; i++)
		CHECK(lb_pick(&be, NULL, NULL) == &be.servers[2]);
	srvs[2].disabled = true;
	CHECK(lb_pick(&be, NULL, NULL) == NULL);
	lb_backend_free(&be);
}

TEST(roundrobin_retry_avoids_previous_server)
{
	int w[2] = { 1, 1 };
	setup(w, 2);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int i = 0; i < 10; i++) {
		struct server_rt *avoid = &be.servers[i % 2];
		CHECK(lb_pick(&be, NULL, avoid) != avoid);
	}
	/* With one server only, a retry goes back to it. */
	srvs[1].disabled = true;
	CHECK(lb_pick(&be, NULL, &be.servers[0]) == &be.servers[0]);
	lb_backend_free(&be);
}

int main(void)
{
	RUN(roundrobin_follows_weights_smoothly);
	RUN(roundrobin_skips_disabled_and_uses_backup);
	RUN(roundrobin_retry_avoids_previous_server);
	return UNIT_SUMMARY("test_lb");
}
