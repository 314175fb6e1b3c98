#!/usr/bin/python3
"""cache_callgrind.py - user-space instructions per cached response under
callgrind (deterministic, unlike time on a shared machine).

    bench/cache_callgrind.py BIN OUTDIR [N] [SIZE]

Runs BIN (a backend with `use_cache` and `compress gzip`) under valgrind
--tool=callgrind in front of a small origin in this process that answers
every GET with SIZE bytes (default 256 KiB) of text, `max-age=3600`; one
keep-alive client (http.client).  For each case, after a warm-up request,
the counters are zeroed, N requests (default 50) are sent and the dump's
total is divided by N, in this order (hits first: what the misses leave in
the allocator's state does not move the hits' counts):

  hit-identity   N hits of one URL
  hit-gzip       N hits of one URL in gzip (stored by an identity miss,
                 its variant by the warm-up's first gzip hit)
  miss-identity  N stored misses (new URLs), no Accept-Encoding
  miss-gzip      N stored misses, Accept-Encoding: gzip (compressed for
                 the client while stored)

Every body is checked (gzip decoded).  PORT (default 39791) is the
proxy's port.
"""
import glob
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN, OUT = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 50
SIZE = int(sys.argv[4]) if len(sys.argv) > 4 else 256 * 1024
PORT = int(os.environ.get("PORT", "39791"))
rnd = random.Random(7)
WORDS = [("%x" % rnd.getrandbits(24)).encode() for _ in range(2000)]
BODY = b" ".join(rnd.choice(WORDS) for _ in range(SIZE // 4))[:SIZE]


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):   # noqa: N802 - the stdlib's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Cache-Control", "max-age=3600")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *a):
        pass


def total_of(pid, k):
    subprocess.run(["callgrind_control", "-d", "case%d" % k, str(pid)], check=True,
                   capture_output=True)
    time.sleep(0.5)
    files = sorted(glob.glob(os.path.join(OUT, "cg.%d.*" % pid)), key=os.path.getmtime)
    for ln in open(files[-1]):
        if ln.startswith(("summary:", "totals:")):
            return int(ln.split()[1])
    return 0


def main():
    os.makedirs(OUT, exist_ok=True)
    org = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=org.serve_forever, daemon=True).start()
    conf = os.path.join(OUT, "gh.conf")
    with open(conf, "w") as f:
        f.write("global {\n    workers 1\n    timeout drain 2s\n}\n"
                "frontend web {\n    bind 127.0.0.1:%d\n    mode http\n"
                "    default_backend origin\n}\n"
                "backend origin {\n    mode http\n    use_cache c\n    compress gzip\n"
                "    server o1 127.0.0.1:%d\n}\n"
                "cache c {\n    size 512m\n    max_object 4m\n}\n"
                % (PORT, org.server_address[1]))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--dump-instr=no",
                          "--callgrind-out-file=" + os.path.join(OUT, "cg.%p"), BIN, "-c", conf],
                         stderr=open(os.path.join(OUT, "gh.stderr"), "w"))
    deadline = time.time() + 600
    while True:
        try:
            cl = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            cl.connect()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)

    def get(path, gz):
        cl.request("GET", path, headers={"Accept-Encoding": "gzip"} if gz else {})
        r = cl.getresponse()
        b = r.read()
        if gz:
            assert r.getheader("Content-Encoding") == "gzip", r.getheaders()
            b = zlib.decompress(b, 31)
        assert r.status == 200 and b == BODY, (r.status, len(b))
        return r.getheader("Cache-Status") or ""

    out = []
    seq = iter(range(1 << 30))
    for k, (name, gz, hit) in enumerate((("hit-identity", False, True),
                                         ("hit-gzip", True, True),
                                         ("miss-identity", False, False),
                                         ("miss-gzip", True, False))):
        url = "/%s" % name
        # warm-up: a miss; for a hit, an identity miss stores the object,
        # then a hit in the case's coding (stores the gzip variant)
        get(url, gz and not hit)
        if hit:
            get(url, gz)
            get(url, gz)
        subprocess.run(["callgrind_control", "-z", str(p.pid)], check=True,
                       capture_output=True)
        for _ in range(N):
            cs = get(url if hit else "/%s/%d" % (name, next(seq)), gz)
            assert ("hit" in cs) == hit and (hit or "stored" in cs), cs
        out.append((name, total_of(p.pid, k) / N))
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    for name, per in out:
        print("%-14s %8.1fk instructions a request (N=%d, %d B)" % (name, per / 1e3, N, SIZE))


main()
