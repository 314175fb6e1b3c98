/*
 * pool.h - per-thread fixed-size object pools.
 *
 * Hot objects (sessions, transactions, buffer areas) come from a freelist
 * owned by one worker thread, so allocation on the request path is a
 * pointer pop with no lock.  Freed objects go back to the freelist; at most
 * `max_free` are kept, the rest return to malloc so a burst does not pin
 * memory forever.
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
	uint64_t allocated;   /* live objects, for leak checks at exit */
};

void pool_init(struct pool *p, const char *name, size_t size, uint32_t max_free);

/* Returns an object of p->size bytes (not zeroed), or NULL when out of memory. */
void *pool_get(struct pool *p);

/* Same, zeroed. */
void *pool_zget(struct pool *p);

/* Returns obj (may be NULL) to the pool. */
void pool_put(struct pool *p, void *obj);

/* Frees every cached object (at thread exit). */
void pool_flush(struct pool *p);

#endif
