"""
deployutil.py - helpers of the deployment tests (test_unix_sockets.py,
test_privileges.py, test_sockopts.py):

  PeerOrigin      a threaded HTTP/1.1 origin on TCP or a Unix socket that
                  answers every request with JSON: path, the peer address it
                  saw, the request headers, and its connection number (so a
                  test sees pooling and `source` addresses)
  unix_get        one HTTP/1.1 request over a Unix socket (or several on one
                  connection)
  peer_sockets    the sockets of another process (pidfd_getfd, as root),
                  with their addresses, for getsockopt() on gatehouse's own
                  client, server and listening sockets
"""

import ctypes
import json
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.conns += 1
            self.conn_no = self.server.conns

    def do_GET(self):
        o = self.server
        with o.lock:
            o.requests.append(self.path)
        if self.path.startswith("/hold"):
            o.holding.set()
            o.release.wait(10)
        peer = self.client_address[0] if isinstance(self.client_address, tuple) else "unix"
        body = json.dumps({"path": self.path, "peer": peer, "conn": self.conn_no,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class PeerOrigin:
    """PeerOrigin() on 127.0.0.1:<ephemeral>, PeerOrigin(path=...) on a Unix
    socket.  .addr is what a `server` line takes."""

    def __init__(self, path=None):
        self.path = path
        if path:
            self.srv = _UnixServer(path, _Handler)
            self.addr = "unix@" + path
        else:
            self.srv = _TcpServer(("127.0.0.1", 0), _Handler)
            self.port = self.srv.server_address[1]
            self.addr = "127.0.0.1:%d" % self.port
        self.srv.lock = threading.Lock()
        self.srv.conns = 0
        self.srv.requests = []
        self.srv.holding = threading.Event()
        self.srv.release = threading.Event()
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def conns(self):
        return self.srv.conns

    @property
    def requests(self):
        with self.srv.lock:
            return list(self.srv.requests)

    def close(self):
        self.srv.release.set()
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(5)
        if self.path:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


def _read_response(f):
    status = f.readline()
    if not status:
        raise ConnectionError("connection closed before a response")
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return int(status.split()[1]), headers, body


def http_get(family_addr, paths, host="test", timeout=5, source=None):
    """Sends GET for each path on one connection; returns [(status, headers,
    body)].  family_addr: a Unix socket path (str starting with '/') or a
    (host, port) pair; source: a local IP to connect from."""
    if isinstance(family_addr, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(family_addr)
    out = []
    try:
        f = s.makefile("rb")
        for p in paths:
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (p, host)).encode())
            out.append(_read_response(f))
    finally:
        s.close()
    return out


# ---- another process's sockets -------------------------------------------------

_SYS_pidfd_getfd = 438
_libc = ctypes.CDLL(None, use_errno=True)


def _getfd(pidfd, fd):
    r = _libc.syscall(_SYS_pidfd_getfd, pidfd, fd, 0)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def peer_sockets(pid):
    """[(socket.socket, local address, peer address or None)] of every TCP
    socket of pid, duplicated into this process (close them after use)."""
    pidfd = os.pidfd_open(pid)
    out = []
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                    continue
                fd = _getfd(pidfd, int(name))
            except OSError:
                continue
            s = socket.socket(fileno=fd)
            if s.family not in (socket.AF_INET, socket.AF_INET6) or s.type != socket.SOCK_STREAM:
                s.close()
                continue
            try:
                peer = s.getpeername()
            except OSError:
                peer = None
            out.append((s, s.getsockname(), peer))
    finally:
        os.close(pidfd)
    return out


def find_socket(pid, local=None, peer=None):
    """The one socket of pid with that local and/or peer (host, port); the
    others are closed.  None if there is none."""
    found = None
    for s, l, p in peer_sockets(pid):
        if found is None and (local is None or tuple(l[:2]) == tuple(local)) and \
                (peer is None or (p is not None and tuple(p[:2]) == tuple(peer))):
            found = s
        else:
            s.close()
    return found
