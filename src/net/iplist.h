/*
 * iplist.h - large sets of address ranges: `src in file(PATH)` (filter/cond.c)
 * loads a list of CIDRs and addresses from a file once per configuration
 * (config/cfg_iplist.c), and every request asks whether its client falls in
 * one of them.
 *
 * Addresses are kept as IPv6 (IPv4 as ::ffff:a.b.c.d, cidr.h), so an IPv4
 * client of a dual-stack listener matches IPv4 entries.  The set answers
 * "is this address in any of the ranges", not "which one": a range inside
 * another is dropped at build, so ranges are disjoint and each is a leaf of
 * a path-compressed binary trie (crit-bit: an inner node is a bit position
 * and two children).  A lookup follows the address's bits at the inner
 * nodes, at most 128 of them whatever the number of entries, then compares
 * the one leaf it reaches.  Built from the sorted entries in one pass, into
 * two flat arrays: no pointer per node, read-only once built, shared by all
 * workers.
 */
#ifndef GH_NET_IPLIST_H
#define GH_NET_IPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "net/cidr.h"

struct iplist;

/* Builds a set from v[0..n) (cidr_parse()'s form; v is sorted in place).
 * NULL when out of memory. */
struct iplist *iplist_build(struct cidr *v, size_t n);

/*
 * Reads a list file: one IPv4 or IPv6 address or CIDR per line (a bare
 * address is one host, host bits of a CIDR are cleared as in `src in`),
 * `#` starts a comment, blank lines are skipped.  NULL on failure with
 * the reason in err: "PATH:LINE: invalid ..." for a bad line, "cannot
 * read PATH: ..." for a file that cannot be read.
 */
struct iplist *iplist_load(const char *path, char *err, size_t errlen);

/* Is addr (16 bytes, IPv4 mapped) in one of the ranges? */
bool iplist_match(const struct iplist *l, const uint8_t addr[16]);
/* The same for an AF_INET or AF_INET6 address (false for other families). */
bool iplist_match_sa(const struct iplist *l, const struct sockaddr *sa);

/* Entries read (file lines or build input), ranges kept (covered ones
 * dropped), and the bytes the set holds. */
size_t iplist_entries(const struct iplist *l);
size_t iplist_ranges(const struct iplist *l);
size_t iplist_bytes(const struct iplist *l);

void iplist_free(struct iplist *l);

#endif
