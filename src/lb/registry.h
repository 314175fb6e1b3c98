/*
 * registry.h - process-wide runtime state of backends and servers, kept
 * apart from the configuration and keyed by name.
 *
 * The configuration (config/cfg.h) says what the file says; what traffic
 * and checks have learnt since (health, ejections, EWMA, requests in
 * flight, the live weight, the retry budget) lives here, one entry per
 * backend name and per backend/server name.  A configuration generation
 * finds its state by name, so a reload that keeps a server's name keeps
 * what is known about it, and a server renamed or added starts fresh.
 *
 * Who reads what:
 *   - worker threads: lb_backend_init() looks the entries up once per
 *     thread and caches them in struct backend_rt / server_rt (`sh`); the
 *     request path only follows those pointers, never a lookup;
 *   - the health thread: its own pointers, looked up at health_start();
 *   - main thread: registry_sync() before any of the above, registry_prune()
 *     once no generation uses a name any more, registry_free() at exit.
 *
 * Thread safety: every registry_* function takes the registry's mutex, so
 * any thread may call them, but they are for setup paths (a linear search
 * per call), not for requests.  The state itself is atomics only, read and
 * written lock-free by whoever holds a pointer; a pointer stays valid until
 * registry_prune() drops its name or registry_free() - the caller of those
 * makes sure nothing still holds one.
 */
#ifndef GH_LB_REGISTRY_H
#define GH_LB_REGISTRY_H

#include <stdint.h>

struct cfg;
struct cfg_backend;
struct cfg_server;

/* Times are CLOCK_MONOTONIC ms (loop_clock_ms()). */
enum srv_health { SRV_UP = 0, SRV_DOWN = 1 };

/*
 * One server's state, shared by every worker thread and the health thread.
 * Health checks and outlier detection write it, the balancers and the
 * proxy read it.
 */
struct server_shared {
	_Atomic uint32_t active;            /* requests in flight, all threads */
	_Atomic uint8_t health;             /* enum srv_health (active checks) */
	_Atomic uint8_t admin_drain;        /* no new requests (config `drain`, the API's "drain") */
	_Atomic uint8_t admin_disabled;     /* no requests at all (the API's "disabled"); health
					       checks go on.  The config's `disabled` is in cfg */
	_Atomic uint8_t removed;            /* DELETEd through the API: no new requests, gone
					       from the API's lists once none is in flight, and
					       back (file servers) at the next reload */
	_Atomic int weight;                 /* live weight: the config's at first sight, then
					       whatever changes it (later the API); 0 = no traffic */
	_Atomic uint64_t up_since_ms;       /* last DOWN->UP transition, for slowstart; 0 = since start */
	_Atomic uint64_t ejected_until_ms;  /* outlier ejection: not picked before this */
	_Atomic uint32_t consecutive_errors;/* passive checks */
	_Atomic uint32_t ejections;         /* times ejected, for exponential backoff */
	_Atomic uint64_t ewma_ns;           /* peak-EWMA of response time (balance ewma) */
	_Atomic uint64_t ewma_stamp_ms;     /* last EWMA update */
	_Atomic uint64_t requests;          /* requests sent, all threads */
	_Atomic uint64_t failures;          /* connect failures, timeouts, 5xx */
};

/* A full retry budget: 100 retries' worth, in milli-tokens (proxy/retry.c). */
#define RETRY_BUDGET_CAP_MILLI (100 * 1000)

/* One backend's state, shared by every worker thread. */
struct backend_shared {
	_Atomic int64_t retry_tokens_milli;   /* retry budget (proxy/retry.c) */
};

/*
 * Gives every backend and server of c an entry.  A name already in the
 * registry keeps its entry exactly as it is: health, ejections, EWMA,
 * counts, the retry budget, and also the live weight and the drain flag
 * (the config's `weight` and `drain` only seed a new entry; a reload that
 * changed them in the file does not override what is live).  A new name
 * gets fresh state: UP, not ejected, the config's weight and drain, a full
 * retry budget.  Entries of names c no longer has stay until
 * registry_prune().  Main thread, before workers and the health thread
 * use c.  Returns 0, or -1 on OOM (entries made so far stay).
 */
int registry_sync(const struct cfg *c);

/*
 * Servers added at run time (the API's POST /api/backends/NAME/servers):
 * registry_server_add() gives cs (a server of generation cs->backend == be,
 * its name and address allocated as cfg_parse_addr() does, nothing else)
 * an entry with fresh state, the config's weight, and takes cs over: it is
 * freed with the entry.  Workers of that generation adopt it
 * (lb_backend_sync(), told through their mailbox), in the order added.  A
 * later registry_sync() drops it from the workers' view of any other
 * generation (and logs so); registry_prune() frees it once the generation
 * it was added to is gone, like any name the configuration lost.
 * Returns 0, -ENOENT (no such backend), -ESTALE (be is not of the
 * generation synced last: a reload came in between), -EEXIST (the name is
 * taken, also by a removed server), -ENOSPC (max servers added to this
 * generation of the backend already) or -ENOMEM; cs is the caller's on
 * error.
 */
int registry_server_add(const struct cfg_backend *be, struct cfg_server *cs, int max);

/* The servers added to generation be of a backend (not dropped), in the
 * order added: up to max into cs[] and sh[]; returns how many. */
int registry_added_servers(const struct cfg_backend *be, struct cfg_server **cs,
			   struct server_shared **sh, int max);
/* registry_sync() for a reload at now_ms (loop_clock_ms()): a new server
 * with `slowstart` ramps up from now, as one coming back UP would. */
int registry_sync_reload(const struct cfg *c, uint64_t now_ms);

/* The state of server `server` of backend `backend`, or NULL if the
 * registry has no such entry.  Setup paths only (see above). */
struct server_shared *registry_server(const char *backend, const char *server);

/* The state of backend `backend`, or NULL. */
struct backend_shared *registry_backend(const char *backend);

/*
 * Rate-limit tables (limit/limit.h) live here too, by `limit` name: at
 * registry_sync a generation's `limit NAME` takes the table already kept
 * under NAME when its rate, burst, delay, concurrent and entries are the
 * same (so counters survive a reload), else its own table becomes the one
 * kept.  Each generation holds a reference to its tables, the registry
 * one more to the table of each name.
 *
 * Cache stores (cache/store.h) likewise, by `cache` name: a generation's
 * section takes the store kept under its name when its size and
 * max_object are the same (so a reload keeps what is cached), else its own
 * store becomes the one kept.
 */

/* For a metrics scrape: fn(name, store, arg) for each cache store the
 * registry keeps (the current generation's), under the registry's lock
 * (fn must not call registry_*).  Any thread. */
struct cache_store;
void registry_cache_each(void (*fn)(const char *name, struct cache_store *st, void *arg),
			 void *arg);

/* Drops the entries of every backend and server that `keep` (not NULL)
 * does not name (and the tables of limits and the stores of caches it does
 * not share).  Only once nothing holds their pointers any more: at a
 * reload, after the last stream and worker of the older generations are
 * gone. */
void registry_prune(const struct cfg *keep);

/* Drops every entry (exit, tests).  The registry is empty and usable
 * again afterwards. */
void registry_free(void);

#endif
