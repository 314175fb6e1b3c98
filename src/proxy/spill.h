/*
 * spill.h - a chain of pooled buffers that holds bytes in order (spill.c).
 *
 * What a stream's own buffer cannot hold while a filter judges a body (a
 * WAF holding a request body up to its body_limit: filter.h, "Holding the
 * body") goes here, buffer by buffer from the worker's pool (tune.bufsize
 * each), and comes back out in the same order.  The bound is the caller's:
 * the chain only grows when spill_add() is called.  The all-zero struct is
 * an empty chain; worker thread only (the pool is the thread's).
 */
#ifndef GH_PROXY_SPILL_H
#define GH_PROXY_SPILL_H

#include <stdbool.h>
#include <stdint.h>

struct spill_node;

struct spill {
	struct spill_node *head, *tail;
	uint64_t len;                   /* bytes held */
	uint32_t nbufs;                 /* buffers taken from the pool */
};

/* Appends len bytes of p; false out of memory (nothing appended then). */
bool spill_add(struct spill *sp, const char *p, uint32_t len);

/* Moves b's output (the decoded bytes the filters saw) to the end of the
 * chain and releases b's storage once it is empty: the holding paths'
 * step.  False out of memory (nothing moved). */
struct buf;
bool spill_take_out(struct spill *sp, struct buf *b);

/* The release step: moves the chain's front run into b's output, as much
 * as b has room for with margin bytes kept free, divided by div (1, or
 * more when a transform may lengthen what it is given).  Returns the bytes
 * moved (0: nothing held, or no room), or -1 when b refused them. */
int64_t spill_release(struct spill *sp, struct buf *b, uint32_t margin, uint32_t div);

/* The first run of held bytes (*len of them, 0 when empty) ... */
const char *spill_front(const struct spill *sp, uint32_t *len);
/* ... and dropping n <= that many from the front. */
void spill_consume(struct spill *sp, uint32_t n);

/* Copies up to cap bytes from offset off of the held bytes to dst (they
 * stay held); returns how many. */
uint64_t spill_copy(const struct spill *sp, uint64_t off, char *dst, uint64_t cap);

/* Gives every buffer back. */
void spill_free(struct spill *sp);

#endif
