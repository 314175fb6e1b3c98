"""HTTP/2 to clients (proxy/h2_client.c, nghttp2; servers stay HTTP/1.1).

A plain bind takes HTTP/1.1 and HTTP/2 with prior knowledge (told apart by
the connection preface), `proto h1` refuses the preface, `proto h2` (h2c)
takes only HTTP/2, a TLS bind offers ALPN "h2,http/1.1".  Each stream goes
through the pipeline of an HTTP/1.1 request (routing, rules, request ids,
X-Forwarded-*, access log, local responses) and a local answer or a
refusal concerns its stream only.  Bodies: an h2 request body without
content-length reaches the origin chunked, with one as is; every response
framing reaches the client as DATA; trailers cross both ways.  Malformed
requests (RFC 9113 8.2, 8.3) are reset or answered 400 and never reach the
origin.  Flow control: a stream the client does not read stalls alone,
with memory bounded.  Graceful stop: GOAWAY, streams in flight finish.
Real clients: curl, nghttp, h2load.

The protections (h2_* directives, floods, timeouts) are in
test_h2_protect.py.  The raw client is h2util.H2Client.

HAProxy self-test (GATEHOUSE_IMPL=haproxy): HAProxy 2.6 speaks h2 on the
same binds (haproxy_compat translates `proto` and `tls cert`); where it
differs from gatehouse's contract the test is marked haproxy_differs
(xfail in that mode only, strict) with the difference in the reason.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import ghutil
import httpraw
import origins
from ghutil import ASAN, MiB, SLACK, RssSampler, simple_http_config, wait_for
from h2util import (CONNECTION_SPECIFIC, H2Client, MAX_CONCURRENT_STREAMS, PREFACE,
                    PROTOCOL_ERROR, SETTINGS, err_name, raw_frame)
from origins import expected_bytes

HAPROXY = ghutil.IMPL == "haproxy"
OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
NGHTTP = shutil.which("nghttp")
H2LOAD = shutil.which("h2load")

# What gatehouse's access log says an HTTP/2 request's protocol is: the JSON
# "protocol" field and the end of the combined request line.  One place.
H2_LOG_PROTOCOL = "HTTP/2.0"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def haproxy_differs(reason, strict=True):
    """A documented HAProxy 2.6 difference: xfail in the HAProxy self-test
    only (strict: it must fail there, unless HAProxy's behaviour varies
    from run to run); in normal mode the test runs as any other."""
    return pytest.mark.xfail(HAPROXY, reason="HAProxy 2.6 differs: " + reason, strict=strict)


def config(port, servers, fe="", be="", bind="", binds=(), drain="2s", tail=""):
    """simple_http_config with options on the first bind and more binds."""
    text = simple_http_config(port, servers, frontend_extra=fe, backend_extra=be, drain=drain)
    first = "    bind 127.0.0.1:%d\n" % port
    assert first in text
    new = "    bind 127.0.0.1:%d%s\n" % (port, " " + bind if bind else "")
    new += "".join("    bind %s\n" % b for b in binds)
    return text.replace(first, new, 1) + tail


def check_h2_head(s, bodiless=False):
    """What every HTTP/2 response head must look like (RFC 9113 8.2):
    lowercase names, no connection-specific field, a content-length that
    matches the DATA received."""
    for k, _ in s.headers + (s.trailers or []):
        assert k == k.lower(), "uppercase field name %r in an HTTP/2 response" % k
        assert k not in CONNECTION_SPECIFIC, "connection-specific field %r in an HTTP/2 " \
                                            "response" % k
    assert set(s.pseudo) == {":status"}, s.pseudo
    cl = s.headers_named("content-length")
    if cl and not bodiless:
        assert cl == [str(s.data_len)], "content-length %r, DATA %d" % (cl, s.data_len)


def origin_targets(origin):
    origin.settle()
    return [r["target"] for r in origin.stats.requests]


def seen_headers(rec):
    out = {}
    for k, v in rec["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


# ---- protocol selection ----------------------------------------------------------

def test_prior_knowledge_on_a_plain_bind(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        settings = c.wait_settings()
        assert c.frames[0][0] == SETTINGS, "the server's preface is a SETTINGS frame"
        r = c.get("/echo?x=1", [("user-agent", "e2e-h2")])
        assert r.status == 200, (r, c.summary())
        check_h2_head(r)
        assert r.header("x-origin") == "o1"
        j = r.json()
        assert (j["method"], j["target"], j["version"]) == ("GET", "/echo?x=1", "HTTP/1.1")
        h = seen_headers(j)
        assert h["host"] == ["test.local"], "the origin needs Host from :authority: %r" % h
        assert h["user-agent"] == ["e2e-h2"]
        assert not [k for k in h if k.startswith(":")]
        assert c.goaway is None and not c.anomalies, c.summary()
        # a server that advertises a stream limit lets us use at least one
        assert settings.get(MAX_CONCURRENT_STREAMS, 1) >= 1


def test_http1_still_works_on_the_same_bind(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(3):
            s.sendall(httpraw.build_request("GET", "/echo?h1=%d" % i))
            r = rd.read_response()
            assert r.status == 200 and r.version == "HTTP/1.1"
            assert r.json()["target"] == "/echo?h1=%d" % i
        with H2Client(port) as c:
            assert c.get("/echo?h2=1").status == 200
        s.sendall(httpraw.build_request("POST", "/echo?h1=post", body=b"p" * 5000))
        r = rd.read_response()
        assert r.status == 200 and r.json()["body_len"] == 5000
    finally:
        s.close()
    assert origin_targets(origin) == ["/echo?h1=0", "/echo?h1=1", "/echo?h1=2", "/echo?h2=1",
                                      "/echo?h1=post"]


@pytest.mark.parametrize("word", ["h2", "h2c"])
def test_bind_proto_h2_takes_only_http2(gatehouse, origin, port, word):
    gatehouse(config(port, [origin.addr], bind="proto %s" % word))
    with H2Client(port) as c:
        r = c.get("/echo?h2")
        assert r.status == 200, c.summary()
    s = httpraw.connect(port, timeout=5)
    try:
        s.sendall(httpraw.build_request("GET", "/echo?h1"))
        data, closed = httpraw.drain(s, timeout=3 * SLACK)
    finally:
        s.close()
    # an HTTP/1.1 request is no preface: a 400 (in any form) or a close,
    # maybe after a SETTINGS/GOAWAY; never a 200
    assert closed or data.startswith(b"HTTP/1.1 400"), data[:200]
    assert b"HTTP/1.1 200" not in data
    assert origin_targets(origin) == ["/echo?h2"]


def test_bind_proto_h1_refuses_the_preface(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], bind="proto h1"))
    s = httpraw.connect(port, timeout=5)
    try:
        s.sendall(PREFACE + raw_frame(SETTINGS, 0, 0))
        data, closed = httpraw.drain(s, timeout=3 * SLACK)
    finally:
        s.close()
    # the preface is no HTTP/1.1 request: 400 (or 505 for its version
    # HTTP/2.0, as test_reject allows) or a close, and no HTTP/2 SETTINGS
    # frame in answer
    assert data == b"" or re.match(rb"HTTP/1\.1 (400|505) ", data), data[:200]
    assert closed
    assert httpraw.request(port, "GET", "/echo?h1").status == 200
    assert origin_targets(origin) == ["/echo?h1"]


# ---- TLS and ALPN ------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_pem(tmp_path_factory):
    """A self-signed certificate for a.example.com, key in the same file."""
    if not OPENSSL:
        pytest.skip("needs the openssl CLI")
    d = tmp_path_factory.mktemp("h2tls")
    key, crt, pem = d / "key.pem", d / "crt.pem", d / "a.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=a.example.com",
                    "-addext", "subjectAltName=DNS:a.example.com"],
                   check=True, capture_output=True, timeout=60)
    pem.write_bytes(crt.read_bytes() + key.read_bytes())
    return dict(pem=str(pem), ca=str(crt))


def test_tls_alpn(gatehouse, origin, port, tls_pem):
    """Default ALPN "h2,http/1.1"; `proto h1` offers http/1.1 only, `proto
    h2` h2 only.  The h2 stream sees https as the scheme."""
    p1, p2 = ghutil.free_port(), ghutil.free_port()
    gatehouse(config(port, [origin.addr], bind="tls cert %s" % tls_pem["pem"],
                     binds=["127.0.0.1:%d tls cert %s proto h1" % (p1, tls_pem["pem"]),
                            "127.0.0.1:%d tls cert %s proto h2" % (p2, tls_pem["pem"])]))
    kw = dict(tls=True, server_hostname="a.example.com", cafile=tls_pem["ca"])
    with H2Client(port, alpn=("h2", "http/1.1"), **kw) as c:
        assert c.alpn == "h2"
        r = c.get("/echo?tls", scheme="https", authority="a.example.com")
        assert r.status == 200, c.summary()
        h = seen_headers(r.json())
        assert h["x-forwarded-proto"] == ["https"] and h["host"] == ["a.example.com"]
    with H2Client(port, alpn=("http/1.1",), preface=False, **kw) as c:
        assert c.alpn == "http/1.1"
        c.sock.settimeout(10 * SLACK)
        c.sock.sendall(httpraw.build_request("GET", "/echo?tls11", [("Connection", "close")]))
        r = httpraw.Reader(c.sock).read_response()
        assert r.status == 200 and r.version == "HTTP/1.1"
    with H2Client(p1, alpn=("h2", "http/1.1"), preface=False, **kw) as c:
        assert c.alpn == "http/1.1"
    with H2Client(p2, alpn=("h2", "http/1.1"), **kw) as c:
        assert c.alpn == "h2"
        assert c.get("/echo?h2only").status == 200
    assert origin_targets(origin) == ["/echo?tls", "/echo?tls11", "/echo?h2only"]


# ---- one connection, many streams ----------------------------------------------

def test_concurrent_streams_are_not_crossed(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        sids = {}
        for i in range(40):
            body = bytes([65 + i % 26]) * (i * 997)
            path = "/delay/%d?i=%d" % ((i * 37) % 300, i)
            sids[c.request("POST", path, body=body)] = (path, body)
        got = c.responses(list(sids), timeout=20 * SLACK)
        for s in got:
            path, body = sids[s.id]
            assert s.status == 200, (s, c.summary())
            j = s.json()
            assert j["target"] == path
            assert j["body_len"] == len(body)
            assert j["body_sha256"] == hashlib.sha256(body).hexdigest()
            check_h2_head(s)
        assert c.goaway is None
    assert origin.stats.max_delaying > 1, "the streams were not forwarded concurrently"
    assert len(origin_targets(origin)) == 40


def test_routing_per_stream(gatehouse, make_origin, port):
    a, b, h = make_origin("a"), make_origin("b"), make_origin("h")
    cfg = config(port, [a.addr], fe="""
        use_backend be_b if path prefix /b/
        use_backend be_h if header(X-Route) == h
    """) + ghutil.backend_block("be_b", [b.addr]) + ghutil.backend_block("be_h", [h.addr])
    gatehouse(cfg)
    with H2Client(port) as c:
        plan = [("/b/1", [], "b"), ("/x", [], "a"), ("/y", [("x-route", "h")], "h"),
                ("/b/2", [], "b"), ("/z", [("x-route", "nope")], "a")]
        sids = [c.request("GET", p, hs) for p, hs, _ in plan]
        for sid, (p, _, want) in zip(sids, plan):
            s = c.response(sid)
            assert s.status == 200 and s.header("x-origin") == want, (p, s)
    # concurrent streams reach their origins over parallel connections: in
    # any order
    assert sorted(origin_targets(a)) == ["/x", "/z"]
    assert sorted(origin_targets(b)) == ["/b/1", "/b/2"]
    assert origin_targets(h) == ["/y"]


def test_request_rules_answer_their_stream_only(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="""
        http_request deny if path prefix /admin
        http_request deny status 429 body "slow down" if path == /slow
        http_request return status 200 content_type "text/plain" body "pong" if path == /ping
        http_request redirect location "https://example.com/moved" code 301 if path == /old
    """))
    with H2Client(port) as c:
        plan = [("/admin/x", 403, None), ("/ok/1", 200, None), ("/slow", 429, b"slow down"),
                ("/ping", 200, b"pong"), ("/ok/2", 200, None), ("/old", 301, None),
                ("/admin/y", 403, None), ("/ok/3", 200, None)]
        sids = [c.request("GET", p) for p, _, _ in plan]
        # a denied request with a body: answered (before or after its body
        # arrived), the body dropped, nothing else affected
        post = c.request("POST", "/admin/post", end_stream=False)
        c.send_data(post, b"z" * 1000)
        c.send_data(post, b"z" * 1000, end_stream=True)
        res = c.response(post)
        assert res.status == 403, (res, c.summary())
        for sid, (p, status, body) in zip(sids, plan):
            s = c.response(sid)
            assert s.status == status, (p, s, c.summary())
            check_h2_head(s)
            if body is not None:
                assert s.body == body
        assert c.stream(sids[3]).header("content-type") == "text/plain"
        assert c.stream(sids[5]).header("location") == "https://example.com/moved"
        assert c.get("/ok/4").status == 200
        assert c.goaway is None and not c.closed
    assert sorted(origin_targets(origin)) == ["/ok/1", "/ok/2", "/ok/3", "/ok/4"]


def test_header_rewrites(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="""
        http_request set_header X-Set yes
        http_request del_header X-Debug
        http_response set_header Strict-Transport-Security "max-age=63072000"
        http_response del_header X-Origin
    """))
    with H2Client(port) as c:
        r = c.get("/echo", [("x-debug", "1"), ("x-set", "client"), ("x-keep", "k")])
        assert r.status == 200
        check_h2_head(r)     # the rule's Strict-Transport-Security goes out lowercase
        assert r.header("strict-transport-security") == "max-age=63072000"
        assert not r.has("x-origin")
        h = seen_headers(r.json())
        assert h["x-set"] == ["yes"] and "x-debug" not in h and h["x-keep"] == ["k"]


def test_forwarded_headers(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.get("/echo", [("x-forwarded-for", "6.6.6.6")], authority="h2.example:8443")
        assert r.status == 200
        h = seen_headers(r.json())
    assert h["host"] == ["h2.example:8443"]
    assert h["x-forwarded-for"][-1].split(",")[-1].strip() == "127.0.0.1"
    assert h["x-forwarded-proto"] == ["http"]
    assert h["x-forwarded-host"] == ["h2.example:8443"]


def test_cookie_crumbs_are_joined(gatehouse, origin, port):
    """RFC 9113 8.2.3: several cookie fields become one for HTTP/1.1."""
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.get("/echo", [("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")])
        assert r.status == 200
    assert seen_headers(r.json())["cookie"] == ["a=1; b=2; c=3"]


def test_request_id_per_stream(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="request_id header X-Request-ID"))
    with H2Client(port) as c:
        sids = [c.request("GET", "/echo?i=%d" % i) for i in range(5)]
        ids = []
        for s in c.responses(sids):
            rid = s.header("x-request-id")
            assert rid and UUID_RE.match(rid), s.headers
            assert seen_headers(s.json())["x-request-id"] == [rid]
            ids.append(rid)
    assert len(set(ids)) == 5


@haproxy_differs("unique-id-header replaces a client's id; gatehouse keeps a valid one")
def test_request_id_from_the_client_is_kept(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="request_id header X-Request-ID"))
    with H2Client(port) as c:
        r = c.get("/echo", [("x-request-id", "trace-0123456789abcdef")])
    assert r.header("x-request-id") == "trace-0123456789abcdef"
    assert seen_headers(r.json())["x-request-id"] == ["trace-0123456789abcdef"]


# ---- access log and local responses -------------------------------------------------

def _log_lines(path, n):
    def ready():
        try:
            data = open(path, "rb").read()
        except FileNotFoundError:
            return None
        lines = data.split(b"\n")
        return lines[:n] if len(lines) > n else None
    return wait_for(ready, 5 * SLACK, what="%d access log lines" % n)


def test_access_log_json(gatehouse, origin, port, tmp_path):
    from test_access_log import JSON_KEYS
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], fe="""
        access_log %s format json
        request_id header X-Request-ID
        http_request deny if path == /denied
    """ % log))
    with H2Client(port) as c:
        sids = [c.request("GET", "/echo?n=%d" % i, [("user-agent", "e2e-h2")],
                          authority="h2.example") for i in range(3)]
        sids.append(c.request("GET", "/denied", authority="h2.example"))
        sids.append(c.request("POST", "/echo?post", body=b"b" * 3000, authority="h2.example"))
        got = {s.id: s for s in c.responses(sids)}
    lines = [json.loads(x) for x in _log_lines(log, 5)]
    for e in lines:
        assert list(e) == JSON_KEYS
        assert e["protocol"] == H2_LOG_PROTOCOL, e
        assert e["host"] == "h2.example" and e["client"] == "127.0.0.1"
        assert e["frontend"] == "web"
    by_target = {e["target"]: e for e in lines}
    assert sorted(by_target) == sorted(["/echo?n=0", "/echo?n=1", "/echo?n=2", "/denied",
                                        "/echo?post"])
    for i in range(3):
        e = by_target["/echo?n=%d" % i]
        assert e["method"] == "GET" and e["status"] == 200 and e["user_agent"] == "e2e-h2"
        assert (e["backend"], e["server"]) == ("app", "s1")
        assert e["request_id"] == got[sids[i]].header("x-request-id")
    assert by_target["/denied"]["status"] == 403 and by_target["/denied"]["server"] is None
    assert by_target["/echo?post"]["method"] == "POST"
    assert by_target["/echo?post"]["bytes_in"] >= 3000
    assert len({e["request_id"] for e in lines}) == 5
    # one connection: the same client port on every line
    assert len({e["client_port"] for e in lines}) == 1


def test_access_log_combined(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    gatehouse(config(port, [origin.addr], fe="access_log %s format combined" % log))
    with H2Client(port) as c:
        assert c.get("/echo?c=1").status == 200
    [raw] = _log_lines(log, 1)
    assert ('"GET /echo?c=1 %s" 200 ' % H2_LOG_PROTOCOL) in raw.decode("ascii"), raw


def test_generated_errors_answer_their_stream_only(gatehouse, origin, port):
    dead = ghutil.free_port()
    cfg = config(port, [origin.addr], fe="use_backend dead if path prefix /dead",
                 tail=ghutil.backend_block("dead", ["127.0.0.1:%d" % dead],
                                           extra="timeout connect 1s"))
    cfg = cfg.replace("    default_backend app\n", "    use_backend app if path prefix /ok\n")
    gatehouse(cfg)
    with H2Client(port) as c:
        sids = [c.request("GET", p) for p in ("/ok/1", "/nowhere", "/dead/x", "/ok/2")]
        a, nowhere, dead_s, b = c.responses(sids, timeout=15 * SLACK)
        assert a.status == 200 and b.status == 200
        assert nowhere.status == 503          # no backend for it
        # README: HAProxy answers a refused connect 503 where gatehouse says 502
        assert dead_s.status == (503 if HAPROXY else 502)
        for s in (nowhere, dead_s):
            check_h2_head(s)
        assert c.get("/ok/3").status == 200 and c.goaway is None
    assert sorted(origin_targets(origin)) == ["/ok/1", "/ok/2", "/ok/3"]


def test_errorfile_and_rate_limit_on_one_stream(gatehouse, origin, port, tmp_path):
    page = tmp_path / "503.html"
    page.write_bytes(b"<html>no route</html>\n")
    cfg = config(port, [origin.addr], fe="""
        errorfile 503 %s
        http_request limit per_ip if path prefix /limited
    """ % page, tail="limit per_ip {\n    key src\n    rate 1/m\n    burst 2\n}\n")
    cfg = cfg.replace("    default_backend app\n",
                      "    use_backend app if path prefix /ok or path prefix /limited\n")
    gatehouse(cfg)
    with H2Client(port) as c:
        lim = [c.response(c.request("GET", "/limited/%d" % i)) for i in range(3)]
        assert [s.status for s in lim] == [200, 200, 429], lim
        assert lim[2].header("retry-after") == "60"
        sids = [c.request("GET", p) for p in ("/ok/1", "/nowhere", "/limited/3", "/ok/2")]
        ok1, nowhere, over, ok2 = c.responses(sids)
        assert (ok1.status, nowhere.status, over.status, ok2.status) == (200, 503, 429, 200)
        assert nowhere.body == b"<html>no route</html>\n"
        assert nowhere.header("content-type") == "text/html"
        check_h2_head(nowhere)
        assert c.goaway is None
    assert sorted(origin_targets(origin)) == ["/limited/0", "/limited/1", "/ok/1", "/ok/2"]


# ---- bodies -----------------------------------------------------------------------------

def test_request_body_without_length_reaches_the_origin_chunked(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    body = os.urandom(300000)
    with H2Client(port) as c:
        sid = c.request("POST", "/echo", end_stream=False)
        for i in range(0, len(body), 70000):      # several DATA runs, then an empty end
            c.send_data(sid, body[i:i + 70000])
        c.send_data(sid, b"", end_stream=True)
        r = c.response(sid)
    assert r.status == 200
    j = r.json()
    h = seen_headers(j)
    assert h.get("transfer-encoding") == ["chunked"] and "content-length" not in h, h
    assert j["body_len"] == len(body)
    assert j["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_request_body_with_length_reaches_the_origin_as_is(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    body = os.urandom(200000)
    with H2Client(port) as c:
        r = c.response(c.request("PUT", "/echo", [("content-length", str(len(body)))],
                                 body=body))
    assert r.status == 200
    j = r.json()
    h = seen_headers(j)
    assert h.get("content-length") == [str(len(body))] and "transfer-encoding" not in h, h
    assert j["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_big_request_body_is_flow_controlled(gatehouse, origin, port):
    """16 MiB up: more than any initial window, so the proxy must send
    WINDOW_UPDATEs as it forwards."""
    gatehouse(config(port, [origin.addr]))
    size = 16 * MiB
    body = expected_bytes(size)
    with H2Client(port, timeout=30) as c:
        r = c.response(c.request("POST", "/echo", [("content-length", str(size))], body=body))
    assert r.status == 200
    assert r.json()["body_len"] == size
    assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("path,framing", [("/bytes/%d", "content-length"),
                                          ("/chunked/%d?chunk=3000", "chunked"),
                                          ("/close/%d", "close-delimited")])
def test_response_framings_become_data(gatehouse, origin, port, path, framing):
    gatehouse(config(port, [origin.addr]))
    n = 1000003
    with H2Client(port) as c:
        r = c.get(path % n)
        assert r.status == 200 and r.ended and r.reset is None, r
        check_h2_head(r)
        assert r.data_len == n and r.body == expected_bytes(n), framing
        assert c.get("/echo?after").status == 200   # the connection lives on


def test_response_trailers_become_a_trailers_frame(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.get("/chunked/10000?chunk=3000&trailer=1")
        assert r.status == 200
        assert r.body == expected_bytes(10000)
        assert r.trailers == [("x-trailer", "done")], r
        check_h2_head(r)
        # the trailers are a HEADERS frame that ends the stream
        last = [f for f in c.frames if f[1] == r.id][-1]
        assert last[0] == 1 and "END_STREAM" in last[2] and r.heads == 2


def test_request_trailers_reach_the_origin(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.response(c.request("POST", "/echo", body=b"hello trailers",
                                 trailers=[("x-req-trailer", "yes"), ("x-sum", "abc")]))
    assert r.status == 200
    j = r.json()
    assert seen_headers(j).get("transfer-encoding") == ["chunked"]
    assert j["body_len"] == len(b"hello trailers")
    assert [(k.lower(), v) for k, v in j["trailers"]] == [("x-req-trailer", "yes"),
                                                          ("x-sum", "abc")]


def test_bodiless_responses(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        head = c.response(c.request("HEAD", "/bytes/1000"))
        assert head.status == 200 and head.data_len == 0 and head.ended
        check_h2_head(head, bodiless=True)
        for code in (204, 304):
            s = c.get("/status/%d" % code)
            assert s.status == code and s.data_len == 0 and s.ended
            check_h2_head(s, bodiless=True)
        assert c.get("/bytes/10").body == expected_bytes(10)


# ---- malformed requests (RFC 9113 8.2, 8.3) ---------------------------------------------

BASE = [(":method", "GET"), (":scheme", "http"), (":authority", "test.local"), (":path", "/echo")]
INJECT = "\r\nx-injected: 1"

MALFORMED = [
    ("uppercase-name", BASE + [("X-Upper", "1")]),
    ("connection", BASE + [("connection", "keep-alive")]),
    ("keep-alive", BASE + [("keep-alive", "timeout=5")]),
    ("proxy-connection", BASE + [("proxy-connection", "keep-alive")]),
    ("transfer-encoding", BASE + [("transfer-encoding", "chunked")]),
    ("upgrade", BASE + [("upgrade", "websocket")]),
    ("te-gzip", BASE + [("te", "gzip")]),
    ("nul-in-value", BASE + [("x-a", "a\x00b")]),
    ("missing-method", BASE[1:]),
    ("missing-scheme", BASE[:1] + BASE[2:]),
    ("missing-path", BASE[:3]),
    ("empty-path", BASE[:3] + [(":path", "")]),
    ("duplicate-path", BASE + [(":path", "/other")]),
    ("duplicate-method", BASE + [(":method", "POST")]),
    ("unknown-pseudo", BASE + [(":foo", "bar")]),
    ("response-pseudo", BASE + [(":status", "200")]),
    ("pseudo-after-regular", BASE[:3] + [("x-a", "1"), (":path", "/echo")]),
]
# HAProxy's HPACK decoder takes CR/LF in a value for a decoding error and
# ends the connection (GOAWAY COMPRESSION_ERROR); RFC 9113 8.2.1 makes it a
# malformed request, a stream error, which is what gatehouse does.
CRLF_DIFF = haproxy_differs("CR/LF in a value: GOAWAY COMPRESSION_ERROR, not a stream error")
MALFORMED_PARAMS = [pytest.param(f, id=n) for n, f in MALFORMED] + [
    pytest.param(BASE + [("x-a", "a" + INJECT)], id="cr-lf-in-value", marks=CRLF_DIFF),
    pytest.param(BASE + [("x-a", "a\rb")], id="cr-in-value", marks=CRLF_DIFF),
    pytest.param(BASE + [("x-a", "a\nx-injected: 1")], id="lf-in-value", marks=CRLF_DIFF),
]


def assert_refused(c, s):
    """The stream is reset (PROTOCOL_ERROR) or answered 400; the connection
    carries on."""
    assert s.reset == PROTOCOL_ERROR or s.status == 400, \
        "stream %d: %r (want RST_STREAM PROTOCOL_ERROR or 400; %s)" % (s.id, s, c.summary())
    assert not c.goaways and not c.closed, "a malformed request is a stream error: %s" \
        % c.summary()


@pytest.mark.parametrize("fields", MALFORMED_PARAMS)
def test_malformed_request_never_reaches_the_origin(gatehouse, origin, port, fields):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        assert_refused(c, c.response(c.request(fields=fields)))
        r = c.get("/echo?after")
        assert r.status == 200, c.summary()
    assert origin_targets(origin) == ["/echo?after"]
    assert origin.stats.heads == 1, "the origin saw part of the malformed request"


SMUGGLE = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("cl,body", [
    pytest.param(100, b"only twenty bytes...", id="shorter-than-content-length"),
    pytest.param(5, b"abcde" + SMUGGLE, id="longer-than-content-length"),
    pytest.param(5, None, id="content-length-without-data",
                 marks=haproxy_differs("forwards content-length 5 with END_STREAM on HEADERS")),
])
def test_content_length_disagreeing_with_data(gatehouse, origin, port, cl, body):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        sid = c.request("POST", "/echo?bad", [("content-length", str(cl))], body=body)
        assert_refused(c, c.response(sid))
        r = c.get("/echo?after")
        assert r.status == 200, c.summary()
    # the origin may have seen the head of the first (the body streams), but
    # never a complete request, nor what the extra bytes would have been
    assert origin_targets(origin) == ["/echo?after"]


@haproxy_differs("forwards `te: trailers` to HTTP/1.1 without naming it in Connection")
def test_te_trailers_is_accepted(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.get("/echo?te", [("te", "trailers")])
        assert r.status == 200, c.summary()
    origin.settle()
    errs = origins.take_protocol_errors()
    assert not errs, errs


# ---- flow control and backpressure ------------------------------------------------------

# README: an h2 stream in flight holds about 2 x tune.bufsize on each side
# (client stream and server connection); 100 streams of the default 32k
# bufsize make 12.5 MiB, plus a fixed allowance for the process.
BUFSIZE = 32 * 1024
STREAMS = 100
RSS_BOUND_MIB = (STREAMS * 2 * BUFSIZE * 2) / MiB + (32 if ASAN else 16)
STALLED_SIZE = 256 * MiB
IN_FLIGHT_BOUND = 128 * MiB     # kernel buffers of one stalled server connection


def test_a_stalled_stream_stalls_alone(gatehouse, origin, port):
    """One stream is never read (its window stays at 0): the 99 others, 1
    MiB each, complete on the same connection; memory stays bounded and
    the stalled response is held back at the origin (backpressure)."""
    g = gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:         # warm-up: buffers and pools in the baseline
        assert c.get("/bytes/100000").status == 200
    want = hashlib.sha256(expected_bytes(MiB)).hexdigest()
    with H2Client(port, keep_body=False, stream_window=65535, timeout=60) as c:
        c.wait_settings()
        with RssSampler(g.pid) as rss:
            stalled = c.request("GET", "/bytes/%d" % STALLED_SIZE, stalled=True)
            c.wait(lambda: c.stream(stalled).data_len > 0, what="the stalled stream's first DATA")
            sids = [c.request("GET", "/bytes/%d?i=%d" % (MiB, i)) for i in range(STREAMS - 1)]
            got = c.responses(sids, timeout=60 * SLACK)
            c.poll(0.5)
        for s in got:
            assert s.status == 200 and s.ended, (s, c.summary())
            assert s.data_len == MiB and s.sha.hexdigest() == want
        st = c.stream(stalled)
        assert not st.done and 0 < st.data_len <= 65535, st
        assert c.goaway is None
        origin_sent = origin.stats.bytes_out
    assert origin_sent < (STREAMS - 1) * MiB + IN_FLIGHT_BOUND, \
        "the origin sent %d MiB: the stalled stream was not held back" % (origin_sent // MiB)
    assert rss.growth_mib < RSS_BOUND_MIB, \
        "RSS grew %.1f MiB with %d streams in flight (bound %.1f)" % (
            rss.growth_mib, STREAMS, RSS_BOUND_MIB)


# ---- graceful stop --------------------------------------------------------------------------

def test_graceful_stop_sends_goaway_and_streams_finish(gatehouse, origin, port):
    g = gatehouse(config(port, [origin.addr], drain="5s"))
    with H2Client(port) as c:
        sids = [c.request("GET", "/delay/1000?i=%d" % i) for i in range(3)]
        wait_for(lambda: origin.stats.delaying == 3, 5 * SLACK, what="3 requests at the origin")
        g.signal(g.graceful_signal)
        g.stopped_by_test = True
        last, code, _ = c.wait_goaway(2 * SLACK) or (None, None, None)
        assert last is not None, "no GOAWAY after the graceful-stop signal: %s" % c.summary()
        assert code == 0 and last >= max(sids), (last, err_name(code))
        for s in c.responses(sids):
            assert s.status == 200 and s.json()["target"].startswith("/delay/1000"), s
    rc = g.proc.wait(g.drain + 3 * SLACK)
    assert rc == 0


@haproxy_differs("soft-stop sends only GOAWAY(2^31-1) and keeps the idle h2 connection "
                 "until hard-stop-after")
def test_graceful_stop_names_the_last_stream_and_closes(gatehouse, origin, port):
    g = gatehouse(config(port, [origin.addr], drain="5s"))
    with H2Client(port) as c:
        sids = [c.request("GET", "/delay/800?i=%d" % i) for i in range(2)]
        wait_for(lambda: origin.stats.delaying == 2, 5 * SLACK, what="2 requests at the origin")
        t0 = time.monotonic()
        g.signal(g.graceful_signal)
        g.stopped_by_test = True
        # possibly a first GOAWAY(2^31-1), then the one with the last stream
        c.wait(lambda: any(l < 0x7FFFFFFF for l, _, _ in c.goaways), 2 * SLACK,
               "a GOAWAY with the last stream id")
        last = min(l for l, _, _ in c.goaways)
        assert last >= max(sids)
        late = c.request("GET", "/echo?late")   # after the GOAWAY: never served
        assert late > last
        for s in c.responses(sids):
            assert s.status == 200
        assert c.wait_closed(2 * SLACK), "connection still open after its streams finished"
    rc = g.proc.wait(5 * SLACK)
    assert rc == 0 and time.monotonic() - t0 < 3 * SLACK
    assert "/echo?late" not in origin_targets(origin)


# ---- real clients -------------------------------------------------------------------------

def _run(argv, timeout=60):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout * SLACK)


def test_curl_prior_knowledge(gatehouse, origin, port, tmp_path):
    if not CURL:
        pytest.skip("needs curl")
    gatehouse(config(port, [origin.addr]))
    p = _run([CURL, "-sS", "--http2-prior-knowledge", "-w", "\n%{http_code} %{http_version}",
              "http://127.0.0.1:%d/echo?curl=1" % port])
    assert p.returncode == 0, p.stderr
    body, _, tail = p.stdout.rpartition(b"\n")
    assert tail == b"200 2", tail
    assert json.loads(body)["target"] == "/echo?curl=1"
    up = tmp_path / "up.bin"
    data = os.urandom(3 * MiB)
    up.write_bytes(data)
    p = _run([CURL, "-sS", "--http2-prior-knowledge", "--data-binary", "@%s" % up,
              "-w", "\n%{http_code} %{http_version}", "http://127.0.0.1:%d/echo?curl=2" % port])
    body, _, tail = p.stdout.rpartition(b"\n")
    assert p.returncode == 0 and tail == b"200 2", (p.stderr, tail)
    assert json.loads(body)["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_curl_http2_over_tls(gatehouse, origin, port, tls_pem):
    if not CURL:
        pytest.skip("needs curl")
    gatehouse(config(port, [origin.addr], bind="tls cert %s" % tls_pem["pem"]))
    p = _run([CURL, "-sS", "-k", "--http2", "-o", "/dev/null",
              "-w", "%{http_code} %{http_version}", "https://127.0.0.1:%d/bytes/500000" % port])
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"200 2"
    p = _run([CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null",
              "-w", "%{http_code} %{http_version}", "https://127.0.0.1:%d/echo" % port])
    assert p.returncode == 0 and p.stdout == b"200 1.1", (p.stdout, p.stderr)


def test_nghttp(gatehouse, origin, port):
    if not NGHTTP:
        pytest.skip("needs nghttp (nghttp2-client)")
    gatehouse(config(port, [origin.addr]))
    p = _run([NGHTTP, "-nv", "http://127.0.0.1:%d/echo?nghttp" % port])
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-2000:] + p.stderr.decode(errors="replace")
    assert re.search(r"recv \(stream_id=\d+\) :status: 200", out), out[-2000:]
    assert origin_targets(origin) == ["/echo?nghttp"]


def test_h2load(gatehouse, origin, port):
    if not H2LOAD:
        pytest.skip("needs h2load (nghttp2-client)")
    gatehouse(config(port, [origin.addr]))
    p = _run([H2LOAD, "-n", "1000", "-c", "10", "-m", "10",
              "http://127.0.0.1:%d/echo" % port], timeout=60)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-2000:]
    assert re.search(r"requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, "
                     r"0 failed, 0 errored, 0 timeout", out), out[-2000:]
    assert "status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx" in out, out[-2000:]
    assert len(origin_targets(origin)) == 1000
