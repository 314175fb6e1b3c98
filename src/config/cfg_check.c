/*
 * cfg_check.c - the checks that need the whole file: names, references
 * between sections, modes, listening addresses and buffer limits; then the
 * resolution of names into pointers the proxy uses directly, cfg_free(),
 * and the reference count of a generation (cfg_get() / cfg_put()).
 *
 * Everything reported here points at the directive that has to change (the
 * use_backend naming a missing backend, the second frontend binding a taken
 * address), not at the section it lives in.
 */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

static void cfg_where_or(const struct cfg_parser *p, const void *field, int line, int *l, int *c)
{
	const struct cfg_where *w = cfg_recall(p, field);

	*l = w ? w->line : line;
	*c = w ? w->col : 1;
}

static const char *cfg_mode_name(enum px_mode m)
{
	return m == MODE_TCP ? "tcp" : "http";
}

static void cfg_check_global(struct cfg_parser *p)
{
	struct cfg_global *g = &p->cfg->global;
	int l, c;

	/* The rewrite reserve is taken from the buffer: more than half would
	 * leave less room for the head than for edits to it. */
	if (g->maxrewrite >= g->bufsize / 2) {
		const struct cfg_where *w = cfg_recall(p, &g->maxrewrite);
		if (!w)
			w = cfg_recall(p, &g->bufsize);
		l = w ? w->line : 0;
		c = w ? w->col : 0;
		cfg_error(p, l, c,
			  "tune.maxrewrite (%u) must be less than half of tune.bufsize (%u); "
			  "expected at most %u",
			  g->maxrewrite, g->bufsize, g->bufsize / 2 - 1);
	}
}

/* Lists backend names for "unknown backend" messages. */
static void cfg_backend_list(const struct cfg *cf, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < cf->nbackends && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
				      cf->backends[i]->name);
	if (o >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

/* Resolves one backend reference and checks the modes agree. */
static struct cfg_backend *cfg_resolve(struct cfg_parser *p, const struct cfg_frontend *fe,
				       const char *name, const char *dir, int line, int col)
{
	struct cfg_backend *be = cfg_find_backend(p->cfg, name);
	char list[256];

	if (!be) {
		cfg_backend_list(p->cfg, list, sizeof(list));
		if (list[0])
			cfg_error(p, line, col, "unknown backend '%s' in %s; expected one of: %s",
				  name, dir, list);
		else
			cfg_error(p, line, col,
				  "unknown backend '%s' in %s; expected a backend section of that "
				  "name, and none is defined",
				  name, dir);
		return NULL;
	}
	if (be->mode != fe->mode)
		cfg_error(p, line, col,
			  "frontend '%s' is in %s mode but backend '%s' is in %s mode; expected a "
			  "backend of the same mode",
			  fe->name, cfg_mode_name(fe->mode), be->name, cfg_mode_name(be->mode));
	return be;
}

/* A tcp proxy never parses HTTP, so only the client address exists. */
static void cfg_check_l4_fetch(struct cfg_parser *p, const struct fetch *f, const char *in)
{
	int l, c;

	fetch_where(f, &l, &c);
	cfg_error(p, l, c,
		  "fetch '%s' needs HTTP but %s is in tcp mode; expected 'src', the only fetch "
		  "available in tcp mode",
		  fetch_text(f), in);
}

/* The h2_* limits: defaults for the ones not written (max_header_list
 * follows max_header_size, so this runs after that one is set), and the
 * header list must fit the buffer as the HTTP/1 head it is forwarded as. */
static void cfg_check_h2(struct cfg_parser *p, struct cfg_frontend *fe, uint32_t room)
{
	struct cfg_h2 *h = &fe->h2;
	const struct cfg_where *w;

	if (!cfg_recall(p, &h->max_streams))
		h->max_streams = CFG_H2_DEF_MAX_STREAMS;
	if (!cfg_recall(p, &h->header_table))
		h->header_table = CFG_H2_DEF_HEADER_TABLE;
	if (!cfg_recall(p, &h->max_resets))
		h->max_resets = CFG_H2_DEF_MAX_RESETS;
	if (!cfg_recall(p, &h->max_control))
		h->max_control = CFG_H2_DEF_MAX_CONTROL;
	if (!(w = cfg_recall(p, &h->max_header_list)))
		h->max_header_list = fe->max_header_size;
	else if (h->max_header_list > room && p->cfg->global.maxrewrite < p->cfg->global.bufsize)
		cfg_error(p, w->line, w->col,
			  "h2_max_header_list (%u) does not fit the buffer; expected at most %u "
			  "(tune.bufsize %u - tune.maxrewrite %u)",
			  h->max_header_list, room, p->cfg->global.bufsize,
			  p->cfg->global.maxrewrite);
	if (fe->mode != MODE_TCP)
		return;
	/* A tcp frontend never decodes HTTP: the limits would mislead. */
	const void *const fields[] = { &h->max_streams, &h->max_header_list, &h->header_table,
				       &h->max_resets, &h->max_control };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((w = cfg_recall(p, fields[i])))
			cfg_warning(p, w->line, w->col,
				    "h2_* limits have no effect in mode tcp (frontend '%s' relays "
				    "bytes, HTTP/2 or not)",
				    fe->name);
}

static void cfg_check_frontend(struct cfg_parser *p, struct cfg_frontend *fe)
{
	struct cfg_global *g = &p->cfg->global;
	uint32_t room = g->bufsize - g->maxrewrite;
	char in[128];
	int l, c;

	snprintf(in, sizeof(in), "frontend '%s'", fe->name);
	if (fe->nbinds == 0 && !cfg_recall(p, &fe->binds)) {
		cfg_where_or(p, &fe->name, fe->line, &l, &c);
		cfg_error(p, l, c, "frontend '%s' has no bind; expected at least one "
				   "'bind ADDRESS', e.g. bind 127.0.0.1:8080",
			  fe->name);
	}
	if (fe->max_header_size == 0) {
		fe->max_header_size = room < CFG_DEF_MAX_HEADER ? room : CFG_DEF_MAX_HEADER;
	} else if (fe->max_header_size > room && g->maxrewrite < g->bufsize) {
		cfg_where_or(p, &fe->max_header_size, fe->line, &l, &c);
		cfg_error(p, l, c,
			  "max_header_size (%u) does not fit the buffer; expected at most %u "
			  "(tune.bufsize %u - tune.maxrewrite %u)",
			  fe->max_header_size, room, g->bufsize, g->maxrewrite);
	}
	cfg_check_h2(p, fe, room);
	for (int i = 0; i < fe->nrules; i++) {
		struct cfg_use_backend *r = &fe->rules[i];
		r->backend = cfg_resolve(p, fe, r->backend_name, "use_backend", r->line, r->col);
		const struct fetch *f;
		if (fe->mode == MODE_TCP && (f = cond_fetch_outside(r->cond, FETCH_MASK_L4)))
			cfg_check_l4_fetch(p, f, in);
	}
	if (fe->mode == MODE_TCP && fe->ntrusted) {
		cfg_where_or(p, &fe->trusted, fe->line, &l, &c);
		cfg_warning(p, l, c, "trusted_proxies has no effect in mode tcp (there are no "
				     "forwarding headers to read); accept_proxy carries client "
				     "addresses there");
	}
	for (int b = 0; fe->mode == MODE_TCP && b < fe->nbinds; b++) {
		const struct cfg_addr *a = &fe->binds[b];
		if (a->proto_line)
			cfg_error(p, a->proto_line, a->proto_col,
				  "'proto' is for binds of an http frontend; frontend '%s' is in "
				  "tcp mode (expected no proto, or mode http)",
				  fe->name);
	}
	if (fe->default_backend_name) {
		cfg_where_or(p, &fe->default_backend_name, fe->line, &l, &c);
		fe->default_backend =
			cfg_resolve(p, fe, fe->default_backend_name, "default_backend", l, c);
	}
}

static bool cfg_addr_clash(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_UNIX)   /* same path (sockaddr_un, NUL-terminated) */
		return strcmp(((const struct sockaddr *)&a->ss)->sa_data,
			      ((const struct sockaddr *)&b->ss)->sa_data) == 0;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
		return x->sin_port == y->sin_port &&
		       (x->sin_addr.s_addr == y->sin_addr.s_addr || cfg_addr_is_any(a) ||
			cfg_addr_is_any(b));
	}
	const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
	return x->sin6_port == y->sin6_port &&
	       (memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 ||
		cfg_addr_is_any(a) || cfg_addr_is_any(b));
}

/* Finds an earlier bind (in file order) that clashes with bind b of
 * frontend f. */
static const struct cfg_addr *cfg_earlier_clash(const struct cfg *cf, int f, int b,
					       const struct cfg_frontend **owner)
{
	const struct cfg_addr *a = &cf->frontends[f]->binds[b];

	for (int g = 0; g <= f; g++) {
		const struct cfg_frontend *other = cf->frontends[g];
		int end = g == f ? b : other->nbinds;
		for (int k = 0; k < end; k++) {
			if (cfg_addr_clash(a, &other->binds[k])) {
				*owner = other;
				return &other->binds[k];
			}
		}
	}
	return NULL;
}

/* Two listeners on one address would either fail at bind() or, with
 * SO_REUSEPORT, split connections between frontends at random; a wildcard
 * and a specific address on the same port clash the same way. */
static void cfg_check_binds(struct cfg_parser *p)
{
	const struct cfg *cf = p->cfg;

	for (int f = 0; f < cf->nfrontends; f++) {
		const struct cfg_frontend *fe = cf->frontends[f];
		for (int b = 0; b < fe->nbinds; b++) {
			const struct cfg_frontend *owner;
			const struct cfg_addr *a = &fe->binds[b];
			const struct cfg_addr *prev = cfg_earlier_clash(cf, f, b, &owner);
			if (!prev)
				continue;
			cfg_error(p, a->line, a->col,
				  "bind %s clashes with bind %s of frontend '%s' at line %d; "
				  "expected each address and port to be bound once",
				  a->text, prev->text, owner->name, prev->line);
		}
	}
}

static void cfg_check_backend(struct cfg_parser *p, struct cfg_backend *be)
{
	int l, c;

	if (be->nservers == 0) {
		cfg_where_or(p, &be->name, be->line, &l, &c);
		cfg_warning(p, l, c, "backend '%s' has no servers; requests routed to it get 503",
			    be->name);
	}
	for (int i = 0; i < be->nservers; i++) {
		struct cfg_server *s = be->servers[i];
		s->index = i;
		s->backend = be;
		for (int j = 0; j < i; j++) {
			if (strcmp(be->servers[j]->name, s->name) != 0)
				continue;
			cfg_where_or(p, &s->name, s->line, &l, &c);
			cfg_error(p, l, c,
				  "duplicate server name '%s' in backend '%s'; the first one is at "
				  "line %d",
				  s->name, be->name, be->servers[j]->line);
			break;
		}
		/* A retry re-sends what was encoded for the first server: one
		 * protocol per backend.  TCP mode relays bytes, it has none. */
		if (s->proto != be->servers[0]->proto) {
			cfg_where_or(p, &s->proto, s->line, &l, &c);
			cfg_error(p, l, c,
				  "server '%s' speaks %s but '%s' speaks %s: the servers of backend "
				  "'%s' must share one proto",
				  s->name, s->proto == SRV_PROTO_H2 ? "h2" : "h1", be->servers[0]->name,
				  be->servers[0]->proto == SRV_PROTO_H2 ? "h2" : "h1", be->name);
		} else if (s->proto == SRV_PROTO_H2 && be->mode == MODE_TCP) {
			cfg_where_or(p, &s->proto, s->line, &l, &c);
			cfg_error(p, l, c, "server '%s': proto h2 needs an HTTP backend (mode http)",
				  s->name);
		}
		if (s->proto == SRV_PROTO_H2 && s->tls)
			s->tls->h2 = true;   /* ALPN h2 (net/tls_load.c) */
		if (s->proto == SRV_PROTO_H2 && s->send_proxy) {
			cfg_where_or(p, &s->proto, s->line, &l, &c);
			cfg_error(p, l, c, "server '%s': send_proxy names one client per connection; "
				  "an h2 connection carries many (use proto h1)", s->name);
		}
	}
	cfg_health_check(p, be);
	if (be->mode == MODE_TCP && be->hash_fetch &&
	    fetch_kind(be->hash_fetch) != FETCH_SRC) {
		char in[128];
		snprintf(in, sizeof(in), "backend '%s'", be->name);
		cfg_check_l4_fetch(p, be->hash_fetch, in);
	}
}

static void cfg_check_names(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;
	int l, c;

	for (int i = 0; i < cf->nfrontends; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(cf->frontends[i]->name, cf->frontends[j]->name) == 0) {
				cfg_where_or(p, &cf->frontends[i]->name, cf->frontends[i]->line,
					     &l, &c);
				cfg_error(p, l, c,
					  "duplicate frontend name '%s'; the first one is at line %d",
					  cf->frontends[i]->name, cf->frontends[j]->line);
				break;
			}
	for (int i = 0; i < cf->nbackends; i++) {
		cf->backends[i]->index = i;
		for (int j = 0; j < i; j++)
			if (strcmp(cf->backends[i]->name, cf->backends[j]->name) == 0) {
				cfg_where_or(p, &cf->backends[i]->name, cf->backends[i]->line, &l,
					     &c);
				cfg_error(p, l, c,
					  "duplicate backend name '%s'; the first one is at line %d",
					  cf->backends[i]->name, cf->backends[j]->line);
				break;
			}
	}
}

void cfg_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;

	cfg_check_global(p);
	cfg_check_names(p);
	for (int i = 0; i < cf->nbackends; i++)
		cfg_check_backend(p, cf->backends[i]);
	for (int i = 0; i < cf->nfrontends; i++)
		cfg_check_frontend(p, cf->frontends[i]);
	cfg_check_binds(p);
	cfg_admin_check(p);
	cfg_deploy_check(p);
	cfg_rules_check(p);
	cfg_compress_check(p);
	cfg_limits_check(p);   /* last: builds the counters when nothing failed */
	cfg_wafs_check(p);     /* loads the rules when nothing failed */
	cfg_caches_check(p);   /* builds the stores when nothing failed */
	cfg_tls_check(p);   /* loads certificates: a bad file fails `gatehouse -t` */
}

struct cfg_backend *cfg_find_backend(const struct cfg *c, const char *name)
{
	/* The first of duplicates wins; duplicates are an error anyway. */
	for (int i = 0; i < c->nbackends; i++)
		if (strcmp(c->backends[i]->name, name) == 0)
			return c->backends[i];
	return NULL;
}

static void cfg_frontend_free(struct cfg_frontend *fe)
{
	for (int i = 0; i < fe->nbinds; i++) {
		cfg_tls_bind_free(fe->binds[i].tls);
		free(fe->binds[i].sock);
		cfg_addr_free(&fe->binds[i]);
	}
	free(fe->binds);
	for (int i = 0; i < fe->nrules; i++) {
		cond_free(fe->rules[i].cond);
		free(fe->rules[i].backend_name);
	}
	free(fe->rules);
	rule_list_free(&fe->tcp_conn);
	rule_list_free(&fe->http_req);
	rule_list_free(&fe->http_res);
	free(fe->default_backend_name);
	cfg_errorfiles_free(fe->errorfiles, fe->nerrorfiles);
	free(fe->access_log_path);
	free(fe->request_id_header);
	free(fe->trusted);
	cfg_use_waf_free(fe->use_waf);
	cfg_compress_free(fe->compress);
	cfg_use_cache_free(fe->use_cache);
	free(fe->name);
	free(fe);
}

static void cfg_backend_free(struct cfg_backend *be)
{
	for (int i = 0; i < be->nservers; i++) {
		cfg_addr_free(&be->servers[i]->addr);
		cfg_tls_server_free(be->servers[i]->tls);
		free(be->servers[i]->name);
		free(be->servers[i]);
	}
	free(be->servers);
	fetch_free(be->hash_fetch);
	free(be->sticky_cookie);
	fetch_free(be->sticky_fetch);
	cfg_health_free(&be->health);
	cfg_errorfiles_free(be->errorfiles, be->nerrorfiles);
	rule_list_free(&be->http_req);
	rule_list_free(&be->http_res);
	cfg_use_waf_free(be->use_waf);
	cfg_compress_free(be->compress);
	cfg_use_cache_free(be->use_cache);
	free(be->name);
	free(be);
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nfrontends; i++)
		cfg_frontend_free(c->frontends[i]);
	free(c->frontends);
	for (int i = 0; i < c->nbackends; i++)
		cfg_backend_free(c->backends[i]);
	free(c->backends);
	cfg_limits_free(c);
	cfg_iplists_free(c);
	cfg_wafs_free(c);
	cfg_caches_free(c);
	cfg_deploy_global_free(&c->global);
	cfg_admin_free(c->global.admin);
	free(c->warnings);
	free(c->file);
	free(c);
}

struct cfg *cfg_get(struct cfg *c)
{
	/* Relaxed: the caller's own reference keeps c alive meanwhile. */
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void cfg_put(struct cfg *c)
{
	if (!c)
		return;
	/* acq_rel: every earlier use of c by other holders happens before
	 * the free by whoever drops the last reference. */
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		cfg_free(c);
}

void cfg_error_unknown_section(struct cfg_parser *p, int line, int col, const char *kind,
			       const char *name, int n,
			       const char *(*name_at)(const struct cfg *c, int i))
{
	char list[256] = "", none[64];
	size_t len = 0;
	for (int j = 0; j < n && len < sizeof(list); j++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "",
					name_at(p->cfg, j));
	snprintf(none, sizeof(none), "a `%s NAME { ... }` section", kind);
	cfg_error(p, line, col, "unknown %s '%s'; expected %s%s", kind, name,
		  n ? "one of: " : none, list);
}
