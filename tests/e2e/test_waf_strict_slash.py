"""Encoded slashes in the path (`strict_encoded_slash allow`, the default;
waf/strict.c, filter/cond.c; tests/waf/default-exclusions.md "Strict
decoding: encoded slashes").

The APIs that need %2F (GitLab, RabbitMQ, Gerrit) get their path through
byte for byte; a dot segment around a decoded slash, an absolute path once
decoded, %252F and %5C are still refused; gatehouse's own path conditions
read the slash both ways, so `deny if path prefix /admin/` is not passed by
/admin%2Fx, whatever the server does with it."""
import pytest

import ghutil
from ghutil import simple_http_config
from test_access_log import json_lines
from test_waf import send, start, untouched, waf_block

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

FORWARDED = [
    # GitLab: a project and a file by path (h13-vcs-004's shape)
    "/api/v4/projects/group%2Fsubgroup%2Fproject/repository/files/src%2Fmain.c/raw?ref=main",
    "/api/v4/projects/acme%2Fplatform%2Fbilling-service",
    # RabbitMQ's default vhost "/"
    "/api/queues/%2F",
    "/api/policies/%2F/ha-orders",
    # Gerrit: a change id and a file path
    "/changes/platform%2Fgateway~master~I8473b95934b5732ac55d26311a706c9c2bde9940"
    "/revisions/current/review",
    "/changes/platform%2Fgateway~4471/revisions/3/files/src%2Fproxy%2Fconn.c/diff",
    # CouchDB's design documents, lowercase hex
    "/db/_design%2fusers/_view/by_name",
]


def origin_targets(origin):
    return [r["target"] for r in origin.stats.requests]


def test_encoded_slash_apis_reach_the_origin_as_sent(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for target in FORWARDED:
        r = send(port, "GET", target)
        assert r.status == 200, (target, g.stderr_tail())
    publish = b'{"properties":{},"routing_key":"orders","payload":"hi","payload_encoding":"string"}'
    r = send(port, "POST", "/api/exchanges/%2F/amq.default/publish",
             [("Content-Type", "application/json")], publish)
    assert r.status == 200, g.stderr_tail()
    assert origin_targets(origin) == FORWARDED + ["/api/exchanges/%2F/amq.default/publish"]
    assert "ambiguous" not in g.stderr_text()


REFUSED = [
    ("/static%2F..%2F..%2Fetc%2Fpasswd", "a dot segment in a path with an encoded slash"),
    ("/a%2F%2E%2E%2Fadmin", "a dot segment hidden by percent-encoding"),
    ("/x%2F..%2Fadmin/y", "a dot segment in a path with an encoded slash"),
    ("/x/..%2Fadmin/y", "a dot segment in a path with an encoded slash"),
    ("/api/v4/projects/group%2F..%2F..%2Fadmin", "a dot segment in a path with an encoded slash"),
    ("/files/%2Fetc%2Fpasswd", "an encoded slash opening a segment"),
    ("/api/v1/coupons/x%2fsnippets", "a name the WAF's defaults read made by an encoded slash"),
    ("/a%252Fb", "double percent-encoding"),
    ("/a%5Cb", "an encoded backslash"),
    ("/a%c0%afb", "overlong UTF-8"),
]


@pytest.mark.parametrize("target,why", REFUSED, ids=[t for t, _ in REFUSED])
def test_traversal_and_other_encodings_are_refused(gatehouse, origin, port, tmp_path,
                                                   target, why):
    log = tmp_path / "access.log"
    g = start(gatehouse, port, origin, fe="use_waf crs\naccess_log %s format json" % log)
    r = send(port, "GET", target)
    assert r.status == 400, g.stderr_tail()
    (a,) = json_lines(str(log), 1)
    assert a["term"] == "waf-ambiguous", a
    assert "waf crs ambiguous: " + why in g.stderr_text(), g.stderr_tail()
    assert untouched(origin)


ACL = "http_request deny if path prefix /admin/\nuse_waf crs"


@pytest.mark.parametrize("target", ["/admin%2Fusers", "/admin%2fusers/1", "/admin/x%2Fy"])
def test_acl_is_not_passed_by_an_encoded_slash(gatehouse, origin, port, target):
    g = start(gatehouse, port, origin, fe=ACL)
    assert send(port, "GET", target).status == 403, g.stderr_tail()
    assert untouched(origin)


def test_acl_traversal_through_an_encoded_slash_is_refused(gatehouse, origin, port):
    # the rule reads the path as a normalising server does (/admin/...):
    # denied before the WAF; a traversal that does not reach /admin/ is
    # strict's (400)
    g = start(gatehouse, port, origin, fe=ACL)
    for target in ("/x%2F..%2Fadmin/y", "/public%2F..%2Fadmin/users", "/x%2F%2E%2E/admin/y"):
        assert send(port, "GET", target).status == 403, (target, g.stderr_tail())
    assert send(port, "GET", "/x%2F..%2Fother/y").status == 400
    assert untouched(origin)
    # the same ACL leaves the rest alone
    assert send(port, "GET", "/api/v4/projects/admin%2Fproject").status == 200
    assert origin_targets(origin) == ["/api/v4/projects/admin%2Fproject"]


def test_a_condition_read_two_ways_is_refused(gatehouse, origin, port, tmp_path):
    # Skipping the WAF for /static/ must not skip it for /static%2F...,
    # which a server that keeps %2F reads as one segment outside
    # /static/: the condition holds one way and not the other, so 400.
    # Same without a WAF at all, for a routing rule.
    log = tmp_path / "access.log"
    g = start(gatehouse, port, origin,
              fe="use_waf crs unless path prefix /static/\naccess_log %s format json" % log)
    assert send(port, "GET", "/static%2Fapp.js?id=1'%20or%201=1--").status == 400, g.stderr_tail()
    assert "a path condition reads the path two ways" in g.stderr_text()
    assert untouched(origin)
    (a,) = json_lines(str(log), 1)
    assert a["status"] == 400, a
    # both ways the same: no refusal
    assert send(port, "GET", "/static/app%2Fmain.js").status == 200
    assert send(port, "GET", "/api/queues/%2F").status == 200
    assert origin_targets(origin) == ["/static/app%2Fmain.js", "/api/queues/%2F"]


def test_routing_condition_read_two_ways_without_a_waf(gatehouse, make_origin, port):
    app, pub = make_origin("app"), make_origin("pub")
    cfg = (ghutil.global_block(1, "2s", "")
           + ghutil.frontend_block(port, "app", "http", "use_backend pub if path prefix /public/")
           + ghutil.backend_block("app", [app.addr], "http", "")
           + ghutil.backend_block("pub", [pub.addr], "http", ""))
    g = gatehouse(cfg)
    assert send(port, "GET", "/public%2Fx").status == 400, g.stderr_tail()
    assert send(port, "GET", "/public/../app/x").status == 400
    assert "a path condition reads the path two ways" in g.stderr_text()
    assert send(port, "GET", "/public/a%2Fb").status == 200
    assert send(port, "GET", "/api/a%2Fb").status == 200
    # /public/.. is / both ways: the default backend, as /admin would be
    assert send(port, "GET", "/public%2F..%2Fadmin").status == 200
    assert [r["target"] for r in pub.stats.requests] == ["/public/a%2Fb"]
    assert [r["target"] for r in app.stats.requests] == ["/api/a%2Fb", "/public%2F..%2Fadmin"]


def test_acl_without_a_waf_reads_the_normalised_path(gatehouse, origin, port):
    # no strict check here: the condition itself reads the path as a
    # server that decodes %2F and removes dot segments does
    g = gatehouse(simple_http_config(
        port, [origin.addr], frontend_extra="http_request deny if path prefix /admin/"))
    for target in ("/admin%2Fx", "/x%2F..%2Fadmin/y", "/x/../admin/y", "/x/%2e%2e/admin/y"):
        assert send(port, "GET", target).status == 403, (target, g.stderr_tail())
    assert untouched(origin)
    assert send(port, "GET", "/api/v4/projects/a%2Fb").status == 200
    assert origin_targets(origin) == ["/api/v4/projects/a%2Fb"]


def test_strict_encoded_slash_reject(gatehouse, origin, port):
    # the option: only an npm scoped name's slash (D44), as before
    g = gatehouse(simple_http_config(port, [origin.addr], frontend_extra="use_waf crs")
                  + waf_block("strict_encoded_slash reject"))
    assert send(port, "GET", FORWARDED[0]).status == 400
    assert "waf crs ambiguous: an encoded slash in the path (%2F)" in g.stderr_text()
    assert send(port, "GET", "/@acme%2fdesign-tokens").status == 200
    assert origin_targets(origin) == ["/@acme%2fdesign-tokens"]
