/*
 * pf_plan.h - the pre-filter's compiled form, shared by the build
 * (prefilter.c) and the scan (pf_scan.c).  Internal.
 */
#ifndef GH_WAF_PF_PLAN_H
#define GH_WAF_PF_PLAN_H

#include "waf/pf_int.h"

#include <hs/hs.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define PF_MAGIC 0x57414650u	/* "WAFP" */

/* ---- TX model ------------------------------------------------------------ */

struct tx_var {
	char *name;
	char *value;
	bool dynamic;
};

struct tx_map {
	struct tx_var *v;
	size_t n, cap;
};

/* ---- compiled rules ------------------------------------------------------ */

enum link_mode {
	LM_HS,		/* verdict from the Vectorscan scan */
	LM_NATIVE,	/* evaluated per field value */
	LM_ALWAYS,	/* "might match" whenever the rule gets that far */
	LM_NEVER,	/* statically false */
};

/* Where a TX variable's candidate values come from at scan time. */
struct derived {
	size_t rule, link;	/* the link whose match sets it (pf->rules[rule]) */
	int group;		/* TX:N: capture group N of that link; -1: template */
	char *tmpl;		/* setvar value template (%{tx.N} from captures) */
	bool matched;		/* MATCHED_VAR(S): every value that link read */
};

/* A TX variable set at run time by a link that matched (a detection
 * chain's earlier link, or a request-dependent non-detection rule). */
struct dyn_src {
	const char *name;	/* name template, e.g. "header_name_%{tx.0}" */
	size_t rule, link;
	const struct sl_setvar *sv;
	bool derivable;		/* its values can be computed from that link */
};

struct plink {
	const struct sl_link *sl;
	enum link_mode mode;
	char *param;		/* operator argument, static macros expanded */
	pcre2_code *re;		/* exact regex when needed */
	uint32_t coll_mask;	/* collections read without selector */
	uint32_t read_mask;	/* every collection it may read a field of (build_db) */
	const struct sl_var **selvars;	/* collection vars with a selector */
	int *sel_ri;		/* per selvar: its /regex/ in pf->nre, or -1 (a name,
				 * or a regex that does not compile: every name) */
	size_t nselvars;
	bool has_count;
	char **static_vals;	/* values of static TX variables read */
	size_t nstatic;
	struct derived *der;	/* TX / MATCHED_VAR variables computed from earlier links */
	size_t nder;
	int *chains;		/* chain ids (several with multiMatch) */
	size_t nchains;
	const struct sl_var **excl;	/* !VAR:sel exclusions */
	int *excl_ri;		/* their /regex/ selectors in pf->nre (-1: a name) */
	size_t nexcl;
	uint8_t byte_ok[256];	/* @validateByteRange */
	bool exact;		/* native verdict is exact (negation allowed) */
};

struct prule {
	const struct sl_rule *sl;
	bool silent;		/* reports nothing: only a source of TX values */
	struct plink *links;
	size_t nlinks;
};

/* A distinct transformation chain and its database. */
struct pchain {
	int tfn[16];
	size_t ntfn;
	hs_database_t *db;	/* the patterns of the scanned links using it */
	hs_database_t *bdb;	/* those of its links reading REQUEST_BODY, for the
				 * body alone (NULL: the body is scanned with db) */
	uint32_t mask;		/* collections some HS link of this chain reads */
	size_t *links;		/* HS links using this chain (global indexes) */
	size_t nlinks;
	int parent;		/* the longest other chain that is a prefix of this
				 * one (its output is this chain's input), or -1 */
};

/* "Decided: pass" (pf_pass.c): the rules that may say "might" for a
 * request only add bounded amounts to score variables whose only readers
 * are sums and threshold rules that cannot reach their threshold, so
 * ModSecurity cannot intervene.  Built once; empty (ok false) when the
 * rule set does not allow the reasoning. */
struct pf_pass_add {
	size_t var;		/* index in vars */
	uint64_t w;		/* the most it adds in one request */
};

struct pf_pass_edge {
	size_t to, from;	/* to += k * from (or to = from: k 1) */
	uint64_t k;
};

struct pf_pass_lim {
	size_t var;
	uint64_t max;		/* the rule cannot match while var <= max */
	long id;
};

struct pf_pass {
	bool ok;
	char **vars;		/* the score variables (lower case, without "tx.") */
	size_t nvars;
	uint64_t *base;		/* per var: the most the rules outside the
				 * detections can put into it */
	struct pf_pass_edge *edges;	/* in an order where from is final first */
	size_t nedges;
	struct pf_pass_lim *lims;
	size_t nlims;
	struct pf_pass_add **adds;	/* per pf->rules: NULL not decidable */
	size_t *nadds;
};

struct waf_pf {
	unsigned magic;
	struct sl_ruleset rs;
	struct tx_map tx;
	struct prule *rules;
	size_t nrules;
	struct plink **links;	/* global link index -> link */
	size_t *link_rule;
	size_t nlinks;
	struct pchain *chains;
	size_t nchains;
	bool always;		/* a detection rule matches every request */
	const struct sl_rule **json_ctl;	/* rules switching the body processor */
	bool *ctl_is_json;	/* to JSON (else XML or another the scanner lacks) */
	pcre2_code ***json_re;	/* their links' regexes (NULL: not a plain @rx) */
	size_t njson_ctl;
	struct dyn_src *dyn;
	size_t ndyn;
	/* The distinct /regex/ selectors of collection variables (ARGS:/re/,
	 * !REQUEST_COOKIES:/__utm/), compiled as libmodsecurity 3.0.9 does
	 * (VariableRegex, KeyExclusionRegex: DOTALL, MULTILINE, CASELESS) and
	 * matched against a field's name once per scan (pf_scan.c). */
	pcre2_code **nre;
	char **nre_pat;
	size_t nnre;
	size_t npatterns, nfallbacks;
	size_t hs_bytes;
	size_t ncompiled, ncached;	/* Vectorscan compiles run / taken from pf_cache.c */
	struct pf_pass pass;
};

/* pf_cache.c: hs_compile_ext_multi (platform: this host) through the
 * database cache.  On a compile error, *bad is the rejected expression
 * (-1: another error).  *cached: nothing was compiled. */
hs_error_t pf_hs_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
			 unsigned n, unsigned mode, hs_database_t **db, int *bad, bool *cached);
/* Drops the in-memory cache (tests). */
void pf_cache_clear(void);

/* pf_scan.c: picks the Vectorscan scan function once (hs_scan, or the fat
 * runtime's avx2_hs_scan where the one hs_scan dispatches to misses
 * matches); false when neither finds what it must: claim nothing. */
bool pf_hs_scan_select(void);
/* Prunes the cache directory dir: removes its cache files (only those
 * named as pf_cache.c names them, regular, ours; symlinks are neither
 * followed nor removed) not used (mtime) for max_age seconds before now,
 * then the least recently used ones until at most max_files of max_bytes
 * in all are left, never the file named keep (NULL: none).  Temporary
 * files a day old go too.  Returns how many files were removed. */
size_t pf_cache_prune(const char *dir, const char *keep, time_t now, time_t max_age,
		      size_t max_files, uint64_t max_bytes);

/* pf_pass.c */
int pf_pass_build(struct waf_pf *pf);	/* -1: out of memory */
void pf_pass_free(struct waf_pf *pf);
/* With the might rules' additions in acc (pf->pass.nvars): can no
 * threshold rule match? */
bool pf_pass_holds(const struct waf_pf *pf, uint64_t *acc);
bool pf_is_detection(struct waf_pf *pf, const struct sl_rule *r);

/* prefilter.c, for the scan */
bool pf_link_verdict(const struct plink *l, const uint8_t *s, size_t len, pcre2_match_data *md);
char *pf_expand(struct tx_map *m, const char *s, bool *dynamic);
size_t pf_urldecode_nonstrict(const uint8_t *in, size_t len, uint8_t *d);

#endif
