/*
 * h2_msg.c - HTTP/2 header blocks <-> struct http_msg (RFC 9113 8.2, 8.3).
 *
 * Where this sits on the request's path: the HTTP/2 codec (nghttp2 does the
 * framing and HPACK) calls h2m_field() from its on_header callback for each
 * decoded field, and h2m_req_end() / h2m_res_end() once the block is whole.
 * From then on the stream's message is the same struct http_msg an HTTP/1.1
 * head gives, so routing, rules and the HTTP/1 encoder need nothing
 * HTTP/2-specific.  The way back, h2m_encode_*(), builds the name/value
 * list nghttp2 submits.
 *
 * Strictness: what RFC 9113 calls malformed is refused, and so is what our
 * HTTP/1 parser would refuse once the message is written as HTTP/1.1 (a
 * method that is not a token, a :path with a space, an invalid host): a
 * message accepted here must make an unambiguous HTTP/1.1 head.  Checks of
 * one field run in h2m_field(); those that need the whole block (required
 * pseudo-headers, Host against :authority, framing) run at the end.
 *
 * Every byte is copied into the message's store: nghttp2's buffers go away
 * when a callback returns.  The store moves when it grows and only slices
 * held in the message follow it, so nothing here keeps a slice of it in a
 * local variable across a msg_store() call.
 */
#include <stdlib.h>
#include <string.h>
#include "http/h1.h"
#include "http/h2_msg.h"

static int h2m_fail(struct h2m_state *st, int err, const char *why)
{
	st->reason = why;
	return err;
}

#define H2M_BAD(st, why)	h2m_fail((st), H2M_MALFORMED, (why))
#define H2M_FULL(st)		h2m_fail((st), H2M_TOO_LARGE, "header block too large")

/* ------------------------------------------------------------------------
 * Byte classes.
 */
static inline bool h2m_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

/* tchar (RFC 9110 5.6.2) without the uppercase letters. */
static bool h2m_lower_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool h2m_is_token(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!h2m_lower_tchar(p[i]) && !h2m_upper(p[i]))
			return false;
	return n > 0;
}

/* Field names: lowercase (RFC 9113 8.2.1) tokens.  HTTP/2 itself allows
 * more punctuation, but the name may be written into an HTTP/1.1 head,
 * where only a token is a name. */
static const char *h2m_name_bad(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (h2m_upper(p[i]))
			return "uppercase in field name";
		if (!h2m_lower_tchar(p[i]))
			return "invalid character in field name";
	}
	return NULL;
}

/* Field values (RFC 9113 8.2.1): no NUL, CR or LF, nor SP or HTAB at either
 * end, which an HTTP/1 recipient would trim and so read another value than
 * the one we routed on.  The other controls are refused too, as h1.c (and
 * nghttp2) refuse them: HTAB, SP, VCHAR and obs-text remain. */
static const char *h2m_value_bad(const uint8_t *v, size_t n)
{
	if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		return "whitespace at the edge of a field value";
	for (size_t i = 0; i < n; i++)
		if (v[i] != '\t' && (v[i] < 0x20 || v[i] == 0x7f))
			return "invalid character in field value";
	return NULL;
}

/* A copy in the message's store.  Nothing is stored for an empty value: a
 * static "" keeps p non-NULL, which callers read as "it fitted". */
static struct slice h2m_copy(struct http_msg *m, const uint8_t *p, size_t len)
{
	if (!len)
		return SLICE_LIT("");
	return msg_store(m, (const char *)p, len);
}

/* ------------------------------------------------------------------------
 * Pseudo-header fields (RFC 9113 8.3).
 */
static const struct {
	const char *name;
	uint32_t bit;
	bool response;
} h2m_pseudos[] = {
	{ ":method", H2M_P_METHOD, false },	  { ":scheme", H2M_P_SCHEME, false },
	{ ":authority", H2M_P_AUTHORITY, false }, { ":path", H2M_P_PATH, false },
	{ ":protocol", H2M_P_PROTOCOL, false },	  { ":status", H2M_P_STATUS, true },
};

/* The H2M_P_* bit of a pseudo-header of this direction, 0 for any other
 * (the other direction's are as unknown as made-up ones, RFC 9113 8.3). */
static uint32_t h2m_pseudo_bit(const uint8_t *name, size_t nlen, bool response)
{
	for (size_t i = 0; i < sizeof(h2m_pseudos) / sizeof(h2m_pseudos[0]); i++)
		if (h2m_pseudos[i].response == response && strlen(h2m_pseudos[i].name) == nlen &&
		    memcmp(h2m_pseudos[i].name, name, nlen) == 0)
			return h2m_pseudos[i].bit;
	return 0;
}

/* :method goes into an HTTP/1.1 request line: a token (RFC 9110 9.1), or
 * the line could be split. */
static int h2m_method(struct h2m_state *st, struct http_msg *m, const uint8_t *v, size_t n)
{
	if (!h2m_is_token(v, n))
		return H2M_BAD(st, "invalid :method");
	m->method = h2m_copy(m, v, n);
	if (!m->method.p)
		return H2M_FULL(st);
	m->meth = (uint8_t)msg_meth(m->method);
	return 0;
}

/* Only the schemes we can forward (RFC 9113 8.3.1 leaves others to a
 * gateway that knows them).  Schemes are case-insensitive (RFC 3986 3.1):
 * a static lowercase literal is kept, which needs no store. */
static int h2m_scheme(struct h2m_state *st, const uint8_t *v, size_t n)
{
	struct slice s = { (const char *)v, (uint32_t)n };

	if (slice_ieq(s, SLICE_LIT("http")))
		st->scheme = SLICE_LIT("http");
	else if (slice_ieq(s, SLICE_LIT("https")))
		st->scheme = SLICE_LIT("https");
	else
		return H2M_BAD(st, ":scheme is neither http nor https");
	return 0;
}

/* :authority (RFC 9113 8.3.1): not empty, no userinfo, and a host our
 * HTTP/1 parser takes as a Host, since it becomes the Host we forward.
 * CONNECT's need for a port is checked at the end, with the method. */
static int h2m_authority(struct h2m_state *st, struct http_msg *m, const uint8_t *v, size_t n)
{
	if (!h1_host_valid((const char *)v, (const char *)v + n, false))
		return H2M_BAD(st, "invalid :authority");
	m->authority = h2m_copy(m, v, n);
	return m->authority.p ? 0 : H2M_FULL(st);
}

/* :path becomes an HTTP/1.1 request-target: not empty (RFC 9113 8.3.1),
 * VCHAR only as h1.c requires, and no fragment, which is never sent (RFC
 * 9110 4.2.5) and would let us and the server disagree on where the path
 * ends.  Its form (origin or "*") depends on the method: see the end. */
static int h2m_path(struct h2m_state *st, struct http_msg *m, const uint8_t *v, size_t n)
{
	if (!n)
		return H2M_BAD(st, "empty :path");
	for (size_t i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f || v[i] == '#')
			return H2M_BAD(st, "invalid character in :path");
	m->target = h2m_copy(m, v, n);
	return m->target.p ? 0 : H2M_FULL(st);
}

/* :protocol (RFC 8441 4): an upgrade token such as "websocket", kept in
 * the state (see struct h2m_state for why not in the store). */
static int h2m_protocol(struct h2m_state *st, const uint8_t *v, size_t n)
{
	if (!h2m_is_token(v, n))
		return H2M_BAD(st, "invalid :protocol");
	if (n > sizeof(st->protocol_buf))
		return h2m_fail(st, H2M_TOO_LARGE, ":protocol too long");
	memcpy(st->protocol_buf, v, n);
	st->protocol = (struct slice){ st->protocol_buf, (uint32_t)n };
	return 0;
}

/* :status: exactly three digits (RFC 9113 8.3.2), 100-599 (RFC 9110 15). */
static int h2m_status(struct h2m_state *st, struct http_msg *m, const uint8_t *v, size_t n)
{
	if (n != 3)
		return H2M_BAD(st, "invalid :status");
	for (size_t i = 0; i < 3; i++)
		if (v[i] < '0' || v[i] > '9')
			return H2M_BAD(st, "invalid :status");

	unsigned s = (unsigned)(v[0] - '0') * 100 + (unsigned)(v[1] - '0') * 10 +
		     (unsigned)(v[2] - '0');

	if (s < 100 || s > 599)
		return H2M_BAD(st, ":status out of range");
	m->status = (uint16_t)s;
	return 0;
}

/* Only in heads, only before the regular fields, only the ones of this
 * direction, each at most once (RFC 9113 8.3). */
static int h2m_pseudo(struct h2m_state *st, struct http_msg *m, const uint8_t *name, size_t nlen,
		      const uint8_t *v, size_t vlen)
{
	uint32_t bit;
	const char *bad;

	if (st->trailers)
		return H2M_BAD(st, "pseudo-header in trailers");
	if (st->regular)
		return H2M_BAD(st, "pseudo-header after a regular field");
	bit = h2m_pseudo_bit(name, nlen, st->response);
	if (!bit)
		return H2M_BAD(st, "unknown pseudo-header");
	if (st->pseudo & bit)
		return H2M_BAD(st, "repeated pseudo-header");
	bad = h2m_value_bad(v, vlen);
	if (bad)
		return H2M_BAD(st, bad);
	st->pseudo |= bit;
	switch (bit) {
	case H2M_P_METHOD:
		return h2m_method(st, m, v, vlen);
	case H2M_P_SCHEME:
		return h2m_scheme(st, v, vlen);
	case H2M_P_AUTHORITY:
		return h2m_authority(st, m, v, vlen);
	case H2M_P_PATH:
		return h2m_path(st, m, v, vlen);
	case H2M_P_PROTOCOL:
		return h2m_protocol(st, v, vlen);
	default:
		return h2m_status(st, m, v, vlen);
	}
}

/* ------------------------------------------------------------------------
 * Regular fields.
 */

/* Fields that only make sense on one connection (RFC 9113 8.2.2): a
 * message with one is malformed.  TE is judged apart. */
static bool h2m_conn_specific(enum http_hdr_id id)
{
	return id == HDR_CONNECTION || id == HDR_PROXY_CONNECTION || id == HDR_KEEP_ALIVE ||
	       id == HDR_TRANSFER_ENCODING || id == HDR_UPGRADE;
}

/* content-length (RFC 9110 8.6): digits only (HTTP/2 has no reason to send
 * the "N, N" list HTTP/1 tolerates), every field the same.  Nineteen digits
 * always fit in 64 bits, so the digit cap is the overflow check, as in
 * h1.c. */
static int h2m_content_length(struct h2m_state *st, struct slice v)
{
	uint64_t n = 0;

	if (v.len == 0 || v.len > 19)
		return H2M_BAD(st, "invalid content-length");
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return H2M_BAD(st, "invalid content-length");
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	if (st->has_cl && st->cl != n)
		return H2M_BAD(st, "conflicting content-length values");
	st->has_cl = true;
	st->cl = n;
	return 0;
}

/* Host next to or instead of :authority (RFC 9113 8.3.1): one only, as
 * h1.c has it, not empty, and valid.  Whether it agrees with :authority
 * is checked at the end. */
static int h2m_host(struct h2m_state *st, struct http_msg *m, const struct http_hdr *h)
{
	if (m->hdr_idx[HDR_HOST] != h - m->hdrs)
		return H2M_BAD(st, "several Host fields");
	if (!h1_host_valid(h->value.p, h->value.p + h->value.len, false))
		return H2M_BAD(st, "invalid Host");
	return 0;
}

/* Expect: 100-continue is flagged, as h1.c does, so the proxy can answer
 * it.  h1.c answers any other expectation with 417; an h2m call cannot ask
 * for a 417, and an unknown expectation is no framing ambiguity, so it is
 * forwarded for the server to refuse (RFC 9110 10.1.1 lets it). */
static void h2m_expect(struct http_msg *m, const struct http_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;
	struct slice el;

	while (h1_list_next(&p, e, &el))
		if (slice_ieq(el, SLICE_LIT("100-continue")))
			m->flags |= MSG_F_EXPECT_CONTINUE;
}

/* What a field of a request or response head tells. */
static int h2m_head_field(struct h2m_state *st, struct http_msg *m, struct http_hdr *h)
{
	switch (h->id) {
	case HDR_CONTENT_LENGTH:
		return h2m_content_length(st, h->value);
	case HDR_TE:
		/* hop-by-hop as in h1.c; the flag lets an encoder say it again */
		h->flags |= HDR_F_HOP;
		if (!st->response)
			m->flags |= MSG_F_TE_TRAILERS;
		return 0;
	case HDR_TRAILER:
		h->flags |= HDR_F_HOP;	/* as h1.c has it */
		return 0;
	case HDR_HOST:
		return st->response ? 0 : h2m_host(st, m, h);
	case HDR_EXPECT:
		if (!st->response)
			h2m_expect(m, h);
		return 0;
	default:
		return 0;
	}
}

/* Trailers may not carry framing, routing or request-control fields (RFC
 * 9110 6.5.1).  They are dropped, as h1.c drops them from chunked
 * trailers, so nothing downstream merges them into a head. */
static void h2m_trailer_field(struct http_msg *m, const struct http_hdr *h)
{
	switch (h->id) {
	case HDR_HOST:
	case HDR_CONTENT_LENGTH:
	case HDR_TE:
	case HDR_TRAILER:
	case HDR_EXPECT:
		msg_hdr_del_id(m, (enum http_hdr_id)h->id);
		break;
	default:
		break;
	}
}

static int h2m_regular(struct h2m_state *st, struct http_msg *m, const uint8_t *name,
		       size_t nlen, const uint8_t *v, size_t vlen)
{
	const char *bad = h2m_name_bad(name, nlen);

	if (!bad)
		bad = h2m_value_bad(v, vlen);
	if (bad)
		return H2M_BAD(st, bad);

	enum http_hdr_id id = msg_hdr_id((struct slice){ (const char *)name, (uint32_t)nlen });

	if (h2m_conn_specific(id))
		return H2M_BAD(st, "connection-specific field");
	/* RFC 9113 8.2.2: the one TE an HTTP/2 message may carry */
	if (id == HDR_TE && !slice_ieq((struct slice){ (const char *)v, (uint32_t)vlen },
				       SLICE_LIT("trailers")))
		return H2M_BAD(st, "te other than trailers");
	if (m->nhdrs >= HTTP_MAX_HDRS)
		return h2m_fail(st, H2M_TOO_LARGE, "too many header fields");
	st->regular = true;

	int i = m->nhdrs;
	struct slice sname = h2m_copy(m, name, nlen);

	if (!sname.p || msg_hdr_add_id(m, sname, SLICE_LIT(""), id) < 0)
		return H2M_FULL(st);
	/* The value is stored once the field is in the table: storing it may
	 * move the store, and then only the message's slices follow. */
	m->hdrs[i].value = h2m_copy(m, v, vlen);
	if (!m->hdrs[i].value.p)
		return H2M_FULL(st);
	if (st->trailers) {
		h2m_trailer_field(m, &m->hdrs[i]);
		return 0;
	}
	return h2m_head_field(st, m, &m->hdrs[i]);
}

void h2m_begin(struct h2m_state *st, struct http_msg *m, bool response, bool trailers)
{
	memset(st, 0, sizeof(*st));
	st->response = response;
	st->trailers = trailers;
}

int h2m_field(struct h2m_state *st, struct http_msg *m, const uint8_t *name, size_t nlen,
	      const uint8_t *value, size_t vlen)
{
	if (nlen == 0)
		return H2M_BAD(st, "empty field name");
	/* slices are 32-bit; the store's bound is far below anyway */
	if ((uint64_t)nlen > UINT32_MAX || (uint64_t)vlen > UINT32_MAX)
		return H2M_FULL(st);
	if (name[0] == ':')
		return h2m_pseudo(st, m, name, nlen, value, vlen);
	return h2m_regular(st, m, name, nlen, value, vlen);
}

/* ------------------------------------------------------------------------
 * The end of a request head.
 */

/* CONNECT (RFC 9113 8.5): :method and :authority only, the authority being
 * the host and port to connect to (the port is required, as h1.c requires
 * it of an authority-form target, RFC 9112 3.2.3). */
static int h2m_connect_target(struct h2m_state *st, struct http_msg *m)
{
	const char *a = m->authority.p;

	if (st->pseudo & (H2M_P_SCHEME | H2M_P_PATH))
		return H2M_BAD(st, "CONNECT with :scheme or :path");
	if (!(st->pseudo & H2M_P_AUTHORITY))
		return H2M_BAD(st, "CONNECT without :authority");
	if (!h1_host_valid(a, a + m->authority.len, true))
		return H2M_BAD(st, "CONNECT :authority is not host:port");
	m->target = m->authority;
	return 0;
}

/* path and query from an origin-form target, exactly as h1.c splits them:
 * query.p is NULL when there is no '?' at all. */
static void h2m_split_path(struct http_msg *m)
{
	const char *p = m->target.p, *e = p + m->target.len;
	const char *q = memchr(p, '?', m->target.len);

	m->path = (struct slice){ p, (uint32_t)((q ? q : e) - p) };
	if (q)
		m->query = (struct slice){ q + 1, (uint32_t)(e - q - 1) };
}

/* Every other request, extended CONNECT included (RFC 8441 4): :scheme and
 * :path, the path in origin-form, or "*" for OPTIONS (RFC 9113 8.3.1). */
static int h2m_request_target(struct h2m_state *st, struct http_msg *m)
{
	if ((st->pseudo & H2M_P_PROTOCOL) && m->meth != HTTP_METH_CONNECT)
		return H2M_BAD(st, ":protocol without CONNECT");
	if (!(st->pseudo & H2M_P_SCHEME))
		return H2M_BAD(st, "missing :scheme");
	if (!(st->pseudo & H2M_P_PATH))
		return H2M_BAD(st, "missing :path");
	if (m->target.len == 1 && m->target.p[0] == '*') {
		if (m->meth != HTTP_METH_OPTIONS)
			return H2M_BAD(st, "asterisk-form is only for OPTIONS");
		m->path = m->target;
		return 0;
	}
	if (m->target.p[0] != '/')
		return H2M_BAD(st, ":path is not origin-form");
	h2m_split_path(m);
	return 0;
}

/* http and https need :authority or Host, and both, when present, must
 * agree (RFC 9113 8.3.1).  The pipeline reads m->authority and an HTTP/1.1
 * server needs a Host: whichever is missing is made from the other.  The
 * added field is named "host", lowercase like every HTTP/2 name (names are
 * case-insensitive, and HTTP/1 encoders write them as stored). */
static int h2m_request_authority(struct h2m_state *st, struct http_msg *m)
{
	struct http_hdr *host = msg_hdr_by_id(m, HDR_HOST);

	if (st->pseudo & H2M_P_AUTHORITY) {
		if (!host)
			return msg_hdr_add_id(m, SLICE_LIT("host"), m->authority, HDR_HOST) < 0 ?
				       H2M_FULL(st) : 0;
		if (!slice_ieq(host->value, m->authority))
			return H2M_BAD(st, ":authority and Host differ");
		return 0;
	}
	if (!host)
		return H2M_BAD(st, "neither :authority nor Host");
	m->authority = host->value;
	return 0;
}

/* Writes the non-empty values of the cookie fields from index `first` on,
 * joined with "; ", to out; returns the length. */
static size_t h2m_cookie_concat(const struct http_msg *m, int first, char *out)
{
	size_t n = 0;

	for (int i = first; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];

		if (h->id != HDR_COOKIE || !h->value.len)
			continue;
		if (n) {
			memcpy(out + n, "; ", 2);
			n += 2;
		}
		memcpy(out + n, h->value.p, h->value.len);
		n += h->value.len;
	}
	return n;
}

/* Cookie crumbs (RFC 9113 8.2.3: HPACK compresses better when a client
 * splits Cookie) are joined into the first cookie field with "; " before
 * the message reaches anything that is not HTTP/2; the others are marked
 * deleted.  The joined value is built outside the store, since storing
 * bytes that are in the store could read them after it moved. */
static int h2m_join_cookies(struct h2m_state *st, struct http_msg *m)
{
	int first = m->hdr_idx[HDR_COOKIE], count = 0;
	size_t len = 0;

	for (int i = first < 0 ? m->nhdrs : first; i < m->nhdrs; i++) {
		if (m->hdrs[i].id != HDR_COOKIE)
			continue;
		count++;
		if (m->hdrs[i].value.len)
			len += m->hdrs[i].value.len + 2;
	}
	if (count < 2)
		return 0;
	len = len ? len - 2 : 0;

	char small[1024];
	char *buf = len <= sizeof(small) ? small : malloc(len);

	if (!buf)
		return H2M_FULL(st);
	h2m_cookie_concat(m, first, buf);

	struct slice joined = h2m_copy(m, (const uint8_t *)buf, len);

	if (buf != small)
		free(buf);
	if (!joined.p)
		return H2M_FULL(st);
	m->hdrs[first].value = joined;
	for (int i = first + 1; i < m->nhdrs; i++)
		if (m->hdrs[i].id == HDR_COOKIE)
			m->hdrs[i].flags |= HDR_F_DELETED;
	return 0;
}

/* What an HTTP/1.1 server is told about the body.  CONNECT, either kind,
 * has no content (RFC 9110 9.3.6): the DATA after its head are tunnel
 * bytes, so it gets no framing, and a length would describe a body with
 * no place to go (h1.c refuses the same). */
static int h2m_request_framing(struct h2m_state *st, struct http_msg *m, bool end_stream)
{
	m->body = BODY_NONE;
	m->content_length = 0;
	if (m->meth == HTTP_METH_CONNECT) {
		if (st->has_cl && st->cl)
			return H2M_BAD(st, "CONNECT with a body");
		return 0;
	}
	if (end_stream) {
		/* no DATA can follow: any other length is a lie (RFC 9113 8.1.1) */
		if (st->has_cl && st->cl)
			return H2M_BAD(st, "content-length with END_STREAM");
		return 0;
	}
	if (st->has_cl) {
		m->body = BODY_LENGTH;
		m->content_length = st->cl;
	} else {
		m->body = BODY_CHUNKED;
	}
	return 0;
}

int h2m_req_end(struct h2m_state *st, struct http_msg *m, bool end_stream)
{
	int rc;

	if (st->response || st->trailers)
		return H2M_BAD(st, "not a request head");
	if (!(st->pseudo & H2M_P_METHOD))
		return H2M_BAD(st, "missing :method");
	if (m->meth == HTTP_METH_CONNECT && !(st->pseudo & H2M_P_PROTOCOL))
		rc = h2m_connect_target(st, m);
	else
		rc = h2m_request_target(st, m);
	if (!rc)
		rc = h2m_request_authority(st, m);
	if (!rc)
		rc = h2m_join_cookies(st, m);
	if (!rc)
		rc = h2m_request_framing(st, m, end_stream);
	if (rc)
		return rc;
	m->version_major = 2;
	m->version_minor = 0;
	return 0;
}

/* ------------------------------------------------------------------------
 * The end of a response head.
 */

/* The reason phrase an HTTP/1.1 client gets: HTTP/2 carries none (RFC 9113
 * 8.3.2).  The usual ones, else empty, which RFC 9112 4 allows.  A table of
 * its own because http/ does not depend on proxy/ (http_status_reason). */
static struct slice h2m_reason(unsigned status)
{
	static const struct {
		uint16_t status;
		const char *text;
	} reasons[] = {
		{ 100, "Continue" },
		{ 103, "Early Hints" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 203, "Non-Authoritative Information" },
		{ 204, "No Content" },
		{ 205, "Reset Content" },
		{ 206, "Partial Content" },
		{ 300, "Multiple Choices" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 410, "Gone" },
		{ 411, "Length Required" },
		{ 412, "Precondition Failed" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 416, "Range Not Satisfiable" },
		{ 417, "Expectation Failed" },
		{ 421, "Misdirected Request" },
		{ 422, "Unprocessable Content" },
		{ 425, "Too Early" },
		{ 426, "Upgrade Required" },
		{ 428, "Precondition Required" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 451, "Unavailable For Legal Reasons" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return (struct slice){ reasons[i].text, (uint32_t)strlen(reasons[i].text) };
	return SLICE_LIT("");
}

/* RFC 9110 6.4.1 in the order h1.c applies it.  END_STREAM on a head that
 * may have content means it is empty: an HTTP/1.1 client is told so with
 * Content-Length: 0, cheaper for it than an empty chunked body. */
static int h2m_response_framing(struct h2m_state *st, struct http_msg *m, bool end_stream,
				uint8_t req_meth)
{
	unsigned s = m->status;

	m->content_length = 0;
	if (req_meth == HTTP_METH_HEAD || s < 200 || s == 204 || s == 304) {
		m->body = BODY_NONE;
		/* for HEAD and 304 the length describes the representation
		 * (RFC 9110 8.6): kept for the encoders to say again */
		if (st->has_cl && (req_meth == HTTP_METH_HEAD || s == 304)) {
			m->content_length = st->cl;
			m->flags |= MSG_F_KEEP_CL;
		}
		return 0;
	}
	/* a 2xx to CONNECT opens the tunnel; its length fields mean nothing
	 * (RFC 9110 9.3.6) */
	if (req_meth == HTTP_METH_CONNECT && s < 300) {
		m->body = BODY_TUNNEL;
		return 0;
	}
	if (end_stream) {
		if (st->has_cl && st->cl)
			return H2M_BAD(st, "content-length with END_STREAM");
		m->body = BODY_LENGTH;
	} else if (st->has_cl) {
		m->body = BODY_LENGTH;
		m->content_length = st->cl;
	} else {
		m->body = BODY_CHUNKED;
	}
	return 0;
}

int h2m_res_end(struct h2m_state *st, struct http_msg *m, bool end_stream, uint8_t req_meth)
{
	if (!st->response || st->trailers)
		return H2M_BAD(st, "not a response head");
	if (!(st->pseudo & H2M_P_STATUS))
		return H2M_BAD(st, "missing :status");
	/* HTTP/2 has no 101 (RFC 9113 8.6), and an interim response cannot
	 * end a stream (RFC 9113 8.1) */
	if (m->status == 101)
		return H2M_BAD(st, "101 in HTTP/2");
	if (m->status < 200 && end_stream)
		return H2M_BAD(st, "interim response with END_STREAM");

	int rc = h2m_response_framing(st, m, end_stream, req_meth);

	if (rc)
		return rc;
	m->flags |= MSG_F_RESPONSE;
	m->reason = h2m_reason(m->status);
	m->version_major = 2;
	m->version_minor = 0;
	return 0;
}

/* ------------------------------------------------------------------------
 * Encoding: a message as the name/value list nghttp2 submits.
 */

/* Where an encoder writes: entries, and the scratch bytes they may point
 * at (a length, not an end pointer: scratch may be NULL). */
struct h2m_out {
	struct h2m_nv *nv;
	int n;
	int max;
	char *s;
	size_t left;
};

enum h2m_kind { H2M_ENC_REQ, H2M_ENC_RES, H2M_ENC_TRL };

static bool h2m_put(struct h2m_out *o, const char *name, size_t nlen, const char *v, size_t vlen)
{
	if (o->n >= o->max)
		return false;

	struct h2m_nv *nv = &o->nv[o->n++];

	/* nghttp2_nv's pointers are not const, but nghttp2 only reads them */
	nv->name = (uint8_t *)(uintptr_t)name;
	nv->namelen = nlen;
	nv->value = (uint8_t *)(uintptr_t)(v ? v : "");
	nv->valuelen = vlen;
	nv->flags = 0;
	return true;
}

#define h2m_put_lit(o, n, v) h2m_put((o), (n), sizeof(n) - 1, (v), sizeof(v) - 1)

static char *h2m_scratch(struct h2m_out *o, size_t n)
{
	char *p = o->s;

	if (o->left < n)
		return NULL;
	o->s += n;
	o->left -= n;
	return p;
}

static bool h2m_put_u64(struct h2m_out *o, const char *name, size_t nlen, uint64_t v)
{
	char tmp[20];
	size_t k = sizeof(tmp);

	do {
		tmp[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);

	char *c = h2m_scratch(o, sizeof(tmp) - k);

	if (!c)
		return false;
	memcpy(c, tmp + k, sizeof(tmp) - k);
	return h2m_put(o, name, nlen, c, sizeof(tmp) - k);
}

/* A field with its name as HTTP/2 needs it, lowercase (RFC 9113 8.2.1):
 * pointed at where it is when it is lowercase already (every name that
 * came from HTTP/2), else a lowercased copy in scratch. */
static bool h2m_put_field(struct h2m_out *o, struct slice name, struct slice value)
{
	const char *n = name.p;
	uint32_t i = 0;

	while (i < name.len && !h2m_upper((unsigned char)name.p[i]))
		i++;
	if (i < name.len) {
		char *c = h2m_scratch(o, name.len);

		if (!c)
			return false;
		for (i = 0; i < name.len; i++)
			c[i] = (char)(h2m_upper((unsigned char)name.p[i]) ? name.p[i] | 0x20
									  : name.p[i]);
		n = c;
	}
	return h2m_put(o, n, name.len, value.p, value.len);
}

/* Fields never put in the list: deleted and hop-by-hop ones, the
 * connection-specific ones (RFC 9113 8.2.2), TE (said again from the flag,
 * see h2m_put_fields), Content-Length (regenerated from the framing), Host
 * (a request's is :authority; a response or trailer has no use for one),
 * and in trailers what h1.c drops from trailers (RFC 9110 6.5.1). */
static bool h2m_enc_skip(const struct http_hdr *h, enum h2m_kind kind)
{
	if (h->flags & (HDR_F_DELETED | HDR_F_HOP))
		return true;
	switch (h->id) {
	case HDR_CONNECTION:
	case HDR_KEEP_ALIVE:
	case HDR_PROXY_CONNECTION:
	case HDR_TRANSFER_ENCODING:
	case HDR_UPGRADE:
	case HDR_TE:
	case HDR_CONTENT_LENGTH:
		return true;
	case HDR_HOST:
		return true;
	case HDR_TRAILER:
	case HDR_EXPECT:
		return kind == H2M_ENC_TRL;
	default:
		return false;
	}
}

/* The regular fields, then content-length when the framing gives one. */
static bool h2m_put_fields(const struct http_msg *m, struct h2m_out *o, enum h2m_kind kind)
{
	/* "te: trailers" is the one TE HTTP/2 allows (RFC 9113 8.2.2): said
	 * once, where the first live TE field was, whatever else an HTTP/1
	 * TE listed (MSG_F_TE_TRAILERS: it listed trailers) */
	bool te = kind == H2M_ENC_REQ && (m->flags & MSG_F_TE_TRAILERS);

	for (int i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];

		if (te && h->id == HDR_TE && !(h->flags & HDR_F_DELETED)) {
			if (!h2m_put_lit(o, "te", "trailers"))
				return false;
			te = false;
			continue;
		}
		if (!h2m_enc_skip(h, kind) && !h2m_put_field(o, h->name, h->value))
			return false;
	}
	if (kind == H2M_ENC_TRL)
		return true;
	if (m->body == BODY_LENGTH ||
	    (kind == H2M_ENC_RES && m->body == BODY_NONE && (m->flags & MSG_F_KEEP_CL)))
		return h2m_put_u64(o, "content-length", 14, m->content_length);
	return true;
}

/* The authority, else (an HTTP/1.0 request may have none) the value of a
 * live Host field; nothing when neither is known. */
static bool h2m_put_authority(const struct http_msg *m, struct h2m_out *o)
{
	if (m->authority.len)
		return h2m_put(o, ":authority", 10, m->authority.p, m->authority.len);
	for (int i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];

		if (h->id == HDR_HOST && !(h->flags & (HDR_F_DELETED | HDR_F_HOP)))
			return h2m_put(o, ":authority", 10, h->value.p, h->value.len);
	}
	return true;
}

/* :path rebuilt from path and query as h1_enc.c rebuilds the target, so a
 * rule that rewrote msg->path is obeyed; a copy only when a query must be
 * appended. */
static bool h2m_put_path(const struct http_msg *m, struct h2m_out *o)
{
	struct slice p = m->path.len ? m->path : SLICE_LIT("/");

	if (!m->query.p)
		return h2m_put(o, ":path", 5, p.p, p.len);

	size_t n = (size_t)p.len + 1 + m->query.len;
	char *c = h2m_scratch(o, n);

	if (!c)
		return false;
	memcpy(c, p.p, p.len);
	c[p.len] = '?';
	if (m->query.len)
		memcpy(c + p.len + 1, m->query.p, m->query.len);
	return h2m_put(o, ":path", 5, c, n);
}

static struct h2m_out h2m_out_init(struct h2m_nv *nv, int max, char *scratch, size_t len)
{
	return (struct h2m_out){ nv, 0, max < 0 ? 0 : max, scratch, scratch ? len : 0 };
}

int h2m_encode_response(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len)
{
	struct h2m_out o = h2m_out_init(nv, max, scratch, scratch_len);

	/* three digits or nothing (RFC 9113 8.3.2) */
	if (m->status < 100 || m->status > 999)
		return -1;
	if (!h2m_put_u64(&o, ":status", 7, m->status) || !h2m_put_fields(m, &o, H2M_ENC_RES))
		return -1;
	return o.n;
}

int h2m_encode_request(const struct http_msg *m, struct slice scheme, struct h2m_nv *nv,
		       int max, char *scratch, size_t scratch_len)
{
	struct h2m_out o = h2m_out_init(nv, max, scratch, scratch_len);
	bool ok = h2m_put(&o, ":method", 7, m->method.p, m->method.len);

	/* CONNECT (RFC 9113 8.5): no :scheme nor :path, the target is the
	 * authority.  Extended CONNECT cannot be told from the message alone
	 * (its :protocol is in the decoder's state) and goes out plain. */
	if (m->meth == HTTP_METH_CONNECT)
		ok = ok && h2m_put(&o, ":authority", 10, m->target.p, m->target.len);
	else
		ok = ok && h2m_put(&o, ":scheme", 7, scheme.p, scheme.len) &&
		     h2m_put_authority(m, &o) && h2m_put_path(m, &o);
	if (!ok || !h2m_put_fields(m, &o, H2M_ENC_REQ))
		return -1;
	return o.n;
}

int h2m_encode_trailers(const struct http_msg *m, struct h2m_nv *nv, int max, char *scratch,
			size_t scratch_len)
{
	struct h2m_out o = h2m_out_init(nv, max, scratch, scratch_len);

	return h2m_put_fields(m, &o, H2M_ENC_TRL) ? o.n : -1;
}
