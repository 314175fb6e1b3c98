/*
 * test_h2_msg.c - unit tests of HTTP/2 header blocks <-> struct http_msg
 * (src/http/h2_msg.c).
 *
 * The decoder is what stands between an HTTP/2 client and an HTTP/1.1
 * server, so each of its rules is pinned by a case that must be refused
 * and one that must pass; then the framing decisions, the Host/:authority
 * and Cookie handling, the bounds, and the encoder (alone, from an
 * HTTP/1.1 head, and in a decode -> encode -> decode round trip).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "http/h1.h"
#include "http/h2_msg.h"

static struct http_msg m;
static struct h2m_state st;

/* ------------------------------------------------------------------------
 * Helpers
 */
static int field_n(const char *n, size_t nl, const char *v, size_t vl)
{
	return h2m_field(&st, &m, (const uint8_t *)n, nl, (const uint8_t *)v, vl);
}

static int field(const char *n, const char *v)
{
	return field_n(n, strlen(n), v, strlen(v));
}

/* Starts a block and feeds kv (name, value, ..., NULL) until one fails. */
static int feed(bool response, bool trailers, const char *const *kv)
{
	msg_reset(&m);
	h2m_begin(&st, &m, response, trailers);
	for (; *kv; kv += 2) {
		int rc = field(kv[0], kv[1]);

		if (rc)
			return rc;
	}
	return 0;
}

static int req(bool end_stream, const char *const *kv)
{
	int rc = feed(false, false, kv);

	return rc ? rc : h2m_req_end(&st, &m, end_stream);
}

static int res(bool end_stream, uint8_t req_meth, const char *const *kv)
{
	int rc = feed(true, false, kv);

	return rc ? rc : h2m_res_end(&st, &m, end_stream, req_meth);
}

#define REQ(es, ...)	    req((es), (const char *const[]){ __VA_ARGS__, NULL })
#define RES(es, rm, ...)    res((es), (rm), (const char *const[]){ __VA_ARGS__, NULL })
#define TRL(...)	    feed(false, true, (const char *const[]){ __VA_ARGS__, NULL })

/* A request head that passes, to which a case adds one thing. */
#define BASE ":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/"

#define BAD(expr) do { \
	st.reason = NULL; \
	CHECK_EQ_INT((expr), H2M_MALFORMED); \
	CHECK(st.reason != NULL); \
} while (0)

#define FULL(expr) do { \
	st.reason = NULL; \
	CHECK_EQ_INT((expr), H2M_TOO_LARGE); \
	CHECK(st.reason != NULL); \
} while (0)

#define OK(expr) CHECK_EQ_INT((expr), H2M_OK)

static bool sl_is(struct slice s, const char *c)
{
	return s.len == strlen(c) && (s.len == 0 || memcmp(s.p, c, s.len) == 0);
}

static int live_in(const struct http_msg *msg, enum http_hdr_id id)
{
	int n = 0;

	for (int i = 0; i < msg->nhdrs; i++)
		if (msg->hdrs[i].id == id && !(msg->hdrs[i].flags & HDR_F_DELETED))
			n++;
	return n;
}

#define live_count(id) live_in(&m, (id))

static bool has_upper(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return true;
	return false;
}

static const struct http_hdr *hdr(const char *name)
{
	int pos = 0;

	return msg_hdr_find(&m, (struct slice){ name, (uint32_t)strlen(name) }, &pos);
}

/* Encoded lists as "name: value\n" lines, to compare in one CHECK_STR. */
static char listing[8192];

static const char *list_str(const struct h2m_nv *nv, int n)
{
	size_t o = 0;

	listing[0] = 0;
	for (int i = 0; i < n && o < sizeof(listing); i++)
		o += (size_t)snprintf(listing + o, sizeof(listing) - o, "%.*s: %.*s\n",
				      (int)nv[i].namelen, (const char *)nv[i].name,
				      (int)nv[i].valuelen, (const char *)nv[i].value);
	return listing;
}

static struct h2m_nv nv[HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 8];
static char scratch[16384];

static const char *enc_req(const struct http_msg *msg)
{
	int n = h2m_encode_request(msg, SLICE_LIT("https"), nv, (int)(sizeof(nv) / sizeof(nv[0])),
				   scratch, sizeof(scratch));

	return n < 0 ? "(failed)" : list_str(nv, n);
}

static const char *enc_res(const struct http_msg *msg)
{
	int n = h2m_encode_response(msg, nv, (int)(sizeof(nv) / sizeof(nv[0])), scratch,
				    sizeof(scratch));

	return n < 0 ? "(failed)" : list_str(nv, n);
}

/* ------------------------------------------------------------------------
 * Requests: what a plain GET becomes
 */
TEST(t_get)
{
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a.example",
	       ":path", "/index.html?x=1", "user-agent", "t", "accept", "*/*"));
	CHECK(sl_is(m.method, "GET"));
	CHECK_EQ_INT(m.meth, HTTP_METH_GET);
	CHECK(sl_is(m.target, "/index.html?x=1"));
	CHECK(sl_is(m.path, "/index.html"));
	CHECK(sl_is(m.query, "x=1"));
	CHECK(sl_is(m.authority, "a.example"));
	CHECK(sl_is(st.scheme, "https"));
	CHECK_EQ_INT(st.protocol.len, 0);
	CHECK_EQ_INT(m.version_major, 2);
	CHECK_EQ_INT(m.version_minor, 0);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.flags, 0);
	/* the two fields, then the Host made from :authority */
	CHECK_EQ_INT(m.nhdrs, 3);
	CHECK(sl_is(m.hdrs[0].name, "user-agent"));
	CHECK(sl_is(m.hdrs[0].value, "t"));
	CHECK(sl_is(m.hdrs[2].name, "host"));
	CHECK(sl_is(m.hdrs[2].value, "a.example"));
	CHECK_EQ_INT(m.hdr_idx[HDR_HOST], 2);
	CHECK_EQ_INT(m.hdrs[2].id, HDR_HOST);
	CHECK(hdr("Accept") != NULL);
	/* other methods resolve too; unknown ones are OTHER */
	OK(REQ(true, ":method", "DELETE", ":scheme", "http", ":authority", "a", ":path", "/"));
	CHECK_EQ_INT(m.meth, HTTP_METH_DELETE);
	CHECK(sl_is(st.scheme, "http"));
	OK(REQ(true, ":method", "PROPFIND", ":scheme", "http", ":authority", "a", ":path", "/"));
	CHECK_EQ_INT(m.meth, HTTP_METH_OTHER);
	CHECK(sl_is(m.method, "PROPFIND"));
}

/* Pseudo-headers may come in any order among themselves. */
TEST(t_pseudo_order)
{
	OK(REQ(true, ":path", "/p", ":authority", "a", ":scheme", "https", ":method", "HEAD"));
	CHECK_EQ_INT(m.meth, HTTP_METH_HEAD);
	CHECK(sl_is(m.path, "/p"));
}

TEST(t_path_query)
{
	OK(REQ(true, BASE, "x", "y"));
	CHECK(sl_is(m.path, "/"));
	CHECK(m.query.p == NULL && m.query.len == 0);
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/p?"));
	CHECK(sl_is(m.path, "/p"));
	CHECK(m.query.p != NULL && m.query.len == 0);
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path",
	       "/a/b?x=1&y=%20?z"));
	CHECK(sl_is(m.path, "/a/b"));
	CHECK(sl_is(m.query, "x=1&y=%20?z"));
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/?q"));
	CHECK(sl_is(m.path, "/"));
	CHECK(sl_is(m.query, "q"));
	/* asterisk-form for OPTIONS only */
	OK(REQ(true, ":method", "OPTIONS", ":scheme", "https", ":authority", "a", ":path", "*"));
	CHECK(sl_is(m.path, "*"));
	CHECK(sl_is(m.target, "*"));
	CHECK(m.query.p == NULL);
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "*"));
	/* origin-form only, never empty, VCHAR only, no fragment */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "a/b"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path",
		"http://a/b"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", ""));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/a b"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/a\tb"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/a#f"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/\x80"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/\x7f"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "*x"));
}

TEST(t_method)
{
	BAD(REQ(true, ":method", "G T", ":scheme", "https", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "", ":scheme", "https", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "GET/", ":scheme", "https", ":authority", "a", ":path", "/"));
	/* methods are case-sensitive tokens: lowercase is a valid unknown one */
	OK(REQ(true, ":method", "get", ":scheme", "https", ":authority", "a", ":path", "/"));
	CHECK_EQ_INT(m.meth, HTTP_METH_OTHER);
}

/* ------------------------------------------------------------------------
 * Field syntax (RFC 9113 8.2.1)
 */
TEST(t_names)
{
	BAD(REQ(true, BASE, "X-Upper", "v"));
	CHECK_STR(st.reason, "uppercase in field name");
	BAD(REQ(true, BASE, "x-uPper", "v"));
	BAD(REQ(true, BASE, "", "v"));
	BAD(REQ(true, BASE, "a b", "v"));
	BAD(REQ(true, BASE, "a:b", "v"));
	BAD(REQ(true, BASE, "x(", "v"));
	BAD(REQ(true, BASE, "x\x80", "v"));
	feed(false, false, (const char *const[]){ BASE, NULL });
	BAD(field_n("x\0y", 3, "v", 1));
	OK(REQ(true, BASE, "x-foo_1~!#$%&'*+.^`|", "v"));
	CHECK(sl_is(m.hdrs[0].name, "x-foo_1~!#$%&'*+.^`|"));
	/* and the same holds in responses and trailers */
	BAD(RES(false, HTTP_METH_GET, ":status", "200", "Server", "x"));
	BAD(TRL("Grpc-Status", "0"));
	OK(TRL("grpc-status", "0"));
}

TEST(t_values)
{
	static const char *const bad[] = { "a\rb", "a\nb", "\r", "a\x01", "\x7f", " a",
					   "a ", "\ta", "a\t", " " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		BAD(REQ(true, BASE, "x", bad[i]));
	/* NUL needs an explicit length */
	feed(false, false, (const char *const[]){ BASE, NULL });
	BAD(field_n("x", 1, "a\0b", 3));
	feed(false, false, (const char *const[]){ BASE, NULL });
	BAD(field_n("x", 1, "\0", 1));
	/* pseudo-header values follow the same rules */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", " a", ":path", "/"));
	BAD(REQ(true, ":method", "GET ", ":scheme", "https", ":authority", "a", ":path", "/"));
	/* inner SP and HTAB, obs-text and empty values pass */
	OK(REQ(true, BASE, "x", "a b\tc", "y", "\xc3\xa9t\xc3\xa9", "z", ""));
	CHECK(sl_is(hdr("x")->value, "a b\tc"));
	CHECK(sl_is(hdr("y")->value, "\xc3\xa9t\xc3\xa9"));
	CHECK(hdr("z")->value.p != NULL && hdr("z")->value.len == 0);
}

/* ------------------------------------------------------------------------
 * Pseudo-headers (RFC 9113 8.3)
 */
TEST(t_pseudo_rules)
{
	BAD(REQ(true, BASE, ":foo", "x"));
	BAD(REQ(true, ":foo", "x", BASE));
	BAD(REQ(true, ":", "x", BASE));
	BAD(REQ(true, ":Method", "GET", ":scheme", "https", ":authority", "a", ":path", "/"));
	/* the other direction's */
	BAD(REQ(true, ":status", "200", BASE));
	BAD(RES(false, HTTP_METH_GET, ":status", "200", ":method", "GET"));
	BAD(RES(false, HTTP_METH_GET, ":path", "/", ":status", "200"));
	/* each once */
	BAD(REQ(true, BASE, ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":method", "GET", ":scheme", "https", ":authority", "a",
		":path", "/"));
	BAD(RES(false, HTTP_METH_GET, ":status", "200", ":status", "200"));
	/* all before the regular fields */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", "x", "y", ":authority", "a", ":path",
		"/"));
	BAD(RES(false, HTTP_METH_GET, "x", "y", ":status", "200"));
	/* none in trailers */
	BAD(TRL(":status", "200"));
	BAD(TRL("x", "y", ":path", "/"));
	OK(TRL("x", "y"));
}

TEST(t_required)
{
	BAD(REQ(true, ":scheme", "https", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a"));
	BAD(REQ(true, "x", "y"));
	/* http and https only, in any case */
	BAD(REQ(true, ":method", "GET", ":scheme", "ftp", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "", ":authority", "a", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "httpss", ":authority", "a", ":path", "/"));
	OK(REQ(true, ":method", "GET", ":scheme", "HTTPS", ":authority", "a", ":path", "/"));
	CHECK(sl_is(st.scheme, "https"));
	/* a block must be ended as what it was begun as */
	feed(true, false, (const char *const[]){ ":status", "200", NULL });
	BAD(h2m_req_end(&st, &m, true));
	feed(false, false, (const char *const[]){ BASE, NULL });
	BAD(h2m_res_end(&st, &m, true, HTTP_METH_GET));
}

TEST(t_connect)
{
	OK(REQ(false, ":method", "CONNECT", ":authority", "a.example:443"));
	CHECK_EQ_INT(m.meth, HTTP_METH_CONNECT);
	CHECK(sl_is(m.target, "a.example:443"));
	CHECK(sl_is(m.authority, "a.example:443"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(m.path.len == 0 && m.query.p == NULL);
	CHECK(sl_is(hdr("host")->value, "a.example:443"));
	OK(REQ(false, ":method", "CONNECT", ":authority", "[::1]:8080", "content-length", "0"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	BAD(REQ(false, ":method", "CONNECT", ":authority", "a:443", ":scheme", "https"));
	BAD(REQ(false, ":method", "CONNECT", ":authority", "a:443", ":path", "/"));
	BAD(REQ(false, ":method", "CONNECT"));
	BAD(REQ(false, ":method", "CONNECT", "host", "a:443"));
	BAD(REQ(false, ":method", "CONNECT", ":authority", "a.example"));
	BAD(REQ(false, ":method", "CONNECT", ":authority", "a:99999"));
	BAD(REQ(false, ":method", "CONNECT", ":authority", "a:443", "content-length", "5"));
}

TEST(t_extended_connect)
{
	OK(REQ(false, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "https",
	       ":authority", "a.example", ":path", "/chat?room=1", "sec-websocket-version", "13"));
	CHECK_EQ_INT(m.meth, HTTP_METH_CONNECT);
	CHECK(sl_is(st.protocol, "websocket"));
	CHECK(st.protocol.p == st.protocol_buf);
	CHECK(sl_is(m.target, "/chat?room=1"));
	CHECK(sl_is(m.path, "/chat"));
	CHECK(sl_is(m.query, "room=1"));
	CHECK(sl_is(m.authority, "a.example"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	BAD(REQ(false, ":method", "CONNECT", ":protocol", "websocket", ":authority", "a",
		":path", "/"));
	BAD(REQ(false, ":method", "CONNECT", ":protocol", "websocket", ":authority", "a",
		":scheme", "https"));
	BAD(REQ(false, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "https",
		":path", "/"));
	BAD(REQ(false, ":method", "GET", ":protocol", "websocket", ":scheme", "https",
		":authority", "a", ":path", "/"));
	BAD(REQ(false, ":method", "CONNECT", ":protocol", "web socket", ":scheme", "https",
		":authority", "a", ":path", "/"));
	BAD(REQ(false, ":method", "CONNECT", ":protocol", "", ":scheme", "https", ":authority",
		"a", ":path", "/"));
	/* the copy is kept whole up to H2M_PROTOCOL_MAX bytes */
	char p[H2M_PROTOCOL_MAX + 2];

	memset(p, 'p', sizeof(p));
	p[H2M_PROTOCOL_MAX] = 0;
	OK(REQ(false, ":method", "CONNECT", ":protocol", p, ":scheme", "https", ":authority", "a",
	       ":path", "/"));
	CHECK_EQ_INT(st.protocol.len, H2M_PROTOCOL_MAX);
	p[H2M_PROTOCOL_MAX] = 'p';
	p[H2M_PROTOCOL_MAX + 1] = 0;
	FULL(REQ(false, ":method", "CONNECT", ":protocol", p, ":scheme", "https", ":authority",
		 "a", ":path", "/"));
}

/* ------------------------------------------------------------------------
 * Connection-specific fields, TE, Expect (RFC 9113 8.2.2)
 */
TEST(t_connection_specific)
{
	static const char *const names[] = { "connection", "proxy-connection", "keep-alive",
					      "transfer-encoding", "upgrade" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		BAD(REQ(true, BASE, names[i], "close"));
		BAD(RES(false, HTTP_METH_GET, ":status", "200", names[i], "x"));
		BAD(TRL(names[i], "x"));
	}
	/* names that only look alike pass */
	OK(REQ(true, BASE, "connections", "x", "x-upgrade", "y", "keep-alive-x", "z"));
}

TEST(t_te)
{
	OK(REQ(true, BASE, "te", "trailers"));
	CHECK(m.flags & MSG_F_TE_TRAILERS);
	CHECK(hdr("te")->flags & HDR_F_HOP);
	OK(REQ(true, BASE, "te", "Trailers"));
	CHECK(m.flags & MSG_F_TE_TRAILERS);
	BAD(REQ(true, BASE, "te", "gzip"));
	BAD(REQ(true, BASE, "te", "trailers, gzip"));
	BAD(REQ(true, BASE, "te", "trailers;q=1"));
	BAD(REQ(true, BASE, "te", ""));
	BAD(RES(false, HTTP_METH_GET, ":status", "200", "te", "deflate"));
	/* a response's te: trailers means nothing and is not forwarded */
	OK(RES(false, HTTP_METH_GET, ":status", "200", "te", "trailers"));
	CHECK(!(m.flags & MSG_F_TE_TRAILERS));
	CHECK(hdr("te")->flags & HDR_F_HOP);
}

TEST(t_expect)
{
	OK(REQ(false, BASE, "expect", "100-continue", "content-length", "3"));
	CHECK(m.flags & MSG_F_EXPECT_CONTINUE);
	OK(REQ(false, BASE, "expect", "100-Continue"));
	CHECK(m.flags & MSG_F_EXPECT_CONTINUE);
	/* another expectation is the server's to refuse */
	OK(REQ(false, BASE, "expect", "something-else"));
	CHECK(!(m.flags & MSG_F_EXPECT_CONTINUE));
	CHECK(hdr("expect") != NULL);
	OK(RES(false, HTTP_METH_GET, ":status", "200", "expect", "100-continue"));
	CHECK(!(m.flags & MSG_F_EXPECT_CONTINUE));
}

TEST(t_trailer_field_hop)
{
	OK(REQ(false, BASE, "trailer", "grpc-status"));
	CHECK(hdr("trailer")->flags & HDR_F_HOP);
}

/* ------------------------------------------------------------------------
 * content-length and request framing
 */
TEST(t_content_length)
{
	OK(REQ(false, BASE, "content-length", "10"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 10);
	CHECK_EQ_INT(m.hdrs[m.hdr_idx[HDR_CONTENT_LENGTH]].id, HDR_CONTENT_LENGTH);
	OK(REQ(false, BASE, "content-length", "10", "content-length", "10"));
	CHECK_EQ_INT(m.content_length, 10);
	OK(REQ(false, BASE, "content-length", "007"));
	CHECK_EQ_INT(m.content_length, 7);
	OK(REQ(false, BASE, "content-length", "9999999999999999999"));
	CHECK(m.content_length == 9999999999999999999ull);
	BAD(REQ(false, BASE, "content-length", "10", "content-length", "11"));
	BAD(REQ(false, BASE, "content-length", ""));
	BAD(REQ(false, BASE, "content-length", "1a"));
	BAD(REQ(false, BASE, "content-length", "+1"));
	BAD(REQ(false, BASE, "content-length", "-1"));
	BAD(REQ(false, BASE, "content-length", "1, 1"));
	BAD(REQ(false, BASE, "content-length", "0x10"));
	BAD(REQ(false, BASE, "content-length", "18446744073709551616"));
	BAD(REQ(false, BASE, "content-length", "00000000000000000001"));
	/* in responses too */
	BAD(RES(false, HTTP_METH_GET, ":status", "200", "content-length", "x"));
	BAD(RES(false, HTTP_METH_GET, ":status", "200", "content-length", "1", "content-length",
		"2"));
}

TEST(t_request_framing)
{
	/* END_STREAM on HEADERS: no body at all */
	OK(REQ(true, ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.content_length, 0);
	OK(REQ(true, BASE, "content-length", "0"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.content_length, 0);
	BAD(REQ(true, BASE, "content-length", "5"));
	/* DATA to come: its length if told, else chunked for HTTP/1.1 */
	OK(REQ(false, ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/",
	       "content-length", "5"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 5);
	OK(REQ(false, ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/",
	       "content-length", "0"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 0);
	OK(REQ(false, ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/"));
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
}

/* ------------------------------------------------------------------------
 * :authority and Host (RFC 9113 8.3.1)
 */
TEST(t_authority_host)
{
	/* :authority only: a Host is made for the HTTP/1.1 server */
	OK(REQ(true, BASE));
	CHECK_EQ_INT(live_count(HDR_HOST), 1);
	CHECK(sl_is(hdr("Host")->value, "a.example"));
	CHECK(hdr("host")->value.p == m.authority.p);
	/* Host only: it is the authority */
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/", "host", "b.example:8080"));
	CHECK(sl_is(m.authority, "b.example:8080"));
	CHECK_EQ_INT(live_count(HDR_HOST), 1);
	/* both: they must agree, in any case */
	OK(REQ(true, BASE, "host", "A.Example"));
	CHECK(sl_is(m.authority, "a.example"));
	CHECK_EQ_INT(live_count(HDR_HOST), 1);
	CHECK(sl_is(hdr("host")->value, "A.Example"));
	BAD(REQ(true, BASE, "host", "b.example"));
	BAD(REQ(true, BASE, "host", "a.example:443"));
	/* neither */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/"));
	/* one Host, valid, not empty */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/", "host", "a", "host",
		"a"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/", "host", ""));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/", "host", "a b"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":path", "/", "host", "a:b"));
	/* :authority: valid, not empty, no userinfo */
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "u@a", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "a/b", ":path", "/"));
	BAD(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "[::1", ":path", "/"));
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "[2001:db8::1]:8443",
	       ":path", "/"));
	OK(REQ(true, ":method", "GET", ":scheme", "https", ":authority", "10.0.0.1", ":path",
	       "/"));
	/* a Host in a response is just a field */
	OK(RES(true, HTTP_METH_GET, ":status", "200", "host", "x y", "host", "z"));
}

/* ------------------------------------------------------------------------
 * Cookie crumbs (RFC 9113 8.2.3)
 */
TEST(t_cookie)
{
	OK(REQ(true, BASE, "cookie", "a=1", "x", "y", "cookie", "b=2", "cookie", "c=3"));
	CHECK_EQ_INT(live_count(HDR_COOKIE), 1);
	CHECK(sl_is(hdr("cookie")->value, "a=1; b=2; c=3"));
	CHECK(msg_hdr_by_id(&m, HDR_COOKIE) == hdr("cookie"));
	CHECK(sl_is(hdr("x")->value, "y"));
	/* one stays as it is */
	OK(REQ(true, BASE, "cookie", "a=1; b=2"));
	CHECK(sl_is(hdr("cookie")->value, "a=1; b=2"));
	/* empty crumbs add no separators */
	OK(REQ(true, BASE, "cookie", "", "cookie", "a=1", "cookie", "", "cookie", "b=2"));
	CHECK_EQ_INT(live_count(HDR_COOKIE), 1);
	CHECK(sl_is(hdr("cookie")->value, "a=1; b=2"));
	OK(REQ(true, BASE, "cookie", "", "cookie", ""));
	CHECK_EQ_INT(live_count(HDR_COOKIE), 1);
	CHECK(hdr("cookie")->value.len == 0 && hdr("cookie")->value.p);
	/* longer than the stack buffer */
	char big[3000];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	OK(REQ(true, BASE, "cookie", big, "cookie", big));
	CHECK_EQ_INT(hdr("cookie")->value.len, 2 * (sizeof(big) - 1) + 2);
	CHECK(memcmp(hdr("cookie")->value.p + sizeof(big) - 1, "; v", 3) == 0);
	/* responses are left alone */
	OK(RES(true, HTTP_METH_GET, ":status", "200", "cookie", "a", "cookie", "b"));
	CHECK_EQ_INT(live_count(HDR_COOKIE), 2);
}

/* ------------------------------------------------------------------------
 * Responses
 */
TEST(t_response)
{
	OK(RES(false, HTTP_METH_GET, ":status", "200", "content-length", "12", "server", "s"));
	CHECK_EQ_INT(m.status, 200);
	CHECK(m.flags & MSG_F_RESPONSE);
	CHECK(sl_is(m.reason, "OK"));
	CHECK_EQ_INT(m.version_major, 2);
	CHECK_EQ_INT(m.version_minor, 0);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 12);
	OK(RES(false, HTTP_METH_GET, ":status", "404"));
	CHECK(sl_is(m.reason, "Not Found"));
	OK(RES(false, HTTP_METH_GET, ":status", "299"));
	CHECK(m.reason.p != NULL && m.reason.len == 0);
	/* :status: present, three digits, 100-599, never 101 */
	BAD(RES(false, HTTP_METH_GET, "server", "s"));
	BAD(RES(false, HTTP_METH_GET, ":status", "20"));
	BAD(RES(false, HTTP_METH_GET, ":status", "2000"));
	BAD(RES(false, HTTP_METH_GET, ":status", "abc"));
	BAD(RES(false, HTTP_METH_GET, ":status", "20x"));
	BAD(RES(false, HTTP_METH_GET, ":status", "099"));
	BAD(RES(false, HTTP_METH_GET, ":status", "600"));
	BAD(RES(false, HTTP_METH_GET, ":status", "+99"));
	BAD(RES(false, HTTP_METH_GET, ":status", "101"));
	OK(RES(false, HTTP_METH_GET, ":status", "599"));
	OK(RES(false, HTTP_METH_GET, ":status", "100"));
}

TEST(t_response_framing)
{
	/* no length: chunked for an HTTP/1.1 client */
	OK(RES(false, HTTP_METH_GET, ":status", "200"));
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	/* END_STREAM on the head: an empty body, Content-Length: 0 */
	OK(RES(true, HTTP_METH_GET, ":status", "200"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 0);
	OK(RES(true, HTTP_METH_GET, ":status", "200", "content-length", "0"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 0);
	BAD(RES(true, HTTP_METH_GET, ":status", "200", "content-length", "5"));
	/* no body whatever the fields say */
	OK(RES(true, HTTP_METH_GET, ":status", "204"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(!(m.flags & MSG_F_KEEP_CL));
	OK(RES(false, HTTP_METH_GET, ":status", "204", "content-length", "5"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(!(m.flags & MSG_F_KEEP_CL));
	/* 304 and HEAD keep the representation's length */
	OK(RES(true, HTTP_METH_GET, ":status", "304", "content-length", "42"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(m.flags & MSG_F_KEEP_CL);
	CHECK_EQ_INT(m.content_length, 42);
	OK(RES(true, HTTP_METH_HEAD, ":status", "200", "content-length", "42"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(m.flags & MSG_F_KEEP_CL);
	CHECK_EQ_INT(m.content_length, 42);
	OK(RES(true, HTTP_METH_HEAD, ":status", "200"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(!(m.flags & MSG_F_KEEP_CL));
	OK(RES(false, HTTP_METH_HEAD, ":status", "404"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	/* interim responses: no body, and they cannot end the stream */
	OK(RES(false, HTTP_METH_GET, ":status", "103", "link", "</a>"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(sl_is(m.reason, "Early Hints"));
	BAD(RES(true, HTTP_METH_GET, ":status", "100"));
	/* a 2xx to CONNECT opens the tunnel; a refusal has a body */
	OK(RES(false, HTTP_METH_CONNECT, ":status", "200"));
	CHECK_EQ_INT(m.body, BODY_TUNNEL);
	OK(RES(false, HTTP_METH_CONNECT, ":status", "407", "content-length", "3"));
	CHECK_EQ_INT(m.body, BODY_LENGTH);
}

/* ------------------------------------------------------------------------
 * Trailers
 */
TEST(t_trailers)
{
	OK(TRL("grpc-status", "0", "grpc-message", "ok"));
	CHECK_EQ_INT(m.nhdrs, 2);
	CHECK(sl_is(hdr("grpc-message")->value, "ok"));
	/* framing and routing fields are dropped, not judged as in a head */
	OK(TRL("x", "1", "content-length", "5", "host", "a b", "te", "trailers", "trailer", "x",
	       "expect", "100-continue", "content-length", "7"));
	CHECK_EQ_INT(m.nhdrs, 7);
	for (int i = 1; i < m.nhdrs; i++)
		CHECK(m.hdrs[i].flags & HDR_F_DELETED);
	CHECK(m.hdr_idx[HDR_CONTENT_LENGTH] == -1 && m.hdr_idx[HDR_HOST] == -1);
	CHECK(!(m.hdrs[0].flags & HDR_F_DELETED));
	CHECK_EQ_INT(m.flags, 0);
	BAD(TRL("te", "gzip"));
	BAD(TRL("x", "a\nb"));
}

/* ------------------------------------------------------------------------
 * Bounds
 */
TEST(t_too_many_fields)
{
	static char names[HTTP_MAX_HDRS + 1][8];

	for (int extra = 0; extra <= 1; extra++) {
		feed(false, false, (const char *const[]){ BASE, NULL });
		int rc = 0;

		for (int i = 0; i < HTTP_MAX_HDRS + extra && !rc; i++) {
			snprintf(names[i], sizeof(names[i]), "x%d", i);
			rc = field(names[i], "v");
		}
		if (extra) {
			CHECK_EQ_INT(rc, H2M_TOO_LARGE);
			CHECK(st.reason != NULL);
		} else {
			OK(rc);
			OK(h2m_req_end(&st, &m, true));
			/* the Host added still fits */
			CHECK_EQ_INT(m.nhdrs, HTTP_MAX_HDRS + 1);
			CHECK(sl_is(hdr("host")->value, "a.example"));
		}
	}
	/* the same in trailers */
	feed(false, true, (const char *const[]){ NULL });
	int rc = 0;

	for (int i = 0; i <= HTTP_MAX_HDRS && !rc; i++)
		rc = field(names[i], "v");
	CHECK_EQ_INT(rc, H2M_TOO_LARGE);
	CHECK(st.reason != NULL);
}

TEST(t_store_full)
{
	static struct http_msg small;
	static char v[600];

	memset(v, 'v', sizeof(v) - 1);
	msg_init(&small, 512);
	/* a field that does not fit */
	msg_reset(&small);
	h2m_begin(&st, &small, false, false);
	OK(h2m_field(&st, &small, (const uint8_t *)":method", 7, (const uint8_t *)"GET", 3));
	FULL(h2m_field(&st, &small, (const uint8_t *)"x", 1, (const uint8_t *)v, sizeof(v) - 1));
	/* nor does a pseudo-header */
	msg_reset(&small);
	h2m_begin(&st, &small, false, false);
	FULL(h2m_field(&st, &small, (const uint8_t *)":path", 5, (const uint8_t *)v,
		       sizeof(v) - 1));
	/* the crumbs fit, joined they do not */
	msg_reset(&small);
	h2m_begin(&st, &small, false, false);
	static const char *const kv[] = { BASE, NULL };

	for (const char *const *p = kv; *p; p += 2)
		OK(h2m_field(&st, &small, (const uint8_t *)p[0], strlen(p[0]),
			     (const uint8_t *)p[1], strlen(p[1])));
	OK(h2m_field(&st, &small, (const uint8_t *)"cookie", 6, (const uint8_t *)v, 200));
	OK(h2m_field(&st, &small, (const uint8_t *)"cookie", 6, (const uint8_t *)v, 200));
	FULL(h2m_req_end(&st, &small, true));
	/* and the same store takes a request that fits */
	msg_reset(&small);
	h2m_begin(&st, &small, false, false);
	for (const char *const *p = kv; *p; p += 2)
		OK(h2m_field(&st, &small, (const uint8_t *)p[0], strlen(p[0]),
			     (const uint8_t *)p[1], strlen(p[1])));
	OK(h2m_field(&st, &small, (const uint8_t *)"cookie", 6, (const uint8_t *)v, 100));
	OK(h2m_field(&st, &small, (const uint8_t *)"cookie", 6, (const uint8_t *)v, 100));
	OK(h2m_req_end(&st, &small, true));
	CHECK_EQ_INT(msg_hdr_by_id(&small, HDR_COOKIE)->value.len, 202);
	msg_free(&small);
}

/* Everything is copied: the caller's buffers may change or go at once,
 * and slices follow the store when it grows (ASan checks the rest). */
TEST(t_copies)
{
	char n[16], v[16];
	static char big[4000];

	memset(big, 'b', sizeof(big) - 1);
	feed(false, false, (const char *const[]){ BASE, NULL });
	strcpy(n, "x-a");
	strcpy(v, "one");
	OK(field(n, v));
	strcpy(n, "x-b");
	strcpy(v, "two");
	/* enough to make the store grow, more than once */
	for (int i = 0; i < 12; i++)
		OK(field("x-big", big));
	OK(field(n, v));
	strcpy(n, "zzz");
	strcpy(v, "zzz");
	OK(h2m_req_end(&st, &m, true));
	CHECK(sl_is(hdr("x-a")->value, "one"));
	CHECK(sl_is(hdr("x-b")->value, "two"));
	CHECK(sl_is(m.method, "GET"));
	CHECK(sl_is(m.path, "/"));
	CHECK(sl_is(hdr("host")->value, "a.example"));
	CHECK(m.authority.p >= m.st.area && m.authority.p < m.st.area + m.st.used);
}

/* ------------------------------------------------------------------------
 * Encoding
 */
TEST(t_encode_request)
{
	OK(REQ(false, ":method", "POST", ":scheme", "https", ":authority", "a.example", ":path",
	       "/up?x=1", "user-agent", "t", "te", "trailers", "cookie", "a=1", "cookie", "b=2",
	       "content-length", "5"));
	CHECK_STR(enc_req(&m), ":method: POST\n"
			       ":scheme: https\n"
			       ":authority: a.example\n"
			       ":path: /up?x=1\n"
			       "user-agent: t\n"
			       "te: trailers\n"
			       "cookie: a=1; b=2\n"
			       "content-length: 5\n");
	/* chunked (length unknown) and no-body requests carry no length */
	OK(REQ(false, ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/"));
	CHECK_STR(enc_req(&m), ":method: POST\n:scheme: https\n:authority: a\n:path: /\n");
	OK(REQ(true, BASE, "content-length", "0"));
	CHECK_STR(enc_req(&m), ":method: GET\n:scheme: https\n:authority: a.example\n:path: /\n");
	/* a rule's edits are obeyed: path, a deleted field, an added one */
	OK(REQ(true, BASE, "x-del", "1", "x-keep", "2"));
	m.path = SLICE_LIT("/new");
	m.query = SLICE_LIT("q");
	msg_hdr_del(&m, SLICE_LIT("X-Del"));
	msg_hdr_add(&m, SLICE_LIT("X-Forwarded-For"), SLICE_LIT("192.0.2.1"));
	CHECK_STR(enc_req(&m), ":method: GET\n:scheme: https\n:authority: a.example\n"
			       ":path: /new?q\nx-keep: 2\nx-forwarded-for: 192.0.2.1\n");
	/* OPTIONS * and CONNECT */
	OK(REQ(true, ":method", "OPTIONS", ":scheme", "https", ":authority", "a", ":path", "*"));
	CHECK_STR(enc_req(&m), ":method: OPTIONS\n:scheme: https\n:authority: a\n:path: *\n");
	OK(REQ(false, ":method", "CONNECT", ":authority", "a.example:443"));
	CHECK_STR(enc_req(&m), ":method: CONNECT\n:authority: a.example:443\n");
}

/* An HTTP/1.1 head as an HTTP/2 list: names lowercased, hop-by-hop and
 * connection-specific fields left out, framing regenerated. */
TEST(t_encode_from_h1)
{
	struct h1_parser ps;
	const char *r = "POST /a?b HTTP/1.1\r\nHost: A.example\r\nConnection: keep-alive, X-Hop\r\n"
			"Keep-Alive: timeout=5\r\nX-Hop: 1\r\nTE: trailers, deflate\r\n"
			"Proxy-Connection: x\r\nUpgrade: h2c\r\nTrailer: grpc-status\r\n"
			"Transfer-Encoding: chunked\r\nX-Mixed-Case: V\r\nCookie: c=1\r\n\r\n";

	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_request(&ps, r, strlen(r), &m, NULL, NULL), H1_DONE);
	CHECK_STR(enc_req(&m), ":method: POST\n:scheme: https\n:authority: A.example\n"
			       ":path: /a?b\nte: trailers\nx-mixed-case: V\ncookie: c=1\n");
	/* the lowercased names are in scratch, the values are the message's */
	CHECK(nv[5].name >= (uint8_t *)scratch && nv[5].name < (uint8_t *)scratch + sizeof(scratch));
	CHECK(nv[5].value == (uint8_t *)hdr("x-mixed-case")->value.p);
	CHECK_EQ_INT(nv[5].flags, 0);
	/* a deleted TE field takes "te: trailers" with it */
	msg_hdr_del_id(&m, HDR_TE);
	CHECK(strstr(enc_req(&m), "te:") == NULL);

	/* HTTP/1.0 without Host: no :authority to give */
	r = "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\n";
	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_request(&ps, r, strlen(r), &m, NULL, NULL), H1_DONE);
	CHECK_STR(enc_req(&m), ":method: GET\n:scheme: https\n:path: /\ncontent-length: 3\n");
	/* Host but no authority (a rule cleared it): Host's value is used */
	OK(REQ(true, ":method", "GET", ":scheme", "http", ":path", "/", "host", "h.example"));
	m.authority = (struct slice){ NULL, 0 };
	CHECK_STR(enc_req(&m), ":method: GET\n:scheme: https\n:authority: h.example\n:path: /\n");
}

TEST(t_encode_response)
{
	struct h1_parser ps;
	const char *r = "HTTP/1.1 200 OK\r\nServer: S\r\nConnection: close\r\nContent-Length: 5\r\n"
			"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nKeep-Alive: x\r\n\r\n";

	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_response(&ps, r, strlen(r), &m, HTTP_METH_GET, NULL, NULL), H1_DONE);
	CHECK_STR(enc_res(&m), ":status: 200\nserver: S\nset-cookie: a=1\nset-cookie: b=2\n"
			       "content-length: 5\n");
	/* chunked and read-until-close bodies: no length; TE never */
	r = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n";
	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_response(&ps, r, strlen(r), &m, HTTP_METH_GET, NULL, NULL), H1_DONE);
	CHECK_STR(enc_res(&m), ":status: 404\n");
	r = "HTTP/1.0 200 OK\r\nX: y\r\n\r\n";
	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_response(&ps, r, strlen(r), &m, HTTP_METH_GET, NULL, NULL), H1_DONE);
	CHECK_STR(enc_res(&m), ":status: 200\nx: y\n");
	/* HEAD and 304 keep the length they describe; 204 has none */
	OK(RES(true, HTTP_METH_HEAD, ":status", "200", "content-length", "42"));
	CHECK_STR(enc_res(&m), ":status: 200\ncontent-length: 42\n");
	OK(RES(true, HTTP_METH_GET, ":status", "304", "etag", "\"x\"", "content-length", "42"));
	CHECK_STR(enc_res(&m), ":status: 304\netag: \"x\"\ncontent-length: 42\n");
	OK(RES(true, HTTP_METH_GET, ":status", "204", "content-length", "42"));
	CHECK_STR(enc_res(&m), ":status: 204\n");
	/* END_STREAM: the empty body is said */
	OK(RES(true, HTTP_METH_GET, ":status", "200"));
	CHECK_STR(enc_res(&m), ":status: 200\ncontent-length: 0\n");
	/* a Host in a response is not forwarded */
	OK(RES(false, HTTP_METH_GET, ":status", "500", "host", "x", "content-length", "0"));
	CHECK_STR(enc_res(&m), ":status: 500\ncontent-length: 0\n");
	/* a local answer (proxy/local.c style, capitalised names) */
	msg_reset(&m);
	m.flags = MSG_F_RESPONSE;
	m.status = 503;
	m.body = BODY_LENGTH;
	m.content_length = 19;
	msg_hdr_add(&m, SLICE_LIT("Content-Type"), SLICE_LIT("text/plain"));
	msg_hdr_add(&m, SLICE_LIT("Retry-After"), SLICE_LIT("5"));
	CHECK_STR(enc_res(&m), ":status: 503\ncontent-type: text/plain\nretry-after: 5\n"
			       "content-length: 19\n");
	m.status = 99;
	CHECK_EQ_INT(h2m_encode_response(&m, nv, 16, scratch, sizeof(scratch)), -1);
}

TEST(t_encode_trailers)
{
	OK(TRL("grpc-status", "0", "content-length", "5", "x", "y"));
	msg_hdr_add(&m, SLICE_LIT("Grpc-Message"), SLICE_LIT("fine"));
	msg_hdr_add(&m, SLICE_LIT("Host"), SLICE_LIT("a"));
	msg_hdr_add(&m, SLICE_LIT("Connection"), SLICE_LIT("close"));
	msg_hdr_add(&m, SLICE_LIT("Expect"), SLICE_LIT("100-continue"));
	msg_hdr_add(&m, SLICE_LIT("TE"), SLICE_LIT("trailers"));
	msg_hdr_add(&m, SLICE_LIT("Content-Length"), SLICE_LIT("1"));
	m.body = BODY_LENGTH;	/* a trailer list never says a length */
	int n = h2m_encode_trailers(&m, nv, 16, scratch, sizeof(scratch));

	CHECK_STR(n < 0 ? "(failed)" : list_str(nv, n),
		  "grpc-status: 0\nx: y\ngrpc-message: fine\n");
	msg_reset(&m);
	CHECK_EQ_INT(h2m_encode_trailers(&m, nv, 0, NULL, 0), 0);
}

/* -1 when the list or the scratch is too small, never a partial list
 * reported as whole; exactly enough is enough. */
TEST(t_encode_bounds)
{
	OK(REQ(false, ":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/p?q",
	       "content-length", "12345"));
	msg_hdr_add(&m, SLICE_LIT("X-Up"), SLICE_LIT("1"));
	/* the four pseudo-headers, x-up, content-length; scratch: the path
	 * with its query, the lowercased name, the length's digits */
	int need_nv = 6;
	size_t need_s = strlen("/p?q") + strlen("x-up") + strlen("12345");

	CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, need_nv, scratch, need_s),
		     need_nv);
	CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, need_nv - 1, scratch, need_s),
		     -1);
	CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, need_nv, scratch, need_s - 1),
		     -1);
	CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, 0, NULL, 0), -1);
	CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, -1, scratch, need_s), -1);
	/* for each cut, -1 */
	for (size_t s = 0; s < need_s; s++)
		CHECK_EQ_INT(h2m_encode_request(&m, SLICE_LIT("https"), nv, need_nv, scratch, s),
			     -1);
	/* a response: ":status" digits in scratch */
	OK(RES(false, HTTP_METH_GET, ":status", "200"));
	CHECK_EQ_INT(h2m_encode_response(&m, nv, 1, scratch, 3), 1);
	CHECK_EQ_INT(h2m_encode_response(&m, nv, 1, scratch, 2), -1);
	CHECK_EQ_INT(h2m_encode_response(&m, nv, 0, scratch, 3), -1);
}

/* decode -> encode -> decode gives the same message. */
static struct http_msg m2;

static int redecode(const struct h2m_nv *list, int n, bool response, bool end_stream,
		    uint8_t req_meth)
{
	msg_reset(&m2);
	h2m_begin(&st, &m2, response, false);
	for (int i = 0; i < n; i++) {
		int rc = h2m_field(&st, &m2, list[i].name, list[i].namelen, list[i].value,
				   list[i].valuelen);

		if (rc)
			return rc;
	}
	return response ? h2m_res_end(&st, &m2, end_stream, req_meth)
			: h2m_req_end(&st, &m2, end_stream);
}

TEST(t_roundtrip)
{
	static const struct {
		bool end_stream;
		const char *kv[24];
	} reqs[] = {
		{ true, { BASE, "accept", "*/*", NULL } },
		{ false, { ":method", "PUT", ":scheme", "http", ":path", "/x?y=1&z", "host", "h:81",
			   "content-length", "10", "cookie", "a", "cookie", "b", "te", "trailers",
			   NULL } },
		{ false, { ":method", "POST", ":scheme", "https", ":authority", "[::1]:443", ":path",
			   "/", "expect", "100-continue", "x", "a\tb", NULL } },
		{ false, { ":method", "CONNECT", ":authority", "a:443", NULL } },
		{ true, { ":method", "OPTIONS", ":scheme", "https", ":authority", "a", ":path", "*",
			  NULL } },
	};

	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		OK(req(reqs[k].end_stream, reqs[k].kv));

		int n = h2m_encode_request(&m, SLICE_LIT("https"), nv, 64, scratch,
					   sizeof(scratch));

		CHECK(n > 0);
		for (int i = 0; i < n; i++)
			CHECK(!has_upper(nv[i].name, nv[i].namelen));
		OK(redecode(nv, n, false, reqs[k].end_stream, 0));
		CHECK(slice_eq(m2.method, m.method));
		CHECK(slice_eq(m2.target, m.target));
		CHECK(slice_eq(m2.path, m.path));
		CHECK(slice_eq(m2.query, m.query) && (m2.query.p == NULL) == (m.query.p == NULL));
		CHECK(slice_ieq(m2.authority, m.authority));
		CHECK_EQ_INT(m2.body, m.body);
		CHECK_EQ_INT(m2.content_length, m.content_length);
		CHECK_EQ_INT(m2.flags, m.flags);
		CHECK_EQ_INT(live_in(&m2, HDR_HOST), 1);
		CHECK(live_in(&m2, HDR_COOKIE) <= 1);
	}

	static const struct {
		bool end_stream;
		uint8_t meth;
		const char *kv[12];
	} ress[] = {
		{ true, HTTP_METH_GET, { ":status", "200", "server", "s", NULL } },
		{ false, HTTP_METH_GET, { ":status", "200", "content-length", "3", NULL } },
		{ false, HTTP_METH_GET, { ":status", "404", NULL } },
		{ true, HTTP_METH_HEAD, { ":status", "200", "content-length", "3", NULL } },
		{ true, HTTP_METH_GET, { ":status", "304", "content-length", "3", NULL } },
		{ false, HTTP_METH_CONNECT, { ":status", "200", NULL } },
		{ false, HTTP_METH_GET, { ":status", "103", "link", "</s>", NULL } },
	};

	for (size_t k = 0; k < sizeof(ress) / sizeof(ress[0]); k++) {
		OK(res(ress[k].end_stream, ress[k].meth, ress[k].kv));

		int n = h2m_encode_response(&m, nv, 64, scratch, sizeof(scratch));

		CHECK(n > 0);
		OK(redecode(nv, n, true, ress[k].end_stream, ress[k].meth));
		CHECK_EQ_INT(m2.status, m.status);
		CHECK_EQ_INT(m2.body, m.body);
		CHECK_EQ_INT(m2.content_length, m.content_length);
		CHECK_EQ_INT(m2.flags, m.flags);
		CHECK(slice_eq(m2.reason, m.reason));
	}
}

/* An accepted request becomes an HTTP/1.1 head our own parser accepts
 * with the same meaning: no h2 -> h1 smuggling through this module. */
TEST(t_to_h1)
{
	static char out[8192];
	static const struct {
		bool end_stream;
		const char *kv[20];
	} reqs[] = {
		{ true, { BASE, NULL } },
		{ false, { BASE, "content-length", "4", NULL } },
		{ false, { ":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/?q",
			   "cookie", "a", "cookie", "b", "te", "trailers", NULL } },
		{ false, { ":method", "CONNECT", ":authority", "a:443", NULL } },
	};
	struct h1_parser ps;
	struct h1_err err;

	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		OK(req(reqs[k].end_stream, reqs[k].kv));

		int n = h1_encode_request(&m, NULL, 0, out, sizeof(out));

		CHECK(n > 0);
		msg_reset(&m2);
		h1_parser_reset(&ps);
		CHECK_EQ_INT(h1_parse_request(&ps, out, (size_t)n, &m2, NULL, &err), H1_DONE);
		CHECK(slice_eq(m2.method, m.method));
		CHECK(slice_eq(m2.path, m.path));
		CHECK(slice_eq(m2.query, m.query));
		CHECK(slice_eq(m2.authority, m.authority));
		CHECK_EQ_INT(m2.body, m.body);
		CHECK_EQ_INT(m2.content_length, m.content_length);
	}
}

int main(void)
{
	msg_init(&m, 0);
	msg_init(&m2, 0);
	RUN(t_get);
	RUN(t_pseudo_order);
	RUN(t_path_query);
	RUN(t_method);
	RUN(t_names);
	RUN(t_values);
	RUN(t_pseudo_rules);
	RUN(t_required);
	RUN(t_connect);
	RUN(t_extended_connect);
	RUN(t_connection_specific);
	RUN(t_te);
	RUN(t_expect);
	RUN(t_trailer_field_hop);
	RUN(t_content_length);
	RUN(t_request_framing);
	RUN(t_authority_host);
	RUN(t_cookie);
	RUN(t_response);
	RUN(t_response_framing);
	RUN(t_trailers);
	RUN(t_too_many_fields);
	RUN(t_store_full);
	RUN(t_copies);
	RUN(t_encode_request);
	RUN(t_encode_from_h1);
	RUN(t_encode_response);
	RUN(t_encode_trailers);
	RUN(t_encode_bounds);
	RUN(t_roundtrip);
	RUN(t_to_h1);
	msg_free(&m);
	msg_free(&m2);
	return UNIT_SUMMARY("test_h2_msg");
}
