/*
 * test_api.c - the runtime API's handler (src/admin/api.c) called directly,
 * without a listener or workers: routes, methods, errors, what PUT changes
 * in the registry's shared state, servers added (registry_server_add,
 * lb_backend_sync adopting them on a worker's backend_rt) and removed, and
 * what the next generation does with them (dropped, then pruned).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_http.h"
#include "config/cfg.h"
#include "core/log.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "unit.h"

static struct cfg *L(const char *text)
{
	char *errs = NULL;
	struct cfg *c = cfg_load_string("t.conf", text, strlen(text), &errs);
	if (!c)
		fprintf(stderr, "  unexpected errors:\n%s\n", errs ? errs : "(none)");
	free(errs);
	return c;
}

static const char conf[] =
	"frontend web {\n    bind 127.0.0.1:8080\n    default_backend app\n}\n"
	"backend app {\n"
	"    server s1 127.0.0.1:9001 weight 3\n"
	"    server s2 127.0.0.1:9002\n"
	"    server off 127.0.0.1:9003 disabled\n"
	"}\n"
	"backend other {\n"
	"    balance hash(path)\n"
	"    server o1 127.0.0.1:9101\n"
	"}\n";

struct answer {
	int status;
	char *body;
};

static struct answer call(struct cfg *c, const char *method, const char *path, const char *body)
{
	struct admin_req rq = { method, path, "", body ? body : "", body ? strlen(body) : 0 };
	struct admin_resp rs = { 0 };
	struct answer a = { 0 };

	if (!admin_api(&rq, &rs, c)) {
		a.status = -1;
		return a;
	}
	a.status = rs.status;
	CHECK_STR(rs.ctype, "application/json");
	a.body = rs.body_static ? strdup(rs.body) : rs.body;
	CHECK(a.body && strlen(a.body) == rs.len && a.body[0] == '{');
	return a;
}

static void done(struct answer *a)
{
	free(a->body);
}

/* a's body has `text` (e.g. "\"state\":\"drain\""); the responses hold
 * arrays, which the API's own strict reader refuses to read. */
static bool has(const struct answer *a, const char *text)
{
	if (a->body && strstr(a->body, text))
		return true;
	fprintf(stderr, "  expected %s in %d %s\n", text, a->status, a->body);
	return false;
}

/* a's "error" contains `what`. */
static bool says(const struct answer *a, const char *what)
{
	char esc[256];   /* `what` as JSON writes it: quotes escaped */
	size_t n = 0;
	for (const char *p = what; *p && n + 3 < sizeof(esc); p++) {
		if (*p == '"')
			esc[n++] = '\\';
		esc[n++] = *p;
	}
	esc[n] = '\0';
	const char *e = a->body ? strstr(a->body, "{\"error\":\"") : NULL;
	if (!e || !strstr(e, esc)) {
		fprintf(stderr, "  expected an error with \"%s\", got %d %s\n", what, a->status,
			a->body);
		return false;
	}
	return true;
}

static int status_of(struct cfg *c, const char *method, const char *path, const char *body,
		     const char *what)
{
	struct answer a = call(c, method, path, body);
	if (what)
		CHECK(says(&a, what));
	int s = a.status;
	done(&a);
	return s;
}

TEST(routes_and_errors)
{
	struct cfg *c = L(conf);
	CHECK(registry_sync(c) == 0);

	struct admin_req rq = { "GET", "/metrics", "", "", 0 };
	struct admin_resp rs = { 0 };
	CHECK(!admin_api(&rq, &rs, c));   /* not the API's */
	rq.path = "/apix";
	CHECK(!admin_api(&rq, &rs, c));

	CHECK_EQ_INT(status_of(c, "GET", "/api/backends", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/s1", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/a%70p/servers/s%31", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/nope", NULL, "no backend nope"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/nope", NULL,
			       "no server nope in backend app"), 404);
	CHECK_EQ_INT(status_of(c, "PUT", "/api/backends/nope/servers/s1", "{}", "no backend"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api/frontends", NULL, "no such endpoint"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api", NULL, "no such endpoint"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/x", NULL, "no such endpoint"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/s1/x", NULL,
			       "no such endpoint"), 404);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/", NULL, "malformed path"), 400);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends//app", NULL, "malformed path"), 400);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/a%2fb", NULL, "malformed path"), 400);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/a%00b", NULL, "malformed path"), 400);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/a%zz", NULL, "malformed path"), 400);
	CHECK_EQ_INT(status_of(c, "POST", "/api/backends", "{}", "allowed: GET"), 405);
	CHECK_EQ_INT(status_of(c, "DELETE", "/api/backends/app", NULL, "allowed: GET"), 405);
	CHECK_EQ_INT(status_of(c, "PUT", "/api/backends/app/servers", "{}", "GET, POST"), 405);
	CHECK_EQ_INT(status_of(c, "POST", "/api/backends/app/servers/s1", "{}", "GET, PUT, DELETE"),
		     405);
	CHECK_EQ_INT(status_of(c, "ET", "/api/backends/app/servers/s1", NULL, "not allowed"), 405);
	CHECK_EQ_INT(status_of(c, "GET", "/api/reload", NULL, "allowed: POST"), 405);

	/* The list carries every server with its state. */
	struct answer a = call(c, "GET", "/api/backends", NULL);
	CHECK(strstr(a.body, "\"name\":\"app\"") && strstr(a.body, "\"name\":\"other\""));
	CHECK(strstr(a.body, "\"name\":\"s1\",\"address\":\"127.0.0.1:9001\",\"state\":\"up\","
			     "\"admin_state\":\"ready\",\"weight\":3,\"config_weight\":3"));
	CHECK(strstr(a.body, "\"name\":\"off\",\"address\":\"127.0.0.1:9003\",\"state\":"
			     "\"disabled\""));
	CHECK(strstr(a.body, "\"balance\":\"hash\""));
	done(&a);

	cfg_put(c);
	registry_free();
}

TEST(put_changes_shared_state)
{
	struct cfg *c = L(conf);
	CHECK(registry_sync(c) == 0);
	struct server_shared *sh = registry_server("app", "s2");
	const char *p = "/api/backends/app/servers/s2";

	struct answer a = call(c, "PUT", p, "{\"weight\": 7}");
	CHECK_EQ_INT(a.status, 200);
	CHECK(has(&a, "\"weight\":7,"));
	CHECK_EQ_INT(atomic_load(&sh->weight), 7);
	done(&a);

	a = call(c, "PUT", p, "{\"state\": \"drain\"}");
	CHECK_EQ_INT(a.status, 200);
	CHECK(has(&a, "\"state\":\"drain\""));
	CHECK(atomic_load(&sh->admin_drain) && !atomic_load(&sh->admin_disabled));
	done(&a);

	a = call(c, "PUT", p, "{\"state\": \"disabled\", \"weight\": 0}");
	CHECK_EQ_INT(a.status, 200);
	CHECK(has(&a, "\"state\":\"disabled\""));
	CHECK(!atomic_load(&sh->admin_drain) && atomic_load(&sh->admin_disabled));
	CHECK_EQ_INT(atomic_load(&sh->weight), 0);
	done(&a);

	/* Refused whole: nothing changes. */
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"state\": \"ready\", \"weight\": -1}", "0 to 256"), 400);
	CHECK(atomic_load(&sh->admin_disabled));
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"weight\": 1.5}", "integer"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"weight\": \"3\"}", "integer"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"weight\": 257}", "0 to 256"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"state\": \"up\"}", "\"ready\", \"drain\""), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"state\": true}", "\"ready\", \"drain\""), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{}", "nothing to change"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "", "empty body"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "weight=3", "invalid JSON"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"weight\":1,\"weight\":2}", "duplicate key"), 400);
	CHECK_EQ_INT(status_of(c, "PUT", p, "{\"weight\":1,\"colour\":2}", "unknown field \"colour\""),
		     400);
	CHECK(atomic_load(&sh->admin_disabled));
	CHECK_EQ_INT(atomic_load(&sh->weight), 0);

	a = call(c, "PUT", p, "{\"state\": \"ready\", \"weight\": 2}");
	CHECK_EQ_INT(a.status, 200);
	CHECK(has(&a, "\"state\":\"up\""));
	CHECK(!atomic_load(&sh->admin_drain) && !atomic_load(&sh->admin_disabled));
	done(&a);

	/* A server disabled in the file stays so: its checks do not run. */
	CHECK_EQ_INT(status_of(c, "PUT", "/api/backends/app/servers/off", "{\"state\":\"ready\"}",
			       "disabled in the configuration"), 409);
	CHECK_EQ_INT(status_of(c, "PUT", "/api/backends/app/servers/off", "{\"weight\":4}", NULL),
		     200);

	/* A server down by its checks reads "down", its admin state ready. */
	atomic_store(&sh->health, SRV_DOWN);
	a = call(c, "GET", p, NULL);
	CHECK(has(&a, "\"state\":\"down\""));
	CHECK(has(&a, "\"admin_state\":\"ready\""));
	done(&a);

	cfg_put(c);
	registry_free();
}

TEST(added_servers_reach_workers_until_a_reload)
{
	struct cfg *c = L(conf);
	CHECK(registry_sync(c) == 0);
	struct backend_rt be;
	CHECK(lb_backend_init(&be, c->backends[0]) == 0);
	CHECK_EQ_INT(be.nservers, 3);

	const char *p = "/api/backends/app/servers";
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\"}", "\"address\""), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"address\":\"127.0.0.1:9004\"}", "\"name\""), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"a b\",\"address\":\"127.0.0.1:9004\"}",
			       "\"name\""), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\",\"address\":\"127.0.0.1\"}",
			       "cannot use"), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\",\"address\":\"0.0.0.0:80\"}",
			       "cannot use"), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\",\"address\":\"1.2.3.4:0\"}",
			       "cannot use"), 400);
	CHECK_EQ_INT(status_of(c, "POST", p,
			       "{\"name\":\"s4\",\"address\":\"127.0.0.1:9004\",\"tls\":true}",
			       "unknown field \"tls\""), 400);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s1\",\"address\":\"127.0.0.1:9004\"}",
			       "already has a server s1"), 409);

	struct answer a = call(c, "POST", p,
			       "{\"name\":\"s4\",\"address\":\"127.0.0.1:9004\",\"weight\":5}");
	CHECK_EQ_INT(a.status, 201);
	CHECK(has(&a, "\"added\":true"));
	CHECK(has(&a, "\"weight\":5,"));
	done(&a);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/s4", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\",\"address\":\"127.0.0.1:9005\"}",
			       "already has"), 409);

	/* The worker adopts it on its message, after the file's servers. */
	CHECK_EQ_INT(lb_backend_sync(&be), 0);
	CHECK_EQ_INT(be.nservers, 4);
	CHECK_STR(be.servers[3].cfg->name, "s4");
	CHECK(be.servers[3].sh == registry_server("app", "s4"));
	CHECK(be.servers[3].cfg->backend == c->backends[0]);
	CHECK(lb_server_up(&be.servers[3]));
	CHECK_EQ_INT(lb_backend_sync(&be), 0);   /* idempotent */
	CHECK_EQ_INT(be.nservers, 4);

	/* DELETE: no new requests at once; gone once none is in flight. */
	struct server_shared *sh4 = registry_server("app", "s4");
	atomic_store(&sh4->active, 1);
	a = call(c, "DELETE", "/api/backends/app/servers/s4", NULL);
	CHECK_EQ_INT(a.status, 202);
	CHECK(has(&a, "\"state\":\"removing\""));
	done(&a);
	CHECK(!lb_server_up(&be.servers[3]));
	a = call(c, "GET", "/api/backends/app/servers/s4", NULL);
	CHECK(has(&a, "\"state\":\"removing\""));
	done(&a);
	atomic_store(&sh4->active, 0);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/s4", NULL, "no server"), 404);
	CHECK_EQ_INT(status_of(c, "DELETE", "/api/backends/app/servers/s4", NULL, "no server"), 404);
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"s4\",\"address\":\"127.0.0.1:9005\"}",
			       "free again after the next reload"), 409);

	/* A file server deleted comes back with the next generation. */
	CHECK_EQ_INT(status_of(c, "DELETE", "/api/backends/app/servers/s2", NULL, NULL), 200);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/s2", NULL, "no server"), 404);

	/* Up to LB_ADDED_MAX per backend and generation. */
	char body[128];
	int made = 1;
	for (int i = 0; i < LB_ADDED_MAX + 1; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"x%d\",\"address\":\"127.0.0.1:%d\"}", i,
			 10000 + i);
		int st = status_of(c, "POST", p, body, NULL);
		if (st == 201)
			made++;
		else
			CHECK_EQ_INT(st, 409);
	}
	CHECK_EQ_INT(made, LB_ADDED_MAX);
	CHECK_EQ_INT(lb_backend_sync(&be), 0);
	CHECK_EQ_INT(be.nservers, 3 + LB_ADDED_MAX);

	/* The hash backend's ring is rebuilt with an added server. */
	struct backend_rt bo;
	CHECK(lb_backend_init(&bo, c->backends[1]) == 0);
	CHECK_EQ_INT(status_of(c, "POST", "/api/backends/other/servers",
			       "{\"name\":\"o2\",\"address\":\"127.0.0.1:9102\"}", NULL), 201);
	CHECK_EQ_INT(lb_backend_sync(&bo), 0);
	CHECK_EQ_INT(bo.nservers, 2);

	/* A reload synced, then refused (bind failure): the running
	 * generation is synced again and keeps its added servers. */
	struct cfg *cx = L(conf);
	CHECK(registry_sync(cx) == 0);
	CHECK(registry_server("app", "x0") == NULL);
	CHECK(registry_sync(c) == 0);
	CHECK(registry_server("app", "x0") != NULL);
	CHECK_EQ_INT(status_of(c, "GET", "/api/backends/app/servers/x0", NULL, NULL), 200);
	cfg_put(cx);

	/* The next generation: added servers are dropped from it, s2 is back. */
	struct cfg *c2 = L(conf);
	CHECK(registry_sync(c2) == 0);
	CHECK_EQ_INT(status_of(c2, "GET", "/api/backends/app/servers/x0", NULL, "no server"), 404);
	CHECK_EQ_INT(status_of(c2, "GET", "/api/backends/app/servers/s2", NULL, NULL), 200);
	struct backend_rt be2;
	CHECK(lb_backend_init(&be2, c2->backends[0]) == 0);
	CHECK_EQ_INT(lb_backend_sync(&be2), 0);
	CHECK_EQ_INT(be2.nservers, 3);
	/* The old generation takes no more: a reload came in between. */
	CHECK_EQ_INT(status_of(c, "POST", p, "{\"name\":\"late\",\"address\":\"127.0.0.1:9012\"}",
			       "a reload made a new configuration current"), 409);
	/* The name of one dropped is free at once in the new generation. */
	CHECK_EQ_INT(status_of(c2, "POST", p, "{\"name\":\"x1\",\"address\":\"127.0.0.1:9011\"}",
			       NULL), 201);
	CHECK_EQ_INT(lb_backend_sync(&be2), 0);
	CHECK_EQ_INT(be2.nservers, 4);
	CHECK_STR(be2.servers[3].cfg->addr.text, "127.0.0.1:9011");
	CHECK(be2.servers[3].sh != be.servers[4].sh);
	/* The old generation's workers keep theirs until it is gone. */
	CHECK_EQ_INT(lb_backend_sync(&be), 0);
	CHECK_EQ_INT(be.nservers, 3 + LB_ADDED_MAX);
	CHECK(registry_server("app", "x0") == NULL);   /* by name: a zombie, its name free */
	lb_backend_free(&be);
	lb_backend_free(&bo);
	cfg_put(c);
	registry_prune(c2);
	CHECK(registry_server("app", "x0") == NULL);
	CHECK(registry_server("app", "x1") == be2.servers[3].sh);   /* the new one stays */
	CHECK(registry_server("other", "o2") == NULL);
	CHECK(registry_server("app", "s1") != NULL);

	/* Added to the current generation: kept by a prune. */
	CHECK_EQ_INT(status_of(c2, "POST", p, "{\"name\":\"n1\",\"address\":\"127.0.0.1:9009\"}",
			       NULL), 201);
	registry_prune(c2);
	CHECK(registry_server("app", "n1") != NULL);
	CHECK_EQ_INT(lb_backend_sync(&be2), 0);
	CHECK_EQ_INT(be2.nservers, 5);
	lb_backend_free(&be2);
	cfg_put(c2);
	registry_free();
}

TEST(reload_without_a_control_thread)
{
	struct cfg *c = L(conf);
	CHECK_EQ_INT(status_of(c, "POST", "/api/reload", NULL, "the process is stopping"), 503);
	cfg_put(c);
}

int main(void)
{
	log_level = LOG_WARN;   /* a reload's "dropped" lines, one per added server */
	RUN(routes_and_errors);
	RUN(put_changes_shared_state);
	RUN(added_servers_reach_workers_until_a_reload);
	RUN(reload_without_a_control_thread);
	return UNIT_SUMMARY("test_api");
}
