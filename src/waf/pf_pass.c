/*
 * pf_pass.c - the pre-filter's second answer, "decided: pass": some rules
 * might match the request, but ModSecurity provably cannot intervene.
 *
 * The CRS's scoring rules (920220, URL encoding abuse, among them) only
 * add to an anomaly score; 949060.. sum the per-level scores and 949110
 * denies when the sum reaches tx.inbound_anomaly_score_threshold.  When
 * every rule that might match a request is such a rule and the most they
 * can add together stays below every threshold that reads the score, the
 * request is not blocked, whatever ModSecurity finds (it would log the
 * match: mode detect must still ask it, flt_waf.c).
 *
 * Build (pf_pass_build), conservative: anything it does not recognise
 * turns the answer off for a rule or for the whole rule set.
 *  1. A decidable rule (of pf->rules, phase 1 or 2): actions only id,
 *     phase, t, setvar, chain, (no)log, (no)auditlog, pass, block (with
 *     the phase's SecDefaultAction given, with `pass` and nothing
 *     disruptive) and informational ones; no
 *     capture, no multiMatch; each link reads only single-valued request
 *     variables (REQUEST_URI, QUERY_STRING, ...), so a setvar runs at most
 *     once per variable of its link; setvars only "tx.NAME=+N" with N a
 *     static number >= 0.  Its most: N times the link's variables.
 *  2. The score variables: those names, then every TX variable a rule of
 *     phase 1 or 2 sets from one of them ("tx.T=+%{tx.S}" or "=" it).
 *  3. Every rule of phase 1 or 2 that reads a score variable (a TX:
 *     variable, a /regex/ selector matching one, a whole TX, a %{tx.}
 *     macro in its operator) must be a threshold: one link, TX:S @ge or
 *     @gt a static number, no transformation, not negated; it cannot match
 *     while S stays at most max.  A setvar reading one must be one of 2.;
 *     one with a dynamic name that could be a score variable, or a
 *     dynamic value into one, turns the answer off.  Phases 3-5 are not
 *     run for a request without inspect_response (the pre-filter is off
 *     then).
 *  4. base: what rules that are not detections (pf_is_detection) can put
 *     into a score variable statically ("=0" resets, "+0" sums),
 *     counted as additions whatever their order or conditions.
 * Scan: the might rules' additions, propagated along the sums (all
 * additions, non-negative: an upper bound of any order of execution), are
 * compared with every threshold.
 */
#include "waf/pf_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PASS_CAP ((uint64_t)1 << 40)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b > PASS_CAP ? PASS_CAP : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t k)
{
	if (k && a > PASS_CAP / k)
		return PASS_CAP;
	return a * k > PASS_CAP ? PASS_CAP : a * k;
}

/* A non-negative decimal number, whole: true with *v. */
static bool num(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || n > PASS_CAP)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

static long var_find(const struct pf_pass *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nvars; i++)
		if (strlen(p->vars[i]) == len && !strncasecmp(p->vars[i], name, len))
			return (long)i;
	return -1;
}

static long var_add(struct pf_pass *p, const char *name, size_t len)
{
	long i = var_find(p, name, len);
	if (i >= 0)
		return i;
	void *np = realloc(p->vars, (p->nvars + 1) * sizeof(*p->vars));
	if (!np)
		return -2;
	p->vars = np;
	char *d = malloc(len + 1);
	if (!d)
		return -2;
	for (size_t k = 0; k < len; k++)
		d[k] = (char)tolower((unsigned char)name[k]);
	d[len] = '\0';
	p->vars[p->nvars] = d;
	return (long)p->nvars++;
}

/* Does s hold a %{tx.NAME} macro with NAME a score variable? */
static bool macro_reads(const struct pf_pass *p, const char *s)
{
	for (; s && (s = strstr(s, "%{")); s += 2) {
		const char *e = strchr(s, '}');
		if (!e)
			return p->nvars > 0;
		if (e - s > 5 && !strncasecmp(s + 2, "tx.", 3) &&
		    var_find(p, s + 5, (size_t)(e - s - 5)) >= 0)
			return true;
	}
	return false;
}

/* The score variable "%{tx.S}" is exactly, or -1. */
static long macro_only(const struct pf_pass *p, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 7 || strncmp(s, "%{", 2) || strncasecmp(s + 2, "tx.", 3) || s[n - 1] != '}' ||
	    memchr(s + 5, '}', n - 6))
		return -1;
	return var_find(p, s + 5, n - 6);
}

static bool re_names(const struct pf_pass *p, const char *re_src)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)re_src, PCRE2_ZERO_TERMINATED,
				       PCRE2_DOTALL | PCRE2_MULTILINE | PCRE2_CASELESS, &err, &off,
				       NULL);
	if (!re)
		return true;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	bool hit = !md;
	for (size_t i = 0; i < p->nvars && !hit; i++)
		hit = pcre2_match(re, (PCRE2_SPTR)p->vars[i], strlen(p->vars[i]), 0, 0, md, NULL) >= 0;
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return hit;
}

/* Does link l's condition read a score variable? */
static bool cond_reads(const struct pf_pass *p, const struct sl_link *l)
{
	for (size_t v = 0; v < l->nvars; v++) {
		const struct sl_var *sv = &l->vars[v];
		if (sv->kind != PF_V_TX || sv->exclude)
			continue;
		if (!sv->sel)
			return p->nvars > 0;
		if (sv->sel_regex ? re_names(p, sv->sel) : var_find(p, sv->sel, strlen(sv->sel)) >= 0)
			return true;
	}
	return macro_reads(p, l->param);
}

/* How many times a setvar of l can run in one evaluation: its variables,
 * when each is one value; 0 when unbounded. */
static uint64_t link_runs(const struct sl_link *l, bool tx_ok)
{
	const uint32_t single = 1u << PF_C_URI | 1u << PF_C_URI_RAW | 1u << PF_C_FILENAME |
				1u << PF_C_BASENAME | 1u << PF_C_LINE | 1u << PF_C_QS |
				1u << PF_C_METHOD | 1u << PF_C_PROTOCOL;
	uint64_t n = 0;

	if (l->op == SL_OP_UNCONDITIONAL && l->nvars == 0)
		return 1;
	if (l->multimatch || l->capture)
		return 0;
	for (size_t v = 0; v < l->nvars; v++) {
		const struct sl_var *sv = &l->vars[v];
		if (sv->exclude)
			continue;
		if (sv->count)
			return 0;
		if (sv->kind == PF_V_COLL && !sv->sel && sv->coll_mask &&
		    !(sv->coll_mask & (sv->coll_mask - 1)) && (sv->coll_mask & single))
			n++;
		else if (tx_ok && sv->kind == PF_V_TX && sv->sel && !sv->sel_regex)
			n++;
		else
			return 0;
	}
	return n;
}

/* Step 1: a decidable rule's additions into p->adds[ri]. 0 not decidable,
 * 1 decidable, -1 out of memory. */
static int rule_adds(struct waf_pf *pf, size_t ri)
{
	struct pf_pass *p = &pf->pass;
	const struct sl_rule *r = pf->rules[ri].sl;

	if (r->phase < 1 || r->phase > 2 || r->other_action || r->skip || r->skip_after ||
	    r->ctl_json || r->ctl_other)
		return 0;
	if (r->disruptive && (!r->block || pf->rs.default_nonpass[r->phase] ||
			      !pf->rs.default_pass[r->phase]))
		return 0;
	size_t n = 0;
	for (size_t k = 0; k < r->nlinks; k++) {
		const struct sl_link *l = &r->links[k];
		uint64_t runs = link_runs(l, false);
		if (!runs)
			return 0;
		for (size_t j = 0; j < l->nsetvars; j++) {
			const struct sl_setvar *sv = &l->setvars[j];
			bool dyn = false;
			uint64_t v;
			if (!sv->name || strchr(sv->name, '%') || sv->mode != '+' || !sv->value)
				return 0;
			char *e = pf_expand(&pf->tx, sv->value, &dyn);
			bool ok = e && !dyn && num(e, &v);
			free(e);
			if (!ok)
				return 0;
			long vi = var_add(p, sv->name, strlen(sv->name));
			if (vi < 0)
				return -1;
			void *np = realloc(p->adds[ri], (n + 1) * sizeof(**p->adds));
			if (!np)
				return -1;
			p->adds[ri] = np;
			p->adds[ri][n++] = (struct pf_pass_add){ (size_t)vi, sat_mul(v, runs) };
		}
	}
	p->nadds[ri] = n;
	if (!n) {   /* decidable, adds nothing: a non-NULL empty list */
		p->adds[ri] = malloc(sizeof(**p->adds));
		return p->adds[ri] ? 1 : -1;
	}
	return 1;
}

/* Steps 2-4 over every rule of phases 1-2.  pass 0 grows the variables;
 * pass 1 records edges, thresholds and bases.  false: not exact. */
static int walk(struct waf_pf *pf, int pass, bool *grew)
{
	struct pf_pass *p = &pf->pass;
	const struct sl_ruleset *rs = &pf->rs;

	for (size_t i = 0; i < rs->nrules; i++) {
		const struct sl_rule *r = &rs->rules[i];
		if (r->is_marker)
			continue;
		if (r->phase < 1 || r->phase > 5)
			return 0;   /* a phase this model does not know */
		if (r->phase > 2)
			continue;
		bool reads = false;
		for (size_t k = 0; k < r->nlinks && !reads; k++)
			reads = cond_reads(p, &r->links[k]);
		if (reads) {
			/* a threshold rule */
			const struct sl_link *l = &r->links[0];
			if (r->nlinks != 1 || l->neg || l->ntfn || l->nvars != 1 ||
			    (l->op != SL_OP_GE && l->op != SL_OP_GT))
				return 0;
			const struct sl_var *sv = &l->vars[0];
			if (sv->kind != PF_V_TX || !sv->sel || sv->sel_regex || sv->count ||
			    sv->exclude || macro_reads(p, l->param))
				return 0;
			long vi = var_find(p, sv->sel, strlen(sv->sel));
			bool dyn = false;
			uint64_t t;
			char *e = pf_expand(&pf->tx, l->param, &dyn);
			bool ok = vi >= 0 && e && !dyn && num(e, &t);
			free(e);
			if (!ok)
				return 0;
			if (pass == 1) {
				if (l->op == SL_OP_GE && t == 0)
					return 0;   /* matches at 0 already */
				void *np = realloc(p->lims, (p->nlims + 1) * sizeof(*p->lims));
				if (!np)
					return -1;
				p->lims = np;
				p->lims[p->nlims++] = (struct pf_pass_lim){
					(size_t)vi, l->op == SL_OP_GE ? t - 1 : t, r->id };
			}
			continue;   /* its setvars never run while it cannot match */
		}
		bool det = pf_is_detection(pf, r);
		for (size_t k = 0; k < r->nlinks; k++) {
			const struct sl_link *l = &r->links[k];
			for (size_t j = 0; j < l->nsetvars; j++) {
				const struct sl_setvar *sv = &l->setvars[j];
				if (!sv->name)
					continue;
				const char *pc = strchr(sv->name, '%');
				if (pc) {
					/* a dynamic name: could it be a score variable? */
					size_t pl = (size_t)(pc - sv->name);
					for (size_t v = 0; v < p->nvars; v++)
						if (!strncasecmp(p->vars[v], sv->name, pl))
							return 0;
					if (macro_reads(p, sv->value))
						return 0;
					continue;
				}
				long to = var_find(p, sv->name, strlen(sv->name));
				if (macro_reads(p, sv->value)) {
					long from = macro_only(p, sv->value);
					if (from < 0 || (sv->mode != '+' && sv->mode != '='))
						return 0;
					uint64_t runs = sv->mode == '=' ? 1 : link_runs(l, true);
					if (!runs)
						return 0;
					if (to < 0) {
						to = var_add(p, sv->name, strlen(sv->name));
						if (to < 0)
							return -1;
						*grew = true;
					}
					if (pass == 1) {
						void *np = realloc(p->edges, (p->nedges + 1) * sizeof(*p->edges));
						if (!np)
							return -1;
						p->edges = np;
						p->edges[p->nedges++] = (struct pf_pass_edge){
							(size_t)to, (size_t)from, runs };
					}
					continue;
				}
				if (to < 0 || det)
					continue;   /* detections add only when they might */
				/* a rule that is no detection sets a score variable
				 * statically: counted as an addition */
				if (sv->mode == '!' || sv->mode == '-')
					continue;   /* only lowers it */
				bool dyn = false;
				uint64_t v = 0;
				char *e = sv->value ? pf_expand(&pf->tx, sv->value, &dyn) : NULL;
				bool ok = sv->value && e && !dyn && num(e, &v);
				free(e);
				if (!ok)
					return 0;
				if (pass == 1) {
					uint64_t runs = sv->mode == '=' ? 1 : link_runs(l, true);
					if (!runs)
						return 0;
					p->base[to] = sat_add(p->base[to], sat_mul(v, runs));
				}
			}
		}
	}
	return 1;
}

/* Orders the edges so that every variable's incoming edges come after
 * those of the variables it is read from; false on a cycle. */
static bool order_edges(struct pf_pass *p)
{
	size_t n = p->nedges, done = 0;
	struct pf_pass_edge *o = malloc((n + 1) * sizeof(*o));
	bool *placed = calloc(p->nvars + 1, sizeof(bool));
	if (!o || !placed) {
		free(o);
		free(placed);
		return false;
	}
	for (size_t round = 0; round <= p->nvars && done < n; round++)
		for (size_t v = 0; v < p->nvars; v++) {
			if (placed[v])
				continue;
			bool ready = true;
			for (size_t e = 0; e < n && ready; e++)
				if (p->edges[e].to == v && !placed[p->edges[e].from])
					ready = false;
			if (!ready)
				continue;
			placed[v] = true;
			for (size_t e = 0; e < n; e++)
				if (p->edges[e].to == v)
					o[done++] = p->edges[e];
		}
	bool ok = done == n;
	if (ok)
		memcpy(p->edges, o, n * sizeof(*o));
	free(o);
	free(placed);
	return ok;
}

int pf_pass_build(struct waf_pf *pf)
{
	struct pf_pass *p = &pf->pass;

	if (pf->always || !pf->nrules)
		return 0;
	p->adds = calloc(pf->nrules, sizeof(*p->adds));
	p->nadds = calloc(pf->nrules, sizeof(*p->nadds));
	if (!p->adds || !p->nadds)
		return -1;
	size_t ndec = 0;
	for (size_t ri = 0; ri < pf->nrules; ri++) {
		if (pf->rules[ri].silent)
			continue;
		int rc = rule_adds(pf, ri);
		if (rc < 0)
			return -1;
		ndec += (size_t)rc;
	}
	if (!ndec)
		return 0;
	bool grew = true;
	for (int round = 0; grew && round < 32; round++) {
		grew = false;
		int rc = walk(pf, 0, &grew);
		if (rc <= 0)
			goto off;
	}
	if (grew)
		goto off;
	p->base = calloc(p->nvars + 1, sizeof(*p->base));
	if (!p->base)
		return -1;
	int rc = walk(pf, 1, &grew);
	if (rc < 0)
		return -1;
	if (rc == 0 || grew || !p->nlims || !order_edges(p))
		goto off;
	/* a score variable set at run time by a request-dependent rule
	 * that is not a detection (pf->tx dynamic): not bounded */
	for (size_t v = 0; v < p->nvars; v++)
		for (size_t t = 0; t < pf->tx.n; t++)
			if (pf->tx.v[t].dynamic && !strcasecmp(pf->tx.v[t].name, p->vars[v]))
				goto off;
	p->ok = true;
	if (getenv("GH_WAF_PF_DEBUG")) {
		fprintf(stderr, "waf_pf: decided pass possible for rules");
		for (size_t ri = 0; ri < pf->nrules; ri++)
			if (p->adds[ri])
				fprintf(stderr, " %ld", pf->rules[ri].sl->id);
		fprintf(stderr, "\nwaf_pf: score variables");
		for (size_t v = 0; v < p->nvars; v++)
			fprintf(stderr, " %s(base %llu)", p->vars[v], (unsigned long long)p->base[v]);
		fprintf(stderr, "\nwaf_pf: thresholds");
		for (size_t i = 0; i < p->nlims; i++)
			fprintf(stderr, " %ld:%s<=%llu", p->lims[i].id, p->vars[p->lims[i].var],
				(unsigned long long)p->lims[i].max);
		fprintf(stderr, "\n");
	}
	return 0;
off:
	if (getenv("GH_WAF_PF_DEBUG"))
		fprintf(stderr, "waf_pf: no decided pass for this rule set\n");
	p->ok = false;
	return 0;
}

void pf_pass_free(struct waf_pf *pf)
{
	struct pf_pass *p = &pf->pass;

	for (size_t i = 0; p->adds && i < pf->nrules; i++)
		free(p->adds[i]);
	free(p->adds);
	free(p->nadds);
	for (size_t i = 0; i < p->nvars; i++)
		free(p->vars[i]);
	free(p->vars);
	free(p->base);
	free(p->edges);
	free(p->lims);
	memset(p, 0, sizeof(*p));
}

bool pf_pass_holds(const struct waf_pf *pf, uint64_t *acc)
{
	const struct pf_pass *p = &pf->pass;

	for (size_t v = 0; v < p->nvars; v++)
		acc[v] = sat_add(acc[v], p->base[v]);
	for (size_t e = 0; e < p->nedges; e++)
		acc[p->edges[e].to] = sat_add(acc[p->edges[e].to],
					      sat_mul(acc[p->edges[e].from], p->edges[e].k));
	for (size_t i = 0; i < p->nlims; i++)
		if (acc[p->lims[i].var] > p->lims[i].max)
			return false;
	return true;
}
