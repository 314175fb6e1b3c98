/*
 * limit.c - rate-limit tables (see limit.h): GCRA per key, sharded by the
 * key's hash, each shard a fixed array of entries with a chained hash
 * index and an LRU list (indices, not pointers: one allocation per shard).
 * Entries in use (concurrency places held) are kept out of the LRU list,
 * so eviction only ever sees entries it may reuse.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "core/hash.h"
#include <time.h>

#include "limit/limit.h"

struct lim_entry {
	uint64_t hash;
	uint64_t tat;            /* theoretical arrival time, ns */
	uint32_t inuse;          /* concurrency places held; > 0: not in the LRU list */
	int32_t next;            /* in its bucket's chain, -1 ends it */
	int32_t lru_prev, lru_next;   /* towards the most / least recently used */
	uint32_t len;
	char key[LIMIT_KEY_INLINE];
};

struct lim_shard {
	pthread_mutex_t mu;
	int32_t *buckets;        /* heads of chains, -1 = empty */
	uint32_t mask;           /* buckets - 1 */
	struct lim_entry *e;
	uint32_t cap, used;
	int32_t lru_head, lru_tail;   /* most and least recently used, -1 = none */
	/* counters, under mu (limit_stats) */
	uint64_t passed, delayed, refused_rate, refused_conc, refused_full, inuse;
} __attribute__((aligned(64)));   /* one shard per cache line pair: no false sharing */

struct limit_table {
	uint64_t interval_ns;    /* per_ns / rate: one request's share of the schedule;
				    0: no rate part */
	uint64_t tolerance_ns;   /* burst * interval: accepted this far ahead */
	uint64_t pass_ns;        /* delay * interval: passes at once this far ahead */
	uint64_t concurrent;     /* 0: no concurrency part */
	uint64_t seed;
	uint32_t nshards;
	_Atomic int refs;        /* limit_table_ref / limit_table_free */
	struct limit_params p;   /* as created: a reload keeps a table whose
				    parameters did not change (lb/registry.c) */
	_Atomic uint64_t log_next_ns;    /* limit_log_sample: no line before this */
	_Atomic uint64_t log_refused;    /* refusals counted at the last line */
	struct lim_shard *shards;
};

struct limit_table *limit_table_new(uint64_t rate, uint64_t per_ns, uint64_t burst,
				    uint64_t entries)
{
	struct limit_params p = { .rate = rate, .per_ns = per_ns, .burst = burst,
				  .entries = entries };
	return limit_table_create(&p);
}

struct limit_table *limit_table_create(const struct limit_params *p)
{
	uint64_t entries = p->entries;

	if ((!p->rate && !p->concurrent) || (p->rate && (!p->per_ns || !p->burst)) ||
	    !entries || entries > (1u << 30) || p->concurrent > UINT32_MAX)
		return NULL;
	struct limit_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (p->rate) {
		t->interval_ns = p->per_ns / p->rate ? p->per_ns / p->rate : 1;
		t->tolerance_ns = p->burst * t->interval_ns;
		t->pass_ns = p->delay && p->delay < p->burst ? p->delay * t->interval_ns :
							       t->tolerance_ns;
	}
	t->concurrent = p->concurrent;
	atomic_init(&t->refs, 1);
	t->p = *p;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ limit_now_ns();
	/* Shards of at least 16 entries, so a small table still evicts by
	 * recency rather than by which shard a key hashed to. */
	uint32_t n = 1;
	while (n < LIMIT_MAX_SHARDS && entries / (n * 2) >= 16)
		n *= 2;
	t->nshards = n;
	atomic_init(&t->log_next_ns, 0);
	atomic_init(&t->log_refused, 0);
	t->shards = aligned_alloc(64, sizeof(*t->shards) * n);
	if (!t->shards) {
		free(t);
		return NULL;
	}
	memset(t->shards, 0, sizeof(*t->shards) * n);
	uint32_t cap = (uint32_t)(entries / n);
	uint32_t nb = 1;
	while (nb < cap)
		nb *= 2;
	for (uint32_t i = 0; i < n; i++) {
		struct lim_shard *s = &t->shards[i];
		pthread_mutex_init(&s->mu, NULL);
		s->cap = cap;
		s->mask = nb - 1;
		s->lru_head = s->lru_tail = -1;
		s->e = calloc(cap, sizeof(*s->e));
		s->buckets = malloc(nb * sizeof(*s->buckets));
		if (!s->e || !s->buckets) {
			t->nshards = i + 1;
			limit_table_free(t);
			return NULL;
		}
		memset(s->buckets, 0xff, nb * sizeof(*s->buckets));   /* all -1 */
	}
	return t;
}

struct limit_table *limit_table_ref(struct limit_table *t)
{
	atomic_fetch_add(&t->refs, 1);
	return t;
}

bool limit_table_same(const struct limit_table *t, const struct limit_params *p)
{
	return t->p.rate == p->rate && t->p.per_ns == p->per_ns && t->p.burst == p->burst &&
	       t->p.delay == p->delay && t->p.concurrent == p->concurrent &&
	       t->p.entries == p->entries;
}

void limit_table_free(struct limit_table *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) > 1)
		return;
	for (uint32_t i = 0; i < t->nshards; i++) {
		pthread_mutex_destroy(&t->shards[i].mu);
		free(t->shards[i].e);
		free(t->shards[i].buckets);
	}
	free(t->shards);
	free(t);
}

static void lru_unlink(struct lim_shard *s, int32_t i)
{
	struct lim_entry *e = &s->e[i];

	if (e->lru_prev >= 0)
		s->e[e->lru_prev].lru_next = e->lru_next;
	else
		s->lru_head = e->lru_next;
	if (e->lru_next >= 0)
		s->e[e->lru_next].lru_prev = e->lru_prev;
	else
		s->lru_tail = e->lru_prev;
}

static void lru_push_head(struct lim_shard *s, int32_t i)
{
	struct lim_entry *e = &s->e[i];

	e->lru_prev = -1;
	e->lru_next = s->lru_head;
	if (s->lru_head >= 0)
		s->e[s->lru_head].lru_prev = i;
	else
		s->lru_tail = i;
	s->lru_head = i;
}

static void bucket_unlink(struct lim_shard *s, int32_t i)
{
	int32_t *pp = &s->buckets[s->e[i].hash & s->mask];

	while (*pp >= 0 && *pp != i)
		pp = &s->e[*pp].next;
	if (*pp == i)
		*pp = s->e[i].next;
}

/* The index of key's entry in s, made the most recently used (an entry
 * in use is not in the LRU list and stays out); a new one (the least
 * recently used reused when s is full) starts idle at now.  -1 when s is
 * full of entries in use. */
static int32_t shard_entry(struct lim_shard *s, uint64_t h, const void *key, size_t len,
			   uint64_t now)
{
	size_t cmp = len < LIMIT_KEY_INLINE ? len : LIMIT_KEY_INLINE;
	int32_t i;

	for (i = s->buckets[h & s->mask]; i >= 0; i = s->e[i].next) {
		struct lim_entry *e = &s->e[i];
		if (e->hash == h && e->len == len && memcmp(e->key, key, cmp) == 0) {
			if (!e->inuse && s->lru_head != i) {
				lru_unlink(s, i);
				lru_push_head(s, i);
			}
			return i;
		}
	}
	if (s->used < s->cap) {
		i = (int32_t)s->used++;
	} else {
		i = s->lru_tail;
		if (i < 0)
			return -1;   /* every entry in use: forget none */
		lru_unlink(s, i);
		bucket_unlink(s, i);
	}
	struct lim_entry *e = &s->e[i];
	e->hash = h;
	e->tat = now;
	e->inuse = 0;
	e->len = (uint32_t)len;
	memcpy(e->key, key, cmp);
	e->next = s->buckets[h & s->mask];
	s->buckets[h & s->mask] = i;
	lru_push_head(s, i);
	return i;
}

/* The rate and the concurrency are judged together under the shard's
 * lock: a request refused by one is not counted by the other. */
enum limit_verdict limit_acquire(struct limit_table *t, const void *key, size_t len,
				 uint64_t now_ns, uint64_t *wait_ns, struct limit_slot *slot)
{
	uint64_t h = hash64(key, len, t->seed);
	/* high bits pick the shard, low bits the bucket: independent */
	uint32_t si = (uint32_t)(h >> 40) & (t->nshards - 1);
	struct lim_shard *s = &t->shards[si];
	enum limit_verdict v = LIMIT_PASS;
	uint64_t wait = 0;

	if (slot)
		slot->t = NULL;
	pthread_mutex_lock(&s->mu);
	int32_t i = shard_entry(s, h, key, len, now_ns);
	if (i < 0) {
		s->refused_full++;
		pthread_mutex_unlock(&s->mu);
		return LIMIT_FULL;
	}
	struct lim_entry *e = &s->e[i];
	uint64_t next = 0, ahead = 0;
	if (t->interval_ns) {
		uint64_t tat = e->tat > now_ns ? e->tat : now_ns;
		next = tat + t->interval_ns;
		ahead = next - now_ns;
		if (ahead > t->tolerance_ns) {
			wait = ahead - t->tolerance_ns;
			v = LIMIT_OVER_RATE;
		}
	}
	if (v == LIMIT_PASS && t->concurrent && e->inuse >= t->concurrent)
		v = LIMIT_OVER_CONCURRENT;
	if (v == LIMIT_PASS) {
		if (t->interval_ns) {
			e->tat = next;
			if (ahead > t->pass_ns) {
				wait = ahead - t->pass_ns;
				v = LIMIT_DELAY;
				s->delayed++;
			}
		}
		if (t->concurrent) {
			if (e->inuse++ == 0)
				lru_unlink(s, i);   /* in use: never evicted */
			s->inuse++;
			if (slot)
				*slot = (struct limit_slot){ t, si, i };
		}
		s->passed++;
	} else if (v == LIMIT_OVER_RATE) {
		s->refused_rate++;
	} else {
		s->refused_conc++;
	}
	pthread_mutex_unlock(&s->mu);
	if (wait_ns && (v == LIMIT_DELAY || v == LIMIT_OVER_RATE))
		*wait_ns = wait;
	return v;
}

void limit_release(struct limit_slot *slot)
{
	struct limit_table *t = slot->t;

	if (!t)
		return;
	struct lim_shard *s = &t->shards[slot->shard];
	pthread_mutex_lock(&s->mu);
	struct lim_entry *e = &s->e[slot->idx];
	if (e->inuse && --e->inuse == 0)
		lru_push_head(s, slot->idx);   /* free again: the most recently used */
	if (s->inuse)
		s->inuse--;
	pthread_mutex_unlock(&s->mu);
	slot->t = NULL;
}

bool limit_take(struct limit_table *t, const void *key, size_t len, uint64_t now_ns,
		uint64_t *wait_ns)
{
	enum limit_verdict v = limit_acquire(t, key, len, now_ns, wait_ns, NULL);
	return v == LIMIT_PASS || v == LIMIT_DELAY;
}

void limit_table_stats(struct limit_table *t, struct limit_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < t->nshards; i++) {
		struct lim_shard *s = &t->shards[i];
		pthread_mutex_lock(&s->mu);
		out->passed += s->passed;
		out->delayed += s->delayed;
		out->refused_rate += s->refused_rate;
		out->refused_concurrent += s->refused_conc;
		out->refused_full += s->refused_full;
		out->keys += s->used;
		out->in_use += s->inuse;
		pthread_mutex_unlock(&s->mu);
	}
	out->refused = out->refused_rate + out->refused_concurrent + out->refused_full;
}

uint64_t limit_table_keys(struct limit_table *t)
{
	struct limit_stats st;
	limit_table_stats(t, &st);
	return st.keys;
}

uint64_t limit_table_refused(const struct limit_table *t)
{
	struct limit_stats st;
	limit_table_stats((struct limit_table *)t, &st);
	return st.refused;
}

bool limit_table_has_rate(const struct limit_table *t)
{
	return t->interval_ns != 0;
}

bool limit_table_has_concurrent(const struct limit_table *t)
{
	return t->concurrent != 0;
}

bool limit_log_sample(struct limit_table *t, uint64_t now_ns, uint64_t *suppressed)
{
	uint64_t next = atomic_load_explicit(&t->log_next_ns, memory_order_relaxed);

	if (now_ns < next || !atomic_compare_exchange_strong_explicit(
				     &t->log_next_ns, &next, now_ns + 1000000000ull,
				     memory_order_relaxed, memory_order_relaxed))
		return false;
	/* The refusal being logged is counted already: the others since the
	 * last line were not logged. */
	uint64_t total = limit_table_refused(t);
	uint64_t last = atomic_exchange_explicit(&t->log_refused, total, memory_order_relaxed);
	*suppressed = total > last + 1 ? total - last - 1 : 0;
	return true;
}

uint64_t limit_table_capacity(const struct limit_table *t)
{
	return (uint64_t)t->shards[0].cap * t->nshards;
}

uint64_t limit_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t limit_retry_after_s(uint64_t wait_ns)
{
	uint64_t s = (wait_ns + 999999999ull) / 1000000000ull;
	return s ? (uint32_t)(s > 86400 ? 86400 : s) : 1;
}
