"""Compression (issue 11): `compress gzip br zstd [types ...] [min_size ...]
[level ...]` in a frontend or a backend.

A real origin (ScriptOrigin below: one thread per connection, keep-alive,
each path's answer scripted by the test: status, fields, a body with a
Content-Length, chunked or until close, pauses, trailers) behind the real
gatehouse binary; clients are raw sockets (httpraw), curl for HTTP/2.
Every compressed body is decoded by Python (zlib for gzip, python3-brotli,
python3-zstandard) and compared with what the origin sent.
"""

import gzip
import hashlib
import os
import random
import socket
import subprocess
import threading
import time
import zlib

import brotli
import pytest
import zstandard

import ghutil
from ghutil import simple_http_config, wait_for
from httpraw import Reader, build_request, connect, request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="compress is not translated to HAProxy")


def text_body(n, seed=1):
    """n bytes of compressible text (words from a small vocabulary)."""
    rnd = random.Random(seed)
    words = [b"gatehouse", b"proxy", b"compress", b"stream", b"buffer", b"origin",
             b"client", b"header", b"<div>", b"</div>", b"{\"k\": 1}", b"\n"]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + b" "
    return bytes(out[:n])


def noisy_body(n, seed=2):
    """n bytes that compress poorly (base64 of random bytes: ~25% saved)."""
    import base64
    rnd = random.Random(seed)
    raw = bytes(rnd.getrandbits(8) for _ in range(n * 3 // 4 + 3))
    return base64.b64encode(raw)[:n]


def decode(enc, data):
    if enc == "gzip":
        return gzip.decompress(data)
    if enc == "br":
        return brotli.decompress(data)
    if enc == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert enc is None, enc
    return data


def decoder(enc):
    """An incremental decoder: feed(bytes) -> bytes."""
    if enc == "gzip":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return d.decompress
    if enc == "br":
        d = brotli.Decompressor()
        return d.process
    if enc == "zstd":
        d = zstandard.ZstdDecompressor().decompressobj()
        return d.decompress
    raise AssertionError(enc)


# ---- the origin -------------------------------------------------------------------

class Answer:
    """What the origin sends for one path.  framing: "length", "chunked" or
    "close"; body: bytes, or a list of pieces (each sent on its own, after
    `gate` is set when the piece is the string "WAIT")."""

    def __init__(self, body=b"", status=200, headers=(("Content-Type", "text/html"),),
                 framing="length", trailers=(), pieces=None):
        self.body = body
        self.status = status
        self.headers = list(headers)
        self.framing = framing
        self.trailers = list(trailers)
        self.pieces = pieces
        self.gate = threading.Event()


class ScriptOrigin:
    def __init__(self):
        self.answers = {}
        self.requests = []          # (method, path, headers)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.closing = False
        self.conns = []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(30)
        r = c.makefile("rb")
        try:
            while True:
                line = r.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                hdrs = []
                clen = 0
                while True:
                    h = r.readline()
                    if h in (b"\r\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    hdrs.append((k.strip(), v.strip()))
                    if k.strip().lower() == "content-length":
                        clen = int(v)
                if clen:
                    r.read(clen)
                self.requests.append((method, target, hdrs))
                a = self.answers.get(target.split("?")[0])
                if a is None:
                    a = Answer(b"no script for %s" % target.encode(), status=404,
                               headers=[("Content-Type", "text/plain")])
                if not self._answer(c, method, a):
                    return
        except (OSError, ValueError):
            return
        finally:
            c.close()

    def _answer(self, c, method, a):
        head = "HTTP/1.1 %d X\r\n" % a.status + "".join("%s: %s\r\n" % kv for kv in a.headers)
        pieces = a.pieces if a.pieces is not None else [a.body]
        bodyless = method == "HEAD" or a.status in (204, 304)
        total = sum(len(p) for p in pieces if p != "WAIT")
        if a.framing == "length":
            head += "Content-Length: %d\r\n" % total
        elif a.framing == "chunked" and not bodyless:
            head += "Transfer-Encoding: chunked\r\n"
        elif a.framing == "close":
            head += "Connection: close\r\n"
        c.sendall(head.encode("latin-1") + b"\r\n")
        if bodyless:
            return True
        for p in pieces:
            if p == "WAIT":
                a.gate.wait(30)
                continue
            if not p:
                continue
            if a.framing == "chunked":
                c.sendall(b"%x\r\n" % len(p) + p + b"\r\n")
            else:
                c.sendall(p)
        if a.framing == "chunked":
            c.sendall(b"0\r\n" + b"".join(b"%s: %s\r\n" % (k.encode(), v.encode())
                                          for k, v in a.trailers) + b"\r\n")
        return a.framing != "close"

    def close(self):
        self.closing = True
        for a in self.answers.values():
            a.gate.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept()
        except OSError:
            pass
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.t.join(2)


@pytest.fixture
def so():
    o = ScriptOrigin()
    yield o
    o.close()


def start(gatehouse, port, so, fe="compress gzip br zstd", be="", global_extra=""):
    return gatehouse(simple_http_config(port, [so.addr], frontend_extra=fe, backend_extra=be,
                                        global_extra=global_extra))


def get(port, path, ae=None, method="GET", headers=(), version="HTTP/1.1"):
    h = list(headers)
    if ae is not None:
        h.append(("Accept-Encoding", ae))
    return request(port, method, path, h, version=version)


# ---- each algorithm, each origin framing ----------------------------------------

@pytest.mark.parametrize("enc", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_each_algorithm_decodes_to_the_origin_body(gatehouse, port, so, enc, framing):
    body = text_body(200 * 1024)
    so.answers["/page"] = Answer(body, framing=framing,
                                 headers=[("Content-Type", "text/html; charset=utf-8"),
                                          ("ETag", '"v1"')])
    start(gatehouse, port, so)
    r = get(port, "/page", ae=enc)
    assert r.status == 200
    assert r.header("Content-Encoding") == enc
    assert not r.has("Content-Length")
    assert r.framing == "chunked"
    assert r.header("Vary") == "Accept-Encoding"
    assert r.header("ETag") == 'W/"v1"'
    assert decode(enc, r.body) == body
    assert len(r.body) < len(body) // 3   # really compressed
    # the origin saw the client's Accept-Encoding (it may answer encoded itself)
    assert ("Accept-Encoding", enc) in so.requests[-1][2]


def test_identity_when_not_accepted_and_vary_still_added(gatehouse, port, so):
    body = text_body(50 * 1024)
    so.answers["/p"] = Answer(body)
    start(gatehouse, port, so)
    r = get(port, "/p")
    assert not r.has("Content-Encoding")
    assert r.header("Content-Length") == str(len(body))
    assert r.body == body
    assert r.header("Vary") == "Accept-Encoding"


# ---- Accept-Encoding ------------------------------------------------------------------

Q_CASES = [
    ("gzip", "gzip"),
    ("gzip, br", "br"),                       # tie: the configured order (zstd br gzip)
    ("gzip, br, zstd", "zstd"),
    ("gzip;q=1.0, br;q=0.9", "gzip"),
    ("gzip;q=0.5, br;q=0.8", "br"),
    ("br;q=0, gzip", "gzip"),
    ("*", "zstd"),
    ("*;q=0.5, zstd;q=0", "br"),
    ("zstd;q=0.001, gzip;q=0.002", "gzip"),
    ("x-gzip", "gzip"),
    ("GZIP", "gzip"),
    ("gzip ; q=0.4 , br ; q=0.3", "gzip"),
    ("identity;q=0", None),                   # nothing we do is acceptable: identity anyway
    ("gzip;q=0", None),
    ("gzip;q=0.000", None),
    ("gzip;q=2", None),                        # malformed q: member dropped
    ("gzip;q=0.5x, br", "br"),
    ("", None),
    ("deflate, compress", None),
]


def test_q_values_choose(gatehouse, port, so):
    body = text_body(20 * 1024)
    so.answers["/q"] = Answer(body)
    start(gatehouse, port, so, fe="compress zstd br gzip")
    for ae, expected in Q_CASES:
        r = get(port, "/q", ae=ae)
        assert r.header("Content-Encoding") == expected, (ae, r.headers)
        assert decode(expected, r.body) == body, ae


def test_several_accept_encoding_fields_are_one_list(gatehouse, port, so):
    body = text_body(20 * 1024)
    so.answers["/q"] = Answer(body)
    start(gatehouse, port, so, fe="compress gzip br")
    r = request(port, "GET", "/q", [("Accept-Encoding", "gzip;q=0.2"),
                                     ("Accept-Encoding", "br;q=0.9")])
    assert r.header("Content-Encoding") == "br"
    assert decode("br", r.body) == body


# ---- never --------------------------------------------------------------------------

def test_never_cases(gatehouse, port, so):
    big = text_body(20 * 1024)
    already = gzip.compress(big)
    so.answers.update({
        "/notransform": Answer(big, headers=[("Content-Type", "text/html"),
                                             ("Cache-Control", "public, no-transform")]),
        "/encoded": Answer(already, headers=[("Content-Type", "text/html"),
                                             ("Content-Encoding", "gzip")]),
        "/range": Answer(big[:1000], status=206,
                         headers=[("Content-Type", "text/html"),
                                  ("Content-Range", "bytes 0-999/%d" % len(big))]),
        "/nocontent": Answer(b"", status=204, headers=[("Content-Type", "text/html")]),
        "/notmod": Answer(b"", status=304, headers=[("Content-Type", "text/html"),
                                                    ("ETag", '"x"')]),
        "/small": Answer(b"tiny body" * 10),
        "/png": Answer(big, headers=[("Content-Type", "image/png")]),
        "/notype": Answer(big, headers=[]),
        "/head": Answer(big),
    })
    start(gatehouse, port, so)
    for path in ("/notransform", "/png", "/notype"):
        r = get(port, path, ae="gzip, br, zstd")
        assert not r.has("Content-Encoding"), path
        assert r.body == big, path
        assert r.header("Content-Length") == str(len(big)), path
    r = get(port, "/encoded", ae="gzip, br, zstd")
    assert r.header("Content-Encoding") == "gzip" and r.body == already   # never twice
    r = get(port, "/range", ae="gzip", headers=[("Range", "bytes=0-999")])
    assert r.status == 206 and not r.has("Content-Encoding") and r.body == big[:1000]
    r = get(port, "/nocontent", ae="gzip")
    assert r.status == 204 and not r.has("Content-Encoding")
    r = get(port, "/notmod", ae="gzip")
    assert r.status == 304 and not r.has("Content-Encoding") and r.header("ETag") == '"x"'
    r = get(port, "/small", ae="gzip")                   # 90 bytes < min_size 1k
    assert not r.has("Content-Encoding") and r.body == b"tiny body" * 10
    r = get(port, "/head", ae="gzip", method="HEAD")
    assert r.status == 200 and not r.has("Content-Encoding")
    assert r.header("Content-Length") == str(len(big))


def test_unknown_length_ignores_min_size_and_types_option(gatehouse, port, so):
    so.answers["/s"] = Answer(b"short " * 10, framing="chunked",
                              headers=[("Content-Type", "application/x-custom")])
    so.answers["/t"] = Answer(b"short " * 10, headers=[("Content-Type", "text/html")])
    start(gatehouse, port, so, fe="compress gzip types application/x-custom min_size 16")
    r = get(port, "/s", ae="gzip")
    assert r.header("Content-Encoding") == "gzip"
    assert decode("gzip", r.body) == b"short " * 10
    r = get(port, "/t", ae="gzip")     # text/html is not in the list given
    assert not r.has("Content-Encoding") and r.body == b"short " * 10


def test_websocket_upgrade_is_never_compressed(gatehouse, port, make_origin):
    from origins import ws_frame, ws_accept
    o = make_origin()
    gatehouse(simple_http_config(port, [o.addr], frontend_extra="compress gzip"))
    s = connect(port)
    try:
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        s.sendall(build_request("GET", "/ws", [("Upgrade", "websocket"),
                                              ("Connection", "Upgrade"),
                                              ("Sec-WebSocket-Key", key),
                                              ("Sec-WebSocket-Version", "13"),
                                              ("Accept-Encoding", "gzip")]))
        rd = Reader(s)
        r = rd.read_response(allow_interim=True)
        assert r.status == 101 and not r.has("Content-Encoding")
        assert r.header("Sec-WebSocket-Accept") == ws_accept(key)
        s.sendall(ws_frame(0x1, b"hello tunnel"))
        got = rd.read_exact(2 + len(b"hello tunnel"))
        assert got.endswith(b"hello tunnel")
    finally:
        s.close()


# ---- head fields --------------------------------------------------------------------

def test_vary_merged_and_etags(gatehouse, port, so):
    body = text_body(20 * 1024)
    so.answers["/v1"] = Answer(body, headers=[("Content-Type", "text/css"), ("Vary", "Origin"),
                                              ("ETag", 'W/"weak"')])
    so.answers["/v2"] = Answer(body, headers=[("Content-Type", "text/css"), ("Vary", "*")])
    so.answers["/v3"] = Answer(body, headers=[("Content-Type", "text/css"),
                                              ("Vary", "accept-encoding, Cookie"),
                                              ("Accept-Ranges", "bytes")])
    start(gatehouse, port, so)
    r = get(port, "/v1", ae="gzip")
    assert r.headers_named("Vary") == ["Origin, Accept-Encoding"]
    assert r.header("ETag") == 'W/"weak"'
    r = get(port, "/v2", ae="gzip")
    assert r.headers_named("Vary") == ["*"] and r.header("Content-Encoding") == "gzip"
    r = get(port, "/v3", ae="gzip")
    assert r.headers_named("Vary") == ["accept-encoding, Cookie"]
    assert not r.has("Accept-Ranges")   # no ranges of the compressed bytes
    assert decode("gzip", r.body) == body


# ---- streaming --------------------------------------------------------------------

def read_chunks_until(sock_reader, dec, want, timeout):
    """Reads chunked framing from the reader, decoding, until `want` is in
    the decoded output; returns the output."""
    out = bytearray()
    deadline = time.monotonic() + timeout
    while want not in out:
        assert time.monotonic() < deadline, "timed out waiting for %r (got %r)" % (want, out)
        line = sock_reader.read_until(b"\r\n")
        n = int(line[:-2], 16)
        assert n > 0, "body ended before %r" % want
        out += dec(sock_reader.read_exact(n))
        assert sock_reader.read_exact(2) == b"\r\n"
    return bytes(out)


@pytest.mark.parametrize("enc", ["gzip", "br", "zstd"])
@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_streaming_origin_is_not_held(gatehouse, port, so, enc, framing):
    """Server-sent events: each event reaches the client, decodable, while
    the origin still holds the response open."""
    a = Answer(pieces=[b"data: first event\n\n", "WAIT", b"data: second event\n\n"],
               framing=framing, headers=[("Content-Type", "text/event-stream")])
    so.answers["/events"] = a
    start(gatehouse, port, so)
    s = connect(port, timeout=20)
    try:
        s.sendall(build_request("GET", "/events", [("Accept-Encoding", enc)]))
        rd = Reader(s)
        r = rd.read_head()
        assert r.header("Content-Encoding") == enc
        assert r.header("Transfer-Encoding") == "chunked"
        dec = decoder(enc)
        got = read_chunks_until(rd, dec, b"first event", 10 * ghutil.SLACK)
        assert b"second" not in got
        a.gate.set()
        got += read_chunks_until(rd, dec, b"second event", 10 * ghutil.SLACK)
        assert got == b"data: first event\n\ndata: second event\n\n"
    finally:
        s.close()


def test_big_body_streams_with_bounded_memory(gatehouse, port, so):
    """64 MiB (32 under ASan) of poorly compressible text through a slow
    reader: the proxy holds buffers and the compressor's state, never the
    body."""
    n = (32 if ghutil.ASAN else 64) * ghutil.MiB
    piece = noisy_body(1 * ghutil.MiB)
    so.answers["/big"] = Answer(pieces=[piece] * (n // len(piece)), framing="length",
                                headers=[("Content-Type", "text/plain")])
    g = start(gatehouse, port, so)
    s = connect(port, timeout=60, rcvbuf=64 * 1024)
    try:
        s.sendall(build_request("GET", "/big", [("Accept-Encoding", "gzip")]))
        rd = Reader(s)
        with ghutil.RssSampler(g.pid) as rss:
            r = rd.read_head()
            assert r.header("Content-Encoding") == "gzip"
            dec = decoder("gzip")
            h = hashlib.sha256()
            total = 0
            reads = 0
            while True:
                line = rd.read_until(b"\r\n")
                k = int(line[:-2], 16)
                if k == 0:
                    assert rd.read_until(b"\r\n") == b"\r\n"
                    break
                out = dec(rd.read_exact(k))
                h.update(out)
                total += len(out)
                assert rd.read_exact(2) == b"\r\n"
                reads += 1
                if reads % 64 == 0:
                    time.sleep(0.01)   # a slow reader: backpressure
        assert total == n
        want = hashlib.sha256()
        for _ in range(n // len(piece)):
            want.update(piece)
        assert h.hexdigest() == want.hexdigest()
        print("compress: RSS growth %.1f MiB" % rss.growth_mib)
        limit = 64 if ghutil.ASAN else 24
        assert rss.growth_mib < limit, "RSS grew by %.1f MiB" % rss.growth_mib
    finally:
        s.close()


# ---- trailers, keep-alive, HTTP/1.0, HTTP/2 -------------------------------------

def test_trailers_pass_after_the_compressed_body(gatehouse, port, so):
    body = text_body(30 * 1024)
    so.answers["/tr"] = Answer(body, framing="chunked",
                               trailers=[("X-Checksum", "abc123")],
                               headers=[("Content-Type", "application/json"),
                                        ("Trailer", "X-Checksum")])
    start(gatehouse, port, so)
    r = get(port, "/tr", ae="zstd", headers=[("TE", "trailers")])
    assert r.header("Content-Encoding") == "zstd"
    assert decode("zstd", r.body) == body
    assert ("X-Checksum", "abc123") in r.trailers


def test_keep_alive_reuse_after_compressed_responses(gatehouse, port, so):
    body = text_body(40 * 1024)
    so.answers["/a"] = Answer(body, framing="chunked")
    so.answers["/b"] = Answer(body[:5000], headers=[("Content-Type", "image/png")])
    start(gatehouse, port, so)
    s = connect(port)
    try:
        rd = Reader(s)
        for enc, path in (("br", "/a"), ("gzip", "/a"), ("gzip", "/b"), ("zstd", "/a")):
            s.sendall(build_request("GET", path, [("Accept-Encoding", enc)]))
            r = rd.read_response()
            if path == "/a":
                assert r.header("Content-Encoding") == enc
                assert decode(enc, r.body) == body
            else:
                assert not r.has("Content-Encoding") and r.body == body[:5000]
        # pipelined, both compressed
        s.sendall(build_request("GET", "/a", [("Accept-Encoding", "gzip")]) * 2)
        for _ in range(2):
            r = rd.read_response()
            assert decode("gzip", r.body) == body
    finally:
        s.close()


def test_http10_client_gets_a_close_delimited_body(gatehouse, port, so):
    body = text_body(30 * 1024)
    so.answers["/p"] = Answer(body)
    start(gatehouse, port, so)
    r = get(port, "/p", ae="gzip", version="HTTP/1.0")
    assert r.header("Content-Encoding") == "gzip"
    assert r.framing == "close"
    assert decode("gzip", r.body) == body


@pytest.mark.parametrize("enc", ["gzip", "br", "zstd"])
def test_http2_client(gatehouse, port, so, tmp_path, enc):
    body = text_body(300 * 1024)
    so.answers["/h2"] = Answer(body, framing="length", trailers=[],
                               headers=[("Content-Type", "application/javascript"),
                                        ("ETag", '"e2"')])
    start(gatehouse, port, so)
    out = tmp_path / "body"
    hdr = tmp_path / "head"
    subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-H", "Accept-Encoding: " + enc,
                    "-o", str(out), "-D", str(hdr), "http://127.0.0.1:%d/h2" % port],
                   check=True, timeout=30)
    head = hdr.read_text().lower()
    assert head.startswith("http/2 200")
    assert "content-encoding: %s" % enc in head
    assert "content-length" not in head
    assert 'etag: w/"e2"' in head
    assert decode(enc, out.read_bytes()) == body


def test_http2_client_streaming_and_curl_compressed(gatehouse, port, so):
    body = text_body(100 * 1024)
    so.answers["/c"] = Answer(body, framing="chunked")
    start(gatehouse, port, so)
    p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--compressed",
                        "http://127.0.0.1:%d/c" % port], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == body


def test_backend_compress_replaces_the_frontends(gatehouse, port, so):
    body = text_body(20 * 1024)
    so.answers["/p"] = Answer(body)
    start(gatehouse, port, so, fe="compress gzip", be="compress br")
    r = get(port, "/p", ae="gzip, br")
    assert r.header("Content-Encoding") == "br"
    assert r.headers_named("Vary") == ["Accept-Encoding"]
    assert decode("br", r.body) == body
    r = get(port, "/p", ae="gzip")           # the backend's list has no gzip
    assert not r.has("Content-Encoding") and r.body == body


def test_levels_and_config_errors(gatehouse, port, so, tmp_path):
    body = text_body(100 * 1024)
    so.answers["/p"] = Answer(body)
    start(gatehouse, port, so, fe="compress gzip br zstd level gzip:9 br:11 zstd:19")
    for enc in ("gzip", "br", "zstd"):
        r = get(port, "/p", ae=enc)
        assert decode(enc, r.body) == body
    binary = ghutil.need_gatehouse_cli()
    for line, msg in (("compress lz4", "unknown compression 'lz4'"),
                      ("compress gzip gzip", "listed twice"),
                      ("compress gzip level gzip:12", "out of range"),
                      ("compress gzip types text", "invalid MIME type"),
                      ("compress", "compress")):
        conf = tmp_path / "bad.conf"
        conf.write_text(simple_http_config(port, [so.addr], frontend_extra=line))
        p = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True,
                           timeout=10)
        assert p.returncode != 0, line
        assert msg in p.stderr, (line, p.stderr)
    conf = tmp_path / "tcp.conf"
    conf.write_text(simple_http_config(port, [so.addr], frontend_extra="compress gzip",
                                       mode="tcp"))
    p = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert p.returncode != 0 and "compress needs HTTP" in p.stderr, p.stderr


# ---- an HTTP/2 origin (the server codec hands the body bare) -----------------------

@pytest.fixture
def h2o():
    from h2origin import H2Origin
    o = H2Origin("h2c")
    yield o
    o.close()


def h2_config(port, o, fe="compress gzip br zstd types *"):
    return simple_http_config(port, ["%s proto h2" % o.addr], frontend_extra=fe)


@pytest.mark.parametrize("enc", ["gzip", "br", "zstd"])
def test_http2_origin_to_http1_client(gatehouse, port, h2o, enc):
    from origins import expected_bytes
    gatehouse(h2_config(port, h2o))
    for path, n in (("/bytes/300000", 300000), ("/stream/40?size=3000", 120000)):
        r = get(port, path, ae=enc)
        assert r.header("Content-Encoding") == enc, path
        assert r.framing == "chunked"
        assert decode(enc, r.body) == expected_bytes(n), path
    r = get(port, "/trailers?n=50000", ae=enc, headers=[("TE", "trailers")])
    assert r.header("Content-Encoding") == enc
    assert decode(enc, r.body) == expected_bytes(50000)
    assert ("x-trailer", "done") in [(k.lower(), v) for k, v in r.trailers]


def test_http2_origin_to_http2_client(gatehouse, port, h2o, tmp_path):
    from origins import expected_bytes
    gatehouse(h2_config(port, h2o))
    out = tmp_path / "b"
    hdr = tmp_path / "h"
    subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-H", "Accept-Encoding: zstd",
                    "-o", str(out), "-D", str(hdr), "http://127.0.0.1:%d/bytes/500000" % port],
                   check=True, timeout=30)
    head = hdr.read_text().lower()
    assert "content-encoding: zstd" in head and "content-length" not in head
    assert decode("zstd", out.read_bytes()) == expected_bytes(500000)


def test_http2_origin_stream_is_not_held(gatehouse, port, h2o):
    """Three DATA frames 1 s apart: the first reaches the client, decoded,
    long before the last (held until the end, they would come together)."""
    gatehouse(h2_config(port, h2o))
    s = connect(port, timeout=30)
    try:
        s.sendall(build_request("GET", "/stream/3?size=100&interval_ms=1000",
                                [("Accept-Encoding", "br")]))
        rd = Reader(s)
        r = rd.read_head()
        assert r.header("Content-Encoding") == "br"
        dec = decoder("br")
        got = bytearray()
        t_first = None
        while True:
            line = rd.read_until(b"\r\n")
            n = int(line[:-2], 16)
            if n == 0:
                break
            got += dec(rd.read_exact(n))
            assert rd.read_exact(2) == b"\r\n"
            if t_first is None and got:
                t_first = time.monotonic()
        t_end = time.monotonic()
        from origins import expected_bytes
        assert bytes(got) == expected_bytes(300)
        assert t_end - t_first > 0.6, "the first frame was held until the end"
    finally:
        s.close()


def test_http2_client_trailers_and_streams_side_by_side(gatehouse, port, so):
    """Raw HTTP/2 (h2util): a compressed body then its trailers as a HEADERS
    frame ending the stream; compressed and plain streams on one
    connection."""
    from h2util import H2Client
    body = text_body(60 * 1024)
    so.answers["/tr"] = Answer(body, framing="chunked", trailers=[("X-Sum", "42")],
                               headers=[("Content-Type", "text/plain")])
    so.answers["/png"] = Answer(body[:9000], headers=[("Content-Type", "image/png")])
    start(gatehouse, port, so)
    with H2Client(port) as c:
        ids = [c.request("GET", "/tr", [("accept-encoding", "gzip")]),
               c.request("GET", "/png", [("accept-encoding", "gzip")]),
               c.request("GET", "/tr", [("accept-encoding", "br;q=1, gzip;q=0.5")])]
        a, b, d = c.responses(ids)
        assert a.status == 200 and a.header("content-encoding") == "gzip"
        assert not a.has("content-length")
        assert decode("gzip", a.body) == body
        assert a.trailers == [("x-sum", "42")], a
        assert not b.has("content-encoding") and b.body == body[:9000]
        assert d.header("content-encoding") == "br" and decode("br", d.body) == body
        assert d.trailers == [("x-sum", "42")]
