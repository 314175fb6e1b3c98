/*
 * reload.h - hot reload: a new configuration generation for a running
 * process, applied with nothing dropped.
 *
 * Requests come from SIGHUP (`gatehouse -s reload` sends it, finding the
 * pid through `pidfile`), from the admin API (reload_request) and, for a
 * binary upgrade, SIGUSR2.  They queue in arrival order and one thread (the
 * "control" thread, started by reload_start) applies them one after the
 * other: none is merged into another or lost, however fast they come.
 *
 * One reload:
 *   1. load and check the file (the checks of `gatehouse -t`); errors:
 *      refused, logged, counted; the running generation keeps serving
 *   2. registry_sync: servers and limits known by name keep their state
 *      (health, EWMA, ejections, counts, rate-limit counters); new servers
 *      start under their slowstart
 *   3. filter chains, access logs (new files opened), the WAF pool if the
 *      new file is the first with a WAF
 *   4. every worker's listeners under the new file: binds at an address
 *      already listened on keep their sockets, new ones are opened here (a
 *      bind that fails refuses the reload), removed ones are closed by the
 *      workers
 *   5. each worker gets its generation and listeners through its mailbox
 *      (worker_swap) and acknowledges; new sessions and every new request
 *      of a keep-alive connection run under it, requests in flight and
 *      tunnels finish under the one they started with
 *   6. the health thread restarts on the new generation (health state is
 *      in the registry); "configuration reloaded (generation N)"
 * Older generations are released once nothing runs under them any more,
 * and then registry_prune() drops the names no generation has.
 *
 * What a reload does not change (a restart or `gatehouse -s upgrade`
 * does): workers, tune.bufsize, tune.maxrewrite, user/group/chroot,
 * waf_threads/waf_queue, and socket options of a bind that stays
 * (backlog, defer_accept, fastopen, unix@ mode/owner).  A change there is
 * logged as a warning and the running values are kept.
 */
#ifndef GH_CONTROL_RELOAD_H
#define GH_CONTROL_RELOAD_H

#include <stdint.h>

struct cfg;
struct worker;
struct health;

/* main, once the workers and the health thread run: starts the control
 * thread.  cfg is main's reference to the running generation (the thread
 * owns it from now on, reload_stop gives it back); file is re-read at each
 * reload.  0 or -1. */
int reload_start(const char *file, struct cfg *cfg, struct worker *ws, int nworkers,
		 struct health *h);

/* main: `gatehouse -d` fixed the log level; otherwise each reload applies
 * the file's log_level. */
void reload_fix_log_level(void);

/* Any thread: one more reload, queued; returns at once. */
void reload_post(void);

/* Any thread (the admin API): a reload, waited for.  Returns 0 and sets
 * *gen to the new generation's number, or -1 with *errs a malloc'd text
 * (the configuration's errors, one per line; the caller frees it). */
int reload_request(unsigned *gen, char **errs);

/* Any thread: a binary upgrade (upgrade.h), queued behind the reloads. */
void reload_post_upgrade(void);

/* Counters for gatehouse_config_reloads_total{result="ok|error"}, and the
 * running generation's number. */
struct reload_stats {
	uint64_t ok, error;
	unsigned generation;
	uint64_t pending;      /* requests queued, not applied yet */
	int live;              /* generations not released yet, the running one included */
};
struct reload_stats reload_stats(void);

/* The running generation, with a reference the caller drops (cfg_put). */
struct cfg *reload_current(void);

/* fn(c, arg) runs on the control thread after each reload applied, with
 * the new generation (e.g. the admin listener's admin_set_cfg).  Up to 8. */
void reload_on_apply(void (*fn)(struct cfg *c, void *arg), void *arg);

/* main, stopping: waits for the reload under way, stops the thread and
 * hands back the running generation (main's reference) and health thread.
 * Generations still waiting for release are released (the workers have
 * been joined). */
void reload_stop(struct cfg **cfg, struct health **h);

/* main, after the workers were joined and before the registry is freed:
 * the generations still waiting for release are released. */
void reload_release_all(void);

#endif
