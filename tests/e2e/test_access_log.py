"""Access logs and request ids (`access_log`, `request_id header`).

One line per request, in combined or JSON, with the fields checked against
the traffic the test sent and the origin saw; JSON lines stay valid JSON
whatever a client sends; a request id is forwarded to the server and
returned to the client (a client's valid one kept, an invalid one
replaced); SIGUSR1 reopens a file renamed by logrotate.

The format of both line kinds is documented in src/log/access_log.h.
"""

import json
import os
import re
import signal
import socket
import threading
import time

import pytest

import httpraw
import ghutil
from ghutil import SLACK, backend_block, frontend_block, global_block, run_cli, wait_for

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse's own log format")

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# combined: the Apache/nginx prefix, then the extra fields (access_log.h)
COMBINED_RE = re.compile(
    r'^(?P<client>\S+) - - \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d+) '
    r'(?P<bytes_out>\d+) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<host>[^"]*)" '
    r'(?P<bytes_in>\d+) (?P<frontend>\S+) (?P<backend>\S+) (?P<server>\S+) '
    r'(?P<t_queue>\S+) (?P<t_connect>\S+) (?P<t_ttfb>\S+) (?P<t_total>\S+) '
    r'(?P<retries>\d+) (?P<term>\S+) "(?P<request_id>[^"]*)" (?P<tls_version>\S+) '
    r'"(?P<sni>[^"]*)"$')

JSON_KEYS = ["time", "client", "client_port", "method", "target", "protocol", "status",
             "bytes_in", "bytes_out", "referer", "user_agent", "host", "frontend", "backend",
             "server", "t_queue_ms", "t_connect_ms", "t_ttfb_ms", "t_total_ms", "retries",
             "term", "request_id", "tls_version", "sni"]


def config(port, servers, log_path, fmt="json", fe_extra="", be_extra=""):
    fe = "access_log %s format %s\nrequest_id header X-Request-Id\n%s" % (log_path, fmt, fe_extra)
    return (global_block(1)
            + frontend_block(port, "app", "http", fe)
            + backend_block("app", servers, "http", be_extra))


def log_lines(path, n, timeout=5.0):
    """The first n lines of the log, once there are n (lines arrive through
    the writer thread, a moment after the response)."""
    def ready():
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        lines = data.split(b"\n")
        return lines[:n] if len(lines) > n else None
    return wait_for(ready, timeout * SLACK, what="%d access log line(s) in %s" % (n, path))


def json_lines(path, n):
    out = []
    for raw in log_lines(path, n):
        obj = json.loads(raw.decode("utf-8"))   # strict: must be UTF-8 and valid JSON
        assert list(obj) == JSON_KEYS, "keys or their order changed: %r" % list(obj)
        out.append(obj)
    return out


def request_bytes(method, target, headers, body=b""):
    return httpraw.build_request(method, target, headers, body)


def send(port, data):
    """Sends one raw request (Connection: close inside); returns the Response."""
    s = httpraw.connect(port)
    try:
        s.sendall(data)
        return httpraw.Reader(s).read_response()
    finally:
        s.close()


def check_timings(t_queue, t_connect, t_ttfb, t_total):
    for v in (t_queue, t_connect, t_ttfb):
        assert v is None or v >= 0
    assert t_total is not None and t_total >= 0
    if t_ttfb is not None:
        assert t_total >= t_ttfb


# ---- fields -----------------------------------------------------------------------

def test_json_fields_match_the_traffic(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    req = request_bytes("GET", "/echo?x=1", [("User-Agent", "e2e/1.0"),
                                             ("Referer", "http://ref.example/"),
                                             ("Connection", "close")])
    before = time.time()
    r = send(port, req)
    assert r.status == 200
    [e] = json_lines(log, 1)
    assert e["method"] == "GET" and e["target"] == "/echo?x=1" and e["protocol"] == "HTTP/1.1"
    assert e["status"] == 200
    assert e["bytes_in"] == len(req)
    assert e["bytes_out"] == len(r.raw_head) + len(r.body)
    assert e["client"] == "127.0.0.1" and isinstance(e["client_port"], int)
    assert e["user_agent"] == "e2e/1.0" and e["referer"] == "http://ref.example/"
    assert e["host"] == "test.local"
    assert (e["frontend"], e["backend"], e["server"]) == ("web", "app", "s1")
    assert e["retries"] == 0 and e["term"] is None
    assert e["tls_version"] is None and e["sni"] is None
    check_timings(e["t_queue_ms"], e["t_connect_ms"], e["t_ttfb_ms"], e["t_total_ms"])
    assert e["t_ttfb_ms"] is not None
    t = time.mktime(time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 2 <= t <= time.time() + 1
    # the request id: generated, forwarded, returned, logged
    rid = r.header("X-Request-Id")
    assert rid and UUID_RE.match(rid)
    got = [v for k, v in origin.stats.requests[-1]["headers"] if k.lower() == "x-request-id"]
    assert got == [rid]
    assert e["request_id"] == rid


def test_combined_fields_match_the_traffic(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    gatehouse(config(port, [origin.addr], log, fmt="combined"))
    req = request_bytes("POST", "/echo", [("User-Agent", "e2e/1.0"), ("Connection", "close")],
                        body=b"x" * 1000)
    r = send(port, req)
    assert r.status == 200
    [raw] = log_lines(log, 1)
    m = COMBINED_RE.match(raw.decode("ascii"))
    assert m, "not a combined line: %r" % raw
    f = m.groupdict()
    assert f["client"] == "127.0.0.1"
    assert re.match(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$", f["time"])
    assert f["request"] == "POST /echo HTTP/1.1"
    assert int(f["status"]) == 200
    assert int(f["bytes_out"]) == len(r.raw_head) + len(r.body)
    assert int(f["bytes_in"]) == len(req)
    assert f["referer"] == "-" and f["user_agent"] == "e2e/1.0" and f["host"] == "test.local"
    assert (f["frontend"], f["backend"], f["server"]) == ("web", "app", "s1")
    ms = [None if f[k] == "-" else float(f[k]) for k in ("t_queue", "t_connect", "t_ttfb",
                                                          "t_total")]
    for k in ("t_queue", "t_connect", "t_ttfb", "t_total"):
        assert f[k] == "-" or re.match(r"^\d+\.\d{3}$", f[k]), f[k]
    check_timings(*ms)
    assert f["retries"] == "0" and f["term"] == "-"
    assert f["request_id"] == r.header("X-Request-Id") and UUID_RE.match(f["request_id"])
    assert f["tls_version"] == "-" and f["sni"] == "-"


def test_one_line_per_request_on_keep_alive(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    s = httpraw.connect(port)
    rd = httpraw.Reader(s)
    for i in range(5):
        s.sendall(httpraw.build_request("GET", "/echo?i=%d" % i))
        assert rd.read_response().status == 200
    s.close()
    lines = json_lines(log, 5)
    assert [e["target"] for e in lines] == ["/echo?i=%d" % i for i in range(5)]
    assert len({e["request_id"] for e in lines}) == 5


# ---- request ids --------------------------------------------------------------------

def test_client_request_id_kept_when_valid(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    mine = "trace-0123456789abcdef:span_01.x~y+z/w="
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Request-Id", mine)])
    assert r.status == 200 and r.header("X-Request-Id") == mine
    got = [v for k, v in origin.stats.requests[-1]["headers"] if k.lower() == "x-request-id"]
    assert got == [mine]
    [e] = json_lines(log, 1)
    assert e["request_id"] == mine


@pytest.mark.parametrize("bad", ["has space", 'quote"', "x" * 129, "semi;colon", "caf\xe9"])
def test_client_request_id_replaced_when_invalid(gatehouse, origin, port, tmp_path, bad):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    r = httpraw.request(port, "GET", "/echo", headers=[("X-Request-Id", bad)])
    assert r.status == 200
    rid = r.header("X-Request-Id")
    assert rid != bad and UUID_RE.match(rid)
    got = [v for k, v in origin.stats.requests[-1]["headers"] if k.lower() == "x-request-id"]
    assert got == [rid], "the invalid id must be replaced, not forwarded: %r" % got
    [e] = json_lines(log, 1)
    assert e["request_id"] == rid


# ---- termination causes -----------------------------------------------------------------

def test_term_client_timeout(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log, fe_extra="timeout header 300ms"))
    s = httpraw.connect(port)
    s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")   # never finished
    httpraw.drain(s, timeout=3 * SLACK)
    s.close()
    [e] = json_lines(log, 1)
    assert e["term"] == "client-timeout"
    assert e["server"] is None
    assert e["t_total_ms"] >= 250


class ResettingServer:
    """Accepts, reads a request head, and resets the connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.accepts = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepts += 1
            c.settimeout(2)
            try:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        break
                    buf += d
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()

    def close(self):
        self.sock.close()


def test_term_server_reset(gatehouse, port, tmp_path):
    rs = ResettingServer()
    try:
        log = tmp_path / "access.json"
        gatehouse(config(port, [rs.addr], log, be_extra="retries 1"))
        r = httpraw.request(port, "GET", "/reset")
        assert r.status == 502
        [e] = json_lines(log, 1)
        assert e["status"] == 502
        assert e["term"] == "server-reset"
        assert e["retries"] == 1          # a GET is replayed once, then fails
        assert e["server"] == "s1" and e["t_ttfb_ms"] is None
        assert e["bytes_out"] == len(r.raw_head) + len(r.body)
    finally:
        rs.close()


def test_term_normal_is_null_and_dash(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    assert httpraw.request(port, "GET", "/status/404").status == 404
    [e] = json_lines(log, 1)
    assert e["status"] == 404 and e["term"] is None


# ---- hostile input --------------------------------------------------------------------

HOSTILE_VALUES = [
    b'quote " and backslash \\ and both \\"',
    b"latin-1 caf\xe9 and utf-8 caf\xc3\xa9",
    b"overlong \xc0\xaf \xe0\x80\xaf surrogate \xed\xa0\x80 big \xf4\x90\x80\x80",
    b"cut \xe2\x82",
    b"\xff\xfe\xfd",
    b"del \x7f and tab\tin",
    b"{\"json\": [1,2]}",
]


def test_json_stays_valid_with_hostile_headers(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    for v in HOSTILE_VALUES:
        data = (b"GET /echo HTTP/1.1\r\nHost: h\r\nUser-Agent: " + v + b"\r\nReferer: " + v
                + b"\r\nConnection: close\r\n\r\n")
        send(port, data)
    lines = json_lines(log, len(HOSTILE_VALUES))
    assert lines[0]["user_agent"] == 'quote " and backslash \\ and both \\"'
    assert lines[1]["user_agent"] == "latin-1 caf\ufffd and utf-8 caf\xe9"
    assert lines[2]["user_agent"] == ("overlong \ufffd\ufffd \ufffd\ufffd\ufffd surrogate "
                                      "\ufffd\ufffd\ufffd big \ufffd\ufffd\ufffd\ufffd")
    assert lines[3]["user_agent"] == "cut \ufffd\ufffd"
    assert lines[4]["user_agent"] == "\ufffd\ufffd\ufffd"
    # DEL is no field-vchar (RFC 9110 5.5): the parser refuses the request,
    # and a refused head is logged without its fields
    assert lines[5]["status"] == 400 and lines[5]["term"] == "client-error"
    assert lines[5]["user_agent"] is None
    assert lines[6]["referer"] == '{"json": [1,2]}'


def test_json_stays_valid_with_hostile_targets(gatehouse, origin, port, tmp_path):
    """Targets the parser refuses are logged too (400, client-error); every
    line must still parse."""
    log = tmp_path / "access.json"
    gatehouse(config(port, [origin.addr], log))
    targets = [b'/q"uote', b"/back\\slash", b"/bin\xff\xc0\xaf", b"/%22%5C%00", b"/ctl\x01",
               b"/" + b"a" * 7000]
    for t in targets:
        try:
            send(port, b"GET " + t + b" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        except (httpraw.ProtocolError, OSError):
            pass
    lines = json_lines(log, len(targets))
    for e, t in zip(lines, targets):
        if e["target"] is not None and e["status"] != 400:
            assert e["target"] == t.decode("ascii")
    assert lines[3]["target"] == "/%22%5C%00"


def test_combined_escapes_quotes_and_bytes(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    gatehouse(config(port, [origin.addr], log, fmt="combined"))
    send(port, b"GET /echo HTTP/1.1\r\nHost: h\r\nUser-Agent: a\"b\\c\xe9\r\n"
               b"Connection: close\r\n\r\n")
    [raw] = log_lines(log, 1)
    assert all(0x20 <= b < 0x7f for b in raw), raw
    m = COMBINED_RE.match(raw.decode("ascii"))
    assert m, raw
    assert m.group("user_agent") == "a\\x22b\\x5Cc\\xE9"


# ---- logrotate ---------------------------------------------------------------------------

def test_sigusr1_reopens_after_rename(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.json"
    g = gatehouse(config(port, [origin.addr], log))
    assert httpraw.request(port, "GET", "/echo?n=1").status == 200
    json_lines(log, 1)
    rotated = tmp_path / "access.json.1"
    os.rename(log, rotated)
    assert httpraw.request(port, "GET", "/echo?n=2").status == 200   # still the old file
    g.signal(signal.SIGUSR1)
    wait_for(lambda: "SIGUSR1: reopening access log files" in g.stderr_text(), 5 * SLACK,
             what="the SIGUSR1 log line")
    wait_for(lambda: os.path.exists(log), 5 * SLACK, what="a new access log file")
    assert httpraw.request(port, "GET", "/echo?n=3").status == 200
    [new] = json_lines(log, 1)
    assert new["target"] == "/echo?n=3"
    old = json_lines(rotated, 2)
    assert [e["target"] for e in old] == ["/echo?n=1", "/echo?n=2"]
    assert g.alive()


# ---- configuration ---------------------------------------------------------------------

def test_check_reports_missing_log_directory(tmp_path, port):
    conf = tmp_path / "g.conf"
    conf.write_text(global_block(1)
                    + frontend_block(port, "app", "http", "access_log nodir/access.log")
                    + backend_block("app", ["127.0.0.1:9"]))
    p = run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 1
    err = p.stderr.decode()
    want = ("%s:8:16: error: access log '%s/nodir/access.log': directory '%s/nodir' does not "
            "exist" % (conf, tmp_path, tmp_path))
    assert want in err, err
    os.mkdir(tmp_path / "nodir")
    p = run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 0 and b"configuration OK" in p.stdout
    assert not os.path.exists(tmp_path / "nodir" / "access.log"), "-t must not create the log"


def test_check_reports_bad_format_word(tmp_path, port):
    conf = tmp_path / "g.conf"
    conf.write_text(global_block(1)
                    + frontend_block(port, "app", "http", "access_log stdout format xml")
                    + backend_block("app", ["127.0.0.1:9"]))
    p = run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 1
    assert ("%s:8:30: error: unknown access log format 'xml'; expected one of: combined, json"
            % conf) in p.stderr.decode()
