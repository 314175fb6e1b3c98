/*
 * cfg_frontend.c - the `frontend NAME { }` section: where clients connect
 * (bind), how long they may take, what limits apply to their requests (the
 * HTTP/2 ones too: h2_*) and which backend each request goes to
 * (use_backend ... if COND).
 *
 * Backend names are only recorded here; cfg_check.c resolves them once the
 * whole file is read, since a backend may be defined after its frontend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* `proto auto|h1|h2` (h2c: h2) on a bind line, taken out of n in place
 * (n's tokens are a copy the caller owns) so the other options parsers
 * never see it.  Whether the frontend is in http mode is checked once its
 * mode is known (cfg_check.c); what it does to ALPN, in cfg_tls.c. */
static int bind_proto(struct cfg_parser *p, struct cfg_addr *a, struct cfg_node *n)
{
	static const char *const words[] = { "auto", "h1", "h2", "h2c", NULL };
	static const uint8_t protos[] = { BIND_PROTO_AUTO, BIND_PROTO_H1, BIND_PROTO_H2,
					  BIND_PROTO_H2 };
	int rc = 0, out = 0;

	for (int i = 0; i < n->ntok; i++) {
		const struct cfg_tok *t = &n->toks[i];
		if (i < 2 || t->quoted || strcmp(t->s, "proto") != 0) {
			n->toks[out++] = *t;
			continue;
		}
		if (a->proto_line) {
			cfg_error(p, t->line, t->col,
				  "'proto' given twice on one bind; expected it once");
			rc = -1;
		} else {
			a->proto_line = t->line;
			a->proto_col = t->col;
		}
		if (i + 1 >= n->ntok) {
			cfg_error(p, n->line, n->end_col,
				  "expected a value after 'proto': auto, h1, h2 or h2c");
			rc = -1;
			continue;
		}
		int k = cfg_val_choice(p, &n->toks[++i], "bind protocol", "proto", words);
		if (k < 0)
			rc = -1;
		else
			a->proto = protos[k];
	}
	n->ntok = out;
	return rc;
}

/* Every option word a bind line takes, in the order fe_bind() hands the
 * line on: socket options, proto, accept_proxy (with its `from`), TLS. */
void cfg_bind_options_each(cfg_kw_visit *fn, void *arg)
{
	cfg_bind_sock_options_each(fn, arg);
	fn(arg, "bind", "proto");
	fn(arg, "bind", "accept_proxy");
	cfg_tls_bind_options_each(fn, arg);
}

static int fe_bind(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	struct cfg_addr a = { 0 };

	/* a bind that failed to parse still counts as one for "has no bind" */
	cfg_remember(p, &fe->binds, &n->toks[1]);
	if (cfg_val_addr(p, &n->toks[1], true, &a) < 0)
		return -1;
	/* options after the address: socket options (cfg_deploy.c), proto
	 * (above), then accept_proxy (cfg_proxy.c), then TLS (cfg_tls.c) with
	 * what is left */
	struct cfg_node socks, rest;
	int rc = cfg_bind_sock_options(p, &a, n, &socks);
	if (bind_proto(p, &a, &socks) < 0)
		rc = -1;
	if (cfg_bind_accept_proxy(p, &a, &socks, &rest) < 0)
		rc = -1;
	free(socks.toks);
	if (rest.ntok > 2 && cfg_tls_bind_options(p, &a, &rest, 2) < 0)
		rc = -1;
	free(rest.toks);
	struct cfg_addr *b = cfg_grow(fe->binds, fe->nbinds, sizeof(*b));
	if (!b) {
		free(a.sock);
		cfg_tls_bind_free(a.tls);
		cfg_addr_free(&a);
		cfg_oom(p);
		return -1;
	}
	fe->binds = b;
	fe->binds[fe->nbinds++] = a;
	return rc;
}

static int fe_mode(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return cfg_val_mode(p, &n->toks[1], &fe->mode);
}

static int fe_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const struct cfg_timeout_kw kinds[] = {
		{ "header", offsetof(struct cfg_frontend, timeout_header_ms) },
		{ "client", offsetof(struct cfg_frontend, timeout_client_ms) },
		{ "tunnel", offsetof(struct cfg_frontend, timeout_tunnel_ms) },
		{ "body", offsetof(struct cfg_frontend, timeout_body_ms) },
		{ NULL, 0 },
	};
	return cfg_val_timeout(p, s, n, kinds);
}

static int fe_use_backend(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	const struct cfg_tok *name = &n->toks[1], *kw = &n->toks[2];
	bool unless = strcmp(kw->s, "unless") == 0;
	char err[512];
	int bad;

	if (cfg_val_name(p, name, "backend") < 0)
		return -1;
	if (kw->quoted || (!unless && strcmp(kw->s, "if") != 0)) {
		cfg_error(p, kw->line, kw->col,
			  "unexpected '%s' after the backend name; expected 'if' or 'unless' "
			  "(default_backend picks a backend unconditionally)",
			  kw->s);
		return -1;
	}
	struct cond_loader ld = cfg_cond_loader(p);
	struct cond *c = cond_parse_with(n->toks + 3, n->ntok - 3, &ld, &bad, err, sizeof(err));
	if (!c) {
		const struct cfg_tok *at = bad < n->ntok - 3 ? &n->toks[3 + bad] : NULL;
		cfg_error(p, at ? at->line : n->line, at ? at->col : n->end_col, "%s", err);
		return -1;
	}
	if (unless && !(c = cond_negate(c))) {
		cfg_oom(p);
		return -1;
	}
	struct cfg_use_backend *r = cfg_grow(fe->rules, fe->nrules, sizeof(*r));
	char *bname = strdup(name->s);
	if (!r || !bname) {
		if (r)
			fe->rules = r;
		free(bname);
		cond_free(c);
		cfg_oom(p);
		return -1;
	}
	fe->rules = r;
	fe->rules[fe->nrules++] = (struct cfg_use_backend){
		.cond = c, .backend_name = bname, .line = name->line, .col = name->col,
	};
	return 0;
}

static int fe_default_backend(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	if (cfg_val_name(p, &n->toks[1], "backend") < 0)
		return -1;
	free(fe->default_backend_name);
	fe->default_backend_name = strdup(n->toks[1].s);
	if (!fe->default_backend_name) {
		cfg_oom(p);
		return -1;
	}
	cfg_remember(p, &fe->default_backend_name, &n->toks[1]);
	return 0;
}

static int fe_max_body_size(struct cfg_parser *p, struct cfg_scope *s,
			    const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return cfg_val_size(p, &n->toks[1], 0, UINT64_MAX, &fe->max_body_size);
}

/* `min_body_rate RATE [grace DURATION]`: RATE is a size per second
 * (`1k/s`, sizes as everywhere: k = 1024); the grace is the start of the
 * body during which the rate is not checked yet (a client's first
 * round-trips, TCP slow start). */
static int fe_min_body_rate(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	const struct cfg_tok *t = &n->toks[1];
	size_t len = strlen(t->s);
	char num[32];
	uint64_t v;

	if (len < 3 || len >= sizeof(num) || strcmp(t->s + len - 2, "/s") != 0) {
		cfg_error(p, t->line, t->col,
			  "invalid rate '%s'; expected a size per second, e.g. 1k/s or 500/s", t->s);
		return -1;
	}
	memcpy(num, t->s, len - 2);
	num[len - 2] = '\0';
	struct cfg_tok nt = *t;
	nt.s = num;
	if (cfg_val_size(p, &nt, 1, 1024ull * 1024 * 1024, &v) < 0)
		return -1;
	if (n->ntok == 3 || (n->ntok == 4 && (n->toks[2].quoted || strcmp(n->toks[2].s, "grace")))) {
		const struct cfg_tok *g = &n->toks[2];
		cfg_error(p, g->line, g->col, "unexpected '%s' after the rate; expected 'grace DURATION'",
			  g->s);
		return -1;
	}
	uint32_t grace = 5000;
	if (n->ntok == 4 && cfg_val_duration(p, &n->toks[3], &grace) < 0)
		return -1;
	fe->min_body_rate = v;
	fe->min_body_grace_ms = grace;
	return 0;
}

static int fe_max_header_size(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	uint64_t v;

	/* must fit the buffer; checked once tune.bufsize is known */
	if (cfg_val_size(p, &n->toks[1], 1024, 1024 * 1024, &v) < 0)
		return -1;
	fe->max_header_size = (uint32_t)v;
	cfg_remember(p, &fe->max_header_size, &n->toks[1]);
	return 0;
}

static int fe_max_target_size(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	uint64_t v;

	if (cfg_val_size(p, &n->toks[1], 16, 1024 * 1024, &v) < 0)
		return -1;
	fe->max_target_size = (uint32_t)v;
	return 0;
}

/* ---- HTTP/2 limits (struct cfg_h2; proxy/h2_client.c applies them) ----
 * Each handler remembers where its value was written: cfg_check.c gives
 * the unwritten ones their default (h2_header_table 0 is a value, not
 * "unset") and points at the written ones in its messages. */

static int fe_h2_count(struct cfg_parser *p, const struct cfg_node *n, long max, uint32_t *out)
{
	int v;

	if (cfg_val_int(p, &n->toks[1], 1, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	cfg_remember(p, out, &n->toks[1]);
	return 0;
}

static int fe_h2_size(struct cfg_parser *p, const struct cfg_node *n, uint64_t min, uint64_t max,
		      uint32_t *out)
{
	uint64_t v;

	if (cfg_val_size(p, &n->toks[1], min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	cfg_remember(p, out, &n->toks[1]);
	return 0;
}

/* Each open stream may hold a request and a response buffer (tune.bufsize):
 * past a thousand, one client could pin more memory than a proxy should
 * give it. */
static int fe_h2_max_streams(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return fe_h2_count(p, n, CFG_H2_MAX_STREAMS_MAX, &fe->h2.max_streams);
}

/* Like max_header_size (it bounds the same head once decoded); whether it
 * fits the buffer is checked once tune.bufsize is known. */
static int fe_h2_max_header_list(struct cfg_parser *p, struct cfg_scope *s,
				 const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return fe_h2_size(p, n, 1024, 1024 * 1024, &fe->h2.max_header_list);
}

/* 0 is allowed: no dynamic table (every field sent literally). */
static int fe_h2_header_table(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return fe_h2_size(p, n, 0, 65536, &fe->h2.header_table);
}

static int fe_h2_max_resets(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return fe_h2_count(p, n, CFG_H2_MAX_RATE, &fe->h2.max_resets);
}

static int fe_h2_max_control(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return fe_h2_count(p, n, CFG_H2_MAX_RATE, &fe->h2.max_control);
}

static int fe_forward_headers(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	static const char *const names[] = { "x-forwarded-for", "x-forwarded-proto",
					     "x-forwarded-host", "forwarded", "none", NULL };
	static const unsigned bits[] = { FWD_XFF, FWD_XFP, FWD_XFH, FWD_RFC7239, 0 };
	struct cfg_frontend *fe = s->obj;
	unsigned set = 0;
	int rc = 0;

	for (int i = 1; i < n->ntok; i++) {
		int k = cfg_val_choice(p, &n->toks[i], "forwarding header", NULL, names);
		if (k < 0) {
			rc = -1;
			continue;
		}
		if (bits[k] == 0 && n->ntok > 2) {
			cfg_error(p, n->toks[i].line, n->toks[i].col,
				  "'none' cannot be combined with other headers; expected 'none' "
				  "alone");
			rc = -1;
		}
		set |= bits[k];
	}
	if (rc == 0)
		fe->forward_headers = set;
	return rc;
}

static const struct cfg_kw frontend_kws[] = {
	{ "bind", "bind ADDRESS [proto auto|h1|h2] [accept_proxy [from CIDR...]] "
		  "[tls cert FILE ...] [backlog N] [defer_accept] [fastopen [N]]", 1, -1,
	  CFG_KW_MULTI, fe_bind },
	{ "mode", "mode http|tcp", 1, 1, 0, fe_mode },
	{ "timeout", "timeout header|client|tunnel|body DURATION", 2, 2, CFG_KW_MULTI, fe_timeout },
	{ "use_backend", "use_backend NAME if|unless CONDITION", 3, -1, CFG_KW_MULTI,
	  fe_use_backend },
	{ "default_backend", "default_backend NAME", 1, 1, 0, fe_default_backend },
	{ "max_body_size", "max_body_size SIZE", 1, 1, 0, fe_max_body_size },
	{ "min_body_rate", "min_body_rate RATE/s [grace DURATION]", 1, 3, 0, fe_min_body_rate },
	{ "max_header_size", "max_header_size SIZE", 1, 1, 0, fe_max_header_size },
	{ "max_target_size", "max_target_size SIZE", 1, 1, 0, fe_max_target_size },
	{ "forward_headers",
	  "forward_headers x-forwarded-for|x-forwarded-proto|x-forwarded-host|forwarded... | none",
	  1, 4, 0, fe_forward_headers },
	{ "errorfile", "errorfile STATUS FILE", 2, 2, CFG_KW_MULTI, cfg_fe_errorfile },
	{ "http_request", "http_request ACTION [ARGS] [if|unless CONDITION]", 1, -1, CFG_KW_MULTI,
	  cfg_fe_http_request },
	{ "http_response", "http_response ACTION [ARGS] [if|unless CONDITION]", 1, -1,
	  CFG_KW_MULTI, cfg_fe_http_response },
	{ "tcp_request", "tcp_request connection accept|reject [if|unless CONDITION]", 2, -1,
	  CFG_KW_MULTI, cfg_fe_tcp_request },
	{ "access_log", "access_log stdout|stderr|PATH [format combined|json]", 1, 3, 0,
	  cfg_fe_access_log },
	{ "request_id", "request_id header NAME", 2, 2, 0, cfg_fe_request_id },
	{ "tcp_keepalive", "tcp_keepalive [idle DURATION] [interval DURATION] [count N]", 0, 6, 0,
	  cfg_fe_tcp_keepalive },
	{ "trusted_proxies", "trusted_proxies CIDR...", 1, -1, CFG_KW_MULTI,
	  cfg_fe_trusted_proxies },
	{ "h2_max_streams", "h2_max_streams N", 1, 1, 0, fe_h2_max_streams },
	{ "h2_max_header_list", "h2_max_header_list SIZE", 1, 1, 0, fe_h2_max_header_list },
	{ "h2_header_table", "h2_header_table SIZE", 1, 1, 0, fe_h2_header_table },
	{ "h2_max_resets", "h2_max_resets N", 1, 1, 0, fe_h2_max_resets },
	{ "h2_max_control", "h2_max_control N", 1, 1, 0, fe_h2_max_control },
	{ "use_waf", "use_waf NAME [if|unless CONDITION]", 1, -1, 0, cfg_fe_use_waf },
	{ "compress", "compress gzip|br|zstd... [types MIME...] [min_size SIZE] [level ALGO:N...]",
	  1, -1, 0, cfg_fe_compress },
	{ "use_cache", "use_cache NAME [if|unless CONDITION]", 1, -1, 0, cfg_fe_use_cache },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_frontend_open(struct cfg_parser *p, const struct cfg_node *n)
{
	struct cfg *c = p->cfg;
	struct cfg_frontend *fe = calloc(1, sizeof(*fe));
	struct cfg_frontend **arr = fe ? cfg_grow(c->frontends, c->nfrontends, sizeof(*arr)) : NULL;

	if (!fe || !arr || !(fe->name = strdup(n->toks[1].s))) {
		if (arr)
			c->frontends = arr;
		free(fe);
		cfg_oom(p);
		return NULL;
	}
	c->frontends = arr;
	c->frontends[c->nfrontends++] = fe;
	fe->mode = MODE_HTTP;
	fe->line = n->line;
	fe->timeout_header_ms = 10 * 1000;
	fe->timeout_client_ms = 60 * 1000;
	fe->timeout_tunnel_ms = 0;
	fe->max_target_size = 8192;
	fe->forward_headers = FWD_XFF | FWD_XFP | FWD_XFH;
	/* max_header_size stays 0 until cfg_check() knows the buffer size;
	 * the h2_* limits get their defaults there too (cfg_check_h2) */
	cfg_remember(p, &fe->name, &n->toks[1]);
	return fe;
}

const struct cfg_section cfg_section_frontend = {
	"frontend", "frontend NAME {", 1, cfg_frontend_open, frontend_kws,
};
