"""Local responses (issue 8): the one producer of responses gatehouse writes
itself.  `errorfile STATUS FILE` gives the body of generated errors and of a
`deny` without a body (the backend's before the frontend's); a rule's answer
keeps the connection open, even when the request had a body it must first
read and drop; protocol errors close; `-t` checks errorfiles.
"""

import pytest

import ghutil
from ghutil import free_port, run_cli, simple_http_config
from httpraw import Reader, build_request, connect, drain, request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="errorfile paths and rules are not translated")

PAGE_FE = b"<html><body>frontend says sorry</body></html>\n"
PAGE_BE = b"<html><body>backend says sorry</body></html>\n"


def pages(tmp_path):
    fe, be = tmp_path / "fe.html", tmp_path / "be.html"
    fe.write_bytes(PAGE_FE)
    be.write_bytes(PAGE_BE)
    return fe, be


def test_errorfile_serves_generated_error(gatehouse, origin, port, tmp_path):
    fe, _ = pages(tmp_path)
    # a request no use_backend matches and no default backend: 503
    cfg = simple_http_config(port, [origin.addr], frontend_extra="errorfile 503 %s" % fe)
    cfg = cfg.replace("    default_backend app\n", "    use_backend app if path == /only\n")
    gatehouse(cfg)
    r = request(port, "GET", "/other")
    assert r.status == 503
    assert r.header("content-type") == "text/html"
    assert r.body == PAGE_FE
    assert r.header("content-length") == str(len(PAGE_FE))
    assert r.header("cache-control") == "no-store"
    assert origin.stats.requests == []


def test_backend_errorfile_wins_over_frontend(gatehouse, port, tmp_path):
    fe, be = pages(tmp_path)
    dead = free_port()
    gatehouse(simple_http_config(port, ["127.0.0.1:%d" % dead],
                                 frontend_extra="errorfile 502 %s" % fe,
                                 backend_extra="errorfile 502 %s\nretries 0" % be))
    r = request(port, "GET", "/")
    assert r.status == 502
    assert r.body == PAGE_BE and r.header("content-type") == "text/html"


def test_deny_without_body_serves_errorfile(gatehouse, origin, port, tmp_path):
    fe, _ = pages(tmp_path)
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra=(
        "errorfile 403 %s\nhttp_request deny if path prefix /admin\n"
        "http_request deny body \"own text\" if path prefix /secret" % fe)))
    r = request(port, "GET", "/admin")
    assert r.status == 403 and r.body == PAGE_FE
    r = request(port, "GET", "/secret")
    assert r.status == 403 and r.body == b"own text"


def test_deny_of_a_post_keeps_the_connection(gatehouse, origin, port):
    """The denied request's body is read and dropped, then the same
    connection carries the next request to the origin."""
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="http_request deny if path == /no"))
    s = connect(port)
    rd = Reader(s)
    try:
        body = b"x" * 5000
        s.sendall(build_request("POST", "/no", headers=[("Content-Length", str(len(body)))])
                  + body)
        r = rd.read_response()
        assert r.status == 403
        assert (r.header("connection") or "").lower() != "close"
        s.sendall(build_request("GET", "/echo?after=deny"))
        r = rd.read_response()
        assert r.status == 200 and r.json()["target"] == "/echo?after=deny"
        # chunked body too
        s.sendall(build_request("POST", "/no", headers=[("Transfer-Encoding", "chunked")])
                  + b"5\r\nhello\r\n0\r\n\r\n")
        assert rd.read_response().status == 403
        s.sendall(build_request("GET", "/echo?after=chunked"))
        assert rd.read_response().json()["target"] == "/echo?after=chunked"
    finally:
        s.close()
    assert [x["target"] for x in origin.stats.requests] == ["/echo?after=deny",
                                                            "/echo?after=chunked"]


def test_head_gets_no_body_from_a_local_reply(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra=(
        'http_request return status 200 content_type "text/plain" body "pong" '
        'if path == /ping')))
    s = connect(port)
    rd = Reader(s)
    try:
        s.sendall(build_request("HEAD", "/ping"))
        r = rd.read_response(method="HEAD")
        assert r.status == 200 and r.header("content-length") == "4" and r.body == b""
        s.sendall(build_request("GET", "/ping"))
        r = rd.read_response()
        assert r.body == b"pong" and r.header("content-type") == "text/plain"
    finally:
        s.close()


def test_protocol_errors_still_close(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], frontend_extra="max_body_size 10"))
    s = connect(port)
    rd = Reader(s)
    try:
        s.sendall(build_request("POST", "/echo", headers=[("Content-Length", "100")])
                  + b"y" * 100)
        r = rd.read_response()
        assert r.status == 413 and r.header("connection") == "close"
        _, closed = drain(s, 2 * ghutil.SLACK, bytes(rd.buf))
        assert closed
    finally:
        s.close()


def test_check_reports_bad_errorfiles(tmp_path):
    big = tmp_path / "big.html"
    big.write_bytes(b"x" * (16 * 1024 + 1))
    conf = tmp_path / "g.conf"
    conf.write_text(
        "frontend web {\n"
        "    bind 127.0.0.1:%d\n"
        "    errorfile 503 missing.html\n"
        "    errorfile 502 big.html\n"
        "    errorfile 200 big.html\n"
        "    default_backend app\n"
        "}\n"
        "backend app {\n    server s1 127.0.0.1:9\n}\n" % free_port())
    p = run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode == 1
    assert "g.conf:3:19: error: cannot read errorfile '%s/missing.html'" % tmp_path in err
    assert "g.conf:4:19: error: errorfile '%s/big.html' is larger than 16k" % tmp_path in err
    assert "g.conf:5:15: error:" in err
