/*
 * filter.h - the pipeline's filter seam: how a feature sees and changes a
 * stream without living in src/proxy/.
 *
 * A filter is a small table of callbacks, one per phase (Envoy's
 * decodeHeaders/encodeHeaders, HAProxy's flt_ops).  Each frontend and
 * backend has a chain of filter instances, built once per configuration
 * from the registry in filter.c; a feature adds one row there and one file
 * of its own.  Phases, in the order a transaction meets them:
 *
 *   req_head   the request head is decoded (t->req); frontend filters run
 *              before routing, backend filters after it
 *   req_data   request body data on its way to the server, as the codec
 *              decoded it (no chunk framing), in order, in pieces as they
 *              arrive; a piece is valid during the call only
 *   req_end    the request message ended: its trailers (NULL if none;
 *              t->req_trailers) and end of message; bodyless requests too
 *   res_head   the response head is decoded (t->res); frontend filters,
 *              then the backend's
 *   res_data   response body data on its way to the client, as req_data
 *   res_end    the response message ended, as req_end (not for gatehouse's
 *              own replies, whose bodies filters never see)
 *   end        the transaction is over (delivered, refused or aborted):
 *              logs, counters; cannot fail
 *
 * Verdicts:
 *   FLT_CONTINUE  go on with the next filter, then the next step
 *   FLT_WAIT      park the stream: nothing of its steps or body pumps runs
 *                 (the filter is not asked again) until the filter calls
 *                 stream_wake() with its verdict ready, or until a time
 *                 it set with stream_wait_until(s, deadline_ms) before
 *                 answering (the stream's own timer wakes it then; no
 *                 worker sleeps: a delay, a tarpit).  A head or end
 *                 callback is then called again for the same phase; a data
 *                 callback is called again with an empty run (len 0: the
 *                 piece was seen; pumping resumes with the next one once
 *                 it no longer waits).  So a wake that is not the verdict
 *                 (any other event of the stream) only re-asks: a filter
 *                 keeps answering FLT_WAIT until it is done, and a data
 *                 callback must take len 0.  The filter must hold the
 *                 stream only until its end phase (it may close while
 *                 parked).
 *   FLT_STOP      the filter answered (local_reply(): deny, redirect, 429,
 *                 a cache hit) or closed the stream; the rest of the chain
 *                 is skipped.  From a data or end callback a reply is only
 *                 possible while nothing of the response left (else the
 *                 stream is cut), so a filter that judges the request body
 *                 asks for it first (txn_hold_body()).
 *   FLT_ALLOW     stop this chain (rules' `allow`), the next chain still runs
 *
 * Holding the body: a req_head filter that must judge the whole request
 * before any of it reaches a server (a WAF) calls txn_hold_body(): the
 * stream then chooses no server until the body has ended (req_end ran
 * with CONTINUE) or fills the buffer (tune.bufsize minus the head room;
 * the data and end events have all run by then), as HAProxy's
 * http-buffer-request.  txn_hold_body_upto(t, N) holds up to N body bytes
 * whatever the buffer's size: until the body ended or more than N bytes
 * were decoded (the byte past N is what tells a filter the body is over
 * its limit), the decoded bytes move from the buffer to a chain of pooled
 * buffers (proxy/spill.h) as it fills; once the hold is over the head goes
 * out alone and the chain follows it in order, framed for the server,
 * before the client codec takes any more of the body.  A client that sent
 * Expect: 100-continue gets its 100 first.
 *
 * Holding the response: a res_head filter that judges the response body
 * before any of it may leave (a WAF's phase 4) calls txn_hold_res_body(t,
 * N): at STEP_DELIVER, before the client codec encodes the head, the body
 * is decoded bare and its runs, once the res_data filters saw them, move
 * to a spill chain, until the end event passed (res_end ran with
 * CONTINUE) or more than N bytes are held; a data or end callback can
 * still answer with local_reply() then.  After the head the chain goes to
 * the client in order (framed by its codec), then the rest streams.
 *
 * Work off the loop: a filter whose verdict is expensive (the WAF) hands a
 * job that owns copies of what it reads to the offload pool
 * (proxy/offload.h) and answers FLT_WAIT; the job's done() runs on the
 * stream's worker, applies the result and calls stream_wake().  Its state
 * is a struct flt_ctx (below), whose ctx_free cancels a job still out.
 *
 * Keeping the fetch when the client leaves: a response filter whose work
 * needs the rest of the response whatever its client does (a cache storing
 * it for the requests waiting on it) calls txn_keep_fetch(t, true)
 * (proxy/stream.h).  Should the client then go away (close, reset,
 * timeout, HTTP/2 RST_STREAM) while the body streams from the server, the
 * client's exchange ends (its end phase runs: its access-log line, with
 * its cause) and the transaction with its filters' state, buffers and
 * server connection moves to a stream with no client (proxy/detached.c,
 * stream_orphan_fetch).  There the body goes on through the res_data and
 * res_end filters at the server's pace under the backend's timeouts, the
 * output is dropped, and the end phase runs again when it ends: a request
 * of its own in the logs and counters (txn_orphaned() tells the filters).
 * A filter that no longer needs the rest takes it back with
 * txn_keep_fetch(t, false) and, once orphaned, stops the stream itself
 * (stream_abort, FLT_STOP).  Filter state must not keep the struct stream
 * pointer across the move (it is a new stream; the txn is the same).
 *
 * Transforming the response body (proxy/xform.h): a res_head filter that
 * means to rewrite the body's bytes (compression) calls
 * txn_transform_res() with its ops; from then on its res_xform callback
 * takes each run of decoded body data and writes what replaces it, the
 * response goes bare (the client's codec frames it: chunked for HTTP/1.1,
 * DATA for HTTP/2) and its head announces no length.  One transforming
 * filter per response.  Trailers pass unchanged.  A relay
 * (txn_relay_res, below) is a transform that gives the same bytes from
 * the filter's own copy, so the server is read at its own pace.
 */
#ifndef GH_PROXY_FILTER_H
#define GH_PROXY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"

struct stream;

enum flt_verdict { FLT_CONTINUE = 0, FLT_WAIT, FLT_STOP, FLT_ALLOW };

enum flt_phase { FLT_REQ_HEAD = 0, FLT_REQ_DATA, FLT_REQ_END, FLT_RES_HEAD, FLT_RES_DATA,
		 FLT_RES_END, FLT_END, FLT_PHASE_COUNT };

struct http_msg;
struct txn;
struct flt_ctx;

/* One call of a transforming filter (res_xform, proxy/xform.h): it takes
 * what it can of in[0..in_len) (sets consumed; the rest is offered again
 * next time, first) and writes at most out_cap bytes to out (sets
 * produced).  flags:
 *   XF_FLUSH  the source ran dry (a stalled or streaming origin): emit
 *             everything taken so far, so the client is not kept waiting
 *   XF_END    the body ended: finish (trailing bytes, checksums)
 * With either flag, more = true says output is still held for lack of
 * room: the call is repeated with the same flag and no new input until
 * more comes back false.  in is NULL when in_len is 0. */
#define XF_FLUSH 0x1
#define XF_END   0x2
struct flt_xform {
	const char *in;
	size_t in_len;
	size_t consumed;
	char *out;
	size_t out_cap;
	size_t produced;
	unsigned flags;
	bool more;
	/* A relay (txn_relay_res) whose output is exactly this input, in
	 * order (its client caught up): it may set in_place, where
	 * may_in_place says so (the input is the run in the stream's buffer),
	 * instead of writing to out: consumed = produced = in_len and the run
	 * stays where it is, uncopied. */
	bool may_in_place, in_place;
	/* A relay stacked on a transform taken before it (txn_relay_res):
	 * its output goes through that transform, with txn_relay_code. */
	bool coded;
};

struct filter_ops {
	const char *name;
	/* conf: what the registry's conf function returned for this scope. */
	enum flt_verdict (*req_head)(struct stream *s, const void *conf);
	enum flt_verdict (*req_data)(struct stream *s, const void *conf, const char *p, size_t len);
	enum flt_verdict (*req_end)(struct stream *s, const void *conf, const struct http_msg *trailers);
	enum flt_verdict (*res_head)(struct stream *s, const void *conf);
	enum flt_verdict (*res_data)(struct stream *s, const void *conf, const char *p, size_t len);
	enum flt_verdict (*res_end)(struct stream *s, const void *conf, const struct http_msg *trailers);
	/* The response body transformed (txn_transform_res() from res_head):
	 * FLT_CONTINUE, or FLT_STOP to cut the stream (a compressor failed). */
	enum flt_verdict (*res_xform)(struct stream *s, const void *conf, struct flt_xform *x);
	/* The head of a transformed response, edited at delivery (after every
	 * res_head filter, so they all saw the origin's head: a cache stores
	 * that one) and only when the transform goes ahead. */
	void (*res_xform_head)(struct stream *s, const void *conf, struct http_msg *m);
	/* A last edit of the response head at delivery, for a filter whose
	 * per-transaction state (c, attached with these ops) is on the
	 * transaction: after every res_head filter (a cache stored the
	 * origin's head before it) and before res_xform_head; for local
	 * replies too (t->local says which).  What a filter adds here is
	 * about this client's copy only (compression's Vary). */
	void (*res_deliver_head)(struct stream *s, struct flt_ctx *c, struct http_msg *m);
	void (*end)(struct stream *s, const void *conf);
	/* Frees the filter's per-transaction state (struct flt_ctx below). */
	void (*ctx_free)(struct flt_ctx *c);
	/* A value the filter gives fetches from its per-transaction state:
	 * fetch is a cond.h FETCH_* kind the filter owns (waf_rules); NULL
	 * when it has none.  How a feature adds a fetch without the pipeline
	 * knowing it (flt_txn_var). */
	const char *(*var)(const struct flt_ctx *c, int fetch);
};

struct filter {
	const struct filter_ops *ops;
	const void *conf;
};

#define FLT_MAX 16

/* The filters of one frontend or backend, in order, and which phases any
 * of them handles (so an empty phase costs one test). */
struct filter_chain {
	struct filter v[FLT_MAX];
	int n;
	unsigned phases;            /* 1u << enum flt_phase */
};

/* Builds the chain of every frontend and backend of c (cfg_frontend.filters,
 * cfg_backend.filters).  Returns 0, or -1 with *err set (static text). */
int filters_init(struct cfg *c, const char **err);
void filters_free(struct cfg *c);

/*
 * Runs a head phase (FLT_REQ_HEAD or FLT_RES_HEAD) of chain c from filter
 * *pos on; *pos is where to resume after FLT_WAIT and is reset to 0 when
 * the chain ends.  Returns FLT_CONTINUE (chain done, or ended by allow),
 * FLT_WAIT or FLT_STOP.
 */
enum flt_verdict filters_head(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, uint8_t *pos);

/* Shows a piece of body data to a data phase (FLT_REQ_DATA, FLT_RES_DATA)
 * of chain c: FLT_CONTINUE, or the first other verdict. */
enum flt_verdict filters_data(struct stream *s, const struct filter_chain *c,
			      enum flt_phase ph, const char *p, size_t len);

/* Runs an end-of-message phase (FLT_REQ_END, FLT_RES_END) of chain c from
 * filter *pos on, as filters_head(). */
enum flt_verdict filters_msg_end(struct stream *s, const struct filter_chain *c,
				 enum flt_phase ph, const struct http_msg *trailers, uint8_t *pos);

/* The end phase of both chains of s (frontend, then backend). */
void filters_end(struct stream *s);

/*
 * Per-transaction state.  A filter that keeps something between phases (a
 * WAF's body copy and its pending job) allocates a struct that starts with
 * a struct flt_ctx and attaches it to the transaction; it finds it again
 * with flt_ctx_get().  The pipeline calls ops->ctx_free() when the
 * transaction is reset or freed, after the end phase, on the worker's
 * thread: also when the stream is closed while the filter waits (FLT_WAIT),
 * which is where an offloaded job is cancelled (proxy/offload.h).
 */
struct flt_ctx {
	const struct filter_ops *ops;
	struct flt_ctx *next;
};

void *flt_ctx_get(const struct txn *t, const struct filter_ops *ops);
void flt_ctx_attach(struct txn *t, struct flt_ctx *c, const struct filter_ops *ops);
void flt_ctx_free_all(struct txn *t);

/* Built-in filters (their files say what they do). */
extern const struct filter_ops flt_realip_ops;      /* filter/flt_realip.c */
extern const struct filter_ops flt_reqid_ops;       /* filter/flt_reqid.c */
extern const struct filter_ops flt_rules_fe_ops;    /* filter/flt_rules.c */
extern const struct filter_ops flt_rules_be_ops;    /* filter/flt_rules.c */
extern const struct filter_ops flt_forward_ops;     /* filter/flt_forward.c */
extern const struct filter_ops flt_sticky_ops;      /* filter/flt_forward.c */
extern const struct filter_ops flt_access_log_ops;  /* log/flt_access_log.c */
extern const struct filter_ops flt_waf_fe_ops;      /* waf/flt_waf.c */
extern const struct filter_ops flt_waf_be_ops;      /* waf/flt_waf.c */
extern const struct filter_ops flt_compress_fe_ops; /* compress/flt_compress.c */
extern const struct filter_ops flt_compress_be_ops; /* compress/flt_compress.c */

/*
 * From a res_head callback: the response body goes through ops->res_xform
 * (conf is given back to it).  False when another filter transforms this
 * response already (never twice) or memory is short: the filter then
 * leaves the head as it was.  The filter edits the head it announces
 * (Content-Encoding, no length) in ops->res_xform_head, which runs at
 * delivery and only if the transform goes ahead: a response that turns out
 * to have no body (HEAD, 204, 304) or that a later filter replaces with a
 * local reply is not transformed and keeps its head.
 */
bool txn_transform_res(struct stream *s, const struct filter_ops *ops, const void *conf);
/*
 * A relay (the cache storing a response): a transform whose output is the
 * same bytes as its input, which the filter keeps a copy of (an object
 * being stored).  Its res_xform takes every run at once (consumed =
 * in_len) and gives the client what it can of its copy; more = true on any
 * call says it still owes bytes, and it is called again with no input as
 * the client drains.  So the server is read at its own pace whatever the
 * client's: the relay's output waiting in the stream's buffer stays under
 * half of it (out_cap says so), the server's bytes get the rest.  Taking
 * less than a run (its copy stopped: an object past max_object) holds the
 * rest as for any transform: the client paces the server again, and no
 * byte is lost or reordered.  No XF_FLUSH is sent (but to a coded relay,
 * below); XF_END comes when the
 * body ended, with the end event already run (the filters saw the end as
 * the server's bytes ended, not once the client had them).  The head
 * keeps its Content-Length.  Asked for from res_deliver_head (after every
 * res_head filter decided).
 *
 * A transform taken already (compression) is kept and stacked under the
 * relay: the relay is called with io->coded set and hands what it would
 * give the client to txn_relay_code(), which runs that transform's
 * res_xform (its own io: input, room, flags), so the client gets the
 * relay's bytes coded, still at its own pace, and the head is that
 * transform's (no length).  Such a relay is sent XF_FLUSH, as room
 * allows, when the server's bytes run dry (the coder's held output goes
 * out); with more = true it is asked again as its client drains.
 */
bool txn_relay_res(struct stream *s, const struct filter_ops *ops, const void *conf);
/* From a coded relay's res_xform (io->coded): the transform under it takes
 * what it can of io->in and writes at most io->out_cap bytes (consumed,
 * produced, more as for res_xform).  FLT_STOP when it failed. */
enum flt_verdict txn_relay_code(struct stream *s, struct flt_xform *io);
extern const struct filter_ops flt_cache_ops;       /* cache/flt_cache.c */
extern const struct filter_ops flt_metrics_fe_ops;  /* admin/flt_metrics.c */
extern const struct filter_ops flt_metrics_be_ops;  /* admin/flt_metrics.c */

/* The first value a filter of transaction t (a const struct txn *) gives
 * for fetch kind `fetch` (ops->var), or NULL: what stream_cond_ctx() hands
 * the fetches (struct cond_ctx.var). */
const char *flt_txn_var(const void *t, int fetch);

/* tcp_request connection rules of the session's frontend, at accept
 * (flt_rules.c): false when the connection is to be closed unanswered.
 * rules_tcp_close() gives back what they took for the connection's life
 * (concurrency places), once, when the session closes. */
struct session;
bool rules_tcp_accept(struct session *ss);
void rules_tcp_close(struct session *ss);

#endif
