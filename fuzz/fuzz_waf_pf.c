/*
 * fuzz_waf_pf.c - libFuzzer target for the WAF pre-filter's one promise:
 * when waf_pf_scan() says "cannot match", libmodsecurity running the same
 * rules (the OWASP CRS at paranoia level WAF_PF_FUZZ_PL, default 1) logs no
 * rule, intervenes in nothing and leaves the anomaly score at 0.  A request
 * breaking it traps.  ModSecurity costs about a millisecond a request, so
 * expect a few hundred executions a second.
 *
 * Input: "METHOD\nTARGET\nPROTOCOL\nName: value\n...\n\nBODY" (NUL bytes in
 * the first three lines become 'x': ModSecurity takes them as C strings).
 * Without the CRS installed every input passes.
 *
 * FUZZ_SOURCES: src/waf/prefilter.c src/waf/pf_*.c src/waf/seclang.c src/waf/transform.c
 * FUZZ_LIBS: -lmodsecurity -lhs -lpcre2-8 -lcrypto -pthread
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include "waf/prefilter.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct waf_pf *pf;
static struct waf_pf_scratch *sc;
static ModSecurity *ms;
static RulesSet *rules;
static int logged;
static unsigned long n_inputs, n_skipped;

static void report(void)
{
	fprintf(stderr, "fuzz_waf_pf: %lu inputs, %lu the pre-filter let skip ModSecurity, "
		"all confirmed clean by ModSecurity\n", n_inputs, n_skipped);
}

static void log_cb(void *data, const void *msg)
{
	logged++;
	if (getenv("WAF_PF_FUZZ_VERBOSE"))
		fprintf(stderr, "modsecurity: %s\n", (const char *)msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[64], err[256];
	const char *lv = getenv("WAF_PF_FUZZ_PL");
	int pl = lv ? atoi(lv) : 1;

	if (access("/usr/share/modsecurity-crs/rules", R_OK) != 0)
		return 0;
	snprintf(path, sizeof(path), "/tmp/fuzz_waf_pf_%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fprintf(f,
		"SecRuleEngine On\n"
		"SecRequestBodyAccess On\n"
		"SecRule REQUEST_HEADERS:Content-Type \"application/json\" "
		"\"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
		"SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d\"\n"
		"Include /etc/modsecurity/crs/crs-setup.conf\n"
		"Include /usr/share/modsecurity-crs/rules/*.conf\n"
		"SecRule TX:ANOMALY_SCORE \"@gt 0\" \"id:1999001,phase:2,pass,log,msg:'anomaly score'\"\n",
		pl);
	fclose(f);
	const char *files[] = { path };
	pf = waf_pf_build(files, 1, pl, err, sizeof(err));
	FUZZ_ASSERT(pf != NULL);
	sc = waf_pf_scratch_new(pf);
	ms = msc_init();
	msc_set_log_cb(ms, log_cb);
	rules = msc_create_rules_set();
	const char *merr = NULL;
	FUZZ_ASSERT(msc_rules_add_file(rules, path, &merr) >= 0);
	unlink(path);
	atexit(report);
	return 0;
}

/* Next '\n'-terminated line of [*p, end) as a NUL-free C string. */
static char *line(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (*p)[i] ? (char)(*p)[i] : 'x';
	s[n] = '\0';
	*len = n;
	*p += n + (nl ? 1 : 0);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pf || !sc)
		return 0;
	const uint8_t *p = data, *end = data + size;
	size_t ml, tl, pl;
	char *method = line(&p, end, &ml);
	char *target = line(&p, end, &tl);
	char *proto = line(&p, end, &pl);
	struct waf_pf_hdr hdrs[32];
	size_t nh = 0;

	while (p < end && *p != '\n' && nh < 32) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *le = nl ? nl : end;
		const uint8_t *c = memchr(p, ':', (size_t)(le - p));
		if (c) {
			const uint8_t *v = c + 1;
			while (v < le && *v == ' ')
				v++;
			hdrs[nh++] = (struct waf_pf_hdr){ (const char *)p, (size_t)(c - p),
							  (const char *)v, (size_t)(le - v) };
		}
		p = nl ? nl + 1 : end;
	}
	if (p < end && *p == '\n')
		p++;
	struct waf_pf_req r = {
		.method = method, .method_len = ml, .target = target, .target_len = tl,
		.protocol = proto, .protocol_len = pl, .hdrs = hdrs, .nhdrs = nh,
		.body = p < end ? (const char *)p : NULL, .body_len = (size_t)(end - p),
	};
	bool might = waf_pf_scan(pf, sc, &r);
	n_inputs++;
	n_skipped += !might;

	if (!might || getenv("WAF_PF_FUZZ_ALWAYS_MSC")) {
		Transaction *t = msc_new_transaction(ms, rules, NULL);
		ModSecurityIntervention it = { .status = 200 };
		bool hit = false;
		logged = 0;
		msc_process_connection(t, "192.0.2.10", 40000, "192.0.2.1", 80);
		msc_process_uri(t, target, method, strncmp(proto, "HTTP/", 5) ? proto : proto + 5);
		for (size_t i = 0; i < nh; i++)
			msc_add_n_request_header(t, (const unsigned char *)hdrs[i].name, hdrs[i].name_len,
						 (const unsigned char *)hdrs[i].value, hdrs[i].value_len);
		msc_process_request_headers(t);
		hit |= msc_intervention(t, &it) != 0;
		free(it.url);
		free(it.log);
		it = (ModSecurityIntervention){ .status = 200 };
		if (r.body_len)
			msc_append_request_body(t, (const unsigned char *)r.body, r.body_len);
		msc_process_request_body(t);
		hit |= msc_intervention(t, &it) != 0;
		free(it.url);
		free(it.log);
		msc_process_logging(t);
		msc_transaction_cleanup(t);
		hit |= logged > 0;
		/* the property: "cannot match" means ModSecurity saw nothing */
		FUZZ_ASSERT(might || !hit);
	}
	free(method);
	free(target);
	free(proto);
	return 0;
}
