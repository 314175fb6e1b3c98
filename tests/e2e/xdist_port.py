"""Free ports for the tests: shared by ghutil (the e2e tests) and
tests/waf/eval.py (which test_waf_corpus.py runs), so both hand out ports
the same way.  No imports beyond the standard library: eval.py also runs
on its own."""
import os
import random
import socket


def port_is_this_workers(p):
    """Under pytest-xdist, the ports a worker hands out are those whose half
    equals its index modulo the number of workers.  A port is only free "a
    moment ago", and gatehouse binds with SO_REUSEPORT: two workers given the
    same port would both start, the kernel would share the connections
    between them, and each test would talk to the other's proxy and origin."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return n <= 1 or not w.startswith("gw") or (p // 2) % n == int(w[2:]) % n


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(used):
    """A port on 127.0.0.1 free a moment ago, not in `used` (added to it),
    one of this worker's share, and below the kernel's ephemeral range.
    Below it because a port from that range (what bind() to port 0 gives)
    can be taken meanwhile as the local port of any outgoing connection,
    the proxy's to its origins or a client's, and the listener that was
    meant to have it then fails with "Address already in use" (CI saw it
    under ASan: a busy suite opens thousands of connections a second)."""
    hi = _ephemeral_low()
    lo = max(1024, hi - 12000)
    for _ in range(2000):
        p = random.randrange(lo, hi)
        if p in used or not port_is_this_workers(p):
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        used.add(p)
        return p
    raise RuntimeError("no free port below %d" % hi)
