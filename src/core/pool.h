/*
 * pool.h - per-thread fixed-size object pools.
 *
 * Hot objects (sessions, transactions, buffer areas) come from a freelist
 * owned by one worker thread, so allocation on the request path is a
 * pointer pop with no lock.  Freed objects go back to the freelist; at most
 * `max_free` are kept, the rest return to malloc so a burst does not pin
 * memory forever.  Below that bound, pool_trim() gives back what a burst
 * left: the objects that sat unused since the previous trim (the freelist's
 * low-water mark), so a steady load keeps its working set and an idle
 * worker keeps almost nothing (the worker trims every half second while its
 * pools hold spare memory, worker.c).
 */
#ifndef GH_CORE_POOL_H
#define GH_CORE_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool {
	const char *name;
	size_t size;          /* object size */
	void *free;           /* singly linked freelist through the objects */
	uint32_t nfree;
	uint32_t max_free;
	uint32_t low;         /* lowest nfree since the last pool_trim() */
	uint64_t allocated;   /* live objects, for leak checks at exit */
};

void pool_init(struct pool *p, const char *name, size_t size, uint32_t max_free);

/* Returns an object of p->size bytes (not zeroed), or NULL when out of memory. */
void *pool_get(struct pool *p);

/* Same, zeroed. */
void *pool_zget(struct pool *p);

/* Returns obj (may be NULL) to the pool. */
void pool_put(struct pool *p, void *obj);

/* Frees the cached objects that were not needed since the last call (at
 * most nfree - keep of them); returns the bytes freed. */
size_t pool_trim(struct pool *p, uint32_t keep);

/* Bytes held in the freelist. */
static inline size_t pool_spare(const struct pool *p) { return (size_t)p->nfree * p->size; }

/* Frees every cached object (at thread exit). */
void pool_flush(struct pool *p);

#endif
