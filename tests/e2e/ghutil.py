"""
ghutil.py - the gatehouse runner and small helpers shared by the e2e tests.

Environment:
  GATEHOUSE_BIN    the binary under test (default: <repo>/build/gatehouse);
                   tests skip with a clear reason when it does not exist
  GATEHOUSE_ASAN=1 the binary is an ASan+UBSan build: smaller big-body
                   transfers, looser memory bounds and timing slack
  GATEHOUSE_SLACK=N  multiply every timing bound by N (a loaded machine)
  GATEHOUSE_ALLOW_SKIPS=1  a skipped test is a skip; otherwise an unexpected
                   skip fails (conftest.py)
  GATEHOUSE_IMPL=haproxy  harness self-test: translate each config to
                   HAProxy and run /usr/sbin/haproxy instead (tests whose
                   config cannot be translated, or that check gatehouse-only
                   CLI behaviour, skip)
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

import xdist_port

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IMPL = os.environ.get("GATEHOUSE_IMPL", "gatehouse")
ASAN = os.environ.get("GATEHOUSE_ASAN") == "1"
HAPROXY = "/usr/sbin/haproxy"
MiB = 1 << 20

# Timing slack: ASan builds are several times slower.  Every upper bound on
# a duration in the suite is scaled by SLACK; GATEHOUSE_SLACK=N multiplies
# it further on a machine that is busier than usual.
SLACK = (3.0 if ASAN else 1.0) * float(os.environ.get("GATEHOUSE_SLACK") or 1)


def gatehouse_bin():
    if IMPL == "haproxy":
        if not os.access(HAPROXY, os.X_OK):
            pytest.skip("GATEHOUSE_IMPL=haproxy but %s is not installed" % HAPROXY)
        return HAPROXY
    b = os.environ.get("GATEHOUSE_BIN") or os.path.join(REPO, "build", "gatehouse")
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        pytest.skip("gatehouse binary not found at %s (set GATEHOUSE_BIN or run make)" % b)
    return b


def need_gatehouse_cli():
    """For tests of the gatehouse command line itself."""
    if IMPL == "haproxy":
        pytest.skip("gatehouse command-line behaviour (not applicable to HAProxy)")
    return gatehouse_bin()


_used_ports = set()


def free_port():
    """A port on 127.0.0.1 that was free a moment ago, that this process
    has not handed out before, and that no other xdist worker hands out
    (xdist_port.free_port)."""
    return xdist_port.free_port(_used_ports)


def listening_ports(pid=None):
    """Ports in LISTEN state on this machine (from /proc/net/tcp{,6}); with
    pid, only those whose socket that process holds (another process that
    took the port meanwhile must not pass for it)."""
    mine = _socket_inodes(pid) if pid is not None else None
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] == "0A" and (mine is None or parts[9] in mine):
                        ports.add(int(parts[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def _socket_inodes(pid):
    """The inodes of the sockets among pid's descriptors, as strings."""
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening_unix_paths():
    """Paths of unix stream sockets in LISTEN state (/proc/net/unix: the
    __SO_ACCEPTCON flag, 0x10000), without connecting to them."""
    paths = set()
    try:
        with open("/proc/net/unix") as fh:
            next(fh)
            for line in fh:
                parts = line.split()
                if len(parts) >= 8 and int(parts[3], 16) & 0x10000:
                    paths.add(parts[7])
    except OSError:
        pass
    return paths


def _children(pid):
    kids = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        pass
    out = []
    for k in kids:
        out.append(k)
        out += _children(k)
    return out


def rss_kib(pid):
    """VmRSS of pid and all its descendants, in KiB."""
    total = 0
    for p in [pid] + _children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class RssSampler:
    """Samples the RSS of a process tree in a background thread; use as a
    context manager, then read .baseline, .peak (KiB) and .growth_mib."""

    def __init__(self, pid, interval=0.02):
        self.pid = pid
        self.interval = interval
        self.baseline = rss_kib(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(2)
        self.peak = max(self.peak, rss_kib(self.pid))

    @property
    def growth_mib(self):
        return (self.peak - self.baseline) / 1024.0


def wait_for(pred, timeout, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- configuration text --------------------------------------------------------

def parallel(n, fn, timeout=60):
    """fn(0) ... fn(n - 1), each in a thread of its own; their results in
    order, once all are done (any exception fails the caller)."""
    out = [None] * n
    errs = []

    def run(i):
        try:
            out[i] = fn(i)
        except Exception as e:   # noqa: BLE001 - reported below
            errs.append(e)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout * SLACK)
    assert not errs, errs[:3]
    return out


def global_block(workers=1, drain="2s", extra=""):
    return ("global {\n    workers %s\n    timeout drain %s\n%s}\n"
            % (workers, drain, "".join("    %s\n" % l for l in extra.splitlines() if l.strip())))


def backend_block(name, servers, mode="http", extra=""):
    """servers: list of "host:port" or (name, "host:port", weight)."""
    lines = ["backend %s {" % name, "    mode %s" % mode, "    balance roundrobin"]
    for i, s in enumerate(servers):
        if isinstance(s, str):
            lines.append("    server s%d %s" % (i + 1, s))
        else:
            n, a, w = s
            lines.append("    server %s %s%s" % (n, a, " weight %d" % w if w else ""))
    lines += ["    " + l.strip() for l in extra.splitlines() if l.strip()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def frontend_block(port, default_backend="app", mode="http", extra="", name="web"):
    lines = ["frontend %s {" % name, "    bind 127.0.0.1:%d" % port, "    mode %s" % mode]
    lines += ["    " + l.strip() for l in extra.splitlines() if l.strip()]
    if default_backend:
        lines.append("    default_backend %s" % default_backend)
    lines.append("}")
    return "\n".join(lines) + "\n"


def simple_http_config(port, servers, frontend_extra="", backend_extra="", workers=1,
                       drain="2s", global_extra="", mode="http"):
    return (global_block(workers, drain, global_extra)
            + frontend_block(port, "app", mode, frontend_extra)
            + backend_block("app", servers, mode, backend_extra))


# ---- the runner ---------------------------------------------------------------------

_DUR = re.compile(r"^(\d+)(ms|s|m|h|d)$")


def parse_duration(s):
    m = _DUR.match(s)
    n, u = int(m.group(1)), m.group(2)
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[u]


class Gatehouse:
    def __init__(self, binary, config, workdir, name="gatehouse"):
        self.binary = binary
        self.config = config
        self.workdir = workdir
        self.name = name
        self.conf_path = os.path.join(workdir, name + ".conf")
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self.proc = None
        self.stopped_by_test = False
        self.needed_kill = False
        self.kill_grace = 5 * SLACK     # beyond timeout drain, before SIGKILL
        self.ports = [int(p) for p in re.findall(r"^\s*bind\s+127\.0\.0\.1:(\d+)", config, re.M)]
        # (a relative unix@ path is taken from the configuration's directory)
        self.unix_paths = [os.path.join(workdir, p) for p in
                           re.findall(r"^\s*bind\s+unix@(\S+)", config, re.M)]
        m = re.search(r"timeout\s+drain\s+(\S+)", config)
        self.drain = parse_duration(m.group(1)) if m else 10.0

    @property
    def port(self):
        return self.ports[0]

    @property
    def pid(self):
        return self.proc.pid

    @property
    def graceful_signal(self):
        return signal.SIGUSR1 if IMPL == "haproxy" else signal.SIGTERM

    def start(self, wait=True):
        text = self.config
        argv = [self.binary, "-c", self.conf_path]
        if IMPL == "haproxy":
            import haproxy_compat
            try:
                text = haproxy_compat.translate(self.config)
            except haproxy_compat.Unsupported as e:
                pytest.skip("config not translatable to HAProxy: %s" % e)
            argv = [self.binary, "-db", "-f", self.conf_path]
        with open(self.conf_path, "w") as f:
            f.write(text)
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._err,
                                     stderr=self._err, cwd=self.workdir)
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, timeout=None):
        if timeout is None:
            # A WAF's rules and its pre-filter take seconds to load, many
            # more under ASan (every allocation of the Vectorscan compile).
            timeout = 90.0 if re.search(r"^\s*waf\s", self.config or "", re.M) else 10.0
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                pytest.fail("%s exited with %s during start-up:\n%s"
                            % (self.name, rc, self.stderr_tail()))
            # every TCP bind, and every unix@ one (bound after the TCP
            # ones before it: a stale file is replaced meanwhile)
            if set(self.ports) <= listening_ports(self.proc.pid) and \
                    set(self.unix_paths) <= listening_unix_paths():
                return
            if time.monotonic() > deadline:
                pytest.fail("%s not listening on %s after %.0fs:\n%s"
                            % (self.name, self.ports, timeout, self.stderr_tail()))
            time.sleep(0.01)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=None):
        """Sends sig (default: graceful stop), waits up to timeout (default
        drain + 5 s), SIGKILLs if needed; returns the exit code."""
        self.stopped_by_test = True
        return self._stop(sig, timeout)

    def _stop(self, sig=None, timeout=None):
        if self.proc.poll() is None:
            self.proc.send_signal(sig or self.graceful_signal)
            try:
                self.proc.wait(timeout if timeout is not None else self.drain + self.kill_grace)
            except subprocess.TimeoutExpired:
                self.needed_kill = True
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def stderr_text(self):
        try:
            self._err.flush()
        except (ValueError, AttributeError):
            pass
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_tail(self, n=4000):
        t = self.stderr_text()
        return ("...\n" + t[-n:]) if len(t) > n else t

    def sanitizer_errors(self):
        t = self.stderr_text()
        return [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
                if m in t]

    def teardown(self):
        """Stops the process; returns a list of problems (empty when fine)."""
        problems = []
        if self.proc is None:
            return problems
        died_early = self.proc.poll() is not None and not self.stopped_by_test
        rc = self._stop()
        if died_early:
            problems.append("%s exited on its own during the test (exit code %s)" % (self.name, rc))
        elif self.needed_kill:
            problems.append("%s did not exit within %.1fs of SIGTERM (drain %.1fs); SIGKILLed"
                            % (self.name, self.drain + self.kill_grace, self.drain))
        elif rc is not None and rc < 0:
            problems.append("%s was killed by signal %d" % (self.name, -rc))
        elif rc != 0 and not self.stopped_by_test:
            problems.append("%s exited with %s after SIGTERM (expected 0)" % (self.name, rc))
        errs = self.sanitizer_errors()
        if errs:
            problems.append("%s stderr contains sanitizer reports: %s" % (self.name, ", ".join(errs)))
        try:
            self._err.close()
        except Exception:
            pass
        return problems


def run_cli(args, timeout=10):
    b = need_gatehouse_cli()
    return subprocess.run([b] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)


_HANDSHAKE = re.compile(r"^(New|Reused), ", re.M)
_TICKET = "Post-Handshake New Session Ticket arrived"


def s_client(port, args, data=b"", timeout=10):
    """openssl s_client -connect 127.0.0.1:port ARGS; returns (exit code, output).

    Its stdin is held open until what the caller will read has been printed,
    not for a fixed time: a loaded machine can take longer than any sleep to
    finish a handshake, and s_client quits at EOF on stdin.  Held until: the
    process exits by itself (a refused handshake), or every handshake's
    summary is out (six with -reconnect), and with -sess_out after a new
    TLS 1.3 handshake its first session ticket too: TLS 1.3's session (what
    -sess_out writes, the "Protocol  :" block) comes with the ticket."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, *args]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: p.stdout.read1(65536), b"")),
                              daemon=True)
    reader.start()
    if data:
        p.stdin.write(data)
        p.stdin.flush()
    handshakes = 6 if "-reconnect" in args else 1

    def printed():
        out = b"".join(chunks).decode(errors="replace")
        marks = list(_HANDSHAKE.finditer(out))
        if len(marks) < handshakes or "Verify return code" not in out[marks[-1].end():]:
            return False
        return "-sess_out" not in args or "New, TLSv1.3" not in out or _TICKET in out

    deadline = time.monotonic() + timeout
    while p.poll() is None and not printed() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    try:
        p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    reader.join(timeout=5)
    return p.returncode, b"".join(chunks).decode(errors="replace")
