/*
 * lb_internal.h - what the algorithm files (leastconn.c, random.c, ewma.c,
 * hash.c) share and nothing outside src/lb/ needs: the candidate list of a
 * pick, the in-flight count to compare, a per-thread PRNG, a 64-bit hash
 * and the EWMA decay.  Implemented in lb_pick.c.
 */
#ifndef GH_LB_LB_INTERNAL_H
#define GH_LB_LB_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "core/hash.h"
#include "lb/lb.h"

/* One server a pick may choose, with the numbers it is judged by, read
 * once per pick so every comparison of that pick sees the same values. */
struct lb_cand {
	struct server_rt *s;
	uint32_t active;   /* lb_active() */
	uint32_t weight;   /* lb_server_weight(): >= 1 */
};

/*
 * Fills out[] (room for be->nservers) with the servers a pick may choose:
 * usable (lb_server_usable), of the class lb_use_backups() says (normal
 * servers, or the backups when no normal server is up), and not `avoid`
 * unless it is the only one left.  Returns how many.
 */
int lb_candidates(struct backend_rt *be, const struct server_rt *avoid, struct lb_cand *out);

/* lb_ops.init of the algorithms whose only state is a candidate array. */
int lb_cand_init(struct backend_rt *be);

/* Requests in flight on s from every worker thread (relaxed load: a
 * balancer needs a recent value, not a synchronised one).  Unit tests
 * without shared state count this thread's only. */
static inline uint32_t lb_active(const struct server_rt *s)
{
	const struct server_shared *sh = s->sh;
	return sh ? atomic_load_explicit(&sh->active, memory_order_relaxed) : s->active;
}

/* s's weight before slowstart: the live one (sh->weight, which an API may
 * change at any time), or the configured one without shared state. */
static inline int lb_live_weight(const struct server_rt *s)
{
	return s->sh ? atomic_load_explicit(&s->sh->weight, memory_order_relaxed) : s->cfg->weight;
}

/* a.active/a.weight < b.active/b.weight, without division. */
static inline bool lb_less_loaded(const struct lb_cand *a, const struct lb_cand *b)
{
	return (uint64_t)a->active * b->weight < (uint64_t)b->active * a->weight;
}

/* Smooth weighted round robin among cand[0..n) (all tied for the caller's
 * purposes): the nginx method restricted to that set, so ties rotate in
 * proportion to weight instead of always going to the first. */
struct server_rt *lb_swrr(struct lb_cand *cand, int n);

/* Index into cand[0..n) drawn with probability weight / total_weight. */
int lb_weighted_draw(const struct lb_cand *cand, int n, uint64_t total_weight);

/* The sum of cand[0..n)'s weights: lb_weighted_draw's total, which the
 * random draws of ewma.c and random.c both need. */
static inline uint64_t lb_total_weight(const struct lb_cand *cand, int n)
{
	uint64_t total = 0;
	for (int i = 0; i < n; i++)
		total += cand[i].weight;
	return total;
}

/* Per-thread xorshift64* generator, seeded on first use from the clock,
 * the thread and a process-wide counter (splitmix64), so two workers never
 * draw the same sequence.  No lock, no shared state. */
uint64_t lb_rand64(void);
/* Uniform in [0, n), n >= 1 (Lemire's multiply-shift, bias < n / 2^64). */
uint64_t lb_rand_below(uint64_t n);
/* Reseeds this thread's generator (unit tests). */
void lb_rand_seed(uint64_t seed);

/* Peak-EWMA of response times (ewma.c reads it, lb_observe() writes it). */
#define LB_EWMA_TAU_MS 10000ULL        /* decay time constant (Finagle's default) */
#define LB_EWMA_FAIL_NS 250000000ULL   /* a failure counts as at least 250 ms */
#define LB_EWMA_MAX_NS 10000000000ULL  /* samples are capped at 10 s */

/* v * exp(-dt_ms / LB_EWMA_TAU_MS), without libm. */
double lb_ewma_decay(double v, uint64_t dt_ms);

/* The server's EWMA as of now_ms, decayed since its last sample (a server
 * that stopped getting traffic after a slow spell drifts back into use). */
double lb_ewma_now(const struct server_shared *sh, uint64_t now_ms);

#endif
