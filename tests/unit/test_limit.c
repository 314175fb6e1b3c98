/*
 * test_limit.c - the rate-limit tables (src/limit/limit.c) with an injected
 * clock: burst, refill, Retry-After's arithmetic, per-key isolation, the
 * bound on keys with LRU eviction, exactness with many threads on one key;
 * concurrency places (exact across threads, never evicted while in use,
 * a full shard refuses new keys), the delay schedule, the counters and log
 * sampling; and the `limit` section's load-time errors
 * (src/config/cfg_limit.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config/cfg.h"
#include "core/log.h"
#include "limit/limit.h"
#include "unit.h"

#define MS 1000000ull
#define SEC 1000000000ull

static bool take(struct limit_table *t, const char *k, uint64_t now, uint64_t *wait)
{
	return limit_take(t, k, strlen(k), now, wait);
}

TEST(burst_then_refused_with_the_exact_wait)
{
	struct limit_table *t = limit_table_new(10, SEC, 5, 1000);   /* 10/s burst 5 */
	uint64_t now = 1000 * SEC, wait = 0;

	for (int i = 0; i < 5; i++)
		CHECK(take(t, "a", now, &wait));
	CHECK(!take(t, "a", now, &wait));
	CHECK_EQ_INT(wait, 100 * MS);       /* one interval */
	CHECK_EQ_INT(limit_retry_after_s(wait), 1);
	CHECK(!take(t, "a", now + 50 * MS, &wait));
	CHECK_EQ_INT(wait, 50 * MS);        /* refusals do not push the schedule */
	CHECK_EQ_INT(limit_table_refused(t), 2);
	limit_table_free(t);
}

TEST(refill_over_time)
{
	struct limit_table *t = limit_table_new(10, SEC, 5, 1000);
	uint64_t now = 5 * SEC, wait;

	for (int i = 0; i < 5; i++)
		CHECK(take(t, "a", now, &wait));
	CHECK(!take(t, "a", now + 100 * MS - 1, &wait));
	CHECK_EQ_INT(wait, 1);
	CHECK(take(t, "a", now + 100 * MS, &wait));        /* one token back */
	CHECK(!take(t, "a", now + 100 * MS, &wait));
	/* at 350 ms: 2.5 intervals since the schedule's last slot, so two pass */
	CHECK(take(t, "a", now + 350 * MS, &wait));
	CHECK(take(t, "a", now + 350 * MS, &wait));
	CHECK(!take(t, "a", now + 350 * MS, &wait));
	/* idle long enough: the full burst again, never more */
	int n = 0;
	while (take(t, "a", now + 60 * SEC, &wait))
		n++;
	CHECK_EQ_INT(n, 5);
	limit_table_free(t);
}

TEST(per_minute_rate_and_retry_after_rounds_up)
{
	struct limit_table *t = limit_table_new(6, 60 * SEC, 1, 100);   /* 6/m: one per 10 s */
	uint64_t wait;

	CHECK(take(t, "k", SEC, &wait));
	CHECK(!take(t, "k", SEC + 1500 * MS, &wait));
	CHECK_EQ_INT(wait, 8500 * MS);
	CHECK_EQ_INT(limit_retry_after_s(wait), 9);     /* rounded up: truthful */
	CHECK(!take(t, "k", SEC + 10 * SEC - 1, &wait));
	CHECK(take(t, "k", SEC + 10 * SEC, &wait));
	CHECK_EQ_INT(limit_retry_after_s(1), 1);
	CHECK_EQ_INT(limit_retry_after_s(SEC), 1);
	CHECK_EQ_INT(limit_retry_after_s(SEC + 1), 2);
	limit_table_free(t);
}

TEST(keys_are_isolated)
{
	struct limit_table *t = limit_table_new(1, SEC, 2, 1000);
	uint64_t wait;

	CHECK(take(t, "alice", SEC, &wait));
	CHECK(take(t, "alice", SEC, &wait));
	CHECK(!take(t, "alice", SEC, &wait));
	CHECK(take(t, "bob", SEC, &wait));
	CHECK(take(t, "bob", SEC, &wait));
	CHECK(!take(t, "bob", SEC, &wait));
	CHECK(take(t, "", SEC, &wait));          /* the empty key is a key */
	/* long keys: same first 64 bytes, different tails */
	char a[200], b[200];
	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = 0;
	memcpy(b, a, sizeof(b));
	b[150] = 'y';
	CHECK(take(t, a, SEC, &wait));
	CHECK(take(t, a, SEC, &wait));
	CHECK(!take(t, a, SEC, &wait));
	CHECK(take(t, b, SEC, &wait));
	CHECK_EQ_INT(limit_table_keys(t), 5);
	limit_table_free(t);
}

TEST(a_flood_of_keys_stays_within_entries_and_evicts_the_oldest)
{
	struct limit_table *t = limit_table_new(1, SEC, 1, 1000);
	uint64_t wait, now = SEC;
	char k[32];

	CHECK(limit_table_capacity(t) <= 1000);
	CHECK(limit_table_capacity(t) >= 900);
	CHECK(take(t, "old", now, &wait));
	CHECK(take(t, "hot", now, &wait));
	for (int i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "flood-%d", i);
		take(t, k, now, &wait);
		if (i % 8 == 0)
			CHECK(!take(t, "hot", now, &wait));   /* kept: used recently */
		if (i % 1000 == 0)
			CHECK(limit_table_keys(t) <= limit_table_capacity(t));
	}
	CHECK_EQ_INT(limit_table_keys(t), limit_table_capacity(t));
	CHECK(!take(t, "hot", now, &wait));
	CHECK(take(t, "old", now, &wait));   /* forgotten: starts afresh */
	limit_table_free(t);

	/* tiny tables: one shard, exact bound */
	t = limit_table_new(1, SEC, 1, 3);
	CHECK_EQ_INT(limit_table_capacity(t), 3);
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		CHECK(take(t, k, now, &wait));
	}
	CHECK_EQ_INT(limit_table_keys(t), 3);
	CHECK(!take(t, "k49", now, &wait));
	CHECK(take(t, "k46", now, &wait));   /* the 4th most recent is gone */
	limit_table_free(t);
}

struct hammer {
	struct limit_table *t;
	uint64_t fixed_now;        /* 0: the real clock until deadline */
	uint64_t deadline;
	int tries;
	_Atomic long passed;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	uint64_t wait;
	long ok = 0;

	if (h->fixed_now) {
		for (int i = 0; i < h->tries; i++)
			ok += limit_take(h->t, "one", 3, h->fixed_now, &wait);
	} else {
		for (;;) {
			uint64_t now = limit_now_ns();
			if (now >= h->deadline)
				break;
			ok += limit_take(h->t, "one", 3, now, &wait);
		}
	}
	atomic_fetch_add(&h->passed, ok);
	return NULL;
}

static long hammer(struct hammer *h, int nthreads)
{
	pthread_t th[16];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, hammer_run, h);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&h->passed);
}

TEST(many_threads_on_one_key_are_exact)
{
	/* frozen clock: exactly the burst passes, whatever the interleaving */
	struct hammer h = { .t = limit_table_new(1000, SEC, 777, 1000), .fixed_now = 42 * SEC,
			    .tries = 20000 };
	atomic_init(&h.passed, 0);
	CHECK_EQ_INT(hammer(&h, 8), 777);
	CHECK_EQ_INT(limit_table_refused(h.t), 8 * 20000 - 777);
	limit_table_free(h.t);

	/* real clock, 300 ms: burst + rate x elapsed, the rate's part within
	 * 5%.  On a loaded machine the threads may all be descheduled for a
	 * while; tokens that come meanwhile wait in the burst (a whole second
	 * worth, longer than any stall seen) rather than being lost, and a last
	 * drain once they are joined takes what is left, so the count does not
	 * depend on how much CPU the threads got. */
	struct hammer r = { .t = limit_table_new(20000, SEC, 20000, 1000) };
	atomic_init(&r.passed, 0);
	uint64_t start = limit_now_ns();
	r.deadline = start + 300 * MS;
	long got = hammer(&r, 8);
	uint64_t wait, end = limit_now_ns();
	while (limit_take(r.t, "one", 3, end, &wait))
		got++;
	double by_rate = 20000.0 * (double)(end - start) / (double)SEC;
	double expect = 20000 + by_rate;
	CHECK(got <= (long)(expect + by_rate * 0.05) + 1);
	CHECK(got >= (long)(expect - by_rate * 0.05));
	if (got > (long)(expect + by_rate * 0.05) + 1 || got < (long)(expect - by_rate * 0.05))
		fprintf(stderr, "  passed %ld, expected about %.0f\n", got, expect);
	limit_table_free(r.t);
}


static struct limit_table *conc_table(uint64_t n, uint64_t entries)
{
	struct limit_params p = { .concurrent = n, .entries = entries };
	return limit_table_create(&p);
}

static enum limit_verdict acq(struct limit_table *t, const char *k, uint64_t now,
			      struct limit_slot *slot)
{
	uint64_t wait = 0;
	return limit_acquire(t, k, strlen(k), now, &wait, slot);
}

TEST(concurrent_places_are_taken_and_given_back)
{
	struct limit_table *t = conc_table(2, 1000);
	struct limit_slot a, b, c, d;

	CHECK(t != NULL);
	CHECK(!limit_table_has_rate(t) && limit_table_has_concurrent(t));
	CHECK_EQ_INT(acq(t, "k", SEC, &a), LIMIT_PASS);
	CHECK(a.t == t);
	CHECK_EQ_INT(acq(t, "k", SEC, &b), LIMIT_PASS);
	CHECK_EQ_INT(acq(t, "k", SEC, &c), LIMIT_OVER_CONCURRENT);
	CHECK(c.t == NULL);                       /* nothing to give back */
	CHECK_EQ_INT(acq(t, "other", SEC, &d), LIMIT_PASS);   /* keys are isolated */
	struct limit_stats st;
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.in_use, 3);
	CHECK_EQ_INT(st.passed, 3);
	CHECK_EQ_INT(st.refused_concurrent, 1);
	limit_release(&a);
	CHECK(a.t == NULL);
	limit_release(&a);                        /* a second release is harmless */
	CHECK_EQ_INT(acq(t, "k", SEC, &a), LIMIT_PASS);
	CHECK_EQ_INT(acq(t, "k", SEC, &c), LIMIT_OVER_CONCURRENT);
	limit_release(&a);
	limit_release(&b);
	limit_release(&d);
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.in_use, 0);
	CHECK_EQ_INT(st.refused, 2);
	limit_table_free(t);
}

TEST(rate_and_concurrency_together)
{
	/* 1/m burst 2, 1 in flight: a refusal by one is not counted by the other */
	struct limit_params p = { .rate = 1, .per_ns = 60 * SEC, .burst = 2, .concurrent = 1,
				  .entries = 100 };
	struct limit_table *t = limit_table_create(&p);
	struct limit_slot a, b;
	uint64_t wait;

	CHECK_EQ_INT(limit_acquire(t, "k", 1, SEC, &wait, &a), LIMIT_PASS);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, SEC, &wait, &b), LIMIT_OVER_CONCURRENT);
	limit_release(&a);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, SEC, &wait, &a), LIMIT_PASS);  /* the burst's 2nd */
	limit_release(&a);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, SEC, &wait, &a), LIMIT_OVER_RATE);
	CHECK(a.t == NULL);
	CHECK_EQ_INT(wait, 60 * SEC);
	struct limit_stats st;
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.in_use, 0);
	CHECK_EQ_INT(st.refused_rate, 1);
	CHECK_EQ_INT(st.refused_concurrent, 1);
	limit_table_free(t);
}

TEST(entries_in_use_are_never_evicted)
{
	/* one shard of 3 entries: two held, a flood of other keys cycles
	 * through the third; the held ones keep their counts */
	struct limit_table *t = conc_table(1, 3);
	struct limit_slot a, b, x;
	char k[32];

	CHECK_EQ_INT(limit_table_capacity(t), 3);
	CHECK_EQ_INT(acq(t, "a", SEC, &a), LIMIT_PASS);
	CHECK_EQ_INT(acq(t, "b", SEC, &b), LIMIT_PASS);
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "f%d", i);
		CHECK_EQ_INT(acq(t, k, SEC, &x), LIMIT_PASS);
		limit_release(&x);
		CHECK_EQ_INT(acq(t, "a", SEC, &x), LIMIT_OVER_CONCURRENT);   /* still counted */
	}
	CHECK_EQ_INT(limit_table_keys(t), 3);
	/* the third entry held too: the shard is full of entries in use, a
	 * new key is refused (fail closed) and counted, known keys still work */
	CHECK_EQ_INT(acq(t, "c", SEC, &x), LIMIT_PASS);
	struct limit_slot y;
	CHECK_EQ_INT(acq(t, "new", SEC, &y), LIMIT_FULL);
	CHECK(y.t == NULL);
	CHECK_EQ_INT(acq(t, "b", SEC, &y), LIMIT_OVER_CONCURRENT);
	struct limit_stats st;
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.refused_full, 1);
	CHECK_EQ_INT(st.in_use, 3);
	/* one given back: it is the one evicted for the new key */
	limit_release(&a);
	CHECK_EQ_INT(acq(t, "new", SEC, &y), LIMIT_PASS);
	CHECK_EQ_INT(acq(t, "b", SEC, &a), LIMIT_OVER_CONCURRENT);
	CHECK_EQ_INT(acq(t, "c", SEC, &a), LIMIT_OVER_CONCURRENT);
	limit_release(&b);
	limit_release(&x);
	limit_release(&y);
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.in_use, 0);
	limit_table_free(t);
}

struct conc_hammer {
	struct limit_table *t;
	int rounds;
	_Atomic int inside, max_inside, over;
};

/* Each thread takes places on one shared key and gives them back; the
 * number inside at once never exceeds the bound, and all come back. */
static void *conc_run(void *arg)
{
	struct conc_hammer *h = arg;
	struct limit_slot sl;
	uint64_t wait;

	for (int i = 0; i < h->rounds; i++) {
		if (limit_acquire(h->t, "one", 3, SEC, &wait, &sl) != LIMIT_PASS)
			continue;
		int n = atomic_fetch_add(&h->inside, 1) + 1;
		if (n > 5)
			atomic_fetch_add(&h->over, 1);
		int m = atomic_load(&h->max_inside);
		while (n > m && !atomic_compare_exchange_weak(&h->max_inside, &m, n))
			;
		atomic_fetch_sub(&h->inside, 1);
		limit_release(&sl);
	}
	return NULL;
}

TEST(concurrent_counts_are_exact_across_threads)
{
	struct conc_hammer h = { .t = conc_table(5, 1000), .rounds = 50000 };
	pthread_t th[8];

	atomic_init(&h.inside, 0);
	atomic_init(&h.max_inside, 0);
	atomic_init(&h.over, 0);
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, conc_run, &h);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(atomic_load(&h.over), 0);
	struct limit_stats st;
	limit_table_stats(h.t, &st);
	CHECK_EQ_INT(st.in_use, 0);
	CHECK_EQ_INT(st.passed + st.refused_concurrent, 8 * 50000);
	/* with frozen places: exactly the bound passes, whatever the threads */
	struct limit_slot held[5], sl;
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(acq(h.t, "one", SEC, &held[i]), LIMIT_PASS);
	CHECK_EQ_INT(acq(h.t, "one", SEC, &sl), LIMIT_OVER_CONCURRENT);
	for (int i = 0; i < 5; i++)
		limit_release(&held[i]);
	limit_table_free(h.t);
}

TEST(delay_holds_the_excess_on_the_schedule)
{
	/* 10/s (100 ms), burst 5, delay 2: two at once, then 100, 200, 300 ms */
	struct limit_params p = { .rate = 10, .per_ns = SEC, .burst = 5, .delay = 2,
				  .entries = 100 };
	struct limit_table *t = limit_table_create(&p);
	uint64_t now = 10 * SEC, wait = 0;

	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_PASS);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_PASS);
	for (int i = 1; i <= 3; i++) {
		CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_DELAY);
		CHECK_EQ_INT(wait, (uint64_t)i * 100 * MS);
	}
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_OVER_RATE);
	CHECK_EQ_INT(wait, 100 * MS);
	/* later arrivals wait only what is left of their turn */
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now + 150 * MS, &wait, NULL), LIMIT_DELAY);
	CHECK_EQ_INT(wait, 250 * MS);   /* slot at 600 ms, passes at 400 after the two ahead */
	struct limit_stats st;
	limit_table_stats(t, &st);
	CHECK_EQ_INT(st.passed, 6);
	CHECK_EQ_INT(st.delayed, 4);
	CHECK_EQ_INT(st.refused_rate, 1);
	limit_table_free(t);

	/* delay 1: everything above the rate is spaced by it (nginx without
	 * nodelay); no delay: the whole burst at once */
	p.delay = 1;
	t = limit_table_create(&p);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_PASS);
	for (int i = 1; i < 5; i++) {
		CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_DELAY);
		CHECK_EQ_INT(wait, (uint64_t)i * 100 * MS);
	}
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_OVER_RATE);
	limit_table_free(t);
	p.delay = 0;
	t = limit_table_create(&p);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_PASS);
	CHECK_EQ_INT(limit_acquire(t, "k", 1, now, &wait, NULL), LIMIT_OVER_RATE);
	limit_table_free(t);
}

TEST(refusal_lines_are_sampled)
{
	struct limit_table *t = limit_table_new(1, 60 * SEC, 1, 100);
	uint64_t wait, more = 99, now = 100 * SEC;

	CHECK(take(t, "k", now, &wait));
	CHECK(!take(t, "k", now, &wait));
	CHECK(limit_log_sample(t, now, &more));          /* the first refusal: a line */
	CHECK_EQ_INT(more, 0);
	for (int i = 0; i < 10; i++) {
		CHECK(!take(t, "k", now + MS, &wait));
		CHECK(!limit_log_sample(t, now + MS, &more));   /* within the second */
	}
	CHECK(!take(t, "k", now + SEC, &wait));
	CHECK(limit_log_sample(t, now + SEC, &more));    /* a second later: a line */
	CHECK_EQ_INT(more, 10);                          /* ... counting those left out */
	CHECK(!limit_log_sample(t, now + SEC + 1, &more));
	limit_table_free(t);
}

static char *load_errs(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	cfg_free(c);
	return errs;
}

#define BASE "frontend web {\n    bind 127.0.0.1:18080\n    default_backend app\n%s}\n" \
	     "backend app {\n    server s1 127.0.0.1:18081\n%s}\n"

TEST(config_loads_and_builds_tables)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "limit per_ip {\n    key src\n    rate 100/s\n}\n"
		 "limit per_key {\n    key header(X-API-Key)\n    rate 1000/m\n    entries 5k\n}\n"
		 BASE,
		 "    http_request limit per_ip\n",
		 "    http_request limit per_key if header(X-API-Key) != \"\"\n");
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", errs ? errs : "?");
		free(errs);
		return;
	}
	CHECK_EQ_INT(c->nlimits, 2);
	CHECK_EQ_INT(c->limits[0]->burst, 100);          /* default: rate per second */
	CHECK_EQ_INT(c->limits[0]->entries, 100000);
	CHECK_EQ_INT(c->limits[1]->burst, 16);           /* 1000/m: 16 per second */
	CHECK_EQ_INT(c->limits[1]->entries, 5000);
	CHECK(c->limits[0]->table && c->limits[1]->table);
	CHECK(c->frontends[0]->http_req.v[0].limit == c->limits[0]);
	CHECK(c->backends[0]->http_req.v[0].limit == c->limits[1]);
	cfg_free(c);
}

TEST(config_concurrent_delay_tarpit_and_tcp_rules)
{
	const char *text =
		"limit conns {\n    key src\n    concurrent 10\n}\n"
		"limit both {\n    key header(X-Key)\n    rate 10/s\n    burst 5\n    delay 2\n"
		"    concurrent 3\n}\n"
		"frontend web {\n    bind 127.0.0.1:18080\n    default_backend app\n"
		"    tcp_request connection limit conns if src in 10.0.0.0/8\n"
		"    http_request tarpit 2s status 403 if path == /wp-login.php\n"
		"    http_request limit both\n}\n"
		"backend app {\n    server s1 127.0.0.1:18081\n}\n";
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", errs ? errs : "?");
		free(errs);
		return;
	}
	CHECK(c->limits[0]->table && limit_table_has_concurrent(c->limits[0]->table));
	CHECK(!limit_table_has_rate(c->limits[0]->table));
	CHECK_EQ_INT(c->limits[1]->delay, 2);
	CHECK(limit_table_has_rate(c->limits[1]->table));
	const struct cfg_frontend *fe = c->frontends[0];
	CHECK_EQ_INT(fe->tcp_conn.n, 1);
	CHECK(fe->tcp_conn.v[0].act == RA_LIMIT && fe->tcp_conn.v[0].limit == c->limits[0]);
	CHECK(fe->tcp_conn.v[0].cond != NULL);
	CHECK(fe->http_req.v[0].act == RA_TARPIT);
	CHECK_EQ_INT(fe->http_req.v[0].tarpit_ms, 2000);
	CHECK_EQ_INT(fe->http_req.v[0].status, 403);
	CHECK_EQ_INT(rule_hits(&fe->http_req.v[0]), 0);
	cfg_free(c);

	/* delay needs a rate and fits the burst; tcp keys are connection fetches */
	char e1[1024];
	snprintf(e1, sizeof(e1),
		 "limit a {\n    key src\n    concurrent 1\n    delay 1\n}\n"
		 "limit b {\n    key path\n    rate 1/s\n    burst 2\n    delay 3\n}\n" BASE,
		 "    tcp_request connection limit b\n    tcp_request connection limit a x\n", "");
	char *e = load_errs(e1);
	CHECK(e && strstr(e, "t.conf:4:11: error: delay in limit 'a' without a rate"));
	CHECK(e && strstr(e, "t.conf:10:11: error: delay 3 is more than the burst (2)"));
	CHECK(e && strstr(e, "t.conf:15:34: error: limit 'b' is keyed by 'path'"));
	CHECK(e && strstr(e, "t.conf:16:36: error: unexpected 'x'"));
	if (!e || !strstr(e, "t.conf:16:36"))
		fprintf(stderr, "%s\n", e ? e : "?");
	free(e);
}

TEST(config_errors_name_the_place)
{
	char text[1024];
	snprintf(text, sizeof(text), "limit l {\n    key src\n    rate 10/h\n}\n" BASE,
		 "    http_request limit nope\n", "");
	char *e = load_errs(text);
	CHECK(e && strstr(e, "t.conf:3:10: error: invalid rate '10/h'"));
	CHECK(e && strstr(e, "t.conf:8:24: error: unknown limit 'nope'; expected one of: l"));
	free(e);

	snprintf(text, sizeof(text),
		 "limit l {\n    key status\n    rate 1/s\n    burst 0\n    entries 5x\n}\n"
		 "limit l {\n    key src\n    rate 1/s\n}\n" BASE, "", "");
	e = load_errs(text);
	CHECK(e && strstr(e, "t.conf:2:9: error: fetch 'status' reads the response"));
	CHECK(e && strstr(e, "t.conf:4:11: error:"));
	CHECK(e && strstr(e, "t.conf:5:13: error: invalid entries '5x'"));
	CHECK(e && strstr(e, "t.conf:7:7: error: duplicate limit name 'l'"));
	free(e);

	snprintf(text, sizeof(text), "limit l {\n    rate 1/s\n}\n" BASE, "", "");
	e = load_errs(text);
	CHECK(e && strstr(e, "t.conf:1:7: error: limit 'l' has no key"));
	free(e);
	if (0)
		fprintf(stderr, "%s\n", e);
}

int main(void)
{
	log_level = LOG_ERR;
	RUN(burst_then_refused_with_the_exact_wait);
	RUN(refill_over_time);
	RUN(per_minute_rate_and_retry_after_rounds_up);
	RUN(keys_are_isolated);
	RUN(a_flood_of_keys_stays_within_entries_and_evicts_the_oldest);
	RUN(many_threads_on_one_key_are_exact);
	RUN(concurrent_places_are_taken_and_given_back);
	RUN(rate_and_concurrency_together);
	RUN(entries_in_use_are_never_evicted);
	RUN(concurrent_counts_are_exact_across_threads);
	RUN(delay_holds_the_excess_on_the_schedule);
	RUN(refusal_lines_are_sampled);
	RUN(config_loads_and_builds_tables);
	RUN(config_concurrent_delay_tarpit_and_tcp_rules);
	RUN(config_errors_name_the_place);
	return UNIT_SUMMARY("test_limit");
}
