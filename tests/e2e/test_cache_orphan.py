"""The response cache (issue 11), coalescing when the leader's client goes
away: a response being stored is fetched to its end without it
(proxy/stream.h, txn_keep_fetch), so the waiters already streaming and
the ones that arrive later get the whole body from the one origin request
and the object is stored; the leader's own line is logged with its cause
(client-abort), the rest of the fetch as a line of its own.  A response
that is not being stored stops as before, and a fetch left by its client
is still bound by `timeout server`.

Leaders over HTTP/1.1 (reset, close, chunked, cut by `timeout client`)
and HTTP/2 (RST_STREAM), an HTTP/2 server, responses not stored (no-store,
too big), the fetch's bounds (`timeout server`, max_object passed
mid-body), and the connection gauges on /metrics.  The origin
(cache_origin.py) sends the body in pieces, each behind a gate the test
opens, so every step happens in a known order (the HTTP/2 server's test
alone relies on its origin taking 3 s over a body the leader leaves at
once).
"""

import contextlib
import hashlib
import json
import socket
import struct
import threading

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import wait_for
from h2util import H2Client
from httpraw import Reader, build_request, connect, ProtocolError
from test_cache import HOST, cache_block, get, status_of

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

PIECE = 64 * 1024
MAXAGE = [("Cache-Control", "max-age=60")]


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def start(gatehouse, port, origin, tmp_path, max_object="1m", be_extra="",
          fe_extra="", drain="10s"):
    """gatehouse with the cache in front of origin; (its handle, the
    access log's path)."""
    log = str(tmp_path / "access.log")
    conf = ("global {\n    workers 1\n    timeout drain %s\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n%s"
            "    access_log %s format json\n    default_backend app\n}\n"
            "backend app {\n    mode http\n    use_cache main\n"
            "    server s1 %s max_idle 0\n%s}\n"
            % (drain, port, fe_extra, log, origin.addr, be_extra))
    return gatehouse(conf + cache_block(max_object=max_object)), log


def log_lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def lines_for(path, target):
    return [l for l in log_lines(path) if l.get("target") == target]


def body_of(n, seed):
    return bytes(((i * 131 + seed) >> 3) & 0xff for i in range(n))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def ask(port, path):
    s = connect(port)
    s.sendall(build_request("GET", path, HOST))
    return s, Reader(s)


def reset(s):
    """Close with a TCP reset (SO_LINGER 0)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Body:
    """A response body read as it comes, whatever its framing (a waiter on
    a fill of unknown length gets chunks)."""

    def __init__(self, rd, head):
        self.rd = rd
        self.chunked = "chunked" in (head.header("transfer-encoding") or "").lower()
        self.left = 0          # of the current chunk
        self.done = False

    def read(self, n):
        """At most n bytes (fewer: a step of at most 64 KiB), b"" at the end."""
        if self.done:
            return b""
        if not self.chunked:
            return self.rd.read_exact(min(65536, n))
        if self.left == 0:
            size = int(self.rd.read_until(b"\r\n")[:-2].split(b";")[0], 16)
            if size == 0:
                self.done = True
                return b""
            self.left = size
        out = self.rd.read_exact(min(self.left, n, 65536))
        self.left -= len(out)
        if self.left == 0:
            assert self.rd.read_exact(2) == b"\r\n"
        return out


def read_rest(body, n):
    """What the client gets of the n body bytes left, short if cut."""
    got = bytearray()
    try:
        while len(got) < n:
            d = body.read(n - len(got))
            if not d:
                break
            got += d
    except (ProtocolError, OSError):
        pass
    return bytes(got)


def leader_gone(log, path, term="client-abort"):
    return any(l.get("term") == term for l in lines_for(log, path))


def no_server_connection(origin):
    with origin.lock:
        return not origin.conns


def streaming_waiters(port, path, body, early, n=3):
    """n waiters ask for path and read its head and first PIECE; they go
    into `early` as (socket, Body) as soon as they connect, so the
    caller's `finally` closes them whatever fails."""
    for _ in range(n):
        early.append(ask(port, path))
    for i, (s, rd) in enumerate(early):
        r = rd.read_head()
        assert r.status == 200
        early[i] = (s, Body(rd, r))
        assert read_rest(early[i][1], PIECE) == body[:PIECE]


def pieces(body, g1, g2, first=PIECE):
    """The origin's script for body: `first` bytes at once, the next PIECE
    once g1 is set, the rest once g2 is."""
    return [(body[:first], None), (body[first:first + PIECE], g1), (body[first + PIECE:], g2)]


@contextlib.contextmanager
def leading(port, origin, path, body, gates, waiters=0):
    """The leader's request for path, streaming: its head (200) and first
    1000 body bytes read.  With waiters: once the origin has the one
    fetch, that many waiters streaming its first PIECE.  Yields (leader's
    socket, its Body, the waiters as (socket, Body)); on the way out the
    origin's gates open and every socket is closed, whatever failed."""
    leader, rd = ask(port, path)
    early = []
    try:
        h = rd.read_head()
        assert h.status == 200
        lb = Body(rd, h)
        assert read_rest(lb, 1000) == body[:1000]
        if waiters:
            wait_for(lambda: origin.count(path) == 1, 10 * ghutil.SLACK, what="the fetch")
            streaming_waiters(port, path, body, early, waiters)
        yield leader, lb, early
    finally:
        for g in gates:
            g.set()
        leader.close()
        for s, _ in early:
            s.close()


def run_waiters(port, sorigin, log, path, body, leave_leader, g1, g2, first=PIECE,
                term="client-abort"):
    """The leader fetches path, 5 waiters stream it, the leader leaves
    (leave_leader()), 5 more come; the origin sends the three pieces of
    body (the first `first` bytes long) around those steps.  Returns the
    10 waiters' bodies."""
    early = []
    late = []
    try:
        wait_for(lambda: sorigin.count(path) == 1, 10 * ghutil.SLACK, what="the leader's fetch")
        for _ in range(5):
            early.append(ask(port, path))

        def streaming(i):          # the head and the first piece
            s, rd = early[i]
            r = rd.read_head()
            assert r.status == 200 and "collapsed" in (r.header("cache-status") or "")
            early[i] = (s, Body(rd, r))
            assert read_rest(early[i][1], first) == body[:first]
        # (each waiter read in a thread of its own: one not read while the
        # others are would meet its own `timeout client`)
        ghutil.parallel(len(early), streaming)
        leave_leader()
        g1.set()                   # the next piece: the leader's client is found gone
        wait_for(lambda: leader_gone(log, path, term), 10 * ghutil.SLACK,
                 what="the leader's %s line" % term)
        for _ in range(5):
            late.append(ask(port, path))
        for i, (s, rd) in enumerate(late):
            r = rd.read_head()
            assert r.status == 200
            late[i] = (s, Body(rd, r))
        g2.set()
        return ghutil.parallel(10, lambda i: body[:first] + read_rest(early[i][1], len(body) - first)
                        if i < 5 else read_rest(late[i - 5][1], len(body)))
    finally:
        g1.set()
        g2.set()
        for s, _ in early + late:
            s.close()


@pytest.mark.parametrize("how,chunked", [("reset", False), ("close", False), ("reset", True)])
def test_leader_client_leaving_mid_body_over_http1(gatehouse, port, sorigin, tmp_path, how,
                                                   chunked):
    body = body_of(3 * PIECE + 777, 1)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/o", headers=MAXAGE, chunked=chunked, pieces=pieces(body, g1, g2))
    _, log = start(gatehouse, port, sorigin, tmp_path)
    with leading(port, sorigin, "/o", body, (g1, g2)) as (leader, _, _):
        got = run_waiters(port, sorigin, log, "/o", body,
                          lambda: reset(leader) if how == "reset" else leader.close(), g1, g2)
    assert [sha(b) for b in got] == [sha(body)] * 10
    assert sorigin.count("/o") == 1
    # stored (a request a moment before the insert still joins the fill)
    wait_for(lambda: "hit" in status_of(get(port, "/o")), 10 * ghutil.SLACK, what="a hit")
    assert get(port, "/o").body == body
    assert sorigin.count("/o") == 1
    # the leader's line (its cause, what its client got) and the fetch's
    # rest as a line of its own, for the same request (request line, id)
    lines = wait_for(lambda: len(lines_for(log, "/o")) >= 12 and lines_for(log, "/o"),
                     10 * ghutil.SLACK, what="the log lines")
    aborted = [l for l in lines if l["term"] == "client-abort"]
    assert len(aborted) == 1 and aborted[0]["status"] == 200
    assert aborted[0]["bytes_out"] < len(body)
    rest = [l for l in lines if l["client"] == aborted[0]["client"]
            and l["client_port"] == aborted[0]["client_port"] and l is not aborted[0]]
    assert len(rest) == 1 and rest[0]["status"] == 200 and rest[0]["term"] in (None, "-", "")
    # the connection to the origin went away once the fetch ended (max_idle 0)
    wait_for(lambda: no_server_connection(sorigin), 10 * ghutil.SLACK,
             what="the server connection closed")


@pytest.mark.parametrize("how", ["rst", "close"])
def test_leader_stream_reset_over_http2(gatehouse, port, sorigin, tmp_path, how):
    body = body_of(3 * PIECE + 4321, 2)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/h2", headers=MAXAGE, pieces=pieces(body, g1, g2))
    _, log = start(gatehouse, port, sorigin, tmp_path)
    with H2Client(port) as c:
        sid = c.request("GET", "/h2", authority="www.example.com")
        st = c.stream(sid)
        c.wait(lambda: st.data_len >= 1000, what="the leader's first bytes")

        def leave():
            if how == "rst":
                c.rst(sid)
                c.poll(0.05)
            else:           # the whole connection goes
                reset(c.sock)
        got = run_waiters(port, sorigin, log, "/h2", body, leave, g1, g2)
        if how == "rst":    # the connection itself goes on
            r = c.get("/h2", headers=[], authority="www.example.com")
            assert r.status == 200 and r.body == body
    assert [sha(b) for b in got] == [sha(body)] * 10
    assert sorigin.count("/h2") == 1
    wait_for(lambda: "hit" in status_of(get(port, "/h2")), 10 * ghutil.SLACK, what="a hit")
    assert sorigin.count("/h2") == 1
    wait_for(lambda: no_server_connection(sorigin), 10 * ghutil.SLACK,
             what="the server connection closed")


@pytest.mark.parametrize("why", ["no-store", "too-big"])
def test_leader_leaving_a_response_not_stored_stops_it(gatehouse, port, sorigin, tmp_path, why):
    # not storable: the waiters went to the origin at the head (as
    # before), and the leader's fetch stops with its client; the server
    # connection is closed, nothing stored
    body = body_of(3 * PIECE, 3)
    g1, g2 = threading.Event(), threading.Event()
    cc = [("Cache-Control", "no-store")] if why == "no-store" else MAXAGE
    n = {"n": 0}

    def fn(req):
        n["n"] += 1
        if req.n == 1:
            return {"headers": cc, "pieces": pieces(body, g1, g2)}
        return {"headers": cc, "body": body}
    sorigin.script("/ns", fn=fn)
    _, log = start(gatehouse, port, sorigin, tmp_path, max_object="100k")
    waiters = []
    with leading(port, sorigin, "/ns", body, (g1, g2)) as (leader, _, _):
        try:
            waiters = [ask(port, "/ns") for _ in range(3)]
            for s, rd in waiters:
                r = rd.read_head()
                assert r.status == 200 and rd.read_exact(len(body)) == body
            reset(leader)
            g1.set()
            wait_for(lambda: leader_gone(log, "/ns"), 10 * ghutil.SLACK,
                     what="the leader's client-abort line")
            g2.set()       # (the origin notices a closed connection only between pieces)
            # the leader's connection to the origin is closed, not kept going
            wait_for(lambda: no_server_connection(sorigin), 10 * ghutil.SLACK,
                     what="the leader's server connection closed")
        finally:
            for s, _ in waiters:
                s.close()
    assert sorigin.count("/ns") == 4
    assert len(lines_for(log, "/ns")) == 4    # no line for a continuation
    r = get(port, "/ns")
    assert r.body == body and "hit" not in status_of(r)
    assert sorigin.count("/ns") == 5


def test_fetch_left_by_its_client_is_bound_by_timeout_server(gatehouse, port, sorigin, tmp_path):
    # the leader's client leaves, the fetch goes on (the waiters get the
    # next piece), then the origin stalls past `timeout server`: the
    # waiters are cut (a short body, never a whole one) and nothing is
    # stored
    body = body_of(4 * PIECE, 4)
    g1, hold = threading.Event(), threading.Event()
    sorigin.script("/st", fn=lambda req: dict(
        headers=MAXAGE, length=len(body), hold=hold,
        pieces=[(body[:PIECE], None), (body[PIECE:2 * PIECE], g1)]) if req.n == 1 else
        dict(headers=MAXAGE, body=body))
    _, log = start(gatehouse, port, sorigin, tmp_path, be_extra="    timeout server 1s\n")
    with leading(port, sorigin, "/st", body, (g1, hold), waiters=3) as (leader, _, early):
        reset(leader)
        g1.set()
        got = [read_rest(b, len(body) - PIECE) for _, b in early]
        # each got the piece sent after its leader left, and then was cut
        assert [g[:PIECE] for g in got] == [body[PIECE:2 * PIECE]] * 3
        assert all(len(g) < len(body) - PIECE for g in got)
        lines = wait_for(lambda: [l for l in lines_for(log, "/st")
                                  if l["term"] == "server-timeout"], 10 * ghutil.SLACK,
                         what="the fetch's server-timeout line")
        assert len(lines) == 1
        assert leader_gone(log, "/st")
    r = get(port, "/st")      # nothing stored: to the origin again
    assert "hit" not in status_of(r)
    assert sorigin.count("/st") == 2


def test_leader_client_timing_out(gatehouse, port, sorigin, tmp_path):
    # the leader's client reads nothing: `timeout client` cuts it while
    # its output waits, and the fetch goes on for the waiters
    first = 6 * 1024 * 1024     # more than the kernel's buffers take (tcp_wmem 4 MiB)
    body = body_of(first + 2 * PIECE, 5)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/to", headers=MAXAGE, pieces=pieces(body, g1, g2, first))
    log = str(tmp_path / "access.log")
    conf = ("global {\n    workers 1\n    timeout drain 2s\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n    timeout client 2s\n"
            "    access_log %s format json\n    default_backend app\n}\n"
            "backend app {\n    mode http\n    use_cache main\n"
            "    server s1 %s max_idle 0\n}\n" % (port, log, sorigin.addr))
    gatehouse(conf + cache_block(max_object="16m", size="64m"))
    leader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    leader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    leader.connect(("127.0.0.1", port))
    leader.sendall(build_request("GET", "/to", HOST))
    try:
        got = run_waiters(port, sorigin, log, "/to", body, lambda: None, g1, g2, first=first,
                          term="client-timeout")
    finally:
        leader.close()
    assert [sha(b) for b in got] == [sha(body)] * 10
    assert sorigin.count("/to") == 1
    wait_for(lambda: "hit" in status_of(get(port, "/to")), 10 * ghutil.SLACK, what="a hit")
    assert sorigin.count("/to") == 1


def test_requests_without_a_client_leave_the_connection_gauges_at_zero(gatehouse, port,
                                                                      sorigin, tmp_path):
    # a fetch left by its client and a stale-while-revalidate refresh each
    # run as a session with no socket: counted open and closed alike on
    # /metrics (the gauge once went below zero for each)
    from test_metrics import scrape, val
    admin = ghutil.free_port()
    body = body_of(2 * PIECE, 6)
    g1 = threading.Event()
    sorigin.script("/g", headers=MAXAGE, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    sorigin.script("/swr", fn=lambda req: {"headers": [(
        "Cache-Control", "max-age=%d, stale-while-revalidate=60" % (1 if req.n == 1 else 60))],
        "body": b"v%d" % req.n})
    log = str(tmp_path / "access.log")
    conf = ("global {\n    workers 1\n    timeout drain 2s\n    admin 127.0.0.1:%d\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n"
            "    access_log %s format json\n    default_backend app\n}\n"
            "backend app {\n    mode http\n    use_cache main\n"
            "    server s1 %s max_idle 0\n}\n" % (admin, port, log, sorigin.addr))
    gatehouse(conf + cache_block())
    with leading(port, sorigin, "/g", body, (g1,)) as (leader, _, _):
        reset(leader)
        g1.set()
        wait_for(lambda: len(lines_for(log, "/g")) == 2, 10 * ghutil.SLACK,
                 what="the leader's line and its fetch's")
    assert "hit" in status_of(get(port, "/g"))
    assert get(port, "/swr").body == b"v1"
    wait_for(lambda: get(port, "/swr").body == b"v2", 10 * ghutil.SLACK,
             interval=0.5, what="the background refresh")   # (stale after 1 s)

    def gauges():
        _, s = scrape(admin)
        return (val(s, "gatehouse_frontend_connections", frontend="web", state="active"),
                val(s, "gatehouse_frontend_connections", frontend="web", state="idle"))
    # one client connection open (nothing sent yet: active), the two
    # requests without a client gone: 1, not 1 - 2 (shown as 0)
    c = connect(port)
    try:
        wait_for(lambda: gauges() == (1, 0), 10 * ghutil.SLACK, 0.05, "one connection open")
    finally:
        c.close()
    wait_for(lambda: gauges() == (0, 0), 10 * ghutil.SLACK, 0.05, "no connection left")


def test_leader_leaving_a_fetch_from_an_http2_server(gatehouse, port, tmp_path):
    # the same with `server ... proto h2`: the stream on the shared server
    # connection follows the fetch to its new stream (h2srv_rebind)
    from h2origin import H2Origin
    from origins import expected_bytes
    o = H2Origin("h2o")
    try:
        frames, size = 60, 8192      # 60 DATA frames 50 ms apart: the leader leaves long before
        path = "/stream/%d?size=%d&interval_ms=50&cc=max-age%%3D60" % (frames, size)
        body = expected_bytes(frames * size)
        log = str(tmp_path / "access.log")
        conf = ("global {\n    workers 1\n    timeout drain 2s\n}\n"
                "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n"
                "    access_log %s format json\n    default_backend app\n}\n"
                "backend app {\n    mode http\n    use_cache main\n"
                "    server s1 %s proto h2\n}\n" % (port, log, o.addr))
        gatehouse(conf + cache_block(max_object="1m"))
        leader, lrd = ask(port, path)
        h = lrd.read_head()
        assert h.status == 200
        lb = Body(lrd, h)
        assert read_rest(lb, size) == body[:size]
        waiters = [ask(port, path) for _ in range(5)]
        try:
            heads = [(rd.read_head(), rd) for _, rd in waiters]
            reset(leader)
            wait_for(lambda: leader_gone(log, path), 10 * ghutil.SLACK,
                     what="the leader's client-abort line")
            got = ghutil.parallel(5, lambda i: read_rest(Body(heads[i][1], heads[i][0]), len(body)))
        finally:
            for s, _ in waiters:
                s.close()
        assert [sha(b) for b in got] == [sha(body)] * 5
        assert len(o.requests) == 1
        wait_for(lambda: "hit" in status_of(get(port, path)), 10 * ghutil.SLACK, what="a hit")
        assert len(o.requests) == 1
    finally:
        o.close()


def test_fetch_left_by_its_client_stops_past_max_object(gatehouse, port, sorigin, tmp_path):
    # chunked, so only the bytes tell it is too big: the fetch goes on
    # without its client while the object is stored (the waiters get the
    # second piece), and stops once it passes max_object (they are cut, a
    # short body, nothing stored, the server connection closed)
    body = body_of(2 * PIECE + 200 * 1024, 7)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/big", fn=lambda req: dict(
        headers=MAXAGE, chunked=True,
        pieces=pieces(body, g1, g2)) if req.n == 1 else dict(headers=MAXAGE, body=body))
    _, log = start(gatehouse, port, sorigin, tmp_path, max_object="256k")
    with leading(port, sorigin, "/big", body, (g1, g2), waiters=3) as (leader, _, early):
        reset(leader)
        g1.set()
        got = [read_rest(b, PIECE) for _, b in early]
        assert got == [body[PIECE:2 * PIECE]] * 3     # after the leader left
        g2.set()
        rest = [read_rest(b, len(body)) for _, b in early]
        assert all(len(r) < len(body) - 2 * PIECE for r in rest)     # cut, never whole
        wait_for(lambda: no_server_connection(sorigin), 10 * ghutil.SLACK,
                 what="the server connection closed")
    r = get(port, "/big")
    assert r.body == body and "hit" not in status_of(r)
    assert sorigin.count("/big") == 2


def test_graceful_stop_lets_a_fetch_left_by_its_client_finish(gatehouse, port, sorigin,
                                                              tmp_path):
    # the process is told to stop while the fetch goes on without its
    # client: it ends within the drain time, as the waiters reading it do
    body = body_of(3 * PIECE, 8)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/gs", headers=MAXAGE, pieces=pieces(body, g1, g2))
    g, log = start(gatehouse, port, sorigin, tmp_path)
    with leading(port, sorigin, "/gs", body, (g1, g2), waiters=3) as (leader, _, early):
        reset(leader)
        g1.set()
        wait_for(lambda: leader_gone(log, "/gs"), 10 * ghutil.SLACK,
                 what="the leader's client-abort line")
        g.signal(g.graceful_signal)
        wait_for(lambda: "stopping gracefully" in g.stderr_text(), 10 * ghutil.SLACK,
                 what="the stop under way")
        g2.set()
        got = [body[:PIECE] + read_rest(b, len(body) - PIECE) for _, b in early]
    assert [sha(b) for b in got] == [sha(body)] * 3
    assert g.stop() == 0
