"""
h2health_origin.py - servers for the HTTP/2 and gRPC health-check tests
(test_health_h2.py).

H2HealthOrigin(name) is an HTTP/2 origin (python3-h2's server state machine,
cleartext prior knowledge, or TLS with ALPN h2 when given a certificate),
one thread per connection, many streams per connection:

  health_path (/healthz)  answers `.health` (the test switches it: 200, 503)
  anything else           answers `.status` with body and x-origin: NAME

Every request is recorded in `.requests` as a dict: the pseudo-headers
(":method", ":path", ":authority", ":scheme") and the regular fields, by
lowercase name; `.checks` counts health-path requests, `.hits` holds the
time.time() of every other one (for traffic distribution), `.alpn` what
each TLS connection negotiated, `.errors` the protocol errors seen (a peer
that does not speak HTTP/2: an HTTP/1.1 check), `.tls_failures` the
handshakes that failed.

GrpcHealthServer() is a real gRPC server (python3-grpcio) serving
grpc.health.v1.Health/Check through a generic handler with bytes in and
out: the request's `service` is decoded by hand into `.seen`, the answer
is hand-encoded (b"\\x08\\x01" SERVING, b"\\x08\\x02" NOT_SERVING), and a
service not in `.status` is aborted with NOT_FOUND, as the reference
implementation does.  `.metadata` keeps each call's invocation metadata.

Everything is bounded: sockets have timeouts, close() stops the servers and
every connection thread (joined with a timeout).
"""

import socket
import ssl
import threading
import time
from concurrent import futures

import grpc
import h2.config
import h2.connection
import h2.events
import h2.exceptions

SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN = 1, 2, 0, 3


class H2HealthOrigin:
    def __init__(self, name, health_path="/healthz", certfile=None, keyfile=None):
        self.name = name
        self.health_path = health_path
        self.health = 200
        self.status = 200
        self.requests = []
        self.checks = 0
        self.hits = []
        self.alpn = []
        self.errors = []
        self.tls_failures = []
        self.lock = threading.Lock()
        self.ctx = None
        if certfile:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(certfile, keyfile)
            self.ctx.set_alpn_protocols(["h2"])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self._closed = threading.Event()
        self._conns = set()
        self._threads = []
        self._t = threading.Thread(target=self._accept_loop, daemon=True)
        self._t.start()

    # ---- what the tests read ----

    def health_requests(self):
        with self.lock:
            return [r for r in self.requests if r.get(":path") == self.health_path]

    def hits_between(self, a, b):
        with self.lock:
            return sum(1 for t in self.hits if a <= t < b)

    # ---- the server ----

    def _accept_loop(self):
        while not self._closed.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            with self.lock:
                self._conns.add(c)
                self._threads.append(t)
            t.start()

    def _serve(self, raw):
        c = raw
        try:
            c.settimeout(5)
            if self.ctx:
                c = self._handshake(raw) or raw
                if c is raw:
                    return
            self._h2(c)
        except (OSError, ssl.SSLError):
            pass     # the checks close with an RST
        except Exception as e:   # noqa: BLE001 - a test asserts on .errors
            with self.lock:
                self.errors.append("unexpected %r" % e)
        finally:
            with self.lock:
                self._conns.discard(c)
            for s in (c, raw):
                try:
                    s.close()
                except OSError:
                    pass

    def _handshake(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError) as e:
            # a check that timed out mid-handshake ends with an RST: not a
            # protocol error, but kept for a test that wants to see it
            with self.lock:
                self.tls_failures.append(repr(e))
            return None
        with self.lock:
            self._conns.discard(c)
            self._conns.add(t)
            self.alpn.append(t.selected_alpn_protocol())
        return t

    def _h2(self, c):
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        c.sendall(conn.data_to_send())
        heads = {}
        while not self._closed.is_set():
            try:
                data = c.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                with self.lock:
                    self.errors.append("%s: %r (first bytes %r)" % (type(e).__name__, e,
                                                                     data[:24]))
                try:
                    c.sendall(conn.data_to_send())
                except OSError:
                    pass
                return
            for ev in events:
                if isinstance(ev, h2.events.RequestReceived):
                    heads[ev.stream_id] = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    self._answer(conn, ev.stream_id, heads.pop(ev.stream_id, {}))
                elif isinstance(ev, h2.events.StreamReset):
                    heads.pop(ev.stream_id, None)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    c.sendall(conn.data_to_send())
                    return
            c.sendall(conn.data_to_send())

    def _answer(self, conn, sid, head):
        with self.lock:
            self.requests.append(head)
            if head.get(":path") == self.health_path:
                self.checks += 1
                st = self.health
            else:
                self.hits.append(time.time())
                st = self.status
        body = self.name.encode()
        conn.send_headers(sid, [(":status", str(st)), ("content-length", str(len(body))),
                                ("x-origin", self.name)])
        conn.send_data(sid, body, end_stream=True)

    def close(self):
        self._closed.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            conns, threads = list(self._conns), list(self._threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._t.join(2)
        for t in threads:
            t.join(2)


def decode_service(request):
    """HealthCheckRequest.service from its bytes (field 1, length-delimited);
    "" when absent, as proto3 decodes it."""
    i, service = 0, ""
    while i < len(request):
        key, i = _varint(request, i)
        if key & 7 == 2:
            n, i = _varint(request, i)
            if key >> 3 == 1:
                service = request[i:i + n].decode()
            i += n
        elif key & 7 == 0:
            _, i = _varint(request, i)
        else:
            raise ValueError("unexpected wire type in %r" % request)
    return service


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


class GrpcHealthServer:
    def __init__(self, status=None):
        # service name -> serving status ("" is the server as a whole)
        self.status = dict(status if status is not None else {"": SERVING})
        self.seen = []
        self.metadata = []
        self.lock = threading.Lock()
        handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": grpc.unary_unary_rpc_method_handler(self._check),  # bytes in, bytes out
        })
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                                  handlers=[handler])
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        assert self.port, "grpc could not bind"
        self.addr = "127.0.0.1:%d" % self.port
        self.server.start()

    def _check(self, request, context):
        service = decode_service(request)
        with self.lock:
            self.seen.append(service)
            self.metadata.append(dict(context.invocation_metadata()))
            st = self.status.get(service)
        if st is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service %s" % service)
        # proto3 leaves UNKNOWN (0) out: an empty message
        return bytes([0x08, st]) if st else b""

    def calls(self):
        with self.lock:
            return len(self.seen)

    def close(self):
        self.server.stop(0).wait(5)
