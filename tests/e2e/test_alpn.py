"""ALPN on TLS binds, and the configuration of HTTP/2 (`proto`, `h2_*`).

A bind of an http frontend offers h2 and http/1.1 by default (server
preference: h2 wins when the client offers both), http/1.1 only with
`proto h1`, h2 only with `proto h2`; `alpn LIST` written on the bind
replaces the list. Only the negotiation is checked here: what is spoken
after h2 is negotiated belongs to the HTTP/2 codec's tests. A client that
negotiates http/1.1, or offers no ALPN at all, is served HTTP/1.1.

The second half is `gatehouse -t` on bad `proto` and `h2_*` values:
FILE:LINE:COL and a non-zero exit, as test_cli.py checks the others.
"""

import re
import shutil
import socket
import ssl
import subprocess

import pytest

import ghutil
import httpraw
from ghutil import SLACK, global_block, run_cli

OPENSSL = shutil.which("openssl")

pytestmark = [
    pytest.mark.skipif(not OPENSSL, reason="needs the openssl CLI"),
    pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="TLS configs are not translated to HAProxy"),
]


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate + key for a.example.com, in one PEM."""
    d = tmp_path_factory.mktemp("alpn-pki")
    key, crt = str(d / "a.key"), str(d / "a.crt")
    p = subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=a.example.com",
                        "-addext", "subjectAltName=DNS:a.example.com"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    pem = str(d / "a.pem")
    with open(pem, "w") as f:
        f.write(open(crt).read() + open(key).read())
    return pem


def config(port, origin_addr, bind_opts, mode="http"):
    return (global_block()
            + "frontend web {\n    bind 127.0.0.1:%d %s\n    mode %s\n"
              "    timeout header 2s\n    default_backend app\n}\n" % (port, bind_opts, mode)
            + "backend app {\n    mode %s\n    server s1 %s\n}\n" % (mode, origin_addr))


def sclient(port, *args, timeout=10):
    """openssl s_client against 127.0.0.1:port; returns its output."""
    return ghutil.s_client(port, ("-servername", "a.example.com", *args), timeout=timeout)[1]


def negotiated(port, offer):
    """What `openssl s_client -alpn OFFER` reports: the protocol, or None."""
    out = sclient(port, "-alpn", offer)
    m = re.search(r"^ALPN protocol: (\S+)$", out, re.M)
    if m:
        return m.group(1)
    assert "No ALPN negotiated" in out, out[-1500:]
    return None


def tls_get(port, alpn, path="/echo"):
    """One HTTP/1.1 request over TLS offering `alpn` (None: no ALPN
    extension); returns (selected protocol, Response)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5 * SLACK)
    with ctx.wrap_socket(raw, server_hostname="a.example.com") as s:
        s.sendall(httpraw.build_request("GET", path, [("Connection", "close")]))
        return s.selected_alpn_protocol(), httpraw.Reader(s).read_response()


# ---- negotiation ------------------------------------------------------------------

def test_default_offers_h2_first(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "tls cert %s" % cert))
    assert negotiated(port, "h2,http/1.1") == "h2"
    # the server's order wins over the client's
    assert negotiated(port, "http/1.1,h2") == "h2"
    assert negotiated(port, "h2") == "h2"
    assert negotiated(port, "http/1.1") == "http/1.1"
    assert negotiated(port, "spdy/3") is None


def test_http11_negotiated_is_served(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "tls cert %s" % cert))
    proto, r = tls_get(port, ["http/1.1"])
    assert proto == "http/1.1"
    assert (r.version, r.status) == ("HTTP/1.1", 200)
    assert r.json()["target"] == "/echo"
    # a client that offers no ALPN speaks HTTP/1.1 and is served
    proto, r = tls_get(port, None, "/echo?noalpn=1")
    assert proto is None
    assert r.status == 200 and r.json()["target"] == "/echo?noalpn=1"


def test_proto_auto_written_is_the_default(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "proto auto tls cert %s" % cert))
    assert negotiated(port, "h2,http/1.1") == "h2"


def test_proto_h1_never_negotiates_h2(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "proto h1 tls cert %s" % cert))
    assert negotiated(port, "h2,http/1.1") == "http/1.1"
    assert negotiated(port, "h2") is None
    proto, r = tls_get(port, ["h2", "http/1.1"])
    assert proto == "http/1.1" and r.status == 200


def test_proto_h2_offers_h2_only(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "tls cert %s proto h2c" % cert))
    assert negotiated(port, "h2,http/1.1") == "h2"
    assert negotiated(port, "http/1.1") is None


def test_explicit_alpn_wins(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "tls cert %s alpn http/1.1" % cert))
    assert negotiated(port, "h2,http/1.1") == "http/1.1"
    assert negotiated(port, "h2") is None


def test_explicit_alpn_order_is_server_preference(gatehouse, origin, port, cert):
    gatehouse(config(port, origin.addr, "tls cert %s alpn http/1.1,h2" % cert))
    assert negotiated(port, "h2,http/1.1") == "http/1.1"
    assert negotiated(port, "h2") == "h2"


def test_tcp_mode_has_no_alpn(gatehouse, make_echo, port, cert):
    e = make_echo()
    gatehouse(config(port, e.addr, "tls cert %s" % cert, mode="tcp"))
    assert negotiated(port, "h2,http/1.1") is None


# ---- configuration errors (gatehouse -t) ----------------------------------------------

def check_conf(tmp_path, text, name="t"):
    f = tmp_path / ("%s.conf" % name)
    f.write_text(text)
    p = run_cli(["-t", "-c", str(f)])
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def fe(bind_opts="", extra="", mode="http"):
    # line 1: frontend, 2: bind, 3: mode, 4: extra (if any)
    lines = ["frontend web {", "    bind 127.0.0.1:8080 %s" % bind_opts, "    mode %s" % mode]
    lines += ["    " + extra] if extra else []
    lines += ["    default_backend app", "}",
              "backend app {", "    mode %s" % mode, "    server a 127.0.0.1:9001", "}"]
    return "\n".join(lines) + "\n"


# (name, config, line, where on the line: the token the error points at,
#  or ("after", token) for a missing value, or None; words in the message)
BAD = [
    ("proto_unknown", fe("proto h3"), 2, "h3", "unknown bind protocol 'h3'"),
    ("proto_no_value", fe("proto"), 2, ("after", "proto"), "expected a value after 'proto'"),
    ("proto_twice", fe("proto h1 proto h2"), 2, ("last", "proto"), "'proto' given twice"),
    ("proto_tcp_mode", fe("proto h2", mode="tcp"), 2, "proto", "frontend 'web' is in tcp mode"),
    ("alpn_h2_on_h1", fe("proto h1 tls cert {pem} alpn h2,http/1.1"), 2, "h2,",
     "offers h2 on a 'proto h1' bind"),
    ("alpn_only_h1_on_h2", fe("proto h2 tls cert {pem} alpn http/1.1"), 2, "http/1.1",
     "offers HTTP/1 on a 'proto h2' bind"),
    ("alpn_h2c", fe("tls cert {pem} alpn h2c"), 2, "h2c", "unsupported ALPN protocol 'h2c'"),
    ("h2_max_streams_zero", fe(extra="h2_max_streams 0"), 4, "0", "out of range"),
    ("h2_max_streams_big", fe(extra="h2_max_streams 100000"), 4, "100000", "from 1 to 1000"),
    ("h2_max_streams_word", fe(extra="h2_max_streams lots"), 4, "lots", "invalid number 'lots'"),
    ("h2_max_header_list_small", fe(extra="h2_max_header_list 100"), 4, "100",
     "expected 1k to 1m"),
    ("h2_max_header_list_buffer", fe(extra="h2_max_header_list 1m"), 4, "1m",
     "does not fit the buffer"),
    ("h2_header_table_big", fe(extra="h2_header_table 1m"), 4, "1m", "expected 0 to 64k"),
    ("h2_max_resets_zero", fe(extra="h2_max_resets 0"), 4, "0", "out of range"),
    ("h2_max_control_neg", fe(extra="h2_max_control -5"), 4, "-5", "invalid number '-5'"),
    ("h2_max_control_missing", fe(extra="h2_max_control"), 4, ("after", "h2_max_control"),
     "missing argument"),
]


def col_on(line_text, where):
    if where is None:
        return None
    if isinstance(where, str):
        return line_text.index(" " + where) + 2
    how, tok = where
    i = line_text.rindex(tok)
    return i + 1 + (len(tok) if how == "after" else 0)


@pytest.mark.parametrize("name,text,line,where,words", BAD, ids=[b[0] for b in BAD])
def test_check_bad_h2_config(tmp_path, cert, name, text, line, where, words):
    text = text.replace("{pem}", cert)
    col = col_on(text.splitlines()[line - 1], where)
    rc, out = check_conf(tmp_path, text, name)
    assert rc == 1, "exit %d for a bad config; output:\n%s" % (rc, out)
    assert "configuration OK" not in out
    errs = re.findall(r"^(.*?):(\d+):(\d+): error: (.+)$", out, re.M)
    assert errs, "no FILE:LINE:COL: error: line in:\n%s" % out
    assert all(fn.endswith("%s.conf" % name) for fn, _, _, _ in errs), out
    at = [(int(l), int(c), msg) for _, l, c, msg in errs]
    assert any(l == line and (col is None or c == col) and words in msg for l, c, msg in at), \
        "expected '%s' at %d:%s, got:\n%s" % (words, line, col, out)


GOOD = """\
frontend web {
    bind 127.0.0.1:8080 proto h2 tls cert %(pem)s
    bind 127.0.0.1:8081 proto h1
    bind 127.0.0.1:8082 proto auto tls cert %(pem)s alpn http/1.1
    bind 127.0.0.1:8083 proto h2c
    h2_max_streams 250
    h2_max_header_list 8k
    h2_header_table 0
    h2_max_resets 50
    h2_max_control 2000
    default_backend app
}
backend app {
    server a 127.0.0.1:9001
}
"""


def test_check_good_h2_config(tmp_path, cert):
    rc, out = check_conf(tmp_path, GOOD % {"pem": cert}, "good")
    assert rc == 0, out
    assert "configuration OK" in out
    # (running as root without `user` is warned about; nothing else)
    assert not re.search(r":\d+:\d+: warning:", out), out


def test_check_h2_limits_in_tcp_mode_warn(tmp_path):
    rc, out = check_conf(tmp_path, fe(extra="h2_max_streams 10", mode="tcp"), "tcpwarn")
    assert rc == 0, out
    assert re.search(r"tcpwarn\.conf:4:20: warning: h2_\* limits have no effect in mode tcp",
                     out), out
