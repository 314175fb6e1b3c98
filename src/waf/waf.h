/*
 * waf.h - the WAF's ModSecurity glue: a `waf` section's rules loaded once
 * per configuration, and one request inspected on any thread.
 *
 * libmodsecurity 3 with the rule files as shipped (the OWASP CRS): what
 * gatehouse adds is a short prologue of its own (engine mode, body access
 * and limits, the JSON/XML body processors that Debian's connectors keep
 * in modsecurity.conf, the paranoia level, the rules of conditional
 * exclusions) and, after the rules, SecRuleRemoveById for unconditional
 * ones.  The loaded rule set (RulesSet) is shared read-only by every
 * thread; a ModSecurity Transaction exists only inside waf_inspect(), on
 * the thread that runs it (an offload pool thread, proxy/offload.h).
 *
 * Conditional exclusions (`exclude ID... if COND`): gatehouse evaluates
 * COND per request on the worker; ModSecurity cannot.  Each one becomes a
 * phase-1 rule, loaded before the CRS, that removes its ids for the
 * transaction (ctl:ruleRemoveById) when the transaction carries a request
 * header whose name holds a 128-bit secret drawn at load.  The header is
 * added to the ModSecurity transaction only (never forwarded), and client
 * headers with the secret's prefix are not passed to ModSecurity, so a
 * client can neither forge nor guess it.
 */
#ifndef GH_WAF_WAF_H
#define GH_WAF_WAF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/cfg.h"
#include "waf/prefilter.h"

struct waf_rt {
	const struct cfg_waf *cfg;
	void *ms;                  /* ModSecurity * */
	void *rules;               /* RulesSet *: read-only once loaded */
	struct waf_pf *pf;         /* NULL: no pre-filter (not built, or prefilter off) */
	char secret[40];           /* "x-gh-waf-<32 hex>", the internal headers' prefix */
	size_t secret_len;
	uint64_t load_us;          /* how long the load took (the pre-filter's build too) */
	uint64_t pf_build_us;      /* of which the pre-filter's build */
	struct waf_type { const char *t; size_t n; } *whole;
	size_t nwhole;             /* `allow_types` read whole (reads_whole()), at load */
	char **files;              /* the rule files, in load order (for the pre-filter) */
	size_t nfiles;
	_Atomic uint64_t inspected;   /* waf_inspect() calls (relaxed; waf_stats) */
};

/* For /metrics: what a rule set did so far (rt NULL: zeroes). */
struct waf_stats {
	uint64_t inspected;        /* requests ModSecurity ran on (the pre-filter did
				      not clear them alone) */
};
void waf_stats(const struct waf_rt *rt, struct waf_stats *out);

/* gatehouse's default exclusions for the CRS 3.3 (crs_defaults.c): loaded
 * after crs-setup.conf unless the section says `defaults off`. */
extern const char waf_crs_defaults[];
/* The default rules that stand in for the CRS rules an `exclude` spec
 * ("942100" or "941000-941999") names, on free-text fields: the caller
 * removes them too.  Their ids go to out (at most max); returns how many. */
int waf_crs_standins(const char *spec, int *out, int max);

/*
 * Loads w's rules (relative paths from base_dir).  NULL with err set
 * ("PATH: ModSecurity's message") when a file is missing or ModSecurity
 * refuses a rule; *bad is then the index of the `rules` line at fault, or
 * -1.  Main thread, at load.
 */
struct waf_rt *waf_load(const struct cfg_waf *w, const char *base_dir, int *bad, char *err,
			size_t errlen);
void waf_free(struct waf_rt *rt);

/* Whether r's body is of an `allow_types` type that waf_inspect() hands
 * ModSecurity whole as one string: the pre-filter does not model that
 * rewrite, so such a request goes to ModSecurity (flt_waf.c). */
bool waf_reads_whole(const struct waf_rt *rt, const struct waf_pf_req *r);

/* What an inspection found. */
struct waf_result {
	bool matched;              /* some rule matched and logged */
	bool block;                /* ModSecurity decided to interrupt (mode block) */
	int status;                /* its status (the section's `status` is what is sent) */
	char *summary;             /* "942100 SQL Injection ...; 949110 Inbound ...", malloc'd */
	char *ids;                 /* "942100,949110", malloc'd */
};

void waf_result_free(struct waf_result *r);

/* The connection a request came on, as ModSecurity sees it. */
struct waf_conn {
	char client[48];
	int client_port;
	char server[48];
	int server_port;
};

/* A ModSecurity transaction kept from a request to its response. */
struct waf_tx;

/*
 * Runs r through ModSecurity (phases 1 and 2), its body the nbody runs of
 * body in order (r->body is not read: a held body is read where it lies,
 * flt_waf.c).  excl: bit i set when the
 * i-th conditional exclusion of the section applies; partial: the body was
 * cut at body_limit (a body processor's parse error is then not a match).
 * keep: when not NULL and the request was not blocked, the transaction is
 * kept there for waf_inspect_response() (else *keep is NULL).  Any thread;
 * r and c only read during the call.  False when out of memory (res says
 * nothing then).
 */
struct iovec;
bool waf_inspect(const struct waf_rt *rt, const struct waf_pf_req *r, const struct iovec *body,
		 size_t nbody, const struct waf_conn *c, uint32_t excl, bool partial,
		 struct waf_result *res, struct waf_tx **keep);

/* Phases 3 and 4 of a kept transaction: the response's status and head
 * (protocol "HTTP 1.1"), and its body as held, nbody runs in order (0:
 * none or not inspected).  Any thread, one at a time per tx. */
bool waf_inspect_response(struct waf_tx *tx, int status, const char *protocol,
			  const struct waf_pf_hdr *hdrs, size_t nhdrs, const struct iovec *body,
			  size_t nbody, struct waf_result *res);
/* Any thread; NULL is a no-op. */
void waf_tx_free(struct waf_tx *tx);

/* Whether a header name is one of gatehouse's internal ones (not passed). */
bool waf_internal_header(const struct waf_rt *rt, const char *name, size_t len);

#endif
