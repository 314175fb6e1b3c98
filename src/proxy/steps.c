/*
 * steps.c - a transaction's steps, in order, one function each (Varnish's
 * cache_req_fsm.c is the model).  This table is the whole flow from a
 * request's first byte to its delivered response:
 *
 *   STEP_READ_HEAD   codec        decode the request head into t->req (h1:
 *                                 h1_read_head, h1_client.c)
 *   STEP_REQ_RULES   here         frontend filters: request id, rules
 *   STEP_ROUTE       http_req.c   limits, use_backend -> t->be
 *   STEP_BE_RULES    here         backend filters: rules, forwarding headers
 *   STEP_ASSIGN      http_req.c   check early body bytes, encode the head,
 *                                 pick a server or queue (backend.c)
 *   STEP_WAIT_HEAD   srv codec    decode the response head into t->res (h1:
 *                                 h1_server.c)
 *   STEP_RES_RULES   here         response filters: rules, sticky cookie
 *   STEP_DELIVER     codec        encode t->res for the client (h1:
 *                                 h1_deliver, h1_client.c)
 *   STEP_DONE        codec        bodies finish; check_end logs (filters'
 *                                 end phase) and reuses or closes
 *
 * A local reply (local.c) jumps to STEP_RES_RULES from anywhere.  Bodies are
 * not steps: they are pumped by stream.c under rq/rs while the steps wait.
 */
#include "log/access_log.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/stream.h"

/* Runs one head phase of a chain; a verdict other than "go on" ends the
 * step (a filter answered, closed, or waits for its verdict). */
static enum step_result run_chain(struct stream *s, const struct filter_chain *c,
				  enum flt_phase ph, enum strm_step next)
{
	/* A parked stream's filter is asked again only once it said its
	 * verdict is ready (stream_wake), not on every event of the stream. */
	if (s->flags & STRM_F_PARKED)
		return STEP_WAIT;
	enum flt_verdict v = filters_head(s, c, ph, &s->flt_pos);
	if (s->flags & STRM_F_CLOSED)
		return STEP_STOP;
	if (v == FLT_WAIT) {
		s->flags |= STRM_F_PARKED;
		return STEP_WAIT;
	}
	if (v == FLT_STOP)
		return STEP_NEXT;   /* local_reply() moved the step to RES_RULES */
	s->step = (uint8_t)next;
	return STEP_NEXT;
}

static enum step_result step_req_rules(struct stream *s)
{
	return run_chain(s, s->fe->filters, FLT_REQ_HEAD, STEP_ROUTE);
}

static enum step_result step_be_rules(struct stream *s)
{
	return run_chain(s, s->txn->be->cfg->filters, FLT_REQ_HEAD, STEP_ASSIGN);
}

/* The frontend's response filters, then the backend's.  A local reply
 * made meanwhile (a response rule's deny) starts them over on its own
 * response: local_reply() reset the position. */
static enum step_result step_res_rules(struct stream *s)
{
	bool was_local = s->txn->local;

	if (!s->flt_be) {
		enum step_result r = run_chain(s, s->fe->filters, FLT_RES_HEAD, STEP_RES_RULES);
		if (r != STEP_NEXT || s->txn->local != was_local)
			return r;
		s->flt_be = true;
	}
	const struct backend_rt *be = s->txn->be;   /* none for a reply before routing */
	enum step_result r = run_chain(s, be ? be->cfg->filters : NULL, FLT_RES_HEAD, STEP_DELIVER);
	if (s->txn->local == was_local && s->step != STEP_RES_RULES)
		s->flt_be = false;
	return r;
}

/* The protocol's own steps: its codec decodes the request head and
 * encodes the response head. */
static enum step_result step_read_head(struct stream *s)
{
	return s->sess->codec->read_head(s);
}

static enum step_result step_deliver(struct stream *s)
{
	if (s->txn->res_hold_limit) {   /* a filter holds the response (http_res.c) */
		enum step_result r = res_hold(s);
		if (r != STEP_NEXT || s->step != STEP_DELIVER)
			return r;
	}
	return s->sess->codec->deliver(s);
}

/* The server's protocol: its codec decodes the response head (none while
 * a retry waits for a connection or a queue slot). */
static enum step_result step_wait_head(struct stream *s)
{
	return s->srv ? s->srv_codec->read_head(s) : STEP_WAIT;
}

static enum step_result step_done(struct stream *s)
{
	(void)s;
	return STEP_WAIT;   /* the pumps and check_end take it from here */
}

static enum step_result (*const steps[STEP_COUNT])(struct stream *) = {
	[STEP_READ_HEAD] = step_read_head,
	[STEP_REQ_RULES] = step_req_rules,
	[STEP_ROUTE] = req_route,
	[STEP_BE_RULES] = step_be_rules,
	[STEP_ASSIGN] = req_assign,
	[STEP_WAIT_HEAD] = step_wait_head,
	[STEP_RES_RULES] = step_res_rules,
	[STEP_DELIVER] = step_deliver,
	[STEP_DONE] = step_done,
};

bool stream_run_steps(struct stream *s)
{
	bool progress = false;

	for (;;) {
		uint8_t before = s->step;
		enum step_result r = steps[s->step](s);
		if (r == STEP_STOP)
			return true;
		if (r == STEP_WAIT)
			return progress;
		progress = true;
		if (s->step == before && r == STEP_NEXT)
			return progress;   /* a step that did work but stays: let the pumps run */
	}
}

const char *strm_term_name(enum strm_term t)
{
	static const char *const names[] = {
		[TERM_NONE] = NULL,
		[TERM_CLIENT_TIMEOUT] = ALOG_TERM_CLIENT_TIMEOUT,
		[TERM_CLIENT_ABORT] = ALOG_TERM_CLIENT_ABORT,
		[TERM_CLIENT_ERROR] = ALOG_TERM_CLIENT_ERROR,
		[TERM_RULE_DENY] = ALOG_TERM_RULE_DENY,
		[TERM_NO_SERVER] = ALOG_TERM_NO_SERVER,
		[TERM_QUEUE_TIMEOUT] = ALOG_TERM_QUEUE_TIMEOUT,
		[TERM_CONNECT_TIMEOUT] = ALOG_TERM_CONNECT_TIMEOUT,
		[TERM_CONNECT_ERROR] = ALOG_TERM_CONNECT_ERROR,
		[TERM_SERVER_TIMEOUT] = ALOG_TERM_SERVER_TIMEOUT,
		[TERM_SERVER_RESET] = ALOG_TERM_SERVER_RESET,
		[TERM_SERVER_ERROR] = ALOG_TERM_SERVER_ERROR,
		[TERM_TLS_ERROR] = ALOG_TERM_TLS_ERROR,
		[TERM_SHUTDOWN] = ALOG_TERM_SHUTDOWN,
		[TERM_INTERNAL] = ALOG_TERM_INTERNAL,
		[TERM_RATE_LIMITED] = ALOG_TERM_RATE_LIMITED,
		[TERM_CONN_LIMITED] = ALOG_TERM_CONN_LIMITED,
		[TERM_TARPIT] = ALOG_TERM_TARPIT,
		[TERM_BODY_TIMEOUT] = ALOG_TERM_BODY_TIMEOUT,
		[TERM_SLOW_BODY] = ALOG_TERM_SLOW_BODY,
		[TERM_WAF_BLOCKED] = ALOG_TERM_WAF_BLOCKED,
		[TERM_WAF_AMBIGUOUS] = ALOG_TERM_WAF_AMBIGUOUS,
	};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : NULL;
}
