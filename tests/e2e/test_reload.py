"""Hot reload (issue 12): SIGHUP and `gatehouse -s reload` re-read the
configuration; a file with errors is refused and the running one keeps
serving; a good one takes effect for every new request while requests in
flight, tunnels and the listening sockets that stay are untouched, and
keep-alive connections move at their next request.  Runtime state of the
servers (health) and rate-limit counters carry over.  Every reload asked
for is applied, in order, and logged with its generation number."""

import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import ghutil
import httpraw
from ghutil import SLACK, listening_ports, wait_for
from reloadutil import (KeepAlive, Load, reload, reloaded_generations, wait_outcome, ws_echo,
                        ws_open)

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="gatehouse reload behaviour")


def conf(ports, backend="a", servers=None, extra_global="", extra_be="", extra_fe="",
         extra="", workers=2):
    """frontend web on ports, backends a (o1) and b (o2) unless servers says."""
    servers = servers or {}
    text = "global {\n    workers %d\n    timeout drain 5s\n%s}\n" % (workers, extra_global)
    text += "frontend web {\n"
    for p in ports:
        text += "    bind 127.0.0.1:%d\n" % p
    text += "    timeout client 30s\n%s    default_backend %s\n}\n" % (extra_fe, backend)
    for name, addrs in servers.items():
        text += "backend %s {\n    retries 0\n%s" % (name, extra_be)
        for i, a in enumerate(addrs):
            text += "    server s%d %s\n" % (i + 1, a)
        text += "}\n"
    return text + extra


def two(o1, o2):
    return {"a": [o1.addr], "b": [o2.addr]}


def test_reload_changes_routing_keepalive_moves_without_close(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    c = KeepAlive(port)
    try:
        assert c.get().header("x-origin") == "o1"
        assert reload(g, conf([port], "b", two(o1, o2))) == 2
        # The same connection, not closed: its next request is generation 2's.
        r = c.get()
        assert r.header("x-origin") == "o2"
        assert (r.header("connection") or "").lower() != "close"
        assert httpraw.request(port).header("x-origin") == "o2"
        assert reload(g, conf([port], "a", two(o1, o2))) == 3
        assert c.get().header("x-origin") == "o1"
    finally:
        c.close()
    # A single connection was used for the three requests.
    assert o1.stats.accepts >= 1 and o2.stats.accepts >= 1


def test_bad_config_refused_old_keeps_serving(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    good = conf([port], "a", two(o1, o2))
    g = gatehouse(good)
    bad = good.replace("default_backend a", "default_backend nosuch") + "oops {\n"
    assert reload(g, bad) is None
    t = g.stderr_text()
    assert "reload refused" in t and "nosuch" in t, t[-2000:]
    assert "configuration reload failed; generation 1 keeps serving" in t
    for _ in range(5):
        assert httpraw.request(port).header("x-origin") == "o1"
    # A file that parses but cannot be applied (its new bind is taken) is
    # refused as well, and nothing of it is half applied.
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        taken = busy.getsockname()[1]
        assert reload(g, conf([port, taken], "b", two(o1, o2))) is None
        assert "cannot listen on 127.0.0.1:%d" % taken in g.stderr_text()
        assert httpraw.request(port).header("x-origin") == "o1"
    finally:
        busy.close()
    # Fixed: generation 2 (refused files take no number).
    assert reload(g, conf([port], "b", two(o1, o2))) == 2
    assert httpraw.request(port).header("x-origin") == "o2"


def test_listeners_added_removed_kept(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    p2 = ghutil.free_port()
    g = gatehouse(conf([port], "a", two(o1, o2)))
    held = KeepAlive(port)
    try:
        assert held.get().status == 200
        assert reload(g, conf([port, p2], "a", two(o1, o2))) == 2
        wait_for(lambda: p2 in listening_ports(), 5 * SLACK, what="the new bind")
        assert httpraw.request(p2).status == 200
        # The kept listener never closed: the held connection still works,
        # and fresh connections to it are accepted.
        assert held.get().status == 200
        assert httpraw.request(port).status == 200
        # Remove the first bind: no longer listening; the connection that
        # came in on it gets its next answer, then is closed (its bind is gone).
        assert reload(g, conf([p2], "b", two(o1, o2))) == 3
        wait_for(lambda: port not in listening_ports(), 5 * SLACK, what="the removed bind to close")
        with pytest.raises(OSError):
            httpraw.request(port, timeout=2)
        r = held.get()
        assert r.status == 200 and r.header("x-origin") == "o1"  # it stays on generation 2
        assert (r.header("connection") or "").lower() == "close"
        assert httpraw.request(p2).header("x-origin") == "o2"
    finally:
        held.close()
    g.ports = [p2]


def test_inflight_request_finishes_under_its_generation(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    c = KeepAlive(port)
    res = {}

    def slow():
        res["r"] = c.get("/delay/%d" % int(1500 * SLACK))
    t = threading.Thread(target=slow)
    t.start()
    wait_for(lambda: o1.stats.delaying == 1, 5 * SLACK, what="the slow request at o1")
    assert reload(g, conf([port], "b", two(o1, o2))) == 2
    t.join(30)
    try:
        assert res["r"].status == 200 and res["r"].header("x-origin") == "o1"
        assert c.get().header("x-origin") == "o2"
    finally:
        c.close()
    # generation 1 is released once that request is done
    wait_for(lambda: "configuration generation 1 released" in g.stderr_text(), 5 * SLACK,
             what="generation 1 released")


def test_websocket_keeps_echoing_across_reloads(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    s, rd = ws_open(port)
    try:
        for i in range(3):
            assert ws_echo(s, rd, b"before %d" % i) == b"before %d" % i
            assert reload(g, conf([port], "b" if i % 2 == 0 else "a", two(o1, o2))) == i + 2
        assert ws_echo(s, rd, b"after") == b"after"
    finally:
        s.close()
    assert o2.stats.accepts == 0    # the tunnel stayed with o1


def test_tcp_tunnel_survives_reload(gatehouse, make_echo, port):
    e1, e2 = make_echo("e1"), make_echo("e2")
    text = lambda a: ("global {\n    workers 2\n    timeout drain 5s\n}\n"
                      "frontend t {\n    bind 127.0.0.1:%d\n    mode tcp\n    default_backend be\n}\n"
                      "backend be {\n    mode tcp\n    server s1 %s\n}\n" % (port, a))
    g = gatehouse(text(e1.addr))
    s = httpraw.connect(port)
    try:
        s.sendall(b"ping1")
        assert s.recv(100) == b"ping1"
        assert reload(g, text(e2.addr)) == 2
        s.sendall(b"ping2")
        assert s.recv(100) == b"ping2"
    finally:
        s.close()


def test_health_state_carries_over(gatehouse, origin, port):
    """A server found DOWN stays DOWN across a reload (no request reaches
    it), and still comes back UP after `rise` good checks."""
    dead = ghutil.free_port()
    hc = "    health http GET /status/200 interval 100ms fall 2 rise 2\n"
    text = conf([port], "a", {"a": [origin.addr, "127.0.0.1:%d" % dead]}, extra_be=hc)
    g = gatehouse(text)
    wait_for(lambda: "a/s2" in g.stderr_text() and "DOWN" in g.stderr_text(), 10 * SLACK,
             what="s2 DOWN")
    assert reload(g, text + "# touched\n") == 2
    # retries 0: a request sent to the dead server would be a 502
    for _ in range(20):
        assert httpraw.request(port).status == 200
    assert g.stderr_text().count("a/s2") >= 1
    # it comes back: the new health thread knew it was DOWN and counts rise
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", dead))
    srv.listen(16)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                cs, _ = srv.accept()
            except OSError:
                continue
            try:
                cs.settimeout(2)
                cs.recv(4096)
                cs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            cs.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        wait_for(lambda: any("a/s2" in ln and " UP" in ln for ln in g.stderr_text().splitlines()),
                 10 * SLACK, what="s2 UP again")
    finally:
        stop.set()
        t.join(5)
        srv.close()


LIMIT = "limit per_ip {\n    key src\n    rate %s\n    burst 5\n}\n"


def test_rate_limit_counters_carry_over(gatehouse, origin, port):
    fe = "    http_request limit per_ip\n"
    text = conf([port], "a", {"a": [origin.addr]}, extra_fe=fe, extra=LIMIT % "1/m")
    g = gatehouse(text)
    for _ in range(5):
        assert httpraw.request(port).status == 200
    assert httpraw.request(port).status == 429
    # same limit: the counters survive
    assert reload(g, text + "# touched\n") == 2
    assert httpraw.request(port).status == 429
    # changed rate: a new table, counters start afresh
    assert reload(g, conf([port], "a", {"a": [origin.addr]}, extra_fe=fe,
                          extra=LIMIT % "2/m")) == 3
    assert httpraw.request(port).status == 200


def test_pidfile_and_signal_commands(gatehouse, origin, port, tmp_path):
    pidfile = str(tmp_path / "gh.pid")
    text = conf([port], "a", {"a": [origin.addr]}, extra_global="    pidfile %s\n" % pidfile)
    g = gatehouse(text)
    wait_for(lambda: os.path.exists(pidfile), 5 * SLACK, what="the pidfile")
    assert open(pidfile).read().strip() == str(g.pid)
    before = g.stderr_text().count("reloading ")
    r = ghutil.run_cli(["-c", g.conf_path, "-s", "reload"])
    assert r.returncode == 0, r.stderr
    assert wait_outcome(g, before) == 2
    # a broken file still finds the process (and is refused by it)
    with open(g.conf_path, "a") as f:
        f.write("broken {\n")
    before = g.stderr_text().count("reloading ")
    r = ghutil.run_cli(["-c", g.conf_path, "-s", "reload"])
    assert r.returncode == 0, r.stderr
    assert wait_outcome(g, before) is None
    assert httpraw.request(port).status == 200
    r = ghutil.run_cli(["-c", g.conf_path, "-s", "bogus"])
    assert r.returncode == 2
    r = ghutil.run_cli(["-c", g.conf_path, "-s", "stop"])
    assert r.returncode == 0, r.stderr
    g.stopped_by_test = True
    assert g.proc.wait(20 * SLACK) == 0
    assert not os.path.exists(pidfile)
    r = ghutil.run_cli(["-c", g.conf_path, "-s", "reload"])
    assert r.returncode == 1 and b"pidfile" in r.stderr


def sighup_pending(pid):
    """Whether a SIGHUP waits, unread, in the process's shared pending set."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("ShdPnd:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    return False


def test_reloads_faster_than_they_apply_are_all_applied(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    for i in range(10):
        g.signal(signal.SIGHUP)
        # The kernel keeps one SIGHUP pending, so two sent before the first
        # is read are one reload (documented; -s reload queues instead).
        # Each is read before the next is sent, still well before the
        # reloads behind it are applied.
        wait_for(lambda: not sighup_pending(g.pid), 10 * SLACK, what="SIGHUP read")
        time.sleep(0.02)
    wait_for(lambda: len(reloaded_generations(g)) == 10, 20 * SLACK, what="10 reloads applied")
    assert reloaded_generations(g) == list(range(2, 12))


def test_reload_under_load(gatehouse, make_origin, port):
    """The issue's test: keep-alive load, slow requests in flight and open
    WebSockets while 20 reloads run 0.5 s apart, one of them a broken
    file: zero failed requests, every tunnel still echoing, all 20 applied
    or refused in order."""
    o1, o2 = make_origin("o1"), make_origin("o2")
    good = [conf([port], "a", two(o1, o2)), conf([port], "b", two(o1, o2))]
    g = gatehouse(good[0])
    wss = [ws_open(port) for _ in range(3)]
    with Load(port, threads=4, slow=2) as load:
        time.sleep(0.5)
        gens = []
        for i in range(20):
            text = good[i % 2] if i != 10 else good[0] + "broken {\n"
            gens.append(reload(g, text))
            for k, (s, rd) in enumerate(wss):
                assert ws_echo(s, rd, b"ws%d-%d" % (k, i)) == b"ws%d-%d" % (k, i)
            time.sleep(0.5)
        time.sleep(1)
    assert load.failures == [], load.failures[:10]
    assert load.ok > 100 and load.slow_ok > 5, (load.ok, load.slow_ok)
    assert gens[10] is None
    assert [x for x in gens if x is not None] == list(range(2, 21))
    assert load.origins.get("o1", 0) > 0 and load.origins.get("o2", 0) > 0
    for s, rd in wss:
        assert ws_echo(s, rd, b"end") == b"end"
        s.close()
    assert "reload refused" in g.stderr_text()


def test_systemd_notify(gatehouse, origin, port, tmp_path):
    path = str(tmp_path / "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(10 * SLACK)
    os.environ["NOTIFY_SOCKET"] = path
    try:
        g = gatehouse(conf([port], "a", {"a": [origin.addr]}))
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        msgs = [ns.recv(4096).decode()]
        assert "READY=1" in msgs[0] and "MAINPID=%d" % g.pid in msgs[0]
        assert reload(g) == 2
        m1, m2 = ns.recv(4096).decode(), ns.recv(4096).decode()
        assert "RELOADING=1" in m1 and "MONOTONIC_USEC=" in m1
        usec = int(m1.split("MONOTONIC_USEC=")[1].split("\n")[0])
        assert abs(usec / 1e6 - time.monotonic()) < 60
        assert "READY=1" in m2 and "generation 2" in m2
        g.stop()
        assert "STOPPING=1" in ns.recv(4096).decode()
    finally:
        ns.close()


def test_h2_connection_follows_at_its_next_stream(gatehouse, make_origin, port):
    from h2util import H2Client
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    with H2Client(port) as c:
        c.wait_settings()
        assert c.get("/x").header("x-origin") == "o1"
        assert reload(g, conf([port], "b", two(o1, o2))) == 2
        r = c.get("/y")
        assert r.status == 200 and r.header("x-origin") == "o2"
        assert c.goaway is None


def test_reload_under_wrk(gatehouse, make_origin, port):
    """The same with wrk at full speed for the keep-alive load."""
    from reloadutil import Wrk
    o1, o2 = make_origin("o1"), make_origin("o2")
    good = [conf([port], "a", two(o1, o2)), conf([port], "b", two(o1, o2))]
    g = gatehouse(good[0])
    wss = [ws_open(port) for _ in range(2)]
    w = Wrk(port, seconds=int(13 * SLACK))
    try:
        with Load(port, threads=0, slow=2) as load:
            time.sleep(1)
            gens = []
            for i in range(20):
                gens.append(reload(g, good[i % 2] if i != 7 else "broken {\n"))
                for k, (s, rd) in enumerate(wss):
                    assert ws_echo(s, rd, b"%d-%d" % (k, i)) == b"%d-%d" % (k, i)
                time.sleep(0.5)
        r = w.result()
    finally:
        w.kill()
    print(r["text"])    # pytest -s shows wrk's summary
    assert r["requests"] > 500, r["text"]
    assert r["socket_errors"] == [0, 0, 0, 0] and r["non2xx"] == 0, r["text"]
    assert load.failures == [] and load.slow_ok > 5, (load.failures[:5], load.slow_ok)
    assert [x for x in gens if x is not None] == list(range(2, 21)) and gens[7] is None
    for s, rd in wss:
        assert ws_echo(s, rd, b"end") == b"end"
        s.close()


def test_certificate_rotation(gatehouse, origin, port, tmp_path):
    """The usual reason to reload: a renewed certificate is served to new
    handshakes; a TLS keep-alive connection made before goes on."""
    from test_tls import Pki, sclient, subject_cn
    pki = Pki(tmp_path / "pki")
    pki.issue("old", "/CN=old.example.com", ["www.example.com"])
    pki.issue("new", "/CN=new.example.com", ["www.example.com"])

    def text(name):
        return ("global {\n    workers 2\n    timeout drain 5s\n}\n"
                "frontend web {\n    bind 127.0.0.1:%d tls cert %s\n    default_backend a\n}\n"
                "backend a {\n    server s1 %s\n}\n" % (port, pki.p(name + ".pem"), origin.addr))
    g = gatehouse(text("old"))
    assert subject_cn(sclient(port, "-servername", "www.example.com")[1]) == "old.example.com"
    import ssl
    ctx = ssl.create_default_context(cafile=pki.ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10 * SLACK)
    s = ctx.wrap_socket(raw, server_hostname="www.example.com")
    rd = httpraw.Reader(s)
    try:
        s.sendall(httpraw.build_request("GET", "/", []))
        assert rd.read_response("GET").status == 200
        assert reload(g, text("new")) == 2
        assert subject_cn(sclient(port, "-servername", "www.example.com")[1]) == "new.example.com"
        s.sendall(httpraw.build_request("GET", "/", []))
        assert rd.read_response("GET").status == 200
    finally:
        s.close()


def _unix_get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10 * SLACK)
    s.connect(path)
    s.sendall(httpraw.build_request("GET", "/", [("Connection", "close")]))
    try:
        return httpraw.Reader(s).read_response("GET")
    finally:
        s.close()


def test_unix_bind_kept_added_removed(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    d = "/tmp/ghr-%d-%d" % (os.getpid(), port)
    os.makedirs(d, exist_ok=True)
    a, b = d + "/a.sock", d + "/b.sock"
    try:
        def text(socks, be):
            return conf([port], be, two(o1, o2),
                        extra_fe="".join("    bind unix@%s\n" % p for p in socks))
        g = gatehouse(text([a], "a"))
        assert _unix_get(a).header("x-origin") == "o1"
        assert reload(g, text([a, b], "b")) == 2
        for _ in range(4):   # every worker's copy of the kept socket
            assert _unix_get(a).header("x-origin") == "o2"
        assert _unix_get(b).header("x-origin") == "o2"
        assert reload(g, text([b], "a")) == 3
        assert not os.path.exists(a)          # removed bind: its file goes too
        assert _unix_get(b).header("x-origin") == "o1"
    finally:
        for p in (a, b):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(d)


def test_idle_keepalive_does_not_pin_the_old_generation(gatehouse, make_origin, port):
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    conns = [KeepAlive(port) for _ in range(4)]
    try:
        for c in conns:
            assert c.get().header("x-origin") == "o1"
        assert reload(g, conf([port], "b", two(o1, o2))) == 2
        # idle connections moved at once: generation 1 goes while they stay open
        wait_for(lambda: "configuration generation 1 released" in g.stderr_text(), 5 * SLACK,
                 what="generation 1 released with idle keep-alive connections open")
        for c in conns:
            r = c.get()
            assert r.header("x-origin") == "o2"
            assert (r.header("connection") or "").lower() != "close"
    finally:
        for c in conns:
            c.close()


def test_idle_h2_connection_does_not_pin_the_old_generation(gatehouse, make_origin, port):
    from h2util import H2Client
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    with H2Client(port) as c:
        c.wait_settings()
        assert c.get("/x").header("x-origin") == "o1"
        assert reload(g, conf([port], "b", two(o1, o2))) == 2
        wait_for(lambda: "configuration generation 1 released" in g.stderr_text(), 5 * SLACK,
                 what="generation 1 released with an idle HTTP/2 connection open")
        assert c.get("/y").header("x-origin") == "o2"
        assert c.goaway is None


def test_reload_under_h2load(gatehouse, make_origin, port):
    """HTTP/2 connections carrying many streams at once while reloads run:
    streams in flight finish under their generation, new ones start under
    the new one, on the same connections; nothing fails."""
    import re
    import shutil
    h2load = shutil.which("h2load")
    assert h2load, "h2load is needed (nghttp2-client, scripts/deps.sh)"
    o1, o2 = make_origin("o1"), make_origin("o2")
    good = [conf([port], "a", two(o1, o2)), conf([port], "b", two(o1, o2))]
    g = gatehouse(good[0])
    p = subprocess.Popen([h2load, "-c", "8", "-m", "10", "-D", str(int(8 * SLACK)),
                          "http://127.0.0.1:%d/" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1)
        for i in range(10):
            assert reload(g, good[(i + 1) % 2]) == i + 2
            time.sleep(0.5)
        out = p.communicate(timeout=60 * SLACK)[0].decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    assert m, out[-2000:]
    assert int(m.group(4)) > 500 and m.group(5) == "0" and m.group(6) == "0", out[-2000:]
    assert re.search(r"status codes: \d+ 2xx, 0 3xx, 0 4xx, 0 5xx", out), out[-2000:]
    assert len(o1.stats.requests) > 0 and len(o2.stats.requests) > 0


def test_idle_server_connections_carry_over(gatehouse, origin, port):
    """The pool of idle connections to a server both generations have (same
    name, same address) moves to the new generation: no new connect."""
    text = conf([port], "a", {"a": [origin.addr]}, workers=1)
    g = gatehouse(text)
    assert httpraw.request(port).status == 200
    assert origin.settle()
    assert origin.stats.accepts == 1
    assert reload(g, text + "# touched\n") == 2
    for _ in range(3):
        assert httpraw.request(port).status == 200
    assert origin.stats.accepts == 1, "the pooled connection was not reused after the reload"
    # the name is resolved again at each reload: localhost is the same
    # address, so the pool still serves
    assert reload(g, text.replace(origin.addr, "localhost:%d" % origin.port)) == 3
    assert httpraw.request(port).status == 200
    assert origin.stats.accepts == 1


def test_reload_adds_and_keeps_a_waf(gatehouse, origin, port):
    """A WAF added by a reload starts its inspection threads; one kept
    across reloads keeps blocking (each generation has its rule set)."""
    from test_waf import waf_block
    plain = conf([port], "a", {"a": [origin.addr]})
    with_waf = conf([port], "a", {"a": [origin.addr]}, extra_fe="    use_waf crs\n",
                    extra=waf_block())
    g = gatehouse(plain)
    attack = "/?id=1%27%20OR%20%271%27=%271"
    assert httpraw.request(port, target=attack).status == 200
    assert reload(g, with_waf) == 2
    assert httpraw.request(port, target=attack).status == 403
    assert httpraw.request(port).status == 200
    assert reload(g, with_waf + "# touched\n") == 3
    assert httpraw.request(port, target=attack).status == 403
    assert reload(g, plain) == 4
    assert httpraw.request(port, target=attack).status == 200


def test_access_log_files_follow_reloads(gatehouse, origin, port, tmp_path):
    """A reload may add an access log or move it to another file: lines of
    requests under each generation land in that generation's file."""
    f1, f2 = str(tmp_path / "a1.log"), str(tmp_path / "a2.log")

    def text(path):
        return conf([port], "a", {"a": [origin.addr]},
                    extra_fe=("    access_log %s format json\n" % path) if path else "")
    g = gatehouse(text(None))
    assert httpraw.request(port, target="/none").status == 200
    assert reload(g, text(f1)) == 2
    for _ in range(3):
        assert httpraw.request(port, target="/one").status == 200
    assert reload(g, text(f2)) == 3
    for _ in range(2):
        assert httpraw.request(port, target="/two").status == 200

    def lines(p):
        try:
            return [l for l in open(p).read().splitlines() if l.strip()]
        except OSError:
            return []
    wait_for(lambda: len(lines(f1)) == 3 and len(lines(f2)) == 2, 5 * SLACK,
             what="3 lines in the first log, 2 in the second")
    assert all('"/one"' in l for l in lines(f1)) and all('"/two"' in l for l in lines(f2))
    usr1_ok = g.alive()
    g.signal(signal.SIGUSR1)   # reopen every file, old targets included
    time.sleep(0.5)
    assert usr1_ok and g.alive()


def test_systemd_notify_abstract_socket(gatehouse, origin, port):
    name = "gatehouse-test-%d-%d" % (os.getpid(), port)
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind("\0" + name)
    ns.settimeout(10 * SLACK)
    os.environ["NOTIFY_SOCKET"] = "@" + name
    try:
        g = gatehouse(conf([port], "a", {"a": [origin.addr]}))
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        assert "READY=1" in ns.recv(4096).decode()
        assert reload(g) == 2
        assert "RELOADING=1" in ns.recv(4096).decode()
        assert "READY=1" in ns.recv(4096).decode()
    finally:
        ns.close()


def test_queued_reload_signals_are_never_merged(gatehouse, make_origin, port):
    """`gatehouse -s reload` sends SIGRTMIN+1: sent ten times at once, before
    gatehouse can read the first, it is still ten reloads (ten SIGHUPs sent
    that way may be fewer: the kernel keeps one pending)."""
    o1, o2 = make_origin("o1"), make_origin("o2")
    g = gatehouse(conf([port], "a", two(o1, o2)))
    for _ in range(10):
        os.kill(g.pid, signal.SIGRTMIN + 1)
    wait_for(lambda: len(reloaded_generations(g)) == 10, 20 * SLACK, what="10 reloads applied")
    time.sleep(0.5)
    assert reloaded_generations(g) == list(range(2, 12))
    assert httpraw.request(port).status == 200
