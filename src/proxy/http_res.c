/*
 * http_res.c - the response direction of an HTTP stream, between the
 * server codec (srv_codec.h: h1_server.c decodes the server's head and
 * body) and the client's:
 *
 *   res_deliver    STEP_DELIVER: the final head (a server's or a local
 *                  reply's) encoded for the client, hop-by-hop fields
 *                  removed, Connection decided, the body's output framing
 *                  chosen (res_framing)
 *   http_res_pump  the body pump under rs: the server codec's decoder,
 *                  then the end of the message (res_body_end)
 */
#include <string.h>
#include "proxy/body.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

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
	if (s->rs == RS_DONE && !t->local && body_wants(s, FLT_RES_END)) {
		/* No body: the end event still comes, from the pump */
		t->res_ended = true;
		s->rs = RS_BODY;
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

/* The server codec decoded the response body's last byte (or there is
 * none): its end event, then the direction is done.  False while the
 * event waits. */
bool res_body_end(struct stream *s)
{
	s->txn->res_ended = true;
	enum flt_verdict v = body_end(s, true);
	if (v == FLT_WAIT)
		return false;
	if (v == FLT_CONTINUE)
		s->rs = RS_DONE;
	return true;
}

static bool res_body(struct stream *s)
{
	if (s->flags & STRM_F_PARKED)
		return false;   /* a filter's verdict is pending (filter.h) */
	if (s->txn->res_ended)
		return res_body_end(s);   /* the end event again, after its wait */
	return s->srv_codec->res_body(s);
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
