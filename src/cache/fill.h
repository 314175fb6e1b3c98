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
 * Waiters are woken by the leader, whichever worker each runs on: a
 * waiter watches the fill with its stream's waker (proxy/stream.h,
 * stream_waker) and every step of the leader (the head, each run of body
 * bytes, the end, a pass, a failure or the leader going away) posts to the
 * wakers of the fill's watchers under the fill's lock.  A waiter stops
 * watching (fill_unwatch) before its state goes, under the same lock, so
 * the leader never posts to a waiter that left.  A waiter keeps a long
 * deadline (FILL_WAIT_SAFETY_MS) only against a lost post (a full
 * mailbox): nothing polls.  A waiter still without a head after its
 * backend's `timeout server` goes to the origin itself (flt_cache.c).
 */
#ifndef GH_CACHE_FILL_H
#define GH_CACHE_FILL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "cache/store.h"

enum fill_state { FILL_HEAD = 0, FILL_BODY, FILL_DONE, FILL_PASS, FILL_FAILED };

#define FILL_WAIT_SAFETY_MS 1000

struct stream_waker;

/* A waiter's place in its fill's list (in the waiter's own state). */
struct fill_watch {
	struct fill_watch *next, **pprev;
	struct stream_waker *k;         /* a reference, dropped by fill_unwatch */
};

struct cache_fill {
	_Atomic uint32_t refs;
	pthread_mutex_t lock;
	uint8_t state;                  /* enum fill_state (lock) */
	struct cache_obj *obj;          /* from FILL_BODY: the object being filled (a reference) */
	uint64_t total;                 /* the body's length, UINT64_MAX if unknown */
	uint64_t hash;
	struct fill_watch *watchers;    /* woken at each step of the leader (lock) */
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
/* A waiter: w (k, a waker reference, set) is woken at each step of the
 * fill until fill_unwatch, which drops the reference (no-op when w is
 * not watching). */
void fill_watch(struct cache_fill *f, struct fill_watch *w);
void fill_unwatch(struct cache_fill *f, struct fill_watch *w);
/* The leader, holding f->lock: more body bytes are there. */
void fill_wake_locked(struct cache_fill *f);

#endif
