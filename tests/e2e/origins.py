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

A request with "Expect: 100-continue" gets "100 Continue" before the origin
reads its body.  Keep-alive and pipelining are supported; "Connection:
close" (or HTTP/1.0 without keep-alive) closes after the response.

TcpEchoOrigin echoes bytes and half-closes after the peer half-closes.

Run as a script (`origins.py http [PORT]`) it serves an HttpOrigin in a
separate process (its own file-descriptor budget), printing the port on
stdout, until stdin closes or it gets SIGTERM.
"""

import asyncio
import base64
import hashlib
import json
import os
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
                keep = await self._one_request(c, conn_id, seq)
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
        finally:
            self.stats.open_conns -= 1
            self._conns.discard(s)
            try:
                s.close()
            except OSError:
                pass

    async def _one_request(self, c, conn_id, seq):
        # Skip empty lines before a request line, as servers do.
        while True:
            head = await c.read_until(b"\r\n\r\n", 1 * MiB)
            lines = head[:-4].split(b"\r\n")
            while lines and lines[0] == b"":
                lines.pop(0)
            if lines:
                break
        raw_head = head
        reqline = lines[0].decode("latin-1")
        parts = reqline.split(" ")
        method, target, version = (parts + ["", "", ""])[:3]
        headers = []
        for ln in lines[1:]:
            name, _, value = ln.decode("latin-1").partition(":")
            headers.append((name, value.strip(" \t")))
        self.stats.heads += 1
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
            n = int((_hdr(headers, "content-length") or ["0"])[0])
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
        te = ",".join(_hdr(headers, "transfer-encoding")).lower()
        cls = _hdr(headers, "content-length")
        hasher = hashlib.sha256()
        body_len = 0
        chunk_lines = []
        trailers = []
        if te.strip():
            while True:
                line = await c.read_until(b"\r\n", 64 * 1024)
                chunk_lines.append(line[:-2].decode("latin-1"))
                size = int(line[:-2].split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    break
                await c.consume(size, hasher if body_len + size <= HASH_LIMIT else None)
                body_len += size
                if await c.read_exact(2) != b"\r\n":
                    raise _Closed()
            while True:
                line = await c.read_until(b"\r\n", 64 * 1024)
                if line == b"\r\n":
                    break
                n, _, v = line[:-2].decode("latin-1").partition(":")
                trailers.append((n, v.strip()))
        elif cls:
            n = int(cls[0].split(",")[0].strip())
            await c.consume(n, hasher if n <= HASH_LIMIT else None)
            body_len = n

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

        if path.startswith("/delay/"):
            await asyncio.sleep(int(seg[2]) / 1000.0)

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
    print(json.dumps(o.stats.snapshot()), flush=True)
    o.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
