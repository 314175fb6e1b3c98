/*
 * flt_forward.c - the filters that tell a server about the client and pin
 * clients to servers:
 *
 *   forward  (request head, after routing) X-Forwarded-For / -Proto /
 *            -Host or Forwarded (RFC 7239) as the frontend's
 *            forward_headers says, and X-SSL-Client-DN for a verified
 *            client certificate
 *   sticky   (response head) `sticky cookie NAME`: Set-Cookie naming the
 *            server that answered, when the request had no valid pin
 *
 * Values are formatted into the message's own store (msg_storef), so they
 * live exactly as long as the message.
 */
#include <string.h>
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

/* True if a bind of fe checks client certificates: then X-SSL-Client-DN
 * is ours to set, and a client never gets to send its own, on any bind. */
static bool fe_verifies_clients(const struct cfg_frontend *fe)
{
	for (int i = 0; i < fe->nbinds; i++)
		if (fe->binds[i].tls && fe->binds[i].tls->verify != TLS_VERIFY_NONE)
			return true;
	return false;
}

/* The verified client certificate's subject, RFC 2253, for the server;
 * the name is fixed (HAProxy's examples and nginx's $ssl_client_s_dn
 * setups use the same one). */
static void add_client_dn(struct stream *s, struct http_msg *m)
{
	if (!fe_verifies_clients(s->fe))
		return;
	msg_hdr_del(m, SLICE_LIT("X-SSL-Client-DN"));
	const char *dn = session_tls_client_dn(s->sess);
	if (dn)
		msg_hdr_add(m, SLICE_LIT("X-SSL-Client-DN"),
			    msg_store(m, dn, strlen(dn)));
}

static void add_forwarded(struct http_msg *m, const char *ip, bool v6, const char *proto)
{
	struct slice v;
	if (m->authority.len)
		v = msg_storef(m, v6 ? "for=\"[%s]\";proto=%s;host=\"%.*s\"" :
				       "for=%s;proto=%s;host=\"%.*s\"",
			       ip, proto, (int)m->authority.len, m->authority.p);
	else
		v = msg_storef(m, v6 ? "for=\"[%s]\";proto=%s" : "for=%s;proto=%s", ip, proto);
	if (v.len)
		msg_hdr_add(m, SLICE_LIT("Forwarded"), v);
}

static enum flt_verdict forward_req_head(struct stream *s, const void *conf)
{
	struct http_msg *m = &s->txn->req;
	unsigned fwd = s->fe->forward_headers;
	char ip[INET6_ADDRSTRLEN];
	/* The connection's client (not a trusted_proxies one: the list its
	 * headers carry goes on with the hop that sent them). */
	session_src_text(s->sess, ip, sizeof(ip));
	bool v6 = strchr(ip, ':') != NULL;
	const char *proto = conn_is_tls(&s->sess->cli) ? "https" : "http";

	(void)conf;
	add_client_dn(s, m);
	/* What a client that is not a trusted proxy (flt_realip.c) says about
	 * forwarding is replaced, never appended to. */
	if ((fwd & FWD_XFF) && !s->txn->fwd_trusted)
		msg_hdr_del_id(m, HDR_X_FORWARDED_FOR);
	if ((fwd & FWD_RFC7239) && !s->txn->fwd_trusted)
		msg_hdr_del_id(m, HDR_FORWARDED);
	if (fwd & FWD_XFF) {
		/* A new field line appends to a trusted proxy's list (RFC 9110
		 * 5.3: several lines are one comma-separated list). */
		struct slice v = msg_store(m, ip, strlen(ip));
		if (v.p)
			msg_hdr_add(m, SLICE_LIT("X-Forwarded-For"), v);
	}
	if (fwd & FWD_XFP) {
		msg_hdr_del_id(m, HDR_X_FORWARDED_PROTO);
		msg_hdr_add(m, SLICE_LIT("X-Forwarded-Proto"),
			    (struct slice){ proto, (uint32_t)strlen(proto) });
	}
	if ((fwd & FWD_XFH) && m->authority.len) {
		msg_hdr_del_id(m, HDR_X_FORWARDED_HOST);
		msg_hdr_add(m, SLICE_LIT("X-Forwarded-Host"), m->authority);
	}
	if (fwd & FWD_RFC7239)
		add_forwarded(m, ip, v6, proto);
	return FLT_CONTINUE;
}

const struct filter_ops flt_forward_ops = {
	.name = "forward",
	.req_head = forward_req_head,
};

static enum flt_verdict sticky_res_head(struct stream *s, const void *conf)
{
	const struct cfg_backend *be = conf;
	struct txn *t = s->txn;

	if (!t->sticky_set || !s->sv)
		return FLT_CONTINUE;
	struct slice v = msg_storef(&t->res, "%s=%s; Path=/; HttpOnly", be->sticky_cookie,
				    s->sv->cfg->name);
	if (v.p)
		msg_hdr_add(&t->res, SLICE_LIT("Set-Cookie"), v);
	return FLT_CONTINUE;
}

const struct filter_ops flt_sticky_ops = {
	.name = "sticky",
	.res_head = sticky_res_head,
};
