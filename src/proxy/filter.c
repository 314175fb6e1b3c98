/*
 * filter.c - the filter registry and the chain runner (see filter.h).
 *
 * The registry is the one list of filters a frontend or a backend can
 * have, in the order they run.  A row names the filter's callbacks and how
 * to find its configuration in a frontend or a backend; a NULL from that
 * function leaves the filter out of that chain, so a feature nobody
 * configured costs nothing per request.
 */
#include <stdlib.h>
#include "admin/metrics.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

struct filter_def {
	const struct filter_ops *ops;
	const void *(*fe_conf)(const struct cfg_frontend *fe);   /* NULL: backends only */
	const void *(*be_conf)(const struct cfg_backend *be);    /* NULL: frontends only */
};

static const void *always_be(const struct cfg_backend *be) { return be; }

static const void *fe_rules(const struct cfg_frontend *fe)
{
	return fe->http_req.n || fe->http_res.n ? fe : NULL;
}

static const void *be_rules(const struct cfg_backend *be)
{
	return be->http_req.n || be->http_res.n ? be : NULL;
}

static const void *fe_realip(const struct cfg_frontend *fe)
{
	return fe->ntrusted ? fe : NULL;
}

static const void *fe_reqid(const struct cfg_frontend *fe)
{
	return fe->request_id_header ? fe : NULL;
}

static const void *fe_access_log(const struct cfg_frontend *fe)
{
	return fe->access_log_path ? fe : NULL;
}

static const void *fe_waf(const struct cfg_frontend *fe)
{
	return fe->use_waf;
}

static const void *be_waf(const struct cfg_backend *be)
{
	return be->use_waf;
}

static const void *fe_compress(const struct cfg_frontend *fe)
{
	return fe->compress;
}

static const void *be_compress(const struct cfg_backend *be)
{
	return be->compress;
}

static const void *fe_cache(const struct cfg_frontend *fe)
{
	return fe->use_cache;
}

static const void *be_cache(const struct cfg_backend *be)
{
	return be->use_cache;
}

static const void *sticky_conf(const struct cfg_backend *be)
{
	return be->sticky_cookie ? be : NULL;
}

/* Frontend filters run before routing, backend filters after it: the
 * forwarding headers are added once the request is routed, as before
 * filters existed, so use_backend conditions see what the client sent.
 * realip is first: everything after it sees the client it found. */
static const struct filter_def registry[] = {
	{ &flt_realip_ops, fe_realip, NULL },
	{ &flt_reqid_ops, fe_reqid, NULL },
	{ &flt_rules_fe_ops, fe_rules, NULL },
	{ &flt_waf_fe_ops, fe_waf, NULL },
	{ &flt_cache_ops, fe_cache, NULL },
	{ &flt_rules_be_ops, NULL, be_rules },
	{ &flt_waf_be_ops, NULL, be_waf },
	{ &flt_cache_ops, NULL, be_cache },
	{ &flt_forward_ops, NULL, always_be },
	{ &flt_sticky_ops, NULL, sticky_conf },
	{ &flt_compress_fe_ops, fe_compress, NULL },   /* after the rules: they see the origin's */
	{ &flt_compress_be_ops, NULL, be_compress },
	{ &flt_access_log_ops, fe_access_log, NULL },
	/* counters for /metrics, only with an admin listener (admin/flt_metrics.c) */
	{ &flt_metrics_fe_ops, metrics_fe_conf, NULL },
	{ &flt_metrics_be_ops, NULL, metrics_be_conf },
};

static unsigned ops_phases(const struct filter_ops *o)
{
	return (o->req_head ? 1u << FLT_REQ_HEAD : 0) | (o->req_data ? 1u << FLT_REQ_DATA : 0) |
	       (o->req_end ? 1u << FLT_REQ_END : 0) | (o->res_head ? 1u << FLT_RES_HEAD : 0) |
	       (o->res_data ? 1u << FLT_RES_DATA : 0) | (o->res_end ? 1u << FLT_RES_END : 0) |
	       (o->end ? 1u << FLT_END : 0);
}

static int chain_add(struct filter_chain *c, const struct filter_ops *ops, const void *conf)
{
	if (!conf)
		return 0;
	if (c->n >= FLT_MAX)
		return -1;
	c->v[c->n++] = (struct filter){ ops, conf };
	c->phases |= ops_phases(ops);
	return 0;
}

int filters_init(struct cfg *c, const char **err)
{
	size_t nreg = sizeof(registry) / sizeof(registry[0]);

	for (int i = 0; i < c->nfrontends; i++) {
		struct cfg_frontend *fe = c->frontends[i];
		if (!(fe->filters = calloc(1, sizeof(*fe->filters))))
			goto oom;
		for (size_t r = 0; r < nreg; r++)
			if (registry[r].fe_conf &&
			    chain_add(fe->filters, registry[r].ops, registry[r].fe_conf(fe)) < 0)
				goto full;
	}
	for (int i = 0; i < c->nbackends; i++) {
		struct cfg_backend *be = c->backends[i];
		if (!(be->filters = calloc(1, sizeof(*be->filters))))
			goto oom;
		for (size_t r = 0; r < nreg; r++)
			if (registry[r].be_conf &&
			    chain_add(be->filters, registry[r].ops, registry[r].be_conf(be)) < 0)
				goto full;
	}
	return 0;
oom:
	*err = "out of memory";
	filters_free(c);
	return -1;
full:
	*err = "too many filters in one frontend or backend";
	filters_free(c);
	return -1;
}

void filters_free(struct cfg *c)
{
	for (int i = 0; i < c->nfrontends; i++) {
		free(c->frontends[i]->filters);
		c->frontends[i]->filters = NULL;
	}
	for (int i = 0; i < c->nbackends; i++) {
		free(c->backends[i]->filters);
		c->backends[i]->filters = NULL;
	}
}

/* The callback of filter f for a head or end-of-message phase; false if
 * it has none. */
static inline __attribute__((always_inline))
bool call_phase(struct stream *s, const struct filter *f, enum flt_phase ph,
		       const struct http_msg *trailers, enum flt_verdict *v)
{
	const struct filter_ops *o = f->ops;

	switch (ph) {
	case FLT_REQ_HEAD:
		if (!o->req_head)
			return false;
		*v = o->req_head(s, f->conf);
		return true;
	case FLT_RES_HEAD:
		if (!o->res_head)
			return false;
		*v = o->res_head(s, f->conf);
		return true;
	case FLT_REQ_END:
		if (!o->req_end)
			return false;
		*v = o->req_end(s, f->conf, trailers);
		return true;
	case FLT_RES_END:
		if (!o->res_end)
			return false;
		*v = o->res_end(s, f->conf, trailers);
		return true;
	default:
		return false;
	}
}

/* Runs a resumable phase of chain c from filter *pos on (see filters_head).
 * Inlined with a constant phase at each caller, so the switch above folds
 * away on the hot path. */
static inline __attribute__((always_inline))
enum flt_verdict chain_run(struct stream *s, const struct filter_chain *c,
				  enum flt_phase ph, const struct http_msg *trailers, uint8_t *pos)
{
	if (!c || !(c->phases & (1u << ph))) {
		*pos = 0;
		return FLT_CONTINUE;
	}
	for (int i = *pos; i < c->n; i++) {
		enum flt_verdict v;
		if (!call_phase(s, &c->v[i], ph, trailers, &v))
			continue;
		if (v == FLT_WAIT) {
			*pos = (uint8_t)i;
			return FLT_WAIT;
		}
		if (v == FLT_STOP)
			return FLT_STOP;
		if (v == FLT_ALLOW)
			break;
	}
	*pos = 0;
	return FLT_CONTINUE;
}

enum flt_verdict filters_head(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, uint8_t *pos)
{
	return ph == FLT_REQ_HEAD ? chain_run(s, c, FLT_REQ_HEAD, NULL, pos) :
				    chain_run(s, c, FLT_RES_HEAD, NULL, pos);
}

enum flt_verdict filters_data(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, const char *p, size_t len)
{
	if (!c || !(c->phases & (1u << ph)))
		return FLT_CONTINUE;
	for (int i = 0; i < c->n; i++) {
		const struct filter *f = &c->v[i];
		enum flt_verdict (*fn)(struct stream *, const void *, const char *, size_t) =
			ph == FLT_REQ_DATA ? f->ops->req_data : f->ops->res_data;
		if (!fn)
			continue;
		enum flt_verdict v = fn(s, f->conf, p, len);
		if (v != FLT_CONTINUE && v != FLT_ALLOW)
			return v;
	}
	return FLT_CONTINUE;
}

enum flt_verdict filters_msg_end(struct stream *s, const struct filter_chain *c,
				 enum flt_phase ph, const struct http_msg *trailers, uint8_t *pos)
{
	return ph == FLT_REQ_END ? chain_run(s, c, FLT_REQ_END, trailers, pos) :
				   chain_run(s, c, FLT_RES_END, trailers, pos);
}

void *flt_ctx_get(const struct txn *t, const struct filter_ops *ops)
{
	for (struct flt_ctx *c = t->flt_ctx; c; c = c->next)
		if (c->ops == ops)
			return c;
	return NULL;
}

const char *flt_txn_var(const void *txn, int fetch)
{
	const struct txn *t = txn;
	for (const struct flt_ctx *c = t ? t->flt_ctx : NULL; c; c = c->next) {
		const char *v = c->ops->var ? c->ops->var(c, fetch) : NULL;
		if (v)
			return v;
	}
	return NULL;
}

void flt_ctx_attach(struct txn *t, struct flt_ctx *c, const struct filter_ops *ops)
{
	c->ops = ops;
	c->next = t->flt_ctx;
	t->flt_ctx = c;
}

void flt_ctx_free_all(struct txn *t)
{
	while (t->flt_ctx) {
		struct flt_ctx *c = t->flt_ctx;
		t->flt_ctx = c->next;
		c->ops->ctx_free(c);
	}
}

static void chain_end(struct stream *s, const struct filter_chain *c)
{
	if (!c || !(c->phases & (1u << FLT_END)))
		return;
	for (int i = 0; i < c->n; i++)
		if (c->v[i].ops->end)
			c->v[i].ops->end(s, c->v[i].conf);
}

void filters_end(struct stream *s)
{
	chain_end(s, s->fe->filters);
	if (s->txn && s->txn->be)
		chain_end(s, s->txn->be->cfg->filters);
}
