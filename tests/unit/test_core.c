/*
 * test_core.c - unit tests for the event loop's timer heap, buffers and
 * pools (src/core/).  The loop's clock is driven by hand.
 */
#include <stdlib.h>
#include "unit.h"
#include "core/loop.h"
#include "core/buf.h"
#include "core/pool.h"

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

int main(void)
{
	RUN(timers_fire_in_order);
	RUN(timer_pushed_later_is_rekeyed_lazily);
	RUN(timer_earlier_and_delete);
	RUN(buffer_offsets_and_replace);
	RUN(pool_reuses_and_caps);
	return UNIT_SUMMARY("test_core");
}
