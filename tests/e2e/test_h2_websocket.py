"""
WebSockets over HTTP/2 (RFC 8441): an HTTP/2 client's extended CONNECT
(`:protocol websocket`) becomes an HTTP/1.1 Upgrade to the origin, the
origin's 101 becomes a 200 on the stream, and the stream's DATA carry the
WebSocket frames both ways until either side ends.
"""

import pytest

import ghutil
from ghutil import simple_http_config
from h2util import H2Client
from origins import ws_frame

SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="HAProxy 2.6 has no RFC 8441 on its h2 side")


def ws_connect(c, path="/ws", headers=()):
    fields = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
              (":authority", "test.local"), (":path", path),
              ("sec-websocket-version", "13")] + list(headers)
    return c.request(fields=fields, end_stream=False)


def read_ws_frame(c, sid, start):
    """Waits for one whole unmasked WebSocket frame at offset start of the
    stream's DATA; returns (opcode, payload, next offset)."""
    s = c.stream(sid)

    def whole():
        d = bytes(s.data[start:])
        if len(d) < 2:
            return None
        n = d[1] & 0x7F
        off = 2
        if n == 126:
            if len(d) < 4:
                return None
            n, off = int.from_bytes(d[2:4], "big"), 4
        elif n == 127:
            if len(d) < 10:
                return None
            n, off = int.from_bytes(d[2:10], "big"), 10
        if len(d) < off + n:
            return None
        return d[0] & 0x0F, d[off:off + n], start + off + n

    return c.wait(whole, what="a WebSocket frame on stream %d" % sid)


def test_extended_connect_is_advertised(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    with H2Client(port) as c:
        assert c.wait_settings().get(SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1


def test_websocket_over_http2_to_an_http1_origin(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        sid = ws_connect(c, "/ws?greet=1", headers=[("x-probe", "yes")])
        s = c.stream(sid)
        c.wait(lambda: s.status is not None, what="the tunnel's head")
        assert s.status == 200, s
        assert not s.has("sec-websocket-accept") and not s.has("upgrade")
        # the origin's greeting, then an echo of each of our frames
        op, payload, off = read_ws_frame(c, sid, 0)
        assert (op, payload) == (0x1, b"hello")
        for i in range(5):
            msg = b"message %d " % i + b"x" * (i * 3000)
            c.send_data(sid, ws_frame(0x1, msg, mask=True))
            op, payload, off = read_ws_frame(c, sid, off)
            assert (op, payload) == (0x1, msg)
        # a close handshake, then both sides end the stream
        c.send_data(sid, ws_frame(0x8, b"\x03\xe8", mask=True), end_stream=True)
        op, payload, off = read_ws_frame(c, sid, off)
        assert op == 0x8
        c.response(sid)
        assert s.ended and s.reset is None, s
    # one upgrade request reached the origin (its 101 needs a key: it got one)
    assert origin.stats.heads == 1


def test_websocket_stream_does_not_block_others(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        sid = ws_connect(c)
        c.wait(lambda: c.stream(sid).status is not None, what="the tunnel's head")
        # plain requests on the same connection while the tunnel is open
        for i in range(3):
            r = c.get("/bytes/%d" % (1000 * (i + 1)))
            assert r.status == 200 and r.data_len == 1000 * (i + 1)
        c.send_data(sid, ws_frame(0x1, b"still here", mask=True))
        op, payload, _ = read_ws_frame(c, sid, 0)
        assert payload == b"still here"
        c.rst(sid)


def test_plain_connect_is_still_refused(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        sid = c.request(fields=[(":method", "CONNECT"), (":authority", "example.com:443")],
                        end_stream=False)
        r = c.response(sid)
        assert r.status == 405 or r.reset is not None, r
    assert origin.stats.heads == 0
