/*
 * session_pp.c - a session's PROXY protocol step: on a bind with
 * `accept_proxy`, the connection must start with a PROXY header (v1 or v2,
 * net/proxy_proto.h) before anything else runs: tcp_request rules, the
 * HTTP codec, a TCP tunnel's connect.  Its source address then becomes the
 * session's client address (ss->src: `src`, logs, X-Forwarded-For,
 * hash(src), tcp_request rules); the TCP peer stays available as `peer`.
 *
 * With `accept_proxy from CIDR...`, only peers in those ranges must send a
 * header; one outside them that starts with a PROXY signature is refused,
 * anything else goes on as a plain connection.
 *
 * The header is read with MSG_PEEK and parsed again over everything
 * received so far until complete (pp_parse keeps no state), then exactly
 * its bytes are consumed: what follows stays in the socket for the codec,
 * a TLS handshake included (the header precedes it in clear).  The step
 * runs under `timeout header` (the session's idle timer), which then goes
 * on timing the first request head from the accept.  A missing, malformed,
 * late or unexpected header closes the connection with a log line; nothing
 * of it is forwarded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "core/log.h"
#include "net/cidr.h"
#include "net/proxy_proto.h"
#include "proxy/session.h"
#include "proxy/worker.h"

/* What a PROXY header said; allocated only when it carried something. */
struct sess_pp {
	struct sockaddr_in6 peer;       /* the TCP peer (the balancer) */
	struct sockaddr_storage dst;    /* the address the client connected to */
	bool proxied;                   /* src/dst came from the header */
	uint16_t authority_len;
	char authority[];               /* PP2_TYPE_AUTHORITY, NUL-terminated */
};

static void pp_refuse(struct session *ss, const char *why)
{
	char peer[INET6_ADDRSTRLEN];
	log_warn("%s: connection from %s closed: %s", ss->fe->name,
		 session_src_text(ss, peer, sizeof(peer)), why);
	session_close(ss);
}

void session_pp_timeout(struct session *ss)
{
	char peer[INET6_ADDRSTRLEN];
	session_src_text(ss, peer, sizeof(peer));
	/* A silent client that owes no header is closed as quietly as on
	 * any bind (timeout header). */
	if (ss->flags & SESS_F_PP_WAIT)
		log_warn("%s: connection from %s closed: timeout header: no complete PROXY "
			 "header in time", ss->fe->name, peer);
	else
		log_debug("%s: connection from %s closed: timeout header", ss->fe->name, peer);
}

void session_pp_start(struct session *ss, const struct cfg_addr *bind)
{
	const struct cfg_accept_proxy *ap = bind->accept_proxy;
	bool must = !ap->nfrom || cidr_match_any(ap->from, ap->nfrom, (struct sockaddr *)&ss->src);

	ss->flags |= must ? SESS_F_PP_WAIT : SESS_F_PP_DENY;
	/* The session's idle timer is free until the first stream ends. */
	timer_set(&ss->w->loop, &ss->idle_timer, ss->head_start + ss->fe->timeout_header_ms);
}

static int pp_apply(struct session *ss, const struct pp_info *in)
{
	if (in->local && !in->authority)
		return 0;
	struct sess_pp *pp = calloc(1, sizeof(*pp) + in->authority_len + 1u);
	if (!pp)
		return -1;
	pp->peer = ss->src;
	if (in->authority) {
		memcpy(pp->authority, in->authority, in->authority_len);
		pp->authority_len = in->authority_len;
	}
	if (!in->local) {
		pp->proxied = true;
		pp->dst = in->dst;
		session_set_src(ss, &in->src);
	}
	ss->pp = pp;
	return 0;
}

void session_pp_event(struct session *ss)
{
	uint8_t buf[PP_HDR_MAX];
	struct conn *c = &ss->cli;
	struct pp_info in;
	const char *why;
	int r = 0;

	if (!(c->flags & CONN_F_RECV_READY))
		return;
	ssize_t n = recv(c->io.fd, buf, sizeof(buf), MSG_PEEK);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			c->flags &= (uint16_t)~CONN_F_RECV_READY;
			return;
		}
		pp_refuse(ss, strerror(errno));
		return;
	}
	if (n == 0) {
		if (ss->flags & SESS_F_PP_WAIT)
			pp_refuse(ss, "closed before a complete PROXY header");
		else
			session_close(ss);
		return;
	}
	if (ss->flags & SESS_F_PP_DENY) {
		int d = pp_detect(buf, (size_t)n);
		if (d > 0) {
			pp_refuse(ss, "PROXY header from a peer outside accept_proxy's 'from'");
			return;
		}
		if (d == 0) {
			if (c->flags & CONN_F_HUP) {   /* the rest will never come */
				session_close(ss);
				return;
			}
			c->flags &= (uint16_t)~CONN_F_RECV_READY;   /* a prefix: wait */
			return;
		}
	} else {
		r = pp_parse(buf, (size_t)n, &in, &why);
		if (r == PP_ERROR) {
			char msg[128];
			snprintf(msg, sizeof(msg), "bad PROXY header: %s", why);
			pp_refuse(ss, msg);
			return;
		}
		if (r == PP_NEED_MORE) {
			/* The peeked bytes stay in front of an EOF, so recv never
			 * says 0: the hang-up event does. */
			if (c->flags & CONN_F_HUP) {
				pp_refuse(ss, "closed before a complete PROXY header");
				return;
			}
			c->flags &= (uint16_t)~CONN_F_RECV_READY;
			return;
		}
		/* The bytes are there (peeked): take exactly the header. */
		if (recv(c->io.fd, buf, (size_t)r, 0) != r) {
			pp_refuse(ss, "PROXY header could not be consumed");
			return;
		}
		if (pp_apply(ss, &in) < 0) {
			pp_refuse(ss, "out of memory");
			return;
		}
	}
	ss->flags &= (uint8_t)~(SESS_F_PP_WAIT | SESS_F_PP_DENY);
	timer_del(&ss->w->loop, &ss->idle_timer);
	if (r > 0 && log_level >= LOG_DEBUG) {
		char src[INET6_ADDRSTRLEN];
		log_debug("%s: PROXY v%u header: client %s", ss->fe->name, in.version,
			  session_src_text(ss, src, sizeof(src)));
	}
	session_start(ss);
}

void session_pp_free(struct session *ss)
{
	free(ss->pp);
	ss->pp = NULL;
}

const struct sockaddr_in6 *session_peer(const struct session *ss)
{
	return ss->pp && ss->pp->proxied ? &ss->pp->peer : &ss->src;
}

bool session_dst(const struct session *ss, struct sockaddr_storage *out)
{
	if (ss->pp && ss->pp->proxied) {
		*out = ss->pp->dst;
		return true;
	}
	socklen_t len = sizeof(*out);
	return getsockname(ss->cli.io.fd, (struct sockaddr *)out, &len) == 0;
}

struct slice session_pp_authority(const struct session *ss)
{
	if (!ss->pp || !ss->pp->authority_len)
		return (struct slice){ NULL, 0 };
	return (struct slice){ ss->pp->authority, ss->pp->authority_len };
}
