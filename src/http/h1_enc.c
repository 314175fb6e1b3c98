/*
 * h1_enc.c - the HTTP/1.1 head encoder: a struct http_msg (as parsed by
 * h1.c, then rewritten by the proxy) back into the head we forward.
 *
 * Deleted and hop-by-hop fields are skipped, the framing fields are
 * written from the message's body kind (never copied from the input), and
 * the request line always says HTTP/1.1.  One bounds check per element,
 * then plain copies; nothing allocates.
 */
#include <string.h>
#include "http/h1.h"

struct h1_out {
	char *p;
	char *e;
};

static inline bool h1_put(struct h1_out *o, const char *s, size_t n)
{
	if ((size_t)(o->e - o->p) < n)
		return false;
	if (n)
		memcpy(o->p, s, n);
	o->p += n;
	return true;
}

#define h1_put_lit(o, s) h1_put((o), (s), sizeof(s) - 1)

static bool h1_put_field(struct h1_out *o, struct slice name, struct slice value)
{
	char *w = o->p;

	if ((size_t)(o->e - w) < (size_t)name.len + value.len + 4)
		return false;
	memcpy(w, name.p, name.len);
	w += name.len;
	*w++ = ':';
	*w++ = ' ';
	if (value.len)
		memcpy(w, value.p, value.len);
	w += value.len;
	*w++ = '\r';
	*w++ = '\n';
	o->p = w;
	return true;
}

static bool h1_put_cl(struct h1_out *o, uint64_t v)
{
	char tmp[20];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return h1_put_lit(o, "Content-Length: ") && h1_put(o, tmp + n, sizeof(tmp) - n) &&
	       h1_put_lit(o, "\r\n");
}

/* Transfer-Encoding of a message whose codings are not just "chunked":
 * the received codings in order, then chunked if the body is sent chunked
 * and the list does not already end with it.  Emits nothing when there is
 * nothing to say. */
static bool h1_put_te_codings(struct h1_out *o, const struct http_msg *m, bool chunked)
{
	char *start = o->p;
	bool first = true, last_chunked = false;

	if (!h1_put_lit(o, "Transfer-Encoding: "))
		return false;
	for (int i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		const char *p = h->value.p, *e = p + h->value.len;
		struct slice el;

		if (h->id != HDR_TRANSFER_ENCODING || (h->flags & HDR_F_DELETED))
			continue;
		while (h1_list_next(&p, e, &el)) {
			if ((!first && !h1_put_lit(o, ", ")) || !h1_put(o, el.p, el.len))
				return false;
			first = false;
			last_chunked = slice_ieq(el, SLICE_LIT("chunked"));
		}
	}
	if (chunked && !last_chunked) {
		if ((!first && !h1_put_lit(o, ", ")) || !h1_put_lit(o, "chunked"))
			return false;
		first = false;
	}
	if (first) {
		o->p = start;
		return true;
	}
	return h1_put_lit(o, "\r\n");
}

static bool h1_put_framing(struct h1_out *o, const struct http_msg *m)
{
	switch (m->body) {
	case BODY_LENGTH:
		return h1_put_cl(o, m->content_length);
	case BODY_CHUNKED:
		if (m->flags & MSG_F_TE_OTHER)
			return h1_put_te_codings(o, m, true);
		return h1_put_lit(o, "Transfer-Encoding: chunked\r\n");
	case BODY_UNTIL_CLOSE:
		return !(m->flags & MSG_F_TE_OTHER) || h1_put_te_codings(o, m, false);
	case BODY_NONE:
		if ((m->flags & (MSG_F_RESPONSE | MSG_F_KEEP_CL)) ==
		    (MSG_F_RESPONSE | MSG_F_KEEP_CL))
			return h1_put_cl(o, m->content_length);
		return true;
	default:
		return true;
	}
}

/* Fields, framing, extra lines and the final CRLF: the part both heads
 * share. */
static int h1_put_rest(struct h1_out *o, const struct http_msg *m, const char *extra,
		       size_t extra_len, char *out)
{
	for (int i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];

		if ((h->flags & (HDR_F_DELETED | HDR_F_HOP)) || h->id == HDR_CONTENT_LENGTH ||
		    h->id == HDR_TRANSFER_ENCODING)
			continue;
		if (!h1_put_field(o, h->name, h->value))
			return -1;
	}
	if (!h1_put_framing(o, m) || !h1_put(o, extra, extra ? extra_len : 0) ||
	    !h1_put_lit(o, "\r\n"))
		return -1;
	if (o->p - out > INT32_MAX)
		return -1;
	return (int)(o->p - out);
}

static bool h1_has_live_host(const struct http_msg *m)
{
	int i = m->hdr_idx[HDR_HOST];

	if (i >= 0 && !(m->hdrs[i].flags & (HDR_F_DELETED | HDR_F_HOP)))
		return true;
	for (i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == HDR_HOST &&
		    !(m->hdrs[i].flags & (HDR_F_DELETED | HDR_F_HOP)))
			return true;
	return false;
}

int h1_encode_request(const struct http_msg *msg, const char *extra, size_t extra_len,
		      char *out, size_t cap)
{
	struct h1_out o = { out, out + cap };
	bool ok = h1_put(&o, msg->method.p, msg->method.len) && h1_put_lit(&o, " ");

	/* The target is rebuilt from path and query, so a rule that rewrites
	 * the path only edits msg->path; CONNECT keeps its authority-form. */
	if (msg->meth == HTTP_METH_CONNECT) {
		ok = ok && h1_put(&o, msg->target.p, msg->target.len);
	} else {
		if (msg->path.len)
			ok = ok && h1_put(&o, msg->path.p, msg->path.len);
		else
			ok = ok && h1_put_lit(&o, "/");
		if (msg->query.p)
			ok = ok && h1_put_lit(&o, "?") && h1_put(&o, msg->query.p, msg->query.len);
	}
	ok = ok && h1_put_lit(&o, " HTTP/1.1\r\n");
	/* We always speak HTTP/1.1 to the server, which needs a Host: an
	 * HTTP/1.0 request without one gets the authority we know, if any. */
	if (ok && msg->authority.len && !h1_has_live_host(msg))
		ok = h1_put_field(&o, SLICE_LIT("Host"), msg->authority);
	if (!ok)
		return -1;
	return h1_put_rest(&o, msg, extra, extra_len, out);
}

int h1_encode_response(const struct http_msg *msg, const char *extra, size_t extra_len,
		       char *out, size_t cap)
{
	struct h1_out o = { out, out + cap };
	unsigned s = msg->status;
	char code[4] = { (char)('0' + s / 100), (char)('0' + s / 10 % 10), (char)('0' + s % 10),
			 ' ' };

	if (s < 100 || s > 999)
		return -1;
	if (!h1_put_lit(&o, "HTTP/1.1 ") || !h1_put(&o, code, 4) ||
	    !h1_put(&o, msg->reason.p, msg->reason.len) || !h1_put_lit(&o, "\r\n"))
		return -1;
	return h1_put_rest(&o, msg, extra, extra_len, out);
}
