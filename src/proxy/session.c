/*
 * session.c - a client connection's life: accepted (tcp_request rules
 * first, before any byte is read; on an `accept_proxy` bind after the PROXY
 * header, session_pp.c), handed its codec and its stream, fed
 * the socket's events, drained on a graceful stop, closed.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin/metrics.h"
#include "core/log.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

static void session_event(struct ev_io *io, uint32_t events)
{
	struct session *ss = container_of(io, struct session, cli.io);
	conn_on_events(&ss->cli, events);
	if (ss->flags & (SESS_F_PP_WAIT | SESS_F_PP_DENY)) {
		session_pp_event(ss);   /* nothing else runs before the PROXY header */
		return;
	}
	ss->codec->on_event(ss);
}

static void session_idle_expired(struct timer *t)
{
	struct session *ss = container_of(t, struct session, idle_timer);
	if (ss->flags & (SESS_F_PP_WAIT | SESS_F_PP_DENY))
		session_pp_timeout(ss);
	session_close(ss);
}

void session_stream_idle(struct session *ss)
{
	struct stream *s = ss->strm;

	ss->strm = NULL;
	stream_put(s);
	timer_set(&ss->w->loop, &ss->idle_timer, ss->cli_last + ss->fe->timeout_client_ms);
	session_idle(ss, true);
}

void session_idle(struct session *ss, bool idle)
{
	if (!!(ss->flags & SESS_F_IDLE) == idle)
		return;
	ss->flags = (uint8_t)(idle ? ss->flags | SESS_F_IDLE : ss->flags & ~SESS_F_IDLE);
	metrics_conn_idle(ss->fe, idle);
}

void session_set_src(struct session *ss, const struct sockaddr_storage *peer)
{
	memset(&ss->src, 0, sizeof(ss->src));
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		ss->src.sin6_family = AF_INET6;
		ss->src.sin6_port = in->sin_port;
		ss->src.sin6_addr.s6_addr[10] = 0xff;
		ss->src.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&ss->src.sin6_addr.s6_addr[12], &in->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		memcpy(&ss->src, peer, sizeof(ss->src));
	}
}

void session_src(const struct session *ss, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out, &ss->src, sizeof(ss->src));
}

const char *session_src_text(const struct session *ss, char *out, size_t len)
{
	return addr_ntop((const struct sockaddr *)&ss->src, out, len);
}

/* Gives back what accept took when the session cannot even start. */
static void accept_failed(struct worker *w, struct session *ss, struct stream *s, int fd)
{
	close(fd);
	if (s)
		pool_put(&w->stream_pool, s);
	if (ss)
		pool_put(&w->session_pool, ss);
	atomic_fetch_sub_explicit(&g_conns, 1, memory_order_relaxed);
}

void session_accept(struct worker *w, const struct cfg_frontend *fe, const struct cfg_addr *bind,
		    int fd, const struct sockaddr_storage *peer)
{
	struct session *ss = pool_zget(&w->session_pool);
	struct stream *s = ss ? pool_zget(&w->stream_pool) : NULL;
	if (!s) {
		log_err("%s: out of memory accepting a connection", fe->name);
		accept_failed(w, ss, s, fd);
		return;
	}
	conn_init(&ss->cli, fd, session_event);
	/* A TLS bind: the handshake happens inside the first reads, under
	 * `timeout header` like the rest of the request head (net/tls.c). */
	if (bind && bind->tls && tls_conn_accept(&ss->cli, bind->tls) < 0) {
		log_err("%s: out of memory accepting a TLS connection", fe->name);
		accept_failed(w, ss, s, fd);
		return;
	}
	ss->w = w;
	ss->fe = fe;
	ss->bind = bind;
	ss->gen = w->gen;
	wgen_hold(ss->gen);
	ss->cfg = ss->gen->cfg;
	ss->codec = &sess_codec_h1;
	ss->strm = s;
	timer_init(&ss->idle_timer, session_idle_expired);
	stream_init(s, ss);
	session_set_src(ss, peer);
	list_add_tail(&w->sessions, &ss->link);
	w->nsessions++;
	metrics_conn_open(fe);
	ss->cli_last = ss->head_start = w->loop.now;
	if (loop_add(&w->loop, &ss->cli.io) < 0) {
		log_err("%s: epoll_ctl: %s", fe->name, strerror(errno));
		session_close(ss);
		return;
	}
	ss->cli.flags |= CONN_F_SEND_READY;
	if (bind && bind->accept_proxy) {
		session_pp_start(ss, bind);   /* session_start() once the header is in */
		return;
	}
	session_start(ss);
}

/* The connection's client address is known: tcp_request rules, then the
 * stream (HTTP waits for a request, TCP connects). */
void session_start(struct session *ss)
{
	const struct cfg_frontend *fe = ss->fe;

	if (!rules_tcp_accept(ss)) {
		char src[INET6_ADDRSTRLEN];
		log_debug("%s: %s rejected by tcp_request rules", fe->name,
			  session_src_text(ss, src, sizeof(src)));
		session_close(ss);
		return;
	}
	/* `proto h2`: HTTP/2 from the first byte (prior knowledge, or TLS
	 * with ALPN h2); auto binds find out from the preface (h1_client.c). */
	if (fe->mode == MODE_HTTP && ss->bind && ss->bind->proto == BIND_PROTO_H2) {
		h2_session_start(ss, NULL, 0);
		return;
	}
	stream_start(ss->strm);
}

static void tls_copy_free(struct sess_tls *c)
{
	if (!c)
		return;
	free(c->version);
	free(c->sni);
	free(c->client_dn);
	free(c);
}

static void session_free(void *arg)
{
	struct session *ss = arg;
	struct worker *w = ss->w;
	ss->codec->free(ss);
	session_pp_free(ss);
	tls_copy_free(ss->tls);
	ss->tls = NULL;
	wgen_drop(w, ss->gen);
	wgen_drop(w, ss->pin);
	pool_put(&w->session_pool, ss);
}

void session_close(struct session *ss)
{
	struct worker *w = ss->w;

	if (ss->flags & SESS_F_CLOSED)
		return;
	ss->flags |= SESS_F_CLOSED;
	timer_del(&w->loop, &ss->idle_timer);
	ss->codec->release(ss);
	rules_tcp_close(ss);   /* after the streams: their end phases may log */
	conn_close(&w->loop, &ss->cli);
	list_del(&ss->link);
	w->nsessions--;
	metrics_conn_close(ss->fe, ss->flags & SESS_F_IDLE);
	atomic_fetch_sub_explicit(&g_conns, 1, memory_order_relaxed);
	loop_defer(&w->loop, session_free, ss);
	worker_session_closed(w);
}

/* The bind of fe at a's address, or NULL. */
static const struct cfg_addr *bind_in(const struct cfg_frontend *fe, const struct cfg_addr *a)
{
	for (int i = 0; i < fe->nbinds; i++)
		if (fe->binds[i].len == a->len && memcmp(&fe->binds[i].ss, &a->ss, a->len) == 0)
			return &fe->binds[i];
	return NULL;
}

void session_follow(struct session *ss)
{
	struct worker *w = ss->w;
	struct wgen *ng = w->gen;

	if (ss->gen == ng || !ng)
		return;
	const struct cfg_frontend *nfe = NULL;
	const struct cfg_addr *nb = NULL;
	for (int i = 0; i < ng->cfg->nfrontends && !nb; i++) {
		const struct cfg_frontend *f = ng->cfg->frontends[i];
		if (strcmp(f->name, ss->fe->name) != 0 || f->mode != ss->fe->mode)
			continue;
		nfe = f;
		nb = ss->bind ? bind_in(f, ss->bind) : NULL;
	}
	if (!nfe || (ss->bind && !nb)) {
		/* Its frontend or bind is gone: this exchange is its last. */
		ss->flags |= SESS_F_CLOSE;
		return;
	}
	struct wgen *old = ss->gen;
	/* tcp_request places point into the old generation's tables: it
	 * stays alive until the connection closes. */
	if (ss->nslots && !ss->pin) {
		ss->pin = old;
		wgen_hold(old);
	}
	ss->gen = ng;
	wgen_hold(ng);
	ss->cfg = ng->cfg;
	ss->fe = nfe;
	ss->bind = nb;
	wgen_drop(w, old);
}

void session_kill(struct session *ss)
{
	session_close(ss);
}

bool session_drain(struct session *ss)
{
	return ss->codec->drain(ss);
}

const char *session_tls_version(struct session *ss)
{
	return ss->tls ? ss->tls->version : tls_conn_version(&ss->cli);
}

const char *session_tls_sni(struct session *ss)
{
	return ss->tls ? ss->tls->sni : tls_conn_sni(&ss->cli);
}

const char *session_tls_client_dn(struct session *ss)
{
	return ss->tls ? ss->tls->client_dn : tls_conn_client_dn(&ss->cli);
}

static bool dup_into(char **dst, const char *v)
{
	return !v || (*dst = strdup(v)) != NULL;
}

struct sess_tls *session_tls_copy(struct session *ss)
{
	struct sess_tls *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (!dup_into(&c->version, session_tls_version(ss)) ||
	    !dup_into(&c->sni, session_tls_sni(ss)) ||
	    !dup_into(&c->client_dn, session_tls_client_dn(ss))) {
		tls_copy_free(c);
		return NULL;
	}
	return c;
}
