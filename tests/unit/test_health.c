/*
 * test_health.c - unit tests of src/health/: the rise/fall state machine,
 * the check response's status line (every split point), outlier ejection
 * (threshold, reset on success, backoff, its cap and decay, max_ejected,
 * return logging) with an explicit clock, and the `health` / `outlier`
 * directives with their FILE:LINE:COL errors.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "core/log.h"
#include "health/health.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

#define FE "frontend web {\n    bind 127.0.0.1:8080\n    default_backend app\n}\n"

static struct cfg *L(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);

	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

/* Expects the config to fail with `want` as one whole line of the errors. */
static bool ERR(const char *text, const char *want)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	bool ok = false;

	if (c) {
		fprintf(stderr, "  config loaded but should not:\n%s\n", text);
		cfg_free(c);
		return false;
	}
	size_t n = strlen(want);
	for (const char *p = errs; p && (p = strstr(p, want)); p++)
		if ((p == errs || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			ok = true;
	if (!ok)
		fprintf(stderr, "  want line: %s\n  got:\n%s\n", want, errs ? errs : "(none)");
	free(errs);
	return ok;
}

/* A loaded config, a fresh registry synced with it (as at startup) and one
 * worker's runtime of its first backend: what health_observe() gets. */
struct fix {
	struct cfg *c;
	struct backend_rt be;
};

static bool fix_load(struct fix *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	registry_free();
	f->c = L(text);
	if (f->c && registry_sync(f->c) == 0 && lb_backend_init(&f->be, f->c->backends[0]) == 0)
		return true;
	cfg_free(f->c);
	f->c = NULL;
	return false;
}

/* A backend "app" of n servers with an outlier line. */
static bool outlier_cfg(struct fix *f, int n, const char *outlier)
{
	char text[2048];
	size_t o = (size_t)snprintf(text, sizeof(text), "%sbackend app {\n", FE);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "    server s%d 127.0.0.1:%d\n",
				      i + 1, 9001 + i);
	snprintf(text + o, sizeof(text) - o, "    %s\n}\n", outlier);
	return fix_load(f, text);
}

static void outlier_free(struct fix *f)
{
	if (!f->c)
		return;
	lb_backend_free(&f->be);
	cfg_free(f->c);
	f->c = NULL;
	registry_free();
}

static uint64_t until(const struct server_rt *s)
{
	return atomic_load(&s->sh->ejected_until_ms);
}

/* ---- rise / fall --------------------------------------------------------- */

TEST(sm_starts_up_and_falls_after_fall_failures)
{
	struct health_sm sm = { 0 };

	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_WENT_DOWN);
	CHECK(sm.down);
	/* Further failures change nothing. */
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	CHECK(sm.down);
}

TEST(sm_failures_must_be_consecutive)
{
	struct health_sm sm = { 0 };

	for (int round = 0; round < 10; round++) {
		CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
		CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
		CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_SAME);
	}
	CHECK(!sm.down);
}

TEST(sm_rises_after_rise_successes)
{
	struct health_sm sm = { 0 };

	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 1), HEALTH_WENT_DOWN);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 1), HEALTH_SAME);   /* streak broken */
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_WENT_UP);
	CHECK(!sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 1), HEALTH_SAME);
	/* rise 1 / fall 1 flips on every change. */
	struct health_sm one = { 0 };
	CHECK_EQ_INT(health_sm_step(&one, false, 1, 1), HEALTH_WENT_DOWN);
	CHECK_EQ_INT(health_sm_step(&one, true, 1, 1), HEALTH_WENT_UP);
	CHECK_EQ_INT(health_sm_step(&one, false, 1, 1), HEALTH_WENT_DOWN);
}

TEST(sm_long_runs_do_not_overflow)
{
	struct health_sm sm = { 0 };

	for (int i = 0; i < 70000; i++)
		health_sm_step(&sm, true, 2, 3);
	CHECK(!sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, false, 2, 3), HEALTH_SAME);
	for (int i = 0; i < 70000; i++)
		health_sm_step(&sm, false, 2, 3);
	CHECK(sm.down);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_SAME);
	CHECK_EQ_INT(health_sm_step(&sm, true, 2, 3), HEALTH_WENT_UP);
}

/* ---- status line ---------------------------------------------------------- */

static int status_of(const char *s)
{
	int st = -1;
	int r = health_parse_status(s, strlen(s), &st);
	return r == 1 ? st : r == 0 ? 0 : -1;
}

TEST(status_line_forms)
{
	CHECK_EQ_INT(status_of("HTTP/1.1 200 OK\r\n"), 200);
	CHECK_EQ_INT(status_of("HTTP/1.0 503 Service Unavailable\r\n\r\n"), 503);
	CHECK_EQ_INT(status_of("HTTP/1.1 204\r\n"), 204);          /* empty reason */
	CHECK_EQ_INT(status_of("\r\nHTTP/1.1 301 Moved\r\n"), 301);  /* leading CRLF */
	CHECK_EQ_INT(status_of("HTTP/1.1 101 Switching\r\n"), 101);
	/* Interim heads are skipped, the final status counts. */
	CHECK_EQ_INT(status_of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\n"), 500);
	CHECK_EQ_INT(status_of("HTTP/1.1 103 Early\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n"),
		     200);
	CHECK_EQ_INT(status_of("HTTP/1.1 103 Early\r\nLink: </a>\r\n"), 0);   /* need more */
	CHECK_EQ_INT(status_of("HTTP/1.1 20"), 0);
	CHECK_EQ_INT(status_of(""), 0);
	CHECK_EQ_INT(status_of("HTT"), 0);
	/* Not HTTP/1.x: a failure as soon as it shows. */
	CHECK_EQ_INT(status_of("SSH-2.0-OpenSSH\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/2 200\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 2x0 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 2000 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1 099 Low\r\n"), -1);
	CHECK_EQ_INT(status_of("HTTP/1.1  200 OK\r\n"), -1);
	CHECK_EQ_INT(status_of("X"), -1);
}

TEST(status_line_every_split)
{
	const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nA: b\r\n\r\n";
	size_t len = strlen(r);
	bool done_seen = false;

	for (size_t cut = 0; cut <= len; cut++) {
		int st = 0;
		int x = health_parse_status(r, cut, &st);
		if (x < 0) {
			fprintf(stderr, "  error at cut %zu\n", cut);
			CHECK(x >= 0);
			break;
		}
		/* Once the final status line's digits are in, it is done. */
		if (x == 1) {
			CHECK_EQ_INT(st, 404);
			done_seen = true;
		} else {
			CHECK(!done_seen);
		}
	}
	CHECK(done_seen);
}

/* ---- outlier ------------------------------------------------------------ */

TEST(eject_time_doubles_up_to_the_cap)
{
	struct cfg_outlier o = { .enabled = true, .eject_ms = 30000, .max_eject_ms = 300000 };

	CHECK_EQ_INT(outlier_eject_ms(&o, 0), 30000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 1), 60000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 2), 120000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 3), 240000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 4), 300000);
	CHECK_EQ_INT(outlier_eject_ms(&o, 1000000), 300000);
	o.max_eject_ms = 0;   /* a cap under eject means no growth */
	CHECK_EQ_INT(outlier_eject_ms(&o, 5), 30000);
}

TEST(outlier_ejects_at_threshold_and_success_resets)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 4, "outlier consecutive_errors 3 eject 10s"));
	if (!f.c)
		return;
	struct server_rt *s1 = &f.be.servers[0];
	uint64_t now = 1000000;

	CHECK(s1->sh == registry_server("app", "s1"));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, true, NULL, now));   /* streak broken */
	CHECK_EQ_INT(atomic_load(&s1->sh->consecutive_errors), 0);
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(!outlier_observe_at(s1, false, "status 500", now));
	CHECK(outlier_observe_at(s1, false, "connect refused", now + 5));
	CHECK_EQ_INT(until(s1), now + 5 + 10000);
	CHECK_EQ_INT(atomic_load(&s1->sh->ejections), 1);
	CHECK_EQ_INT(atomic_load(&s1->sh->failures), 5);
	CHECK_EQ_INT(outlier_ejected_count(&f.be, now + 6), 1);
	/* Errors of requests in flight while it is out count nowhere. */
	for (int i = 0; i < 10; i++)
		CHECK(!outlier_observe_at(s1, false, "status 500", now + 100));
	CHECK_EQ_INT(atomic_load(&s1->sh->consecutive_errors), 0);
	CHECK_EQ_INT(until(s1), now + 5 + 10000);
	/* Back when the time is up. */
	CHECK_EQ_INT(outlier_ejected_count(&f.be, now + 5 + 10000), 0);
	outlier_free(&f);
}

TEST(outlier_backoff_repeats_and_decays)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1 eject 1s max_eject 5s "
				 "max_ejected 100%"));
	if (!f.c)
		return;
	struct server_rt *s = &f.be.servers[0];
	uint64_t t = 50000;
	uint32_t want[] = { 1000, 2000, 4000, 5000, 5000 };

	for (int i = 0; i < 5; i++) {
		CHECK(outlier_observe_at(s, false, "x", t));
		CHECK_EQ_INT(until(s) - t, want[i]);
		t = until(s) + 10;   /* fails again right after coming back */
	}
	/* In for max_eject (5s) after the last return: starts over at 1s.
	 * The sweep notices the return, then forgets the backoff. */
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 2);
	if (!w) {
		outlier_free(&f);
		return;
	}
	CHECK(w[0].sh == s->sh && w[0].back_since == 0);
	uint64_t ret = until(s);
	outlier_sweep(w, 2, ret + 50);
	CHECK_EQ_INT(until(s), 0);
	CHECK_EQ_INT(w[0].back_since, ret);
	outlier_sweep(w, 2, ret + 4999);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 5);
	outlier_sweep(w, 2, ret + 5000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 0);
	t = ret + 5001;
	CHECK(outlier_observe_at(s, false, "x", t));
	CHECK_EQ_INT(until(s) - t, 1000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 1);
	/* Not forgotten if it was out again meanwhile. */
	t = until(s) + 1;
	CHECK(outlier_observe_at(s, false, "x", t));
	outlier_sweep(w, 2, t + 6000);
	CHECK_EQ_INT(atomic_load(&s->sh->ejections), 2);
	free(w);
	outlier_free(&f);
}

TEST(outlier_respects_max_ejected)
{
	/* 3 servers at 50%: one may be out (rounded down). */
	struct fix f;
	CHECK(outlier_cfg(&f, 3, "outlier consecutive_errors 2 eject 10s max_ejected 50%"));
	if (!f.c)
		return;
	struct backend_rt *be = &f.be;
	uint64_t now = 7000;

	CHECK_EQ_INT(outlier_max_ejected(be->cfg), 1);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 3; k++)
			outlier_observe_at(&be->servers[k], false, "status 500", now);
	CHECK_EQ_INT(outlier_ejected_count(be, now), 1);
	CHECK(until(&be->servers[0]) > now);
	CHECK_EQ_INT(until(&be->servers[1]), 0);
	/* The others keep counting and go as soon as there is room. */
	CHECK(!outlier_observe_at(&be->servers[1], false, "status 500", now + 5000));
	CHECK(outlier_observe_at(&be->servers[1], false, "status 500", now + 10000));
	CHECK_EQ_INT(outlier_ejected_count(be, now + 10000), 1);
	outlier_free(&f);

	/* A single server is never ejected at 50%; at 100% it is. */
	CHECK(outlier_cfg(&f, 1, "outlier consecutive_errors 1"));
	CHECK(f.c && outlier_max_ejected(f.c->backends[0]) == 0);
	if (f.c)
		CHECK(!outlier_observe_at(&f.be.servers[0], false, "x", 1));
	outlier_free(&f);
	CHECK(outlier_cfg(&f, 1, "outlier consecutive_errors 1 max_ejected 100%"));
	if (f.c)
		CHECK(outlier_observe_at(&f.be.servers[0], false, "x", 1));
	outlier_free(&f);
}

TEST(outlier_off_only_counts_failures)
{
	struct fix f;
	CHECK(fix_load(&f, FE "backend app {\n    server a 127.0.0.1:9001\n    server b "
			      "127.0.0.1:9002\n}\n"));
	if (!f.c)
		return;
	struct server_rt *s = &f.be.servers[0];
	for (int i = 0; i < 100; i++)
		CHECK(!outlier_observe_at(s, false, "x", 10));
	CHECK_EQ_INT(atomic_load(&s->sh->failures), 100);
	CHECK_EQ_INT(until(s), 0);
	health_observe_status(s, 503);
	health_observe_status(s, 200);
	CHECK_EQ_INT(atomic_load(&s->sh->failures), 101);
	/* Nothing for the sweep to watch without `outlier`. */
	struct outlier_watch dummy, *w = &dummy;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 0);
	CHECK(w == NULL);
	outlier_free(&f);
}

TEST(outlier_sweep_announces_each_return_once)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1 eject 1s max_ejected 100%"));
	if (!f.c)
		return;
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), 2);
	if (!w) {
		outlier_free(&f);
		return;
	}
	struct server_rt *s = &f.be.servers[1];
	CHECK(w[1].srv == s->cfg && w[1].sh == s->sh);

	CHECK(outlier_observe_at(s, false, "x", 1000));
	outlier_sweep(w, 2, 1500);
	CHECK_EQ_INT(w[1].back_since, 0);        /* still out */
	CHECK_EQ_INT(until(s), 2000);
	outlier_sweep(w, 2, 2000);
	CHECK_EQ_INT(w[1].back_since, 2000);     /* logged, and marked in */
	CHECK_EQ_INT(until(s), 0);
	outlier_sweep(w, 2, 2100);
	CHECK_EQ_INT(w[1].back_since, 2000);
	CHECK_EQ_INT(w[0].back_since, 0);
	/* Out again before the sweep came by: the ejecting worker logs the
	 * return, and the sweep has nothing to say about it. */
	CHECK(outlier_observe_at(s, false, "x", 2200));
	CHECK_EQ_INT(until(s), 4200);
	CHECK(outlier_observe_at(s, false, "x", 4250));
	CHECK_EQ_INT(until(s), 4250 + 4000);
	free(w);
	outlier_free(&f);
}

TEST(outlier_watch_needs_the_registry)
{
	struct fix f;
	CHECK(outlier_cfg(&f, 2, "outlier consecutive_errors 1"));
	if (!f.c)
		return;
	registry_free();   /* no entries: the health thread could not start */
	struct outlier_watch *w = NULL;
	CHECK_EQ_INT(outlier_watch_init(f.c, &w), -1);
	CHECK(w == NULL);
	outlier_free(&f);
}

TEST(fmt_ms)
{
	char b[32];

	CHECK(strcmp(health_fmt_ms(30000, b, sizeof(b)), "30s") == 0);
	CHECK(strcmp(health_fmt_ms(250, b, sizeof(b)), "250ms") == 0);
	CHECK(strcmp(health_fmt_ms(120000, b, sizeof(b)), "2m") == 0);
	CHECK(strcmp(health_fmt_ms(90000, b, sizeof(b)), "1m30s") == 0);
}

/* ---- configuration ------------------------------------------------------- */

#define BE(x) FE "backend app {\n    server a 127.0.0.1:9001\n    " x "\n}\n"

TEST(cfg_defaults)
{
	struct cfg *c = L(BE("balance roundrobin"));
	CHECK(c && c->backends[0]->health.kind == HEALTH_NONE && !c->backends[0]->outlier.enabled);
	cfg_free(c);

	c = L(BE("health tcp"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK_EQ_INT(h->kind, HEALTH_TCP);
		CHECK_EQ_INT(h->interval_ms, 2000);
		CHECK_EQ_INT(h->timeout_ms, 1000);
		CHECK_EQ_INT(h->rise, 2);
		CHECK_EQ_INT(h->fall, 3);
	}
	cfg_free(c);

	c = L(BE("health http /healthz"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK_EQ_INT(h->kind, HEALTH_HTTP);
		CHECK(strcmp(h->method, "GET") == 0 && strcmp(h->path, "/healthz") == 0);
		CHECK(h->host == NULL);
		CHECK_EQ_INT(h->expect_lo, 200);
		CHECK_EQ_INT(h->expect_hi, 399);
	}
	cfg_free(c);

	c = L(BE("outlier"));
	CHECK(c);
	if (c) {
		const struct cfg_outlier *o = &c->backends[0]->outlier;
		CHECK(o->enabled);
		CHECK_EQ_INT(o->consecutive_errors, 5);
		CHECK_EQ_INT(o->eject_ms, 30000);
		CHECK_EQ_INT(o->max_eject_ms, 300000);
		CHECK_EQ_INT(o->max_ejected_pct, 50);
	}
	cfg_free(c);
}

TEST(cfg_every_option)
{
	struct cfg *c = L(BE("health http HEAD /ready expect 204 host app.example.com interval "
			     "500ms timeout 300ms rise 1 fall 5\n    outlier consecutive_errors 7 "
			     "eject 2s max_eject 1m max_ejected 25%"));
	CHECK(c);
	if (c) {
		const struct cfg_health *h = &c->backends[0]->health;
		CHECK(strcmp(h->method, "HEAD") == 0 && strcmp(h->path, "/ready") == 0);
		CHECK(h->host && strcmp(h->host, "app.example.com") == 0);
		CHECK_EQ_INT(h->expect_lo, 204);
		CHECK_EQ_INT(h->expect_hi, 204);
		CHECK_EQ_INT(h->interval_ms, 500);
		CHECK_EQ_INT(h->timeout_ms, 300);
		CHECK_EQ_INT(h->rise, 1);
		CHECK_EQ_INT(h->fall, 5);
		const struct cfg_outlier *o = &c->backends[0]->outlier;
		CHECK_EQ_INT(o->consecutive_errors, 7);
		CHECK_EQ_INT(o->eject_ms, 2000);
		CHECK_EQ_INT(o->max_eject_ms, 60000);
		CHECK_EQ_INT(o->max_ejected_pct, 25);
	}
	cfg_free(c);

	/* A short interval shortens the default timeout; eject 1s caps at 10s. */
	c = L(BE("health tcp interval 200ms\n    outlier eject 1s"));
	CHECK(c && c->backends[0]->health.timeout_ms == 200);
	CHECK(c && c->backends[0]->outlier.max_eject_ms == 10000);
	cfg_free(c);

	/* A second health line replaces the first (with a warning), no leak. */
	c = L(BE("health http /a host x\n    health tcp"));
	CHECK(c && c->backends[0]->health.kind == HEALTH_TCP && !c->backends[0]->health.path);
	cfg_free(c);
}

TEST(cfg_errors)
{
	CHECK(ERR(BE("health"), "t.conf:7:11: error: missing argument to 'health'; expected: "
				"health tcp|http [METHOD] PATH [expect STATUS|LOW-HIGH] [host NAME] "
				"[interval DURATION] [timeout DURATION] [rise N] [fall N]"));
	CHECK(ERR(BE("health udp"), "t.conf:7:12: error: unknown health check 'udp' in backend "
				    "'app'; expected one of: tcp, http"));
	CHECK(ERR(BE("health http"), "t.conf:7:16: error: missing path after 'http'; expected "
				     "e.g. health http GET /healthz"));
	CHECK(ERR(BE("health http GET"), "t.conf:7:20: error: missing path after 'GET'; "
					 "expected e.g. health http GET /healthz"));
	CHECK(ERR(BE("health http get /x"),
		  "t.conf:7:17: error: invalid health check method 'get'; expected an uppercase "
		  "method like GET or HEAD, or a path starting with '/'"));
	CHECK(ERR(BE("health http GET healthz"),
		  "t.conf:7:21: error: invalid health check path 'healthz'; expected a path "
		  "starting with '/' without spaces, e.g. /healthz"));
	CHECK(ERR(BE("health http GET \"/a b\""),
		  "t.conf:7:21: error: invalid health check path '/a b'; expected a path "
		  "starting with '/' without spaces, e.g. /healthz"));
	CHECK(ERR(BE("health http /h expect 2xx"),
		  "t.conf:7:27: error: invalid status range '2xx'; expected a status like 200 or "
		  "a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h expect 399-200"),
		  "t.conf:7:27: error: invalid status range '399-200'; expected a status like 200 "
		  "or a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h expect 200-700"),
		  "t.conf:7:27: error: invalid status range '200-700'; expected a status like 200 "
		  "or a range like 200-399 (100 to 599)"));
	CHECK(ERR(BE("health http /h host \"a b\""),
		  "t.conf:7:25: error: invalid health check host 'a b'; expected a host name, "
		  "optionally with :PORT, e.g. app.example.com"));
	CHECK(ERR(BE("health tcp expect 200"),
		  "t.conf:7:16: error: unknown health tcp option 'expect'; expected one of: "
		  "interval, timeout, rise, fall"));
	CHECK(ERR(BE("health http /h every 2s"),
		  "t.conf:7:20: error: unknown health http option 'every'; expected one of: "
		  "interval, timeout, rise, fall, expect, host"));
	CHECK(ERR(BE("health tcp interval"), "t.conf:7:24: error: expected a value after "
					     "'interval'"));
	CHECK(ERR(BE("health tcp interval 2"),
		  "t.conf:7:25: error: missing unit in '2'; expected a duration with a unit, "
		  "e.g. 250ms or 30s"));
	CHECK(ERR(BE("health tcp interval 0s"),
		  "t.conf:7:25: error: health interval must be more than 0; expected e.g. 2s or "
		  "500ms"));
	CHECK(ERR(BE("health tcp timeout 0ms"),
		  "t.conf:7:24: error: health timeout must be more than 0; expected e.g. 2s or "
		  "500ms"));
	CHECK(ERR(BE("health tcp rise 0"),
		  "t.conf:7:21: error: 0 is out of range; expected an integer from 1 to 100"));
	CHECK(ERR(BE("health tcp fall x"),
		  "t.conf:7:21: error: invalid number 'x'; expected an integer from 1 to 100"));

	CHECK(ERR(BE("outlier errors 5"),
		  "t.conf:7:13: error: unknown outlier option 'errors'; expected one of: "
		  "consecutive_errors, eject, max_eject, max_ejected"));
	CHECK(ERR(BE("outlier consecutive_errors 0"),
		  "t.conf:7:32: error: 0 is out of range; expected an integer from 1 to 1000000"));
	CHECK(ERR(BE("outlier eject"), "t.conf:7:18: error: expected a value after 'eject'"));
	CHECK(ERR(BE("outlier eject 30"),
		  "t.conf:7:19: error: missing unit in '30'; expected a duration with a unit, "
		  "e.g. 250ms or 30s"));
	CHECK(ERR(BE("outlier max_ejected 50"),
		  "t.conf:7:25: error: invalid percentage '50'; expected e.g. 50%"));
	CHECK(ERR(BE("outlier max_ejected 150%"),
		  "t.conf:7:25: error: 150 is out of range; expected an integer from 0 to 100"));
	CHECK(ERR(BE("outlier eject 30s max_eject 10s"),
		  "t.conf:7:33: error: outlier max_eject (10s) is shorter than eject (30s); "
		  "expected at least as long"));
}

int main(void)
{
	log_level = LOG_ERR;   /* ejections log; keep the output to the results */
	RUN(sm_starts_up_and_falls_after_fall_failures);
	RUN(sm_failures_must_be_consecutive);
	RUN(sm_rises_after_rise_successes);
	RUN(sm_long_runs_do_not_overflow);
	RUN(status_line_forms);
	RUN(status_line_every_split);
	RUN(eject_time_doubles_up_to_the_cap);
	RUN(outlier_ejects_at_threshold_and_success_resets);
	RUN(outlier_backoff_repeats_and_decays);
	RUN(outlier_respects_max_ejected);
	RUN(outlier_off_only_counts_failures);
	RUN(outlier_sweep_announces_each_return_once);
	RUN(outlier_watch_needs_the_registry);
	RUN(fmt_ms);
	RUN(cfg_defaults);
	RUN(cfg_every_option);
	RUN(cfg_errors);
	return UNIT_SUMMARY("test_health");
}
