/*
 * cfg_parse.c - the configuration loader: entry points, diagnostics, and
 * the walk that hands each directive of the lexer's tree to its section's
 * keyword table (cfg_global.c, cfg_frontend.c, cfg_backend.c).
 *
 * Handlers see their section's object and the directive's tokens and report
 * errors at the offending token; the cross-section checks (names, modes,
 * limits) run afterwards in cfg_check.c.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

#ifndef GH_IO_URING_DEFAULT
#define GH_IO_URING_DEFAULT false   /* test builds flip it: make CFLAGS=-DGH_IO_URING_DEFAULT=true */
#endif

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

/* ---- sections ---------------------------------------------------------- */

/* The sections, in the order "expected one of" lists them. */
static const struct cfg_section *const cfg_sections[] = {
	&cfg_section_global,
	&cfg_section_frontend,
	&cfg_section_backend,
	&cfg_section_limit,
	&cfg_section_waf,
	&cfg_section_cache,
};

#define CFG_NSECTIONS (sizeof(cfg_sections) / sizeof(cfg_sections[0]))

void cfg_keywords_each(void (*fn)(void *arg, const char *context, const char *keyword),
		       void *arg)
{
	for (size_t i = 0; i < CFG_NSECTIONS; i++)
		for (const struct cfg_kw *k = cfg_sections[i]->kws; k->name; k++)
			fn(arg, cfg_sections[i]->name, k->name);
	cfg_server_options_each(fn, arg);
	cfg_bind_options_each(fn, arg);
}

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

static const struct cfg_section *cfg_find_section(const struct cfg_tok *t)
{
	for (size_t i = 0; i < CFG_NSECTIONS && !t->quoted; i++)
		if (strcmp(cfg_sections[i]->name, t->s) == 0)
			return cfg_sections[i];
	return NULL;
}

void cfg_parse_tree(struct cfg_parser *p)
{
	char list[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < CFG_NSECTIONS && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					cfg_sections[i]->name);

	for (int i = 0; i < p->root.nkids && !p->oom; i++) {
		const struct cfg_node *n = &p->root.kids[i];

		if (n->ntok == 0)
			continue;
		const struct cfg_section *sec = cfg_find_section(&n->toks[0]);
		if (!sec) {
			cfg_error(p, n->line, n->col, "unknown section '%s'; expected one of: %s%s",
				  n->toks[0].s, list,
				  n->block ? "" : " (directives go inside a section)");
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
		.bufsize = 32768,
		.maxrewrite = 1024,
		.timeout_drain_ms = 10 * 1000,
		.ocsp_check_ms = 60 * 1000,
		.io_uring = GH_IO_URING_DEFAULT,
		.log_level = 2,
		.uid = -1,
		.gid = -1,
	};
	atomic_init(&c->refs, 1);
	p.cfg = c;

	const char *names[CFG_NSECTIONS + 1];
	for (size_t i = 0; i < CFG_NSECTIONS; i++)
		names[i] = cfg_sections[i]->name;
	names[CFG_NSECTIONS] = NULL;

	cfg_lex(&p, text, len, names);
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
