"""Health checks (active) and outlier detection (passive).

Active: `health http|tcp ...` marks a server DOWN after `fall` failed checks
and UP after `rise` good ones, logged with the reason; traffic avoids a DOWN
server and comes back to it, ramping with slowstart.  Passive: `outlier`
ejects a server after N consecutive errors, with backoff, never more than
max_ejected of a pool.  Clients see no failure a retry could have saved.
"""

import datetime
import re
import socket
import socketserver
import threading
import time

import pytest

import httpraw
from ghutil import SLACK, free_port, frontend_block, global_block, wait_for
from origins import HttpOrigin

LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ", re.M)


def log_time(line):
    """Wall-clock time (epoch seconds) of a gatehouse log line."""
    m = LOG_TS.match(line)
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def log_lines(g, pattern):
    rx = re.compile(pattern)
    return [ln for ln in g.stderr_text().splitlines() if rx.search(ln)]


def wait_log(g, pattern, timeout, what=None):
    return wait_for(lambda: log_lines(g, pattern), timeout, 0.01, what or pattern)[0]


def backend(servers, extra):
    """servers: list of (name, addr, options)."""
    lines = ["backend app {", "    mode http", "    balance roundrobin"]
    lines += ["    server %s %s %s" % s for s in servers]
    lines += ["    " + ln.strip() for ln in extra.splitlines() if ln.strip()]
    return "\n".join(lines + ["}"]) + "\n"


def config(port, servers, extra, workers=2):
    return global_block(workers) + frontend_block(port) + backend(servers, extra)


class CtlOrigin:
    """A small HTTP/1.1 keep-alive origin whose answers the test sets:
    `health` is the status of /healthz, `status` the status of anything
    else.  Records the time of every non-check request."""

    def __init__(self, name, port=0):
        self.name = name
        self.health = 200
        self.status = 200
        self.hits = []          # time.time() of each non-/healthz request
        self.checks = 0
        origin = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                rd = self.request.makefile("rb")
                try:
                    while True:
                        line = rd.readline(8192)
                        if not line:
                            return
                        if line in (b"\r\n", b"\n"):
                            continue
                        path = line.split(b" ")[1] if b" " in line else b"/"
                        close = False
                        while True:
                            h = rd.readline(8192)
                            if h in (b"\r\n", b"\n", b""):
                                break
                            if h.lower().startswith(b"connection:") and b"close" in h.lower():
                                close = True
                        if path == b"/healthz":
                            origin.checks += 1
                            st = origin.health
                        else:
                            origin.hits.append(time.time())
                            st = origin.status
                        body = origin.name.encode()
                        self.request.sendall(
                            b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nX-Origin: %s\r\n%s\r\n%s"
                            % (st, len(body), body, b"Connection: close\r\n" if close else b"",
                               body))
                        if close:
                            return
                except OSError:
                    return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.srv = Server(("127.0.0.1", port), Handler)
        self.port = self.srv.server_address[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.t = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        self.t.start()

    def hits_between(self, a, b):
        return sum(1 for t in list(self.hits) if a <= t < b)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def ctl_origins():
    made = []

    def make(name, port=0):
        o = CtlOrigin(name, port)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


class Load:
    """n client threads sending keep-alive GETs until stopped; every answer
    is recorded as (time, origin name or None, status or error)."""

    def __init__(self, port, n=4, target="/echo"):
        self.port = port
        self.target = target
        self.results = []
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _run(self):
        req = httpraw.build_request("GET", self.target)
        s = rd = None
        while not self.stop_ev.is_set():
            try:
                if s is None:
                    s = httpraw.connect(self.port, timeout=5)
                    rd = httpraw.Reader(s)
                s.sendall(req)
                r = rd.read_response()
                self.results.append((time.time(), r.header("X-Origin"), r.status))
                if (r.header("Connection") or "").lower() == "close":
                    s.close()
                    s = None
            except (OSError, httpraw.ProtocolError) as e:
                self.results.append((time.time(), None, repr(e)))
                if s is not None:
                    s.close()
                s = None
        if s is not None:
            s.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)

    def failures(self):
        return [r for r in self.results if r[2] != 200]

    def share(self, name, a, b):
        rs = [r for r in list(self.results) if a <= r[0] < b]
        return sum(1 for r in rs if r[1] == name) / max(1, len(rs)), len(rs)


def test_origin_killed_under_load_down_then_back_with_slowstart(gatehouse, make_origin, port):
    """The issue's scenario: kill one of three origins during steady load.

    Active checks need interval x fall (400 ms here) to mark it DOWN; until
    then a third of the requests hit a dead server and are retried
    elsewhere.  At this rate that is more retries than the default retry
    budget (20% of requests) allows, so passive detection runs alongside,
    as it would in production: three refused connects eject the server
    within milliseconds, for 1s, well before the checks bring it back."""
    o1, o2, o3 = make_origin("o1"), make_origin("o2"), make_origin("o3")
    interval, fall, rise, slowstart = 0.2, 2, 2, 2.0
    servers = [("s%d" % (i + 1), o.addr, "weight 20 slowstart 2s") for i, o in
               enumerate((o1, o2, o3))]
    g = gatehouse(config(port, servers, "health http GET /status/200 expect 200-399 "
                         "interval 200ms rise 2 fall 2\n"
                         "outlier consecutive_errors 3 eject 1s\nretries 2"))
    with Load(port, n=4) as load:
        time.sleep(0.8)
        o2.close()
        t_kill = time.time()
        down = wait_log(g, r"\[warn\] server app/s2 DOWN: ", 3 * SLACK)
        assert re.search(r"server app/s2 DOWN: 2 failed checks, last: "
                         r"(connect refused|connection reset|connection closed)", down), down
        took = log_time(down) - t_kill
        assert took <= interval * fall + 0.15 * SLACK, "DOWN %.3fs after the kill" % took
        time.sleep(0.5)
        back = make_origin("o2b", port=o2.port)
        t_back = time.time()
        up = wait_log(g, r"\[info\] server app/s2 UP: 2 successful checks", 3 * SLACK)
        t_up = log_time(up)
        assert t_up - t_back <= interval * (rise + 1) + 0.15 * SLACK
        wait_for(lambda: time.time() > t_up + slowstart + 0.7, 5, 0.05, "slowstart")
    fails = load.failures()
    assert not fails, "%d failed client requests, first: %r\n%s" % (
        len(fails), fails[:5], g.stderr_tail(3000))
    assert len(load.results) > 300, "load too light to mean anything: %d" % len(load.results)
    # No traffic to s2 between its DOWN and its UP (the dead one gets none; the
    # new one none before it rises).
    between = [r for r in load.results if log_time(down) + 0.05 < r[0] < t_up - 0.05
               and r[1] in ("o2", "o2b")]
    assert not between, between[:5]
    # Traffic again, ramping: a small share right after UP, a full third at the end.
    early, n_early = load.share("o2b", t_up, t_up + 0.5)
    late, n_late = load.share("o2b", t_up + slowstart + 0.1, t_up + slowstart + 0.7)
    assert n_early > 20 and n_late > 20, (n_early, n_late)
    assert late > 0.22, "after slowstart s2 has %.0f%% of the traffic" % (late * 100)
    assert early < late / 2, "no ramp: %.0f%% early vs %.0f%% late" % (early * 100, late * 100)
    assert early > 0, "s2 got nothing in the first 0.5s after UP"


def test_health_tcp(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(config(port, [("a", o1.addr, ""), ("b", o2.addr, "")],
                         "health tcp interval 100ms fall 2 rise 1", workers=1))
    o2.close()
    line = wait_log(g, r"server app/b DOWN: ", 2 * SLACK)
    assert "[warn] server app/b DOWN: 2 failed checks, last: connect refused" in line
    seen = {httpraw.request(port, "GET", "/echo").header("X-Origin") for _ in range(6)}
    assert seen == {"o1"}
    make_origin("o2b", port=o2.port)
    line = wait_log(g, r"server app/b UP: ", 2 * SLACK)
    assert "[info] server app/b UP: 1 successful check" in line
    seen = {httpraw.request(port, "GET", "/echo").header("X-Origin") for _ in range(6)}
    assert seen == {"o1", "o2b"}
    # Checks are plain connects: nothing reached the HTTP layer of the origin.
    assert o1.stats.requests and all(r["target"] == "/echo" for r in o1.stats.requests)


def test_healthz_500_marks_down_and_recovers(gatehouse, ctl_origins, port):
    a, b = ctl_origins("a"), ctl_origins("b")
    g = gatehouse(config(port, [("a", a.addr, ""), ("b", b.addr, "")],
                         "health http /healthz host health.local interval 100ms fall 3 rise 2"))
    wait_for(lambda: b.checks >= 2, 2 * SLACK, 0.01, "checks")
    b.health = 500
    t0 = time.time()
    line = wait_log(g, r"server app/b DOWN: ", 2 * SLACK)
    assert "[warn] server app/b DOWN: 3 failed checks, last: status 500, expected 200-399" in line
    assert log_time(line) - t0 <= 0.3 + 0.15 * SLACK
    n = len(b.hits)
    for _ in range(8):
        r = httpraw.request(port, "GET", "/x")
        assert r.status == 200 and r.header("X-Origin") == "a"
    assert len(b.hits) == n
    b.health = 204     # in 200-399
    line = wait_log(g, r"server app/b UP: ", 2 * SLACK)
    assert "[info] server app/b UP: 2 successful checks" in line
    seen = {httpraw.request(port, "GET", "/x").header("X-Origin") for _ in range(6)}
    assert seen == {"a", "b"}


def test_health_http_request_shape(gatehouse, port):
    """What a check sends: the configured method, path and Host, Connection:
    close and a User-Agent; without `host`, the server's address."""
    got = []
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    addr = "127.0.0.1:%d" % ls.getsockname()[1]

    def serve():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            c.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data:
                d = c.recv(4096)
                if not d:
                    break
                data += d
            got.append(data)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        gatehouse(config(port, [("a", addr, "")], "health http HEAD /ready interval 100ms",
                         workers=1))
        wait_for(lambda: got, 2 * SLACK, 0.01, "a check")
        assert got[0] == ("HEAD /ready HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                          "User-Agent: gatehouse-health\r\n\r\n" % addr).encode()
    finally:
        ls.close()


def test_slow_check_times_out_and_never_blocks_traffic(gatehouse, make_origin, port):
    """A /healthz that hangs fails by timeout; requests meanwhile are served
    at once (checks run on their own thread)."""
    o1 = make_origin("o1")
    g = gatehouse(config(port, [("a", o1.addr, "")],
                         "health http GET /hang interval 1s timeout 800ms fall 2",
                         workers=1))
    t0 = time.monotonic()
    for _ in range(5):
        r = httpraw.request(port, "GET", "/echo")
        assert r.status == 200
    assert time.monotonic() - t0 < 1.0 * SLACK
    line = wait_log(g, r"server app/a DOWN: ", 3 * SLACK)
    assert "2 failed checks, last: response timeout (800ms)" in line
    r = httpraw.request(port, "GET", "/echo")
    assert r.status == 503


def test_outlier_ejects_500_origin_then_backs_off(gatehouse, ctl_origins, port):
    a, b, bad = ctl_origins("a"), ctl_origins("b"), ctl_origins("bad")
    bad.status = 500
    g = gatehouse(config(port, [("a", a.addr, ""), ("b", b.addr, ""), ("bad", bad.addr, "")],
                         "outlier consecutive_errors 3 eject 1s"))
    statuses = []
    with Load(port, n=2, target="/x") as load:
        line = wait_log(g, r"server app/bad ejected", 3 * SLACK)
        t_ej = log_time(line)
        assert "[warn] server app/bad ejected for 1s: 3 consecutive errors, last: status 500" \
            in line
        back = wait_log(g, r"server app/bad back from ejection", 3 * SLACK)
        assert "[info] server app/bad back from ejection after 1s" in back
        assert 0.95 <= log_time(back) - t_ej <= 1.0 + 0.2 * SLACK
        line2 = wait_for(lambda: log_lines(g, r"server app/bad ejected")[1:], 3 * SLACK, 0.01,
                         "second ejection")[0]
        assert "ejected for 2s: 3 consecutive errors" in line2, line2
        t_ej2 = log_time(line2)
        time.sleep(0.8)
    statuses = [r[2] for r in load.results]
    assert statuses.count(500) >= 6
    # No request reached it while it was out (a margin for requests already
    # in flight at the moment of ejection: clients and origins share one
    # Python process here).
    m = 0.1 * SLACK
    assert bad.hits_between(t_ej + m, t_ej + 0.95) == 0, [h - t_ej for h in bad.hits]
    assert bad.hits_between(t_ej2 + m, t_ej2 + 0.75) == 0, [h - t_ej2 for h in bad.hits]
    assert a.hits_between(t_ej + m, t_ej + 0.95) > 5


def test_outlier_counts_connect_failures(gatehouse, ctl_origins, port):
    a = ctl_origins("a")
    dead = free_port()
    g = gatehouse(config(port, [("a", a.addr, ""), ("dead", "127.0.0.1:%d" % dead, "")],
                         "outlier consecutive_errors 2 eject 3s", workers=1))
    for _ in range(8):
        r = httpraw.request(port, "GET", "/x")
        assert r.status == 200 and r.header("X-Origin") == "a"   # retried elsewhere
    line = wait_log(g, r"server app/dead ejected", 1 * SLACK)
    assert "ejected for 3s: 2 consecutive errors, last: Connection refused" in line
    n = len(log_lines(g, r"server app/dead: "))
    for _ in range(8):
        assert httpraw.request(port, "GET", "/x").status == 200
    assert len(log_lines(g, r"server app/dead: ")) == n, "connects to an ejected server"


def test_outlier_max_ejected(gatehouse, ctl_origins, port):
    os_ = [ctl_origins("o%d" % i) for i in range(1, 4)]
    for o in os_:
        o.status = 500
    g = gatehouse(config(port, [("s%d" % (i + 1), o.addr, "") for i, o in enumerate(os_)],
                         "outlier consecutive_errors 2 eject 10s max_ejected 50%"))
    for _ in range(30):
        assert httpraw.request(port, "GET", "/x").status == 500
    ejected = log_lines(g, r"\] server app/s\d ejected for")
    assert len(ejected) == 1, ejected
    assert log_lines(g, r"not ejected: 2 consecutive errors, but max_ejected 50% of backend app "
                        r"is reached")
    t = time.time()
    for _ in range(10):
        httpraw.request(port, "GET", "/x")
    served = [o for o in os_ if o.hits_between(t, time.time() + 1)]
    assert len(served) == 2, [o.name for o in served]
