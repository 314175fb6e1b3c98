"""Basic HTTP proxying: requests reach the origin intact, responses come back."""

import hashlib
import http.client
import json
import socket

import pytest

import httpraw
from ghutil import simple_http_config, backend_block, frontend_block, global_block
from origins import expected_bytes


def test_get_echo_http_client(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/echo/hello?x=1&y=two", headers={"X-Test": "abc"})
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200
    j = json.loads(body)
    assert j["method"] == "GET"
    assert j["target"] == "/echo/hello?x=1&y=two"
    assert j["version"] == "HTTP/1.1"
    hdrs = {k.lower(): v for k, v in j["headers"]}
    assert hdrs["x-test"] == "abc"
    assert hdrs["host"] == "127.0.0.1:%d" % port
    assert len(origin.stats.requests) == 1


def test_post_content_length_body(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    body = bytes(range(256)) * 40
    r = httpraw.request(port, "POST", "/echo", body=body)
    assert r.status == 200
    j = r.json()
    assert j["method"] == "POST"
    assert j["body_len"] == len(body)
    assert j["body_sha256"] == hashlib.sha256(body).hexdigest()
    # the head the origin got: one Host, one Content-Length, no other framing
    rec = origin.stats.requests[0]
    names = [k.lower() for k, _ in rec["headers"]]
    assert names.count("host") == 1 and names.count("content-length") == 1, rec["raw_head"]
    assert "transfer-encoding" not in names and "connection" not in names, rec["raw_head"]
    assert [v for k, v in rec["headers"] if k.lower() == "content-length"] == [str(len(body))]
    assert rec["raw_head"].startswith("POST /echo HTTP/1.1\r\n")


def test_response_body_content_length(gatehouse, origin, port):
    """A Content-Length response is streamed with its length (not
    re-framed as chunked)."""
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/bytes/300000")
    assert r.status == 200
    assert r.framing == "length"
    assert r.headers_named("content-length") == ["300000"]
    assert not r.has("transfer-encoding")
    assert r.body == expected_bytes(300000)


def test_origin_status_codes_pass_through(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    for code in (201, 301, 404, 418, 500, 503):
        r = httpraw.request(port, "GET", "/status/%d" % code)
        assert r.status == code
        assert r.body == b"status %d\n" % code


def test_http10_client(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    try:
        s.sendall(b"GET /echo HTTP/1.0\r\n\r\n")   # HTTP/1.0: Host is optional
        r = httpraw.Reader(s).read_response()
        assert r.status == 200
        assert r.json()["method"] == "GET"
        # forwarded as HTTP/1.1, which needs a Host: the address the client
        # reached (RFC 9112 3.3)
        hosts = [v for k, v in r.json()["headers"] if k.lower() == "host"]
        assert hosts == ["127.0.0.1:%d" % port]
        assert r.json()["version"] == "HTTP/1.1"
        # HTTP/1.0 without keep-alive: the proxy closes after the response.
        assert httpraw.wait_closed(s, 3) is not None
    finally:
        s.close()
    s = httpraw.connect(port)
    try:
        s.sendall(b"GET /echo HTTP/1.0\r\nHost:\r\n\r\n")   # empty: same as none
        r = httpraw.Reader(s).read_response()
        hosts = [v for k, v in r.json()["headers"] if k.lower() == "host"]
        assert r.status == 200 and hosts == ["127.0.0.1:%d" % port]
    finally:
        s.close()


def test_absolute_form_target_rewritten(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    try:
        s.sendall(b"GET http://example.com/echo/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n"
                  b"Connection: close\r\n\r\n")
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["target"] == "/echo/abs?q=1"


def test_roundrobin_with_weights(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    cfg = (global_block() + frontend_block(port)
           + backend_block("app", [("app1", o1.addr, 1), ("app2", o2.addr, 2)]))
    gatehouse(cfg)
    seen = {"o1": 0, "o2": 0}
    for _ in range(30):
        r = httpraw.request(port, "GET", "/echo")
        assert r.status == 200
        seen[r.json()["origin"]] += 1
    assert abs(seen["o1"] - 10) <= 1 and abs(seen["o2"] - 20) <= 1, seen


def test_roundrobin_alternates_on_one_client_connection(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    gatehouse(simple_http_config(port, [o1.addr, o2.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    names = []
    try:
        for _ in range(10):
            s.sendall(httpraw.build_request("GET", "/echo"))
            names.append(rd.read_response().json()["origin"])
    finally:
        s.close()
    # Balancing is per request, not per client connection.
    assert names.count("o1") == 5 and names.count("o2") == 5, names


def test_requests_served_with_two_workers(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], workers=2))
    for i in range(40):
        r = httpraw.request(port, "GET", "/echo?i=%d" % i)
        assert r.status == 200
        assert r.json()["target"] == "/echo?i=%d" % i
    assert len(origin.stats.requests) == 40


def test_large_but_allowed_headers(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    hdrs = [("X-Big-%d" % i, "v" * 900) for i in range(8)]   # ~7.3 KB head
    r = httpraw.request(port, "GET", "/echo", headers=hdrs)
    assert r.status == 200
    got = {k.lower(): v for k, v in r.json()["headers"]}
    for k, v in hdrs:
        assert got[k.lower()] == v


def test_repeated_headers_forwarded_in_order(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    hdrs = [("X-Multi", "one"), ("X-Other", "x"), ("X-Multi", "two"), ("X-Multi", "three")]
    r = httpraw.request(port, "GET", "/echo", headers=hdrs)
    vals = [v for k, v in r.json()["headers"] if k.lower() == "x-multi"]
    assert ",".join(v.replace(" ", "") for v in vals) == "one,two,three"


def test_response_set_cookie_fields_kept_separate(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/setcookies")
    assert r.status == 200
    assert r.headers_named("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_big_response_header_within_limits(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    r = httpraw.request(port, "GET", "/bighead/8000")
    assert r.status == 200
    assert r.header("x-big") == "b" * 8000
    assert r.body == b"bighead\n"


def test_interim_103_forwarded(gatehouse, origin, port):
    """1xx responses are forwarded to an HTTP/1.1 client (RFC 9110 15.2),
    then the final response follows."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        s.sendall(httpraw.build_request("GET", "/early"))
        first = rd.read_response(allow_interim=True)
        assert first.status == 103
        assert first.header("link") == "</style.css>; rel=preload"
        final = rd.read_response()
        assert final.status == 200 and final.body == b"final\n"
        s.sendall(httpraw.build_request("GET", "/echo?after=103"))
        assert rd.read_response().json()["target"] == "/echo?after=103"
    finally:
        s.close()


def test_http10_client_never_gets_chunked(gatehouse, origin, port):
    """HTTP/1.0 has no chunked coding: a chunked origin response reaches an
    HTTP/1.0 client de-chunked (close-delimited or with a length)."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    try:
        s.sendall(b"GET /chunked/50000?chunk=7000&ext=1&trailer=1 HTTP/1.0\r\nHost: t\r\n\r\n")
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert not r.has("transfer-encoding"), r.headers
    assert r.body == expected_bytes(50000)


def test_target_forwarded_byte_exact(gatehouse, origin, port):
    """The proxy does not normalise, decode or re-encode the target."""
    gatehouse(simple_http_config(port, [origin.addr]))
    targets = ["/echo/p%41th/./../x?q=a%20b+c&&z=%2F",
               "/echo//double//slash?",
               "/echo/~user/a;b,c=d!$'()*@:?k=v/?",
               "/echo/" + "seg/" * 1500]            # ~6 KB, under the 8k target limit
    for t in targets:
        r = httpraw.request(port, "GET", t)
        assert r.status == 200, t
        assert r.json()["target"] == t


MAX_FIELDS = 100      # HTTP_MAX_HDRS, src/http/msg.h: "fields accepted from a peer"


def _fields_request(n_fields):
    """n_fields header fields in all: Host, Connection: close, a
    client-supplied X-Forwarded-For and n_fields - 3 X-Fnn fields."""
    hdrs = [("X-Forwarded-For", "6.6.6.6")] + [("X-F%02d" % i, "v%d" % i)
                                              for i in range(n_fields - 3)]
    data = httpraw.build_request("GET", "/echo", hdrs + [("Connection", "close")])
    assert data.count(b"\r\n") - 2 == n_fields      # request line and the blank line
    return hdrs, data


@pytest.mark.parametrize("n_fields", [MAX_FIELDS - 3, MAX_FIELDS])
def test_header_fields_at_the_maximum_keep_forwarding_headers(gatehouse, origin, port, n_fields):
    """Up to exactly the maximum number of fields (100), one of them a
    client-supplied X-Forwarded-For: forwarded with every field AND the
    forwarding headers the proxy adds - never with the client's
    X-Forwarded-For as the last hop.  (The client is a trusted proxy, so
    its X-Forwarded-For is kept and appended to, not replaced.)"""
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="trusted_proxies 127.0.0.1"))
    hdrs, data = _fields_request(n_fields)
    r, _, _ = httpraw.send_raw(port, data)
    assert r is not None and r.status == 200, r
    got = r.json()["headers"]
    lowered = [[k.lower(), v] for k, v in got]
    for k, v in hdrs[1:]:
        assert [k.lower(), v] in lowered
    h = {}
    for k, v in got:
        h.setdefault(k.lower(), []).append(v)
    chain = ",".join(h.get("x-forwarded-for", [])).replace(" ", "").split(",")
    assert chain == ["6.6.6.6", "127.0.0.1"], h.get("x-forwarded-for")
    assert h.get("x-forwarded-proto") == ["http"], "X-Forwarded-Proto missing"
    assert h.get("x-forwarded-host") == ["test.local"], "X-Forwarded-Host missing"
    assert h.get("host") == ["test.local"]
    assert len(origin.stats.requests) == 1


def test_header_fields_one_over_the_maximum_431(gatehouse, origin, port):
    """One field more than the maximum: 431, the connection closed, and
    nothing reaches the origin."""
    gatehouse(simple_http_config(port, [origin.addr]))
    _, data = _fields_request(MAX_FIELDS + 1)
    r, rest, closed = httpraw.send_raw(port, data)
    assert r is not None and r.status == 431, r
    assert rest == b"" and closed
    assert origin.settle()
    assert origin.stats.accepts == 0 and origin.stats.bytes_in == 0


def test_too_many_header_fields_431(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    hdrs = [("X-F%03d" % i, "v") for i in range(200)]
    r = httpraw.request(port, "GET", "/echo", headers=hdrs)
    assert r.status == 431
    assert origin.settle()
    assert origin.stats.accepts == 0 and origin.stats.bytes_in == 0


def test_client_half_close_after_request(gatehouse, origin, port):
    """A client that shuts down its sending side after the request (as
    `nc -q`, some scripts) still gets the response."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    try:
        s.sendall(httpraw.build_request("GET", "/delay/200"))
        s.shutdown(socket.SHUT_WR)
        r = httpraw.Reader(s).read_response()
    finally:
        s.close()
    assert r.status == 200
    assert r.json()["target"] == "/delay/200"


def test_requests_served_with_workers_auto(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], workers="auto"))
    for i in range(10):
        assert httpraw.request(port, "GET", "/echo?i=%d" % i).status == 200


def test_server_given_by_host_name(gatehouse, origin, port):
    """`server s1 localhost:PORT`: names are resolved once at load."""
    gatehouse(simple_http_config(port, [origin.addr.replace("127.0.0.1", "localhost")]))
    r = httpraw.request(port, "GET", "/echo")
    assert r.status == 200 and r.json()["method"] == "GET"
