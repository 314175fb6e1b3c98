/*
 * cfg_rules.c - the rule directives of frontend and backend sections:
 *   http_request ACTION ... [if|unless COND]     (frontend, backend)
 *                (ACTION limit NAME names a `limit` section, cfg_limit.c;
 *                 tarpit DURATION [status N] [body "text"])
 *   http_response ACTION ... [if|unless COND]    (frontend, backend)
 *   tcp_request connection accept|reject|limit NAME [if|unless COND]
 *                                                (frontend)
 * parsed into struct rule (src/filter/rules.h), checked at load (header
 * names, literal bytes, statuses, which fetches a phase can read) and, once
 * modes are known, refused in tcp mode (cfg_rules_check).
 *
 * Where it sits: cfg_frontend.c and cfg_backend.c have one table row per
 * directive pointing here; the lists end up in cfg_frontend/cfg_backend for
 * the pipeline to hand to rules_run().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

/* What one directive's parse needs to carry around. */
struct rule_pc {
	struct cfg_parser *p;
	const struct cfg_node *n;
	struct rule *r;
	int end;              /* index of `if`/`unless`, or ntok */
	const char *dir;      /* "http_request", for messages */
};

#define RULE_REQ_ACTIONS \
	"deny, allow, redirect, return, set_header, add_header, del_header, set_path, set_query, " \
	"limit, tarpit"
#define RULE_RES_ACTIONS "deny, allow, return, set_header, add_header, del_header"

/* ---- small value checks -------------------------------------------------- */

static bool rule_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Fields gatehouse itself manages (framing, hop-by-hop): a rule that wrote
 * them could make the two sides read different messages. */
static bool rule_name_managed(const char *s)
{
	static const char *const managed[] = { "content-length", "transfer-encoding",
					       "connection", "keep-alive", "te", "trailer",
					       "upgrade", "proxy-connection", NULL };
	for (int i = 0; managed[i]; i++)
		if (strcasecmp(s, managed[i]) == 0)
			return true;
	return false;
}

static char *rule_dup(struct rule_pc *c, const char *s, struct slice *out)
{
	char *d = strdup(s);

	if (!d)
		cfg_oom(c->p);
	else
		*out = (struct slice){ d, (uint32_t)strlen(d) };
	return d;
}

static int rule_header_name(struct rule_pc *c, const struct cfg_tok *t)
{
	const char *s = t->s;

	if (!*s) {
		cfg_error(c->p, t->line, t->col, "empty header name; expected a field name");
		return -1;
	}
	for (const char *q = s; *q; q++) {
		if (!rule_is_tchar((unsigned char)*q)) {
			cfg_error(c->p, t->line, t->col + (int)(q - s) + (t->quoted ? 1 : 0),
				  "invalid character in header name '%s'; expected a token "
				  "(letters, digits, and !#$%%&'*+-.^_`|~)",
				  s);
			return -1;
		}
	}
	if (rule_name_managed(s) ||
	    (c->r->phase == RULE_HTTP_REQ && c->r->act != RA_SET_HEADER &&
	     strcasecmp(s, "host") == 0)) {
		cfg_error(c->p, t->line, t->col,
			  "header '%s' cannot be %s by a rule (gatehouse manages message framing, "
			  "hop-by-hop fields and the one Host); expected another header%s",
			  s, c->r->act == RA_DEL_HEADER ? "deleted" : "written",
			  strcasecmp(s, "host") == 0 ? " (set_header Host replaces it)" : "");
		return -1;
	}
	if (!rule_dup(c, s, &c->r->name))
		return -1;
	c->r->hdr_id = (uint8_t)msg_hdr_id(c->r->name);
	return 0;
}

/* A value format at toks[i]. */
static int rule_value(struct rule_pc *c, int i, enum fmt_class cls)
{
	const struct cfg_tok *t = &c->n->toks[i];
	char err[256];
	int col;

	c->r->value = fmt_parse(t, cls, err, sizeof(err), &col);
	if (!c->r->value) {
		cfg_error(c->p, t->line, col, "%s", err);
		return -1;
	}
	return 0;
}

/* The token at i must exist before `end`; reports "missing X" otherwise. */
static const struct cfg_tok *rule_arg(struct rule_pc *c, int i, const char *what)
{
	if (i < c->end)
		return &c->n->toks[i];
	const struct cfg_tok *at = i < c->n->ntok ? &c->n->toks[i] : NULL;
	cfg_error(c->p, at ? at->line : c->n->line, at ? at->col : c->n->end_col,
		  "missing %s after '%s'; expected %s", what, c->n->toks[i - 1].s, what);
	return NULL;
}

/* ---- options: status N, code N, body "..", content_type ".." -------------- */

static int rule_status(struct rule_pc *c, const struct cfg_tok *t, bool redirect)
{
	int v;

	if (!redirect)
		return cfg_val_int(c->p, t, 200, 599, &v) < 0 ? -1 : (c->r->status = (uint16_t)v, 0);
	if (strcmp(t->s, "301") && strcmp(t->s, "302") && strcmp(t->s, "303") &&
	    strcmp(t->s, "307") && strcmp(t->s, "308")) {
		cfg_error(c->p, t->line, t->col,
			  "invalid redirect code '%s'; expected 301, 302, 303, 307 or 308", t->s);
		return -1;
	}
	c->r->status = (uint16_t)atoi(t->s);
	return 0;
}

static int rule_content_type(struct rule_pc *c, const struct cfg_tok *t)
{
	for (const char *q = t->s; *q; q++) {
		unsigned char b = (unsigned char)*q;
		if ((b < 0x20 && b != '\t') || b == 0x7f) {
			cfg_error(c->p, t->line, t->col + (int)(q - t->s) + (t->quoted ? 1 : 0),
				  "invalid byte 0x%02x in content_type; expected visible characters, "
				  "spaces or tabs",
				  b);
			return -1;
		}
	}
	return rule_dup(c, t->s, &c->r->content_type) ? 0 : -1;
}

/* Options from toks[i] to end; `allowed` lists the words, e.g. "status body". */
static int rule_options(struct rule_pc *c, int i, const char *allowed)
{
	bool redirect = c->r->act >= RA_REDIRECT_LOCATION && c->r->act <= RA_REDIRECT_PREFIX;
	unsigned seen = 0;   /* body 1, content_type 2, status/code 4 */

	for (; i < c->end; i += 2) {
		const struct cfg_tok *k = &c->n->toks[i], *v;
		char word[40];
		snprintf(word, sizeof(word), " %s ", k->s);
		char list[64];
		snprintf(list, sizeof(list), " %s ", allowed);
		if (k->quoted || !strstr(list, word)) {
			cfg_error(c->p, k->line, k->col,
				  "unexpected '%s' in %s %s; expected %s, 'if' or 'unless'", k->s,
				  c->dir, rule_action_name(c->r), allowed);
			return -1;
		}
		if (!(v = rule_arg(c, i + 1, k->s[0] == 'b' ? "a body text" : "a value")))
			return -1;
		/* Each option once: a second one would silently win. */
		unsigned bit = k->s[0] == 'b' ? 1u : k->s[0] == 'c' && k->s[1] == 'o' && k->s[2] == 'n' ?
			       2u : 4u;
		if (seen & bit) {
			cfg_error(c->p, k->line, k->col, "'%s' given twice in %s %s", k->s, c->dir,
				  rule_action_name(c->r));
			return -1;
		}
		seen |= bit;
		int rc;
		if (strcmp(k->s, "status") == 0 || strcmp(k->s, "code") == 0)
			rc = rule_status(c, v, redirect);
		else if (strcmp(k->s, "content_type") == 0)
			rc = rule_content_type(c, v);
		else
			rc = rule_dup(c, v->s, &c->r->body) ? 0 : -1;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- actions -------------------------------------------------------------- */

static int rule_redirect(struct rule_pc *c)
{
	static const char *const kinds[] = { "location", "scheme", "prefix", NULL };
	const struct cfg_tok *k = rule_arg(c, 2, "location, scheme or prefix");

	if (!k)
		return -1;
	int kind = cfg_val_choice(c->p, k, "redirect kind", "redirect", kinds);
	if (kind < 0 || !rule_arg(c, 3, kind == 1 ? "a scheme" : "a value"))
		return -1;
	c->r->act = kind == 0 ? RA_REDIRECT_LOCATION : kind == 1 ? RA_REDIRECT_SCHEME :
								   RA_REDIRECT_PREFIX;
	c->r->status = 302;
	if (kind == 1) {
		const struct cfg_tok *s = &c->n->toks[3];
		for (const char *q = s->s; *q; q++) {
			bool ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
				  (q > s->s && ((*q >= '0' && *q <= '9') || strchr("+-.", *q)));
			if (!ok || !*s->s) {
				cfg_error(c->p, s->line, s->col,
					  "invalid scheme '%s'; expected e.g. https", s->s);
				return -1;
			}
		}
		if (!rule_dup(c, s->s, &c->r->scheme))
			return -1;
	} else if (rule_value(c, 3, FMT_URI) < 0) {
		return -1;
	}
	return rule_options(c, 4, "code");
}

static int rule_header(struct rule_pc *c, enum rule_action act)
{
	const struct cfg_tok *name = rule_arg(c, 2, "a header name");

	c->r->act = act;
	if (!name || rule_header_name(c, name) < 0)
		return -1;
	if (act == RA_DEL_HEADER)
		return rule_options(c, 3, "");
	if (!rule_arg(c, 3, "a value") || rule_value(c, 3, FMT_FIELD) < 0)
		return -1;
	return rule_options(c, 4, "");
}

static int rule_set_target(struct rule_pc *c, enum rule_action act)
{
	const struct cfg_tok *v = rule_arg(c, 2, act == RA_SET_PATH ? "a path" : "a query");

	c->r->act = act;
	if (!v)
		return -1;
	if (act == RA_SET_PATH && v->s[0] != '/' && strncmp(v->s, "%[", 2) != 0) {
		cfg_error(c->p, v->line, v->col,
			  "set_path value '%s' does not start with '/'; expected a path such as "
			  "\"/v2%%[path]\"",
			  v->s);
		return -1;
	}
	if (rule_value(c, 2, act == RA_SET_PATH ? FMT_PATH : FMT_QUERY) < 0)
		return -1;
	return rule_options(c, 3, "");
}

/* `limit NAME`: the name is resolved once every section is read
 * (cfg_limits_check), since a `limit` section may follow its users. */
static int rule_limit(struct rule_pc *c)
{
	const struct cfg_tok *t = rule_arg(c, 2, "a limit name");

	c->r->act = RA_LIMIT;
	if (!t || cfg_val_name(c->p, t, "limit") < 0)
		return -1;
	if (!(c->r->limit_name = strdup(t->s))) {
		cfg_oom(c->p);
		return -1;
	}
	c->r->limit_line = t->line;
	c->r->limit_col = t->col;
	return rule_options(c, 3, "");
}

/* `tarpit DURATION [status N] [body "text"]`: held, then answered (500
 * by default, as HAProxy's tarpit) and closed. */
static int rule_tarpit(struct rule_pc *c)
{
	const struct cfg_tok *t = rule_arg(c, 2, "a duration");
	uint32_t ms;

	c->r->act = RA_TARPIT;
	c->r->status = 500;
	if (!t || cfg_val_duration(c->p, t, &ms) < 0)
		return -1;
	if (ms < 1 || ms > 3600000) {
		cfg_error(c->p, t->line, t->col,
			  "tarpit duration '%s' out of range; expected 1ms to 1h", t->s);
		return -1;
	}
	c->r->tarpit_ms = ms;
	return rule_options(c, 3, "status body");
}

/* The action word at toks[1] and its arguments, up to c->end. */
static int rule_action(struct rule_pc *c)
{
	const struct cfg_tok *a = &c->n->toks[1];
	bool res = c->r->phase == RULE_HTTP_RES;
	const char *w = a->quoted ? "" : a->s;

	if (strcmp(w, "allow") == 0) {
		c->r->act = RA_ALLOW;
		return rule_options(c, 2, "");
	}
	if (strcmp(w, "deny") == 0) {
		c->r->act = RA_DENY;
		c->r->status = 403;
		return rule_options(c, 2, "status body");
	}
	if (strcmp(w, "return") == 0) {
		c->r->act = RA_RETURN;
		c->r->status = 200;
		return rule_options(c, 2, "status content_type body");
	}
	if (strcmp(w, "set_header") == 0)
		return rule_header(c, RA_SET_HEADER);
	if (strcmp(w, "add_header") == 0)
		return rule_header(c, RA_ADD_HEADER);
	if (strcmp(w, "del_header") == 0)
		return rule_header(c, RA_DEL_HEADER);
	if (!res && strcmp(w, "redirect") == 0)
		return rule_redirect(c);
	if (!res && strcmp(w, "set_path") == 0)
		return rule_set_target(c, RA_SET_PATH);
	if (!res && strcmp(w, "set_query") == 0)
		return rule_set_target(c, RA_SET_QUERY);
	if (!res && strcmp(w, "limit") == 0)
		return rule_limit(c);
	if (!res && strcmp(w, "tarpit") == 0)
		return rule_tarpit(c);
	cfg_error(c->p, a->line, a->col, "unknown %s action '%s'; expected one of: %s", c->dir,
		  a->s, res ? RULE_RES_ACTIONS : RULE_REQ_ACTIONS);
	return -1;
}

/* ---- condition and phase checks ------------------------------------------- */

static int rule_cond(struct rule_pc *c)
{
	const struct cfg_node *n = c->n;
	char err[512];
	int bad;

	if (c->end >= n->ntok)
		return 0;
	bool unless = strcmp(n->toks[c->end].s, "unless") == 0;
	int first = c->end + 1;
	struct cond_loader ld = cfg_cond_loader(c->p);
	struct cond *cd = cond_parse_with(n->toks + first, n->ntok - first, &ld, &bad, err,
					  sizeof(err));
	if (!cd) {
		const struct cfg_tok *at = bad < n->ntok - first ? &n->toks[first + bad] : NULL;
		cfg_error(c->p, at ? at->line : n->line, at ? at->col : n->end_col, "%s", err);
		return -1;
	}
	if (unless && !(cd = cond_negate(cd))) {
		cfg_oom(c->p);
		return -1;
	}
	c->r->cond = cd;
	return 0;
}

/* A fetch the phase cannot read: the response before there is one, or
 * anything but the address before a request is parsed. */
static int rule_check_fetches(struct rule_pc *c)
{
	unsigned allowed = c->r->phase == RULE_TCP_CONN ? FETCH_MASK_L4 :
			   c->r->phase == RULE_HTTP_REQ ? FETCH_MASK_ALL & ~FETCH_MASK_RES :
							  FETCH_MASK_ALL;
	const struct fetch *f = c->r->cond ? cond_fetch_outside(c->r->cond, allowed) : NULL;
	int l, col;

	if (!f && c->r->value)
		f = fmt_fetch_outside(c->r->value, allowed);
	if (!f)
		return 0;
	fetch_where(f, &l, &col);
	if (c->r->phase == RULE_TCP_CONN)
		cfg_error(c->p, l, col,
			  "fetch '%s' needs HTTP but tcp_request connection rules run before any "
			  "parsing; expected 'src', the only fetch available there",
			  fetch_text(f));
	else
		cfg_error(c->p, l, col,
			  "fetch '%s' reads the response but http_request rules run before there "
			  "is one; expected it in an http_response rule",
			  fetch_text(f));
	return -1;
}

/* ---- directives ---------------------------------------------------------- */

static int rule_add(struct cfg_parser *p, struct rule_list *l, struct rule *r)
{
	struct rule *v = cfg_grow(l->v, l->n, sizeof(*v));

	if (!v) {
		rule_free(r);
		cfg_oom(p);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = *r;
	return 0;
}

static int rule_parse(struct cfg_parser *p, const struct cfg_node *n, struct rule_list *l,
		      enum rule_phase phase, int first)
{
	struct rule r = { .phase = phase, .line = n->toks[first].line, .col = n->toks[first].col };
	struct rule_pc c = { p, n, &r, n->ntok, n->toks[0].s };

	for (int i = first + 1; i < n->ntok; i++) {
		if (!n->toks[i].quoted &&
		    (strcmp(n->toks[i].s, "if") == 0 || strcmp(n->toks[i].s, "unless") == 0)) {
			c.end = i;
			break;
		}
	}
	int rc = phase == RULE_TCP_CONN ? 0 : rule_action(&c);
	if (phase == RULE_TCP_CONN && !n->toks[first].quoted &&
	    strcmp(n->toks[first].s, "limit") == 0) {
		/* rule_limit() reads the name two tokens after the directive
		 * (`http_request limit NAME`): here it is `tcp_request connection
		 * limit NAME`, so it gets a view of the line one token in */
		struct cfg_node sub = *n;
		sub.toks = n->toks + (first - 1);
		sub.ntok = n->ntok - (first - 1);
		c.n = &sub;
		c.end -= first - 1;
		rc = rule_limit(&c);
		c.n = n;
		c.end += first - 1;
	} else if (phase == RULE_TCP_CONN) {
		const struct cfg_tok *a = &n->toks[first];
		r.act = strcmp(a->s, "reject") == 0 ? RA_REJECT : RA_ALLOW;
		if (a->quoted || (strcmp(a->s, "reject") && strcmp(a->s, "accept"))) {
			cfg_error(p, a->line, a->col,
				  "unknown tcp_request connection action '%s'; expected accept, "
				  "reject or limit",
				  a->s);
			rc = -1;
		} else if (c.end > first + 1) {
			const struct cfg_tok *x = &n->toks[first + 1];
			cfg_error(p, x->line, x->col,
				  "unexpected '%s' after '%s'; expected 'if' or 'unless'", x->s, a->s);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = rule_cond(&c);
	if (rc == 0)
		rc = rule_check_fetches(&c);
	if (rc < 0) {
		rule_free(&r);
		return -1;
	}
	return rule_add(p, l, &r);
}

int cfg_fe_http_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return rule_parse(p, n, &((struct cfg_frontend *)s->obj)->http_req, RULE_HTTP_REQ, 1);
}

int cfg_fe_http_response(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return rule_parse(p, n, &((struct cfg_frontend *)s->obj)->http_res, RULE_HTTP_RES, 1);
}

int cfg_be_http_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return rule_parse(p, n, &((struct cfg_backend *)s->obj)->http_req, RULE_HTTP_REQ, 1);
}

int cfg_be_http_response(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	return rule_parse(p, n, &((struct cfg_backend *)s->obj)->http_res, RULE_HTTP_RES, 1);
}

int cfg_fe_tcp_request(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	const struct cfg_tok *t = &n->toks[1];

	if (t->quoted || strcmp(t->s, "connection") != 0) {
		cfg_error(p, t->line, t->col,
			  "unknown tcp_request phase '%s'; expected 'connection'", t->s);
		return -1;
	}
	return rule_parse(p, n, &((struct cfg_frontend *)s->obj)->tcp_conn, RULE_TCP_CONN, 2);
}

/* ---- whole-file checks ----------------------------------------------------- */

static void rule_check_mode(struct cfg_parser *p, const struct rule_list *req,
			    const struct rule_list *res, enum px_mode mode, const char *in)
{
	const struct rule_list *l = req->n ? req : res;

	if (mode != MODE_TCP || !l->n)
		return;
	cfg_error(p, l->v[0].line, l->v[0].col,
		  "%s rules need HTTP but %s is in tcp mode; expected mode http%s",
		  l == req ? "http_request" : "http_response", in,
		  in[0] == 'f' ? ", or tcp_request connection rules" : "");
}

static void rule_check_res_fetch(struct cfg_parser *p, const struct fetch *f, const char *what)
{
	int l, c;

	fetch_where(f, &l, &c);
	cfg_error(p, l, c,
		  "fetch '%s' reads the response but %s runs before there is one; expected a "
		  "request fetch",
		  fetch_text(f), what);
}

void cfg_rules_check(struct cfg_parser *p)
{
	struct cfg *cf = p->cfg;
	char in[160];
	const struct fetch *f;

	for (int i = 0; i < cf->nfrontends; i++) {
		struct cfg_frontend *fe = cf->frontends[i];
		snprintf(in, sizeof(in), "frontend '%s'", fe->name);
		rule_check_mode(p, &fe->http_req, &fe->http_res, fe->mode, in);
		for (int r = 0; r < fe->nrules; r++)
			if ((f = cond_fetch_outside(fe->rules[r].cond,
						    FETCH_MASK_ALL & ~FETCH_MASK_RES)))
				rule_check_res_fetch(p, f, "use_backend");
	}
	for (int i = 0; i < cf->nbackends; i++) {
		struct cfg_backend *be = cf->backends[i];
		snprintf(in, sizeof(in), "backend '%s'", be->name);
		rule_check_mode(p, &be->http_req, &be->http_res, be->mode, in);
		if (be->hash_fetch && (FETCH_MASK(fetch_kind(be->hash_fetch)) & FETCH_MASK_RES))
			rule_check_res_fetch(p, be->hash_fetch, "balancing");
	}
}
