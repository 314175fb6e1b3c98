/*
 * local.c - the one producer of responses gatehouse writes itself (see
 * local.h).  The reply is built as a struct http_msg in the transaction's
 * response slot and goes out through the response steps like a server's
 * response would; only the body comes from here (an errorfile, a rule's
 * text, or a one-line default).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include "core/log.h"
#include "net/conn.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

const char *http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 304: return "Not Modified";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 400 ? "OK" : "Error";
	}
}

/* The backend's errorfile for this status, else the frontend's. */
static const struct cfg_errorfile *find_errorfile(const struct stream *s, int status)
{
	const struct cfg_errorfile *ef = NULL;
	if (s->txn && s->txn->be)
		ef = cfg_errorfile_find(s->txn->be->cfg->errorfiles, s->txn->be->cfg->nerrorfiles,
					status);
	if (!ef)
		ef = cfg_errorfile_find(s->fe->errorfiles, s->fe->nerrorfiles, status);
	return ef;
}

/* Whether the client connection can carry another request after this
 * reply: its request must be read whole, or have a body we can read to
 * its end and drop (not one the client holds back for a 100 Continue). */
static bool can_keep_alive(const struct stream *s, const struct local_resp *r)
{
	const struct txn *t = s->txn;
	if (r->close || (s->sess->flags & SESS_F_CLOSE) || !t || s->w->stopping)
		return false;
	if (s->rq == RQ_DONE)
		return true;
	return s->rq == RQ_BODY && !t->expect_continue;
}

/* Fills t->res with r's status, headers and framing. */
static bool build_response(struct stream *s, struct txn *t, const struct local_resp *r,
			   struct slice body, struct slice ctype, bool copy_body)
{
	struct http_msg *m = &t->res;

	msg_reset(m);
	if (!r->src.read && copy_body && !(body = msg_store(m, body.p, body.len)).p)
		return false;
	m->flags = MSG_F_RESPONSE;
	m->version_major = 1;
	m->version_minor = 1;
	m->status = r->status;
	const char *reason = http_status_reason(r->status);
	m->reason = (struct slice){ reason, (uint32_t)strlen(reason) };
	if (r->head && !r->head(m, r->head_arg))
		return false;
	if (!r->head && ctype.len &&
	    msg_hdr_add(m, SLICE_LIT("Content-Type"), msg_store(m, ctype.p, ctype.len)) < 0)
		return false;
	if (r->location.len &&
	    msg_hdr_add(m, SLICE_LIT("Location"), msg_store(m, r->location.p, r->location.len)) < 0)
		return false;
	if (r->no_store && msg_hdr_add(m, SLICE_LIT("Cache-Control"), SLICE_LIT("no-store")) < 0)
		return false;
	if (r->retry_after) {
		char ra[16];
		int n = snprintf(ra, sizeof(ra), "%u", r->retry_after);
		if (msg_hdr_add(m, SLICE_LIT("Retry-After"), msg_store(m, ra, (size_t)n)) < 0)
			return false;
	}
	for (int i = 0; i < m->nhdrs; i++)
		if (!m->hdrs[i].value.p)
			return false;   /* a value did not fit the store */
	t->local_src = (struct local_src){ NULL, NULL, NULL };
	if (r->status == 304 || r->status == 204) {
		/* no body, and no Content-Length to describe one */
		m->body = BODY_NONE;
		body.len = 0;
	} else if (r->src.read) {
		m->content_length = r->src_len == LOCAL_LEN_UNKNOWN ? 0 : r->src_len;
		m->body = r->src_len == LOCAL_LEN_UNKNOWN ? BODY_CHUNKED : BODY_LENGTH;
		if (t->meth == HTTP_METH_HEAD) {
			m->body = BODY_NONE;
			if (r->src_len != LOCAL_LEN_UNKNOWN)
				m->flags |= MSG_F_KEEP_CL;
		} else {
			t->local_src = r->src;
		}
		body.len = 0;
	} else {
		m->content_length = body.len;
		if (t->meth == HTTP_METH_HEAD) {
			m->body = BODY_NONE;
			m->flags |= MSG_F_KEEP_CL;
			body.len = 0;
		} else {
			m->body = BODY_LENGTH;
		}
	}
	t->local_body = body;
	return true;
}

bool local_deliver_body(struct stream *s)
{
	struct txn *t = s->txn;

	if (t->local_src.read) {
		s->rs = RS_BODY;   /* local_body_pump() fills the buffer as it drains */
		/* or the codec sends the body in place (local_send_ext) */
		t->local_ext = t->local_src.span && s->sess->codec->ext_body &&
			       t->res.body == BODY_LENGTH && !t->res_out_chunked &&
			       conn_can_sendv(&s->sess->cli);
		t->local_ext_off = 0;
		return true;
	}
	if (t->local_body.len &&
	    (!buf_alloc(&s->res) ||
	     !buf_insert_out(&s->res, false, t->local_body.p, t->local_body.len)))
		return false;
	s->rs = RS_DONE;
	return true;
}

/* Room kept for the codec's framing of one run (an HTTP/1.1 chunk's
 * size line and CRLF). */
#define LOCAL_FRAME_ROOM 16

bool local_body_pump(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;

	if (!t->local_src.read) {
		s->rs = RS_DONE;
		return true;
	}
	if (t->local_ext)
		return false;   /* the codec's send() takes it in place */
	if (!buf_alloc(b))
		return false;
	/* the output is what the client has yet to take; there is no input */
	if (b->area && b->rd && buf_size - b->wr < buf_size / 4)
		buf_compact(b);
	uint32_t room = buf_size - b->wr;
	if (room <= LOCAL_FRAME_ROOM + 64)
		return false;   /* the client drains first: backpressure */
	bool eof = false;
	size_t n = t->local_src.read(t->local_src.arg, b->area + b->wr, room - LOCAL_FRAME_ROOM,
				     &eof);
	if (stream_closed(s))
		return true;   /* the producer gave up (stream_abort) */
	if (n) {
		b->wr += (uint32_t)n;
		buf_advance(b, (uint32_t)n);
		if (!s->sess->codec->res_frame(s, (uint32_t)n)) {
			stream_abort(s, "local response body could not be framed");
			return true;
		}
	}
	if (eof) {
		if (!s->sess->codec->res_frame_end(s))
			return n > 0;   /* the last chunk once there is room */
		t->local_src.read = NULL;
		s->rs = RS_DONE;
	}
	buf_release(b);
	return n > 0 || eof;
}

/* Runs of one local_send_ext() call, and the bytes of them: a 1 MiB
 * object goes in a few calls (the socket's buffer takes less anyway). */
#define LOCAL_EXT_IOV 32
#define LOCAL_EXT_MAX (256u * 1024)

bool local_send_ext(struct stream *s)
{
	struct txn *t = s->txn;
	struct conn *c = &s->sess->cli;
	struct iovec iov[LOCAL_EXT_IOV];
	int n = 0;

	if (!(c->flags & CONN_F_SEND_READY))
		return false;
	uint32_t head = s->res.area ? buf_out_len(&s->res) : 0;
	size_t total = head;
	if (head)
		iov[n++] = (struct iovec){ buf_out(&s->res), head };
	uint64_t len = t->res.content_length;   /* BODY_LENGTH: the body's */
	uint64_t off = t->local_ext_off;
	while (n < LOCAL_EXT_IOV && off < len && total < LOCAL_EXT_MAX) {
		const char *p = NULL;
		size_t k = t->local_src.span(t->local_src.arg, off, &p);
		if (!k)
			break;
		if (k > len - off)
			k = (size_t)(len - off);
		iov[n++] = (struct iovec){ (void *)p, k };
		off += k;
		total += k;
	}
	if (!n && off < len) {   /* a producer shorter than its length */
		stream_abort(s, "local response body shorter than its length");
		return true;
	}
	/* n 0: an empty body whose head went already: only the end below */
	ssize_t w = n ? conn_sendv(c, iov, n) : 0;
	if (w < 0) {
		log_debug("%s: client send failed: %s", s->fe->name, strerror(c->err));
		stream_close(s);
		return true;
	}
	if (w == 0 && n)
		return false;
	s->sess->cli_last = s->w->loop.now;
	t->bytes_out += (uint64_t)w;
	uint32_t from_head = (size_t)w < head ? (uint32_t)w : head;
	if (from_head) {
		buf_consume(&s->res, from_head);
		buf_release(&s->res);
	}
	t->local_ext_off += (uint64_t)w - from_head;
	if (t->local_ext_off >= len) {
		t->local_ext = false;
		t->local_src.read = NULL;
		(void)s->sess->codec->res_frame_end(s);   /* no framing: never fails */
		s->rs = RS_DONE;
	}
	return true;
}

/* Stops whatever the request direction was doing for a reply that closes. */
static void drop_request(struct stream *s)
{
	/* Whatever the client sent that we did not forward is dropped; the
	 * stream lingers on it after the response (see stream.c). */
	buf_release_force(&s->req);
	s->flags &= (uint16_t)~STRM_F_REPLAY;
	stream_replay_drop(s);
	s->req_sent = 0;
	/* HTTP/1: the connection closes after the reply.  HTTP/2: the
	 * stream alone ends (its codec resets what the client still sends). */
	if (!s->sess->codec->mux) {
		if (s->rq != RQ_DONE)
			s->sess->flags |= SESS_F_UNREAD;
		s->sess->flags |= SESS_F_CLOSE;
	}
	s->rq = RQ_DONE;
	s->flags |= STRM_F_SRV_CLOSE;
}

void local_reply(struct stream *s, const struct local_resp *r)
{
	struct txn *t = s->txn;
	char src[INET6_ADDRSTRLEN];

	if (r->why)
		log_warn("%s: %s \"%s\" %d %s", s->fe->name, stream_src_text(s, src, sizeof(src)),
			 txn_line(t), r->status, r->why);
	if (!t)
		t = stream_txn(s);
	if (!t || t->res_head_sent) {
		/* The client already has part of another response (or we are
		 * out of memory): all we can do is cut the connection. */
		stream_close(s);
		return;
	}
	if (s->srv || s->sv)
		backend_release(s, false);
	backend_unqueue(s);
	t->term = r->term;

	struct slice body = r->body, ctype = r->content_type;
	if (!body.p) {
		const struct cfg_errorfile *ef = find_errorfile(s, r->status);
		if (ef) {
			body = (struct slice){ ef->body, ef->len };
			if (!ctype.len)
				ctype = SLICE_LIT("text/html");
		}
	}
	char deflt[64];
	bool copy = !body.p;
	if (!body.p) {
		int n = snprintf(deflt, sizeof(deflt), "%d %s\n", r->status,
				 http_status_reason(r->status));
		body = (struct slice){ deflt, (uint32_t)n };
		if (!ctype.len)
			ctype = SLICE_LIT("text/plain");
	}
	bool keep = can_keep_alive(s, r);
	if (!keep)
		drop_request(s);
	else if (s->rq != RQ_DONE)
		t->discard_body = true;
	if (s->req.area) {   /* body bytes checked for a server that will not get them */
		buf_consume(&s->req, buf_out_len(&s->req));
		buf_release(&s->req);
	}
	s->flags &= (uint16_t)~STRM_F_REPLAY;
	stream_replay_drop(s);
	s->req_sent = 0;
	t->head_pending = false;
	buf_release_force(&s->res);
	if (!build_response(s, t, r, body, ctype, copy)) {
		log_warn("%s: local %d response does not fit", s->fe->name, r->status);
		stream_close(s);
		return;
	}
	t->local = true;
	s->rs = RS_WAIT;
	/* The reply meets the response filters like a server's response (the
	 * request id goes back on it; rules skip what is ours), from the first
	 * filter, whatever step or wait it interrupts. */
	s->flags &= (uint16_t)~STRM_F_PARKED;
	s->wait_until = 0;
	s->flt_pos = 0;
	s->flt_be = false;
	s->step = STEP_RES_RULES;
}

/* What a generated error says about why the transaction ended, unless
 * the caller said it more precisely first (t->term). */
static enum strm_term error_term(int status)
{
	switch (status) {
	case 408: return TERM_CLIENT_TIMEOUT;
	case 500: return TERM_INTERNAL;
	case 502: return TERM_SERVER_ERROR;
	case 503: return TERM_NO_SERVER;
	case 504: return TERM_SERVER_TIMEOUT;
	default: return status < 500 ? TERM_CLIENT_ERROR : TERM_INTERNAL;
	}
}

void http_reply_error(struct stream *s, int status, const char *why)
{
	struct local_resp r = {
		.status = (uint16_t)status, .why = why, .close = true, .no_store = true,
		.term = s->txn && s->txn->term ? s->txn->term : error_term(status),
	};
	local_reply(s, &r);
	/* The reply is delivered by the steps; callers outside them (timers,
	 * backend failures) count on stream_process() running next. */
}

void stream_abort(struct stream *s, const char *why)
{
	char src[INET6_ADDRSTRLEN];
	log_warn("%s: %s \"%s\" aborted: %s", s->fe->name, stream_src_text(s, src, sizeof(src)),
		 txn_line(s->txn), why);
	stream_close(s);
}
