/*
 * flt_reqid.c - request ids (`request_id header NAME` in a frontend): the
 * client's id is kept when reqid_valid() accepts it, otherwise one is
 * generated; the server gets it in that header, and so does the client in
 * the response (local replies included: they pass through the response
 * filters too).  Rules and logs read it as the fetch `req_id`.
 */
#include <string.h>
#include "log/reqid.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

static struct slice hdr_name(const struct cfg_frontend *fe)
{
	return (struct slice){ fe->request_id_header, (uint32_t)strlen(fe->request_id_header) };
}

/* The header's value is the id in the transaction, which lives as long as
 * both messages: no copy, only its length counted against the store's
 * bound (msg_charge). */
static void put_id(struct http_msg *m, struct slice name, enum http_hdr_id id, struct txn *t)
{
	if (msg_charge(m, t->req_id_len))
		msg_hdr_add_id(m, name, (struct slice){ t->req_id, t->req_id_len }, id);
}

static enum flt_verdict reqid_req_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;
	struct slice name = hdr_name(fe);
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, name, &pos);
	struct http_hdr *again = h ? msg_hdr_find(m, name, &pos) : NULL;

	/* One valid value is the client's id; several, or a bad one, are
	 * replaced, so a server never sees two ids for one request. */
	if (h && !again && h->value.len <= REQID_MAX && reqid_valid(h->value.p, h->value.len)) {
		memcpy(t->req_id, h->value.p, h->value.len);
		t->req_id_len = (uint8_t)h->value.len;
		return FLT_CONTINUE;
	}
	t->req_id_len = (uint8_t)reqid_generate(t->req_id);
	enum http_hdr_id id = msg_hdr_id(name);
	if (h)
		msg_hdr_del_named(m, name, id);
	put_id(m, name, id, t);
	return FLT_CONTINUE;
}

static enum flt_verdict reqid_res_head(struct stream *s, const void *conf)
{
	const struct cfg_frontend *fe = conf;
	struct txn *t = s->txn;
	struct slice name = hdr_name(fe);

	if (!t->req_id_len)
		return FLT_CONTINUE;
	enum http_hdr_id id = msg_hdr_id(name);
	msg_hdr_del_named(&t->res, name, id);
	put_id(&t->res, name, id, t);
	return FLT_CONTINUE;
}

const struct filter_ops flt_reqid_ops = {
	.name = "request_id",
	.req_head = reqid_req_head,
	.res_head = reqid_res_head,
};
