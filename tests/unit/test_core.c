/*
 * test_core.c - unit tests for the event loop's timer heap, buffers and
 * pools (src/core/).  The loop's clock is driven by hand.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "core/loop.h"
#include "core/buf.h"
#include "core/pool.h"
#include "http/msg.h"
#include "net/conn.h"

static int fired[64];
static int nfired;
static struct timer timers[64];

static void on_timer(struct timer *t)
{
	fired[nfired++] = (int)(t - timers);
}

static void heap_check(struct loop *l)
{
	for (uint32_t i = 1; i < l->nheap; i++)
		CHECK(l->heap[(i - 1) / 2]->key <= l->heap[i]->key);
	for (uint32_t i = 0; i < l->nheap; i++)
		CHECK(l->heap[i]->idx == (int32_t)i);
}

TEST(timers_fire_in_order)
{
	struct loop l;
	CHECK(loop_init(&l) == 0);
	l.now = 1000;
	nfired = 0;
	/* Deadlines in a scrambled order. */
	for (int i = 0; i < 64; i++) {
		timer_init(&timers[i], on_timer);
		timer_set(&l, &timers[i], 2000 + (uint64_t)((i * 37) % 64) * 10);
	}
	heap_check(&l);
	l.now = 5000;
	loop_run_timers(&l);
	CHECK_EQ_INT(nfired, 64);
	for (int i = 1; i < nfired; i++)
		CHECK(timers[fired[i - 1]].key <= timers[fired[i]].key);
	CHECK_EQ_INT(l.nheap, 0);
	loop_free(&l);
}

TEST(timer_pushed_later_is_rekeyed_lazily)
{
	struct loop l;
	CHECK(loop_init(&l) == 0);
	l.now = 0;
	nfired = 0;
	timer_init(&timers[0], on_timer);
	timer_set(&l, &timers[0], 100);
	timer_set(&l, &timers[0], 500);   /* later: O(1), heap key unchanged */
	CHECK_EQ_INT(timers[0].key, 100);
	l.now = 200;
	loop_run_timers(&l);
	CHECK_EQ_INT(nfired, 0);           /* surfaced, re-keyed, not fired */
	CHECK_EQ_INT(timers[0].key, 500);
	l.now = 500;
	loop_run_timers(&l);
	CHECK_EQ_INT(nfired, 1);
	loop_free(&l);
}

TEST(timer_earlier_and_delete)
{
	struct loop l;
	CHECK(loop_init(&l) == 0);
	l.now = 0;
	nfired = 0;
	for (int i = 0; i < 10; i++) {
		timer_init(&timers[i], on_timer);
		timer_set(&l, &timers[i], 1000 + (uint64_t)i);
	}
	timer_set(&l, &timers[9], 10);     /* earlier: moved in the heap */
	heap_check(&l);
	timer_del(&l, &timers[3]);
	timer_del(&l, &timers[3]);         /* twice is harmless */
	heap_check(&l);
	l.now = 10;
	loop_run_timers(&l);
	CHECK_EQ_INT(nfired, 1);
	CHECK_EQ_INT(fired[0], 9);
	l.now = 2000;
	loop_run_timers(&l);
	CHECK_EQ_INT(nfired, 9);           /* 10 armed, one deleted */
	for (int i = 1; i < nfired; i++)
		CHECK(fired[i] != 3);
	loop_free(&l);
}

TEST(buffer_offsets_and_replace)
{
	buf_pool_init(64);
	struct buf b = { 0 };
	CHECK(buf_empty(&b));
	CHECK(buf_alloc(&b));
	memcpy(b.area, "GET / HTTP/1.1\r\n\r\nBODY", 22);
	b.wr = 22;
	CHECK_EQ_INT(buf_in_len(&b), 22);
	/* Replace an 18-byte head by a longer one; the body follows it. */
	const char *nh = "GET / HTTP/1.1\r\nX: y\r\n\r\n";
	CHECK(buf_replace_in(&b, 18, nh, (uint32_t)strlen(nh)));
	CHECK_EQ_INT(b.wr, strlen(nh) + 4);
	CHECK(memcmp(b.area + strlen(nh), "BODY", 4) == 0);
	buf_advance(&b, (uint32_t)strlen(nh));
	CHECK_EQ_INT(buf_out_len(&b), strlen(nh));
	buf_consume(&b, 10);
	buf_compact(&b);
	CHECK_EQ_INT(b.rd, 0);
	CHECK(memcmp(b.area + b.wr - 4, "BODY", 4) == 0);
	/* Growing past the area fails and leaves the buffer intact. */
	char big[80];
	memset(big, 'x', sizeof(big));
	uint32_t wr = b.wr;
	CHECK(!buf_replace_in(&b, 0, big, sizeof(big)));
	CHECK_EQ_INT(b.wr, wr);
	buf_consume(&b, buf_out_len(&b));
	b.pr = b.wr;
	buf_consume(&b, buf_out_len(&b));
	CHECK(buf_empty(&b));
	buf_release(&b);
	CHECK(b.area == NULL);
	buf_pool_flush();
}

TEST(pool_reuses_and_caps)
{
	struct pool p;
	pool_init(&p, "t", 32, 2);
	void *a = pool_get(&p), *b = pool_get(&p), *c = pool_get(&p);
	CHECK(a && b && c);
	CHECK_EQ_INT(p.allocated, 3);
	pool_put(&p, a);
	pool_put(&p, b);
	pool_put(&p, c);          /* over max_free: freed */
	CHECK_EQ_INT(p.nfree, 2);
	void *d = pool_get(&p);
	CHECK(d == b);            /* LIFO: the warmest object first */
	pool_put(&p, d);
	pool_flush(&p);
	CHECK_EQ_INT(p.nfree, 0);
}

/* pool_trim frees what sat unused since the last trim (the freelist's
 * low-water mark), never below `keep`, and nothing a load still takes. */
TEST(pool_trim_frees_only_what_sat_unused)
{
	struct pool p;
	void *o[10];
	pool_init(&p, "t", 64, 100);
	for (int i = 0; i < 10; i++)
		o[i] = pool_get(&p);
	for (int i = 0; i < 10; i++)
		pool_put(&p, o[i]);
	CHECK_EQ_INT(p.nfree, 10);
	/* the burst drained the list (low 0): nothing is known unused yet */
	CHECK_EQ_INT(pool_trim(&p, 2), 0);
	CHECK_EQ_INT(p.nfree, 10);
	/* a steady load takes 3 and gives them back: 7 sat unused; keep 2 */
	for (int i = 0; i < 3; i++)
		o[i] = pool_get(&p);
	for (int i = 0; i < 3; i++)
		pool_put(&p, o[i]);
	CHECK_EQ_INT(pool_trim(&p, 2), 7 * 64);
	CHECK_EQ_INT(p.nfree, 3);
	/* idle: down to keep, then nothing more */
	CHECK_EQ_INT(pool_trim(&p, 2), 64);
	CHECK_EQ_INT(p.nfree, 2);
	CHECK_EQ_INT(pool_trim(&p, 2), 0);
	CHECK_EQ_INT(pool_spare(&p), 2 * 64);
	pool_flush(&p);
	CHECK_EQ_INT(p.nfree, 0);
}

/* A message's field table starts in the message and moves to the heap
 * only past HTTP_HDRS_INLINE fields, up to its hard cap. */
TEST(msg_field_table_grows_past_inline)
{
	struct http_msg m;
	msg_init(&m, 0);
	int added = 0;
	while (msg_hdr_add(&m, (struct slice){ "X-A", 3 }, (struct slice){ "1", 1 }) == 0)
		added++;
	CHECK_EQ_INT(added, HTTP_MAX_HDRS + HTTP_HDRS_ADDED);
	CHECK(m.hdrs != m.hdrs_in);
	CHECK(m.hdrs[added - 1].name.len == 3 && m.hdrs[0].value.len == 1);
	msg_reset(&m);
	CHECK_EQ_INT(msg_hdr_add(&m, (struct slice){ "X-B", 3 }, (struct slice){ "", 0 }), 0);
	msg_free(&m);
	CHECK(m.hdrs == NULL);
	msg_init(&m, 0);
	CHECK_EQ_INT(msg_hdr_add(&m, (struct slice){ "X-C", 3 }, (struct slice){ "", 0 }), 0);
	CHECK(m.hdrs == m.hdrs_in);
	msg_free(&m);
}

/* An idle loop (no timer, no defer) has no periodic tick: one turn with no
 * bound sleeps until its descriptor is ready, here an eventfd written 1.3 s
 * later by another thread (the old loop woke after 1 s with no event). */
static void *write_later(void *arg)
{
	struct timespec d = { 1, 300 * 1000 * 1000 };
	uint64_t one = 1;
	nanosleep(&d, NULL);
	if (write(*(int *)arg, &one, sizeof(one)) != sizeof(one))
		return NULL;
	return NULL;
}

static int woken;
static void on_wake(struct ev_io *io, uint32_t events)
{
	(void)io;
	(void)events;
	woken++;
}

TEST(idle_loop_sleeps_until_an_event)
{
	struct loop l;
	CHECK(loop_init(&l) == 0);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(efd >= 0);
	struct ev_io io = { .fd = efd, .cb = on_wake };
	CHECK(loop_add_events(&l, &io, EPOLLIN) == 0);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, write_later, &efd) == 0);
	woken = 0;
	int n = loop_run_once(&l, -1);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(woken, 1);
	pthread_join(th, NULL);
	/* A bound still applies with no timer armed. */
	uint64_t v;
	CHECK(read(efd, &v, sizeof(v)) == sizeof(v));
	CHECK_EQ_INT(loop_run_once(&l, 20), 0);
	close(efd);
	loop_free(&l);
}

/* conn_sendv (the in-place send of a local reply's body, proxy/local.h):
 * several runs in one call, in order; a full socket takes part of them
 * (SEND_READY cleared), then nothing (0, not an error); the rest resumes. */
TEST(conn_sendv_partial_writes)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	struct conn c;
	conn_init(&c, sv[0], NULL);
	c.flags |= CONN_F_SEND_READY;
	CHECK(conn_can_sendv(&c));
	static char a[100], b[300000];
	memset(a, 'h', sizeof(a));
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (char)i;
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	ssize_t n = conn_sendv(&c, iov, 2);
	CHECK(n > (ssize_t)sizeof(a) && n < (ssize_t)(sizeof(a) + sizeof(b)));
	CHECK(!(c.flags & CONN_F_SEND_READY));
	CHECK_EQ_INT(conn_sendv(&c, iov, 2), 0);   /* EAGAIN: no error */
	CHECK(!(c.flags & CONN_F_ERROR));
	/* the reader gets the runs in order */
	static char got[sizeof(a) + sizeof(b)];
	size_t have = 0, sent = (size_t)n;
	for (int guard = 0; guard < 100000 && have < sizeof(got); guard++) {
		ssize_t r = read(sv[1], got + have, sizeof(got) - have);
		if (r > 0)
			have += (size_t)r;
		if (sent < sizeof(got)) {
			size_t off = sent - sizeof(a);
			struct iovec rest = { b + off, sizeof(b) - off };
			c.flags |= CONN_F_SEND_READY;
			ssize_t w = conn_sendv(&c, &rest, 1);
			CHECK(w >= 0);
			sent += w > 0 ? (size_t)w : 0;
		}
	}
	CHECK_EQ_INT(have, sizeof(got));
	CHECK(memcmp(got, a, sizeof(a)) == 0 && memcmp(got + sizeof(a), b, sizeof(b)) == 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	RUN(conn_sendv_partial_writes);
	RUN(timers_fire_in_order);
	RUN(timer_pushed_later_is_rekeyed_lazily);
	RUN(timer_earlier_and_delete);
	RUN(idle_loop_sleeps_until_an_event);
	RUN(buffer_offsets_and_replace);
	RUN(pool_reuses_and_caps);
	RUN(pool_trim_frees_only_what_sat_unused);
	RUN(msg_field_table_grows_past_inline);
	return UNIT_SUMMARY("test_core");
}
