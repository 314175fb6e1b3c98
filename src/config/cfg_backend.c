/*
 * cfg_backend.c - the `backend NAME { }` section: the servers a request may
 * go to, how one is picked (balance), and the server-side timeouts and
 * retries.  `server` takes options of its own from a second small table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* balance hash(<fetch>): the fetch token is the text between the parens,
 * positioned where it was written so its errors point at it. */
static int be_balance_hash(struct cfg_parser *p, struct cfg_backend *be, const struct cfg_tok *t)
{
	size_t len = strlen(t->s);
	char err[256];

	if (len < 7 || t->s[len - 1] != ')') {
		cfg_error(p, t->line, t->col,
			  "invalid balance '%s'; expected hash(FETCH), e.g. hash(src)", t->s);
		return -1;
	}
	char *inner = strndup(t->s + 5, len - 6);
	if (!inner) {
		cfg_oom(p);
		return -1;
	}
	struct cfg_tok ft = { inner, t->line, t->col + 5, false };
	struct fetch *f = fetch_parse(&ft, err, sizeof(err));
	free(inner);
	if (!f) {
		cfg_error(p, ft.line, ft.col, "%s", err);
		return -1;
	}
	fetch_free(be->hash_fetch);
	be->hash_fetch = f;
	be->balance = LB_HASH;
	return 0;
}

static int be_balance(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const algos[] = { "roundrobin", "leastconn", "random", "ewma", NULL };
	static const enum lb_algo ids[] = { LB_ROUNDROBIN, LB_LEASTCONN, LB_RANDOM, LB_EWMA };
	struct cfg_backend *be = s->obj;
	const struct cfg_tok *t = &n->toks[1];

	cfg_remember(p, &be->balance, t);
	if (!t->quoted && strncmp(t->s, "hash(", 5) == 0)
		return be_balance_hash(p, be, t);
	if (!t->quoted && strncmp(t->s, "random(", 7) == 0) {
		size_t len = strlen(t->s);
		struct cfg_tok nt = { NULL, t->line, t->col + 7, false };
		char num[16];
		if (len < 9 || len - 8 >= sizeof(num) || t->s[len - 1] != ')') {
			cfg_error(p, t->line, t->col,
				  "invalid balance '%s'; expected random(N), e.g. random(2)", t->s);
			return -1;
		}
		memcpy(num, t->s + 7, len - 8);
		num[len - 8] = '\0';
		nt.s = num;
		if (cfg_val_int(p, &nt, 1, 64, &be->random_choices) < 0)
			return -1;
		be->balance = LB_RANDOM;
		return 0;
	}
	for (int i = 0; algos[i]; i++) {
		if (strcmp(t->s, algos[i]) == 0) {
			be->balance = ids[i];
			if (ids[i] == LB_RANDOM)
				be->random_choices = 2;
			return 0;
		}
	}
	cfg_error(p, t->line, t->col,
		  "unknown balance algorithm '%s'; expected one of: roundrobin, leastconn, "
		  "random, random(N), ewma, hash(FETCH)",
		  t->s);
	return -1;
}

/* server options: `server NAME ADDR [weight N] [backup] ...` */
struct cfg_srv_kw {
	const char *name;
	bool has_arg;
	int (*parse)(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *arg);
};

static int srv_weight(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	return cfg_val_int(p, a, 0, 256, &srv->weight);
}

static int srv_maxconn(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	return cfg_val_int(p, a, 0, 1000000, &srv->maxconn);
}

/* `max_idle N` (HAProxy's pool-max-conn): idle connections kept for
 * reuse, per worker thread; 0 closes every connection after its exchange. */
static int srv_max_idle(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	return cfg_val_int(p, a, 0, 1000000, &srv->max_idle);
}

static int srv_backup(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	srv->backup = true;
	return 0;
}

static int srv_disabled(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	srv->disabled = true;
	return 0;
}

static int srv_drain(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	srv->drain = true;
	return 0;
}

static int srv_slowstart(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	return cfg_val_duration(p, a, &srv->slowstart_ms);
}

/* `proto h1|h2` (h2c is h2): what the server speaks; h2 over TLS is
 * negotiated with ALPN h2. */
static int srv_proto(struct cfg_parser *p, struct cfg_server *srv, const struct cfg_tok *a)
{
	cfg_remember(p, &srv->proto, a);
	if (strcmp(a->s, "h1") == 0 || strcmp(a->s, "http/1.1") == 0) {
		srv->proto = SRV_PROTO_H1;
	} else if (strcmp(a->s, "h2") == 0 || strcmp(a->s, "h2c") == 0) {
		srv->proto = SRV_PROTO_H2;
	} else {
		cfg_error(p, a->line, a->col, "unknown server proto '%s'; expected h1 or h2", a->s);
		return -1;
	}
	return 0;
}

static const struct cfg_srv_kw cfg_server_kws[] = {
	{ "weight", true, srv_weight },	    { "maxconn", true, srv_maxconn },
	{ "backup", false, srv_backup },    { "disabled", false, srv_disabled },
	{ "drain", false, srv_drain },	    { "slowstart", true, srv_slowstart },
	{ "source", true, cfg_srv_source },
	{ "send_proxy", true, cfg_srv_send_proxy },
	{ "proto", true, srv_proto },
	{ "max_idle", true, srv_max_idle },
	{ NULL, false, NULL },
};

void cfg_server_options_each(cfg_kw_visit *fn, void *arg)
{
	for (const struct cfg_srv_kw *k = cfg_server_kws; k->name; k++)
		fn(arg, "server", k->name);
	cfg_tls_server_options_each(fn, arg);
}

static const struct cfg_srv_kw *cfg_server_kw(const char *name)
{
	for (const struct cfg_srv_kw *k = cfg_server_kws; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int cfg_server_options(struct cfg_parser *p, struct cfg_server *srv,
			      const struct cfg_node *n)
{
	int rc = 0;

	for (int i = 3; i < n->ntok; i++) {
		const struct cfg_tok *t = &n->toks[i];
		const struct cfg_srv_kw *k = t->quoted ? NULL : cfg_server_kw(t->s);
		if (!k) {
			/* TLS options take a variable number of values (cfg_tls.c) */
			bool tls_err = false;
			int used = cfg_tls_server_option(p, srv, n, i, &tls_err);
			if (used > 0) {
				i += used - 1;
				if (tls_err)
					rc = -1;
				continue;
			}
			char list[256] = "";
			for (const struct cfg_srv_kw *o = cfg_server_kws; o->name; o++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 o == cfg_server_kws ? "" : ", ", o->name);
			cfg_error(p, t->line, t->col,
				  "unknown server option '%s'; expected one of: %s, "
				  CFG_TLS_SERVER_OPTIONS,
				  t->s, list);
			return -1;   /* what follows cannot be told apart from values */
		}
		const struct cfg_tok *arg = NULL;
		if (k->has_arg) {
			if (i + 1 >= n->ntok) {
				cfg_error(p, n->line, n->end_col, "expected a value after '%s'",
					  t->s);
				return -1;
			}
			arg = &n->toks[++i];
		}
		if (k->parse(p, srv, arg) < 0)
			rc = -1;
	}
	return rc;
}

static int be_server(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;
	struct cfg_server *srv = calloc(1, sizeof(*srv));
	struct cfg_server **arr = srv ? cfg_grow(be->servers, be->nservers, sizeof(*arr)) : NULL;

	if (!srv || !arr || !(srv->name = strdup(n->toks[1].s))) {
		if (arr)
			be->servers = arr;
		free(srv);
		cfg_oom(p);
		return -1;
	}
	/* Added even if what follows is wrong, so later checks (duplicate
	 * names, "no servers") do not pile on spurious errors. */
	be->servers = arr;
	be->servers[be->nservers++] = srv;
	srv->weight = 1;
	srv->max_idle = -1;
	srv->line = n->line;
	srv->backend = be;
	cfg_remember(p, &srv->name, &n->toks[1]);

	int rc = cfg_val_name(p, &n->toks[1], "server");
	if (cfg_val_addr(p, &n->toks[2], false, &srv->addr) < 0)
		rc = -1;
	if (cfg_server_options(p, srv, n) < 0)
		rc = -1;
	return rc;
}

static int be_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const struct cfg_timeout_kw kinds[] = {
		{ "connect", offsetof(struct cfg_backend, timeout_connect_ms) },
		{ "server", offsetof(struct cfg_backend, timeout_server_ms) },
		{ "tunnel", offsetof(struct cfg_backend, timeout_tunnel_ms) },
		{ "queue", offsetof(struct cfg_backend, timeout_queue_ms) },
		{ "stream_idle", offsetof(struct cfg_backend, timeout_stream_idle_ms) },
		{ NULL, 0 },
	};
	return cfg_val_timeout(p, s, n, kinds);
}

static int be_mode(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_val_mode(p, &n->toks[1], &be->mode);
}

static int be_retries(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_val_int(p, &n->toks[1], 0, 100, &be->retries);
}

/* hash_balance_factor 150 | 150%: balance hash sends a key to the next
 * server on the ring once its own has this % of the mean load.  At or
 * below 100 every server would be "full" as soon as loads differ by one. */
static int be_hash_balance_factor(struct cfg_parser *p, struct cfg_scope *s,
				  const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_val_percent(p, &n->toks[1], 101, 10000, false, &be->hash_balance_factor);
}

/* "20%" or "20": a percentage of requests that may be retried. */
static int be_retry_budget(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_val_percent(p, &n->toks[1], 0, 100, false, &be->retry_budget_pct);
}

static int be_sticky(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	if (strcmp(n->toks[1].s, "cookie") != 0) {
		cfg_error(p, n->toks[1].line, n->toks[1].col,
			  "unknown sticky method '%s'; expected: cookie", n->toks[1].s);
		return -1;
	}
	if (cfg_val_name(p, &n->toks[2], "cookie name") < 0)
		return -1;
	char text[300], err[200];
	snprintf(text, sizeof(text), "cookie(%s)", n->toks[2].s);
	struct cfg_tok t = { .s = text, .line = n->toks[2].line, .col = n->toks[2].col };
	struct fetch *f = fetch_parse(&t, err, sizeof(err));
	if (!f) {
		cfg_error(p, t.line, t.col, "invalid sticky cookie name: %s", err);
		return -1;
	}
	free(be->sticky_cookie);
	fetch_free(be->sticky_fetch);
	be->sticky_fetch = f;
	be->sticky_cookie = strdup(n->toks[2].s);
	if (!be->sticky_cookie) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

static const struct cfg_kw backend_kws[] = {
	{ "balance", "balance roundrobin|leastconn|random|random(N)|ewma|hash(FETCH)", 1, 1, 0,
	  be_balance },
	{ "server", "server NAME ADDRESS [weight N] [maxconn N] [backup] [disabled] [drain] "
		    "[slowstart DURATION] [source ADDRESS|client] [proto h1|h2]",
	  2, -1, CFG_KW_MULTI, be_server },
	{ "timeout", "timeout connect|server|tunnel|queue|stream_idle DURATION", 2, 2, CFG_KW_MULTI,
	  be_timeout },
	{ "mode", "mode http|tcp", 1, 1, 0, be_mode },
	{ "retries", "retries N", 1, 1, 0, be_retries },
	{ "hash_balance_factor", "hash_balance_factor PERCENT (above 100, e.g. 125 or 150%)", 1, 1,
	  0, be_hash_balance_factor },
	{ "retry_budget", "retry_budget PERCENT", 1, 1, 0, be_retry_budget },
	{ "sticky", "sticky cookie NAME", 2, 2, 0, be_sticky },
	{ "health", "health tcp | http [METHOD] PATH [expect STATUS|LOW-HIGH] [host NAME] "
		    "[proto h1|h2] | grpc [service NAME] [host NAME], then [interval DURATION] "
		    "[timeout DURATION] [rise N] [fall N]",
	  1, -1, 0, cfg_be_health },
	{ "outlier", "outlier [consecutive_errors N] [eject DURATION] [max_eject DURATION] "
		     "[max_ejected PERCENT%]",
	  0, -1, 0, cfg_be_outlier },
	{ "errorfile", "errorfile STATUS FILE", 2, 2, CFG_KW_MULTI, cfg_be_errorfile },
	{ "http_request", "http_request ACTION [ARGS] [if|unless CONDITION]", 1, -1, CFG_KW_MULTI,
	  cfg_be_http_request },
	{ "http_response", "http_response ACTION [ARGS] [if|unless CONDITION]", 1, -1,
	  CFG_KW_MULTI, cfg_be_http_response },
	{ "source", "source ADDRESS|client", 1, 1, 0, cfg_be_source },
	{ "tcp_keepalive", "tcp_keepalive [idle DURATION] [interval DURATION] [count N]", 0, 6, 0,
	  cfg_be_tcp_keepalive },
	{ "use_waf", "use_waf NAME [if|unless CONDITION]", 1, -1, 0, cfg_be_use_waf },
	{ "compress", "compress gzip|br|zstd... [types MIME...] [min_size SIZE] [level ALGO:N...]",
	  1, -1, 0, cfg_be_compress },
	{ "use_cache", "use_cache NAME [if|unless CONDITION]", 1, -1, 0, cfg_be_use_cache },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_backend_open(struct cfg_parser *p, const struct cfg_node *n)
{
	struct cfg *c = p->cfg;
	struct cfg_backend *be = calloc(1, sizeof(*be));
	struct cfg_backend **arr = be ? cfg_grow(c->backends, c->nbackends, sizeof(*arr)) : NULL;

	if (!be || !arr || !(be->name = strdup(n->toks[1].s))) {
		if (arr)
			c->backends = arr;
		free(be);
		cfg_oom(p);
		return NULL;
	}
	c->backends = arr;
	be->index = c->nbackends;
	c->backends[c->nbackends++] = be;
	be->mode = MODE_HTTP;
	be->balance = LB_ROUNDROBIN;
	be->random_choices = 2;
	be->timeout_connect_ms = 5 * 1000;
	be->timeout_server_ms = 30 * 1000;
	be->timeout_tunnel_ms = 3600 * 1000;
	be->timeout_queue_ms = 5 * 1000;
	be->retries = 2;
	be->hash_balance_factor = 125;
	be->retry_budget_pct = 20;
	be->line = n->line;
	cfg_remember(p, &be->name, &n->toks[1]);
	return be;
}

const struct cfg_section cfg_section_backend = {
	"backend", "backend NAME {", 1, cfg_backend_open, backend_kws,
};
