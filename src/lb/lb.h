/*
 * lb.h - load balancing: a tiny interface, one file per algorithm.
 *
 * Like nginx's upstream modules, an algorithm only supplies "init" and
 * "pick a server"; eligibility (down, disabled, draining, backup) is decided
 * here once, so every algorithm treats it the same way.  State is per
 * worker thread (struct backend_rt lives in the worker), so picking takes no
 * lock.
 */
#ifndef GH_LB_LB_H
#define GH_LB_LB_H

#include <stdbool.h>
#include <stdint.h>
#include "config/cfg.h"
#include "core/list.h"
#include "lb/registry.h"

struct cond_ctx;
struct backend_rt;

/*
 * Process-wide state: struct server_shared / backend_shared (health,
 * ejection, EWMA, requests in flight, the live weight, the retry budget)
 * live in the registry (lb/registry.h), keyed by backend and server name,
 * not in the configuration, so a later generation of the configuration
 * finds them again by name.  Atomics only, never a lock.  Each thread's
 * runtime below caches pointers to them (`sh`), looked up once by
 * lb_backend_init(); nothing on the request path searches the registry.
 */

/* Per-thread runtime of one server. */
struct server_rt {
	const struct cfg_server *cfg;
	struct server_shared *sh; /* process-wide state; NULL only in unit tests
				     that build backends without the registry */
	struct backend_rt *be;
	struct list idle;         /* idle keep-alive connections (struct srvconn) */
	struct list h2conns;      /* `proto h2`: this thread's connections, each
				     carrying many streams (proxy/h2_server.c) */
	uint32_t nidle;
	uint32_t h2_max_streams;  /* `proto h2`: the SETTINGS_MAX_CONCURRENT_STREAMS
				     this thread's last connection heard (0: none
				     yet), guessed for a new one until it hears its own */
	uint32_t active;          /* requests in flight from this thread */
	int64_t cur_weight;       /* smooth weighted round robin */
	uint64_t picked;          /* times chosen (stats, tests) */
};

struct lb_ops {
	const char *name;
	/* Prepares per-thread state; returns 0 or -1. */
	int (*init)(struct backend_rt *be);
	/* Returns a server among the eligible ones, never `avoid` if another
	 * is eligible (retries go elsewhere), or NULL. */
	struct server_rt *(*pick)(struct backend_rt *be, const struct cond_ctx *ctx,
				  const struct server_rt *avoid);
};

struct backend_rt {
	const struct cfg_backend *cfg;
	struct backend_shared *sh;   /* process-wide state (retry budget); NULL as above */
	const struct lb_ops *lb;
	struct server_rt *servers;   /* [cfg->nservers] */
	int nservers;
	struct list queue;           /* streams waiting for a server under maxconn */
	uint32_t nqueued;
	bool kick_pending;           /* a dequeue is deferred to the end of this batch */
	bool dequeuing;              /* backend_dequeue() is running (proxy/queue.c) */
	void *lb_data;               /* the algorithm's per-thread state: one block from its
					init(), freed by lb_backend_free() */
};

/* Sets up be for one worker thread: looks up the registry entries of the
 * backend and its servers (registry_sync() must have run for the proxy;
 * a name without an entry gets sh = NULL).  Returns 0 or -1 on OOM. */
int lb_backend_init(struct backend_rt *be, const struct cfg_backend *cfg);
void lb_backend_free(struct backend_rt *be);

/* Servers the runtime API may add to one backend of a generation (room
 * for them is made by lb_backend_init, so server_rt never moves). */
#define LB_ADDED_MAX 32

/* On be's worker thread, when told that servers changed at run time
 * (mailbox MB_LB_SYNC): adopts the servers added to be's generation since
 * (registry_added_servers, appended after the configuration's) and
 * rebuilds the algorithm's state from the live weights.  Idempotent.
 * Returns 0, or -1 on OOM (nothing changed). */
int lb_backend_sync(struct backend_rt *be);

/* Picks a server for a request (see struct lb_ops). */
struct server_rt *lb_pick(struct backend_rt *be, const struct cond_ctx *ctx,
			  const struct server_rt *avoid);

/* Whether s may take new requests: enabled, live weight above 0, not
 * draining, UP, not ejected. */
bool lb_server_up(const struct server_rt *s);

/* Whether s is under its maxconn (process-wide count). */
bool lb_server_has_room(const struct server_rt *s);

/* What algorithms pick among: up and with room. */
bool lb_server_usable(const struct server_rt *s);

/* Whether any server of be is up (full or not): queue rather than 503. */
bool lb_backend_any_up(const struct backend_rt *be);

/* The weight a balancer should use now: the live weight (sh->weight; the
 * configured one without shared state), ramped up linearly during
 * `slowstart` after the server came back UP (never 0 for a usable server).
 * now_ms is only read when the server has `slowstart`. */
int lb_server_weight(const struct server_rt *s, uint64_t now_ms);

/* Whether the eligible set is the backups (no normal server usable). */
bool lb_use_backups(const struct backend_rt *be);

/*
 * Feeds balance ewma: one response time of s, from the moment the request
 * was sent to the first byte of the response head.  `failed` (connect
 * failure, timeout, no usable response) counts as at least 250 ms, so a
 * server that fails fast does not look like the fastest one.  Updates
 * sh->ewma_ns as a peak-EWMA: a sample above the current value
 * replaces it, a lower one pulls it down with a 10 s time constant.
 * Lock-free (compare-exchange); any worker thread may call it.
 */
void lb_observe(struct server_rt *s, uint64_t rtt_ns, bool failed);

/* Whether s's backend balances on response times, i.e. wants lb_observe()
 * (the proxy skips the clock reads otherwise). */
static inline bool lb_wants_latency(const struct server_rt *s)
{
	return s->be->cfg->balance == LB_EWMA;
}

/* CLOCK_MONOTONIC in ns: the clock of the timestamps whose difference is
 * passed to lb_observe() (the loop clock's ms are too coarse for a LAN). */
uint64_t lb_mono_ns(void);

extern const struct lb_ops lb_roundrobin;   /* roundrobin.c */
extern const struct lb_ops lb_leastconn;    /* leastconn.c */
extern const struct lb_ops lb_random;       /* random.c */
extern const struct lb_ops lb_ewma;         /* ewma.c */
extern const struct lb_ops lb_hash;         /* hash.c */

#endif
