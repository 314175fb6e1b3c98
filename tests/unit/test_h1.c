/*
 * test_h1.c - unit tests of the HTTP/1.1 codec (src/http/h1.c).
 *
 * The codec is the first thing a request's bytes meet and the last thing a
 * response's head goes through, so these tests pin down each rejection
 * rule with the exact status it answers, the framing decisions, the
 * Connection/hop-by-hop handling, the chunked normaliser, the encoder, and
 * that no way of splitting the input changes any result.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "http/h1.h"

static const struct h1_limits lim = { .max_head = 8192, .max_target = 1024, .max_hdrs = 100 };
static const struct h1_limits tight = { .max_head = 96, .max_target = 16, .max_hdrs = 3 };

static struct http_msg m;
static struct h1_parser ps;     /* m's parse state */
static struct h1_err err;

/* ------------------------------------------------------------------------
 * Helpers
 */
static int parse_req_lim(const char *s, size_t n, const struct h1_limits *l)
{
	msg_reset(&m);
	h1_parser_reset(&ps);
	memset(&err, 0, sizeof(err));
	return h1_parse_request(&ps, s, n, &m, l, &err);
}

static int preq(const char *s)
{
	return parse_req_lim(s, strlen(s), &lim);
}

static int presp(const char *s, enum http_meth rm)
{
	msg_reset(&m);
	h1_parser_reset(&ps);
	memset(&err, 0, sizeof(err));
	return h1_parse_response(&ps, s, strlen(s), &m, rm, &lim, &err);
}

static bool sl_is(struct slice s, const char *c)
{
	return s.len == strlen(c) && (s.len == 0 || memcmp(s.p, c, s.len) == 0);
}

static const struct http_hdr *hdr(const char *name)
{
	int pos = 0;

	return msg_hdr_find(&m, (struct slice){ name, (uint32_t)strlen(name) }, &pos);
}

/* A request must be refused with exactly this status. */
#define REJECT(req, st) do { \
	CHECK_EQ_INT(preq(req), H1_ERROR); \
	CHECK_EQ_INT(err.status, (st)); \
	CHECK(err.reason != NULL); \
} while (0)

#define ACCEPT(req) CHECK_EQ_INT(preq(req), H1_DONE)

#define REJECT_RESP(resp, meth) do { \
	CHECK_EQ_INT(presp((resp), (meth)), H1_ERROR); \
	CHECK_EQ_INT(err.status, 502); \
} while (0)

#define H11 " HTTP/1.1\r\nHost: a\r\n"

/* ------------------------------------------------------------------------
 * Request line and target forms
 */
TEST(t_simple_get)
{
	const char *r = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
			"User-Agent: t\r\nAccept: */*\r\n\r\n";

	CHECK_EQ_INT(preq(r), H1_DONE);
	CHECK_EQ_INT(ps.head_len, strlen(r));
	CHECK(sl_is(m.method, "GET"));
	CHECK_EQ_INT(m.meth, HTTP_METH_GET);
	CHECK(sl_is(m.target, "/index.html"));
	CHECK(sl_is(m.path, "/index.html"));
	CHECK(m.query.p == NULL && m.query.len == 0);
	CHECK(sl_is(m.authority, "example.com"));
	CHECK_EQ_INT(m.version_major, 1);
	CHECK_EQ_INT(m.version_minor, 1);
	CHECK_EQ_INT(m.nhdrs, 3);
	CHECK_EQ_INT(m.hdr_idx[HDR_HOST], 0);
	CHECK_EQ_INT(m.hdr_idx[HDR_CONTENT_LENGTH], -1);
	CHECK(sl_is(m.hdrs[1].name, "User-Agent"));
	CHECK(sl_is(m.hdrs[1].value, "t"));
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.flags, 0);
}

TEST(t_need_more)
{
	const char *r = "GET / HTTP/1.1\r\nHost: a\r\n\r";

	CHECK_EQ_INT(preq(r), H1_NEED_MORE);
	CHECK_EQ_INT(preq(""), H1_NEED_MORE);
	CHECK_EQ_INT(preq("GET / HTTP/1.1\r\nHost: a\r\n"), H1_NEED_MORE);
}

TEST(t_query)
{
	ACCEPT("GET /a/b?x=1&y=%20" H11 "\r\n");
	CHECK(sl_is(m.path, "/a/b"));
	CHECK(sl_is(m.query, "x=1&y=%20"));
	ACCEPT("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(sl_is(m.path, "/p"));
	CHECK(m.query.p != NULL && m.query.len == 0);
	ACCEPT("GET /p?a?b" H11 "\r\n");
	CHECK(sl_is(m.query, "a?b"));
}

TEST(t_absolute_form)
{
	ACCEPT("GET http://Example.com:8080/x/y?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
	CHECK(m.flags & MSG_F_ABSOLUTE_FORM);
	CHECK(sl_is(m.authority, "Example.com:8080"));
	CHECK(sl_is(m.path, "/x/y"));
	CHECK(sl_is(m.query, "q=1"));
	/* the target's authority replaces Host (RFC 9112 3.2.2) */
	CHECK(sl_is(hdr("host")->value, "Example.com:8080"));

	ACCEPT("GET HTTPS://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n");
	CHECK(sl_is(m.authority, "a.example"));
	CHECK(sl_is(m.path, "/"));
	ACCEPT("GET hTtP://a?x HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(sl_is(m.path, "/"));
	CHECK(sl_is(m.query, "x"));
	ACCEPT("OPTIONS http://[2001:db8::1]:80/ HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(sl_is(m.authority, "[2001:db8::1]:80"));
	/* HTTP/1.0 without Host: the authority comes from the target */
	ACCEPT("GET http://b.example/ HTTP/1.0\r\n\r\n");
	CHECK(sl_is(m.authority, "b.example"));
}

TEST(t_absolute_form_bad)
{
	REJECT("GET ftp://a/x" H11 "\r\n", 400);
	REJECT("GET http:///x" H11 "\r\n", 400);
	REJECT("GET http://user@a/x" H11 "\r\n", 400);
	REJECT("GET http:/a/x" H11 "\r\n", 400);
	REJECT("GET http://a:99999/" H11 "\r\n", 400);
	REJECT("GET http://a b/" H11 "\r\n", 400);
	REJECT("GET a.example/x" H11 "\r\n", 400);
}

TEST(t_connect)
{
	ACCEPT("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
	CHECK_EQ_INT(m.meth, HTTP_METH_CONNECT);
	CHECK(sl_is(m.authority, "a.example:443"));
	CHECK_EQ_INT(m.path.len, 0);
	ACCEPT("CONNECT [::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(sl_is(m.authority, "[::1]:8443"));
	/* HTTP/1.0 with an empty Host: Host takes the target, as we forward 1.1 */
	ACCEPT("CONNECT b.example:443 HTTP/1.0\r\nHost:\r\n\r\n");
	CHECK(sl_is(hdr("host")->value, "b.example:443"));
	REJECT("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT a.example: HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("CONNECT a:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 400);
	REJECT("CONNECT a:443 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	ACCEPT("CONNECT a:443 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
}

TEST(t_asterisk)
{
	ACCEPT("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(sl_is(m.path, "*"));
	CHECK_EQ_INT(m.meth, HTTP_METH_OPTIONS);
	REJECT("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(t_leading_crlf)
{
	const char *r = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

	ACCEPT(r);
	CHECK_EQ_INT(ps.head_len, strlen(r));
	CHECK(sl_is(m.method, "GET"));
	REJECT("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT(" \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(t_method)
{
	ACCEPT("PURGE /x" H11 "\r\n");
	CHECK_EQ_INT(m.meth, HTTP_METH_OTHER);
	CHECK(sl_is(m.method, "PURGE"));
	REJECT("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET\r\nHost: a\r\n\r\n", 400);
	REJECT("G\x80T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

TEST(t_request_line_spaces)
{
	REJECT("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\t\r\nHost: a\r\n\r\n", 400);
	REJECT("GET /\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / \r\nHost: a\r\n\r\n", 400);
}

TEST(t_version)
{
	REJECT("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	REJECT("GET / HTTP/9.1\r\nHost: a\r\n\r\n", 505);
	REJECT("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/2\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.0\r\n\r\n");
	CHECK_EQ_INT(m.version_minor, 0);
}

TEST(t_target_chars)
{
	REJECT("GET /a\x7f" H11 "\r\n", 400);
	REJECT("GET /a\x80" H11 "\r\n", 400);
	REJECT("GET /a\x01" H11 "\r\n", 400);
	REJECT("GET /a\tb" H11 "\r\n", 400);
	REJECT("GET /a#frag" H11 "\r\n", 400);
	REJECT("GET /a\rb" H11 "\r\n", 400);
	/* every visible character that may appear, through the word scanner */
	ACCEPT("GET /abcdefgh/ijklmnop/!$&'()*+,;=:@-._~%20[]{}|^`\"<>\\ HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(t_414)
{
	char r[2200];
	char t[1100];

	memset(t, 'a', sizeof(t));
	t[0] = '/';
	snprintf(r, sizeof(r), "GET %.*s HTTP/1.1\r\nHost: a\r\n\r\n", 1024, t);
	ACCEPT(r);
	CHECK_EQ_INT(m.target.len, 1024);
	snprintf(r, sizeof(r), "GET %.*s HTTP/1.1\r\nHost: a\r\n\r\n", 1025, t);
	REJECT(r, 414);
}

TEST(t_431_head)
{
	char r[9000];
	size_t n;

	n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(r + n, 'x', 8192 - n - 4);
	memcpy(r + 8192 - 4, "\r\n\r\n", 4);
	/* exactly max_head is fine */
	CHECK_EQ_INT(parse_req_lim(r, 8192, &lim), H1_DONE);
	CHECK_EQ_INT(ps.head_len, 8192);
	/* one more byte of field and the head no longer fits */
	memmove(r + 8192 - 3, r + 8192 - 4, 4);
	r[8192 - 4] = 'x';
	CHECK_EQ_INT(parse_req_lim(r, 8193, &lim), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
	/* detected as soon as max_head bytes hold no end of head: a caller
	 * that reads at most max_head bytes must not wait forever */
	memset(r + n, 'x', sizeof(r) - n);
	CHECK_EQ_INT(parse_req_lim(r, 8191, &lim), H1_NEED_MORE);
	CHECK_EQ_INT(h1_parse_request(&ps, r, 8192, &m, &lim, &err), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
	/* the last byte that fits being the first LF of the end is not enough */
	memcpy(r + 8192 - 3, "\r\n\r", 3);
	CHECK_EQ_INT(parse_req_lim(r, 8192, &lim), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
	/* a stream of empty lines is no way around it */
	memset(r, 0, sizeof(r));
	for (size_t i = 0; i + 1 < sizeof(r); i += 2)
		memcpy(r + i, "\r\n", 2);
	CHECK_EQ_INT(parse_req_lim(r, sizeof(r), &lim), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
}

TEST(t_431_hdrs)
{
	const char *three = "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n";
	const char *four = "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n";

	CHECK_EQ_INT(parse_req_lim(three, strlen(three), &tight), H1_DONE);
	CHECK_EQ_INT(m.nhdrs, 3);
	CHECK_EQ_INT(parse_req_lim(four, strlen(four), &tight), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);

	/* HTTP_MAX_HDRS is a hard cap whatever the limits say */
	static char r[8192];
	struct h1_limits big = { 8192, 1024, 60000 };
	size_t n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: a\r\n");

	for (int i = 0; i < HTTP_MAX_HDRS; i++)
		n += (size_t)snprintf(r + n, sizeof(r) - n, "X%d: v\r\n", i);
	n += (size_t)snprintf(r + n, sizeof(r) - n, "\r\n");
	CHECK_EQ_INT(parse_req_lim(r, n, &big), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
}

/* ------------------------------------------------------------------------
 * Field lines
 */
TEST(t_field_syntax)
{
	REJECT("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX(y: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX\x80: b\r\n\r\n", 400);
}

TEST(t_field_value_bytes)
{
	static const char bad[] = { 0x01, 0x08, 0x0b, 0x0c, 0x0e, 0x1f, 0x7f, '\r' };
	char r[128];

	for (size_t i = 0; i < sizeof(bad); i++) {
		int n = snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: a\r\nX: ab%ccd\r\n\r\n", bad[i]);

		CHECK_EQ_INT(parse_req_lim(r, (size_t)n, &lim), H1_ERROR);
		CHECK_EQ_INT(err.status, 400);
	}
	/* NUL, which no C string can hold */
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";

	CHECK_EQ_INT(parse_req_lim(nul, sizeof(nul) - 1, &lim), H1_ERROR);
	CHECK_EQ_INT(err.status, 400);
	/* in a long value, so the word scanner meets it too */
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaaaaaaaaaa\x7f" "aaaaaaaa\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaa\rbbbbbbbbbbbbbbbbbb\r\n\r\n", 400);

	/* HTAB, SP, VCHAR and obs-text are all fine; OWS is trimmed */
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nX: \t a\tb \xe9\xff c \t \r\nY:\r\nZ:   \r\n\r\n");
	CHECK(sl_is(hdr("x")->value, "a\tb \xe9\xff c"));
	CHECK(sl_is(hdr("y")->value, ""));
	CHECK(sl_is(hdr("z")->value, ""));
}

TEST(t_bare_lf)
{
	REJECT("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400);
}

TEST(t_hdr_idx)
{
	ACCEPT("GET / HTTP/1.1\r\nX-Forwarded-For: 1\r\nHost: a\r\nx-forwarded-for: 2\r\n"
	       "COOKIE: c\r\n\r\n");
	CHECK_EQ_INT(m.hdr_idx[HDR_X_FORWARDED_FOR], 0);
	CHECK_EQ_INT(m.hdr_idx[HDR_HOST], 1);
	CHECK_EQ_INT(m.hdr_idx[HDR_COOKIE], 3);
	CHECK_EQ_INT(m.hdrs[2].id, HDR_X_FORWARDED_FOR);
	CHECK_EQ_INT(m.hdrs[3].id, HDR_COOKIE);
	CHECK(sl_is(m.hdrs[3].name, "COOKIE"));
}

/* ------------------------------------------------------------------------
 * Host
 */
TEST(t_host)
{
	REJECT("GET / HTTP/1.1\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost:   \r\n\r\n", 400);
	ACCEPT("GET / HTTP/1.0\r\n\r\n");
	CHECK_EQ_INT(m.authority.len, 0);
	ACCEPT("GET / HTTP/1.0\r\nHost:\r\n\r\n");
	REJECT("GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400);
	REJECT("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);

	static const char *bad[] = {
		"a b", "a/b", "a@b", "a?b", "a#b", "a\\b", "[::1", "::1", "[::1]x", "a:99999",
		"a:", "a:x", ":80", "a:80:80", "[zz::1]", "[1:2:3:4:5:6:7:8:9]", "[1::2::3]",
		"a%4", "a%zz", "[fe80::1%25eth0]", "[v1.x]", "a\"b", "a<b", "a:+80",
		"[1:2:3:4:5:6:7]", "[::1.2.3]", "[::256.1.1.1]", "[12345::]",
	};
	char r[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		CHECK_EQ_INT(preq(r), H1_ERROR);
		CHECK_EQ_INT(err.status, 400);
		if (err.status != 400)
			fprintf(stderr, "  host accepted: %s\n", bad[i]);
	}

	static const char *good[] = {
		"example.com", "Example.COM:8080", "[::1]:80", "1.2.3.4", "[2001:db8::1]",
		"xn--bcher-kva.example", "a%41b", "[::]", "[1:2:3:4:5:6:7:8]", "[::ffff:1.2.3.4]",
		"[1::]", "a_b-c~d", "localhost:0", "a:65535",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		CHECK_EQ_INT(preq(r), H1_DONE);
		CHECK(sl_is(m.authority, good[i]));
		if (!sl_is(m.authority, good[i]))
			fprintf(stderr, "  host refused: %s\n", good[i]);
	}
}

/* ------------------------------------------------------------------------
 * Content-Length and Transfer-Encoding
 */
TEST(t_content_length)
{
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 5);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 0);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n");
	CHECK(m.content_length == 9999999999999999999ULL);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  007 \r\n\r\n");
	CHECK_EQ_INT(m.content_length, 7);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n");
	CHECK_EQ_INT(m.content_length, 5);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 , 5,5\r\n\r\n");
	CHECK_EQ_INT(m.content_length, 5);
	/* CL is regenerated by the encoder, never flagged hop */
	CHECK(!(hdr("content-length")->flags & HDR_F_HOP));

	static const char *bad[] = {
		"+5", "-5", "5 5", "0x5", "", "5a", "a", "10000000000000000000",
		"18446744073709551616", "99999999999999999999", "5,6", "5, 6", "5,,5", "5,",
		",5", "5;", "5.0", "\xef\xbc\x95", "5\t6",
	};
	char r[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(r, sizeof(r), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		CHECK_EQ_INT(preq(r), H1_ERROR);
		CHECK_EQ_INT(err.status, 400);
	}
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05x\r\n\r\n", 400);
}

TEST(t_transfer_encoding)
{
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	CHECK(!(m.flags & MSG_F_TE_OTHER));
	CHECK(!(hdr("transfer-encoding")->flags & HDR_F_HOP));
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked ,\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	/* accepted: chunked is last; the other codings are kept for the encoder */
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	CHECK(m.flags & MSG_F_TE_OTHER);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_CHUNKED);

	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: gzip\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Content-Length: 5\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	/* classic smuggling shapes */
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       " chunked\r\n\r\n", 400);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunk\r\n\r\n", 400);
}

TEST(t_body_none)
{
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.content_length, 0);
}

/* ------------------------------------------------------------------------
 * Connection and the other semantic fields
 */
TEST(t_connection)
{
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n");
	CHECK(m.flags & MSG_F_CONN_CLOSE);
	CHECK(hdr("connection")->flags & HDR_F_HOP);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(!(m.flags & MSG_F_CONN_CLOSE));
	ACCEPT("GET / HTTP/1.0\r\n\r\n");
	CHECK(m.flags & MSG_F_CONN_CLOSE);
	ACCEPT("GET / HTTP/1.0\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n");
	CHECK(!(m.flags & MSG_F_CONN_CLOSE));
	CHECK(m.flags & MSG_F_CONN_KEEPALIVE);
	CHECK(hdr("keep-alive")->flags & HDR_F_HOP);
	ACCEPT("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
	CHECK(m.flags & MSG_F_CONN_CLOSE);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: UPGRADE\r\nUpgrade: websocket\r\n\r\n");
	CHECK(m.flags & MSG_F_CONN_UPGRADE);
	CHECK(m.flags & MSG_F_HAS_UPGRADE);
	CHECK(hdr("upgrade")->flags & HDR_F_HOP);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
	CHECK(m.flags & MSG_F_HAS_UPGRADE);
	CHECK(!(m.flags & MSG_F_CONN_UPGRADE));
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nConnection: close;x\r\n\r\n", 400);
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n", 400);
}

TEST(t_connection_nominates)
{
	ACCEPT("GET / HTTP/1.1\r\nX-Foo: 1\r\nHost: a\r\nConnection: x-foo, , X-Bar\r\n"
	       "X-Bar: 2\r\nX-Keep: 3\r\nX-FOO: 4\r\nContent-Length: 0\r\n\r\n");
	CHECK(m.hdrs[0].flags & HDR_F_HOP);
	CHECK(!(m.hdrs[1].flags & HDR_F_HOP));
	CHECK(m.hdrs[3].flags & HDR_F_HOP);
	CHECK(!(m.hdrs[4].flags & HDR_F_HOP));
	CHECK(m.hdrs[5].flags & HDR_F_HOP);
	CHECK(!(m.hdrs[6].flags & HDR_F_HOP));
	/* Host and framing fields cannot be nominated away */
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nConnection: host, content-length\r\n"
	       "Connection: transfer-encoding, Cookie\r\nCookie: c\r\nContent-Length: 1\r\n\r\n");
	CHECK(!(hdr("host")->flags & HDR_F_HOP));
	CHECK(!(hdr("content-length")->flags & HDR_F_HOP));
	CHECK(hdr("cookie")->flags & HDR_F_HOP);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
}

TEST(t_hop_fields)
{
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: 1\r\nTE: trailers\r\nTrailer: X\r\n"
	       "Proxy-Connection: close\r\nUpgrade: x\r\nConnection: close\r\nX: y\r\n\r\n");
	for (int i = 0; i < m.nhdrs; i++) {
		bool hop = !(sl_is(m.hdrs[i].name, "Host") || sl_is(m.hdrs[i].name, "X"));

		CHECK_EQ_INT(!!(m.hdrs[i].flags & HDR_F_HOP), hop);
	}
	CHECK(m.flags & MSG_F_TE_TRAILERS);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nTE: gzip;q=0.5, Trailers ;q=1\r\n\r\n");
	CHECK(m.flags & MSG_F_TE_TRAILERS);
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nTE: gzip\r\n\r\n");
	CHECK(!(m.flags & MSG_F_TE_TRAILERS));
}

/* No h2c upgrade ever leaves the proxy (h1.h): the request is plain
 * HTTP/1.1, its Upgrade fields and every HTTP2-Settings field gone. */
static bool h2c_dropped(void)
{
	bool ok = !(m.flags & (MSG_F_HAS_UPGRADE | MSG_F_CONN_UPGRADE)) &&
		  m.hdr_idx[HDR_UPGRADE] < 0 && hdr("upgrade") == NULL &&
		  hdr("http2-settings") == NULL;

	for (int i = 0; i < m.nhdrs; i++)
		if (m.hdrs[i].id == HDR_UPGRADE || slice_ieq_cstr(m.hdrs[i].name, "http2-settings"))
			ok = ok && (m.hdrs[i].flags & HDR_F_DELETED) &&
			     (m.hdrs[i].flags & HDR_F_HOP);
	return ok;
}

TEST(t_upgrade_h2c)
{
	static const char *const h2c[] = {
		/* the RFC 7540 3.2 dance as curl --http2 sends it */
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
		/* h2c anywhere in the list, any case, with a version, over several fields */
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n"
		"Upgrade: websocket, H2C\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
		"Upgrade: h2c/1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: ,h2c,\r\n\r\n",
		/* h2 (TLS-only) and HTTP/2 are the same protocol */
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: h2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: HTTP/2.0\r\n\r\n",
		/* without Connection: upgrade it was no upgrade anyway; still dropped */
		"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(h2c) / sizeof(h2c[0]); i++) {
		ACCEPT(h2c[i]);
		if (!h2c_dropped()) {
			unit_failed_checks++;
			fprintf(stderr, "  h2c upgrade kept in request %zu\n", i);
		}
	}
	/* the rest of the request is untouched */
	ACCEPT(h2c[0]);
	CHECK(hdr("connection")->flags & HDR_F_HOP);
	CHECK(sl_is(hdr("host")->value, "a"));
	CHECK(!(hdr("host")->flags & (HDR_F_DELETED | HDR_F_HOP)));
	CHECK_EQ_INT(m.body, BODY_NONE);
	ACCEPT(h2c[6]);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 2);

	/* HTTP2-Settings goes from every request, upgrade or not */
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
	       "X: y\r\n\r\n");
	CHECK(h2c_dropped());
	CHECK(hdr("x") && !(hdr("x")->flags & (HDR_F_DELETED | HDR_F_HOP)));
	ACCEPT("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	       "HTTP2-Settings: x\r\n\r\n");
	CHECK(hdr("http2-settings") == NULL);
	CHECK(m.flags & MSG_F_HAS_UPGRADE);   /* the websocket upgrade stays */

	/* other upgrades are kept: names that only look like h2c */
	static const char *const other[] = {
		"Upgrade: websocket", "Upgrade: h2cx", "Upgrade: xh2c", "Upgrade: h3",
		"Upgrade: HTTP/1.1", "Upgrade: TLS/1.2", "Upgrade: http/3",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n%s\r\n\r\n",
			 other[i]);
		ACCEPT(req);
		if (!(m.flags & MSG_F_HAS_UPGRADE) || !(m.flags & MSG_F_CONN_UPGRADE) ||
		    !hdr("upgrade") || (hdr("upgrade")->flags & HDR_F_DELETED)) {
			unit_failed_checks++;
			fprintf(stderr, "  '%s' lost its upgrade\n", other[i]);
		}
	}

	/* the encoder leaves them out: the server sees plain HTTP/1.1 */
	static char enc[1024];
	ACCEPT(h2c[0]);
	int n = h1_encode_request(&m, NULL, 0, enc, sizeof(enc));
	CHECK(n > 0);
	enc[n > 0 ? n : 0] = '\0';
	CHECK_STR(enc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");

	/* responses are not touched (a 101 is judged by the proxy) */
	CHECK_EQ_INT(presp("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
			   "Upgrade: h2c\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK(m.flags & MSG_F_HAS_UPGRADE);
	CHECK_EQ_INT(m.body, BODY_TUNNEL);
	CHECK(hdr("upgrade") != NULL);
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nHTTP2-Settings: x\r\nContent-Length: 0\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	CHECK(hdr("http2-settings") != NULL);
}

TEST(t_expect)
{
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	CHECK(m.flags & MSG_F_EXPECT_CONTINUE);
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n");
	CHECK(m.flags & MSG_F_EXPECT_CONTINUE);
	/* HTTP/1.0 must ignore 100-continue (RFC 9110 10.1.1) */
	ACCEPT("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
	CHECK(!(m.flags & MSG_F_EXPECT_CONTINUE));
	ACCEPT("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n");
	CHECK(!(m.flags & MSG_F_EXPECT_CONTINUE));
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417);
	REJECT("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo=bar\r\n\r\n", 417);
}

TEST(t_pipelined)
{
	const char *r = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
			"GET /b HTTP/1.1\r\nHost: b\r\n\r\n"
			"GET /c HTTP/1.1\r\nHost: c\r\n\r\n";
	size_t len = strlen(r), off = 0;

	CHECK_EQ_INT(preq(r), H1_DONE);
	CHECK(sl_is(m.path, "/a"));
	CHECK_EQ_INT(ps.head_len, strlen("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"));
	off = ps.head_len + m.content_length;
	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_request(&ps, r + off, len - off, &m, &lim, &err), H1_DONE);
	CHECK(sl_is(m.path, "/b"));
	CHECK(sl_is(m.authority, "b"));
	off += ps.head_len;
	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_request(&ps, r + off, len - off, &m, &lim, &err), H1_DONE);
	CHECK(sl_is(m.path, "/c"));
	CHECK_EQ_INT(off + ps.head_len, len);
}

/* ------------------------------------------------------------------------
 * Responses
 */
TEST(t_response_basic)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\nhello world!";

	CHECK_EQ_INT(presp(r, HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.status, 200);
	CHECK(sl_is(m.reason, "OK"));
	CHECK(m.flags & MSG_F_RESPONSE);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 12);
	CHECK_EQ_INT(ps.head_len, strlen(r) - 12);
	CHECK(!(m.flags & MSG_F_CONN_CLOSE));

	CHECK_EQ_INT(presp("HTTP/1.1 404 Not  Found \t\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK(sl_is(m.reason, "Not  Found \t"));
	CHECK_EQ_INT(m.body, BODY_UNTIL_CLOSE);
	CHECK_EQ_INT(presp("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.reason.len, 0);
	CHECK_EQ_INT(presp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.reason.len, 0);
	CHECK_EQ_INT(presp("HTTP/1.0 200 OK\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK(m.flags & MSG_F_CONN_CLOSE);
	CHECK_EQ_INT(presp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	CHECK(!(m.flags & MSG_F_CONN_CLOSE));
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nConnection: close, X-A\r\nX-A: 1\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	CHECK(m.flags & MSG_F_CONN_CLOSE);
	CHECK(hdr("x-a")->flags & HDR_F_HOP);
	/* no Host needed in a response */
	CHECK_EQ_INT(m.hdr_idx[HDR_HOST], -1);
}

TEST(t_response_framing)
{
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_CHUNKED);
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_UNTIL_CLOSE);
	CHECK(m.flags & MSG_F_TE_OTHER);
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_UNTIL_CLOSE);
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\n\r\n", HTTP_METH_POST), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_UNTIL_CLOSE);

	/* HEAD: no body, but the Content-Length is kept for the encoder */
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", HTTP_METH_HEAD),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(m.content_length, 42);
	CHECK(m.flags & MSG_F_KEEP_CL);
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			   HTTP_METH_HEAD), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(presp("HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(m.flags & MSG_F_KEEP_CL);
	CHECK_EQ_INT(presp("HTTP/1.1 204 No Content\r\nContent-Length: 42\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK(!(m.flags & MSG_F_KEEP_CL));
	CHECK_EQ_INT(presp("HTTP/1.1 100 Continue\r\n\r\n", HTTP_METH_POST), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(presp("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_NONE);
	CHECK_EQ_INT(presp("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
			   "Upgrade: websocket\r\n\r\n", HTTP_METH_GET), H1_DONE);
	CHECK_EQ_INT(m.body, BODY_TUNNEL);
	CHECK(m.flags & MSG_F_HAS_UPGRADE);
	CHECK_EQ_INT(presp("HTTP/1.1 200 Connection established\r\n\r\n", HTTP_METH_CONNECT),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_TUNNEL);
	CHECK_EQ_INT(presp("HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n", HTTP_METH_CONNECT),
		     H1_DONE);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
}

/* Where the parser is lives in the caller's struct h1_parser, not in the
 * message: an interim response and the final one behind it in the same
 * bytes, parsed as http_res.c does (parser and message reset between the
 * two heads), and a call after H1_DONE that changes nothing. */
TEST(t_parser_state)
{
	const char *r = "HTTP/1.1 100 Continue\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t n = strlen(r), first = strlen("HTTP/1.1 100 Continue\r\n\r\n");

	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_response(&ps, r, n, &m, HTTP_METH_POST, &lim, &err), H1_DONE);
	CHECK_EQ_INT(m.status, 100);
	CHECK_EQ_INT(ps.head_len, first);
	CHECK_EQ_INT(h1_parse_response(&ps, r, n, &m, HTTP_METH_POST, &lim, &err), H1_DONE);
	CHECK_EQ_INT(m.status, 100);
	CHECK_EQ_INT(ps.head_len, first);

	msg_reset(&m);
	h1_parser_reset(&ps);
	CHECK_EQ_INT(h1_parse_response(&ps, r + first, 10, &m, HTTP_METH_POST, &lim, &err),
		     H1_NEED_MORE);
	CHECK_EQ_INT(ps.head_len, 0);
	CHECK_EQ_INT(h1_parse_response(&ps, r + first, n - first, &m, HTTP_METH_POST, &lim, &err),
		     H1_DONE);
	CHECK_EQ_INT(m.status, 200);
	CHECK_EQ_INT(m.body, BODY_LENGTH);
	CHECK_EQ_INT(m.content_length, 2);
	CHECK_EQ_INT(first + ps.head_len, n - 2);
}

TEST(t_response_reject)
{
	REJECT_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		    HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 304 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		    HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		    HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 099 Low\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 600 High\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 20 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 2000 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1  200 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/2 200 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/2.0 200 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("http/1.1 200 OK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200\tOK\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", HTTP_METH_GET);
	REJECT_RESP("HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n", HTTP_METH_GET);

	/* even "head too large" and "too many fields" are the server's fault */
	static char r[9000];

	memcpy(r, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(r + 20, 'x', sizeof(r) - 21);
	r[sizeof(r) - 1] = 0;
	REJECT_RESP(r, HTTP_METH_GET);
}

/* ------------------------------------------------------------------------
 * Every split point gives the one-shot result
 */
static bool same_slice(struct slice a, struct slice b)
{
	return a.len == b.len && a.p == b.p;
}

static bool same_msg(const struct http_msg *a, const struct h1_parser *pa,
		     const struct http_msg *b, const struct h1_parser *pb)
{
	if (a->flags != b->flags || a->version_major != b->version_major ||
	    a->version_minor != b->version_minor || a->meth != b->meth ||
	    !same_slice(a->method, b->method) || !same_slice(a->target, b->target) ||
	    !same_slice(a->path, b->path) || !same_slice(a->query, b->query) ||
	    !same_slice(a->authority, b->authority) || a->status != b->status ||
	    !same_slice(a->reason, b->reason) || a->body != b->body ||
	    a->content_length != b->content_length || pa->head_len != pb->head_len ||
	    a->nhdrs != b->nhdrs || memcmp(a->hdr_idx, b->hdr_idx, sizeof(a->hdr_idx)))
		return false;
	for (int i = 0; i < a->nhdrs; i++)
		if (!same_slice(a->hdrs[i].name, b->hdrs[i].name) ||
		    !same_slice(a->hdrs[i].value, b->hdrs[i].value) ||
		    a->hdrs[i].id != b->hdrs[i].id || a->hdrs[i].flags != b->hdrs[i].flags)
			return false;
	return true;
}

static const char *split_reqs[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"\r\n\r\nGET /x?y HTTP/1.1\r\nHost: example.com:80\r\nUser-Agent: curl/8\r\n\r\n",
	"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"GET http://b.example/p HTTP/1.1\r\nHost: x\r\nConnection: X-A, keep-alive\r\n"
	"X-A: 1\r\nKeep-Alive: 5\r\n\r\n",
	"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
	"OPTIONS * HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
	"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: nope\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\n\n",
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
};

static const char *split_resps[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 204\r\nServer: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 999 OK\r\n\r\n",
	"HTTP/1.0 101 x\r\n\r\n",
};

static struct http_msg one;
static struct h1_parser one_ps;

/* Parses s whole, then again from every prefix length 1..n in turn on one
 * msg, and checks both runs agree on everything. */
static void split_check(const char *s, size_t n, bool resp, const struct h1_limits *l)
{
	struct h1_err e1 = { 0 }, e2 = { 0 };
	int rc1, rc2 = H1_NEED_MORE;

	msg_reset(&one);
	h1_parser_reset(&one_ps);
	rc1 = resp ? h1_parse_response(&one_ps, s, n, &one, HTTP_METH_GET, l, &e1)
		   : h1_parse_request(&one_ps, s, n, &one, l, &e1);
	msg_reset(&m);
	h1_parser_reset(&ps);
	for (size_t k = 1; k <= n && rc2 == H1_NEED_MORE; k++)
		rc2 = resp ? h1_parse_response(&ps, s, k, &m, HTTP_METH_GET, l, &e2)
			   : h1_parse_request(&ps, s, k, &m, l, &e2);
	CHECK_EQ_INT(rc2, rc1);
	if (rc1 == H1_DONE)
		CHECK(same_msg(&one, &one_ps, &m, &ps));
	if (rc1 == H1_ERROR) {
		CHECK_EQ_INT(e2.status, e1.status);
		CHECK_EQ_INT(e2.offset, e1.offset);
		CHECK(e1.reason == e2.reason);
	}
	if (rc1 != rc2 || (rc1 == H1_DONE && !same_msg(&one, &one_ps, &m, &ps)) ||
	    e1.status != e2.status)
		fprintf(stderr, "  split mismatch on: %.*s\n", (int)n, s);

	/* and two-part splits at each point, starting over each time */
	for (size_t k = 0; k <= n; k++) {
		msg_reset(&m);
		h1_parser_reset(&ps);
		memset(&e2, 0, sizeof(e2));
		rc2 = resp ? h1_parse_response(&ps, s, k, &m, HTTP_METH_GET, l, &e2)
			   : h1_parse_request(&ps, s, k, &m, l, &e2);
		if (rc2 == H1_NEED_MORE)
			rc2 = resp ? h1_parse_response(&ps, s, n, &m, HTTP_METH_GET, l, &e2)
				   : h1_parse_request(&ps, s, n, &m, l, &e2);
		CHECK_EQ_INT(rc2, rc1);
		CHECK_EQ_INT(e2.status, e1.status);
		if (rc1 == H1_DONE)
			CHECK(same_msg(&one, &one_ps, &m, &ps));
	}
}

/* The caller may move the bytes between calls (buffer compaction): parse a
 * prefix in one place, scribble over it, finish in another place. */
static void moved_check(const char *s, size_t n, bool resp, const struct h1_limits *l)
{
	char *a = malloc(n + 1), *b = malloc(n + 1);
	struct h1_err e1 = { 0 }, e2 = { 0 };
	int rc1, rc2;
	bool ok = true;

	memcpy(b, s, n);
	msg_reset(&one);
	h1_parser_reset(&one_ps);
	rc1 = resp ? h1_parse_response(&one_ps, b, n, &one, HTTP_METH_GET, l, &e1)
		   : h1_parse_request(&one_ps, b, n, &one, l, &e1);
	for (size_t k = 1; k < n; k++) {
		memcpy(a, s, n);
		msg_reset(&m);
		h1_parser_reset(&ps);
		rc2 = resp ? h1_parse_response(&ps, a, k, &m, HTTP_METH_GET, l, &e2)
			   : h1_parse_request(&ps, a, k, &m, l, &e2);
		if (rc2 == H1_DONE)
			break;	/* the head was whole in the first place */
		memset(a, 'Z', n);
		if (rc2 == H1_NEED_MORE)
			rc2 = resp ? h1_parse_response(&ps, b, n, &m, HTTP_METH_GET, l, &e2)
				   : h1_parse_request(&ps, b, n, &m, l, &e2);
		ok &= rc2 == rc1 && (rc1 != H1_DONE || same_msg(&one, &one_ps, &m, &ps));
	}
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "  moved-buffer mismatch on: %.*s\n", (int)n, s);
	free(a);
	free(b);
}

TEST(t_split_heads)
{
	for (size_t i = 0; i < sizeof(split_reqs) / sizeof(split_reqs[0]); i++) {
		split_check(split_reqs[i], strlen(split_reqs[i]), false, &lim);
		split_check(split_reqs[i], strlen(split_reqs[i]), false, &tight);
		moved_check(split_reqs[i], strlen(split_reqs[i]), false, &lim);
	}
	for (size_t i = 0; i < sizeof(split_resps) / sizeof(split_resps[0]); i++) {
		split_check(split_resps[i], strlen(split_resps[i]), true, &lim);
		split_check(split_resps[i], strlen(split_resps[i]), true, &tight);
		moved_check(split_resps[i], strlen(split_resps[i]), true, &lim);
	}
	/* the limits really did change outcomes in the tight run */
	CHECK_EQ_INT(parse_req_lim(split_reqs[12], strlen(split_reqs[12]), &tight), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);
	CHECK_EQ_INT(parse_req_lim(split_reqs[13], strlen(split_reqs[13]), &tight), H1_ERROR);
	CHECK_EQ_INT(err.status, 414);
}

/* ------------------------------------------------------------------------
 * Chunked bodies
 */
struct chunk_run {
	int rc;
	char out[16384];
	size_t out_len;
	size_t consumed;	/* input bytes consumed in all */
	uint64_t total;
	const char *reason;
};

/* Feeds `in` to a fresh decoder in pieces: after each call the unconsumed
 * remainder moves to the start of the work buffer, as a proxy would, then
 * the next piece is appended.  step == 0 means all at once; otherwise the
 * pieces are `step` bytes, except that the first is `first` bytes. */
static void chunk_feed(const char *in, size_t n, enum h1_chunk_mode mode, size_t first,
		       size_t step, struct chunk_run *r)
{
	static char work[8192];
	struct h1_chunk c;
	struct h1_err e = { 0 };
	size_t have = 0, fed = 0;

	h1_chunk_init(&c, mode);
	memset(r, 0, sizeof(*r));
	r->rc = H1_NEED_MORE;
	while (r->rc == H1_NEED_MORE && (fed < n || have)) {
		size_t piece = step == 0 ? n : (fed == 0 ? first : step);
		size_t cons, prod;

		if (piece > n - fed)
			piece = n - fed;
		if (piece == 0 && fed < n)
			piece = 1;
		memcpy(work + have, in + fed, piece);
		have += piece;
		fed += piece;
		r->rc = h1_chunk_step(&c, work, have, &cons, &prod, &e);
		CHECK(prod <= cons);
		memcpy(r->out + r->out_len, work, prod);
		r->out_len += prod;
		r->consumed += cons;
		memmove(work, work + cons, have - cons);
		have -= cons;
		if (fed == n && r->rc == H1_NEED_MORE)
			break;
	}
	r->total = c.total;
	r->reason = r->rc == H1_ERROR ? e.reason : NULL;
}

static int chunk_once(const char *in, size_t n, enum h1_chunk_mode mode, struct chunk_run *r)
{
	chunk_feed(in, n, mode, 0, 0, r);
	return r->rc;
}

#define CHUNK_OK(in, mode, expect) do { \
	struct chunk_run _r; \
	CHECK_EQ_INT(chunk_once((in), strlen(in), (mode), &_r), H1_DONE); \
	CHECK_EQ_INT(_r.out_len, strlen(expect)); \
	CHECK(_r.out_len == strlen(expect) && memcmp(_r.out, (expect), _r.out_len) == 0); \
	CHECK_EQ_INT(_r.consumed, strlen(in)); \
} while (0)

#define CHUNK_BAD(in) do { \
	struct chunk_run _r; \
	CHECK_EQ_INT(chunk_once((in), strlen(in), H1_CHUNK_NORMALIZE, &_r), H1_ERROR); \
	CHECK(_r.reason != NULL); \
} while (0)

TEST(t_chunk_decode)
{
	struct chunk_run r;

	CHUNK_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", H1_CHUNK_DECODE, "hello world");
	CHECK_EQ_INT(chunk_once("5\r\nhello\r\n0\r\n\r\n", 15, H1_CHUNK_DECODE, &r), H1_DONE);
	CHECK_EQ_INT(r.total, 5);
	CHUNK_OK("0\r\n\r\n", H1_CHUNK_DECODE, "");
	CHUNK_OK("3;a=b\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", H1_CHUNK_DECODE, "abc");
	CHUNK_OK("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", H1_CHUNK_DECODE,
		 "01234567890123456789");
}

TEST(t_chunk_normalize)
{
	CHUNK_OK("005;ext=1\r\nhello\r\n0000\r\nX-T: 1\r\n\r\n", H1_CHUNK_NORMALIZE,
		 "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
	CHUNK_OK("1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n", H1_CHUNK_NORMALIZE,
		 "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n");
	/* extensions with BWS, token and quoted values are dropped */
	CHUNK_OK("3 ; a = b ;c=\"q\\\"x;y\" ;d\t;e=1\r\nabc\r\n0;last\r\n\r\n",
		 H1_CHUNK_NORMALIZE, "3\r\nabc\r\n0\r\n\r\n");
	/* trailers go through byte for byte, except framing/routing/hop ones */
	CHUNK_OK("1\r\nx\r\n0\r\nX-Sum:  abc \r\nContent-Length: 5\r\nHost: e\r\n"
		 "transfer-encoding: chunked\r\nConnection: close\r\nServer-Timing: a\r\n\r\n",
		 H1_CHUNK_NORMALIZE, "1\r\nx\r\n0\r\nX-Sum:  abc \r\nServer-Timing: a\r\n\r\n");
}

TEST(t_chunk_reject)
{
	CHUNK_BAD("g\r\nx\r\n0\r\n\r\n");
	CHUNK_BAD("\r\n");
	CHUNK_BAD("-5\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("0x5\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("+5\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD(" 5\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5 \r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5\r\nhello\n0\r\n\r\n");
	CHUNK_BAD("5\r\nhelloX\r\n0\r\n\r\n");
	CHUNK_BAD("5\r\nhello\rX0\r\n\r\n");
	CHUNK_BAD("5\r\nhello\r\n0\r\n\n");
	CHUNK_BAD("5\r\nhello\r\n0\n\r\n");
	CHUNK_BAD("5;\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;=x\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;a=\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;a=b \r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;a=\"x\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;a=\"x\\\x01\"\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5;a b\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5,a\r\nhello\r\n0\r\n\r\n");
	CHUNK_BAD("5\r\x01\nhello\r\n0\r\n\r\n");
	/* 16 hex digits are fine, 17 are not, even with leading zeros */
	CHUNK_BAD("00000000000000001\r\nx\r\n0\r\n\r\n");
	CHUNK_BAD("10000000000000000\r\nx\r\n0\r\n\r\n");
	/* trailers: validated like header fields */
	CHUNK_BAD("0\r\nbad line\r\n\r\n");
	CHUNK_BAD("0\r\nX : y\r\n\r\n");
	CHUNK_BAD("0\r\n folded\r\n\r\n");
	CHUNK_BAD("0\r\n: y\r\n\r\n");
	CHUNK_BAD("0\r\nX: a\x7f\r\n\r\n");
	CHUNK_BAD("0\r\nX: a\rb\r\n\r\n");

	struct chunk_run r;

	/* "5\0..." really is refused: the NUL is not a hex digit */
	CHECK_EQ_INT(chunk_once("5\0\r\nhello\r\n0\r\n\r\n", 17, H1_CHUNK_DECODE, &r), H1_ERROR);
	/* a valid 16-digit size: the decoder waits for data */
	CHECK_EQ_INT(chunk_once("ffffffffffffffff\r\nabc", 21, H1_CHUNK_DECODE, &r), H1_NEED_MORE);
	CHECK_EQ_INT(r.total, 3);
	CHECK_EQ_INT(r.out_len, 3);

	/* total would overflow */
	struct h1_chunk c;
	struct h1_err e;
	char buf[] = "2\r\nab\r\n";
	size_t cons, prod;

	h1_chunk_init(&c, H1_CHUNK_DECODE);
	c.total = UINT64_MAX - 1;
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 7, &cons, &prod, &e), H1_ERROR);
	CHECK_EQ_INT(e.status, 400);
	/* and once failed, it stays failed */
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 7, &cons, &prod, &e), H1_ERROR);

	/* too many trailer fields */
	static char many[8192];
	size_t n = (size_t)snprintf(many, sizeof(many), "0\r\n");

	for (int i = 0; i <= HTTP_MAX_HDRS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "T%d: v\r\n", i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "\r\n");
	CHECK_EQ_INT(chunk_once(many, n, H1_CHUNK_NORMALIZE, &r), H1_ERROR);
}

/* "5;aaa...a" CRLF "hello" CRLF last-chunk: a size line of `line` bytes */
static size_t long_size_line(char *buf, size_t line)
{
	memcpy(buf, "5;", 2);
	memset(buf + 2, 'a', line - 4);
	memcpy(buf + line - 2, "\r\nhello\r\n0\r\n\r\n", 15);
	return line + 13;
}

TEST(t_chunk_line_limit)
{
	static char big[8192];
	struct chunk_run r;
	size_t n;

	/* 4096 bytes with the CRLF fit, 4097 do not */
	n = long_size_line(big, 4096);
	CHECK_EQ_INT(chunk_once(big, n, H1_CHUNK_DECODE, &r), H1_DONE);
	CHECK(r.out_len == 5 && memcmp(r.out, "hello", 5) == 0);
	n = long_size_line(big, 4097);
	CHECK_EQ_INT(chunk_once(big, n, H1_CHUNK_DECODE, &r), H1_ERROR);
	/* an incomplete line under the limit waits, at the limit it fails */
	CHECK_EQ_INT(chunk_once(big, 4095, H1_CHUNK_DECODE, &r), H1_NEED_MORE);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK_EQ_INT(chunk_once(big, 4096, H1_CHUNK_DECODE, &r), H1_ERROR);
	/* same for trailer lines */
	memcpy(big, "0\r\nX: ", 6);
	memset(big + 6, 'v', 5000);
	CHECK_EQ_INT(chunk_once(big, 5006, H1_CHUNK_NORMALIZE, &r), H1_ERROR);
	memcpy(big + 3 + 4094, "\r\n\r\n", 4);
	CHECK_EQ_INT(chunk_once(big, 3 + 4096 + 2, H1_CHUNK_NORMALIZE, &r), H1_DONE);
	CHECK_EQ_INT(r.out_len, 3 + 4096 + 2);
}

TEST(t_chunk_partial)
{
	struct h1_chunk c;
	struct h1_err e;
	size_t cons, prod;
	char buf[64];

	/* data may be consumed in part; lines are consumed whole only */
	h1_chunk_init(&c, H1_CHUNK_NORMALIZE);
	memcpy(buf, "5\r\nhel", 6);
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 6, &cons, &prod, &e), H1_NEED_MORE);
	CHECK_EQ_INT(cons, 6);
	CHECK_EQ_INT(prod, 6);
	CHECK(memcmp(buf, "5\r\nhel", 6) == 0);
	CHECK_EQ_INT(c.remaining, 2);
	memcpy(buf, "lo\r", 3);
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 3, &cons, &prod, &e), H1_NEED_MORE);
	CHECK_EQ_INT(cons, 2);
	CHECK_EQ_INT(prod, 2);
	memcpy(buf, "\r\n1", 3);
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 3, &cons, &prod, &e), H1_NEED_MORE);
	CHECK_EQ_INT(cons, 2);
	CHECK_EQ_INT(prod, 2);
	memcpy(buf, "1\r\nx\r\n0\r\n\r\nGET /", 16);
	CHECK_EQ_INT(h1_chunk_step(&c, buf, 16, &cons, &prod, &e), H1_DONE);
	CHECK_EQ_INT(cons, 11);
	CHECK(prod == 11 && memcmp(buf, "1\r\nx\r\n0\r\n\r\n", 11) == 0);
	CHECK_EQ_INT(c.total, 6);
	/* called again after the end, it consumes nothing */
	CHECK_EQ_INT(h1_chunk_step(&c, buf + 11, 5, &cons, &prod, &e), H1_DONE);
	CHECK_EQ_INT(cons, 0);
}

static const char *split_chunks[] = {
	"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	"005;ext=1;q=\"a;b\"\r\nhello\r\n0000\r\nX-T: 1\r\nHost: h\r\n\r\nNEXT",
	"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
	"0\r\n\r\n",
	"5\r\nhelloX\r\n0\r\n\r\n",
	"5\r\nhello\n0\r\n\r\n",
	"5;a=\"unterminated\r\nhello\r\n",
	"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
	"3\r\nabc\r\n",
	"zz\r\n",
	"4\r\nab\r\n\r\n0\r\n\r\n",
};

TEST(t_split_chunks)
{
	for (int mode = 0; mode < 2; mode++) {
		for (size_t i = 0; i < sizeof(split_chunks) / sizeof(split_chunks[0]); i++) {
			const char *s = split_chunks[i];
			size_t n = strlen(s);
			struct chunk_run a, b;
			bool ok = true;

			chunk_feed(s, n, (enum h1_chunk_mode)mode, 0, 0, &a);
			/* byte by byte: every split point at once */
			chunk_feed(s, n, (enum h1_chunk_mode)mode, 1, 1, &b);
			ok &= a.rc == b.rc && a.out_len == b.out_len &&
			      memcmp(a.out, b.out, a.out_len) == 0 && a.total == b.total &&
			      a.reason == b.reason && (a.rc != H1_DONE || a.consumed == b.consumed);
			/* each single split point */
			for (size_t k = 1; k < n; k++) {
				chunk_feed(s, n, (enum h1_chunk_mode)mode, k, n, &b);
				ok &= a.rc == b.rc && a.out_len == b.out_len &&
				      memcmp(a.out, b.out, a.out_len) == 0 && a.total == b.total &&
				      a.reason == b.reason &&
				      (a.rc != H1_DONE || a.consumed == b.consumed);
			}
			CHECK(ok);
			if (!ok)
				fprintf(stderr, "  chunk split mismatch (mode %d) on: %s\n", mode, s);
		}
	}
	/* the set holds both outcomes */
	struct chunk_run r;

	CHECK_EQ_INT(chunk_once(split_chunks[1], strlen(split_chunks[1]), H1_CHUNK_NORMALIZE, &r),
		     H1_DONE);
	CHECK_EQ_INT(r.consumed, strlen(split_chunks[1]) - 4);
	CHECK(r.out_len == 23 && memcmp(r.out, "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", 23) == 0);
	CHECK_EQ_INT(chunk_once(split_chunks[4], strlen(split_chunks[4]), H1_CHUNK_NORMALIZE, &r),
		     H1_ERROR);
}

/* ------------------------------------------------------------------------
 * Encoder
 */
static char out[16384];

static int enc_req(void)
{
	return h1_encode_request(&m, NULL, 0, out, sizeof(out));
}

#define ENC_IS(n, s) do { \
	int _n = (n); \
	CHECK_EQ_INT(_n, (int)strlen(s)); \
	CHECK(_n == (int)strlen(s) && memcmp(out, (s), (size_t)_n) == 0); \
	if (_n > 0 && (_n != (int)strlen(s) || memcmp(out, (s), (size_t)_n) != 0)) \
		fprintf(stderr, "  got: %.*s\n", _n, out); \
} while (0)

TEST(t_encode_request)
{
	ACCEPT("GET /a?b=c HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop\r\n"
	       "X-Hop: 1\r\nKeep-Alive: 300\r\nAccept: */*\r\nTE: trailers\r\n\r\n");
	ENC_IS(enc_req(), "GET /a?b=c HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");

	/* absolute-form becomes origin-form, Host follows the target */
	ACCEPT("GET http://x.example:81 HTTP/1.1\r\nHost: other\r\nProxy-Connection: k\r\n\r\n");
	ENC_IS(enc_req(), "GET / HTTP/1.1\r\nHost: x.example:81\r\n\r\n");
	ACCEPT("GET HTTP://x.example/p/q?r HTTP/1.1\r\nHost: x.example\r\n\r\n");
	ENC_IS(enc_req(), "GET /p/q?r HTTP/1.1\r\nHost: x.example\r\n\r\n");

	/* HTTP/1.0 in, HTTP/1.1 out; CL regenerated, duplicates folded */
	ACCEPT("POST /f HTTP/1.0\r\ncontent-length: 3, 3\r\nContent-Length: 3\r\nX: y\r\n\r\n");
	ENC_IS(enc_req(), "POST /f HTTP/1.1\r\nX: y\r\nContent-Length: 3\r\n\r\n");
	ACCEPT("POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	ENC_IS(enc_req(), "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	ACCEPT("GET http://h.example/ HTTP/1.0\r\nUser-Agent: old\r\n\r\n");
	ENC_IS(enc_req(), "GET / HTTP/1.1\r\nHost: h.example\r\nUser-Agent: old\r\n\r\n");

	/* chunked: TE regenerated; other codings kept, in order */
	ACCEPT("PUT /u HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\nHost: h\r\n\r\n");
	ENC_IS(enc_req(), "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
	ACCEPT("PUT /u HTTP/1.1\r\nTransfer-Encoding: gzip,, br\r\nHost: h\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n");
	ENC_IS(enc_req(),
	       "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, br, chunked\r\n\r\n");

	/* CONNECT and OPTIONS * keep their forms */
	ACCEPT("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
	ENC_IS(enc_req(), "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
	ACCEPT("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
	ENC_IS(enc_req(), "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");

	/* deleted fields skipped, framing changed by the proxy honoured,
	 * extra lines appended verbatim */
	ACCEPT("POST /p HTTP/1.1\r\nHost: h\r\nCookie: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	msg_hdr_del_id(&m, HDR_COOKIE);
	m.body = BODY_LENGTH;
	m.content_length = 12345678901234ULL;
	static const char extra[] = "X-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n";

	ENC_IS(h1_encode_request(&m, extra, sizeof(extra) - 1, out, sizeof(out)),
	       "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 12345678901234\r\n"
	       "X-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n");
	/* a path rewritten by a rule is what goes out */
	ACCEPT("GET /old?q HTTP/1.1\r\nHost: h\r\n\r\n");
	m.path = SLICE_LIT("/new");
	ENC_IS(enc_req(), "GET /new?q HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(t_encode_response)
{
	CHECK_EQ_INT(presp("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
			   "Server: s\r\n\r\n", HTTP_METH_GET), H1_DONE);
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)),
	       "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 5\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 200\r\nContent-Length: 42\r\n\r\n", HTTP_METH_HEAD), H1_DONE);
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)),
	       "HTTP/1.1 200 \r\nContent-Length: 42\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 42\r\n\r\n",
			   HTTP_METH_GET), H1_DONE);
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)),
	       "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 42\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 204 No Content\r\nContent-Length: 42\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)), "HTTP/1.1 204 No Content\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	ENC_IS(h1_encode_response(&m, "X: 1\r\n", 6, out, sizeof(out)),
	       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: 1\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)),
	       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
	/* the proxy chunks an until-close gzip body for a keep-alive client */
	m.body = BODY_CHUNKED;
	ENC_IS(h1_encode_response(&m, NULL, 0, out, sizeof(out)),
	       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	CHECK_EQ_INT(presp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\n\r\n", HTTP_METH_GET), H1_DONE);
	/* the proxy un-flags Upgrade when it tunnels */
	m.hdrs[m.hdr_idx[HDR_UPGRADE]].flags &= (uint8_t)~HDR_F_HOP;
	ENC_IS(h1_encode_response(&m, "Connection: upgrade\r\n", 21, out, sizeof(out)),
	       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
}

TEST(t_encode_capacity)
{
	ACCEPT("POST http://h/x?y HTTP/1.1\r\nHost: h\r\nA: b\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
	int full = h1_encode_request(&m, "E: f\r\n", 6, out, sizeof(out));

	CHECK(full > 0);
	for (int cap = 0; cap < full; cap++)
		CHECK_EQ_INT(h1_encode_request(&m, "E: f\r\n", 6, out, (size_t)cap), -1);
	CHECK_EQ_INT(h1_encode_request(&m, "E: f\r\n", 6, out, (size_t)full), full);

	CHECK_EQ_INT(presp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nA: b\r\n\r\n", HTTP_METH_GET),
		     H1_DONE);
	full = h1_encode_response(&m, NULL, 0, out, sizeof(out));
	CHECK(full > 0);
	for (int cap = 0; cap < full; cap++)
		CHECK_EQ_INT(h1_encode_response(&m, NULL, 0, out, (size_t)cap), -1);
	CHECK_EQ_INT(h1_encode_response(&m, NULL, 0, out, (size_t)full), full);
}

/* parse -> encode -> parse: same fields minus hop-by-hop ones */
TEST(t_roundtrip)
{
	static const char *reqs[] = {
		"GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ua\r\n"
		"Connection: X-Gone, keep-alive\r\nX-Gone: 1\r\nCookie: a=b; c=d\r\n"
		"Accept-Encoding: gzip,  br\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 11\r\nX-Obs: \xe9t\xe9\r\n\r\n",
		"PUT http://h.example/x HTTP/1.1\r\nHost: other\r\nTransfer-Encoding: chunked\r\n"
		"Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: old.example\r\nKeep-Alive: 1\r\n\r\n",
	};
	static char enc[8192];
	static struct http_msg a;
	static struct h1_parser a_ps;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		msg_reset(&a);
		h1_parser_reset(&a_ps);
		CHECK_EQ_INT(h1_parse_request(&a_ps, reqs[i], strlen(reqs[i]), &a, &lim, &err),
			     H1_DONE);
		int n = h1_encode_request(&a, NULL, 0, enc, sizeof(enc));

		CHECK(n > 0);
		msg_reset(&m);
		h1_parser_reset(&ps);
		CHECK_EQ_INT(h1_parse_request(&ps, enc, (size_t)(n > 0 ? n : 0), &m, &lim, &err),
			     H1_DONE);
		CHECK_EQ_INT(ps.head_len, n);
		CHECK(slice_eq(m.method, a.method));
		CHECK(slice_eq(m.path, a.path));
		CHECK(slice_eq(m.query, a.query));
		CHECK(slice_ieq(m.authority, a.authority));
		CHECK_EQ_INT(m.body, a.body);
		CHECK_EQ_INT(m.content_length, a.content_length);
		CHECK_EQ_INT(m.version_minor, 1);

		int j = 0;

		for (int k = 0; k < a.nhdrs; k++) {
			if (a.hdrs[k].flags & HDR_F_HOP)
				continue;
			if (a.hdrs[k].id == HDR_CONTENT_LENGTH || a.hdrs[k].id == HDR_TRANSFER_ENCODING)
				continue;
			CHECK(j < m.nhdrs);
			if (j >= m.nhdrs)
				break;
			CHECK(slice_eq(m.hdrs[j].name, a.hdrs[k].name));
			CHECK(slice_eq(m.hdrs[j].value, a.hdrs[k].value));
			j++;
		}
		for (; j < m.nhdrs; j++)
			CHECK(m.hdrs[j].id == HDR_CONTENT_LENGTH ||
			      m.hdrs[j].id == HDR_TRANSFER_ENCODING);
		for (j = 0; j < m.nhdrs; j++)
			CHECK(!(m.hdrs[j].flags & HDR_F_HOP));
	}
}

/* ------------------------------------------------------------------------
 * Limits given as zero fall back to defaults
 */
TEST(t_default_limits)
{
	/* h1.h: a zero field or a NULL pointer means 16384 (head), 8192
	 * (target) and HTTP_MAX_HDRS (fields).  Each default is checked at its
	 * edge, for the all-zero struct, for NULL, and per field (the other
	 * fields set and tight). */
	static const struct h1_limits zero = { 0, 0, 0 };
	static const struct h1_limits only_head = { 0, 16, 3 };       /* default head */
	static const struct h1_limits only_target = { 65536, 0, 3 }; /* default target */
	static const struct h1_limits only_hdrs = { 65536, 16, 0 };  /* default fields */
	const struct h1_limits *dflt[] = { &zero, NULL };
	static char r[20000], t[8200];
	size_t n;

	/* max_head 16384: a head of exactly 16384 bytes passes, one more is 431 */
	n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(r + n, 'x', 16384 - n - 4);
	memcpy(r + 16384 - 4, "\r\n\r\n", 4);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(parse_req_lim(r, 16384, dflt[i]), H1_DONE);
		CHECK_EQ_INT(ps.head_len, 16384);
	}
	CHECK_EQ_INT(parse_req_lim(r, 16384, &only_head), H1_DONE);
	memmove(r + 16384 - 3, r + 16384 - 4, 4);
	r[16384 - 4] = 'x';
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(parse_req_lim(r, 16385, dflt[i]), H1_ERROR);
		CHECK_EQ_INT(err.status, 431);
	}
	CHECK_EQ_INT(parse_req_lim(r, 16385, &only_head), H1_ERROR);
	CHECK_EQ_INT(err.status, 431);

	/* max_target 8192: 8192 passes, 8193 is 414 */
	memset(t, 'a', sizeof(t));
	t[0] = '/';
	for (int k = 8192; k <= 8193; k++) {
		n = (size_t)snprintf(r, sizeof(r), "GET %.*s HTTP/1.1\r\nHost: a\r\n\r\n", k, t);
		const struct h1_limits *ls[] = { &zero, NULL, &only_target };
		for (int i = 0; i < 3; i++) {
			int rc = parse_req_lim(r, n, ls[i]);
			if (k == 8192) {
				CHECK_EQ_INT(rc, H1_DONE);
				CHECK_EQ_INT(m.target.len, 8192);
			} else {
				CHECK_EQ_INT(rc, H1_ERROR);
				CHECK_EQ_INT(err.status, 414);
			}
		}
	}

	/* max_hdrs HTTP_MAX_HDRS: that many fields pass, one more is 431 */
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: a\r\n");
		for (int i = 1; i < HTTP_MAX_HDRS + extra; i++)
			n += (size_t)snprintf(r + n, sizeof(r) - n, "X%d: v\r\n", i);
		n += (size_t)snprintf(r + n, sizeof(r) - n, "\r\n");
		const struct h1_limits *ls[] = { &zero, NULL, &only_hdrs };
		for (int i = 0; i < 3; i++) {
			int rc = parse_req_lim(r, n, ls[i]);
			if (!extra) {
				CHECK_EQ_INT(rc, H1_DONE);
				CHECK_EQ_INT(m.nhdrs, HTTP_MAX_HDRS);
			} else {
				CHECK_EQ_INT(rc, H1_ERROR);
				CHECK_EQ_INT(err.status, 431);
			}
		}
	}
}

int main(void)
{
	RUN(t_simple_get);
	RUN(t_need_more);
	RUN(t_query);
	RUN(t_absolute_form);
	RUN(t_absolute_form_bad);
	RUN(t_connect);
	RUN(t_asterisk);
	RUN(t_leading_crlf);
	RUN(t_method);
	RUN(t_request_line_spaces);
	RUN(t_version);
	RUN(t_target_chars);
	RUN(t_414);
	RUN(t_431_head);
	RUN(t_431_hdrs);
	RUN(t_field_syntax);
	RUN(t_field_value_bytes);
	RUN(t_bare_lf);
	RUN(t_hdr_idx);
	RUN(t_host);
	RUN(t_content_length);
	RUN(t_transfer_encoding);
	RUN(t_body_none);
	RUN(t_connection);
	RUN(t_connection_nominates);
	RUN(t_hop_fields);
	RUN(t_upgrade_h2c);
	RUN(t_expect);
	RUN(t_pipelined);
	RUN(t_response_basic);
	RUN(t_response_framing);
	RUN(t_parser_state);
	RUN(t_response_reject);
	RUN(t_split_heads);
	RUN(t_chunk_decode);
	RUN(t_chunk_normalize);
	RUN(t_chunk_reject);
	RUN(t_chunk_line_limit);
	RUN(t_chunk_partial);
	RUN(t_split_chunks);
	RUN(t_encode_request);
	RUN(t_encode_response);
	RUN(t_encode_capacity);
	RUN(t_roundtrip);
	RUN(t_default_limits);
	return UNIT_SUMMARY("test_h1");
}
