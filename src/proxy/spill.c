/*
 * spill.c - a chain of pooled buffers (spill.h).  Each node holds one
 * buffer area from the worker's pool, filled at its tail [.., wr) and
 * drained from its head [rd, ..): appends fill the last node before a new
 * one is taken, and a node goes back to the pool as soon as it is drained.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "core/buf.h"
#include "proxy/spill.h"

struct spill_node {
	struct spill_node *next;
	struct buf b;
};

bool spill_add(struct spill *sp, const char *p, uint32_t len)
{
	/* all or nothing: count the nodes needed first */
	struct spill_node *tail = sp->tail;
	uint32_t room = tail ? buf_size - tail->b.wr : 0;
	uint32_t more = len > room ? len - room : 0;
	uint32_t need = (more + buf_size - 1) / buf_size;
	struct spill_node *first = NULL, *last = NULL;

	for (uint32_t i = 0; i < need; i++) {
		struct spill_node *n = calloc(1, sizeof(*n));
		if (!n || !buf_alloc(&n->b)) {
			free(n);
			while (first) {
				struct spill_node *x = first;
				first = x->next;
				buf_release_force(&x->b);
				free(x);
			}
			return false;
		}
		if (last)
			last->next = n;
		else
			first = n;
		last = n;
	}
	if (first) {
		if (tail)
			tail->next = first;
		else
			sp->head = first;
		sp->tail = last;
		sp->nbufs += need;
	}
	for (struct spill_node *n = tail ? tail : first; len; n = n->next) {
		uint32_t r = buf_size - n->b.wr;
		uint32_t k = len < r ? len : r;
		memcpy(n->b.area + n->b.wr, p, k);
		n->b.wr += k;
		n->b.pr = n->b.wr;
		p += k;
		len -= k;
		sp->len += k;
	}
	return true;
}

const char *spill_front(const struct spill *sp, uint32_t *len)
{
	struct spill_node *n = sp->head;
	*len = n ? buf_data_len(&n->b) : 0;
	return n ? buf_out(&n->b) : NULL;
}

void spill_consume(struct spill *sp, uint32_t n)
{
	struct spill_node *h = sp->head;

	if (!h || !n)
		return;
	h->b.rd += n;
	sp->len -= n;
	if (h->b.rd < h->b.wr)
		return;
	sp->head = h->next;
	if (!sp->head)
		sp->tail = NULL;
	sp->nbufs--;
	if (sp->lease) {   /* a borrower may still read it: the lease frees it */
		h->next = sp->lease->kept;
		sp->lease->kept = h;
		return;
	}
	buf_release_force(&h->b);
	free(h);
}

uint64_t spill_copy(const struct spill *sp, uint64_t off, char *dst, uint64_t cap)
{
	uint64_t done = 0;

	for (const struct spill_node *n = sp->head; n && done < cap; n = n->next) {
		uint64_t have = buf_data_len(&n->b);
		if (off >= have) {
			off -= have;
			continue;
		}
		uint64_t k = have - off < cap - done ? have - off : cap - done;
		memcpy(dst + done, buf_out(&n->b) + off, k);
		done += k;
		off = 0;
	}
	return done;
}

void spill_free(struct spill *sp)
{
	struct spill_lease *l = sp->lease;

	if (l) {   /* lent: the buffers go to the lease, which frees them */
		if (sp->tail) {
			sp->tail->next = l->kept;
			l->kept = sp->head;
		}
		l->sp = NULL;
		memset(sp, 0, sizeof(*sp));
		return;
	}
	while (sp->head) {
		struct spill_node *n = sp->head;
		sp->head = n->next;
		buf_release_force(&n->b);
		free(n);
	}
	memset(sp, 0, sizeof(*sp));
}

bool spill_take_out(struct spill *sp, struct buf *b)
{
	uint32_t out = b->area ? buf_out_len(b) : 0;

	if (!out)
		return true;
	if (!spill_add(sp, buf_out(b), out))
		return false;
	buf_consume(b, out);
	buf_release(b);
	return true;
}

int64_t spill_release(struct spill *sp, struct buf *b, uint32_t margin, uint32_t div)
{
	if (b->rd && buf_data_len(b) + margin > buf_size - b->rd)
		buf_compact(b);
	uint32_t used = buf_data_len(b) + margin;
	uint32_t room = (buf_size > used ? buf_size - used : 0) / div;
	uint32_t len;
	const char *p = spill_front(sp, &len);
	uint32_t n = len < room ? len : room;
	if (!n)
		return 0;
	if (!buf_insert_out(b, false, p, n))
		return -1;
	spill_consume(sp, n);
	return n;
}

bool spill_lend(struct spill *sp, struct spill_lease *l)
{
	if (sp->lease)
		return false;
	l->sp = sp;
	l->kept = NULL;
	sp->lease = l;
	return true;
}

void spill_lease_end(struct spill_lease *l)
{
	if (l->sp)
		l->sp->lease = NULL;
	l->sp = NULL;
	while (l->kept) {
		struct spill_node *n = l->kept;
		l->kept = n->next;
		buf_release_force(&n->b);
		free(n);
	}
}

uint32_t spill_runs(const struct spill *sp, uint64_t cap, struct iovec *iov, uint32_t max,
		    uint64_t *got)
{
	uint32_t k = 0;
	uint64_t done = 0;

	for (const struct spill_node *n = sp->head; n && done < cap && k < max; n = n->next) {
		uint64_t have = buf_data_len(&n->b);
		if (!have)
			continue;
		if (have > cap - done)
			have = cap - done;
		iov[k].iov_base = (void *)buf_out(&n->b);
		iov[k++].iov_len = have;
		done += have;
	}
	*got = done;
	return k;
}
