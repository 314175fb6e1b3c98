/*
 * cfg_parse.c - the configuration loader: entry points, diagnostics, and
 * the section and keyword tables that turn the lexer's tree into a
 * struct cfg.
 *
 * Each section has one keyword table of {name, usage, argument count,
 * handler}; adding a directive is adding one row and one small handler next
 * to it.  Handlers see their section's object and the directive's tokens
 * and report errors at the offending token; the cross-section checks
 * (names, modes, limits) run afterwards in cfg_check.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* ---- diagnostics ------------------------------------------------------- */

static void cfg_diag(struct cfg_parser *p, bool warning, int line, int col, const char *fmt,
		     va_list ap)
{
	char msg[1024], *text;
	int n;

	if (warning)
		p->nwarnings++;
	else
		p->nerrors++;
	if (p->ndiags >= CFG_MAX_DIAGS)
		return;   /* counted, not stored: the tail is summarised */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		n = asprintf(&text, "%s:%d:%d: %s: %s", p->file, line, col,
			     warning ? "warning" : "error", msg);
	else
		n = asprintf(&text, "%s: %s: %s", p->file, warning ? "warning" : "error", msg);
	if (n < 0) {
		p->oom = true;
		return;
	}
	if (p->ndiags == p->diags_cap) {
		int cap = p->diags_cap ? p->diags_cap * 2 : 16;
		struct cfg_diag *d = realloc(p->diags, (size_t)cap * sizeof(*d));
		if (!d) {
			free(text);
			p->oom = true;
			return;
		}
		p->diags = d;
		p->diags_cap = cap;
	}
	p->diags[p->ndiags] = (struct cfg_diag){ line, col, p->ndiags, warning, text };
	p->ndiags++;
}

void cfg_error(struct cfg_parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag(p, false, line, col, fmt, ap);
	va_end(ap);
}

void cfg_warning(struct cfg_parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag(p, true, line, col, fmt, ap);
	va_end(ap);
}

void cfg_oom(struct cfg_parser *p)
{
	p->oom = true;
}

static int cfg_diag_cmp(const void *a, const void *b)
{
	const struct cfg_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Joins the stored diagnostics, in file order, into one malloc'd string;
 * with only_warnings the errors are left out.  NULL if there are none. */
static char *cfg_diag_join(struct cfg_parser *p, bool only_warnings)
{
	size_t len = 0;
	char tail[128] = "";

	if (p->ndiags > 1)
		qsort(p->diags, (size_t)p->ndiags, sizeof(*p->diags), cfg_diag_cmp);
	if (p->oom)
		snprintf(tail, sizeof(tail), "%s: error: out of memory while loading", p->file);
	else if (p->nerrors + p->nwarnings > p->ndiags)
		snprintf(tail, sizeof(tail), "%s: error: too many problems; %d more not shown",
			 p->file, p->nerrors + p->nwarnings - p->ndiags);
	for (int i = 0; i < p->ndiags; i++)
		if (!only_warnings || p->diags[i].warning)
			len += strlen(p->diags[i].text) + 1;
	if (!only_warnings)
		len += strlen(tail) + 1;
	if (len == 0 || (only_warnings && p->nwarnings == 0))
		return NULL;

	char *s = malloc(len + 1), *o = s;
	if (!s)
		return NULL;
	for (int i = 0; i < p->ndiags; i++) {
		if (only_warnings && !p->diags[i].warning)
			continue;
		o += sprintf(o, "%s%s", o == s ? "" : "\n", p->diags[i].text);
	}
	if (!only_warnings && tail[0])
		o += sprintf(o, "%s%s", o == s ? "" : "\n", tail);
	*o = '\0';
	return s;
}

/* ---- helpers for handlers ---------------------------------------------- */

void *cfg_grow(void *arr, int n, size_t size)
{
	if (n > 0 && (n & (n - 1)) != 0)
		return arr;
	size_t cap = n ? (size_t)n * 2 : 1;
	return realloc(arr, cap * size);
}

void cfg_remember(struct cfg_parser *p, const void *field, const struct cfg_tok *t)
{
	for (int i = 0; i < p->nwhere; i++) {
		if (p->where[i].field == field) {
			p->where[i].line = t->line;
			p->where[i].col = t->col;
			return;
		}
	}
	if (p->nwhere == p->where_cap) {
		int cap = p->where_cap ? p->where_cap * 2 : 32;
		struct cfg_where *w = realloc(p->where, (size_t)cap * sizeof(*w));
		if (!w) {
			cfg_oom(p);
			return;
		}
		p->where = w;
		p->where_cap = cap;
	}
	p->where[p->nwhere++] = (struct cfg_where){ field, t->line, t->col };
}

const struct cfg_where *cfg_recall(const struct cfg_parser *p, const void *field)
{
	for (int i = 0; i < p->nwhere; i++)
		if (p->where[i].field == field)
			return &p->where[i];
	return NULL;
}

/* Matches a token against a list of words; reports what was allowed. */
static int cfg_val_choice(struct cfg_parser *p, const struct cfg_tok *t, const char *what,
			  const char *in, const char *const *words)
{
	char list[256] = "";
	size_t len = 0;

	for (int i = 0; words[i]; i++) {
		if (strcmp(t->s, words[i]) == 0)
			return i;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					words[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	cfg_error(p, t->line, t->col, "unknown %s '%s'%s%s; expected one of: %s", what, t->s,
		  in ? " in " : "", in ? in : "", list);
	return -1;
}

/* ---- sections and keywords --------------------------------------------- */

/* What handlers see of the section they are in. */
struct cfg_scope {
	void *obj;              /* struct cfg_global/frontend/backend */
	const char *what;       /* "backend 'app'", for messages */
};

#define CFG_KW_MULTI 0x01   /* may appear several times (bind, server...) */

struct cfg_kw {
	const char *name;
	const char *usage;      /* shown when the argument count is wrong */
	int min_args, max_args; /* after the keyword; -1 = no maximum */
	unsigned flags;
	int (*parse)(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n);
};

/* Timeouts share one directive per section: a table of kinds and the
 * field each one sets. */
struct cfg_timeout_kw {
	const char *name;
	size_t off;
};

static int cfg_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n,
		       const struct cfg_timeout_kw *kinds)
{
	const struct cfg_tok *kind = &n->toks[1];
	const char *names[8];
	int i;

	for (i = 0; kinds[i].name && i < 7; i++)
		names[i] = kinds[i].name;
	names[i] = NULL;
	i = cfg_val_choice(p, kind, "timeout", s->what, names);
	if (i < 0)
		return -1;
	return cfg_val_duration(p, &n->toks[2], (uint32_t *)((char *)s->obj + kinds[i].off));
}

static int cfg_mode(struct cfg_parser *p, const struct cfg_tok *t, enum px_mode *out)
{
	static const char *const modes[] = { "http", "tcp", NULL };
	int i = cfg_val_choice(p, t, "mode", NULL, modes);

	if (i < 0)
		return -1;
	*out = i == 0 ? MODE_HTTP : MODE_TCP;
	return 0;
}

/* global ------------------------------------------------------------------ */

static int gl_workers(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;

	if (strcmp(n->toks[1].s, "auto") == 0) {
		g->workers = 0;
		return 0;
	}
	return cfg_val_int(p, &n->toks[1], 1, 64, &g->workers);
}

static int gl_max_connections(struct cfg_parser *p, struct cfg_scope *s,
			      const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;

	return cfg_val_int(p, &n->toks[1], 1, 10000000, &g->max_connections);
}

static int gl_bufsize(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	uint64_t v;

	if (cfg_val_size(p, &n->toks[1], 4096, 1024 * 1024, &v) < 0)
		return -1;
	g->bufsize = (uint32_t)v;
	cfg_remember(p, &g->bufsize, &n->toks[1]);
	return 0;
}

static int gl_maxrewrite(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_global *g = s->obj;
	uint64_t v;

	/* the upper bound against bufsize is checked once both are known */
	if (cfg_val_size(p, &n->toks[1], 0, 512 * 1024, &v) < 0)
		return -1;
	g->maxrewrite = (uint32_t)v;
	cfg_remember(p, &g->maxrewrite, &n->toks[1]);
	return 0;
}

static int gl_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const struct cfg_timeout_kw kinds[] = {
		{ "drain", offsetof(struct cfg_global, timeout_drain_ms) },
		{ NULL, 0 },
	};
	return cfg_timeout(p, s, n, kinds);
}

static int gl_log_level(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const levels[] = { "err", "warn", "info", "debug", NULL };
	struct cfg_global *g = s->obj;
	int i = cfg_val_choice(p, &n->toks[1], "log level", NULL, levels);

	if (i < 0)
		return -1;
	g->log_level = i;
	return 0;
}

static const struct cfg_kw cfg_global_kws[] = {
	{ "workers", "workers auto|N", 1, 1, 0, gl_workers },
	{ "max_connections", "max_connections N", 1, 1, 0, gl_max_connections },
	{ "tune.bufsize", "tune.bufsize SIZE", 1, 1, 0, gl_bufsize },
	{ "tune.maxrewrite", "tune.maxrewrite SIZE", 1, 1, 0, gl_maxrewrite },
	{ "timeout", "timeout drain DURATION", 2, 2, CFG_KW_MULTI, gl_timeout },
	{ "log_level", "log_level err|warn|info|debug", 1, 1, 0, gl_log_level },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* frontend ---------------------------------------------------------------- */

static int fe_bind(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	struct cfg_addr a = { 0 };

	/* a bind that failed to parse still counts as one for "has no bind" */
	cfg_remember(p, &fe->binds, &n->toks[1]);
	if (cfg_val_addr(p, &n->toks[1], true, &a) < 0)
		return -1;
	struct cfg_addr *b = cfg_grow(fe->binds, fe->nbinds, sizeof(*b));
	if (!b) {
		cfg_addr_free(&a);
		cfg_oom(p);
		return -1;
	}
	fe->binds = b;
	fe->binds[fe->nbinds++] = a;
	return 0;
}

static int fe_mode(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;

	return cfg_mode(p, &n->toks[1], &fe->mode);
}

static int fe_timeout(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const struct cfg_timeout_kw kinds[] = {
		{ "header", offsetof(struct cfg_frontend, timeout_header_ms) },
		{ "client", offsetof(struct cfg_frontend, timeout_client_ms) },
		{ "tunnel", offsetof(struct cfg_frontend, timeout_tunnel_ms) },
		{ NULL, 0 },
	};
	return cfg_timeout(p, s, n, kinds);
}

static int fe_use_backend(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_frontend *fe = s->obj;
	const struct cfg_tok *name = &n->toks[1], *kw = &n->toks[2];
	bool unless = strcmp(kw->s, "unless") == 0;
	char err[256];
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
	struct cond *c = cond_parse(n->toks + 3, n->ntok - 3, &bad, err, sizeof(err));
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

static const struct cfg_kw cfg_frontend_kws[] = {
	{ "bind", "bind ADDRESS", 1, 1, CFG_KW_MULTI, fe_bind },
	{ "mode", "mode http|tcp", 1, 1, 0, fe_mode },
	{ "timeout", "timeout header|client|tunnel DURATION", 2, 2, CFG_KW_MULTI, fe_timeout },
	{ "use_backend", "use_backend NAME if|unless CONDITION", 3, -1, CFG_KW_MULTI,
	  fe_use_backend },
	{ "default_backend", "default_backend NAME", 1, 1, 0, fe_default_backend },
	{ "max_body_size", "max_body_size SIZE", 1, 1, 0, fe_max_body_size },
	{ "max_header_size", "max_header_size SIZE", 1, 1, 0, fe_max_header_size },
	{ "max_target_size", "max_target_size SIZE", 1, 1, 0, fe_max_target_size },
	{ "forward_headers",
	  "forward_headers x-forwarded-for|x-forwarded-proto|x-forwarded-host|forwarded... | none",
	  1, 4, 0, fe_forward_headers },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* backend ----------------------------------------------------------------- */

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

static const struct cfg_srv_kw cfg_server_kws[] = {
	{ "weight", true, srv_weight },	    { "maxconn", true, srv_maxconn },
	{ "backup", false, srv_backup },    { "disabled", false, srv_disabled },
	{ "drain", false, srv_drain },	    { "slowstart", true, srv_slowstart },
	{ NULL, false, NULL },
};

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
			char list[160] = "";
			for (const struct cfg_srv_kw *o = cfg_server_kws; o->name; o++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 o == cfg_server_kws ? "" : ", ", o->name);
			cfg_error(p, t->line, t->col, "unknown server option '%s'; expected one of: %s",
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
		{ NULL, 0 },
	};
	return cfg_timeout(p, s, n, kinds);
}

static int be_mode(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_mode(p, &n->toks[1], &be->mode);
}

static int be_retries(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_backend *be = s->obj;

	return cfg_val_int(p, &n->toks[1], 0, 100, &be->retries);
}

static const struct cfg_kw cfg_backend_kws[] = {
	{ "balance", "balance roundrobin|leastconn|random|random(N)|ewma|hash(FETCH)", 1, 1, 0,
	  be_balance },
	{ "server", "server NAME ADDRESS [weight N] [maxconn N] [backup] [disabled] [drain] "
		    "[slowstart DURATION]",
	  2, -1, CFG_KW_MULTI, be_server },
	{ "timeout", "timeout connect|server|tunnel|queue DURATION", 2, 2, CFG_KW_MULTI,
	  be_timeout },
	{ "mode", "mode http|tcp", 1, 1, 0, be_mode },
	{ "retries", "retries N", 1, 1, 0, be_retries },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* section objects ---------------------------------------------------------- */

static void *cfg_global_open(struct cfg_parser *p, const struct cfg_node *n)
{
	return &p->cfg->global;
}

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
	/* max_header_size stays 0 until cfg_check() knows the buffer size */
	cfg_remember(p, &fe->name, &n->toks[1]);
	return fe;
}

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
	be->line = n->line;
	cfg_remember(p, &be->name, &n->toks[1]);
	return be;
}

struct cfg_section {
	const char *name;
	const char *usage;
	int nargs;              /* 0, or 1 for a NAME */
	void *(*open)(struct cfg_parser *p, const struct cfg_node *n);
	const struct cfg_kw *kws;
};

static const struct cfg_section cfg_sections[] = {
	{ "global", "global {", 0, cfg_global_open, cfg_global_kws },
	{ "frontend", "frontend NAME {", 1, cfg_frontend_open, cfg_frontend_kws },
	{ "backend", "backend NAME {", 1, cfg_backend_open, cfg_backend_kws },
	{ NULL, NULL, 0, NULL, NULL },
};

static const char *const cfg_section_names[] = { "global", "frontend", "backend", NULL };

static const struct cfg_kw *cfg_find_kw(const struct cfg_kw *kws, const struct cfg_tok *t)
{
	if (t->quoted)
		return NULL;
	for (const struct cfg_kw *k = kws; k->name; k++)
		if (strcmp(k->name, t->s) == 0)
			return k;
	return NULL;
}

static void cfg_unknown_kw(struct cfg_parser *p, const struct cfg_kw *kws, const char *where,
			   const struct cfg_tok *t)
{
	char list[512] = "";
	size_t len = 0;

	for (const struct cfg_kw *k = kws; k->name && len < sizeof(list); k++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					k == kws ? "" : ", ", k->name);
	cfg_error(p, t->line, t->col, "unknown directive '%s' in %s; expected one of: %s", t->s,
		  where, list);
}

/* Checks the argument count against the table; points at the first extra
 * token, or at the end of the line when one is missing. */
static bool cfg_kw_args_ok(struct cfg_parser *p, const struct cfg_kw *k, const struct cfg_node *n)
{
	int ac = n->ntok - 1;

	if (ac < k->min_args) {
		cfg_error(p, n->line, n->end_col, "missing argument to '%s'; expected: %s", k->name,
			  k->usage);
		return false;
	}
	if (k->max_args >= 0 && ac > k->max_args) {
		const struct cfg_tok *t = &n->toks[1 + k->max_args];
		cfg_error(p, t->line, t->col, "unexpected '%s' after '%s'; expected: %s", t->s,
			  n->toks[k->max_args].s, k->usage);
		return false;
	}
	return true;
}

static void cfg_parse_section(struct cfg_parser *p, const struct cfg_section *sec,
			      const struct cfg_node *n)
{
	int seen[32] = { 0 };   /* line where each keyword was last set */
	char what[160];

	if (n->ntok - 1 != sec->nargs) {
		const struct cfg_tok *t = n->ntok - 1 > sec->nargs ? &n->toks[1 + sec->nargs] : NULL;
		if (t)
			cfg_error(p, t->line, t->col, "unexpected '%s' after '%s'; expected: %s",
				  t->s, n->toks[sec->nargs].s, sec->usage);
		else
			cfg_error(p, n->line, n->end_col, "missing name after '%s'; expected: %s",
				  sec->name, sec->usage);
		return;
	}
	if (sec->nargs == 1 && cfg_val_name(p, &n->toks[1], sec->name) < 0)
		return;
	if (n->brace_missing)
		cfg_error(p, n->line, n->end_col, "missing '{' after '%s%s%s'; expected: %s",
			  sec->name, sec->nargs ? " " : "", sec->nargs ? n->toks[1].s : "",
			  sec->usage);

	struct cfg_scope scope = { sec->open(p, n), what };
	if (!scope.obj)
		return;
	if (sec->nargs)
		snprintf(what, sizeof(what), "%s '%s'", sec->name, n->toks[1].s);
	else
		snprintf(what, sizeof(what), "%s", sec->name);

	for (int i = 0; i < n->nkids && !p->oom; i++) {
		const struct cfg_node *d = &n->kids[i];
		if (d->ntok == 0)
			continue;   /* a bare '{', already reported */
		const struct cfg_kw *k = cfg_find_kw(sec->kws, &d->toks[0]);
		if (!k) {
			cfg_unknown_kw(p, sec->kws, what, &d->toks[0]);
			continue;
		}
		if (d->block) {
			cfg_error(p, d->brace_line, d->brace_col,
				  "'%s' does not open a block; expected: %s", k->name, k->usage);
			continue;
		}
		if (!cfg_kw_args_ok(p, k, d))
			continue;
		int idx = (int)(k - sec->kws);
		if (!(k->flags & CFG_KW_MULTI) && idx < 32 && seen[idx])
			cfg_warning(p, d->line, d->col,
				    "'%s' was already set at line %d in %s; this one overrides it",
				    k->name, seen[idx], what);
		if (idx < 32)
			seen[idx] = d->line;
		k->parse(p, &scope, d);
	}
}

void cfg_parse_tree(struct cfg_parser *p)
{
	for (int i = 0; i < p->root.nkids && !p->oom; i++) {
		const struct cfg_node *n = &p->root.kids[i];
		const struct cfg_section *sec;

		if (n->ntok == 0)
			continue;
		for (sec = cfg_sections; sec->name; sec++)
			if (!n->toks[0].quoted && strcmp(sec->name, n->toks[0].s) == 0)
				break;
		if (!sec->name) {
			cfg_error(p, n->line, n->col,
				  "unknown section '%s'; expected one of: global, frontend, backend%s",
				  n->toks[0].s, n->block ? "" : " (directives go inside a section)");
			continue;
		}
		cfg_parse_section(p, sec, n);
	}
}

/* ---- entry points ------------------------------------------------------ */

static void cfg_parser_done(struct cfg_parser *p)
{
	cfg_node_free(&p->root);
	free(p->text);
	for (int i = 0; i < p->ndiags; i++)
		free(p->diags[i].text);
	free(p->diags);
	free(p->where);
}

struct cfg *cfg_load_string(const char *name, const char *text, size_t len, char **errs)
{
	struct cfg_parser p = { .file = name ? name : "<config>" };
	struct cfg *c = calloc(1, sizeof(*c));

	if (errs)
		*errs = NULL;
	if (!c || !(c->file = strdup(p.file))) {
		free(c);
		if (errs)
			*errs = strdup("out of memory while loading the configuration");
		return NULL;
	}
	c->global = (struct cfg_global){
		.workers = 0,
		.max_connections = 100000,
		.bufsize = 16384,
		.maxrewrite = 1024,
		.timeout_drain_ms = 10 * 1000,
		.log_level = 2,
	};
	p.cfg = c;

	cfg_lex(&p, text, len, cfg_section_names);
	if (!p.oom)
		cfg_parse_tree(&p);
	if (!p.oom)
		cfg_check(&p);

	if (p.nerrors || p.oom) {
		if (errs)
			*errs = cfg_diag_join(&p, false);
		cfg_free(c);
		c = NULL;
	} else {
		c->warnings = cfg_diag_join(&p, true);
	}
	cfg_parser_done(&p);
	return c;
}

/* A config larger than this is a mistake (a log file passed by accident),
 * not something to read into memory. */
#define CFG_MAX_FILE (16 * 1024 * 1024)

struct cfg *cfg_load(const char *path, char **errs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (errs)
		*errs = NULL;
	if (!f) {
		if (errs && asprintf(errs, "%s: error: cannot open the configuration file: %s", path,
				     strerror(errno)) < 0)
			*errs = NULL;
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16384;
			char *nb = cap > CFG_MAX_FILE + 1 ? NULL : realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int err = ferror(f) ? errno : 0;
	bool toobig = len == cap;
	fclose(f);
	if (err || toobig || !buf) {
		if (errs && asprintf(errs, "%s: error: cannot read the configuration file: %s", path,
				     err ? strerror(err) :
				     toobig ? "larger than 16 MB" : "out of memory") < 0)
			*errs = NULL;
		free(buf);
		return NULL;
	}
	struct cfg *c = cfg_load_string(path, buf, len, errs);
	free(buf);
	return c;
}
