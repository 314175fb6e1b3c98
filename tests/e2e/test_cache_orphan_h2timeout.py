"""The response cache, coalescing when the leader's HTTP/2 stream is cut by
`timeout client` (proxy/detached.c, stream_orphan_fetch): the leader's
window stays closed, so its output waits until the stream's client timer
fires; the stream is reset, the fetch goes on without it, the waiters get
the whole body from the one origin request, the object is stored, and the
client's connection lives on.  (test_cache_orphan.py has the other ways a
leader leaves.)
"""

import threading

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import parallel, wait_for
from h2util import H2Client
from test_cache import get, status_of
from test_cache_orphan import Body, body_of, lines_for, read_rest, sha, start
from test_cache_pace import MAXAGE, PIECE, ask

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def test_leader_http2_stream_timing_out(gatehouse, port, sorigin, tmp_path):
    body = body_of(3 * PIECE + 999, 7)
    g1, g2 = threading.Event(), threading.Event()
    sorigin.script("/h2to", headers=MAXAGE, pieces=[(body[:PIECE], None),
                                                    (body[PIECE:2 * PIECE], g1),
                                                    (body[2 * PIECE:], g2)])
    _, log = start(gatehouse, port, sorigin, tmp_path,
                   fe_extra="    timeout client 2s\n", drain="2s")
    ws = []
    try:
        with H2Client(port, stream_window=16384, timeout=30 * ghutil.SLACK) as c:
            # the leader reads its first 16 KiB, then its window stays closed
            sid = c.request("GET", "/h2to", authority="www.example.com", stalled=True)
            st = c.stream(sid)
            c.wait(lambda: st.data_len >= 1000, what="the leader's first bytes")
            for _ in range(5):
                ws.append(ask(port, "/h2to"))

            def streaming(i):          # the head and the first piece
                s, rd = ws[i]
                r = rd.read_head()
                assert r.status == 200 and "collapsed" in (r.header("cache-status") or "")
                ws[i] = (s, Body(rd, r))
                assert read_rest(ws[i][1], PIECE) == body[:PIECE]
            parallel(5, streaming)
            g1.set()
            # nothing of the leader's stream drains: `timeout client` cuts it
            # (the connection itself stays busy with PINGs: not idle)
            def cut():
                c.ping()
                c.poll(0.1)
                return any(l.get("term") == "client-timeout" for l in lines_for(log, "/h2to"))
            wait_for(cut, 10 * ghutil.SLACK, what="the leader's client-timeout line")
            c.wait(lambda: st.reset is not None, what="the leader's stream reset")
            assert not st.ended
            for _ in range(5):
                ws.append(ask(port, "/h2to"))
            for i in range(5, 10):
                s, rd = ws[i]
                r = rd.read_head()
                assert r.status == 200
                ws[i] = (s, Body(rd, r))
            g2.set()
            got = parallel(10, lambda i: (body[:PIECE] if i < 5 else b"") +
                           read_rest(ws[i][1], len(body) - (PIECE if i < 5 else 0)))
            assert [sha(b) for b in got] == [sha(body)] * 10
            # the connection lives on: the stored object on it
            wait_for(lambda: "hit" in status_of(get(port, "/h2to")), 10 * ghutil.SLACK,
                     what="a hit")
            r = c.get("/h2to", headers=[], authority="www.example.com")
            assert r.status == 200 and r.body == body
            assert "hit" in (r.header("cache-status") or "")
    finally:
        g1.set()
        g2.set()
        for s, _ in ws:
            s.close()
    assert sorigin.count("/h2to") == 1
    # the leader's line (its cause, what its client got), then the rest of
    # the fetch as a line of its own, whole
    lines = wait_for(lambda: [l for l in lines_for(log, "/h2to")
                              if l.get("term") not in (None, "-", "")] and lines_for(log, "/h2to"),
                     10 * ghutil.SLACK, what="the log lines")
    cut = [l for l in lines if l.get("term") == "client-timeout"]
    assert len(cut) == 1 and cut[0]["status"] == 200 and cut[0]["bytes_out"] < len(body)
    wait_for(lambda: len(lines_for(log, "/h2to")) >= 13, 10 * ghutil.SLACK,
             what="the fetch's own line")
