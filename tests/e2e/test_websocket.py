"""WebSocket (RFC 6455) through the HTTP/1.1 Upgrade tunnel."""

import base64
import os
import selectors
import socket
import time

import pytest

import httpraw
from ghutil import SLACK, simple_http_config
from origins import ws_accept, ws_frame, ws_mask


def ws_connect(port, path="/ws"):
    s = httpraw.connect(port, timeout=5 * SLACK)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    rd = httpraw.Reader(s)
    r = rd.read_head()
    assert r.status == 101, r
    assert (r.header("upgrade") or "").lower() == "websocket"
    assert "upgrade" in (r.header("connection") or "").lower()
    assert r.header("sec-websocket-accept") == ws_accept(key)
    return s, rd


def ws_recv(rd):
    h = rd.read_exact(2)
    fin = bool(h[0] & 0x80)
    opcode = h[0] & 0x0F
    masked = bool(h[1] & 0x80)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(rd.read_exact(2), "big")
    elif n == 127:
        n = int.from_bytes(rd.read_exact(8), "big")
    key = rd.read_exact(4) if masked else None
    payload = rd.read_exact(n)
    assert not masked, "server frames must not be masked"
    return fin, opcode, payload


def test_websocket_echo(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s, rd = ws_connect(port)
    try:
        for size in (0, 5, 125, 126, 200, 65535, 65536, 300000):
            msg = os.urandom(size)
            s.sendall(ws_frame(0x2, msg))
            fin, op, payload = ws_recv(rd)
            assert (fin, op) == (True, 0x2)
            assert payload == msg, "echo of %d bytes differs" % size
        s.sendall(ws_frame(0x1, "héllo wörld".encode()))
        assert ws_recv(rd) == (True, 0x1, "héllo wörld".encode())
        s.sendall(ws_frame(0x9, b"ping!"))
        assert ws_recv(rd) == (True, 0xA, b"ping!")
        # Close handshake, then both sides of the tunnel go away.
        s.sendall(ws_frame(0x8, (1000).to_bytes(2, "big")))
        fin, op, payload = ws_recv(rd)
        assert op == 0x8 and payload[:2] == (1000).to_bytes(2, "big")
        assert httpraw.wait_closed(s, 3 * SLACK) is not None, "tunnel not closed after the origin closed"
    finally:
        s.close()


def test_websocket_server_speaks_first(gatehouse, origin, port):
    """Bytes the origin sends right behind the 101 (same write) arrive."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s, rd = ws_connect(port, "/ws?greet=1")
    try:
        assert ws_recv(rd) == (True, 0x1, b"hello")
        s.sendall(ws_frame(0x1, b"after greeting"))
        assert ws_recv(rd) == (True, 0x1, b"after greeting")
    finally:
        s.close()


def test_websocket_client_bytes_right_after_handshake(gatehouse, origin, port):
    """A frame sent in the same write as the upgrade request is not lost."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    key = base64.b64encode(os.urandom(16)).decode()
    try:
        s.sendall(("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode()
                  + ws_frame(0x1, b"eager"))
        rd = httpraw.Reader(s)
        assert rd.read_head().status == 101
        assert ws_recv(rd) == (True, 0x1, b"eager")
    finally:
        s.close()


def test_websocket_many_sessions(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    sessions = [ws_connect(port) for _ in range(50)]
    try:
        for i, (s, rd) in enumerate(sessions):
            s.sendall(ws_frame(0x1, b"msg %d" % i))
        for i, (s, rd) in enumerate(sessions):
            assert ws_recv(rd) == (True, 0x1, b"msg %d" % i)
    finally:
        for s, _ in sessions:
            s.close()


def test_websocket_client_close_closes_origin_side(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s, rd = ws_connect(port)
    s.sendall(ws_frame(0x1, b"x"))
    ws_recv(rd)
    assert origin.stats.open_conns == 1
    s.close()
    deadline = time.monotonic() + 3 * SLACK
    while origin.stats.open_conns and time.monotonic() < deadline:
        time.sleep(0.02)
    assert origin.stats.open_conns == 0, "origin side of the tunnel left open after client closed"


def test_upgrade_declined_stays_http(gatehouse, origin, port):
    """The origin ignores the Upgrade offer and answers 200: the connection
    keeps speaking HTTP."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        r = rd.read_response()
        assert r.status == 200
        hdrs = {k.lower(): v for k, v in r.json()["headers"]}
        assert hdrs.get("upgrade", "").lower() == "websocket", "upgrade offer not forwarded"
        s.sendall(httpraw.build_request("GET", "/echo?after=declined"))
        assert rd.read_response().json()["target"] == "/echo?after=declined"
    finally:
        s.close()


def test_websocket_idle_tunnel_timeout(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="timeout tunnel 1s"))
    s, rd = ws_connect(port)
    try:
        s.sendall(ws_frame(0x1, b"x"))
        assert ws_recv(rd) == (True, 0x1, b"x")
        t0 = time.monotonic()
        waited = httpraw.wait_closed(s, 6 * SLACK)
    finally:
        s.close()
    assert waited is not None, "idle tunnel never closed (timeout tunnel 1s)"
    assert 0.8 < waited < 1.0 + 1.5 * SLACK, "idle tunnel closed after %.2fs" % waited


def test_websocket_active_tunnel_not_cut_by_client_timeout(gatehouse, origin, port):
    """timeout client (idle HTTP) does not apply inside a tunnel."""
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="timeout client 500ms",
                                 backend_extra="timeout tunnel 10s"))
    s, rd = ws_connect(port)
    try:
        for i in range(4):
            time.sleep(0.3)
            s.sendall(ws_frame(0x1, b"m%d" % i))
            assert ws_recv(rd) == (True, 0x1, b"m%d" % i)
        time.sleep(0.8)            # idle longer than timeout client
        s.sendall(ws_frame(0x1, b"still here"))
        assert ws_recv(rd) == (True, 0x1, b"still here")
    finally:
        s.close()
