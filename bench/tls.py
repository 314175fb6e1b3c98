#!/usr/bin/env python3
"""
bench/tls.py - TLS benchmark: gatehouse vs HAProxy vs nginx terminating TLS
in front of the same plain nginx origin, in one run (run it via bench/tls.sh).

Setup (same shape as bench/bench.py): each proxy has one worker pinned to
CPU 0; the origin (nginx, plain HTTP, 64-byte /small) and every load
generator run on CPU 1.  One ECDSA P-256 certificate (made with the openssl
CLI at start), TLS 1.2 and 1.3 on every proxy, session tickets and a session
cache on every proxy (their defaults, nginx gets `ssl_session_cache`).

Cases:
  full      full TLS 1.3 handshakes, no request: BENCH_TLS_CLIENTS parallel
            `openssl s_time -new -tls1_3` (the clients' own crypto is the
            limit here, so CPU/op on the proxy is the figure to compare)
  resumed   TLS 1.2 resumed handshakes, no request: parallel
            `openssl s_time -reuse -tls1_2` (tickets)
  resumed13 TLS 1.3 resumption + one request each: `h2load --h1
            -H 'Connection: close'` (h2load resumes the session when it
            reconnects; checked before measuring)
  ka        HTTPS keep-alive requests: `wrk -t1 -c50`

Per run: operations/s (handshakes or requests) and the proxy's CPU time per
operation (schedstat of all its threads and processes / operations).
Rounds interleave the proxies; the table shows medians and the ratio to
HAProxy.  Results go to bench/results/tls-<date>/ (gitignored).

Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_TLS_CLIENTS (6),
BENCH_TLS_CASES ("full resumed resumed13 ka"),
BENCH_PROXIES ("gatehouse haproxy nginx"), BENCH_PORT_BASE (19300),
GATEHOUSE_BIN (build/gatehouse).

Every process it starts is stopped by PID at exit.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (nginx_text, LOAD_CPU, PROXY_CPU, ROOT, cleanup, cpu_ns, descendants,  # noqa: E402
                      env_int, log, make_cert, median, spawn, stop, trap_signals, wait_port,
                      wrk, write)

ROUNDS = env_int("BENCH_ROUNDS", 3)
SECONDS = env_int("BENCH_SECONDS", 5)
CLIENTS = env_int("BENCH_TLS_CLIENTS", 6)
PROXIES = os.environ.get("BENCH_PROXIES", "gatehouse haproxy nginx").split()
PORT_BASE = env_int("BENCH_PORT_BASE", 19300)
GATEHOUSE_BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "build", "gatehouse"))
CASES = os.environ.get("BENCH_TLS_CASES", "full resumed resumed13 ka").split()
SMALL = b"x" * 63 + b"\n"


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


# ---- configurations ---------------------------------------------------------------

def origin_conf(tmp, port):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(SMALL)
    return write(os.path.join(tmp, "origin.conf"), nginx_text(
        tmp, "origin", temp="o", master=False, rlimit=True, conns=8192, http="""\
    default_type application/octet-stream;
    etag off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
    }}
""".format(port=port, www=www)))

def gatehouse_conf(tmp, port, origin, pem):
    return write(os.path.join(tmp, "gatehouse.conf"), """\
global {{
    workers 1
    max_connections 9000
    log_level warn
}}
frontend bench {{
    bind 127.0.0.1:{port} tls cert {pem}
    mode http
    timeout header 10s
    timeout client 120s
    forward_headers none
    default_backend origin
}}
backend origin {{
    server origin 127.0.0.1:{origin}
    timeout connect 2s
    timeout server 60s
}}
""".format(port=port, origin=origin, pem=pem))


def haproxy_conf(tmp, port, origin, pem):
    return write(os.path.join(tmp, "haproxy.cfg"), """\
global
    nbthread 1
    cpu-map 1/1 {cpu}
    maxconn 9000
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
    http-reuse safe
    option http-keep-alive

frontend fe
    bind 127.0.0.1:{port} ssl crt {pem} backlog 4096
    default_backend be

backend be
    server origin 127.0.0.1:{origin}
""".format(cpu=PROXY_CPU, port=port, origin=origin, pem=pem))


def nginx_conf(tmp, port, origin, crt, key):
    return write(os.path.join(tmp, "nginx-proxy.conf"), nginx_text(
        tmp, "nginx-proxy", master=False, affinity=True, rlimit=True, conns=16384, http="""\
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    upstream origin {{
        server 127.0.0.1:{origin};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
""".format(port=port, origin=origin, crt=crt, key=key)))

def start_proxy(name, tmp, port, origin, pem, crt, key):
    if name == "gatehouse":
        if not os.access(GATEHOUSE_BIN, os.X_OK):
            return None, "not built"
        conf = gatehouse_conf(tmp, port, origin, pem)
        check, argv = [GATEHOUSE_BIN, "-t", "-c", conf], [GATEHOUSE_BIN, "-c", conf]
    elif name == "haproxy":
        conf = haproxy_conf(tmp, port, origin, pem)
        check, argv = ["haproxy", "-c", "-q", "-f", conf], ["haproxy", "-db", "-f", conf]
    else:
        conf = nginx_conf(tmp, port, origin, crt, key)
        base = ["nginx", "-p", tmp, "-e", os.path.join(tmp, "nginx-proxy-error.log"), "-c", conf]
        check, argv = base + ["-t", "-q"], base
    r = run(check)
    if r.returncode:
        return None, "config check failed: " + r.stdout.decode(errors="replace")[-300:]
    p = spawn(argv, os.path.join(tmp, name + ".log"), PROXY_CPU)
    if not wait_port(port, p):
        return None, "not listening"
    return p, None


# ---- checks and load ------------------------------------------------------------------

def client_ctx(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


def https_get(ctx, port, session=None):
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname="bench.test", session=session) as s:
            s.sendall(b"GET /small HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            return data, s.session, s.session_reused


def validate(port):
    """Body correct over TLS 1.2 and 1.3, and sessions resume on both."""
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_ctx(v)
        data, sess, _ = https_get(ctx, port)
        if not data.startswith(b"HTTP/1.1 200") or not data.endswith(SMALL):
            return "bad response over %s: %r" % (v.name, data[:80])
        _, _, reused = https_get(ctx, port, sess)
        if not reused:
            return "session not resumed over %s" % v.name
    return None


def sclient_load(port, mode, seconds):
    """CLIENTS parallel s_time; returns handshakes completed."""
    args = {"full": ["-new", "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"],
            "resumed": ["-reuse", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]}[mode]
    ps = [subprocess.Popen(["taskset", "-c", LOAD_CPU, "openssl", "s_time", "-connect",
                            "127.0.0.1:%d" % port, "-time", str(seconds)] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
          for _ in range(CLIENTS)]
    total = 0
    for p in ps:
        out = p.communicate(timeout=seconds + 60)[0].decode(errors="replace")
        # with -reuse s_time first reports one "new" run, then the reuse run
        m = re.findall(r"(\d+) connections in [\d.]+ real seconds", out)
        if m:
            total += int(m[-1])
    return total


def h2load_load(port, seconds, rate_guess):
    """16 clients, each reconnecting after every response (Connection:
    close): h2load resumes its TLS session on reconnect.  (Its duration
    mode hangs with reconnecting clients, so a request count sized from
    the previous round's rate is used instead.)"""
    n = max(1000, int(rate_guess * seconds))
    r = run(["taskset", "-c", LOAD_CPU, "h2load", "--h1", "-t", "1", "-c", "16", "-n", str(n),
             "-H", "Connection: close", "--tls13-ciphers=TLS_AES_128_GCM_SHA256",
             "https://127.0.0.1:%d/small" % port])
    out = r.stdout.decode(errors="replace")
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    return int(m.group(2)) if m else 0


def wrk_load(port, seconds):
    w = wrk("https://127.0.0.1:%d/small" % port, seconds, 50, latency=False)
    if w["non2xx"]:
        return 0
    return w["requests"] or 0


def measure(case, port, pids, rate_guess=2000):
    c0, t0 = cpu_ns(pids), time.monotonic()
    if case in ("full", "resumed"):
        ops = sclient_load(port, case, SECONDS)
    elif case == "resumed13":
        ops = h2load_load(port, SECONDS, rate_guess)
    else:
        ops = wrk_load(port, SECONDS)
    wall, cpu = time.monotonic() - t0, cpu_ns(pids) - c0
    return {"ops": ops, "rate": ops / wall if wall else 0,
            "cpu_us": cpu / ops / 1000 if ops else None, "busy": cpu / 1e9 / wall}


# ---- main -----------------------------------------------------------------------------------

def main():
    trap_signals(signal.SIGINT, signal.SIGTERM, code=1)
    for tool in ("openssl", "h2load", "wrk", "nginx", "taskset"):
        if not shutil.which(tool):
            raise SystemExit("bench: %s missing (make deps)" % tool)
    if LOAD_CPU != PROXY_CPU:
        os.sched_setaffinity(0, {int(LOAD_CPU)})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    load_start = os.getloadavg()[0]
    out_dir = os.path.join(HERE, "results", "tls-" + stamp)
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gh-tls-bench-")
    os.chmod(tmp, 0o755)   # nginx workers run as an unprivileged user
    pem, crt, key = make_cert(tmp)
    origin_port = PORT_BASE
    origin = spawn(["nginx", "-p", tmp, "-e", os.path.join(tmp, "origin-error.log"),
                    "-c", origin_conf(tmp, origin_port)], os.path.join(tmp, "origin.log"),
                   LOAD_CPU)
    if not wait_port(origin_port, origin):
        raise SystemExit("bench: origin nginx did not start")

    live, failed = {}, {}
    for i, name in enumerate(PROXIES):
        port = PORT_BASE + 1 + i
        p, why = start_proxy(name, tmp, port, origin_port, pem, crt, key)
        if not p:
            failed[name] = why
            log("%s: FAILED: %s" % (name, why))
            continue
        why = validate(port)
        if why:
            failed[name] = why
            log("%s: FAILED: %s" % (name, why))
            stop(p)
            continue
        live[name] = (p, port)
        log("%s: ok on port %d" % (name, port))

    res = {name: {c: [] for c in CASES} for name in live}
    for name, (p, port) in live.items():   # warm-up
        wrk_load(port, 1)
    for rnd in range(ROUNDS):
        for ci, case in enumerate(CASES):
            order = list(live)
            k = (rnd + ci) % max(1, len(order))
            for name in order[k:] + order[:k]:
                p, port = live[name]
                prev = [x["rate"] for x in res[name][case] if x["ops"]]
                r = measure(case, port, descendants(p.pid), prev[-1] if prev else 2000)
                res[name][case].append(r)
                log("round %d %-9s %-9s %8.0f ops/s  %s us/op  busy %.0f%%" % (
                    rnd + 1, case, name, r["rate"],
                    "%.1f" % r["cpu_us"] if r["cpu_us"] else "-", 100 * r["busy"]))

    summary = {n: {c: {"rate": median([r["rate"] for r in res[n][c] if r["ops"]]),
                       "cpu_us": median([r["cpu_us"] for r in res[n][c]]),
                       "busy": median([r["busy"] for r in res[n][c]])}
                   for c in CASES} for n in res}
    lines = ["TLS bench %s: %d round(s) x %d s, %d s_time clients; proxies on CPU %s, origin "
             "and load on CPU %s. ECDSA P-256, TLS_AES_128_GCM_SHA256 / "
             "ECDHE-ECDSA-AES128-GCM-SHA256." % (stamp, ROUNDS, SECONDS, CLIENTS, PROXY_CPU,
                                                  LOAD_CPU), "",
             "| case | proxy | ops/s | vs HAProxy | proxy CPU/op | vs HAProxy | proxy CPU busy |",
             "|---|---|---|---|---|---|---|"]
    ref = summary.get("haproxy")
    for c in CASES:
        for n in summary:
            s = summary[n][c]
            rr = ref[c] if ref else None

            def ratio(a, b):
                return "%.2f" % (a / b) if a and b else "-"
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                c, n, "%.0f" % s["rate"] if s["rate"] else "FAILED",
                ratio(s["rate"], rr and rr["rate"]),
                "%.1f us" % s["cpu_us"] if s["cpu_us"] else "-",
                ratio(s["cpu_us"], rr and rr["cpu_us"]),
                "%.0f%%" % (100 * s["busy"]) if s["busy"] is not None else "-"))
    for n, why in failed.items():
        lines.append("| all | %s | FAILED: %s | | | | |" % (n, why.replace("|", "/")))
    load_end = os.getloadavg()[0]
    lines += ["", "Load average %.1f at start, %.1f at end (2 CPUs: above ~2.5 other work shared "
              "the CPUs; re-run on a quiet machine before quoting)." % (load_start, load_end)]
    lines += ["", "ops = handshakes (full, resumed), handshake + request (resumed13), requests "
              "(ka). The clients' crypto caps full and resumed handshakes/s below what one "
              "proxy core can do: compare CPU/op (1e6 / CPU-us = ops/s per core)."]
    table = "\n".join(lines)
    print(table)
    write(os.path.join(out_dir, "table.md"), table + "\n")
    write(os.path.join(out_dir, "results.json"), json.dumps(
        {"raw": res, "summary": summary, "failed": failed}, indent=1))
    for f in glob.glob(os.path.join(tmp, "*.c*")) + glob.glob(os.path.join(tmp, "*.log")):
        shutil.copy(f, out_dir)
    log("results in %s" % out_dir)
    cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
