"""The runtime API on the admin listener (issue 12), through real sockets
against a real gatehouse and real origins: every call and its errors, and
what each change does to the traffic - a weight seen in the distribution,
drain and disabled seen as no new requests (those in flight finish), an
added server taking requests, a deleted one draining and then gone.

Which origin served a request is read from the origins' own records (the
target of each request they answered), never from gatehouse's word.
"""

import http.client
import json
import os
import threading
import time

import pytest

import ghutil
from ghutil import SLACK, free_port, listening_ports, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the runtime API is gatehouse's own")

TOKEN = "api-Token-0123456789abcdef"


def config(port, admin, servers, workers=2, backend_extra="", token_file=None,
           more_backends=""):
    line = "admin 127.0.0.1:%d" % admin + (" token_file %s" % token_file if token_file else "")
    lines = "".join("    server %s %s%s\n" % s for s in servers)
    return ("global {\n    workers %d\n    timeout drain 3s\n    %s\n}\n" % (workers, line)
            + ghutil.frontend_block(port)
            + "backend app {\n    balance roundrobin\n%s%s}\n"
            % ("".join("    %s\n" % l for l in backend_extra.splitlines() if l.strip()), lines)
            + more_backends)


def start(gatehouse, port, origins, weights=None, **kw):
    admin = free_port()
    servers = [("s%d" % (i + 1), o.addr, " weight %d" % weights[i] if weights else "")
               for i, o in enumerate(origins)]
    g = gatehouse(config(port, admin, servers, **kw))
    wait_for(lambda: admin in listening_ports(), 10 * SLACK, what="the admin listener")
    return g, Api(admin)


class Api:
    def __init__(self, port, token=None):
        self.port = port
        self.token = token

    def call(self, method, path, body=None, raw=None, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SLACK)
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = "Bearer " + tok
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            text = r.read().decode()
            assert r.getheader("Content-Type") == "application/json", (r.status, text)
            return r.status, json.loads(text)
        finally:
            c.close()

    def ok(self, method, path, body=None, status=200):
        st, j = self.call(method, path, body)
        assert st == status, (method, path, st, j)
        return j

    def error(self, method, path, body=None, status=400, raw=None, says=""):
        st, j = self.call(method, path, body, raw=raw)
        assert st == status, (method, path, body, raw, st, j)
        assert set(j) >= {"error"} and isinstance(j["error"], str) and j["error"], j
        assert says in j["error"], (says, j)
        return j

    def server(self, srv, be="app"):
        return self.ok("GET", "/api/backends/%s/servers/%s" % (be, srv))

    def put(self, srv, body, be="app"):
        return self.ok("PUT", "/api/backends/%s/servers/%s" % (be, srv), body)


def get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLACK)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def served(origin, prefix):
    """How many requests whose target starts with prefix origin answered."""
    return sum(1 for r in origin.stats.requests if r.get("target", "").startswith(prefix))


def burst(port, n, prefix, conns=4):
    """n GETs over `conns` keep-alive connections; every one must be a 200."""
    per = [n // conns + (1 if i < n % conns else 0) for i in range(conns)]
    errors = []

    def run(k, count):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10 * SLACK)
        try:
            for i in range(count):
                c.request("GET", "%s%d-%d" % (prefix, k, i))
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            c.close()

    ts = [threading.Thread(target=run, args=(k, per[k])) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60 * SLACK)
    assert not errors, errors[:5]


def settle(*origins):
    for o in origins:
        o.settle()


class Slow:
    """A request held by its origin (/delay/MS) on a thread of its own."""

    def __init__(self, port, ms, tag):
        self.status = None
        self.path = "/delay/%d?slow=%s" % (ms, tag)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.port = port
        self.t.start()

    def _run(self):
        try:
            self.status = get(self.port, self.path, timeout=30)
        except Exception as e:   # noqa: BLE001
            self.status = repr(e)

    def join(self):
        self.t.join(30 * SLACK)
        return self.status


def in_flight_on(api, srv):
    return api.server(srv)["in_flight"]


# ---- reading ------------------------------------------------------------------

def test_get_backends_and_servers(gatehouse, make_origin, port):
    o1, o2 = make_origin(), make_origin()
    other = ("backend other {\n    balance leastconn\n"
             "    health tcp interval 500ms\n    server x1 %s weight 4\n"
             "    server x2 %s disabled\n}\n" % (o1.addr, o2.addr))
    g, api = start(gatehouse, port, [o1, o2], weights=[2, 1], more_backends=other)
    burst(port, 40, "/t/")
    # A client has its answer a moment before its stream ends and gives
    # its server's in-flight place back.
    settle(o1, o2)
    wait_for(lambda: all(api.server(n)["in_flight"] == 0 for n in ("s1", "s2")), 5 * SLACK,
             interval=0.05, what="in-flight places given back")

    j = api.ok("GET", "/api/backends")
    assert [b["name"] for b in j["backends"]] == ["app", "other"]
    assert j["latency_bounds_ms"] == sorted(j["latency_bounds_ms"]) and j["now_ms"] > 0
    app = j["backends"][0]
    assert app["mode"] == "http" and app["balance"] == "roundrobin"
    assert app["health_checks"] == {"kind": "none"}
    s = {x["name"]: x for x in app["servers"]}
    assert list(s) == ["s1", "s2"]
    assert s["s1"]["address"] == o1.addr and s["s2"]["address"] == o2.addr
    for name, w in (("s1", 2), ("s2", 1)):
        x = s[name]
        assert x["state"] == "up" and x["admin_state"] == "ready", x
        assert x["weight"] == w and x["config_weight"] == w and not x["added"]
        assert x["in_flight"] == 0
        assert x["health"]["checks"] == "none" and x["health"]["status"] == "up"
        assert not x["health"]["ejected"]
        assert len(x["latency"]["buckets"]) == len(j["latency_bounds_ms"]) + 1
    # The statistics match the traffic the origins saw.
    settle(o1, o2)
    for name, o in (("s1", o1), ("s2", o2)):
        x = api.server(name)
        assert x["requests"] == served(o, "/t/") == x["responses"]["2xx"], x
        assert x["latency"]["count"] == x["requests"]
        assert sum(x["latency"]["buckets"]) == x["requests"]
        assert 0 < x["latency"]["p50_ms"] <= x["latency"]["p99_ms"]
        assert x["errors_5xx"] == 0 and x["failures"] == 0
    assert served(o1, "/t/") + served(o2, "/t/") == 40

    other = api.ok("GET", "/api/backends/other")["backend"]
    assert other["balance"] == "leastconn"
    assert other["health_checks"]["kind"] == "tcp"
    assert other["health_checks"]["interval_ms"] == 500
    x = {v["name"]: v for v in other["servers"]}
    assert x["x1"]["weight"] == 4 and x["x1"]["health"]["checks"] == "tcp"
    assert x["x2"]["state"] == "disabled" and x["x2"]["health"]["checks"] == "none"
    assert api.ok("GET", "/api/backends/app/servers")["backend"]["name"] == "app"


def test_errors(gatehouse, make_origin, port):
    o1 = make_origin()
    g, api = start(gatehouse, port, [o1])
    p = "/api/backends/app/servers/s1"
    api.error("GET", "/api/backends/nope", status=404, says="no backend nope")
    api.error("GET", "/api/backends/app/servers/nope", status=404, says="no server nope")
    api.error("PUT", "/api/backends/app/servers/nope", {"weight": 1}, status=404)
    api.error("DELETE", "/api/backends/nope/servers/s1", status=404)
    api.error("POST", "/api/backends/nope/servers", {"name": "a", "address": o1.addr}, status=404)
    api.error("GET", "/api/nothing", status=404, says="no such endpoint")
    api.error("GET", "/api/backends/app/servers/s1/more", status=404)
    api.error("GET", "/api/backends//app", status=400, says="malformed path")
    api.error("POST", "/api/backends", {}, status=405, says="allowed: GET")
    api.error("DELETE", "/api/backends/app", status=405, says="allowed: GET")
    api.error("PATCH", p, {"weight": 1}, status=405, says="allowed: GET, PUT, DELETE")
    api.error("PUT", "/api/backends/app/servers", {}, status=405, says="allowed: GET, POST")
    api.error("GET", "/api/reload", status=405, says="allowed: POST")
    # Bodies: strict JSON, known fields, values in range; nothing changes.
    for raw, says in (("", "empty body"), ("weight=3", "JSON object expected"),
                      ("[1]", "JSON object expected"), ('{"weight": 3', "expected"),
                      ('{"weight": 1, "weight": 2}', "duplicate key"),
                      ('{"weight": 1} x', "trailing data"), ('{"weight": 01}', "leading zero"),
                      ('{"state": "dr\\u0000ain"}', "\\u0000"),
                      ('{"o": {"o": {"o": {"o": {"o": {"o": {"o": {"o": {}}}}}}}}}', "deeper"),
                      ('{"weight": [1]}', "arrays"), ("{\"state\": \"\xff\"}", "UTF-8")):
        api.error("PUT", p, raw=raw.encode("latin-1"), says=says)
    for body, says in (({}, "nothing to change"), ({"weight": -1}, "0 to 256"),
                       ({"weight": 257}, "0 to 256"), ({"weight": 2.5}, "integer"),
                       ({"weight": "2"}, "integer"), ({"weight": True}, "integer"),
                       ({"state": "up"}, '"ready", "drain" or "disabled"'),
                       ({"state": None}, '"ready"'), ({"colour": "red"}, 'unknown field "colour"'),
                       ({"weight": 2, "state": "nap"}, '"ready"')):
        api.error("PUT", p, body, says=says)
    x = api.server("s1")
    assert x["weight"] == 1 and x["admin_state"] == "ready"
    post = "/api/backends/app/servers"
    for body, says in (({"address": o1.addr}, '"name"'), ({"name": "n"}, '"address"'),
                       ({"name": "a/b", "address": o1.addr}, '"name"'),
                       ({"name": "", "address": o1.addr}, '"name"'),
                       ({"name": "x" * 65, "address": o1.addr}, '"name"'),
                       ({"name": "n", "address": 80}, '"address"'),
                       ({"name": "n", "address": "127.0.0.1"}, "cannot use"),
                       ({"name": "n", "address": "0.0.0.0:80"}, "cannot use"),
                       ({"name": "n", "address": "[::1:80"}, "cannot use"),
                       ({"name": "n", "address": o1.addr, "weight": 999}, "0 to 256"),
                       ({"name": "n", "address": o1.addr, "backup": True}, 'unknown field')):
        api.error("POST", post, body, says=says)
    api.error("POST", post, {"name": "s1", "address": o1.addr}, status=409,
              says="already has a server s1")
    assert [s["name"] for s in api.ok("GET", "/api/backends/app")["backend"]["servers"]] == ["s1"]
    assert get(port, "/t/still-fine") == 200


def test_token(gatehouse, make_origin, port, tmp_path):
    o1 = make_origin()
    tf = tmp_path / "admin.token"
    tf.write_text(TOKEN + "\n")
    os.chmod(str(tf), 0o600)
    g, api = start(gatehouse, port, [o1], token_file=str(tf))
    for method, path, body in (("GET", "/api/backends", None),
                               ("PUT", "/api/backends/app/servers/s1", {"weight": 0}),
                               ("POST", "/api/backends/app/servers", {"name": "n",
                                                                      "address": o1.addr}),
                               ("DELETE", "/api/backends/app/servers/s1", None)):
        st, j = api.call(method, path, body)
        assert st == 401, (method, st, j)
        st, j = api.call(method, path, body, token="wrong")
        assert st == 401, (method, st, j)
    x = Api(api.port, TOKEN).server("s1")
    assert x["weight"] == 1 and x["state"] == "up"   # the refused calls changed nothing
    assert get(port, "/t/x") == 200


# ---- changing ------------------------------------------------------------------

def test_weight_changes_the_distribution(gatehouse, make_origin, port):
    o1, o2 = make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2])
    burst(port, 200, "/a/")
    settle(o1, o2)
    assert abs(served(o1, "/a/") - 100) <= 10, (served(o1, "/a/"), served(o2, "/a/"))

    x = api.put("s1", {"weight": 3})
    assert x["weight"] == 3 and x["config_weight"] == 1 and x["state"] == "up"
    burst(port, 400, "/b/")
    settle(o1, o2)
    share = served(o1, "/b/") / 400.0
    assert 0.70 <= share <= 0.80, (served(o1, "/b/"), served(o2, "/b/"))

    # Weight 0: no traffic at all for s1.
    api.put("s1", {"weight": 0})
    burst(port, 100, "/c/")
    settle(o1, o2)
    assert served(o1, "/c/") == 0 and served(o2, "/c/") == 100
    assert api.server("s1")["weight"] == 0


def test_weight_rebuilds_a_hash_ring(gatehouse, make_origin, port):
    """balance hash builds its ring from the weights on each worker: a
    weight change reaches it through the workers' mailboxes (MB_LB_SYNC),
    so the same keys move towards the heavier server."""
    o1, o2 = make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2], backend_extra="balance hash(path)")
    burst(port, 200, "/h/", conns=1)
    settle(o1, o2)
    before = served(o2, "/h/")
    assert 40 <= before <= 160, before
    # The same 200 keys again: the same servers (the ring is stable).
    burst(port, 200, "/h/", conns=1)
    settle(o1, o2)
    assert served(o2, "/h/") == 2 * before
    api.put("s2", {"weight": 8})
    burst(port, 200, "/h/", conns=1)
    settle(o1, o2)
    after = served(o2, "/h/") - 2 * before
    assert after >= before + 40 and after >= 140, (before, after)


def test_drain_and_disabled(gatehouse, make_origin, port):
    o1, o2 = make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2],
                   backend_extra="health http GET /status/200 interval 200ms fall 2 rise 1")
    # A slow request on s2 (s1 drained for the moment it is sent).
    api.put("s1", {"state": "drain"})
    slow = Slow(port, 1500 * SLACK, "d")
    wait_for(lambda: in_flight_on(api, "s2") == 1, 10 * SLACK, interval=0.05,
             what="the slow request on s2")
    api.put("s1", {"state": "ready"})

    x = api.put("s2", {"state": "drain"})
    assert x["state"] == "drain" and x["admin_state"] == "drain" and x["in_flight"] == 1
    burst(port, 60, "/dr/")
    settle(o1, o2)
    assert served(o2, "/dr/") == 0 and served(o1, "/dr/") == 60
    assert slow.join() == 200            # the request in flight finished

    x = api.put("s2", {"state": "disabled"})
    assert x["state"] == "disabled" and x["admin_state"] == "disabled"
    checks = served(o2, "/status/200")
    burst(port, 60, "/di/")
    settle(o1, o2)
    assert served(o2, "/di/") == 0 and served(o1, "/di/") == 60
    # Health checks go on for a disabled server.
    wait_for(lambda: served(o2, "/status/200") >= checks + 2, 10 * SLACK,
             what="health checks of the disabled server")
    assert api.server("s2")["health"]["checks"] == "http"

    x = api.put("s2", {"state": "ready"})
    assert x["state"] == "up" and x["admin_state"] == "ready"
    burst(port, 60, "/re/")
    settle(o1, o2)
    assert abs(served(o2, "/re/") - 30) <= 6, served(o2, "/re/")

    # A down server reads "down" while its admin state stays ready.
    o2.close()
    wait_for(lambda: api.server("s2")["state"] == "down", 10 * SLACK, interval=0.1,
             what="s2 down")
    x = api.server("s2")
    assert x["admin_state"] == "ready" and x["health"]["status"] == "down"


def test_added_server_takes_traffic(gatehouse, make_origin, port):
    o1, o2, o3 = make_origin(), make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2])
    x = api.ok("POST", "/api/backends/app/servers",
               {"name": "s3", "address": o3.addr, "weight": 2}, status=201)
    assert x["name"] == "s3" and x["added"] and x["weight"] == 2 and x["state"] == "up"
    assert x["address"] == o3.addr
    api.error("POST", "/api/backends/app/servers", {"name": "s3", "address": o1.addr},
              status=409, says="already has a server s3")
    names = [s["name"] for s in api.ok("GET", "/api/backends/app")["backend"]["servers"]]
    assert names == ["s1", "s2", "s3"]

    burst(port, 400, "/n/")
    settle(o1, o2, o3)
    n1, n2, n3 = served(o1, "/n/"), served(o2, "/n/"), served(o3, "/n/")
    assert n1 + n2 + n3 == 400
    assert 0.4 <= n3 / 400.0 <= 0.6, (n1, n2, n3)   # weight 2 of 4
    x = api.server("s3")
    assert x["requests"] == n3 and x["responses"]["2xx"] == n3
    # /metrics lists it like the file's servers
    c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10 * SLACK)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    line = 'gatehouse_server_requests_total{backend="app",server="s3",code="2xx"} %d' % n3
    assert line in text.splitlines(), [l for l in text.splitlines() if 'server="s3"' in l]
    assert 'gatehouse_server_weight{backend="app",server="s3"} 2' in text.splitlines()

    # Changes apply to it like to the file's servers.
    api.put("s3", {"state": "drain"})
    burst(port, 40, "/m/")
    settle(o1, o2, o3)
    assert served(o3, "/m/") == 0
    assert "added through the API" not in g.stderr_text()


def test_added_server_is_health_checked(gatehouse, make_origin, port):
    """The health thread adopts servers added at run time: checks like the
    file's, so a dead one goes DOWN and takes no traffic."""
    o1, o3, dead = make_origin(), make_origin(), make_origin()
    dead_addr = dead.addr
    dead.close()
    g, api = start(gatehouse, port, [o1],
                   backend_extra="health http GET /status/200 interval 200ms fall 2 rise 1")
    x = api.ok("POST", "/api/backends/app/servers", {"name": "s3", "address": o3.addr},
               status=201)
    assert x["health"]["checks"] == "http"
    api.ok("POST", "/api/backends/app/servers", {"name": "gone", "address": dead_addr},
           status=201)
    wait_for(lambda: served(o3, "/status/200") >= 2, 10 * SLACK, what="checks of s3")
    wait_for(lambda: api.server("gone")["state"] == "down", 10 * SLACK, interval=0.1,
             what="the dead added server DOWN")
    assert api.server("gone")["health"]["status"] == "down"
    assert api.server("s3")["state"] == "up"
    burst(port, 60, "/hc/")
    settle(o1, o3)
    assert served(o1, "/hc/") + served(o3, "/hc/") == 60 and served(o3, "/hc/") > 0
    log = g.stderr_text()
    assert "server app/s3 added at run time is checked" in log
    assert "server app/gone DOWN" in log


def test_delete_drains_then_forgets(gatehouse, make_origin, port):
    o1, o2, o3 = make_origin(), make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2])
    api.ok("POST", "/api/backends/app/servers", {"name": "s3", "address": o3.addr}, status=201)
    # A slow request on s2, the others drained while it is sent.
    api.put("s1", {"state": "drain"})
    api.put("s3", {"state": "drain"})
    slow = Slow(port, 2000 * SLACK, "del")
    wait_for(lambda: in_flight_on(api, "s2") == 1, 10 * SLACK, interval=0.05,
             what="the slow request on s2")
    api.put("s1", {"state": "ready"})
    api.put("s3", {"state": "ready"})

    j = api.ok("DELETE", "/api/backends/app/servers/s2", status=202)
    assert j == {"backend": "app", "server": "s2", "state": "removing", "in_flight": 1,
                 "note": "in the configuration: back at the next reload"}
    assert api.server("s2")["state"] == "removing"
    burst(port, 60, "/x/")
    settle(o1, o2, o3)
    assert served(o2, "/x/") == 0 and served(o1, "/x/") + served(o3, "/x/") == 60
    assert slow.join() == 200
    wait_for(lambda: api.call("GET", "/api/backends/app/servers/s2")[0] == 404, 5 * SLACK,
             interval=0.05, what="s2 gone")
    names = [s["name"] for s in api.ok("GET", "/api/backends/app")["backend"]["servers"]]
    assert names == ["s1", "s3"]
    api.error("DELETE", "/api/backends/app/servers/s2", status=404)
    api.error("POST", "/api/backends/app/servers", {"name": "s2", "address": o2.addr},
              status=409, says="after the next reload")

    # An added server with nothing in flight goes at once.
    j = api.ok("DELETE", "/api/backends/app/servers/s3", status=200)
    assert j["state"] == "removed" and j["note"] == "added at run time: gone for good"
    burst(port, 40, "/y/")
    settle(o1, o2, o3)
    assert served(o1, "/y/") == 40
    api.error("GET", "/api/backends/app/servers/s3", status=404)


def test_reload_through_the_api(gatehouse, make_origin, port):
    """POST /api/reload answers with the new generation or the file's
    errors; what the API added is dropped by a reload (which says so), a
    server it deleted is back, a live weight stays (kept by name)."""
    o1, o2, o3 = make_origin(), make_origin(), make_origin()
    g, api = start(gatehouse, port, [o1, o2])
    api.put("s1", {"weight": 3})
    api.ok("POST", "/api/backends/app/servers", {"name": "s3", "address": o3.addr}, status=201)
    api.ok("DELETE", "/api/backends/app/servers/s2", status=200)
    burst(port, 40, "/r1/")
    settle(o1, o2, o3)
    assert served(o2, "/r1/") == 0 and served(o3, "/r1/") > 0

    j = api.ok("POST", "/api/reload")
    assert j == {"result": "ok", "generation": 2}, j
    log = g.stderr_text()
    assert "configuration reloaded (generation 2)" in log
    assert "server s3 (%s), added through the API, is dropped by this reload" % o3.addr in log
    assert "server s2, removed through the API, is back" in log
    servers = {s["name"]: s for s in api.ok("GET", "/api/backends/app")["backend"]["servers"]}
    assert list(servers) == ["s1", "s2"]
    assert servers["s1"]["weight"] == 3 and servers["s2"]["state"] == "up"
    burst(port, 400, "/r2/")
    settle(o1, o2, o3)
    assert served(o3, "/r2/") == 0
    assert 0.70 <= served(o1, "/r2/") / 400.0 <= 0.80, (served(o1, "/r2/"), served(o2, "/r2/"))
    # s3's name is free again in the new generation.
    api.ok("POST", "/api/backends/app/servers", {"name": "s3", "address": o3.addr}, status=201)

    # A file that does not load: 400 with its errors, the running one serves on.
    with open(g.conf_path) as f:
        good = f.read()
    with open(g.conf_path, "w") as f:
        f.write(good + "\nbogus_section {\n}\n")
    j = api.error("POST", "/api/reload", status=400, says="configuration refused")
    assert j["errors"] and any("bogus_section" in e for e in j["errors"]), j
    assert get(port, "/r3/x") == 200
    assert [s["name"] for s in api.ok("GET", "/api/backends/app")["backend"]["servers"]] == \
        ["s1", "s2", "s3"]
    with open(g.conf_path, "w") as f:
        f.write(good)
    assert api.ok("POST", "/api/reload")["generation"] == 3
