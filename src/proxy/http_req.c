/*
 * http_req.c - the request direction of an HTTP stream, whatever the
 * protocol: the transaction's life (txn_*), the steps between the client
 * codec's decoding and the server codec's encoding, and the body pump.
 *
 *   txn_head_decoded  a client codec decoded t->req: the steps go on
 *   req_route         STEP_ROUTE: limits, use_backend -> t->be
 *   req_assign        STEP_ASSIGN: once the body bytes that came with the
 *                     head are decoded (all of a held body), pick a server
 *                     (or queue); the server codec encodes the head for it
 *   req_body          the body pump under rq: the client codec's decoder
 *                     (sess_codec.req_body), then the end of the message
 *                     (req_body_end); a filter's wait stops it
 *
 * Only struct http_msg is touched here and by the filters of
 * STEP_REQ_RULES and STEP_BE_RULES, so HTTP/2 streams reuse everything from
 * routing on.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/log.h"
#include "filter/cond.h"
#include "proxy/body.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/srv_codec.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

void txn_reset(struct txn *t)
{
	/* The header tables are large and only read up to nhdrs: msg_reset()
	 * clears what matters there (and keeps the stores' memory); every
	 * other field starts from zero. */
	flt_ctx_free_all(t);
	msg_reset(&t->req);
	msg_reset(&t->res);
	h1_parser_reset(&t->req_ps);
	h1_parser_reset(&t->res_ps);
	body_trailers_free(t);
	spill_free(&t->req_spill);
	spill_free(&t->res_spill);
	memset(&t->be, 0, sizeof(*t) - offsetof(struct txn, be));
}

struct txn *stream_txn(struct stream *s)
{
	if (s->txn)
		return s->txn;
	struct txn *t = pool_get(&s->w->txn_pool);
	if (!t)
		return NULL;
	/* The stores' bounds: a request head may grow by tune.maxrewrite
	 * (rules, forwarding headers); a response head fits a buffer. */
	uint32_t room = s->w->cfg->global.maxrewrite;
	msg_init(&t->req, s->fe->max_header_size + room);
	msg_init(&t->res, buf_size);
	t->req_trailers = t->res_trailers = NULL;
	t->flt_ctx = NULL;
	memset(&t->req_spill, 0, sizeof(t->req_spill));   /* txn_reset frees them */
	memset(&t->res_spill, 0, sizeof(t->res_spill));
	txn_reset(t);
	s->txn = t;
	return t;
}

void txn_free(struct worker *w, struct txn *t)
{
	if (!t)
		return;
	flt_ctx_free_all(t);
	msg_free(&t->req);
	msg_free(&t->res);
	body_trailers_free(t);
	spill_free(&t->req_spill);
	spill_free(&t->res_spill);
	pool_put(&w->txn_pool, t);
}

struct http_msg *txn_req_msg(struct stream *s)
{
	return s->txn ? &s->txn->req : NULL;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *txn_line(struct txn *t)
{
	/* Formatted on first use: most requests never need it, and printf is
	 * a good part of a request's user-space time. */
	if (!t || !t->req_head_len)
		return "-";
	if (!t->line[0]) {
		const struct http_msg *m = &t->req;
		snprintf(t->line, sizeof(t->line), "%.*s %.*s HTTP/%u.%u", (int)m->method.len,
			 m->method.p, (int)(m->target.len > 120 ? 120 : m->target.len), m->target.p,
			 m->version_major ? m->version_major : 1, m->version_minor);
	}
	return t->line;
}

/* ---- STEP_READ_HEAD, the protocol-neutral part ---- */

void txn_first_byte(struct txn *t)
{
	if (!t->mono_start_us) {   /* the request's first byte: logs count from here */
		t->start_us = wall_us();
		t->mono_start_us = mono_us();
	}
}

enum step_result txn_head_decoded(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;

	t->bytes_in += t->req_head_len;
	t->head_pending = true;
	t->meth = m->meth;
	/* HTTP/2 has every HTTP/1.1 feature that req_minor gates (chunked
	 * bodies, interim responses) */
	t->req_minor = m->version_major >= 2 ? 1 : m->version_minor;
	t->start_ms = s->w->loop.now;
	if (!s->sess->codec->mux && ((m->flags & MSG_F_CONN_CLOSE) || s->w->stopping))
		s->sess->flags |= SESS_F_CLOSE;
	t->upgrade = (m->flags & MSG_F_CONN_UPGRADE) && (m->flags & MSG_F_HAS_UPGRADE);
	if (s->rq == RQ_BODY)
		t->body_start = s->w->loop.now;   /* the body's clock (stream.c) */
	s->rs = RS_WAIT;
	s->step = STEP_REQ_RULES;
	return STEP_NEXT;
}

/* ---- STEP_ROUTE ---- */

struct backend_rt *req_route_peek(struct stream *s)
{
	const struct cfg_frontend *fe = s->fe;
	struct sockaddr_storage ss;
	struct cond_ctx ctx;
	stream_cond_ctx(s, &ctx, &ss);

	for (int i = 0; i < fe->nrules; i++)
		if (cond_eval(fe->rules[i].cond, &ctx))
			return &s->gen->backends[fe->rules[i].backend->index];
	return fe->default_backend ? &s->gen->backends[fe->default_backend->index] : NULL;
}

enum step_result req_route(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	const struct cfg_frontend *fe = s->fe;

	if (m->meth == HTTP_METH_CONNECT) {
		http_reply_error(s, 405, "CONNECT is not supported by a reverse proxy");
		return STEP_NEXT;
	}
	if (fe->max_body_size && m->body == BODY_LENGTH && m->content_length > fe->max_body_size) {
		http_reply_error(s, 413, "request body larger than max_body_size");
		return STEP_NEXT;
	}
	struct backend_rt *be = req_route_peek(s);
	if (!be) {
		t->term = TERM_NO_SERVER;
		http_reply_error(s, 503, "no backend for this request");
		return STEP_NEXT;
	}
	t->be = be;

	/* We answer 100-continue ourselves once a server is assigned, and
	 * the server never sees Expect: it gets the body straight away. */
	if (m->flags & MSG_F_EXPECT_CONTINUE) {
		msg_hdr_del_id(m, HDR_EXPECT);
		t->expect_continue = m->body != BODY_NONE &&
				     (m->version_major >= 2 || m->version_minor >= 1);
	}
	s->step = STEP_BE_RULES;
	return STEP_NEXT;
}

/* ---- STEP_ASSIGN ---- */

/* Our 100 Continue, once: a client that asked for it sends its body only
 * then (or after its own timeout). */
static void send_continue(struct stream *s, struct txn *t)
{
	if (t->expect_continue && !t->continue_sent && s->sess->codec->send_continue(s))
		t->continue_sent = true;
}

/* A filter holds the body (txn_hold_body): is there more to wait for?
 * With a limit (txn_hold_body_upto), until more than the limit is held:
 * the byte past it is what tells a filter the body is over its limit. */
static bool hold_more(struct stream *s, struct txn *t)
{
	if (!t->hold_body || s->rq != RQ_BODY || t->req_ended)
		return false;
	uint32_t out = s->req.area ? buf_out_len(&s->req) : 0;
	if (t->hold_limit)
		return t->req_spill.len + out <= t->hold_limit;
	/* cli_recv stops at the head room: a full buffer is all we hold */
	uint32_t room = stream_head_room(s) - t->req_head_len;
	return !s->req.area || buf_data_len(&s->req) < room;
}

/* Moves the decoded body bytes of the request buffer (its output: the
 * filters saw them) to the end of the spill chain, making room for more
 * of the body.  False out of memory (the stream is then aborted). */
static bool spill_out(struct stream *s, struct txn *t)
{
	if (spill_take_out(&t->req_spill, &s->req))
		return true;
	stream_abort(s, "out of memory holding the request body");
	return false;
}

/* While holding: the buffer is about as full as the client codecs fill it
 * before a head is encoded, so the decoded bytes move to the chain.  A
 * codec may stop short of full (HTTP/2 credits a window 4 KiB at least:
 * h2_wire_credit), hence the slack. */
#define SPILL_SLACK 8192

static bool spill_due(const struct stream *s, const struct txn *t)
{
	const struct buf *b = &s->req;
	uint32_t room = stream_head_room(s) - t->req_head_len;
	uint32_t out = b->area ? buf_out_len(b) : 0;

	return t->hold_limit && out && (out >= room / 2 || buf_data_len(b) + SPILL_SLACK >= room);
}

/* Before the head leaves: the body bytes that came with it are decoded
 * (and shown to the filters), and, if a filter holds the body, the rest
 * until it ends or fills the buffer; a bodyless request's end event.
 * STEP_NEXT when the head may go. */
static enum step_result req_check_body(struct stream *s, struct txn *t)
{
	/* A malformed chunked body that came in the same packets as its head
	 * is refused before any byte reaches a server. */
	while (s->rq == RQ_BODY && req_body(s))
		if (s->flags & STRM_F_CLOSED)
			return STEP_STOP;
	if (s->step != STEP_ASSIGN)
		return STEP_NEXT;   /* refused meanwhile */
	if (s->flags & STRM_F_PARKED)
		return STEP_WAIT;
	if (hold_more(s, t)) {
		if (spill_due(s, t)) {
			if (!spill_out(s, t))
				return STEP_STOP;
			stream_wake(s);   /* the client codec may take more now */
		}
		send_continue(s, t);
		return STEP_WAIT;
	}
	if (t->req_spill.len && !t->spill_sealed) {
		/* the hold is over: what the buffer decoded goes after the
		 * spilled bytes, so the head leaves alone and they follow it
		 * in order (req_spill_drain) */
		if (!spill_out(s, t))
			return STEP_STOP;
		t->spill_sealed = true;
	}
	if (s->rq == RQ_DONE && !t->req_eom) {
		enum flt_verdict v = body_end(s, false);
		if (s->flags & STRM_F_CLOSED)
			return STEP_STOP;
		if (v == FLT_WAIT)
			return STEP_WAIT;
		if (v == FLT_STOP)
			return STEP_NEXT;
		t->req_eom = true;
	}
	return STEP_NEXT;
}

enum step_result req_assign(struct stream *s)
{
	struct txn *t = s->txn;
	struct backend_rt *be = t->be;

	if (!t->assigned && t->path_two_ways) {
		/* a path condition read the path as sent and as a server that
		 * decodes %2F and removes dot segments does two ways
		 * (filter/cond.h): which one the server takes is unknown */
		http_reply_error(s, 400, "a path condition reads the path two ways");
		return STEP_NEXT;
	}
	if (!t->assigned) {
		enum step_result r = req_check_body(s, t);
		if (r != STEP_NEXT || s->step != STEP_ASSIGN)
			return r;
		t->assigned = true;
		s->retries_left = (int8_t)be->cfg->retries;
		s->req_sent = 0;
		if (s->rq == RQ_DONE && !t->req_spill.len)   /* replay: all in the buffer */
			s->flags |= STRM_F_REPLAY;
		backend_budget_deposit(be);
		t->mono_assign_us = mono_us();
		if (backend_assign(s, be, NULL) < 0)
			return (s->flags & STRM_F_CLOSED) ? STEP_STOP : STEP_NEXT;
	}
	if (s->queued_be)
		return STEP_WAIT;   /* backend_dequeue() assigns, then wakes us */
	/* A connection is attached: the head is encoded for its protocol
	 * (a retry elsewhere sends the same bytes again). */
	if (t->head_pending && !s->srv_codec->encode_head(s))
		return STEP_NEXT;
	send_continue(s, t);
	s->step = STEP_WAIT_HEAD;
	return STEP_NEXT;
}

/* ---- the body pump ---- */

/* The client codec decoded the request body's last byte: its end event,
 * then the direction is done.  False while the event waits (the stream is
 * parked, or the end's framing waits for room). */
bool req_body_end(struct stream *s)
{
	struct txn *t = s->txn;

	t->req_ended = true;
	/* A bare body's end gets the server's framing first (the last chunk
	 * and the trailers for HTTP/1.1); encode_head does it for a body that
	 * ended before the head went out.  False while the buffer has no room
	 * for it: called again once it drained. */
	if (t->req_bare && !t->head_pending && !t->discard_body && s->srv_codec &&
	    !s->srv_codec->req_frame_end(s))
		return false;
	enum flt_verdict v = body_end(s, false);
	if (v == FLT_WAIT)
		return false;
	if (v == FLT_CONTINUE) {
		t->req_eom = true;
		s->rq = RQ_DONE;
	}
	return true;   /* done, or a filter answered (local_reply) */
}

bool req_body(struct stream *s)
{
	struct txn *t = s->txn;

	if (s->flags & STRM_F_PARKED)
		return false;   /* a filter's verdict is pending (filter.h) */
	if (body_data_reask(s, false) != FLT_CONTINUE)
		return false;   /* still pending (parked again), or it answered */
	if (t->req_ended)
		return req_body_end(s);   /* the end event again, after its wait */
	return s->sess->codec->req_body(s);
}

/* A held body's spilled bytes (txn_hold_body_upto), once the head went
 * out: from the chain's front to the end of the request buffer's output,
 * each run framed for the server, as much as the buffer has room for; the
 * end of the body's framing once the chain is empty, if the body ended.
 * Nothing new is decoded meanwhile (the client codecs take no more body:
 * txn_req_spilling), so the order holds. */
static bool req_spill_drain(struct stream *s, struct txn *t)
{
	struct buf *b = &s->req;

	if (t->discard_body || t->local) {
		spill_free(&t->req_spill);
		return true;
	}
	if (t->head_pending || !s->srv_codec)
		return false;
	if (!buf_alloc(b)) {
		stream_abort(s, "out of memory");
		return true;
	}
	int64_t moved = spill_release(&t->req_spill, b, BODY_FRAME_MARGIN, 1);
	if (moved == 0)
		return false;
	if (moved < 0) {
		stream_abort(s, "no room to release the request body");
		return true;
	}
	uint32_t n = (uint32_t)moved;
	if (t->req_bare && !s->srv_codec->req_frame(s, n)) {
		stream_abort(s, "no room to frame the request body");
		return true;
	}
	if (!t->req_spill.len && t->req_ended && t->req_bare)
		s->srv_codec->req_frame_end(s);   /* false: framed by the pump's next run */
	return true;
}

/* The request direction's work outside the steps: the body pump, and
 * noticing a client that leaves between requests. */
bool http_req_pump(struct stream *s)
{
	if (s->txn && s->txn->req_spill.len && s->txn->spill_sealed)
		return req_spill_drain(s, s->txn);
	/* the drained body's end, when it found no room at once */
	if (s->txn && s->txn->spill_sealed && s->rq == RQ_DONE && s->txn->req_bare &&
	    !s->txn->req_framed_end && !s->txn->head_pending && s->srv_codec &&
	    !s->txn->discard_body && !s->txn->local)
		return s->srv_codec->req_frame_end(s);
	switch (s->rq) {
	case RQ_IDLE:
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);
			return true;
		}
		return false;
	case RQ_BODY:
		/* Until the head is encoded, body bytes wait (req_assign checks
		 * them first, then the head goes in front of them). */
		if (s->txn->head_pending && !s->txn->discard_body)
			return false;
		return req_body(s);
	default:
		return false;
	}
}
