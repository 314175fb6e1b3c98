"""The response cache (issue 11), third part: request coalescing (N
concurrent misses, one origin request, the waiters streamed from it as
its bytes arrive; an uncacheable answer sends them all to the origin at
once), responses that fail mid-body or pass max_object (never stored, the
client still gets what the origin sent), and eviction keeping the
process's memory near `size`.
"""

import socket
import threading
import time

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from h2util import H2Client
from httpraw import Reader, build_request, connect, ProtocolError
from test_cache import HOST, get, start, status_of

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


@pytest.mark.parametrize("chunked,workers", [(False, 1), (True, 1), (False, 2)])
def test_100_concurrent_misses_make_one_origin_request(gatehouse, port, sorigin, chunked,
                                                       workers):
    # workers 2: the waiters are spread over both threads and read the
    # leader's object from the other one
    body = bytes((i * 31) & 0xff for i in range(300_000))
    sorigin.script("/hot", headers=[("Cache-Control", "max-age=60")], body=body, delay=0.5,
                   chunked=chunked)
    start(gatehouse, port, sorigin, max_object="1m", workers=workers)
    rs = ghutil.parallel(100, lambda i: get(port, "/hot"))
    assert sorigin.count("/hot") == 1
    assert all(r.status == 200 and r.body == body for r in rs)
    assert sum("collapsed" in status_of(r) for r in rs) >= 1
    assert "hit" in status_of(get(port, "/hot"))


def test_waiters_get_the_bytes_as_they_arrive(gatehouse, port, sorigin):
    gate = threading.Event()
    body = b"A" * 50_000 + b"B" * 50_000
    sorigin.script("/slow", headers=[("Cache-Control", "max-age=60")], body=body, gate=gate)
    start(gatehouse, port, sorigin)
    socks = []
    try:
        for _ in range(3):
            s = connect(port)
            s.sendall(build_request("GET", "/slow", HOST))
            socks.append(s)
            time.sleep(0.05)
        # while the origin holds its second half, every client already has
        # the head and the first half
        for s in socks:
            rd = Reader(s)
            r = rd.read_head()
            assert r.status == 200 and r.header("content-length") == str(len(body))
            assert rd.read_exact(50_000) == b"A" * 50_000
        assert sorigin.count("/slow") == 1
        gate.set()
        for s in socks:
            got = b""
            while len(got) < 50_000:
                d = s.recv(65536)
                assert d
                got += d
            assert got == b"B" * 50_000
    finally:
        gate.set()
        for s in socks:
            s.close()


def test_waiter_conditional_gets_304(gatehouse, port, sorigin):
    sorigin.script("/w304", headers=[("Cache-Control", "max-age=60"), ("ETag", '"w"')],
                   body=b"w" * 1000, delay=0.5)
    start(gatehouse, port, sorigin)
    rs = ghutil.parallel(6, lambda i: get(port, "/w304", [("If-None-Match", '"w"')] if i % 2 else []))
    assert sorigin.count("/w304") == 1
    assert sum("collapsed" in status_of(r) for r in rs) >= 1
    for i, r in enumerate(rs):
        if i % 2 and "stored" not in status_of(r):    # all but the one that fetched
            assert r.status == 304, status_of(r)
        else:
            assert r.status == 200 and r.body == b"w" * 1000


def test_uncacheable_answer_sends_the_waiters_to_the_origin_at_once(gatehouse, port, sorigin):
    arrived = threading.Barrier(10, timeout=15)

    def fn(req):
        if req.n == 1:    # the leader: slow, and not storable
            return {"headers": [("Cache-Control", "no-store")], "body": b"leader", "delay": 0.5}
        # every waiter is answered only once all ten are at the origin
        # together: serialised behind each other they never would be
        try:
            arrived.wait()
        except threading.BrokenBarrierError:
            return {"status": 500, "body": b"serialised"}
        return {"headers": [("Cache-Control", "no-store")], "body": b"own"}
    sorigin.script("/u", fn=fn)
    # 1 leader + 9 waiters that must reach the origin together (with the
    # first of them the barrier counts 10 once the leader's done: n >= 2)
    start(gatehouse, port, sorigin)
    first = threading.Thread(target=lambda: get(port, "/u"))
    first.start()
    time.sleep(0.1)
    rs = ghutil.parallel(10, lambda i: get(port, "/u"))
    first.join(20)
    assert all(r.status == 200 and r.body == b"own" for r in rs)
    assert sorigin.count("/u") == 11


def test_mid_body_failure_is_never_stored(gatehouse, port, sorigin):
    body = b"x" * 100_000
    sorigin.script("/mb", headers=[("Cache-Control", "max-age=60")], body=body,
                   fail_after=30_000)
    start(gatehouse, port, sorigin)
    with pytest.raises(ProtocolError):
        get(port, "/mb")
    sorigin.script("/mb", headers=[("Cache-Control", "max-age=60")], body=body)
    r = get(port, "/mb")
    assert r.body == body and "hit" not in status_of(r)
    assert sorigin.count("/mb") == 2
    assert "hit" in status_of(get(port, "/mb"))


def test_mid_body_failure_with_waiters(gatehouse, port, sorigin):
    body = b"y" * 100_000
    sorigin.script("/mbw", fn=lambda req: dict(
        headers=[("Cache-Control", "max-age=60")], body=body, delay=0.3,
        **({"fail_after": 20_000} if req.n == 1 else {})))
    start(gatehouse, port, sorigin)

    def one(i):
        try:
            return get(port, "/mbw").body
        except ProtocolError:
            return None
    rs = ghutil.parallel(5, one)
    # nobody got a short body presented as whole; the object is not stored
    assert all(b is None or b == body for b in rs)
    n = sorigin.count("/mbw")
    r = get(port, "/mbw")
    assert r.body == body
    assert sorigin.count("/mbw") in (n, n + 1)
    assert "hit" in status_of(get(port, "/mbw"))


def test_over_max_object_streams_through_uncached(gatehouse, port, sorigin):
    big = b"z" * 300_000
    sorigin.script("/cl", headers=[("Cache-Control", "max-age=60")], body=big)
    sorigin.script("/ch", headers=[("Cache-Control", "max-age=60")], body=big, chunked=True)
    start(gatehouse, port, sorigin, max_object="256k")
    for p in ("/cl", "/ch"):
        assert get(port, p).body == big
        r = get(port, p)
        assert r.body == big and "hit" not in status_of(r)
        assert sorigin.count(p) == 2


def test_eviction_keeps_memory_under_size(gatehouse, port, sorigin):
    body = bytes(range(256)) * 256         # 64 KiB
    sorigin.script("/obj", headers=[("Cache-Control", "max-age=600")], body=body)
    g = start(gatehouse, port, sorigin, size="4m", max_object="256k")
    for i in range(20):                    # warm up the allocator and buffers
        get(port, "/obj?w=%d" % i)
    base = g.rss_kib()
    s = connect(port)
    rd = Reader(s)
    try:
        for i in range(600):               # 38 MiB of distinct objects
            s.sendall(build_request("GET", "/obj?i=%d" % i, HOST))
            r = rd.read_response()
            assert r.body == body
    finally:
        s.close()
    grown = (g.rss_kib() - base) / 1024
    # (ASan keeps freed memory in quarantine: RSS says nothing there)
    if not ghutil.ASAN:
        assert grown < 4 + 12, "RSS grew %.1f MiB for a 4 MiB cache" % grown
    # the newest objects are still there, the oldest were evicted
    assert "hit" in status_of(get(port, "/obj?i=599"))
    assert "hit" not in status_of(get(port, "/obj?i=0"))


def test_coalescing_over_http2(gatehouse, port, sorigin):
    body = b"h2" * 40_000
    sorigin.script("/c2", headers=[("Cache-Control", "max-age=60")], body=body, delay=0.5)
    start(gatehouse, port, sorigin)
    with H2Client(port) as c:
        sids = [c.request("GET", "/c2", authority="www.example.com") for _ in range(10)]
        streams = [c.response(sid, 20) for sid in sids]
    assert all(st.status == 200 and st.body == body for st in streams)
    assert sorigin.count("/c2") == 1


@pytest.mark.parametrize("cut", [0, 1, 4096, 99_999])
@pytest.mark.parametrize("chunked", [False, True])
def test_origin_closing_at_any_point_is_never_cached(gatehouse, port, sorigin, cut, chunked):
    body = bytes((i * 3) & 0xff for i in range(100_000))
    sorigin.script("/cut", headers=[("Cache-Control", "max-age=60")], body=body,
                   fail_after=cut, chunked=chunked)
    start(gatehouse, port, sorigin)
    try:
        r = get(port, "/cut")
        assert r.body != body        # never a whole body made up from a cut one
    except ProtocolError:
        pass
    sorigin.script("/cut", headers=[("Cache-Control", "max-age=60")], body=body)
    r = get(port, "/cut")
    assert r.status == 200 and r.body == body and "hit" not in status_of(r)
    assert "hit" in status_of(get(port, "/cut"))
    assert sorigin.count("/cut") == 2


# ---- hits sent in place (proxy/local.h, local_send_ext): the head and the
# object's chunks leave in one sendmsg; a slow client takes them in many
# partial writes, and the object stays whole while it is read even when a
# purge unlinks it meanwhile ----

def slow_client(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    return s


def test_a_slow_client_gets_a_large_hit_whole_across_a_purge(gatehouse, port, sorigin):
    # larger than the kernel's largest send buffer (tcp_wmem 4 MiB): the
    # client still reads while the purge unlinks the object
    n = 6 * 1024 * 1024
    body = bytes((i * 7 + (i >> 12)) & 0xff for i in range(n))
    sorigin.script("/big", headers=[("Cache-Control", "max-age=60")], body=body)
    start(gatehouse, port, sorigin, extra="purge_from 127.0.0.0/8", max_object="8m",
          size="64m")
    assert get(port, "/big").body == body           # the miss stores it
    s = slow_client(port)
    try:
        s.sendall(build_request("GET", "/big", HOST))
        rd = Reader(s)
        r = rd.read_head()
        assert r.status == 200 and "hit" in status_of(r)
        assert r.header("content-length") == str(n)
        got = bytearray()
        while len(got) < 200_000:                    # slowly: many partial writes
            got += rd.read_exact(min(8192, 200_000 - len(got)))
            time.sleep(0.002)
        # unlinked while this client still reads it: the reference keeps it
        assert get(port, "/big", method="PURGE").status == 200
        got += rd.read_exact(n - len(got))
        assert bytes(got) == body
        # the same connection: a miss (purged) stored again, then a hit's
        # range; each head followed by its body
        s.sendall(build_request("GET", "/big", HOST)
                  + build_request("GET", "/big", HOST + [("Range", "bytes=100000-300000")]))
        r2 = rd.read_head()
        assert r2.status == 200 and "fwd=miss" in status_of(r2), status_of(r2)
        assert rd.read_exact(n) == body
        r3 = rd.read_head()
        assert r3.status == 206 and r3.header("content-range") == "bytes 100000-300000/%d" % n
        assert rd.read_exact(200_001) == body[100000:300001]
    finally:
        s.close()
    r = get(port, "/big")
    assert "hit" in status_of(r) and r.body == body
    assert sorigin.count("/big") == 2


def test_empty_and_small_hits_keep_the_connection(gatehouse, port, sorigin):
    sorigin.script("/empty", headers=[("Cache-Control", "max-age=60")], body=b"")
    sorigin.script("/small", headers=[("Cache-Control", "max-age=60")], body=b"s" * 10)
    start(gatehouse, port, sorigin)
    assert get(port, "/empty").status == 200 and get(port, "/small").body == b"s" * 10
    s = connect(port)
    try:
        s.sendall(b"".join(build_request("GET", p, HOST) for p in
                           ("/empty", "/small", "/empty", "/small")))
        rd = Reader(s)
        for p in ("/empty", "/small", "/empty", "/small"):
            r = rd.read_head()
            assert r.status == 200 and "hit" in status_of(r), (p, status_of(r))
            n = int(r.header("content-length"))
            assert n == (0 if p == "/empty" else 10)
            assert rd.read_exact(n) == (b"" if p == "/empty" else b"s" * 10)
    finally:
        s.close()
    assert sorigin.count("/empty") == 1 and sorigin.count("/small") == 1
