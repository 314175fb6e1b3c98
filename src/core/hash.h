/*
 * hash.h - a 64-bit hash of bytes for tables and balancing: xxh64-style
 * 8-byte lanes and a splitmix64 finaliser.  Stable across runs and
 * machines (consistent hashing relies on it: a key maps to the same server
 * after a restart and on every gatehouse in front of the same servers);
 * a caller that faces hostile keys passes a secret seed.
 */
#ifndef GH_CORE_HASH_H
#define GH_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *p, size_t len, uint64_t seed);

/* splitmix64 finaliser: a bijective mix of one 64-bit value. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif
