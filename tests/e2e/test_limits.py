"""Rate limits (issue 10, first slice): `limit NAME { key FETCH  rate N/s|N/m
[burst N] [entries N] }` sections and the `http_request limit NAME [if|unless
COND]` rule, in frontends and backends.

Over the limit: 429 with a truthful Retry-After (seconds, rounded up), the
connection kept alive, the access log's termination cause `rate-limited`
and one warning line.  One budget per key whatever the worker that took the
connection.  Rates are chosen so that nothing refills during a test (N/m)
except in the refill test, which waits one interval.
"""

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import ghutil
from ghutil import simple_http_config, wait_for
from httpraw import Reader, build_request, connect, request
from test_access_log import json_lines
from test_workers import ctxt_switches, listeners_on, threads

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="limit sections are not translated to HAProxy")


def limit_block(name, key, rate, burst=None, extra=""):
    lines = ["limit %s {" % name, "    key %s" % key, "    rate %s" % rate]
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
    warns = [ln for ln in g.stderr_text().splitlines() if "over limit 'per_ip'" in ln]
    assert len(warns) == 2 and "429" in warns[0] and "GET /over" in warns[0], warns


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
