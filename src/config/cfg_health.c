/*
 * cfg_health.c - the `health` and `outlier` directives of a backend: how
 * the servers are checked actively (src/health/health.c) and when live
 * traffic errors eject one (src/health/outlier.c).  Rows for both sit in
 * cfg_backend.c's keyword table; the handlers live here because each line
 * carries its own small option table, like `server`.
 *
 *   health tcp  [interval DUR] [timeout DUR] [rise N] [fall N]
 *   health http [METHOD] PATH [expect STATUS|LOW-HIGH] [host NAME] [proto h1|h2]
 *               [interval DUR] [timeout DUR] [rise N] [fall N]
 *   health grpc [service NAME] [host NAME]
 *               [interval DUR] [timeout DUR] [rise N] [fall N]
 *   outlier [consecutive_errors N] [eject DUR] [max_eject DUR] [max_ejected PCT%]
 *
 * Options follow the check on the same line (as server options do) so a
 * backend's whole check reads in one place.  Defaults are HAProxy's:
 * interval 2s, rise 2, fall 3, statuses 200-399; the timeout is 1s, or the
 * interval when that is shorter (one check in flight per server, never two).
 *
 * Which protocol a check speaks is settled by cfg_health_check() once the
 * servers are known (a `health` line may come before them): `http` speaks
 * what the servers speak (`server ... proto h2`: HTTP/2) unless `proto`
 * says otherwise, since a check should meet what traffic meets; `grpc` is
 * HTTP/2 by definition and needs servers that speak it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

void cfg_health_free(struct cfg_health *h)
{
	free(h->method);
	free(h->path);
	free(h->host);
	free(h->service);
	h->method = h->path = h->host = h->service = NULL;
}

static bool cfg_is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A path we can put on a request line as is: starts with '/', visible
 * ASCII only (no spaces, no controls, no '#'). */
static bool cfg_check_path_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '#')
			return false;
	return true;
}

static bool cfg_host_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '/' || *s == '@')
			return false;
	return true;
}

/* A gRPC service name as it goes in HealthCheckRequest.service: any
 * visible ASCII (package-qualified names such as my.pkg.Service, or
 * whatever the server registered), at most CFG_GRPC_SERVICE_MAX bytes. */
static bool cfg_service_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n <= CFG_GRPC_SERVICE_MAX;
}

static bool cfg_status3(const char *s, unsigned *out)
{
	for (int i = 0; i < 3; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	*out = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	return true;
}

/* "200" or "200-399", statuses 100..599. */
static int cfg_val_status_range(struct cfg_parser *p, const struct cfg_tok *t, uint16_t *lo,
				uint16_t *hi)
{
	size_t len = strlen(t->s);
	unsigned a = 0, b = 0;
	bool ok = (len == 3 && cfg_status3(t->s, &a) && (b = a)) ||
		  (len == 7 && t->s[3] == '-' && cfg_status3(t->s, &a) && cfg_status3(t->s + 4, &b));

	if (!ok || a < 100 || b > 599 || a > b) {
		cfg_error(p, t->line, t->col,
			  "invalid status range '%s'; expected a status like 200 or a range like "
			  "200-399 (100 to 599)",
			  t->s);
		return -1;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int cfg_set_str(struct cfg_parser *p, char **field, const char *s)
{
	free(*field);
	*field = strdup(s);
	if (!*field) {
		cfg_oom(p);
		return -1;
	}
	return 0;
}

/* A positive duration (checks every 0ms would spin). */
static int cfg_val_pos_duration(struct cfg_parser *p, const struct cfg_tok *t, const char *what,
				uint32_t *out)
{
	uint32_t v;

	if (cfg_val_duration(p, t, &v) < 0)
		return -1;
	if (v == 0) {
		cfg_error(p, t->line, t->col, "%s must be more than 0; expected e.g. 2s or 500ms",
			  what);
		return -1;
	}
	*out = v;
	return 0;
}

/* Lists a NULL-terminated set of option names for "expected one of". */
static void cfg_opt_list(const char *const *names, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; names[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", names[i]);
}

/* Finds option t among names; reports an unknown one.  Returns its index
 * and sets *arg to its value token, or -1. */
static int cfg_opt(struct cfg_parser *p, const struct cfg_node *n, int *i, const char *what,
		   const char *const *names, const struct cfg_tok **arg)
{
	const struct cfg_tok *t = &n->toks[*i];
	char list[160];

	for (int k = 0; names[k]; k++) {
		if (t->quoted || strcmp(t->s, names[k]) != 0)
			continue;
		if (*i + 1 >= n->ntok) {
			cfg_error(p, n->line, n->end_col, "expected a value after '%s'", t->s);
			return -1;
		}
		*arg = &n->toks[++*i];
		return k;
	}
	cfg_opt_list(names, list, sizeof(list));
	cfg_error(p, t->line, t->col, "unknown %s option '%s'; expected one of: %s", what, t->s,
		  list);
	return -1;
}

/* The options of a health line: one name table, each kind taking a part. */
enum hc_opt { HO_INTERVAL, HO_TIMEOUT, HO_RISE, HO_FALL, HO_EXPECT, HO_HOST, HO_PROTO, HO_SERVICE };

static const char *const hc_opt_names[] = { "interval", "timeout", "rise",  "fall",
					    "expect",   "host",    "proto", "service", NULL };

/* Every kind's option table lists names from hc_opt_names only. */
static enum hc_opt hc_opt_id(const char *name)
{
	int k = 0;

	while (hc_opt_names[k] && strcmp(hc_opt_names[k], name) != 0)
		k++;
	return (enum hc_opt)k;
}

/* `health http [METHOD] PATH`: the words before the options.  Returns the
 * index of the first option, or -1. */
static int cfg_health_http_target(struct cfg_parser *p, const struct cfg_node *n,
				  struct cfg_health *h)
{
	int i = 2;
	const struct cfg_tok *t = i < n->ntok ? &n->toks[i] : NULL;
	const char *method = "GET";

	if (t && t->s[0] != '/' && !t->quoted) {
		bool upper = t->s[0] != '\0';
		for (const char *c = t->s; *c; c++)
			if (!cfg_is_tchar(*c) || (*c >= 'a' && *c <= 'z'))
				upper = false;
		if (!upper) {
			cfg_error(p, t->line, t->col,
				  "invalid health check method '%s'; expected an uppercase "
				  "method like GET or HEAD, or a path starting with '/'",
				  t->s);
			return -1;
		}
		method = t->s;
		t = ++i < n->ntok ? &n->toks[i] : NULL;
	}
	if (!t) {
		cfg_error(p, n->line, n->end_col,
			  "missing path after '%s'; expected e.g. health http GET /healthz",
			  n->toks[i - 1].s);
		return -1;
	}
	if (!cfg_check_path_ok(t->s)) {
		cfg_error(p, t->line, t->col,
			  "invalid health check path '%s'; expected a path starting with '/' "
			  "without spaces, e.g. /healthz",
			  t->s);
		return -1;
	}
	if (cfg_set_str(p, &h->method, method) < 0 || cfg_set_str(p, &h->path, t->s) < 0)
		return -1;
	return i + 1;
}

/* One option's value; -1 after reporting it. */
static int cfg_health_opt(struct cfg_parser *p, struct cfg_health *h, enum hc_opt o,
			  const struct cfg_tok *arg)
{
	switch (o) {
	case HO_INTERVAL:
		return cfg_val_pos_duration(p, arg, "health interval", &h->interval_ms);
	case HO_TIMEOUT:
		return cfg_val_pos_duration(p, arg, "health timeout", &h->timeout_ms);
	case HO_RISE:
		return cfg_val_int(p, arg, 1, 100, &h->rise);
	case HO_FALL:
		return cfg_val_int(p, arg, 1, 100, &h->fall);
	case HO_EXPECT:
		return cfg_val_status_range(p, arg, &h->expect_lo, &h->expect_hi);
	case HO_HOST:
		if (!cfg_host_ok(arg->s)) {
			cfg_error(p, arg->line, arg->col,
				  "invalid health check host '%s'; expected a host name, "
				  "optionally with :PORT, e.g. app.example.com",
				  arg->s);
			return -1;
		}
		return cfg_set_str(p, &h->host, arg->s);
	case HO_PROTO:
		/* h2c is h2, as on `server` and `bind` lines */
		if (strcmp(arg->s, "h1") == 0) {
			h->proto = SRV_PROTO_H1;
		} else if (strcmp(arg->s, "h2") == 0 || strcmp(arg->s, "h2c") == 0) {
			h->proto = SRV_PROTO_H2;
		} else {
			cfg_error(p, arg->line, arg->col,
				  "unknown health check proto '%s'; expected h1 or h2", arg->s);
			return -1;
		}
		h->proto_line = arg->line;
		h->proto_col = arg->col;
		return 0;
	case HO_SERVICE:
		if (!cfg_service_ok(arg->s)) {
			cfg_error(p, arg->line, arg->col,
				  "invalid gRPC service name '%s'; expected a name without spaces "
				  "or control characters, up to %d bytes, e.g. my.package.Service "
				  "(leave out `service` to check the whole server)",
				  arg->s, CFG_GRPC_SERVICE_MAX);
			return -1;
		}
		return cfg_set_str(p, &h->service, arg->s);
	}
	return -1;
}

int cfg_be_health(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const kinds[] = { "tcp", "http", "grpc", NULL };
	static const enum health_kind kind_of[] = { HEALTH_TCP, HEALTH_HTTP, HEALTH_GRPC };
	static const char *const tcp_opts[] = { "interval", "timeout", "rise", "fall", NULL };
	static const char *const http_opts[] = { "interval", "timeout", "rise", "fall",
						 "expect",   "host",    "proto", NULL };
	static const char *const grpc_opts[] = { "interval", "timeout", "rise", "fall",
						 "service",  "host",    NULL };
	static const char *const *const opts_of[] = { tcp_opts, http_opts, grpc_opts };
	static const char *const what_of[] = { "health tcp", "health http", "health grpc" };
	struct cfg_backend *be = s->obj;
	struct cfg_health *h = &be->health;
	const struct cfg_tok *timeout_tok = NULL;
	int rc = 0, i = 2;

	int kind = cfg_val_choice(p, &n->toks[1], "health check", s->what, kinds);
	if (kind < 0)
		return -1;
	/* A second `health` line replaces the first (the parser warned). */
	cfg_health_free(h);
	*h = (struct cfg_health){ .kind = kind_of[kind],
				  .expect_lo = 200,
				  .expect_hi = 399,
				  .interval_ms = 2000,
				  .rise = 2,
				  .fall = 3,
				  .line = n->line,
				  .col = n->toks[1].col };
	if (h->kind == HEALTH_HTTP && (i = cfg_health_http_target(p, n, h)) < 0)
		return -1;
	for (; i < n->ntok; i++) {
		const struct cfg_tok *arg = NULL;
		int k = cfg_opt(p, n, &i, what_of[kind], opts_of[kind], &arg);
		if (k < 0)
			return -1;   /* what follows cannot be told apart from values */
		enum hc_opt o = hc_opt_id(opts_of[kind][k]);
		if (cfg_health_opt(p, h, o, arg) < 0)
			rc = -1;
		else if (o == HO_TIMEOUT)
			timeout_tok = arg;
	}
	if (!timeout_tok)
		h->timeout_ms = h->interval_ms < 1000 ? h->interval_ms : 1000;
	return rc;
}

void cfg_health_check(struct cfg_parser *p, struct cfg_backend *be)
{
	struct cfg_health *h = &be->health;
	/* one proto per backend (cfg_check_backend says so when they differ) */
	uint8_t srv = be->nservers ? be->servers[0]->proto : SRV_PROTO_H1;

	if (h->kind == HEALTH_HTTP && !h->proto_line)
		h->proto = srv;
	if (h->kind != HEALTH_GRPC)
		return;
	h->proto = SRV_PROTO_H2;
	if (be->nservers && srv != SRV_PROTO_H2)
		cfg_error(p, h->line, h->col,
			  "health grpc needs servers that speak HTTP/2, but server '%s' of backend "
			  "'%s' speaks h1; expected proto h2 on its server lines",
			  be->servers[0]->name, be->name);
}

int cfg_be_outlier(struct cfg_parser *p, struct cfg_scope *s, const struct cfg_node *n)
{
	static const char *const opts[] = { "consecutive_errors", "eject", "max_eject",
					    "max_ejected", NULL };
	struct cfg_backend *be = s->obj;
	struct cfg_outlier *o = &be->outlier;
	const struct cfg_tok *max_tok = NULL;
	int rc = 0;

	*o = (struct cfg_outlier){ .enabled = true,
				   .consecutive_errors = 5,
				   .eject_ms = 30 * 1000,
				   .max_ejected_pct = 50,
				   .line = n->line };
	for (int i = 1; i < n->ntok; i++) {
		const struct cfg_tok *arg = NULL;
		switch (cfg_opt(p, n, &i, "outlier", opts, &arg)) {
		case 0:
			if (cfg_val_int(p, arg, 1, 1000000, &o->consecutive_errors) < 0)
				rc = -1;
			break;
		case 1:
			if (cfg_val_pos_duration(p, arg, "outlier eject", &o->eject_ms) < 0)
				rc = -1;
			break;
		case 2:
			if (cfg_val_pos_duration(p, arg, "outlier max_eject", &o->max_eject_ms) < 0)
				rc = -1;
			else
				max_tok = arg;
			break;
		case 3:
			if (cfg_val_percent(p, arg, 0, 100, true, &o->max_ejected_pct) < 0)
				rc = -1;
			break;
		default:
			o->enabled = false;
			return -1;
		}
	}
	if (max_tok && o->max_eject_ms < o->eject_ms) {
		bool whole = o->eject_ms % 1000 == 0;
		cfg_error(p, max_tok->line, max_tok->col,
			  "outlier max_eject (%s) is shorter than eject (%u%s); expected at least "
			  "as long",
			  max_tok->s, whole ? o->eject_ms / 1000 : o->eject_ms, whole ? "s" : "ms");
		rc = -1;
	}
	if (!max_tok) {
		uint64_t cap = (uint64_t)o->eject_ms * 10;
		if (cap > 300 * 1000)
			cap = 300 * 1000;
		if (cap < o->eject_ms)
			cap = o->eject_ms;
		o->max_eject_ms = (uint32_t)cap;
	}
	return rc;
}
