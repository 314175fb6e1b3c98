/*
 * health_h2.c - one HTTP/2 or gRPC health check as an nghttp2 client
 * session in memory (health_h2.h says what is sent and what passes).
 *
 * health.c owns the socket: it hands over what it reads (hc_h2_input), sends
 * what hc_h2_output gives, and closes the connection as soon as a verdict
 * is in, as the HTTP/1 check does after its status line.  A check is one
 * stream on a fresh connection, so there is no flow control to speak of:
 * nghttp2's automatic WINDOW_UPDATEs cover the little we read, and a gRPC
 * answer is kept only up to HC_GRPC_MAX bytes (a HealthCheckResponse is 2).
 *
 * Reasons are chosen so the DOWN line tells an operator what to fix:
 * the server's own words first (grpc-status and grpc-message, the serving
 * status, the HTTP status), then the protocol's (nghttp2's description of
 * a protocol error, a reset stream's code, a GOAWAY), then the connection's.
 */
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hex.h"
#include "health/health_h2.h"
#include "http/h2_msg.h"
#include "http/msg.h"

#define HC_H2_OUT_MAX (16 * 1024)  /* frames gathered per hc_h2_output() */
#define HC_H2_STORE (16 * 1024)    /* a response head or trailers past this fails */
#define HC_GRPC_MAX 1024           /* gRPC response bytes kept (prefix included) */
#define HC_GRPC_PATH "/grpc.health.v1.Health/Check"
#define HC_GRPC_REQ_MAX (5 + 1 + 2 + CFG_GRPC_SERVICE_MAX)

struct hc_h2 {
	nghttp2_session *ng;
	const struct cfg_health *hc;
	int32_t id;                    /* the check's stream */
	int result;                    /* enum hc_h2_result */
	char why[HC_H2_WHY];
	char lib_err[160];             /* nghttp2's words for the first protocol error */
	bool goaway;
	uint32_t goaway_code;
	uint8_t meth;                  /* enum http_meth of the request (HEAD framing) */
	/* output: frames copied out of nghttp2, so they outlive its next call */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	/* grpc request body */
	uint8_t body[HC_GRPC_REQ_MAX];
	size_t body_len, body_off;
	/* the header block being decoded: the head, then trailers */
	struct http_msg msg;
	struct h2m_state st;
	bool head_done;                /* the final (non-1xx) head is in */
	bool in_trailers;              /* the block being decoded is trailers */
	const char *bad;               /* h2m_field refused this block: why */
	/* grpc */
	int grpc_status;               /* -1: not seen yet, -2: not a number */
	char grpc_msg[80];
	uint8_t data[HC_GRPC_MAX];
	size_t data_len;
	bool data_over;
};

/* ---- verdicts ------------------------------------------------------------ */

static void hc_h2_fail(struct hc_h2 *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first verdict stands: later events (the stream closing after an
 * answer) do not rewrite it. */
static void hc_h2_fail(struct hc_h2 *x, const char *fmt, ...)
{
	va_list ap;

	if (x->result != HC_H2_MORE)
		return;
	x->result = HC_H2_FAIL;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
}

static void hc_h2_ok(struct hc_h2 *x)
{
	if (x->result == HC_H2_MORE)
		x->result = HC_H2_OK;
}

bool hc_status_ok(const struct cfg_health *hc, int status, char *why, size_t len)
{
	if (status >= hc->expect_lo && status <= hc->expect_hi)
		return true;
	if (hc->expect_lo == hc->expect_hi)
		snprintf(why, len, "status %d, expected %u", status, hc->expect_lo);
	else
		snprintf(why, len, "status %d, expected %u-%u", status, hc->expect_lo,
			 hc->expect_hi);
	return false;
}

/* ---- gRPC: the messages, by hand ------------------------------------------- */

static size_t pb_varint(uint64_t v, uint8_t *out)
{
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* Reads a varint at p[*i..len); -1 if truncated or longer than 10 bytes. */
static int pb_read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (*i >= len)
			return -1;
		uint8_t b = p[(*i)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

int hc_grpc_request(const char *service, uint8_t *out, size_t cap)
{
	size_t sl = service ? strlen(service) : 0;
	uint8_t vi[10];
	size_t vn = pb_varint(sl, vi);
	size_t m = sl ? 1 + vn + sl : 0;   /* proto3: an empty string is left out */

	if (cap < 5 || m > cap - 5)
		return -1;
	out[0] = 0;                        /* not compressed */
	out[1] = (uint8_t)(m >> 24);
	out[2] = (uint8_t)(m >> 16);
	out[3] = (uint8_t)(m >> 8);
	out[4] = (uint8_t)m;
	if (sl) {
		out[5] = 0x0a;                 /* field 1, length-delimited */
		memcpy(out + 6, vi, vn);
		memcpy(out + 6 + vn, service, sl);
	}
	return (int)(5 + m);
}

int hc_grpc_response_status(const uint8_t *p, size_t len, uint64_t *status)
{
	size_t i = 0;

	*status = 0;
	while (i < len) {
		uint64_t key, v;
		if (pb_read_varint(p, len, &i, &key) < 0 || key >> 3 == 0)
			return -1;
		unsigned wt = (unsigned)(key & 7);
		if (key >> 3 == 1 && wt != 0)
			return -1;   /* `status` is an enum: a varint */
		switch (wt) {
		case 0:   /* varint */
			if (pb_read_varint(p, len, &i, &v) < 0)
				return -1;
			if (key >> 3 == 1)
				*status = v;   /* the last one wins, as in protobuf */
			break;
		case 1:   /* 64-bit */
			if (len - i < 8)
				return -1;
			i += 8;
			break;
		case 2:   /* length-delimited */
			if (pb_read_varint(p, len, &i, &v) < 0 || v > len - i)
				return -1;
			i += (size_t)v;
			break;
		case 5:   /* 32-bit */
			if (len - i < 4)
				return -1;
			i += 4;
			break;
		default:  /* groups (3, 4) are long deprecated; 6, 7 do not exist */
			return -1;
		}
	}
	return 0;
}

const char *hc_grpc_code_name(unsigned code)
{
	/* google.rpc.Code, by value */
	static const char *const names[] = {
		"OK",                  "CANCELLED",           "UNKNOWN",
		"INVALID_ARGUMENT",    "DEADLINE_EXCEEDED",   "NOT_FOUND",
		"ALREADY_EXISTS",      "PERMISSION_DENIED",   "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED",             "OUT_OF_RANGE",
		"UNIMPLEMENTED",       "INTERNAL",            "UNAVAILABLE",
		"DATA_LOSS",           "UNAUTHENTICATED",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : NULL;
}

static const char *hc_serving_name(uint64_t st)
{
	static const char *const names[] = { "UNKNOWN", "SERVING", "NOT_SERVING",
					     "SERVICE_UNKNOWN" };

	return st < 4 ? names[st] : NULL;
}

/* grpc-message is percent-encoded (gRPC over HTTP/2, "Responses"); kept
 * short and printable, since it ends up in a log line. */
static void hc_grpc_message(struct hc_h2 *x, struct slice v)
{
	size_t o = 0;

	for (uint32_t i = 0; i < v.len && o + 1 < sizeof(x->grpc_msg); i++) {
		unsigned char c = (unsigned char)v.p[i];
		int hi = v.len - i > 2 ? hex_digit(v.p[i + 1]) : -1;
		int lo = v.len - i > 2 ? hex_digit(v.p[i + 2]) : -1;
		if (c == '%' && hi >= 0 && lo >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		x->grpc_msg[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	x->grpc_msg[o] = '\0';
}

/* grpc-status and grpc-message of the block just decoded, if it has them. */
static void hc_grpc_take(struct hc_h2 *x)
{
	int pos = 0;
	struct http_hdr *h = msg_hdr_find(&x->msg, SLICE_LIT("grpc-status"), &pos);

	if (h) {
		unsigned v = 0;
		bool ok = h->value.len > 0 && h->value.len <= 4;
		for (uint32_t i = 0; ok && i < h->value.len; i++) {
			ok = h->value.p[i] >= '0' && h->value.p[i] <= '9';
			v = v * 10 + (unsigned)(h->value.p[i] - '0');
		}
		x->grpc_status = ok ? (int)v : -2;
	}
	pos = 0;
	h = msg_hdr_find(&x->msg, SLICE_LIT("grpc-message"), &pos);
	if (h)
		hc_grpc_message(x, h->value);
}

/* The response ended: its verdict, grpc-status first (an error carries no
 * message), then the one HealthCheckResponse. */
static void hc_grpc_end(struct hc_h2 *x)
{
	uint64_t st;

	if (x->result != HC_H2_MORE)
		return;
	if (x->grpc_status == -1) {
		hc_h2_fail(x, "no grpc-status in the response");
		return;
	}
	if (x->grpc_status == -2) {
		hc_h2_fail(x, "invalid grpc-status in the response");
		return;
	}
	if (x->grpc_status != 0) {
		const char *name = hc_grpc_code_name((unsigned)x->grpc_status);
		hc_h2_fail(x, "grpc-status %d (%s)%s%s", x->grpc_status,
			   name ? name : "unknown code", x->grpc_msg[0] ? ": " : "", x->grpc_msg);
		return;
	}
	if (x->data_over) {
		hc_h2_fail(x, "gRPC response longer than %d bytes", HC_GRPC_MAX);
		return;
	}
	if (x->data_len == 0) {
		hc_h2_fail(x, "grpc-status 0 but no HealthCheckResponse");
		return;
	}
	uint32_t n = x->data_len < 5 ? 0 :
		     (uint32_t)x->data[1] << 24 | (uint32_t)x->data[2] << 16 |
			     (uint32_t)x->data[3] << 8 | x->data[4];
	if (x->data_len < 5 || n > x->data_len - 5) {
		hc_h2_fail(x, "truncated gRPC message");
		return;
	}
	if (n < x->data_len - 5) {
		hc_h2_fail(x, "more than one gRPC message in the response");
		return;
	}
	if (x->data[0] != 0) {
		hc_h2_fail(x, x->data[0] == 1 ?
				      "compressed gRPC message (no compression was offered)" :
				      "invalid gRPC message flags");
		return;
	}
	if (hc_grpc_response_status(x->data + 5, n, &st) < 0) {
		hc_h2_fail(x, "invalid HealthCheckResponse");
		return;
	}
	if (st == 1) {
		hc_h2_ok(x);
		return;
	}
	const char *name = hc_serving_name(st);
	if (name)
		hc_h2_fail(x, "grpc status %s", name);
	else
		hc_h2_fail(x, "grpc status %llu", (unsigned long long)st);
}

/* ---- nghttp2 callbacks ------------------------------------------------------ */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;

	if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != x->id)
		return 0;
	x->in_trailers = x->head_done;
	x->bad = NULL;
	msg_reset(&x->msg);
	h2m_begin(&x->st, &x->msg, true, x->in_trailers);
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;
	(void)flags;

	if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != x->id || x->bad)
		return 0;
	int r = h2m_field(&x->st, &x->msg, name, nlen, value, vlen);
	if (r == H2M_TOO_LARGE)
		x->bad = "too large";
	else if (r != H2M_OK)
		x->bad = x->st.reason ? x->st.reason : "malformed";
	return 0;
}

/* A header block of the check's stream is complete. */
static void hc_h2_block_done(struct hc_h2 *x, bool eos)
{
	char why[HC_H2_WHY];

	if (x->result != HC_H2_MORE)
		return;
	if (x->bad) {
		hc_h2_fail(x, "invalid response %s: %s", x->in_trailers ? "trailers" : "head",
			   x->bad);
		return;
	}
	if (x->in_trailers) {   /* only a gRPC check reads that far */
		hc_grpc_take(x);
		if (eos)
			hc_grpc_end(x);
		return;
	}
	if (h2m_res_end(&x->st, &x->msg, eos, x->meth) != H2M_OK) {
		hc_h2_fail(x, "invalid response head: %s",
			   x->st.reason ? x->st.reason : "malformed");
		return;
	}
	int status = x->msg.status;
	if (status < 200)
		return;   /* interim: the final head follows */
	x->head_done = true;
	if (x->hc->kind == HEALTH_HTTP) {
		if (hc_status_ok(x->hc, status, why, sizeof(why)))
			hc_h2_ok(x);
		else
			hc_h2_fail(x, "%s", why);
		return;
	}
	if (status != 200) {
		hc_h2_fail(x, "status %d, expected 200", status);
		return;
	}
	hc_grpc_take(x);   /* a Trailers-Only answer has them here */
	if (eos)
		hc_grpc_end(x);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct hc_h2 *x = ud;
	bool eos = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
	(void)ng;

	switch (f->hd.type) {
	case NGHTTP2_HEADERS:
		if (f->hd.stream_id == x->id)
			hc_h2_block_done(x, eos);
		break;
	case NGHTTP2_DATA:
		if (f->hd.stream_id == x->id && eos && x->hc->kind == HEALTH_GRPC)
			hc_grpc_end(x);
		break;
	case NGHTTP2_GOAWAY:
		x->goaway = true;
		x->goaway_code = f->goaway.error_code;
		break;
	default:
		break;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;
	(void)flags;

	if (id != x->id || x->hc->kind != HEALTH_GRPC)
		return 0;
	if (len > sizeof(x->data) - x->data_len) {
		x->data_over = true;
		return 0;
	}
	memcpy(x->data + x->data_len, data, len);
	x->data_len += len;
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;

	if (id != x->id || x->result != HC_H2_MORE)
		return 0;
	if (x->lib_err[0])
		hc_h2_fail(x, "HTTP/2 protocol error: %s", x->lib_err);
	else if (code == NGHTTP2_REFUSED_STREAM && x->goaway)
		hc_h2_fail(x, "server sent GOAWAY (%s) before answering",
			   nghttp2_http2_strerror(x->goaway_code));
	else if (code == NGHTTP2_NO_ERROR)
		hc_h2_fail(x, "server closed the stream before the end of the response");
	else
		hc_h2_fail(x, "server reset the stream (%s)", nghttp2_http2_strerror(code));
	return 0;
}

/* nghttp2 found the server's frames invalid (it answers with RST_STREAM or
 * GOAWAY itself): keep its words for the reason. */
static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *f, int err, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;
	(void)f;

	if (!x->lib_err[0])
		snprintf(x->lib_err, sizeof(x->lib_err), "%s", nghttp2_strerror(err));
	return 0;
}

static int on_error(nghttp2_session *ng, int code, const char *msg, size_t len, void *ud)
{
	struct hc_h2 *x = ud;
	(void)ng;
	(void)code;

	/* "Remote peer returned unexpected data while we expected SETTINGS
	 * frame.  Perhaps, peer does not support HTTP/2 properly." is worth
	 * more than a generic code */
	if (!x->lib_err[0])
		snprintf(x->lib_err, sizeof(x->lib_err), "%.*s", (int)len, msg);
	return 0;
}

static ssize_t hc_grpc_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
	struct hc_h2 *x = ud;
	size_t n = x->body_len - x->body_off;
	(void)ng;
	(void)id;
	(void)src;

	if (n > len)
		n = len;
	memcpy(buf, x->body + x->body_off, n);
	x->body_off += n;
	if (x->body_off == x->body_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* ---- the session ------------------------------------------------------------ */

/* The request, as a message for h2m_encode_request(): what nghttp2 gets is
 * what the proxy's own HTTP/2 server codec would send. */
static int hc_h2_submit(struct hc_h2 *x, const char *authority, bool tls)
{
	const struct cfg_health *hc = x->hc;
	struct http_msg *m = &x->msg;
	bool grpc = hc->kind == HEALTH_GRPC;
	const char *method = grpc ? "POST" : hc->method;
	/* the configured path goes out as written, query included */
	const char *path = grpc ? HC_GRPC_PATH : hc->path;
	struct h2m_nv nv[8];
	char tmo[24];

	m->method = (struct slice){ method, (uint32_t)strlen(method) };
	m->meth = (uint8_t)msg_meth(m->method);
	x->meth = m->meth;
	m->target = m->path = (struct slice){ path, (uint32_t)strlen(path) };
	m->authority = (struct slice){ authority, (uint32_t)strlen(authority) };
	m->body = grpc ? BODY_CHUNKED : BODY_NONE;   /* no content-length either way */
	m->version_major = 2;
	if (msg_hdr_add(m, SLICE_LIT("user-agent"), SLICE_LIT("gatehouse-health")) < 0)
		return -1;
	if (grpc) {
		/* grpc-timeout: at most 8 digits, in ms while they suffice */
		if (hc->timeout_ms <= 99999999)
			snprintf(tmo, sizeof(tmo), "%um", hc->timeout_ms);
		else
			snprintf(tmo, sizeof(tmo), "%uS", hc->timeout_ms / 1000);
		m->flags |= MSG_F_TE_TRAILERS;
		if (msg_hdr_add(m, SLICE_LIT("content-type"), SLICE_LIT("application/grpc")) < 0 ||
		    msg_hdr_add(m, SLICE_LIT("te"), SLICE_LIT("trailers")) < 0 ||
		    msg_hdr_add(m, SLICE_LIT("grpc-timeout"),
				(struct slice){ tmo, (uint32_t)strlen(tmo) }) < 0)
			return -1;
		int n = hc_grpc_request(hc->service, x->body, sizeof(x->body));
		if (n < 0)
			return -1;
		x->body_len = (size_t)n;
	}
	int n = h2m_encode_request(m, tls ? SLICE_LIT("https") : SLICE_LIT("http"), nv,
				   (int)(sizeof(nv) / sizeof(nv[0])), NULL, 0);
	if (n < 0)
		return -1;
	nghttp2_data_provider dp = { .read_callback = hc_grpc_body };
	/* nghttp2 copies the fields here: the message is free again after */
	x->id = nghttp2_submit_request(x->ng, NULL, (const nghttp2_nv *)nv, (size_t)n,
				       grpc ? &dp : NULL, x);
	msg_reset(m);
	return x->id < 0 ? -1 : 0;
}

struct hc_h2 *hc_h2_new(const struct cfg_health *hc, const char *authority, bool tls)
{
	struct hc_h2 *x = calloc(1, sizeof(*x));
	nghttp2_session_callbacks *cbs = NULL;

	if (!x)
		return NULL;
	x->hc = hc;
	x->grpc_status = -1;
	msg_init(&x->msg, HC_H2_STORE);
	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		hc_h2_free(x);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
	nghttp2_session_callbacks_set_error_callback2(cbs, on_error);
	int rv = nghttp2_session_client_new(&x->ng, cbs, x);
	nghttp2_session_callbacks_del(cbs);
	if (rv != 0) {
		x->ng = NULL;
		hc_h2_free(x);
		return NULL;
	}
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
	if (nghttp2_submit_settings(x->ng, NGHTTP2_FLAG_NONE, iv, 1) != 0 ||
	    hc_h2_submit(x, authority, tls) < 0) {
		hc_h2_free(x);
		return NULL;
	}
	return x;
}

void hc_h2_free(struct hc_h2 *x)
{
	if (!x)
		return;
	if (x->ng)
		nghttp2_session_del(x->ng);
	msg_free(&x->msg);
	free(x->out);
	free(x);
}

/* nghttp2 is done with the connection (it only reads no more once its
 * GOAWAY went out, or both sides said GOAWAY and no stream is left):
 * nothing more can come of this check. */
static void hc_h2_ended(struct hc_h2 *x)
{
	if (x->result != HC_H2_MORE || nghttp2_session_want_read(x->ng))
		return;
	if (x->lib_err[0])
		hc_h2_fail(x, "HTTP/2 protocol error: %s", x->lib_err);
	else if (x->goaway)
		hc_h2_fail(x, "server sent GOAWAY (%s) before answering",
			   nghttp2_http2_strerror(x->goaway_code));
	else
		hc_h2_fail(x, "HTTP/2 session ended before the response");
}

int hc_h2_output(struct hc_h2 *x, const uint8_t **p, size_t *len)
{
	if (x->out_off == x->out_len) {
		x->out_off = x->out_len = 0;
		while (x->out_len < HC_H2_OUT_MAX && nghttp2_session_want_write(x->ng)) {
			const uint8_t *d;
			ssize_t n = nghttp2_session_mem_send(x->ng, &d);
			if (n < 0) {
				hc_h2_fail(x, "HTTP/2 error: %s", nghttp2_strerror((int)n));
				return HC_H2_FAIL;
			}
			if (n == 0)
				break;
			if (x->out_len + (size_t)n > x->out_cap) {
				size_t cap = x->out_cap ? x->out_cap : 1024;
				while (cap < x->out_len + (size_t)n)
					cap *= 2;
				uint8_t *o = realloc(x->out, cap);
				if (!o) {
					hc_h2_fail(x, "out of memory");
					return HC_H2_FAIL;
				}
				x->out = o;
				x->out_cap = cap;
			}
			memcpy(x->out + x->out_len, d, (size_t)n);
			x->out_len += (size_t)n;
		}
	}
	*p = x->out + x->out_off;
	*len = x->out_len - x->out_off;
	/* sending is what closes streams nghttp2 reset and ends a session it
	 * gave up on (a protocol error seen in the input) */
	hc_h2_ended(x);
	return x->result == HC_H2_FAIL ? HC_H2_FAIL : HC_H2_MORE;
}

void hc_h2_sent(struct hc_h2 *x, size_t n)
{
	x->out_off += n <= x->out_len - x->out_off ? n : x->out_len - x->out_off;
}

int hc_h2_input(struct hc_h2 *x, const uint8_t *p, size_t len)
{
	ssize_t n = nghttp2_session_mem_recv(x->ng, p, len);

	if (n < 0)
		hc_h2_fail(x, "HTTP/2 protocol error: %s",
			   x->lib_err[0] ? x->lib_err : nghttp2_strerror((int)n));
	hc_h2_ended(x);
	return x->result;
}

int hc_h2_eof(struct hc_h2 *x)
{
	if (x->lib_err[0])
		hc_h2_fail(x, "HTTP/2 protocol error: %s", x->lib_err);
	else if (x->goaway)
		hc_h2_fail(x, "server sent GOAWAY (%s) and closed the connection",
			   nghttp2_http2_strerror(x->goaway_code));
	else
		hc_h2_fail(x, x->head_done ? "connection closed before the end of the response" :
					     "connection closed without a response");
	return x->result;
}

const char *hc_h2_why(const struct hc_h2 *x)
{
	return x->why[0] ? x->why : "failed";
}
