/*
 * cfg_limit.c - the `limit` section: a named rate and/or concurrency limit
 * that rules apply (one directive per line).
 *
 *   limit per_ip  { key src  rate 100/s  burst 200  delay 50  entries 100k }
 *   limit per_key { key header(X-API-Key)  rate 1000/m }
 *   limit busy    { key src  concurrent 10 }
 *   frontend web { http_request limit per_ip [if|unless COND] ...
 *                  tcp_request connection limit busy [if|unless COND] }
 *
 *   key FETCH      what requests are counted by: one fetch written bare, as
 *                  in conditions (src, header(NAME), cookie(NAME), path...);
 *                  a request where it is absent counts under the empty key.
 *                  In tcp_request connection rules only connection fetches
 *                  (src, peer, proxy_authority)
 *   rate N/s|N/m   the sustained rate (1 to 1,000,000,000); over it, 429
 *                  with Retry-After (tcp_request: connection attempts, the
 *                  connection closed unanswered)
 *   burst N        requests an idle key may send at once; default the rate
 *                  per second (rate 1000/m: 16), at least 1
 *   delay N        of the burst, the first N pass at once and the rest wait
 *                  until the rate lets them through (spaced by it, bounded
 *                  by burst/rate); 1 to burst, default burst (no wait).
 *                  `delay 1` spaces everything above the rate (nginx's
 *                  limit_req without nodelay); nginx's burst=B delay=D is
 *                  `burst B+1  delay D+1` here
 *   concurrent N   in flight per key at most (1 to 1,000,000): requests
 *                  from their rule until their transaction ends (over it:
 *                  429, no Retry-After, log cause conn-limited), or
 *                  connections for their whole life (tcp_request: closed
 *                  unanswered)
 *   entries N      keys held at most (k = 1,000, m = 1,000,000); default
 *                  100k; when full the least recently seen key not in use
 *                  is forgotten; a key in use never is (a new key is
 *                  refused while every entry of its shard is in use)
 *
 * A limit needs a rate, a concurrency or both.
 *
 * The counters (limit/limit.h) are built here once the whole file loaded
 * without error, and are freed with the configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "limit/limit.h"

#define LIMIT_MAX_RATE 1000000000ull
#define LIMIT_MAX_BURST 1000000ull
#define LIMIT_MAX_ENTRIES 10000000ull
#define LIMIT_MAX_CONCURRENT 1000000
#define LIMIT_DEF_ENTRIES 100000ull

static struct cfg_limit *lim(struct cfg_scope *s)
{
	return s->obj;
}

static int lim_key(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	const struct cfg_tok *t = &n->toks[1];
	char err[256];
	struct fetch *f = fetch_parse(t, err, sizeof(err));

	cfg_remember(p, &lim(s)->key, t);   /* written: a bad one is not "no key" */
	if (!f) {
		cfg_error(p, t->line, t->col, "%s", err);
		return -1;
	}
	if (FETCH_MASK(fetch_kind(f)) & FETCH_MASK_RES) {
		cfg_error(p, t->line, t->col,
			  "fetch '%s' reads the response but a limit counts requests before there "
			  "is one; expected a request fetch such as src or header(NAME)",
			  fetch_text(f));
		fetch_free(f);
		return -1;
	}
	fetch_free(lim(s)->key);
	lim(s)->key = f;
	return 0;
}

/* N followed by a suffix: "" = 1, k = 1e3, m = 1e6 (counts, not bytes). */
static bool lim_count(const char *v, const char **end, uint64_t *out)
{
	uint64_t n = 0;
	const char *q = v;

	for (; *q >= '0' && *q <= '9'; q++) {
		if (n > LIMIT_MAX_RATE * 10)
			return false;
		n = n * 10 + (uint64_t)(*q - '0');
	}
	if (q == v)
		return false;
	*end = q;
	*out = n;
	return true;
}

static int lim_rate(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	const struct cfg_tok *t = &n->toks[1];
	const char *end;
	uint64_t v;

	cfg_remember(p, &lim(s)->rate, t);
	if (t->quoted || !lim_count(t->s, &end, &v) || end[0] != '/' ||
	    (strcmp(end, "/s") && strcmp(end, "/m"))) {
		cfg_error(p, t->line, t->col,
			  "invalid rate '%s'; expected requests per second or minute, e.g. 100/s "
			  "or 1000/m",
			  t->s);
		return -1;
	}
	if (v < 1 || v > LIMIT_MAX_RATE) {
		cfg_error(p, t->line, t->col, "rate '%s' out of range; expected 1 to %llu per unit",
			  t->s, (unsigned long long)LIMIT_MAX_RATE);
		return -1;
	}
	lim(s)->rate = v;
	lim(s)->per_s = end[1] == 's' ? 1 : 60;
	return 0;
}

static int lim_burst(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	int v;

	if (cfg_val_int(p, &n->toks[1], 1, (long)LIMIT_MAX_BURST, &v) < 0)
		return -1;
	lim(s)->burst = (uint64_t)v;
	return 0;
}

static int lim_delay(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	int v;

	cfg_remember(p, &lim(s)->delay, &n->toks[1]);
	if (cfg_val_int(p, &n->toks[1], 1, (long)LIMIT_MAX_BURST, &v) < 0)
		return -1;
	lim(s)->delay = (uint64_t)v;
	return 0;
}

static int lim_concurrent(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	int v;

	cfg_remember(p, &lim(s)->concurrent, &n->toks[1]);
	if (cfg_val_int(p, &n->toks[1], 1, LIMIT_MAX_CONCURRENT, &v) < 0)
		return -1;
	lim(s)->concurrent = (uint64_t)v;
	return 0;
}

static int lim_entries(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	const struct cfg_tok *t = &n->toks[1];
	const char *end;
	uint64_t v;

	if (t->quoted || !lim_count(t->s, &end, &v) ||
	    (end[0] && (end[1] || (end[0] != 'k' && end[0] != 'm')))) {
		cfg_error(p, t->line, t->col,
			  "invalid entries '%s'; expected a count such as 100000, 100k or 1m", t->s);
		return -1;
	}
	v *= end[0] == 'k' ? 1000 : end[0] == 'm' ? 1000000 : 1;
	if (v < 1 || v > LIMIT_MAX_ENTRIES) {
		cfg_error(p, t->line, t->col, "entries '%s' out of range; expected 1 to 10m", t->s);
		return -1;
	}
	lim(s)->entries = v;
	return 0;
}

static const struct cfg_kw limit_kws[] = {
	{ "key", "key FETCH (e.g. src, header(X-API-Key))", 1, 1, 0, lim_key },
	{ "rate", "rate N/s|N/m", 1, 1, 0, lim_rate },
	{ "burst", "burst N", 1, 1, 0, lim_burst },
	{ "delay", "delay N (1 to burst)", 1, 1, 0, lim_delay },
	{ "concurrent", "concurrent N", 1, 1, 0, lim_concurrent },
	{ "entries", "entries N (e.g. 100k, 1m)", 1, 1, 0, lim_entries },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_limit_open(struct cfg_parser *p, const struct cfg_node *n)
{
	struct cfg *c = p->cfg;
	struct cfg_limit *l = calloc(1, sizeof(*l));
	struct cfg_limit **arr = l ? cfg_grow(c->limits, c->nlimits, sizeof(*arr)) : NULL;

	if (!l || !arr || !(l->name = strdup(n->toks[1].s))) {
		if (arr)
			c->limits = arr;
		free(l);
		cfg_oom(p);
		return NULL;
	}
	c->limits = arr;
	c->limits[c->nlimits++] = l;
	l->entries = LIMIT_DEF_ENTRIES;
	l->line = n->toks[1].line;
	l->col = n->toks[1].col;
	return l;
}

const struct cfg_section cfg_section_limit = {
	"limit", "limit NAME {", 1, cfg_limit_open, limit_kws,
};

struct cfg_limit *cfg_find_limit(const struct cfg *c, const char *name)
{
	for (int i = 0; i < c->nlimits; i++)
		if (strcmp(c->limits[i]->name, name) == 0)
			return c->limits[i];
	return NULL;
}

/* Resolves the limit names of list l; tcp: a tcp_request connection list
 * (its keys must be connection fetches, no delay there).  A list takes
 * RULE_LIST_SLOTS concurrency places at most. */
static const char *limit_name(const struct cfg *c, int i)
{
	return c->limits[i]->name;
}

static void lim_resolve(struct cfg_parser *p, struct rule_list *l, bool tcp)
{
	const struct cfg *cf = p->cfg;
	int nconc = 0;

	for (int i = 0; i < l->n; i++) {
		struct rule *r = &l->v[i];
		if (r->act != RA_LIMIT)
			continue;
		r->limit = cfg_find_limit(cf, r->limit_name);
		const struct cfg_limit *lm = r->limit;
		if (lm && lm->concurrent && ++nconc == RULE_LIST_SLOTS + 1)
			cfg_error(p, r->limit_line, r->limit_col,
				  "more than %d concurrent limits in one rule list; expected at "
				  "most %d",
				  RULE_LIST_SLOTS, RULE_LIST_SLOTS);
		if (lm && tcp && lm->key && !(FETCH_MASK(fetch_kind(lm->key)) & FETCH_MASK_L4))
			cfg_error(p, r->limit_line, r->limit_col,
				  "limit '%s' is keyed by '%s', which needs HTTP, but tcp_request "
				  "connection rules run before any parsing; expected a limit keyed "
				  "by src, peer or proxy_authority",
				  lm->name, fetch_text(lm->key));
		else if (lm && tcp && lm->delay && lm->delay < lm->burst)
			cfg_error(p, r->limit_line, r->limit_col,
				  "limit '%s' has a delay, which only http_request rules can "
				  "apply; expected a limit without delay",
				  lm->name);
		if (lm)
			continue;
		cfg_error_unknown_section(p, r->limit_line, r->limit_col, "limit", r->limit_name,
					  cf->nlimits, limit_name);
	}
}

void cfg_limits_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;

	for (int i = 0; i < cf->nlimits; i++) {
		struct cfg_limit *l = cf->limits[i];
		for (int j = 0; j < i; j++) {
			if (strcmp(cf->limits[j]->name, l->name) == 0) {
				cfg_error(p, l->line, l->col,
					  "duplicate limit name '%s'; the first one is at line %d",
					  l->name, cf->limits[j]->line);
				break;
			}
		}
		if (!l->key && !cfg_recall(p, &l->key))
			cfg_error(p, l->line, l->col,
				  "limit '%s' has no key; expected e.g. `key src` in its block",
				  l->name);
		if (!l->rate && !l->concurrent && !cfg_recall(p, &l->rate) &&
		    !cfg_recall(p, &l->concurrent))
			cfg_error(p, l->line, l->col,
				  "limit '%s' has neither rate nor concurrent; expected e.g. `rate "
				  "100/s` or `concurrent 10` in its block",
				  l->name);
		if (!l->burst && l->rate) {
			uint64_t per_s = l->rate / l->per_s;
			l->burst = per_s ? per_s : 1;
		}
		const struct cfg_where *d = cfg_recall(p, &l->delay);
		if (l->delay && !l->rate && d)
			cfg_error(p, d->line, d->col,
				  "delay in limit '%s' without a rate; expected `rate N/s` with it",
				  l->name);
		else if (l->delay > l->burst && d)
			cfg_error(p, d->line, d->col,
				  "delay %llu is more than the burst (%llu) of limit '%s'; expected 1 "
				  "to %llu",
				  (unsigned long long)l->delay, (unsigned long long)l->burst, l->name,
				  (unsigned long long)l->burst);
	}
	for (int i = 0; i < cf->nfrontends; i++) {
		lim_resolve(p, &cf->frontends[i]->http_req, false);
		lim_resolve(p, &cf->frontends[i]->tcp_conn, true);
	}
	for (int i = 0; i < cf->nbackends; i++)
		lim_resolve(p, &cf->backends[i]->http_req, false);
	if (p->nerrors)
		return;
	for (int i = 0; i < cf->nlimits && !p->oom; i++) {
		struct cfg_limit *l = cf->limits[i];
		struct limit_params lp = { .rate = l->rate,
					   .per_ns = (uint64_t)l->per_s * 1000000000ull,
					   .burst = l->burst, .delay = l->delay,
					   .concurrent = l->concurrent, .entries = l->entries };
		l->table = limit_table_create(&lp);
		if (!l->table)
			cfg_oom(p);
	}
}

void cfg_limits_free(struct cfg *c)
{
	for (int i = 0; i < c->nlimits; i++) {
		struct cfg_limit *l = c->limits[i];
		limit_table_free(l->table);
		fetch_free(l->key);
		free(l->name);
		free(l);
	}
	free(c->limits);
	c->limits = NULL;
	c->nlimits = 0;
}
