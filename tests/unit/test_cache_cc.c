/*
 * test_cache_cc.c - the cache's HTTP semantics (src/cache/cc.c): the
 * Cache-Control parser (quoted lists, duplicates, garbage), HTTP dates,
 * freshness lifetime and current age (RFC 9111 4.2), storability (3, 3.5),
 * what a request may get (5.2.1, RFC 5861), the key and Vary.
 */
#include <stdlib.h>
#include "cache/cc.h"
#include "unit.h"

static struct cc parse(const char *s)
{
	struct cc c;
	cc_init(&c);
	cc_parse(&c, s, strlen(s));
	return c;
}

TEST(cc_basic_directives)
{
	struct cc c = parse("public, max-age=60, s-maxage=\"120\", must-revalidate");
	CHECK(c.flags & CC_PUBLIC);
	CHECK(c.flags & CC_MUST_REVALIDATE);
	CHECK_EQ_INT(c.max_age, 60);
	CHECK_EQ_INT(c.s_maxage, 120);
	c = parse("NO-STORE,Private");
	CHECK(c.flags & CC_NO_STORE);
	CHECK(c.flags & CC_PRIVATE);
	c = parse("max-stale, min-fresh=5, only-if-cached, no-cache");
	CHECK(c.flags & CC_MAX_STALE_ANY);
	CHECK(c.flags & CC_ONLY_IF_CACHED);
	CHECK(c.flags & CC_NO_CACHE);
	CHECK_EQ_INT(c.min_fresh, 5);
	c = parse("stale-while-revalidate=30, stale-if-error=600");
	CHECK_EQ_INT(c.swr, 30);
	CHECK_EQ_INT(c.sie, 600);
}

TEST(cc_quoted_no_cache_fields)
{
	struct cc c = parse("no-cache=\"Set-Cookie, X-Foo\", max-age=10");
	CHECK(!(c.flags & CC_NO_CACHE));
	CHECK(c.flags & CC_NO_CACHE_FIELDS);
	CHECK_EQ_INT(c.n_nc, 2);
	CHECK(c.n_nc == 2 && slice_ieq_cstr(c.nc_fields[0], "set-cookie"));
	CHECK(c.n_nc == 2 && slice_ieq_cstr(c.nc_fields[1], "x-foo"));
	CHECK_EQ_INT(c.max_age, 10);
	/* a comma inside the quotes does not end the directive */
	c = parse("no-cache=\"a,b,c,d,e,f,g,h,i\"");
	CHECK(c.flags & CC_NO_CACHE);   /* too many names: plain no-cache */
	c = parse("no-cache=\"unterminated, max-age=100");
	CHECK(c.flags & CC_NO_CACHE);
	CHECK_EQ_INT(c.max_age, CC_ABSENT);
}

TEST(cc_duplicates_and_garbage_are_conservative)
{
	struct cc c = parse("max-age=60, max-age=3600");
	CHECK_EQ_INT(c.max_age, 0);             /* conflicting: stale */
	c = parse("max-age=60, max-age=60");
	CHECK_EQ_INT(c.max_age, 60);
	c = parse("max-age=abc");
	CHECK_EQ_INT(c.max_age, 0);
	c = parse("max-age=");
	CHECK_EQ_INT(c.max_age, 0);
	c = parse("max-age=10 junk");
	CHECK_EQ_INT(c.max_age, 0);
	c = parse("s-maxage=-5");
	CHECK_EQ_INT(c.s_maxage, 0);
	c = parse("max-age=99999999999999999999");
	CHECK_EQ_INT(c.max_age, CC_DELTA_MAX);
	c = parse("max-stale=10, max-stale=5");
	CHECK_EQ_INT(c.max_stale, 5);
	c = parse("min-fresh=1, min-fresh=9");
	CHECK_EQ_INT(c.min_fresh, 9);
	c = parse(",,, ,foo=\"bar\\\"baz\", =, max-age=5");
	CHECK_EQ_INT(c.max_age, 5);
	/* two lines add up */
	c = parse("max-age=5");
	cc_parse(&c, "no-store", 8);
	CHECK(c.flags & CC_NO_STORE);
	CHECK_EQ_INT(c.max_age, 5);
}

TEST(dates)
{
	CHECK_EQ_INT(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29), 784111777);
	const char *r850 = "Sunday, 06-Nov-94 08:49:37 GMT";
	CHECK_EQ_INT(http_date_parse(r850, strlen(r850)), 784111777);
	const char *asc = "Sun Nov  6 08:49:37 1994";
	CHECK_EQ_INT(http_date_parse(asc, strlen(asc)), 784111777);
	CHECK_EQ_INT(http_date_parse("0", 1), -1);
	CHECK_EQ_INT(http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT", 29), -1);
	CHECK_EQ_INT(http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", 29), -1);
	char b[32];
	int n = http_date_fmt(784111777, b);
	CHECK_EQ_INT(n, 29);
	CHECK_STR(b, "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(lifetime_precedence)
{
	struct cc_times t = { .request_time = 1000, .response_time = 1001, .date = 1000,
			      .expires = -1, .age = 0, .last_modified = -1 };
	bool ex;
	struct cc c = parse("max-age=60, s-maxage=10");
	CHECK_EQ_INT(cc_lifetime(&c, &t, 0, 0, &ex), 10);   /* s-maxage wins */
	CHECK(ex);
	c = parse("max-age=60");
	t.expires = 5000;
	CHECK_EQ_INT(cc_lifetime(&c, &t, 0, 0, &ex), 60);   /* max-age over Expires */
	c = parse("");
	CHECK_EQ_INT(cc_lifetime(&c, &t, 0, 0, &ex), 4000); /* Expires - Date */
	t.expires = 0;                                       /* invalid: expired */
	CHECK_EQ_INT(cc_lifetime(&c, &t, 0, 0, &ex), 0);
	CHECK(ex);
	t.expires = -1;
	t.last_modified = 0;
	CHECK_EQ_INT(cc_lifetime(&c, &t, 0, 86400, &ex), 0);
	CHECK(!ex);
	CHECK_EQ_INT(cc_lifetime(&c, &t, 10, 86400, &ex), 100);   /* 10% of 1000 s */
	CHECK_EQ_INT(cc_lifetime(&c, &t, 10, 50, &ex), 50);       /* capped */
}

TEST(current_age_arithmetic)
{
	/* RFC 9111 4.2.3 by hand */
	struct cc_times t = { .request_time = 100, .response_time = 103, .date = 90,
			      .expires = -1, .age = 5, .last_modified = -1 };
	/* apparent 13, corrected age 5+3=8, initial 13, resident 7 */
	CHECK_EQ_INT(cc_current_age(&t, 110), 20);
	t.date = 103;   /* origin clock agrees: Age + delay win */
	CHECK_EQ_INT(cc_current_age(&t, 103), 8);
	t.date = 200;   /* origin clock ahead: apparent age 0 */
	t.age = 0;
	CHECK_EQ_INT(cc_current_age(&t, 103), 3);
	t.date = -1;
	CHECK_EQ_INT(cc_current_age(&t, 50), 3);   /* now before response: no negative */
}

TEST(storability)
{
	struct cc req = parse(""), res = parse("max-age=60");
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &res, false, false, false, true, 0), CC_OK);
	CHECK_EQ_INT(cc_storable(HTTP_METH_POST, 200, &req, &res, false, false, false, true, 0),
		     CC_WHY_METHOD);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 206, &req, &res, false, false, false, true, 0),
		     CC_WHY_STATUS);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 299, &req, &res, false, false, false, true, 0),
		     CC_WHY_STATUS);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &res, true, false, false, true, 0),
		     CC_WHY_AUTH);
	struct cc pub = parse("public, max-age=60"), smax = parse("s-maxage=5");
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &pub, true, false, false, true, 0), CC_OK);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &smax, true, false, false, true, 0), CC_OK);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &res, false, true, false, true, 0),
		     CC_WHY_SET_COOKIE);
	struct cc ncsc = parse("max-age=60, no-cache=\"Set-Cookie\"");
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &ncsc, false, true, false, true, 0), CC_OK);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &res, false, false, true, true, 0),
		     CC_WHY_VARY_STAR);
	struct cc none = parse("");
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &none, false, false, false, false, 0),
		     CC_WHY_NO_LIFETIME);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &none, false, false, false, false, 10),
		     CC_OK);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 302, &req, &none, false, false, false, false, 10),
		     CC_WHY_NO_LIFETIME);   /* not heuristically cacheable */
	struct cc ns = parse("no-store"), pv = parse("private=\"x\", max-age=9");
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &ns, &res, false, false, false, true, 0),
		     CC_WHY_REQ_NO_STORE);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &ns, false, false, false, true, 0),
		     CC_WHY_NO_STORE);
	CHECK_EQ_INT(cc_storable(HTTP_METH_GET, 200, &req, &pv, false, false, false, true, 0),
		     CC_WHY_PRIVATE);
}

TEST(usable)
{
	bool sie;
	struct cc req = parse(""), res = parse("max-age=60");
	CHECK_EQ_INT(cc_usable(&req, &res, 60, 59, &sie), CC_USE_FRESH);
	CHECK_EQ_INT(cc_usable(&req, &res, 60, 60, &sie), CC_USE_REVALIDATE);
	struct cc ms = parse("max-stale=10");
	CHECK_EQ_INT(cc_usable(&ms, &res, 60, 70, &sie), CC_USE_STALE_OK);
	CHECK_EQ_INT(cc_usable(&ms, &res, 60, 71, &sie), CC_USE_REVALIDATE);
	struct cc mr = parse("max-age=60, must-revalidate, stale-if-error=100");
	CHECK_EQ_INT(cc_usable(&ms, &mr, 60, 65, &sie), CC_USE_REVALIDATE);
	CHECK(!sie);   /* never past must-revalidate */
	struct cc ma = parse("max-age=5"), mf = parse("min-fresh=30"), nc = parse("no-cache");
	CHECK_EQ_INT(cc_usable(&ma, &res, 60, 6, &sie), CC_USE_REVALIDATE);
	CHECK_EQ_INT(cc_usable(&ma, &res, 60, 5, &sie), CC_USE_FRESH);
	struct cc ma0 = parse("max-age=0");
	CHECK_EQ_INT(cc_usable(&ma0, &res, 60, 0, &sie), CC_USE_REVALIDATE);
	CHECK_EQ_INT(cc_usable(&mf, &res, 60, 31, &sie), CC_USE_REVALIDATE);
	CHECK_EQ_INT(cc_usable(&mf, &res, 60, 30, &sie), CC_USE_FRESH);
	CHECK_EQ_INT(cc_usable(&nc, &res, 60, 1, &sie), CC_USE_REVALIDATE);
	struct cc swr = parse("max-age=1, stale-while-revalidate=10, stale-if-error=20");
	CHECK_EQ_INT(cc_usable(&req, &swr, 1, 5, &sie), CC_USE_SWR);
	CHECK(sie);
	CHECK_EQ_INT(cc_usable(&req, &swr, 1, 12, &sie), CC_USE_REVALIDATE);
	CHECK(sie);
	CHECK_EQ_INT(cc_usable(&req, &swr, 1, 22, &sie), CC_USE_REVALIDATE);
	CHECK(!sie);
	struct cc pr = parse("max-age=60, proxy-revalidate, stale-if-error=100");
	CHECK_EQ_INT(cc_usable(&ms, &pr, 60, 65, &sie), CC_USE_REVALIDATE);
	CHECK(!sie);
	struct cc sm = parse("s-maxage=1, stale-while-revalidate=10");
	CHECK_EQ_INT(cc_usable(&req, &sm, 1, 5, &sie), CC_USE_REVALIDATE);   /* proxy-revalidate */
}

TEST(key)
{
	char k[256];
	int n = cache_key(k, sizeof(k), false, SLICE_LIT("Example.COM:80"), SLICE_LIT("/a?b=1"));
	CHECK(n > 0);
	k[n] = 0;
	CHECK_STR(k, "GET http example.com /a?b=1");
	n = cache_key(k, sizeof(k), true, SLICE_LIT("example.com:443"), SLICE_LIT("/"));
	k[n] = 0;
	CHECK_STR(k, "GET https example.com /");
	n = cache_key(k, sizeof(k), false, SLICE_LIT("example.com:8080"), SLICE_LIT("/"));
	k[n] = 0;
	CHECK_STR(k, "GET http example.com:8080 /");
	CHECK_EQ_INT(cache_key(k, 10, false, SLICE_LIT("example.com"), SLICE_LIT("/long")), -1);
}

TEST(accept_encoding_normalised)
{
	char o[64];
	int n;
#define AE(in, want) do { n = cc_norm_accept_encoding(in, strlen(in), o, sizeof(o)); \
		CHECK(n >= 0); o[n < 0 ? 0 : n] = 0; CHECK_STR(o, want); } while (0)
	AE("gzip, deflate, br", "br,gzip");
	AE("br;q=1.0, gzip;q=0.8, *;q=0.1", "br,gzip,zstd");
	AE("gzip;q=0, br", "br");
	AE("gzip;q=0.000", "");
	AE("identity", "");
	AE("", "");
	AE("*", "br,gzip,zstd");
	AE("*, gzip;q=0", "br,zstd");
	AE("GZIP", "gzip");
#undef AE
}

static void add(struct http_msg *m, const char *n, const char *v)
{
	msg_hdr_add(m, (struct slice){ n, (uint32_t)strlen(n) }, (struct slice){ v, (uint32_t)strlen(v) });
}

TEST(vary_keys)
{
	struct http_msg *req = calloc(1, sizeof(*req)), *res = calloc(1, sizeof(*res));
	msg_init(req, 0);
	msg_init(res, 0);
	add(res, "Vary", "Accept-Encoding, Accept-Language");
	add(req, "Accept-Encoding", "gzip,  deflate");
	add(req, "Accept-Language", "en   ,  fr");
	char k[256];
	int n = cc_vary_key(req, res, k, sizeof(k));
	CHECK(n > 0);
	k[n < 0 ? 0 : n] = 0;
	CHECK_STR(k, "accept-encoding:gzip\naccept-language:en , fr\n");
	char names[64];
	n = cc_vary_names(res, names, sizeof(names));
	names[n] = 0;
	CHECK_STR(names, "accept-encoding,accept-language");
	CHECK(!cc_vary_star(res));
	add(res, "Vary", "*");
	CHECK(cc_vary_star(res));
	msg_free(req);
	msg_free(res);
	free(req);
	free(res);
}

TEST(etags)
{
	CHECK(cc_etag_match(SLICE_LIT("\"a\", \"b\""), SLICE_LIT("\"b\"")));
	CHECK(cc_etag_match(SLICE_LIT("W/\"b\""), SLICE_LIT("\"b\"")));
	CHECK(cc_etag_match(SLICE_LIT("\"b\""), SLICE_LIT("W/\"b\"")));
	CHECK(cc_etag_match(SLICE_LIT("*"), SLICE_LIT("\"x\"")));
	CHECK(!cc_etag_match(SLICE_LIT("\"c\""), SLICE_LIT("\"b\"")));
	CHECK(!cc_etag_match(SLICE_LIT("*"), SLICE_LIT("")));
}

int main(void)
{
	RUN(cc_basic_directives);
	RUN(cc_quoted_no_cache_fields);
	RUN(cc_duplicates_and_garbage_are_conservative);
	RUN(dates);
	RUN(lifetime_precedence);
	RUN(current_age_arithmetic);
	RUN(storability);
	RUN(usable);
	RUN(key);
	RUN(accept_encoding_normalised);
	RUN(vary_keys);
	RUN(etags);
	return UNIT_SUMMARY("test_cache_cc");
}
