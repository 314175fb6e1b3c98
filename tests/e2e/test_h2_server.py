"""HTTP/2 to servers (`server NAME ADDR proto h2`, proxy/h2_server.c).

The origin is h2origin.H2Origin (python3-h2, server side, strict about
what it receives).  Every client protocol reaches it: HTTP/1.1 clients
(httpraw) and HTTP/2 clients (h2util, curl --http2-prior-knowledge).

  messages   GET, POST with and without content-length (8 MiB, compared
             byte for byte, and small bodies that arrive with the head), an
             HTTP/1.1 chunked upload, big responses; a response without
             content-length reaches an HTTP/1.1 client chunked; response
             trailers become chunked trailers (h1) or a trailers HEADERS
             frame (h2); a response that is only a head (gRPC's
             trailers-only) keeps END_STREAM on its HEADERS; request
             trailers reach the origin; bodies stream both ways
  muxing     50 concurrent requests share one server connection per worker;
             the server's SETTINGS_MAX_CONCURRENT_STREAMS (5) is never
             exceeded once acknowledged while 50 requests still complete
             (more connections); `maxconn 3` caps the streams in flight
  failures   REFUSED_STREAM is retried on another server (GET and POST),
             within `retries` when every server refuses; a reset before the
             response head is a 502 (the access log says server-reset); a
             reset mid-body cuts the client; a GOAWAY below a stream: the
             stream is retried, the earlier ones finish; a retried request
             carries its whole body (or gets a 502), never an empty one;
             `timeout server` on a hung stream is a 504, the other streams
             on the connection go on; a client's RST_STREAM cancels its
             server stream only
  rules      X-Forwarded-*, request ids, header rules and hop-by-hop
             removal apply as for HTTP/1.1 servers
  config     `gatehouse -t`: a backend mixing h1 and h2 servers, an unknown
             proto, proto h2 in a tcp backend, each with line:col
  TLS        `proto h2 tls verify none` and `verify required ca ... sni`
             negotiate ALPN h2 with the origin

HAProxy self-test: haproxy_compat translates `proto h2` (and `maxconn`) on
a server line; access-log and `-t` tests are gatehouse-only.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import ghutil
import httpraw
import origins
from ghutil import MiB, SLACK, backend_block, frontend_block, global_block, wait_for
from h2origin import H2Origin
from h2util import H2Client, err_name
from origins import expected_bytes
from test_h2 import haproxy_differs

HAPROXY = ghutil.IMPL == "haproxy"
OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
BIG = 8 * MiB

CLIENTS = ["h1", "h2"]


# ---- helpers ----------------------------------------------------------------------

@pytest.fixture
def make_h2origin():
    made = []

    def make(name="h%d", **kw):
        if "%d" in name:
            name = name % (len(made) + 1)
        o = H2Origin(name, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture
def h2origin(make_h2origin):
    return make_h2origin("h1o")


def h2srv(o, opts=""):
    return "%s proto h2%s" % (o.addr, " " + opts if opts else "")


def config(port, servers, fe="", be="", workers=1, drain="2s", glob="", tail=""):
    """servers: H2Origin (proto h2), or "ADDR OPTIONS" strings."""
    srv = [h2srv(s) if isinstance(s, H2Origin) else s for s in servers]
    return (global_block(workers, drain, glob) + frontend_block(port, "app", "http", fe)
            + backend_block("app", srv, "http", be) + tail)


class Resp:
    """One response as either client saw it: status, headers (lowercase
    names), body, trailers (lowercase names); h1: framing; h2: the
    stream's reset code and whether it ended."""

    def __init__(self, status, headers, body, trailers, framing=None, reset=None, ended=True):
        self.status = status
        self.headers = [(k.lower(), v) for k, v in headers]
        self.body = body
        self.trailers = [(k.lower(), v) for k, v in (trailers or [])]
        self.framing = framing
        self.reset = reset
        self.ended = ended

    def header(self, name):
        v = [x for k, x in self.headers if k == name.lower()]
        return v[-1] if v else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Resp %s framing=%s reset=%s ended=%s body=%d headers=%r trailers=%r>" % (
            self.status, self.framing, err_name(self.reset), self.ended, len(self.body),
            self.headers[:8], self.trailers)


def chunked(body, size=65536, trailers=()):
    out = bytearray()
    for i in range(0, len(body), size):
        c = body[i:i + size]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    out += b"0\r\n" + b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in trailers)
    return bytes(out) + b"\r\n"


def h1(port, method="GET", path="/", headers=(), body=None, chunked_body=False, trailers=(),
       timeout=20):
    hs = list(headers) + [("Connection", "close")]
    s = httpraw.connect(port, timeout * SLACK)
    try:
        if chunked_body:
            hs.append(("Transfer-Encoding", "chunked"))
            s.sendall(httpraw.build_request(method, path, hs) + chunked(body or b"",
                                                                        trailers=trailers))
        else:
            if body is not None and not body:
                hs.append(("Content-Length", "0"))
            s.sendall(httpraw.build_request(method, path, hs, body or b""))
        r = httpraw.Reader(s).read_response(method)
    finally:
        s.close()
    return Resp(r.status, r.headers, r.body, r.trailers, framing=r.framing)


def h2(port, method="GET", path="/", headers=(), body=None, content_length=True, trailers=None,
       timeout=20):
    hs = list(headers)
    if body is not None and content_length:
        hs.append(("content-length", str(len(body))))
    with H2Client(port, timeout=timeout) as c:
        s = c.response(c.request(method, path, hs, body=body, trailers=trailers))
    return Resp(s.status, s.headers, s.body, s.trailers, reset=s.reset, ended=s.ended)


def fetch(client, port, method="GET", path="/", headers=(), body=None, **kw):
    return (h1 if client == "h1" else h2)(port, method, path, headers, body, **kw)


def pseudo_ok(rec, method, path, authority="test.local", scheme="http"):
    """gatehouse builds :authority from Host (RFC 9113 8.3.1) and says the
    client's scheme.  HAProxy 2.6 (self-test) keeps Host without
    :authority and says :scheme https for a cleartext HTTP/1.1 request."""
    p = rec["pseudo"]
    if HAPROXY:
        host = [v for k, v in rec["headers"] if k == "host"]
        assert (p.get(":method"), p.get(":path"), p.get(":authority") or host[0]) == \
            (method, path, authority), (p, host)
        return
    assert (p.get(":method"), p.get(":path"), p.get(":authority"), p.get(":scheme")) == \
        (method, path, authority, scheme), p


def seen(rec):
    out = {}
    for k, v in rec["headers"]:
        out.setdefault(k, []).append(v)
    return out


def log_json(path, n):
    def ready():
        try:
            lines = open(path, "rb").read().split(b"\n")
        except FileNotFoundError:
            return None
        return lines[:n] if len(lines) > n else None
    return [json.loads(x) for x in wait_for(ready, 5 * SLACK, what="%d access log lines" % n)]


def run_parallel(n, fn, workers=None):
    with ThreadPoolExecutor(workers or n) as ex:
        futs = [ex.submit(fn, i) for i in range(n)]
        return [f.result(timeout=60 * SLACK) for f in futs]


# ---- messages --------------------------------------------------------------------

@pytest.mark.parametrize("client", CLIENTS)
def test_get(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    r = fetch(client, port, "GET", "/echo?x=1", [("user-agent", "e2e-h2srv"), ("x-a", "b")])
    assert r.status == 200, r
    assert r.header("x-origin") == "h1o"
    assert r.header("content-length") == str(len(r.body))
    rec = r.json()
    pseudo_ok(rec, "GET", "/echo?x=1")
    h = seen(rec)
    assert h["user-agent"] == ["e2e-h2srv"] and h["x-a"] == ["b"]
    assert h2origin.accepts == 1 and len(h2origin.requests) == 1
    assert rec["body_len"] == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_post_with_content_length(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    body = os.urandom(BIG)
    r = fetch(client, port, "POST", "/echo?cl", body=body, timeout=60)
    assert r.status == 200, r
    rec = r.json()
    pseudo_ok(rec, "POST", "/echo?cl")
    assert seen(rec).get("content-length") == [str(BIG)]
    assert rec["body_len"] == BIG
    assert rec["body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("client", CLIENTS)
def test_post_without_content_length(gatehouse, h2origin, port, client):
    """h1: a chunked upload; h2: DATA without content-length.  The origin
    gets DATA without content-length (and no transfer-encoding: h2origin
    would take it for a protocol error)."""
    gatehouse(config(port, [h2origin]))
    body = os.urandom(BIG)
    if client == "h1":
        r = h1(port, "POST", "/echo?chunked", body=body, chunked_body=True, timeout=60)
    else:
        r = h2(port, "POST", "/echo?chunked", body=body, content_length=False, timeout=60)
    assert r.status == 200, r
    rec = r.json()
    assert "content-length" not in seen(rec) and "transfer-encoding" not in seen(rec), rec
    assert rec["body_len"] == BIG
    assert rec["body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("size", [0, 1, 100, 20000])
def test_small_request_bodies(gatehouse, h2origin, port, client, size):
    """Bodies that arrive with the request head (one segment for h1; an h2
    client's DATA right behind its HEADERS), with a content-length and
    (h2) without: the origin gets them whole, with END_STREAM."""
    gatehouse(config(port, [h2origin]))
    body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    for cl in ((True, False) if client == "h2" else (True,)):
        path = "/echo?size=%d&cl=%d" % (size, cl)
        try:
            if client == "h1":
                r = h1(port, "POST", path, body=body, timeout=3)
            else:
                r = h2(port, "POST", path, body=body, content_length=cl, timeout=3)
        except (OSError, AssertionError) as e:
            pytest.fail("POST of %d bytes (content-length: %s): no response within 3 s (%s); "
                        "the origin saw: %s" % (size, cl, str(e)[:200], h2origin.summary()))
        assert r.status == 200, r
        rec = r.json()
        assert rec["body_len"] == size and rec["body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("client", CLIENTS)
def test_big_response(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    r = fetch(client, port, "GET", "/bytes/%d" % BIG, timeout=60)
    assert r.status == 200, r
    assert r.header("content-length") == str(BIG)
    assert len(r.body) == BIG and r.body == expected_bytes(BIG)


@pytest.mark.parametrize("client", CLIENTS)
def test_response_without_length(gatehouse, h2origin, port, client):
    """/stream/N: N DATA frames, no content-length.  An HTTP/1.1 client gets
    it chunked, with the same bytes."""
    gatehouse(config(port, [h2origin]))
    r = fetch(client, port, "GET", "/stream/300?size=3333")
    assert r.status == 200, r
    assert r.body == expected_bytes(300 * 3333)
    assert r.header("content-length") is None
    if client == "h1":
        assert r.framing == "chunked", r
        assert r.header("transfer-encoding") == "chunked"
    else:
        assert r.ended and r.reset is None, r


@pytest.mark.parametrize("client", CLIENTS)
def test_response_trailers(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    r = fetch(client, port, "GET", "/trailers?n=50000")
    assert r.status == 200, r
    body = expected_bytes(50000)
    assert r.body == body
    want = [("x-trailer", "done"), ("x-body-sha256", hashlib.sha256(body).hexdigest())]
    assert r.trailers == want, r
    if client == "h1":
        assert r.framing == "chunked", r


def test_response_trailers_to_an_h1_client_with_te_trailers(gatehouse, h2origin, port):
    """gRPC-web style: `TE: trailers` from an HTTP/1.1 client; the trailers
    still arrive as chunked trailers."""
    gatehouse(config(port, [h2origin]))
    r = h1(port, "GET", "/trailers?n=10", [("TE", "trailers")])
    assert r.status == 200 and r.framing == "chunked", r
    assert ("x-trailer", "done") in r.trailers, r


@pytest.mark.parametrize("client", CLIENTS)
def test_request_trailers_reach_the_origin(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    body = os.urandom(100000)
    tr = [("x-req-trailer", "yes"), ("x-sum", "abc")]
    if client == "h1":
        r = h1(port, "POST", "/echo?rt", body=body, chunked_body=True, trailers=tr)
    else:
        r = h2(port, "POST", "/echo?rt", body=body, content_length=False, trailers=tr)
    assert r.status == 200, r
    rec = r.json()
    assert rec["body_len"] == len(body)
    assert rec["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert [tuple(t) for t in rec["trailers"]] == tr, rec


@pytest.mark.parametrize("client", CLIENTS)
def test_bodiless_responses(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin]))
    r = fetch(client, port, "HEAD", "/bytes/1000")
    assert r.status == 200 and r.body == b"", r
    for code in (204, 304):
        r = fetch(client, port, "GET", "/status/%d" % code)
        assert r.status == code and r.body == b"", r
    r = fetch(client, port, "GET", "/status/404")
    assert r.status == 404 and r.body == b"status 404\n", r


@pytest.mark.parametrize("client", CLIENTS)
def test_response_that_is_only_a_head(gatehouse, h2origin, port, client):
    """The server's HEADERS carries END_STREAM (gRPC's trailers-only
    response: grpc-status in the head).  An HTTP/2 client must get it the
    same way - one HEADERS frame with END_STREAM, no DATA - or a gRPC
    client takes grpc-status for initial metadata and never sees a status;
    an HTTP/1.1 client gets an empty body."""
    gatehouse(config(port, [h2origin]))
    if client == "h1":
        r = h1(port, "GET", "/only-head")
        assert r.status == 200 and r.body == b"", r
        assert (r.header("grpc-status"), r.header("grpc-message")) == ("5", "gone"), r
        return
    with H2Client(port) as c:
        s = c.response(c.request("GET", "/only-head", [("te", "trailers")]))
        assert s.status == 200 and s.ended and s.data_len == 0, s
        assert (s.header("grpc-status"), s.header("grpc-message")) == ("5", "gone"), s.headers
        frames = [(t, sorted(f)) for t, sid, f in c.frames if sid == s.id]
        assert frames == [(1, ["END_HEADERS", "END_STREAM"])], \
            "want one HEADERS frame with END_STREAM, got %r" % frames


def test_keep_alive_h1_client_many_requests_one_server_connection(gatehouse, h2origin, port):
    gatehouse(config(port, [h2origin]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(20):
            body = b"k" * (70000 + i * 100)
            s.sendall(httpraw.build_request("POST", "/echo?k=%d" % i, body=body))
            r = rd.read_response()
            assert r.status == 200, r
            j = r.json()
            assert j["path"] == "/echo?k=%d" % i and j["body_len"] == len(body)
    finally:
        s.close()
    assert h2origin.accepts == 1
    assert [r["stream"] for r in h2origin.requests] == list(range(1, 41, 2))


def test_curl_prior_knowledge_through_to_an_h2_server(gatehouse, h2origin, port, tmp_path):
    if not CURL:
        pytest.skip("needs curl")
    gatehouse(config(port, [h2origin]))
    up = tmp_path / "up.bin"
    data = os.urandom(3 * MiB)
    up.write_bytes(data)
    p = subprocess.run([CURL, "-sS", "--http2-prior-knowledge", "--data-binary", "@%s" % up,
                        "-w", "\n%{http_code} %{http_version}",
                        "http://127.0.0.1:%d/echo?curl=1" % port],
                       capture_output=True, timeout=60 * SLACK)
    body, _, tail = p.stdout.rpartition(b"\n")
    assert p.returncode == 0 and tail == b"200 2", (p.stderr, tail)
    j = json.loads(body)
    assert j["path"] == "/echo?curl=1" and j["body_sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("client", CLIENTS)
def test_response_streams_as_it_arrives(gatehouse, h2origin, port, client):
    """5 DATA frames 300 ms apart: the first reaches the client long before
    the last is sent (no buffering of a whole response)."""
    gatehouse(config(port, [h2origin]))
    path = "/stream/5?size=100&interval_ms=300"
    t0 = time.monotonic()
    if client == "h1":
        s = httpraw.connect(port, 10 * SLACK)
        try:
            s.sendall(httpraw.build_request("GET", path, [("Connection", "close")]))
            rd = httpraw.Reader(s)
            head = rd.read_head()
            assert head.status == 200
            rd.read_until(b"\r\n")              # the first chunk-size line
            first = time.monotonic() - t0
            rest, closed = httpraw.drain(s, timeout=5 * SLACK)
            assert closed and rest.endswith(b"0\r\n\r\n"), rest[-20:]
        finally:
            s.close()
    else:
        with H2Client(port) as c:
            sid = c.request("GET", path)
            c.wait(lambda: c.stream(sid).data_len > 0, what="the first DATA")
            first = time.monotonic() - t0
            st = c.response(sid)
            assert st.ended and st.body == expected_bytes(500), st
    total = time.monotonic() - t0
    assert total >= 1.2 and first < 0.6 * SLACK, (first, total)


@pytest.mark.parametrize("client", CLIENTS)
def test_request_body_streams_to_the_server(gatehouse, h2origin, port, client):
    """The first half of a body reaches the origin before the client sends
    the second half (no buffering of a whole request)."""
    gatehouse(config(port, [h2origin]))
    half = 100000
    body = os.urandom(2 * half)
    if client == "h1":
        s = httpraw.connect(port, 10 * SLACK)
        try:
            s.sendall(httpraw.build_request("POST", "/echo?half", [("Connection", "close")],
                                            body)[:-half])
            wait_for(lambda: half in h2origin.receiving().values(), 5 * SLACK,
                     what="the first half at the origin (%s)" % h2origin.summary())
            s.sendall(body[half:])
            r = httpraw.Reader(s).read_response()
        finally:
            s.close()
        j = r.json()
    else:
        with H2Client(port) as c:
            sid = c.request("POST", "/echo?half", [("content-length", str(len(body)))],
                            body=body[:half], end_stream=False)
            wait_for(lambda: (c.poll(0.01) or half in h2origin.receiving().values()),
                     5 * SLACK, what="the first half at the origin (%s)" % h2origin.summary())
            c.send_data(sid, body[half:], end_stream=True)
            r = c.response(sid)
            j = r.json()
    assert r.status == 200
    assert j["body_len"] == len(body) and j["body_sha256"] == hashlib.sha256(body).hexdigest()


# ---- one connection, many streams -------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_h1_clients_share_one_server_connection(gatehouse, h2origin, port, workers):
    """50 HTTP/1.1 clients at once: one connection to the origin per worker
    thread carries them all, as concurrent streams."""
    gatehouse(config(port, [h2origin], workers=workers))

    def one(i):
        return h1(port, "GET", "/delay/400?i=%d" % i)
    got = run_parallel(50, one)
    assert [r.status for r in got] == [200] * 50, [r for r in got if r.status != 200][:3]
    for i, r in enumerate(got):
        assert r.json()["path"] == "/delay/400?i=%d" % i
    assert 1 <= h2origin.accepts <= workers, h2origin.summary()
    assert len(h2origin.requests) == 50
    assert h2origin.max_open_total >= 25, \
        "the 50 requests were not concurrent streams: %s" % h2origin.summary()


def test_h2_client_streams_share_one_server_connection(gatehouse, h2origin, port):
    gatehouse(config(port, [h2origin], workers=1))
    with H2Client(port, timeout=30) as c:
        sids = {}
        for i in range(50):
            body = bytes([65 + i % 26]) * (70000 + i * 1511)
            sids[c.request("POST", "/delay/%d?i=%d" % ((i * 37) % 400, i), body=body)] = body
        for s in c.responses(list(sids)):
            assert s.status == 200, (s, c.summary())
            j = s.json()
            assert j["body_len"] == len(sids[s.id])
            assert j["body_sha256"] == hashlib.sha256(sids[s.id]).hexdigest()
    assert h2origin.accepts == 1, h2origin.summary()
    assert h2origin.max_open_total >= 10, h2origin.summary()


@haproxy_differs("sometimes opens a sixth stream after acking the limit of 5, and "
                 "answers the refused stream 502", strict=False)
def test_server_max_concurrent_streams_is_honoured(gatehouse, make_h2origin, port):
    """The origin allows 5 streams per connection: 50 requests at once all
    complete, gatehouse opening more connections; once it has acked the
    origin's SETTINGS it never has a sixth stream open on one (before
    that, RFC 9113 lets it try: the origin refuses the extra streams,
    REFUSED_STREAM, and they must be retried.  gatehouse sends none before
    the server's SETTINGS (h2_server.c, h2sc_settle): under load, a fresh
    connection's refusals used to exceed `retries` -
    test_no_stream_before_the_servers_settings makes that deterministic)."""
    o = make_h2origin("lim", max_streams=5)
    gatehouse(config(port, [o], workers=1))

    def one(i):
        return h1(port, "GET", "/delay/300?i=%d" % i)
    got = run_parallel(50, one)
    errs = origins.take_protocol_errors()     # here, so the xfail below covers them
    bad = [r for r in got if r.status != 200]
    assert not errs, "\n".join(errs[:5])
    assert not bad, "%d of 50 failed, e.g. %r; %s" % (len(bad), bad[:3], o.summary())
    assert len(o.requests) == 50
    for c in o.conns:
        assert c.over_limit_after_ack == 0 and c.max_open_after_ack <= 5, o.summary()
    assert max(c.max_open for c in o.conns) <= 5
    assert o.accepts >= 2, "one connection of 5 streams for 50 requests: %s" % o.summary()
    assert o.max_open_total > 5, "the connections were not used at once: %s" % o.summary()
    print("origin:", o.summary())


def test_no_stream_before_the_servers_settings(gatehouse, make_h2origin, port):
    """The origin allows 1 stream per connection and sends its SETTINGS
    500 ms late, with `retries 1`.  gatehouse holds a new connection's
    streams until the server's SETTINGS arrive (RFC 9113 6.5.2 would let
    it assume 100, and the origin would refuse all but one of them: more
    refusals than `retries` allows, so 502s), then sends as many as the
    server allows and moves the others to connections of their own.  So
    no stream is ever over the limit, none is refused, all answer 200."""
    o = make_h2origin("late", max_streams=1, settings_delay=0.5)
    gatehouse(config(port, [o], be="retries 1", workers=1))

    def one(i):
        return h1(port, "GET", "/delay/100?i=%d" % i)
    got = run_parallel(8, one)
    bad = [r for r in got if r.status != 200]
    assert not bad, "%d of 8 failed, e.g. %r; %s" % (len(bad), bad[:3], o.summary())
    assert not o.refused, o.summary()
    for c in o.conns:
        assert c.over_limit_before_ack == 0 and c.max_open <= 1, o.summary()
    assert len(o.requests) == 8


def test_maxconn_counts_streams(gatehouse, h2origin, port):
    """`maxconn 3` on an h2 server: 3 streams in flight at most, the rest
    queue; all complete."""
    gatehouse(config(port, ["%s maxconn 3" % h2srv(h2origin)], be="timeout queue 20s"
                     if not HAPROXY else ""))

    def one(i):
        return h1(port, "GET", "/delay/200?i=%d" % i)
    got = run_parallel(20, one)
    assert [r.status for r in got] == [200] * 20, got
    assert h2origin.max_open_total == 3, h2origin.summary()
    assert h2origin.max_delaying == 3
    assert h2origin.accepts == 1, h2origin.summary()


def test_concurrent_h2_streams_over_limited_connections_are_not_crossed(
        gatehouse, make_h2origin, port):
    o = make_h2origin("lim", max_streams=4)
    gatehouse(config(port, [o], workers=2))
    with H2Client(port, timeout=30) as c:
        sids = {}
        for i in range(30):
            body = os.urandom(70000 + i * 7919)
            sids[c.request("PUT", "/delay/%d?i=%d" % ((i * 53) % 300, i), body=body)] = (i, body)
        for s in c.responses(list(sids), timeout=40 * SLACK):
            i, body = sids[s.id]
            assert s.status == 200, (s, c.summary())
            j = s.json()
            assert j["path"] == "/delay/%d?i=%d" % ((i * 53) % 300, i)
            assert j["body_sha256"] == hashlib.sha256(body).hexdigest()
    for cr in o.conns:
        assert cr.over_limit_after_ack == 0, o.summary()


# ---- failures -----------------------------------------------------------------------

def h1_slow_body(port, method, path, body, pause=0.05, timeout=10, until=None):
    """The head, then the body `pause` seconds later (a client whose body
    follows its head: the server's answer to the head comes first).  With
    `until`, the body waits for until() to be true first (bounded), so the
    order does not rest on a pause a loaded machine can outlast."""
    s = httpraw.connect(port, timeout * SLACK)
    try:
        req = httpraw.build_request(method, path, [("Connection", "close")], body)
        s.sendall(req[:len(req) - len(body)])
        if until:
            wait_for(until, timeout * SLACK, what="the server's answer to the head")
        time.sleep(pause * SLACK)
        s.sendall(body)
        r = httpraw.Reader(s).read_response(method)
    finally:
        s.close()
    return Resp(r.status, r.headers, r.body, r.trailers, framing=r.framing)


REFUSED_DIFF = haproxy_differs("REFUSED_STREAM is not retried without `retry-on "
                               "refused-stream`: 502", strict=False)


@pytest.mark.parametrize("method,size", [
    pytest.param("GET", 0, id="GET", marks=REFUSED_DIFF),
    pytest.param("POST", 10000, id="POST-after-refusal", marks=REFUSED_DIFF),
    pytest.param("POST", 200000, id="POST-big-sent-at-once",
                 marks=haproxy_differs("under load, a refused stream whose body was being "
                                       "sent sometimes closes the client connection "
                                       "without a response", strict=False))])
def test_refused_stream_is_retried_on_another_server(gatehouse, make_h2origin, port, method,
                                                     size):
    """Origin a refuses every stream (REFUSED_STREAM), b answers.  A GET
    and a POST whose body follows the refusal are retried on b, whole.  A
    200 kB POST sent at once has gone to a before the refusal: it is
    retried with its whole body, or answered 502 - never sent to b with
    part of its body (b would see content-length disagree with the DATA:
    a protocol error)."""
    a, b = make_h2origin("a"), make_h2origin("b")
    gatehouse(config(port, [a, b]))
    got = []
    for i in range(6):
        path = "/refuse?on=a&i=%d" % i
        body = os.urandom(size) if size else None
        if method == "GET":
            r = h1(port, "GET", path, timeout=10)
        elif size <= 10000:
            # The body follows the head's arrival at a server (a's refusal,
            # or b's head when b was picked first), then a moment for
            # gatehouse to read a refusal: that is the case this is about.
            n0, h0 = len(a.refused), b.heads
            r = h1_slow_body(port, method, path, body,
                             until=lambda: len(a.refused) > n0 or b.heads > h0)
        else:
            r = h1(port, method, path, body=body, timeout=10)
        got.append(r.status)
        if size > 10000 and r.status == 502:
            continue
        assert r.status == 200 and r.header("x-origin") == "b", (i, r, a.summary())
        if body:
            assert r.json()["body_len"] == len(body)
            assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
    errs = origins.take_protocol_errors()
    assert not errs, "retried with a body that is not the request's (%s):\n  %s" % (
        got, "\n  ".join(errs))
    assert a.refused, "a never refused anything: %s" % a.summary()
    assert not a.requests, a.summary()
    assert len(b.requests) == got.count(200), (got, b.summary())


def test_refused_everywhere_is_bounded_by_retries(gatehouse, h2origin, port):
    """A server that refuses every stream: `retries 2` means at most 3
    attempts, then an error (502, like connects refused) - in bounded
    time, and no more attempts after the answer."""
    gatehouse(config(port, [h2origin], be="retries 2"))
    t0 = time.monotonic()
    try:
        r = h1(port, "GET", "/refuse", timeout=5)
    except OSError as e:
        pytest.fail("no answer within 5 s (%r); %s" % (e, h2origin.summary()))
    assert r.status in (502, 503), r
    assert time.monotonic() - t0 < 3 * SLACK
    time.sleep(0.3)
    assert 1 <= len(h2origin.refused) <= 3, h2origin.summary()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_reset_before_the_head_is_502(gatehouse, h2origin, port, tmp_path, method):
    """RST_STREAM INTERNAL_ERROR before any response byte: 502, logged
    as server-reset.  A POST is sent once; a GET may be replayed, within
    `retries`."""
    log = tmp_path / "access.json"
    gatehouse(config(port, [h2origin], fe="access_log %s format json" % log,
                     be="retries 2"))
    try:
        r = h1(port, method, "/reset", body=os.urandom(200000) if method == "POST" else None,
               timeout=5)
    except OSError as e:
        pytest.fail("no answer within 5 s (%r); %s" % (e, h2origin.summary()))
    assert r.status == 502, r
    time.sleep(0.3)
    attempts = len(h2origin.resets_sent)
    if method == "POST":
        assert attempts == 1, h2origin.summary()
    else:
        assert 1 <= attempts <= 3, h2origin.summary()
    [e] = log_json(log, 1)
    assert (e["status"], e["term"], e["backend"], e["server"]) == (502, "server-reset", "app",
                                                                   "s1"), e
    # the connection is still good for the next request
    assert h1(port, "GET", "/echo?after").status == 200


@pytest.mark.parametrize("client", [
    "h1", pytest.param("h2", marks=haproxy_differs("a server's reset mid-body (no "
                                                   "content-length) ends the client's stream "
                                                   "with END_STREAM, as if complete"))])
def test_reset_mid_body_cuts_the_client(gatehouse, h2origin, port, client):
    """Head and 20000 bytes sent, then RST_STREAM: the client must not take
    the response for complete (h1: no last chunk, h2: no END_STREAM)."""
    gatehouse(config(port, [h2origin]))
    if client == "h1":
        s = httpraw.connect(port, 10 * SLACK)
        try:
            s.sendall(httpraw.build_request("GET", "/reset?head=1&after=20000"))
            rd = httpraw.Reader(s)
            head = rd.read_head()
            assert head.status == 200, head
            assert head.headers_named("Transfer-Encoding") == ["chunked"], head.headers
            rest, closed = httpraw.drain(s, timeout=5 * SLACK, initial=bytes(rd.buf))
            assert closed, "the client connection is still open after the server's reset"
            assert not rest.endswith(b"0\r\n\r\n"), \
                "the chunked body was completed after the server's reset: %r" % rest[-40:]
        finally:
            s.close()
    else:
        with H2Client(port) as c:
            st = c.response(c.request("GET", "/reset?head=1&after=20000"))
            assert st.status == 200 and not st.ended and st.reset is not None, (st, c.summary())
            assert st.body == expected_bytes(st.data_len)
            assert c.get("/echo?after").status == 200     # the connection lives on
    assert h1(port, "GET", "/echo?next").status == 200


GOAWAY_DIFF = haproxy_differs("a stream above the server's GOAWAY last id is reset "
                              "REFUSED_STREAM to the client, not retried")


@GOAWAY_DIFF
def test_goaway_retries_the_streams_above_its_last_id(gatehouse, h2origin, port):
    """Three slow requests on the origin's first connection, then GET
    /goaway: the origin says GOAWAY(last = the third stream).  The GET is
    retried on a new connection (it was not processed), the three finish
    on the first, later requests use the new connection."""
    gatehouse(config(port, [h2origin]))
    with H2Client(port, timeout=15) as c:
        slow = [c.request("GET", "/delay/700?i=%d" % i) for i in range(3)]
        wait_for(lambda: h2origin.delaying == 3, 5 * SLACK, what="3 streams at the origin")
        g = c.response(c.request("GET", "/goaway?conn=1"))
        assert g.status == 200, (g, c.summary(), h2origin.summary())
        assert g.json()["conn"] == 2, g.json()
        for s in c.responses(slow):
            assert s.status == 200 and s.json()["conn"] == 1, (s, h2origin.summary())
        after = c.get("/echo?after")
        assert after.status == 200 and after.json()["conn"] == 2
    c1 = h2origin.conns[0]
    assert c1.goaway_sent == 5 and c1.ignored == [7], h2origin.summary()
    assert h2origin.accepts == 2


@GOAWAY_DIFF
@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "no-length"])
def test_goaway_after_the_body_was_sent(gatehouse, h2origin, port, content_length):
    """A POST whose 50 kB body the origin has read, then GOAWAY below it: a
    retry must carry the whole body again (or the client gets a 502 if it
    cannot be replayed) - never the head with an empty or partial body,
    which the next server would process as the request."""
    gatehouse(config(port, [h2origin]))
    body = os.urandom(50000)
    with H2Client(port, timeout=15) as c:
        hs = [("content-length", str(len(body)))] if content_length else []
        g = c.response(c.request("POST", "/goaway?conn=1&after_body=1", hs, body=body))
    errs = origins.take_protocol_errors()
    assert not errs, "the retry's body is not the request's:\n  " + "\n  ".join(errs)
    assert g.status in (200, 502), (g, h2origin.summary())
    if g.status == 200:
        j = g.json()
        assert j["conn"] == 2 and j["body_len"] == len(body), \
            "retried with %d body bytes of %d" % (j["body_len"], len(body))
        assert j["body_sha256"] == hashlib.sha256(body).hexdigest()
    else:
        assert not h2origin.requests, h2origin.summary()


@haproxy_differs("a stream above the server's GOAWAY last id gets 502, not a retry",
                 strict=False)
def test_goaway_from_one_of_two_servers(gatehouse, make_h2origin, port):
    a, b = make_h2origin("a"), make_h2origin("b")
    gatehouse(config(port, [a, b]))
    for i in range(6):
        r = h1(port, "GET", "/goaway?on=a&i=%d" % i, timeout=10)
        assert r.status == 200, (r, a.summary(), b.summary())
    assert a.goaways_sent >= 1
    assert sorted(r["path"] for r in a.requests + b.requests) == sorted(
        "/goaway?on=a&i=%d" % i for i in range(6))


def test_timeout_server_on_one_stream(gatehouse, h2origin, port):
    """A stream the server never answers: 504 after `timeout server`, the
    server stream is reset (the server may free it), the other streams on
    the same server connection are not affected."""
    gatehouse(config(port, [h2origin], be="timeout server 1s"))
    with H2Client(port, timeout=10) as c:
        hang = c.request("GET", "/hang")
        wait_for(lambda: h2origin.heads == 1, 5 * SLACK, what="the /hang stream at the origin")
        t0 = time.monotonic()
        ok = [c.request("GET", "/delay/300?i=%d" % i) for i in range(3)]
        for s in c.responses(ok):
            assert s.status == 200
        h = c.response(hang)
        assert h.status == 504, (h, c.summary())
        assert time.monotonic() - t0 < 3 * SLACK
    wait_for(lambda: h2origin.resets_received, 3 * SLACK,
             what="a RST_STREAM for the timed-out stream (%s)" % h2origin.summary())
    assert h2origin.accepts == 1


def test_client_reset_cancels_the_server_stream(gatehouse, h2origin, port):
    """An HTTP/2 client resets its stream: the server stream is reset too
    (CANCEL), the server connection stays.  (An HTTP/1.1 client that
    closes while waiting for the head is noticed at the next read, as with
    HTTP/1.1 servers: not tested here.)"""
    gatehouse(config(port, [h2origin]))
    with H2Client(port) as c:
        sid = c.request("GET", "/hang")
        wait_for(lambda: h2origin.heads == 1, 5 * SLACK, what="the stream at the origin")
        c.rst(sid)
        c.poll(0.1)
    wait_for(lambda: h2origin.resets_received, 3 * SLACK,
             what="gatehouse resetting the abandoned server stream (%s)" % h2origin.summary())
    assert h2origin.resets_received[0][:2] == (1, 1)
    assert h1(port, "GET", "/echo?after").status == 200
    assert h2origin.accepts == 1, "the connection should survive a stream reset"


# ---- headers and rules ---------------------------------------------------------------

@pytest.mark.parametrize("client", [
    pytest.param("h1", marks=haproxy_differs("Connection-named headers are not stripped")),
    "h2"])
def test_forwarded_headers_and_rules(gatehouse, h2origin, port, client):
    gatehouse(config(port, [h2origin], fe="""
        request_id header X-Request-ID
        http_request set_header X-Set yes
        http_request del_header X-Debug
        http_response set_header X-Resp-Rule "set by rule"
        http_response del_header X-Origin
    """))
    hs = [("x-forwarded-for", "6.6.6.6"), ("x-debug", "1"), ("x-set", "client"),
          ("cookie", "a=1"), ("cookie", "b=2")]
    if client == "h1":
        hs += [("Connection", "X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5")]
        r = h1(port, "GET", "/echo?fw", hs + [("Host", "h2.example:8080")])
    else:
        with H2Client(port) as c:
            s = c.get("/echo?fw", hs, authority="h2.example:8080")
        r = Resp(s.status, s.headers, s.body, s.trailers)
    assert r.status == 200, r
    assert r.header("x-resp-rule") == "set by rule" and r.header("x-origin") is None
    rec = r.json()
    pseudo_ok(rec, "GET", "/echo?fw", authority="h2.example:8080")
    h = seen(rec)
    assert all(k == k.lower() for k in h)
    assert h["x-forwarded-for"][-1].split(",")[-1].strip() == "127.0.0.1", h
    assert h["x-forwarded-proto"] == ["http"]
    assert h["x-forwarded-host"] == ["h2.example:8080"]
    assert h["x-set"] == ["yes"] and "x-debug" not in h
    assert h["x-request-id"] == [r.header("x-request-id")]
    assert "x-hop" not in h and "keep-alive" not in h and "connection" not in h
    assert "; ".join(h.get("cookie", [])) == "a=1; b=2", h.get("cookie")


# ---- TLS -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_pem(tmp_path_factory):
    if not OPENSSL:
        pytest.skip("needs the openssl CLI")
    d = tmp_path_factory.mktemp("h2srvtls")
    key, crt, pem = d / "key.pem", d / "crt.pem", d / "a.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=api.internal",
                    "-addext", "subjectAltName=DNS:api.internal"],
                   check=True, capture_output=True, timeout=60)
    pem.write_bytes(crt.read_bytes() + key.read_bytes())
    return dict(pem=str(pem), ca=str(crt))


@pytest.mark.parametrize("verify", ["none", "required"])
def test_tls_to_an_h2_server(gatehouse, make_h2origin, port, tls_pem, verify):
    o = make_h2origin("tls", tls=tls_pem["pem"])
    opts = "tls verify none" if verify == "none" else \
        "tls verify required ca %s sni api.internal" % tls_pem["ca"]
    gatehouse(config(port, [h2srv(o, opts)]))
    r = h1(port, "GET", "/echo?tls")
    assert r.status == 200, (r, o.summary())
    r2 = h2(port, "POST", "/echo?tls2", body=os.urandom(300000))
    assert r2.status == 200 and r2.json()["body_len"] == 300000
    t = h1(port, "GET", "/trailers?n=5")
    assert ("x-trailer", "done") in t.trailers, t
    assert [c.alpn for c in o.conns] == ["h2"], o.summary()


# ---- configuration ---------------------------------------------------------------------

def _check(tmp_path, text):
    binary = ghutil.need_gatehouse_cli()
    path = tmp_path / "check.conf"
    path.write_text(text)
    p = subprocess.run([binary, "-t", "-c", str(path)], capture_output=True, timeout=20)
    return p.returncode, p.stdout.decode() + p.stderr.decode(), str(path)


FE = global_block() + "frontend web {\n    bind 127.0.0.1:1\n    default_backend app\n}\n"


@pytest.mark.parametrize("servers,where,col_word,words", [
    pytest.param(["127.0.0.1:1 proto h2", "127.0.0.1:2 proto h1"], "s2", "h1",
                 ["s2", "s1", "proto"], id="h2-then-h1"),
    pytest.param(["127.0.0.1:1 proto h1", "127.0.0.1:2 proto h2"], "s2", "h2",
                 ["s2", "s1", "proto"], id="h1-then-h2"),
    pytest.param(["127.0.0.1:1 proto h2", "127.0.0.1:2"], "s2", None, ["s2", "s1", "proto"],
                 id="h2-then-default"),
    pytest.param(["127.0.0.1:1 proto h3"], "s1", "h3", ["h3"], id="unknown-proto"),
    pytest.param(["127.0.0.1:1 proto"], "s1", None, ["proto"], id="missing-value"),
])
def test_config_check_rejects(tmp_path, servers, where, col_word, words):
    """The error is on the line of the server `where`; with col_word, its
    column is that word's."""
    text = FE + backend_block("app", servers)
    line = [i for i, ln in enumerate(text.splitlines(), 1)
            if ln.strip().startswith("server %s " % where)][0]
    rc, out, path = _check(tmp_path, text)
    assert rc == 1, out
    errs = re.findall(r"^%s:(\d+):(\d+): error: (.*)$" % re.escape(path), out, re.M)
    assert errs, "no FILE:LINE:COL: error: line:\n" + out
    hit = [e for e in errs if int(e[0]) == line]
    assert hit, "expected an error on line %d:\n%s" % (line, out)
    ln, col, msg = hit[0]
    for w in words:
        assert w in msg, (w, msg)
    if col_word:
        src = text.splitlines()[line - 1]
        assert int(col) == src.rindex(col_word) + 1, (col, src, msg)


def test_config_check_proto_h2_needs_http_mode(tmp_path):
    text = (global_block() + "frontend web {\n    bind 127.0.0.1:1\n    mode tcp\n"
            "    default_backend app\n}\n"
            + backend_block("app", ["127.0.0.1:1 proto h2"], mode="tcp"))
    rc, out, path = _check(tmp_path, text)
    assert rc == 1 and re.search(r"^%s:\d+:\d+: error: .*h2" % re.escape(path), out, re.M), out


def test_config_check_accepts_one_proto_per_backend(tmp_path):
    text = FE + backend_block("app", ["127.0.0.1:1 proto h2", "127.0.0.1:2 proto h2c"]) + \
        backend_block("other", ["127.0.0.1:3 proto h1", "127.0.0.1:4"])
    rc, out, _ = _check(tmp_path, text)
    assert rc == 0, out
