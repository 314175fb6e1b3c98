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
	const struct cfg_frontend *fe;
	const struct cfg_addr *addr;
};

struct worker {
	int id;
	pthread_t thread;
	struct loop loop;
	const struct cfg *cfg;
	struct listener_rt *listeners;
	int nlisteners;
	struct backend_rt *backends;      /* [cfg->nbackends] */
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
	_Atomic uint8_t *dq_pending;      /* [nbackends]: an MB_DEQUEUE is on its way */
	struct timer accept_timer;        /* resumes accepting after fd exhaustion */
	struct timer alog_timer;          /* hands over access log lines that wait */
	bool accept_paused;
	uint64_t pause_logged_ms;         /* rate limit of the accept failure line */
	uint64_t refused_logged_ms;       /* rate limit of the max_connections line */
	uint32_t refused;                 /* connections refused since that line */
	int exit_code;
};

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

/* Waits for every worker to exit; frees them.  Returns 0 if all were clean. */
int workers_join(struct worker *ws, int n);

/* w has (queued) or no longer has requests queued on backend be_index:
 * workers that free a slot of that backend tell it through its mailbox. */
void worker_queue_mark(struct worker *w, int be_index, bool queued);

/* Posts m to every running worker's mailbox; any thread.  Returns how
 * many took it (a full mailbox refuses: see mailbox_post). */
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

/* Called by sessions when they end, so a draining worker can exit. */
void worker_session_closed(struct worker *w);

#endif
