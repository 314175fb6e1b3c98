"""Keep-alive on both sides, backend connection reuse, pipelining."""

import hashlib
import time

import httpraw
from ghutil import simple_http_config, wait_for
from origins import expected_bytes


def test_backend_connection_reused_for_one_client(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(100):
            s.sendall(httpraw.build_request("GET", "/echo?i=%d" % i))
            r = rd.read_response()
            assert r.status == 200
            assert r.json()["target"] == "/echo?i=%d" % i
    finally:
        s.close()
    assert len(origin.stats.requests) == 100
    assert origin.stats.accepts <= 2, "backend saw %d accepts for 100 keep-alive requests" % origin.stats.accepts


def test_backend_connections_pooled_across_clients(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    for i in range(20):
        s = httpraw.connect(port)
        try:
            s.sendall(httpraw.build_request("GET", "/echo?i=%d" % i))
            assert httpraw.Reader(s).read_response().status == 200
        finally:
            s.close()
    assert len(origin.stats.requests) == 20
    assert origin.stats.accepts <= 3, \
        "20 sequential clients cost %d backend connections (no pooling)" % origin.stats.accepts


def test_mixed_bodies_keepalive(gatehouse, origin, port):
    """Bodies of every framing on one connection: any framing slip shows up
    as a corrupt next response."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(5):
            s.sendall(httpraw.build_request("GET", "/bytes/%d" % (1000 * i + 7)))
            r = rd.read_response()
            assert r.body == expected_bytes(1000 * i + 7)
            s.sendall(httpraw.build_request("GET", "/chunked/%d?chunk=333" % (999 * i + 1)))
            r = rd.read_response()
            assert r.body == expected_bytes(999 * i + 1)
            body = b"x" * (500 * i)
            s.sendall(httpraw.build_request("POST", "/echo", body=body))
            assert rd.read_response().json()["body_len"] == len(body)
            s.sendall(httpraw.build_request("GET", "/status/204"))
            assert rd.read_response().status == 204
    finally:
        s.close()
    assert origin.stats.accepts <= 2


def test_pipelined_requests_answered_in_order(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    reqs = b"".join([
        httpraw.build_request("GET", "/echo?i=0"),
        httpraw.build_request("GET", "/bytes/5000"),
        httpraw.build_request("POST", "/echo?i=2", body=b"hello world"),
        httpraw.build_request("GET", "/delay/100?i=3"),
        httpraw.build_request("HEAD", "/bytes/777"),
        httpraw.build_request("GET", "/chunked/3000?chunk=1000"),
        httpraw.build_request("GET", "/echo?i=6"),
    ])
    s = httpraw.connect(port)
    try:
        s.sendall(reqs)
        rd = httpraw.Reader(s)
        r = rd.read_response()
        assert r.json()["target"] == "/echo?i=0"
        assert rd.read_response().body == expected_bytes(5000)
        j = rd.read_response().json()
        assert j["target"] == "/echo?i=2" and j["body_len"] == 11
        assert rd.read_response().json()["target"] == "/delay/100?i=3"
        r = rd.read_response("HEAD")
        assert r.status == 200 and r.header("content-length") == "777"
        assert rd.read_response().body == expected_bytes(3000)
        assert rd.read_response().json()["target"] == "/echo?i=6"
    finally:
        s.close()


def test_pipelined_many_small(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    n = 200
    data = b"".join(httpraw.build_request("GET", "/echo?i=%d" % i) for i in range(n))
    s = httpraw.connect(port)
    try:
        s.sendall(data)
        rd = httpraw.Reader(s)
        for i in range(n):
            assert rd.read_response().json()["target"] == "/echo?i=%d" % i
    finally:
        s.close()


def test_connection_close_from_client(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    try:
        s.sendall(httpraw.build_request("GET", "/echo", [("Connection", "close")]))
        rd = httpraw.Reader(s)
        r = rd.read_response()
        assert r.status == 200
        rest, closed = httpraw.drain(s, 3, bytes(rd.buf))
        assert closed, "connection not closed after a Connection: close request"
        assert rest == b""
    finally:
        s.close()


def test_origin_closing_connection_is_not_reused(gatehouse, origin, port):
    """The origin answers Connection: close (close-delimited body); the next
    request on the same client connection must still work."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(3):
            s.sendall(httpraw.build_request("GET", "/close/%d" % (10000 + i)))
            r = rd.read_response()
            assert r.status == 200
            assert r.body == expected_bytes(10000 + i)
            if r.framing == "close":
                break      # proxy closed the client side too: acceptable
            s.sendall(httpraw.build_request("GET", "/echo"))
            assert rd.read_response().status == 200
    finally:
        s.close()


def test_client_keepalive_survives_origin_status_codes(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for code in (404, 500, 204, 304, 201):
            s.sendall(httpraw.build_request("GET", "/status/%d" % code))
            assert rd.read_response().status == code
        s.sendall(httpraw.build_request("GET", "/echo"))
        assert rd.read_response().status == 200
    finally:
        s.close()
    assert origin.stats.accepts <= 2


def test_origin_connection_close_header_respected(gatehouse, origin, port):
    """The origin answers "Connection: close" and closes: that backend
    connection must not go back to the pool."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(3):
            s.sendall(httpraw.build_request("GET", "/echo?close=1&i=%d" % i))
            r = rd.read_response()
            assert r.status == 200, "request %d after an origin close: %d" % (i, r.status)
            assert r.json()["target"] == "/echo?close=1&i=%d" % i
    finally:
        s.close()
    assert origin.stats.accepts == 3


def test_stale_pooled_connection_not_used(gatehouse, origin, port):
    """The origin closes idle keep-alive connections after 100 ms; a later
    request must not fail on the dead pooled connection."""
    gatehouse(simple_http_config(port, [origin.addr]))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for i in range(3):
            s.sendall(httpraw.build_request("GET", "/echo?idle_close=100&i=%d" % i))
            r = rd.read_response()
            assert r.status == 200, "request %d: %d (stale pooled connection?)" % (i, r.status)
            time.sleep(0.4)
        s.sendall(httpraw.build_request("GET", "/echo?last=1"))
        assert rd.read_response().status == 200
    finally:
        s.close()
    assert origin.stats.idle_closes == 3
    assert len(origin.stats.requests) == 4


def test_pipeline_larger_than_buffer(gatehouse, origin, port):
    """A pipeline far bigger than tune.bufsize (32k): every request is
    answered, in order, with the right body."""
    gatehouse(simple_http_config(port, [origin.addr]))
    n = 400
    reqs = []
    for i in range(n):
        if i % 3 == 0:
            reqs.append(httpraw.build_request("POST", "/echo?i=%d" % i, body=b"p" * (i % 50 + 1),
                                              headers=[("X-Pad", "x" * 100)]))
        else:
            reqs.append(httpraw.build_request("GET", "/bytes/%d" % (i * 13 % 3000 + 1),
                                              headers=[("X-Pad", "y" * 100)]))
    data = b"".join(reqs)
    assert len(data) > 64 * 1024
    s = httpraw.connect(port, timeout=10)
    try:
        import threading
        t = threading.Thread(target=s.sendall, args=(data,))
        t.start()
        rd = httpraw.Reader(s)
        for i in range(n):
            r = rd.read_response()
            if i % 3 == 0:
                j = r.json()
                assert (j["target"], j["body_len"]) == ("/echo?i=%d" % i, i % 50 + 1)
            else:
                assert r.body == expected_bytes(i * 13 % 3000 + 1), "response %d" % i
        t.join(10)
    finally:
        s.close()


def test_client_abort_mid_response_does_not_poison_pool(gatehouse, origin, port):
    """A client that disconnects in the middle of a large response must not
    leave that backend connection (with unread body bytes) in the pool."""
    gatehouse(simple_http_config(port, [origin.addr]))
    for round_ in range(3):
        s = httpraw.connect(port)
        s.sendall(httpraw.build_request("GET", "/bytes/%d" % (64 << 20)))
        got = 0
        while got < (1 << 20):
            d = s.recv(65536)
            assert d
            got += len(d)
        s.close()
        for i in range(5):
            r = httpraw.request(port, "GET", "/bytes/%d" % (1000 + i))
            assert r.status == 200
            assert r.body == expected_bytes(1000 + i), "corrupt response after an aborted download"
    # The origin's aborted sends end: its connections close.
    wait_for(lambda: origin.stats.open_conns <= 2, 5, what="aborted backend connections to close")


def test_concurrent_keepalive_clients_mixed(gatehouse, origin, port):
    """20 keep-alive clients in parallel, 25 requests each, mixed framings:
    no response ever goes to the wrong client."""
    import threading
    gatehouse(simple_http_config(port, [origin.addr]))
    errors = []

    def client(cid):
        try:
            s = httpraw.connect(port, timeout=10)
            rd = httpraw.Reader(s)
            try:
                for k in range(25):
                    kind = (cid + k) % 3
                    if kind == 0:
                        s.sendall(httpraw.build_request("GET", "/echo?c=%d&k=%d" % (cid, k)))
                        assert rd.read_response().json()["target"] == "/echo?c=%d&k=%d" % (cid, k)
                    elif kind == 1:
                        n = 1000 * cid + k
                        s.sendall(httpraw.build_request("GET", "/bytes/%d" % n))
                        assert rd.read_response().body == expected_bytes(n)
                    else:
                        n = 777 * cid + k + 1
                        s.sendall(httpraw.build_request("GET", "/chunked/%d?chunk=500" % n))
                        assert rd.read_response().body == expected_bytes(n)
            finally:
                s.close()
        except Exception as e:
            errors.append("client %d: %r" % (cid, e))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    assert len(origin.stats.requests) == 500


def _bursts(port, origin, conns, bursts):
    """`bursts` times: `conns` client connections each send one request
    that the origin holds (/gate) until all `conns` are in flight at the
    origin together, then read the answers; returns the origin's accepts
    after each burst.  (A fixed delay instead of the gate let the first
    answers go before the last requests arrived on a loaded CI machine:
    232 of 300 in flight at once, and a server connection reused within
    the burst.)"""
    import asyncio

    async def one():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /gate HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        await w.drain()
        data = await r.read()
        w.close()
        assert data.startswith(b"HTTP/1.1 200"), data[:80]

    async def all_in_then_open():
        while origin.stats.delaying < conns:
            await asyncio.sleep(0.01)
        origin.open_gate()

    async def burst():
        await asyncio.wait_for(
            asyncio.gather(all_in_then_open(), *[one() for _ in range(conns)]), 60)

    seen = []
    for _ in range(bursts):
        origin.close_gate()
        # The gate opens only with all `conns` in flight at the origin (a
        # proxy that could not open them all would time out here).
        asyncio.run(burst())
        # Every answer is in, so every server connection is back in the pool.
        seen.append(origin.stats.accepts)
    return seen


def test_pool_keeps_every_connection_of_a_burst(gatehouse, origin, port):
    """With no `max_idle`, a burst wider than the old fixed cap (256) is
    served again by the connections of the one before: no server
    connection is closed and reopened between bursts."""
    gatehouse(simple_http_config(port, [origin.addr]))
    assert _bursts(port, origin, 300, 2) == [300, 300]


def test_max_idle_caps_the_pool(gatehouse, origin, port):
    """`max_idle 2`: of 8 connections back from a burst two are kept, so
    the next burst of 8 opens 6 new ones."""
    cfg = simple_http_config(port, [origin.addr]).replace(
        "server s1 %s" % origin.addr, "server s1 %s max_idle 2" % origin.addr)
    gatehouse(cfg)
    assert _bursts(port, origin, 8, 3) == [8, 14, 20]


def test_max_idle_zero_never_pools(gatehouse, origin, port):
    cfg = simple_http_config(port, [origin.addr]).replace(
        "server s1 %s" % origin.addr, "server s1 %s max_idle 0" % origin.addr)
    gatehouse(cfg)
    assert _bursts(port, origin, 4, 2) == [4, 8]
