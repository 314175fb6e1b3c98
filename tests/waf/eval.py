#!/usr/bin/python3
"""
eval.py - run the WAF corpus (tests/waf/corpus/) through a proxy and measure
it: detection rate per attack category, false-positive rate per benign
category, and the list of misses and false positives with the rule ids the
target logged.

    tests/waf/eval.py --target nginx-pl1                 # nginx + ModSecurity + CRS, PL1
    tests/waf/eval.py --target nginx-pl2 --json out.json
    tests/waf/eval.py --target nginx-pl1 --exclusions tests/waf/exclusions/default-before.conf \\
                      --baseline tests/waf/results/nginx-pl1.json    # what changed, per request
    tests/waf/eval.py --target gatehouse-pl1 --gatehouse-bin build/gatehouse
    tests/waf/eval.py --connect 127.0.0.1:8080           # something already running

Targets it starts itself (in a temp dir, on ephemeral 127.0.0.1 ports,
stopped by PID at the end), each in front of an origin in this process that
answers 200 with an `X-Origin: 1` header to every request:

  nginx-pl1 .. nginx-pl4   nginx, libmodsecurity 3 (ngx_http_modsecurity_module),
                           /etc/nginx/modsecurity.conf (request body access, the
                           JSON/XML body processors) with SecRuleEngine On, the
                           Debian CRS 3.3 at that paranoia level, JSON audit log
  gatehouse-nowaf          gatehouse without a WAF: what its HTTP parser refuses
  gatehouse-plN[-nopf][-detect]
                           gatehouse with `waf crs { rules /usr/share/modsecurity-crs
                           paranoia N  mode block  body_limit 16k  prefilter on }`
                           (-nopf: prefilter off, -detect: mode detect); needs
                           the WAF (branch `waf`) and --gatehouse-bin

A request counts as
  passed    the origin answered (the response carries X-Origin);
  blocked   the proxy answered with a status in --block-status (default 403);
  rejected  the proxy answered anything else (400 from the HTTP parser,
            413, ...) or closed the connection without an answer.
Detection rate = (blocked + rejected) / attacks; false-positive rate =
(blocked + rejected) / benign requests.  The table shows both columns, so a
stricter reading (403 only) is one subtraction away.

Rule ids: nginx targets log every transaction to a JSON audit log
(SecAuditEngine On), matched to requests by client port and URI (one
connection per request).  gatehouse logs "waf NAME blocked: ID msg; ID msg"
on stderr; requests are then sent one at a time and each block is matched
to the log lines that appeared meanwhile.

Exit status: 0, or 1 with --min-detection / --max-fp not met.
Stdlib only; run with the Debian python (/usr/bin/python3).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(REPO, "tests", "e2e"))
import corpus  # noqa: E402
import xdist_port  # noqa: E402

MODSEC_MODULE = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"
MODSEC_BASE = "/etc/nginx/modsecurity.conf"
CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"
CRS_RULES = "/usr/share/modsecurity-crs"
CRS_BEFORE = "/etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf"
CRS_AFTER = "/etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf"
# rules that only add up or report the anomaly score: not the cause of a block
SCORING_RULES = {"949110", "959100", "980130", "980140", "949111", "959101"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


_used_ports = set()


def free_port():
    """A port free a moment ago, below the ephemeral range; under
    pytest-xdist (tests/e2e/test_waf_corpus.py), one of this worker's share
    (tests/e2e/xdist_port.py says why)."""
    return xdist_port.free_port(_used_ports)


def wait_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- origin

class _OriginHandler(socketserver.BaseRequestHandler):
    """HTTP/1.1, lenient: reads a head and a Content-Length or chunked body,
    answers 200 "ok" with X-Origin: 1; keep-alive unless asked to close."""

    def handle(self):
        s = self.request
        s.settimeout(30)
        buf = b""
        for _ in range(100000):                      # requests on this connection
            while b"\r\n\r\n" not in buf:
                try:
                    d = s.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                buf += d
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            hdrs = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            try:
                if "chunked" in hdrs.get("transfer-encoding", "").lower():
                    buf = self._chunked(s, buf)
                else:
                    n = int(hdrs.get("content-length", "0") or 0)
                    while len(buf) < n:
                        d = s.recv(65536)
                        if not d:
                            return
                        buf += d
                    buf = buf[n:]
            except (OSError, ValueError):
                return
            close = "close" in hdrs.get("connection", "").lower() or lines[0].endswith("1.0")
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                      b"X-Origin: 1\r\n" + (b"Connection: close\r\n" if close else b"")
                      + b"\r\nok\n")
            if close:
                return

    @staticmethod
    def _chunked(s, buf):
        def more():
            d = s.recv(65536)
            if not d:
                raise OSError("eof")
            return d
        for _ in range(1000000):
            while b"\r\n" not in buf:
                buf += more()
            line, _, buf = buf.partition(b"\r\n")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + buf:
                    buf += more()
                return (b"\r\n" + buf).partition(b"\r\n\r\n")[2]
            while len(buf) < size + 2:
                buf += more()
            buf = buf[size + 2:]
        return buf


class Origin(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _OriginHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


# ---------------------------------------------------------------- targets

class Target:
    """A proxy started by us (or an address given with --connect)."""
    name = "connect"
    sequential = False

    def __init__(self, port=None):
        self.port = port
        self.proc = None

    def rules_for(self, result):
        return []

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def modsec_conf(tmp, paranoia, before=None, after=None, engine="On"):
    """The ModSecurity rules file for nginx: the distribution's
    modsecurity.conf with the engine on, a JSON audit log of every
    transaction, the CRS at `paranoia`, optional exclusion files before
    (runtime ctl rules) and after (SecRuleUpdateTargetById ...) the CRS."""
    audit = os.path.join(tmp, "audit.json")
    lines = [
        "Include %s" % MODSEC_BASE,
        "SecRuleEngine %s" % engine,
        "SecStatusEngine Off",
        "SecAuditEngine On",
        "SecAuditLogFormat JSON",
        "SecAuditLogType Serial",
        "SecAuditLogParts ABHZ",
        "SecAuditLog %s" % audit,
        "SecTmpDir %s" % tmp,
        "SecDataDir %s" % tmp,
        "Include %s" % CRS_SETUP,
        'SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d"' % paranoia,
        "Include %s" % CRS_BEFORE,
    ]
    for f in before or []:
        lines.append("Include %s" % os.path.abspath(f))
    lines += ["Include %s/rules/*.conf" % CRS_RULES, "Include %s" % CRS_AFTER]
    for f in after or []:
        lines.append("Include %s" % os.path.abspath(f))
    path = os.path.join(tmp, "modsec.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, audit


class NginxTarget(Target):
    def __init__(self, name, paranoia, origin_port, tmp, before=None, after=None):
        super().__init__(free_port())
        self.name = name
        self.tmp = tmp
        rules, self.audit = modsec_conf(tmp, paranoia, before, after)
        self.error_log = os.path.join(tmp, "nginx-error.log")
        conf = os.path.join(tmp, "nginx.conf")
        user = "user root root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write("""\
load_module {module};
{user}daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {elog} info;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 16m;
    server {{
        listen 127.0.0.1:{port};
        modsecurity on;
        modsecurity_rules_file {rules};
        location / {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
""".format(module=MODSEC_MODULE, user=user, tmp=tmp, elog=self.error_log, port=self.port,
           rules=rules, origin=origin_port))
        argv = ["nginx", "-p", tmp, "-e", self.error_log, "-c", conf]
        r = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise SystemExit("eval: nginx -t failed:\n%s%s" % (r.stdout, r.stderr))
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(tmp, "nginx.stderr"), "wb"))
        if not wait_port(self.port, self.proc, 60):
            self.stop()
            raise SystemExit("eval: nginx did not start:\n" + tail(self.error_log))
        self._by_port = None

    def _load_audit(self):
        """client port -> [(uri, [(rule id, message)])] from the JSON audit
        log, in log order (a port can come back during a run)."""
        out = {}
        try:
            f = open(self.audit, encoding="utf-8", errors="replace")
        except OSError:
            return out
        with f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    t = json.loads(line)["transaction"]
                except (ValueError, KeyError):
                    continue
                msgs = []
                for m in t.get("messages", []):
                    d = m.get("details", {})
                    msgs.append((str(d.get("ruleId", "")), m.get("message", "")))
                uri = (t.get("request") or {}).get("uri", "")
                out.setdefault(int(t.get("client_port", 0)), []).append((uri, msgs))
        return out

    def rules_for(self, result):
        if self._by_port is None:
            time.sleep(0.5)   # the last transactions' log lines
            self._by_port = self._load_audit()
        seen = self._by_port.get(result.get("local_port"), [])
        same = [msgs for uri, msgs in seen if uri == result.get("target")]
        return (same or [msgs for _, msgs in seen] or [[]])[-1]


GH_BLOCK = re.compile(r"waf (\S+) blocked: (.*)$")


class GatehouseTarget(Target):
    sequential = True

    def __init__(self, name, binary, paranoia, prefilter, mode, origin_port, tmp,
                 start_timeout=60.0):
        super().__init__(free_port())
        self.name = name
        self.stderr = os.path.join(tmp, "gatehouse.stderr")
        conf = os.path.join(tmp, "gatehouse.conf")
        with open(conf, "w") as f:
            f.write(gatehouse_waf_conf(self.port, origin_port, paranoia, prefilter, mode))
        r = subprocess.run([binary, "-t", "-c", conf], capture_output=True, text=True,
                           timeout=2 * start_timeout)
        if r.returncode:
            raise SystemExit("eval: %s -t rejected the WAF config (is the WAF merged?):\n%s%s\n%s"
                             % (binary, r.stdout, r.stderr, open(conf).read()))
        self.proc = subprocess.Popen([binary, "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=open(self.stderr, "ab"),
                                     stderr=subprocess.STDOUT, cwd=tmp)
        if not wait_port(self.port, self.proc, start_timeout):
            self.stop()
            raise SystemExit("eval: gatehouse did not start:\n" + tail(self.stderr))
        self.offset = os.path.getsize(self.stderr)

    def new_lines(self, wait):
        """stderr lines since the last call (waiting up to `wait` s for a
        'waf ... blocked' line)."""
        deadline = time.monotonic() + wait
        while True:
            with open(self.stderr, "rb") as f:
                f.seek(self.offset)
                data = f.read()
            if b"\n" in data:
                data = data[:data.rindex(b"\n") + 1]
            if b" blocked: " in data or time.monotonic() >= deadline:
                self.offset += len(data)
                return data.decode("utf-8", "replace").splitlines()
            time.sleep(0.01)

    def after_request(self, result):
        lines = self.new_lines(0.3 if result["outcome"] == "blocked" else 0.0)
        rules = []
        for ln in lines:
            m = GH_BLOCK.search(ln)
            if m:
                for part in m.group(2).split("; "):
                    rid, _, msg = part.strip().partition(" ")
                    rules.append((rid, msg))
        result["rules"] = rules

    def rules_for(self, result):
        return result.get("rules", [])


def gatehouse_waf_conf(port, origin_port, paranoia, prefilter=True, mode="block",
                       log_level="info"):
    """The gatehouse config the evaluator and the e2e test use for the WAF:
    one `waf crs` section, one frontend using it (one directive per line).
    paranoia 0: no WAF at all (what gatehouse's HTTP parser refuses alone)."""
    if paranoia == 0:
        return """\
global {{
    workers 1
    log_level {log_level}
}}
frontend web {{
    bind 127.0.0.1:{port}
    mode http
    default_backend app
}}
backend app {{
    server s1 127.0.0.1:{origin}
}}
""".format(log_level=log_level, port=port, origin=origin_port)
    return """\
global {{
    workers 1
    log_level {log_level}
}}
waf crs {{
    rules {rules}
    paranoia {pl}
    mode {mode}
    body_limit 16k
    prefilter {pf}
}}
frontend web {{
    bind 127.0.0.1:{port}
    mode http
    use_waf crs
    default_backend app
}}
backend app {{
    server s1 127.0.0.1:{origin}
}}
""".format(log_level=log_level, rules=CRS_RULES, pl=paranoia, mode=mode,
           pf="on" if prefilter else "off", port=port, origin=origin_port)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


TARGET_RE = re.compile(r"^(nginx|gatehouse)-(?:pl([1-4])((?:-nopf|-detect)*)|(nowaf))$")


def start_target(args, origin_port, tmp):
    if args.connect:
        host, _, port = args.connect.rpartition(":")
        t = Target(int(port))
        t.name = args.connect
        return t
    m = TARGET_RE.match(args.target or "")
    if not m:
        raise SystemExit("eval: unknown --target %r (nginx-plN, gatehouse-plN[-nopf][-detect], "
                         "gatehouse-nowaf)"
                         % args.target)
    kind, pl, flags = m.group(1), int(m.group(2) or 0), m.group(3) or ""
    if kind == "nginx" and not pl:
        raise SystemExit("eval: nginx-nowaf is not a target (nginx-plN)")
    if kind == "nginx":
        if flags:
            raise SystemExit("eval: -nopf/-detect are gatehouse variants")
        for f in (MODSEC_MODULE, MODSEC_BASE, CRS_SETUP):
            if not os.path.exists(f):
                raise SystemExit("eval: %s missing (make deps)" % f)
        return NginxTarget(args.target, pl, origin_port, tmp, args.exclusions,
                           args.exclusions_after)
    binary = args.gatehouse_bin or os.environ.get("GATEHOUSE_BIN") or os.path.join(
        REPO, "build", "gatehouse")
    if not os.access(binary, os.X_OK):
        raise SystemExit("eval: gatehouse binary %s not found (--gatehouse-bin)" % binary)
    binary = os.path.abspath(binary)
    return GatehouseTarget(args.target, binary, pl, "-nopf" not in flags,
                           "detect" if "-detect" in flags else "block", origin_port, tmp)


# ---------------------------------------------------------------- client

def send(port, e, block_status, timeout):
    """One request on its own connection; the result dict."""
    res = {"id": e["id"], "category": e["category"], "expect": e["expect"],
           "tags": e.get("tags", [])}
    data = corpus.to_bytes(e)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as ex:
        res.update(status=None, outcome="error", error="connect: %s" % ex)
        return res
    res["local_port"] = s.getsockname()[1]
    res["target"] = e.get("target") or data.split(b" ", 2)[1].decode("latin-1")
    buf = b""
    try:
        s.sendall(data)
        if "raw" in e:
            try:
                s.shutdown(socket.SHUT_WR)   # no more bytes: a parser waiting for a body gives up
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            buf += d
            if b"\r\n\r\n" in buf and _complete(buf):
                break
    except OSError as ex:
        res["error"] = str(ex)
    finally:
        s.close()
    head = buf.partition(b"\r\n\r\n")[0].decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    status = int(m.group(1)) if m else 0
    res["status"] = status
    from_origin = bool(re.search(r"(?im)^X-Origin:\s*1\s*$", head))
    if from_origin and status == 200:
        res["outcome"] = "passed"
    elif status in block_status and not from_origin:
        res["outcome"] = "blocked"
    else:
        res["outcome"] = "rejected"
    return res


def _complete(buf):
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if m:
        return len(body) >= int(m.group(1))
    if re.search(rb"(?im)^transfer-encoding:.*chunked", head):
        return body.endswith(b"0\r\n\r\n")
    return False


# ---------------------------------------------------------------- report

def summarize(results, target):
    def group(kind):
        rs = [r for r in results if r["expect"] == kind]
        cats = {}
        for r in rs:
            c = cats.setdefault(r["category"], {"n": 0, "blocked": 0, "rejected": 0,
                                                "passed": 0, "error": 0})
            c["n"] += 1
            c[r["outcome"]] += 1
        for c in cats.values():
            c["refused"] = c["blocked"] + c["rejected"]
            c["rate"] = c["refused"] / c["n"] if c["n"] else 0.0
        n = len(rs)
        refused = sum(c["refused"] for c in cats.values())
        return {"n": n, "blocked": sum(c["blocked"] for c in cats.values()),
                "rejected": sum(c["rejected"] for c in cats.values()),
                "passed": sum(c["passed"] for c in cats.values()),
                "error": sum(c["error"] for c in cats.values()),
                "refused": refused, "rate": refused / n if n else 0.0,
                "by_category": dict(sorted(cats.items()))}

    def listing(kind, bad):
        out = []
        for r in results:
            if r["expect"] == kind and r["outcome"] in bad:
                out.append({k: r.get(k) for k in ("id", "category", "status", "outcome", "note",
                                                  "tags", "rules")})
        return out
    plain = [r for r in results if r["expect"] == "pass" and "code" not in r["tags"]]
    plain_refused = sum(r["outcome"] != "passed" for r in plain)
    return {"target": target, "attacks": group("block"), "benign": group("pass"),
            "benign_ordinary": {"n": len(plain), "refused": plain_refused,
                                "rate": plain_refused / len(plain) if plain else 0.0},
            "misses": listing("block", ("passed", "error")),
            "false_positives": listing("pass", ("blocked", "rejected", "error"))}


def rule_str(rules):
    ids = []
    for x in rules or []:
        rid = x[0] if isinstance(x, (list, tuple)) else x
        if rid and rid not in SCORING_RULES and rid not in ids:
            ids.append(rid)
    return " ".join(ids) or "-"


def compare(s, base):
    """Markdown lines: what changed against an earlier --json result."""
    old = {r["id"]: r["outcome"] for r in base["results"]}
    new = {r["id"]: r for r in s["results"]}
    lost = [i for i, r in new.items() if r["expect"] == "block" and r["outcome"] == "passed"
            and old.get(i) in ("blocked", "rejected")]
    gained = [i for i, r in new.items() if r["expect"] == "block" and r["outcome"] != "passed"
              and old.get(i) == "passed"]
    fixed = [i for i, r in new.items() if r["expect"] == "pass" and r["outcome"] == "passed"
             and old.get(i) in ("blocked", "rejected")]
    broke = [i for i, r in new.items() if r["expect"] == "pass" and r["outcome"] != "passed"
             and old.get(i) == "passed"]
    b = base
    return ["", "Against %s (detection %.1f%%, false positives %.1f%%): "
            "attacks no longer refused: %s; attacks newly refused: %s; "
            "false positives cleared: %s; new false positives: %s."
            % (b.get("label", b["target"]), 100 * b["attacks"]["rate"], 100 * b["benign"]["rate"],
               " ".join(lost) or "none", " ".join(gained) or "none",
               len(fixed), " ".join(broke) or "none")]


def markdown(s):
    a, b = s["attacks"], s["benign"]
    L = ["### %s" % s.get("label", s["target"]), "",
         "Detection %.1f%% (%d/%d attacks refused: %d blocked, %d rejected); "
         "false positives %.1f%% (%d/%d benign refused: %d blocked, %d rejected)."
         % (100 * a["rate"], a["refused"], a["n"], a["blocked"], a["rejected"],
            100 * b["rate"], b["refused"], b["n"], b["blocked"], b["rejected"]),
         "Without the %d benign requests tagged `code` (free text that carries SQL, shell, "
         "HTML or JS on purpose): false positives %.1f%% (%d/%d)."
         % (b["n"] - s["benign_ordinary"]["n"], 100 * s["benign_ordinary"]["rate"],
            s["benign_ordinary"]["refused"], s["benign_ordinary"]["n"]), "",
         "| kind | category | requests | blocked | rejected | passed | refused |",
         "|---|---|---:|---:|---:|---:|---:|"]
    for kind, g in (("attack", a), ("benign", b)):
        for cat, c in g["by_category"].items():
            L.append("| %s | %s | %d | %d | %d | %d | %.1f%% |" % (
                kind, cat, c["n"], c["blocked"], c["rejected"], c["passed"], 100 * c["rate"]))
        L.append("| **%s** | **all** | **%d** | **%d** | **%d** | **%d** | **%.1f%%** |" % (
            kind, g["n"], g["blocked"], g["rejected"], g["passed"], 100 * g["rate"]))
    L += ["", "False positives (benign refused):", ""]
    L += ["- `%s` %s -> %s; rules %s%s" % (r["id"], r["note"], r["status"], rule_str(r["rules"]),
                                           " (tagged code)" if "code" in (r["tags"] or []) else "")
          for r in s["false_positives"]] or ["- none"]
    if s.get("compare"):
        L += s["compare"]
    L += ["", "Misses (attacks passed; rules that matched below the threshold):", ""]
    L += ["- `%s` %s; rules %s" % (r["id"], r["note"], rule_str(r["rules"]))
          for r in s["misses"]] or ["- none"]
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", help="nginx-plN | gatehouse-plN[-nopf][-detect]")
    ap.add_argument("--connect", help="HOST:PORT of a proxy already running (no rule ids)")
    ap.add_argument("--gatehouse-bin")
    ap.add_argument("--exclusions", action="append",
                    help="ModSecurity rules included before the CRS (nginx; repeatable)")
    ap.add_argument("--exclusions-after", action="append",
                    help="ModSecurity rules included after the CRS (nginx; repeatable)")
    ap.add_argument("--block-status", default="403",
                    help="comma-separated statuses that mean blocked (default 403)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--only", help="comma-separated categories")
    ap.add_argument("--corpus", default=corpus.CORPUS,
                    help="corpus directory with attacks/ and benign/ (default tests/waf/corpus; "
                         "the held-out set is tests/waf/holdout)")
    ap.add_argument("--json", help="write the summary (and every result) here")
    ap.add_argument("--markdown", help="write the table here")
    ap.add_argument("--baseline", help="an earlier --json result to compare with")
    ap.add_argument("--label", help="a name for this run in the summary (default: the target)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    ap.add_argument("--min-detection", type=float, help="exit 1 below this rate (0..1)")
    ap.add_argument("--max-fp", type=float, help="exit 1 above this rate (0..1)")
    args = ap.parse_args(argv)
    if not args.target and not args.connect:
        ap.error("--target or --connect")
    block_status = {int(x) for x in args.block_status.split(",") if x.strip()}
    entries = corpus.load(args.corpus)
    if args.only:
        cats = set(args.only.split(","))
        entries = [e for e in entries if e["category"] in cats]

    tmp = tempfile.mkdtemp(prefix="gh-waf-eval-")
    os.chmod(tmp, 0o755)
    origin = Origin()
    target = None

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        target = start_target(args, origin.port, tmp)
        log("eval: %s on 127.0.0.1:%d, origin on %d, %d requests" % (
            target.name, target.port, origin.port, len(entries)))
        t0 = time.time()
        if target.sequential or args.concurrency <= 1:
            results = []
            for e in entries:
                r = send(target.port, e, block_status, args.timeout)
                if hasattr(target, "after_request"):
                    target.after_request(r)
                results.append(r)
        else:
            with ThreadPoolExecutor(args.concurrency) as ex:
                results = list(ex.map(lambda e: send(target.port, e, block_status, args.timeout),
                                      entries))
        for r in results:
            r["rules"] = target.rules_for(r)
        notes = {e["id"]: e.get("note", "") for e in entries}
        for r in results:
            r["note"] = notes[r["id"]]
        s = summarize(results, target.name)
        s["seconds"] = round(time.time() - t0, 1)
        s["block_status"] = sorted(block_status)
        s["exclusions"] = (args.exclusions or []) + (args.exclusions_after or [])
        s["label"] = args.label or target.name + (
            " + " + " + ".join(os.path.basename(x) for x in s["exclusions"])
            if s["exclusions"] else "")
        s["results"] = results
        if args.baseline:
            with open(args.baseline) as f:
                s["compare"] = compare(s, json.load(f))
    finally:
        if target:
            target.stop()
        origin.shutdown()
        if args.keep:
            log("eval: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    md = markdown(s)
    print(md)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
    if args.json:
        # compact: rule ids per request, each rule's message once
        msgs = {}
        for r in s["results"] + s["misses"] + s["false_positives"]:
            for rid, msg in r.get("rules") or []:
                msgs.setdefault(rid, msg)
            r["rules"] = [rid for rid, _ in r.get("rules") or []]
            r.pop("local_port", None)
        for r in s["results"]:   # the corpus has the rest
            for k in ("note", "target", "tags"):
                r.pop(k, None)
        s["rule_messages"] = dict(sorted(msgs.items()))
        with open(args.json, "w") as f:
            json.dump(s, f, separators=(",", ":"), ensure_ascii=False)
    ok = True
    if args.min_detection is not None and s["attacks"]["rate"] < args.min_detection:
        ok = False
    if args.max_fp is not None and s["benign"]["rate"] > args.max_fp:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
