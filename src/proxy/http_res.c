/*
 * http_res.c - the response direction of an HTTP stream, whatever the
 * protocol: the body pump between the server codec's decoder
 * (srv_codec.res_body, h1_server.c) and the client's, and the end of the
 * message (res_body_end).  The response head is decoded by the server
 * codec (STEP_WAIT_HEAD) and encoded by the client codec (STEP_DELIVER).
 * A filter that rewrites the body (xform.h) sits between the two: its
 * held bytes move before the decoder runs, and it flushes when the
 * source runs dry.
 */
#include <string.h>
#include "proxy/body.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "proxy/xform.h"

void res_decode_bare(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->res;

	t->res_bare = true;
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
		h1_chunk_init(&t->res_chunk, H1_CHUNK_DECODE);
		s->rs = RS_BODY;
		break;
	default:   /* BODY_UNTIL_CLOSE: the server's close ends the body */
		s->flags |= STRM_F_SRV_CLOSE;
		s->rs = RS_BODY;
		break;
	}
}

/* The server codec decoded the response body's last byte (or there is
 * none): its end event, then the direction is done.  False while the
 * event waits. */
bool res_body_end(struct stream *s)
{
	struct txn *t = s->txn;

	t->res_ended = true;
	/* A transformed body's last bytes first (xform.h); then a bare body's
	 * end gets the client's framing (the last chunk and the trailers for
	 * HTTP/1.1); false while there is no room. */
	if (t->res_xf && !t->local && !xform_end(s))
		return false;
	if ((t->res_src_bare || t->res_xf) && !t->local && !s->sess->codec->res_frame_end(s))
		return false;
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
	if (s->txn->res_xf && !s->txn->local) {
		/* a transform's held bytes go before anything new is decoded */
		enum xf_state st = xform_pump(s);
		if (st != XF_IDLE)
			return st == XF_MOVED;
	}
	if (s->txn->res_ended)
		return res_body_end(s);   /* the end event again, after its wait */
	if (s->txn->local)
		return local_body_pump(s);   /* our own reply's producer (local.h) */
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
	/* A transform flushes once the source ran dry (xform.h). */
	if (s->rs == RS_BODY && s->step == STEP_DONE && !(s->flags & STRM_F_CLOSED) &&
	    s->txn->res_xf && !s->txn->local)
		progress |= xform_idle(s);
	return progress;
}
