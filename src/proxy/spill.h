/*
 * spill.h - a chain of pooled buffers that holds bytes in order (spill.c).
 *
 * What a stream's own buffer cannot hold while a filter judges a body (a
 * WAF holding a request body up to its body_limit: filter.h, "Holding the
 * body") goes here, buffer by buffer from the worker's pool (tune.bufsize
 * each), and comes back out in the same order.  The bound is the caller's:
 * the chain only grows when spill_add() is called.  The all-zero struct is
 * an empty chain; worker thread only (the pool is the thread's), except
 * that a lent chain's runs may be read from another thread (spill_lend).
 */
#ifndef GH_PROXY_SPILL_H
#define GH_PROXY_SPILL_H

#include <stdbool.h>
#include <stdint.h>

struct spill_node;
struct spill_lease;

struct spill {
	struct spill_node *head, *tail;
	uint64_t len;                   /* bytes held */
	uint32_t nbufs;                 /* buffers taken from the pool */
	struct spill_lease *lease;      /* lent (spill_lend), else NULL */
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

/* Gives every buffer back (while lent: the lease keeps them, below). */
void spill_free(struct spill *sp);

/*
 * Lending the held bytes to another thread, read-only, without a copy (the
 * WAF's ModSecurity run on an offload thread reads a held body where it
 * lies).  Ownership: the chain (and its owner's thread) keeps owning its
 * buffers; the borrower reads only the runs spill_runs() gave it, taken
 * before it was handed the lease.  Held bytes never move: appends write
 * past them (new bytes only), and a buffer that is drained (spill_consume)
 * or dropped (spill_free: the transaction ended, a local reply) while lent
 * is not given back to the pool but parked in the lease, whose end frees
 * it.  So the runs stay valid until spill_lease_end(), which the lender's
 * thread calls once the borrower is done (for an offload job: in its
 * done() or free(), both on the worker's thread, after run() returned).
 * One lease per chain at a time; the lease must not move while lent.
 */
struct spill_lease {
	struct spill *sp;               /* the lender, NULL once it let go */
	struct spill_node *kept;        /* buffers dropped while lent */
};
/* False when sp is lent already (the caller copies instead). */
bool spill_lend(struct spill *sp, struct spill_lease *l);
/* The lender's thread: the borrower is done; what it kept goes back.  A
 * lease never lent (all zero) is a no-op. */
void spill_lease_end(struct spill_lease *l);

/* The first cap held bytes as runs (at most max; each a buffer's held
 * part): returns how many runs, *got the bytes they cover. */
struct iovec;
uint32_t spill_runs(const struct spill *sp, uint64_t cap, struct iovec *iov, uint32_t max,
		    uint64_t *got);

#endif
