/*
 * iplist.c - address range sets for `in file(PATH)` (see iplist.h): the
 * list file's reader, the build (sort, drop covered ranges, one pass into
 * a crit-bit trie) and the lookup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "net/iplist.h"

/* Children are indices, a leaf's marked by this bit. */
#define IPL_LEAF 0x80000000u

struct ipl_node {
	uint32_t kid[2];
	uint8_t bit;             /* 0 = the most significant bit of the address */
};

struct iplist {
	struct ipl_node *nodes;  /* ranges - 1 inner nodes, nodes[0] the root */
	struct cidr *leaves;     /* the ranges, sorted and disjoint */
	uint32_t nleaves;
	uint32_t nnodes;
	size_t entries;
};

static inline unsigned bit_at(const uint8_t *a, unsigned bit)
{
	return (a[bit >> 3] >> (7 - (bit & 7))) & 1;
}

/* Does range p hold address a? */
static inline bool in_range(const struct cidr *p, const uint8_t *a)
{
	unsigned full = p->bits >> 3, rest = p->bits & 7;
	if (memcmp(a, p->addr, full) != 0)
		return false;
	return !rest || ((a[full] ^ p->addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static int cidr_cmp(const void *x, const void *y)
{
	const struct cidr *a = x, *b = y;
	int c = memcmp(a->addr, b->addr, 16);
	return c ? c : (int)a->bits - (int)b->bits;
}

/* The first bit where a and b differ (they do). */
static unsigned first_diff(const uint8_t *a, const uint8_t *b)
{
	unsigned i = 0;
	while (a[i] == b[i])
		i++;
	return i * 8 + (unsigned)__builtin_clz((unsigned)(a[i] ^ b[i])) - 24;
}

/*
 * The trie over leaves[lo, hi): they share every bit before the first one
 * where the lowest and the highest differ (sorted), which splits them in
 * two runs.  Disjoint ranges differ inside both prefixes, so every range
 * of the run is longer than that bit, and an address a range holds follows
 * the inner nodes down to that range's leaf.  Depth <= 128.
 */
static uint32_t build(struct iplist *l, uint32_t lo, uint32_t hi)
{
	if (hi - lo == 1)
		return lo | IPL_LEAF;
	const struct cidr *v = l->leaves;
	unsigned bit = first_diff(v[lo].addr, v[hi - 1].addr);
	uint32_t a = lo, b = hi - 1;   /* v[a] has the bit clear, v[b] set */
	while (a + 1 < b) {
		uint32_t m = a + (b - a) / 2;
		if (bit_at(v[m].addr, bit))
			b = m;
		else
			a = m;
	}
	uint32_t me = l->nnodes++;
	l->nodes[me].bit = (uint8_t)bit;
	uint32_t k0 = build(l, lo, b);
	uint32_t k1 = build(l, b, hi);
	l->nodes[me].kid[0] = k0;
	l->nodes[me].kid[1] = k1;
	return me;
}

struct iplist *iplist_build(struct cidr *v, size_t n)
{
	struct iplist *l = calloc(1, sizeof(*l));
	if (!l || n >= IPL_LEAF) {
		free(l);
		return NULL;
	}
	l->entries = n;
	qsort(v, n, sizeof(*v), cidr_cmp);
	/* A range inside the last one kept is dropped (sorted by address,
	 * then length: a range comes after any range that holds it, and
	 * every range between them is inside it too). */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || v[k - 1].bits > v[i].bits || !in_range(&v[k - 1], v[i].addr))
			v[k++] = v[i];
	l->nleaves = (uint32_t)k;
	if (k) {
		l->leaves = malloc(k * sizeof(*l->leaves));
		l->nodes = k > 1 ? malloc((k - 1) * sizeof(*l->nodes)) : NULL;
		if (!l->leaves || (k > 1 && !l->nodes)) {
			iplist_free(l);
			return NULL;
		}
		memcpy(l->leaves, v, k * sizeof(*v));
		if (k > 1)
			build(l, 0, (uint32_t)k);
	}
	return l;
}

bool iplist_match(const struct iplist *l, const uint8_t addr[16])
{
	if (!l->nleaves)
		return false;
	uint32_t i = l->nleaves > 1 ? 0 : IPL_LEAF;
	while (!(i & IPL_LEAF)) {
		const struct ipl_node *n = &l->nodes[i];
		i = n->kid[bit_at(addr, n->bit)];
	}
	return in_range(&l->leaves[i & ~IPL_LEAF], addr);
}

bool iplist_match_sa(const struct iplist *l, const struct sockaddr *sa)
{
	uint8_t a[16];

	if (sa->sa_family == AF_INET) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return false;
	}
	return iplist_match(l, a);
}

size_t iplist_entries(const struct iplist *l)
{
	return l->entries;
}

size_t iplist_ranges(const struct iplist *l)
{
	return l->nleaves;
}

size_t iplist_bytes(const struct iplist *l)
{
	return sizeof(*l) + (size_t)l->nleaves * sizeof(*l->leaves) +
	       (size_t)l->nnodes * sizeof(*l->nodes);
}

void iplist_free(struct iplist *l)
{
	if (!l)
		return;
	free(l->nodes);
	free(l->leaves);
	free(l);
}

/* ---- the list file ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		snprintf(err, errlen, "cannot read %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail:
	snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

struct iplist *iplist_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len, err, errlen);
	if (!text)
		return NULL;

	size_t cap = 1;
	for (size_t i = 0; i < len; i++)
		cap += text[i] == '\n';
	struct cidr *v = malloc(cap * sizeof(*v));
	struct iplist *l = NULL;
	size_t n = 0;
	unsigned lineno = 0;
	if (!v) {
		snprintf(err, errlen, "out of memory reading %s", path);
		goto out;
	}
	for (char *p = text, *end = text + len; p < end || (p == end && !lineno); lineno++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		char *next = nl ? nl + 1 : end + 1;
		char *hash = memchr(p, '#', (size_t)(e - p));
		if (hash)
			e = hash;
		while (p < e && blank(*p))
			p++;
		while (e > p && blank(e[-1]))
			e--;
		if (e > p) {
			*e = '\0';
			if (memchr(p, '\0', (size_t)(e - p)) || cidr_parse(p, &v[n]) < 0) {
				snprintf(err, errlen,
					 "%s:%u: invalid address '%.60s'; expected an IPv4 or IPv6 "
					 "address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32",
					 path, lineno + 1, p);
				goto out;
			}
			n++;
		}
		p = next;
	}
	l = iplist_build(v, n);
	if (!l)
		snprintf(err, errlen, "out of memory building the list of %s", path);
out:
	free(v);
	free(text);
	return l;
}
