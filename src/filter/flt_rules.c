/*
 * flt_rules.c - the filter that runs a frontend's or a backend's
 * http_request and http_response rules (filter/rules.c) on a stream, and
 * turns their verdicts into the pipeline's: a rewrite continues, `allow`
 * ends this chain, deny/return/redirect and a `limit` over its rate (429 +
 * Retry-After) become a local reply that keeps the connection alive where
 * it can, and a rewrite that does not fit is a 500.
 *
 * The tcp_request connection rules run at accept instead (stream.c calls
 * rules_tcp_accept()), before any byte is read.
 */
#include <stdio.h>
#include "filter/rules.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

static enum flt_verdict respond(struct stream *s, struct rule_exec *x, enum rule_verdict v)
{
	char why[160];
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
		r.term = TERM_RATE_LIMITED;
		snprintf(why, sizeof(why), "over limit '%s' (rule at line %d), Retry-After %us",
			 x->rule->limit_name, rule_line(x->rule), x->retry_after);
		r.why = why;
		r.no_store = true;
		r.retry_after = x->retry_after;
	}
	local_reply(s, &r);
	return FLT_STOP;
}

static enum flt_verdict run(struct stream *s, const struct rule_list *l, struct http_msg *msg)
{
	struct sockaddr_storage ss;
	struct cond_ctx ctx;
	stream_cond_ctx(s, &ctx, &ss);
	struct rule_exec x = { .ctx = &ctx, .msg = msg, .scratch = s->w->scratch,
			       .scratch_len = buf_size };
	enum rule_verdict v = rules_run(l, &x);

	switch (v) {
	case RULE_CONTINUE:
		return FLT_CONTINUE;
	case RULE_ALLOW:
		return FLT_ALLOW;
	case RULE_REJECT:
		stream_close(s);
		return FLT_STOP;
	default:
		return respond(s, &x, v);
	}
}

/* conf is the cfg_frontend (flt_rules_fe_ops) or the cfg_backend
 * (flt_rules_be_ops) whose lists run. */
static enum flt_verdict fe_req_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	return fe->http_req.n ? run(s, &fe->http_req, &s->txn->req) : FLT_CONTINUE;
}

/* Response rules judge servers' responses, not gatehouse's own answers. */
static enum flt_verdict fe_res_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	return fe->http_res.n && !s->txn->local ? run(s, &fe->http_res, &s->txn->res) :
						  FLT_CONTINUE;
}

static enum flt_verdict be_req_head(struct stream *s, const void *conf)
{
	const struct cfg_backend *be = conf;
	return be->http_req.n ? run(s, &be->http_req, &s->txn->req) : FLT_CONTINUE;
}

static enum flt_verdict be_res_head(struct stream *s, const void *conf)
{
	const struct cfg_backend *be = conf;
	return be->http_res.n && !s->txn->local ? run(s, &be->http_res, &s->txn->res) :
						  FLT_CONTINUE;
}

const struct filter_ops flt_rules_fe_ops = {
	.name = "rules",
	.req_head = fe_req_head,
	.res_head = fe_res_head,
};

const struct filter_ops flt_rules_be_ops = {
	.name = "rules",
	.req_head = be_req_head,
	.res_head = be_res_head,
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
	struct rule_exec x = { .ctx = &ctx, .scratch = ss->w->scratch, .scratch_len = buf_size };
	return rules_run(l, &x) != RULE_REJECT;
}
