/*
 * store.h - where cached responses live: objects (a response head, its
 * freshness data and its body) in a store shared by every worker thread.
 *
 * The store sits behind a small table of operations (struct
 * cache_store_ops) so a disk tier can follow with the same face; today
 * there is one, in memory (store.c):
 *   - sharded: a key's hash picks a shard with its own lock, index and
 *     eviction queues, so the hit path takes one shard's mutex for a few
 *     pointer reads, never a global lock;
 *   - objects are reference counted: lookup returns a reference the
 *     reader drops with cache_obj_put(); an eviction or a purge only
 *     unlinks, and the last reference frees, so nobody reads freed bytes;
 *   - memory: every byte of an object (struct, key, head, body chunks) is
 *     charged to its shard until the object is freed (an unlinked object a
 *     reader still holds still counts), and a shard never goes above its
 *     part of `size`: an insert that cannot make room is refused;
 *   - eviction is S3-FIFO (Yang et al., SOSP 2023): new objects enter a
 *     small FIFO (10% of the bytes); those read again while there move
 *     to the main FIFO, the others leave and are remembered in a ghost
 *     list (hashes only) so a quick return goes straight to main; main
 *     gives each object with a read since its last pass another round.
 *     One scan of new keys only churns the small queue: the hot set in
 *     main stays (tests/unit/test_cache_store.c measures it against LRU).
 */
#ifndef GH_CACHE_STORE_H
#define GH_CACHE_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cache/cc.h"

#define CACHE_OBJ_MAGIC 0xcac4e0b1u
#define CACHE_CHUNK 16384u

/* A run of body bytes; an object's body is a list of them. */
struct cache_chunk {
	struct cache_chunk *next;
	uint32_t len, cap;
	char data[];
};

/* One header field of a stored head: offsets into obj->head. */
struct cache_field {
	uint32_t name, name_len, value, value_len;
	uint8_t id;                     /* enum http_hdr_id of the name, found once */
};

struct cache_shard;

struct cache_obj {
	uint32_t magic;
	_Atomic uint32_t refs;
	_Atomic uint8_t freq;           /* reads since queued, capped at 3 */
	uint8_t queue;                  /* 0 none, 1 small, 2 main (shard lock) */
	bool linked;                    /* in the index (shard lock) */
	_Atomic bool refreshing;        /* a request revalidates it (stale-while-revalidate) */
	struct cache_shard *shard;      /* set at insert: whom the bytes are charged to */
	struct cache_obj *hnext;        /* index chain (shard lock) */
	struct cache_obj *qprev, *qnext; /* eviction queue (shard lock) */
	uint64_t hash;
	size_t mem;                     /* bytes charged */
	/* Encoded variants (flt_cache.c): an object in a content coding made
	 * from the identity object `src_id` names, stored next to it under
	 * the same key and Vary values.  coding 0: the identity bytes (the
	 * origin's); 1 + enum cz_algo: compressed here.  An identity insert
	 * unlinks the variants of the one it replaces. */
	uint8_t coding;
	uint64_t id;                    /* unique per object (cache_obj_new) */
	uint64_t src_id;                /* a variant: the identity object it was made from */
	/* Immutable once inserted: */
	char *key;
	uint32_t key_len;
	char *vary_names;               /* "accept-encoding,accept-language" or NULL */
	uint32_t vary_names_len;
	char *vary_key;                 /* the request's values for them (cc_vary_key) */
	uint32_t vary_key_len;
	uint16_t status;
	uint16_t nfields;
	struct cache_field *fields;
	char *head;                     /* the fields' bytes */
	uint32_t head_len;
	struct cc_times times;
	int64_t lifetime;
	struct cc res_cc;               /* the response's Cache-Control (no field slices) */
	uint64_t body_len;
	struct cache_chunk *body;
};

/* Counters of a store, summed over its shards. */
struct cache_stats {
	uint64_t hits, misses, stores, evictions, purges, refused;
	uint64_t encodes;               /* encoded variants made (each compressed once) */
	uint64_t bytes, objects;        /* now */
	uint64_t size;                  /* the bound */
};

enum cache_event { CACHE_EV_HIT, CACHE_EV_MISS };

struct cache_store;

struct cache_store_ops {
	/* A referenced object for key whose variant match() accepts (NULL:
	 * any), or NULL. */
	struct cache_obj *(*lookup)(struct cache_store *st, const char *key, uint32_t klen,
				    bool (*match)(const struct cache_obj *o, void *arg), void *arg);
	/* Takes over the caller's reference to o (built with cache_obj_*):
	 * stores it, replacing the object of the same key and variant; false
	 * (o freed) when it cannot (too big, no room). */
	bool (*insert)(struct cache_store *st, struct cache_obj *o);
	/* Unlinks every variant of key; returns how many. */
	int (*purge)(struct cache_store *st, const char *key, uint32_t klen);
	/* Unlinks every object match() accepts (a walk of the whole store,
	 * one shard locked at a time: the runtime API's purges by prefix and
	 * by tag, not the request path); returns how many. */
	int (*purge_match)(struct cache_store *st, bool (*match)(const struct cache_obj *o, void *arg),
			   void *arg);
	void (*note)(struct cache_store *st, const char *key, uint32_t klen, enum cache_event ev);
	/* The same for an object lookup returned (no second hash of its key:
	 * the hit path's). */
	void (*note_obj)(struct cache_store *st, const struct cache_obj *o, enum cache_event ev);
	void (*stats)(struct cache_store *st, struct cache_stats *out);
	void (*destroy)(struct cache_store *st);
};

/* A store is reference counted: the configuration generation that built
 * it holds one, and the registry (lb/registry.h) keeps it by cache name so
 * a reload whose section has the same name, size and max_object shares it
 * (the objects survive the reload). */
struct cache_store {
	const struct cache_store_ops *ops;
	uint64_t size, max_object;
	_Atomic uint32_t refs;
	_Atomic uint64_t encodes;       /* cache_stats' encodes: counted by the filter */
};

/* The memory store: size bytes at most, bodies of max_object bytes at
 * most.  It has up to 16 shards, each with an equal part of size, fewer
 * when a part would hold less than four objects of max_object: an object
 * larger than its shard's part (cache_mem_shard_budget) is never stored. */
struct cache_store *cache_mem_store_new(uint64_t size, uint64_t max_object);
uint64_t cache_mem_shard_budget(uint64_t size, uint64_t max_object);

static inline struct cache_obj *cache_lookup(struct cache_store *st, const char *key, uint32_t klen,
					     bool (*match)(const struct cache_obj *, void *),
					     void *arg)
{
	return st->ops->lookup(st, key, klen, match, arg);
}
static inline bool cache_insert(struct cache_store *st, struct cache_obj *o)
{
	return st->ops->insert(st, o);
}
static inline int cache_purge(struct cache_store *st, const char *key, uint32_t klen)
{
	return st->ops->purge(st, key, klen);
}
static inline int cache_purge_match(struct cache_store *st,
				    bool (*match)(const struct cache_obj *o, void *arg), void *arg)
{
	return st->ops->purge_match(st, match, arg);
}

static inline void cache_note(struct cache_store *st, const char *key, uint32_t klen,
			      enum cache_event ev)
{
	st->ops->note(st, key, klen, ev);
}
static inline void cache_note_obj(struct cache_store *st, const struct cache_obj *o,
				  enum cache_event ev)
{
	st->ops->note_obj(st, o, ev);
}
/* The counters (hits, misses, stores, evictions, bytes...) summed over
 * the shards: what a metrics endpoint exports. */
static inline void cache_stats(struct cache_store *st, struct cache_stats *out)
{
	st->ops->stats(st, out);
}
/* One more reference to st; cache_store_free drops one, the last frees. */
static inline struct cache_store *cache_store_ref(struct cache_store *st)
{
	atomic_fetch_add_explicit(&st->refs, 1, memory_order_relaxed);
	return st;
}
static inline void cache_store_free(struct cache_store *st)
{
	if (st && atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) == 1)
		st->ops->destroy(st);
}

/* ---- objects (obj.c) ---- */

/* A new object (one reference, not in a store) for key and its variant
 * (the Vary names and the request's values for them); the caller adds
 * the head's fields and the body, sets status, times, lifetime and
 * res_cc, then inserts it.  NULL when memory is short. */
struct cache_obj *cache_obj_new(const char *key, uint32_t klen, const char *vary_names,
				uint32_t vn_len, const char *vary_key, uint32_t vk_len);
/* Adds a field to an object being built (before its first insert). */
bool cache_obj_add_field(struct cache_obj *o, struct slice name, struct slice value);
/* Appends body bytes; false when memory is short. */
bool cache_obj_append(struct cache_obj *o, const char *p, size_t len);
/* Gives back the unused tail of the last body chunk (before insert). */
void cache_obj_trim(struct cache_obj *o);
/* Bytes the object takes (what it is charged). */
size_t cache_obj_mem(const struct cache_obj *o);
/* Copies len bytes of the body from off into dst; returns how many. */
size_t cache_obj_read(const struct cache_obj *o, uint64_t off, char *dst, size_t len);
/* The body bytes from off to the end of their chunk, in place (*p): their
 * count, 0 at the end. */
size_t cache_obj_span(const struct cache_obj *o, uint64_t off, const char **p);
/* The value of the first field named name (case-insensitive) or len 0. */
struct slice cache_obj_field(const struct cache_obj *o, const char *name);

static inline void cache_obj_get(struct cache_obj *o)
{
	atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}
/* Drops a reference; the last frees the object (and uncharges it). */
void cache_obj_put(struct cache_obj *o);

#endif
