"""Self-tests of the harness: they need no gatehouse binary.

The runner must notice crashes, hangs on SIGTERM and sanitizer reports;
the origins and the raw client must do what the proxy tests assume, so a
proxy test failure points at the proxy.
"""

import hashlib
import os
import socket
import stat
import sys
import time

import pytest

import httpraw
from ghutil import Gatehouse, free_port, simple_http_config
from origins import expected_bytes, ws_accept

FAKE = r'''#!/usr/bin/python3
# A stand-in for gatehouse: listens on the port of the first bind line.
import re, signal, socket, sys, time
conf = open(sys.argv[sys.argv.index("-c") + 1]).read()
port = int(re.search(r"bind 127\.0\.0\.1:(\d+)", conf).group(1))
mode = "%MODE%"
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8)
if mode == "asan":
    sys.stderr.write("==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n")
    sys.stderr.flush()
if mode == "ubsan":
    sys.stderr.write("src/x.c:1:2: runtime error: signed integer overflow\n"); sys.stderr.flush()
if mode == "ignore_term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "dies":
    s.accept(); sys.exit(3)          # dies once the test pokes it
if mode == "crash_on_term":
    signal.signal(signal.SIGTERM, lambda *a: signal.raise_signal(signal.SIGSEGV))
else:
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)) if mode != "ignore_term" else None
while True:
    time.sleep(0.05)
'''


def _fake(tmp_path, mode):
    p = tmp_path / ("fake-%s" % mode)
    p.write_text(FAKE.replace("%MODE%", mode))
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    port = free_port()
    g = Gatehouse(str(p), simple_http_config(port, ["127.0.0.1:1"], drain="100ms"), str(tmp_path),
                  name="fake-" + mode)
    g.kill_grace = 1.0
    return g


@pytest.mark.parametrize("mode,expect", [
    ("clean", None),
    ("asan", "sanitizer"),
    ("ubsan", "sanitizer"),
    ("ignore_term", "SIGKILL"),
    ("dies", "exited on its own"),
    ("crash_on_term", "signal"),
])
def test_runner_detects_problems(tmp_path, mode, expect, monkeypatch):
    monkeypatch.setattr("ghutil.IMPL", "gatehouse")
    g = _fake(tmp_path, mode)
    g.start()
    if mode == "dies":
        socket.create_connection(("127.0.0.1", g.port), timeout=5).close()
        g.proc.wait(10)
    problems = g.teardown()
    if expect is None:
        assert problems == []
    else:
        assert problems and any(expect in p for p in problems), problems


# ---- origins and client, directly (no proxy) ---------------------------------------

def test_origin_direct_pipelining_and_framing(origin):
    reqs = [("GET", "/echo?i=0"), ("GET", "/bytes/5000"), ("POST", "/echo?i=2"),
            ("HEAD", "/bytes/777"), ("GET", "/chunked/3000?chunk=1000&ext=1&trailer=1"),
            ("GET", "/status/204"), ("GET", "/status/304?cl=100"), ("GET", "/echo?i=7")]
    data = b"".join(httpraw.build_request(m, t, body=b"hello" if m == "POST" else b"")
                    for m, t in reqs)
    s = httpraw.connect(origin.port, timeout=5)
    rd = httpraw.Reader(s)
    try:
        s.sendall(data)
        out = [rd.read_response(m) for m, _ in reqs]
    finally:
        s.close()
    assert out[0].json()["target"] == "/echo?i=0"
    assert out[1].body == expected_bytes(5000)
    assert out[2].json()["body_len"] == 5
    assert out[3].header("content-length") == "777" and out[3].body == b""
    assert out[4].body == expected_bytes(3000) and out[4].chunk_lines[0] == "3e8;name=value"
    assert out[4].trailers == [("X-Trailer", "done")]
    assert [r.status for r in out[5:7]] == [204, 304]
    assert out[7].json()["target"] == "/echo?i=7"
    assert origin.stats.accepts == 1 and len(origin.stats.requests) == len(reqs)


def test_origin_direct_chunked_request_recorded(origin):
    s = httpraw.connect(origin.port, timeout=5)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
        j = httpraw.Reader(s).read_response().json()
    finally:
        s.close()
    assert j["chunk_lines"] == ["5;x=y", "0"]
    assert j["trailers"] == [["X-T", "1"]]
    assert j["body_sha256"] == hashlib.sha256(b"hello").hexdigest()


def test_origin_direct_expect_and_hold(origin):
    s = httpraw.connect(origin.port, timeout=5)
    rd = httpraw.Reader(s)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert rd.read_response(allow_interim=True).status == 100
        s.sendall(b"abc")
        assert rd.read_response().json()["body_len"] == 3
    finally:
        s.close()


def test_origin_direct_websocket(origin):
    from origins import ws_frame
    s = httpraw.connect(origin.port, timeout=5)
    try:
        s.sendall(b"GET /ws?greet=1 HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        rd = httpraw.Reader(s)
        r = rd.read_head()
        assert r.status == 101
        assert r.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 example
        assert rd.read_exact(7) == b"\x81\x05hello"
        s.sendall(ws_frame(0x2, b"x" * 70000))
        h = rd.read_exact(10)
        assert h[0] == 0x82 and h[1] == 127 and int.from_bytes(h[2:], "big") == 70000
        assert rd.read_exact(70000) == b"x" * 70000
    finally:
        s.close()


def test_origin_direct_garbage_and_stats(origin):
    r, _, closed = httpraw.send_raw(origin.port, httpraw.build_request("GET", "/garbage?kind=status"))
    assert r is None and closed      # the client, too, finds it malformed
    st = origin.stats
    assert st.accepts == 1 and st.heads == 1 and st.bytes_in > 0


def test_echo_origin_direct(make_echo):
    e = make_echo()
    s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
    try:
        s.sendall(b"abc" * 1000)
        s.shutdown(socket.SHUT_WR)
        got, closed = httpraw.drain(s, 3)
    finally:
        s.close()
    assert got == b"abc" * 1000 and closed
    assert e.stats.accepts == 1 and e.stats.bytes_in == 3000


# ---- the origin is strict: a malformed request fails the test that caused it -------

_STRICT_BAD = [
    ("empty_chunk_size", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"\r\nhello\r\n0\r\n\r\n"),
    ("chunk_size_junk", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5 x\r\nhello\r\n0\r\n\r\n"),
    ("chunk_no_crlf", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5\r\nhelloXX0\r\n\r\n"),
    ("no_colon", b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Foo bar\r\n\r\n"),
    ("space_before_colon", b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Foo : bar\r\n\r\n"),
    ("obs_fold", b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Foo: a\r\n b\r\n\r\n"),
    ("bare_lf", b"GET /echo HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n"),
    ("te_gzip", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"),
    ("te_and_cl", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 5\r\n\r\n0\r\n\r\n"),
    ("cl_list", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello"),
    ("two_cl", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
    ("leading_crlf", b"\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("request_line", b"GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("version", b"GET /echo HTTP/1.2\r\nHost: t\r\n\r\n"),
    ("te_http10", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("nul_in_value", b"GET /echo HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"),
    ("bad_trailer", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"0\r\nno colon here\r\n\r\n"),
]


@pytest.mark.parametrize("name,data", _STRICT_BAD, ids=[c[0] for c in _STRICT_BAD])
def test_origin_direct_rejects_malformed(origin, name, data):
    import origins
    r, _, closed = httpraw.send_raw(origin.port, data)
    assert r is not None and r.status == 400 and closed, (name, r)
    errs = origins.take_protocol_errors()
    assert len(errs) == 1 and "answered 400" in errs[0], errs
    assert origin.protocol_errors == errs
    assert origin.stats.requests == []


_HYGIENE = [
    ("no_host", b"GET /echo HTTP/1.1\r\n\r\n", "0 Host fields"),
    ("two_hosts", b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "2 Host fields"),
    ("keep_alive", b"GET /echo HTTP/1.1\r\nHost: t\r\nKeep-Alive: timeout=5\r\n\r\n", "keep-alive"),
    ("connection_named", b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: x-hop\r\nX-Hop: 1\r\n\r\n",
     "x-hop"),
    ("upgrade_alone", b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n", "Upgrade"),
    ("cl_in_trailer", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0\r\nContent-Length: 5\r\n\r\n", "in a trailer"),
]


@pytest.mark.parametrize("name,data,what", _HYGIENE, ids=[c[0] for c in _HYGIENE])
def test_origin_direct_records_what_a_proxy_must_not_forward(origin, name, data, what):
    """Parseable, so answered; but recorded, which fails a proxy test."""
    import origins
    r, _, _ = httpraw.send_raw(origin.port, data)
    assert r is not None and r.status == 200, (name, r)
    errs = origins.take_protocol_errors()
    assert errs and any(what in e for e in errs) and not any("answered 400" in e for e in errs), errs


def test_origin_direct_accepts_strict_valid_requests(origin):
    """The grammar the strict origin accepts is the RFC's, not narrower."""
    import origins
    data = (b"POST /echo?a=%20 HTTP/1.1\r\nHost: [::1]:80\r\nX-Empty:\r\nX-Sp: a  b \t\r\n"
            b"Transfer-Encoding: gzip , chunked\r\n\r\n"
            b"5 ; a = \"q\\\"x\" ;b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
            b"OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    s = httpraw.connect(origin.port, timeout=5)
    rd = httpraw.Reader(s)
    try:
        s.sendall(data)
        j = rd.read_response().json()
        assert rd.read_response().status == 200
    finally:
        s.close()
    assert j["body_len"] == 5 and j["trailers"] == [["X-T", "1"]]
    assert origins.take_protocol_errors() == []
