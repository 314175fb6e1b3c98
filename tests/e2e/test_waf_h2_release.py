"""Releasing a held body does not stall the other streams of its HTTP/2
connection (issue 10).

A WAF holds a request body up to body_limit (here 8m, body_over_limit
pass); once more than that came, the hold ends and the held bytes go to
the server first, while the client still sends the rest of the body with
the window it had.  Those DATA frames used to find no room in their
stream (txn_req_spilling) and paused the whole connection's input until
the held bytes had all reached the server: a second stream's request was
not even read meanwhile.  Now a spilling stream's DATA waits in the
stream's own overflow (bounded by the window it was given, h2_client.c).

The origin here holds the first request's body unread (its socket's
receive buffer is small, so gatehouse cannot push 8 MiB into the kernel)
until the second stream's response came back: an ordering that can only
happen if the second stream flows while the first is being released.
Then the first body goes through whole (sha256).

The response side (inspect_response) releases a held body a buffer at a
time as the client's window lets it go (res_release, spill_release): a
second stream gets its whole response while the first one's release is
stuck on a closed window.
"""

import hashlib
import socket
import threading
import time

import pytest

import ghutil
from ghutil import SLACK, simple_http_config
from h2util import H2Client
from test_waf import waf_block

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

LIMIT = 8 * 1024 * 1024
TOTAL = LIMIT + 1024 * 1024


class HoldingOrigin:
    """HTTP/1.1 origin on a small receive buffer: /slow reads its head, then
    waits for go before reading its Content-Length body (answers its
    sha256); anything else is answered at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.go = threading.Event()
        self.slow_heads = 0
        self.slow_read = 0
        self.fast = 0
        self.conns = []
        self.threads = []
        self.closed = False
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, c):
        c.settimeout(120 * SLACK)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                path = lines[0].split()[1]
                cl = 0
                for l in lines[1:]:
                    k, _, v = l.partition(b":")
                    if k.strip().lower() == b"content-length":
                        cl = int(v.strip())
                if path.startswith(b"/slow"):
                    self.slow_heads += 1
                    self.go.wait(120 * SLACK)
                    h = hashlib.sha256()
                    got = len(buf[:cl])
                    h.update(buf[:cl])
                    buf = buf[cl:]
                    while got < cl:
                        d = c.recv(min(65536, cl - got))
                        if not d:
                            return
                        h.update(d)
                        got += len(d)
                        self.slow_read = got
                    body = h.hexdigest().encode()
                else:
                    buf = buf[cl:]   # (no body expected)
                    self.fast += 1
                    body = b"fast"
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            return

    def close(self):
        self.closed = True
        self.go.set()
        for c in [self.sock] + self.conns:   # shutdown wakes a blocked accept/recv
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(5)


@pytest.fixture
def holding():
    o = HoldingOrigin()
    yield o
    o.close()


def test_second_stream_flows_while_a_held_body_is_released(gatehouse, holding, port):
    gatehouse(simple_http_config(port, [holding.addr], frontend_extra="use_waf crs",
                                 backend_extra="    timeout server 120s\n")
              + waf_block("prefilter on\nbody_limit 8m\nbody_over_limit pass"))
    body = bytes(b"0123456789abcdef"[i % 16] for i in range(4096)) * (TOTAL // 4096)
    hdrs = [("user-agent", "e2e-h2"), ("accept", "*/*"),
            ("content-type", "application/octet-stream")]
    with H2Client(port, timeout=60) as c:
        sid = c.request("POST", "/slow", hdrs + [("content-length", str(TOTAL))],
                        end_stream=False)
        st = c.stream(sid)
        pos = 0
        deadline = time.monotonic() + 60 * SLACK
        # Send as the windows allow until the hold is over (the origin got
        # the head) and the client used what window it had left then.
        while pos < TOTAL and time.monotonic() < deadline:
            n = min(64 * 1024, TOTAL - pos, c.conn_send_window, st.send_window)
            if n > 0:
                c.send_data(sid, body[pos:pos + n])
                pos += n
                continue
            if holding.slow_heads:
                break
            c.poll(0.05)
        assert holding.slow_heads == 1, "the hold did not end (%d bytes sent)" % pos
        assert pos > LIMIT
        # A second stream on the same connection, while the held 8 MiB wait
        # for the origin (which reads none of them before this answer).
        fast = c.request("GET", "/fast", [("user-agent", "e2e-h2"), ("accept", "*/*")])
        r = c.response(fast, timeout=30 * SLACK)
        assert r.status == 200 and r.body == b"fast", r
        assert holding.slow_read == 0 and not st.done
        # Then the first request goes through whole.
        holding.go.set()
        if pos < TOTAL:
            assert c.send_data(sid, body[pos:], end_stream=True, timeout=60 * SLACK)
        else:
            c.send_data(sid, b"", end_stream=True)
        r = c.response(sid, timeout=60 * SLACK)
        assert r.status == 200, r
        assert r.body.decode() == hashlib.sha256(body).hexdigest()


def test_second_stream_flows_while_a_held_response_is_released(gatehouse, origin, port):
    # inspect_response holds a 3 MB response for its verdict, then releases
    # it a buffer at a time as the client's window lets it go; the client
    # keeps that stream's window closed after its first 1 MiB, so the
    # release cannot finish: another stream of the connection still gets
    # its whole response meanwhile.
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="use_waf crs")
              + waf_block("inspect_response on\nresponse_body_limit 4m\n"
                          "response_types application/octet-stream"))
    n = 3 * 1000 * 1000
    with H2Client(port, timeout=60) as c:
        big = c.request("GET", "/bytes/%d" % n, [("user-agent", "e2e-h2"), ("accept", "*/*")],
                        stalled=True)
        st = c.stream(big)
        c.wait(lambda: st.data_len > 0, 60 * SLACK, "the held response's release to begin")
        small = c.request("GET", "/bytes/100", [("user-agent", "e2e-h2"), ("accept", "*/*")])
        r = c.response(small, timeout=30 * SLACK)
        assert r.status == 200 and r.data_len == 100, r
        assert not st.done and st.data_len < n
        c.unstall(big)
        r = c.response(big, timeout=60 * SLACK)
        assert r.status == 200 and r.data_len == n, r
