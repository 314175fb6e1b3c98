/*
 * queue.c - requests waiting for a server slot under `maxconn`: a FIFO per
 * backend and thread, served in order as slots free up (server_put kicks
 * it; slots freed by other threads are seen by polling, worker.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include "core/log.h"
#include "filter/cond.h"
#include "health/health.h"
#include "net/tls.h"
#include "proxy/backend.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

/* ---- the queue: requests waiting for a server under its maxconn ---- */

#define QUEUE_MAX 10000        /* per backend and thread */
#define QUEUE_POLL_MS 5        /* slots freed by other threads are seen this late */

int queue_add(struct stream *s, struct backend_rt *be)
{
	if (be->nqueued >= QUEUE_MAX) {
		log_warn("backend %s: queue full (%u requests)", be->cfg->name, be->nqueued);
		reply_or_close(s, 503, "backend queue full");
		return -1;
	}
	list_add_tail(&be->queue, &s->qlink);
	be->nqueued++;
	s->queued_be = be;
	s->queue_start = s->w->loop.now;
	worker_queue_poll(s->w, QUEUE_POLL_MS);
	return 1;
}

void backend_unqueue(struct stream *s)
{
	if (!s->queued_be)
		return;
	list_del(&s->qlink);
	s->queued_be->nqueued--;
	s->queued_be = NULL;
}

/* Hands free slots to the oldest waiting requests, in order. */
void backend_dequeue(struct backend_rt *be)
{
	while (be->nqueued) {
		struct stream *s = container_of(be->queue.next, struct stream, qlink);
		uint64_t since = s->queue_start;
		backend_unqueue(s);
		int r = backend_assign(s, be, NULL);
		if (r == 1) {
			/* Still no room: back to the head of the line, keeping its
			 * place in time too (timeout queue counts from the first
			 * time it queued). */
			backend_unqueue(s);
			list_add_head(&be->queue, &s->qlink);
			be->nqueued++;
			s->queued_be = be;
			s->queue_start = since;
			return;
		}
		stream_wake(s);
	}
}

static void queue_kick_deferred(void *arg)
{
	struct backend_rt *be = arg;
	be->kick_pending = false;
	backend_dequeue(be);
}

void queue_kick(struct backend_rt *be)
{
	if (be->kick_pending || !be->nqueued)
		return;
	struct stream *s = container_of(be->queue.next, struct stream, qlink);
	be->kick_pending = true;
	loop_defer(&s->w->loop, queue_kick_deferred, be);
}

