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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* What does not fit is cut: the line ends at cap. */
static void __attribute__((noinline)) ob_put_cut(struct obuf *o, const char *s, size_t n)
{
	n = o->cap - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* Inline, so a literal's copy is a couple of moves. */
static inline void ob_put(struct obuf *o, const char *s, size_t n)
{
	if (__builtin_expect(n > o->cap - o->len, 0)) {
		ob_put_cut(o, s, n);
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

#define ob_lit(o, s) ob_put((o), "" s, sizeof(s) - 1)

static inline void ob_str(struct obuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/* "00" "01" ... "99": two digits per division, which is most of the cost
 * of numbers (printf would be most of a line's). */
#define D10(d) d "0" d "1" d "2" d "3" d "4" d "5" d "6" d "7" d "8" d "9"
static const char digits2[] =
	D10("0") D10("1") D10("2") D10("3") D10("4") D10("5") D10("6") D10("7") D10("8") D10("9");

/* Writes v in decimal so that it ends at `end`; returns its first byte. */
static inline char *dec_back(char *end, unsigned long long v)
{
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);
		v /= 100;
		end -= 2;
		memcpy(end, digits2 + 2 * d, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digits2 + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* Digits of v in decimal: log2 * 1233 / 4096 is log10 give or take one. */
static inline unsigned dec_len(unsigned long long v)
{
	static const unsigned long long pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull,
		1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	if (v < 10)
		return 1;
	unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
	return t + (v >= pow10[t]);
}

static void ob_u64(struct obuf *o, unsigned long long v)
{
	if (v < 10 && o->len < o->cap) {   /* 0 ms, no retries... */
		o->p[o->len++] = (char)('0' + v);
		return;
	}
	unsigned n = dec_len(v);

	if (__builtin_expect(o->cap - o->len >= n, 1)) {
		dec_back(o->p + o->len + n, v);
		o->len += n;
		return;
	}
	char tmp[20];
	dec_back(tmp + n, v);
	ob_put(o, tmp, n);
}

/* v in exactly `width` digits, zero-padded (v < 10^width). */
static inline void ob_u64_pad(struct obuf *o, unsigned long long v, int width)
{
	char tmp[20], *e = tmp + width;

	for (int i = width; i >= 2; i -= 2) {
		e -= 2;
		memcpy(e, digits2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (width & 1)
		*--e = (char)('0' + v % 10);
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
	if (major < 10 && minor < 10) {
		char v[8] = { 'H', 'T', 'T', 'P', '/', (char)('0' + major), '.', (char)('0' + minor) };
		ob_put(o, v, 8);
		return;
	}
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

/* Whether a byte is its own escape: visible ASCII but '"' and '\\', and
 * space except in bare fields.  Bit 1: quoted and JSON fields; bit 2:
 * bare fields (GNU range designators). */
static const unsigned char plain_tab[256] = {
	[' '] = 1, ['!'] = 3, [0x23 ... 0x5b] = 3, [0x5d ... 0x7e] = 3,
};

/* Eight bytes at once: true when none needs escaping.  A lane's high bit
 * is set by a byte < 0x20 (<= 0x20 when bare), >= 0x7f, '"' or '\\'
 * (borrows and carries only cross lanes past such a byte). */
static inline bool plain8(uint64_t w, bool bare)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return !((((w - ones * (bare ? 0x21 : 0x20)) & ~w) | ((q - ones) & ~q) |
		  ((b - ones) & ~b) | w | (w + ones)) & highs);
}

/* Copies the run of bytes at the start of s[0..n) that are their own
 * escape (the common case) to out, which has room for n bytes, and
 * returns its length.  Whole fields go in blocks: sixteen bytes (SSE2),
 * eight, or two overlapping halves of a short field; the byte loop only
 * finds where a run ends. */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *s, size_t n,
							      char *out, bool bare)
{
	unsigned char need = bare ? 2 : 1;
	size_t i = 0;
	uint64_t w;

#ifdef __SSE2__
	if (n >= 16) {
		/* signed compare: bytes >= 0x80 are negative, so not above lo */
		const __m128i lo = _mm_set1_epi8(bare ? 0x20 : 0x1f), del = _mm_set1_epi8(0x7f);
		const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
		for (;;) {
			size_t at = i + 16 <= n ? i : n - 16;   /* the last block overlaps */
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
			__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, del),
						   _mm_or_si128(_mm_cmpeq_epi8(v, dq),
								_mm_cmpeq_epi8(v, bs)));
			if (_mm_movemask_epi8(_mm_andnot_si128(bad, _mm_cmpgt_epi8(v, lo))) != 0xffff) {
				i = at;
				goto bytes;
			}
			_mm_storeu_si128((__m128i *)(void *)(out + at), v);
			if (at + 16 == n)
				return n;
			i = at + 16;
		}
	}
#endif
	if (n >= 8) {
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			if (!plain8(w, bare))
				goto bytes;
			memcpy(out + i, &w, 8);
		}
		if (i == n)
			return n;
		/* the last eight bytes, overlapping what is already copied */
		memcpy(&w, s + n - 8, 8);
		if (plain8(w, bare)) {
			memcpy(out + n - 8, &w, 8);
			return n;
		}
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		if (plain8(a | (uint64_t)b << 32, bare)) {
			memcpy(out + n - 4, &b, 4);
			memcpy(out, &a, 4);
			return n;
		}
	}
bytes:
	for (; i < n && (plain_tab[s[i]] & need); i++)
		out[i] = (char)s[i];
	return i;
}

/* Escapes s[0..n) into o, at most `budget` bytes, from input byte i and
 * output byte `out` of the field on; a field that does not fit is cut
 * between units and ends with "...". */
static void __attribute__((noinline)) esc_rest(struct obuf *o, esc_unit_fn fn,
					       const unsigned char *s, size_t n, size_t budget,
					       size_t i, size_t out)
{
	char unit[8];
	size_t used;
	bool fits = false;   /* the rest is known to fit: no more look-ahead */

	for (; i < n; i += used) {
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

/* Escapes s[0..n) into o, at most `budget` bytes (see esc_rest).  A field
 * made of plain bytes is copied as it is, eight bytes at a time. */
static inline __attribute__((always_inline)) void esc_field(struct obuf *o, esc_unit_fn fn,
							    const char *str, size_t n,
							    size_t budget)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (n <= o->cap - o->len) {
		i = plain_run(s, n, o->p + o->len, fn == comb_bare);
		if (i == n && n <= budget) {
			o->len += n;
			return;
		}
		/* what the loop would have copied before looking ahead */
		if (i > budget - 3)
			i = budget - 3;
		o->len += i;
	}
	esc_rest(o, fn, s, n, budget, i, i);
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
	size_t utc_len;
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
		tcache.utc_len =
			strftime(tcache.utc, sizeof(tcache.utc), "%Y-%m-%dT%H:%M:%S", &tm);
		tcache.utc_sec = sec;
		tcache.utc_ok = true;
	}
	return tcache.utc;
}

/* Milliseconds with microsecond precision: 1234 us -> "1.234". */
static void ob_ms(struct obuf *o, int64_t us, const char *absent)
{
	if (us < 0) {
		ob_str(o, absent);
		return;
	}
	ob_u64(o, (unsigned long long)(us / 1000));
	unsigned f = (unsigned)(us % 1000);
	char frac[4] = { '.', (char)('0' + f / 100), digits2[2 * (f % 100)],
			 digits2[2 * (f % 100) + 1] };
	ob_put(o, frac, 4);
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

/* Keys are written with the comma before them (every key but "time" has
 * a field before it), as one literal: KEY("status") is ,"status": */
#define KEY(k) ",\"" k "\":"

static void json_str_put(struct obuf *o, struct slice s, size_t budget)
{
	size_t n = s.len;

	if (n <= budget && n + 2 <= o->cap - o->len) {
		/* plain: quotes around the copy, in one go */
		char *d = o->p + o->len;
		if (plain_run((const unsigned char *)s.p, n, d + 1, false) == n) {
			d[0] = '"';
			d[n + 1] = '"';
			o->len += n + 2;
			return;
		}
	}
	ob_lit(o, "\"");
	esc_field(o, json_unit, s.p, n, budget);
	ob_lit(o, "\"");
}

/* A string, or null when empty or absent (checked here: no call). */
static inline void json_str(struct obuf *o, struct slice s, size_t budget)
{
	if (s.len == 0)
		ob_lit(o, "null");
	else
		json_str_put(o, s, budget);
}

static inline void json_cstr(struct obuf *o, const char *s, size_t budget)
{
	json_str(o, (struct slice){ s, s ? (uint32_t)strlen(s) : 0 }, budget);
}

static void json_ms(struct obuf *o, int64_t us)
{
	ob_ms(o, us, "null");
}

static void format_json(struct obuf *o, const struct access_rec *r)
{
	char ip[INET6_ADDRSTRLEN];
	int port = client_ip(r->src, ip, sizeof(ip));
	bool has = r->method.len > 0;
	const char *t = time_utc((time_t)(r->start_us / 1000000));

	ob_lit(o, "{\"time\":\"");
	ob_put(o, t, tcache.utc_len);
	ob_lit(o, ".");
	ob_u64_pad(o, r->start_us % 1000000, 6);
	ob_lit(o, "Z\"" KEY("client"));
	json_cstr(o, ip[0] ? ip : NULL, B_SHORT);
	ob_lit(o, KEY("client_port"));
	if (port >= 0)
		ob_u64(o, (unsigned long long)port);
	else
		ob_lit(o, "null");
	ob_lit(o, KEY("method"));
	json_str(o, r->method, B_NAME);
	ob_lit(o, KEY("target"));
	json_str(o, has ? r->target : (struct slice){ NULL, 0 }, B_TARGET);
	ob_lit(o, KEY("protocol"));
	if (has) {
		ob_lit(o, "\"");
		ob_version(o, r->version_major, r->version_minor);
		ob_lit(o, "\"");
	} else {
		ob_lit(o, "null");
	}
	ob_lit(o, KEY("status"));
	if (r->status)
		ob_u64(o, r->status);
	else
		ob_lit(o, "null");
	ob_lit(o, KEY("bytes_in"));
	ob_u64(o, r->bytes_in);
	ob_lit(o, KEY("bytes_out"));
	ob_u64(o, r->bytes_out);
	ob_lit(o, KEY("referer"));
	json_str(o, r->referer, B_REFERER);
	ob_lit(o, KEY("user_agent"));
	json_str(o, r->user_agent, B_UA);
	ob_lit(o, KEY("host"));
	json_str(o, r->host, B_SHORT);
	ob_lit(o, KEY("frontend"));
	json_cstr(o, r->frontend, B_NAME);
	ob_lit(o, KEY("backend"));
	json_cstr(o, r->backend, B_NAME);
	ob_lit(o, KEY("server"));
	json_cstr(o, r->server, B_NAME);
	ob_lit(o, KEY("t_queue_ms"));
	json_ms(o, r->t_queue_us);
	ob_lit(o, KEY("t_connect_ms"));
	json_ms(o, r->t_connect_us);
	ob_lit(o, KEY("t_ttfb_ms"));
	json_ms(o, r->t_ttfb_us);
	ob_lit(o, KEY("t_total_ms"));
	json_ms(o, r->t_total_us);
	ob_lit(o, KEY("retries"));
	ob_u64(o, (unsigned long long)(r->retries > 0 ? r->retries : 0));
	ob_lit(o, KEY("term"));
	json_cstr(o, r->term, B_NAME);
	ob_lit(o, KEY("request_id"));
	json_str(o, r->req_id, B_SHORT);
	ob_lit(o, KEY("tls_version"));
	json_cstr(o, r->tls_version, B_NAME);
	ob_lit(o, KEY("sni"));
	json_cstr(o, r->sni, B_SHORT);
	ob_lit(o, "}");
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
