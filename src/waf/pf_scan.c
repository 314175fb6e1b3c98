/*
 * pf_scan.c - the pre-filter's per-request half: the request's fields as
 * libmodsecurity 3.0.9 computes them (Transaction::processURI,
 * addRequestHeader, extractArguments, the JSON body processor; multipart
 * bodies in pf_multipart.c), then the Vectorscan scan per transformation
 * chain and the per-rule verdicts.
 * See prefilter.c for the design.
 */
#include "waf/prefilter.h"
#include "waf/pf_clean.h"
#include "waf/pf_multipart.h"
#include "waf/pf_plan.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A field: offsets into the scratch arena (stable while it grows). */
struct field {
	uint32_t mask;
	size_t name, nlen;
	size_t val, vlen;
};

/* A field's value through a chain, computed once per scan. */
struct memo {
	uint32_t gen;
	int rc;			/* run_chain()'s: 1 ok, 0 cannot compute */
	bool arena;		/* off is in the fields' arena (unchanged), else in tout */
	size_t off, len;
};

/* A field's transformed value inside the joined text of a scan. */
struct seg {
	uint32_t field;
	size_t start, len;
};

/* A rule the verdict loop asks (not silent, no link statically false). */
struct rref {
	uint32_t ri;		/* pf->rules index */
	uint32_t base;		/* its first link's global index */
};

struct waf_pf_scratch {
	unsigned magic;
	const struct waf_pf *pf;
	hs_scratch_t *hs;
	pcre2_match_data *md;
	struct pf_buf arena;
	struct field *f;
	size_t nf, fcap;
	uint8_t *hit;		/* per link: the scan found it might match */
	uint32_t *hit_field;	/* per link: the field that made it (sc->f index) */
	uint32_t *seen_seg;	/* per link: 1 + the last segment a literal was checked in */
	struct pf_buf cat;	/* a chain's transformed fields, joined by '\n' */
	struct memo *memo;	/* [field * nchains + chain]: its transformed value */
	size_t memocap;
	uint32_t gen;		/* memo entries of this scan carry it */
	struct pf_buf tout;	/* the transformed values */
	struct seg *seg;	/* where each field is in cat */
	size_t nseg, segcap;
	struct pf_buf t[2];	/* transformation ping-pong */
	struct pf_buf cand;	/* derived candidate values */
	struct pf_buf t2[2];	/* transformations of candidates */
	uint8_t *nrc;		/* [field * pf->nnre + regex]: name_re()'s, 0 unknown */
	size_t nrccap;
	pcre2_match_data *nmd;	/* for name_re() */
	struct pf_clean *clean;	/* the memo of field verdicts (NULL: off) */
	uint8_t *skip;		/* per field: known to the memo, not scanned */
	uint32_t *fcls;		/* per field: its value's byte classes, 0 not yet
				 * (pf_tfn_classes) */
	uint32_t *live;		/* the fields not skipped, in order */
	size_t nlive;
	uint32_t *plist;	/* the fields being decided (probe 1), in order */
	size_t nprobe;
	uint32_t *pby;		/* the same by collection (each has one): those of
				 * collection c at pby[pstart[c]..pstart[c + 1]) */
	size_t pstart[PF_C_COUNT + 1];
	uint8_t *probe;		/* per field: 1 being decided, 2 not kept */
	uint8_t *npl;		/* per field being decided: links noted */
	uint32_t *plinks;	/* [field * PF_CLEAN_MAX_LINKS]: those links */
	uint64_t *hash;		/* per field: its memo key's hash */
	size_t skipcap;
	uint8_t *nat;		/* per link: a native link a skipped field makes "might" */
	uint32_t *cnt_known;	/* per link: the counts 0..31 its answer is known on */
	uint32_t *cnt_might;	/* and those it says "might" on (native()) */
	size_t clean_hits, clean_puts;
	uint64_t *pacc;		/* pf_pass.c: the might rules' additions per score variable */
	bool passed;		/* the last scan's "might" is "decided: pass" */
	long last_rule;		/* why the last scan said "might" */
	long last_field;	/* and on which field (-1: none known) */
	struct rref *rl;	/* the rules the verdict loop asks, in order */
	size_t nrl;
	uint32_t *rl_other;	/* those of them whose first link is not a
				 * Vectorscan link (rl indexes, ascending) */
	size_t nrl_other;
	int32_t *rl_at;		/* per link: the rl index of the rule it is the
				 * first Vectorscan link of, or -1 */
	uint32_t *rl_ask;	/* this scan's rules to ask (rl indexes) */
	bool oom;
};

struct waf_pf_scratch *waf_pf_scratch_new(const struct waf_pf *pf)
{
	struct waf_pf_scratch *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->magic = PF_MAGIC;
	sc->pf = pf;
	sc->md = pcre2_match_data_create(32, NULL);
	sc->nmd = pcre2_match_data_create(1, NULL);
	sc->hit = calloc(pf->nlinks + 8, 1);	/* read eight bytes at a time */
	sc->hit_field = calloc(pf->nlinks + 1, sizeof(*sc->hit_field));
	sc->seen_seg = calloc(pf->nlinks + 1, sizeof(*sc->seen_seg));
	if (!sc->md || !sc->nmd || !sc->hit || !sc->hit_field || !sc->seen_seg)
		goto fail;
	for (size_t i = 0; i < pf->nchains; i++)
		if ((pf->chains[i].db && hs_alloc_scratch(pf->chains[i].db, &sc->hs) != HS_SUCCESS) ||
		    (pf->chains[i].bdb && hs_alloc_scratch(pf->chains[i].bdb, &sc->hs) != HS_SUCCESS))
			goto fail;
	sc->nat = calloc(pf->nlinks + 1, 1);
	sc->cnt_known = calloc(pf->nlinks + 1, sizeof(*sc->cnt_known));
	sc->cnt_might = calloc(pf->nlinks + 1, sizeof(*sc->cnt_might));
	sc->pacc = calloc(pf->pass.nvars + 1, sizeof(*sc->pacc));
	if (!sc->nat || !sc->cnt_known || !sc->cnt_might || !sc->pacc)
		goto fail;
	sc->clean = pf_clean_new();
	sc->rl = malloc((pf->nrules + 1) * sizeof(*sc->rl));
	sc->rl_other = malloc((pf->nrules + 1) * sizeof(*sc->rl_other));
	sc->rl_ask = malloc((pf->nrules + 1) * sizeof(*sc->rl_ask));
	sc->rl_at = malloc((pf->nlinks + 1) * sizeof(*sc->rl_at));
	if (!sc->clean || !sc->rl || !sc->rl_other || !sc->rl_ask || !sc->rl_at)
		goto fail;
	for (size_t gi = 0; gi < pf->nlinks; gi++)
		sc->rl_at[gi] = -1;
	for (size_t ri = 0, gi = 0; ri < pf->nrules; gi += pf->rules[ri].nlinks, ri++) {
		const struct prule *pr = &pf->rules[ri];
		if (pr->silent || (pr->nlinks && pr->links[0].mode == LM_NEVER))
			continue;
		bool hs0 = pr->nlinks && pr->links[0].mode == LM_HS;
		if (hs0)
			sc->rl_at[gi] = (int32_t)sc->nrl;
		else
			sc->rl_other[sc->nrl_other++] = (uint32_t)sc->nrl;
		sc->rl[sc->nrl++] = (struct rref){ (uint32_t)ri, (uint32_t)gi };
	}
	return sc;
fail:
	waf_pf_scratch_free(sc);
	return NULL;
}

void waf_pf_scratch_free(struct waf_pf_scratch *sc)
{
	if (!sc)
		return;
	if (sc->hs)
		hs_free_scratch(sc->hs);
	pcre2_match_data_free(sc->md);
	pcre2_match_data_free(sc->nmd);
	free(sc->nrc);
	pf_clean_free(sc->clean);
	free(sc->skip);
	free(sc->probe);
	free(sc->hash);
	free(sc->npl);
	free(sc->plinks);
	free(sc->nat);
	free(sc->cnt_known);
	free(sc->cnt_might);
	free(sc->pacc);
	free(sc->live);
	free(sc->plist);
	free(sc->pby);
	free(sc->fcls);
	free(sc->rl);
	free(sc->rl_other);
	free(sc->rl_ask);
	free(sc->rl_at);
	pf_buf_free(&sc->arena);
	pf_buf_free(&sc->t[0]);
	pf_buf_free(&sc->t[1]);
	pf_buf_free(&sc->t2[0]);
	pf_buf_free(&sc->t2[1]);
	pf_buf_free(&sc->cand);
	free(sc->f);
	free(sc->hit);
	free(sc->hit_field);
	free(sc->seen_seg);
	free(sc->seg);
	free(sc->memo);
	pf_buf_free(&sc->tout);
	pf_buf_free(&sc->cat);
	sc->magic = 0;
	free(sc);
}

/* ---- fields -------------------------------------------------------------- */

static size_t put(struct waf_pf_scratch *sc, const void *p, size_t n)
{
	if (pf_buf_reserve(&sc->arena, sc->arena.len + n + 1) < 0) {
		sc->oom = true;
		return 0;
	}
	size_t off = sc->arena.len;
	if (n)
		memcpy(sc->arena.p + off, p, n);
	sc->arena.len += n;
	return off;
}

static const uint8_t *at(const struct waf_pf_scratch *sc, size_t off)
{
	return sc->arena.p + off;
}

static void add_field(struct waf_pf_scratch *sc, uint32_t mask, size_t name, size_t nlen,
		      size_t val, size_t vlen)
{
	if (sc->nf == sc->fcap) {
		size_t nc = sc->fcap ? 2 * sc->fcap : 64;
		void *p = realloc(sc->f, nc * sizeof(*sc->f));
		if (!p) {
			sc->oom = true;
			return;
		}
		sc->f = p;
		sc->fcap = nc;
	}
	sc->f[sc->nf++] = (struct field){ mask, name, nlen, val, vlen };
}

/* name and value copied into the arena */
static void add_copy(struct waf_pf_scratch *sc, uint32_t mask, const void *name, size_t nlen,
		     const void *val, size_t vlen)
{
	size_t n = put(sc, name, nlen);
	size_t v = put(sc, val, vlen);
	add_field(sc, mask, n, nlen, v, vlen);
}

/* The same for pf_multipart.c (pf_multipart.h). */
size_t pf_sc_put(struct waf_pf_scratch *sc, const void *p, size_t n)
{
	return put(sc, p, n);
}

uint8_t *pf_sc_room(struct waf_pf_scratch *sc, size_t n, size_t *off)
{
	if (pf_buf_reserve(&sc->arena, sc->arena.len + n + 1) < 0) {
		sc->oom = true;
		return NULL;
	}
	*off = sc->arena.len;
	return sc->arena.p + *off;
}

void pf_sc_used(struct waf_pf_scratch *sc, size_t n)
{
	sc->arena.len += n;
}

void pf_sc_add_field(struct waf_pf_scratch *sc, uint32_t mask, size_t name, size_t nlen,
		     size_t val, size_t vlen)
{
	add_field(sc, mask, name, nlen, val, vlen);
}

bool pf_sc_oom(const struct waf_pf_scratch *sc)
{
	return sc->oom;
}

size_t pf_sc_len(const struct waf_pf_scratch *sc)
{
	return sc->arena.len;
}

bool pf_sc_copy(struct waf_pf_scratch *sc, size_t off, size_t n)
{
	if (pf_buf_reserve(&sc->arena, sc->arena.len + n + 1) < 0) {
		sc->oom = true;
		return false;
	}
	memmove(sc->arena.p + sc->arena.len, sc->arena.p + off, n);
	sc->arena.len += n;
	return true;
}

#define BIT(c) (1u << (c))

/* utils::uri_decode: valid %XX only, '+' untouched. */
static size_t uri_decode(const uint8_t *in, size_t len, uint8_t *d)
{
	size_t i = 0, o = 0;

	while (i + 2 < len) {
		if (in[i] == '%' && isxdigit(in[i + 1]) && isxdigit(in[i + 2])) {
			char h[3] = { (char)in[i + 1], (char)in[i + 2], 0 };
			d[o++] = (uint8_t)strtol(h, NULL, 16);
			i += 3;
			continue;
		}
		d[o++] = in[i++];
	}
	while (i < len)
		d[o++] = in[i++];
	return o;
}

/* Transaction::extractArguments + addArgument for one source. */
static void extract_args(struct waf_pf_scratch *sc, const uint8_t *s, size_t len, uint32_t vmask,
			 uint32_t nmask, size_t *combined, size_t *nargs)
{
	size_t i = 0;

	/* ssplit(): std::getline on '&', so no trailing empty piece */
	while (i < len) {
		const uint8_t *amp = memchr(s + i, '&', len - i);
		size_t e = amp ? (size_t)(amp - s) : len;
		const uint8_t *t = s + i;
		size_t tl = e - i;
		const uint8_t *eq = memchr(t, '=', tl);
		size_t kl = eq ? (size_t)(eq - t) : tl;
		const uint8_t *v = eq ? eq + 1 : t + tl;
		size_t vl = eq ? tl - kl - 1 : 0;
		if (pf_buf_reserve(&sc->arena, sc->arena.len + kl + vl + 2) < 0) {
			sc->oom = true;
			return;
		}
		size_t ko = sc->arena.len;
		size_t kd = pf_urldecode_nonstrict(t, kl, sc->arena.p + ko);
		sc->arena.len += kd;
		size_t vo = sc->arena.len;
		size_t vd = pf_urldecode_nonstrict(v, vl, sc->arena.p + vo);
		sc->arena.len += vd;
		add_field(sc, vmask, ko, kd, vo, vd);
		add_field(sc, nmask, ko, kd, ko, kd);
		*combined += kd + vd;
		(*nargs)++;
		i = e + 1;
	}
}

/* ---- transformations ----------------------------------------------------- */

/* Runs chain c over s; *out points into one of bufs.  1 ok, 0 cannot
 * compute, -1 out of memory. */
static int run_chain(const struct pchain *c, const uint8_t *s, size_t len, struct pf_buf bufs[2],
		     const uint8_t **out, size_t *olen)
{
	const uint8_t *cur = s;
	size_t cl = len;

	for (size_t i = 0; i < c->ntfn; i++) {
		struct pf_buf *b = &bufs[i & 1];
		int rc = pf_tfn_apply(c->tfn[i], cur, cl, b);
		if (rc <= 0)
			return rc;
		cur = b->p;
		cl = b->len;
	}
	*out = cur;
	*olen = cl;
	return 1;
}

/* Field fi through chain ci, memoized for this scan: the parent chain's
 * output is computed (once) and only the remaining transformations are
 * applied.  *out stays valid until the next chain_out() call.  1 ok, 0
 * cannot compute, -1 out of memory. */
static int chain_out(struct waf_pf_scratch *sc, size_t fi, size_t ci, const uint8_t **out,
		     size_t *olen)
{
	const struct waf_pf *pf = sc->pf;
	const struct pchain *c = &pf->chains[ci];
	struct memo *m = &sc->memo[fi * pf->nchains + ci];
	const struct field *f = &sc->f[fi];

	if (c->ntfn == 0) {
		*out = f->vlen ? at(sc, f->val) : (const uint8_t *)"";
		*olen = f->vlen;
		return 1;
	}
	if (m->gen != sc->gen) {
		const uint8_t *cur = at(sc, f->val);
		size_t cl = f->vlen, from = 0;
		bool arena = true;		/* cur is the field's value */
		size_t src_off = f->val;
		uint32_t *cls = &sc->fcls[fi];
		if (c->parent >= 0) {
			int rc = chain_out(sc, fi, (size_t)c->parent, &cur, &cl);
			if (rc <= 0) {
				*m = (struct memo){ sc->gen, rc, false, 0, 0 };
				if (rc < 0)
					m->gen = 0;
				return rc;
			}
			const struct memo *pm = &sc->memo[fi * pf->nchains + (size_t)c->parent];
			arena = pm->arena;
			src_off = pm->off;
			from = pf->chains[c->parent].ntfn;
		}
		int rc = 1;
		bool changed = false;
		for (size_t i = from; i < c->ntfn && rc > 0; i++) {
			/* on a short field's own value, its byte classes (one
			 * pass, once per scan) answer most identities; the body
			 * and a long value are searched with memchr() */
			bool own = arena && !changed && cl <= 256 && f->mask != BIT(PF_C_BODY);
			if (own && !*cls)
				*cls = pf_tfn_classes(cur, cl);
			if (own ? pf_tfn_identity_cls(c->tfn[i], *cls, cur, cl)
				: pf_tfn_identity(c->tfn[i], cur, cl))
				continue;
			struct pf_buf *b = &sc->t[i & 1];
			if (cur == b->p) {
				/* the input is this buffer: use the other one */
				b = &sc->t[(i + 1) & 1];
			}
			rc = pf_tfn_apply(c->tfn[i], cur, cl, b);
			cur = b->p;
			cl = b->len;
			changed = true;
		}
		if (rc < 0)
			return -1;
		if (rc > 0 && !changed) {
			/* the parent's value (or the field's) as it is */
			*m = (struct memo){ sc->gen, 1, arena, src_off, cl };
		} else {
			size_t off = sc->tout.len;
			if (rc > 0) {
				if (pf_buf_reserve(&sc->tout, off + cl + 1) < 0)
					return -1;
				if (cl)
					memcpy(sc->tout.p + off, cur, cl);
				sc->tout.len += cl;
			}
			*m = (struct memo){ sc->gen, rc, false, off, rc > 0 ? cl : 0 };
		}
	}
	if (m->rc <= 0)
		return m->rc;
	*out = !m->len ? (const uint8_t *)"" : m->arena ? at(sc, m->off) : sc->tout.p + m->off;
	*olen = m->len;
	return 1;
}

/* Where chain ci's output for field fi is, after a chain_out() that
 * returned 1: the same (arena, off, len) is the same value. */
struct vref {
	bool arena;
	size_t off, len;
};

static struct vref chain_ref(const struct waf_pf_scratch *sc, size_t fi, size_t ci)
{
	const struct waf_pf *pf = sc->pf;
	const struct field *f = &sc->f[fi];

	if (pf->chains[ci].ntfn == 0)
		return (struct vref){ true, f->val, f->vlen };
	const struct memo *m = &sc->memo[fi * pf->nchains + ci];
	return (struct vref){ m->arena, m->off, m->len };
}

/* What each_chain_out() calls on chain ci's output t/tl of field fi: 0
 * goes on with the next chain, anything else ends the walk with it. */
typedef int (*chain_fn)(struct waf_pf_scratch *sc, size_t fi, size_t ci, const uint8_t *t,
			size_t tl, void *arg);

/* Walks field fi through link l's chains in order, calling fn on each
 * output: fn's first non-zero answer; 1 if a chain cannot compute the
 * value (the verdict must be "might"), -1 out of memory, 0 when fn
 * answered 0 for every chain.  The one loop of verdict_field() and
 * derived_field(), inlined into both (fn is a constant there, so its
 * call is direct; verdict_field() runs per live field and link and was
 * inlined into its callers before: a call per chain cost it 0.4% of the
 * WAF bench's instructions). */
static inline __attribute__((always_inline)) int each_chain_out(struct waf_pf_scratch *sc, const struct plink *l, size_t fi,
				 chain_fn fn, void *arg)
{
	for (size_t c = 0; c < l->nchains; c++) {
		const uint8_t *t;
		size_t tl;
		size_t ci = (size_t)l->chains[c];
		int rc = chain_out(sc, fi, ci, &t, &tl);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 1;
		int v = fn(sc, fi, ci, t, tl, arg);
		if (v)
			return v;
	}
	return 0;
}

/* The values of a link already judged, for verdict_chain(). */
struct seen_values {
	const struct plink *l;
	size_t n;
	struct vref v[8];
};

static inline __attribute__((always_inline)) int
verdict_chain(struct waf_pf_scratch *sc, size_t fi, size_t ci, const uint8_t *t, size_t tl,
	      void *arg)
{
	struct seen_values *sv = arg;
	struct vref r = chain_ref(sc, fi, ci);

	for (size_t k = 0; k < sv->n; k++)
		if (sv->v[k].arena == r.arena && sv->v[k].off == r.off && sv->v[k].len == r.len)
			return 0;
	if (pf_link_verdict(sv->l, t, tl, sc->md))
		return 1;
	if (sv->n < sizeof(sv->v) / sizeof(sv->v[0]))
		sv->v[sv->n++] = r;
	return 0;
}

/* Does link l say "might" for field fi through any of its chains?  A
 * multiMatch link's chains mostly leave a benign value as it is: a value
 * already judged for an earlier chain of the link is not judged again
 * (the operator is a function of the value alone). */
static int verdict_field(struct waf_pf_scratch *sc, const struct plink *l, size_t fi)
{
	struct seen_values sv;   /* (not an initializer: it would clear v[] each call) */

	sv.l = l;
	sv.n = 0;
	return each_chain_out(sc, l, fi, verdict_chain, &sv);
}

/* ---- verdicts ------------------------------------------------------------ */

/* A plain selector (VAR:name) names this field: case-insensitively, as
 * libmodsecurity's collections compare keys. */
static bool name_is(const struct sl_var *v, const uint8_t *name, size_t nlen)
{
	return strlen(v->sel) == nlen && !strncasecmp(v->sel, (const char *)name, nlen);
}

/* Name regex ri (pf->nre) on field fi's name, once per scan: 1 no match,
 * 2 a match, 3 a match error (the match limit). */
static uint8_t name_re(struct waf_pf_scratch *sc, int ri, size_t fi)
{
	uint8_t *c = &sc->nrc[fi * sc->pf->nnre + (size_t)ri];

	if (!*c) {
		const struct field *f = &sc->f[fi];
		int rc = pcre2_match(sc->pf->nre[ri], f->nlen ? at(sc, f->name) : (const uint8_t *)"",
				     f->nlen, 0, 0, sc->nmd, NULL);
		*c = rc > 0 ? 2 : rc == PCRE2_ERROR_NOMATCH ? 1 : 3;
	}
	return *c;
}

/* Does selector i of link l (l->selvars[i]) take field fi?  A /regex/
 * takes the names it matches, as libmodsecurity's
 * resolveRegularExpression does (a match error: taken, where
 * libmodsecurity would skip it; one that did not compile: every name). */
static bool sel_matches(struct waf_pf_scratch *sc, const struct plink *l, size_t i, size_t fi)
{
	const struct sl_var *v = l->selvars[i];
	const struct field *f = &sc->f[fi];

	if (!v->sel)
		return true;
	if (v->sel_regex)
		return l->sel_ri[i] < 0 || name_re(sc, l->sel_ri[i], fi) != 1;
	return name_is(v, at(sc, f->name), f->nlen);
}

/* Excluded (!VAR:name or !VAR:/re/)?  Names compare case-insensitively
 * only for headers (libmodsecurity's header collection is; elsewhere this
 * excludes no more than it does); a regex is matched as libmodsecurity's
 * KeyExclusionRegex does (caseless; a match error excludes nothing). */
static bool excluded(struct waf_pf_scratch *sc, const struct plink *l, size_t fi)
{
	const struct field *f = &sc->f[fi];

	for (size_t i = 0; i < l->nexcl; i++) {
		const struct sl_var *v = l->excl[i];
		if (!(v->coll_mask & f->mask))
			continue;
		if (l->excl_ri[i] >= 0) {
			if (name_re(sc, l->excl_ri[i], fi) == 2)
				return true;
			continue;
		}
		const uint8_t *name = at(sc, f->name);
		size_t n = strlen(v->sel);
		if (n != f->nlen)
			continue;
		if (v->coll_mask & (1u << PF_C_HEADERS) ? !strncasecmp(v->sel, (const char *)name, n)
							: !memcmp(v->sel, name, n))
			return true;
	}
	return false;
}

static bool link_reads_field(struct waf_pf_scratch *sc, const struct plink *l, size_t fi)
{
	const struct field *f = &sc->f[fi];

	if (l->nexcl && excluded(sc, l, fi))
		return false;
	if (f->mask & l->coll_mask)
		return true;
	for (size_t i = 0; i < l->nselvars; i++) {
		const struct sl_var *v = l->selvars[i];
		if (!v->count && (v->coll_mask & f->mask) && sel_matches(sc, l, i, fi))
			return true;
	}
	return false;
}

/* Does link l read field fi?  The common case, none of its collections,
 * is answered inline (the probe and the scan ask it per link and field). */
static inline __attribute__((always_inline)) bool link_reads(struct waf_pf_scratch *sc,
							     const struct plink *l, size_t fi)
{
	return (sc->f[fi].mask & l->read_mask) && link_reads_field(sc, l, fi);
}

/* A Vectorscan hit is a candidate: prefilter mode over-approximates a
 * regex and the literals are matched caselessly.  The text scanned is a
 * chain's fields joined by '\n' (waf_pf_scan), so:
 *  - a regex (SINGLEMATCH: once per scan) is confirmed with the exact
 *    operator on each field its link reads, PCRE2 with libmodsecurity's
 *    flags (a PCRE2 error such as the match limit counts as a match);
 *  - a literal reports each place it ends, which names the field: the
 *    link must read that field, and its exact operator (@contains,
 *    @streq, ...) must hold on it; @pm phrases are kept as found. */
struct hs_ctx {
	struct waf_pf_scratch *sc;
};

/* Vectorscan 5.4.9 (Debian's) on a CPU with AVX-512: hs_scan dispatches
 * to the fat runtime's AVX-512 code, which misses matches the AVX2 code
 * of the same database finds: "a.*c" whenever the "a" lies 64 or more
 * bytes into the text, "\$\{.*\}" with DOTALL over 64 bytes or more
 * (VectorCamp/vectorscan issue 382, fixed after 5.4.12).  A miss is a
 * request the pre-filter clears that ModSecurity refuses (holdout15's
 * h15-rce-008, 90049).  So hs_scan is tried once on such patterns; where
 * it misses, the runtime's avx2_hs_scan (exported beside it) is used if
 * it finds them all; if neither does, the pre-filter claims nothing. */
typedef hs_error_t (*pf_scan_fn)(const hs_database_t *, const char *, unsigned, unsigned,
				 hs_scratch_t *, match_event_handler, void *);
static pf_scan_fn scan_fn;
static pthread_once_t scan_once = PTHREAD_ONCE_INIT;

static int canary_hit(unsigned id, unsigned long long from, unsigned long long to,
		      unsigned flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(bool *)ctx = true;
	return 0;
}

/* Does f find each canary pattern in its text? */
static bool scan_fn_finds(pf_scan_fn f)
{
	static const struct {
		const char *re, *head, *fill, *tail;
		unsigned flags;
	} can[] = {
		{ "a.*c", "a", "x", "c", HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH },
		{ "a[^y]*c", "a", "", "c", HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH },
		{ "\\$\\{.*\\}", "${", "a", "}",
		  HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH },
	};
	bool ok = true;
	for (size_t i = 0; i < sizeof(can) / sizeof(can[0]) && ok; i++) {
		hs_database_t *db = NULL;
		hs_compile_error_t *ce = NULL;
		hs_scratch_t *s = NULL;
		if (hs_compile(can[i].re, can[i].flags, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
			hs_free_compile_error(ce);
			return false;
		}
		if (hs_alloc_scratch(db, &s) != HS_SUCCESS) {
			hs_free_database(db);
			return false;
		}
		/* the head 64 + k bytes in, a gap of 120: both misses above */
		char text[400];
		for (size_t k = 0; k < 8 && ok; k++) {
			size_t n = 0;
			memset(text, 'q', 64 + k);
			n = 64 + k;
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", can[i].head);
			for (size_t j = 0; can[i].fill[0] && j < 120; j++)
				text[n++] = can[i].fill[0];
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", can[i].tail);
			bool hit = false;
			ok = f(db, text, (unsigned)n, 0, s, canary_hit, &hit) == HS_SUCCESS && hit;
		}
		hs_free_scratch(s);
		hs_free_database(db);
	}
	return ok;
}

static void scan_select(void)
{
	if (scan_fn_finds(hs_scan)) {
		scan_fn = hs_scan;
		return;
	}
	/* only on a CPU that runs AVX2 code: the canary would fault else */
	__builtin_cpu_init();
	pf_scan_fn alt = NULL;
	if (__builtin_cpu_supports("avx2"))
		*(void **)&alt = dlsym(RTLD_DEFAULT, "avx2_hs_scan");
	if (alt && scan_fn_finds(alt))
		scan_fn = alt;
	if (getenv("GH_WAF_PF_DEBUG"))
		fprintf(stderr, "waf_pf: hs_scan misses matches; %s\n",
			scan_fn ? "scanning with avx2_hs_scan" : "no scan that finds them: claim nothing");
}

bool pf_hs_scan_select(void)
{
	pthread_once(&scan_once, scan_select);
	return scan_fn != NULL;
}

static const struct seg *seg_at(const struct waf_pf_scratch *sc, size_t off)
{
	size_t lo = 0, hi = sc->nseg;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct seg *g = &sc->seg[mid];
		if (off < g->start)
			hi = mid;
		else if (off >= g->start + g->len)
			lo = mid + 1;
		else
			return g;
	}
	return NULL;	/* a separator */
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *ctx)
{
	struct hs_ctx *h = ctx;
	struct waf_pf_scratch *sc = h->sc;
	const struct plink *l = sc->pf->links[id];
	const uint8_t *cat = sc->cat.p;

	(void)from;
	(void)flags;
	if (sc->hit[id])
		return 0;
	if (l->sl->op == SL_OP_RX && l->re) {
		for (size_t i = 0; i < sc->nseg; i++) {
			const struct seg *g = &sc->seg[i];
			if (!link_reads(sc, l, g->field))
				continue;
			int rc = pcre2_match(l->re, g->len ? cat + g->start : (const uint8_t *)"",
					     g->len, 0, 0, sc->md, NULL);
			if (rc == PCRE2_ERROR_NOMATCH)
				continue;
			sc->hit[id] = 1;
			sc->hit_field[id] = g->field;
			return 0;
		}
		return 0;
	}
	if (to == 0)
		return 0;
	const struct seg *g = seg_at(sc, (size_t)to - 1);
	if (!g)
		return 0;
	uint32_t gi = (uint32_t)(g - sc->seg) + 1;
	if (sc->seen_seg[id] == gi)
		return 0;
	sc->seen_seg[id] = gi;
	if (!link_reads(sc, l, g->field))
		return 0;
	if (l->sl->op != SL_OP_PM && l->sl->op != SL_OP_PMF &&
	    !pf_link_verdict(l, g->len ? cat + g->start : (const uint8_t *)"", g->len, sc->md))
		return 0;
	sc->hit[id] = 1;
	sc->hit_field[id] = g->field;
	return 0;
}

/* Does link l (whose chain set is l->chains) say "might" for value s? */
static int verdict_value(struct waf_pf_scratch *sc, const struct plink *l, const uint8_t *s,
			 size_t len, struct pf_buf bufs[2])
{
	const struct waf_pf *pf = sc->pf;

	for (size_t c = 0; c < l->nchains; c++) {
		const uint8_t *t;
		size_t tl;
		int rc = run_chain(&pf->chains[l->chains[c]], s, len, bufs, &t, &tl);
		if (rc < 0)
			return -1;
		if (rc == 0 || pf_link_verdict(l, t, tl, sc->md))
			return 1;
	}
	return 0;
}

/* Candidate values of a derived variable d: calls fn on each; returns 1 if
 * fn said "might" (or a value cannot be computed), 0 if none did, -1 OOM. */
static int derived_field(struct waf_pf_scratch *sc, const struct derived *d,
			 const struct plink *l, size_t fi);

static int derived_values(struct waf_pf_scratch *sc, const struct derived *d,
			  const struct plink *l)
{
	const struct waf_pf *pf = sc->pf;
	const struct plink *src = &pf->rules[d->rule].links[d->link];

	if (src->mode == LM_ALWAYS || src->nstatic || src->nder)
		return 1;
	for (size_t k = 0; k < sc->nlive; k++) {
		size_t fi = sc->live[k];
		if (!link_reads(sc, src, fi))
			continue;
		int r = derived_field(sc, d, l, fi);
		if (r)
			return r;
	}
	return 0;
}

/* A derived variable d, the link l judging its candidates and the link
 * src they come from, for derived_chain(). */
struct derived_walk {
	const struct derived *d;
	const struct plink *l, *src;
};

/* The candidates of d from one chain's output t/tl of field fi: 1 one of
 * them makes l say "might" (or cannot be computed), 0 none does, -1 OOM. */
static int derived_chain(struct waf_pf_scratch *sc, size_t fi, size_t ci, const uint8_t *t,
			 size_t tl, void *arg)
{
	const struct derived_walk *w = arg;
	const struct derived *d = w->d;
	const struct plink *l = w->l, *src = w->src;
	const struct waf_pf *pf = sc->pf;
	const struct field *f = &sc->f[fi];
	(void)ci;
	if (d->matched) {
		/* MATCHED_VAR: the raw and the transformed value */
		if (pf_buf_reserve(&sc->cand, tl + 1) < 0)
			return -1;
		memcpy(sc->cand.p, t, tl);
		size_t cl = tl;
		int v = verdict_value(sc, l, sc->cand.p, cl, sc->t2);
		if (v)
			return v;
		return verdict_value(sc, l, at(sc, f->val), f->vlen, sc->t2);
	}
	if (!src->re)
		return 1;
	int m = pcre2_match(src->re, t, tl, 0, 0, sc->md, NULL);
	if (m < 0)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
	uint32_t npairs = pcre2_get_ovector_count(sc->md);
	/* build the candidate */
	sc->cand.len = 0;
	const char *tmpl = d->group >= 0 ? NULL : d->tmpl;
	if (d->group >= 0) {
		uint32_t g = (uint32_t)d->group;
		if (g < npairs && (int)g < m && ov[2 * g] != PCRE2_UNSET) {
			size_t gl = ov[2 * g + 1] - ov[2 * g];
			if (pf_buf_reserve(&sc->cand, gl + 1) < 0)
				return -1;
			memcpy(sc->cand.p, t + ov[2 * g], gl);
			sc->cand.len = gl;
		}
	} else {
		for (const char *p = tmpl; *p;) {
			const char *e;
			const uint8_t *piece = (const uint8_t *)p;
			size_t pl = 1;
			char *exp = NULL;
			if (p[0] == '%' && p[1] == '{' && (e = strchr(p, '}'))) {
				if (!strncasecmp(p + 2, "tx.", 3) && isdigit((unsigned char)p[5]) &&
				    p + 6 == e) {
					uint32_t g = (uint32_t)(p[5] - '0');
					pl = 0;
					if (g < npairs && (int)g < m && ov[2 * g] != PCRE2_UNSET) {
						piece = t + ov[2 * g];
						pl = ov[2 * g + 1] - ov[2 * g];
					}
				} else {
					char mac[128];
					size_t ml = (size_t)(e - p + 1);
					bool dyn = false;
					if (ml >= sizeof(mac))
						return 1;
					memcpy(mac, p, ml);
					mac[ml] = '\0';
					exp = pf_expand((struct tx_map *)&pf->tx, mac, &dyn);
					if (!exp)
						return 1;
					piece = (const uint8_t *)exp;
					pl = strlen(exp);
				}
				p = e + 1;
			} else {
				p++;
			}
			if (pf_buf_reserve(&sc->cand, sc->cand.len + pl + 1) < 0) {
				free(exp);
				return -1;
			}
			memcpy(sc->cand.p + sc->cand.len, piece, pl);
			sc->cand.len += pl;
			free(exp);
		}
	}
	return verdict_value(sc, l, sc->cand.p ? sc->cand.p : (const uint8_t *)"",
			     sc->cand.len, sc->t2);
}

/* The candidates of d from field fi alone (src reads it): 1 one of them
 * makes l say "might" (or cannot be computed), 0 none does, -1 OOM. */
static int derived_field(struct waf_pf_scratch *sc, const struct derived *d,
			 const struct plink *l, size_t fi)
{
	struct derived_walk w = { d, l, &sc->pf->rules[d->rule].links[d->link] };

	return each_chain_out(sc, w.src, fi, derived_chain, &w);
}

/* ---- the memo of field verdicts ------------------------------------------ */

/*
 * A field is worth to the verdict exactly the set of links it makes say
 * "might": Vectorscan candidates confirmed on it (on_match()), native
 * verdicts on it (verdict_field()), a chain that cannot compute it, and
 * TX candidates taken from it (captures, setvar templates, MATCHED_VARS:
 * derived_field()).  For most fields of ordinary traffic that set is
 * empty or small (a User-Agent without "AppleWebKit" makes 920310's
 * negated @pm say "might"; GET makes 920170's first link).  pf_clean.h
 * keeps it per (collection, name, value), every byte compared; a field
 * found there is not transformed, scanned or judged: its links are
 * marked (sc->hit for Vectorscan links, sc->nat for native ones) and the
 * rest of the scan runs without it.  Why the verdict stays the same:
 *  - which links read a field (link_reads()) depends on its collection
 *    and its name only: rule selectors and static exclusions are fixed at
 *    build; the request's conditional `exclude`s are not given to the
 *    pre-filter at all (ModSecurity applies them: they can only make it
 *    match less than the pre-filter assumes), nor are ctl:ruleRemove*
 *    actions, so no request-dependent condition changes the set; and
 *    what a link says on a value depends on the value alone (transformed
 *    by the link's chains, judged by its operator with static
 *    parameters);
 *  - a link's "might" is an OR over the fields it reads plus what does
 *    not come from fields one by one: counts (&ARGS,
 *    &REQUEST_HEADERS:Host) still count the skipped field (it stays in
 *    sc->f), static TX values involve no field, and a derived value that
 *    says "might" whatever the fields (derived_values()'s first test)
 *    still does; so marking the field's links and leaving the field out
 *    of the OR gives each link the same answer;
 *  - a rule is the AND of its links' answers, each unchanged; which rule
 *    answered first (waf_pf_last_why()) may name another field.
 * The set is computed (probe_fields()) the second time a key is seen,
 * for all such fields of a request at once (one Vectorscan call per
 * chain), and is bounded (PF_CLEAN_MAX_LINKS, or the field is scanned as
 * usual).  The memo belongs to one scratch, so to one thread and one
 * built pre-filter: a reload with other rules has other scratches.
 */

/* Does field f (collection, name, value) get a memo entry at all?  A
 * field of one collection (the same bytes in two collections are two
 * keys), short enough: headers and cookies above all, which repeat from
 * request to request, and the small fields of the target and the
 * arguments, which often do (a popular page, "page=2").  Not the body as
 * a whole nor a multipart body's parts. */
static bool clean_eligible(const struct field *f)
{
	const uint32_t never = 1u << PF_C_BODY | 1u << PF_C_FILES | 1u << PF_C_FILES_NAMES |
			       1u << PF_C_FILES_SIZES | 1u << PF_C_FILES_TMP_CONTENT |
			       1u << PF_C_FILES_COMBINED_SIZE | 1u << PF_C_MULTIPART_NAME |
			       1u << PF_C_MULTIPART_FILENAME | 1u << PF_C_MULTIPART_PART_HEADERS;
	const uint32_t hdr = 1u << PF_C_HEADERS | 1u << PF_C_HEADERS_NAMES | 1u << PF_C_COOKIES |
			     1u << PF_C_COOKIES_NAMES;

	if (!f->mask || (f->mask & (f->mask - 1)) || (f->mask & never))
		return false;
	return f->nlen <= PF_CLEAN_MAX_NAME &&
	       f->vlen <= ((f->mask & hdr) ? PF_CLEAN_MAX_VALUE : PF_CLEAN_MAX_OTHER);
}

/* Link gi says "might" on field fi (being probed): noted in the field's
 * list; a list too long for the memo makes the field "not kept". */
static void probe_note(struct waf_pf_scratch *sc, size_t fi, size_t gi)
{
	uint32_t *l = sc->plinks + fi * PF_CLEAN_MAX_LINKS;

	if (sc->probe[fi] != 1)
		return;
	for (size_t i = 0; i < sc->npl[fi]; i++)
		if (l[i] == gi)
			return;
	if (sc->npl[fi] == PF_CLEAN_MAX_LINKS) {
		sc->probe[fi] = 2;
		return;
	}
	l[sc->npl[fi]++] = (uint32_t)gi;
}

/* on_match() for the fields being probed (sc->probe[field] == 1, joined
 * in sc->cat as the scan joins fields): notes each field a link finds a
 * candidate in, rather than the link alone. */
static int on_probe(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *ctx)
{
	struct waf_pf_scratch *sc = ctx;
	const struct plink *l = sc->pf->links[id];
	const uint8_t *cat = sc->cat.p;

	(void)from;
	(void)flags;
	if (l->sl->op == SL_OP_RX && l->re) {
		for (size_t i = 0; i < sc->nseg; i++) {
			const struct seg *g = &sc->seg[i];
			if (sc->probe[g->field] != 1 || !link_reads(sc, l, g->field))
				continue;
			int rc = pcre2_match(l->re, g->len ? cat + g->start : (const uint8_t *)"",
					     g->len, 0, 0, sc->md, NULL);
			if (rc != PCRE2_ERROR_NOMATCH)
				probe_note(sc, g->field, id);
		}
		return 0;
	}
	if (to == 0)
		return 0;
	const struct seg *g = seg_at(sc, (size_t)to - 1);
	if (!g || sc->probe[g->field] != 1 || !link_reads(sc, l, g->field))
		return 0;
	if (l->sl->op != SL_OP_PM && l->sl->op != SL_OP_PMF &&
	    !pf_link_verdict(l, g->len ? cat + g->start : (const uint8_t *)"", g->len, sc->md))
		return 0;
	probe_note(sc, g->field, id);
	return 0;
}

/* For every field with sc->probe[fi] == 1, the links that say "might" on
 * it (sc->plinks, sc->npl), as the scan would find them; sc->probe[fi]
 * becomes 2 where the field cannot be replaced by such a list.
 * Vectorscan runs once per chain over all of them, joined as the scan
 * joins fields.  -1: out of memory or a Vectorscan error. */
/* The fields being decided by collection (sc->pby, sc->pstart); a
 * loop over the collections of mask and their fields: */
#define FOR_PROBED(sc, mask, fi)                                                      \
	for (uint32_t m_ = (mask) & ((1u << PF_C_COUNT) - 1); m_; m_ &= m_ - 1)        \
		for (size_t k_ = (sc)->pstart[__builtin_ctz(m_)], fi;                   \
		     k_ < (sc)->pstart[__builtin_ctz(m_) + 1] && (fi = (sc)->pby[k_], 1); k_++)

static void probe_by_collection(struct waf_pf_scratch *sc)
{
	size_t *st = sc->pstart;

	memset(st, 0, sizeof(sc->pstart));
	for (size_t k = 0; k < sc->nprobe; k++)
		st[__builtin_ctz(sc->f[sc->plist[k]].mask) + 1]++;
	for (size_t c = 0; c < PF_C_COUNT; c++)
		st[c + 1] += st[c];
	size_t at_[PF_C_COUNT];
	memcpy(at_, st, sizeof(at_));
	for (size_t k = 0; k < sc->nprobe; k++) {
		uint32_t fi = sc->plist[k];
		sc->pby[at_[__builtin_ctz(sc->f[fi].mask)]++] = fi;
	}
}

/* Field fi's transformed value t (tl bytes) joins the chain's scan
 * buffer (sc->cat), followed by '\n', with its segment (sc->seg) saying
 * where it lies.  -1: out of memory. */
static inline int seg_append(struct waf_pf_scratch *sc, size_t fi, const uint8_t *t, size_t tl)
{
	if (sc->nseg == sc->segcap) {
		size_t nc = sc->segcap ? 2 * sc->segcap : 64;
		void *np = realloc(sc->seg, nc * sizeof(*sc->seg));
		if (!np)
			return -1;
		sc->seg = np;
		sc->segcap = nc;
	}
	if (pf_buf_reserve(&sc->cat, sc->cat.len + tl + 1) < 0)
		return -1;
	sc->seg[sc->nseg++] = (struct seg){ (uint32_t)fi, sc->cat.len, tl };
	if (tl)
		memcpy(sc->cat.p + sc->cat.len, t, tl);
	sc->cat.len += tl;
	sc->cat.p[sc->cat.len++] = '\n';
	return 0;
}

static int probe_fields(struct waf_pf_scratch *sc)
{
	const struct waf_pf *pf = sc->pf;

	probe_by_collection(sc);
	for (size_t ci = 0; ci < pf->nchains; ci++) {
		const struct pchain *c = &pf->chains[ci];
		if (!c->db)
			continue;
		sc->cat.len = 0;
		sc->nseg = 0;
		FOR_PROBED(sc, c->mask, fi) {
			if (sc->probe[fi] != 1)
				continue;
			bool read = false;
			for (size_t j = 0; j < c->nlinks && !read; j++)
				read = link_reads(sc, pf->links[c->links[j]], fi);
			if (!read)
				continue;
			const uint8_t *t;
			size_t tl;
			int rc = chain_out(sc, fi, ci, &t, &tl);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				/* as the scan does: every link of the chain reading it */
				for (size_t j = 0; j < c->nlinks; j++)
					if (link_reads(sc, pf->links[c->links[j]], fi))
						probe_note(sc, fi, c->links[j]);
				continue;
			}
			if (seg_append(sc, fi, t, tl) < 0)
				return -1;
		}
		if (sc->nseg == 0)
			continue;
		if (sc->cat.len > UINT32_MAX ||
		    scan_fn(c->db, (const char *)sc->cat.p, (unsigned)sc->cat.len, 0, sc->hs, on_probe,
			    sc) != HS_SUCCESS)
			return -1;
	}
	for (size_t gi = 0; gi < pf->nlinks; gi++) {
		const struct plink *l = pf->links[gi];
		if (l->mode != LM_NATIVE)
			continue;
		FOR_PROBED(sc, l->read_mask, fi) {
			if (sc->probe[fi] != 1 || !link_reads(sc, l, fi))
				continue;
			int r = verdict_field(sc, l, fi);
			if (r < 0)
				return -1;
			if (r)
				probe_note(sc, fi, gi);
		}
		/* TX candidates (captures, setvar templates, MATCHED_VARS)
		 * taken from the field */
		for (size_t i = 0; i < l->nder; i++) {
			const struct derived *d = &l->der[i];
			const struct plink *src = &pf->rules[d->rule].links[d->link];
			if (src->mode == LM_ALWAYS || src->nstatic || src->nder)
				continue;	/* "might" whatever the fields */
			FOR_PROBED(sc, src->read_mask, fi) {
				if (sc->probe[fi] != 1 || !link_reads(sc, src, fi))
					continue;
				int r = derived_field(sc, d, l, fi);
				if (r < 0)
					return -1;
				if (r)
					probe_note(sc, fi, gi);
			}
		}
	}
	return 0;
}

/* A field the memo knows: skipped, and the links it makes "might" are
 * marked as the scan would have marked them. */
static void memo_apply(struct waf_pf_scratch *sc, size_t fi, const uint32_t *links, size_t n)
{
	sc->skip[fi] = 1;
	for (size_t i = 0; i < n; i++) {
		size_t gi = links[i];
		if (sc->pf->links[gi]->mode == LM_HS) {
			if (!sc->hit[gi]) {
				sc->hit[gi] = 1;
				sc->hit_field[gi] = (uint32_t)fi;
			}
		} else {
			sc->nat[gi] = 1;
		}
	}
}

/* Skips the fields the memo knows (sc->skip), computing and keeping the
 * answer for values seen the second time.  -1: out of memory. */
static int clean_memo(struct waf_pf_scratch *sc)
{
	if (sc->nf > sc->skipcap) {
		size_t cap = sc->nf + sc->nf / 2 + 64;
		free(sc->skip);
		free(sc->probe);
		free(sc->hash);
		free(sc->npl);
		free(sc->plinks);
		free(sc->live);
		free(sc->plist);
		free(sc->pby);
		free(sc->fcls);
		sc->fcls = malloc(cap * sizeof(*sc->fcls));
		sc->live = malloc(cap * sizeof(*sc->live));
		sc->plist = malloc(cap * sizeof(*sc->plist));
		sc->pby = malloc(cap * sizeof(*sc->pby));
		sc->skip = malloc(cap);
		sc->probe = malloc(cap);
		sc->npl = malloc(cap);
		sc->hash = malloc(cap * sizeof(*sc->hash));
		sc->plinks = malloc(cap * PF_CLEAN_MAX_LINKS * sizeof(*sc->plinks));
		sc->skipcap = cap;
		if (!sc->skip || !sc->probe || !sc->npl || !sc->hash || !sc->plinks || !sc->live ||
		    !sc->plist || !sc->pby || !sc->fcls) {
			sc->skipcap = 0;
			return -1;
		}
	}
	memset(sc->skip, 0, sc->nf);
	memset(sc->fcls, 0, sc->nf * sizeof(*sc->fcls));
	memset(sc->nat, 0, sc->pf->nlinks);
	if (!sc->clean)
		return 0;
	sc->nprobe = 0;
	for (size_t fi = 0; fi < sc->nf; fi++) {
		const struct field *f = &sc->f[fi];
		sc->probe[fi] = 0;
		if (!clean_eligible(f))
			continue;
		const uint32_t *links;
		size_t nl;
		int r = pf_clean_get(sc->clean, f->mask, at(sc, f->name), f->nlen, at(sc, f->val),
				     f->vlen, &sc->hash[fi], &links, &nl);
		if (r == -2) {
			sc->probe[fi] = 1;
			sc->npl[fi] = 0;
			sc->plist[sc->nprobe++] = (uint32_t)fi;
		} else if (r > 0) {
			memo_apply(sc, fi, links, nl);
			sc->clean_hits++;
		}
	}
	if (!sc->nprobe)
		return 0;
	if (probe_fields(sc) < 0)
		return -1;
	for (size_t k = 0; k < sc->nprobe; k++) {
		size_t fi = sc->plist[k];
		const struct field *f = &sc->f[fi];
		const uint32_t *links = sc->plinks + fi * PF_CLEAN_MAX_LINKS;
		bool known = sc->probe[fi] == 1;
		pf_clean_put(sc->clean, sc->hash[fi], f->mask, at(sc, f->name), f->nlen,
			     at(sc, f->val), f->vlen, known, links, known ? sc->npl[fi] : 0);
		if (known)
			memo_apply(sc, fi, links, sc->npl[fi]);
		sc->clean_puts++;
	}
	return 0;
}

void waf_pf_scratch_memo(struct waf_pf_scratch *sc, bool on)
{
	if (!on) {
		pf_clean_free(sc->clean);
		sc->clean = NULL;
	} else if (!sc->clean) {
		sc->clean = pf_clean_new();
	}
}

size_t waf_pf_memo_hits(const struct waf_pf_scratch *sc, size_t *puts)
{
	if (puts)
		*puts = sc->clean_puts;
	return sc->clean_hits;
}

/* Native verdict of a link: 1 might, 0 cannot, -1 OOM. */
static int native(struct waf_pf_scratch *sc, const struct plink *l, size_t gi)
{
	for (size_t i = 0; i < l->nstatic; i++) {
		const char *v = l->static_vals[i];
		int r = verdict_value(sc, l, (const uint8_t *)v, strlen(v), sc->t);
		if (r)
			return r;
	}
	for (size_t i = 0; i < l->nselvars; i++) {
		const struct sl_var *v = l->selvars[i];
		if (!v->count)
			continue;
		size_t n = 0;
		if (v->sel && !v->sel_regex) {
			/* sel_matches() with the selector's length taken once */
			size_t sl = strlen(v->sel);
			for (size_t fi = 0; fi < sc->nf; fi++) {
				const struct field *f = &sc->f[fi];
				if ((f->mask & v->coll_mask) && f->nlen == sl &&
				    !strncasecmp(v->sel, (const char *)at(sc, f->name), sl))
					n++;
			}
		} else {
			for (size_t fi = 0; fi < sc->nf; fi++)
				if ((sc->f[fi].mask & v->coll_mask) && sel_matches(sc, l, i, fi))
					n++;
		}
		/* the answer on a small count is kept per scratch: it
		 * depends on the link and the number alone */
		uint32_t bit = n < 32 ? 1u << n : 0;
		if (bit && (sc->cnt_known[gi] & bit)) {
			if (sc->cnt_might[gi] & bit)
				return 1;
			continue;
		}
		char num[24];
		int nl = (int)pf_put_dec(num, n);
		int r = verdict_value(sc, l, (const uint8_t *)num, (size_t)nl, sc->t);
		if (r >= 0 && bit) {
			sc->cnt_known[gi] |= bit;
			if (r)
				sc->cnt_might[gi] |= bit;
		}
		if (r)
			return r;
	}
	for (size_t k = 0; k < sc->nlive; k++) {
		size_t fi = sc->live[k];
		if (!link_reads(sc, l, fi))
			continue;
		int r = verdict_field(sc, l, fi);
		if (r)
			return r;
	}
	for (size_t i = 0; i < l->nder; i++) {
		int r = derived_values(sc, &l->der[i], l);
		if (r)
			return r;
	}
	return 0;
}

/* 1: link might match, 0: cannot, -1: OOM */
static int link_might(struct waf_pf_scratch *sc, const struct plink *l, size_t gi)
{
	switch (l->mode) {
	case LM_ALWAYS:
		return 1;
	case LM_NEVER:
		return 0;
	case LM_HS:
		return sc->hit[gi];
	default:
		return sc->nat[gi] ? 1 : native(sc, l, gi);
	}
}

/* Exact: does a ctl:requestBodyProcessor=JSON rule fire?  1 yes, 0 no,
 * -1 cannot tell. */
static int json_ctl_fires(struct waf_pf_scratch *sc, const struct sl_rule *r, pcre2_code **res)
{
	for (size_t k = 0; k < r->nlinks; k++) {
		const struct sl_link *sl = &r->links[k];
		pcre2_code *re = res[k];
		bool any = false;
		if (!re)
			return -1;
		for (size_t i = 0; i < sl->nvars && !any; i++) {
			const struct sl_var *v = &sl->vars[i];
			if (v->kind != PF_V_COLL || v->count || v->exclude || v->sel_regex)
				return -1;
			if (!v->sel)
				return -1;
			size_t selen = strlen(v->sel);
			for (size_t fi = 0; fi < sc->nf && !any; fi++) {
				const struct field *f = &sc->f[fi];
				/* name_is(), the selector's length taken once */
				if (!(f->mask & v->coll_mask) || f->nlen != selen ||
				    strncasecmp(v->sel, (const char *)at(sc, f->name), selen))
					continue;
				const uint8_t *s = at(sc, f->val);
				size_t len = f->vlen;
				struct pf_buf *bufs = sc->t;
				for (size_t t = 0; t < sl->ntfn; t++) {
					if (pf_tfn_apply(sl->tfn[t], s, len, &bufs[t & 1]) <= 0)
						return -1;
					s = bufs[t & 1].p;
					len = bufs[t & 1].len;
				}
				int rc = pcre2_match(re, s, len, 0, 0, sc->md, NULL);
				if (rc >= 0)
					any = true;
				else if (rc != PCRE2_ERROR_NOMATCH)
					return -1;
			}
		}
		if (!any)
			return 0;
	}
	return 1;
}

static bool ci_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && !strncasecmp(s, p, n);
}

/* "yaml" anywhere in s, case aside. */
static bool ci_has_yaml(const char *s, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (!strncasecmp(s + i, "yaml", 4))
			return true;
	return false;
}

/* Fills the fields; false: "might match" without looking further. */
static bool collect(struct waf_pf_scratch *sc, const struct waf_pf_req *r)
{
	const struct waf_pf *pf = sc->pf;
	size_t combined = 0, nargs = 0;

	sc->nf = 0;
	sc->arena.len = 0;
	sc->oom = false;
	put(sc, "", 0);

	/* processURI */
	const uint8_t *tg = (const uint8_t *)r->target;
	size_t tl = r->target_len;
	const uint8_t *hash = memchr(tg, '#', tl);
	size_t ul = hash ? (size_t)(hash - tg) : tl;	/* uri_s */
	const uint8_t *q = memchr(tg, '?', ul);
	add_copy(sc, BIT(PF_C_METHOD), "", 0, r->method, r->method_len);
	/* ModSecurity is given the version and writes "HTTP/" + version: a
	 * protocol that does not start with "HTTP/" is taken as the version */
	bool http = r->protocol_len >= 5 && !memcmp(r->protocol, "HTTP/", 5);
	size_t pl = r->protocol_len + (http ? 0 : 5);
	{
		size_t n = r->method_len + 1 + tl + 1 + pl;
		if (pf_buf_reserve(&sc->arena, sc->arena.len + n + 1) < 0)
			return false;
		size_t o = sc->arena.len;
		put(sc, r->method, r->method_len);
		put(sc, " ", 1);
		put(sc, tg, tl);
		put(sc, " ", 1);
		size_t po = sc->arena.len;
		if (!http)
			put(sc, "HTTP/", 5);
		put(sc, r->protocol, r->protocol_len);
		add_field(sc, BIT(PF_C_LINE), 0, 0, o, n);
		add_field(sc, BIT(PF_C_PROTOCOL), 0, 0, po, pl);
	}
	add_copy(sc, BIT(PF_C_URI_RAW), "", 0, tg, tl);
	if (pf_buf_reserve(&sc->arena, sc->arena.len + ul + 1) < 0)
		return false;
	size_t dec = sc->arena.len;
	size_t dl = uri_decode(tg, ul, sc->arena.p + dec);
	sc->arena.len += dl;
	const uint8_t *dq = memchr(at(sc, dec), '?', dl);
	size_t path_len = dq ? (size_t)(dq - at(sc, dec)) : dl;
	if (q)
		add_copy(sc, BIT(PF_C_QS), "", 0, q + 1, ul - (size_t)(q + 1 - tg));
	add_field(sc, BIT(PF_C_FILENAME), 0, 0, dec, path_len);
	{
		const uint8_t *d = at(sc, dec);
		size_t last = SIZE_MAX;
		for (size_t i = 0; i < path_len; i++)
			if (d[i] == '/' || d[i] == '\\')
				last = i;
		if (last != SIZE_MAX && path_len > last + 1)
			add_field(sc, BIT(PF_C_BASENAME), 0, 0, dec + last + 1, path_len - last - 1);
	}
	{
		/* REQUEST_URI: the decoded URI, an absolute form's scheme and
		 * authority dropped */
		const char *d = (const char *)at(sc, dec);
		size_t uo = 0;
		if (dl && d[0] != '/') {
			const char *colon = memchr(d, ':', dl);
			size_t scheme = colon ? (size_t)(colon - d) + 1 : 0;
			if (colon && scheme + 1 < dl && d[scheme] == '/' && d[scheme + 1] == '/') {
				const char *sl = memchr(d + scheme + 2, '/', dl - scheme - 2);
				if (sl)
					uo = (size_t)(sl - d);
			}
		}
		add_field(sc, BIT(PF_C_URI), 0, 0, dec + uo, dl - uo);
	}
	if (q && ul - (size_t)(q + 1 - tg) > 0)
		extract_args(sc, q + 1, ul - (size_t)(q + 1 - tg), BIT(PF_C_ARGS_GET),
			     BIT(PF_C_ARGS_GET_NAMES), &combined, &nargs);

	/* headers */
	enum { BP_NONE, BP_URLENC, BP_MULTIPART } bp = BP_NONE;
	const struct waf_pf_hdr *ctype = NULL;
	size_t nctype = 0;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const struct waf_pf_hdr *h = &r->hdrs[i];
		/* one copy of the name for both fields */
		size_t hn = put(sc, h->name, h->name_len);
		add_field(sc, BIT(PF_C_HEADERS_NAMES), hn, h->name_len, hn, h->name_len);
		size_t hv = put(sc, h->value, h->value_len);
		add_field(sc, BIT(PF_C_HEADERS), hn, h->name_len, hv, h->value_len);
		if (h->name_len == 6 && !strncasecmp(h->name, "cookie", 6)) {
			const char *v = h->value;
			size_t vl = h->value_len, p = 0;
			while (p < vl) {
				const char *semi = memchr(v + p, ';', vl - p);
				size_t e = semi ? (size_t)(semi - v) : vl;
				size_t b = p, ce = e;
				if (!semi)
					while (ce > b && isspace((unsigned char)v[ce - 1]))
						ce--;
				p = e + 1;
				if (ce == b)
					continue;
				const char *eq = memchr(v + b, '=', ce - b);
				size_t ke = eq ? (size_t)(eq - v) : ce;
				size_t kb = b;
				while (kb < ke && isspace((unsigned char)v[kb]))
					kb++;
				if (kb == ke)
					continue;
				const char *cv = eq ? eq + 1 : v + ce;
				size_t cvl = eq ? ce - (size_t)(eq + 1 - v) : 0;
				size_t cn = put(sc, v + kb, ke - kb);
				size_t co = put(sc, cv, cvl);
				add_field(sc, BIT(PF_C_COOKIES), cn, ke - kb, co, cvl);
				add_field(sc, BIT(PF_C_COOKIES_NAMES), cn, ke - kb, cn, ke - kb);
			}
		}
		if (h->name_len == 12 && !strncasecmp(h->name, "content-type", 12)) {
			ctype = h;
			nctype++;
			if (ci_prefix(h->value, h->value_len, "multipart/form-data"))
				bp = BP_MULTIPART;
			if (ci_prefix(h->value, h->value_len, "application/x-www-form-urlencoded"))
				bp = BP_URLENC;
			/* D5/D33/D35/D38: waf.c hands ModSecurity a text/plain
			 * body that does not open with { or [, a CSV and a YAML
			 * body as one JSON string, an NDJSON body as one array;
			 * not modelled here, ModSecurity decides (any type that
			 * says yaml: wider than 90056, on the safe side) */
			if (ci_prefix(h->value, h->value_len, "text/plain") ||
			    ci_prefix(h->value, h->value_len, "text/csv") ||
			    ci_prefix(h->value, h->value_len, "text/calendar") ||
			    ci_prefix(h->value, h->value_len, "text/vcard") ||
			    ci_prefix(h->value, h->value_len, "text/x-vcard") ||
			    ci_prefix(h->value, h->value_len, "application/x-ndjson") ||
			    ci_has_yaml(h->value, h->value_len))
				return false;
		}
	}
	bool json = false;
	for (size_t i = 0; i < pf->njson_ctl; i++) {
		int f = json_ctl_fires(sc, pf->json_ctl[i], pf->json_re[i]);
		if (f < 0 && (r->body_len || !pf->ctl_is_json[i]))
			return false;
		if (f > 0 && !pf->ctl_is_json[i])
			return false;	/* XML: not parsed here, body or not */
		if (f > 0)
			json = true;
	}
	if (r->body_len) {
		const uint8_t *b = (const uint8_t *)r->body;
		add_copy(sc, BIT(PF_C_BODY), "", 0, b, r->body_len);
		if (json) {
			add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "JSON", 4);
			if (!pf_json_parse(sc, b, r->body_len, &combined, &nargs))
				return false;
		} else if (bp == BP_URLENC) {
			add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "URLENCODED", 10);
			extract_args(sc, b, r->body_len, BIT(PF_C_ARGS_POST),
				     BIT(PF_C_ARGS_POST_NAMES), &combined, &nargs);
		} else if (bp == BP_MULTIPART) {
			add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "MULTIPART", 9);
			if (nctype != 1 || pf->rs.upload_files ||
			    !pf_multipart_parse(sc, ctype->value, ctype->value_len, b, r->body_len))
				return false;
		}
	} else if (json) {
		add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "JSON", 4);
	} else if (bp == BP_URLENC) {
		add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "URLENCODED", 10);
	} else if (bp == BP_MULTIPART) {
		add_copy(sc, BIT(PF_C_REQBODY_PROCESSOR), "", 0, "MULTIPART", 9);
	}
	/* A body processor's parse error (gatehouse's prologue refuses it, rule
	 * 200002): JSON that does not parse, multipart and XML have returned
	 * "might" above; URL-encoded bodies, bodies no processor reads and an
	 * empty JSON body (measured with libmodsecurity 3.0.9) leave it 0. */
	add_copy(sc, BIT(PF_C_REQBODY_ERROR), "", 0, "0", 1);
	if (nargs) {
		char num[24];
		int n = (int)pf_put_dec(num, combined);
		add_copy(sc, BIT(PF_C_ARGS_COMBINED_SIZE), "", 0, num, (size_t)n);
	}
	return !sc->oom;
}

bool waf_pf_passed(const struct waf_pf_scratch *sc)
{
	return sc->passed;
}

long waf_pf_last_rule(const struct waf_pf_scratch *sc)
{
	return sc->last_rule;
}

static const char *const coll_name[PF_C_COUNT] = {
	[PF_C_ARGS_GET] = "ARGS_GET", [PF_C_ARGS_POST] = "ARGS_POST",
	[PF_C_ARGS_GET_NAMES] = "ARGS_GET_NAMES", [PF_C_ARGS_POST_NAMES] = "ARGS_POST_NAMES",
	[PF_C_ARGS_JSON] = "ARGS(json)", [PF_C_ARGS_JSON_NAMES] = "ARGS_NAMES(json)",
	[PF_C_COOKIES] = "REQUEST_COOKIES", [PF_C_COOKIES_NAMES] = "REQUEST_COOKIES_NAMES",
	[PF_C_HEADERS] = "REQUEST_HEADERS", [PF_C_HEADERS_NAMES] = "REQUEST_HEADERS_NAMES",
	[PF_C_URI] = "REQUEST_URI", [PF_C_URI_RAW] = "REQUEST_URI_RAW",
	[PF_C_FILENAME] = "REQUEST_FILENAME", [PF_C_BASENAME] = "REQUEST_BASENAME",
	[PF_C_LINE] = "REQUEST_LINE", [PF_C_QS] = "QUERY_STRING", [PF_C_BODY] = "REQUEST_BODY",
	[PF_C_METHOD] = "REQUEST_METHOD", [PF_C_PROTOCOL] = "REQUEST_PROTOCOL",
	[PF_C_REQBODY_PROCESSOR] = "REQBODY_PROCESSOR",
	[PF_C_ARGS_COMBINED_SIZE] = "ARGS_COMBINED_SIZE", [PF_C_REQBODY_ERROR] = "REQBODY_ERROR",
	[PF_C_FILES] = "FILES", [PF_C_FILES_NAMES] = "FILES_NAMES", [PF_C_FILES_SIZES] = "FILES_SIZES",
	[PF_C_FILES_TMP_CONTENT] = "FILES_TMP_CONTENT",
	[PF_C_FILES_COMBINED_SIZE] = "FILES_COMBINED_SIZE", [PF_C_MULTIPART_NAME] = "MULTIPART_NAME",
	[PF_C_MULTIPART_FILENAME] = "MULTIPART_FILENAME",
	[PF_C_MULTIPART_PART_HEADERS] = "MULTIPART_PART_HEADERS",
};

size_t waf_pf_last_why(const struct waf_pf_scratch *sc, char *buf, size_t len)
{
	int n;

	switch (sc->last_rule) {
	case 0:
		n = snprintf(buf, len, "no rule can match");
		break;
	case -1:
		n = snprintf(buf, len, "a rule matches every request");
		break;
	case -2:
		n = snprintf(buf, len, "a body the pre-filter does not parse");
		break;
	case -3:
		n = snprintf(buf, len, "out of memory");
		break;
	default:
		if (sc->last_field >= 0 && (size_t)sc->last_field < sc->nf) {
			const struct field *f = &sc->f[sc->last_field];
			const char *cn = "?";
			for (int c = 0; c < PF_C_COUNT; c++)
				if (f->mask & (1u << c)) {
					cn = coll_name[c] ? coll_name[c] : "?";
					break;
				}
			n = snprintf(buf, len, "rule %ld on %s%s%.*s", sc->last_rule, cn,
				     f->nlen ? ":" : "", (int)(f->nlen > 64 ? 64 : f->nlen),
				     (const char *)at(sc, f->name));
		} else {
			n = snprintf(buf, len, "rule %ld (a native check)", sc->last_rule);
		}
	}
	return n < 0 ? 0 : (size_t)n;
}

enum scan_sel { SCAN_ALL, SCAN_NOT_BODY, SCAN_BODY };

/* One Vectorscan scan of chain ci's live fields (those sel takes) with
 * db, transformed and joined by '\n'; a field the chain cannot compute
 * makes every link of it reading the field "might".  -1: out of memory
 * or a Vectorscan error. */
static int scan_chain(struct waf_pf_scratch *sc, size_t ci, hs_database_t *db, enum scan_sel sel)
{
	const struct waf_pf *pf = sc->pf;
	const struct pchain *c = &pf->chains[ci];

	sc->cat.len = 0;
	sc->nseg = 0;
	for (size_t k = 0; k < sc->nlive; k++) {
		size_t fi = sc->live[k];
		const struct field *f = &sc->f[fi];
		if (!(c->mask & f->mask))
			continue;
		if (sel != SCAN_ALL && (sel == SCAN_BODY) != !!(f->mask & BIT(PF_C_BODY)))
			continue;
		const uint8_t *t;
		size_t tl;
		int rc = chain_out(sc, fi, ci, &t, &tl);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			for (size_t j = 0; j < c->nlinks; j++)
				if (link_reads(sc, pf->links[c->links[j]], fi)) {
					sc->hit[c->links[j]] = 1;
					sc->hit_field[c->links[j]] = (uint32_t)fi;
				}
			continue;
		}
		if (seg_append(sc, fi, t, tl) < 0)
			return -1;
	}
	if (sc->nseg == 0)
		return 0;
	for (size_t j = 0; j < c->nlinks; j++)
		sc->seen_seg[c->links[j]] = 0;
	struct hs_ctx h = { sc };
	if (sc->cat.len > UINT32_MAX ||
	    scan_fn(db, (const char *)sc->cat.p, (unsigned)sc->cat.len, 0, sc->hs, on_match, &h) !=
		    HS_SUCCESS)
		return -1;
	return 0;
}

/* The rules the verdict loop asks, in rule order (sc->rl_ask): those
 * whose first link is not a Vectorscan link, and those whose first
 * Vectorscan link found something (most found nothing); the hits are
 * read eight links at a time.  Returns how many. */
static size_t rules_to_ask(struct waf_pf_scratch *sc)
{
	size_t n = 0, a = 0, nl = sc->pf->nlinks;

	for (size_t w = 0; w < nl; w += 8) {
		uint64_t x;
		memcpy(&x, sc->hit + w, 8);
		while (x) {
			unsigned b = (unsigned)__builtin_ctzll(x) / 8;
			x &= ~(0xffull << (8 * b));
			int32_t r = w + b < nl ? sc->rl_at[w + b] : -1;
			if (r < 0)
				continue;
			while (a < sc->nrl_other && sc->rl_other[a] < (uint32_t)r)
				sc->rl_ask[n++] = sc->rl_other[a++];
			sc->rl_ask[n++] = (uint32_t)r;
		}
	}
	while (a < sc->nrl_other)
		sc->rl_ask[n++] = sc->rl_other[a++];
	return n;
}

bool waf_pf_scan(const struct waf_pf *pf, struct waf_pf_scratch *sc, const struct waf_pf_req *r)
{
	sc->last_field = -1;
	sc->last_rule = -1;
	sc->passed = false;
	if (pf->always)
		return true;
	sc->last_rule = -2;
	if (!collect(sc, r))
		return true;
	sc->last_rule = -3;
	memset(sc->hit, 0, pf->nlinks);
	if (pf->nnre) {
		size_t n = sc->nf * pf->nnre;
		if (n > sc->nrccap) {
			free(sc->nrc);
			sc->nrccap = n + n / 2 + 64;
			sc->nrc = malloc(sc->nrccap);
			if (!sc->nrc) {
				sc->nrccap = 0;
				return true;
			}
		}
		memset(sc->nrc, 0, n);
	}
	/* the memo of transformed values: entries of an earlier scan are
	 * stale by their generation */
	size_t nm = sc->nf * pf->nchains;
	if (nm > sc->memocap) {
		free(sc->memo);
		sc->memocap = nm + nm / 2 + 64;
		sc->memo = calloc(sc->memocap, sizeof(*sc->memo));
		if (!sc->memo) {
			sc->memocap = 0;
			return true;
		}
	}
	if (++sc->gen == 0) {
		memset(sc->memo, 0, sc->memocap * sizeof(*sc->memo));
		sc->gen = 1;
	}
	sc->tout.len = 0;
	if (clean_memo(sc) < 0)
		return true;
	sc->nlive = 0;
	uint32_t live_mask = 0;	/* the collections of the live fields */
	for (size_t fi = 0; fi < sc->nf; fi++)
		if (!sc->skip[fi]) {
			sc->live[sc->nlive++] = (uint32_t)fi;
			live_mask |= sc->f[fi].mask;
		}

	/* the Vectorscan pass: per chain, one scan of the fields it reads,
	 * transformed and joined by '\n'; where the chain has a database
	 * for REQUEST_BODY, the body is scanned alone with it */
	for (size_t ci = 0; ci < pf->nchains; ci++) {
		const struct pchain *c = &pf->chains[ci];
		if (!c->db || !(c->mask & live_mask))
			continue;	/* no field for it (most, once the memo knows them) */
		if (!c->bdb) {
			if (scan_chain(sc, ci, c->db, SCAN_ALL) < 0)
				return true;
		} else if (scan_chain(sc, ci, c->db, SCAN_NOT_BODY) < 0 ||
			   scan_chain(sc, ci, c->bdb, SCAN_BODY) < 0) {
			return true;
		}
	}

	/* rules: every link must say "might"; a rule pf_pass.c can bound
	 * only adds to the scores, and the scan goes on */
	size_t npass = 0, nask = rules_to_ask(sc);
	for (size_t n = 0; n < nask; n++) {
		const struct rref *q = &sc->rl[sc->rl_ask[n]];
		size_t ri = q->ri, base = q->base;
		const struct prule *pr = &pf->rules[ri];
		bool all = true;
		for (size_t k = 0; k < pr->nlinks && all; k++) {
			int m = link_might(sc, &pr->links[k], base + k);
			if (m < 0)
				return true;
			all = m > 0;
		}
		if (all) {
			if (!npass) {
				sc->last_rule = pr->sl->id;
				for (size_t k = 0; k < pr->nlinks; k++)
					if (pr->links[k].mode == LM_HS) {
						sc->last_field = sc->hit_field[base + k];
						break;
					}
			}
			if (!pf->pass.ok || !pf->pass.adds[ri])
				return true;
			if (!npass++)
				memset(sc->pacc, 0, pf->pass.nvars * sizeof(*sc->pacc));
			for (size_t a = 0; a < pf->pass.nadds[ri]; a++) {
				const struct pf_pass_add *ad = &pf->pass.adds[ri][a];
				sc->pacc[ad->var] += ad->w;   /* each w <= 2^40 */
			}
		}
	}
	if (npass) {
		sc->passed = pf_pass_holds(pf, sc->pacc);
		return true;
	}
	sc->last_rule = 0;
	return false;
}
