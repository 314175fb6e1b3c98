"""tune.io_uring: sends of plain TCP connections batched over io_uring
(src/net/uring.c).  The byte streams must stay exact: keep-alive, pipelining,
bodies around the staging size (8 KiB), close mode, slow readers
(backpressure through a send still in the kernel), clients that go away."""

import os
import socket
import time

import pytest

import httpraw
from ghutil import run_cli, simple_http_config, wait_for
from origins import expected_bytes

ON = "    tune.io_uring on\n"


def uring_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[io_uring]":
                n += 1
        except OSError:
            pass
    return n


def start(gatehouse, origin, port, on=True, workers=1):
    g = gatehouse(simple_http_config(port, [origin.addr], workers=workers,
                                     global_extra=ON if on else "    tune.io_uring off\n"))
    if on and "sends stay direct" in g.stderr_text():
        pytest.skip("io_uring not available here: " + g.stderr_tail(300))
    return g


def test_config_on_off_and_errors(tmp_path):
    for v in ("on", "off"):
        conf = tmp_path / ("g-%s.conf" % v)
        conf.write_text("global {\n    tune.io_uring %s\n}\n" % v
                        + "frontend f {\n    bind 127.0.0.1:1\n    default_backend b\n}\n"
                        + "backend b {\n    server s 127.0.0.1:2\n}\n")
        r = run_cli(["-t", "-c", str(conf)])
        assert r.returncode == 0, r.stdout + r.stderr
    conf = tmp_path / "bad.conf"
    conf.write_text("global {\n    tune.io_uring maybe\n}\n")
    r = run_cli(["-t", "-c", str(conf)])
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert b"tune.io_uring" in (out if isinstance(out, bytes) else out.encode())


def test_ring_only_when_on(gatehouse, origin, port):
    g = start(gatehouse, origin, port, on=True, workers=2)
    wait_for(lambda: uring_fds(g.pid) == 2, 5, what="one ring per worker")
    assert httpraw.request(port, "GET", "/bytes/100").body == expected_bytes(100)


def test_no_ring_when_off(gatehouse, origin, port):
    g = start(gatehouse, origin, port, on=False)
    assert httpraw.request(port, "GET", "/bytes/100").body == expected_bytes(100)
    assert uring_fds(g.pid) == 0


def test_keepalive_bodies_around_staging_size(gatehouse, origin, port):
    start(gatehouse, origin, port)
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for n in (0, 1, 63, 4000, 8000, 8191, 8192, 8193, 9000, 16384, 40000, 300000):
            s.sendall(httpraw.build_request("GET", "/bytes/%d" % n))
            r = rd.read_response()
            assert r.status == 200 and r.body == expected_bytes(n), n
            s.sendall(httpraw.build_request("GET", "/chunked/%d?chunk=333" % n))
            r = rd.read_response()
            assert r.body == expected_bytes(n), n
            body = b"y" * n
            s.sendall(httpraw.build_request("POST", "/echo", body=body))
            assert rd.read_response().json()["body_len"] == n
    finally:
        s.close()


def test_pipelined_burst_in_order(gatehouse, origin, port):
    start(gatehouse, origin, port)
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        s.sendall(b"".join(httpraw.build_request("GET", "/echo?i=%d" % i) for i in range(60)))
        for i in range(60):
            r = rd.read_response()
            assert r.json()["target"] == "/echo?i=%d" % i
    finally:
        s.close()


def test_many_clients_close_mode(gatehouse, origin, port):
    start(gatehouse, origin, port)
    socks = []
    try:
        for i in range(40):
            s = httpraw.connect(port)
            s.sendall(httpraw.build_request("GET", "/bytes/%d" % (100 + i * 50),
                                            headers=[("Connection", "close")]))
            socks.append(s)
        for i, s in enumerate(socks):
            data, closed = httpraw.drain(s, timeout=10)
            assert closed
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:80]
            assert body == expected_bytes(100 + i * 50)
    finally:
        for s in socks:
            s.close()


def test_slow_reader_gets_every_byte(gatehouse, origin, port):
    """Small chunks to a client that reads nothing for a while: sends stop
    in the kernel (the socket is full), the owner is told it is blocked and
    woken by the completion; nothing lost or reordered."""
    start(gatehouse, origin, port)
    n = 3_000_000
    s = httpraw.connect(port, rcvbuf=4096)
    try:
        s.sendall(httpraw.build_request("GET", "/chunked/%d?chunk=700" % n))
        time.sleep(1.5)
        r = httpraw.Reader(s).read_response()
        assert r.body == expected_bytes(n)
        # The connection is still usable afterwards.
        s.sendall(httpraw.build_request("GET", "/bytes/10"))
        assert httpraw.Reader(s).read_response().body == expected_bytes(10)
    finally:
        s.close()


def test_clients_leaving_mid_response(gatehouse, origin, port):
    g = start(gatehouse, origin, port)
    for i in range(20):
        s = httpraw.connect(port, rcvbuf=4096)
        s.sendall(httpraw.build_request("GET", "/chunked/2000000?chunk=500"))
        s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    assert httpraw.request(port, "GET", "/bytes/5000").body == expected_bytes(5000)
    assert g.alive()


def test_pipelined_small_responses_to_a_slow_reader(gatehouse, origin, port):
    """Many small responses (each one staged send) to a client that reads
    nothing for a while: the socket fills, a staged send waits in the
    kernel, the next response is told "blocked" and goes out after the
    completion; then the same with the client leaving before reading."""
    start(gatehouse, origin, port)
    n = 2000    # 14 MB: more than the proxy's socket send buffer grows to (4 MB)
    burst = b"".join(httpraw.build_request("GET", "/bytes/%d?i=%d" % (7000 + i % 7, i))
                     for i in range(n))
    s = httpraw.connect(port, rcvbuf=4096)
    try:
        s.sendall(burst)
        time.sleep(3)
        rd = httpraw.Reader(s)
        for i in range(n):
            r = rd.read_response()
            assert r.status == 200 and r.body == expected_bytes(7000 + i % 7), i
    finally:
        s.close()
    for _ in range(5):
        s = httpraw.connect(port, rcvbuf=4096)
        s.sendall(burst)
        time.sleep(0.3)
        s.close()
    assert httpraw.request(port, "GET", "/bytes/5000").body == expected_bytes(5000)
