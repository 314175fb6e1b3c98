"""Logging never stalls traffic.

stderr is often a pipe (journald, a container runtime, a log shipper), and
whoever reads it can stop.  gatehouse must go on serving: log lines wait in
a bounded buffer, the excess is dropped and counted, and the count shows up
once the reader is back.
"""

import os
import subprocess
import threading
import time

import pytest

import httpraw
import ghutil
from ghutil import SLACK, simple_http_config, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse's own logging")


def pipelined(port, n, batch=500):
    """n GETs on one keep-alive connection, `batch` at a time; statuses."""
    out = []
    s = httpraw.connect(port, timeout=10)
    try:
        rd = httpraw.Reader(s)
        while len(out) < n:
            k = min(batch, n - len(out))
            s.sendall(b"".join(httpraw.build_request("GET", "/echo?i=%d" % (len(out) + i))
                               for i in range(k)))
            out += [rd.read_response().status for _ in range(k)]
    finally:
        s.close()
    return out


def start_on_pipe(config, port, tmp_path):
    """gatehouse -d with stdout and stderr into a pipe nobody reads yet;
    returns (process, read end), once it listens."""
    conf = tmp_path / "g.conf"
    conf.write_text(config)
    r, w = os.pipe()
    p = subprocess.Popen([ghutil.gatehouse_bin(), "-d", "-c", str(conf)],
                         stdin=subprocess.DEVNULL, stdout=w, stderr=w)
    os.close(w)
    try:
        wait_for(lambda: port in ghutil.listening_ports() or p.poll() is not None, 10,
                 what="gatehouse listening")
    except BaseException:
        p.kill()
        p.wait()
        os.close(r)
        raise
    return p, r


def test_stalled_log_reader_does_not_stall_traffic(origin, port, tmp_path):
    p, r = start_on_pipe(simple_http_config(port, [origin.addr]), port, tmp_path)
    got, t = [], None
    try:
        assert p.poll() is None
        # Nobody reads the pipe (64 KiB).  `-d` logs a line per request, so
        # these requests log far more than the pipe and the 1 MiB buffer
        # hold; with a blocking write the worker would hang on the first
        # full pipe and so would every request after it.
        t0 = time.monotonic()
        statuses = pipelined(port, 20000)
        took = time.monotonic() - t0
        assert statuses == [200] * 20000
        assert took < 30 * SLACK, "20000 requests took %.1fs" % took

        # The reader comes back: lines are whole, the drops are counted.
        def drain():
            while True:
                d = os.read(r, 65536)
                if not d:
                    return
                got.append(d)

        t = threading.Thread(target=drain, daemon=True)
        t.start()
        wait_for(lambda: b"dropped" in b"".join(got), 10 * SLACK, 0.05,
                 what="the dropped-lines count")
        assert httpraw.request(port, "GET", "/echo?after=1").status == 200
    finally:
        p.terminate()
        try:
            p.wait(10 * SLACK)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if t:
            t.join(5)   # the rest of the output, up to the pipe's end
        os.close(r)
    text = b"".join(got).decode(errors="replace")
    assert "Sanitizer" not in text and "runtime error" not in text, text[-3000:]
    lines = text.splitlines()
    dropped = [ln for ln in lines if "log output too slow" in ln]
    assert dropped and "[warn] log output too slow:" in dropped[0], dropped[:3]
    n = int(dropped[0].split("slow: ")[1].split()[0])
    assert n > 0
    # every line is whole: a timestamp and a level, never a torn fragment
    assert all(ln[:4].isdigit() and "Z [" in ln[:40] for ln in lines), \
        [ln for ln in lines if not (ln[:4].isdigit() and "Z [" in ln[:40])][:3]
    assert "stopped" in lines[-1]


def test_stalled_log_reader_does_not_block_exit(origin, port, tmp_path):
    """SIGTERM with the log pipe still stalled: gatehouse gives its log
    writer a few seconds, then exits anyway (no hang at stop)."""
    p, r = start_on_pipe(simple_http_config(port, [origin.addr], drain="1s"), port, tmp_path)
    try:
        assert pipelined(port, 3000) == [200] * 3000   # fills the pipe
        t0 = time.monotonic()
        p.terminate()
        rc = p.wait(20 * SLACK)
        took = time.monotonic() - t0
        assert rc == 0
        assert took < 6 * SLACK, "exit took %.1fs" % took
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)
