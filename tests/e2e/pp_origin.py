"""A tiny origin that expects a PROXY protocol header (v1 or v2) on every
connection, parses it strictly, then answers one HTTP/1.1 request (or a
bare connection, for TCP health checks) and closes.

Each connection is recorded in `conns`: {"pp": parsed header or an error
string, "head": the request head bytes (b"" if none)}.  The answer's body is
the JSON of the parsed header, so a test can read what its own request
carried.
"""

import json
import socket
import struct
import threading

SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"


def _recv_exact(s, n):
    out = b""
    while len(out) < n:
        d = s.recv(n - len(out))
        if not d:
            raise EOFError("closed after %d of %d bytes" % (len(out), n))
        out += d
    return out


def read_proxy_header(s):
    """Reads exactly one PROXY header from socket s; returns a dict."""
    first = _recv_exact(s, 6)
    if first == b"PROXY ":
        line = first
        while not line.endswith(b"\r\n"):
            line += _recv_exact(s, 1)
            if len(line) > 107:
                raise ValueError("v1 line too long")
        parts = line[:-2].decode("ascii").split(" ")
        if parts[1] == "UNKNOWN":
            return {"version": 1, "command": "UNKNOWN"}
        if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
            raise ValueError("bad v1 line %r" % line)
        return {"version": 1, "command": parts[1], "src": parts[2], "dst": parts[3],
                "sport": int(parts[4]), "dport": int(parts[5])}
    rest = _recv_exact(s, 10)
    hdr = first + rest
    if hdr[:12] != SIG2:
        raise ValueError("not a PROXY header: %r" % hdr)
    vc, fam, ln = hdr[12], hdr[13], struct.unpack("!H", hdr[14:16])[0]
    body = _recv_exact(s, ln)
    if vc >> 4 != 2:
        raise ValueError("bad version")
    if vc & 0xF == 0:
        return {"version": 2, "command": "LOCAL", "len": ln}
    if fam == 0x11:
        src, dst = socket.inet_ntop(socket.AF_INET, body[0:4]), socket.inet_ntop(socket.AF_INET, body[4:8])
        sp, dp = struct.unpack("!HH", body[8:12])
    elif fam == 0x21:
        src, dst = socket.inet_ntop(socket.AF_INET6, body[0:16]), socket.inet_ntop(socket.AF_INET6, body[16:32])
        sp, dp = struct.unpack("!HH", body[32:36])
    else:
        return {"version": 2, "command": "PROXY", "family": fam}
    return {"version": 2, "command": "PROXY", "src": src, "dst": dst, "sport": sp, "dport": dp}


class ProxyProtoOrigin:
    def __init__(self, tls_pem=None):
        """tls_pem: certificate + key; TLS is then spoken after the header."""
        self.tls = None
        if tls_pem:
            import ssl
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(tls_pem)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.conns = []
        self.lock = threading.Lock()
        self.closing = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        rec = {"pp": None, "head": b""}
        c.settimeout(5)
        try:
            try:
                rec["pp"] = read_proxy_header(c)
            except Exception as e:  # recorded, then the connection is dropped
                rec["pp"] = "error: %s" % e
                return
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                d = c.recv(65536)
                if not d:
                    break
                head += d
            rec["head"] = head
            if head:
                body = json.dumps(rec["pp"]).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        finally:
            with self.lock:
                self.conns.append(rec)
            c.close()

    def snapshot(self):
        with self.lock:
            return list(self.conns)

    def close(self):
        self.closing = True
        try:
            self.sock.close()
        except OSError:
            pass
