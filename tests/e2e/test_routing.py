"""Routing: use_backend ... if/unless <condition> picks the right backend."""

import pytest

import httpraw
from ghutil import backend_block, frontend_block, global_block

RULES = """
use_backend api if path prefix /api/ or host == api.example.com
use_backend static if path suffix .css or path suffix .js
use_backend admin if method == DELETE and src in 10.0.0.0/8 127.0.0.0/8
use_backend blue if header(X-Color) == blue
use_backend q if query(version) == 2
use_backend sess if cookie(session) ~ ^abc[0-9]+$
use_backend methods if method in PUT PATCH
use_backend never unless src in 127.0.0.0/8
use_backend deep if path contains /deep/ and not header(X-Skip) == 1
use_backend neq if header(X-Env) prefix st and header(X-Env) != stop
use_backend unl unless method in GET HEAD POST PUT PATCH DELETE
"""

BACKENDS = ["api", "static", "admin", "blue", "q", "sess", "methods", "never", "deep",
            "neq", "unl", "app"]

CASES = [
    ("GET", "/api/users", [], "api"),
    ("GET", "/apix", [], "app"),
    ("GET", "/", [("Host", "api.example.com")], "api"),
    ("GET", "/", [("Host", "API.Example.COM")], "api"),
    ("GET", "/", [("Host", "www.example.com")], "app"),
    ("GET", "/style.css", [], "static"),
    ("GET", "/style.css?x=1", [], "static"),
    ("GET", "/app.js", [], "static"),
    ("GET", "/api/x.css", [], "api"),                     # first matching rule wins
    ("DELETE", "/thing", [], "admin"),
    ("GET", "/thing", [("X-Color", "blue")], "blue"),
    ("GET", "/thing", [("x-color", "blue")], "blue"),     # header names: any case
    ("GET", "/thing", [("X-Color", "Blue")], "app"),      # values: case-sensitive
    ("GET", "/thing?version=2", [], "q"),
    ("GET", "/thing?a=1&version=2&b=3", [], "q"),
    ("GET", "/thing?version=20", [], "app"),
    ("GET", "/thing", [("Cookie", "a=1; session=abc123; b=2")], "sess"),
    ("GET", "/thing", [("Cookie", "session=abc")], "app"),
    ("PUT", "/thing", [], "methods"),
    ("PATCH", "/thing", [], "methods"),
    ("POST", "/thing", [], "app"),
    ("GET", "/x/deep/y", [], "deep"),
    ("GET", "/x/deep/y", [("X-Skip", "1")], "app"),
    ("GET", "/thing", [("X-Env", "staging")], "neq"),
    ("GET", "/thing", [("X-Env", "stop")], "app"),
    ("GET", "/thing", [("X-Env", "prod")], "app"),
    ("OPTIONS", "/thing", [], "unl"),
]


@pytest.fixture
def routed(gatehouse, make_origin, port):
    origins = {b: make_origin(b) for b in BACKENDS}
    cfg = global_block() + frontend_block(port, "app", extra=RULES)
    for b in BACKENDS:
        cfg += backend_block(b, [origins[b].addr])
    gatehouse(cfg)
    return port, origins


def test_routing_table(routed):
    port, origins = routed
    failures = []
    for method, target, headers, want in CASES:
        r = httpraw.request(port, method, target, headers=headers, body=b"" if method != "POST" else b"x")
        got = r.json()["origin"] if r.status == 200 and method != "HEAD" else "status %d" % r.status
        if got != want:
            failures.append("%s %s %r -> %s (want %s)" % (method, target, headers, got, want))
    assert not failures, "\n".join(failures)
    assert origins["never"].stats.accepts == 0


def test_routing_per_request_on_one_connection(routed):
    """Each request on a keep-alive connection is routed on its own."""
    port, origins = routed
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    try:
        for target, want in [("/api/a", "api"), ("/b", "app"), ("/c.css", "static"), ("/api/d", "api")]:
            s.sendall(httpraw.build_request("GET", target))
            assert rd.read_response().json()["origin"] == want, target
    finally:
        s.close()


def test_routing_parentheses_and_precedence(gatehouse, make_origin, port):
    o = {b: make_origin(b) for b in ("paren", "prec", "app")}
    rules = """
use_backend paren if ( path prefix /p1 or path prefix /p2 ) and method == POST
use_backend prec if path prefix /q1 or path prefix /q2 and method == POST
"""
    cfg = global_block() + frontend_block(port, "app", extra=rules)
    for b in o:
        cfg += backend_block(b, [o[b].addr])
    gatehouse(cfg)
    cases = [("POST", "/p1", "paren"), ("POST", "/p2x", "paren"), ("GET", "/p1", "app"),
             ("GET", "/q1", "prec"),        # and binds tighter than or
             ("GET", "/q2", "app"), ("POST", "/q2", "prec")]
    for method, target, want in cases:
        r = httpraw.request(port, method, target, body=b"x" if method == "POST" else b"")
        assert r.json()["origin"] == want, (method, target)


def test_default_backend_only(gatehouse, make_origin, port):
    o = make_origin("only")
    gatehouse(global_block() + frontend_block(port, "only") + backend_block("only", [o.addr]))
    assert httpraw.request(port, "GET", "/anything").json()["origin"] == "only"


def test_no_rule_matches_and_no_default_backend(gatehouse, make_origin, port):
    """No default_backend and no matching rule: 503, origin untouched."""
    o = make_origin("api")
    cfg = (global_block()
           + frontend_block(port, None, extra="use_backend api if path prefix /api/")
           + backend_block("api", [o.addr]))
    gatehouse(cfg)
    assert httpraw.request(port, "GET", "/api/x").json()["origin"] == "api"
    r = httpraw.request(port, "GET", "/other")
    assert r.status == 503
    assert len(o.stats.requests) == 1


def test_two_frontends_share_backend(gatehouse, make_origin):
    from ghutil import free_port
    o1, o2 = make_origin("one"), make_origin("two")
    p1, p2 = free_port(), free_port()
    cfg = (global_block()
           + frontend_block(p1, "one", name="f1")
           + frontend_block(p2, "two", name="f2",
                            extra="use_backend one if header(X-One) == yes")
           + backend_block("one", [o1.addr]) + backend_block("two", [o2.addr]))
    gatehouse(cfg)
    assert httpraw.request(p1, "GET", "/").json()["origin"] == "one"
    assert httpraw.request(p2, "GET", "/").json()["origin"] == "two"
    assert httpraw.request(p2, "GET", "/", headers=[("X-One", "yes")]).json()["origin"] == "one"
