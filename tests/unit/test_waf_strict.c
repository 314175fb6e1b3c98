/*
 * test_waf_strict.c - the WAF's strict decoding check (waf/strict.h):
 * each ambiguous form refused with its reason and place, and the ordinary
 * forms next to them accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "waf/strict.h"

static struct waf_strict_why why;
static bool slash_ok;   /* `strict_encoded_slash allow`; the tests before set it off */

/* NULL: accepted; else the reason.  ctype NULL: no Content-Type. */
static const char *chk3(const char *target, const char *ctype, const char *body, size_t blen,
			bool partial)
{
	const char *ct[1] = { ctype };
	size_t ctl[1] = { ctype ? strlen(ctype) : 0 };
	struct waf_strict_req r = {
		.target = target, .target_len = strlen(target), .ctype = ct, .ctype_len = ctl,
		.nctype = ctype ? 1 : 0, .body = body, .body_len = blen, .partial = partial,
		.encoded_slash = slash_ok,
	};
	memset(&why, 0, sizeof(why));
	enum waf_strict_res res = waf_strict_check(&r, &why);
	CHECK(res != WAF_STRICT_NOMEM);
	return res == WAF_STRICT_OK ? NULL : why.what;
}

static const char *chk(const char *target, const char *ctype, const char *body)
{
	return chk3(target, ctype, body, body ? strlen(body) : 0, false);
}

static const char *tgt(const char *target)
{
	return chk(target, NULL, NULL);
}

#define REFUSED(call, what_, where_) do { \
	const char *_w = (call); \
	CHECK(_w != NULL); \
	if (_w) { CHECK_STR(_w, what_); CHECK_STR(why.where, where_); } \
} while (0)
#define ACCEPTED(call) do { \
	const char *_w = (call); \
	if (_w) { fprintf(stderr, "  refused: %s in %s (%s)\n", _w, why.where, why.at); } \
	CHECK(_w == NULL); \
} while (0)

#define FORM "application/x-www-form-urlencoded"
#define MP "multipart/form-data; boundary=XyZ"

TEST(accepts_ordinary_targets)
{
	ACCEPTED(tgt("/"));
	ACCEPTED(tgt("*"));
	ACCEPTED(tgt("/a/b.c/d?x=1&y=2"));
	ACCEPTED(tgt("/search?q=a+b&tag=a&tag=b"));
	ACCEPTED(tgt("/caf%c3%a9?q=%C3%A9t%c3%A9"));
	ACCEPTED(tgt("/emoji?q=%F0%9F%98%80"));
	ACCEPTED(tgt("/a;jsessionid=1/b;v=2"));
	ACCEPTED(tgt("/q?pct=100%25&x=%2f%2e%2e"));   /* in a query '/' and '.' are data */
	ACCEPTED(tgt("/a/%2e%2ex/b"));                 /* not a dot segment */
	ACCEPTED(tgt("/a/./b/../c"));                  /* plain dots: the path's own */
	ACCEPTED(tgt("/%41%42?%7e=%7E"));
	ACCEPTED(tgt("http://example.com/a%20b?c=d"));
	ACCEPTED(tgt("http://example.com"));
	ACCEPTED(tgt("/p?q=%25"));                     /* a literal '%' */
	ACCEPTED(tgt("/p?q=%25zz"));
	ACCEPTED(tgt("/p?q=50%25users"));
}

TEST(refuses_malformed_percent)
{
	REFUSED(tgt("/a%2"), "malformed percent-encoding", "the path");
	REFUSED(tgt("/a%zz"), "malformed percent-encoding", "the path");
	REFUSED(tgt("/a?q=100%"), "malformed percent-encoding", "the query");
	REFUSED(tgt("/a?q=%g1"), "malformed percent-encoding", "the query");
	CHECK_STR(why.at, "%g1");
}

TEST(refuses_u_escapes)
{
	REFUSED(tgt("/a?q=%u0027"), "a %u escape", "the query");
	CHECK_STR(why.at, "%u0027");
	REFUSED(tgt("/%U002e%u002e/etc"), "a %u escape", "the path");
	REFUSED(tgt("/a?q=%u"), "a %u escape", "the query");
}

TEST(refuses_double_encoding)
{
	REFUSED(tgt("/a?q=%252e"), "double percent-encoding", "the query");
	CHECK_STR(why.at, "%252e");
	REFUSED(tgt("/x?q=%2527%20or"), "double percent-encoding", "the query");
	REFUSED(tgt("/%252e%252e/etc/passwd"), "double percent-encoding", "the path");
	REFUSED(tgt("/a?q=%25u0027"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25%33%39"), "double percent-encoding", "the query");
	CHECK_STR(why.at, "%25%33%39");
}

/* D57: a script's letter encoded twice in a query or form value passes;
 * ASCII, punctuation, U+0080-U+00BF, fullwidth forms, overlongs, a cut
 * sequence, a mixed escape and the path stay refused. */
TEST(double_encoded_letters)
{
	ACCEPTED(chk("/age-gate", FORM, "next=%2Fen-gb%2Fred%2Fch%25C3%25A2teauneuf-du-pape&dob_year=1990"));
	ACCEPTED(tgt("/a?next=/de/k%25c3%25a4se&r=%25E6%2597%25A5%25E6%259C%25AC"));
	ACCEPTED(tgt("/a?q=%25D0%25BC%25D0%25BE"));
	REFUSED(tgt("/a?q=%25C3%25A2%252e%252e%252f"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25C2%25BCscript%25C2%25BE"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25EF%25BC%259Cscript"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25C0%25AE%25C0%25AE"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25C3"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25C3%A2"), "double percent-encoding", "the query");
	REFUSED(tgt("/a?q=%25%43%33%25%41%32"), "double percent-encoding", "the query");
	REFUSED(tgt("/ch%25C3%25A2teau"), "double percent-encoding", "the path");
	REFUSED(chk("/a", FORM, "a=%25E2%2580%25A8"), "double percent-encoding", "the body");
}

TEST(refuses_bad_utf8)
{
	REFUSED(tgt("/%c0%af../etc"), "overlong UTF-8", "the path");
	CHECK_STR(why.at, "%c0%af");
	REFUSED(tgt("/a?q=%e0%80%af"), "overlong UTF-8", "the query");
	REFUSED(tgt("/a?q=%c1%9c"), "overlong UTF-8", "the query");
	REFUSED(tgt("/a?q=%f0%80%80%af"), "overlong UTF-8", "the query");
	REFUSED(tgt("/a?q=%ed%a0%80"), "a UTF-8 surrogate", "the query");
	REFUSED(tgt("/a?q=%f4%90%80%80"), "a code point above U+10FFFF", "the query");
	REFUSED(tgt("/a?q=%ff"), "invalid UTF-8", "the query");
	REFUSED(tgt("/a?q=%80"), "invalid UTF-8", "the query");
	REFUSED(tgt("/a?q=%c3"), "invalid UTF-8", "the query");
	REFUSED(tgt("/a?q=%c3x"), "invalid UTF-8", "the query");
	REFUSED(tgt("/a\xc3(?q"), "invalid UTF-8", "the path");
	CHECK_STR(why.at, "\\xc3(");
	ACCEPTED(tgt("/caf\xc3\xa9"));                  /* raw UTF-8 (HTTP/2 may carry it) */
	REFUSED(tgt("/caf\xc3?q"), "invalid UTF-8", "the path");
	REFUSED(tgt("/a%c3/%a9"), "invalid UTF-8", "the path");
}

TEST(refuses_nul)
{
	REFUSED(tgt("/a%00.php"), "an encoded NUL", "the path");
	REFUSED(tgt("/a?f=x%00"), "an encoded NUL", "the query");
	REFUSED(chk("/a", FORM, "a=%00"), "an encoded NUL", "the body");
	REFUSED(chk3("/a", FORM, "a=b\0c", 5, false), "a NUL byte", "the body");
}

TEST(refuses_encoded_separators_in_paths)
{
	REFUSED(tgt("/a%2fb"), "an encoded slash", "the path");
	REFUSED(tgt("/a%2Fb"), "an encoded slash", "the path");
	REFUSED(tgt("/a%5cb"), "an encoded backslash", "the path");
	REFUSED(tgt("/%2e%2e/etc/passwd"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("/a/.%2e/b"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("/a/%2E"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("/a/%2e%2e;x/b"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("/a/%2e%2e?x"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("http://h/%2e%2e/x"), "a dot segment hidden by percent-encoding", "the path");
}

/* D44: an npm scoped name's encoded slash, and every neighbour refused */
TEST(npm_scoped_name_slash)
{
	ACCEPTED(tgt("/@babel%2fcore"));
	ACCEPTED(tgt("/@acme%2Fdesign-tokens"));
	ACCEPTED(tgt("/@acme%2fdesign-tokens/2.4.0"));
	ACCEPTED(tgt("/-/package/@acme%2fui/dist-tags"));
	ACCEPTED(tgt("/@types%2fnode?write=true"));
	ACCEPTED(tgt("http://h/@acme%2fx.js"));
	REFUSED(tgt("/admin%2fusers"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f"), "an encoded slash", "the path");
	REFUSED(tgt("/@%2fname"), "an encoded slash", "the path");
	REFUSED(tgt("/@..%2fadmin"), "an encoded slash", "the path");
	REFUSED(tgt("/@.x%2fadmin"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f..%2fadmin"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f.."), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f.hidden"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f%2e%2e"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2fa%2fb"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2fname;x"), "an encoded slash", "the path");
	REFUSED(tgt("/x;@acme%2fname"), "an encoded slash", "the path");
	REFUSED(tgt("/a@acme%2fname"), "an encoded slash", "the path");
	REFUSED(tgt("/@ac%41me%2fname"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2fna%41me"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2fname%5c..%5cx"), "an encoded slash", "the path");
	REFUSED(tgt("/@acme%2fname/%5c..%5cx"), "an encoded backslash", "the path");
	REFUSED(tgt("/@acme%2f%252e%252e"), "an encoded slash", "the path");
	REFUSED(tgt("/api/v4/projects/group%2Fproject"), "an encoded slash", "the path");
}

/* `strict_encoded_slash allow` (the default): %2f as a separator of the
 * path a decoding server reads, without dot segments around it */
TEST(encoded_slash_allow)
{
	slash_ok = true;
	/* GitLab, RabbitMQ, Gerrit, CouchDB, Azure, Docker, npm */
	ACCEPTED(tgt("/api/v4/projects/group%2Fsubgroup%2Fproject/repository/files/"
		     "src%2Fmain.c/raw?ref=main"));
	ACCEPTED(tgt("/api/v4/projects/acme%2Fplatform"));
	ACCEPTED(tgt("/api/queues/%2F"));
	ACCEPTED(tgt("/api/exchanges/%2F/amq.default/publish"));
	ACCEPTED(tgt("/api/policies/%2f/ha-orders"));
	ACCEPTED(tgt("/changes/platform%2Fgateway~master~I8473b95934b5732ac55d26311a706c9c2bde9940"
		     "/revisions/current/review"));
	ACCEPTED(tgt("/changes/platform%2Fgateway~4471/revisions/3/files/src%2Fproxy%2Fconn.c/diff"));
	ACCEPTED(tgt("/db/_design%2Fusers/_view/by_name"));
	ACCEPTED(tgt("/container/dir%2Ffile.v1.2.txt"));
	ACCEPTED(tgt("/@babel%2fcore"));
	ACCEPTED(tgt("/a%2Fb.c/..x/x..%2F...y"));
	ACCEPTED(tgt("http://h/a%2Fb/c"));
	ACCEPTED(tgt("/a/b?path=..%2F..%2Fx"));   /* the query is not a path */
	/* traversal through the decoded slash, raw or encoded dots */
	REFUSED(tgt("/static%2F..%2F..%2Fetc%2Fpasswd"),
		"a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F%2E%2E%2Fadmin"), "a dot segment hidden by percent-encoding", "the path");
	REFUSED(tgt("/a%2F..%2Fadmin"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/x%2F..%2Fadmin/y"), "a dot segment in a path with an encoded slash",
		"the path");
	REFUSED(tgt("/a/..%2Fb"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F../b"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F.."), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F./b"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a/../b/c%2Fd"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F..;x/b"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F...%2Fb"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F..%20/b"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/a%2F..\\b"), "a dot segment in a path with an encoded slash", "the path");
	REFUSED(tgt("/@acme%2f..%2f..%2fetc%2fpasswd"),
		"a dot segment in a path with an encoded slash", "the path");
	/* an absolute path once decoded; empty segments inside a segment */
	REFUSED(tgt("/files/%2Fetc%2Fpasswd"), "an encoded slash opening a segment", "the path");
	REFUSED(tgt("/%2F%2Fevil.example/x"), "an encoded slash opening a segment", "the path");
	REFUSED(tgt("/a%2F%2Fb"), "an encoded slash opening a segment", "the path");
	REFUSED(tgt("/a;%2Fb"), "an encoded slash opening a segment", "the path");
	REFUSED(tgt("/@acme%2f"), "an encoded slash closing a segment", "the path");
	REFUSED(tgt("/a%2F/b"), "an encoded slash closing a segment", "the path");
	REFUSED(tgt("/a%2F;x"), "an encoded slash closing a segment", "the path");
	/* a name the WAF's path-keyed defaults read (D16, 90022, 90083) made
	 * by an encoded slash: another resource to a server keeping %2f */
	REFUSED(tgt("/api/v1/coupons/x%2fsnippets"),
		"a name the WAF's defaults read made by an encoded slash", "the path");
	REFUSED(tgt("/coupons/x%2FSnippets/5"),
		"a name the WAF's defaults read made by an encoded slash", "the path");
	REFUSED(tgt("/gists%2F123"), "a name the WAF's defaults read made by an encoded slash",
		"the path");
	REFUSED(tgt("/x%2Fsnippet%73/"), "a name the WAF's defaults read made by an encoded slash",
		"the path");
	REFUSED(tgt("/x%2Fpastes%2F"), "an encoded slash closing a segment", "the path");
	REFUSED(tgt("/orders/1%2Fgraphql"),
		"a name the WAF's defaults read made by an encoded slash", "the path");
	REFUSED(tgt("/a%2Fquery?where=1"),
		"a name the WAF's defaults read made by an encoded slash", "the path");
	ACCEPTED(tgt("/snippets/a%2Fb"));
	ACCEPTED(tgt("/a%2Fb/graphql"));
	ACCEPTED(tgt("/a%2Fb/snippets/1"));
	ACCEPTED(tgt("/repo/files/src%2Fquery%2Fparser.c/raw"));
	ACCEPTED(tgt("/x%2Fgraphqlx"));
	ACCEPTED(tgt("/@octokit%2fgraphql"));
	/* the other encodings stay refused */
	REFUSED(tgt("/a%252Fb"), "double percent-encoding", "the path");
	REFUSED(tgt("/a%25%32%46b"), "double percent-encoding", "the path");
	REFUSED(tgt("/a%5Cb"), "an encoded backslash", "the path");
	REFUSED(tgt("/a%2F%5C..%5Cb"), "an encoded backslash", "the path");
	REFUSED(tgt("/a%c0%afb"), "overlong UTF-8", "the path");
	REFUSED(tgt("/a%e0%80%afb"), "overlong UTF-8", "the path");
	REFUSED(tgt("/a%u2215b"), "a %u escape", "the path");
	REFUSED(tgt("/a%2F%00b"), "an encoded NUL", "the path");
	REFUSED(tgt("/a%c3%2Fb"), "invalid UTF-8", "the path");
	slash_ok = false;
}

TEST(form_bodies)
{
	ACCEPTED(chk("/a", FORM, "name=bob&comment=nice+shoes%21&tag=a&tag=b"));
	ACCEPTED(chk("/a", "Application/X-WWW-Form-Urlencoded; charset=utf-8", "a=%c3%a9"));
	ACCEPTED(chk("/a", FORM, "path=%2f%2e%2e%2f"));
	ACCEPTED(chk("/a?x=1&y=2", FORM, "z=3&w=4&z=5"));
	REFUSED(chk("/a", FORM, "a=%252e"), "double percent-encoding", "the body");
	REFUSED(chk("/a", FORM, "a=%u0027"), "a %u escape", "the body");
	REFUSED(chk("/a", FORM, "a=%c0%af"), "overlong UTF-8", "the body");
	REFUSED(chk("/a", FORM, "a=50%"), "malformed percent-encoding", "the body");
	/* cut at body_limit: the cut parameter is not judged */
	ACCEPTED(chk3("/a", FORM, "a=1&b=%c3%a9&c=%c", 16, true));
	ACCEPTED(chk3("/a", FORM, "a=1&b=%c3", 9, true));
	REFUSED(chk3("/a", FORM, "a=%c3&b=%c", 10, false), "invalid UTF-8", "the body");
	/* other types: the body is not a form */
	ACCEPTED(chk("/a", "text/plain", "100% %u %252e"));
	ACCEPTED(chk("/a", NULL, "100% %u %252e"));
}

TEST(parameter_pollution)
{
	REFUSED(chk("/a?id=1", FORM, "id=2"), "a parameter in both the query and the body",
		"the query and the body");
	CHECK_STR(why.at, "id");
	REFUSED(chk("/a?x=1&user+id=1", FORM, "a=b&user%20id=2"),
		"a parameter in both the query and the body", "the query and the body");
	REFUSED(chk("/a?i%64=1", FORM, "id=2"), "a parameter in both the query and the body",
		"the query and the body");
	REFUSED(chk("/a?flag", FORM, "flag=1"), "a parameter in both the query and the body",
		"the query and the body");
	ACCEPTED(chk("/a?id=1", FORM, "ID=2"));     /* case differs: not the clear case */
	ACCEPTED(chk("/a?id=1&id=2", FORM, "name=x"));
	ACCEPTED(chk("/a?id=1", "application/json", "{\"id\":2}"));
	ACCEPTED(chk("/a?=1&&", FORM, "=2&&"));      /* empty names are not names */
	/* long names compare whole */
	char q[700] = "/a?", body[700];
	memset(q + 3, 'n', 600);
	strcpy(q + 603, "=1");
	memset(body, 'n', 600);
	strcpy(body + 600, "x=2");
	ACCEPTED(chk(q, FORM, body));
	strcpy(body + 600, "=2");
	REFUSED(chk(q, FORM, body), "a parameter in both the query and the body",
		"the query and the body");
}

TEST(content_type_fields)
{
	const char *ct[2] = { FORM, FORM };
	size_t ctl[2] = { strlen(FORM), strlen(FORM) };
	struct waf_strict_req r = { .target = "/", .target_len = 1, .ctype = ct, .ctype_len = ctl,
				    .nctype = 2 };
	CHECK_EQ_INT(waf_strict_check(&r, &why), WAF_STRICT_AMBIGUOUS);
	CHECK_STR(why.what, "more than one Content-Type field");
}

TEST(multipart_boundaries)
{
	const char *ok = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n";
	ACCEPTED(chk("/u", MP, ok));
	ACCEPTED(chk("/u", "multipart/form-data; boundary=\"XyZ\"", ok));
	ACCEPTED(chk("/u", "multipart/form-data;boundary=XyZ ; charset=utf-8", ok));
	ACCEPTED(chk("/u", "Multipart/Form-Data; BOUNDARY=XyZ", ok));
	ACCEPTED(chk("/u", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
		     NULL));
	ACCEPTED(chk("/u", "multipart/form-data; boundary=\"a b:c/d=e?f\"", NULL));
	REFUSED(chk("/u", "multipart/form-data", ok), "multipart without a boundary",
		"the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; charset=utf-8", ok),
		"multipart without a boundary", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=", ok), "an empty multipart boundary",
		"the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=\"\"", ok), "an empty multipart boundary",
		"the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary", ok),
		"a multipart boundary without a value", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=XyZ; boundary=abc", ok),
		"a duplicated multipart boundary", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=a<b", ok), "an invalid multipart boundary",
		"the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=a/b", ok), "an invalid multipart boundary",
		"the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=\"ab \"", ok),
		"an invalid multipart boundary", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=\"a\\\"b\"", ok),
		"an invalid multipart boundary", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=\"abc", ok),
		"an unterminated quoted parameter", "the Content-Type");
	REFUSED(chk("/u", "multipart/form-data; boundary=XyZ x", ok),
		"a malformed multipart Content-Type", "the Content-Type");
	char longb[120] = "multipart/form-data; boundary=";
	memset(longb + strlen(longb), 'a', 71);
	REFUSED(chk("/u", longb, ok), "an invalid multipart boundary", "the Content-Type");
	longb[strlen(longb) - 1] = '\0';
	ACCEPTED(chk("/u", longb, NULL));
}

TEST(multipart_bodies)
{
	ACCEPTED(chk("/u", MP, "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"
		     "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\""
		     "\r\nContent-Type: text/plain\r\n\r\nhello --XyZ inside\r\n--XyZ--\r\nbye"));
	ACCEPTED(chk("/u", MP, "--XyZ  \r\nContent-Disposition: form-data; name=\"a;b\"\r\n\r\n1"
		     "\r\n--XyZ--"));
	ACCEPTED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n12"));
	ACCEPTED(chk3("/u", MP, "--Xy", 4, true));
	ACCEPTED(chk("/u", MP, ""));
	REFUSED(chk("/u", MP, "hello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"
		    "\r\n--XyZ--\r\n"), "data before the first boundary", "the multipart body");
	REFUSED(chk("/u", MP, "--XyZ junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"),
		"garbage after a boundary", "the multipart body");
	REFUSED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"
		    "\r\n--XyZZ\r\n\r\n"), "garbage after a boundary", "the multipart body");
	REFUSED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
		    "Content-Disposition: form-data; name=\"b\"\r\n\r\n1\r\n--XyZ--"),
		"a duplicated Content-Disposition", "the multipart body");
	REFUSED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\""
		    "\r\n\r\n1\r\n--XyZ--"), "a parameter given twice",
		"a multipart part's Content-Disposition");
	CHECK_STR(why.at, "name");
	REFUSED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
		    "--XyZ\r\ncontent-disposition: form-data; NAME=a; filename=\"x\"; FileName=y"
		    "\r\n\r\n1\r\n--XyZ--"), "a parameter given twice",
		"a multipart part's Content-Disposition");
	REFUSED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\";"
		    " filename*=UTF-8''a.php\r\n\r\n1\r\n--XyZ--"), "filename* alongside filename",
		"a multipart part's Content-Disposition");
	/* a quoted value holding what looks like a parameter is one value */
	ACCEPTED(chk("/u", MP, "--XyZ\r\nContent-Disposition: form-data; name=\"a; name=b\"\r\n\r\n1"
		     "\r\n--XyZ--"));
}

TEST(json_bodies)
{
	const char *J = "application/json";
	ACCEPTED(chk("/j", J, "{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}"));
	ACCEPTED(chk("/j", J, "[{\"a\":1},{\"a\":1}]"));
	ACCEPTED(chk("/j", J, "{\"a\":\"a\",\"b\":\"a\"}"));
	ACCEPTED(chk("/j", J, "{\"a\":1,\"A\":2}"));
	ACCEPTED(chk("/j", J, "not json {\"a\":1,\"a\":2"));   /* ModSecurity's to refuse */
	REFUSED(chk("/j", J, "{\"a\":1,\"a\":2}"), "a duplicate key", "the JSON body");
	CHECK_STR(why.at, "a");
	REFUSED(chk("/j", J, "{\"x\":{\"role\":\"user\",\"n\":[1,2],\"role\":\"admin\"}}"),
		"a duplicate key", "the JSON body");
	REFUSED(chk("/j", J, "{\"role\":1,\"r\\u006fle\":2}"), "a duplicate key", "the JSON body");
	REFUSED(chk("/j", "application/vnd.api+json", "{ \"a\" : 1 , \"a\" : 2 }"),
		"a duplicate key", "the JSON body");
	REFUSED(chk("/j", J, "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}"), "a duplicate key",
		"the JSON body");
	/* cut at body_limit: the open objects' keys so far */
	REFUSED(chk3("/j", J, "{\"a\":{\"b\":1,\"b\":", 16, true), "a duplicate key",
		"the JSON body");
	ACCEPTED(chk3("/j", J, "{\"a\":{\"b\":1,\"c\":", 16, true));
	/* long keys (past the 512-byte chunk) still compare whole */
	size_t kl = 1500;
	char *b = malloc(2 * kl + 32);
	char *p = b;
	*p++ = '{';
	for (int k = 0; k < 2; k++) {
		*p++ = '"';
		memset(p, 'k', kl);
		p += kl;
		if (k)
			p[-1] = 'z';
		p += sprintf(p, "\":%d%s", k, k ? "}" : ",");
	}
	*p = '\0';
	ACCEPTED(chk("/j", J, b));
	p = strchr(b + 2, 'z');
	*p = 'k';
	REFUSED(chk("/j", J, b), "a duplicate key", "the JSON body");
	free(b);
	/* deep nesting is not a stack overflow */
	char deep[4001];
	memset(deep, '[', 4000);
	deep[4000] = '\0';
	ACCEPTED(chk("/j", J, deep));
	memset(deep, '{', 4000);
	ACCEPTED(chk("/j", J, deep));
}

int main(void)
{
	RUN(accepts_ordinary_targets);
	RUN(refuses_malformed_percent);
	RUN(refuses_u_escapes);
	RUN(refuses_double_encoding);
	RUN(double_encoded_letters);
	RUN(refuses_bad_utf8);
	RUN(refuses_nul);
	RUN(refuses_encoded_separators_in_paths);
	RUN(npm_scoped_name_slash);
	RUN(encoded_slash_allow);
	RUN(form_bodies);
	RUN(parameter_pollution);
	RUN(content_type_fields);
	RUN(multipart_boundaries);
	RUN(multipart_bodies);
	RUN(json_bodies);
	return UNIT_SUMMARY("test_waf_strict");
}
