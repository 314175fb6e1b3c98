/*
 * cfg_cache.c - the `cache` section (an RFC 9111 shared cache, cache/)
 * and `use_cache` in frontends and backends.
 *
 *   cache main {
 *       size 256m              # memory for objects, headers included;
 *                              # never exceeded (required)
 *       max_object 1m          # larger responses stream through uncached
 *                              # (default 1m; at most size / 4)
 *       heuristic 10%          # lifetime of responses without explicit
 *                              # freshness: N% of Date - Last-Modified
 *                              # (RFC 9111 4.2.2); default off: only
 *                              # explicit freshness is stored
 *       heuristic_max 1d       # cap of a heuristic lifetime (default 1d)
 *       status_header on       # Cache-Status (RFC 9211); default on
 *       purge_from 127.0.0.1 10.0.0.0/8   # who may send PURGE (others:
 *                              # 405); default nobody
 *   }
 *   backend app { use_cache main [if|unless COND] }   # frontends too
 *
 * The store is built at the end of the checks, once per configuration,
 * and freed with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "config/cfg_internal.h"
#include "net/cidr.h"

#define CACHE_DEF_MAX_OBJECT (1024 * 1024)
#define CACHE_MIN_SIZE (64 * 1024)

static struct cfg_cache *cch(struct cfg_scope *s)
{
	return s->obj;
}

static int cache_size(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	cfg_remember(p, &cch(s)->size, &n->toks[1]);
	return cfg_val_size(p, &n->toks[1], CACHE_MIN_SIZE, 1ull << 40, &cch(s)->size);
}

static int cache_max_object(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	cfg_remember(p, &cch(s)->max_object, &n->toks[1]);
	return cfg_val_size(p, &n->toks[1], 1, 1ull << 36, &cch(s)->max_object);
}

static int cache_heuristic(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return cfg_val_percent(p, &n->toks[1], 1, 100, true, &cch(s)->heuristic_pct);
}

static int cache_heuristic_max(struct cfg_parser *p, struct cfg_scope *s,
			       const struct cfg_node *n)
{
	uint32_t ms;
	if (cfg_val_duration(p, &n->toks[1], &ms) < 0)
		return -1;
	cch(s)->heuristic_max_s = ms / 1000;
	return 0;
}

static int cache_status_header(struct cfg_parser *p, struct cfg_scope *s,
			       const struct cfg_node *n)
{
	static const char *const words[] = { "on", "off", NULL };
	int i = cfg_val_choice(p, &n->toks[1], "status_header value", s->what, words);
	if (i < 0)
		return -1;
	cch(s)->status_header = i == 0;
	return 0;
}

static int cache_purge_from(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_cache *c = cch(s);
	struct cidr *v = realloc(c->purge_from, (size_t)(c->npurge_from + n->ntok - 1) * sizeof(*v));
	if (!v) {
		cfg_oom(p);
		return -1;
	}
	c->purge_from = v;
	for (int i = 1; i < n->ntok; i++) {
		if (cidr_parse(n->toks[i].s, &v[c->npurge_from]) < 0) {
			cfg_error(p, n->toks[i].line, n->toks[i].col,
				  "invalid address range '%s'; expected e.g. 127.0.0.1, 10.0.0.0/8 "
				  "or ::1",
				  n->toks[i].s);
			return -1;
		}
		c->npurge_from++;
	}
	return 0;
}

static const struct cfg_kw cache_kws[] = {
	{ "size", "size SIZE (e.g. 256m)", 1, 1, 0, cache_size },
	{ "max_object", "max_object SIZE (e.g. 1m)", 1, 1, 0, cache_max_object },
	{ "heuristic", "heuristic N%", 1, 1, 0, cache_heuristic },
	{ "heuristic_max", "heuristic_max DURATION", 1, 1, 0, cache_heuristic_max },
	{ "status_header", "status_header on|off", 1, 1, 0, cache_status_header },
	{ "purge_from", "purge_from CIDR...", 1, -1, CFG_KW_MULTI, cache_purge_from },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_cache_open(struct cfg_parser *p, const struct cfg_node *n)
{
	struct cfg *c = p->cfg;
	struct cfg_cache *k = calloc(1, sizeof(*k));
	struct cfg_cache **arr = k ? cfg_grow(c->caches, c->ncaches, sizeof(*arr)) : NULL;

	if (!k || !arr || !(k->name = strdup(n->toks[1].s))) {
		if (arr)
			c->caches = arr;
		free(k);
		cfg_oom(p);
		return NULL;
	}
	c->caches = arr;
	c->caches[c->ncaches++] = k;
	k->max_object = CACHE_DEF_MAX_OBJECT;
	k->heuristic_max_s = 86400;
	k->status_header = true;
	k->line = n->toks[1].line;
	k->col = n->toks[1].col;
	return k;
}

const struct cfg_section cfg_section_cache = {
	"cache", "cache NAME {", 1, cfg_cache_open, cache_kws,
};

/* ---- use_cache ---- */

static int use_cache(struct cfg_parser *p, const struct cfg_node *n, struct cfg_use_cache **out,
		     const char *what)
{
	struct cfg_use_cache *u;
	struct cond *c;
	char *name;

	if (cfg_use_parse(p, n, "cache", what, *out ? (*out)->line : 0, &name, &c) < 0)
		return -1;
	if (!(u = calloc(1, sizeof(*u)))) {
		free(name);
		cond_free(c);
		cfg_oom(p);
		return -1;
	}
	u->name = name;
	u->cond = c;
	u->line = n->toks[1].line;
	u->col = n->toks[1].col;
	*out = u;
	return 0;
}

int cfg_fe_use_cache(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return use_cache(p, n, &((struct cfg_frontend *)s->obj)->use_cache, s->what);
}

int cfg_be_use_cache(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return use_cache(p, n, &((struct cfg_backend *)s->obj)->use_cache, s->what);
}

/* ---- checks ---- */

static const char *cache_name(const struct cfg *c, int i)
{
	return c->caches[i]->name;
}

static void resolve(struct cfg_parser *p, struct cfg_use_cache *u, enum px_mode mode,
		    const char *what)
{
	if (!u)
		return;
	int i = cfg_use_resolve(p, "cache", u->name, u->line, u->col, mode, what, p->cfg->ncaches,
				cache_name);
	if (i >= 0)
		u->cache = p->cfg->caches[i];
}

void cfg_caches_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;
	char what[160];

	for (int i = 0; i < cf->nfrontends; i++) {
		snprintf(what, sizeof(what), "frontend '%s'", cf->frontends[i]->name);
		resolve(p, cf->frontends[i]->use_cache, cf->frontends[i]->mode, what);
	}
	for (int i = 0; i < cf->nbackends; i++) {
		snprintf(what, sizeof(what), "backend '%s'", cf->backends[i]->name);
		resolve(p, cf->backends[i]->use_cache, cf->backends[i]->mode, what);
	}
	for (int i = 0; i < cf->ncaches; i++) {
		struct cfg_cache *k = cf->caches[i];
		for (int j = 0; j < i; j++)
			if (strcmp(cf->caches[j]->name, k->name) == 0) {
				cfg_error(p, k->line, k->col,
					  "duplicate cache name '%s'; the first one is at line %d",
					  k->name, cf->caches[j]->line);
				break;
			}
		if (!k->size) {
			cfg_error(p, k->line, k->col,
				  "cache '%s' has no size; expected e.g. `size 256m` in its block",
				  k->name);
			continue;
		}
		if (k->max_object > k->size / 4) {
			const struct cfg_where *at = cfg_recall(p, &k->max_object);
			if (!at)
				at = cfg_recall(p, &k->size);
			cfg_error(p, at ? at->line : k->line, at ? at->col : k->col,
				  "max_object %llu of cache '%s' is more than a quarter of its size "
				  "(%llu); raise size or lower max_object",
				  (unsigned long long)k->max_object, k->name,
				  (unsigned long long)k->size);
		}
	}
	if (p->nerrors)
		return;
	for (int i = 0; i < cf->ncaches && !p->oom; i++) {
		struct cfg_cache *k = cf->caches[i];
		k->store = cache_mem_store_new(k->size, k->max_object);
		if (!k->store)
			cfg_oom(p);
	}
}

void cfg_use_cache_free(struct cfg_use_cache *u)
{
	if (!u)
		return;
	cond_free(u->cond);
	free(u->name);
	free(u);
}

void cfg_caches_free(struct cfg *c)
{
	for (int i = 0; i < c->ncaches; i++) {
		struct cfg_cache *k = c->caches[i];
		cache_store_free(k->store);
		free(k->purge_from);
		free(k->name);
		free(k);
	}
	free(c->caches);
	c->caches = NULL;
	c->ncaches = 0;
}
