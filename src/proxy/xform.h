/*
 * xform.h - the seam where a filter rewrites the response body's bytes
 * (compression; later the cache's stored variants).  filter.h has the
 * filter's side (txn_transform_res(), ops->res_xform, struct flt_xform);
 * this is the pipeline's side.
 *
 * The path of a transformed response:
 *
 *   server codec --decoded runs--> [res_data filters] --> res_xform --> client framing
 *                   (bare: t->res_bare)                    (filter)     (res_frame)
 *
 *   - STEP_DELIVER: the client codec asks xform_deliver(); when it says
 *     yes, the server codec hands the body bare whatever its framing
 *     (res_decode_bare), the head is encoded without a length (HTTP/1.1:
 *     chunked, HTTP/1.0: until close, HTTP/2: no content-length) and the
 *     client codec frames what the filter writes (sess_codec.res_frame).
 *   - each run of decoded data (the last n output bytes of s->res, its
 *     data event passed: xform_data) goes to the filter, whose output
 *     takes its place; the run's tail the filter could not take for lack
 *     of room is kept in the transform's own buffer (`in`, one pool
 *     buffer, only while it holds bytes) and offered again, first, before
 *     the server codec decodes anything more: that is the backpressure,
 *     and it bounds memory per stream to three buffers plus the filter's
 *     own state;
 *   - the source running dry (no input left, the server socket drained:
 *     srv_codec.res_more) is a flush (XF_FLUSH), so a streaming or
 *     stalled origin's bytes are not held back;
 *   - the end of the body is XF_END, before the client's framing of the
 *     end (the last chunk, trailers).
 *
 * A relay (filter.h txn_relay_res: the same bytes from the filter's own
 * copy) keeps the head's length, takes every run at once, is called again
 * with no input as its client drains (never holding the server back), is
 * sent no XF_FLUSH, and has its end event run as the server's body ends;
 * xform_res_cap bounds the server's bytes in s->res so its output always
 * finds room.  A relay stacked on a transform taken before it (filter.h:
 * the cache storing a response compression codes) feeds that transform
 * (txn_relay_code): the head is the transform's (no length), and when the
 * source runs dry the relay is asked for XF_FLUSH as room allows.
 *
 * Without a transforming filter none of this runs: t->res_xf is NULL and
 * the HTTP/1 fast path (the body normalised in place) is as before.
 */
#ifndef GH_PROXY_XFORM_H
#define GH_PROXY_XFORM_H

#include <stdbool.h>
#include <stdint.h>
#include "proxy/filter.h"

struct stream;

/* STEP_DELIVER (client codecs): first the filters' res_deliver_head
 * edits (filter.h), for every response; then true when the response body is to be
 * transformed: it is then decoded bare and s->rs set; the codec encodes
 * the head with no length and frames the output.  False (and the
 * transform dropped) for a local reply or a bodyless response. */
bool xform_deliver(struct stream *s);

/* After xform_deliver: the transform is a relay (filter.h,
 * txn_relay_res) and the response has a length, which its head keeps
 * (the client codec frames nothing). */
bool xform_keeps_length(const struct stream *s);
/* The transform is a relay: the end event runs when the server's body
 * ends, before the relay's last bytes reach the client (res_body_end). */
bool xform_relay(const struct stream *s);

/* What s->res may hold (output and the server's bytes not decoded yet)
 * before the server codec adds no more: buf_size less the framing's
 * margin; for a relay, its output plus half a buffer less the margin, so
 * the server's bytes never take the room the relay's next output needs
 * (once its client drains, it always has some: no deadlock while it holds
 * the server back, past its copy). */
uint32_t xform_res_cap(const struct stream *s);

/* The data event of a run of the response body while a transform is on
 * (body_data() calls it): the filters' res_data see it, then the
 * transforming filter replaces it.  The run is the last len output bytes
 * of s->res. */
enum flt_verdict xform_data(struct stream *s, const char *p, size_t len);

/* Before the server codec decodes more (http_res.c): a flush under way
 * goes on, then the input kept for lack of room.  Returns XF_IDLE
 * (nothing held: decode on), XF_MOVED (bytes moved: call again) or
 * XF_BLOCKED (held until the client drains). */
enum xf_state { XF_IDLE, XF_MOVED, XF_BLOCKED };
enum xf_state xform_pump(struct stream *s);

/* After the pump decoded what there was: the source ran dry, flush.
 * True on progress. */
bool xform_idle(struct stream *s);

/* The body's end (res_body_end): what is held, then XF_END.  False while
 * output waits for room (call again). */
bool xform_end(struct stream *s);

#endif
