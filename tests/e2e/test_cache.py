"""The response cache (issue 11): `cache NAME { size, max_object, ... }` and
`use_cache NAME`, an RFC 9111 shared cache.  This file: what is stored and
what is served (response and request directives, Expires/Date/Age,
Authorization, Set-Cookie, Vary, HEAD, conditional requests, ranges), over
HTTP/1.1 and HTTP/2.  test_cache_reval.py: revalidation, stale-if-error,
stale-while-revalidate, invalidation, purge, poisoning.
test_cache_store.py: coalescing, failures mid-body, sizes, eviction.
test_cache_orphan.py: coalescing when the leader's client goes away.

Every test counts what the scripted origin (cache_origin.py) received:
a hit is a response the origin never saw.
"""

import time
from email.utils import formatdate

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import simple_http_config
from h2util import H2Client
from httpraw import request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

HOST = [("Host", "www.example.com")]


def cache_block(extra="", size="4m", max_object="256k", name="main"):
    lines = ["cache %s {" % name, "    size %s" % size, "    max_object %s" % max_object]
    lines += ["    " + l.strip() for l in extra.splitlines() if l.strip()]
    return "\n".join(lines) + "\n}\n"


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def start(gatehouse, port, origin, extra="", where="backend", workers=1, **kw):
    fe = "use_cache main" if where == "frontend" else ""
    be = "use_cache main" if where == "backend" else ""
    return gatehouse(simple_http_config(port, [origin.addr], frontend_extra=fe, backend_extra=be,
                                        workers=workers)
                     + cache_block(extra, **kw))


def get(port, path, headers=(), method="GET"):
    return request(port, method, path, HOST + list(headers))


def status_of(r):
    return r.header("cache-status") or ""


MAXAGE = [("Cache-Control", "max-age=60")]


@pytest.mark.parametrize("where", ["backend", "frontend"])
def test_miss_then_hit_with_age_and_cache_status(gatehouse, port, sorigin, where):
    sorigin.script("/a", headers=MAXAGE + [("Content-Type", "text/plain")], body=b"hello")
    start(gatehouse, port, sorigin, where=where)
    r1 = get(port, "/a")
    assert r1.status == 200 and r1.body == b"hello"
    assert "fwd=miss" in status_of(r1) and "stored" in status_of(r1)
    r2 = get(port, "/a")
    assert r2.status == 200 and r2.body == b"hello"
    assert status_of(r2).startswith("gatehouse; hit")
    assert r2.header("age") is not None and int(r2.header("age")) >= 0
    assert r2.header("content-type") == "text/plain"
    assert r2.header("content-length") == "5"
    assert sorigin.count("/a") == 1


def test_key_is_scheme_host_target(gatehouse, port, sorigin):
    sorigin.script("/k", headers=MAXAGE, body=b"k")
    start(gatehouse, port, sorigin)
    get(port, "/k")
    get(port, "/k", [])                                     # same
    request(port, "GET", "/k", [("Host", "WWW.example.com:80")])   # same host, normalised
    assert sorigin.count("/k") == 1
    request(port, "GET", "/k", [("Host", "other.example.com")])
    get(port, "/k?x=1")
    assert sorigin.count("/k") == 3


def test_upstream_age_counts(gatehouse, port, sorigin):
    sorigin.script("/aged", headers=MAXAGE + [("Age", "30")], body=b"a")
    sorigin.script("/old", headers=MAXAGE + [("Age", "70")], body=b"o")
    start(gatehouse, port, sorigin)
    get(port, "/aged")
    r = get(port, "/aged")
    assert "hit" in status_of(r)
    assert 30 <= int(r.header("age")) <= 40
    get(port, "/old")
    r = get(port, "/old")        # already past its 60 s
    assert "hit" not in status_of(r)
    assert sorigin.count("/old") == 2


def test_date_in_the_past_makes_it_older(gatehouse, port, sorigin):
    # apparent age: the response left the origin 50 s ago
    sorigin.script("/d", headers=MAXAGE, body=b"d",
                   date=formatdate(time.time() - 50, usegmt=True))
    start(gatehouse, port, sorigin)
    get(port, "/d")
    r = get(port, "/d")
    assert 50 <= int(r.header("age")) <= 60


def test_s_maxage_wins_over_max_age(gatehouse, port, sorigin):
    sorigin.script("/s", headers=[("Cache-Control", "max-age=0, s-maxage=60")], body=b"s")
    sorigin.script("/m", headers=[("Cache-Control", "max-age=60, s-maxage=0")], body=b"m")
    start(gatehouse, port, sorigin)
    for p in ("/s", "/m"):
        get(port, p)
        get(port, p)
    assert sorigin.count("/s") == 1
    assert sorigin.count("/m") == 2


def test_expires(gatehouse, port, sorigin):
    now = time.time()
    sorigin.script("/e", headers=[("Expires", formatdate(now + 60, usegmt=True))], body=b"e")
    sorigin.script("/bad", headers=[("Expires", "0")], body=b"b")
    sorigin.script("/past", headers=[("Expires", formatdate(now - 60, usegmt=True))], body=b"p")
    start(gatehouse, port, sorigin)
    for p in ("/e", "/bad", "/past"):
        get(port, p)
        get(port, p)
    assert sorigin.count("/e") == 1
    assert sorigin.count("/bad") == 2
    assert sorigin.count("/past") == 2


@pytest.mark.parametrize("cc", ["no-store", "private", "private=\"x-user\", max-age=60",
                                "max-age=60, no-store", "max-age=abc"])
def test_not_stored(gatehouse, port, sorigin, cc):
    sorigin.script("/n", headers=[("Cache-Control", cc)], body=b"n")
    start(gatehouse, port, sorigin)
    r1 = get(port, "/n")
    r2 = get(port, "/n")
    assert r1.body == r2.body == b"n"
    assert sorigin.count("/n") == 2
    if cc != "max-age=abc":      # that one is stored, but stale at once (no validators)
        assert "stored" not in status_of(r1)


def test_no_explicit_freshness_is_not_stored_without_heuristic(gatehouse, port, sorigin):
    lm = [("Last-Modified", formatdate(time.time() - 86400 * 10, usegmt=True))]
    sorigin.script("/h", headers=lm, body=b"h")
    start(gatehouse, port, sorigin)
    get(port, "/h")
    get(port, "/h")
    assert sorigin.count("/h") == 2


def test_heuristic_when_configured(gatehouse, port, sorigin):
    lm = [("Last-Modified", formatdate(time.time() - 86400 * 10, usegmt=True))]
    sorigin.script("/h", headers=lm, body=b"h")
    sorigin.script("/302", status=302, headers=lm + [("Location", "/h")], body=b"")
    start(gatehouse, port, sorigin, extra="heuristic 10%")
    for p in ("/h", "/302"):
        get(port, p)
        get(port, p)
    assert sorigin.count("/h") == 1
    assert sorigin.count("/302") == 2       # not heuristically cacheable


def test_status_codes(gatehouse, port, sorigin):
    sorigin.script("/404", status=404, headers=MAXAGE, body=b"nf")
    sorigin.script("/206", status=206, headers=MAXAGE + [("Content-Range", "bytes 0-1/10")],
                   body=b"ab")
    sorigin.script("/299", status=299, headers=MAXAGE, body=b"x")
    start(gatehouse, port, sorigin)
    for p in ("/404", "/206", "/299"):
        get(port, p)
        r = get(port, p)
    assert sorigin.count("/404") == 1
    assert sorigin.count("/206") == 2
    assert sorigin.count("/299") == 2


def test_set_cookie_never_served_to_another_client(gatehouse, port, sorigin):
    sorigin.script("/c", fn=lambda req: {"headers": MAXAGE + [("Set-Cookie", "sid=%d" % req.n)],
                                         "body": b"c"})
    sorigin.script("/nc", fn=lambda req: {
        "headers": [("Cache-Control", 'max-age=60, no-cache="Set-Cookie"'),
                    ("Set-Cookie", "sid=%d" % req.n)], "body": b"nc"})
    start(gatehouse, port, sorigin)
    r1 = get(port, "/c")
    r2 = get(port, "/c")
    assert r1.header("set-cookie") == "sid=1" and r2.header("set-cookie") == "sid=2"
    assert sorigin.count("/c") == 2
    r1 = get(port, "/nc")
    r2 = get(port, "/nc")
    assert r1.header("set-cookie") == "sid=1"
    assert "hit" in status_of(r2) and not r2.has("set-cookie")
    assert sorigin.count("/nc") == 1


def test_authorization(gatehouse, port, sorigin):
    sorigin.script("/priv", headers=MAXAGE, body=b"secret")
    sorigin.script("/pub", headers=[("Cache-Control", "public, max-age=60")], body=b"pub")
    sorigin.script("/smax", headers=[("Cache-Control", "s-maxage=60")], body=b"smax")
    start(gatehouse, port, sorigin)
    auth = [("Authorization", "Basic dTpw")]
    get(port, "/priv", auth)
    r = get(port, "/priv")                 # another client: never the first one's answer
    assert sorigin.count("/priv") == 2 and "hit" not in status_of(r)
    for p in ("/pub", "/smax"):
        get(port, p, auth)
        r = get(port, p)
        assert "hit" in status_of(r)
        assert sorigin.count(p) == 1


def test_request_no_cache_and_max_age_go_to_the_origin(gatehouse, port, sorigin):
    sorigin.script("/r", headers=MAXAGE, body=b"r")
    start(gatehouse, port, sorigin)
    get(port, "/r")
    r = get(port, "/r", [("Cache-Control", "no-cache")])
    assert "fwd=request" in status_of(r)
    r = get(port, "/r", [("Cache-Control", "max-age=0")])
    assert "fwd=request" in status_of(r)
    assert sorigin.count("/r") == 3
    r = get(port, "/r", [("Cache-Control", "max-age=30")])
    assert "hit" in status_of(r) and sorigin.count("/r") == 3


def test_request_min_fresh_and_max_stale(gatehouse, port, sorigin):
    sorigin.script("/f", headers=[("Cache-Control", "max-age=60"), ("Age", "50")], body=b"f")
    start(gatehouse, port, sorigin)
    get(port, "/f")                                         # 10 s left
    r = get(port, "/f", [("Cache-Control", "min-fresh=5")])
    assert "hit" in status_of(r)
    r = get(port, "/f", [("Cache-Control", "min-fresh=30")])
    assert "hit" not in status_of(r)
    assert sorigin.count("/f") == 2
    sorigin.script("/st", headers=[("Cache-Control", "max-age=60"), ("Age", "70")], body=b"st")
    get(port, "/st")                                        # stored 10 s stale
    r = get(port, "/st", [("Cache-Control", "max-stale=30")])
    assert "hit" in status_of(r) and r.body == b"st"
    assert sorigin.count("/st") == 1
    r = get(port, "/st", [("Cache-Control", "max-stale=5")])
    assert "hit" not in status_of(r)
    r = get(port, "/st", [("Cache-Control", "max-stale")])
    assert "hit" in status_of(r)


@pytest.mark.parametrize("cc", ["max-age=60, must-revalidate", "max-age=60, proxy-revalidate",
                                "s-maxage=60"])
def test_max_stale_never_past_must_revalidate(gatehouse, port, sorigin, cc):
    sorigin.script("/mr", headers=[("Cache-Control", cc), ("Age", "70")], body=b"mr")
    start(gatehouse, port, sorigin)
    get(port, "/mr")
    r = get(port, "/mr", [("Cache-Control", "max-stale=3600")])
    assert "hit" not in status_of(r)
    assert sorigin.count("/mr") == 2


def test_only_if_cached(gatehouse, port, sorigin):
    sorigin.script("/o", headers=MAXAGE, body=b"o")
    start(gatehouse, port, sorigin)
    r = get(port, "/o", [("Cache-Control", "only-if-cached")])
    assert r.status == 504
    assert sorigin.count("/o") == 0
    get(port, "/o")
    r = get(port, "/o", [("Cache-Control", "only-if-cached")])
    assert r.status == 200 and r.body == b"o"


def test_request_no_store_is_not_stored(gatehouse, port, sorigin):
    sorigin.script("/ns", headers=MAXAGE, body=b"ns")
    start(gatehouse, port, sorigin)
    get(port, "/ns", [("Cache-Control", "no-store")])
    get(port, "/ns")
    assert sorigin.count("/ns") == 2


def test_vary_keeps_variants_and_normalises_accept_encoding(gatehouse, port, sorigin):
    sorigin.script("/v", fn=lambda req: {
        "headers": MAXAGE + [("Vary", "Accept-Encoding")],
        "body": ("ae=%s" % req.get("accept-encoding")).encode()})
    start(gatehouse, port, sorigin)
    r = get(port, "/v", [("Accept-Encoding", "gzip")])
    assert r.body == b"ae=gzip"
    r = get(port, "/v", [("Accept-Encoding", "gzip, deflate")])    # the same variant
    assert r.body == b"ae=gzip" and "hit" in status_of(r)
    r = get(port, "/v", [("Accept-Encoding", "deflate, GZIP;q=0.5")])
    assert r.body == b"ae=gzip" and "hit" in status_of(r)
    r = get(port, "/v", [("Accept-Encoding", "br")])
    assert r.body == b"ae=br"
    r = get(port, "/v")
    assert r.body == b"ae=None"
    assert sorigin.count("/v") == 3
    for ae, want in (("gzip", b"ae=gzip"), ("br", b"ae=br"), (None, b"ae=None")):
        r = get(port, "/v", [("Accept-Encoding", ae)] if ae else [])
        assert r.body == want and "hit" in status_of(r)
    assert sorigin.count("/v") == 3


def test_vary_other_field(gatehouse, port, sorigin):
    sorigin.script("/l", fn=lambda req: {
        "headers": MAXAGE + [("Vary", "accept-language")],
        "body": ("lang=%s" % req.get("accept-language")).encode()})
    start(gatehouse, port, sorigin)
    assert get(port, "/l", [("Accept-Language", "fr")]).body == b"lang=fr"
    assert get(port, "/l", [("Accept-Language", "en")]).body == b"lang=en"
    assert get(port, "/l", [("Accept-Language", "fr")]).body == b"lang=fr"
    assert sorigin.count("/l") == 2


def test_vary_star_is_never_reused(gatehouse, port, sorigin):
    sorigin.script("/vs", headers=MAXAGE + [("Vary", "*")], body=b"vs")
    start(gatehouse, port, sorigin)
    get(port, "/vs")
    r = get(port, "/vs")
    assert "hit" not in status_of(r)
    assert sorigin.count("/vs") == 2


def test_head_is_answered_from_get(gatehouse, port, sorigin):
    sorigin.script("/hd", headers=MAXAGE, body=b"x" * 1000)
    start(gatehouse, port, sorigin)
    get(port, "/hd")
    r = get(port, "/hd", method="HEAD")
    assert r.status == 200 and r.header("content-length") == "1000" and r.body == b""
    assert "hit" in status_of(r)
    assert sorigin.count("/hd") == 1 and sorigin.count("/hd", "HEAD") == 0


def test_conditional_requests_get_304_from_the_cache(gatehouse, port, sorigin):
    lm = formatdate(time.time() - 3600, usegmt=True)
    sorigin.script("/cond", headers=MAXAGE + [("ETag", '"v7"'), ("Last-Modified", lm)],
                   body=b"cond")
    start(gatehouse, port, sorigin)
    get(port, "/cond")
    r = get(port, "/cond", [("If-None-Match", '"v6", "v7"')])
    assert r.status == 304 and r.header("etag") == '"v7"' and not r.has("content-length")
    r = get(port, "/cond", [("If-None-Match", 'W/"v7"')])
    assert r.status == 304
    r = get(port, "/cond", [("If-None-Match", '"v8"')])
    assert r.status == 200 and r.body == b"cond"
    r = get(port, "/cond", [("If-Modified-Since", formatdate(time.time(), usegmt=True))])
    assert r.status == 304
    r = get(port, "/cond", [("If-Modified-Since", formatdate(time.time() - 7200, usegmt=True))])
    assert r.status == 200
    assert sorigin.count("/cond") == 1


def test_ranges_from_a_complete_object(gatehouse, port, sorigin):
    body = bytes(range(256)) * 40
    sorigin.script("/rg", headers=MAXAGE + [("ETag", '"r1"')], body=body)
    start(gatehouse, port, sorigin)
    get(port, "/rg")
    r = get(port, "/rg", [("Range", "bytes=10-19")])
    assert r.status == 206 and r.body == body[10:20]
    assert r.header("content-range") == "bytes 10-19/%d" % len(body)
    r = get(port, "/rg", [("Range", "bytes=-5")])
    assert r.status == 206 and r.body == body[-5:]
    r = get(port, "/rg", [("Range", "bytes=10000-")])
    assert r.status == 206 and r.body == body[10000:]
    r = get(port, "/rg", [("Range", "bytes=20000-")])
    assert r.status == 416 and r.header("content-range") == "bytes */%d" % len(body)
    r = get(port, "/rg", [("Range", "bytes=0-1, 5-6")])      # several: the whole body
    assert r.status == 200 and r.body == body
    r = get(port, "/rg", [("Range", "bytes=0-1"), ("If-Range", '"old"')])
    assert r.status == 200 and r.body == body
    r = get(port, "/rg", [("Range", "bytes=0-1"), ("If-Range", '"r1"')])
    assert r.status == 206 and r.body == body[:2]
    assert sorigin.count("/rg") == 1


def test_large_object_streams_from_the_cache(gatehouse, port, sorigin):
    body = bytes((i * 7) & 0xff for i in range(200_000))
    sorigin.script("/big", headers=MAXAGE, body=body)
    start(gatehouse, port, sorigin)
    assert get(port, "/big").body == body
    for _ in range(3):
        r = get(port, "/big")
        assert r.body == body and "hit" in status_of(r)
    assert sorigin.count("/big") == 1


def test_over_http2(gatehouse, port, sorigin):
    body = bytes((i * 13) & 0xff for i in range(100_000))
    sorigin.script("/h2", headers=MAXAGE + [("ETag", '"h"')], body=body)
    start(gatehouse, port, sorigin)
    with H2Client(port) as c:
        s1 = c.get("/h2", authority="www.example.com")
        assert s1.status == 200 and s1.body == body
        s2 = c.get("/h2", authority="www.example.com")
        assert s2.status == 200 and s2.body == body and "hit" in (s2.header("cache-status") or "")
        s3 = c.get("/h2", [("if-none-match", '"h"')], authority="www.example.com")
        assert s3.status == 304
        s4 = c.get("/h2", [("range", "bytes=1-3")], authority="www.example.com")
        assert s4.status == 206 and s4.body == body[1:4]
    # HTTP/1.1 shares the object
    assert get(port, "/h2").body == body
    assert sorigin.count("/h2") == 1


def test_config_checks(tmp_path):
    ghutil.need_gatehouse_cli()
    cfg = tmp_path / "c.conf"
    cfg.write_text(simple_http_config(ghutil.free_port(), ["127.0.0.1:1"],
                                      backend_extra="use_cache nope")
                   + cache_block(size="1m", max_object="512k"))
    p = ghutil.run_cli(["-t", "-c", str(cfg)])
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "unknown cache 'nope'" in err
    assert "more than a quarter of its size" in err
    cfg.write_text(simple_http_config(ghutil.free_port(), ["127.0.0.1:1"],
                                      backend_extra="use_cache main") + "cache main {\n}\n")
    p = ghutil.run_cli(["-t", "-c", str(cfg)])
    assert p.returncode != 0 and "has no size" in p.stderr.decode()
