/*
 * offload.h - running work off the event loop and waking the stream that
 * waits for it: a small pool of threads with a bounded queue, and a
 * completion list per worker.
 *
 * A filter whose verdict is expensive (the WAF's ModSecurity run; later the
 * cache's disk reads, compression) must not block its worker's loop.  It
 * fills a job that owns copies of everything the work reads (never a
 * pointer into the stream or its buffers), submits it and answers
 * FLT_WAIT.  A pool thread runs job->run(); the job then goes back to the
 * worker that submitted it (its completion list, whose eventfd is the
 * mailbox's), and that worker, on its own thread, calls job->done(): the
 * filter takes the result and calls stream_wake() (or local_reply() first).
 *
 * The stream may be gone by then (the client closed, an HTTP/2 reset): the
 * filter then calls offload_cancel() from its cleanup, on the worker's
 * thread.  A cancelled job is never handed to done(); its completion is
 * dropped and job->free() runs instead, on the worker's thread too; one
 * still waiting in the queue is not even run.  So a job is owned by the
 * pool from submit to completion, and then by whoever done() gives it to
 * (or freed by the seam if cancelled): nothing of the stream is touched
 * from another thread.
 *
 * Threads: offload_start() (main, before workers run) starts `nthreads`;
 * offload_stop() (main, after workers joined) ends them.  A worker about to
 * exit waits for its own jobs still running (worker_leave).
 */
#ifndef GH_PROXY_OFFLOAD_H
#define GH_PROXY_OFFLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct worker;

struct offload_job {
	/* Pool thread: the work.  Reads and writes only the job. */
	void (*run)(struct offload_job *j);
	/* Owning worker's thread: the result is ready and the job was not
	 * cancelled; the job is the callee's from here on. */
	void (*done)(struct offload_job *j);
	/* Owning worker's thread: frees a job cancelled before done(). */
	void (*free)(struct offload_job *j);
	/* Set by the seam. */
	struct worker *w;
	struct offload_job *next;
	/* Set by offload_cancel() on the owner thread; a pool thread that
	 * finds it set before starting skips run() (a job whose stream is
	 * gone is not worth its CPU). */
	_Atomic bool cancelled;
	bool queued;              /* submitted, done() not yet called: owner thread only */
	uint64_t submit_us;       /* mono_us() at submit, for logs */
};

/* Per worker: finished jobs waiting for the owner, and its jobs in flight. */
struct offload_inbox {
	pthread_mutex_t lock;
	pthread_cond_t cv;        /* a job came back (offload_quiesce waits) */
	struct offload_job *head, *tail;
	uint32_t inflight;        /* submitted, not yet back in this inbox */
	int efd;                  /* the worker's mailbox eventfd (not owned) */
};

/* Starts the pool: nthreads threads (1..64), at most queue_cap jobs waiting.
 * 0, or -1 (logged).  A second call is a no-op while it runs. */
int offload_start(int nthreads, uint32_t queue_cap);
void offload_stop(void);
/* The pool runs (a filter can offload) */
bool offload_running(void);

/* Owner thread: queues j for a pool thread.  False when the queue is full
 * or no pool runs: the job was not taken (the caller answers, e.g. 503). */
bool offload_submit(struct worker *w, struct offload_job *j);

/* Owner thread: the stream that waits for j is going away.  j must have
 * been submitted and not yet handed to done(); it is freed by the seam. */
void offload_cancel(struct offload_job *j);

/* Worker (worker.c): set up and tear down its inbox; take what finished
 * (from the mailbox's eventfd handler); before exit, wait until none of its
 * jobs is in flight and free the cancelled ones. */
int offload_inbox_init(struct offload_inbox *ib, int efd);
void offload_inbox_free(struct offload_inbox *ib);
void offload_take(struct worker *w);
void offload_quiesce(struct worker *w);

/* Counters for logs and tests: jobs refused because the queue was full. */
uint64_t offload_refused(void);

#endif
