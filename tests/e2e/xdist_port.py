"""Which free ports belong to this pytest-xdist worker: shared by ghutil
(the e2e tests) and tests/waf/eval.py (which test_waf_corpus.py runs), so
both hand out ports from the same disjoint shares.  No imports beyond the
standard library: eval.py also runs on its own."""
import os


def port_is_this_workers(p):
    """Under pytest-xdist, the ports a worker hands out are those whose half
    (Linux's bind() to port 0 prefers even ports) equals its index modulo
    the number of workers.  A port is only free "a moment
    ago", and gatehouse binds with SO_REUSEPORT: two workers given the same
    port would both start, the kernel would share the connections between
    them, and each test would talk to the other's proxy and origin."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return n <= 1 or not w.startswith("gw") or (p // 2) % n == int(w[2:]) % n
