/*
 * test_rules.c - unit tests of rules (src/filter/rules.c), value formats
 * (src/filter/fmt.c) and their directives (src/config/cfg_rules.c): every
 * action parsed through cfg_load_string() and run on hand-built messages,
 * if/unless, allow ending a list, %[fetch] rendering, numeric status
 * comparisons, `if ssl`, hostile rendered values, store overflow, and the
 * load errors with their FILE:LINE:COL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "filter/rules.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

static struct http_msg req, res;
static struct sockaddr_storage src;
static struct cond_ctx ctx;
static char scratch[RULE_SCRATCH_MIN];
static struct rule_exec x;

static struct slice S(const char *s)
{
	return (struct slice){ s, (uint32_t)strlen(s) };
}

static void set_src(const char *ip)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	memset(&src, 0, sizeof(src));
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s4->sin_addr);
}

/* A request "GET target" with Host; path/query split from target. */
static void mkreq(const char *target, const char *host)
{
	msg_free(&req);
	msg_init(&req, 0);
	req.method = S("GET");
	req.meth = HTTP_METH_GET;
	req.target = S(target);
	const char *q = strchr(target, '?');
	req.path = q ? (struct slice){ target, (uint32_t)(q - target) } : S(target);
	req.query = q ? S(q + 1) : (struct slice){ NULL, 0 };
	req.authority = host ? S(host) : (struct slice){ NULL, 0 };
	if (host)
		msg_hdr_add(&req, S("Host"), S(host));
	set_src("192.0.2.7");
	ctx = (struct cond_ctx){ .msg = &req, .src = &src };
}

static void mkres(uint16_t status)
{
	msg_free(&res);
	msg_init(&res, 0);
	res.flags = MSG_F_RESPONSE;
	res.status = status;
	msg_hdr_add(&res, S("Server"), S("nginx/1.22"));
	ctx.res = &res;
}

static enum rule_verdict run(const struct rule_list *l, struct http_msg *m)
{
	x = (struct rule_exec){ .ctx = &ctx, .msg = m, .scratch = scratch,
				.scratch_len = sizeof(scratch) };
	return rules_run(l, &x);
}

/* Number of live fields named `name`, and the value of the last one. */
static int nhdr(struct http_msg *m, const char *name, struct slice *last)
{
	int pos = 0, n = 0;
	struct http_hdr *h;

	while ((h = msg_hdr_find(m, S(name), &pos))) {
		n++;
		if (last)
			*last = h->value;
	}
	return n;
}

static bool hdr_is(struct http_msg *m, const char *name, const char *want)
{
	struct slice v = { 0 };
	int n = nhdr(m, name, &v);
	bool ok = n == 1 && v.len == strlen(want) && memcmp(v.p, want, v.len) == 0;
	if (!ok)
		fprintf(stderr, "  %s: %d fields, last '%.*s', want one '%s'\n", name, n, (int)v.len,
			v.p ? v.p : "", want);
	return ok;
}

static bool sl_is(struct slice s, const char *want)
{
	bool ok = s.p && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
	if (!ok)
		fprintf(stderr, "  got '%.*s', want '%s'\n", (int)s.len, s.p ? s.p : "(null)", want);
	return ok;
}

#define BE "backend app {\n server s1 127.0.0.1:9000\n}\n"

/* Loads a frontend whose block holds `rules` (line 3 on). */
static struct cfg *FE(const char *rules)
{
	char text[4096], *errs = NULL;
	snprintf(text, sizeof(text), "frontend web {\n bind :80\n%s default_backend app\n}\n" BE,
		 rules);
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

/* Expects the frontend with `rules` to fail with an error line starting
 * with `want`. */
static bool FE_ERR(const char *rules, const char *want)
{
	char text[4096], *errs = NULL;
	snprintf(text, sizeof(text), "frontend web {\n bind :80\n%s default_backend app\n}\n" BE,
		 rules);
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (c) {
		fprintf(stderr, "  loaded but should not:\n%s\n", rules);
		cfg_free(c);
		return false;
	}
	bool ok = false;
	for (const char *p = errs; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
		if (strncmp(p, want, strlen(want)) == 0)
			ok = true;
	if (!ok)
		fprintf(stderr, "  want: %s\n  got:\n%s\n", want, errs ? errs : "(none)");
	free(errs);
	return ok;
}

static bool ERR_TEXT(const char *text, const char *want)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	bool ok = !c && errs && strstr(errs, want);
	if (!ok)
		fprintf(stderr, "  want: %s\n  got:\n%s\n", want, errs ? errs : "(loaded)");
	cfg_free(c);
	free(errs);
	return ok;
}

/* ---- actions ------------------------------------------------------------- */

TEST(test_deny)
{
	struct cfg *c = FE(" http_request deny if path prefix /admin\n"
			   " http_request deny status 429 body \"slow down\" if path == /slow\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	CHECK_EQ_INT(l->n, 2);
	mkreq("/admin/x", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 403);
	CHECK(x.body.p == NULL);   /* the caller serves its errorfile */
	CHECK(x.rule == &l->v[0]);
	CHECK_EQ_INT(rule_line(x.rule), 3);
	CHECK(strcmp(rule_action_name(x.rule), "deny") == 0);
	mkreq("/slow", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 429);
	CHECK(sl_is(x.body, "slow down"));
	CHECK_EQ_INT(rule_line(x.rule), 4);
	mkreq("/ok", "h");
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(x.rule == NULL);
	cfg_free(c);
}

TEST(test_if_unless_allow)
{
	struct cfg *c = FE(" http_request allow if src in 10.0.0.0/8\n"
			   " http_request deny unless header(X-Key) == secret\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);   /* no key */
	msg_hdr_add(&req, S("X-Key"), S("secret"));
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);  /* key: unless holds */
	mkreq("/", "h");
	set_src("10.1.2.3");
	CHECK_EQ_INT(run(l, &req), RULE_ALLOW);     /* allow ends the list before deny */
	CHECK(strcmp(rule_action_name(x.rule), "allow") == 0);
	cfg_free(c);
}

TEST(test_backend_lists)
{
	const char *text = "frontend web {\n bind :80\n default_backend app\n"
			   " http_request allow\n http_response set_header X-Fe 1\n}\n"
			   "backend app {\n server s1 127.0.0.1:9000\n"
			   " http_request deny if path == /x\n"
			   " http_response del_header Server\n}\n";
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	CHECK(c != NULL);
	free(errs);
	if (!c)
		return;
	/* allow ends the frontend's list; the backend's still runs */
	mkreq("/x", "h");
	CHECK_EQ_INT(run(&c->frontends[0]->http_req, &req), RULE_ALLOW);
	CHECK_EQ_INT(run(&c->backends[0]->http_req, &req), RULE_RESPOND);
	mkres(200);
	CHECK_EQ_INT(run(&c->frontends[0]->http_res, &res), RULE_CONTINUE);
	CHECK_EQ_INT(run(&c->backends[0]->http_res, &res), RULE_CONTINUE);
	CHECK(hdr_is(&res, "X-Fe", "1"));
	CHECK_EQ_INT(nhdr(&res, "Server", NULL), 0);
	cfg_free(c);
}

TEST(test_return)
{
	struct cfg *c = FE(" http_request return status 200 content_type \"text/plain\" body "
			   "\"pong\" if path == /ping\n"
			   " http_request return status 204 if path == /empty\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/ping", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 200);
	CHECK(sl_is(x.content_type, "text/plain"));
	CHECK(sl_is(x.body, "pong"));
	mkreq("/empty", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 204);
	CHECK(x.body.p != NULL && x.body.len == 0);   /* empty, not "serve an errorfile" */
	CHECK_EQ_INT(x.content_type.len, 0);
	cfg_free(c);
}

TEST(test_redirect)
{
	struct cfg *c = FE(" http_request redirect location \"https://%[host]%[path]\" code 301 if "
			   "path prefix /loc\n"
			   " http_request redirect scheme https if path prefix /sch\n"
			   " http_request redirect prefix /new code 308 if path prefix /pre\n"
			   " http_request redirect prefix / if path prefix /root\n"
			   " http_request redirect prefix /slash/ code 303 if path prefix /sl\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/loc/a?x=1", "example.com:8080");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 301);
	CHECK(sl_is(x.location, "https://example.com/loc/a"));
	CHECK(strcmp(rule_action_name(x.rule), "redirect") == 0);
	mkreq("/sch?x=1&y", "example.com:80");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 302);   /* the default */
	CHECK(sl_is(x.location, "https://example.com/sch?x=1&y"));
	mkreq("/sch", "[::1]:80");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK(sl_is(x.location, "https://[::1]/sch"));
	mkreq("/sch", NULL);   /* no host to redirect to */
	CHECK_EQ_INT(run(l, &req), RULE_ERROR);
	CHECK(x.why != NULL);
	mkreq("/pre/a?q", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 308);
	CHECK(sl_is(x.location, "/new/pre/a?q"));
	mkreq("/root/b", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK(sl_is(x.location, "/root/b"));
	mkreq("/sl", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 303);
	CHECK(sl_is(x.location, "/slash/sl"));
	cfg_free(c);
}

TEST(test_headers)
{
	struct cfg *c = FE(" http_request set_header X-Real-IP \"%[src]\"\n"
			   " http_request add_header X-Tag a\n"
			   " http_request add_header X-Tag \"b c\"\n"
			   " http_request del_header X-Drop\n"
			   " http_request set_header X-Hdr \"<%[header(X-In)]>\"\n"
			   " http_request set_header X-Url \"%[url]\"\n"
			   " http_request set_header X-Q \"%[query]|%[query(b)]|%[scheme]|%[ssl]\"\n"
			   " http_request set_header X-Missing \"[%[header(X-None)]]\"\n"
			   " http_request set_header Host new.example\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/p?a=1&b=2", "old.example");
	msg_hdr_add(&req, S("X-Real-IP"), S("spoofed"));
	msg_hdr_add(&req, S("x-real-ip"), S("spoofed2"));
	msg_hdr_add(&req, S("X-Drop"), S("1"));
	msg_hdr_add(&req, S("x-drop"), S("2"));
	msg_hdr_add(&req, S("X-In"), S("v"));
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(hdr_is(&req, "X-Real-IP", "192.0.2.7"));   /* both spoofed fields gone */
	CHECK_EQ_INT(nhdr(&req, "X-Tag", NULL), 2);
	CHECK_EQ_INT(nhdr(&req, "X-Drop", NULL), 0);
	CHECK(hdr_is(&req, "X-Hdr", "<v>"));
	CHECK(hdr_is(&req, "X-Url", "/p?a=1&b=2"));
	CHECK(hdr_is(&req, "X-Q", "a=1&b=2|2|http|0"));
	CHECK(hdr_is(&req, "X-Missing", "[]"));
	CHECK(hdr_is(&req, "Host", "new.example"));
	CHECK(sl_is(req.authority, "new.example"));
	/* every value lives in the message's store */
	struct slice v;
	nhdr(&req, "X-Real-IP", &v);
	CHECK(v.p >= req.st.area && v.p < req.st.area + req.st.used);
	cfg_free(c);
}

TEST(test_set_path_query)
{
	struct cfg *c = FE(" http_request set_path \"/v2%[path]\" if path prefix /api\n"
			   " http_request set_query \"k=%[query(a)]&src=%[src]\" if path prefix /v2\n"
			   " http_request set_query \"\" if path == /clear\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/api/x?a=7", "h");
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(sl_is(req.path, "/v2/api/x"));
	CHECK(sl_is(req.query, "k=7&src=192.0.2.7"));   /* later rules see the new path */
	mkreq("/clear?a=1", "h");
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(req.query.p == NULL);
	cfg_free(c);
}

/* ---- response rules, numbers, booleans ------------------------------------ */

TEST(test_response_rules)
{
	struct cfg *c = FE(" http_response set_header Strict-Transport-Security "
			   "\"max-age=63072000\"\n"
			   " http_response del_header Server if res_header(Server) prefix nginx\n"
			   " http_response set_header X-Status \"%[status] for %[path]\"\n"
			   " http_response set_header X-Ok yes if status == 200\n"
			   " http_response set_header X-2xx yes if status >= 200 and status < 300\n"
			   " http_response deny if status >= 500\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_res;
	mkreq("/r", "h");
	mkres(200);
	CHECK_EQ_INT(run(l, &res), RULE_CONTINUE);
	CHECK(hdr_is(&res, "Strict-Transport-Security", "max-age=63072000"));
	CHECK_EQ_INT(nhdr(&res, "Server", NULL), 0);
	CHECK(hdr_is(&res, "X-Status", "200 for /r"));
	CHECK(hdr_is(&res, "X-Ok", "yes"));
	CHECK(hdr_is(&res, "X-2xx", "yes"));
	CHECK_EQ_INT(nhdr(&req, "X-Status", NULL), 0);   /* the request is not touched */
	mkres(503);
	CHECK_EQ_INT(run(l, &res), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 403);
	CHECK_EQ_INT(nhdr(&res, "X-2xx", NULL), 0);
	mkres(499);
	CHECK_EQ_INT(run(l, &res), RULE_CONTINUE);
	cfg_free(c);
}

TEST(test_numeric_headers)
{
	struct cfg *c = FE(" http_request deny if header(X-N) > 10\n"
			   " http_request deny status 400 if header(X-M) == 7\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	const char *vals[] = { "11", "10", "-3", "abc", "", "99999999999999999999" };
	const int want[] = { RULE_RESPOND, RULE_CONTINUE, RULE_CONTINUE, RULE_CONTINUE,
			     RULE_CONTINUE, RULE_CONTINUE };
	for (int i = 0; i < 6; i++) {
		mkreq("/", "h");
		msg_hdr_add(&req, S("X-N"), S(vals[i]));
		CHECK_EQ_INT(run(l, &req), want[i]);
	}
	mkreq("/", "h");
	msg_hdr_add(&req, S("X-M"), S("007"));   /* numerically equal */
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK_EQ_INT(x.status, 400);
	cfg_free(c);
}

TEST(test_ssl)
{
	struct cfg *c = FE(" http_request set_header X-Plain 1 unless ssl\n"
			   " http_request set_header X-Tls 1 if ssl\n"
			   " http_request redirect scheme https code 301 if not ssl and path == /r\n"
			   " http_request set_header X-Id \"%[req_id]\" if ssl == 1\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/", "h");
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(hdr_is(&req, "X-Plain", "1"));
	CHECK_EQ_INT(nhdr(&req, "X-Tls", NULL), 0);
	mkreq("/r", "h");
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	CHECK(sl_is(x.location, "https://h/r"));
	mkreq("/r", "h");
	ctx.tls = true;
	ctx.req_id = S("abc-123");
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK_EQ_INT(nhdr(&req, "X-Plain", NULL), 0);
	CHECK(hdr_is(&req, "X-Tls", "1"));
	CHECK(hdr_is(&req, "X-Id", "abc-123"));
	cfg_free(c);
}

TEST(test_tcp_reject)
{
	struct cfg *c = FE(" tcp_request connection accept if src in 203.0.113.7\n"
			   " tcp_request connection reject if src in 203.0.113.0/24\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->tcp_conn;
	ctx = (struct cond_ctx){ .msg = NULL, .src = &src };
	set_src("203.0.113.9");
	CHECK_EQ_INT(run(l, NULL), RULE_REJECT);
	CHECK(strcmp(rule_action_name(x.rule), "reject") == 0);
	set_src("203.0.113.7");
	CHECK_EQ_INT(run(l, NULL), RULE_ALLOW);
	CHECK(strcmp(rule_action_name(x.rule), "accept") == 0);
	set_src("198.51.100.1");
	CHECK_EQ_INT(run(l, NULL), RULE_CONTINUE);
	cfg_free(c);

	/* tcp mode frontends take them too */
	const char *text = "frontend t {\n bind :80\n mode tcp\n"
			   " tcp_request connection reject if src in 10.0.0.0/8\n"
			   " default_backend db\n}\nbackend db {\n mode tcp\n"
			   " server s1 127.0.0.1:5432\n}\n";
	char *errs = NULL;
	c = cfg_load_string("t.conf", text, strlen(text), &errs);
	CHECK(c != NULL);
	free(errs);
	cfg_free(c);
}

/* ---- hostile values, limits ------------------------------------------------ */

static bool clean_field(struct slice v)
{
	for (uint32_t i = 0; i < v.len; i++)
		if (v.p[i] == '\r' || v.p[i] == '\n' || v.p[i] == '\0')
			return false;
	return true;
}

TEST(test_hostile_values)
{
	static const char evil[] = "a\r\nX-Admin: 1\0b c?d#e\x7f";
	struct slice ev = { evil, sizeof(evil) - 1 };
	struct cfg *c = FE(" http_request set_header X-Copy \"%[header(X-Evil)]\"\n"
			   " http_request set_path \"/p/%[header(X-Evil)]\"\n"
			   " http_request set_query \"q=%[header(X-Evil)]\"\n"
			   " http_request redirect location \"/l?%[header(X-Evil)]\"\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/", "h");
	msg_hdr_add(&req, S("X-Evil"), ev);
	CHECK_EQ_INT(run(l, &req), RULE_RESPOND);
	struct slice v = { 0 };
	CHECK_EQ_INT(nhdr(&req, "X-Copy", &v), 1);
	CHECK(clean_field(v));
	/* control bytes become spaces: nothing is dropped or added */
	CHECK_EQ_INT(v.len, ev.len);
	CHECK(v.len == ev.len && memcmp(v.p, "a  X-Admin: 1 b c?d#e ", v.len) == 0);
	CHECK(sl_is(req.path, "/p/a%0D%0AX-Admin:%201%00b%20c%3Fd%23e%7F"));
	CHECK(sl_is(req.query, "q=a%0D%0AX-Admin:%201%00b%20c?d%23e%7F"));
	CHECK(sl_is(x.location, "/l?a%0D%0AX-Admin:%201%00b%20c?d#e%7F"));
	cfg_free(c);
}

TEST(test_overflow)
{
	static char big[6000];
	memset(big, 'x', sizeof(big) - 1);
	struct cfg *c = FE(" http_request set_header X-A small\n"
			   " http_request set_header X-Big \"%[header(X-Long)]\"\n"
			   " http_request set_header X-After 1\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/", "h");
	msg_free(&req);
	msg_init(&req, 1024);   /* a small bound: the head may not grow past it */
	req.path = S("/");
	msg_hdr_add(&req, S("X-Long"), S(big));
	CHECK_EQ_INT(run(l, &req), RULE_ERROR);
	CHECK(x.why && strstr(x.why, "too large"));
	CHECK_EQ_INT(rule_line(x.rule), 4);
	CHECK_EQ_INT(nhdr(&req, "X-Big", NULL), 0);     /* never truncated */
	CHECK_EQ_INT(nhdr(&req, "X-After", NULL), 0);   /* the list stopped */
	CHECK(hdr_is(&req, "X-A", "small"));           /* earlier rewrites stay */

	/* more than the scratch space: refused, not cut */
	static char huge[RULE_SCRATCH_MIN + 10];
	memset(huge, 'y', sizeof(huge) - 1);
	mkreq("/", "h");
	msg_hdr_add(&req, S("X-Long"), S(huge));
	CHECK_EQ_INT(run(l, &req), RULE_ERROR);
	CHECK_EQ_INT(nhdr(&req, "X-Big", NULL), 0);
	cfg_free(c);
}

/* ---- load errors ----------------------------------------------------------- */

TEST(test_load_errors)
{
	CHECK(FE_ERR(" http_request set_header X-A \"%[nope]\"\n",
		     "t.conf:3:33: error: unknown fetch 'nope'; expected one of: host, path"));
	CHECK(FE_ERR(" http_request set_header X-A \"a%[src\"\n",
		     "t.conf:3:32: error: unterminated '%[' in a header value"));
	/* an option given twice is an error (the fuzzer found the second one
	 * silently replacing, and leaking, the first) */
	CHECK(FE_ERR(" http_request return content_type a/b body x content_type c/d\n",
		     "t.conf:3:46: error: 'content_type' given twice in http_request return"));
	CHECK(FE_ERR(" http_request deny body x status 403 body y\n",
		     "t.conf:3:38: error: 'body' given twice in http_request deny"));
	CHECK(FE_ERR(" http_request frobnicate\n",
		     "t.conf:3:15: error: unknown http_request action 'frobnicate'; expected one "
		     "of: deny, allow, redirect"));
	CHECK(FE_ERR(" http_response redirect prefix /x\n",
		     "t.conf:3:16: error: unknown http_response action 'redirect'"));
	CHECK(FE_ERR(" http_request deny status 700\n",
		     "t.conf:3:27: error: 700 is out of range; expected an integer from 200 to 599"));
	CHECK(FE_ERR(" http_request return status 20x\n",
		     "t.conf:3:29: error: invalid number '20x'"));
	CHECK(FE_ERR(" http_request redirect prefix /x code 304\n",
		     "t.conf:3:39: error: invalid redirect code '304'; expected 301, 302, 303, 307 "
		     "or 308"));
	CHECK(FE_ERR(" http_request redirect elsewhere /x\n",
		     "t.conf:3:24: error: unknown redirect kind 'elsewhere'"));
	CHECK(FE_ERR(" http_request redirect location\n",
		     "t.conf:3:32: error: missing a value after 'location'"));
	CHECK(FE_ERR(" http_request set_header X-A \"a\rb\"\n",
		     "t.conf:3:32: error: invalid byte 0x0d in a header value; expected visible"));
	CHECK(FE_ERR(" http_request set_header X-A \"a\x01\"\n",
		     "t.conf:3:32: error: invalid byte 0x01 in a header value"));
	CHECK(FE_ERR(" http_request set_path \"/a b\"\n",
		     "t.conf:3:27: error: invalid byte 0x20 in a path"));
	CHECK(FE_ERR(" http_request set_path /a?b\n",
		     "t.conf:3:26: error: invalid byte 0x3f in a path"));
	CHECK(FE_ERR(" http_request set_path v2\n",
		     "t.conf:3:24: error: set_path value 'v2' does not start with '/'"));
	CHECK(FE_ERR(" http_request set_header X:A v\n",
		     "t.conf:3:27: error: invalid character in header name 'X:A'"));
	CHECK(FE_ERR(" http_request set_header Content-Length 5\n",
		     "t.conf:3:26: error: header 'Content-Length' cannot be written by a rule"));
	CHECK(FE_ERR(" http_request del_header Host\n",
		     "t.conf:3:26: error: header 'Host' cannot be deleted by a rule"));
	CHECK(FE_ERR(" http_request set_header X-A\n",
		     "t.conf:3:29: error: missing a value after 'X-A'"));
	CHECK(FE_ERR(" http_request deny bogus 1\n",
		     "t.conf:3:20: error: unexpected 'bogus' in http_request deny; expected status "
		     "body, 'if' or 'unless'"));
	CHECK(FE_ERR(" http_request deny if\n", "t.conf:3:22: error: expected a condition"));
	CHECK(FE_ERR(" http_request deny if path ==\n",
		     "t.conf:3:30: error: expected a value after '=='"));
	CHECK(FE_ERR(" http_request deny if status >= 500\n",
		     "t.conf:3:23: error: fetch 'status' reads the response but http_request rules "
		     "run before there is one"));
	CHECK(FE_ERR(" http_request set_header X-S \"%[res_header(Server)]\"\n",
		     "t.conf:3:33: error: fetch 'res_header(Server)' reads the response"));
	CHECK(FE_ERR(" use_backend app if status == 200\n",
		     "t.conf:3:21: error: fetch 'status' reads the response but use_backend runs"));
	CHECK(FE_ERR(" tcp_request connection reject if path == /x\n",
		     "t.conf:3:35: error: fetch 'path' needs HTTP but tcp_request connection rules "
		     "run before any parsing; expected 'src'"));
	CHECK(FE_ERR(" tcp_request session reject\n",
		     "t.conf:3:14: error: unknown tcp_request phase 'session'; expected 'connection'"));
	CHECK(FE_ERR(" tcp_request connection drop\n",
		     "t.conf:3:25: error: unknown tcp_request connection action 'drop'"));
	CHECK(FE_ERR(" http_request deny if path < abc\n",
		     "t.conf:3:30: error: expected an integer after '<', got 'abc'"));

	/* http rules in tcp mode, frontend and backend */
	CHECK(ERR_TEXT("frontend t {\n bind :80\n mode tcp\n http_request deny\n"
		       " default_backend db\n}\nbackend db {\n mode tcp\n server s 127.0.0.1:1\n}\n",
		       "t.conf:4:15: error: http_request rules need HTTP but frontend 't' is in tcp "
		       "mode; expected mode http"));
	CHECK(ERR_TEXT("frontend t {\n bind :80\n mode tcp\n default_backend db\n}\n"
		       "backend db {\n mode tcp\n server s 127.0.0.1:1\n"
		       " http_response del_header Server\n}\n",
		       "t.conf:9:16: error: http_response rules need HTTP but backend 'db' is in tcp "
		       "mode"));
	CHECK(ERR_TEXT("frontend t {\n bind :80\n default_backend b\n}\n"
		       "backend b {\n balance hash(status)\n server s 127.0.0.1:1\n}\n",
		       "fetch 'status' reads the response but balancing runs"));
}

/* ---- formats directly -------------------------------------------------------- */

TEST(test_fmt)
{
	char err[256], out[64];
	int col;
	struct cfg_tok t = { "100%% of %[path]%x", 1, 10, false };
	struct fmt *f = fmt_parse(&t, FMT_FIELD, err, sizeof(err), &col);
	struct slice lit;

	CHECK(f != NULL);
	if (!f)
		return;
	mkreq("/p", "h");
	CHECK(!fmt_literal(f, &lit));
	int n = fmt_render(f, &ctx, out, sizeof(out));
	CHECK(n == 12 && memcmp(out, "100% of /p%x", 12) == 0);
	CHECK_EQ_INT(fmt_render(f, &ctx, out, 5), -1);   /* does not fit: -1, not a cut */
	fmt_free(f);

	t.s = "plain";
	f = fmt_parse(&t, FMT_FIELD, err, sizeof(err), &col);
	CHECK(f && fmt_literal(f, &lit) && sl_is(lit, "plain"));
	fmt_free(f);
	t.s = "";
	f = fmt_parse(&t, FMT_QUERY, err, sizeof(err), &col);
	CHECK(f && fmt_literal(f, &lit) && lit.len == 0);
	CHECK(f && fmt_render(f, &ctx, out, sizeof(out)) == 0);
	fmt_free(f);
	t.s = "a%[]";
	CHECK(fmt_parse(&t, FMT_FIELD, err, sizeof(err), &col) == NULL);
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ_INT(col, 11);
}

/* Lookups and deletes by name skip names a message's Bloom filter rules
 * out: it must never rule out a name that is there, whatever its case,
 * however the field got in (added before or after the filter was built,
 * after a reset, after nhdrs was cut back). */
TEST(test_header_names)
{
	static const char *const names[] = { "Accept", "X-Forwarded-Host", "x-a", "X-B",
					     "Cache-Control", "If-None-Match", "A", "Via",
					     "X-Request-Id", "user-agent", "Referer", "X-Amz-Date" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	char up[64];

	mkreq("/", "h");
	for (int i = 0; i < N; i++)
		msg_hdr_add(&req, S(names[i]), S("v"));
	for (int i = 0; i < N; i++) {
		size_t n = strlen(names[i]);
		for (size_t k = 0; k <= n; k++) {   /* aLtErNaTe the letters' case */
			char ch = names[i][k];
			bool letter = (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
			up[k] = !letter ? ch : k % 2 ? (char)(ch | 0x20) : (char)(ch & ~0x20);
		}
		CHECK_EQ_INT(nhdr(&req, up, NULL), 1);
	}
	CHECK_EQ_INT(nhdr(&req, "X-C", NULL), 0);
	CHECK_EQ_INT(nhdr(&req, "Accept-Language", NULL), 0);
	/* added once the filter is built */
	msg_hdr_add(&req, S("X-Late"), S("1"));
	CHECK_EQ_INT(nhdr(&req, "x-late", NULL), 1);
	msg_hdr_del(&req, S("X-LATE"));
	CHECK_EQ_INT(nhdr(&req, "X-Late", NULL), 0);
	/* cut back without a reset, then other names in the same slots */
	req.nhdrs = 2;
	req.hdrs[1].name = S("X-Other");
	msg_hdr_add(&req, S("X-New"), S("2"));
	CHECK_EQ_INT(nhdr(&req, "x-other", NULL), 1);
	CHECK_EQ_INT(nhdr(&req, "X-NEW", NULL), 1);
	CHECK_EQ_INT(nhdr(&req, "Via", NULL), 0);
	/* reset */
	msg_reset(&req);
	CHECK_EQ_INT(nhdr(&req, "X-New", NULL), 0);
	msg_hdr_add(&req, S("via"), S("3"));
	CHECK_EQ_INT(nhdr(&req, "VIA", NULL), 1);

	/* the rules' side: names resolved at load, any case in the message */
	struct cfg *c = FE(" http_request set_header x-a \"%[path]\"\n"
			   " http_request del_header X-AMZ-DATE\n"
			   " http_request set_header HOST other.example\n"
			   " http_request add_header X-Lit literal\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct rule_list *l = &c->frontends[0]->http_req;
	mkreq("/", "h");
	for (int i = 0; i < N; i++)
		msg_hdr_add(&req, S(names[i]), S("v"));
	req.path = msg_store(&req, "/stored", 7);
	CHECK_EQ_INT(run(l, &req), RULE_CONTINUE);
	CHECK(hdr_is(&req, "X-A", "/stored"));
	CHECK_EQ_INT(nhdr(&req, "X-Amz-Date", NULL), 0);
	CHECK(hdr_is(&req, "host", "other.example"));
	CHECK(sl_is(req.authority, "other.example"));
	CHECK(hdr_is(&req, "X-Lit", "literal"));
	/* %[path] already in the store is not copied again */
	struct slice v;
	nhdr(&req, "X-A", &v);
	CHECK(v.p == req.path.p);
	/* a literal value is the rule's own bytes, counted against the bound */
	uint32_t charged = req.st.charged;
	CHECK(charged >= strlen("X-Lit") + strlen("literal"));
	mkreq("/", "h");
	msg_free(&req);
	msg_init(&req, 30);
	req.path = S("/");
	/* 1 + 3 (x-a), 4 + 13 (Host), then 5 + 7 (X-Lit) pass 30 bytes */
	CHECK_EQ_INT(run(l, &req), RULE_ERROR);
	CHECK(hdr_is(&req, "Host", "other.example"));
	CHECK_EQ_INT(nhdr(&req, "X-Lit", NULL), 0);
	CHECK(x.why && strstr(x.why, "too large"));
	cfg_free(c);
}

/* slice_ieq against a byte-at-a-time reference, eight-byte words and
 * tails, letters and the bytes that differ from letters in bit 0x20. */
TEST(test_slice_ieq)
{
	static const char alpha[] = "aAzZ@[`{-_09\x80\xc1\xe1\xfa\xda";
	unsigned seed = 99;
	char a[40], b[40];
	int bad = 0;

	for (int it = 0; it < 200000 && !bad; it++) {
		uint32_t n = (uint32_t)(rand_r(&seed) % 40);
		for (uint32_t i = 0; i < n; i++) {
			a[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
			int k = rand_r(&seed) % 4;
			b[i] = k == 0 ? (char)(a[i] ^ 0x20) : k == 1 ? (char)(rand_r(&seed) % 256) : a[i];
		}
		bool want = true;
		for (uint32_t i = 0; i < n; i++) {
			unsigned char p = (unsigned char)a[i], q = (unsigned char)b[i];
			p = p >= 'A' && p <= 'Z' ? p | 0x20 : p;
			q = q >= 'A' && q <= 'Z' ? q | 0x20 : q;
			want = want && p == q;
		}
		bad = slice_ieq((struct slice){ a, n }, (struct slice){ b, n }) != want;
	}
	CHECK(!bad);
	CHECK(slice_ieq(S("Content-Type-Options"), S("content-type-OPTIONS")));
	CHECK(!slice_ieq(S("Content-Type-Options"), S("content-type-OPTIONs ")));
	CHECK(!slice_ieq(S("x-[a]-y-z-12345"), S("X-{A}-Y-Z-12345")));
}

int main(void)
{
	msg_init(&req, 0);
	msg_init(&res, 0);
	RUN(test_deny);
	RUN(test_if_unless_allow);
	RUN(test_backend_lists);
	RUN(test_return);
	RUN(test_redirect);
	RUN(test_headers);
	RUN(test_set_path_query);
	RUN(test_response_rules);
	RUN(test_numeric_headers);
	RUN(test_ssl);
	RUN(test_tcp_reject);
	RUN(test_hostile_values);
	RUN(test_overflow);
	RUN(test_load_errors);
	RUN(test_fmt);
	RUN(test_header_names);
	RUN(test_slice_ieq);
	msg_free(&req);
	msg_free(&res);
	cond_thread_cleanup();
	return UNIT_SUMMARY("test_rules");
}
