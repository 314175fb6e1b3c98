/*
 * hash.c - hash64() (see hash.h).
 */
#include <string.h>
#include "core/hash.h"

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

uint64_t hash64(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = seed ^ (len * 0x9e3779b185ebca87ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, b, 8);
		h ^= mix64(w ^ 0xc2b2ae3d27d4eb4fULL);
		h = rotl64(h, 27) * 0x9e3779b185ebca87ULL + 0x85ebca77c2b2ae63ULL;
		b += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, b, len);   /* tail of 0..7 bytes; the length is in h already */
	h ^= mix64(w ^ 0x27d4eb2f165667c5ULL);
	return mix64(h);
}
