/*
 * cfg_use.c - what the `use_KIND NAME [if|unless COND]` directives of
 * frontends and backends share (use_cache in cfg_cache.c, use_waf in
 * cfg_waf.c): parsing the line, and resolving NAME against the top-level
 * `KIND NAME { ... }` sections once every section and mode is known.
 * Each KIND keeps its own struct (the resolved pointer is typed); only the
 * checks and their messages live here, so they read the same for every
 * KIND.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

bool cfg_is_cond_kw(const struct cfg_tok *t)
{
	return !t->quoted && (strcmp(t->s, "if") == 0 || strcmp(t->s, "unless") == 0);
}

struct cond *cfg_opt_cond(struct cfg_parser *p, const struct cfg_node *n, int i, bool *err)
{
	char msg[256];
	int bad;

	*err = false;
	if (i >= n->ntok)
		return NULL;
	bool unless = strcmp(n->toks[i].s, "unless") == 0;
	if (i + 1 >= n->ntok) {
		cfg_error(p, n->line, n->end_col, "missing condition after '%s'", n->toks[i].s);
		*err = true;
		return NULL;
	}
	struct cond *c = cond_parse(n->toks + i + 1, n->ntok - i - 1, &bad, msg, sizeof(msg));
	if (!c) {
		const struct cfg_tok *at = bad < n->ntok - i - 1 ? &n->toks[i + 1 + bad] : NULL;
		cfg_error(p, at ? at->line : n->line, at ? at->col : n->end_col, "%s", msg);
		*err = true;
		return NULL;
	}
	if (unless && !(c = cond_negate(c))) {
		cfg_oom(p);
		*err = true;
	}
	return c;
}

int cfg_use_parse(struct cfg_parser *p, const struct cfg_node *n, const char *kind,
		  const char *what, int first_line, char **name, struct cond **cond)
{
	const struct cfg_tok *t = &n->toks[1];
	bool err;

	if (first_line) {
		cfg_error(p, n->line, n->col, "use_%s given twice in %s; the first is at line %d",
			  kind, what, first_line);
		return -1;
	}
	if (cfg_val_name(p, t, kind) < 0)
		return -1;
	if (n->ntok > 2 && !cfg_is_cond_kw(&n->toks[2])) {
		cfg_error(p, n->toks[2].line, n->toks[2].col,
			  "unexpected '%s' after the %s name; expected 'if' or 'unless'",
			  n->toks[2].s, kind);
		return -1;
	}
	struct cond *c = cfg_opt_cond(p, n, 2, &err);
	if (err)
		return -1;
	if (!(*name = strdup(t->s))) {
		cond_free(c);
		cfg_oom(p);
		return -1;
	}
	*cond = c;
	return 0;
}

int cfg_use_resolve(struct cfg_parser *p, const char *kind, const char *name, int line, int col,
		    enum px_mode mode, const char *what, int n,
		    const char *(*name_at)(const struct cfg *c, int i))
{
	if (mode == MODE_TCP) {
		cfg_error(p, line, col, "use_%s needs HTTP; %s is in tcp mode", kind, what);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(name_at(p->cfg, i), name) == 0)
			return i;
	cfg_error_unknown_section(p, line, col, kind, name, n, name_at);
	return -1;
}
