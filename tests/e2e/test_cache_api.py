"""Purges through the runtime API (issues 11 and 12): POST
/api/caches/NAME/purge by URL prefix and by Surrogate-Key tag; what was
purged is fetched again, what was not stays a hit."""

import http.client
import json

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import SLACK, free_port, listening_ports, simple_http_config, wait_for
from httpraw import request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")

HOST = [("Host", "www.example.com")]


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def api(admin, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", admin, timeout=10 * SLACK)
    try:
        data = json.dumps(body) if isinstance(body, dict) else body
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        return r.status, json.loads(r.read().decode())
    finally:
        c.close()


def hit(port, path):
    r = request(port, "GET", path, HOST)
    assert r.status == 200
    return (r.header("cache-status") or "").startswith("gatehouse; hit")


def test_purge_by_prefix_and_by_tag(gatehouse, port, sorigin):
    cc = [("Cache-Control", "max-age=600"), ("Content-Type", "text/plain")]
    sorigin.script("/img/a", headers=cc + [("Surrogate-Key", "imgs a")], body=b"a")
    sorigin.script("/img/b", headers=cc + [("Surrogate-Key", "imgs")], body=b"b")
    sorigin.script("/doc/c", headers=cc + [("Surrogate-Key", "docs c-1")], body=b"c")
    sorigin.script("/doc/d", headers=cc, body=b"d")
    admin = free_port()
    gatehouse(simple_http_config(port, [sorigin.addr], backend_extra="use_cache main",
                                 global_extra="    admin 127.0.0.1:%d\n" % admin)
              + "cache main {\n    size 4m\n}\n")
    wait_for(lambda: admin in listening_ports(), 10 * SLACK, what="the admin listener")
    paths = ["/img/a", "/img/b", "/doc/c", "/doc/d"]
    for p in paths:
        assert not hit(port, p)
        assert hit(port, p)

    st, j = api(admin, "POST", "/api/caches/main/purge",
                {"url_prefix": "http://WWW.example.com:80/img/"})
    assert (st, j) == (200, {"cache": "main", "purged": 2})
    assert [hit(port, p) for p in paths] == [False, False, True, True]
    assert sorigin.count("/img/a") == 2 and sorigin.count("/doc/c") == 1

    st, j = api(admin, "POST", "/api/caches/main/purge", {"tag": "c-1"})
    assert (st, j) == (200, {"cache": "main", "purged": 1})
    assert [hit(port, p) for p in paths] == [True, True, False, True]
    # a tag is a whole token: "imgs" does not match "img"
    st, j = api(admin, "POST", "/api/caches/main/purge", {"tag": "img"})
    assert (st, j) == (200, {"cache": "main", "purged": 0})
    st, j = api(admin, "POST", "/api/caches/main/purge", {"url_prefix": "http://www.example.com"})
    assert (st, j) == (200, {"cache": "main", "purged": 4})
    assert not hit(port, "/doc/d")

    # errors
    assert api(admin, "POST", "/api/caches/nope/purge", {"tag": "x"})[0] == 404
    assert api(admin, "GET", "/api/caches/main/purge")[0] == 405
    assert api(admin, "POST", "/api/caches/main/flush", {"tag": "x"})[0] == 404
    for bad in ({}, {"tag": "a", "url_prefix": "http://a/"}, {"tag": ""}, {"tag": "a b"},
                {"url_prefix": "ftp://a/"}, {"url_prefix": 3}, {"what": 1}, "not json"):
        st, j = api(admin, "POST", "/api/caches/main/purge", bad)
        assert st == 400 and j["error"], (bad, st, j)
