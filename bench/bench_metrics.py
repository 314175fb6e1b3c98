"""bench_metrics.py - the `metrics` scenario (BENCH_SCENARIOS=metrics
bench/run.sh): what the per-worker counters and a Prometheus scraper cost
traffic.

Two gatehouse processes with the same frontend and backend, both pinned
to CPU 0 with one worker, only one under load at a time:

  off      no `admin` line: no listener, no counting (the metrics filters
           stay out of the chains)
  on       `admin 127.0.0.1:PORT`: every request counted, and /metrics
           scraped 10 times a second during the run (a thread of this
           script, on CPU 1)

The origin (nginx, a 64-byte /small) and wrk (-t1 -c50, keep-alive) run on
CPU 1.  Rounds are interleaved (off, on, off, on, ...); CPU per request is
the proxy process's on-CPU time (every thread, the admin thread included:
the scrapes' cost counts) over wrk's completed requests.  Reported: the
median per variant and the difference, target under 2%.  Results go to
bench/results/<date>-metrics/.  Stdlib only.

Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS (default 8),
BENCH_SCRAPE_HZ (default 10), GATEHOUSE_BIN (default build/gatehouse).
"""
import datetime
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (nginx_text, LOAD_CPU, PROXY_CPU, ROOT, cleanup, cpu_during, env_int,  # noqa: E402
                      free_port, log, median, spawn, trap_signals, wait_port, wrk, write)

ROUNDS = env_int("BENCH_ROUNDS", 5)
SECONDS = env_int("BENCH_SECONDS", 8)
HZ = env_int("BENCH_SCRAPE_HZ", 10)
CONNS = 50
BIN = os.environ.get("GATEHOUSE_BIN") or os.path.join(ROOT, "build", "gatehouse")


def origin_conf(tmp, port):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(b"x" * 64)
    return write(os.path.join(tmp, "origin.conf"), nginx_text(tmp, "origin", temp="o", http="""\
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    etag off;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
    }}
""".format(port=port, www=www)))

def gatehouse_conf(tmp, name, port, origin, admin):
    return write(os.path.join(tmp, name + ".conf"), """\
global {{
    workers 1
    log_level warn
{admin}}}
frontend web {{
    bind 127.0.0.1:{port}
    forward_headers none
    default_backend app
}}
backend app {{
    server o1 127.0.0.1:{origin}
}}
""".format(port=port, origin=origin,
           admin="    admin 127.0.0.1:%d\n" % admin if admin else ""))


class Scraper(threading.Thread):
    """GET /metrics HZ times a second until stopped; counts scrapes and
    checks each is a 200 with the request counter in it."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.n, self.bad = port, 0, 0
        self.done = threading.Event()

    def run(self):
        url = "http://127.0.0.1:%d/metrics" % self.port
        period = 1.0 / HZ
        nxt = time.monotonic()
        while not self.done.is_set():
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    ok = r.status == 200 and b"gatehouse_frontend_requests_total" in r.read()
            except OSError:
                ok = False
            self.n += 1
            self.bad += not ok
            nxt += period
            self.done.wait(max(0.0, nxt - time.monotonic()))


def run_wrk(port, seconds):
    return wrk("http://127.0.0.1:%d/small" % port, seconds, CONNS)


def measure(proc, port, admin):
    sc = Scraper(admin) if admin else None

    def load():
        if sc:
            sc.start()
        w = run_wrk(port, SECONDS)
        if sc:
            sc.done.set()
            sc.join(5)
        return w
    w, cpu, _ = cpu_during(proc.pid, load)
    run = {k: w.get(k) for k in ("requests", "rps", "p50_ms", "p99_ms", "non2xx",
                                 "socket_errors")}
    if w.get("requests"):
        run["cpu_us_per_req"] = cpu / 1e3 / w["requests"]
    if sc:
        run["scrapes"], run["scrape_errors"] = sc.n, sc.bad
    return run


def main():
    trap_signals(2, 15)
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(ROOT, "bench", "results", stamp + "-metrics")
    os.makedirs(outdir, exist_ok=True)
    tmp = outdir
    res = {"meta": {"date": stamp, "rounds": ROUNDS, "seconds": SECONDS, "scrape_hz": HZ,
                    "conns": CONNS, "host": os.uname().nodename, "ncpu": os.cpu_count()},
           "runs": {"off": [], "on": []}}
    try:
        oport = free_port()
        origin = spawn(["nginx", "-p", tmp, "-c", origin_conf(tmp, oport)],
                       os.path.join(tmp, "origin.log"), LOAD_CPU)
        if not wait_port(oport, origin):
            sys.exit("bench: metrics: the nginx origin did not start")
        procs = {}
        for name in ("off", "on"):
            port, admin = free_port(), (free_port() if name == "on" else None)
            conf = gatehouse_conf(tmp, name, port, oport, admin)
            p = spawn([BIN, "-c", conf], os.path.join(tmp, name + ".log"), PROXY_CPU)
            if not wait_port(port, p):
                sys.exit("bench: metrics: gatehouse-%s did not start (see %s.log)" % (name, name))
            procs[name] = (p, port, admin)
            log("bench: metrics: gatehouse-%s on 127.0.0.1:%d (pid %d)" % (name, port, p.pid))
        for p, port, admin in procs.values():   # warm-up
            run_wrk(port, 2)
        for rnd in range(ROUNDS):
            for name in ("off", "on") if rnd % 2 == 0 else ("on", "off"):
                p, port, admin = procs[name]
                r = measure(p, port, admin)
                res["runs"][name].append(r)
                log("bench: metrics round %d %s: %s req/s, %.2f µs CPU/req%s" % (
                    rnd + 1, name, r.get("rps"), r.get("cpu_us_per_req") or -1,
                    ", %d scrapes (%d bad)" % (r["scrapes"], r["scrape_errors"])
                    if "scrapes" in r else ""))
        summary = {}
        for name in ("off", "on"):
            runs = res["runs"][name]
            summary[name] = {k: median([r.get(k) for r in runs])
                             for k in ("rps", "cpu_us_per_req", "p50_ms", "p99_ms")}
        off, on = summary["off"]["cpu_us_per_req"], summary["on"]["cpu_us_per_req"]
        summary["cpu_diff_pct"] = (on - off) / off * 100 if off and on else None
        res["summary"] = summary
        table = ["| gatehouse | req/s | CPU µs/req | p50 ms | p99 ms |", "|---|---|---|---|---|"]
        for name in ("off", "on"):
            s = summary[name]
            table.append("| metrics %s%s | %.0f | %.2f | %.3f | %.3f |" % (
                name, " (scraped %d/s)" % HZ if name == "on" else "",
                s["rps"] or 0, s["cpu_us_per_req"] or 0, s["p50_ms"] or 0, s["p99_ms"] or 0))
        d = summary["cpu_diff_pct"]
        table.append("")
        table.append("CPU per request, on vs off: %+.2f%% (target: under 2%% apart); medians of %d "
                     "rounds of %d s, %d connections" % (d if d is not None else float("nan"),
                                                        ROUNDS, SECONDS, CONNS))
        print("\n".join(table))
        write(os.path.join(outdir, "table.md"), "\n".join(table) + "\n")
    finally:
        cleanup()
        with open(os.path.join(outdir, "results.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)
        log("bench: raw results in %s" % os.path.relpath(outdir, ROOT))


if __name__ == "__main__":
    main()
