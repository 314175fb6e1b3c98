"""bench_compress.py - compression CPU per response: gatehouse `compress`
(gzip, br, zstd at their default levels) next to nginx's gzip filter
(gzip_comp_level 1, its default) on the same origin, and both proxies
without compression, so the cost of compressing is the difference.

Run by `BENCH_SCENARIOS=compress bench/run.sh` (or directly).  Method: an
nginx origin serves two text bodies without compression (a 16 KiB and a
128 KiB page made of this repository's own docs); each proxy runs alone,
pinned to one core (PROXY_CPU), while wrk (one thread, BENCH_CONNS
connections, keep-alive, `Accept-Encoding` of the case) runs on the other
core with the origin.  CPU per response = the proxy's on-CPU time
(schedstat, every thread) / responses completed.  The bytes column is one
response's body as the client got it (decoded and checked once per case).

Knobs: BENCH_SECONDS (5), BENCH_ROUNDS (1; medians when more), BENCH_CONNS
(8), BENCH_PORT_BASE (19300), GATEHOUSE_BIN (build/gatehouse).  Prints a
markdown table; raw wrk output goes to the temp dir it names.
"""
import gzip
import os
import socket
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (nginx_text, LOAD_CPU, PROXY_CPU, ROOT, cleanup, cpu_ns, descendants,  # noqa: E402
                      env_int, log, median, spawn, stop, trap_signals, wait_port, wrk,
                      write)
import signal  # noqa: E402

SECONDS = env_int("BENCH_SECONDS", 5)
ROUNDS = env_int("BENCH_ROUNDS", 1)
CONNS = env_int("BENCH_CONNS", 8)
PORT_BASE = env_int("BENCH_PORT_BASE", 19300)
GATEHOUSE_BIN = os.environ.get("GATEHOUSE_BIN") or os.path.join(ROOT, "build", "gatehouse")


def page(n):
    """n bytes of real text: the repository's README and docs, repeated."""
    src = b""
    for f in ("README.md", "docs/architecture.md"):
        with open(os.path.join(ROOT, f), "rb") as fh:
            src += fh.read()
    out = (src * (n // len(src) + 1))[:n]
    return out


CASES = [("16k", "/p16k.html", 16 * 1024), ("128k", "/p128k.html", 128 * 1024)]


def origin_conf(tmp, port):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    for _, path, n in CASES:
        with open(os.path.join(www, path.lstrip("/")), "wb") as f:
            f.write(page(n))
    return write(os.path.join(tmp, "origin.conf"), nginx_text(tmp, "origin", temp="o", http="""\
    types {{ text/html html; }}
    gzip off;
    etag off;
    keepalive_requests 10000000;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
""".format(port=port, www=www)))

def gatehouse_conf(tmp, port, origin, compress):
    return write(os.path.join(tmp, "gatehouse-%s.conf" % (compress or "plain")), """\
global {{
    workers 1
    log_level warn
}}
frontend bench {{
    bind 127.0.0.1:{port}
    mode http
    forward_headers none
{c}    default_backend origin
}}
backend origin {{
    server origin 127.0.0.1:{origin}
}}
""".format(port=port, origin=origin, c="    compress %s\n" % compress if compress else ""))


def nginx_conf(tmp, port, origin, gz):
    return write(os.path.join(tmp, "nginx-%s.conf" % ("gzip" if gz else "plain")), nginx_text(
        tmp, "nginx-proxy", http="""\
    keepalive_requests 10000000;
    upstream origin {{ server 127.0.0.1:{origin}; keepalive 64; }}
    {gz}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
""".format(port=port, origin=origin,
           gz="gzip on; gzip_comp_level 1; gzip_proxied any; gzip_types text/html;"
           if gz else "gzip off;")))

def fetch(port, path, enc):
    """One response's body bytes as sent, and decoded."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.1\r\nHost: b\r\nAccept-Encoding: %s\r\nConnection: close\r\n\r\n"
               % (path, enc)).encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    hl = head.decode("latin-1").lower()
    if "transfer-encoding: chunked" in hl:
        out, rest = b"", body
        while True:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    ce = ""
    for ln in hl.split("\r\n"):
        if ln.startswith("content-encoding:"):
            ce = ln.split(":", 1)[1].strip()
    if ce == "gzip":
        plain = gzip.decompress(body)
    elif ce == "br":
        import brotli
        plain = brotli.decompress(body)
    elif ce == "zstd":
        import zstandard
        plain = zstandard.ZstdDecompressor().decompressobj().decompress(body)
    else:
        plain = body
    return len(body), ce or "identity", plain


PROXIES = [
    ("gatehouse", None, "gzip"),
    ("gatehouse", "gzip", "gzip"),
    ("gatehouse", "br", "br"),
    ("gatehouse", "zstd", "zstd"),
    ("nginx", None, "gzip"),
    ("nginx", "gzip", "gzip"),
]


def main():
    trap_signals(signal.SIGTERM, signal.SIGINT)
    tmp = tempfile.mkdtemp(prefix="bench-compress-")
    os.chmod(tmp, 0o755)   # nginx workers (www-data) read the pages
    origin = PORT_BASE
    rows = []
    try:
        o = spawn(["nginx", "-c", origin_conf(tmp, origin)], os.path.join(tmp, "origin.log"),
                  LOAD_CPU)
        if not wait_port(origin, o):
            sys.exit("bench_compress: the origin did not start")
        for i, (name, algo, enc) in enumerate(PROXIES):
            port = PORT_BASE + 1 + i
            if name == "gatehouse":
                argv = [GATEHOUSE_BIN, "-c", gatehouse_conf(tmp, port, origin, algo)]
            else:
                argv = ["nginx", "-c", nginx_conf(tmp, port, origin, bool(algo))]
            p = spawn(argv, os.path.join(tmp, "%s-%s.log" % (name, algo or "plain")), PROXY_CPU)
            if not wait_port(port, p):
                log("bench_compress: %s (%s) did not start" % (name, algo))
                stop(p)
                continue
            for case, path, n in CASES:
                size, ce, plain = fetch(port, path, enc)
                if plain != page(n) or ce != (algo or "identity"):
                    log("bench_compress: %s %s %s: wrong answer (%s)" % (name, algo, case, ce))
                    continue
                cpus, rps = [], []
                for _ in range(ROUNDS):
                    pids = descendants(p.pid)
                    c0 = cpu_ns(pids)
                    r = wrk("http://127.0.0.1:%d%s" % (port, path), SECONDS, CONNS, latency=False,
                            extra=["-H", "Accept-Encoding: %s" % enc])
                    raw = r["raw"]
                    c1 = cpu_ns(pids)
                    write(os.path.join(tmp, "wrk-%s-%s-%s.txt" % (name, algo, case)), raw)
                    if r.get("requests"):
                        cpus.append((c1 - c0) / 1000.0 / r["requests"])
                        rps.append(r["rps"])
                rows.append((name, algo or "none", case, median(rps), median(cpus), size, n))
                log("%s %s %s: %.0f req/s, %.1f us/resp, %d bytes" % (
                    name, algo or "none", case, median(rps) or 0, median(cpus) or 0, size))
            stop(p)
    finally:
        cleanup()
    base = {(r[0], r[2]): r[4] for r in rows if r[1] == "none"}
    print("| proxy | coding | page | req/s | CPU/response | compression's CPU | bytes sent |")
    print("|---|---|---|---:|---:|---:|---:|")
    for name, algo, case, rps, cpu, size, n in rows:
        extra = "" if algo == "none" or base.get((name, case)) is None else \
            "%.1f µs" % (cpu - base[(name, case)])
        print("| %s | %s | %s | %s | %.1f µs | %s | %d (%.0f%%) |" % (
            name, algo, case, "{:,.0f}".format(rps) if rps else "-", cpu or 0, extra, size,
            100.0 * size / n))
    print("\n(%d s per case, %d round(s), %d connections; raw output in %s)" % (
        SECONDS, ROUNDS, CONNS, tmp))


if __name__ == "__main__":
    main()
