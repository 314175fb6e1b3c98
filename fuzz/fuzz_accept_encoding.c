/*
 * fuzz_accept_encoding.c - libFuzzer target for the Accept-Encoding parser
 * and the choice of a coding (src/compress/accept.c), which read a field
 * every client sends, and the Content-Type test next to them.
 *
 * Input: a byte choosing the configured codings and their order, then the
 * field value.  Besides memory safety it asserts that:
 *  - every q kept is within 0..1000, and the choice is -1 or a configured
 *    coding with q > 0 that no other configured coding beats;
 *  - the value split at its first comma into two fields chooses the same
 *    as the whole (several fields are one list);
 *  - parsing the value twice into the same prefs changes nothing (a coding
 *    named twice keeps its highest q).
 *
 * FUZZ_SOURCES: src/compress/accept.c
 * FUZZ_LIBS:
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "compress/compress.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static int q_of(const struct ae_prefs *p, int a)
{
	return p->q[a] >= 0 ? p->q[a] : p->star;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t orders[6][3] = {
		{ CZ_GZIP, CZ_BR, CZ_ZSTD }, { CZ_GZIP, CZ_ZSTD, CZ_BR }, { CZ_BR, CZ_GZIP, CZ_ZSTD },
		{ CZ_BR, CZ_ZSTD, CZ_GZIP }, { CZ_ZSTD, CZ_GZIP, CZ_BR }, { CZ_ZSTD, CZ_BR, CZ_GZIP },
	};
	if (size < 1)
		return 0;
	const uint8_t *order = orders[data[0] % 6];
	int n = 1 + (data[0] / 6) % 3;
	const char *v = (const char *)data + 1;
	size_t len = size - 1;

	struct ae_prefs p;
	ae_init(&p);
	ae_parse(&p, v, len);
	for (int i = 0; i < CZ_COUNT; i++)
		FUZZ_ASSERT(p.q[i] >= -1 && p.q[i] <= 1000);
	FUZZ_ASSERT(p.star >= -1 && p.star <= 1000 && p.identity >= -1 && p.identity <= 1000);
	int a = ae_choose(&p, order, n);
	if (a >= 0) {
		bool configured = false;
		for (int i = 0; i < n; i++)
			configured |= order[i] == a;
		FUZZ_ASSERT(configured && q_of(&p, a) > 0);
		for (int i = 0; i < n; i++)
			FUZZ_ASSERT(q_of(&p, order[i]) <= q_of(&p, a));
	} else {
		for (int i = 0; i < n; i++)
			FUZZ_ASSERT(q_of(&p, order[i]) <= 0);
	}

	struct ae_prefs twice = p;
	ae_parse(&twice, v, len);
	FUZZ_ASSERT(memcmp(&twice, &p, sizeof(p)) == 0);

	/* split at the first comma: two fields (values without quotes, where
	 * a comma may sit inside a parameter's quoted string) */
	for (size_t i = 0; i < len && !memchr(v, '"', len); i++) {
		if (v[i] == ',') {
			struct ae_prefs s;
			ae_init(&s);
			ae_parse(&s, v, i);
			ae_parse(&s, v + i + 1, len - i - 1);
			FUZZ_ASSERT(ae_choose(&s, order, n) == a);
			break;
		}
	}
	(void)cz_type_ok(v, len, NULL, 0);
	return 0;
}
