/*
 * fuzz_h2_msg.c - libFuzzer target for HTTP/2 header blocks <-> struct
 * http_msg (src/http/h2_msg.c).
 *
 * Input: a control byte, then fields, one a line ('\n' ends a field), the
 * name up to the first space, the value after it.  A backslash takes the
 * next byte literally, so a name or value can hold any byte (LF, space,
 * NUL) while seeds stay readable.  Control byte: bit 0 END_STREAM on the
 * head, bits 1-2 the method a response answers (GET, HEAD, CONNECT, POST),
 * bit 3 a 512-byte store (the H2M_TOO_LARGE paths).
 *
 * The same fields are decoded as a request head, a response head and
 * trailers, each field passed from a copy freed right after the call (as
 * nghttp2's buffers are), so ASan sees a slice that was not copied.  What
 * is asserted of whatever is accepted:
 *  - no name or value holds NUL, CR or LF or starts or ends with SP/HTAB,
 *    no name is empty or has uppercase, no connection-specific field and
 *    no TE but "trailers" is left;
 *  - request: a token method, an origin-form path (or "*" for OPTIONS, or
 *    CONNECT's authority), a non-empty authority that the one live Host
 *    repeats, at most one live cookie, framing as h2_msg.h promises;
 *    response: status 100-599 but 101, framing as promised;
 *  - the encoded list (room enough given) has pseudo-headers first, names
 *    lowercase, no connection-specific field, no host, a content-length
 *    exactly when the framing has one; and it decodes again to the same
 *    message (extended CONNECT aside: its :protocol is not in the message);
 *  - the HTTP/1.1 head h1_enc.c writes for an accepted request is accepted
 *    by h1.c with the same method, path, query, authority and framing (h2
 *    -> h1 smuggling), an unknown Expect (417 from h1.c) aside;
 *  - the other way (an HTTP/1.1 server answering an HTTP/2 client, later
 *    an HTTP/2 server behind an HTTP/1.1 client): the input after the
 *    control byte, when h1.c accepts it as a head, encodes to a list with
 *    the properties above that decodes again to the same status or
 *    request line and framing.
 *
 * FUZZ_SOURCES: src/http/h2_msg.c src/http/h1.c src/http/h1_enc.c src/http/msg.c
 * FUZZ_LIBS:
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1.h"
#include "http/h2_msg.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

#define MAX_FIELDS 160		/* past HTTP_MAX_HDRS, to reach the bound */
#define NV_MAX (HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 8)

struct field {
	const uint8_t *n, *v;
	size_t nl, vl;
};

static struct http_msg m_big, m_small, m2, m3;
static struct h2m_state st;
static struct h2m_nv nv[NV_MAX];
static char scratch[MSG_STORE_MAX * 2 + 4096];
static char h1out[MSG_STORE_MAX * 2 + 65536];

static const uint8_t req_meths[] = { HTTP_METH_GET, HTTP_METH_HEAD, HTTP_METH_CONNECT,
				     HTTP_METH_POST };

/* Splits the input (unescaped in buf) into fields; returns how many. */
static int parse_input(const uint8_t *d, size_t n, uint8_t *buf, struct field *f)
{
	size_t o = 0;
	int nf = 0;
	bool in_value = false;

	f[0] = (struct field){ buf, NULL, 0, 0 };
	for (size_t i = 0; i < n && nf < MAX_FIELDS; i++) {
		uint8_t c = d[i];

		if (c == '\\' && i + 1 < n) {
			c = d[++i];
		} else if (c == '\n') {
			if (!in_value)
				f[nf].v = buf + o;
			nf++;
			f[nf] = (struct field){ buf + o, NULL, 0, 0 };
			in_value = false;
			continue;
		} else if (c == ' ' && !in_value) {
			in_value = true;
			f[nf].v = buf + o;
			continue;
		}
		buf[o++] = c;
		if (in_value)
			f[nf].vl++;
		else
			f[nf].nl++;
	}
	if (nf < MAX_FIELDS && (f[nf].nl || in_value)) {
		if (!in_value)
			f[nf].v = buf + o;
		nf++;
	}
	return nf;
}

static int feed_one(struct http_msg *m, const struct field *f)
{
	/* nghttp2's buffers go when the callback returns: so do these */
	uint8_t *n = malloc(f->nl + 1), *v = malloc(f->vl + 1);

	memcpy(n, f->n, f->nl);
	memcpy(v, f->v, f->vl);

	int rc = h2m_field(&st, m, n, f->nl, v, f->vl);

	free(n);
	free(v);
	FUZZ_ASSERT(rc == H2M_OK || rc == H2M_MALFORMED || rc == H2M_TOO_LARGE);
	FUZZ_ASSERT(rc == H2M_OK || st.reason);
	return rc;
}

static int decode(struct http_msg *m, const struct field *f, int nf, bool response,
		  bool trailers)
{
	msg_reset(m);
	h2m_begin(&st, m, response, trailers);
	for (int i = 0; i < nf; i++) {
		int rc = feed_one(m, &f[i]);

		if (rc)
			return rc;
	}
	return 0;
}

static bool is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static bool conn_specific(enum http_hdr_id id)
{
	return id == HDR_CONNECTION || id == HDR_PROXY_CONNECTION || id == HDR_KEEP_ALIVE ||
	       id == HDR_TRANSFER_ENCODING || id == HDR_UPGRADE;
}

static void check_value(struct slice v)
{
	FUZZ_ASSERT(v.p != NULL);
	for (uint32_t i = 0; i < v.len; i++)
		FUZZ_ASSERT(v.p[i] != 0 && v.p[i] != '\r' && v.p[i] != '\n');
	if (v.len)
		FUZZ_ASSERT(v.p[0] != ' ' && v.p[0] != '\t' && v.p[v.len - 1] != ' ' &&
			    v.p[v.len - 1] != '\t');
}

/* What every accepted block holds, head or trailers. */
static void check_fields(const struct http_msg *m)
{
	FUZZ_ASSERT(m->nhdrs <= HTTP_MAX_HDRS + 1);
	for (int i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];

		FUZZ_ASSERT(h->name.len > 0 && h->name.p[0] != ':');
		for (uint32_t k = 0; k < h->name.len; k++)
			FUZZ_ASSERT(!is_upper((uint8_t)h->name.p[k]));
		check_value(h->name);
		check_value(h->value);
		FUZZ_ASSERT(h->id == msg_hdr_id(h->name));
		FUZZ_ASSERT(!conn_specific((enum http_hdr_id)h->id));
		if (h->id == HDR_TE)
			FUZZ_ASSERT(slice_ieq(h->value, SLICE_LIT("trailers")));
	}
}

static int live(const struct http_msg *m, enum http_hdr_id id, const struct http_hdr **first)
{
	int n = 0;

	for (int i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == id && !(m->hdrs[i].flags & HDR_F_DELETED)) {
			if (!n && first)
				*first = &m->hdrs[i];
			n++;
		}
	return n;
}

static bool is_token(struct slice s)
{
	for (uint32_t i = 0; i < s.len; i++) {
		uint8_t c = (uint8_t)s.p[i];

		if (!((c >= 'a' && c <= 'z') || is_upper(c) || (c >= '0' && c <= '9') ||
		      (c && strchr("!#$%&'*+-.^_`|~", c))))
			return false;
	}
	return s.len > 0;
}

static void check_request(const struct http_msg *m, bool end_stream)
{
	const struct http_hdr *host = NULL;

	check_fields(m);
	FUZZ_ASSERT(m->version_major == 2 && m->version_minor == 0);
	FUZZ_ASSERT(is_token(m->method) && m->meth == msg_meth(m->method));
	if (st.pseudo & H2M_P_SCHEME)
		FUZZ_ASSERT(slice_eq(st.scheme, SLICE_LIT("http")) ||
			    slice_eq(st.scheme, SLICE_LIT("https")));
	else
		FUZZ_ASSERT(st.scheme.len == 0);
	FUZZ_ASSERT(m->authority.len > 0);
	FUZZ_ASSERT(live(m, HDR_HOST, &host) == 1 && slice_ieq(host->value, m->authority));
	FUZZ_ASSERT(live(m, HDR_COOKIE, NULL) <= 1);
	if (m->meth == HTTP_METH_CONNECT && !st.protocol.len) {
		FUZZ_ASSERT(m->target.p == m->authority.p && m->target.len == m->authority.len);
		FUZZ_ASSERT(m->path.len == 0 && m->query.p == NULL);
	} else if (m->target.len == 1 && m->target.p[0] == '*') {
		FUZZ_ASSERT(m->meth == HTTP_METH_OPTIONS && m->path.p == m->target.p);
	} else {
		FUZZ_ASSERT(m->target.len && m->target.p[0] == '/' && m->path.p == m->target.p);
		for (uint32_t i = 0; i < m->target.len; i++)
			FUZZ_ASSERT(m->target.p[i] > ' ' && m->target.p[i] < 0x7f &&
				    m->target.p[i] != '#');
		FUZZ_ASSERT(m->path.len + (m->query.p ? 1 + m->query.len : 0) == m->target.len);
	}
	if (st.protocol.len)
		FUZZ_ASSERT(m->meth == HTTP_METH_CONNECT && st.protocol.len <= H2M_PROTOCOL_MAX);
	if (end_stream || m->meth == HTTP_METH_CONNECT)
		FUZZ_ASSERT(m->body == BODY_NONE && m->content_length == 0);
	else if (m->hdr_idx[HDR_CONTENT_LENGTH] >= 0)
		FUZZ_ASSERT(m->body == BODY_LENGTH && m->content_length == st.cl);
	else
		FUZZ_ASSERT(m->body == BODY_CHUNKED);
}

static void check_response(const struct http_msg *m, bool end_stream, uint8_t rm)
{
	unsigned s = m->status;

	check_fields(m);
	FUZZ_ASSERT(s >= 100 && s <= 599 && s != 101 && (m->flags & MSG_F_RESPONSE));
	FUZZ_ASSERT(m->version_major == 2 && m->reason.p);
	if (rm == HTTP_METH_HEAD || s < 200 || s == 204 || s == 304) {
		FUZZ_ASSERT(m->body == BODY_NONE);
		FUZZ_ASSERT(!!(m->flags & MSG_F_KEEP_CL) ==
			    (st.has_cl && (rm == HTTP_METH_HEAD || s == 304)));
	} else if (rm == HTTP_METH_CONNECT && s < 300) {
		FUZZ_ASSERT(m->body == BODY_TUNNEL);
	} else if (end_stream) {
		FUZZ_ASSERT(m->body == BODY_LENGTH && m->content_length == 0);
	} else {
		FUZZ_ASSERT(m->body == (st.has_cl ? BODY_LENGTH : BODY_CHUNKED));
		FUZZ_ASSERT(m->content_length == (st.has_cl ? st.cl : 0));
	}
}

/* The encoded list: pseudo-headers first, names lowercase, nothing an
 * HTTP/2 peer must refuse, content-length exactly when `cl` says. */
static void check_list(int n, bool cl_expected, uint64_t cl)
{
	bool regular = false;
	int ncl = 0;

	FUZZ_ASSERT(n >= 0);
	for (int i = 0; i < n; i++) {
		struct slice name = { (const char *)nv[i].name, (uint32_t)nv[i].namelen };
		struct slice value = { (const char *)nv[i].value, (uint32_t)nv[i].valuelen };

		FUZZ_ASSERT(name.len > 0 && nv[i].flags == 0);
		check_value(name);
		check_value(value);
		for (uint32_t k = 0; k < name.len; k++)
			FUZZ_ASSERT(!is_upper((uint8_t)name.p[k]));
		if (name.p[0] == ':') {
			FUZZ_ASSERT(!regular);
			continue;
		}
		regular = true;

		enum http_hdr_id id = msg_hdr_id(name);

		FUZZ_ASSERT(!conn_specific(id) && id != HDR_HOST);
		if (id == HDR_TE)
			FUZZ_ASSERT(slice_eq(value, SLICE_LIT("trailers")));
		if (id == HDR_CONTENT_LENGTH) {
			uint64_t v = 0;

			for (uint32_t k = 0; k < value.len; k++)
				v = v * 10 + (uint64_t)(value.p[k] - '0');
			FUZZ_ASSERT(v == cl);
			ncl++;
		}
	}
	FUZZ_ASSERT(ncl == (cl_expected ? 1 : 0));
}

/* The list decodes again into m2, to the same message. */
static int redecode(int n, bool response, bool end_stream, uint8_t rm)
{
	msg_reset(&m2);
	h2m_begin(&st, &m2, response, false);
	for (int i = 0; i < n; i++) {
		int rc = h2m_field(&st, &m2, nv[i].name, nv[i].namelen, nv[i].value,
				   nv[i].valuelen);

		if (rc)
			return rc;
	}
	return response ? h2m_res_end(&st, &m2, end_stream, rm) : h2m_req_end(&st, &m2, end_stream);
}

/* Field lines of an HTTP/1 head: its lines but the start line and the
 * empty one (the framing line h1_enc.c adds counts, as h1.c counts it). */
static int h1_field_lines(const char *p, int len)
{
	int n = -2;

	for (int i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* h2 -> h1: what h1_enc.c writes for the request, h1.c reads the same. */
static void check_h1(const struct http_msg *m)
{
	static const struct h1_limits big = { .max_head = sizeof(h1out),
					      .max_target = sizeof(h1out), .max_hdrs = 100 };
	struct h1_parser ps;
	struct h1_err err = { 0 };
	int len = h1_encode_request(m, NULL, 0, h1out, sizeof(h1out));

	FUZZ_ASSERT(len > 0);
	/* HTTP_MAX_HDRS fields and the Host and framing lines added can pass
	 * the parser's bound: not what is tested here */
	if (h1_field_lines(h1out, len) > big.max_hdrs)
		return;
	msg_reset(&m3);
	h1_parser_reset(&ps);

	int rc = h1_parse_request(&ps, h1out, (size_t)len, &m3, &big, &err);

	if (rc == H1_ERROR && err.status == 417 && m->hdr_idx[HDR_EXPECT] >= 0)
		return;
	FUZZ_ASSERT(rc == H1_DONE && ps.head_len == (uint32_t)len);
	/* The Host line h1_enc.c forwards is the request's own Host field,
	 * which h2_msg.c accepted as the :authority's equal ignoring case
	 * (RFC 9113 8.3.1 compares them normalised, RFC 3986 6.2.2.1: a host
	 * is case-insensitive), so the authority comes back in either case. */
	FUZZ_ASSERT(slice_eq(m3.method, m->method) && slice_eq(m3.path, m->path) &&
		    slice_eq(m3.query, m->query) && (m3.query.p == NULL) == (m->query.p == NULL) &&
		    slice_ieq(m3.authority, m->authority));
	FUZZ_ASSERT(m3.body == m->body && m3.content_length == m->content_length);
}

static void fuzz_request(struct http_msg *m, const struct field *f, int nf, bool end_stream)
{
	if (decode(m, f, nf, false, false) || h2m_req_end(&st, m, end_stream))
		return;
	check_request(m, end_stream);

	bool extended = st.protocol.len > 0;
	int n = h2m_encode_request(m, SLICE_LIT("https"), nv, NV_MAX, scratch, sizeof(scratch));

	check_list(n, m->body == BODY_LENGTH, m->content_length);
	if (!extended) {
		check_h1(m);
		FUZZ_ASSERT(redecode(n, false, end_stream, 0) == H2M_OK);
		FUZZ_ASSERT(slice_eq(m2.method, m->method) && slice_eq(m2.target, m->target) &&
			    slice_eq(m2.path, m->path) && slice_eq(m2.query, m->query) &&
			    (m2.query.p == NULL) == (m->query.p == NULL) &&
			    slice_ieq(m2.authority, m->authority));
		FUZZ_ASSERT(m2.body == m->body && m2.content_length == m->content_length &&
			    m2.flags == m->flags);
	}
}

static void fuzz_response(struct http_msg *m, const struct field *f, int nf, bool end_stream,
			  uint8_t rm)
{
	if (decode(m, f, nf, true, false) || h2m_res_end(&st, m, end_stream, rm))
		return;
	check_response(m, end_stream, rm);

	int n = h2m_encode_response(m, nv, NV_MAX, scratch, sizeof(scratch));
	bool cl = m->body == BODY_LENGTH || (m->body == BODY_NONE && (m->flags & MSG_F_KEEP_CL));

	check_list(n, cl, m->content_length);
	FUZZ_ASSERT(n > 0 && nv[0].namelen == 7 && memcmp(nv[0].name, ":status", 7) == 0);
	FUZZ_ASSERT(redecode(n, true, end_stream, rm) == H2M_OK);
	FUZZ_ASSERT(m2.status == m->status && m2.body == m->body &&
		    m2.content_length == m->content_length && m2.flags == m->flags &&
		    slice_eq(m2.reason, m->reason));
}

static void fuzz_trailers(struct http_msg *m, const struct field *f, int nf)
{
	if (decode(m, f, nf, false, true))
		return;
	check_fields(m);
	FUZZ_ASSERT(m->hdr_idx[HDR_HOST] < 0 && m->hdr_idx[HDR_CONTENT_LENGTH] < 0 &&
		    m->hdr_idx[HDR_TE] < 0 && m->flags == 0);

	int n = h2m_encode_trailers(m, nv, NV_MAX, scratch, sizeof(scratch));

	check_list(n, false, 0);
	for (int i = 0; i < n; i++)
		FUZZ_ASSERT(nv[i].name[0] != ':');
}

/* An HTTP/1.1 response as an HTTP/2 list, decoded again.  101 aside
 * (HTTP/2 has none: the codec handles it), and a body delimited by the
 * close becomes a DATA stream, which a decoder calls chunked. */
static void from_h1_response(const struct http_msg *m, uint8_t rm)
{
	int n = h2m_encode_response(m, nv, NV_MAX, scratch, sizeof(scratch));
	bool cl = m->body == BODY_LENGTH || (m->body == BODY_NONE && (m->flags & MSG_F_KEEP_CL));

	check_list(n, cl, m->content_length);
	if (m->status == 101)
		return;

	bool end_stream = m->body == BODY_NONE && m->status >= 200;

	FUZZ_ASSERT(redecode(n, true, end_stream, rm) == H2M_OK);
	FUZZ_ASSERT(m2.status == m->status && m2.content_length == m->content_length);
	FUZZ_ASSERT(m2.body == (m->body == BODY_UNTIL_CLOSE ? BODY_CHUNKED : m->body));
}

/* An HTTP/1.1 request as an HTTP/2 list, decoded again when it names an
 * authority (an HTTP/1.0 request may not).  CONNECT's "Content-Length: 0"
 * (BODY_LENGTH 0 in h1.c) has no body in HTTP/2. */
static void from_h1_request(const struct http_msg *m)
{
	int n = h2m_encode_request(m, SLICE_LIT("https"), nv, NV_MAX, scratch, sizeof(scratch));

	check_list(n, m->body == BODY_LENGTH, m->content_length);
	if (!m->authority.len)
		return;
	FUZZ_ASSERT(redecode(n, false, m->body == BODY_NONE, 0) == H2M_OK);
	FUZZ_ASSERT(slice_eq(m2.method, m->method) && slice_eq(m2.path, m->path) &&
		    slice_eq(m2.query, m->query) && (m2.query.p == NULL) == (m->query.p == NULL) &&
		    slice_ieq(m2.authority, m->authority));
	if (m->meth != HTTP_METH_CONNECT)
		FUZZ_ASSERT(m2.body == m->body && m2.content_length == m->content_length);
}

static void fuzz_from_h1(const uint8_t *d, size_t n, uint8_t rm)
{
	static const struct h1_limits lim = { .max_head = 16384, .max_target = 4096,
					      .max_hdrs = 100 };
	struct h1_parser ps;

	msg_reset(&m3);
	h1_parser_reset(&ps);
	if (h1_parse_request(&ps, (const char *)d, n, &m3, &lim, NULL) == H1_DONE)
		from_h1_request(&m3);
	msg_reset(&m3);
	h1_parser_reset(&ps);
	if (h1_parse_response(&ps, (const char *)d, n, &m3, (enum http_meth)rm, &lim, NULL) ==
	    H1_DONE)
		from_h1_response(&m3, rm);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct field f[MAX_FIELDS + 1];

	if (n == 0)
		return 0;
	if (!m_small.st.max) {
		msg_init(&m_small, 512);
		msg_init(&m_big, 0);
		msg_init(&m2, 0);
		msg_init(&m3, 0);
	}

	uint8_t ctl = d[0];
	bool end_stream = ctl & 1;
	uint8_t rm = req_meths[(ctl >> 1) & 3];
	struct http_msg *m = (ctl & 8) ? &m_small : &m_big;
	uint8_t *buf = malloc(n);
	int nf = parse_input(d + 1, n - 1, buf, f);

	fuzz_request(m, f, nf, end_stream);
	fuzz_response(m, f, nf, end_stream, rm);
	fuzz_trailers(m, f, nf);
	fuzz_from_h1(d + 1, n - 1, rm);
	free(buf);
	return 0;
}
