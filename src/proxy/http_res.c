/*
 * http_res.c - the response direction of an HTTP stream.
 *
 *   res_wait_head  STEP_WAIT_HEAD: bytes -> t->res (HTTP/1 codec);
 *                  interim 1xx forwarded (or dropped when we already sent
 *                  our own 100 Continue); 101 turns the stream into a
 *                  tunnel; a final head is taken out of the buffer into
 *                  the message, for the response filters
 *   res_deliver    STEP_DELIVER: the final head (a server's or a local
 *                  reply's) encoded for the client, hop-by-hop fields
 *                  removed, Connection decided
 *   res_body       the body pump under rs: Content-Length counted, chunked
 *                  normalised (or decoded for an HTTP/1.0 client), or
 *                  until the server closes
 *
 * A server that sends something malformed gets its client a 502 if no
 * response byte has left yet, otherwise a cut connection.
 */
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "health/health.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

static void drop_head(struct buf *b, uint32_t len)
{
	/* Removes an interim head we will not forward. */
	memmove(b->area + b->pr, b->area + b->pr + len, b->wr - b->pr - len);
	b->wr -= len;
}

static bool forward_head(struct stream *s, struct http_msg *m, const char *extra)
{
	int n = h1_encode_response(m, extra, extra ? strlen(extra) : 0, s->w->scratch, buf_size);
	if (n < 0 || !buf_replace_in(&s->res, s->txn->res_ps.head_len, s->w->scratch, (uint32_t)n)) {
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large once rewritten");
		return false;
	}
	buf_advance(&s->res, (uint32_t)n);
	m->nhdrs = 0;   /* slices pointed into the replaced head */
	return true;
}

static bool res_interim(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	/* Our own 100 Continue went out already; HTTP/1.0 clients get no 1xx. */
	if ((m->status == 100 && t->expect_continue) || t->req_minor == 0)
		drop_head(&s->res, t->res_ps.head_len);
	else if (!forward_head(s, m, NULL))
		return true;
	msg_reset(m);
	h1_parser_reset(&t->res_ps);
	return true;
}

static bool res_upgrade(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	if (!t->upgrade) {
		backend_srv_failed(s, "101 Switching Protocols to a request without Upgrade", false);
		return true;
	}
	for (int i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == HDR_UPGRADE)
			m->hdrs[i].flags &= (uint8_t)~HDR_F_HOP;
	t->status = 101;
	if (s->sv)
		health_observe(s->sv, true, NULL);
	if (!forward_head(s, m, "Connection: upgrade\r\n"))
		return true;
	t->res_head_sent = true;
	s->flags |= STRM_F_SRV_CLOSE;
	s->rq = RQ_TUNNEL;
	s->rs = RS_TUNNEL;
	s->step = STEP_DONE;
	/* Bytes the client sent after its upgrade request are tunnel data. */
	if (s->req.area)
		s->req.pr = s->req.wr;
	return true;
}

/* A final head from the server: the message takes its bytes (the buffer
 * keeps the body that follows) and the response filters come next. */
static bool res_final(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	if (m->body == BODY_TUNNEL) {
		backend_srv_failed(s, "unexpected tunnel response", false);
		return true;
	}
	uint32_t len = t->res_ps.head_len;
	if (msg_adopt(m, buf_in(&s->res), len) < 0) {
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large");
		return true;
	}
	buf_drop_in(&s->res, len);
	if (s->sv)   /* outlier detection counts the server's 5xx, not ours */
		health_observe_status(s->sv, m->status);
	if (m->flags & MSG_F_CONN_CLOSE)
		s->flags |= STRM_F_SRV_CLOSE;
	s->step = STEP_RES_RULES;
	return true;
}

/* Sets up the body pump for the framing the client will get. */
static void res_framing(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	switch (m->body) {
	case BODY_NONE:
		s->rs = RS_DONE;
		break;
	case BODY_LENGTH:
		t->res_left = m->content_length;
		s->rs = m->content_length ? RS_BODY : RS_DONE;
		break;
	case BODY_CHUNKED:
		t->res_chunked = true;
		if (t->req_minor == 0) {
			/* HTTP/1.0 has no chunked coding: decode and delimit by close. */
			h1_chunk_init(&t->res_chunk, H1_CHUNK_DECODE);
			m->body = BODY_UNTIL_CLOSE;
			s->sess->flags |= SESS_F_CLOSE;
		} else {
			h1_chunk_init(&t->res_chunk, H1_CHUNK_NORMALIZE);
		}
		s->rs = RS_BODY;
		break;
	default:   /* BODY_UNTIL_CLOSE */
		s->sess->flags |= SESS_F_CLOSE;
	s->flags |= STRM_F_SRV_CLOSE;
		s->rs = RS_BODY;
		break;
	}
}

enum step_result res_deliver(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;
	const char *extra = NULL;

	t->status = m->status;
	if (!t->local)
		res_framing(s, t);
	if (s->w->stopping)
		s->sess->flags |= SESS_F_CLOSE;
	if (s->sess->flags & SESS_F_CLOSE)
		extra = "Connection: close\r\n";
	else if (t->req_minor == 0)
		extra = "Connection: keep-alive\r\n";
	int n = h1_encode_response(m, extra, extra ? strlen(extra) : 0, s->w->scratch, buf_size);
	if (n < 0 || !buf_alloc(&s->res) ||
	    !buf_insert_out(&s->res, false, s->w->scratch, (uint32_t)n)) {
		if (t->local) {
			stream_abort(s, "local response too large");
			return STEP_STOP;
		}
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large once rewritten");
		return STEP_NEXT;
	}
	if (t->local) {
		/* The body of a local reply fits the buffer (errorfiles are
		 * limited to 16k at load; rule bodies likewise). */
		if (t->local_body.len &&
		    !buf_insert_out(&s->res, false, t->local_body.p, t->local_body.len)) {
			stream_abort(s, "local response too large");
			return STEP_STOP;
		}
		s->rs = RS_DONE;
	}
	t->res_head_sent = true;
	s->step = STEP_DONE;
	return STEP_NEXT;
}

/* Body bytes just analysed, when they are pure data (Content-Length or
 * close-delimited, not chunked: those still carry their framing), go past
 * the response data filters, frontend's then backend's. */
static void res_pass(struct stream *s, uint32_t n)
{
	if (!n || s->txn->local)
		return;
	const char *p = s->res.area + s->res.pr - n;
	filters_data(s, s->fe->filters, FLT_RES_DATA, p, n);
	if (s->txn->be)
		filters_data(s, s->txn->be->cfg->filters, FLT_RES_DATA, p, n);
}

static bool res_head(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;
	struct srvconn *sc = s->srv;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (in == 0) {
		if (sc && (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			backend_srv_failed(s, "server closed the connection before responding", false);
			return true;
		}
		return false;
	}
	struct h1_limits lim = { .max_head = buf_size - s->w->cfg->global.maxrewrite,
				 .max_target = 0,
				 .max_hdrs = HTTP_MAX_HDRS };
	struct h1_err err = { 0 };
	int r = h1_parse_response(&t->res_ps, buf_in(b), in, &t->res, (enum http_meth)t->meth, &lim,
				  &err);
	if (r == H1_NEED_MORE) {
		if (sc && (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			backend_srv_failed(s, "server closed the connection in the middle of a response head", false);
			return true;
		}
		if (in >= lim.max_head) {   /* srv_recv stops at the head room */
			if (s->sv)
				health_observe(s->sv, false, "response head too large");
			backend_release(s, false);
			http_reply_error(s, 502, "response head too large");
			return true;
		}
		return false;
	}
	if (r == H1_ERROR) {
		char why[160];
		snprintf(why, sizeof(why), "invalid response: %s", err.reason ? err.reason : "malformed");
		if (s->sv)
			health_observe(s->sv, false, why);
		backend_release(s, false);
		http_reply_error(s, 502, why);
		return true;
	}
	struct http_msg *m = &t->res;
	if (m->status < 200 && m->status != 101)
		return res_interim(s, t);
	if (m->status == 101)
		return res_upgrade(s, t);
	return res_final(s, t);
}

static bool res_body(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;
	struct srvconn *sc = s->srv;
	uint32_t in = b->area ? buf_in_len(b) : 0;
	bool srv_eof = !sc || (sc->c.flags & (CONN_F_RD_EOF | CONN_F_ERROR));

	if (in == 0) {
		if (!srv_eof)
			return false;
		if (!t->res_chunked && t->res.body == BODY_UNTIL_CLOSE) {
			s->rs = RS_DONE;
			s->flags |= STRM_F_SRV_CLOSE;
			return true;
		}
		stream_abort(s, "server closed the connection in the middle of the response body");
		return true;
	}
	if (t->res_chunked) {
		struct h1_err err = { 0 };
		bool progress;
		int r = buf_chunk_forward(b, &t->res_chunk, &err, &progress);
		if (r == H1_ERROR) {
			stream_abort(s, err.reason ? err.reason : "bad chunked response body");
			return true;
		}
		if (r == H1_DONE)
			s->rs = RS_DONE;
		return progress;
	}
	if (t->res.body == BODY_UNTIL_CLOSE) {
		buf_advance(b, in);
		res_pass(s, in);
		return true;
	}
	uint32_t n = t->res_left < in ? (uint32_t)t->res_left : in;
	buf_advance(b, n);
	res_pass(s, n);
	t->res_left -= n;
	if (t->res_left == 0)
		s->rs = RS_DONE;
	return true;
}

enum step_result res_wait_head(struct stream *s)
{
	/* Interim responses are forwarded (or dropped) and parsing starts
	 * again; a final head moves the step on. */
	while (s->step == STEP_WAIT_HEAD && s->rs == RS_WAIT) {
		if (!res_head(s))
			return STEP_WAIT;
		if (s->flags & STRM_F_CLOSED)
			return STEP_STOP;
	}
	return STEP_NEXT;
}

bool http_res_pump(struct stream *s)
{
	bool progress = false, more;

	/* Body bytes that came with the head leave in the same send. */
	do {
		more = s->rs == RS_BODY && s->step == STEP_DONE && res_body(s);
		progress |= more;
	} while (more && !(s->flags & STRM_F_CLOSED) && s->rs != RS_DONE);
	return progress;
}
