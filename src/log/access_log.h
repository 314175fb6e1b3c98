/*
 * access_log.h - one line per request, written without ever blocking a
 * worker.  The proxy's "log" step (the last step of a stream, after the
 * response was sent or the stream failed) fills a struct access_rec and
 * calls access_log_write(); nothing else on the request's path touches
 * this module.
 *
 *   config (`access_log PATH [format combined|json]`, cfg_log.c)
 *     -> access_logs_open(): one target per distinct path, one writer thread
 *   worker: access_log_write() formats into a per-thread buffer (no lock)
 *     -> access_log_flush_thread() once per event-loop turn hands the
 *        filled buffer to a bounded queue (one mutex, one memcpy)
 *     -> the writer thread write()s it; only that thread ever waits
 *   When the queue is full (a stalled pipe, a slow disk) the lines are
 *   dropped and counted, and the writer says so later with log_warn():
 *   "access log 'PATH' too slow: N lines dropped".  A failing write (full
 *   disk) is logged at most every 10 s with the number of lines lost.
 *
 * ---- combined format ----------------------------------------------------
 * Apache/nginx "combined" first, so tools that read combined parse the
 * prefix, then the extra fields in this fixed order, space separated:
 *
 *   CLIENT - - [10/Oct/2000:13:55:36 +0200] "METHOD TARGET HTTP/1.1" STATUS
 *   BYTES_OUT "REFERER" "USER_AGENT" "HOST" BYTES_IN FRONTEND BACKEND SERVER
 *   T_QUEUE T_CONNECT T_TTFB T_TOTAL RETRIES TERM "REQUEST_ID" TLS_VERSION "SNI"
 *
 *   CLIENT      the client's IP (no port), "-" if unknown (unix socket)
 *   time        local time of the request's first byte (start_us), %z offset
 *   request     "-" when no request line was read (e.g. a client timeout)
 *   STATUS      status sent to the client, 0 if none was sent
 *   BYTES_OUT   bytes sent to the client, head included (nginx $bytes_sent)
 *   BYTES_IN    bytes received from the client, head and body
 *   T_*         milliseconds with microsecond precision ("0.123"), "-" when
 *               that phase did not happen: queue = waiting for a server slot,
 *               connect = TCP (+TLS) connect to the server, ttfb = from the
 *               request's first byte to the server's first response byte,
 *               total = from the first request byte to the end of the stream
 *   TERM        termination cause, "-" when the stream ended normally
 *   TLS_VERSION "TLSv1.3" on a TLS bind, else "-"
 *   absent values are "-" (quoted or not); quoted fields escape '"', '\',
 *   and bytes < 0x20 or >= 0x7f as \xNN (uppercase hex, as nginx does);
 *   unquoted text fields (names, TERM, TLS_VERSION) escape spaces too.
 *
 * ---- json format --------------------------------------------------------
 * One object per line, keys always present and in this order:
 *   time (ISO 8601 UTC with microseconds), client, client_port, method,
 *   target, protocol, status, bytes_in, bytes_out, referer, user_agent,
 *   host, frontend, backend, server, t_queue_ms, t_connect_ms, t_ttfb_ms,
 *   t_total_ms, retries, term, request_id, tls_version, sni
 * Numbers are JSON numbers; absent values (and a normal end's term) are
 * null.  Strings are valid JSON and valid UTF-8 whatever the input: '"',
 * '\' and control bytes are escaped (\", \\, \n, \r, \t, else \u00XX, and
 * DEL as \u007f); well-formed UTF-8 is copied as is; every byte that does
 * not belong to a well-formed sequence (stray continuation bytes, overlong
 * forms, UTF-8-encoded surrogates, code points past U+10FFFF, truncated
 * sequences) becomes one U+FFFD, written as \ufffd.
 *
 * ---- long fields --------------------------------------------------------
 * A field is cut at a fixed output budget (target 8 KiB, referer 2 KiB,
 * user agent 1 KiB, host/request id/SNI 256 bytes, names 128 bytes), never
 * inside an escape, and then ends with "..."; a line is never split.
 */
#ifndef GH_LOG_ACCESS_LOG_H
#define GH_LOG_ACCESS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/msg.h"

struct cfg;
struct cfg_frontend;

/* Termination causes (access_rec.term).  NULL means a normal end.  Pass
 * one of these so logs stay greppable; any other string is logged escaped.
 *   client-timeout   timeout header/client/tunnel on the client side
 *   client-abort     the client closed or reset before the response ended
 *   client-error     the request was refused as malformed or too large (4xx)
 *   rule-deny        a rule denied the request (http_request/tcp_request)
 *   no-server        no usable server (none up, no backend): 503
 *   queue-timeout    waited for a server slot longer than timeout queue
 *   connect-timeout  the last connect attempt timed out
 *   connect-error    the last connect attempt was refused or failed
 *   server-timeout   timeout server (no response, or stalled mid-response)
 *   server-reset     the server closed or reset before the response ended
 *   server-error     the server sent something unparsable (502)
 *   tls-error        a TLS handshake failed (client or server side)
 *   shutdown         the graceful stop's drain time ran out
 *   internal         out of memory or another local failure
 *   rate-limited     an `http_request limit` rule answered 429 (over its rate)
 *   conn-limited     an `http_request limit` rule answered 429 (over its
 *                    `concurrent`, or its table full of keys in use)
 *   tarpit           an `http_request tarpit` rule held the request, then answered
 *   body-timeout     the request body took longer than `timeout body` (408)
 *   slow-body        the request body came slower than `min_body_rate` (408)
 *   waf-blocked      the WAF (`use_waf`) refused the request
 *   waf-ambiguous    the WAF's strict check refused an ambiguous encoding (400)
 */
#define ALOG_TERM_CLIENT_TIMEOUT  "client-timeout"
#define ALOG_TERM_CLIENT_ABORT    "client-abort"
#define ALOG_TERM_CLIENT_ERROR    "client-error"
#define ALOG_TERM_RULE_DENY       "rule-deny"
#define ALOG_TERM_NO_SERVER       "no-server"
#define ALOG_TERM_QUEUE_TIMEOUT   "queue-timeout"
#define ALOG_TERM_CONNECT_TIMEOUT "connect-timeout"
#define ALOG_TERM_CONNECT_ERROR   "connect-error"
#define ALOG_TERM_SERVER_TIMEOUT  "server-timeout"
#define ALOG_TERM_SERVER_RESET    "server-reset"
#define ALOG_TERM_SERVER_ERROR    "server-error"
#define ALOG_TERM_TLS_ERROR       "tls-error"
#define ALOG_TERM_SHUTDOWN        "shutdown"
#define ALOG_TERM_INTERNAL        "internal"
#define ALOG_TERM_RATE_LIMITED    "rate-limited"
#define ALOG_TERM_CONN_LIMITED    "conn-limited"
#define ALOG_TERM_TARPIT          "tarpit"
#define ALOG_TERM_BODY_TIMEOUT    "body-timeout"
#define ALOG_TERM_SLOW_BODY       "slow-body"
#define ALOG_TERM_WAF_BLOCKED     "waf-blocked"
#define ALOG_TERM_WAF_AMBIGUOUS   "waf-ambiguous"

/* What one request left behind.  Everything is borrowed for the duration
 * of access_log_write() only: the line is formatted before it returns. */
struct access_rec {
	uint64_t start_us;            /* wall clock (CLOCK_REALTIME) of the request's first byte, µs */
	const struct sockaddr_storage *src;   /* client address; NULL -> "-" */
	struct slice method, target;  /* as received; method len 0 = no request line */
	uint8_t version_major, version_minor;
	uint16_t status;              /* 0 if none was sent */
	uint64_t bytes_in, bytes_out; /* from the client (head+body), to the client (head+body) */
	const char *frontend, *backend, *server;   /* NULL -> "-" */
	int64_t t_queue_us, t_connect_us, t_ttfb_us, t_total_us;   /* -1 = did not happen */
	int retries;
	const char *term;             /* ALOG_TERM_*, NULL = normal */
	struct slice req_id;          /* len 0 if none */
	const char *tls_version;      /* "TLSv1.3", NULL if not TLS */
	const char *sni;              /* NULL if none */
	struct slice host, referer, user_agent;   /* len 0 = absent */
};

/* One frontend's access log: a target (file, stdout or stderr) and a
 * format.  Owned by the module from access_logs_open() to
 * access_logs_close(); workers only pass it back. */
struct access_log;

/*
 * Main thread, after the configuration loaded and before the workers
 * start: opens every frontend's access log target (files in append mode,
 * created 0644 if missing; frontends naming the same path share one) and
 * starts the writer thread if there is any.  Sets fe->access_log for every
 * frontend that has `access_log` (the pointer stays valid until
 * access_logs_close()).  Returns 0, or -1 with *err set to a malloc'd
 * message the caller frees (nothing is left open then).  Call it with the
 * signal mask the workers get: the writer thread inherits it.
 */
int access_logs_open(struct cfg *c, char **err);

/*
 * A reload (control/reload.c, one thread at a time): c's frontends get
 * their logs, sharing the targets already open by path and opening the
 * new ones, so older generations' streams keep logging where they did.
 * Opens the logs if they were not (access_logs_open).  Returns 0, or -1
 * with *err (malloc'd) when a file cannot be opened: the reload is refused.
 */
int access_logs_attach(struct cfg *c, char **err);

/*
 * Main thread, after the workers were joined: writes what is queued,
 * waits for the writer at most a few seconds (a stalled reader must not
 * keep the process from exiting), closes the files and clears every
 * fe->access_log.  Safe to call when nothing was opened.
 */
void access_logs_close(void);

/* The frontend's access log, or NULL when it has none (or the logs are
 * not open).  Same as fe->access_log. */
struct access_log *access_log_of(const struct cfg_frontend *fe);

/*
 * Any worker thread: formats one line for `r` into this thread's buffer.
 * Never blocks and never fails visibly: when the buffer is full it is
 * handed to the writer first, and when the queue is full the lines are
 * counted as dropped.  `l` NULL does nothing.
 */
void access_log_write(struct access_log *l, const struct access_rec *r);

/*
 * Any worker thread, once per event-loop turn and at thread exit: hands
 * this thread's pending lines to the writer.  Costs one thread-local load
 * and a branch when nothing is pending.  (A thread that exits without
 * calling it still has its lines flushed by a thread-exit destructor.)
 */
void access_log_flush_thread(void);

/* The worker's per-turn call: hands this thread's lines over once they
 * fill a 16 KiB batch or the oldest is 100 ms old (now_ms: the caller's
 * monotonic ms), so the writer thread wakes once per batch, not per turn.
 * Returns true while lines are still waiting: the caller makes sure it
 * calls again (or access_log_flush_thread()) within 100 ms. */
bool access_log_flush_due(uint64_t now_ms);

/*
 * SIGUSR1 (main thread): every file target is reopened at its configured
 * path (logrotate's `create` mode: the old file was renamed).  Lines
 * queued before the call go to the old file, later ones to the new one.
 * stdout/stderr are left alone.  A failed open is logged and the old file
 * kept.  Returns at once; the writer thread does the reopening.
 */
void access_log_reopen(void);

/* Lines of this log's target dropped so far because the queue was full,
 * and lines lost because a write failed (full disk...), since open.  For
 * statistics and tests; any thread. */
uint64_t access_log_dropped(const struct access_log *l);
uint64_t access_log_lost(const struct access_log *l);

#endif
