/*
 * compress.h - on-the-fly response compression (`compress` in a frontend
 * or backend): the public face of src/compress/.
 *
 *   accept.c        Accept-Encoding (RFC 9110 12.5.3): q-values, `*`,
 *                   `identity`; the choice among the configured codings
 *   codec.c         the three compressors behind one streaming call
 *                   (zlib gzip, brotli, zstd), with their settings
 *   flt_compress.c  the filter: decides at the response head, rewrites the
 *                   head (Content-Encoding, Vary, weak ETag, no length) and
 *                   compresses the body through the pipeline's transform
 *                   seam (proxy/xform.h)
 *
 * Settings, chosen for speed as nginx's gzip defaults are (a proxy
 * compresses every response again; a higher level costs CPU per byte for
 * a few percent), and memory per stream kept bounded:
 *
 *   gzip  level 1 (nginx gzip_comp_level 1), windowBits 15 and memLevel 8
 *         (zlib's defaults, nginx's too: ~256 KiB of state), both lowered
 *         for a body whose length is known to be small by nginx's own rule
 *         (one step while the length is under half the window less 262
 *         bytes), so the same page gives nginx's bytes for nginx's CPU
 *   br    quality 4 (the usual on-the-fly choice: on the bench's pages
 *         43% fewer bytes than gzip -1 for 1.3x its CPU), lgwin 18
 *         (256 KiB window), and the known length as a size hint (a small
 *         body gets a small window)
 *   zstd  level 3 (zstd's default), windowLog capped at 19 (512 KiB,
 *         under the 8 MiB RFC 8878 asks of HTTP), the known length pledged
 *         (tables sized to it)
 *
 * `level gzip:N br:N zstd:N` changes a level (gzip 1-9, br 1-11, zstd
 * 1-19).
 */
#ifndef GH_COMPRESS_COMPRESS_H
#define GH_COMPRESS_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http/msg.h"

enum cz_algo { CZ_GZIP = 0, CZ_BR, CZ_ZSTD, CZ_COUNT };

/* "gzip", "br", "zstd": the Content-Encoding token. */
const char *cz_name(enum cz_algo a);
/* The algorithm a configuration word names, or -1. */
int cz_from_name(const char *s);

/* ---- Accept-Encoding (accept.c) ---- */

/* What a request's Accept-Encoding fields say, q in thousandths (0-1000),
 * -1 where a coding is not mentioned. */
struct ae_prefs {
	int16_t q[CZ_COUNT];
	int16_t star;           /* `*` */
	int16_t identity;
	bool seen;              /* at least one Accept-Encoding field */
};

void ae_init(struct ae_prefs *p);
/* One field value (a request may have several fields: call once each).
 * Malformed members (a bad q, an empty token) are ignored, never the
 * whole field. */
void ae_parse(struct ae_prefs *p, const char *v, size_t len);
/*
 * The coding to use among order[0..n) (the configured ones, preferred
 * first), or -1 for none: the highest q wins, ties go to the earlier in
 * order; q=0 excludes; a coding not mentioned takes `*`'s q, else it is
 * not acceptable.  No Accept-Encoding field at all: -1 (RFC 9110 allows
 * any coding then, but clients that can decode say so; nginx and HAProxy
 * send identity too).
 */
int ae_choose(const struct ae_prefs *p, const uint8_t *order, int n);

/* ---- compressors (codec.c) ---- */

struct cz_stream;

/* A compressor of algorithm a at level (0: the default above), sized for
 * a body of `hint` bytes (0: unknown).  NULL when memory is short. */
struct cz_stream *cz_new(enum cz_algo a, int level, uint64_t hint);
void cz_free(struct cz_stream *z);

#define CZ_FLUSH 0x1   /* emit everything taken so far */
#define CZ_END   0x2   /* finish the stream */

/* One streaming step (proxy/filter.h struct flt_xform has the contract):
 * takes what it can of in, writes at most *out_len bytes; *in_len and
 * *out_len come back as consumed and produced; *more: output is still held
 * (call again with the same flag).  -1 on a compressor error. */
int cz_run(struct cz_stream *z, const char *in, size_t *in_len, char *out, size_t *out_len,
	   unsigned flags, bool *more);

/* ---- a cache's stored responses (flt_compress.c) ---- */

/*
 * The cache (cache/flt_cache.c) answers hits itself, with local replies,
 * which this filter never compresses; instead the cache asks here what the
 * `compress` that applies to the request would do with the stored
 * response, then serves (or makes once and stores) the variant in that
 * coding.  So both filters decide with the same rules whatever their
 * order in the chains.
 */
struct cfg_compress;
struct stream;
struct http_msg;

/* The `compress` that applies to s's response: its backend's own when
 * s goes to a backend that has one (routed, or, before routing, the one
 * the frontend's rules pick now: a frontend cache's hit gets what its
 * miss got), else its frontend's; NULL. */
const struct cfg_compress *compress_conf(struct stream *s);

/* What a stored response says about itself. */
struct cz_stored {
	uint16_t status;
	bool no_transform;      /* Cache-Control: no-transform (response or request) */
	bool encoded;           /* a Content-Encoding other than identity */
	uint64_t len;           /* the body's length */
	struct slice ctype;     /* Content-Type, p NULL: none */
};

/* The coding cz gives the stored response r for request req (enum
 * cz_algo) or -1 (identity); *varies: the answer depends on the client's
 * Accept-Encoding (the response then carries Vary: Accept-Encoding). */
int compress_choose_stored(const struct cfg_compress *cz, struct http_msg *req,
			   const struct cz_stored *r, bool *varies);

/* ---- content types ---- */

/* The default `types`: text and the text-like application types
 * (nginx's gzip_types text/html plus what sites usually add). */
extern const char *const cz_default_types[];

/* Whether Content-Type value v (parameters ignored, any case) is one of
 * types[0..n) ("type/subtype", "type/ *" meaning any subtype, or "*"), or of the
 * default list when types is NULL. */
bool cz_type_ok(const char *v, size_t len, char *const *types, int n);

#endif
