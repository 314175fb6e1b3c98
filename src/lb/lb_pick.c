/*
 * lb_pick.c - helpers the algorithm files share (see lb_internal.h): who
 * may be picked, weighted draws and rotation among ties, the per-thread
 * PRNG, the key hash and the EWMA decay.  Nothing here takes a lock.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/loop.h"
#include "lb/lb_internal.h"

/* ---- candidates ---- */

static void cand_add(struct lb_cand *c, struct server_rt *s, uint64_t *now)
{
	if (s->cfg->slowstart_ms && !*now)
		*now = loop_clock_ms();
	int w = lb_server_weight(s, *now);
	c->s = s;
	c->active = lb_active(s);
	c->weight = w > 0 ? (uint32_t)w : 1;
}

int lb_candidates(struct backend_rt *be, const struct server_rt *avoid, struct lb_cand *out)
{
	bool backups = lb_use_backups(be);
	struct server_rt *avoided = NULL;
	uint64_t now = 0;
	int n = 0;

	for (int i = 0; i < be->nservers; i++) {
		struct server_rt *s = &be->servers[i];
		if (s->cfg->backup != backups || !lb_server_usable(s))
			continue;
		if (s == avoid) {
			avoided = s;
			continue;
		}
		cand_add(&out[n++], s, &now);
	}
	/* A retry goes back to the server it is leaving only if it is the
	 * last one standing. */
	if (n == 0 && avoided)
		cand_add(&out[n++], avoided, &now);
	return n;
}

struct server_rt *lb_swrr(struct lb_cand *cand, int n)
{
	struct server_rt *best = NULL;
	int64_t total = 0;

	for (int i = 0; i < n; i++) {
		struct server_rt *s = cand[i].s;
		s->cur_weight += cand[i].weight;
		total += cand[i].weight;
		if (!best || s->cur_weight > best->cur_weight)
			best = s;
	}
	if (best)
		best->cur_weight -= total;
	return best;
}

int lb_weighted_draw(const struct lb_cand *cand, int n, uint64_t total_weight)
{
	uint64_t r = lb_rand_below(total_weight);
	for (int i = 0; i < n; i++) {
		if (r < cand[i].weight)
			return i;
		r -= cand[i].weight;
	}
	return n - 1;   /* total_weight was larger than the sum: not reached */
}

/* ---- per-thread PRNG ---- */

static __thread uint64_t rng_state;
static _Atomic uint64_t rng_seq;

void lb_rand_seed(uint64_t seed)
{
	rng_state = mix64(seed + 0x9e3779b97f4a7c15ULL);
	if (!rng_state)
		rng_state = 0x9e3779b97f4a7c15ULL;   /* xorshift's one fixed point */
}

uint64_t lb_rand64(void)
{
	if (!rng_state) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t seq = atomic_fetch_add_explicit(&rng_seq, 1, memory_order_relaxed);
		lb_rand_seed(((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
			     (uint64_t)(uintptr_t)&rng_state ^ (seq * 0xd1b54a32d192ed03ULL));
	}
	/* xorshift64* (Vigna): passes BigCrush's tests bar the lowest bits'
	 * linearity, which lb_rand_below() does not use. */
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t lb_rand_below(uint64_t n)
{
	return (uint64_t)(((unsigned __int128)lb_rand64() * n) >> 64);
}

/* ---- EWMA ---- */

double lb_ewma_decay(double v, uint64_t dt_ms)
{
	double x = (double)dt_ms / (double)LB_EWMA_TAU_MS;
	if (x <= 0)
		return v;
	if (x > 40)
		return 0;   /* e^-40 ~ 4e-18: nothing left of any nanosecond count */
	/* e^-x = (e^-(x/256))^256: a short Taylor series where it is exact to
	 * ~1e-8, then eight squarings.  gatehouse does not link libm for one
	 * exp() per response. */
	double y = x / 256.0;
	double e = 1 - y * (1 - y / 2 * (1 - y / 3 * (1 - y / 4 * (1 - y / 5))));
	for (int i = 0; i < 8; i++)
		e *= e;
	return v * e;
}

double lb_ewma_now(const struct server_shared *sh, uint64_t now_ms)
{
	uint64_t v = atomic_load_explicit(&sh->ewma_ns, memory_order_relaxed);
	if (!v)
		return 0;
	uint64_t stamp = atomic_load_explicit(&sh->ewma_stamp_ms, memory_order_relaxed);
	return lb_ewma_decay((double)v, now_ms > stamp ? now_ms - stamp : 0);
}

int lb_cand_init(struct backend_rt *be)
{
	be->lb_data = calloc((size_t)(be->nservers ? be->nservers : 1), sizeof(struct lb_cand));
	return be->lb_data ? 0 : -1;
}
