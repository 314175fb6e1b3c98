/*
 * hash.c - `balance hash(<fetch>)`: consistent hashing on any fetch of the
 * condition language (src, path, header(X-User), cookie(sid), ...) with
 * bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing with
 * Bounded Loads", 2017).
 *
 * The ring: every server gets HASH_POINTS points per unit of weight,
 * placed by a 64-bit hash of its name (never of its position or address),
 * so adding or removing a server moves only the keys that land on its
 * points, about 1/N of them.  A key goes to the first server clockwise
 * from the key's hash that is usable and under its bound:
 *     active < ceil(factor * (total_active + 1) * weight / total_weight)
 * (`hash_balance_factor`, 125% by default; with equal weights that is
 * factor times the mean load counting this request).  A hot key thus
 * spills to the next servers on the ring instead of overloading one.
 * A request without the value (no such header, cookie...) is balanced by
 * round robin.
 *
 * The ring is built per worker thread at startup from the live weights
 * (sh->weight, lb_live_weight()) and only read afterwards; slowstart lowers
 * a server's bound, not its points, so keys do not move while it ramps up.
 * A later change of a live weight moves the bound (and a weight of 0 takes
 * the server out) at once; its points stay as built until the ring is
 * rebuilt with the backend's runtime.
 */
#include <stdlib.h>
#include <string.h>
#include "filter/cond.h"
#include "lb/lb_internal.h"

#define HASH_POINTS 128             /* points per unit of weight */
#define HASH_MAX_RING (1u << 18)    /* fewer points per unit past this */

struct ring_pt {
	uint64_t h;
	uint32_t srv;   /* index in be->servers */
};

struct hash_state {
	uint32_t npts;
	uint32_t gen;          /* marks servers already looked at in a walk */
	struct lb_cand *cand;  /* [nservers] */
	int32_t *slot;         /* [nservers]: index in cand[], -1 if not a candidate */
	uint32_t *seen;        /* [nservers] */
	struct ring_pt pts[];  /* [npts], sorted by h */
};

static int pt_cmp(const void *a, const void *b)
{
	const struct ring_pt *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->srv < y->srv ? -1 : x->srv > y->srv;
}

static int hash_init(struct backend_rt *be)
{
	int n = be->nservers;
	uint64_t units = 0;

	for (int i = 0; i < n; i++) {
		int w = lb_live_weight(&be->servers[i]);
		units += (uint64_t)(w > 0 ? w : 0);
	}
	/* A huge ring per thread buys nothing; halving the points of every
	 * server keeps a prefix of each one's points, so shares still hold. */
	uint64_t per = HASH_POINTS;
	while (per > 8 && units * per > HASH_MAX_RING)
		per /= 2;
	size_t npts = (size_t)(units * per);
	size_t nn = (size_t)(n ? n : 1);
	size_t size = sizeof(struct hash_state) + npts * sizeof(struct ring_pt) +
		      nn * (sizeof(struct lb_cand) + sizeof(int32_t) + sizeof(uint32_t));
	struct hash_state *st = calloc(1, size);
	if (!st)
		return -1;
	st->cand = (struct lb_cand *)(void *)(st->pts + npts);
	st->slot = (int32_t *)(void *)(st->cand + nn);
	st->seen = (uint32_t *)(st->slot + nn);

	size_t k = 0;
	for (int i = 0; i < n; i++) {
		const struct cfg_server *c = be->servers[i].cfg;
		int w = lb_live_weight(&be->servers[i]);
		if (w <= 0)
			continue;
		/* splitmix64's sequence from the name's hash: independent
		 * points per server, and the first m of them are the same
		 * whatever the weight. */
		uint64_t seed = hash64(c->name, strlen(c->name), 0x67617465686f7573ULL);
		for (uint64_t j = 0; j < (uint64_t)w * per && k < npts; j++) {
			st->pts[k].h = mix64(seed + (j + 1) * 0x9e3779b97f4a7c15ULL);
			st->pts[k].srv = (uint32_t)i;
			k++;
		}
	}
	/* The weights are read twice: one that changed in between (an API)
	 * only leaves the ring a few points short, never past its end. */
	st->npts = (uint32_t)k;
	qsort(st->pts, k, sizeof(st->pts[0]), pt_cmp);
	be->lb_data = st;
	return 0;
}

/* First point at or after h, wrapping. */
static uint32_t ring_find(const struct hash_state *st, uint64_t h)
{
	uint32_t lo = 0, hi = st->npts;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st->pts[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == st->npts ? 0 : lo;
}

static struct server_rt *hash_pick(struct backend_rt *be, const struct cond_ctx *ctx,
				   const struct server_rt *avoid)
{
	struct hash_state *st = be->lb_data;
	char scratch[64];
	struct slice v;

	if (!ctx || !be->cfg->hash_fetch || st->npts == 0 ||
	    !fetch_value(be->cfg->hash_fetch, ctx, &v, scratch, sizeof(scratch)))
		return lb_roundrobin.pick(be, ctx, avoid);

	struct lb_cand *c = st->cand;
	int n = lb_candidates(be, avoid, c);
	if (n <= 1)
		return n ? c[0].s : NULL;

	uint64_t total_active = 0, total_weight = 0;
	for (int i = 0; i < be->nservers; i++)
		st->slot[i] = -1;
	for (int k = 0; k < n; k++) {
		st->slot[c[k].s - be->servers] = k;
		total_active += c[k].active;
		total_weight += c[k].weight;
	}
	uint64_t factor = be->cfg->hash_balance_factor > 100 ? (uint64_t)be->cfg->hash_balance_factor
							     : 125;
	uint64_t num = factor * (total_active + 1);
	uint64_t den = 100 * total_weight;

	if (++st->gen == 0) {
		memset(st->seen, 0, (size_t)be->nservers * sizeof(*st->seen));
		st->gen = 1;
	}
	uint64_t key = hash64(v.p, v.len, 0);
	uint32_t pos = ring_find(st, key);
	int looked = 0;
	for (uint32_t step = 0; step < st->npts && looked < n; step++) {
		uint32_t srv = st->pts[(pos + step) % st->npts].srv;
		if (st->seen[srv] == st->gen)
			continue;
		st->seen[srv] = st->gen;
		int k = st->slot[srv];
		if (k < 0)
			continue;   /* down, draining, full, the server a retry leaves... */
		looked++;
		uint64_t bound = (num * c[k].weight + den - 1) / den;
		if (c[k].active < bound)
			return c[k].s;
	}
	/* Every candidate is at its bound: only possible when the counts
	 * moved under us (other threads); take the least loaded. */
	int best = 0;
	for (int k = 1; k < n; k++)
		if (lb_less_loaded(&c[k], &c[best]))
			best = k;
	return c[best].s;
}

const struct lb_ops lb_hash = {
	.name = "hash",
	.init = hash_init,
	.pick = hash_pick,
};
