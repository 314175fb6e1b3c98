/*
 * stream.h - a client connection and the transaction flowing through it.
 *
 * The request's path, in the order the files read:
 *   worker.c     accepts the connection and creates a stream
 *   stream.c     drives it: I/O on both sides, the state machine, timeouts
 *   http_req.c   request head -> struct http_msg -> routing -> forwarded head
 *   backend.c    picks a server (lb/), reuses or opens a server connection
 *   http_res.c   response head -> struct http_msg -> forwarded head, bodies
 *   errors.c     locally generated responses (400, 502, 503, 504, ...)
 *
 * One stream per client connection.  Two half state machines describe it:
 * `rq` for the request direction (client -> server) and `rs` for the
 * response direction (server -> client); a transaction ends when both are
 * DONE and the client has been sent everything.  TCP mode streams start in
 * the TUNNEL states and stay there.
 *
 * Memory: an idle keep-alive stream holds no buffer and no transaction,
 * only this struct.  In flight it holds at most two buffers (req, res) and
 * one struct txn.
 */
#ifndef GH_PROXY_STREAM_H
#define GH_PROXY_STREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "config/cfg.h"
#include "core/buf.h"
#include "core/list.h"
#include "core/loop.h"
#include "http/h1.h"
#include "http/msg.h"
#include "lb/lb.h"
#include "net/conn.h"

struct worker;
struct stream;

/* A connection to a server; pooled for reuse between transactions. */
struct srvconn {
	struct conn c;
	struct worker *w;
	struct server_rt *srv;
	struct stream *owner;        /* NULL while idle in srv->idle */
	struct list idle_link;
	struct timer idle_timer;     /* closes it after sitting idle too long */
	uint64_t idle_since;         /* loop ms it went back to the pool */
	bool reused;                 /* taken from the pool, not freshly connected */
	bool connected;
};

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

/* Per-transaction state; allocated when a request starts, freed when its
 * response has been delivered. */
struct txn {
	struct http_msg req;
	struct http_msg res;
	struct backend_rt *be;
	uint8_t meth;                   /* request method, kept after the head is rewritten */
	uint8_t req_minor;              /* client's HTTP/1.x minor version */
	uint16_t status;                /* status sent to the client */
	uint64_t req_left;              /* Content-Length bytes left to forward */
	uint64_t res_left;
	struct h1_chunk req_chunk, res_chunk;
	bool req_chunked, res_chunked;
	bool res_head_sent;             /* client has been sent (part of) a final head */
	bool expect_continue;           /* we owe the client a 100 Continue */
	bool upgrade;                   /* request asked for an upgrade */
	bool assign_pending;            /* head analysed, server not chosen yet */
	bool sticky_set;                /* the response must (re)set the affinity cookie */
	bool req_stale;                 /* req's slices point into a replaced head */
	bool req_consumed;              /* forwarded head bytes already left the buffer */
	uint32_t fwd_head_len;          /* length of the forwarded request head */
	uint64_t start_ms;
	uint32_t arena_used;
	char arena[384];                /* values of headers we add (XFF, ...) */
	char line[192];                 /* "GET /path" for log lines */
};

#define STRM_F_HTTP       0x01
#define STRM_F_CLOSE      0x02   /* close the client after this transaction */
#define STRM_F_SRV_CLOSE  0x04   /* do not return the server connection to the pool */
#define STRM_F_CLOSED     0x08   /* released; waiting for the deferred free */
#define STRM_F_LINGER     0x10   /* response sent, discarding input before close */
#define STRM_F_UNREAD     0x20   /* the client may still be sending a request we refused */
#define STRM_F_REPLAY     0x40   /* the whole request is in `req` and kept until the first
				    response byte, so it can be sent again elsewhere */

struct stream {
	struct conn cli;
	struct worker *w;
	const struct cfg_frontend *fe;
	struct backend_rt *tcp_be;      /* TCP mode: the backend */
	struct list link;               /* in w->streams */
	struct timer timer;
	struct buf req;                 /* client -> server */
	struct buf res;                 /* server -> client */
	struct srvconn *srv;            /* connection to the server, if any */
	struct server_rt *sv;           /* server chosen for the current request */
	struct txn *txn;
	int8_t retries_left;
	uint32_t req_sent;              /* with STRM_F_REPLAY: bytes of req output already sent */
	uint8_t rq, rs;                 /* enum rq_state, enum rs_state */
	uint8_t flags;                  /* STRM_F_* */
	uint64_t cli_last;              /* last client I/O (ms) */
	uint64_t srv_last;              /* last server I/O or connect start (ms) */
	uint64_t sent_ns;               /* balance ewma: first request byte sent (lb_mono_ns) */
	uint64_t head_start;            /* first byte of the current head (ms) */
	uint64_t linger_start;
	struct sockaddr_in6 src;        /* client address (IPv4 as v4-mapped) */
	struct list qlink;              /* in queued_be->queue while waiting for a slot */
	struct backend_rt *queued_be;   /* non-NULL while queued */
	uint64_t queue_start;
};

/* worker.c -> stream.c: a new client connection (fd non-blocking) on one
 * of fe's binds (its TLS settings, if any, apply). */
void stream_accept(struct worker *w, const struct cfg_frontend *fe, const struct cfg_addr *bind,
		   int fd, const struct sockaddr_storage *peer);

/* Graceful stop: closes an idle stream now, or marks it to close after the
 * current transaction.  Returns true if the stream was closed. */
bool stream_drain(struct stream *s);

/* Closes immediately (drain deadline passed). */
void stream_kill(struct stream *s);

/* The state machine's entry point, run after any event. */
void stream_process(struct stream *s);

/* Ends the stream: closes both sides, frees everything (deferred). */
void stream_close(struct stream *s);

/* Client address as a sockaddr_storage, for conditions and logs. */
void stream_src(const struct stream *s, struct sockaddr_storage *ss);
const char *stream_src_text(const struct stream *s, char *out, size_t len);

/*
 * Runs the chunked codec over b's input in place, closes the gap its
 * shorter output leaves and marks the output ready to send.  Returns the
 * h1_chunk_step() result; *progress says whether anything was consumed.
 */
int buf_chunk_forward(struct buf *b, struct h1_chunk *c, struct h1_err *err, bool *progress);

/* http_req.c */
bool http_req_analyse(struct stream *s);
void txn_reset(struct txn *t);   /* ready for the next request on the stream */

/* The request message for conditions and balancing after its head was
 * rewritten (parsed again from the forwarded head), or NULL if those bytes
 * already left. */
struct http_msg *txn_req_msg(struct stream *s);

/* http_res.c */
bool http_res_analyse(struct stream *s);

/* backend.c */
/* Picks a server (never `avoid` if another is eligible) and connects or
 * reuses a pooled connection.  Returns 0 when assigned, 1 when queued
 * (every server at maxconn), -1 when it failed (the error reply is set up
 * or the stream closed). */
int backend_assign(struct stream *s, struct backend_rt *be, const struct server_rt *avoid);
void backend_unqueue(struct stream *s);
void backend_dequeue(struct backend_rt *be);
void backend_budget_deposit(const struct cfg_backend *cb);   /* once per request */
void backend_srv_failed(struct stream *s, const char *why, bool timeout);
void backend_release(struct stream *s, bool reusable);
void srvconn_close_idle_all(struct worker *w);

/* errors.c */
void http_reply_error(struct stream *s, int status, const char *why);
void stream_abort(struct stream *s, const char *why);

#endif
