"""Rate and concurrency limits (issue 10): `limit NAME { key FETCH  rate
N/s|N/m  [burst N] [delay N]  concurrent N  [entries N] }` sections, the
`http_request limit NAME [if|unless COND]` rule in frontends and backends,
`tcp_request connection limit NAME`, and `http_request tarpit DURATION`.

Over a rate: 429 with a truthful Retry-After (seconds, rounded up), the
connection kept alive, the access log's termination cause `rate-limited`
and a warning line (sampled: one a second per limit, the next says how many
were left out).  Over a concurrency: 429 without Retry-After, cause
`conn-limited`; a place is held from the rule to the transaction's end
whatever ends it.  tcp_request: over the limit the connection is closed
unanswered.  One budget per key whatever the worker that took the
connection.  Rates are chosen so that nothing refills during a test (N/m)
except where a test waits for it; timings assert the lower bounds the
semantics require and generous upper ones.
"""

import json
import os
import socket
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import ghutil
import httpraw
import origins
from ghutil import simple_http_config, wait_for
from h2util import H2Client
from httpraw import Reader, build_request, connect, drain, request
from test_access_log import json_lines
from test_workers import ctxt_switches, listeners_on, threads

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="limit sections are not translated to HAProxy")


def limit_block(name, key, rate, burst=None, extra=""):
    lines = ["limit %s {" % name, "    key %s" % key]
    if rate:
        lines.append("    rate %s" % rate)
    if burst is not None:
        lines.append("    burst %d" % burst)
    lines += ["    " + l.strip() for l in extra.splitlines() if l.strip()]
    return "\n".join(lines) + "\n}\n"


def start(gatehouse, port, origin, limits, fe="", be="", workers=1):
    return gatehouse(simple_http_config(port, [origin.addr], frontend_extra=fe,
                                        backend_extra=be, workers=workers) + limits)


def get(port, target="/", headers=None):
    return request(port, "GET", target, headers or [])


class Conn:
    """One keep-alive client connection."""

    def __init__(self, port):
        self.s = connect(port)
        self.r = Reader(self.s)

    def get(self, target="/", headers=None):
        self.s.sendall(build_request("GET", target, headers or []))
        return self.r.read_response("GET")

    def close(self):
        self.s.close()


def test_burst_then_429_with_retry_after_and_the_connection_kept(gatehouse, origin, port):
    g = start(gatehouse, port, origin, limit_block("per_ip", "src", "1/m", burst=3),
              fe="http_request limit per_ip")
    c = Conn(port)
    try:
        assert [c.get("/a%d" % i).status for i in range(3)] == [200, 200, 200]
        r = c.get("/over")
        assert r.status == 429, r
        # 1/m: the next slot is 60 s after the burst's last one began
        assert r.header("Retry-After") == "60"
        assert r.header("Cache-Control") == "no-store"
        assert r.header("Connection") in (None, "keep-alive")
        # the same connection carries the next request (refused too)
        r = c.get("/again")
        assert r.status == 429 and r.header("Retry-After") in ("59", "60")
    finally:
        c.close()
    assert [x["target"] for x in origin.stats.requests] == ["/a0", "/a1", "/a2"]
    # refusals are logged one line a second per limit: the second is counted
    # for the next line, not written
    warns = [ln for ln in g.stderr_text().splitlines() if "over limit 'per_ip'" in ln]
    assert len(warns) == 1 and "429" in warns[0] and "GET /over" in warns[0], warns
    assert "suppressed" not in warns[0]


def test_refill_after_waiting(gatehouse, origin, port):
    start(gatehouse, port, origin, limit_block("l", "src", "4/s", burst=1),
          fe="http_request limit l")
    assert get(port).status == 200
    r = get(port)
    assert r.status == 429 and r.header("Retry-After") == "1"   # 250 ms, rounded up
    time.sleep(0.3)
    assert get(port).status == 200
    assert get(port).status == 429
    time.sleep(0.3)
    assert get(port).status == 200


def test_keys_are_isolated(gatehouse, origin, port):
    start(gatehouse, port, origin, limit_block("per_key", "header(X-API-Key)", "1/m", burst=2),
          fe="http_request limit per_key")

    def statuses(headers):
        return [get(port, headers=headers).status for _ in range(3)]

    assert statuses([("X-API-Key", "alice")]) == [200, 200, 429]
    assert statuses([("X-API-Key", "bob")]) == [200, 200, 429]
    # without the header: the empty key, one budget for all such requests
    assert statuses([]) == [200, 200, 429]
    assert get(port, headers=[("X-API-Key", "alice")]).status == 429


def test_two_workers_share_one_budget(gatehouse, origin, port):
    g = start(gatehouse, port, origin, limit_block("l", "src", "1/m", burst=25),
              fe="http_request limit l", workers=2)
    wait_for(lambda: listeners_on(port) == 2, 5 * ghutil.SLACK, what="2 listeners")
    pid = g.pid
    workers = [t for t in threads(pid) if t != pid]
    before = {t: ctxt_switches(pid, t) for t in workers}
    with ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda i: get(port, "/n%d" % i).status, range(80)))
    assert codes.count(200) == 25 and codes.count(429) == 55, codes
    assert len(origin.stats.requests) == 25
    # the kernel spread the 80 connections over both workers' listeners
    idle = [t for t in workers if ctxt_switches(pid, t) == before[t]]
    assert not idle, "worker threads %s took no connection" % idle


def test_if_condition_and_backend_rules(gatehouse, origin, port):
    limits = limit_block("api", "src", "1/m", burst=1) + limit_block("be", "path", "1/m", burst=2)
    start(gatehouse, port, origin, limits,
          fe="http_request limit api if path prefix /api",
          be="http_request limit be unless header(X-Free) == 1")
    assert get(port, "/api/x").status == 200
    assert get(port, "/api/y").status == 429
    # not under /api: only the backend's limit (keyed by path) applies
    assert [get(port, "/p").status for _ in range(3)] == [200, 200, 429]
    assert get(port, "/p", [("X-Free", "1")]).status == 200
    assert get(port, "/q").status == 200


def test_access_log_shows_the_cause(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    start(gatehouse, port, origin, limit_block("l", "src", "1/m", burst=1),
          fe="access_log %s format json\nhttp_request limit l" % log)
    assert get(port, "/first").status == 200
    assert get(port, "/second").status == 429
    a, b = json_lines(str(log), 2)
    assert a["status"] == 200 and a["term"] is None
    assert b["status"] == 429 and b["term"] == "rate-limited" and b["server"] in (None, "-")


def test_config_errors_point_at_the_place(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="http_request limit nope")
                    + limit_block("l", "src", "10/h") + limit_block("m", "cookie(", "1/s"))
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode != 0
    lines = conf.read_text().splitlines()
    nope = next(i for i, l in enumerate(lines) if "limit nope" in l) + 1
    rate = next(i for i, l in enumerate(lines) if "10/h" in l) + 1
    assert "bad.conf:%d:24: error: unknown limit 'nope'; expected one of: l, m" % nope in err, err
    assert "bad.conf:%d:10: error: invalid rate '10/h'" % rate in err, err
    assert "bad.conf:%d:9: error: fetch 'cookie' needs a name" % (rate + 3) in err, err
    # a bad value is reported once, not again as a missing one
    assert "has no" not in err, err


# ---- concurrency -------------------------------------------------------------

SLACK = ghutil.SLACK


def conc_block(name, n, key="src", extra=""):
    return limit_block(name, key, None, extra="concurrent %d\n%s" % (n, extra))


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def closed_unanswered(s, timeout):
    """(bytes received, whether the peer closed): a reset counts as closed
    (the request we sent was never read)."""
    try:
        return drain(s, timeout)
    except (ConnectionResetError, BrokenPipeError):
        return b"", True


def status_or_none(port, target):
    """The status of a GET, or None when the connection was closed on it."""
    try:
        return get(port, target).status
    except (ConnectionError, OSError, EOFError, httpraw.ProtocolError):
        return None


def hold_requests(port, n, path):
    """n requests at a slow origin path, each on its own connection, from
    threads; returns (threads, results list filled with statuses)."""
    res = []

    def one(i):
        res.append(get(port, "%s?n=%d" % (path, i)).status)

    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ths:
        t.start()
    return ths, res


def test_concurrent_http_limit(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    g = start(gatehouse, port, origin, conc_block("c", 2),
              fe="access_log %s format json\nhttp_request limit c" % log)
    ths, res = hold_requests(port, 2, "/delay/%d" % int(1500 * SLACK))
    wait_for(lambda: origin.stats.heads >= 2, 5 * SLACK, what="2 requests at the origin")
    c = Conn(port)
    r = c.get("/third")
    assert r.status == 429 and r.header("Retry-After") is None, r
    assert r.header("Connection") in (None, "keep-alive")
    c.close()
    for t in ths:
        t.join(10 * SLACK)
    assert res == [200, 200]
    # the places came back: two at once again, then a third
    assert [get(port, "/after%d" % i).status for i in range(3)] == [200, 200, 200]
    lines = json_lines(str(log), 6)
    third = [x for x in lines if x["target"] == "/third"]
    assert third and third[0]["status"] == 429 and third[0]["term"] == "conn-limited", lines
    warns = [ln for ln in g.stderr_text().splitlines() if "over limit 'c'" in ln]
    assert len(warns) == 1 and "concurrent 2" in warns[0], warns


def test_keep_alive_requests_are_counted_one_at_a_time(gatehouse, origin, port):
    start(gatehouse, port, origin, conc_block("c", 1), fe="http_request limit c")
    c = Conn(port)
    try:
        # each request's place is given back when its transaction ends: the
        # next one on the connection is not still counted
        assert [c.get("/k%d" % i).status for i in range(5)] == [200] * 5
        # pipelined: the second is read after the first ended
        c.s.sendall(build_request("GET", "/p1") + build_request("GET", "/p2"))
        assert [c.r.read_response("GET").status for _ in range(2)] == [200, 200]
    finally:
        c.close()


def test_every_end_gives_the_place_back(gatehouse, origin, port):
    """A place is given back exactly once whatever ends the transaction: a
    local reply after the limit rule, a server error, a client that leaves
    while its request is at the origin, a server timeout with a retry."""
    start(gatehouse, port, origin, conc_block("c", 1),
          fe="http_request limit c\nhttp_request deny if path == /deny",
          be="timeout server %dms\nretries 1" % int(1000 * SLACK))
    for _ in range(3):
        assert get(port, "/deny").status == 403
        assert get(port, "/garbage?kind=junk").status == 502
        assert get(port, "/hang").status == 504
        s = connect(port)
        s.sendall(build_request("GET", "/delay/%d" % int(600 * SLACK)))
        wait_for(lambda: origin.stats.heads > 0, 5 * SLACK, what="the request at the origin")
        s.close()   # the client leaves while its request is at the origin
        # the abort is seen, then the place is free
        wait_for(lambda: get(port, "/ok").status == 200, 5 * SLACK, what="a free place")
        origin.stats.reset()
    # nothing was counted twice: one place, one request at a time passes
    ths, res = hold_requests(port, 1, "/delay/%d" % int(600 * SLACK))
    wait_for(lambda: origin.stats.heads >= 1, 5 * SLACK, what="the request at the origin")
    assert get(port, "/second").status == 429
    for t in ths:
        t.join(10 * SLACK)
    assert res == [200]
    assert get(port, "/third").status == 200
    origins.take_protocol_errors()


def test_retries_keep_one_place(gatehouse, origin, port):
    """A request retried on another server after a refused connect holds
    one place throughout and gives it back once."""
    dead = "127.0.0.1:%d" % ghutil.free_port()
    g = gatehouse(simple_http_config(port, [dead, origin.addr],
                                     frontend_extra="http_request limit c",
                                     backend_extra="retries 2") + conc_block("c", 1))
    for i in range(6):
        assert get(port, "/r%d" % i).status == 200
    ths, res = hold_requests(port, 1, "/delay/%d" % int(600 * SLACK))
    wait_for(lambda: origin.stats.heads >= 7, 5 * SLACK, what="the request at the origin")
    assert get(port, "/busy").status == 429
    for t in ths:
        t.join(10 * SLACK)
    assert res == [200]
    assert get(port, "/free").status == 200
    assert "server app/s1: Connection refused" in g.stderr_text()   # retries happened


def test_h2_reset_gives_the_place_back(gatehouse, origin, port):
    start(gatehouse, port, origin, conc_block("c", 1), fe="http_request limit c")
    with H2Client(port) as c:
        sid = c.request("GET", "/delay/%d" % int(3000 * SLACK))
        wait_for(lambda: origin.stats.heads >= 1, 5 * SLACK, what="the request at the origin")
        r = c.get("/busy")
        assert r.status == 429, c.summary()
        c.rst(sid)
        c.flush()
        wait_for(lambda: c.get("/free").status == 200, 5 * SLACK, what="the place back")
        # streams in a row on one connection: each gives its place back
        assert [c.get("/s%d" % i).status for i in range(4)] == [200] * 4


def test_tcp_connection_limit(gatehouse, origin, port):
    g = start(gatehouse, port, origin, conc_block("conns", 2),
              fe="tcp_request connection limit conns")
    a, b = Conn(port), Conn(port)
    try:
        # both are accepted and counted (they answer), and stay open idle
        assert a.get("/a").status == 200 and b.get("/b").status == 200
        s = connect(port)
        s.sendall(build_request("GET", "/third"))
        data, closed = closed_unanswered(s, 5 * SLACK)
        assert closed and data == b"", data   # closed unanswered
        s.close()
        a.close()   # one leaves: a new one comes in
        wait_for(lambda: status_or_none(port, "/new") == 200, 5 * SLACK, interval=0.05,
                 what="a place for a new connection")
        assert b.get("/b2").status == 200
    finally:
        a.close()
        b.close()
    warns = [ln for ln in g.stderr_text().splitlines() if "connection closed" in ln]
    assert warns and "over limit 'conns'" in warns[0], warns


def test_tcp_rate_limit_counts_connection_attempts(gatehouse, origin, port):
    start(gatehouse, port, origin, limit_block("cps", "src", "1/m", burst=2),
          fe="tcp_request connection limit cps")
    assert get(port, "/1").status == 200
    assert get(port, "/2").status == 200
    s = connect(port)
    s.sendall(build_request("GET", "/3"))
    data, closed = closed_unanswered(s, 5 * SLACK)
    s.close()
    assert closed and data == b""


def test_two_workers_share_one_concurrent_budget(gatehouse, origin, port):
    g = start(gatehouse, port, origin, conc_block("conns", 3),
              fe="tcp_request connection limit conns", workers=2)
    wait_for(lambda: listeners_on(port) == 2, 5 * ghutil.SLACK, what="2 listeners")
    pid = g.pid
    workers = [t for t in threads(pid) if t != pid]
    before = {t: ctxt_switches(pid, t) for t in workers}
    socks = [connect(port) for _ in range(16)]
    try:
        for s in socks:
            s.sendall(build_request("GET", "/"))
        got = []
        for s in socks:
            data, closed = closed_unanswered(s, 0.5 * SLACK)
            got.append(data.startswith(b"HTTP/1.1 200"))
        # all 16 are open at once: exactly 3 places, whichever worker took them
        assert got.count(True) == 3, got
    finally:
        for s in socks:
            s.close()
    idle = [t for t in workers if ctxt_switches(pid, t) == before[t]]
    assert not idle, "worker threads %s took no connection" % idle


def test_config_errors_of_concurrency_delay_and_tarpit(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra=(
        "tcp_request connection limit byhdr\n"
        "http_request tarpit forever\n"))
        + limit_block("none", "src", None)
        + limit_block("byhdr", "header(X-Key)", None, extra="concurrent 5")
        + limit_block("d", "src", "10/s", burst=3, extra="delay 4"))
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode != 0
    lines = conf.read_text().splitlines()

    def at(text):
        return next(i for i, l in enumerate(lines) if text in l) + 1
    assert "bad.conf:%d:34: error: limit 'byhdr' is keyed by 'header(X-Key)'" % at(
        "connection limit byhdr") in err, err
    assert "bad.conf:%d:25: error: invalid duration 'forever'" % at("tarpit forever") in err, err
    assert "bad.conf:%d:7: error: limit 'none' has neither rate nor concurrent" % at(
        "limit none") in err, err
    assert "bad.conf:%d:11: error: delay 4 is more than the burst (3)" % at("delay 4") in err, err


# ---- tarpit -----------------------------------------------------------------------

def test_tarpit_holds_then_answers_and_closes(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    start(gatehouse, port, origin, "",
          fe="access_log %s format json\nhttp_request tarpit 800ms if path == /trap\n"
             "http_request tarpit 300ms status 403 if path == /trap403" % log)
    s = connect(port, timeout=10 * SLACK)
    t0 = time.monotonic()
    s.sendall(build_request("GET", "/trap"))
    r = Reader(s).read_response("GET")
    took = time.monotonic() - t0
    assert r.status == 500, r
    assert took >= 0.8, took
    assert took < 0.8 + 4 * SLACK, took
    data, closed = drain(s, 5 * SLACK)
    assert closed, "the connection stays open after a tarpit"
    s.close()
    t0 = time.monotonic()
    assert get(port, "/trap403").status == 403
    assert time.monotonic() - t0 >= 0.3
    assert get(port, "/free").status == 200
    assert origin.stats.requests and all(x["target"] == "/free" for x in origin.stats.requests)
    recs = json_lines(str(log), 3)
    assert [(x["target"], x["status"], x["term"]) for x in recs] == [
        ("/trap", 500, "tarpit"), ("/trap403", 403, "tarpit"), ("/free", 200, None)]


def test_tarpit_does_not_hold_the_worker(gatehouse, origin, port):
    start(gatehouse, port, origin, "", fe="http_request tarpit 1500ms if path == /trap",
          workers=1)
    done = []

    def trapped():
        r = request(port, "GET", "/trap", timeout=10 * SLACK)
        done.append((r.status, time.monotonic()))

    t = threading.Thread(target=trapped)
    t0 = time.monotonic()
    t.start()
    time.sleep(0.1)
    # the one worker goes on serving others meanwhile
    for i in range(5):
        assert get(port, "/n%d" % i).status == 200
    normal_done = time.monotonic()
    assert not done, "the normal requests waited for the tarpit"
    assert normal_done - t0 < 1.5
    t.join(10 * SLACK)
    assert done and done[0][0] == 500 and done[0][1] - t0 >= 1.5


def test_client_leaving_a_tarpit_frees_everything(gatehouse, origin, port):
    g = start(gatehouse, port, origin, "",
              fe="http_request tarpit 30s if path == /long\n"
                 "http_request tarpit 700ms if path == /short")
    assert get(port, "/warm").status == 200
    time.sleep(0.2)
    base = fd_count(g.pid)
    # a reset: the session goes at once, long before the tarpit's end
    socks = []
    for i in range(5):
        s = connect(port)
        s.sendall(build_request("GET", "/long"))
        socks.append(s)
    wait_for(lambda: fd_count(g.pid) >= base + 5, 5 * SLACK, what="5 tarpitted connections")
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    wait_for(lambda: fd_count(g.pid) <= base, 5 * SLACK, what="the fds back")
    # a plain close: freed at the tarpit's end at the latest
    socks = []
    for i in range(5):
        s = connect(port)
        s.sendall(build_request("GET", "/short"))
        socks.append(s)
    time.sleep(0.1)
    for s in socks:
        s.close()
    wait_for(lambda: fd_count(g.pid) <= base, 5 * SLACK, what="the fds back")
    assert get(port, "/after").status == 200
    assert g.alive()


# ---- delay ------------------------------------------------------------------------

def test_delay_spaces_the_burst_at_the_rate(gatehouse, origin, port, tmp_path):
    """rate 2/s burst 3 delay 1: of 5 requests at once the first passes, the
    next two wait one and two intervals (500 ms each), the last two are
    refused."""
    log = tmp_path / "access.log"
    start(gatehouse, port, origin, limit_block("d", "src", "2/s", burst=3, extra="delay 1"),
          fe="access_log %s format json\nhttp_request limit d" % log)
    socks = [connect(port, timeout=10 * SLACK) for _ in range(5)]
    reqs = [build_request("GET", "/d%d" % i) for i in range(5)]
    t0 = time.monotonic()
    for s, rq in zip(socks, reqs):
        s.sendall(rq)
    out = [None] * 5

    def read(i):
        r = Reader(socks[i]).read_response("GET")
        out[i] = (r.status, time.monotonic() - t0)

    ths = [threading.Thread(target=read, args=(i,)) for i in range(5)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(15 * SLACK)
    for s in socks:
        s.close()
    passed = sorted(t for st, t in out if st == 200)
    refused = [t for st, t in out if st == 429]
    assert len(passed) == 3 and len(refused) == 2, out
    assert passed[1] >= 0.5 and passed[2] >= 1.0, out
    assert passed[0] < 0.5 and max(refused) < 0.5, out       # these never waited
    assert passed[2] < 1.0 + 4 * SLACK, out
    assert len(origin.stats.requests) == 3
    # the access log's timings show the wait (time to first byte counts
    # from the request's first byte; the three were read within a few ms)
    recs = json_lines(str(log), 5)
    ttfb = sorted(x["t_ttfb_ms"] for x in recs if x["status"] == 200)
    assert ttfb[1] >= 450 and ttfb[2] >= 950, recs
    assert sorted(x["term"] or "-" for x in recs) == ["-", "-", "-", "rate-limited",
                                                      "rate-limited"], recs


def test_delay_n_passes_n_at_once(gatehouse, origin, port):
    start(gatehouse, port, origin, limit_block("d", "src", "4/s", burst=3, extra="delay 2"),
          fe="http_request limit d")
    c = Conn(port)
    try:
        t0 = time.monotonic()
        assert c.get("/1").status == 200 and c.get("/2").status == 200
        assert time.monotonic() - t0 < 0.25
        assert c.get("/3").status == 200        # held until its turn: one interval
        assert time.monotonic() - t0 >= 0.25, "not delayed"
        assert time.monotonic() - t0 < 0.25 + 4 * SLACK
    finally:
        c.close()


def test_h2_streams_wait_without_holding_others(gatehouse, origin, port):
    start(gatehouse, port, origin, limit_block("d", "path", "2/s", burst=2, extra="delay 1"),
          fe="http_request tarpit 800ms if path == /trap\nhttp_request limit d if path == /slow")
    with H2Client(port, timeout=10 * SLACK) as c:
        t0 = time.monotonic()
        trap = c.request("GET", "/trap")
        s1 = c.request("GET", "/slow")
        s2 = c.request("GET", "/slow")          # waits one interval
        other = c.request("GET", "/other")
        r = c.response(other)
        assert r.status == 200 and time.monotonic() - t0 < 0.5, c.summary()
        r1, r2 = c.response(s1), c.response(s2)
        assert r1.status == 200 and r2.status == 200
        assert time.monotonic() - t0 >= 0.5
        r = c.response(trap)
        assert r.status == 500 and time.monotonic() - t0 >= 0.8, c.summary()
        # the connection carries on; a stream reset while tarpitted is freed
        t = c.request("GET", "/trap")
        c.rst(t)
        c.flush()
        assert c.get("/after").status == 200


# ---- log sampling -----------------------------------------------------------------

def test_refusal_lines_are_sampled_and_count_what_they_left_out(gatehouse, origin, port):
    g = start(gatehouse, port, origin, limit_block("l", "src", "1/m", burst=1),
              fe="http_request limit l")
    c = Conn(port)
    try:
        assert c.get("/ok").status == 200
        t0 = time.monotonic()
        n = 0
        while n < 40:
            assert c.get("/f%d" % n).status == 429
            n += 1
        took = time.monotonic() - t0
        time.sleep(1.1)
        assert c.get("/last").status == 429
        n += 1
    finally:
        c.close()
    warns = [ln for ln in g.stderr_text().splitlines() if "over limit 'l'" in ln]
    assert 2 <= len(warns) <= took + 2, warns
    left_out = 0
    for ln in warns:
        if "more suppressed" in ln:
            left_out += int(ln.split("; ")[-1].split()[0])
    # every refusal is either a line or counted in the next one
    assert len(warns) + left_out == n, warns
    assert "/last" in warns[-1] and "more suppressed" in warns[-1]
