/*
 * h2_server.c - the HTTP/2 server codec (srv_codec_h2): `server NAME ADDR
 * proto h2` (cleartext prior knowledge, or TLS with ALPN h2), on
 * nghttp2's client session, driven by our loop and buffers.
 *
 * A connection (struct h2sc, hung on its struct srvconn) carries many
 * streams of the pipeline at once, up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS; each worker thread keeps its own
 * connections per server (server_rt.h2conns) and opens another when all are
 * full.  `maxconn` counts requests, so it counts streams here.
 *
 * As on the client side (h2_client.c), nghttp2 only runs (mem_recv,
 * mem_send) from the connection's own context - its socket event or a
 * deferred flush - and the streams' codec operations only queue work
 * (submit, resume, consume).  What the server says about one stream
 * reaches it as flags and a wake; the stream acts on them in its own
 * stream_process() (a failure becomes backend_srv_failed there, so a retry
 * may even reuse this very connection).
 *
 * Bodies are bare: the request body is read from the stream's `req`
 * output as DATA (its end, t->req_framed_end, is END_STREAM, or trailers
 * then END_STREAM), and response DATA lands bare in `res`, which the
 * client's codec frames (sess_codec.res_frame).  Flow control is
 * backpressure as on the client side: a stream's receive window is only
 * credited as its `res` buffer drains towards the client.
 *
 * A new connection sends its first stream at once (any server takes one:
 * no round trip lost, and a request whose body follows the head can be
 * refused before its body goes) and holds the others until the server's
 * first SETTINGS frame (h2sc_settle): RFC 9113 6.5.2 lets a client assume a stream limit
 * until then (nghttp2 assumes 100), and a server with a lower one refuses
 * the extra streams, REFUSED_STREAM - under load, on every fresh
 * connection, more times than `retries` allows.  Once the SETTINGS are in,
 * as many streams as the server allows are submitted and the others move
 * to connections with room, new ones if need be (as HAProxy waits for its
 * peer's SETTINGS for this reason).  A new connection takes as many
 * streams to hold as the server's last SETTINGS of this thread allowed
 * (server_rt.h2_max_streams), so moving is rare and bounded.
 *
 * A REFUSED_STREAM, or a stream past the server's GOAWAY, was never
 * processed: it is retried like a refused connect, whatever the method.
 * The servers of one backend speak one protocol (cfg_check), so a retry's
 * request head is submitted again on the new connection (encode_head is
 * free of side effects on the buffers here).
 */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "health/health.h"
#include "http/h2_msg.h"
#include "proxy/backend.h"
#include "proxy/body.h"
#include "proxy/h2_wire.h"
#include "proxy/local.h"
#include "proxy/srv_codec.h"
#include "proxy/stream.h"
#include "proxy/xform.h"
#include "proxy/worker.h"

#define H2SRV_IDLE_TIMEOUT_MS 30000
#define H2SRV_CONN_WINDOW (16 * 1024 * 1024)
/* Until the server's SETTINGS say otherwise (RFC 9113 6.5.2: unlimited),
 * and no connection of this thread heard this server's: the streams a new
 * connection takes to hold for its SETTINGS (none is sent before them). */
#define H2SRV_DEFAULT_STREAMS 100
/* A held stream the server's SETTINGS left out moves to another
 * connection at most this many times, then fails as refused (retries). */
#define H2SRV_MAX_MOVES 4

struct h2ss;

/* An HTTP/2 connection to a server. */
struct h2sc {
	struct srvconn *sc;
	struct h2_wire w;          /* nghttp2, `in`, `out`, the held DATA run */
	struct list link;          /* in sv->h2conns */
	struct list streams;       /* struct h2ss attached */
	uint32_t nstreams;
	bool flush_queued, input_queued;
	bool goaway;               /* the server sent GOAWAY: no new stream here */
	bool settings_in;          /* the server's first SETTINGS frame arrived */
	bool settled;              /* ... and the held streams went (h2sc_settle) */
	bool early_sent;           /* its first stream went before the SETTINGS */
	bool dead;                 /* failed or closing: no new stream, gone when empty */
};

/* A stream's state on its server connection. */
struct h2ss {
	struct h2sc *c;
	struct stream *s;
	int32_t id;                /* 0 until the request is submitted */
	struct list link;          /* in c->streams */
	struct h2m_state st;
	uint16_t flags;            /* H2SS_F_* */
	uint32_t unacked;          /* response DATA bytes not yet credited back */
	uint8_t moves;             /* times moved to another connection (h2ss_move) */
	const char *why;           /* H2SS_F_FAILED: for the log */
};

#define H2SS_F_HEAD      0x0001  /* the final response head is decoded */
#define H2SS_F_EOS       0x0002  /* the server ended the response */
#define H2SS_F_CLOSED    0x0004  /* nghttp2 closed the stream */
#define H2SS_F_FAILED    0x0008  /* reset, refused or cut: backend_srv_failed */
#define H2SS_F_DEFERRED  0x0010  /* the request body source waits for bytes */
#define H2SS_F_TRAILERS  0x0020  /* a trailer block is arriving */
#define H2SS_F_BAD       0x0040  /* malformed response: 502 */
#define H2SS_F_HELD      0x0080  /* head ready, held for the server's SETTINGS */

static void h2sc_want_flush(struct h2sc *c);
static void h2sc_input_deferred(void *arg);
static void h2sc_input_again(struct h2sc *c);
static void h2sc_release(struct h2sc *c);
static void h2sc_settle(struct h2sc *c);
static bool h2ss_credit(struct h2sc *c, struct h2ss *h);

static inline struct h2ss *strm_h2ss(const struct stream *s)
{
	return s->srv_cs;
}

static struct h2ss *h2ss_of(nghttp2_session *ng, int32_t id)
{
	return nghttp2_session_get_stream_user_data(ng, id);
}

/* Marks the stream failed for its own stream_process() to act on. */
static void h2ss_fail(struct h2ss *h, const char *why, bool unseen)
{
	if (!h->s || (h->flags & H2SS_F_FAILED))
		return;
	h->flags |= H2SS_F_FAILED;
	h->why = why;
	if (unseen)
		h->s->flags |= STRM_F_UNSEEN;
	stream_wake(h->s);
}


/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2ss *h = h2ss_of(ng, f->hd.stream_id);
	(void)ud;

	if (!h || !h->s || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (h->flags & H2SS_F_HEAD) {
		h->flags |= H2SS_F_TRAILERS;
		return 0;
	}
	struct http_msg *m = &h->s->txn->res;
	msg_reset(m);
	h2m_begin(&h->st, m, true, false);
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2ss *h = h2ss_of(ng, f->hd.stream_id);
	(void)flags;
	(void)ud;

	if (!h || !h->s || f->hd.type != NGHTTP2_HEADERS || (h->flags & H2SS_F_BAD))
		return 0;
	if (h->flags & H2SS_F_TRAILERS) {
		struct slice n = { (const char *)name, (uint32_t)nlen };
		struct slice v = { (const char *)value, (uint32_t)vlen };
		if (nlen && name[0] != ':' && body_trailer(h->s, true, n, v) < 0)
			h->flags |= H2SS_F_BAD;
		return 0;
	}
	if (h2m_field(&h->st, &h->s->txn->res, name, nlen, value, vlen) != H2M_OK)
		h->flags |= H2SS_F_BAD;
	return 0;
}

/* A response head is in: interim ones go to the client now (through its
 * codec), the final one to the stream's WAIT_HEAD step. */
static void res_head_done(struct h2ss *h, bool eos)
{
	struct stream *s = h->s;
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;

	if (!(h->flags & H2SS_F_BAD) && h2m_res_end(&h->st, m, eos, t->meth) != H2M_OK)
		h->flags |= H2SS_F_BAD;
	s->srv_last = s->w->loop.now;
	if (!t->mono_ttfb_us)
		t->mono_ttfb_us = mono_us();
	stream_srv_answered(s);
	if (!(h->flags & H2SS_F_BAD) && m->status < 200) {
		/* our own 100 Continue went out already; HTTP/1.0 clients get none */
		if (!(m->status == 100 && t->expect_continue) && t->req_minor > 0 && m->status != 101)
			s->sess->codec->interim(s, m, 0);
		msg_reset(m);
		return;
	}
	h->flags |= H2SS_F_HEAD;
	if (eos)
		h->flags |= H2SS_F_EOS;
	stream_wake(s);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2sc *c = ud;
	struct h2ss *h = f->hd.stream_id ? h2ss_of(ng, f->hd.stream_id) : NULL;
	bool eos = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	switch (f->hd.type) {
	case NGHTTP2_HEADERS:
		if (!h || !h->s)
			return 0;
		if (h->flags & H2SS_F_TRAILERS) {
			h->flags &= (uint16_t)~H2SS_F_TRAILERS;
			if (eos)
				h->flags |= H2SS_F_EOS;
			stream_wake(h->s);
			return 0;
		}
		res_head_done(h, eos);
		return 0;
	case NGHTTP2_DATA:
		if (h && h->s && eos) {
			h->flags |= H2SS_F_EOS;
			stream_wake(h->s);
		}
		return 0;
	case NGHTTP2_SETTINGS:
		/* the streams held for it go from h2sc_flush, outside nghttp2 */
		if (!(f->hd.flags & NGHTTP2_FLAG_ACK)) {
			c->settings_in = true;
			return 0;
		}
		/* Our SETTINGS are in force: their INITIAL_WINDOW_SIZE (half a
		 * buffer) took from every open stream's window what the server
		 * had under the default one.  A credit decided before (the
		 * server had sent little: "it still has most of 64 KiB") is due
		 * now, or a server that applied our SETTINGS at once and
		 * acknowledged them late waits for it with nothing left to wake
		 * the stream (as on the client side, h2_client.c).  No wake: the
		 * streams have nothing new to do; h2sc_read flushes. */
		struct list *pos;
		list_for_each(pos, &c->streams) {
			struct h2ss *o = container_of(pos, struct h2ss, link);
			if (o->s && !(o->flags & H2SS_F_CLOSED))
				h2ss_credit(c, o);
		}
		return 0;
	case NGHTTP2_GOAWAY:
		/* streams past last_stream_id were never processed: nghttp2
		 * closes them with REFUSED_STREAM (on_stream_close) */
		c->goaway = true;
		return 0;
	default:
		return 0;
	}
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct h2sc *c = ud;
	struct h2ss *h = h2ss_of(ng, id);
	(void)flags;

	if (!h || !h->s) {
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	struct stream *s = h->s;
	struct buf *b = &s->res;
	if (!buf_alloc(b)) {
		h2ss_fail(h, "out of memory for the response", false);
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	h->unacked += (uint32_t)len;
	s->srv_last = s->w->loop.now;
	stream_wake(s);
	return h2_wire_data(&c->w, h, b, xform_res_cap(s), data, len);
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2sc *c = ud;
	struct h2ss *h = h2ss_of(ng, id);

	if (!h)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	h->flags |= H2SS_F_CLOSED;
	if (c->w.held == h) {
		h2_wire_drop_held(&c->w);
		h2sc_input_again(c);
	}
	if (!h->s)
		return 0;
	if (!(h->flags & H2SS_F_EOS)) {
		if (code == NGHTTP2_REFUSED_STREAM && c->goaway)
			h2ss_fail(h, "server's GOAWAY left the stream out", true);
		else if (code == NGHTTP2_REFUSED_STREAM)
			h2ss_fail(h, "server refused the stream (REFUSED_STREAM)", true);
		else
			h2ss_fail(h, code == NGHTTP2_NO_ERROR ? "server closed the stream early" :
					     "server reset the stream", false);
	}
	stream_wake(h->s);
	return 0;
}


/* ---- the request body source ---- */

static ssize_t req_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
	struct h2ss *h = h2ss_of(ng, id);
	struct stream *s = h ? h->s : NULL;
	(void)src;
	(void)ud;

	if (!s) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	struct txn *t = s->txn;
	struct buf *b = &s->req;
	uint32_t off = (s->flags & STRM_F_REPLAY) ? s->req_sent : 0;
	uint32_t avail = b->area ? buf_out_len(b) - off : 0;
	size_t n = avail < len ? avail : len;
	if (n) {
		memcpy(buf, buf_out(b) + off, n);
		if (s->flags & STRM_F_REPLAY) {
			s->req_sent += (uint32_t)n;
		} else {
			/* gone for good: this request can no longer be sent elsewhere */
			s->flags |= STRM_F_SENT;
			buf_consume(b, (uint32_t)n);
			buf_release(b);
		}
		s->srv_last = s->w->loop.now;
		stream_wake(s);   /* room for the client's next bytes */
	}
	if (avail > n)
		return (ssize_t)n;
	if (t->req_framed_end) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		const struct http_msg *tr = t->req_trailers;
		if (tr && tr->nhdrs) {
			struct h2m_nv nv[HTTP_MAX_HDRS + 1];
			int k = h2m_encode_trailers(tr, nv, HTTP_MAX_HDRS + 1, s->w->scratch, buf_size);
			if (k > 0 && nghttp2_submit_trailer(ng, id, (const nghttp2_nv *)nv, (size_t)k) == 0)
				*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		}
		return (ssize_t)n;
	}
	if (n)
		return (ssize_t)n;
	h->flags |= H2SS_F_DEFERRED;
	return NGHTTP2_ERR_DEFERRED;
}


/* ---- the connection ---- */

static bool h2sc_send(struct h2sc *c)
{
	bool sent = false;
	return h2_wire_send(&c->w, &c->sc->c, &sent);
}

/* The connection failed or the server is done with it: every stream on it
 * fails (each retries or answers in its own processing), and the
 * connection goes once they have left. */
static void h2sc_fail(struct h2sc *c, const char *why)
{
	struct list *pos;

	if (!c->dead) {
		c->dead = true;
		list_del(&c->link);
		LIST_INIT(&c->link);
	}
	list_for_each(pos, &c->streams) {
		struct h2ss *h = container_of(pos, struct h2ss, link);
		/* a stream the server never saw (not submitted, or past its
		 * GOAWAY) can go anywhere */
		bool unseen = !h->id || !c->sc->connected ||
			      (c->goaway && h->id > nghttp2_session_get_last_proc_stream_id(c->w.ng));
		h2ss_fail(h, why, unseen);
	}
	if (c->nstreams == 0)
		h2sc_release(c);
}

static void h2sc_flush(struct h2sc *c)
{
	if (c->dead && c->nstreams == 0)
		return;
	if (!c->sc->connected)
		return;   /* frames wait for the connection */
	if (c->settings_in && !c->settled && !c->dead)
		h2sc_settle(c);
	if (!h2sc_send(c)) {
		h2sc_fail(c, "server connection failed while sending");
		return;
	}
	if (!nghttp2_session_want_read(c->w.ng) && !nghttp2_session_want_write(c->w.ng))
		h2sc_fail(c, "server ended the HTTP/2 connection");
}

static void h2sc_flush_deferred(void *arg)
{
	struct h2sc *c = arg;
	c->flush_queued = false;
	h2sc_flush(c);
}

static void h2sc_want_flush(struct h2sc *c)
{
	if (c->flush_queued || (c->dead && c->nstreams == 0))
		return;
	if (loop_defer(&c->sc->w->loop, h2sc_flush_deferred, c) == 0)
		c->flush_queued = true;
}

static bool h2sc_input(struct h2sc *c)
{
	int rv = h2_wire_input(&c->w);
	if (rv < 0)
		log_warn("server %s/%s: HTTP/2 error: %s", c->sc->srv->be->cfg->name,
			 c->sc->srv->cfg->name, nghttp2_strerror(rv));
	return rv == 0;
}

static void h2sc_read(struct h2sc *c)
{
	struct conn *cn = &c->sc->c;

	while (!c->dead && !c->w.held_len && (cn->flags & CONN_F_RECV_READY) &&
	       !(cn->flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
		ssize_t n = h2_wire_recv(&c->w, cn);
		if (n < 0) {
			h2sc_fail(c, "out of memory");
			return;
		}
		if (n == 0)
			break;
		if (!h2sc_input(c)) {
			h2sc_fail(c, "HTTP/2 protocol error from the server");
			return;
		}
	}
	if (c->dead)
		return;
	if ((cn->flags & (CONN_F_RD_EOF | CONN_F_ERROR)) && !c->w.held_len) {
		h2sc_fail(c, "server closed the connection");
		return;
	}
	h2sc_flush(c);
}

static void h2sc_input_deferred(void *arg)
{
	struct h2sc *c = arg;
	c->input_queued = false;
	if (c->dead)
		return;
	if (!h2sc_input(c)) {
		h2sc_fail(c, "HTTP/2 protocol error from the server");
		return;
	}
	h2sc_read(c);
}

/* The input goes on after a held run was moved in or dropped (deferred:
 * nghttp2 must not run inside a stream's processing). */
static void h2sc_input_again(struct h2sc *c)
{
	if (!c->input_queued && loop_defer(&c->sc->w->loop, h2sc_input_deferred, c) == 0)
		c->input_queued = true;
}

void h2srv_event(struct srvconn *sc)
{
	struct h2sc *c = sc->h2;

	if (c->dead)
		return;
	if (!sc->connected) {
		int r = srvconn_establish(sc);
		if (r < 0) {
			h2sc_fail(c, srvconn_why(sc));
			return;
		}
		if (r == 0)
			return;
		sc->connected = true;
		struct list *pos;
		list_for_each(pos, &c->streams) {
			struct h2ss *h = container_of(pos, struct h2ss, link);
			stamp_connect(h->s, true);
			h->s->srv_last = sc->w->loop.now;
			stream_wake(h->s);   /* its timer: now timeout server */
		}
	}
	h2sc_read(c);
}

static void h2sc_idle_expired(struct timer *t)
{
	struct srvconn *sc = container_of(t, struct srvconn, idle_timer);
	struct h2sc *c = sc->h2;

	if (c->nstreams)
		return;
	nghttp2_session_terminate_session(c->w.ng, NGHTTP2_NO_ERROR);
	h2sc_send(c);   /* GOAWAY, best effort */
	h2sc_fail(c, "idle");
}

static void h2sc_free_deferred(void *arg)
{
	struct h2sc *c = arg;
	h2_wire_free(&c->w);
	free(c);
}

/* The connection goes (it has no stream left). */
static void h2sc_release(struct h2sc *c)
{
	struct srvconn *sc = c->sc;

	if (!c->dead) {
		c->dead = true;
		list_del(&c->link);
		LIST_INIT(&c->link);
	}
	sc->h2 = NULL;
	srvconn_destroy(sc);
	/* after the defers already queued (a flush may point at c) */
	loop_defer(&sc->w->loop, h2sc_free_deferred, c);
}

static const struct h2_wire_cbs h2sc_cbs = {
	.begin_headers = on_begin_headers,
	.header = on_header,
	.frame_recv = on_frame_recv,
	.data_chunk = on_data_chunk,
	.stream_close = on_stream_close,
};

/* A new connection to sv, HTTP/2 from its first byte. */
static struct h2sc *h2sc_open(struct stream *s, struct server_rt *sv)
{
	struct h2sc *c = calloc(1, sizeof(*c));

	if (!c || h2_wire_open(&c->w, false, &h2sc_cbs, c, 0, 0) < 0) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, buf_size / 2 },
	};
	if (nghttp2_submit_settings(c->w.ng, NGHTTP2_FLAG_NONE, iv, 2) ||
	    nghttp2_session_set_local_window_size(c->w.ng, NGHTTP2_FLAG_NONE, 0, H2SRV_CONN_WINDOW)) {
		h2_wire_free(&c->w);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	struct srvconn *sc = srvconn_open(s, sv);
	if (!sc) {
		int e = errno;
		h2_wire_free(&c->w);
		free(c);
		errno = e;
		return NULL;
	}
	sc->owner = NULL;   /* shared: the streams are in c->streams */
	sc->h2 = c;
	sc->codec = &srv_codec_h2;
	timer_init(&sc->idle_timer, h2sc_idle_expired);
	c->sc = sc;
	LIST_INIT(&c->streams);
	list_add_tail(&sv->h2conns, &c->link);
	return c;
}

/* The streams the connection may carry: the server's limit once its
 * SETTINGS are in, before that the guess (the first stream sent, the
 * others held). */
static uint32_t h2sc_max_streams(const struct h2sc *c)
{
	if (!c->settled) {
		uint32_t hint = c->sc->srv->h2_max_streams;
		return hint ? hint : H2SRV_DEFAULT_STREAMS;
	}
	uint32_t max = nghttp2_session_get_remote_settings(c->w.ng,
							    NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
	if (max > H2SRV_DEFAULT_STREAMS * 10)   /* unlimited */
		max = H2SRV_DEFAULT_STREAMS;
	return max;
}

/* Room for one more stream: under the server's limit, and not closing. */
static bool h2sc_has_room(struct h2sc *c)
{
	return !c->dead && !c->goaway && c->nstreams < h2sc_max_streams(c);
}

static bool h2ss_submit(struct stream *s);

/* The stream goes onto connection c (a new stream, or one moved). */
static void h2ss_join(struct h2ss *h, struct h2sc *c)
{
	struct stream *s = h->s;

	h->c = c;
	list_add_tail(&c->streams, &h->link);
	c->nstreams++;
	timer_del(&s->w->loop, &c->sc->idle_timer);
	s->srv = c->sc;
	s->srv_last = s->w->loop.now;
	c->sc->reused = false;
	stamp_connect(s, c->sc->connected);
}

/* A held stream the server's SETTINGS left no room for goes to another
 * connection to the same server with room, or a new one (which holds it
 * for its own SETTINGS): never sent, so no retry is spent.  Bounded
 * (H2SRV_MAX_MOVES), then it fails as refused and `retries` decide. */
static void h2ss_move(struct h2ss *h)
{
	struct h2sc *from = h->c, *to = NULL;
	struct server_rt *sv = from->sc->srv;
	struct stream *s = h->s;
	struct list *pos;

	if (++h->moves > H2SRV_MAX_MOVES) {
		h2ss_fail(h, "no room for the stream on the server's connections", true);
		return;
	}
	list_for_each(pos, &sv->h2conns) {
		struct h2sc *k = container_of(pos, struct h2sc, link);
		if (k != from && h2sc_has_room(k)) {
			to = k;
			break;
		}
	}
	if (!to && !(to = h2sc_open(s, sv))) {
		h2ss_fail(h, "cannot open another connection to the server", true);
		return;
	}
	list_del(&h->link);
	from->nstreams--;   /* never to 0: the SETTINGS allowed one at least */
	h->flags &= (uint16_t)~H2SS_F_HELD;
	h2ss_join(h, to);
	if (!h2ss_submit(s))
		h2ss_fail(h, "request head does not fit HTTP/2", false);
	stream_wake(s);   /* its timer: connect or server timeout, as it now is */
}

/* The server's first SETTINGS are in: the held streams go, as many as it
 * allows (in the order they came); the others move (h2ss_move).  Runs in
 * the connection's context (h2sc_flush), outside nghttp2's callbacks. */
static void h2sc_settle(struct h2sc *c)
{
	struct list *pos, *tmp;
	uint32_t max, n = 0;

	c->settled = true;
	max = h2sc_max_streams(c);
	c->sc->srv->h2_max_streams = max ? max : 1;
	list_for_each_safe(pos, tmp, &c->streams) {
		struct h2ss *h = container_of(pos, struct h2ss, link);
		if (!(h->flags & H2SS_F_HELD) || (h->flags & H2SS_F_FAILED)) {
			n += h->id != 0;
			continue;
		}
		if (max == 0) {
			/* the server takes no stream at all now: as refused */
			h2ss_fail(h, "server allows no stream (SETTINGS_MAX_CONCURRENT_STREAMS 0)",
				  true);
			continue;
		}
		if (n >= max) {
			h2ss_move(h);
			continue;
		}
		if (h2ss_submit(h->s))
			n++;
		else
			h2ss_fail(h, "request head does not fit HTTP/2", false);
	}
}

int h2srv_attach(struct stream *s, struct server_rt *sv)
{
	struct h2sc *c = NULL;
	struct list *pos;

	list_for_each(pos, &sv->h2conns) {
		struct h2sc *k = container_of(pos, struct h2sc, link);
		if (h2sc_has_room(k)) {
			c = k;
			break;
		}
	}
	bool reused = c != NULL;
	if (!c && !(c = h2sc_open(s, sv)))
		return -1;
	struct h2ss *h = calloc(1, sizeof(*h));
	if (!h) {
		if (!c->nstreams)
			h2sc_release(c);
		errno = ENOMEM;
		return -1;
	}
	h->s = s;
	s->srv_cs = h;
	s->srv_codec = &srv_codec_h2;
	/* No keep-alive race on HTTP/2 (a server that will not take a stream
	 * says so: REFUSED_STREAM, GOAWAY): a failure here is never retried
	 * for free as a race on a reused HTTP/1 connection is (retry.c);
	 * h2ss_join clears sc->reused. */
	(void)reused;
	h2ss_join(h, c);
	/* A retry: the head was encoded for another connection already. */
	if (s->txn && !s->txn->head_pending && s->txn->assigned && !h2ss_submit(s)) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void h2srv_detach(struct stream *s, bool reusable)
{
	struct h2ss *h = strm_h2ss(s);
	struct h2sc *c = h->c;
	(void)reusable;

	if (h->id && !(h->flags & H2SS_F_CLOSED)) {
		/* the exchange ended early (client gone, timeout): the
		 * server stops working on it */
		nghttp2_submit_rst_stream(c->w.ng, NGHTTP2_FLAG_NONE, h->id, NGHTTP2_CANCEL);
		nghttp2_session_set_stream_user_data(c->w.ng, h->id, NULL);
		h2sc_want_flush(c);
	}
	if (c->w.held == h) {
		h2_wire_drop_held(&c->w);
		h2sc_input_again(c);
	}
	list_del(&h->link);
	free(h);
	s->srv = NULL;
	s->srv_cs = NULL;
	if (--c->nstreams)
		return;
	if (c->dead) {
		h2sc_release(c);
		return;
	}
	timer_set(&s->w->loop, &c->sc->idle_timer, s->w->loop.now + H2SRV_IDLE_TIMEOUT_MS);
}

void h2srv_rebind(struct stream *s)
{
	strm_h2ss(s)->s = s;
}

void h2srv_close_idle(struct server_rt *sv)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &sv->h2conns) {
		struct h2sc *c = container_of(pos, struct h2sc, link);
		if (c->nstreams == 0) {
			nghttp2_session_terminate_session(c->w.ng, NGHTTP2_NO_ERROR);
			h2sc_send(c);
			h2sc_release(c);
		}
	}
}


/* ---- the stream's codec operations ---- */

/* The request head as HEADERS (with the body's data source unless it has
 * none).  Only nghttp2 holds it: a retry submits it again.  On a
 * connection whose server has not sent its SETTINGS yet the head is only
 * checked and the stream held (H2SS_F_HELD): h2sc_settle submits it. */
static bool h2ss_submit(struct stream *s)
{
	struct h2ss *h = strm_h2ss(s);
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	struct h2m_nv nv[HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 4];
	struct slice scheme = s->srv->srv->cfg->tls ? SLICE_LIT("https") : SLICE_LIT("http");

	int n = h2m_encode_request(m, scheme, nv, (int)(sizeof(nv) / sizeof(nv[0])), s->w->scratch,
				   buf_size);
	if (n < 0)
		return false;
	if (!h->c->settled && h->c->early_sent) {
		h->flags |= H2SS_F_HELD;
		if (!t->mono_srv_us)
			t->mono_srv_us = mono_us();
		return true;
	}
	h->flags &= (uint16_t)~H2SS_F_HELD;
	if (!h->c->settled)
		h->c->early_sent = true;
	bool body = m->body == BODY_LENGTH ? m->content_length > 0 : m->body != BODY_NONE;
	nghttp2_data_provider prd = { .source.ptr = NULL, .read_callback = req_read };
	/* a body that ended before the head went out (it came with it) */
	if ((t->req_ended || s->rq == RQ_DONE) && !t->req_spill.len)
		t->req_framed_end = true;   /* (spilled: http_req.c ends it after) */
	int32_t id = nghttp2_submit_request(h->c->w.ng, NULL, (const nghttp2_nv *)nv, (size_t)n,
					    body ? &prd : NULL, h);
	if (id < 0)
		return false;
	h->id = id;
	if (!t->mono_srv_us)
		t->mono_srv_us = mono_us();
	h2sc_want_flush(h->c);
	return true;
}

static bool h2ss_encode_head(struct stream *s)
{
	struct txn *t = s->txn;

	if (!h2ss_submit(s)) {
		t->term = TERM_INTERNAL;
		http_reply_error(s, 500, "request head does not fit HTTP/2");
		return false;
	}
	t->head_pending = false;
	return true;
}

/* Request body bytes wait in `req`: the data source reads them. */
static bool h2ss_send(struct stream *s)
{
	struct h2ss *h = strm_h2ss(s);
	struct txn *t = s->txn;

	if (!h || !h->id || !(h->flags & H2SS_F_DEFERRED) || !t)
		return false;
	uint32_t off = (s->flags & STRM_F_REPLAY) ? s->req_sent : 0;
	if ((!s->req.area || buf_out_len(&s->req) <= off) && !t->req_framed_end)
		return false;
	h->flags &= (uint16_t)~H2SS_F_DEFERRED;
	nghttp2_session_resume_data(h->c->w.ng, h->id);
	h2sc_want_flush(h->c);
	return false;
}

/* Credits the server's window with what left the stream's `res`, keeping
 * its buffered bytes plus the window the server still has (signed) within
 * the buffer's cap.  True when a WINDOW_UPDATE may be queued (the caller
 * flushes).  Also run for every stream when the server acknowledges our
 * SETTINGS (on_frame_recv). */
static bool h2ss_credit(struct h2sc *c, struct h2ss *h)
{
	struct stream *s = h->s;

	return c->w.held != h && h->id &&
	       h2_wire_credit(&c->w, h->id, &h->unacked, s->res.area ? buf_data_len(&s->res) : 0,
			      xform_res_cap(s));
}

/* What the server said about this stream is acted on here; then the window
 * is credited with what left `res`. */
static bool h2ss_recv(struct stream *s)
{
	struct h2ss *h = strm_h2ss(s);

	if (!h)
		return false;
	struct h2sc *c = h->c;
	if ((h->flags & H2SS_F_FAILED) && !(h->flags & H2SS_F_EOS)) {
		backend_srv_failed(s, h->why ? h->why : "server stream failed", false);
		return true;
	}
	bool progress = false, done;
	if (c->w.held == h && c->w.held_len) {
		progress = h2_wire_unhold(&c->w, &s->res, xform_res_cap(s), &done);
		if (done)
			h2sc_input_again(c);
	}
	if (h2ss_credit(c, h))
		h2sc_want_flush(c);
	return progress;
}

static enum step_result h2ss_read_head(struct stream *s)
{
	struct h2ss *h = strm_h2ss(s);
	struct txn *t = s->txn;

	if (!(h->flags & H2SS_F_HEAD))
		return STEP_WAIT;
	if (h->flags & H2SS_F_BAD) {
		if (s->sv)
			health_observe(s->sv, false, "malformed HTTP/2 response head");
		backend_release(s, false);
		http_reply_error(s, 502, "malformed HTTP/2 response head");
		return STEP_NEXT;
	}
	if (s->sv)
		health_observe_status(s->sv, t->res.status);
	t->res_src_bare = true;
	s->step = STEP_RES_RULES;
	return STEP_NEXT;
}

/* The response body: bare DATA in `res`, to the body events and the
 * client's framing; END_STREAM ends it. */
static bool h2ss_res_body(struct stream *s)
{
	struct h2ss *h = strm_h2ss(s);
	struct buf *b = &s->res;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (in) {
		/* the run goes to the output, then to its data event (a body
		 * transform replaces it there and frames its own output) */
		buf_advance(b, in);
		enum flt_verdict v = body_data(s, true, b->area + b->pr - in, in);
		if (v == FLT_STOP || stream_closed(s) || s->txn->res_xf)
			return true;
		if (!s->sess->codec->res_frame(s, in))
			stream_abort(s, "no room to frame the response body");
		return true;
	}
	if (!h || !(h->flags & H2SS_F_EOS) || (h->c->w.held == h && h->c->w.held_len))
		return false;
	if (h->flags & H2SS_F_BAD) {
		stream_abort(s, "server trailers too large");
		return true;
	}
	return res_body_end(s);
}

/* Bare bodies need no framing: the data source reads `req` as it fills. */
static bool h2ss_req_frame(struct stream *s, uint32_t n)
{
	(void)s;
	(void)n;
	return true;
}

static bool h2ss_req_frame_end(struct stream *s)
{
	s->txn->req_framed_end = true;
	return true;
}

const struct srv_codec srv_codec_h2 = {
	.name = "h2",
	.send = h2ss_send,
	.recv = h2ss_recv,
	.encode_head = h2ss_encode_head,
	.read_head = h2ss_read_head,
	.res_body = h2ss_res_body,
	.req_frame = h2ss_req_frame,
	.req_frame_end = h2ss_req_frame_end,
};
