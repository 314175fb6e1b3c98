/*
 * limit.c - rate-limit tables (see limit.h): GCRA per key, sharded by the
 * key's hash, each shard a fixed array of entries with a chained hash
 * index and an LRU list (indices, not pointers: one allocation per shard).
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
} __attribute__((aligned(64)));   /* one shard per cache line pair: no false sharing */

struct limit_table {
	uint64_t interval_ns;    /* per_ns / rate: one request's share of the schedule */
	uint64_t tolerance_ns;   /* burst * interval */
	uint64_t seed;
	uint32_t nshards;
	_Atomic uint64_t refused;
	struct lim_shard *shards;
};

struct limit_table *limit_table_new(uint64_t rate, uint64_t per_ns, uint64_t burst,
				    uint64_t entries)
{
	if (!rate || !per_ns || !burst || !entries || entries > (1u << 30))
		return NULL;
	struct limit_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->interval_ns = per_ns / rate ? per_ns / rate : 1;
	t->tolerance_ns = burst * t->interval_ns;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ limit_now_ns();
	/* Shards of at least 16 entries, so a small table still evicts by
	 * recency rather than by which shard a key hashed to. */
	uint32_t n = 1;
	while (n < LIMIT_MAX_SHARDS && entries / (n * 2) >= 16)
		n *= 2;
	t->nshards = n;
	atomic_init(&t->refused, 0);
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

void limit_table_free(struct limit_table *t)
{
	if (!t)
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

/* The entry of key in s, made the most recently used; a new one (the
 * least recently used reused when s is full) starts idle at now. */
static struct lim_entry *shard_entry(struct lim_shard *s, uint64_t h, const void *key, size_t len,
				     uint64_t now)
{
	size_t cmp = len < LIMIT_KEY_INLINE ? len : LIMIT_KEY_INLINE;
	int32_t i;

	for (i = s->buckets[h & s->mask]; i >= 0; i = s->e[i].next) {
		struct lim_entry *e = &s->e[i];
		if (e->hash == h && e->len == len && memcmp(e->key, key, cmp) == 0) {
			if (s->lru_head != i) {
				lru_unlink(s, i);
				lru_push_head(s, i);
			}
			return e;
		}
	}
	if (s->used < s->cap) {
		i = (int32_t)s->used++;
	} else {
		i = s->lru_tail;
		lru_unlink(s, i);
		bucket_unlink(s, i);
	}
	struct lim_entry *e = &s->e[i];
	e->hash = h;
	e->tat = now;
	e->len = (uint32_t)len;
	memcpy(e->key, key, cmp);
	e->next = s->buckets[h & s->mask];
	s->buckets[h & s->mask] = i;
	lru_push_head(s, i);
	return e;
}

bool limit_take(struct limit_table *t, const void *key, size_t len, uint64_t now_ns,
		uint64_t *wait_ns)
{
	uint64_t h = hash64(key, len, t->seed);
	/* high bits pick the shard, low bits the bucket: independent */
	struct lim_shard *s = &t->shards[(h >> 40) & (t->nshards - 1)];
	bool ok;

	pthread_mutex_lock(&s->mu);
	struct lim_entry *e = shard_entry(s, h, key, len, now_ns);
	uint64_t tat = e->tat > now_ns ? e->tat : now_ns;
	uint64_t next = tat + t->interval_ns;
	ok = next - now_ns <= t->tolerance_ns;
	if (ok)
		e->tat = next;
	else if (wait_ns)
		*wait_ns = next - t->tolerance_ns - now_ns;
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
	return ok;
}

uint64_t limit_table_keys(struct limit_table *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < t->nshards; i++) {
		pthread_mutex_lock(&t->shards[i].mu);
		n += t->shards[i].used;
		pthread_mutex_unlock(&t->shards[i].mu);
	}
	return n;
}

uint64_t limit_table_refused(const struct limit_table *t)
{
	return atomic_load_explicit(&((struct limit_table *)t)->refused, memory_order_relaxed);
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
