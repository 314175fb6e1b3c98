/*
 * test_json.c - the admin API's strict JSON reader and its writer.
 */
#include <stdlib.h>
#include <string.h>
#include "admin/json.h"
#include "unit.h"

static int parse(struct json_doc *d, const char *s, char *err, size_t errlen)
{
	return json_parse(d, s, strlen(s), err, errlen);
}

/* Whether s is refused, with a message containing `why`. */
static bool refused(const char *s, const char *why)
{
	struct json_doc d;
	char err[200];
	int rc = parse(&d, s, err, sizeof(err));
	json_free(&d);
	if (rc == 0) {
		fprintf(stderr, "  accepted: %s\n", s);
		return false;
	}
	if (!strstr(err, why)) {
		fprintf(stderr, "  %s: error \"%s\", expected \"%s\"\n", s, err, why);
		return false;
	}
	return true;
}

TEST(accepts_members_of_each_type)
{
	struct json_doc d;
	char err[200];
	CHECK_EQ_INT(parse(&d, " {\"weight\": 3, \"state\" :\"drain\", \"on\":true,"
			       "\"off\":false,\"x\":null,\"f\":-1.5e2,\"o\":{\"a\":{\"b\":0}}} \n",
			   err, sizeof(err)), 0);
	const struct json_val *r = json_root(&d);
	CHECK(r && r->type == JSON_OBJ);
	CHECK_EQ_INT(r->nmembers, 7);
	const struct json_val *w = json_get(&d, r, "weight");
	CHECK(w && w->type == JSON_NUM && w->is_int && w->i == 3);
	const struct json_val *s = json_get(&d, r, "state");
	CHECK(s && s->type == JSON_STR);
	CHECK_STR(s->s, "drain");
	CHECK(json_get(&d, r, "on")->b);
	CHECK(json_get(&d, r, "off")->type == JSON_BOOL && !json_get(&d, r, "off")->b);
	CHECK(json_get(&d, r, "x")->type == JSON_NULL);
	const struct json_val *f = json_get(&d, r, "f");
	CHECK(f->type == JSON_NUM && !f->is_int && f->d == -150.0);
	const struct json_val *o = json_get(&d, r, "o");
	CHECK(o->type == JSON_OBJ && o->nmembers == 1);
	const struct json_val *a = json_get(&d, o, "a");
	CHECK(a && json_get(&d, a, "b") && json_get(&d, a, "b")->i == 0);
	/* Members of the root after a nested object are still found. */
	CHECK(json_get(&d, r, "nope") == NULL);
	int n = 0;
	for (const struct json_val *m = json_first(&d, r); m; m = json_next(&d, m))
		n++;
	CHECK_EQ_INT(n, 7);
	json_free(&d);

	CHECK_EQ_INT(parse(&d, "{}", err, sizeof(err)), 0);
	CHECK_EQ_INT(json_root(&d)->nmembers, 0);
	CHECK(json_first(&d, json_root(&d)) == NULL);
	json_free(&d);
}

TEST(strings_decode_escapes_and_utf8)
{
	struct json_doc d;
	char err[200];
	CHECK_EQ_INT(parse(&d, "{\"a\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u20AC"
			       "\\ud83d\\ude00\",\"raw\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
			   err, sizeof(err)), 0);
	CHECK_STR(json_get(&d, json_root(&d), "a")->s, "q\"b\\s/\b\f\n\r\t");
	CHECK_STR(json_get(&d, json_root(&d), "u")->s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CHECK_STR(json_get(&d, json_root(&d), "raw")->s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	CHECK_EQ_INT(json_get(&d, json_root(&d), "u")->len, 9);
	json_free(&d);
}

TEST(integers_exact_to_int64)
{
	struct json_doc d;
	char err[200];
	CHECK_EQ_INT(parse(&d, "{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
			       "\"big\":9223372036854775808,\"z\":-0,\"e\":1e2}",
			   err, sizeof(err)), 0);
	const struct json_val *r = json_root(&d);
	CHECK(json_get(&d, r, "max")->is_int && json_get(&d, r, "max")->i == INT64_MAX);
	CHECK(json_get(&d, r, "min")->is_int && json_get(&d, r, "min")->i == INT64_MIN);
	CHECK(!json_get(&d, r, "big")->is_int);
	CHECK(json_get(&d, r, "z")->is_int && json_get(&d, r, "z")->i == 0);
	CHECK(!json_get(&d, r, "e")->is_int && json_get(&d, r, "e")->d == 100.0);
	json_free(&d);
}

TEST(refuses_what_is_not_strict_json)
{
	CHECK(refused("", "empty body"));
	CHECK(refused("   ", "empty body"));
	CHECK(refused("[1]", "JSON object expected"));
	CHECK(refused("\"s\"", "JSON object expected"));
	CHECK(refused("{\"a\":[1]}", "arrays are not accepted"));
	CHECK(refused("{\"a\":1,\"a\":2}", "duplicate key \"a\""));
	CHECK(refused("{\"o\":{\"a\":1,\"a\":1}}", "duplicate key"));
	CHECK(refused("{\"a\":1}x", "trailing data"));
	CHECK(refused("{\"a\":1}{}", "trailing data"));
	CHECK(refused("{\"a\":1,}", "member name"));
	CHECK(refused("{a:1}", "member name"));
	CHECK(refused("{'a':1}", "member name"));
	CHECK(refused("{\"a\" 1}", "':' expected"));
	CHECK(refused("{\"a\":1 \"b\":2}", "',' or '}' expected"));
	CHECK(refused("{\"a\":1", "',' or '}' expected"));
	CHECK(refused("{\"a\":", "value expected"));
	CHECK(refused("{\"a\":01}", "leading zero"));
	CHECK(refused("{\"a\":+1}", "unexpected character '+'"));
	CHECK(refused("{\"a\":1.}", "after '.'"));
	CHECK(refused("{\"a\":.5}", "unexpected character '.'"));
	CHECK(refused("{\"a\":1e}", "exponent"));
	CHECK(refused("{\"a\":-}", "invalid number"));
	CHECK(refused("{\"a\":1e999}", "out of range"));
	CHECK(refused("{\"a\":NaN}", "unexpected character 'N'"));
	CHECK(refused("{\"a\":tru}", "unexpected character 't'"));
	CHECK(refused("{\"a\":\"x}", "unterminated string"));
	CHECK(refused("{\"a\":\"x\\", "unterminated string"));
	CHECK(refused("{\"a\":\"\t\"}", "control character"));
	CHECK(refused("{\"a\":\"\\x\"}", "invalid escape"));
	CHECK(refused("{\"a\":\"\\u12\"}", "invalid \\u escape"));
	CHECK(refused("{\"a\":\"\\u0000\"}", "\\u0000"));
	CHECK(refused("{\"a\":\"\\ud800\"}", "lone high surrogate"));
	CHECK(refused("{\"a\":\"\\ud800\\u0041\"}", "lone high surrogate"));
	CHECK(refused("{\"a\":\"\\udc00\"}", "lone low surrogate"));
	CHECK(refused("{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"));        /* overlong '/' */
	CHECK(refused("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"));    /* a surrogate */
	CHECK(refused("{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"));/* past U+10FFFF */
	CHECK(refused("{\"a\":\"\xe2\x82\"}", "invalid UTF-8"));        /* cut short */
	CHECK(refused("{\"a\":\"\xff\"}", "invalid UTF-8"));
	CHECK(refused("\xef\xbb\xbf{}", "JSON object expected"));       /* a BOM */
	CHECK(refused("{\"a\":1}\v", "trailing data"));                  /* not JSON whitespace */
}

TEST(depth_and_size_are_bounded)
{
	char buf[256] = "";
	/* JSON_MAX_DEPTH objects are fine, one more is not. */
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		strcat(buf, "{\"a\":");
	strcat(buf, "{}");
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		strcat(buf, "}");
	struct json_doc d;
	char err[200];
	CHECK_EQ_INT(parse(&d, buf, err, sizeof(err)), 0);
	json_free(&d);
	buf[0] = '\0';
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		strcat(buf, "{\"a\":");
	strcat(buf, "{}");
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		strcat(buf, "}");
	CHECK(refused(buf, "nested deeper"));

	/* JSON_MAX_NODES values at most. */
	size_t cap = 16 * (JSON_MAX_NODES + 2);
	char *big = malloc(cap);
	size_t n = 0;
	big[n++] = '{';
	for (int i = 0; i < JSON_MAX_NODES; i++)
		n += (size_t)snprintf(big + n, cap - n, "%s\"k%d\":1", i ? "," : "", i);
	big[n++] = '}';
	big[n] = '\0';
	CHECK(refused(big, "too many values"));
	free(big);
}

TEST(error_says_where)
{
	struct json_doc d;
	char err[200];
	CHECK_EQ_INT(parse(&d, "{\"weight\":1, \"weight\":2}", err, sizeof(err)), -1);
	CHECK_STR(err, "duplicate key \"weight\" at byte 13");
	/* Input need not be NUL-terminated: only len bytes are read. */
	CHECK_EQ_INT(json_parse(&d, "{\"a\":12}garbage", 8, err, sizeof(err)), 0);
	CHECK_EQ_INT(json_get(&d, json_root(&d), "a")->i, 12);
	json_free(&d);
	CHECK_EQ_INT(json_parse(&d, "{\"a\":12", 6, err, sizeof(err)), -1);
	json_free(&d);
}

static char *written(struct jw *w)
{
	size_t len;
	char *s = jw_finish(w, &len);
	CHECK(s != NULL);
	CHECK_EQ_INT(strlen(s), len);
	return s;
}

TEST(writer_commas_and_nesting)
{
	struct jw w;
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "name", "app");
	jw_key(&w, "servers");
	jw_arr(&w);
	jw_obj(&w);
	jw_kint(&w, "w", -3);
	jw_kuint(&w, "r", 18446744073709551615ull);
	jw_obj_end(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_int(&w, 7);
	jw_arr_end(&w);
	jw_kbool(&w, "t", true);
	jw_kbool(&w, "f", false);
	jw_key(&w, "n");
	jw_null(&w);
	jw_knum(&w, "x", 0.25);
	jw_knum(&w, "nan", 0.0 / 0.0);
	jw_knum(&w, "pi", 3.141592653589793);
	jw_key(&w, "e");
	jw_arr(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	char *s = written(&w);
	CHECK_STR(s, "{\"name\":\"app\",\"servers\":[{\"w\":-3,\"r\":18446744073709551615},{},7],"
		     "\"t\":true,\"f\":false,\"n\":null,\"x\":0.25,\"nan\":null,"
		     "\"pi\":3.1415926535897931,\"e\":[]}");
	/* What the writer writes, the reader reads back. */
	struct json_doc d;
	char err[200];
	free(s);
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "k\"\\", "a\x01\n<b>&\x7f");
	jw_knum(&w, "big", 1e300);
	jw_obj_end(&w);
	s = written(&w);
	CHECK_EQ_INT(parse(&d, s, err, sizeof(err)), 0);
	CHECK_STR(json_get(&d, json_root(&d), "k\"\\")->s, "a\x01\n<b>&\x7f");
	CHECK(json_get(&d, json_root(&d), "big")->d == 1e300);
	json_free(&d);
	free(s);
}

TEST(writer_escapes)
{
	struct jw w;
	jw_init(&w);
	jw_str(&w, "\"\\/\b\f\n\r\t\x1f</script>&\xc3\xa9\xff\xc0\xaf\xed\xa0\x80z");
	char *s = written(&w);
	CHECK_STR(s, "\"\\\"\\\\/\\u0008\\u000c\\n\\r\\t\\u001f\\u003c/script\\u003e\\u0026"
		     "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef"
		     "\xbf\xbdz\"");
	free(s);
	jw_init(&w);
	jw_strn(&w, "a\0b", 3);
	s = written(&w);
	CHECK_STR(s, "\"a\\u0000b\"");
	free(s);
	jw_init(&w);
	jw_str(&w, NULL);
	s = written(&w);
	CHECK_STR(s, "null");
	free(s);
	jw_init(&w);
	s = written(&w);
	CHECK_STR(s, "");
	free(s);
	/* Doubles stay doubles when read back. */
	jw_init(&w);
	jw_arr(&w);
	jw_num(&w, -0.0);
	jw_num(&w, 100.0);
	jw_num(&w, 1e20);
	jw_arr_end(&w);
	s = written(&w);
	CHECK_STR(s, "[-0.0,100.0,1e+20]");
	free(s);
}

int main(void)
{
	RUN(accepts_members_of_each_type);
	RUN(strings_decode_escapes_and_utf8);
	RUN(integers_exact_to_int64);
	RUN(refuses_what_is_not_strict_json);
	RUN(depth_and_size_are_bounded);
	RUN(error_says_where);
	RUN(writer_commas_and_nesting);
	RUN(writer_escapes);
	return UNIT_SUMMARY("test_json");
}
