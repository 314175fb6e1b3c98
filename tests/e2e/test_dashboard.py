"""The live dashboard at / on the admin listener (issue 12), in a real
headless Chromium (Debian's /usr/bin/chromium, driven over the DevTools
protocol by puppeteer-core: tests/dashboard/driver.js).

gatehouse runs with two real origins and HTTP health checks; the page must
show the servers of the configuration, draw its charts from live traffic
(req/s above zero), and turn a server red within a few seconds of its
origin being killed.  A screenshot of that moment is kept in
tests/e2e/artifacts/ (git-ignored).  With an admin token the page asks
for it once and then works the same.

Needs `make deps` (chromium, nodejs, npm, and puppeteer-core installed
into tests/dashboard/node_modules by `npm ci`).
"""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import ghutil
from ghutil import SLACK, free_port, listening_ports, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the dashboard is gatehouse's own")

DASH = os.path.join(ghutil.REPO, "tests", "dashboard")
ARTIFACTS = os.path.join(ghutil.HERE, "artifacts")
CHROMIUM = "/usr/bin/chromium"
TOKEN = "dash-Token-0123456789"


def need_browser():
    node = shutil.which("node")
    if not node or not os.access(CHROMIUM, os.X_OK):
        pytest.skip("node or %s missing (make deps)" % CHROMIUM)
    if not os.path.isdir(os.path.join(DASH, "node_modules", "puppeteer-core")):
        pytest.skip("puppeteer-core not installed in tests/dashboard/node_modules (make deps)")
    return node


class Browser:
    """driver.js as a subprocess: one JSON command a line, one answer a line."""

    def __init__(self, node):
        self.proc = subprocess.Popen([node, os.path.join(DASH, "driver.js")], cwd=DASH,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.console = []
        hello = self._answer(60 * SLACK)
        assert hello.get("ready"), hello

    def _answer(self, timeout):
        box = {}

        def read():
            box["line"] = self.proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        if "line" not in box:
            raise AssertionError("browser driver silent for %.0fs" % timeout)
        if not box["line"]:
            raise AssertionError("browser driver exited: %s" % self.proc.stderr.read()[-3000:])
        a = json.loads(box["line"])
        self.console += a.get("console", [])
        return a

    def do(self, timeout=None, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        wait_s = (cmd.get("timeout_ms", 15000) / 1000.0) + 30 * SLACK
        a = self._answer(timeout or wait_s)
        if not a.get("ok"):
            raise AssertionError("%s: %s" % (cmd.get("cmd"), a.get("error")))
        return a

    def eval(self, js):
        return self.do(cmd="eval", js=js)["value"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.do(cmd="quit", timeout=20)
            except (AssertionError, OSError, ValueError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def browser():
    node = need_browser()
    b = Browser(node)
    yield b
    b.close()


def config(port, origins, admin, token_file=None):
    servers = "".join("    server s%d %s\n" % (i + 1, o.addr) for i, o in enumerate(origins))
    line = "admin 127.0.0.1:%d" % admin + (" token_file %s" % token_file if token_file else "")
    return ("global {\n    workers 2\n    timeout drain 2s\n    %s\n}\n" % line
            + ghutil.frontend_block(port)
            + "backend app {\n    balance roundrobin\n"
            + "    health http GET /status/200 interval 200ms timeout 200ms fall 2 rise 2\n"
            + servers + "}\n")


def start(gatehouse, origins, port, token_file=None):
    admin = free_port()
    g = gatehouse(config(port, origins, admin, token_file))
    wait_for(lambda: admin in listening_ports(), 10 * SLACK, what="the admin listener")
    return g, admin


class Load:
    """Keeps GET requests flowing through the proxy while the page polls."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.sent = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/load" % self.port, timeout=5).read()
            except OSError:
                pass
            self.sent += 1
            time.sleep(0.01)

    def close(self):
        self.stop.set()
        self.t.join(10)


def api_server(admin, srv, token=None):
    r = urllib.request.Request("http://127.0.0.1:%d/api/backends/app/servers/%s" % (admin, srv))
    if token:
        r.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(r, timeout=10) as f:
        return json.loads(f.read())


def row(srv, state=None):
    sel = 'tr[data-server="app/%s"]' % srv
    return sel + ('[data-state="%s"]' % state if state else "")


def test_dashboard_shows_servers_and_a_killed_origin_turns_red(gatehouse, make_origin, port,
                                                               browser):
    o1, o2 = make_origin(), make_origin()
    g, admin = start(gatehouse, [o1, o2], port)
    load = Load(port)
    try:
        browser.do(cmd="open", url="http://127.0.0.1:%d/" % admin)
        assert browser.eval("document.title") == "gatehouse"
        # The configuration's servers, both up, with their addresses.
        browser.do(cmd="wait", selector=row("s1", "up"), timeout_ms=int(10000 * SLACK))
        browser.do(cmd="wait", selector=row("s2", "up"), timeout_ms=int(10000 * SLACK))
        names = browser.eval("Array.from(document.querySelectorAll('tr[data-server]'))"
                             ".map(r => r.dataset.server)")
        assert sorted(names) == ["app/s1", "app/s2"]
        text = browser.eval("document.body.innerText")
        assert o1.addr in text and o2.addr in text

        # Live numbers: req/s above zero for both, once two polls saw traffic.
        def rps_cells():
            v = browser.eval("Array.from(document.querySelectorAll('tr[data-server]'))"
                             ".map(r => parseFloat(r.children[4].textContent))")
            return v if v and all(x is not None and x > 0 for x in v) else None
        wait_for(rps_cells, 15 * SLACK, interval=0.5, what="req/s above 0 on the page")
        # The charts update: the backend's req/s canvas changes between polls.
        snap = ("document.querySelector('canvas[data-chart=\"app:rps\"]').toDataURL()")
        first = browser.eval(snap)
        wait_for(lambda: browser.eval(snap) != first, 10 * SLACK, interval=0.3,
                 what="the req/s chart to change")

        # The buttons change a server's state through the API.
        browser.do(cmd="click", selector=row("s1", "up") + ' button[data-action="drain"]')
        browser.do(cmd="wait", selector=row("s1", "drain"), timeout_ms=int(10000 * SLACK))
        assert api_server(admin, "s1")["admin_state"] == "drain"
        browser.do(cmd="click", selector=row("s1", "drain") + ' button[data-action="ready"]')
        browser.do(cmd="wait", selector=row("s1", "up"), timeout_ms=int(10000 * SLACK))
        assert api_server(admin, "s1")["admin_state"] == "ready"

        # Kill s2's origin: its row turns red within a few seconds.
        o2.close()
        t0 = time.monotonic()
        browser.do(cmd="wait", selector=row("s2", "down"), timeout_ms=int(10000 * SLACK))
        took = time.monotonic() - t0
        bg = browser.eval("getComputedStyle(document.querySelector('%s')).backgroundColor"
                          % row("s2"))
        badge = browser.eval("getComputedStyle(document.querySelector('%s .badge'))"
                             ".backgroundColor" % row("s2"))
        assert badge == "rgb(207, 34, 46)", badge   # --down
        assert bg == "rgb(255, 235, 233)", bg
        assert browser.eval("document.querySelector('%s') !== null" % row("s1", "up"))
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, "dashboard-server-down.png")
        browser.do(cmd="screenshot", path=shot)
        assert os.path.getsize(shot) > 10000
        print("s2 turned red %.1fs after its origin was killed; screenshot %s" % (took, shot))
    finally:
        load.close()
    assert not browser.console, browser.console


def test_dashboard_with_a_token(gatehouse, make_origin, port, browser, tmp_path):
    o1 = make_origin()
    tf = tmp_path / "admin.token"
    tf.write_text(TOKEN + "\n")
    os.chmod(str(tf), 0o600)
    g, admin = start(gatehouse, [o1], port, token_file=str(tf))
    base = "http://127.0.0.1:%d" % admin
    # The data needs the token; the page itself (static, no data) does not,
    # since a browser cannot add a bearer token to a page load.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/api/backends", timeout=5)
    assert e.value.code == 401
    with urllib.request.urlopen(base + "/", timeout=5) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(base + "/", method="DELETE"), timeout=5)
    assert e.value.code == 401

    browser.do(cmd="open", url=base + "/")
    browser.do(cmd="wait", selector="#login.shown", timeout_ms=int(10000 * SLACK))
    assert browser.eval("document.querySelectorAll('tr[data-server]').length") == 0
    # A wrong token is refused and said so; the right one shows the servers.
    browser.do(cmd="type", selector="#token", text="wrong")
    browser.do(cmd="press", key="Enter")
    wait_for(lambda: browser.eval("document.getElementById('login-error').textContent")
             == "token refused", 10 * SLACK, interval=0.3, what="the refusal")
    browser.eval("document.getElementById('token').value = ''")
    browser.do(cmd="type", selector="#token", text=TOKEN)
    browser.do(cmd="press", key="Enter")
    browser.do(cmd="wait", selector=row("s1", "up"), timeout_ms=int(10000 * SLACK))
    assert browser.eval("getComputedStyle(document.getElementById('login')).display") == "none"
    assert browser.eval("sessionStorage.getItem('gatehouse-admin-token')") == TOKEN
    # The buttons send it too.
    browser.do(cmd="click", selector=row("s1", "up") + ' button[data-action="disabled"]')
    browser.do(cmd="wait", selector=row("s1", "disabled"), timeout_ms=int(10000 * SLACK))
    assert api_server(admin, "s1", TOKEN)["admin_state"] == "disabled"
    browser.do(cmd="click", selector=row("s1", "disabled") + ' button[data-action="ready"]')
    browser.do(cmd="wait", selector=row("s1", "up"), timeout_ms=int(10000 * SLACK))
    # Kept for the tab: a reload of the page needs no second entry.
    browser.do(cmd="open", url=base + "/")
    browser.do(cmd="wait", selector=row("s1", "up"), timeout_ms=int(10000 * SLACK))
    assert browser.eval("document.getElementById('login').className") == ""
    # 401s of the wrong token are the only console errors allowed (and a
    # poll cut short by the page's reload).
    assert not [m for m in browser.console if "401" not in m and "ERR_ABORTED" not in m], \
        browser.console
