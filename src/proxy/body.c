/*
 * body.c - the body events, between a codec's body decoder and the
 * filters (filter.h): data, trailers, end of message, both directions.
 *
 * A codec's body pump (http_req.c, http_res.c for HTTP/1) decodes the
 * framing and calls body_data() for each run of data as it lies in the
 * buffer, stores trailer fields with body_trailer(), and calls body_end()
 * once the message's last byte is decoded; the direction is only done
 * (RQ_DONE, RS_DONE) when that returns FLT_CONTINUE.  Nothing here knows
 * about chunks or frames, so an HTTP/2 codec feeds the same events.
 *
 * Filters run frontend chain first, then the backend's.  A wait parks the
 * stream (STRM_F_PARKED): the pumps and steps stand still until
 * stream_wake().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy/body.h"
#include "proxy/stream.h"

/* Trailer fields are kept in a message of their own, allocated for the
 * messages that have any; bounded like a head. */
#define TRAILERS_MAX (16 * 1024)

enum flt_verdict body_data_run(struct stream *s, bool res, const char *p, size_t len)
{
	struct txn *t = s->txn;
	enum flt_phase ph = res ? FLT_RES_DATA : FLT_REQ_DATA;

	if (!len || (res ? t->local || (t->res_holding && t->res_hold_done) : t->discard_body))
		return FLT_CONTINUE;   /* our own reply, a body nobody will get, or
					  held bytes released (seen while held) */
	enum flt_verdict v = filters_data(s, s->fe->filters, ph, p, len);
	if (v == FLT_CONTINUE && t->be)
		v = filters_data(s, t->be->cfg->filters, ph, p, len);
	if (v == FLT_WAIT) {
		s->flags |= STRM_F_PARKED;
		if (res)
			t->res_data_wait = true;
		else
			t->req_data_wait = true;
	}
	return v;
}

enum flt_verdict body_data_reask(struct stream *s, bool res)
{
	struct txn *t = s->txn;
	bool *waits = res ? &t->res_data_wait : &t->req_data_wait;

	if (!*waits)
		return FLT_CONTINUE;
	*waits = false;
	/* an empty run (a valid pointer: filters may copy 0 bytes from it) */
	enum flt_phase ph = res ? FLT_RES_DATA : FLT_REQ_DATA;
	enum flt_verdict v = filters_data(s, s->fe->filters, ph, "", 0);
	if (v == FLT_CONTINUE && t->be)
		v = filters_data(s, t->be->cfg->filters, ph, "", 0);
	if (v == FLT_WAIT) {
		s->flags |= STRM_F_PARKED;
		*waits = true;
	}
	return v;
}

enum flt_verdict body_data_reframe(struct stream *s, const char *p, size_t len)
{
	struct txn *t = s->txn;
	enum flt_verdict v = body_wants(s, FLT_RES_DATA) ? body_data_run(s, true, p, len) :
							  FLT_CONTINUE;

	/* held, the run moves to the spill chain and is framed on release */
	if (v == FLT_STOP || t->local || t->res_holding || stream_closed(s))
		return v;
	if (!s->sess->codec->res_frame(s, (uint32_t)len)) {
		stream_abort(s, "no room to frame the response body");
		return FLT_STOP;
	}
	return v;
}

int body_trailer(struct stream *s, bool res, struct slice name, struct slice value)
{
	struct txn *t = s->txn;
	struct http_msg **pm = res ? &t->res_trailers : &t->req_trailers;

	if (!*pm) {
		if (!(*pm = malloc(sizeof(**pm))))
			return -1;
		msg_init(*pm, TRAILERS_MAX);
	}
	/* The store may move as it grows, and only slices inside the message
	 * follow it: the name goes into the field before the value is stored. */
	struct http_msg *m = *pm;
	struct slice n = msg_store(m, name.p, name.len);
	if (!n.p || msg_hdr_add(m, n, (struct slice){ NULL, 0 }) < 0)
		return -1;
	struct slice v = msg_store(m, value.p, value.len);
	if (value.len && !v.p)
		return -1;
	m->hdrs[m->nhdrs - 1].value = v;
	return 0;
}

void body_trailers_drop(struct txn *t)
{
	struct http_msg **all[] = { &t->req_trailers, &t->res_trailers };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (*all[i]) {
			msg_free(*all[i]);
			free(*all[i]);
			*all[i] = NULL;
		}
	}
}

enum flt_verdict body_end_run(struct stream *s, bool res)
{
	struct txn *t = s->txn;
	enum flt_phase ph = res ? FLT_RES_END : FLT_REQ_END;
	const struct http_msg *tr = res ? t->res_trailers : t->req_trailers;
	enum flt_verdict v = FLT_CONTINUE;

	if (s->flags & STRM_F_PARKED)
		return FLT_WAIT;
	if (res ? t->local : t->discard_body)
		return FLT_CONTINUE;
	if (!t->eom_be) {
		v = filters_msg_end(s, s->fe->filters, ph, tr, &t->eom_pos);
		if (v != FLT_CONTINUE)
			goto out;
		t->eom_be = true;
	}
	if (t->be)
		v = filters_msg_end(s, t->be->cfg->filters, ph, tr, &t->eom_pos);
out:
	if (v == FLT_WAIT) {
		s->flags |= STRM_F_PARKED;
		return v;
	}
	t->eom_be = false;
	t->eom_pos = 0;
	return v;
}


/* ---- HTTP/1 chunked framing of bare bodies ---- */

bool body_chunk_frame(struct buf *b, uint32_t n)
{
	char hd[16];

	if (n == 0)
		return true;
	int hl = snprintf(hd, sizeof(hd), "%x\r\n", n);
	if (!buf_insert_out_at(b, n, hd, (uint32_t)hl))
		return false;
	if (!buf_insert_out(b, false, "\r\n", 2)) {
		/* no room for the CRLF: take the chunk header back */
		uint32_t at = b->pr - n - (uint32_t)hl;
		memmove(b->area + at, b->area + at + hl, b->wr - at - (uint32_t)hl);
		b->pr -= (uint32_t)hl;
		b->wr -= (uint32_t)hl;
		return false;
	}
	return true;
}

bool body_chunk_end(struct buf *b, const struct http_msg *tr, char *scratch, uint32_t cap)
{
	char *o = scratch, *e = scratch + cap;

	memcpy(o, "0\r\n", 3);
	o += 3;
	for (int i = 0; tr && i < tr->nhdrs; i++) {
		const struct http_hdr *h = &tr->hdrs[i];
		if (h->flags & (HDR_F_DELETED | HDR_F_HOP))
			continue;
		if ((size_t)(e - o) < (size_t)h->name.len + h->value.len + 6)
			return false;
		memcpy(o, h->name.p, h->name.len);
		o += h->name.len;
		*o++ = ':';
		*o++ = ' ';
		memcpy(o, h->value.p, h->value.len);
		o += h->value.len;
		*o++ = '\r';
		*o++ = '\n';
	}
	*o++ = '\r';
	*o++ = '\n';
	return buf_alloc(b) && buf_insert_out(b, false, scratch, (uint32_t)(o - scratch));
}
