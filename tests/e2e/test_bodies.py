"""Message bodies: chunked both ways, huge streamed bodies with bounded
memory, backpressure in both directions, bodiless responses, 100-continue."""

import hashlib
import random
import re
import select
import socket
import time

import pytest

import httpraw
from ghutil import ASAN, MiB, SLACK, RssSampler, simple_http_config, wait_for
from origins import PATTERN_VIEW, expected_bytes

# Big-body sizes and memory bounds (ASan builds are slow and memory-hungry).
# The suite streams bodies several times the RSS bound (so a proxy that
# buffered them would fail it); the 1 GiB transfers and the 512 MiB
# backpressure pair are soak tests (make soak).
RSS_BOUND_MIB = 128 if ASAN else 64
BIG = (256 if ASAN else 1024) * MiB
SMALL_BIG = 256 * MiB
BACKPRESSURE_SIZE = (256 if ASAN else 512) * MiB
SMALL_BACKPRESSURE = 256 * MiB
# Bytes that may sit in kernel socket buffers (loopback autotuning lets a
# receive buffer grow to tcp_rmem max, 32 MiB here) plus the proxy's own
# buffers; anything near the full transfer size means no backpressure.
IN_FLIGHT_BOUND = 128 * MiB


def _sizes(small, big):
    """The suite's size and the soak one (when they differ)."""
    ps = [pytest.param(small, id="%dMiB" % (small // MiB))]
    if big != small:
        ps.append(pytest.param(big, id="%dMiB" % (big // MiB), marks=pytest.mark.soak))
    return ps

CHUNK_LINE = re.compile(r"^[0-9a-fA-F]+$")


def _cfg(port, origin, **kw):
    return simple_http_config(port, [origin.addr], **kw)


def _warm_up(port):
    """One request so that lazily allocated buffers and pools are part of
    the RSS baseline."""
    r = httpraw.request(port, "POST", "/echo", body=b"w" * 100000)
    assert r.status == 200


def _send_pattern(s, n):
    pos = 0
    while pos < n:
        start = pos % MiB
        k = min(n - pos, MiB - start)
        s.sendall(PATTERN_VIEW[start:start + k])
        pos += k


# ---- chunked --------------------------------------------------------------------

def test_chunked_request_extensions_stripped_trailers_forwarded(gatehouse, origin, port):
    gatehouse(_cfg(port, origin))
    big = b"w" * 5000
    body = (b"5;ext=1\r\nhello\r\n"
            b"1;a=b;c=\"d e\"\r\n \r\n"
            b"%x\r\n%s\r\n" % (len(big), big)
            + b"0;last\r\nX-Trailer-A: yes\r\n\r\n")
    head = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n")
    s = httpraw.connect(port)
    try:
        s.sendall(head + body)
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    j = r.json()
    payload = b"hello " + big
    assert j["body_len"] == len(payload)
    assert j["body_sha256"] == hashlib.sha256(payload).hexdigest()
    te = [v.lower() for k, v in j["headers"] if k.lower() == "transfer-encoding"]
    assert te == ["chunked"], "origin saw Transfer-Encoding %r" % te
    for line in j["chunk_lines"]:
        assert CHUNK_LINE.match(line), "chunk-size line %r forwarded with extension" % line
    assert ["x-trailer-a", "yes"] in [[k.lower(), v] for k, v in j["trailers"]], \
        "trailer not forwarded: %r" % j["trailers"]


def test_chunked_response_extensions_stripped_trailers_forwarded(gatehouse, origin, port):
    gatehouse(_cfg(port, origin))
    r = httpraw.request(port, "GET", "/chunked/10000?chunk=3000&ext=1&trailer=1")
    assert r.status == 200
    assert r.framing == "chunked"
    assert r.body == expected_bytes(10000)
    for line in r.chunk_lines:
        assert CHUNK_LINE.match(line), "chunk-size line %r forwarded with extension" % line
    assert ("x-trailer", "done") in [(k.lower(), v) for k, v in r.trailers], \
        "trailer not forwarded: %r" % r.trailers


def test_chunked_request_random_chunks(gatehouse, origin, port):
    gatehouse(_cfg(port, origin))
    rnd = random.Random(1234)
    payload = rnd.randbytes(8 * MiB)
    s = httpraw.connect(port)
    try:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        pos = 0
        while pos < len(payload):
            k = min(rnd.choice([1, 7, 100, 4096, 65536, 300000]), len(payload) - pos)
            s.sendall(b"%X\r\n" % k + payload[pos:pos + k] + b"\r\n")
            pos += k
        s.sendall(b"0\r\n\r\n")
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    j = r.json()
    assert j["body_len"] == len(payload)
    assert j["body_sha256"] == hashlib.sha256(payload).hexdigest()


def test_chunked_request_split_in_tiny_writes(gatehouse, origin, port):
    """Every byte of head and chunked body in its own segment."""
    gatehouse(_cfg(port, origin))
    data = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
    s = httpraw.connect(port)
    try:
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
            time.sleep(0.001)
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.json()["body_sha256"] == hashlib.sha256(b"abc0123456789abcdef").hexdigest()


def test_close_delimited_response(gatehouse, origin, port):
    gatehouse(_cfg(port, origin))
    r = httpraw.request(port, "GET", "/close/200000")
    assert r.status == 200
    assert r.body == expected_bytes(200000)


# ---- huge bodies, bounded memory ------------------------------------------------------

@pytest.mark.parametrize("size", _sizes(SMALL_BIG, BIG))
def test_huge_request_body_streamed(gatehouse, origin, port, size):
    g = gatehouse(_cfg(port, origin))
    _warm_up(port)
    s = httpraw.connect(port, timeout=60)
    try:
        with RssSampler(g.pid) as rss:
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            _send_pattern(s, size)
            r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["body_len"] == size
    assert rss.growth_mib < RSS_BOUND_MIB, \
        "RSS grew %.1f MiB while streaming a %d MiB request body" % (rss.growth_mib, size // MiB)


@pytest.mark.parametrize("size", _sizes(SMALL_BIG, BIG))
def test_huge_response_body_streamed(gatehouse, origin, port, size):
    g = gatehouse(_cfg(port, origin))
    _warm_up(port)
    s = httpraw.connect(port, timeout=60)
    try:
        with RssSampler(g.pid) as rss:
            s.sendall(httpraw.build_request("GET", "/bytes/%d" % size))
            r = httpraw.Reader(s).read_response(keep_body=False)
    finally:
        s.close()
    assert r.status == 200
    assert r.body_len == size
    assert rss.growth_mib < RSS_BOUND_MIB, \
        "RSS grew %.1f MiB while streaming a %d MiB response" % (rss.growth_mib, size // MiB)


@pytest.mark.parametrize("size", _sizes(SMALL_BIG, BIG))
def test_huge_chunked_response_streamed(gatehouse, origin, port, size):
    g = gatehouse(_cfg(port, origin))
    _warm_up(port)
    s = httpraw.connect(port, timeout=60)
    try:
        with RssSampler(g.pid) as rss:
            s.sendall(httpraw.build_request("GET", "/chunked/%d" % size))
            r = httpraw.Reader(s).read_response(keep_body=False)
    finally:
        s.close()
    assert r.body_len == size
    assert rss.growth_mib < RSS_BOUND_MIB


def _stable(counter, settle=0.5, timeout=10.0):
    """Waits until counter() stops changing for `settle` seconds."""
    deadline = time.monotonic() + timeout
    last = counter()
    t_last = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        v = counter()
        if v != last:
            last, t_last = v, time.monotonic()
        elif time.monotonic() - t_last >= settle:
            return v
    raise AssertionError("counter never settled (still moving at %d)" % last)


@pytest.mark.parametrize("size", _sizes(SMALL_BACKPRESSURE, BACKPRESSURE_SIZE))
def test_slow_reader_backpressure(gatehouse, origin, port, size):
    """The client stops reading: gatehouse must stop reading from the
    origin (whose send then blocks) instead of buffering the response."""
    g = gatehouse(_cfg(port, origin))
    _warm_up(port)
    s = httpraw.connect(port, timeout=60, rcvbuf=64 * 1024)
    try:
        with RssSampler(g.pid) as rss:
            s.sendall(httpraw.build_request("GET", "/bytes/%d" % size))
            rd = httpraw.Reader(s)
            r = rd.read_head()
            assert r.status == 200
            sent = _stable(lambda: origin.stats.bytes_out)
            assert sent < IN_FLIGHT_BOUND, \
                "origin sent %d MiB of %d MiB to a client that reads nothing" % (
                    sent // MiB, size // MiB)
            held_mib = rss.growth_mib
            # Now read everything: the stream resumes and completes.
            got = len(rd.buf)
            rd.buf.clear()
            buf = bytearray(MiB)
            while got < size:
                k = s.recv_into(buf)
                assert k, "connection closed after %d of %d bytes" % (got, size)
                got += k
    finally:
        s.close()
    assert got == size
    assert held_mib < RSS_BOUND_MIB, "RSS grew %.1f MiB with a stalled reader" % held_mib
    assert rss.growth_mib < RSS_BOUND_MIB


@pytest.mark.parametrize("size", _sizes(SMALL_BACKPRESSURE, BACKPRESSURE_SIZE))
def test_slow_origin_reader_backpressure(gatehouse, origin, port, size):
    """The origin does not read the request body: gatehouse must stop
    reading from the client (whose send then blocks)."""
    g = gatehouse(_cfg(port, origin))
    _warm_up(port)
    s = httpraw.connect(port, timeout=60, sndbuf=64 * 1024)
    try:
        with RssSampler(g.pid) as rss:
            s.sendall(b"POST /echo?hold=1 HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            s.setblocking(False)
            pos = 0
            while pos < size:
                start = pos % MiB
                try:
                    k = s.send(PATTERN_VIEW[start:start + min(size - pos, MiB - start)])
                    pos += k
                    continue
                except BlockingIOError:
                    pass
                _, w, _ = select.select([], [s], [], 0.5 * SLACK)
                if not w:
                    break           # blocked for a while: backpressure works
            assert pos < IN_FLIGHT_BOUND, \
                "client could send %d MiB of %d MiB while the origin read nothing" % (
                    pos // MiB, size // MiB)
            held_mib = rss.growth_mib
            origin.release()
            s.setblocking(True)
            s.settimeout(60)
            while pos < size:
                start = pos % MiB
                k = min(size - pos, MiB - start)
                s.sendall(PATTERN_VIEW[start:start + k])
                pos += k
            r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["body_len"] == size
    assert held_mib < RSS_BOUND_MIB, "RSS grew %.1f MiB with a stalled origin" % held_mib


# ---- responses without a body ----------------------------------------------------------

@pytest.mark.parametrize("path", ["/bytes/1000", "/chunked/1000", "/echo"])
def test_head_has_no_body(gatehouse, origin, port, path):
    gatehouse(_cfg(port, origin))
    s = httpraw.connect(port, timeout=5)
    rd = httpraw.Reader(s)
    try:
        s.sendall(httpraw.build_request("HEAD", path))
        r = rd.read_response("HEAD")
        assert r.status == 200
        if path == "/bytes/1000":
            assert r.header("content-length") == "1000"
        # Whatever comes next must be the next response, not body bytes.
        s.sendall(httpraw.build_request("GET", "/echo?after=head"))
        r2 = rd.read_response()
        assert r2.json()["target"] == "/echo?after=head"
    finally:
        s.close()


@pytest.mark.parametrize("path", ["/status/204", "/status/304", "/status/304?cl=100"])
def test_204_304_have_no_body(gatehouse, origin, port, path):
    gatehouse(_cfg(port, origin, backend_extra="timeout server 5s"))
    s = httpraw.connect(port, timeout=5)
    rd = httpraw.Reader(s)
    try:
        t0 = time.monotonic()
        s.sendall(httpraw.build_request("GET", path))
        r = rd.read_response()
        assert r.status == int(path.split("/")[2][:3])
        assert time.monotonic() - t0 < 2 * SLACK, "bodiless response was delayed"
        assert not r.has("transfer-encoding")
        s.sendall(httpraw.build_request("GET", "/echo?after=nobody"))
        assert rd.read_response().json()["target"] == "/echo?after=nobody"
    finally:
        s.close()


# ---- Expect: 100-continue ------------------------------------------------------------------

def test_expect_100_continue(gatehouse, origin, port):
    gatehouse(_cfg(port, origin))
    body = b"b" * 1000
    s = httpraw.connect(port, timeout=3 * SLACK)
    rd = httpraw.Reader(s)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        interim = rd.read_response(allow_interim=True)
        assert interim.status == 100, "expected 100 Continue before sending the body, got %r" % interim
        s.sendall(body)
        r = rd.read_response()
        assert r.status == 200
        assert r.json()["body_len"] == 1000
        # The connection stays usable.
        s.sendall(httpraw.build_request("GET", "/echo?after=continue"))
        assert rd.read_response().json()["target"] == "/echo?after=continue"
    finally:
        s.close()


def test_client_abort_mid_upload(gatehouse, origin, port):
    """A client that disconnects halfway through a body: the origin side is
    closed too, and the proxy keeps serving."""
    gatehouse(_cfg(port, origin))
    s = httpraw.connect(port)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (8 * MiB))
    _send_pattern(s, 2 * MiB)
    wait_for(lambda: origin.stats.heads == 1, 5, what="head at the origin")
    s.close()
    wait_for(lambda: origin.stats.open_conns == 0, 5 * SLACK,
             what="origin connection of the aborted upload to close")
    assert len(origin.stats.requests) == 0
    r = httpraw.request(port, "POST", "/echo", body=b"z" * 1000)
    assert r.status == 200 and r.json()["body_len"] == 1000


def test_origin_answers_before_reading_body(gatehouse, origin, port):
    """The origin refuses an upload without reading it (403 + close): the
    client still gets the 403, not a reset."""
    gatehouse(_cfg(port, origin))
    s = httpraw.connect(port, timeout=10 * SLACK)
    size = 8 * MiB

    def upload():
        try:
            s.sendall(b"POST /reject_early HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            _send_pattern(s, size)
        except OSError:
            pass      # the proxy may stop reading once the answer is known

    import threading
    t = threading.Thread(target=upload)
    t.start()
    try:
        r = httpraw.Reader(s).read_response()
    except ConnectionResetError:
        pytest.fail("connection reset instead of the origin's 403")
    finally:
        t.join(20 * SLACK)
        s.close()
    assert r.status == 403 and r.body == b"nope\n"


def test_full_duplex_body_streaming(gatehouse, origin, port):
    """The origin streams the response while the request body is still
    arriving; a proxy that only reads the response after the whole request
    deadlocks here."""
    gatehouse(_cfg(port, origin))
    size = 32 * MiB
    s = httpraw.connect(port, timeout=10 * SLACK)
    err = []

    def upload():
        try:
            s.sendall(b"POST /duplex HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
            _send_pattern(s, size)
        except OSError as e:
            err.append(e)

    import threading
    t = threading.Thread(target=upload)
    t.start()
    try:
        rd = httpraw.Reader(s)
        r = rd.read_head()
        assert r.status == 200
        h = hashlib.sha256()
        got = 0
        while True:
            line = rd.read_until(b"\r\n")
            k = int(line[:-2], 16)
            if k == 0:
                rd.read_until(b"\r\n")
                break
            h.update(rd.read_exact(k))
            rd.read_exact(2)
            got += k
    finally:
        t.join(20 * SLACK)
        s.close()
    assert not err, err
    assert got == size
    assert h.hexdigest() == hashlib.sha256(expected_bytes(size)).hexdigest()


def test_response_streamed_not_buffered(gatehouse, origin, port):
    """A slowly produced body reaches the client as it is produced."""
    gatehouse(_cfg(port, origin))
    s = httpraw.connect(port, timeout=10 * SLACK)
    try:
        t0 = time.monotonic()
        s.sendall(httpraw.build_request("GET", "/drip/20?interval_ms=50"))
        rd = httpraw.Reader(s)
        r = rd.read_head()
        assert r.status == 200
        first = rd.read_exact(10)
        t_first = time.monotonic() - t0
        rest = rd.read_exact(190)
        t_all = time.monotonic() - t0
    finally:
        s.close()
    assert first == b"000000000\n" and rest.endswith(b"000000019\n")
    assert t_first < 0.4 * t_all, "first body byte after %.2fs of %.2fs: buffered" % (t_first, t_all)
