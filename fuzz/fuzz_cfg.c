/*
 * fuzz_cfg.c - libFuzzer target for the configuration loader: lexer, section
 * parsers, condition parser (regex and CIDR included) and checks.
 *
 * Any input must either load or produce error text, without crashing,
 * leaking, or tripping UBSan.  A config that loads also has its conditions
 * evaluated and its hash fetches read against a small fixed request, so the
 * evaluator runs on whatever trees the parser can build.  Built and run by
 * scripts/fuzz.sh (`make fuzz`) with what the lines below name; seeds are in
 * fuzz/corpus/cfg/.
 */
// FUZZ_SOURCES: src/config/*.c src/filter/cond.c src/filter/fetch.c src/filter/fmt.c
// FUZZ_SOURCES: src/filter/rules.c src/http/msg.c
// FUZZ_SOURCES: src/net/tls.c src/net/tls_load.c src/net/tls_ticket.c src/net/conn.c src/net/cidr.c
// FUZZ_SOURCES: src/net/iplist.c src/net/uring.c
// FUZZ_SOURCES: src/core/loop.c src/core/log.c src/core/hash.c src/limit/limit.c
// FUZZ_SOURCES: src/waf/waf.c src/waf/crs_defaults.c src/waf/prefilter.c src/waf/pf_*.c
// FUZZ_SOURCES: src/waf/seclang.c src/waf/transform.c src/compress/accept.c
// FUZZ_SOURCES: src/cache/store.c src/cache/obj.c src/cache/cc.c
// FUZZ_LIBS: -lmodsecurity -lhs -lpcre2-8 -lssl -lcrypto -luring -pthread
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "filter/cond.h"
#include "filter/rules.h"

static struct slice fz_s(const char *s)
{
	return (struct slice){ s, (uint32_t)strlen(s) };
}

static void fz_request(struct http_msg *m, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	msg_reset(m);
	m->method = fz_s("GET");
	m->meth = HTTP_METH_GET;
	m->path = fz_s("/api/v1/items");
	m->query = fz_s("a=1&b&id=42");
	m->authority = fz_s("Api.Example.com:8080");
	msg_hdr_add(m, fz_s("Host"), fz_s("Api.Example.com:8080"));
	msg_hdr_add(m, fz_s("X-User"), fz_s("alice"));
	msg_hdr_add(m, fz_s("Cookie"), fz_s("sid=abc; theme=\"dark\""));
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000001);
}

/* Runs a rule list on the fixed request (rewrites and all). */
static void fz_rules(const struct rule_list *l, const struct cond_ctx *ctx, struct http_msg *m)
{
	static char scratch[RULE_SCRATCH_MIN];
	struct rule_exec x = { .ctx = ctx, .msg = m, .scratch = scratch,
			       .scratch_len = sizeof(scratch) };

	(void)rules_run(l, &x);
}

static void fz_exercise(const struct cfg *c)
{
	static struct http_msg m;
	struct sockaddr_storage ss;
	struct cond_ctx ctx = { .msg = &m, .src = &ss };
	struct cond_ctx l4 = { NULL, &ss };
	char scratch[64];
	struct slice v;

	fz_request(&m, &ss);
	for (int i = 0; i < c->nfrontends; i++) {
		const struct cfg_frontend *fe = c->frontends[i];
		for (int r = 0; r < fe->nrules; r++) {
			(void)cond_eval(fe->rules[r].cond, &ctx);
			(void)cond_eval(fe->rules[r].cond, &l4);
		}
	}
	for (int i = 0; i < c->nfrontends; i++) {
		const struct cfg_frontend *fe = c->frontends[i];
		fz_rules(&fe->tcp_conn, &l4, NULL);
		fz_rules(&fe->http_req, &ctx, &m);
	}
	for (int i = 0; i < c->nbackends; i++)
		fz_rules(&c->backends[i]->http_req, &ctx, &m);
	for (int i = 0; i < c->nbackends; i++)
		if (c->backends[i]->hash_fetch)
			(void)fetch_value(c->backends[i]->hash_fetch, &ctx, &v, scratch,
					  sizeof(scratch));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("fuzz.conf", (const char *)data, size, &errs);

	if (c) {
		fz_exercise(c);
		cfg_free(c);
	}
	free(errs);
	return 0;
}
