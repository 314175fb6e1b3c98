"""
cache_origin.py - a scripted origin for the cache tests (test_cache*.py).

It counts the requests it gets per (method, path) and answers what the
test scripted for the path:

    o = ScriptedOrigin()
    o.script("/a", headers=[("Cache-Control", "max-age=60")], body=b"x")
    o.script("/v", fn=lambda req: {...})   # computed per request

A spec's keys: status (200), headers (list of pairs), body (bytes), delay
(seconds before the head), body_delay (seconds between the head and the
body, sent in two halves around it), gate (a threading.Event waited for
between the two halves instead), fail_after (send that many body bytes
of a longer Content-Length, then close), chunked (bool), date (a Date
value; default now; None: no Date), pieces (a list of (bytes, gate or
None): the body sent piece by piece, each once its gate is set; with
length (the Content-Length, when more than the pieces: the rest never
comes) the connection then stays silent until the gate `hold` is set, and
closes; chunked: each piece a chunk).  `fn(req)` returns a spec; req has
method, path, headers (lower-cased dict of lists), n (this path's count).

Every request is recorded (o.requests); o.count(path, method="GET").
o.stop() closes the listener and every connection (an origin that is down).
"""

import socket
import threading
import time
from email.utils import formatdate


class Req:
    def __init__(self, method, path, headers, n):
        self.method = method
        self.path = path
        self.headers = headers
        self.n = n

    def get(self, name):
        v = self.headers.get(name.lower())
        return v[-1] if v else None


class ScriptedOrigin:
    def __init__(self):
        self.lock = threading.Lock()
        self.scripts = {}
        self.counts = {}
        self.requests = []
        self.conns = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def script(self, path, fn=None, **spec):
        with self.lock:
            self.scripts[path] = fn if fn else spec

    def count(self, path, method="GET"):
        with self.lock:
            return self.counts.get((method, path), 0)

    def total(self):
        with self.lock:
            return sum(self.counts.values())

    def last(self, path):
        with self.lock:
            for r in reversed(self.requests):
                if r.path == path:
                    return r
        return None

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes accept()
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.thread.join(5)

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        try:
            c.settimeout(30)
            while not self.stopped:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for ln in lines[1:]:
                    k, _, v = ln.partition(":")
                    headers.setdefault(k.strip().lower(), []).append(v.strip())
                cl = int(headers.get("content-length", ["0"])[-1])
                while len(buf) < cl:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                buf = buf[cl:]
                path = target.split("?", 1)[0]
                with self.lock:
                    k = (method, path)
                    self.counts[k] = self.counts.get(k, 0) + 1
                    req = Req(method, target, headers, self.counts[k])
                    self.requests.append(req)
                    spec = self.scripts.get(path, {})
                if callable(spec):
                    spec = spec(req)
                if not self._answer(c, method, spec):
                    return
        except OSError:
            pass
        finally:
            with self.lock:
                self.conns.discard(c)
            try:
                c.close()
            except OSError:
                pass

    def _answer(self, c, method, spec):
        if spec.get("delay"):
            time.sleep(spec["delay"])
        status = spec.get("status", 200)
        body = spec.get("body", b"body")
        hs = list(spec.get("headers", []))
        date = spec.get("date", formatdate(usegmt=True))
        if date is not None:
            hs.insert(0, ("Date", date))
        no_body = status in (204, 304) or status < 200
        chunked = spec.get("chunked", False)
        pieces = spec.get("pieces")
        if pieces is not None:
            body = b"".join(p for p, _ in pieces)
        if not no_body:
            if chunked:
                hs.append(("Transfer-Encoding", "chunked"))
            elif pieces is not None:
                hs.append(("Content-Length", str(spec.get("length", len(body)))))
            else:
                hs.append(("Content-Length", str(len(body))))
        head = "HTTP/1.1 %d X\r\n" % status + "".join("%s: %s\r\n" % kv for kv in hs) + "\r\n"
        c.sendall(head.encode("latin-1"))
        if no_body or method == "HEAD":
            return True
        if pieces is not None:
            for p, gate in pieces:
                if gate is not None:
                    gate.wait(30)
                c.sendall(b"%x\r\n%s\r\n" % (len(p), p) if chunked else p)
            if chunked:
                c.sendall(b"0\r\n\r\n")
            elif spec.get("length", len(body)) > len(body):
                spec["hold"].wait(60)     # silent past the proxy's timeout server
                return False
            return True
        if "fail_after" in spec:
            c.sendall(body[:spec["fail_after"]])
            time.sleep(0.05)
            return False
        if chunked:
            half = len(body) // 2
            c.sendall(b"%x\r\n%s\r\n" % (half, body[:half]))
            if spec.get("body_delay"):
                time.sleep(spec["body_delay"])
            rest = body[half:]
            c.sendall((b"%x\r\n%s\r\n" % (len(rest), rest) if rest else b"") + b"0\r\n\r\n")
            return True
        if spec.get("body_delay") or spec.get("gate"):
            half = len(body) // 2
            c.sendall(body[:half])
            if spec.get("gate"):
                spec["gate"].wait(20)
            else:
                time.sleep(spec["body_delay"])
            c.sendall(body[half:])
        else:
            c.sendall(body)
        return True
