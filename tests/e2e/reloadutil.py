"""
reloadutil.py - helpers shared by test_reload.py and test_upgrade.py: a
configuration rewritten in place and reloaded, log lines waited for, and a
bounded load generator that counts every failure.
"""

import base64
import os
import re
import socket
import threading
import time

import httpraw
from ghutil import SLACK, wait_for
from origins import ws_accept, ws_frame


def reload(g, text=None, sig=None, expect_gen=None):
    """Writes text (if given) as g's configuration and sends SIGHUP; waits
    for the outcome line; returns the new generation (or None if refused)."""
    import signal as _signal
    before = g.stderr_text().count("reloading ")
    if text is not None:
        g.config = text
        with open(g.conf_path, "w") as f:
            f.write(text)
    g.signal(sig or _signal.SIGHUP)
    # a WAF's rule set takes seconds to load, many more under ASan
    waf = re.search(r"^\s*waf\s", g.config or "", re.M)
    return wait_outcome(g, before, timeout=90 if waf else 10)


def wait_outcome(g, before, timeout=10):
    """The outcome of the reload after the `before`-th one."""
    def outcome():
        t = g.stderr_text()
        lines = [ln for ln in t.splitlines()
                 if "configuration reloaded (generation" in ln or "configuration reload failed" in ln]
        if len(lines) > before:
            return lines[before]
        return None
    ln = wait_for(outcome, timeout * SLACK, what="a reload outcome in the log")
    m = re.search(r"configuration reloaded \(generation (\d+)\)", ln)
    return int(m.group(1)) if m else None


def reloaded_generations(g):
    return [int(m) for m in re.findall(r"configuration reloaded \(generation (\d+)\)",
                                       g.stderr_text())]


class KeepAlive:
    """One keep-alive client connection."""

    def __init__(self, port):
        self.s = httpraw.connect(port, timeout=10 * SLACK)
        self.r = httpraw.Reader(self.s)

    def get(self, target="/"):
        self.s.sendall(httpraw.build_request("GET", target, []))
        return self.r.read_response("GET")

    def close(self):
        self.s.close()


def ws_open(port, path="/ws"):
    s = httpraw.connect(port, timeout=10 * SLACK)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    rd = httpraw.Reader(s)
    r = rd.read_head()
    assert r.status == 101, r
    assert r.header("sec-websocket-accept") == ws_accept(key)
    return s, rd


def ws_echo(s, rd, msg):
    s.sendall(ws_frame(0x2, msg))
    h = rd.read_exact(2)
    n = h[1] & 0x7F
    if n == 126:
        n = int.from_bytes(rd.read_exact(2), "big")
    elif n == 127:
        n = int.from_bytes(rd.read_exact(8), "big")
    return rd.read_exact(n)


class Load:
    """Continuous keep-alive GETs from `threads` client threads (each its
    own connection, reopened only when the proxy said Connection: close),
    slow requests (/delay/MS) from `slow` more, until stop().  Every
    request must get a 200: anything else (a refused or reset connection,
    a close without a response, another status) is a failure, recorded."""

    def __init__(self, ports, threads=4, slow=2, slow_ms=700, target="/"):
        self.ports = ports if isinstance(ports, (list, tuple)) else [ports]
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.slow_ok = 0
        self.failures = []
        self.origins = {}
        self.reconnects = 0
        self.ts = []
        for i in range(threads):
            self.ts.append(threading.Thread(target=self._run, args=(i, target), daemon=True))
        for i in range(slow):
            self.ts.append(threading.Thread(target=self._run, args=(100 + i, "/delay/%d" % slow_ms),
                                            daemon=True))

    def __enter__(self):
        for t in self.ts:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stop_ev.set()
        for t in self.ts:
            t.join(60)

    def _fail(self, what):
        with self.lock:
            self.failures.append(what)

    def _run(self, idx, target):
        port = self.ports[idx % len(self.ports)]
        c = None
        n = 0
        while not self.stop_ev.is_set() and n < 100000:
            n += 1
            try:
                if c is None:
                    c = KeepAlive(port)
                r = c.get(target)
            except (OSError, httpraw.ProtocolError) as e:
                self._fail("%s: %r" % (target, e))
                if c:
                    c.close()
                c = None
                time.sleep(0.01)
                continue
            if r.status != 200:
                self._fail("%s: status %d" % (target, r.status))
            else:
                with self.lock:
                    if target == "/":
                        self.ok += 1
                    else:
                        self.slow_ok += 1
                    o = r.header("x-origin")
                    self.origins[o] = self.origins.get(o, 0) + 1
            if (r.header("connection") or "").lower() == "close":
                c.close()
                c = None
                with self.lock:
                    self.reconnects += 1
        if c:
            c.close()


class Wrk:
    """wrk at full speed on one port (keep-alive, its own connections) in the
    background; result() parses its summary: requests, socket errors
    (connect/read/write/timeout) and non-2xx/3xx answers."""

    def __init__(self, port, seconds, conns=32, threads=2, path="/"):
        import shutil
        import subprocess
        self.bin = shutil.which("wrk")
        assert self.bin, "wrk is needed (scripts/deps.sh installs it)"
        self.proc = subprocess.Popen(
            [self.bin, "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s",
             "http://127.0.0.1:%d%s" % (port, path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def result(self, timeout=120):
        out = self.proc.communicate(timeout=timeout)[0].decode()
        m = re.search(r"(\d+) requests in", out)
        errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return dict(requests=int(m.group(1)) if m else 0,
                    socket_errors=[int(x) for x in errs.groups()] if errs else [0, 0, 0, 0],
                    non2xx=int(non2xx.group(1)) if non2xx else 0, text=out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
