/*
 * test_cfg.c - unit tests of the configuration language (src/config/):
 * the example config with its defaults, every directive, value parsers'
 * edge cases, and each kind of error with its exact FILE:LINE:COL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "filter/cond.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

static struct cfg *L(const char *text)
{
	char *errs = (char *)1;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);

	if (!c) {
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
		free(errs);
	} else if (errs) {
		fprintf(stderr, "  errs not NULL on success\n");
		c = NULL;
	}
	return c;
}

/* True if `line` is one whole line of `text`. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static int count_lines(const char *text)
{
	int n = text && *text ? 1 : 0;

	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

/* Loads text expecting failure; returns the error text (caller frees). */
static char *FAIL(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);

	if (c) {
		fprintf(stderr, "  config loaded but should not:\n%s\n", text);
		cfg_free(c);
		return strdup("");
	}
	if (!errs)
		return strdup("");
	return errs;
}

/* Expects the config to fail with `want` as one of the error lines. */
static bool ERR(const char *text, const char *want)
{
	char *errs = FAIL(text);
	bool ok = has_line(errs, want);

	if (!ok)
		fprintf(stderr, "  want line: %s\n  got:\n%s\n", want, errs);
	free(errs);
	return ok;
}

/* Same, but `want` need only start an error line: keyword lists in
 * "expected one of" grow as later issues add directives. */
static bool ERR_PREFIX(const char *text, const char *want)
{
	char *errs = FAIL(text);
	bool ok = false;
	size_t n = strlen(want);

	for (const char *l = errs; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, want, n) == 0)
			ok = true;
	if (!ok)
		fprintf(stderr, "  want a line starting: %s\n  got:\n%s\n", want, errs);
	free(errs);
	return ok;
}

#define MIN_BE "backend app {\n    server a 127.0.0.1:9001\n}\n"
#define MIN_FE "frontend web {\n    bind 127.0.0.1:8080\n    default_backend app\n}\n"

static const char *EXAMPLE =
	"global {\n"
	"    workers auto\n"
	"    max_connections 100000\n"
	"}\n"
	"frontend web {\n"
	"    bind 127.0.0.1:8080\n"
	"    mode http\n"
	"    timeout header 10s\n"
	"    use_backend api if path prefix /api/ or host == api.example.com\n"
	"    default_backend app\n"
	"}\n"
	"backend app {\n"
	"    balance roundrobin\n"
	"    server app1 127.0.0.1:9001\n"
	"    server app2 127.0.0.1:9002 weight 2\n"
	"    timeout connect 2s\n"
	"    timeout server 30s\n"
	"}\n"
	/* the brief's example routes to 'api' without defining it, which the
	 * checker rightly rejects; this is the smallest fix */
	"backend api {\n"
	"    server api1 127.0.0.1:9003\n"
	"}\n";

static struct sockaddr_in *sin4(struct cfg_addr *a)
{
	return (struct sockaddr_in *)&a->ss;
}

/* ---- the example --------------------------------------------------------- */

TEST(test_example)
{
	struct cfg *c = L(EXAMPLE);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(strcmp(c->file, "t.conf") == 0);
	CHECK(c->warnings == NULL);
	CHECK_EQ_INT(c->global.workers, 0);
	CHECK_EQ_INT(c->global.max_connections, 100000);
	CHECK_EQ_INT(c->global.bufsize, 32768);
	CHECK_EQ_INT(c->global.maxrewrite, 1024);
	CHECK_EQ_INT(c->global.timeout_drain_ms, 10000);
	CHECK_EQ_INT(c->global.ocsp_check_ms, 60000);
	CHECK_EQ_INT(c->global.log_level, 2);

	CHECK_EQ_INT(c->nfrontends, 1);
	struct cfg_frontend *fe = c->frontends[0];
	CHECK(strcmp(fe->name, "web") == 0);
	CHECK_EQ_INT(fe->line, 5);
	CHECK_EQ_INT(fe->mode, MODE_HTTP);
	CHECK_EQ_INT(fe->nbinds, 1);
	CHECK(strcmp(fe->binds[0].text, "127.0.0.1:8080") == 0);
	CHECK_EQ_INT(fe->binds[0].ss.ss_family, AF_INET);
	CHECK_EQ_INT(fe->binds[0].len, sizeof(struct sockaddr_in));
	CHECK_EQ_INT(ntohs(sin4(&fe->binds[0])->sin_port), 8080);
	CHECK_EQ_INT(ntohl(sin4(&fe->binds[0])->sin_addr.s_addr), 0x7f000001);
	CHECK_EQ_INT(fe->timeout_header_ms, 10000);
	CHECK_EQ_INT(fe->timeout_client_ms, 60000);
	CHECK_EQ_INT(fe->timeout_tunnel_ms, 0);
	CHECK_EQ_INT(fe->max_body_size, 0);
	CHECK_EQ_INT(fe->max_header_size, 16384 - 1024);
	CHECK_EQ_INT(fe->max_target_size, 8192);
	CHECK_EQ_INT(fe->forward_headers, FWD_XFF | FWD_XFP | FWD_XFH);
	CHECK_EQ_INT(fe->nrules, 1);
	CHECK(strcmp(fe->rules[0].backend_name, "api") == 0);
	CHECK_EQ_INT(fe->rules[0].line, 9);
	CHECK_EQ_INT(fe->rules[0].col, 17);
	CHECK(fe->rules[0].cond != NULL);
	CHECK(fe->rules[0].backend == c->backends[1]);
	CHECK(strcmp(fe->default_backend_name, "app") == 0);
	CHECK(fe->default_backend == c->backends[0]);

	CHECK_EQ_INT(c->nbackends, 2);
	struct cfg_backend *be = c->backends[0];
	CHECK(strcmp(be->name, "app") == 0);
	CHECK(cfg_find_backend(c, "app") == be);
	CHECK(cfg_find_backend(c, "api") == c->backends[1]);
	CHECK(cfg_find_backend(c, "nope") == NULL);
	CHECK_EQ_INT(be->index, 0);
	CHECK_EQ_INT(c->backends[1]->index, 1);
	CHECK_EQ_INT(be->mode, MODE_HTTP);
	CHECK_EQ_INT(be->balance, LB_ROUNDROBIN);
	CHECK(be->hash_fetch == NULL);
	CHECK_EQ_INT(be->random_choices, 2);
	CHECK_EQ_INT(be->timeout_connect_ms, 2000);
	CHECK_EQ_INT(be->timeout_server_ms, 30000);
	CHECK_EQ_INT(be->timeout_tunnel_ms, 3600000);
	CHECK_EQ_INT(be->timeout_queue_ms, 5000);
	CHECK_EQ_INT(be->retries, 2);
	CHECK_EQ_INT(be->line, 12);
	CHECK_EQ_INT(be->nservers, 2);
	struct cfg_server *s1 = be->servers[0], *s2 = be->servers[1];
	CHECK(strcmp(s1->name, "app1") == 0);
	CHECK(strcmp(s1->addr.text, "127.0.0.1:9001") == 0);
	CHECK_EQ_INT(ntohs(sin4(&s1->addr)->sin_port), 9001);
	CHECK_EQ_INT(s1->weight, 1);
	CHECK_EQ_INT(s2->weight, 2);
	CHECK_EQ_INT(s1->maxconn, 0);
	CHECK(!s1->backup && !s1->disabled && !s1->drain);
	CHECK_EQ_INT(s1->slowstart_ms, 0);
	CHECK_EQ_INT(s1->line, 14);
	CHECK_EQ_INT(s2->index, 1);
	CHECK(s2->backend == be);

	/* the parsed rule routes what it says */
	struct http_msg m = { 0 };
	struct cond_ctx cx = { .msg = &m, .src = NULL };
	msg_reset(&m);
	m.path = (struct slice){ "/api/x", 6 };
	m.authority = (struct slice){ "www.example.com", 15 };
	CHECK(cond_eval(fe->rules[0].cond, &cx));
	m.path = (struct slice){ "/apix", 5 };
	CHECK(!cond_eval(fe->rules[0].cond, &cx));
	m.authority = (struct slice){ "API.example.com:80", 18 };
	CHECK(cond_eval(fe->rules[0].cond, &cx));
	cfg_free(c);
}

/* ---- directives ---------------------------------------------------------- */

TEST(test_global)
{
	struct cfg *c = L("global {\n"
			  "  workers 8\n"
			  "  max_connections 5000\n"
			  "  tune.bufsize 32k\n"
			  "  tune.maxrewrite 2k\n"
			  "  timeout drain 3s\n"
			  "  tune.ocsp_check 5m\n"
			  "  log_level debug\n"
			  "}\n" MIN_FE MIN_BE);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ_INT(c->global.workers, 8);
	CHECK_EQ_INT(c->global.max_connections, 5000);
	CHECK_EQ_INT(c->global.bufsize, 32768);
	CHECK_EQ_INT(c->global.maxrewrite, 2048);
	CHECK_EQ_INT(c->global.timeout_drain_ms, 3000);
	CHECK_EQ_INT(c->global.ocsp_check_ms, 300000);
	CHECK_EQ_INT(c->global.log_level, 3);
	/* max_header_size: 15 KiB, or less if the buffer leaves less room */
	CHECK_EQ_INT(c->frontends[0]->max_header_size, 15 * 1024);
	cfg_free(c);
	c = L("global {\n tune.bufsize 8k\n tune.maxrewrite 2k\n}\n" MIN_FE MIN_BE);
	CHECK(c && c->frontends[0]->max_header_size == 8192 - 2048);
	cfg_free(c);

	const char *levels[] = { "err", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "global {\n log_level %s\n}\n" MIN_FE MIN_BE, levels[i]);
		c = L(buf);
		CHECK(c && c->global.log_level == i);
		cfg_free(c);
	}
	c = L("global {\n workers 64\n tune.bufsize 4k\n tune.maxrewrite 2047\n}\n" MIN_FE MIN_BE);
	CHECK(c && c->global.workers == 64 && c->global.bufsize == 4096);
	cfg_free(c);

	CHECK(ERR("global {\n workers 0\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:10: error: 0 is out of range; expected an integer from 1 to 64"));
	CHECK(ERR("global {\n workers 65\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:10: error: 65 is out of range; expected an integer from 1 to 64"));
	CHECK(ERR("global {\n workers many\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:10: error: invalid number 'many'; expected an integer from 1 to 64"));
	CHECK(ERR("global {\n tune.bufsize 2m\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:15: error: size '2m' is out of range; expected 4k to 1m"));
	CHECK(ERR("global {\n tune.bufsize 4k\n tune.maxrewrite 2k\n}\n" MIN_FE MIN_BE,
		  "t.conf:3:18: error: tune.maxrewrite (2048) must be less than half of "
		  "tune.bufsize (4096); expected at most 2047"));
	CHECK(ERR("global {\n tune.ocsp_check 60\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:18: error: missing unit in '60'; expected a duration with a unit, "
		  "e.g. 250ms or 30s"));
	CHECK(ERR("global {\n log_level verbose\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:12: error: unknown log level 'verbose'; expected one of: err, warn, "
		  "info, debug"));
	CHECK(ERR("global {\n timeout idle 3s\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:10: error: unknown timeout 'idle' in global; expected one of: drain"));
}

TEST(test_frontend)
{
	struct cfg *c = L("frontend web {\n"
			  "  bind 127.0.0.1:8080\n"
			  "  bind [::1]:8080\n"
			  "  bind *:8443\n"
			  "  bind [::]:9000\n"
			  "  mode http\n"
			  "  timeout header 5s\n"
			  "  timeout client 2m\n"
			  "  timeout tunnel 1d\n"
			  "  timeout body 30s\n"
			  "  min_body_rate 2k/s grace 3s\n"
			  "  max_body_size 10m\n"
			  "  max_header_size 8k\n"
			  "  max_target_size 2k\n"
			  "  forward_headers x-forwarded-for forwarded\n"
			  "  use_backend app unless method == GET\n"
			  "  default_backend app\n"
			  "}\n" MIN_BE);
	CHECK(c != NULL);
	if (!c)
		return;
	struct cfg_frontend *fe = c->frontends[0];
	CHECK_EQ_INT(fe->nbinds, 4);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&fe->binds[1].ss;
	CHECK_EQ_INT(s6->sin6_family, AF_INET6);
	CHECK_EQ_INT(fe->binds[1].len, sizeof(struct sockaddr_in6));
	CHECK_EQ_INT(ntohs(s6->sin6_port), 8080);
	CHECK(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	CHECK_EQ_INT(sin4(&fe->binds[2])->sin_addr.s_addr, htonl(INADDR_ANY));
	CHECK_EQ_INT(ntohs(sin4(&fe->binds[2])->sin_port), 8443);
	CHECK_EQ_INT(fe->binds[2].line, 4);
	CHECK_EQ_INT(fe->binds[2].col, 8);
	CHECK_EQ_INT(fe->timeout_header_ms, 5000);
	CHECK_EQ_INT(fe->timeout_client_ms, 120000);
	CHECK_EQ_INT(fe->timeout_tunnel_ms, 86400000);
	CHECK_EQ_INT(fe->timeout_body_ms, 30000);
	CHECK_EQ_INT(fe->min_body_rate, 2048);
	CHECK_EQ_INT(fe->min_body_grace_ms, 3000);
	CHECK_EQ_INT(fe->max_body_size, 10 * 1024 * 1024);
	CHECK_EQ_INT(fe->max_header_size, 8192);
	CHECK_EQ_INT(fe->max_target_size, 2048);
	CHECK_EQ_INT(fe->forward_headers, FWD_XFF | FWD_RFC7239);
	CHECK_EQ_INT(fe->nrules, 1);
	/* unless = the condition negated */
	struct http_msg m = { 0 };
	struct cond_ctx cx = { .msg = &m, .src = NULL };
	msg_reset(&m);
	m.method = (struct slice){ "GET", 3 };
	CHECK(!cond_eval(fe->rules[0].cond, &cx));
	m.method = (struct slice){ "POST", 4 };
	CHECK(cond_eval(fe->rules[0].cond, &cx));
	cfg_free(c);

	c = L("frontend web {\n bind :80\n forward_headers none\n default_backend app\n}\n" MIN_BE);
	CHECK(c && c->frontends[0]->forward_headers == 0);
	if (c)
		CHECK_EQ_INT(sin4(&c->frontends[0]->binds[0])->sin_addr.s_addr, htonl(INADDR_ANY));
	cfg_free(c);

	/* a frontend without default_backend is valid: unmatched -> 503 */
	c = L("frontend web {\n bind :80\n}\n" MIN_BE);
	CHECK(c && c->frontends[0]->default_backend == NULL);
	cfg_free(c);

	CHECK(ERR("frontend web {\n bind :80\n forward_headers none x-forwarded-for\n}\n" MIN_BE,
		  "t.conf:3:18: error: 'none' cannot be combined with other headers; expected "
		  "'none' alone"));
	CHECK(ERR("frontend web {\n bind :80\n forward_headers via\n}\n" MIN_BE,
		  "t.conf:3:18: error: unknown forwarding header 'via'; expected one of: "
		  "x-forwarded-for, x-forwarded-proto, x-forwarded-host, forwarded, none"));
	CHECK(ERR("frontend web {\n bind :80\n min_body_rate 1k\n}\n" MIN_BE,
		  "t.conf:3:16: error: invalid rate '1k'; expected a size per second, e.g. 1k/s "
		  "or 500/s"));
	CHECK(ERR("frontend web {\n bind :80\n min_body_rate 0/s\n}\n" MIN_BE,
		  "t.conf:3:16: error: size '0' is out of range; expected 1 to 1g"));
	CHECK(ERR("frontend web {\n bind :80\n min_body_rate 1k/s wait 5s\n}\n" MIN_BE,
		  "t.conf:3:21: error: unexpected 'wait' after the rate; expected 'grace DURATION'"));
	CHECK(ERR("frontend web {\n bind :80\n min_body_rate 1k/s grace 5\n}\n" MIN_BE,
		  "t.conf:3:27: error: missing unit in '5'; expected a duration with a unit, e.g. "
		  "250ms or 30s"));
	CHECK(ERR("frontend web {\n bind :80\n mode udp\n}\n" MIN_BE,
		  "t.conf:3:7: error: unknown mode 'udp'; expected one of: http, tcp"));
	CHECK(ERR("frontend web {\n bind :80\n timeout server 3s\n}\n" MIN_BE,
		  "t.conf:3:10: error: unknown timeout 'server' in frontend 'web'; expected one "
		  "of: header, client, tunnel, body"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app when path == /\n}\n" MIN_BE,
		  "t.conf:3:18: error: unexpected 'when' after the backend name; expected 'if' or "
		  "'unless' (default_backend picks a backend unconditionally)"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app\n}\n" MIN_BE,
		  "t.conf:3:17: error: missing argument to 'use_backend'; expected: use_backend "
		  "NAME if|unless CONDITION"));
	CHECK(ERR("frontend web {\n bind :80\n max_header_size 100\n}\n" MIN_BE,
		  "t.conf:3:18: error: size '100' is out of range; expected 1k to 1m"));
}

TEST(test_backend)
{
	struct cfg *c = L("backend b {\n"
			  "  mode tcp\n"
			  "  balance leastconn\n"
			  "  server s1 10.0.0.1:80 weight 0 maxconn 100 backup\n"
			  "  server s2 [2001:db8::2]:443 disabled drain slowstart 30s weight 256\n"
			  "  timeout connect 100ms\n"
			  "  timeout server 1m\n"
			  "  timeout tunnel 2h\n"
			  "  timeout queue 0s\n"
			  "  retries 0\n"
			  "}\n"
			  "frontend f {\n bind :9\n mode tcp\n default_backend b\n}\n");
	CHECK(c != NULL);
	if (!c)
		return;
	struct cfg_backend *be = c->backends[0];
	CHECK_EQ_INT(be->mode, MODE_TCP);
	CHECK_EQ_INT(be->balance, LB_LEASTCONN);
	CHECK_EQ_INT(be->timeout_connect_ms, 100);
	CHECK_EQ_INT(be->timeout_server_ms, 60000);
	CHECK_EQ_INT(be->timeout_tunnel_ms, 7200000);
	CHECK_EQ_INT(be->timeout_queue_ms, 0);
	CHECK_EQ_INT(be->retries, 0);
	CHECK_EQ_INT(be->nservers, 2);
	struct cfg_server *s1 = be->servers[0], *s2 = be->servers[1];
	CHECK_EQ_INT(s1->weight, 0);
	CHECK_EQ_INT(s1->maxconn, 100);
	CHECK(s1->backup && !s1->disabled && !s1->drain);
	CHECK(!s2->backup && s2->disabled && s2->drain);
	CHECK_EQ_INT(s2->slowstart_ms, 30000);
	CHECK_EQ_INT(s2->weight, 256);
	CHECK_EQ_INT(s2->addr.ss.ss_family, AF_INET6);
	CHECK(strcmp(s2->addr.text, "[2001:db8::2]:443") == 0);
	CHECK(c->frontends[0]->default_backend == be);
	cfg_free(c);

	CHECK(ERR("backend b {\n server s 10.0.0.1:80 weight 257\n}\n",
		  "t.conf:2:30: error: 257 is out of range; expected an integer from 0 to 256"));
	CHECK(ERR("backend b {\n server s 10.0.0.1:80 weight\n}\n",
		  "t.conf:2:29: error: expected a value after 'weight'"));
	CHECK(ERR("backend b {\n server s 10.0.0.1:80 slowstart 30\n}\n",
		  "t.conf:2:33: error: missing unit in '30'; expected a duration with a unit, e.g. "
		  "250ms or 30s"));
	CHECK(ERR_PREFIX("backend b {\n server s 10.0.0.1:80 bakup\n}\n",
			 "t.conf:2:23: error: unknown server option 'bakup'; expected one of: "
			 "weight, maxconn, backup, disabled, drain, slowstart"));
	CHECK(ERR("backend b {\n server s *:80\n}\n",
		  "t.conf:2:11: error: a server needs an address to connect to, got '*:80'; "
		  "expected e.g. 127.0.0.1:9001"));
	/* host names are resolved at load (/etc/hosts has localhost) */
	struct cfg *lc = L("backend b {\n server s localhost:80\n}\n");
	CHECK(lc != NULL);
	if (lc) {
		const struct sockaddr_in *sin =
			(const struct sockaddr_in *)&lc->backends[0]->servers[0]->addr.ss;
		CHECK(sin->sin_family == AF_INET && ntohs(sin->sin_port) == 80 &&
		      ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
		CHECK(strcmp(lc->backends[0]->servers[0]->addr.text, "localhost:80") == 0);
		cfg_free(lc);
	}
	CHECK(ERR_PREFIX("backend b {\n server s no-such-host.invalid:80\n}\n",
			 "t.conf:2:11: error: invalid address 'no-such-host.invalid:80': cannot "
			 "resolve the host name ("));
	CHECK(ERR("backend b {\n server s bad_host!:80\n}\n",
		  "t.conf:2:11: error: invalid address 'bad_host!:80': not an IP address or a host "
		  "name; expected IP:PORT or unix@PATH, e.g. 127.0.0.1:9001, [::1]:9001 or "
		  "unix@/run/app.sock"));
	CHECK(ERR("backend b {\n server s\n}\n",
		  "t.conf:2:10: error: missing argument to 'server'; expected: server NAME ADDRESS "
		  "[weight N] [maxconn N] [backup] [disabled] [drain] [slowstart DURATION] "
		  "[source ADDRESS|client] [proto h1|h2]"));
	CHECK(ERR("backend b {\n server s/1 10.0.0.1:80\n}\n",
		  "t.conf:2:9: error: invalid server name 's/1'; expected letters, digits, '-', "
		  "'_', '.' or ':'"));
	CHECK(ERR("backend b {\n retries -1\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: invalid number '-1'; expected an integer from 0 to 100"));
	CHECK(ERR("backend b {\n timeout client 1s\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: unknown timeout 'client' in backend 'b'; expected one of: "
		  "connect, server, tunnel, queue, stream_idle"));
}

TEST(test_balance)
{
	static const struct {
		const char *algo;
		enum lb_algo want;
		int choices;
		int hash_kind;
	} ok[] = {
		{ "roundrobin", LB_ROUNDROBIN, 2, -1 },
		{ "leastconn", LB_LEASTCONN, 2, -1 },
		{ "random", LB_RANDOM, 2, -1 },
		{ "random(3)", LB_RANDOM, 3, -1 },
		{ "random(1)", LB_RANDOM, 1, -1 },
		{ "ewma", LB_EWMA, 2, -1 },
		{ "hash(src)", LB_HASH, 2, FETCH_SRC },
		{ "hash(header(X-User))", LB_HASH, 2, FETCH_HEADER },
		{ "hash(cookie(sid))", LB_HASH, 2, FETCH_COOKIE },
		{ "hash(path)", LB_HASH, 2, FETCH_PATH },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(buf, sizeof(buf), "backend b {\n balance %s\n server s 10.0.0.1:80\n}\n",
			 ok[i].algo);
		struct cfg *c = L(buf);
		CHECK(c != NULL);
		if (!c)
			continue;
		struct cfg_backend *be = c->backends[0];
		CHECK_EQ_INT(be->balance, ok[i].want);
		CHECK_EQ_INT(be->random_choices, ok[i].choices);
		if (ok[i].hash_kind < 0)
			CHECK(be->hash_fetch == NULL);
		else
			CHECK(be->hash_fetch && (int)fetch_kind(be->hash_fetch) == ok[i].hash_kind);
		cfg_free(c);
	}
	CHECK(ERR("backend b {\n balance roundrobbin\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: unknown balance algorithm 'roundrobbin'; expected one of: "
		  "roundrobin, leastconn, random, random(N), ewma, hash(FETCH)"));
	/* errors inside hash() point at the fetch */
	CHECK(ERR_PREFIX("backend b {\n balance hash(pth)\n server s 10.0.0.1:80\n}\n",
			 "t.conf:2:15: error: unknown fetch 'pth'; expected one of: host, path, "
			 "method, src, header(NAME), query(NAME), cookie(NAME)"));
	CHECK(ERR("backend b {\n balance hash()\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: invalid balance 'hash()'; expected hash(FETCH), e.g. "
		  "hash(src)"));
	CHECK(ERR("backend b {\n balance random(0)\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:17: error: 0 is out of range; expected an integer from 1 to 64"));
	CHECK(ERR("backend b {\n balance random(x\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: invalid balance 'random(x'; expected random(N), e.g. "
		  "random(2)"));
	/* a tcp backend cannot hash what it never parses */
	CHECK(ERR("backend b {\n mode tcp\n balance hash(path)\n server s 10.0.0.1:80\n}\n",
		  "t.conf:3:15: error: fetch 'path' needs HTTP but backend 'b' is in tcp mode; "
		  "expected 'src', the only fetch available in tcp mode"));
}

/* ---- values -------------------------------------------------------------- */

TEST(test_durations)
{
	static const struct {
		const char *s;
		int ok;
		uint32_t ms;
	} cases[] = {
		{ "250ms", 1, 250 },	 { "30s", 1, 30000 },	 { "5m", 1, 300000 },
		{ "1h", 1, 3600000 },	 { "1d", 1, 86400000 },	 { "0s", 1, 0 },
		{ "0ms", 1, 0 },	 { "49d", 1, 4233600000u }, { "007s", 1, 7000 },
		{ "4294967295ms", 1, 4294967295u },
		{ "30", 0, 0 },		 { "0", 0, 0 },		 { "50d", 0, 0 },
		{ "4294967296ms", 0, 0 }, { "1.5s", 0, 0 },	 { "s", 0, 0 },
		{ "", 0, 0 },		 { "-1s", 0, 0 },	 { "1S", 0, 0 },
		{ "1sec", 0, 0 },	 { "1 s", 0, 0 },	 { "10us", 0, 0 },
		{ "99999999999999999999999s", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 12345;
		int r = cfg_parse_duration_ms(cases[i].s, &v);
		if ((r == 0) != cases[i].ok || (r == 0 && v != cases[i].ms)) {
			fprintf(stderr, "  duration '%s': rc %d value %u\n", cases[i].s, r, v);
			CHECK(0);
		}
	}
	/* each kind of bad duration says what a good one looks like */
	CHECK(ERR("backend b {\n timeout connect 5\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:18: error: missing unit in '5'; expected a duration with a unit, e.g. "
		  "250ms or 30s"));
	CHECK(ERR("backend b {\n timeout connect 5x\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:18: error: invalid duration '5x'; expected a number with a unit (ms, "
		  "s, m, h, d), e.g. 250ms or 30s"));
	CHECK(ERR("backend b {\n timeout connect 60d\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:18: error: duration '60d' is too long; expected at most 49d"));
}

TEST(test_sizes)
{
	static const struct {
		const char *s;
		int ok;
		uint64_t v;
	} cases[] = {
		{ "512", 1, 512 },
		{ "0", 1, 0 },
		{ "16k", 1, 16384 },
		{ "16K", 1, 16384 },
		{ "1m", 1, 1048576 },
		{ "1g", 1, 1073741824 },
		{ "3G", 1, 3221225472ull },
		{ "17179869183g", 1, 17179869183ull << 30 },
		{ "17179869184g", 0, 0 },
		{ "18446744073709551615", 1, UINT64_MAX },
		{ "18446744073709551616", 0, 0 },
		{ "", 0, 0 },
		{ "k", 0, 0 },
		{ "1kb", 0, 0 },
		{ "1t", 0, 0 },
		{ "-1", 0, 0 },
		{ "1.5k", 0, 0 },
		{ " 1k", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = cfg_parse_size(cases[i].s, &v);
		if ((r == 0) != cases[i].ok || (r == 0 && v != cases[i].v)) {
			fprintf(stderr, "  size '%s': rc %d value %llu\n", cases[i].s, r,
				(unsigned long long)v);
			CHECK(0);
		}
	}
	CHECK(ERR("global {\n tune.bufsize 16kb\n}\n" MIN_FE MIN_BE,
		  "t.conf:2:15: error: invalid size '16kb'; expected a number of bytes with an "
		  "optional unit k, m or g, e.g. 512, 16k or 1m"));
}

TEST(test_addresses)
{
	static const struct {
		const char *s;
		int ok;
		int fam;
		int port;
	} cases[] = {
		{ "127.0.0.1:8080", 1, AF_INET, 8080 },
		{ "[::1]:8080", 1, AF_INET6, 8080 },
		{ "*:8080", 1, AF_INET, 8080 },
		{ ":8080", 1, AF_INET, 8080 },
		{ "0.0.0.0:1", 1, AF_INET, 1 },
		{ "[::]:65535", 1, AF_INET6, 65535 },
		{ "[::ffff:1.2.3.4]:80", 1, AF_INET6, 80 },
		{ "127.0.0.1", 0, 0, 0 },
		{ "127.0.0.1:", 0, 0, 0 },
		{ "127.0.0.1:0", 0, 0, 0 },
		{ "127.0.0.1:65536", 0, 0, 0 },
		{ "127.0.0.1:8x", 0, 0, 0 },
		{ "127.0.0.1:-1", 0, 0, 0 },
		{ "::1:80", 0, 0, 0 },
		{ "[::1]80", 0, 0, 0 },
		{ "[::1]", 0, 0, 0 },
		{ "[::1:80", 0, 0, 0 },
		{ "[1.2.3.4]:80", 0, 0, 0 },
		{ "localhost:80", 1, AF_INET, 80 },   /* resolved (/etc/hosts) */
		{ "bad_name:80", 0, 0, 0 },
		{ "256.0.0.1:80", 0, 0, 0 },
		{ "", 0, 0, 0 },
		{ "**:80", 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_addr a = { 0 };
		int r = cfg_parse_addr(cases[i].s, &a);
		bool good = (r == 0) == cases[i].ok;
		if (good && r == 0) {
			in_port_t port = a.ss.ss_family == AF_INET ?
						 ((struct sockaddr_in *)&a.ss)->sin_port :
						 ((struct sockaddr_in6 *)&a.ss)->sin6_port;
			good = a.ss.ss_family == cases[i].fam && ntohs(port) == cases[i].port &&
			       a.text && strcmp(a.text, cases[i].s) == 0 &&
			       a.len == (cases[i].fam == AF_INET ? sizeof(struct sockaddr_in) :
								   sizeof(struct sockaddr_in6));
		}
		if (!good) {
			fprintf(stderr, "  address '%s': rc %d\n", cases[i].s, r);
			CHECK(0);
		}
		free(a.text);
	}
	CHECK(ERR("frontend f {\n bind 127.0.0.1\n}\n" MIN_BE,
		  "t.conf:2:7: error: invalid address '127.0.0.1': missing port; expected "
		  "IP:PORT or unix@PATH, e.g. 127.0.0.1:8080, [::1]:8080, *:8080 or unix@/run/gh.sock"));
	CHECK(ERR("frontend f {\n bind ::1:80\n}\n" MIN_BE,
		  "t.conf:2:7: error: invalid address '::1:80': an IPv6 address needs brackets, "
		  "as in [::1]:8080; expected "
		  "IP:PORT or unix@PATH, e.g. 127.0.0.1:8080, [::1]:8080, *:8080 or unix@/run/gh.sock"));
	CHECK(ERR("frontend f {\n bind 1.2.3.4:99999\n}\n" MIN_BE,
		  "t.conf:2:7: error: invalid address '1.2.3.4:99999': invalid port; expected 1 "
		  "to 65535; expected "
		  "IP:PORT or unix@PATH, e.g. 127.0.0.1:8080, [::1]:8080, *:8080 or unix@/run/gh.sock"));
}

/* ---- lexical structure --------------------------------------------------- */

TEST(test_lexing)
{
	/* comments, CRLF, tabs, quoted strings with escapes, attached '{' */
	const char *text = "# leading comment\r\n"
			   "backend app{ # trailing\r\n"
			   "\tserver \"s1\" 10.0.0.1:80 # weight 9\r\n"
			   "}\r\n"
			   "frontend web {\n"
			   "  bind :80#comment glued to a word\n"
			   "  use_backend app if header(X-A) == \"a \\\"b\\\" \\\\ # c\"\n"
			   "  use_backend app if path ~ \"^/\\d+$\"\n"
			   "}\n";
	struct cfg *c = L(text);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ_INT(c->backends[0]->servers[0]->weight, 1);
	CHECK(strcmp(c->backends[0]->servers[0]->name, "s1") == 0);
	CHECK_EQ_INT(c->backends[0]->servers[0]->line, 3);
	struct cfg_frontend *fe = c->frontends[0];
	CHECK_EQ_INT(fe->nrules, 2);

	struct http_msg m = { 0 };
	struct cond_ctx cx = { .msg = &m, .src = NULL };
	msg_reset(&m);
	m.path = (struct slice){ "/123", 4 };
	const char *v = "a \"b\" \\ # c";
	msg_hdr_add(&m, (struct slice){ "X-A", 3 }, (struct slice){ v, (uint32_t)strlen(v) });
	CHECK(cond_eval(fe->rules[0].cond, &cx));   /* escapes resolved, '#' kept */
	CHECK(cond_eval(fe->rules[1].cond, &cx));   /* \d kept for the regex */
	m.path = (struct slice){ "/12a", 4 };
	CHECK(!cond_eval(fe->rules[1].cond, &cx));
	cfg_free(c);

	/* grouping parens may hug quoted strings */
	/* (a quoted fetch is refused, but the lexer got it to the parser) */
	CHECK(ERR_PREFIX("frontend web {\n bind :80\n"
			 " use_backend app if (header(X-A) == \"a b\") or (\"x y\" == z)\n"
			 "}\n" MIN_BE,
			 "t.conf:3:48: error: expected a fetch (host, path, method, src, "
			 "header(NAME), query(NAME), cookie(NAME)"));
	c = L("frontend web {\n bind :80\n"
	      " use_backend app if ((header(X-A) == \"a b\")) or (path in \"/a\" \"/b c\")\n"
	      "}\n" MIN_BE);
	CHECK(c != NULL);
	if (c) {
		msg_reset(&m);
		m.path = (struct slice){ "/b c", 4 };
		CHECK(cond_eval(c->frontends[0]->rules[0].cond, &cx));
		m.path = (struct slice){ "/b", 2 };
		CHECK(!cond_eval(c->frontends[0]->rules[0].cond, &cx));
		msg_hdr_add(&m, (struct slice){ "x-a", 3 }, (struct slice){ "a b", 3 });
		CHECK(cond_eval(c->frontends[0]->rules[0].cond, &cx));
	}
	cfg_free(c);
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if (path == \"/a\")x\n}\n" MIN_BE,
		  "t.conf:3:35: error: unexpected 'x' after a quoted string; expected a space"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if (path == x\"/a\")\n}\n" MIN_BE,
		  "t.conf:3:31: error: unexpected '\"' inside a word; expected the whole value "
		  "quoted"));

	/* an empty file is a valid (empty) config */
	c = L("");
	CHECK(c && c->nfrontends == 0 && c->nbackends == 0 && c->global.bufsize == 32768);
	cfg_free(c);
	c = L("\n\n   # nothing\n");
	CHECK(c != NULL);
	cfg_free(c);
}

TEST(test_structure_errors)
{
	/* the brief's example error, verbatim */
	CHECK(ERR_PREFIX("backend app {\n"
		  "    server app1 127.0.0.1:9001\n"
		  "    balanse roundrobin\n"
		  "}\n",
		  "t.conf:3:5: error: unknown directive 'balanse' in backend 'app'; expected one "
		  "of: balance, server, timeout, mode, retries"));
	CHECK(ERR("frontend web {\n bind :80\n bnd :81\n}\n",
		  "t.conf:3:2: error: unknown directive 'bnd' in frontend 'web'; expected one of: "
		  "bind, mode, timeout, use_backend, default_backend, max_body_size, "
		  "min_body_rate, max_header_size, max_target_size, forward_headers, errorfile, http_request, "
		  "http_response, tcp_request, access_log, request_id, tcp_keepalive, "
		  "trusted_proxies, h2_max_streams, h2_max_header_list, h2_header_table, "
		  "h2_max_resets, h2_max_control, use_waf, compress, use_cache"));
	CHECK(ERR("global {\n threads 4\n}\n",
		  "t.conf:2:2: error: unknown directive 'threads' in global; expected one of: "
		  "workers, max_connections, tune.bufsize, tune.maxrewrite, tune.ocsp_check, tune.io_uring, "
		  "timeout, log_level, user, group, chroot, waf_threads, waf_queue, admin, pidfile"));
	CHECK(ERR("listen x {\n}\n",
		  "t.conf:1:1: error: unknown section 'listen'; expected one of: global, "
		  "frontend, backend, limit, waf, cache"));
	CHECK(ERR("workers 4\n",
		  "t.conf:1:1: error: unknown section 'workers'; expected one of: global, "
		  "frontend, backend, limit, waf, cache (directives go inside a section)"));
	/* a missing '{' is one error, not one per line of the block */
	char *e = FAIL("backend app\n server s 10.0.0.1:80\n}\n");
	CHECK(has_line(e, "t.conf:1:12: error: missing '{' after 'backend app'; expected: "
			  "backend NAME {"));
	CHECK_EQ_INT(count_lines(e), 1);
	free(e);
	e = FAIL("backend app\n{\n server s 10.0.0.1:80\n}\n");
	CHECK(has_line(e, "t.conf:2:1: error: '{' must end the line that opens the block; "
			  "expected it after 'app'"));
	CHECK_EQ_INT(count_lines(e), 1);
	free(e);
	CHECK(ERR(MIN_BE "}\n", "t.conf:4:1: error: unbalanced '}'; no block is open here"));
	CHECK(ERR("backend app {\n server s 10.0.0.1:80\n} backend\n",
		  "t.conf:3:3: error: unexpected 'backend' after '}'; expected '}' alone on its "
		  "line"));
	CHECK(ERR("backend app {\n server s 10.0.0.1:80 }\n",
		  "t.conf:2:23: error: unexpected '}' after '10.0.0.1:80'; expected '}' alone on "
		  "its line"));
	CHECK(ERR("backend app {\n server s 10.0.0.1:80\n",
		  "t.conf:1:13: error: block 'backend app' is never closed; expected '}' before "
		  "the end of the file"));
	CHECK(ERR("backend app {\n server \"s 10.0.0.1:80\n}\n",
		  "t.conf:2:9: error: unterminated string; expected a closing '\"' before the end "
		  "of the line"));
	CHECK(ERR("backend app {\n server s\"x\" 10.0.0.1:80\n}\n",
		  "t.conf:2:10: error: unexpected '\"' inside a word; expected the whole value "
		  "quoted"));
	CHECK(ERR("backend app {\n server \"s\"x 10.0.0.1:80\n}\n",
		  "t.conf:2:12: error: unexpected 'x' after a quoted string; expected a space"));
	CHECK(ERR("backend app { x\n}\n",
		  "t.conf:1:13: error: unexpected 'x' after '{'; expected '{' at the end of the "
		  "line"));
	CHECK(ERR("{\n}\n",
		  "t.conf:1:1: error: '{' opens nothing; expected it at the end of a line such as "
		  "'backend NAME {'"));
	CHECK(ERR("backend app {\n server s 10.0.0.1:80 {\n }\n}\n",
		  "t.conf:2:23: error: 'server' does not open a block; expected: server NAME "
		  "ADDRESS [weight N] [maxconn N] [backup] [disabled] [drain] [slowstart "
		  "DURATION] [source ADDRESS|client] [proto h1|h2]"));
	CHECK(ERR("backend {\n}\n",
		  "t.conf:1:8: error: missing name after 'backend'; expected: backend NAME {"));
	CHECK(ERR("global x {\n}\n",
		  "t.conf:1:8: error: unexpected 'x' after 'global'; expected: global {"));
	CHECK(ERR("backend app {\n mode http tcp\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:12: error: unexpected 'tcp' after 'http'; expected: mode http|tcp"));
	CHECK(ERR("backend app {\n mode\n server s 10.0.0.1:80\n}\n",
		  "t.conf:2:6: error: missing argument to 'mode'; expected: mode http|tcp"));

	static const char nul[] = "backend app {\n server s\0 10.0.0.1:80\n}\n";
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", nul, sizeof(nul) - 1, &errs);
	CHECK(c == NULL);
	CHECK(errs && has_line(errs, "t.conf:2:10: error: unexpected NUL byte; expected text"));
	free(errs);
	cfg_free(c);

	/* blocks nest at most 8 deep, and the excess is one error */
	e = FAIL("a {\nb {\nc {\nd {\ne {\nf {\ng {\nh {\ni {\n}\n}\n}\n}\n}\n}\n}\n}\n}\n");
	CHECK(has_line(e, "t.conf:9:3: error: blocks nest too deeply; expected at most 8 levels"));
	CHECK(has_line(e, "t.conf:1:1: error: unknown section 'a'; expected one of: global, "
			  "frontend, backend, limit, waf, cache"));
	CHECK_EQ_INT(count_lines(e), 2);
	free(e);
}

TEST(test_cond_errors_in_config)
{
	/* the error points at the offending token inside the condition */
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if path is /a\n}\n" MIN_BE,
		  "t.conf:3:26: error: expected an operator (==, !=, <, <=, >, >=, prefix, suffix, "
		  "contains, ~, "
		  "in) after 'path', got 'is'"));
	/* ... or just past the last token when the line ends too early */
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if path ==\n}\n" MIN_BE,
		  "t.conf:3:28: error: expected a value after '==' at end of condition"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if path ~ \"a(\"\n}\n" MIN_BE,
		  "t.conf:3:28: error: invalid regex: missing closing parenthesis at offset 2"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if src in 10.0.0/33\n}\n" MIN_BE,
		  "t.conf:3:28: error: invalid CIDR '10.0.0/33'; expected an address with an "
		  "optional prefix length, e.g. 10.0.0.0/8 or 2001:db8::/32"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend app if (path == /a\n}\n" MIN_BE,
		  "t.conf:3:32: error: expected ')' to close the '(' at column 21"));
}

/* ---- checks across sections ---------------------------------------------- */

TEST(test_checks)
{
	CHECK(ERR(MIN_BE "backend app {\n server b 10.0.0.2:80\n}\n",
		  "t.conf:4:9: error: duplicate backend name 'app'; the first one is at line 1"));
	CHECK(ERR(MIN_FE MIN_BE "frontend web {\n bind :81\n}\n",
		  "t.conf:8:10: error: duplicate frontend name 'web'; the first one is at line 1"));
	CHECK(ERR("backend b {\n server a 10.0.0.1:80\n server a 10.0.0.2:80\n}\n",
		  "t.conf:3:9: error: duplicate server name 'a' in backend 'b'; the first one is at "
		  "line 2"));
	CHECK(ERR("frontend web {\n bind :80\n use_backend nope if path == /\n}\n" MIN_BE,
		  "t.conf:3:14: error: unknown backend 'nope' in use_backend; expected one of: app"));
	CHECK(ERR("frontend web {\n bind :80\n default_backend nope\n}\n" MIN_BE,
		  "t.conf:3:18: error: unknown backend 'nope' in default_backend; expected one of: "
		  "app"));
	CHECK(ERR("frontend web {\n bind :80\n default_backend nope\n}\n",
		  "t.conf:3:18: error: unknown backend 'nope' in default_backend; expected a "
		  "backend section of that name, and none is defined"));
	CHECK(ERR("frontend web {\n bind :80\n default_backend db\n}\n"
		  "backend db {\n mode tcp\n server s 10.0.0.1:5432\n}\n",
		  "t.conf:3:18: error: frontend 'web' is in http mode but backend 'db' is in tcp "
		  "mode; expected a backend of the same mode"));
	CHECK(ERR("frontend db {\n bind :5432\n mode tcp\n use_backend app if src in 10.0.0.0/8\n}\n"
		  MIN_BE,
		  "t.conf:4:14: error: frontend 'db' is in tcp mode but backend 'app' is in http "
		  "mode; expected a backend of the same mode"));
	CHECK(ERR("frontend t {\n bind :5432\n mode tcp\n"
		  " use_backend b if src in 10.0.0.0/8 and (host == x or src == 1.2.3.4)\n}\n"
		  "backend b {\n mode tcp\n server s 10.0.0.1:5432\n}\n",
		  "t.conf:4:42: error: fetch 'host' needs HTTP but frontend 't' is in tcp mode; "
		  "expected 'src', the only fetch available in tcp mode"));
	CHECK(ERR("frontend web {\n mode http\n}\n" MIN_BE,
		  "t.conf:1:10: error: frontend 'web' has no bind; expected at least one 'bind "
		  "ADDRESS', e.g. bind 127.0.0.1:8080"));
	CHECK(ERR(MIN_FE "frontend other {\n bind 127.0.0.1:8080\n}\n" MIN_BE,
		  "t.conf:6:7: error: bind 127.0.0.1:8080 clashes with bind 127.0.0.1:8080 of "
		  "frontend 'web' at line 2; expected each address and port to be bound once"));
	CHECK(ERR(MIN_FE "frontend other {\n bind *:8080\n}\n" MIN_BE,
		  "t.conf:6:7: error: bind *:8080 clashes with bind 127.0.0.1:8080 of frontend "
		  "'web' at line 2; expected each address and port to be bound once"));
	CHECK(ERR("frontend web {\n bind [::1]:80\n bind [::1]:80\n}\n" MIN_BE,
		  "t.conf:3:7: error: bind [::1]:80 clashes with bind [::1]:80 of frontend 'web' "
		  "at line 2; expected each address and port to be bound once"));
	CHECK(ERR("global {\n tune.bufsize 8k\n}\n"
		  "frontend web {\n bind :80\n max_header_size 16k\n}\n" MIN_BE,
		  "t.conf:6:18: error: max_header_size (16384) does not fit the buffer; expected at "
		  "most 7168 (tune.bufsize 8192 - tune.maxrewrite 1024)"));
	/* limits are checked against the final global values, wherever they are */
	struct cfg *c = L("frontend web {\n bind :80\n max_header_size 16k\n}\n" MIN_BE
			  "global {\n tune.bufsize 32k\n}\n");
	CHECK(c && c->frontends[0]->max_header_size == 16384);
	cfg_free(c);

	/* a tcp frontend may route on src; different ports and families coexist */
	c = L("frontend t {\n bind :5432\n bind [::]:5432\n bind 127.0.0.1:5433\n mode tcp\n"
	      " use_backend b unless src in 10.0.0.0/8 ::1\n default_backend b\n}\n"
	      "backend b {\n mode tcp\n balance hash(src)\n server s 10.0.0.1:5432\n}\n");
	CHECK(c != NULL);
	if (c) {
		CHECK(c->frontends[0]->rules[0].backend == c->backends[0]);
		CHECK_EQ_INT(c->frontends[0]->mode, MODE_TCP);
	}
	cfg_free(c);
}

TEST(test_warnings)
{
	/* a backend without servers loads, with a warning kept for the log */
	struct cfg *c = L(MIN_FE MIN_BE "backend spare {\n balance leastconn\n}\n");
	CHECK(c != NULL);
	if (c) {
		CHECK(c->warnings && has_line(c->warnings,
					      "t.conf:8:9: warning: backend 'spare' has no servers; "
					      "requests routed to it get 503"));
		CHECK_EQ_INT(count_lines(c->warnings), 1);
	}
	cfg_free(c);

	c = L("backend b {\n retries 3\n retries 4\n server s 10.0.0.1:80\n}\n");
	CHECK(c && c->backends[0]->retries == 4);
	CHECK(c && c->warnings &&
	      has_line(c->warnings, "t.conf:3:2: warning: 'retries' was already set at line 2 in "
				    "backend 'b'; this one overrides it"));
	cfg_free(c);

	/* on failure, warnings travel with the errors, in file order */
	char *e = FAIL("backend spare {\n}\nbackend b {\n retries x\n}\n");
	CHECK(strncmp(e, "t.conf:1:9: warning:", 20) == 0);
	CHECK(has_line(e, "t.conf:4:10: error: invalid number 'x'; expected an integer from 0 "
			  "to 100"));
	free(e);
}

TEST(test_many_errors)
{
	/* one run reports every mistake, sorted by position */
	char *e = FAIL("global {\n"
		       " workers 0\n"
		       " log_level loud\n"
		       "}\n"
		       "frontend web {\n"
		       " bind 1.2.3.4\n"
		       " timeout header 10\n"
		       " default_backend missing\n"
		       "}\n"
		       "backend app {\n"
		       " balanse x\n"
		       " server a 10.0.0.1:80 weight 1000\n"
		       "}\n");
	CHECK_EQ_INT(count_lines(e), 7);
	CHECK(strncmp(e, "t.conf:2:10: error:", 19) == 0);
	CHECK(strstr(e, "t.conf:12:30: error:") != NULL);
	CHECK(strstr(e, "t.conf:6:7: error:") < strstr(e, "t.conf:7:17: error:"));
	free(e);

	/* past 100 the rest are counted, not listed */
	char *big = malloc(200 * 20 + 64);
	strcpy(big, "backend b {\n");
	for (int i = 0; i < 200; i++)
		strcat(big, " bogus 1\n");
	strcat(big, " server s 10.0.0.1:80\n}\n");
	e = FAIL(big);
	CHECK_EQ_INT(count_lines(e), 101);
	CHECK(has_line(e, "t.conf: error: too many problems; 100 more not shown"));
	free(e);
	free(big);
}

TEST(test_load_file)
{
	char *errs = (char *)1;
	struct cfg *c = cfg_load("/nonexistent/gatehouse.conf", &errs);
	CHECK(c == NULL);
	CHECK(errs && strcmp(errs, "/nonexistent/gatehouse.conf: error: cannot open the "
				   "configuration file: No such file or directory") == 0);
	free(errs);

	char path[] = "/tmp/test_cfg_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, EXAMPLE, strlen(EXAMPLE)) == (ssize_t)strlen(EXAMPLE));
	close(fd);
	c = cfg_load(path, &errs);
	CHECK(c != NULL && errs == NULL);
	if (c) {
		CHECK(strcmp(c->file, path) == 0);
		CHECK_EQ_INT(c->nbackends, 2);
	}
	cfg_free(c);

	/* file errors name the file */
	FILE *f = fopen(path, "w");
	fputs("frontend x {\n bind :1\n mode ftp\n}\n", f);
	fclose(f);
	c = cfg_load(path, &errs);
	CHECK(c == NULL && errs);
	char want[256];
	snprintf(want, sizeof(want), "%s:3:7: error: unknown mode 'ftp'; expected one of: http, tcp",
		 path);
	CHECK(errs && has_line(errs, want));
	free(errs);
	unlink(path);

	/* a directory cannot be read as a file */
	c = cfg_load("/tmp", &errs);
	CHECK(c == NULL && errs && strstr(errs, "/tmp: error: cannot read the configuration "
						"file: Is a directory"));
	free(errs);
}

/* Deployment directives (cfg_deploy.c): what they store. */
TEST(test_deploy)
{
	struct cfg *c = L("global {\n user nobody\n group nogroup\n}\n"
			  "frontend web {\n"
			  " bind 127.0.0.1:8080 backlog 100 defer_accept fastopen\n"
			  " bind unix@/run/gh/web.sock mode 0640 user 7 group 8\n"
			  " tcp_keepalive idle 60s count 4\n"
			  " default_backend app\n}\n"
			  "backend app {\n source 127.0.0.2\n tcp_keepalive interval 5s\n"
			  " server a 127.0.0.1:9001\n server b 127.0.0.1:9002 source client\n"
			  " server u unix@/run/app.sock\n}\n");
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->global.uid == 65534 && c->global.gid == 65534);
	const struct cfg_frontend *fe = c->frontends[0];
	CHECK(fe->binds[0].sock && fe->binds[0].sock->backlog == 100 &&
	      fe->binds[0].sock->defer_accept && fe->binds[0].sock->fastopen == 256 &&
	      fe->binds[0].sock->mode == -1);
	CHECK(fe->binds[1].ss.ss_family == AF_UNIX && fe->binds[1].sock->mode == 0640 &&
	      fe->binds[1].sock->uid == 7 && fe->binds[1].sock->gid == 8);
	CHECK(strcmp(((struct sockaddr *)&fe->binds[1].ss)->sa_data, "/run/gh/web.sock") == 0);
	CHECK(fe->keepalive.on && fe->keepalive.idle_s == 60 && fe->keepalive.count == 4 &&
	      fe->keepalive.interval_s == 0);
	const struct cfg_backend *be = c->backends[0];
	CHECK(be->servers[0]->source.kind == SOURCE_ADDR);      /* the backend's */
	CHECK(be->servers[0]->keepalive.on && be->servers[0]->keepalive.interval_s == 5);
	CHECK(be->servers[1]->source.kind == SOURCE_CLIENT);    /* its own */
	CHECK(be->servers[2]->source.kind == SOURCE_NONE);      /* unix@: none */
	CHECK(be->servers[2]->addr.ss.ss_family == AF_UNIX);
	cfg_free(c);
	CHECK(ERR("frontend a {\n bind unix@/x.sock\n}\nfrontend b {\n bind unix@/x.sock\n}\n",
		  "t.conf:5:7: error: bind unix@/x.sock clashes with bind unix@/x.sock of "
		  "frontend 'a' at line 2; expected each address and port to be bound once"));
}

/* accept_proxy [from ...] may sit anywhere among a bind's options, TLS's
 * included; send_proxy and trusted_proxies parse to what they say. */
TEST(test_proxy_protocol)
{
	struct cfg *c = L("frontend web {\n"
			  " bind 127.0.0.1:80 accept_proxy\n"
			  " bind 127.0.0.1:81 accept_proxy from 10.0.0.0/8 ::1\n"
			  " bind 127.0.0.1:82\n"
			  " trusted_proxies 10.0.0.0/8\n"
			  " trusted_proxies 192.168.0.0/16 2001:db8::/32\n"
			  " default_backend app\n}\n"
			  "backend app {\n server a 127.0.0.1:9001 send_proxy v2\n"
			  " server b 127.0.0.1:9002 weight 2 send_proxy v1 backup\n"
			  " server c 127.0.0.1:9003\n}\n");
	CHECK(c != NULL);
	if (!c)
		return;
	const struct cfg_frontend *fe = c->frontends[0];
	CHECK(fe->binds[0].accept_proxy && fe->binds[0].accept_proxy->nfrom == 0);
	CHECK(fe->binds[1].accept_proxy && fe->binds[1].accept_proxy->nfrom == 2);
	CHECK(fe->binds[2].accept_proxy == NULL);
	CHECK(fe->binds[1].tls == NULL);
	CHECK_EQ_INT(fe->ntrusted, 3);
	const struct cfg_backend *be = c->backends[0];
	CHECK_EQ_INT(be->servers[0]->send_proxy, 2);
	CHECK_EQ_INT(be->servers[1]->send_proxy, 1);
	CHECK_EQ_INT(be->servers[1]->weight, 2);
	CHECK(be->servers[1]->backup);
	CHECK_EQ_INT(be->servers[2]->send_proxy, 0);
	cfg_free(c);
}

/* `proto` on a bind: its values (h2c is h2), anywhere among the other
 * options, and only in an http frontend. */
TEST(test_bind_proto)
{
	struct cfg *c = L("frontend web {\n"
			  " bind 127.0.0.1:80\n"
			  " bind 127.0.0.1:81 proto h1\n"
			  " bind 127.0.0.1:82 backlog 10 proto h2 accept_proxy\n"
			  " bind 127.0.0.1:83 accept_proxy from 10.0.0.0/8 proto h2c\n"
			  " bind 127.0.0.1:84 proto auto defer_accept\n"
			  " default_backend app\n}\n" MIN_BE);
	CHECK(c != NULL);
	if (!c)
		return;
	const struct cfg_frontend *fe = c->frontends[0];
	CHECK_EQ_INT(fe->binds[0].proto, BIND_PROTO_AUTO);
	CHECK_EQ_INT(fe->binds[0].proto_line, 0);
	CHECK_EQ_INT(fe->binds[1].proto, BIND_PROTO_H1);
	CHECK_EQ_INT(fe->binds[1].proto_line, 3);
	CHECK_EQ_INT(fe->binds[1].proto_col, 20);
	CHECK_EQ_INT(fe->binds[2].proto, BIND_PROTO_H2);
	CHECK(fe->binds[2].sock && fe->binds[2].sock->backlog == 10);
	CHECK(fe->binds[2].accept_proxy != NULL);
	CHECK_EQ_INT(fe->binds[3].proto, BIND_PROTO_H2);
	CHECK(fe->binds[3].accept_proxy && fe->binds[3].accept_proxy->nfrom == 1);
	CHECK_EQ_INT(fe->binds[4].proto, BIND_PROTO_AUTO);
	CHECK(fe->binds[4].sock && fe->binds[4].sock->defer_accept);
	for (int i = 0; i < fe->nbinds; i++)
		CHECK(fe->binds[i].tls == NULL);
	cfg_free(c);

	CHECK(ERR("frontend web {\n bind :80 proto h3\n}\n" MIN_BE,
		  "t.conf:2:17: error: unknown bind protocol 'h3' in proto; expected one of: auto, "
		  "h1, h2, h2c"));
	CHECK(ERR("frontend web {\n bind :80 proto\n}\n" MIN_BE,
		  "t.conf:2:16: error: expected a value after 'proto': auto, h1, h2 or h2c"));
	CHECK(ERR("frontend web {\n bind :80 proto h1 proto h2\n}\n" MIN_BE,
		  "t.conf:2:20: error: 'proto' given twice on one bind; expected it once"));
	/* the mode may come after the bind: checked once the section is read */
	CHECK(ERR("frontend t {\n bind :5432 proto h2\n mode tcp\n}\n"
		  "backend b {\n mode tcp\n server s 10.0.0.1:5432\n}\n",
		  "t.conf:2:13: error: 'proto' is for binds of an http frontend; frontend 't' is in "
		  "tcp mode (expected no proto, or mode http)"));
}

/* h2_* limits: defaults, values, bounds with FILE:LINE:COL. */
TEST(test_h2_limits)
{
	struct cfg *c = L(MIN_FE MIN_BE);
	CHECK(c != NULL);
	if (c) {
		const struct cfg_h2 *h = &c->frontends[0]->h2;
		CHECK_EQ_INT(h->max_streams, 100);
		CHECK_EQ_INT(h->max_header_list, 15 * 1024);   /* = max_header_size */
		CHECK_EQ_INT(h->header_table, 4096);
		CHECK_EQ_INT(h->max_resets, 100);
		CHECK_EQ_INT(h->max_control, 1000);
	}
	cfg_free(c);

	/* h2_max_header_list follows max_header_size, defaulted or written */
	c = L("global {\n tune.bufsize 8k\n}\n" MIN_FE MIN_BE);
	CHECK(c && c->frontends[0]->h2.max_header_list == 8192 - 1024);
	cfg_free(c);
	c = L("frontend web {\n bind :80\n max_header_size 4k\n}\n" MIN_BE);
	CHECK(c && c->frontends[0]->h2.max_header_list == 4096);
	cfg_free(c);

	c = L("frontend web {\n bind :80\n"
	      " h2_max_streams 250\n h2_max_header_list 16k\n h2_header_table 0\n"
	      " h2_max_resets 20\n h2_max_control 5000\n max_header_size 8k\n}\n" MIN_BE);
	CHECK(c != NULL);
	if (c) {
		const struct cfg_h2 *h = &c->frontends[0]->h2;
		CHECK_EQ_INT(h->max_streams, 250);
		CHECK_EQ_INT(h->max_header_list, 16384);
		CHECK_EQ_INT(h->header_table, 0);   /* 0 is a value: no dynamic table */
		CHECK_EQ_INT(h->max_resets, 20);
		CHECK_EQ_INT(h->max_control, 5000);
		CHECK_EQ_INT(c->frontends[0]->max_header_size, 8192);
		CHECK(c->warnings == NULL);
	}
	cfg_free(c);
	/* the largest values */
	c = L("frontend web {\n bind :80\n h2_max_streams 1000\n h2_header_table 64k\n"
	      " h2_max_resets 1000000\n h2_max_control 1000000\n}\n" MIN_BE);
	CHECK(c && c->frontends[0]->h2.header_table == 65536 &&
	      c->frontends[0]->h2.max_streams == 1000 && c->frontends[0]->h2.max_control == 1000000);
	cfg_free(c);

#define H2FE(line) "frontend web {\n bind :80\n " line "\n}\n" MIN_BE
	CHECK(ERR(H2FE("h2_max_streams 0"),
		  "t.conf:3:17: error: 0 is out of range; expected an integer from 1 to 1000"));
	CHECK(ERR(H2FE("h2_max_streams 1001"),
		  "t.conf:3:17: error: 1001 is out of range; expected an integer from 1 to 1000"));
	CHECK(ERR(H2FE("h2_max_streams many"),
		  "t.conf:3:17: error: invalid number 'many'; expected an integer from 1 to 1000"));
	CHECK(ERR(H2FE("h2_max_header_list 512"),
		  "t.conf:3:21: error: size '512' is out of range; expected 1k to 1m"));
	CHECK(ERR(H2FE("h2_max_header_list 2m"),
		  "t.conf:3:21: error: size '2m' is out of range; expected 1k to 1m"));
	CHECK(ERR(H2FE("h2_max_header_list lots"),
		  "t.conf:3:21: error: invalid size 'lots'; expected a number of bytes with an "
		  "optional unit k, m or g, e.g. 512, 16k or 1m"));
	CHECK(ERR(H2FE("h2_header_table 65537"),
		  "t.conf:3:18: error: size '65537' is out of range; expected 0 to 64k"));
	CHECK(ERR(H2FE("h2_max_resets 0"),
		  "t.conf:3:16: error: 0 is out of range; expected an integer from 1 to 1000000"));
	CHECK(ERR(H2FE("h2_max_control -1"),
		  "t.conf:3:17: error: invalid number '-1'; expected an integer from 1 to 1000000"));
	CHECK(ERR(H2FE("h2_max_control"),
		  "t.conf:3:16: error: missing argument to 'h2_max_control'; expected: "
		  "h2_max_control N"));
	CHECK(ERR(H2FE("h2_max_resets 1 2"),
		  "t.conf:3:18: error: unexpected '2' after '1'; expected: h2_max_resets N"));
#undef H2FE
	/* the decoded list is forwarded as an HTTP/1 head: it must fit the buffer */
	CHECK(ERR("global {\n tune.bufsize 16k\n}\n"
		  "frontend web {\n bind :80\n h2_max_header_list 32k\n}\n" MIN_BE,
		  "t.conf:6:21: error: h2_max_header_list (32768) does not fit the buffer; expected "
		  "at most 15360 (tune.bufsize 16384 - tune.maxrewrite 1024)"));

	/* a tcp frontend takes them, with a warning: it never speaks HTTP/2 */
	c = L("frontend t {\n bind :5432\n mode tcp\n h2_max_streams 10\n default_backend b\n}\n"
	      "backend b {\n mode tcp\n server s 10.0.0.1:5432\n}\n");
	CHECK(c && c->warnings &&
	      has_line(c->warnings, "t.conf:4:17: warning: h2_* limits have no effect in mode tcp "
				    "(frontend 't' relays bytes, HTTP/2 or not)"));
	cfg_free(c);
}

int main(void)
{
	RUN(test_example);
	RUN(test_global);
	RUN(test_frontend);
	RUN(test_backend);
	RUN(test_balance);
	RUN(test_durations);
	RUN(test_sizes);
	RUN(test_addresses);
	RUN(test_lexing);
	RUN(test_structure_errors);
	RUN(test_cond_errors_in_config);
	RUN(test_checks);
	RUN(test_warnings);
	RUN(test_many_errors);
	RUN(test_load_file);
	RUN(test_deploy);
	RUN(test_proxy_protocol);
	RUN(test_bind_proto);
	RUN(test_h2_limits);
	cond_thread_cleanup();
	return UNIT_SUMMARY("test_cfg");
}
