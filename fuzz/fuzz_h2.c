/*
 * fuzz_h2.c - libFuzzer target for an HTTP/2 client session through the
 * whole pipeline: one worker run in-process by tests/unit/pipe_harness.h,
 * HTTP/2 frames in from the client on a socketpair, a scripted HTTP/1.1
 * server answering over TCP.  Every input gets a fresh configuration and
 * worker.  fuzz_pipeline.c does the same for HTTP/1.1 clients.
 *
 * Input (structure-aware: mutations keep the frames meaningful):
 *   byte 0: the server's behaviour and the client's pacing
 *     bits 0-1  response framing: 0 Content-Length, 1 chunked, 2 chunked
 *               with trailers, 3 a mix by request (also 103 + 200, 204,
 *               a body delimited by the close)
 *     bit 2     slow server: 16 bytes a turn
 *     bit 3     answer as soon as the head is in (else after the body)
 *     bit 4     the client comes on the `proto h2` bind (else the auto
 *               bind, which finds HTTP/2 by the preface)
 *     bit 5     every response says Connection: close (and the server
 *               shuts its side after it)
 *     bit 6     large response bodies (6000 bytes: flow control, pauses)
 *     bit 7     the client writes everything at once (else a loop turn
 *               after each record, and the preface of an auto bind in two)
 *   then records: [type:1][flags:1][stream:1][len:2, big endian][payload]
 *     type 0xff: the payload as raw bytes (framing errors);
 *     type 0xfe: 1 + stream % 32 loop turns, nothing sent (the server can
 *                answer between two frames);
 *     type 0xfd: the worker stops gracefully (what worker_begin_stop does:
 *                GOAWAY, streams in flight finish), then as 0xfe;
 *     other:     a frame of that type (unknown types included): 9-byte
 *                header with len, type, flags and the stream id, then the
 *                payload (HEADERS/CONTINUATION: raw HPACK, PADDED and
 *                PRIORITY fields included);
 *     stream -> id: < 0xa0 odd 2*(b%32)+1; < 0xc0 0; < 0xe0 even
 *     2*(b%32)+2; < 0xf0 0x7fffffff - 2*(b%16); else the reserved bit set
 *     on a small odd id.
 * The harness writes the client preface and an empty SETTINGS frame
 * first; it never acknowledges the proxy's SETTINGS by itself (a record
 * does, or not: both flow-control regimes are fuzzed).
 *
 * The server answers every request head it receives (at once, or when
 * its body has arrived) per byte 0, a 100 Continue first should an
 * Expect: 100-continue reach it, a HEAD without a body.  The
 * fuzz/corpus/h2/ seeds come from fuzz/gen_h2_corpus.py (python3-hpack,
 * which Debian's python3-h2 brings); inputs that show a bug not fixed yet
 * wait in fuzz/repro/h2/ (fuzz/repro/README.md).  FUZZ_H2_DEBUG=1 in the
 * environment prints the proxy's log lines (one input at a time).
 *
 * A test body filter (as in fuzz_pipeline.c) holds, judges and parks
 * streams on body events, so the waiting paths run too.
 *
 * Bounded per input: no sleep, a fixed number of zero-timeout loop turns.
 * Besides ASan/UBSan/LSan reports it traps, naming the invariant, when:
 *  - the server gets a request for /deny (denied locally), or an upgrade;
 *  - what the server gets is not a sequence of valid HTTP/1.1 requests
 *    (heads, Content-Length and chunked bodies, trailers) checked with
 *    src/http/h1.c's parser: no HTTP/2 -> HTTP/1.1 smuggling;
 *  - the server gets a byte, or a connection, after the proxy closed the
 *    client connection;
 *  - the proxy's first frame is not a SETTINGS advertising h2_max_streams;
 *  - a bounded number of turns after the client closed, the client
 *    connection is not over, or a server connection is neither closed by
 *    the proxy nor idle in its pool at a message boundary, or the
 *    connection count is not back to 0.
 */
// It links every module (fuzz.sh's default, spelled out; its default
// libraries, -lnghttp2 and -lmodsecurity among them):
// FUZZ_SOURCES: src/proxy/*.c src/http/*.c src/config/*.c src/core/*.c
// FUZZ_SOURCES: src/filter/*.c src/net/*.c src/lb/*.c src/health/*.c
// FUZZ_SOURCES: src/limit/*.c src/log/*.c src/waf/*.c src/compress/*.c
// FUZZ_SOURCES: src/admin/*.c src/control/*.c src/cache/*.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/pipe_harness.h"
#include "core/log.h"
#include "http/h1.h"
#include "proxy/backend.h"
#include "proxy/filter.h"
#include "proxy/local.h"
#include "proxy/session.h"
#include "proxy/stream.h"

/* Says which invariant broke (CI keeps the log, not always the input). */
#define FUZZ_ASSERT(c, what) do { if (!(c)) { \
	fprintf(stderr, "fuzz_h2: invariant failed at line %d: %s (%s)\n", __LINE__, what, #c); \
	__builtin_trap(); } } while (0)

#define SETTLE_TURNS 16     /* quiet turns that end a settling phase */
#define SETTLE_MAX 8192     /* turns a settling phase may take at most */
#define HANGUP_TURNS 32     /* turns for the proxy to notice the client gone */
#define STALL_TURNS 64      /* turns the client waits for a blocked send */
#define SLOW_PIECE 16       /* bytes a turn from a slow server */
#define MAX_REQS 16         /* requests remembered per server connection */

#define M_FRAMING   0x03
#define M_SLOW      0x04
#define M_AT_HEAD   0x08
#define M_BIND_H2   0x10
#define M_CLOSE     0x20
#define M_BIG       0x40
#define M_COALESCE  0x80

#define REC_RAW  0xff
#define REC_WAIT 0xfe
#define REC_STOP 0xfd

static const char CFG[] =
	"global {\n"
	"    tune.bufsize 4k\n"
	"}\n"
	"frontend f {\n"
	"    bind 127.0.0.1:1 proto h2\n"
	"    bind 127.0.0.1:2\n"
	"    mode http\n"
	"    max_body_size 6k\n"
	"    h2_max_streams 4\n"
	"    h2_max_resets 8\n"
	"    h2_max_control 32\n"
	"    h2_max_header_list 2k\n"
	"    http_request deny if path prefix /deny\n"
	"    http_request return status 200 body \"pong\" if path == /ping\n"
	"    http_request set_header X-Src \"%[src]\"\n"
	"    http_response set_header X-Fuzz yes\n"
	"    default_backend b\n"
	"}\n"
	"backend b {\n"
	"    retries 1\n"
	"    server s1 @SRV@\n"
	"}\n";

#define H2_MAX_STREAMS 4    /* as configured above */

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";


/* ---- the body filter (as fuzz_pipeline.c's) ---- */

/* Requests under /hold have their body held (txn_hold_body) and are
 * denied at their end when the body held "evil"; every third data run and
 * every other end event waits one turn (the loop wakes the parked stream),
 * so the parked paths of both pumps are fuzzed. */
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


/* ---- growable byte strings ---- */

struct bytes {
	char *p;
	size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q)
			abort();
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void bytes_str(struct bytes *b, const char *s)
{
	bytes_add(b, s, strlen(s));
}

static void bytes_fmt(struct bytes *b, const char *fmt, unsigned long v)
{
	char tmp[128];
	int n = snprintf(tmp, sizeof(tmp), fmt, v);
	bytes_add(b, tmp, (size_t)n);
}


/* ---- the scripted server and what it checks ---- */

enum sc_state { SC_HEAD, SC_LENGTH, SC_CHUNKED };

/* One server connection as the server sees it (h->srv[i]). */
struct sconn {
	enum sc_state st;
	size_t pos;              /* bytes of srv[i].in checked (never consumed) */
	uint64_t left;           /* SC_LENGTH: body bytes still to come */
	struct h1_chunk ch;      /* SC_CHUNKED */
	unsigned heads, msgs;    /* request heads, whole requests received */
	unsigned answered;       /* requests answered */
	bool head_meth[MAX_REQS];   /* request i % MAX_REQS was a HEAD */
	struct bytes out;        /* what the server says, sent from `sent` */
	size_t sent;
	bool close_after;        /* shut the write side once `out` is sent */
	bool shut;
};

struct fz {
	struct ph h;
	uint8_t mode;
	struct sconn sc[PH_MAX_SRV];
	bool closed;             /* the proxy closed its side of the client */
	size_t srv_bytes_at_close;
	int nsrv_at_close;
	bool preface_checked;    /* the proxy's first frame was looked at */
};

static struct fz z;
static char *scratch;
static size_t scratch_cap;

static char *scratch_get(size_t n)
{
	if (n + 1 > scratch_cap) {
		free(scratch);
		scratch_cap = n + 1 > 65536 ? n + 1 : 65536;
		scratch = malloc(scratch_cap);
		if (!scratch)
			abort();
	}
	return scratch;
}

/* Shows what the server got (escaped, from `off`), before a trap. */
static void dump(const char *why, const char *p, size_t len, size_t off)
{
	fprintf(stderr, "fuzz_h2: %s; server bytes from offset %zu:\n  ", why, off);
	for (size_t i = off; i < len && i < off + 600; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n')
			fputs("\\n\n  ", stderr);
		else if (c == '\r')
			fputs("\\r", stderr);
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

/* Parses a request head at p (from a copy when an Expect has to be
 * hidden: h1.c answers 417 to expectations other than 100-continue, which
 * an HTTP/2 request may carry to the server - valid HTTP/1.1 all the
 * same).  Same result codes as h1_parse_request; on H1_DONE *hlen is the
 * head's length and m describes it. */
static int parse_head(const char *p, size_t len, struct http_msg *m, size_t *hlen,
		      struct h1_err *err)
{
	static const struct h1_limits lim = { .max_head = 65536, .max_target = 8192,
					       .max_hdrs = HTTP_MAX_HDRS };
	struct h1_parser ps;

	msg_reset(m);
	h1_parser_reset(&ps);
	int rc = h1_parse_request(&ps, p, len, m, &lim, err);
	if (rc == H1_ERROR && err->status == 417) {
		char *q = scratch_get(len);
		memcpy(q, p, len);
		for (size_t i = 0; i + 9 <= len; i++)
			if (strncasecmp(q + i, "\r\nexpect:", 9) == 0)
				q[i + 2] = 'X';   /* "Xxpect" is just a field */
		msg_reset(m);
		h1_parser_reset(&ps);
		rc = h1_parse_request(&ps, q, len, m, &lim, err);
	}
	*hlen = ps.head_len;
	return rc;
}

/* The response to request number r of server connection ci. */
static void respond(struct sconn *c, int ci, unsigned r)
{
	bool head = c->head_meth[r % MAX_REQS];
	unsigned kind = z.mode & M_FRAMING;
	size_t blen = (z.mode & M_BIG) ? 6000 : 5 + r % 7;
	bool close = (z.mode & M_CLOSE) != 0;
	struct bytes *o = &c->out;

	if (kind == 3)
		kind = (r + (unsigned)ci) % 6;
	if (kind == 3) {
		bytes_str(o, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n");
		kind = 0;
	}
	if (kind == 4) {
		bytes_str(o, "HTTP/1.1 204 No Content\r\nX-Kind: 204\r\n");
		if (close)
			bytes_str(o, "Connection: close\r\n");
		bytes_str(o, "\r\n");
	} else if (kind == 5) {   /* delimited by the close */
		bytes_str(o, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		for (size_t i = 0; !head && i < blen; i++)
			bytes_add(o, &"abcdefghijklmnopqrstuvwxyz"[i % 26], 1);
		close = true;
	} else {
		bytes_str(o, "HTTP/1.1 200 OK\r\nX-Kind: ");
		bytes_fmt(o, "%lu\r\n", kind);
		if (close)
			bytes_str(o, "Connection: close\r\n");
		if (kind == 0) {
			bytes_fmt(o, "Content-Length: %lu\r\n\r\n", blen);
			for (size_t i = 0; !head && i < blen; i++)
				bytes_add(o, &"abcdefghijklmnopqrstuvwxyz"[i % 26], 1);
		} else {
			bytes_str(o, "Transfer-Encoding: chunked\r\n\r\n");
			for (size_t done = 0; !head && done < blen;) {
				size_t n = blen - done > 1000 ? 1000 : blen - done;
				bytes_fmt(o, "%lx\r\n", n);
				for (size_t i = 0; i < n; i++)
					bytes_add(o, &"0123456789"[(done + i) % 10], 1);
				bytes_str(o, "\r\n");
				done += n;
			}
			if (!head) {
				bytes_str(o, "0\r\n");
				if (kind == 2)
					bytes_str(o, "X-Trailer: yes\r\ngrpc-status: 0\r\n");
				bytes_str(o, "\r\n");
			}
		}
	}
	if (close)
		c->close_after = true;
}

/* Checks the new bytes server connection i got: a sequence of valid
 * HTTP/1.1 requests, none for /deny, no CONNECT nor h2c upgrade. */
static void check_srv(int i)
{
	static struct http_msg m;
	struct ph_end *e = &z.h.srv[i];
	struct sconn *c = &z.sc[i];

	while (c->pos < e->len) {
		const char *p = e->in + c->pos;
		size_t len = e->len - c->pos;
		if (c->st == SC_LENGTH) {
			size_t n = len < c->left ? len : (size_t)c->left;
			c->pos += n;
			c->left -= n;
			if (c->left == 0) {
				c->msgs++;
				c->st = SC_HEAD;
			}
			continue;
		}
		if (c->st == SC_CHUNKED) {
			struct h1_err err = { 0 };
			size_t consumed = 0, produced = 0;
			char *q = scratch_get(len);
			memcpy(q, p, len);
			int rc = h1_chunk_step(&c->ch, q, len, &consumed, &produced, &err);
			if (rc == H1_ERROR) {
				dump(err.reason ? err.reason : "bad chunked body", e->in, e->len, c->pos);
				FUZZ_ASSERT(rc != H1_ERROR,
					    "the server got a chunked request body that does not parse");
			}
			c->pos += consumed;
			if (rc == H1_DONE) {
				c->msgs++;
				c->st = SC_HEAD;
				continue;
			}
			if (consumed == 0)
				return;
			continue;
		}
		/* SC_HEAD */
		struct h1_err err = { 0 };
		size_t hlen = 0;
		int rc = parse_head(p, len, &m, &hlen, &err);
		if (rc == H1_NEED_MORE)
			return;   /* a head cut by a close is no harm: the server drops it */
		if (rc == H1_ERROR) {
			char why[160];
			snprintf(why, sizeof(why), "%u %s at +%u", err.status,
				 err.reason ? err.reason : "?", err.offset);
			dump(why, e->in, e->len, c->pos);
			FUZZ_ASSERT(rc != H1_ERROR, "the server got a request head that does not parse");
		}
		if (m.path.len >= 5 && memcmp(m.path.p, "/deny", 5) == 0) {
			dump("request for /deny", e->in, e->len, c->pos);
			FUZZ_ASSERT(0, "the server got a request for /deny (denied locally)");
		}
		/* An extended CONNECT (RFC 8441) arrives as a bodyless GET with
		 * Upgrade; nothing else may ask for a tunnel, and never h2c
		 * (the parser deletes such a field: it is still in the table). */
		bool upgrade = m.flags & (MSG_F_HAS_UPGRADE | MSG_F_CONN_UPGRADE);
		bool h2c = false;
		for (int k = 0; k < m.nhdrs; k++)
			if (m.hdrs[k].id == HDR_UPGRADE && m.hdrs[k].value.len >= 3 &&
			    memmem(m.hdrs[k].value.p, m.hdrs[k].value.len, "h2c", 3))
				h2c = true;
		if (m.body == BODY_TUNNEL || m.meth == HTTP_METH_CONNECT || h2c ||
		    (upgrade && (m.meth != HTTP_METH_GET || m.body != BODY_NONE))) {
			dump("upgrade or CONNECT", e->in, e->len, c->pos);
			FUZZ_ASSERT(0, "the server got a CONNECT, an h2c upgrade or an upgrade "
				       "with a body from an HTTP/2 client");
		}
		c->head_meth[c->heads % MAX_REQS] = m.meth == HTTP_METH_HEAD;
		/* RFC 9110 10.1.1: the final response may also come at once;
		 * the 100 is sent when the server waits for the body */
		if ((m.flags & MSG_F_EXPECT_CONTINUE) && !(z.mode & M_AT_HEAD) &&
		    m.body != BODY_NONE && !c->shut && !c->close_after)
			bytes_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->heads++;
		c->pos += hlen;
		if (m.body == BODY_LENGTH && m.content_length) {
			c->left = m.content_length;
			c->st = SC_LENGTH;
		} else if (m.body == BODY_CHUNKED) {
			h1_chunk_init(&c->ch, H1_CHUNK_NORMALIZE);
			c->st = SC_CHUNKED;
		} else {
			c->msgs++;
		}
	}
}

/* Answers what is due and sends what it can on server connection i. */
static void serve_one(int i)
{
	struct ph_end *e = &z.h.srv[i];
	struct sconn *c = &z.sc[i];

	if (e->fd < 0 || c->shut)
		return;
	unsigned due = (z.mode & M_AT_HEAD) ? c->heads : c->msgs;
	while (c->answered < due && !c->close_after)
		respond(c, i, c->answered++);
	size_t n = c->out.len - c->sent;
	if ((z.mode & M_SLOW) && n > SLOW_PIECE)
		n = SLOW_PIECE;
	if (n) {
		ssize_t w = send(e->fd, c->out.p + c->sent, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			c->sent += (size_t)w;
	}
	if (c->close_after && c->sent == c->out.len) {
		shutdown(e->fd, SHUT_WR);
		c->shut = true;
	}
}

static size_t srv_total(void)
{
	size_t n = 0;
	for (int i = 0; i < z.h.nsrv; i++)
		n += z.h.srv[i].total;
	return n;
}

/* Grows with every byte either side got or the server sent, and with
 * every connection: the end of the settling turns. */
static size_t progress(void)
{
	size_t n = srv_total() + z.h.cli.total + (size_t)z.h.nsrv + z.h.cli.eof;
	for (int i = 0; i < z.h.nsrv; i++)
		n += z.sc[i].sent + z.sc[i].shut;
	return n;
}

/* The proxy's first frame: its SETTINGS, with h2_max_streams (not the
 * slack nghttp2 was given, h2_client.c settings_patch). */
static void check_preface(void)
{
	struct ph_end *e = &z.h.cli;

	if (z.preface_checked || e->len < 9)
		return;
	const uint8_t *p = (const uint8_t *)e->in;
	size_t len = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
	if (e->len < 9 + len)
		return;
	z.preface_checked = true;
	FUZZ_ASSERT(p[3] == 4 && !(p[4] & 1), "the proxy's first frame is its SETTINGS");
	bool seen = false;
	for (size_t o = 9; o + 6 <= 9 + len; o += 6) {
		if ((p[o] << 8 | p[o + 1]) != 3)
			continue;
		uint32_t v = (uint32_t)p[o + 2] << 24 | (uint32_t)p[o + 3] << 16 |
			     (uint32_t)p[o + 4] << 8 | p[o + 5];
		FUZZ_ASSERT(v == H2_MAX_STREAMS, "SETTINGS_MAX_CONCURRENT_STREAMS is h2_max_streams");
		seen = true;
	}
	FUZZ_ASSERT(seen, "the proxy's SETTINGS advertise SETTINGS_MAX_CONCURRENT_STREAMS");
}

static void turn(void)
{
	struct ph *h = &z.h;

	if (bf.parked) {   /* the verdict is ready one turn later */
		struct stream *s = bf.parked;
		bf.parked = NULL;
		if (!(s->flags & STRM_F_CLOSED))
			stream_wake(s);
	}
	ph_turn(h, 0);
	if (h->cli.fd >= 0) {
		check_preface();
		if (z.preface_checked)   /* the rest is not kept */
			ph_consume(&h->cli, h->cli.len);
	}
	for (int i = 0; i < h->nsrv; i++)
		check_srv(i);
	if (!z.closed && h->cli.eof) {
		z.closed = true;
		z.srv_bytes_at_close = srv_total();
		z.nsrv_at_close = h->nsrv;
	}
	if (z.closed) {   /* ph_turn accepted any connection that came */
		FUZZ_ASSERT(srv_total() == z.srv_bytes_at_close,
			    "no byte reaches the server after the proxy closed the client");
		FUZZ_ASSERT(h->nsrv == z.nsrv_at_close,
			    "no server connection after the proxy closed the client");
	}
	for (int i = 0; i < h->nsrv; i++)
		serve_one(i);
}

/* Until SETTLE_TURNS turns in a row change nothing (bounded: every change
 * moves a byte of the input, of the proxy's output or of a response). */
static void settle(void)
{
	for (int quiet = 0, i = 0; quiet < SETTLE_TURNS && i < SETTLE_MAX; i++) {
		size_t before = progress();
		turn();
		quiet = progress() == before ? quiet + 1 : 0;
	}
}

/* Writes p[0..len) to the proxy, turning while the socket is full; a
 * proxy that stops reading for STALL_TURNS turns in which nothing moves
 * makes the client give up (false). */
static bool client_send(const char *p, size_t len)
{
	struct ph *h = &z.h;

	for (int stalled = 0; len;) {
		if (h->cli.eof || stalled >= STALL_TURNS)
			return false;
		size_t before = progress();
		ssize_t w = send(h->cli.fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			if (!len)
				return true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return false;
		}
		turn();
		stalled = w > 0 || progress() != before ? 0 : stalled + 1;
	}
	return true;
}

static uint32_t stream_id(uint8_t b)
{
	if (b < 0xa0)
		return 2u * (b % 32) + 1;
	if (b < 0xc0)
		return 0;
	if (b < 0xe0)
		return 2u * (b % 32) + 2;
	if (b < 0xf0)
		return 0x7fffffffu - 2u * (b % 16);
	return 0x80000000u | (2u * (b % 16) + 1);
}

static void frame_hdr(struct bytes *b, size_t len, uint8_t type, uint8_t flags, uint32_t id)
{
	uint8_t hd[9] = { (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
			  (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id };
	bytes_add(b, hd, sizeof(hd));
}

/* A graceful stop, as worker.c's worker_begin_stop (static there) does
 * it: no more pooling, idle server connections closed, every session
 * drained (HTTP/2: GOAWAY, the streams in flight finish). */
static void graceful_stop(struct ph *h)
{
	struct list *pos, *tmp;

	if (h->w.stopping)
		return;
	h->w.stopping = true;
	srvconn_close_idle_all(&h->w);
	list_for_each_safe(pos, tmp, &h->w.sessions)
		session_drain(container_of(pos, struct session, link));
}

/* The client: preface, SETTINGS, then the records. */
static void client(const uint8_t *d, size_t n)
{
	struct bytes out = { 0 };
	bool coalesce = (z.mode & M_COALESCE) != 0, ok = true;
	size_t off = 0;

	bytes_add(&out, PREFACE, sizeof(PREFACE) - 1);
	if (!coalesce && !(z.mode & M_BIND_H2)) {
		/* an auto bind sees a prefix of the preface first */
		ok = client_send(out.p, 9);
		turn();
		memmove(out.p, out.p + 9, out.len - 9);
		out.len -= 9;
	}
	frame_hdr(&out, 0, 4, 0, 0);   /* SETTINGS, no parameter */
	while (ok && off + 5 <= n) {
		uint8_t type = d[off], flags = d[off + 1], sel = d[off + 2];
		size_t len = (size_t)d[off + 3] << 8 | d[off + 4];
		off += 5;
		if (len > n - off)
			len = n - off;
		const uint8_t *p = d + off;
		off += len;
		if (type == REC_WAIT || type == REC_STOP) {
			ok = client_send(out.p, out.len);
			out.len = 0;
			if (type == REC_STOP)
				graceful_stop(&z.h);
			for (int i = 0; i <= sel % 32; i++)
				turn();
			continue;
		}
		if (type != REC_RAW)
			frame_hdr(&out, len, type, flags, stream_id(sel));
		bytes_add(&out, p, len);
		if (!coalesce) {
			ok = client_send(out.p, out.len);
			out.len = 0;
			turn();
		}
	}
	if (ok && out.len)
		client_send(out.p, out.len);
	free(out.p);
}

/* A client connection on bind `bi` of the frontend (ph_client_from uses
 * none: no `proto h2`). */
static bool open_client(struct ph *h, int bi)
{
	const struct cfg_frontend *fe = h->cfg->frontends[0];
	struct sockaddr_storage peer = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&peer;
	int sv[2];

	if (bi >= fe->nbinds ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	ph_end_init(&h->cli, sv[0]);
	/* what the listener does: the stream gives the count back when it ends */
	atomic_fetch_add_explicit(&g_conns, 1, memory_order_relaxed);
	session_accept(&h->w, fe, &fe->binds[bi], sv[1], &peer);
	return true;
}

/* After the client is gone: every server connection the proxy still has
 * open is idle in the pool, at a message boundary, fully answered. */
static void check_servers_after(void)
{
	struct ph *h = &z.h;
	const struct server_rt *sv = &h->w.gen->backends[0].servers[0];
	uint32_t open = 0;

	if (h->nsrv >= PH_MAX_SRV)
		return;   /* more than the harness accepts: some never were */
	for (int i = 0; i < h->nsrv; i++) {
		struct sconn *c = &z.sc[i];
		if (h->srv[i].eof || h->srv[i].fd < 0)
			continue;
		open++;
		FUZZ_ASSERT(c->st == SC_HEAD && c->pos == h->srv[i].len,
			    "a server connection left open is at a request boundary");
		FUZZ_ASSERT(c->answered == c->heads && c->sent == c->out.len,
			    "a server connection left open has been fully answered");
	}
	FUZZ_ASSERT(open == sv->nidle,
		    "server connections left open after the client closed are the idle pool");
}

static void run(const uint8_t *d, size_t n)
{
	struct ph *h = &z.h;

	client(d, n);
	settle();
	/* the client closes: half first (the proxy must see the FIN), then
	 * entirely */
	if (h->cli.fd >= 0)
		shutdown(h->cli.fd, SHUT_WR);
	settle();
	ph_end_free(&h->cli, false);
	for (int i = 0; i < HANGUP_TURNS; i++)
		turn();
	FUZZ_ASSERT(h->w.nsessions == 0,
		    "the client connection ends a bounded number of turns after the client closed");
	check_servers_after();
	/* the server goes too: nothing may be left */
	FUZZ_ASSERT(ph_hangup(h, HANGUP_TURNS), "no session left once both peers are gone");
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct ph *h = &z.h;

	if (n < 1)
		return 0;
	/* warnings (refused streams, 403s, 502s) come by the thousand;
	 * FUZZ_H2_DEBUG=1 shows everything when looking at one input */
	static int debug = -1;
	if (debug < 0)
		debug = getenv("FUZZ_H2_DEBUG") != NULL;
	log_level = debug ? LOG_DEBUG : LOG_ERR;
	memset(&z, 0, sizeof(z));
	z.mode = d[0];
	if (ph_open(h, CFG) < 0 || !open_client(h, (z.mode & M_BIND_H2) ? 0 : 1))
		__builtin_trap();
	add_body_filter(h);
	run(d + 1, n - 1);
	ph_close(h);
	for (int i = 0; i < PH_MAX_SRV; i++)
		free(z.sc[i].out.p);
	FUZZ_ASSERT(atomic_load(&g_conns) == 0, "the connection count is back to 0");
	return 0;
}
