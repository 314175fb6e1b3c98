/*
 * pf_clean.c - a bounded table of field verdicts of the pre-filter
 * (pf_clean.h).  Eight-way set associative, 16384 entries, each with
 * its own copy of the name and the value (2 MiB of them at most); a value is kept only the second
 * time its hash is seen, so a stream of unique values (Referer with a
 * fresh query, a cache-busting cookie) costs a hash and a probe of the
 * "seen" filter, never a computation it will not reuse.
 */
#include "waf/pf_clean.h"

#include <stdlib.h>
#include <string.h>

#define SETS 2048
#define WAYS 8
#define SEEN_SETS 8192
#define SEEN_WAYS 4
#define BUDGET (2u << 20)	/* bytes of keys */

struct ent {
	uint64_t hash;
	uint32_t mask;
	uint32_t stamp;		/* last use: the older way of a set is evicted */
	uint32_t nlen, vlen;
	bool known;
	uint8_t nlinks;
	uint8_t *key;		/* name, value, then the links (uint32_t, aligned),
				 * malloc'd; NULL: empty */
};

struct pf_clean {
	struct ent e[SETS][WAYS];
	/* hashes looked up once, not kept: 32 bits of each (the set is
	 * chosen by the other 32), newest first.  Four ways, so two keys of
	 * one set do not push each other out on every pass and stay unknown
	 * for ever, as they did in a direct-mapped table. */
	uint32_t seen[SEEN_SETS][SEEN_WAYS];
	uint32_t clock;
	size_t n, bytes;
};

struct pf_clean *pf_clean_new(void)
{
	return calloc(1, sizeof(struct pf_clean));
}

void pf_clean_free(struct pf_clean *m)
{
	if (!m)
		return;
	for (size_t s = 0; s < SETS; s++)
		for (size_t w = 0; w < WAYS; w++)
			free(m->e[s][w].key);
	free(m);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t v;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&v, p, 8);
		h = mix(h, v);
	}
	/* the last 0..7 bytes, every one of them read, without a call to
	 * memcpy() of a variable length (the length is mixed in too) */
	v = 0;
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		v = a | (uint64_t)b << 32;
	} else if (n) {
		v = p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
	}
	return mix(h, v ^ ((uint64_t)n << 56));
}

static uint64_t key_hash(uint32_t mask, const uint8_t *name, size_t nlen, const uint8_t *val,
			 size_t vlen)
{
	uint64_t h = mix(0x6a09e667f3bcc909ull, mask);

	h = hash_bytes(h, name, nlen);
	h = hash_bytes(h, val, vlen);
	return h;
}

static bool same(const struct ent *e, uint64_t hash, uint32_t mask, const uint8_t *name,
		 size_t nlen, const uint8_t *val, size_t vlen)
{
	return e->key && e->hash == hash && e->mask == mask && e->nlen == nlen && e->vlen == vlen &&
	       !memcmp(e->key, name, nlen) && !memcmp(e->key + nlen, val, vlen);
}

/* Where an entry's links start in its key: after name and value, aligned. */
static size_t links_at(size_t nlen, size_t vlen)
{
	return (nlen + vlen + 3) & ~(size_t)3;
}

int pf_clean_get(struct pf_clean *m, uint32_t mask, const uint8_t *name, size_t nlen,
		 const uint8_t *val, size_t vlen, uint64_t *hash, const uint32_t **links,
		 size_t *nlinks)
{
	uint64_t h = key_hash(mask, name, nlen, val, vlen);
	struct ent *set = m->e[h % SETS];

	*hash = h;
	*nlinks = 0;
	for (size_t w = 0; w < WAYS; w++)
		if (same(&set[w], h, mask, name, nlen, val, vlen)) {
			set[w].stamp = ++m->clock;
			*links = (const uint32_t *)(set[w].key + links_at(nlen, vlen));
			*nlinks = set[w].nlinks;
			return set[w].known;
		}
	uint32_t *s = m->seen[(h >> 32) % SEEN_SETS];
	uint32_t fp = (uint32_t)h | 1;	/* 0 marks an empty way */
	for (size_t w = 0; w < SEEN_WAYS; w++)
		if (s[w] == fp)
			return -2;
	memmove(s + 1, s, (SEEN_WAYS - 1) * sizeof(*s));
	s[0] = fp;
	return -1;
}

void pf_clean_put(struct pf_clean *m, uint64_t hash, uint32_t mask, const uint8_t *name,
		  size_t nlen, const uint8_t *val, size_t vlen, bool known, const uint32_t *links,
		  size_t nlinks)
{
	if (nlen > PF_CLEAN_MAX_NAME || vlen > PF_CLEAN_MAX_VALUE || nlinks > PF_CLEAN_MAX_LINKS)
		return;
	if (!known)
		nlinks = 0;
	struct ent *set = m->e[hash % SETS];
	struct ent *e = &set[0];
	for (size_t w = 0; w < WAYS; w++) {
		if (!set[w].key) {
			e = &set[w];
			break;
		}
		if (set[w].stamp < e->stamp)
			e = &set[w];
	}
	size_t need = links_at(nlen, vlen) + nlinks * sizeof(uint32_t);
	size_t old = e->key ? links_at(e->nlen, e->vlen) + e->nlinks * sizeof(uint32_t) : 0;
	if (m->bytes - old + need > BUDGET)
		return;	/* full: what is kept stays */
	uint8_t *k = malloc(need + 1);
	if (!k)
		return;
	memcpy(k, name, nlen);
	memcpy(k + nlen, val, vlen);
	if (nlinks)
		memcpy(k + links_at(nlen, vlen), links, nlinks * sizeof(uint32_t));
	if (e->key)
		free(e->key);
	else
		m->n++;
	m->bytes = m->bytes - old + need;
	*e = (struct ent){ hash, mask, ++m->clock, (uint32_t)nlen, (uint32_t)vlen, known,
			   (uint8_t)nlinks, k };
}

size_t pf_clean_count(const struct pf_clean *m)
{
	return m->n;
}
