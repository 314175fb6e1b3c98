/*
 * waf.c - ModSecurity glue (see waf.h): loading a `waf` section's rules,
 * and inspecting one request on whatever thread calls waf_inspect().
 *
 * Load order of one section, all into one RulesSet:
 *   1. gatehouse's prologue: SecRuleEngine On|DetectionOnly, request body
 *      access and limits, the body processors of modsecurity.conf-
 *      recommended (ids 200000 XML, 200001 JSON, 200002 a body that did
 *      not parse is refused), the rule that lifts 200002 for a body cut at
 *      body_limit (90002), the JSON parser for a body D48 reads whole
 *      (90003, by an internal header waf_inspect() adds), one rule per
 *      conditional exclusion (90010+i);
 *   2. the `rules` files in order; a CRS directory expands to its
 *      owasp-crs.load's Include lines (globs sorted), else crs-setup.conf
 *      and every rules/NAME.conf, sorted.  Right after crs-setup.conf (or before
 *      the first file when there is none) comes the paranoia SecAction
 *      (90001: tx.paranoia_level and tx.executing_paranoia_level), so it
 *      overrides crs-setup.conf's 900000 and precedes REQUEST-901; then,
 *      unless `defaults off`, gatehouse's default exclusions (crs_defaults.c,
 *      90020-90069, 90080-90084; D33, D35, D38, D39, D42 and D48 also
 *      rewrite a text/plain, CSV, NDJSON, YAML, iCalendar, vCard or
 *      unlisted text body for the JSON parser in waf_inspect()); right
 *      after REQUEST-901-INITIALIZATION.conf (where the CRS fills its
 *      policy lists; else after the defaults) the
 *      `allow_methods`/`allow_types` additions (90077-90079, policy_text());
 *   3. SecRuleRemoveById for unconditional exclusions.
 * Rule ids 90000-90099 are gatehouse's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <strings.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include "waf/waf.h"

#include "core/log.h"

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void log_cb(void *data, const void *msg);

/* One ModSecurity engine for the process, shared by every configuration
 * generation's rules, and never freed: msc_cleanup() calls libxml2's
 * xmlCleanupParser(), which deletes libxml2's per-thread key while the WAF
 * threads live on, so after a reload released the old generation, each
 * thread's next XML body left libxml2's state behind for good (LeakSanitizer
 * in test_waf_policy's reload test).  Rules sets are per generation. */
static ModSecurity *engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_create(void)
{
	engine = msc_init();
	if (!engine)
		return;
	msc_set_connector_info(engine, "gatehouse");
	/* Each transaction's log data is its own collector (waf_inspect). */
	msc_set_log_cb(engine, log_cb);
}

/* ---- the list of files ---------------------------------------------------- */

struct flist {
	char **v;
	size_t n, cap;
};

static int flist_add(struct flist *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(path)))
		return -1;
	l->n++;
	return 0;
}

static void flist_free(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* A glob, sorted; "optional": no match is fine. */
static int add_glob(struct flist *l, const char *pat, bool optional, char *err, size_t errlen)
{
	glob_t g;
	int rc = glob(pat, 0, NULL, &g);

	if (rc == GLOB_NOMATCH) {
		if (optional)
			return 0;
		snprintf(err, errlen, "%s: no such file", pat);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot list files", pat);
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (flist_add(l, g.gl_pathv[i]) < 0) {
			globfree(&g);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	globfree(&g);
	return 0;
}

/* A CRS install's owasp-crs.load: Include / IncludeOptional lines only. */
static int add_load_file(struct flist *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = 0;
		if (!*p || *p == '#')
			continue;
		char *arg = p + strcspn(p, " \t");
		if (*arg)
			*arg++ = 0;
		arg += strspn(arg, " \t");
		arg[strcspn(arg, " \t")] = 0;
		bool opt = strcasecmp(p, "IncludeOptional") == 0;
		if ((!opt && strcasecmp(p, "Include") != 0) || !*arg) {
			snprintf(err, errlen, "%s:%d: expected Include or IncludeOptional lines only",
				 path, lineno);
			fclose(f);
			return -1;
		}
		if (add_glob(l, arg, opt, err, errlen) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int add_path(struct flist *l, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char buf[4096 + 64];

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return flist_add(l, path) < 0 ? (snprintf(err, errlen, "out of memory"), -1) : 0;
	snprintf(buf, sizeof(buf), "%s/owasp-crs.load", path);
	if (access(buf, R_OK) == 0)
		return add_load_file(l, buf, err, errlen);
	const char *setups[] = { "crs-setup.conf", "crs-setup.conf.example" };
	bool found = false;
	for (size_t i = 0; i < 2 && !found; i++) {
		snprintf(buf, sizeof(buf), "%s/%s", path, setups[i]);
		if (access(buf, R_OK) == 0) {
			found = true;
			if (flist_add(l, buf) < 0) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
	}
	if (!found) {
		snprintf(err, errlen,
			 "%s: a CRS directory needs owasp-crs.load or crs-setup.conf (the CRS "
			 "refuses every request without its setup)",
			 path);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s/rules/*.conf", path);
	return add_glob(l, buf, false, err, errlen);
}

/* ---- loading ----------------------------------------------------------------- */

static bool is_crs_setup(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strncmp(b, "crs-setup.conf", 14) == 0;
}

static int add_text(struct waf_rt *rt, const char *text, const char *what, char *err,
		    size_t errlen)
{
	const char *e = NULL;
	if (msc_rules_add(rt->rules, text, &e) < 0) {
		snprintf(err, errlen, "%s: %s", what, e ? e : "rejected by ModSecurity");
		free((void *)e);
		return -1;
	}
	return 0;
}

/* Appends to a growing string; false when out of memory. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static bool sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = b->p ? vsnprintf(b->p + b->len, room, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return true;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		if (n >= 0 && cap < b->len + (size_t)n + 1)
			cap = b->len + (size_t)n + 1;
		char *p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
}

static char *prologue(const struct waf_rt *rt)
{
	const struct cfg_waf *w = rt->cfg;
	struct sbuf b = { 0 };
	unsigned long long lim = (unsigned long long)(w->body_limit ? w->body_limit : 1);
	/* gatehouse hands ModSecurity at most body_limit bytes of a body (and
	 * says when it cut it); D33/D35/D38 rewrite a text/plain, CSV, NDJSON
	 * or YAML body for the JSON parser, up to 6 bytes a byte (\u001f) and 2 more:
	 * ModSecurity's own limit leaves room for that, so a body under
	 * body_limit is never cut by ModSecurity into JSON that fails 200002 */
	unsigned long long mlim = w->defaults || w->allow_types ? lim * 6 + 2 : lim;
	bool ok = sb_add(&b,
		"SecRuleEngine %s\n"
		"SecRequestBodyAccess On\n"
		"SecRequestBodyLimit %llu\n"
		"SecRequestBodyNoFilesLimit %llu\n"
		"SecRequestBodyLimitAction ProcessPartial\n"
		"SecResponseBodyAccess %s\n"
		"SecResponseBodyLimit %llu\n"
		"SecResponseBodyLimitAction ProcessPartial\n"
		"SecResponseBodyMimeType %s\n"
		"SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" "
		"\"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
		"SecRule REQUEST_HEADERS:Content-Type \"^application/json\" "
		"\"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
		"SecRule REQBODY_ERROR \"!@eq 0\" \"id:200002,phase:2,t:none,log,deny,status:400,"
		"msg:'Failed to parse request body.',logdata:'%%{reqbody_error_msg}',severity:2\"\n"
		"SecRule REQUEST_HEADERS:%s-partial \"@streq 1\" "
		"\"id:90002,phase:1,t:none,pass,nolog,ctl:ruleRemoveById=200002\"\n"
		/* @rx, not @streq: the pre-filter evaluates a body processor
		 * ctl's links by their regex (json_ctl_fires()) */
		"SecRule REQUEST_HEADERS:%s-whole \"@rx ^1$\" "
		"\"id:90003,phase:1,t:none,pass,nolog,ctl:requestBodyProcessor=JSON\"\n",
		w->detect ? "DetectionOnly" : "On", mlim, mlim, w->inspect_response ? "On" : "Off",
		(unsigned long long)(w->response_body_limit ? w->response_body_limit : 1),
		w->response_types ? w->response_types : "text/html", rt->secret, rt->secret);
	int ncond = 0;
	for (int i = 0; ok && i < w->nexcludes; i++) {
		const struct cfg_waf_exclude *x = &w->excludes[i];
		if (!x->cond)
			continue;
		ok = sb_add(&b, "SecRule REQUEST_HEADERS:%s-e%d \"@streq 1\" "
				"\"id:%d,phase:1,t:none,pass,nolog", rt->secret, ncond, 90010 + ncond);
		for (int k = 0; ok && k < x->nids; k++) {
			int extra[8];
			int ne = w->defaults ? waf_crs_standins(x->ids[k], extra, 8) : 0;
			ok = sb_add(&b, ",ctl:ruleRemoveById=%s", x->ids[k]);
			for (int j = 0; ok && j < ne; j++)
				ok = sb_add(&b, ",ctl:ruleRemoveById=%d", extra[j]);
		}
		ok = ok && sb_add(&b, "\"\n");
		ncond++;
	}
	if (!ok) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* `allow_types`: whether a body of type t (lowercase, no parameters) is
 * read whole as one string (the JSON parser, rewritten in waf_inspect()).
 * Not a type with a body parser of its own: XML (200000), JSON (200001,
 * and D12's +json with the defaults), URL-encoded and multipart
 * (ModSecurity's): those are added to the list only, and keep their
 * parser. */
static bool reads_whole(const struct cfg_waf *w, const char *t, size_t n)
{
	static const char *const parsed[] = { "application/xml", "application/soap+xml",
		"text/xml", "application/json", "application/x-www-form-urlencoded",
		"multipart/" };
	for (size_t i = 0; i < sizeof(parsed) / sizeof(parsed[0]); i++)
		if (n >= strlen(parsed[i]) && !strncmp(t, parsed[i], strlen(parsed[i])))
			return false;
	return !(w->defaults && n > 5 && !strncmp(t + n - 5, "+json", 5));
}

/* `allow_methods` and `allow_types` (cfg_waf.c): appended to the CRS's
 * policy lists once they are set (by crs-setup.conf, else by D1/D2, else
 * by REQUEST-901 with `defaults off`), as the CRS's own application
 * exclusions append to them (903.9003); then the JSON parser for the
 * types read whole.  NULL with *oom false: nothing to add. */
static char *policy_text(const struct cfg_waf *w, bool *oom)
{
	struct sbuf b = { 0 };
	bool ok = true;

	*oom = false;
	if (w->allow_methods)
		ok = sb_add(&b, "SecAction \"id:90077,phase:1,pass,nolog,t:none,"
				"setvar:'tx.allowed_methods=%%{tx.allowed_methods} %s'\"\n",
			    w->allow_methods);
	if (ok && (w->allow_types || w->allow_types_raw)) {
		ok = sb_add(&b, "SecAction \"id:90078,phase:1,pass,nolog,t:none,"
				"setvar:'tx.allowed_request_content_type="
				"%%{tx.allowed_request_content_type}");
		for (int k = 0; k < 2; k++) {
			const char *q = k ? w->allow_types_raw : w->allow_types;
			while (ok && q && *q) {
				size_t n = strcspn(q, " ");
				ok = sb_add(&b, " |%.*s|", (int)n, q);
				q += n + (q[n] == ' ');
			}
		}
		ok = ok && sb_add(&b, "'\"\n");
	}
	bool any = false;
	for (const char *q = w->allow_types; ok && q && *q;) {
		size_t n = strcspn(q, " ");
		if (reads_whole(w, q, n)) {
			ok = sb_add(&b, "%s", any ? "|" : "SecRule REQUEST_HEADERS:Content-Type "
				    "\"@rx ^(?:");
			/* RFC 6838 names: . + $ ^ are the regex's */
			for (size_t i = 0; ok && i < n; i++)
				ok = sb_add(&b, "%s%c", strchr(".+$^", q[i]) ? "\\" : "", q[i]);
			any = true;
		}
		q += n + (q[n] == ' ');
	}
	if (ok && any)
		ok = sb_add(&b, ")(?:\\s*;|$)\" \"id:90079,phase:1,pass,nolog,t:none,t:lowercase,"
				"ctl:requestBodyProcessor=JSON\"\n");
	if (!ok) {
		free(b.p);
		*oom = true;
		return NULL;
	}
	return b.p;
}

/* What ModSecurity was given, in order, for the pre-filter to read the
 * same rules (texts are borrowed: they live until waf_load returns). */
struct srcs {
	struct waf_pf_src *v;
	size_t n, cap;
};

static int src_add(struct srcs *l, const char *path, const char *text, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));
		if (!p)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = (struct waf_pf_src){ .path = path, .text = text, .name = name };
	return 0;
}

static int add_text_src(struct waf_rt *rt, struct srcs *l, const char *text, const char *what,
			char *err, size_t errlen)
{
	if (add_text(rt, text, what, err, errlen) < 0)
		return -1;
	if (src_add(l, NULL, text, what) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* REQUEST-901-INITIALIZATION.conf, where the CRS fills its policy lists. */
static bool is_crs_init(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strncmp(b, "REQUEST-901-", 12) == 0;
}

/* What goes right after crs-setup.conf: the paranoia SecAction, then
 * gatehouse's default exclusions (crs_defaults.c) unless `defaults off`,
 * then the policy additions (policy_text) when no REQUEST-901 file comes
 * later to fill the lists first (policy NULL: they go there). */
static int after_setup(struct waf_rt *rt, struct srcs *l, const char *paranoia,
		       const char *policy, char *err, size_t errlen)
{
	if (add_text_src(rt, l, paranoia, "gatehouse's paranoia", err, errlen) < 0)
		return -1;
	if (rt->cfg->defaults &&
	    add_text_src(rt, l, waf_crs_defaults, "gatehouse's default exclusions", err, errlen) < 0)
		return -1;
	if (policy && add_text_src(rt, l, policy, "allow_methods/allow_types", err, errlen) < 0)
		return -1;
	return 0;
}

struct waf_rt *waf_load(const struct cfg_waf *w, const char *base_dir, int *bad, char *err,
			size_t errlen)
{
	struct waf_rt *rt = calloc(1, sizeof(*rt));
	struct flist files = { 0 };
	struct srcs srcs = { 0 };
	char *pro = NULL, *policy = NULL;
	char path[4096], text[256];
	unsigned char rnd[16];
	uint64_t t0 = now_us();
	size_t *ends = calloc((size_t)w->nrules + 1, sizeof(*ends));

	*bad = -1;
	if (!rt || !ends) {
		free(ends);
		free(rt);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rt->cfg = w;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		free(ends);
		free(rt);
		return NULL;
	}
	int n = snprintf(rt->secret, sizeof(rt->secret), "x-gh-waf-");
	for (size_t i = 0; i < sizeof(rnd); i++)
		n += snprintf(rt->secret + n, sizeof(rt->secret) - (size_t)n, "%02x", rnd[i]);
	rt->secret_len = (size_t)n;
	/* the `allow_types` read whole, once (waf_reads_whole() runs a request) */
	for (const char *q = w->allow_types; q && *q;) {
		size_t k = strcspn(q, " ");
		if (reads_whole(w, q, k)) {
			void *v = realloc(rt->whole, (rt->nwhole + 1) * sizeof(*rt->whole));
			if (!v) {
				snprintf(err, errlen, "out of memory");
				free(ends);
				waf_free(rt);
				return NULL;
			}
			rt->whole = v;
			rt->whole[rt->nwhole++] = (struct waf_type){ .t = q, .n = k };
		}
		q += k + (q[k] == ' ');
	}

	for (int i = 0; i < w->nrules; i++) {
		const char *p = w->rules[i].path;
		if (p[0] != '/' && base_dir && *base_dir)
			snprintf(path, sizeof(path), "%s/%s", base_dir, p);
		else
			snprintf(path, sizeof(path), "%s", p);
		*bad = i;
		if (add_path(&files, path, err, errlen) < 0)
			goto fail;
		ends[i] = files.n;
	}
	*bad = -1;

	pthread_once(&engine_once, engine_create);
	rt->ms = engine;
	rt->rules = msc_create_rules_set();
	if (!rt->ms || !rt->rules) {
		snprintf(err, errlen, "ModSecurity: cannot initialise");
		goto fail;
	}
	pro = prologue(rt);
	if (!pro) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (add_text_src(rt, &srcs, pro, "gatehouse's prologue", err, errlen) < 0)
		goto fail;

	snprintf(text, sizeof(text),
		 "SecAction \"id:90001,phase:1,t:none,pass,nolog,"
		 "setvar:tx.paranoia_level=%d,setvar:tx.executing_paranoia_level=%d\"\n",
		 w->paranoia, w->paranoia);
	bool has_setup = false, has_init = false, oom;
	for (size_t i = 0; i < files.n; i++) {
		has_setup |= is_crs_setup(files.v[i]);
		has_init |= is_crs_init(files.v[i]);
	}
	policy = policy_text(w, &oom);
	if (oom) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	const char *early = has_init ? NULL : policy;
	if (!has_setup && after_setup(rt, &srcs, text, early, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < files.n; i++) {
		const char *e = NULL;
		if (src_add(&srcs, files.v[i], NULL, NULL) < 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (msc_rules_add_file(rt->rules, files.v[i], &e) < 0) {
			for (*bad = 0; *bad < w->nrules - 1 && ends[*bad] <= i; (*bad)++)
				;
			snprintf(err, errlen, "%s", e ? e : files.v[i]);
			free((void *)e);
			goto fail;
		}
		if (has_setup && is_crs_setup(files.v[i])) {
			if (after_setup(rt, &srcs, text, early, err, errlen) < 0)
				goto fail;
			has_setup = false;   /* once */
		}
		if (policy && has_init && is_crs_init(files.v[i])) {
			if (add_text_src(rt, &srcs, policy, "allow_methods/allow_types", err,
					 errlen) < 0)
				goto fail;
			has_init = false;    /* once */
		}
	}
	for (int i = 0; i < w->nexcludes; i++) {
		const struct cfg_waf_exclude *x = &w->excludes[i];
		if (x->cond)
			continue;
		for (int k = 0; k < x->nids; k++) {
			int extra[8];
			int ne = w->defaults ? waf_crs_standins(x->ids[k], extra, 8) : 0;
			snprintf(text, sizeof(text), "SecRuleRemoveById %s\n", x->ids[k]);
			if (add_text(rt, text, "exclude", err, errlen) < 0)
				goto fail;
			for (int j = 0; j < ne; j++) {
				snprintf(text, sizeof(text), "SecRuleRemoveById %d\n", extra[j]);
				if (add_text(rt, text, "exclude", err, errlen) < 0)
					goto fail;
			}
		}
	}
	/* The removals above are not given to the pre-filter: a rule it still
	 * counts can only make it say "might match" more often, never less. */
	if (w->prefilter) {
		char pferr[256] = "";
		uint64_t p0 = now_us();
		rt->pf = waf_pf_build_src(srcs.v, srcs.n, w->paranoia, pferr, sizeof(pferr));
		if (!rt->pf) {
			snprintf(err, errlen, "pre-filter: %s", pferr);
			goto fail;
		}
		rt->pf_build_us = now_us() - p0;
		size_t cached = 0, compiled = waf_pf_compiles(rt->pf, &cached);
		log_debug("waf %s: pre-filter built in %llu ms: %zu patterns, %zu Vectorscan "
			  "compiles, %zu databases from the cache", w->name,
			  (unsigned long long)(rt->pf_build_us / 1000), waf_pf_patterns(rt->pf),
			  compiled, cached);
	}
	rt->files = files.v;
	rt->nfiles = files.n;
	files.v = NULL;
	rt->load_us = now_us() - t0;
	free(srcs.v);
	free(pro);
	free(policy);
	free(ends);
	return rt;
fail:
	free(srcs.v);
	free(pro);
	free(policy);
	free(ends);
	flist_free(&files);
	waf_free(rt);
	return NULL;
}

void waf_free(struct waf_rt *rt)
{
	if (!rt)
		return;
	if (rt->pf)
		waf_pf_free(rt->pf);
	if (rt->rules)
		msc_rules_cleanup(rt->rules);
	for (size_t i = 0; i < rt->nfiles; i++)
		free(rt->files[i]);
	free(rt->files);
	free(rt->whole);
	free(rt);
}

void waf_stats(const struct waf_rt *rt, struct waf_stats *out)
{
	out->inspected = rt ? atomic_load_explicit(&((struct waf_rt *)rt)->inspected,
						   memory_order_relaxed) : 0;
}

bool waf_internal_header(const struct waf_rt *rt, const char *name, size_t len)
{
	return len >= rt->secret_len && strncasecmp(name, rt->secret, rt->secret_len) == 0;
}

/* ---- one inspection ------------------------------------------------------------ */

/* What ModSecurity said about the rules that matched, as one log line. */
struct collect {
	struct sbuf summary, ids;
	int n;
	bool oom;
};

#define SUMMARY_MAX 1024

/* `[key "value"]` of a ModSecurity message: the value, its length. */
static const char *msg_field(const char *m, const char *key, size_t *len)
{
	const char *p = strstr(m, key);
	if (!p)
		return NULL;
	p += strlen(key);
	const char *e = strstr(p, "\"]");
	if (!e)
		return NULL;
	*len = (size_t)(e - p);
	return p;
}

static void collect_msg(struct collect *c, const char *m)
{
	size_t idl = 0, msgl = 0;
	const char *id = msg_field(m, "[id \"", &idl);
	const char *msg = msg_field(m, "[msg \"", &msgl);

	if (!id || !idl)
		return;
	c->n++;
	if (c->summary.len > SUMMARY_MAX)
		return;
	if (msgl > 200)
		msgl = 200;
	if (!sb_add(&c->summary, "%s%.*s%s%.*s", c->n > 1 ? "; " : "", (int)idl, id,
		    msg ? " " : "", (int)msgl, msg ? msg : "") ||
	    !sb_add(&c->ids, "%s%.*s", c->n > 1 ? "," : "", (int)idl, id))
		c->oom = true;
}

static void log_cb(void *data, const void *msg)
{
	if (data && msg)
		collect_msg(data, msg);
}

void waf_result_free(struct waf_result *r)
{
	free(r->summary);
	free(r->ids);
	r->summary = r->ids = NULL;
}

static bool intervened(Transaction *t, struct collect *c, struct waf_result *res)
{
	ModSecurityIntervention it = { .status = 200 };

	if (!msc_intervention(t, &it))
		return false;
	if (it.log)
		collect_msg(c, it.log);
	free(it.log);
	free(it.url);
	if (!it.disruptive)
		return false;
	res->block = true;
	res->status = it.status;
	return true;
}

/* A transaction and the collector its log callback writes to: kept
 * together (the collector is the transaction's log data) from the request
 * to its response when inspect_response is on. */
struct waf_tx {
	Transaction *t;
	struct collect c;
};

static void collect_reset(struct collect *c)
{
	free(c->summary.p);
	free(c->ids.p);
	memset(c, 0, sizeof(*c));
}

void waf_tx_free(struct waf_tx *tx)
{
	if (!tx)
		return;
	msc_transaction_cleanup(tx->t);
	collect_reset(&tx->c);
	free(tx);
}

/* Hands what tx collected to res (owned by res from here). */
static bool collect_take(struct waf_tx *tx, struct waf_result *res)
{
	res->matched = tx->c.n > 0;
	res->summary = tx->c.summary.p;
	res->ids = tx->c.ids.p;
	bool oom = tx->c.oom;
	memset(&tx->c, 0, sizeof(tx->c));
	if (oom) {
		waf_result_free(res);
		return false;
	}
	return true;
}

/* D33: whether a body's first byte other than JSON's white space opens
 * an object or an array (a text/plain body that does not is handed to
 * ModSecurity as one JSON string).  *seen: such a byte was found. */
static bool waf_body_opens_json(const uint8_t *p, size_t n, bool *seen)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')
			continue;
		*seen = true;
		return p[i] == '{' || p[i] == '[';
	}
	return false;
}

/* The body kinds D5 (90024), D35 (90054) and D38 (90056) hand to the JSON
 * parser, by a Content-Type header they match (^type(?:\s*;|$), case
 * aside). */
enum { BK_NONE, BK_TEXT, BK_CSV, BK_NDJSON, BK_YAML, BK_WHOLE, BK_JSONSEQ };

static bool ctype_is_n(const struct waf_pf_hdr *h, const char *type, size_t n)
{
	size_t k = n;
	if (h->value_len < n || strncasecmp(h->value, type, n))
		return false;
	while (k < h->value_len && strchr(" \t\n\r\f\v", h->value[k]))
		k++;
	return k == h->value_len || h->value[k] == ';';
}

static bool ctype_is(const struct waf_pf_hdr *h, const char *type)
{
	return ctype_is_n(h, type, strlen(type));
}

/* application/NAME+SUFFIX (SUFFIX "+yaml": D38, "+json": D55), NAME of
 * [a-z0-9.!#$&^_-], then white space and ';' or the end. */
static bool ctype_is_app_suffix(const struct waf_pf_hdr *h, const char *suffix)
{
	const char *v = h->value;
	size_t n = h->value_len, k = 12, sn = strlen(suffix);
	if (n < k || strncasecmp(v, "application/", k))
		return false;
	size_t name = k;
	while (k < n && (isalnum((unsigned char)v[k]) || strchr(".!#$&^_-", v[k])))
		k++;
	if (k == name || n - k < sn || strncasecmp(v + k, suffix, sn))
		return false;
	for (k += sn; k < n && strchr(" \t\n\r\f\v", v[k]); k++)
		;
	return k == n || v[k] == ';';
}

/* D38: application/yaml, application/x-yaml, text/yaml, text/x-yaml, or
 * application/NAME+yaml with NAME of [a-z0-9.!#$&^_-] (90056's regex). */
static bool ctype_is_yaml(const struct waf_pf_hdr *h)
{
	static const char *const exact[] = { "application/yaml", "application/x-yaml",
					     "text/yaml", "text/x-yaml" };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (ctype_is(h, exact[i]))
			return true;
	return ctype_is_app_suffix(h, "+yaml");
}

/* `allow_types`: the type of a body read whole (rt->whole, reads_whole()). */
static bool ctype_allowed_whole(const struct waf_rt *rt, const struct waf_pf_hdr *h)
{
	for (size_t i = 0; i < rt->nwhole; i++)
		if (ctype_is_n(h, rt->whole[i].t, rt->whole[i].n))
			return true;
	return false;
}

/* Whether the type token t (n bytes, lowercase) is in the space-separated
 * list l. */
static bool in_list(const char *l, const char *t, size_t n)
{
	while (l && *l) {
		size_t k = strcspn(l, " ");
		if (k == n && !strncasecmp(l, t, n))
			return true;
		l += k + (l[k] == ' ');
	}
	return false;
}

/* RFC 6838's restricted-name characters (a letter or a digit first). */
static bool rfc6838_char(unsigned char c, bool first)
{
	if ((unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u)
		return true;
	return !first && (c == '!' || c == '#' || c == '$' || c == '&' || c == '^' || c == '_' ||
			  c == '.' || c == '+' || c == '-');
}

/* D48 (crs_defaults.c, 90067): a Content-Type value that is a valid
 * media type (RFC 6838 names, then white space and ';' or the end) and
 * that no other default reads: not D2's list nor D5/D12/D38's text,
 * JSON and YAML families nor the binary files D6 and D43 admit
 * (image, audio and video but +xml ones: an SVG is markup), nor an
 * `allow_types` type.  Its body is read whole when it is text. */
static bool ctype_unlisted(const struct cfg_waf *w, const struct waf_pf_hdr *h)
{
#define L(s) { s, sizeof(s) - 1 }
	static const struct waf_type listed[] = {
		L("application/x-www-form-urlencoded"), L("multipart/form-data"),
		L("multipart/related"), L("text/xml"), L("application/xml"),
		L("application/soap+xml"), L("application/json"), L("application/csp-report"),
		L("application/octet-stream"), L("application/offset+octet-stream"),
		L("application/x-ndjson"), L("text/csv"), L("text/calendar"), L("text/vcard"),
		L("text/x-vcard"), L("text/plain"), L("application/yaml"), L("application/x-yaml"),
		L("text/yaml"), L("text/x-yaml"), L("application/pdf"), L("application/zip"),
		L("application/gzip") };
#undef L
	const char *v = h->value;
	size_t n = h->value_len, t = 0, k, slash = 0;
	while (t < n && t < 257 && v[t] != ';' && v[t] != ' ' && v[t] != '\t')
		t++;	/* the type token: the common, listed ones are found first */
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		if (listed[i].n == t && !strncasecmp(v, listed[i].t, t))
			return false;
	for (k = 0; k < t; k++) {
		if (v[k] == '/' && !slash && k > 0)
			slash = k;
		else if (!rfc6838_char((unsigned char)v[k], k == 0 || (slash && k == slash + 1)))
			return false;
	}
	if (!slash || t == slash + 1 || t - slash > 128 || slash > 127)
		return false;
	while (k < n && (v[k] == ' ' || v[k] == '\t'))
		k++;
	if (k < n && v[k] != ';')
		return false;
	bool xml = t > 4 && !strncasecmp(v + t - 4, "+xml", 4);
	/* D12's +json and D38's +yaml are application/ types only */
	if ((t > 17 && !strncasecmp(v, "application/", 12) &&
	     (!strncasecmp(v + t - 5, "+json", 5) || !strncasecmp(v + t - 5, "+yaml", 5))) ||
	    (!xml && (!strncasecmp(v, "image/", 6) || !strncasecmp(v, "audio/", 6) ||
		      !strncasecmp(v, "video/", 6))))
		return false;
	return !in_list(w->allow_types, v, t) && !in_list(w->allow_types_raw, v, t);
}

/* The Content-Type header D48 reads (one header; NULL: none, or two). */
static const struct waf_pf_hdr *unlisted_ctype(const struct waf_rt *rt, const struct waf_pf_req *r)
{
	const struct waf_pf_hdr *ct = NULL;
	if (!rt->cfg->defaults)
		return NULL;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const struct waf_pf_hdr *h = &r->hdrs[i];
		if (h->name_len != 12 || strncasecmp(h->name, "content-type", 12))
			continue;
		if (ct)
			return NULL;
		ct = h;
	}
	return ct && ctype_unlisted(rt->cfg, ct) ? ct : NULL;
}

bool waf_reads_whole(const struct waf_rt *rt, const struct waf_pf_req *r)
{
	if (unlisted_ctype(rt, r))
		return true;	/* D48: not modelled by the pre-filter */
	if (!rt->nwhole)
		return false;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const struct waf_pf_hdr *h = &r->hdrs[i];
		if (h->name_len == 12 && !strncasecmp(h->name, "content-type", 12) &&
		    ctype_allowed_whole(rt, h))
			return true;
	}
	return false;
}

/* D48: whether a body is text: UTF-8 (a sequence cut at the end allowed:
 * body_limit), no control byte but tab, LF, FF, CR, no DEL. */
static bool body_is_text(const struct iovec *body, size_t nbody)
{
	int more = 0;	/* continuation bytes still due */
	for (size_t i = 0; i < nbody; i++) {
		const unsigned char *p = body[i].iov_base;
		for (size_t k = 0; k < body[i].iov_len; k++) {
			unsigned char c = p[k];
			if (more) {
				if ((c & 0xc0) != 0x80)
					return false;
				more--;
			} else if (c < 0x20) {
				if (c != '\t' && c != '\n' && c != '\f' && c != '\r')
					return false;
			} else if (c == 0x7f) {
				return false;
			} else if (c >= 0x80) {
				if (c >= 0xc2 && c <= 0xdf)
					more = 1;
				else if (c >= 0xe0 && c <= 0xef)
					more = 2;
				else if (c >= 0xf0 && c <= 0xf4)
					more = 3;
				else
					return false;
			}
		}
	}
	return true;
}

static int body_kind(const struct waf_rt *rt, const struct waf_pf_req *r,
		     const struct iovec *body, size_t nbody)
{
	if (!rt->cfg->defaults)
		return waf_reads_whole(rt, r) ? BK_CSV : BK_NONE;
	const struct waf_pf_hdr *u = unlisted_ctype(rt, r);
	if (u)	/* D48 */
		return (u->value_len >= 5 && !strncasecmp(u->value, "text/", 5)) ||
		       body_is_text(body, nbody) ? BK_WHOLE : BK_NONE;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const struct waf_pf_hdr *h = &r->hdrs[i];
		if (h->name_len != 12 || strncasecmp(h->name, "content-type", 12))
			continue;
		if (ctype_is(h, "text/plain"))
			return BK_TEXT;
		if (ctype_is(h, "text/csv") || ctype_is(h, "text/calendar") ||
		    ctype_is(h, "text/vcard") || ctype_is(h, "text/x-vcard"))
			return BK_CSV;   /* D35, D42 */
		if (ctype_is(h, "application/x-ndjson"))
			return BK_NDJSON;
		if (ctype_is_yaml(h))
			return BK_YAML;
		if (ctype_is_app_suffix(h, "+json"))
			return BK_JSONSEQ;
	}
	/* `allow_types`: read whole, as a CSV body */
	return waf_reads_whole(rt, r) ? BK_CSV : BK_NONE;
}

/* D35: an NDJSON body (one JSON document a line) goes to the JSON parser
 * as one array of its non-blank lines: every document is read as JSON is,
 * and a line that is not JSON fails the parser (200002).  false: out of
 * memory. */
static size_t iov_total(const struct iovec *body, size_t nbody)
{
	size_t total = 0;
	for (size_t i = 0; i < nbody; i++)
		total += body[i].iov_len;
	return total;
}

static bool ndjson_as_array(struct sbuf *js, const struct iovec *body, size_t nbody)
{
	size_t total = iov_total(body, nbody);
	if (!total)
		return true;
	/* a comma a byte at most, and the brackets */
	char *o = malloc(total * 2 + 2);
	if (!o)
		return false;
	size_t n = 0;
	bool line_has = false;	/* the current line has a byte other than white space */
	bool any = false;	/* a document was written */
	o[n++] = '[';
	for (size_t i = 0; i < nbody; i++) {
		const unsigned char *p = body[i].iov_base;
		for (size_t k = 0; k < body[i].iov_len; k++) {
			unsigned char c = p[k];
			if (c == '\n') {
				line_has = false;
				continue;
			}
			if (!line_has && c != ' ' && c != '\t' && c != '\r') {
				if (any)
					o[n++] = ',';
				line_has = any = true;
			}
			o[n++] = (char)c;
		}
	}
	o[n++] = ']';
	js->p = o;
	js->len = n;
	js->cap = total * 2 + 2;
	return true;
}

/* D39: whether a text/plain body that opens with { or [ is several JSON
 * documents a line (NDJSON sent as text/plain, as beacons send it to spare
 * a CORS preflight: Sentry envelopes, log and analytics batches): its first
 * value closes on its first line (brackets counted outside strings),
 * nothing but white space follows it there, and a later line holds
 * something.  Parsed as one document such a body fails (200002); a JSON
 * document spread over lines (its first line does not close it) is
 * parsed whole as before. */
static bool text_is_multi_document(const struct iovec *body, size_t nbody)
{
	enum { LEAD, VALUE, TAIL, NEXT } st = LEAD;
	int depth = 0;
	bool str = false, esc = false;

	for (size_t i = 0; i < nbody; i++) {
		const unsigned char *p = body[i].iov_base;
		for (size_t k = 0; k < body[i].iov_len; k++) {
			unsigned char c = p[k];
			bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
			switch (st) {
			case LEAD:
				if (ws)
					break;
				st = VALUE;
				/* c is the { or [ that opens it */
				__attribute__((fallthrough));
			case VALUE:
				if (c == '\n')
					return false;	/* spread over lines */
				if (str) {
					if (esc)
						esc = false;
					else if (c == '\\')
						esc = true;
					else if (c == '"')
						str = false;
				} else if (c == '"') {
					str = true;
				} else if (c == '{' || c == '[') {
					depth++;
				} else if ((c == '}' || c == ']') && --depth == 0) {
					st = TAIL;
				}
				break;
			case TAIL:
				if (c == '\n')
					st = NEXT;
				else if (!ws)
					return false;
				break;
			case NEXT:
				if (!ws)
					return true;
				break;
			}
		}
	}
	return false;
}

/* D33 (crs_defaults.c, D5): a text/plain body that does not open with
 * { or [ goes to ModSecurity's JSON parser as one JSON string, so the rules
 * read the text whole as ARGS:json instead of the parser failing (200002).
 * D35: an NDJSON body as one array, a CSV body as one string, always;
 * D38: a YAML body as one string, always; D39: a text/plain body of several
 * JSON documents a line as NDJSON; D55: an application/NAME+json body of
 * several JSON documents a line as NDJSON (any other +json body as it is).
 * Leaves js empty for an empty body and a text/plain body that is
 * JSON-like;
 * false: out of memory. */
static bool text_as_json(struct sbuf *js, int kind, const struct iovec *body, size_t nbody)
{
	if (kind == BK_NDJSON)
		return ndjson_as_array(js, body, nbody);
	bool seen = false, opens = false;
	for (size_t i = 0; i < nbody && !seen; i++)
		opens = waf_body_opens_json(body[i].iov_base, body[i].iov_len, &seen);
	/* D55: a +json body of several documents a line (Akeneo's
	 * vnd.akeneo.collection+json) as NDJSON; any other as it is */
	if (kind == BK_JSONSEQ)
		return seen && opens && text_is_multi_document(body, nbody) ?
			ndjson_as_array(js, body, nbody) : true;
	if (kind == BK_TEXT && (!seen || opens))
		return seen && text_is_multi_document(body, nbody) ?
			ndjson_as_array(js, body, nbody) : true;
	size_t total = iov_total(body, nbody);
	if (!total)
		return true;
	/* at most 6 bytes a byte (\u001f) and the two quotes */
	char *o = malloc(total * 6 + 2);
	if (!o)
		return false;
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	o[n++] = '"';
	for (size_t i = 0; i < nbody; i++) {
		const unsigned char *p = body[i].iov_base;
		for (size_t k = 0; k < body[i].iov_len; k++) {
			unsigned char c = p[k];
			if (c == '"' || c == '\\') {
				o[n++] = '\\';
				o[n++] = (char)c;
			} else if (c < 0x20) {
				memcpy(o + n, "\\u00", 4);
				o[n + 4] = hex[c >> 4];
				o[n + 5] = hex[c & 15];
				n += 6;
			} else {
				o[n++] = (char)c;
			}
		}
	}
	o[n++] = '"';
	js->p = o;
	js->len = n;
	js->cap = total * 6 + 2;
	return true;
}

bool waf_inspect(const struct waf_rt *rt, const struct waf_pf_req *r, const struct iovec *body,
		 size_t nbody, const struct waf_conn *cn, uint32_t excl, bool partial,
		 struct waf_result *res, struct waf_tx **keep)
{
	char name[96];
	/* ModSecurity wants C strings for the request line. */
	size_t need = r->method_len + r->target_len + r->protocol_len + 3;
	char *line = malloc(need);
	struct waf_tx *tx = calloc(1, sizeof(*tx));

	memset(res, 0, sizeof(*res));
	if (keep)
		*keep = NULL;
	/* one relaxed add next to a ModSecurity run (hundreds of µs) */
	atomic_fetch_add_explicit(&((struct waf_rt *)rt)->inspected, 1, memory_order_relaxed);
	if (!line || !tx) {
		free(line);
		free(tx);
		return false;
	}
	char *meth = line, *target = line + r->method_len + 1;
	char *proto = target + r->target_len + 1;
	memcpy(meth, r->method, r->method_len);
	meth[r->method_len] = 0;
	memcpy(target, r->target, r->target_len);
	target[r->target_len] = 0;
	memcpy(proto, r->protocol, r->protocol_len);
	proto[r->protocol_len] = 0;
	const char *ver = strncmp(proto, "HTTP/", 5) == 0 ? proto + 5 : proto;

	Transaction *t = msc_new_transaction(rt->ms, rt->rules, &tx->c);
	if (!t) {
		free(line);
		free(tx);
		return false;
	}
	tx->t = t;
	msc_process_connection(t, cn->client, cn->client_port, cn->server, cn->server_port);
	msc_process_uri(t, target, meth, ver);
	for (size_t i = 0; i < r->nhdrs; i++) {
		const struct waf_pf_hdr *h = &r->hdrs[i];
		if (waf_internal_header(rt, h->name, h->name_len))
			continue;
		msc_add_n_request_header(t, (const unsigned char *)h->name, h->name_len,
					 (const unsigned char *)h->value, h->value_len);
	}
	int nc = 0;
	for (int i = 0; i < rt->cfg->nexcludes; i++) {
		if (!rt->cfg->excludes[i].cond)
			continue;
		if (excl & (1u << nc)) {
			int l = snprintf(name, sizeof(name), "%s-e%d", rt->secret, nc);
			msc_add_n_request_header(t, (const unsigned char *)name, (size_t)l,
						 (const unsigned char *)"1", 1);
		}
		nc++;
	}
	if (partial) {
		int l = snprintf(name, sizeof(name), "%s-partial", rt->secret);
		msc_add_n_request_header(t, (const unsigned char *)name, (size_t)l,
					 (const unsigned char *)"1", 1);
	}
	int kind = body_kind(rt, r, body, nbody);
	if (kind == BK_WHOLE) {	/* D48: the JSON parser (90003), as a CSV body */
		int l = snprintf(name, sizeof(name), "%s-whole", rt->secret);
		msc_add_n_request_header(t, (const unsigned char *)name, (size_t)l,
					 (const unsigned char *)"1", 1);
		kind = BK_CSV;
	}
	msc_process_request_headers(t);
	if (!intervened(t, &tx->c, res)) {
		/* run by run, where the bytes lie (ModSecurity keeps its own
		 * copy for its body processors while it runs) */
		struct sbuf js = { 0 };
		if (kind != BK_NONE && !text_as_json(&js, kind, body, nbody)) {
			free(line);
			waf_tx_free(tx);
			return false;
		}
		if (js.p)
			msc_append_request_body(t, (const unsigned char *)js.p, js.len);
		else
			for (size_t i = 0; i < nbody; i++)
				if (body[i].iov_len)
					msc_append_request_body(t,
						(const unsigned char *)body[i].iov_base,
						body[i].iov_len);
		free(js.p);
		msc_process_request_body(t);
		intervened(t, &tx->c, res);
	}
	free(line);
	bool ok = collect_take(tx, res);
	if (ok && keep && !res->block)
		*keep = tx;
	else
		waf_tx_free(tx);
	return ok;
}

bool waf_inspect_response(struct waf_tx *tx, int status, const char *protocol,
			  const struct waf_pf_hdr *hdrs, size_t nhdrs, const struct iovec *body,
			  size_t nbody, struct waf_result *res)
{
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < nhdrs; i++)
		msc_add_n_response_header(tx->t, (const unsigned char *)hdrs[i].name,
					  hdrs[i].name_len, (const unsigned char *)hdrs[i].value,
					  hdrs[i].value_len);
	msc_process_response_headers(tx->t, status, protocol);
	if (!intervened(tx->t, &tx->c, res)) {
		/* phase 4, with the body held (or none: the CRS's outbound
		 * anomaly evaluation, 959100, runs there either way) */
		for (size_t i = 0; i < nbody; i++)
			if (body[i].iov_len)
				msc_append_response_body(tx->t,
							 (const unsigned char *)body[i].iov_base,
							 body[i].iov_len);
		msc_process_response_body(tx->t);
		intervened(tx->t, &tx->c, res);
	}
	return collect_take(tx, res);
}
