/*
 * buf.c - buffer areas from the worker's pool (see buf.h).
 */
#include "core/buf.h"
#include "core/pool.h"

__thread uint32_t buf_size = 16384;
static __thread struct pool buf_pool;

void buf_pool_init(uint32_t size)
{
	buf_size = size;
	/* Keep enough spare areas for a busy second; beyond that, back to malloc. */
	pool_init(&buf_pool, "buffer", size, 1024);
}

void buf_pool_flush(void)
{
	pool_flush(&buf_pool);
}

size_t buf_pool_trim(uint32_t keep)
{
	return pool_trim(&buf_pool, keep);
}

size_t buf_pool_spare(void)
{
	return pool_spare(&buf_pool);
}

bool buf_alloc(struct buf *b)
{
	if (b->area)
		return true;
	b->area = pool_get(&buf_pool);
	b->rd = b->pr = b->wr = 0;
	return b->area != NULL;
}

void buf_release_force(struct buf *b)
{
	if (b->area)
		pool_put(&buf_pool, b->area);
	b->area = NULL;
	b->rd = b->pr = b->wr = 0;
}

void buf_release(struct buf *b)
{
	if (b->area && buf_empty(b))
		buf_release_force(b);
}

void buf_compact(struct buf *b)
{
	if (b->rd == 0)
		return;
	memmove(b->area, b->area + b->rd, b->wr - b->rd);
	b->pr -= b->rd;
	b->wr -= b->rd;
	b->rd = 0;
}

void buf_drop_in(struct buf *b, uint32_t n)
{
	if (b->rd == b->pr) {   /* no output: just skip them */
		b->rd = b->pr = b->pr + n;
		if (b->rd == b->wr)
			b->rd = b->pr = b->wr = 0;
		return;
	}
	memmove(b->area + b->pr, b->area + b->pr + n, b->wr - b->pr - n);
	b->wr -= n;
}

bool buf_insert_out(struct buf *b, bool at_start, const char *src, uint32_t len)
{
	return buf_insert_out_at(b, at_start ? buf_out_len(b) : 0, src, len);
}

bool buf_insert_out_at(struct buf *b, uint32_t back, const char *src, uint32_t len)
{
	if (b->wr + len > buf_size) {
		buf_compact(b);
		if (b->wr + len > buf_size)
			return false;
	}
	uint32_t at = b->pr - back;
	memmove(b->area + at + len, b->area + at, b->wr - at);
	memcpy(b->area + at, src, len);
	b->pr += len;
	b->wr += len;
	return true;
}

bool buf_replace_in(struct buf *b, uint32_t old_len, const char *src, uint32_t len)
{
	uint32_t tail = b->wr - b->pr - old_len;
	if (len > old_len && b->wr + (len - old_len) > buf_size) {
		buf_compact(b);
		if (b->wr + (len - old_len) > buf_size)
			return false;
	}
	char *at = b->area + b->pr;
	memmove(at + len, at + old_len, tail);
	memcpy(at, src, len);
	b->wr = b->pr + len + tail;
	return true;
}
