"""/metrics on the admin listener (issue 12): the Prometheus text format
0.0.4, parsed strictly, and its numbers checked against traffic sent
through real sockets: N 200s and M 404s from an origin, a 502 from a dead
server, a request denied by a rule, one refused by a rate limit, over two
workers (counters are per worker and summed on scrape).
"""

import math
import os
import re
import signal
import socket

import pytest

import ghutil
import httpraw
from ghutil import free_port, wait_for
from h2util import H2Client
from test_tls import curl, pki, sclient, tls_config  # noqa: F401 (pki: a fixture)

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the admin listener is gatehouse's own")

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?\})? (\S+)$" % (_NAME, _LABEL, _LABEL))
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_exposition(text):
    """Parses text format 0.0.4 strictly.  Returns (types, samples):
    types {family: type}, samples {(name, frozenset(labels)): float}.
    Fails on anything the format does not allow or Prometheus would
    reject: a sample before its TYPE, a TYPE twice, a duplicate series,
    a histogram without +Inf or with buckets that go down, +Inf != count."""
    assert text.endswith("\n"), "exposition must end with a newline"
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        assert line, "empty line %d" % n
        if line.startswith("# HELP "):
            name, _, h = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name) and name not in helps, line
            helps[name] = h
            continue
        if line.startswith("# TYPE "):
            name, _, t = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name), line
            assert name not in types, "TYPE twice for %s" % name
            assert t in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = t
            continue
        assert not line.startswith("#"), "unexpected comment %r" % line
        m = _SAMPLE.match(line)
        assert m, "malformed sample line %d: %r" % (n, line)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name.endswith(suf) and types.get(name[: -len(suf)]) == "histogram":
                fam = name[: -len(suf)]
        assert fam in types, "sample %s before its TYPE" % name
        if types[fam] == "counter":
            assert name.endswith("_total"), "counter %s without _total" % name
        lbl = dict(_LABEL_RE.findall(labels))
        assert len(lbl) == len(_LABEL_RE.findall(labels)), "label twice in %r" % line
        key = (name, frozenset(lbl.items()))
        assert key not in samples, "duplicate series %r" % line
        v = float(value)
        assert not math.isnan(v)
        if types[fam] == "counter" or name.endswith(("_bucket", "_count")):
            assert v >= 0 and v == int(v), line
        samples[key] = v
    for fam, t in types.items():
        assert fam in helps, "no HELP for %s" % fam
        if t == "histogram":
            check_histograms(fam, samples)
    return types, samples


def check_histograms(fam, samples):
    series = {}
    for (name, lbl), v in samples.items():
        if name == fam + "_bucket":
            d = dict(lbl)
            le = d.pop("le")
            series.setdefault(frozenset(d.items()), []).append((le, v))
    for lbl, buckets in series.items():
        les = [(math.inf if le == "+Inf" else float(le), v) for le, v in buckets]
        les.sort()
        assert les[-1][0] == math.inf, "%s %s: no +Inf bucket" % (fam, dict(lbl))
        counts = [v for _, v in les]
        assert counts == sorted(counts), "%s %s: buckets go down: %r" % (fam, dict(lbl), les)
        assert samples[(fam + "_count", lbl)] == les[-1][1], "%s: +Inf != count" % fam
        assert (fam + "_sum", lbl) in samples


def admin_get(port, path="/metrics", token=None, method="GET"):
    hdrs = [("Authorization", "Bearer " + token)] if token else []
    return httpraw.request(port, method, path, hdrs)


def scrape(port, token=None):
    r = admin_get(port, token=token)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    return parse_exposition(r.body.decode())


def scrape_when(port, name, labels, want, token=None):
    """A scrape once series name{labels} summed over its other labels
    reaches want: a client has its answer a moment before the request's
    end phase counts it (on another worker, maybe), so the numbers are
    read once the last request is in, then checked exactly."""
    got = {}

    def settled():
        got["s"] = scrape(port, token)[1]
        total = sum(v for (n, ls), v in got["s"].items()
                    if n == name and set(labels.items()) <= ls)
        return total >= want
    wait_for(settled, 5 * ghutil.SLACK, 0.05, "%s%r reaching %d" % (name, labels, want))
    return got["s"]


def val(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in samples, "no series %s%r" % (name, labels)
    return samples[key]


CONFIG = """
global {{
    workers 2
    timeout drain 2s
    admin 127.0.0.1:{admin}
}}
limit per_ip {{
    key src
    rate 1/m
    burst 1
}}
frontend web {{
    bind 127.0.0.1:{port}
    http_request deny if path prefix /deny
    http_request limit per_ip if path prefix /limited
    use_backend dead if path prefix /dead
    default_backend app
}}
backend app {{
    server s1 {origin}
}}
backend dead {{
    retries 1
    server gone 127.0.0.1:{dead}
}}
"""


def start(gatehouse, origin, port):
    admin = free_port()
    g = gatehouse(CONFIG.format(admin=admin, port=port, origin=origin.addr, dead=free_port()))
    return g, admin


def test_numbers_match_the_traffic(gatehouse, origin, port):
    g, admin = start(gatehouse, origin, port)
    N, M = 7, 3
    for i in range(N):
        assert httpraw.request(port, "GET", "/ok/%d" % i).status == 200
    for i in range(M):
        assert httpraw.request(port, "GET", "/status/404").status == 404
    assert httpraw.request(port, "GET", "/dead/x").status == 502
    assert httpraw.request(port, "GET", "/deny/x").status == 403
    assert httpraw.request(port, "GET", "/limited").status == 200
    assert httpraw.request(port, "GET", "/limited").status == 429

    types, _ = scrape(admin)
    fe = dict(frontend="web")
    scrape_when(admin, "gatehouse_frontend_requests_total", fe, N + M + 4)
    s = scrape_when(admin, "gatehouse_backend_request_duration_seconds_count",
                    dict(backend="app"), N + M + 1)
    assert val(s, "gatehouse_frontend_requests_total", code="2xx", **fe) == N + 1
    assert val(s, "gatehouse_frontend_requests_total", code="4xx", **fe) == M + 2
    assert val(s, "gatehouse_frontend_requests_total", code="5xx", **fe) == 1
    assert val(s, "gatehouse_frontend_requests_total", code="3xx", **fe) == 0
    assert val(s, "gatehouse_frontend_connections_total", **fe) == N + M + 4
    assert val(s, "gatehouse_rule_denials_total", **fe) == 1
    assert val(s, "gatehouse_rate_limited_total", kind="rate", **fe) == 1
    assert val(s, "gatehouse_frontend_terminations_total", cause="connect-error", **fe) == 1

    assert val(s, "gatehouse_backend_requests_total", backend="app", code="2xx") == N + 1
    assert val(s, "gatehouse_backend_requests_total", backend="app", code="4xx") == M
    assert val(s, "gatehouse_backend_requests_total", backend="app", code="5xx") == 0
    assert val(s, "gatehouse_backend_requests_total", backend="dead", code="5xx") == 1
    assert val(s, "gatehouse_backend_retries_total", backend="dead") == 1
    assert val(s, "gatehouse_server_requests_total", backend="app", server="s1",
               code="2xx") == N + 1
    assert val(s, "gatehouse_server_requests_total", backend="app", server="s1",
               code="4xx") == M
    assert val(s, "gatehouse_server_requests_total", backend="dead", server="gone",
               code="5xx") == 1
    assert val(s, "gatehouse_server_failures_total", backend="dead", server="gone") >= 1

    assert types["gatehouse_backend_request_duration_seconds"] == "histogram"
    assert val(s, "gatehouse_backend_request_duration_seconds_count", backend="app") == N + M + 1
    assert val(s, "gatehouse_backend_ttfb_seconds_count", backend="app") == N + M + 1
    assert val(s, "gatehouse_backend_request_duration_seconds_bucket", backend="app",
               le="+Inf") == N + M + 1
    assert val(s, "gatehouse_backend_request_duration_seconds_sum", backend="app") > 0
    assert val(s, "gatehouse_server_request_duration_seconds_count", backend="app",
               server="s1") == N + M + 1
    # the dead server never sent a first byte
    assert val(s, "gatehouse_backend_ttfb_seconds_count", backend="dead") == 0

    assert val(s, "gatehouse_limit_requests_total", limit="per_ip", verdict="passed") == 1
    assert val(s, "gatehouse_limit_requests_total", limit="per_ip", verdict="refused_rate") == 1

    # bytes: the frontend saw every byte the backends' requests did, and more
    assert val(s, "gatehouse_frontend_bytes_out_total", **fe) >= \
        val(s, "gatehouse_backend_bytes_out_total", backend="app") > 0
    assert val(s, "gatehouse_frontend_bytes_in_total", **fe) > \
        val(s, "gatehouse_backend_bytes_in_total", backend="app") > 0

    assert val(s, "gatehouse_server_up", backend="app", server="s1") == 1
    assert val(s, "gatehouse_server_weight", backend="app", server="s1") == 1
    assert val(s, "gatehouse_server_in_flight", backend="app", server="s1") == 0
    assert val(s, "gatehouse_backend_queue_depth", backend="app") == 0

    # a second scrape counts nothing new: the admin listener is not traffic
    _, s2 = scrape(admin)
    assert val(s2, "gatehouse_frontend_requests_total", code="2xx", **fe) == N + 1


def test_connection_gauges_active_and_idle(gatehouse, origin, port):
    g, admin = start(gatehouse, origin, port)
    conns = [httpraw.connect(port) for _ in range(3)]
    try:
        # one keep-alive connection after a request (idle), two that have
        # sent nothing yet (waiting for a request: active)
        conns[0].sendall(httpraw.build_request("GET", "/", []))
        r = httpraw.Reader(conns[0]).read_response("GET")
        assert r.status == 200

        def gauges():
            _, s = scrape(admin)
            return (val(s, "gatehouse_frontend_connections", frontend="web", state="active"),
                    val(s, "gatehouse_frontend_connections", frontend="web", state="idle"))
        wait_for(lambda: gauges() == (2, 1), 5 * ghutil.SLACK, 0.05, "2 active, 1 idle")
    finally:
        for c in conns:
            c.close()
    wait_for(lambda: gauges() == (0, 0), 5 * ghutil.SLACK, 0.05, "no connection left")


def test_http2_streams_counted(gatehouse, origin, port):
    g, admin = start(gatehouse, origin, port)
    with H2Client(port) as c:
        for _ in range(3):
            assert c.get("/echo").status == 200
    s = scrape_when(admin, "gatehouse_frontend_requests_total", {"frontend": "web"}, 3)
    assert val(s, "gatehouse_h2_streams_total", frontend="web") == 3
    assert val(s, "gatehouse_frontend_requests_total", frontend="web", code="2xx") == 3


def test_metrics_method_and_head(gatehouse, origin, port):
    g, admin = start(gatehouse, origin, port)
    r = admin_get(admin, method="POST")
    assert r.status == 405 and r.json()["status"] == 405
    r = httpraw.request(admin, "HEAD", "/metrics")
    assert r.status == 200 and r.body == b"" and int(r.header("Content-Length")) > 0


def listening_ports_of(pid):
    """Ports the process listens on (its socket inodes in /proc/net/tcp)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            t = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            inodes.add(t[8:-1])
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(f) as fh:
            next(fh)
            for line in fh:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in inodes:
                    ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def test_admin_listens_only_when_configured(gatehouse, origin, port):
    g, admin = start(gatehouse, origin, port)
    assert listening_ports_of(g.pid) == {port, admin}
    port2 = free_port()
    g2 = gatehouse(ghutil.simple_http_config(port2, [origin.addr]))
    assert httpraw.request(port2, "GET", "/").status == 200
    assert listening_ports_of(g2.pid) == {port2}


def test_tls_handshakes_counted(gatehouse, origin, port, pki):
    """Finished handshakes, and one begun and refused (TLS 1.1)."""
    admin = free_port()
    gatehouse(tls_config(port, [origin.addr], pki, global_extra="admin 127.0.0.1:%d" % admin))
    for _ in range(2):
        rc, status, _ = curl(port, pki, "/echo")
        assert rc == 0 and status == 200
    rc, out = sclient(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert rc != 0

    def counts():
        _, s = scrape(admin)
        return (val(s, "gatehouse_tls_handshakes_total", side="frontend", result="ok"),
                val(s, "gatehouse_tls_handshakes_total", side="frontend", result="failed"))
    # a failure is counted when its connection closes
    wait_for(lambda: counts() == (2, 1), 5 * ghutil.SLACK, 0.05, "2 ok, 1 failed")
    _, s = scrape(admin)
    assert val(s, "gatehouse_frontend_requests_total", frontend="web", code="2xx") == 2


def test_tcp_frontend_counts_connections(gatehouse, make_echo, port):
    echo = make_echo()
    admin = free_port()
    gatehouse(ghutil.simple_http_config(port, [echo.addr], mode="tcp",
                                        global_extra="admin 127.0.0.1:%d" % admin))
    socks = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
        socks.append(s)

    def conns():
        _, s = scrape(admin)
        return (val(s, "gatehouse_frontend_connections_total", frontend="web"),
                val(s, "gatehouse_frontend_connections", frontend="web", state="active"))
    wait_for(lambda: conns() == (2, 2), 5 * ghutil.SLACK, 0.05, "2 open")
    for s in socks:
        s.close()
    wait_for(lambda: conns() == (2, 0), 5 * ghutil.SLACK, 0.05, "closed")
    _, s = scrape(admin)
    # no request series for a TCP frontend
    assert ("gatehouse_frontend_requests_total",
            frozenset({"frontend": "web", "code": "2xx"}.items())) not in s


def test_counters_survive_sighup(gatehouse, origin, port):
    """SIGHUP (a configuration reload once the reload is in the tree): the
    counters of names that stay keep counting from where they were, and
    the reload is counted."""
    g, admin = start(gatehouse, origin, port)
    for _ in range(3):
        assert httpraw.request(port, "GET", "/").status == 200
    _, before = scrape(admin)
    g.signal(signal.SIGHUP)
    reloads = ("gatehouse_config_reloads_total", frozenset({"result": "ok"}.items()))
    if reloads in before:
        wait_for(lambda: scrape(admin)[1][reloads] == before[reloads] + 1, 10 * ghutil.SLACK,
                 0.05, "the reload counted")
    else:
        wait_for(lambda: re.search(r"SIGHUP|configuration reloaded", g.stderr_text()),
                 5 * ghutil.SLACK, 0.05, "SIGHUP seen")
    for _ in range(2):
        assert httpraw.request(port, "GET", "/").status == 200
    s = scrape_when(admin, "gatehouse_frontend_requests_total", {"frontend": "web"}, 5)
    assert val(s, "gatehouse_frontend_requests_total", frontend="web", code="2xx") == 5
    assert val(s, "gatehouse_server_requests_total", backend="app", server="s1", code="2xx") == 5
    assert val(s, "gatehouse_backend_request_duration_seconds_count", backend="app") == 5
