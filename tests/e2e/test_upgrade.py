"""Binary upgrade (issue 12): SIGUSR2 or `gatehouse -s upgrade` starts the
binary again (same path, same arguments) with the listening sockets; the new
process binds nothing it inherited, writes the pidfile and says it is ready;
the old one then stops accepting, lets its requests and tunnels finish and
exits.  No connection is refused or reset during the switch."""

import ctypes
import os
import signal
import time

import pytest

import ghutil
import httpraw
from ghutil import SLACK, wait_for
from reloadutil import Load, ws_echo, ws_open

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse upgrade behaviour")

PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture(autouse=True)
def subreaper():
    """The new process is the old one's child; once the old one exits it is
    re-parented to us, so the test can reap it by pid."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def conf(port, origin, pidfile, workers=2, extra=""):
    return ("global {\n    workers %d\n    timeout drain 5s\n    pidfile %s\n}\n"
            "frontend web {\n    bind 127.0.0.1:%d\n    timeout client 30s\n%s"
            "    default_backend a\n}\n"
            "backend a {\n    server s1 %s\n}\n" % (workers, pidfile, port, extra, origin.addr))


def read_pid(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def stop_pid(pid, timeout=20):
    """Stops a process that is not our child by Popen (re-parented to us)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + timeout * SLACK
    while time.monotonic() < deadline:
        try:
            p, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            p, st = pid, 0
            if os.path.exists("/proc/%d" % pid):
                time.sleep(0.05)
                continue
        if p == pid:
            return os.waitstatus_to_exitcode(st)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return None


def upgrade(g, pidfile, use_cli=False):
    old = g.pid
    if use_cli:
        r = ghutil.run_cli(["-c", g.conf_path, "-s", "upgrade"])
        assert r.returncode == 0, r.stderr
    else:
        g.signal(signal.SIGUSR2)
    new = wait_for(lambda: (read_pid(pidfile) or old) != old and read_pid(pidfile), 30 * SLACK,
                   what="the new process's pid in the pidfile")
    return new


def test_upgrade_under_load(gatehouse, origin, port, tmp_path):
    pidfile = str(tmp_path / "gh.pid")
    g = gatehouse(conf(port, origin, pidfile))
    wait_for(lambda: read_pid(pidfile) == g.pid, 5 * SLACK, what="pidfile")
    wss = [ws_open(port) for _ in range(2)]
    new = None
    try:
        with Load(port, threads=4, slow=2) as load:
            time.sleep(0.5)
            new = upgrade(g, pidfile)
            assert new != g.pid
            wait_for(lambda: "is ready; this one drains" in g.stderr_text(), 10 * SLACK,
                     what="the old process draining")
            # Tunnels opened before the switch finish on the old process.
            for k, (s, rd) in enumerate(wss):
                assert ws_echo(s, rd, b"ws%d" % k) == b"ws%d" % k
            time.sleep(1.0)
            for s, rd in wss:
                s.close()
            g.stopped_by_test = True
            assert g.proc.wait(20 * SLACK) == 0
            # The new one serves alone now.
            time.sleep(1.0)
            assert httpraw.request(port).status == 200
        assert load.failures == [], load.failures[:10]
        assert load.ok > 50 and load.slow_ok > 2, (load.ok, load.slow_ok)
        assert load.reconnects > 0   # clients moved (Connection: close), none was cut
        t = g.stderr_text()
        assert "took over" in t and "listening socket" in t, t[-3000:]
        assert "cannot listen" not in t
    finally:
        if new:
            assert stop_pid(new) == 0
    assert not os.path.exists(pidfile)
    assert not g.sanitizer_errors()


def test_upgrade_with_cli_then_reload_of_the_new_process(gatehouse, origin, port, tmp_path):
    pidfile = str(tmp_path / "gh.pid")
    g = gatehouse(conf(port, origin, pidfile, workers=1))
    wait_for(lambda: read_pid(pidfile) == g.pid, 5 * SLACK, what="pidfile")
    new = upgrade(g, pidfile, use_cli=True)
    try:
        g.stopped_by_test = True
        assert g.proc.wait(20 * SLACK) == 0
        assert httpraw.request(port).status == 200
        before = g.stderr_text().count("configuration reloaded")
        r = ghutil.run_cli(["-c", g.conf_path, "-s", "reload"])
        assert r.returncode == 0, r.stderr
        wait_for(lambda: g.stderr_text().count("configuration reloaded") > before, 10 * SLACK,
                 what="the new process reloading")
        assert httpraw.request(port).status == 200
    finally:
        assert stop_pid(new) == 0


def test_failed_upgrade_keeps_the_old_process(gatehouse, origin, port, tmp_path):
    pidfile = str(tmp_path / "gh.pid")
    g = gatehouse(conf(port, origin, pidfile))
    wait_for(lambda: read_pid(pidfile) == g.pid, 5 * SLACK, what="pidfile")
    with open(g.conf_path, "a") as f:
        f.write("broken {\n")          # the new process will not start
    g.signal(signal.SIGUSR2)
    wait_for(lambda: "failed" in g.stderr_text() and "still serving" in g.stderr_text(),
             20 * SLACK, what="the failed upgrade")
    assert read_pid(pidfile) == g.pid
    for _ in range(5):
        assert httpraw.request(port).status == 200
    assert g.alive()


def test_upgrade_under_wrk(gatehouse, origin, port, tmp_path):
    from reloadutil import Wrk
    pidfile = str(tmp_path / "gh.pid")
    g = gatehouse(conf(port, origin, pidfile))
    wait_for(lambda: read_pid(pidfile) == g.pid, 5 * SLACK, what="pidfile")
    ws = ws_open(port)
    w = Wrk(port, seconds=int(8 * SLACK))
    new = None
    try:
        time.sleep(2)
        new = upgrade(g, pidfile)
        assert ws_echo(ws[0], ws[1], b"still") == b"still"
        ws[0].close()
        g.stopped_by_test = True
        assert g.proc.wait(20 * SLACK) == 0
        r = w.result()
    finally:
        w.kill()
        if new:
            assert stop_pid(new) == 0
    print(r["text"])
    assert r["requests"] > 500, r["text"]
    assert r["socket_errors"] == [0, 0, 0, 0] and r["non2xx"] == 0, r["text"]
