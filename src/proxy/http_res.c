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
	if (t->res_holding) {
		/* held (txn_hold_res_body): the end event now, the framing of
		 * the end once the held bytes went (res_release) */
		if (!t->res_hold_eom) {
			enum flt_verdict v = body_end(s, true);
			if (v == FLT_WAIT)
				return false;
			if (v == FLT_CONTINUE)
				t->res_hold_eom = true;
			return true;
		}
		return false;
	}
	/* A transformed body's last bytes first (xform.h); then a bare body's
	 * end gets the client's framing (the last chunk and the trailers for
	 * HTTP/1.1); false while there is no room. */
	if (t->res_xf && !t->local && xform_relay(s) && !t->res_hold_eom) {
		/* a relay: the end event as the server's body ends, before
		 * the client had the relay's last bytes (filter.h) */
		enum flt_verdict v = body_end(s, true);
		if (v == FLT_WAIT)
			return false;
		if (v != FLT_CONTINUE)
			return true;
		t->res_hold_eom = true;
	}
	if (t->res_xf && !t->local && !xform_end(s))
		return false;
	if ((t->res_src_bare || t->res_xf) && !t->local && !s->sess->codec->res_frame_end(s))
		return false;
	enum flt_verdict v = t->res_hold_eom ? FLT_CONTINUE : body_end(s, true);
	if (v == FLT_WAIT)
		return false;
	if (v == FLT_CONTINUE)
		s->rs = RS_DONE;
	return true;
}

/* ---- holding the response (txn_hold_res_body) ---- */

/* Moves the decoded response bytes (s->res's output: the filters saw
 * them) to the end of the spill chain.  False out of memory (aborted). */
static bool res_spill_out(struct stream *s, struct txn *t)
{
	if (spill_take_out(&t->res_spill, &s->res))
		return true;
	stream_abort(s, "out of memory holding the response body");
	return false;
}

static bool res_body(struct stream *s);

/* A held response that a local reply replaced: what was held goes. */
static void res_hold_drop(struct txn *t)
{
	spill_free(&t->res_spill);
	t->res_holding = t->res_reframe = false;
	t->res_hold_done = true;
}

/*
 * STEP_DELIVER, before the client codec encodes the head, when a
 * response-head filter asked for the body (txn_hold_res_body): the body is
 * decoded bare (whatever the server's framing: the client codec frames it
 * after the head, t->res_src_bare) and each run, once the filters saw it,
 * moves to the spill chain; the step waits for the server's bytes until
 * the end event passed or more than the limit is held.  What the buffer
 * still holds of the server's bytes then is decoded too, so the head finds
 * room in front of the rest.  STEP_NEXT: deliver (or a filter replaced
 * the response: the step moved).
 */
enum step_result res_hold(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->res;

	if (t->local) {
		res_hold_drop(t);
		return STEP_NEXT;
	}
	if (t->res_hold_done)
		return STEP_NEXT;
	if (!t->res_holding) {
		if (m->body == BODY_NONE || m->body == BODY_TUNNEL || t->meth == HTTP_METH_HEAD ||
		    (m->body == BODY_LENGTH && !m->content_length)) {
			t->res_hold_done = true;
			return STEP_NEXT;
		}
		t->res_holding = true;
		if (!t->res_src_bare) {
			res_decode_bare(s, t);
			t->res_reframe = true;   /* HTTP/1 server: the events frame */
			t->res_src_bare = true;
		}
		s->rs = RS_BODY;
	}
	for (;;) {
		if (s->flags & STRM_F_PARKED)
			return STEP_WAIT;
		bool want = !t->res_hold_eom && t->res_spill.len <= t->res_hold_limit;
		if (!want && (!s->res.area || !buf_in_len(&s->res)))
			break;
		bool progress = res_body(s);
		if (stream_closed(s))
			return STEP_STOP;
		if (t->local || s->step != STEP_DELIVER) {
			res_hold_drop(t);
			return STEP_NEXT;
		}
		if (!res_spill_out(s, t))
			return STEP_STOP;
		if (!progress) {
			if (!want || (s->flags & STRM_F_PARKED))
				break;
			return STEP_WAIT;   /* the server's next bytes wake the stream */
		}
	}
	if (s->flags & STRM_F_PARKED)
		return STEP_WAIT;
	t->res_hold_done = true;
	return STEP_NEXT;
}

/* After the head: the held bytes, in order, at the end of s->res's output
 * (before the server's bytes not decoded yet), each run framed for the
 * client (or through a body transform); once they all went, the end's
 * framing if the body ended while held. */
static bool res_release(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->res;

	if (!t->res_spill.len) {
		t->res_holding = false;
		return t->res_hold_eom ? res_body_end(s) : true;
	}
	if (!buf_alloc(b)) {
		stream_abort(s, "out of memory");
		return true;
	}
	/* a transform's output may be longer than its input: leave it room */
	int64_t moved = spill_release(&t->res_spill, b, BODY_FRAME_MARGIN, t->res_xf ? 2 : 1);
	if (moved == 0)
		return false;
	if (moved < 0) {
		stream_abort(s, "no room to release the response body");
		return true;
	}
	uint32_t n = (uint32_t)moved;
	if (t->res_xf) {
		if (xform_data(s, b->area + b->pr - n, n) == FLT_STOP)
			return true;
	} else if (!s->sess->codec->res_frame(s, n)) {
		stream_abort(s, "no room to frame the response body");
	}
	return true;
}

static bool res_body(struct stream *s)
{
	if (s->flags & STRM_F_PARKED)
		return false;   /* a filter's verdict is pending (filter.h) */
	if (body_data_reask(s, true) != FLT_CONTINUE)
		return false;   /* still pending (parked again), or it answered */
	if (s->txn->res_xf && !s->txn->local) {
		/* a transform's held bytes go before anything new is decoded */
		enum xf_state st = xform_pump(s);
		if (st != XF_IDLE)
			return st == XF_MOVED;
	}
	if (s->txn->res_holding && s->txn->res_hold_done && !s->txn->local)
		return res_release(s);   /* held bytes go before anything new */
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
