/*
 * body.h - the body events of a stream (body.c): what a codec's body pump
 * tells the filters, whatever the protocol.  `res` picks the direction
 * (false: the request, client -> server).
 */
#ifndef GH_PROXY_BODY_H
#define GH_PROXY_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "http/msg.h"
#include "proxy/filter.h"
#include "proxy/stream.h"
#include "proxy/xform.h"

struct stream;
struct txn;

/* Whether any filter of the stream's chains (frontend, backend once
 * routed) handles phase ph: a pump skips what nobody listens to, and the
 * events below cost a test when nobody does. */
static inline bool body_wants(const struct stream *s, enum flt_phase ph)
{
	const struct filter_chain *fc = s->fe->filters;
	const struct txn *t = s->txn;
	const struct filter_chain *bc = t && t->be ? t->be->cfg->filters : NULL;
	return ((fc ? fc->phases : 0) | (bc ? bc->phases : 0)) & (1u << ph);
}

enum flt_verdict body_data_run(struct stream *s, bool res, const char *p, size_t len);
enum flt_verdict body_end_run(struct stream *s, bool res);

/* Before a pump goes on after a data event answered FLT_WAIT: the filters
 * are asked again with an empty run, so a wake that is not the verdict (a
 * DATA frame, a timer, a readable socket) parks the stream again instead
 * of letting the pump move bytes past a filter still judging them.
 * FLT_CONTINUE when nothing waits (any more), FLT_WAIT (parked again) or
 * FLT_STOP (a filter answered). */
enum flt_verdict body_data_reask(struct stream *s, bool res);
/* A bare response run of a codec that does not frame for the client (a
 * held response's, HTTP/1 server): the events, then the client's framing. */
enum flt_verdict body_data_reframe(struct stream *s, const char *p, size_t len);

/* A run of decoded body data, valid during the call.  FLT_WAIT has parked
 * the stream (the pump stops after this run); FLT_STOP means a filter
 * answered or closed it.  The response's run lies at the end of s->res's
 * output (a body transform replaces it there). */
static inline enum flt_verdict body_data(struct stream *s, bool res, const char *p, size_t len)
{
	if (res && s->txn->res_xf)
		return xform_data(s, p, len);   /* a filter rewrites the body (xform.h) */
	if (res && s->txn->res_reframe)
		return body_data_reframe(s, p, len);
	return body_wants(s, res ? FLT_RES_DATA : FLT_REQ_DATA) ? body_data_run(s, res, p, len) :
								  FLT_CONTINUE;
}

/* Keeps a trailer field for the end event; -1 when the trailers outgrow
 * their bound (16 KiB) or memory: the message is then refused. */
int body_trailer(struct stream *s, bool res, struct slice name, struct slice value);

/* The end of the message (trailers included): FLT_CONTINUE when the
 * direction may be done, FLT_WAIT (parked; call again after the wake) or
 * FLT_STOP. */
static inline enum flt_verdict body_end(struct stream *s, bool res)
{
	if (!body_wants(s, res ? FLT_RES_END : FLT_REQ_END))
		return (s->flags & STRM_F_PARKED) ? FLT_WAIT : FLT_CONTINUE;
	return body_end_run(s, res);
}

/* Frees the trailers of both messages (txn_reset, txn_free). */
void body_trailers_drop(struct txn *t);
static inline void body_trailers_free(struct txn *t)
{
	if (t->req_trailers || t->res_trailers)
		body_trailers_drop(t);
}

/* Room a codec keeps free at the end of a request buffer while it
 * receives a body, so the framing the server's codec wraps around a run
 * of bare bytes (a chunk-size line and its CRLF, at most 12 bytes) always
 * fits. */
#define BODY_FRAME_MARGIN 32

/* HTTP/1 chunked framing of a bare body (RFC 9112 7.1), for the codecs
 * that speak HTTP/1 on their output side: the last n output bytes of b
 * become one chunk; the last chunk and the trailer fields tr (may be NULL;
 * encoded in scratch, cap bytes) go at the end of the output.  False when
 * the buffer has no room (nothing changed: call again once it drained). */
bool body_chunk_frame(struct buf *b, uint32_t n);
bool body_chunk_end(struct buf *b, const struct http_msg *tr, char *scratch, uint32_t cap);

#endif
