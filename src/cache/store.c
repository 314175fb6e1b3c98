/*
 * store.c - the memory store (store.h): shards, each a mutex, a chained
 * index and S3-FIFO's two queues and ghost list.  A key's hash picks its
 * shard; the hit path locks that shard only, for an index walk and a
 * reference count.
 *
 * Every shard gets an equal part of `size` as its budget; the number of
 * shards is chosen so a shard still holds several of the largest objects
 * (16 at most, fewer for a small cache), and an insert that cannot make
 * room within its shard is refused (cache_mem_store_new() documents the
 * bound).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cache/store.h"
#include "core/hash.h"

#define GHOST_N 2048
#define MAX_SHARDS 16
#define HASH_SEED 0x9e3779b97f4a7c15ull

enum { Q_NONE = 0, Q_SMALL, Q_MAIN };

struct cache_shard {
	pthread_mutex_t lock;
	struct cache_obj **buckets;
	uint32_t nbuckets;              /* a power of two */
	struct cache_obj *s_head, *s_tail, *m_head, *m_tail;   /* head: newest */
	uint64_t s_bytes, m_bytes;      /* linked objects' bytes per queue */
	uint64_t budget;
	_Atomic uint64_t mem;           /* charged: linked, and unlinked still held */
	_Atomic uint64_t objects;
	uint64_t ghost[GHOST_N];        /* hashes that left the small queue unread */
	uint32_t ghost_pos;
	_Atomic uint64_t hits, misses, stores, evictions, purges, refused;
} __attribute__((aligned(64)));

struct mem_store {
	struct cache_store base;
	int nshards;
	struct cache_shard *sh;
};

static uint64_t key_hash(const char *key, uint32_t klen)
{
	return hash64(key, klen, HASH_SEED);
}

static struct cache_shard *shard_of(struct mem_store *m, uint64_t h)
{
	return &m->sh[h & (uint64_t)(m->nshards - 1)];
}

static struct cache_obj **bucket(struct cache_shard *sh, uint64_t h)
{
	return &sh->buckets[(h >> 16) & (sh->nbuckets - 1)];
}

/* ---- queues (shard lock held) ---- */

static void q_remove(struct cache_shard *sh, struct cache_obj *o)
{
	struct cache_obj **head = o->queue == Q_SMALL ? &sh->s_head : &sh->m_head;
	struct cache_obj **tail = o->queue == Q_SMALL ? &sh->s_tail : &sh->m_tail;
	if (o->qprev)
		o->qprev->qnext = o->qnext;
	else
		*head = o->qnext;
	if (o->qnext)
		o->qnext->qprev = o->qprev;
	else
		*tail = o->qprev;
	if (o->queue == Q_SMALL)
		sh->s_bytes -= o->mem;
	else
		sh->m_bytes -= o->mem;
	o->qprev = o->qnext = NULL;
	o->queue = Q_NONE;
}

static void q_push(struct cache_shard *sh, struct cache_obj *o, int q)
{
	struct cache_obj **head = q == Q_SMALL ? &sh->s_head : &sh->m_head;
	struct cache_obj **tail = q == Q_SMALL ? &sh->s_tail : &sh->m_tail;
	o->qprev = NULL;
	o->qnext = *head;
	if (*head)
		(*head)->qprev = o;
	else
		*tail = o;
	*head = o;
	o->queue = (uint8_t)q;
	if (q == Q_SMALL)
		sh->s_bytes += o->mem;
	else
		sh->m_bytes += o->mem;
}

static bool ghost_has(const struct cache_shard *sh, uint64_t h)
{
	for (int i = 0; i < GHOST_N; i++)
		if (sh->ghost[i] == h)
			return true;
	return false;
}

/* Out of the index and the queues; the store's reference goes. */
static void unlink_obj(struct cache_shard *sh, struct cache_obj *o)
{
	struct cache_obj **pp = bucket(sh, o->hash);
	while (*pp && *pp != o)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = o->hnext;
	o->hnext = NULL;
	if (o->queue != Q_NONE)
		q_remove(sh, o);
	o->linked = false;
	atomic_fetch_sub_explicit(&sh->objects, 1, memory_order_relaxed);
	cache_obj_put(o);
}

/* S3-FIFO: one object leaves; false when nothing is linked. */
static bool evict_one(struct cache_shard *sh)
{
	for (;;) {
		struct cache_obj *o;
		if (sh->s_tail && (sh->s_bytes > sh->budget / 10 || !sh->m_tail)) {
			o = sh->s_tail;
			q_remove(sh, o);
			if (atomic_load_explicit(&o->freq, memory_order_relaxed) >= 1) {
				atomic_store_explicit(&o->freq, 0, memory_order_relaxed);
				q_push(sh, o, Q_MAIN);
				continue;
			}
			sh->ghost[sh->ghost_pos++ % GHOST_N] = o->hash;
		} else if (sh->m_tail) {
			o = sh->m_tail;
			q_remove(sh, o);
			uint8_t f = atomic_load_explicit(&o->freq, memory_order_relaxed);
			if (f > 0) {
				atomic_store_explicit(&o->freq, (uint8_t)(f - 1), memory_order_relaxed);
				q_push(sh, o, Q_MAIN);
				continue;
			}
		} else {
			return false;
		}
		atomic_fetch_add_explicit(&sh->evictions, 1, memory_order_relaxed);
		unlink_obj(sh, o);
		return true;
	}
}

void cache_store_uncharge(struct cache_obj *o)
{
	atomic_fetch_sub_explicit(&o->shard->mem, o->mem, memory_order_relaxed);
}

/* Whether b, stored, goes when a comes: the same Vary values, and the
 * same coding, or a is a new identity object (b's variants were made from
 * the one it replaces). */
static bool same_variant(const struct cache_obj *a, const struct cache_obj *b)
{
	return (a->coding == b->coding || !a->coding) && a->vary_key_len == b->vary_key_len && a->vary_names_len == b->vary_names_len &&
	       (!a->vary_key_len || memcmp(a->vary_key, b->vary_key, a->vary_key_len) == 0) &&
	       (!a->vary_names_len || memcmp(a->vary_names, b->vary_names, a->vary_names_len) == 0);
}

/* ---- operations ---- */

static struct cache_obj *mem_lookup(struct cache_store *st, const char *key, uint32_t klen,
				    bool (*match)(const struct cache_obj *, void *), void *arg)
{
	struct mem_store *m = (struct mem_store *)st;
	uint64_t h = key_hash(key, klen);
	struct cache_shard *sh = shard_of(m, h);
	struct cache_obj *found = NULL;

	pthread_mutex_lock(&sh->lock);
	for (struct cache_obj *o = *bucket(sh, h); o; o = o->hnext) {
		if (o->hash != h || o->key_len != klen || memcmp(o->key, key, klen) != 0)
			continue;
		if (match && !match(o, arg))
			continue;
		uint8_t f = atomic_load_explicit(&o->freq, memory_order_relaxed);
		if (f < 3)
			atomic_store_explicit(&o->freq, (uint8_t)(f + 1), memory_order_relaxed);
		cache_obj_get(o);
		found = o;
		break;
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

static bool mem_insert(struct cache_store *st, struct cache_obj *o)
{
	struct mem_store *m = (struct mem_store *)st;
	o->hash = key_hash(o->key, o->key_len);
	struct cache_shard *sh = shard_of(m, o->hash);

	if (o->body_len > st->max_object || o->mem > sh->budget) {
		atomic_fetch_add_explicit(&sh->refused, 1, memory_order_relaxed);
		cache_obj_put(o);
		return false;
	}
	pthread_mutex_lock(&sh->lock);
	/* the same key and variant: the new response replaces it */
	for (struct cache_obj *e = *bucket(sh, o->hash), *next; e; e = next) {
		next = e->hnext;
		if (e->hash == o->hash && e->key_len == o->key_len &&
		    memcmp(e->key, o->key, o->key_len) == 0 && same_variant(o, e))
			unlink_obj(sh, e);
	}
	while (atomic_load_explicit(&sh->mem, memory_order_relaxed) + o->mem > sh->budget) {
		if (!evict_one(sh)) {
			/* what is left is held by readers */
			pthread_mutex_unlock(&sh->lock);
			atomic_fetch_add_explicit(&sh->refused, 1, memory_order_relaxed);
			cache_obj_put(o);
			return false;
		}
	}
	o->shard = sh;
	atomic_fetch_add_explicit(&sh->mem, o->mem, memory_order_relaxed);
	struct cache_obj **b = bucket(sh, o->hash);
	o->hnext = *b;
	*b = o;
	o->linked = true;
	atomic_store_explicit(&o->freq, 0, memory_order_relaxed);
	q_push(sh, o, ghost_has(sh, o->hash) ? Q_MAIN : Q_SMALL);
	atomic_fetch_add_explicit(&sh->objects, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->stores, 1, memory_order_relaxed);
	pthread_mutex_unlock(&sh->lock);
	return true;
}

static int mem_purge(struct cache_store *st, const char *key, uint32_t klen)
{
	struct mem_store *m = (struct mem_store *)st;
	uint64_t h = key_hash(key, klen);
	struct cache_shard *sh = shard_of(m, h);
	int n = 0;

	pthread_mutex_lock(&sh->lock);
	for (struct cache_obj *e = *bucket(sh, h), *next; e; e = next) {
		next = e->hnext;
		if (e->hash == h && e->key_len == klen && memcmp(e->key, key, klen) == 0) {
			unlink_obj(sh, e);
			n++;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	atomic_fetch_add_explicit(&sh->purges, (uint64_t)n, memory_order_relaxed);
	return n;
}

static int mem_purge_match(struct cache_store *st,
			   bool (*match)(const struct cache_obj *o, void *arg), void *arg)
{
	struct mem_store *m = (struct mem_store *)st;
	int total = 0;

	for (int i = 0; i < m->nshards; i++) {
		struct cache_shard *sh = &m->sh[i];
		int n = 0;
		pthread_mutex_lock(&sh->lock);
		for (uint32_t b = 0; b < sh->nbuckets; b++)
			for (struct cache_obj *e = sh->buckets[b], *next; e; e = next) {
				next = e->hnext;
				if (match(e, arg)) {
					unlink_obj(sh, e);
					n++;
				}
			}
		pthread_mutex_unlock(&sh->lock);
		atomic_fetch_add_explicit(&sh->purges, (uint64_t)n, memory_order_relaxed);
		total += n;
	}
	return total;
}

static void mem_note(struct cache_store *st, const char *key, uint32_t klen, enum cache_event ev)
{
	struct cache_shard *sh = shard_of((struct mem_store *)st, key_hash(key, klen));
	atomic_fetch_add_explicit(ev == CACHE_EV_HIT ? &sh->hits : &sh->misses, 1,
				  memory_order_relaxed);
}

static void mem_note_obj(struct cache_store *st, const struct cache_obj *o, enum cache_event ev)
{
	struct cache_shard *sh = o->shard;
	if (!sh) {
		mem_note(st, o->key, o->key_len, ev);
		return;
	}
	atomic_fetch_add_explicit(ev == CACHE_EV_HIT ? &sh->hits : &sh->misses, 1,
				  memory_order_relaxed);
}

static void mem_stats(struct cache_store *st, struct cache_stats *out)
{
	struct mem_store *m = (struct mem_store *)st;
	memset(out, 0, sizeof(*out));
	out->size = st->size;
	for (int i = 0; i < m->nshards; i++) {
		struct cache_shard *sh = &m->sh[i];
		out->hits += atomic_load_explicit(&sh->hits, memory_order_relaxed);
		out->misses += atomic_load_explicit(&sh->misses, memory_order_relaxed);
		out->stores += atomic_load_explicit(&sh->stores, memory_order_relaxed);
		out->evictions += atomic_load_explicit(&sh->evictions, memory_order_relaxed);
		out->purges += atomic_load_explicit(&sh->purges, memory_order_relaxed);
		out->refused += atomic_load_explicit(&sh->refused, memory_order_relaxed);
		out->bytes += atomic_load_explicit(&sh->mem, memory_order_relaxed);
		out->objects += atomic_load_explicit(&sh->objects, memory_order_relaxed);
	}
	out->encodes = atomic_load_explicit(&st->encodes, memory_order_relaxed);
}

static void mem_destroy(struct cache_store *st)
{
	struct mem_store *m = (struct mem_store *)st;
	for (int i = 0; i < m->nshards; i++) {
		struct cache_shard *sh = &m->sh[i];
		pthread_mutex_lock(&sh->lock);
		while (sh->s_tail || sh->m_tail)
			unlink_obj(sh, sh->s_tail ? sh->s_tail : sh->m_tail);
		pthread_mutex_unlock(&sh->lock);
		pthread_mutex_destroy(&sh->lock);
		free(sh->buckets);
	}
	free(m->sh);
	free(m);
}

static const struct cache_store_ops mem_ops = {
	.lookup = mem_lookup, .insert = mem_insert, .purge = mem_purge,
	.purge_match = mem_purge_match, .note = mem_note,
	.note_obj = mem_note_obj,
	.stats = mem_stats, .destroy = mem_destroy,
};

/* Shards: 16, or fewer so that each still holds four of the largest
 * objects (a shard's budget is size / shards); at least one. */
static int shards_for(uint64_t size, uint64_t max_object)
{
	int n = MAX_SHARDS;
	while (n > 1 && size / (uint64_t)n < 4 * (max_object + 4096))
		n /= 2;
	return n;
}

uint64_t cache_mem_shard_budget(uint64_t size, uint64_t max_object)
{
	return size / (uint64_t)shards_for(size, max_object);
}

struct cache_store *cache_mem_store_new(uint64_t size, uint64_t max_object)
{
	struct mem_store *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->base.ops = &mem_ops;
	m->base.size = size;
	m->base.max_object = max_object;
	atomic_init(&m->base.refs, 1);
	m->nshards = shards_for(size, max_object);
	m->sh = aligned_alloc(64, sizeof(*m->sh) * (size_t)m->nshards);
	if (!m->sh) {
		free(m);
		return NULL;
	}
	memset(m->sh, 0, sizeof(*m->sh) * (size_t)m->nshards);
	uint64_t budget = size / (uint64_t)m->nshards;
	/* about one bucket per 2 KiB of budget */
	uint32_t nb = 64;
	while (nb < (1u << 20) && (uint64_t)nb * 2048 < budget)
		nb <<= 1;
	for (int i = 0; i < m->nshards; i++) {
		struct cache_shard *sh = &m->sh[i];
		pthread_mutex_init(&sh->lock, NULL);
		sh->budget = budget;
		sh->nbuckets = nb;
		sh->buckets = calloc(nb, sizeof(*sh->buckets));
		if (!sh->buckets) {
			m->nshards = i + 1;
			mem_destroy(&m->base);
			return NULL;
		}
	}
	return &m->base;
}
