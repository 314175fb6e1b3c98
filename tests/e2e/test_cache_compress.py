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
    # compress adds its Vary at delivery, so the cache stores the origin's
    # head: one object for every Accept-Encoding, fetched once (the bound
    # is kept loose: never more than once per Accept-Encoding).
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


# ---- encoded variants: a hit is compressed once per coding, then served
# from the stored compressed bytes (gatehouse_cache_encodes_total counts
# each compression of a stored object; _objects counts the variants) ----

import brotli  # noqa: E402
import zstandard  # noqa: E402

from ghutil import free_port, listening_ports, wait_for  # noqa: E402
from test_metrics import scrape, val  # noqa: E402

SIZE = 4 * 1024 * 1024


def decode_any(r):
    enc = r.header("content-encoding")
    if enc == "gzip":
        return gzip.decompress(r.body)
    if enc == "br":
        return brotli.decompress(r.body)
    if enc == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(r.body)
    assert enc is None, enc
    return r.body


def ae(coding):
    return HOST + [("Accept-Encoding", coding)]


def start(gatehouse, port, sorigin, headers=None, path="/page", extra_cache=""):
    sorigin.script(path, headers=headers or [("Cache-Control", "max-age=600"),
                                             ("Content-Type", "text/plain"),
                                             ("ETag", '"v1"')], body=BODY)
    admin = free_port()
    gatehouse(simple_http_config(port, [sorigin.addr], frontend_extra="compress gzip br zstd",
                                 backend_extra="use_cache main",
                                 global_extra="    admin 127.0.0.1:%d\n" % admin)
              + "cache main {\n    size 4m\n    max_object 256k\n%s}\n" % extra_cache)
    wait_for(lambda: admin in listening_ports(), 10 * ghutil.SLACK, what="the admin listener")
    return admin


def stats(admin):
    s = scrape(admin)[1]
    return {k: val(s, "gatehouse_cache_" + k, cache="main")
            for k in ("objects", "bytes", "encodes_total", "size_bytes")}


def is_hit(r):
    return (r.header("cache-status") or "").startswith("gatehouse; hit")


def test_hits_compressed_once_per_coding(gatehouse, port, sorigin):
    admin = start(gatehouse, port, sorigin)
    # the miss: compressed on the way, the origin's bytes stored
    r = request(port, "GET", "/page", ae("gzip"))
    assert r.status == 200 and r.header("content-encoding") == "gzip" and not is_hit(r)
    assert decode_any(r) == BODY
    st = stats(admin)
    assert st["objects"] == 1 and st["encodes_total"] == 0
    identity_bytes = st["bytes"]
    made = {}
    for n, coding in enumerate(("gzip", "br", "zstd"), start=1):
        first = request(port, "GET", "/page", ae(coding))
        assert first.status == 200 and is_hit(first), first.header("cache-status")
        assert first.header("content-encoding") == coding
        assert decode_any(first) == BODY
        assert first.header("etag") == 'W/"v1"'
        assert "accept-encoding" in (first.header("vary") or "").lower()
        assert first.header("accept-ranges") is None
        st = stats(admin)
        assert st["encodes_total"] == n, st          # compressed once, now
        assert st["objects"] == 1 + n, st            # and stored as a variant
        second = request(port, "GET", "/page", ae(coding))
        assert second.status == 200 and is_hit(second)
        assert second.header("content-encoding") == coding
        # the stored compressed bytes, with their length: no compression
        assert second.body == first.body
        assert int(second.header("content-length")) == len(first.body)
        assert second.header("etag") == 'W/"v1"'
        st = stats(admin)
        assert st["encodes_total"] == n and st["objects"] == 1 + n, st
        made[coding] = len(second.body)
    # memory: every variant is charged to the cache, under its size
    assert st["bytes"] >= identity_bytes + sum(made.values())
    assert st["bytes"] <= st["size_bytes"] == SIZE
    # identity clients get the identity bytes, with Vary
    r = request(port, "GET", "/page", HOST)
    assert r.status == 200 and is_hit(r) and r.header("content-encoding") is None
    assert r.body == BODY and int(r.header("content-length")) == len(BODY)
    assert r.header("etag") == '"v1"'
    assert "accept-encoding" in (r.header("vary") or "").lower()
    # q-values: br preferred over gzip -> the br variant
    r = request(port, "GET", "/page", ae("gzip;q=0.5, br"))
    assert r.header("content-encoding") == "br" and decode_any(r) == BODY
    assert stats(admin)["encodes_total"] == 3
    assert sorigin.count("/page") == 1


def test_ranges_are_identity_and_head_and_304(gatehouse, port, sorigin):
    admin = start(gatehouse, port, sorigin)
    request(port, "GET", "/page", HOST)                      # stored
    # HEAD before the variant exists: its head, nothing compressed
    r = request(port, "HEAD", "/page", ae("gzip"))
    assert r.status == 200 and r.header("content-encoding") == "gzip" and r.body == b""
    assert r.header("etag") == 'W/"v1"'
    assert stats(admin)["encodes_total"] == 0
    # a range: from the identity bytes, never compressed
    r = request(port, "GET", "/page", ae("gzip") + [("Range", "bytes=10-109")])
    assert r.status == 206 and r.header("content-encoding") is None
    assert r.body == BODY[10:110]
    assert stats(admin)["encodes_total"] == 0
    g = request(port, "GET", "/page", ae("gzip"))            # the variant is made
    assert g.header("content-encoding") == "gzip"
    # HEAD now: the stored variant's head, its length
    r = request(port, "HEAD", "/page", ae("gzip"))
    assert r.status == 200 and r.header("content-encoding") == "gzip" and r.body == b""
    assert int(r.header("content-length")) == len(g.body)
    # 304 on the compressed variant, with its weak ETag
    r = request(port, "GET", "/page", ae("gzip") + [("If-None-Match", 'W/"v1"')])
    assert r.status == 304 and r.body == b""
    assert r.header("etag") == 'W/"v1"'
    assert "accept-encoding" in (r.header("vary") or "").lower()
    # a range again, with the variant stored: still identity
    r = request(port, "GET", "/page", ae("gzip") + [("Range", "bytes=-5")])
    assert r.status == 206 and r.header("content-encoding") is None and r.body == BODY[-5:]
    assert stats(admin)["encodes_total"] == 1
    assert sorigin.count("/page") == 1


def test_no_transform_is_honoured(gatehouse, port, sorigin):
    admin = start(gatehouse, port, sorigin, headers=[
        ("Cache-Control", "max-age=600, no-transform"), ("Content-Type", "text/plain")])
    for _ in range(3):
        r = request(port, "GET", "/page", ae("gzip, br, zstd"))
        assert r.status == 200 and r.header("content-encoding") is None and r.body == BODY
    assert stats(admin)["encodes_total"] == 0 and stats(admin)["objects"] == 1
    # and a request's no-transform, on a response that allows it
    sorigin.script("/other", headers=[("Cache-Control", "max-age=600"),
                                      ("Content-Type", "text/plain")], body=BODY)
    request(port, "GET", "/other", HOST)
    r = request(port, "GET", "/other", ae("gzip") + [("Cache-Control", "no-transform")])
    assert is_hit(r) and r.header("content-encoding") is None and r.body == BODY
    assert stats(admin)["encodes_total"] == 0


def test_purge_removes_every_variant(gatehouse, port, sorigin):
    admin = start(gatehouse, port, sorigin, extra_cache="    purge_from 127.0.0.1/32\n")
    request(port, "GET", "/page", HOST)
    for coding in ("gzip", "br", "zstd"):
        assert request(port, "GET", "/page", ae(coding)).header("content-encoding") == coding
    assert stats(admin)["objects"] == 4
    r = request(port, "PURGE", "/page", HOST)
    assert r.status == 200
    st = stats(admin)
    assert st["objects"] == 0 and st["bytes"] == 0, st
    r = request(port, "GET", "/page", ae("gzip"))
    assert not is_hit(r) and decode_any(r) == BODY
    assert sorigin.count("/page") == 2


def test_a_new_response_drops_the_old_variants(gatehouse, port, sorigin):
    """A variant is made from one stored object: when the object is
    replaced (here: no-cache from the client sends it to the origin, whose
    new body is stored), the compressed bytes of the old one are never
    served."""
    admin = start(gatehouse, port, sorigin)
    request(port, "GET", "/page", HOST)
    assert decode_any(request(port, "GET", "/page", ae("gzip"))) == BODY
    new = BODY.replace(b"line", b"LINE")
    sorigin.script("/page", headers=[("Cache-Control", "max-age=600"),
                                     ("Content-Type", "text/plain")], body=new)
    request(port, "GET", "/page", HOST + [("Cache-Control", "no-cache")])
    r = request(port, "GET", "/page", ae("gzip"))
    assert is_hit(r) and decode_any(r) == new
    assert stats(admin)["encodes_total"] == 2


def test_variants_over_http2(gatehouse, port, sorigin):
    """The variant's producer (length unknown: DATA frames) and the stored
    variant (its length known) over HTTP/2; HTTP/1.1 shares them."""
    from h2util import H2Client
    admin = start(gatehouse, port, sorigin)
    request(port, "GET", "/page", HOST)
    with H2Client(port) as c:
        for _ in range(2):
            st = c.get("/page", [("accept-encoding", "zstd")], authority="www.example.com")
            assert st.status == 200 and st.header("content-encoding") == "zstd"
            assert zstandard.ZstdDecompressor().decompressobj().decompress(st.body) == BODY
    assert stats(admin)["encodes_total"] == 1
    r = request(port, "GET", "/page", ae("zstd"))
    assert r.header("content-encoding") == "zstd" and decode_any(r) == BODY
    assert int(r.header("content-length")) == len(r.body)
    assert stats(admin)["encodes_total"] == 1 and sorigin.count("/page") == 1


def test_an_origin_vary_is_kept(gatehouse, port, sorigin):
    """The origin's own Vary stays on every copy, Accept-Encoding added to
    it (one more line on an identity hit, merged into the variant's)."""
    admin = start(gatehouse, port, sorigin, headers=[
        ("Cache-Control", "max-age=600"), ("Content-Type", "text/plain"),
        ("Vary", "Accept-Language")])
    lang = [("Accept-Language", "fr")]
    request(port, "GET", "/page", HOST + lang)

    def varies(r):
        return {v.strip().lower() for line in r.headers_named("vary") for v in line.split(",")}
    r = request(port, "GET", "/page", HOST + lang)
    assert is_hit(r) and r.header("content-encoding") is None
    assert varies(r) == {"accept-language", "accept-encoding"}
    g = request(port, "GET", "/page", ae("gzip") + lang)
    assert is_hit(g) and g.header("content-encoding") == "gzip" and decode_any(g) == BODY
    assert varies(g) == {"accept-language", "accept-encoding"}
    # another language is another object (the origin's Vary), fetched once
    other = request(port, "GET", "/page", ae("gzip") + [("Accept-Language", "de")])
    assert not is_hit(other)
    assert stats(admin)["encodes_total"] == 1 and sorigin.count("/page") == 2


# ---- where each directive sits, and coalesced waiters (issue 11: a hit
# and a waiter get the bytes a miss would) ----

import threading  # noqa: E402
import time  # noqa: E402

from httpraw import Reader, build_request, connect  # noqa: E402


def test_frontend_cache_with_backend_compress_encodes_hits(gatehouse, port, sorigin):
    # use_cache in the frontend answers before routing; the backend's
    # `compress` still applies to its hits, as it does to its misses
    sorigin.script("/fb", headers=[("Cache-Control", "max-age=600"),
                                   ("Content-Type", "text/plain"), ("ETag", '"fb"')], body=BODY)
    gatehouse(simple_http_config(port, [sorigin.addr], frontend_extra="use_cache main",
                                 backend_extra="compress gzip br")
              + "cache main {\n    size 4m\n    max_object 256k\n}\n")
    miss = request(port, "GET", "/fb", ae("gzip"))
    assert miss.status == 200 and miss.header("content-encoding") == "gzip"
    assert decode_any(miss) == BODY
    for coding in ("gzip", "br", "gzip"):
        r = request(port, "GET", "/fb", ae(coding))
        assert is_hit(r), r.header("cache-status")
        assert r.header("content-encoding") == coding
        assert decode_any(r) == BODY
        assert "accept-encoding" in (r.header("vary") or "").lower()
        assert r.header("etag") == 'W/"fb"'
    plain = request(port, "GET", "/fb", HOST)
    assert is_hit(plain) and plain.header("content-encoding") is None and plain.body == BODY
    assert "accept-encoding" in (plain.header("vary") or "").lower()
    assert sorigin.count("/fb") == 1


def decode_as(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return brotli.decompress(data)
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def read_chunked(rd):
    out = b""
    while True:
        line = rd.read_until(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            rd.read_until(b"\r\n")
            return out
        out += rd.read_exact(size)
        rd.read_exact(2)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_coalesced_waiters_are_compressed_like_a_miss(gatehouse, port, sorigin, coding):
    gate = threading.Event()
    body = b"".join(b"first half line %06d\n" % i for i in range(2500))
    body += b"".join(b"second half line %06d\n" % i for i in range(2500))
    sorigin.script("/cw", headers=[("Cache-Control", "max-age=600"),
                                   ("Content-Type", "text/plain"), ("ETag", '"cw"')],
                   body=body, gate=gate)
    gatehouse(simple_http_config(port, [sorigin.addr], frontend_extra="compress gzip br zstd",
                                 backend_extra="use_cache main")
              + "cache main {\n    size 4m\n    max_object 256k\n}\n")
    socks = []
    try:
        leader = connect(port)
        leader.sendall(build_request("GET", "/cw", ae(coding)))
        socks.append(leader)
        time.sleep(0.3)    # the leader's head is in: the others join its fill
        want = [coding, "identity", coding]
        for w in want:
            s = connect(port)
            s.sendall(build_request("GET", "/cw", HOST if w == "identity" else ae(coding)))
            socks.append(s)
        readers = [Reader(s) for s in socks]
        heads = [rd.read_head() for rd in readers]
        for r in heads[1:]:
            assert "collapsed" in (r.header("cache-status") or ""), r.header("cache-status")
        for w, r in zip(want, heads[1:]):
            if w == "identity":
                assert r.header("content-encoding") is None
                assert r.header("content-length") == str(len(body))
                assert "accept-encoding" in (r.header("vary") or "").lower()
            else:
                assert r.header("content-encoding") == coding, r.header("content-encoding")
                assert r.header("content-length") is None
                assert "accept-encoding" in (r.header("vary") or "").lower()
                assert r.header("etag") == 'W/"cw"'
        assert sorigin.count("/cw") == 1
        gate.set()
        for w, r, rd in zip([coding] + want, heads, readers):
            if w == "identity":
                data = rd.read_exact(len(body))
                assert data == body
            else:
                assert decode_as(coding, read_chunked(rd)) == body
    finally:
        gate.set()
        for s in socks:
            s.close()
    # the stored object is the origin's; a later hit in the coding is too
    r = request(port, "GET", "/cw", ae(coding))
    assert is_hit(r) and r.header("content-encoding") == coding and decode_any(r) == body
    assert sorigin.count("/cw") == 1


def test_coalesced_gzip_waiter_streams_before_the_origin_ends(gatehouse, port, sorigin):
    # the compressed waiter is not held until the end: while the origin
    # holds its second half, the first half arrives (flushed on the stall)
    gate = threading.Event()
    body = b"".join(b"early line %06d\n" % i for i in range(4000)) + b"L" * 1000
    sorigin.script("/cs", headers=[("Cache-Control", "max-age=600"),
                                   ("Content-Type", "text/plain")], body=body, gate=gate)
    gatehouse(simple_http_config(port, [sorigin.addr], frontend_extra="compress gzip",
                                 backend_extra="use_cache main")
              + "cache main {\n    size 4m\n    max_object 256k\n}\n")
    socks = []
    try:
        leader = connect(port)
        leader.sendall(build_request("GET", "/cs", HOST))
        socks.append(leader)
        time.sleep(0.3)
        w = connect(port)
        w.sendall(build_request("GET", "/cs", ae("gzip")))
        socks.append(w)
        rd = Reader(w)
        r = rd.read_head()
        assert r.header("content-encoding") == "gzip"
        assert "collapsed" in (r.header("cache-status") or "")
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        got = b""
        deadline = time.monotonic() + 20 * ghutil.SLACK
        half = len(body) // 2
        while len(got) < half - 64 and time.monotonic() < deadline:
            line = rd.read_until(b"\r\n")
            size = int(line.split(b";")[0], 16)
            assert size, "the body ended before the origin sent its second half"
            got += d.decompress(rd.read_exact(size))
            rd.read_exact(2)
        assert got == body[:len(got)] and len(got) >= half - 64
        gate.set()
        rest = read_chunked(rd)
        assert got + d.decompress(rest) + d.flush() == body
    finally:
        gate.set()
        for s in socks:
            s.close()
