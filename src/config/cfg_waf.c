/*
 * cfg_waf.c - the `waf` section (ModSecurity + the OWASP CRS, waf/waf.h),
 * `use_waf` in frontends and backends, and the global sizes of the pool
 * that runs inspections (proxy/offload.h).
 *
 *   global { waf_threads 2  waf_queue 256 }
 *   waf crs {
 *       rules /usr/share/modsecurity-crs   # a CRS dir or a ModSecurity file;
 *                                          # repeatable, loaded in order
 *       paranoia 1                         # 1..4
 *       mode block                         # or detect: log, never block
 *       body_limit 16k                     # request bodies held and inspected up to this
 *       body_over_limit reject             # 413; or pass: judge the first bytes
 *       status 403                         # a blocked request's status
 *       exclude 942100 [942110-942120 ...] [if|unless COND]   # repeatable
 *       prefilter on                       # or off: skip the pre-filter
 *       defaults on                        # or off: without gatehouse's default
 *                                          # CRS exclusions (waf/crs_defaults.c)
 *       inspect_response off               # on: responses too (phases 3-4): the
 *                                          # head waits for the body's verdict
 *       response_body_limit 64k            # response bodies held and inspected
 *                                          # up to this; the rest passes
 *       response_types text/html text/plain application/json
 *                                          # whose bodies are inspected
 *       allow_methods PROPFIND MKCOL       # added to the method policy (911100);
 *                                          # not TRACE, TRACK or CONNECT
 *       allow_types application/sdp        # added to the body type policy (920420),
 *                                          # bodies read whole as one string;
 *                                          # `raw` last: read as octet-stream's
 *       strict on                          # or off: no 400 for ambiguous
 *                                          # encodings (double or %u escapes,
 *                                          # overlong UTF-8, encoded '/' in a
 *                                          # path, a parameter in both query
 *                                          # and body, multipart and JSON
 *                                          # duplicates: waf/strict.h)
 *   }
 *   frontend web { use_waf crs [if|unless COND] }   # backends too
 *
 * The rules are loaded at the end of the checks (so `gatehouse -t`
 * reports ModSecurity's own messages), once per configuration, and freed
 * with it.  body_limit is what a stream holds of a request body before it
 * picks a server (past its buffer, in pooled buffers: proxy/spill.h), so it
 * is bounded (WAF_MAX_BODY_LIMIT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/cfg_internal.h"
#include "waf/waf.h"

#define WAF_DEF_BODY_LIMIT (16 * 1024)
/* As ModSecurity's SecResponseBodyLimit and SecResponseBodyMimeType. */
#define WAF_DEF_RESPONSE_LIMIT (64 * 1024)
#define WAF_DEF_RESPONSE_TYPES "text/html text/plain application/json"
/* What one stream may hold of a request body for its verdict: the bound
 * of its memory (the stream's buffer, then pooled buffers: proxy/spill.h). */
#define WAF_MAX_BODY_LIMIT (16 * 1024 * 1024)

static struct cfg_waf *waf(struct cfg_scope *s)
{
	return s->obj;
}

static int waf_rules(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_waf *w = waf(s);
	const struct cfg_tok *t = &n->toks[1];
	struct cfg_waf_file *v = cfg_grow(w->rules, w->nrules, sizeof(*v));
	char *path = v ? strdup(t->s) : NULL;

	if (v)
		w->rules = v;
	if (!path) {
		cfg_oom(p);
		return -1;
	}
	w->rules[w->nrules++] = (struct cfg_waf_file){ path, t->line, t->col };
	return 0;
}

static int waf_paranoia(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return cfg_val_int(p, &n->toks[1], 1, 4, &waf(s)->paranoia);
}

static int waf_mode(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const words[] = { "block", "detect", NULL };
	int i = cfg_val_choice(p, &n->toks[1], "waf mode", s->what, words);
	if (i < 0)
		return -1;
	waf(s)->detect = i == 1;
	return 0;
}

static int waf_body_limit(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	cfg_remember(p, &waf(s)->body_limit, &n->toks[1]);
	return cfg_val_size(p, &n->toks[1], 1, WAF_MAX_BODY_LIMIT, &waf(s)->body_limit);
}

static int waf_body_over(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const words[] = { "reject", "pass", NULL };
	int i = cfg_val_choice(p, &n->toks[1], "body_over_limit action", s->what, words);
	if (i < 0)
		return -1;
	waf(s)->body_over_pass = i == 1;
	return 0;
}

static int waf_status(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	int v;
	if (cfg_val_int(p, &n->toks[1], 400, 599, &v) < 0)
		return -1;
	waf(s)->status = (uint16_t)v;
	return 0;
}

static int waf_onoff(struct cfg_parser *p, const struct cfg_node *n, const char *what, bool *out)
{
	static const char *const words[] = { "off", "on", NULL };
	int i = cfg_val_choice(p, &n->toks[1], what, NULL, words);
	if (i < 0)
		return -1;
	*out = i == 1;
	return 0;
}

static int waf_prefilter(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return waf_onoff(p, n, "prefilter setting", &waf(s)->prefilter);
}

static int waf_defaults(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return waf_onoff(p, n, "defaults setting", &waf(s)->defaults);
}

static int waf_strict(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return waf_onoff(p, n, "strict setting", &waf(s)->strict);
}

static int waf_strict_slash(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const words[] = { "reject", "allow", NULL };
	int i = cfg_val_choice(p, &n->toks[1], "strict_encoded_slash setting", NULL, words);
	if (i < 0)
		return -1;
	waf(s)->strict_slash = i == 1;
	return 0;
}

static int waf_resp_limit(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return cfg_val_size(p, &n->toks[1], 1, WAF_MAX_BODY_LIMIT, &waf(s)->response_body_limit);
}

/* Media types go into ModSecurity's SecResponseBodyMimeType as they are:
 * type/subtype tokens only (RFC 9110 5.6.2), kept lowercase. */
static int waf_resp_types(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_waf *w = waf(s);
	size_t len = 0;

	for (int i = 1; i < n->ntok; i++) {
		const char *v = n->toks[i].s, *sl = strchr(v, '/');
		bool ok = sl && sl != v && sl[1] && !strchr(sl + 1, '/');
		for (const char *c = v; ok && *c; c++)
			ok = *c == '/' || (*c > ' ' && *c < 127 && !strchr("\"(),:;<=>?@[\\]{}", *c));
		if (!ok) {
			cfg_error(p, n->toks[i].line, n->toks[i].col,
				  "'%s' is not a media type; expected e.g. text/html", v);
			return -1;
		}
		len += strlen(v) + 1;
	}
	char *out = malloc(len + 1), *o = out;
	if (!out) {
		cfg_oom(p);
		return -1;
	}
	for (int i = 1; i < n->ntok; i++) {
		for (const char *c = n->toks[i].s; *c; c++)
			*o++ = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		*o++ = ' ';
	}
	o[-1] = '\0';
	free(w->response_types);
	w->response_types = out;
	return 0;
}

/* Appends word to a space-separated list (*list NULL: empty) unless it is
 * there already; -1: out of memory. */
static int list_add(char **list, const char *word)
{
	size_t wl = strlen(word), ll = *list ? strlen(*list) : 0;
	for (const char *q = *list; q && *q;) {
		size_t n = strcspn(q, " ");
		if (n == wl && !strncmp(q, word, wl))
			return 0;
		q += n + (q[n] == ' ');
	}
	char *v = realloc(*list, ll + wl + 2);
	if (!v)
		return -1;
	if (ll)
		v[ll++] = ' ';
	memcpy(v + ll, word, wl + 1);
	*list = v;
	return 0;
}

/* `allow_methods M...`: RFC 9110 method tokens, case-sensitive as HTTP
 * methods are, added to the CRS's tx.allowed_methods (911100).  The
 * apostrophe, a token character, would close the setvar's quote: refused.
 * TRACE and TRACK echo a request back, cookies and credentials included
 * (cross-site tracing); CONNECT asks for a tunnel: no application behind a
 * reverse proxy serves them, so they are refused here too (a rules file
 * can still set tx.allowed_methods). */
static int waf_allow_methods(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_waf *w = waf(s);

	for (int i = 1; i < n->ntok; i++) {
		const struct cfg_tok *t = &n->toks[i];
		const char *v = t->s;
		bool ok = *v && strlen(v) <= 64;
		for (const char *c = v; ok && *c; c++)
			ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			     (*c >= '0' && *c <= '9') || strchr("!#$%&*+-.^_`|~", *c);
		if (!ok) {
			cfg_error(p, t->line, t->col,
				  "'%s' is not a method; expected a token of letters, digits and "
				  "!#$%%&*+-.^_`|~ such as PROPFIND",
				  v);
			return -1;
		}
		if (!strcasecmp(v, "TRACE") || !strcasecmp(v, "TRACK") ||
		    !strcasecmp(v, "CONNECT")) {
			cfg_error(p, t->line, t->col,
				  "%s is not allowed by allow_methods: %s", v,
				  strcasecmp(v, "CONNECT") ? "it echoes the request back, cookies "
				  "and credentials included (cross-site tracing)" :
				  "it asks for a tunnel, not a resource");
			return -1;
		}
		if (list_add(&w->allow_methods, v) < 0) {
			cfg_oom(p);
			return -1;
		}
	}
	return 0;
}

/* `allow_types TYPE... [raw]`: media types (type/subtype, RFC 6838's
 * restricted names, no parameters, no wildcards), lowercase, added to the
 * CRS's tx.allowed_request_content_type (920420).  Their bodies are read
 * whole as one string by every rule (waf/waf.c); `raw`: as an
 * application/octet-stream body is, for binary formats. */
static bool type_name_ok(const char *v, size_t n)
{
	if (!n || n > 127 || !((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		      strchr("!#$&^_.+-", v[i])))
			return false;
	return true;
}

static int waf_allow_types(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_waf *w = waf(s);
	int end = n->ntok;
	bool raw = end > 2 && !strcmp(n->toks[end - 1].s, "raw");
	char low[256];

	if (raw)
		end--;
	for (int i = 1; i < end; i++) {
		const struct cfg_tok *t = &n->toks[i];
		size_t len = strlen(t->s);
		if (len >= sizeof(low))
			len = sizeof(low) - 1;
		for (size_t k = 0; k < len; k++)
			low[k] = (char)(t->s[k] >= 'A' && t->s[k] <= 'Z' ? t->s[k] + 32 : t->s[k]);
		low[len] = '\0';
		const char *sl = strchr(low, '/');
		const char *why = NULL;
		if (strchr(low, ';'))
			why = "without parameters";
		else if (strchr(low, '*'))
			why = "no wildcards: each type by its name";
		else if (!sl || !type_name_ok(low, (size_t)(sl - low)) ||
			 !type_name_ok(sl + 1, strlen(sl + 1)) || strlen(t->s) >= sizeof(low))
			why = "type/subtype of letters, digits and !#$&^_.+-";
		if (why) {
			cfg_error(p, t->line, t->col,
				  "'%s' is not a media type; expected e.g. application/sdp (%s)%s",
				  t->s, why, i == 1 && !strcmp(t->s, "raw") ?
				  "; `raw` goes after the types" : "");
			return -1;
		}
		if (list_add(raw ? &w->allow_types_raw : &w->allow_types, low) < 0) {
			cfg_oom(p);
			return -1;
		}
	}
	return 0;
}

static int waf_inspect_resp(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return waf_onoff(p, n, "inspect_response setting", &waf(s)->inspect_response);
}

/* A rule id or a range of them, as SecRuleRemoveById takes it. */
static bool rule_id_ok(const char *v)
{
	const char *q = v;
	size_t digits = strspn(q, "0123456789");
	if (!digits || digits > 9)
		return false;
	q += digits;
	if (!*q)
		return true;
	if (*q++ != '-')
		return false;
	digits = strspn(q, "0123456789");
	return digits && digits <= 9 && !q[digits] && strtoul(q, NULL, 10) >= strtoul(v, NULL, 10);
}

static int waf_exclude(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	struct cfg_waf *w = waf(s);
	int i = 1;

	for (; i < n->ntok && !cfg_is_cond_kw(&n->toks[i]); i++) {
		if (!rule_id_ok(n->toks[i].s)) {
			cfg_error(p, n->toks[i].line, n->toks[i].col,
				  "invalid rule id '%s'; expected a number such as 942100 or a range "
				  "such as 942100-942199",
				  n->toks[i].s);
			return -1;
		}
	}
	if (i == 1) {
		cfg_error(p, n->toks[1].line, n->toks[1].col,
			  "expected rule ids before '%s'", n->toks[1].s);
		return -1;
	}
	int nids = i - 1;
	bool err;
	struct cond *c = cfg_opt_cond(p, n, i, &err);
	if (err)
		return -1;
	if (c) {
		int ncond = 0;
		for (int k = 0; k < w->nexcludes; k++)
			ncond += w->excludes[k].cond != NULL;
		if (ncond >= CFG_WAF_MAX_EXCLUDES) {
			cfg_error(p, n->line, n->col,
				  "too many conditional excludes in %s; at most %d", s->what,
				  CFG_WAF_MAX_EXCLUDES);
			cond_free(c);
			return -1;
		}
	}
	struct cfg_waf_exclude *v = cfg_grow(w->excludes, w->nexcludes, sizeof(*v));
	char **ids = v ? calloc((size_t)nids, sizeof(*ids)) : NULL;
	if (v)
		w->excludes = v;
	if (!ids) {
		cond_free(c);
		cfg_oom(p);
		return -1;
	}
	for (int k = 0; k < nids; k++)
		if (!(ids[k] = strdup(n->toks[1 + k].s)))
			cfg_oom(p);
	w->excludes[w->nexcludes++] = (struct cfg_waf_exclude){
		.ids = ids, .nids = nids, .cond = c, .line = n->line, .col = n->col,
	};
	return 0;
}

static const struct cfg_kw waf_kws[] = {
	{ "rules", "rules PATH (a CRS directory or a ModSecurity file)", 1, 1, CFG_KW_MULTI,
	  waf_rules },
	{ "paranoia", "paranoia 1|2|3|4", 1, 1, 0, waf_paranoia },
	{ "mode", "mode block|detect", 1, 1, 0, waf_mode },
	{ "body_limit", "body_limit SIZE", 1, 1, 0, waf_body_limit },
	{ "body_over_limit", "body_over_limit reject|pass", 1, 1, 0, waf_body_over },
	{ "status", "status CODE", 1, 1, 0, waf_status },
	{ "exclude", "exclude ID[-ID]... [if|unless CONDITION]", 1, -1, CFG_KW_MULTI,
	  waf_exclude },
	{ "prefilter", "prefilter on|off", 1, 1, 0, waf_prefilter },
	{ "defaults", "defaults on|off", 1, 1, 0, waf_defaults },
	{ "inspect_response", "inspect_response on|off", 1, 1, 0, waf_inspect_resp },
	{ "response_body_limit", "response_body_limit SIZE", 1, 1, 0, waf_resp_limit },
	{ "response_types", "response_types TYPE...", 1, -1, 0, waf_resp_types },
	{ "strict", "strict on|off", 1, 1, 0, waf_strict },
	{ "strict_encoded_slash", "strict_encoded_slash allow|reject", 1, 1, 0,
	  waf_strict_slash },
	{ "allow_methods", "allow_methods METHOD...", 1, -1, CFG_KW_MULTI, waf_allow_methods },
	{ "allow_types", "allow_types TYPE... [raw]", 1, -1, CFG_KW_MULTI, waf_allow_types },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static void *cfg_waf_open(struct cfg_parser *p, const struct cfg_node *n)
{
	struct cfg *c = p->cfg;
	struct cfg_waf *w = calloc(1, sizeof(*w));
	struct cfg_waf **arr = w ? cfg_grow(c->wafs, c->nwafs, sizeof(*arr)) : NULL;

	if (!w || !arr || !(w->name = strdup(n->toks[1].s))) {
		if (arr)
			c->wafs = arr;
		free(w);
		cfg_oom(p);
		return NULL;
	}
	c->wafs = arr;
	c->wafs[c->nwafs++] = w;
	w->paranoia = 1;
	w->body_limit = WAF_DEF_BODY_LIMIT;
	w->response_body_limit = WAF_DEF_RESPONSE_LIMIT;
	w->response_types = strdup(WAF_DEF_RESPONSE_TYPES);
	if (!w->response_types)
		cfg_oom(p);
	w->status = 403;
	w->prefilter = true;
	w->defaults = true;
	w->strict = true;
	w->strict_slash = true;
	w->line = n->toks[1].line;
	w->col = n->toks[1].col;
	return w;
}

const struct cfg_section cfg_section_waf = {
	"waf", "waf NAME {", 1, cfg_waf_open, waf_kws,
};

/* ---- use_waf, global sizes ---- */

static int use_waf(struct cfg_parser *p, const struct cfg_node *n, struct cfg_use_waf **out,
		   const char *what)
{
	struct cfg_use_waf *u;
	struct cond *c;
	char *name;

	if (cfg_use_parse(p, n, "waf", what, *out ? (*out)->line : 0, &name, &c) < 0)
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

int cfg_fe_use_waf(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return use_waf(p, n, &((struct cfg_frontend *)s->obj)->use_waf, s->what);
}

int cfg_be_use_waf(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return use_waf(p, n, &((struct cfg_backend *)s->obj)->use_waf, s->what);
}

int cfg_gl_waf_threads(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return cfg_val_int(p, &n->toks[1], 1, 64, &((struct cfg_global *)s->obj)->waf_threads);
}

int cfg_gl_waf_queue(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return cfg_val_int(p, &n->toks[1], 1, 1000000, &((struct cfg_global *)s->obj)->waf_queue);
}

/* ---- checks ---- */

static const char *waf_name(const struct cfg *c, int i)
{
	return c->wafs[i]->name;
}

static void resolve(struct cfg_parser *p, struct cfg_use_waf *u, enum px_mode mode,
		    const char *what)
{
	if (!u)
		return;
	int i = cfg_use_resolve(p, "waf", u->name, u->line, u->col, mode, what, p->cfg->nwafs,
				waf_name);
	if (i >= 0)
		u->waf = p->cfg->wafs[i];
}

void cfg_wafs_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;
	char what[160];

	if (!cf->global.waf_threads)
		cf->global.waf_threads = 2;
	if (!cf->global.waf_queue)
		cf->global.waf_queue = 256;
	for (int i = 0; i < cf->nfrontends; i++) {
		struct cfg_frontend *fe = cf->frontends[i];
		snprintf(what, sizeof(what), "frontend '%s'", fe->name);
		resolve(p, fe->use_waf, fe->mode, what);
	}
	for (int i = 0; i < cf->nbackends; i++) {
		struct cfg_backend *be = cf->backends[i];
		snprintf(what, sizeof(what), "backend '%s'", be->name);
		resolve(p, be->use_waf, be->mode, what);
	}
	for (int i = 0; i < cf->nwafs; i++) {
		struct cfg_waf *w = cf->wafs[i];
		for (int j = 0; j < i; j++)
			if (strcmp(cf->wafs[j]->name, w->name) == 0) {
				cfg_error(p, w->line, w->col,
					  "duplicate waf name '%s'; the first one is at line %d",
					  w->name, cf->wafs[j]->line);
				break;
			}
		if (!w->nrules)
			cfg_error(p, w->line, w->col,
				  "waf '%s' has no rules; expected e.g. `rules "
				  "/usr/share/modsecurity-crs` in its block",
				  w->name);
	}
	if (p->nerrors)
		return;
	char base[4096];
	cfg_base_dir(p, base, sizeof(base));
	for (int i = 0; i < cf->nwafs && !p->oom; i++) {
		struct cfg_waf *w = cf->wafs[i];
		char err[1024];
		int bad;
		w->rt = waf_load(w, base, &bad, err, sizeof(err));
		if (!w->rt) {
			int l = bad >= 0 ? w->rules[bad].line : w->line;
			int c = bad >= 0 ? w->rules[bad].col : w->col;
			/* ModSecurity's messages may span lines: keep the first ones */
			for (char *q = err; *q; q++)
				if (*q == '\n')
					*q = ' ';
			cfg_error(p, l, c, "waf '%s': cannot load its rules: %s", w->name, err);
		}
	}
}

void cfg_use_waf_free(struct cfg_use_waf *u)
{
	if (!u)
		return;
	cond_free(u->cond);
	free(u->name);
	free(u);
}

void cfg_wafs_free(struct cfg *c)
{
	for (int i = 0; i < c->nwafs; i++) {
		struct cfg_waf *w = c->wafs[i];
		waf_free(w->rt);
		for (int k = 0; k < w->nrules; k++)
			free(w->rules[k].path);
		free(w->rules);
		for (int k = 0; k < w->nexcludes; k++) {
			for (int j = 0; j < w->excludes[k].nids; j++)
				free(w->excludes[k].ids[j]);
			free(w->excludes[k].ids);
			cond_free(w->excludes[k].cond);
		}
		free(w->excludes);
		free(w->response_types);
		free(w->allow_methods);
		free(w->allow_types);
		free(w->allow_types_raw);
		free(w->name);
		free(w);
	}
	free(c->wafs);
	c->wafs = NULL;
	c->nwafs = 0;
}
