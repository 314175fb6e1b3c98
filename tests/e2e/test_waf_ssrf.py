"""gatehouse's SSRF detection (waf/crs_defaults.c 90070-90073,
tests/waf/default-exclusions.md "native detections: SSRF"): a URL argument
that points at a cloud metadata service, at loopback written as one number,
in hex or as an IPv6-mapped address, at a loopback port of an internal
service, or uses gopher:/dict: (or such a URL in the request path, as an
image proxy takes it), is refused at PL1 before the origin sees it,
with the pre-filter on (the rules are gatehouse's own: the pre-filter must
see them, or the request would skip ModSecurity).  A dev OAuth redirect to
localhost, prose that mentions the metadata address and a hex value that is
not a URL pass.  `defaults off` (the CRS 3.3.4 as shipped) lets the attacks
through; `exclude` of the ids does too."""

import json
from urllib.parse import quote, urlencode

import pytest

import ghutil
from test_waf import FORM, JSON, send, start

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

# (method, target, headers, body, the rule that refuses it)
ATTACKS = [
    ("GET", "/api/unfurl?url=" + quote("http://metadata.google.internal/computeMetadata/v1/"),
     (), b"", "90070"),
    ("POST", "/api/webhooks", JSON,
     json.dumps({"url": "http://[::ffff:a9fe:a9fe]/latest/meta-data/"}).encode(), "90071"),
    ("GET", "/img/fetch?src=" + quote("http://0x7f000001:8080/admin"), (), b"", "90071"),
    ("GET", "/proxy?u=" + quote("http://2852039166/latest/meta-data/"), (), b"", "90071"),
    ("POST", "/feeds", FORM, urlencode({"feed_url": "gopher://127.0.0.1:6379/_FLUSHALL"}).encode(),
     "90072"),
    ("POST", "/settings/webhooks", JSON,
     json.dumps({"target_url": "http://localhost:2375/containers/json"}).encode(), "90073"),
    ("GET", "/unsafe/300x200/http://169.254.169.254/latest/meta-data/", (), b"", "90075"),
]

BENIGN = [
    ("GET", "/oauth/authorize?client_id=dev-1&redirect_uri="
     + quote("http://localhost:3000/callback"), (), b""),
    ("POST", "/docs/comments", JSON, json.dumps(
        {"body": "On EC2 the SDK asks http://169.254.169.254/latest/meta-data/ "
                 "when no keys are set."}).encode()),
    ("POST", "/api/crashes", JSON, json.dumps({"fault_addr": "0x7f000001"}).encode()),
    ("GET", "/api/unfurl?url=" + quote("https://1password.com/downloads/"), (), b""),
    ("GET", "/unsafe/300x200/smart/https://cdn.example.com/products/1234.jpg", (), b""),
]


def test_ssrf_forms_are_refused_lookalikes_pass(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="prefilter on")
    for method, target, headers, body in BENIGN:
        assert send(port, method, target, headers, body).status == 200, target
    heads = origin.stats.heads
    assert heads == len(BENIGN)
    for method, target, headers, body, _ in ATTACKS:
        assert send(port, method, target, headers, body).status == 403, (target, body)
    assert origin.stats.heads == heads        # none of them reached the origin
    lines = [l for l in g.stderr_text().splitlines() if "waf crs blocked" in l]
    for rule in ("90070", "90071", "90072", "90073", "90075"):
        assert any(rule + " Server-side request forgery" in l for l in lines), (rule, lines)


@pytest.mark.parametrize("waf", ["defaults off", "exclude 90070-90075"])
def test_without_the_rules_the_crs_lets_them_through(gatehouse, origin, port, waf):
    start(gatehouse, port, origin, waf=waf)
    for method, target, headers, body, _ in ATTACKS:
        assert send(port, method, target, headers, body).status == 200, (waf, target, body)
