/*
 * mailbox.h - how threads wake a worker: a bounded queue of small messages
 * under a mutex, and the worker's eventfd, written only when the queue goes
 * from empty to not empty (so a burst of messages costs one wakeup).
 *
 * The offload pool (offload.h) writes the same eventfd when a job comes
 * back to the worker; the handler takes both.
 *
 * Users: the main thread asks workers to stop; a worker that frees a server
 * slot tells the workers with requests queued on that backend (instead of
 * them polling); a reload hands a worker its new generation (worker_swap);
 * the admin API asks them to adopt servers it added (workers_broadcast);
 * any thread wakes a parked stream (stream_waker_post, stream.h: a cache
 * fill wakes the requests coalesced on it).
 */
#ifndef GH_PROXY_MAILBOX_H
#define GH_PROXY_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum mb_kind {
	MB_STOP = 1,     /* graceful stop */
	MB_DEQUEUE,      /* arg: index of a backend with a freed server slot */
	MB_LB_SYNC,      /* servers changed at run time (the admin API added one,
			    changed a weight): every backend re-reads the
			    registry (lb_backend_sync) on the worker's thread */
	MB_RELOAD,       /* a new generation and listeners wait in worker.swap */
	MB_WAKE,         /* ptr: a struct stream_waker (stream.h) whose stream to wake */
};

struct mb_msg {
	uint16_t kind;   /* enum mb_kind */
	uint32_t arg;
	void *ptr;       /* MB_WAKE: owns one reference */
};

#define MAILBOX_CAP 1024

struct mailbox {
	pthread_mutex_t lock;
	struct mb_msg ring[MAILBOX_CAP];
	uint32_t head, len;
	uint64_t overflow;   /* posts refused because the ring was full */
	int efd;             /* eventfd the owner polls; owned by the owner */
};

int mailbox_init(struct mailbox *mb, int efd);
void mailbox_free(struct mailbox *mb);

/* Any thread.  False (counted) when the ring is full: the message kinds
 * are idempotent wake-ups, so a dropped one only delays until the next. */
bool mailbox_post(struct mailbox *mb, struct mb_msg m);

/* Owner thread: reads the eventfd and takes up to max messages. */
uint32_t mailbox_take(struct mailbox *mb, struct mb_msg *out, uint32_t max);

#endif
