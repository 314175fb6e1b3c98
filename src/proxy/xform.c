/*
 * xform.c - a filter rewrites the response body (xform.h has the path).
 *
 * The state is a struct flt_ctx of the transaction (freed with it, which
 * gives the held input's buffer back), pointed at by t->res_xf once the
 * client codec turned the transform on.  The filter writes into the
 * worker's scratch area; what it wrote goes into s->res's output where the
 * run was, and the client codec frames it.  Room is reckoned before the
 * call, so the output always fits: BODY_FRAME_MARGIN stays free for the
 * framing (a chunk-size line).
 */
#include <stdlib.h>
#include <string.h>
#include "proxy/body.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "proxy/xform.h"

struct xform {
	struct flt_ctx c;
	const struct filter_ops *ops;   /* the transforming filter */
	const void *conf;
	struct buf in;                  /* input it could not take yet: [rd, pr) */
	unsigned pending;               /* XF_FLUSH or XF_END: output still held */
	bool dirty;                     /* input since the last flush */
	bool finished;                  /* XF_END done */
	bool relay;                     /* txn_relay_res: same bytes, the filter's own copy */
	bool owed;                      /* relay: output to give with no new input */
	/* A relay stacked on the transform taken before it (compression):
	 * that filter codes what the relay gives (txn_relay_code) */
	const struct filter_ops *code_ops;
	const void *code_conf;
};

static void xf_free(struct flt_ctx *c)
{
	struct xform *x = (struct xform *)c;
	buf_release_force(&x->in);
	free(x);
}

static const struct filter_ops xf_ops = { .name = "transform", .ctx_free = xf_free };

bool txn_transform_res(struct stream *s, const struct filter_ops *ops, const void *conf)
{
	struct txn *t = s->txn;

	if (!ops->res_xform || flt_ctx_get(t, &xf_ops))
		return false;
	struct xform *x = calloc(1, sizeof(*x));
	if (!x)
		return false;
	x->ops = ops;
	x->conf = conf;
	flt_ctx_attach(t, &x->c, &xf_ops);
	return true;
}

bool txn_relay_res(struct stream *s, const struct filter_ops *ops, const void *conf)
{
	struct xform *x = flt_ctx_get(s->txn, &xf_ops);
	if (x && !x->relay && ops->res_xform) {
		/* a transform taken already: it codes the relay's output */
		x->code_ops = x->ops;
		x->code_conf = x->conf;
		x->ops = ops;
		x->conf = conf;
	} else if (!txn_transform_res(s, ops, conf)) {
		return false;
	}
	x = flt_ctx_get(s->txn, &xf_ops);
	x->relay = true;
	return true;
}

/* A filter's call went through and stayed inside the buffers it was given
 * (in_len and out_cap as they were before the call: a filter that moved
 * them does not get to widen its own bounds). */
static bool xf_within(enum flt_verdict v, const struct flt_xform *io, size_t in_len,
		      size_t out_cap)
{
	return v == FLT_CONTINUE && io->consumed <= in_len && io->produced <= out_cap;
}

enum flt_verdict txn_relay_code(struct stream *s, struct flt_xform *io)
{
	const struct xform *x = s->txn->res_xf;
	size_t in_len = io->in_len, out_cap = io->out_cap;

	io->consumed = io->produced = 0;
	io->more = false;
	if (!x || !x->code_ops)
		return FLT_STOP;
	enum flt_verdict v = x->code_ops->res_xform(s, x->code_conf, io);
	return xf_within(v, io, in_len, out_cap) ? FLT_CONTINUE : FLT_STOP;
}

bool xform_keeps_length(const struct stream *s)
{
	const struct txn *t = s->txn;
	return t->res_xf && t->res_xf->relay && !t->res_xf->code_ops && t->res.body == BODY_LENGTH;
}

bool xform_relay(const struct stream *s)
{
	return s->txn->res_xf && s->txn->res_xf->relay;
}

bool xform_deliver(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;

	t->res_xf = NULL;
	/* the filters' last head edits (filter.h res_deliver_head); a relay
	 * may be asked for here, once every res_head filter decided */
	for (struct flt_ctx *c = t->flt_ctx; c; c = c->next)
		if (c->ops->res_deliver_head)
			c->ops->res_deliver_head(s, c, m);
	struct xform *x = flt_ctx_get(t, &xf_ops);
	if (!x || t->local || m->body == BODY_NONE || m->body == BODY_TUNNEL ||
	    t->meth == HTTP_METH_HEAD)
		return false;
	if (!t->res_src_bare) {
		res_decode_bare(s, t);
		/* An empty body of known length: no decoder call will come, the
		 * pump runs the end (the filter's finish) at once. */
		if (m->body == BODY_LENGTH && !m->content_length)
			t->res_ended = true;
	}
	s->rs = RS_BODY;
	t->res_xf = x;
	/* the head the coding filter announces (a relay alone keeps it) */
	const struct filter_ops *head = x->code_ops ? x->code_ops : x->relay ? NULL : x->ops;
	if (head && head->res_xform_head)
		head->res_xform_head(s, x->code_ops ? x->code_conf : x->conf, m);
	return true;
}

/* Room for the filter's output in s->res once `drop` output bytes (a run
 * it replaces) are gone, the framing's margin kept. */
static size_t out_room(const struct buf *b, uint32_t drop)
{
	uint32_t used = buf_data_len(b) - drop;
	return buf_size > used + BODY_FRAME_MARGIN ? buf_size - used - BODY_FRAME_MARGIN : 0;
}

/* A relay's room: its output waiting for the client stays under half the
 * buffer, so the server's bytes always find the other half (the server is
 * read at its own pace, not at the client's). */
static size_t xf_room(const struct xform *x, const struct buf *b, uint32_t drop)
{
	size_t room = out_room(b, drop);
	if (!x->relay)
		return room;
	uint32_t queued = (b->area ? buf_out_len(b) : 0) - drop;
	size_t cap = queued < buf_size / 2 ? buf_size / 2 - queued : 0;
	return room < cap ? room : cap;
}

uint32_t xform_res_cap(const struct stream *s)
{
	const struct xform *x = s->txn ? s->txn->res_xf : NULL;
	if (!x || !x->relay)
		return buf_size - BODY_FRAME_MARGIN;
	uint32_t out = s->res.area ? buf_out_len(&s->res) : 0;
	return out + buf_size / 2 - BODY_FRAME_MARGIN;
}

/* One call of the filter into scratch, room bytes at most.  False when it
 * failed (the stream is cut). */
static bool xf_call(struct stream *s, struct xform *x, struct flt_xform *io)
{
	io->out = s->w->scratch;
	io->consumed = io->produced = 0;
	io->more = false;
	io->in_place = false;
	io->coded = x->code_ops != NULL;
	size_t in_len = io->in_len, out_cap = io->out_cap;
	enum flt_verdict v = x->ops->res_xform(s, x->conf, io);
	if (!xf_within(v, io, in_len, out_cap) ||
	    (io->in_place && (!io->may_in_place || !x->relay || io->consumed != io->in_len ||
			      io->produced != io->in_len))) {
		if (!stream_closed(s))
			stream_abort(s, "the response body's transformation failed");
		return false;
	}
	if (io->consumed)
		x->dirty = true;
	return true;
}

/* The filter's output (in scratch) at the end of s->res's output, framed
 * for the client. */
static bool xf_emit(struct stream *s, size_t n)
{
	if (!n)
		return true;
	if (!buf_alloc(&s->res) || !buf_insert_out(&s->res, false, s->w->scratch, (uint32_t)n) ||
	    !s->sess->codec->res_frame(s, (uint32_t)n)) {
		stream_abort(s, "no room for the transformed response body");
		return false;
	}
	return true;
}

/* Keeps in[0..len) for the next call, after what is kept already. */
static bool xf_keep(struct stream *s, struct xform *x, const char *in, size_t len)
{
	if (!len)
		return true;
	if (!buf_alloc(&x->in) || buf_data_len(&x->in) + len > buf_size) {
		stream_abort(s, "no room to hold the response body for its transformation");
		return false;
	}
	if (x->in.wr + len > buf_size)
		buf_compact(&x->in);
	memcpy(x->in.area + x->in.wr, in, len);
	x->in.wr += (uint32_t)len;
	x->in.pr = x->in.wr;
	return true;
}

enum flt_verdict xform_data(struct stream *s, const char *p, size_t len)
{
	struct txn *t = s->txn;
	struct xform *x = t->res_xf;
	struct buf *b = &s->res;
	enum flt_verdict v = FLT_CONTINUE;

	if (!len || t->local)
		return FLT_CONTINUE;
	if (body_wants(s, FLT_RES_DATA)) {
		v = body_data_run(s, true, p, len);
		if (v == FLT_STOP || stream_closed(s) || t->local)
			return v;
	}
	/* Input already kept goes first: the run joins it. */
	size_t took = 0;
	struct flt_xform io = { .in = p, .in_len = len, .out_cap = xf_room(x, b, (uint32_t)len),
				.may_in_place = x->relay };
	if (!buf_data_len(&x->in) && !x->pending) {
		if (!xf_call(s, x, &io))
			return FLT_STOP;
		took = io.consumed;
		if (x->relay)
			x->owed = io.more;
		if (io.in_place) {
			/* a relay whose client caught up: the run is its own
			 * output, framed where it lies */
			if (!s->sess->codec->res_frame(s, (uint32_t)len)) {
				stream_abort(s, "no room to frame the response body");
				return FLT_STOP;
			}
			return v;
		}
	}
	if (!xf_keep(s, x, p + took, len - took))
		return FLT_STOP;
	/* The run leaves the output; the filter's output takes its place. */
	uint32_t n = (uint32_t)len;
	memmove(b->area + b->pr - n, b->area + b->pr, b->wr - b->pr);
	b->pr -= n;
	b->wr -= n;
	if (!xf_emit(s, io.produced))
		return FLT_STOP;
	return v;
}

/* A relay gives what it owes (flags: XF_FLUSH for a coded one) as its
 * client drains, never holding the server's next bytes back: with no room
 * it is simply not asked yet. */
static enum xf_state relay_give(struct stream *s, struct xform *x, unsigned flags)
{
	struct flt_xform io = { .flags = flags, .out_cap = xf_room(x, &s->res, 0) };

	if (!io.out_cap)
		return XF_IDLE;
	if (!xf_call(s, x, &io) || !xf_emit(s, io.produced))
		return XF_MOVED;
	x->owed = io.more;
	if (flags & XF_FLUSH)
		x->dirty = false;
	return io.produced ? XF_MOVED : XF_IDLE;
}

enum xf_state xform_pump(struct stream *s)
{
	struct xform *x = s->txn->res_xf;
	struct flt_xform io = { 0 };

	if (x->pending) {
		io.flags = x->pending;
		io.out_cap = out_room(&s->res, 0);
		if (!io.out_cap)
			return XF_BLOCKED;
		if (!xf_call(s, x, &io) || !xf_emit(s, io.produced))
			return XF_MOVED;   /* cut: the caller sees the stream closed */
		if (!io.more) {
			if (x->pending & XF_END)
				x->finished = true;
			x->pending = 0;
			x->dirty = false;
		}
		return io.produced || !io.more ? XF_MOVED : XF_BLOCKED;
	}
	uint32_t held = buf_data_len(&x->in);
	if (!held && x->owed)
		return relay_give(s, x, 0);
	if (!held)
		return XF_IDLE;
	io.in = buf_out(&x->in);
	io.in_len = held;
	io.out_cap = xf_room(x, &s->res, 0);
	if (!io.out_cap)
		return XF_BLOCKED;
	if (!xf_call(s, x, &io) || !xf_emit(s, io.produced))
		return XF_MOVED;
	if (x->relay)
		x->owed = io.more;
	buf_consume(&x->in, (uint32_t)io.consumed);
	buf_release(&x->in);
	return io.consumed || io.produced ? XF_MOVED : XF_BLOCKED;
}

/* Whether the server may have more bytes for us right now. */
static bool srv_more(const struct stream *s)
{
	return s->srv && s->srv_codec && s->srv_codec->res_more && s->srv_codec->res_more(s);
}

bool xform_idle(struct stream *s)
{
	struct txn *t = s->txn;
	struct xform *x = t->res_xf;

	if ((x->relay && !x->code_ops) || !x->dirty || x->pending || t->res_ended ||
	    (s->flags & STRM_F_PARKED) || buf_data_len(&x->in) ||
	    (s->res.area && buf_in_len(&s->res)) || srv_more(s))
		return false;
	if (x->relay)   /* coded: the flush is given as room allows, as it owes */
		return relay_give(s, x, XF_FLUSH) == XF_MOVED;
	x->pending = XF_FLUSH;
	return xform_pump(s) == XF_MOVED;
}

bool xform_end(struct stream *s)
{
	struct xform *x = s->txn->res_xf;

	while (!x->finished) {
		/* a flush under way ends first, then what is held */
		if (x->pending != XF_END) {
			enum xf_state st = xform_pump(s);
			if (stream_closed(s) || st == XF_BLOCKED)
				return false;
			if (st == XF_MOVED)
				continue;
			x->pending = XF_END;
		}
		enum xf_state st = xform_pump(s);
		if (stream_closed(s) || st == XF_BLOCKED)
			return false;
	}
	return true;
}
