"""Slow uploads (issue 10): `timeout body DURATION` and `min_body_rate
RATE/s [grace DURATION]` on a frontend.

The request body's clock runs only while gatehouse waits on the client: a
trickling body is answered 408 (Connection: close) and its partial request
never completes at the origin, whatever the client codec (HTTP/1.1 with
Content-Length or chunked, HTTP/2 DATA); a body that keeps the rate passes;
a fast client held back by a slow or stalled origin (backpressure) is never
cut.  Lower bounds on timing are strict, upper bounds generous (SLACK).
"""

import json
import select
import socket
import threading
import time

import pytest

import ghutil
import httpraw
from ghutil import SLACK, backend_block, frontend_block, global_block, wait_for
from h2util import H2Client
from origins import MiB, PATTERN_VIEW

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="gatehouse's own directives and log format")


def _config(port, origin, fe_extra, be_extra="", log=None):
    fe = "timeout client 30s\n" + fe_extra
    if log:
        fe += "\naccess_log %s format json" % log
    return (global_block(1) + frontend_block(port, "app", "http", fe)
            + backend_block("app", [origin.addr], "http", "timeout server 30s\n" + be_extra))


def _log_terms(path, n):
    def ready():
        try:
            with open(path, "rb") as f:
                lines = [l for l in f.read().split(b"\n") if l]
        except FileNotFoundError:
            return None
        return lines if len(lines) >= n else None
    return [json.loads(l)["term"] for l in wait_for(ready, 5 * SLACK, what="access log lines")]


def _trickle(s, pieces, interval, limit):
    """Sends pieces one by one, interval apart, until the proxy answers or
    closes; returns (bytes received, seconds from the first piece to the
    first byte back or the close, pieces sent)."""
    got = bytearray()
    t0 = time.monotonic()
    sent = 0
    for p in pieces:
        if time.monotonic() - t0 > limit:
            break
        try:
            s.sendall(p)
        except (BrokenPipeError, ConnectionResetError):
            return bytes(got), time.monotonic() - t0, sent
        sent += 1
        r, _, _ = select.select([s], [], [], interval)
        if r:
            took = time.monotonic() - t0
            try:
                d = s.recv(65536)
            except ConnectionError:
                d = b""
            got += d
            if d:
                rest, _ = httpraw.drain(s, 2 * SLACK)
                got += rest
            return bytes(got), took, sent
    return bytes(got), None, sent


# ---- HTTP/1.1 -------------------------------------------------------------------------

def test_trickling_body_cut_by_timeout_body(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    g = gatehouse(_config(port, origin, "timeout body 1s", log=log))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        got, took, sent = _trickle(s, [b"x" * 5] * 200, 0.1, 6 * SLACK)
    finally:
        s.close()
    assert took is not None, "trickling upload never cut"
    assert took >= 0.9, "cut after %.2fs with timeout body 1s" % took
    assert took < 1.0 + 1.5 * SLACK, "cut after %.2fs with timeout body 1s" % took
    assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    head = got.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nconnection: close" in head
    assert origin.stats.requests == []          # never a complete request
    assert _log_terms(log, 1) == ["body-timeout"]
    assert "timeout body" in g.stderr_text()


def test_slow_body_cut_by_min_body_rate(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(_config(port, origin, "min_body_rate 10k/s grace 1s", log=log))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        # 1000 bytes every 100 ms: 10,000 B/s, under 10k/s (10,240)
        got, took, _ = _trickle(s, [b"y" * 1000] * 100, 0.1, 8 * SLACK)
    finally:
        s.close()
    assert took is not None, "slow upload never cut"
    assert took >= 0.9, "cut after %.2fs, inside the 1s grace" % took
    assert took < 3.0 + 1.5 * SLACK, "cut after %.2fs" % took
    assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    assert origin.stats.requests == []
    assert _log_terms(log, 1) == ["slow-body"]


def test_chunked_trickle_cut(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(_config(port, origin, "timeout body 1s", log=log))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        got, took, _ = _trickle(s, [b"3\r\nabc\r\n"] * 200, 0.1, 6 * SLACK)
    finally:
        s.close()
    assert took is not None, "trickling chunked upload never cut"
    assert 0.9 <= took < 1.0 + 1.5 * SLACK, "cut after %.2fs" % took
    assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    assert origin.stats.requests == []
    assert _log_terms(log, 1) == ["body-timeout"]


def test_body_at_the_rate_passes(gatehouse, origin, port):
    """20 KB/s for 2 s against min_body_rate 10k/s and timeout body 5s."""
    gatehouse(_config(port, origin, "timeout body 5s\nmin_body_rate 10k/s grace 500ms"))
    n, piece = 40000, 2000
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % n)
        for _ in range(n // piece):
            s.sendall(b"z" * piece)
            time.sleep(0.1)
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["body_len"] == n


def test_chunked_body_at_the_rate_passes(gatehouse, origin, port):
    gatehouse(_config(port, origin, "timeout body 5s\nmin_body_rate 5k/s grace 500ms"))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(15):
            s.sendall(b"7d0\r\n" + b"c" * 2000 + b"\r\n")
            time.sleep(0.1)
        s.sendall(b"0\r\n\r\n")
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["body_len"] == 30000


def _upload_fast(port, target, size, release=None, release_after=None):
    """Sends a Content-Length body of size bytes as fast as the proxy takes
    it (blocking sends: the client waits when the proxy pushes back);
    returns (response, seconds until the response came)."""
    s = httpraw.connect(port, timeout=60, sndbuf=64 * 1024)
    timer = None
    if release is not None:
        timer = threading.Timer(release_after, release)
        timer.start()
    try:
        t0 = time.monotonic()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                  % (target.encode(), size))
        pos = 0
        while pos < size:
            start = pos % MiB
            k = min(size - pos, MiB - start, 64 * 1024)
            s.sendall(PATTERN_VIEW[start:start + k])
            pos += k
        r = httpraw.Reader(s).read_response()
        took = time.monotonic() - t0
    finally:
        if timer:
            timer.cancel()
        s.close()
    return r, took


def test_stalled_origin_does_not_make_client_slow(gatehouse, origin, port):
    """The origin reads nothing for 2.5 s: the client's sends block on a
    full proxy buffer (backpressure); neither timeout body 1s nor the rate
    may count that against the client."""
    gatehouse(_config(port, origin, "timeout body 1s\nmin_body_rate 256k/s grace 300ms"))
    size = 8 * MiB
    r, took = _upload_fast(port, "/echo?hold=1", size, origin.release, 2.5)
    assert took >= 2.0, "the upload was not held back (%.2fs): the test proves nothing" % took
    assert r.status == 200, r
    assert r.json()["body_len"] == size


def test_slow_reading_origin_does_not_make_client_slow(gatehouse, origin, port):
    """The origin reads 64 KiB every 20 ms (~3 MB/s): an 8 MiB upload takes
    over 2 s, most of it with the client waiting on the proxy (and the
    socket buffers in between full)."""
    gatehouse(_config(port, origin, "timeout body 1s\nmin_body_rate 8m/s grace 300ms"))
    size = 8 * MiB
    r, took = _upload_fast(port, "/echo?read_delay=20&read_chunk=65536", size)
    assert took >= 1.5, "the upload was not held back (%.2fs)" % took
    assert r.status == 200, r
    assert r.json()["body_len"] == size


def test_expect_continue_wait_is_not_the_clients(gatehouse, make_origin, port):
    """A client waiting for our 100 Continue while the only server slot is
    busy (queue) is not slow: its clock starts when the 100 goes out."""
    o = make_origin()
    cfg = (global_block(1)
           + frontend_block(port, "app", "http", "timeout client 30s\ntimeout body 1s")
           + "backend app {\n    mode http\n    timeout server 30s\n    timeout queue 10s\n"
             "    server s1 %s maxconn 1\n}\n" % o.addr)
    gatehouse(cfg)
    busy = httpraw.connect(port)
    s = httpraw.connect(port)
    try:
        busy.sendall(httpraw.build_request("GET", "/delay/1800"))
        wait_for(lambda: o.stats.delaying, 5 * SLACK, what="the slot taken")
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        rd = httpraw.Reader(s)
        head = rd.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 100"), head
        s.sendall(b"body")
        r = rd.read_response()
        assert httpraw.Reader(busy).read_response().status == 200
    finally:
        s.close()
        busy.close()
    assert r.status == 200
    assert r.json()["body_len"] == 4


def test_server_connection_with_part_of_the_body_is_closed(gatehouse, origin, port):
    """The origin got the head and part of the body when the client went
    quiet: after the 408 its connection is closed, never reused."""
    gatehouse(_config(port, origin, "timeout body 1s"))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        wait_for(lambda: origin.stats.heads == 1, 5 * SLACK, what="the head at the origin")
        got, closed = httpraw.drain(s, 6 * SLACK)
    finally:
        s.close()
    assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    assert closed
    wait_for(lambda: origin.stats.open_conns == 0, 5 * SLACK,
             what="the origin connection closed")
    assert origin.stats.requests == []
    r = httpraw.request(port, "GET", "/echo")
    assert r.status == 200
    assert origin.stats.accepts == 2


def test_body_dragged_out_after_a_deny_is_cut(gatehouse, origin, port):
    """A deny answers at once and keeps the connection if the body can be
    read and dropped; a client that drags that body out is still cut."""
    gatehouse(_config(port, origin, "timeout body 1s\nhttp_request deny if path prefix /deny"))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /deny HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        rd = httpraw.Reader(s)
        r = rd.read_response()
        assert r.status == 403
        t0 = time.monotonic()
        cut = None
        while time.monotonic() - t0 < 6 * SLACK:
            try:
                s.sendall(b"x" * 5)
            except (BrokenPipeError, ConnectionResetError):
                cut = time.monotonic() - t0
                break
            rr, _, _ = select.select([s], [], [], 0.1)
            if rr:
                try:
                    d = s.recv(65536)
                except ConnectionError:
                    d = b""
                if not d:
                    cut = time.monotonic() - t0
                    break
    finally:
        s.close()
    assert cut is not None, "a dragged-out body after a deny was never cut"
    assert cut < 1.0 + 1.5 * SLACK
    assert origin.stats.requests == []


def test_trickle_cut_after_the_response_started(gatehouse, origin, port, tmp_path):
    """The origin answers while the body arrives (/duplex): once its head
    went to the client there is no 408 to give, the connection is cut."""
    log = tmp_path / "access.json"
    gatehouse(_config(port, origin, "timeout body 1s", log=log))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /duplex HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        t0 = time.monotonic()
        got = bytearray()
        cut = None
        next_send = t0
        while time.monotonic() - t0 < 6 * SLACK:
            if time.monotonic() >= next_send:   # 5 bytes every 100 ms, whatever comes back
                next_send += 0.1
                try:
                    s.sendall(b"d" * 5)
                except (BrokenPipeError, ConnectionResetError):
                    cut = time.monotonic() - t0
                    break
            rr, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
            if rr:
                try:
                    d = s.recv(65536)
                except ConnectionError:
                    d = b""
                if not d:
                    cut = time.monotonic() - t0
                    break
                got += d
    finally:
        s.close()
    assert got.startswith(b"HTTP/1.1 200 "), bytes(got[:80])
    assert cut is not None, "never cut"
    assert 0.9 <= cut < 1.0 + 1.5 * SLACK, "cut after %.2fs" % cut
    assert not got.endswith(b"0\r\n\r\n")       # the response never ended
    assert _log_terms(log, 1) == ["body-timeout"]


# ---- HTTP/2 -------------------------------------------------------------------------------

def test_h2_trickle_cut_on_its_stream(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(_config(port, origin, "timeout body 1s", log=log))
    with H2Client(port) as c:
        sid = c.request("POST", "/echo", [("content-length", "1000")], end_stream=False)
        t0 = time.monotonic()
        took = None
        while time.monotonic() - t0 < 6 * SLACK:
            if c.stream(sid).status is not None or c.stream(sid).done:
                took = time.monotonic() - t0
                break
            c.send_data(sid, b"x" * 5)
            c.poll(0.1)
        assert took is not None, "trickling h2 upload never cut: %s" % c.summary()
        assert 0.9 <= took < 1.0 + 1.5 * SLACK, "cut after %.2fs" % took
        st = c.response(sid)
        assert st.status == 408, st
        # the connection and its other streams go on
        ok = c.get("/echo")
        assert ok.status == 200
    assert origin.stats.requests[-1]["method"] == "GET"
    assert len(origin.stats.requests) == 1
    assert _log_terms(log, 2)[0] == "body-timeout"


def test_h2_trickle_reset_after_the_response_started(gatehouse, origin, port):
    gatehouse(_config(port, origin, "timeout body 1s"))
    with H2Client(port) as c:
        sid = c.request("POST", "/duplex", [("content-length", "1000")], end_stream=False)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6 * SLACK and not c.stream(sid).done:
            c.send_data(sid, b"d" * 5)
            c.poll(0.1)
        st = c.stream(sid)
        took = time.monotonic() - t0
        assert st.status == 200, st
        assert st.reset is not None, "not reset: %r" % st
        assert 0.9 <= took < 1.0 + 1.5 * SLACK, "reset after %.2fs" % took
        assert c.get("/echo").status == 200    # the connection goes on


def test_h2_slow_body_cut_by_rate(gatehouse, origin, port):
    gatehouse(_config(port, origin, "min_body_rate 20k/s grace 1s"))
    with H2Client(port) as c:
        sid = c.request("POST", "/echo", [("content-length", "1000000")], end_stream=False)
        t0 = time.monotonic()
        took = None
        while time.monotonic() - t0 < 8 * SLACK:
            if c.stream(sid).status is not None or c.stream(sid).done:
                took = time.monotonic() - t0
                break
            c.send_data(sid, b"x" * 1000)     # 10 KB/s
            c.poll(0.1)
        assert took is not None, "slow h2 upload never cut"
        assert took >= 0.9, "cut after %.2fs, inside the grace" % took
        assert c.response(sid).status == 408
    assert origin.stats.requests == []


def test_h2_upload_to_stalled_origin_not_cut(gatehouse, origin, port):
    """HTTP/2 backpressure: the stream's window stays closed while the origin
    reads nothing; the client waits on the proxy, not the other way round."""
    gatehouse(_config(port, origin, "timeout body 1s\nmin_body_rate 256k/s grace 300ms"))
    size = 16 * MiB
    timer = threading.Timer(2.5, origin.release)
    timer.start()
    try:
        with H2Client(port, timeout=30) as c:
            t0 = time.monotonic()
            sid = c.request("POST", "/echo?hold=1", [("content-length", str(size))],
                            body=bytes(PATTERN_VIEW[:MiB]) * 16)
            took = time.monotonic() - t0
            st = c.response(sid)
    finally:
        timer.cancel()
    assert took >= 2.0, "the upload was not held back (%.2fs)" % took
    assert st.status == 200, st
    assert st.json()["body_len"] == size


def test_h2_body_at_the_rate_passes(gatehouse, origin, port):
    gatehouse(_config(port, origin, "timeout body 5s\nmin_body_rate 10k/s grace 500ms"))
    with H2Client(port) as c:
        sid = c.request("POST", "/echo", end_stream=False)
        for _ in range(15):
            c.send_data(sid, b"q" * 2000)
            c.poll(0.1)
        c.send_data(sid, b"", end_stream=True)
        st = c.response(sid)
    assert st.status == 200, st
    assert st.json()["body_len"] == 30000


# ---- configuration -------------------------------------------------------------------

def test_config_errors(tmp_path):
    cfg = tmp_path / "bad.conf"
    cfg.write_text("frontend web {\n    bind 127.0.0.1:1\n    min_body_rate 1k per s\n"
                   "    default_backend app\n}\nbackend app {\n    server a 127.0.0.1:2\n}\n")
    r = ghutil.run_cli(["-t", "-c", str(cfg)])
    assert r.returncode != 0
    assert "bad.conf:3:19: error: invalid rate '1k'" in r.stderr.decode() + r.stdout.decode()
