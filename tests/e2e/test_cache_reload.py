"""The response cache across hot reloads (issue 11 with issue 12's reload):
a `cache` section whose name, size and max_object a reload keeps keeps its
store (lb/registry.c holds stores by cache name, as it holds limit tables),
so what was cached before the reload is still a hit after it; a changed
size starts an empty store.
"""

import pytest

import ghutil
from cache_origin import ScriptedOrigin
from ghutil import simple_http_config
from reloadutil import reload
from test_cache import cache_block, get, status_of

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="cache sections are not translated to HAProxy")


@pytest.fixture
def sorigin():
    o = ScriptedOrigin()
    yield o
    o.stop()


def text(port, sorigin, size="4m", workers=2, global_extra=""):
    return (simple_http_config(port, [sorigin.addr], backend_extra="use_cache main",
                               workers=workers, global_extra=global_extra)
            + cache_block(size=size))


def test_a_hit_before_a_reload_is_a_hit_after(gatehouse, port, sorigin):
    sorigin.script("/r", headers=[("Cache-Control", "max-age=600")], body=b"kept" * 100)
    t = text(port, sorigin)
    g = gatehouse(t)
    assert "stored" in status_of(get(port, "/r"))
    assert status_of(get(port, "/r")).startswith("gatehouse; hit")
    # the same section (the file touched): the store, its objects included
    assert reload(g, t + "# touched\n") == 2
    for _ in range(4):   # both workers
        r = get(port, "/r")
        assert r.status == 200 and r.body == b"kept" * 100
        assert status_of(r).startswith("gatehouse; hit"), status_of(r)
    assert sorigin.count("/r") == 1
    # another size: a new, empty store
    assert reload(g, text(port, sorigin, size="8m")) == 3
    r = get(port, "/r")
    assert r.status == 200 and "fwd=miss" in status_of(r)
    assert sorigin.count("/r") == 2
    assert status_of(get(port, "/r")).startswith("gatehouse; hit")
    # and that store is kept by the next reload in turn
    assert reload(g, text(port, sorigin, size="8m") + "# again\n") == 4
    assert status_of(get(port, "/r")).startswith("gatehouse; hit")
    assert sorigin.count("/r") == 2


def test_cache_counters_on_metrics_across_a_reload(gatehouse, port, sorigin):
    from test_metrics import scrape, val
    from ghutil import free_port
    admin = free_port()
    sorigin.script("/m", headers=[("Cache-Control", "max-age=600")], body=b"m" * 1000)

    def conf(extra=""):
        return text(port, sorigin, global_extra="admin 127.0.0.1:%d" % admin) + extra
    t = conf()
    g = gatehouse(t)
    get(port, "/m")
    get(port, "/m")
    get(port, "/m")
    types, s = scrape(admin)
    assert types["gatehouse_cache_hits_total"] == "counter"
    assert types["gatehouse_cache_bytes"] == "gauge"
    assert val(s, "gatehouse_cache_hits_total", cache="main") == 2
    assert val(s, "gatehouse_cache_misses_total", cache="main") == 1
    assert val(s, "gatehouse_cache_stores_total", cache="main") == 1
    assert val(s, "gatehouse_cache_objects", cache="main") == 1
    assert val(s, "gatehouse_cache_bytes", cache="main") > 1000
    assert val(s, "gatehouse_cache_size_bytes", cache="main") == 4 * 1024 * 1024
    # the store is kept by the reload, its counters too
    assert reload(g, conf("# touched\n")) == 2
    assert status_of(get(port, "/m")).startswith("gatehouse; hit")
    _, s = scrape(admin)
    assert val(s, "gatehouse_cache_hits_total", cache="main") == 3
    assert val(s, "gatehouse_cache_objects", cache="main") == 1
