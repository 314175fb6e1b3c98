/*
 * test_cond.c - unit tests of the condition language (src/filter/cond.c,
 * src/filter/fetch.c): every fetch, operator, precedence, parentheses,
 * regex, CIDR lists, absent values and parse errors with their token index.
 *
 * Messages are built by hand (msg_reset + fields + msg_hdr_add) so these
 * tests do not depend on the HTTP/1 parser.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter/cond.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

static struct http_msg msg;
static struct sockaddr_storage src;
static struct cond_ctx ctx = { .msg = &msg, .src = &src };

static struct slice S(const char *s)
{
	return (struct slice){ s, (uint32_t)strlen(s) };
}

static void req(const char *method, const char *path, const char *query, const char *authority)
{
	msg_reset(&msg);
	msg.method = S(method);
	msg.meth = (uint8_t)msg_meth(msg.method);
	msg.path = S(path);
	msg.query = query ? S(query) : (struct slice){ NULL, 0 };
	msg.authority = authority ? S(authority) : (struct slice){ NULL, 0 };
	ctx.msg = &msg;
	ctx.src = &src;
}

static void hdr(const char *name, const char *value)
{
	msg_hdr_add(&msg, S(name), S(value));
}

static void set_src(const char *ip)
{
	memset(&src, 0, sizeof(src));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
}

/* Splits on spaces like the config lexer; a token written "..." is quoted
 * (no spaces inside quotes in these tests). */
static char tokbuf[65536];
static struct cfg_tok toks[4096];

static int tokenize(const char *text)
{
	int n = 0, col = 1;
	char *o = tokbuf;
	const char *p = text;

	while (*p && n < (int)(sizeof(toks) / sizeof(toks[0]))) {
		if (*p == ' ') {
			p++;
			col++;
			continue;
		}
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool q = len >= 2 && p[0] == '"' && p[len - 1] == '"';
		memcpy(o, q ? p + 1 : p, q ? len - 2 : len);
		o[q ? len - 2 : len] = '\0';
		toks[n++] = (struct cfg_tok){ o, 1, col, q };
		o += len + 1;
		p += len;
		col += (int)len;
	}
	return n;
}

static struct cond *P(const char *text)
{
	char err[256];
	int bad;
	int n = tokenize(text);
	struct cond *c = cond_parse(toks, n, &bad, err, sizeof(err));
	if (!c)
		fprintf(stderr, "  unexpected parse error in '%s': token %d: %s\n", text, bad, err);
	return c;
}

/* Parses and evaluates against the current msg/src. */
static int E(const char *text)
{
	struct cond *c = P(text);
	if (!c)
		return -1;
	int r = cond_eval(c, &ctx);
	cond_free(c);
	return r;
}

/* Expects a parse error at token `tok` whose message contains `want`. */
static bool PERR(const char *text, int tok, const char *want)
{
	char err[256];
	int bad;
	int n = tokenize(text);
	struct cond *c = cond_parse(toks, n, &bad, err, sizeof(err));
	if (c) {
		cond_free(c);
		fprintf(stderr, "  '%s' parsed but should not\n", text);
		return false;
	}
	if (bad != tok || !strstr(err, want)) {
		fprintf(stderr, "  '%s': got token %d '%s', want token %d '%s'\n", text, bad, err,
			tok, want);
		return false;
	}
	return true;
}

static bool FV(const char *fetch, const char *want)
{
	char err[128], scratch[64];
	struct cfg_tok t = { fetch, 1, 1, false };
	struct fetch *f = fetch_parse(&t, err, sizeof(err));
	struct slice v;
	bool ok;

	if (!f) {
		fprintf(stderr, "  fetch '%s': %s\n", fetch, err);
		return false;
	}
	bool present = fetch_value(f, &ctx, &v, scratch, sizeof(scratch));
	if (!want)
		ok = !present;
	else
		ok = present && v.len == strlen(want) && memcmp(v.p, want, v.len) == 0;
	if (!ok)
		fprintf(stderr, "  fetch '%s': got %s'%.*s', want %s\n", fetch,
			present ? "" : "absent ", present ? (int)v.len : 0, present ? v.p : "",
			want ? want : "absent");
	fetch_free(f);
	return ok;
}

/* ---- fetches ------------------------------------------------------------- */

TEST(test_fetch_parse)
{
	char err[256];
	struct cfg_tok t = { "header(X-User)", 3, 7, false };
	struct fetch *f = fetch_parse(&t, err, sizeof(err));
	int l, c;

	CHECK(f != NULL);
	CHECK_EQ_INT(fetch_kind(f), FETCH_HEADER);
	CHECK(strcmp(fetch_text(f), "header(X-User)") == 0);
	fetch_where(f, &l, &c);
	CHECK_EQ_INT(l, 3);
	CHECK_EQ_INT(c, 7);
	fetch_free(f);

	const char *good[] = { "host", "path", "method", "src", "query(a)", "cookie(sid)" };
	const enum fetch_kind kinds[] = { FETCH_HOST, FETCH_PATH, FETCH_METHOD, FETCH_SRC,
					  FETCH_QUERY, FETCH_COOKIE };
	for (int i = 0; i < 6; i++) {
		t.s = good[i];
		f = fetch_parse(&t, err, sizeof(err));
		CHECK(f != NULL);
		if (f)
			CHECK_EQ_INT(fetch_kind(f), kinds[i]);
		fetch_free(f);
	}

	t.s = "hots";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown fetch 'hots'; expected one of: host, path") != NULL);
	t.s = "host(x)";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "takes no argument") != NULL);
	t.s = "header";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "expected header(NAME)") != NULL);
	t.s = "header()";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	t.s = "cookie(a";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	t.s = "header(a:b)";
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "invalid character ':'") != NULL);
	t.s = "path";
	t.quoted = true;
	CHECK(fetch_parse(&t, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "quoted") != NULL);
}

TEST(test_fetch_host)
{
	req("GET", "/", NULL, "Example.COM:8080");
	CHECK(FV("host", "Example.COM"));
	req("GET", "/", NULL, "[::1]:8443");
	CHECK(FV("host", "[::1]"));
	req("GET", "/", NULL, "[::1]");
	CHECK(FV("host", "[::1]"));
	req("GET", "/", NULL, "a.example");
	CHECK(FV("host", "a.example"));
	req("GET", "/", NULL, NULL);
	CHECK(FV("host", NULL));
}

TEST(test_fetch_path_method)
{
	req("DELETE", "/a/b", "x=1", "h");
	CHECK(FV("path", "/a/b"));
	CHECK(FV("method", "DELETE"));
	ctx.msg = NULL;   /* tcp mode: no request */
	CHECK(FV("path", NULL));
	CHECK(FV("method", NULL));
	CHECK(FV("host", NULL));
	CHECK(FV("header(a)", NULL));
}

TEST(test_fetch_header)
{
	req("GET", "/", NULL, "h");
	hdr("X-User", "alice");
	hdr("x-user", "bob");
	hdr("Empty", "");
	CHECK(FV("header(x-USER)", "alice"));
	CHECK(FV("header(Empty)", ""));
	CHECK(FV("header(X-Missing)", NULL));
	msg.hdrs[0].flags |= HDR_F_DELETED;   /* the proxy removed the first one */
	CHECK(FV("header(X-User)", "bob"));
}

TEST(test_fetch_query)
{
	req("GET", "/", "ab=1&a=2&flag&a=3&e=", "h");
	CHECK(FV("query(a)", "2"));
	CHECK(FV("query(ab)", "1"));
	CHECK(FV("query(flag)", ""));
	CHECK(FV("query(e)", ""));
	CHECK(FV("query(A)", NULL));      /* names are case-sensitive */
	CHECK(FV("query(b)", NULL));
	req("GET", "/", "q=a%20b", "h");
	CHECK(FV("query(q)", "a%20b"));   /* raw, not decoded */
	req("GET", "/", NULL, "h");
	CHECK(FV("query(a)", NULL));
}

TEST(test_fetch_cookie)
{
	req("GET", "/", NULL, "h");
	hdr("Cookie", "a=1; sid=xyz;  b=\"q\" ");
	hdr("Cookie", "late=2");
	CHECK(FV("cookie(sid)", "xyz"));
	CHECK(FV("cookie(a)", "1"));
	CHECK(FV("cookie(b)", "q"));
	CHECK(FV("cookie(late)", "2"));   /* from the second Cookie field */
	CHECK(FV("cookie(Sid)", NULL));
	CHECK(FV("cookie(x)", NULL));
	req("GET", "/", NULL, "h");
	CHECK(FV("cookie(a)", NULL));
}

TEST(test_fetch_src)
{
	req("GET", "/", NULL, "h");
	set_src("192.0.2.7");
	CHECK(FV("src", "192.0.2.7"));
	set_src("2001:db8::1");
	CHECK(FV("src", "2001:db8::1"));
	set_src("::ffff:10.1.2.3");
	CHECK(FV("src", "10.1.2.3"));
	ctx.msg = NULL;   /* src exists in tcp mode too */
	CHECK(FV("src", "10.1.2.3"));
	ctx.src = NULL;
	CHECK(FV("src", NULL));
}

/* A path holding %2f is read as sent and as a decoding server reads it;
 * the decoded answer is returned, and a difference is flagged */
static bool two_ways;

static int E2(const char *text)
{
	two_ways = false;
	ctx.two_ways = &two_ways;
	int r = E(text);
	ctx.two_ways = NULL;
	return r;
}

TEST(test_path_encoded_slash)
{
	req("GET", "/admin%2Fusers", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	CHECK(E2("path == /admin/users") == 1 && two_ways);
	CHECK(E2("path ~ ^/admin/") == 1 && two_ways);
	CHECK(E2("path in /x /admin/users") == 1 && two_ways);
	CHECK(E2("not path prefix /admin/") == 0 && two_ways);
	CHECK(E2("path prefix /admin") == 1 && !two_ways);   /* both ways */
	CHECK(E2("path prefix /api/") == 0 && !two_ways);
	req("GET", "/admin%2fusers", NULL, "h");
	CHECK(E2("path contains min/us") == 1 && two_ways);
	/* a value written with %2f compares as written, and decoded */
	req("GET", "/api/queues/%2F/orders", NULL, "h");
	CHECK(E2("path prefix /api/queues/%2F") == 1 && !two_ways);
	CHECK(E2("path prefix /api/queues/%2f") == 1 && two_ways);   /* hex case, as sent */
	CHECK(E2("path prefix /api/queues/") == 1 && !two_ways);
	CHECK(E2("path == /api/queues///orders") == 1 && two_ways);
	/* url: only the path part is decoded */
	req("GET", "/static%2Fx", "next=%2Fadmin", "h");
	msg.target = S("/static%2Fx?next=%2Fadmin");
	CHECK(E2("url prefix /static/") == 1 && two_ways);
	CHECK(E2("url contains =/admin") == 0 && !two_ways);
	req("GET", "/static/x", "next=%2Fadmin", "h");
	msg.target = S("/static/x?next=%2Fadmin");
	CHECK(E2("url contains =/admin") == 0 && !two_ways);
	CHECK(E2("url contains =%2Fadmin") == 1 && !two_ways);
	/* long paths are copied */
	static char lp[4096];
	memset(lp, 'a', sizeof(lp) - 1);
	memcpy(lp, "/admin%2F", 9);
	req("GET", lp, NULL, "h");
	CHECK(E2("path prefix /admin/aaa") == 1 && two_ways);
	/* no slash encoded, nothing flagged */
	req("GET", "/admin%2e%41/x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	/* dot segments, raw or encoded, read as a normalising server does */
	req("GET", "/x/../admin/y", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	req("GET", "/x/%2e%2E/admin/y", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	req("GET", "/public%2F..%2Fadmin", NULL, "h");
	CHECK(E2("path == /admin") == 1 && two_ways);
	req("GET", "/a/./b/c/..", NULL, "h");
	CHECK(E2("path == /a/b/") == 1 && two_ways);
	req("GET", "/../../admin", NULL, "h");
	CHECK(E2("path prefix /admin") == 1 && two_ways);
	req("GET", "/admin/..", NULL, "h");
	CHECK(E2("path prefix /admin") == 0 && two_ways);
	req("GET", "/a.b/..c/.d/x..", NULL, "h");   /* no dot segment */
	CHECK(E2("path prefix /a.b/") == 1 && !two_ways);
	req("GET", "/static/../admin/x", "next=/../y", "h");
	msg.target = S("/static/../admin/x?next=/../y");
	CHECK(E2("url ~ ^/admin/x\\?next=/../y$") == 1 && two_ways);
}

TEST(test_path_merged_and_unreserved)
{
	/* runs of '/' merged (nginx merge_slashes), before dot segments */
	req("GET", "//admin/x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	CHECK(E2("path == /admin/x") == 1 && two_ways);
	req("GET", "/a//..//admin/x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	req("GET", "/a//../admin", NULL, "h");   /* merge, then resolve: /admin */
	CHECK(E2("path == /admin") == 1 && two_ways);
	req("GET", "/admin//x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && !two_ways);   /* both ways */
	req("GET", "/public//x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	CHECK(E2("path prefix /public/") == 1 && !two_ways);
	req("GET", "/admin%2F/x", NULL, "h");   /* a decoded %2F merges too */
	CHECK(E2("path == /admin/x") == 1 && two_ways);
	/* unreserved characters decoded (RFC 3986 6.2.2.2); case kept */
	req("GET", "/%61dmin/x", NULL, "h");
	CHECK(E2("path prefix /admin/") == 1 && two_ways);
	req("GET", "/%2561dmin/x", NULL, "h");   /* %25 is not unreserved */
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	req("GET", "/adm%69n%2dx/%5F%7e%30", NULL, "h");
	CHECK(E2("path == /admin-x/_~0") == 1 && two_ways);
	req("GET", "/%7Euser/", NULL, "h");
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	CHECK(E2("path prefix /~user/") == 1 && two_ways);
	CHECK(E2("path prefix /%7Euser/") == 1 && !two_ways);   /* as written, and decoded */
	req("GET", "/%41DMIN/x", NULL, "h");   /* /ADMIN/x: paths are case-sensitive */
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	req("GET", "/a%20b/%3Cx%3e/%zz/%4", NULL, "h");   /* reserved, bad or cut: as sent */
	CHECK(E2("path == /a%20b/%3Cx%3e/%zz/%4") == 1 && !two_ways);
	req("GET", "/%2e%2E/%61dmin", NULL, "h");
	CHECK(E2("path == /admin") == 1 && two_ways);
	/* url: only the path part */
	req("GET", "//admin", "a=//b&c=%61", "h");
	msg.target = S("//admin?a=//b&c=%61");
	CHECK(E2("url prefix /admin?a=//b&c=%61") == 1 && two_ways);
	req("GET", "/x", "a=//b&c=%61", "h");
	msg.target = S("/x?a=//b&c=%61");
	CHECK(E2("url contains c=a") == 0 && !two_ways);
	/* ';' path parameters kept (nginx, HAProxy; not Tomcat) */
	req("GET", "/app/page.jsp;jsessionid=A1", NULL, "h");
	CHECK(E2("path prefix /app/") == 1 && !two_ways);
	CHECK(E2("path suffix .jsp") == 0 && !two_ways);
	/* the rule docs/configuration.md gives for a Java server */
	CHECK(E2("path ~ ;[^/]*/") == 0 && !two_ways);
	req("GET", "/admin;x/y", NULL, "h");
	CHECK(E2("path prefix /admin/") == 0 && !two_ways);
	CHECK(E2("path ~ ;[^/]*/") == 1 && !two_ways);
	req("GET", "/public/..;/admin/", NULL, "h");
	CHECK(E2("path ~ ;[^/]*/") == 1 && !two_ways);
}

TEST(test_fetch_new)
{
	static struct http_msg res;
	req("GET", "/a/b", "x=1&y", "h");
	msg.target = S("/a/b?x=1&y");
	CHECK(FV("url", "/a/b?x=1&y"));
	CHECK(FV("query", "x=1&y"));
	CHECK(FV("query(x)", "1"));
	CHECK(FV("scheme", "http"));
	CHECK(FV("ssl", "0"));
	CHECK(FV("req_id", NULL));
	CHECK(FV("status", NULL));           /* no response yet */
	CHECK(FV("res_header(Server)", NULL));
	ctx.tls = true;
	ctx.req_id = S("r-1");
	msg_reset(&res);
	res.status = 204;
	msg_hdr_add(&res, S("Server"), S("x/1"));
	ctx.res = &res;
	CHECK(FV("scheme", "https"));
	CHECK(FV("ssl", "1"));
	CHECK(FV("req_id", "r-1"));
	CHECK(FV("status", "204"));
	CHECK(FV("res_header(server)", "x/1"));
	CHECK(FV("header(Server)", NULL));   /* header() reads the request */
	req("GET", "/", NULL, "h");
	CHECK(FV("query", NULL));            /* no '?' at all */
	CHECK_EQ_INT(E("status == 204 and ssl"), 1);
	CHECK_EQ_INT(E("status < 300"), 1);   /* req() keeps ctx.res */
	ctx.tls = false;
	ctx.res = NULL;
	ctx.req_id = (struct slice){ NULL, 0 };
	CHECK_EQ_INT(E("status >= 0"), 0);   /* absent: comparisons are false */
}

TEST(test_ops_numeric)
{
	req("GET", "/", NULL, "h");
	hdr("X-N", "42");
	hdr("X-Neg", "-5");
	hdr("X-S", "4x");
	CHECK_EQ_INT(E("header(X-N) > 41"), 1);
	CHECK_EQ_INT(E("header(X-N) > 42"), 0);
	CHECK_EQ_INT(E("header(X-N) >= 42"), 1);
	CHECK_EQ_INT(E("header(X-N) < 100"), 1);
	CHECK_EQ_INT(E("header(X-N) <= 41"), 0);
	CHECK_EQ_INT(E("header(X-N) == 042"), 1);    /* both integers: numeric */
	CHECK_EQ_INT(E("header(X-N) != +42"), 0);
	CHECK_EQ_INT(E("header(X-Neg) < -4"), 1);
	CHECK_EQ_INT(E("header(X-S) < 100"), 0);     /* not an integer: false */
	CHECK_EQ_INT(E("header(X-S) >= 0"), 0);
	CHECK_EQ_INT(E("header(X-S) == 4x"), 1);     /* strings otherwise */
	CHECK_EQ_INT(E("header(X-None) < 5"), 0);
	CHECK(PERR("header(X-N) > big", 2, "expected an integer after '>', got 'big'"));
	CHECK(PERR("path <", 2, "expected a value after '<'"));
}

TEST(test_bool_term)
{
	req("GET", "/a", NULL, "h");
	ctx.tls = false;
	CHECK_EQ_INT(E("ssl"), 0);
	CHECK_EQ_INT(E("not ssl"), 1);
	CHECK_EQ_INT(E("ssl or path == /a"), 1);
	CHECK_EQ_INT(E("(ssl) or (not ssl and path == /a)"), 1);
	ctx.tls = true;
	CHECK_EQ_INT(E("ssl"), 1);
	CHECK_EQ_INT(E("ssl and path == /a"), 1);
	CHECK_EQ_INT(E("ssl == 1"), 1);
	ctx.tls = false;
	/* only boolean fetches stand alone */
	CHECK(PERR("path", 1, "expected an operator"));
	CHECK(PERR("path and ssl", 1, "expected an operator"));
}

/* ---- operators ----------------------------------------------------------- */

TEST(test_ops_path)
{
	req("GET", "/api/v1/users", NULL, "h");
	CHECK_EQ_INT(E("path == /api/v1/users"), 1);
	CHECK_EQ_INT(E("path == /api/v1/Users"), 0);
	CHECK_EQ_INT(E("path != /x"), 1);
	CHECK_EQ_INT(E("path != /api/v1/users"), 0);
	CHECK_EQ_INT(E("path prefix /api/"), 1);
	CHECK_EQ_INT(E("path prefix /API/"), 0);
	CHECK_EQ_INT(E("path prefix /api/v1/users/more"), 0);
	CHECK_EQ_INT(E("path suffix /users"), 1);
	CHECK_EQ_INT(E("path suffix /user"), 0);
	CHECK_EQ_INT(E("path contains /v1/"), 1);
	CHECK_EQ_INT(E("path contains /v2/"), 0);
	CHECK_EQ_INT(E("path contains \"\""), 1);
	CHECK_EQ_INT(E("path in /a /api/v1/users /b"), 1);
	CHECK_EQ_INT(E("path in /a /b"), 0);
}

TEST(test_ops_host_icase)
{
	req("GET", "/", NULL, "API.Example.com:443");
	CHECK_EQ_INT(E("host == api.example.com"), 1);
	CHECK_EQ_INT(E("host == API.EXAMPLE.COM"), 1);
	CHECK_EQ_INT(E("host != api.example.com"), 0);
	CHECK_EQ_INT(E("host prefix api."), 1);
	CHECK_EQ_INT(E("host suffix .EXAMPLE.com"), 1);
	CHECK_EQ_INT(E("host contains example"), 1);
	CHECK_EQ_INT(E("host contains exampel"), 0);
	CHECK_EQ_INT(E("host in www.example.com Api.example.com"), 1);
	CHECK_EQ_INT(E("host in www.example.com"), 0);
	/* regexes see the host as written */
	CHECK_EQ_INT(E("host ~ ^API\\."), 1);
	CHECK_EQ_INT(E("host ~ ^api\\."), 0);
	CHECK_EQ_INT(E("host ~ \"(?i)^api\\.\""), 1);
}

TEST(test_ops_method_header_case)
{
	req("POST", "/", NULL, "h");
	hdr("X-Env", "Prod");
	CHECK_EQ_INT(E("method == POST"), 1);
	CHECK_EQ_INT(E("method == post"), 0);
	CHECK_EQ_INT(E("method in GET HEAD"), 0);
	CHECK_EQ_INT(E("method in GET POST"), 1);
	CHECK_EQ_INT(E("header(x-env) == Prod"), 1);
	CHECK_EQ_INT(E("header(x-env) == prod"), 0);   /* values are case-sensitive */
}

TEST(test_ops_regex)
{
	req("GET", "/img/logo.PNG", "id=42", "h");
	CHECK_EQ_INT(E("path ~ \\.(png|PNG)$"), 1);
	CHECK_EQ_INT(E("path ~ ^/img/[a-z]+\\.png$"), 0);
	CHECK_EQ_INT(E("path ~ \"^/img/\""), 1);
	CHECK_EQ_INT(E("query(id) ~ ^[0-9]+$"), 1);
	CHECK_EQ_INT(E("query(id) ~ ^[a-z]+$"), 0);
	/* more capture groups than the shared match block holds still match */
	CHECK_EQ_INT(E("path ~ ^(/)(i)(m)(g)(/)(l)"), 1);
	CHECK_EQ_INT(E("path ~ ^$"), 0);
	req("GET", "", NULL, "h");
	CHECK_EQ_INT(E("path ~ ^$"), 1);

	/* catastrophic backtracking stops at the match limit: no match, fast */
	static char evil[4096];
	memset(evil, 'a', sizeof(evil) - 2);
	evil[sizeof(evil) - 2] = '!';
	req("GET", evil, NULL, "h");
	time_t t0 = time(NULL);
	CHECK_EQ_INT(E("path ~ ^(a|aa)+$"), 0);
	CHECK_EQ_INT(E("path ~ \"(a+)+b\""), 0);
	CHECK_EQ_INT(E("path ~ \"^(a|a?)+$\""), 0);
	CHECK(time(NULL) - t0 < 5);
}

TEST(test_ops_src_cidr)
{
	req("GET", "/", NULL, "h");
	set_src("10.20.30.40");
	CHECK_EQ_INT(E("src in 10.0.0.0/8"), 1);
	CHECK_EQ_INT(E("src in 192.168.0.0/16 10.20.0.0/16"), 1);
	CHECK_EQ_INT(E("src in 10.20.30.41"), 0);
	CHECK_EQ_INT(E("src in 10.20.30.40"), 1);
	CHECK_EQ_INT(E("src in 10.20.30.32/27"), 1);
	CHECK_EQ_INT(E("src in 10.20.30.32/29"), 0);
	CHECK_EQ_INT(E("src in 0.0.0.0/0"), 1);
	CHECK_EQ_INT(E("src in 10.99.0.0/8"), 1);   /* host bits are ignored */
	CHECK_EQ_INT(E("src in ::/0"), 0);          /* IPv4 client, IPv6 list */
	CHECK_EQ_INT(E("src == 10.20.30.40"), 1);
	CHECK_EQ_INT(E("src prefix 10.20."), 1);
	CHECK_EQ_INT(E("src ~ ^10\\."), 1);

	set_src("::ffff:10.20.30.40");   /* dual-stack listener */
	CHECK_EQ_INT(E("src in 10.0.0.0/8"), 1);
	CHECK_EQ_INT(E("src == 10.20.30.40"), 1);

	set_src("2001:db8:abcd::5");
	CHECK_EQ_INT(E("src in 2001:db8::/32"), 1);
	CHECK_EQ_INT(E("src in 2001:db8:abcd::/48 10.0.0.0/8"), 1);
	CHECK_EQ_INT(E("src in 2001:db9::/32"), 0);
	CHECK_EQ_INT(E("src in 2001:db8:abcd::5"), 1);
	CHECK_EQ_INT(E("src in 2001:db8:abcd::4/127"), 1);
	CHECK_EQ_INT(E("src in 2001:db8:abcd::6/127"), 0);
	CHECK_EQ_INT(E("src in 10.0.0.0/8"), 0);
	set_src("::1");
	CHECK_EQ_INT(E("src in ::1/128"), 1);
	CHECK_EQ_INT(E("src == ::1"), 1);

	ctx.src = NULL;
	CHECK_EQ_INT(E("src in 0.0.0.0/0"), 0);
}

/* A fetch with no value makes every operator false except != */
TEST(test_absent)
{
	req("GET", "/", NULL, NULL);
	const char *ops[] = { "== x", "prefix x", "suffix x", "contains x", "~ .*", "in x y" };
	const char *fetches[] = { "host", "header(X-No)", "query(q)", "cookie(c)" };
	char buf[128];

	for (int f = 0; f < 4; f++) {
		for (int o = 0; o < 6; o++) {
			snprintf(buf, sizeof(buf), "%s %s", fetches[f], ops[o]);
			CHECK_EQ_INT(E(buf), 0);
		}
		snprintf(buf, sizeof(buf), "%s != x", fetches[f]);
		CHECK_EQ_INT(E(buf), 1);
		snprintf(buf, sizeof(buf), "not %s == x", fetches[f]);
		CHECK_EQ_INT(E(buf), 1);
	}
	/* present but empty is not absent */
	hdr("X-E", "");
	CHECK_EQ_INT(E("header(X-E) == \"\""), 1);
	CHECK_EQ_INT(E("header(X-E) ~ ^$"), 1);
}

/* ---- logic --------------------------------------------------------------- */

TEST(test_precedence)
{
	req("GET", "/a", NULL, "h");
	/* or binds loosest: true or (false and false) */
	CHECK_EQ_INT(E("path == /a or path == /b and path == /c"), 1);
	/* (false and ...) or true */
	CHECK_EQ_INT(E("path == /b and path == /c or path == /a"), 1);
	/* and: false */
	CHECK_EQ_INT(E("path == /a and path == /b"), 0);
	/* not binds tighter than and: (not false) and true */
	CHECK_EQ_INT(E("not path == /b and path == /a"), 1);
	/* (not true) or true */
	CHECK_EQ_INT(E("not path == /a or path == /a"), 1);
	/* (not true) and true */
	CHECK_EQ_INT(E("not path == /a and path == /a"), 0);
	CHECK_EQ_INT(E("not not path == /a"), 1);
	CHECK_EQ_INT(E("not not not path == /a"), 0);
	CHECK_EQ_INT(E("path == /x or path == /y or path == /z or path == /a"), 1);
	CHECK_EQ_INT(E("path == /a and method == GET and host == h"), 1);
	CHECK_EQ_INT(E("path == /a and method == GET and host == x"), 0);
}

TEST(test_parens)
{
	req("GET", "/a", NULL, "h");
	hdr("X-User", "bob");
	/* parens change the grouping: (true or false) and false */
	CHECK_EQ_INT(E("( path == /a or path == /b ) and path == /c"), 0);
	CHECK_EQ_INT(E("(path == /a or path == /b) and path == /c"), 0);
	CHECK_EQ_INT(E("path == /a or (path == /b and path == /c)"), 1);
	CHECK_EQ_INT(E("not (path == /a or path == /b)"), 0);
	CHECK_EQ_INT(E("((path == /a))"), 1);
	CHECK_EQ_INT(E("(( path == /a ) and ( method == GET ))"), 1);
	/* a fetch's own parens are kept, extra ones are grouping */
	CHECK_EQ_INT(E("(header(X-User) == bob)"), 1);
	CHECK_EQ_INT(E("((header(X-User) == bob) and path == /a)"), 1);
	CHECK_EQ_INT(E("path == /b or (header(X-User) in alice bob)"), 1);
	/* quoted tokens are never split */
	req("GET", "(x)", NULL, "h");
	CHECK_EQ_INT(E("path == \"(x)\""), 1);
	CHECK_EQ_INT(E("( path == \"(x)\" )"), 1);
}

TEST(test_in_list_ends)
{
	req("GET", "/b", NULL, "h");
	/* the list stops at and / or / ')' */
	CHECK_EQ_INT(E("path in /a /b and method == GET"), 1);
	CHECK_EQ_INT(E("path in /a /b and method == POST"), 0);
	CHECK_EQ_INT(E("path in /x /y or method == GET"), 1);
	CHECK_EQ_INT(E("(path in /a /b) and method == GET"), 1);
	CHECK_EQ_INT(E("(path in /a /c) or (method in PUT GET)"), 1);
	/* quoted and/or are values */
	req("GET", "and", NULL, "h");
	CHECK_EQ_INT(E("path in x \"and\""), 1);
	CHECK_EQ_INT(E("path == \"and\""), 1);
}

TEST(test_negate_and_introspect)
{
	req("GET", "/a", NULL, "h");
	struct cond *c = P("path == /a");
	CHECK(c != NULL);
	c = cond_negate(c);
	CHECK(c != NULL);
	CHECK_EQ_INT(cond_eval(c, &ctx), 0);
	cond_free(c);

	c = P("src in 10.0.0.0/8 or not (src == 1.2.3.4 and path == /x)");
	CHECK(c != NULL);
	const struct fetch *f = cond_fetch_outside(c, FETCH_MASK_L4);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(fetch_kind(f), FETCH_PATH);
		int l, col;
		fetch_where(f, &l, &col);
		CHECK_EQ_INT(col, 46);
	}
	CHECK(cond_fetch_outside(c, FETCH_MASK_L4 | FETCH_MASK(FETCH_PATH)) == NULL);
	cond_free(c);
	c = P("src in 10.0.0.0/8");
	CHECK(c && cond_fetch_outside(c, FETCH_MASK_L4) == NULL);
	cond_free(c);
}

/* ---- errors -------------------------------------------------------------- */

TEST(test_errors)
{
	CHECK(PERR("", 0, "expected a condition"));
	CHECK(PERR("path", 1, "expected an operator (==, !=, <, <=, >, >=, prefix, suffix, contains, ~, "
			      "in) "
			      "after 'path'"));
	CHECK(PERR("path is /a", 1, "expected an operator (==, !=, <, <=, >, >=, prefix, suffix, "
				    "contains, ~, "
				    "in) after 'path', got 'is'"));
	CHECK(PERR("path \"==\" /a", 1, "expected an operator"));
	CHECK(PERR("path ==", 2, "expected a value after '=='"));
	CHECK(PERR("path == and", 2, "expected a value after '==', got 'and'"));
	CHECK(PERR("paht == /a", 0, "unknown fetch 'paht'"));
	CHECK(PERR("path == /a host == b", 3, "expected 'and', 'or' or end of condition, got "
					      "'host'"));
	CHECK(PERR("path == /a and", 4, "expected a condition"));
	CHECK(PERR("path == /a or or path == /b", 4, "expected a condition before 'or'"));
	CHECK(PERR("(path == /a", 3, "expected ')' to close the '('"));
	CHECK(PERR("path == /a)", 2, "unbalanced ')'"));
	CHECK(PERR("( path == /a ) )", 5, "unbalanced ')'"));
	CHECK(PERR("()", 0, "before ')'"));
	CHECK(PERR("path in", 2, "expected at least one value after 'in'"));
	CHECK(PERR("path in and x", 2, "expected at least one value after 'in'"));
	CHECK(PERR("path ~ \"(\"", 2, "invalid regex: missing closing parenthesis at offset 1"));
	/* an unquoted leading '(' is grouping, so a regex starting with one needs quotes */
	CHECK(PERR("path ~ (a|b)", 2, "quote"));
	/* 'not(path' is not the keyword followed by a paren */
	CHECK(PERR("not(path == /b)", 0, "unknown fetch 'not(path'"));
	CHECK(PERR("path == /a or path ~ a[", 6, "invalid regex:"));
	CHECK(PERR("path ~ \"a(b\"", 2, "at offset 3"));
	CHECK(PERR("src in 10.0.0.0/8 10.0.0/33", 3, "invalid CIDR '10.0.0/33'"));
	CHECK(PERR("src in 1.2.3.4/", 2, "invalid CIDR '1.2.3.4/'"));
	CHECK(PERR("src in ::1/129", 2, "invalid CIDR '::1/129'"));
	CHECK(PERR("src in 1.2.3.4/x", 2, "invalid CIDR"));
	CHECK(PERR("src in 1.2.3.4/33", 2, "invalid CIDR"));
	CHECK(PERR("src in example.com", 2, "invalid CIDR"));
	CHECK(PERR("header() == x", 0, "needs a name"));
	CHECK(PERR("not", 1, "expected a condition"));
	/* an attached paren reports the token it came from */
	CHECK(PERR("(path == /a) and (host", 5, "expected an operator"));

	char deep[600] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "( ");
	strcat(deep, "path == /a");
	CHECK(PERR(deep, 32, "nests too deeply"));
	deep[0] = '\0';
	for (int i = 0; i < 40; i++)
		strcat(deep, "not ");
	strcat(deep, "path == /a");
	CHECK(PERR(deep, 32, "nests too deeply"));
}

/* A chain of 1000 terms: "t0 or t1 or ... or t999" (or `and`), each term
 * "path != /tI" or "path == /tI". */
static char chain_buf[32768];

static const char *chain(const char *op, const char *cmp, int n)
{
	size_t o = 0;
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(chain_buf + o, sizeof(chain_buf) - o, "%spath %s /t%d",
				      i ? op : "", cmp, i);
	return chain_buf;
}

struct chain_job {
	const char *text;
	int want;
	int got;
};

static void *chain_thread(void *arg)
{
	struct chain_job *j = arg;
	j->got = E(j->text);
	return NULL;
}

/* Parses, evaluates and frees text on a thread with a 64 KiB stack: a
 * chain held as one n-ary node needs a few frames whatever its length, a
 * tree of binary nodes 1000 levels deep would overflow it. */
static int eval_on_small_stack(const char *text)
{
	struct chain_job j = { text, 0, -2 };
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	if (pthread_create(&t, &a, chain_thread, &j) != 0)
		return -3;
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	return j.got;
}

TEST(test_long_chain)
{
	/* n-ary and/or: a long chain is one flat node, not 1000 levels deep.
	 * So it is no nesting (COND_MAX_DEPTH is 32, this is 1000 terms), and
	 * every term counts: the only one that decides is the first, a middle
	 * or the last. */
	req("GET", "/t999", NULL, "h");
	CHECK_EQ_INT(E(chain(" or ", "==", 1000)), 1);     /* last term true */
	req("GET", "/t0", NULL, "h");
	CHECK_EQ_INT(E(chain(" or ", "==", 1000)), 1);     /* first */
	req("GET", "/t500", NULL, "h");
	CHECK_EQ_INT(E(chain(" or ", "==", 1000)), 1);     /* middle */
	req("GET", "/none", NULL, "h");
	CHECK_EQ_INT(E(chain(" or ", "==", 1000)), 0);     /* none */
	CHECK_EQ_INT(E(chain(" and ", "!=", 1000)), 1);    /* all true */
	req("GET", "/t999", NULL, "h");
	CHECK_EQ_INT(E(chain(" and ", "!=", 1000)), 0);    /* last false */
	req("GET", "/t0", NULL, "h");
	CHECK_EQ_INT(E(chain(" and ", "!=", 1000)), 0);    /* first false */
	/* Precedence inside a long chain: a and b or c ... */
	req("GET", "/t1", NULL, "h");
	CHECK_EQ_INT(E("path == /t0 and path == /t1 or path == /t1 and method == GET"), 1);

	/* Flat: no recursion per term when parsing, evaluating or freeing. */
	req("GET", "/t999", NULL, "h");
	CHECK_EQ_INT(eval_on_small_stack(chain(" or ", "==", 1000)), 1);
	req("GET", "/none", NULL, "h");
	CHECK_EQ_INT(eval_on_small_stack(chain(" and ", "!=", 1000)), 1);
}

/* Worker threads evaluate the same tree at once; each needs its own
 * pcre2 match block. */
static struct cond *shared;
static int thread_fail;

static void *eval_thread(void *arg)
{
	struct http_msg *m = calloc(1, sizeof(*m));
	struct cond_ctx cx = { .msg = m, .src = NULL };
	long id = (long)arg;

	msg_reset(m);
	m->path = id % 2 ? (struct slice){ "/img/a.png", 10 } : (struct slice){ "/doc", 4 };
	for (int i = 0; i < 20000; i++)
		if (cond_eval(shared, &cx) != (id % 2 == 1))
			__atomic_add_fetch(&thread_fail, 1, __ATOMIC_RELAXED);
	cond_thread_cleanup();
	free(m);
	return NULL;
}

TEST(test_threads)
{
	pthread_t th[4];

	shared = P("path ~ \\.png$ or path ~ ^/x(y|z)+$");
	CHECK(shared != NULL);
	if (!shared)
		return;
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, eval_thread, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(thread_fail, 0);
	cond_free(shared);
}

int main(void)
{
	RUN(test_fetch_parse);
	RUN(test_fetch_host);
	RUN(test_fetch_path_method);
	RUN(test_fetch_header);
	RUN(test_fetch_query);
	RUN(test_fetch_cookie);
	RUN(test_fetch_src);
	RUN(test_fetch_new);
	RUN(test_ops_numeric);
	RUN(test_bool_term);
	RUN(test_ops_path);
	RUN(test_ops_host_icase);
	RUN(test_ops_method_header_case);
	RUN(test_ops_regex);
	RUN(test_ops_src_cidr);
	RUN(test_absent);
	RUN(test_precedence);
	RUN(test_parens);
	RUN(test_in_list_ends);
	RUN(test_negate_and_introspect);
	RUN(test_errors);
	RUN(test_long_chain);
	RUN(test_threads);
	RUN(test_path_encoded_slash);
	RUN(test_path_merged_and_unreserved);
	cond_thread_cleanup();
	return UNIT_SUMMARY("test_cond");
}
