/*
 * offload.c - the offload pool and the per-worker completion lists (see
 * offload.h for the contract).
 *
 * One process-wide FIFO under a mutex feeds the pool threads; a finished
 * job goes to its worker's inbox, and the worker's eventfd (the mailbox's)
 * is written when the inbox goes from empty to not empty, so a burst of
 * completions costs one wakeup.  The worker reads the eventfd before it
 * takes the list (mailbox_take, then offload_take), so a completion that
 * lands in between writes it again.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/log.h"
#include "proxy/offload.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

#define OFFLOAD_MAX_THREADS 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct offload_job *head, *tail;
	uint32_t len, cap;
	bool stop;
	int nthreads;
	pthread_t threads[OFFLOAD_MAX_THREADS];
} g_pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER };

static _Atomic uint64_t g_refused;

static void inbox_put(struct offload_job *j)
{
	struct offload_inbox *ib = &j->w->ob;
	bool was_empty;

	pthread_mutex_lock(&ib->lock);
	j->next = NULL;
	was_empty = !ib->head;
	if (ib->tail)
		ib->tail->next = j;
	else
		ib->head = j;
	ib->tail = j;
	/* The eventfd is written before the lock is let go: once a stopping
	 * worker's offload_quiesce() has taken this job, it may free the
	 * worker (and close the eventfd) at once, so nothing of it may be
	 * touched after the unlock. */
	if (was_empty) {
		uint64_t one = 1;
		ssize_t r;
		do
			r = write(ib->efd, &one, sizeof(one));
		while (r < 0 && errno == EINTR);
	}
	pthread_cond_broadcast(&ib->cv);   /* offload_quiesce() may wait */
	pthread_mutex_unlock(&ib->lock);
}

static void *pool_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&g_pool.lock);
		while (!g_pool.head && !g_pool.stop)
			pthread_cond_wait(&g_pool.more, &g_pool.lock);
		struct offload_job *j = g_pool.head;
		if (!j) {   /* stopping, and nothing left */
			pthread_mutex_unlock(&g_pool.lock);
			return NULL;
		}
		g_pool.head = j->next;
		if (!g_pool.head)
			g_pool.tail = NULL;
		g_pool.len--;
		pthread_mutex_unlock(&g_pool.lock);
		if (!atomic_load_explicit(&j->cancelled, memory_order_relaxed))
			j->run(j);
		inbox_put(j);
	}
}

int offload_start(int nthreads, uint32_t queue_cap)
{
	if (g_pool.nthreads)
		return 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > OFFLOAD_MAX_THREADS)
		nthreads = OFFLOAD_MAX_THREADS;
	g_pool.cap = queue_cap ? queue_cap : 1;
	g_pool.stop = false;
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&g_pool.threads[i], NULL, pool_main, NULL) != 0) {
			log_err("offload: cannot start thread %d", i);
			offload_stop();
			return -1;
		}
		g_pool.nthreads = i + 1;
	}
	return 0;
}

void offload_stop(void)
{
	if (!g_pool.nthreads)
		return;
	pthread_mutex_lock(&g_pool.lock);
	g_pool.stop = true;
	pthread_cond_broadcast(&g_pool.more);
	pthread_mutex_unlock(&g_pool.lock);
	for (int i = 0; i < g_pool.nthreads; i++)
		pthread_join(g_pool.threads[i], NULL);
	g_pool.nthreads = 0;
}

bool offload_running(void)
{
	return g_pool.nthreads > 0;
}

bool offload_submit(struct worker *w, struct offload_job *j)
{
	bool ok = false;

	j->w = w;
	atomic_store_explicit(&j->cancelled, false, memory_order_relaxed);
	j->next = NULL;
	j->submit_us = mono_us();
	pthread_mutex_lock(&w->ob.lock);
	w->ob.inflight++;
	pthread_mutex_unlock(&w->ob.lock);
	pthread_mutex_lock(&g_pool.lock);
	if (g_pool.nthreads && !g_pool.stop && g_pool.len < g_pool.cap) {
		if (g_pool.tail)
			g_pool.tail->next = j;
		else
			g_pool.head = j;
		g_pool.tail = j;
		g_pool.len++;
		ok = true;
		pthread_cond_signal(&g_pool.more);
	}
	pthread_mutex_unlock(&g_pool.lock);
	if (!ok) {
		pthread_mutex_lock(&w->ob.lock);
		w->ob.inflight--;
		pthread_mutex_unlock(&w->ob.lock);
		atomic_fetch_add_explicit(&g_refused, 1, memory_order_relaxed);
	}
	j->queued = ok;
	return ok;
}

void offload_cancel(struct offload_job *j)
{
	if (j && j->queued)
		atomic_store_explicit(&j->cancelled, true, memory_order_relaxed);
}

int offload_inbox_init(struct offload_inbox *ib, int efd)
{
	ib->head = ib->tail = NULL;
	ib->inflight = 0;
	ib->efd = efd;
	if (pthread_mutex_init(&ib->lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&ib->cv, NULL) != 0) {
		pthread_mutex_destroy(&ib->lock);
		return -1;
	}
	return 0;
}

void offload_inbox_free(struct offload_inbox *ib)
{
	pthread_cond_destroy(&ib->cv);
	pthread_mutex_destroy(&ib->lock);
}

void offload_take(struct worker *w)
{
	struct offload_inbox *ib = &w->ob;

	pthread_mutex_lock(&ib->lock);
	struct offload_job *j = ib->head;
	uint32_t n = 0;
	for (struct offload_job *k = j; k; k = k->next)
		n++;
	ib->head = ib->tail = NULL;
	ib->inflight -= n;
	pthread_mutex_unlock(&ib->lock);
	while (j) {
		struct offload_job *next = j->next;
		j->next = NULL;
		j->queued = false;
		if (atomic_load_explicit(&j->cancelled, memory_order_relaxed))
			j->free(j);
		else
			j->done(j);
		j = next;
	}
}

void offload_quiesce(struct worker *w)
{
	struct offload_inbox *ib = &w->ob;

	/* Every stream is closed by now, so whatever comes back is cancelled
	 * and only freed. */
	for (;;) {
		pthread_mutex_lock(&ib->lock);
		while (ib->inflight && !ib->head)
			pthread_cond_wait(&ib->cv, &ib->lock);
		bool done = !ib->inflight && !ib->head;
		pthread_mutex_unlock(&ib->lock);
		if (done)
			return;
		offload_take(w);
	}
}

uint64_t offload_refused(void)
{
	return atomic_load_explicit(&g_refused, memory_order_relaxed);
}
