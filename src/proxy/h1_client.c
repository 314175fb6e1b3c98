/*
 * h1_client.c - the HTTP/1.1 codec of a client session (sess_codec_h1):
 *
 *   recv, send      bytes between the client socket and the stream's
 *                   buffers
 *   read_head       STEP_READ_HEAD: bytes -> t->req (strict: errors become
 *                   4xx replies and nothing reaches a server); the message
 *                   takes its head out of the buffer, the body's framing is
 *                   set up
 *   req_body        the request body decoder: Content-Length counted,
 *                   chunked decoded and written back normalised; each data
 *                   run goes to the body events (body.h)
 *   send_continue   our "100 Continue"
 *   deliver         STEP_DELIVER: t->res (a server's or a local reply's)
 *                   encoded for the client, hop-by-hop fields removed,
 *                   Connection decided, the response body's framing chosen
 *                   (kept, or chunked decoded for an HTTP/1.0 client)
 *   check_end       what follows an exchange: the next request on the
 *                   connection (keep-alive, pipelining), a lingering
 *                   close, or the end of a tunnel
 *
 * HTTP/1 carries one exchange at a time, so its session has one stream,
 * reused from request to request.  The body pumps decode and re-frame in
 * one pass, in place, since both sides speak HTTP/1 (body.c has the events
 * in between).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "core/log.h"
#include "net/conn.h"
#include "proxy/body.h"
#include "proxy/local.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "proxy/xform.h"


/* ---- client side ---- */

/* How far body bytes may fill the request buffer: until its head is
 * encoded in front of them, only the room the head left (http_req.c). */
static uint32_t body_limit(const struct stream *s)
{
	return s->txn && s->txn->head_pending ? stream_head_room(s) - s->txn->req_head_len :
						buf_size - BODY_FRAME_MARGIN;
}

static bool h1_recv(struct stream *s)
{
	struct conn *c = &s->sess->cli;
	uint32_t limit;

	if (!(c->flags & CONN_F_RECV_READY) || (c->flags & (CONN_F_RD_EOF | CONN_F_ERROR)))
		return false;
	switch (s->rq) {
	case RQ_IDLE:
	case RQ_HEAD:
		limit = stream_head_room(s);
		break;
	case RQ_BODY:
		if (txn_req_spilling(s->txn))
			return false;   /* a held body's spilled bytes go first */
		limit = body_limit(s);
		break;
	case RQ_TUNNEL:
		limit = buf_size;
		break;
	default:
		/* RQ_DONE: a pipelined request waits in the socket until this
		 * transaction ends - unless we are lingering before a close. */
		if (!(s->sess->flags & SESS_F_LINGER))
			return false;
		limit = buf_size;
		break;
	}
	if (!buf_alloc(&s->req)) {
		stream_abort(s, "out of memory");
		return true;
	}
	if (s->req.wr >= limit) {
		buf_compact(&s->req);
		if (s->req.wr >= limit)
			return false;
	}
	ssize_t n = conn_recv(c, s->req.area + s->req.wr, limit - s->req.wr);
	if (n > 0) {
		s->sess->cli_last = s->w->loop.now;
		if (s->sess->flags & SESS_F_LINGER) {
			buf_release_force(&s->req);   /* discarded */
			return true;
		}
		s->req.wr += (uint32_t)n;
		if (s->rq == RQ_BODY && s->txn)
			s->txn->body_rcvd += (uint64_t)n;
		if (s->rq == RQ_IDLE) {
			s->rq = RQ_HEAD;
			s->sess->head_start = s->w->loop.now;
		}
		return true;
	}
	buf_release(&s->req);
	return n == 0 || (c->flags & CONN_F_ERROR);
}

static bool h1_send(struct stream *s)
{
	struct conn *c = &s->sess->cli;

	if (s->txn && s->txn->local_ext)
		return local_send_ext(s);   /* the buffer's bytes, then the body in place */
	if (!s->res.area || buf_out_len(&s->res) == 0 || !(c->flags & CONN_F_SEND_READY))
		return false;
	ssize_t n = conn_send(c, buf_out(&s->res), buf_out_len(&s->res));
	if (n < 0) {
		log_debug("%s: client send failed: %s", s->fe->name, strerror(c->err));
		stream_close(s);
		return true;
	}
	if (n == 0)
		return false;
	s->sess->cli_last = s->w->loop.now;
	if (s->txn)
		s->txn->bytes_out += (uint64_t)n;
	buf_consume(&s->res, (uint32_t)n);
	buf_release(&s->res);
	return true;
}

/* Propagates half-closes through a tunnel; closes when both ways are done. */
static bool tunnel_check_end(struct stream *s)
{
	struct srvconn *sc = s->srv;
	bool progress = false;

	if ((s->sess->cli.flags & CONN_F_ERROR) || (sc && (sc->c.flags & CONN_F_ERROR))) {
		stream_close(s);
		return true;
	}
	if (!sc || !sc->connected)
		return false;
	if ((s->sess->cli.flags & CONN_F_RD_EOF) && buf_empty(&s->req) && !(sc->c.flags & CONN_F_WR_SHUT)) {
		conn_shutw(&sc->c);
		progress = true;
	}
	if ((sc->c.flags & CONN_F_RD_EOF) && buf_empty(&s->res) &&
	    !(s->sess->cli.flags & CONN_F_WR_SHUT)) {
		conn_shutw(&s->sess->cli);
		progress = true;
	}
	if ((s->sess->cli.flags & CONN_F_WR_SHUT) && (sc->c.flags & CONN_F_WR_SHUT)) {
		stream_close(s);
		return true;
	}
	return progress;
}

/* Starts discarding the client's unread input after our final response so
 * closing does not turn into a reset that destroys that response in
 * flight (RFC 9112 9.6, "lingering close"). */
static void stream_linger(struct stream *s)
{
	conn_shutw(&s->sess->cli);
	s->sess->flags |= SESS_F_LINGER;
	s->sess->linger_start = s->w->loop.now;
	s->rq = RQ_DONE;
	s->rs = RS_DONE;
	buf_release_force(&s->req);
}

static bool client_may_have_input(const struct stream *s)
{
	return s->rq != RQ_DONE || (s->sess->flags & SESS_F_UNREAD) ||
	       (s->req.area && buf_in_len(&s->req) > 0) || (s->sess->cli.flags & CONN_F_RECV_READY);
}

static bool http_check_end(struct stream *s)
{
	struct txn *t = s->txn;

	if (s->sess->flags & SESS_F_LINGER) {
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);
			return true;
		}
		return false;
	}
	if (!t || s->rs != RS_DONE || (s->res.area && buf_out_len(&s->res) > 0))
		return false;
	/* A local reply answered before the request body ended: it is read
	 * and dropped first, so the connection can carry the next request. */
	if (t->discard_body && s->rq == RQ_BODY)
		return false;

	/* The response is delivered. */
	bool req_complete = s->rq == RQ_DONE;
	bool srv_clean = req_complete && (!s->req.area || buf_out_len(&s->req) == 0) &&
			 (!s->res.area || buf_in_len(&s->res) == 0) &&
			 !(s->flags & STRM_F_SRV_CLOSE);
	txn_end(s);
	backend_release(s, srv_clean);
	s->flags &= ~STRM_F_SRV_CLOSE;
	buf_release_force(&s->res);
	if (!req_complete)
		s->sess->flags |= SESS_F_CLOSE;
	if (s->w->stopping)
		s->sess->flags |= SESS_F_CLOSE;
	/* Keep-alive after a reload: the next request runs under the new
	 * generation (or this was the last one, its frontend gone). */
	if (!(s->sess->flags & SESS_F_CLOSE))
		stream_follow(s);
	if (s->sess->flags & SESS_F_CLOSE) {
		if (client_may_have_input(s) && !(s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
			stream_linger(s);
			return true;
		}
		stream_close(s);
		return true;
	}

	/* Keep-alive: next request, possibly already pipelined in the buffer. */
	s->rs = RS_NONE;
	s->step = STEP_READ_HEAD;
	if (s->req.area && buf_in_len(&s->req) > 0) {
		s->rq = RQ_HEAD;
		s->sess->head_start = s->w->loop.now;
		txn_reset(t);
	} else {
		s->rq = RQ_IDLE;
		buf_release_force(&s->req);
		txn_free(s->w, t);
		s->txn = NULL;
	}
	s->sess->cli_last = s->w->loop.now;
	return true;
}

/* A parked stream (a filter's wait: a delay, a tarpit) reads nothing
 * from its client, so a client that reset the connection meanwhile would
 * hold it until the wait ends: a peek tells a reset (gone) from a FIN
 * (perhaps a half-close: the answer is still owed). */
static bool client_reset(const struct stream *s)
{
	char b;

	if (!(s->flags & STRM_F_PARKED) || !(s->sess->cli.flags & CONN_F_HUP))
		return false;
	return recv(s->sess->cli.io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

static bool h1_check_end(struct stream *s)
{
	if (s->rq == RQ_TUNNEL)
		return tunnel_check_end(s);
	if ((s->sess->cli.flags & CONN_F_ERROR) || client_reset(s)) {
		stream_close(s);
		return true;
	}
	return http_check_end(s);
}


/* ---- the request: head (STEP_READ_HEAD) and body ---- */

/*
 * An HTTP/1.0 request without a Host (or with an empty one): the target
 * URI's authority is then the address the client reached (RFC 9112 3.3).
 * We forward in HTTP/1.1, where the server needs a Host, and rules and
 * X-Forwarded-Host see the same name.
 */
static void default_authority(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];

	if (getsockname(s->sess->cli.io.fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;   /* not an IP socket (a test's socketpair): no address to name */
	addr_ntop((struct sockaddr *)&ss, ip, sizeof(ip));
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
							 ((struct sockaddr_in *)&ss)->sin_port);
	struct slice v = msg_storef(m, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
	if (!v.len)
		return;
	m->authority = v;
	struct http_hdr *h = msg_hdr_by_id(m, HDR_HOST);
	if (h)
		h->value = v;
}

/* The head is complete: the message takes its bytes, the buffer keeps
 * only what follows (body, or the next pipelined request). */
static enum step_result h1_on_head(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;

	t->req_head_len = t->req_ps.head_len;
	if (msg_adopt(m, buf_in(&s->req), t->req_head_len) < 0) {
		http_reply_error(s, 431, "request head too large");
		return STEP_NEXT;
	}
	buf_drop_in(&s->req, t->req_head_len);
	t->body_rcvd = buf_in_len(&s->req);   /* what came with the head */
	if (!m->authority.len)
		default_authority(s, t);

	/* Body framing is known now: the pump (req_body) decodes any body
	 * bytes that came with the head before a server is chosen. */
	t->req_bare = true;
	switch (m->body) {
	case BODY_LENGTH:
		t->req_left = m->content_length;
		s->rq = m->content_length ? RQ_BODY : RQ_DONE;
		break;
	case BODY_CHUNKED:
		/* decoded bare: the server's codec frames it for its protocol */
		h1_chunk_init(&t->req_chunk, H1_CHUNK_DECODE);
		t->req_chunked = true;
		s->rq = RQ_BODY;
		break;
	default:
		s->rq = RQ_DONE;
		break;
	}
	return txn_head_decoded(s, t);
}

/*
 * An auto bind's first bytes: the HTTP/2 connection preface (prior
 * knowledge, or TLS with ALPN h2) turns the session to HTTP/2, as HAProxy
 * tells them apart.  STEP_NEXT: HTTP/1.1 it is; STEP_WAIT: a prefix of the
 * preface so far; STEP_STOP: the session is HTTP/2 now (s is released).
 */
static enum step_result sniff_preface(struct stream *s)
{
	struct session *ss = s->sess;
	uint32_t in = buf_in_len(&s->req);
	uint32_t n = in < H2_PREFACE_LEN ? in : H2_PREFACE_LEN;

	if (memcmp(buf_in(&s->req), H2_PREFACE, n) != 0 ||
	    (ss->bind && ss->bind->proto == BIND_PROTO_H1)) {
		ss->flags |= SESS_F_SNIFFED;
		return STEP_NEXT;
	}
	if (n < H2_PREFACE_LEN)
		return (ss->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) ? STEP_NEXT : STEP_WAIT;
	if (s->txn)
		s->txn->logged = true;   /* never a request: nothing to log */
	h2_session_start(ss, buf_in(&s->req), in);
	return STEP_STOP;
}

static enum step_result h1_read_head(struct stream *s)
{
	if (!s->req.area || buf_in_len(&s->req) == 0) {
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);   /* client left between requests */
			return STEP_STOP;
		}
		return STEP_WAIT;
	}
	if (!(s->sess->flags & SESS_F_SNIFFED) && s->sess->fe->mode == MODE_HTTP) {
		enum step_result r = sniff_preface(s);
		if (r != STEP_NEXT)
			return r;
	}
	struct txn *t = stream_txn(s);
	if (!t) {
		stream_abort(s, "out of memory");
		return STEP_STOP;
	}
	txn_first_byte(t);
	const struct cfg_frontend *fe = s->fe;
	struct h1_limits lim = { .max_head = fe->max_header_size,
				 .max_target = fe->max_target_size,
				 .max_hdrs = HTTP_MAX_HDRS };
	struct h1_err err = { 0 };
	int r = h1_parse_request(&t->req_ps, buf_in(&s->req), buf_in_len(&s->req), &t->req, &lim,
				 &err);
	if (r == H1_NEED_MORE) {
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			log_debug("%s: client closed in the middle of a request head", fe->name);
			stream_close(s);
			return STEP_STOP;
		}
		/* cli_recv never reads past the head room, so a head that
		 * fills it can only be too large. */
		if (buf_in_len(&s->req) >= lim.max_head ||
		    buf_in_len(&s->req) >= buf_size - s->w->cfg->global.maxrewrite) {
			t->term = TERM_CLIENT_ERROR;
			http_reply_error(s, 431, "request head too large");
			return STEP_NEXT;
		}
		return STEP_WAIT;
	}
	if (r == H1_ERROR) {
		t->term = TERM_CLIENT_ERROR;
		http_reply_error(s, err.status ? err.status : 400, err.reason ? err.reason : "bad request");
		return STEP_NEXT;
	}
	return h1_on_head(s, t);
}

/* Body bytes the codec has analysed (they lie at the end of the output):
 * dropped after a local reply (t->discard_body), else shown to the filters
 * as data and left for the server. */
static bool req_pass(struct stream *s, const char *p, uint32_t len)
{
	struct buf *b = &s->req;

	if (s->txn->discard_body) {
		buf_consume(b, buf_out_len(b));
		return true;
	}
	return body_data(s, false, p, len) == FLT_CONTINUE;
}

/* One pass of the request body decoder: Content-Length counted, chunked
 * decoded and written back normalised; each data run to the body events.
 * False when nothing moved (or the filters said to stop for now). */
static bool h1_req_body(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->req;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (in == 0) {
		if (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			t->term = TERM_CLIENT_ABORT;
			stream_abort(s, "client closed during the request body");
			return true;
		}
		return false;
	}
	if (!t->req_chunked) {
		uint32_t n = t->req_left < in ? (uint32_t)t->req_left : in;
		const char *p = buf_in(b);
		buf_advance(b, n);
		t->bytes_in += n;
		t->req_left -= n;
		/* A filter that waits on the last run (a WAF judging what it
		 * saw) still gets the end event once it wakes: req_body_end()
		 * marks it due (t->req_ended) and req_body() runs it again. */
		bool go = req_pass(s, p, n);
		if (stream_closed(s))
			return true;
		if (t->req_left == 0 && (go || (s->flags & STRM_F_PARKED)))
			req_body_end(s);
		return true;
	}
	struct h1_err err = { 0 };
	struct slice data;
	bool progress;
	uint32_t out = buf_out_len(b);
	int r = buf_chunk_forward(s, false, &t->req_chunk, &err, &progress, &data);
	if (r == H1_ERROR) {
		t->term = TERM_CLIENT_ERROR;
		http_reply_error(s, 400, err.reason ? err.reason : "bad chunked body");
		return true;
	}
	uint32_t produced = buf_out_len(b) - out;
	t->bytes_in += in - buf_in_len(b);
	if (s->fe->max_body_size && t->req_chunk.total > s->fe->max_body_size) {
		http_reply_error(s, 413, "chunked request body larger than max_body_size");
		return true;
	}
	/* The filters see the run where the decoder left it; then it gets the
	 * server's framing once its head is out (encode_head frames what came
	 * before), whether a filter waits or not - unless one answered. */
	bool go = true;
	if (t->discard_body || data.len)
		go = req_pass(s, data.p, data.len);
	if (stream_closed(s))
		return true;
	if (!t->head_pending && !t->local && produced && !s->srv_codec->req_frame(s, produced)) {
		stream_abort(s, "no room to frame the request body");
		return true;
	}
	if (!go && !(s->flags & STRM_F_PARKED))
		return true;   /* a filter answered */
	if (r == H1_DONE) {   /* due after a wait too (see above) */
		req_body_end(s);
	} else if (go && !progress && (s->sess->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR))) {
		/* a line the client will never finish */
		t->term = TERM_CLIENT_ABORT;
		stream_abort(s, "client closed during the request body");
		return true;
	}
	return progress;
}

/* The body's clock stops while the buffer is as full as h1_recv fills it
 * (the server or a filter holds the body back), and once a body of known
 * length is all in. */
static bool h1_req_stalled(struct stream *s)
{
	struct txn *t = s->txn;

	if (!t->req_chunked && t->body_rcvd >= t->req.content_length)
		return true;
	if (!s->req.area)
		return false;
	return buf_data_len(&s->req) >= body_limit(s);
}

/* Our own 100 Continue, when the request is on its way to a server. */
static bool h1_send_continue(struct stream *s)
{
	static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (!buf_alloc(&s->res) || !buf_empty(&s->res))
		return false;
	memcpy(s->res.area, continue_100, sizeof(continue_100) - 1);
	s->res.pr = s->res.wr = sizeof(continue_100) - 1;
	return true;
}

/* ---- the response: head (STEP_DELIVER) and its framing ---- */

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

/* The same, for a body the server's codec hands bare (an HTTP/2 server):
 * an unknown length goes chunked (or close-delimited to HTTP/1.0), framed
 * by h1_res_frame as it comes. */
static void res_framing_bare(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	switch (m->body) {
	case BODY_NONE:
		s->rs = RS_DONE;
		break;
	case BODY_LENGTH:
		s->rs = m->content_length ? RS_BODY : RS_DONE;
		break;
	default:
		if (t->req_minor == 0) {
			m->body = BODY_UNTIL_CLOSE;
			s->sess->flags |= SESS_F_CLOSE;
		} else {
			m->body = BODY_CHUNKED;
			t->res_out_chunked = true;
		}
		s->rs = RS_BODY;
		break;
	}
}

static bool h1_res_frame(struct stream *s, uint32_t n)
{
	return !s->txn->res_out_chunked || body_chunk_frame(&s->res, n);
}

static bool h1_res_frame_end(struct stream *s)
{
	struct txn *t = s->txn;

	if (t->res_framed_end)
		return true;
	if (t->res_out_chunked &&
	    !body_chunk_end(&s->res, t->res_trailers, s->w->scratch, buf_size))
		return false;
	t->res_framed_end = true;
	return true;
}

static enum step_result h1_deliver(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;
	const char *extra = NULL;

	t->status = m->status;
	/* A filter that rewrites the body (xform.h): decoded bare, length
	 * unknown, framed here as it comes (chunked; HTTP/1.0: until close). */
	bool xf = xform_deliver(s);
	bool xf_len = xf && xform_keeps_length(s);   /* a relay: same bytes, same length */
	if (xf_len)
		;   /* the Content-Length stays; nothing to frame */
	else if (xf && t->req_minor == 0)
		s->sess->flags |= SESS_F_CLOSE;
	else if (xf)
		t->res_out_chunked = true;
	else if ((!t->local && t->res_src_bare) || (t->local && t->local_src.read))
		res_framing_bare(s, t);   /* a local producer's body is bare too */
	else if (!t->local)
		res_framing(s, t);
	if (s->w->stopping)
		s->sess->flags |= SESS_F_CLOSE;
	if (s->sess->flags & SESS_F_CLOSE)
		extra = "Connection: close\r\n";
	else if (t->req_minor == 0)
		extra = "Connection: keep-alive\r\n";
	/* the message keeps the source's framing for the decoder */
	uint8_t src_body = m->body;
	if (xf && !xf_len)
		m->body = t->res_out_chunked ? BODY_CHUNKED : BODY_UNTIL_CLOSE;
	int n = h1_encode_response(m, extra, extra ? strlen(extra) : 0, s->w->scratch, buf_size);
	m->body = src_body;
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
	if (s->rs == RS_DONE && !t->local && body_wants(s, FLT_RES_END)) {
		/* No body: the end event still comes, from the pump */
		t->res_ended = true;
		s->rs = RS_BODY;
	}
	/* The short body of a local reply fits the buffer (errorfiles are
	 * limited to 16k at load; rule bodies likewise); a producer's is
	 * pumped (local.h). */
	if (t->local && !local_deliver_body(s)) {
		stream_abort(s, "local response too large");
		return STEP_STOP;
	}
	t->res_head_sent = true;
	s->step = STEP_DONE;
	return STEP_NEXT;
}

/* ---- interim responses ---- */

bool h1_forward_head(struct stream *s, struct http_msg *m, uint32_t head_len, const char *extra)
{
	int n = h1_encode_response(m, extra, extra ? strlen(extra) : 0, s->w->scratch, buf_size);
	if (n < 0 || !buf_alloc(&s->res) ||
	    !buf_replace_in(&s->res, head_len, s->w->scratch, (uint32_t)n)) {
		backend_release(s, false);
		http_reply_error(s, 502, "response head too large once rewritten");
		return false;
	}
	buf_advance(&s->res, (uint32_t)n);
	m->nhdrs = 0;   /* slices pointed into the replaced head */
	return true;
}

static bool h1_interim(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	return h1_forward_head(s, m, head_len, NULL);
}

/* A 101 goes to the client re-encoded in place. */
static bool h1_upgraded(struct stream *s, struct http_msg *m, uint32_t head_len)
{
	return h1_forward_head(s, m, head_len, "Connection: upgrade\r\n");
}


/* ---- the session's side ---- */

/* A stream for a session that was idle between requests. */
static bool session_attach(struct session *ss)
{
	struct stream *s = pool_zget(&ss->w->stream_pool);
	if (!s)
		return false;
	timer_del(&ss->w->loop, &ss->idle_timer);
	session_idle(ss, false);
	ss->strm = s;
	session_follow(ss);   /* a reload since the last request: the new generation */
	stream_init(s, ss);
	stream_resume(s);
	return true;
}

static void h1_on_event(struct session *ss)
{
	if (!ss->strm && !session_attach(ss)) {
		log_err("%s: out of memory for a request", ss->fe->name);
		session_close(ss);
		return;
	}
	stream_process(ss->strm);
}

static bool h1_drain(struct session *ss)
{
	struct stream *s = ss->strm;

	ss->flags |= SESS_F_CLOSE;
	/* Idle keep-alive connections, and new ones that sent nothing yet, go
	 * now; a request in progress finishes and then closes. */
	if (!s || s->rq == RQ_IDLE ||
	    (s->rq == RQ_HEAD && (!s->req.area || buf_empty(&s->req)))) {
		session_close(ss);
		return true;
	}
	return false;
}

static void h1_release(struct session *ss)
{
	if (ss->strm)
		stream_release(ss->strm);
}

static void h1_free(struct session *ss)
{
	if (ss->strm)
		stream_put(ss->strm);
}

static void h1_close_stream(struct stream *s)
{
	/* HTTP/1: the stream's end is its connection's end. */
	session_close(s->sess);
}

const struct sess_codec sess_codec_h1 = {
	.name = "http/1.1",
	.recv = h1_recv,
	.send = h1_send,
	.read_head = h1_read_head,
	.req_body = h1_req_body,
	.req_stalled = h1_req_stalled,
	.send_continue = h1_send_continue,
	.deliver = h1_deliver,
	.check_end = h1_check_end,
	.interim = h1_interim,
	.upgraded = h1_upgraded,
	.res_frame = h1_res_frame,
	.res_frame_end = h1_res_frame_end,
	.ext_body = true,
	.close_stream = h1_close_stream,
	.on_event = h1_on_event,
	.drain = h1_drain,
	.release = h1_release,
	.free = h1_free,
	.mux = false,
};
