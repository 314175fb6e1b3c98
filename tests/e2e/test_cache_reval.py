"""The response cache (issue 11), second part: revalidation of stale
entries with the stored validators and the header refresh of a 304 (RFC
9111 4.3.4), stale-if-error and stale-while-revalidate (RFC 5861, never
past must-revalidate) with the origin stopped, invalidation by unsafe
methods (4.4), PURGE from purge_from sources, and poisoning attempts
(headers outside the key stripped).  See test_cache.py for the rest.
"""

import time

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from test_cache import HOST, cache_block, get, start, status_of
from test_tls import pki  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def reval_origin(o, path, cc="max-age=1", etag='"e1"', body=b"v1", extra=()):
    """First answer: a full response (Cache-Control cc); then 304 with
    max-age=60 to a matching If-None-Match."""
    def fn(req):
        if req.get("if-none-match") == etag:
            return {"status": 304, "headers": [("Cache-Control", "max-age=60"), ("ETag", etag),
                                               ("X-Refreshed", str(req.n))] + list(extra)}
        return {"headers": [("Cache-Control", cc), ("ETag", etag), ("X-Refreshed", "0"),
                            ("Content-Type", "text/x-one")] + list(extra), "body": body}
    o.script(path, fn=fn)


def test_stale_entry_is_revalidated_and_refreshed(gatehouse, port, sorigin):
    reval_origin(sorigin, "/rv", cc="max-age=1")
    start(gatehouse, port, sorigin)
    r = get(port, "/rv")
    assert r.body == b"v1"
    time.sleep(2.1)
    r = get(port, "/rv")
    # the origin got our validator, answered 304; the client gets the
    # stored body with the refreshed fields
    assert sorigin.last("/rv").get("if-none-match") == '"e1"'
    assert r.status == 200 and r.body == b"v1"
    assert r.header("x-refreshed") == "2"
    assert r.header("content-type") == "text/x-one"
    assert "fwd=stale" in status_of(r) and "fwd-status=304" in status_of(r)
    # fresh again: a hit with the refreshed fields
    r = get(port, "/rv")
    assert "hit" in status_of(r) and r.header("x-refreshed") == "2"
    assert sorigin.count("/rv") == 2


def test_revalidation_with_last_modified(gatehouse, port, sorigin):
    lm = "Tue, 01 Dec 2026 10:00:00 GMT"

    def fn(req):
        if req.get("if-modified-since") == lm:
            return {"status": 304, "headers": [("Cache-Control", "max-age=60")]}
        return {"headers": [("Cache-Control", "no-cache"), ("Last-Modified", lm)],
                "body": b"lm"}
    sorigin.script("/lm", fn=fn)
    start(gatehouse, port, sorigin)
    get(port, "/lm")
    r = get(port, "/lm")          # no-cache: always validated
    assert r.body == b"lm" and sorigin.count("/lm") == 2
    assert sorigin.last("/lm").get("if-modified-since") == lm
    r = get(port, "/lm")          # the 304 brought max-age=60 and dropped nothing else
    assert "hit" in status_of(r) and sorigin.count("/lm") == 2


def test_client_conditional_on_a_revalidated_entry(gatehouse, port, sorigin):
    reval_origin(sorigin, "/cc", cc="max-age=1")
    start(gatehouse, port, sorigin)
    get(port, "/cc")
    time.sleep(2.1)
    r = get(port, "/cc", [("If-None-Match", '"e1"')])
    assert r.status == 304
    time.sleep(2.1)
    r = get(port, "/cc", [("If-None-Match", '"other"')])
    assert r.status == 200 and r.body == b"v1"
    # the origin only ever saw the cache's own validator
    assert all(q.get("if-none-match") in (None, '"e1"') for q in sorigin.requests)


def test_changed_resource_replaces_the_entry(gatehouse, port, sorigin):
    sorigin.script("/ch", fn=lambda req: {
        "headers": [("Cache-Control", "max-age=%d" % (1 if req.n == 1 else 60)),
                    ("ETag", '"e%d"' % req.n)],
        "body": b"version %d" % req.n})
    start(gatehouse, port, sorigin)
    assert get(port, "/ch").body == b"version 1"
    time.sleep(2.1)
    assert get(port, "/ch").body == b"version 2"
    r = get(port, "/ch")
    assert r.body == b"version 2" and "hit" in status_of(r)


def test_stale_if_error_with_the_origin_stopped(gatehouse, port, sorigin):
    sorigin.script("/sie", headers=[("Cache-Control", "max-age=1, stale-if-error=60"),
                                    ("ETag", '"s"')], body=b"still here")
    sorigin.script("/mr", headers=[("Cache-Control",
                                    "max-age=1, stale-if-error=60, must-revalidate")],
                   body=b"strict")
    start(gatehouse, port, sorigin)
    get(port, "/sie")
    get(port, "/mr")
    time.sleep(2.1)
    sorigin.stop()
    r = get(port, "/sie")
    assert r.status == 200 and r.body == b"still here"
    assert "stale-if-error" in status_of(r)
    r = get(port, "/mr")                 # never past must-revalidate
    assert r.status >= 500


def test_stale_if_error_on_5xx_and_request_directive(gatehouse, port, sorigin):
    def fn(req):
        if req.n == 1:
            return {"headers": [("Cache-Control", "max-age=1")], "body": b"good"}
        return {"status": 503, "headers": [("Cache-Control", "no-store")], "body": b"down"}
    sorigin.script("/e5", fn=fn)
    start(gatehouse, port, sorigin)
    get(port, "/e5")
    time.sleep(2.1)
    r = get(port, "/e5")                 # no stale-if-error anywhere: the error passes
    assert r.status == 503
    r = get(port, "/e5", [("Cache-Control", "stale-if-error=600")])
    assert r.status == 200 and r.body == b"good"


def test_stale_while_revalidate(gatehouse, port, sorigin):
    # RFC 5861: every request, the first to find the entry stale included,
    # gets the stale object at once; one refresh runs in the background
    # (a request with no client, proxy/detached.c) and replaces it
    import threading
    release = threading.Event()

    def fn(req):
        if req.n > 1:
            release.wait(20)            # the refresh is held until the test saw the rest
        return {"headers": [("Cache-Control", "max-age=%d, stale-while-revalidate=60"
                             % (1 if req.n == 1 else 60))], "body": b"gen %d" % req.n}
    sorigin.script("/swr", fn=fn)
    start(gatehouse, port, sorigin)
    assert get(port, "/swr").body == b"gen 1"
    time.sleep(2.1)
    try:
        # the origin holds the refresh: this answer cannot come from it
        r = get(port, "/swr")
        assert r.body == b"gen 1" and "hit" in status_of(r), status_of(r)
        assert "stale-while-revalidate" in status_of(r)
        ghutil.wait_for(lambda: sorigin.count("/swr") == 2, 10, what="the background refresh")
        for _ in range(3):               # meanwhile: the stale object, at once
            r = get(port, "/swr")
            assert r.body == b"gen 1" and "hit" in status_of(r)
        assert sorigin.count("/swr") == 2    # refreshed once, not per request
    finally:
        release.set()
    ghutil.wait_for(lambda: get(port, "/swr").body == b"gen 2", 10,
                    what="the refreshed object")
    r = get(port, "/swr")
    assert r.body == b"gen 2" and "hit" in status_of(r) and "detail" not in status_of(r)
    assert sorigin.count("/swr") == 2


def test_stale_while_revalidate_background_304(gatehouse, port, sorigin):
    # the background refresh is conditional: its 304 refreshes the stored
    # head (a new max-age) and keeps the body
    seen = []

    def fn(req):
        if req.n > 1:
            seen.append(req.get("if-none-match"))
            return {"status": 304, "headers": [("ETag", '"v1"'),
                                               ("Cache-Control", "max-age=60")]}
        return {"headers": [("ETag", '"v1"'),
                            ("Cache-Control", "max-age=1, stale-while-revalidate=60")],
                "body": b"kept body"}
    sorigin.script("/swr304", fn=fn)
    start(gatehouse, port, sorigin)
    assert get(port, "/swr304").body == b"kept body"
    time.sleep(2.1)
    # the client's own conditional is answered here, never sent on
    r = get(port, "/swr304", [("If-None-Match", '"other"')])
    assert r.status == 200 and r.body == b"kept body"
    assert "stale-while-revalidate" in status_of(r)
    ghutil.wait_for(lambda: "max-age=60" in (get(port, "/swr304").header("cache-control") or ""),
                    10, what="the refreshed head")
    r = get(port, "/swr304")
    assert r.status == 200 and r.body == b"kept body" and "hit" in status_of(r)
    assert int(r.header("age")) < 2
    assert sorigin.count("/swr304") == 2
    assert seen == ['"v1"']      # ours, not the client's


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unsafe_methods_invalidate(gatehouse, port, sorigin, method):
    for p in ("/item", "/item/list", "/other"):
        sorigin.script(p, fn=lambda req, p=p: {
            "headers": [("Cache-Control", "max-age=60")] if req.method == "GET" else
            [("Location", "/item/list"), ("Content-Location", "http://evil.example/other")],
            "status": 200 if req.method == "GET" else 201,
            "body": b"%s %d" % (p.encode(), req.n)})
    start(gatehouse, port, sorigin)
    for p in ("/item", "/item/list", "/other"):
        get(port, p)
        assert "hit" in status_of(get(port, p))
    r = get(port, "/item", [("Content-Length", "2")] if method != "DELETE" else [],
            method=method) if method == "DELETE" else \
        __import__("httpraw").request(port, method, "/item", HOST, b"xx")
    assert r.status == 201
    assert "hit" not in status_of(get(port, "/item"))
    assert "hit" not in status_of(get(port, "/item/list"))       # Location, same host
    assert "hit" in status_of(get(port, "/other"))   # Content-Location on another host: kept


def test_failed_unsafe_method_does_not_invalidate(gatehouse, port, sorigin):
    sorigin.script("/keep", fn=lambda req: {
        "status": 200 if req.method == "GET" else 500,
        "headers": [("Cache-Control", "max-age=60")], "body": b"k"})
    start(gatehouse, port, sorigin)
    get(port, "/keep")
    r = get(port, "/keep", method="DELETE")
    assert r.status == 500
    assert "hit" in status_of(get(port, "/keep"))


def test_purge(gatehouse, port, sorigin):
    sorigin.script("/p", headers=[("Cache-Control", "max-age=60"), ("Vary", "Accept-Language")],
                   body=b"p")
    start(gatehouse, port, sorigin, extra="purge_from 127.0.0.0/8 ::1")
    get(port, "/p", [("Accept-Language", "en")])
    get(port, "/p", [("Accept-Language", "fr")])
    r = get(port, "/p", method="PURGE")
    assert r.status == 200
    assert get(port, "/p", method="PURGE").status == 404
    assert "hit" not in status_of(get(port, "/p", [("Accept-Language", "en")]))
    assert "hit" not in status_of(get(port, "/p", [("Accept-Language", "fr")]))
    assert sorigin.count("/p") == 4
    assert sorigin.count("/p", "PURGE") == 0


def test_purge_refused_to_others(gatehouse, port, sorigin):
    sorigin.script("/p", headers=[("Cache-Control", "max-age=60")], body=b"p")
    start(gatehouse, port, sorigin, extra="purge_from 10.0.0.0/8")
    get(port, "/p")
    r = get(port, "/p", method="PURGE")
    assert r.status == 405
    assert "hit" in status_of(get(port, "/p"))
    assert sorigin.count("/p", "PURGE") == 0


@pytest.mark.parametrize("field", ["X-Forwarded-Host", "X-Original-URL", "X-Rewrite-URL",
                                   "X-HTTP-Method-Override", "X-Host", "X-Forwarded-Server"])
def test_poisoning_headers_never_reach_the_origin(gatehouse, port, sorigin, field):
    # an origin that trusts the header would put it in its (cached) answer
    sorigin.script("/", fn=lambda req: {
        "headers": [("Cache-Control", "max-age=60")],
        "body": ("%s=%s" % (field, req.get(field))).encode()})
    start(gatehouse, port, sorigin)
    r = get(port, "/", [(field, "evil.example")])
    assert b"evil" not in r.body
    r = get(port, "/")
    assert b"evil" not in r.body and "hit" in status_of(r)
    # (X-Forwarded-Host comes back as the forwarding filter writes it: the Host)
    assert sorigin.last("/").get(field) in (None, "www.example.com")
    assert all(q.get(field) != "evil.example" for q in sorigin.requests)


def test_stale_while_revalidate_background_over_http2(gatehouse, port, sorigin):
    # an HTTP/2 client's request is copied for the background refresh too
    from h2util import H2Client

    def fn(req):
        return {"headers": [("Cache-Control", "max-age=%d, stale-while-revalidate=60"
                             % (1 if req.n == 1 else 60))], "body": b"v%d" % req.n}
    sorigin.script("/swr2", fn=fn)
    start(gatehouse, port, sorigin)
    with H2Client(port) as c:
        st = c.response(c.request("GET", "/swr2", authority="www.example.com"), 10)
        assert st.body == b"v1"
        time.sleep(2.1)
        st = c.response(c.request("GET", "/swr2", authority="www.example.com"), 10)
        assert st.status == 200 and st.body == b"v1"
    ghutil.wait_for(lambda: get(port, "/swr2").body == b"v2", 10, what="the refreshed object")
    assert sorigin.count("/swr2") == 2


def test_stale_while_revalidate_background_keeps_the_scheme(gatehouse, port, sorigin, pki):
    # the background copy of an https request is forwarded as https too
    # (X-Forwarded-Proto): an origin that redirects plain http would
    # otherwise replace the object with its redirect
    from test_tls import curl, tls_config
    protos = []

    def fn(req):
        protos.append(req.get("x-forwarded-proto"))
        if req.get("x-forwarded-proto") != "https":
            return {"status": 301, "headers": [("Location", "https://a.example.com/s"),
                                               ("Cache-Control", "max-age=600")], "body": b""}
        return {"headers": [("Cache-Control", "max-age=%d, stale-while-revalidate=60"
                             % (1 if req.n == 1 else 60))], "body": b"tls %d" % req.n}
    sorigin.script("/s", fn=fn)
    gatehouse(tls_config(port, [sorigin.addr], pki, be_extra="use_cache main")
              + cache_block())
    assert curl(port, pki, "/s")[1:] == (200, b"tls 1")
    time.sleep(2.1)
    assert curl(port, pki, "/s")[1:] == (200, b"tls 1")      # stale, refreshed behind
    ghutil.wait_for(lambda: curl(port, pki, "/s")[1:] == (200, b"tls 2"), 10,
                    what="the refreshed object")
    assert protos == ["https", "https"]


def test_stale_while_revalidate_background_keeps_the_tls_details(gatehouse, port, sorigin, pki,
                                                                tmp_path):
    # the background copy runs with the TLS details of the request that
    # started it: its client certificate (X-SSL-Client-DN to the origin,
    # `ssl_client_dn` in rules) and, in its access-log line, the TLS
    # version and SNI
    import json
    from test_tls import curl, tls_config
    sorigin.script("/t", fn=lambda req: {"headers": [(
        "Cache-Control", "max-age=%d, stale-while-revalidate=60" % (1 if req.n == 1 else 60))],
        "body": b"tls %d" % req.n})
    log = tmp_path / "access.log"
    bind = "tls cert %s verify optional ca %s" % (pki.p("a-chain.pem"), pki.ca)
    gatehouse(tls_config(port, [sorigin.addr], pki, bind,
                         fe_extra="access_log %s format json" % log,
                         be_extra="use_cache main\n"
                                  "http_request set_header X-Rule-DN %[ssl_client_dn] "
                                  "if ssl_client_dn == \"CN=alice,O=Example\"")
              + cache_block())
    alice = ("--cert", pki.p("alice.pem"))
    assert curl(port, pki, "/t", args=alice)[1:] == (200, b"tls 1")
    time.sleep(2.1)
    assert curl(port, pki, "/t", args=alice)[1:] == (200, b"tls 1")    # stale, refreshed behind
    ghutil.wait_for(lambda: sorigin.count("/t") == 2, 10, what="the background refresh")
    for r in (sorigin.requests[0], sorigin.last("/t")):
        assert r.get("x-ssl-client-dn") == "CN=alice,O=Example"
        assert r.get("x-rule-dn") == "CN=alice,O=Example"

    def lines():
        try:
            return [json.loads(l) for l in open(log) if l.strip()]
        except FileNotFoundError:
            return []
    got = ghutil.wait_for(lambda: len(lines()) >= 3 and lines(), 10, what="three log lines")
    assert [(l["status"], l["sni"], l["tls_version"] or "")[:2] for l in got] == \
        [(200, "a.example.com")] * 3
    assert all(l["tls_version"].startswith("TLSv1.") for l in got)
