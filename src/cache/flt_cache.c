/*
 * flt_cache.c - the cache filter (`use_cache NAME` in a frontend or a
 * backend): an RFC 9111 shared cache in front of the backend.
 *
 *   req_head  PURGE (purge_from sources; others 405); unsafe methods are
 *             noted for invalidation; GET and HEAD: poisoning headers
 *             stripped, the key built, the store asked.  A fresh hit (or
 *             a stale one the request or stale-while-revalidate allows)
 *             is answered here with local_reply(): the object's fields,
 *             Age, Cache-Status, the body streamed from the object by a
 *             producer (proxy/local.h) that also gives the object's chunks
 *             in place (obj_span: an HTTP/1 client on plain TCP gets them
 *             by sendmsg, never copied), 304 for a matching conditional,
 *             206 for a single byte range.  The first request to find an
 *             object stale within stale-while-revalidate also starts its
 *             refresh in the background (refresh_detached: a request with
 *             no client, proxy/stream.h stream_detached).  A stale hit with validators
 *             goes to the origin as a conditional request; a miss goes as
 *             it came (only-if-cached: 504).
 *   res_head  a 304 to our revalidation refreshes the stored fields
 *             (RFC 9111 4.3.4) and the client is answered from the
 *             refreshed object; a 5xx or a local error (no server, connect
 *             or server timeout) is replaced by the stale object when
 *             stale-if-error allows it; a storable response starts an
 *             object; a successful unsafe method purges its target and
 *             its Location / Content-Location on the same host (4.4).
 *   res_data  the body is copied into the object as it comes from the
 *             server; past max_object the object is dropped (the client
 *             still gets every byte).
 *   res_deliver_head, res_xform  while it is stored, the client gets the
 *             body from the object (a relay, proxy/filter.h
 *             txn_relay_res): the server is read at its own pace and the
 *             waiters with it, not at this client's; past max_object the
 *             client gets the object's bytes, then the rest at its own
 *             pace again (no byte lost or reordered).  A response
 *             compressed for this client is relayed all the same, through
 *             compression's transform (relay_coded): the object's bytes
 *             are compressed as the client reads them.
 *   res_end   the whole body came: the object is inserted.  A response
 *             cut before its end never gets here: its object is freed
 *             with the transaction's state, never stored.
 *
 * Encoded variants: when the `compress` that applies to the request
 * (compress/compress.h) would give a hit's client a coding, the hit is
 * served from the object's variant in that coding (same key and Vary
 * values, `coding` and the identity object's id in struct cache_obj), or,
 * the first time, compressed by the hit's producer (enc_read) as it is
 * served and stored once complete: one compression per object and coding
 * (gatehouse_cache_encodes_total).  Ranges, no-transform, HEAD and 304
 * without a stored variant never compress; identity clients get the
 * identity object with Vary: Accept-Encoding when the coding depended on
 * them.  The compression filter leaves these local replies alone.  A
 * frontend's cache asks for the `compress` of the backend the request
 * would be routed to (compress_conf); a coalesced waiter is served like a
 * hit once the fill is stored, and before that gets the leader's bytes
 * compressed on the fly when it has a coding (fill_enc_read).
 *
 * Poisoning: on the requests the cache handles (GET, HEAD) the headers
 * that some applications read to change the URL, host or method but
 * which are not in the key are removed before anyone sees them:
 * X-Forwarded-Host, X-Forwarded-Server, X-Host, X-Original-URL,
 * X-Rewrite-URL, X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cache/cc.h"
#include "cache/fill.h"
#include "cache/store.h"
#include "compress/compress.h"
#include "filter/cond.h"
#include "net/cidr.h"
#include "net/tls.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "proxy/worker.h"

#define KEY_MAX 8192
#define VARY_KEY_MAX 2048
#define HEAD_MAX (16 * 1024)   /* a stored head must fit a local reply's message */

enum tx_mode { TX_MISS = 1, TX_REVAL, TX_HIT, TX_INVALIDATE, TX_WAIT, TX_DONE };

struct cache_tx {
	struct flt_ctx c;
	const struct cfg_use_cache *use;   /* the instance that owns it (frontend or backend) */
	const struct cfg_cache *cfg;
	struct cache_store *st;
	uint8_t mode;
	bool head_req;
	bool req_no_store;
	bool has_auth;
	bool sie_ok;
	bool refreshing;                 /* this request holds obj->refreshing (swr) */
	bool detached;                   /* the background refresh (stream_detached): no client */
	bool cond_inm, cond_ims;         /* the client's conditionals (evaluated here) */
	char *key;
	uint32_t klen;
	struct cc req_cc;
	int64_t request_time;
	struct cache_obj *obj;           /* the object served, or the stale one revalidated */
	struct cache_obj *build;         /* the object being filled from the response */
	struct cache_fill *fill;         /* coalescing (fill.h): the fill led or joined */
	struct fill_watch watch;         /* a waiter's place in the fill's wake list */
	uint64_t wait_since;             /* a waiter: when it joined (loop ms) */
	bool leader;                     /* this request fetches for the fill's waiters */
	bool collapsed;                  /* served from another request's fetch */
	struct stream *s;                /* for the producer's safety deadline */
	uint64_t off, end;               /* serving: body bytes [off, end) */
	/* Encoded variants: the coding the client gets (0 identity, 1 + enum
	 * cz_algo), the variant (stored, or being made from obj as it is
	 * served: a reference), the compressor making it; what head_fill and
	 * obj_read take the head and body from (obj or var) */
	uint8_t coding;
	bool add_vary;                   /* identity, but the coding depended on the client */
	bool var_stored;                 /* var came from the store */
	bool enc_tried;
	bool zdirty;                     /* the compressor (a waiter's, or the coded relay's)
					  * took input since its last flush */
	bool rflush;                     /* coded relay: a flush asked, given once caught up */
	struct cache_obj *var;
	struct cz_stream *z;
	const struct cfg_compress *cz;   /* the `compress` that applies (pick_coding) */
	const struct cache_obj *hobj, *bobj;
	int64_t age;                     /* of obj when served */
	uint16_t reply_status;
	uint64_t range_first, range_last;
	/* the client's conditionals and range, kept: a revalidation replaces
	 * them with ours on the way to the origin (NULL: none) */
	char *inm, *ims, *range, *if_range;
	const char *fwd;                 /* Cache-Status fwd=, NULL: a hit */
	const char *detail;
	uint16_t fwd_status;
	/* The leader's client served from the object being stored (a relay,
	 * proxy/filter.h txn_relay_res): a reference to it, the body bytes
	 * the relay took from the server and gave the client */
	struct cache_obj *relay;
	uint64_t rin, rout;
};

static const struct filter_ops *ops_self(void);
static bool vary_match(const struct cache_obj *o, void *arg);

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- Cache-Status (RFC 9211) ---- */

/* v in decimal at p (room for 20 digits and a sign); returns the end.
 * snprintf's format parsing was a visible part of a hit's CPU. */
static char *put_int(char *p, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		*p++ = '-';
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static struct slice cache_status(struct http_msg *m, const struct cache_tx *x, bool hit)
{
	char v[200];
	int n;
	if (hit && x->collapsed) {
		n = snprintf(v, sizeof(v), "gatehouse; fwd=miss; collapsed");
	} else if (hit && !x->fwd) {
		/* the common case, by hand */
		static const char pre[] = "gatehouse; hit; ttl=";
		memcpy(v, pre, sizeof(pre) - 1);
		n = (int)(put_int(v + sizeof(pre) - 1, x->obj->lifetime - x->age) - v);
	} else if (hit) {
		const struct cache_obj *o = x->obj;
		if (x->fwd)
			n = snprintf(v, sizeof(v), "gatehouse; fwd=%s; fwd-status=%u; ttl=%lld",
				     x->fwd, x->fwd_status, (long long)(o->lifetime - x->age));
	} else {
		n = snprintf(v, sizeof(v), "gatehouse; fwd=%s%s", x->fwd ? x->fwd : "miss",
			     x->build ? "; stored" : "");
	}
	if (x->detail && n < (int)sizeof(v))
		n += snprintf(v + n, sizeof(v) - (size_t)n, "; detail=%s", x->detail);
	if (n >= (int)sizeof(v))
		n = (int)sizeof(v) - 1;
	return msg_store(m, v, (size_t)n);
}

static void add_status(struct http_msg *m, const struct cache_tx *x, bool hit)
{
	if (!x->cfg->status_header)
		return;
	struct slice v = cache_status(m, x, hit);
	if (v.p)
		msg_hdr_add(m, SLICE_LIT("Cache-Status"), v);
}

/* ---- serving an object ---- */

static size_t obj_read(void *arg, char *dst, size_t room, bool *eof)
{
	struct cache_tx *x = arg;
	uint64_t left = x->end - x->off;
	size_t n = left < room ? (size_t)left : room;
	n = cache_obj_read(x->bobj, x->off, dst, n);
	x->off += n;
	*eof = x->off >= x->end;
	return n;
}

/* The same body in place (proxy/local.h, local_src.span): the object's
 * chunks, which stay unchanged while the transaction holds its reference
 * (x->obj or x->var, dropped by cache_ctx_free once the reply is sent). */
static size_t obj_span(void *arg, uint64_t off, const char **p)
{
	struct cache_tx *x = arg;
	uint64_t at = x->off + off;
	if (at >= x->end)
		return 0;
	size_t n = cache_obj_span(x->bobj, at, p);
	return n < x->end - at ? n : (size_t)(x->end - at);
}

/* Fields a 304 carries (RFC 9110 15.4.5). */
static bool in_304(struct slice name)
{
	static const char *const keep[] = { "cache-control", "content-location", "date", "etag",
					    "expires", "vary", "last-modified", NULL };
	for (int i = 0; keep[i]; i++)
		if (slice_ieq_cstr(name, keep[i]))
			return true;
	return false;
}

static bool head_fill(struct http_msg *m, void *arg)
{
	struct cache_tx *x = arg;
	const struct cache_obj *o = x->hobj;

	for (int i = 0; i < o->nfields; i++) {
		struct slice n = { o->head + o->fields[i].name, o->fields[i].name_len };
		struct slice v = { o->head + o->fields[i].value, o->fields[i].value_len };
		if (x->reply_status == 304 && !in_304(n))
			continue;
		/* the object outlives the message (the transaction holds it) */
		if (!msg_charge(m, n.len + v.len) ||
		    msg_hdr_add_id(m, n, v, (enum http_hdr_id)o->fields[i].id) < 0)
			return false;
	}
	/* a list field: one more Vary line adds to the others (RFC 9110 5.3) */
	if (x->add_vary && msg_hdr_add(m, SLICE_LIT("Vary"), SLICE_LIT("Accept-Encoding")) < 0)
		return false;
	char b[64];
	int k = (int)(put_int(b, x->age) - b);
	if (msg_hdr_add(m, SLICE_LIT("Age"), msg_store(m, b, (size_t)k)) < 0)
		return false;
	if (x->reply_status == 206) {
		k = snprintf(b, sizeof(b), "bytes %llu-%llu/%llu", (unsigned long long)x->range_first,
			     (unsigned long long)x->range_last, (unsigned long long)o->body_len);
		if (msg_hdr_add(m, SLICE_LIT("Content-Range"), msg_store(m, b, (size_t)k)) < 0)
			return false;
	} else if (x->reply_status == 416) {
		k = snprintf(b, sizeof(b), "bytes */%llu", (unsigned long long)o->body_len);
		if (msg_hdr_add(m, SLICE_LIT("Content-Range"), msg_store(m, b, (size_t)k)) < 0)
			return false;
	}
	add_status(m, x, true);
	return true;
}

/* "bytes=a-b", "bytes=a-", "bytes=-n" against a body of len bytes: 1
 * satisfiable (first, last set), 0 unsatisfiable, -1 not one range we
 * serve (the whole body goes). */
static int parse_range(struct slice r, uint64_t len, uint64_t *first, uint64_t *last)
{
	if (r.len < 7 || strncasecmp(r.p, "bytes=", 6) != 0)
		return -1;
	const char *p = r.p + 6, *e = r.p + r.len;
	if (memchr(p, ',', (size_t)(e - p)))
		return -1;   /* several ranges: the whole body (allowed) */
	uint64_t a = 0, b = 0;
	bool has_a = false, has_b = false;
	while (p < e && *p >= '0' && *p <= '9' && a < (1ull << 60))
		a = a * 10 + (uint64_t)(*p++ - '0'), has_a = true;
	if (p >= e || *p++ != '-')
		return -1;
	while (p < e && *p >= '0' && *p <= '9' && b < (1ull << 60))
		b = b * 10 + (uint64_t)(*p++ - '0'), has_b = true;
	if (p != e || (!has_a && !has_b))
		return -1;
	if (!has_a) {   /* suffix */
		if (!b || !len)
			return 0;
		*first = b >= len ? 0 : len - b;
		*last = len - 1;
		return 1;
	}
	if (has_b && b < a)
		return -1;
	if (a >= len)
		return 0;
	*first = a;
	*last = has_b && b < len - 1 ? b : len - 1;
	return 1;
}

static struct slice cstr(const char *p)
{
	return (struct slice){ p, p ? (uint32_t)strlen(p) : 0 };
}

static bool not_modified(struct cache_tx *x, const struct cache_obj *o)
{
	if (x->inm)
		return cc_etag_match(cstr(x->inm), cache_obj_field(o, "etag"));
	if (!x->ims || o->status != 200)
		return false;
	int64_t ims = http_date_parse(x->ims, strlen(x->ims));
	struct slice lm = cache_obj_field(o, "last-modified");
	int64_t t = lm.len ? http_date_parse(lm.p, lm.len) : -1;
	return ims >= 0 && t >= 0 && t <= ims;
}

/* A copy of the first field named name, NULL if none. */
static char *field_copy(struct http_msg *m, const char *name)
{
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, cstr(name), &pos);
	return h ? strndup(h->value.p, h->value.len) : NULL;
}

static void pick_coding(struct stream *s, struct cache_tx *x, uint64_t len);
static struct cache_obj *variant_new(const struct cache_tx *x);
static enum flt_verdict serve_encoded(struct stream *s, struct cache_tx *x);

/* Answers the request from x->obj (a reference the transaction holds);
 * hit: found usable at lookup (counted as a hit; a revalidated or
 * stale-if-error answer was counted as a miss). */
static enum flt_verdict serve(struct stream *s, struct cache_tx *x, bool hit)
{
	struct cache_obj *o = x->obj;

	x->age = cc_current_age(&o->times, now_s());
	if (hit)
		cache_note_obj(x->st, o, CACHE_EV_HIT);
	x->mode = TX_HIT;
	x->s = s;
	x->hobj = x->bobj = o;
	if (!x->enc_tried) {   /* once: serve_encoded falls back here */
		x->enc_tried = true;
		pick_coding(s, x, o->body_len);
	}
	if (x->coding)
		return serve_encoded(s, x);
	x->reply_status = o->status;
	x->off = 0;
	x->end = o->body_len;
	if (not_modified(x, o)) {
		x->reply_status = 304;
	} else if (o->status == 200 && x->range) {
		struct slice etag = cache_obj_field(o, "etag");
		/* If-Range: a strong ETag that matches, else the whole body */
		bool ir_ok = !x->if_range ||
			     (etag.len && etag.p[0] == '"' && slice_eq(cstr(x->if_range), etag));
		int k = ir_ok ? parse_range(cstr(x->range), o->body_len, &x->range_first,
					    &x->range_last) : -1;
		if (k == 1) {
			x->reply_status = 206;
			x->off = x->range_first;
			x->end = x->range_last + 1;
		} else if (k == 0) {
			x->reply_status = 416;
			x->off = x->end = 0;
		}
	}
	struct local_resp r = {
		.status = x->reply_status, .head = head_fill, .head_arg = x,
		.body = SLICE_LIT(""),
	};
	if (x->reply_status != 304 && x->reply_status != 416) {
		r.src = (struct local_src){ obj_read, obj_span, x };
		r.src_len = x->end - x->off;
	}
	local_reply(s, &r);
	return FLT_STOP;
}

/* A waiter with nothing to read waits for the leader's wake (fill.h);
 * the deadline only covers a lost one. */
static void waiter_park(struct stream *s, struct cache_tx *x)
{
	stream_wait_until(s, s->w->loop.now + (x->watch.k ? FILL_WAIT_SAFETY_MS : 1));
}

/* How long a waiter waits for the leader's head before it goes to the
 * origin itself: the backend's `timeout server` (the leader's own bound
 * for that head), the frontend's `timeout client` before routing. */
static uint64_t head_wait_limit(const struct stream *s)
{
	const struct backend_rt *be = s->txn ? s->txn->be : NULL;
	return be ? be->cfg->timeout_server_ms : s->fe->timeout_client_ms;
}

/* The producer of a collapsed response: what the leader published so
 * far; nothing yet: the leader wakes us when there is more (fill.h). */
static size_t fill_read(void *arg, char *dst, size_t room, bool *eof)
{
	struct cache_tx *x = arg;
	struct cache_fill *f = x->fill;

	pthread_mutex_lock(&f->lock);
	struct cache_obj *o = f->obj;
	uint64_t have = o->body_len;
	size_t n = have - x->off < room ? (size_t)(have - x->off) : room;
	n = cache_obj_read(o, x->off, dst, n);
	x->off += n;
	uint8_t st = f->state;
	uint64_t total = f->total;
	pthread_mutex_unlock(&f->lock);
	if ((total != UINT64_MAX && x->off >= total) || (st == FILL_DONE && x->off >= have)) {
		*eof = true;
	} else if (st == FILL_FAILED || st == FILL_PASS) {
		if (!n)
			stream_abort(x->s, "the coalesced fetch failed mid-body");
	} else if (!n) {
		waiter_park(x->s, x);
	}
	return n;
}

/* The producer of a collapsed response in a coding (the `compress` that
 * applies gives this client one): what the leader published so far,
 * compressed as it is read; when the leader stalls, what was taken is
 * flushed (as the compression filter does for a slow origin).  Not
 * stored: the stored object's first hit in this coding makes the variant
 * once (serve_encoded). */
static size_t fill_enc_read(void *arg, char *dst, size_t room, bool *eof)
{
	struct cache_tx *x = arg;
	struct cache_fill *f = x->fill;
	char in[8192];
	size_t out = 0;

	*eof = false;
	while (out < room) {
		pthread_mutex_lock(&f->lock);
		uint64_t have = f->obj->body_len;
		size_t n = have - x->off < sizeof(in) ? (size_t)(have - x->off) : sizeof(in);
		n = cache_obj_read(f->obj, x->off, in, n);
		uint8_t st = f->state;
		uint64_t total = f->total;
		pthread_mutex_unlock(&f->lock);
		unsigned fl = 0;
		if (!n) {
			if ((total != UINT64_MAX && x->off >= total) ||
			    (st == FILL_DONE && x->off >= have)) {
				fl = CZ_END;
			} else if (st == FILL_FAILED || st == FILL_PASS) {
				if (!out)
					stream_abort(x->s, "the coalesced fetch failed mid-body");
				return out;
			} else if (x->zdirty) {
				fl = CZ_FLUSH;   /* the leader stalls: what was taken goes now */
			} else {
				if (!out)
					waiter_park(x->s, x);
				return out;
			}
		}
		size_t took = n, made = room - out;
		bool more = false;
		if (cz_run(x->z, in, &took, dst + out, &made, fl, &more) < 0) {
			stream_abort(x->s, "compressing a coalesced response failed");
			return 0;
		}
		x->off += took;
		out += made;
		if (took)
			x->zdirty = true;
		else if (fl == CZ_FLUSH && !more)
			x->zdirty = false;
		if (fl == CZ_END && !more) {
			*eof = true;
			cz_free(x->z);
			x->z = NULL;
			return out;
		}
		if (!took && !made)
			break;
	}
	return out;
}

/* A waiter answered from the fill while its body still arrives: the
 * identity bytes as they come (fill_read), or, when the `compress` that
 * applies gives this client a coding, the same compressed on the fly
 * (fill_enc_read) with the head an encoded variant has: the treatment a
 * response from the origin gets. */
static enum flt_verdict waiter_serve(struct stream *s, struct cache_tx *x, struct cache_obj *o,
				     uint64_t total)
{
	x->obj = o;
	x->hobj = o;
	x->mode = TX_HIT;
	x->collapsed = true;
	x->age = cc_current_age(&o->times, now_s());
	x->enc_tried = true;
	pick_coding(s, x, total);   /* unknown length: UINT64_MAX, never under min_size */
	if (x->coding && !(x->var = variant_new(x)))
		x->coding = 0;
	if (x->coding && !x->head_req && !not_modified(x, x->var)) {
		const struct cfg_compress *cz = x->cz;   /* pick_coding set it */
		enum cz_algo a = (enum cz_algo)(x->coding - 1);
		if (!(x->z = cz_new(a, cz->level[a], total == UINT64_MAX ? 0 : total))) {
			x->coding = 0;   /* no memory: identity */
			cache_obj_put(x->var);
			x->var = NULL;
		}
	}
	if (x->coding)
		x->hobj = x->var;
	x->reply_status = not_modified(x, x->hobj) ? 304 : o->status;
	x->off = 0;
	struct local_resp r = {
		.status = x->reply_status, .head = head_fill, .head_arg = x,
		.body = SLICE_LIT(""),
	};
	if (x->reply_status != 304 && x->coding) {
		r.src = (struct local_src){ fill_enc_read, NULL, x };
		r.src_len = LOCAL_LEN_UNKNOWN;
	} else if (x->reply_status != 304) {
		r.src = (struct local_src){ fill_read, NULL, x };
		r.src_len = total == UINT64_MAX ? LOCAL_LEN_UNKNOWN : total;
	}
	local_reply(s, &r);
	return FLT_STOP;
}

/* A waiter's turn (its req_head, again after each poll). */
static enum flt_verdict waiter_step(struct stream *s, struct cache_tx *x)
{
	struct cache_fill *f = x->fill;

	pthread_mutex_lock(&f->lock);
	uint8_t st = f->state;
	struct cache_obj *o = f->obj;
	uint64_t total = f->total;
	if (o)
		cache_obj_get(o);
	pthread_mutex_unlock(&f->lock);
	uint64_t limit = x->wait_since + head_wait_limit(s);
	if (st == FILL_HEAD && s->w->loop.now < limit) {
		waiter_park(s, x);
		if (s->wait_until > limit)
			stream_wait_until(s, limit);
		return FLT_WAIT;
	}
	if (st == FILL_DONE && o && vary_match(o, &s->txn->req)) {
		/* stored whole meanwhile: served like a hit (its coding, its
		 * stored variant, a range), still counted as collapsed */
		x->obj = o;
		x->collapsed = true;
		return serve(s, x, false);
	}
	if (st == FILL_BODY && o && vary_match(o, &s->txn->req))
		return waiter_serve(s, x, o, total);
	/* not storable, failed, another variant, or the head is too long in
	 * coming: to the origin, now */
	cache_obj_put(o);
	fill_unwatch(f, &x->watch);
	fill_put(f);
	x->fill = NULL;
	x->mode = TX_MISS;
	return FLT_CONTINUE;
}


/* ---- encoded variants ---- */

/* Whether the object's own Vary names Accept-Encoding. */
static bool varies_ae(const struct cache_obj *o)
{
	const char *p = o->vary_names, *e = p + o->vary_names_len;
	while (p && p < e) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		size_t n = (size_t)((c ? c : e) - p);
		if (n == 15 && memcmp(p, "accept-encoding", 15) == 0)
			return true;
		p = c ? c + 1 : e;
	}
	return false;
}

/* What the `compress` that applies says about the stored object for this
 * request (compress/compress.h): x->coding and x->add_vary. */
static void pick_coding(struct stream *s, struct cache_tx *x, uint64_t len)
{
	const struct cache_obj *o = x->obj;
	/* once per request: before routing it evaluates the frontend's rules */
	const struct cfg_compress *cz = x->cz = compress_conf(s);

	x->coding = 0;
	x->add_vary = false;
	if (!cz)
		return;
	struct slice ce = cache_obj_field(o, "content-encoding");
	struct cz_stored r = {
		.status = o->status, .len = len, .ctype = cache_obj_field(o, "content-type"),
		.no_transform = o->res_cc.flags & CC_NO_TRANSFORM,
		.encoded = ce.len && !slice_ieq_cstr(ce, "identity"),
	};
	if (!r.ctype.len)
		r.ctype.p = NULL;
	bool varies;
	int a = compress_choose_stored(cz, &s->txn->req, &r, &varies);
	/* a range is served from the identity bytes, never compressed; and
	 * a request's no-transform (RFC 9111 5.2.1.6) is honoured too */
	if (a >= 0 && !x->range && !(x->req_cc.flags & CC_NO_TRANSFORM))
		x->coding = (uint8_t)(a + 1);
	x->add_vary = !x->coding && varies && !varies_ae(o);
}

struct var_want {
	struct http_msg *req;
	uint8_t coding;
	uint64_t src_id;
};

static bool variant_match(const struct cache_obj *o, void *arg)
{
	const struct var_want *w = arg;
	return o->coding == w->coding && o->src_id == w->src_id && vary_match(o, w->req);
}

/* The head of the variant in coding x->coding of x->obj: its fields with
 * Content-Encoding, Vary: Accept-Encoding, a weak ETag, no Accept-Ranges;
 * its freshness data is the identity object's. */
static struct cache_obj *variant_new(const struct cache_tx *x)
{
	const struct cache_obj *o = x->obj;
	struct cache_obj *v = cache_obj_new(o->key, o->key_len, o->vary_names, o->vary_names_len,
					    o->vary_key, o->vary_key_len);
	if (!v)
		return NULL;
	bool vary = false;
	char buf[1024];
	for (int i = 0; i < o->nfields; i++) {
		struct slice n = { o->head + o->fields[i].name, o->fields[i].name_len };
		struct slice val = { o->head + o->fields[i].value, o->fields[i].value_len };
		if (slice_ieq_cstr(n, "accept-ranges") || slice_ieq_cstr(n, "content-encoding"))
			continue;
		if (slice_ieq_cstr(n, "etag") && val.len >= 2 && val.p[0] == '"') {
			int k = snprintf(buf, sizeof(buf), "W/%.*s", (int)val.len, val.p);
			if (k >= (int)sizeof(buf))
				continue;
			val = (struct slice){ buf, (uint32_t)k };
		} else if (slice_ieq_cstr(n, "vary") && !vary) {
			vary = true;
			if (!varies_ae(o)) {
				int k = snprintf(buf, sizeof(buf), "%.*s, Accept-Encoding", (int)val.len,
						 val.p);
				if (k >= (int)sizeof(buf))
					goto fail;
				val = (struct slice){ buf, (uint32_t)k };
			}
		}
		if (!cache_obj_add_field(v, n, val))
			goto fail;
	}
	const char *name = cz_name((enum cz_algo)(x->coding - 1));
	if ((!vary && !cache_obj_add_field(v, SLICE_LIT("Vary"), SLICE_LIT("Accept-Encoding"))) ||
	    !cache_obj_add_field(v, SLICE_LIT("Content-Encoding"),
				 (struct slice){ name, (uint32_t)strlen(name) }))
		goto fail;
	v->status = o->status;
	v->times = o->times;
	v->lifetime = o->lifetime;
	v->res_cc = o->res_cc;
	v->coding = x->coding;
	v->src_id = o->id;
	return v;
fail:
	cache_obj_put(v);
	return NULL;
}

/* The producer that makes a variant: the identity body compressed as it
 * is served, each output byte also appended to x->var, which is stored
 * once complete (a client gone before the end leaves nothing stored). */
static size_t enc_read(void *arg, char *dst, size_t room, bool *eof)
{
	struct cache_tx *x = arg;
	size_t out = 0;

	*eof = false;
	while (out < room && !*eof) {
		const char *in = NULL;
		size_t took = cache_obj_span(x->obj, x->off, &in);
		unsigned fl = took ? 0 : CZ_END;
		size_t made = room - out;
		bool more = false;
		if (cz_run(x->z, in ? in : "", &took, dst + out, &made, fl, &more) < 0) {
			stream_abort(x->s, "compressing a cached object failed");
			return 0;
		}
		x->off += took;
		if (made && x->var && (x->var->body_len + made > x->st->max_object ||
				       !cache_obj_append(x->var, dst + out, made))) {
			cache_obj_put(x->var);   /* too big to keep: served all the same */
			x->var = NULL;
		}
		out += made;
		if (fl && !more) {
			*eof = true;
			cz_free(x->z);
			x->z = NULL;
			if (x->var) {
				cache_obj_trim(x->var);
				struct cache_obj *v = x->var;
				x->var = NULL;
				cache_insert(x->st, v);
			}
		} else if (!took && !made) {
			break;
		}
	}
	return out;
}

/* Answers from the variant in x->coding: the stored one (served like any
 * object, lengths known), else one made now from the identity object
 * (chunked; HEAD and 304 get its head and nothing is compressed). */
static enum flt_verdict serve_encoded(struct stream *s, struct cache_tx *x)
{
	struct var_want w = { &s->txn->req, x->coding, x->obj->id };
	struct cache_obj *v = cache_lookup(x->st, x->key, x->klen, variant_match, &w);

	x->var_stored = v != NULL;
	if (!v && !(v = variant_new(x))) {
		x->coding = 0;   /* no memory: identity */
		return serve(s, x, false);
	}
	x->var = v;
	x->hobj = v;
	x->reply_status = not_modified(x, v) ? 304 : v->status;
	x->off = 0;
	struct local_resp r = {
		.status = x->reply_status, .head = head_fill, .head_arg = x,
		.body = SLICE_LIT(""),
	};
	if (x->reply_status != 304) {
		if (x->var_stored) {
			x->bobj = v;
			x->end = v->body_len;
			r.src = (struct local_src){ obj_read, obj_span, x };
			r.src_len = v->body_len;
		} else {
			r.src = (struct local_src){ enc_read, NULL, x };
			r.src_len = LOCAL_LEN_UNKNOWN;
			if (!x->head_req) {
				const struct cfg_compress *cz = x->cz;
				enum cz_algo a = (enum cz_algo)(x->coding - 1);
				x->z = cz_new(a, cz->level[a], x->obj->body_len);
				if (!x->z) {
					x->coding = 0;
					cache_obj_put(x->var);
					x->var = NULL;
					x->hobj = x->obj;
					return serve(s, x, false);
				}
				atomic_fetch_add_explicit(&x->st->encodes, 1, memory_order_relaxed);
			}
		}
	}
	local_reply(s, &r);
	return FLT_STOP;
}

static enum flt_verdict reply_text(struct stream *s, int status, const char *text)
{
	struct local_resp r = {
		.status = (uint16_t)status,
		.body = { text, (uint32_t)strlen(text) },
		.content_type = SLICE_LIT("text/plain"),
		.no_store = true,
		.term = status >= 500 ? TERM_INTERNAL : TERM_NONE,
	};
	local_reply(s, &r);
	return FLT_STOP;
}

/* ---- the request ---- */

static void strip_poison(struct http_msg *m)
{
	/* names with no id of their own (msg_hdr_id: HDR_OTHER), so no
	 * lookup of the id per request */
	static const struct slice names[] = {
		SLICE_LIT("x-forwarded-server"), SLICE_LIT("x-host"), SLICE_LIT("x-original-url"),
		SLICE_LIT("x-rewrite-url"), SLICE_LIT("x-http-method-override"),
		SLICE_LIT("x-http-method"), SLICE_LIT("x-method-override"),
	};
	msg_hdr_del_id(m, HDR_X_FORWARDED_HOST);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		msg_hdr_del_named(m, names[i], HDR_OTHER);
}

static bool vary_match(const struct cache_obj *o, void *arg)
{
	char vk[VARY_KEY_MAX];
	if (!o->vary_names_len)
		return true;
	int n = cc_vary_key_names(arg, o->vary_names, o->vary_names_len, vk, sizeof(vk));
	return n >= 0 && (uint32_t)n == o->vary_key_len && memcmp(vk, o->vary_key, (size_t)n) == 0;
}

/* The origin's bytes for this request (not an encoded variant). */
static bool identity_match(const struct cache_obj *o, void *arg)
{
	return !o->coding && vary_match(o, arg);
}

static bool make_key(struct stream *s, struct cache_tx *x, struct slice host, struct slice target)
{
	char buf[KEY_MAX];
	int n = cache_key(buf, KEY_MAX, conn_is_tls(&s->sess->cli), host, target);
	char *k = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!k)
		return false;
	memcpy(k, buf, (size_t)n);
	free(x->key);
	x->key = k;
	x->klen = (uint32_t)n;
	return true;
}

static bool purge_allowed(struct stream *s, const struct cfg_cache *c)
{
	struct sockaddr_storage ss;
	stream_src(s, &ss);
	return c->npurge_from && cidr_match_any(c->purge_from, c->npurge_from,
						(const struct sockaddr *)&ss);
}

static struct cache_tx *tx_new(struct stream *s, const struct cfg_use_cache *u)
{
	struct cache_tx *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->use = u;
	x->cfg = u->cache;
	x->st = u->cache->store;
	flt_ctx_attach(s->txn, &x->c, ops_self());
	return x;
}

/* A stale object goes to the origin with our validators instead of the
 * client's conditionals (the client's are answered here afterwards). */
static bool add_validators(struct http_msg *m, const struct cache_obj *o)
{
	struct slice etag = cache_obj_field(o, "etag");
	struct slice lm = cache_obj_field(o, "last-modified");
	if (!etag.len && !lm.len)
		return false;
	msg_hdr_del(m, SLICE_LIT("if-none-match"));
	msg_hdr_del(m, SLICE_LIT("if-modified-since"));
	msg_hdr_del(m, SLICE_LIT("if-range"));
	msg_hdr_del(m, SLICE_LIT("range"));
	if (etag.len)
		msg_hdr_add(m, SLICE_LIT("If-None-Match"), msg_store(m, etag.p, etag.len));
	if (lm.len)
		msg_hdr_add(m, SLICE_LIT("If-Modified-Since"), msg_store(m, lm.p, lm.len));
	return true;
}

/* stale-while-revalidate: a copy of the request goes to the origin in the
 * background (proxy/stream.h, stream_detached) with our validators and a
 * transaction state of its own that holds obj->refreshing until it ends:
 * its 304 refreshes the object, its storable 200 replaces it.  False when
 * it cannot start. */
static bool refresh_detached(struct stream *s, struct cache_tx *x)
{
	struct cache_obj *o = x->obj;
	struct stream *c = stream_detached(s, &s->txn->req);
	if (!c)
		return false;
	struct cache_tx *y = calloc(1, sizeof(*y));
	char *key = y ? malloc(x->klen) : NULL;
	if (!key) {
		free(y);
		c->txn->logged = true;   /* never sent: nothing to log */
		stream_close(c);
		return false;
	}
	memcpy(key, x->key, x->klen);
	y->use = x->use;
	y->cfg = x->cfg;
	y->st = x->st;
	y->detached = true;
	y->refreshing = true;
	y->key = key;
	y->klen = x->klen;
	y->req_cc = x->req_cc;
	y->req_no_store = x->req_no_store;
	y->has_auth = x->has_auth;
	y->request_time = x->request_time;
	y->fwd = "stale";
	cache_obj_get(o);
	y->obj = o;
	y->mode = TX_MISS;
	flt_ctx_attach(c->txn, &y->c, ops_self());
	struct http_msg *m = &c->txn->req;
	if (add_validators(m, o)) {
		y->mode = TX_REVAL;
	} else {   /* the client's conditionals and range are not the refresh's */
		msg_hdr_del(m, SLICE_LIT("if-none-match"));
		msg_hdr_del(m, SLICE_LIT("if-modified-since"));
		msg_hdr_del(m, SLICE_LIT("if-range"));
		msg_hdr_del(m, SLICE_LIT("range"));
	}
	return true;
}

static enum flt_verdict cache_req_head(struct stream *s, const void *conf)
{
	const struct cfg_use_cache *u = conf;
	struct txn *t = s->txn;
	struct http_msg *m = &t->req;

	struct cache_tx *w = flt_ctx_get(t, ops_self());
	if (w && w->use == conf && w->mode == TX_WAIT)
		return waiter_step(s, w);   /* polled again (coalescing) */
	if (w)
		return FLT_CONTINUE;   /* the frontend's use_cache took it */
	if (u->cond) {
		struct sockaddr_storage ss;
		struct cond_ctx cc;
		stream_cond_ctx(s, &cc, &ss);
		if (!cond_eval(u->cond, &cc))
			return FLT_CONTINUE;
	}
	bool purge = t->meth == HTTP_METH_OTHER && slice_eq(m->method, SLICE_LIT("PURGE"));
	bool unsafe = !purge && (t->meth == HTTP_METH_POST || t->meth == HTTP_METH_PUT ||
				 t->meth == HTTP_METH_DELETE || t->meth == HTTP_METH_PATCH ||
				 t->meth == HTTP_METH_OTHER);
	if (!purge && !unsafe && t->meth != HTTP_METH_GET && t->meth != HTTP_METH_HEAD)
		return FLT_CONTINUE;
	struct cache_tx *x = tx_new(s, u);
	if (!x)
		return FLT_CONTINUE;   /* no memory: as if uncached */
	if (!make_key(s, x, m->authority, m->target)) {
		x->mode = TX_DONE;
		return FLT_CONTINUE;
	}
	if (purge) {
		x->mode = TX_DONE;
		if (!purge_allowed(s, x->cfg))
			return reply_text(s, 405, "PURGE not allowed\n");
		int n = cache_purge(x->st, x->key, x->klen);
		return n ? reply_text(s, 200, "purged\n") :
			   reply_text(s, 404, "not in cache\n");
	}
	if (unsafe) {
		x->mode = TX_INVALIDATE;
		return FLT_CONTINUE;
	}

	strip_poison(m);
	x->head_req = t->meth == HTTP_METH_HEAD;
	x->request_time = now_s();
	cc_parse_msg(&x->req_cc, m);
	memset(x->req_cc.nc_fields, 0, sizeof(x->req_cc.nc_fields));
	x->req_cc.n_nc = 0;
	x->req_no_store = x->req_cc.flags & CC_NO_STORE;
	int pos = 0;
	x->has_auth = msg_hdr_find(m, SLICE_LIT("authorization"), &pos) != NULL;
	x->mode = TX_MISS;
	x->inm = field_copy(m, "if-none-match");
	x->ims = field_copy(m, "if-modified-since");
	x->range = field_copy(m, "range");
	x->if_range = field_copy(m, "if-range");

	struct cache_obj *o = cache_lookup(x->st, x->key, x->klen, identity_match, m);
	if (!o) {
		cache_note(x->st, x->key, x->klen, CACHE_EV_MISS);
		if (x->req_cc.flags & CC_ONLY_IF_CACHED) {
			x->mode = TX_DONE;
			return reply_text(s, 504, "not in cache (only-if-cached)\n");
		}
		/* coalescing: the first GET fetches, the others wait for it
		 * (not a request that insists on the origin) */
		if ((x->req_cc.flags & CC_NO_CACHE) || x->req_cc.max_age == 0 || x->req_no_store)
			return FLT_CONTINUE;
		bool leader = false;
		x->fill = x->head_req ? fill_join(x->key, x->klen) :
					fill_begin(x->key, x->klen, &leader);
		x->leader = leader;
		if (x->fill && !leader) {
			x->mode = TX_WAIT;
			x->s = s;
			x->wait_since = s->w->loop.now;
			/* watched before the first look: a step of the leader
			 * after it wakes us */
			x->watch.k = stream_waker(s);
			if (x->watch.k)
				fill_watch(x->fill, &x->watch);
			return waiter_step(s, x);
		}
		return FLT_CONTINUE;
	}
	x->obj = o;
	int64_t age = cc_current_age(&o->times, now_s());
	enum cc_use use = cc_usable(&x->req_cc, &o->res_cc, o->lifetime, age, &x->sie_ok);
	if (use == CC_USE_SWR) {
		/* RFC 5861: the stale object answers, and one refresh runs in
		 * the background (a request of its own, with no client); when
		 * none can start, this request refreshes and waits for it */
		bool expect = false;
		if (!atomic_compare_exchange_strong(&o->refreshing, &expect, true))
			return serve(s, x, true);
		if (!x->head_req && refresh_detached(s, x)) {
			x->detail = "stale-while-revalidate";
			return serve(s, x, true);
		}
		x->refreshing = true;
	} else if (use == CC_USE_FRESH || use == CC_USE_STALE_OK) {
		return serve(s, x, true);
	}
	if (x->req_cc.flags & CC_ONLY_IF_CACHED) {
		x->mode = TX_DONE;
		return reply_text(s, 504, "stale in cache (only-if-cached)\n");
	}
	cache_note(x->st, x->key, x->klen, CACHE_EV_MISS);
	x->fwd = (x->req_cc.flags & CC_NO_CACHE) || x->req_cc.max_age != CC_ABSENT ? "request" :
										 "stale";
	if (!x->head_req && add_validators(m, o))
		x->mode = TX_REVAL;
	return FLT_CONTINUE;
}

/* ---- the response ---- */

static bool hop_or_skip(struct slice n, const struct cc *res)
{
	static const char *const names[] = { "connection", "keep-alive", "te", "trailer",
					     "transfer-encoding", "upgrade", "proxy-connection",
					     "content-length", "age", "cache-status", NULL };
	for (int i = 0; names[i]; i++)
		if (slice_ieq_cstr(n, names[i]))
			return true;
	for (int i = 0; i < res->n_nc; i++)
		if (slice_ieq(n, res->nc_fields[i]))
			return true;
	return false;
}

/* The freshness data of an object, from its own fields. */
static void obj_finish(struct cache_obj *o, const struct cfg_cache *cfg, int64_t request_time,
		       int64_t response_time, int64_t age_value)
{
	struct cc c;
	cc_init(&c);
	o->times = (struct cc_times){ .request_time = request_time, .response_time = response_time,
				      .date = -1, .expires = -1, .age = age_value,
				      .last_modified = -1 };
	for (int i = 0; i < o->nfields; i++) {
		struct slice n = { o->head + o->fields[i].name, o->fields[i].name_len };
		const char *v = o->head + o->fields[i].value;
		uint32_t vl = o->fields[i].value_len;
		if (slice_ieq_cstr(n, "cache-control"))
			cc_parse(&c, v, vl);
		else if (slice_ieq_cstr(n, "date"))
			o->times.date = http_date_parse(v, vl);
		else if (slice_ieq_cstr(n, "expires")) {
			int64_t e = http_date_parse(v, vl);
			o->times.expires = e < 0 ? 0 : e;
		} else if (slice_ieq_cstr(n, "last-modified"))
			o->times.last_modified = http_date_parse(v, vl);
	}
	memset(c.nc_fields, 0, sizeof(c.nc_fields));
	c.n_nc = 0;
	o->res_cc = c;
	bool ex;
	o->lifetime = cc_lifetime(&c, &o->times, cfg->heuristic_pct, cfg->heuristic_max_s, &ex);
}

static int64_t age_of(struct http_msg *m)
{
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(m, SLICE_LIT("age"), &pos);
	if (!h)
		return 0;
	int64_t v = 0;
	for (uint32_t i = 0; i < h->value.len; i++) {
		if (h->value.p[i] < '0' || h->value.p[i] > '9')
			return 0;
		if (v < CC_DELTA_MAX)
			v = v * 10 + (h->value.p[i] - '0');
	}
	return v;
}

/* A storable response starts an object (x->build). */
static void start_store(struct stream *s, struct cache_tx *x)
{
	struct txn *t = s->txn;
	struct http_msg *res = &t->res;
	struct cc rc;
	int pos = 0;

	if (x->head_req) {
		x->detail = "method";
		return;
	}
	cc_parse_msg(&rc, res);
	struct cc_times times = { .request_time = x->request_time, .response_time = now_s(),
				  .date = -1, .expires = -1, .age = age_of(res),
				  .last_modified = -1 };
	struct http_hdr *h;
	if ((h = msg_hdr_find(res, SLICE_LIT("date"), &pos)))
		times.date = http_date_parse(h->value.p, h->value.len);
	pos = 0;
	if ((h = msg_hdr_find(res, SLICE_LIT("expires"), &pos))) {
		int64_t e = http_date_parse(h->value.p, h->value.len);
		times.expires = e < 0 ? 0 : e;
	}
	pos = 0;
	if ((h = msg_hdr_find(res, SLICE_LIT("last-modified"), &pos)))
		times.last_modified = http_date_parse(h->value.p, h->value.len);
	bool ex;
	(void)cc_lifetime(&rc, &times, x->cfg->heuristic_pct, x->cfg->heuristic_max_s, &ex);
	pos = 0;
	bool set_cookie = msg_hdr_find(res, SLICE_LIT("set-cookie"), &pos) != NULL;
	enum cc_why why = cc_storable(t->meth, res->status, &x->req_cc, &rc, x->has_auth,
				      set_cookie, cc_vary_star(res), ex, x->cfg->heuristic_pct);
	if (why == CC_OK && res->body == BODY_LENGTH && res->content_length > x->st->max_object)
		why = CC_WHY_TOO_BIG;
	if (why != CC_OK) {
		x->detail = cc_why_text(why);
		return;
	}
	char names[512], vk[VARY_KEY_MAX];
	int nl = cc_vary_names(res, names, sizeof(names));
	int kl = nl > 0 ? cc_vary_key_names(&t->req, names, (size_t)nl, vk, sizeof(vk)) : 0;
	if (nl < 0 || kl < 0) {
		x->detail = "vary-too-long";
		return;
	}
	struct cache_obj *o = cache_obj_new(x->key, x->klen, names, (uint32_t)nl, vk, (uint32_t)kl);
	if (!o)
		return;
	for (int i = 0; i < res->nhdrs; i++) {
		const struct http_hdr *f = &res->hdrs[i];
		if ((f->flags & (HDR_F_DELETED | HDR_F_HOP)) || hop_or_skip(f->name, &rc))
			continue;
		if (!cache_obj_add_field(o, f->name, f->value)) {
			cache_obj_put(o);
			return;
		}
	}
	if (o->head_len > HEAD_MAX) {
		cache_obj_put(o);
		x->detail = "head-too-large";
		return;
	}
	o->status = res->status;
	obj_finish(o, x->cfg, times.request_time, times.response_time, times.age);
	x->build = o;
}

/* RFC 9111 4.3.4: a copy of the stale object with the 304's fields. */
static struct cache_obj *refresh(struct stream *s, struct cache_tx *x)
{
	struct http_msg *res = &s->txn->res;
	const struct cache_obj *old = x->obj;
	struct cc none;
	cc_init(&none);
	struct cache_obj *o = cache_obj_new(old->key, old->key_len, old->vary_names,
					    old->vary_names_len, old->vary_key, old->vary_key_len);
	if (!o)
		return NULL;
	for (int i = 0; i < old->nfields; i++) {
		struct slice n = { old->head + old->fields[i].name, old->fields[i].name_len };
		struct slice v = { old->head + old->fields[i].value, old->fields[i].value_len };
		int pos = 0;
		if (msg_hdr_find(res, n, &pos))
			continue;   /* the 304 has a newer one */
		if (!cache_obj_add_field(o, n, v))
			goto fail;
	}
	for (int i = 0; i < res->nhdrs; i++) {
		const struct http_hdr *f = &res->hdrs[i];
		if ((f->flags & (HDR_F_DELETED | HDR_F_HOP)) || hop_or_skip(f->name, &none) ||
		    slice_ieq_cstr(f->name, "content-type") || slice_ieq_cstr(f->name, "content-encoding"))
			continue;
		if (!cache_obj_add_field(o, f->name, f->value))
			goto fail;
	}
	char buf[4096];
	for (uint64_t off = 0; off < old->body_len;) {
		size_t n = cache_obj_read(old, off, buf, sizeof(buf));
		if (!n || !cache_obj_append(o, buf, n))
			goto fail;
		off += n;
	}
	cache_obj_trim(o);
	o->status = old->status;
	obj_finish(o, x->cfg, x->request_time, now_s(), age_of(res));
	return o;
fail:
	cache_obj_put(o);
	return NULL;
}

/* Location / Content-Location of a successful unsafe request, when on the
 * request's host: its key is purged too. */
static void purge_location(struct stream *s, struct cache_tx *x, const char *field)
{
	struct txn *t = s->txn;
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(&t->res, (struct slice){ field, (uint32_t)strlen(field) },
					  &pos);
	if (!h || !h->value.len)
		return;
	struct slice v = h->value, host = t->req.authority, target;
	if (v.p[0] == '/' && (v.len < 2 || v.p[1] != '/')) {
		target = v;
	} else {
		const char *p = memmem(v.p, v.len, "://", 3);
		if (!p)
			return;
		const char *hs = p + 3, *e = v.p + v.len;
		const char *slash = memchr(hs, '/', (size_t)(e - hs));
		struct slice h2 = { hs, (uint32_t)((slash ? slash : e) - hs) };
		if (!slice_ieq(h2, host))
			return;   /* another host: not ours to touch (4.4) */
		target = slash ? (struct slice){ slash, (uint32_t)(e - slash) } : SLICE_LIT("/");
	}
	if (make_key(s, x, host, target))
		cache_purge(x->st, x->key, x->klen);
}

static enum flt_verdict cache_res_head(struct stream *s, const void *conf)
{
	struct txn *t = s->txn;
	struct cache_tx *x = flt_ctx_get(t, ops_self());

	if (!x || x->use != conf || x->mode == TX_DONE || x->mode == TX_HIT)
		return FLT_CONTINUE;
	int status = t->res.status;
	if (x->mode == TX_INVALIDATE) {
		x->mode = TX_DONE;
		if (!t->local && status >= 200 && status < 400) {
			cache_purge(x->st, x->key, x->klen);
			purge_location(s, x, "location");
			purge_location(s, x, "content-location");
		}
		return FLT_CONTINUE;
	}
	/* TX_MISS, TX_REVAL */
	if (x->obj && x->sie_ok && (t->local ? status >= 500 : (status >= 500 && status <= 504))) {
		/* stale-if-error: the origin failed, the stale object answers */
		x->fwd = "stale";
		x->fwd_status = (uint16_t)status;
		x->detail = "stale-if-error";
		return serve(s, x, false);
	}
	if (t->local) {
		x->mode = TX_DONE;
		if (x->fill)
			fill_end(x->fill, FILL_FAILED);
		return FLT_CONTINUE;
	}
	if (x->mode == TX_REVAL && status == 304) {
		struct cache_obj *o = refresh(s, x);
		if (o) {
			/* the store takes one reference; if it refuses the
			 * object, this client is still answered from it */
			cache_obj_get(o);
			cache_insert(x->st, o);
			cache_obj_put(x->obj);
			x->obj = o;
		}
		x->fwd = "stale";
		x->fwd_status = 304;
		if (x->detached) {   /* a background refresh: nobody to answer */
			x->mode = TX_DONE;
			return FLT_CONTINUE;
		}
		return serve(s, x, false);
	}
	if (x->req_no_store)
		x->detail = "request-no-store";
	else
		start_store(s, x);
	/* A response being stored is fetched to its end even if this
	 * client goes away: its waiters and the requests after them get it
	 * (proxy/stream.h, txn_keep_fetch), as long as it stays storable. */
	if (x->build)
		txn_keep_fetch(t, true);
	if (x->fill && x->build)
		fill_body(x->fill, x->build,
			  t->res.body == BODY_LENGTH ? t->res.content_length : UINT64_MAX);
	else if (x->fill)
		fill_end(x->fill, FILL_PASS);   /* the waiters go to the origin at once */
	x->mode = TX_DONE;
	add_status(&t->res, x, false);
	return FLT_CONTINUE;
}

static enum flt_verdict cache_res_data(struct stream *s, const void *conf, const char *p,
				       size_t len)
{
	struct cache_tx *x = flt_ctx_get(s->txn, ops_self());
	if (!x || x->use != conf || !x->build)
		return FLT_CONTINUE;
	bool ok = x->build->body_len + len <= x->st->max_object;
	if (x->fill)
		pthread_mutex_lock(&x->fill->lock);
	ok = ok && cache_obj_append(x->build, p, len);
	if (x->fill) {
		if (ok)
			fill_wake_locked(x->fill);
		pthread_mutex_unlock(&x->fill->lock);
	}
	if (!ok) {
		cache_obj_put(x->build);   /* too big: it streams through uncached */
		x->build = NULL;
		if (x->fill)
			fill_end(x->fill, FILL_FAILED);
		txn_keep_fetch(s->txn, false);
		if (txn_orphaned(s->txn)) {   /* its client left: nobody wants the rest */
			stream_abort(s, "the response left by its client is no longer stored");
			return FLT_STOP;
		}
	}
	return FLT_CONTINUE;
}

static enum flt_verdict cache_res_end(struct stream *s, const void *conf,
				      const struct http_msg *trailers)
{
	struct cache_tx *x = flt_ctx_get(s->txn, ops_self());
	(void)trailers;
	if (!x || x->use != conf || !x->build)
		return FLT_CONTINUE;
	struct cache_obj *o = x->build;
	x->build = NULL;
	struct http_msg *res = &s->txn->res;
	if (res->body == BODY_LENGTH && o->body_len != res->content_length) {
		cache_obj_put(o);   /* short: never stored */
		if (x->fill)
			fill_end(x->fill, FILL_FAILED);
		return FLT_CONTINUE;
	}
	if (x->fill)
		pthread_mutex_lock(&x->fill->lock);
	cache_obj_trim(o);   /* waiters may be reading it */
	if (x->fill)
		pthread_mutex_unlock(&x->fill->lock);
	cache_insert(x->st, o);
	if (x->fill)
		fill_end(x->fill, FILL_DONE);
	txn_keep_fetch(s->txn, false);   /* all fetched (its client may still be reading) */
	return FLT_CONTINUE;
}

/* ---- the leader's client paced apart from the server (a relay) ---- */

/* At delivery, once every res_head filter decided (a compression of this
 * response stays its coder, under the relay: relay_coded):
 * a response being stored reaches its client from the object, so the
 * server is read at its own pace, the object fills at the server's pace and
 * the waiters with it.  Always, not only with waiters: they may come at any
 * moment of the body, and the object is whole sooner for the next hits. */
static void cache_deliver_head(struct stream *s, struct flt_ctx *c, struct http_msg *m)
{
	struct cache_tx *x = (struct cache_tx *)c;
	struct txn *t = s->txn;
	(void)m;
	if (t->local || !x->build || x->relay || x->detached || txn_orphaned(t))
		return;
	if (txn_relay_res(s, ops_self(), x->use)) {
		cache_obj_get(x->build);
		x->relay = x->build;
	}
}

/* The relay (filter.h): every run is in the object already (res_data ran
 * first), so it is taken at once and the client gets the object's bytes
 * as it drains.  Once the object stopped growing (past max_object) and
 * the client had all of it, the rest passes through, taken only as the
 * client takes it: the client paces the server again, byte for byte. */
static enum flt_verdict relay_coded(struct stream *s, struct cache_tx *x, struct flt_xform *io);

static enum flt_verdict cache_relay(struct stream *s, const void *conf, struct flt_xform *io)
{
	struct cache_tx *x = flt_ctx_get(s->txn, ops_self());
	(void)conf;
	if (!x || !x->relay)
		return FLT_STOP;
	if (io->coded)
		return relay_coded(s, x, io);
	/* read on this thread only: the object grows on it (res_data) */
	uint64_t have = x->relay->body_len;
	if (io->may_in_place && io->in_len && x->rout == x->rin && x->rin + io->in_len <= have &&
	    io->in_len <= io->out_cap && !txn_orphaned(s->txn)) {
		/* caught up: the run, stored already, is the next output */
		x->rin += io->in_len;
		x->rout += io->in_len;
		io->consumed = io->produced = io->in_len;
		io->in_place = true;
		return FLT_CONTINUE;
	}
	size_t take = have > x->rin ? (size_t)(have - x->rin < io->in_len ? have - x->rin
									 : io->in_len) : 0;
	x->rin += take;
	if (txn_orphaned(s->txn) && x->rout < have)
		x->rout = have;   /* no client: nothing to give */
	size_t made = 0;
	if (x->rout < have) {
		made = have - x->rout < io->out_cap ? (size_t)(have - x->rout) : io->out_cap;
		made = cache_obj_read(x->relay, x->rout, io->out, made);
		x->rout += made;
	}
	if (x->rout >= have && x->rout == x->rin && take < io->in_len) {
		/* past the object: through, at the client's pace */
		size_t k = io->in_len - take;
		if (k > io->out_cap - made)
			k = io->out_cap - made;
		memcpy(io->out + made, io->in + take, k);
		take += k;
		made += k;
		x->rin += k;
		x->rout += k;
	}
	io->consumed = take;
	io->produced = made;
	io->more = x->rout < have;
	return FLT_CONTINUE;
}

/* The relay when the response is compressed for its client (the
 * compression filter's transform, stacked under it: filter.h,
 * txn_relay_code): the object's bytes go through the compressor in place
 * (cache_obj_span, uncopied) as the client drains, as a waiter's do
 * (fill_enc_read), so the client still gets exactly the compression
 * filter's output and the server is read at its own pace.  Past the
 * object, the rest goes through the compressor at the client's pace. */
static enum flt_verdict relay_coded(struct stream *s, struct cache_tx *x, struct flt_xform *io)
{
	uint64_t have = x->relay->body_len;   /* this thread's: res_data grows it */
	size_t take = have > x->rin ? (size_t)(have - x->rin < io->in_len ? have - x->rin
									 : io->in_len) : 0;
	size_t made = 0;
	bool held = false;   /* the compressor holds output for a flag call */

	x->rin += take;
	io->consumed = take;
	io->produced = 0;
	io->more = false;
	if (txn_orphaned(s->txn)) {   /* no client: nothing to give */
		x->rout = have;
		io->consumed = io->in_len;
		return FLT_CONTINUE;
	}
	if (io->flags & XF_FLUSH)
		x->rflush = true;
	for (;;) {
		struct flt_xform c = { .out = io->out + made, .out_cap = io->out_cap - made };
		bool through = false;
		if (x->rout < have) {
			const char *p = NULL;
			size_t n = cache_obj_span(x->relay, x->rout, &p);
			c.in = p;
			c.in_len = n < have - x->rout ? n : (size_t)(have - x->rout);
		} else if (x->rout == x->rin && take < io->in_len) {
			/* past the object: through, at the client's pace */
			c.in = io->in + take;
			c.in_len = io->in_len - take;
			through = true;
		} else if (io->flags & XF_END) {
			c.flags = XF_END;
		} else if (x->rflush && x->zdirty) {
			c.flags = XF_FLUSH;
		} else {
			break;
		}
		if (!c.out_cap) {
			held = c.flags != 0;
			break;
		}
		if (txn_relay_code(s, &c) != FLT_CONTINUE)
			return FLT_STOP;
		x->rout += c.consumed;
		if (through) {
			take += c.consumed;
			x->rin += c.consumed;
		}
		made += c.produced;
		if (c.consumed)
			x->zdirty = true;
		if (c.flags) {
			held = c.more;
			if (!c.more) {
				x->rflush = false;
				x->zdirty = false;
			}
			break;
		}
		if (!c.consumed && !c.produced)
			break;   /* no room */
	}
	io->consumed = take;
	io->produced = made;
	io->more = x->rout < have || held || (x->rflush && x->zdirty);
	return FLT_CONTINUE;
}

static void cache_ctx_free(struct flt_ctx *c)
{
	struct cache_tx *x = (struct cache_tx *)c;
	if (x->refreshing && x->obj)
		atomic_store(&x->obj->refreshing, false);
	if (x->fill && x->leader)
		fill_end(x->fill, FILL_FAILED);   /* no-op when it ended already */
	if (x->fill)
		fill_unwatch(x->fill, &x->watch);   /* no post reaches us after this */
	fill_put(x->fill);
	cache_obj_put(x->build);
	cache_obj_put(x->relay);
	cache_obj_put(x->var);
	cz_free(x->z);
	cache_obj_put(x->obj);
	free(x->key);
	free(x->inm);
	free(x->ims);
	free(x->range);
	free(x->if_range);
	free(x);
}

const struct filter_ops flt_cache_ops = {
	.name = "cache",
	.req_head = cache_req_head,
	.res_head = cache_res_head,
	.res_data = cache_res_data,
	.res_end = cache_res_end,
	.res_xform = cache_relay,
	.res_deliver_head = cache_deliver_head,
	.ctx_free = cache_ctx_free,
};

static const struct filter_ops *ops_self(void)
{
	return &flt_cache_ops;
}
