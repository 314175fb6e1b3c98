/*
 * cidr.h - address ranges (`accept_proxy from`, `trusted_proxies`) and the
 * plain IP text of forwarding headers.
 *
 * Everything is kept as IPv6: an IPv4 range is its IPv4-mapped range
 * (::ffff:a.b.c.d/96+n), so an IPv4 client seen on a dual-stack listener
 * matches the IPv4 range an operator writes.
 */
#ifndef GH_NET_CIDR_H
#define GH_NET_CIDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	uint8_t addr[16];        /* masked */
	uint8_t bits;            /* 0..128, on the IPv6 form */
};

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (one host); host bits
 * are cleared, as in `src in`.  Returns 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);

/* Does sa (AF_INET or AF_INET6) fall in any of v[0..n)? */
bool cidr_match_any(const struct cidr *v, int n, const struct sockaddr *sa);

/* A plain IPv4 or IPv6 address in s[0..len) (no port, no brackets) into
 * out (IPv4 as IPv4-mapped IPv6, port 0).  Returns true if it is one. */
bool ip_parse(const char *s, size_t len, struct sockaddr_in6 *out);

#endif
