/*
 * test_spill.c - unit tests of src/proxy/spill.c, the chain of pooled
 * buffers that holds a body past a stream's buffer: bytes come out in the
 * order they went in whatever the run sizes, copies from any offset, the
 * pool's buffers go back as the chain drains, the empty chain is all zero.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "proxy/spill.h"
#include "unit.h"

#define BUFSZ 1024

TEST(in_order_across_buffers)
{
	struct spill sp = { 0 };
	static char in[10000], out[10000];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + i / 251);
	size_t at = 0, step = 1;
	while (at < sizeof(in)) {   /* runs of growing, odd sizes */
		size_t n = step < sizeof(in) - at ? step : sizeof(in) - at;
		CHECK(spill_add(&sp, in + at, (uint32_t)n));
		at += n;
		step = step * 3 + 1;
	}
	CHECK(sp.len == sizeof(in));
	CHECK(sp.nbufs == (sizeof(in) + BUFSZ - 1) / BUFSZ);
	char mid[300];
	CHECK(spill_copy(&sp, 2000, mid, sizeof(mid)) == sizeof(mid));
	CHECK(!memcmp(mid, in + 2000, sizeof(mid)));
	CHECK(spill_copy(&sp, 9900, mid, sizeof(mid)) == 100);
	size_t got = 0;
	while (sp.len) {   /* drained in small, odd takes */
		uint32_t len;
		const char *p = spill_front(&sp, &len);
		CHECK(p && len);
		uint32_t k = len < 333 ? len : 333;
		memcpy(out + got, p, k);
		got += k;
		spill_consume(&sp, k);
	}
	CHECK(got == sizeof(in));
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(sp.nbufs == 0 && !sp.head && !sp.tail);
	uint32_t len;
	CHECK(spill_front(&sp, &len) == NULL && len == 0);
}

TEST(append_after_drain_and_free)
{
	struct spill sp = { 0 };
	char a[BUFSZ + 10];
	memset(a, 'a', sizeof(a));
	CHECK(spill_add(&sp, a, sizeof(a)));
	uint32_t len;
	spill_front(&sp, &len);
	spill_consume(&sp, len);   /* the first buffer goes */
	CHECK(sp.len == 10 && sp.nbufs == 1);
	CHECK(spill_add(&sp, "bc", 2));
	char out[12];
	CHECK(spill_copy(&sp, 0, out, sizeof(out)) == 12);
	CHECK(!memcmp(out, "aaaaaaaaaabc", 12));
	spill_free(&sp);
	CHECK(sp.len == 0 && sp.nbufs == 0 && !sp.head);
	spill_free(&sp);   /* twice is harmless */
}

int main(void)
{
	buf_pool_init(BUFSZ);
	RUN(in_order_across_buffers);
	RUN(append_after_drain_and_free);
	buf_pool_flush();
	return UNIT_SUMMARY("test_spill");
}
