/*
 * health.h - is a server fit for traffic?  Two independent opinions, both
 * written into the server's process-wide state (struct server_shared in the
 * registry, lb/registry.h) that the balancers read through
 * lb_server_usable():
 *
 *  - active checks (health.c): `health tcp|http|grpc ...` in a backend.
 *    One health thread runs every check on its own event loop: non-blocking
 *    connects, one timer per server from the loop's heap, never a thread
 *    per server and never anything on a worker's loop.  HTTP/2 and gRPC
 *    checks speak through an nghttp2 session of their own (health_h2.c).  A server goes DOWN
 *    after `fall` consecutive failed checks and UP after `rise` consecutive
 *    good ones (shared->health, shared->up_since_ms for slowstart).
 *    Servers start UP, as in HAProxy: a fresh start does not wait `rise`
 *    checks before taking traffic (retries cover a dead one meanwhile).
 *
 *  - passive checks (outlier.c): `outlier ...` in a backend.  Workers
 *    report what live requests saw with health_observe(); `consecutive_errors`
 *    errors in a row (connect failures, timeouts, resets, invalid responses,
 *    5xx) eject the server for `eject`, doubled on each repeat up to
 *    `max_eject`, never more than `max_ejected`% of the backend at once.
 *
 * Every change of state is logged with its reason.
 */
#ifndef GH_HEALTH_HEALTH_H
#define GH_HEALTH_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"

struct health;
struct server_rt;        /* lb/lb.h */
struct backend_rt;       /* lb/lb.h */
struct server_shared;    /* lb/registry.h */

/*
 * Starts the health thread if any backend has `health` or `outlier`
 * (outlier needs it only to log returns from ejection; the return itself
 * needs nobody).  Needs registry_sync(cfg) done: the thread looks up the
 * state of every server it checks or sweeps once, here, and keeps the
 * pointers.  On success returns 0 and sets *out (NULL when no thread was
 * needed); -1 on failure.
 */
int health_start(const struct cfg *cfg, struct health **out);

/* Stops the thread, closes checks in flight, frees everything.  NULL is a
 * no-op. */
void health_stop(struct health *h);

/*
 * What a live request saw on server s (the worker's struct server_rt, whose
 * cached `sh` it writes), from any worker thread (atomics only):
 * ok = a response under 500 (HTTP) or a connect (TCP); otherwise `why`
 * says what went wrong ("connect refused", "status 503", ...).  Counts
 * sh->failures and drives ejection.  Cheap when nothing is wrong: one
 * relaxed load.  NULL s, or s without shared state, is a no-op.
 */
void health_observe(struct server_rt *s, bool ok, const char *why);

/* Same for an HTTP response status from the server (5xx = error). */
void health_observe_status(struct server_rt *s, int status);

/* ---- pure logic, exposed for the unit tests ---------------------------- */

/* Rise/fall: consecutive results of one server's active checks. */
struct health_sm {
	bool down;
	uint16_t ok_run, fail_run;
};

enum health_change { HEALTH_SAME = 0, HEALTH_WENT_DOWN, HEALTH_WENT_UP };

enum health_change health_sm_step(struct health_sm *sm, bool ok, int rise, int fall);

/*
 * Finds the final status line in the start of a check response
 * buf[0..len), skipping interim 1xx heads (a 101 counts as final).
 * Returns 1 with *status set, 0 if more bytes are needed, -1 if it is not
 * HTTP/1.x.  Only the status line is read: a check needs nothing else, and
 * the connection is closed right after.
 */
int health_parse_status(const char *buf, size_t len, int *status);

/* Ejection time after `ejections` earlier ones: eject * 2^n, capped. */
uint32_t outlier_eject_ms(const struct cfg_outlier *o, uint32_t ejections);

/* health_observe() with an explicit clock; returns true if it ejected s. */
bool outlier_observe_at(struct server_rt *s, bool ok, const char *why, uint64_t now);

/* Servers of be (any thread's runtime of the backend) ejected at `now`. */
int outlier_ejected_count(const struct backend_rt *be, uint64_t now);

/* How many servers of be may be out at once (max_ejected%, rounded down). */
int outlier_max_ejected(const struct cfg_backend *be);

/* What the sweep keeps per server of a backend with `outlier`. */
struct outlier_watch {
	const struct cfg_server *srv;
	struct server_shared *sh;      /* looked up once, by outlier_watch_init() */
	uint64_t back_since;           /* when its last ejection ended; 0 = not since start */
};

/*
 * One watch per server of every backend of cfg with `outlier`, in order,
 * their state looked up in the registry.  Returns how many (0 with *out
 * NULL when no backend has `outlier`), or -1 on OOM or a server the
 * registry does not know (registry_sync() not run).  The caller frees *out.
 */
int outlier_watch_init(const struct cfg *cfg, struct outlier_watch **out);

/*
 * Logs "back from ejection" for ejections that ended by `now` (unless a
 * worker ejected the server again first and logged it), and resets the
 * backoff of servers back for max_eject.  The health thread calls this
 * every 100 ms with its watches (outlier_watch_init()).
 */
void outlier_sweep(struct outlier_watch *w, int n, uint64_t now);

/* "30s" / "250ms" / "1m30s" for log lines. */
const char *health_fmt_ms(uint64_t ms, char *buf, size_t len);

#endif
