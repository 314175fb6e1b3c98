/*
 * fuzz_h1.c - libFuzzer target for the HTTP/1.1 codec (src/http/h1.c, h1_enc.c).
 *
 * The codec parses bytes straight from the network, so besides memory
 * safety this target asserts the properties the proxy relies on:
 *  - a head parses the same whether it arrives whole or in pieces (split
 *    at a point taken from the first byte, and in small steps), even when
 *    the bytes move between the calls;
 *  - whatever the parser accepts, the encoder turns into a head the parser
 *    accepts again with the same method, path, query, authority and framing
 *    (a proxy must never emit what it would itself refuse);
 *  - the chunked decoder gives the same output and result in one call or
 *    with the remainder moved between calls, and NORMALIZE output is a
 *    fixed point that decodes to the same data.
 *
 * FUZZ_SOURCES: src/http/h1.c src/http/h1_enc.c src/http/msg.c
 * FUZZ_LIBS:
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static const struct h1_limits lim = { .max_head = 2048, .max_target = 256, .max_hdrs = 40 };
/* re-parse of encoded heads: the encoder may add Host */
static const struct h1_limits big = { .max_head = 65536, .max_target = 4096, .max_hdrs = 100 };

static struct http_msg m1, m2, m3;
static struct h1_parser p1, p2, p3;     /* their parse states */
static char enc[65536];

static bool same_slice(struct slice a, struct slice b)
{
	return a.len == b.len && a.p == b.p;
}

static bool same_msg(const struct http_msg *a, const struct http_msg *b)
{
	if (a->flags != b->flags || a->version_major != b->version_major ||
	    a->version_minor != b->version_minor || a->meth != b->meth ||
	    !same_slice(a->method, b->method) || !same_slice(a->target, b->target) ||
	    !same_slice(a->path, b->path) || !same_slice(a->query, b->query) ||
	    !same_slice(a->authority, b->authority) || a->status != b->status ||
	    !same_slice(a->reason, b->reason) || a->body != b->body ||
	    a->content_length != b->content_length ||
	    a->nhdrs != b->nhdrs || memcmp(a->hdr_idx, b->hdr_idx, sizeof(a->hdr_idx)))
		return false;
	for (int i = 0; i < a->nhdrs; i++)
		if (!same_slice(a->hdrs[i].name, b->hdrs[i].name) ||
		    !same_slice(a->hdrs[i].value, b->hdrs[i].value) ||
		    a->hdrs[i].id != b->hdrs[i].id || a->hdrs[i].flags != b->hdrs[i].flags)
			return false;
	return true;
}

static int parse(struct h1_parser *ps, const char *buf, size_t len, struct http_msg *m, bool resp,
		 enum http_meth rm, const struct h1_limits *l, struct h1_err *e)
{
	return resp ? h1_parse_response(ps, buf, len, m, rm, l, e)
		    : h1_parse_request(ps, buf, len, m, l, e);
}

static void same_result(int rc1, const struct h1_err *e1, int rc2, const struct h1_err *e2)
{
	FUZZ_ASSERT(rc1 == rc2);
	if (rc1 == H1_DONE)
		FUZZ_ASSERT(same_msg(&m1, &m2) && p1.head_len == p2.head_len);
	if (rc1 == H1_ERROR)
		FUZZ_ASSERT(e1->status == e2->status && e1->offset == e2->offset &&
			    e1->reason == e2->reason);
}

static void fuzz_head(const char *buf, size_t n, bool resp, enum http_meth rm, size_t split,
		      size_t step)
{
	struct h1_err e1 = { 0 }, e2 = { 0 };
	int rc1, rc2;

	msg_reset(&m1);
	h1_parser_reset(&p1);
	rc1 = parse(&p1, buf, n, &m1, resp, rm, &lim, &e1);
	FUZZ_ASSERT(rc1 == H1_DONE || rc1 == H1_NEED_MORE || rc1 == H1_ERROR);
	if (rc1 == H1_DONE)
		FUZZ_ASSERT(p1.head_len <= n && p1.head_len <= lim.max_head);
	if (rc1 == H1_ERROR)
		FUZZ_ASSERT(e1.reason && (resp ? e1.status == 502 : e1.status >= 400));

	/* two pieces */
	msg_reset(&m2);
	h1_parser_reset(&p2);
	rc2 = parse(&p2, buf, split, &m2, resp, rm, &lim, &e2);
	if (rc2 == H1_NEED_MORE)
		rc2 = parse(&p2, buf, n, &m2, resp, rm, &lim, &e2);
	same_result(rc1, &e1, rc2, &e2);

	/* the caller moves the bytes between the calls: first part parsed in
	 * a copy that is freed before the rest (ASan catches stale slices) */
	char *copy = malloc(split ? split : 1);

	memcpy(copy, buf, split);
	msg_reset(&m2);
	h1_parser_reset(&p2);
	rc2 = parse(&p2, copy, split, &m2, resp, rm, &lim, &e2);
	free(copy);
	if (rc2 != H1_DONE) {
		if (rc2 == H1_NEED_MORE)
			rc2 = parse(&p2, buf, n, &m2, resp, rm, &lim, &e2);
		same_result(rc1, &e1, rc2, &e2);
	}

	/* many small pieces */
	msg_reset(&m2);
	h1_parser_reset(&p2);
	rc2 = H1_NEED_MORE;
	for (size_t k = step; rc2 == H1_NEED_MORE; k += step) {
		rc2 = parse(&p2, buf, k < n ? k : n, &m2, resp, rm, &lim, &e2);
		if (k >= n)
			break;
	}
	same_result(rc1, &e1, rc2, &e2);

	if (rc1 != H1_DONE)
		return;

	/* what we accept, we must emit in a form we accept again */
	int len = resp ? h1_encode_response(&m1, NULL, 0, enc, sizeof(enc))
		       : h1_encode_request(&m1, NULL, 0, enc, sizeof(enc));

	FUZZ_ASSERT(len > 0);
	/* an HTTP/1.0 request without Host cannot gain one out of nothing */
	if (!resp && m1.authority.len == 0)
		return;
	msg_reset(&m3);
	h1_parser_reset(&p3);
	FUZZ_ASSERT(parse(&p3, enc, (size_t)len, &m3, resp, rm, &big, &e2) == H1_DONE);
	FUZZ_ASSERT(p3.head_len == (uint32_t)len);
	FUZZ_ASSERT(m3.body == m1.body && m3.content_length == m1.content_length);
	if (resp) {
		FUZZ_ASSERT(m3.status == m1.status && slice_eq(m3.reason, m1.reason));
	} else {
		FUZZ_ASSERT(slice_eq(m3.method, m1.method) && slice_eq(m3.path, m1.path) &&
			    slice_eq(m3.query, m1.query) && slice_eq(m3.authority, m1.authority));
	}
	for (int i = 0; i < m3.nhdrs; i++)
		FUZZ_ASSERT(!(m3.hdrs[i].flags & HDR_F_HOP));
}

struct chunk_out {
	int rc;
	char *out;
	size_t out_len;
	uint64_t total;
};

/* Runs the chunked decoder over in[0..n), feeding `step` bytes at a time
 * into a work buffer (0: all at once) and moving the unconsumed remainder
 * to its start after each call, as the proxy does. */
static void chunk_run(const char *in, size_t n, enum h1_chunk_mode mode, size_t step,
		      struct chunk_out *r)
{
	char *work = malloc(n ? n : 1);
	struct h1_chunk c;
	struct h1_err e;
	size_t have = 0, fed = 0;

	h1_chunk_init(&c, mode);
	r->out = malloc(n ? n : 1);
	r->out_len = 0;
	r->rc = H1_NEED_MORE;
	for (;;) {
		size_t piece = step ? step : n;
		size_t cons, prod;

		if (piece > n - fed)
			piece = n - fed;
		memcpy(work + have, in + fed, piece);
		have += piece;
		fed += piece;
		r->rc = h1_chunk_step(&c, work, have, &cons, &prod, &e);
		FUZZ_ASSERT(cons <= have && prod <= cons);
		memcpy(r->out + r->out_len, work, prod);
		r->out_len += prod;
		FUZZ_ASSERT(r->out_len <= fed);
		memmove(work, work + cons, have - cons);
		have -= cons;
		if (r->rc != H1_NEED_MORE || fed == n)
			break;
	}
	r->total = c.total;
	free(work);
}

static void fuzz_chunked(const char *in, size_t n, size_t step)
{
	struct chunk_out a, b, d1, d2, nn;

	for (int mode = 0; mode < 2; mode++) {
		chunk_run(in, n, (enum h1_chunk_mode)mode, 0, &a);
		chunk_run(in, n, (enum h1_chunk_mode)mode, step, &b);
		FUZZ_ASSERT(a.rc == b.rc && a.out_len == b.out_len && a.total == b.total &&
			    memcmp(a.out, b.out, a.out_len) == 0);
		free(b.out);
		if (mode == H1_CHUNK_DECODE) {
			FUZZ_ASSERT(a.out_len == a.total);
			free(a.out);
			continue;
		}
		if (a.rc != H1_DONE) {
			free(a.out);
			continue;
		}
		/* the canonical form is a fixed point and carries the same data */
		chunk_run(a.out, a.out_len, H1_CHUNK_NORMALIZE, 0, &nn);
		FUZZ_ASSERT(nn.rc == H1_DONE && nn.out_len == a.out_len &&
			    memcmp(nn.out, a.out, a.out_len) == 0);
		chunk_run(a.out, a.out_len, H1_CHUNK_DECODE, 0, &d1);
		chunk_run(in, n, H1_CHUNK_DECODE, 0, &d2);
		FUZZ_ASSERT(d1.rc == H1_DONE && d2.rc == H1_DONE && d1.out_len == d2.out_len &&
			    memcmp(d1.out, d2.out, d1.out_len) == 0);
		free(nn.out);
		free(d1.out);
		free(d2.out);
		free(a.out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const enum http_meth meths[] = { HTTP_METH_GET, HTTP_METH_HEAD, HTTP_METH_CONNECT,
						HTTP_METH_POST };
	const char *buf = (const char *)d;

	if (n == 0)
		return 0;

	size_t split = (size_t)d[0] * n / 256;
	size_t step = (size_t)(d[0] % 7) + 1;

	fuzz_head(buf, n, false, HTTP_METH_GET, split, step);
	fuzz_head(buf, n, true, meths[d[0] & 3], split, step);
	fuzz_chunked(buf, n, step);
	/* and the body after a head, where chunked data really comes from */
	msg_reset(&m1);
	h1_parser_reset(&p1);
	if (h1_parse_request(&p1, buf, n, &m1, &lim, NULL) == H1_DONE && p1.head_len < n)
		fuzz_chunked(buf + p1.head_len, n - p1.head_len, step);
	return 0;
}
