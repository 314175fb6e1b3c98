/*
 * backend.h - a request's way from "backend X" to a connected server, in
 * four files:
 *
 *   backend.c   assignment: sticky pin or balancer pick, the slot under
 *               maxconn, then a connection; queue when every server is full
 *   srvconn.c   server connections: connect (+ TLS), events, the idle pool
 *   queue.c     the FIFO of requests waiting for a slot
 *   retry.c     the retry budget, and what a server failure turns into
 */
#ifndef GH_PROXY_BACKEND_H
#define GH_PROXY_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include "core/list.h"
#include "core/loop.h"
#include "lb/lb.h"
#include "net/conn.h"

struct stream;
struct worker;
struct h2sc;

/* A connection to a server; pooled for reuse between transactions. */
struct srvconn {
	struct conn c;
	struct worker *w;
	struct server_rt *srv;
	const struct srv_codec *codec; /* its protocol (srv_codec.h) */
	struct stream *owner;        /* HTTP/1: the one stream it carries; NULL while
					idle in srv->idle */
	struct list idle_link;
	struct timer idle_timer;     /* closes it after sitting idle too long */
	uint64_t idle_since;         /* loop ms it went back to the pool */
	bool reused;                 /* taken from the pool, not freshly connected */
	bool connected;
	bool pp_sent;                /* send_proxy: its PROXY header went out */
	struct h2sc *h2;             /* `proto h2`: the connection's HTTP/2 state, shared
				        by its streams (h2_server.c); owner stays NULL */
};

/* ---- what the steps and the stream use ---- */

/* Picks a server (never `avoid` if another is eligible) and connects or
 * reuses a pooled connection.  Returns 0 when assigned, 1 when queued
 * (every server at maxconn), -1 when it failed (the error reply is set up
 * or the stream closed). */
int backend_assign(struct stream *s, struct backend_rt *be, const struct server_rt *avoid);

/* Takes s out of its backend's queue, if it is in one. */
void backend_unqueue(struct stream *s);

/* Hands free slots of be to the oldest queued requests, in order. */
void backend_dequeue(struct backend_rt *be);

/* One deposit into be's retry budget (be->sh, process-wide), once per
 * request. */
void backend_budget_deposit(struct backend_rt *be);

/* The server failed s's request (why: for logs; timeout: `timeout server`
 * fired): retry it elsewhere if that is safe and allowed, else 502/504, or
 * a cut connection once the response had started. */
void backend_srv_failed(struct stream *s, const char *why, bool timeout);

/* The transaction is over with its server: the slot is freed and the
 * connection goes back to the idle pool (reusable) or is closed. */
void backend_release(struct stream *s, bool reusable);

/* s took over another stream's server side (s->srv, s->srv_cs: a fetch
 * kept going without its client, stream_orphan_fetch): the connection's
 * events go to s from now on. */
void backend_rebind(struct stream *s);

/* Worker exit: closes every idle server connection of w. */
void srvconn_close_idle_all(struct worker *w);

/* ---- between the files ---- */

/* srvconn.c: a fresh connection to sv (connect, PROXY header, TLS
 * handshake under way), owned by s until attached; NULL with errno. */
struct srvconn *srvconn_open(struct stream *s, struct server_rt *sv);
/* Drives connect + TLS handshake: 1 established, 0 waiting, -1 failed. */
int srvconn_establish(struct srvconn *sc);
const char *srvconn_why(const struct srvconn *sc);
void srvconn_destroy(struct srvconn *sc);
void stamp_connect(struct stream *s, bool connected);

/* h2_server.c: `proto h2` servers */
int h2srv_attach(struct stream *s, struct server_rt *sv);   /* srv_connect's part */
void h2srv_detach(struct stream *s, bool reusable);        /* backend_release's part */
void h2srv_rebind(struct stream *s);                        /* backend_rebind's part */
void h2srv_event(struct srvconn *sc);                       /* the socket's events */
void h2srv_close_idle(struct server_rt *sv);                /* worker exit */


int srv_connect(struct stream *s, struct server_rt *sv);          /* srvconn.c */
bool server_try_take(struct stream *s, struct server_rt *sv);     /* backend.c */
void server_put(struct stream *s);                                 /* backend.c */
void reply_or_close(struct stream *s, int status, const char *why); /* backend.c */
int queue_add(struct stream *s, struct backend_rt *be);           /* queue.c */
void queue_kick(struct backend_rt *be);                           /* queue.c */
bool may_retry(struct stream *s, struct backend_rt *be, bool charge); /* retry.c */

#endif
