/*
 * rules.c - the rule runner (see rules.h): walks a rule list in order,
 * evaluates each rule's condition and applies its action to the message.
 *
 * Where it sits: the pipeline (src/proxy/) calls rules_run() for the
 * tcp_request rules on accept, for the http_request rules once the request
 * head is parsed (frontend's list, then the backend's) and for the
 * http_response rules once the response head is parsed.  It never sees
 * wire bytes: rewrites edit struct http_msg, whose store owns every value
 * written (msg_store), and local answers are returned as a verdict with a
 * status, a Location and a body for the caller to encode.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "filter/rules.h"
#include "limit/limit.h"

static const char *const rule_names[] = {
	[RA_ALLOW] = "allow",
	[RA_DENY] = "deny",
	[RA_RETURN] = "return",
	[RA_REDIRECT_LOCATION] = "redirect",
	[RA_REDIRECT_SCHEME] = "redirect",
	[RA_REDIRECT_PREFIX] = "redirect",
	[RA_SET_HEADER] = "set_header",
	[RA_ADD_HEADER] = "add_header",
	[RA_DEL_HEADER] = "del_header",
	[RA_SET_PATH] = "set_path",
	[RA_SET_QUERY] = "set_query",
	[RA_REJECT] = "reject",
	[RA_LIMIT] = "limit",
	[RA_TARPIT] = "tarpit",
};

int rule_line(const struct rule *r)
{
	return r->line;
}

const char *rule_action_name(const struct rule *r)
{
	if (r->phase == RULE_TCP_CONN && r->act == RA_ALLOW)
		return "accept";
	return rule_names[r->act];
}

void rule_free(struct rule *r)
{
	cond_free(r->cond);
	fmt_free(r->value);
	free((char *)r->name.p);
	free((char *)r->scheme.p);
	free((char *)r->content_type.p);
	free((char *)r->body.p);
	free(r->limit_name);
	memset(r, 0, sizeof(*r));
}

void rule_list_free(struct rule_list *l)
{
	for (int i = 0; i < l->n; i++)
		rule_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static enum rule_verdict rule_fail(struct rule_exec *x, const char *why)
{
	x->why = why;
	return RULE_ERROR;
}

/* Renders r->value into scratch at `off`; returns its length or -1.  A
 * literal-only value is a plain copy: no fetch work. */
static int rule_render(const struct rule *r, struct rule_exec *x, size_t off)
{
	struct slice lit;

	if (off > x->scratch_len)
		return -1;
	if (fmt_literal(r->value, &lit)) {
		if (lit.len > x->scratch_len - off)
			return -1;
		memcpy(x->scratch + off, lit.p, lit.len);
		return (int)lit.len;
	}
	return fmt_render(r->value, x->ctx, x->scratch + off, x->scratch_len - off);
}

/* Whether v lies in m's store, where the message's slices follow it when
 * the store moves (addresses compared as integers: v may be elsewhere). */
static bool rule_in_store(const struct http_msg *m, struct slice v)
{
	uintptr_t a = (uintptr_t)m->st.area, p = (uintptr_t)v.p;
	return m->st.area && p >= a && p - a <= m->st.used && v.len <= m->st.used - (p - a);
}

/* set_header / add_header.  The name is the rule's; the value is the
 * rule's too when it is a literal (or a static string), else it goes to
 * the store once (not at all when it is already there). */
static enum rule_verdict rule_header(const struct rule *r, struct rule_exec *x)
{
	struct http_msg *m = x->msg;
	struct slice value;
	enum fmt_val k = fmt_value(r->value, x->ctx, x->scratch, x->scratch_len, &value);

	if (k == FMT_VAL_TOO_BIG)
		return rule_fail(x, "header value too large once rendered");
	if (m->nhdrs >= HTTP_MAX_HDRS + HTTP_HDRS_ADDED)
		return rule_fail(x, "too many header fields once rewritten");
	if (!msg_charge(m, r->name.len + (k == FMT_VAL_LASTING ? value.len : 0)))
		return rule_fail(x, "header too large once rewritten");
	if (k == FMT_VAL_BORROWED && !rule_in_store(m, value)) {
		if (value.len == 0)
			value = (struct slice){ "", 0 };
		else if (!(value = msg_store(m, value.p, value.len)).p)
			return rule_fail(x, "header too large once rewritten");
	}
	if (r->act == RA_SET_HEADER)
		msg_hdr_del_named(m, r->name, (enum http_hdr_id)r->hdr_id);
	msg_hdr_add_id(m, r->name, value, (enum http_hdr_id)r->hdr_id);
	/* routing and the encoder read the authority, not the Host field */
	if (r->hdr_id == HDR_HOST && !(m->flags & MSG_F_RESPONSE))
		m->authority = value;
	return RULE_CONTINUE;
}

static enum rule_verdict rule_set_path(const struct rule *r, struct rule_exec *x)
{
	int n = rule_render(r, x, 0);

	if (n < 0)
		return rule_fail(x, "path too large once rendered");
	if (n == 0 || x->scratch[0] != '/')
		return rule_fail(x, "set_path rendered a path that does not start with '/'");
	struct slice s = msg_store(x->msg, x->scratch, (size_t)n);
	if (!s.p)
		return rule_fail(x, "header too large once rewritten");
	x->msg->path = s;
	return RULE_CONTINUE;
}

static enum rule_verdict rule_set_query(const struct rule *r, struct rule_exec *x)
{
	int n = rule_render(r, x, 0);

	if (n < 0)
		return rule_fail(x, "query too large once rendered");
	if (n == 0) {
		x->msg->query = (struct slice){ NULL, 0 };   /* no '?' at all */
		return RULE_CONTINUE;
	}
	struct slice s = msg_store(x->msg, x->scratch, (size_t)n);
	if (!s.p)
		return rule_fail(x, "header too large once rewritten");
	x->msg->query = s;
	return RULE_CONTINUE;
}

/* Appends v to scratch at *o, percent-encoding what a Location must not
 * carry raw (controls, space, DEL, bytes >= 0x80).  The message's request
 * line and Host were checked by the parser, but rules may have set them. */
static bool rule_put(struct rule_exec *x, size_t *o, struct slice v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (uint32_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		bool esc = c <= ' ' || c >= 0x7f;
		if (x->scratch_len - *o < (esc ? 3u : 1u))
			return false;
		if (esc) {
			x->scratch[(*o)++] = '%';
			x->scratch[(*o)++] = hex[c >> 4];
			x->scratch[(*o)++] = hex[c & 15];
		} else {
			x->scratch[(*o)++] = (char)c;
		}
	}
	return true;
}

/* The request's path and query ("/a?b=1") at *o, for scheme and prefix
 * redirects.  In response rules ctx->msg is still the request. */
static bool rule_put_target(struct rule_exec *x, size_t *o)
{
	const struct http_msg *req = x->ctx->msg;

	if (!req)
		return false;
	if (!rule_put(x, o, req->path))
		return false;
	if (req->query.p)
		return rule_put(x, o, SLICE_LIT("?")) && rule_put(x, o, req->query);
	return true;
}

/* Host of the request without its port: the redirect goes to the new
 * scheme's default port ("[::1]:8080" -> "[::1]"). */
static struct slice rule_host(const struct http_msg *req)
{
	struct slice a = req ? req->authority : (struct slice){ NULL, 0 };
	uint32_t n = 0;

	if (!a.p)
		return a;
	if (a.len && a.p[0] == '[') {
		while (n < a.len && a.p[n] != ']')
			n++;
		n += n < a.len;
	} else {
		while (n < a.len && a.p[n] != ':')
			n++;
	}
	return (struct slice){ a.p, n };
}

static enum rule_verdict rule_redirect(const struct rule *r, struct rule_exec *x)
{
	size_t o = 0;
	int n;

	switch (r->act) {
	case RA_REDIRECT_LOCATION:
		n = rule_render(r, x, 0);
		if (n < 0)
			return rule_fail(x, "redirect location too large once rendered");
		o = (size_t)n;
		break;
	case RA_REDIRECT_SCHEME: {
		struct slice host = rule_host(x->ctx->msg);
		if (!host.len)
			return rule_fail(x, "redirect scheme: the request has no host");
		if (!rule_put(x, &o, r->scheme) || !rule_put(x, &o, SLICE_LIT("://")) ||
		    !rule_put(x, &o, host) || !rule_put_target(x, &o))
			return rule_fail(x, "redirect location too large once rendered");
		break;
	}
	default:   /* prefix */
		n = rule_render(r, x, 0);
		if (n < 0)
			return rule_fail(x, "redirect location too large once rendered");
		o = (size_t)n;
		/* "/" alone keeps the path; "/new/" + "/x" is "/new/x" */
		if (o && x->scratch[o - 1] == '/')
			o--;
		if (!rule_put_target(x, &o))
			return rule_fail(x, "redirect location too large once rendered");
		break;
	}
	x->status = r->status;
	x->location = (struct slice){ x->scratch, (uint32_t)o };
	return RULE_RESPOND;
}

uint64_t rule_hits(const struct rule *r)
{
	return __atomic_load_n(&r->hits, __ATOMIC_RELAXED);
}

/* Counts the request (or connection) under its key (an absent value is
 * the empty key: every request without it shares one budget).  Over the
 * rate: 429 + Retry-After; over the concurrency (or a table full of keys
 * in use): 429; tcp_request: the connection is rejected.  A place taken
 * goes to x->slots for the caller to give back. */
static enum rule_verdict rule_limit(const struct rule *r, struct rule_exec *x)
{
	const struct cfg_limit *l = r->limit;
	struct slice key = { "", 0 };
	struct limit_slot slot;
	uint64_t wait = 0;

	if (!l || !l->table)
		return RULE_CONTINUE;
	if (!fetch_value(l->key, x->ctx, &key, x->scratch, x->scratch_len))
		key = (struct slice){ "", 0 };
	enum limit_verdict v = limit_acquire(l->table, key.p, key.len, limit_now_ns(), &wait,
					     &slot);
	if (slot.t) {
		if (x->slots && *x->nslots < x->slots_max)
			x->slots[(*x->nslots)++] = slot;
		else
			limit_release(&slot);   /* nowhere to keep it (the loader bounds this) */
	}
	x->limit_verdict = (uint8_t)v;
	switch (v) {
	case LIMIT_PASS:
		return RULE_CONTINUE;
	case LIMIT_DELAY:
		if (r->phase == RULE_TCP_CONN)
			return RULE_CONTINUE;   /* the loader refuses delay there */
		x->wait_ns = wait;
		return RULE_WAIT;
	case LIMIT_OVER_RATE:
		x->retry_after = limit_retry_after_s(wait);
		break;
	default:
		break;
	}
	if (r->phase == RULE_TCP_CONN)
		return RULE_REJECT;
	x->status = 429;
	return RULE_RESPOND;
}

static enum rule_verdict rule_apply(const struct rule *r, struct rule_exec *x)
{
	switch (r->act) {
	case RA_ALLOW:
		return RULE_ALLOW;
	case RA_REJECT:
		return RULE_REJECT;
	case RA_DENY:
		x->status = r->status;
		x->body = r->body;
		return RULE_RESPOND;
	case RA_RETURN:
		x->status = r->status;
		x->content_type = r->content_type;
		x->body = r->body.p ? r->body : (struct slice){ "", 0 };
		return RULE_RESPOND;
	case RA_REDIRECT_LOCATION:
	case RA_REDIRECT_SCHEME:
	case RA_REDIRECT_PREFIX:
		return rule_redirect(r, x);
	case RA_SET_HEADER:
	case RA_ADD_HEADER:
		return rule_header(r, x);
	case RA_DEL_HEADER:
		msg_hdr_del_named(x->msg, r->name, (enum http_hdr_id)r->hdr_id);
		return RULE_CONTINUE;
	case RA_SET_PATH:
		return rule_set_path(r, x);
	case RA_SET_QUERY:
		return rule_set_query(r, x);
	case RA_LIMIT:
		return rule_limit(r, x);
	case RA_TARPIT:
		__atomic_fetch_add(&((struct rule *)r)->hits, 1, __ATOMIC_RELAXED);
		x->status = r->status;
		x->body = r->body;
		x->wait_ns = (uint64_t)r->tarpit_ms * 1000000ull;
		return RULE_TARPIT;
	}
	return RULE_CONTINUE;
}

enum rule_verdict rules_run(const struct rule_list *l, struct rule_exec *x)
{
	x->status = 0;
	x->location = x->content_type = x->body = (struct slice){ NULL, 0 };
	x->rule = NULL;
	x->why = NULL;
	x->retry_after = 0;
	x->limit_verdict = 0;
	x->wait_ns = 0;
	x->resume = 0;
	for (int i = x->start > 0 ? x->start : 0; i < l->n; i++) {
		const struct rule *r = &l->v[i];
		if (r->cond && !cond_eval(r->cond, x->ctx))
			continue;
		enum rule_verdict v = rule_apply(r, x);
		if (v != RULE_CONTINUE) {
			x->rule = r;
			x->resume = i + 1;
			return v;
		}
	}
	return RULE_CONTINUE;
}
