/*
 * test_lb.c - unit tests for the balancing algorithms (src/lb/).
 *
 * Servers get process-wide state (struct server_shared) from the registry,
 * as at startup: every setup syncs a fresh registry with a one-backend
 * generation, lb_backend_init() finds the entries by name, and the tests
 * keep pointers to them (shared[]) to set in-flight counts, health, weights
 * by hand and to read what lb_observe() wrote.  "Completing immediately"
 * means picking without counting the request in flight.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "unit.h"
#include "config/cfg.h"
#include "core/loop.h"
#include "filter/cond.h"
#include "http/msg.h"
#include "lb/lb.h"
#include "lb/lb_internal.h"
#include "lb/registry.h"

#define MAXS 8

static struct cfg_server srvs[MAXS];
static struct cfg_server *srvp[MAXS];
static struct server_shared *shared[MAXS];   /* the registry's entries of srvs[] */
static char names[MAXS][16];
static struct cfg_backend be_cfg;
static struct cfg_backend *be_cfgp = &be_cfg;
static struct cfg gen = { .backends = &be_cfgp, .nbackends = 1 };

/* A fresh registry holding be_cfg's backend and servers, as at startup. */
static void registry_reset(int n)
{
	registry_free();
	CHECK(registry_sync(&gen) == 0);
	for (int i = 0; i < n; i++) {
		shared[i] = registry_server(be_cfg.name, srvs[i].name);
		CHECK(shared[i] != NULL);
	}
}

/* n servers named s0.. (or names[] preset by the caller when `keep_names`). */
static void setup_algo(enum lb_algo algo, const int *weights, int n)
{
	memset(&be_cfg, 0, sizeof(be_cfg));
	be_cfg.name = "b";
	be_cfg.balance = algo;
	be_cfg.random_choices = 2;
	be_cfg.hash_balance_factor = 125;
	for (int i = 0; i < n; i++) {
		memset(&srvs[i], 0, sizeof(srvs[i]));
		if (!names[i][0])
			snprintf(names[i], sizeof(names[i]), "s%d", i);
		srvs[i].name = names[i];
		srvs[i].weight = weights[i];
		srvs[i].index = i;
		srvp[i] = &srvs[i];
	}
	be_cfg.servers = srvp;
	be_cfg.nservers = n;
	registry_reset(n);
}

static void setup(const int *weights, int n)
{
	memset(names, 0, sizeof(names));
	setup_algo(LB_ROUNDROBIN, weights, n);
}

static void set_active(int i, uint32_t v)
{
	atomic_store(&shared[i]->active, v);
}

static int idx(const struct backend_rt *be, const struct server_rt *s)
{
	return s ? (int)(s - be->servers) : -1;
}

/* Picks `picks` times, each request completing at once; counts per server. */
static void pick_counts(struct backend_rt *be, const struct cond_ctx *ctx, int picks, int *count)
{
	for (int i = 0; i < be->nservers; i++)
		count[i] = 0;
	for (int i = 0; i < picks; i++) {
		struct server_rt *s = lb_pick(be, ctx, NULL);
		if (s)
			count[idx(be, s)]++;
	}
}

/* Picks `picks` times with `inflight` requests outstanding: each pick is
 * counted active (process-wide, as server_take() does) and then one
 * outstanding request, chosen at random, completes (servers of equal
 * speed: every request in flight is equally likely to finish next). */
static void pick_under_load(struct backend_rt *be, int picks, int inflight, int *count)
{
	int *q = calloc((size_t)inflight, sizeof(*q));
	int nq = 0;

	for (int i = 0; i < be->nservers; i++) {
		count[i] = 0;
		set_active(i, 0);
	}
	for (int i = 0; i < picks; i++) {
		struct server_rt *s = lb_pick(be, NULL, NULL);
		int k = idx(be, s);
		count[k]++;
		atomic_fetch_add(&shared[k]->active, 1);
		q[nq++] = k;
		if (nq == inflight) {
			int j = (int)lb_rand_below((uint64_t)nq);
			atomic_fetch_sub(&shared[q[j]]->active, 1);
			q[j] = q[--nq];
		}
	}
	for (int i = 0; i < be->nservers; i++)
		set_active(i, 0);
	free(q);
}

/* |count/total - weight/wtotal| <= tol for every server. */
static bool follows_weights(const int *count, const int *w, int n, double tol)
{
	double total = 0, wt = 0;
	bool ok = true;
	for (int i = 0; i < n; i++) {
		total += count[i];
		wt += w[i];
	}
	for (int i = 0; i < n; i++) {
		double got = count[i] / total, want = w[i] / wt;
		if (fabs(got - want) > tol) {
			fprintf(stderr, "  server %d: share %.3f, weight share %.3f (tolerance %.3f)\n",
				i, got, want, tol);
			ok = false;
		}
	}
	return ok;
}

/* ---- roundrobin ---- */

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
	atomic_store(&shared[0]->admin_drain, 1);   /* no normal server left: the backup takes over */
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

/* ---- every algorithm: eligibility, backups, retries ---- */

static const enum lb_algo all_algos[] = { LB_ROUNDROBIN, LB_LEASTCONN, LB_RANDOM, LB_EWMA,
					   LB_HASH };

TEST(all_algorithms_respect_eligibility_backups_and_avoid)
{
	int w[5] = { 1, 2, 1, 1, 1 };
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		setup(w, 5);
		be_cfg.balance = all_algos[a];
		srvs[4].backup = true;
		srvs[3].disabled = true;
		atomic_store(&shared[2]->health, SRV_DOWN);
		struct backend_rt be;
		CHECK(lb_backend_init(&be, &be_cfg) == 0);
		int count[5];
		pick_counts(&be, NULL, 600, count);
		CHECK(count[0] > 0 && count[1] > 0);
		CHECK_EQ_INT(count[2] + count[3] + count[4], 0);

		/* A retry never goes back while another server is eligible. */
		for (int i = 0; i < 200; i++) {
			struct server_rt *avoid = &be.servers[i % 2];
			CHECK(lb_pick(&be, NULL, avoid) == &be.servers[1 - i % 2]);
		}
		/* Ejected (outlier detection) and draining servers are skipped. */
		atomic_store(&shared[0]->ejected_until_ms, loop_clock_ms() + 60000);
		for (int i = 0; i < 50; i++)
			CHECK(lb_pick(&be, NULL, NULL) == &be.servers[1]);
		CHECK(lb_pick(&be, NULL, &be.servers[1]) == &be.servers[1]);   /* the only one */
		/* No normal server up: the backup. */
		atomic_store(&shared[1]->admin_drain, 1);
		for (int i = 0; i < 20; i++)
			CHECK(lb_pick(&be, NULL, NULL) == &be.servers[4]);
		srvs[4].disabled = true;
		CHECK(lb_pick(&be, NULL, NULL) == NULL);
		if (unit_failed_checks)
			fprintf(stderr, "  (algorithm %d)\n", (int)all_algos[a]);
		lb_backend_free(&be);
	}
}

/* ---- leastconn ---- */

TEST(leastconn_completing_at_once_is_weighted_round_robin)
{
	int w[3] = { 5, 1, 1 };
	setup_algo(LB_LEASTCONN, w, 3);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[3], run = 0, maxrun = 0, last = -1;
	for (int i = 0; i < 3; i++)
		count[i] = 0;
	for (int i = 0; i < 7000; i++) {
		int k = idx(&be, lb_pick(&be, NULL, NULL));
		count[k]++;
		run = k == last ? run + 1 : 1;
		maxrun = run > maxrun ? run : maxrun;
		last = k;
	}
	CHECK_EQ_INT(count[0], 5000);
	CHECK_EQ_INT(count[1], 1000);
	CHECK_EQ_INT(count[2], 1000);
	CHECK(maxrun <= 4);
	lb_backend_free(&be);
}

TEST(leastconn_picks_least_loaded_relative_to_weight)
{
	int w[3] = { 1, 1, 1 };
	setup_algo(LB_LEASTCONN, w, 3);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	set_active(0, 5);
	set_active(1, 2);
	set_active(2, 7);
	for (int i = 0; i < 20; i++)
		CHECK_EQ_INT(idx(&be, lb_pick(&be, NULL, NULL)), 1);
	lb_backend_free(&be);

	/* 4/1 vs 4/2 vs 3/1: the weight-2 server is the least loaded. */
	int w2[3] = { 1, 2, 1 };
	setup_algo(LB_LEASTCONN, w2, 3);
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	set_active(0, 4);
	set_active(1, 4);
	set_active(2, 3);
	CHECK_EQ_INT(idx(&be, lb_pick(&be, NULL, NULL)), 1);
	set_active(1, 7);   /* 7/2 > 3/1 */
	CHECK_EQ_INT(idx(&be, lb_pick(&be, NULL, NULL)), 2);
	lb_backend_free(&be);
}

TEST(leastconn_ties_rotate)
{
	int w[4] = { 1, 1, 1, 1 };
	setup_algo(LB_LEASTCONN, w, 4);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	set_active(0, 3);
	set_active(1, 1);
	set_active(2, 3);
	set_active(3, 1);
	int count[4];
	pick_counts(&be, NULL, 100, count);
	CHECK_EQ_INT(count[0], 0);
	CHECK_EQ_INT(count[1], 50);
	CHECK_EQ_INT(count[2], 0);
	CHECK_EQ_INT(count[3], 50);
	lb_backend_free(&be);
}

TEST(leastconn_under_load_follows_weights)
{
	int w[3] = { 1, 2, 3 };
	setup_algo(LB_LEASTCONN, w, 3);
	lb_rand_seed(1);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[3];
	pick_under_load(&be, 10000, 12, count);
	CHECK(follows_weights(count, w, 3, 0.03));
	lb_backend_free(&be);
}

TEST(leastconn_slowstart_ramps_weight)
{
	int w[2] = { 10, 10 };
	setup_algo(LB_LEASTCONN, w, 2);
	srvs[1].slowstart_ms = 10000;
	/* Up for 1 s of a 10 s ramp: weight 1 of 10. */
	atomic_store(&shared[1]->up_since_ms, loop_clock_ms() - 1000);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[2];
	pick_counts(&be, NULL, 1100, count);
	CHECK(count[1] >= 90 && count[1] <= 115);
	lb_backend_free(&be);
}

/* ---- random ---- */

TEST(random_follows_weights)
{
	int w[3] = { 1, 2, 3 };
	setup_algo(LB_RANDOM, w, 3);
	lb_rand_seed(2);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[3];
	pick_counts(&be, NULL, 10000, count);
	CHECK(follows_weights(count, w, 3, 0.02));
	pick_under_load(&be, 10000, 12, count);
	CHECK(follows_weights(count, w, 3, 0.04));
	lb_backend_free(&be);
}

TEST(random_prefers_the_less_loaded_of_its_draws)
{
	int w[2] = { 1, 1 };
	setup_algo(LB_RANDOM, w, 2);
	lb_rand_seed(3);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	set_active(0, 10);
	int count[2];
	pick_counts(&be, NULL, 10000, count);
	/* Server 0 only when both draws are it: 1/4. */
	CHECK(count[0] > 2200 && count[0] < 2800);
	lb_backend_free(&be);

	/* random(4): 1/16. */
	setup_algo(LB_RANDOM, w, 2);
	be_cfg.random_choices = 4;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	set_active(0, 10);
	pick_counts(&be, NULL, 10000, count);
	CHECK(count[0] > 450 && count[0] < 800);
	lb_backend_free(&be);
}

/* Each thread has its own generator: seeding one thread does not move
 * another's sequence, and threads that never seed draw different numbers. */
struct rand_thread {
	uint64_t seed;      /* 0: do not seed */
	uint64_t draws[3];
	int bins[10];
};

static void *rand_thread_main(void *arg)
{
	struct rand_thread *t = arg;
	if (t->seed)
		lb_rand_seed(t->seed);
	for (int i = 0; i < 3; i++)
		t->draws[i] = lb_rand64();
	for (int i = 0; i < 100000; i++)
		t->bins[lb_rand_below(10)]++;
	return NULL;
}

TEST(random_generator_is_uniform_and_per_thread)
{
	/* Pinned: xorshift64* seeded through mix64 (values computed
	 * independently from the algorithm's definition). */
	static const uint64_t seq5[3] = { 0x14b9e986a0e31321ULL, 0x22af78f4827b174dULL,
					  0x4ae848cfa8f13d10ULL };
	lb_rand_seed(4);
	int bins[10] = { 0 };
	for (int i = 0; i < 100000; i++)
		bins[lb_rand_below(10)]++;
	for (int i = 0; i < 10; i++)
		CHECK(bins[i] > 9500 && bins[i] < 10500);
	lb_rand_seed(5);
	CHECK(lb_rand64() == seq5[0]);

	/* Another thread seeded differently, and two that never seed. */
	struct rand_thread ts[3] = { { .seed = 6 }, { .seed = 0 }, { .seed = 0 } };
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&th[i], NULL, rand_thread_main, &ts[i]) == 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	/* This thread's sequence went on as if the others did not exist. */
	CHECK(lb_rand64() == seq5[1]);
	CHECK(lb_rand64() == seq5[2]);
	/* Seed 6 in a thread gives what seed 6 gives here. */
	lb_rand_seed(6);
	for (int i = 0; i < 3; i++)
		CHECK(ts[0].draws[i] == lb_rand64());
	/* Unseeded threads seed themselves, each differently. */
	CHECK(memcmp(ts[1].draws, ts[2].draws, sizeof(ts[1].draws)) != 0);
	CHECK(ts[1].draws[0] != ts[0].draws[0] && ts[2].draws[0] != ts[0].draws[0]);
	for (int t = 0; t < 3; t++)
		for (int i = 0; i < 10; i++)
			CHECK(ts[t].bins[i] > 9500 && ts[t].bins[i] < 10500);
}

/* ---- ewma ---- */

TEST(ewma_observe_keeps_peaks_and_decays)
{
	int w[1] = { 1 };
	setup_algo(LB_EWMA, w, 1);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	struct server_rt *s = &be.servers[0];

	lb_observe(s, 10000000, false);   /* 10 ms */
	CHECK_EQ_INT(atomic_load(&shared[0]->ewma_ns), 10000000);
	lb_observe(s, 1000000, false);    /* 1 ms within the same ms: no time to decay */
	CHECK(atomic_load(&shared[0]->ewma_ns) >= 9990000);
	lb_observe(s, 30000000, false);   /* a peak replaces at once */
	CHECK_EQ_INT(atomic_load(&shared[0]->ewma_ns), 30000000);

	/* One time constant later, a 1 ms sample: 30/e + 1*(1-1/e) = 11.67 ms. */
	atomic_store(&shared[0]->ewma_stamp_ms, loop_clock_ms() - LB_EWMA_TAU_MS);
	lb_observe(s, 1000000, false);
	uint64_t v = atomic_load(&shared[0]->ewma_ns);
	CHECK(v > 11600000 && v < 11750000);
	/* Read-side decay: a server without samples drifts back. */
	atomic_store(&shared[0]->ewma_stamp_ms, loop_clock_ms() - 2 * LB_EWMA_TAU_MS);
	double now = lb_ewma_now(shared[0], loop_clock_ms());
	CHECK(now > v * 0.13 && now < v * 0.14);   /* e^-2 = 0.135 */

	/* A failure that came back fast counts as slow. */
	lb_observe(s, 1000, true);
	CHECK(atomic_load(&shared[0]->ewma_ns) >= LB_EWMA_FAIL_NS);
	lb_backend_free(&be);

	CHECK(fabs(lb_ewma_decay(1.0, LB_EWMA_TAU_MS) - exp(-1.0)) < 1e-6);
	CHECK(fabs(lb_ewma_decay(1.0, 4285) - exp(-4285.0 / LB_EWMA_TAU_MS)) < 1e-6);
	CHECK(fabs(lb_ewma_decay(1.0, 25 * LB_EWMA_TAU_MS) - exp(-25.0)) < 1e-12);
}

TEST(ewma_steers_away_from_slow_server)
{
	int w[3] = { 1, 1, 1 };
	setup_algo(LB_EWMA, w, 3);
	lb_rand_seed(6);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int i = 0; i < 20; i++) {
		lb_observe(&be.servers[0], 51000000, false);   /* 51 ms */
		lb_observe(&be.servers[1], 1000000, false);
		lb_observe(&be.servers[2], 1200000, false);
	}
	int count[3];
	pick_counts(&be, NULL, 3000, count);
	/* Idle servers: the slow one loses every comparison. */
	CHECK_EQ_INT(count[0], 0);
	CHECK(count[1] > 1400);   /* 1.0 ms beats 1.2 ms when drawn together */
	/* Under load the fast ones fill up first: server 0 wins a comparison
	 * once the other costs 1 ms x (active + 1) > 51 ms. */
	set_active(1, 60);
	set_active(2, 60);
	pick_counts(&be, NULL, 300, count);
	CHECK(count[0] > 150);
	set_active(1, 10);
	set_active(2, 10);
	pick_counts(&be, NULL, 300, count);
	CHECK_EQ_INT(count[0], 0);
	lb_backend_free(&be);
}

TEST(ewma_equal_latency_follows_weights)
{
	int w[3] = { 1, 2, 3 };
	setup_algo(LB_EWMA, w, 3);
	lb_rand_seed(7);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int i = 0; i < 3; i++)
		lb_observe(&be.servers[i], 2000000, false);
	int count[3];
	pick_counts(&be, NULL, 10000, count);
	CHECK(follows_weights(count, w, 3, 0.02));
	pick_under_load(&be, 10000, 12, count);
	CHECK(follows_weights(count, w, 3, 0.04));
	lb_backend_free(&be);
}

TEST(ewma_probes_a_server_without_samples)
{
	int w[2] = { 1, 1 };
	setup_algo(LB_EWMA, w, 2);
	lb_rand_seed(8);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	lb_observe(&be.servers[0], 2000000, false);
	/* Idle and unknown: tried first.  Busy and still unknown: avoided
	 * until its first answer, not flooded. */
	CHECK_EQ_INT(idx(&be, lb_pick(&be, NULL, NULL)), 1);
	set_active(1, 1);
	set_active(0, 5);
	CHECK_EQ_INT(idx(&be, lb_pick(&be, NULL, NULL)), 0);
	lb_backend_free(&be);
}

/* ---- hash ---- */

static struct http_msg hmsg;
static char keybuf[64];

/* A request whose path is `/user/<k>`, for balance hash(path). */
static struct cond_ctx key_ctx(int k)
{
	memset(&hmsg, 0, sizeof(hmsg));
	int n = snprintf(keybuf, sizeof(keybuf), "/user/%d", k);
	hmsg.path = (struct slice){ keybuf, (uint32_t)n };
	return (struct cond_ctx){ .msg = &hmsg, .src = NULL };
}

static struct fetch *path_fetch(void)
{
	char err[128];
	struct cfg_tok t = { "path", 1, 1, false };
	return fetch_parse(&t, err, sizeof(err));
}

/* Maps keys 0..nkeys-1 on servers named names[0..n). */
static void hash_map(const int *w, int n, int nkeys, int *out)
{
	setup_algo(LB_HASH, w, n);
	be_cfg.hash_fetch = path_fetch();
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int k = 0; k < nkeys; k++) {
		struct cond_ctx c = key_ctx(k);
		out[k] = idx(&be, lb_pick(&be, &c, NULL));
	}
	lb_backend_free(&be);
	fetch_free(be_cfg.hash_fetch);
	be_cfg.hash_fetch = NULL;
}

#define NKEYS 10000
static int map_a[NKEYS], map_b[NKEYS];

TEST(hash_same_key_same_server_and_weights)
{
	int w[3] = { 1, 2, 3 };
	memset(names, 0, sizeof(names));
	hash_map(w, 3, NKEYS, map_a);
	hash_map(w, 3, NKEYS, map_b);
	int count[3] = { 0 };
	for (int k = 0; k < NKEYS; k++) {
		CHECK(map_a[k] == map_b[k]);
		count[map_a[k]]++;
	}
	CHECK(follows_weights(count, w, 3, 0.04));

	int w4[4] = { 1, 1, 1, 1 };
	memset(names, 0, sizeof(names));
	hash_map(w4, 4, NKEYS, map_a);
	int c4[4] = { 0 };
	for (int k = 0; k < NKEYS; k++)
		c4[map_a[k]]++;
	CHECK(follows_weights(c4, w4, 4, 0.04));
}

TEST(hash_remaps_little_when_a_server_joins_or_leaves)
{
	int w[5] = { 1, 1, 1, 1, 1 };
	const char *const nm[5] = { "alpha", "bravo", "charlie", "delta", "echo" };

	/* Join: 4 -> 5 servers. */
	memset(names, 0, sizeof(names));
	for (int i = 0; i < 5; i++)
		snprintf(names[i], sizeof(names[i]), "%s", nm[i]);
	hash_map(w, 4, NKEYS, map_a);
	hash_map(w, 5, NKEYS, map_b);
	int moved = 0, wrong = 0;
	for (int k = 0; k < NKEYS; k++) {
		if (map_a[k] != map_b[k]) {
			moved++;
			wrong += map_b[k] != 4;   /* a key only ever moves to the newcomer */
		}
	}
	CHECK(moved <= NKEYS / 5 + NKEYS / 20);
	CHECK(moved >= NKEYS / 5 - NKEYS / 20);
	CHECK_EQ_INT(wrong, 0);

	/* Leave: 5 -> 4 with "charlie" removed from the config (the others
	 * change position in the server list, not on the ring). */
	memset(names, 0, sizeof(names));
	const char *const left[4] = { "alpha", "bravo", "delta", "echo" };
	for (int i = 0; i < 4; i++)
		snprintf(names[i], sizeof(names[i]), "%s", left[i]);
	hash_map(w, 4, NKEYS, map_a);
	moved = 0;
	wrong = 0;
	for (int k = 0; k < NKEYS; k++) {
		const char *before = nm[map_b[k]], *after = left[map_a[k]];
		if (strcmp(before, after) != 0) {
			moved++;
			wrong += strcmp(before, "charlie") != 0;   /* only charlie's keys move */
		}
	}
	CHECK(moved <= NKEYS / 5 + NKEYS / 20);
	CHECK_EQ_INT(wrong, 0);
}

TEST(hash_down_server_moves_only_its_keys)
{
	int w[4] = { 1, 1, 1, 1 };
	memset(names, 0, sizeof(names));
	setup_algo(LB_HASH, w, 4);
	be_cfg.hash_fetch = path_fetch();
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	for (int k = 0; k < 2000; k++) {
		struct cond_ctx c = key_ctx(k);
		map_a[k] = idx(&be, lb_pick(&be, &c, NULL));
	}
	atomic_store(&shared[2]->health, SRV_DOWN);
	int moved = 0;
	for (int k = 0; k < 2000; k++) {
		struct cond_ctx c = key_ctx(k);
		int now = idx(&be, lb_pick(&be, &c, NULL));
		CHECK(now != 2);
		if (now != map_a[k]) {
			moved++;
			CHECK(map_a[k] == 2);
		}
	}
	CHECK(moved > 300 && moved < 700);
	/* A retry of a key goes to another server, the next on the ring. */
	atomic_store(&shared[2]->health, SRV_UP);
	for (int k = 0; k < 200; k++) {
		struct cond_ctx c = key_ctx(k);
		CHECK(idx(&be, lb_pick(&be, &c, &be.servers[map_a[k]])) != map_a[k]);
	}
	lb_backend_free(&be);
	fetch_free(be_cfg.hash_fetch);
	be_cfg.hash_fetch = NULL;
}

TEST(hash_bounded_load_walks_to_the_next_server)
{
	int w[4] = { 1, 1, 1, 1 };
	memset(names, 0, sizeof(names));
	setup_algo(LB_HASH, w, 4);
	be_cfg.hash_fetch = path_fetch();
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);

	for (int k = 0; k < 50; k++) {
		struct cond_ctx c = key_ctx(k);
		int home = idx(&be, lb_pick(&be, &c, NULL));
		/* Where the key goes when home is not there: the next server
		 * clockwise. */
		srvs[home].disabled = true;
		int next = idx(&be, lb_pick(&be, &c, NULL));
		srvs[home].disabled = false;
		CHECK(next != home);

		/* 2 in flight everywhere: bound ceil(1.25 * 9 / 4) = 3, home
		 * has room. */
		for (int i = 0; i < 4; i++)
			set_active(i, 2);
		CHECK_EQ_INT(idx(&be, lb_pick(&be, &c, NULL)), home);
		/* Home at the bound (3 of total 9: ceil(1.25 * 10 / 4) = 4;
		 * 4 of 10: ceil(1.25 * 11 / 4) = 4): the next one takes it. */
		set_active(home, 3);
		CHECK_EQ_INT(idx(&be, lb_pick(&be, &c, NULL)), home);
		set_active(home, 4);
		CHECK_EQ_INT(idx(&be, lb_pick(&be, &c, NULL)), next);
		/* Both at the bound (5 of 14: ceil(1.25 * 15 / 4) = 5): further
		 * along the ring, never an overloaded one. */
		set_active(home, 5);
		set_active(next, 5);
		int third = idx(&be, lb_pick(&be, &c, NULL));
		CHECK(third != home && third != next);
		for (int i = 0; i < 4; i++)
			set_active(i, 0);
	}

	/* A hot key with a steady flow keeps every server under the bound. */
	struct cond_ctx hot = key_ctx(42);
	int max_seen = 0;
	for (int i = 0; i < 1000; i++) {
		int k = idx(&be, lb_pick(&be, &hot, NULL));
		atomic_fetch_add(&shared[k]->active, 1);
		uint32_t total = 0, a = atomic_load(&shared[k]->active);
		for (int j = 0; j < 4; j++)
			total += atomic_load(&shared[j]->active);
		if ((int)a > max_seen)
			max_seen = (int)a;
		CHECK((uint64_t)a * 4 * 100 <= 125 * (uint64_t)total + 4 * 100);
	}
	CHECK(max_seen <= 313);   /* ceil(1.25 * 1000 / 4) */
	lb_backend_free(&be);
	fetch_free(be_cfg.hash_fetch);
	be_cfg.hash_fetch = NULL;
}

TEST(hash_without_the_value_rotates)
{
	int w[3] = { 1, 1, 1 };
	memset(names, 0, sizeof(names));
	setup_algo(LB_HASH, w, 3);
	be_cfg.hash_fetch = path_fetch();
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	memset(&hmsg, 0, sizeof(hmsg));   /* no path */
	struct cond_ctx c = { .msg = &hmsg, .src = NULL };
	int count[3];
	pick_counts(&be, &c, 300, count);
	CHECK_EQ_INT(count[0], 100);
	CHECK_EQ_INT(count[1], 100);
	CHECK_EQ_INT(count[2], 100);
	lb_backend_free(&be);
	fetch_free(be_cfg.hash_fetch);
	be_cfg.hash_fetch = NULL;
}

TEST(hash_key_hash_is_stable)
{
	/* Keys must map the same way on every run and every machine (a changed
	 * function would move every hash-balanced client at an upgrade): the
	 * values are pinned, computed independently from the definition
	 * (little-endian 8-byte words, mix64 finaliser). */
	CHECK(hash64("", 0, 0) == 0xa8a370d8b386d32bULL);
	CHECK(hash64("a", 1, 0) == 0xac861a8d952b0d2dULL);
	CHECK(hash64("abc", 3, 0) == 0x046163ed3f1fc855ULL);
	CHECK(hash64("abc", 3, 1) == 0xb9ed375d961950a9ULL);
	CHECK(hash64("abcdefgh", 8, 0) == 0xfcc687a2522d863dULL);
	CHECK(hash64("abcdefgh1", 9, 0) == 0xd081be92d05fdd4bULL);
	CHECK(hash64("user-1234567890", 15, 0) == 0xa5aa57089ed23331ULL);
	/* a ring point's seed for server "s1" (hash.c) */
	CHECK(hash64("s1", 2, 0x67617465686f7573ULL) == 0xea192b10ef1c7087ULL);
	CHECK(hash64("abc", 3, 0) != hash64("abd", 3, 0));
	CHECK(hash64("abcdefgh1", 9, 0) != hash64("abcdefgh2", 9, 0));
	CHECK(hash64("abc", 3, 0) != hash64("abc", 3, 1));
	/* Avalanche: one flipped input bit flips about half of the output. */
	int flips = 0;
	for (int i = 0; i < 1000; i++) {
		char a[16], b[16];
		snprintf(a, sizeof(a), "k%08d", i);
		memcpy(b, a, sizeof(a));
		b[i % 9] ^= (char)(1 << (i % 7));
		flips += __builtin_popcountll(hash64(a, 9, 0) ^ hash64(b, 9, 0));
	}
	CHECK(flips > 1000 * 29 && flips < 1000 * 35);
}

/* ---- the live weight (registry) ---- */

TEST(live_weight_drives_every_balancer)
{
	int w[2] = { 1, 1 }, want[2] = { 3, 1 };
	for (size_t a = 0; a < sizeof(all_algos) / sizeof(all_algos[0]); a++) {
		setup(w, 2);
		be_cfg.balance = all_algos[a];
		lb_rand_seed(3);
		struct backend_rt be;
		CHECK(lb_backend_init(&be, &be_cfg) == 0);
		/* lb_backend_init() cached the registry's entries. */
		CHECK(be.sh != NULL && be.sh == registry_backend("b"));
		CHECK(be.servers[0].sh == shared[0] && be.servers[1].sh == shared[1]);
		CHECK_EQ_INT(atomic_load(&shared[0]->weight), 1);

		/* Changed behind the config's back (later: the API). */
		atomic_store(&shared[0]->weight, 3);
		CHECK_EQ_INT(lb_server_weight(&be.servers[0], loop_clock_ms()), 3);
		int count[2];
		pick_counts(&be, NULL, 4000, count);
		CHECK(follows_weights(count, want, 2, 0.04));
		/* Live weight 0: out, whatever the config says. */
		atomic_store(&shared[1]->weight, 0);
		CHECK(!lb_server_up(&be.servers[1]));
		pick_counts(&be, NULL, 100, count);
		CHECK_EQ_INT(count[0], 100);
		if (unit_failed_checks)
			fprintf(stderr, "  (algorithm %d)\n", (int)all_algos[a]);
		lb_backend_free(&be);
	}
}

TEST(hash_ring_is_built_from_the_live_weight)
{
	int w[2] = { 1, 1 }, want[2] = { 3, 1 };
	memset(names, 0, sizeof(names));
	setup_algo(LB_HASH, w, 2);
	be_cfg.hash_fetch = path_fetch();
	atomic_store(&shared[0]->weight, 3);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	int count[2] = { 0 };
	for (int k = 0; k < NKEYS; k++) {
		struct cond_ctx c = key_ctx(k);
		count[idx(&be, lb_pick(&be, &c, NULL))]++;
	}
	CHECK(follows_weights(count, want, 2, 0.04));
	lb_backend_free(&be);
	fetch_free(be_cfg.hash_fetch);
	be_cfg.hash_fetch = NULL;
}

TEST(without_registry_entries_the_config_decides)
{
	int w[2] = { 3, 1 };
	setup(w, 2);
	registry_free();   /* names the registry does not know: sh NULL */
	struct backend_rt be;
	CHECK(lb_backend_init(&be, &be_cfg) == 0);
	CHECK(be.sh == NULL && be.servers[0].sh == NULL && be.servers[1].sh == NULL);
	CHECK_EQ_INT(lb_server_weight(&be.servers[0], loop_clock_ms()), 3);
	int count[2];
	pick_counts(&be, NULL, 400, count);
	CHECK_EQ_INT(count[0], 300);
	CHECK_EQ_INT(count[1], 100);
	srvs[1].drain = true;
	CHECK(!lb_server_up(&be.servers[1]));
	pick_counts(&be, NULL, 10, count);
	CHECK_EQ_INT(count[0], 10);
	lb_backend_free(&be);
}

/* ---- config ---- */

static struct cfg *load(const char *backend_lines, char **errs)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "frontend f {\n    bind 127.0.0.1:18080\n    default_backend b\n}\n"
		 "backend b {\n%s    server a 127.0.0.1:19001\n}\n",
		 backend_lines);
	*errs = NULL;
	return cfg_load_string("t.conf", text, strlen(text), errs);
}

TEST(config_balance_and_hash_balance_factor)
{
	char *errs;
	struct cfg *c = load("    balance hash(header(X-User))\n", &errs);
	CHECK(c && c->backends[0]->balance == LB_HASH && c->backends[0]->hash_balance_factor == 125);
	cfg_free(c);
	free(errs);

	c = load("    balance hash(cookie(sid))\n    hash_balance_factor 150%\n", &errs);
	CHECK(c && c->backends[0]->hash_balance_factor == 150);
	cfg_free(c);
	free(errs);

	c = load("    hash_balance_factor 200\n    balance leastconn\n", &errs);
	CHECK(c && c->backends[0]->hash_balance_factor == 200 &&
	      c->backends[0]->balance == LB_LEASTCONN);
	cfg_free(c);
	free(errs);

	c = load("    balance random(3)\n", &errs);
	CHECK(c && c->backends[0]->balance == LB_RANDOM && c->backends[0]->random_choices == 3);
	cfg_free(c);
	free(errs);

	c = load("    balance ewma\n", &errs);
	CHECK(c && c->backends[0]->balance == LB_EWMA);
	cfg_free(c);
	free(errs);

	c = load("    hash_balance_factor 100\n", &errs);
	CHECK(c == NULL && errs && strstr(errs, "t.conf:6:25: error: 100 is out of range"));
	cfg_free(c);
	free(errs);

	c = load("    hash_balance_factor lots\n", &errs);
	CHECK(c == NULL && errs && strstr(errs, "invalid number 'lots'"));
	cfg_free(c);
	free(errs);
}

int main(void)
{
	RUN(roundrobin_follows_weights_smoothly);
	RUN(roundrobin_skips_disabled_and_uses_backup);
	RUN(roundrobin_retry_avoids_previous_server);
	RUN(all_algorithms_respect_eligibility_backups_and_avoid);
	RUN(leastconn_completing_at_once_is_weighted_round_robin);
	RUN(leastconn_picks_least_loaded_relative_to_weight);
	RUN(leastconn_ties_rotate);
	RUN(leastconn_under_load_follows_weights);
	RUN(leastconn_slowstart_ramps_weight);
	RUN(random_follows_weights);
	RUN(random_prefers_the_less_loaded_of_its_draws);
	RUN(random_generator_is_uniform_and_per_thread);
	RUN(ewma_observe_keeps_peaks_and_decays);
	RUN(ewma_steers_away_from_slow_server);
	RUN(ewma_equal_latency_follows_weights);
	RUN(ewma_probes_a_server_without_samples);
	RUN(hash_same_key_same_server_and_weights);
	RUN(hash_remaps_little_when_a_server_joins_or_leaves);
	RUN(hash_down_server_moves_only_its_keys);
	RUN(hash_bounded_load_walks_to_the_next_server);
	RUN(hash_without_the_value_rotates);
	RUN(hash_key_hash_is_stable);
	RUN(live_weight_drives_every_balancer);
	RUN(hash_ring_is_built_from_the_live_weight);
	RUN(without_registry_entries_the_config_decides);
	RUN(config_balance_and_hash_balance_factor);
	registry_free();
	return UNIT_SUMMARY("test_lb");
}
