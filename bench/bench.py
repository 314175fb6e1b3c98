#!/usr/bin/python3
"""gatehouse vs HAProxy vs nginx as reverse proxies, in one run.

Started by bench/run.sh (see bench/README.md). Stdlib only.

Layout of one run:
  * an nginx origin (own config in a temp dir, daemon off) on CPU 1 serving
    /small (64 B) and /16k (16 KiB), keep-alive;
  * each proxy with one worker, pinned to CPU 0, in front of it;
  * wrk (and this script) on CPU 1.
Phases: validate each proxy with a few requests; RSS per idle keep-alive
connection; BENCH_ROUNDS interleaved rounds of three wrk cases (rotating the
proxy order); one shorter run per proxy and case counting syscalls (perf
tracepoint, strace as fallback). Medians over rounds are reported with the
ratio to HAProxy. Every process started is stopped by PID on exit, Ctrl-C or
SIGTERM. A proxy that fails (not built, bad config, crash, errors) is
reported as failed; the others are still measured.
"""
import datetime
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (LOAD_CPU, NCPU, PROXY_CPU, ROOT, children, cleanup, cpu_ns,  # noqa: E402
                      descendants, env_int, forget, log, median, parse_wrk, port_open,
                      spawn, stop, trap_signals, wait_port, write)

BENCH = os.path.join(ROOT, "bench")

ROUNDS = env_int("BENCH_ROUNDS", 3)
SECONDS = env_int("BENCH_SECONDS", 8)
SYSCALL_SECONDS = env_int("BENCH_SYSCALL_SECONDS", 3)
CONNS = env_int("BENCH_CONNS", 50)
IDLE_CONNS = env_int("BENCH_IDLE_CONNS", 5000)
PORT_BASE = env_int("BENCH_PORT_BASE", 19100)
WARMUP = 2
GATEHOUSE_BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "build", "gatehouse"))
# Optional variants (add them to BENCH_PROXIES):
#   gatehouse-base   another build (BENCH_BASE_BIN), e.g. the commit before a
#                    change, to compare both in one run
#   gatehouse-rules  this build with 20 request/response rules, request ids and
#                    a JSON access log, to price those features per request
BASE_BIN = os.environ.get("BENCH_BASE_BIN", "")
PROXIES = [p for p in os.environ.get("BENCH_PROXIES", "gatehouse haproxy nginx").split()]
REF = "haproxy"

SMALL_BODY = (b"0123456789abcdef" * 4)[:63] + b"\n"   # 64 bytes
BIG_BODY = bytes((i * 7 + 13) % 26 + 97 for i in range(16384))
CASES = [
    # name, path, extra wrk args, description
    ("ka-small", "/small", [], "keep-alive, 64 B body"),
    ("ka-16k", "/16k", [], "keep-alive, 16 KiB body"),
    ("close-small", "/small", ["-H", "Connection: close"], "connection per request, 64 B body"),
]


# ---------------------------------------------------------------- logs

def why(text, limit=200):
    """One line out of a log tail: the last alert/error line if any."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    bad = [l for l in lines if re.search(r"ALERT|emerg|error|fatal|ERROR|Error", l)]
    pick = (bad or lines or [""])[-1]
    return pick[-limit:]


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------- /proc

def cpu_ticks():
    """{cpu index: (busy, total)} in USER_HZ ticks from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                total = sum(v[:8])
                out[int(line[3:line.index(" ")])] = (total - v[3] - v[4], total)
    return out


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- HTTP client

def http_get(port, path, sock=None, keepalive=True):
    """One GET; returns (status, body, sock-or-None)."""
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
    conn = "keep-alive" if keepalive else "close"
    s.sendall(("GET %s HTTP/1.1\r\nHost: bench\r\nConnection: %s\r\n\r\n" % (path, conn)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    clen = None
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == "content-length":
            clen = int(v.strip())
        if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
            raise ConnectionError("chunked response not expected from this origin")
    if clen is None:
        raise ConnectionError("no Content-Length in response")
    while len(body) < clen:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside body")
        body += chunk
    if not keepalive:
        s.close()
        s = None
    return status, body[:clen], s


def validate(port):
    """A few requests through the proxy, body checked byte for byte."""
    s = None
    for path, want in (("/small", SMALL_BODY), ("/16k", BIG_BODY), ("/small", SMALL_BODY)):
        status, body, s = http_get(port, path, s)
        if status != 200 or body != want:
            raise ConnectionError("GET %s: status %d, %d bytes" % (path, status, len(body)))
    s.close()
    status, body, _ = http_get(port, "/small", keepalive=False)
    if status != 200 or body != SMALL_BODY:
        raise ConnectionError("GET /small (close): status %d" % status)


def idle_rss(px, n):
    """Open n keep-alive connections, one request each, leave them idle and
    return the proxy's VmRSS growth per connection."""
    pids = descendants(px["proc"].pid)
    before = rss_kib(pids)
    socks, errors = [], 0
    t0 = time.time()
    for _ in range(n):
        if time.time() - t0 > 60:
            break
        try:
            _, _, s = http_get(px["port"], "/small")
            socks.append(s)
        except (OSError, ValueError, ConnectionError):
            errors += 1
            if errors > n // 10:
                break
    time.sleep(1.0)
    alive = 0
    for s in socks:   # a peer close shows as readable with EOF
        try:
            s.setblocking(False)
            if s.recv(1) == b"":
                continue
        except BlockingIOError:
            alive += 1
            continue
        except OSError:
            continue
    after = rss_kib(descendants(px["proc"].pid))
    for s in socks:
        s.close()
    res = {"requested": n, "opened": len(socks), "alive": alive, "errors": errors,
           "rss_before_kib": before, "rss_after_kib": after}
    if alive >= n * 0.9:
        res["bytes_per_conn"] = (after - before) * 1024 / alive
    return res


# ---------------------------------------------------------------- wrk

def run_wrk(port, case, seconds, conns=None):
    _, path, extra, _ = case
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c%d" % (conns or CONNS),
            "-d%ds" % seconds, "--latency"] + extra + ["http://127.0.0.1:%d%s" % (port, path)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True)
    children.append(p)
    try:
        out, _ = p.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        stop(p)
        out = ""
    forget(p)
    r = parse_wrk(out)
    r["raw"] = out
    bad = r.get("non2xx", 0) + r.get("socket_errors", 0)
    if not r.get("requests"):
        r["failed"] = "no requests completed"
    elif bad > 0.01 * r["requests"]:
        r["failed"] = "%d errors / %d requests" % (bad, r["requests"])
    return r


# ---------------------------------------------------------------- syscalls

def perf_works():
    if not shutil.which("perf"):
        return False
    try:
        out = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"],
                             capture_output=True, text=True, timeout=20).stderr
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(re.search(r"^\d+,", out, re.M))


def count_syscalls(px, case, seconds, tool, tmp):
    """Attach perf (or strace) to the proxy's processes for one wrk run and
    return syscalls per completed request."""
    pids = descendants(px["proc"].pid)
    out = os.path.join(tmp, "sys-%s-%s.txt" % (px["name"], case[0]))
    if tool == "perf":
        argv = ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", out,
                "-p", ",".join(map(str, pids))]
    else:
        argv = ["strace", "-f", "-c", "-o", out] + sum((["-p", str(p)] for p in pids), [])
    tracer = subprocess.Popen(["taskset", "-c", LOAD_CPU] + argv, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    children.append(tracer)
    time.sleep(1.0)    # let it attach
    w = run_wrk(px["port"], case, seconds)
    tracer.send_signal(signal.SIGINT)
    try:
        tracer.wait(timeout=20)
    except subprocess.TimeoutExpired:
        stop(tracer)
    forget(tracer)
    text = tail(out, 200)
    count = None
    if tool == "perf":
        m = re.search(r"^(\d+),[^,]*,raw_syscalls:sys_enter", text, re.M)
        count = int(m.group(1)) if m else None
    else:
        for line in text.splitlines():   # % time, seconds, usecs/call, calls, [errors,] total
            f = line.split()
            if f and f[-1] == "total" and len(f) >= 5 and f[3].isdigit():
                count = int(f[3])
    res = {"tool": tool, "requests": w.get("requests"), "syscalls": count}
    if w.get("failed"):
        res["failed"] = w["failed"]
    elif count and w.get("requests"):
        res["per_req"] = count / w["requests"]
    return res


# ---------------------------------------------------------------- configs

def origin_conf(tmp, port):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(SMALL_BODY)
    with open(os.path.join(www, "16k"), "wb") as f:
        f.write(BIG_BODY)
    return write(os.path.join(tmp, "origin-nginx.conf"), """\
# Origin for the benchmark: static bodies from a temp dir, keep-alive.
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/origin.pid;
error_log {tmp}/origin-error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/o-body;
    proxy_temp_path {tmp}/o-proxy;
    fastcgi_temp_path {tmp}/o-fcgi;
    uwsgi_temp_path {tmp}/o-uwsgi;
    scgi_temp_path {tmp}/o-scgi;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    etag off;
    open_file_cache max=16 inactive=1h;
    open_file_cache_valid 1h;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {www};
    }}
}}
""".format(tmp=tmp, port=port, www=www))


def haproxy_conf(tmp, port, origin):
    return write(os.path.join(tmp, "haproxy.cfg"), """\
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
    server origin 127.0.0.1:{origin}
""".format(cpu=PROXY_CPU, port=port, origin=origin))


def nginx_proxy_conf(tmp, port, origin):
    return write(os.path.join(tmp, "nginx-proxy.conf"), """\
daemon off;
master_process on;
worker_processes 1;
worker_cpu_affinity 1;
pid {tmp}/nginx-proxy.pid;
error_log {tmp}/nginx-proxy-error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/p-body;
    proxy_temp_path {tmp}/p-proxy;
    fastcgi_temp_path {tmp}/p-fcgi;
    uwsgi_temp_path {tmp}/p-uwsgi;
    scgi_temp_path {tmp}/p-scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    upstream origin {{
        server 127.0.0.1:{origin};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
""".format(tmp=tmp, port=port, origin=origin))


def gatehouse_conf(tmp, port, origin, full=True, name=None):
    """Like the other two: one worker, no per-request logging, no added
    forwarding headers (HAProxy and nginx add none by default). The minimal
    variant is the fallback for a binary that lacks those directives."""
    extra_global = "    log_level warn\n" if full else ""
    extra_fe = ("    timeout client 120s\n    forward_headers none\n") if full else ""
    name = name or ("gatehouse.conf" if full else "gatehouse-minimal.conf")
    return write(os.path.join(tmp, name), """\
global {{
    workers 1
    max_connections 20000
{eg}}}
frontend bench {{
    bind 127.0.0.1:{port}
    mode http
    timeout header 10s
{ef}    default_backend origin
}}
backend origin {{
    server origin 127.0.0.1:{origin}
    timeout connect 2s
    timeout server 60s
}}
""".format(port=port, origin=origin, eg=extra_global, ef=extra_fe))


RULES_FE = """\
    request_id header X-Request-Id
    access_log {log} format json
    http_request deny if path prefix /admin/
    http_request deny if src in 203.0.113.0/24 198.51.100.0/24
    http_request deny if header(X-Attack) == yes
    http_request deny if method == TRACE
    http_request deny if path ~ "\\.(php|asp)$"
    http_request redirect scheme https if host == secure.example
    http_request return status 200 body "pong" if path == /ping
    http_request set_header X-Real-IP "%[src]"
    http_request set_header X-Original-Path "%[path]"
    http_request add_header X-Proxy gatehouse
    http_request del_header X-Debug
    http_request set_header X-Scheme "%[scheme]"
    http_response set_header Strict-Transport-Security "max-age=63072000"
    http_response set_header X-Frame-Options DENY
    http_response set_header X-Content-Type-Options nosniff
    http_response set_header Referrer-Policy no-referrer
    http_response del_header X-Powered-By
    http_response add_header X-Served-By "%[req_id]"
    http_response deny if status >= 599
    http_response set_header X-Status "%[status]"
"""


def gatehouse_rules_conf(tmp, port, origin):
    """The plain config plus 20 rules, request ids and a JSON access log."""
    plain = open(gatehouse_conf(tmp, port, origin, name="gatehouse-rules-plain.conf")).read()
    rules = RULES_FE.format(log=os.path.join(tmp, "gatehouse-rules-access.json"))
    return write(os.path.join(tmp, "gatehouse-rules.conf"),
                 plain.replace("    default_backend origin\n", rules + "    default_backend origin\n"))


def proxy_variants(name, tmp, port, origin):
    """[(argv, config-check argv, config path)], first that passes -t wins."""
    if name == "gatehouse-base":
        if not BASE_BIN:
            raise SystemExit("bench: gatehouse-base needs BENCH_BASE_BIN")
        conf = gatehouse_conf(tmp, port, origin, name="gatehouse-base.conf")
        return [([BASE_BIN, "-c", conf], [BASE_BIN, "-t", "-c", conf], conf)]
    if name == "gatehouse-rules":
        conf = gatehouse_rules_conf(tmp, port, origin)
        return [([GATEHOUSE_BIN, "-c", conf], [GATEHOUSE_BIN, "-t", "-c", conf], conf)]
    if name == "gatehouse":
        user = os.environ.get("BENCH_GATEHOUSE_CONF")
        confs = [user] if user else [gatehouse_conf(tmp, port, origin),
                                     gatehouse_conf(tmp, port, origin, full=False)]
        return [([GATEHOUSE_BIN, "-c", c], [GATEHOUSE_BIN, "-t", "-c", c], c) for c in confs]
    if name == "haproxy":
        conf = haproxy_conf(tmp, port, origin)
        return [(["haproxy", "-db", "-f", conf], ["haproxy", "-c", "-q", "-f", conf], conf)]
    if name == "nginx":
        conf = nginx_proxy_conf(tmp, port, origin)
        base = ["nginx", "-p", tmp, "-e", os.path.join(tmp, "nginx-proxy-error.log"), "-c", conf]
        return [(base, base + ["-t", "-q"], conf)]
    raise SystemExit("bench: unknown proxy %s (BENCH_PROXIES)" % name)


def start_proxy(px, tmp):
    """Starts (or restarts) a proxy; sets px['failed'] on failure."""
    px.pop("failed", None)
    exe = px["variants"][0][0][0]
    if not os.path.exists(exe) and not shutil.which(exe):
        px["failed"] = "%s not found" % exe
        return False
    if "argv" not in px:
        errs = []
        for argv, check, conf in px["variants"]:
            r = subprocess.run(check, capture_output=True, text=True, timeout=30, cwd=ROOT)
            if r.returncode == 0:
                px["argv"], px["conf"] = argv, conf
                if errs:
                    px["note"] = "%s rejected %s (%s); used %s" % (
                        px["name"], os.path.basename(px["variants"][0][2]), errs[0],
                        os.path.basename(conf))
                break
            errs.append(why(r.stdout + r.stderr))
        else:
            px["failed"] = "config check failed: " + errs[0]
            return False
    argv = px["argv"]
    if port_open(px["port"]):
        px["failed"] = "port %d already in use" % px["port"]
        return False
    px["proc"] = spawn(argv, px["log"], PROXY_CPU)
    if not wait_port(px["port"], px["proc"]):
        px["failed"] = "did not start listening (exit %s): %s" % (
            px["proc"].poll(), why(tail(px["log"], 20)))
        stop(px["proc"])
        return False
    return True


def alive(px, tmp):
    if "failed" in px and "proc" not in px:
        return False
    if px["proc"].poll() is None:
        return True
    px.setdefault("crashes", []).append("exit %s: %s" % (px["proc"].returncode,
                                                        why(tail(px["log"], 20))))
    log("  %s died (%s); restarting" % (px["name"], px["crashes"][-1]))
    ok = start_proxy(px, tmp)
    if not ok:
        px.pop("proc", None)
    return ok


# ---------------------------------------------------------------- report

def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "rps":
        return "{:,.0f}".format(v)
    if kind == "ms":
        return "%.2f ms" % v if v < 100 else "%.0f ms" % v
    if kind == "us":
        return "%.2f µs" % v
    if kind == "n":
        return "%.2f" % v
    if kind == "bytes":
        return "{:,.0f} B".format(v)
    return str(v)


def cell(v, ref, kind):
    s = fmt(v, kind)
    if v is not None and ref:
        s += " (%.2f×)" % (v / ref)
    return s


def report(res):
    lines = []
    meta = res["meta"]
    lines.append("Rounds %d × %d s, %d connections (wrk -t1), syscalls from %s over %d s, "
                 "idle RSS over %d connections; proxies on CPU %s, origin+wrk on CPU %s. "
                 "Median over rounds; (x×) = ratio to HAProxy, lower is better except req/s."
                 % (meta["rounds"], meta["seconds"], meta["conns"], meta["syscall_tool"],
                    meta["syscall_seconds"], meta["idle_conns"], PROXY_CPU, LOAD_CPU))
    lines.append("")
    lines.append("| case | proxy | req/s | p50 | p99 | CPU/req | proxy CPU busy | syscalls/req |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        c = case[0]
        ref = res["summary"].get(REF, {}).get(c, {})
        for name in res["proxies"]:
            s = res["summary"].get(name, {}).get(c)
            if not s or s.get("failed"):
                why = (s or {}).get("failed") or res["status"].get(name) or "not run"
                lines.append("| %s | %s | FAILED: %s | | | | | |" % (c, name, why.replace("|", "/")[:120]))
                continue
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                c, name,
                cell(s.get("rps"), ref.get("rps"), "rps"),
                cell(s.get("p50_ms"), ref.get("p50_ms"), "ms"),
                cell(s.get("p99_ms"), ref.get("p99_ms"), "ms"),
                cell(s.get("cpu_us_per_req"), ref.get("cpu_us_per_req"), "us"),
                "%.0f%%" % (100 * s["busy"]) if s.get("busy") is not None else "-",
                cell(s.get("syscalls_per_req"), ref.get("syscalls_per_req"), "n")))
    lines.append("")
    lines.append("| proxy | RSS per idle keep-alive connection |")
    lines.append("|---|---|")
    ref = res["idle"].get(REF, {}).get("bytes_per_conn")
    for name in res["proxies"]:
        i = res["idle"].get(name, {})
        if i.get("bytes_per_conn") is None:
            why = i.get("failed") or res["status"].get(name) or (
                "only %s of %s connections stayed open" % (i.get("alive"), i.get("requested")))
            lines.append("| %s | FAILED: %s |" % (name, str(why).replace("|", "/")[:120]))
        else:
            lines.append("| %s | %s |" % (name, cell(i["bytes_per_conn"], ref, "bytes")))
    notes = [n for n in res.get("notes", [])]
    if notes:
        lines.append("")
        lines.extend("- " + n for n in notes)
    return "\n".join(lines) + "\n"


def summarize(res):
    summ = {}
    for name in res["proxies"]:
        summ[name] = {}
        for case in CASES:
            c = case[0]
            runs = [r for r in res["runs"] if r["proxy"] == name and r["case"] == c]
            good = [r for r in runs if not r.get("failed")]
            if not good:
                why = runs[0].get("failed") if runs else None
                summ[name][c] = {"failed": why or res["status"].get(name) or "not run"}
                continue
            s = {"rounds_ok": len(good), "rounds": len(runs)}
            for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "busy"):
                s[k] = median([r.get(k) for r in good])
            sc = res["syscalls"].get(name, {}).get(c, {})
            s["syscalls_per_req"] = sc.get("per_req")
            if len(good) < len(runs):
                res.setdefault("notes", []).append(
                    "%s %s: %d of %d rounds failed (%s)" % (
                        name, c, len(runs) - len(good), len(runs),
                        next(r["failed"] for r in runs if r.get("failed"))))
            summ[name][c] = s
    res["summary"] = summ
    ok = [r for r in res["runs"] if not r.get("failed")]
    cont = [r for r in ok if r.get("contended")]
    if cont:
        res.setdefault("notes", []).append(
            "CPU %s was also busy with other work (more than 15 points beyond the proxy, "
            "up to %.0f%%) in %d of %d runs: %s; re-run on a quiet machine before quoting "
            "req/s and latency (CPU/req and syscalls/req suffer less)" % (
                PROXY_CPU, 100 * max(r["contended"] for r in cont), len(cont), len(ok),
                ", ".join(sorted({"%s/%s" % (r["proxy"], r["case"]) for r in cont}))))


# ---------------------------------------------------------------- main

def main():
    trap_signals(signal.SIGTERM, signal.SIGHUP)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if NCPU > 1:
        os.sched_setaffinity(0, {int(LOAD_CPU)})   # this script is a client too
    for tool in ("wrk", "nginx", "taskset"):
        if not shutil.which(tool):
            sys.exit("bench: %s not found (run make deps)" % tool)
    idle_n = min(IDLE_CONNS, want - 200)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(BENCH, "results", stamp)
    tmp = tempfile.mkdtemp(prefix="gh-bench-")
    os.chmod(tmp, 0o755)   # nginx workers run as an unprivileged user
    origin_port = PORT_BASE
    syscall_tool = "perf" if perf_works() else ("strace" if shutil.which("strace") else "none")

    res = {"meta": {"date": stamp, "rounds": ROUNDS, "seconds": SECONDS, "conns": CONNS,
                    "syscall_seconds": SYSCALL_SECONDS, "syscall_tool": syscall_tool,
                    "idle_conns": idle_n, "ncpu": NCPU, "loadavg_start": os.getloadavg(),
                    "kernel": os.uname().release,
                    "versions": {}},
           "proxies": PROXIES, "status": {}, "runs": [], "syscalls": {}, "idle": {}}
    for name, argv in (("haproxy", ["haproxy", "-v"]), ("nginx", ["nginx", "-v"]),
                       ("wrk", ["wrk", "-v"]),
                       ("gatehouse", [GATEHOUSE_BIN, "--version"]),
                       ("tree", ["git", "-C", ROOT, "describe", "--always", "--dirty"])):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            res["meta"]["versions"][name] = (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    try:
        res["meta"]["gatehouse_bin_mtime"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(GATEHOUSE_BIN)).isoformat(timespec="seconds")
    except OSError:
        pass
    if os.getloadavg()[0] > 0.5:
        res.setdefault("notes", []).append(
            "load average %.2f at start: other work on this machine may skew the numbers"
            % os.getloadavg()[0])

    try:
        # Origin.
        oconf = origin_conf(tmp, origin_port)
        if port_open(origin_port):
            sys.exit("bench: port %d in use (set BENCH_PORT_BASE)" % origin_port)
        origin = spawn(["nginx", "-p", tmp, "-e", os.path.join(tmp, "origin-error.log"),
                        "-c", oconf], os.path.join(tmp, "origin.log"), LOAD_CPU)
        if not wait_port(origin_port, origin):
            sys.exit("bench: origin nginx did not start:\n" + tail(os.path.join(tmp, "origin-error.log")))
        status, body, _ = http_get(origin_port, "/16k", keepalive=False)
        assert status == 200 and body == BIG_BODY, "origin serves wrong body"

        # Proxies.
        pxs = []
        for i, name in enumerate(PROXIES):
            port = PORT_BASE + 1 + i
            px = {"name": name, "port": port,
                  "variants": proxy_variants(name, tmp, port, origin_port),
                  "log": os.path.join(tmp, "%s.log" % name)}
            pxs.append(px)
            if start_proxy(px, tmp):
                try:
                    validate(port)
                except (OSError, ValueError, ConnectionError) as e:
                    px["failed"] = "validation: %s" % e
                    stop(px["proc"])
            if px.get("note"):
                res.setdefault("notes", []).append(px["note"])
            if "failed" in px:
                px.pop("proc", None)
                res["status"][name] = px["failed"]
                log("bench: %s FAILED: %s" % (name, px["failed"]))
            else:
                log("bench: %s up on 127.0.0.1:%d (pid %d)" % (name, port, px["proc"].pid))
        live = [px for px in pxs if "proc" in px]

        # RSS per idle connection, on freshly started proxies.
        for px in live:
            if not alive(px, tmp):
                res["idle"][px["name"]] = {"failed": px.get("failed", "died")}
                continue
            log("bench: %s: %d idle keep-alive connections" % (px["name"], idle_n))
            try:
                res["idle"][px["name"]] = idle_rss(px, idle_n)
            except OSError as e:
                res["idle"][px["name"]] = {"failed": str(e)}
            time.sleep(1.0)

        # Warm-up, then interleaved rounds.
        for px in live:
            for case in CASES:
                if alive(px, tmp):
                    run_wrk(px["port"], case, WARMUP)
        for rnd in range(ROUNDS):
            for ci, case in enumerate(CASES):
                k = (rnd + ci) % max(1, len(live))
                order = live[k:] + live[:k]
                for px in order:
                    run = {"round": rnd, "case": case[0], "proxy": px["name"]}
                    if not alive(px, tmp):
                        run["failed"] = px.get("failed", "not running")
                        res["runs"].append(run)
                        continue
                    pids = descendants(px["proc"].pid)
                    k0, c0, t0 = cpu_ticks(), cpu_ns(pids), time.time()
                    w = run_wrk(px["port"], case, SECONDS)
                    c1, t1, k1 = cpu_ns(descendants(px["proc"].pid)), time.time(), cpu_ticks()
                    if px["proc"].poll() is not None:
                        w.setdefault("failed", "proxy exited during the run")
                    run.update({k2: w.get(k2) for k2 in ("requests", "rps", "p50_ms", "p99_ms",
                                                         "socket_errors", "non2xx", "failed")})
                    run["raw"] = w["raw"]
                    if w.get("requests"):
                        run["cpu_us_per_req"] = (c1 - c0) / 1e3 / w["requests"]
                        run["busy"] = (c1 - c0) / 1e9 / (t1 - t0)
                        # Whole-CPU utilisation: CPU 0 busy well beyond the
                        # proxy's own time means something else ran there.
                        for cpu in (int(PROXY_CPU), int(LOAD_CPU)):
                            b = k1[cpu][0] - k0[cpu][0]
                            t = k1[cpu][1] - k0[cpu][1]
                            run["cpu%d_busy" % cpu] = b / t if t else None
                        other = (run.get("cpu%s_busy" % PROXY_CPU) or 0) - run["busy"]
                        if NCPU > 1 and other > 0.15:
                            run["contended"] = round(other, 2)
                    res["runs"].append(run)
                    log("bench: round %d %-11s %-9s %s" % (
                        rnd + 1, case[0], px["name"],
                        run.get("failed") or "%.0f req/s, p99 %s, %.2f us/req" % (
                            run["rps"] or 0, fmt(run.get("p99_ms"), "ms"),
                            run.get("cpu_us_per_req", 0))))

        # Syscalls per request (separate, shorter runs: tracing slows things).
        if syscall_tool != "none" and SYSCALL_SECONDS > 0:
            for px in live:
                res["syscalls"][px["name"]] = {}
                for case in CASES:
                    if not alive(px, tmp):
                        continue
                    sc = count_syscalls(px, case, SYSCALL_SECONDS, syscall_tool, tmp)
                    res["syscalls"][px["name"]][case[0]] = sc
                    log("bench: syscalls %-11s %-9s %s" % (
                        case[0], px["name"], sc.get("failed") or "%.2f/req" % (sc.get("per_req") or 0)))
        for px in pxs:
            if px.get("crashes"):
                res.setdefault("notes", []).append("%s crashed %d time(s): %s" % (
                    px["name"], len(px["crashes"]), px["crashes"][0]))
    except KeyboardInterrupt:
        log("bench: interrupted; stopping everything")
        cleanup()
        raise SystemExit(130)
    finally:
        cleanup()
        res["meta"]["loadavg_end"] = os.getloadavg()
        os.makedirs(outdir, exist_ok=True)
        for f in os.listdir(tmp):
            src = os.path.join(tmp, f)
            if os.path.isfile(src) and (f.endswith((".conf", ".cfg", ".log", ".txt"))):
                with open(os.path.join(outdir, f), "w") as o:
                    o.write(tail(src, 300))
        shutil.rmtree(tmp, ignore_errors=True)
        with open(os.path.join(outdir, "results.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)

    summarize(res)
    table = report(res)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(table)
    print(table)
    log("bench: raw results in %s" % os.path.relpath(outdir, ROOT))
    failed = [n for n in PROXIES if n in res["status"]]
    return 0 if not failed or os.environ.get("BENCH_STRICT") != "1" else 1


if __name__ == "__main__":
    sys.exit(main())
