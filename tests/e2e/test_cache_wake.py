"""The response cache's coalesced waiters are woken, not polling (issue 11
coalescing, issue 15 wakeups): while 50 requests wait for another
request's fill of a slow origin, gatehouse's threads stay asleep.  The
leader's steps (head, body bytes, end) wake the waiters through their
worker's mailbox (proxy/stream.h, stream_waker); a waiter's 1 s deadline
only covers a lost wake.  The 1 ms polling this replaced made every worker
wake ~1000 times a second for as long as a waiter waited.
"""

import os
import threading
import time

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from test_cache import get, start, status_of
from ghutil import parallel

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def ctx_switches(pid):
    """Voluntary + involuntary context switches of every thread of pid."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        except OSError:
            pass   # a thread that ended
    return n


@pytest.mark.parametrize("workers", [1, 2])
def test_waiters_do_not_spin_while_the_origin_is_slow(gatehouse, port, sorigin, workers):
    # the origin answers the one request it gets after 1 s (head and half
    # the body), then the rest 1 s later: the waiters wait for the head,
    # then for the second half
    body = bytes((i * 7) & 0xff for i in range(40_000))
    sorigin.script("/slow", headers=[("Cache-Control", "max-age=60")], body=body,
                   delay=1.0, body_delay=1.0)
    g = start(gatehouse, port, sorigin, workers=workers)
    out = {}

    def clients():
        out["rs"] = parallel(50, lambda i: get(port, "/slow"))

    t = threading.Thread(target=clients)
    t.start()
    try:
        time.sleep(0.3)     # the 50 requests are in; one went to the origin
        before = ctx_switches(g.pid)
        time.sleep(1.5)     # the waiters wait (head at ~1 s, the rest at ~2 s)
        during = ctx_switches(g.pid) - before
    finally:
        t.join(60)
    rs = out["rs"]
    assert sorigin.count("/slow") == 1
    assert all(r.status == 200 and r.body == body for r in rs)
    assert sum("collapsed" in status_of(r) for r in rs) >= 40
    # polling every 1 ms: > 1000 wakeups per worker in those 1.5 s; woken
    # waiters: a few per step of the leader
    print("ctx switches during the wait:", during)
    assert during < 400, during


def test_a_waiter_does_not_wait_past_its_timeout(gatehouse, port, sorigin):
    # the leader's origin holds its head (a gate, no time limit); a waiter
    # gives up after its bound (here the frontend's `timeout client`, the
    # cache being in the frontend) and goes to the origin itself
    from ghutil import simple_http_config
    from test_cache import cache_block
    gate = threading.Event()

    def fn(req):
        if req.n == 1:
            gate.wait(20)
        return {"headers": [("Cache-Control", "max-age=60")], "body": b"n%d" % req.n}
    sorigin.script("/held", fn=fn)
    gatehouse(simple_http_config(port, [sorigin.addr],
                                 frontend_extra="timeout client 1s\nuse_cache main")
              + cache_block())
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("leader", get(port, "/held")))
    t.start()
    try:
        ghutil.wait_for(lambda: sorigin.count("/held") == 1, 10, what="the leader's fetch")
        r = get(port, "/held")          # joins, waits ~1 s, then fetches itself
        assert r.status == 200 and r.body == b"n2", status_of(r)
        assert "collapsed" not in status_of(r)
        assert not gate.is_set() and t.is_alive()   # the leader still waits
    finally:
        gate.set()
        t.join(30)
    assert out["leader"].body == b"n1"
