/*
 * api.c - the runtime API under /api/ (admin_http.h's admin_api()):
 *
 *   GET    /api/backends                    every backend with its servers
 *   GET    /api/backends/NAME               one backend
 *   GET    /api/backends/NAME/servers/SRV   one server
 *   PUT    /api/backends/NAME/servers/SRV   {"weight": N} and/or
 *                                           {"state": "ready"|"drain"|"disabled"}
 *   POST   /api/backends/NAME/servers       {"name": ..., "address": ..., "weight": N}
 *   DELETE /api/backends/NAME/servers/SRV   stop new requests, gone once none is in flight
 *   POST   /api/reload                      reload the file: the new generation or the errors
 *
 * Other modules add their own endpoints with api_register() (api.h):
 * /api/caches is cache/cache_api.c.  This file names no feature.
 *
 * What it reads and writes is the registry's shared runtime state of each
 * server (lb/registry.h: live weight, drain, disabled, removed; health,
 * ejection and in-flight counts written by others) and the metrics'
 * per-server snapshot (admin/metrics.h: requests, statuses, latency).  The
 * configuration is only read.  Changes take effect on the workers' next
 * pick: they read those atomics; a server added here reaches each
 * worker's own balancing state through its mailbox (MB_LB_SYNC ->
 * lb_backend_sync on the worker's thread), and lives until the next
 * reload, which drops it and says so (registry_sync).
 *
 * Answers are JSON; errors are {"error": "..."} with 400 (bad input), 404
 * (unknown backend, server or endpoint), 405 (method), 409 (conflict with
 * the configuration or the current state), 503 (no reload possible now).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "admin/admin_http.h"
#include "admin/api.h"
#include "admin/json.h"
#include "admin/metrics.h"
#include "config/cfg.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "control/reload.h"
#include "proxy/worker.h"

#define API_NAME_MAX 64          /* a server name added through the API */
#define API_SEGS 6

/* ---- answers ---- */

bool api_reply(struct admin_resp *rs, int status, struct jw *w)
{
	size_t len;
	char *body = jw_finish(w, &len);

	rs->ctype = "application/json";
	rs->body_static = false;
	if (!body) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		rs->status = 500;
		rs->body = (char *)oom;
		rs->len = sizeof(oom) - 1;
		rs->body_static = true;
		return true;
	}
	rs->status = status;
	rs->body = body;
	rs->len = len;
	return true;
}

bool api_error(struct admin_resp *rs, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	struct jw w;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "error", msg);
	jw_kint(&w, "status", status);   /* as the listener's own errors */
	jw_obj_end(&w);
	return api_reply(rs, status, &w);
}

bool api_method_not_allowed(struct admin_resp *rs, const struct admin_req *rq,
			       const char *allowed)
{
	return api_error(rs, 405, "method %s not allowed on %s; allowed: %s", rq->method,
			   rq->path, allowed);
}

/* ---- the path ---- */

/*
 * Splits path (after "/api/") into at most API_SEGS segments, each
 * percent-decoded into buf; a decoded segment may not hold '/' or NUL, nor
 * be empty (no "//", no trailing '/').  Returns the count, or -1.
 */
static int split_path(const char *path, char *buf, size_t size, char **seg)
{
	int n = 0;
	size_t o = 0;
	const char *p = path;

	while (*p) {
		if (n == API_SEGS)
			return -1;
		seg[n++] = buf + o;
		size_t start = o;
		for (; *p && *p != '/'; p++) {
			char c = *p;
			if (c == '%') {
				int h = hex_digit(p[1]), l = h >= 0 ? hex_digit(p[2]) : -1;
				if (l < 0)
					return -1;
				c = (char)(h * 16 + l);
				if (c == '/' || c == '\0')
					return -1;
				p += 2;
			}
			if (o + 2 > size)
				return -1;
			buf[o++] = c;
		}
		if (o == start)
			return -1;
		buf[o++] = '\0';
		if (*p == '/' && !*++p)
			return -1;   /* trailing slash */
	}
	return n;
}

/* ---- servers and their state ---- */

/* One server of a backend as the API sees it. */
struct api_srv {
	const struct cfg_backend *be;
	const struct cfg_server *cs;
	struct server_shared *sh;    /* never NULL once found */
	bool added;                  /* through the API, until the next reload */
};

static bool srv_removed(const struct api_srv *v)
{
	return atomic_load(&v->sh->removed) != 0;
}

/* Removed and nothing left in flight: no longer shown. */
static bool srv_gone(const struct api_srv *v)
{
	return srv_removed(v) && atomic_load(&v->sh->active) == 0;
}

static bool srv_ejected(const struct server_shared *sh, uint64_t now)
{
	uint64_t until = atomic_load(&sh->ejected_until_ms);
	return until && until > now;
}

static const char *srv_admin_state(const struct api_srv *v)
{
	if (v->cs->disabled || atomic_load(&v->sh->admin_disabled))
		return "disabled";
	if (atomic_load(&v->sh->admin_drain))
		return "drain";
	return "ready";
}

/* What the dashboard colours: removing, disabled, drain, down or up. */
static const char *srv_state(const struct api_srv *v, uint64_t now)
{
	if (srv_removed(v))
		return "removing";
	const char *a = srv_admin_state(v);
	if (strcmp(a, "ready") != 0)
		return a;
	if (atomic_load(&v->sh->health) != SRV_UP || srv_ejected(v->sh, now))
		return "down";
	return "up";
}

static const char *health_kind_name(enum health_kind k)
{
	switch (k) {
	case HEALTH_TCP: return "tcp";
	case HEALTH_HTTP: return "http";
	case HEALTH_GRPC: return "grpc";
	case HEALTH_NONE: break;
	}
	return "none";
}

static const char *balance_name(enum lb_algo a)
{
	switch (a) {
	case LB_LEASTCONN: return "leastconn";
	case LB_RANDOM: return "random";
	case LB_EWMA: return "ewma";
	case LB_HASH: return "hash";
	case LB_ROUNDROBIN: break;
	}
	return "roundrobin";
}

static void write_hist(struct jw *w, const char *key, const struct mx_hist *h)
{
	jw_key(w, key);
	jw_obj(w);
	jw_kuint(w, "count", h->count);
	jw_knum(w, "sum_ms", (double)h->sum_us / 1000.0);
	jw_knum(w, "p50_ms", mx_hist_quantile(h, 0.50) * 1000.0);
	jw_knum(w, "p99_ms", mx_hist_quantile(h, 0.99) * 1000.0);
	jw_key(w, "buckets");
	jw_arr(w);
	for (int i = 0; i < MX_LAT_BUCKETS; i++)
		jw_uint(w, h->bucket[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void write_server(struct jw *w, const struct api_srv *v, uint64_t now)
{
	const struct cfg_server *cs = v->cs;
	const struct server_shared *sh = v->sh;
	const struct cfg_health *hc = &v->be->health;
	struct mx_server_snapshot snap;

	metrics_server_snapshot(v->be->name, cs->name, &snap);
	jw_obj(w);
	jw_kstr(w, "name", cs->name);
	jw_kstr(w, "address", cs->addr.text);
	jw_kstr(w, "state", srv_state(v, now));
	jw_kstr(w, "admin_state", srv_admin_state(v));
	jw_kint(w, "weight", atomic_load(&sh->weight));
	jw_kint(w, "config_weight", cs->weight);
	jw_kbool(w, "backup", cs->backup);
	jw_kint(w, "maxconn", cs->maxconn);
	jw_kbool(w, "added", v->added);
	jw_kuint(w, "in_flight", atomic_load(&sh->active));
	jw_kuint(w, "requests", snap.requests);
	jw_key(w, "responses");
	jw_obj(w);
	static const char *const cls[5] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
	for (int i = 0; i < 5; i++)
		jw_kuint(w, cls[i], snap.status[i]);
	jw_obj_end(w);
	jw_kuint(w, "errors_5xx", snap.errors_5xx);
	jw_kuint(w, "failures", snap.failures);
	jw_kuint(w, "sent", atomic_load(&sh->requests));
	write_hist(w, "latency", &snap.duration);
	write_hist(w, "ttfb", &snap.ttfb);

	jw_key(w, "health");
	jw_obj(w);
	bool checked = hc->kind != HEALTH_NONE && !cs->disabled;   /* added ones too */
	jw_kstr(w, "checks", checked ? health_kind_name(hc->kind) : "none");
	jw_kstr(w, "status", atomic_load(&sh->health) == SRV_UP ? "up" : "down");
	uint64_t since = atomic_load(&sh->up_since_ms);
	if (since)
		jw_kuint(w, "up_for_ms", now > since ? now - since : 0);
	jw_kuint(w, "consecutive_errors", atomic_load(&sh->consecutive_errors));
	jw_kbool(w, "ejected", srv_ejected(sh, now));
	if (srv_ejected(sh, now))
		jw_kuint(w, "ejected_for_ms", atomic_load(&sh->ejected_until_ms) - now);
	jw_kuint(w, "ejections", atomic_load(&sh->ejections));
	uint64_t ewma = atomic_load(&sh->ewma_ns);
	if (ewma)
		jw_knum(w, "ewma_ms", (double)ewma / 1e6);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* The servers of be (the file's, then those added), gone ones skipped:
 * calls fn for each until it returns true. */
static bool each_server(const struct cfg_backend *be,
			bool (*fn)(const struct api_srv *v, void *arg), void *arg)
{
	for (int i = 0; i < be->nservers; i++) {
		struct api_srv v = { be, be->servers[i], registry_server(be->name,
									 be->servers[i]->name),
				     false };
		if (v.sh && !srv_gone(&v) && fn(&v, arg))
			return true;
	}
	struct cfg_server *cs[LB_ADDED_MAX];
	struct server_shared *sh[LB_ADDED_MAX];
	int n = registry_added_servers(be, cs, sh, LB_ADDED_MAX);
	for (int i = 0; i < n; i++) {
		struct api_srv v = { be, cs[i], sh[i], true };
		if (!srv_gone(&v) && fn(&v, arg))
			return true;
	}
	return false;
}

struct find_arg {
	const char *name;
	struct api_srv found;
};

static bool find_cb(const struct api_srv *v, void *arg)
{
	struct find_arg *f = arg;
	if (strcmp(v->cs->name, f->name) != 0)
		return false;
	f->found = *v;
	return true;
}

static bool find_server(const struct cfg_backend *be, const char *name, struct api_srv *out)
{
	struct find_arg f = { .name = name };
	if (!each_server(be, find_cb, &f))
		return false;
	*out = f.found;
	return true;
}

struct write_arg {
	struct jw *w;
	uint64_t now;
};

static bool write_cb(const struct api_srv *v, void *arg)
{
	struct write_arg *a = arg;
	write_server(a->w, v, a->now);
	return false;
}

static void write_backend(struct jw *w, const struct cfg_backend *be, uint64_t now)
{
	jw_obj(w);
	jw_kstr(w, "name", be->name);
	jw_kstr(w, "mode", be->mode == MODE_TCP ? "tcp" : "http");
	jw_kstr(w, "balance", balance_name(be->balance));
	jw_key(w, "health_checks");
	jw_obj(w);
	jw_kstr(w, "kind", health_kind_name(be->health.kind));
	if (be->health.kind != HEALTH_NONE) {
		if (be->health.path)
			jw_kstr(w, "path", be->health.path);
		jw_kuint(w, "interval_ms", be->health.interval_ms);
		jw_kuint(w, "timeout_ms", be->health.timeout_ms);
		jw_kint(w, "rise", be->health.rise);
		jw_kint(w, "fall", be->health.fall);
	}
	jw_obj_end(w);
	jw_kbool(w, "outlier_detection", be->outlier.enabled);
	struct backend_shared *bsh = registry_backend(be->name);
	if (bsh)
		jw_knum(w, "retry_budget",
			(double)atomic_load(&bsh->retry_tokens_milli) / 1000.0);
	jw_key(w, "servers");
	jw_arr(w);
	struct write_arg a = { w, now };
	each_server(be, write_cb, &a);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void write_bounds(struct jw *w)
{
	jw_key(w, "latency_bounds_ms");
	jw_arr(w);
	for (int i = 0; i < MX_LAT_BUCKETS - 1; i++)
		jw_num(w, mx_lat_bounds[i] * 1000.0);
	jw_arr_end(w);
}

/* ---- handlers ---- */

static bool get_backends(struct admin_resp *rs, const struct cfg *c)
{
	struct jw w;
	uint64_t now = loop_clock_ms();

	jw_init(&w);
	jw_obj(&w);
	jw_kuint(&w, "now_ms", now);
	write_bounds(&w);
	jw_key(&w, "backends");
	jw_arr(&w);
	for (int b = 0; b < c->nbackends; b++)
		write_backend(&w, c->backends[b], now);
	jw_arr_end(&w);
	jw_obj_end(&w);
	return api_reply(rs, 200, &w);
}

static bool get_backend(struct admin_resp *rs, const struct cfg_backend *be)
{
	struct jw w;
	uint64_t now = loop_clock_ms();

	jw_init(&w);
	jw_obj(&w);
	jw_kuint(&w, "now_ms", now);
	write_bounds(&w);
	jw_key(&w, "backend");
	write_backend(&w, be, now);
	jw_obj_end(&w);
	return api_reply(rs, 200, &w);
}

static bool answer_server(struct admin_resp *rs, int status, const struct api_srv *v)
{
	struct jw w;
	jw_init(&w);
	write_server(&w, v, loop_clock_ms());
	return api_reply(rs, status, &w);
}

/* Parses rq's body as a JSON object into doc; false after answering 400. */
bool api_body_json(const struct admin_req *rq, struct admin_resp *rs, struct json_doc *doc)
{
	char err[200];
	if (json_parse(doc, rq->body ? rq->body : "", rq->body_len, err, sizeof(err)) < 0) {
		api_error(rs, 400, "invalid JSON body: %s", err);
		return false;
	}
	return true;
}

/* Every member of o is one of the names in `known` (NULL-terminated);
 * false after answering 400. */
bool api_only_fields(struct admin_resp *rs, const struct json_doc *d, const struct json_val *o,
			const char *const *known, const char *expected)
{
	for (const struct json_val *m = json_first(d, o); m; m = json_next(d, m)) {
		bool ok = false;
		for (int i = 0; known[i] && !ok; i++)
			ok = strcmp(m->key, known[i]) == 0;
		if (!ok) {
			api_error(rs, 400, "unknown field \"%.64s\"; expected %s", m->key,
				    expected);
			return false;
		}
	}
	return true;
}

/* "weight": an integer 0..256 (as the file's `weight`); false after
 * answering 400. */
static bool weight_value(struct admin_resp *rs, const struct json_val *v, int *out)
{
	if (v->type != JSON_NUM || !v->is_int || v->i < 0 || v->i > 256) {
		api_error(rs, 400, "\"weight\" must be an integer from 0 to 256");
		return false;
	}
	*out = (int)v->i;
	return true;
}

/* Every worker re-reads its backends' servers (MB_LB_SYNC).  A full
 * mailbox refuses the message; the change must not be lost, so it is
 * posted again, a millisecond apart, for up to a second (a worker drains
 * its mailbox every loop turn; the message is idempotent). */
static void lb_sync_all(void)
{
	for (int i = 0; i < 1000; i++) {
		if (workers_broadcast((struct mb_msg){ .kind = MB_LB_SYNC }) == 0)
			return;
		struct timespec d = { 0, 1000000 };
		nanosleep(&d, NULL);
	}
	log_err("admin API: a worker's mailbox stayed full; it adopts the change with the "
		"next one");
}

static bool put_server(const struct admin_req *rq, struct admin_resp *rs, const struct api_srv *v)
{
	static const char *const known[] = { "weight", "state", NULL };
	struct json_doc d;

	if (!api_body_json(rq, rs, &d))
		return true;
	const struct json_val *r = json_root(&d);
	const struct json_val *jw_ = json_get(&d, r, "weight");
	const struct json_val *js = json_get(&d, r, "state");
	int weight = -1;
	const char *state = NULL;
	if (!api_only_fields(rs, &d, r, known, "weight and/or state"))
		goto out;
	if (!jw_ && !js) {
		api_error(rs, 400, "nothing to change: expected {\"weight\": N} and/or "
				     "{\"state\": \"ready\"|\"drain\"|\"disabled\"}");
		goto out;
	}
	if (jw_ && !weight_value(rs, jw_, &weight))
		goto out;
	if (js) {
		if (js->type == JSON_STR && (!strcmp(js->s, "ready") || !strcmp(js->s, "drain") ||
					     !strcmp(js->s, "disabled")))
			state = js->s;
		if (!state) {
			api_error(rs, 400,
				    "\"state\" must be \"ready\", \"drain\" or \"disabled\"");
			goto out;
		}
		if (v->cs->disabled && strcmp(state, "disabled") != 0) {
			api_error(rs, 409, "server %s of backend %s is disabled in the "
				    "configuration (no health checks run for it); enable it there "
				    "and reload",
				    v->cs->name, v->be->name);
			goto out;
		}
	}
	/* Checked whole before anything changes: a 400 changes nothing. */
	if (state) {
		atomic_store(&v->sh->admin_drain, strcmp(state, "drain") == 0);
		atomic_store(&v->sh->admin_disabled, strcmp(state, "disabled") == 0);
	}
	if (weight >= 0) {
		atomic_store(&v->sh->weight, weight);
		lb_sync_all();   /* hash rings are built from the weights */
	}
	answer_server(rs, 200, v);
out:
	json_free(&d);
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > API_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool addr_is_any(const struct cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

static bool post_server(const struct admin_req *rq, struct admin_resp *rs,
			const struct cfg_backend *be)
{
	static const char *const known[] = { "name", "address", "weight", NULL };
	struct json_doc d;
	struct cfg_server *cs = NULL;

	if (!api_body_json(rq, rs, &d))
		return true;
	const struct json_val *r = json_root(&d);
	const struct json_val *jn = json_get(&d, r, "name");
	const struct json_val *ja = json_get(&d, r, "address");
	const struct json_val *jwt = json_get(&d, r, "weight");
	int weight = 1;
	if (!api_only_fields(rs, &d, r, known, "name, address and weight"))
		goto out;
	if (!jn || jn->type != JSON_STR || !name_ok(jn->s)) {
		api_error(rs, 400, "\"name\" must be a string of 1 to %d letters, digits, '-', "
				     "'_' or '.'", API_NAME_MAX);
		goto out;
	}
	if (!ja || ja->type != JSON_STR) {
		api_error(rs, 400, "\"address\" must be a string such as \"127.0.0.1:9004\"");
		goto out;
	}
	if (jwt && !weight_value(rs, jwt, &weight))
		goto out;
	for (int i = 0; i < be->nservers; i++)
		if (be->servers[i]->tls) {
			api_error(rs, 409, "backend %s re-encrypts to its servers (tls); servers "
					     "added at run time speak plain TCP only", be->name);
			goto out;
		}
	cs = calloc(1, sizeof(*cs));
	if (!cs || !(cs->name = strdup(jn->s))) {
		api_error(rs, 500, "out of memory");
		goto out;
	}
	if (cfg_parse_addr(ja->s, &cs->addr) < 0 || addr_is_any(&cs->addr) ||
	    !cs->addr.ss.ss_family) {
		api_error(rs, 400, "\"address\": cannot use \"%.200s\"; expected IP:PORT, "
				     "[IPv6]:PORT, HOST:PORT or unix@PATH", ja->s);
		goto out;
	}
	/* As the file's server lines would get it (cfg_deploy.c's
	 * check_server): the backend's source and keepalive, its protocol. */
	cs->weight = weight;
	cs->backend = (struct cfg_backend *)be;
	cs->index = be->nservers;   /* past the file's: see registry_server_add */
	cs->keepalive = be->keepalive;
	if (cs->addr.ss.ss_family != AF_UNIX &&
	    (be->source.kind != SOURCE_ADDR || be->source.ss.ss_family == cs->addr.ss.ss_family))
		cs->source = be->source;
	/* The backend speaks one protocol (cfg_check.c), so does the new one;
	 * an origin that expects a PROXY header gets it from it too. */
	cs->proto = be->nservers ? be->servers[0]->proto : SRV_PROTO_H1;
	cs->send_proxy = be->nservers ? be->servers[0]->send_proxy : 0;
	metrics_bind_server(cs, be->name);   /* counted like the file's servers */
	int rc = registry_server_add(be, cs, LB_ADDED_MAX);
	if (rc == -EEXIST) {
		struct api_srv v;
		bool shown = find_server(be, cs->name, &v);
		api_error(rs, 409, "backend %s already has a server %s%s", be->name, cs->name,
			    shown ? "" :
				    " (removed: the name is free again after the next reload)");
		goto out;
	}
	if (rc == -ESTALE) {
		api_error(rs, 409, "a reload made a new configuration current meanwhile; "
				     "send the request again");
		goto out;
	}
	if (rc == -ENOSPC) {
		api_error(rs, 409, "backend %s has %d servers added at run time already, the "
				     "most until the next reload", be->name, LB_ADDED_MAX);
		goto out;
	}
	if (rc < 0) {
		api_error(rs, rc == -ENOENT ? 404 : 500, "cannot add the server: %s",
			    strerror(-rc));
		goto out;
	}
	const char *name = cs->name;
	cs = NULL;   /* the registry's now */
	lb_sync_all();
	struct api_srv v;
	if (find_server(be, name, &v))
		answer_server(rs, 201, &v);
	else
		api_error(rs, 500, "server added but not found");
out:
	if (cs) {
		free(cs->addr.text);
		free(cs->name);
		free(cs);
	}
	json_free(&d);
	return true;
}

static bool delete_server(struct admin_resp *rs, const struct api_srv *v)
{
	atomic_store(&v->sh->removed, 1);
	struct jw w;
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "backend", v->be->name);
	jw_kstr(&w, "server", v->cs->name);
	uint32_t active = atomic_load(&v->sh->active);
	jw_kstr(&w, "state", active ? "removing" : "removed");
	jw_kuint(&w, "in_flight", active);
	jw_kstr(&w, "note", v->added ? "added at run time: gone for good"
				     : "in the configuration: back at the next reload");
	jw_obj_end(&w);
	return api_reply(rs, active ? 202 : 200, &w);
}

/*
 * POST /api/reload: the file is read again and applied as a new generation
 * (control/reload.h), in order behind any reload already queued; the
 * answer waits for this one's outcome: 200 with the new generation's
 * number, or 400 with the configuration's errors (the running generation
 * keeps serving), or 503 when no reload can run (the process is stopping,
 * or reloads never started).  The admin thread waits meanwhile: reloads
 * take milliseconds to a few seconds (a WAF's rules), and the listener's
 * other connections wait behind it, as the contract allows.
 */
static bool post_reload(struct admin_resp *rs)
{
	unsigned gen = 0;
	char *errs = NULL;
	struct jw w;

	int rc = reload_request(&gen, &errs);
	jw_init(&w);
	jw_obj(&w);
	if (rc == 0) {
		jw_kstr(&w, "result", "ok");
		jw_kuint(&w, "generation", gen);
		jw_obj_end(&w);
		free(errs);
		return api_reply(rs, 200, &w);
	}
	bool stopping = errs && strcmp(errs, "the process is stopping") == 0;
	jw_kstr(&w, "error", stopping ? "no reload possible: the process is stopping"
				      : "configuration refused; the running one keeps serving");
	jw_kint(&w, "status", stopping ? 503 : 400);
	jw_key(&w, "errors");
	jw_arr(&w);
	for (const char *p = errs ? errs : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n)
			jw_strn(&w, p, n);
		p += n + (p[n] == '\n');
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(errs);
	return api_reply(rs, stopping ? 503 : 400, &w);
}

/* ---- endpoints other modules add (api.h) ---- */

#define API_ROUTES_MAX 8

static struct {
	const char *name;
	api_handler fn;
} routes[API_ROUTES_MAX];
static int n_routes;

int api_register(const char *name, api_handler fn)
{
	if (n_routes == API_ROUTES_MAX || !strcmp(name, "backends") || !strcmp(name, "reload"))
		return -1;
	for (int i = 0; i < n_routes; i++)
		if (!strcmp(routes[i].name, name))
			return -1;
	routes[n_routes].name = name;
	routes[n_routes].fn = fn;
	n_routes++;
	return 0;
}

/* ---- dispatch ---- */

/* Whether m is one of the comma-separated methods of list. */
static bool method_in(const char *m, const char *list)
{
	size_t n = strlen(m);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, m, n) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
		while (*p == ' ')
			p++;
	}
	return false;
}

static bool is(const struct admin_req *rq, const char *m)
{
	return strcmp(rq->method, m) == 0;
}

bool admin_api(const struct admin_req *rq, struct admin_resp *rs, struct cfg *c)
{
	char buf[1024];
	char *seg[API_SEGS];

	if (strcmp(rq->path, "/api") != 0 && strncmp(rq->path, "/api/", 5) != 0)
		return false;
	int n = split_path(rq->path + (rq->path[4] == '/' ? 5 : 4), buf, sizeof(buf), seg);
	if (n < 0)
		return api_error(rs, 400, "malformed path %.200s", rq->path);
	if (n == 1 && !strcmp(seg[0], "reload"))
		return is(rq, "POST") ? post_reload(rs) : api_method_not_allowed(rs, rq, "POST");
	for (int i = 0; n >= 1 && i < n_routes; i++)
		if (strcmp(seg[0], routes[i].name) == 0)
			return routes[i].fn(rq, rs, c, seg, n);
	if (n < 1 || strcmp(seg[0], "backends") != 0 || n > 4 ||
	    (n >= 3 && strcmp(seg[2], "servers") != 0))
		return api_error(rs, 404, "no such endpoint: %.200s", rq->path);
	if (!c)
		return api_error(rs, 503, "no configuration loaded");

	/* The shape of the path decides the methods; then the names. */
	const char *allowed = n == 1 ? "GET" : n == 2 ? "GET" : n == 3 ? "GET, POST"
								     : "GET, PUT, DELETE";
	if (!method_in(rq->method, allowed))
		return api_method_not_allowed(rs, rq, allowed);
	if (n == 1)
		return get_backends(rs, c);
	const struct cfg_backend *be = cfg_find_backend(c, seg[1]);
	if (!be)
		return api_error(rs, 404, "no backend %.100s", seg[1]);
	if (n == 2)
		return get_backend(rs, be);
	if (n == 3) {
		if (is(rq, "POST"))
			return post_server(rq, rs, be);
		return get_backend(rs, be);
	}
	struct api_srv v;
	if (!find_server(be, seg[3], &v))
		return api_error(rs, 404, "no server %.100s in backend %.100s", seg[3], be->name);
	if (is(rq, "PUT"))
		return put_server(rq, rs, &v);
	if (is(rq, "DELETE"))
		return delete_server(rs, &v);
	return answer_server(rs, 200, &v);
}
