"""
Privileges (issue 13, part B): global `user` / `group` drop every thread to
that user and group once the listeners are bound (a port below 1024
included), keep CAP_NET_BIND_SERVICE and nothing else, and root without
`user` is warned about.  The tests run as root (CI and the dev machines
are); they read /proc/PID/task/*/status.
"""

import os
import socket

import pytest

import ghutil

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse-only directives")

CAP_NET_BIND_SERVICE = 10
CAP_NET_ADMIN = 12


def low_port():
    """A free port below 1024 on 127.0.0.1."""
    for p in range(900, 1000):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    pytest.fail("no free port below 1024")


def task_status(pid):
    """{tid: {field: value}} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            out[tid] = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
    return out


def get(port, path="/"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    return int(data.split(b" ", 2)[1])


def config(port, low, origin, global_extra, backend_extra="", workers=2):
    return (ghutil.global_block(workers, extra=global_extra)
            + "frontend web {\n    bind 127.0.0.1:%d\n    bind 127.0.0.1:%d\n" % (port, low)
            + "    default_backend app\n}\n"
            + ghutil.backend_block("app", [origin.addr], extra=backend_extra))


@pytest.mark.parametrize("backend_extra,caps", [
    ("", 1 << CAP_NET_BIND_SERVICE),
    # `source client` needs IP_TRANSPARENT at run time: CAP_NET_ADMIN stays too
    ("source client", (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_NET_ADMIN)),
], ids=["plain", "source-client"])
def test_drop_every_thread(gatehouse, port, origin, backend_extra, caps):
    low = low_port()
    g = gatehouse(config(port, low, origin, "user nobody\ngroup nogroup", backend_extra,
                         workers=2))
    ghutil.wait_for(lambda: low in ghutil.listening_ports(), 5, what="the port below 1024")
    st = task_status(g.pid)
    # main, 2 workers, the health thread at least; all of them dropped
    assert len(st) >= 3, st
    for tid, f in st.items():
        assert f["Uid"].split() == ["65534"] * 4, (tid, f["Name"], f["Uid"])
        assert f["Gid"].split() == ["65534"] * 4, (tid, f["Name"], f["Gid"])
        assert f["Groups"].split() == ["65534"], (tid, f["Name"], f["Groups"])
        assert int(f["CapEff"], 16) == caps, (tid, f["Name"], f["CapEff"])
        assert int(f["CapPrm"], 16) == caps, (tid, f["Name"], f["CapPrm"])
        assert int(f["CapInh"], 16) == 0
    # both ports, the one below 1024 too, serve requests
    assert get(port) == 200
    assert get(low) == 200
    assert "running as uid 65534 gid 65534" in g.stderr_text()
    assert "running as root" not in g.stderr_text()


def test_user_group_default_from_passwd(gatehouse, port, origin):
    # `user` alone: the user's own group from the passwd database
    g = gatehouse(ghutil.simple_http_config(port, [origin.addr], global_extra="user daemon"))
    for tid, f in task_status(g.pid).items():
        assert f["Uid"].split() == ["1"] * 4
        assert f["Gid"].split() == ["1"] * 4
        assert f["Groups"].split() == ["1"]
    assert get(port) == 200


def test_root_without_user_warns(gatehouse, port, origin, tmp_path):
    text = ghutil.simple_http_config(port, [origin.addr])
    conf = tmp_path / "root.conf"
    conf.write_text(text)
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    assert r.returncode == 0
    assert r.stdout.decode() == "configuration OK\n"
    assert "%s: warning: running as root without 'user'" % conf in r.stderr.decode()
    g = gatehouse(text)
    assert "running as root without 'user'" in g.stderr_text()
    assert get(port) == 200


def test_no_warning_with_user(port, origin, tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text(ghutil.simple_http_config(port, [origin.addr], global_extra="user nobody"))
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    assert r.returncode == 0
    assert "running as root" not in r.stderr.decode()


def test_chroot(gatehouse, port, origin, tmp_path, monkeypatch):
    root = tmp_path / "jail"
    root.mkdir()
    if ghutil.ASAN:
        # LeakSanitizer reads /proc/PID/task at exit, which a jail without
        # /proc does not have: its exit check cannot run in a chroot
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    g = gatehouse(ghutil.simple_http_config(
        port, [origin.addr], global_extra="user nobody\ngroup nogroup\nchroot %s" % root))
    assert os.readlink("/proc/%d/root" % g.pid) == str(root)
    assert get(port) == 200


def test_access_log_opened_as_the_user(port, origin, tmp_path):
    # the log must be writable by the user that will reopen it: checked at start
    logdir = tmp_path / "logs"
    logdir.mkdir()
    os.chmod(logdir, 0o755)   # root's, not nobody's
    conf = tmp_path / "log.conf"
    conf.write_text(ghutil.simple_http_config(
        port, [origin.addr], global_extra="user nobody\ngroup nogroup",
        frontend_extra="access_log %s/access.log" % logdir))
    r = ghutil.run_cli(["-c", str(conf)], timeout=10 * ghutil.SLACK)
    assert r.returncode == 1
    assert "startup failed" in r.stderr.decode() and "access.log" in r.stderr.decode(), \
        r.stderr.decode()


@pytest.mark.parametrize("lines,token,msg", [
    ("user no-such-user-x", "no-such-user-x", "unknown user 'no-such-user-x'"),
    ("user nobody\n    group no-such-group-x", "no-such-group-x",
     "unknown group 'no-such-group-x'"),
    ("group nogroup", "nogroup", "group without user"),
    ("chroot relative/dir", "relative/dir", "chroot 'relative/dir' is relative"),
    ("chroot /no/such/dir", "/no/such/dir", "chroot '/no/such/dir' is not a directory"),
    ("user 4242", "4242", "user '4242' has no passwd entry to take a group from"),
])
def test_config_errors(tmp_path, lines, token, msg):
    text = "global {\n    %s\n}\nfrontend web {\n    bind 127.0.0.1:1\n}\n" % lines
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    err = r.stderr.decode()
    assert r.returncode == 1, err
    lines_ = text.splitlines()
    ln = next(i for i, l in enumerate(lines_) if token in l)
    col = lines_[ln].index(token) + 1
    assert "%s:%d:%d: error: %s" % (conf, ln + 1, col, msg) in err, err
