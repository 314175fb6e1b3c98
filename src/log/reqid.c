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

/* "00" "01" ... "ff": one lookup per byte. */
#define H16(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" \
		h "d" h "e" h "f"
static const char hex2[] = H16("0") H16("1") H16("2") H16("3") H16("4") H16("5") H16("6")
	H16("7") H16("8") H16("9") H16("a") H16("b") H16("c") H16("d") H16("e") H16("f");

size_t reqid_generate(char out[REQID_MAX + 1])
{
	/* where each byte's two digits go in 8-4-4-4-12 */
	static const unsigned char at[16] = { 0,  2,  4,  6,  9,  11, 14, 16,
					      19, 21, 24, 26, 28, 30, 32, 34 };
	unsigned char b[16];

	random16(b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10 */
	for (int i = 0; i < 16; i++)
		memcpy(out + at[i], hex2 + 2 * b[i], 2);
	out[8] = out[13] = out[18] = out[23] = '-';
	out[36] = '\0';
	return 36;
}
