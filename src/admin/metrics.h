/*
 * metrics.h - gatehouse's counters and what reads them: /metrics
 * (admin_metrics(), Prometheus text format 0.0.4) and, for the runtime API
 * and the dashboard, a summed snapshot per server.
 *
 * Counters are per thread and written only by the thread that owns them
 * (a worker): plain uint64_t in a cache-line-aligned block per thread and
 * per frontend, backend or server, so the request path never takes a lock
 * or an atomic read-modify-write.  A scrape sums the blocks of every
 * thread (relaxed loads: a sum may miss the increments of the last
 * microseconds, never tears a 64-bit word on the platforms we build for).
 *
 * Entries are keyed by name (frontend, backend, backend/server), as the
 * registry's (lb/registry.h), and live until exit: a reload that keeps a
 * name keeps its counters, so counters never go backwards across reloads.
 *
 * Request-level numbers are taken in the transaction's end phase by the
 * metrics filters (admin/flt_metrics.c), from what the stream recorded on
 * its way (struct txn's status, timings, bytes, retries, termination).
 */
#ifndef GH_ADMIN_METRICS_H
#define GH_ADMIN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_frontend;
struct cfg_backend;

/* Latency histogram buckets (seconds): upper bounds of the first
 * MX_LAT_BUCKETS - 1 buckets; the last bucket is +Inf. */
#define MX_LAT_BUCKETS 17
extern const double mx_lat_bounds[MX_LAT_BUCKETS - 1];

/* A latency histogram: bucket[i] counts the observations in
 * (bounds[i-1], bounds[i]] (not cumulative; bucket[MX_LAT_BUCKETS - 1]
 * those above the last bound), sum in microseconds. */
struct mx_hist {
	uint64_t bucket[MX_LAT_BUCKETS];
	uint64_t count;
	uint64_t sum_us;
};

/* One server's numbers, summed over every thread (metrics_server_snapshot). */
struct mx_server_snapshot {
	uint64_t requests;          /* responses from this server (any status) */
	uint64_t status[5];         /* by class: [0] 1xx ... [4] 5xx */
	uint64_t errors_5xx;        /* = status[4] */
	uint64_t failures;          /* requests to it with no response: connect errors,
				       timeouts, resets (no status) */
	uint32_t in_flight;         /* requests in flight now (registry's `active`) */
	struct mx_hist duration;    /* request duration (head decoded -> end) */
	struct mx_hist ttfb;        /* head decoded -> first response byte */
};

/*
 * The numbers of server `server` of backend `backend`, summed over every
 * thread; false (and *out zeroed) if no such server was ever counted nor
 * is in the registry.  Any thread; takes the metrics lock briefly (not for
 * a request path).  Rates are for the caller: take two snapshots.
 */
bool metrics_server_snapshot(const char *backend, const char *server,
			     struct mx_server_snapshot *out);

/* The q-quantile (0 < q < 1) of histogram h in seconds, interpolated
 * linearly inside its bucket as Prometheus's histogram_quantile() does;
 * 0 when h is empty.  For the dashboard's p50 / p99. */
double mx_hist_quantile(const struct mx_hist *h, double q);

/* Drops every entry (exit, tests). */
void metrics_free(void);

/*
 * Counting is on once an admin listener exists (admin_open calls
 * metrics_enable); without one, the metrics filters stay out of the chains
 * and every hook below is one test of a NULL pointer.
 */
void metrics_enable(void);
bool metrics_enabled(void);

/* The filters' registry rows (proxy/filter.c), once per generation:
 * find or make the entries of a frontend, or of a backend and its
 * servers, by name, and set their `mx`; NULL when counting is off. */
const void *metrics_fe_conf(const struct cfg_frontend *fe);
const void *metrics_be_conf(const struct cfg_backend *be);

/* A server made outside a configuration (the runtime API's POST): its
 * entry, found or made by backend and server name, and sv->mx set, so
 * the metrics filters count it like the file's servers.  Any thread. */
struct cfg_server;
void metrics_bind_server(struct cfg_server *sv, const char *backend);

/*
 * Other modules' numbers in the scrape (the reload's
 * gatehouse_config_reloads_total, a cache's hits): fn runs on the admin
 * thread during each scrape, after gatehouse's own families, and writes
 * its families with metrics_family() and metrics_sample().  Register from
 * main before the admin thread starts.  Up to 16.
 */
struct metrics_out;
int metrics_register(void (*fn)(struct metrics_out *o, void *arg), void *arg);
/* `# HELP` and `# TYPE` of a family (type: "counter", "gauge"). */
void metrics_family(struct metrics_out *o, const char *name, const char *type,
		    const char *help);
/* One sample: labels is `a="x",b="y"` (values escaped by the caller; "" for none). */
void metrics_sample(struct metrics_out *o, const char *name, const char *labels, double v);

/* Hooks, on the worker thread that owns the session or stream. */
struct cfg_frontend;
struct cfg_backend;
void metrics_conn_open(const struct cfg_frontend *fe);
void metrics_conn_close(const struct cfg_frontend *fe, bool was_idle);
void metrics_conn_idle(const struct cfg_frontend *fe, bool idle);   /* a change */
void metrics_queue(const struct cfg_backend *be, int delta);
void metrics_h2_stream(const struct cfg_frontend *fe);
void metrics_h2_reset(const struct cfg_frontend *fe);

#endif
