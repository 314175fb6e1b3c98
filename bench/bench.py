#!/usr/bin/python3
"""gatehouse vs HAProxy vs nginx as reverse proxies, in one run.

Started by bench/run.sh (see bench/README.md). Stdlib only.

Layout of one run:
  * an nginx origin (own config in a temp dir, daemon off) on CPU 1 serving
    /small (64 B) and /16k (16 KiB), keep-alive;
  * each proxy with one worker, pinned to CPU 0, in front of it;
  * wrk (and this script) on CPU 1.
Scenarios (BENCH_SCENARIOS, default "h1"; each starts its own proxies and
stops them when it is done):
  h1  HTTP/1.1 clients, wrk: three cases (keep-alive 64 B and 16 KiB,
      connection per request);
  h2  HTTP/2 clients, h2load: cleartext prior knowledge (h2c) and h2 over TLS
      (ALPN), many streams per connection, to the same HTTP/1.1 origin;
  cache cache hits (bench_cache.py): gatehouse's cache against plain
      proxying, nginx proxy_cache and Varnish, one URL per case, keep-alive.
  waf benign WAF-corpus requests (wrk script) through gatehouse with no
      rules, 20 rules, a rate limit, the WAF (prefilter on/off), and nginx
      with and without ModSecurity + CRS (bench_waf.py).
Phases of a scenario: validate each proxy with a few requests; RSS per idle
client connection; BENCH_ROUNDS interleaved rounds of its cases (rotating the
proxy order); one shorter run per proxy and case counting syscalls (perf
tracepoint, strace as fallback). Medians over rounds are reported with the
ratio to HAProxy. Every process started is stopped by PID on exit, Ctrl-C or
SIGTERM. A proxy that fails (not built, bad config, crash, errors) is
reported as failed; the others are still measured.
"""
import datetime
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_waf  # noqa: E402
import bench_cache  # noqa: E402
from benchlib import (nginx_text, LOAD_CPU, NCPU, PROXY_CPU, ROOT, children, cleanup,  # noqa: E402
                      cpu_during, cpu_ticks, descendants, env_int, forget, launch, log,
                      make_cert, median, port_open, rss_kib, spawn, stop, tail, trap_signals,
                      vol_switches, wait_port, why, wrk, write)

try:   # python3-h2 (make deps): the h2 scenario's own client (validation, idle connections)
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
except ImportError:
    h2 = None

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

SCENARIOS = os.environ.get("BENCH_SCENARIOS", "h1").split()
# HTTP/2 cases (scenario h2): h2load -t1, cleartext prior knowledge (h2c) or
# TLS with ALPN h2; every case a fixed number of connections x streams each.
H2_CASES_ALL = [
    # name, path, h2load args, TLS, description
    ("h2c-c10m10", "/small", ["-c10", "-m10"], False, "h2c, 10 connections x 10 streams, 64 B"),
    ("h2c-c100m1", "/small", ["-c100", "-m1"], False, "h2c, 100 connections x 1 stream, 64 B"),
    ("h2-tls-c10m10", "/small", ["-c10", "-m10"], True,
     "h2 over TLS (ALPN), 10 connections x 10 streams, 64 B"),
    ("h2c-16k-c10m10", "/16k", ["-c10", "-m10"], False,
     "h2c, 10 connections x 10 streams, 16 KiB"),
    ("h2-tls-c100m1", "/small", ["-c100", "-m1"], True,
     "h2 over TLS (ALPN), 100 connections x 1 stream, 64 B"),
]
H2_CASE_NAMES = os.environ.get("BENCH_H2_CASES", "h2c-c10m10 h2c-c100m1 h2-tls-c10m10").split()
H2_CASES = [c for n in H2_CASE_NAMES for c in H2_CASES_ALL if c[0] == n]
H2_PORT_OFFSET, H2_TLS_PORT_OFFSET = 11, 21   # proxies' h2c / TLS ports: PORT_BASE + offset + i


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


# ---------------------------------------------------------------- HTTP/2 client

def h2_tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    return ctx


class H2Client:
    """One HTTP/2 connection (python3-h2): prior knowledge on a plain
    socket, or TLS with ALPN h2 only."""

    def __init__(self, port, tls=False, timeout=5):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.seen = b""   # first bytes from the server, for error messages
        try:
            self.sock = h2_tls_ctx().wrap_socket(raw, server_hostname="bench.test") if tls else raw
            if tls and self.sock.selected_alpn_protocol() != "h2":
                raise ConnectionError("ALPN: server chose %r, not h2"
                                      % self.sock.selected_alpn_protocol())
            self.scheme = b"https" if tls else b"http"
            self.conn = h2.connection.H2Connection(
                config=h2.config.H2Configuration(client_side=True, header_encoding=None))
            self.conn.initiate_connection()
            self.flush()
        except BaseException:
            raw.close()
            raise

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def why(self):
        return "; first bytes from the proxy: %r" % self.seen[:48] if self.seen else ""

    def get(self, paths):
        """One GET per path, all as concurrent streams; [(status, body)] in order."""
        streams, order = {}, []
        for path in paths:
            sid = self.conn.get_next_available_stream_id()
            self.conn.send_headers(sid, [(b":method", b"GET"), (b":scheme", self.scheme),
                                         (b":authority", b"bench"), (b":path", path.encode())],
                                   end_stream=True)
            streams[sid] = {"status": None, "body": b"", "done": False}
            order.append(sid)
        self.flush()
        while not all(st["done"] for st in streams.values()):
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed by the proxy" + self.why())
            if len(self.seen) < 48:
                self.seen += data[:48 - len(self.seen)]
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.H2Error as e:
                raise ConnectionError("not HTTP/2 (%s)%s" % (type(e).__name__, self.why()))
            for ev in events:
                st = streams.get(getattr(ev, "stream_id", None))
                if isinstance(ev, h2.events.ResponseReceived) and st:
                    st["status"] = int(dict(ev.headers).get(b":status", b"0"))
                elif isinstance(ev, h2.events.DataReceived) and st:
                    st["body"] += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded) and st:
                    st["done"] = True
                elif isinstance(ev, h2.events.StreamReset):
                    raise ConnectionError("stream %d reset, error %s" % (ev.stream_id, ev.error_code))
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    raise ConnectionError("GOAWAY, error %s" % ev.error_code)
            self.flush()
        return [(streams[sid]["status"], streams[sid]["body"]) for sid in order]

    def close(self):
        self.sock.close()


def validate_h2(port, tls):
    """Three concurrent streams (/small, /16k, /small), then one more (/16k)
    on the same connection; bodies checked byte for byte."""
    want = [("/small", SMALL_BODY), ("/16k", BIG_BODY), ("/small", SMALL_BODY), ("/16k", BIG_BODY)]
    c = H2Client(port, tls)
    try:
        got = c.get([p for p, _ in want[:3]]) + c.get([want[3][0]])
    finally:
        c.close()
    for (path, body), (status, got_body) in zip(want, got):
        if status != 200 or got_body != body:
            raise ConnectionError("GET %s: status %s, %d bytes" % (path, status, len(got_body)))


def h2_still_open(s):
    """An idle HTTP/2 connection is open if the peer neither closed it nor
    sent GOAWAY (frames it sent meanwhile, e.g. a SETTINGS ack, are fine)."""
    s.setblocking(False)
    buf = b""
    while True:
        try:
            d = s.recv(65536)
        except (BlockingIOError, ssl.SSLWantReadError):
            break
        except OSError:
            return False
        if not d:
            return False
        buf += d
    i = 0
    while i + 9 <= len(buf):
        if buf[i + 3] == 0x7:   # GOAWAY
            return False
        i += 9 + int.from_bytes(buf[i:i + 3], "big")
    return True


def idle_rss_h2(px, n):
    """Open n HTTP/2 prior-knowledge connections, one request each (stream
    1, /small), leave them idle and return the proxy's VmRSS growth per
    connection. Only the sockets are kept (the client state is dropped)."""
    pids = descendants(px["proc"].pid)
    before = rss_kib(pids)
    socks, errors, first_error = [], 0, None
    t0 = time.time()
    for _ in range(n):
        if time.time() - t0 > 60:
            break
        try:
            c = H2Client(px["port"])
        except (OSError, ConnectionError) as e:
            errors += 1
            first_error = first_error or str(e)
            if errors > n // 10:
                break
            continue
        try:
            status, _ = c.get(["/small"])[0]
            if status != 200:
                raise ConnectionError("status %s" % status)
            socks.append(c.sock)
        except (OSError, ConnectionError) as e:
            c.close()
            errors += 1
            first_error = first_error or str(e)
            if errors > n // 10:
                break
    time.sleep(1.0)
    alive = sum(1 for s in socks if h2_still_open(s))
    after = rss_kib(descendants(px["proc"].pid))
    for s in socks:
        s.close()
    res = {"requested": n, "opened": len(socks), "alive": alive, "errors": errors,
           "rss_before_kib": before, "rss_after_kib": after}
    if first_error:
        res["first_error"] = first_error
    if alive >= n * 0.9:
        res["bytes_per_conn"] = (after - before) * 1024 / alive
    return res


# ---------------------------------------------------------------- wrk

def run_wrk(port, case, seconds, conns=None):
    _, path, extra, _ = case
    return wrk("http://127.0.0.1:%d%s" % (port, path), seconds, conns or CONNS, extra=extra)


# ---------------------------------------------------------------- h2load

def pct_ms(sorted_us, q):
    """Nearest-rank percentile q (0-100) of sorted durations in µs, in ms."""
    if not sorted_us:
        return None
    k = max(0, min(len(sorted_us) - 1, int(math.ceil(q / 100.0 * len(sorted_us))) - 1))
    return sorted_us[k] / 1000.0


def parse_h2load(out):
    """h2load's text output -> requests (streams that succeeded), rps,
    done, stream_errors (failed + errored + timeout), non2xx, protocol."""
    r = {"requests": None, "rps": None, "done": 0, "stream_errors": 0, "non2xx": 0,
         "protocol": None}
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if m:
        v = [int(x) for x in m.groups()]
        r["done"], r["requests"], r["stream_errors"] = v[2], v[3], v[4] + v[5] + v[6]
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if m:
        r["non2xx"] = sum(int(x) for x in m.groups()[1:])
    m = re.search(r"Application protocol: (\S+)", out)
    if m:
        r["protocol"] = m.group(1)
    return r


def run_h2load(px, case, seconds, tmp):
    """One timed h2load run (-t1 -D seconds) against px; latency percentiles
    from h2load's per-request log (--log-file), which is deleted after."""
    name, path, args, tls, _ = case
    port = px["tls_port"] if tls else px["port"]
    logf = os.path.join(tmp, "h2load-%s-%s.tsv" % (px["name"], name))
    argv = ["taskset", "-c", LOAD_CPU, "h2load", "-t1"] + args + [
        "-D", str(seconds), "--log-file=" + logf]
    if tls:
        argv += ["--npn-list=h2", "--tls13-ciphers=TLS_AES_128_GCM_SHA256"]
    argv.append("%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, text=True)
    children.append(p)
    timed_out = False
    try:
        out, _ = p.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        stop(p)
        out, timed_out = "", True
    forget(p)
    r = parse_h2load(out)
    r["raw"] = out
    durs = []
    try:
        with open(logf) as f:
            for line in f:
                col = line.split("\t")
                if len(col) >= 3 and col[1] != "-1":
                    durs.append(int(col[2]))
        os.unlink(logf)
    except (OSError, ValueError):
        pass
    durs.sort()
    for q in (50, 90, 99):
        r["p%d_ms" % q] = pct_ms(durs, q)
    r["latency_samples"] = len(durs)
    bad = r["stream_errors"] + r["non2xx"]
    if timed_out:
        r["failed"] = "h2load did not finish within %d s" % (seconds + 30)
    elif r["protocol"] not in (None, "h2", "h2c") or (r["protocol"] is None and r["requests"]):
        r["failed"] = "h2load negotiated %s, not h2" % r["protocol"]
    elif not r["requests"]:
        r["failed"] = "no requests completed: %s" % why(out)
    elif bad > 0.01 * max(r["done"], r["requests"]):
        r["failed"] = "%d errors / %d requests" % (bad, r["done"])
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


def count_syscalls(px, case, load, tool, tmp):
    """Attach perf (or strace) to the proxy's processes for one load run
    (load() -> run_wrk or run_h2load result) and return syscalls per
    completed request."""
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
    w = load()
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

def origin_conf(tmp, port, extra_servers=""):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "small"), "wb") as f:
        f.write(SMALL_BODY)
    with open(os.path.join(www, "16k"), "wb") as f:
        f.write(BIG_BODY)
    return write(os.path.join(tmp, "origin-nginx.conf"), nginx_text(
        tmp, "origin", temp="o", rlimit=True,
        head="# Origin for the benchmark: static bodies from a temp dir, keep-alive.\n",
        http="""\
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
{extra}""".format(port=port, www=www, extra=extra_servers)))

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
    return write(os.path.join(tmp, "nginx-proxy.conf"), nginx_text(
        tmp, "nginx-proxy", affinity=True, rlimit=True, conns=16384, http="""\
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
""".format(port=port, origin=origin)))

def gatehouse_conf(tmp, port, origin, full=True, name=None, uring=False):
    """Like the other two: one worker, no per-request logging, no added
    forwarding headers (HAProxy and nginx add none by default). The minimal
    variant is the fallback for a binary that lacks those directives.
    uring: `tune.io_uring on` (the gatehouse-uring variant)."""
    extra_global = "    log_level warn\n" if full else ""
    if uring:
        extra_global += "    tune.io_uring on\n"
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
    if name == "gatehouse-uring":
        conf = gatehouse_conf(tmp, port, origin, name="gatehouse-uring.conf", uring=True)
        return [([GATEHOUSE_BIN, "-c", conf], [GATEHOUSE_BIN, "-t", "-c", conf], conf)]
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
    if name in ("relay", "relay-uring"):
        binary = relay_bin(tmp, uring=name == "relay-uring")
        return [([binary, str(port), str(origin)], [binary, "-t"], binary)]
    raise SystemExit("bench: unknown proxy %s (BENCH_PROXIES)" % name)


def relay_bin(tmp, uring=False):
    """bench/relay.c built into tmp: the floor of an epoll proxy (one recv
    and one send per readiness, no HTTP), run as the `relay` proxy to show
    how much of a proxy's CPU per request is kernel and loop alone.
    uring: bench/relay_uring.c (`relay-uring`), the same copier on io_uring
    only (multishot accept and recv, provided buffers, one
    io_uring_submit_and_wait per loop turn)."""
    src, libs = ("relay_uring.c", ["-luring"]) if uring else ("relay.c", [])
    out = os.path.join(tmp, src[:-2])
    if not os.path.exists(out):
        # A failed build (no liburing-dev) leaves no binary: the proxy is
        # then reported as not found and the others still run.
        r = subprocess.run(["gcc", "-O2", "-o", out, os.path.join(ROOT, "bench", src)] + libs,
                           capture_output=True, text=True)
        if r.returncode:
            log("bench: building %s failed: %s" % (src, why(r.stderr)))
    return out


def haproxy_h2_conf(tmp, port, tls_port, origin, pem):
    """The h1 config with two binds: h2c prior knowledge (`proto h2`) and
    TLS offering h2 and http/1.1 by ALPN."""
    return write(os.path.join(tmp, "haproxy-h2.cfg"), """\
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
    bind 127.0.0.1:{port} proto h2 backlog 4096
    bind 127.0.0.1:{tls_port} ssl crt {pem} alpn h2,http/1.1 backlog 4096
    default_backend be

backend be
    server origin 127.0.0.1:{origin}
""".format(cpu=PROXY_CPU, port=port, tls_port=tls_port, origin=origin, pem=pem))


def nginx_h2_conf(tmp, port, tls_port, origin, crt, key):
    """The h1 config with `listen ... http2` (cleartext: prior knowledge
    only) and `listen ... ssl http2` (ALPN h2, http/1.1). The upstream
    keepalive pool is 256 instead of 64: up to 100 streams are in flight at
    once here, and a pool smaller than that would close and reopen origin
    connections."""
    return write(os.path.join(tmp, "nginx-h2.conf"), nginx_text(
        tmp, "nginx-h2", temp="h", affinity=True, rlimit=True, conns=16384, http="""\
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    upstream origin {{
        server 127.0.0.1:{origin};
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{port} http2 backlog=4096;
        listen 127.0.0.1:{tls_port} ssl http2 backlog=4096;
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
""".format(port=port, tls_port=tls_port, origin=origin, crt=crt, key=key)))

def gatehouse_h2_conf(tmp, port, tls_port, origin, pem, pinned=True, name=None, rules=False):
    """The h1 config with two binds: h2c (`proto h2`, or with pinned=False
    a plain bind, which tells HTTP/2 from HTTP/1.1 by the connection
    preface) and TLS (default ALPN list h2,http/1.1)."""
    name = name or ("gatehouse-h2.conf" if pinned else "gatehouse-h2-auto.conf")
    text = """\
global {{
    workers 1
    max_connections 20000
    log_level warn
}}
frontend bench {{
    bind 127.0.0.1:{port}{proto}
    bind 127.0.0.1:{tls_port} tls cert {pem}
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
""".format(port=port, tls_port=tls_port, origin=origin, pem=pem,
           proto=" proto h2" if pinned else "")
    if rules:
        rl = RULES_FE.format(log=os.path.join(tmp, name.replace(".conf", "-access.json")))
        text = text.replace("    default_backend origin\n", rl + "    default_backend origin\n")
    return write(os.path.join(tmp, name), text)


def proxy_variants_h2(name, tmp, port, tls_port, origin, cert):
    """Like proxy_variants, for the h2 scenario. gatehouse: `proto h2`
    first (pinned like HAProxy's `proto h2` and nginx's `http2`); if -t
    rejects it, the plain bind (auto-detection) and a note."""
    pem, crt, key = cert

    def gh(binary, suffix="", rules=False):
        confs = [gatehouse_h2_conf(tmp, port, tls_port, origin, pem, pinned,
                                   "gatehouse%s-h2%s.conf" % (suffix, "" if pinned else "-auto"),
                                   rules)
                 for pinned in (True, False)]
        return [([binary, "-c", c], [binary, "-t", "-c", c], c) for c in confs]
    if name == "gatehouse":
        user = os.environ.get("BENCH_GATEHOUSE_H2_CONF")
        if user:
            return [([GATEHOUSE_BIN, "-c", user], [GATEHOUSE_BIN, "-t", "-c", user], user)]
        return gh(GATEHOUSE_BIN)
    if name == "gatehouse-base":
        if not BASE_BIN:
            raise SystemExit("bench: gatehouse-base needs BENCH_BASE_BIN")
        return gh(BASE_BIN, "-base")
    if name == "gatehouse-rules":
        return gh(GATEHOUSE_BIN, "-rules", rules=True)
    if name == "haproxy":
        conf = haproxy_h2_conf(tmp, port, tls_port, origin, pem)
        return [(["haproxy", "-db", "-f", conf], ["haproxy", "-c", "-q", "-f", conf], conf)]
    if name == "nginx":
        conf = nginx_h2_conf(tmp, port, tls_port, origin, crt, key)
        base = ["nginx", "-p", tmp, "-e", os.path.join(tmp, "nginx-h2-error.log"), "-c", conf]
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
    proc, err = launch(px["argv"], px["port"], px["log"], PROXY_CPU)
    if err:
        px["failed"] = err
        return False
    px["proc"] = proc
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
    if kind == "w":
        return "%.3f" % v
    if kind == "bytes":
        return "{:,.0f} B".format(v)
    return str(v)


def cell(v, ref, kind):
    s = fmt(v, kind)
    if v is not None and ref:
        s += " (%.2f×)" % (v / ref)
    return s


def case_table(sec, cases, ref_name=REF):
    """Markdown rows: one per case and proxy, medians with the ratio to
    HAProxy (or ref_name)."""
    hdr = ("| case | proxy | req/s | p50 | p99 | CPU/req | proxy CPU busy | syscalls/req "
           "| wakeups/req |")
    ncol = hdr.count("|") - 1
    lines = [hdr, "|" + "---|" * ncol]
    for case in cases:
        c = case[0]
        ref = sec["summary"].get(ref_name, {}).get(c, {})
        for name in sec["proxies"]:
            s = sec["summary"].get(name, {}).get(c)
            if not s or s.get("failed"):
                why_ = (s or {}).get("failed") or sec["status"].get(name) or "not run"
                lines.append("| %s | %s | FAILED: %s |" % (c, name, why_.replace("|", "/")[:120])
                             + " |" * (ncol - 3))
                continue
            row = [c, name,
                   cell(s.get("rps"), ref.get("rps"), "rps"),
                   cell(s.get("p50_ms"), ref.get("p50_ms"), "ms"),
                   cell(s.get("p99_ms"), ref.get("p99_ms"), "ms"),
                   cell(s.get("cpu_us_per_req"), ref.get("cpu_us_per_req"), "us"),
                   "%.0f%%" % (100 * s["busy"]) if s.get("busy") is not None else "-",
                   cell(s.get("syscalls_per_req"), ref.get("syscalls_per_req"), "n"),
                   fmt(s.get("wakeups_per_req"), "w")]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def idle_table(sec, title):
    lines = ["| proxy | %s |" % title, "|---|---|"]
    ref = sec["idle"].get(REF, {}).get("bytes_per_conn")
    for name in sec["proxies"]:
        i = sec["idle"].get(name, {})
        if i.get("bytes_per_conn") is None:
            why_ = i.get("failed") or sec["status"].get(name) or (
                "only %s of %s connections stayed open%s" % (
                    i.get("alive"), i.get("requested"),
                    " (first error: %s)" % i["first_error"] if i.get("first_error") else ""))
            lines.append("| %s | FAILED: %s |" % (name, str(why_).replace("|", "/")[:160]))
        else:
            lines.append("| %s | %s |" % (name, cell(i["bytes_per_conn"], ref, "bytes")))
    return lines


def report(res):
    lines = []
    meta = res["meta"]
    if "h1" in SCENARIOS:
        lines.append("Rounds %d × %d s, %d connections (wrk -t1), syscalls from %s over %d s, "
                     "idle RSS over %d connections; proxies on CPU %s, origin+wrk on CPU %s. "
                     "Median over rounds; (x×) = ratio to HAProxy, lower is better except req/s."
                     % (meta["rounds"], meta["seconds"], meta["conns"], meta["syscall_tool"],
                        meta["syscall_seconds"], meta["idle_conns"], PROXY_CPU, LOAD_CPU))
        lines.append("")
        lines.extend(case_table(res, CASES))
        lines.append("")
        lines.extend(idle_table(res, "RSS per idle keep-alive connection"))
    if "h2" in SCENARIOS:
        if lines:
            lines.append("")
        lines.append(
            "HTTP/2 clients, HTTP/1.1 origin: rounds %d × %d s of `h2load -t1 -D %d` per case, "
            "%s, idle RSS over %d h2c connections (one request each); "
            "proxies on CPU %s, origin+h2load on CPU %s. p50/p99: h2load's per-request times "
            "(request sent to end of response, no coordinated-omission correction, so not "
            "comparable with wrk's). Median over rounds; (x×) = ratio to HAProxy, lower is better "
            "except req/s."
            % (meta["rounds"], meta["seconds"], meta["seconds"],
               "syscalls from %s over %d s" % (meta["syscall_tool"], meta["syscall_seconds"])
               if meta["syscall_tool"] != "none" and meta["syscall_seconds"] > 0
               else "syscalls not counted",
               meta["idle_conns"], PROXY_CPU, LOAD_CPU))
        lines.append("")
        lines.append("Cases: " + "; ".join("`%s` %s" % (c[0], c[4]) for c in H2_CASES) +
                     ". TLS: ECDSA P-256, TLS 1.3 TLS_AES_128_GCM_SHA256, h2load `--npn-list=h2`.")
        lines.append("")
        lines.extend(case_table(res["h2"], H2_CASES))
        lines.append("")
        lines.extend(idle_table(res["h2"], "RSS per idle h2c connection"))
    if "cache" in SCENARIOS:
        if lines:
            lines.append("")
        lines.append(
            "Cache hits: rounds %d × %d s of `wrk -t1 -c%d` on one URL per case (every request "
            "after the first a hit; `gatehouse` is plain proxying for reference); proxies on "
            "CPU %s, origin+wrk on CPU %s. Median over rounds; (x×) = ratio to gatehouse "
            "without a cache, lower is better except req/s."
            % (meta["rounds"], meta["seconds"], meta["conns"], PROXY_CPU, LOAD_CPU))
        lines.append("")
        lines.extend(case_table(res["cache"], bench_cache.CASES, bench_cache.REF))
    if "waf" in SCENARIOS:
        if lines:
            lines.append("")
        w = res["waf"]
        lines.append(
            "WAF and filters on benign traffic: rounds %d × %d s of `wrk -t1 -c%d -s "
            "waf-benign.lua` (%d benign corpus requests from bench/waf-sample.txt, %d with a "
            "body, round-robin, keep-alive); proxies on CPU %s, origin+wrk on CPU %s. "
            "Median over rounds; (x×) = ratio to gatehouse without rules, lower is better "
            "except req/s." % (meta["rounds"], meta["seconds"], meta["conns"],
                               w.get("sample_n", 0), w.get("sample_bodies", 0),
                               PROXY_CPU, LOAD_CPU))
        lines.append("")
        lines.extend(case_table(w, w["cases"], bench_waf.REF))
        ng = w.get("summary", {}).get("nginx", {}).get("benign-mix", {})
        ms = w.get("summary", {}).get("nginx-modsec", {}).get("benign-mix", {})
        if ng.get("cpu_us_per_req") and ms.get("cpu_us_per_req"):
            lines.append("")
            lines.append("nginx + ModSecurity + CRS PL1 vs plain nginx: %.2f× the CPU per "
                         "request, %.2f× the req/s." % (
                             ms["cpu_us_per_req"] / ng["cpu_us_per_req"],
                             (ms.get("rps") or 0) / ng["rps"] if ng.get("rps") else 0))
    notes = [n for n in res.get("notes", [])]
    if notes:
        lines.append("")
        lines.extend("- " + n for n in notes)
    return "\n".join(lines) + "\n"


def summarize(sec, cases, notes, pre="", reason=lambda name, case: None):
    """Medians over the rounds that did not fail, into sec['summary'].
    reason(name, case): why a proxy that never ran did not run this case."""
    summ = {}
    for name in sec["proxies"]:
        summ[name] = {}
        for case in cases:
            c = case[0]
            runs = [r for r in sec["runs"] if r["proxy"] == name and r["case"] == c]
            good = [r for r in runs if not r.get("failed")]
            if not good:
                why_ = runs[0].get("failed") if runs else reason(name, case)
                summ[name][c] = {"failed": why_ or sec["status"].get(name) or "not run"}
                continue
            s = {"rounds_ok": len(good), "rounds": len(runs)}
            for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "busy", "rss_kib",
                      "wakeups_per_req"):
                s[k] = median([r.get(k) for r in good])
            sc = sec["syscalls"].get(name, {}).get(c, {})
            s["syscalls_per_req"] = sc.get("per_req")
            if len(good) < len(runs):
                notes.append(
                    "%s%s %s: %d of %d rounds failed (%s)" % (
                        pre, name, c, len(runs) - len(good), len(runs),
                        next(r["failed"] for r in runs if r.get("failed"))))
            summ[name][c] = s
    sec["summary"] = summ
    ok = [r for r in sec["runs"] if not r.get("failed")]
    cont = [r for r in ok if r.get("contended")]
    if cont:
        notes.append(
            "%sCPU %s was also busy with other work (more than 15 points beyond the proxy, "
            "up to %.0f%%) in %d of %d runs: %s; re-run on a quiet machine before quoting "
            "req/s and latency (CPU/req and syscalls/req suffer less)" % (
                pre, PROXY_CPU, 100 * max(r["contended"] for r in cont), len(cont), len(ok),
                ", ".join(sorted({"%s/%s" % (r["proxy"], r["case"]) for r in cont}))))


# ---------------------------------------------------------------- scenarios

def measure(px, load):
    """One load run (load() -> run_wrk/run_h2load result) with the proxy's
    CPU time (schedstat of all its threads and processes), how busy both
    CPUs were (/proc/stat) and its VmRSS at the end."""
    k0 = cpu_ticks()
    v0 = vol_switches(descendants(px["proc"].pid))
    w, cpu, wall = cpu_during(px["proc"].pid, load)
    v1 = vol_switches(descendants(px["proc"].pid))
    k1 = cpu_ticks()
    run = dict(w)
    if px["proc"].poll() is not None:
        run.setdefault("failed", "proxy exited during the run")
    if w.get("requests"):
        run["cpu_us_per_req"] = cpu / 1e3 / w["requests"]
        run["busy"] = cpu / 1e9 / wall
        # Wakeups: the proxy's voluntary context switches (it slept
        # waiting for events and was woken) per request.
        run["wakeups_per_req"] = (v1 - v0) / w["requests"]
        # Whole-CPU utilisation: CPU 0 busy well beyond the
        # proxy's own time means something else ran there.
        for cpu in (int(PROXY_CPU), int(LOAD_CPU)):
            b = k1[cpu][0] - k0[cpu][0]
            t = k1[cpu][1] - k0[cpu][1]
            run["cpu%d_busy" % cpu] = b / t if t else None
        other = (run.get("cpu%s_busy" % PROXY_CPU) or 0) - run["busy"]
        if NCPU > 1 and other > 0.15:
            run["contended"] = round(other, 2)
    run["rss_kib"] = rss_kib(descendants(px["proc"].pid))
    return run


def run_scenario(res, sec, tag, pxs, cases, tmp, idle_n, syscall_tool,
                 check, idle_fn, load, skip):
    """Start and validate the proxies (check(px) -> None or why not), RSS per
    idle connection (idle_fn), warm-up, BENCH_ROUNDS interleaved rounds of
    `cases` (load(px, case, seconds)), syscalls per request; results into
    sec. skip(px, case) -> a reason not to run that case on that proxy.
    The scenario's proxies are stopped at the end."""
    notes = res.setdefault("notes", [])
    pre = "" if tag == "h1" else tag + ": "
    try:
        for px in pxs:
            if start_proxy(px, tmp):
                bad = check(px)
                if bad:
                    px["failed"] = "validation: %s" % bad
                    stop(px["proc"])
            if px.get("note"):
                notes.append(pre + px["note"])
            if "failed" in px:
                px.pop("proc", None)
                sec["status"][px["name"]] = px["failed"]
                log("bench: %s%s FAILED: %s" % (pre, px["name"], px["failed"]))
            else:
                log("bench: %s%s up on 127.0.0.1:%d (pid %d)" % (pre, px["name"], px["port"],
                                                                px["proc"].pid))
        live = [px for px in pxs if "proc" in px]

        # RSS per idle connection, on freshly started proxies.
        for px in live:
            if not alive(px, tmp):
                sec["idle"][px["name"]] = {"failed": px.get("failed", "died")}
                continue
            reason = skip(px, None)
            if reason:
                sec["idle"][px["name"]] = {"failed": reason}
                continue
            log("bench: %s%s: %d idle connections" % (pre, px["name"], idle_n))
            try:
                sec["idle"][px["name"]] = idle_fn(px, idle_n)
            except OSError as e:
                sec["idle"][px["name"]] = {"failed": str(e)}
            time.sleep(1.0)

        # Warm-up, then interleaved rounds.
        for px in live:
            for case in cases:
                if not skip(px, case) and alive(px, tmp):
                    load(px, case, WARMUP)
        for rnd in range(ROUNDS):
            for ci, case in enumerate(cases):
                k = (rnd + ci) % max(1, len(live))
                order = live[k:] + live[:k]
                for px in order:
                    run = {"round": rnd, "case": case[0], "proxy": px["name"]}
                    reason = skip(px, case)
                    if reason or not alive(px, tmp):
                        run["failed"] = reason or px.get("failed", "not running")
                        sec["runs"].append(run)
                        continue
                    run.update(measure(px, lambda: load(px, case, SECONDS)))
                    sec["runs"].append(run)
                    log("bench: round %d %-14s %-9s %s" % (
                        rnd + 1, case[0], px["name"],
                        run.get("failed") or "%.0f req/s, p99 %s, %.2f us/req" % (
                            run["rps"] or 0, fmt(run.get("p99_ms"), "ms"),
                            run.get("cpu_us_per_req", 0))))

        # Syscalls per request (separate, shorter runs: tracing slows things).
        if syscall_tool != "none" and SYSCALL_SECONDS > 0:
            for px in live:
                sec["syscalls"][px["name"]] = {}
                for case in cases:
                    if skip(px, case) or not alive(px, tmp):
                        continue
                    sc = count_syscalls(px, case, lambda: load(px, case, SYSCALL_SECONDS),
                                        syscall_tool, tmp)
                    sec["syscalls"][px["name"]][case[0]] = sc
                    log("bench: syscalls %-14s %-9s %s" % (
                        case[0], px["name"],
                        sc.get("failed") or "%.2f/req" % (sc.get("per_req") or 0)))
        for px in pxs:
            if px.get("crashes"):
                notes.append("%s%s crashed %d time(s): %s" % (
                    pre, px["name"], len(px["crashes"]), px["crashes"][0]))
    finally:
        for px in pxs:
            if "proc" in px:
                stop(px["proc"])


def check_h1(px):
    try:
        validate(px["port"])
    except (OSError, ValueError, ConnectionError) as e:
        return str(e)
    return None


def check_h2(px):
    """Both h2c (prior knowledge) and TLS (ALPN h2); a proxy that fails one
    of them still runs the cases of the other."""
    px["mode_failed"] = {}
    for mode, port, tls in (("h2c", px["port"], False), ("tls", px["tls_port"], True)):
        try:
            validate_h2(port, tls)
        except Exception as e:   # noqa: BLE001 - any failure is a validation failure
            px["mode_failed"][mode] = "%s: %s" % (mode, str(e) or type(e).__name__)
    if len(px["mode_failed"]) == 2:
        return "; ".join(px["mode_failed"].values())
    return None


def skip_h2(px, case):
    """case None = the idle-connection phase (h2c)."""
    mode = "tls" if case and case[3] else "h2c"
    why_ = px.get("mode_failed", {}).get(mode)
    return "validation: " + why_ if why_ else None


def run_waf(res, tmp, origin, syscall_tool):
    """Scenario waf (bench_waf.py): the benign corpus sample through each
    proxy of BENCH_WAF_PROXIES; a proxy that does not start (the gatehouse
    WAF rows before the WAF is merged) is reported as failed."""
    sec = res["waf"]
    entries = bench_waf.sample()
    sec["sample_n"] = len(entries)
    sec["sample_bodies"] = sum(1 for e in entries
                               if any(k in e for k in ("body", "json", "form", "multipart")))
    cases = bench_waf.cases(bench_waf.write_lua(tmp, entries))
    sec["cases"] = cases
    if not port_open(origin):
        raise SystemExit("bench: the waf origin server is not listening on %d" % origin)
    pxs = []
    for i, name in enumerate(bench_waf.PROXIES):
        port = PORT_BASE + bench_waf.PORT_OFFSET + i
        pxs.append({"name": name, "port": port,
                    "variants": bench_waf.variants(name, tmp, port, origin, GATEHOUSE_BIN,
                                                   gatehouse_conf, nginx_proxy_conf),
                    "log": os.path.join(tmp, "%s-waf.log" % name)})
    run_scenario(res, sec, "waf", pxs, cases, tmp, 0, syscall_tool,
                 check=lambda px: bench_waf.check(px["port"], entries),
                 idle_fn=None,
                 load=lambda px, case, secs: run_wrk(px["port"], case, secs),
                 skip=lambda px, case: "not measured in this scenario" if case is None else None)


def check_cache(port):
    """Bodies right through the proxy, twice (the second from its cache)."""
    for path, want in (("/small", SMALL_BODY), ("/16k", BIG_BODY)) * 2:
        try:
            status, body, _ = http_get(port, path)
        except OSError as e:
            return "GET %s: %s" % (path, e)
        if status != 200 or body != want:
            return "GET %s: status %d, %d bytes" % (path, status, len(body))
    return None


def run_cache(res, tmp, origin, syscall_tool):
    """Scenario cache (bench_cache.py): hits through each cache of
    BENCH_CACHE_PROXIES, plain proxying for reference."""
    sec = res["cache"]
    sec["cases"] = bench_cache.CASES
    if not port_open(origin):
        raise SystemExit("bench: the cache origin server is not listening on %d" % origin)
    pxs = []
    for i, name in enumerate(bench_cache.PROXIES):
        port = PORT_BASE + bench_cache.PORT_OFFSET + i
        pxs.append({"name": name, "port": port,
                    "variants": bench_cache.variants(name, tmp, port, origin, GATEHOUSE_BIN,
                                                     gatehouse_conf, nginx_proxy_conf),
                    "log": os.path.join(tmp, "%s-cache.log" % name)})
    run_scenario(res, sec, "cache", pxs, bench_cache.CASES, tmp, 0, syscall_tool,
                 check=lambda px: check_cache(px["port"]),
                 idle_fn=None,
                 load=lambda px, case, secs: run_wrk(px["port"], case, secs),
                 skip=lambda px, case: "not measured in this scenario" if case is None else None)


# ---------------------------------------------------------------- main

def main():
    trap_signals(signal.SIGTERM, signal.SIGHUP)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if NCPU > 1:
        os.sched_setaffinity(0, {int(LOAD_CPU)})   # this script is a client too
    bad = [x for x in SCENARIOS if x not in ("h1", "h2", "waf", "cache")] or (
        [] if SCENARIOS else ["(none)"])
    if bad:
        sys.exit("bench: unknown scenario %s (BENCH_SCENARIOS: h1, h2, waf, cache)"
                 % " ".join(bad))
    unknown = [n for n in H2_CASE_NAMES if n not in [c[0] for c in H2_CASES_ALL]]
    if "h2" in SCENARIOS and (unknown or not H2_CASES):
        sys.exit("bench: unknown h2 case %s (BENCH_H2_CASES: %s)" % (
            " ".join(unknown) or "(none)", " ".join(c[0] for c in H2_CASES_ALL)))
    tools = ["nginx", "taskset"] + (["wrk"] if {"h1", "waf", "cache"} & set(SCENARIOS) else []) + (
        ["h2load", "openssl"] if "h2" in SCENARIOS else [])
    for tool in tools:
        if not shutil.which(tool):
            sys.exit("bench: %s not found (run make deps)" % tool)
    if "h2" in SCENARIOS and h2 is None:
        sys.exit("bench: the h2 scenario needs python3-h2 (run make deps)")
    idle_n = min(IDLE_CONNS, want - 200)

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(BENCH, "results", stamp)
    tmp = tempfile.mkdtemp(prefix="gh-bench-")
    os.chmod(tmp, 0o755)   # nginx workers run as an unprivileged user
    origin_port = PORT_BASE
    syscall_tool = "perf" if perf_works() else ("strace" if shutil.which("strace") else "none")

    res = {"meta": {"date": stamp, "scenarios": SCENARIOS, "rounds": ROUNDS, "seconds": SECONDS,
                    "conns": CONNS, "syscall_seconds": SYSCALL_SECONDS,
                    "syscall_tool": syscall_tool, "idle_conns": idle_n, "ncpu": NCPU,
                    "loadavg_start": os.getloadavg(), "kernel": os.uname().release,
                    "versions": {}},
           "proxies": PROXIES, "status": {}, "runs": [], "syscalls": {}, "idle": {}}
    if "waf" in SCENARIOS:
        res["waf"] = {"proxies": bench_waf.PROXIES, "status": {}, "runs": [], "syscalls": {},
                      "idle": {}}
    if "cache" in SCENARIOS:
        res["cache"] = {"proxies": bench_cache.PROXIES, "status": {}, "runs": [],
                        "syscalls": {}, "idle": {}}
    if "h2" in SCENARIOS:
        res["meta"]["h2_cases"] = [{"name": c[0], "path": c[1], "h2load": c[2], "tls": c[3],
                                    "what": c[4]} for c in H2_CASES]
        res["h2"] = {"proxies": PROXIES, "status": {}, "mode_failed": {}, "runs": [],
                     "syscalls": {}, "idle": {}}
    for name, argv in (("haproxy", ["haproxy", "-v"]), ("nginx", ["nginx", "-v"]),
                       ("wrk", ["wrk", "-v"]), ("h2load", ["h2load", "--version"]),
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
        waf_origin = PORT_BASE + bench_waf.ORIGIN_OFFSET
        cache_origin = PORT_BASE + bench_cache.ORIGIN_OFFSET
        oconf = origin_conf(tmp, origin_port, (bench_waf.origin_server(waf_origin)
                                               if "waf" in SCENARIOS else "") +
                            (bench_cache.origin_server(cache_origin, os.path.join(tmp, "www"))
                             if "cache" in SCENARIOS else ""))
        if port_open(origin_port):
            sys.exit("bench: port %d in use (set BENCH_PORT_BASE)" % origin_port)
        origin = spawn(["nginx", "-p", tmp, "-e", os.path.join(tmp, "origin-error.log"),
                        "-c", oconf], os.path.join(tmp, "origin.log"), LOAD_CPU)
        if not wait_port(origin_port, origin):
            sys.exit("bench: origin nginx did not start:\n" + tail(os.path.join(tmp, "origin-error.log")))
        status, body, _ = http_get(origin_port, "/16k", keepalive=False)
        assert status == 200 and body == BIG_BODY, "origin serves wrong body"

        if "h1" in SCENARIOS:
            pxs = [{"name": name, "port": PORT_BASE + 1 + i,
                    "variants": proxy_variants(name, tmp, PORT_BASE + 1 + i, origin_port),
                    "log": os.path.join(tmp, "%s.log" % name)}
                   for i, name in enumerate(PROXIES)]
            run_scenario(res, res, "h1", pxs, CASES, tmp, idle_n, syscall_tool,
                         check=check_h1, idle_fn=idle_rss,
                         load=lambda px, case, secs: run_wrk(px["port"], case, secs),
                         skip=lambda px, case: None)

        if "h2" in SCENARIOS:
            cert = make_cert(tmp)
            pxs = []
            for i, name in enumerate(PROXIES):
                port, tls_port = PORT_BASE + H2_PORT_OFFSET + i, PORT_BASE + H2_TLS_PORT_OFFSET + i
                pxs.append({"name": name, "port": port, "tls_port": tls_port,
                            "variants": proxy_variants_h2(name, tmp, port, tls_port,
                                                          origin_port, cert),
                            "log": os.path.join(tmp, "%s-h2.log" % name)})
            try:
                run_scenario(res, res["h2"], "h2", pxs, H2_CASES, tmp, idle_n, syscall_tool,
                             check=check_h2, idle_fn=idle_rss_h2,
                             load=lambda px, case, secs: run_h2load(px, case, secs, tmp),
                             skip=skip_h2)
            finally:
                for px in pxs:
                    if px.get("mode_failed"):
                        res["h2"]["mode_failed"][px["name"]] = px["mode_failed"]
        if "waf" in SCENARIOS:
            run_waf(res, tmp, waf_origin, syscall_tool)
        if "cache" in SCENARIOS:
            run_cache(res, tmp, cache_origin, syscall_tool)
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

    notes = res.setdefault("notes", [])
    if "h1" in SCENARIOS:
        summarize(res, CASES, notes)
    if "h2" in SCENARIOS:
        mf = res["h2"]["mode_failed"]
        summarize(res["h2"], H2_CASES, notes, "h2: ", lambda name, case: (
            "validation: " + mf[name]["tls" if case[3] else "h2c"]
            if mf.get(name, {}).get("tls" if case[3] else "h2c") else None))
    if "waf" in SCENARIOS:
        summarize(res["waf"], res["waf"]["cases"], notes, "waf: ")
    if "cache" in SCENARIOS:
        summarize(res["cache"], bench_cache.CASES, notes, "cache: ")
    table = report(res)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(table)
    print(table)
    log("bench: raw results in %s" % os.path.relpath(outdir, ROOT))
    failed = [n for n in PROXIES if n in res["status"] or n in res.get("h2", {}).get("status", {})
              or n in res.get("h2", {}).get("mode_failed", {})] + list(
                  res.get("waf", {}).get("status", {}))
    return 0 if not failed or os.environ.get("BENCH_STRICT") != "1" else 1


if __name__ == "__main__":
    sys.exit(main())
