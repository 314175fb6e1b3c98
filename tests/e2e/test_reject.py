"""Malformed and ambiguous requests (request smuggling vectors) are answered
with the right status, the connection is closed, and NOTHING reaches the
origin."""

import socket

import pytest

import httpraw
import ghutil
from ghutil import simple_http_config
from origins import HttpOrigin

MAX_BODY = 1024

H = b"Host: t"


def req(head_lines, body=b"", line=b"POST /echo HTTP/1.1"):
    return line + b"\r\n" + b"".join(l + b"\r\n" for l in head_lines) + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked"

CASES = [
    # --- framing: Content-Length / Transfer-Encoding ---
    ("cl_and_te", req([H, b"Content-Length: 5", CHUNKED], b"0\r\n\r\n"), {400}),
    ("te_and_cl", req([H, CHUNKED, b"Content-Length: 5"], b"0\r\n\r\n"), {400}),
    ("cl_differing", req([H, b"Content-Length: 5", b"Content-Length: 6"], b"hello!"), {400}),
    ("cl_list_differing", req([H, b"Content-Length: 5, 6"], b"hello!"), {400}),
    ("cl_alpha", req([H, b"Content-Length: abc"], b"abc"), {400}),
    ("cl_negative", req([H, b"Content-Length: -1"], b"a"), {400}),
    ("cl_plus_sign", req([H, b"Content-Length: +5"], b"hello"), {400}),
    ("cl_hex", req([H, b"Content-Length: 0x5"], b"hello"), {400}),
    ("cl_inner_space", req([H, b"Content-Length: 1 0"], b"0123456789"), {400}),
    ("cl_empty", req([H, b"Content-Length: "], b""), {400}),
    ("cl_overflow", req([H, b"Content-Length: 184467440737095516160"], b"x"), {400, 413}),
    ("te_gzip", req([H, b"Transfer-Encoding: gzip"], b"abc"), {400}),
    ("te_identity", req([H, b"Transfer-Encoding: identity"], b"abc"), {400}),
    ("te_chunked_then_gzip", req([H, b"Transfer-Encoding: chunked, gzip"], b"0\r\n\r\n"), {400}),
    ("te_two_fields_not_final_chunked", req([H, CHUNKED, b"Transfer-Encoding: gzip"], b"0\r\n\r\n"), {400}),
    ("te_xchunked", req([H, b"Transfer-Encoding: xchunked"], b"0\r\n\r\n"), {400}),
    ("te_space_before_colon", req([H, b"Transfer-Encoding : chunked"], b"0\r\n\r\n"), {400}),
    ("te_vertical_tab", req([H, b"Transfer-Encoding: \x0bchunked"], b"0\r\n\r\n"), {400}),
    # --- chunked body syntax ---
    ("chunk_size_not_hex", req([H, CHUNKED], b"zz\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk_size_overflow", req([H, CHUNKED], b"fffffffffffffffff1\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk_size_negative", req([H, CHUNKED], b"-5\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk_size_empty", req([H, CHUNKED], b"\r\nhello\r\n0\r\n\r\n"), {400}),
    ("chunk_data_overrun", req([H, CHUNKED], b"5\r\nhelloXX\r\n0\r\n\r\n"), {400}),
    ("chunk_bare_lf", req([H, CHUNKED], b"5\nhello\n0\n\n"), {400}),
    # --- header field syntax ---
    ("space_before_colon_host", req([b"Host : t"], line=b"GET /echo HTTP/1.1"), {400}),
    ("space_before_colon", req([H, b"X-Foo : bar"], line=b"GET /echo HTTP/1.1"), {400}),
    ("obs_fold_space", req([H, b"X-Foo: a", b"  b"], line=b"GET /echo HTTP/1.1"), {400}),
    ("obs_fold_tab", req([H, b"X-Foo: a", b"\tb"], line=b"GET /echo HTTP/1.1"), {400}),
    ("nul_in_value", req([H, b"X-Foo: a\x00b"], line=b"GET /echo HTTP/1.1"), {400}),
    ("cr_in_value", req([H, b"X-Foo: a\rb"], line=b"GET /echo HTTP/1.1"), {400}),
    ("nul_in_name", req([H, b"X-F\x00oo: a"], line=b"GET /echo HTTP/1.1"), {400}),
    ("bad_char_in_name", req([H, b"X(Foo): a"], line=b"GET /echo HTTP/1.1"), {400}),
    ("empty_name", req([H, b": a"], line=b"GET /echo HTTP/1.1"), {400}),
    ("no_colon", req([H, b"X-Foo a"], line=b"GET /echo HTTP/1.1"), {400}),
    ("bare_lf_everywhere", b"GET /echo HTTP/1.1\nHost: t\n\n", {400}),
    ("bare_lf_one_header", b"GET /echo HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n", {400}),
    ("bare_cr_line_end", b"GET /echo HTTP/1.1\rHost: t\r\n\r\n", {400}),
    # --- request line ---
    ("method_bad_char", b"GE(T /echo HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("method_empty", b" /echo HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("double_space", b"GET  /echo HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("target_with_space", b"GET /ec ho HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("target_not_origin_form", b"GET echo HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("target_control_char", b"GET /e\x7fcho HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("target_nul", b"GET /e\x00cho HTTP/1.1\r\nHost: t\r\n\r\n", {400}),
    ("version_lowercase", b"GET /echo http/1.1\r\nHost: t\r\n\r\n", {400}),
    ("version_junk", b"GET /echo HTTX/1.1\r\nHost: t\r\n\r\n", {400}),
    ("version_trailing_junk", b"GET /echo HTTP/1.1x\r\nHost: t\r\n\r\n", {400}),
    ("version_two_digit_minor", b"GET /echo HTTP/1.10\r\nHost: t\r\n\r\n", {400}),
    ("version_missing", b"GET /echo\r\nHost: t\r\n\r\n", {400}),
    ("version_2", b"GET /echo HTTP/2.0\r\nHost: t\r\n\r\n", {400, 505}),
    # --- Host ---
    ("missing_host_http11", b"GET /echo HTTP/1.1\r\nX-A: b\r\n\r\n", {400}),
    ("duplicate_host", b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400}),
    ("duplicate_host_identical", b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", {400}),
    ("host_with_space", b"GET /echo HTTP/1.1\r\nHost: a b\r\n\r\n", {400}),
    # --- limits ---
    ("head_too_large_many_fields",
     req([H] + [b"X-Pad-%d: %s" % (i, b"p" * 1000) for i in range(20)], line=b"GET /echo HTTP/1.1"),
     {431}),
    ("head_too_large_one_field",
     req([H, b"X-Huge: " + b"h" * 20000], line=b"GET /echo HTTP/1.1"), {431}),
    ("target_too_long", b"GET /" + b"a" * 12000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", {414}),
    ("body_over_max_body_size", req([H, b"Content-Length: 2000"], b"B" * 2000), {413}),
]


class _Env:
    pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One gatehouse + origin for the whole module (starting one per case
    would dominate the run time); every case checks the process survived."""
    e = _Env()
    e.origin = HttpOrigin("reject")
    e.port = ghutil.free_port()
    binary = ghutil.gatehouse_bin()
    e.g = ghutil.Gatehouse(binary, simple_http_config(
        e.port, [e.origin.addr], frontend_extra="max_body_size %d" % MAX_BODY),
        str(tmp_path_factory.mktemp("reject")))
    e.g.start()
    yield e
    problems = e.g.teardown()
    e.origin.close()
    if problems:
        pytest.fail("\n".join(problems) + "\n--- stderr tail ---\n" + e.g.stderr_tail(),
                    pytrace=False)


def _settled(env):
    """The origin has taken in everything the proxy sent it so far.  Called
    once the proxy has answered and closed the client connection (the
    request is over on the proxy's side), so a request forwarded late, even
    after the answer, is in the counts checked next."""
    assert env.origin.settle(5 * ghutil.SLACK), "origin still has unread bytes"
    return env.origin.stats


def _exchange(port, data):
    s = httpraw.connect(port, timeout=5 * ghutil.SLACK)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass      # the proxy may answer and close before taking it all
        rd = httpraw.Reader(s)
        try:
            r = rd.read_response()
        except ConnectionResetError:
            pytest.fail("connection reset before a complete response arrived "
                        "(no lingering close?)")
        except httpraw.ProtocolError as e:
            pytest.fail("no valid response: %s" % e)
        except socket.timeout:
            pytest.fail("no response within %.0fs" % (5 * ghutil.SLACK))
        _, closed = httpraw.drain(s, 2 * ghutil.SLACK, bytes(rd.buf))
        return r, closed
    finally:
        s.close()


def test_control_valid_request_reaches_origin(env):
    """Makes sure the zero-bytes assertions below are not vacuous."""
    env.origin.stats.reset()
    r, _ = _exchange(env.port, req([H, b"Content-Length: 5", b"Connection: close"], b"hello"))
    assert r.status == 200
    assert env.origin.stats.bytes_in > 0 and len(env.origin.stats.requests) == 1


@pytest.mark.parametrize("name,data,statuses", CASES, ids=[c[0] for c in CASES])
def test_rejected(env, name, data, statuses):
    assert env.g.alive(), "gatehouse is not running (crashed in an earlier case?)"
    # Warm the backend pool first: with an idle backend connection at hand
    # a proxy could forward a head at once, before checking what follows.
    warm, _ = _exchange(env.port, req([H, b"Connection: close"], line=b"GET /echo HTTP/1.1"))
    assert warm.status == 200
    env.origin.stats.reset()
    r, closed = _exchange(env.port, data)
    assert r.status in statuses, "%s: got %d, expected %s" % (name, r.status, sorted(statuses))
    assert r.body_len < 1024, "error response body is %d bytes" % r.body_len
    assert closed, "connection left open after a %d" % r.status
    st = _settled(env)
    assert st.accepts == 0 and st.bytes_in == 0 and st.heads == 0, \
        "rejected request reached the origin: %d connections, %d bytes, %d heads" % (
            st.accepts, st.bytes_in, st.heads)
    assert env.g.alive()


def test_chunked_body_over_max_body_size(env):
    """A chunked body that crosses max_body_size is answered 413 and never
    delivered complete to the origin."""
    env.origin.stats.reset()
    body = b"".join(b"100\r\n" + b"c" * 256 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
    r, closed = _exchange(env.port, req([H, CHUNKED], body))
    assert r.status == 413
    assert closed
    assert len(_settled(env).requests) == 0, "over-limit chunked body was delivered"


def test_expect_100_over_max_body_size(env):
    """With Expect: 100-continue and a too-large Content-Length the final
    413 comes first: no 100 Continue, and the origin sees nothing."""
    env.origin.stats.reset()
    s = httpraw.connect(env.port, timeout=5 * ghutil.SLACK)
    try:
        s.sendall(req([H, b"Content-Length: 5000", b"Expect: 100-continue"]))
        rd = httpraw.Reader(s)
        r = rd.read_response(allow_interim=True)
        _, closed = httpraw.drain(s, 2 * ghutil.SLACK, bytes(rd.buf))
    finally:
        s.close()
    assert r.status == 413
    assert closed, "connection left open after the 413"
    st = _settled(env)
    assert st.accepts == 0 and st.bytes_in == 0


def test_keepalive_request_then_smuggled_second(env):
    """A valid request followed on the same connection by a CL+TE one: the
    first is answered, the second rejected, and the origin only ever sees the
    first."""
    env.origin.stats.reset()
    first = req([H, b"Content-Length: 3"], b"abc")
    second = req([H, b"Content-Length: 6", CHUNKED], b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
    s = httpraw.connect(env.port, timeout=5 * ghutil.SLACK)
    try:
        s.sendall(first + second)
        rd = httpraw.Reader(s)
        r1 = rd.read_response()
        r2 = rd.read_response()
        _, closed = httpraw.drain(s, 2 * ghutil.SLACK, bytes(rd.buf))
    finally:
        s.close()
    assert r1.status == 200
    assert r2.status == 400
    assert closed
    st = _settled(env)
    targets = [q["target"] for q in st.requests]
    assert targets == ["/echo"], targets
    assert st.heads == 1
    assert st.requests[0]["body_len"] == 3


def test_chunked_terminator_then_pipelined_request_http11(env):
    """Bytes after a chunked body's terminator in the same packet are the
    next request: with HTTP/1.1 it is a pipelined request the client framed
    as one, so it is answered as its own request - never glued to the first
    as body, never dropped, never forwarded before the first is done."""
    env.origin.stats.reset()
    data = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
    s = httpraw.connect(env.port, timeout=5 * ghutil.SLACK)
    try:
        s.sendall(data)
        rd = httpraw.Reader(s)
        r1 = rd.read_response()
        try:
            r2 = rd.read_response()
        except (socket.timeout, httpraw.ProtocolError) as e:
            pytest.fail("no answer to the request after the terminator (%s): dropped, or "
                        "passed on as part of the first request?" % e)
        s.sendall(req([H, b"Connection: close"], line=b"GET /echo?third HTTP/1.1"))
        r3 = rd.read_response()
        rest, closed = httpraw.drain(s, 2 * ghutil.SLACK, bytes(rd.buf))
    finally:
        s.close()
    assert [r1.status, r2.status, r3.status] == [200, 200, 200]
    j1, j2 = r1.json(), r2.json()
    assert (j1["method"], j1["target"], j1["body_len"]) == ("POST", "/echo", 0), j1
    assert j1["chunk_lines"] == ["0"], j1
    assert (j2["method"], j2["target"], j2["body_len"]) == ("GET", "/smuggled", 0), j2
    assert rest == b"" and closed
    st = _settled(env)
    assert [(q["method"], q["target"], q["body_len"]) for q in st.requests] == [
        ("POST", "/echo", 0), ("GET", "/smuggled", 0), ("GET", "/echo?third", 0)]
    assert st.heads == 3


def test_chunked_terminator_smuggling_http10(env):
    """RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 request is faulty
    framing; gatehouse refuses it (400, close, as h1.c says), so neither the
    request nor what follows its terminator reaches the origin."""
    env.origin.stats.reset()
    data = (b"POST /echo HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
    r, closed = _exchange(env.port, data)
    assert r.status == 400
    assert closed
    st = _settled(env)
    assert st.accepts == 0 and st.bytes_in == 0 and st.heads == 0, st.snapshot()


@pytest.mark.parametrize("size,status", [(MAX_BODY - 1, 200), (MAX_BODY, 200), (MAX_BODY + 1, 413)])
def test_max_body_size_boundary(env, size, status):
    env.origin.stats.reset()
    r, _ = _exchange(env.port, req([H, b"Content-Length: %d" % size, b"Connection: close"], b"x" * size))
    assert r.status == status
    if status == 200:
        assert r.json()["body_len"] == size
    else:
        assert _settled(env).bytes_in == 0


@pytest.mark.parametrize("size,status", [(MAX_BODY, 200), (MAX_BODY + 1, 413)])
def test_max_body_size_boundary_chunked(env, size, status):
    env.origin.stats.reset()
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (size, b"y" * size)
    r, _ = _exchange(env.port, req([H, CHUNKED, b"Connection: close"], body))
    assert r.status == status
    if status == 200:
        assert r.json()["body_len"] == size and r.json()["chunk_lines"] == ["%x" % size, "0"]
    else:
        assert len(_settled(env).requests) == 0
