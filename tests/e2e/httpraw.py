"""
httpraw.py - a small raw-socket HTTP/1.1 client for precise tests.

Everything talks to 127.0.0.1 with timeouts; responses are parsed strictly
enough to notice framing mistakes (a byte too many shows up as a garbage
next response or as leftover bytes).
"""

import json
import socket
import time

DEFAULT_TIMEOUT = 10.0


class ProtocolError(Exception):
    pass


def connect(port, timeout=DEFAULT_TIMEOUT, rcvbuf=None, sndbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers        # list of (name, value) in order
        self.raw_head = raw_head
        self.body = b""
        self.body_len = 0
        self.trailers = []
        self.chunk_lines = []
        self.framing = None           # "length", "chunked", "close", "none"

    def header(self, name):
        vals = self.headers_named(name)
        return vals[-1] if vals else None

    def headers_named(self, name):
        n = name.lower()
        return [v for (k, v) in self.headers if k.lower() == n]

    def has(self, name):
        return bool(self.headers_named(name))

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %d %r body=%d>" % (self.version, self.status, self.headers,
                                               self.body_len)


class Reader:
    """Reads responses from a socket, keeping leftover bytes for pipelining."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def _fill(self, n=65536):
        if self.eof:
            raise ProtocolError("connection closed (buffered %r)" % bytes(self.buf[:200]))
        d = self.sock.recv(n)
        if not d:
            self.eof = True
            raise ProtocolError("connection closed (buffered %r)" % bytes(self.buf[:200]))
        self.buf += d

    def read_until(self, delim, limit=1 << 20):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise ProtocolError("line/head too long")
            start = max(0, len(self.buf) - len(delim) + 1)
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill(max(65536, n - len(self.buf)))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_head(self):
        head = self.read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        first = lines[0].decode("latin-1")
        parts = first.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ProtocolError("bad status line %r" % first)
        try:
            status = int(parts[1])
        except ValueError:
            raise ProtocolError("bad status line %r" % first)
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.decode("latin-1").partition(":")
            if not sep:
                raise ProtocolError("bad header line %r" % ln)
            headers.append((k, v.strip(" \t")))
        return Response(parts[0], status, parts[2] if len(parts) > 2 else "", headers, head)

    def read_response(self, method="GET", keep_body=True, allow_interim=False,
                      discard_chunk=1 << 20):
        """Reads one final response (interim 1xx are skipped unless
        allow_interim, in which case a 1xx is returned as is)."""
        while True:
            r = self.read_head()
            if 100 <= r.status < 200 and r.status != 101:
                if allow_interim:
                    return r
                continue
            break
        if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            r.framing = "none"
            return r
        te = ",".join(r.headers_named("transfer-encoding")).lower()
        cl = r.headers_named("content-length")
        body = bytearray() if keep_body else None
        if te.strip():
            if te.split(",")[-1].strip() != "chunked":
                raise ProtocolError("response TE %r" % te)
            r.framing = "chunked"
            while True:
                line = self.read_until(b"\r\n", 65536)
                r.chunk_lines.append(line[:-2].decode("latin-1"))
                size = int(line[:-2].split(b";")[0].strip(), 16)
                if size == 0:
                    break
                self._body(size, body, r)
                if self.read_exact(2) != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
            while True:
                line = self.read_until(b"\r\n", 65536)
                if line == b"\r\n":
                    break
                k, _, v = line[:-2].decode("latin-1").partition(":")
                r.trailers.append((k, v.strip()))
        elif cl:
            if len(set(cl)) != 1:
                raise ProtocolError("conflicting content-length %r" % cl)
            r.framing = "length"
            self._body(int(cl[0]), body, r)
        else:
            r.framing = "close"
            while True:
                if self.buf:
                    r.body_len += len(self.buf)
                    if body is not None:
                        body += self.buf
                    self.buf.clear()
                try:
                    self._fill()
                except ProtocolError:
                    break
        if body is not None:
            r.body = bytes(body)
        return r

    def _body(self, n, body, r):
        take = min(n, len(self.buf))
        if body is not None:
            body += self.buf[:take]
        del self.buf[:take]
        r.body_len += take
        n -= take
        if n <= 0:
            return
        if body is None:
            scratch = bytearray(1 << 20)
            view = memoryview(scratch)
            while n > 0:
                k = self.sock.recv_into(view[:min(n, len(scratch))])
                if k == 0:
                    self.eof = True
                    raise ProtocolError("closed inside body (%d left)" % n)
                n -= k
                r.body_len += k
        else:
            while n > 0:
                d = self.sock.recv(min(n, 1 << 20))
                if not d:
                    self.eof = True
                    raise ProtocolError("closed inside body (%d left)" % n)
                body += d
                n -= len(d)
                r.body_len += len(d)


def build_request(method="GET", target="/", headers=None, body=b"", host="test.local",
                  version="HTTP/1.1"):
    hs = []
    have_host = False
    have_len = False
    for k, v in (headers or []):
        if k.lower() == "host":
            have_host = True
        if k.lower() in ("content-length", "transfer-encoding"):
            have_len = True
        hs.append("%s: %s\r\n" % (k, v))
    if not have_host and host is not None:
        hs.insert(0, "Host: %s\r\n" % host)
    if body and not have_len:
        hs.append("Content-Length: %d\r\n" % len(body))
    return ("%s %s %s\r\n%s\r\n" % (method, target, version, "".join(hs))).encode("latin-1") + body


def request(port, method="GET", target="/", headers=None, body=b"", timeout=DEFAULT_TIMEOUT,
            close=True, **kw):
    """One request on a fresh connection; returns the Response."""
    hdrs = list(headers or [])
    if close:
        hdrs.append(("Connection", "close"))
    s = connect(port, timeout)
    try:
        s.sendall(build_request(method, target, hdrs, body, **kw))
        return Reader(s).read_response(method)
    finally:
        s.close()


def send_raw(port, data, timeout=5.0):
    """Sends raw bytes, returns (Response or None, rest-of-stream bytes, closed)."""
    s = connect(port, timeout)
    try:
        s.sendall(data)
        rd = Reader(s)
        try:
            r = rd.read_response()
        except ProtocolError:
            return None, bytes(rd.buf), True
        except socket.timeout:
            return None, bytes(rd.buf), False
        rest, closed = drain(s, timeout=2.0, initial=bytes(rd.buf))
        return r, rest, closed
    finally:
        s.close()


def drain(s, timeout=2.0, initial=b""):
    """Reads until EOF/reset or timeout. Returns (bytes, closed)."""
    out = bytearray(initial)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(out), False
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return bytes(out), False
        except ConnectionError:
            return bytes(out), True
        if not d:
            return bytes(out), True
        out += d


def wait_closed(s, timeout):
    """Waits for the peer to close (EOF or reset). Returns seconds waited or
    None if still open after timeout. Data received is discarded."""
    t0 = time.monotonic()
    _, closed = drain(s, timeout)
    return time.monotonic() - t0 if closed else None
