/*
 * stream.h - one request/response exchange: its transaction, its step,
 * its buffers and its server connection.  The client connection it came on
 * is its session (session.h).
 *
 * The request's path, in the order the files read (docs/architecture.md
 * has the picture):
 *   worker.c     accepts the connection
 *   session.c    makes its session (tcp_request rules) and stream
 *   stream.c     drives the stream: I/O on both sides, the body pumps, timeouts
 *   steps.c      the transaction's steps, one function each, in one table
 *   h1_client.c  the session's HTTP/1 codec: client I/O, decodes the
 *                request head and body, encodes the response head, what
 *                follows an exchange
 *   http_req.c   route, assign; the request body pump (protocol-neutral)
 *   backend.c    picks a server (lb/); srvconn.c connects or reuses one,
 *                queue.c waits for a slot, retry.c handles failures
 *   h1_server.c  the server's HTTP/1 codec (srv_codec.h): encodes the
 *                request head, decodes the response head and body
 *   h2_client.c  the HTTP/2 codecs: a client session of many streams,
 *   h2_server.c  server connections shared by many streams (h2_wire.c
 *                between nghttp2 and a socket)
 *   http_res.c   the response body pump (protocol-neutral)
 *   body.c       the body events between the codecs and the filters
 *   filter.c     filter chains per frontend/backend (rules, headers, logs)
 *   local.c      responses gatehouse writes itself (errors, rule answers)
 *
 * HTTP/1: one stream per session, reused; HTTP/2: one per request.  Two
 * half state machines describe it:
 * `rq` for the request direction (client -> server) and `rs` for the
 * response direction (server -> client); a transaction ends when both are
 * DONE and the client has been sent everything.  TCP mode streams start in
 * the TUNNEL states and stay there.
 *
 * Memory: an idle keep-alive stream holds no buffer and no transaction,
 * only this struct.  In flight it holds at most two buffers (req, res) and
 * one struct txn; waiting for its server, a request sent whole holds no
 * buffer (stream.replay keeps a small one's bytes for a replay).
 */
#ifndef GH_PROXY_STREAM_H
#define GH_PROXY_STREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "config/cfg.h"
#include "core/buf.h"
#include "core/list.h"
#include "core/loop.h"
#include "http/h1.h"
#include "http/msg.h"
#include "lb/lb.h"
#include "limit/limit.h"
#include "net/conn.h"
#include "proxy/local.h"
#include "proxy/session.h"
#include "proxy/spill.h"
#include "proxy/srv_codec.h"

struct worker;
struct stream;
struct cond_ctx;
struct xform;

enum rq_state {
	RQ_IDLE = 0,    /* between requests: waiting for the first byte */
	RQ_HEAD,        /* head partially received */
	RQ_BODY,        /* head forwarded, body streaming */
	RQ_DONE,        /* request entirely analysed */
	RQ_TUNNEL,      /* raw bytes (after 101, or TCP mode) */
};

enum rs_state {
	RS_NONE = 0,    /* no transaction */
	RS_WAIT,        /* waiting for the server's head */
	RS_BODY,        /* head forwarded, body streaming */
	RS_DONE,        /* response entirely analysed (or generated locally) */
	RS_TUNNEL,
};

/*
 * The transaction's steps, in order (steps.c runs them; one function each).
 * A step returns STEP_NEXT (go on to s->step, which it set), STEP_WAIT
 * (nothing to do until an event: I/O, a timer, a queue slot, a filter's
 * verdict) or STEP_STOP (the stream was closed or handed over).  Body bytes
 * are not steps: they stream through the buffers under rq/rs (stream.c).
 */
enum strm_step {
	STEP_READ_HEAD = 0,  /* client codec: bytes -> t->req (read head) */
	STEP_REQ_RULES,      /* frontend request-head filters: request id, rules */
	STEP_ROUTE,          /* use_backend -> t->be */
	STEP_BE_RULES,       /* backend request-head filters: rules, forwarding headers */
	STEP_ASSIGN,         /* server chosen (or queued), head encoded for it, connect */
	STEP_WAIT_HEAD,      /* server codec: bytes -> t->res (wait for head) */
	STEP_RES_RULES,      /* response-head filters: rules, sticky cookie */
	STEP_DELIVER,        /* t->res encoded for the client; the body follows */
	STEP_DONE,           /* delivered (or local reply under way): log and end in check_end */
	STEP_COUNT
};

enum step_result { STEP_NEXT, STEP_WAIT, STEP_STOP };

/* Why a transaction ended, for the access log (log/access_log.h has the
 * words); TERM_NONE is a normal end, a rule's return or redirect included. */
enum strm_term {
	TERM_NONE = 0, TERM_CLIENT_TIMEOUT, TERM_CLIENT_ABORT, TERM_CLIENT_ERROR,
	TERM_RULE_DENY, TERM_NO_SERVER, TERM_QUEUE_TIMEOUT, TERM_CONNECT_TIMEOUT,
	TERM_CONNECT_ERROR, TERM_SERVER_TIMEOUT, TERM_SERVER_RESET, TERM_SERVER_ERROR,
	TERM_TLS_ERROR, TERM_SHUTDOWN, TERM_INTERNAL, TERM_RATE_LIMITED, TERM_CONN_LIMITED,
	TERM_TARPIT,
	TERM_BODY_TIMEOUT, TERM_SLOW_BODY,
	TERM_WAF_BLOCKED, TERM_WAF_AMBIGUOUS,
};
/* The access log's word for t, NULL for TERM_NONE. */
const char *strm_term_name(enum strm_term t);

/* Per-transaction state; allocated when a request starts, freed when its
 * response has been delivered.  Both messages own their bytes (msg.h), so
 * the buffers are free to move on once a head has been decoded. */
struct txn {
	/* Filters' state for this transaction (filter.h, struct flt_ctx),
	 * freed by txn_reset() / txn_free(), after the end phase. */
	struct flt_ctx *flt_ctx;
	struct http_msg req;
	struct http_msg res;
	struct h1_parser req_ps, res_ps; /* the HTTP/1 codec's place in each head */
	struct backend_rt *be;
	uint8_t meth;                   /* request method */
	uint8_t req_minor;              /* client's HTTP/1.x minor version */
	uint16_t status;                /* status sent to the client */
	uint8_t term;                   /* enum strm_term */
	uint64_t req_left;              /* Content-Length bytes left to forward */
	uint64_t res_left;
	struct h1_chunk req_chunk, res_chunk;
	bool req_chunked, res_chunked;
	/* The body events (body.h): trailer fields (allocated when a message
	 * has some), the last body byte decoded (the end event is due: the
	 * direction is done once the filters let it), the request's end event
	 * passed, where a waiting end event resumes. */
	struct http_msg *req_trailers, *res_trailers;
	bool req_ended, res_ended;
	bool req_eom;
	/* a data event answered FLT_WAIT: it is asked again (body_data_reask)
	 * before the direction's pump goes on */
	bool req_data_wait, res_data_wait;
	bool eom_be;                    /* the end event: the frontend's chain is done */
	uint8_t eom_pos;
	bool hold_body;                 /* choose no server before the body is in (filter.h) */
	bool path_two_ways;             /* a path condition read the path two ways (cond.h): 400 */
	/* txn_hold_body_upto(): hold up to hold_limit body bytes (0: what the
	 * buffer takes), those past the buffer in req_spill; once the hold is
	 * over (spill_sealed) the spilled bytes go to the server first, in
	 * order, and the client codec takes nothing more until they have. */
	bool spill_sealed;
	uint64_t hold_limit;
	struct spill req_spill;
	/* txn_hold_res_body(): the response head waits while its body is
	 * decoded (bare) into res_spill, up to res_hold_limit bytes or its
	 * end; res_holding until the spilled bytes went to the client, after
	 * the head; res_hold_eom: the end event passed while held;
	 * res_reframe: the server codec hands bare runs without asking the
	 * client's codec to frame them (HTTP/1), so the body events do. */
	uint64_t res_hold_limit;
	bool res_holding, res_hold_done, res_hold_eom, res_reframe;
	struct spill res_spill;
	bool continue_sent;             /* our 100 Continue is on its way */
	bool res_head_sent;             /* client has been sent (part of) a final head */
	bool expect_continue;           /* we owe the client a 100 Continue */
	bool upgrade;                   /* request asked for an upgrade */
	bool head_pending;              /* request head decoded, not yet encoded for a server */
	bool assigned;                  /* a server was asked for (it may be queued) */
	bool sticky_set;                /* the response must (re)set the affinity cookie */
	bool local;                     /* the response is ours (local.c), not a server's */
	bool discard_body;              /* a local reply answered; the request body is read and dropped */
	bool logged;                    /* the end phase ran (txn_end) */
	/* txn_keep_fetch(): should the client go away while the response body
	 * streams, the server side goes on without it (stream_orphan_fetch);
	 * orphan: this is that continuation (no client) */
	bool keep_fetch;
	bool orphan;
	/* Bare bodies, between codecs of different framings: the client codec
	 * hands the request body without framing (HTTP/2), so the server
	 * codec frames it (srv_codec.req_frame, req_frame_end: done once);
	 * the client codec wants the response body without framing, trailers
	 * as events (body_trailer), whatever the filters listen to. */
	bool req_bare, req_framed_end;
	bool res_bare;
	/* The server codec hands the response body bare (HTTP/2 server): an
	 * HTTP/1 client then gets it framed by its codec (sess_codec
	 * res_frame: chunked when res_out_chunked). */
	bool res_src_bare, res_out_chunked, res_framed_end;
	/* A filter transforms the response body (proxy/xform.h): its state,
	 * set from STEP_DELIVER on only when the response has a body (the
	 * body events then go through it); the flt_ctx list owns it. */
	struct xform *res_xf;
	uint32_t req_head_len;          /* bytes the request head took on the wire */
	/* The request body's clock (`timeout body`, `min_body_rate`; stream.c):
	 * when the body started (ms, 0 = no body), the body bytes the client
	 * codec received so far, and the time the clock stood still because
	 * the proxy, not the client, held the body back (a full buffer, a
	 * closed window, a server to find, a filter's verdict). */
	uint64_t body_start;
	uint64_t body_rcvd;
	uint64_t body_paused_ms;
	uint64_t body_pause_since;
	bool body_paused;
	struct slice local_body;        /* body of a local reply (static or config-owned) */
	struct local_src local_src;     /* or its producer (local.h), read NULL = none */
	/* The producer's body leaves in place (local.h, local_send_ext): set
	 * at delivery; the bytes of it sent so far (of res.content_length) */
	bool local_ext;
	uint64_t local_ext_off;
	uint64_t start_ms;
	uint64_t start_us;              /* wall clock of the request's first byte (access log) */
	/* Monotonic stamps (mono_us()) for the access log's timings; 0 = not
	 * reached: the head decoded, a server asked for, a server slot taken,
	 * the connection ready, the first response byte. */
	uint64_t mono_start_us, mono_assign_us, mono_srv_us, mono_conn_us, mono_ttfb_us;
	uint64_t bytes_in, bytes_out;
	int retries;
	uint8_t req_id_len;             /* request id (request_id header NAME), 0 if none */
	char req_id[129];               /* REQID_MAX + 1 */
	/* trusted_proxies (filter/flt_realip.c): the client X-Forwarded-For or
	 * Forwarded named (stream_src() returns it), and whether the peer was
	 * trusted, so its forwarding headers are kept (flt_forward.c). */
	struct sockaddr_in6 real_src;
	bool real_src_set;
	bool fwd_trusted;
	const char *server_name;        /* the server that answered, kept for the log after
					   the connection went back to the pool */
	/* The rules filter's (filter/flt_rules.c): where a rule list that
	 * waited resumes (the next rule's index; 0: from the start), until
	 * when (ms, loop clock), the tarpit whose time runs, the concurrency
	 * places held until the end phase gives them back (limit/limit.h). */
	uint16_t rules_resume;
	uint64_t rules_wait_ms;
	const struct rule *tarpit;
	uint8_t nslots;
	struct limit_slot slots[2 * RULE_LIST_SLOTS];
	char line[192];                 /* "GET /path HTTP/1.1" for log lines: txn_line() */
};

#define STRM_F_HTTP       0x0001
#define STRM_F_SRV_CLOSE  0x0004   /* do not return the server connection to the pool */
#define STRM_F_CLOSED     0x0008   /* released (with its session); waiting for the deferred free */
#define STRM_F_REPLAY     0x0040   /* the whole request is in `req` and kept until the first
				      response byte, so it can be sent again elsewhere */
#define STRM_F_WAKE       0x0080   /* a deferred stream_process() is pending */
#define STRM_F_PARKED     0x0100   /* a filter answered FLT_WAIT: its step waits for
				      stream_wake(), whatever else happens */
#define STRM_F_SENT       0x0400   /* request bytes left for a server and were not kept
				      (no STRM_F_REPLAY): it cannot go elsewhere */
#define STRM_F_UNSEEN     0x0200   /* the server refused the request before processing
				      any of it (HTTP/2 REFUSED_STREAM, or past a
				      GOAWAY): safe to send elsewhere, any method */

struct stream {
	struct session *sess;           /* the client connection it came on */
	struct worker *w;
	const struct cfg_frontend *fe;  /* the session's frontend */
	struct wgen *gen;               /* the worker's runtime of the generation it runs
					   under (worker.h; held from stream_init to
					   stream_put): routing picks its backends there */
	struct backend_rt *tcp_be;      /* TCP mode: the backend */
	struct timer timer;
	struct buf req;                 /* client -> server */
	struct buf res;                 /* server -> client */
	struct srvconn *srv;            /* connection to the server, if any */
	const struct srv_codec *srv_codec; /* its protocol (srv_codec.h), kept for the
					   transaction once a connection was attached */
	struct server_rt *sv;           /* server chosen for the current request */
	struct txn *txn;
	void *cs;                       /* the client codec's state of this stream
					   (HTTP/2: struct h2s), NULL for HTTP/1 */
	void *srv_cs;                   /* the server codec's (HTTP/2: struct h2ss) */
	uint64_t cli_last;              /* multiplexed sessions: this stream's last
					   client progress (ms); HTTP/1 uses the session's */
	int8_t retries_left;
	uint32_t req_sent;              /* with STRM_F_REPLAY: bytes of req output already sent */
	/* With STRM_F_REPLAY, a small request sent whole waits for the first
	 * response byte here (malloc'd, replay_len bytes) instead of in a
	 * buffer, so a request held by a slow server keeps no buffer
	 * (stream_replay_stash); `req` is empty meanwhile. */
	char *replay;
	uint32_t replay_len;
	uint8_t rq, rs;                 /* enum rq_state, enum rs_state */
	uint8_t step;                   /* enum strm_step of the current transaction */
	uint8_t flt_pos;                /* filter to resume at after FLT_WAIT */
	bool flt_be;                    /* STEP_RES_RULES: the frontend's chain is done */
	uint16_t flags;                 /* STRM_F_* */
	uint64_t srv_last;              /* last server I/O or connect start (ms) */
	uint64_t sent_ns;               /* balance ewma: first request byte sent (lb_mono_ns) */
	struct list qlink;              /* in queued_be->queue while waiting for a slot */
	struct backend_rt *queued_be;   /* non-NULL while queued */
	uint64_t queue_start;
	uint64_t wait_until;            /* stream_wait_until(): wake at (ms); 0 = none */
	struct stream_waker *waker;     /* stream_waker(): made on first use, detached
					   by stream_put() */
};

/* The state machine's entry point, run after any event. */
void stream_process(struct stream *s);

/* Ends the stream, and with HTTP/1 its session: closes both sides, frees
 * everything (deferred). */
void stream_close(struct stream *s);

/* session.c: a new session's stream (zeroed, from the pool) is bound to
 * it (init), then started: HTTP waits for a request, TCP connects.  It
 * gives back what it holds (release) when the session closes, which frees
 * the struct. */
void stream_init(struct stream *s, struct session *ss);
void stream_start(struct stream *s);
/* Instead of stream_start() for a keep-alive connection coming back from
 * idle: waits for the next request (the caller runs stream_process()). */
void stream_resume(struct stream *s);
void stream_release(struct stream *s);
/* The struct goes back to the worker's pool, with its hold on its
 * generation. */
void stream_put(struct stream *s);
/* HTTP/1: between two requests of a keep-alive connection, the session and
 * s move to the worker's current generation (session_follow). */
void stream_follow(struct stream *s);

/* The client's address: the session's (the TCP peer, or a PROXY header's),
 * unless trusted_proxies took this request's from its forwarding headers. */
static inline void stream_src(const struct stream *s, struct sockaddr_storage *out)
{
	if (s->txn && s->txn->real_src_set) {
		memset(out, 0, sizeof(*out));
		memcpy(out, &s->txn->real_src, sizeof(s->txn->real_src));
		return;
	}
	session_src(s->sess, out);
}

static inline const char *stream_src_text(const struct stream *s, char *out, size_t len)
{
	if (s->txn && s->txn->real_src_set)
		return addr_ntop((const struct sockaddr *)&s->txn->real_src, out, len);
	return session_src_text(s->sess, out, len);
}

/*
 * Runs the chunked decoder over the input of s's request (res: response)
 * buffer in place, closes the gap its shorter output leaves and marks the
 * output ready to send; trailer fields go to the body events.  When a
 * filter wants the data, it stops after each data run and sets *data to
 * it (in the output), else *data is empty.  Returns the h1_chunk_step()
 * result; *progress says whether anything was consumed.
 */
int buf_chunk_forward(struct stream *s, bool res, struct h1_chunk *c, struct h1_err *err,
		      bool *progress, struct slice *data);

/* stream.c, for the codecs */
void stream_srv_answered(struct stream *s);          /* first response byte: no replay */
/* The replay copy (stream.replay): a request sent whole, kept for replay,
 * small and alone in `req`, moves out of the buffer (stash); it comes back
 * to the front of `req` before it can be sent again (restore: false out of
 * memory, the copy is then lost); drop frees it. */
void stream_replay_stash(struct stream *s);
bool stream_replay_restore(struct stream *s);
void stream_replay_drop(struct stream *s);
bool stream_closed(const struct stream *s);
uint32_t stream_head_room(const struct stream *s);   /* buffer room while a head arrives */
void txn_end(struct stream *s);                      /* the end phase: logs, once */

/* steps.c: runs the current transaction's steps until one waits. */
bool stream_run_steps(struct stream *s);

/* Runs stream_process(s) after the current batch of events (queue slots,
 * filter verdicts); several calls before it runs make one run. */
void stream_wake(struct stream *s);

/*
 * A filter about to answer FLT_WAIT asks to be woken at deadline_ms (loop
 * clock, s->w->loop.now): the stream's own timer fires then and wakes it
 * as stream_wake() would (HTTP/1 and HTTP/2 streams alike).  stream_wake()
 * before then wakes it early and drops the deadline; a local reply or the
 * stream's end drops it too.  The wait is one of the stream's deadlines:
 * other timeouts (a client's, a server's) still apply meanwhile.  For
 * delays and tarpits; a cache waiter sets one only as a safety net under
 * its waker (stream_waker below).
 */
void stream_wait_until(struct stream *s, uint64_t deadline_ms);

/*
 * Waking a stream from another thread.  stream_wake() is for the stream's
 * own worker only; a filter whose stream waits for something another
 * thread does (a cache fill led by a request on another worker) hands that
 * thread a waker instead:
 *   stream_waker(s)         owner thread: a reference to s's waker (made
 *                           on first use, one per stream for its life);
 *   stream_waker_post(k)    any thread: s will be woken (stream_wake) on
 *                           its own thread, through its worker's mailbox;
 *                           posts before that wake make one message;
 *   stream_waker_put(k)     any thread: drops the reference.
 * The waker outlives the stream: once the stream's struct goes back to the
 * pool (stream_put) the waker is detached and a post is a no-op, so a
 * holder never reaches freed memory.  Wakes are not tied to a transaction:
 * a filter stops posting (drops its waker from whatever list holds it)
 * in its ctx_free, and a late wake only reruns stream_process(), which a
 * filter that is not ready answers by waiting again.  A post can be lost
 * when the mailbox is full (mailbox.h): a waiter still sets a deadline
 * (stream_wait_until) as a safety net.
 */
struct stream_waker;
struct stream_waker *stream_waker(struct stream *s);
void stream_waker_post(struct stream_waker *k);
void stream_waker_put(struct stream_waker *k);
/* worker.c: an MB_WAKE message (owns a reference); run (owner thread) or
 * drop (a worker leaving) it. */
void stream_waker_run(struct stream_waker *k);

/*
 * A request with no client (proxy/detached.c): a copy of req (a head
 * without a body) runs on parent's worker, frontend and generation as a
 * stream of its own, from routing on (the frontend's request filters ran
 * on the parent; the backend's run on the copy); its response goes
 * through the response filters and is dropped.  It starts once the
 * current events are handled: the caller may first edit the copy
 * (ret->txn->req) and attach its own filter state to ret->txn
 * (flt_ctx_attach) so its filter knows the request for what it is.  It
 * ends on its own (logged like any request, client "detached").  NULL when
 * it cannot start (memory, a stopping worker, a body in req).  For
 * background fetches: the cache's stale-while-revalidate refresh.
 */
struct stream *stream_detached(struct stream *parent, const struct http_msg *req);

/* stream_release(), as s's client goes away: when its transaction asked
 * to keep its fetch (txn_keep_fetch) and the response body is streaming
 * from a server, logs the client's exchange, then moves the transaction,
 * buffers and server side to a new detached stream that finishes the
 * fetch; true when it did (s then holds neither). */
bool stream_orphan_fetch(struct stream *s);

/* The fetch context of s's request (and response, once there is one). */
void stream_cond_ctx(struct stream *s, struct cond_ctx *ctx, struct sockaddr_storage *ss);

/* A request-head filter asks for the whole body (bounded by the buffer)
 * before a server is chosen: filter.h, "Holding the body". */
static inline void txn_hold_body(struct txn *t)
{
	t->hold_body = true;
}

/* The same, up to limit body bytes whatever the buffer's size: what does
 * not fit the stream's buffer is spilled into a chain of pooled buffers
 * (proxy/spill.h) and released to the server in order once the hold ends.
 * Several filters: the largest limit holds. */
static inline void txn_hold_body_upto(struct txn *t, uint64_t limit)
{
	t->hold_body = true;
	if (limit > t->hold_limit)
		t->hold_limit = limit;
}

/* From a res_head callback: the response head waits until its body has
 * ended or more than limit bytes of it were decoded (held in pooled
 * buffers, proxy/spill.h), so a data or end callback can still replace
 * the response (local_reply) before any of it left; then the head and the
 * held bytes go to the client, and the rest streams.  Several filters:
 * the largest limit.  filter.h, "Holding the response". */
static inline void txn_hold_res_body(struct txn *t, uint64_t limit)
{
	if (limit > t->res_hold_limit)
		t->res_hold_limit = limit;
}

/*
 * From a response filter (res_head on) whose work needs the rest of the
 * response whatever its client does (a cache storing it for requests that
 * wait on it): should the client go away (close, reset, timeout, an
 * HTTP/2 RST_STREAM) while the response body streams from the server,
 * the exchange goes on without it instead of being cut.  The client's
 * line is logged then (its own termination cause), and the transaction,
 * its server connection and its filters' state move to a stream with no
 * client (proxy/detached.c, stream_orphan_fetch) that reads the body to
 * its end through the response filters under the server's timeouts,
 * drops the output and is logged as a request of its own
 * (txn_orphaned() is true there).  on=false takes it back: a filter that
 * no longer needs the rest (its object grew too big) says so, and if the
 * client is already gone stops the orphan itself (stream_abort).
 */
static inline void txn_keep_fetch(struct txn *t, bool on)
{
	t->keep_fetch = on;
}

static inline bool txn_orphaned(const struct txn *t)
{
	return t->orphan;
}

/* Spilled request body bytes still wait for the server (the hold is
 * over): the client codec takes no more body until they have gone. */
static inline bool txn_req_spilling(const struct txn *t)
{
	return t && t->spill_sealed && t->req_spill.len;
}

/* http_req.c */
void txn_first_byte(struct txn *t);              /* codecs: a request's first byte came */
enum step_result txn_head_decoded(struct stream *s, struct txn *t);   /* codecs: t->req
						    is decoded (its framing set): the steps go on */
bool req_body_end(struct stream *s);             /* codecs: the request body ended */
enum step_result req_route(struct stream *s);
/* The backend the frontend's use_backend rules give s's request as it is
 * now (what STEP_ROUTE would pick), or NULL: for a frontend filter that
 * answers before routing yet must apply the backend's settings (a
 * frontend cache's hit and the backend's `compress`).  Evaluates the
 * rules; sets nothing. */
struct backend_rt *req_route_peek(struct stream *s);
enum step_result req_assign(struct stream *s);
bool req_body(struct stream *s);
bool http_req_pump(struct stream *s);
struct txn *stream_txn(struct stream *s);        /* s->txn, allocated if needed */
void txn_reset(struct txn *t);                   /* ready for the next request */
void txn_free(struct worker *w, struct txn *t);
struct http_msg *txn_req_msg(struct stream *s);  /* the request, or NULL */
uint64_t mono_us(void);                          /* CLOCK_MONOTONIC, µs */
const char *txn_line(struct txn *t);             /* the request line for logs, or "-" */

/* h1_client.c: a response head from the server (a 1xx, a 101), whose
 * first head_len input bytes in s->res it replaces, re-encoded for an
 * HTTP/1 client; false when a 502 was set up instead. */
bool h1_forward_head(struct stream *s, struct http_msg *m, uint32_t head_len, const char *extra);

/* http_res.c */
bool http_res_pump(struct stream *s);
bool res_body_end(struct stream *s);             /* for server codecs: the body ended */
enum step_result res_hold(struct stream *s);     /* STEP_DELIVER: txn_hold_res_body() */
/* Client codecs at STEP_DELIVER: the server codec is to hand the response
 * body bare (chunked decoded, trailers as events, t->res_bare) whatever
 * its framing; sets s->rs for it. */
void res_decode_bare(struct stream *s, struct txn *t);

#include "proxy/backend.h"

#endif
