/*
 * loop.h - the per-thread event loop: epoll (edge-triggered) plus timers.
 *
 * Each worker thread owns one loop; nothing in it is shared, so the request
 * path takes no lock.  Sockets are registered once for EPOLLIN|EPOLLOUT|
 * EPOLLRDHUP with EPOLLET and never modified again (nginx's approach): the
 * owner tracks readiness itself and only waits when a call returned EAGAIN.
 *
 * Timers live in a binary min-heap (O(log n) insert/delete).  Pushing a
 * deadline later - what every read or write does to an idle timeout - is
 * O(1): the new deadline is stored and the heap entry is re-keyed lazily
 * when it surfaces.
 *
 * There is no periodic tick: with no timer armed and no defer pending the
 * loop sleeps in epoll_wait until a descriptor is ready, so an idle thread
 * is never woken.  Whatever another thread wants from a loop comes through
 * a descriptor (the worker's mailbox eventfd), never through a flag the
 * loop would poll.
 *
 * Objects whose events may still sit in the current epoll batch are freed
 * through loop_defer(), after the batch, so a stale event never reaches
 * reused memory.
 */
#ifndef GH_CORE_LOOP_H
#define GH_CORE_LOOP_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/epoll.h>

struct ev_io;
typedef void (*ev_io_cb)(struct ev_io *io, uint32_t events);

struct ev_io {
	int fd;
	ev_io_cb cb;    /* NULL once closed: pending events for it are dropped */
};

struct timer;
typedef void (*timer_cb)(struct timer *t);

struct timer {
	uint64_t when;   /* wanted deadline (ms, loop clock); 0 = not armed */
	uint64_t key;    /* deadline the heap is ordered by (<= when) */
	int32_t idx;     /* position in the heap, -1 if not in it */
	timer_cb cb;
};

struct defer {
	void (*fn)(void *arg);
	void *arg;
};

struct loop {
	int epfd;
	uint64_t now;            /* ms, CLOCK_MONOTONIC, refreshed after each wait */
	struct timer **heap;
	uint32_t nheap, capheap;
	struct defer *defers;
	uint32_t ndefers, capdefers;
	bool quit;
	void (*on_iter)(struct loop *l, void *arg);   /* after each batch */
	void *on_iter_arg;
	/* Before each wait, ahead of the timeout's computation (net/uring.c:
	 * submits the sends batched during the turn, reaps completions). */
	void (*before_wait)(struct loop *l, void *arg);
	void *before_wait_arg;
	/* After a wait that returned events, before their callbacks run
	 * (net/uring.c: reads the connections that became readable, all in
	 * one io_uring_enter).  Shares before_wait_arg. */
	void (*before_dispatch)(struct loop *l, void *arg, struct epoll_event *evs, int n);
};

int loop_init(struct loop *l);
void loop_free(struct loop *l);

/* Registers io->fd (edge-triggered, in+out+rdhup). */
int loop_add(struct loop *l, struct ev_io *io);
int loop_add_events(struct loop *l, struct ev_io *io, uint32_t events);
/* Changes the events a registered io waits for (0: none, kept registered). */
int loop_mod_events(struct loop *l, struct ev_io *io, uint32_t events);

/* Unregisters and forgets io (the caller closes the fd). */
void loop_del(struct loop *l, struct ev_io *io);

/* For an fd the caller closes right away (and never dup()ed): close()
 * takes it out of the epoll set by itself, so this skips the epoll_ctl
 * call and only keeps events already fetched in this batch from being
 * delivered.  One syscall less per connection. */
static inline void loop_forget(struct ev_io *io)
{
	io->cb = 0;
}

/* Runs turns until l->quit. */
void loop_run(struct loop *l);

/* One turn: waits for events at most timeout_ms (never past the next timer
 * or pending defer; -1: only those bound the wait, and with neither it
 * waits for an event however long it takes), dispatches them, runs
 * the defers, the due timers, the defers they made and on_iter.  Returns
 * the number of events, or -1 if epoll_wait failed.  loop_run is a loop of
 * these; tests drive a worker's loop a turn at a time with it. */
int loop_run_once(struct loop *l, int timeout_ms);

/* Fires every timer due at l->now (loop_run does this after each batch). */
void loop_run_timers(struct loop *l);

/* Runs fn(arg) after the current batch of events. Returns -1 on OOM. */
int loop_defer(struct loop *l, void (*fn)(void *), void *arg);

uint64_t loop_clock_ms(void);

static inline void timer_init(struct timer *t, timer_cb cb)
{
	t->when = t->key = 0;
	t->idx = -1;
	t->cb = cb;
}

/* Arms (or re-arms) t to fire at `when` (absolute, loop clock ms). */
void timer_set(struct loop *l, struct timer *t, uint64_t when);
void timer_del(struct loop *l, struct timer *t);

#endif
