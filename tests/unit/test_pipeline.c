/*
 * test_pipeline.c - the proxy pipeline end to end, in-process: requests go
 * through the steps (src/proxy/steps.c) over a socketpair, and a scripted
 * server (pipe_harness.h) reads exactly what was forwarded and answers
 * with bytes split any way the test likes.  No real origin, no thread,
 * no sleep beyond bounded loop turns.
 *
 * Each test asserts exact bytes on both sides: the forwarded head, the
 * response the client got, and where nothing may reach the server, that
 * no connection was even opened.
 */
#include "unit.h"
#include "pipe_harness.h"
#include "core/log.h"
#include "proxy/filter.h"
#include "proxy/stream.h"

#define WAIT_MS 2000

static const char *CFG =
	"frontend web {\n"
	"    bind 127.0.0.1:1\n"
	"    mode http\n"
	"    http_request deny if path prefix /admin\n"
	"    http_request return status 200 content_type \"text/plain\" body \"pong\" if path == /ping\n"
	"    http_request redirect location \"https://%[host]%[path]\" code 301 if path prefix /old\n"
	"    http_response set_header X-Frame-Options DENY if path prefix /framed\n"
	"    default_backend app\n"
	"}\n"
	"backend app {\n"
	"    server s1 @SRV@\n"
	"}\n";

/* The same, but a server failure is never retried. */
static const char *CFG_NORETRY =
	"frontend web {\n"
	"    bind 127.0.0.1:1\n"
	"    mode http\n"
	"    default_backend app\n"
	"}\n"
	"backend app {\n"
	"    retries 0\n"
	"    server s1 @SRV@\n"
	"}\n";

static const char GET_A[] = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";

static const char FWD_A[] = "GET /a?b=1 HTTP/1.1\r\n"
			    "Host: example.com\r\n"
			    "User-Agent: t\r\n"
			    "X-Forwarded-For: 127.0.0.1\r\n"
			    "X-Forwarded-Proto: http\r\n"
			    "X-Forwarded-Host: example.com\r\n"
			    "\r\n";

static const char RES_HI[] = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 2\r\n\r\nhi";

/* e starts with exactly `want` (printed both ways if not); consumed. */
#define CHECK_BYTES(e, want) check_bytes(__LINE__, (e), (want), strlen(want))

static void check_bytes(int line, struct ph_end *e, const char *want, size_t n)
{
	if (e->len < n || memcmp(e->in, want, n) != 0) {
		unit_failed_checks++;
		fprintf(stderr, "  %s:%d: bytes differ\n  --- want (%zu)\n%.*s\n  --- got (%zu)\n%.*s\n",
			__FILE__, line, n, (int)n, want, e->len, (int)e->len, e->in ? e->in : "");
	}
	ph_consume(e, n);
}

/* Opens a harness with one client connection; false (and a failed check)
 * if that did not work. */
static bool start(struct ph *h, const char *cfg)
{
	if (ph_open(h, cfg) < 0) {
		CHECK(!"ph_open");
		return false;
	}
	CHECK(ph_client(h));
	return true;
}

/* Hangs up both sides: every client stream must end; then frees all. */
static void finish(struct ph *h)
{
	CHECK(ph_hangup(h, 20));
	ph_close(h);
	CHECK_EQ_INT(atomic_load(&g_conns), 0);
}

/* The server's side of one exchange: the head it gets is `fwd`, it answers
 * `res` in pieces of `step` bytes; the client gets `want`. */
static void exchange(struct ph *h, struct ph_end *srv, const char *fwd, const char *res,
		     size_t step, const char *want)
{
	CHECK(ph_recv_until(h, srv, "\r\n\r\n", WAIT_MS) == (ssize_t)strlen(fwd));
	CHECK_BYTES(srv, fwd);
	CHECK(ph_send_split(h, srv, res, strlen(res), step));
	CHECK(ph_recv_n(h, &h->cli, strlen(want), WAIT_MS));
	CHECK_BYTES(&h->cli, want);
}

/* A GET: the forwarded head (forwarding headers from the peer address:
 * X-Forwarded-For is added as a second field line, which RFC 9110 5.3
 * makes the same list as "10.1.1.1, 203.0.113.9"; Connection dropped) and
 * the response relayed byte for byte, Content-Length put after the other
 * headers by the encoder. */
TEST(get_forwarded)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_client_from(&h, "203.0.113.9"));
	CHECK(ph_send_str(&h, &h.cli,
			  "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive\r\n"
			  "X-Forwarded-For: 10.1.1.1\r\nAccept: */*\r\n\r\n"));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	/* The client is no trusted proxy: its X-Forwarded-For is replaced. */
	if (srv)
		exchange(&h, srv,
			 "GET / HTTP/1.1\r\nHost: a.test\r\n"
			 "Accept: */*\r\nX-Forwarded-For: 203.0.113.9\r\n"
			 "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.test\r\n\r\n",
			 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nhi", 4096,
			 RES_HI);
	CHECK_EQ_INT(h.cli.len, 0);
	CHECK(!h.cli.eof);
	finish(&h);
}

/* The request head split at every byte (two writes, a loop turn between
 * them), then one write per byte: the server always gets the same head.
 * One keep-alive client and one pooled server connection carry them all. */
TEST(request_split_every_byte)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	size_t n = strlen(GET_A);
	for (size_t k = 1; k <= n; k++) {
		CHECK(ph_send(&h, &h.cli, GET_A, k));
		ph_turn(&h, 0);
		CHECK(ph_send(&h, &h.cli, GET_A + k, n - k));
		if (k == 1)
			CHECK(ph_srv_accept(&h, WAIT_MS) != NULL);
		if (h.nsrv)
			exchange(&h, &h.srv[0], FWD_A, RES_HI, 4096, RES_HI);
	}
	CHECK(ph_send_split(&h, &h.cli, GET_A, n, 1));
	if (h.nsrv)
		exchange(&h, &h.srv[0], FWD_A, RES_HI, 4096, RES_HI);
	CHECK_EQ_INT(h.nsrv, 1);
	finish(&h);
}

/* The response split at every byte, and one byte per write: the client
 * always gets the same bytes. */
TEST(response_split_every_byte)
{
	static const char res[] = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
	struct ph h;
	if (!start(&h, CFG))
		return;
	size_t n = strlen(res);
	for (size_t k = 0; k <= n; k++) {
		CHECK(ph_send_str(&h, &h.cli, GET_A));
		struct ph_end *srv = k == 0 ? ph_srv_accept(&h, WAIT_MS) : &h.srv[0];
		if (!srv) {
			CHECK(!"no server connection");
			break;
		}
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		if (k == 0) {
			CHECK(ph_send_split(&h, srv, res, n, 1));
		} else {
			CHECK(ph_send(&h, srv, res, k));
			ph_turn(&h, 0);
			CHECK(ph_send(&h, srv, res + k, n - k));
		}
		CHECK(ph_recv_n(&h, &h.cli, n, WAIT_MS));
		CHECK_BYTES(&h.cli, res);
	}
	CHECK_EQ_INT(h.nsrv, 1);
	finish(&h);
}

/* `http_request deny` answers 403 itself: no server connection is even
 * opened; the client connection stays open and its next request is
 * forwarded. */
TEST(deny_then_forward)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "GET /admin/x HTTP/1.1\r\nHost: example.com\r\n\r\n"));
	ssize_t n = ph_recv_msg(&h, &h.cli, WAIT_MS);
	CHECK(n > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 403 ", 13) == 0);
	CHECK(!strcasestr(h.cli.in, "connection: close"));
	ph_consume(&h.cli, h.cli.len);
	ph_pump(&h, 20);
	CHECK(!h.cli.eof);
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));

	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv)
		exchange(&h, srv, FWD_A, RES_HI, 4096, RES_HI);
	finish(&h);
}

/* `http_request return` with a body: exact bytes, nothing forwarded. */
TEST(return_body)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "GET /ping HTTP/1.1\r\nHost: example.com\r\n\r\n"));
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK_BYTES(&h.cli, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 4\r\n\r\npong");
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));
	finish(&h);
}

/* `http_request redirect location` with %[host]%[path]. */
TEST(redirect)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "GET /old/page?q=1 HTTP/1.1\r\nHost: www.test\r\n\r\n"));
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 301 ", 13) == 0);
	CHECK(strstr(h.cli.in, "\r\nLocation: https://www.test/old/page\r\n") != NULL);
	CHECK_EQ_INT(h.nsrv, 0);
	finish(&h);
}

/* `http_response set_header` replaces the server's value. */
TEST(response_set_header)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "GET /framed HTTP/1.1\r\nHost: h\r\n\r\n"));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		CHECK(ph_send_str(&h, srv, "HTTP/1.1 200 OK\r\nX-Frame-Options: SAMEORIGIN\r\n"
					   "Content-Length: 0\r\n\r\n"));
		CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
		CHECK_BYTES(&h.cli,
			    "HTTP/1.1 200 OK\r\nX-Frame-Options: DENY\r\nContent-Length: 0\r\n\r\n");
	}
	finish(&h);
}

/* A server that closes before answering (retries 0): 502, and the client
 * connection is closed after it. */
TEST(server_close_502)
{
	struct ph h;
	if (!start(&h, CFG_NORETRY))
		return;
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		close(srv->fd);
		srv->fd = -1;
	}
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 502 ", 13) == 0);
	CHECK(strcasestr(h.cli.in, "\r\nConnection: close\r\n") != NULL);
	CHECK(ph_recv_eof(&h, &h.cli, WAIT_MS));
	finish(&h);
}

/* The same with the default retries: an idempotent GET whose server
 * closed before the first response byte is sent again on a new
 * connection, and that answer reaches the client. */
TEST(server_close_retried)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		close(srv->fd);
		srv->fd = -1;
	}
	srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv)
		exchange(&h, srv, FWD_A, RES_HI, 4096, RES_HI);
	finish(&h);
}

/* Expect: 100-continue: the client gets one 100 Continue (ours, the
 * server's is not repeated), the body is forwarded, then the answer. */
TEST(expect_continue)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
				      "Expect: 100-continue\r\n\r\n"));
	CHECK(ph_recv_until(&h, &h.cli, "\r\n\r\n", WAIT_MS) > 0);
	CHECK_BYTES(&h.cli, "HTTP/1.1 100 Continue\r\n\r\n");
	CHECK(ph_send_str(&h, &h.cli, "hello"));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (!srv) {
		finish(&h);
		return;
	}
	ssize_t hl = ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS);
	CHECK(hl > 0);
	CHECK(ph_recv_n(&h, srv, (size_t)hl + 5, WAIT_MS));
	CHECK(strncmp(srv->in, "POST /up HTTP/1.1\r\n", 19) == 0);
	CHECK(memcmp(srv->in + hl, "hello", 5) == 0);
	CHECK_EQ_INT(srv->len, hl + 5);
	ph_consume(srv, srv->len);
	CHECK(ph_send_str(&h, srv, "HTTP/1.1 100 Continue\r\n\r\n"
				   "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK_BYTES(&h.cli, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	finish(&h);
}

/* Two requests in one write: forwarded one at a time, the second only
 * after the first was answered; the answers reach the client in order. */
TEST(pipelined)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
				      "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (!srv) {
		finish(&h);
		return;
	}
	ssize_t hl = ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS);
	CHECK(strncmp(srv->in, "GET /1 ", 7) == 0);
	ph_pump(&h, 20);
	CHECK_EQ_INT(srv->len, hl);   /* the second waits for the first's answer */
	ph_consume(srv, srv->len);
	CHECK(ph_send_str(&h, srv, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"));
	CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
	CHECK(strncmp(srv->in, "GET /2 ", 7) == 0);
	ph_consume(srv, srv->len);
	CHECK(ph_send_str(&h, srv, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"));
	CHECK(ph_recv_n(&h, &h.cli, 2 * 41, WAIT_MS));
	CHECK_BYTES(&h.cli, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
			    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
	CHECK_EQ_INT(h.nsrv, 1);
	finish(&h);
}

/* A malformed request (two Content-Lengths that disagree): 400 with
 * Connection: close, the connection closed, and nothing reached the
 * server: no connection accepted, none pending. */
TEST(malformed_400)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
				      "Content-Length: 2\r\n\r\nab"));
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 400 ", 13) == 0);
	CHECK(strcasestr(h.cli.in, "\r\nConnection: close\r\n") != NULL);
	CHECK(ph_recv_eof(&h, &h.cli, WAIT_MS));
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));
	finish(&h);
}

/* ---- the filter seam: a filter that waits for its verdict ---- */

/* A test filter: its request-head callback parks the stream (FLT_WAIT) the
 * first time and remembers it; once `verdict_ready` is set and the test
 * wakes the stream, the same callback is called again and lets it go on
 * (or, with `deny`, answers 403 itself). */
static struct {
	struct stream *parked;
	int calls;
	bool verdict_ready, deny;
} wf;

static enum flt_verdict wait_req_head(struct stream *s, const void *conf)
{
	(void)conf;
	wf.calls++;
	if (!wf.verdict_ready) {
		wf.parked = s;
		return FLT_WAIT;
	}
	wf.parked = NULL;
	if (wf.deny) {
		struct local_resp r = { .status = 403, .term = TERM_RULE_DENY };
		local_reply(s, &r);
		return FLT_STOP;
	}
	return FLT_CONTINUE;
}

static const struct filter_ops wait_ops = { .name = "test-wait", .req_head = wait_req_head };

/* Puts the test filter first in the frontend's chain (built by ph_open). */
static void add_wait_filter(struct ph *h, bool deny)
{
	struct filter_chain *c = h->cfg->frontends[0]->filters;
	memmove(&c->v[1], &c->v[0], (size_t)c->n * sizeof(c->v[0]));
	c->v[0] = (struct filter){ &wait_ops, h->cfg };
	c->n++;
	c->phases |= 1u << FLT_REQ_HEAD;
	memset(&wf, 0, sizeof(wf));
	wf.deny = deny;
}

/* FLT_WAIT holds the request: nothing reaches the server however long the
 * loop runs; stream_wake() after the verdict resumes the same filter, and
 * the request goes on with the rest of the steps, exactly as forwarded
 * without the filter. */
TEST(filter_waits_then_continues)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_wait_filter(&h, false);
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	ph_pump(&h, 50);
	CHECK(wf.parked != NULL);
	CHECK_EQ_INT(wf.calls, 1);
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));
	ph_pump(&h, 50);                       /* events alone never resume it */
	CHECK_EQ_INT(wf.calls, 1);

	wf.verdict_ready = true;
	stream_wake(wf.parked);
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	CHECK_EQ_INT(wf.calls, 2);
	if (srv)
		exchange(&h, srv, FWD_A, RES_HI, 4096, RES_HI);
	finish(&h);
}

/* A waiting filter whose verdict is "deny": the local answer goes out on
 * the same connection, which then carries the next request. */
TEST(filter_waits_then_answers)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_wait_filter(&h, true);
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	ph_pump(&h, 50);
	CHECK(wf.parked != NULL);
	wf.verdict_ready = true;
	stream_wake(wf.parked);
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 403 ", 13) == 0);
	ph_consume(&h.cli, h.cli.len);
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));

	wf.deny = false;                       /* the next request passes */
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv)
		exchange(&h, srv, FWD_A, RES_HI, 4096, RES_HI);
	finish(&h);
}

/* ---- the filter seam: body data ---- */

static struct {
	size_t req_bytes, res_bytes;
	char req_seen[64], res_seen[64];
} df;

static void df_keep(char *dst, size_t *have, const char *p, size_t len)
{
	size_t room = 63 - (*have < 63 ? *have : 63);
	size_t n = len < room ? len : room;
	memcpy(dst + (*have < 63 ? *have : 63), p, n);
	*have += len;
}

static enum flt_verdict data_req(struct stream *s, const void *conf, const char *p, size_t len)
{
	(void)s;
	(void)conf;
	df_keep(df.req_seen, &df.req_bytes, p, len);
	return FLT_CONTINUE;
}

static enum flt_verdict data_res(struct stream *s, const void *conf, const char *p, size_t len)
{
	(void)s;
	(void)conf;
	df_keep(df.res_seen, &df.res_bytes, p, len);
	return FLT_CONTINUE;
}

static const struct filter_ops data_ops = { .name = "test-data", .req_data = data_req,
					    .res_data = data_res };

/* Content-Length bodies pass the data phases byte for byte, in order,
 * however they are split on the wire; the head is never shown as data. */
TEST(filter_sees_body_data)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	struct filter_chain *c = h.cfg->frontends[0]->filters;
	c->v[c->n++] = (struct filter){ &data_ops, h.cfg };
	c->phases |= (1u << FLT_REQ_DATA) | (1u << FLT_RES_DATA);
	memset(&df, 0, sizeof(df));
	static const char req[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				  "Content-Length: 11\r\n\r\nhello world";
	CHECK(ph_send_split(&h, &h.cli, req, strlen(req), 7));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_msg(&h, srv, WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		static const char res[] = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nwhat a day";
		CHECK(ph_send_split(&h, srv, res, strlen(res) - 1, 5));
		CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	}
	CHECK_EQ_INT(df.req_bytes, 11);
	CHECK(memcmp(df.req_seen, "hello world", 11) == 0);
	CHECK_EQ_INT(df.res_bytes, 9);
	CHECK(memcmp(df.res_seen, "what a da", 9) == 0);
	finish(&h);
}

/* ---- the filter seam: body events (data, trailers, end of message) ---- */

/* A recording filter for both directions: the data as decoded, the end
 * events with their trailers; optionally it holds the request body,
 * judges it at its end (deny when it holds "evil"), or waits once on the
 * first data run or at the request's end. */
static struct {
	char req[256], res[256];
	size_t req_len, res_len;
	int req_ends, res_ends, req_runs;
	char req_tr[128], res_tr[128];
	bool hold, judge, wait_data, wait_end;
	bool judging;               /* every data run, empty re-asks too, waits while set */
	int reasks;                 /* empty runs (the seam asking again after a wake) */
	struct stream *parked;
	int waits;
} bf;

static void bf_keep(char *dst, size_t *have, size_t cap, const char *p, size_t len)
{
	size_t n = *have + len < cap ? len : cap - 1 - *have;
	memcpy(dst + *have, p, n);
	*have += n;
}

static void bf_trailers(char *dst, size_t cap, const struct http_msg *tr)
{
	size_t n = 0;
	for (int i = 0; tr && i < tr->nhdrs; i++)
		n += (size_t)snprintf(dst + n, cap - n, "%.*s=%.*s;", (int)tr->hdrs[i].name.len,
				      tr->hdrs[i].name.p, (int)tr->hdrs[i].value.len,
				      tr->hdrs[i].value.p);
}

static enum flt_verdict bf_req_head(struct stream *s, const void *conf)
{
	(void)conf;
	if (bf.hold)
		txn_hold_body(s->txn);
	return FLT_CONTINUE;
}

static enum flt_verdict bf_req_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	(void)conf;
	if (len) {
		bf_keep(bf.req, &bf.req_len, sizeof(bf.req), p, len);
		bf.req_runs++;
	} else {
		bf.reasks++;
	}
	if ((bf.wait_data && !bf.waits++) || bf.judging) {
		bf.parked = s;
		return FLT_WAIT;
	}
	return FLT_CONTINUE;
}

static enum flt_verdict bf_req_end(struct stream *s, const void *conf, const struct http_msg *tr)
{
	(void)conf;
	if (bf.wait_end && !bf.waits++) {
		bf.parked = s;
		return FLT_WAIT;
	}
	bf.req_ends++;
	bf_trailers(bf.req_tr, sizeof(bf.req_tr), tr);
	if (bf.judge && memmem(bf.req, bf.req_len, "evil", 4)) {
		struct local_resp r = { .status = 403, .term = TERM_RULE_DENY };
		local_reply(s, &r);
		return FLT_STOP;
	}
	return FLT_CONTINUE;
}

static enum flt_verdict bf_res_data(struct stream *s, const void *conf, const char *p, size_t len)
{
	(void)s;
	(void)conf;
	bf_keep(bf.res, &bf.res_len, sizeof(bf.res), p, len);
	return FLT_CONTINUE;
}

static enum flt_verdict bf_res_end(struct stream *s, const void *conf, const struct http_msg *tr)
{
	(void)s;
	(void)conf;
	bf.res_ends++;
	bf_trailers(bf.res_tr, sizeof(bf.res_tr), tr);
	return FLT_CONTINUE;
}

static const struct filter_ops body_ops = {
	.name = "test-body", .req_head = bf_req_head, .req_data = bf_req_data,
	.req_end = bf_req_end, .res_data = bf_res_data, .res_end = bf_res_end,
};

static void add_body_filter(struct ph *h)
{
	struct filter_chain *c = h->cfg->frontends[0]->filters;
	c->v[c->n++] = (struct filter){ &body_ops, h->cfg };
	c->phases |= (1u << FLT_REQ_HEAD) | (1u << FLT_REQ_DATA) | (1u << FLT_REQ_END) |
		     (1u << FLT_RES_DATA) | (1u << FLT_RES_END);
	memset(&bf, 0, sizeof(bf));
}

/* A strict reading of a chunked body (no extensions: the proxy strips
 * them): its data into out, and where the trailer section starts.  False
 * when the framing is broken. */
static bool dechunk(const char *in, size_t len, char *out, size_t cap, size_t *outlen,
		    const char **trailers)
{
	const char *p = in, *e = in + len;
	*outlen = 0;
	for (;;) {
		char *end;
		unsigned long n = strtoul(p, &end, 16);
		if (end == p || end + 2 > e || end[0] != '\r' || end[1] != '\n')
			return false;
		p = end + 2;
		if (n == 0) {
			*trailers = p;
			return true;
		}
		if (p + n + 2 > e || *outlen + n > cap || p[n] != '\r' || p[n + 1] != '\n')
			return false;
		memcpy(out + *outlen, p, n);
		*outlen += n;
		p += n + 2;
	}
}

/* Chunked bodies both ways, split every few bytes on the wire: the filters
 * see the data without its framing, the trailers at the end event, and the
 * server and client still get valid chunked bodies with the same data and
 * trailers (the request's re-framed by the server's codec, run by run). */
TEST(filter_sees_chunked_body_and_trailers)
{
	static const char req[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"
				  "5;ext=1\r\nhello\r\n006\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n";
	static const char req_end[] = "\r\n0\r\nX-Sum: 42\r\n\r\n";
	static const char res[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\nwha\r\n7\r\nt a day\r\n0\r\nX-Done: yes\r\n\r\n";
	static const char res_body[] = "3\r\nwha\r\n7\r\nt a day\r\n0\r\nX-Done: yes\r\n\r\n";

	for (size_t step = 1; step <= 16; step += 5) {
		struct ph h;
		if (!start(&h, CFG))
			return;
		add_body_filter(&h);
		CHECK(ph_send_split(&h, &h.cli, req, strlen(req), step));
		struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
		CHECK(srv != NULL);
		if (srv) {
			ssize_t hl = ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS);
			CHECK(hl > 0);
			ph_consume(srv, (size_t)hl);
			ssize_t bl = ph_recv_until(&h, srv, req_end, WAIT_MS);
			CHECK(bl > 0);
			char data[64];
			size_t dl = 0;
			const char *tr = NULL;
			CHECK(bl > 0 && dechunk(srv->in, (size_t)bl, data, sizeof(data), &dl, &tr));
			CHECK(dl == 11 && memcmp(data, "hello world", 11) == 0);
			CHECK(tr && strncmp(tr, "X-Sum: 42\r\n\r\n", 13) == 0);
			if (bl > 0)
				ph_consume(srv, (size_t)bl);
			CHECK(ph_send_split(&h, srv, res, strlen(res), step));
			hl = ph_recv_until(&h, &h.cli, "\r\n\r\n", WAIT_MS);
			CHECK(hl > 0);
			ph_consume(&h.cli, (size_t)hl);
			CHECK(ph_recv_n(&h, &h.cli, strlen(res_body), WAIT_MS));
			CHECK_BYTES(&h.cli, res_body);
		}
		CHECK_EQ_INT(bf.req_len, 11);
		CHECK(memcmp(bf.req, "hello world", 11) == 0);
		CHECK_EQ_INT(bf.req_ends, 1);
		CHECK_STR(bf.req_tr, "X-Sum=42;");
		CHECK_EQ_INT(bf.res_len, 10);
		CHECK(memcmp(bf.res, "what a day", 10) == 0);
		CHECK_EQ_INT(bf.res_ends, 1);
		CHECK_STR(bf.res_tr, "X-Done=yes;");
		finish(&h);
	}
}

/* Messages without a body still end: a GET and its 204 each meet the end
 * event once, with no data and no trailers; so does the next request on
 * the same connection. */
TEST(filter_sees_end_of_bodyless_messages)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_body_filter(&h);
	for (int i = 1; i <= 2; i++) {
		CHECK(ph_send_str(&h, &h.cli, GET_A));
		struct ph_end *srv = i == 1 ? ph_srv_accept(&h, WAIT_MS) : &h.srv[0];
		CHECK(srv != NULL);
		if (srv)
			exchange(&h, srv, FWD_A, "HTTP/1.1 204 No Content\r\n\r\n", 4096,
				 "HTTP/1.1 204 No Content\r\n\r\n");
		CHECK_EQ_INT(bf.req_ends, i);
		CHECK_EQ_INT(bf.res_ends, i);
	}
	CHECK_EQ_INT(bf.req_len + bf.res_len, 0);
	CHECK_STR(bf.req_tr, "");
	finish(&h);
}

/* A filter that holds the body and judges it at its end: an evil body is
 * answered 403 before any server connection is opened; a good one then
 * goes to the server whole, head first. */
TEST(filter_holds_body_then_judges)
{
	static const char evil[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				   "Content-Length: 10\r\n\r\nsome evil!";
	static const char good[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				   "Content-Length: 10\r\n\r\nsome good!";
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_body_filter(&h);
	bf.hold = bf.judge = true;
	CHECK(ph_send_split(&h, &h.cli, evil, strlen(evil) - 4, 4096));
	ph_pump(&h, 30);                       /* part of the body: held, no server */
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));
	CHECK(ph_send_str(&h, &h.cli, evil + strlen(evil) - 4));
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(strncmp(h.cli.in, "HTTP/1.1 403 ", 13) == 0);
	ph_consume(&h.cli, h.cli.len);
	CHECK_EQ_INT(h.nsrv, 0);
	CHECK(!ph_srv_pending(&h));
	CHECK(!h.cli.eof);                     /* the body was read: keep-alive */

	bf.req_len = 0;
	CHECK(ph_send_str(&h, &h.cli, good));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_msg(&h, srv, WAIT_MS) > 0);
		CHECK(strstr(srv->in, "\r\n\r\nsome good!") != NULL);
		ph_consume(srv, srv->len);
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK_BYTES(&h.cli, RES_HI);
	}
	CHECK_EQ_INT(bf.req_ends, 2);
	finish(&h);
}

/* A held body larger than the buffer: holding ends when the buffer is
 * full (the filters have seen all of it by then) and the request goes on,
 * streaming the rest. */
TEST(filter_holds_body_up_to_the_buffer)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_body_filter(&h);
	bf.hold = true;
	size_t blen = 3 * buf_size;
	char *req = malloc(blen + 128);
	CHECK(req != NULL);
	if (!req) {
		finish(&h);
		return;
	}
	int hl = snprintf(req, 128, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", blen);
	memset(req + hl, 'x', blen);
	size_t sent = 0, total = (size_t)hl + blen;
	struct ph_end *srv = NULL;
	for (int i = 0; i < 2000 && (sent < total || !srv || srv->total < total); i++) {
		if (sent < total) {
			ssize_t w = send(h.cli.fd, req + sent, total - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
		}
		ph_turn(&h, 1);
		if (!srv && h.nsrv)
			srv = &h.srv[0];
	}
	CHECK(srv != NULL);
	CHECK_EQ_INT(sent, total);
	if (srv) {
		CHECK(srv->total >= total);   /* the forwarding headers make it longer */
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK_BYTES(&h.cli, RES_HI);
	}
	CHECK_EQ_INT(bf.req_ends, 1);
	free(req);
	finish(&h);
}

/* FLT_WAIT from a data run pauses the pump after that run until the wake;
 * FLT_WAIT from an end event holds the end (the server still has the
 * request, and the transaction does not end) until the wake, then the end
 * event runs again. */
TEST(filter_waits_on_body_events)
{
	static const char req[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"
				  "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
	for (int at_end = 0; at_end <= 1; at_end++) {
		struct ph h;
		if (!start(&h, CFG))
			return;
		add_body_filter(&h);
		bf.wait_data = !at_end;
		bf.wait_end = at_end;
		CHECK(ph_send_str(&h, &h.cli, req));
		ph_pump(&h, 30);
		CHECK(bf.parked != NULL);
		CHECK_EQ_INT(bf.req_runs, at_end ? 2 : 1);   /* paused after the first run */
		CHECK_EQ_INT(bf.req_ends, 0);
		ph_pump(&h, 30);                             /* events alone do not resume */
		CHECK_EQ_INT(bf.req_runs, at_end ? 2 : 1);
		stream_wake(bf.parked);
		struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
		CHECK(srv != NULL);
		if (srv) {
			CHECK(ph_recv_until(&h, srv, "0\r\n\r\n", WAIT_MS) > 0);
			ph_consume(srv, srv->len);
			CHECK(ph_send_str(&h, srv, RES_HI));
			CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
			CHECK_BYTES(&h.cli, RES_HI);
		}
		CHECK_EQ_INT(bf.req_runs, 2);
		CHECK_EQ_INT(bf.req_ends, 1);
		CHECK(memcmp(bf.req, "abcd", 4) == 0);
		finish(&h);
	}
}

/* A wake that is not the filter's verdict (any other event of the stream:
 * an HTTP/2 DATA frame, a timer) must not move the pump past a data event
 * still waiting: the seam asks the filter again with an empty run, and the
 * held body's head reaches no server until the filter stops waiting. */
TEST(stray_wake_does_not_pass_a_waiting_data_filter)
{
	static const char req[] = "POST /up HTTP/1.1\r\nHost: example.com\r\n"
				  "Content-Length: 4\r\n\r\nabcd";
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_body_filter(&h);
	bf.hold = bf.judging = true;
	CHECK(ph_send_str(&h, &h.cli, req));
	ph_pump(&h, 30);
	CHECK(bf.parked != NULL);
	CHECK_EQ_INT(bf.req_runs, 1);
	for (int i = 0; i < 3 && bf.parked; i++) {
		stream_wake(bf.parked);                 /* not the verdict */
		ph_pump(&h, 30);
		CHECK_EQ_INT(h.nsrv, 0);
		CHECK(!ph_srv_pending(&h));
	}
	CHECK_EQ_INT(bf.reasks, 3);
	CHECK_EQ_INT(bf.req_ends, 0);
	bf.judging = false;                         /* the verdict: go on */
	stream_wake(bf.parked);
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\nabcd", WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK_BYTES(&h.cli, RES_HI);
	}
	CHECK_EQ_INT(bf.req_ends, 1);
	finish(&h);
}

/* A peer that closes in the middle of a chunk line (here, between the CR
 * and the LF after the data) can never finish its body: the stream ends
 * at once, not when a timeout fires.  The request case holds its body, so
 * no server connection is there to notice anything either. */
TEST(eof_inside_a_chunk_line_ends_the_stream)
{
	struct ph h;
	if (!start(&h, CFG))
		return;
	add_body_filter(&h);
	bf.hold = true;
	CHECK(ph_send_str(&h, &h.cli, "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
				      "\r\n5\r\nhello\r"));
	ph_pump(&h, 20);
	CHECK_EQ_INT(bf.req_len, 5);
	shutdown(h.cli.fd, SHUT_WR);
	CHECK(ph_recv_eof(&h, &h.cli, 500));
	CHECK_EQ_INT(h.nsrv, 0);
	finish(&h);

	if (!start(&h, CFG))
		return;
	CHECK(ph_send_str(&h, &h.cli, GET_A));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		CHECK(ph_send_str(&h, srv, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					   "3\r\nabc\r"));
		CHECK(ph_recv_until(&h, &h.cli, "abc", WAIT_MS) > 0);
		shutdown(srv->fd, SHUT_WR);
		CHECK(ph_recv_eof(&h, &h.cli, 500));
	}
	finish(&h);
}

/* ---- slow uploads: timeout body, min_body_rate (stream.c, the body's clock) ---- */

static const char *CFG_BODY =
	"frontend web {\n"
	"    bind 127.0.0.1:1\n"
	"    mode http\n"
	"    timeout body 300ms\n"
	"    default_backend app\n"
	"}\n"
	"backend app {\n"
	"    server s1 @SRV@\n"
	"}\n";

/* A held body that trickles in: the filter never got it all, no server was
 * chosen; past `timeout body` the client gets a 408 and the connection
 * closes, and no server ever hears of the request. */
TEST(held_body_trickle_408)
{
	struct ph h;
	if (!start(&h, CFG_BODY))
		return;
	add_body_filter(&h);
	bf.hold = true;
	CHECK(ph_send_str(&h, &h.cli, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"));
	uint64_t t0 = loop_clock_ms();
	for (int i = 0; i < 30 && !h.cli.len && !h.cli.eof; i++) {
		ph_send_str(&h, &h.cli, "x");
		ph_pump(&h, 40);
	}
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	uint64_t took = loop_clock_ms() - t0;
	CHECK(took >= 290);
	CHECK(h.cli.in && strncmp(h.cli.in, "HTTP/1.1 408 ", 13) == 0);
	CHECK(h.cli.in && strstr(h.cli.in, "\r\nConnection: close\r\n") != NULL);
	CHECK(ph_recv_eof(&h, &h.cli, WAIT_MS));
	CHECK_EQ_INT(h.nsrv, 0);
	finish(&h);
}

/* A held body that is all in while its filter takes longer than
 * `timeout body` to judge it: the proxy, not the client, is slow, so the
 * request goes on once the filter lets it. */
TEST(held_body_judged_slowly_not_cut)
{
	static const char req[] = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd";
	struct ph h;
	if (!start(&h, CFG_BODY))
		return;
	add_body_filter(&h);
	bf.hold = bf.wait_end = true;
	CHECK(ph_send_str(&h, &h.cli, req));
	ph_pump(&h, 600);
	CHECK(bf.parked != NULL);
	CHECK_EQ_INT(h.cli.len, 0);
	CHECK(!h.cli.eof);
	stream_wake(bf.parked);
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\nabcd", WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK_BYTES(&h.cli, RES_HI);
	}
	finish(&h);
}

/* A server that takes the head and part of the body, then the client
 * stalls past `timeout body`: 408, and the server connection, which got
 * part of a request, is closed rather than pooled. */
TEST(body_timeout_closes_server_connection)
{
	struct ph h;
	if (!start(&h, CFG_BODY))
		return;
	CHECK(ph_send_str(&h, &h.cli, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"));
	struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
	CHECK(srv != NULL);
	CHECK(ph_recv_msg(&h, &h.cli, WAIT_MS) > 0);
	CHECK(h.cli.in && strncmp(h.cli.in, "HTTP/1.1 408 ", 13) == 0);
	if (srv) {
		CHECK(ph_recv_until(&h, srv, "\r\n\r\nabc", WAIT_MS) > 0);
		CHECK(ph_recv_eof(&h, srv, WAIT_MS));
	}
	finish(&h);
}

/* ---- the filter seam: a filter rewrites the response body (proxy/xform.h) ---- */

/* Doubles every byte (its output outgrows its input, so the pipeline must
 * hold what does not fit and come back to it), ends the body with '.',
 * counts its flushes. */
static struct {
	int flushes, ends, partial;
} xf;

static const struct filter_ops xf_ops_test;

static enum flt_verdict xf_res_head(struct stream *s, const void *conf)
{
	(void)conf;
	CHECK(txn_transform_res(s, &xf_ops_test, NULL));
	CHECK(!txn_transform_res(s, &xf_ops_test, NULL));   /* never twice */
	return FLT_CONTINUE;
}

static enum flt_verdict xf_res_xform(struct stream *s, const void *conf, struct flt_xform *x)
{
	(void)s;
	(void)conf;
	size_t n = x->in_len < x->out_cap / 2 ? x->in_len : x->out_cap / 2;
	for (size_t i = 0; i < n; i++)
		x->out[2 * i] = x->out[2 * i + 1] = x->in[i];
	x->consumed = n;
	x->produced = 2 * n;
	xf.partial += n < x->in_len;
	if (x->flags & XF_FLUSH)
		xf.flushes++;
	if (x->flags & XF_END) {
		if (x->produced < x->out_cap) {
			x->out[x->produced++] = '.';
			xf.ends++;
		} else {
			x->more = true;
		}
	}
	return FLT_CONTINUE;
}

static const struct filter_ops xf_ops_test = { .name = "test-xform", .res_head = xf_res_head,
					       .res_xform = xf_res_xform };

/* 40,000 bytes from Content-Length and chunked origins, split on the wire:
 * the client gets the filter's output (twice the bytes, more than a
 * buffer holds at once) chunked, without Content-Length, the trailers
 * after it, and the connection is reused. */
TEST(filter_transforms_response_body)
{
	enum { N = 40000 };
	char *body = malloc(N), *want = malloc(2 * N + 1), *got = malloc(2 * N + 64);
	for (int i = 0; i < N; i++)
		body[i] = (char)('a' + i % 26);
	for (int i = 0; i < N; i++)
		want[2 * i] = want[2 * i + 1] = body[i];
	want[2 * N] = '.';
	for (int chunked = 0; chunked < 2; chunked++) {
		struct ph h;
		if (!start(&h, CFG))
			break;
		struct filter_chain *c = h.cfg->frontends[0]->filters;
		c->v[c->n++] = (struct filter){ &xf_ops_test, h.cfg };
		c->phases |= 1u << FLT_RES_HEAD;
		memset(&xf, 0, sizeof(xf));
		CHECK(ph_send_str(&h, &h.cli, GET_A));
		struct ph_end *srv = ph_srv_accept(&h, WAIT_MS);
		CHECK(srv != NULL);
		if (!srv) {
			ph_close(&h);
			break;
		}
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		char head[128];
		int hl = snprintf(head, sizeof(head), chunked ?
				  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" :
				  "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", N);
		CHECK(ph_send(&h, srv, head, (size_t)hl));
		if (chunked)
			CHECK(ph_send_split(&h, srv, body, N, 1500));
		else
			CHECK(ph_send(&h, srv, body, N));   /* runs of a whole buffer */
		if (chunked)
			CHECK(ph_send_str(&h, srv, "\r\n0\r\nX-Sum: 7\r\n\r\n"));
		ssize_t rl = ph_recv_until(&h, &h.cli, "\r\n\r\n", WAIT_MS);
		CHECK(rl > 0);
		if (rl > 0) {
			CHECK(strstr(h.cli.in, "Transfer-Encoding: chunked\r\n") != NULL);
			CHECK(strstr(h.cli.in, "Content-Length") == NULL ||
			      strstr(h.cli.in, "Content-Length") > h.cli.in + rl);
			ph_consume(&h.cli, (size_t)rl);
		}
		const char *end = chunked ? "\r\n0\r\nX-Sum: 7\r\n\r\n" : "\r\n0\r\n\r\n";
		ssize_t bl = ph_recv_until(&h, &h.cli, end, 5 * WAIT_MS);
		CHECK(bl > 0);
		size_t gl = 0;
		const char *tr = NULL;
		CHECK(bl > 0 && dechunk(h.cli.in, (size_t)bl, got, 2 * N + 64, &gl, &tr));
		CHECK_EQ_INT(gl, 2 * N + 1);
		CHECK(gl == 2 * N + 1 && memcmp(got, want, gl) == 0);
		CHECK_EQ_INT(xf.ends, 1);
		if (!chunked)   /* the run outgrew the room: part of it was held */
			CHECK(xf.partial > 0);
		if (bl > 0)
			ph_consume(&h.cli, (size_t)bl);
		/* the connection goes on, the next response untransformed */
		c->n--;
		CHECK(ph_send_str(&h, &h.cli, GET_A));
		CHECK(ph_recv_until(&h, srv, "\r\n\r\n", WAIT_MS) > 0);
		ph_consume(srv, srv->len);
		CHECK(ph_send_str(&h, srv, RES_HI));
		CHECK(ph_recv_n(&h, &h.cli, strlen(RES_HI), WAIT_MS));
		CHECK_BYTES(&h.cli, RES_HI);
		finish(&h);
	}
	free(body);
	free(want);
	free(got);
}

int main(void)
{
	log_level = LOG_ERR;   /* the 403s and 502s below are expected */
	RUN(get_forwarded);
	RUN(request_split_every_byte);
	RUN(response_split_every_byte);
	RUN(deny_then_forward);
	RUN(return_body);
	RUN(redirect);
	RUN(response_set_header);
	RUN(server_close_502);
	RUN(server_close_retried);
	RUN(expect_continue);
	RUN(pipelined);
	RUN(malformed_400);
	RUN(filter_waits_then_continues);
	RUN(filter_waits_then_answers);
	RUN(filter_sees_body_data);
	RUN(filter_sees_chunked_body_and_trailers);
	RUN(filter_sees_end_of_bodyless_messages);
	RUN(filter_holds_body_then_judges);
	RUN(filter_holds_body_up_to_the_buffer);
	RUN(held_body_trickle_408);
	RUN(held_body_judged_slowly_not_cut);
	RUN(body_timeout_closes_server_connection);
	RUN(filter_waits_on_body_events);
	RUN(stray_wake_does_not_pass_a_waiting_data_filter);
	RUN(eof_inside_a_chunk_line_ends_the_stream);
	RUN(filter_transforms_response_body);
	return UNIT_SUMMARY("test_pipeline");
}
