/*
 * buf.h - I/O buffers.
 *
 * A buffer is a fixed-size area (tune.bufsize, default 16 KiB) taken from
 * the worker's pool only while it holds bytes: an idle connection holds
 * none.  Three offsets split it:
 *
 *     0 ........ rd ........ pr ........ wr ........ size
 *        (sent)     output      input       free
 *
 *   [rd, pr)  output: analysed bytes ready to be sent to the other side
 *   [pr, wr)  input: received bytes the codec has not analysed yet
 *   [wr, size) free space for the next recv
 *
 * The all-zero struct is a valid empty buffer with no area.
 */
#ifndef GH_CORE_BUF_H
#define GH_CORE_BUF_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

struct buf {
	char *area;      /* NULL when no memory is attached */
	uint32_t rd;
	uint32_t pr;
	uint32_t wr;
};

/* The per-thread buffer size; set once by the worker before any I/O. */
extern __thread uint32_t buf_size;

static inline uint32_t buf_out_len(const struct buf *b) { return b->pr - b->rd; }
static inline uint32_t buf_in_len(const struct buf *b) { return b->wr - b->pr; }
static inline uint32_t buf_data_len(const struct buf *b) { return b->wr - b->rd; }
static inline bool buf_empty(const struct buf *b) { return b->wr == b->rd; }
static inline char *buf_in(const struct buf *b) { return b->area + b->pr; }
static inline char *buf_out(const struct buf *b) { return b->area + b->rd; }

/* Free space at the tail after compaction would be possible. */
static inline uint32_t buf_room(const struct buf *b) { return buf_size - buf_data_len(b); }

/* Attaches an area from the thread pool if none; returns false on OOM. */
bool buf_alloc(struct buf *b);

/* Returns the area to the pool if the buffer is empty (or unconditionally
 * with buf_release_force); offsets are reset. */
void buf_release(struct buf *b);
void buf_release_force(struct buf *b);

/* Moves [rd, wr) to the start of the area so the free tail is maximal. */
void buf_compact(struct buf *b);

/* Marks n input bytes as analysed (moves them to output). */
static inline void buf_advance(struct buf *b, uint32_t n) { b->pr += n; }

/* Drops n sent bytes from the output; resets offsets when it empties. */
static inline void buf_consume(struct buf *b, uint32_t n)
{
	b->rd += n;
	if (b->rd == b->wr)
		b->rd = b->pr = b->wr = 0;
}

/* Replaces `old_len` input bytes at pr by `len` bytes from `src`, moving the
 * rest of the input.  Returns false if it does not fit. */
bool buf_replace_in(struct buf *b, uint32_t old_len, const char *src, uint32_t len);

/* Removes the first n input bytes (a head a codec has taken into a
 * message), moving the rest of the input up to pr. */
void buf_drop_in(struct buf *b, uint32_t n);

/* Inserts len bytes from src as output, at the start of the output
 * (at_start: before output already there, e.g. a request head before body
 * bytes checked ahead of it) or at its end (before the input).  Returns
 * false if they do not fit. */
bool buf_insert_out(struct buf *b, bool at_start, const char *src, uint32_t len);

/* Same, `back` bytes before the end of the output (back <= output length:
 * 0 is the end, buf_out_len() the start). */
bool buf_insert_out_at(struct buf *b, uint32_t back, const char *src, uint32_t len);

/* Per-thread pool of buffer areas. */
void buf_pool_init(uint32_t size);
void buf_pool_flush(void);
/* pool_trim() and pool_spare() of this thread's pool (core/pool.h). */
size_t buf_pool_trim(uint32_t keep);
size_t buf_pool_spare(void);

#endif
