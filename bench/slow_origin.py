#!/usr/bin/env python3
"""slow_origin.py - one slow origin among four: tail latency per balancing algorithm.

Four origins (one nginx, one server block each, CPU 1); the fourth answers
SLOW_DELAY_MS (50) later through the echo module's echo_sleep.  wrk (CPU 1,
-t1 -cSLOW_CONNS) drives gatehouse with each algorithm, then HAProxy with
`balance leastconn`, each proxy alone on CPU 0 with one thread, in
SLOW_ROUNDS interleaved rounds of SLOW_SECONDS; medians go into a markdown
table with the share of requests that reached the slow origin (from the
origins' access logs).  Raw wrk output and configs are kept in
bench/results/slow-origin-<date>/.

wrk corrects its latency percentiles for coordinated omission: a 50 ms
answer also counts, at decreasing latencies, the requests its connection
could not send meanwhile.  So half a percent of slow answers already shows
from p90 on; the share column says how many there really were.

  SLOW_SECONDS=10 SLOW_ROUNDS=3 SLOW_CONNS=50 SLOW_DELAY_MS=50
  SLOW_ALGOS="roundrobin leastconn random ewma"   gatehouse variants
  GATEHOUSE_BIN=build/gatehouse

Every process started here is stopped by PID on exit.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (nginx_text, LOAD_CPU, PROXY_CPU, ROOT, cleanup, env_int, free_port, log,  # noqa: E402
                      median, parse_wrk, spawn, stop, trap_signals, wait_port, wrk, write)

SECONDS = env_int("SLOW_SECONDS", 10, "slow_origin")
ROUNDS = env_int("SLOW_ROUNDS", 3, "slow_origin")
CONNS = env_int("SLOW_CONNS", 50, "slow_origin")
DELAY_MS = env_int("SLOW_DELAY_MS", 50, "slow_origin")
ALGOS = os.environ.get("SLOW_ALGOS", "roundrobin leastconn random ewma").split()
GATEHOUSE = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "build", "gatehouse"))
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
BODY = "x" * 63   # + echo's newline: 64 bytes


# ---------------------------------------------------------------- configs

def origin_conf(tmp, ports):
    servers = []
    for i, port in enumerate(ports):
        slow = i == len(ports) - 1
        servers.append("""\
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        access_log {tmp}/origin{i}.log counted buffer=64k;
        location / {{
            {sleep}echo "{body}";
        }}
    }}
""".format(port=port, tmp=tmp, i=i, body=BODY,
           sleep="echo_sleep %.3f;\n            " % (DELAY_MS / 1000.0) if slow else ""))
    return write(os.path.join(tmp, "origins-nginx.conf"), nginx_text(
        tmp, "origins", temp="o", rlimit=True, conns=8192, access_log=False,
        head="# Four origins; the last one answers %s ms late (echo_sleep).\n"
             "load_module %s;\n" % (DELAY_MS, ECHO_MODULE),
        http="""\
    log_format counted "1";
    default_type text/plain;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
{servers}""".format(servers="".join(servers))))

def gatehouse_conf(tmp, port, ports, algo):
    servers = "".join("    server o%d 127.0.0.1:%d\n" % (i, p) for i, p in enumerate(ports))
    return write(os.path.join(tmp, "gatehouse-%s.conf" % re.sub(r"\W", "_", algo)), """\
global {{
    workers 1
    max_connections 20000
    log_level warn
}}
frontend bench {{
    bind 127.0.0.1:{port}
    mode http
    timeout client 120s
    forward_headers none
    default_backend origins
}}
backend origins {{
    balance {algo}
{servers}    timeout connect 2s
    timeout server 60s
}}
""".format(port=port, algo=algo, servers=servers))


def haproxy_conf(tmp, port, ports):
    servers = "".join("    server o%d 127.0.0.1:%d\n" % (i, p) for i, p in enumerate(ports))
    return write(os.path.join(tmp, "haproxy-leastconn.cfg"), """\
global
    nbthread 1
    cpu-map 1/1 {cpu}
    maxconn 9000

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
    bind 127.0.0.1:{port} backlog 4096
    default_backend be

backend be
    balance leastconn
{servers}""".format(cpu=PROXY_CPU, port=port, servers=servers))


# ---------------------------------------------------------------- measuring

def run_wrk(port, seconds):
    """wrk's output for one run against the proxy (benchlib.wrk, on LOAD_CPU)."""
    return wrk("http://127.0.0.1:%d/" % port, seconds, CONNS)["raw"]


def origin_counts(tmp, origins_proc, n):
    # Flush the buffered access logs (USR1 reopens them), then count lines.
    origins_proc.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    counts = []
    for i in range(n):
        try:
            with open(os.path.join(tmp, "origin%d.log" % i), "rb") as f:
                counts.append(f.read().count(b"\n"))
        except OSError:
            counts.append(0)
    return counts


def start_proxy(name, tmp, port, ports):
    if name == "haproxy leastconn":
        conf = haproxy_conf(tmp, port, ports)
        argv = ["haproxy", "-db", "-f", conf]
    else:
        conf = gatehouse_conf(tmp, port, ports, name.split(" ", 1)[1])
        argv = [GATEHOUSE, "-c", conf]
    p = spawn(argv, os.path.join(tmp, re.sub(r"\W", "_", name) + ".log"), PROXY_CPU)
    if not wait_port(port, p):
        stop(p)
        return None
    return p


def main():
    for tool in ("wrk", "haproxy", "nginx", "taskset"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            sys.exit("slow_origin: %s missing (make deps)" % tool)
    if not os.path.exists(ECHO_MODULE):
        sys.exit("slow_origin: %s missing (apt-get install libnginx-mod-http-echo)" % ECHO_MODULE)
    tmp = os.path.join(ROOT, "bench", "results", time.strftime("slow-origin-%Y%m%d-%H%M%S"))
    os.makedirs(tmp)
    ports = [free_port() for _ in range(4)]
    origins = spawn(["nginx", "-e", os.path.join(tmp, "origins-error.log"), "-c",
                     origin_conf(tmp, ports)], os.path.join(tmp, "origins.out"), LOAD_CPU)
    if not all(wait_port(p, origins) for p in ports):
        sys.exit("slow_origin: origin nginx did not start; see %s" % tmp)

    variants = ["gatehouse %s" % a for a in ALGOS] + ["haproxy leastconn"]
    results = {v: [] for v in variants}
    log("slow_origin: %d origins (last +%d ms), wrk -c%d, %d s x %d rounds -> %s"
        % (len(ports), DELAY_MS, CONNS, SECONDS, ROUNDS, tmp))
    for rnd in range(ROUNDS):
        order = variants[rnd % len(variants):] + variants[:rnd % len(variants)]
        for v in order:
            port = free_port()
            p = start_proxy(v, tmp, port, ports)
            if not p:
                log("  %s: did not start (see %s)" % (v, tmp))
                results[v].append(None)
                continue
            run_wrk(port, 1)   # warm-up: connections, pools, EWMA samples
            before = origin_counts(tmp, origins, len(ports))
            out = run_wrk(port, SECONDS)
            after = origin_counts(tmp, origins, len(ports))
            stop(p)
            with open(os.path.join(tmp, "wrk-%s-%d.txt" % (re.sub(r"\W", "_", v), rnd)), "w") as f:
                f.write(out)
            r = parse_wrk(out)
            r["errors"] = r["socket_errors"] + r["non2xx"]
            got = [a - b for a, b in zip(after, before)]
            r["slow_share"] = got[-1] / sum(got) if sum(got) else None
            results[v].append(r)
            log("  round %d %-22s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  slow %.2f%%"
                % (rnd + 1, v, r["rps"] or 0, r["p50_ms"] or -1, r["p99_ms"] or -1,
                   100 * (r["slow_share"] or 0)))
    stop(origins)

    def med(v, key):
        return median([r[key] for r in results[v] if r])

    def f(x, fmt):
        return fmt % x if x is not None else "failed"

    lines = ["| proxy, balance | req/s | p50 ms | p90 ms | p99 ms | to slow origin | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for v in variants:
        errs = sum(r["errors"] for r in results[v] if r)
        lines.append("| %s | %s | %s | %s | %s | %s | %d |" % (
            v, f(med(v, "rps"), "%.0f"), f(med(v, "p50_ms"), "%.2f"), f(med(v, "p90_ms"), "%.2f"),
            f(med(v, "p99_ms"), "%.2f"),
            f(None if med(v, "slow_share") is None else 100 * med(v, "slow_share"), "%.2f%%"),
            errs))
    table = "\n".join(lines)
    note = ("\n4 origins (one nginx worker, CPU 1), the 4th +%d ms (echo_sleep); "
            "wrk -t1 -c%d on CPU 1; proxy on CPU 0, one thread; medians of %d x %d s; "
            "wrk's percentiles are corrected for coordinated omission.\n"
            % (DELAY_MS, CONNS, ROUNDS, SECONDS))
    write(os.path.join(tmp, "table.md"), table + "\n" + note)
    print(table + "\n" + note)


if __name__ == "__main__":
    trap_signals(signal.SIGTERM, code=1)
    try:
        main()
    finally:
        cleanup()
