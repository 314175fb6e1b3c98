"""Health checks over HTTP/2 (`health http ... [proto h1|h2]`) and the gRPC
health protocol (`health grpc [service NAME]`).

An HTTP/2 origin (h2health_origin.H2HealthOrigin, python3-h2) whose
/healthz the test switches between 200 and 503: gatehouse checks it over
HTTP/2 by default when its servers are `proto h2` (cleartext prior
knowledge, or TLS with ALPN h2), marks it DOWN after `fall` failed checks
and UP after `rise` good ones, and traffic avoids it meanwhile.  `proto` on
the health line overrides the default both ways.  A real gRPC server
(python3-grpcio, grpc.health.v1.Health/Check through a generic handler)
switches between SERVING and NOT_SERVING, drops a service (NOT_FOUND),
and records the `service` each check asked about.  Finally `gatehouse -t`
on bad values: FILE:LINE:COL and a non-zero exit.
"""

import re
import shutil
import socket
import subprocess
import time

import pytest

import ghutil
import httpraw
from ghutil import SLACK, frontend_block, global_block, run_cli, wait_for
from h2health_origin import NOT_SERVING, SERVING, GrpcHealthServer, H2HealthOrigin
from test_health import CtlOrigin, Load, log_lines, log_time, wait_log

OPENSSL = shutil.which("openssl")

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="health h2/grpc options are gatehouse-only")


def backend(name, servers, health):
    """servers: list of (name, addr, options)."""
    lines = ["backend %s {" % name, "    mode http", "    balance roundrobin"]
    lines += ["    server %s %s %s" % s for s in servers]
    lines += ["    " + health, "}"]
    return "\n".join(lines) + "\n"


def config(port, *backends, workers=1):
    return global_block(workers) + frontend_block(port) + "".join(backends)


@pytest.fixture
def h2_origins():
    made = []

    def make(name, **kw):
        o = H2HealthOrigin(name, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture
def grpc_servers():
    made = []

    def make(status=None):
        s = GrpcHealthServer(status)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate and key for the TLS origin."""
    if not OPENSSL:
        pytest.skip("needs the openssl CLI")
    d = tmp_path_factory.mktemp("h2health-pki")
    key, crt = str(d / "o.key"), str(d / "o.crt")
    p = subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=origin.test"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    return crt, key


def origin_of(port):
    return httpraw.request(port, "GET", "/x").header("X-Origin")


# ---- HTTP/2 checks ----------------------------------------------------------------------

def test_h2_check_down_after_fall_up_after_rise_traffic_avoids_it(gatehouse, h2_origins, port):
    """`proto h2` servers are checked over HTTP/2 without saying so; a 503
    from /healthz takes the server out after `fall` checks, a 200 brings it
    back after `rise`, and traffic follows."""
    a, b = h2_origins("a"), h2_origins("b")
    interval, fall, rise = 0.1, 2, 2
    g = gatehouse(config(port, backend("app", [("a", a.addr, "proto h2"),
                                               ("b", b.addr, "proto h2")],
                                       "health http /healthz interval 100ms timeout 1s "
                                       "fall 2 rise 2")))
    wait_for(lambda: b.checks >= 2 and a.checks >= 2, 2 * SLACK, 0.01, "h2 checks")
    # What a check sends: one HTTP/2 request, END_STREAM on its head.
    req = b.health_requests()[0]
    assert req == {":method": "GET", ":scheme": "http", ":authority": b.addr,
                   ":path": "/healthz", "user-agent": "gatehouse-health"}, req
    assert not a.errors and not b.errors, (a.errors, b.errors)
    assert {origin_of(port) for _ in range(6)} == {"a", "b"}

    b.health = 503
    t0 = time.time()
    down = wait_log(g, r"server app/b DOWN: ", 2 * SLACK)
    assert "[warn] server app/b DOWN: 2 failed checks, last: status 503, expected 200-399" \
        in down, down
    # `fall` checks after the switch, plus at most one interval for the
    # check already in flight when it happened
    assert log_time(down) - t0 <= interval * (fall + 1) + 0.15 * SLACK
    with Load(port, n=2, target="/x") as load:
        time.sleep(0.5)
        b.health = 200
        t_back = time.time()
        up = wait_log(g, r"server app/b UP: ", 2 * SLACK)
        t_up = log_time(up)
        time.sleep(0.6)
    assert "[info] server app/b UP: 2 successful checks" in up, up
    assert t_up - t_back <= interval * (rise + 1) + 0.15 * SLACK
    assert not load.failures(), load.failures()[:5]
    # nothing for b while it was DOWN, a fair share once it is UP again
    during = [r for r in load.results if log_time(down) + 0.05 < r[0] < t_up - 0.05]
    assert len(during) > 20 and all(r[1] == "a" for r in during), during[:5]
    assert b.hits_between(log_time(down) + 0.05, t_up - 0.05) == 0
    share, n = load.share("b", t_up + 0.1, t_up + 0.6)
    assert n > 20 and share > 0.3, (share, n)
    # every check got its own connection and a verdict: none left hanging
    assert not b.errors, b.errors


def test_h2_check_over_tls_offers_alpn_h2(gatehouse, h2_origins, port, cert):
    """Over TLS the check negotiates h2 by ALPN: for `proto h2` servers, and
    for `proto h1` servers whose health line says `proto h2` (the check
    offers what it speaks, not what the traffic does)."""
    crt, key = cert
    o = h2_origins("t", certfile=crt, keyfile=key)
    g = gatehouse(config(
        port,
        backend("app", [("t", o.addr, "proto h2 tls verify none")],
                "health http /healthz interval 150ms timeout 1s fall 2 rise 1"),
        backend("other", [("t", o.addr, "tls verify none")],
                "health http /healthz host h1srv.test proto h2 interval 150ms timeout 1s "
                "fall 2 rise 1")))
    wait_for(lambda: {r[":authority"] for r in o.health_requests()} >= {o.addr, "h1srv.test"},
             2 * SLACK, 0.01, "checks from both backends")
    assert o.alpn and set(o.alpn) == {"h2"}, o.alpn
    assert {r[":scheme"] for r in o.health_requests()} == {"https"}
    assert not o.errors, o.errors
    o.health = 503
    wait_log(g, r"server app/t DOWN: 2 failed checks, last: status 503", 2 * SLACK)
    wait_log(g, r"server other/t DOWN: 2 failed checks, last: status 503", 2 * SLACK)
    o.health = 200
    wait_log(g, r"server app/t UP: 1 successful check", 2 * SLACK)
    wait_log(g, r"server other/t UP: 1 successful check", 2 * SLACK)
    assert set(o.alpn) == {"h2"}, o.alpn


def test_proto_on_the_health_line_decides_what_the_check_speaks(gatehouse, h2_origins, port):
    """`proto h1` on h2 servers: an HTTP/1.1 check, which an HTTP/2-only
    origin fails; `proto h2` on an HTTP/1.1 origin: the preface meets an
    HTTP/1.1 answer, which nghttp2 names."""
    o = h2_origins("o")
    h1 = CtlOrigin("h1")
    try:
        g = gatehouse(config(
            port,
            backend("app", [("o", o.addr, "proto h2")],
                    "health http /healthz proto h1 interval 100ms fall 2"),
            backend("plain", [("h1", h1.addr, "")],
                    "health http /healthz proto h2 interval 100ms fall 2")))
        down = wait_log(g, r"server app/o DOWN: ", 2 * SLACK)
        assert re.search(r"DOWN: 2 failed checks, last: (invalid response \(not HTTP/1\.x\)|"
                         r"connection closed without a response|connection reset)", down), down
        wait_for(lambda: o.errors, 2 * SLACK, 0.01, "the origin's protocol error")
        assert "GET /healthz HTTP/1.1" in o.errors[0], o.errors
        assert not o.health_requests()
        down = wait_log(g, r"server plain/h1 DOWN: ", 2 * SLACK)
        assert ("DOWN: 2 failed checks, last: HTTP/2 protocol error: Remote peer returned "
                "unexpected data while we expected SETTINGS frame.") in down, down
        assert h1.checks == 0     # no HTTP/1.1 request for /healthz ever reached it
    finally:
        h1.close()


def test_h2_check_timeout(gatehouse, port):
    """A server that accepts and never answers: the timeout is the verdict."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    try:
        addr = "127.0.0.1:%d" % ls.getsockname()[1]
        g = gatehouse(config(port, backend("app", [("s", addr, "proto h2")],
                                           "health http /healthz interval 200ms timeout 150ms "
                                           "fall 1")))
        down = wait_log(g, r"server app/s DOWN: ", 2 * SLACK)
        assert "DOWN: 1 failed check, last: response timeout (150ms)" in down, down
    finally:
        ls.close()


# ---- gRPC ----------------------------------------------------------------------------------

def test_grpc_serving_not_serving_and_unknown_service(gatehouse, grpc_servers, port):
    s = grpc_servers({"": SERVING, "app.v1.Api": SERVING})
    interval, fall, rise = 0.1, 2, 2
    g = gatehouse(config(
        port,
        backend("app", [("g1", s.addr, "proto h2")],
                "health grpc service app.v1.Api interval 100ms timeout 1s fall 2 rise 2"),
        backend("whole", [("g1", s.addr, "proto h2")],
                "health grpc interval 100ms timeout 1s fall 2 rise 2")))
    wait_for(lambda: s.seen.count("app.v1.Api") >= 2 and s.seen.count("") >= 2, 3 * SLACK,
             0.01, "grpc checks of both backends")
    # `service` went in the request; without it, the empty name (the server
    # as a whole)
    assert set(s.seen) == {"app.v1.Api", ""}, s.seen
    assert all("gatehouse-health" in m.get("user-agent", "") for m in s.metadata), s.metadata
    assert httpraw.request(port, "GET", "/x").status != 503    # UP: traffic gets through

    s.status["app.v1.Api"] = NOT_SERVING
    t0 = time.time()
    down = wait_log(g, r"server app/g1 DOWN: ", 2 * SLACK)
    assert "[warn] server app/g1 DOWN: 2 failed checks, last: grpc status NOT_SERVING" in down
    assert log_time(down) - t0 <= interval * (fall + 1) + 0.15 * SLACK
    r = httpraw.request(port, "GET", "/x")
    assert r.status == 503, r.status          # its only server is DOWN

    s.status["app.v1.Api"] = SERVING
    t0 = time.time()
    up = wait_log(g, r"server app/g1 UP: ", 2 * SLACK)
    assert "[info] server app/g1 UP: 2 successful checks" in up
    assert log_time(up) - t0 <= interval * (rise + 1) + 0.15 * SLACK

    del s.status["app.v1.Api"]                # the server aborts with NOT_FOUND
    down = wait_for(lambda: log_lines(g, r"server app/g1 DOWN: ")[1:], 2 * SLACK, 0.01,
                    "second DOWN")[0]
    assert ("server app/g1 DOWN: 2 failed checks, last: grpc-status 5 (NOT_FOUND): unknown "
            "service app.v1.Api") in down, down

    s.status[""] = NOT_SERVING
    down = wait_log(g, r"server whole/g1 DOWN: ", 2 * SLACK)
    assert "DOWN: 2 failed checks, last: grpc status NOT_SERVING" in down
    # the whole-server backend was UP all along until then
    assert not log_lines(g, r"server whole/g1 (DOWN|UP)")[1:]


def test_grpc_server_gone(gatehouse, grpc_servers, port):
    """A gRPC server that stops: refused connects, then back when it is."""
    s = grpc_servers()
    g = gatehouse(config(port, backend("app", [("g1", s.addr, "proto h2")],
                                       "health grpc interval 100ms fall 2 rise 1")))
    wait_for(lambda: s.calls() >= 2, 3 * SLACK, 0.01, "grpc checks")
    s.close()
    down = wait_log(g, r"server app/g1 DOWN: ", 3 * SLACK)
    assert re.search(r"DOWN: 2 failed checks, last: (connect refused|connection reset|"
                     r"server sent GOAWAY|connection closed)", down), down


# ---- configuration (gatehouse -t) -------------------------------------------------------

def check_conf(tmp_path, text):
    f = tmp_path / "t.conf"
    f.write_text(text)
    p = run_cli(["-t", "-c", str(f)])
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace"), str(f)


# lines 1-4 global, 5-9 frontend, 10 backend, 11 mode, 12 balance, 13 server, 14 health
BAD = [
    ("grpc_on_h1_servers", "", "health grpc service x", 14, 12,
     "health grpc needs servers that speak HTTP/2, but server 'a' of backend 'app' speaks h1"),
    ("proto_h3", "proto h2", "health http /healthz proto h3", 14, 32,
     "unknown health check proto 'h3'; expected h1 or h2"),
    ("grpc_expect", "proto h2", "health grpc expect 200", 14, 17,
     "unknown health grpc option 'expect'; expected one of: interval, timeout, rise, fall, "
     "service, host"),
    ("grpc_bad_service", "proto h2", 'health grpc service "a b"', 14, 25,
     "invalid gRPC service name 'a b'"),
    ("grpc_interval_0", "proto h2", "health grpc interval 0ms", 14, 26,
     "health interval must be more than 0"),
]


@pytest.mark.parametrize("name,srv,health,line,col,words", BAD, ids=[b[0] for b in BAD])
def test_check_rejects(tmp_path, name, srv, health, line, col, words):
    text = config(8080, backend("app", [("a", "127.0.0.1:9001", srv)], health))
    rc, out, path = check_conf(tmp_path, text)
    assert rc != 0, out
    assert "%s:%d:%d: error: %s" % (path, line, col, words) in out, out


def test_check_accepts(tmp_path):
    text = config(8080,
                  backend("app", [("a", "127.0.0.1:9001", "proto h2")],
                          "health grpc service my.pkg.Api host api.test interval 150ms"),
                  backend("b", [("a", "127.0.0.1:9002", "proto h2")],
                          "health http HEAD /ready proto h1 expect 204"))
    rc, out, _ = check_conf(tmp_path, text)
    assert rc == 0 and "configuration OK" in out, out
