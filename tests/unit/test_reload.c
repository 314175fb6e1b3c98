/*
 * test_reload.c - the control thread's reload queue (src/control/reload.c)
 * as the admin API uses it: reload_request() waits for its own reload and
 * gets the new generation's number or the file's errors; requests queued
 * together are applied one by one, in order; reload_stats() counts both
 * outcomes.  No worker runs here (a process of zero workers): what is
 * checked is the queue, the outcome and the generations' release, with
 * ASan watching the references.  The e2e tests (test_reload.py) run the
 * whole thing against traffic.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "control/reload.h"
#include "core/log.h"
#include "lb/registry.h"
#include "log/access_log.h"
#include "proxy/filter.h"
#include "unit.h"

static char path[64];

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

#define GOOD "frontend web {\n    bind 127.0.0.1:1\n    default_backend app\n}\n" \
	     "backend app {\n    server s1 127.0.0.1:9001\n}\n"

static struct cfg *start(void)
{
	char *errs = NULL;
	struct cfg *c = cfg_load(path, &errs);
	free(errs);
	if (!c || registry_sync(c) < 0)
		return NULL;
	if (reload_start(path, c, NULL, 0, NULL) < 0)
		return NULL;
	return c;
}

static void finish(void)
{
	struct cfg *c = NULL;
	struct health *h = NULL;
	reload_stop(&c, &h);
	reload_release_all();
	registry_free();
	access_logs_close();
	filters_free(c);   /* the workers' join does it in the process */
	cfg_put(c);
}

static void on_apply(struct cfg *c, void *arg)
{
	*(unsigned *)arg = c->generation;
}

TEST(request_waits_for_its_outcome)
{
	static unsigned seen;   /* the hook stays registered after this test */
	write_conf(GOOD);
	CHECK(start() != NULL);
	reload_on_apply(on_apply, &seen);
	unsigned gen = 0;
	char *errs = NULL;
	CHECK_EQ_INT(reload_request(&gen, &errs), 0);
	CHECK_EQ_INT((int)gen, 2);
	CHECK_EQ_INT((int)seen, 2);
	CHECK(errs == NULL);

	write_conf(GOOD "backend {\n");
	CHECK_EQ_INT(reload_request(&gen, &errs), -1);
	CHECK(errs && strstr(errs, "error") != NULL);
	free(errs);

	write_conf(GOOD);
	CHECK_EQ_INT(reload_request(&gen, &errs), 0);
	CHECK_EQ_INT((int)gen, 3);   /* a refused file takes no number */
	struct reload_stats st = reload_stats();
	CHECK_EQ_INT((int)st.ok, 2);
	CHECK_EQ_INT((int)st.error, 1);
	CHECK_EQ_INT((int)st.generation, 3);
	struct cfg *cur = reload_current();
	CHECK(cur && cur->generation == 3);
	cfg_put(cur);
	finish();
}

struct waiter {
	unsigned gen;
	int rc;
};

static void *req_thread(void *arg)
{
	struct waiter *w = arg;
	char *errs = NULL;
	w->rc = reload_request(&w->gen, &errs);
	free(errs);
	return NULL;
}

TEST(requests_queued_together_are_each_applied)
{
	write_conf(GOOD);
	CHECK(start() != NULL);
	uint64_t ok0 = reload_stats().ok;
	for (int i = 0; i < 5; i++)
		reload_post();   /* as SIGHUPs do: not waited for */
	pthread_t th[4];
	struct waiter w[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, req_thread, &w[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	unsigned seen[16] = { 0 };
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(w[i].rc, 0);
		CHECK(w[i].gen >= 2 && w[i].gen <= 10);
		CHECK(!seen[w[i].gen]);   /* each its own reload */
		seen[w[i].gen] = 1;
	}
	/* the five posted ones are applied too (one more waited request
	 * queues behind them) */
	unsigned gen = 0;
	char *errs = NULL;
	CHECK_EQ_INT(reload_request(&gen, &errs), 0);
	CHECK_EQ_INT((int)gen, 11);
	struct reload_stats st = reload_stats();
	CHECK_EQ_INT((int)(st.ok - ok0), 10);
	CHECK_EQ_INT((int)st.pending, 0);
	finish();
}

int main(void)
{
	log_level = LOG_ERR;
	snprintf(path, sizeof(path), "/tmp/gh-unit-reload-%d.conf", (int)getpid());
	RUN(request_waits_for_its_outcome);
	RUN(requests_queued_together_are_each_applied);
	unlink(path);
	return UNIT_SUMMARY("test_reload");
}
