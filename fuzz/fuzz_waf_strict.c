/*
 * fuzz_waf_strict.c - libFuzzer target for the WAF's strict decoding
 * check (src/waf/strict.c), which reads the raw target, the Content-Type
 * and the body of every request a `waf` section with `strict on` judges.
 *
 * Input: a flags byte (bit 0: the body was cut at body_limit; bit 1: two
 * Content-Type fields; bit 2: `strict_encoded_slash allow`), then
 * "TARGET\nCONTENT-TYPE\nBODY".  Besides memory safety it asserts that:
 *  - a refusal names what and where, and its excerpt is a printable,
 *    terminated string;
 *  - the verdict does not depend on anything but the input (twice the
 *    same);
 *  - `strict_encoded_slash allow` accepts whatever `reject` accepts;
 *  - a body the check refuses as a form, with the query emptied and the
 *    body whole, is refused for the same reason when given as a query
 *    (the same decoder: a field is judged alike in both places).
 *
 * FUZZ_SOURCES: src/waf/strict.c
 * FUZZ_LIBS:
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waf/strict.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char *line(const char **p, const char *e, size_t *len)
{
	const char *s = *p;
	const char *nl = s < e ? memchr(s, '\n', (size_t)(e - s)) : NULL;
	*len = nl ? (size_t)(nl - s) : (size_t)(e - s);
	*p = nl ? nl + 1 : e;
	return s;
}

static enum waf_strict_res run(const struct waf_strict_req *r, struct waf_strict_why *why)
{
	memset(why, 0, sizeof(*why));
	enum waf_strict_res res = waf_strict_check(r, why);
	if (res == WAF_STRICT_AMBIGUOUS) {
		FUZZ_ASSERT(why->what && why->where);
		size_t l = strnlen(why->at, sizeof(why->at));
		FUZZ_ASSERT(l < sizeof(why->at));
		for (size_t i = 0; i < l; i++)
			FUZZ_ASSERT(why->at[i] >= 0x20 && why->at[i] < 0x7f);
	}
	return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	uint8_t flags = data[0];
	const char *p = (const char *)data + 1, *e = (const char *)data + size;
	size_t tl, cl;
	const char *t = line(&p, e, &tl);
	const char *c = line(&p, e, &cl);
	const char *ct[2] = { c, c };
	size_t ctl[2] = { cl, cl };
	struct waf_strict_req r = {
		.target = t, .target_len = tl, .ctype = ct, .ctype_len = ctl,
		.nctype = cl ? ((flags & 2) ? 2 : 1) : 0,
		.body = p < e ? p : NULL, .body_len = (size_t)(e - p), .partial = flags & 1,
		.encoded_slash = flags & 4,
	};
	struct waf_strict_why a, b;
	enum waf_strict_res ra = run(&r, &a), rb = run(&r, &b);
	FUZZ_ASSERT(ra == rb);
	if (ra == WAF_STRICT_AMBIGUOUS)
		FUZZ_ASSERT(a.what == b.what && a.where == b.where && !strcmp(a.at, b.at));
	if (ra == WAF_STRICT_OK && !r.encoded_slash) {
		struct waf_strict_req ra_ = r;
		ra_.encoded_slash = true;
		FUZZ_ASSERT(run(&ra_, &b) == WAF_STRICT_OK);
	}

	/* a form body judged alike as a query */
	static const char form[] = "application/x-www-form-urlencoded";
	if (ra != WAF_STRICT_AMBIGUOUS || strcmp(a.where, "the body") || r.partial ||
	    r.nctype != 1 || cl != sizeof(form) - 1 || memcmp(c, form, cl) ||
	    memchr(t, '?', tl) || r.body_len > 4096)
		return 0;
	char *q = malloc(tl + 1 + r.body_len);
	if (!q)
		return 0;
	memcpy(q, t, tl);
	q[tl] = '?';
	memcpy(q + tl + 1, r.body, r.body_len);
	struct waf_strict_req r2 = { .target = q, .target_len = tl + 1 + r.body_len,
				     .encoded_slash = r.encoded_slash };
	/* only when the path itself passes: else the path's reason comes first */
	struct waf_strict_req r3 = { .target = t, .target_len = tl,
				     .encoded_slash = r.encoded_slash };
	struct waf_strict_why c2, c3;
	if (run(&r3, &c3) == WAF_STRICT_OK) {
		FUZZ_ASSERT(run(&r2, &c2) == WAF_STRICT_AMBIGUOUS);
		FUZZ_ASSERT(c2.what == a.what);
	}
	free(q);
	return 0;
}
