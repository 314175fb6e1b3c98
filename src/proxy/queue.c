/*
 * queue.c - requests waiting for a server slot under `maxconn`: a FIFO per
 * backend and thread, served in order as slots free up.  A slot freed in
 * this thread kicks the queue after the batch (server_put); one freed in
 * another thread arrives as a mailbox message (worker_slot_freed), so no
 * thread polls.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include "admin/metrics.h"
#include "core/log.h"
#include "filter/cond.h"
#include "health/health.h"
#include "net/tls.h"
#include "proxy/backend.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

/* ---- the queue: requests waiting for a server under its maxconn ---- */

#define QUEUE_MAX 10000        /* per backend and thread */

/* Puts s in be's queue; the first one in tells the other workers (their
 * freed slots then wake us through our mailbox, worker.c). */
static void queue_link(struct stream *s, struct backend_rt *be, bool at_head)
{
	if (at_head)
		list_add_head(&be->queue, &s->qlink);
	else
		list_add_tail(&be->queue, &s->qlink);
	if (be->nqueued++ == 0)
		worker_queue_mark(s->w, be->cfg->index, true);
	s->queued_be = be;
	metrics_queue(be->cfg, 1);
}

int queue_add(struct stream *s, struct backend_rt *be)
{
	if (be->nqueued >= QUEUE_MAX) {
		log_warn("backend %s: queue full (%u requests)", be->cfg->name, be->nqueued);
		reply_or_close(s, 503, "backend queue full");
		return -1;
	}
	queue_link(s, be, false);
	s->queue_start = s->w->loop.now;
	/* A slot freed by another worker between our pick and the mark above
	 * woke nobody: look once more after this batch (unless this is that
	 * look, putting the request back). */
	if (!be->dequeuing)
		queue_kick(be);
	return 1;
}

void backend_unqueue(struct stream *s)
{
	struct backend_rt *be = s->queued_be;
	if (!be)
		return;
	list_del(&s->qlink);
	if (--be->nqueued == 0)
		worker_queue_mark(s->w, be->cfg->index, false);
	s->queued_be = NULL;
	metrics_queue(be->cfg, -1);
}

/* Hands free slots to the oldest waiting requests, in order. */
void backend_dequeue(struct backend_rt *be)
{
	be->dequeuing = true;
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
			queue_link(s, be, true);
			s->queue_start = since;
			break;
		}
		stream_wake(s);
	}
	be->dequeuing = false;
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

