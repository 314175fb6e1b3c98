"""
Unix domain sockets on both sides (issue 13, part B): `bind unix@PATH [mode]
[user] [group]`, `server NAME unix@PATH` with pooling and health checks, the
safe replacement of a stale socket file, and what a unix@ client looks like
(src 0.0.0.0: X-Forwarded-For, Forwarded, the access log).
"""

import json
import os
import re
import socket
import stat
import subprocess

import pytest

import ghutil
from deployutil import PeerOrigin, http_get

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse-only directives")


@pytest.fixture
def sockdir(tmp_path):
    # sun_path is 108 bytes: pytest's tmp_path can be long, so a short one
    d = "/tmp/ghu-%d-%d" % (os.getpid(), abs(hash(str(tmp_path))) % 100000)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    yield d
    for n in os.listdir(d):
        os.unlink(os.path.join(d, n))
    os.rmdir(d)


@pytest.fixture
def unix_origin(sockdir):
    made = []

    def make(name="app.sock"):
        o = PeerOrigin(path=os.path.join(sockdir, name))
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


def config(port, front_sock, server_addr, bind_opts="", backend_extra="", frontend_extra="",
           workers=2):
    return (ghutil.global_block(workers)
            + "frontend web {\n"
            + "    bind 127.0.0.1:%d\n" % port
            + "    bind unix@%s %s\n" % (front_sock, bind_opts)
            + "".join("    %s\n" % l.strip() for l in frontend_extra.splitlines() if l.strip())
            + "    default_backend app\n}\n"
            + ghutil.backend_block("app", [server_addr], extra=backend_extra))


def test_unix_both_sides_pooled(gatehouse, port, sockdir, unix_origin):
    o = unix_origin()
    front = os.path.join(sockdir, "gh.sock")
    g = gatehouse(config(port, front, o.addr,
                         frontend_extra="forward_headers x-forwarded-for forwarded"))
    assert stat.S_ISSOCK(os.stat(front).st_mode)
    # three requests on one client connection through the unix bind
    rs = http_get(front, ["/a", "/b", "/c"])
    assert [r[0] for r in rs] == [200, 200, 200]
    bodies = [json.loads(r[2]) for r in rs]
    assert [b["path"] for b in bodies] == ["/a", "/b", "/c"]
    # a unix@ client is 0.0.0.0 (README): XFF and Forwarded carry that
    assert bodies[0]["headers"]["x-forwarded-for"] == "0.0.0.0"
    assert bodies[0]["headers"]["forwarded"] == 'for=0.0.0.0;proto=http;host="test"'
    # the server connection over the unix socket was pooled: one connection
    assert {b["conn"] for b in bodies} == {1}
    assert o.conns == 1
    # TCP clients reach the same unix server
    rs = http_get(("127.0.0.1", port), ["/tcp"])
    assert rs[0][0] == 200
    assert json.loads(rs[0][2])["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert g.alive()


def test_unix_client_in_access_log_and_src(gatehouse, port, sockdir, unix_origin, tmp_path):
    o = unix_origin()
    front = os.path.join(sockdir, "gh.sock")
    log = tmp_path / "access.log"
    gatehouse(config(port, front, o.addr, workers=1, frontend_extra="""
        access_log %s format json
        http_request return status 200 body "unix-client" if src == 0.0.0.0 and path == /who
    """ % log))
    rs = http_get(front, ["/who", "/x"])
    assert rs[0][0] == 200 and rs[0][2] == b"unix-client"
    assert rs[1][0] == 200
    line = ghutil.wait_for(lambda: log.exists() and log.read_text().count("\n") >= 2, 5,
                           what="two access log lines")
    entries = [json.loads(l) for l in log.read_text().splitlines()]
    assert [e.get("client") or e.get("client_ip") or e.get("src") for e in entries] == \
        ["0.0.0.0", "0.0.0.0"], entries
    assert line


def test_health_checks_over_unix(gatehouse, port, sockdir, unix_origin):
    path = os.path.join(sockdir, "hc.sock")
    o = unix_origin("hc.sock")
    front = os.path.join(sockdir, "gh.sock")
    g = gatehouse(config(port, front, o.addr, workers=1, backend_extra="""
        health http GET /healthz interval 100ms timeout 500ms rise 1 fall 1
    """))
    ghutil.wait_for(lambda: "/healthz" in o.requests, 5 * ghutil.SLACK, what="a health check")
    o.close()   # the socket file goes: checks fail
    ghutil.wait_for(lambda: "server app/s1 DOWN" in g.stderr_text(), 5 * ghutil.SLACK,
                    what="server DOWN")
    assert http_get(front, ["/"])[0][0] == 503
    o2 = PeerOrigin(path=path)
    try:
        ghutil.wait_for(lambda: "server app/s1 UP" in g.stderr_text(), 5 * ghutil.SLACK,
                        what="server UP")
        assert http_get(front, ["/back"])[0][0] == 200
        # a unix@ server has no host:port to name: checks say Host: localhost
        assert any(r == "/healthz" for r in o2.requests)
    finally:
        o2.close()


def test_stale_socket_file_replaced(gatehouse, port, sockdir, unix_origin):
    o = unix_origin()
    front = os.path.join(sockdir, "gh.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(front)
    stale.close()                      # the file stays, nobody listens
    assert stat.S_ISSOCK(os.stat(front).st_mode)
    os.utime(front, (946684800, 946684800))   # 2000-01-01: tells the old file from a new one
    gatehouse(config(port, front, o.addr, workers=1))
    assert os.stat(front).st_mtime > 946684800 + 86400
    assert http_get(front, ["/"])[0][0] == 200


def _start_fails(config_text, tmp_path):
    conf = tmp_path / "fail.conf"
    conf.write_text(config_text)
    r = subprocess.run([ghutil.need_gatehouse_cli(), "-c", str(conf)], capture_output=True,
                       timeout=10 * ghutil.SLACK)
    return r.returncode, r.stderr.decode()


def test_live_socket_not_replaced(port, sockdir, unix_origin, tmp_path):
    o = unix_origin()
    busy = unix_origin("busy.sock")    # somebody listens there
    rc, err = _start_fails(config(port, busy.path, o.addr, workers=1), tmp_path)
    assert rc == 1
    assert "is in use: another process accepts connections on it" in err, err
    assert http_get(busy.path, ["/still-mine"])[0][0] == 200


def test_regular_file_not_replaced(port, sockdir, unix_origin, tmp_path):
    o = unix_origin()
    front = os.path.join(sockdir, "gh.sock")
    with open(front, "w") as f:
        f.write("precious")
    rc, err = _start_fails(config(port, front, o.addr, workers=1), tmp_path)
    assert rc == 1
    assert "exists and is not a socket; not replacing it" in err, err
    with open(front) as f:
        assert f.read() == "precious"


def test_mode_user_group_applied(gatehouse, port, sockdir, unix_origin):
    o = unix_origin()
    front = os.path.join(sockdir, "gh.sock")
    gatehouse(config(port, front, o.addr, bind_opts="mode 640 user nobody group nogroup",
                     workers=1))
    st = os.stat(front)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert http_get(front, ["/"])[0][0] == 200   # root still connects


@pytest.mark.parametrize("bad,where,msg", [
    ("    bind 127.0.0.1:{port} mode 660\n", "mode",
     "mode, user and group apply to unix@ binds; bind 127.0.0.1:{port} is TCP"),
    ("    bind unix@/tmp/x.sock defer_accept\n", "defer_accept",
     "defer_accept and fastopen are TCP options; bind unix@/tmp/x.sock is a Unix socket"),
    ("    bind unix@relative.sock\n", "unix@",
     "invalid address 'unix@relative.sock': a Unix socket path must be absolute"),
    ("    bind unix@/tmp/x.sock mode 999\n", "999", "invalid mode '999'"),
    ("    bind unix@/tmp/x.sock user no-such-user-x\n", "no-such",
     "unknown user 'no-such-user-x'"),
])
def test_config_errors(port, tmp_path, bad, where, msg):
    bad = bad.format(port=port)
    where = (3, bad.index(where) + 1)   # the line and column of that token
    text = "frontend web {\n    mode http\n" + bad + "    default_backend app\n}\n" \
        + "backend app {\n    server s1 unix@/tmp/app.sock\n}\n"
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "%s:%d:%d: error: %s" % (conf, where[0], where[1], msg.format(port=port)) in err, err


def test_source_on_unix_server_is_an_error(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("frontend web {\n    bind 127.0.0.1:1\n    default_backend app\n}\n"
                    "backend app {\n    server s1 unix@/tmp/app.sock source 127.0.0.2\n}\n")
    r = ghutil.run_cli(["-t", "-c", str(conf)])
    err = r.stderr.decode()
    assert r.returncode == 1
    assert re.search(r"bad\.conf:6:41: error: source on server 's1', which is a Unix socket", err), err
