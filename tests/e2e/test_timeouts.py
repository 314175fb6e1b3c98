"""Client-side timeouts: slowloris (timeout header) and idle keep-alive
(timeout client); neither may cut a legitimately slow exchange."""

import select
import socket
import time

import httpraw
from ghutil import SLACK, simple_http_config


def _wait_cut(s, deadline):
    """Waits (without sending) until the peer closes; returns the time of
    the close or None."""
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], 0.05)
        if r:
            try:
                if not s.recv(65536):
                    return time.monotonic()
            except ConnectionError:
                return time.monotonic()
    return None


def test_slowloris_cut_by_header_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout header 1s\ntimeout client 10s"))
    s = httpraw.connect(port)
    got = bytearray()
    cut = None
    try:
        t0 = time.monotonic()
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\n")
        drip = b"X-Slow: " + b"a" * 10000
        i = 0
        deadline = t0 + 6 * SLACK
        while time.monotonic() < deadline:
            try:
                s.send(drip[i:i + 1])      # one byte every 200 ms
            except (BrokenPipeError, ConnectionResetError):
                cut = time.monotonic()
                break
            i += 1
            r, _, _ = select.select([s], [], [], 0.2)
            if r:
                try:
                    d = s.recv(65536)
                except ConnectionError:
                    d = b""
                if not d:
                    cut = time.monotonic()
                    break
                got += d
                if b"\r\n\r\n" in got:        # a 408; the close must follow
                    cut = _wait_cut(s, time.monotonic() + 2 * SLACK)
                    break
    finally:
        s.close()
    assert cut is not None, "slowloris connection still open after %.0fs" % (6 * SLACK)
    took = cut - t0
    assert 0.8 < took < 1.0 + 1.0 * SLACK, "cut after %.2fs with timeout header 1s" % took
    if got:
        assert got.startswith(b"HTTP/1.1 408") or got.startswith(b"HTTP/1.0 408"), bytes(got[:80])
    assert origin.stats.bytes_in == 0


def test_silent_connection_cut_by_header_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout header 1s\ntimeout client 10s"))
    s = httpraw.connect(port)
    try:
        t0 = time.monotonic()
        cut = _wait_cut(s, t0 + 6 * SLACK)
    finally:
        s.close()
    assert cut is not None, "silent connection never closed"
    assert 0.8 < cut - t0 < 1.0 + 1.0 * SLACK, "closed after %.2fs" % (cut - t0)


def test_idle_keepalive_cut_by_client_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout header 5s\ntimeout client 1s"))
    s = httpraw.connect(port)
    try:
        s.sendall(httpraw.build_request("GET", "/echo"))
        assert httpraw.Reader(s).read_response().status == 200
        t0 = time.monotonic()
        cut = _wait_cut(s, t0 + 8 * SLACK)
    finally:
        s.close()
    assert cut is not None, "idle keep-alive connection never closed"
    assert 0.8 < cut - t0 < 1.0 + 1.5 * SLACK, "idle connection closed after %.2fs" % (cut - t0)


def test_client_timeout_not_applied_while_origin_works(gatehouse, origin, port):
    """A client waiting for a slow response is not idle."""
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout client 1s",
                                 backend_extra="timeout server 10s"))
    r = httpraw.request(port, "GET", "/delay/1600")
    assert r.status == 200


def test_header_timeout_does_not_cover_body(gatehouse, origin, port):
    """A slow body after a prompt head is governed by timeout client, not
    timeout header."""
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout header 1s\ntimeout client 5s"))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):
            time.sleep(0.2)
            s.sendall(b"b")
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["body_len"] == 8


def test_keepalive_connection_usable_before_client_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="timeout client 2s"))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(3):
            s.sendall(httpraw.build_request("GET", "/echo?i=%d" % i))
            assert rd.read_response().status == 200
            time.sleep(0.5)
    finally:
        s.close()


def test_stalled_request_body_cut_by_client_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="timeout header 5s\ntimeout client 1s"))
    s = httpraw.connect(port)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        t0 = time.monotonic()
        got, closed = httpraw.drain(s, 6 * SLACK)
        took = time.monotonic() - t0
    finally:
        s.close()
    assert closed, "stalled upload never cut"
    assert 0.8 < took < 1.0 + 1.5 * SLACK, "stalled upload cut after %.2fs" % took
    if got:
        assert got.startswith(b"HTTP/1.1 408"), got[:60]
    assert len(origin.stats.requests) == 0


def test_stalled_response_body_cut_by_server_timeout(gatehouse, origin, port):
    """Once the response head is sent there is no 504 to give: the client
    connection is closed (so the short body is detectable)."""
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="timeout server 500ms"))
    s = httpraw.connect(port)
    try:
        s.sendall(httpraw.build_request("GET", "/stall/1000"))
        t0 = time.monotonic()
        got, closed = httpraw.drain(s, 6 * SLACK)
        took = time.monotonic() - t0
    finally:
        s.close()
    assert closed, "stalled response never cut"
    assert 0.4 < took < 0.5 + 1.5 * SLACK, "stalled response cut after %.2fs" % took
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) == 1000
