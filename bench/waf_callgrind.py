#!/usr/bin/python3
"""waf_callgrind.py - user-space instructions per request of the WAF
scenario's traffic, under callgrind (deterministic, unlike time on a shared
machine).

    bench/waf_callgrind.py BIN OUTDIR [REPS] [plain]

Runs BIN (WAF PL1 from /usr/share/modsecurity-crs, mode block, body_limit
16k, pre-filter on; `plain`: no WAF) under valgrind --tool=callgrind, in
front of a small origin in this process that answers 200 to everything;
sends the bench sample (bench/waf-sample.txt, 238 benign requests) once
over keep-alive as a warm-up (skipped with NOWARM=1), zeroes the counters,
sends it REPS times (default 5), dumps, and prints the instructions per
request.  The dump (OUTDIR/cg.PID.1) is for callgrind_annotate.

The warm-up pass and the first counted pass see every field for the first
and the second time: the pre-filter's memo keeps a field's verdict the
second time (pf_clean.h), so passes 3 and on are the steady state that a
wrk run of the scenario measures.  (REPS=10 minus REPS=5, over 5 x 238,
is the steady state alone.)  PORT (default 39781) is the proxy's port.
"""
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "waf"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench_waf  # noqa: E402

BIN, OUT = sys.argv[1], sys.argv[2]
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
PLAIN = len(sys.argv) > 4 and sys.argv[4] == "plain"
PORT = int(os.environ.get("PORT", "39781"))


def origin_loop(ls):
    def serve(c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
                    end = re.compile(rb"(?s)(^|\r\n)0\r\n\r\n")
                    while not end.search(buf):
                        buf += c.recv(65536)
                    buf = buf[end.search(buf).end():]
                else:
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    n = int(m.group(1)) if m else 0
                    while len(buf) < n:
                        buf += c.recv(65536)
                    buf = buf[n:]
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        except OSError:
            pass
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


class Client:
    def __init__(self):
        self.s, self.buf = None, b""
        self.connect()

    def connect(self):
        deadline = time.time() + 600
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", PORT))
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.s.settimeout(120)
        self.buf = b""

    def one(self, req):
        self.s.sendall(req)
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("connection closed")
            self.buf += d
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            rest += self.s.recv(65536)
        self.buf = rest[n:]
        if re.search(rb"(?im)^connection:\s*close", head):
            self.s.close()
            self.connect()
        return int(head.split(b" ", 2)[1])


def main():
    os.makedirs(OUT, exist_ok=True)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    threading.Thread(target=origin_loop, args=(ls,), daemon=True).start()
    conf = os.path.join(OUT, "gh.conf")
    with open(conf, "w") as f:
        f.write("global {\n    workers 1\n    timeout drain 2s\n}\n"
                "waf crs {\n    rules /usr/share/modsecurity-crs\n    paranoia 1\n"
                "    mode block\n    body_limit 16k\n    prefilter on\n}\n"
                "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n%s"
                "    default_backend origin\n}\n"
                "backend origin {\n    mode http\n    server o1 127.0.0.1:%d\n}\n"
                % (PORT, "" if PLAIN else "    use_waf crs\n", ls.getsockname()[1]))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--dump-instr=no",
                          "--callgrind-out-file=" + os.path.join(OUT, "cg.%p"), BIN, "-c", conf],
                         stderr=open(os.path.join(OUT, "gh.stderr"), "w"))
    reqs = [bench_waf.corpus.to_bytes(e, keepalive=True) for e in bench_waf.sample()]
    cl = Client()
    if not os.environ.get("NOWARM"):
        for r in reqs:
            cl.one(r)
    subprocess.run(["callgrind_control", "-z", str(p.pid)], check=True, capture_output=True)
    codes = {}
    for _ in range(REPS):
        for r in reqs:
            c = cl.one(r)
            codes[c] = codes.get(c, 0) + 1
    subprocess.run(["callgrind_control", "-d", str(p.pid)], check=True, capture_output=True)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    total = 0
    for f in glob.glob(os.path.join(OUT, "cg.%d.1" % p.pid)):
        for ln in open(f):
            if ln.startswith(("summary:", "totals:")):
                total = max(total, int(ln.split()[1]))
    n = REPS * len(reqs)
    print("codes %s requests %d Ir %d per request %.1fk" % (codes, n, total, total / n / 1e3))


main()
