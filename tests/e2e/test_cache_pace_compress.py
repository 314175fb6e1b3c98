"""The response cache with compression, coalescing with a slow leader: a
response being stored is read from the origin at the origin's pace even
when it is compressed for the client that asked first (proxy/filter.h,
txn_relay_res stacked on compression's transform: that client is served
from the object, compressed as it reads, like a waiter in its coding).

The leader asks with Accept-Encoding: gzip and reads a few KiB every
100 ms (HTTP/1.1, a small receive buffer) or keeps its stream window
closed (HTTP/2), while 5 waiters (identity and gzip) read an 8 MiB body
whole.  What the leader gets decodes to the origin's body, with the head
compression gives a response that is not stored (Content-Encoding, Vary,
a weak ETag, no Content-Length).  No timing is asserted: on a build where
the leader's compression paces the fetch the waiters wait for the leader
and time out.
"""

import os
import threading
import zlib

import brotli
import zstandard

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import parallel, wait_for
from h2util import H2Client
from httpraw import Reader, build_request, connect, request
from test_cache import HOST, cache_block, get, status_of
from test_cache_orphan import reset
from test_cache_pace import PIECE, Body, SlowReader, read_rest, sha

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

GZ = HOST + [("Accept-Encoding", "gzip")]
HEADERS = [("Cache-Control", "max-age=60"), ("Content-Type", "text/plain"),
           ("ETag", '"v1"')]
BIG = 8 * 1024 * 1024


def text_of(n):
    """n bytes of text that gzip halves or so: the compressed body is still
    far more than the kernel's buffers to one client take."""
    return os.urandom((n + 1) // 2).hex().encode()[:n]


def gunzip(b):
    return zlib.decompress(b, 31)


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def decoder(coding):
    """A streaming decoder of coding: feed(bytes) -> the bytes decoded."""
    if coding == "gzip":
        return zlib.decompressobj(31).decompress
    if coding == "br":
        return brotli.Decompressor().process
    return zstandard.ZstdDecompressor().decompressobj().decompress


def start(gatehouse, port, origin, max_object="16m"):
    conf = ("global {\n    workers 1\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n    default_backend app\n}\n"
            "backend app {\n    mode http\n    use_cache main\n    compress gzip br zstd\n"
            "    server s1 %s\n}\n" % (port, origin.addr))
    return gatehouse(conf + cache_block(max_object=max_object, size="64m"))


def coded_head_ok(h):
    """The head compression gives: h(name) -> value or None."""
    assert h("content-encoding") == "gzip"
    assert h("content-length") is None
    assert "accept-encoding" in (h("vary") or "").lower()
    assert h("etag") == 'W/"v1"'


class SlowGzipReader(SlowReader):
    """SlowReader asking for gzip, to the body's end; `plain` is what it
    decoded so far."""

    def __init__(self, port, path):
        self.z = zlib.decompressobj(31)
        self.plain = bytearray()
        super().__init__(port, path, 1 << 40, GZ)   # (chunked: to its end)

    def seen(self, d):
        self.plain += self.z.decompress(d)

    def finish(self):
        super().finish()
        self.plain += self.z.flush()
        assert self.z.eof, "the leader's gzip stream did not end"
        return bytes(self.plain)


def join_waiters(port, path, ws, n, coded=0):
    """n waiters ask for path (the last `coded` of them in gzip) and read
    their heads (collapsed: they joined the fill); each goes into ws as
    (socket, Body), so the caller's `finally` closes them."""
    for i in range(n):
        s = connect(port, timeout=20 * ghutil.SLACK)
        ws.append((s, Reader(s)))
        s.sendall(build_request("GET", path, GZ if i >= n - coded else HOST))
    first = len(ws) - n

    def head(i):
        s, rd = ws[first + i]
        r = rd.read_head()
        assert r.status == 200 and "collapsed" in (r.header("cache-status") or "")
        if i >= n - coded:
            coded_head_ok(r.header)
        else:
            assert r.header("content-encoding") is None
        ws[first + i] = (s, Body(rd, r))
    parallel(n, head)


def waiters_read(port, path, body, g1):
    """5 waiters join the fill (3 identity, 2 gzip; their heads come with
    the first piece), then the origin sends the rest (g1): what each
    decoded."""
    ws = []
    try:
        join_waiters(port, path, ws, 5, coded=2)
        g1.set()

        def whole(i):
            if i < 3:
                return read_rest(ws[i][1], len(body))
            return gunzip(read_rest(ws[i][1], 1 << 40))   # chunked: to its end
        return parallel(5, whole)
    finally:
        g1.set()
        for s, _ in ws:
            s.close()


def uncached(port, sorigin, body):
    """The same body compressed for a response that is not stored: its
    head, decoded."""
    sorigin.script("/nostore", headers=[("Cache-Control", "no-store")] + HEADERS[1:], body=body)
    r = request(port, "GET", "/nostore", GZ, timeout=30 * ghutil.SLACK)
    assert r.status == 200
    coded_head_ok(r.header)
    assert gunzip(r.body) == body
    return r


def test_slow_gzip_leader_does_not_pace_its_waiters(gatehouse, port, sorigin):
    body = text_of(BIG + 777)
    g1 = threading.Event()
    sorigin.script("/z", headers=HEADERS, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    start(gatehouse, port, sorigin)
    leader = SlowGzipReader(port, "/z")
    try:
        wait_for(lambda: leader.head is not None, 10 * ghutil.SLACK, what="the leader's head")
        assert leader.head.status == 200
        assert "chunked" in (leader.head.header("transfer-encoding") or "")
        coded_head_ok(leader.head.header)
        got = waiters_read(port, "/z", body, g1)
        # every waiter has the whole body while the leader is still slow
        assert [sha(b) for b in got] == [sha(body)] * 5
        assert len(leader.plain) < len(body) // 2
    finally:
        plain = leader.finish()
    assert len(plain) == len(body) and sha(plain) == sha(body)
    assert sorigin.count("/z") == 1
    r = get(port, "/z")
    assert "hit" in status_of(r) and r.body == body
    uncached(port, sorigin, body)


def test_slow_http2_gzip_leader_does_not_pace_its_waiters(gatehouse, port, sorigin):
    body = text_of(BIG + 4321)
    g1 = threading.Event()
    sorigin.script("/z2", headers=HEADERS, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    start(gatehouse, port, sorigin)
    with H2Client(port, stream_window=16384, timeout=30 * ghutil.SLACK) as c:
        # the leader's window stays closed after 16 KiB: it reads nothing more
        sid = c.request("GET", "/z2", headers=[("accept-encoding", "gzip")],
                        authority="www.example.com", stalled=True)
        st = c.stream(sid)
        c.wait(lambda: st.status is not None, what="the leader's head")
        assert st.status == 200
        coded_head_ok(st.header)
        got = waiters_read(port, "/z2", body, g1)
        assert [sha(b) for b in got] == [sha(body)] * 5
        c.poll(0.05)
        assert st.data_len <= 16384 and not st.done
        c.unstall(sid)
        c.wait(lambda: st.done, what="the leader's whole body")
        assert st.status == 200 and st.ended and sha(gunzip(st.body)) == sha(body)
    assert sorigin.count("/z2") == 1
    assert "hit" in status_of(get(port, "/z2"))
    uncached(port, sorigin, body)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_coded_leader_gets_what_came_while_the_origin_stalls(gatehouse, port, sorigin, coding):
    # the origin sends a piece and stalls: the leader served from the
    # object gets all of it decoded (the compressor flushed), not once
    # more comes
    body = text_of(3 * PIECE + 5)
    g1 = threading.Event()
    sorigin.script("/s", headers=HEADERS, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    start(gatehouse, port, sorigin)
    s = connect(port, timeout=20 * ghutil.SLACK)
    try:
        s.sendall(build_request("GET", "/s", HOST + [("Accept-Encoding", coding)]))
        rd = Reader(s)
        h = rd.read_head()
        assert h.status == 200 and h.header("content-encoding") == coding
        assert h.header("content-length") is None
        b = Body(rd, h)
        feed = decoder(coding)
        plain = bytearray()
        wait_for(lambda: plain.extend(feed(b.read(1 << 20))) or len(plain) >= PIECE,
                 10 * ghutil.SLACK, what="the first piece decoded")
        assert bytes(plain) == body[:PIECE]
        g1.set()
        while True:
            d = b.read(1 << 20)
            if not d:
                break
            plain += feed(d)
        assert bytes(plain) == body
    finally:
        g1.set()
        s.close()
    assert sorigin.count("/s") == 1
    assert "hit" in status_of(get(port, "/s"))


def test_slow_gzip_leader_past_max_object_gets_every_byte(gatehouse, port, sorigin):
    # the object stops at max_object: the waiters are cut there, and the
    # leader, served from it compressed, then gets the rest through the
    # compressor at its own pace again
    body = text_of(12 * 1024 * 1024 + 99)
    g1 = threading.Event()
    sorigin.script("/m", headers=HEADERS, chunked=True,
                   pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    start(gatehouse, port, sorigin, max_object="8m")
    leader = SlowGzipReader(port, "/m")
    ws = []
    try:
        wait_for(lambda: leader.head is not None, 10 * ghutil.SLACK, what="the leader's head")
        coded_head_ok(leader.head.header)
        join_waiters(port, "/m", ws, 3)
        g1.set()
        got = parallel(3, lambda i: read_rest(ws[i][1], len(body)))
        # cut where the object stopped, never a wrong byte
        for g in got:
            assert len(g) >= 8 * 1024 * 1024 - PIECE and len(g) < len(body)
            assert g == body[:len(g)]
        assert len(leader.plain) < len(body) // 2
    finally:
        g1.set()
        for w, _ in ws:
            w.close()
        plain = leader.finish()
    assert len(plain) == len(body) and sha(plain) == sha(body)
    assert sorigin.count("/m") == 1


def test_gzip_leader_leaving_mid_body_leaves_the_fetch_to_its_waiters(gatehouse, port,
                                                                      sorigin):
    body = text_of(3 * PIECE + 777)
    g1 = threading.Event()
    sorigin.script("/o", headers=HEADERS, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    start(gatehouse, port, sorigin)
    leader = connect(port, timeout=20 * ghutil.SLACK)
    ws = []
    try:
        leader.sendall(build_request("GET", "/o", GZ))
        lrd = Reader(leader)
        h = lrd.read_head()
        coded_head_ok(h.header)
        assert Body(lrd, h).read(100)
        join_waiters(port, "/o", ws, 5)
        # the leader goes (a reset), then the rest comes
        reset(leader)
        g1.set()
        got = parallel(5, lambda i: read_rest(ws[i][1], len(body)))
        assert [sha(b) for b in got] == [sha(body)] * 5
    finally:
        g1.set()
        leader.close()
        for s, _ in ws:
            s.close()
    assert sorigin.count("/o") == 1
    wait_for(lambda: "hit" in status_of(get(port, "/o")), 10 * ghutil.SLACK, what="a hit")
    r = request(port, "GET", "/o", GZ)
    assert "hit" in status_of(r) and gunzip(r.body) == body
    assert sorigin.count("/o") == 1
