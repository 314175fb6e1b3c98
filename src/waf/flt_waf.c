/*
 * flt_waf.c - the WAF filter (`use_waf NAME [if|unless COND]` in a
 * frontend or a backend): every request judged by ModSecurity before any
 * byte of it reaches a server.
 *
 *   req_head  the use_waf and exclude conditions are evaluated (here, on
 *             the worker); a bodyless request is judged at once; one with
 *             a body is held up to body_limit (txn_hold_body_upto(): past
 *             the stream's buffer, in pooled buffers), and one whose
 *             Content-Length is over body_limit is a 413 (body_over_limit
 *             reject)
 *   req_data  the body's bytes are counted up to body_limit (they stay
 *             where the pipeline holds them); past it, a 413 (reject), or
 *             the verdict on what was seen (pass)
 *   req_end   the verdict on the whole request
 *   res_head  inspect_response on: a response of a response_types media
 *             type is held (txn_hold_res_body(), up to
 *             response_body_limit); any other is judged on its head now
 *   res_data  the held body is counted up to response_body_limit; past
 *             it, the verdict on what was seen, the rest passes
 *   res_end   the verdict on the response (phases 3 and 4 through the
 *             request's kept ModSecurity transaction); a block replaces
 *             the response before any of it left
 *
 * A verdict: `strict on` first (waf/strict.h: an ambiguous encoding is a
 * 400, cause waf-ambiguous, before anything else looks at it); then the
 * pre-filter, inline (waf/prefilter.h: "cannot
 * match" skips ModSecurity, no copy; so does "decided: pass" in mode
 * block, when only score additions that cannot reach a threshold might
 * match, waf/pf_pass.c); otherwise a job goes to the offload
 * pool (proxy/offload.h) and the stream waits (FLT_WAIT).  The job owns a
 * copy of the head, and reads the body where the pipeline holds it:
 *
 * Who owns the held body.  The WAF keeps no copy of a body (a held
 * request would cost twice body_limit).  The bytes are the pipeline's:
 * the spill chain (t->req_spill / t->res_spill, proxy/spill.h) and the
 * stream's buffer.  A job takes (held_view, job_new) the chain's runs as
 * pointers and borrows the chain (spill_lend: its buffers are not given
 * back to the pool before the lease ends, even if the transaction ends or
 * a local reply drops the hold meanwhile, and held bytes never move: new
 * ones are appended past them); what lies in the stream's buffer (at most
 * one buffer: the runs since the last spill) is copied into the job, since
 * a buffer compacts and is released.  The lease ends in job_free(), which
 * runs on the worker's thread only (done(), free() of a cancelled job,
 * a refused submit), after the pool thread's run() returned.  So the pool
 * thread reads bytes nobody writes or frees while it reads them, and a
 * held request costs about body_limit once.  The pre-filter and `strict`
 * want the body in one piece: on the worker, a body in more than one run
 * is gathered into a temporary copy for their scan and freed before the
 * filter returns (one at a time per worker, never kept).  The job comes back on this worker: a block is a local
 * reply (the section's `status`, access log cause waf-blocked), and either
 * way the stream is woken.  A stream closed meanwhile frees its state
 * (ctx_free), which cancels the job: its completion is dropped.  A full
 * queue is a 503 (fail closed) with a warning.
 *
 * Matches are logged as one line: "waf NAME blocked|detected: ID MSG; ...".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include "core/log.h"
#include "filter/cond.h"
#include "proxy/filter.h"
#include "proxy/offload.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "waf/strict.h"
#include "waf/waf.h"

struct waf_job;

/* Per transaction (struct flt_ctx). */
struct waf_ctx {
	struct flt_ctx c;
	struct stream *s;
	const struct cfg_use_waf *use;
	struct waf_job *job;      /* submitted, not yet back */
	uint64_t body_seen;       /* body bytes seen, up to body_limit (held by
				     the pipeline, not copied: held_view) */
	uint32_t excl;            /* conditional exclusions that apply */
	bool skip;                /* use_waf's condition is false: not inspected */
	bool judged;
	bool partial;             /* the body went past body_limit */
	bool res_judged;          /* inspect_response: the response head was judged */
	struct waf_tx *tx;        /* inspect_response: the request's transaction, kept */
	char *ids;                /* matched rule ids, for the access log */
	/* inspect_response, a body of a listed type: the response is held
	 * (txn_hold_res_body) and its first response_body_limit bytes read
	 * where they are held */
	bool res_body;
	uint64_t rbody_seen;
};

struct waf_job {
	struct offload_job oj;
	const struct waf_rt *rt;
	struct waf_ctx *ctx;      /* valid while not cancelled (owner thread) */
	struct waf_conn conn;
	struct waf_pf_req req;
	uint32_t excl;
	bool partial;
	bool response;            /* phases 3-4 of tx: req.hdrs are the response's */
	bool was_local;           /* t->local at submit: a reply made meanwhile (a
				     timeout's) wins over the verdict */
	int status;               /* the response's */
	struct waf_tx *tx;        /* request: kept here by run(); response: to inspect */
	struct iovec *body;       /* the body's runs: the held chain's (borrowed
				     through lease), then copies in the job */
	size_t nbody;
	struct spill_lease lease; /* ended by job_free (worker thread) */
	bool ok;
	struct waf_result res;
	uint64_t cpu_us;          /* the inspection's CPU time */
	struct waf_pf_hdr hdrs[];  /* then the bytes of the copy */
};

extern const struct filter_ops flt_waf_fe_ops, flt_waf_be_ops;

/* ---- the request as ModSecurity and the pre-filter see it ---- */

/*
 * Fills r from s's request: method, raw target, protocol, the header
 * fields that go on (in order; HTTP/2's :authority as Host when there is
 * none), the body copied so far.  hdrs has room for every field.
 */
static void req_view(const struct stream *s, struct waf_pf_req *r, struct waf_pf_hdr *hdrs)
{
	const struct http_msg *m = &s->txn->req;
	size_t n = 0;

	r->method = m->method.p;
	r->method_len = m->method.len;
	r->target = m->target.p;
	r->target_len = m->target.len;
	if (m->version_major >= 2) {
		r->protocol = "HTTP/2.0";
		r->protocol_len = 8;
	} else {
		r->protocol = m->version_minor ? "HTTP/1.1" : "HTTP/1.0";
		r->protocol_len = 8;
	}
	bool host = false;
	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		if (h->flags & HDR_F_DELETED)
			continue;
		host |= h->id == HDR_HOST;
		hdrs[n++] = (struct waf_pf_hdr){ h->name.p, h->name.len, h->value.p, h->value.len };
	}
	if (!host && m->authority.len)
		hdrs[n++] = (struct waf_pf_hdr){ "Host", 4, m->authority.p, m->authority.len };
	r->hdrs = hdrs;
	r->nhdrs = n;
	r->body = NULL;   /* held_view */
	r->body_len = 0;
}

#define VIEW_HDRS (HTTP_MAX_HDRS + HTTP_HDRS_ADDED + 1)

static size_t copy(char **at, const char *p, size_t len)
{
	if (len)
		memcpy(*at, p, len);
	*at += len;
	return len;
}

/*
 * The held body as the WAF reads it, in place: the first `want` bytes of
 * the chain sp, then of buffer b's output (up to the end of the run p when
 * the run lies in b, as HTTP/2's does before the codec advances past it),
 * then of the run p when it lies elsewhere.  The chain's runs come first
 * (v->nchain of them: they may be lent to a job), then at most two runs in
 * the buffer or the caller's run (a job copies those).  v->iov has room
 * for sp->nbufs + 2 runs.
 */
struct held_view {
	struct iovec *iov;
	uint32_t n, nchain;
	uint64_t len;
	struct spill *sp;
};

static bool held_view(struct held_view *v, struct spill *sp, const struct buf *b, const char *p,
		      size_t plen, uint64_t want, struct iovec *stack, uint32_t nstack)
{
	uint32_t max = sp->nbufs + 2;
	uint64_t got = 0;

	v->iov = max <= nstack ? stack : malloc(max * sizeof(*v->iov));
	if (!v->iov)
		return false;
	v->sp = sp;
	v->nchain = v->n = spill_runs(sp, want, v->iov, max - 2, &got);
	uint64_t rest = want - got;
	if (b->area && rest) {
		const char *start = buf_out(b), *end = start + buf_out_len(b);
		if (p && p >= b->area && p < b->area + buf_size) {
			if (p + plen > end)
				end = p + plen;
			p = NULL;   /* in the buffer's part */
		}
		uint64_t k = (uint64_t)(end - start) < rest ? (uint64_t)(end - start) : rest;
		if (k) {
			v->iov[v->n].iov_base = (void *)start;
			v->iov[v->n++].iov_len = k;
			rest -= k;
		}
	}
	if (p && plen && rest) {
		v->iov[v->n].iov_base = (void *)p;
		v->iov[v->n++].iov_len = plen < rest ? plen : rest;
		rest -= v->iov[v->n - 1].iov_len;
	}
	v->len = want - rest;
	return true;
}

static void held_view_done(struct held_view *v, struct iovec *stack)
{
	if (v->iov != stack)
		free(v->iov);
	v->iov = NULL;
}

/* The view in one piece for the pre-filter and `strict`: the run itself
 * when there is one, else gathered into *tmp (the caller frees it).
 * False out of memory. */
static bool held_flat(const struct held_view *v, const char **body, char **tmp)
{
	*tmp = NULL;
	*body = v->n ? v->iov[0].iov_base : NULL;
	if (v->n <= 1)
		return true;
	char *f = malloc(v->len), *at = f;
	if (!f)
		return false;
	for (uint32_t i = 0; i < v->n; i++)
		copy(&at, v->iov[i].iov_base, v->iov[i].iov_len);
	*body = *tmp = f;
	return true;
}

/* A job owning a copy of the head of r and reading the body v: the
 * chain's runs borrowed (spill_lend; copied when the chain is lent
 * already), the others copied.  One allocation. */
static struct waf_job *job_new(const struct waf_rt *rt, const struct waf_pf_req *r,
			       struct held_view *v)
{
	size_t bytes = r->method_len + r->target_len + r->protocol_len;
	for (size_t i = 0; i < r->nhdrs; i++)
		bytes += r->hdrs[i].name_len + r->hdrs[i].value_len;
	uint32_t nbody = v ? v->n : 0, nchain = v ? v->nchain : 0;
	bool lent = nchain && !v->sp->lease;   /* one lease per chain */
	for (uint32_t i = lent ? nchain : 0; i < nbody; i++)
		bytes += v->iov[i].iov_len;
	struct waf_job *j = calloc(1, sizeof(*j) + r->nhdrs * sizeof(j->hdrs[0]) +
					  nbody * sizeof(struct iovec) + bytes);
	if (!j)
		return NULL;
	if (lent)
		spill_lend(v->sp, &j->lease);
	j->body = (struct iovec *)(j->hdrs + r->nhdrs);
	char *at = (char *)(j->body + nbody);
	j->rt = rt;
	j->req.method = at;
	j->req.method_len = copy(&at, r->method, r->method_len);
	j->req.target = at;
	j->req.target_len = copy(&at, r->target, r->target_len);
	j->req.protocol = at;
	j->req.protocol_len = copy(&at, r->protocol, r->protocol_len);
	for (size_t i = 0; i < r->nhdrs; i++) {
		j->hdrs[i].name = at;
		j->hdrs[i].name_len = copy(&at, r->hdrs[i].name, r->hdrs[i].name_len);
		j->hdrs[i].value = at;
		j->hdrs[i].value_len = copy(&at, r->hdrs[i].value, r->hdrs[i].value_len);
	}
	j->req.hdrs = j->hdrs;
	j->req.nhdrs = r->nhdrs;
	for (uint32_t i = 0; i < nbody; i++) {
		j->body[i].iov_len = v->iov[i].iov_len;
		if (lent && i < nchain) {
			j->body[i].iov_base = v->iov[i].iov_base;   /* borrowed */
		} else {
			j->body[i].iov_base = at;
			copy(&at, v->iov[i].iov_base, v->iov[i].iov_len);
		}
	}
	j->nbody = nbody;
	return j;
}

static void job_free(struct waf_job *j)
{
	if (!j)
		return;
	spill_lease_end(&j->lease);   /* worker thread; run() is over */
	waf_result_free(&j->res);
	waf_tx_free(j->tx);
	free(j);
}

static uint64_t cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Pool thread. */
static void job_run(struct offload_job *oj)
{
	struct waf_job *j = (struct waf_job *)oj;
	uint64_t t0 = cpu_us();
	if (j->response)
		j->ok = waf_inspect_response(j->tx, j->status, "HTTP 1.1", j->req.hdrs, j->req.nhdrs,
					     j->body, j->nbody, &j->res);
	else
		j->ok = waf_inspect(j->rt, &j->req, j->body, j->nbody, &j->conn, j->excl,
				    j->partial, &j->res,
				    j->rt->cfg->inspect_response ? &j->tx : NULL);
	j->cpu_us = cpu_us() - t0;
}

static void job_drop(struct offload_job *oj)
{
	job_free((struct waf_job *)oj);
}

/* ---- verdicts ---- */

static enum flt_verdict reply(struct stream *s, int status, uint8_t term)
{
	struct local_resp r = { .status = (uint16_t)status, .term = term, .no_store = true };
	local_reply(s, &r);
	return FLT_STOP;
}

/* Applies a finished inspection: the log line, a block.  FLT_STOP when it
 * answered. */
static enum flt_verdict apply(struct waf_ctx *x, struct waf_job *j)
{
	struct stream *s = x->s;
	const struct cfg_waf *w = x->use->waf;
	char src[64];

	x->judged = true;
	if (!j->ok) {
		log_warn("%s: %s \"%s\" waf %s: inspection failed (out of memory); 503",
			 s->fe->name, stream_src_text(s, src, sizeof(src)), txn_line(s->txn),
			 w->name);
		return reply(s, 503, TERM_INTERNAL);
	}
	log_debug("waf %s: inspected in %llu us of CPU, %llu us after submit", w->name,
		  (unsigned long long)j->cpu_us,
		  (unsigned long long)(mono_us() - j->oj.submit_us));
	bool block = j->res.block && !w->detect;
	if (!j->res.matched || (!block && !w->detect))
		return FLT_CONTINUE;
	free(x->ids);
	x->ids = j->res.ids ? strdup(j->res.ids) : NULL;
	log_warn("%s: %s \"%s\" waf %s %s%s: %s", s->fe->name,
		 stream_src_text(s, src, sizeof(src)), txn_line(s->txn), w->name,
		 block ? "blocked" : "detected", j->response ? " the response" : "",
		 j->res.summary ? j->res.summary : "-");
	return block ? reply(s, w->status, TERM_WAF_BLOCKED) : FLT_CONTINUE;
}

/* Owning worker: the job is back and its stream still waits. */
static void job_done(struct offload_job *oj)
{
	struct waf_job *j = (struct waf_job *)oj;
	struct waf_ctx *x = j->ctx;
	struct stream *s = x->s;

	x->job = NULL;
	if (s->txn->local != j->was_local) {
		/* answered while the job ran (a timeout): too late to judge */
		x->judged = x->res_judged = true;
		job_free(j);
		return;
	}
	if (j->response)
		x->res_judged = true;
	else if (j->tx) {   /* inspect_response: kept for the response's head */
		x->tx = j->tx;
		j->tx = NULL;
	}
	apply(x, j);
	job_free(j);
	stream_wake(s);
}

/* The pre-filter's scratch of this thread for pf, made on first use and
 * kept for the thread's life; NULL (ModSecurity runs) past PF_CACHE
 * sections or out of memory.  Keyed by pointer: a configuration reload
 * (issue 12) must key it by generation too, or free it with the rt. */
#define PF_CACHE 8

struct pf_cache {
	struct {
		const struct waf_pf *pf;
		struct waf_pf_scratch *sc;
	} v[PF_CACHE];
};

static pthread_key_t pf_cache_key;
static pthread_once_t pf_cache_once = PTHREAD_ONCE_INIT;

/* A worker thread ends: its scratches go (the key's destructor). */
static void pf_cache_free(void *p)
{
	struct pf_cache *c = p;
	for (int i = 0; i < PF_CACHE; i++)
		waf_pf_scratch_free(c->v[i].sc);
	free(c);
}

static void pf_cache_key_init(void)
{
	(void)pthread_key_create(&pf_cache_key, pf_cache_free);
}

static struct waf_pf_scratch *pf_scratch(const struct waf_pf *pf)
{
	pthread_once(&pf_cache_once, pf_cache_key_init);
	struct pf_cache *c = pthread_getspecific(pf_cache_key);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || pthread_setspecific(pf_cache_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	for (int i = 0; i < PF_CACHE; i++) {
		if (c->v[i].pf == pf)
			return c->v[i].sc;
		if (!c->v[i].pf) {
			c->v[i].sc = waf_pf_scratch_new(pf);
			c->v[i].pf = c->v[i].sc ? pf : NULL;
			return c->v[i].sc;
		}
	}
	return NULL;
}

/*
 * `strict on`: the request's ambiguous encodings (waf/strict.h), on the
 * same view the pre-filter, ModSecurity and the server get (raw target,
 * the body as held, de-chunked).  FLT_STOP when answered (400, or 503 out
 * of memory), else FLT_CONTINUE (also in mode detect, after the log line).
 */
static enum flt_verdict strict_check(struct stream *s, struct waf_ctx *x,
				     const struct waf_pf_req *r)
{
	const struct cfg_waf *w = x->use->waf;
	const char *ct[2];
	size_t ctl[2], nct = 0;
	struct waf_strict_why why;
	char src[64];

	for (size_t i = 0; i < r->nhdrs && nct < 2; i++)
		if (r->hdrs[i].name_len == 12 && !strncasecmp(r->hdrs[i].name, "content-type", 12)) {
			ct[nct] = r->hdrs[i].value;
			ctl[nct++] = r->hdrs[i].value_len;
		}
	struct waf_strict_req q = {
		.target = r->target, .target_len = r->target_len, .ctype = ct, .ctype_len = ctl,
		.nctype = nct, .body = r->body, .body_len = r->body_len, .partial = x->partial,
		.encoded_slash = w->strict_slash,
	};
	enum waf_strict_res res = waf_strict_check(&q, &why);
	if (res == WAF_STRICT_OK)
		return FLT_CONTINUE;
	if (res == WAF_STRICT_NOMEM) {
		x->judged = true;
		return reply(s, 503, TERM_INTERNAL);
	}
	log_warn("%s: %s \"%s\" waf %s ambiguous: %s in %s (%s)%s", s->fe->name,
		 stream_src_text(s, src, sizeof(src)), txn_line(s->txn), w->name, why.what,
		 why.where, why.at, w->detect ? "; passed (mode detect)" : "");
	if (w->detect)
		return FLT_CONTINUE;
	x->judged = true;
	return reply(s, 400, TERM_WAF_AMBIGUOUS);
}

/* Hands j to the offload pool and parks the stream (FLT_WAIT); a full
 * queue is a 503 (fail closed), *judged then set. */
static enum flt_verdict submit(struct stream *s, struct waf_ctx *x, struct waf_job *j,
			       bool *judged)
{
	char src[64];

	j->oj.run = job_run;
	j->oj.done = job_done;
	j->oj.free = job_drop;
	if (!offload_submit(s->w, &j->oj)) {
		job_free(j);
		*judged = true;
		log_warn("%s: %s \"%s\" waf %s: inspection queue full (waf_queue %d); 503",
			 s->fe->name, stream_src_text(s, src, sizeof(src)), txn_line(s->txn),
			 x->use->waf->name, s->w->cfg->global.waf_queue);
		return reply(s, 503, TERM_INTERNAL);
	}
	x->job = j;
	return FLT_WAIT;
}

/* judge() on r (its body in one piece when strict or the pre-filter
 * reads it) and the held body v. */
static enum flt_verdict judge_view(struct stream *s, struct waf_ctx *x, const struct waf_pf_req *rq,
				   struct held_view *v, bool pf)
{
	const struct cfg_waf *w = x->use->waf;
	const struct waf_rt *rt = w->rt;
	struct waf_pf_req r = *rq;

	if (w->strict && strict_check(s, x, &r) == FLT_STOP)
		return FLT_STOP;
	if (pf) {
		struct waf_pf_scratch *sc = pf_scratch(rt->pf);
		if (sc && !waf_pf_scan(rt->pf, sc, &r)) {
			x->judged = true;
			return FLT_CONTINUE;
		}
		/* "decided: pass": only score additions that cannot reach a
		 * threshold might match, so ModSecurity would not block.  In
		 * mode block a match that does not block is not reported
		 * (apply()), so the outcome is the same; mode detect logs the
		 * match and asks ModSecurity.  Conditional exclusions and a
		 * body cut at body_limit add what the pre-filter does not see:
		 * those go to ModSecurity too. */
		if (sc && !w->detect && !x->excl && !x->partial && waf_pf_passed(sc)) {
			if (log_level >= LOG_DEBUG) {
				char why[160];
				waf_pf_last_why(sc, why, sizeof(why));
				log_debug("waf %s: \"%s\": passed by the pre-filter (scores below "
					  "the thresholds): %s", w->name, txn_line(s->txn), why);
			}
			x->judged = true;
			return FLT_CONTINUE;
		}
		if (sc && log_level >= LOG_DEBUG) {
			char why[160];
			waf_pf_last_why(sc, why, sizeof(why));
			log_debug("waf %s: \"%s\": to ModSecurity, pre-filter: %s", w->name,
				  txn_line(s->txn), why);
		}
	}
	struct waf_job *j = job_new(rt, &r, v);
	if (!j) {
		x->judged = true;
		return reply(s, 503, TERM_INTERNAL);
	}
	struct sockaddr_storage ss;
	stream_src(s, &ss);
	addr_ntop((const struct sockaddr *)&ss, j->conn.client, sizeof(j->conn.client));
	j->conn.client_port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	snprintf(j->conn.server, sizeof(j->conn.server), "0.0.0.0");
	j->excl = x->excl;
	j->partial = x->partial;
	j->was_local = s->txn->local;
	j->ctx = x;
	return submit(s, x, j, &x->judged);
}

#define VIEW_STACK 8

/* Judges the request as seen so far (p: the data run being shown, NULL at
 * the end): FLT_CONTINUE (nothing to stop it), FLT_WAIT (the job is out)
 * or FLT_STOP (answered). */
static enum flt_verdict judge(struct stream *s, struct waf_ctx *x, const char *p, size_t plen)
{
	const struct cfg_waf *w = x->use->waf;
	struct waf_pf_hdr hdrs[VIEW_HDRS];
	struct waf_pf_req r;
	struct iovec stack[VIEW_STACK];
	struct held_view v;
	char *tmp = NULL;

	req_view(s, &r, hdrs);
	if (!held_view(&v, &s->txn->req_spill, &s->req, p, plen, x->body_seen, stack,
		       VIEW_STACK)) {
		x->judged = true;
		return reply(s, 503, TERM_INTERNAL);
	}
	/* The pre-filter reasons about request rules only: with
	 * inspect_response the transaction is needed for the response; and
	 * it does not model a body of an `allow_types` type read whole. */
	bool pf = w->rt->pf && !w->inspect_response && !waf_reads_whole(w->rt, &r);
	if ((w->strict || pf) && !held_flat(&v, &r.body, &tmp)) {
		held_view_done(&v, stack);
		x->judged = true;
		return reply(s, 503, TERM_INTERNAL);
	}
	r.body_len = r.body ? v.len : 0;
	enum flt_verdict res = judge_view(s, x, &r, &v, pf);
	free(tmp);   /* the job (if any) took runs of its own */
	held_view_done(&v, stack);
	return res;
}

/* ---- the filter ---- */

static void ctx_free(struct flt_ctx *c)
{
	struct waf_ctx *x = (struct waf_ctx *)c;

	if (x->job)
		offload_cancel(&x->job->oj);   /* freed by the seam when it is back */
	waf_tx_free(x->tx);   /* on the worker: cleanup only frees memory */
	free(x->ids);
	free(x);
}

static struct waf_ctx *ctx_of(struct stream *s, const struct filter_ops *ops)
{
	return flt_ctx_get(s->txn, ops);
}

static enum flt_verdict req_head(struct stream *s, const struct cfg_use_waf *u,
				 const struct filter_ops *ops)
{
	struct txn *t = s->txn;
	struct waf_ctx *x = ctx_of(s, ops);

	if (x)   /* again after a wait: the verdict was applied */
		return FLT_CONTINUE;
	if (!(x = calloc(1, sizeof(*x))))
		return reply(s, 503, TERM_INTERNAL);
	x->s = s;
	x->use = u;
	flt_ctx_attach(t, &x->c, ops);

	struct sockaddr_storage ss;
	struct cond_ctx cc;
	stream_cond_ctx(s, &cc, &ss);
	if (u->cond && !cond_eval(u->cond, &cc)) {
		x->skip = x->judged = true;
		return FLT_CONTINUE;
	}
	const struct cfg_waf *w = u->waf;
	for (int i = 0, k = 0; i < w->nexcludes; i++) {
		if (!w->excludes[i].cond)
			continue;
		if (cond_eval(w->excludes[i].cond, &cc))
			x->excl |= 1u << k;
		k++;
	}
	const struct http_msg *m = &t->req;
	if (m->body == BODY_NONE || (m->body == BODY_LENGTH && !m->content_length))
		return judge(s, x, NULL, 0);
	if (m->body == BODY_LENGTH && m->content_length > w->body_limit && !w->body_over_pass) {
		x->judged = true;
		return reply(s, 413, TERM_CLIENT_ERROR);
	}
	/* held up to body_limit, past the buffer if need be (spilled in
	 * pooled buffers): no byte reaches a server before the verdict */
	txn_hold_body_upto(t, w->body_limit);
	return FLT_CONTINUE;
}

/* Counts what fits of len under limit in *seen; true when some did not
 * (the body goes past limit).  The bytes stay where the pipeline holds
 * them (held_view). */
static bool body_count(uint64_t *seen, uint64_t limit, size_t len)
{
	uint64_t room = limit > *seen ? limit - *seen : 0;
	*seen += len < room ? len : room;
	return len > room;
}

static enum flt_verdict req_data(struct stream *s, const struct filter_ops *ops, const char *p,
				 size_t len)
{
	struct waf_ctx *x = ctx_of(s, ops);

	if (!x || x->judged)
		return FLT_CONTINUE;
	if (x->job)   /* woken before the verdict: still judging */
		return FLT_WAIT;
	const struct cfg_waf *w = x->use->waf;
	if (!body_count(&x->body_seen, w->body_limit, len))
		return FLT_CONTINUE;
	x->partial = true;
	if (!w->body_over_pass) {
		x->judged = true;
		return reply(s, 413, TERM_CLIENT_ERROR);
	}
	return judge(s, x, p, len);   /* on what it saw; the rest is not inspected */
}

static enum flt_verdict req_end(struct stream *s, const struct filter_ops *ops)
{
	struct waf_ctx *x = ctx_of(s, ops);

	if (!x || x->judged)
		return FLT_CONTINUE;
	if (x->job)
		return FLT_WAIT;
	return judge(s, x, NULL, 0);
}

/* inspect_response: whether the response's body is inspected too: it
 * has one and its media type is in response_types. */
static bool res_body_wanted(const struct txn *t, const struct cfg_waf *w)
{
	const struct http_msg *m = &t->res;

	if (m->body == BODY_NONE || m->body == BODY_TUNNEL || t->meth == HTTP_METH_HEAD ||
	    (m->body == BODY_LENGTH && !m->content_length) || !w->response_types)
		return false;
	int pos = 0;
	const struct http_hdr *h = msg_hdr_find((struct http_msg *)m, SLICE_LIT("content-type"), &pos);
	if (!h)
		return false;
	const char *v = h->value.p, *e = v + h->value.len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	size_t n = 0;
	while (v + n < e && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
		n++;
	if (!n)
		return false;
	for (const char *l = w->response_types; *l;) {
		size_t k = strcspn(l, " ");
		if (k == n && !strncasecmp(l, v, n))
			return true;
		l += k;
		while (*l == ' ')
			l++;
	}
	return false;
}

/* Phases 3 and 4 on the response as seen: its head, and the body held so
 * far when it is inspected (p: the data run being shown, NULL at the end
 * or at the head). */
static enum flt_verdict res_judge(struct stream *s, struct waf_ctx *x, const char *p, size_t plen)
{
	struct txn *t = s->txn;
	const struct http_msg *m = &t->res;
	struct waf_pf_hdr hdrs[VIEW_HDRS];
	size_t n = 0;
	for (uint16_t i = 0; i < m->nhdrs && n < VIEW_HDRS; i++)
		if (!(m->hdrs[i].flags & HDR_F_DELETED))
			hdrs[n++] = (struct waf_pf_hdr){ m->hdrs[i].name.p, m->hdrs[i].name.len,
							 m->hdrs[i].value.p, m->hdrs[i].value.len };
	struct waf_pf_req r = { .method = "", .target = "", .protocol = "", .hdrs = hdrs,
				.nhdrs = n };
	struct iovec stack[VIEW_STACK];
	struct held_view v;
	struct waf_job *j = NULL;
	if (held_view(&v, &t->res_spill, &s->res, p, plen, x->rbody_seen, stack, VIEW_STACK)) {
		j = job_new(x->use->waf->rt, &r, &v);
		held_view_done(&v, stack);
	}
	if (!j) {
		x->res_judged = true;
		return reply(s, 503, TERM_INTERNAL);
	}
	j->response = true;
	j->was_local = t->local;
	j->status = m->status;
	j->tx = x->tx;
	x->tx = NULL;
	j->ctx = x;
	return submit(s, x, j, &x->res_judged);
}

/* inspect_response: the server's response through the request's kept
 * transaction.  A body of a listed type holds the response (the head
 * waits: txn_hold_res_body) until its end or response_body_limit, where
 * res_data / res_end judge it; otherwise the head is judged now.  A block
 * replaces the response before any of it left. */
static enum flt_verdict res_head(struct stream *s, const struct filter_ops *ops)
{
	struct waf_ctx *x = s->txn ? ctx_of(s, ops) : NULL;
	struct txn *t = s->txn;

	if (!x || !x->tx || x->res_judged || x->res_body || t->local)
		return FLT_CONTINUE;
	if (x->job)
		return FLT_WAIT;
	const struct cfg_waf *w = x->use->waf;
	if (res_body_wanted(t, w)) {
		x->res_body = true;
		txn_hold_res_body(t, w->response_body_limit);
		return FLT_CONTINUE;
	}
	return res_judge(s, x, NULL, 0);
}

static enum flt_verdict res_data(struct stream *s, const struct filter_ops *ops, const char *p,
				 size_t len)
{
	struct waf_ctx *x = ctx_of(s, ops);

	if (!x || !x->res_body || x->res_judged || s->txn->local)
		return FLT_CONTINUE;
	if (x->job)   /* woken early: still judging */
		return FLT_WAIT;
	if (!x->tx)
		return FLT_CONTINUE;
	/* past response_body_limit: judged on what was seen, the rest passes
	 * (ModSecurity's SecResponseBodyLimitAction ProcessPartial) */
	if (body_count(&x->rbody_seen, x->use->waf->response_body_limit, len))
		return res_judge(s, x, p, len);
	return FLT_CONTINUE;
}

static enum flt_verdict res_end(struct stream *s, const struct filter_ops *ops)
{
	struct waf_ctx *x = ctx_of(s, ops);

	if (!x || !x->res_body || x->res_judged || s->txn->local)
		return FLT_CONTINUE;
	if (x->job)
		return FLT_WAIT;
	if (!x->tx)
		return FLT_CONTINUE;
	return res_judge(s, x, NULL, 0);
}

static enum flt_verdict fe_res_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	return res_data(s, &flt_waf_fe_ops, p, len);
}

static enum flt_verdict be_res_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	return res_data(s, &flt_waf_be_ops, p, len);
}

static enum flt_verdict fe_res_end(struct stream *s, const void *conf,
				   const struct http_msg *trailers)
{
	return res_end(s, &flt_waf_fe_ops);
}

static enum flt_verdict be_res_end(struct stream *s, const void *conf,
				   const struct http_msg *trailers)
{
	return res_end(s, &flt_waf_be_ops);
}

static enum flt_verdict fe_res_head(struct stream *s, const void *conf)
{
	return res_head(s, &flt_waf_fe_ops);
}

static enum flt_verdict be_res_head(struct stream *s, const void *conf)
{
	return res_head(s, &flt_waf_be_ops);
}

static enum flt_verdict fe_req_head(struct stream *s, const void *conf)
{
	return req_head(s, conf, &flt_waf_fe_ops);
}

static enum flt_verdict be_req_head(struct stream *s, const void *conf)
{
	return req_head(s, conf, &flt_waf_be_ops);
}

static enum flt_verdict fe_req_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	return req_data(s, &flt_waf_fe_ops, p, len);
}

static enum flt_verdict be_req_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	return req_data(s, &flt_waf_be_ops, p, len);
}

static enum flt_verdict fe_req_end(struct stream *s, const void *conf,
				   const struct http_msg *trailers)
{
	return req_end(s, &flt_waf_fe_ops);
}

static enum flt_verdict be_req_end(struct stream *s, const void *conf,
				   const struct http_msg *trailers)
{
	return req_end(s, &flt_waf_be_ops);
}

/* %[waf_rules]: the ids this use_waf matched (frontend or backend). */
static const char *waf_var(const struct flt_ctx *c, int fetch)
{
	const struct waf_ctx *x = (const struct waf_ctx *)c;
	return fetch == FETCH_WAF_RULES ? x->ids : NULL;
}

const struct filter_ops flt_waf_fe_ops = {
	.name = "waf",
	.req_head = fe_req_head,
	.req_data = fe_req_data,
	.req_end = fe_req_end,
	.res_head = fe_res_head,
	.res_data = fe_res_data,
	.res_end = fe_res_end,
	.ctx_free = ctx_free,
	.var = waf_var,
};

const struct filter_ops flt_waf_be_ops = {
	.name = "waf",
	.req_head = be_req_head,
	.req_data = be_req_data,
	.req_end = be_req_end,
	.res_head = be_res_head,
	.res_data = be_res_data,
	.res_end = be_res_end,
	.ctx_free = ctx_free,
	.var = waf_var,
};

