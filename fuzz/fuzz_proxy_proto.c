/*
 * fuzz_proxy_proto.c - libFuzzer target for the PROXY protocol parser and
 * writer (src/net/proxy_proto.c), which reads the very first bytes of a
 * connection on an `accept_proxy` bind, from anyone who can connect.
 *
 * Besides memory safety it asserts what session_pp.c relies on:
 *  - a complete header's length is within the input, at most PP_HDR_MAX
 *    (v1: 107), and every prefix of it says "need more" (never "error",
 *    never complete earlier): a header parses the same in any pieces;
 *  - a malformed input stays malformed with more bytes after it;
 *  - the authority, if any, lies inside the header and is 1..255 bytes;
 *  - the addresses of a complete header, written again with pp_build() in
 *    v1 and v2, parse back to the same addresses and ports.
 *
 * FUZZ_SOURCES: src/net/proxy_proto.c src/net/cidr.c
 * FUZZ_LIBS:
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "net/cidr.h"
#include "net/proxy_proto.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t x[16], y[16];
	struct sockaddr_in6 m;
	const struct sockaddr_storage *ss[2] = { a, b };
	uint8_t *out[2] = { x, y };
	uint16_t port[2];

	for (int i = 0; i < 2; i++) {
		if (ss[i]->ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)ss[i];
			memset(&m, 0, sizeof(m));
			m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&m.sin6_addr.s6_addr[12], &in->sin_addr, 4);
			memcpy(out[i], &m.sin6_addr, 16);
			port[i] = in->sin_port;
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss[i];
			memcpy(out[i], &in6->sin6_addr, 16);
			port[i] = in6->sin6_port;
		}
	}
	return memcmp(x, y, 16) == 0 && port[0] == port[1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_info in, in2;
	const char *why;

	if (size > PP_HDR_MAX + 64)
		size = PP_HDR_MAX + 64;
	/* a copy of exactly `size` bytes, so ASan sees any read past it */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int r = pp_parse(buf, size, &in, &why);
	FUZZ_ASSERT(r == PP_ERROR || r == PP_NEED_MORE || (r > 0 && (size_t)r <= size));
	FUZZ_ASSERT(r != PP_ERROR || why != NULL);
	if (r > 0) {
		FUZZ_ASSERT(r <= PP_HDR_MAX);
		FUZZ_ASSERT(in.version == 2 || r <= PP_V1_MAX);
		for (int k = 0; k < r; k++) {
			struct pp_info t;
			FUZZ_ASSERT(pp_parse(buf, (size_t)k, &t, &why) == PP_NEED_MORE);
		}
		if (in.authority) {
			FUZZ_ASSERT(in.authority >= buf && in.authority + in.authority_len <= buf + r);
			FUZZ_ASSERT(in.authority_len >= 1 && in.authority_len <= PP_AUTHORITY_MAX);
		}
		/* the same header with other bytes after it: the same length */
		struct pp_info t;
		FUZZ_ASSERT(pp_parse(buf, (size_t)r, &t, &why) == r);
		if (!in.local) {
			uint8_t out[PP_BUILD_MAX];
			for (int v = 1; v <= 2; v++) {
				size_t n = pp_build(v, (struct sockaddr *)&in.src, (struct sockaddr *)&in.dst,
						    false, out, sizeof(out));
				FUZZ_ASSERT(n > 0 && n <= sizeof(out));
				FUZZ_ASSERT(pp_parse(out, n, &in2, &why) == (int)n);
				FUZZ_ASSERT(!in2.local);
				FUZZ_ASSERT(same_addr(&in.src, &in2.src) && same_addr(&in.dst, &in2.dst));
			}
		}
	} else if (r == PP_ERROR && size > 0) {
		/* more bytes never repair a malformed header */
		uint8_t *more = malloc(size + 16);
		if (more) {
			memcpy(more, buf, size);
			memset(more + size, '\n', 16);
			struct pp_info t;
			FUZZ_ASSERT(pp_parse(more, size + 16, &t, &why) == PP_ERROR);
			free(more);
		}
	}
	/* pp_detect agrees with the parser about what is not a header */
	if (pp_detect(buf, size) < 0)
		FUZZ_ASSERT(r == PP_ERROR);
	/* address text of any kind: ip_parse/cidr_parse must not overrun */
	struct sockaddr_in6 a;
	ip_parse((const char *)buf, size < 64 ? size : 64, &a);
	char s[80];
	size_t k = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, buf, k);
	s[k] = '\0';
	struct cidr c;
	if (cidr_parse(s, &c) == 0)
		FUZZ_ASSERT(c.bits <= 128);
	free(buf);
	return 0;
}
