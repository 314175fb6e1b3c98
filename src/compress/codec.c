/*
 * codec.c - gzip (zlib), brotli and zstd behind one streaming call
 * (compress.h has the settings and why).  Each compressor is fed what the
 * pipeline offers and writes into the room it is given; when the room
 * runs out it keeps the rest inside its own state (zlib's pending buffer,
 * brotli's and zstd's output buffers), which is bounded, so nothing here
 * grows with the body.
 *
 * A compressor's state is a few hundred KiB that glibc maps and unmaps per
 * allocation (the unmapping's TLB shootdowns cost more than compressing a
 * small page), so each thread keeps a few finished zlib and zstd states
 * and resets them for the next response (CZ_KEEP per algorithm, freed when
 * the thread exits).  Brotli 1.0 has no reset: it allocates through us
 * instead, and the thread keeps its large blocks (CZ_BLOCKS, at most
 * CZ_BLOCK_BYTES) for the next instance.
 */
#include <pthread.h>
#include <stdlib.h>
#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>
#include "compress/compress.h"

#define GZIP_LEVEL 1
#define GZIP_WBITS 15
#define GZIP_MEMLEVEL 8
#define BR_QUALITY 4
#define BR_LGWIN 18
#define ZSTD_LEVEL 3
#define ZSTD_WLOG_MAX 19

struct cz_stream {
	enum cz_algo algo;
	int level, wbits, mem;        /* gzip: what deflateInit2 got (a kept state's key) */
	struct cz_stream *next;       /* in the thread's kept list */
	union {
		z_stream z;
		BrotliEncoderState *br;
		ZSTD_CCtx *zs;
	} u;
};

/* The smallest window (log2) holding n bytes, within [lo, hi]. */
static int wbits_for(uint64_t n, int lo, int hi)
{
	int b = lo;
	while (b < hi && ((uint64_t)1 << b) < n)
		b++;
	return b;
}

/* ---- the thread's kept states ---- */

#define CZ_KEEP 4
#define CZ_BLOCKS 16
#define CZ_BLOCK_BYTES (4u << 20)
#define CZ_BLOCK_MIN (32u << 10)   /* smaller blocks are malloc's business */
#define BLK_HDR 16                 /* the block's size, keeping malloc's alignment */

struct cz_keep {
	struct cz_stream *list[CZ_COUNT];
	int n[CZ_COUNT];
	void *blk[CZ_BLOCKS];          /* brotli's freed blocks, BLK_HDR in */
	int nblk;
	size_t blk_bytes;
};

static pthread_key_t keep_key;
static pthread_once_t keep_once = PTHREAD_ONCE_INIT;
static void destroy(struct cz_stream *z);

static void keep_free(void *arg)
{
	struct cz_keep *k = arg;
	for (int a = 0; a < CZ_COUNT; a++)
		while (k->list[a]) {
			struct cz_stream *z = k->list[a];
			k->list[a] = z->next;
			destroy(z);
		}
	for (int i = 0; i < k->nblk; i++)
		free((char *)k->blk[i] - BLK_HDR);
	free(k);
}

static void keep_init(void)
{
	pthread_key_create(&keep_key, keep_free);
}

static struct cz_keep *keep_get(bool create)
{
	pthread_once(&keep_once, keep_init);
	struct cz_keep *k = pthread_getspecific(keep_key);
	if (!k && create && (k = calloc(1, sizeof(*k))) && pthread_setspecific(keep_key, k)) {
		free(k);
		k = NULL;
	}
	return k;
}

/* A kept state of algorithm a (gzip: with these parameters), or NULL. */
static struct cz_stream *keep_take(enum cz_algo a, int level, int wbits, int mem)
{
	struct cz_keep *k = keep_get(false);
	for (struct cz_stream **pz = k ? &k->list[a] : NULL; pz && *pz; pz = &(*pz)->next) {
		struct cz_stream *z = *pz;
		if (a == CZ_GZIP && (z->level != level || z->wbits != wbits || z->mem != mem))
			continue;
		*pz = z->next;
		k->n[a]--;
		z->next = NULL;
		return z;
	}
	return NULL;
}

/* Brotli's allocator: a kept block of the same size, else malloc. */
static void *br_alloc(void *opaque, size_t size)
{
	struct cz_keep *k = keep_get(false);
	(void)opaque;
	for (int i = 0; k && i < k->nblk; i++) {
		char *b = k->blk[i];
		if (*(size_t *)(b - BLK_HDR) == size) {
			k->blk[i] = k->blk[--k->nblk];
			k->blk_bytes -= size;
			return b;
		}
	}
	char *p = malloc(size + BLK_HDR);
	if (!p)
		return NULL;
	*(size_t *)p = size;
	return p + BLK_HDR;
}

static void br_release(void *opaque, void *ptr)
{
	(void)opaque;
	if (!ptr)
		return;
	char *p = (char *)ptr - BLK_HDR;
	size_t size = *(size_t *)p;
	struct cz_keep *k = size >= CZ_BLOCK_MIN ? keep_get(true) : NULL;
	if (k && k->nblk < CZ_BLOCKS && k->blk_bytes + size <= CZ_BLOCK_BYTES) {
		k->blk[k->nblk++] = ptr;
		k->blk_bytes += size;
		return;
	}
	free(p);
}

/* ---- a compressor per response ---- */

struct cz_stream *cz_new(enum cz_algo a, int level, uint64_t hint)
{
	if (a == CZ_GZIP) {
		/* nginx's rule exactly (ngx_http_gzip_filter_memory): a known
		 * small length lowers the window and the hash by one step while
		 * the body is under half the window less zlib's 262-byte
		 * lookahead.  The window holding the body (our earlier rule)
		 * took one step more at 16 KiB: a 14-bit window and memLevel 7
		 * cost more zlib instructions per byte (a smaller hash, longer
		 * chains) and 21 more bytes than nginx on the bench's page */
		int wbits = GZIP_WBITS, mem = GZIP_MEMLEVEL;
		while (hint && wbits > 9 && hint < ((uint64_t)1 << (wbits - 1)) - 262) {
			wbits--;
			mem--;
		}
		if (mem < 1)
			mem = 1;
		level = level ? level : GZIP_LEVEL;
		struct cz_stream *z = keep_take(a, level, wbits, mem);
		if (z && deflateReset(&z->u.z) == Z_OK)
			return z;
		if (z)
			destroy(z);
		if (!(z = calloc(1, sizeof(*z))))
			return NULL;
		z->algo = a;
		z->level = level;
		z->wbits = wbits;
		z->mem = mem;
		if (deflateInit2(&z->u.z, level, Z_DEFLATED, wbits + 16, mem,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			return NULL;
		}
		return z;
	}
	struct cz_stream *z = a == CZ_ZSTD ? keep_take(a, 0, 0, 0) : NULL;
	if (z)
		ZSTD_CCtx_reset(z->u.zs, ZSTD_reset_session_and_parameters);
	else if (!(z = calloc(1, sizeof(*z))))
		return NULL;
	z->algo = a;
	switch (a) {
	case CZ_BR:
		if (!(z->u.br = BrotliEncoderCreateInstance(br_alloc, br_release, NULL)))
			goto fail;
		BrotliEncoderSetParameter(z->u.br, BROTLI_PARAM_QUALITY,
					  (uint32_t)(level ? level : BR_QUALITY));
		BrotliEncoderSetParameter(z->u.br, BROTLI_PARAM_LGWIN,
					  (uint32_t)(hint ? wbits_for(hint, BROTLI_MIN_WINDOW_BITS,
								    BR_LGWIN) : BR_LGWIN));
		if (hint && hint < (1u << 30))
			BrotliEncoderSetParameter(z->u.br, BROTLI_PARAM_SIZE_HINT, (uint32_t)hint);
		return z;
	case CZ_ZSTD:
		if (!z->u.zs && !(z->u.zs = ZSTD_createCCtx()))
			goto fail;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(z->u.zs, ZSTD_c_compressionLevel,
							level ? level : ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(z->u.zs, ZSTD_c_windowLog,
							hint ? wbits_for(hint, 10 /* ZSTD_WINDOWLOG_MIN */,
									 ZSTD_WLOG_MAX) :
							       ZSTD_WLOG_MAX)) ||
		    (hint && ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(z->u.zs, hint)))) {
			ZSTD_freeCCtx(z->u.zs);
			goto fail;
		}
		return z;
	default:
		break;
	}
fail:
	free(z);
	return NULL;
}

void cz_free(struct cz_stream *z)
{
	if (!z)
		return;
	struct cz_keep *k = z->algo != CZ_BR ? keep_get(true) : NULL;
	if (k && k->n[z->algo] < CZ_KEEP) {
		z->next = k->list[z->algo];
		k->list[z->algo] = z;
		k->n[z->algo]++;
		return;
	}
	destroy(z);
}

static void destroy(struct cz_stream *z)
{
	switch (z->algo) {
	case CZ_GZIP:
		deflateEnd(&z->u.z);
		break;
	case CZ_BR:
		BrotliEncoderDestroyInstance(z->u.br);
		break;
	case CZ_ZSTD:
		ZSTD_freeCCtx(z->u.zs);
		break;
	default:
		break;
	}
	free(z);
}

static int run_gzip(z_stream *s, const char *in, size_t *in_len, char *out, size_t *out_len,
		    unsigned flags, bool *more)
{
	/* zlib counts in uInt: the pipeline's pieces are a buffer at most */
	s->next_in = (Bytef *)(uintptr_t)in;
	s->avail_in = (uInt)*in_len;
	s->next_out = (Bytef *)out;
	s->avail_out = (uInt)*out_len;
	int mode = (flags & CZ_END) ? Z_FINISH : (flags & CZ_FLUSH) ? Z_SYNC_FLUSH : Z_NO_FLUSH;
	int r = deflate(s, mode);
	*in_len -= s->avail_in;
	*out_len -= s->avail_out;
	if (r == Z_STREAM_ERROR)
		return -1;
	/* Z_BUF_ERROR: no progress was possible, which is no error here */
	*more = mode == Z_FINISH ? r != Z_STREAM_END : mode == Z_SYNC_FLUSH && s->avail_out == 0;
	return 0;
}

static int run_br(BrotliEncoderState *b, const char *in, size_t *in_len, char *out,
		  size_t *out_len, unsigned flags, bool *more)
{
	size_t ai = *in_len, ao = *out_len;
	const uint8_t *ni = (const uint8_t *)in;
	uint8_t *no = (uint8_t *)out;
	BrotliEncoderOperation op = (flags & CZ_END) ? BROTLI_OPERATION_FINISH :
				    (flags & CZ_FLUSH) ? BROTLI_OPERATION_FLUSH :
							 BROTLI_OPERATION_PROCESS;
	if (!BrotliEncoderCompressStream(b, op, &ai, &ni, &ao, &no, NULL))
		return -1;
	*in_len -= ai;
	*out_len -= ao;
	*more = op == BROTLI_OPERATION_FINISH ? !BrotliEncoderIsFinished(b) :
		op == BROTLI_OPERATION_FLUSH && (BrotliEncoderHasMoreOutput(b) || ai);
	return 0;
}

static int run_zstd(ZSTD_CCtx *c, const char *in, size_t *in_len, char *out, size_t *out_len,
		    unsigned flags, bool *more)
{
	ZSTD_inBuffer ib = { in, *in_len, 0 };
	ZSTD_outBuffer ob = { out, *out_len, 0 };
	ZSTD_EndDirective d = (flags & CZ_END) ? ZSTD_e_end : (flags & CZ_FLUSH) ? ZSTD_e_flush :
										ZSTD_e_continue;
	size_t r = ZSTD_compressStream2(c, &ob, &ib, d);
	*in_len = ib.pos;
	*out_len = ob.pos;
	if (ZSTD_isError(r))
		return -1;
	*more = d != ZSTD_e_continue && r != 0;
	return 0;
}

int cz_run(struct cz_stream *z, const char *in, size_t *in_len, char *out, size_t *out_len,
	   unsigned flags, bool *more)
{
	static const char none[1];

	*more = false;
	if (!in)
		in = none;
	switch (z->algo) {
	case CZ_GZIP:
		return run_gzip(&z->u.z, in, in_len, out, out_len, flags, more);
	case CZ_BR:
		return run_br(z->u.br, in, in_len, out, out_len, flags, more);
	case CZ_ZSTD:
		return run_zstd(z->u.zs, in, in_len, out, out_len, flags, more);
	default:
		return -1;
	}
}
