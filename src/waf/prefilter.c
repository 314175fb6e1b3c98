/*
 * prefilter.c - the WAF's fast path (see prefilter.h): "can any rule of the
 * loaded rule set match this request at all?"
 *
 * Build (once, at load):
 *  1. seclang.c reads the configuration into rules and chain links.
 *  2. A static run over the request phases (1, then 2) evaluates what does
 *     not depend on the request: TX variables set by SecAction and by
 *     rules that only test TX (crs-setup.conf, 901's defaults, the
 *     paranoia level), and the skipAfter jumps they take (CRS's
 *     TX:EXECUTING_PARANOIA_LEVEL "@lt N" gates).  Rules skipped there, or
 *     whose TX condition is false, can never match.
 *  3. "Detection" rules are the ones whose match changes what ModSecurity
 *     reports: they log (no nolog), are disruptive (deny/block/drop/
 *     redirect) or add to a score.  Everything the pre-filter decides is
 *     about these; the others only set state.
 *     The TX state model is "the world before the first detection": the
 *     first detection rule to fire in a request sees TX exactly as static
 *     evaluation computed it, except variables set by request-dependent
 *     non-detection rules or by a detection chain's earlier links, which
 *     are unknown ("dynamic").  So a rule reading only score variables
 *     (949110's TX:ANOMALY_SCORE) is statically false, soundly.
 *  4. Each link of an active detection rule becomes either patterns in a
 *     Vectorscan database (one database per transformation chain: @rx in
 *     prefilter mode, @pm / @pmFromFile phrases and @contains-like
 *     arguments as caseless literals), a native check (counts, numbers,
 *     @within, @validate*, libinjection for @detectSQLi/@detectXSS, exact
 *     PCRE2 for negated @rx and for regexes Vectorscan rejects), or
 *     "always" (what it cannot reason about).
 *
 * Scan (per request): compute the collections ModSecurity would (ARGS from
 * the query and an urlencoded or JSON body, cookies, headers, the URI
 * variables, a JSON or plain multipart body's arguments and files),
 * transform each field once per distinct transformation chain (prefixes
 * shared), scan each chain's fields in one Vectorscan call (joined by
 * '\n'), confirm each candidate with the exact operator on the field, then
 * for each detection rule AND its links' verdicts.  "Might match" as soon as one rule's links all
 * might; otherwise "cannot match".  (Rules pf_pass.c can bound, score
 * additions only, do not stop the loop: when only they might, the scan
 * may answer "decided: pass", waf_pf_passed().)  Bodies the pre-filter does not parse
 * (XML, another ctl:requestBodyProcessor, multipart of an unusual shape)
 * always "might match".
 */
#include "waf/prefilter.h"
#include "waf/pf_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libinjection, as bundled and exported by libmodsecurity (it calls these
 * for @detectSQLi and @detectXSS). */
int libinjection_sqli(const char *s, size_t slen, char fingerprint[]);
int libinjection_xss(const char *s, size_t slen);


static struct tx_var *tx_find(struct tx_map *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

static struct tx_var *tx_get(struct tx_map *m, const char *name)
{
	struct tx_var *v = tx_find(m, name);

	if (v)
		return v;
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 64;
		void *p = realloc(m->v, nc * sizeof(*m->v));
		if (!p)
			return NULL;
		m->v = p;
		m->cap = nc;
	}
	v = &m->v[m->n];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	m->n++;
	return v;
}

static void tx_free(struct tx_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].value);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Expands %{tx.x} macros from static TX.  Returns a malloc'd string, or
 * NULL with *dynamic set when a macro is not static (another collection, a
 * dynamic or unset TX variable). */
char *pf_expand(struct tx_map *m, const char *s, bool *dynamic)
{
	size_t cap = strlen(s) + 64, n = 0;
	char *o = malloc(cap);

	*dynamic = false;
	if (!o)
		return NULL;
	while (*s) {
		const char *e;
		if (s[0] == '%' && s[1] == '{' && (e = strchr(s, '}'))) {
			char name[256];
			size_t nl = (size_t)(e - s - 2);
			if (nl >= sizeof(name) || nl < 3 || strncasecmp(s + 2, "tx.", 3) != 0) {
				*dynamic = true;
				free(o);
				return NULL;
			}
			for (size_t i = 0; i < nl - 3; i++)
				name[i] = (char)tolower((unsigned char)s[5 + i]);
			name[nl - 3] = '\0';
			struct tx_var *v = tx_find(m, name);
			if (!v || v->dynamic || !v->value) {
				/* an unset TX macro expands to "" in ModSecurity, but
				 * TX:0-9 and friends are set at run time */
				if (v && !v->dynamic && !v->value) {
					s = e + 1;
					continue;
				}
				*dynamic = true;
				free(o);
				return NULL;
			}
			size_t vl = strlen(v->value);
			if (n + vl + 1 > cap) {
				cap = 2 * (n + vl + 1);
				char *p = realloc(o, cap);
				if (!p) {
					free(o);
					return NULL;
				}
				o = p;
			}
			memcpy(o + n, v->value, vl);
			n += vl;
			s = e + 1;
			continue;
		}
		if (n + 2 > cap) {
			cap *= 2;
			char *p = realloc(o, cap);
			if (!p) {
				free(o);
				return NULL;
			}
			o = p;
		}
		o[n++] = *s++;
	}
	o[n] = '\0';
	return o;
}

/* std::stoi as ModSecurity's numeric operators use it: 0 on failure. */
static long stoi_ms(const char *s, size_t len)
{
	size_t i = 0;
	long v = 0;
	bool neg = false, any = false;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		any = true;
		v = v * 10 + (s[i] - '0');
		if (v > 2147483648L)
			return 0;	/* out of range: stoi throws, ModSecurity uses 0 */
	}
	if (!any)
		return 0;
	v = neg ? -v : v;
	if (v > 2147483647L || v < -2147483648L)
		return 0;
	return v;
}

/* ---- building ------------------------------------------------------------ */

/* Would the rule matching change what ModSecurity reports: it logs, is
 * disruptive, or adds something other than a static 0 to a score.  (949's
 * "tx.anomaly_score=+%{tx.anomaly_score_pl1}" adds what detections added,
 * which is 0 before the first detection.) */
bool pf_is_detection(struct waf_pf *pf, const struct sl_rule *r)
{
	if (!r->nolog || r->disruptive)
		return true;
	for (size_t i = 0; i < r->nlinks; i++)
		for (size_t j = 0; j < r->links[i].nsetvars; j++) {
			const struct sl_setvar *sv = &r->links[i].setvars[j];
			if (!sv->name || !strstr(sv->name, "score") ||
			    (sv->mode != '+' && sv->mode != '-'))
				continue;
			bool dyn = false;
			char *v = sv->value ? pf_expand(&pf->tx, sv->value, &dyn) : NULL;
			bool zero = v && stoi_ms(v, strlen(v)) == 0;
			free(v);
			if (!zero)
				return true;
		}
	return false;
}

static pcre2_code *re_compile(const char *pat, bool caseless)
{
	int err;
	PCRE2_SIZE off;
	uint32_t opt = PCRE2_DOTALL | PCRE2_MULTILINE | (caseless ? PCRE2_CASELESS : 0);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opt, &err, &off, NULL);

	if (re)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static bool re_match(const pcre2_code *re, const uint8_t *s, size_t len, pcre2_match_data *md)
{
	return pcre2_match(re, s, len, 0, 0, md, NULL) >= 0;
}

/* The index in pf->nre of the name regex pat (a collection variable's
 * /regex/ selector), added if new: libmodsecurity 3.0.9 compiles both
 * kinds, ARGS:/re/ (VariableRegex) and !ARGS:/re/ (KeyExclusionRegex),
 * with DOTALL, MULTILINE and CASELESS and takes a key when the match
 * returns > 0.  -1: it does not compile (the caller then takes every name
 * for a selector and leaves an exclusion out), -2: out of memory. */
static int name_re_add(struct waf_pf *pf, const char *pat)
{
	for (size_t i = 0; i < pf->nnre; i++)
		if (!strcmp(pf->nre_pat[i], pat))
			return (int)i;
	if (pf->nnre >= 4096)
		return -1;
	pcre2_code *re = re_compile(*pat ? pat : ".*", true);
	if (!re)
		return -1;
	void *p = realloc(pf->nre, (pf->nnre + 1) * sizeof(*pf->nre));
	if (p)
		pf->nre = p;
	void *q = p ? realloc(pf->nre_pat, (pf->nnre + 1) * sizeof(*pf->nre_pat)) : NULL;
	if (q)
		pf->nre_pat = q;
	char *d = q ? strdup(pat) : NULL;
	if (!d) {
		pcre2_code_free(re);
		return -2;
	}
	pf->nre[pf->nnre] = re;
	pf->nre_pat[pf->nnre] = d;
	return (int)pf->nnre++;
}

/* Could a setvar named by template `tmpl` ("header_name_%{tx.0}") set
 * TX variable v (a name or a /regex/)?  Macros are removed before a regex
 * is tried, and for a name any template whose fixed prefix begins the
 * name counts: both only widen the set of setters considered. */
static bool setter_name_matches(const char *tmpl, const struct sl_var *v, pcre2_match_data *md)
{
	char name[256];
	size_t n = 0;
	bool macro = false;

	for (const char *s = tmpl; *s && n + 1 < sizeof(name);) {
		const char *e;
		if (s[0] == '%' && s[1] == '{' && (e = strchr(s, '}'))) {
			if (!v->sel_regex && !macro) {
				name[n] = '\0';
				return !strncmp(v->sel, name, n);
			}
			macro = true;
			s = e + 1;
			continue;
		}
		name[n++] = *s++;
	}
	name[n] = '\0';
	if (!v->sel_regex)
		return !strcmp(v->sel, name);
	pcre2_code *re = re_compile(v->sel, true);
	bool m = !re || re_match(re, (const uint8_t *)name, n, md);
	pcre2_code_free(re);
	return m;
}

/* Static value of TX variable v: false if it is not static (set at run
 * time by a registered setter, or by an earlier link `links[0..k)` of the
 * rule being evaluated). */
static bool tx_static(struct waf_pf *pf, const struct sl_link *links, size_t k,
		      const struct sl_var *v, const char **val, bool *exists, pcre2_match_data *md)
{
	if (!v->sel || v->sel_regex)
		return false;
	if (isdigit((unsigned char)v->sel[0]) && !v->sel[1])
		return false;	/* TX:0-9: captures */
	struct tx_var *t = tx_find(&pf->tx, v->sel);
	if (t && t->dynamic)
		return false;
	for (size_t i = 0; i < pf->ndyn; i++)
		if (setter_name_matches(pf->dyn[i].name, v, md))
			return false;
	for (size_t j = 0; j < k; j++)
		for (size_t i = 0; i < links[j].nsetvars; i++)
			if (links[j].setvars[i].name &&
			    setter_name_matches(links[j].setvars[i].name, v, md))
				return false;
	*exists = t && t->value;
	*val = *exists ? t->value : NULL;
	return true;
}

/* Operator on one value, exactly where ModSecurity's semantics are
 * replicated; *exact false when it is only an over-approximation. */
static bool op_eval(const struct plink *l, const uint8_t *s, size_t len, pcre2_match_data *md,
		    bool *exact)
{
	const struct sl_link *sl = l->sl;
	const char *p = l->param;
	size_t pl = p ? strlen(p) : 0;

	*exact = true;
	switch (sl->op) {
	case SL_OP_RX:
		if (l->re)
			return re_match(l->re, s, len, md);
		*exact = false;
		return true;
	case SL_OP_PM:
	case SL_OP_PMF:
		*exact = false;
		for (size_t i = 0; i < sl->npm; i++) {
			size_t n = strlen(sl->pm[i]);
			for (size_t j = 0; j + n <= len; j++)
				if (!strncasecmp((const char *)s + j, sl->pm[i], n))
					return true;
		}
		return false;
	case SL_OP_CONTAINS:
		return pl == 0 || memmem(s, len, p, pl) != NULL;
	case SL_OP_CONTAINSWORD:
		*exact = false;
		return pl == 0 || memmem(s, len, p, pl) != NULL;
	case SL_OP_BEGINSWITH:
		return len >= pl && !memcmp(s, p, pl);
	case SL_OP_ENDSWITH:
		return len >= pl && !memcmp(s + len - pl, p, pl);
	case SL_OP_STREQ:
		return len == pl && !memcmp(s, p, pl);
	case SL_OP_WITHIN:
		return len == 0 || memmem(p, pl, s, len) != NULL;
	case SL_OP_EQ:
	case SL_OP_LT:
	case SL_OP_GT:
	case SL_OP_GE:
	case SL_OP_LE: {
		long a = stoi_ms((const char *)s, len), b = stoi_ms(p, pl);
		switch (sl->op) {
		case SL_OP_EQ: return a == b;
		case SL_OP_LT: return a < b;
		case SL_OP_GT: return a > b;
		case SL_OP_GE: return a >= b;
		default: return a <= b;
		}
	}
	case SL_OP_DETECTSQLI: {
		char fp[8];
		return libinjection_sqli((const char *)s, len, fp) != 0;
	}
	case SL_OP_DETECTXSS:
		return libinjection_xss((const char *)s, len) != 0;
	case SL_OP_VALIDATEBYTERANGE:
		for (size_t i = 0; i < len; i++)
			if (!l->byte_ok[s[i]])
				return true;
		return false;
	case SL_OP_VALIDATEURLENC:
		for (size_t i = 0; i < len; i++)
			if (s[i] == '%') {
				if (i + 2 >= len || !isxdigit(s[i + 1]) || !isxdigit(s[i + 2]))
					return true;
				i += 2;
			}
		return false;
	case SL_OP_VALIDATEUTF8:
		*exact = false;
		for (size_t i = 0; i < len; i++)
			if (s[i] >= 0x80)
				return true;
		return false;
	case SL_OP_UNCONDITIONAL:
		return true;
	case SL_OP_NOMATCH:
		return false;
	default:
		*exact = false;
		return true;
	}
}

bool pf_link_verdict(const struct plink *l, const uint8_t *s, size_t len, pcre2_match_data *md)
{
	bool exact;
	bool m = op_eval(l, s, len, md, &exact);

	if (l->sl->neg)
		return exact ? !m : true;
	return m;
}

/* Static evaluation of a link whose variables are all static TX: 1 match,
 * 0 no match, -1 not static. */
static int static_link(struct waf_pf *pf, const struct sl_rule *r, size_t k, pcre2_match_data *md)
{
	const struct sl_link *sl = &r->links[k];
	struct plink l = { .sl = sl };
	bool dyn = false;
	int res = 0;

	if (sl->nvars == 0 && sl->op != SL_OP_UNCONDITIONAL)
		return -1;
	for (size_t i = 0; i < sl->nvars; i++)
		if ((sl->vars[i].kind != PF_V_TX && sl->vars[i].kind != PF_V_EMPTY) ||
		    sl->vars[i].exclude)
			return -1;
	l.param = pf_expand(&pf->tx, sl->param, &dyn);
	if (!l.param)
		return -1;
	if (sl->op == SL_OP_RX) {
		l.re = re_compile(l.param, false);
		if (!l.re) {
			free(l.param);
			return -1;
		}
	}
	if (sl->op == SL_OP_UNCONDITIONAL && sl->nvars == 0)
		res = 1;
	for (size_t i = 0; i < sl->nvars && res != -1; i++) {
		const char *val;
		bool exists;
		if (sl->vars[i].kind == PF_V_EMPTY) {
			/* empty without a multipart or XML body, which the scan
			 * never clears */
			if (sl->vars[i].count && pf_link_verdict(&l, (const uint8_t *)"0", 1, md))
				res = 1;
			continue;
		}
		if (!tx_static(pf, r->links, k, &sl->vars[i], &val, &exists, md)) {
			res = -1;
			break;
		}
		if (sl->vars[i].count) {
			const char *c = exists ? "1" : "0";
			if (pf_link_verdict(&l, (const uint8_t *)c, 1, md))
				res = 1;
		} else if (exists) {
			bool exact;
			bool m = op_eval(&l, (const uint8_t *)val, strlen(val), md, &exact);
			if (!exact) {
				res = -1;
				break;
			}
			if (sl->neg ? !m : m)
				res = 1;
		}
	}
	free(l.param);
	pcre2_code_free(l.re);
	return res;
}

static void setvar_apply(struct waf_pf *pf, const struct sl_setvar *sv, bool dynamic)
{
	if (!sv->name)
		return;
	struct tx_var *t = tx_get(&pf->tx, sv->name);
	if (!t)
		return;
	if (dynamic) {
		t->dynamic = true;
		return;
	}
	if (sv->mode == '!') {
		free(t->value);
		t->value = NULL;
		t->dynamic = false;
		return;
	}
	bool dyn = false;
	char *v = sv->value ? pf_expand(&pf->tx, sv->value, &dyn) : strdup("1");
	if (!v) {
		t->dynamic = true;
		return;
	}
	if (sv->mode == '+' || sv->mode == '-') {
		if (t->dynamic) {
			free(v);
			return;
		}
		long a = t->value ? stoi_ms(t->value, strlen(t->value)) : 0;
		long b = stoi_ms(v, strlen(v));
		free(v);
		v = malloc(24);
		if (!v) {
			t->dynamic = true;
			return;
		}
		snprintf(v, 24, "%ld", sv->mode == '+' ? a + b : a - b);
	}
	free(t->value);
	t->value = v;
	t->dynamic = false;
}

static int chain_id(struct waf_pf *pf, const int *tfn, size_t n)
{
	if (n > 16)
		return -1;
	for (size_t i = 0; i < pf->nchains; i++)
		if (pf->chains[i].ntfn == n && (n == 0 || !memcmp(pf->chains[i].tfn, tfn, n * sizeof(int))))
			return (int)i;
	void *p = realloc(pf->chains, (pf->nchains + 1) * sizeof(*pf->chains));
	if (!p)
		return -1;
	pf->chains = p;
	struct pchain *c = &pf->chains[pf->nchains];
	memset(c, 0, sizeof(*c));
	if (n)
		memcpy(c->tfn, tfn, n * sizeof(int));
	c->ntfn = n;
	return (int)pf->nchains++;
}

static void parse_byte_range(struct plink *l, const char *p)
{
	memset(l->byte_ok, 0, sizeof(l->byte_ok));
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		char *e;
		long a = strtol(p, &e, 10), b = a;
		if (e == p)
			break;
		p = e;
		if (*p == '-') {
			b = strtol(p + 1, &e, 10);
			p = e;
		}
		for (long i = a; i <= b && i < 256; i++)
			if (i >= 0)
				l->byte_ok[i] = 1;
	}
}

/* Can the values a setvar of link e assigns be computed from e's match:
 * e is a capturing, positive @rx and the value uses only %{tx.N} and
 * static TX macros? */
static bool derivable(struct waf_pf *pf, const struct sl_link *e, const struct sl_setvar *sv)
{
	if (sv->mode == '!')
		return true;
	if (sv->mode != '=' || !sv->value || !e->capture || e->op != SL_OP_RX || e->neg)
		return false;
	for (const char *s = sv->value; (s = strstr(s, "%{")); s += 2) {
		const char *e2 = strchr(s, '}');
		if (!e2)
			return false;
		if (!strncasecmp(s + 2, "tx.", 3) && isdigit((unsigned char)s[5]) && s + 6 == e2)
			continue;
		char m[128];
		size_t ml = (size_t)(e2 - s + 1);
		if (ml >= sizeof(m))
			return false;
		memcpy(m, s, ml);
		m[ml] = '\0';
		bool dyn = false;
		char *x = pf_expand(&pf->tx, m, &dyn);
		free(x);
		if (!x)
			return false;
	}
	return true;
}

static int add_static(struct plink *l, const char *v)
{
	void *p = realloc(l->static_vals, (l->nstatic + 1) * sizeof(char *));

	if (!p)
		return -1;
	l->static_vals = p;
	l->static_vals[l->nstatic] = strdup(v);
	return l->static_vals[l->nstatic++] ? 0 : -1;
}

static int add_derived(struct plink *l, struct derived d)
{
	void *p = realloc(l->der, (l->nder + 1) * sizeof(*l->der));

	if (!p)
		return -1;
	l->der = p;
	l->der[l->nder++] = d;
	return 0;
}

/* Sets up link k of rule r; returns -1 on out of memory. */
static int plan_link(struct waf_pf *pf, struct prule *r, size_t k, pcre2_match_data *md)
{
	struct plink *l = &r->links[k];
	const struct sl_link *sl = &r->sl->links[k];
	bool dyn = false;

	l->sl = sl;
	l->mode = LM_NATIVE;
	l->param = pf_expand(&pf->tx, sl->param, &dyn);
	if (!l->param) {
		if (!dyn)
			return -1;
		l->mode = LM_ALWAYS;
		return 0;
	}
	for (size_t i = 0; i < sl->nvars; i++) {
		const struct sl_var *v = &sl->vars[i];
		if (v->exclude) {
			/* an exclusion the scan cannot apply exactly is left out:
			 * reading more fields only widens "might" */
			if (v->kind != PF_V_COLL || !v->sel || v->count)
				continue;
			int ri = -1;
			if (v->sel_regex && (ri = name_re_add(pf, v->sel)) < 0) {
				if (ri == -2)
					return -1;
				continue;
			}
			void *p = realloc(l->excl, (l->nexcl + 1) * sizeof(*l->excl));
			void *q = p ? realloc(l->excl_ri, (l->nexcl + 1) * sizeof(*l->excl_ri)) : NULL;
			if (p)
				l->excl = p;
			if (!q)
				return -1;
			l->excl_ri = q;
			l->excl[l->nexcl] = v;
			l->excl_ri[l->nexcl++] = ri;
			continue;
		}
		switch (v->kind) {
		case PF_V_COLL:
			if (v->count)
				l->has_count = true;
			if (v->sel || v->count) {
				int ri = -1;
				if (v->sel && v->sel_regex && (ri = name_re_add(pf, v->sel)) == -2)
					return -1;
				void *p = realloc(l->selvars, (l->nselvars + 1) * sizeof(*l->selvars));
				if (p)
					l->selvars = p;
				void *q = p ? realloc(l->sel_ri, (l->nselvars + 1) * sizeof(*l->sel_ri)) : NULL;
				if (!q)
					return -1;
				l->sel_ri = q;
				l->sel_ri[l->nselvars] = ri < 0 ? -1 : ri;
				l->selvars[l->nselvars++] = v;
			} else {
				l->coll_mask |= v->coll_mask;
			}
			break;
		case PF_V_EMPTY:
			if (v->count) {
				/* a count of an empty collection: the value "0" */
				void *p = realloc(l->static_vals, (l->nstatic + 1) * sizeof(char *));
				if (!p)
					return -1;
				l->static_vals = p;
				l->static_vals[l->nstatic] = strdup("0");
				if (!l->static_vals[l->nstatic++])
					return -1;
			}
			break;
		case PF_V_TX: {
			size_t cur = pf->nrules - 1;
			if (v->count || !v->sel) {
				l->mode = LM_ALWAYS;
				return 0;
			}
			if (isdigit((unsigned char)v->sel[0]) && !v->sel[1]) {
				/* TX:N: the capture of the nearest earlier @rx link with capture */
				bool found = false;
				for (size_t j = k; j-- > 0;) {
					const struct sl_link *e = &r->sl->links[j];
					if (e->capture && e->op == SL_OP_RX && !e->neg) {
						struct derived d = { .rule = cur, .link = j,
								     .group = v->sel[0] - '0' };
						if (add_derived(l, d) < 0)
							return -1;
						found = true;
						break;
					}
				}
				if (!found) {
					l->mode = LM_ALWAYS;
					return 0;
				}
				break;
			}
			/* what TX held before any run-time setter */
			for (size_t j = 0; j < pf->tx.n; j++) {
				const struct tx_var *t = &pf->tx.v[j];
				if (!t->value || strstr(t->name, "%{"))
					continue;
				bool m;
				if (v->sel_regex) {
					pcre2_code *re = re_compile(v->sel, true);
					m = !re || re_match(re, (const uint8_t *)t->name, strlen(t->name), md);
					pcre2_code_free(re);
				} else {
					m = !strcmp(t->name, v->sel);
				}
				if (m && add_static(l, t->value) < 0)
					return -1;
			}
			/* run-time setters: this rule's earlier links, then earlier rules */
			for (size_t j = 0; j < k; j++) {
				const struct sl_link *e = &r->sl->links[j];
				for (size_t q = 0; q < e->nsetvars; q++) {
					const struct sl_setvar *sv = &e->setvars[q];
					if (!sv->name || !setter_name_matches(sv->name, v, md))
						continue;
					if (!derivable(pf, e, sv)) {
						l->mode = LM_ALWAYS;
						return 0;
					}
					if (sv->mode == '!')
						continue;
					struct derived d = { .rule = cur, .link = j, .group = -1,
							     .tmpl = strdup(sv->value) };
					if (!d.tmpl || add_derived(l, d) < 0)
						return -1;
				}
			}
			for (size_t j = 0; j < pf->ndyn; j++) {
				const struct dyn_src *ds = &pf->dyn[j];
				if (!setter_name_matches(ds->name, v, md))
					continue;
				if (!ds->derivable) {
					l->mode = LM_ALWAYS;
					return 0;
				}
				if (ds->sv->mode == '!')
					continue;
				struct derived d = { .rule = ds->rule, .link = ds->link, .group = -1,
						     .tmpl = strdup(ds->sv->value) };
				if (!d.tmpl || add_derived(l, d) < 0)
					return -1;
			}
			break;
		}
		case PF_V_MATCHED:
			if (k == 0 || v->count) {
				l->mode = LM_ALWAYS;
				return 0;
			} else {
				struct derived d = { .rule = pf->nrules - 1, .link = k - 1,
						     .group = -1, .matched = true };
				if (add_derived(l, d) < 0)
					return -1;
			}
			break;
		default:
			l->mode = LM_ALWAYS;
			return 0;
		}
	}
	/* transformation chains (multiMatch: every prefix, the raw value too) */
	size_t first = sl->multimatch ? 0 : sl->ntfn;
	for (size_t n = first; n <= sl->ntfn; n++) {
		int c = chain_id(pf, sl->tfn, n);
		if (c < 0) {
			l->mode = LM_ALWAYS;
			return 0;
		}
		void *p = realloc(l->chains, (l->nchains + 1) * sizeof(int));
		if (!p)
			return -1;
		l->chains = p;
		l->chains[l->nchains++] = c;
	}
	if (sl->op == SL_OP_VALIDATEBYTERANGE)
		parse_byte_range(l, l->param);
	if (sl->op == SL_OP_RX) {
		/* exact regex for negation, captures and fallbacks */
		l->re = re_compile(l->param, false);
		if (!l->re) {
			l->mode = LM_ALWAYS;
			return 0;
		}
	}
	bool pattern = !sl->neg && l->nstatic == 0 && l->nder == 0 && !l->has_count &&
		       (sl->op == SL_OP_RX || sl->op == SL_OP_PM || sl->op == SL_OP_PMF ||
			((sl->op == SL_OP_CONTAINS || sl->op == SL_OP_CONTAINSWORD ||
			  sl->op == SL_OP_BEGINSWITH || sl->op == SL_OP_ENDSWITH ||
			  sl->op == SL_OP_STREQ) && l->param[0]));
	if (pattern && sl->op == SL_OP_RX) {
		/* a regex that matches the empty string may match anywhere:
		 * leave it to PCRE2 */
		if (re_match(l->re, (const uint8_t *)"", 0, md))
			pattern = false;
	}
	if (pattern)
		l->mode = LM_HS;
	return 0;
}

/* Appends a pattern for link gi to chain c's pattern list. */
struct patlist {
	char **exprs;
	unsigned *flags, *ids;
	size_t n, cap;
};

static int pat_add(struct patlist *pl, char *expr, unsigned flags, unsigned id)
{
	if (!expr)
		return -1;
	if (pl->n == pl->cap) {
		size_t nc = pl->cap ? 2 * pl->cap : 64;
		void *a = realloc(pl->exprs, nc * sizeof(char *));
		if (!a)
			return -1;
		pl->exprs = a;
		void *b = realloc(pl->flags, nc * sizeof(unsigned));
		if (!b)
			return -1;
		pl->flags = b;
		void *c = realloc(pl->ids, nc * sizeof(unsigned));
		if (!c)
			return -1;
		pl->ids = c;
		pl->cap = nc;
	}
	pl->exprs[pl->n] = expr;
	pl->flags[pl->n] = flags;
	pl->ids[pl->n] = id;
	pl->n++;
	return 0;
}

static char *lit_regex(const char *s, size_t n)
{
	char *o = malloc(4 * n + 1);

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		sprintf(o + 4 * i, "\\x%02x", (unsigned char)s[i]);
	o[4 * n] = '\0';
	return o;
}

static void patlist_free(struct patlist *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->exprs[i]);
	free(pl->exprs);
	free(pl->flags);
	free(pl->ids);
	memset(pl, 0, sizeof(*pl));
}

/* Compiles chain c's patterns; a pattern Vectorscan rejects turns its link
 * into a native (PCRE2) fallback and the rest is compiled again. */
static int compile_chain(struct waf_pf *pf, struct pchain *c, struct patlist *pl)
{
	for (;;) {
		if (pl->n == 0)
			return 0;
		hs_database_t *db = NULL;
		int bad = -1;
		bool cached = false;
		hs_error_t e = pf_hs_compile((const char *const *)pl->exprs, pl->flags, pl->ids,
					     (unsigned)pl->n, HS_MODE_BLOCK, &db, &bad, &cached);
		pf->ncompiled += !cached;
		pf->ncached += cached;
		if (e == HS_SUCCESS) {
			c->db = db;
			size_t sz = 0;
			if (hs_database_size(db, &sz) == HS_SUCCESS)
				pf->hs_bytes += sz;
			pf->npatterns += pl->n;
			return 0;
		}
		if (bad < 0 || (size_t)bad >= pl->n)
			return -1;
		unsigned gi = pl->ids[bad];
		struct plink *l = pf->links[gi];
		if (l->mode == LM_HS) {
			l->mode = l->re || l->sl->op != SL_OP_RX ? LM_NATIVE : LM_ALWAYS;
			pf->nfallbacks++;
		}
		/* drop every pattern of that link */
		size_t o = 0;
		for (size_t i = 0; i < pl->n; i++) {
			if (pl->ids[i] == gi) {
				free(pl->exprs[i]);
				continue;
			}
			pl->exprs[o] = pl->exprs[i];
			pl->flags[o] = pl->flags[i];
			pl->ids[o] = pl->ids[i];
			o++;
		}
		pl->n = o;
	}
}

/* The patterns of chain ci's Vectorscan links (only those reading a
 * collection of only_mask, when not 0) into pl.  -1: out of memory. */
static int chain_patterns(struct waf_pf *pf, size_t ci, uint32_t only_mask, struct patlist *pl)
{
	for (size_t gi = 0; gi < pf->nlinks; gi++) {
		struct plink *l = pf->links[gi];
		bool uses = false;
		for (size_t j = 0; j < l->nchains; j++)
			uses |= l->chains[j] == (int)ci;
		if (!uses || l->mode != LM_HS)
			continue;
		if (only_mask && !(l->read_mask & only_mask))
			continue;
		const struct sl_link *sl = l->sl;
		unsigned id = (unsigned)gi;
		int rc = 0;
		if (sl->op == SL_OP_RX) {
			rc = pat_add(pl, strdup(l->param), HS_FLAG_DOTALL | HS_FLAG_MULTILINE |
				     HS_FLAG_PREFILTER | (l->re ? HS_FLAG_SINGLEMATCH : 0), id);
		} else if (sl->op == SL_OP_PM || sl->op == SL_OP_PMF) {
			for (size_t k = 0; k < sl->npm && rc == 0; k++)
				rc = pat_add(pl, lit_regex(sl->pm[k], strlen(sl->pm[k])),
					     HS_FLAG_CASELESS, id);
		} else {
			rc = pat_add(pl, lit_regex(l->param, strlen(l->param)), HS_FLAG_CASELESS, id);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int build_db(struct waf_pf *pf)
{
	for (size_t gi = 0; gi < pf->nlinks; gi++) {
		struct plink *l = pf->links[gi];
		l->read_mask = l->coll_mask;
		for (size_t j = 0; j < l->nselvars; j++)
			if (!l->selvars[j]->count)
				l->read_mask |= l->selvars[j]->coll_mask;
	}
	for (size_t gi = 0; gi < pf->nlinks; gi++) {
		struct plink *l = pf->links[gi];
		const struct sl_link *sl = l->sl;
		if (l->mode != LM_HS)
			continue;
		/* The scan joins a chain's fields with '\n' (pf_scan.c):
		 * a regex is one candidate per scan (SINGLEMATCH), then
		 * confirmed with PCRE2 on each field its link reads;
		 * literals report every end offset, which names the
		 * field.  Both need the regex to match inside a field
		 * of the joined text whenever it matches the field
		 * alone: true with multi-line ^ and $ (HS_FLAG_MULTILINE
		 * and the '\n' between fields), not with \A, \z, \Z
		 * or \G, which only see the ends of the whole text:
		 * such a link is evaluated natively (PCRE2 per field). */
		if (sl->op == SL_OP_RX &&
		    (strstr(l->param, "\\A") || strstr(l->param, "\\z") ||
		     strstr(l->param, "\\Z") || strstr(l->param, "\\G")))
			l->mode = l->re ? LM_NATIVE : LM_ALWAYS;
	}
	for (size_t ci = 0; ci < pf->nchains; ci++) {
		struct pchain *c = &pf->chains[ci];
		struct patlist pl = { 0 };
		int rc = chain_patterns(pf, ci, 0, &pl);
		if (rc == 0)
			rc = compile_chain(pf, c, &pl);
		patlist_free(&pl);
		if (rc < 0)
			return -1;
	}
	/* REQUEST_BODY is long and read by few links of a chain (at PL1, 1
	 * to 4 of 3 to 35): the body is scanned with a database of those
	 * links' patterns alone, the same patterns under the same ids, so
	 * it gives the same candidates on it for a fraction of the cost.
	 * Not built (the body scanned with the chain's database) when it
	 * would hold every pattern or does not compile. */
	for (size_t ci = 0; ci < pf->nchains; ci++) {
		struct pchain *c = &pf->chains[ci];
		struct patlist pl = { 0 }, all = { 0 };
		if (!c->db)
			continue;
		int rc = chain_patterns(pf, ci, 1u << PF_C_BODY, &pl);
		if (rc == 0)
			rc = chain_patterns(pf, ci, 0, &all);
		if (rc == 0 && pl.n && pl.n < all.n) {
			hs_database_t *db = NULL;
			int bad = -1;
			bool cached = false;
			if (pf_hs_compile((const char *const *)pl.exprs, pl.flags, pl.ids,
					  (unsigned)pl.n, HS_MODE_BLOCK, &db, &bad,
					  &cached) == HS_SUCCESS) {
				c->bdb = db;
				size_t sz = 0;
				if (hs_database_size(db, &sz) == HS_SUCCESS)
					pf->hs_bytes += sz;
			}
			pf->ncompiled += !cached;
			pf->ncached += cached;
		}
		patlist_free(&pl);
		patlist_free(&all);
		if (rc < 0)
			return -1;
	}
	/* each chain's longest prefix among the others: the scan transforms
	 * a field once per distinct prefix (pf_scan.c's chain_out) */
	for (size_t ci = 0; ci < pf->nchains; ci++) {
		struct pchain *c = &pf->chains[ci];
		c->parent = -1;
		for (size_t pi = 0; pi < pf->nchains; pi++) {
			const struct pchain *p = &pf->chains[pi];
			if (p->ntfn == 0 || p->ntfn >= c->ntfn || (c->parent >= 0 &&
						   p->ntfn <= pf->chains[c->parent].ntfn))
				continue;
			if (!memcmp(p->tfn, c->tfn, p->ntfn * sizeof(int)))
				c->parent = (int)pi;
		}
	}
	/* which links each chain serves, and which collections */
	for (size_t gi = 0; gi < pf->nlinks; gi++) {
		struct plink *l = pf->links[gi];
		if (l->mode != LM_HS)
			continue;
		uint32_t m = l->coll_mask;
		for (size_t j = 0; j < l->nselvars; j++)
			m |= l->selvars[j]->coll_mask;
		for (size_t j = 0; j < l->nchains; j++) {
			struct pchain *c = &pf->chains[l->chains[j]];
			void *p = realloc(c->links, (c->nlinks + 1) * sizeof(size_t));
			if (!p)
				return -1;
			c->links = p;
			c->links[c->nlinks++] = gi;
			c->mask |= m;
		}
	}
	return 0;
}

static int add_rule_links(struct waf_pf *pf, const struct sl_rule *r, pcre2_match_data *md)
{
	void *p = realloc(pf->rules, (pf->nrules + 1) * sizeof(*pf->rules));

	if (!p)
		return -1;
	pf->rules = p;
	struct prule *pr = &pf->rules[pf->nrules];
	pr->sl = r;
	pr->silent = false;
	pr->nlinks = r->nlinks;
	pr->links = calloc(r->nlinks, sizeof(*pr->links));
	if (!pr->links)
		return -1;
	pf->nrules++;
	for (size_t k = 0; k < r->nlinks; k++) {
		if (plan_link(pf, pr, k, md) < 0)
			return -1;
		p = realloc(pf->links, (pf->nlinks + 1) * sizeof(*pf->links));
		if (!p)
			return -1;
		pf->links = p;
		p = realloc(pf->link_rule, (pf->nlinks + 1) * sizeof(*pf->link_rule));
		if (!p)
			return -1;
		pf->link_rule = p;
		pf->links[pf->nlinks] = &pr->links[k];
		pf->link_rule[pf->nlinks] = pf->nrules - 1;
		pf->nlinks++;
	}
	return 0;
}

static int add_dyn(struct waf_pf *pf, const struct sl_setvar *sv, size_t rule, size_t link,
		   bool der)
{
	if (!sv->name)
		return 0;
	void *p = realloc(pf->dyn, (pf->ndyn + 1) * sizeof(*pf->dyn));
	if (!p)
		return -1;
	pf->dyn = p;
	pf->dyn[pf->ndyn++] = (struct dyn_src){ .name = sv->name, .rule = rule, .link = link,
						.sv = sv, .derivable = der };
	return 0;
}

/* The static run over one phase. */
static int run_phase(struct waf_pf *pf, int phase, pcre2_match_data *md)
{
	const struct sl_ruleset *rs = &pf->rs;
	const char *skip_to = NULL;
	/* After a skip that depends on the request, the rules up to its
	 * target may or may not run: their static assignments become
	 * "dynamic" (a detection rule there is kept, which only widens). */
	const char *maybe_to[64];
	size_t nmaybe = 0;
	int maybe_n = 0, skip_n = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct sl_rule *r = &rs->rules[i];
		if (r->is_marker) {
			if (skip_to && !strcmp(skip_to, r->marker))
				skip_to = NULL;
			for (size_t m = 0; m < nmaybe; m++)
				if (!strcmp(maybe_to[m], r->marker))
					maybe_to[m--] = maybe_to[--nmaybe];
			continue;
		}
		if (r->phase != phase || skip_to)
			continue;
		if (skip_n > 0) {
			skip_n--;
			continue;
		}
		bool maybe_skipped = nmaybe > 0 || maybe_n > 0;
		if (maybe_n > 0)
			maybe_n--;
		/* all links static? */
		int st = 1;
		for (size_t k = 0; k < r->nlinks && st != 0; k++) {
			int s = static_link(pf, r, k, md);
			if (s == 0)
				st = 0;
			else if (s < 0)
				st = -1;
		}
		bool det = pf_is_detection(pf, r);
		if (st == 0)
			continue;	/* can never match */
		/* A rule that switches the body processor: to JSON, which the
		 * scanner parses, or to another one (XML), which makes the
		 * request "might" whenever the rule may fire for it. */
		if (r->ctl_json || r->ctl_other) {
			void *p = realloc(pf->json_ctl, (pf->njson_ctl + 1) * sizeof(void *));
			if (!p)
				return -1;
			pf->json_ctl = p;
			p = realloc(pf->ctl_is_json, (pf->njson_ctl + 1) * sizeof(bool));
			if (!p)
				return -1;
			pf->ctl_is_json = p;
			pf->ctl_is_json[pf->njson_ctl] = r->ctl_json && !r->ctl_other;
			p = realloc(pf->json_re, (pf->njson_ctl + 1) * sizeof(void *));
			if (!p)
				return -1;
			pf->json_re = p;
			pcre2_code **re = calloc(r->nlinks, sizeof(*re));
			if (!re)
				return -1;
			for (size_t k = 0; k < r->nlinks; k++)
				if (r->links[k].op == SL_OP_RX && !r->links[k].neg)
					re[k] = re_compile(r->links[k].param, false);
			pf->json_ctl[pf->njson_ctl] = r;
			pf->json_re[pf->njson_ctl++] = re;
		}
		if (!det) {
			bool dyn = st < 0 || maybe_skipped;
			/* A request-dependent rule whose assignment can be
			 * computed from its own match (922150: a capture of a
			 * multipart part header into TX): planned as a silent
			 * rule, so that a later link reading that variable
			 * gets its candidate values from it instead of
			 * "always". */
			bool plan = false;
			for (size_t k = 0; st < 0 && k < r->nlinks; k++)
				for (size_t j = 0; j < r->links[k].nsetvars; j++)
					plan |= r->links[k].setvars[j].name &&
						derivable(pf, &r->links[k], &r->links[k].setvars[j]) &&
						r->links[k].setvars[j].mode == '=';
			if (plan) {
				if (add_rule_links(pf, r, md) < 0)
					return -1;
				pf->rules[pf->nrules - 1].silent = true;
			}
			for (size_t k = 0; k < r->nlinks; k++)
				for (size_t j = 0; j < r->links[k].nsetvars; j++) {
					const struct sl_setvar *sv = &r->links[k].setvars[j];
					if (dyn && add_dyn(pf, sv, plan ? pf->nrules - 1 : 0, plan ? k : 0,
							   plan && derivable(pf, &r->links[k], sv)) < 0)
						return -1;
					setvar_apply(pf, sv, dyn);
				}
			if (r->skip_after) {
				if (!dyn) {
					skip_to = r->skip_after;
				} else if (nmaybe < sizeof(maybe_to) / sizeof(maybe_to[0])) {
					maybe_to[nmaybe++] = r->skip_after;
				} else {
					pf->always = true;
				}
			}
			if (r->skip > 0) {
				if (!dyn)
					skip_n = r->skip;
				else if (r->skip > maybe_n)
					maybe_n = r->skip;
			}
			continue;
		}
		if (st == 1) {
			if (getenv("GH_WAF_PF_DEBUG"))
				fprintf(stderr, "waf_pf: rule %ld always matches\n", r->id);
			pf->always = true;
			continue;
		}
		if (add_rule_links(pf, r, md) < 0)
			return -1;
		/* a detection chain's earlier links set variables without the
		 * rule firing */
		for (size_t k = 0; k + 1 < r->nlinks; k++)
			for (size_t j = 0; j < r->links[k].nsetvars; j++) {
				const struct sl_setvar *sv = &r->links[k].setvars[j];
				if (add_dyn(pf, sv, pf->nrules - 1, k,
					    derivable(pf, &r->links[k], sv)) < 0)
					return -1;
				setvar_apply(pf, sv, true);
			}
	}
	return 0;
}

struct waf_pf *waf_pf_build(const char *const *files, size_t nfiles, int paranoia,
			    char *err, size_t errlen)
{
	struct waf_pf_src *src = calloc(nfiles ? nfiles : 1, sizeof(*src));

	if (!src) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < nfiles; i++)
		src[i].path = files[i];
	struct waf_pf *pf = waf_pf_build_src(src, nfiles, paranoia, err, errlen);
	free(src);
	return pf;
}

struct waf_pf *waf_pf_build_src(const struct waf_pf_src *src, size_t nsrc, int paranoia,
				char *err, size_t errlen)
{
	struct waf_pf *pf = calloc(1, sizeof(*pf));
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	char buf[16];

	if (errlen)
		err[0] = '\0';
	if (!pf || !md)
		goto oom;
	pf->magic = PF_MAGIC;
	for (size_t i = 0; i < nsrc; i++)
		if ((src[i].text ? sl_load_text(&pf->rs, src[i].name, src[i].text, err, errlen) :
				   sl_load(&pf->rs, src[i].path, err, errlen)) < 0)
			goto fail;
	/* the paranoia level as a deployment's prologue sets it
	 * (SecAction "setvar:tx.paranoia_level=N"); the files may override */
	snprintf(buf, sizeof(buf), "%d", paranoia);
	struct tx_var *t = tx_get(&pf->tx, "paranoia_level");
	if (!t || !(t->value = strdup(buf)))
		goto oom;
	if (!pf_hs_scan_select())	/* pf_scan.c: the Vectorscan that misses matches */
		pf->always = true;
	if (pf->rs.unsupported[0]) {
		/* rules changed after they were read: claim nothing */
		if (getenv("GH_WAF_PF_DEBUG"))
			fprintf(stderr, "waf_pf: %s is not followed: every request might match\n",
				pf->rs.unsupported);
		pf->always = true;
	}
	if (run_phase(pf, 1, md) < 0 || run_phase(pf, 2, md) < 0)
		goto oom;
	if (build_db(pf) < 0) {
		snprintf(err, errlen, "Vectorscan: cannot build the database");
		goto fail;
	}
	for (size_t i = 0; i < pf->nlinks; i++)
		if (pf->links[i]->mode == LM_ALWAYS)
			pf->nfallbacks++;
	if (pf_pass_build(pf) < 0)
		goto oom;
	if (getenv("GH_WAF_PF_DEBUG")) {
		size_t modes[4] = { 0 };
		for (size_t i = 0; i < pf->nlinks; i++)
			modes[pf->links[i]->mode]++;
		fprintf(stderr, "waf_pf: %zu rules, %zu links (%zu scanned, %zu native, %zu always), "
			"%zu chains\n", pf->nrules, pf->nlinks, modes[LM_HS], modes[LM_NATIVE],
			modes[LM_ALWAYS], pf->nchains);
		for (size_t ci = 0; ci < pf->nchains; ci++) {
			const struct pchain *c = &pf->chains[ci];
			fprintf(stderr, "waf_pf: chain %zu:", ci);
			for (size_t k = 0; k < c->ntfn; k++)
				fprintf(stderr, " %d", c->tfn[k]);
			fprintf(stderr, " (%zu scanned links, collections %#x, parent %d)\n",
				c->nlinks, c->mask, c->parent);
		}
		for (size_t i = 0; i < pf->nlinks; i++)
			if (pf->links[i]->mode == LM_ALWAYS)
				fprintf(stderr, "waf_pf: rule %ld link %s %s%s: always\n",
					pf->rules[pf->link_rule[i]].sl->id, pf->links[i]->sl->vars[0].name,
					pf->links[i]->sl->neg ? "!" : "", pf->links[i]->sl->op_name);
	}
	pcre2_match_data_free(md);
	return pf;
oom:
	if (errlen && !err[0])
		snprintf(err, errlen, "out of memory");
fail:
	pcre2_match_data_free(md);
	waf_pf_free(pf);
	return NULL;
}

void waf_pf_free(struct waf_pf *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nrules; i++) {
		struct prule *r = &pf->rules[i];
		for (size_t k = 0; k < r->nlinks; k++) {
			struct plink *l = &r->links[k];
			free(l->param);
			pcre2_code_free(l->re);
			free(l->selvars);
			free(l->sel_ri);
			free(l->excl);
			free(l->excl_ri);
			for (size_t j = 0; j < l->nstatic; j++)
				free(l->static_vals[j]);
			free(l->static_vals);
			for (size_t j = 0; j < l->nder; j++)
				free(l->der[j].tmpl);
			free(l->der);
			free(l->chains);
		}
		free(r->links);
	}
	pf_pass_free(pf);
	free(pf->rules);
	free(pf->links);
	free(pf->link_rule);
	for (size_t i = 0; i < pf->nchains; i++) {
		hs_free_database(pf->chains[i].db);
		hs_free_database(pf->chains[i].bdb);
		free(pf->chains[i].links);
	}
	free(pf->chains);
	for (size_t i = 0; i < pf->njson_ctl; i++) {
		for (size_t k = 0; k < pf->json_ctl[i]->nlinks; k++)
			pcre2_code_free(pf->json_re[i][k]);
		free(pf->json_re[i]);
	}
	free(pf->json_re);
	for (size_t i = 0; i < pf->nnre; i++) {
		pcre2_code_free(pf->nre[i]);
		free(pf->nre_pat[i]);
	}
	free(pf->nre);
	free(pf->nre_pat);
	free(pf->json_ctl);
	free(pf->ctl_is_json);
	free(pf->dyn);
	tx_free(&pf->tx);
	sl_free(&pf->rs);
	pf->magic = 0;
	free(pf);
}

size_t waf_pf_patterns(const struct waf_pf *pf)
{
	return pf->npatterns;
}

size_t waf_pf_fallbacks(const struct waf_pf *pf)
{
	return pf->nfallbacks;
}

size_t waf_pf_compiles(const struct waf_pf *pf, size_t *cached)
{
	if (cached)
		*cached = pf->ncached;
	return pf->ncompiled;
}

size_t waf_pf_db_bytes(const struct waf_pf *pf)
{
	return pf->hs_bytes;
}

