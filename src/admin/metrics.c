/*
 * metrics.c - gatehouse's counters (metrics.h, metrics_int.h) and /metrics,
 * the Prometheus text exposition format 0.0.4.
 *
 * Where the numbers come from:
 *   - per frontend, backend, server: the threads' blocks (metrics_int.h),
 *     filled by the end-phase filters (flt_metrics.c) and a few hooks
 *     (connections open/idle in proxy/session.c and the codecs, the queue
 *     in proxy/queue.c, HTTP/2 streams and resets in proxy/h2_client.c);
 *   - per server: health, ejection, weight, in flight, failures from the
 *     registry (lb/registry.h), which already keeps them as atomics;
 *   - rate limits: limit_table_stats() (limit/limit.h);
 *   - TLS handshakes: tls_stats() (net/tls.h); the WAF: waf_stats().
 *
 * A scrape runs on the admin thread: it walks the generation it was given,
 * finds each name's entry (under the entries' lock) and sums the blocks.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_http.h"
#include "admin/metrics.h"
#include "admin/metrics_int.h"
#include "config/cfg.h"
#include "core/loop.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "limit/limit.h"
#include "net/tls.h"
#include "proxy/stream.h"
#include "proxy/worker.h"
#include "waf/waf.h"

/* The reload's counters (src/control/, branch `reload`) once it is in the
 * tree: gatehouse_config_reloads_total{result}, gatehouse_config_generation. */
#if defined(__has_include)
#if __has_include("control/reload.h")
#include "control/reload.h"
#define MX_HAVE_RELOAD 1
#endif
#endif

/* Bounds in seconds: fine at the low end, where a proxy's latencies are. */
const double mx_lat_bounds[MX_LAT_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
#ifndef GATEHOUSE_VERSION
#define GATEHOUSE_VERSION "0.1.0"   /* as main.c says */
#endif

static const uint64_t lat_bounds_us[MX_LAT_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
	250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

/* ---- entries and thread slots ---------------------------------------- */

static pthread_mutex_t mx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mx_ent *mx_ents;           /* under mx_lock */
static atomic_bool mx_on;

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static bool slot_used[MX_THREADS];       /* under slot_lock */
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static __thread int my_slot = -1;

static void slot_release(void *arg)
{
	int s = (int)(intptr_t)arg - 1;
	pthread_mutex_lock(&slot_lock);
	if (s >= 0 && s < MX_THREADS)
		slot_used[s] = false;
	pthread_mutex_unlock(&slot_lock);
}

static void slot_key_make(void)
{
	pthread_key_create(&slot_key, slot_release);
}

/* This thread's slot: taken on its first count, given back when it ends
 * (a later thread then adds to the same blocks: counters stay). */
static int slot_get(void)
{
	if (my_slot >= 0)
		return my_slot;
	pthread_once(&slot_once, slot_key_make);
	pthread_mutex_lock(&slot_lock);
	for (int i = 0; i < MX_THREADS; i++)
		if (!slot_used[i]) {
			slot_used[i] = true;
			my_slot = i;
			break;
		}
	pthread_mutex_unlock(&slot_lock);
	if (my_slot >= 0)
		pthread_setspecific(slot_key, (void *)(intptr_t)(my_slot + 1));
	return my_slot;
}

static size_t blk_size(enum mx_kind k)
{
	return k == MX_FE ? sizeof(struct mx_fe_w) :
	       k == MX_BE ? sizeof(struct mx_be_w) : sizeof(struct mx_srv_w);
}

void *mx_blk(struct mx_ent *e)
{
	int s = slot_get();
	if (s < 0)
		return NULL;
	void *b = atomic_load_explicit(&e->w[s], memory_order_relaxed);
	if (b)
		return b;
	size_t sz = blk_size(e->kind);
	b = aligned_alloc(64, sz);
	if (!b)
		return NULL;
	memset(b, 0, sz);
	/* release: the scrape that sees the pointer sees the zeroes */
	atomic_store_explicit(&e->w[s], b, memory_order_release);
	return b;
}

void mx_observe(struct mx_hist_w *h, uint64_t us)
{
	int i = 0;
	while (i < MX_LAT_BUCKETS - 1 && us > lat_bounds_us[i])
		i++;
	MX_ADD(h->bucket[i], 1);
	MX_ADD(h->count, 1);
	MX_ADD(h->sum_us, us);
}

/* The entry of kind k named (be_name/)name; made if `make`.  Under mx_lock. */
static struct mx_ent *ent_find(enum mx_kind k, const char *be_name, const char *name, bool make)
{
	for (struct mx_ent *e = mx_ents; e; e = e->next)
		if (e->kind == k && strcmp(e->name, name) == 0 &&
		    (k != MX_SRV || strcmp(e->be_name, be_name) == 0))
			return e;
	if (!make)
		return NULL;
	struct mx_ent *e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name)) || (k == MX_SRV && !(e->be_name = strdup(be_name)))) {
		if (e)
			free(e->name);
		free(e);
		return NULL;
	}
	e->kind = k;
	e->next = mx_ents;
	mx_ents = e;
	return e;
}

void metrics_enable(void)
{
	atomic_store(&mx_on, true);
}

bool metrics_enabled(void)
{
	return atomic_load(&mx_on);
}

const void *metrics_fe_conf(const struct cfg_frontend *cfe)
{
	struct cfg_frontend *fe = (struct cfg_frontend *)cfe;   /* runtime field */
	if (!metrics_enabled())
		return NULL;
	pthread_mutex_lock(&mx_lock);
	fe->mx = ent_find(MX_FE, NULL, fe->name, true);
	pthread_mutex_unlock(&mx_lock);
	/* a TCP frontend counts its connections (the session hooks), no
	 * requests: no filter */
	return fe->mode == MODE_HTTP ? fe->mx : NULL;
}

const void *metrics_be_conf(const struct cfg_backend *cbe)
{
	struct cfg_backend *be = (struct cfg_backend *)cbe;     /* runtime fields */
	if (!metrics_enabled() || be->mode != MODE_HTTP)
		return NULL;
	pthread_mutex_lock(&mx_lock);
	be->mx = ent_find(MX_BE, NULL, be->name, true);
	for (int i = 0; i < be->nservers; i++)
		be->servers[i]->mx = ent_find(MX_SRV, be->name, be->servers[i]->name, true);
	pthread_mutex_unlock(&mx_lock);
	return be->mx;
}

void metrics_free(void)
{
	pthread_mutex_lock(&mx_lock);
	while (mx_ents) {
		struct mx_ent *e = mx_ents;
		mx_ents = e->next;
		for (int i = 0; i < MX_THREADS; i++)
			free(atomic_load(&e->w[i]));
		free(e->name);
		free(e->be_name);
		free(e);
	}
	pthread_mutex_unlock(&mx_lock);
}

/* ---- hooks ------------------------------------------------------------ */

static struct mx_fe_w *fe_blk(const struct cfg_frontend *fe)
{
	return fe && fe->mx ? mx_blk(fe->mx) : NULL;
}

void metrics_conn_open(const struct cfg_frontend *fe)
{
	struct mx_fe_w *b = fe_blk(fe);
	if (b) {
		MX_ADD(b->conns, 1);
		MX_ADD(b->open, 1);
	}
}

void metrics_conn_close(const struct cfg_frontend *fe, bool was_idle)
{
	struct mx_fe_w *b = fe_blk(fe);
	if (b) {
		MX_ADD(b->open, (uint64_t)-1);
		if (was_idle)
			MX_ADD(b->idle, (uint64_t)-1);
	}
}

void metrics_conn_idle(const struct cfg_frontend *fe, bool idle)
{
	struct mx_fe_w *b = fe_blk(fe);
	if (b)
		MX_ADD(b->idle, idle ? 1 : (uint64_t)-1);
}

void metrics_queue(const struct cfg_backend *be, int delta)
{
	struct mx_be_w *b = be && be->mx ? mx_blk(be->mx) : NULL;
	if (b)
		MX_ADD(b->queued, (uint64_t)(int64_t)delta);
}

void metrics_h2_stream(const struct cfg_frontend *fe)
{
	struct mx_fe_w *b = fe_blk(fe);
	if (b)
		MX_ADD(b->h2_streams, 1);
}

void metrics_h2_reset(const struct cfg_frontend *fe)
{
	struct mx_fe_w *b = fe_blk(fe);
	if (b)
		MX_ADD(b->h2_resets, 1);
}

/* ---- summing ---------------------------------------------------------- */

static void hist_add(struct mx_hist *to, const struct mx_hist_w *h)
{
	for (int i = 0; i < MX_LAT_BUCKETS; i++)
		to->bucket[i] += MX_GET(h->bucket[i]);
	to->count += MX_GET(h->count);
	to->sum_us += MX_GET(h->sum_us);
}

struct fe_sum {
	uint64_t req[MX_CLASSES], conns, bytes_in, bytes_out, term[MX_TERMS];
	uint64_t h2_streams, h2_resets;
	int64_t open, idle;
};

struct be_sum {
	uint64_t req[MX_CLASSES], retries, bytes_in, bytes_out;
	int64_t queued;
	struct mx_hist dur, ttfb;
};

struct srv_sum {
	uint64_t req[MX_CLASSES];
	struct mx_hist dur, ttfb;
};

static void fe_sum(const struct mx_ent *e, struct fe_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (int t = 0; e && t < MX_THREADS; t++) {
		struct mx_fe_w *b = atomic_load_explicit(&e->w[t], memory_order_acquire);
		if (!b)
			continue;
		for (int i = 0; i < MX_CLASSES; i++)
			s->req[i] += MX_GET(b->req[i]);
		for (int i = 0; i < MX_TERMS; i++)
			s->term[i] += MX_GET(b->term[i]);
		s->conns += MX_GET(b->conns);
		s->open += (int64_t)MX_GET(b->open);
		s->idle += (int64_t)MX_GET(b->idle);
		s->bytes_in += MX_GET(b->bytes_in);
		s->bytes_out += MX_GET(b->bytes_out);
		s->h2_streams += MX_GET(b->h2_streams);
		s->h2_resets += MX_GET(b->h2_resets);
	}
	/* a thread's open and its idle are each consistent; their sum over
	 * threads read at slightly different times is clamped */
	if (s->open < 0)
		s->open = 0;
	if (s->idle < 0)
		s->idle = 0;
	if (s->idle > s->open)
		s->idle = s->open;
}

static void be_sum(const struct mx_ent *e, struct be_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (int t = 0; e && t < MX_THREADS; t++) {
		struct mx_be_w *b = atomic_load_explicit(&e->w[t], memory_order_acquire);
		if (!b)
			continue;
		for (int i = 0; i < MX_CLASSES; i++)
			s->req[i] += MX_GET(b->req[i]);
		s->retries += MX_GET(b->retries);
		s->bytes_in += MX_GET(b->bytes_in);
		s->bytes_out += MX_GET(b->bytes_out);
		s->queued += (int64_t)MX_GET(b->queued);
		hist_add(&s->dur, &b->dur);
		hist_add(&s->ttfb, &b->ttfb);
	}
	if (s->queued < 0)
		s->queued = 0;
}

static void srv_sum(const struct mx_ent *e, struct srv_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (int t = 0; e && t < MX_THREADS; t++) {
		struct mx_srv_w *b = atomic_load_explicit(&e->w[t], memory_order_acquire);
		if (!b)
			continue;
		for (int i = 0; i < MX_CLASSES; i++)
			s->req[i] += MX_GET(b->req[i]);
		hist_add(&s->dur, &b->dur);
		hist_add(&s->ttfb, &b->ttfb);
	}
}

bool metrics_server_snapshot(const char *backend, const char *server,
			     struct mx_server_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&mx_lock);
	struct mx_ent *e = ent_find(MX_SRV, backend, server, false);
	struct srv_sum s;
	srv_sum(e, &s);
	pthread_mutex_unlock(&mx_lock);
	for (int i = 1; i < MX_CLASSES; i++) {
		out->status[i - 1] = s.req[i];
		out->requests += s.req[i];
	}
	out->errors_5xx = out->status[4];
	out->duration = s.dur;
	out->ttfb = s.ttfb;
	struct server_shared *sh = registry_server(backend, server);
	if (sh) {
		out->in_flight = atomic_load_explicit(&sh->active, memory_order_relaxed);
		out->failures = atomic_load_explicit(&sh->failures, memory_order_relaxed);
	}
	return e || sh;
}

double mx_hist_quantile(const struct mx_hist *h, double q)
{
	if (!h->count)
		return 0;
	double rank = q * (double)h->count, cum = 0, lo = 0;
	for (int i = 0; i < MX_LAT_BUCKETS; i++) {
		double c = (double)h->bucket[i];
		if (c > 0 && cum + c >= rank) {
			if (i == MX_LAT_BUCKETS - 1)   /* +Inf: the highest finite bound */
				return mx_lat_bounds[MX_LAT_BUCKETS - 2];
			return lo + (mx_lat_bounds[i] - lo) * ((rank - cum) / c);
		}
		cum += c;
		if (i < MX_LAT_BUCKETS - 1)
			lo = mx_lat_bounds[i];
	}
	return mx_lat_bounds[MX_LAT_BUCKETS - 2];
}

/* ---- the exposition writer ------------------------------------------- */

struct mxbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* What metrics.h calls struct metrics_out. */
struct metrics_out {
	struct mxbuf b;
};

static void put(struct mxbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		while (cap - b->len <= n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_u64(struct mxbuf *b, uint64_t v)
{
	char t[24];
	int i = sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, t + i, sizeof(t) - (size_t)i);
}

static void put_i64(struct mxbuf *b, int64_t v)
{
	if (v < 0) {
		put(b, "-", 1);
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else
		put_u64(b, (uint64_t)v);
}

/*
 * printf for the exposition, without printf's cost on the lines that are
 * most of a scrape (a scrape is hundreds of them): %s, %llu, %lld, %d and
 * %u are written directly; %g, %.6f and %.17g go through snprintf.  The
 * format attribute keeps the compiler's type checks.
 */
static void __attribute__((format(printf, 2, 3))) out(struct mxbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *f = fmt; *f && !b->oom;) {
		const char *pct = strchr(f, '%');
		if (!pct) {
			put(b, f, strlen(f));
			break;
		}
		put(b, f, (size_t)(pct - f));
		f = pct + 1;
		char t[64];
		int n = -1;
		if (*f == 's') {
			const char *str = va_arg(ap, const char *);
			put(b, str, strlen(str));
			f += 1;
		} else if (strncmp(f, "llu", 3) == 0) {
			put_u64(b, va_arg(ap, unsigned long long));
			f += 3;
		} else if (strncmp(f, "lld", 3) == 0) {
			put_i64(b, va_arg(ap, long long));
			f += 3;
		} else if (*f == 'd') {
			put_i64(b, va_arg(ap, int));
			f += 1;
		} else if (*f == 'u') {
			put_u64(b, va_arg(ap, unsigned));
			f += 1;
		} else if (*f == 'g') {
			n = snprintf(t, sizeof(t), "%g", va_arg(ap, double));
			f += 1;
		} else if (strncmp(f, ".6f", 3) == 0) {
			n = snprintf(t, sizeof(t), "%.6f", va_arg(ap, double));
			f += 3;
		} else if (strncmp(f, ".17g", 4) == 0) {
			n = snprintf(t, sizeof(t), "%.17g", va_arg(ap, double));
			f += 4;
		} else if (*f == '%') {
			put(b, "%", 1);
			f += 1;
		} else {
			b->oom = true;   /* a conversion this writer does not know: a bug */
		}
		if (n > 0 && (size_t)n < sizeof(t))
			put(b, t, (size_t)n);
	}
	va_end(ap);
}

/* A label value, escaped as the format asks (\\, \", \n).  Names are
 * already restricted (cfg_val_name), so this is belt and braces. */
static const char *esc(const char *s, char *buf, size_t cap)
{
	size_t j = 0;
	for (; *s && j + 2 < cap; s++) {
		if (*s == '\\' || *s == '"') {
			buf[j++] = '\\';
			buf[j++] = *s;
		} else if (*s == '\n') {
			buf[j++] = '\\';
			buf[j++] = 'n';
		} else
			buf[j++] = *s;
	}
	buf[j] = '\0';
	return buf;
}

static void family(struct mxbuf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *const class_names[MX_CLASSES] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };

/* The bounds as the `le` label writes them (%g of mx_lat_bounds). */
static const char *const lat_le[MX_LAT_BUCKETS - 1] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
};

/* A histogram's series: `labels` is `a="x",b="y"` (no braces). */
static void hist_out(struct mxbuf *b, const char *name, const char *labels, const struct mx_hist *h)
{
	uint64_t cum = 0;
	for (int i = 0; i < MX_LAT_BUCKETS - 1; i++) {
		cum += h->bucket[i];
		out(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, lat_le[i],
		    (unsigned long long)cum);
	}
	cum += h->bucket[MX_LAT_BUCKETS - 1];
	out(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
	out(b, "%s_sum{%s} %.6f\n", name, labels, (double)h->sum_us / 1e6);
	out(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

#define LBL 512

static void write_frontends(struct mxbuf *b, const struct cfg *c)
{
	int n = c->nfrontends;
	struct fe_sum *s = calloc((size_t)(n ? n : 1), sizeof(*s));
	char e1[LBL];
	if (!s) {
		b->oom = true;
		return;
	}
	/* the generation's entries were bound when its chains were built */
	for (int i = 0; i < n; i++)
		fe_sum(c->frontends[i]->mx, &s[i]);
#define FE_LOOP for (int i = 0; i < n; i++) if (c->frontends[i]->mode == MODE_HTTP)
#define FE_ALL for (int i = 0; i < n; i++)
#define FE_NAME esc(c->frontends[i]->name, e1, sizeof(e1))
	family(b, "gatehouse_frontend_requests_total", "counter",
	       "Requests received, by the class of the status sent (none: no response).");
	FE_LOOP for (int k = 0; k < MX_CLASSES; k++)
		out(b, "gatehouse_frontend_requests_total{frontend=\"%s\",code=\"%s\"} %llu\n",
		    FE_NAME, class_names[k], (unsigned long long)s[i].req[k]);
	family(b, "gatehouse_frontend_connections_total", "counter", "Client connections accepted.");
	FE_ALL out(b, "gatehouse_frontend_connections_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].conns);
	family(b, "gatehouse_frontend_connections", "gauge",
	       "Client connections open: active (a request under way or awaited) or idle "
	       "(keep-alive between requests, HTTP/2 with no stream).");
	FE_ALL {
		out(b, "gatehouse_frontend_connections{frontend=\"%s\",state=\"active\"} %lld\n",
		    FE_NAME, (long long)(s[i].open - s[i].idle));
		out(b, "gatehouse_frontend_connections{frontend=\"%s\",state=\"idle\"} %lld\n",
		    FE_NAME, (long long)s[i].idle);
	}
	family(b, "gatehouse_frontend_bytes_in_total", "counter",
	       "Request bytes received from clients (heads and bodies).");
	FE_LOOP out(b, "gatehouse_frontend_bytes_in_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].bytes_in);
	family(b, "gatehouse_frontend_bytes_out_total", "counter",
	       "Response bytes sent to clients (heads and bodies).");
	FE_LOOP out(b, "gatehouse_frontend_bytes_out_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].bytes_out);
	family(b, "gatehouse_rule_denials_total", "counter",
	       "Requests refused by http_request rules (deny, tarpit).");
	FE_LOOP out(b, "gatehouse_rule_denials_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)(s[i].term[TERM_RULE_DENY] + s[i].term[TERM_TARPIT]));
	family(b, "gatehouse_rate_limited_total", "counter",
	       "Requests refused by a limit (429: rate; 503: concurrency).");
	FE_LOOP {
		out(b, "gatehouse_rate_limited_total{frontend=\"%s\",kind=\"rate\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].term[TERM_RATE_LIMITED]);
		out(b, "gatehouse_rate_limited_total{frontend=\"%s\",kind=\"concurrency\"} %llu\n",
		    FE_NAME, (unsigned long long)s[i].term[TERM_CONN_LIMITED]);
	}
	family(b, "gatehouse_waf_blocked_total", "counter",
	       "Requests refused by the WAF (ambiguous: by its strict decoding check).");
	FE_LOOP {
		out(b, "gatehouse_waf_blocked_total{frontend=\"%s\",reason=\"rules\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].term[TERM_WAF_BLOCKED]);
		out(b, "gatehouse_waf_blocked_total{frontend=\"%s\",reason=\"ambiguous\"} %llu\n",
		    FE_NAME, (unsigned long long)s[i].term[TERM_WAF_AMBIGUOUS]);
	}
	family(b, "gatehouse_frontend_terminations_total", "counter",
	       "Transactions that did not end normally, by cause (the access log's words).");
	FE_LOOP for (int k = 1; k < MX_TERMS; k++) {
		const char *w = strm_term_name((enum strm_term)k);
		if (w && strcmp(w, "-") != 0 && strcmp(w, "?") != 0)
			out(b, "gatehouse_frontend_terminations_total{frontend=\"%s\",cause=\"%s\"} "
			       "%llu\n", FE_NAME, w, (unsigned long long)s[i].term[k]);
	}
	family(b, "gatehouse_h2_streams_total", "counter", "HTTP/2 streams opened by clients.");
	FE_LOOP out(b, "gatehouse_h2_streams_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].h2_streams);
	family(b, "gatehouse_h2_resets_total", "counter", "HTTP/2 streams reset by clients (RST_STREAM).");
	FE_LOOP out(b, "gatehouse_h2_resets_total{frontend=\"%s\"} %llu\n", FE_NAME,
		    (unsigned long long)s[i].h2_resets);
#undef FE_LOOP
#undef FE_ALL
#undef FE_NAME
	free(s);
}

static void write_backends(struct mxbuf *b, const struct cfg *c)
{
	int n = c->nbackends;
	struct be_sum *s = calloc((size_t)(n ? n : 1), sizeof(*s));
	char e1[LBL], e2[LBL], lb[2 * LBL + 32];
	if (!s) {
		b->oom = true;
		return;
	}
	for (int i = 0; i < n; i++)
		be_sum(c->backends[i]->mx, &s[i]);
#define BE_LOOP for (int i = 0; i < n; i++) if (c->backends[i]->mode == MODE_HTTP)
#define BE_NAME esc(c->backends[i]->name, e1, sizeof(e1))
	family(b, "gatehouse_backend_requests_total", "counter",
	       "Requests routed to the backend, by the class of the status sent.");
	BE_LOOP for (int k = 0; k < MX_CLASSES; k++)
		out(b, "gatehouse_backend_requests_total{backend=\"%s\",code=\"%s\"} %llu\n", BE_NAME,
		    class_names[k], (unsigned long long)s[i].req[k]);
	family(b, "gatehouse_backend_request_duration_seconds", "histogram",
	       "Request duration, from its first byte to the end of the response.");
	BE_LOOP {
		snprintf(lb, sizeof(lb), "backend=\"%s\"", BE_NAME);
		hist_out(b, "gatehouse_backend_request_duration_seconds", lb, &s[i].dur);
	}
	family(b, "gatehouse_backend_ttfb_seconds", "histogram",
	       "Time to first byte: from the request's first byte to the response's.");
	BE_LOOP {
		snprintf(lb, sizeof(lb), "backend=\"%s\"", BE_NAME);
		hist_out(b, "gatehouse_backend_ttfb_seconds", lb, &s[i].ttfb);
	}
	family(b, "gatehouse_backend_retries_total", "counter", "Requests sent again (retries).");
	BE_LOOP out(b, "gatehouse_backend_retries_total{backend=\"%s\"} %llu\n", BE_NAME,
		    (unsigned long long)s[i].retries);
	family(b, "gatehouse_backend_bytes_in_total", "counter",
	       "Request bytes received from clients for this backend.");
	BE_LOOP out(b, "gatehouse_backend_bytes_in_total{backend=\"%s\"} %llu\n", BE_NAME,
		    (unsigned long long)s[i].bytes_in);
	family(b, "gatehouse_backend_bytes_out_total", "counter",
	       "Response bytes sent to clients from this backend.");
	BE_LOOP out(b, "gatehouse_backend_bytes_out_total{backend=\"%s\"} %llu\n", BE_NAME,
		    (unsigned long long)s[i].bytes_out);
	family(b, "gatehouse_backend_queue_depth", "gauge",
	       "Requests waiting for a server slot (maxconn).");
	BE_LOOP out(b, "gatehouse_backend_queue_depth{backend=\"%s\"} %lld\n", BE_NAME,
		    (long long)s[i].queued);
#undef BE_LOOP
	free(s);

	/* servers: the file's, then those the API added (registry) */
	int ns = 0;
	for (int i = 0; i < n; i++)
		ns += c->backends[i]->nservers + LB_ADDED_MAX;
	struct srv_sum *ss = calloc((size_t)(ns ? ns : 1), sizeof(*ss));
	struct server_shared **shs = calloc((size_t)(ns ? ns : 1), sizeof(*shs));
	struct cfg_server **svs = calloc((size_t)(ns ? ns : 1), sizeof(*svs));
	int *bes = calloc((size_t)(ns ? ns : 1), sizeof(*bes));
	if (!ss || !shs || !svs || !bes) {
		free(ss);
		free(shs);
		free(svs);
		free(bes);
		b->oom = true;
		return;
	}
	ns = 0;
	for (int i = 0; i < n; i++) {
		const struct cfg_backend *be = c->backends[i];
		for (int j = 0; j < be->nservers; j++, ns++) {
			svs[ns] = be->servers[j];
			bes[ns] = i;
			/* one registry lookup per server for the scrape */
			shs[ns] = registry_server(be->name, be->servers[j]->name);
		}
		int added = registry_added_servers(be, svs + ns, shs + ns, LB_ADDED_MAX);
		for (int j = 0; j < added; j++, ns++)
			bes[ns] = i;
	}
	for (int k = 0; k < ns; k++)
		srv_sum(svs[k]->mx, &ss[k]);
#define SV_LOOP for (int k = 0, i = 0; k < ns && (i = bes[k], 1); k++)
#define SV_LBL (snprintf(lb, sizeof(lb), "backend=\"%s\",server=\"%s\"", BE_NAME, \
			 esc(svs[k]->name, e2, sizeof(e2))), lb)
#define SV_SH shs[k]
	family(b, "gatehouse_server_requests_total", "counter",
	       "Requests that ended on this server, by the class of the status sent.");
	SV_LOOP if (c->backends[i]->mode == MODE_HTTP) {
		const char *l = SV_LBL;
		for (int q = 0; q < MX_CLASSES; q++)
			out(b, "gatehouse_server_requests_total{%s,code=\"%s\"} %llu\n", l,
			    class_names[q], (unsigned long long)ss[k].req[q]);
	}
	family(b, "gatehouse_server_request_duration_seconds", "histogram",
	       "Request duration on this server, from the request's first byte to the end.");
	SV_LOOP if (c->backends[i]->mode == MODE_HTTP)
		hist_out(b, "gatehouse_server_request_duration_seconds", SV_LBL, &ss[k].dur);
	free(ss);

	uint64_t now = loop_clock_ms();
	struct {
		const char *name, *type, *help;
	} fams[] = {
		{ "gatehouse_server_up", "gauge",
		  "1 when active health checks find the server up (always 1 without checks)." },
		{ "gatehouse_server_ejected", "gauge", "1 while outlier detection ejects the server." },
		{ "gatehouse_server_ejections_total", "counter", "Times the server was ejected." },
		{ "gatehouse_server_failures_total", "counter",
		  "Connect failures, timeouts and 5xx seen from the server." },
		{ "gatehouse_server_in_flight", "gauge", "Requests in flight to the server." },
		{ "gatehouse_server_weight", "gauge", "The server's live weight." },
		{ "gatehouse_server_draining", "gauge", "1 while the server is set to drain." },
	};
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(b, fams[f].name, fams[f].type, fams[f].help);
		SV_LOOP {
			struct server_shared *sh = SV_SH;
			if (!sh)
				continue;
			long long v = 0;
			switch (f) {
			case 0: v = atomic_load(&sh->health) == SRV_UP; break;
			case 1: v = atomic_load(&sh->ejected_until_ms) > now; break;
			case 2: v = atomic_load(&sh->ejections); break;
			case 3: v = (long long)atomic_load(&sh->failures); break;
			case 4: v = atomic_load(&sh->active); break;
			case 5: v = atomic_load(&sh->weight); break;
			default: v = atomic_load(&sh->admin_drain) != 0; break;
			}
			out(b, "%s{%s} %lld\n", fams[f].name, SV_LBL, v);
		}
	}
	free(shs);
	free(svs);
	free(bes);
#undef SV_LOOP
#undef SV_LBL
#undef SV_SH
#undef BE_NAME
}

static void write_limits(struct mxbuf *b, const struct cfg *c)
{
	char e1[LBL];
	if (!c->nlimits)
		return;
	struct limit_stats *st = calloc((size_t)c->nlimits, sizeof(*st));
	if (!st) {
		b->oom = true;
		return;
	}
	for (int i = 0; i < c->nlimits; i++)
		if (c->limits[i]->table)
			limit_table_stats(c->limits[i]->table, &st[i]);
#define LM_NAME esc(c->limits[i]->name, e1, sizeof(e1))
	family(b, "gatehouse_limit_requests_total", "counter",
	       "Requests a limit judged, by verdict (passed includes delayed).");
	for (int i = 0; i < c->nlimits; i++) {
		out(b, "gatehouse_limit_requests_total{limit=\"%s\",verdict=\"passed\"} %llu\n",
		    LM_NAME, (unsigned long long)st[i].passed);
		out(b, "gatehouse_limit_requests_total{limit=\"%s\",verdict=\"delayed\"} %llu\n",
		    LM_NAME, (unsigned long long)st[i].delayed);
		out(b, "gatehouse_limit_requests_total{limit=\"%s\",verdict=\"refused_rate\"} %llu\n",
		    LM_NAME, (unsigned long long)st[i].refused_rate);
		out(b, "gatehouse_limit_requests_total{limit=\"%s\",verdict=\"refused_concurrent\"} "
		       "%llu\n", LM_NAME, (unsigned long long)st[i].refused_concurrent);
		out(b, "gatehouse_limit_requests_total{limit=\"%s\",verdict=\"refused_full\"} %llu\n",
		    LM_NAME, (unsigned long long)st[i].refused_full);
	}
	family(b, "gatehouse_limit_keys", "gauge", "Keys a limit holds now.");
	for (int i = 0; i < c->nlimits; i++)
		out(b, "gatehouse_limit_keys{limit=\"%s\"} %llu\n", LM_NAME,
		    (unsigned long long)st[i].keys);
	family(b, "gatehouse_limit_in_use", "gauge", "Concurrency places held now.");
	for (int i = 0; i < c->nlimits; i++)
		out(b, "gatehouse_limit_in_use{limit=\"%s\"} %llu\n", LM_NAME,
		    (unsigned long long)st[i].in_use);
#undef LM_NAME
	free(st);
}

static struct {
	void (*fn)(struct metrics_out *o, void *arg);
	void *arg;
} writers[16];
static _Atomic int nwriters;

int metrics_register(void (*fn)(struct metrics_out *o, void *arg), void *arg)
{
	int n = atomic_load(&nwriters);
	if (n >= 16)
		return -1;
	writers[n].fn = fn;
	writers[n].arg = arg;
	atomic_store(&nwriters, n + 1);
	return 0;
}

void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *help)
{
	family(&o->b, name, type, help);
}

void metrics_sample(struct metrics_out *o, const char *name, const char *labels, double v)
{
	if (labels && *labels)
		out(&o->b, "%s{%s} %.17g\n", name, labels, v);
	else
		out(&o->b, "%s %.17g\n", name, v);
}

void metrics_bind_server(struct cfg_server *sv, const char *backend)
{
	pthread_mutex_lock(&mx_lock);
	sv->mx = ent_find(MX_SRV, backend, sv->name, true);
	pthread_mutex_unlock(&mx_lock);
}

static void write_process(struct mxbuf *b, const struct cfg *c)
{
	struct tls_stats ts;
	tls_stats(&ts);
	family(b, "gatehouse_tls_handshakes_total", "counter",
	       "TLS handshakes, with clients (frontend) and servers (backend), by result.");
	out(b, "gatehouse_tls_handshakes_total{side=\"frontend\",result=\"ok\"} %llu\n",
	    (unsigned long long)ts.accept_ok);
	out(b, "gatehouse_tls_handshakes_total{side=\"frontend\",result=\"failed\"} %llu\n",
	    (unsigned long long)ts.accept_failed);
	out(b, "gatehouse_tls_handshakes_total{side=\"backend\",result=\"ok\"} %llu\n",
	    (unsigned long long)ts.connect_ok);
	out(b, "gatehouse_tls_handshakes_total{side=\"backend\",result=\"failed\"} %llu\n",
	    (unsigned long long)ts.connect_failed);
	if (c->nwafs) {
		char e1[LBL];
		family(b, "gatehouse_waf_inspections_total", "counter",
		       "Inspections by ModSecurity (requests and responses the pre-filter did "
		       "not clear alone), per WAF.");
		for (int i = 0; i < c->nwafs; i++) {
			struct waf_stats ws = { 0 };
			waf_stats(c->wafs[i]->rt, &ws);
			out(b, "gatehouse_waf_inspections_total{waf=\"%s\"} %llu\n",
			    esc(c->wafs[i]->name, e1, sizeof(e1)), (unsigned long long)ws.inspected);
		}
	}
#ifdef MX_HAVE_RELOAD
	struct reload_stats rl = reload_stats();
	family(b, "gatehouse_config_reloads_total", "counter",
	       "Configuration reloads, applied (ok) or refused (error).");
	out(b, "gatehouse_config_reloads_total{result=\"ok\"} %llu\n", (unsigned long long)rl.ok);
	out(b, "gatehouse_config_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)rl.error);
	family(b, "gatehouse_config_generation", "gauge", "The running configuration's generation.");
	out(b, "gatehouse_config_generation %u\n", rl.generation);
#endif
	family(b, "gatehouse_connections", "gauge", "Client connections open, all frontends.");
	out(b, "gatehouse_connections %d\n", atomic_load(&g_conns));
}

bool admin_metrics(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c)
{
	if (strcmp(rq->path, "/metrics") != 0)
		return false;
	rs->ctype = "application/json";
	if (strcmp(rq->method, "GET") != 0) {
		static const char e[] = "{\"error\":\"method not allowed\",\"status\":405}\n";
		rs->status = 405;
		rs->body = (char *)e;
		rs->len = sizeof(e) - 1;
		rs->body_static = true;
		return true;
	}
	struct mxbuf b = { 0 };
	family(&b, "gatehouse_build_info", "gauge", "Always 1; the version as a label.");
	out(&b, "gatehouse_build_info{version=\"%s\"} 1\n", GATEHOUSE_VERSION);
	write_frontends(&b, c);
	write_backends(&b, c);
	write_limits(&b, c);
	write_process(&b, c);
	struct metrics_out o = { b };
	for (int i = 0; i < atomic_load(&nwriters); i++)
		writers[i].fn(&o, writers[i].arg);
	b = o.b;
	if (b.oom) {
		free(b.p);
		static const char e[] = "{\"error\":\"out of memory\",\"status\":500}\n";
		rs->status = 500;
		rs->body = (char *)e;
		rs->len = sizeof(e) - 1;
		rs->body_static = true;
		return true;
	}
	rs->status = 200;
	rs->ctype = "text/plain; version=0.0.4; charset=utf-8";
	rs->body = b.p;
	rs->len = b.len;
	return true;
}
