/*
 * test_proxy_proto.c - the PROXY protocol parser and writer
 * (src/net/proxy_proto.c) and address ranges (src/net/cidr.c): valid v1
 * and v2 headers at every split point, every way a header can lie, and
 * what pp_build() writes parsing back to the same addresses.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include "unit.h"
#include "net/cidr.h"
#include "net/proxy_proto.h"

static const uint8_t SIG[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

static const char *ip_of(const struct sockaddr_storage *ss, char *out)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, 64);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, 64);
	else
		strcpy(out, "?");
	return out;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Every prefix of a complete header says "need more", the whole says its
 * length, whatever follows it untouched. */
static void check_splits(const uint8_t *h, size_t len)
{
	struct pp_info in;
	const char *why;
	uint8_t buf[PP_HDR_MAX + 8];

	for (size_t i = 0; i < len; i++)
		CHECK_EQ_INT(pp_parse(h, i, &in, &why), PP_NEED_MORE);
	memcpy(buf, h, len);
	memcpy(buf + len, "GET /", 5);
	CHECK_EQ_INT(pp_parse(buf, len + 5, &in, &why), (long long)len);
}

static int parse_str(const char *s, struct pp_info *in, const char **why)
{
	return pp_parse((const uint8_t *)s, strlen(s), in, why);
}

TEST(v1_tcp4_tcp6_unknown)
{
	struct pp_info in;
	const char *why;
	char a[64];
	const char *h = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";

	CHECK_EQ_INT(parse_str(h, &in, &why), (long long)strlen(h));
	CHECK_EQ_INT(in.version, 1);
	CHECK(!in.local);
	CHECK_STR(ip_of(&in.src, a), "192.0.2.1");
	CHECK_STR(ip_of(&in.dst, a), "198.51.100.7");
	CHECK_EQ_INT(port_of(&in.src), 56324);
	CHECK_EQ_INT(port_of(&in.dst), 443);
	check_splits((const uint8_t *)h, strlen(h));

	h = "PROXY TCP6 2001:db8::1 ::1 65535 0\r\n";
	CHECK_EQ_INT(parse_str(h, &in, &why), (long long)strlen(h));
	CHECK_STR(ip_of(&in.src, a), "2001:db8::1");
	CHECK_EQ_INT(port_of(&in.src), 65535);
	check_splits((const uint8_t *)h, strlen(h));

	h = "PROXY UNKNOWN\r\n";
	CHECK_EQ_INT(parse_str(h, &in, &why), 15);
	CHECK(in.local);
	h = "PROXY UNKNOWN ffff::1 ::1 1 2\r\n";
	CHECK_EQ_INT(parse_str(h, &in, &why), (long long)strlen(h));
	CHECK(in.local);

	/* the longest legal line: 107 bytes */
	h = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	CHECK_EQ_INT(strlen(h), 104);
	CHECK_EQ_INT(parse_str(h, &in, &why), 104);
}

TEST(v1_malformed)
{
	static const char *const bad[] = {
		"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\n",      /* bare LF */
		"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\rX",     /* CR not LF */
		"PROXY TCP4  192.0.2.1 198.51.100.7 56324 443\r\n",   /* two spaces */
		"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443 \r\n",   /* trailing space */
		"PROXY TCP4 192.0.2.1 198.51.100.7 56324\r\n",        /* one port */
		"PROXY TCP4 192.0.2.1 198.51.100.7 65536 443\r\n",    /* port range */
		"PROXY TCP4 192.0.2.1 198.51.100.7 0443 443\r\n",     /* leading zero */
		"PROXY TCP4 192.0.2.01 198.51.100.7 1 443\r\n",       /* leading zero */
		"PROXY TCP4 192.0.2 198.51.100.7 1 443\r\n",          /* short quad */
		"PROXY TCP4 256.0.2.1 198.51.100.7 1 443\r\n",
		"PROXY TCP4 2001:db8::1 ::1 1 2\r\n",                 /* family mismatch */
		"PROXY TCP6 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY TCP5 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY tcp4 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY \r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 2\x01\r\n",
		"PROXX TCP4",
		"GET / HTTP/1.1\r\n",
	};
	struct pp_info in;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i], &in, &why);
		if (r != PP_ERROR)
			fprintf(stderr, "  accepted #%zu: %s\n", i, bad[i]);
		CHECK_EQ_INT(r, PP_ERROR);
		CHECK(why != NULL);
	}
	/* 107 bytes and no CRLF: refused without waiting for more */
	char longl[200];
	memset(longl, '1', sizeof(longl));
	memcpy(longl, "PROXY UNKNOWN ", 14);
	CHECK_EQ_INT(pp_parse((uint8_t *)longl, 106, &in, &why), PP_NEED_MORE);
	CHECK_EQ_INT(pp_parse((uint8_t *)longl, 107, &in, &why), PP_ERROR);
	/* a CR at byte 106 would make a 108-byte line */
	longl[105] = '\r';
	CHECK_EQ_INT(pp_parse((uint8_t *)longl, 107, &in, &why), PP_ERROR);
	longl[104] = '\r';
	longl[105] = '\n';
	CHECK_EQ_INT(pp_parse((uint8_t *)longl, 107, &in, &why), 106);
}

static size_t v2_hdr(uint8_t *out, uint8_t vc, uint8_t fam, const uint8_t *payload, size_t plen)
{
	memcpy(out, SIG, 12);
	out[12] = vc;
	out[13] = fam;
	out[14] = (uint8_t)(plen >> 8);
	out[15] = (uint8_t)plen;
	memcpy(out + 16, payload, plen);
	return 16 + plen;
}

TEST(v2_inet_inet6_local_tlvs)
{
	uint8_t h[PP_HDR_MAX + 16], p[512];
	struct pp_info in;
	const char *why;
	char a[64];

	/* 203.0.113.9:1234 -> 10.0.0.1:80, then authority + noop + SSL TLVs */
	const uint8_t addr4[12] = { 203, 0, 113, 9, 10, 0, 0, 1, 0x04, 0xd2, 0, 80 };
	size_t n = 0;
	memcpy(p, addr4, 12);
	n = 12;
	const uint8_t tlvs[] = { PP2_TYPE_AUTHORITY, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c',
				 'o', 'm', PP2_TYPE_NOOP, 0, 2, 0, 0, PP2_TYPE_SSL, 0, 8, 1, 0, 0,
				 0, 0, 0x21, 0, 0, 0xEA, 0, 0 };
	memcpy(p + n, tlvs, sizeof(tlvs));
	n += sizeof(tlvs);
	size_t len = v2_hdr(h, 0x21, 0x11, p, n);
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), (long long)len);
	CHECK_EQ_INT(in.version, 2);
	CHECK(!in.local);
	CHECK_STR(ip_of(&in.src, a), "203.0.113.9");
	CHECK_EQ_INT(port_of(&in.src), 1234);
	CHECK_STR(ip_of(&in.dst, a), "10.0.0.1");
	CHECK_EQ_INT(port_of(&in.dst), 80);
	CHECK_EQ_INT(in.authority_len, 11);
	CHECK(in.authority && memcmp(in.authority, "example.com", 11) == 0);
	CHECK_EQ_INT(in.ntlv, 4);
	check_splits(h, len);

	uint8_t addr6[36] = { 0x20, 0x01, 0x0d, 0xb8 };
	addr6[15] = 1;
	addr6[31] = 2;
	addr6[33] = 7;
	addr6[35] = 8;
	len = v2_hdr(h, 0x21, 0x21, addr6, 36);
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), 52);
	CHECK_STR(ip_of(&in.src, a), "2001:db8::1");
	CHECK_STR(ip_of(&in.dst, a), "::2");
	CHECK_EQ_INT(port_of(&in.src), 7);
	check_splits(h, len);

	/* LOCAL: whatever the block holds is skipped */
	len = v2_hdr(h, 0x20, 0x00, (const uint8_t *)"\x01\x02\x03", 3);
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), 19);
	CHECK(in.local);
	/* PROXY with AF_UNSPEC, or AF_UNIX: the peer's addresses stand */
	len = v2_hdr(h, 0x21, 0x00, p, 0);
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), 16);
	CHECK(in.local);
	memset(p, 0, 216);
	len = v2_hdr(h, 0x21, 0x31, p, 216);
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), 232);
	CHECK(in.local);
	/* the biggest header allowed */
	memcpy(p, addr4, 12);
	uint8_t *big = malloc(PP_HDR_MAX);
	memcpy(big, SIG, 12);
	big[12] = 0x21;
	big[13] = 0x11;
	size_t plen = PP_HDR_MAX - 16;
	big[14] = (uint8_t)(plen >> 8);
	big[15] = (uint8_t)plen;
	memcpy(big + 16, addr4, 12);
	big[28] = PP2_TYPE_NOOP;
	big[29] = (uint8_t)((plen - 15) >> 8);
	big[30] = (uint8_t)(plen - 15);
	memset(big + 31, 0, plen - 15);
	CHECK_EQ_INT(pp_parse(big, PP_HDR_MAX, &in, &why), PP_HDR_MAX);
	free(big);
}

TEST(v2_lying_lengths)
{
	uint8_t h[600], p[512];
	struct pp_info in;
	const char *why;
	const uint8_t addr4[12] = { 203, 0, 113, 9, 10, 0, 0, 1, 0x04, 0xd2, 0, 80 };
	size_t len;

#define BAD(payload, plen, vc, fam) do { \
	len = v2_hdr(h, (vc), (fam), (payload), (plen)); \
	CHECK_EQ_INT(pp_parse(h, len, &in, &why), PP_ERROR); \
	CHECK(why != NULL); \
} while (0)
	memcpy(p, addr4, 12);
	/* a TLV claiming more than is left */
	memcpy(p + 12, "\x04\x00\x05\x00\x00", 5);
	BAD(p, 17, 0x21, 0x11);
	/* a TLV header cut short */
	memcpy(p + 12, "\x04\x00", 2);
	BAD(p, 14, 0x21, 0x11);
	/* an SSL TLV whose sub-TLV claims too much */
	memcpy(p + 12, "\x20\x00\x08\x01\x00\x00\x00\x00\x21\x00\x09", 11);
	BAD(p, 23, 0x21, 0x11);
	/* an SSL TLV shorter than client + verify */
	memcpy(p + 12, "\x20\x00\x02\x01\x00", 5);
	BAD(p, 17, 0x21, 0x11);
	/* authority empty, too long, or with a control byte */
	memcpy(p + 12, "\x02\x00\x00", 3);
	BAD(p, 15, 0x21, 0x11);
	p[12] = 0x02;
	p[13] = 1;
	p[14] = 0;
	memset(p + 15, 'a', 256);
	BAD(p, 15 + 256, 0x21, 0x11);
	memcpy(p + 12, "\x02\x00\x02" "a\n", 5);
	BAD(p, 17, 0x21, 0x11);
	/* length shorter than the address block it announces */
	BAD(p, 11, 0x21, 0x11);
	BAD(p, 35, 0x21, 0x21);
	/* version, command, family, protocol */
	BAD(p, 12, 0x11, 0x11);
	BAD(p, 12, 0x22, 0x11);
	BAD(p, 12, 0x21, 0x41);
	BAD(p, 12, 0x21, 0x12);   /* DGRAM */
	BAD(p, 12, 0x21, 0x10);   /* INET with UNSPEC protocol */
	/* longer than PP_HDR_MAX: refused at once, without waiting for it */
	memcpy(h, SIG, 12);
	h[12] = 0x21;
	h[13] = 0x11;
	h[14] = 0x10;
	h[15] = 0x00;
	CHECK_EQ_INT(pp_parse(h, 16, &in, &why), PP_ERROR);
	/* a broken signature */
	memcpy(h, SIG, 12);
	h[11] = 0x0B;
	CHECK_EQ_INT(pp_parse(h, 16, &in, &why), PP_ERROR);
#undef BAD
}

TEST(detect)
{
	CHECK_EQ_INT(pp_detect((const uint8_t *)"PRO", 3), 0);
	CHECK_EQ_INT(pp_detect((const uint8_t *)"PROXY ", 6), 1);
	CHECK_EQ_INT(pp_detect((const uint8_t *)"POST /", 6), -1);
	CHECK_EQ_INT(pp_detect((const uint8_t *)"\x16\x03\x01", 3), -1);
	CHECK_EQ_INT(pp_detect(SIG, 5), 0);
	CHECK_EQ_INT(pp_detect(SIG, 12), 1);
	CHECK_EQ_INT(pp_detect((const uint8_t *)"", 0), 0);
}

TEST(build_round_trip)
{
	uint8_t out[PP_BUILD_MAX];
	struct pp_info in;
	const char *why;
	char a[64];
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct sockaddr_in d4 = { .sin_family = AF_INET, .sin_port = htons(8080) };
	inet_pton(AF_INET, "192.0.2.10", &s4.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d4.sin_addr);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(1) };
	struct sockaddr_in6 m6 = { .sin6_family = AF_INET6, .sin6_port = htons(2) };
	inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &m6.sin6_addr);

	size_t n = pp_build(1, (struct sockaddr *)&s4, (struct sockaddr *)&d4, false, out, sizeof(out));
	CHECK_EQ_INT(n, strlen("PROXY TCP4 192.0.2.10 127.0.0.1 40000 8080\r\n"));
	CHECK(memcmp(out, "PROXY TCP4 192.0.2.10 127.0.0.1 40000 8080\r\n", n) == 0);
	/* a v4-mapped address goes out as IPv4 */
	n = pp_build(2, (struct sockaddr *)&m6, (struct sockaddr *)&d4, false, out, sizeof(out));
	CHECK_EQ_INT(n, 28);
	CHECK_EQ_INT(pp_parse(out, n, &in, &why), 28);
	CHECK_STR(ip_of(&in.src, a), "10.1.2.3");
	CHECK_EQ_INT(port_of(&in.src), 2);
	/* mixed families: IPv6 */
	n = pp_build(1, (struct sockaddr *)&s6, (struct sockaddr *)&d4, false, out, sizeof(out));
	CHECK_EQ_INT(pp_parse(out, n, &in, &why), (long long)n);
	CHECK_STR(ip_of(&in.src, a), "2001:db8::5");
	CHECK_STR(ip_of(&in.dst, a), "::ffff:127.0.0.1");
	n = pp_build(2, (struct sockaddr *)&s6, (struct sockaddr *)&m6, false, out, sizeof(out));
	CHECK_EQ_INT(n, 52);
	CHECK_EQ_INT(pp_parse(out, n, &in, &why), 52);
	CHECK_STR(ip_of(&in.src, a), "2001:db8::5");
	/* health checks */
	n = pp_build(1, NULL, NULL, true, out, sizeof(out));
	CHECK(n == 15 && memcmp(out, "PROXY UNKNOWN\r\n", 15) == 0);
	n = pp_build(2, NULL, NULL, true, out, sizeof(out));
	CHECK_EQ_INT(n, 16);
	CHECK_EQ_INT(out[12], 0x20);
	CHECK_EQ_INT(pp_parse(out, n, &in, &why), 16);
	CHECK(in.local);
	CHECK_EQ_INT(pp_build(2, NULL, NULL, true, out, 20), 0);
}

TEST(cidrs)
{
	struct cidr c[3];
	struct sockaddr_in6 a;

	CHECK_EQ_INT(cidr_parse("10.0.0.0/8", &c[0]), 0);
	CHECK_EQ_INT(cidr_parse("2001:db8::/32", &c[1]), 0);
	CHECK_EQ_INT(cidr_parse("192.0.2.7", &c[2]), 0);
	CHECK_EQ_INT(cidr_parse("10.0.0.0/33", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("10.0.0.0/", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("10.0.0.0/08", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("10.0.0/8", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("bogus", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("::/129", &c[0]), -1);
	CHECK_EQ_INT(cidr_parse("10.1.2.3/8", &c[0]), 0);   /* host bits cleared */
	CHECK(ip_parse("10.200.1.1", 10, &a));
	CHECK(cidr_match_any(c, 3, (struct sockaddr *)&a));
	CHECK(ip_parse("11.0.0.1", 8, &a));
	CHECK(!cidr_match_any(c, 3, (struct sockaddr *)&a));
	CHECK(ip_parse("192.0.2.7", 9, &a));
	CHECK(cidr_match_any(c, 3, (struct sockaddr *)&a));
	CHECK(ip_parse("192.0.2.8", 9, &a));
	CHECK(!cidr_match_any(c, 3, (struct sockaddr *)&a));
	CHECK(ip_parse("2001:db8:ffff::1", 16, &a));
	CHECK(cidr_match_any(c, 3, (struct sockaddr *)&a));
	CHECK(!ip_parse("1.2.3.4:80", 10, &a));
	CHECK(!ip_parse("unknown", 7, &a));
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "10.9.9.9", &s4.sin_addr);
	CHECK(cidr_match_any(c, 3, (struct sockaddr *)&s4));
	struct cidr all;
	CHECK_EQ_INT(cidr_parse("0.0.0.0/0", &all), 0);
	CHECK(cidr_match_any(&all, 1, (struct sockaddr *)&s4));
	CHECK(ip_parse("2001:db8::1", 11, &a));
	CHECK(!cidr_match_any(&all, 1, (struct sockaddr *)&a));   /* IPv4's /0 is not IPv6 */
}

int main(void)
{
	RUN(v1_tcp4_tcp6_unknown);
	RUN(v1_malformed);
	RUN(v2_inet_inet6_local_tlvs);
	RUN(v2_lying_lengths);
	RUN(detect);
	RUN(build_round_trip);
	RUN(cidrs);
	return UNIT_SUMMARY("test_proxy_proto");
}
