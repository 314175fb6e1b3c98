/*
 * metrics_int.h - what metrics.c (entries, threads' blocks, the scrape)
 * and flt_metrics.c (the end-phase filters that count requests) share.
 * Nothing outside src/admin/ includes this.
 *
 * Each entry (a frontend, a backend or a server, by name) has one block of
 * counters per thread slot, made by that thread the first time it counts
 * there.  Only the owner thread writes a block: every field is an
 * _Atomic uint64_t written with a relaxed load and store (MX_ADD: a plain
 * add on x86-64 and arm64, no lock prefix, no shared cache line between
 * threads: blocks are 64-byte aligned), read with relaxed loads by the
 * scrape.
 */
#ifndef GH_ADMIN_METRICS_INT_H
#define GH_ADMIN_METRICS_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include "admin/metrics.h"

#define MX_THREADS 256       /* thread slots; a thread's slot is reused after it ends */
#define MX_CLASSES 6         /* status classes: [0] none (no response), [1] 1xx .. [5] 5xx */
#define MX_TERMS   32        /* enum strm_term values counted */

typedef _Atomic uint64_t mx_ctr;

#define MX_ADD(c, n) \
	atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (uint64_t)(n), \
			      memory_order_relaxed)
#define MX_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

struct mx_hist_w {
	mx_ctr bucket[MX_LAT_BUCKETS];
	mx_ctr count;
	mx_ctr sum_us;
};

struct mx_fe_w {
	mx_ctr req[MX_CLASSES];
	mx_ctr conns;                /* accepted */
	mx_ctr open, idle;           /* gauges: +1/-1 (as uint64_t, summed modulo 2^64) */
	mx_ctr bytes_in, bytes_out;
	mx_ctr term[MX_TERMS];
	mx_ctr h2_streams, h2_resets;
} __attribute__((aligned(64)));

struct mx_be_w {
	mx_ctr req[MX_CLASSES];
	mx_ctr retries;
	mx_ctr bytes_in, bytes_out;
	mx_ctr queued;               /* gauge */
	struct mx_hist_w dur, ttfb;
} __attribute__((aligned(64)));

struct mx_srv_w {
	mx_ctr req[MX_CLASSES];
	struct mx_hist_w dur, ttfb;
} __attribute__((aligned(64)));

enum mx_kind { MX_FE = 0, MX_BE, MX_SRV };

struct mx_ent {
	struct mx_ent *next;
	enum mx_kind kind;
	char *name;                  /* frontend, backend, or the server's name */
	char *be_name;               /* MX_SRV: its backend's name */
	_Atomic(void *) w[MX_THREADS];
};

/* This thread's block of e (made on first use), or NULL (out of memory,
 * or more than MX_THREADS threads at once). */
void *mx_blk(struct mx_ent *e);

/* Counts one observation of `us` microseconds in h. */
void mx_observe(struct mx_hist_w *h, uint64_t us);

#endif
