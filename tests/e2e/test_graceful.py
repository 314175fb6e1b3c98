"""Graceful stop: in-flight requests finish, new connections are refused,
the process exits 0 within timeout drain."""

import signal
import socket
import threading
import time

import httpraw
from ghutil import SLACK, simple_http_config, wait_for


def _refused_within(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.02)
    return False


def test_graceful_stop_finishes_inflight(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr], drain="5s"))
    results = [None] * 5

    def client(i):
        try:
            s = httpraw.connect(port, timeout=10 * SLACK)
            try:
                s.sendall(httpraw.build_request("GET", "/delay/1000?i=%d" % i, [("Connection", "close")]))
                r = httpraw.Reader(s).read_response()
                results[i] = (r.status, r.json()["target"])
            finally:
                s.close()
        except Exception as e:      # reported below
            results[i] = repr(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    wait_for(lambda: origin.stats.heads == 5, 5 * SLACK, what="5 requests at the origin")
    t0 = time.monotonic()
    g.signal(g.graceful_signal)   # SIGTERM (SIGUSR1 for the HAProxy self-test)
    assert _refused_within(port, 1.0 * SLACK), "new connections still accepted after SIGTERM"
    for t in threads:
        t.join(10 * SLACK)
    assert results == [(200, "/delay/1000?i=%d" % i) for i in range(5)], results
    rc = g.proc.wait(5 * SLACK)
    took = time.monotonic() - t0
    g.stopped_by_test = True
    assert rc == 0, "exit code %s after graceful stop" % rc
    assert took < 3.0 * SLACK, "exit took %.2fs (requests took ~1s, drain 5s)" % took


def test_graceful_stop_closes_idle_keepalive(gatehouse, origin, port):
    """An idle keep-alive client does not hold the process for the whole
    drain period."""
    g = gatehouse(simple_http_config(port, [origin.addr], drain="10s"))
    s = httpraw.connect(port)
    try:
        s.sendall(httpraw.build_request("GET", "/echo"))
        assert httpraw.Reader(s).read_response().status == 200
        t0 = time.monotonic()
        g.signal(g.graceful_signal)
        rc = g.proc.wait(12 * SLACK)
        took = time.monotonic() - t0
        g.stopped_by_test = True
        assert rc == 0
        assert took < 3.0 * SLACK, "idle keep-alive connection delayed exit by %.2fs" % took
        assert httpraw.wait_closed(s, 1) is not None
    finally:
        s.close()


def test_drain_timeout_bounds_exit(gatehouse, origin, port):
    """A request that never finishes cannot keep the process past drain."""
    g = gatehouse(simple_http_config(port, [origin.addr], drain="1s",
                                     backend_extra="timeout server 30s"))
    s = httpraw.connect(port, timeout=10 * SLACK)
    try:
        s.sendall(httpraw.build_request("GET", "/hang"))
        wait_for(lambda: origin.stats.heads == 1, 5 * SLACK, what="request at the origin")
        t0 = time.monotonic()
        g.signal(g.graceful_signal)
        g.proc.wait(10 * SLACK)
        took = time.monotonic() - t0
        g.stopped_by_test = True
        assert 0.8 < took < 1.0 + 2.0 * SLACK, "exit %.2fs after SIGTERM with timeout drain 1s" % took
    finally:
        s.close()


def test_sigint_stops_gracefully(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr], drain="5s"))
    assert httpraw.request(port, "GET", "/echo").status == 200
    t0 = time.monotonic()
    g.signal(signal.SIGINT)
    rc = g.proc.wait(8 * SLACK)
    g.stopped_by_test = True
    assert rc == 0
    assert time.monotonic() - t0 < 2.0 * SLACK


def test_graceful_stop_two_workers(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr], drain="5s", workers=2))
    results = []

    def client(i):
        try:
            r = httpraw.request(port, "GET", "/delay/700?i=%d" % i, timeout=10 * SLACK)
            results.append(r.status)
        except Exception as e:
            results.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    wait_for(lambda: origin.stats.heads == 6, 5 * SLACK, what="6 requests at the origin")
    g.signal(g.graceful_signal)
    for t in threads:
        t.join(10 * SLACK)
    assert results == [200] * 6, results
    rc = g.proc.wait(5 * SLACK)
    g.stopped_by_test = True
    assert rc == 0
