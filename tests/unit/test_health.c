/*
 * test_health.c - unit tests of src/health/: the rise/fall state machine,
 * the check response's status line (every split point), outlier ejection
 * (threshold, reset on success, backoff, its cap and decay, max_ejected,
 * return logging) with an explicit clock, the HTTP/2 and gRPC checks
 * (health_h2.c) against an nghttp2 server session in memory, the gRPC
 * messages encoded by hand, and the `health` / `outlier` directives with
 * their FILE:LINE:COL errors.
 */
#include <nghttp2/nghttp2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "core/log.h"
#include "health/health.h"
#include "health/health_h2.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

#define FE "frontend web {\n    bind 127.0.0.1:8080\n    default_backend app\n}\n"

static struct cfg *L(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);

	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

/* Expects the config to fail with `want` as one whole line of the errors. */
static bool ERR(const char *text, const char *want)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	bool ok = false;

	if (c) {
		fprintf(stderr, "  config loaded but should not:\n%s\n", text);
		cfg_free(c);
		return false;
	}
	size_t n = strlen(want);
	for (const char *p = errs; p && (p = strstr(p, want)); p++)
		if ((p == errs || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			ok = true;
	if (!ok)
		fprintf(stderr, "  want line: %s\n  got:\n%s\n", want, errs ? errs : "(none)");
	free(errs);
	return ok;
}

/* A loaded config, a fresh registry synced with it (as at startup) and one
 * worker's runtime of its first backend: what health_observe() gets. */
struct fix {
	struct cfg *c;
	struct backend_rt be;
};

static bool fix_load(struct fix *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	registry_free();
	f->c = L(text);
	if (f->c && registry_sync(f->c) == 0 && lb_backend_init(&f->be, f->c->backends[0]) == 0)
		return true;
	cfg_free(f->c);
	f->c = NULL;
	return false;
}

/* A backend "app" of n servers with an outlier line. */
static bool outlier_cfg(struct fix *f, int n, const char *outlier)
{
	char text[2048];
	size_t o = (size_t)snprintf(text, sizeof(text), "%sbackend app {\n", FE);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "    server s%d 127.0.0.1:%d\n",
				      i + 1, 9001 + i);
	snprintf(text + o, sizeof(text) - o, "    %s\n}\n", outlier);
	return fix_load(f, text);
}

static void outlier_free(struct fix *f)
{
	if (!f->c)
		return;
	lb_backend_free(&f->be);
	cfg_free(f->c);
	f->c = NULL;
	registry_free();
}

static uint64_t until(const struct server_rt *s)
{
	return atomic_load(&s->sh->ejected_until_ms);
}

/* ---- rise / fall --------------------------------------------------------- */

TEST(sm_starts_up_and_falls_after_fall_failures)
{
	struct health_sm sm = { 0 };

	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_WENT_DOWN);
	CHECK(sm.down);
	/* Further failures change nothing. */
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK(sm.down);
}

TEST(sm_failures_must_be_consecutive)
{
	struct health_sm sm = { 0 };

	for (int round = 0; round < 10; round++) {
		CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
		CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
		CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_SAME);
	}
	CHECK(!sm.down);
}

TEST(sm_rises_after_rise_successes)
{
	struct health_sm sm = { 0 };

	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 1), HEALTH_WENT_DOWN);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 1), HEALTH_SAME);   /* streak broken */
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_WENT_UP);
	CHECK(!sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	/* rise 1 / fall 1 flips on every change. */
	struct health_sm one = { 0 };
	CHECK_EQ_INT(health_sm_step(&one, false, 1, 1), HEALTH_WENT_DOWN);
	CHECK_EQ_INT(health_sm_step(&one, true, 1, 1), HEALTH_WENT_UP);
	CHECK_EQ_INT(health_sm_step(&one, false, 1, 1), HEALTH_WENT_DOWN);
}

TEST(sm_long_runs_do_not_overflow)
{
	struct health_sm sm = { 0 };

	for (int i = 0; i < 70000; i++)
		health_sm_step(&sm, true, 2, 3);
	CHECK(!sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	for (int i = 0; i < 70000; i++)
		health_sm_step(&sm, false, 2, 3);
	CHECK(sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_WENT_UP);
}

/* ---- status line ---------------------------------------------------------- */

static int status_of(const char *s)
{
	int st = -1;
	int r = health_parse_status(s, strlen(s), &st);
	return r == 1 ? st : r == 0 ? 0 : -1;
}

TEST(status_line_forms)
{
	CHECK_EQ_INT(status_of("HTTP/1.1 200 OK\r\n"), 200);
	CHECK_EQ_INT(status_of("HTTP/1.0 503 Service Unavailable\r\n\r\n"), 503);
	CHECK_EQ_INT(status_of("HTTP/1.1 204\r\n"), 204);          /* empty reason */
	CHECK_EQ_INT(status_of("\r\nHTTP/1.1 301 Moved\r\n"), 301);  /* leading CRLF */
	CHECK_EQ_INT(status_of("HTTP/1.1 101 Switching\r\n"), 101);
	/* Interim heads are skipped, the final status counts. */
	CHECK_EQ_INT(status_of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\n"), 500);
	CHECK_EQ_INT(status_of("HTTP/1.1 103 Early\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n"),
		     200);
	CHECK_EQ_INT(status_of("HTTP/1.1 103 Early\r\nLink: </a>\r\n"), 0);   /* need more */
	CHECK_EQ_INT(status_of("HTTP/1.1 20"), 0);
	CHECK_EQ_INT(status_of(""), 0);
	CHECK_EQ_INT(status_of("HTT"), 0);
	/* Not HTTP/1.x: a failure as soon as it shows. */
	CHECK_EQ_INT(status_of("SSH-2.0-OpenSSH\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/2 200\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 2x0 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 2000 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 099 Low\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1  200 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("X"), -1);
}

TEST(status_line_every_split)
{
	const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nA: b\r\n\r\n";
	size_t len = strlen(r);
	bool done_seen = false;

	for (size_t cut = 0; cut <= len; cut++) {
		int st = 0;
		int x = health_parse_status(r, cut, &st);
		if (x < 0) {
			fprintf(stderr, "  error at cut %zu\n", cut);
			CHECK(x >= 0);
			break;
		}
		/* Once the final status line's digits are in, it is done. */
		if (x == 1) {
			CHECK_EQ_INT(st, 404);
			done_seen = true;
		} else {
			CHECK(!done_seen);
		}
	}
	CHECK(done_seen);
}

/* ---- gRPC messages ------------------------------------------------------- */

TEST(grpc_request_bytes)
{
	uint8_t b[2048];

	/* no service, or an empty one: an empty message (proto3 leaves "" out) */
	CHECK_EQ_INT(hc_grpc_request(NULL, b, sizeof(b)), 5);
	CHECK(memcmp(b, "\0\0\0\0\0", 5) == 0);
	CHECK_EQ_INT(hc_grpc_request("", b, sizeof(b)), 5);
	/* flag 0, length 5, then tag 0x0a, length 3, "app" */
	CHECK_EQ_INT(hc_grpc_request("app", b, sizeof(b)), 10);
	CHECK(memcmp(b, "\0\0\0\0\x05\x0a\x03" "app", 10) == 0);
	/* 200 bytes: a two-byte varint (0xc8 0x01), length 203 in the prefix */
	char svc[201];
	memset(svc, 's', 200);
	svc[200] = '\0';
	CHECK_EQ_INT(hc_grpc_request(svc, b, sizeof(b)), 5 + 3 + 200);
	CHECK(memcmp(b, "\0\0\0\0\xcb\x0a\xc8\x01", 8) == 0 && b[8] == 's' && b[207] == 's');
	/* too small a buffer */
	CHECK_EQ_INT(hc_grpc_request("app", b, 9), -1);
	CHECK_EQ_INT(hc_grpc_request(NULL, b, 4), -1);
}

static int64_t serving(const char *p, size_t len)
{
	uint64_t st = 99;
	return hc_grpc_response_status((const uint8_t *)p, len, &st) < 0 ? -1 : (int64_t)st;
}

TEST(grpc_response_status)
{
	CHECK_EQ_INT(serving("\x08\x01", 2), 1);        /* SERVING */
	CHECK_EQ_INT(serving("\x08\x02", 2), 2);        /* NOT_SERVING */
	CHECK_EQ_INT(serving("\x08\x03", 2), 3);        /* SERVICE_UNKNOWN */
	CHECK_EQ_INT(serving("", 0), 0);                /* UNKNOWN: left out by proto3 */
	/* unknown fields of every wire type are skipped; the last status wins */
	CHECK_EQ_INT(serving("\x12\x03" "abc" "\x08\x01", 7), 1);
	CHECK_EQ_INT(serving("\x18\x96\x01" "\x08\x02" "\x21" "12345678" "\x2d" "1234", 19), 2);
	CHECK_EQ_INT(serving("\x08\x02\x08\x01", 4), 1);
	/* broken: truncated varint, length past the end, status not a varint,
	 * field 0, a group */
	CHECK_EQ_INT(serving("\x08", 1), -1);
	CHECK_EQ_INT(serving("\x08\x81", 2), -1);
	CHECK_EQ_INT(serving("\x12\x05" "ab", 4), -1);
	CHECK_EQ_INT(serving("\x0a\x01\x01", 3), -1);
	CHECK_EQ_INT(serving("\x00\x01", 2), -1);
	CHECK_EQ_INT(serving("\x1b\x1c", 2), -1);
	CHECK_EQ_INT(serving("\x21" "1234", 5), -1);
	CHECK_EQ_INT(serving("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), -1);

	CHECK_STR(hc_grpc_code_name(0), "OK");
	CHECK_STR(hc_grpc_code_name(5), "NOT_FOUND");
	CHECK_STR(hc_grpc_code_name(14), "UNAVAILABLE");
	CHECK_STR(hc_grpc_code_name(16), "UNAUTHENTICATED");
	CHECK(hc_grpc_code_name(17) == NULL);
}

/* ---- HTTP/2 checks against an nghttp2 server in memory ------------------- */

/* The server side: what it received, and what it answers. */
struct fake {
	nghttp2_session *ng;
	int32_t sid;                 /* the request's stream, once its head is in */
	bool ended;                  /* the request's END_STREAM */
	char head[1024];             /* "name: value\n" per field, in order */
	size_t head_len;
	uint8_t body[256];
	size_t body_len;
	/* the answer's body and trailers (submitted from the body source) */
	const uint8_t *data;
	size_t data_len;
	const nghttp2_nv *trailers;
	size_t ntrailers;
};

static int f_header(nghttp2_session *ng, const nghttp2_frame *fr, const uint8_t *n, size_t nl,
		    const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	struct fake *f = ud;
	(void)ng;
	(void)fr;
	(void)flags;
	f->head_len += (size_t)snprintf(f->head + f->head_len, sizeof(f->head) - f->head_len,
					"%.*s: %.*s\n", (int)nl, n, (int)vl, v);
	return 0;
}

static int f_frame(nghttp2_session *ng, const nghttp2_frame *fr, void *ud)
{
	struct fake *f = ud;
	(void)ng;
	if (fr->hd.type == NGHTTP2_HEADERS && fr->headers.cat == NGHTTP2_HCAT_REQUEST)
		f->sid = fr->hd.stream_id;
	if ((fr->hd.type == NGHTTP2_HEADERS || fr->hd.type == NGHTTP2_DATA) &&
	    (fr->hd.flags & NGHTTP2_FLAG_END_STREAM))
		f->ended = true;
	return 0;
}

static int f_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
		  void *ud)
{
	struct fake *f = ud;
	(void)ng;
	(void)flags;
	(void)id;
	if (len <= sizeof(f->body) - f->body_len) {
		memcpy(f->body + f->body_len, d, len);
		f->body_len += len;
	}
	return 0;
}

static ssize_t f_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
		      uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct fake *f = ud;
	(void)src;
	size_t n = f->data_len < len ? f->data_len : len;
	if (n) {
		memcpy(buf, f->data, n);
		f->data += n;
	}
	f->data_len -= n;
	if (f->data_len == 0) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (f->trailers) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(ng, id, f->trailers, f->ntrailers);
		}
	}
	return (ssize_t)n;
}

static void fake_init(struct fake *f)
{
	nghttp2_session_callbacks *cb;

	memset(f, 0, sizeof(*f));
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, f_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, f_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, f_data);
	nghttp2_session_server_new(&f->ng, cb, f);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(f->ng, NGHTTP2_FLAG_NONE, NULL, 0);
}

/* Moves bytes both ways until neither side has any or the check decided. */
static int shuttle(struct fake *f, struct hc_h2 *x)
{
	for (int round = 0; round < 50; round++) {
		const uint8_t *p;
		size_t len;
		bool moved = false;

		if (hc_h2_output(x, &p, &len) < 0)
			return HC_H2_FAIL;
		if (len) {
			CHECK(nghttp2_session_mem_recv(f->ng, p, len) == (ssize_t)len);
			hc_h2_sent(x, len);
			moved = true;
		}
		const uint8_t *d;
		ssize_t n;
		while ((n = nghttp2_session_mem_send(f->ng, &d)) > 0) {
			int r = hc_h2_input(x, d, (size_t)n);
			moved = true;
			if (r != HC_H2_MORE)
				return r;
		}
		if (!moved)
			break;
	}
	return HC_H2_MORE;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0 }

/* Answers the request with head (and data, trailers) and runs the check. */
static int answer(struct fake *f, struct hc_h2 *x, const nghttp2_nv *head, size_t nhead,
		  const char *data, size_t data_len, const nghttp2_nv *trl, size_t ntrl)
{
	nghttp2_data_provider dp = { .read_callback = f_read };

	f->data = (const uint8_t *)data;
	f->data_len = data_len;
	f->trailers = trl;
	f->ntrailers = ntrl;
	CHECK(nghttp2_submit_response(f->ng, f->sid, head, nhead, data || trl ? &dp : NULL) == 0);
	return shuttle(f, x);
}

/* A check of kind hc against a fresh server, up to the request's end. */
static struct hc_h2 *start(struct fake *f, const struct cfg_health *hc, bool tls)
{
	fake_init(f);
	struct hc_h2 *x = hc_h2_new(hc, "app.local:8080", tls);
	CHECK(x != NULL);
	if (x)
		CHECK_EQ_INT(shuttle(f, x), HC_H2_MORE);
	CHECK(f->sid > 0 && f->ended);
	return x;
}

static void finish(struct fake *f, struct hc_h2 *x)
{
	hc_h2_free(x);
	nghttp2_session_del(f->ng);
}

TEST(h2_http_check_request_and_statuses)
{
	struct cfg_health hc = { .kind = HEALTH_HTTP, .method = "HEAD", .path = "/ready?deep=1",
				 .expect_lo = 200, .expect_hi = 399, .timeout_ms = 1000,
				 .proto = SRV_PROTO_H2 };
	struct fake f;
	struct hc_h2 *x = start(&f, &hc, false);

	/* what went out: pseudo-headers first, the path as written, no body */
	CHECK_STR(f.head, ":method: HEAD\n:scheme: http\n:authority: app.local:8080\n"
			  ":path: /ready?deep=1\nuser-agent: gatehouse-health\n");
	CHECK_EQ_INT(f.body_len, 0);
	nghttp2_nv ok[] = { NV(":status", "204") };
	CHECK_EQ_INT(answer(&f, x, ok, 1, NULL, 0, NULL, 0), HC_H2_OK);
	finish(&f, x);

	x = start(&f, &hc, true);
	CHECK(strstr(f.head, ":scheme: https\n") != NULL);
	nghttp2_nv bad[] = { NV(":status", "503"), NV("content-length", "0") };
	CHECK_EQ_INT(answer(&f, x, bad, 2, NULL, 0, NULL, 0), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "status 503, expected 200-399");
	finish(&f, x);

	/* an interim 103 is skipped; `expect` with one status */
	hc.method = "GET";
	hc.expect_lo = hc.expect_hi = 200;
	x = start(&f, &hc, false);
	nghttp2_nv early[] = { NV(":status", "103"), NV("link", "</a.css>") };
	CHECK(nghttp2_submit_headers(f.ng, NGHTTP2_FLAG_NONE, f.sid, NULL, early, 2, NULL) == 0);
	CHECK_EQ_INT(shuttle(&f, x), HC_H2_MORE);
	nghttp2_nv redirect[] = { NV(":status", "302"), NV("location", "/x") };
	CHECK_EQ_INT(answer(&f, x, redirect, 2, "moved", 5, NULL, 0), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "status 302, expected 200");
	finish(&f, x);
}

/* A grpc check's answer: head, the 5-byte prefix and message, trailers. */
static const char *grpc_run(struct cfg_health *hc, const nghttp2_nv *head, size_t nhead,
			    const char *data, size_t len, const nghttp2_nv *trl, size_t ntrl)
{
	static char why[HC_H2_WHY];
	struct fake f;
	struct hc_h2 *x = start(&f, hc, false);

	if (!x)
		return "no session";
	int r = answer(&f, x, head, nhead, data, len, trl, ntrl);
	snprintf(why, sizeof(why), "%s", r == HC_H2_OK ? "OK" : r == HC_H2_MORE ? "MORE" :
								       hc_h2_why(x));
	finish(&f, x);
	return why;
}

TEST(h2_grpc_check_verdicts)
{
	struct cfg_health hc = { .kind = HEALTH_GRPC, .service = "app.v1.Api",
				 .timeout_ms = 750, .proto = SRV_PROTO_H2 };
	struct fake f;
	struct hc_h2 *x = start(&f, &hc, false);

	/* the request: POST, gRPC fields, the deadline, one message */
	CHECK_STR(f.head, ":method: POST\n:scheme: http\n:authority: app.local:8080\n"
			  ":path: /grpc.health.v1.Health/Check\nuser-agent: gatehouse-health\n"
			  "content-type: application/grpc\nte: trailers\ngrpc-timeout: 750m\n");
	CHECK_EQ_INT(f.body_len, 17);
	CHECK(memcmp(f.body, "\0\0\0\0\x0c\x0a\x0a" "app.v1.Api", 17) == 0);
	finish(&f, x);

	nghttp2_nv h200[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_nv t0[] = { NV("grpc-status", "0") };
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x01", 7, t0, 1), "OK");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x02", 7, t0, 1),
		  "grpc status NOT_SERVING");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x03", 7, t0, 1),
		  "grpc status SERVICE_UNKNOWN");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\0", 5, t0, 1), "grpc status UNKNOWN");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x09", 7, t0, 1), "grpc status 9");
	/* errors: in the trailers, or a Trailers-Only answer (its message
	 * percent-decoded) */
	nghttp2_nv t14[] = { NV("grpc-status", "14"), NV("grpc-message", "draining") };
	CHECK_STR(grpc_run(&hc, h200, 2, "", 0, t14, 2), "grpc-status 14 (UNAVAILABLE): draining");
	nghttp2_nv only[] = { NV(":status", "200"), NV("content-type", "application/grpc"),
			      NV("grpc-status", "5"), NV("grpc-message", "unknown%20service%0a") };
	CHECK_STR(grpc_run(&hc, only, 4, NULL, 0, NULL, 0),
		  "grpc-status 5 (NOT_FOUND): unknown service?");
	nghttp2_nv t99[] = { NV("grpc-status", "99") };
	CHECK_STR(grpc_run(&hc, h200, 2, "", 0, t99, 1), "grpc-status 99 (unknown code)");
	nghttp2_nv tx[] = { NV("grpc-status", "zero") };
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x01", 7, tx, 1),
		  "invalid grpc-status in the response");
	/* the answer itself is wrong */
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x01", 7, NULL, 0),
		  "no grpc-status in the response");
	CHECK_STR(grpc_run(&hc, h200, 2, NULL, 0, t0, 1),
		  "grpc-status 0 but no HealthCheckResponse");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x05\x08\x01", 7, t0, 1),
		  "truncated gRPC message");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x08\x01\0\0\0\0\0", 12, t0, 1),
		  "more than one gRPC message in the response");
	CHECK_STR(grpc_run(&hc, h200, 2, "\x01\0\0\0\x02\x08\x01", 7, t0, 1),
		  "compressed gRPC message (no compression was offered)");
	CHECK_STR(grpc_run(&hc, h200, 2, "\0\0\0\0\x02\x0a\x01", 7, t0, 1),
		  "invalid HealthCheckResponse");
	static char big[2000];
	big[4] = (char)0xcb;
	big[3] = 0x07;
	CHECK_STR(grpc_run(&hc, h200, 2, big, sizeof(big), t0, 1),
		  "gRPC response longer than 1024 bytes");
	nghttp2_nv h503[] = { NV(":status", "503") };
	CHECK_STR(grpc_run(&hc, h503, 1, NULL, 0, NULL, 0), "status 503, expected 200");

	/* no service: an empty HealthCheckResponse request */
	hc.service = NULL;
	x = start(&f, &hc, false);
	CHECK_EQ_INT(f.body_len, 5);
	finish(&f, x);
}

TEST(h2_check_protocol_failures)
{
	struct cfg_health hc = { .kind = HEALTH_HTTP, .method = "GET", .path = "/h",
				 .expect_lo = 200, .expect_hi = 399, .proto = SRV_PROTO_H2 };
	struct fake f;

	/* an HTTP/1.1 server answering the preface */
	struct hc_h2 *x = hc_h2_new(&hc, "a", false);
	const char *h1 = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	const uint8_t *p;
	size_t len;
	CHECK_EQ_INT(hc_h2_output(x, &p, &len), HC_H2_MORE);
	CHECK(len > 24 && memcmp(p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) == 0);
	hc_h2_sent(x, len);
	int r = hc_h2_input(x, (const uint8_t *)h1, strlen(h1));
	if (r == HC_H2_MORE)   /* settled once its GOAWAY goes */
		r = hc_h2_output(x, &p, &len);
	CHECK_EQ_INT(r, HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "HTTP/2 protocol error: Remote peer returned unexpected data "
				"while we expected SETTINGS frame.  Perhaps, peer does not "
				"support HTTP/2 properly.");
	hc_h2_free(x);

	/* the stream reset, refused by a GOAWAY, or cut by a close */
	x = start(&f, &hc, false);
	nghttp2_submit_rst_stream(f.ng, NGHTTP2_FLAG_NONE, f.sid, NGHTTP2_INTERNAL_ERROR);
	CHECK_EQ_INT(shuttle(&f, x), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "server reset the stream (INTERNAL_ERROR)");
	finish(&f, x);

	x = start(&f, &hc, false);
	nghttp2_submit_goaway(f.ng, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
	CHECK_EQ_INT(shuttle(&f, x), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "server sent GOAWAY (NO_ERROR) before answering");
	finish(&f, x);

	x = start(&f, &hc, false);
	CHECK_EQ_INT(hc_h2_eof(x), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "connection closed without a response");
	finish(&f, x);

	/* a malformed response head fails like it fails traffic */
	x = start(&f, &hc, false);
	nghttp2_nv conn[] = { NV(":status", "200"), NV("connection", "close") };
	CHECK_EQ_INT(answer(&f, x, conn, 2, NULL, 0, NULL, 0), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "HTTP/2 protocol error: Invalid HTTP header field was received: "
				"frame type: 1, stream: 1, name: [connection], value: [close]");
	finish(&f, x);

	/* a gRPC answer cut before its trailers */
	hc = (struct cfg_health){ .kind = HEALTH_GRPC, .proto = SRV_PROTO_H2, .timeout_ms = 1 };
	x = start(&f, &hc, false);
	nghttp2_nv h200[] = { NV(":status", "200") };
	CHECK(nghttp2_submit_headers(f.ng, NGHTTP2_FLAG_NONE, f.sid, NULL, h200, 1, NULL) == 0);
	CHECK_EQ_INT(shuttle(&f, x), HC_H2_MORE);
	CHECK_EQ_INT(hc_h2_eof(x), HC_H2_FAIL);
	CHECK_STR(hc_h2_why(x), "connection closed before the end of the response");
	finish(&f, x);
}

/* ---- outlier ------------------------------------------------------------ */

TEST(eject_time_doubles_up_to_the_cap)
{
	struct cfg_outlier o = { .enabled = true, .eject_ms = 30000, .max_eject_ms = 300000 };

	CHECK_EQ_INT(outlier_eject_ms(&o, 0), 30000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 1), 60000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 2), 120000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 3), 240000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 4), 300000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 1000000), 300000);
	o.max_eject_ms = 0;   /* a cap under eject means no growth */
	CHECK_EQ_INT(outlier_eject_ms(&o, 5), 30000);
}

TEST(outlier_ejects_at_threshold_and_success_resets)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 4, "outlier consecutive_errors 3 eject 10s"));
	if (!f.c)
		return;
	struct server_rt *s1 = &f.be.servers[0];
	uint64_t now = 1000000;

	CHECK(s1->sh == registry_server("app", "s1"));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, true, NULL, now));   /* streak broken */
	CHECK_EQ_INT(atomic_load(&s1->sh->consecutive_errors), 0);
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(outlier_observe_at(s1, false, "connect refused", now + 5));
	CHECK_EQ_INT(until(s1), now + 5 + 10000);
	CHECK_EQ_INT(atomic_load(&s1->sh->ejections), 1);
	CHECK_EQ_INT(atomic_load(&s1->sh->failures), 5);
	CHECK_EQ_INT(outlier_ejected_count(&f.be, now + 6), 1);
	/* Errors of requests in flight while it is out count nowhere. */
	for (int i = 0; i < 10; i++)
		CHECK(!outlier_observe_at(s1, false, "status 500", now + 100));
	CHECK_EQ_INT(atomic_load(&s1->sh->consecutive_errors), 0);
	CHECK_EQ_INT(until(s1), now + 5 + 10000);
	/* Back when the time is up. */
	CHECK_EQ_INT(outlier_ejected_count(&f.be, now + 5 + 10000), 0);
	outlier_free(&f);
}

TEST(outlier_backoff_repeats_and_decays)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1 eject 1s max_eject 5s "
				 "max_ejected 100%"));
	if (!f.c)
		return;
	struct server_rt *s = &f.be.servers[0];
	uint64_t t = 50000;
	uint32_t want[] = { 1000, 2000, 4000, 5000, 5000 };

	for (int i = 0; i < 5; i++) {
		CHECK(outlier_observe_at(s, false, "x", t));
		CHECK_EQ_INT(until(s) - t, want[i]);
		t = until(s) + 10;   /* fails again right after coming back */
	}
	/* In for max_eject (5s) after the last return: starts over at 1s.
	 * The sweep notices the return, then forgets the backoff. */
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 2);
	if (!w) {
		outlier_free(&f);
		return;
	}
	CHECK(w[0].sh == s->sh && w[0].back_since == 0);
	uint64_t ret = until(s);
	outlier_sweep(w, 2, ret + 50);
	CHECK_EQ_INT(until(s), 0);
	CHECK_EQ_INT(w[0].back_since, ret);
	outlier_sweep(w, 2, ret + 4999);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 5);
	outlier_sweep(w, 2, ret + 5000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 0);
	t = ret + 5001;
	CHECK(outlier_observe_at(s, false, "x", t));
	CHECK_EQ_INT(until(s) - t, 1000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 1);
	/* Not forgotten if it was out again meanwhile. */
	t = until(s) + 1;
	CHECK(outlier_observe_at(s, false, "x", t));
	outlier_sweep(w, 2, t + 6000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 2);
	free(w);
	outlier_free(&f);
}

TEST(outlier_respects_max_ejected)
{
	/* 3 servers at 50%: one may be out (rounded down). */
	struct fix f;
	CHECK(outlier_cfg(&f, 3, "outlier consecutive_errors 2 eject 10s max_ejected 50%"));
	if (!f.c)
		return;
	struct backend_rt *be = &f.be;
	uint64_t now = 7000;

	CHECK_EQ_INT(outlier_max_ejected(be->cfg), 1);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 3; k++)
			outlier_observe_at(&be->servers[k], false, "status 500", now);
	CHECK_EQ_INT(outlier_ejected_count(be, now), 1);
	CHECK(until(&be->servers[0]) > now);
	CHECK_EQ_INT(until(&be->servers[1]), 0);
	/* The others keep counting and go as soon as there is room. */
	CHECK(!outlier_observe_at(&be->servers[1], false, "status 500", now + 5000));
	CHECK(outlier_observe_at(&be->servers[1], false, "status 500", now + 10000));
	CHECK_EQ_INT(outlier_ejected_count(be, now + 10000), 1);
	outlier_free(&f);

	/* A single server is never ejected at 50%; at 100% it is. */
	CHECK(outlier_cfg(&f, 1, "outlier consecutive_errors 1"));
	CHECK(f.c && outlier_max_ejected(f.c->backends[0]) == 0);
	if (f.c)
		CHECK(!outlier_observe_at(&f.be.servers[0], false, "x", 1));
	outlier_free(&f);
	CHECK(outlier_cfg(&f, 1, "outlier consecutive_errors 1 max_ejected 100%"));
	if (f.c)
		CHECK(outlier_observe_at(&f.be.servers[0], false, "x", 1));
	outlier_free(&f);
}

TEST(outlier_off_only_counts_failures)
{
	struct fix f;
	CHECK(fix_load(&f, FE "backend app {\n    server a 127.0.0.1:9001\n    server b "
			      "127.0.0.1:9002\n}\n"));
	if (!f.c)
		return;
	struct server_rt *s = &f.be.servers[0];
	for (int i = 0; i < 100; i++)
		CHECK(!outlier_observe_at(s, false, "x", 10));
	CHECK_EQ_INT(atomic_load(&s->sh->failures), 100);
	CHECK_EQ_INT(until(s), 0);
	health_observe_status(s, 503);
	health_observe_status(s, 200);
	CHECK_EQ_INT(atomic_load(&s->sh->failures), 101);
	/* Nothing for the sweep to watch without `outlier`. */
	struct outlier_watch dummy, *w = &dummy;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 0);
	CHECK(w == NULL);
	outlier_free(&f);
}

TEST(outlier_sweep_announces_each_return_once)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1 eject 1s max_ejected 100%"));
	if (!f.c)
		return;
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 2);
	if (!w) {
		outlier_free(&f);
		return;
	}
	struct server_rt *s = &f.be.servers[1];
	CHECK(w[1].srv == s->cfg && w[1].sh == s->sh);

	CHECK(outlier_observe_at(s, false, "x", 1000));
	outlier_sweep(w, 2, 1500);
	CHECK_EQ_INT(w[1].back_since, 0);        /* still out */
	CHECK_EQ_INT(until(s), 2000);
	outlier_sweep(w, 2, 2000);
	CHECK_EQ_INT(w[1].back_since, 2000);     /* logged, and marked in */
	CHECK_EQ_INT(until(s), 0);
	outlier_sweep(w, 2, 2100);
	CHECK_EQ_INT(w[1].back_since, 2000);
	CHECK_EQ_INT(w[0].back_since, 0);
	/* Out again before the sweep came by: the ejecting worker logs the
	 * return, and the sweep has nothing to say about it. */
	CHECK(outlier_observe_at(s, false, "x", 2200));
	CHECK_EQ_INT(until(s), 4200);
	CHECK(outlier_observe_at(s, false, "x", 4250));
	CHECK_EQ_INT(until(s), 4250 + 4000);
	free(w);
	outlier_free(&f);
}

TEST(outlier_watch_needs_the_registry)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1"));
	if (!f.c)
		return;
	registry_free();   /* no entries: the health thread could not start */
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), -1);
	CHECK(w == NULL);
	outlier_free(&f);
}

TEST(fmt_ms)
{
	char b[32];

	CHECK(strcmp(health_fmt_ms(30000, b, sizeof(b)), "30s") == 0);
	CHECK(strcmp(health_fmt_ms(250, b, sizeof(b)), "250ms") == 0);
	CHECK(strcmp(health_fmt_ms(120000, b, sizeof(b)), "2m") == 0);
	CHECK(strcmp(health_fmt_ms(90000, b, sizeof(b)), "1m30s") == 0);
}

/* ---- configuration ------------------------------------------------------- */

#define BE(x) FE "backend app {\n    server a 127.0.0.1:9001\n    " x "\n}\n"

TEST(cfg_defaults)
{
	struct cfg *c = L(BE("balance roundrobin"));
	CHECK(c && c->backends[0]->health.kind == HEALTH_NONE && !c->backends[0]->outlier.enabled);
	cfg_free(c);

	c = L(BE("health tcp"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK_EQ_INT(h->kind, HEALTH_TCP);
		CHECK_EQ_INT(h->interval_ms, 2000);
		CHECK_EQ_INT(h->timeout_ms, 1000);
		CHECK_EQ_INT(h->rise, 2);
		CHECK_EQ_INT(h->fall, 3);
	}
	cfg_free(c);

	c = L(BE("health http /healthz"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK_EQ_INT(h->kind, HEALTH_HTTP);
		CHECK(strcmp(h->method, "GET") == 0 && strcmp(h->path, "/healthz") == 0);
		CHECK(h->host == NULL);
		CHECK_EQ_INT(h->expect_lo, 200);
		CHECK_EQ_INT(h->expect_hi, 399);
	}
	cfg_free(c);

	c = L(BE("outlier"));
	CHECK(c);
	if (c) {
		const struct cfg_outlier *o = &c->backends[0]->outlier;
		CHECK(o->enabled);
		CHECK_EQ_INT(o->consecutive_errors, 5);
		CHECK_EQ_INT(o->eject_ms, 30000);
		CHECK_EQ_INT(o->max_eject_ms, 300000);
		CHECK_EQ_INT(o->max_ejected_pct, 50);
	}
	cfg_free(c);
}

TEST(cfg_every_option)
{
	struct cfg *c = L(BE("health http HEAD /ready expect 204 host app.example.com interval "
			     "500ms timeout 300ms rise 1 fall 5\n    outlier consecutive_errors 7 "
			     "eject 2s max_eject 1m max_ejected 25%"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK(strcmp(h->method, "HEAD") == 0 && strcmp(h->path, "/ready") == 0);
		CHECK(h->host && strcmp(h->host, "app.example.com") == 0);
		CHECK_EQ_INT(h->expect_lo, 204);
		CHECK_EQ_INT(h->expect_hi, 204);
		CHECK_EQ_INT(h->interval_ms, 500);
		CHECK_EQ_INT(h->timeout_ms, 300);
		CHECK_EQ_INT(h->rise, 1);
		CHECK_EQ_INT(h->fall, 5);
		const struct cfg_outlier *o = &c->backends[0]->outlier;
		CHECK_EQ_INT(o->consecutive_errors, 7);
		CHECK_EQ_INT(o->eject_ms, 2000);
		CHECK_EQ_INT(o->max_eject_ms, 60000);
		CHECK_EQ_INT(o->max_ejected_pct, 25);
	}
	cfg_free(c);

	/* A short interval shortens the default timeout; eject 1s caps at 10s. */
	c = L(BE("health tcp interval 200ms\n    outlier eject 1s"));
	CHECK(c && c->backends[0]->health.timeout_ms == 200);
	CHECK(c && c->backends[0]->outlier.max_eject_ms == 10000);
	cfg_free(c);

	/* A second health line replaces the first (with a warning), no leak. */
	c = L(BE("health http /a host x\n    health tcp"));
	CHECK(c && c->backends[0]->health.kind == HEALTH_TCP && !c->backends[0]->health.path);
	cfg_free(c);
	c = L(BE("health grpc service a.B host h\n    health http /x"));
	CHECK(c && c->backends[0]->health.kind == HEALTH_HTTP && !c->backends[0]->health.service &&
	      !c->backends[0]->health.host);
	cfg_free(c);
}

/* A backend of h2 servers (a second one so the proto check sees both). */
#define BE2(x) FE "backend app {\n    server a 127.0.0.1:9001 proto h2\n" \
		  "    server b 127.0.0.1:9002 proto h2\n    " x "\n}\n"

TEST(cfg_proto_follows_the_servers)
{
	/* http speaks what the servers speak, unless `proto` says otherwise */
	struct cfg *c = L(BE("health http /healthz"));
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H1);
	cfg_free(c);
	c = L(BE2("health http /healthz"));
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H2);
	cfg_free(c);
	c = L(BE2("health http /healthz proto h1"));
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H1);
	cfg_free(c);
	c = L(BE("health http /healthz proto h2"));
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H2);
	cfg_free(c);
	c = L(BE("health http /healthz proto h2c"));
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H2);
	cfg_free(c);
	/* the health line may come before the servers */
	c = L(FE "backend app {\n    health http /healthz\n"
		 "    server a 127.0.0.1:9001 proto h2\n}\n");
	CHECK(c && c->backends[0]->health.proto == SRV_PROTO_H2);
	cfg_free(c);
	c = L(FE "backend app {\n    health grpc\n    server a 127.0.0.1:9001 proto h2\n}\n");
	CHECK(c && c->backends[0]->health.kind == HEALTH_GRPC);
	cfg_free(c);
}

TEST(cfg_grpc)
{
	struct cfg *c = L(BE2("health grpc"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK_EQ_INT(h->kind, HEALTH_GRPC);
		CHECK_EQ_INT(h->proto, SRV_PROTO_H2);
		CHECK(h->service == NULL && h->host == NULL && h->path == NULL);
		CHECK_EQ_INT(h->interval_ms, 2000);
		CHECK_EQ_INT(h->timeout_ms, 1000);
		CHECK_EQ_INT(h->rise, 2);
		CHECK_EQ_INT(h->fall, 3);
	}
	cfg_free(c);
	c = L(BE2("health grpc service my.pkg.Api host api.internal interval 150ms rise 1 "
		  "fall 4 timeout 100ms"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK(h->service && strcmp(h->service, "my.pkg.Api") == 0);
		CHECK(h->host && strcmp(h->host, "api.internal") == 0);
		CHECK_EQ_INT(h->interval_ms, 150);
		CHECK_EQ_INT(h->timeout_ms, 100);
		CHECK_EQ_INT(h->rise, 1);
		CHECK_EQ_INT(h->fall, 4);
	}
	cfg_free(c);
	/* TLS servers: `proto h2` gives them ALPN h2 (the check needs it) */
	c = L(FE "backend app {\n    server a 127.0.0.1:9001 proto h2 tls verify none\n"
		 "    health grpc\n}\n");
	CHECK(c && c->backends[0]->servers[0]->tls && c->backends[0]->servers[0]->tls->h2);
	cfg_free(c);
}

TEST(cfg_errors)
{
	CHECK(ERR(BE("health"), "t.conf:7:11: error: missing argument to 'health'; expected: "
				"health tcp | http [METHOD] PATH [expect STATUS|LOW-HIGH] "
				"[host NAME] [proto h1|h2] | grpc [service NAME] [host NAME], "
				"then [interval DURATION] [timeout DURATION] [rise N] [fall N]"));
	CHECK(ERR(BE("health udp"), "t.conf:7:12: error: unknown health check 'udp' in backend "
				    "'app'; expected one of: tcp, http, grpc"));
	CHECK(ERR(BE("health http"), "t.conf:7:16: error: missing path after 'http'; expected "
				     "e.g. health http GET /healthz"));
	CHECK(ERR(BE("health http GET"), "t.conf:7:20: error: missing path after 'GET'; "
					 "expected e.g. health http GET /healthz"));
	CHECK(ERR(BE("health http get /x"),
		  "t.conf:7:17: error: invalid health check method 'get'; expected an uppercase "
		  "method like GET or HEAD, or a path starting with '/'"));
	CHECK(ERR(BE("health http GET healthz"),
		  "t.conf:7:21: error: invalid health check path 'healthz'; expected a path "
		  "starting with '/' without spaces, e.g. /healthz"));
	CHECK(ERR(BE("health http GET \"/a b\""),
		  "t.conf:7:21: error: invalid health check path '/a b'; expected a path "
		  "starting with '/' without spaces, e.g. /healthz"));
	CHECK(ERR(BE("health http /h expect 2xx"),
		  "t.conf:7:27: error: invalid status range '2xx'; expected a status like 200 or "
		  "a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h expect 399-200"),
		  "t.conf:7:27: error: invalid status range '399-200'; expected a status like 200 "
		  "or a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h expect 200-700"),
		  "t.conf:7:27: error: invalid status range '200-700'; expected a status like 200 "
		  "or a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h host \"a b\""),
		  "t.conf:7:25: error: invalid health check host 'a b'; expected a host name, "
		  "optionally with :PORT, e.g. app.example.com"));
	CHECK(ERR(BE("health tcp expect 200"),
		  "t.conf:7:16: error: unknown health tcp option 'expect'; expected one of: "
		  "interval, timeout, rise, fall"));
	CHECK(ERR(BE("health http /h every 2s"),
		  "t.conf:7:20: error: unknown health http option 'every'; expected one of: "
		  "interval, timeout, rise, fall, expect, host, proto"));
	CHECK(ERR(BE("health http /h proto h3"),
		  "t.conf:7:26: error: unknown health check proto 'h3'; expected h1 or h2"));
	CHECK(ERR(BE("health http /h proto"), "t.conf:7:25: error: expected a value after "
					      "'proto'"));
	CHECK(ERR(BE("health tcp proto h2"),
		  "t.conf:7:16: error: unknown health tcp option 'proto'; expected one of: "
		  "interval, timeout, rise, fall"));
	CHECK(ERR(BE("health http /h service x"),
		  "t.conf:7:20: error: unknown health http option 'service'; expected one of: "
		  "interval, timeout, rise, fall, expect, host, proto"));
	/* grpc: its own options, HTTP/2 servers only */
	CHECK(ERR(BE("health grpc"),
		  "t.conf:7:12: error: health grpc needs servers that speak HTTP/2, but server 'a' "
		  "of backend 'app' speaks h1; expected proto h2 on its server lines"));
	CHECK(ERR(BE2("health grpc /healthz"),
		  "t.conf:8:17: error: unknown health grpc option '/healthz'; expected one of: "
		  "interval, timeout, rise, fall, service, host"));
	CHECK(ERR(BE2("health grpc expect 200"),
		  "t.conf:8:17: error: unknown health grpc option 'expect'; expected one of: "
		  "interval, timeout, rise, fall, service, host"));
	CHECK(ERR(BE2("health grpc proto h2"),
		  "t.conf:8:17: error: unknown health grpc option 'proto'; expected one of: "
		  "interval, timeout, rise, fall, service, host"));
	CHECK(ERR(BE2("health grpc service"), "t.conf:8:24: error: expected a value after "
					      "'service'"));
	CHECK(ERR(BE2("health grpc service \"a b\""),
		  "t.conf:8:25: error: invalid gRPC service name 'a b'; expected a name without "
		  "spaces or control characters, up to 1024 bytes, e.g. my.package.Service (leave "
		  "out `service` to check the whole server)"));
	CHECK(ERR(BE2("health grpc service \"\""),
		  "t.conf:8:25: error: invalid gRPC service name ''; expected a name without "
		  "spaces or control characters, up to 1024 bytes, e.g. my.package.Service (leave "
		  "out `service` to check the whole server)"));
	CHECK(ERR(BE2("health grpc interval 0s"),
		  "t.conf:8:26: error: health interval must be more than 0; expected e.g. 2s or "
		  "500ms"));
	CHECK(ERR(BE2("health grpc host a/b"),
		  "t.conf:8:22: error: invalid health check host 'a/b'; expected a host name, "
		  "optionally with :PORT, e.g. app.example.com"));
	CHECK(ERR(BE("health tcp interval"), "t.conf:7:24: error: expected a value after "
					     "'interval'"));
	CHECK(ERR(BE("health tcp interval 2"),
		  "t.conf:7:25: error: missing unit in '2'; expected a duration with a unit, "
		  "e.g. 250ms or 30s"));
	CHECK(ERR(BE("health tcp interval 0s"),
		  "t.conf:7:25: error: health interval must be more than 0; expected e.g. 2s or "
		  "500ms"));
	CHECK(ERR(BE("health tcp timeout 0ms"),
		  "t.conf:7:24: error: health timeout must be more than 0; expected e.g. 2s or "
		  "500ms"));
	CHECK(ERR(BE("health tcp rise 0"),
		  "t.conf:7:21: error: 0 is out of range; expected an integer from 1 to 100"));
	CHECK(ERR(BE("health tcp fall x"),
		  "t.conf:7:21: error: invalid number 'x'; expected an integer from 1 to 100"));

	CHECK(ERR(BE("outlier errors 5"),
		  "t.conf:7:13: error: unknown outlier option 'errors'; expected one of: "
		  "consecutive_errors, eject, max_eject, max_ejected"));
	CHECK(ERR(BE("outlier consecutive_errors 0"),
		  "t.conf:7:32: error: 0 is out of range; expected an integer from 1 to 1000000"));
	CHECK(ERR(BE("outlier eject"), "t.conf:7:18: error: expected a value after 'eject'"));
	CHECK(ERR(BE("outlier eject 30"),
		  "t.conf:7:19: error: missing unit in '30'; expected a duration with a unit, "
		  "e.g. 250ms or 30s"));
	CHECK(ERR(BE("outlier max_ejected 50"),
		  "t.conf:7:25: error: invalid percentage '50'; expected e.g. 50%"));
	CHECK(ERR(BE("outlier max_ejected 150%"),
		  "t.conf:7:25: error: 150 is out of range; expected an integer from 0 to 100"));
	CHECK(ERR(BE("outlier eject 30s max_eject 10s"),
		  "t.conf:7:33: error: outlier max_eject (10s) is shorter than eject (30s); "
		  "expected at least as long"));
}

int main(void)
{
	log_level = LOG_ERR;   /* ejections log; keep the output to the results */
	RUN(sm_starts_up_and_falls_after_fall_failures);
	RUN(sm_failures_must_be_consecutive);
	RUN(sm_rises_after_rise_successes);
	RUN(sm_long_runs_do_not_overflow);
	RUN(status_line_forms);
	RUN(status_line_every_split);
	RUN(eject_time_doubles_up_to_the_cap);
	RUN(outlier_ejects_at_threshold_and_success_resets);
	RUN(outlier_backoff_repeats_and_decays);
	RUN(outlier_respects_max_ejected);
	RUN(outlier_off_only_counts_failures);
	RUN(outlier_sweep_announces_each_return_once);
	RUN(outlier_watch_needs_the_registry);
	RUN(fmt_ms);
	RUN(cfg_defaults);
	RUN(cfg_every_option);
	RUN(cfg_errors);
	RUN(cfg_proto_follows_the_servers);
	RUN(cfg_grpc);
	RUN(grpc_request_bytes);
	RUN(grpc_response_status);
	RUN(h2_http_check_request_and_statuses);
	RUN(h2_grpc_check_verdicts);
	RUN(h2_check_protocol_failures);
	return UNIT_SUMMARY("test_health");
}
