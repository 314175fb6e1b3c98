"""No HTTP/1.1 upgrade to h2c through the proxy (h2c smuggling).

RFC 9113 dropped the `Upgrade: h2c` dance, and a proxy that forwards it lets a
client turn its connection into an HTTP/2 tunnel to the server, past every
rule that judges requests. gatehouse serves such a request as the plain
HTTP/1.1 request it also is: the server never sees `Upgrade` or
`HTTP2-Settings` (the latter is removed from every request), the client gets
the server's normal answer, and a server that answers 101 anyway is a 502,
never a tunnel (src/http/h1.c h1_request_h2c, proxy/h1_server.c).
WebSocket upgrades are unchanged (test_websocket.py).
"""

import select
import socket
import threading

import pytest

import httpraw
from ghutil import SLACK, simple_http_config, wait_for

SETTINGS = "AAMAAABkAARAAAAAAAIAAAAA"
H2C_REQUEST = ("GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               "Upgrade: h2c\r\nHTTP2-Settings: %s\r\n\r\n" % SETTINGS).encode()
# An empty SETTINGS frame, as an h2c server sends right after its 101.
H2_SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def names(headers):
    return [k.lower() for k, _ in headers]


def test_h2c_upgrade_served_as_http11(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    rd = httpraw.Reader(s)
    try:
        s.sendall(H2C_REQUEST)
        r = rd.read_response()
        assert (r.version, r.status) == ("HTTP/1.1", 200), r
        assert not r.has("upgrade")
        seen = r.json()
        assert seen["version"] == "HTTP/1.1"
        hs = names(seen["headers"])
        assert "upgrade" not in hs and "http2-settings" not in hs, seen["raw_head"]
        for k, v in seen["headers"]:
            assert not (k.lower() == "connection" and "upgrade" in v.lower()), seen["raw_head"]
        assert "h2c" not in seen["raw_head"].lower()
        assert SETTINGS not in seen["raw_head"]
        # still an HTTP/1.1 connection: the next request is a request
        s.sendall(httpraw.build_request("GET", "/echo?after=h2c"))
        r = rd.read_response()
        assert r.status == 200 and r.json()["target"] == "/echo?after=h2c"
    finally:
        s.close()
    assert len(origin.stats.requests) == 2
    assert origin.stats.accepts == 1
    assert g.alive()


@pytest.mark.parametrize("upgrade", ["websocket, h2c", "H2C", "h2c/1", "h2", "HTTP/2.0"])
def test_h2c_in_any_form_is_dropped(gatehouse, origin, port, upgrade):
    """h2c anywhere in the list, in any case or with a version (and h2,
    HTTP/2): the whole upgrade goes, even to /ws where the origin would
    otherwise answer 101."""
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/ws", headers=[
        ("Connection", "Upgrade"), ("Upgrade", upgrade),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")])
    assert r.status == 200, r
    hs = names(r.json()["headers"])
    assert "upgrade" not in hs
    assert "sec-websocket-key" in hs       # the rest of the request goes as it came


def test_http2_settings_removed_from_every_request(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/echo", headers=[("HTTP2-Settings", SETTINGS),
                                                       ("X-Keep", "1")])
    assert r.status == 200
    hs = names(r.json()["headers"])
    assert "http2-settings" not in hs and "x-keep" in hs
    # alongside a WebSocket upgrade, which stays one
    r = httpraw.request(port, "GET", "/echo", headers=[
        ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("HTTP2-Settings", SETTINGS)])
    assert r.status == 200
    seen = r.json()["headers"]
    assert "http2-settings" not in names(seen)
    assert [v for k, v in seen if k.lower() == "upgrade"] == ["websocket"]


class Always101Origin:
    """A server that answers every request head with 101 Switching
    Protocols to h2c and a SETTINGS frame, then keeps the connection open,
    recording the heads it got and any byte that followed them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.heads = []
        self.after_head = b""
        self.closed_by_peer = 0
        self._stop = threading.Event()
        self._conns = []
        self._t = threading.Thread(target=self._run, name="origin-101", daemon=True)
        self._t.start()

    def _run(self):
        bufs = {}
        while not self._stop.is_set():
            rl = [self.sock] + self._conns
            ready, _, _ = select.select(rl, [], [], 0.05)
            for r in ready:
                if r is self.sock:
                    c, _ = self.sock.accept()
                    self._conns.append(c)
                    bufs[c] = [b"", False]
                    continue
                try:
                    d = r.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    self.closed_by_peer += 1
                    self._conns.remove(r)
                    r.close()
                    continue
                st = bufs[r]
                if st[1]:                      # after the head: tunnel bytes
                    self.after_head += d
                    continue
                st[0] += d
                if b"\r\n\r\n" in st[0]:
                    head, _, rest = st[0].partition(b"\r\n\r\n")
                    self.heads.append(head.decode("latin-1"))
                    self.after_head += rest
                    st[1] = True
                    r.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                              b"Upgrade: h2c\r\n\r\n" + H2_SETTINGS_FRAME)

    def close(self):
        self._stop.set()
        self._t.join(5)
        for c in self._conns:
            c.close()
        self.sock.close()


@pytest.fixture
def origin_101():
    o = Always101Origin()
    yield o
    o.close()


def test_101_to_h2c_request_is_502_not_tunnel(gatehouse, origin_101, port):
    """The request reached the server as plain HTTP/1.1; its 101 is an
    invalid answer to that: 502, the server connection closed, none of the
    server's HTTP/2 bytes reach the client, none of the client's later
    bytes reach the server."""
    g = gatehouse(simple_http_config(port, [origin_101.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    rd = httpraw.Reader(s)
    try:
        s.sendall(H2C_REQUEST)
        r = rd.read_response()
        assert r.status == 502, r
        assert not r.has("upgrade")
        # what an h2c client sends after a 101: must not become tunnel data
        try:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + H2_SETTINGS_FRAME)
        except OSError:
            pass
        rest, _ = httpraw.drain(s, timeout=1.0, initial=bytes(rd.buf))
        assert H2_SETTINGS_FRAME not in rest
        assert not rest.startswith(b"HTTP/1.1 101"), rest[:200]
    finally:
        s.close()
    assert len(origin_101.heads) == 1
    head = origin_101.heads[0].lower()
    assert "upgrade" not in head and "http2-settings" not in head, origin_101.heads[0]
    assert origin_101.after_head == b""
    # gatehouse closed the server connection instead of keeping it
    wait_for(lambda: origin_101.closed_by_peer == 1, 2 * SLACK,
             what="gatehouse closing the connection the 101 came on")
    assert "101 Switching Protocols to a request without Upgrade" in g.stderr_text()


def test_websocket_upgrade_still_tunnels(gatehouse, origin, port):
    """The same path with Upgrade: websocket is an upgrade as before."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    try:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  b"HTTP2-Settings: %s\r\n\r\n" % SETTINGS.encode())
        r = httpraw.Reader(s).read_head()
        assert r.status == 101 and (r.header("upgrade") or "").lower() == "websocket"
    finally:
        s.close()
