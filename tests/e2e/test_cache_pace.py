"""The response cache (issue 11), coalescing with a slow leader: a response
being stored is read from the origin at the origin's pace, whatever the
pace of the client that asked for it first (proxy/filter.h,
txn_relay_res); that client is served from the object like the waiters.
So the waiters are not held back to the slowest leader.

A leader over HTTP/1.1 that reads a few KiB every 100 ms (a small receive
buffer), one over HTTP/2 whose stream window stays closed, and a response
that passes max_object mid-body (the leader paces the origin again from
there, and still gets every byte in order).  No timing is asserted: the
leader reads slowly until the waiters have everything, so on a build where
the leader paces the fetch the waiters wait for it and time out.
"""

import threading

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import parallel, wait_for
from h2util import H2Client
from httpraw import Reader, build_request, connect
from test_cache import HOST, cache_block, get, status_of
from test_cache_orphan import Body, body_of, lines_for, log_lines, read_rest, sha

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

PIECE = 64 * 1024
MAXAGE = [("Cache-Control", "max-age=60")]
BIG = 8 * 1024 * 1024      # more than the kernel's buffers to one client take


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def start(gatehouse, port, origin, log, max_object="16m"):
    conf = ("global {\n    workers 1\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n"
            "    access_log %s format json\n    default_backend app\n}\n"
            "backend app {\n    mode http\n    use_cache main\n"
            "    server s1 %s\n}\n" % (port, log, origin.addr))
    return gatehouse(conf + cache_block(max_object=max_object, size="64m"))


class SlowReader(threading.Thread):
    """An HTTP/1.1 client with a small receive buffer that reads 4 KiB
    every 100 ms until `fast` is set, then the rest at once (each piece
    also to self.seen(), which a subclass may decode)."""

    def __init__(self, port, path, length, headers=HOST):
        super().__init__(daemon=True)
        self.sock = connect(port, timeout=60 * ghutil.SLACK, rcvbuf=4096)
        self.sock.sendall(build_request("GET", path, headers))
        self.rd = Reader(self.sock)
        self.length = length
        self.fast = threading.Event()
        self.stop = threading.Event()
        self.got = bytearray()
        self.head = None
        self.err = None
        self.start()

    def run(self):
        try:
            self.head = self.rd.read_head()
            body = Body(self.rd, self.head)
            while len(self.got) < self.length and not self.stop.is_set():
                if not self.fast.is_set():
                    d = body.read(min(4096, self.length - len(self.got)))
                    self.fast.wait(0.1)
                else:
                    d = body.read(self.length - len(self.got))
                if not d:
                    break
                self.got += d
                self.seen(d)
        except Exception as e:   # noqa: BLE001 - the test reports it
            self.err = e

    def seen(self, d):
        pass

    def finish(self):
        self.fast.set()
        self.join(120 * ghutil.SLACK)
        self.stop.set()
        self.sock.close()
        assert self.err is None, self.err
        return bytes(self.got)


def ask(port, path):
    s = connect(port, timeout=20 * ghutil.SLACK)
    s.sendall(build_request("GET", path, HOST))
    return s, Reader(s)


def waiters_read(port, path, sorigin, body, g1, n=5, expect=None):
    """n waiters join the fill (their heads come with the first piece),
    then the origin sends the rest (g1): what each got."""
    ws = [ask(port, path) for _ in range(n)]
    try:
        def head(i):
            s, rd = ws[i]
            r = rd.read_head()
            assert r.status == 200 and "collapsed" in (r.header("cache-status") or "")
            ws[i] = (s, Body(rd, r))
            assert read_rest(ws[i][1], 1000) == body[:1000]
        parallel(n, head)
        g1.set()
        return parallel(n, lambda i: body[:1000] + read_rest(ws[i][1], len(body) - 1000))
    finally:
        g1.set()
        for s, _ in ws:
            s.close()


def test_slow_leader_does_not_pace_its_waiters(gatehouse, port, sorigin, tmp_path):
    body = body_of(BIG + 777, 11)
    g1 = threading.Event()
    sorigin.script("/p", headers=MAXAGE, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    log = str(tmp_path / "access.log")
    start(gatehouse, port, sorigin, log)
    leader = SlowReader(port, "/p", len(body))
    try:
        wait_for(lambda: leader.head is not None, 10 * ghutil.SLACK, what="the leader's head")
        got = waiters_read(port, "/p", sorigin, body, g1)
        # every waiter has the whole body while the leader is still slow
        assert [sha(b) for b in got] == [sha(body)] * 5
        assert len(leader.got) < len(body) // 2
        assert leader.head.header("content-length") == str(len(body))
    finally:
        lgot = leader.finish()
    assert sha(lgot) == sha(body)
    assert sorigin.count("/p") == 1
    r = get(port, "/p")
    assert "hit" in status_of(r) and r.body == body
    # the leader's line: one, whole, its status and bytes
    lines = wait_for(lambda: len(lines_for(log, "/p")) >= 7 and lines_for(log, "/p"),
                     10 * ghutil.SLACK, what="the log lines")
    assert len(lines) == 7 and all(l["bytes_out"] >= len(body) for l in lines)
    assert all(l["status"] == 200 and l["term"] in (None, "-", "") for l in lines)


def test_slow_http2_leader_does_not_pace_its_waiters(gatehouse, port, sorigin, tmp_path):
    body = body_of(4 * 1024 * 1024 + 4321, 12)
    g1 = threading.Event()
    sorigin.script("/p2", headers=MAXAGE, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    log = str(tmp_path / "access.log")
    start(gatehouse, port, sorigin, log)
    with H2Client(port, stream_window=16384, timeout=30 * ghutil.SLACK) as c:
        # the leader's window stays closed after 16 KiB: it reads nothing more
        sid = c.request("GET", "/p2", authority="www.example.com", stalled=True)
        st = c.stream(sid)
        c.wait(lambda: st.data_len >= 1000, what="the leader's first bytes")
        got = waiters_read(port, "/p2", sorigin, body, g1)
        assert [sha(b) for b in got] == [sha(body)] * 5
        c.poll(0.05)
        assert st.data_len <= 16384 and not st.done
        c.unstall(sid)
        c.wait(lambda: st.done, what="the leader's whole body")
        assert st.status == 200 and sha(st.body) == sha(body)
        assert st.header("content-length") == str(len(body))
    assert sorigin.count("/p2") == 1
    assert "hit" in status_of(get(port, "/p2"))
    wait_for(lambda: len(lines_for(log, "/p2")) >= 7, 10 * ghutil.SLACK, what="the log lines")
    assert all(l["status"] == 200 for l in lines_for(log, "/p2"))
    assert not [l for l in log_lines(log) if l.get("term") not in (None, "-", "")]


def test_slow_leader_past_max_object_gets_every_byte(gatehouse, port, sorigin, tmp_path):
    # the object stops at max_object: the waiters (served from it at the
    # origin's pace) are cut there, and the leader, served from it too,
    # then gets the rest straight from the origin at its own pace again
    body = body_of(12 * 1024 * 1024 + 99, 13)
    g1 = threading.Event()
    # (chunked: a length over max_object is never stored from the head on)
    sorigin.script("/m", headers=MAXAGE, chunked=True, pieces=[(body[:PIECE], None), (body[PIECE:], g1)])
    log = str(tmp_path / "access.log")
    start(gatehouse, port, sorigin, log, max_object="8m")
    leader = SlowReader(port, "/m", len(body))
    try:
        wait_for(lambda: leader.head is not None, 10 * ghutil.SLACK, what="the leader's head")
        got = waiters_read(port, "/m", sorigin, body, g1)
        # cut where the object stopped, never a wrong byte
        for g in got:
            assert len(g) >= 8 * 1024 * 1024 - PIECE and len(g) < len(body)
            assert g == body[:len(g)]
        assert len(leader.got) < len(body) // 2
    finally:
        lgot = leader.finish()
    assert len(lgot) == len(body) and sha(lgot) == sha(body)
    assert sorigin.count("/m") == 1
    r = get(port, "/m")       # not stored
    assert "hit" not in status_of(r) and r.body == body
    assert sorigin.count("/m") == 2
