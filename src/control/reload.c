/*
 * reload.c - the control thread: reloads and binary upgrades, one at a
 * time, in the order they were asked for (reload.h says what a reload
 * does).
 *
 * Who owns what: this thread holds main's reference to the running
 * generation (`cur`) and one to every older generation still in use
 * (`retired`); it alone changes the workers' generations and listeners
 * (worker_swap, then waits for every worker's acknowledgement, so reading
 * their listener lists in between is safe) and the health thread.  A
 * retired generation is released once its reference is the last one (no
 * session, stream or worker runtime holds it), and once none is left the
 * registry forgets the names the running generation does not have.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "config/cfg.h"
#include "control/reload.h"
#include "control/sdnotify.h"
#include "control/upgrade.h"
#include "core/log.h"
#include "core/loop.h"
#include "health/health.h"
#include "lb/registry.h"
#include "log/access_log.h"
#include "proxy/filter.h"
#include "proxy/offload.h"
#include "proxy/worker.h"

#define RETIRE_CHECK_MS 250

enum req_kind { REQ_RELOAD, REQ_UPGRADE };

struct req {
	struct req *next;
	enum req_kind kind;
	bool waited;         /* a caller waits for it (reload_request): not freed here */
	bool done;
	int rc;
	unsigned gen;
	char *errs;
};

struct retired {
	struct retired *next;
	struct cfg *cfg;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* a request queued, or stop */
	pthread_cond_t done;        /* a waited request is done */
	struct req *head, *tail;
	uint64_t pending;
	bool stop, running;
	pthread_t thread;
	/* the thread's (read by others under lock) */
	struct cfg *cur;
	struct retired *retired;
	int nretired;
	uint64_t ok, error;
	/* the thread's alone */
	const char *file;
	struct worker *ws;
	int nworkers;
	struct health *health;
	bool prune_due;
	bool log_level_fixed;
	struct { void (*fn)(struct cfg *, void *); void *arg; } hooks[8];
	int nhooks;
} R = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER };

/* ---- the workers' acknowledgements ---- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int acks;
} A = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void swap_done(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&A.lock);
	A.acks++;
	pthread_cond_signal(&A.cond);
	pthread_mutex_unlock(&A.lock);
}

/* ---- one reload ---- */

/* Errors of a load, one per line, logged. */
static void log_lines(const char *what, const char *text)
{
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		if (n)
			log_err("%s: %.*s", what, n, p);
		p = nl ? nl + 1 : NULL;
	}
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* What a reload cannot change: logged, and the running value kept so that
 * workers read one consistent set. */
static void keep_process_settings(struct cfg *nc, const struct cfg *oc)
{
	struct cfg_global *n = &nc->global;
	const struct cfg_global *o = &oc->global;
	const char *hint = "needs a restart or `gatehouse -s upgrade`; running value kept";

	if (cfg_workers_effective(nc) != R.nworkers) {
		log_warn("reload: workers changed: %s", hint);
		n->workers = o->workers;
	}
	if (n->bufsize != o->bufsize || n->maxrewrite != o->maxrewrite) {
		log_warn("reload: tune.bufsize / tune.maxrewrite changed: %s", hint);
		n->bufsize = o->bufsize;
		n->maxrewrite = o->maxrewrite;
	}
	if (str_differs(n->user, o->user) || str_differs(n->group, o->group) ||
	    str_differs(n->chroot, o->chroot))
		log_warn("reload: user/group/chroot changed: %s", hint);
	if (n->waf_threads != o->waf_threads || n->waf_queue != o->waf_queue)
		log_warn("reload: waf_threads / waf_queue changed: %s", hint);
	if (str_differs(n->pidfile, o->pidfile))
		log_warn("reload: pidfile changed: applies at the next start; %s is kept",
			 o->pidfile ? o->pidfile : "none");
	n->uid = o->uid;
	n->gid = o->gid;
}

/* Unix socket files of binds the new generation no longer has. */
static void unlink_removed_unix(const struct cfg *oc, const struct cfg *nc)
{
	for (int f = 0; f < oc->nfrontends; f++)
		for (int i = 0; i < oc->frontends[f]->nbinds; i++) {
			const struct cfg_addr *a = &oc->frontends[f]->binds[i];
			if (a->ss.ss_family != AF_UNIX)
				continue;
			bool kept = false;
			for (int g = 0; g < nc->nfrontends && !kept; g++)
				for (int j = 0; j < nc->frontends[g]->nbinds && !kept; j++) {
					const struct cfg_addr *b = &nc->frontends[g]->binds[j];
					kept = b->len == a->len && memcmp(&a->ss, &b->ss, a->len) == 0;
				}
			if (!kept) {
				const char *path = ((const struct sockaddr_un *)&a->ss)->sun_path;
				if (path[0])
					unlink(path);
			}
		}
}

static char *dup_printf(const char *fmt, const char *arg)
{
	char *s = NULL;
	if (asprintf(&s, fmt, arg) < 0)
		return NULL;
	return s;
}

/* Applies one reload; 0 with *gen, or -1 with *errs. */
static int reload_once(unsigned *gen, char **errs)
{
	struct cfg *oc = R.cur;
	char *lerrs = NULL;
	char err[512];
	int n = R.nworkers;

	*errs = NULL;
	struct cfg *nc = cfg_load(R.file, &lerrs);
	if (!nc) {
		log_lines("reload refused", lerrs);
		if (!lerrs || !*lerrs) {
			free(lerrs);
			lerrs = dup_printf("%s: configuration has errors", R.file);
		}
		*errs = lerrs;
		return -1;
	}
	free(lerrs);
	if (nc->warnings && *nc->warnings)
		log_lines("reload", nc->warnings);
	keep_process_settings(nc, oc);

	/* Runtime state by name first: the workers' runtimes look it up. */
	if (registry_sync_reload(nc, loop_clock_ms()) < 0) {
		*errs = strdup("out of memory");
		cfg_free(nc);
		return -1;
	}
	const char *ferr = NULL;
	if (filters_init(nc, &ferr) < 0) {
		*errs = dup_printf("filters: %s", ferr ? ferr : "out of memory");
		cfg_free(nc);
		return -1;
	}
	struct listener_rt **ls = calloc((size_t)n, sizeof(*ls));
	int *nls = calloc((size_t)n, sizeof(*nls));
	struct wgen **gens = calloc((size_t)n, sizeof(*gens));
	struct worker_swap *sw = calloc((size_t)n, sizeof(*sw));
	int built = 0;
	if (!ls || !nls || !gens || !sw) {
		snprintf(err, sizeof(err), "out of memory");
		goto undo;
	}
	for (; built < n; built++) {
		if (worker_listeners_for(&R.ws[built], nc, &ls[built], &nls[built], err,
					 sizeof(err)) < 0)
			goto undo;
		gens[built] = wgen_new(nc);
		if (!gens[built]) {
			worker_listeners_free(&R.ws[built], ls[built], nls[built]);
			snprintf(err, sizeof(err), "out of memory");
			goto undo;
		}
	}
	if (worker_listeners_share(R.ws, n, ls, nls, err, sizeof(err)) < 0)
		goto undo;
	char *alerr = NULL;
	if (access_logs_attach(nc, &alerr) < 0) {
		snprintf(err, sizeof(err), "%s", alerr ? alerr : "access logs: out of memory");
		free(alerr);
		goto undo;
	}
	if (nc->nwafs && !offload_running() &&
	    offload_start(oc->global.waf_threads, (uint32_t)oc->global.waf_queue) < 0)
		log_err("reload: cannot start the WAF threads; WAF inspections answer 503");

	/* Publish: every worker switches, then acknowledges. */
	pthread_mutex_lock(&A.lock);
	A.acks = 0;
	pthread_mutex_unlock(&A.lock);
	for (int i = 0; i < n; i++) {
		sw[i] = (struct worker_swap){ gens[i], ls[i], nls[i], swap_done, NULL };
		while (!worker_swap(&R.ws[i], &sw[i])) {
			struct timespec d = { 0, 1000000 };
			nanosleep(&d, NULL);   /* its mailbox is full: it drains it soon */
		}
	}
	pthread_mutex_lock(&A.lock);
	while (A.acks < n)
		pthread_cond_wait(&A.cond, &A.lock);
	pthread_mutex_unlock(&A.lock);
	unlink_removed_unix(oc, nc);

	/* The health thread follows: a new one on the new generation, then
	 * the old one stops (state is in the registry). */
	struct health *nh = NULL;
	if (health_start(nc, &nh) < 0)
		log_err("reload: health checks could not start on the new configuration");
	health_stop(R.health);
	R.health = nh;

	struct retired *rt = malloc(sizeof(*rt));
	pthread_mutex_lock(&R.lock);
	nc->generation = oc->generation + 1;
	R.cur = nc;
	if (rt) {
		rt->cfg = oc;
		rt->next = R.retired;
		R.retired = rt;
		R.nretired++;
	}
	pthread_mutex_unlock(&R.lock);
	if (!rt) {   /* cannot track it: keep it forever rather than free it under users */
		log_err("reload: out of memory; generation %u is kept until exit", oc->generation);
	}
	free(ls);
	free(nls);
	free(gens);
	free(sw);   /* the workers are done with them: they acknowledged */
	*gen = nc->generation;
	if (!R.log_level_fixed)
		log_level = nc->global.log_level;
	for (int i = 0; i < R.nhooks; i++)
		R.hooks[i].fn(nc, R.hooks[i].arg);
	return 0;

undo:
	for (int i = 0; i < built; i++) {
		worker_listeners_free(&R.ws[i], ls[i], nls[i]);
		wgen_discard(gens[i]);
	}
	free(ls);
	free(nls);
	free(gens);
	free(sw);
	filters_free(nc);
	cfg_put(nc);
	/* The running generation's limit tables are the registry's again;
	 * names only the refused file had go with the next prune. */
	registry_sync(oc);
	pthread_mutex_lock(&R.lock);
	R.prune_due = true;
	pthread_mutex_unlock(&R.lock);
	log_err("reload refused: %s", err);
	*errs = strdup(err);
	return -1;
}

/* Releases retired generations nothing uses any more; prunes the registry
 * once none is left. */
static void retire_check(void)
{
	pthread_mutex_lock(&R.lock);
	struct retired **pp = &R.retired;
	while (*pp) {
		struct retired *r = *pp;
		if (atomic_load(&r->cfg->refs) > 1) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		R.nretired--;
		R.prune_due = true;
		log_info("configuration generation %u released", r->cfg->generation);
		filters_free(r->cfg);
		cfg_put(r->cfg);
		free(r);
	}
	bool prune = R.prune_due && !R.retired;
	struct cfg *cur = R.cur;
	if (prune)
		R.prune_due = false;
	pthread_mutex_unlock(&R.lock);
	if (prune)
		registry_prune(cur);
}

static void run_req(struct req *q)
{
	if (q->kind == REQ_UPGRADE) {
		q->rc = upgrade_start(R.ws, R.nworkers) < 0 ? -1 : 0;
		return;
	}
	sdnotify_reloading();
	log_info("reloading %s", R.file);
	q->rc = reload_once(&q->gen, &q->errs);
	pthread_mutex_lock(&R.lock);
	if (q->rc == 0)
		R.ok++;
	else
		R.error++;
	pthread_mutex_unlock(&R.lock);
	if (q->rc == 0)
		log_info("configuration reloaded (generation %u)", q->gen);
	else
		log_err("configuration reload failed; generation %u keeps serving",
			R.cur->generation);
	char st[64];
	snprintf(st, sizeof(st), "serving generation %u", R.cur->generation);
	sdnotify_ready(st);
}

static void *control_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&R.lock);
	for (;;) {
		while (!R.head && !R.stop) {
			/* Nothing retired and no prune owed (both set only on
			 * this thread): sleep until a request or the stop
			 * rather than tick (issue 15, wakeups). */
			if (!R.retired && !R.prune_due) {
				pthread_cond_wait(&R.cond, &R.lock);
				continue;
			}
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += RETIRE_CHECK_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			int rc = pthread_cond_timedwait(&R.cond, &R.lock, &until);
			if (rc == ETIMEDOUT && (R.retired || R.prune_due)) {
				pthread_mutex_unlock(&R.lock);
				retire_check();
				pthread_mutex_lock(&R.lock);
			}
		}
		if (R.stop && !R.head)
			break;
		struct req *q = R.head;
		R.head = q->next;
		if (!R.head)
			R.tail = NULL;
		pthread_mutex_unlock(&R.lock);
		run_req(q);
		retire_check();
		pthread_mutex_lock(&R.lock);
		R.pending--;
		if (q->waited) {
			q->done = true;
			pthread_cond_broadcast(&R.done);
		} else {
			free(q->errs);
			free(q);
		}
	}
	pthread_mutex_unlock(&R.lock);
	return NULL;
}

/* ---- API ---- */

int reload_start(const char *file, struct cfg *cfg, struct worker *ws, int nworkers,
		 struct health *h)
{
	R.file = file;
	R.cur = cfg;
	if (!cfg->generation)
		cfg->generation = 1;
	R.ws = ws;
	R.nworkers = nworkers;
	R.health = h;
	R.stop = false;
	if (pthread_create(&R.thread, NULL, control_main, NULL) != 0) {
		log_err("cannot start the control thread");
		return -1;
	}
	/* Named, so tools (and tests counting worker threads) tell it apart. */
	pthread_setname_np(R.thread, "gh-control");
	R.running = true;
	return 0;
}

static bool enqueue(struct req *q)
{
	pthread_mutex_lock(&R.lock);
	if (!R.running || R.stop) {
		pthread_mutex_unlock(&R.lock);
		return false;
	}
	q->next = NULL;
	if (R.tail)
		R.tail->next = q;
	else
		R.head = q;
	R.tail = q;
	R.pending++;
	pthread_cond_signal(&R.cond);
	pthread_mutex_unlock(&R.lock);
	return true;
}

static void post(enum req_kind k)
{
	struct req *q = calloc(1, sizeof(*q));
	if (!q) {
		log_err("reload: out of memory; request dropped");
		return;
	}
	q->kind = k;
	if (!enqueue(q))
		free(q);
}

void reload_fix_log_level(void)
{
	R.log_level_fixed = true;
}

void reload_post(void)
{
	post(REQ_RELOAD);
}

void reload_post_upgrade(void)
{
	post(REQ_UPGRADE);
}

int reload_request(unsigned *gen, char **errs)
{
	struct req q = { .kind = REQ_RELOAD, .waited = true };
	*errs = NULL;
	if (!enqueue(&q)) {
		*errs = strdup("the process is stopping");
		return -1;
	}
	pthread_mutex_lock(&R.lock);
	while (!q.done)
		pthread_cond_wait(&R.done, &R.lock);
	pthread_mutex_unlock(&R.lock);
	if (q.rc == 0) {
		*gen = q.gen;
		free(q.errs);
		return 0;
	}
	*errs = q.errs ? q.errs : strdup("reload failed");
	return -1;
}

struct reload_stats reload_stats(void)
{
	struct reload_stats s;
	pthread_mutex_lock(&R.lock);
	s.ok = R.ok;
	s.error = R.error;
	s.generation = R.cur ? R.cur->generation : 0;
	s.pending = R.pending;
	s.live = R.nretired + (R.cur ? 1 : 0);
	pthread_mutex_unlock(&R.lock);
	return s;
}

struct cfg *reload_current(void)
{
	pthread_mutex_lock(&R.lock);
	struct cfg *c = R.cur ? cfg_get(R.cur) : NULL;
	pthread_mutex_unlock(&R.lock);
	return c;
}

void reload_on_apply(void (*fn)(struct cfg *c, void *arg), void *arg)
{
	if (R.nhooks < 8) {
		R.hooks[R.nhooks].fn = fn;
		R.hooks[R.nhooks].arg = arg;
		R.nhooks++;
	}
}

void reload_stop(struct cfg **cfg, struct health **h)
{
	pthread_mutex_lock(&R.lock);
	bool running = R.running;
	R.stop = true;
	/* Requests not started yet are dropped; their waiters are told. */
	while (R.head) {
		struct req *q = R.head;
		R.head = q->next;
		R.pending--;
		if (q->waited) {
			q->rc = -1;
			q->errs = strdup("the process is stopping");
			q->done = true;
		} else {
			free(q);
		}
	}
	R.tail = NULL;
	pthread_cond_broadcast(&R.done);
	pthread_cond_signal(&R.cond);
	pthread_mutex_unlock(&R.lock);
	if (running)
		pthread_join(R.thread, NULL);
	R.running = false;
	*cfg = R.cur;
	*h = R.health;
	R.health = NULL;
}

/* main, after the workers were joined: every generation still retired is
 * released (their sessions are gone). */
void reload_release_all(void)
{
	while (R.retired) {
		struct retired *r = R.retired;
		R.retired = r->next;
		filters_free(r->cfg);
		cfg_put(r->cfg);
		free(r);
	}
	R.nretired = 0;
}
