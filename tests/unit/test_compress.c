/*
 * test_compress.c - Accept-Encoding parsing and the choice of a coding
 * (compress/accept.c), the Content-Type test, and one round trip through
 * each compressor (compress/codec.c) with the pipeline's calling pattern:
 * small output room, a flush, the end.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress/compress.h"
#include "config/cfg.h"
#include "unit.h"

static const uint8_t ORDER[] = { CZ_ZSTD, CZ_BR, CZ_GZIP };

/* The coding chosen for one Accept-Encoding value, as its name or "-". */
static const char *pick(const char *ae)
{
	struct ae_prefs p;
	ae_init(&p);
	ae_parse(&p, ae, strlen(ae));
	int a = ae_choose(&p, ORDER, 3);
	return a < 0 ? "-" : cz_name((enum cz_algo)a);
}

TEST(q_values)
{
	CHECK_STR(pick("gzip"), "gzip");
	CHECK_STR(pick("gzip, br"), "br");
	CHECK_STR(pick("gzip, br, zstd"), "zstd");
	CHECK_STR(pick("gzip;q=1.0, br;q=0.9"), "gzip");
	CHECK_STR(pick("gzip;q=0.5,br;q=0.8"), "br");
	CHECK_STR(pick("gzip;q=0.501,br;q=0.5"), "gzip");
	CHECK_STR(pick("br;q=0, gzip"), "gzip");
	CHECK_STR(pick("*"), "zstd");
	CHECK_STR(pick("*;q=0.5, zstd;q=0"), "br");
	CHECK_STR(pick("*;q=0"), "-");
	CHECK_STR(pick("identity;q=0"), "-");
	CHECK_STR(pick("identity"), "-");
	CHECK_STR(pick(""), "-");
	CHECK_STR(pick("x-gzip"), "gzip");
	CHECK_STR(pick("GZip;Q=0.3"), "gzip");
	CHECK_STR(pick("gzip ; q=0.4 , br ; q=0.3"), "gzip");
	CHECK_STR(pick("  ,, gzip ,"), "gzip");
	/* the highest q of a coding named twice */
	CHECK_STR(pick("gzip;q=0, gzip;q=0.7, br;q=0.6"), "gzip");
}

TEST(malformed_members_are_dropped_alone)
{
	CHECK_STR(pick("gzip;q=2"), "-");
	CHECK_STR(pick("gzip;q=1.5, br"), "br");
	CHECK_STR(pick("gzip;q=0.5x, br"), "br");
	CHECK_STR(pick("gzip;q=0.1234"), "-");
	CHECK_STR(pick("gzip;q=, br;q=0.1"), "br");
	CHECK_STR(pick("gzip;q=.5"), "-");
	CHECK_STR(pick("g zip, br"), "br");
	CHECK_STR(pick("gzip;level=\"a,b\";q=0.2, br;q=0.1"), "gzip");
	CHECK_STR(pick("gzip;;q=1"), "-");
	CHECK_STR(pick("@@@, zstd"), "zstd");
	CHECK_STR(pick("1.000"), "-");
	CHECK_STR(pick("gzip;q=1.000"), "gzip");
	CHECK_STR(pick("gzip;q=1.001"), "-");
}

TEST(no_field_means_identity)
{
	struct ae_prefs p;
	ae_init(&p);
	CHECK_EQ_INT(ae_choose(&p, ORDER, 3), -1);
	/* fields add up: several lines are one list */
	ae_parse(&p, "gzip;q=0.2", 10);
	ae_parse(&p, "br;q=0.9", 8);
	CHECK_EQ_INT(ae_choose(&p, ORDER, 3), CZ_BR);
	/* only the configured codings are candidates */
	const uint8_t only_gzip[] = { CZ_GZIP };
	CHECK_EQ_INT(ae_choose(&p, only_gzip, 1), CZ_GZIP);
}

TEST(content_types)
{
	CHECK(cz_type_ok("text/html", 9, NULL, 0));
	CHECK(cz_type_ok("Text/HTML; charset=utf-8", 24, NULL, 0));
	CHECK(cz_type_ok("application/json", 16, NULL, 0));
	CHECK(cz_type_ok("image/svg+xml", 13, NULL, 0));
	CHECK(!cz_type_ok("image/png", 9, NULL, 0));
	CHECK(!cz_type_ok("text", 4, NULL, 0));
	CHECK(!cz_type_ok("", 0, NULL, 0));
	char *types[] = { "text/*", "application/x-custom" };
	CHECK(cz_type_ok("text/anything", 13, types, 2));
	CHECK(!cz_type_ok("text/", 5, types, 2));
	CHECK(cz_type_ok("application/x-custom;a=b", 24, types, 2));
	CHECK(!cz_type_ok("application/json", 16, types, 2));
	char *any[] = { "*" };
	CHECK(cz_type_ok("image/png", 9, any, 1));
}

/* Compresses src the way the pipeline drives a compressor (room of 100
 * bytes at a time, a flush half way, the end) and returns the output. */
static char *roundtrip(enum cz_algo a, const char *src, size_t n, size_t *outn)
{
	struct cz_stream *z = cz_new(a, 0, 0);
	size_t cap = 1 << 20, used = 0, off = 0;
	char *out = malloc(cap);
	CHECK(z && out);
	int phase = 0;   /* 0: data, 1: flush, 2: data, 3: end */
	for (int guard = 0; guard < 100000 && phase < 4; guard++) {
		size_t half = n / 2;
		size_t lim = phase < 2 ? half : n;
		size_t in = phase == 0 || phase == 2 ? lim - off : 0;
		if (in > 700)
			in = 700;
		size_t room = 100;
		bool more = false;
		unsigned f = phase == 1 ? CZ_FLUSH : phase == 3 ? CZ_END : 0;
		CHECK_EQ_INT(cz_run(z, in ? src + off : NULL, &in, out + used, &room, f, &more), 0);
		off += in;
		used += room;
		if ((phase == 0 || phase == 2) && off == lim)
			phase++;
		else if ((phase == 1 || phase == 3) && !more)
			phase++;
	}
	CHECK_EQ_INT(phase, 4);
	cz_free(z);
	*outn = used;
	return out;
}

TEST(gzip_roundtrip)
{
	size_t n = 200000, on;
	char *src = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = "gatehouse compresses "[i % 21];
	char *out = roundtrip(CZ_GZIP, src, n, &on);
	CHECK(on > 20 && on < n / 10);
	char *back = malloc(n + 1);
	z_stream d = { 0 };
	CHECK_EQ_INT(inflateInit2(&d, 16 + MAX_WBITS), Z_OK);
	d.next_in = (Bytef *)out;
	d.avail_in = (uInt)on;
	d.next_out = (Bytef *)back;
	d.avail_out = (uInt)n + 1;
	CHECK_EQ_INT(inflate(&d, Z_FINISH), Z_STREAM_END);
	CHECK_EQ_INT(d.total_out, n);
	CHECK(memcmp(back, src, n) == 0);
	inflateEnd(&d);
	free(back);
	free(out);
	free(src);
}

TEST(br_and_zstd_finish)
{
	size_t n = 100000, on;
	char *src = malloc(n);
	for (size_t i = 0; i < n; i++)
		src[i] = (char)('a' + (i * 7 % 13));
	for (int a = CZ_BR; a <= CZ_ZSTD; a++) {
		char *out = roundtrip((enum cz_algo)a, src, n, &on);
		CHECK(on > 4 && on < n / 10);
		free(out);
	}
	free(src);
	CHECK(cz_new(CZ_COUNT, 0, 0) == NULL);
	CHECK_EQ_INT(cz_from_name("BR"), CZ_BR);
	CHECK_EQ_INT(cz_from_name("deflate"), -1);
}

/* What a cache's stored response gets (compress_choose_stored, the
 * cache's encoded variants): the filter's rules on the object's facts. */
TEST(stored_responses)
{
	struct cfg_compress cz = { .algos = { CZ_GZIP, CZ_BR }, .nalgos = 2, .min_size = 1024 };
	struct http_msg *req = calloc(1, sizeof(*req));
	msg_init(req, 0);
	msg_hdr_add(req, SLICE_LIT("Accept-Encoding"), SLICE_LIT("br;q=0.5, gzip"));
	struct cz_stored r = { .status = 200, .len = 4096, .ctype = SLICE_LIT("text/html") };
	bool varies = false;
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == CZ_GZIP && varies);
	r.len = 100;   /* under min_size: identity, the same for every client */
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == -1 && !varies);
	r.len = 4096;
	r.ctype = SLICE_LIT("image/png");
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == -1 && !varies);
	r.ctype = SLICE_LIT("text/plain; charset=utf-8");
	r.no_transform = true;
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == -1 && !varies);
	r.no_transform = false;
	r.encoded = true;   /* never twice */
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == -1);
	r.encoded = false;
	r.status = 404;
	CHECK(compress_choose_stored(&cz, req, &r, &varies) == -1);
	r.status = 200;
	CHECK(compress_choose_stored(NULL, req, &r, &varies) == -1 && !varies);
	/* a client accepting none of ours: identity, but it varies */
	struct http_msg *plain = calloc(1, sizeof(*plain));
	msg_init(plain, 0);
	msg_hdr_add(plain, SLICE_LIT("Accept-Encoding"), SLICE_LIT("zstd"));
	CHECK(compress_choose_stored(&cz, plain, &r, &varies) == -1 && varies);
	msg_free(req);
	msg_free(plain);
	free(req);
	free(plain);
}

int main(void)
{
	RUN(q_values);
	RUN(malformed_members_are_dropped_alone);
	RUN(no_field_means_identity);
	RUN(content_types);
	RUN(stored_responses);
	RUN(gzip_roundtrip);
	RUN(br_and_zstd_finish);
	return UNIT_SUMMARY("test_compress");
}
