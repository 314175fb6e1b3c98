"""Nothing is lost or leaked on the error paths.

Rounds of bad interactions - malformed and smuggling-shaped requests, dead
and hanging and lying servers, clients that reset, abort uploads, leave
before the answer or stall in the head - run against one gatehouse.  After
they end, its descriptor count is back to where it was after a warm-up
round (pooled server connections aside) and its memory has not grown with
the number of rounds.  Each error also answers the status it should.
"""

import os
import socket
import struct
import threading
import time

import httpraw
from ghutil import ASAN, SLACK, free_port, global_block, rss_kib, wait_for

ROUNDS = 6 if ASAN else 15
HEADER_TIMEOUT = 0.3            # timeout header in the config below
CLIENT_TIMEOUT = 2.0            # timeout client
# The 408 for a stalled head is due HEADER_TIMEOUT after the connection
# opened; allow scheduling slack, but stay under timeout client, so a proxy
# that ignores timeout header and falls back on it cannot pass.
SLOW_HEAD_BOUND = min(HEADER_TIMEOUT + 1.0 * SLACK, CLIENT_TIMEOUT - 0.2)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def config(port, good, dead):
    return global_block() + """\
frontend web {{
    bind 127.0.0.1:{port}
    mode http
    timeout header {header_ms}ms
    timeout client {client_ms}ms
    use_backend dead if path prefix /dead
    default_backend app
}}
backend app {{
    mode http
    timeout server 150ms
    retries 0
    server s1 {good}
}}
backend dead {{
    mode http
    timeout connect 200ms
    retries 1
    server d1 {dead}
    server d2 {dead}
}}
""".format(port=port, good=good, dead=dead, header_ms=int(HEADER_TIMEOUT * 1000),
           client_ms=int(CLIENT_TIMEOUT * 1000))


def status_of(port, raw, timeout=5):
    """Sends raw bytes on a fresh connection; the status of the first
    response (0 if the proxy closed the connection without one).  A client
    timeout is never a status: it raises."""
    s = httpraw.connect(port, timeout=timeout)
    try:
        s.sendall(raw)
        return status_of_open(s)
    finally:
        s.close()


def req(target, method="GET", extra=b"", body=b""):
    return (b"%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (method.encode(), target.encode(), extra)
            + body)


# ---- the bad interactions; each returns what it observed ----------------------------

def smuggle_cl_te(port):
    return status_of(port, req("/echo", "POST", b"Content-Length: 5\r\n"
                                                b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n"))


def bad_request_line(port):
    return status_of(port, b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n")


def dead_servers(port):
    return status_of(port, req("/dead/x"))


def hanging_server(port):
    return status_of(port, req("/hang"))


def lying_server(port):
    return status_of(port, req("/garbage?kind=junk"))


def stalled_body(port):
    # head sent, half the body, then nothing: cut by timeout server (the
    # client sees the close before the body ends; a client timeout is not
    # a cut)
    s = httpraw.connect(port, timeout=5)
    try:
        s.sendall(req("/stall/5000"))
        got = b""
        while True:
            try:
                d = s.recv(65536)
            except socket.timeout:
                return "client timed out"
            except ConnectionError:
                break
            if not d:
                break
            got += d
        status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.1 ") else 0
        body = got.partition(b"\r\n\r\n")[2]
        return (status, "cut" if len(body) < 10000 else "complete")
    finally:
        s.close()


def upload_abort(port):
    s = httpraw.connect(port)
    s.sendall(req("/echo", "POST", b"Content-Length: 100000\r\n", b"u" * 3000))
    s.close()
    return "sent"


def leave_before_answer(port):
    s = httpraw.connect(port)
    s.sendall(req("/delay/50"))
    s.close()
    return "sent"


def reset_after_request(port):
    s = httpraw.connect(port)
    s.sendall(req("/bytes/200000"))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()   # RST
    return "sent"


def pipelined_then_garbage(port):
    s = httpraw.connect(port, timeout=5)
    try:
        s.sendall(req("/echo?p=1") + b"NOT HTTP AT ALL\r\n\r\n")
        rd = httpraw.Reader(s)
        first = rd.read_response().status
        try:
            second = rd.read_response().status
        except (ConnectionError, httpraw.ProtocolError):
            second = 0          # closed without an answer (a timeout raises)
        return (first, second)
    finally:
        s.close()


def slow_head(port):
    """A head that stalls half-way: the proxy answers 408 once timeout
    header has passed, and closes.  Returns (status, closed, seconds from
    connect to the answer)."""
    s = httpraw.connect(port, timeout=CLIENT_TIMEOUT + 3 * SLACK)
    t0 = time.monotonic()
    try:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        rd = httpraw.Reader(s)
        try:
            status = rd.read_response().status
        except socket.timeout:
            return ("client timed out", False, time.monotonic() - t0)
        except (ConnectionError, httpraw.ProtocolError):
            return (0, True, time.monotonic() - t0)
        took = time.monotonic() - t0
        _, closed = httpraw.drain(s, 2 * SLACK, bytes(rd.buf))
        return (status, closed, took)
    finally:
        s.close()


def status_of_open(s):
    """socket.timeout (the client gave up) propagates: not an answer."""
    try:
        return httpraw.Reader(s).read_response().status
    except (ConnectionError, httpraw.ProtocolError):
        return 0


def check_slow_head(got):
    status, closed, took = got
    assert status == 408 and closed, "slow_head: got %r (closed %s) after %.2fs, " \
        "expected 408 and a close" % (status, closed, took)
    assert HEADER_TIMEOUT - 0.05 <= took <= SLOW_HEAD_BOUND, \
        "slow_head: 408 after %.2fs (timeout header %.1fs, bound %.1fs)" % (
            took, HEADER_TIMEOUT, SLOW_HEAD_BOUND)


EXPECT = {
    smuggle_cl_te: {400},
    bad_request_line: {400},
    dead_servers: {502, 503},
    hanging_server: {504},
    lying_server: {502},
    stalled_body: {(200, "cut")},   # the head got through; the body is cut
    upload_abort: {"sent"},
    leave_before_answer: {"sent"},
    reset_after_request: {"sent"},
    pipelined_then_garbage: {(200, 400)},
}


def one_round(port):
    for fn, want in EXPECT.items():
        got = fn(port)
        assert got in want, "%s: got %r, expected one of %r" % (fn.__name__, got, want)
    # the slow ones side by side, so a round costs one timeout header
    out = []
    ts = [threading.Thread(target=lambda: out.append(slow_head(port))) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(out) == 4, out
    for got in out:
        check_slow_head(got)


def test_error_paths_leak_nothing(gatehouse, origin, port):
    g = gatehouse(config(port, origin.addr, "127.0.0.1:%d" % free_port()))
    one_round(port)                      # warm-up: pools, buffers, pooled server conns
    time.sleep(0.3)
    fds0, rss0 = fd_count(g.pid), rss_kib(g.pid)
    t0 = time.monotonic()
    for _ in range(ROUNDS):
        one_round(port)
    took = time.monotonic() - t0
    # every client connection of those rounds is gone: back to the baseline
    # (a couple of pooled server connections may come and go)
    wait_for(lambda: fd_count(g.pid) <= fds0 + 2, 5 * SLACK, 0.05,
             "descriptors back to %d (now %d)" % (fds0, fd_count(g.pid)))
    growth = (rss_kib(g.pid) - rss0) / 1024.0
    assert growth < (16 if ASAN else 4), \
        "RSS grew %.1f MiB over %d rounds (%.1fs)" % (growth, ROUNDS, took)
    # and it still serves
    assert httpraw.request(port, "GET", "/echo?after=1").status == 200
    assert g.alive()
