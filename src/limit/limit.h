/*
 * limit.h - rate-limit tables: one per `limit` section, shared by every
 * worker thread, counting requests per key (a client address, an API key:
 * whatever fetch the section names) with GCRA, the "virtual scheduling"
 * form of a token bucket.
 *
 * Semantics: `rate N per P` with `burst B` lets B requests through at once
 * from an idle key, then one every P/N; a request is refused when it would
 * arrive earlier than that schedule allows, and the refusal says how long
 * until one would pass (Retry-After).  Each key keeps one number, its
 * theoretical arrival time (TAT); refusals do not move it.
 *
 * Threads: the table is split into shards (a power of two, up to 64),
 * each with its own mutex, a key's shard chosen by its hash: two workers
 * contend only when their keys share a shard, and every decision for one
 * key is made under one lock, so the count is exact across threads.
 *
 * Delay (`delay D`, nginx's limit_req burst/delay): of the burst B, the
 * first D requests pass at once; the next ones up to B are accepted but
 * held until the schedule reaches them (each one interval after the one
 * before), so what goes on is spaced at the rate; beyond B, refused.  The
 * wait is at most (B - D) intervals.  Without delay (D = B) the whole
 * burst passes at once.
 *
 * Concurrency (`concurrent N`): at most N requests (or connections) of a
 * key in flight.  limit_acquire() takes a place (struct limit_slot) that
 * the caller gives back exactly once with limit_release().  A table may
 * count a rate, a concurrency or both; a request refused by one is not
 * counted by the other.
 *
 * Memory: the table holds at most `entries` keys, allocated once (calloc,
 * so pages are only touched as keys arrive).  A full shard reuses its least
 * recently used entry: a flood of distinct keys costs the oldest keys
 * their history (they start again with a full burst), never memory.  An
 * entry in use (a place taken and not given back) is never reused: it
 * leaves the LRU list while in use.  A shard full of entries in use
 * refuses new keys (LIMIT_FULL, fail closed) rather than forget a count.
 *
 * Counters (limit_table_stats) are kept per shard under its lock, so the
 * request path shares no counter line between threads; reading sums them.
 *
 * Keys are compared by length, a 64-bit seeded hash and their first
 * LIMIT_KEY_INLINE bytes (longer keys that agree on all three share a
 * bucket: a 2^-64 event per pair for a seed the client does not know).
 */
#ifndef GH_LIMIT_LIMIT_H
#define GH_LIMIT_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMIT_KEY_INLINE 64
#define LIMIT_MAX_SHARDS 64

struct limit_table;

/* What a table counts.  rate 0: no rate part (burst and delay unused);
 * concurrent 0: no concurrency part; at least one of them is set. */
struct limit_params {
	uint64_t rate, per_ns;      /* rate requests per per_ns nanoseconds */
	uint64_t burst;             /* requests an idle key may send at once (>= 1) */
	uint64_t delay;             /* of the burst, how many pass at once; the rest
				       wait their turn; 0 or >= burst: none waits */
	uint64_t concurrent;        /* places per key in flight at most */
	uint64_t entries;           /* keys held at most (>= 1) */
};

/* NULL when out of memory or on a bad argument.  Free with
 * limit_table_free() once no slot of it is held any more.  Tables are
 * reference counted (a reload shares one between generations whose
 * `limit` did not change, lb/registry.h): limit_table_ref takes one more,
 * limit_table_free drops one and frees with the last. */
struct limit_table *limit_table_create(const struct limit_params *p);
/* A rate-only table: `rate` per `per_ns` ns, `burst` at once, `entries` keys. */
struct limit_table *limit_table_new(uint64_t rate, uint64_t per_ns, uint64_t burst,
				    uint64_t entries);
void limit_table_free(struct limit_table *t);
struct limit_table *limit_table_ref(struct limit_table *t);
/* Whether t was created with the parameters p. */
bool limit_table_same(const struct limit_table *t, const struct limit_params *p);

enum limit_verdict {
	LIMIT_PASS = 0,          /* go now */
	LIMIT_DELAY,             /* go after *wait_ns (already counted: the slot in the
				    schedule is this request's) */
	LIMIT_OVER_RATE,         /* refused: *wait_ns until one of this key would pass */
	LIMIT_OVER_CONCURRENT,   /* refused: the key has `concurrent` places in use */
	LIMIT_FULL,              /* refused: a new key, and its shard is full of keys in use */
};

/* A place taken in a concurrent table; t NULL = none.  Stable while held:
 * an entry in use never moves or goes. */
struct limit_slot {
	struct limit_table *t;
	uint32_t shard;
	int32_t idx;
};

/*
 * One request (or connection) for key[0..len) at time now_ns (any
 * monotonic clock, the same for every call on t).  See enum limit_verdict;
 * *wait_ns is set for DELAY and OVER_RATE.  When t counts concurrency and
 * the verdict is PASS or DELAY, *slot holds the place, which the caller
 * gives back once with limit_release(); otherwise slot->t is NULL.  Any
 * thread.
 */
enum limit_verdict limit_acquire(struct limit_table *t, const void *key, size_t len,
				 uint64_t now_ns, uint64_t *wait_ns, struct limit_slot *slot);

/* Gives a place back (slot->t NULL: nothing to do) and clears *slot, so a
 * second call is harmless.  Any thread. */
void limit_release(struct limit_slot *slot);

/* The rate part alone (a table without concurrency): true when it may
 * pass, now or after a delay; false with *wait_ns as for OVER_RATE. */
bool limit_take(struct limit_table *t, const void *key, size_t len, uint64_t now_ns,
		uint64_t *wait_ns);

/* For the metrics endpoint to come (issue 12) and tests: summed over the
 * shards, each read under its lock (never on the request path). */
struct limit_stats {
	uint64_t passed;         /* PASS and DELAY verdicts */
	uint64_t delayed;        /* of which DELAY */
	uint64_t refused;        /* OVER_RATE + OVER_CONCURRENT + FULL */
	uint64_t refused_rate, refused_concurrent, refused_full;
	uint64_t keys;           /* keys held now */
	uint64_t in_use;         /* places held now (concurrent tables) */
};
void limit_table_stats(struct limit_table *t, struct limit_stats *out);

/* Keys currently held, requests refused so far (shortcuts of the above). */
uint64_t limit_table_keys(struct limit_table *t);
uint64_t limit_table_refused(const struct limit_table *t);
/* The bound on keys held (entries, rounded down to a multiple of shards). */
uint64_t limit_table_capacity(const struct limit_table *t);
bool limit_table_has_rate(const struct limit_table *t);
bool limit_table_has_concurrent(const struct limit_table *t);

/*
 * Log sampling for refusals: true for at most one call per second per
 * table (the caller then logs one line); *suppressed is the number of
 * refusals since the last line that were not logged.  One relaxed load on
 * the common path; the winner of a second sums the shards.
 */
bool limit_log_sample(struct limit_table *t, uint64_t now_ns, uint64_t *suppressed);

/* Now on CLOCK_MONOTONIC, in ns: what the request path passes. */
uint64_t limit_now_ns(void);

/* Seconds to announce for a wait: rounded up, at least 1. */
uint32_t limit_retry_after_s(uint64_t wait_ns);

#endif
