/*
 * access_fmt.c - turns a struct access_rec into one access log line,
 * combined or JSON (the formats and their escaping are described in
 * access_log.h).  Runs on the worker thread in the request's "log" step,
 * so it only formats into memory it is given: no locks, no allocation.
 *
 * Every text field goes through one loop that escapes it a unit at a time
 * (a byte, an escape, or a whole well-formed UTF-8 sequence) and stops at
 * the field's budget, which is what keeps a line within ALOG_LINE_MAX
 * however hostile the request was.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log/alog_internal.h"
#include "net/conn.h"

/* Output budgets per field, in bytes after escaping (access_log.h). */
#define B_TARGET 8192
#define B_REFERER 2048
#define B_UA 1024
#define B_SHORT 256     /* host, request id, SNI */
#define B_NAME 128      /* frontend, backend, server, term, method, TLS version */

struct obuf {
	char *p;
	size_t len, cap;    /* cap keeps one byte for the newline */
};

static void ob_put(struct obuf *o, const char *s, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void ob_str(struct obuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/* Decimal digits by hand: printf is most of a line's cost otherwise. */
static void ob_u64(struct obuf *o, unsigned long long v)
{
	char tmp[20];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ob_put(o, tmp + n, sizeof(tmp) - n);
}

/* v in exactly `width` digits, zero-padded (v < 10^width). */
static void ob_u64_pad(struct obuf *o, unsigned long long v, int width)
{
	char tmp[20];

	for (int i = width - 1; i >= 0; i--) {
		tmp[i] = (char)('0' + v % 10);
		v /= 10;
	}
	ob_put(o, tmp, (size_t)width);
}

static void ob_i64(struct obuf *o, long long v)
{
	if (v < 0) {
		ob_put(o, "-", 1);
		ob_u64(o, 0ull - (unsigned long long)v);
	} else {
		ob_u64(o, (unsigned long long)v);
	}
}

static void ob_version(struct obuf *o, unsigned major, unsigned minor)
{
	ob_put(o, "HTTP/", 5);
	ob_u64(o, major);
	ob_put(o, ".", 1);
	ob_u64(o, minor);
}

/* ---- escaping, one unit at a time --------------------------------------- */

/* Writes the escaped form of the unit at s[0..n) into out (at most 6
 * bytes, or a whole UTF-8 sequence); returns its length and sets *used to
 * the input bytes it took. */
typedef size_t (*esc_unit_fn)(const unsigned char *s, size_t n, char *out, size_t *used);

static const char hex_up[] = "0123456789ABCDEF";
static const char hex_lo[] = "0123456789abcdef";

static size_t comb_unit(const unsigned char *s, size_t n, char *out, size_t *used, bool space)
{
	unsigned char c = s[0];

	(void)n;
	*used = 1;
	if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f || (space && c == ' ')) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex_up[c >> 4];
		out[3] = hex_up[c & 15];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

static size_t comb_quoted(const unsigned char *s, size_t n, char *out, size_t *used)
{
	return comb_unit(s, n, out, used, false);
}

static size_t comb_bare(const unsigned char *s, size_t n, char *out, size_t *used)
{
	return comb_unit(s, n, out, used, true);
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing past U+10FFFF), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;   /* allowed range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static size_t json_unit(const unsigned char *s, size_t n, char *out, size_t *used)
{
	unsigned char c = s[0];
	size_t k = utf8_len(s, n);

	*used = k ? k : 1;
	if (k == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	if (k > 1) {
		memcpy(out, s, k);
		return k;
	}
	const char *short_esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
			      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
	if (short_esc) {
		memcpy(out, short_esc, 2);
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex_lo[c >> 4];
		out[5] = hex_lo[c & 15];
		return 6;
	}
	out[0] = (char)c;
	return 1;
}

/* Escaped length of s[0..n). */
static size_t esc_len(esc_unit_fn fn, const unsigned char *s, size_t n)
{
	char tmp[8];
	size_t total = 0, used;

	for (size_t i = 0; i < n; i += used)
		total += fn(s + i, n - i, tmp, &used);
	return total;
}

/* Whether every byte of s[0..n) is its own escape (visible ASCII, no quote
 * or backslash, and no space where bare fields forbid it): the common case,
 * copied in one go. */
static bool all_plain(esc_unit_fn fn, const unsigned char *s, size_t n)
{
	/* bit 1: plain in quoted and JSON fields; bit 2: plain in bare fields
	 * (GNU range designators: visible ASCII but '"' (0x22) and '\\' (0x5c)) */
	static const unsigned char plain[256] = {
		[' '] = 1, ['!'] = 3, [0x23 ... 0x5b] = 3, [0x5d ... 0x7e] = 3,
	};
	unsigned char need = fn == comb_bare ? 2 : 1;
	for (size_t i = 0; i < n; i++)
		if (!(plain[s[i]] & need))
			return false;
	return true;
}

/* Escapes s[0..n) into o, at most `budget` bytes; a field that does not
 * fit is cut between units and ends with "...". */
static void esc_field(struct obuf *o, esc_unit_fn fn, const char *str, size_t n, size_t budget)
{
	const unsigned char *s = (const unsigned char *)str;
	char unit[8];
	size_t out = 0, used;
	bool fits = false;   /* the rest is known to fit: no more look-ahead */

	if (n <= budget && all_plain(fn, s, n)) {
		ob_put(o, str, n);
		return;
	}

	for (size_t i = 0; i < n; i += used) {
		size_t w = fn(s + i, n - i, unit, &used);
		if (!fits && out + w > budget - 3) {
			fits = out + esc_len(fn, s + i, n - i) <= budget;
			if (!fits) {
				ob_put(o, "...", 3);
				return;
			}
		}
		ob_put(o, unit, w);
		out += w;
	}
}

/* ---- shared fields ------------------------------------------------------ */

/* The client's IP (v4-mapped IPv6 shown as IPv4) and port; "" if none. */
static int client_ip(const struct sockaddr_storage *ss, char *ip, size_t iplen)
{
	ip[0] = '\0';
	if (!ss)
		return -1;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		ip4_ntop(&a->sin_addr, ip);
		return ntohs(a->sin_port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			ip4_ntop(&a->sin6_addr.s6_addr[12], ip);
		else
			inet_ntop(AF_INET6, &a->sin6_addr, ip, (socklen_t)iplen);
		return ntohs(a->sin6_port);
	}
	return -1;
}

/* Per-thread cache of the formatted second: one localtime_r()/gmtime_r()
 * per second per thread, not per line. */
static __thread struct {
	bool local_ok, utc_ok;
	time_t local_sec, utc_sec;
	char local[40], utc[32];
} tcache;

static const char *time_local(time_t sec)
{
	if (!tcache.local_ok || tcache.local_sec != sec) {
		struct tm tm;
		localtime_r(&sec, &tm);
		strftime(tcache.local, sizeof(tcache.local), "[%d/%b/%Y:%H:%M:%S %z]", &tm);
		tcache.local_sec = sec;
		tcache.local_ok = true;
	}
	return tcache.local;
}

static const char *time_utc(time_t sec)
{
	if (!tcache.utc_ok || tcache.utc_sec != sec) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(tcache.utc, sizeof(tcache.utc), "%Y-%m-%dT%H:%M:%S", &tm);
		tcache.utc_sec = sec;
		tcache.utc_ok = true;
	}
	return tcache.utc;
}

/* Milliseconds with microsecond precision: 1234 us -> "1.234". */
static void ob_ms(struct obuf *o, int64_t us, const char *absent)
{
	if (us < 0)
		ob_str(o, absent);
	else {
		ob_i64(o, (long long)(us / 1000));
		ob_put(o, ".", 1);
		ob_u64_pad(o, (unsigned long long)(us % 1000), 3);
	}
}

/* ---- combined ----------------------------------------------------------- */

static void comb_quoted_slice(struct obuf *o, struct slice s, size_t budget)
{
	ob_put(o, "\"", 1);
	if (s.len == 0)
		ob_put(o, "-", 1);
	else
		esc_field(o, comb_quoted, s.p, s.len, budget);
	ob_put(o, "\"", 1);
}

static void comb_bare_str(struct obuf *o, const char *s)
{
	ob_put(o, " ", 1);
	if (!s || !*s)
		ob_put(o, "-", 1);
	else
		esc_field(o, comb_bare, s, strlen(s), B_NAME);
}

static void comb_request(struct obuf *o, const struct access_rec *r)
{
	if (r->method.len == 0) {
		ob_str(o, "\"-\"");
		return;
	}
	ob_put(o, "\"", 1);
	esc_field(o, comb_quoted, r->method.p, r->method.len, B_NAME);
	ob_put(o, " ", 1);
	esc_field(o, comb_quoted, r->target.p, r->target.len, B_TARGET);
	ob_put(o, " ", 1);
	ob_version(o, r->version_major, r->version_minor);
	ob_put(o, "\"", 1);
}

static void comb_timing(struct obuf *o, int64_t us)
{
	ob_put(o, " ", 1);
	ob_ms(o, us, "-");
}

static void format_combined(struct obuf *o, const struct access_rec *r)
{
	char ip[INET6_ADDRSTRLEN];

	client_ip(r->src, ip, sizeof(ip));
	ob_str(o, ip[0] ? ip : "-");
	ob_str(o, " - - ");
	ob_str(o, time_local((time_t)(r->start_us / 1000000)));
	ob_put(o, " ", 1);
	comb_request(o, r);
	ob_put(o, " ", 1);
	ob_u64(o, r->status);
	ob_put(o, " ", 1);
	ob_u64(o, (unsigned long long)r->bytes_out);
	ob_put(o, " ", 1);
	comb_quoted_slice(o, r->referer, B_REFERER);
	ob_put(o, " ", 1);
	comb_quoted_slice(o, r->user_agent, B_UA);
	ob_put(o, " ", 1);
	comb_quoted_slice(o, r->host, B_SHORT);
	ob_put(o, " ", 1);
	ob_u64(o, (unsigned long long)r->bytes_in);
	comb_bare_str(o, r->frontend);
	comb_bare_str(o, r->backend);
	comb_bare_str(o, r->server);
	comb_timing(o, r->t_queue_us);
	comb_timing(o, r->t_connect_us);
	comb_timing(o, r->t_ttfb_us);
	comb_timing(o, r->t_total_us);
	ob_put(o, " ", 1);
	ob_i64(o, r->retries);
	comb_bare_str(o, r->term);
	ob_put(o, " ", 1);
	comb_quoted_slice(o, r->req_id, B_SHORT);
	comb_bare_str(o, r->tls_version);
	ob_put(o, " ", 1);
	comb_quoted_slice(o, (struct slice){ r->sni, r->sni ? (uint32_t)strlen(r->sni) : 0 },
			  B_SHORT);
}

/* ---- JSON --------------------------------------------------------------- */

/* ,"key": - key is a literal (json_key() below), so the copy of its
 * known length inlines. */
static inline __attribute__((always_inline)) void json_key_n(struct obuf *o, const char *key,
							    size_t n)
{
	if (o->cap - o->len < n + 4) {
		ob_put(o, ",\"", o->len > 1 ? 2 : 1);
		return;   /* the line is full anyway: it is cut with "..." */
	}
	char *p = o->p + o->len;
	if (o->len > 1)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	o->len = (size_t)(p - o->p);
}

#define json_key(o, key) json_key_n((o), "" key, sizeof(key) - 1)
static void json_slice_n(struct obuf *o, const char *key, size_t klen, struct slice s,
			 size_t budget)
{
	json_key_n(o, key, klen);
	if (s.len == 0) {
		ob_str(o, "null");
		return;
	}
	ob_put(o, "\"", 1);
	esc_field(o, json_unit, s.p, s.len, budget);
	ob_put(o, "\"", 1);
}

static void json_cstr_n(struct obuf *o, const char *key, size_t klen, const char *s,
			size_t budget)
{
	json_slice_n(o, key, klen, (struct slice){ s, s ? (uint32_t)strlen(s) : 0 }, budget);
}

static void json_u64_n(struct obuf *o, const char *key, size_t klen, unsigned long long v)
{
	json_key_n(o, key, klen);
	ob_u64(o, v);
}

static void json_ms_n(struct obuf *o, const char *key, size_t klen, int64_t us)
{
	json_key_n(o, key, klen);
	ob_ms(o, us, "null");
}

/* Keys are literals (the "" makes anything else a compile error): their
 * length is known where they are written. */
#define json_slice(o, key, ...) json_slice_n((o), "" key, sizeof(key) - 1, __VA_ARGS__)
#define json_cstr(o, key, str, b) json_cstr_n((o), "" key, sizeof(key) - 1, (str), (b))
#define json_u64(o, key, v) json_u64_n((o), "" key, sizeof(key) - 1, (v))
#define json_ms(o, key, us) json_ms_n((o), "" key, sizeof(key) - 1, (us))

static void json_request(struct obuf *o, const struct access_rec *r)
{
	bool has = r->method.len > 0;

	json_slice(o, "method", r->method, B_NAME);
	json_slice(o, "target", has ? r->target : (struct slice){ NULL, 0 }, B_TARGET);
	json_key(o, "protocol");
	if (has)
	{
		ob_put(o, "\"", 1);
		ob_version(o, r->version_major, r->version_minor);
		ob_put(o, "\"", 1);
	}
	else
		ob_str(o, "null");
}

static void format_json(struct obuf *o, const struct access_rec *r)
{
	char ip[INET6_ADDRSTRLEN];
	int port = client_ip(r->src, ip, sizeof(ip));

	ob_str(o, "{");
	json_key(o, "time");
	ob_put(o, "\"", 1);
	ob_str(o, time_utc((time_t)(r->start_us / 1000000)));
	ob_put(o, ".", 1);
	ob_u64_pad(o, r->start_us % 1000000, 6);
	ob_put(o, "Z\"", 2);
	json_cstr(o, "client", ip[0] ? ip : NULL, B_SHORT);
	json_key(o, "client_port");
	if (port >= 0)
		ob_u64(o, (unsigned long long)port);
	else
		ob_str(o, "null");
	json_request(o, r);
	json_key(o, "status");
	if (r->status)
		ob_u64(o, r->status);
	else
		ob_str(o, "null");
	json_u64(o, "bytes_in", r->bytes_in);
	json_u64(o, "bytes_out", r->bytes_out);
	json_slice(o, "referer", r->referer, B_REFERER);
	json_slice(o, "user_agent", r->user_agent, B_UA);
	json_slice(o, "host", r->host, B_SHORT);
	json_cstr(o, "frontend", r->frontend, B_NAME);
	json_cstr(o, "backend", r->backend, B_NAME);
	json_cstr(o, "server", r->server, B_NAME);
	json_ms(o, "t_queue_ms", r->t_queue_us);
	json_ms(o, "t_connect_ms", r->t_connect_us);
	json_ms(o, "t_ttfb_ms", r->t_ttfb_us);
	json_ms(o, "t_total_ms", r->t_total_us);
	json_u64(o, "retries", (unsigned long long)(r->retries > 0 ? r->retries : 0));
	json_cstr(o, "term", r->term, B_NAME);
	json_slice(o, "request_id", r->req_id, B_SHORT);
	json_cstr(o, "tls_version", r->tls_version, B_NAME);
	json_cstr(o, "sni", r->sni, B_SHORT);
	ob_str(o, "}");
}

size_t alog_format(enum access_log_format fmt, char *out, size_t cap, const struct access_rec *r)
{
	if (cap < 2)
		return 0;
	struct obuf o = { out, 0, cap - 1 };

	if (fmt == ACCESS_LOG_JSON)
		format_json(&o, r);
	else
		format_combined(&o, r);
	out[o.len++] = '\n';
	return o.len;
}
