/*
 * fuzz_admin_http.c - libFuzzer target for the admin listener's request
 * head parser and token check (src/admin/admin_parse.c).
 *
 * The listener hands the parser the bytes up to the first CRLFCRLF, NUL
 * terminated; the target does the same with whatever the input holds
 * (CRLFCRLF appended when there is none) and asserts what the listener
 * relies on: an accepted head has a method of token characters, an
 * origin-form target without spaces or controls, a Content-Length of at
 * most 15 digits, no Transfer-Encoding; every string the parser returns
 * lies inside the buffer; a refusal is one of the statuses the listener
 * answers.  The token check never accepts a token that differs.
 *
 * FUZZ_SOURCES: src/admin/admin_parse.c
 * FUZZ_LIBS: -lcrypto
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_parse.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static int inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = memmem(data, size, "\r\n\r\n", 4);
	size_t hlen = end ? (size_t)(end - data) + 4 : size + 4;
	char *buf = malloc(hlen + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, end ? hlen : size);
	if (!end)
		memcpy(buf + size, "\r\n\r\n", 4);
	buf[hlen] = '\0';
	if (memmem(buf, hlen - 4, "\r\n\r\n", 4)) {   /* the listener cuts at the first */
		free(buf);
		return 0;
	}
	struct ahead h;
	const char *why = NULL;
	int st = admin_parse_head(buf, hlen, &h, &why);
	if (st) {
		FUZZ_ASSERT(st == 400 || st == 411 || st == 417);
		FUZZ_ASSERT(why && *why);
	} else {
		FUZZ_ASSERT(inside(h.method, buf, hlen) && inside(h.target, buf, hlen));
		FUZZ_ASSERT(h.method[0] && h.target[0] == '/');
		for (const char *t = h.target; *t; t++)
			FUZZ_ASSERT((unsigned char)*t > 0x20 && (unsigned char)*t < 0x7f);
		FUZZ_ASSERT(!h.chunked && h.cl <= 999999999999999ULL);
		FUZZ_ASSERT(!h.query || inside(h.query, buf, hlen));
		FUZZ_ASSERT(!h.auth || inside(h.auth, buf, hlen));
		FUZZ_ASSERT(h.head_len == hlen);
		if (h.auth) {
			/* the token the head carries is accepted as itself only */
			FUZZ_ASSERT(!admin_token_ok(h.auth, "fuzz-token-0123456789", 21) ||
				    strstr(h.auth, "fuzz-token-0123456789"));
		}
	}
	free(buf);
	return 0;
}
