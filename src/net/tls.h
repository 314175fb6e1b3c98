/*
 * tls.h - TLS (OpenSSL 3) as a transport: termination on binds, and
 * re-encryption to servers.
 *
 * TLS is one more struct xprt (see conn.h).  On accepted connections the
 * handshake runs inside the transport's first recv/send calls, so the
 * stream state machine above never knows a connection is encrypted: a
 * client that stalls mid-handshake is a client that has not sent its
 * request head yet, and meets `timeout header` like any slow client.  On
 * connections to servers (and health checks) the owner drives it with
 * conn_handshake() right after the TCP connect, so the handshake counts as
 * connecting: `timeout connect`, and a failure is retried elsewhere.  SSL_ERROR_WANT_READ/WANT_WRITE become
 * EAGAIN, and a read that needs the socket writable (or a write that needs
 * it readable) is recorded in the connection flags so the next event of the
 * other kind retries it (conn_on_events).
 *
 * Load time (main thread, from the config checker): tls_bind_load() builds
 * one SSL_CTX per certificate of a bind (the first is the default and holds
 * the session cache and ticket keys), tls_server_load() one client SSL_CTX
 * per TLS server.  Workers share them read-only; OpenSSL locks what it
 * mutates inside (session cache).  Session ticket keys rotate process-wide
 * (see tls.c) and are shared by all threads.
 */
#ifndef GH_NET_TLS_H
#define GH_NET_TLS_H

#include <stdbool.h>
#include "config/cfg.h"
#include "net/conn.h"

extern const struct xprt xprt_tls;

/* How load errors and warnings get back to the config checker, which
 * prints them as FILE:LINE:COL. */
struct tls_diag {
	void (*report)(void *arg, bool warning, int line, int col, const char *msg);
	void *arg;
};

/*
 * Loads a bind's certificates, keys, OCSP responses and CA, and builds its
 * contexts into tb->rt.  Reports each problem (naming the file) and returns
 * -1 if any is an error; warnings (an expired certificate, ...) do not fail.
 * `base` is the directory relative file names are read from ("" = cwd).
 */
int tls_bind_load(struct cfg_tls_bind *tb, const char *base, const struct tls_diag *d);
void tls_bind_unload(struct cfg_tls_bind *tb);

/* Same for a server's client context (CA, SNI, verification). */
int tls_server_load(struct cfg_tls_server *ts, const char *base, const struct tls_diag *d);
void tls_server_unload(struct cfg_tls_server *ts);

/* Makes c (fd set up by conn_init) a server-side TLS connection of bind tb.
 * Returns 0, or -1 (out of memory; c is left raw). */
int tls_conn_accept(struct conn *c, const struct cfg_tls_bind *tb);

/* Makes c (just connected or connecting) a client-side TLS connection to a
 * server.  Returns 0, or -1 (out of memory; c is left raw).  `quiet`: a
 * failure is not logged, only kept for tls_last_error() (health checks
 * report it in their own words). */
int tls_conn_connect(struct conn *c, const struct cfg_tls_server *ts, bool quiet);

/* Replaces the ALPN offer of a client connection made by
 * tls_conn_connect(), before its handshake, with the one protocol `proto`
 * ("h2", "http/1.1"): a health check speaks what its own `proto` says,
 * which may not be what the server's traffic speaks.  Returns 0, or -1
 * (not a TLS connection, or out of memory). */
int tls_conn_set_alpn(struct conn *c, const char *proto);

/* SIGHUP: every OCSP file is looked at now (from the main thread), and
 * re-read if it changed, as tune.ocsp_check does on its own. */
void tls_ocsp_reload(const struct cfg *cfg);

/* Why the last TLS failure on this thread happened ("certificate verify
 * failed: ...", "handshake failed: ..."); "" if none yet. */
const char *tls_last_error(void);

/* TLS handshakes so far, all threads: with clients (accept) and servers
 * (connect), finished or failed (begun, never finished); for /metrics. */
struct tls_stats {
	uint64_t accept_ok, accept_failed, connect_ok, connect_failed;
};
void tls_stats(struct tls_stats *out);

/* The TLS words for c's failure (c->err EPROTO on a TLS connection, just
 * now on this thread), or NULL when it was not a TLS protocol failure and
 * errno words fit. */
const char *tls_conn_why(const struct conn *c);

static inline bool conn_is_tls(const struct conn *c)
{
	return c->xprt == &xprt_tls;
}

/* The subject of the client certificate, RFC 2253 text ("CN=alice,O=Example"),
 * if the client sent one and it verified; NULL otherwise (and for plain
 * connections).  Computed once per connection; valid until it closes. */
const char *tls_conn_client_dn(struct conn *c);

/* Negotiated protocol version ("TLSv1.3") for logs; NULL for plain. */
const char *tls_conn_version(const struct conn *c);

/* The server name the client asked for (SNI), for logs; NULL if none. */
const char *tls_conn_sni(const struct conn *c);

/*
 * Whether the protocol negotiated by ALPN on c is `proto` ("h2",
 * "http/1.1"; compared exactly).  False for a plain connection, before the
 * handshake has finished, and when the client offered no ALPN or nothing
 * the bind's list has (the server's list decides: a client offering h2 and
 * http/1.1 to a bind listing "h2,http/1.1" gets h2).  On a client
 * connection the handshake runs inside the first conn_recv(), so a codec
 * asks once the first bytes have arrived: "h2" means the client speaks
 * HTTP/2 from its first byte, anything else HTTP/1.x.
 */
bool tls_conn_alpn_is(const struct conn *c, const char *proto);

#endif
