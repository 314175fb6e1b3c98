"""mode tcp: bytes forwarded both ways, roundrobin, half-close."""

import os
import socket
import threading
import time

import httpraw
from ghutil import MiB, SLACK, RssSampler, backend_block, free_port, frontend_block, global_block


def tcp_config(port, servers, extra_be=""):
    return (global_block() + frontend_block(port, "echo", mode="tcp")
            + backend_block("echo", servers, mode="tcp", extra=extra_be))


def _echo_roundtrip(port, data):
    s = httpraw.connect(port, timeout=10 * SLACK)
    try:
        out = bytearray()
        err = []

        def reader():
            try:
                while True:
                    d = s.recv(MiB)
                    if not d:
                        return
                    out.extend(d)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=reader)
        t.start()
        view = memoryview(data)
        for i in range(0, len(data), MiB):
            s.sendall(view[i:i + MiB])
        s.shutdown(socket.SHUT_WR)
        t.join(30 * SLACK)
        assert not t.is_alive(), "echo never finished (got %d of %d bytes)" % (len(out), len(data))
        assert not err, err
        return bytes(out)
    finally:
        s.close()


def test_tcp_echo(gatehouse, make_echo, port):
    e = make_echo()
    gatehouse(tcp_config(port, [e.addr]))
    data = os.urandom(MiB) + b"\x00\r\n\r\nGET / HTTP/1.1\r\n\r\n"   # not HTTP-parsed
    assert _echo_roundtrip(port, data) == data
    assert e.stats.accepts == 1


def test_tcp_big_stream_bounded_memory(gatehouse, make_echo, port):
    e = make_echo()
    g = gatehouse(tcp_config(port, [e.addr]))
    data = os.urandom(64 * MiB)
    with RssSampler(g.pid) as rss:
        assert _echo_roundtrip(port, data) == data
    assert rss.growth_mib < 64


def test_tcp_small_exchanges_interactive(gatehouse, make_echo, port):
    e = make_echo()
    gatehouse(tcp_config(port, [e.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    try:
        for i in range(50):
            msg = b"ping %d\n" % i
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(100)
                assert d
                got += d
            assert got == msg
    finally:
        s.close()


def test_tcp_roundrobin(gatehouse, make_echo, port):
    e1, e2 = make_echo(), make_echo()
    gatehouse(tcp_config(port, [e1.addr, e2.addr]))
    for i in range(6):
        assert _echo_roundtrip(port, b"conn %d" % i) == b"conn %d" % i
    assert (e1.stats.accepts, e2.stats.accepts) == (3, 3)


def test_tcp_half_close_propagates(gatehouse, make_echo, port):
    """Client shuts down its write side; the echo origin sees EOF, finishes
    and closes; the client gets all the data and then EOF."""
    e = make_echo()
    gatehouse(tcp_config(port, [e.addr]))
    s = httpraw.connect(port, timeout=5 * SLACK)
    try:
        s.sendall(b"half-close test")
        s.shutdown(socket.SHUT_WR)
        got, closed = httpraw.drain(s, 3 * SLACK)
    finally:
        s.close()
    assert got == b"half-close test"
    assert closed


def test_tcp_server_closes_first(gatehouse, port):
    """An origin that writes and closes: the client gets the bytes, then EOF."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    done = threading.Event()

    def serve():
        c, _ = ls.accept()
        c.sendall(b"banner from origin\n")
        c.close()
        done.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        gatehouse(tcp_config(port, ["127.0.0.1:%d" % ls.getsockname()[1]]))
        s = httpraw.connect(port, timeout=5 * SLACK)
        try:
            got, closed = httpraw.drain(s, 3 * SLACK)
        finally:
            s.close()
        assert got == b"banner from origin\n"
        assert closed
    finally:
        ls.close()


def test_tcp_connect_refused_closes_client(gatehouse, port):
    gatehouse(tcp_config(port, ["127.0.0.1:%d" % free_port()], extra_be="timeout connect 1s"))
    s = httpraw.connect(port, timeout=5 * SLACK)
    try:
        s.sendall(b"hello?")
        got, closed = httpraw.drain(s, 4 * SLACK)
    finally:
        s.close()
    assert closed and got == b""


def test_tcp_many_connections(gatehouse, make_echo, port):
    e1, e2 = make_echo(), make_echo()
    gatehouse(tcp_config(port, [e1.addr, e2.addr]))
    socks = [httpraw.connect(port, timeout=5 * SLACK) for _ in range(200)]
    try:
        for i, s in enumerate(socks):
            s.sendall(b"%06d" % i)
        for i, s in enumerate(socks):
            got = b""
            while len(got) < 6:
                d = s.recv(6 - len(got))
                assert d
                got += d
            assert got == b"%06d" % i
    finally:
        for s in socks:
            s.close()
    assert e1.stats.accepts == 100 and e2.stats.accepts == 100
