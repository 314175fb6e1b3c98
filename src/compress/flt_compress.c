/*
 * flt_compress.c - the compression filter (`compress gzip br zstd ...` in a
 * frontend or a backend; compress.h has the settings).
 *
 *   res_head   decides, once per response: never for a bodyless answer
 *              (HEAD, 1xx, 204, 304), a range (206, Content-Range), a
 *              tunnel (CONNECT), a response that is encoded already
 *              (Content-Encoding, a transfer coding besides chunked),
 *              `Cache-Control: no-transform`, a known length under
 *              min_size, a Content-Type outside `types`; otherwise the
 *              coding the client's Accept-Encoding prefers among the
 *              configured ones (compress/accept.c).  Vary: Accept-Encoding
 *              is added (merged into an existing Vary) whenever the choice
 *              depended on the client, compressed or not; a compressed
 *              response gets Content-Encoding, a weak ETag, no
 *              Content-Length or Accept-Ranges, and its body goes through
 *              res_xform (the pipeline's transform seam, proxy/xform.h:
 *              chunked to HTTP/1.1 clients, DATA frames to HTTP/2)
 *   res_xform  one streaming step of the compressor (codec.c)
 *
 * A backend's `compress` replaces its frontend's for the requests routed
 * to it: the frontend's instance steps aside, so a response is decided
 * once, and a second transform is refused by the seam anyway (never
 * compressed twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compress/compress.h"
#include "http/h1.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

struct cz_ctx {
	struct flt_ctx c;
	struct cz_stream *z;     /* NULL: identity chosen (only Vary to add) */
	int algo;                /* enum cz_algo chosen at res_head, -1: identity */
};

static void cz_ctx_free(struct flt_ctx *c)
{
	struct cz_ctx *x = (struct cz_ctx *)c;
	cz_free(x->z);
	free(x);
}

static bool list_has(struct slice v, const char *word)
{
	const char *p = v.p, *e = v.p + v.len;
	struct slice el;

	while (h1_list_next(&p, e, &el))
		if (slice_ieq_cstr(el, word))
			return true;
	return false;
}

/* Whether any field named name lists word (a comma-separated list). */
static bool any_lists(struct http_msg *m, struct slice name, const char *word)
{
	int pos = 0;
	for (struct http_hdr *h; (h = msg_hdr_find(m, name, &pos));)
		if (list_has(h->value, word))
			return true;
	return false;
}

static bool has_field(struct http_msg *m, struct slice name)
{
	int pos = 0;
	return msg_hdr_find(m, name, &pos) != NULL;
}

/* Vary: Accept-Encoding, merged into the first Vary field if there is one
 * (nothing when it lists it already, or `*`). */
static void add_vary(struct http_msg *m)
{
	static const struct slice vary = SLICE_LIT("Vary");
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, vary, &pos);

	if (any_lists(m, vary, "accept-encoding") || any_lists(m, vary, "*"))
		return;
	if (h && h->value.len) {
		struct slice v = msg_storef(m, "%.*s, Accept-Encoding", (int)h->value.len,
					    h->value.p);
		if (v.p) {
			h->value = v;
			return;
		}
	}
	msg_hdr_add(m, vary, SLICE_LIT("Accept-Encoding"));
}

/* A strong validator names the identity bytes; the compressed ones differ
 * but are semantically the same: weak (as nginx does). */
static void weaken_etag(struct http_msg *m)
{
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, SLICE_LIT("ETag"), &pos);

	if (!h || h->value.len < 2 || h->value.p[0] != '"')
		return;
	struct slice v = msg_storef(m, "W/%.*s", (int)h->value.len, h->value.p);
	if (v.p)
		h->value = v;
	else
		h->flags |= HDR_F_DELETED;
}

/* What the response itself says against compressing it. */
static bool response_excluded(const struct txn *t, struct http_msg *m)
{
	if (t->meth == HTTP_METH_HEAD || t->meth == HTTP_METH_CONNECT || t->local)
		return true;
	if (m->status < 200 || m->status == 204 || m->status == 206 || m->status == 304)
		return true;
	if (m->body == BODY_NONE || m->body == BODY_TUNNEL || (m->flags & MSG_F_TE_OTHER))
		return true;
	if (has_field(m, SLICE_LIT("Content-Range")))
		return true;
	int pos = 0;
	for (struct http_hdr *h; (h = msg_hdr_find(m, SLICE_LIT("Content-Encoding"), &pos));)
		if (h->value.len && !slice_ieq_cstr(h->value, "identity"))
			return true;   /* never twice */
	return any_lists(m, SLICE_LIT("Cache-Control"), "no-transform");
}

/* The part of the decision after the response's own exclusions: the
 * length against min_size, the type against `types` (false: the answer
 * does not depend on the client), then the client's choice (*algo, -1 for
 * identity). */
static bool choose(const struct cfg_compress *cz, struct http_msg *req, bool len_known,
		   uint64_t len, struct slice ctype, int *algo)
{
	*algo = -1;
	if (len_known && len < cz->min_size)
		return false;
	if (!ctype.p || !cz_type_ok(ctype.p, ctype.len, cz->types, cz->ntypes))
		return false;
	struct ae_prefs ae;
	ae_init(&ae);
	int pos = 0;
	for (struct http_hdr *h; (h = msg_hdr_find(req, SLICE_LIT("Accept-Encoding"), &pos));)
		ae_parse(&ae, h->value.p, h->value.len);
	*algo = ae_choose(&ae, cz->algos, cz->nalgos);
	return true;
}

const struct cfg_compress *compress_conf(struct stream *s)
{
	const struct txn *t = s->txn;
	/* not routed yet (a frontend cache's hit): the backend the request
	 * would go to, whose `compress` its miss would get */
	const struct backend_rt *be = !t ? NULL : t->be ? t->be : req_route_peek(s);
	if (be && be->cfg->compress)
		return be->cfg->compress;
	return s->fe->compress;
}

int compress_choose_stored(const struct cfg_compress *cz, struct http_msg *req,
			   const struct cz_stored *r, bool *varies)
{
	int algo = -1;
	*varies = false;
	if (!cz || r->status != 200 || r->no_transform || r->encoded)
		return -1;
	*varies = choose(cz, req, true, r->len, r->ctype, &algo);
	return algo;
}

static enum flt_verdict compress_head(struct stream *s, const struct cfg_compress *cz)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;

	if (response_excluded(t, m))
		return FLT_CONTINUE;
	int pos = 0;
	struct http_hdr *ct = msg_hdr_find(m, SLICE_LIT("Content-Type"), &pos);
	int algo;
	if (!choose(cz, &t->req, m->body == BODY_LENGTH, m->content_length,
		    ct ? ct->value : (struct slice){ NULL, 0 }, &algo))
		return FLT_CONTINUE;
	/* From here the answer depends on the client's Accept-Encoding:
	 * Vary goes on at delivery (compress_deliver_head), so that a cache
	 * storing this response, in whichever chain and order, stores the
	 * origin's head and keeps one object for every Accept-Encoding. */
	struct cz_ctx *x = calloc(1, sizeof(*x));
	if (!x)
		return FLT_CONTINUE;
	x->algo = -1;
	flt_ctx_attach(t, &x->c, &flt_compress_fe_ops);
	if (algo < 0)
		return FLT_CONTINUE;
	uint64_t hint = m->body == BODY_LENGTH ? m->content_length : 0;
	x->z = cz_new((enum cz_algo)algo, cz->level[algo], hint);
	if (!x->z)
		return FLT_CONTINUE;   /* identity, Vary still added */
	const struct filter_ops *ops = s->fe->compress == cz ? &flt_compress_fe_ops :
							       &flt_compress_be_ops;
	if (!txn_transform_res(s, ops, cz)) {
		cz_free(x->z);
		x->z = NULL;
		return FLT_CONTINUE;
	}
	x->algo = algo;
	return FLT_CONTINUE;
}

static void compress_deliver_head(struct stream *s, struct flt_ctx *c, struct http_msg *m)
{
	(void)c;
	if (!s->txn->local)   /* a local reply (a cache hit) says its own */
		add_vary(m);
}

/* At delivery, once every res_head filter has seen the origin's head (a
 * cache stores that one, never a head that announces our coding): the
 * head of the compressed response. */
static void compress_xform_head(struct stream *s, const void *conf, struct http_msg *m)
{
	struct cz_ctx *x = flt_ctx_get(s->txn, &flt_compress_fe_ops);
	(void)conf;

	if (!x || x->algo < 0)
		return;
	const char *name = cz_name((enum cz_algo)x->algo);
	msg_hdr_del(m, SLICE_LIT("Content-Encoding"));
	msg_hdr_add(m, SLICE_LIT("Content-Encoding"), (struct slice){ name, (uint32_t)strlen(name) });
	msg_hdr_del_id(m, HDR_CONTENT_LENGTH);
	msg_hdr_del(m, SLICE_LIT("Accept-Ranges"));
	weaken_etag(m);
}

static enum flt_verdict fe_res_head(struct stream *s, const void *conf)
{
	const struct txn *t = s->txn;

	/* a backend's own `compress` decides for its requests */
	if (t->be && t->be->cfg->compress)
		return FLT_CONTINUE;
	return compress_head(s, conf);
}

static enum flt_verdict be_res_head(struct stream *s, const void *conf)
{
	return compress_head(s, conf);
}

static enum flt_verdict compress_xform(struct stream *s, const void *conf, struct flt_xform *io)
{
	struct cz_ctx *x = flt_ctx_get(s->txn, &flt_compress_fe_ops);
	(void)conf;

	if (!x)
		return FLT_STOP;
	size_t in = io->in_len, out = io->out_cap;
	unsigned f = ((io->flags & XF_FLUSH) ? CZ_FLUSH : 0) | ((io->flags & XF_END) ? CZ_END : 0);
	if (cz_run(x->z, io->in, &in, io->out, &out, f, &io->more) < 0)
		return FLT_STOP;
	io->consumed = in;
	io->produced = out;
	return FLT_CONTINUE;
}

const struct filter_ops flt_compress_fe_ops = {
	.name = "compress",
	.res_head = fe_res_head,
	.res_xform = compress_xform,
	.res_xform_head = compress_xform_head,
	.res_deliver_head = compress_deliver_head,
	.ctx_free = cz_ctx_free,
};

const struct filter_ops flt_compress_be_ops = {
	.name = "compress",
	.res_head = be_res_head,
	.res_xform = compress_xform,
	.res_xform_head = compress_xform_head,
	.ctx_free = cz_ctx_free,
};
