"""
test_queue_retry.py - server limits and failover inside one backend:
maxconn with the backend queue and `timeout queue`, retries of failed
connects, replay of idempotent requests whose server died before answering
(and never of a POST), the retry budget, sticky cookies, drain, disabled
and backup servers.

The origins here are small threaded HTTP/1.1 servers that record how many
requests they hold at once, which the shared asyncio origins do not.
"""

import http.client
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from ghutil import SLACK, free_port, wait_for


class CountingOrigin:
    """Answers /slow?ms=N after N ms, /die by closing without a response
    (when made with dies=True), anything else at once; the body names the
    origin."""

    def __init__(self, name, dies=False):
        self.name = name
        self.lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        self.hits = 0
        self.methods = []
        self.conns = set()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with origin.lock:
                    origin.conns.add(self.connection)

            def finish(self):
                with origin.lock:
                    origin.conns.discard(self.connection)
                super().finish()

            def _serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                u = urlparse(self.path)
                with origin.lock:
                    origin.hits += 1
                    origin.methods.append(self.command)
                    origin.inflight += 1
                    origin.max_inflight = max(origin.max_inflight, origin.inflight)
                counted = True
                try:
                    if u.path == "/die" and dies:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if u.path == "/slow":
                        time.sleep(int(parse_qs(u.query).get("ms", ["200"])[0]) / 1000.0)
                    body = origin.name.encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("X-Origin", origin.name)
                    self.end_headers()
                    self.wfile.flush()
                    # The request stops counting just before its last bytes
                    # leave: the proxy may start the next one the moment it
                    # has them, before this thread gets the GIL back.
                    with origin.lock:
                        origin.inflight -= 1
                        counted = False
                    self.wfile.write(body)
                finally:
                    with origin.lock:
                        if counted:
                            origin.inflight -= 1

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.addr = "127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        """Stops listening and cuts the keep-alive connections it holds."""
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.lock:
            for c in list(self.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def origins():
    made = []

    def make(name, **kw):
        o = CountingOrigin(name, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


def dead_addr():
    return "127.0.0.1:%d" % free_port()


def config(port, servers, backend_extra="", workers=1, frontend_extra=""):
    lines = ["global {", "    workers %d" % workers, "    timeout drain 2s", "}",
             "frontend web {", "    bind 127.0.0.1:%d" % port, "    default_backend app"]
    lines += ["    " + l for l in frontend_extra.splitlines() if l.strip()]
    lines += ["}", "backend app {", "    timeout connect 1s"]
    for name, addr, opts in servers:
        lines.append("    server %s %s %s" % (name, addr, opts))
    lines += ["    " + l.strip() for l in backend_extra.splitlines() if l.strip()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def get(port, path="/", method="GET", headers=None, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode(errors="replace"), r
    finally:
        c.close()


def test_maxconn_queues_excess_requests(gatehouse, origins, port):
    o = origins("a")
    gatehouse(config(port, [("s1", o.addr, "maxconn 2")], "timeout queue 10s"))
    with ThreadPoolExecutor(20) as ex:
        res = list(ex.map(lambda i: get(port, "/slow?ms=150")[0], range(20)))
    assert res == [200] * 20
    assert o.hits == 20
    assert o.max_inflight == 2, "server saw %d requests at once" % o.max_inflight


def test_maxconn_holds_across_worker_threads(gatehouse, origins, port):
    o = origins("a")
    gatehouse(config(port, [("s1", o.addr, "maxconn 2")], "timeout queue 10s", workers=2))
    with ThreadPoolExecutor(20) as ex:
        res = list(ex.map(lambda i: get(port, "/slow?ms=100")[0], range(40)))
    assert res == [200] * 40
    assert o.max_inflight <= 2, "server saw %d requests at once" % o.max_inflight


def test_queue_timeout_gives_503(gatehouse, origins, port):
    o = origins("a")
    g = gatehouse(config(port, [("s1", o.addr, "maxconn 1")], "timeout queue 300ms"))
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as ex:
        res = list(ex.map(lambda i: (get(port, "/slow?ms=1500")[0], time.monotonic() - t0),
                          range(4)))
    statuses = sorted(r[0] for r in res)
    assert statuses.count(200) == 1 and statuses.count(503) == 3, statuses
    # Order, not wall-clock bounds: every 503 comes after timeout queue
    # (300 ms) and well before the one slot frees (the 1500 ms request), so
    # it was the queue timer that answered, not the slot freeing.
    t_200 = [e for st, e in res if st == 200][0]
    for status, elapsed in res:
        if status == 503:
            assert elapsed >= 0.29, "503 after %.2fs, before timeout queue 300ms" % elapsed
            assert elapsed < t_200 - 0.5, \
                "503 after %.2fs, the 1.5 s request done after %.2fs: not answered by " \
                "timeout queue" % (elapsed, t_200)
    assert o.max_inflight == 1
    wait_for(lambda: "timeout queue" in open(g.stderr_path).read(), 2 * SLACK, what="log line")


def test_connect_failure_retried_on_another_server(gatehouse, origins, port):
    o = origins("a")
    g = gatehouse(config(port, [("dead", dead_addr(), ""), ("live", o.addr, "")]))
    res = [get(port, "/x")[0] for _ in range(30)]
    assert res == [200] * 30
    assert o.hits == 30
    assert "server app/dead" in open(g.stderr_path).read()


def test_idempotent_request_replayed_post_never(gatehouse, origins, port):
    dying, good = origins("dying", dies=True), origins("good")
    # /die on `dying` closes without answering; `good` answers everything.
    g = gatehouse(config(port, [("d", dying.addr, ""), ("g", good.addr, "")]))
    for _ in range(6):
        assert get(port, "/die")[0] == 200
    assert "GET" in dying.methods, "the dying server was never tried"
    good_gets = good.hits
    dying.methods.clear()
    posts = [get(port, "/die", method="POST", body=b"x")[0] for _ in range(6)]
    posts_to_dying = dying.methods.count("POST")
    assert posts_to_dying >= 1
    # Every POST that reached the dying server failed, and none went on elsewhere.
    assert posts.count(502) == posts_to_dying, (posts, posts_to_dying)
    assert good.hits - good_gets == posts.count(200)
    assert "502" in open(g.stderr_path).read()


def test_retry_budget_exhaustion_stops_retries(gatehouse, origins, port):
    # Both servers take the request and close without answering: every GET
    # is replayed (a charged retry) until the budget runs dry.
    d1, d2 = origins("d1", dies=True), origins("d2", dies=True)
    g = gatehouse(config(port, [("s1", d1.addr, ""), ("s2", d2.addr, "")],
                         "retries 3\nretry_budget 10%"))
    for _ in range(60):
        assert get(port, "/die")[0] == 502
    log = open(g.stderr_path).read()
    assert "retry budget exhausted" in log
    # 100 retries' worth at start, then one per ten requests: far fewer
    # attempts than the 4 per request that `retries 3` alone would allow.
    attempts = d1.hits + d2.hits
    assert 60 < attempts < 60 + 100 + 20, attempts


def test_refused_connects_do_not_spend_the_budget(gatehouse, origins, port):
    o = origins("a")
    g = gatehouse(config(port, [("dead", dead_addr(), ""), ("live", o.addr, "")],
                         "retry_budget 1%"))
    res = [get(port, "/x")[0] for _ in range(300)]
    assert res == [200] * 300
    assert "retry budget exhausted" not in open(g.stderr_path).read()


def test_sticky_cookie_pins_and_fails_over(gatehouse, origins, port):
    a, b = origins("a"), origins("b")
    gatehouse(config(port, [("s1", a.addr, ""), ("s2", b.addr, "")], "sticky cookie SRV"))
    status, body, r = get(port, "/")
    assert status == 200
    cookie = r.getheader("Set-Cookie")
    assert cookie and cookie.startswith("SRV=s"), cookie
    pinned = cookie.split(";")[0]
    expect = "a" if pinned == "SRV=s1" else "b"
    for _ in range(10):
        status, body, r = get(port, "/", headers={"Cookie": "x=1; " + pinned})
        assert (status, body) == (200, expect)
        assert r.getheader("Set-Cookie") is None, "cookie re-set although pin was valid"
    # A pin to an unknown server is replaced.
    status, body, r = get(port, "/", headers={"Cookie": "SRV=nope"})
    assert status == 200 and r.getheader("Set-Cookie").startswith("SRV=s")
    # The pinned server disappears: the request goes elsewhere and is re-pinned.
    (a if expect == "a" else b).close()
    status, body, r = get(port, "/", headers={"Cookie": pinned})
    assert status == 200 and body != expect
    assert r.getheader("Set-Cookie").split(";")[0] != pinned


def test_drain_disabled_and_backup(gatehouse, origins, port):
    a, d, x, bk = origins("a"), origins("drained"), origins("disabled"), origins("backup")
    gatehouse(config(port, [("s1", a.addr, ""), ("s2", d.addr, "drain"),
                            ("s3", x.addr, "disabled"), ("s4", bk.addr, "backup")]))
    for _ in range(20):
        assert get(port, "/")[:2] == (200, "a")
    assert a.hits == 20 and d.hits == 0 and x.hits == 0 and bk.hits == 0


def test_backup_takes_over_when_no_normal_server(gatehouse, origins, port):
    x, bk = origins("disabled"), origins("backup")
    gatehouse(config(port, [("s1", x.addr, "disabled"), ("s2", bk.addr, "backup")]))
    for _ in range(5):
        assert get(port, "/")[:2] == (200, "backup")
    assert x.hits == 0


def test_post_on_reused_connection_never_replayed(gatehouse, origins, port):
    """RFC 9110 9.2.2: a proxy MUST NOT automatically retry a non-idempotent
    request.  A POST sent on a pooled keep-alive connection that the server
    then closes without answering is a 502, not a second POST; a GET in the
    same place is replayed on a fresh connection."""
    o = origins("a", dies=True)
    g = gatehouse(config(port, [("s1", o.addr, "")], "retries 0"))
    for method, body, want_status, want_seen in (("POST", b"x", 502, 1), ("GET", None, 502, 2)):
        assert get(port, "/warm")[0] == 200        # leaves a pooled connection
        o.methods.clear()
        status = get(port, "/die", method=method, body=body)[0]
        assert status == want_status, (method, status)
        seen = o.methods.count(method)
        assert seen == want_seen, "%s reached the server %d times" % (method, seen)
    assert "502" in open(g.stderr_path).read()


def test_post_avoids_long_idle_pooled_connection(gatehouse, origins, port):
    """Since a POST is never sent twice, it only rides a pooled connection
    that was in use within the last second (a server's keep-alive timeout is
    what closes idle connections under us); after a longer pause it gets a
    fresh one, while a GET still takes the pooled one."""
    o = origins("a")
    gatehouse(config(port, [("s1", o.addr, "")]))
    assert get(port, "/warm")[0] == 200
    with o.lock:
        (pooled,) = o.conns
    time.sleep(1.3)
    assert get(port, "/post", method="POST", body=b"x")[0] == 200
    with o.lock:
        assert len(o.conns) == 2 and pooled in o.conns   # a second connection
    assert get(port, "/get")[0] == 200                   # a GET reuses one
    with o.lock:
        assert len(o.conns) == 2
    assert get(port, "/post2", method="POST", body=b"x")[0] == 200   # just used: reused
    with o.lock:
        assert len(o.conns) == 2
