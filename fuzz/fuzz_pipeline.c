/*
 * fuzz_pipeline.c - libFuzzer target for the whole request path: one
 * worker run in-process by tests/unit/pipe_harness.h, a client byte stream
 * in on a socketpair, a scripted server answering with a server byte
 * stream over TCP.  Every input gets a fresh configuration and worker.
 *
 * Input: byte 0-1 split point (little endian, modulo the data length),
 * byte 2 client piece size, byte 3 server piece size (n % 64 + 1, 0 =
 * everything at once), then the client bytes, then the server bytes.
 * The server sends its next piece to the newest connection once that
 * connection has received a whole head; what it sends is whatever comes
 * next in the stream (a retry or a second request gets the rest).
 *
 * A test body filter (below) holds, judges and parks streams on body
 * events, so both pumps' waiting paths run too; `compress` rewrites the
 * responses of requests that accept gzip or zstd (the transform seam,
 * proxy/xform.h, held input included: the buffers are 4k).
 *
 * Bounded per input: no sleep, a fixed number of zero-timeout loop turns
 * beyond one per piece (a client whose sends stay blocked gives up).  Besides ASan/UBSan/LSan reports it traps when:
 *  - the server gets a byte after the proxy closed its side of the client
 *    connection (a rejected or finished client must not send anything
 *    more, smuggled or not), or a new connection after that;
 *  - a server connection's first request targets /deny (denied locally);
 *  - the client connection has not ended a bounded number of turns after
 *    both peers hung up, or the connection count is not back to 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/pipe_harness.h"
#include "core/log.h"
#include "http/h1.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

/* Says which invariant broke (CI keeps the log, not always the input). */
#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz_pipeline: invariant failed at line %d: %s\n", __LINE__, #c); \
	__builtin_trap(); } } while (0)
#define SETTLE_TURNS 16     /* turns after the last piece */
#define HANGUP_TURNS 32     /* turns for the proxy to notice both peers gone */
#define STALL_TURNS 64      /* turns the client waits for a blocked send */

static const char CFG[] =
	"global {\n"
	"    tune.bufsize 4k\n"
	"}\n"
	"frontend f {\n"
	"    bind 127.0.0.1:1\n"
	"    mode http\n"
	"    max_body_size 2k\n"
	"    http_request deny if path prefix /deny\n"
	"    http_request return status 200 body \"pong\" if path == /ping\n"
	"    http_request set_header X-Src \"%[src]\"\n"
	"    http_response set_header X-Fuzz yes\n"
	"    compress gzip zstd types * min_size 0\n"
	"    default_backend b\n"
	"}\n"
	"backend b {\n"
	"    retries 1\n"
	"    server s1 @SRV@\n"
	"}\n";

struct stream_in {
	const uint8_t *p;
	size_t len, off, step;
};

static size_t piece(struct stream_in *in)
{
	size_t n = in->len - in->off;
	return in->step && in->step < n ? in->step : n;
}

/* A body filter like a WAF's: requests under /hold have their body held
 * (txn_hold_body) and are denied at their end when the body held "evil";
 * every third data run and every other end event waits one turn (the loop
 * wakes the parked stream), so the parked paths of both pumps are fuzzed. */
static struct {
	struct stream *parked;
	unsigned runs, ends;
	bool evil;
} bf;

static enum flt_verdict bf_req_head(struct stream *s, const void *conf)
{
	(void)conf;
	struct http_msg *m = &s->txn->req;
	bf.evil = false;
	if (m->path.len >= 5 && memcmp(m->path.p, "/hold", 5) == 0)
		txn_hold_body(s->txn);
	return FLT_CONTINUE;
}

static enum flt_verdict bf_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	(void)conf;
	if (memmem(p, len, "evil", 4))
		bf.evil = true;
	if (++bf.runs % 3 == 0 && !bf.parked) {
		bf.parked = s;
		return FLT_WAIT;
	}
	return FLT_CONTINUE;
}

static enum flt_verdict bf_end(struct stream *s, const void *conf, const struct http_msg *tr)
{
	(void)conf;
	(void)tr;
	if (++bf.ends % 2 == 0 && !bf.parked) {
		bf.parked = s;
		return FLT_WAIT;
	}
	if (bf.evil && s->txn->hold_body) {
		struct local_resp r = { .status = 403, .term = TERM_RULE_DENY };
		local_reply(s, &r);
		return FLT_STOP;
	}
	return FLT_CONTINUE;
}

static void bf_forget(struct stream *s, const void *conf)
{
	(void)conf;
	if (bf.parked == s)
		bf.parked = NULL;
}

static const struct filter_ops body_ops = {
	.name = "fuzz-body", .req_head = bf_req_head, .req_data = bf_data, .req_end = bf_end,
	.res_data = bf_data, .res_end = bf_end, .end = bf_forget,
};

static void add_body_filter(struct ph *h)
{
	struct filter_chain *c = h->cfg->frontends[0]->filters;
	if (c->n < FLT_MAX) {
		c->v[c->n++] = (struct filter){ &body_ops, h->cfg };
		c->phases |= (1u << FLT_REQ_HEAD) | (1u << FLT_REQ_DATA) | (1u << FLT_REQ_END) |
			     (1u << FLT_RES_DATA) | (1u << FLT_RES_END) | (1u << FLT_END);
	}
	memset(&bf, 0, sizeof(bf));
}

/* What the invariants need to remember across turns. */
struct watch {
	bool closed;            /* the proxy closed its side of the client */
	size_t srv_bytes;       /* server bytes when it did */
	int nsrv;               /* server connections when it did */
	int checked;            /* server connections whose first head was checked */
};

static size_t srv_total(const struct ph *h)
{
	size_t n = 0;
	for (int i = 0; i < h->nsrv; i++)
		n += h->srv[i].total;
	return n;
}

/* A server connection's first head never asks for /deny. */
static void check_first_heads(struct ph *h, struct watch *wa)
{
	static struct http_msg m;
	static struct h1_parser ps;
	static const struct h1_limits lim = { .max_head = 65536, .max_target = 8192,
					       .max_hdrs = 200 };

	while (wa->checked < h->nsrv) {
		struct ph_end *e = &h->srv[wa->checked];
		msg_reset(&m);
		h1_parser_reset(&ps);
		int rc = e->in ? h1_parse_request(&ps, e->in, e->len, &m, &lim, NULL) : H1_NEED_MORE;
		if (rc == H1_NEED_MORE && !e->eof)
			return;
		if (rc == H1_DONE)
			FUZZ_ASSERT(!(m.path.len >= 5 && memcmp(m.path.p, "/deny", 5) == 0));
		wa->checked++;
	}
}

static void check_turn(struct ph *h, struct watch *wa)
{
	check_first_heads(h, wa);
	if (!wa->closed && h->cli.eof) {
		wa->closed = true;
		wa->srv_bytes = srv_total(h);
		wa->nsrv = h->nsrv;
	}
	if (wa->closed) {   /* ph_turn accepted any connection that came */
		FUZZ_ASSERT(srv_total(h) == wa->srv_bytes);
		FUZZ_ASSERT(h->nsrv == wa->nsrv);
	}
}

/* The scripted server: the next piece to the newest connection once it
 * has a whole head. */
static void serve(struct ph *h, struct stream_in *srv)
{
	if (!h->nsrv || srv->off >= srv->len)
		return;
	struct ph_end *e = &h->srv[h->nsrv - 1];
	if (e->fd < 0 || !e->in || !memmem(e->in, e->len, "\r\n\r\n", 4))
		return;
	size_t n = piece(srv);
	ssize_t w = send(e->fd, srv->p + srv->off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w > 0)
		srv->off += (size_t)w;
}

/* Grows with every byte either side got or the server sent, and with
 * every connection: the end of the settling turns. */
static size_t progress(const struct ph *h, const struct stream_in *srv)
{
	return srv_total(h) + h->cli.total + srv->off + (size_t)h->nsrv + h->cli.eof;
}

static void turn(struct ph *h, struct stream_in *srv, struct watch *wa)
{
	if (bf.parked) {   /* the verdict is ready one turn later */
		struct stream *s = bf.parked;
		bf.parked = NULL;
		if (!(s->flags & STRM_F_CLOSED))
			stream_wake(s);
	}
	ph_turn(h, 0);
	check_turn(h, wa);
	serve(h, srv);
}

static void run(struct ph *h, struct stream_in *cli, struct stream_in *srv)
{
	struct watch wa = { 0 };

	/* A proxy that stops reading (a server that never answers while the
	 * client pipelines more than the buffers hold) would leave the client
	 * blocked until a timer fires; the client gives up after STALL_TURNS
	 * turns in a row in which nothing moved. */
	for (int stalled = 0; cli->off < cli->len && !h->cli.eof && stalled < STALL_TURNS;) {
		size_t before = progress(h, srv);
		ssize_t w = send(h->cli.fd, cli->p + cli->off, piece(cli),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			cli->off += (size_t)w;
		else if (errno != EAGAIN)
			break;
		turn(h, srv, &wa);
		stalled = w > 0 || progress(h, srv) != before ? 0 : stalled + 1;
	}
	shutdown(h->cli.fd, SHUT_WR);
	/* until SETTLE_TURNS turns in a row change nothing (bounded: every
	 * change moves a byte of the input or of the proxy's output) */
	for (int quiet = 0, i = 0; quiet < SETTLE_TURNS && i < 8192; i++) {
		size_t before = progress(h, srv);
		turn(h, srv, &wa);
		quiet = progress(h, srv) == before ? quiet + 1 : 0;
	}
	/* both peers gone: the stream must end without waiting for a timer */
	FUZZ_ASSERT(ph_hangup(h, HANGUP_TURNS));
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct ph h;

	if (n < 4)
		return 0;
	log_level = LOG_ERR;   /* warnings (403s, 502s) are expected by the thousand */
	size_t len = n - 4, split = len ? ((size_t)d[0] | (size_t)d[1] << 8) % (len + 1) : 0;
	struct stream_in cli = { d + 4, split, 0, d[2] ? (size_t)d[2] % 64 + 1 : 0 };
	struct stream_in srv = { d + 4 + split, len - split, 0, d[3] ? (size_t)d[3] % 64 + 1 : 0 };

	if (ph_open(&h, CFG) < 0 || !ph_client(&h))
		__builtin_trap();
	add_body_filter(&h);
	run(&h, &cli, &srv);
	ph_close(&h);
	FUZZ_ASSERT(atomic_load(&g_conns) == 0);
	return 0;
}
