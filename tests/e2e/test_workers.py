"""`workers N` and `workers auto` start that many worker threads, each with
its own listening socket (SO_REUSEPORT), and every one of them serves.

Counted from /proc: the threads of the process (/proc/PID/task), the sockets
in LISTEN on the frontend's port (/proc/net/tcp), and each thread's context
switches before and after traffic (a worker woken by epoll to serve a
connection switches; an idle one does not).  The threads besides the
workers: the main thread (signals); no health-check thread (no `health`
here) and no log-writer thread (stderr is a file).
"""

import os
import platform

import pytest

import ghutil
import httpraw
from ghutil import simple_http_config, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="gatehouse's own threads (HAProxy self-test)")

# Blocking system calls a waiting worker sits in (x86_64 numbers):
# epoll_wait, epoll_pwait, epoll_pwait2.
EPOLL_SYSCALLS = {"x86_64": {"232", "281", "441"}}.get(platform.machine())


def threads(pid):
    """main and the workers: the control thread (reloads, control/reload.c),
    which sleeps until asked, is left out by its name."""
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
                if f.read().strip() == "gh-control":
                    continue
        except OSError:
            continue
        out.append(int(t))
    return sorted(out)


def ctxt_switches(pid, tid):
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    return 0


def blocked_syscall(pid, tid):
    try:
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            return f.read().split()[0]
    except OSError:
        return None


def listeners_on(port):
    n = 0
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(fn) as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    n += 1
    return n


def check_workers(g, port, origin, n):
    pid = g.pid
    # Every listening socket is up once start-up is done (wait_listening
    # returns at the first one).
    wait_for(lambda: listeners_on(port) == n, 5 * ghutil.SLACK, what="%d listeners" % n)
    assert listeners_on(port) == n, "%d sockets in LISTEN on %d, want one per worker (%d)" % (
        listeners_on(port), port, n)
    tids = threads(pid)
    assert len(tids) == 1 + n, "%d threads for workers %d (want main + %d)" % (
        len(tids), n, n)
    workers = [t for t in tids if t != pid]
    if EPOLL_SYSCALLS is not None:
        wait_for(lambda: all(blocked_syscall(pid, t) in EPOLL_SYSCALLS for t in workers),
                 5 * ghutil.SLACK, what="every worker waiting in epoll")
    # New connections spread over the listeners by the kernel's hash of the
    # 4-tuple; 20 per worker leave a worker without one with probability
    # below n * (1 - 1/n)^(20 n), nil here.
    before = {t: ctxt_switches(pid, t) for t in workers}
    for i in range(20 * n):
        r = httpraw.request(port, "GET", "/echo?i=%d" % i)
        assert r.status == 200 and r.json()["target"] == "/echo?i=%d" % i
    assert len(origin.stats.requests) == 20 * n
    idle = [t for t in workers if ctxt_switches(pid, t) == before[t]]
    assert not idle, "worker threads %s never woke for %d connections" % (idle, 20 * n)
    assert threads(pid) == tids, "threads came or went under traffic"
    started = [ln for ln in g.stderr_text().splitlines() if " started: " in ln]
    assert started and ("started: %d worker%s," % (n, "s" if n > 1 else "")) in started[0], started


@pytest.mark.parametrize("n", [1, 2, 3])
def test_workers_n_starts_n_serving_threads(gatehouse, origin, port, n):
    g = gatehouse(simple_http_config(port, [origin.addr], workers=n))
    check_workers(g, port, origin, n)


def test_workers_auto_is_one_per_cpu(gatehouse, origin, port):
    n = os.sysconf("SC_NPROCESSORS_ONLN")     # what gatehouse asks for
    g = gatehouse(simple_http_config(port, [origin.addr], workers="auto"))
    check_workers(g, port, origin, n)
