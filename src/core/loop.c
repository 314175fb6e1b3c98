/*
 * loop.c - epoll loop and timer heap (see loop.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/loop.h"
#include "core/log.h"

#define MAX_EVENTS 256

uint64_t loop_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -1;
	l->now = loop_clock_ms();
	return 0;
}

void loop_free(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->heap);
	free(l->defers);
	l->heap = NULL;
	l->defers = NULL;
}

int loop_add_events(struct loop *l, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

int loop_mod_events(struct loop *l, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

int loop_add(struct loop *l, struct ev_io *io)
{
	return loop_add_events(l, io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

void loop_del(struct loop *l, struct ev_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->cb = NULL;
}

int loop_defer(struct loop *l, void (*fn)(void *), void *arg)
{
	if (l->ndefers == l->capdefers) {
		uint32_t cap = l->capdefers ? l->capdefers * 2 : 64;
		struct defer *d = realloc(l->defers, cap * sizeof(*d));
		if (!d)
			return -1;
		l->defers = d;
		l->capdefers = cap;
	}
	l->defers[l->ndefers++] = (struct defer){ fn, arg };
	return 0;
}

static void run_defers(struct loop *l)
{
	/* A deferred function may defer more; run until the list is empty. */
	for (uint32_t i = 0; i < l->ndefers; i++)
		l->defers[i].fn(l->defers[i].arg);
	l->ndefers = 0;
}

/* ---- timer heap ---- */

static void heap_swap(struct loop *l, uint32_t a, uint32_t b)
{
	struct timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = (int32_t)a;
	l->heap[b]->idx = (int32_t)b;
}

static void heap_up(struct loop *l, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (l->heap[p]->key <= l->heap[i]->key)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct loop *l, uint32_t i)
{
	for (;;) {
		uint32_t c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->key < l->heap[m]->key)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->key < l->heap[m]->key)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *l, struct timer *t)
{
	uint32_t i = (uint32_t)t->idx;
	uint32_t last = --l->nheap;
	if (i != last) {
		l->heap[i] = l->heap[last];
		l->heap[i]->idx = (int32_t)i;
		heap_down(l, i);
		heap_up(l, i);
	}
	t->idx = -1;
}

static int heap_insert(struct loop *l, struct timer *t)
{
	if (l->nheap == l->capheap) {
		uint32_t cap = l->capheap ? l->capheap * 2 : 1024;
		struct timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		l->heap = h;
		l->capheap = cap;
	}
	t->key = t->when;
	t->idx = (int32_t)l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, (uint32_t)t->idx);
	return 0;
}

void timer_set(struct loop *l, struct timer *t, uint64_t when)
{
	if (when == 0)
		when = 1;
	if (t->idx >= 0) {
		if (when >= t->key) {
			/* Later than the heap thinks: fix it up lazily when it surfaces. */
			t->when = when;
			return;
		}
		heap_remove(l, t);
	}
	t->when = when;
	if (heap_insert(l, t) < 0) {
		log_err("out of memory arming a timer");
		t->when = 0;
	}
}

void timer_del(struct loop *l, struct timer *t)
{
	if (t->idx >= 0)
		heap_remove(l, t);
	t->when = 0;
}

void loop_run_timers(struct loop *l)
{
	while (l->nheap && l->heap[0]->key <= l->now) {
		struct timer *t = l->heap[0];
		heap_remove(l, t);
		if (t->when > l->now) {
			heap_insert(l, t);   /* pushed later meanwhile: re-key */
			continue;
		}
		t->when = 0;
		t->cb(t);
	}
}

/*
 * How long epoll_wait may sleep: 0 with defers pending or a timer due,
 * until the earliest timer otherwise, and -1 (no bound) with no timer
 * armed.  There is no periodic tick: everything that must wake a loop
 * either arms a timer or makes one of its descriptors readable (the
 * worker's mailbox eventfd for stops, reloads, stream wakers, dequeues and
 * offload completions), so an idle loop sleeps until something happens
 * (issue 15, wakeups).
 */
static int next_timeout(struct loop *l)
{
	if (l->ndefers)
		return 0;
	if (!l->nheap)
		return -1;
	uint64_t k = l->heap[0]->key;
	if (k <= l->now)
		return 0;
	uint64_t d = k - l->now;
	return d > INT_MAX ? INT_MAX : (int)d;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	if (l->before_wait)
		l->before_wait(l, l->before_wait_arg);
	int t = next_timeout(l);

	if (timeout_ms >= 0 && (t < 0 || timeout_ms < t))
		t = timeout_ms;
	int n = epoll_wait(l->epfd, evs, MAX_EVENTS, t);
	if (n < 0) {
		if (errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		n = 0;
	}
	l->now = loop_clock_ms();
	if (n > 0 && l->before_dispatch)
		l->before_dispatch(l, l->before_wait_arg, evs, n);
	for (int i = 0; i < n; i++) {
		struct ev_io *io = evs[i].data.ptr;
		if (io->cb)
			io->cb(io, evs[i].events);
	}
	run_defers(l);
	loop_run_timers(l);
	run_defers(l);
	if (l->on_iter)
		l->on_iter(l, l->on_iter_arg);
	return n;
}

void loop_run(struct loop *l)
{
	while (!l->quit)
		if (loop_run_once(l, -1) < 0)
			break;
}
