"""benchlib.py - helpers shared by the benchmark scripts in bench/.

bench.py, efficiency.py, bench_compress.py, bench_metrics.py, slow_origin.py
and tls.py all start servers pinned to a CPU, wait for them to listen,
measure their CPU time (and RSS, context switches), run wrk and stop
everything they started by PID; this module holds the one copy of those
helpers. Stdlib only.

Every process started with spawn() is kept in `children` until stop()
ends it; cleanup() stops whatever is left (call it from a finally: block)
and trap_signals() makes SIGTERM and friends unwind to that finally:.
"""
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NCPU = os.cpu_count() or 1
PROXY_CPU = "0"                          # the proxy under test
LOAD_CPU = "1" if NCPU > 1 else "0"      # origins, load generators, the script itself

children = []   # every process we started and have not stopped yet


def env_int(name, default, prog="bench"):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit("%s: %s must be an integer" % (prog, name))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def nginx_text(tmp, name, http, temp="p", conns=4096, master=True, affinity=False,
               rlimit=False, head="", access_log=True):
    """The text of an nginx configuration as every bench writes it: one
    worker (optionally pinned: `worker_cpu_affinity 1`, which efficiency.py
    rewrites for more workers), pid and error log in tmp named after `name`,
    no access log, every temp path under tmp (prefix `temp`), and `http`
    (indented lines: upstreams, servers) inside the http block. `head` goes
    first (a comment, load_module)."""
    temps = "".join("    %s_temp_path %s/%s-%s;\n" % (k, tmp, temp, d) for k, d in
                    (("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fcgi"),
                     ("uwsgi", "uwsgi"), ("scgi", "scgi")))
    return "".join([
        head, "daemon off;\n",
        "master_process on;\n" if master else "",
        "worker_processes 1;\n",
        "worker_cpu_affinity 1;\n" if affinity else "",
        "pid %s/%s.pid;\n" % (tmp, name),
        "error_log %s/%s-error.log warn;\n" % (tmp, name),
        "worker_rlimit_nofile 20000;\n" if rlimit else "",
        "events { worker_connections %d; }\n" % conns,
        "http {\n", "    access_log off;\n" if access_log else "", temps, http, "}\n"])


# ---------------------------------------------------------------- processes

def spawn(argv, logfile, cpu):
    """Start argv pinned to `cpu` (taskset), output appended to logfile."""
    with open(logfile, "ab") as f:
        p = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=ROOT)
    children.append(p)
    return p


def descendants(pid):
    """pid and all its descendant PIDs (nginx master -> worker, etc.)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def forget(p):
    """Drop p from `children` (it has been stopped or has been waited for)."""
    if p in children:
        children.remove(p)


def stop(p, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` s; then SIGKILL, by PID, the
    descendants seen before (workers that outlived their master)."""
    forget(p)
    if p.poll() is not None:
        return
    tree = descendants(p.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    for pid in tree[1:]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def cleanup():
    """Stop every process still in `children`, newest first."""
    for p in reversed(list(children)):
        stop(p)
    children.clear()


def trap_signals(*signums, code=None):
    """Make these signals unwind the stack so that finally: blocks (and
    cleanup()) run: as KeyboardInterrupt, or as sys.exit(code) if code is
    given."""
    def handler(signum, frame):
        if code is None:
            raise KeyboardInterrupt("signal %d" % signum)
        sys.exit(code)
    for s in signums:
        signal.signal(s, handler)


def free_port():
    """An ephemeral 127.0.0.1 port free right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_port(port, p, timeout=10.0):
    """True once 127.0.0.1:port accepts; False on timeout or if p exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            return False
        if port_open(port):
            return True
        time.sleep(0.05)
    return False


def why(text, limit=200):
    """One line out of a log tail: the last alert/error line if any (not
    counting the closing summaries of gatehouse -t and haproxy -c)."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    bad = [l for l in lines if re.search(r"ALERT|emerg|error|fatal|ERROR|Error", l)
           and not re.search(r"configuration has errors$|Fatal errors found in configuration", l)]
    pick = (bad or lines or [""])[-1]
    if "error: " in pick:   # gatehouse: "PATH:LINE:COL: error: WHAT; expected one of: ..."
        return pick[pick.index("error: "):][:limit]
    return pick[-limit:]


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def launch(argv, port, logfile, cpu):
    """Start a server (spawn: pinned to `cpu`, a taskset list such as "0"
    or "0-1") that must listen on 127.0.0.1:port.  Returns (proc, None), or
    (None, why not): the port already taken, or it did not listen (then it
    is stopped; the reason is the last error line of its log)."""
    if port_open(port):
        return None, "port %d already in use" % port
    p = spawn(argv, logfile, cpu)
    if not wait_port(port, p):
        err = "did not start listening (exit %s): %s" % (p.poll(), why(tail(logfile, 20)))
        stop(p)
        return None, err
    return p, None


def make_cert(tmp):
    """A self-signed ECDSA P-256 certificate for bench.test (openssl CLI):
    returns (combined PEM, certificate, key) paths."""
    key, crt = os.path.join(tmp, "site.key"), os.path.join(tmp, "site.crt")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "30", "-subj", "/CN=bench.test",
                        "-addext", "subjectAltName=DNS:bench.test"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if r.returncode:
        raise SystemExit("bench: openssl req failed:\n" + r.stdout.decode(errors="replace"))
    with open(crt) as c, open(key) as k:
        pem = write(os.path.join(tmp, "site.pem"), c.read() + k.read())
    return pem, crt, key


# ---------------------------------------------------------------- /proc

def cpu_ns(pids):
    """On-CPU ns summed over every thread of the given processes."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def cpu_during(pid, load):
    """Runs load() and returns (its result, ns on CPU of pid and all its
    descendants meanwhile (cpu_ns: every thread), wall seconds)."""
    c0, t0 = cpu_ns(descendants(pid)), time.time()
    r = load()
    c1, t1 = cpu_ns(descendants(pid)), time.time()
    return r, c1 - c0, t1 - t0


def vol_switches(pids, by_thread=None):
    """voluntary_ctxt_switches summed over every thread of the processes;
    by_thread (a dict), if given, gets them per thread name too."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            v = int(line.split()[1])
                            total += v
                            if by_thread is not None:
                                with open("/proc/%d/task/%s/comm" % (pid, t)) as c:
                                    name = c.read().strip()
                                by_thread[name] = by_thread.get(name, 0) + v
                            break
            except (OSError, ValueError):
                pass
    return total


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
    """VmRSS in KiB summed over the processes."""
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


# ---------------------------------------------------------------- wrk, statistics

def wrk(url, seconds, conns, threads=1, extra=(), latency=True, cpu=LOAD_CPU):
    """One wrk run against url, pinned to `cpu` (None: not pinned), kept in
    `children` while it runs and stopped if it overruns seconds + 30:
    parse_wrk()'s figures, `raw` (its output), and `failed` when no request
    completed or more than 1% failed (socket errors plus non-2xx)."""
    argv = (["taskset", "-c", cpu] if cpu is not None else []) + [
        "wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds] + (
        ["--latency"] if latency else []) + list(extra) + [url]
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


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(v):
    """A wrk duration ("812.00us", "1.20ms", "2.01s", "1.00m") in ms, or None."""
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", v)
    return float(m.group(1)) * UNIT[m.group(2)] if m else None


def parse_wrk(out):
    """wrk's text output -> requests, rps, p50_ms/p90_ms/p99_ms (None when
    missing; percentiles need --latency), socket_errors, non2xx."""
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "90", "99"):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+(\S+)" % pct, out, re.M)
        r["p%s_ms" % pct] = to_ms(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def median(xs):
    """Median of the values that are not None; None if there are none."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
