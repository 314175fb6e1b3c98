/*
 * test_spill.c - unit tests of src/proxy/spill.c, the chain of pooled
 * buffers that holds a body past a stream's buffer: bytes come out in the
 * order they went in whatever the run sizes, copies from any offset, the
 * pool's buffers go back as the chain drains, the empty chain is all zero;
 * a lent chain's runs stay readable until the lease ends, whatever the
 * lender does meanwhile (drain, append, free).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

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

TEST(lent_runs_outlive_the_lender)
{
	struct spill sp = { 0 };
	static char in[3 * BUFSZ + 100];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 13 + 5);
	CHECK(spill_add(&sp, in, sizeof(in)));
	struct iovec iov[8];
	uint64_t got;
	/* the first 2500 bytes as runs, one per buffer */
	uint32_t n = spill_runs(&sp, 2500, iov, 8, &got);
	CHECK(n == 3 && got == 2500);
	CHECK(iov[0].iov_len == BUFSZ && iov[2].iov_len == 2500 - 2 * BUFSZ);
	struct spill_lease l = { 0 }, l2 = { 0 };
	CHECK(spill_lend(&sp, &l));
	CHECK(!spill_lend(&sp, &l2));   /* one lease at a time */
	/* the lender drains a buffer, appends, then drops the chain: the runs
	 * still read what was held (ASan: nothing freed under them) */
	uint32_t len;
	spill_front(&sp, &len);
	spill_consume(&sp, len);
	CHECK(spill_add(&sp, "xyz", 3));
	CHECK(!memcmp(iov[0].iov_base, in, BUFSZ));
	spill_free(&sp);
	CHECK(sp.len == 0 && !sp.head && !sp.lease && !l.sp);
	size_t at = 0;
	for (uint32_t i = 0; i < n; i++) {
		CHECK(!memcmp(iov[i].iov_base, in + at, iov[i].iov_len));
		at += iov[i].iov_len;
	}
	spill_lease_end(&l);   /* the buffers go now */
	CHECK(!l.kept);
	spill_lease_end(&l);   /* twice is harmless */

	/* a lease ended while the lender lives: lendable again, drains free */
	CHECK(spill_add(&sp, in, sizeof(in)));
	CHECK(spill_lend(&sp, &l));
	spill_lease_end(&l);
	CHECK(!sp.lease && spill_lend(&sp, &l2));
	spill_lease_end(&l2);
	while (sp.len) {
		spill_front(&sp, &len);
		spill_consume(&sp, len);
	}
	CHECK(sp.nbufs == 0 && !sp.head);
	struct spill_lease never = { 0 };
	spill_lease_end(&never);   /* never lent: a no-op */
}

int main(void)
{
	buf_pool_init(BUFSZ);
	RUN(in_order_across_buffers);
	RUN(append_after_drain_and_free);
	RUN(lent_runs_outlive_the_lender);
	buf_pool_flush();
	return UNIT_SUMMARY("test_spill");
}
