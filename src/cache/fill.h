/*
 * fill.h - request coalescing: one origin fetch per key at a time, its
 * bytes shared with the requests that asked meanwhile.
 *
 * The first miss for a key (the leader) registers a fill; later misses
 * for the same key (waiters) join it instead of going to the origin.  The
 * leader publishes the response: its object (cache_obj, fields and body
 * so far) once the head says it is storable (FILL_BODY), the body as it
 * arrives, then FILL_DONE once stored; or FILL_PASS (not storable: the
 * waiters go to the origin themselves at once) or FILL_FAILED (the fetch
 * failed: waiters not yet answered go to the origin, the ones streaming
 * are cut).  Waiters read the object under the fill's lock up to the
 * published length, from any worker thread.
 *
 * Waiters are not woken by the leader (it may run on another worker): a
 * waiter polls with a 1 ms stream timer (stream_wait_until) while it has
 * nothing to read, which costs a timer per waiter per millisecond of the
 * origin's latency and no lock across threads beyond the fill's.
 */
#ifndef GH_CACHE_FILL_H
#define GH_CACHE_FILL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "cache/store.h"

enum fill_state { FILL_HEAD = 0, FILL_BODY, FILL_DONE, FILL_PASS, FILL_FAILED };

struct cache_fill {
	_Atomic uint32_t refs;
	pthread_mutex_t lock;
	uint8_t state;                  /* enum fill_state (lock) */
	struct cache_obj *obj;          /* from FILL_BODY: the object being filled (a reference) */
	uint64_t total;                 /* the body's length, UINT64_MAX if unknown */
	uint64_t hash;
	struct cache_fill *next;        /* in its table slot */
	uint32_t klen;
	char key[];
};

/* The fill of key: *leader true and a new fill registered, or false and
 * the fill in progress (a reference either way); NULL when memory is
 * short. */
struct cache_fill *fill_begin(const char *key, uint32_t klen, bool *leader);
/* The fill in progress for key (a reference), or NULL: joins, never leads. */
struct cache_fill *fill_join(const char *key, uint32_t klen);
/* The leader's verdicts; each but fill_body ends the fill's registration
 * (the next miss starts a new one). */
void fill_body(struct cache_fill *f, struct cache_obj *o, uint64_t total);
void fill_end(struct cache_fill *f, enum fill_state st);
void fill_put(struct cache_fill *f);

#endif
