"""Memory per request in flight, and memory given back after a burst (issue 15).

N requests are held by an origin that answers late (/delay): while they
wait, gatehouse's RSS may grow by a few KiB per request only (its
transaction, session and stream, and the request's bytes kept for replay;
no buffer: the request went out whole and nothing came back yet).  Once
every response was read and every connection closed, the worker gives the
memory back (pools trimmed, malloc_trim): RSS returns close to where it
was before the burst instead of staying at its peak.  (The origin closes
each connection, so no idle server connection is kept either.)

Before issue 15 these were about 15 KiB per held request and the whole
peak kept after the burst; the bounds below sit well between.  RSS under
ASan is the sanitizer's (shadow memory, quarantine), so ASan runs skip.
"""

import socket

import pytest

import ghutil
from ghutil import ASAN, SLACK, simple_http_config, wait_for

N = 300
HELD_KIB = 10          # per request while held (about 5 now, 15 before)
AFTER_KIB = 2          # per request still held after the burst (under 1 now, 15 before)
DELAY_MS = int(10000 * SLACK)   # long enough for all N to be sent on a loaded machine


def read_all(s, timeout):
    s.settimeout(timeout)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


@pytest.mark.xfail(ghutil.IMPL == "haproxy", reason="HAProxy 2.6 keeps its pools after a burst", strict=False)
def test_held_requests_cost_little_and_the_burst_is_given_back(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr],
                                     backend_extra="    timeout server 60s\n"))
    # Warm-up: the first allocations of a request path are not per request.
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            s.sendall(b"GET /delay/1?close=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            assert read_all(s, 10).startswith(b"HTTP/1.1 200")
    rss0 = g.rss_kib()

    socks = []
    try:
        for i in range(N):
            s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
            socks.append(s)
            s.sendall(b"GET /delay/%d?close=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % DELAY_MS)
        # Every request reached the origin and waits there.
        wait_for(lambda: origin.stats.delaying == N, DELAY_MS * 0.6 / 1000.0,
                 what="%d requests held by the origin" % N)
        held = (g.rss_kib() - rss0) / N
        assert ASAN or held < HELD_KIB, "RSS grew %.1f KiB per held request" % held

        for s in socks:
            assert read_all(s, DELAY_MS / 1000.0 + 30 * SLACK).startswith(b"HTTP/1.1 200")
    finally:
        for s in socks:
            s.close()

    if ASAN:
        return
    # Given back: bounded wait, the worker trims within a second or so.
    try:
        wait_for(lambda: g.rss_kib() - rss0 < N * AFTER_KIB, 10 * SLACK)
    except AssertionError:
        raise AssertionError("RSS still %d KiB above its level before the burst (bound %d)"
                             % (g.rss_kib() - rss0, N * AFTER_KIB))
