"""IP lists from files (issue 10): `src in file(PATH)` (and `peer`, and any
fetch whose value is an address) in tcp_request, http_request and
use_backend conditions, with a generated 100,000-entry list that does or
does not hold 127.0.0.1; behind trusted_proxies `src` is the client that
X-Forwarded-For names.  Bad lines and missing files are `gatehouse -t`
errors naming the list's FILE:LINE at the config line that references it.
"""

import random
import socket

import pytest

import ghutil
import httpraw
from ghutil import backend_block, global_block

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse's own syntax")

N = 100000


def make_list(path, extra=(), n=N, seed=7):
    """n random entries (IPv4 hosts and /24s, IPv6 /64s and hosts, comments
    and blank lines), none in 127.0.0.0/8 or 203.0.113.0/24, plus extra."""
    r = random.Random(seed)
    lines = ["# generated: %d entries" % n, ""]
    for i in range(n):
        k = i % 4
        a = r.choice([r.randrange(1, 127), r.randrange(128, 203), r.randrange(204, 224)])
        if k == 0:
            lines.append("%d.%d.%d.%d" % (a, r.randrange(256), r.randrange(256), r.randrange(256)))
        elif k == 1:
            lines.append("%d.%d.%d.0/24   # a network" % (a, r.randrange(256), r.randrange(256)))
        elif k == 2:
            lines.append("2001:db8:%x:%x::/64" % (r.randrange(65536), r.randrange(65536)))
        else:
            lines.append("2001:db8:%x::%x" % (r.randrange(65536), r.randrange(1, 65536)))
    lines += list(extra)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def config(port, origin, fe_rules, more="", trusted=None):
    fe = ["frontend web {", "    bind 127.0.0.1:%d" % port]
    if trusted:
        fe.append("    trusted_proxies %s" % trusted)
    fe += ["    " + l.strip() for l in fe_rules.splitlines() if l.strip()]
    fe += ["    default_backend app", "}"]
    return global_block() + "\n".join(fe) + "\n" + backend_block("app", [origin.addr]) + more


def refused_at_accept(port):
    """True when the proxy closes the connection without answering."""
    s = httpraw.connect(port)
    try:
        try:
            s.sendall(httpraw.build_request("GET", "/echo"))
        except (BrokenPipeError, ConnectionResetError):
            return True
        got, closed = httpraw.drain(s, 3 * ghutil.SLACK)
    finally:
        s.close()
    return closed and got == b""


@pytest.mark.parametrize("listed", [True, False])
def test_tcp_request_reject(gatehouse, origin, port, tmp_path, listed):
    lst = make_list(tmp_path / "deny.lst", ["127.0.0.0/8"] if listed else ["127.0.0.2"])
    gatehouse(config(port, origin, "tcp_request connection reject if src in file(%s)" % lst))
    if listed:
        assert refused_at_accept(port)
        assert origin.stats.accepts == 0
    else:
        assert httpraw.request(port, "GET", "/echo").status == 200


@pytest.mark.parametrize("listed", [True, False])
def test_http_request_deny(gatehouse, origin, port, tmp_path, listed):
    # a relative name: next to the configuration file
    make_list(tmp_path / "deny.lst", ["::ffff:127.0.0.1"] if listed else ["127.0.0.0/32"])
    gatehouse(config(port, origin, "http_request deny if src in file(deny.lst)"))
    r = httpraw.request(port, "GET", "/echo")
    assert r.status == (403 if listed else 200)
    assert len(origin.stats.requests) == (0 if listed else 1)


def test_use_backend(gatehouse, make_origin, port, tmp_path):
    o1, o2 = make_origin(), make_origin()
    lst = make_list(tmp_path / "vip.lst", ["127.0.0.1"])
    other = make_list(tmp_path / "other.lst", seed=8)
    gatehouse(config(port, o1, "use_backend vip if src in file(%s)\n"
                                "use_backend none if src in file(%s)" % (lst, other),
                     backend_block("vip", [o2.addr]) + backend_block("none", [o1.addr])))
    for _ in range(3):
        r = httpraw.request(port, "GET", "/echo")
        assert r.status == 200 and r.json()["origin"] == o2.name


def test_same_file_twice_and_inline_cidrs(gatehouse, origin, port, tmp_path):
    lst = make_list(tmp_path / "deny.lst", ["127.0.0.1"])
    rules = ("http_request deny status 451 if path prefix /a and src in 10.0.0.0/8 file(%s)\n"
             "http_request deny status 452 if path prefix /b and not src in file(./deny.lst)\n"
             % lst)
    gatehouse(config(port, origin, rules))
    assert httpraw.request(port, "GET", "/a").status == 451
    assert httpraw.request(port, "GET", "/b").status == 200


def test_realip_client_from_x_forwarded_for(gatehouse, origin, port, tmp_path):
    """Behind a trusted proxy, src is the client X-Forwarded-For names: the
    list judges that address, `peer in file()` the connection's."""
    lst = make_list(tmp_path / "deny.lst", ["203.0.113.0/24"])
    peers = make_list(tmp_path / "peers.lst", ["127.0.0.1"], n=10)
    gatehouse(config(port, origin,
                     "http_request deny status 403 if src in file(%s)\n"
                     "http_request set_header X-Peer-Listed yes if peer in file(%s)\n"
                     "http_request deny status 409 if header(X-Check) in file(%s)\n"
                     % (lst, peers, lst),
                     trusted="127.0.0.0/8"))
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Forwarded-For", "203.0.113.77")])
    assert r.status == 403
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Forwarded-For", "198.51.100.1")])
    assert r.status == 200
    assert ["X-Peer-Listed", "yes"] in r.json()["headers"]
    # any fetch whose value is an address; a value that is none never matches
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Check", "203.0.113.1")])
    assert r.status == 409
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Check", "not-an-ip")])
    assert r.status == 200


def test_ipv6_client(gatehouse, origin, tmp_path):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        port = s.getsockname()[1]
        s.close()
    except OSError:
        pytest.fail("no IPv6 loopback on this machine")
    lst = make_list(tmp_path / "deny.lst", ["::1/128"], n=1000)
    cfg = (global_block() + "frontend web {\n    bind [::1]:%d\n"
           "    http_request deny if src in file(%s)\n    default_backend app\n}\n" % (port, lst)
           + backend_block("app", [origin.addr]))
    g = ghutil.Gatehouse(ghutil.gatehouse_bin(), cfg, str(tmp_path))
    g.ports = []
    g.start(wait=False)
    try:
        ghutil.wait_for(lambda: port in ghutil.listening_ports(), 10, what="the IPv6 bind")
        c = socket.create_connection(("::1", port), timeout=5)
        try:
            c.sendall(httpraw.build_request("GET", "/echo", [("Connection", "close")]))
            r = httpraw.Reader(c).read_response()
        finally:
            c.close()
        assert r.status == 403
    finally:
        problems = g.teardown()
    assert not problems, problems


# ---- configuration errors ----------------------------------------------------------------

def test_bad_line_is_a_config_error(tmp_path):
    lst = tmp_path / "deny.lst"
    lst.write_text("# list\n10.0.0.0/8\n\n192.0.2.300\n")
    cfg = tmp_path / "gh.conf"
    cfg.write_text("frontend web {\n    bind 127.0.0.1:1\n"
                   "    http_request deny if src in file(deny.lst)\n"
                   "    default_backend app\n}\nbackend app {\n    server a 127.0.0.1:2\n}\n")
    p = ghutil.run_cli(["-t", "-c", str(cfg)])
    err = p.stderr.decode() + p.stdout.decode()
    assert p.returncode != 0
    assert ("%s:3:33: error: %s:4: invalid address '192.0.2.300'" % (cfg, lst)) in err, err


def test_missing_file_is_a_config_error(tmp_path):
    cfg = tmp_path / "gh.conf"
    cfg.write_text("frontend web {\n    bind 127.0.0.1:1\n"
                   "    tcp_request connection reject if src in file(/nonexistent/deny.lst)\n"
                   "    default_backend app\n}\nbackend app {\n    server a 127.0.0.1:2\n}\n")
    p = ghutil.run_cli(["-t", "-c", str(cfg)])
    err = p.stderr.decode() + p.stdout.decode()
    assert p.returncode != 0
    assert ("%s:3:45: error: cannot read /nonexistent/deny.lst: No such file or directory"
            % cfg) in err, err


def test_good_config_with_a_big_list_passes_check(tmp_path):
    make_list(tmp_path / "deny.lst")
    cfg = tmp_path / "gh.conf"
    cfg.write_text("frontend web {\n    bind 127.0.0.1:1\n"
                   "    http_request deny if src in file(deny.lst)\n"
                   "    default_backend app\n}\nbackend app {\n    server a 127.0.0.1:2\n}\n")
    p = ghutil.run_cli(["-t", "-c", str(cfg)])
    assert p.returncode == 0, p.stderr.decode()
