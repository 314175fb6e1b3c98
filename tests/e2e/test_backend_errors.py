"""Backend failures map to 502/503/504 with short bodies, promptly."""

import socket
import time

import pytest

import httpraw
from ghutil import SLACK, backend_block, free_port, frontend_block, global_block, simple_http_config


def _check_error(r, status):
    assert r.status == status, "expected %d, got %d" % (status, r.status)
    assert r.body_len < 1024, "error body is %d bytes" % r.body_len


def test_connect_refused_502(gatehouse, port):
    dead = free_port()          # nobody listens here
    gatehouse(simple_http_config(port, ["127.0.0.1:%d" % dead],
                                 backend_extra="timeout connect 1s"))
    t0 = time.monotonic()
    r = httpraw.request(port, "GET", "/echo")
    _check_error(r, 502)
    assert time.monotonic() - t0 < 3 * SLACK


def test_connect_timeout_502(gatehouse, port):
    """A server whose accept queue is full drops SYNs: the connect times out."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    filler = []
    try:
        # Fill the accept queue (backlog 0 holds one connection).
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(ls.getsockname())
            filler.append(c)
        time.sleep(0.1)
        gatehouse(simple_http_config(port, ["127.0.0.1:%d" % ls.getsockname()[1]],
                                     backend_extra="timeout connect 300ms"))
        t0 = time.monotonic()
        r = httpraw.request(port, "GET", "/echo", timeout=15)
        took = time.monotonic() - t0
        _check_error(r, 502)
        # 300 ms per attempt, a few retries at most.
        assert 0.25 < took < 4 * SLACK, "took %.2fs" % took
    finally:
        for c in filler:
            c.close()
        ls.close()


@pytest.mark.parametrize("kind", ["junk", "status", "cl", "dupcl", "space", "empty"])
def test_malformed_response_502(gatehouse, origin, port, kind):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/garbage?kind=%s" % kind)
    _check_error(r, 502)


def test_no_servers_503(gatehouse, port):
    cfg = (global_block() + frontend_block(port, "empty")
           + "backend empty {\n    mode http\n    balance roundrobin\n}\n")
    gatehouse(cfg)
    r = httpraw.request(port, "GET", "/echo")
    _check_error(r, 503)


def test_server_timeout_504(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="timeout server 500ms"))
    t0 = time.monotonic()
    r = httpraw.request(port, "GET", "/hang", timeout=10)
    took = time.monotonic() - t0
    _check_error(r, 504)
    assert 0.4 < took < 2.5 * SLACK, "504 after %.2fs (timeout server 500ms)" % took


def test_server_timeout_not_hit_by_slow_but_timely_origin(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="timeout server 1s"))
    r = httpraw.request(port, "GET", "/delay/400")
    assert r.status == 200


def test_errors_keep_proxy_healthy(gatehouse, origin, port):
    """After a burst of backend errors the proxy still serves normally.  A
    keep-alive client connection that got a 502 is closed with
    "Connection: close" (errors.c: gatehouse closes after every answer of
    its own) and a new connection is served."""
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="timeout server 300ms"))
    for kind in ("junk", "empty", "status"):
        assert httpraw.request(port, "GET", "/garbage?kind=%s" % kind).status == 502
    assert httpraw.request(port, "GET", "/hang").status == 504
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        s.sendall(httpraw.build_request("GET", "/garbage?kind=junk"))
        r = rd.read_response()
        assert r.status == 502
        assert (r.header("connection") or "").lower() == "close", r.headers
        rest, closed = httpraw.drain(s, 2 * SLACK, bytes(rd.buf))
        assert rest == b"" and closed
    finally:
        s.close()
    r = httpraw.request(port, "GET", "/echo?after=502")
    assert r.status == 200 and r.json()["target"] == "/echo?after=502"


def test_dead_server_in_roundrobin_pool(gatehouse, origin, port):
    """roundrobin over a dead and a live server, retries on (the default,
    2): a refused connect goes to the other server, so every request is
    served by the live one, promptly."""
    dead = free_port()
    gatehouse(simple_http_config(port, ["127.0.0.1:%d" % dead, origin.addr],
                                 backend_extra="timeout connect 500ms"))
    t0 = time.monotonic()
    rs = [httpraw.request(port, "GET", "/echo?i=%d" % i, timeout=10) for i in range(6)]
    took = time.monotonic() - t0
    assert [r.status for r in rs] == [200] * 6, [r.status for r in rs]
    assert [r.json()["target"] for r in rs] == ["/echo?i=%d" % i for i in range(6)]
    assert [q["target"] for q in origin.stats.requests] == ["/echo?i=%d" % i for i in range(6)]
    assert took < 3 * SLACK, "6 requests took %.2fs" % took


def test_dead_server_in_roundrobin_pool_retries_off(gatehouse, origin, port):
    """The same pool with retries 0: the turns that fall on the dead server
    are 502s (roundrobin alternates: exactly half), the others are served."""
    dead = free_port()
    gatehouse(simple_http_config(port, ["127.0.0.1:%d" % dead, origin.addr],
                                 backend_extra="timeout connect 500ms\nretries 0"))
    codes = [httpraw.request(port, "GET", "/echo", timeout=10).status for _ in range(6)]
    assert sorted(codes) == [200] * 3 + [502] * 3, codes
    assert all(a != b for a, b in zip(codes, codes[1:])), "not alternating: %r" % codes
    assert len(origin.stats.requests) == 3


def test_response_head_too_large_502(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/bighead/40000")
    _check_error(r, 502)
    assert httpraw.request(port, "GET", "/echo").status == 200


def test_response_with_cl_and_te(gatehouse, origin, port):
    """Content-Length + Transfer-Encoding from the origin: gatehouse never
    forwards a head another hop could frame differently (h1.c
    h1_response_done), so the client gets a 502 of its own, not the
    origin's body in either framing."""
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/garbage?kind=clte")
    _check_error(r, 502)
    assert b"hello" not in r.body
    assert not (r.has("content-length") and r.has("transfer-encoding")), r.headers


@pytest.mark.parametrize("kind", ["badchunk", "truncated"])
def test_broken_response_body_is_not_completed(gatehouse, origin, port, kind):
    """A response body that breaks after the head was forwarded: the client
    must see the breakage (connection closed before the message ends), never
    a well-formed complete response."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    rd = httpraw.Reader(s)
    try:
        s.sendall(httpraw.build_request("GET", "/garbage?kind=%s" % kind))
        try:
            r = rd.read_response()
        except httpraw.ProtocolError:
            return                       # truncated as it should be
        except ConnectionResetError:
            return
        assert r.status == 502, "a broken %s body reached the client as a complete %d response" % (
            kind, r.status)
    finally:
        s.close()
