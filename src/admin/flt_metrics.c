/*
 * flt_metrics.c - the filters that count requests for /metrics, in the
 * transaction's end phase only: everything they count the stream has
 * already recorded on its way (struct txn: the status sent, whether the
 * answer was ours, the timings, bytes, retries, why it ended), so the
 * pipeline carries no metrics code of its own.
 *
 * Two rows in the registry (proxy/filter.c): the frontend's (requests by
 * status class, bytes, why transactions ended) and the backend's (the
 * same by backend, the duration and time-to-first-byte histograms, and by
 * server).  Their conf is the name's entry (metrics_fe_conf,
 * metrics_be_conf), NULL without an admin listener, so counting costs
 * nothing then.  They write the calling worker's own block (metrics_int.h).
 */
#include "admin/metrics.h"
#include "admin/metrics_int.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

static int status_class(const struct txn *t)
{
	if (!t->res_head_sent || t->status < 100 || t->status > 599)
		return 0;
	return t->status / 100;
}

static void fe_end(struct stream *s, const void *conf)
{
	struct mx_fe_w *b = mx_blk((struct mx_ent *)conf);
	const struct txn *t = s->txn;
	if (!b)
		return;
	MX_ADD(b->req[status_class(t)], 1);
	MX_ADD(b->bytes_in, t->bytes_in);
	MX_ADD(b->bytes_out, t->bytes_out);
	if (t->term && t->term < MX_TERMS)
		MX_ADD(b->term[t->term], 1);
}

/* The server the transaction ended on: the one still attached, else the
 * one whose name the transaction kept (its connection went back to the
 * pool first). */
static const struct cfg_server *txn_server(const struct stream *s, const struct cfg_backend *be)
{
	if (s->sv)
		return s->sv->cfg;
	const char *name = s->txn->server_name;
	if (!name)
		return NULL;
	for (int i = 0; i < be->nservers; i++)
		if (be->servers[i]->name == name)   /* the same config string */
			return be->servers[i];
	return NULL;
}

static void be_end(struct stream *s, const void *conf)
{
	struct mx_be_w *b = mx_blk((struct mx_ent *)conf);
	const struct txn *t = s->txn;
	if (!b || !t->be)
		return;
	int k = status_class(t);
	uint64_t now = mono_us();
	uint64_t dur = t->mono_start_us && now > t->mono_start_us ? now - t->mono_start_us : 0;
	bool ttfb = t->mono_ttfb_us && t->mono_ttfb_us >= t->mono_start_us;
	uint64_t ttfb_us = ttfb ? t->mono_ttfb_us - t->mono_start_us : 0;

	MX_ADD(b->req[k], 1);
	MX_ADD(b->bytes_in, t->bytes_in);
	MX_ADD(b->bytes_out, t->bytes_out);
	if (t->retries > 0)
		MX_ADD(b->retries, (uint64_t)t->retries);
	mx_observe(&b->dur, dur);
	if (ttfb)
		mx_observe(&b->ttfb, ttfb_us);

	const struct cfg_server *sv = txn_server(s, t->be->cfg);
	struct mx_srv_w *sb = sv && sv->mx ? mx_blk(sv->mx) : NULL;
	if (!sb)
		return;
	MX_ADD(sb->req[k], 1);
	mx_observe(&sb->dur, dur);
	if (ttfb)
		mx_observe(&sb->ttfb, ttfb_us);
}

const struct filter_ops flt_metrics_fe_ops = {
	.name = "metrics",
	.end = fe_end,
};

const struct filter_ops flt_metrics_be_ops = {
	.name = "metrics",
	.end = be_end,
};
