"""
tls_origin.py - a small HTTPS origin for the TLS tests (backends over TLS).

TlsOrigin(name, certfile, keyfile) listens on 127.0.0.1 (a free port) and
serves HTTP/1.1 over TLS with keep-alive, one thread per connection:

  /bytes/N    N bytes (the origins.py pattern) with Content-Length
  anything    JSON: origin name, method, path, headers (list of pairs),
              body length and sha256, TLS version, whether the TLS session
              was resumed, and a connection number

  ?close=1    answer with Connection: close and close

Counters for assertions: .connections (TCP connections accepted),
.handshakes (completed), .resumed (handshakes that resumed a session),
.failed (handshakes that failed, e.g. the proxy refused our certificate),
.requests.  Bodies must carry a Content-Length (the proxy normalises
chunked uploads, which this origin does not need to read).
"""

import hashlib
import json
import socket
import ssl
import threading

from origins import expected_bytes


class TlsOrigin:
    def __init__(self, name, certfile, keyfile, tls_max=None):
        self.name = name
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        if tls_max == "1.2":
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.lock = threading.Lock()
        self.connections = self.handshakes = self.resumed = self.failed = 0
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self._conns = set()
        self._closed = False
        self._t = threading.Thread(target=self._accept_loop, daemon=True)
        self._t.start()

    def _count(self, field):
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)

    def _accept_loop(self):
        while not self._closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self._count("connections")
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self._conns.add(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, raw):
        conn_no = self.connections
        try:
            raw.settimeout(30)
            try:
                s = self.ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                self._count("failed")
                return
            self._count("handshakes")
            if s.session_reused:
                self._count("resumed")
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
                cl = 0
                for k, v in headers:
                    if k.lower() == "content-length":
                        cl = int(v)
                while len(buf) < cl:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                body, buf = buf[:cl], buf[cl:]
                self._count("requests")
                path, _, query = target.partition("?")
                close = "close=1" in query.split("&")
                if path.startswith("/bytes/"):
                    payload = expected_bytes(int(path[len("/bytes/"):]))
                    ctype = "application/octet-stream"
                else:
                    payload = json.dumps({
                        "origin": self.name, "method": method, "path": path,
                        "headers": headers, "body_len": len(body),
                        "sha256": hashlib.sha256(body).hexdigest(),
                        "tls_version": s.version(), "resumed": s.session_reused,
                        "conn": conn_no,
                    }).encode()
                    ctype = "application/json"
                out = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                       % (ctype, len(payload), "Connection: close\r\n" if close else ""))
                s.sendall(out.encode() + payload)
                if close:
                    try:
                        s.unwrap()
                    except (ssl.SSLError, OSError):
                        pass
                    return
        except (ssl.SSLError, OSError, ValueError):
            return
        finally:
            with self.lock:
                self._conns.discard(raw)
            try:
                raw.close()
            except OSError:
                pass

    def close(self):
        self._closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
