#!/usr/bin/python3
"""efficiency.py - what a request costs besides CPU time (issue 15):
memory per request in flight, wakeups per request, and worker scaling,
gatehouse vs HAProxy vs nginx in one run.  Started by bench/efficiency.sh
(see bench/README.md, "Efficiency").  Stdlib only.

Layout, as in bench.py: an nginx origin (echo module: answers after a
delay) on CPU 1; each proxy with the configuration bench.py generates (one
worker, no logging) pinned to CPU 0; the load (wrk, or this script's own
clients) on CPU 1.  Scenarios (EFF_SCENARIOS, default all three):

  inflight  EFF_INFLIGHT_CONNS (4000) concurrent requests to a slow origin
            (answers after EFF_DELAY s, 6) for bodies of 0, 20 KB and 200 KB;
            the clients (this script, non-blocking sockets, a small receive
            buffer) send their request and read nothing until EFF_HOLD s (2)
            after the origin answered.  Each run starts a fresh proxy:
            VmRSS before (after a few validating requests), its peak
            (sampled every 20 ms) while every response is held unread and
            over the whole run (the delivery included), and after every
            client read its response, closed, and EFF_SETTLE s (2) passed.
            Per request: (peak - before) / requests, held and overall.
            Every response must arrive whole.
  wakeups   wrk -t1 -cEFF_CONNS (50) for EFF_WAKE_SECONDS (5), close mode
            (Connection: close) and keep-alive, 64 B: the growth of
            voluntary_ctxt_switches summed over /proc/PID/task/*/status of
            every thread of every process of the proxy (a thread that sleeps
            in epoll_wait and is woken counts one) / requests completed;
            with CPU time per request and req/s of the same run, and the
            same per thread name in results.json (wakeups_by_thread).
  scaling   req/s with 1 and 2 workers (gatehouse `workers N`, HAProxy
            `nbthread N` with cpu-map, nginx `worker_processes N` with
            worker_cpu_affinity), keep-alive and close, EFF_SECONDS (5) each:
            the proxy on CPU 0 (1 worker) or CPUs 0-1 (2 workers), the origin
            on CPU 1, wrk -t2 -c100 unpinned.  On a 2-core machine the second
            worker shares its core with the origin and wrk: this says how
            each proxy behaves when it gets more threads than free cores, not
            what it would do on 2 free cores.

Every scenario runs EFF_ROUNDS (3) interleaved rounds (proxy order rotating
per round and case); the tables give medians and the ratio to HAProxy.  Raw
results (configs, wrk output, results.json, table.md) go to
bench/results/efficiency-<date>/.  Every process started here is stopped by
PID on exit, Ctrl-C or SIGTERM.

  EFF_SCENARIOS="inflight wakeups scaling"  EFF_ROUNDS=3
  EFF_INFLIGHT_CONNS=4000  EFF_DELAY=6  EFF_HOLD=2  EFF_SETTLE=2
  EFF_BODIES="0 20k 200k"  EFF_CONNS=50  EFF_WAKE_SECONDS=5  EFF_SECONDS=5
  EFF_PROXIES="gatehouse haproxy nginx"  EFF_PORT_BASE=19300
  GATEHOUSE_BIN=build/gatehouse
"""
import datetime
import json
import os
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (config generators, validation, wrk)
from benchlib import (nginx_text, LOAD_CPU, PROXY_CPU, ROOT, cleanup, cpu_during, descendants,  # noqa: E402
                      env_int, launch, log, median, rss_kib, spawn, stop, tail,
                      trap_signals, vol_switches, wait_port, why, wrk, write)

PROG = "efficiency"
SCENARIOS = os.environ.get("EFF_SCENARIOS", "inflight wakeups scaling").split()
ROUNDS = env_int("EFF_ROUNDS", 3, PROG)
INFLIGHT_CONNS = env_int("EFF_INFLIGHT_CONNS", 4000, PROG)
DELAY = env_int("EFF_DELAY", 6, PROG)
HOLD = env_int("EFF_HOLD", 2, PROG)
SETTLE = env_int("EFF_SETTLE", 2, PROG)
BODIES = os.environ.get("EFF_BODIES", "0 20k 200k").split()
CONNS = env_int("EFF_CONNS", 50, PROG)
WAKE_SECONDS = env_int("EFF_WAKE_SECONDS", 5, PROG)
SCALE_SECONDS = env_int("EFF_SECONDS", 5, PROG)
PORT_BASE = env_int("EFF_PORT_BASE", 19300, PROG)
PROXIES = os.environ.get("EFF_PROXIES", "gatehouse haproxy nginx").split()
REF = "haproxy"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
CLIENT_RCVBUF = 4096     # the kernel doubles it: ~8 KiB a client takes before it reads
FD_HARD_MAX = 20000

SIZES = {"0": 0, "20k": 20 * 1024, "200k": 200 * 1024}
WAKE_CASES = [
    # name, path, extra wrk args, description (bench.py's case shape)
    ("close", "/small", ["-H", "Connection: close"], "connection per request, 64 B"),
    ("keep-alive", "/small", [], "keep-alive, 64 B"),
]


# ---------------------------------------------------------------- origin

def origin_conf(tmp, port):
    """bench.py's static origin plus /slow/SIZE: echo_sleep DELAY, then the
    file (Content-Length, no chunking)."""
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(B.SMALL_BODY)
    for name, size in SIZES.items():
        with open(os.path.join(www, "body-" + name), "wb") as f:
            f.write(bytes((i * 7 + 13) % 26 + 97 for i in range(size)))
    slow = "".join("        location = /slow/{n} {{ echo_sleep {d}; echo_exec /body-{n}; }}\n"
                   .format(n=n, d=DELAY) for n in SIZES)
    return write(os.path.join(tmp, "origin-nginx.conf"), nginx_text(
        tmp, "origin", temp="o", rlimit=True, conns=19000,
        head="# Origin: static bodies, and /slow/SIZE answering after %s s (echo module).\n"
             "load_module %s;\n" % (DELAY, ECHO_MODULE),
        http="""\
    default_type application/octet-stream;
    sendfile on;
    etag off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} backlog=8192;
        root {www};
{slow}    }}
""".format(port=port, www=www, slow=slow)))

# ---------------------------------------------------------------- proxies

def with_workers(name, text, n):
    """bench.py's one-worker configuration turned into an n-worker one."""
    if n == 1:
        return text
    if name.startswith("gatehouse"):
        return text.replace("    workers 1\n", "    workers %d\n" % n)
    if name == "haproxy":
        return text.replace("    nbthread 1\n    cpu-map 1/1 %s\n" % PROXY_CPU,
                            "    nbthread %d\n    cpu-map auto:1/1-%d 0-%d\n" % (n, n, n - 1))
    if name == "nginx":
        masks = " ".join(format(1 << i, "0%db" % n) for i in range(n))
        return text.replace("worker_processes 1;\nworker_cpu_affinity 1;",
                            "worker_processes %d;\nworker_cpu_affinity %s;" % (n, masks))
    raise SystemExit("%s: unknown proxy %s" % (PROG, name))


def make_proxy(name, i, tmp, origin, workers=1):
    port = PORT_BASE + 1 + i
    variants = B.proxy_variants(name, tmp, port, origin)
    argv, check, conf = variants[0]
    text = open(conf).read()
    new = with_workers(name, text, workers)
    if workers > 1:
        if new == text:
            raise SystemExit("%s: cannot make a %d-worker %s config" % (PROG, workers, name))
        root, ext = os.path.splitext(conf)
        path = write("%s-w%d%s" % (root, workers, ext), new)
        argv = [path if a == conf else a for a in argv]
        check = [path if a == conf else a for a in check]
        conf = path
    return {"name": name, "port": port, "argv": argv, "check": check, "conf": conf,
            "workers": workers, "log": os.path.join(tmp, "%s-w%d.log" % (name, workers))}


def start(px):
    """A fresh proxy, pinned to CPU 0 (one worker) or CPUs 0..N-1; checks
    its config first.  Returns an error string or None."""
    r = subprocess.run(px["check"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    if r.returncode:
        return "config check failed: " + why(r.stdout + r.stderr)
    cpus = PROXY_CPU if px["workers"] == 1 else "0-%d" % (px["workers"] - 1)
    px["proc"], err = launch(px["argv"], px["port"], px["log"], cpus)
    if err:
        return err
    try:
        small_ok(px["port"])
    except (OSError, ValueError, ConnectionError) as e:
        stop(px["proc"])
        return "validation: %s" % e
    return None


def small_ok(port):
    s = None
    for _ in range(3):
        status, body, s = B.http_get(port, "/small", s)
        if status != 200 or body != B.SMALL_BODY:
            raise ConnectionError("GET /small: status %d, %d bytes" % (status, len(body)))
    s.close()


def pids_of(px):
    return descendants(px["proc"].pid)


# ---------------------------------------------------------------- in-flight burst

class RssSampler:
    """VmRSS of a proxy's processes every 20 ms, on a thread; keeps the peak."""

    def __init__(self, px):
        self.px, self.peak, self.done = px, 0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(pids_of(self.px)))
            time.sleep(0.02)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.t.join()


def burst(px, body, n):
    """n clients each send GET /slow/BODY with Connection: close and read
    nothing until HOLD s after the origin answered; then every response is
    read to EOF.  Returns the run's figures."""
    size = SIZES[body]
    req = ("GET /slow/%s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" % body).encode()
    sel = selectors.DefaultSelector()
    socks, sent, errors = [], 0, 0
    before = rss_kib(pids_of(px))
    run = {"requests": n, "rss_before_kib": before}
    with RssSampler(px) as rs:
        t0 = time.monotonic()
        for _ in range(n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", px["port"]))
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
            if len(socks) % 256 == 0:   # keep the accept queue from overflowing
                k, bad = send_ready(sel, req, 0)
                sent, errors = sent + k, errors + bad
        deadline = time.monotonic() + 30
        while sent + errors < n and time.monotonic() < deadline:
            k, bad = send_ready(sel, req, 0.2)
            sent, errors = sent + k, errors + bad
        ramp = time.monotonic() - t0
        # the origin answers DELAY s after each request; then HOLD s unread
        time.sleep(max(0.0, t0 + ramp + DELAY + HOLD - time.monotonic()))
        run["held_peak_kib"] = rs.peak
        run["rss_held_kib"] = rss_kib(pids_of(px))
        for s in socks:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
        ok, short, got = drain(sel, socks, size)
        run["peak_kib"] = rs.peak   # with the delivery of the held responses
    run["ramp_s"] = round(ramp, 2)
    run["sent"], run["send_errors"] = sent, errors
    time.sleep(SETTLE)
    run["rss_after_kib"] = rss_kib(pids_of(px))
    run.update({"complete": ok, "incomplete": short, "bytes": got})
    if px["proc"].poll() is not None:
        run["failed"] = "proxy exited during the run"
    elif ok < 0.99 * n:
        run["failed"] = "%d of %d responses complete (%d sent)" % (ok, n, sent)
    run["held_kib_per_req"] = (run["held_peak_kib"] - before) / n
    run["kib_per_req"] = (run["peak_kib"] - before) / n
    return run


def send_ready(sel, req, timeout):
    """Sends the request on every socket that became writable (connected,
    or failed to); returns (sent, failed)."""
    k = bad = 0
    for key, _ in sel.select(timeout):
        s = key.fileobj
        sel.unregister(s)
        try:
            s.send(req)
            k += 1
        except OSError:
            bad += 1
    return k, bad


def drain(sel, socks, size):
    """Reads every socket to EOF; a response is complete when it starts with
    a 200 status line and brings at least its body size after the head."""
    head = {s: bytearray() for s in socks}   # until the blank line
    body = {s: 0 for s in socks}             # bytes after it
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    ok = short = got = 0
    deadline = time.monotonic() + 60 + len(socks) * size / 50e6
    left = len(socks)
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(1.0):
            s = key.fileobj
            try:
                data = s.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                got += len(data)
                h = head[s]
                if h is None:
                    body[s] += len(data)
                elif h is False:
                    pass   # not a 200: counted as incomplete at EOF
                else:
                    h += data
                    i = h.find(b"\r\n\r\n")
                    if i >= 0:
                        body[s] = len(h) - i - 4
                        head[s] = None if h.startswith(b"HTTP/1.1 200") else False
                continue
            sel.unregister(s)
            left -= 1
            if head[s] is None and body[s] >= size:
                ok += 1
            else:
                short += 1
            s.close()
    for s in socks:
        if s.fileno() >= 0:
            sel.unregister(s)
            s.close()
            short += 1
    sel.close()
    return ok, short, got


def run_inflight(res, tmp, origin):
    n = INFLIGHT_CONNS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, FD_HARD_MAX)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if n + 64 > want:
        res["notes"].append("inflight: %d clients capped to %d by the open files limit"
                            % (n, want - 64))
        n = want - 64
    sec = res["inflight"] = {"conns": n, "delay_s": DELAY, "hold_s": HOLD, "runs": []}
    pxs = [make_proxy(name, i, tmp, origin) for i, name in enumerate(PROXIES)]
    for r in range(ROUNDS):
        for bi, body in enumerate(BODIES):
            k = (r + bi) % len(pxs)
            for px in pxs[k:] + pxs[:k]:
                err = start(px)
                if err:
                    run = {"failed": err}
                else:
                    log("  inflight round %d: %s, body %s, %d clients" % (r + 1, px["name"],
                                                                          body, n))
                    run = burst(px, body, n)
                    stop(px["proc"])
                run.update({"proxy": px["name"], "body": body, "round": r + 1})
                sec["runs"].append(run)
                log("    %s" % short_run(run, ("held_kib_per_req", "kib_per_req",
                                               "rss_after_kib", "complete", "failed")))
    sec["summary"] = summarize(sec["runs"], "body", BODIES,
                               ("held_kib_per_req", "kib_per_req", "rss_before_kib",
                                "rss_after_kib"))


def short_run(run, keys):
    return ", ".join("%s=%s" % (k, round(run[k], 2) if isinstance(run[k], float) else run[k])
                     for k in keys if k in run)


# ---------------------------------------------------------------- wrk scenarios

def wrk_run(px, case, seconds, conns, threads=1, pinned=True):
    _, path, extra, _ = case
    url = "http://127.0.0.1:%d%s" % (px["port"], path)
    th0, th1 = {}, {}
    v0 = vol_switches(pids_of(px), th0)
    r, cpu, wall = cpu_during(px["proc"].pid, lambda: wrk(
        url, seconds, conns, threads, extra, cpu=LOAD_CPU if pinned else None))
    v1 = vol_switches(pids_of(px), th1)
    if px["proc"].poll() is not None:
        r["failed"] = "proxy exited during the run"
    if r.get("requests"):
        r["wakeups_per_req"] = (v1 - v0) / r["requests"]
        # Which threads sleep (by name: the worker, gh:admin, gh-control...).
        r["wakeups_by_thread"] = {k: round((th1[k] - th0.get(k, 0)) / r["requests"], 4)
                                  for k in th1 if th1[k] != th0.get(k, 0)}
        r["cpu_us_per_req"] = cpu / 1e3 / r["requests"]
        r["busy"] = cpu / 1e9 / wall
    return r


def run_wakeups(res, tmp, origin):
    sec = res["wakeups"] = {"conns": CONNS, "seconds": WAKE_SECONDS, "runs": []}
    pxs = [make_proxy(name, i, tmp, origin) for i, name in enumerate(PROXIES)]
    live = []
    for px in pxs:
        err = start(px)
        if err:
            sec["runs"].append({"proxy": px["name"], "failed": err})
            log("  %s: %s" % (px["name"], err))
        else:
            live.append(px)
    try:
        for px in live:   # warm-up
            for case in WAKE_CASES:
                wrk_run(px, case, 1, CONNS)
        for r in range(ROUNDS):
            for ci, case in enumerate(WAKE_CASES):
                k = (r + ci) % max(1, len(live))
                for px in live[k:] + live[:k]:
                    run = wrk_run(px, case, WAKE_SECONDS, CONNS)
                    run.update({"proxy": px["name"], "case": case[0], "round": r + 1})
                    sec["runs"].append(run)
                    log("  wakeups round %d %s %s: %s" % (r + 1, case[0], px["name"], short_run(
                        run, ("rps", "wakeups_per_req", "cpu_us_per_req", "failed"))))
    finally:
        for px in live:
            stop(px["proc"])
    sec["summary"] = summarize(sec["runs"], "case", [c[0] for c in WAKE_CASES],
                               ("wakeups_per_req", "cpu_us_per_req", "rps", "busy"))


def run_scaling(res, tmp, origin):
    sec = res["scaling"] = {"seconds": SCALE_SECONDS, "runs": []}
    cases = [c for c in WAKE_CASES]
    for r in range(ROUNDS):
        for wi, workers in enumerate((1, 2) if r % 2 == 0 else (2, 1)):
            k = (r + wi) % len(PROXIES)
            names = PROXIES[k:] + PROXIES[:k]
            for name in names:
                px = make_proxy(name, PROXIES.index(name), tmp, origin, workers)
                err = start(px)
                if err:
                    sec["runs"].append({"proxy": name, "workers": workers, "round": r + 1,
                                        "failed": err})
                    log("  %s (%d workers): %s" % (name, workers, err))
                    continue
                try:
                    for case in cases:
                        wrk_run(px, case, 1, 100, threads=2, pinned=False)   # warm-up
                        run = wrk_run(px, case, SCALE_SECONDS, 100, threads=2, pinned=False)
                        run.update({"proxy": name, "workers": workers, "case": case[0],
                                    "round": r + 1})
                        sec["runs"].append(run)
                        log("  scaling round %d %s %s w%d: %s" % (
                            r + 1, case[0], name, workers,
                            short_run(run, ("rps", "cpu_us_per_req", "busy", "failed"))))
                finally:
                    stop(px["proc"])
    summ = {}
    for case in cases:
        for workers in (1, 2):
            runs = [x for x in sec["runs"] if x.get("case") == case[0] and
                    x.get("workers") == workers]
            key = "%s w%d" % (case[0], workers)
            summ[key] = {}
            for name in PROXIES:
                ok = [x for x in runs if x["proxy"] == name and "failed" not in x]
                summ[key][name] = {m: median([x.get(m) for x in ok])
                                   for m in ("rps", "cpu_us_per_req", "busy")}
                summ[key][name]["runs"] = len(ok)
    sec["summary"] = summ


# ---------------------------------------------------------------- report

def summarize(runs, by, keys, metrics):
    out = {}
    for key in keys:
        out[key] = {}
        for name in PROXIES:
            ok = [x for x in runs if x.get(by) == key and x.get("proxy") == name
                  and "failed" not in x]
            out[key][name] = {m: median([x.get(m) for x in ok]) for m in metrics}
            out[key][name]["runs"] = len(ok)
    return out


def cell(v, ref, digits=2, scale=1.0):
    if v is None:
        return "failed"
    s = "%.*f" % (digits, v * scale)
    if ref not in (None, 0) and v is not None:
        s += " (%.2f×)" % (v / ref)
    return s


def table(summary, metrics, title):
    """metrics: [(key, header, digits, scale)]"""
    lines = ["### " + title, "",
             "| case | proxy | " + " | ".join(h for _, h, _, _ in metrics) + " | runs |",
             "|---|---|" + "---:|" * (len(metrics) + 1)]
    for key, per in summary.items():
        ref = per.get(REF, {})
        for name in PROXIES:
            v = per.get(name, {})
            lines.append("| %s | %s | %s | %s |" % (key, name, " | ".join(
                cell(v.get(m), ref.get(m) if name != REF else None, d, sc)
                for m, _, d, sc in metrics), v.get("runs", 0)))
    return "\n".join(lines) + "\n"


def report(res):
    out = ["## Efficiency: gatehouse vs HAProxy vs nginx (%s)" % res["started"], ""]
    out.append("Medians over %d rounds; (N×) is the ratio to HAProxy. Load average at start "
               "%s, at end %s." % (ROUNDS, res["load_start"], res.get("load_end")))
    out.append("")
    if "inflight" in res:
        s = res["inflight"]
        out.append(table(s["summary"], [
            ("held_kib_per_req", "RSS growth / request, held (KiB)", 1, 1.0),
            ("kib_per_req", "peak RSS growth / request (KiB)", 1, 1.0),
            ("rss_before_kib", "RSS before (MiB)", 1, 1 / 1024),
            ("rss_after_kib", "RSS after the burst (MiB)", 1, 1 / 1024)],
            "In-flight memory: %d requests held %d s by the origin, clients reading after "
            "%d s more" % (s["conns"], s["delay_s"], s["hold_s"])))
    if "wakeups" in res:
        s = res["wakeups"]
        out.append(table(s["summary"], [
            ("wakeups_per_req", "voluntary switches / request", 3, 1.0),
            ("cpu_us_per_req", "CPU µs / request", 1, 1.0),
            ("rps", "req/s", 0, 1.0),
            ("busy", "proxy CPU busy", 2, 1.0)],
            "Wakeups: wrk -t1 -c%d, %d s, 64 B" % (s["conns"], s["seconds"])))
    if "scaling" in res:
        s = res["scaling"]
        out.append(table(s["summary"], [
            ("rps", "req/s", 0, 1.0),
            ("cpu_us_per_req", "CPU µs / request", 1, 1.0),
            ("busy", "proxy CPU busy (cores)", 2, 1.0)],
            "Scaling: 1 and 2 workers, wrk -t2 -c100 unpinned, %d s, 64 B" % s["seconds"]))
        lines = ["| case | proxy | req/s 2 workers / 1 worker |", "|---|---|---:|"]
        for case in WAKE_CASES:
            for name in PROXIES:
                a = s["summary"].get("%s w1" % case[0], {}).get(name, {}).get("rps")
                b = s["summary"].get("%s w2" % case[0], {}).get(name, {}).get("rps")
                lines.append("| %s | %s | %s |" % (case[0], name,
                                                    "%.2f" % (b / a) if a and b else "failed"))
        out.append("\n".join(lines) + "\n")
    if res["notes"]:
        out.append("Notes:\n" + "".join("- %s\n" % n for n in res["notes"]))
    return "\n".join(out)


def main():
    trap_signals(2, 15)
    for tool in ("wrk", "haproxy", "nginx", "taskset"):
        if not shutil.which(tool):
            sys.exit("%s: %s missing; run make deps" % (PROG, tool))
    if not os.path.exists(ECHO_MODULE):
        sys.exit("%s: %s missing (libnginx-mod-http-echo)" % (PROG, ECHO_MODULE))
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(ROOT, "bench", "results", "efficiency-" + stamp)
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gh-eff-")
    os.chmod(tmp, 0o755)   # nginx workers run as an unprivileged user
    res = {"started": stamp, "load_start": os.getloadavg()[0], "notes": [],
           "scenarios": SCENARIOS, "proxies": PROXIES}
    if res["load_start"] > 1.0:
        res["notes"].append("load average %.2f at start: other work on the machine skews "
                            "these figures" % res["load_start"])
    origin_port = PORT_BASE
    try:
        o = spawn(["nginx", "-p", tmp, "-e", os.path.join(tmp, "origin-error.log"), "-c",
                   origin_conf(tmp, origin_port)], os.path.join(tmp, "origin.log"), LOAD_CPU)
        if not wait_port(origin_port, o):
            sys.exit("%s: origin did not start: %s" % (PROG, tail(os.path.join(tmp, "origin.log"))))
        for sc in SCENARIOS:
            log("%s: scenario %s" % (PROG, sc))
            {"inflight": run_inflight, "wakeups": run_wakeups,
             "scaling": run_scaling}[sc](res, tmp, origin_port)
    finally:
        cleanup()
        res["load_end"] = os.getloadavg()[0]
        for f in os.listdir(tmp):
            if f.endswith((".conf", ".cfg", ".log")):
                shutil.copy(os.path.join(tmp, f), outdir)
        shutil.rmtree(tmp, ignore_errors=True)
        with open(os.path.join(outdir, "results.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)
    text = report(res)
    write(os.path.join(outdir, "table.md"), text)
    print(text)
    log("%s: results in %s" % (PROG, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
