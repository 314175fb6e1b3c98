"""Balancing algorithms end to end: weights, a slow origin, stickiness, workers 2.

Load comes from an asyncio client with several keep-alive connections, each
sending its next request as soon as the previous answer is complete; which
origin answered is read from the X-Origin header of the echo response.
"""

import asyncio
import random
import time

import pytest

from ghutil import ASAN, SLACK, backend_block, frontend_block, global_block
from origins import HttpOrigin


class DelayedOrigin(HttpOrigin):
    """An HttpOrigin that answers every request `delay_ms` later than usual
    (the request is read at once; the first byte of the response waits)."""

    def __init__(self, name, delay_ms, **kw):
        self.delay_s = delay_ms / 1000.0
        super().__init__(name, **kw)

    async def _one_request(self, c, conn_id, seq):
        send = c.send
        first = True

        async def delayed_send(data):
            nonlocal first
            if first:
                first = False
                await asyncio.sleep(self.delay_s)
            await send(data)

        c.send = delayed_send
        try:
            return await super()._one_request(c, conn_id, seq)
        finally:
            c.send = send


# ---- load ------------------------------------------------------------------

async def _conn_loop(port, jobs, out, headers_of, path="/r"):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        while jobs:
            i = jobs.pop()
            extra = "".join("%s: %s\r\n" % h for h in headers_of(i))
            w.write(("GET %s%d HTTP/1.1\r\nHost: t\r\n%s\r\n" % (path, i, extra)).encode())
            head = await r.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            hdrs = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
            await r.readexactly(int(hdrs.get("content-length", "0")))
            out.append((i, status, hdrs.get("x-origin")))
    finally:
        w.close()


def run_load(port, n, conns=8, headers_of=lambda i: (), timeout=60, path="/r"):
    """Sends requests 0..n-1 over `conns` keep-alive connections; returns
    [(i, status, origin name)]."""
    jobs = list(range(n - 1, -1, -1))
    out = []

    async def main():
        await asyncio.wait_for(
            asyncio.gather(*[_conn_loop(port, jobs, out, headers_of, path)
                             for _ in range(conns)]),
            timeout)

    asyncio.run(main())
    return out


def run_for(port, seconds, conns=8):
    """Like run_load, for a duration instead of a count."""
    out = []
    stop = time.monotonic() + seconds

    class Jobs(list):
        def __bool__(self):
            return time.monotonic() < stop

        def pop(self):
            return len(out)

    async def main():
        jobs = Jobs()
        await asyncio.gather(*[_conn_loop(port, jobs, out, lambda i: ()) for _ in range(conns)])

    asyncio.run(main())
    return out


def shares(results, names):
    assert all(st == 200 for _, st, _ in results), \
        "non-200 answers: %r" % [r for r in results if r[1] != 200][:5]
    total = len(results)
    return {n: sum(1 for _, _, o in results if o == n) / total for n in names}


def config(port, origins, balance, weights=None, workers=1, extra=""):
    servers = [(o.name, o.addr, (weights[i] if weights else 0)) for i, o in enumerate(origins)]
    be = backend_block("app", servers, extra=extra).replace("balance roundrobin",
                                                              "balance %s" % balance)
    return global_block(workers) + frontend_block(port) + be


ALGOS = ["roundrobin", "leastconn", "random", "random(3)", "ewma", "hash(header(X-User))"]


# ---- weights ---------------------------------------------------------------

# The small run stays in the suite; the 3,000-request one is a soak test
# (make soak).  With n requests a share drawn at random has a standard
# deviation up to sqrt(0.25 / n): 0.02 at 600, 0.009 at 3,000; the
# tolerances are about 4 of them, plus the systematic error of ewma below.
SOAK_N = 1500 if ASAN else 3000
DIST_SIZES = [pytest.param(600, id="600"),
              pytest.param(SOAK_N, id=str(SOAK_N), marks=pytest.mark.soak)]


@pytest.mark.parametrize("n", DIST_SIZES)
@pytest.mark.parametrize("balance", ALGOS)
def test_distribution_follows_weights(gatehouse, make_origin, port, balance, n):
    origins = [make_origin("w%d" % i) for i in range(1, 4)]
    weights = [1, 2, 3]
    g = gatehouse(config(port, origins, balance, weights))
    rnd = random.Random(7)
    users = ["user-%d" % rnd.getrandbits(48) for _ in range(n)]
    # Every answer takes 30 ms, so the origins' own processing time (which
    # grows with the share a heavier weight sends them: each origin is one
    # Python thread) stays small next to it; 24 connections keep ~24
    # requests in flight for the load-aware algorithms to weigh.
    res = run_load(g.port, n, conns=24, path="/delay/30?r=",
                   headers_of=lambda i: [("X-User", users[i])])
    got = shares(res, [o.name for o in origins])
    want = {o.name: w / 6.0 for o, w in zip(origins, weights)}
    # The origins agree with the X-Origin headers.
    assert sum(len(o.stats.requests) for o in origins) == n
    for o in origins:
        assert len(o.stats.requests) == round(got[o.name] * n)
    if balance == "roundrobin":
        # Smooth weighted round robin on one worker: exact in every 6 picks.
        assert [len(o.stats.requests) for o in origins] == [n // 6 * w for w in weights]
    if balance == "ewma":
        # ewma follows measured latency first (peak EWMA: one slow answer
        # counts at once), and the origin taking half the traffic is one
        # Python thread answering three times as often: on a loaded machine
        # its peaks, not the weights, decide (loaded runs saw 0.24/0.48/0.28 and
        # 0.30/0.36/0.34 for weights 1/2/3).  Here only that every origin
        # gets a share and none takes it all; the unit tests (test_lb)
        # check the split follows the weights when latencies are equal.
        assert all(0.10 <= v <= 0.70 for v in got.values()), got
        return
    tol = 0.04 + (0.01 if ASAN else 0)
    if n < SOAK_N:
        tol += 0.04
    assert all(abs(got[k] - want[k]) <= tol for k in want), (got, want)


# ---- a slow origin ---------------------------------------------------------

# The slow origin's share under a load-aware algorithm is about the ratio of
# the fast origins' response time to the slow one's.  A busy machine (or an
# ASan build) makes the fast ones slower, so the slow one's delay is scaled
# by SLACK too, which keeps that ratio and the < 0.06 bound meaningful.
SLOW_MS = 100 * SLACK


@pytest.mark.parametrize("balance,limit", [
    ("leastconn", 0.06),
    ("ewma", 0.06),
    ("random", 0.20),   # only its two draws are weighed: about 1/9 here
])
def test_slow_origin_gets_less_traffic(gatehouse, make_origin, port, balance, limit):
    fast = [make_origin("f1"), make_origin("f2")]
    slow = DelayedOrigin("slow", SLOW_MS)
    try:
        origins = fast + [slow]
        g = gatehouse(config(port, origins, balance))
        res = run_for(g.port, 2.0 * SLACK, conns=8)
        got = shares(res, [o.name for o in origins])
        # Round robin would give it a third; it is 100 ms slower than ~1 ms.
        assert got["slow"] < limit, got
        assert got["slow"] * 3 < min(got["f1"], got["f2"]), got
        assert got["slow"] > 0 or balance == "ewma", got
    finally:
        slow.close()


def test_roundrobin_ignores_a_slow_origin(gatehouse, make_origin, port):
    """The control of the test above: same setup, a third each."""
    fast = [make_origin("f1"), make_origin("f2")]
    slow = DelayedOrigin("slow", 50)
    try:
        origins = fast + [slow]
        g = gatehouse(config(port, origins, "roundrobin"))
        got = shares(run_for(g.port, 1.0 * SLACK, conns=8), [o.name for o in origins])
        assert all(abs(v - 1 / 3.0) < 0.02 for v in got.values()), got
    finally:
        slow.close()


# ---- hash: stickiness ------------------------------------------------------

def test_hash_header_is_sticky(gatehouse, make_origin, port):
    origins = [make_origin("h%d" % i) for i in range(1, 4)]
    g = gatehouse(config(port, origins, "hash(header(X-User))"))
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
             "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
             "victor", "walter", "zoe"]

    def where(conns, rounds, path="/r"):
        res = run_load(g.port, len(users) * rounds, conns=conns, path=path,
                       headers_of=lambda i: [("X-User", users[i % len(users)])])
        seen = {}
        for i, st, o in res:
            assert st == 200
            seen.setdefault(users[i % len(users)], []).append(o)
        return seen

    # One request at a time: a user always lands on the same server, and
    # the users are spread over all three.
    seen = where(1, 5)
    assert all(len(set(v)) == 1 for v in seen.values()), seen
    home = {u: v[0] for u, v in seen.items()}
    assert set(home.values()) == {"h1", "h2", "h3"}

    # Concurrent requests: bounded loads (125%) move a request only when
    # its server already has its cap in flight (2 of 4 here).  How often
    # that happens depends on how much the four connections overlap: even
    # with all four always in flight, two of the other three land on a
    # request's home about 26% of the time, so about 74% stay home, and a
    # busy machine gets close to that (71% was seen under load).  A hash
    # that ignored the key, or moved requests without need, would give a
    # third.
    seen = where(4, 20)
    at_home = sum(1 for u, v in seen.items() for o in v if o == home[u])
    assert at_home >= 0.55 * len(users) * 20, (at_home, seen)

    # One hot user on 9 connections of 20 ms requests: its server takes at
    # most ceil(1.25 * 9 / 3) = 4 of them at once, the rest spills to the
    # next servers on the ring instead of queueing there.
    for o in origins:
        o.stats.reset()
    res = run_load(g.port, 90, conns=9, path="/delay/20?r=",
                   headers_of=lambda i: [("X-User", "alice")])
    per = {o.name: len(o.stats.requests) for o in origins}
    most = {o.name: o.stats.max_delaying for o in origins}
    # The cap itself, as the origins saw it (the next server on the ring
    # takes about as many as home, so which of the two got more is chance).
    assert most[home["alice"]] <= 4, (most, per)
    assert per[home["alice"]] >= 0.25 * 90, per
    assert per[home["alice"]] <= 0.6 * 90, per
    assert sum(1 for v in per.values() if v) >= 2, per

    # No X-User header: round robin over all three.
    res = run_load(g.port, 30, conns=1)
    assert {o for _, _, o in res} == {"h1", "h2", "h3"}


def test_hash_on_cookie_survives_a_restart(gatehouse, make_origin, port):
    origins = [make_origin("c%d" % i) for i in range(1, 4)]
    cfg = config(port, origins, "hash(cookie(sid))")
    sids = ["s%03d" % i for i in range(30)]

    def where():
        res = run_load(port, len(sids), conns=1,
                       headers_of=lambda i: [("Cookie", "theme=dark; sid=%s" % sids[i])])
        return {sids[i]: o for i, _, o in res}

    g = gatehouse(cfg)
    first = where()
    g.stop()
    gatehouse(cfg, name="again")
    assert where() == first
    assert len(set(first.values())) == 3


# ---- workers 2 -------------------------------------------------------------

def assert_rotation(res, origins):
    """Requests sent one at a time, all servers tied at zero in flight: the
    tie is shared by the worker's smooth weighted round robin, so past its
    first two picks every three consecutive requests go to three different
    servers.  The first two are free because the rotation's position is the
    worker's own and carries over from earlier picks among only two tied
    servers (CI saw [199, 200, 201] when the exact split was asserted); from
    any position the rotation can reach, the split is within two whatever n
    (a simulation of every such position says so).  A tie always
    going to the first server, or a server skipped because its count never
    came home, breaks the rotation at once."""
    seq = [o for _, _, o in res]
    names = {o.name for o in origins}
    for j in range(2, len(seq) - 2):
        assert set(seq[j:j + 3]) == names, (j, seq[max(0, j - 6):j + 9])
    counts = sorted(o.stats.heads for o in origins)
    assert counts[-1] - counts[0] <= 2, [o.stats.heads for o in origins]


@pytest.mark.parametrize("n", DIST_SIZES)
def test_leastconn_with_two_workers(gatehouse, make_origin, port, n):
    """In-flight counts are process-wide: long requests arriving through
    either worker thread spread evenly, and a slow origin is avoided."""
    origins = [make_origin("t%d" % i) for i in range(1, 4)]
    g = gatehouse(config(port, origins, "leastconn", workers=2))

    async def hold(k):
        conns = []
        for i in range(k):
            r, w = await asyncio.open_connection("127.0.0.1", g.port)
            conns.append((r, w))
        for i, (r, w) in enumerate(conns):
            w.write(b"GET /delay/3000 HTTP/1.1\r\nHost: t\r\n\r\n")
            await w.drain()
            # One at a time: the next pick sees this one in flight.
            while sum(o.stats.heads for o in origins) < i + 1:
                await asyncio.sleep(0.005)
            counts = sorted(o.stats.heads for o in origins)
            assert counts[-1] - counts[0] <= 1, [o.stats.heads for o in origins]
        for r, w in conns:
            await r.readuntil(b"\r\n\r\n")
            w.close()

    def settle_then_reset():
        # A client can have its answer a moment before the worker gives the
        # server's count back.  A few requests one at a time let every count
        # in flight come home; a count leaked for good still keeps its server
        # out of every tie of the rotation that follows.
        run_load(g.port, 6, conns=1)
        for o in origins:
            o.stats.reset()

    # 12 long requests over 12 connections (which land on either worker):
    # four per origin.  Per-thread counts would give each worker its own
    # rotation and, unless both saw a multiple of three, 5/4/3 or worse.
    asyncio.run(asyncio.wait_for(hold(12), 15 * SLACK))
    assert [o.stats.heads for o in origins] == [4, 4, 4]

    # One request at a time: every server is tied at zero in flight, and the
    # tie is shared in rotation, so the split is exact (a tie always going to
    # the first server would send it everything).
    settle_then_reset()
    assert_rotation(run_load(g.port, n, conns=1), origins)

    # Concurrent load over eight connections through both workers, then one
    # request at a time again.  How the eight spread depends on how fast each
    # origin answers (each is a Python thread, and one can lose the GIL for a
    # while; leastconn rightly avoids it then), so their shares are not
    # checked.  What must hold is that every count taken under contention was
    # given back: a server left with a count above zero is never tied at the
    # lowest again, and the exact rotation below would skip it.
    res = run_load(g.port, n, conns=8)
    assert sorted(st for _, st, _ in res) == [200] * n
    settle_then_reset()
    assert_rotation(run_load(g.port, n, conns=1), origins)


def test_leastconn_two_workers_avoids_slow_origin(gatehouse, make_origin, port):
    fast = [make_origin("f1"), make_origin("f2")]
    slow = DelayedOrigin("slow", SLOW_MS)
    try:
        origins = fast + [slow]
        g = gatehouse(config(port, origins, "leastconn", workers=2))
        got = shares(run_for(g.port, 2.0 * SLACK, conns=8), [o.name for o in origins])
        assert 0 < got["slow"] < 0.06, got
    finally:
        slow.close()


def test_retry_goes_elsewhere_with_every_algorithm(gatehouse, make_origin, port):
    """A server that refuses connections is skipped by a retry, whatever
    the algorithm (the retry's pick avoids the server it leaves)."""
    from ghutil import free_port
    dead = "127.0.0.1:%d" % free_port()
    live = make_origin("live")
    for k, balance in enumerate(ALGOS):
        p = port if k == 0 else free_port()
        cfg = (global_block(1) + frontend_block(p)
               + "backend app {\n    balance %s\n    retries 2\n"
                 "    server dead %s\n    server live %s\n}\n" % (balance, dead, live.addr))
        g = gatehouse(cfg, name="g%d" % k)
        res = run_load(p, 20, conns=2, headers_of=lambda i: [("X-User", "u%d" % i)])
        assert [st for _, st, _ in res] == [200] * 20, (balance, res)
        g.stop()
