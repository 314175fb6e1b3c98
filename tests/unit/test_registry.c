/*
 * test_registry.c - unit tests of the runtime-state registry (src/lb/
 * registry.c) and of configuration generations (cfg_get / cfg_put):
 * registry_sync() gives every backend and server an entry with fresh state;
 * a second generation naming the same servers finds the state the first one
 * changed (health, EWMA, ejections, counts, live weight, retry budget),
 * while a renamed server starts fresh; unknown names are not found;
 * registry_prune() drops only what the kept generation no longer names;
 * entries never move however much the registry grows.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "core/log.h"
#include "lb/lb.h"
#include "lb/registry.h"
#include "unit.h"

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

/* Generation 1: app {s1 weight 3, s2 drain}, api {a1}. */
static const char gen1[] = FE
	"backend app {\n"
	"    server s1 127.0.0.1:9001 weight 3\n"
	"    server s2 127.0.0.1:9002 drain\n"
	"}\n"
	"backend api {\n"
	"    server a1 127.0.0.1:9101\n"
	"}\n";

/* Generation 2: s1 kept (its weight edited in the file), s2 renamed s3,
 * api kept, ops new. */
static const char gen2[] = FE
	"backend app {\n"
	"    server s1 127.0.0.1:9001 weight 5\n"
	"    server s3 127.0.0.1:9002 weight 2\n"
	"}\n"
	"backend api {\n"
	"    server a1 127.0.0.1:9101\n"
	"}\n"
	"backend ops {\n"
	"    server o1 127.0.0.1:9201\n"
	"}\n";

/* Generation 3: only app {s3}. */
static const char gen3[] = FE
	"backend app {\n"
	"    server s3 127.0.0.1:9002\n"
	"}\n";

/* Whether sh is what registry_sync() gives a new server of weight w. */
static bool fresh(const struct server_shared *sh, int w, bool drain)
{
	return sh && atomic_load(&sh->health) == SRV_UP &&
	       atomic_load(&sh->admin_drain) == (drain ? 1 : 0) && atomic_load(&sh->weight) == w &&
	       atomic_load(&sh->active) == 0 && atomic_load(&sh->ejected_until_ms) == 0 &&
	       atomic_load(&sh->ejections) == 0 && atomic_load(&sh->consecutive_errors) == 0 &&
	       atomic_load(&sh->ewma_ns) == 0 && atomic_load(&sh->up_since_ms) == 0 &&
	       atomic_load(&sh->requests) == 0 && atomic_load(&sh->failures) == 0;
}

TEST(sync_creates_fresh_entries)
{
	struct cfg *c = L(gen1);
	CHECK(c && registry_sync(c) == 0);
	if (!c)
		return;
	CHECK(fresh(registry_server("app", "s1"), 3, false));
	CHECK(fresh(registry_server("app", "s2"), 1, true));
	CHECK(fresh(registry_server("api", "a1"), 1, false));
	struct backend_shared *app = registry_backend("app"), *api = registry_backend("api");
	CHECK(app && api && app != api);
	if (app)
		CHECK_EQ_INT(atomic_load(&app->retry_tokens_milli), RETRY_BUDGET_CAP_MILLI);
	/* One entry per name: the same pointer on every lookup. */
	CHECK(registry_server("app", "s1") == registry_server("app", "s1"));
	CHECK(registry_server("app", "s1") != registry_server("app", "s2"));
	/* A second sync of the same generation changes nothing. */
	struct server_shared *s1 = registry_server("app", "s1");
	CHECK(registry_sync(c) == 0);
	CHECK(registry_server("app", "s1") == s1);
	registry_free();
	cfg_free(c);
}

TEST(unknown_names_are_not_found)
{
	struct cfg *c = L(gen1);
	CHECK(c && registry_sync(c) == 0);
	CHECK(registry_server("app", "nope") == NULL);
	CHECK(registry_server("nope", "s1") == NULL);
	CHECK(registry_server("api", "s1") == NULL);   /* a name of another backend */
	CHECK(registry_server("app", "") == NULL);
	CHECK(registry_backend("nope") == NULL);
	CHECK(registry_backend("") == NULL);
	registry_free();
	CHECK(registry_server("app", "s1") == NULL);
	CHECK(registry_backend("app") == NULL);
	cfg_free(c);
}

/* Changes every kind of state of app/s1 and app/s2 as traffic, checks and
 * an API would. */
static void scribble(struct server_shared *s1, struct server_shared *s2, struct backend_shared *b)
{
	atomic_store(&s1->health, SRV_DOWN);
	atomic_store(&s1->ewma_ns, 42000000);
	atomic_store(&s1->ewma_stamp_ms, 1234);
	atomic_store(&s1->ejections, 3);
	atomic_store(&s1->ejected_until_ms, 99999);
	atomic_store(&s1->consecutive_errors, 2);
	atomic_store(&s1->active, 7);
	atomic_store(&s1->requests, 1000);
	atomic_store(&s1->failures, 17);
	atomic_store(&s1->up_since_ms, 555);
	atomic_store(&s1->weight, 9);
	atomic_store(&s2->health, SRV_DOWN);
	atomic_store(&b->retry_tokens_milli, 1500);
}

TEST(second_generation_keeps_state_by_name)
{
	struct cfg *c1 = L(gen1), *c2 = L(gen2);
	CHECK(c1 && c2);
	if (!c1 || !c2) {
		cfg_free(c1);
		cfg_free(c2);
		return;
	}
	CHECK(registry_sync(c1) == 0);
	struct server_shared *s1 = registry_server("app", "s1"), *s2 = registry_server("app", "s2");
	struct backend_shared *app = registry_backend("app");
	CHECK(s1 && s2 && app);
	if (!s1 || !s2 || !app)
		return;
	scribble(s1, s2, app);

	CHECK(registry_sync(c2) == 0);
	/* Same name, same entry, untouched - the live weight included, even
	 * though the file now says weight 5. */
	CHECK(registry_server("app", "s1") == s1);
	CHECK(registry_backend("app") == app);
	CHECK_EQ_INT(atomic_load(&s1->health), SRV_DOWN);
	CHECK_EQ_INT(atomic_load(&s1->ewma_ns), 42000000);
	CHECK_EQ_INT(atomic_load(&s1->ewma_stamp_ms), 1234);
	CHECK_EQ_INT(atomic_load(&s1->ejections), 3);
	CHECK_EQ_INT(atomic_load(&s1->ejected_until_ms), 99999);
	CHECK_EQ_INT(atomic_load(&s1->consecutive_errors), 2);
	CHECK_EQ_INT(atomic_load(&s1->active), 7);
	CHECK_EQ_INT(atomic_load(&s1->requests), 1000);
	CHECK_EQ_INT(atomic_load(&s1->failures), 17);
	CHECK_EQ_INT(atomic_load(&s1->up_since_ms), 555);
	CHECK_EQ_INT(atomic_load(&s1->weight), 9);
	CHECK_EQ_INT(atomic_load(&app->retry_tokens_milli), 1500);
	/* Renamed s2 -> s3: fresh, with the file's weight; s2 stays until a
	 * prune (the older generation may still use it). */
	struct server_shared *s3 = registry_server("app", "s3");
	CHECK(s3 && s3 != s2);
	CHECK(fresh(s3, 2, false));
	CHECK(registry_server("app", "s2") == s2);
	CHECK_EQ_INT(atomic_load(&s2->health), SRV_DOWN);
	/* A new backend starts with a full budget. */
	struct backend_shared *ops = registry_backend("ops");
	CHECK(ops && atomic_load(&ops->retry_tokens_milli) == RETRY_BUDGET_CAP_MILLI);
	CHECK(fresh(registry_server("ops", "o1"), 1, false));
	registry_free();
	cfg_free(c1);
	cfg_free(c2);
}

TEST(a_new_generation_runtime_sees_the_kept_state)
{
	struct cfg *c1 = L(gen1), *c2 = L(gen2);
	CHECK(c1 && c2 && registry_sync(c1) == 0);
	if (!c1 || !c2) {
		cfg_free(c1);
		cfg_free(c2);
		return;
	}
	atomic_store(&registry_server("app", "s1")->health, SRV_DOWN);
	atomic_store(&registry_server("app", "s1")->weight, 4);
	CHECK(registry_sync(c2) == 0);
	/* A worker of generation 2 caches the same entries and balances by
	 * them: s1 is down there too, and its live weight is 4, not 5. */
	struct backend_rt be;
	CHECK(lb_backend_init(&be, c2->backends[0]) == 0);
	CHECK(be.sh == registry_backend("app"));
	CHECK(be.servers[0].sh == registry_server("app", "s1"));
	CHECK(be.servers[1].sh == registry_server("app", "s3"));
	CHECK(!lb_server_up(&be.servers[0]));
	CHECK(lb_server_up(&be.servers[1]));
	atomic_store(&be.servers[0].sh->health, SRV_UP);
	CHECK(lb_server_up(&be.servers[0]));
	CHECK_EQ_INT(lb_server_weight(&be.servers[0], 0), 4);
	CHECK_EQ_INT(lb_server_weight(&be.servers[1], 0), 2);
	lb_backend_free(&be);
	registry_free();
	cfg_free(c1);
	cfg_free(c2);
}

TEST(prune_drops_only_what_the_kept_generation_does_not_name)
{
	struct cfg *c1 = L(gen1), *c2 = L(gen2), *c3 = L(gen3);
	CHECK(c1 && c2 && c3);
	if (!c1 || !c2 || !c3) {
		cfg_free(c1);
		cfg_free(c2);
		cfg_free(c3);
		return;
	}
	CHECK(registry_sync(c1) == 0 && registry_sync(c2) == 0);
	struct server_shared *s1 = registry_server("app", "s1"), *a1 = registry_server("api", "a1");
	struct backend_shared *api = registry_backend("api");
	atomic_store(&s1->ejections, 5);

	registry_prune(c2);
	CHECK(registry_server("app", "s2") == NULL);   /* only generation 1 had it */
	CHECK(registry_server("app", "s1") == s1);
	CHECK_EQ_INT(atomic_load(&s1->ejections), 5);
	CHECK(registry_server("app", "s3") != NULL);
	CHECK(registry_server("api", "a1") == a1 && registry_backend("api") == api);
	CHECK(registry_server("ops", "o1") != NULL);

	registry_prune(c3);
	CHECK(registry_server("app", "s1") == NULL);
	CHECK(registry_server("app", "s3") != NULL);
	CHECK(registry_backend("app") != NULL);
	CHECK(registry_backend("api") == NULL && registry_server("api", "a1") == NULL);
	CHECK(registry_backend("ops") == NULL && registry_server("ops", "o1") == NULL);

	/* A name that comes back after a prune starts fresh. */
	CHECK(registry_sync(c1) == 0);
	CHECK(fresh(registry_server("app", "s1"), 3, false));
	CHECK(registry_backend("api") != NULL);
	registry_free();
	cfg_free(c1);
	cfg_free(c2);
	cfg_free(c3);
}

/* backend b0..b(nb-1), each with servers x0..x(ns-1). */
static struct cfg *big(int nb, int ns)
{
	size_t cap = (size_t)(nb * (ns + 3)) * 48 + 256, o = 0;
	char *text = malloc(cap);
	if (!text)
		return NULL;
	o += (size_t)snprintf(text, cap,
			      "frontend web {\n    bind 127.0.0.1:8080\n    default_backend b0\n}\n");
	for (int b = 0; b < nb; b++) {
		o += (size_t)snprintf(text + o, cap - o, "backend b%d {\n", b);
		for (int i = 0; i < ns; i++)
			o += (size_t)snprintf(text + o, cap - o, "    server x%d 127.0.0.1:%d\n", i,
					      10000 + i);
		o += (size_t)snprintf(text + o, cap - o, "}\n");
	}
	struct cfg *c = L(text);
	free(text);
	return c;
}

TEST(entries_never_move_as_the_registry_grows)
{
	struct cfg *small = big(1, 1), *large = big(40, 50);
	CHECK(small && large && registry_sync(small) == 0);
	if (!small || !large) {
		cfg_free(small);
		cfg_free(large);
		return;
	}
	struct server_shared *x0 = registry_server("b0", "x0");
	struct backend_shared *b0 = registry_backend("b0");
	atomic_store(&x0->failures, 11);
	CHECK(registry_sync(large) == 0);   /* both arrays grow several times */
	CHECK(registry_server("b0", "x0") == x0 && registry_backend("b0") == b0);
	CHECK_EQ_INT(atomic_load(&x0->failures), 11);
	int found = 0;
	for (int b = 0; b < 40; b++)
		for (int i = 0; i < 50; i++) {
			char bn[16], sn[16];
			snprintf(bn, sizeof(bn), "b%d", b);
			snprintf(sn, sizeof(sn), "x%d", i);
			found += registry_server(bn, sn) != NULL;
		}
	CHECK_EQ_INT(found, 2000);
	registry_prune(small);   /* shrinks back to b0/x0, which stays put */
	CHECK(registry_server("b0", "x0") == x0 && registry_server("b0", "x1") == NULL);
	CHECK(registry_backend("b39") == NULL);
	registry_free();
	cfg_free(small);
	cfg_free(large);
}

/* ---- configuration generations ---- */

/* Limits: a generation whose `limit` has the same parameters shares the
 * table (its counters) with the one before; changed parameters, a table
 * of its own; prune keeps only the running generation's. */
#define LIM(rate) FE "backend app {\n    server s1 127.0.0.1:9001\n}\n" \
	"limit l {\n    key src\n    rate " rate "\n    burst 5\n}\n"

TEST(limit_tables_are_kept_by_name_while_unchanged)
{
	struct cfg *a = L(LIM("1/m")), *b = L(LIM("1/m")), *c = L(LIM("2/m"));
	CHECK(a && b && c);
	CHECK_EQ_INT(registry_sync(a), 0);
	struct limit_table *ta = cfg_find_limit(a, "l")->table;
	CHECK(cfg_find_limit(b, "l")->table != ta);
	CHECK_EQ_INT(registry_sync_reload(b, 1000), 0);
	CHECK(cfg_find_limit(b, "l")->table == ta);   /* same counters */
	CHECK_EQ_INT(registry_sync_reload(c, 2000), 0);
	CHECK(cfg_find_limit(c, "l")->table != ta);   /* a fresh table */
	/* a, b still use ta: freeing them and c in any order is safe
	 * (ASan checks), the registry keeps c's until pruned or freed */
	cfg_put(a);
	registry_prune(c);
	cfg_put(b);
	cfg_put(c);
	registry_free();
}

/* A server a reload adds ramps up under its slowstart from the reload on;
 * servers known before, and servers of the first generation, do not. */
TEST(new_servers_of_a_reload_start_under_slowstart)
{
	struct cfg *a = L(FE "backend app {\n    server s1 127.0.0.1:9001 slowstart 10s\n}\n");
	struct cfg *b = L(FE "backend app {\n    server s1 127.0.0.1:9001 slowstart 10s\n"
			  "    server s2 127.0.0.1:9002 slowstart 10s\n"
			  "    server s3 127.0.0.1:9003\n}\n");
	CHECK(a && b);
	CHECK_EQ_INT(registry_sync(a), 0);
	CHECK_EQ_INT(registry_sync_reload(b, 12345), 0);
	CHECK(atomic_load(&registry_server("app", "s1")->up_since_ms) == 0);
	CHECK(atomic_load(&registry_server("app", "s2")->up_since_ms) == 12345);
	CHECK(atomic_load(&registry_server("app", "s3")->up_since_ms) == 0);
	cfg_put(a);
	cfg_put(b);
	registry_free();
}

TEST(cfg_refs_start_at_one_and_the_last_put_frees)
{
	struct cfg *c = L(gen1);
	CHECK(c);
	if (!c)
		return;
	CHECK_EQ_INT(atomic_load(&c->refs), 1);
	CHECK(cfg_get(c) == c);
	CHECK_EQ_INT(atomic_load(&c->refs), 2);
	cfg_put(c);
	/* Still there for the remaining holder (ASan would catch a free). */
	CHECK_EQ_INT(atomic_load(&c->refs), 1);
	CHECK(strcmp(c->file, "t.conf") == 0 && c->nbackends == 2);
	cfg_put(c);   /* the last one: freed (ASan's leak check sees it) */
	cfg_put(NULL);
}

#define REF_THREADS 4
#define REF_ROUNDS 100000

static void *ref_churn(void *arg)
{
	struct cfg *c = arg;
	for (int i = 0; i < REF_ROUNDS; i++) {
		cfg_get(c);
		cfg_put(c);
	}
	cfg_put(c);   /* the reference main took for this thread */
	return NULL;
}

TEST(cfg_refs_are_thread_safe)
{
	struct cfg *c = L(gen1);
	CHECK(c);
	if (!c)
		return;
	pthread_t t[REF_THREADS];
	for (int i = 0; i < REF_THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, ref_churn, cfg_get(c)) == 0);
	for (int i = 0; i < REF_THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(atomic_load(&c->refs), 1);
	cfg_put(c);
}

int main(void)
{
	log_level = LOG_ERR;
	RUN(sync_creates_fresh_entries);
	RUN(unknown_names_are_not_found);
	RUN(second_generation_keeps_state_by_name);
	RUN(a_new_generation_runtime_sees_the_kept_state);
	RUN(prune_drops_only_what_the_kept_generation_does_not_name);
	RUN(entries_never_move_as_the_registry_grows);
	RUN(limit_tables_are_kept_by_name_while_unchanged);
	RUN(new_servers_of_a_reload_start_under_slowstart);
	RUN(cfg_refs_start_at_one_and_the_last_put_frees);
	RUN(cfg_refs_are_thread_safe);
	registry_free();
	return UNIT_SUMMARY("test_registry");
}
