/*
 * proxy_proto.c - PROXY protocol v1/v2 parser and writer (see proxy_proto.h).
 *
 * Listeners with `accept_proxy` run pp_parse() over the bytes they peek at
 * before the HTTP codec or a TCP tunnel sees any (proxy/session_pp.c);
 * servers with `send_proxy` and their health checks get pp_build()'s bytes
 * first (proxy/srvconn.c, health/health.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "net/proxy_proto.h"

static const uint8_t v2_sig[PP_V2_SIG_LEN] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };
static const char v1_sig[] = "PROXY ";

int pp_detect(const uint8_t *buf, size_t len)
{
	size_t n1 = len < 6 ? len : 6, n2 = len < PP_V2_SIG_LEN ? len : PP_V2_SIG_LEN;
	bool v1 = memcmp(buf, v1_sig, n1) == 0, v2 = memcmp(buf, v2_sig, n2) == 0;

	if ((v1 && len >= 6) || (v2 && len >= PP_V2_SIG_LEN))
		return 1;
	return v1 || v2 ? 0 : -1;
}

/* ---- v1 ---- */

/* A decimal without leading zeros (but "0"), at most max; advances *p. */
static bool v1_num(const char **p, const char *end, unsigned max, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (s < end && *s >= '0' && *s <= '9' && n < 6) {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
		n++;
	}
	if (n == 0 || (n > 1 && **p == '0') || v > max)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* The next field up to a space (or the end), copied NUL-terminated. */
static bool v1_field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e = memchr(s, ' ', (size_t)(end - s));
	if (!e)
		e = end;
	size_t n = (size_t)(e - s);
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e;
	return true;
}

static bool v1_addr(const char **p, const char *end, bool v6, struct sockaddr_storage *ss)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (!v1_field(p, end, tmp, sizeof(tmp)))
		return false;
	memset(ss, 0, sizeof(*ss));
	if (!v6) {
		/* strict dotted quad: inet_pton(AF_INET) already refuses
		 * shorthand forms; leading zeros are refused here */
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		const char *q = tmp, *qe = tmp + strlen(tmp);
		for (int i = 0; i < 4; i++) {
			unsigned b;
			if (!v1_num(&q, qe, 255, &b) || (i < 3 && (q >= qe || *q++ != '.')))
				return false;
			((uint8_t *)&in->sin_addr)[i] = (uint8_t)b;
		}
		if (q != qe)
			return false;
		in->sin_family = AF_INET;
		return true;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) != 1)
		return false;
	in6->sin6_family = AF_INET6;
	return true;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int pp_parse_v1(const uint8_t *buf, size_t len, struct pp_info *info, const char **why)
{
	size_t lim = len < PP_V1_MAX ? len : PP_V1_MAX;
	const uint8_t *cr = NULL;

	for (size_t i = 0; i < lim; i++) {
		if (buf[i] == '\r') {
			cr = buf + i;
			break;
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			*why = "v1: unexpected byte in the header line";
			return PP_ERROR;
		}
	}
	if (!cr) {
		if (len >= PP_V1_MAX) {
			*why = "v1: no CRLF within 107 bytes";
			return PP_ERROR;
		}
		return PP_NEED_MORE;
	}
	size_t line = (size_t)(cr - buf);
	if (line + 2 > PP_V1_MAX) {
		*why = "v1: no CRLF within 107 bytes";
		return PP_ERROR;
	}
	if (line + 1 >= len)
		return PP_NEED_MORE;
	if (cr[1] != '\n') {
		*why = "v1: CR not followed by LF";
		return PP_ERROR;
	}
	int total = (int)line + 2;
	const char *p = (const char *)buf + 6, *end = (const char *)cr;
	memset(info, 0, sizeof(*info));
	info->version = 1;
	if ((size_t)(end - p) >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (end - p == 7 || p[7] == ' ')) {
		/* the rest of the line is to be ignored (spec 2.1) */
		info->local = true;
		return total;
	}
	bool v6;
	if ((size_t)(end - p) >= 5 && memcmp(p, "TCP4 ", 5) == 0)
		v6 = false;
	else if ((size_t)(end - p) >= 5 && memcmp(p, "TCP6 ", 5) == 0)
		v6 = true;
	else {
		*why = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
		return PP_ERROR;
	}
	p += 5;
	unsigned sport, dport;
	if (!v1_addr(&p, end, v6, &info->src) || p >= end || *p++ != ' ' ||
	    !v1_addr(&p, end, v6, &info->dst) || p >= end || *p++ != ' ' ||
	    !v1_num(&p, end, 65535, &sport) || p >= end || *p++ != ' ' ||
	    !v1_num(&p, end, 65535, &dport) || p != end) {
		*why = "v1: malformed addresses or ports";
		return PP_ERROR;
	}
	set_port(&info->src, sport);
	set_port(&info->dst, dport);
	return total;
}

/* ---- v2 ---- */

/* PP2_TYPE_SSL: client (1), verify (4), then sub-TLVs that must fit. */
static bool v2_ssl_ok(const uint8_t *v, size_t len)
{
	if (len < 5)
		return false;
	size_t off = 5;
	while (off < len) {
		if (len - off < 3)
			return false;
		size_t l = (size_t)v[off + 1] << 8 | v[off + 2];
		if (l > len - off - 3)
			return false;
		off += 3 + l;
	}
	return true;
}

static int pp_parse_v2(const uint8_t *buf, size_t len, struct pp_info *info, const char **why)
{
	if (len < 16)
		return PP_NEED_MORE;
	uint8_t ver = buf[12] >> 4, cmd = buf[12] & 0x0f;
	uint8_t fam = buf[13] >> 4, proto = buf[13] & 0x0f;
	size_t plen = (size_t)buf[14] << 8 | buf[15];

	if (ver != 2) {
		*why = "v2: version is not 2";
		return PP_ERROR;
	}
	if (cmd > 1) {
		*why = "v2: command is neither LOCAL nor PROXY";
		return PP_ERROR;
	}
	if (fam > 3 || proto > 2) {
		*why = "v2: unknown address family or protocol";
		return PP_ERROR;
	}
	if (16 + plen > PP_HDR_MAX) {
		*why = "v2: header longer than 4096 bytes";
		return PP_ERROR;
	}
	size_t alen = 0;
	if (cmd == 1) {
		if (proto == 2) {
			*why = "v2: datagram protocol on a stream connection";
			return PP_ERROR;
		}
		if ((fam == 0) != (proto == 0)) {
			*why = "v2: address family and protocol disagree";
			return PP_ERROR;
		}
		alen = fam == 1 ? 12 : fam == 2 ? 36 : fam == 3 ? 216 : 0;
		if (plen < alen) {
			*why = "v2: length shorter than the addresses";
			return PP_ERROR;
		}
	}
	if (len < 16 + plen)
		return PP_NEED_MORE;

	memset(info, 0, sizeof(*info));
	info->version = 2;
	const uint8_t *a = buf + 16;
	if (cmd == 0 || fam == 0 || fam == 3) {
		/* LOCAL (health checks of the balancer), or families we do not
		 * carry: the connection's own addresses stand (spec 2.2). */
		info->local = true;
		if (cmd == 0)
			return (int)(16 + plen);   /* the whole block is skipped */
	} else if (fam == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&info->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&info->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&info->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&info->dst;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	}

	/* TLVs: each must fit in what is left; nothing may dangle. */
	size_t off = alen;
	while (off < plen) {
		if (plen - off < 3) {
			*why = "v2: truncated TLV";
			return PP_ERROR;
		}
		uint8_t type = a[off];
		size_t l = (size_t)a[off + 1] << 8 | a[off + 2];
		if (l > plen - off - 3) {
			*why = "v2: TLV length runs past the header";
			return PP_ERROR;
		}
		const uint8_t *v = a + off + 3;
		if (type == PP2_TYPE_AUTHORITY) {
			if (l == 0 || l > PP_AUTHORITY_MAX || info->authority) {
				*why = "v2: bad authority TLV";
				return PP_ERROR;
			}
			for (size_t i = 0; i < l; i++)
				if (v[i] <= 0x20 || v[i] >= 0x7f) {
					*why = "v2: bad authority TLV";
					return PP_ERROR;
				}
			info->authority = v;
			info->authority_len = (uint16_t)l;
		} else if (type == PP2_TYPE_SSL && !v2_ssl_ok(v, l)) {
			*why = "v2: SSL TLV with a bad sub-TLV length";
			return PP_ERROR;
		} else if (type == PP2_TYPE_CRC32C && l != 4) {
			*why = "v2: CRC32C TLV is not 4 bytes";
			return PP_ERROR;
		}
		info->ntlv++;
		off += 3 + l;
	}
	return (int)(16 + plen);
}

int pp_parse(const uint8_t *buf, size_t len, struct pp_info *info, const char **why)
{
	int d = pp_detect(buf, len);

	*why = NULL;
	if (d < 0) {
		*why = "not a PROXY protocol header";
		return PP_ERROR;
	}
	if (d == 0)
		return PP_NEED_MORE;
	if (buf[0] == 'P')
		return pp_parse_v1(buf, len, info, why);
	return pp_parse_v2(buf, len, info, why);
}

/* ---- writing ---- */

/* IPv4 bytes of sa (plain or v4-mapped), or NULL. */
static const uint8_t *addr_v4(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return &a->s6_addr[12];
	}
	return NULL;
}

/* sa as 16 IPv6 bytes (IPv4 mapped). */
static void addr_v6(const struct sockaddr *sa, uint8_t out[16])
{
	const uint8_t *v4 = addr_v4(sa);
	if (v4) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return;
	}
	memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static uint16_t addr_port(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
					: ((const struct sockaddr_in6 *)sa)->sin6_port;
}

static bool addr_usable(const struct sockaddr *sa)
{
	return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

size_t pp_build(int version, const struct sockaddr *src, const struct sockaddr *dst, bool local,
		uint8_t *out, size_t cap)
{
	bool known = !local && addr_usable(src) && addr_usable(dst);
	bool v4 = known && addr_v4(src) && addr_v4(dst);

	if (cap < PP_BUILD_MAX)
		return 0;
	if (version == 1) {
		if (!known) {
			memcpy(out, "PROXY UNKNOWN\r\n", 15);
			return 15;
		}
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
		if (v4) {
			inet_ntop(AF_INET, addr_v4(src), s, sizeof(s));
			inet_ntop(AF_INET, addr_v4(dst), d, sizeof(d));
		} else {
			uint8_t a[16];
			addr_v6(src, a);
			inet_ntop(AF_INET6, a, s, sizeof(s));
			addr_v6(dst, a);
			inet_ntop(AF_INET6, a, d, sizeof(d));
		}
		/* snprintf-free: every piece is bounded (107 bytes at most) */
		size_t n = 0;
		memcpy(out, v4 ? "PROXY TCP4 " : "PROXY TCP6 ", 11);
		n = 11;
		memcpy(out + n, s, strlen(s));
		n += strlen(s);
		out[n++] = ' ';
		memcpy(out + n, d, strlen(d));
		n += strlen(d);
		unsigned ports[2] = { ntohs(addr_port(src)), ntohs(addr_port(dst)) };
		for (int i = 0; i < 2; i++) {
			char digits[6];
			int k = 0;
			unsigned v = ports[i];
			do {
				digits[k++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			out[n++] = ' ';
			while (k)
				out[n++] = (uint8_t)digits[--k];
		}
		out[n++] = '\r';
		out[n++] = '\n';
		return n;
	}
	memcpy(out, v2_sig, PP_V2_SIG_LEN);
	if (!known) {
		out[12] = local ? 0x20 : 0x21;   /* LOCAL, or PROXY with AF_UNSPEC */
		out[13] = 0x00;
		out[14] = out[15] = 0;
		return 16;
	}
	out[12] = 0x21;   /* v2, PROXY */
	uint16_t sp = addr_port(src), dp = addr_port(dst);   /* network order */
	if (v4) {
		out[13] = 0x11;   /* AF_INET, STREAM */
		out[14] = 0;
		out[15] = 12;
		memcpy(out + 16, addr_v4(src), 4);
		memcpy(out + 20, addr_v4(dst), 4);
		memcpy(out + 24, &sp, 2);
		memcpy(out + 26, &dp, 2);
		return 28;
	}
	out[13] = 0x21;   /* AF_INET6, STREAM */
	out[14] = 0;
	out[15] = 36;
	addr_v6(src, out + 16);
	addr_v6(dst, out + 32);
	memcpy(out + 48, &sp, 2);
	memcpy(out + 50, &dp, 2);
	return 52;
}
