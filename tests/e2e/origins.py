"""
origins.py - origin servers for the end-to-end suite.

Each origin runs in-process on its own asyncio event loop in a background
thread, using raw non-blocking sockets (loop.sock_recv_into / sock_sendall)
so it can hold thousands of connections and move a GiB quickly: bodies are
sent from a preallocated 1 MiB memoryview and counted with recv_into.

HttpOrigin chooses its behaviour per request from the path:

  /bytes/N          N bytes of PATTERN with Content-Length
  /chunked/N        N bytes chunked (?chunk=K size, ?ext=1 chunk extensions,
                    ?trailer=1 a trailer field "X-Trailer: done")
  /close/N          N bytes, no framing, body ends when the origin closes
  /delay/MS         sleeps MS ms, then answers like /echo
  /gate             waits until open_gate() (at most 60 s), then answers
                    like /echo; counted in delaying / max_delaying as /delay
  /status/CODE      answers CODE (204/304/1xx without a body; ?cl=N adds a
                    Content-Length: N header to a 304)
  /ws               WebSocket echo (RFC 6455); ?greet=1 sends a text frame
                    "hello" in the same write as the 101
  /garbage?kind=K   malformed response (junk, status, cl, dupcl, space, empty,
                    clte, badchunk, truncated), then close
  /hang             reads the request, never answers
  /stall/N          head with Content-Length 2N, N bytes, then nothing
  /drip/N           N 10-byte lines, one every ?interval_ms (default 50)
  /hop              answers with hop-by-hop response headers
  /setcookies       answers with two Set-Cookie fields
  /bighead/N        answers with an N-byte X-Big response header
  /early            103 Early Hints, then 200
  /reject_early     403 before reading the request body, then a lingering close
  /duplex           streams the request body back (chunked) while it arrives

  ?close=1 on any path: answer with Connection: close and close.
  ?idle_close=MS: after this response, close the connection if no next
  request arrives within MS ms (a server with a short keep-alive timeout).
  anything else     /echo: JSON with the request line, headers, body length
                    and sha256, chunk-size lines, trailers, origin name

  ?hold=1 on any path: do not read the request body until release() is
  called (slow-writer backpressure).
  ?read_delay=MS on any path: read a Content-Length request body slowly,
  ?read_chunk=N bytes (default 16 KiB) every MS ms (a slow server).

A request with "Expect: 100-continue" gets "100 Continue" before the origin
reads its body.  Keep-alive and pipelining are supported; "Connection:
close" (or HTTP/1.0 without keep-alive) closes after the response.

The origin is strict, as the servers behind a proxy may be: a request
that is not well-formed HTTP/1.1 (RFC 9112: request line, field syntax,
bare CR/LF, obs-fold, empty lines before the request line, a head cut by
EOF, Content-Length that is not one plain number, Transfer-Encoding whose
final coding is not chunked, CL together with TE, chunk-size lines,
chunk data not followed by CRLF, trailer syntax) is a protocol error: the
origin answers 400 and closes.  Requests that parse but show a proxy
mistake (Host missing or repeated, hop-by-hop fields such as Keep-Alive,
Proxy-Connection, TE, a field the Connection header names, Upgrade
without "Connection: upgrade", framing fields in a trailer) are answered
normally.  Both kinds are recorded in HttpOrigin.protocol_errors and in
the module-wide list that take_protocol_errors() empties; conftest.py
fails any test during which one was recorded.

TcpEchoOrigin echoes bytes and half-closes after the peer half-closes.

Run as a script (`origins.py http [PORT]`) it serves an HttpOrigin in a
separate process (its own file-descriptor budget), printing the port on
stdout, until stdin closes or it gets SIGTERM; then it prints its stats
(protocol errors included) and exits 1 if it recorded a protocol error.
"""

import asyncio
import base64
import hashlib
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse

MiB = 1 << 20
# 1 MiB pattern; byte at stream offset x is PATTERN[x % MiB].
PATTERN = bytes((i * 7 + (i >> 11)) & 0xFF for i in range(MiB))
PATTERN_VIEW = memoryview(PATTERN)

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HASH_LIMIT = 64 * MiB          # bodies above this are counted, not hashed


# ---- strict request syntax (RFC 9112 / RFC 9110) ----------------------------

_TCHAR = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"
_TOKEN = _TCHAR + rb"+"
_QSTRING = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e\x80-\xff]+) (HTTP/1\.[01])\Z")
_FIELD_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*\Z")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})((?:[ \t]*;[ \t]*" + _TOKEN
                         + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QSTRING + rb"))?)*)\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+;=-]*)(?::[0-9]*)?\Z")
_ORIGIN_FORM = re.compile(r"/[\x21-\x7e\x80-\xff]*\Z")
_ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[\x21-\x7e\x80-\xff]*\Z")
# never forwarded by a proxy (RFC 9110 7.6.1; Proxy-Connection by practice)
_HOP_FIELDS = ("keep-alive", "proxy-connection", "te")
# may not appear in a trailer section (RFC 9110 6.5.1)
_NOT_IN_TRAILER = ("content-length", "transfer-encoding", "host", "connection", "te",
                   "trailer", "keep-alive", "upgrade")

PROTOCOL_ERRORS = []           # every origin's, in order: see take_protocol_errors()
_PROTOCOL_ERRORS_LOCK = threading.Lock()


def take_protocol_errors():
    """Returns and forgets the protocol errors recorded by every HttpOrigin
    of this process since the last call (conftest.py calls it after each
    test and fails the test if it is not empty)."""
    with _PROTOCOL_ERRORS_LOCK:
        out = list(PROTOCOL_ERRORS)
        del PROTOCOL_ERRORS[:]
    return out


class _ProtocolError(Exception):
    """A request the origin cannot parse: answered 400, connection closed."""


def _field_lines(lines, where):
    """Parses field lines strictly; returns [(name, value)] (latin-1)."""
    out = []
    for ln in lines:
        if ln[:1] in (b" ", b"\t"):
            raise _ProtocolError("obs-fold line in the %s: %r" % (where, ln[:80]))
        m = _FIELD_LINE.match(ln)
        if not m:
            raise _ProtocolError("malformed field line in the %s: %r" % (where, ln[:80]))
        out.append((m.group(1).decode("latin-1"), m.group(2).decode("latin-1")))
    return out


def _list_members(values):
    return [t.strip(" \t") for v in values for t in v.split(",") if t.strip(" \t")]


def _check_request_head(method, target, version, headers):
    """Framing and target checks that make a request unparseable (raises
    _ProtocolError); returns the body framing: ("chunked", None),
    ("length", N) or ("none", 0)."""
    if method == "CONNECT":
        if not re.match(r"[^/\s]+:[0-9]+\Z", target):
            raise _ProtocolError("CONNECT target not in authority-form: %r" % target[:80])
    elif not (_ORIGIN_FORM.match(target) or _ABSOLUTE_FORM.match(target)
              or (method == "OPTIONS" and target == "*")):
        raise _ProtocolError("request target in no valid form: %r" % target[:80])
    tes = _hdr(headers, "transfer-encoding")
    cls = _hdr(headers, "content-length")
    if tes:
        if cls:
            raise _ProtocolError("both Content-Length and Transfer-Encoding")
        if version != "HTTP/1.1":
            raise _ProtocolError("Transfer-Encoding in an %s request" % version)
        codings = [m.split(";")[0].strip(" \t").lower() for m in _list_members(tes)]
        if not codings or codings[-1] != "chunked" or codings.count("chunked") != 1:
            raise _ProtocolError("Transfer-Encoding %r: chunked is not the final coding once"
                                 % ", ".join(tes))
        return "chunked", None
    if cls:
        if len(cls) != 1 or not _DIGITS.match(cls[0]):
            raise _ProtocolError("Content-Length is not one plain number: %r" % cls)
        return "length", int(cls[0])
    return "none", 0


def _hygiene_problems(version, headers):
    """What a well-behaved proxy never forwards, though a server can parse
    it: wrong Host count, hop-by-hop fields."""
    out = []
    hosts = _hdr(headers, "host")
    if version == "HTTP/1.1" and len(hosts) != 1:
        out.append("HTTP/1.1 request with %d Host fields (%r)" % (len(hosts), hosts))
    elif len(hosts) > 1:
        out.append("%d Host fields (%r)" % (len(hosts), hosts))
    for h in hosts:
        if not _HOST.match(h):
            out.append("Host value %r is not host[:port]" % h)
    conn = [t.lower() for t in _list_members(_hdr(headers, "connection"))]
    for t in conn:
        if t not in ("close", "keep-alive", "upgrade", "te"):
            out.append("Connection names %r (should have been removed with its field)" % t)
    names = set(n.lower() for n, _ in headers)
    for n in _HOP_FIELDS:
        if n in names and not (n == "te" and "te" in conn and
                               [v.strip().lower() for v in _hdr(headers, "te")] == ["trailers"]):
            out.append("hop-by-hop field %s forwarded" % n)
    if "upgrade" in names and "upgrade" not in conn:
        out.append("Upgrade forwarded without Connection: upgrade")
    for t in conn:
        if t not in ("upgrade", "te") and t in names:
            out.append("field %s named by Connection forwarded" % t)
    return out


def expected_bytes(n, offset=0):
    """The first n bytes of the pattern stream (from offset)."""
    out = bytearray()
    while len(out) < n:
        start = (offset + len(out)) % MiB
        out += PATTERN_VIEW[start:start + n - len(out)]
    return bytes(out)


def ws_accept(key):
    k = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hashlib.sha1(k + WS_GUID).digest()).decode()


class OriginStats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.accepts = 0          # TCP connections accepted
        self.open_conns = 0       # currently open
        self.bytes_in = 0         # raw bytes received
        self.bytes_out = 0        # raw bytes sent (updated per <=1 MiB slice)
        self.heads = 0            # request heads parsed (body may be pending)
        self.requests = []        # completed request records (dicts)
        self.idle_closes = 0      # keep-alive connections closed for idleness (?idle_close)
        self.delaying = 0         # /delay requests sleeping now
        self.max_delaying = 0     # the most of them at once

    def snapshot(self):
        return dict(accepts=self.accepts, open_conns=self.open_conns,
                    bytes_in=self.bytes_in, bytes_out=self.bytes_out,
                    heads=self.heads, requests=len(self.requests))


class _Closed(Exception):
    pass


class _Conn:
    """Buffered reader/writer over a non-blocking socket on an asyncio loop."""

    def __init__(self, loop, sock, stats):
        self.loop = loop
        self.sock = sock
        self.stats = stats
        self.buf = bytearray()
        self.rbuf = bytearray(MiB)
        self.rview = memoryview(self.rbuf)
        self.idle_close = None

    async def fill(self):
        n = await self.loop.sock_recv_into(self.sock, self.rview)
        if n == 0:
            raise _Closed()
        self.stats.bytes_in += n
        self.buf += self.rview[:n]
        return n

    async def read_until(self, delim, limit):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                end = i + len(delim)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            if len(self.buf) > limit:
                raise _Closed()
            start = max(0, len(self.buf) - len(delim) + 1)
            await self.fill()

    async def read_exact(self, n):
        while len(self.buf) < n:
            await self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def consume(self, n, hasher=None):
        """Reads and discards n bytes, feeding hasher; no big copies."""
        take = min(n, len(self.buf))
        if take:
            if hasher is not None:
                hasher.update(self.buf[:take])
            del self.buf[:take]
        left = n - take
        while left > 0:
            want = min(left, MiB)
            k = await self.loop.sock_recv_into(self.sock, self.rview[:want])
            if k == 0:
                raise _Closed()
            self.stats.bytes_in += k
            if hasher is not None:
                hasher.update(self.rview[:k])
            left -= k

    async def send(self, data):
        await self.loop.sock_sendall(self.sock, data)
        self.stats.bytes_out += len(data)

    async def send_pattern(self, n, offset=0):
        pos = offset
        end = offset + n
        while pos < end:
            start = pos % MiB
            k = min(end - pos, MiB - start)
            await self.send(PATTERN_VIEW[start:start + k])
            pos += k


def _hdr(headers, name):
    name = name.lower()
    vals = [v for (n, v) in headers if n.lower() == name]
    return vals


class HttpOrigin:
    def __init__(self, name="origin", port=0, backlog=8192):
        self.name = name
        self.stats = OriginStats()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(backlog)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.protocol_errors = []      # this origin's (see take_protocol_errors)
        self._conn_seq = 0
        self._conns = set()
        self._tasks = set()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="origin-" + name, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    # ---- lifecycle -------------------------------------------------------
    def _run(self):
        asyncio.set_event_loop(self.loop)
        self._release = asyncio.Event()
        self._gate = asyncio.Event()
        self._accept_task = self.loop.create_task(self._accept_loop())
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _shutdown(self):
        self._accept_task.cancel()
        for t in list(self._tasks):
            t.cancel()
        for s in list(self._conns):
            try:
                s.close()
            except OSError:
                pass
        await asyncio.sleep(0)

    def close(self):
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.sock.close()

    def release(self):
        """Lets requests sent with ?hold=1 read their bodies."""
        self.loop.call_soon_threadsafe(self._release.set)

    def open_gate(self):
        """Answers the /gate requests waiting, and those to come."""
        self.loop.call_soon_threadsafe(self._gate.set)

    def close_gate(self):
        """/gate requests wait again (until the next open_gate())."""
        asyncio.run_coroutine_threadsafe(self._close_gate(), self.loop).result(5)

    async def _close_gate(self):
        self._gate.clear()

    def settle(self, timeout=2.0):
        """Waits until the origin has taken in everything already sent to
        it: no connection waiting in the accept queue, no unread byte or
        EOF on any connection, and the tasks that read them have run.  Call
        it after the proxy answered (or closed) to check what reached the
        origin without a guessed sleep.  Returns False if still busy after
        timeout (a request held by ?hold=1 keeps its bytes unread)."""
        return asyncio.run_coroutine_threadsafe(self._settle(timeout), self.loop).result(
            timeout + 5)

    async def _settle(self, timeout):
        deadline = self.loop.time() + timeout
        quiet = 0
        while quiet < 3:
            socks = [self.sock] + list(self._conns)
            busy = select.select(socks, [], [], 0)[0]
            if busy:
                if self.loop.time() > deadline:
                    return False
                quiet = 0
                await asyncio.sleep(0.001)
            else:
                quiet += 1             # let woken tasks run to their next read
                await asyncio.sleep(0)
        return True

    def _protocol_error(self, conn_id, seq, what, fatal):
        e = "origin %s conn %d request %d: %s%s" % (
            self.name, conn_id, seq, what, " (answered 400, closed)" if fatal else "")
        self.protocol_errors.append(e)
        with _PROTOCOL_ERRORS_LOCK:
            PROTOCOL_ERRORS.append(e)

    # ---- serving ---------------------------------------------------------
    async def _accept_loop(self):
        while True:
            try:
                s, _ = await self.loop.sock_accept(self.sock)
            except asyncio.CancelledError:
                raise
            except OSError:
                await asyncio.sleep(0.01)
                continue
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stats.accepts += 1
            self._conn_seq += 1
            t = self.loop.create_task(self._serve_conn(s, self._conn_seq))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _serve_conn(self, s, conn_id):
        self._conns.add(s)
        self.stats.open_conns += 1
        c = _Conn(self.loop, s, self.stats)
        seq = 0
        try:
            while True:
                try:
                    keep = await self._one_request(c, conn_id, seq)
                except _ProtocolError as e:
                    self._protocol_error(conn_id, seq, str(e), True)
                    body = b"origin protocol error\n"
                    await c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n%s" % (len(body), body))
                    break
                seq += 1
                if not keep:
                    break
                if c.idle_close is not None and not c.buf:
                    # Close an idle keep-alive connection after a while, as
                    # servers with a short keep-alive timeout do.
                    try:
                        await asyncio.wait_for(c.fill(), c.idle_close)
                    except asyncio.TimeoutError:
                        self.stats.idle_closes += 1
                        break
        except (_Closed, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception as e:        # a bug in the origin must not pass for a close
            self._protocol_error(conn_id, seq, "origin failed: %r" % e, False)
        finally:
            self.stats.open_conns -= 1
            self._conns.discard(s)
            try:
                s.close()
            except OSError:
                pass

    async def _one_request(self, c, conn_id, seq):
        try:
            head = await c.read_until(b"\r\n\r\n", 1 * MiB)
        except _Closed:
            if c.buf:
                self.stats.heads += 1
                raise _ProtocolError("connection closed inside a request head: %r"
                                     % bytes(c.buf[:80]))
            raise
        self.stats.heads += 1
        raw_head = head
        # Strict: no empty line before the request line (a proxy that sends
        # one slipped in its framing), CRLF only, RFC 9112 syntax.
        lines = head[:-4].split(b"\r\n")
        for ln in lines:
            if b"\r" in ln or b"\n" in ln:
                raise _ProtocolError("bare CR or LF in the head: %r" % ln[:80])
        m = _REQUEST_LINE.match(lines[0])
        if not m:
            raise _ProtocolError("malformed request line %r" % lines[0][:80])
        method, target, version = (x.decode("latin-1") for x in m.groups())
        headers = _field_lines(lines[1:], "head")
        framing, length = _check_request_head(method, target, version, headers)
        for problem in _hygiene_problems(version, headers):
            self._protocol_error(conn_id, seq, "%s %s: %s" % (method, target[:60], problem), False)
        u = urllib.parse.urlsplit(target)
        path = u.path
        query = dict(urllib.parse.parse_qsl(u.query))

        conn_tokens = ",".join(_hdr(headers, "connection")).lower()
        conn_tokens = [t.strip() for t in conn_tokens.split(",") if t.strip()]
        if version == "HTTP/1.0":
            keep = "keep-alive" in conn_tokens
        else:
            keep = "close" not in conn_tokens

        if query.get("close") == "1":
            keep = False
        if "idle_close" in query:
            c.idle_close = int(query["idle_close"]) / 1000.0

        if path == "/ws" and _hdr(headers, "upgrade"):
            await self._websocket(c, headers, query)
            return False

        if query.get("hold") == "1":
            await self._release.wait()

        if path == "/reject_early":
            # Answer without reading the body, then a lingering close.
            self.stats.requests.append(dict(origin=self.name, target=target, early=True))
            await c.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope\n")
            c.sock.shutdown(socket.SHUT_WR)
            try:
                await asyncio.wait_for(self._drain_until_eof(c), 3)
            except asyncio.TimeoutError:
                pass
            return False

        if path == "/duplex":
            # Streams the request body back as it arrives (chunked), before
            # the request is complete.
            if framing == "chunked":
                raise _ProtocolError("/duplex takes a Content-Length body")
            n = length
            await c.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            left = n
            if c.buf:
                k = min(len(c.buf), left)
                await c.send(b"%x\r\n" % k + bytes(c.buf[:k]) + b"\r\n")
                del c.buf[:k]
                left -= k
            while left > 0:
                k = await self.loop.sock_recv_into(c.sock, c.rview[:min(left, 256 * 1024)])
                if k == 0:
                    raise _Closed()
                self.stats.bytes_in += k
                await c.send(b"%x\r\n" % k)
                await c.send(c.rview[:k])
                await c.send(b"\r\n")
                left -= k
            await c.send(b"0\r\n\r\n")
            self.stats.requests.append(dict(origin=self.name, target=target, body_len=n))
            return keep

        if any(v.lower() == "100-continue" for v in _hdr(headers, "expect")):
            await c.send(b"HTTP/1.1 100 Continue\r\n\r\n")

        # Body.
        hasher = hashlib.sha256()
        body_len = 0
        chunk_lines = []
        trailers = []
        # A body cut short by EOF (_Closed) is how a proxy passes on a client
        # that left mid-upload: not a protocol error, just no request record.
        if framing == "chunked":
            while True:
                line = await c.read_until(b"\r\n", 64 * 1024)
                cm = _CHUNK_LINE.match(line[:-2])
                if b"\r" in line[:-2] or b"\n" in line[:-2] or not cm:
                    raise _ProtocolError("malformed chunk-size line %r after %d body bytes"
                                         % (line[:80], body_len))
                chunk_lines.append(line[:-2].decode("latin-1"))
                size = int(cm.group(1), 16)
                if size == 0:
                    break
                await c.consume(size, hasher if body_len + size <= HASH_LIMIT else None)
                body_len += size
                crlf = await c.read_exact(2)
                if crlf != b"\r\n":
                    raise _ProtocolError("chunk of %d bytes followed by %r, not CRLF"
                                         % (size, crlf))
            lines = []
            while True:
                line = await c.read_until(b"\r\n", 64 * 1024)
                if line == b"\r\n":
                    break
                if b"\r" in line[:-2] or b"\n" in line[:-2]:
                    raise _ProtocolError("bare CR or LF in the trailer: %r" % line[:80])
                lines.append(line[:-2])
            trailers = _field_lines(lines, "trailer")
            for n, _ in trailers:
                if n.lower() in _NOT_IN_TRAILER:
                    self._protocol_error(conn_id, seq, "%s %s: field %s in a trailer"
                                         % (method, target[:60], n), False)
        elif framing == "length" and "read_delay" in query:
            # a slow reader: read_chunk bytes (default 16 KiB) per read_delay ms
            delay = int(query["read_delay"]) / 1000.0
            step = int(query.get("read_chunk", 16384))
            left = length
            while left > 0:
                await asyncio.sleep(delay)
                k = min(step, left)
                await c.consume(k, hasher if length <= HASH_LIMIT else None)
                left -= k
            body_len = length
        elif framing == "length":
            await c.consume(length, hasher if length <= HASH_LIMIT else None)
            body_len = length

        rec = dict(origin=self.name, conn=conn_id, seq=seq, method=method,
                   target=target, version=version, headers=headers,
                   body_len=body_len,
                   body_sha256=hasher.hexdigest() if body_len <= HASH_LIMIT else None,
                   chunk_lines=chunk_lines, trailers=trailers,
                   raw_head=raw_head.decode("latin-1"))
        self.stats.requests.append(rec)

        head_only = method == "HEAD"
        close_hdr = b"" if keep else b"Connection: close\r\n"
        seg = path.split("/")

        if path.startswith("/bytes/"):
            n = int(seg[2])
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n%s\r\n" % (n, close_hdr))
            if not head_only:
                await c.send_pattern(n)
            return keep

        if path.startswith("/chunked/"):
            n = int(seg[2])
            chunk = int(query.get("chunk", MiB))
            ext = query.get("ext") == "1"
            trailer = query.get("trailer") == "1"
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n%s\r\n" % close_hdr)
            if head_only:
                return keep
            pos = 0
            while pos < n:
                k = min(chunk, n - pos)
                await c.send(b"%x%s\r\n" % (k, b";name=value" if ext else b""))
                await c.send_pattern(k, pos)
                await c.send(b"\r\n")
                pos += k
            last = b"0%s\r\n" % (b";last=1" if ext else b"")
            if trailer:
                last += b"X-Trailer: done\r\n"
            await c.send(last + b"\r\n")
            return keep

        if path.startswith("/close/"):
            n = int(seg[2])
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Connection: close\r\n\r\n")
            if not head_only:
                await c.send_pattern(n)
            return False

        if path.startswith("/status/"):
            code = int(seg[2])
            hdrs = b""
            if code in (204, 304) or code < 200:
                if code == 304 and "cl" in query:
                    hdrs += b"Content-Length: %d\r\n" % int(query["cl"])
                if code == 304:
                    hdrs += b'ETag: "abc"\r\n'
                await c.send(b"HTTP/1.1 %d Status\r\n%s%s\r\n" % (code, hdrs, close_hdr))
                return keep
            body = b"status %d\n" % code
            await c.send(b"HTTP/1.1 %d Status\r\nContent-Length: %d\r\n%s\r\n%s" % (
                code, len(body), close_hdr, b"" if head_only else body))
            return keep

        if path == "/garbage":
            kind = query.get("kind", "junk")
            resp = {
                "junk": b"this is not http at all\r\n\r\n",
                "status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
                "cl": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
                "dupcl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                "space": b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
                "empty": b"",
                "clte": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhello\r\n0\r\n\r\n",
                "badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n",
                "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly forty bytes of the hundred promised",
            }[kind]
            if resp:
                await c.send(resp)
            return False

        if path.startswith("/drip/"):
            n = int(seg[2])
            interval = int(query.get("interval_ms", "50")) / 1000.0
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (10 * n, close_hdr))
            for i in range(n):
                await c.send(b"%09d\n" % i)
                await asyncio.sleep(interval)
            return keep

        if path.startswith("/stall/"):
            n = int(seg[2])
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (2 * n))
            await c.send_pattern(n)
            while True:
                await c.fill()     # never sends the rest

        if path == "/hang":
            while True:
                await c.fill()     # until the peer closes

        if path == "/hop":
            body = b"hop\n"
            await c.send(b"HTTP/1.1 200 OK\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"
                         b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
                         b"X-Resp-Keep: yes\r\nContent-Length: %d\r\n%s\r\n%s"
                         % (len(body), close_hdr, body))
            return keep

        if path.startswith("/bighead/"):
            n = int(seg[2])
            body = b"bighead\n"
            await c.send(b"HTTP/1.1 200 OK\r\nX-Big: %s\r\nContent-Length: %d\r\n%s\r\n%s"
                         % (b"b" * n, len(body), close_hdr, body))
            return keep

        if path == "/early":
            await c.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            await asyncio.sleep(0.05)
            body = b"final\n"
            await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                         % (len(body), close_hdr, body))
            return keep

        if path == "/setcookies":
            body = b"cookies\n"
            await c.send(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\n"
                         b"Set-Cookie: b=2; Path=/\r\nContent-Length: %d\r\n%s\r\n%s"
                         % (len(body), close_hdr, body))
            return keep

        if path.startswith("/delay/") or path == "/gate":
            self.stats.delaying += 1
            self.stats.max_delaying = max(self.stats.max_delaying, self.stats.delaying)
            try:
                if path == "/gate":
                    await asyncio.wait_for(self._gate.wait(), 60)
                else:
                    await asyncio.sleep(int(seg[2]) / 1000.0)
            finally:
                self.stats.delaying -= 1

        # Default: echo.
        out = dict(rec)
        out["headers"] = [list(h) for h in headers]
        out["trailers"] = [list(h) for h in trailers]
        body = json.dumps(out).encode()
        await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"X-Origin: %s\r\nContent-Length: %d\r\n%s\r\n%s" % (
                         self.name.encode(), len(body), close_hdr,
                         b"" if head_only else body))
        return keep

    async def _drain_until_eof(self, c):
        while True:
            await c.fill()
            c.buf.clear()

    async def _websocket(self, c, headers, query):
        key = (_hdr(headers, "sec-websocket-key") or [""])[0]
        resp = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                % ws_accept(key).encode())
        if query.get("greet") == "1":
            resp += ws_frame(0x1, b"hello", mask=False)
        await c.send(resp)
        while True:
            fin, opcode, payload = await ws_read_frame_async(c)
            if opcode == 0x8:
                await c.send(ws_frame(0x8, payload[:2], mask=False))
                return
            if opcode == 0x9:
                await c.send(ws_frame(0xA, payload, mask=False))
                continue
            await c.send(ws_frame(opcode, payload, mask=False, fin=fin))


# ---- WebSocket framing (RFC 6455) -------------------------------------------

def ws_frame(opcode, payload, mask=True, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        hdr = bytes([b0, (0x80 if mask else 0) | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, (0x80 if mask else 0) | 127]) + n.to_bytes(8, "big")
    if not mask:
        return hdr + bytes(payload)
    key = os.urandom(4)
    return hdr + key + ws_mask(key, payload)


def ws_mask(key, data):
    if not data:
        return b""
    k = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(len(data), "big")


async def ws_read_frame_async(c):
    h = await c.read_exact(2)
    fin = bool(h[0] & 0x80)
    opcode = h[0] & 0x0F
    masked = bool(h[1] & 0x80)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(await c.read_exact(2), "big")
    elif n == 127:
        n = int.from_bytes(await c.read_exact(8), "big")
    key = await c.read_exact(4) if masked else None
    payload = await c.read_exact(n)
    if masked:
        payload = ws_mask(key, payload)
    return fin, opcode, payload


# ---- TCP echo ---------------------------------------------------------------

class TcpEchoOrigin:
    def __init__(self, name="echo"):
        self.name = name
        self.stats = OriginStats()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self._conns = set()
        self._tasks = set()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="echo-" + name, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self._accept_task = self.loop.create_task(self._accept_loop())
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _accept_loop(self):
        while True:
            s, _ = await self.loop.sock_accept(self.sock)
            s.setblocking(False)
            self.stats.accepts += 1
            t = self.loop.create_task(self._echo(s))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _echo(self, s):
        self._conns.add(s)
        self.stats.open_conns += 1
        buf = bytearray(MiB)
        view = memoryview(buf)
        try:
            while True:
                n = await self.loop.sock_recv_into(s, view)
                if n == 0:
                    s.shutdown(socket.SHUT_WR)
                    # wait for the peer to close
                    while await self.loop.sock_recv_into(s, view):
                        pass
                    break
                self.stats.bytes_in += n
                await self.loop.sock_sendall(s, view[:n])
                self.stats.bytes_out += n
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.stats.open_conns -= 1
            self._conns.discard(s)
            s.close()

    async def _shutdown(self):
        self._accept_task.cancel()
        for t in list(self._tasks):
            t.cancel()
        for s in list(self._conns):
            s.close()
        await asyncio.sleep(0)

    def close(self):
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.sock.close()


def _main(argv):
    if len(argv) < 2 or argv[1] != "http":
        print("usage: origins.py http [PORT]", file=sys.stderr)
        return 2
    port = int(argv[2]) if len(argv) > 2 else 0
    o = HttpOrigin("sub", port=port)
    print(o.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.wait(0.5):
        pass
    snap = o.stats.snapshot()
    snap["protocol_errors"] = o.protocol_errors
    print(json.dumps(snap), flush=True)
    for e in o.protocol_errors:
        print("origin protocol error: %s" % e, file=sys.stderr)
    o.close()
    return 1 if o.protocol_errors else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
