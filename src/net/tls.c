/*
 * tls.c - TLS termination and re-encryption with OpenSSL 3 (see tls.h):
 * what runs on the workers.  The contexts it works with are built at load
 * by tls_load.c; what the two files share is in tls_internal.h.
 *
 * Where things are:
 *   process      tls_global_init(), once (tls_init()): ex_data indexes, the
 *                ticket key rotation period.
 *   handshake    callbacks: SNI (exact name, then *.parent), ALPN, OCSP
 *                staple, session tickets (keys rotated process-wide), and
 *                towards servers the newest session kept for resumption.
 *   transport    xprt_tls: recv/send drive the handshake, map WANT_* to
 *                EAGAIN plus the RD_WANT_WR / WR_WANT_RD flags of conn.h,
 *                close sends close_notify best-effort.
 *   connections  tls_conn_accept()/tls_conn_connect() make a conn TLS
 *                (tls_conn_set_alpn() changes a client's ALPN offer);
 *                tls_conn_client_dn(), tls_conn_version(), tls_conn_sni()
 *                and tls_conn_alpn_is() read it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "core/loop.h"
#include "net/tls.h"
#include "net/tls_internal.h"
#include "net/tls_ticket.h"

/* ---- process-wide ----------------------------------------------------------- */

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_dn_idx = -1;      /* SSL ex_data: cached client DN (malloc'd) */
static int tls_label_idx = -1;   /* SSL ex_data: "backend/server" of an outgoing conn */
static int tls_quiet_idx = -1;   /* SSL ex_data: non-NULL = do not log failures */
static char tls_dn_none[1];      /* cached "no verified client certificate" */

static void tls_dn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	if (ptr && ptr != tls_dn_none)
		OPENSSL_free(ptr);
}

static void tls_global_init(void)
{
	tls_dn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_dn_free);
	tls_label_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	tls_quiet_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	tls_tkeys_set_period(TLS_SESSION_TIMEOUT_S);   /* a ticket outlives no session */
}

void tls_init(void)
{
	pthread_once(&tls_once, tls_global_init);
}

static uint64_t tls_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static int tkey_mac_init(EVP_MAC_CTX *hctx, struct tls_tkey *k)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac, sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_CTX_set_params(hctx, params);
}

/* OpenSSL's ticket callback, keys from the process-wide ring
 * (tls_ticket.h): 1 = use, 2 = use and issue a fresh ticket, 0 = unknown
 * key (full handshake), -1 = error. */
int tls_ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx,
		  EVP_MAC_CTX *hctx, int enc)
{
	struct tls_tkey k;
	bool current = true;
	int rc = -1;

	if (enc) {
		if (!tls_tkeys_current(tls_mono_s(), &k))
			return -1;
		if (RAND_bytes(iv, 16) > 0 &&
		    EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv) &&
		    tkey_mac_init(hctx, &k)) {
			memcpy(name, k.name, sizeof(k.name));
			rc = 1;
		}
	} else {
		if (!tls_tkeys_find(name, tls_mono_s(), &k, &current))
			return 0;
		if (tkey_mac_init(hctx, &k) &&
		    EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k.aes, iv))
			rc = current ? 1 : 2;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* ---- server-side callbacks ------------------------------------------------------ */

static int name_find(const struct tls_name *v, int n, const char *name)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = strcmp(name, v[mid].name);
		if (c == 0)
			return v[mid].cert;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Which certificate serves `name`: an exact name first, then a wildcard
 * for its parent (one label only, RFC 6125 6.4.3).  -1: none (default). */
static int tls_sni_lookup(const struct tls_bind_rt *rt, const char *name)
{
	char low[256];
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(low))
		return -1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	if (low[n - 1] == '.')
		n--;
	low[n] = '\0';
	int c = name_find(rt->exact, rt->nexact, low);
	if (c >= 0)
		return c;
	const char *dot = strchr(low, '.');
	if (!dot || dot == low || !dot[1])
		return -1;
	return name_find(rt->wild, rt->nwild, dot + 1);
}

int tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_bind_rt *rt = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	if (!name)
		return SSL_TLSEXT_ERR_NOACK;   /* no SNI: the default certificate */
	int c = tls_sni_lookup(rt, name);
	if (c > 0)
		SSL_set_SSL_CTX(ssl, rt->certs[c].ctx);
	/* An unknown name gets the default certificate too, like nginx and
	 * HAProxy: refusing would break clients that send a bare IP or alias. */
	return c >= 0 ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

int tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct tls_bind_rt *rt = arg;
	unsigned char *sel = NULL;

	/* Server preference order: SSL_select_next_proto() takes the first
	 * protocol of our list (rt->alpn, the bind's `alpn` or its proto's
	 * default, "h2,http/1.1") that the client offers, whatever the
	 * client's order.  No common protocol: carry on without ALPN (the
	 * client then speaks HTTP/1.1), as nginx does. */
	if (SSL_select_next_proto(&sel, outlen, rt->alpn, rt->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

int tls_ocsp_cb(SSL *ssl, void *arg)
{
	struct tls_cert_rt *cr = arg;
	struct tls_ocsp *o = cr ? cr->ocsp : NULL;
	unsigned char *copy = NULL;
	size_t len = 0;

	if (!o)
		return SSL_TLSEXT_ERR_NOACK;
	if (o->check_ms) {
		uint64_t now = loop_clock_ms();
		if (now >= atomic_load_explicit(&o->next_check, memory_order_relaxed))
			tls_ocsp_refresh(cr, now);
	}
	pthread_mutex_lock(&o->lock);
	/* A response past its nextUpdate would make strict clients fail;
	 * better no staple (the client may ask the responder itself). */
	if (o->der && !(o->expires && time(NULL) > o->expires)) {
		copy = OPENSSL_memdup(o->der, o->len);
		len = o->len;
	}
	pthread_mutex_unlock(&o->lock);
	if (!copy)
		return SSL_TLSEXT_ERR_NOACK;
	SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)len);
	return SSL_TLSEXT_ERR_OK;
}

/* ---- client-side callback ------------------------------------------------------ */

int tls_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_server_rt *rt = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (!rt)
		return 0;
	pthread_mutex_lock(&rt->lock);
	SSL_SESSION *old = rt->sess;
	rt->sess = sess;
	pthread_mutex_unlock(&rt->lock);
	SSL_SESSION_free(old);
	return 1;   /* we keep the reference */
}

/* ---- the transport --------------------------------------------------------------------- */

static _Thread_local char tls_why[256];   /* tls_last_error() */

const char *tls_last_error(void)
{
	return tls_why;
}

const char *tls_conn_why(const struct conn *c)
{
	return c->err == EPROTO && conn_is_tls(c) && tls_why[0] ? tls_why : NULL;
}

/* The reason of OpenSSL's most recent error ("no start line"), and clears
 * the queue. */
const char *tls_err_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		snprintf(buf, len, "OpenSSL error %lx", e);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Words for a failure into tls_why; logged towards servers (the
 * operator's business) unless quiet, towards clients only at debug. */
static void tls_log_failure(struct conn *c, SSL *ssl, int err)
{
	char why[200];
	long vr = SSL_get_verify_result(ssl);
	const char *what = SSL_is_init_finished(ssl) ? "connection" : "handshake";

	if (err == SSL_ERROR_SSL)
		tls_err_reason(why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(errno));
	if (vr != X509_V_OK)
		snprintf(tls_why, sizeof(tls_why), "TLS handshake failed: %scertificate verify failed: %s",
			 SSL_is_server(ssl) ? "client " : "", X509_verify_cert_error_string(vr));
	else
		snprintf(tls_why, sizeof(tls_why), "TLS %s failed: %s", what, why);
	if (!SSL_is_server(ssl)) {
		const char *label = SSL_get_ex_data(ssl, tls_label_idx);
		if (!SSL_get_ex_data(ssl, tls_quiet_idx))
			log_warn("server %s: %s", label ? label : "?", tls_why);
		return;
	}
	if (log_level >= LOG_DEBUG) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char ip[64] = "?";
		if (getpeername(c->io.fd, (struct sockaddr *)&ss, &len) == 0)
			addr_ntop((struct sockaddr *)&ss, ip, sizeof(ip));
		log_debug("client %s: %s", ip, tls_why);
	}
}

/* Maps a failed SSL_read/SSL_write to the conn.h conventions: -1 with
 * errno EAGAIN (and the readiness flags set) or a real error; 0 for EOF. */
static ssize_t tls_fail(struct conn *c, SSL *ssl, int r, bool reading)
{
	int e = SSL_get_error(ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			c->flags |= CONN_F_WR_WANT_RD;   /* conn_send clears SEND_READY */
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (reading) {
			c->flags |= CONN_F_RD_WANT_WR;   /* conn_recv clears RECV_READY */
			c->flags &= (uint16_t)~CONN_F_SEND_READY;
		}
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify (or a bare TCP close: IGNORE_UNEXPECTED_EOF;
		 * HTTP framing tells a truncated message apart). */
		if (reading)
			return 0;
		errno = EPIPE;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EAGAIN)
			errno = reading ? ECONNRESET : EPIPE;
		if (errno != ECONNRESET && errno != EPIPE)
			tls_log_failure(c, ssl, e);
		ERR_clear_error();
		return -1;
	default:
		tls_log_failure(c, ssl, e);
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

/* Handshakes by side and result (tls_stats): relaxed atomics, one add per
 * connection, next to a handshake's thousands of cycles. */
static _Atomic uint64_t hs_count[4];   /* accept ok, accept failed, connect ok, failed */

/* Counts c's handshake once it has finished (the client side finishes
 * inside SSL_read, the server side in tls_handshake). */
static inline void hs_seen(struct conn *c, SSL *ssl)
{
	if (!(c->flags & CONN_F_TLS_DONE) && SSL_is_init_finished(ssl)) {
		c->flags |= CONN_F_TLS_DONE;
		atomic_fetch_add_explicit(&hs_count[SSL_is_server(ssl) ? 0 : 2], 1,
					  memory_order_relaxed);
	}
}

void tls_stats(struct tls_stats *out)
{
	out->accept_ok = atomic_load_explicit(&hs_count[0], memory_order_relaxed);
	out->accept_failed = atomic_load_explicit(&hs_count[1], memory_order_relaxed);
	out->connect_ok = atomic_load_explicit(&hs_count[2], memory_order_relaxed);
	out->connect_failed = atomic_load_explicit(&hs_count[3], memory_order_relaxed);
}

static ssize_t tls_recv(struct conn *c, void *buf, size_t len)
{
	SSL *ssl = c->xprt_ctx;
	size_t n = 0;

	ERR_clear_error();
	int r = SSL_read_ex(ssl, buf, len, &n);
	hs_seen(c, ssl);
	if (r > 0)
		return (ssize_t)n;
	return tls_fail(c, ssl, r, true);
}

static ssize_t tls_send(struct conn *c, const void *buf, size_t len)
{
	SSL *ssl = c->xprt_ctx;
	size_t done = 0;

	/* With partial writes SSL_write returns after each record, which
	 * says nothing about the socket: keep going until all is written or
	 * it blocks, so a short count means "socket full" as for raw TCP. */
	while (done < len) {
		size_t n = 0;
		ERR_clear_error();
		int r = SSL_write_ex(ssl, (const char *)buf + done, len - done, &n);
		if (r > 0) {
			done += n;
			continue;
		}
		/* Blocked (flags set) or failed: report what went out; a
		 * failure shows again on the next call. */
		ssize_t f = tls_fail(c, ssl, r, false);
		return done ? (ssize_t)done : f;
	}
	return (ssize_t)done;
}

static int tls_handshake(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;

	if (SSL_is_init_finished(ssl))
		return 1;
	ERR_clear_error();
	int r = SSL_do_handshake(ssl);
	if (r == 1) {
		hs_seen(c, ssl);
		return 1;
	}
	int e = SSL_get_error(ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->flags &= (uint16_t)~CONN_F_RECV_READY;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->flags &= (uint16_t)~CONN_F_SEND_READY;
		return 0;
	case SSL_ERROR_SYSCALL:
	case SSL_ERROR_ZERO_RETURN: {
		/* The peer went away mid-handshake: tls_fail() logs no reason. */
		int saved = errno;
		snprintf(tls_why, sizeof(tls_why), "TLS handshake failed: %s",
			 saved && saved != EAGAIN ? strerror(saved) : "connection closed");
		errno = saved;
		break;
	}
	default:
		break;
	}
	tls_fail(c, ssl, r, false);
	return -1;
}

static void tls_shutw(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;

	if (ssl && !(c->flags & CONN_F_ERROR) && SSL_is_init_finished(ssl)) {
		ERR_clear_error();
		SSL_shutdown(ssl);   /* close_notify, best effort (non-blocking) */
		ERR_clear_error();
	}
	shutdown(c->io.fd, SHUT_WR);
}

static void tls_close(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;

	if (ssl) {
		hs_seen(c, ssl);
		/* a handshake begun and never finished failed */
		if (!(c->flags & CONN_F_TLS_DONE) && !SSL_in_before(ssl))
			atomic_fetch_add_explicit(&hs_count[SSL_is_server(ssl) ? 1 : 3], 1,
						  memory_order_relaxed);
		ERR_clear_error();
		if (!(c->flags & CONN_F_ERROR) && SSL_is_init_finished(ssl) &&
		    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
			SSL_shutdown(ssl);
		ERR_clear_error();
		SSL_free(ssl);
		c->xprt_ctx = NULL;
	}
	close(c->io.fd);
}

const struct xprt xprt_tls = {
	.name = "tls",
	.buffers_input = true,
	.recv = tls_recv,
	.send = tls_send,
	.shutw = tls_shutw,
	.close = tls_close,
	.handshake = tls_handshake,
};

int tls_conn_accept(struct conn *c, const struct cfg_tls_bind *tb)
{
	if (!tb->rt)
		return -1;
	SSL *ssl = SSL_new(tb->rt->certs[0].ctx);
	if (!ssl || !SSL_set_fd(ssl, c->io.fd)) {
		SSL_free(ssl);
		ERR_clear_error();
		return -1;
	}
	SSL_set_accept_state(ssl);
	c->xprt = &xprt_tls;
	c->xprt_ctx = ssl;
	return 0;
}

int tls_conn_connect(struct conn *c, const struct cfg_tls_server *ts, bool quiet)
{
	struct tls_server_rt *rt = ts->rt;
	if (!rt)
		return -1;
	SSL *ssl = SSL_new(rt->ctx);
	if (!ssl || !SSL_set_fd(ssl, c->io.fd) ||
	    (ts->sni && !SSL_set_tlsext_host_name(ssl, ts->sni))) {
		SSL_free(ssl);
		ERR_clear_error();
		return -1;
	}
	SSL_set_ex_data(ssl, tls_label_idx, (void *)ts->label);
	SSL_set_ex_data(ssl, tls_quiet_idx, quiet ? (void *)1 : NULL);
	pthread_mutex_lock(&rt->lock);
	if (rt->sess && SSL_SESSION_is_resumable(rt->sess))
		SSL_set_session(ssl, rt->sess);
	pthread_mutex_unlock(&rt->lock);
	SSL_set_connect_state(ssl);
	c->xprt = &xprt_tls;
	c->xprt_ctx = ssl;
	return 0;
}

int tls_conn_set_alpn(struct conn *c, const char *proto)
{
	unsigned char wire[1 + 255];
	size_t n = strlen(proto);

	if (!conn_is_tls(c) || !c->xprt_ctx || n == 0 || n > 255)
		return -1;
	wire[0] = (unsigned char)n;
	memcpy(wire + 1, proto, n);
	/* 0 is success here, unlike most of OpenSSL */
	if (SSL_set_alpn_protos(c->xprt_ctx, wire, (unsigned int)(n + 1)) != 0) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

const char *tls_conn_client_dn(struct conn *c)
{
	if (!conn_is_tls(c) || !c->xprt_ctx)
		return NULL;
	SSL *ssl = c->xprt_ctx;
	char *dn = SSL_get_ex_data(ssl, tls_dn_idx);
	if (dn)
		return dn == tls_dn_none ? NULL : dn;
	if (!SSL_is_init_finished(ssl))
		return NULL;

	X509 *x = SSL_get0_peer_certificate(ssl);
	dn = tls_dn_none;
	if (x && SSL_get_verify_result(ssl) == X509_V_OK) {
		/* RFC 2253 with control and non-ASCII bytes escaped: the text
		 * is printable ASCII, safe in a header value. */
		BIO *b = BIO_new(BIO_s_mem());
		if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
			char *p;
			long n = BIO_get_mem_data(b, &p);
			char *s = n > 0 ? OPENSSL_malloc((size_t)n + 1) : NULL;
			if (s) {
				memcpy(s, p, (size_t)n);
				s[n] = '\0';
				for (long i = 0; i < n; i++)
					if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
						s[i] = '?';
				dn = s;
			}
		}
		BIO_free(b);
		ERR_clear_error();
	}
	SSL_set_ex_data(ssl, tls_dn_idx, dn);
	return dn == tls_dn_none ? NULL : dn;
}

const char *tls_conn_version(const struct conn *c)
{
	if (!conn_is_tls(c) || !c->xprt_ctx)
		return NULL;
	return SSL_get_version(c->xprt_ctx);
}

const char *tls_conn_sni(const struct conn *c)
{
	if (!conn_is_tls(c) || !c->xprt_ctx)
		return NULL;
	return SSL_get_servername(c->xprt_ctx, TLSEXT_NAMETYPE_host_name);
}

bool tls_conn_alpn_is(const struct conn *c, const char *proto)
{
	const unsigned char *sel = NULL;
	unsigned int len = 0;

	/* The choice is made while the ClientHello is read, but a handshake
	 * that fails afterwards negotiated nothing: only a finished one counts. */
	if (!conn_is_tls(c) || !c->xprt_ctx || !SSL_is_init_finished(c->xprt_ctx))
		return false;
	SSL_get0_alpn_selected(c->xprt_ctx, &sel, &len);
	return sel && len == strlen(proto) && memcmp(sel, proto, len) == 0;
}
