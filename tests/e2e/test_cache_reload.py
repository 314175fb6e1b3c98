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


def text(port, sorigin, size="4m", workers=2):
    return (simple_http_config(port, [sorigin.addr], backend_extra="use_cache main",
                               workers=workers) + cache_block(size=size))


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
