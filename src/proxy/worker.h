/*
 * worker.h - a worker thread: one event loop, its own SO_REUSEPORT
 * listeners, its own pools and per-backend balancing state.  Nothing on the
 * request path is shared between workers except a few atomic counters.
 */
#ifndef GH_PROXY_WORKER_H
#define GH_PROXY_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "config/cfg.h"
#include "core/list.h"
#include "core/loop.h"
#include "core/pool.h"
#include "lb/lb.h"
#include "proxy/mailbox.h"
#include "proxy/offload.h"

struct listener_rt {
	struct ev_io io;
	struct worker *w;
	const struct cfg_frontend *fe;   /* of the worker's current generation */
	const struct cfg_addr *addr;
};

/*
 * A worker's runtime of one configuration generation (a reload makes a new
 * one, control/reload.c): the balancing state, idle and HTTP/2 server
 * connections and queues of its backends.  Sessions and streams hold the
 * one they run under (`users`); the worker holds its current one (w->gen).
 * When the last user of an older generation goes, its idle connections are
 * closed and it is freed with its reference to the configuration.
 * Worker thread only (made by wgen_new on any thread before it is handed
 * over).
 */
struct wgen {
	struct cfg *cfg;                  /* a reference */
	struct backend_rt *backends;      /* [cfg->nbackends] */
	uint32_t users;                   /* sessions + streams, + 1 while current */
	struct list link;                 /* in w->gens */
};

/* What a reload hands a worker (worker_swap): the generation that becomes
 * current and the listeners it accepts on from then on.  done(arg) runs on
 * the worker's thread once they are in place. */
struct worker_swap {
	struct wgen *gen;
	struct listener_rt *ls;
	int nls;
	void (*done)(void *arg);
	void *arg;
};

struct worker {
	int id;
	pthread_t thread;
	struct loop loop;
	const struct cfg *cfg;            /* the current generation's (gen->cfg) */
	struct wgen *gen;                 /* current generation: new sessions get it */
	struct list gens;                 /* every generation still in use, current included */
	struct worker_swap *_Atomic swap; /* a reload waiting for MB_RELOAD */
	struct listener_rt *listeners;
	int nlisteners;
	struct list sessions;             /* every live client connection */
	uint32_t nsessions;
	struct pool session_pool, stream_pool, txn_pool, srvconn_pool;
	char *scratch;                    /* bufsize bytes to build heads in */
	int wake_fd;                      /* eventfd of the mailbox */
	struct ev_io wake_io;
	bool stopping;
	struct timer drain_timer;
	struct mailbox mb;                /* other threads' messages; wakes wake_fd */
	struct offload_inbox ob;          /* offloaded jobs back from the pool (offload.h);
					     wakes wake_fd too */
	_Atomic uint8_t *dq_pending;      /* [WORKER_QSLOTS]: an MB_DEQUEUE is on its way */
	struct timer accept_timer;        /* resumes accepting after fd exhaustion */
	struct timer alog_timer;          /* hands over access log lines that wait */
	struct timer trim_timer;          /* gives memory back after a burst (worker.c) */
	uint32_t sess_peak;               /* most sessions since the last malloc_trim */
	size_t trim_freed;                /* bytes the pools freed since then */
	bool accept_paused;
	uint64_t pause_logged_ms;         /* rate limit of the accept failure line */
	uint64_t refused_logged_ms;       /* rate limit of the max_connections line */
	uint32_t refused;                 /* connections refused since that line */
	int exit_code;
};

/* Cross-worker queue wake-ups are indexed by backend index modulo this
 * (an index of any generation: a wrong guess costs one spare wake-up). */
#define WORKER_QSLOTS 1024

/* Process-wide state shared by workers. */
extern atomic_int g_conns;            /* client connections open, all workers */

/* Creates the listeners of every worker first (so a bind error is reported
 * before anything runs), then starts the threads.  Returns 0 or -1. */
int workers_start(const struct cfg *cfg, int nworkers, struct worker **out);

/* workers_start in two halves, so main can drop privileges in between:
 * workers_prepare opens every listener (nothing runs yet), workers_run
 * starts the threads.  workers_discard frees prepared workers that never
 * ran. */
int workers_prepare(const struct cfg *cfg, int nworkers, struct worker **out);
int workers_run(struct worker *ws, int nworkers);
void workers_discard(struct worker *ws, int nworkers);

/* Asks every worker to stop gracefully (stop accepting, drain). */
void workers_stop(struct worker *ws, int n);

/* The same for the old process of a binary upgrade: idle HTTP/1 keep-alive
 * connections stay until their next request, answered with Connection:
 * close, so no client meets a connection closed under its request. */
void workers_drain(struct worker *ws, int n);

/* Waits for every worker to exit; frees them.  Returns 0 if all were clean. */
int workers_join(struct worker *ws, int n);

/* w has (queued) or no longer has requests queued on backend be_index:
 * workers that free a slot of that backend tell it through its mailbox. */
void worker_queue_mark(struct worker *w, int be_index, bool queued);

/* Posts m to every running worker's mailbox; any thread.  Returns how
 * many refused it (a full mailbox: see mailbox_post); 0 when all took it. */
int workers_broadcast(struct mb_msg m);

/* w freed a server slot of backend be_index: wakes the other workers with
 * requests queued there (one message per worker and backend in flight). */
void worker_slot_freed(struct worker *w, int be_index);

/*
 * The pieces workers_start / a worker thread are made of, public so unit
 * tests and fuzz targets can run a worker in their own thread, a loop turn
 * at a time (loop_run_once), with no listener and no thread:
 *   worker_init   loop, pools, eventfd, per-backend state and, if `listen`,
 *                 the SO_REUSEPORT listeners; any thread.  -1 on failure
 *                 (worker_fini still frees what was made).
 *   worker_enter  on the thread that will run the loop: its buffer pool,
 *                 scratch, listeners and eventfd registered.  -1 on failure.
 *   worker_leave  on that thread, after the loop: every stream and server
 *                 connection closed, pools emptied.
 *   worker_fini   frees what worker_init made.
 * The filter chains (filters_init) and shared state (lb_shared_init) of
 * cfg must exist before worker_init.
 */
int worker_init(struct worker *w, int id, const struct cfg *cfg, bool listen);
int worker_enter(struct worker *w);
void worker_leave(struct worker *w);
void worker_fini(struct worker *w);

/* ---- generations (reload, control/reload.c) ---- */

/* A worker's runtime for generation c (a reference is taken); registry_sync(c)
 * and filters_init(c) done.  Any thread.  NULL on OOM. */
struct wgen *wgen_new(struct cfg *c);
/* Frees a wgen that was never handed to a worker. */
void wgen_discard(struct wgen *g);
/* Worker thread: one more / one less user of g; the last user of a
 * generation that is no longer current frees it. */
void wgen_hold(struct wgen *g);
void wgen_drop(struct worker *w, struct wgen *g);

/* Main thread, for a reload: the listeners w would have under c.  A bind
 * whose address w already listens on keeps its socket(s), a new one gets
 * a new socket (a unix@ one is opened for worker 0 only: share it with
 * worker_listeners_share).  Returns 0, or -1 with err filled (nothing is
 * left open).  worker_listeners_free closes the sockets of ls that w does
 * not hold, and frees ls (a reload refused after building them). */
int worker_listeners_for(struct worker *w, const struct cfg *c, struct listener_rt **ls, int *n,
			 char *err, size_t elen);
int worker_listeners_share(struct worker *ws, int nworkers, struct listener_rt **ls,
			   const int *n, char *err, size_t elen);
void worker_listeners_free(struct worker *w, struct listener_rt *ls, int n);

/* Any thread: hands sw to w (MB_RELOAD).  The worker closes the listeners
 * it no longer has, watches the new ones, makes sw->gen current (the
 * previous one stays for its sessions and streams; its idle server
 * connections move to the same servers of the new one), then calls
 * sw->done(sw->arg).  False if w's mailbox refused the message (retry). */
bool worker_swap(struct worker *w, struct worker_swap *sw);

/* Every listening socket of every worker (binary upgrade: handed to the new
 * process): fds[] and their bind texts, at most max.  Main thread, between
 * reloads.  Returns how many. */
int workers_listen_fds(struct worker *ws, int nworkers, int *fds, const char **texts, int max);

/* Called by sessions when they end, so a draining worker can exit. */
void worker_session_closed(struct worker *w);

#endif
