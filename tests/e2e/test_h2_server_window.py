"""An HTTP/2 server that changes SETTINGS_INITIAL_WINDOW_SIZE while a
request body goes to it (`server ... proto h2`, proxy/h2_server.c).

RFC 9113 6.9.2: a change of INITIAL_WINDOW_SIZE moves the send window of
every open stream by the difference, below zero if need be; a sender then
waits until WINDOW_UPDATE or a later SETTINGS brings it above zero.

The origin here is a raw python3-h2 connection run by the test, so the
test decides when each frame goes: it gives a small first window, waits
until gatehouse has used it up (the upload stalls on a window of 0),
then changes INITIAL_WINDOW_SIZE by SETTINGS alone (no WINDOW_UPDATE for
the stream).  The connection's window is kept wide open, so only the
stream's window can hold the body.  python3-h2 checks every DATA frame
against the window it gave (FlowControlError), so a byte sent past the
window fails the test as surely as a body that never comes.
"""

import hashlib
import os
import queue
import select
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

import ghutil
import httpraw
from ghutil import SLACK, backend_block, frontend_block, global_block, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the origin's windows are gatehouse's to honour")

IWS = h2.settings.SettingCodes.INITIAL_WINDOW_SIZE


class WindowOrigin:
    """One HTTP/2 connection, answered by a thread: every request's body
    is read (the connection's window credited back, the stream's never),
    then answered 200 with its length and sha256; GET /bytes/N is answered
    with N bytes as the window gatehouse gives allows.  `do(fn)` runs
    fn(conn) on the origin's thread (a SETTINGS or WINDOW_UPDATE the test
    sends).  hold_acks: its ACK of gatehouse's SETTINGS waits for
    release_acks (the SETTINGS themselves are applied at once)."""

    def __init__(self, first_window=65535, hold_acks=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.first_window = first_window
        self.received = 0          # request body bytes, all streams
        self.bodies = {}
        self.errors = []
        self.settings_acked = 0    # the origin's SETTINGS frames gatehouse acknowledged
        self.hold_acks = hold_acks
        self.held_acks = []
        self.res_left = {}         # stream id -> response body bytes still to send
        self.res_sent = 0
        self.answering = set()     # streams answered by _send_bodies
        self.window_spent = False  # a response waits for window
        self.jobs = queue.Queue()
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def do(self, fn):
        self.jobs.put(fn)

    def _run(self):
        try:
            self.sock.settimeout(60 * SLACK)
            c, _ = self.sock.accept()
            self._serve(c)
        except Exception as e:   # reported by the test
            self.errors.append(repr(e))

    def _serve(self, c):
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.local_settings = h2.settings.Settings(
            client=False, initial_values={IWS: self.first_window,
                                          h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 10})
        conn.initiate_connection()
        conn.increment_flow_control_window(16 * 1024 * 1024)
        c.sendall(conn.data_to_send())
        while not self.stop:
            while not self.jobs.empty():
                self.jobs.get()(conn)
            r, _, _ = select.select([c], [], [], 0.02)
            if r:
                data = c.recv(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    self._on(conn, ev)
            self._send_bodies(conn)
            out = conn.data_to_send()
            if self.hold_acks:
                out = self._hold_acks(out)
            elif self.held_acks:
                out = b"".join(self.held_acks) + out
                self.held_acks = []
            if out:
                c.sendall(out)
        c.close()

    def _hold_acks(self, out):
        """Takes the SETTINGS ACK frames out of what goes (kept for
        release_acks); the rest goes in order."""
        keep, i = [], 0
        while i < len(out):
            n = 9 + int.from_bytes(out[i:i + 3], "big")
            f = out[i:i + n]
            (self.held_acks if f[3] == 4 and f[4] & 1 else keep).append(f)
            i += n
        return b"".join(keep)

    def release_acks(self, conn):   # (a job for do())
        self.hold_acks = False   # the loop sends what it kept

    def _send_bodies(self, conn):
        for sid, left in list(self.res_left.items()):
            n = min(left, conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
            if n <= 0:
                self.window_spent = True
                continue
            conn.send_data(sid, b"x" * n, end_stream=n == left)
            self.res_left[sid] = left - n
            self.res_sent += n
            if n == left:
                del self.res_left[sid]

    def _on(self, conn, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.bodies[ev.stream_id] = b""
            path = dict(ev.headers).get(b":path", b"")
            if path.startswith(b"/bytes/"):
                n = int(path[7:])
                conn.send_headers(ev.stream_id, [(":status", "200"),
                                                 ("content-length", str(n))])
                self.res_left[ev.stream_id] = n
                self.answering.add(ev.stream_id)
                return
        elif isinstance(ev, h2.events.DataReceived):
            self.bodies[ev.stream_id] += ev.data
            self.received += len(ev.data)
            # the connection's window only: the stream's stays as given
            if ev.flow_controlled_length:
                conn.increment_flow_control_window(ev.flow_controlled_length)
        elif isinstance(ev, h2.events.SettingsAcknowledged):
            self.settings_acked += 1
        elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id not in self.answering:
            body = self.bodies[ev.stream_id]
            conn.send_headers(ev.stream_id, [
                (":status", "200"), ("x-body-len", str(len(body))),
                ("x-body-sha256", hashlib.sha256(body).hexdigest())], end_stream=True)

    def close(self):
        self.stop = True
        self.t.join(10)
        self.sock.close()


def set_window(size):
    return lambda conn: conn.update_settings({IWS: size})


def post(port, body):
    s = httpraw.connect(port, 60 * SLACK)
    try:
        s.sendall(httpraw.build_request("POST", "/up", [("Connection", "close")], body))
        return httpraw.Reader(s).read_response()
    finally:
        s.close()


def run(gatehouse, port, first_window, body, steps):
    """Uploads body through gatehouse to a WindowOrigin whose first window
    is first_window; steps: (bytes the origin must have, then what it
    sends) in order.  A first request opens the connection and waits
    until both sides' SETTINGS are acknowledged, so the upload's stream
    starts under the origin's window (gatehouse may send a first stream
    under the default window before it has the origin's SETTINGS)."""
    o = WindowOrigin(first_window)
    try:
        gatehouse(global_block(1) + frontend_block(port)
                  + backend_block("app", ["%s proto h2" % o.addr], "http",
                                  "    timeout server 60s\n"))
        assert post(port, b"").status == 200
        wait_for(lambda: o.settings_acked or o.errors, 10 * SLACK, what="SETTINGS ACK")
        assert not o.errors, o.errors
        with ThreadPoolExecutor(1) as ex:
            f = ex.submit(post, port, body)
            for have, action in steps:
                wait_for(lambda: o.received >= have or o.errors or f.done(), 30 * SLACK,
                         what="%d body bytes at the origin (it has %d)" % (have, o.received))
                assert not o.errors, o.errors
                assert o.received == have, "gatehouse sent past the stream's window"
                o.do(action)
            r = f.result(timeout=60 * SLACK)
        assert not o.errors, o.errors
        assert r.status == 200, r
        hdrs = {k.lower(): v for k, v in r.headers}
        assert int(hdrs["x-body-len"]) == len(body)
        assert hdrs["x-body-sha256"] == hashlib.sha256(body).hexdigest()
    finally:
        o.close()


def test_a_stalled_upload_goes_on_when_the_server_raises_its_window(gatehouse, port):
    # 16 KiB, then stalled on a window of 0; SETTINGS 1 MiB: the stream's
    # window is 1 MiB - 16 KiB, the rest of the body goes.
    body = os.urandom(256 * 1024)
    run(gatehouse, port, 16384, body, [(16384, set_window(1024 * 1024))])


def test_a_server_that_starts_at_zero_then_opens_its_window(gatehouse, port):
    body = os.urandom(100 * 1000)
    # a first window of 0: the stream sends nothing until SETTINGS open it
    run(gatehouse, port, 0, body, [(0, set_window(40000)), (40000, set_window(200000))])


def test_a_window_made_negative_by_settings_waits_for_enough_credit(gatehouse, port):
    # 32 KiB used, then SETTINGS 0: the stream's window is -32 KiB.  A
    # WINDOW_UPDATE of 16 KiB leaves it at -16 KiB (gatehouse must send
    # nothing); SETTINGS 64 KiB brings it to 48 KiB; then 1 MiB.
    body = os.urandom(300 * 1024)

    def credit(conn):
        conn.increment_flow_control_window(16384, stream_id=max(conn.streams))

    run(gatehouse, port, 32768, body,
        [(32768, set_window(0)), (32768, credit), (32768, set_window(65536)),
         (32768 + 48 * 1024, set_window(1024 * 1024))])


def get_counting(port, path, got):
    """GET path over HTTP/1.1 (Connection: close); got[0] counts the body
    bytes read so far; the whole response is returned."""
    s = httpraw.connect(port, 60 * SLACK)
    data = b""
    try:
        s.sendall(httpraw.build_request("GET", path, [("Connection", "close")], b""))
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
            end = data.find(b"\r\n\r\n")
            got[0] = len(data) - end - 4 if end >= 0 else 0
    finally:
        s.close()
    return data


def test_response_credit_follows_the_servers_late_settings_ack(gatehouse, port):
    # Our SETTINGS give the server a window of half a buffer.  This server
    # applies them at once (RFC 9113 6.5.3) but acknowledges them only
    # after it has sent what that window allows: until the ACK nghttp2
    # still counts the default 64 KiB window for the server, so no credit
    # is due as the client drains the response; the ACK then leaves the
    # server with no window, and the credit must run again there.
    o = WindowOrigin(hold_acks=True)
    try:
        gatehouse(global_block(1) + frontend_block(port)
                  + backend_block("app", ["%s proto h2" % o.addr], "http",
                                  "    timeout server 60s\n"))
        n = 256 * 1024
        got = [0]
        with ThreadPoolExecutor(1) as ex:
            f = ex.submit(get_counting, port, "/bytes/%d" % n, got)
            # the server used its window; the client has all of it
            wait_for(lambda: (o.window_spent and got[0] >= o.res_sent) or f.done() or o.errors,
                     30 * SLACK, what="the server's first window at the client")
            assert not o.errors, o.errors
            assert o.res_sent < n, "the server was given more than its window"
            o.do(o.release_acks)
            wait_for(f.done, 30 * SLACK,
                     what="the rest of the response after the ACK (no credit for the server)")
            data = f.result()
        assert not o.errors, o.errors
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert body == b"x" * n, "%d of %d body bytes (the server sent %d)" % (
            len(body), n, o.res_sent)
    finally:
        o.close()
