"""PROXY protocol (`bind ... accept_proxy [from CIDR...]`, `server ...
send_proxy v1|v2`): the header's addresses become the client's everywhere
(X-Forwarded-For, %[src], the access log, tcp_request rules); a missing,
malformed, lying, late or unexpected header closes the connection with a
log line and nothing reaches a server; servers get the client's addresses
in a header of their own, and health checks a LOCAL one.
"""

import json
import socket
import struct
import time

import httpraw
from ghutil import SLACK, backend_block, global_block, wait_for
from pp_origin import SIG2, ProxyProtoOrigin

import pytest


def v1(src="203.0.113.7", dst="127.0.0.1", sport=5555, dport=80, fam="TCP4"):
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def v2(src="203.0.113.7", dst="127.0.0.1", sport=5555, dport=80, tlvs=b"", cmd=1, six=False):
    if cmd == 0:
        return SIG2 + bytes([0x20, 0x00]) + struct.pack("!H", len(tlvs)) + tlvs
    af = socket.AF_INET6 if six else socket.AF_INET
    addrs = socket.inet_pton(af, src) + socket.inet_pton(af, dst) + struct.pack("!HH", sport, dport)
    body = addrs + tlvs
    return SIG2 + bytes([0x21, 0x21 if six else 0x11]) + struct.pack("!H", len(body)) + body


def tlv(t, value):
    return bytes([t]) + struct.pack("!H", len(value)) + value


GET = b"GET /echo HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n"


def talk(port, data, pieces=False, timeout=5.0):
    """Sends data (a byte at a time with pieces), returns everything received
    until the proxy closes: b"" when it closed without a word."""
    s = httpraw.connect(port, timeout)
    out = b""
    try:
        if pieces:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(0.001)
        else:
            s.sendall(data)
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return out


def echo_headers(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), raw[:200]
    out = {}
    for k, v in json.loads(body)["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def conf(port, backend_servers, bind_opts="accept_proxy", fe_extra="", be_extra="", mode="http",
         access_log=None):
    fe = ["frontend web {", "    bind 127.0.0.1:%d %s" % (port, bind_opts), "    mode %s" % mode,
          "    timeout header 1s"]
    if access_log:
        fe.append("    access_log %s format json" % access_log)
    fe += ["    " + l.strip() for l in fe_extra.splitlines() if l.strip()]
    fe += ["    default_backend app", "}"]
    return global_block() + "\n".join(fe) + "\n" + backend_block("app", backend_servers, mode, be_extra)


def log_has(g, text, timeout=3.0):
    wait_for(lambda: text in g.stderr_text(), timeout * SLACK, what="log line %r" % text)


# ---- accept_proxy ------------------------------------------------------------------

def test_v1_and_v2_name_the_client_everywhere(gatehouse, origin, port, tmp_path):
    alog = tmp_path / "access.log"
    gatehouse(conf(port, [origin.addr], access_log=alog, fe_extra="""
        http_request set_header X-Src "%[src]"
        http_request set_header X-Peer "%[peer]"
        http_request set_header X-Authority "%[proxy_authority]"
    """))
    h = echo_headers(talk(port, v1() + GET))
    assert h["x-forwarded-for"] == ["203.0.113.7"]
    assert h["x-src"] == ["203.0.113.7"] and h["x-peer"] == ["127.0.0.1"]
    assert "x-authority" not in h or h["x-authority"] == [""]

    hdr = v2(src="2001:db8::7", dst="2001:db8::1", six=True,
             tlvs=tlv(0x04, b"\0\0") + tlv(0x02, b"app.example") + tlv(0xEA, b"vpce-1"))
    h = echo_headers(talk(port, hdr + GET))
    assert h["x-forwarded-for"] == ["2001:db8::7"]
    assert h["x-authority"] == ["app.example"]
    assert h["x-peer"] == ["127.0.0.1"]

    # a client's own X-Forwarded-For is replaced by the PROXY address
    h = echo_headers(talk(port, v2(src="198.51.100.3") + GET.replace(
        b"\r\n\r\n", b"\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n")))
    assert h["x-forwarded-for"] == ["198.51.100.3"]

    lines = wait_for(lambda: (alog.read_text().splitlines() if alog.exists() else [])[2:] and
                     alog.read_text().splitlines(), 5 * SLACK, what="3 access log lines")
    clients = [json.loads(l)["client"] for l in lines]
    assert clients == ["203.0.113.7", "2001:db8::7", "198.51.100.3"], clients


def test_header_arriving_a_byte_at_a_time(gatehouse, origin, port):
    gatehouse(conf(port, [origin.addr]))
    h = echo_headers(talk(port, v1(src="192.0.2.44") + GET, pieces=True))
    assert h["x-forwarded-for"] == ["192.0.2.44"]
    h = echo_headers(talk(port, v2(src="192.0.2.45", tlvs=tlv(0x02, b"x.test")) + GET, pieces=True))
    assert h["x-forwarded-for"] == ["192.0.2.45"]


def test_local_and_unknown_keep_the_peer(gatehouse, origin, port):
    gatehouse(conf(port, [origin.addr]))
    h = echo_headers(talk(port, b"PROXY UNKNOWN\r\n" + GET))
    assert h["x-forwarded-for"] == ["127.0.0.1"]
    h = echo_headers(talk(port, v2(cmd=0) + GET))
    assert h["x-forwarded-for"] == ["127.0.0.1"]


BAD = [
    ("no header", GET, "not a PROXY protocol header"),
    ("v1 bare LF", b"PROXY TCP4 203.0.113.7 127.0.0.1 1 2\n" + GET, "bad PROXY header"),
    ("v1 bad address", v1(src="203.0.113.700") + GET, "malformed addresses"),
    ("v1 family mismatch", v1(src="::1", dst="::1") + GET, "malformed addresses"),
    ("v1 too long", b"PROXY UNKNOWN " + b"1" * 120 + b"\r\n" + GET, "107 bytes"),
    ("v2 TLV longer than the header",
     SIG2 + bytes([0x21, 0x11]) + struct.pack("!H", 12 + 5) + bytes(12) + b"\x04\x00\x09\x00\x00" + GET,
     "TLV length runs past"),
    ("v2 SSL sub-TLV lies",
     v2(tlvs=tlv(0x20, b"\x01\x00\x00\x00\x00" + b"\x21\x00\x30abc")) + GET, "sub-TLV"),
    ("v2 length shorter than its addresses",
     SIG2 + bytes([0x21, 0x11]) + struct.pack("!H", 8) + bytes(8) + GET, "shorter than the addresses"),
    ("v2 version 3", SIG2 + bytes([0x31, 0x11]) + struct.pack("!H", 12) + bytes(12) + GET,
     "version is not 2"),
    ("v2 header over 4096 bytes", SIG2 + bytes([0x21, 0x11]) + struct.pack("!H", 5000), "4096"),
]


@pytest.mark.parametrize("name,data,why", BAD, ids=[b[0] for b in BAD])
def test_bad_headers_close_and_forward_nothing(gatehouse, origin, port, name, data, why):
    g = gatehouse(conf(port, [origin.addr]))
    assert talk(port, data) == b""
    log_has(g, "closed: bad PROXY header")
    log_has(g, why)
    assert origin.stats.accepts == 0 and origin.stats.heads == 0


def test_truncated_and_slow_headers(gatehouse, origin, port):
    g = gatehouse(conf(port, [origin.addr]))
    # truncated: the client gives up half way
    s = httpraw.connect(port)
    s.sendall(v1()[:20])
    s.shutdown(socket.SHUT_WR)
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:   # what it sent is unread: closing resets
        pass
    s.close()
    log_has(g, "closed before a complete PROXY header")
    # slow: half a v2 header, then nothing: timeout header (1s) closes it
    for part in (v2()[:14], b"PROXY TCP4 203.0.113.7 ", b""):
        s = httpraw.connect(port, timeout=5)
        t0 = time.monotonic()
        s.sendall(part)
        try:
            got = s.recv(100)
        except ConnectionResetError:
            got = b""
        took = time.monotonic() - t0
        s.close()
        assert got == b"" and 0.8 <= took < 1.0 + 2 * SLACK, (part, took)
    log_has(g, "timeout header: no complete PROXY header in time")
    assert origin.stats.accepts == 0


def test_from_ranges(gatehouse, origin, port):
    """`from`: peers inside must send a header, peers outside must not."""
    import ghutil
    port2 = ghutil.free_port()
    text = conf(port, [origin.addr], bind_opts="accept_proxy from 10.0.0.0/8 192.168.0.0/16")
    text = text.replace("    mode http\n", "    bind 127.0.0.1:%d accept_proxy from 127.0.0.0/8\n"
                        "    mode http\n" % port2, 1)
    g = gatehouse(text)
    # 127.0.0.1 is outside 10/8: a plain client is served as itself...
    h = echo_headers(talk(port, GET))
    assert h["x-forwarded-for"] == ["127.0.0.1"]
    # ...and may not pretend to be a balancer, in v1 or v2
    assert talk(port, v1() + GET) == b""
    assert talk(port, v2() + GET, pieces=True) == b""
    log_has(g, "PROXY header from a peer outside accept_proxy's 'from'")
    assert origin.stats.heads == 1
    # inside the range: the header is required
    h = echo_headers(talk(port2, v1(src="203.0.113.9") + GET))
    assert h["x-forwarded-for"] == ["203.0.113.9"]
    assert talk(port2, GET) == b""


def test_tcp_mode_and_tcp_request_rules(gatehouse, make_echo, port):
    echo = make_echo()
    g = gatehouse(conf(port, [echo.addr], mode="tcp", fe_extra="""
        tcp_request connection reject if src in 203.0.113.0/24
    """))
    # the header is consumed, what follows it is tunnelled
    s = httpraw.connect(port)
    s.sendall(v2(src="198.51.100.8") + b"hello")
    got = b""
    while len(got) < 5:
        d = s.recv(100)
        if not d:
            break
        got += d
    s.close()
    assert got == b"hello"
    # tcp_request rules see the PROXY address, after the header
    assert talk(port, v1(src="203.0.113.1") + b"hello") == b""
    assert talk(port, b"hello") == b""        # no header: refused
    log_has(g, "not a PROXY protocol header")


# ---- send_proxy ---------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v2"])
def test_send_proxy_carries_the_client(gatehouse, port, version):
    o = ProxyProtoOrigin()
    try:
        be = backend_block("app", [o.addr]).replace(o.addr, o.addr + " send_proxy " + version)
        text = global_block() + ("frontend web {\n    bind 127.0.0.1:%d accept_proxy\n"
                                 "    default_backend app\n}\n" % port) + be
        gatehouse(text)
        raw = talk(port, v1(src="203.0.113.7", dst="192.0.2.1", sport=4000, dport=443) + GET)
        got = json.loads(raw.partition(b"\r\n\r\n")[2])
        assert got == {"version": int(version[1]), "command": "TCP4" if version == "v1" else "PROXY",
                       "src": "203.0.113.7", "dst": "192.0.2.1", "sport": 4000, "dport": 443}
        # the request follows the header, untouched
        wait_for(o.snapshot, 3 * SLACK, what="the origin's record")
        assert o.snapshot()[0]["head"].startswith(b"GET /echo HTTP/1.1\r\n")
        # two requests on one keep-alive client connection: two server
        # connections, each with its header (never pooled)
        s = httpraw.connect(port)
        s.sendall(v2(src="2001:db8::5", dst="2001:db8::1", six=True, sport=7, dport=8))
        rd = httpraw.Reader(s)
        for _ in range(2):
            s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            r = rd.read_response()
            assert r.status == 200
        s.close()
        wait_for(lambda: len(o.snapshot()) == 3, 3 * SLACK, what="3 origin connections")
        for c in o.snapshot()[1:]:
            assert c["pp"]["src"] == "2001:db8::5" and c["pp"]["sport"] == 7, c
    finally:
        o.close()


def test_send_proxy_without_accept_proxy_uses_the_socket(gatehouse, port):
    o = ProxyProtoOrigin()
    try:
        be = backend_block("app", [o.addr]).replace(o.addr, o.addr + " send_proxy v1")
        gatehouse(global_block() + "frontend web {\n    bind 127.0.0.1:%d\n    default_backend app\n}\n"
                  % port + be)
        got = json.loads(talk(port, GET).partition(b"\r\n\r\n")[2])
        assert got["src"] == "127.0.0.1" and got["dst"] == "127.0.0.1" and got["dport"] == port
    finally:
        o.close()


@pytest.mark.parametrize("version,want", [("v1", {"version": 1, "command": "UNKNOWN"}),
                                          ("v2", {"version": 2, "command": "LOCAL", "len": 0})])
def test_health_checks_send_local(gatehouse, port, version, want):
    o = ProxyProtoOrigin()
    try:
        be = backend_block("app", [o.addr], extra="health http GET /healthz interval 200ms")
        be = be.replace(o.addr, o.addr + " send_proxy " + version)
        gatehouse(global_block() + "frontend web {\n    bind 127.0.0.1:%d\n    default_backend app\n}\n"
                  % port + be)
        wait_for(lambda: any(c["head"] for c in o.snapshot()), 3 * SLACK, what="a health check")
        c = [c for c in o.snapshot() if c["head"]][0]
        assert c["pp"] == want
        assert c["head"].startswith(b"GET /healthz HTTP/1.1\r\n")
    finally:
        o.close()


# ---- TLS and configuration ----------------------------------------------------------

def self_signed(tmp_path):
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.fail("needs the openssl CLI (make deps)")
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-subj", "/CN=pp.test", "-days", "2"], check=True, capture_output=True)
    pem = tmp_path / "site.pem"
    pem.write_bytes(crt.read_bytes() + key.read_bytes())
    return pem


def test_header_before_the_tls_handshake(gatehouse, origin, port, tmp_path):
    """On a `tls` bind the PROXY header comes first, in clear."""
    import ssl
    pem = self_signed(tmp_path)
    gatehouse(conf(port, [origin.addr], bind_opts="accept_proxy tls cert %s" % pem))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = httpraw.connect(port)
    raw.sendall(v2(src="192.0.2.77"))
    s = ctx.wrap_socket(raw, server_hostname="pp.test")
    s.sendall(GET)
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    h = echo_headers(out)
    assert h["x-forwarded-for"] == ["192.0.2.77"] and h["x-forwarded-proto"] == ["https"]


def test_send_proxy_before_the_tls_handshake_to_a_server(gatehouse, port, tmp_path):
    o = ProxyProtoOrigin(tls_pem=str(self_signed(tmp_path)))
    try:
        be = backend_block("app", [o.addr]).replace(o.addr, o.addr + " tls verify none send_proxy v2")
        gatehouse(global_block() + "frontend web {\n    bind 127.0.0.1:%d accept_proxy\n"
                  "    default_backend app\n}\n" % port + be)
        got = json.loads(talk(port, v1(src="203.0.113.50") + GET).partition(b"\r\n\r\n")[2])
        assert got["version"] == 2 and got["src"] == "203.0.113.50"
    finally:
        o.close()


def test_config_errors_name_file_and_line(tmp_path):
    from ghutil import run_cli
    cfg = tmp_path / "bad.conf"
    cfg.write_text("frontend f {\n"
                   "    bind 127.0.0.1:1 accept_proxy from 10.0.0.0/33\n"
                   "    bind 127.0.0.1:2 accept_proxy from tls\n"
                   "    trusted_proxies 10.0.0.0/8 nonsense\n"
                   "    default_backend b\n"
                   "}\n"
                   "backend b {\n"
                   "    server s 127.0.0.1:9 send_proxy v3\n"
                   "}\n")
    r = run_cli(["-t", "-c", str(cfg)])
    err = r.stderr.decode()
    assert r.returncode != 0
    p = str(cfg)
    assert "%s:2:40: error: invalid CIDR '10.0.0.0/33'" % p in err, err
    assert "%s:3:35: error: 'from' needs at least one address range" % p in err, err
    assert "%s:4:32: error: invalid CIDR 'nonsense'" % p in err, err
    assert "%s:8:37: error: unknown PROXY protocol version 'v3' in send_proxy; " \
           "expected one of: v1, v2" % p in err, err
