/*
 * prefilter.h - the WAF's fast path: can this request match any rule of
 * the loaded rule set at all?
 *
 * Most traffic is benign, and running every CRS rule over every field of
 * every request is what makes ModSecurity expensive.  The pre-filter is a
 * Vectorscan (Hyperscan API) database built at load from the rules' own
 * patterns (@rx in prefilter mode, @pm phrases, @pmFromFile lists), plus
 * cheap native checks for the rules that have no pattern, applied to the
 * same decoded fields and transformations the rules use.  It may say
 * "might match" for a request no rule matches (ModSecurity then runs and
 * finds nothing); it must never say "cannot match" for a request some rule
 * would match: skipping ModSecurity must not lose a detection.
 *
 * Threads: a built prefilter is read-only and shared; each thread scans
 * with its own scratch.
 *
 * What "match" means: a rule whose match changes what ModSecurity reports
 * (it logs, is disruptive, or adds to an anomaly score).  CRS's set-up
 * rules (901..., the paranoia-level skips) always run and report nothing;
 * they are evaluated at build time.  So "cannot match" = ModSecurity would
 * log nothing, intervene in nothing and leave the anomaly score at 0.
 *
 * Deployment notes for the integrator:
 *  - Give waf_pf_build() exactly the files given to ModSecurity, after the
 *    same prologue (SecRuleEngine, SecRequestBodyAccess, the JSON
 *    ctl:requestBodyProcessor rule, setvar:tx.paranoia_level).  `paranoia`
 *    seeds tx.paranoia_level as such a prologue would; a SecAction in the
 *    files that sets it wins, as it does in ModSecurity.
 *  - libmodsecurity 3.0.9 rejects IncludeOptional (Debian's
 *    owasp-crs.load uses it): include crs-setup.conf and the .conf files
 *    of rules/ with plain Include lines (tests/unit/test_waf_pf.c shows
 *    the prologue).
 *  - Pass the body as ModSecurity gets it (after de-chunking, up to the
 *    body limit).  Multipart bodies are parsed when they have the plain
 *    shape browsers send (pf_multipart.c; anything unusual
 *    is "might match"); XML bodies, and bodies of a
 *    ctl:requestBodyProcessor the pre-filter does not parse, are always
 *    "might match"; so is anything that reads REMOTE_ADDR, GEO, IP: or
 *    other state outside the request.
 *  - ModSecurity's own limits are not rules: a body it would refuse for
 *    SecRequestBodyLimit (or an argument count over SecArgumentsLimit)
 *    must not skip it on the pre-filter's word.
 *  - waf_pf_last_rule() says why a scan said "might" (for logs and tuning).
 */
#ifndef GH_WAF_PREFILTER_H
#define GH_WAF_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>

struct waf_pf;
struct waf_pf_scratch;

/* One header field as it arrived. */
struct waf_pf_hdr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A request as ModSecurity would be given it: the raw target (path and
 * query, undecoded), the protocol ("HTTP/1.1", "HTTP/2.0"; ModSecurity is
 * given what follows "HTTP/", and a protocol without that prefix whole,
 * as msc_process_uri()'s http_version), every header
 * field in order, and the body as received (up to the WAF's body_limit;
 * body_len 0 and body NULL when there is none). */
struct waf_pf_req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	const char *protocol;
	size_t protocol_len;
	const struct waf_pf_hdr *hdrs;
	size_t nhdrs;
	const char *body;
	size_t body_len;
};

/*
 * Builds the pre-filter for the ModSecurity configuration files in
 * files[0..nfiles) (the same list, in the same order, that ModSecurity
 * loads, Include lines followed) at paranoia level `paranoia` (1..4).
 * NULL with err set when the rules use something the pre-filter cannot
 * bound soundly and it cannot fall back to "always might match" for it
 * (it should rather fall back: a rule it cannot reason about makes every
 * request whose fields that rule reads a "might match").
 */
struct waf_pf *waf_pf_build(const char *const *files, size_t nfiles, int paranoia,
			    char *err, size_t errlen);
void waf_pf_free(struct waf_pf *pf);

/* The same from a mix of files and rule texts held in memory, in load
 * order: what gatehouse itself adds to the rule set (its prologue, its
 * default exclusions and rules) must be seen by the pre-filter too, or a
 * request only those rules catch would skip ModSecurity. */
struct waf_pf_src {
	const char *path;          /* a file, or NULL for text */
	const char *text;          /* rules in memory, named `name` in errors */
	const char *name;
};
struct waf_pf *waf_pf_build_src(const struct waf_pf_src *src, size_t nsrc, int paranoia,
				char *err, size_t errlen);

/* Per-thread scratch for waf_pf_scan(); NULL when out of memory. */
struct waf_pf_scratch *waf_pf_scratch_new(const struct waf_pf *pf);
void waf_pf_scratch_free(struct waf_pf_scratch *sc);

/* true: some rule might match r, run ModSecurity; false: no rule can. */
bool waf_pf_scan(const struct waf_pf *pf, struct waf_pf_scratch *sc,
		 const struct waf_pf_req *r);

/* After waf_pf_scan() said "might": true when the pre-filter decided the
 * request itself (pf_pass.c): the rules that might match only add to
 * anomaly scores, and together they cannot reach a threshold, so
 * ModSecurity would not intervene (with SecRuleEngine On; it would still
 * log what matched, so a caller that reports matches must ask it). */
bool waf_pf_passed(const struct waf_pf_scratch *sc);

/* The scratch's memo of field verdicts (on by default; pf_scan.c, "the
 * memo of field verdicts"): off drops it.  Hits and (*puts) entries
 * computed, for tests and logs. */
void waf_pf_scratch_memo(struct waf_pf_scratch *sc, bool on);
size_t waf_pf_memo_hits(const struct waf_pf_scratch *sc, size_t *puts);

/* For logs and tests: patterns in the database, rules that fell back to
 * "always", and why the last build failed. */
size_t waf_pf_patterns(const struct waf_pf *pf);
size_t waf_pf_fallbacks(const struct waf_pf *pf);

/* Why the last waf_pf_scan() with sc said "might match": the id of the
 * first rule that might, -1 a rule matches every request, -2 a request the
 * pre-filter does not parse (multipart or XML body, ...), -3 out of memory;
 * 0 after "cannot match". */
long waf_pf_last_rule(const struct waf_pf_scratch *sc);

/* The same in words into buf (NUL-terminated, truncated to len): the rule
 * and, when a pattern of it matched, the field (collection:name) it
 * matched in, e.g. "rule 920220 on REQUEST_URI".  Returns the length. */
size_t waf_pf_last_why(const struct waf_pf_scratch *sc, char *buf, size_t len);

/* Vectorscan compiles this build ran, and (*cached) how many databases it
 * took from the cache instead (pf_cache.c: same patterns, same engine:
 * from memory after a reload, from $GATEHOUSE_WAF_CACHE or
 * $TMPDIR/gatehouse-waf-<euid> across processes). */
size_t waf_pf_compiles(const struct waf_pf *pf, size_t *cached);

/* Bytes of the Vectorscan databases (for logs and the benchmark). */
size_t waf_pf_db_bytes(const struct waf_pf *pf);

#endif
