"""The cache and compression together (issue 11): a cached object is the
origin's bytes; what a client gets is decoded per its own Content-Encoding,
whether it was a miss compressed on the way or a hit."""

import gzip
import zlib

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import simple_http_config
from httpraw import request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

HOST = [("Host", "www.example.com")]
BODY = b"".join(b"line %05d of a cacheable text page\n" % i for i in range(400))


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def decoded(r):
    enc = (r.header("content-encoding") or "").lower()
    if enc == "gzip":
        return gzip.decompress(r.body)
    if enc == "":
        return r.body
    raise AssertionError("unexpected Content-Encoding %r" % enc)


@pytest.mark.parametrize("where", ["frontend", "backend"])
def test_hits_and_misses_decode_to_the_origin_body(gatehouse, port, sorigin, where):
    sorigin.script("/page", headers=[("Cache-Control", "max-age=60"),
                                     ("Content-Type", "text/plain")], body=BODY)
    fe = "compress gzip"
    be = ""
    if where == "frontend":
        fe += "\n    use_cache main"
    else:
        be = "use_cache main"
    gatehouse(simple_http_config(port, [sorigin.addr], frontend_extra=fe, backend_extra=be)
              + "cache main {\n    size 4m\n    max_object 256k\n}\n")
    gz = HOST + [("Accept-Encoding", "gzip")]
    br = HOST + [("Accept-Encoding", "br")]
    r1 = request(port, "GET", "/page", gz)
    assert r1.status == 200 and r1.header("content-encoding") == "gzip"
    assert decoded(r1) == BODY
    seen = {"gzip"}
    # The frontend's compress may add Vary: Accept-Encoding before a
    # backend's cache stores the response: then each Accept-Encoding
    # variant is fetched once; never more, and every body decodes.
    for name, headers in (("none", HOST), ("gzip", gz), ("none", HOST), ("br", br), ("br", br)):
        r = request(port, "GET", "/page", headers)
        assert r.status == 200, r.status
        assert decoded(r) == BODY
        cs = r.header("cache-status") or ""
        if name in seen:
            assert cs.startswith("gatehouse; hit"), (name, cs)
        seen.add(name)
        if name != "gzip":
            assert r.header("content-encoding") is None
    assert 1 <= sorigin.count("/page") <= 3
