/*
 * cidr.c - address ranges and IP text (see cidr.h).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "net/cidr.h"

/* The 16 IPv6 bytes of sa (IPv4 mapped); false for other families. */
static bool sa_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool ip_parse(const char *s, size_t len, struct sockaddr_in6 *out)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in_addr a4;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, tmp, &out->sin6_addr) == 1;
}

int cidr_parse(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct sockaddr_in6 a;

	if (!ip_parse(s, alen, &a))
		return -1;
	bool v4 = IN6_IS_ADDR_V4MAPPED(&a.sin6_addr) && !memchr(s, ':', alen);
	int max = v4 ? 32 : 128, bits = max;
	if (slash) {
		char *end;
		const char *d = slash + 1;
		if (*d < '0' || *d > '9' || (d[0] == '0' && d[1]))
			return -1;
		long b = strtol(d, &end, 10);
		if (*end || b < 0 || b > max)
			return -1;
		bits = (int)b;
	}
	if (v4)
		bits += 96;
	memcpy(out->addr, &a.sin6_addr, 16);
	out->bits = (uint8_t)bits;
	/* host bits are cleared, as in `src in`: 10.1.2.3/8 is 10.0.0.0/8 */
	for (int i = bits; i < 128; i++)
		out->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return 0;
}

bool cidr_match_any(const struct cidr *v, int n, const struct sockaddr *sa)
{
	uint8_t a[16];

	if (!sa_bytes(sa, a))
		return false;
	for (int i = 0; i < n; i++) {
		int full = v[i].bits / 8, rest = v[i].bits % 8;
		if (memcmp(a, v[i].addr, (size_t)full) != 0)
			continue;
		if (rest && ((a[full] ^ v[i].addr[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}
