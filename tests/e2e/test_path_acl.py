"""Path conditions read the path as sent and as a normalising server reads
it (filter/cond.c cond_norm_view: %2F and unreserved %XX decoded, runs of
'/' merged, then dot segments removed), without a WAF: a path a backend
reads as /admin/... does not pass `deny if path prefix /admin/` nor skip a
`use_backend` rule; a path both readings agree on is forwarded as sent."""
import pytest

import ghutil
from ghutil import simple_http_config
from test_waf import send, untouched

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="gatehouse's two-way path reading")

DENY = "http_request deny if path prefix /admin/"


def targets(origin):
    return [r["target"] for r in origin.stats.requests]


@pytest.mark.parametrize("target", [
    "//admin/x",            # nginx merge_slashes (the default) reads /admin/x
    "/a//..//admin/x",      # merged, then resolved: /admin/x
    "/a//../admin/x",       # merged first: /admin/x (not /a/admin/x)
    "/%61dmin/x",           # %61 is 'a': every server decodes it
    "/adm%69n%2Fx",         # unreserved and an encoded slash
    "//%61dmin//x",
])
def test_deny_is_not_passed_by_merged_slashes_or_encoded_letters(gatehouse, origin, port,
                                                                  target):
    g = gatehouse(simple_http_config(port, [origin.addr], frontend_extra=DENY))
    st = send(port, "GET", target).status
    assert st in (400, 403), (target, st, g.stderr_tail())
    assert untouched(origin), origin.stats.snapshot()


def test_paths_read_the_same_both_ways_are_forwarded_as_sent(gatehouse, origin, port):
    g = gatehouse(simple_http_config(port, [origin.addr], frontend_extra=DENY))
    sent = ["/public/x", "/public//x", "/%7Euser/", "/ADMIN/x", "/a%20b/%3Cc%3E",
            "/app/page.jsp;jsessionid=A1B2", "/admin;x/y"]
    for target in sent:
        assert send(port, "GET", target).status == 200, (target, g.stderr_tail())
    assert targets(origin) == sent
    assert "a path condition reads the path two ways" not in g.stderr_text()


def test_use_backend_reads_the_path_both_ways(gatehouse, make_origin, port):
    app, adm = make_origin("app"), make_origin("adm")
    cfg = (ghutil.global_block(1, "2s", "")
           + ghutil.frontend_block(port, "app", "http", "use_backend adm if path prefix /admin/")
           + ghutil.backend_block("app", [app.addr], "http", "")
           + ghutil.backend_block("adm", [adm.addr], "http", ""))
    g = gatehouse(cfg)
    # read as /admin/... by a normalising server, not as sent: which
    # backend it belongs to is unknown, refused before either sees it
    for target in ("//admin/x", "/%61dmin/x", "/a//..//admin/x"):
        assert send(port, "GET", target).status == 400, (target, g.stderr_tail())
    assert "a path condition reads the path two ways" in g.stderr_text()
    assert untouched(app) and untouched(adm)
    # the same answer both ways: routed as today, forwarded as sent
    for target in ("/admin//x", "/%61pp/x", "/app//x"):
        assert send(port, "GET", target).status == 200, (target, g.stderr_tail())
    assert targets(adm) == ["/admin//x"]
    assert targets(app) == ["/%61pp/x", "/app//x"]
