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

/*
 * The top of the trie is skipped through a table per family, indexed by
 * an address's first k bits (IPv4: of the IPv4 address, IPv6: of the
 * IPv6 one), holding where the walk from the root would be once it has
 * tested only those bits: a million random IPv4 ranges then take a table
 * slot, a node or two and the leaf instead of twenty-odd nodes, each a
 * cache miss.  k grows with the family's ranges (2^k slots for up to 2^k
 * ranges, at most 2^20), so the tables cost 4 bytes a range or less.
 */
#define IPL_TABLE_BITS_MAX 20
#define IPL_V4_BASE 96           /* an IPv4 address's first bit in the mapped form */

struct iplist {
	struct ipl_node *nodes;  /* ranges - 1 inner nodes, in address order */
	struct cidr *leaves;     /* the ranges, sorted and disjoint */
	uint32_t nleaves;
	uint32_t nnodes;
	uint32_t root;           /* a node, or leaf 0 when there is one range */
	uint32_t *t4, *t6;       /* the tables (when there are ranges) */
	uint8_t k4, k6;          /* their index bits */
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

static inline uint64_t be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* By address, then length (a range before the ranges inside it). */
static inline bool cidr_less(const struct cidr *a, const struct cidr *b)
{
	uint64_t x = be64(a->addr), y = be64(b->addr);
	if (x != y)
		return x < y;
	x = be64(a->addr + 8);
	y = be64(b->addr + 8);
	return x != y ? x < y : a->bits < b->bits;
}

static inline void cidr_swap(struct cidr *a, struct cidr *b)
{
	struct cidr t = *a;
	*a = *b;
	*b = t;
}

static void sift_down(struct cidr *v, size_t i, size_t n)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && cidr_less(&v[c], &v[c + 1]))
			c++;
		if (!cidr_less(&v[i], &v[c]))
			return;
		cidr_swap(&v[i], &v[c]);
	}
}

/*
 * Introsort: quicksort (median of three, the smaller side first so the
 * stack stays shallow), heapsort past a depth budget (no quadratic case
 * whatever the file), insertion sort for short runs.  qsort() with a
 * memcmp() comparator took most of a million-entry load.
 */
static void sort_cidrs(struct cidr *v, size_t n, int depth)
{
	while (n > 16) {
		if (depth-- == 0) {
			for (size_t i = n / 2; i-- > 0;)
				sift_down(v, i, n);
			for (size_t i = n - 1; i > 0; i--) {
				cidr_swap(&v[0], &v[i]);
				sift_down(v, 0, i);
			}
			return;
		}
		size_t m = n / 2;
		if (cidr_less(&v[m], &v[0]))
			cidr_swap(&v[m], &v[0]);
		if (cidr_less(&v[n - 1], &v[0]))
			cidr_swap(&v[n - 1], &v[0]);
		if (cidr_less(&v[n - 1], &v[m]))
			cidr_swap(&v[n - 1], &v[m]);
		struct cidr pivot = v[m];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (cidr_less(&v[i], &pivot))
				i++;
			while (cidr_less(&pivot, &v[j]))
				j--;
			if (i >= j)
				break;
			cidr_swap(&v[i++], &v[j--]);
		}
		/* [0, j] <= pivot <= [j + 1, n) */
		if (j + 1 < n - j - 1) {
			sort_cidrs(v, j + 1, depth);
			v += j + 1;
			n -= j + 1;
		} else {
			sort_cidrs(v + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && cidr_less(&v[k], &v[k - 1]); k--)
			cidr_swap(&v[k], &v[k - 1]);
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
 * The trie over the sorted, disjoint leaves, in one pass: inner node i
 * stands between leaves i and i + 1 and tests the first bit where they
 * differ.  Disjoint ranges differ inside both prefixes, so that bit is
 * below both lengths, and the trie is the Cartesian tree of those bits
 * (the smallest on top): a stack of nodes whose bits grow (at most 128
 * deep) builds it left to right.  An address a range holds follows the
 * inner nodes down to that range's leaf.
 */
static uint32_t build(struct iplist *l)
{
	uint32_t stack[129];
	int top = 0;

	for (uint32_t i = 0; i + 1 < l->nleaves; i++) {
		struct ipl_node *n = &l->nodes[i];
		n->bit = (uint8_t)first_diff(l->leaves[i].addr, l->leaves[i + 1].addr);
		uint32_t last = IPL_LEAF | i;
		while (top && l->nodes[stack[top - 1]].bit > n->bit)
			last = stack[--top];
		n->kid[0] = last;
		n->kid[1] = IPL_LEAF | (i + 1);
		if (top)
			l->nodes[stack[top - 1]].kid[1] = i;
		stack[top++] = i;
	}
	l->nnodes = l->nleaves - 1;
	return top ? stack[0] : IPL_LEAF;
}

/* The bits of the mapped prefix ::ffff:0:0/96 (IPv4 addresses). */
static inline unsigned v4_prefix_bit(unsigned bit)
{
	return bit >= 80;
}

/*
 * Fills the slots of table t (k bits from bit `base`) whose index has the
 * bits in `mask` equal to `val`: the walk from idx, for those slots, tests
 * bits of the table next (or the fixed IPv4 prefix before them), then
 * splits the slots at that bit; it stops in the slots past the table's
 * bits or at a leaf.  Every slot is written once.
 */
static void fill(const struct iplist *l, uint32_t *t, unsigned k, unsigned base, uint32_t idx,
		 uint32_t mask, uint32_t val)
{
	while (!(idx & IPL_LEAF) && l->nodes[idx].bit < base)
		idx = l->nodes[idx].kid[v4_prefix_bit(l->nodes[idx].bit)];
	if (!(idx & IPL_LEAF) && l->nodes[idx].bit < base + k) {
		uint32_t m = 1u << (k - 1 - (l->nodes[idx].bit - base));
		fill(l, t, k, base, l->nodes[idx].kid[0], mask | m, val);
		fill(l, t, k, base, l->nodes[idx].kid[1], mask | m, val | m);
		return;
	}
	uint32_t free_bits = ~mask & ((1u << k) - 1), sub = free_bits;
	for (;;) {
		t[val | sub] = idx;
		if (!sub)
			break;
		sub = (sub - 1) & free_bits;
	}
}

static unsigned table_bits(size_t n)
{
	unsigned k = n ? 64 - (unsigned)__builtin_clzll((unsigned long long)n) : 1;
	return k > IPL_TABLE_BITS_MAX ? IPL_TABLE_BITS_MAX : k;
}

static inline bool is_v4(const uint8_t *a)
{
	return be64(a) == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff;
}

static bool tables(struct iplist *l)
{
	size_t n4 = 0;
	for (uint32_t i = 0; i < l->nleaves; i++)
		n4 += is_v4(l->leaves[i].addr) && l->leaves[i].bits >= IPL_V4_BASE;
	l->k4 = (uint8_t)table_bits(n4);
	l->k6 = (uint8_t)table_bits(l->nleaves - n4);
	l->t4 = malloc(sizeof(uint32_t) << l->k4);
	l->t6 = malloc(sizeof(uint32_t) << l->k6);
	if (!l->t4 || !l->t6)
		return false;
	fill(l, l->t4, l->k4, IPL_V4_BASE, l->root, 0, 0);
	fill(l, l->t6, l->k6, 0, l->root, 0, 0);
	return true;
}

struct iplist *iplist_build(struct cidr *v, size_t n)
{
	struct iplist *l = calloc(1, sizeof(*l));
	if (!l || n >= IPL_LEAF) {
		free(l);
		return NULL;
	}
	l->entries = n;
	sort_cidrs(v, n, 2 * (64 - __builtin_clzll((unsigned long long)n | 1)));
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
		l->root = build(l);
		if (!tables(l)) {
			iplist_free(l);
			return NULL;
		}
	}
	return l;
}

bool iplist_match(const struct iplist *l, const uint8_t addr[16])
{
	if (!l->nleaves)
		return false;
	uint32_t i;
	if (is_v4(addr)) {
		uint32_t a4 = (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 |
			      (uint32_t)addr[14] << 8 | addr[15];
		i = l->t4[a4 >> (32 - l->k4)];
	} else {
		i = l->t6[be64(addr) >> (64 - l->k6)];
	}
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
	       (size_t)l->nnodes * sizeof(*l->nodes) +
	       (l->nleaves ? (sizeof(uint32_t) << l->k4) + (sizeof(uint32_t) << l->k6) : 0);
}

void iplist_free(struct iplist *l)
{
	if (!l)
		return;
	free(l->nodes);
	free(l->leaves);
	free(l->t4);
	free(l->t6);
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

/* A decimal number of 1-3 digits up to max, without a leading zero, as
 * inet_pton() and cidr_parse() read them; the end of it, or NULL. */
static const char *dec(const char *p, unsigned max, unsigned *out)
{
	unsigned v = 0, n = 0;
	while (n < 3 && *p >= '0' && *p <= '9') {
		if (n == 1 && v == 0)
			return NULL;
		v = v * 10 + (unsigned)(*p++ - '0');
		n++;
	}
	if (!n || v > max || (*p >= '0' && *p <= '9'))
		return NULL;
	*out = v;
	return p;
}

/* The common line, a.b.c.d[/n], read without inet_pton(); false for
 * anything else, which cidr_parse() then reads (or refuses): this path
 * only takes what it would take, with the same result. */
static bool parse_v4(const char *p, struct cidr *c)
{
	unsigned o[4], bits = 32;
	for (int i = 0; i < 4; i++) {
		if (!(p = dec(p, 255, &o[i])) || *p != (i < 3 ? '.' : *p))
			return false;
		if (i < 3)
			p++;
	}
	if (*p == '/' && !(p = dec(p + 1, 32, &bits)))
		return false;
	if (*p)
		return false;
	memset(c->addr, 0, 10);
	c->addr[10] = c->addr[11] = 0xff;
	uint32_t a = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
	a = bits ? a & (0xffffffffu << (32 - bits)) : 0;
	c->addr[12] = (uint8_t)(a >> 24);
	c->addr[13] = (uint8_t)(a >> 16);
	c->addr[14] = (uint8_t)(a >> 8);
	c->addr[15] = (uint8_t)a;
	c->bits = (uint8_t)(96 + bits);
	return true;
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
			if (memchr(p, '\0', (size_t)(e - p)) ||
			    (!parse_v4(p, &v[n]) && cidr_parse(p, &v[n]) < 0)) {
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
