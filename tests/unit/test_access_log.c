/*
 * test_access_log.c - unit tests of src/log/: both line formats field by
 * field, escaping of hostile input (every JSON line is parsed back by a
 * small strict checker), long fields, the writer (files, reopen after a
 * rename, drops on a stalled FIFO, lost lines on a full disk, several
 * threads), request ids, and the access_log / request_id directives with
 * their FILE:LINE:COL errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg.h"
#include "log/access_log.h"
#include "log/alog_internal.h"
#include "log/reqid.h"
#include "unit.h"

/* ---- helpers ---------------------------------------------------------------- */

static struct slice S(const char *s)
{
	return (struct slice){ s, (uint32_t)strlen(s) };
}

static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

/* 2000-10-10 13:55:36.123456 UTC */
#define T0 (971186136ULL * 1000000 + 123456)

static struct access_rec full_rec(const struct sockaddr_storage *src)
{
	return (struct access_rec){
		.start_us = T0, .src = src,
		.method = S("GET"), .target = S("/a?b=1"), .version_major = 1, .version_minor = 1,
		.status = 200, .bytes_in = 78, .bytes_out = 2326,
		.frontend = "web", .backend = "app", .server = "app1",
		.t_queue_us = 0, .t_connect_us = 123, .t_ttfb_us = 4567, .t_total_us = 1234567,
		.retries = 1, .term = NULL, .req_id = S("0b9c6f4e-1d2a-4c7e-9f00-123456789abc"),
		.tls_version = "TLSv1.3", .sni = "www.example.com",
		.host = S("www.example.com"), .referer = S("http://x/"), .user_agent = S("curl/8.0"),
	};
}

static struct access_rec empty_rec(void)
{
	return (struct access_rec){
		.start_us = T0, .t_queue_us = -1, .t_connect_us = -1, .t_ttfb_us = -1,
		.t_total_us = -1,
	};
}

static char line[ALOG_LINE_MAX + 1];

static const char *fmt(enum access_log_format f, const struct access_rec *r)
{
	size_t n = alog_format(f, line, ALOG_LINE_MAX, r);
	line[n] = '\0';
	return line;
}

static bool same(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	fprintf(stderr, "  got:  %s  want: %s", got, want);
	return false;
}

/* ---- a strict JSON checker (objects of scalars, as our lines are) ---------- */

static size_t utf8_ok(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

	if (n > 1 && (s[1] < lo || s[1] > hi))
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static const unsigned char *j_string(const unsigned char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if (*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		size_t n = utf8_ok(p);
		if (!n)
			return NULL;
		p += n;
	}
	return p + 1;
}

static const unsigned char *j_value(const unsigned char *p)
{
	if (*p == '"')
		return j_string(p);
	if (!strncmp((const char *)p, "null", 4))
		return p + 4;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		if (*p == '-')
			p++;
		if (*p == '0' && p[1] >= '0' && p[1] <= '9')
			return NULL;
		const unsigned char *d = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
		if (*p == '.') {
			d = ++p;
			while (*p >= '0' && *p <= '9')
				p++;
			if (p == d)
				return NULL;
		}
		return p;
	}
	return NULL;
}

/* True if s is exactly one JSON object of scalars and a newline. */
static bool json_line_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p++ != '{')
		return false;
	for (bool first = true; *p != '}'; first = false) {
		if (!first && *p++ != ',')
			return false;
		if (!(p = j_string(p)) || *p++ != ':' || !(p = j_value(p)))
			return false;
	}
	return p[1] == '\n' && p[2] == '\0';
}

/* The raw (still escaped) text of "key":"..." in a JSON line, or NULL. */
static const char *json_raw(const char *s, const char *key, char *out, size_t len)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(s, k);
	if (!p)
		return NULL;
	p += strlen(k);
	const unsigned char *e = j_value((const unsigned char *)p);
	if (!e)
		return NULL;
	snprintf(out, len, "%.*s", (int)((const char *)e - p), p);
	return out;
}

/* ---- formats ---------------------------------------------------------------- */

TEST(test_combined_fields)
{
	struct sockaddr_storage src = v4("192.0.2.7", 51000);
	struct access_rec r = full_rec(&src);

	CHECK(same(fmt(ACCESS_LOG_COMBINED, &r),
		   "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /a?b=1 HTTP/1.1\" 200 2326 "
		   "\"http://x/\" \"curl/8.0\" \"www.example.com\" 78 web app app1 0.000 0.123 "
		   "4.567 1234.567 1 - \"0b9c6f4e-1d2a-4c7e-9f00-123456789abc\" TLSv1.3 "
		   "\"www.example.com\"\n"));
	r.term = ALOG_TERM_SERVER_RESET;
	r.status = 502;
	CHECK(strstr(fmt(ACCESS_LOG_COMBINED, &r), "\" 502 2326 \"") != NULL);
	CHECK(strstr(line, " 1 server-reset \"0b9c") != NULL);

	/* nothing known: a client that timed out before its request line */
	struct access_rec e = empty_rec();
	CHECK(same(fmt(ACCESS_LOG_COMBINED, &e),
		   "- - - [10/Oct/2000:13:55:36 +0000] \"-\" 0 0 \"-\" \"-\" \"-\" 0 - - - - - - - "
		   "0 - \"-\" - \"-\"\n"));
}

TEST(test_json_fields)
{
	struct sockaddr_storage src = v4("192.0.2.7", 51000);
	struct access_rec r = full_rec(&src);

	CHECK(same(fmt(ACCESS_LOG_JSON, &r),
		   "{\"time\":\"2000-10-10T13:55:36.123456Z\",\"client\":\"192.0.2.7\","
		   "\"client_port\":51000,\"method\":\"GET\",\"target\":\"/a?b=1\","
		   "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes_in\":78,\"bytes_out\":2326,"
		   "\"referer\":\"http://x/\",\"user_agent\":\"curl/8.0\","
		   "\"host\":\"www.example.com\",\"frontend\":\"web\",\"backend\":\"app\","
		   "\"server\":\"app1\",\"t_queue_ms\":0.000,\"t_connect_ms\":0.123,"
		   "\"t_ttfb_ms\":4.567,\"t_total_ms\":1234.567,\"retries\":1,\"term\":null,"
		   "\"request_id\":\"0b9c6f4e-1d2a-4c7e-9f00-123456789abc\","
		   "\"tls_version\":\"TLSv1.3\",\"sni\":\"www.example.com\"}\n"));
	CHECK(json_line_ok(line));

	struct access_rec e = empty_rec();
	e.term = ALOG_TERM_CLIENT_TIMEOUT;
	CHECK(same(fmt(ACCESS_LOG_JSON, &e),
		   "{\"time\":\"2000-10-10T13:55:36.123456Z\",\"client\":null,\"client_port\":null,"
		   "\"method\":null,\"target\":null,\"protocol\":null,\"status\":null,"
		   "\"bytes_in\":0,\"bytes_out\":0,\"referer\":null,\"user_agent\":null,"
		   "\"host\":null,\"frontend\":null,\"backend\":null,\"server\":null,"
		   "\"t_queue_ms\":null,\"t_connect_ms\":null,\"t_ttfb_ms\":null,"
		   "\"t_total_ms\":null,\"retries\":0,\"term\":\"client-timeout\","
		   "\"request_id\":null,\"tls_version\":null,\"sni\":null}\n"));
	CHECK(json_line_ok(line));
}

TEST(test_client_addresses)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
	struct access_rec r = empty_rec();
	char raw[64];

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &a->sin6_addr);
	r.src = &ss;
	CHECK(strncmp(fmt(ACCESS_LOG_COMBINED, &r), "2001:db8::1 - - [", 17) == 0);
	CHECK(json_raw(fmt(ACCESS_LOG_JSON, &r), "client", raw, sizeof(raw)) &&
	      strcmp(raw, "\"2001:db8::1\"") == 0);
	CHECK(json_raw(line, "client_port", raw, sizeof(raw)) && strcmp(raw, "443") == 0);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &a->sin6_addr);
	CHECK(strncmp(fmt(ACCESS_LOG_COMBINED, &r), "10.1.2.3 - - [", 14) == 0);
}

/* One hostile target through both formats: the JSON raw value and the
 * combined request line. */
static void hostile(const char *target, size_t len, const char *want_json, const char *want_comb)
{
	struct access_rec r = empty_rec();
	char raw[512], want[512];

	r.method = S("GET");
	r.target = (struct slice){ target, (uint32_t)len };
	r.version_major = 1;
	r.version_minor = 1;
	fmt(ACCESS_LOG_JSON, &r);
	CHECK(json_line_ok(line));
	snprintf(want, sizeof(want), "\"%s\"", want_json);
	CHECK(json_raw(line, "target", raw, sizeof(raw)) && same(raw, want));
	fmt(ACCESS_LOG_COMBINED, &r);
	snprintf(want, sizeof(want), "\"GET %s HTTP/1.1\"", want_comb);
	if (!strstr(line, want)) {
		fprintf(stderr, "  combined %s lacks %s\n", line, want);
		CHECK(0);
	}
}

#define H(lit, j, c) hostile(lit, sizeof(lit) - 1, j, c)

TEST(test_escaping)
{
	H("/q\"uote", "/q\\\"uote", "/q\\x22uote");
	H("/back\\slash", "/back\\\\slash", "/back\\x5Cslash");
	H("/a b", "/a b", "/a b");
	H("/\n\r\t\x01\x1f\x7f", "/\\n\\r\\t\\u0001\\u001f\\u007f", "/\\x0A\\x0D\\x09\\x01\\x1F\\x7F");
	H("/nul\0x", "/nul\\u0000x", "/nul\\x00x");
	/* well-formed UTF-8 stays as is in JSON: e-acute, euro, emoji */
	H("/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	  "/\\xC3\\xA9\\xE2\\x82\\xAC\\xF0\\x9F\\x98\\x80");
	/* every byte outside a well-formed sequence is one U+FFFD */
	H("/\xff", "/\\ufffd", "/\\xFF");
	H("/\x80x", "/\\ufffdx", "/\\x80x");                           /* stray continuation */
	H("/\xc0\xaf", "/\\ufffd\\ufffd", "/\\xC0\\xAF");              /* overlong '/' */
	H("/\xe0\x80\xaf", "/\\ufffd\\ufffd\\ufffd", "/\\xE0\\x80\\xAF");
	H("/\xf0\x80\x80\xaf", "/\\ufffd\\ufffd\\ufffd\\ufffd", "/\\xF0\\x80\\x80\\xAF");
	H("/\xed\xa0\x80", "/\\ufffd\\ufffd\\ufffd", "/\\xED\\xA0\\x80");  /* lone surrogate */
	H("/\xed\xbf\xbf", "/\\ufffd\\ufffd\\ufffd", "/\\xED\\xBF\\xBF");
	H("/\xf4\x90\x80\x80", "/\\ufffd\\ufffd\\ufffd\\ufffd", "/\\xF4\\x90\\x80\\x80"); /* >10FFFF */
	H("/\xe2\x82", "/\\ufffd\\ufffd", "/\\xE2\\x82");               /* cut short */
	H("/\xe2\x82x", "/\\ufffd\\ufffdx", "/\\xE2\\x82x");
	H("/\xc3\xa9\xa9", "/\xc3\xa9\\ufffd", "/\\xC3\\xA9\\xA9");
	H("/\xf4\x8f\xbf\xbf", "/\xf4\x8f\xbf\xbf", "/\\xF4\\x8F\\xBF\\xBF");  /* U+10FFFF */
}

TEST(test_escaping_other_fields)
{
	struct access_rec r = empty_rec();
	char raw[256];

	r.user_agent = S("Mozilla \"x\"\\");
	r.referer = S("\x1b[31m");
	r.host = S("h\xff");
	r.req_id = S("id\"");
	r.sni = "s\x01";
	r.frontend = "we b";   /* unquoted fields escape spaces */
	r.term = "odd term";
	fmt(ACCESS_LOG_COMBINED, &r);
	CHECK(strstr(line, "\"\\x1B[31m\" \"Mozilla \\x22x\\x22\\x5C\" \"h\\xFF\" 0 we\\x20b ") !=
	      NULL);
	CHECK(strstr(line, " odd\\x20term \"id\\x22\" - \"s\\x01\"\n") != NULL);
	fmt(ACCESS_LOG_JSON, &r);
	CHECK(json_line_ok(line));
	CHECK(json_raw(line, "user_agent", raw, sizeof(raw)) &&
	      same(raw, "\"Mozilla \\\"x\\\"\\\\\""));
	CHECK(json_raw(line, "referer", raw, sizeof(raw)) && same(raw, "\"\\u001b[31m\""));
	CHECK(json_raw(line, "host", raw, sizeof(raw)) && same(raw, "\"h\\ufffd\""));
	CHECK(json_raw(line, "sni", raw, sizeof(raw)) && same(raw, "\"s\\u0001\""));
	CHECK(json_raw(line, "frontend", raw, sizeof(raw)) && same(raw, "\"we b\""));
}

TEST(test_long_fields)
{
	static char big[200000];
	struct access_rec r = empty_rec();

	memset(big, 'a', sizeof(big));
	r.method = S("GET");
	r.target = (struct slice){ big, sizeof(big) };
	r.user_agent = r.referer = r.host = r.req_id = r.target;
	size_t n = alog_format(ACCESS_LOG_COMBINED, line, ALOG_LINE_MAX, &r);
	line[n] = '\0';
	CHECK(n < ALOG_LINE_MAX && line[n - 1] == '\n' && strchr(line, '\n') == line + n - 1);
	CHECK(strstr(line, "aaa... HTTP/0.0\"") != NULL);
	/* all escapes: the cut never splits one */
	memset(big, '"', sizeof(big));
	n = alog_format(ACCESS_LOG_JSON, line, ALOG_LINE_MAX, &r);
	line[n] = '\0';
	CHECK(n < ALOG_LINE_MAX && json_line_ok(line));
	CHECK(strstr(line, "\\\"\\\"...\"") != NULL);
	memset(big, 0x01, sizeof(big));
	n = alog_format(ACCESS_LOG_JSON, line, ALOG_LINE_MAX, &r);
	line[n] = '\0';
	CHECK(n < ALOG_LINE_MAX && json_line_ok(line));
	/* exactly at the budget: not cut */
	memset(big, 'b', sizeof(big));
	r = empty_rec();
	r.method = S("GET");
	r.target = (struct slice){ big, 8192 };
	fmt(ACCESS_LOG_JSON, &r);
	CHECK(json_line_ok(line) && !strstr(line, "..."));
	r.target.len = 8193;
	fmt(ACCESS_LOG_JSON, &r);
	CHECK(json_line_ok(line) && strstr(line, "bbb...\""));
	/* a small output buffer still gets a newline-terminated line */
	n = alog_format(ACCESS_LOG_JSON, line, 40, &r);
	CHECK(n == 40 && line[39] == '\n');
}

TEST(test_random_input)
{
	static char bytes[6][300];
	unsigned seed = 12345;
	struct access_rec r = empty_rec();

	for (int iter = 0; iter < 3000; iter++) {
		size_t len[6];
		for (int f = 0; f < 6; f++) {
			len[f] = (size_t)(rand_r(&seed) % 300);
			for (size_t i = 0; i < len[f]; i++) {
				int k = rand_r(&seed) % 4;
				/* bias towards the interesting bytes */
				bytes[f][i] = (char)(k == 0 ? rand_r(&seed) % 0x20
						     : k == 1 ? 0x80 + rand_r(&seed) % 0x80
						     : k == 2 ? "\"\\\xed\xf4\xe0\xf0\xc2"[rand_r(&seed) % 7]
						     : 0x20 + rand_r(&seed) % 0x60);
			}
		}
		r.method = (struct slice){ bytes[0], (uint32_t)len[0] };
		r.target = (struct slice){ bytes[1], (uint32_t)len[1] };
		r.host = (struct slice){ bytes[2], (uint32_t)len[2] };
		r.referer = (struct slice){ bytes[3], (uint32_t)len[3] };
		r.user_agent = (struct slice){ bytes[4], (uint32_t)len[4] };
		r.req_id = (struct slice){ bytes[5], (uint32_t)len[5] };
		fmt(ACCESS_LOG_JSON, &r);
		if (!json_line_ok(line)) {
			CHECK(!"invalid JSON line");
			fprintf(stderr, "  %s", line);
			break;
		}
		size_t n = alog_format(ACCESS_LOG_COMBINED, line, ALOG_LINE_MAX, &r);
		for (size_t i = 0; i + 1 < n; i++)
			if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f) {
				CHECK(!"raw control or 8-bit byte in a combined line");
				iter = 1 << 30;
				break;
			}
	}
}

/* ---- the writer --------------------------------------------------------------- */

static char tmpdir[] = "/tmp/test_alog_XXXXXX";

static struct cfg *load_cfg(const char *fe_extra)
{
	char text[2048], *errs = NULL;

	snprintf(text, sizeof(text),
		 "frontend web {\n bind 127.0.0.1:8080\n default_backend app\n%s}\n"
		 "backend app {\n server a 127.0.0.1:9001\n}\n",
		 fe_extra);
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (!c)
		fprintf(stderr, "  config errors:\n%s\n", errs ? errs : "");
	free(errs);
	return c;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char empty[1];
	if (!f)
		return empty;
	char *buf = calloc(1, 64 << 20);
	size_t n = buf ? fread(buf, 1, (64 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf ? buf : empty;
}

static int count_nl(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Opens the logs of `c`; returns the frontend's log. */
static struct access_log *open_logs(struct cfg *c)
{
	char *err = NULL;
	if (!c || access_logs_open(c, &err) < 0) {
		fprintf(stderr, "  access_logs_open: %s\n", err ? err : "?");
		free(err);
		return NULL;
	}
	return access_log_of(c->frontends[0]);
}

static void write_n(struct access_log *l, int n, const char *tag)
{
	struct access_rec r = empty_rec();
	r.method = S("GET");
	r.target = S(tag);
	r.version_major = r.version_minor = 1;
	for (int i = 0; i < n; i++)
		access_log_write(l, &r);
	access_log_flush_thread();
}

TEST(test_write_file)
{
	char path[256], extra[512];
	snprintf(path, sizeof(path), "%s/a.log", tmpdir);
	snprintf(extra, sizeof(extra), " access_log %s format json\n", path);
	struct cfg *c = load_cfg(extra);
	struct access_log *l = open_logs(c);
	CHECK(l != NULL && c->frontends[0]->access_log == l);
	write_n(l, 3, "/one");
	write_n(l, 2, "/two");
	access_logs_close();
	CHECK(c && c->frontends[0]->access_log == NULL);
	char *s = slurp(path);
	CHECK_EQ_INT(count_nl(s), 5);
	CHECK(strstr(s, "\"target\":\"/two\"") && json_line_ok(strrchr(s, '{')));
	free(s);
	/* writes after close are ignored */
	write_n(l, 1, "/late");
	access_log_flush_thread();
	cfg_free(c);
	unlink(path);
}

TEST(test_reopen_after_rename)
{
	char path[256], old[256], extra[512];
	snprintf(path, sizeof(path), "%s/r.log", tmpdir);
	snprintf(old, sizeof(old), "%s/r.log.1", tmpdir);
	snprintf(extra, sizeof(extra), " access_log %s\n", path);
	struct cfg *c = load_cfg(extra);
	struct access_log *l = open_logs(c);
	write_n(l, 2, "/before");
	CHECK(rename(path, old) == 0);
	access_log_reopen();
	write_n(l, 3, "/after");
	access_logs_close();
	char *a = slurp(old), *b = slurp(path);
	CHECK_EQ_INT(count_nl(a), 2);
	CHECK_EQ_INT(count_nl(b), 3);
	CHECK(strstr(a, "/before") && !strstr(a, "/after"));
	CHECK(strstr(b, "/after") && !strstr(b, "/before"));
	free(a);
	free(b);
	cfg_free(c);
	unlink(path);
	unlink(old);
}

static volatile int drain_stop;

static void *drainer(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];
	while (!drain_stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) > 0 && read(fd, buf, sizeof(buf)) < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

TEST(test_stalled_fifo_drops)
{
	char path[256], extra[512];
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	CHECK(mkfifo(path, 0600) == 0);
	/* our own end keeps the FIFO open, and never reads until the end */
	int rd = open(path, O_RDWR | O_NONBLOCK);
	CHECK(rd >= 0);
	snprintf(extra, sizeof(extra), " access_log %s\n", path);
	struct cfg *c = load_cfg(extra);
	struct access_log *l = open_logs(c);
	CHECK(l != NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000; i++)
		write_n(l, 100, "/stalled/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* 100k lines of ~160 bytes: far over the 8 MiB queue and the pipe */
	CHECK(access_log_dropped(l) > 0);
	CHECK(access_log_dropped(l) < 100000);
	/* and writing never waited for the reader */
	CHECK(t1.tv_sec - t0.tv_sec < 5);

	pthread_t th;
	drain_stop = 0;
	pthread_create(&th, NULL, drainer, &rd);
	access_logs_close();
	drain_stop = 1;
	pthread_join(th, NULL);
	close(rd);
	cfg_free(c);
	unlink(path);
}

TEST(test_full_disk_counts_lost)
{
	struct cfg *c = load_cfg(" access_log /dev/full\n");
	struct access_log *l = open_logs(c);
	CHECK(l != NULL);
	write_n(l, 7, "/x");
	/* the writer counts them (and logs the error once); l dies at close */
	for (int i = 0; i < 500 && access_log_lost(l) < 7; i++)
		usleep(10000);
	CHECK_EQ_INT(access_log_lost(l), 7);
	CHECK_EQ_INT(access_log_dropped(l), 0);
	access_logs_close();
	cfg_free(c);
}

struct thr_arg {
	struct access_log *l;
	int id;
};

static void *thr_writer(void *arg)
{
	struct thr_arg *a = arg;
	char tag[64];
	struct access_rec r = empty_rec();

	r.method = S("GET");
	for (int i = 0; i < 5000; i++) {
		snprintf(tag, sizeof(tag), "/t%d/%d", a->id, i);
		r.target = S(tag);
		access_log_write(a->l, &r);
		if (i % 37 == 0)
			access_log_flush_thread();
	}
	return NULL;   /* the rest is flushed by the thread-exit hook */
}

TEST(test_threads)
{
	char path[256], extra[512];
	snprintf(path, sizeof(path), "%s/t.log", tmpdir);
	snprintf(extra, sizeof(extra), " access_log %s format json\n", path);
	struct cfg *c = load_cfg(extra);
	struct access_log *l = open_logs(c);
	pthread_t th[4];
	struct thr_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thr_arg){ l, i };
		pthread_create(&th[i], NULL, thr_writer, &args[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	uint64_t dropped = access_log_dropped(l);
	access_logs_close();
	char *s = slurp(path);
	CHECK_EQ_INT(count_nl(s) + (int)dropped, 20000);
	CHECK_EQ_INT(dropped, 0);
	bool ok = true;
	for (char *p = s, *nl; ok && (nl = strchr(p, '\n')); p = nl + 1) {
		char save = nl[1];
		nl[1] = '\0';
		ok = json_line_ok(p);
		nl[1] = save;
	}
	CHECK(ok);
	CHECK(strstr(s, "\"/t3/4999\"") != NULL);
	free(s);
	cfg_free(c);
	unlink(path);
}

TEST(test_shared_and_stdio_targets)
{
	char path[256], text[1024], *errs = NULL, *err = NULL;
	snprintf(path, sizeof(path), "%s/s.log", tmpdir);
	snprintf(text, sizeof(text),
		 "frontend a {\n bind 127.0.0.1:8080\n default_backend app\n access_log %s\n}\n"
		 "frontend b {\n bind 127.0.0.1:8081\n default_backend app\n"
		 " access_log %s format json\n}\n"
		 "frontend c {\n bind 127.0.0.1:8082\n default_backend app\n}\n"
		 "frontend d {\n bind 127.0.0.1:8083\n default_backend app\n access_log stderr\n}\n"
		 "backend app {\n server a 127.0.0.1:9001\n}\n",
		 path, path);
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	CHECK(c != NULL);
	if (!c) {
		free(errs);
		return;
	}
	CHECK(access_logs_open(c, &err) == 0 && err == NULL);
	CHECK(c->frontends[0]->access_log && c->frontends[1]->access_log);
	CHECK(c->frontends[2]->access_log == NULL && c->frontends[3]->access_log);
	write_n(c->frontends[0]->access_log, 1, "/from-a");
	write_n(c->frontends[1]->access_log, 1, "/from-b");
	access_logs_close();
	char *s = slurp(path);
	CHECK_EQ_INT(count_nl(s), 2);
	CHECK(strstr(s, "\"GET /from-a HTTP/1.1\"") && strstr(s, "\"target\":\"/from-b\""));
	free(s);
	cfg_free(c);
	unlink(path);
}

TEST(test_open_failure)
{
	char path[256], extra[512], *err = NULL;
	snprintf(path, sizeof(path), "%s/gone/x.log", tmpdir);
	snprintf(extra, sizeof(extra), "%s/gone", tmpdir);
	mkdir(extra, 0700);
	snprintf(extra, sizeof(extra), " access_log %s\n", path);
	struct cfg *c = load_cfg(extra);
	CHECK(c != NULL);
	snprintf(extra, sizeof(extra), "%s/gone", tmpdir);
	rmdir(extra);   /* gone between the check and the start */
	CHECK(c && access_logs_open(c, &err) == -1);
	snprintf(extra, sizeof(extra), "cannot open access log '%s': No such file or directory",
		 path);
	CHECK(err && same(err, extra));
	free(err);
	CHECK(c && c->frontends[0]->access_log == NULL);
	access_logs_close();
	cfg_free(c);
}

/* ---- request ids ---------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

TEST(test_reqid_generate)
{
	enum { N = 100000 };
	char (*ids)[REQID_MAX + 1] = malloc(sizeof(*ids) * N);
	if (!ids)
		return;
	for (int i = 0; i < N; i++) {
		size_t n = reqid_generate(ids[i]);
		if (n != 36 || strlen(ids[i]) != 36 || !reqid_valid(ids[i], n) || ids[i][14] != '4' ||
		    !strchr("89ab", ids[i][19]) || ids[i][8] != '-' || ids[i][23] != '-') {
			CHECK(!"bad id");
			fprintf(stderr, "  %s\n", ids[i]);
			break;
		}
	}
	qsort(ids, N, sizeof(*ids), cmp_id);
	int dups = 0;
	for (int i = 1; i < N; i++)
		dups += strcmp(ids[i - 1], ids[i]) == 0;
	CHECK_EQ_INT(dups, 0);
	/* every hex digit shows up in the random positions (all ids: sorted,
	 * the first hundred all start with '0', and 100 last digits miss one
	 * of the sixteen about once in forty runs) */
	for (const char *h = "0123456789abcdef"; *h; h++) {
		bool seen = false;
		for (int i = 0; i < N && !seen; i++)
			seen = ids[i][0] == *h || ids[i][35] == *h;
		CHECK(seen);
	}
	free(ids);
}

TEST(test_reqid_valid)
{
	char buf[REQID_MAX + 2];

	CHECK(!reqid_valid(NULL, 0));
	CHECK(!reqid_valid("", 0));
	CHECK(reqid_valid("a", 1));
	memset(buf, 'x', sizeof(buf));
	CHECK(reqid_valid(buf, REQID_MAX));
	CHECK(!reqid_valid(buf, REQID_MAX + 1));
	CHECK(reqid_valid("0b9c6f4e-1d2a-4c7e-9f00-123456789abc", 36));
	CHECK(reqid_valid("AZaz09-._~+/=:", 14));   /* base64, base64url, uuid, trace ids */
	const char *bad = " \"\\,;<>@?()[]{}'`!#$%&*^|\x01\x7f\x80\xff";
	for (const char *b = bad; *b; b++) {
		char s[3] = { 'a', *b, 0 };
		if (reqid_valid(s, 2)) {
			fprintf(stderr, "  accepted byte 0x%02x\n", (unsigned char)*b);
			CHECK(0);
		}
	}
	CHECK(!reqid_valid("a\0b", 3));
}

/* ---- configuration ------------------------------------------------------------ */

static char *cfg_errs(const char *fe_extra)
{
	char text[2048], *errs = NULL;

	snprintf(text, sizeof(text),
		 "frontend web {\n bind 127.0.0.1:8080\n default_backend app\n%s}\n"
		 "backend app {\n server a 127.0.0.1:9001\n}\n",
		 fe_extra);
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (c) {
		cfg_free(c);
		return strdup("(loaded)");
	}
	return errs ? errs : strdup("");
}

static bool err_is(const char *fe_extra, const char *want)
{
	char *e = cfg_errs(fe_extra);
	bool ok = strstr(e, want) != NULL;
	if (!ok)
		fprintf(stderr, "  want: %s\n  got:  %s\n", want, e);
	free(e);
	return ok;
}

TEST(test_cfg_access_log)
{
	struct cfg *c = load_cfg("");
	CHECK(c && !c->frontends[0]->access_log_path && !c->frontends[0]->request_id_header);
	cfg_free(c);
	c = load_cfg(" access_log stdout\n request_id header X-Request-Id\n");
	CHECK(c && strcmp(c->frontends[0]->access_log_path, "stdout") == 0);
	CHECK(c && c->frontends[0]->access_log_format == ACCESS_LOG_COMBINED);
	CHECK(c && strcmp(c->frontends[0]->request_id_header, "X-Request-Id") == 0);
	cfg_free(c);
	c = load_cfg(" access_log stderr format json\n");
	CHECK(c && strcmp(c->frontends[0]->access_log_path, "stderr") == 0);
	CHECK(c && c->frontends[0]->access_log_format == ACCESS_LOG_JSON);
	cfg_free(c);

	CHECK(err_is(" access_log stdout format xml\n",
		     "t.conf:4:27: error: unknown access log format 'xml'; expected one of: "
		     "combined, json"));
	CHECK(err_is(" access_log stdout format\n",
		     "t.conf:4:26: error: missing value after 'format'; expected combined or json"));
	CHECK(err_is(" access_log stdout json\n",
		     "t.conf:4:20: error: unexpected 'json' after the access log target; expected "
		     "'format combined' or 'format json'"));
	CHECK(err_is(" access_log\n", "t.conf:4:12: error: missing argument to 'access_log'"));
	CHECK(err_is(" access_log /nonexistent-dir/x.log\n",
		     "t.conf:4:13: error: access log '/nonexistent-dir/x.log': directory "
		     "'/nonexistent-dir' does not exist"));
	CHECK(err_is(" access_log /tmp\n",
		     "t.conf:4:13: error: access log '/tmp': it is a directory"));
	CHECK(err_is(" access_log \"\"\n", "t.conf:4:13: error: empty access log path"));
	CHECK(err_is(" request_id cookie X\n",
		     "t.conf:4:13: error: unknown request id carrier 'cookie'; expected 'header "
		     "NAME'"));
	CHECK(err_is(" request_id header \"X Id\"\n",
		     "t.conf:4:20: error: invalid header name 'X Id'"));
	CHECK(err_is(" request_id header\n", "t.conf:4:19: error: missing argument to 'request_id'"));
}

/* A file config: relative log names are read from its directory. */
TEST(test_cfg_relative_path)
{
	char conf[256], text[512], want[1024], *errs = NULL;
	snprintf(conf, sizeof(conf), "%s/g.conf", tmpdir);
	snprintf(want, sizeof(want), "%s/logs", tmpdir);
	mkdir(want, 0700);
	snprintf(text, sizeof(text),
		 "frontend web {\n bind 127.0.0.1:8080\n default_backend app\n"
		 " access_log logs/access.log format json\n}\n"
		 "backend app {\n server a 127.0.0.1:9001\n}\n");
	FILE *f = fopen(conf, "w");
	fputs(text, f);
	fclose(f);
	struct cfg *c = cfg_load(conf, &errs);
	CHECK(c != NULL);
	snprintf(want, sizeof(want), "%s/logs/access.log", tmpdir);
	CHECK(c && same(c->frontends[0]->access_log_path, want));
	cfg_free(c);
	free(errs);

	/* the directory is missing: the error names the file and position */
	f = fopen(conf, "w");
	fputs("frontend web {\n bind 127.0.0.1:8080\n default_backend app\n"
	      "   access_log nologs/access.log\n}\n"
	      "backend app {\n server a 127.0.0.1:9001\n}\n", f);
	fclose(f);
	c = cfg_load(conf, &errs);
	CHECK(c == NULL);
	snprintf(want, sizeof(want),
		 "%s:4:15: error: access log '%s/nologs/access.log': directory '%s/nologs' does "
		 "not exist",
		 conf, tmpdir, tmpdir);
	CHECK(errs && strstr(errs, want));
	if (errs && !strstr(errs, want))
		fprintf(stderr, "  want: %s\n  got:  %s\n", want, errs);
	free(errs);

	/* an existing file that cannot be written */
	snprintf(want, sizeof(want), "%s/logs/ro.log", tmpdir);
	f = fopen(want, "w");
	fclose(f);
	chmod(want, 0400);
	if (geteuid() != 0) {   /* root writes anyway */
		char extra[1100];
		snprintf(extra, sizeof(extra), " access_log %s\n", want);
		char *e = cfg_errs(extra);
		CHECK(strstr(e, "cannot open it for append: Permission denied") != NULL);
		free(e);
	}
	unlink(want);
	unlink(conf);
	snprintf(want, sizeof(want), "%s/logs", tmpdir);
	rmdir(want);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_combined_fields);
	RUN(test_json_fields);
	RUN(test_client_addresses);
	RUN(test_escaping);
	RUN(test_escaping_other_fields);
	RUN(test_long_fields);
	RUN(test_random_input);
	RUN(test_write_file);
	RUN(test_reopen_after_rename);
	RUN(test_stalled_fifo_drops);
	RUN(test_full_disk_counts_lost);
	RUN(test_threads);
	RUN(test_shared_and_stdio_targets);
	RUN(test_open_failure);
	RUN(test_reqid_generate);
	RUN(test_reqid_valid);
	RUN(test_cfg_access_log);
	RUN(test_cfg_relative_path);
	rmdir(tmpdir);
	return UNIT_SUMMARY("test_access_log");
}
