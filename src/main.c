/*
 * main.c - the command line: load and check the configuration, start the
 * worker threads, hand reloads to the control thread (control/reload.h),
 * wait for a stop signal, drain, exit.
 *
 *   gatehouse -c FILE        run in the foreground, log to stderr
 *   gatehouse -t -c FILE     check the configuration and exit
 *   gatehouse --keywords     list every directive and option the parser knows
 *   gatehouse -s reload|stop|upgrade -c FILE
 *                            signal the running process (its `pidfile`)
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "admin/admin.h"
#include "admin/metrics.h"
#include "cache/cache_metrics.h"
#include "cache/cache_api.h"
#include "config/cfg.h"
#include "control/pidfile.h"
#include "control/reload.h"
#include "control/sdnotify.h"
#include "control/upgrade.h"
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

/* `gatehouse -s reload` sends this one (SIGRTMIN+1, `kill -s RTMIN+1`):
 * real-time signals are queued one per sending, so N reloads asked for
 * at once are N reloads.  SIGHUP reloads too, but the kernel keeps only
 * one SIGHUP pending. */
#define SIGRELOAD (SIGRTMIN + 1)

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gatehouse -c FILE [-t]\n"
		"       gatehouse --keywords | --version | --help\n"
		"       gatehouse -c FILE -s reload|stop|upgrade\n"
		"\n"
		"A reverse proxy and load balancer.\n"
		"\n"
		"  -c, --config FILE  configuration file\n"
		"  -t, --test         check the configuration, print 'configuration OK' and exit\n"
		"  -d, --debug        log at debug level (one line per request)\n"
		"      --keywords     print 'CONTEXT KEYWORD' for every directive and option the\n"
		"                     parser knows (docs/configuration.md describes each)\n"
		"  -s, --signal SIG   tell the process running FILE (found through its\n"
		"                     `pidfile`) to reload, stop or upgrade, and exit\n"
		"  -v, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGTERM or SIGINT stops it\n"
		"gracefully: it stops accepting, lets requests in flight finish within\n"
		"'timeout drain' and exits 0.  SIGHUP reloads the configuration (a\n"
		"file with errors is refused and the running one keeps serving);\n"
		"SIGRTMIN+1, what -s reload sends, does the same, queued, never merged.\n"
		"SIGUSR2 upgrades the binary: the same path and arguments start with the\n"
		"listening sockets, and this process drains and exits once the new one\n"
		"serves.  SIGUSR1 reopens the access log files (after logrotate).\n");
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

static void print_keyword(void *arg, const char *context, const char *keyword)
{
	fprintf(arg, "%s %s\n", context, keyword);
}

/* `pidfile` of the file, read from its text (so it works for a file with
 * errors too: `-s stop` must): the first line whose first word is
 * `pidfile`, joined to the file's directory as the parser does. */
static char *pidfile_scan(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return NULL;
	char line[4096], *out = NULL;
	while (!out && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "pidfile", 7) != 0 || !strchr(" \t", p[7]))
			continue;
		p += 7 + strspn(p + 7, " \t");
		char *end = p + strcspn(p, " \t\r\n#;");
		if (*p == '"') {
			p++;
			end = strchr(p, '"');
			if (!end)
				continue;
		}
		*end = '\0';
		const char *slash = strrchr(file, '/');
		if (*p == '/' || !slash)
			out = strdup(p);
		else if (asprintf(&out, "%.*s/%s", (int)(slash - file), file, p) < 0)
			out = NULL;
	}
	fclose(f);
	return out;
}

/* gatehouse -s SIGNAL -c FILE */
static int send_signal(const char *file, const char *what)
{
	/* reload goes as SIGRELOAD, a real-time signal: the kernel queues
	 * each one, where two SIGHUPs sent before the first is read merge. */
	int sig = strcmp(what, "reload") == 0 ? SIGRELOAD :
		  strcmp(what, "stop") == 0 ? SIGTERM :
		  strcmp(what, "upgrade") == 0 ? SIGUSR2 : 0;
	if (!sig) {
		fprintf(stderr, "gatehouse: -s %s: expected reload, stop or upgrade\n", what);
		return 2;
	}
	/* The line itself first: loading the whole file (certificates, a WAF's
	 * rules) only to find one path would take seconds. */
	char *path = pidfile_scan(file);
	if (!path) {
		char *errs = NULL;
		struct cfg *c = cfg_load(file, &errs);
		free(errs);
		if (c && c->global.pidfile)
			path = strdup(c->global.pidfile);
		cfg_free(c);
	}
	if (!path) {
		fprintf(stderr, "%s: no `pidfile` in global: cannot find the running process\n",
			file);
		return 1;
	}
	char err[512];
	pid_t pid = pidfile_read(path, err, sizeof(err));
	if (pid < 0 || kill(pid, sig) < 0) {
		fprintf(stderr, "gatehouse: %s\n", pid < 0 ? err : strerror(errno));
		free(path);
		return 1;
	}
	printf("sent %s to gatehouse (pid %d)\n", what, (int)pid);
	free(path);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "signal", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "keywords", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *sigwhat = NULL;
	bool check = false, debug = false;
	int o;

	while ((o = getopt_long(argc, argv, "c:tdvhs:", opts, NULL)) != -1) {
		switch (o) {
		case 'c': file = optarg; break;
		case 's': sigwhat = optarg; break;
		case 't': check = true; break;
		case 'd': debug = true; break;
		case 'v': printf("gatehouse %s\n", GATEHOUSE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 'K': cfg_keywords_each(print_keyword, stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sigwhat)
		return send_signal(file, sigwhat);
	upgrade_set_argv(argc, argv);

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
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRELOAD);
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
	/* Started by a binary upgrade: the old process's listening sockets
	 * are taken instead of binding (control/upgrade.h). */
	upgrade_inherit();
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
	int n = cfg_workers_effective(cfg);
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
	 * and the health thread maintain (the caches' counters among them). */
	cache_metrics_register();
	cache_api_register();
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
	cfg->generation = 1;
	char *pidfile = cfg->global.pidfile ? strdup(cfg->global.pidfile) : NULL;
	if (pidfile)
		pidfile_write(pidfile);
	upgrade_ready();   /* the old process of an upgrade drains from now */
	sdnotify_ready("serving generation 1");
	/* Reloads and upgrades run on the control thread, in order; this
	 * thread only takes signals. */
	reload_on_apply(admin_apply_cfg, admin);   /* the listener serves the new one */
	if (debug)
		reload_fix_log_level();
	if (reload_start(file, cfg, ws, n, health) < 0)
		log_err("reloads are not available");

	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	bool upgraded = false, upgrading = false;
	for (;;) {
		/* Signals wake this thread through the signalfd; only a binary
		 * upgrade (started on the control thread after SIGUSR2) is
		 * polled for, every 100 ms from the SIGUSR2 on: an idle
		 * process otherwise never wakes here (issue 15). */
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int pr = poll(&pfd, 1, upgrading || upgrade_child() ? 100 : -1);
		if (upgrade_child() && upgrade_poll() == 1) {
			upgraded = true;
			break;
		}
		if (pr <= 0)
			continue;
		struct signalfd_siginfo si;
		int stop = 0;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGHUP || sig == SIGRELOAD) {
				reload_post();
			} else if (sig == SIGUSR2) {
				log_info("SIGUSR2: binary upgrade");
				upgrading = true;
				reload_post_upgrade();
			} else if (sig == SIGUSR1) {
				log_info("SIGUSR1: reopening access log files");
				access_log_reopen();
			} else if (sig == SIGTERM || sig == SIGINT) {
				stop = sig;
			}
		}
		if (stop)
			break;
	}
	close(sfd);
	if (!upgraded)
		sdnotify_stopping();
	/* The admin thread first: a POST /api/reload waits on the control
	 * thread, and its handlers read the registry. */
	admin_stop(admin);
	/* The reload under way finishes; the running generation comes back
	 * (cfg may have been released by a reload: not read before this). */
	reload_stop(&cfg, &health);
	log_info("%s: stopping gracefully (timeout drain %ums)",
		 upgraded ? "upgrade done" : "received a stop signal", cfg->global.timeout_drain_ms);
	if (upgraded)
		workers_drain(ws, n);
	else
		workers_stop(ws, n);
	int rc = workers_join(ws, n);
	reload_release_all();
	offload_stop();   /* after the workers: they wait for their jobs */
	health_stop(health);
	if (pidfile)
		pidfile_remove(pidfile);
	free(pidfile);
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
