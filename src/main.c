/*
 * main.c - the command line: load and check the configuration, start the
 * worker threads, wait for a stop signal, drain, exit.
 *
 *   gatehouse -c FILE        run in the foreground, log to stderr
 *   gatehouse -t -c FILE     check the configuration and exit
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "admin/admin.h"
#include "admin/metrics.h"
#include "config/cfg.h"
#include "core/log.h"
#include "core/privs.h"
#include "health/health.h"
#include "lb/registry.h"
#include "log/access_log.h"
#include "net/iplist.h"
#include "net/tls.h"
#include "proxy/offload.h"
#include "proxy/worker.h"
#include "waf/waf.h"

#define GATEHOUSE_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gatehouse -c FILE [-t]\n"
		"       gatehouse --version | --help\n"
		"\n"
		"A reverse proxy and load balancer.\n"
		"\n"
		"  -c, --config FILE  configuration file\n"
		"  -t, --test         check the configuration, print 'configuration OK' and exit\n"
		"  -d, --debug        log at debug level (one line per request)\n"
		"  -v, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGTERM or SIGINT stops it\n"
		"gracefully: it stops accepting, lets requests in flight finish within\n"
		"'timeout drain' and exits 0.  SIGHUP re-reads OCSP files that changed.\n"
		"SIGUSR1 reopens the access log files (after logrotate renamed them).\n");
}

/* Raises the descriptor limit to what max_connections needs (two sockets
 * per proxied connection), as far as the hard limit allows. */
static void raise_nofile(int max_conns)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = (rlim_t)max_conns * 2 + 256;
	if (want > rl.rlim_max)
		want = rl.rlim_max;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open files limit: %s", strerror(errno));
	}
	if ((rlim_t)max_conns * 2 > rl.rlim_cur)
		log_warn("max_connections %d needs %d file descriptors but the limit is %llu",
			 max_conns, max_conns * 2, (unsigned long long)rl.rlim_cur);
}

static int worker_count(const struct cfg *c)
{
	if (c->global.workers > 0)
		return c->global.workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	bool check = false, debug = false;
	int o;

	while ((o = getopt_long(argc, argv, "c:tdvh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': file = optarg; break;
		case 't': check = true; break;
		case 'd': debug = true; break;
		case 'v': printf("gatehouse %s\n", GATEHOUSE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}

	char *errs = NULL;
	struct cfg *cfg = cfg_load(file, &errs);
	if (errs && *errs)
		fprintf(stderr, "%s%s", errs, errs[strlen(errs) - 1] == '\n' ? "" : "\n");
	free(errs);
	if (!cfg) {
		fprintf(stderr, "%s: configuration has errors\n", file);
		return 1;
	}
	if (cfg->warnings && *cfg->warnings)
		fprintf(stderr, "%s\n", cfg->warnings);
	bool as_root = privs_root_without_user(cfg);
	if (check && as_root)
		fprintf(stderr, "%s: warning: running as root without 'user'; every worker would "
				"keep root's privileges (set global 'user' and 'group')\n", file);
	if (check) {
		printf("configuration OK\n");
		cfg_free(cfg);
		return 0;
	}
	log_level = debug ? LOG_DEBUG : cfg->global.log_level;

	/* Signals are taken synchronously by this thread; workers never see them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (as_root)
		log_warn("running as root without 'user': every worker keeps root's privileges "
			 "(set global 'user' and 'group')");

	/*
	 * Order matters (core/privs.h): everything that needs root first - the
	 * descriptor limit, every listening socket (ports below 1024, unix@
	 * files) - then chroot and the drop to `user`/`group`, before any
	 * thread exists so every thread runs with the reduced credentials.
	 * Access logs are opened after the drop, as the user that must reopen
	 * them on SIGUSR1: a log it could not reopen fails the start, not the
	 * first logrotate.
	 */
	raise_nofile(cfg->global.max_connections);
	/* Runtime state of every backend and server, by name, before anything
	 * that looks it up (workers, the health thread). */
	if (registry_sync(cfg) < 0) {
		log_err("out of memory");
		registry_free();
		cfg_put(cfg);
		return 1;
	}
	/* The admin listener binds with the frontends, before the drop, and
	 * before the filter chains are built (workers_prepare): with it,
	 * they count for /metrics (admin/metrics.h). */
	struct admin *admin = NULL;
	if (admin_open(cfg, &admin) < 0) {
		log_err("startup failed: admin listener");
		registry_free();
		cfg_put(cfg);
		return 1;
	}
	int n = worker_count(cfg);
	struct worker *ws = NULL;
	if (workers_prepare(cfg, n, &ws) < 0) {
		log_err("startup failed");
		admin_stop(admin);
		registry_free();
		cfg_put(cfg);
		return 1;
	}
	char perr[256];
	if (privs_drop(cfg, perr, sizeof(perr)) < 0) {
		log_err("startup failed: %s", perr);
		admin_stop(admin);
		workers_discard(ws, n);
		registry_free();
		cfg_put(cfg);
		return 1;
	}
	if (cfg->global.uid > 0)
		log_info("running as uid %d gid %d%s%s", cfg->global.uid, cfg->global.gid,
			 cfg->global.chroot ? ", chroot " : "",
			 cfg->global.chroot ? cfg->global.chroot : "");
	log_async_start();
	/* The WAF's inspections run on a pool of their own (proxy/offload.h). */
	if (cfg->nwafs && offload_start(cfg->global.waf_threads, (uint32_t)cfg->global.waf_queue) < 0) {
		log_err("startup failed: WAF threads");
		admin_stop(admin);
		workers_discard(ws, n);
		registry_free();
		cfg_put(cfg);
		log_async_stop();
		return 1;
	}
	for (int i = 0; i < cfg->nwafs; i++)
		log_info("waf %s: %zu rule files loaded in %llu ms (paranoia %d, %s)",
			 cfg->wafs[i]->name, cfg->wafs[i]->rt->nfiles,
			 (unsigned long long)(cfg->wafs[i]->rt->load_us / 1000),
			 cfg->wafs[i]->paranoia, cfg->wafs[i]->detect ? "detect" : "block");
	char *alerr = NULL;
	if (access_logs_open(cfg, &alerr) < 0) {
		log_err("startup failed: %s", alerr ? alerr : "access logs");
		admin_stop(admin);
		free(alerr);
		workers_discard(ws, n);
		registry_free();
		cfg_put(cfg);
		offload_stop();
		log_async_stop();
		return 1;
	}
	if (workers_run(ws, n) < 0) {
		log_err("startup failed");
		admin_stop(admin);
		registry_free();
		access_logs_close();
		cfg_put(cfg);
		offload_stop();
		log_async_stop();
		return 1;
	}
	/* Checks start once the workers run, on a thread of their own
	 * (health.c says why); it stops after the workers have drained. */
	struct health *health = NULL;
	if (health_start(cfg, &health) < 0) {
		log_err("startup failed: health checks");
		admin_stop(admin);
		workers_stop(ws, n);
		workers_join(ws, n);
		registry_free();
		access_logs_close();
		cfg_put(cfg);
		offload_stop();
		log_async_stop();
		return 1;
	}
	/* The admin thread starts last: its handlers read what the workers
	 * and the health thread maintain. */
	if (admin_start(admin) < 0) {
		log_err("startup failed: admin listener");
		admin_stop(admin);
		health_stop(health);
		workers_stop(ws, n);
		workers_join(ws, n);
		offload_stop();
		registry_free();
		access_logs_close();
		cfg_put(cfg);
		log_async_stop();
		return 1;
	}
	log_info("gatehouse %s started: %d worker%s, %d frontend%s, %d backend%s (pid %d)",
		 GATEHOUSE_VERSION, n, n > 1 ? "s" : "", cfg->nfrontends,
		 cfg->nfrontends == 1 ? "" : "s", cfg->nbackends, cfg->nbackends == 1 ? "" : "s",
		 (int)getpid());
	for (int i = 0; i < cfg->niplists; i++) {
		const struct iplist *l = cfg->iplists[i].list;
		log_info("IP list %s: %zu entries, %zu ranges, %.1f MiB", cfg->iplists[i].path,
			 iplist_entries(l), iplist_ranges(l), (double)iplist_bytes(l) / (1 << 20));
	}

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: re-reading changed OCSP responses; configuration reload "
				 "is not implemented yet");
			tls_ocsp_reload(cfg);
			continue;
		}
		if (sig == SIGUSR1) {
			log_info("SIGUSR1: reopening access log files");
			access_log_reopen();
			continue;
		}
		log_info("received %s: stopping gracefully (timeout drain %ums)",
			 sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg->global.timeout_drain_ms);
		break;
	}
	workers_stop(ws, n);
	int rc = workers_join(ws, n);
	offload_stop();   /* after the workers: they wait for their jobs */
	health_stop(health);
	admin_stop(admin);   /* its handlers read the registry: before it goes */
	log_info("stopped");
	/* Workers and the health thread are gone: nothing holds a registry
	 * pointer any more.  main's reference is the last one once the
	 * streams (which hold their own) have ended. */
	registry_free();
	metrics_free();
	access_logs_close();
	cfg_put(cfg);
	log_async_stop();
	return rc;
}
