/*
 * outlier.c - passive health checks (outlier detection): the proxy reports
 * what each live request saw on its server (health_observe), and a server
 * that fails `consecutive_errors` requests in a row is ejected - not picked
 * by any balancer - for a while.  Envoy's outlier detection is the model;
 * HAProxy's "observe layer7" marks a server down instead, which needs an
 * active check to bring it back, while an ejection ends by itself.
 *
 * Where it sits: backend.c (connect failures, resets, timeouts), and
 * http_res.c (the server's status) call health_observe() on worker
 * threads with their struct server_rt, whose cached `sh` pointer is the
 * server's registry entry; lb_server_usable() skips a server until
 * sh->ejected_until_ms; the health thread (outlier_sweep, every 100 ms,
 * with pointers it looked up at start) logs returns and forgets old
 * ejections.
 *
 * ejected_until_ms: 0 = in; in the future = out; in the past = back but
 * not logged yet.  Whoever moves it off a past value logs the return, so
 * it is logged exactly once: the sweep (past -> 0), or a worker ejecting
 * the server again before the sweep came by (past -> future).
 *
 * Everything is process-wide atomics in struct server_shared, so every
 * worker sees the same count and the same ejection.  The one exception is
 * the ejection decision itself: `max_ejected` needs "count the ejected
 * servers, then eject" to be one step, or two threads ejecting two servers
 * at the same instant could both pass the limit.  That step takes a spin
 * flag; it runs once per ejection (rare by definition), never on the path
 * of a request that went well.
 *
 * Backoff: the n-th ejection in a row lasts eject * 2^(n-1), capped at
 * max_eject.  A server that stays in for max_eject after its last
 * ejection ended starts over at `eject` (the sweep resets the count).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/log.h"
#include "core/loop.h"
#include "health/health.h"
#include "lb/lb.h"
#include "lb/registry.h"

static atomic_flag eject_lock = ATOMIC_FLAG_INIT;

const char *health_fmt_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms >= 60000)
		snprintf(buf, len, "%llum%llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms % 60000 / 1000));
	else
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	return buf;
}

uint32_t outlier_eject_ms(const struct cfg_outlier *o, uint32_t ejections)
{
	uint64_t d = o->eject_ms;
	uint32_t cap = o->max_eject_ms > o->eject_ms ? o->max_eject_ms : o->eject_ms;

	for (uint32_t i = 0; i < ejections && d < cap; i++)
		d *= 2;
	return d > cap ? cap : (uint32_t)d;
}

int outlier_ejected_count(const struct backend_rt *be, uint64_t now)
{
	int n = 0;

	for (int i = 0; i < be->nservers; i++) {
		const struct server_shared *sh = be->servers[i].sh;
		if (sh && atomic_load_explicit(&sh->ejected_until_ms, memory_order_relaxed) > now)
			n++;
	}
	return n;
}

int outlier_max_ejected(const struct cfg_backend *be)
{
	return be->nservers * be->outlier.max_ejected_pct / 100;
}

static void log_back(const struct cfg_server *srv, uint32_t ejections)
{
	char dur[32];

	log_info("server %s/%s back from ejection after %s", srv->backend->name, srv->name,
		 health_fmt_ms(outlier_eject_ms(&srv->backend->outlier, ejections ? ejections - 1 : 0),
			       dur, sizeof(dur)));
}

/* Under eject_lock: ejects s unless it is out already or the backend is
 * at max_ejected.  Returns the ejection time, 0 if not ejected; *unlogged
 * is set when the end of the previous ejection was not logged yet. */
static uint32_t outlier_try_eject(struct server_rt *s, uint64_t now, bool *at_max,
				  bool *unlogged)
{
	const struct cfg_backend *be = s->be->cfg;
	const struct cfg_outlier *o = &be->outlier;
	struct server_shared *sh = s->sh;

	uint64_t until = atomic_load_explicit(&sh->ejected_until_ms, memory_order_relaxed);
	if (until > now)
		return 0;
	if (outlier_ejected_count(s->be, now) >= outlier_max_ejected(be)) {
		*at_max = true;
		return 0;
	}
	uint32_t k = atomic_load_explicit(&sh->ejections, memory_order_relaxed);
	uint32_t d = outlier_eject_ms(o, k);
	/* Only the sweep races us here, and only from a past value to 0. */
	while (!atomic_compare_exchange_weak_explicit(&sh->ejected_until_ms, &until, now + d,
						      memory_order_acq_rel, memory_order_relaxed))
		;
	*unlogged = until != 0;
	atomic_store_explicit(&sh->ejections, k + 1, memory_order_relaxed);
	atomic_store_explicit(&sh->consecutive_errors, 0, memory_order_relaxed);
	return d;
}

bool outlier_observe_at(struct server_rt *s, bool ok, const char *why, uint64_t now)
{
	const struct cfg_server *srv = s->cfg;
	struct server_shared *sh = s->sh;

	if (!sh)
		return false;
	if (ok) {
		/* The common case: a load, and a store only to end a streak. */
		if (atomic_load_explicit(&sh->consecutive_errors, memory_order_relaxed))
			atomic_store_explicit(&sh->consecutive_errors, 0, memory_order_relaxed);
		return false;
	}
	atomic_fetch_add_explicit(&sh->failures, 1, memory_order_relaxed);
	const struct cfg_backend *be = s->be->cfg;
	const struct cfg_outlier *o = &be->outlier;
	if (!o->enabled)
		return false;
	/* Errors of requests that were in flight when it was ejected do not
	 * count towards the next ejection. */
	if (atomic_load_explicit(&sh->ejected_until_ms, memory_order_relaxed) > now)
		return false;
	uint32_t n = atomic_fetch_add_explicit(&sh->consecutive_errors, 1, memory_order_relaxed) + 1;
	if (n < (uint32_t)o->consecutive_errors)
		return false;

	bool at_max = false, unlogged = false;
	uint32_t k = atomic_load_explicit(&sh->ejections, memory_order_relaxed);
	while (atomic_flag_test_and_set_explicit(&eject_lock, memory_order_acquire))
		;
	uint32_t d = outlier_try_eject(s, now, &at_max, &unlogged);
	atomic_flag_clear_explicit(&eject_lock, memory_order_release);

	char dur[32];
	if (d) {
		if (unlogged)
			log_back(srv, k);
		log_warn("server %s/%s ejected for %s: %u consecutive errors, last: %s", be->name,
			 srv->name, health_fmt_ms(d, dur, sizeof(dur)), n, why ? why : "error");
		return true;
	}
	/* Once per streak, not on every error past the threshold. */
	if (at_max && n == (uint32_t)o->consecutive_errors)
		log_warn("server %s/%s not ejected: %u consecutive errors, but max_ejected %d%% of "
			 "backend %s is reached",
			 be->name, srv->name, n, o->max_ejected_pct, be->name);
	return false;
}

void health_observe(struct server_rt *s, bool ok, const char *why)
{
	if (!s)
		return;
	outlier_observe_at(s, ok, why, ok ? 0 : loop_clock_ms());
}

void health_observe_status(struct server_rt *s, int status)
{
	if (status < 500) {
		health_observe(s, true, NULL);
		return;
	}
	char why[32];
	snprintf(why, sizeof(why), "status %d", status);
	health_observe(s, false, why);
}

/* Servers of backends with `outlier`: what the sweep watches. */
static int outlier_watch_count(const struct cfg *cfg)
{
	int n = 0;

	for (int b = 0; b < cfg->nbackends; b++)
		if (cfg->backends[b]->outlier.enabled)
			n += cfg->backends[b]->nservers;
	return n;
}

int outlier_watch_init(const struct cfg *cfg, struct outlier_watch **out)
{
	int n = outlier_watch_count(cfg), k = 0;

	*out = NULL;
	if (!n)
		return 0;
	struct outlier_watch *w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return -1;
	for (int b = 0; b < cfg->nbackends; b++) {
		const struct cfg_backend *be = cfg->backends[b];
		for (int i = 0; be->outlier.enabled && i < be->nservers; i++, k++) {
			w[k].srv = be->servers[i];
			w[k].sh = registry_server(be->name, be->servers[i]->name);
			if (!w[k].sh) {
				free(w);
				return -1;
			}
		}
	}
	*out = w;
	return n;
}

/* One server's part of the sweep. */
static void outlier_sweep_one(struct outlier_watch *w, uint64_t now)
{
	const struct cfg_outlier *o = &w->srv->backend->outlier;
	struct server_shared *sh = w->sh;
	uint64_t until = atomic_load_explicit(&sh->ejected_until_ms, memory_order_acquire);
	uint32_t n = atomic_load_explicit(&sh->ejections, memory_order_relaxed);

	if (until && until <= now &&
	    atomic_compare_exchange_strong_explicit(&sh->ejected_until_ms, &until, 0,
						    memory_order_acq_rel, memory_order_relaxed)) {
		w->back_since = until;
		log_back(w->srv, n);
		return;
	}
	/* In since its last return for max_eject: forget the backoff.  A
	 * worker ejecting it meanwhile wins the CAS. */
	if (!until && n && w->back_since && now - w->back_since >= o->max_eject_ms)
		atomic_compare_exchange_strong_explicit(&sh->ejections, &n, 0, memory_order_relaxed,
							memory_order_relaxed);
}

void outlier_sweep(struct outlier_watch *w, int n, uint64_t now)
{
	for (int i = 0; i < n; i++)
		outlier_sweep_one(&w[i], now);
}
