/*
 * session.h - a client connection and its protocol codec.
 *
 * A session owns what belongs to the connection: the socket (and its TLS),
 * the client's address, the connection's timings and whether it closes or
 * lingers after the current exchange.  A stream (stream.h) is one
 * request/response exchange on it; steps, filters, routing, balancing and
 * queueing only ever see streams and their messages.
 *
 * The codec is the session's protocol: how client bytes become a request
 * message and how a response message becomes client bytes.  HTTP/1.1
 * (h1_client.c) has one stream per session at a time; HTTP/2 (h2_client.c)
 * carries many (`mux`), each a stream of its own.
 *
 * Memory: an idle keep-alive session holds only its own struct: its stream
 * goes back to the pool between requests (session_stream_idle) and a new
 * one is taken when the client sends again.
 */
#ifndef GH_PROXY_SESSION_H
#define GH_PROXY_SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "config/cfg.h"
#include "core/list.h"
#include "http/msg.h"
#include "limit/limit.h"
#include "net/conn.h"

struct worker;
struct stream;
struct session;
struct h2c;
enum step_result;

/* The client side's protocol (h1_client.c: sess_codec_h1). */
struct sess_codec {
	const char *name;
	/* Client socket -> the stream's request buffer; true on progress. */
	bool (*recv)(struct stream *s);
	/* The stream's response buffer -> client socket; true on progress. */
	bool (*send)(struct stream *s);
	/* STEP_READ_HEAD: client bytes -> the request message (then
	 * txn_head_decoded()). */
	enum step_result (*read_head)(struct stream *s);
	/* The request body decoder: client bytes -> body events (body.h) and
	 * the bytes the server gets; req_body_end() when the message ends.
	 * True on progress. */
	bool (*req_body)(struct stream *s);
	/* The codec takes no more request body bytes from the client for now
	 * (the buffer is full, the window closed) or has all of them: the
	 * body's clock stops (stream.c), since it is not the client that is
	 * slow. */
	bool (*req_stalled)(struct stream *s);
	/* Our own 100 Continue to the client; false if it cannot go now. */
	bool (*send_continue)(struct stream *s);
	/* STEP_DELIVER: the response message -> client bytes, and the framing
	 * of the response body on its way. */
	enum step_result (*deliver)(struct stream *s);
	/* The exchange (or tunnel) may be over: start the next one, linger,
	 * or close; true on progress. */
	bool (*check_end)(struct stream *s);
	/* An interim (1xx) response head from the server, for the client: it
	 * takes the first head_len input bytes of s->res, which the op
	 * consumes.  False when a local reply was set up instead. */
	bool (*interim)(struct stream *s, struct http_msg *m, uint32_t head_len);
	/* The server accepted an upgrade (101, its head in the first head_len
	 * input bytes of s->res, which the op consumes): the client is told
	 * the tunnel is open.  False when a local reply was set up instead. */
	bool (*upgraded)(struct stream *s, struct http_msg *m, uint32_t head_len);
	/* A bare response body (an HTTP/2 server's, t->res_src_bare): the last
	 * n output bytes of s->res get this client's framing; then the end
	 * (trailers included).  False when there is no room yet. */
	bool (*res_frame)(struct stream *s, uint32_t n);
	bool (*res_frame_end)(struct stream *s);
	/* Ends s alone (HTTP/1: with its connection). */
	void (*close_stream)(struct stream *s);

	/* The session's side: the client socket has events; a graceful stop
	 * (true if the session closed at once); the session closes (its
	 * streams are released; the struct is freed later, deferred);
	 * the deferred free. */
	void (*on_event)(struct session *ss);
	bool (*drain)(struct session *ss);
	void (*release)(struct session *ss);
	void (*free)(struct session *ss);
	/* Several streams at once (HTTP/2): a stream's errors, timeouts and
	 * close are its own, never the connection's. */
	bool mux;
	/* send() sends a local reply's external body in place when
	 * t->local_ext (local.h, local_send_ext): HTTP/1, whose bare body
	 * with a known length needs no framing of its own. */
	bool ext_body;
};

/* How long a closing connection reads and drops what the client still
 * sends after our final response (RFC 9112 9.6, lingering close). */
#define LINGER_MS 1000

#define SESS_F_CLOSE   0x01   /* close the connection after the current exchange */
#define SESS_F_LINGER  0x02   /* final response sent, discarding input before close */
#define SESS_F_UNREAD  0x04   /* the client may still be sending a request we refused */
#define SESS_F_CLOSED  0x08   /* released; waiting for the deferred free */
#define SESS_F_PP_WAIT 0x10   /* accept_proxy: waiting for the PROXY header (session_pp.c) */
#define SESS_F_PP_DENY 0x20   /* accept_proxy from: this peer must not send one */
#define SESS_F_SNIFFED 0x40   /* the first bytes were not an HTTP/2 preface */
#define SESS_F_IDLE    0x80   /* no request under way (keep-alive, HTTP/2 without
				 streams): session_idle(), for the metrics */

struct sess_pp;   /* session_pp.c: what the PROXY header said */

/* What a session with no socket of its own (proxy/detached.c: a
 * background refresh, a fetch that outlived its client) keeps of the TLS
 * connection of the request that started it, so rules and logs read the
 * same: copies, NULL where that connection had none; freed with the
 * session. */
struct sess_tls {
	char *version;
	char *sni;
	char *client_dn;
};

struct session {
	struct conn cli;
	struct worker *w;
	const struct cfg_frontend *fe;
	struct cfg *cfg;                /* the configuration generation it runs under
					   (gen->cfg: the generation holds the reference) */
	struct wgen *gen;               /* the worker's runtime of it (held); a reload
					   moves the session at its next request */
	struct wgen *pin;               /* the generation its tcp_request places were
					   taken under, held until it closes; or NULL */
	const struct sess_codec *codec;
	struct stream *strm;            /* HTTP/1: the stream of the current exchange; NULL
					   while the connection is idle between requests */
	struct h2c *h2;                 /* HTTP/2: the connection's state (h2_client.c) */
	const struct cfg_addr *bind;    /* the bind it came in on */
	struct timer idle_timer;        /* timeout client while there is no stream */
	struct list link;               /* in w->sessions */
	struct sockaddr_in6 src;        /* client address (IPv4 as v4-mapped): the TCP
					   peer's, or what a PROXY header said */
	struct sess_pp *pp;             /* NULL unless a PROXY header carried something */
	struct sess_tls *tls;           /* detached sessions: the parent's TLS details */
	uint64_t cli_last;              /* last client I/O (ms) */
	uint64_t head_start;            /* first byte of the current request head (ms) */
	uint64_t linger_start;
	uint8_t flags;                  /* SESS_F_* */
	uint8_t nslots;                 /* tcp_request connection limit: concurrency
					   places held for the connection's life */
	struct limit_slot slots[RULE_LIST_SLOTS];   /* (given back by rules_tcp_close) */
};

/* worker.c -> session.c: a new client connection (fd non-blocking) on one
 * of fe's binds (its TLS settings, if any, apply). */
void session_accept(struct worker *w, const struct cfg_frontend *fe, const struct cfg_addr *bind,
		    int fd, const struct sockaddr_storage *peer);

/* A new request on ss: if a reload made another generation current, the
 * session moves to it (its frontend and bind found again by name and
 * address); if the new generation no longer has them, the session stays
 * and closes after this exchange.  Streams already running keep theirs. */
void session_follow(struct session *ss);

/* Graceful stop: closes an idle session now, or marks it to close after
 * the current exchange.  Returns true if the session was closed. */
bool session_drain(struct session *ss);

/* Closes immediately (drain deadline passed, worker exit). */
void session_kill(struct session *ss);

/* Ends the session and its streams (frees deferred). */
void session_close(struct session *ss);

/* stream.c: s, the session's stream, is idle between requests (no
 * transaction, buffer or server): it goes back to the pool, and the
 * session waits for the client alone (timeout client). */
void session_stream_idle(struct session *ss);

/* The session has no request under way (idle true: HTTP/1 between
 * requests, HTTP/2 with no stream) or has one again: the codecs say so
 * where they arm or stop the idle timer.  Counts the frontend's idle
 * connections (admin/metrics.h); a repeated call is a no-op. */
void session_idle(struct session *ss, bool idle);

/* Client address as a sockaddr_storage, for conditions and logs. */
void session_src(const struct session *ss, struct sockaddr_storage *out);
const char *session_src_text(const struct session *ss, char *out, size_t len);

/* The client connection's TLS details, NULL for none (or plain): the
 * protocol version ("TLSv1.3"), the server name it asked for (SNI), the
 * subject of its verified certificate (RFC 2253).  A detached session
 * answers with its parent's (ss->tls). */
const char *session_tls_version(struct session *ss);
const char *session_tls_sni(struct session *ss);
const char *session_tls_client_dn(struct session *ss);
/* A copy of ss's TLS details for a detached session (NULL: none, or
 * memory short). */
struct sess_tls *session_tls_copy(struct session *ss);

/* The PROXY protocol step (session_pp.c).  session_accept() starts it on an
 * `accept_proxy` bind; session_event() hands it the events until the header
 * is in, then it calls session_start() (tcp_request rules, the stream). */
void session_start(struct session *ss);
void session_set_src(struct session *ss, const struct sockaddr_storage *addr);
void session_pp_start(struct session *ss, const struct cfg_addr *bind);
void session_pp_event(struct session *ss);
void session_pp_timeout(struct session *ss);   /* logs why, before the close */
void session_pp_free(struct session *ss);
/* The TCP peer (`peer`): the balancer when a PROXY header named the client. */
const struct sockaddr_in6 *session_peer(const struct session *ss);
/* The address the client connected to (the PROXY header's, or the socket's). */
bool session_dst(const struct session *ss, struct sockaddr_storage *out);
/* PP2_TYPE_AUTHORITY of the header, { NULL, 0 } if none (`proxy_authority`). */
struct slice session_pp_authority(const struct session *ss);

extern const struct sess_codec sess_codec_h1;
extern const struct sess_codec sess_codec_h2;   /* h2_client.c */

/* h1_client.c -> h2_client.c: the session turns to HTTP/2 (a preface on
 * an auto bind, or a `proto h2` bind from the start).  s, the HTTP/1
 * stream, if any, is released (it never was a request); `in` holds the
 * bytes received so far.  False when out of memory (the session closed). */
bool h2_session_start(struct session *ss, const char *in, uint32_t len);

/* The HTTP/2 connection preface (RFC 9113 3.4) */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

#endif
