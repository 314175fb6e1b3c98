"""Real client addresses behind other proxies (`trusted_proxies`): from a
trusted peer (or PROXY-protocol address) the client is the rightmost
X-Forwarded-For address that is not trusted (or Forwarded's for=), as
nginx's realip module finds it; rules, routing, the access log and the
server see that address, `peer` keeps the TCP peer.  From anyone else,
X-Forwarded-For and Forwarded are replaced, never appended to.
"""

import json

import httpraw
from ghutil import SLACK, backend_block, global_block, wait_for
from test_proxy_protocol import v1

FE_RULES = """
    http_request set_header X-Src "%[src]"
    http_request set_header X-Peer "%[peer]"
    http_request set_header X-Peer-Local yes if peer in 127.0.0.0/8
    http_request set_header X-Src-Local yes if src in 127.0.0.0/8
"""


def conf(port, origin, trusted, extra="", bind_opts="", access_log=None, more_backends=""):
    fe = ["frontend web {", "    bind 127.0.0.1:%d %s" % (port, bind_opts)]
    if trusted:
        fe.append("    trusted_proxies %s" % trusted)
    if access_log:
        fe.append("    access_log %s format json" % access_log)
    fe += ["    " + l.strip() for l in (FE_RULES + extra).splitlines() if l.strip()]
    fe += ["    default_backend app", "}"]
    return global_block() + "\n".join(fe) + "\n" + backend_block("app", [origin.addr]) + more_backends


def hdrs(r):
    assert r.status == 200, r
    out = {}
    for k, v in r.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def chain(h, name="x-forwarded-for"):
    return ",".join(h.get(name, [])).replace(" ", "").split(",")


def get(port, *headers):
    return hdrs(httpraw.request(port, "GET", "/echo", headers=list(headers)))


def test_trusted_chain_names_the_client(gatehouse, origin, port, tmp_path):
    alog = tmp_path / "a.log"
    gatehouse(conf(port, origin, "127.0.0.1 10.0.0.0/8", access_log=alog))
    h = get(port, ("X-Forwarded-For", "198.51.100.1, 10.0.0.2"), ("X-Forwarded-For", "10.0.0.3"))
    assert h["x-src"] == ["198.51.100.1"] and h["x-peer"] == ["127.0.0.1"]
    assert h["x-peer-local"] == ["yes"] and "x-src-local" not in h
    # the trusted list goes on, with the hop that sent it
    assert chain(h) == ["198.51.100.1", "10.0.0.2", "10.0.0.3", "127.0.0.1"]
    line = wait_for(lambda: alog.exists() and alog.read_text().strip(), 5 * SLACK, what="log line")
    assert json.loads(line.splitlines()[0])["client"] == "198.51.100.1"


def test_spoofed_left_entries_are_ignored(gatehouse, origin, port):
    gatehouse(conf(port, origin, "127.0.0.1 10.0.0.0/8"))
    # a client (198.51.100.1) sent "1.1.1.1" itself; the trusted 10.0.0.3 appended it
    h = get(port, ("X-Forwarded-For", "1.1.1.1, 198.51.100.1, 10.0.0.3"))
    assert h["x-src"] == ["198.51.100.1"]
    # every entry trusted: the leftmost
    assert get(port, ("X-Forwarded-For", "10.0.0.1, 10.0.0.2"))["x-src"] == ["10.0.0.1"]
    # garbage at the right: nothing learnt, the peer stands
    assert get(port, ("X-Forwarded-For", "198.51.100.1, unknown"))["x-src"] == ["127.0.0.1"]
    # garbage further left: the last good address read
    assert get(port, ("X-Forwarded-For", "garbage, 10.0.0.9"))["x-src"] == ["10.0.0.9"]
    assert get(port, ("X-Forwarded-For", "198.51.100.1:80"))["x-src"] == ["127.0.0.1"]
    # no header at all
    assert get(port)["x-src"] == ["127.0.0.1"]


def test_forwarded_for(gatehouse, origin, port):
    gatehouse(conf(port, origin, "127.0.0.1 10.0.0.0/8", extra="forward_headers forwarded"))
    h = get(port, ("Forwarded", 'for="[2001:db8::9]:4711";proto=https, for=10.0.0.5'))
    assert h["x-src"] == ["2001:db8::9"]
    assert h["forwarded"] == ['for="[2001:db8::9]:4711";proto=https, for=10.0.0.5',
                              "for=127.0.0.1;proto=http;host=\"test.local\""]
    assert get(port, ("Forwarded", "for=192.0.2.60:1234;by=10.0.0.1"))["x-src"] == ["192.0.2.60"]
    assert get(port, ("Forwarded", "for=_hidden, for=10.0.0.5"))["x-src"] == ["10.0.0.5"]
    # X-Forwarded-For, when present, is the one read
    h = get(port, ("Forwarded", "for=192.0.2.1"), ("X-Forwarded-For", "192.0.2.2"))
    assert h["x-src"] == ["192.0.2.2"]


def test_untrusted_peer_headers_are_replaced(gatehouse, origin, port):
    gatehouse(conf(port, origin, "10.0.0.0/8",
                   extra="forward_headers x-forwarded-for forwarded"))
    h = get(port, ("X-Forwarded-For", "10.0.0.1"), ("Forwarded", "for=10.0.0.1"))
    assert h["x-src"] == ["127.0.0.1"]
    assert chain(h) == ["127.0.0.1"]
    assert h["forwarded"] == ['for=127.0.0.1;proto=http;host="test.local"']


def test_no_trusted_proxies_replaces_too(gatehouse, origin, port):
    gatehouse(conf(port, origin, None))
    h = get(port, ("X-Forwarded-For", "6.6.6.6"))
    assert chain(h) == ["127.0.0.1"] and h["x-src"] == ["127.0.0.1"]


def test_each_request_of_a_connection_on_its_own(gatehouse, origin, port):
    gatehouse(conf(port, origin, "127.0.0.1"))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    for xff, want in (("192.0.2.1", "192.0.2.1"), (None, "127.0.0.1"), ("192.0.2.3", "192.0.2.3")):
        s.sendall(httpraw.build_request("GET", "/echo",
                                        headers=[("X-Forwarded-For", xff)] if xff else []))
        r = rd.read_response()
        assert hdrs(r)["x-src"] == [want]
    s.close()


def test_behind_proxy_protocol_and_routing(gatehouse, origin, make_origin, port):
    """PROXY header from the balancer (trusted), X-Forwarded-For from a CDN
    hop behind it; routing sees the client the chain names."""
    o2 = make_origin("o2")
    gatehouse(conf(port, origin, "203.0.113.0/24", bind_opts="accept_proxy",
                   extra="use_backend b2 if src in 198.51.100.0/24",
                   more_backends=backend_block("b2", [o2.addr])))
    s = httpraw.connect(port)
    s.sendall(v1(src="203.0.113.7") + httpraw.build_request(
        "GET", "/echo", headers=[("X-Forwarded-For", "198.51.100.4")]))
    r = httpraw.Reader(s).read_response()
    s.close()
    h = hdrs(r)
    assert h["x-src"] == ["198.51.100.4"] and h["x-peer"] == ["127.0.0.1"]
    assert chain(h) == ["198.51.100.4", "203.0.113.7"]
    assert o2.stats.heads == 1 and origin.stats.heads == 0
    # the PROXY address itself is not trusted: its header is replaced
    s = httpraw.connect(port)
    s.sendall(v1(src="192.0.2.9") + httpraw.build_request(
        "GET", "/echo", headers=[("X-Forwarded-For", "198.51.100.4")]))
    h = hdrs(httpraw.Reader(s).read_response())
    s.close()
    assert h["x-src"] == ["192.0.2.9"] and chain(h) == ["192.0.2.9"]
