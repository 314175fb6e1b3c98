/*
 * h2_client.c - the HTTP/2 codec of a client session (sess_codec_h2,
 * RFC 9113), on nghttp2's session API driven by our loop and buffers.
 *
 * One connection (struct h2c) carries many streams; each becomes a stream
 * of the pipeline (stream.h) with its own transaction, buffers, server and
 * timer, and travels the same steps, filters, routing and balancing as an
 * HTTP/1.1 request.  What differs is only here:
 *
 *   - the client socket belongs to the connection: its bytes go through
 *     nghttp2_session_mem_recv(), whose callbacks turn a header block into
 *     the request message (http/h2_msg.c) and DATA into bare body bytes in
 *     the stream's `req` buffer; frames leave through
 *     nghttp2_session_mem_send() into the connection's `out` buffer;
 *   - the stream's codec operations (read_head, req_body, deliver, ...)
 *     only queue work in nghttp2 (submit, resume, consume) and ask for a
 *     flush; nghttp2 is only ever run (mem_recv, mem_send) from the
 *     connection's own context - its socket event or a deferred flush -
 *     never from inside a stream's stream_process(), so a callback can end
 *     a stream without pulling it from under its own processing;
 *   - bodies are bare both ways (t->req_bare, t->res_bare): the server's
 *     codec frames the request body for its protocol, and hands the
 *     response body decoded, trailers as events.
 *
 * Flow control is backpressure: a stream's window is only credited back
 * (nghttp2_session_consume) as its `req` buffer drains towards the server,
 * and response DATA is only read from its `res` buffer when the client's
 * window lets nghttp2 send it, so a full buffer stops the server reads of
 * that stream alone.  Memory per connection: two buffers per stream in
 * flight (bounded by h2_max_streams), plus `in` and `out`, plus a stream's
 * overflow (h2s.over: DATA its buffer cannot take while its held body is
 * released or a filter's verdict is out), within the window it was given.
 *
 * Protections (frontend h2_* limits, cfg.h struct cfg_h2): concurrent
 * streams, the decoded header list, the HPACK table, a budget of client
 * stream resets (rapid reset) and one of frames that move no stream
 * (SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty DATA, CONTINUATION
 * floods); past a budget the connection gets GOAWAY(ENHANCE_YOUR_CALM),
 * logged once.
 */
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "admin/metrics.h"
#include "core/log.h"
#include "http/h2_msg.h"
#include "net/conn.h"
#include "proxy/body.h"
#include "proxy/h2_wire.h"
#include "proxy/local.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "proxy/xform.h"

/*
 * RFC 9113 5.1.2: a stream past the advertised limit is a stream error
 * (REFUSED_STREAM), but nghttp2 makes it a connection error once the limit
 * is acknowledged, which would kill every good stream of the connection.
 * So nghttp2 is given the limit plus this slack, the client sees the real
 * one (patched into our first SETTINGS frame on its way out, h2c_send),
 * and on_begin_headers refuses the streams in between itself.
 */
#define H2_STREAMS_SLACK 100

/* Budgets refill over this window (h2_max_resets, h2_max_control). */
#define H2_BUDGET_WINDOW_MS 10000
/* Room kept free in a request buffer for the framing a server codec adds
 * around a run of bare body bytes (body.h). */
#define H2_FRAME_MARGIN BODY_FRAME_MARGIN
/* The connection's receive window: large enough that a stream that does
 * not drain cannot hold back the others (each stream has its own). */
#define H2_CONN_WINDOW (16 * 1024 * 1024)
/* A header block decoding to this many times the limit is an HPACK bomb:
 * the connection is cut rather than the block decoded on. */
#define H2_BOMB_FACTOR 4

struct h2c;

/* One stream's codec state, next to its pipeline stream. */
struct h2s {
	struct h2c *c;
	struct stream *s;          /* NULL once the pipeline stream is gone */
	int32_t id;
	struct list link;          /* in c->streams */
	struct h2m_state st;       /* the request header block's decoder */
	uint32_t hdr_bytes;        /* decoded header list size (RFC 9113 6.5.2 counting) */
	uint32_t unacked;          /* DATA bytes received, window not yet credited back */
	uint16_t flags;            /* H2S_F_* */
	/* DATA that came while the stream's held body is released
	 * (txn_req_spilling), or that its buffer had no room for while the
	 * stream waits for a filter's verdict (h2s_parked): in order, before
	 * anything newer; bounded by the window the stream had (no credit
	 * meanwhile), about a buffer */
	struct spill over;
};

#define H2S_F_HEAD      0x0001  /* the request head is decoded (or refused: TOO_LARGE) */
#define H2S_F_EOS       0x0002  /* the client ended its side (END_STREAM) */
#define H2S_F_CLOSED    0x0004  /* nghttp2 closed the stream (on_stream_close) */
#define H2S_F_REFUSED   0x0008  /* reset by us before the pipeline saw it */
#define H2S_F_TOO_LARGE 0x0010  /* the header list passed h2_max_header_list: 431 */
#define H2S_F_SUBMITTED 0x0020  /* the response head is submitted */
#define H2S_F_DEFERRED  0x0040  /* the data source waits for bytes (resume_data) */
#define H2S_F_RES_EOS   0x0080  /* the response's END_STREAM is handed to nghttp2 */
#define H2S_F_RST_SENT  0x0100  /* we reset it (or asked nghttp2 to) */
#define H2S_F_TRAILERS  0x0200  /* a trailer block is arriving */
#define H2S_F_FAILED    0x0400  /* a trailer field did not fit: the request is cut */
#define H2S_F_TUNNEL    0x0800  /* extended CONNECT (RFC 8441): a tunnel once accepted */

/* A connection's budget: `left` tokens, refilled to `max` every window. */
struct h2_budget {
	uint32_t left;
	uint64_t since;
};

struct h2c {
	struct session *ss;
	struct h2_wire w;          /* nghttp2, `in`, `out`, the held DATA run */
	struct list streams;       /* struct h2s, pipeline streams alive */
	uint32_t nstreams;
	struct h2_budget resets, control;
	bool flush_queued;         /* a deferred flush is pending */
	bool input_queued;         /* a deferred input run is pending (after a pause) */
	bool goaway;               /* we sent GOAWAY: no new streams, close when idle */
	bool calm_logged;          /* ENHANCE_YOUR_CALM logged for this connection */
};

static void h2c_want_flush(struct h2c *c);
static void h2c_input_deferred(void *arg);
static void h2c_input_again(struct h2c *c);
static bool h2s_credit(struct h2c *c, struct h2s *h, struct stream *s);

/* h2m_nv is nghttp2_nv, kept apart so http/ needs no nghttp2 include */
_Static_assert(sizeof(struct h2m_nv) == sizeof(nghttp2_nv) &&
	       offsetof(struct h2m_nv, valuelen) == offsetof(nghttp2_nv, valuelen) &&
	       offsetof(struct h2m_nv, flags) == offsetof(nghttp2_nv, flags),
	       "struct h2m_nv must match nghttp2_nv");

static inline struct h2s *strm_h2s(const struct stream *s)
{
	return s->cs;
}

static inline struct h2c *strm_h2c(const struct stream *s)
{
	return s->sess->h2;
}

/*
 * The stream waits for a filter's verdict (FLT_WAIT: a WAF judging the
 * body so far on the offload pool, a limit's delay, a cache fill it
 * coalesces on): its steps and body pump stand still until the filter
 * wakes it, so its buffer does not drain meanwhile.  Its DATA and
 * END_STREAM wake it as any stream's: the waiting callback is asked
 * again (a data one with an empty run, body_data_reask) and parks it
 * again while its verdict is out, so no byte passes a filter still
 * judging.  What its buffer has no room for must not stay held at the
 * connection (that would stall every other stream for as long as the
 * verdict takes): once it parks again, the held run moves to the
 * stream's overflow (h2_check_end, h2s_overflow).
 */
static inline bool h2s_parked(const struct stream *s)
{
	return s->flags & STRM_F_PARKED;
}


/* ---- budgets (rapid reset, floods) ---- */

/* Takes a token; false when the budget is spent. */
static bool budget_take(struct h2_budget *b, uint32_t max, uint64_t now)
{
	if (now - b->since >= H2_BUDGET_WINDOW_MS) {
		b->left = max;
		b->since = now;
	}
	if (b->left == 0)
		return false;
	b->left--;
	return true;
}

/* GOAWAY(ENHANCE_YOUR_CALM): the connection is abusing us (RFC 9113 5.4.1:
 * a connection error); logged once. */
static int h2c_calm(struct h2c *c, const char *why)
{
	if (!c->calm_logged) {
		char src[INET6_ADDRSTRLEN];
		log_warn("%s: %s: HTTP/2 %s, connection closed (ENHANCE_YOUR_CALM)", c->ss->fe->name,
			 session_src_text(c->ss, src, sizeof(src)), why);
		c->calm_logged = true;
	}
	nghttp2_session_terminate_session(c->w.ng, NGHTTP2_ENHANCE_YOUR_CALM);
	c->goaway = true;
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}


/* ---- streams ---- */

static struct h2s *h2s_of(nghttp2_session *ng, int32_t id)
{
	return nghttp2_session_get_stream_user_data(ng, id);
}

/* A new request stream: its pipeline stream starts at STEP_READ_HEAD and
 * waits there until the header block has been decoded. */
static struct h2s *h2s_new(struct h2c *c, int32_t id)
{
	struct session *ss = c->ss;
	struct worker *w = ss->w;
	struct h2s *h = calloc(1, sizeof(*h));
	struct stream *s = h ? pool_zget(&w->stream_pool) : NULL;
	struct txn *t = NULL;

	if (s) {
		session_follow(ss);   /* a reload: new streams run under the new generation */
		stream_init(s, ss);
		t = stream_txn(s);
	}
	if (!t) {
		if (s)
			stream_put(s);
		free(h);
		return NULL;
	}
	h->c = c;
	h->s = s;
	h->id = id;
	s->cs = h;
	s->flags |= STRM_F_HTTP;
	s->rq = RQ_HEAD;
	s->cli_last = w->loop.now;
	txn_first_byte(t);
	h2m_begin(&h->st, &t->req, false, false);
	list_add_tail(&c->streams, &h->link);
	if (c->nstreams++ == 0) {
		timer_del(&w->loop, &ss->idle_timer);
		session_idle(ss, false);
	}
	metrics_h2_stream(ss->fe);
	return h;
}

static void h2s_free_deferred(void *arg)
{
	struct stream *s = arg;
	struct h2s *h = s->cs;

	spill_free(&h->over);   /* the worker's pool: this thread */
	free(h);
	stream_put(s);
}

/* The pipeline stream is over: what it holds goes back (the access log's
 * end phase runs), it leaves the connection, and both structs are freed
 * after this batch of events. */
static void h2s_detach(struct h2s *h)
{
	struct stream *s = h->s;
	struct h2c *c = h->c;
	struct session *ss = c->ss;

	if (!s)
		return;
	stream_release(s);
	h->s = NULL;
	/* DATA it received and never credited back (still in its buffer or
	 * overflow, or held: a reset while it waited for a filter or for its
	 * server) returns to the connection's window, which would otherwise
	 * shrink for good; the stream's own window ends with it. */
	if (h->unacked) {
		nghttp2_session_consume(c->w.ng, h->id, h->unacked);
		h->unacked = 0;
		h2c_want_flush(c);
	}
	if (!(h->flags & H2S_F_CLOSED))
		nghttp2_session_set_stream_user_data(c->w.ng, h->id, NULL);
	list_del(&h->link);
	loop_defer(&s->w->loop, h2s_free_deferred, s);
	if (--c->nstreams == 0 && !(ss->flags & SESS_F_CLOSED)) {
		timer_set(&ss->w->loop, &ss->idle_timer, ss->cli_last + ss->fe->timeout_client_ms);
		session_idle(ss, true);
		if (c->goaway)
			h2c_want_flush(c);   /* closes the idle connection */
	}
}

/* Resets the stream (once) and asks for the frame to leave. */
static void h2s_reset(struct h2s *h, uint32_t code)
{
	if (h->flags & (H2S_F_RST_SENT | H2S_F_CLOSED))
		return;
	h->flags |= H2S_F_RST_SENT;
	nghttp2_submit_rst_stream(h->c->w.ng, NGHTTP2_FLAG_NONE, h->id, code);
	h2c_want_flush(h->c);
}

/* The exchange is over (or cut): the server connection goes back to the
 * pool if it is clean, the stream ends. */
static void h2s_finish(struct h2s *h, bool srv_clean)
{
	struct stream *s = h->s;

	if (!s)
		return;
	if (!srv_clean)
		stream_orphan_fetch(s);   /* a fetch kept going (txn_keep_fetch) moves on */
	txn_end(s);
	backend_release(s, srv_clean);
	h2s_detach(h);
}


/* ---- nghttp2 callbacks: the request side ---- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2c *c = ud;

	if (f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (f->headers.cat != NGHTTP2_HCAT_REQUEST) {
		struct h2s *h = h2s_of(ng, f->hd.stream_id);
		if (h)
			h->flags |= H2S_F_TRAILERS;
		return 0;
	}
	if (c->goaway || (c->ss->flags & SESS_F_CLOSED) || c->nstreams >= c->ss->fe->h2.max_streams) {
		/* past GOAWAY or h2_max_streams: never processed, retry elsewhere */
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_REFUSED_STREAM);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	struct h2s *h = h2s_new(c, f->hd.stream_id);
	if (!h) {
		log_err("%s: out of memory for an HTTP/2 stream", c->ss->fe->name);
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_REFUSED_STREAM);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, h);
	return 0;
}

/* A field the request cannot take: the stream is reset before the
 * pipeline ever sees it, so nothing of it reaches a server. */
static int refuse_stream(struct h2s *h, const char *why)
{
	char src[INET6_ADDRSTRLEN];
	log_warn("%s: %s: HTTP/2 stream %d refused: %s", h->c->ss->fe->name,
		 session_src_text(h->c->ss, src, sizeof(src)), h->id, why);
	h->flags |= H2S_F_REFUSED | H2S_F_RST_SENT;
	nghttp2_submit_rst_stream(h->c->w.ng, NGHTTP2_FLAG_NONE, h->id, NGHTTP2_PROTOCOL_ERROR);
	if (h->s) {
		h->s->txn->logged = true;   /* never a request: nothing to log */
		h2s_detach(h);
	}
	return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2c *c = ud;
	struct h2s *h = h2s_of(ng, f->hd.stream_id);
	(void)flags;

	if (!h || !h->s || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	uint32_t limit = c->ss->fe->h2.max_header_list;
	h->hdr_bytes += (uint32_t)(nlen + vlen + 32);
	if (h->hdr_bytes > limit) {
		if (h->hdr_bytes / H2_BOMB_FACTOR > limit)
			return h2c_calm(c, "header block decodes far past h2_max_header_list");
		h->flags |= H2S_F_TOO_LARGE;
		return 0;
	}
	if (h->flags & H2S_F_TOO_LARGE)
		return 0;
	if (h->flags & H2S_F_TRAILERS) {
		/* trailers: no pseudo-header (nghttp2 checks), fields as the
		 * head's; kept for the end event and the server's framing */
		struct h2m_state st;
		struct http_msg probe;
		msg_init(&probe, 0);
		h2m_begin(&st, &probe, false, true);
		int r = h2m_field(&st, &probe, name, nlen, value, vlen);
		msg_free(&probe);
		if (r == H2M_MALFORMED)
			return refuse_stream(h, st.reason ? st.reason : "malformed trailer field");
		struct slice n = { (const char *)name, (uint32_t)nlen };
		struct slice v = { (const char *)value, (uint32_t)vlen };
		if (r != H2M_OK || body_trailer(h->s, false, n, v) < 0)
			h->flags |= H2S_F_FAILED;
		return 0;
	}
	int r = h2m_field(&h->st, &h->s->txn->req, name, nlen, value, vlen);
	if (r == H2M_MALFORMED)
		return refuse_stream(h, h->st.reason ? h->st.reason : "malformed header field");
	if (r == H2M_TOO_LARGE)
		h->flags |= H2S_F_TOO_LARGE;
	return 0;
}

/* An approximation of the head's size on an HTTP/1.1 wire, for the room
 * body bytes may take before it is encoded in front of them. */
static uint32_t head_wire_len(const struct http_msg *m)
{
	uint32_t n = m->method.len + m->target.len + 16;
	for (int i = 0; i < m->nhdrs; i++)
		n += m->hdrs[i].name.len + m->hdrs[i].value.len + 4;
	return n;
}

/* Every stream's credit again (h2s_credit), from the connection's input;
 * the frames leave with its flush. */
static void h2c_credit_all(struct h2c *c)
{
	struct list *pos;

	list_for_each(pos, &c->streams) {
		struct h2s *h = container_of(pos, struct h2s, link);
		if (h->s && !(h->flags & H2S_F_CLOSED))
			h2s_credit(c, h, h->s);
	}
}

/* The request head is complete: the pipeline's READ_HEAD step takes it. */
static int head_done(struct h2s *h, bool eos)
{
	struct txn *t = h->s->txn;

	if (!(h->flags & H2S_F_TOO_LARGE)) {
		int r = h2m_req_end(&h->st, &t->req, eos);
		if (r == H2M_MALFORMED)
			return refuse_stream(h, h->st.reason ? h->st.reason : "malformed request head");
		if (r == H2M_TOO_LARGE)
			h->flags |= H2S_F_TOO_LARGE;
	}
	h->flags |= H2S_F_HEAD;
	/* DATA come only after the head: req_room needs its size from here */
	if (!(h->flags & H2S_F_TOO_LARGE))
		t->req_head_len = head_wire_len(&t->req);
	if (eos)
		h->flags |= H2S_F_EOS;
	stream_wake(h->s);
	return 0;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2c *c = ud;
	struct h2s *h = f->hd.stream_id ? h2s_of(ng, f->hd.stream_id) : NULL;
	bool eos = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	switch (f->hd.type) {
	case NGHTTP2_HEADERS:
		if (!h || !h->s)
			return 0;
		if (f->headers.cat == NGHTTP2_HCAT_REQUEST)
			return head_done(h, eos);
		/* trailers (nghttp2 requires END_STREAM on them) */
		h->flags &= (uint16_t)~H2S_F_TRAILERS;
		if (eos)
			h->flags |= H2S_F_EOS;
		stream_wake(h->s);
		return 0;
	case NGHTTP2_DATA:
		if (h && h->s && eos) {
			h->flags |= H2S_F_EOS;
			stream_wake(h->s);
		}
		return 0;
	case NGHTTP2_SETTINGS:
		/* Our SETTINGS are in force (nghttp2 applied them before this
		 * call): a smaller INITIAL_WINDOW_SIZE took from every open
		 * stream's window what the client had under the old one, and
		 * credit withheld for it is due now (h2s_credit). */
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			h2c_credit_all(c);
		return 0;
	case NGHTTP2_RST_STREAM:
		metrics_h2_reset(c->ss->fe);
		/* CVE-2023-44487: opening and resetting streams costs us work
		 * and the client nothing */
		if (!budget_take(&c->resets, c->ss->fe->h2.max_resets, c->ss->w->loop.now))
			return h2c_calm(c, "rapid reset: h2_max_resets streams reset within 10s");
		return 0;
	default:
		return 0;
	}
}

/* Whether a frame moves no stream forward (flood material). */
static bool frame_is_control(struct h2c *c, const nghttp2_frame_hd *hd)
{
	switch (hd->type) {
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
		return !(hd->flags & NGHTTP2_FLAG_ACK);
	case NGHTTP2_PRIORITY:
	case NGHTTP2_CONTINUATION:
		return true;
	case NGHTTP2_DATA:
		return hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM);
	case NGHTTP2_WINDOW_UPDATE: {
		/* useful while we have something to send on it */
		if (hd->stream_id == 0)
			return nghttp2_session_get_remote_window_size(c->w.ng) >= H2_CONN_WINDOW;
		struct h2s *h = h2s_of(c->w.ng, hd->stream_id);
		return !h || !h->s || !h->s->res.area || buf_out_len(&h->s->res) == 0;
	}
	default:
		return false;
	}
}

static int on_begin_frame(nghttp2_session *ng, const nghttp2_frame_hd *hd, void *ud)
{
	struct h2c *c = ud;
	(void)ng;

	if (frame_is_control(c, hd) &&
	    !budget_take(&c->control, c->ss->fe->h2.max_control, c->ss->w->loop.now))
		return h2c_calm(c, "flood: h2_max_control frames that move no stream within 10s");
	return 0;
}

/* Room for DATA bytes at the end of the stream's request buffer (compacted
 * if that makes more): until the head is encoded in front of them, only
 * what it leaves (as for HTTP/1, h1_recv). */
static uint32_t req_room(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->req;
	uint32_t limit = buf_size - H2_FRAME_MARGIN;

	if (txn_req_spilling(t))
		return 0;   /* a held body's spilled bytes go first */
	if (s->step < STEP_ASSIGN || t->head_pending) {
		uint32_t room = stream_head_room(s);
		limit = room > t->req_head_len + H2_FRAME_MARGIN ?
				room - t->req_head_len - H2_FRAME_MARGIN : 0;
	}
	if (b->wr + H2_FRAME_MARGIN > limit && b->rd)
		buf_compact(b);
	return b->wr < limit ? limit - b->wr : 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct h2c *c = ud;
	struct h2s *h = h2s_of(ng, id);
	(void)flags;

	if (h && h->s && h->s->txn)
		h->s->txn->body_rcvd += len;   /* the body's clock (stream.c) */
	if (!h || !h->s || (h->s->txn && h->s->txn->discard_body) || h->s->rq == RQ_DONE) {
		/* nobody will read it (a local reply ended the request): the
		 * window goes back at once */
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	struct stream *s = h->s;
	if (!buf_alloc(&s->req)) {
		h2s_reset(h, NGHTTP2_INTERNAL_ERROR);
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	h->unacked += (uint32_t)len;
	s->cli_last = s->w->loop.now;
	stream_wake(s);
	if (h->over.len || txn_req_spilling(s->txn)) {
		/* A held body's bytes go to the server first, which takes as
		 * long as the server takes to read up to body_limit: pausing
		 * the connection's input on this run (below) would stall every
		 * other stream meanwhile.  It waits in the stream's overflow
		 * (h2_recv moves it in once the release is over). */
		if (!spill_add(&h->over, (const char *)data, (uint32_t)len)) {
			h2s_reset(h, NGHTTP2_INTERNAL_ERROR);
			h->unacked -= (uint32_t)len;
			nghttp2_session_consume(ng, id, len);
		}
		return 0;
	}
	/* req_room() may compact the buffer: the end it allows is taken after */
	uint32_t room = req_room(s);
	return h2_wire_data(&c->w, h, &s->req, s->req.wr + room, data, len);
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2c *c = ud;
	struct h2s *h = h2s_of(ng, id);
	(void)code;

	if (!h)
		return 0;
	if (c->w.held == h) {
		/* the stream is gone: nothing to wait for, the input goes on */
		h2_wire_drop_held(&c->w);
		h2c_input_again(c);
	}
	h->flags |= H2S_F_CLOSED;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	/* The pipeline stream finishes in its own check_end: a stream closed
	 * before its response ended was cut by the client. */
	stream_wake(h->s);
	return 0;
}


/* ---- nghttp2: the response body source ---- */

/* A tunnel's server side has nothing more to send. */
static bool tunnel_srv_done(const struct stream *s)
{
	return !s->srv || (s->srv->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR));
}

static ssize_t res_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
	/* by id, not src->ptr: a stream that ended is no longer found */
	struct h2s *h = h2s_of(ng, id);
	struct stream *s = h ? h->s : NULL;
	(void)src;
	(void)ud;

	if (!s) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	struct txn *t = s->txn;
	uint32_t avail = s->res.area ? buf_out_len(&s->res) : 0;
	size_t n = avail < len ? avail : len;
	if (n) {
		memcpy(buf, buf_out(&s->res), n);
		buf_consume(&s->res, (uint32_t)n);
		buf_release(&s->res);
		t->bytes_out += n;
		s->cli_last = s->w->loop.now;
		stream_wake(s);   /* room for the server's next bytes */
	}
	if (s->res.area && buf_out_len(&s->res))
		return (ssize_t)n;
	if (s->rs == RS_TUNNEL && tunnel_srv_done(s)) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;   /* the server closed its way */
		h->flags |= H2S_F_RES_EOS;
		stream_wake(s);
		return (ssize_t)n;
	}
	if (s->rs == RS_DONE) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		h->flags |= H2S_F_RES_EOS;
		const struct http_msg *tr = t->res_trailers;
		if (tr && !t->local) {
			struct h2m_nv nv[HTTP_MAX_HDRS + 1];
			int k = h2m_encode_trailers(tr, nv, HTTP_MAX_HDRS + 1, s->w->scratch, buf_size);
			if (k > 0 && nghttp2_submit_trailer(h->c->w.ng, h->id, (const nghttp2_nv *)nv,
							    (size_t)k) == 0)
				*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		}
		stream_wake(s);
		return (ssize_t)n;
	}
	if (n)
		return (ssize_t)n;
	h->flags |= H2S_F_DEFERRED;
	return NGHTTP2_ERR_DEFERRED;
}


/* ---- the connection: input, output, life ---- */

static void h2c_close(struct h2c *c)
{
	session_close(c->ss);
}

/* Frames to the socket; false when the connection failed. */
static bool h2c_send(struct h2c *c)
{
	bool sent = false;
	bool ok = h2_wire_send(&c->w, &c->ss->cli, &sent);
	if (sent)
		c->ss->cli_last = c->ss->w->loop.now;
	return ok;
}

/* Flushes; a connection nghttp2 is done with, or that is idle after our
 * GOAWAY, closes. */
static void h2c_flush(struct h2c *c)
{
	if (c->ss->flags & SESS_F_CLOSED)
		return;
	if (!h2c_send(c)) {
		h2c_close(c);
		return;
	}
	bool idle_goaway = c->goaway && c->nstreams == 0;
	if ((!nghttp2_session_want_read(c->w.ng) && !nghttp2_session_want_write(c->w.ng)) ||
	    idle_goaway) {
		if (!h2_wire_pending(&c->w))
			h2c_close(c);
	}
}

static void h2c_flush_deferred(void *arg)
{
	struct h2c *c = arg;
	c->flush_queued = false;
	h2c_flush(c);
}

static void h2c_want_flush(struct h2c *c)
{
	if (c->flush_queued || (c->ss->flags & SESS_F_CLOSED))
		return;
	if (loop_defer(&c->ss->w->loop, h2c_flush_deferred, c) == 0)
		c->flush_queued = true;
}

/* `in` to nghttp2.  False when the connection failed. */
static bool h2c_input(struct h2c *c)
{
	int rv = h2_wire_input(&c->w);
	if (rv < 0 && rv != NGHTTP2_ERR_CALLBACK_FAILURE) {   /* ours were logged */
		char src[INET6_ADDRSTRLEN];
		log_debug("%s: %s: HTTP/2 connection error: %s", c->ss->fe->name,
			  session_src_text(c->ss, src, sizeof(src)), nghttp2_strerror(rv));
	}
	return rv == 0;
}

/* Reads the socket into `in` and feeds nghttp2, until the socket is dry or
 * a stream's full buffer pauses the input. */
static void h2c_read(struct h2c *c)
{
	struct session *ss = c->ss;
	struct conn *cli = &ss->cli;

	while (!c->w.held_len && (cli->flags & CONN_F_RECV_READY) &&
	       !(cli->flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
		ssize_t n = h2_wire_recv(&c->w, cli);
		if (n < 0) {
			h2c_close(c);
			return;
		}
		if (n == 0)
			break;
		ss->cli_last = ss->w->loop.now;
		if (!h2c_input(c)) {
			h2c_flush(c);   /* the GOAWAY nghttp2 queued, best effort */
			h2c_close(c);
			return;
		}
		if (ss->flags & SESS_F_CLOSED)
			return;
	}
	if (c->w.in.area && buf_empty(&c->w.in))
		buf_release(&c->w.in);
	if ((cli->flags & (CONN_F_RD_EOF | CONN_F_ERROR)) && !c->w.held_len) {
		/* The client is gone: its streams end with it. */
		h2c_close(c);
		return;
	}
	h2c_flush(c);
}

static void h2_on_event(struct session *ss)
{
	h2c_read(ss->h2);
}

/* After a pause: the held run went into its stream, the rest of `in`
 * (and the socket) can be read on. */
static void h2c_input_deferred(void *arg)
{
	struct h2c *c = arg;
	c->input_queued = false;
	if (c->ss->flags & SESS_F_CLOSED)
		return;
	if (!h2c_input(c)) {
		h2c_flush(c);
		h2c_close(c);
		return;
	}
	h2c_read(c);
}

/* The input goes on after a held run was moved in or dropped (deferred:
 * nghttp2 must not run inside a stream's processing). */
static void h2c_input_again(struct h2c *c)
{
	if (!c->input_queued && loop_defer(&c->ss->w->loop, h2c_input_deferred, c) == 0)
		c->input_queued = true;
}

/* Moves what it can of a held DATA run into its stream's buffer. */
static bool h2c_unhold(struct h2c *c, struct stream *s)
{
	bool done;
	uint32_t room = req_room(s);
	bool moved = h2_wire_unhold(&c->w, &s->req, s->req.wr + room, &done);
	if (done)
		h2c_input_again(c);
	return moved;
}

/*
 * The overflow (h->over): a held body's release, a filter's verdict.
 * While the stream's spilled bytes go to the server (txn_req_spilling) its
 * buffer takes no DATA, and while it waits for a filter (h2s_parked) its
 * buffer does not drain: a run held at the connection then (h2_wire_data
 * paused on it before) moves to the stream's overflow, so the connection's
 * input goes on for the other streams; once the release or the wait is
 * over, the overflow moves into the buffer as it has room, in order, and
 * the body decoder (h2_req_body) takes it from there.  True when bytes
 * moved.
 */
static bool h2s_overflow(struct h2c *c, struct h2s *h, struct stream *s)
{
	bool progress = false;
	bool waits = txn_req_spilling(s->txn) || h2s_parked(s);

	if (c->w.held == h && c->w.held_len && waits) {
		if (!spill_add(&h->over, (const char *)c->w.held_p, (uint32_t)c->w.held_len)) {
			stream_abort(s, "out of memory holding HTTP/2 DATA");
			return true;
		}
		h2_wire_drop_held(&c->w);
		h2c_input_again(c);
	}
	if (!h->over.len || waits || !buf_alloc(&s->req))
		return false;
	for (;;) {
		uint32_t len, room = req_room(s);
		const char *p = spill_front(&h->over, &len);
		uint32_t n = len < room ? len : room;
		if (!n)
			break;
		memcpy(s->req.area + s->req.wr, p, n);
		s->req.wr += n;
		spill_consume(&h->over, n);
		progress = true;
	}
	if (progress)
		stream_wake(s);   /* the body decoder takes them */
	return progress;
}


/* ---- the stream's codec operations ---- */

/*
 * Credits the client's window with what left the stream's buffer, keeping
 * buffered bytes (the overflow's too) plus the window the client still has
 * within the buffer (before the head is encoded, within the room it
 * leaves); nothing while a held body's spilled bytes go first.  True when
 * a WINDOW_UPDATE may be queued (the caller flushes).
 *
 * The window the client still has is nghttp2's, which our SETTINGS change
 * when the client acknowledges them: a stream whose credit was computed
 * before that (an eager client's 64 KiB under the default window, our
 * INITIAL_WINDOW_SIZE smaller) saw a window the client no longer has, and
 * the client waits for the credit that decision withheld.  So the ACK runs
 * this for every stream again (on_frame_recv), whatever the stream waits
 * for: the same bound as here, and no wake (the stream has nothing new to
 * do: only the client's window moved).
 */
static bool h2s_credit(struct h2c *c, struct h2s *h, struct stream *s)
{
	struct txn *t = s->txn;

	if (!h->unacked || c->w.held == h || txn_req_spilling(t))
		return false;
	uint32_t cap = buf_size - H2_FRAME_MARGIN;
	if (t && (s->step < STEP_ASSIGN || t->head_pending)) {
		uint32_t room = stream_head_room(s);
		cap = room > t->req_head_len + H2_FRAME_MARGIN ?
			      room - t->req_head_len - H2_FRAME_MARGIN : 0;
	}
	uint64_t buffered = (s->req.area ? buf_data_len(&s->req) : 0) + h->over.len;
	return h2_wire_credit(&c->w, h->id, &h->unacked,
			      buffered > UINT32_MAX ? UINT32_MAX : (uint32_t)buffered, cap);
}

/* Moves held DATA into the stream (h2c_unhold, h2s_overflow), then credits
 * the client's window as the buffer leaves room (h2s_credit). */
static bool h2_recv(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct h2c *c = strm_h2c(s);
	bool progress = false;

	if (!h)
		return false;
	/* Reset by the client before its response ended: the stream ends
	 * here, before the steps could send it to a server (rapid reset
	 * piles no work on servers). */
	if ((h->flags & H2S_F_CLOSED) && !(h->flags & H2S_F_RES_EOS)) {
		if (s->txn && !s->txn->term)
			s->txn->term = TERM_CLIENT_ABORT;
		h2s_finish(h, false);
		return true;
	}
	if (s->rq == RQ_DONE && h->over.len)
		spill_free(&h->over);   /* a local reply ended the request */
	if (c->w.held == h && c->w.held_len) {
		if (s->rq == RQ_DONE) {
			/* a local reply ended the request: the held bytes are
			 * dropped and the connection's input goes on */
			h2_wire_drop_held(&c->w);
			h2c_input_again(c);
		} else if (txn_req_spilling(s->txn) || h2s_parked(s)) {
			progress = h2s_overflow(c, h, s);
		} else {
			progress = h2c_unhold(c, s);
		}
	}
	if (c->w.held == h)
		return progress;
	if (h->over.len && h2s_overflow(c, h, s))
		progress = true;
	if (h2s_credit(c, h, s))
		h2c_want_flush(c);
	return progress;
}

/* Asks nghttp2 to read the response body again once there is some. */
static bool h2_send(struct stream *s)
{
	struct h2s *h = strm_h2s(s);

	if (!h || !(h->flags & H2S_F_DEFERRED))
		return false;
	if ((!s->res.area || buf_out_len(&s->res) == 0) && s->rs != RS_DONE &&
	    !(s->rs == RS_TUNNEL && tunnel_srv_done(s)))
		return false;
	h->flags &= (uint16_t)~H2S_F_DEFERRED;
	nghttp2_session_resume_data(strm_h2c(s)->w.ng, h->id);
	h2c_want_flush(strm_h2c(s));
	return false;
}

/*
 * RFC 8441: an extended CONNECT (":protocol websocket") is what an
 * HTTP/1.1 server knows as an upgrade: a GET with Upgrade, and for
 * WebSocket the Sec-WebSocket-Key it requires (RFC 6455 4.1; HTTP/2
 * clients send none, and the server's Accept is dropped on the way back).
 */
static bool ext_connect(struct h2s *h, struct http_msg *m)
{
	struct slice proto = msg_store(m, h->st.protocol.p, h->st.protocol.len);

	m->method = SLICE_LIT("GET");
	m->meth = HTTP_METH_GET;
	if (!proto.p || msg_hdr_add(m, SLICE_LIT("Upgrade"), proto) < 0)
		return false;
	m->flags |= MSG_F_CONN_UPGRADE | MSG_F_HAS_UPGRADE;
	int pos = 0;
	if (slice_ieq_cstr(proto, "websocket") &&
	    !msg_hdr_find(m, SLICE_LIT("sec-websocket-key"), &pos)) {
		unsigned char raw[16], key[32];
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return false;
		int n = EVP_EncodeBlock(key, raw, sizeof(raw));
		struct slice v = msg_store(m, (const char *)key, (size_t)n);
		if (!v.p || msg_hdr_add(m, SLICE_LIT("Sec-WebSocket-Key"), v) < 0)
			return false;
	}
	h->flags |= H2S_F_TUNNEL;
	return true;
}

static enum step_result h2_read_head(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct txn *t = s->txn;

	if (!(h->flags & H2S_F_HEAD))
		return STEP_WAIT;
	if (h->flags & H2S_F_TOO_LARGE) {
		t->term = TERM_CLIENT_ERROR;
		t->req.version_major = 2;
		http_reply_error(s, 431, "HTTP/2 header list larger than h2_max_header_list");
		return STEP_NEXT;
	}
	struct http_msg *m = &t->req;
	if ((h->st.pseudo & H2M_P_PROTOCOL) && !ext_connect(h, m)) {
		t->term = TERM_CLIENT_ERROR;
		http_reply_error(s, 431, "extended CONNECT head too large");
		return STEP_NEXT;
	}
	t->req_head_len = head_wire_len(m);
	t->req_bare = true;
	switch (m->body) {
	case BODY_LENGTH:
		t->req_left = m->content_length;
		s->rq = m->content_length || !(h->flags & H2S_F_EOS) ? RQ_BODY : RQ_DONE;
		break;
	case BODY_CHUNKED:
		s->rq = RQ_BODY;
		break;
	default:
		s->rq = RQ_DONE;
		break;
	}
	return txn_head_decoded(s, t);
}

/* The request body: bare bytes the DATA frames left in `req`, to the body
 * events and, once the head is encoded, through the server codec's
 * framing; END_STREAM is the end of the message. */
static bool h2_req_body(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct txn *t = s->txn;
	struct buf *b = &s->req;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (h->flags & H2S_F_FAILED) {
		http_reply_error(s, 431, "HTTP/2 trailer fields too large");
		return true;
	}
	if (in) {
		t->bytes_in += in;
		if (t->req.body == BODY_LENGTH)
			t->req_left = t->req_left > in ? t->req_left - in : 0;
		if (t->discard_body) {
			buf_consume(b, buf_data_len(b));
			buf_release(b);
			return true;
		}
		/* The filters see the run where it lies; a wait still lets it
		 * go on (as HTTP/1's pump does), an answer drops it. */
		enum flt_verdict v = body_data(s, false, buf_in(b), in);
		if (v == FLT_STOP || stream_closed(s) || t->local)
			return true;
		buf_advance(b, in);
		if (!t->head_pending && !s->srv_codec->req_frame(s, in))
			stream_abort(s, "no room to frame the request body");
		return true;
	}
	if (!(h->flags & H2S_F_EOS)) {
		/* closed after a whole response: the rest of the request is not
		 * wanted (RFC 9113 8.1), check_end ends the stream */
		if ((h->flags & H2S_F_CLOSED) && !(h->flags & H2S_F_RES_EOS)) {
			t->term = TERM_CLIENT_ABORT;
			stream_abort(s, "client reset the stream during the request body");
			return true;
		}
		return false;
	}
	if ((strm_h2c(s)->w.held == h && strm_h2c(s)->w.held_len) || h->over.len)
		return false;   /* the last DATA bytes are not in yet */
	return req_body_end(s);
}

/* The body's clock stops once the client ended the stream, while its
 * window is closed (credit follows the buffer: h2_recv), and while a held
 * DATA run (this stream's or another's) pauses the connection's input. */
static bool h2_req_stalled(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct h2c *c = strm_h2c(s);

	if (!h || (h->flags & H2S_F_EOS) || c->w.held_len)
		return true;
	return nghttp2_session_get_stream_local_window_size(c->w.ng, h->id) <= 0;
}

static bool h2_send_continue(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	nghttp2_nv nv = { (uint8_t *)":status", (uint8_t *)"100", 7, 3, NGHTTP2_NV_FLAG_NONE };

	if (nghttp2_submit_headers(strm_h2c(s)->w.ng, NGHTTP2_FLAG_NONE, h->id, NULL, &nv, 1, NULL))
		return false;
	h2c_want_flush(strm_h2c(s));
	return true;
}

/* Bare bodies are what DATA frames carry: nothing to add (the data
 * source reads the buffer as it fills, h2_send). */
static bool h2_res_frame(struct stream *s, uint32_t n)
{
	(void)s;
	(void)n;
	return true;
}

static bool h2_res_frame_end(struct stream *s)
{
	(void)s;
	return true;
}

static bool h2_interim(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	struct h2s *h = strm_h2s(s);
	struct h2m_nv nv[HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 1];
	struct buf *b = &s->res;

	/* the HTTP/1 head leaves the buffer; the fields go as HEADERS */
	memmove(b->area + b->pr, b->area + b->pr + head_len, b->wr - b->pr - head_len);
	b->wr -= head_len;
	int n = h2m_encode_response(m, nv, (int)(sizeof(nv) / sizeof(nv[0])), s->w->scratch,
				    buf_size);
	if (n > 0 && nghttp2_submit_headers(strm_h2c(s)->w.ng, NGHTTP2_FLAG_NONE, h->id, NULL,
					    (const nghttp2_nv *)nv, (size_t)n, NULL) == 0)
		h2c_want_flush(strm_h2c(s));
	m->nhdrs = 0;
	return true;
}

/* The server switched protocols for an extended CONNECT: the client gets
 * a 200 (RFC 8441 5) and the stream carries the tunnel's bytes as DATA. */
static bool h2_upgraded(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	struct h2s *h = strm_h2s(s);
	struct h2m_nv nv[HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 2];
	struct buf *b = &s->res;

	memmove(b->area + b->pr, b->area + b->pr + head_len, b->wr - b->pr - head_len);
	b->wr -= head_len;
	m->status = 200;
	msg_hdr_del(m, SLICE_LIT("sec-websocket-accept"));
	msg_hdr_del_id(m, HDR_UPGRADE);
	m->body = BODY_NONE;
	m->flags &= ~(uint32_t)MSG_F_KEEP_CL;
	int n = h2m_encode_response(m, nv, (int)(sizeof(nv) / sizeof(nv[0])), s->w->scratch,
				    buf_size);
	nghttp2_data_provider prd = { .source.ptr = NULL, .read_callback = res_read };
	if (n < 0 || nghttp2_submit_response(strm_h2c(s)->w.ng, h->id, (const nghttp2_nv *)nv,
					     (size_t)n, &prd)) {
		backend_release(s, false);
		http_reply_error(s, 502, "upgrade response does not fit HTTP/2");
		return false;
	}
	h->flags |= H2S_F_SUBMITTED;
	s->txn->status = 200;
	h2c_want_flush(strm_h2c(s));
	return true;
}

static enum step_result h2_deliver(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;
	struct h2m_nv nv[HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 2];

	t->status = m->status;
	if (!t->local && (m->flags & MSG_F_TE_OTHER)) {
		/* "Transfer-Encoding: gzip, chunked": HTTP/2 has no transfer
		 * codings, and the body would reach the client undeclared */
		backend_release(s, false);
		http_reply_error(s, 502, "transfer coding other than chunked for an HTTP/2 client");
		return STEP_NEXT;
	}
	/* The server codec hands the body bare (chunked decoded, trailers as
	 * events); a filter that rewrites it (xform.h) makes its length
	 * unknown: no content-length. */
	bool xf = xform_deliver(s);
	if (!t->local && !xf && !t->res_holding)   /* (held: decoded bare already) */
		res_decode_bare(s, t);
	uint8_t src_body = m->body;
	if (xf && !xform_keeps_length(s))   /* a relay keeps it */
		m->body = BODY_CHUNKED;
	int n = h2m_encode_response(m, nv, (int)(sizeof(nv) / sizeof(nv[0])), s->w->scratch,
				    buf_size);
	m->body = src_body;
	if (n < 0) {
		if (t->local) {
			stream_abort(s, "local response does not fit");
			return STEP_STOP;
		}
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large for HTTP/2");
		return STEP_NEXT;
	}
	if (t->local && !local_deliver_body(s)) {
		stream_abort(s, "local response too large");
		return STEP_STOP;
	}
	/* an empty body ends the stream on the HEADERS frame (a gRPC
	 * trailers-only response must come that way) */
	bool body = xf || ((m->body == BODY_LENGTH ? m->content_length > 0 : m->body != BODY_NONE) &&
			   (!t->local || t->local_body.len || t->local_src.read) &&
			   t->meth != HTTP_METH_HEAD);
	nghttp2_data_provider prd = { .source.ptr = NULL, .read_callback = res_read };
	if (s->rs == RS_DONE && !t->local && body_wants(s, FLT_RES_END)) {
		t->res_ended = true;   /* the end event still comes, from the pump */
		s->rs = RS_BODY;
	}
	if (nghttp2_submit_response(strm_h2c(s)->w.ng, h->id, (const nghttp2_nv *)nv, (size_t)n,
				    body ? &prd : NULL)) {
		stream_abort(s, "HTTP/2 response could not be submitted");
		return STEP_STOP;
	}
	h->flags |= H2S_F_SUBMITTED;
	if (!body)
		h->flags |= H2S_F_RES_EOS;
	h2c_want_flush(strm_h2c(s));
	t->res_head_sent = true;
	s->step = STEP_DONE;
	return STEP_NEXT;
}

/* The stream's end: when nghttp2 closed it (both sides ended, or a reset
 * either way), the exchange is over; a response that ended before the
 * request did stops the rest of it with RST_STREAM(NO_ERROR) (RFC 9113
 * 8.1). */
/* A tunnel (extended CONNECT) ends when both ways did: the client's
 * END_STREAM closes the server's side once its bytes are out; the
 * server's close ends our DATA (res_read). */
static bool h2_tunnel_check_end(struct stream *s, struct h2s *h)
{
	struct srvconn *sc = s->srv;

	if ((h->flags & H2S_F_CLOSED) || !sc || (sc->c.flags & CONN_F_ERROR)) {
		if (!(h->flags & H2S_F_CLOSED))
			h2s_reset(h, NGHTTP2_CONNECT_ERROR);
		h2s_finish(h, false);
		return true;
	}
	if ((h->flags & H2S_F_EOS) && (!s->req.area || buf_empty(&s->req)) && sc->connected &&
	    !(sc->c.flags & CONN_F_WR_SHUT)) {
		conn_shutw(&sc->c);
		return true;
	}
	return false;
}

static bool h2_check_end(struct stream *s)
{
	struct h2s *h = strm_h2s(s);
	struct txn *t = s->txn;
	struct h2c *c = strm_h2c(s);

	/* This round parked the stream on a filter (h2s_parked) while a DATA
	 * run of it was held at the connection (it came with the head, before
	 * the stream ran, or woke the stream while it waited and its buffer
	 * had no room): the run moves to the overflow now, not once the
	 * verdict is in, so the connection's input goes on meanwhile. */
	if (c->w.held == h && c->w.held_len && h2s_parked(s) && s->rq == RQ_BODY)
		h2s_overflow(c, h, s);

	if (s->rq == RQ_TUNNEL)
		return h2_tunnel_check_end(s, h);

	if (h->flags & H2S_F_CLOSED) {
		bool done = (h->flags & H2S_F_RES_EOS) && s->rs == RS_DONE;
		if (!done && t && !t->term)
			t->term = TERM_CLIENT_ABORT;
		bool clean = done && s->rq == RQ_DONE && (!s->req.area || buf_empty(&s->req)) &&
			     (!s->res.area || buf_empty(&s->res)) && !(s->flags & STRM_F_SRV_CLOSE);
		h2s_finish(h, clean);
		return true;
	}
	if ((h->flags & H2S_F_RES_EOS) && s->rs == RS_DONE && !(h->flags & H2S_F_EOS)) {
		s->flags |= STRM_F_SRV_CLOSE;   /* the server did not get the whole request */
		h2s_reset(h, NGHTTP2_NO_ERROR);
	}
	return false;
}

/* Ends this stream alone: a reset if the client may still be waiting. */
static void h2_close_stream(struct stream *s)
{
	struct h2s *h = strm_h2s(s);

	if (!h || !h->s)
		return;
	if (!(h->flags & H2S_F_CLOSED))
		h2s_reset(h, (h->flags & H2S_F_RES_EOS) ? NGHTTP2_NO_ERROR : NGHTTP2_INTERNAL_ERROR);
	h2s_detach(h);
}


/* ---- the session's side ---- */

/* Graceful stop: GOAWAY with the last stream we took; those finish. */
static bool h2_drain(struct session *ss)
{
	struct h2c *c = ss->h2;

	if (!c->goaway) {
		nghttp2_submit_goaway(c->w.ng, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(c->w.ng), NGHTTP2_NO_ERROR,
				      NULL, 0);
		c->goaway = true;
	}
	if (c->nstreams == 0) {
		h2c_send(c);
		session_close(ss);
		return true;
	}
	h2c_want_flush(c);
	return false;
}

static void h2_release(struct session *ss)
{
	struct h2c *c = ss->h2;

	if (!c)
		return;
	/* A last GOAWAY, best effort, unless one went already. */
	if (!c->goaway && !(ss->cli.flags & (CONN_F_ERROR | CONN_F_WR_SHUT))) {
		nghttp2_submit_goaway(c->w.ng, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(c->w.ng), NGHTTP2_NO_ERROR,
				      NULL, 0);
		c->goaway = true;
		h2c_send(c);
	}
	while (!list_empty(&c->streams)) {
		struct h2s *h = container_of(c->streams.next, struct h2s, link);
		struct stream *s = h->s;
		if (s->txn && !s->txn->term)
			s->txn->term = ss->w->stopping ? TERM_SHUTDOWN : TERM_CLIENT_ABORT;
		h->flags |= H2S_F_CLOSED;   /* no frame for it any more */
		h2s_detach(h);
	}
	buf_release_force(&c->w.in);
	buf_release_force(&c->w.out);
}

static void h2_free(struct session *ss)
{
	struct h2c *c = ss->h2;

	if (!c)
		return;
	/* streams refused before a pipeline stream existed are freed with
	 * nghttp2's stream table */
	h2_wire_free(&c->w);
	free(c);
	ss->h2 = NULL;
}

/* An idle connection (no stream) past `timeout client`. */
static void h2_idle_expired(struct timer *t)
{
	struct session *ss = container_of(t, struct session, idle_timer);
	session_close(ss);   /* h2_release sends the GOAWAY */
}

static const struct h2_wire_cbs h2c_cbs = {
	.begin_frame = on_begin_frame,
	.begin_headers = on_begin_headers,
	.header = on_header,
	.frame_recv = on_frame_recv,
	.data_chunk = on_data_chunk,
	.stream_close = on_stream_close,
};

static bool h2c_init(struct h2c *c, const struct cfg_frontend *fe)
{
	/* our own budgets decide; nghttp2's reset limiter stays as a backstop
	 * behind them */
	if (h2_wire_open(&c->w, true, &h2c_cbs, c, 2 * (uint64_t)fe->h2.max_resets + 1000,
			 fe->h2.max_resets / 10 + 33) < 0)
		return false;
	uint32_t window = buf_size / 2;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, fe->h2.max_streams + H2_STREAMS_SLACK },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, fe->h2.header_table },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, fe->h2.max_header_list },
		{ NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1 },   /* RFC 8441 */
	};
	if (nghttp2_submit_settings(c->w.ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) ||
	    nghttp2_session_set_local_window_size(c->w.ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW))
		return false;
	c->w.say_max_streams = fe->h2.max_streams;
	c->resets.left = fe->h2.max_resets;
	c->control.left = fe->h2.max_control;
	c->resets.since = c->control.since = c->ss->w->loop.now;
	return true;
}

static void stream_put_deferred(void *arg)
{
	stream_put(arg);
}

bool h2_session_start(struct session *ss, const char *in, uint32_t len)
{
	struct worker *w = ss->w;
	struct stream *old = ss->strm;
	struct h2c *c = calloc(1, sizeof(*c));

	if (c) {
		c->ss = ss;
		LIST_INIT(&c->streams);
	}
	if (!c || !h2c_init(c, ss->fe) || (len && (!buf_alloc(&c->w.in) || len > buf_size))) {
		log_err("%s: out of memory starting an HTTP/2 connection", ss->fe->name);
		if (c)
			h2_wire_free(&c->w);
		free(c);
		session_close(ss);
		return false;
	}
	if (len) {
		memcpy(c->w.in.area, in, len);
		c->w.in.wr = len;
	}
	/* The HTTP/1 stream that received the preface never was a request:
	 * it goes, freed after this batch (it may be mid-processing). */
	if (old) {
		stream_release(old);
		loop_defer(&w->loop, stream_put_deferred, old);
		ss->strm = NULL;
	}
	ss->h2 = c;
	ss->codec = &sess_codec_h2;
	ss->flags |= SESS_F_SNIFFED;
	timer_init(&ss->idle_timer, h2_idle_expired);
	timer_set(&w->loop, &ss->idle_timer, w->loop.now + ss->fe->timeout_client_ms);
	session_idle(ss, true);
	if (!c->input_queued && loop_defer(&w->loop, h2c_input_deferred, c) == 0)
		c->input_queued = true;
	return true;
}

const struct sess_codec sess_codec_h2 = {
	.name = "h2",
	.recv = h2_recv,
	.send = h2_send,
	.read_head = h2_read_head,
	.req_body = h2_req_body,
	.req_stalled = h2_req_stalled,
	.send_continue = h2_send_continue,
	.deliver = h2_deliver,
	.check_end = h2_check_end,
	.interim = h2_interim,
	.upgraded = h2_upgraded,
	.res_frame = h2_res_frame,
	.res_frame_end = h2_res_frame_end,
	.close_stream = h2_close_stream,
	.on_event = h2_on_event,
	.drain = h2_drain,
	.release = h2_release,
	.free = h2_free,
	.mux = true,
};
