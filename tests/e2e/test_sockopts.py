"""
Socket options (issue 13, part B): `source ADDR|client` on backends and
servers, `tcp_keepalive` on client and server sockets, `backlog`,
`defer_accept` and `fastopen` on binds.  What the kernel was told is read
back with getsockopt() on gatehouse's own sockets (pidfd_getfd, as root).
"""

import json
import socket
import subprocess
import threading

import pytest

import ghutil
from deployutil import PeerOrigin, find_socket, http_get

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse-only directives")

IP_TRANSPARENT = 19
TCP_FASTOPEN = 23


@pytest.fixture
def peer_origin():
    made = []

    def make():
        o = PeerOrigin()
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


def cfg(port, servers, backend_extra="", frontend_extra="", bind_opts="", workers=1):
    return (ghutil.global_block(workers)
            + "frontend web {\n    bind 127.0.0.1:%d %s\n" % (port, bind_opts)
            + "".join("    %s\n" % l.strip() for l in frontend_extra.splitlines() if l.strip())
            + "    default_backend app\n}\n"
            + "backend app {\n"
            + "".join("    server %s\n" % s for s in servers)
            + "".join("    %s\n" % l.strip() for l in backend_extra.splitlines() if l.strip())
            + "}\n")


def peer_of(port, path="/", source=None):
    st, _, body = http_get(("127.0.0.1", port), [path], source=source)[0]
    assert st == 200
    return json.loads(body)


def test_source_backend_and_server(gatehouse, port, peer_origin):
    a, b = peer_origin(), peer_origin()
    gatehouse(cfg(port, ["a %s" % a.addr, "b %s source 127.0.0.3" % b.addr],
                  backend_extra="source 127.0.0.2"))
    seen = {peer_of(port)["peer"] for _ in range(4)}
    # round robin over a (the backend's source) and b (its own)
    assert seen == {"127.0.0.2", "127.0.0.3"}
    assert a.requests and b.requests


def test_source_client(gatehouse, port, peer_origin):
    o = peer_origin()
    g = gatehouse(cfg(port, ["s1 %s" % o.addr], backend_extra="source client"))
    # loopback owns all of 127/8: the client's own address is bindable here,
    # so the origin sees it; IP_TRANSPARENT is what makes it work for an
    # address this host does not own (README: TPROXY routing)
    assert peer_of(port, source="127.0.0.4")["peer"] == "127.0.0.4"
    assert peer_of(port, source="127.0.0.5")["peer"] == "127.0.0.5"
    # not pooled: each request had its own server connection
    assert o.conns == 2
    # hold a request at the origin and look at gatehouse's server socket
    t = threading.Thread(target=lambda: peer_of(port, "/hold", source="127.0.0.6"))
    t.start()
    try:
        assert o.srv.holding.wait(5)
        s = find_socket(g.pid, peer=("127.0.0.1", o.port))
        assert s is not None
        try:
            assert s.getsockopt(socket.SOL_IP, IP_TRANSPARENT) == 1
            assert s.getsockname()[0] == "127.0.0.6"
        finally:
            s.close()
    finally:
        o.srv.release.set()
        t.join(5)


def test_tcp_keepalive_client_and_server(gatehouse, port, peer_origin):
    o = peer_origin()
    g = gatehouse(cfg(port, ["s1 %s" % o.addr],
                      frontend_extra="tcp_keepalive idle 77s interval 11s count 5",
                      backend_extra="tcp_keepalive idle 66s interval 22s count 3"))
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        c.sendall(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        assert o.srv.holding.wait(5)
        cli = find_socket(g.pid, peer=c.getsockname())
        srv = find_socket(g.pid, peer=("127.0.0.1", o.port))
        assert cli is not None and srv is not None
        try:
            for s, want in ((cli, (77, 11, 5)), (srv, (66, 22, 3))):
                assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert (s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                        s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                        s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)) == want
        finally:
            cli.close()
            srv.close()
        # ss shows the kernel's keepalive timer on the client connection
        ss = subprocess.run(["ss", "-tnoH", "state", "established", "sport", "= :%d" % port],
                            capture_output=True, text=True, timeout=5).stdout
        assert "timer:(keepalive," in ss, ss
    finally:
        o.srv.release.set()
        c.close()


def test_no_keepalive_by_default(gatehouse, port, peer_origin):
    o = peer_origin()
    g = gatehouse(cfg(port, ["s1 %s" % o.addr]))
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        c.sendall(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        assert o.srv.holding.wait(5)
        for peer in (c.getsockname(), ("127.0.0.1", o.port)):
            s = find_socket(g.pid, peer=peer)
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
            s.close()
    finally:
        o.srv.release.set()
        c.close()


def test_bind_backlog_defer_accept_fastopen(gatehouse, port, peer_origin):
    o = peer_origin()
    g = gatehouse(cfg(port, ["s1 %s" % o.addr], bind_opts="backlog 77 defer_accept fastopen 33"))
    ls = find_socket(g.pid, local=("127.0.0.1", port))
    assert ls is not None
    try:
        assert ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0
        assert ls.getsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN) == 33
    finally:
        ls.close()
    ss = subprocess.run(["ss", "-tlnH", "sport", "= :%d" % port], capture_output=True,
                        text=True, timeout=5).stdout.split()
    assert ss[2] == "77", ss            # Send-Q of a listener is its backlog
    # a request with its bytes right behind the handshake is served
    assert peer_of(port)["path"] == "/"


def test_bind_defaults(gatehouse, port, peer_origin):
    o = peer_origin()
    g = gatehouse(cfg(port, ["s1 %s" % o.addr]))
    ls = find_socket(g.pid, local=("127.0.0.1", port))
    try:
        assert ls.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) == 0
        assert ls.getsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN) == 0
    finally:
        ls.close()
    ss = subprocess.run(["ss", "-tlnH", "sport", "= :%d" % port], capture_output=True,
                        text=True, timeout=5).stdout.split()
    assert ss[2] == "4096", ss


@pytest.mark.parametrize("line,token,msg", [
    ("    source 10.0.0.1:80", "10.0.0.1:80", "invalid source '10.0.0.1:80'"),
    ("    server s2 127.0.0.1:2 source [::1]", "[::1]",
     "source address family does not match server 's2' (127.0.0.1:2); expected an IPv4 source"),
    ("    tcp_keepalive idle 500ms", "500ms",
     "tcp_keepalive time '500ms' must be whole seconds from 1s to 32767s"),
    ("    tcp_keepalive often 1s", "often", "unknown tcp_keepalive setting 'often'"),
    ("    tcp_keepalive count 0", "0", "0 is out of range; expected an integer from 1 to 127"),
])
def test_config_errors(tmp_path, line, token, msg):
    text = ("frontend web {\n    bind 127.0.0.1:1\n    default_backend app\n}\n"
            "backend app {\n    server s1 127.0.0.1:1\n%s\n}\n" % line)
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "%s:7:%d: error: %s" % (conf, line.index(token) + 1, msg) in err, err
