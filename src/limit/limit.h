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
 * Memory: the table holds at most `entries` keys, allocated once (calloc,
 * so pages are only touched as keys arrive).  A full shard reuses its least
 * recently used entry: a flood of distinct keys costs the oldest keys
 * their history (they start again with a full burst), never memory.
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

/*
 * A table for `rate` requests per `per_ns` nanoseconds, `burst` at once
 * (>= 1), holding at most `entries` keys (>= 1).  NULL when out of memory
 * or on a zero argument.  Free with limit_table_free().
 */
struct limit_table *limit_table_new(uint64_t rate, uint64_t per_ns, uint64_t burst,
				    uint64_t entries);
void limit_table_free(struct limit_table *t);

/*
 * One request for key[0..len) at time now_ns (any monotonic clock, the
 * same for every call on t).  Returns true when it may pass (and counts
 * it); false when it is over the limit, with *wait_ns set to the time
 * until a request for this key would pass.  Any thread.
 */
bool limit_take(struct limit_table *t, const void *key, size_t len, uint64_t now_ns,
		uint64_t *wait_ns);

/* Keys currently held (all shards), requests refused so far: for tests and
 * the metrics endpoint to come. */
uint64_t limit_table_keys(struct limit_table *t);
uint64_t limit_table_refused(const struct limit_table *t);
/* The bound on keys held (entries, rounded down to a multiple of shards). */
uint64_t limit_table_capacity(const struct limit_table *t);

/* Now on CLOCK_MONOTONIC, in ns: what the request path passes. */
uint64_t limit_now_ns(void);

/* Seconds to announce for a wait: rounded up, at least 1. */
uint32_t limit_retry_after_s(uint64_t wait_ns);

#endif
