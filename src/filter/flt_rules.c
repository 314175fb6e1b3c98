/*
 * flt_rules.c - the filter that runs a frontend's or a backend's
 * http_request and http_response rules (filter/rules.c) on a stream, and
 * turns their verdicts into the pipeline's: a rewrite continues, `allow`
 * ends this chain, deny/return/redirect and a `limit` over its rate (429 +
 * Retry-After) or its concurrency (429) become a local reply that keeps
 * the connection alive where it can, and a rewrite that does not fit is a
 * 500.
 *
 * Waiting: a limit's `delay` and a `tarpit` park the stream until a time
 * (stream_wait_until(), FLT_WAIT; no worker sleeps).  The list then
 * resumes after the rule that waited (t->rules_resume), or the tarpit
 * answers and closes.  A stream woken early (an HTTP/2 event) parks again
 * until the same time.
 *
 * Concurrency places a `limit` rule took (t->slots) are given back in the
 * end phase, which runs once per transaction whatever ended it (delivered,
 * refused, aborted, reset); refusals are logged at most once a second per
 * limit, with how many lines were left out.
 *
 * The tcp_request connection rules run at accept instead (session.c calls
 * rules_tcp_accept()), before any byte is read; their places are the
 * session's, given back when it closes (rules_tcp_close()).
 */
#include <stdio.h>
#include "core/log.h"
#include "filter/rules.h"
#include "limit/limit.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

/* The warning for a limit's refusal, or NULL when this one is not logged
 * (sampled: one line a second per limit). */
static const char *limit_why(const struct rule_exec *x, char *why, size_t len)
{
	const struct cfg_limit *l = x->rule->limit;
	uint64_t more = 0;
	char tail[64] = "";

	if (!l || !l->table || !limit_log_sample(l->table, limit_now_ns(), &more))
		return NULL;
	if (more)
		snprintf(tail, sizeof(tail), "; %llu more suppressed", (unsigned long long)more);
	switch (x->limit_verdict) {
	case LIMIT_OVER_RATE:
		snprintf(why, len, "over limit '%s' (rule at line %d), Retry-After %us%s",
			 x->rule->limit_name, rule_line(x->rule), x->retry_after, tail);
		break;
	case LIMIT_OVER_CONCURRENT:
		snprintf(why, len, "over limit '%s' (concurrent %llu, rule at line %d)%s",
			 x->rule->limit_name, (unsigned long long)l->concurrent,
			 rule_line(x->rule), tail);
		break;
	default:
		snprintf(why, len,
			 "limit '%s' is full of keys in use: a new key refused (rule at line %d)%s",
			 x->rule->limit_name, rule_line(x->rule), tail);
		break;
	}
	return why;
}

static enum flt_verdict respond(struct stream *s, struct rule_exec *x, enum rule_verdict v)
{
	char why[200];
	struct local_resp r = { .status = x->status };

	if (v == RULE_ERROR) {
		snprintf(why, sizeof(why), "rule at line %d: %s", rule_line(x->rule),
			 x->why ? x->why : "rewrite failed");
		s->txn->term = TERM_INTERNAL;
		http_reply_error(s, 500, why);
		return FLT_STOP;
	}
	r.body = x->body;
	r.content_type = x->content_type;
	r.location = x->location;
	if (x->rule && x->rule->act == RA_DENY) {
		r.term = TERM_RULE_DENY;
		snprintf(why, sizeof(why), "denied by the rule at line %d", rule_line(x->rule));
		r.why = why;
		r.no_store = true;
	} else if (x->rule && x->rule->act == RA_LIMIT) {
		r.term = x->limit_verdict == LIMIT_OVER_RATE ? TERM_RATE_LIMITED : TERM_CONN_LIMITED;
		r.why = limit_why(x, why, sizeof(why));
		r.no_store = true;
		r.retry_after = x->retry_after;
	}
	local_reply(s, &r);
	return FLT_STOP;
}

/* The loop-clock time (ms) wait_ns from now: rounded up, so the wait is
 * never shorter than asked (the loop's clock is the same monotonic one,
 * in whole ms). */
static uint64_t deadline_ms(uint64_t wait_ns)
{
	return (limit_now_ns() + wait_ns + 999999) / 1000000;
}

/* A tarpit's time is up: its answer, and the connection closes. */
static enum flt_verdict tarpit_answer(struct stream *s)
{
	const struct rule *rl = s->txn->tarpit;
	struct local_resp r = { .status = rl->status, .body = rl->body, .term = TERM_TARPIT,
				.close = true, .no_store = true };

	s->txn->tarpit = NULL;
	local_reply(s, &r);
	return FLT_STOP;
}

static enum flt_verdict run(struct stream *s, const struct rule_list *l, struct http_msg *msg,
			    bool req)
{
	struct txn *t = s->txn;

	if (req && t->rules_wait_ms) {
		if (s->w->loop.now < t->rules_wait_ms) {   /* woken early: not yet */
			stream_wait_until(s, t->rules_wait_ms);
			return FLT_WAIT;
		}
		t->rules_wait_ms = 0;
		if (t->tarpit)
			return tarpit_answer(s);
	}

	struct sockaddr_storage ss;
	struct cond_ctx ctx;
	stream_cond_ctx(s, &ctx, &ss);
	struct rule_exec x = { .ctx = &ctx, .msg = msg, .scratch = s->w->scratch,
			       .scratch_len = buf_size };
	if (req) {
		x.start = t->rules_resume;
		x.slots = t->slots;
		x.nslots = &t->nslots;
		x.slots_max = (uint8_t)(sizeof(t->slots) / sizeof(t->slots[0]));
		t->rules_resume = 0;
	}
	enum rule_verdict v = rules_run(l, &x);

	switch (v) {
	case RULE_CONTINUE:
		return FLT_CONTINUE;
	case RULE_ALLOW:
		return FLT_ALLOW;
	case RULE_REJECT:
		stream_close(s);
		return FLT_STOP;
	case RULE_WAIT:       /* a limit's delay: the list goes on afterwards */
	case RULE_TARPIT:     /* answered and closed afterwards */
		t->rules_resume = (uint16_t)x.resume;
		t->tarpit = v == RULE_TARPIT ? x.rule : NULL;
		t->rules_wait_ms = deadline_ms(x.wait_ns);
		if (t->rules_wait_ms <= s->w->loop.now)
			t->rules_wait_ms = s->w->loop.now + 1;
		stream_wait_until(s, t->rules_wait_ms);
		return FLT_WAIT;
	default:
		return respond(s, &x, v);
	}
}

/* conf is the cfg_frontend (flt_rules_fe_ops) or the cfg_backend
 * (flt_rules_be_ops) whose lists run. */
static enum flt_verdict fe_req_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	return fe->http_req.n ? run(s, &fe->http_req, &s->txn->req, true) : FLT_CONTINUE;
}

/* Response rules judge servers' responses, not gatehouse's own answers. */
static enum flt_verdict fe_res_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	return fe->http_res.n && !s->txn->local ? run(s, &fe->http_res, &s->txn->res, false) :
						  FLT_CONTINUE;
}

static enum flt_verdict be_req_head(struct stream *s, const void *conf)
{
	const struct cfg_backend *be = conf;
	return be->http_req.n ? run(s, &be->http_req, &s->txn->req, true) : FLT_CONTINUE;
}

static enum flt_verdict be_res_head(struct stream *s, const void *conf)
{
	const struct cfg_backend *be = conf;
	return be->http_res.n && !s->txn->local ? run(s, &be->http_res, &s->txn->res, false) :
						  FLT_CONTINUE;
}

/* The transaction is over, whatever ended it: the concurrency places its
 * limit rules took go back (both chains call this; the first does it). */
static void rules_end(struct stream *s, const void *conf)
{
	struct txn *t = s->txn;

	(void)conf;
	if (!t)
		return;
	for (int i = 0; i < t->nslots; i++)
		limit_release(&t->slots[i]);
	t->nslots = 0;
}

const struct filter_ops flt_rules_fe_ops = {
	.name = "rules",
	.req_head = fe_req_head,
	.res_head = fe_res_head,
	.end = rules_end,
};

const struct filter_ops flt_rules_be_ops = {
	.name = "rules",
	.req_head = be_req_head,
	.res_head = be_res_head,
	.end = rules_end,
};

bool rules_tcp_accept(struct session *ss)
{
	const struct rule_list *l = &ss->fe->tcp_conn;
	if (!l->n)
		return true;
	struct sockaddr_storage src;
	session_src(ss, &src);
	struct cond_ctx ctx = { .src = &src, .tls = conn_is_tls(&ss->cli),
				.peer = session_peer(ss),
				.proxy_authority = session_pp_authority(ss) };
	struct rule_exec x = { .ctx = &ctx, .scratch = ss->w->scratch, .scratch_len = buf_size,
			       .slots = ss->slots, .nslots = &ss->nslots,
			       .slots_max = (uint8_t)(sizeof(ss->slots) / sizeof(ss->slots[0])) };
	if (rules_run(l, &x) != RULE_REJECT)
		return true;
	char why[200];
	if (x.rule && x.rule->act == RA_LIMIT && limit_why(&x, why, sizeof(why))) {
		char a[INET6_ADDRSTRLEN];
		log_warn("%s: %s connection closed: %s", ss->fe->name,
			 session_src_text(ss, a, sizeof(a)), why);
	}
	return false;
}

void rules_tcp_close(struct session *ss)
{
	for (int i = 0; i < ss->nslots; i++)
		limit_release(&ss->slots[i]);
	ss->nslots = 0;
}
