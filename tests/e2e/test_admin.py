"""The admin listener (issue 12): `global { admin ADDR [token_file PATH] }`,
a small strict HTTP/1.1 server on a thread of its own.  The bearer token
(401 with WWW-Authenticate), bad requests (400, 405, 411, 413, 431, all
JSON), unknown paths (404), keep-alive, the connection limit, loopback by
default, a clean stop, and `gatehouse -t` on bad admin lines and token
files.
"""

import json
import os
import socket
import time

import pytest

import ghutil
import httpraw
from ghutil import free_port, run_cli, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the admin listener is gatehouse's own")

TOKEN = "s3cr3t-Token-0123456789abcdef"


def config(port, origin, admin_line):
    return ("global {\n    workers 1\n    timeout drain 2s\n    %s\n}\n" % admin_line
            + ghutil.frontend_block(port) + ghutil.backend_block("app", [origin.addr]))


def start(gatehouse, tmp_path, origin, port, token=True, addr=None):
    admin = free_port()
    line = "admin %s" % (addr or "127.0.0.1:%d" % admin)
    if token:
        tf = tmp_path / "admin.token"
        tf.write_text(TOKEN + "\n")
        os.chmod(str(tf), 0o600)
        line += " token_file %s" % tf
    g = gatehouse(config(port, origin, line))
    return g, admin


def raw(port, data, timeout=5.0):
    """Sends data on a fresh connection; returns (response, closed after it)."""
    s = httpraw.connect(port, timeout)
    try:
        s.sendall(data)
        rd = httpraw.Reader(s)
        r = rd.read_response("GET")
        s.settimeout(2.0)
        try:
            rest = s.recv(1)
        except socket.timeout:
            rest = None
        return r, rest == b""
    finally:
        s.close()


def req(path="/metrics", method="GET", token=TOKEN, extra=b"", host=True, version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version)]
    if host:
        lines.append("Host: localhost")
    if token:
        lines.append("Authorization: Bearer %s" % token)
    return ("\r\n".join(lines) + "\r\n").encode() + extra + b"\r\n"


def json_error(r, status):
    assert r.status == status, r
    assert r.header("Content-Type") == "application/json"
    j = json.loads(r.body)
    assert j["status"] == status and j["error"]
    return j


# ---- the token ------------------------------------------------------------

def test_token_required(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    r, _ = raw(admin, req(token=None))
    json_error(r, 401)
    assert r.header("WWW-Authenticate").startswith("Bearer realm=")
    r, _ = raw(admin, req(token="wrong"))
    json_error(r, 401)
    assert 'error="invalid_token"' in r.header("WWW-Authenticate")
    # a prefix, the token with more after it, another scheme: all refused
    for bad in (TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        r, _ = raw(admin, req(token=bad))
        json_error(r, 401)
    r, _ = raw(admin, req(token=None, extra=("Authorization: Basic %s\r\n" % TOKEN).encode()))
    json_error(r, 401)
    # the right one, scheme case-insensitive
    r, _ = raw(admin, req(token=TOKEN))
    assert r.status == 200
    r, _ = raw(admin, req(token=None, extra=("Authorization: bearer %s\r\n" % TOKEN).encode()))
    assert r.status == 200
    # unknown paths are 404 only once authorised (no probing without a token)
    r, _ = raw(admin, req("/nope", token=None))
    json_error(r, 401)
    r, _ = raw(admin, req("/nope"))
    json_error(r, 404)


def test_no_token_configured_serves_without_one(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port, token=False)
    r, _ = raw(admin, req(token=None))
    assert r.status == 200
    assert b"gatehouse_frontend_requests_total" in r.body


# ---- strict HTTP/1.1 --------------------------------------------------------

BAD = [
    ("garbage", b"HELLO\r\n\r\n", 400),
    ("absolute_form", b"GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("bad_version", b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    ("bare_lf", b"GET /metrics HTTP/1.1\nHost: x\n\n", None),
    ("obs_fold", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", 400),
    ("space_before_colon", b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("no_host", b"GET /metrics HTTP/1.1\r\n\r\n", 400),
    ("two_hosts", b"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad_cl", b"POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400),
    ("two_cl", b"POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
               b"Content-Length: 2\r\n\r\nab", 400),
    ("chunked", b"POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0\r\n\r\n", 411),
    ("ctl_in_value", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
    ("space_in_target", b"GET /met rics HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


@pytest.mark.parametrize("name,data,status", BAD, ids=[b[0] for b in BAD])
def test_bad_requests(gatehouse, tmp_path, origin, port, name, data, status):
    g, admin = start(gatehouse, tmp_path, origin, port, token=False)
    if status is None:
        # a bare LF never ends the head: nothing is served; it is a 400
        # once the head's end arrives with the bare line endings in it
        r, closed = raw(admin, data + b"\r\n\r\n")
        status = 400
    else:
        r, closed = raw(admin, data)
    json_error(r, status)
    assert closed, "a protocol error closes the connection"


def test_head_too_large_is_431(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port, token=False)
    big = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    r, closed = raw(admin, big)
    json_error(r, 431)
    assert closed
    # a head that never ends is a 431 too, as soon as the bound is passed
    r, closed = raw(admin, b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 20000)
    json_error(r, 431)


def test_body_too_large_is_413_without_reading_it(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port, token=False)
    r, closed = raw(admin, b"POST /api/reload HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 70000\r\n\r\n")
    json_error(r, 413)
    assert closed
    # with the body sent along, the 413 still arrives (input is drained
    # after the answer, so the close is no reset)
    s = httpraw.connect(admin)
    try:
        s.sendall(b"POST /api/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
                  + b"x" * 200000)
        json_error(httpraw.Reader(s).read_response("POST"), 413)
    finally:
        s.close()


def test_unknown_method_405_and_unknown_path_404(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    r, closed = raw(admin, req(method="BREW"))
    json_error(r, 405)
    assert "GET" in r.header("Allow")
    assert not closed, "a 405 keeps the connection"
    r, _ = raw(admin, req("/definitely/not/here"))
    json_error(r, 404)
    r, _ = raw(admin, req("/metrics", method="DELETE"))
    json_error(r, 405)


def test_keep_alive_and_close(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    s = httpraw.connect(admin)
    try:
        rd = httpraw.Reader(s)
        for path in ("/metrics", "/nope", "/metrics"):
            s.sendall(req(path))
            r = rd.read_response("GET")
            assert r.status in (200, 404)
            assert not r.has("Connection")
        # a body is read whole and the connection goes on
        s.sendall(req("/nope", method="POST", extra=b"Content-Length: 5\r\n")[:-2]
                  + b"\r\nhello")
        assert rd.read_response("GET").status == 404
        s.sendall(req("/metrics", extra=b"Connection: close\r\n"))
        r = rd.read_response("GET")
        assert r.status == 200 and r.header("Connection") == "close"
        s.settimeout(5)
        assert s.recv(1) == b"", "closed after Connection: close"
    finally:
        s.close()
    # HTTP/1.0 without keep-alive closes; with it, stays open and says so
    r, closed = raw(admin, req(version="HTTP/1.0", host=False))
    assert r.status == 200 and closed
    r, closed = raw(admin, req(version="HTTP/1.0", host=False,
                               extra=b"Connection: keep-alive\r\n"))
    assert r.status == 200 and not closed and r.header("Connection") == "keep-alive"


def test_pipelined_requests_answered_in_order(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    s = httpraw.connect(admin)
    try:
        body = b'{"a": 1}'
        s.sendall(req("/one") + req("/metrics", method="POST",
                                     extra=b"Content-Length: %d\r\n" % len(body))[:-2]
                  + b"\r\n" + body + req("/metrics"))
        rd = httpraw.Reader(s)
        assert rd.read_response("GET").status == 404
        assert rd.read_response("GET").status == 405
        r = rd.read_response("GET")
        assert r.status == 200 and b"gatehouse_frontend_requests_total" in r.body
    finally:
        s.close()


def test_body_split_across_writes(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    s = httpraw.connect(admin)
    try:
        head = req("/nope", method="PUT", extra=b"Content-Length: 10\r\n")
        for piece in (head[:7], head[7:], b"01234", b"56789"):
            s.sendall(piece)
            time.sleep(0.05)
        assert httpraw.Reader(s).read_response("GET").status == 404
    finally:
        s.close()


def test_connection_limit(gatehouse, tmp_path, origin, port):
    """Eight at once: an idle keep-alive connection makes room for a new
    one; with all eight busy mid-request, a ninth waits in the backlog
    until one of them is done."""
    g, admin = start(gatehouse, tmp_path, origin, port)
    held = [httpraw.connect(admin) for _ in range(8)]
    try:
        for s in held:
            s.sendall(req())
            assert httpraw.Reader(s).read_response("GET").status == 200
        # all eight idle: a ninth is served (the oldest idle one is closed)
        r, _ = raw(admin, req())
        assert r.status == 200
        for s in held:
            s.close()
        busy = [httpraw.connect(admin) for _ in range(8)]
        for s in busy:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")   # head not finished
        time.sleep(0.2)
        ninth = httpraw.connect(admin)
        ninth.sendall(req())
        ninth.settimeout(0.5)
        with pytest.raises(socket.timeout):
            ninth.recv(1)
        # one of the eight finishes its request and closes: the ninth is served
        busy[0].sendall(b"Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
                        % TOKEN.encode())
        assert httpraw.Reader(busy[0]).read_response("GET").status == 200
        ninth.settimeout(5 * ghutil.SLACK)
        assert httpraw.Reader(ninth).read_response("GET").status == 200
        ninth.close()
        for s in busy:
            s.close()
    finally:
        for s in held:
            s.close()


def test_unfinished_request_gets_408(gatehouse, tmp_path, origin, port):
    """A request must be whole within 10 s of its first byte."""
    g, admin = start(gatehouse, tmp_path, origin, port)
    s = httpraw.connect(admin, timeout=20 * ghutil.SLACK)
    try:
        t0 = time.monotonic()
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        r = httpraw.Reader(s).read_response("GET")
        json_error(r, 408)
        assert time.monotonic() - t0 >= 9.5
        assert s.recv(1) == b""
    finally:
        s.close()


def test_bare_port_is_loopback(gatehouse, tmp_path, origin, port):
    admin = free_port()
    g = gatehouse(config(port, origin, "admin %d" % admin))
    want = "0100007F:%04X" % admin
    with open("/proc/net/tcp") as f:
        lines = [l.split() for l in f.readlines()[1:]]
    assert any(p[1] == want and p[3] == "0A" for p in lines), "not on 127.0.0.1:%d" % admin
    assert not any(p[1] == "00000000:%04X" % admin for p in lines)
    r, _ = raw(admin, req(token=None))
    assert r.status == 200


def thread_names(pid):
    names = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def test_served_by_a_thread_of_its_own(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    # (the thread names itself once running; its socket listens before)
    wait_for(lambda: "gh:admin" in thread_names(g.pid), 5 * ghutil.SLACK, 0.02,
             "the admin thread")
    assert thread_names(g.pid).count("gh:admin") == 1
    # a request that never ends its head holds an admin connection, not
    # the traffic: the frontend still answers meanwhile
    hold = httpraw.connect(admin)
    hold.sendall(b"GET /metrics HTTP/1.1\r\n")
    try:
        assert httpraw.request(port, "GET", "/").status == 200
        r, _ = raw(admin, req())
        assert r.status == 200
    finally:
        hold.close()


def test_stop_with_admin_connections_open(gatehouse, tmp_path, origin, port):
    g, admin = start(gatehouse, tmp_path, origin, port)
    idle = httpraw.connect(admin)
    partial = httpraw.connect(admin)
    partial.sendall(b"GET /metrics HTTP/1.1\r\nHo")
    try:
        t0 = time.monotonic()
        assert g.stop() == 0
        assert time.monotonic() - t0 < 5 * ghutil.SLACK
    finally:
        idle.close()
        partial.close()


# ---- gatehouse -t -----------------------------------------------------------

def check(tmp_path, admin_line, token_text=None, mode=0o600):
    if token_text is not None:
        tf = tmp_path / "tok"
        tf.write_bytes(token_text)
        os.chmod(str(tf), mode)
    conf = ("global {\n    workers 1\n    %s\n}\n" % admin_line
            + ghutil.frontend_block(8080) + ghutil.backend_block("app", ["127.0.0.1:9001"]))
    f = tmp_path / "c.conf"
    f.write_text(conf)
    p = run_cli(["-t", "-c", str(f)])
    return p.returncode, (p.stdout + p.stderr).decode()


def test_check_good_admin_lines(tmp_path):
    rc, out = check(tmp_path, "admin 127.0.0.1:9900 token_file tok", TOKEN.encode() + b"\n")
    assert rc == 0 and "token" not in out and "loopback" not in out, out
    rc, out = check(tmp_path, "admin 9900")
    assert rc == 0, out
    rc, out = check(tmp_path, "admin [::1]:9900")
    assert rc == 0, out
    rc, out = check(tmp_path, "admin 127.0.0.2:8080")   # the frontend is on 127.0.0.1:8080
    assert rc == 0, out


BAD_ADMIN = [
    ("bad_address", "admin nowhere:xx", None, "invalid address"),
    ("unix", "admin unix@/tmp/a.sock", None, "TCP only"),
    ("missing_value", "admin 127.0.0.1:9900 token_file", None, "missing value"),
    ("unknown_option", "admin 127.0.0.1:9900 token tok", b"x" * 20, "unknown admin option"),
    ("too_many", "admin 127.0.0.1:9900 token_file tok extra", b"x" * 20, "unexpected 'extra'"),
    ("missing_file", "admin 127.0.0.1:9900 token_file nothere", None, "cannot read"),
    ("empty_file", "admin 127.0.0.1:9900 token_file tok", b"\n", "empty"),
    ("space_in_token", "admin 127.0.0.1:9900 token_file tok", b"abc def ghi jkl mno\n",
     "printable"),
    ("two_lines", "admin 127.0.0.1:9900 token_file tok", b"abcdefghijklmnopq\nsecond\n",
     "printable"),
    ("too_long", "admin 127.0.0.1:9900 token_file tok", b"a" * 5000, "longer"),
    ("frontend_port", "admin 127.0.0.1:8080", None, "also bound by frontend 'web'"),
    ("frontend_port_any", "admin *:8080", None, "also bound by frontend 'web'"),
]


@pytest.mark.parametrize("name,line,token,words", BAD_ADMIN, ids=[b[0] for b in BAD_ADMIN])
def test_check_bad_admin_lines(tmp_path, name, line, token, words):
    rc, out = check(tmp_path, line, token)
    assert rc == 1, out
    assert "configuration has errors" in out
    # the error points at the admin line (line 3)
    assert any(":3:" in l and "error" in l and words in l for l in out.splitlines()), out


def test_check_warnings(tmp_path):
    rc, out = check(tmp_path, "admin 0.0.0.0:9900")
    assert rc == 0 and "not a loopback address" in out, out
    rc, out = check(tmp_path, "admin 127.0.0.1:9900 token_file tok", TOKEN.encode(), 0o644)
    assert rc == 0 and "can be read by other users" in out, out
    rc, out = check(tmp_path, "admin 127.0.0.1:9900 token_file tok", b"short")
    assert rc == 0 and "only 5 characters" in out, out
