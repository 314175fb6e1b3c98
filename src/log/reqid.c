/*
 * reqid.c - request ids (reqid.h): checking a client's, making a new one.
 * Called by the pipeline once per request, on the worker thread, so both
 * are cheap: a table lookup per byte, and 16 bytes from a per-thread pool
 * of kernel randomness.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log/reqid.h"

bool reqid_valid(const char *p, size_t len)
{
	if (len == 0 || len > REQID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || (c && strchr("-._~+/=:", c));
		if (!ok)
			return false;
	}
	return true;
}

#define POOL_SIZE 4096

static __thread struct {
	unsigned char bytes[POOL_SIZE];
	size_t pos;                  /* next unused byte; POOL_SIZE = empty */
	bool init;
	uint64_t xs;                 /* fallback xorshift state */
} pool;

/* Fills out[0..16) from the pool, refilling it when empty. */
static void random16(unsigned char out[16])
{
	if (!pool.init) {
		pool.pos = POOL_SIZE;
		pool.init = true;
	}
	if (pool.pos + 16 > POOL_SIZE) {
		ssize_t n = getrandom(pool.bytes, POOL_SIZE, GRND_NONBLOCK);
		if (n == POOL_SIZE) {
			pool.pos = 0;
		} else {
			/* No entropy yet (early boot) or no syscall: unique, not secret. */
			if (pool.xs == 0) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				pool.xs = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^
					  (uint64_t)(uintptr_t)&pool ^ (uint64_t)pthread_self();
				pool.xs |= 1;
			}
			for (int i = 0; i < 16; i += 8) {
				pool.xs ^= pool.xs << 13;
				pool.xs ^= pool.xs >> 7;
				pool.xs ^= pool.xs << 17;
				uint64_t v = pool.xs * 0x2545F4914F6CDD1DULL;
				memcpy(out + i, &v, 8);
			}
			return;
		}
	}
	memcpy(out, pool.bytes + pool.pos, 16);
	memset(pool.bytes + pool.pos, 0, 16);   /* a used id never leaves a copy behind */
	pool.pos += 16;
}

size_t reqid_generate(char out[REQID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t k = 0;

	random16(b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10 */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[b[i] >> 4];
		out[k++] = hex[b[i] & 15];
	}
	out[k] = '\0';
	return k;
}
