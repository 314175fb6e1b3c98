"""Header handling: hop-by-hop removal both ways, forwarding headers."""

import httpraw
from ghutil import simple_http_config

HOP = ["connection-named-x-hop-a", "keep-alive", "te", "trailer", "proxy-connection", "upgrade"]


def _hdrs(j):
    out = {}
    for k, v in j["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_request_hop_by_hop_removed(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/echo", close=False, headers=[
        ("Connection", "keep-alive, X-Hop-A"),
        ("X-Hop-A", "must go"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers, gzip"),
        ("Trailer", "X-Something"),
        ("Proxy-Connection", "keep-alive"),
        ("Upgrade", "foo/1"),          # not a tunnelling request (Connection lacks upgrade)
        ("X-Keep", "stays"),
    ])
    assert r.status == 200
    h = _hdrs(r.json())
    for name in ("x-hop-a", "keep-alive", "te", "trailer", "proxy-connection", "upgrade"):
        assert name not in h, "hop-by-hop %s forwarded: %r" % (name, h[name])
    for v in h.get("connection", []):
        assert "x-hop-a" not in v.lower(), "client Connection tokens forwarded: %r" % v
    assert h["x-keep"] == ["stays"]


def test_connection_close_token_not_forwarded_as_is(gatehouse, origin, port):
    """Connection: close on the client side must not make the origin
    connection close (the backend connection is pooled)."""
    gatehouse(simple_http_config(port, [origin.addr]))
    for _ in range(5):
        r = httpraw.request(port, "GET", "/echo", headers=[("X-A", "1")])  # sends Connection: close
        assert r.status == 200
    assert origin.stats.accepts <= 2, "client Connection: close leaked to the backend side"


def test_response_hop_by_hop_removed(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/hop", close=False)
    assert r.status == 200
    names = {k.lower() for k, _ in r.headers}
    for name in ("x-resp-hop", "keep-alive", "proxy-connection"):
        assert name not in names, "hop-by-hop response header %s forwarded" % name
    for v in r.headers_named("connection"):
        assert "x-resp-hop" not in v.lower()
    assert r.header("x-resp-keep") == "yes"
    assert r.body == b"hop\n"


def test_x_forwarded_headers_added(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/echo", host="www.example.com:8443")
    h = _hdrs(r.json())
    assert ",".join(h["x-forwarded-for"]).replace(" ", "").split(",")[-1] == "127.0.0.1"
    assert h["x-forwarded-proto"] == ["http"]
    assert h["x-forwarded-host"] == ["www.example.com:8443"]
    assert h["host"] == ["www.example.com:8443"]
    assert "forwarded" not in h, "Forwarded (RFC 7239) is opt-in"


def test_x_forwarded_for_appended(gatehouse, origin, port):
    """From a trusted proxy (test_realip.py: from anyone else it is replaced)."""
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="trusted_proxies 127.0.0.1"))
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Forwarded-For", "203.0.113.9")])
    h = _hdrs(r.json())
    chain = ",".join(h["x-forwarded-for"]).replace(" ", "").split(",")
    assert chain == ["203.0.113.9", "127.0.0.1"], chain


def test_forward_headers_forwarded_only(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="forward_headers forwarded"))
    r = httpraw.request(port, "GET", "/echo", host="fw.example.com")
    h = _hdrs(r.json())
    for name in ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"):
        assert name not in h, "%s added although forward_headers lists only forwarded" % name
    fwd = ";".join(h["forwarded"]).replace('"', "").lower()
    assert "for=127.0.0.1" in fwd
    assert "proto=http" in fwd
    assert "host=fw.example.com" in fwd


def test_forward_headers_subset(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="forward_headers x-forwarded-for"))
    h = _hdrs(httpraw.request(port, "GET", "/echo").json())
    assert "x-forwarded-for" in h
    assert "x-forwarded-proto" not in h and "x-forwarded-host" not in h


def test_end_to_end_headers_untouched(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    sent = [("User-Agent", "e2e/1.0"), ("Accept", "*/*"), ("Cookie", "a=1; b=2"),
            ("Authorization", "Bearer abc.def"), ("X-Empty", ""), ("X-Spaces", "a  b   c"),
            ("X-Utf8", "caf\xc3\xa9")]
    h = _hdrs(httpraw.request(port, "GET", "/echo", headers=sent).json())
    for k, v in sent:
        assert h.get(k.lower()) == [v], (k, h.get(k.lower()))
