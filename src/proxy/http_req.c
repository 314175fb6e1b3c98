/*
 * http_req.c - the request direction of an HTTP stream.
 *
 *   req_parse_head  bytes -> struct http_msg (h1 codec), strict: errors
 *                   become 4xx replies and nothing reaches a server
 *   req_on_head     limits, routing (use_backend conditions), forwarding
 *                   headers, hop-by-hop removal, re-encoded head in place
 *   req_body        Content-Length counted / chunked normalised, streamed
 *
 * Everything between parsing and encoding works on struct http_msg only,
 * so HTTP/2 streams (a later issue) reuse routing and header rules as is.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "filter/cond.h"
#include "net/tls.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

void txn_reset(struct txn *t)
{
	/* The header tables are large and only read up to nhdrs: msg_reset()
	 * clears what matters there; every other field starts from zero. */
	msg_reset(&t->req);
	msg_reset(&t->res);
	memset(&t->be, 0, offsetof(struct txn, arena) - offsetof(struct txn, be));
	t->line[0] = '\0';
}

static struct txn *txn_get(struct stream *s)
{
	if (s->txn)
		return s->txn;
	struct txn *t = pool_get(&s->w->txn_pool);
	if (!t)
		return NULL;
	txn_reset(t);
	s->txn = t;
	return t;
}

/* Copies a formatted value into the transaction's arena. */
static struct slice arena_printf(struct txn *t, const char *fmt, ...)
{
	size_t room = sizeof(t->arena) - t->arena_used;
	char *p = t->arena + t->arena_used;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return (struct slice){ NULL, 0 };
	t->arena_used += (uint32_t)n;
	return (struct slice){ p, (uint32_t)n };
}

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
static void add_client_dn_header(struct stream *s, struct http_msg *m)
{
	if (!fe_verifies_clients(s->fe))
		return;
	msg_hdr_del(m, SLICE_LIT("X-SSL-Client-DN"));
	const char *dn = tls_conn_client_dn(&s->cli);
	if (dn)
		msg_hdr_add(m, SLICE_LIT("X-SSL-Client-DN"),
			    (struct slice){ dn, (uint32_t)strlen(dn) });
}

static void add_forward_headers(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;
	unsigned fwd = s->fe->forward_headers;
	char ip[INET6_ADDRSTRLEN];
	stream_src_text(s, ip, sizeof(ip));
	bool v6 = strchr(ip, ':') != NULL;
	const char *proto = conn_is_tls(&s->cli) ? "https" : "http";

	add_client_dn_header(s, m);

	if (fwd & FWD_XFF) {
		/* A new field line appends to any list the client sent (RFC 9110
		 * 5.3: several lines are one comma-separated list). */
		struct slice v = arena_printf(t, "%s", ip);
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
	if (fwd & FWD_RFC7239) {
		struct slice v;
		if (m->authority.len)
			v = arena_printf(t, v6 ? "for=\"[%s]\";proto=%s;host=\"%.*s\"" :
						 "for=%s;proto=%s;host=\"%.*s\"",
					 ip, proto, (int)m->authority.len, m->authority.p);
		else
			v = arena_printf(t, v6 ? "for=\"[%s]\";proto=%s" : "for=%s;proto=%s", ip,
					 proto);
		if (v.len)
			msg_hdr_add(m, SLICE_LIT("Forwarded"), v);
	}
}

/*
 * An HTTP/1.0 request without a Host (or with an empty one): the target
 * URI's authority is then the address the client reached (RFC 9112 3.3).
 * We forward in HTTP/1.1, where the server needs a Host, and rules and
 * X-Forwarded-Host see the same name.
 */
static void default_authority(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];

	if (getsockname(s->cli.io.fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	addr_ntop((struct sockaddr *)&ss, ip, sizeof(ip));
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
							 ((struct sockaddr_in *)&ss)->sin_port);
	struct slice v = arena_printf(t, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
	if (!v.len)
		return;
	m->authority = v;
	struct http_hdr *h = msg_hdr_by_id(m, HDR_HOST);
	if (h)
		h->value = v;
}

static struct backend_rt *route(struct stream *s, struct txn *t)
{
	const struct cfg_frontend *fe = s->fe;
	struct sockaddr_storage ss;
	stream_src(s, &ss);
	struct cond_ctx ctx = { .msg = &t->req, .src = &ss,
				.ssl_client_dn = tls_conn_client_dn(&s->cli) };

	for (int i = 0; i < fe->nrules; i++)
		if (cond_eval(fe->rules[i].cond, &ctx))
			return &s->w->backends[fe->rules[i].backend->index];
	return fe->default_backend ? &s->w->backends[fe->default_backend->index] : NULL;
}

static void set_log_line(struct txn *t)
{
	const struct http_msg *m = &t->req;
	snprintf(t->line, sizeof(t->line), "%.*s %.*s HTTP/1.%u", (int)m->method.len, m->method.p,
		 (int)(m->target.len > 120 ? 120 : m->target.len), m->target.p, m->version_minor);
}

/* Writes the forwarded head in place of the received one. */
static bool req_rewrite_head(struct stream *s, struct txn *t)
{
	struct http_msg *m = &t->req;
	const char *extra = NULL;
	size_t extra_len = 0;

	if (t->upgrade) {
		/* Upgrade is hop-by-hop, but it is the point of this request:
		 * forward it along with the Connection token that names it. */
		for (int i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].id == HDR_UPGRADE)
				m->hdrs[i].flags &= (uint8_t)~HDR_F_HOP;
		extra = "Connection: upgrade\r\n";
		extra_len = strlen(extra);
	}
	int n = h1_encode_request(m, extra, extra_len, s->w->scratch, buf_size);
	if (n < 0 || !buf_replace_in(&s->req, m->head_len, s->w->scratch, (uint32_t)n)) {
		http_reply_error(s, 431, "request head too large once rewritten");
		return false;
	}
	buf_advance(&s->req, (uint32_t)n);
	/* The message's slices pointed into the old head.  It is parsed again
	 * from the forwarded head only if a later step needs it (txn_req_msg). */
	m->nhdrs = 0;
	t->req_stale = true;
	t->fwd_head_len = (uint32_t)n;
	return true;
}

struct http_msg *txn_req_msg(struct stream *s)
{
	struct txn *t = s->txn;
	if (!t)
		return NULL;
	if (!t->req_stale)
		return &t->req;
	/* The forwarded head stays at the start of the output until bytes are
	 * sent without being kept for replay. */
	if (t->req_consumed || !s->req.area || buf_out_len(&s->req) < t->fwd_head_len)
		return NULL;
	struct h1_err err;
	msg_reset(&t->req);
	if (h1_parse_request(buf_out(&s->req), t->fwd_head_len, &t->req, NULL, &err) != H1_DONE)
		return NULL;
	t->req_stale = false;
	return &t->req;
}

static bool req_on_head(struct stream *s)
{
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	const struct cfg_frontend *fe = s->fe;

	t->meth = m->meth;
	t->req_minor = m->version_minor;
	t->start_ms = s->w->loop.now;
	set_log_line(t);

	if (m->flags & MSG_F_CONN_CLOSE)
		s->flags |= STRM_F_CLOSE;
	if (s->w->stopping)
		s->flags |= STRM_F_CLOSE;
	if (m->meth == HTTP_METH_CONNECT) {
		http_reply_error(s, 405, "CONNECT is not supported by a reverse proxy");
		return true;
	}
	if (fe->max_body_size && m->body == BODY_LENGTH && m->content_length > fe->max_body_size) {
		http_reply_error(s, 413, "request body larger than max_body_size");
		return true;
	}
	t->upgrade = (m->flags & MSG_F_CONN_UPGRADE) && (m->flags & MSG_F_HAS_UPGRADE);
	if (!m->authority.len)
		default_authority(s, t);

	struct backend_rt *be = route(s, t);
	if (!be) {
		http_reply_error(s, 503, "no backend for this request");
		return true;
	}
	t->be = be;

	/* We answer 100-continue ourselves once a server is assigned, and
	 * the server never sees Expect: it gets the body straight away. */
	if (m->flags & MSG_F_EXPECT_CONTINUE) {
		msg_hdr_del_id(m, HDR_EXPECT);
		t->expect_continue = m->body != BODY_NONE && m->version_minor >= 1;
	}
	add_forward_headers(s, t);

	enum http_body body = m->body;
	uint64_t cl = m->content_length;
	if (!req_rewrite_head(s, t))
		return true;

	switch (body) {
	case BODY_LENGTH:
		t->req_left = cl;
		s->rq = cl ? RQ_BODY : RQ_DONE;
		break;
	case BODY_CHUNKED:
		h1_chunk_init(&t->req_chunk, H1_CHUNK_NORMALIZE);
		t->req_chunked = true;
		s->rq = RQ_BODY;
		break;
	default:
		s->rq = RQ_DONE;
		break;
	}
	s->rs = RS_WAIT;
	t->assign_pending = true;
	return true;
}

/* Called once the body bytes that arrived with the head have been checked:
 * a malformed chunked body that came in the same packets as its head is
 * refused before any byte reaches a server. */
static void req_assign(struct stream *s)
{
	struct txn *t = s->txn;
	struct backend_rt *be = t->be;

	t->assign_pending = false;
	s->retries_left = (int8_t)be->cfg->retries;
	s->req_sent = 0;
	if (s->rq == RQ_DONE)
		s->flags |= STRM_F_REPLAY;
	backend_budget_deposit(be->cfg);
	if (backend_assign(s, be, NULL) < 0)
		return;
	if (t->expect_continue && buf_alloc(&s->res) && buf_empty(&s->res)) {
		memcpy(s->res.area, continue_100, sizeof(continue_100) - 1);
		s->res.pr = s->res.wr = sizeof(continue_100) - 1;
	}
}

static bool req_parse_head(struct stream *s)
{
	if (!s->req.area || buf_in_len(&s->req) == 0) {
		if (s->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);   /* client left between requests */
			return true;
		}
		return false;
	}
	struct txn *t = txn_get(s);
	if (!t) {
		stream_abort(s, "out of memory");
		return true;
	}
	const struct cfg_frontend *fe = s->fe;
	struct h1_limits lim = { .max_head = fe->max_header_size,
				 .max_target = fe->max_target_size,
				 .max_hdrs = HTTP_MAX_HDRS };
	struct h1_err err = { 0 };
	int r = h1_parse_request(buf_in(&s->req), buf_in_len(&s->req), &t->req, &lim, &err);
	if (r == H1_NEED_MORE) {
		if (s->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			log_debug("%s: client closed in the middle of a request head", fe->name);
			stream_close(s);
			return true;
		}
		/* cli_recv never reads past the head room, so a head that
		 * fills it can only be too large. */
		if (buf_in_len(&s->req) >= lim.max_head ||
		    buf_in_len(&s->req) >= buf_size - s->w->cfg->global.maxrewrite) {
			http_reply_error(s, 431, "request head too large");
			return true;
		}
		return false;
	}
	if (r == H1_ERROR) {
		http_reply_error(s, err.status ? err.status : 400, err.reason ? err.reason : "bad request");
		return true;
	}
	return req_on_head(s);
}

static bool req_body(struct stream *s)
{
	struct txn *t = s->txn;
	struct buf *b = &s->req;
	uint32_t in = b->area ? buf_in_len(b) : 0;

	if (in == 0) {
		if (s->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_abort(s, "client closed during the request body");
			return true;
		}
		return false;
	}
	if (!t->req_chunked) {
		uint32_t n = t->req_left < in ? (uint32_t)t->req_left : in;
		buf_advance(b, n);
		t->req_left -= n;
		if (t->req_left == 0)
			s->rq = RQ_DONE;
		return true;
	}
	struct h1_err err = { 0 };
	bool progress;
	int r = buf_chunk_forward(b, &t->req_chunk, &err, &progress);
	if (r == H1_ERROR) {
		http_reply_error(s, 400, err.reason ? err.reason : "bad chunked body");
		return true;
	}
	if (s->fe->max_body_size && t->req_chunk.total > s->fe->max_body_size) {
		http_reply_error(s, 413, "chunked request body larger than max_body_size");
		return true;
	}
	if (r == H1_DONE)
		s->rq = RQ_DONE;
	return progress;
}

bool http_req_analyse(struct stream *s)
{
	bool progress;

	switch (s->rq) {
	case RQ_IDLE:
		if (s->cli.flags & (CONN_F_RD_EOF | CONN_F_ERROR)) {
			stream_close(s);
			return true;
		}
		return false;
	case RQ_HEAD:
		progress = req_parse_head(s);
		break;
	case RQ_BODY:
		progress = req_body(s);
		break;
	default:
		return false;
	}
	if (s->flags & STRM_F_CLOSED)
		return true;
	if (s->txn && s->txn->assign_pending) {
		while (s->rq == RQ_BODY && req_body(s))
			if (s->flags & STRM_F_CLOSED)
				return true;
		if (s->rs == RS_WAIT)
			req_assign(s);
		else
			s->txn->assign_pending = false;   /* refused meanwhile */
	}
	return progress;
}
