/*
 * health_h2.h - the HTTP/2 side of active checks: `health http ... proto h2`
 * (or on `proto h2` servers) and `health grpc` (grpc.health.v1.Health/Check).
 *
 * This is the protocol only, without sockets or timers: health.c connects
 * (TLS with ALPN h2 for a `tls` server), then moves bytes between the
 * socket and one struct hc_h2, an nghttp2 client session that carries the
 * check's one request, and turns its verdict into UP/DOWN as for any
 * check.  Kept apart so the unit tests can run a check against an nghttp2
 * server session in memory (tests/unit/test_health.c).
 *
 *   http: one request (method, path, :authority, user-agent), END_STREAM
 *         on its HEADERS; the first final status decides, against `expect`,
 *         as the HTTP/1 check's status line does.  Interim 1xx are skipped.
 *   grpc: POST /grpc.health.v1.Health/Check, content-type
 *         application/grpc, te: trailers, grpc-timeout (the check's
 *         timeout), and one length-prefixed HealthCheckRequest {service};
 *         OK only for :status 200, grpc-status 0 (in the trailers, or in
 *         the head of a Trailers-Only answer) and one HealthCheckResponse
 *         whose status is SERVING.
 * Response heads and trailers go through h2_msg.c's checks (h2m_field):
 * a malformed one fails the check as it would fail traffic.
 */
#ifndef GH_HEALTH_HEALTH_H2_H
#define GH_HEALTH_HEALTH_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"

struct hc_h2;

/* What a call says about the check. */
enum hc_h2_result {
	HC_H2_FAIL = -1,   /* failed: hc_h2_why() says why */
	HC_H2_MORE = 0,    /* not decided yet: more bytes, either way */
	HC_H2_OK = 1,
};

/* Longest reason hc_h2_why() gives, NUL included. */
#define HC_H2_WHY 192

/*
 * A session for one check of kind HEALTH_HTTP or HEALTH_GRPC, with its
 * request already submitted (nghttp2 keeps copies): `authority` is the
 * :authority, `tls` gives :scheme https.  hc is kept and must outlive x.
 * NULL when memory is short.
 */
struct hc_h2 *hc_h2_new(const struct cfg_health *hc, const char *authority, bool tls);

/* Frees x and its session.  NULL is a no-op. */
void hc_h2_free(struct hc_h2 *x);

/*
 * The bytes to send next (the preface, the request, ACKs, window updates):
 * *p and *len, *len 0 when nothing waits.  They stay valid until
 * hc_h2_sent() has taken them all.  Returns HC_H2_FAIL when the session
 * cannot produce them, or when producing them settled the check (nghttp2
 * resets a stream, or ends a connection, that broke the protocol when it
 * sends the frame that says so), else HC_H2_MORE.
 */
int hc_h2_output(struct hc_h2 *x, const uint8_t **p, size_t *len);

/* n bytes of the last output went out. */
void hc_h2_sent(struct hc_h2 *x, size_t n);

/* Bytes from the server.  Returns the verdict so far. */
int hc_h2_input(struct hc_h2 *x, const uint8_t *p, size_t len);

/* The server closed the connection before a verdict: always HC_H2_FAIL,
 * with the reason (what was seen before the close) in hc_h2_why(). */
int hc_h2_eof(struct hc_h2 *x);

/* Why the check failed ("status 503, expected 200-399", "grpc status
 * NOT_SERVING", "grpc-status 5 (NOT_FOUND): unknown service", ...). */
const char *hc_h2_why(const struct hc_h2 *x);

/* Whether an HTTP status passes `expect` (either protocol's check); if
 * not, why[] says so: "status 503, expected 200-399". */
bool hc_status_ok(const struct cfg_health *hc, int status, char *why, size_t len);

/* ---- gRPC bits, exposed for the unit tests ---------------------------- */

/*
 * The request body: one gRPC message (flag 0, 4-byte big-endian length)
 * holding HealthCheckRequest { string service = 1; } hand-encoded: tag
 * 0x0a, a varint length, the bytes; nothing at all for an empty or NULL
 * service (proto3 leaves default values out).  Returns the length
 * written, or -1 if cap is too small.
 */
int hc_grpc_request(const char *service, uint8_t *out, size_t cap);

/*
 * The `status` (field 1, varint) of a HealthCheckResponse message p[0..len)
 * (without the 5-byte gRPC prefix): 0 (UNKNOWN) when absent, as proto3
 * decodes it; other fields are skipped.  Returns 0, or -1 if the bytes are
 * not a valid message.
 */
int hc_grpc_response_status(const uint8_t *p, size_t len, uint64_t *status);

/* "NOT_FOUND" for grpc-status 5, NULL for a code that has no name. */
const char *hc_grpc_code_name(unsigned code);

#endif
