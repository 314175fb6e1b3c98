"""TLS termination and re-encryption (issue 4).

Certificates are made at test time with the openssl CLI into a temporary
directory (one PKI for the module): a CA, server certificates for
a.example.com (the default, with an OCSP response), b.example.com (key in a
separate file), *.wild.example.com, api.internal (a TLS origin), client
certificates (alice from our CA, mallory from another CA) and an expired
certificate.  Clients are curl and `openssl s_client`; the TLS origin is
tls_origin.TlsOrigin.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

import ghutil
from ghutil import SLACK, backend_block, global_block
from origins import expected_bytes
from tls_origin import TlsOrigin

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
# These tests are about TLS under HTTP/1.1: curl would negotiate h2 on a
# default bind (ALPN h2,http/1.1), so it is told to offer http/1.1 only.
# HTTP/2 over TLS is tested on its own (test_alpn.py and the h2 tests).
CURL_H1 = "--http1.1"

pytestmark = [
    pytest.mark.skipif(not OPENSSL or not CURL, reason="needs the openssl and curl CLIs"),
    # haproxy_compat does not translate TLS options (it would drop them).
    pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="TLS configs are not translated to HAProxy"),
]


# ---- the PKI ------------------------------------------------------------------

CA_CNF = """[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
[ policy_any ]
organizationName = optional
commonName = supplied
"""


def _run(*argv, cwd=None):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv), p.stdout.decode(errors="replace")))
    return p.stdout.decode(errors="replace")


class Pki:
    def __init__(self, d):
        self.d = str(d)
        os.makedirs(os.path.join(self.d, "newcerts"))
        open(self.p("index.txt"), "w").close()
        with open(self.p("serial"), "w") as f:
            f.write("1000\n")
        with open(self.p("ca.cnf"), "w") as f:
            f.write(CA_CNF.format(dir=self.d))
        self.ca = self.p("ca.pem")
        _run(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.p("ca.key"), "-out", self.ca, "-days", "30",
             "-subj", "/O=Gatehouse Test/CN=Gatehouse Test CA")
        # Another CA nobody trusts.
        _run(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.p("other-ca.key"), "-out", self.p("other-ca.pem"),
             "-days", "30", "-subj", "/CN=Other CA")

    def p(self, name):
        return os.path.join(self.d, name)

    def issue(self, name, subj, dns=None, client=False, days="30", start=None, end=None,
              rsa=False):
        """Key NAME.key, certificate NAME.crt signed by the CA (via `openssl
        ca`, so it is in the OCSP index), and NAME.pem = crt + key."""
        key, csr, crt = self.p(name + ".key"), self.p(name + ".csr"), self.p(name + ".crt")
        newkey = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt",
                                                      "ec_paramgen_curve:P-256"]
        _run(OPENSSL, "req", *newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        ext = self.p(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            if dns:
                f.write("subjectAltName=" + ",".join("DNS:" + n for n in dns) + "\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        dates = ["-startdate", start, "-enddate", end] if start else ["-days", days]
        _run(OPENSSL, "ca", "-batch", "-notext", "-config", self.p("ca.cnf"), "-cert", self.ca,
             "-keyfile", self.p("ca.key"), "-in", csr, "-out", crt, "-extfile", ext, *dates)
        with open(self.p(name + ".pem"), "w") as f:
            f.write(open(crt).read() + open(key).read())
        return self.p(name + ".pem")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    k = Pki(tmp_path_factory.mktemp("pki"))
    k.issue("a", "/CN=a.example.com", ["a.example.com"])
    k.issue("b", "/CN=b.example.com", ["b.example.com"])
    k.issue("wild", "/CN=*.wild.example.com", ["*.wild.example.com"])
    k.issue("api", "/CN=api.internal", ["api.internal"])
    k.issue("alice", "/O=Example/CN=alice", client=True)
    k.issue("expired", "/CN=old.example.com", ["old.example.com"],
            start="20200101000000Z", end="20200201000000Z")
    k.issue("rsa", "/CN=rsa.example.com", ["rsa.example.com"], rsa=True)
    # a.example.com: chain with the CA (so the OCSP response can be matched)
    # and an OCSP response from the CA's index.
    with open(k.p("a-chain.pem"), "w") as f:
        f.write(open(k.p("a.crt")).read() + open(k.ca).read() + open(k.p("a.key")).read())
    _run(OPENSSL, "ocsp", "-index", k.p("index.txt"), "-rsigner", k.ca, "-rkey", k.p("ca.key"),
         "-CA", k.ca, "-issuer", k.ca, "-cert", k.p("a.crt"), "-respout", k.p("a.ocsp"),
         "-ndays", "1")
    # mallory: signed by the other CA.
    _run(OPENSSL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", k.p("mallory.key"), "-out", k.p("mallory.csr"), "-subj", "/CN=mallory")
    _run(OPENSSL, "x509", "-req", "-in", k.p("mallory.csr"), "-CA", k.p("other-ca.pem"),
         "-CAkey", k.p("other-ca.key"), "-CAcreateserial", "-out", k.p("mallory.crt"),
         "-days", "30")
    with open(k.p("mallory.pem"), "w") as f:
        f.write(open(k.p("mallory.crt")).read() + open(k.p("mallory.key")).read())
    return k


# ---- helpers -----------------------------------------------------------------------

def tls_config(port, servers, pki, bind_opts=None, fe_extra="", be_extra="", backends=None,
               mode="http", global_extra=""):
    bind_opts = bind_opts or "tls cert %s" % pki.p("a-chain.pem")
    fe = ["frontend web {", "    bind 127.0.0.1:%d %s" % (port, bind_opts),
          "    mode %s" % mode, "    timeout header 2s"]
    fe += ["    " + l.strip() for l in fe_extra.splitlines() if l.strip()]
    fe += ["    default_backend app", "}"]
    text = global_block(extra=global_extra) + "\n".join(fe) + "\n"
    if backends is not None:
        return text + backends
    lines = ["backend app {", "    mode %s" % mode]
    for i, s in enumerate(servers):
        lines.append("    server s%d %s" % (i + 1, s))
    lines += ["    " + l.strip() for l in be_extra.splitlines() if l.strip()]
    return text + "\n".join(lines + ["}"]) + "\n"


def sclient(port, *args, data=b"", timeout=10):
    """openssl s_client against 127.0.0.1:port; returns (exit code, output)."""
    return ghutil.s_client(port, args, data=data, timeout=timeout)


def curl(port, pki, path="/", host="a.example.com", args=(), timeout=20):
    """curl https://HOST:port/path resolved to 127.0.0.1, trusting our CA.
    Returns (exit code, status, body)."""
    argv = [CURL, CURL_H1, "-sS", "--max-time", str(timeout), "--cacert", pki.ca,
            "--resolve", "%s:%d:127.0.0.1" % (host, port),
            "-o", "-", "-w", "\n%{http_code}", *args,
            "https://%s:%d%s" % (host, port, path)]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
    body, _, status = p.stdout.rpartition(b"\n")
    return p.returncode, int(status or 0), body


def hdrs(j):
    out = {}
    for k, v in j["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def subject_cn(out):
    for line in out.splitlines():
        if line.startswith("subject="):
            return line.split("CN = ", 1)[-1].strip()
    return None


@pytest.fixture
def tls_origin(pki):
    made = []

    def make(name="api", **kw):
        o = TlsOrigin(name, pki.p("api.crt"), pki.p("api.key"), **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


# ---- certificates and SNI ---------------------------------------------------------

def test_sni_picks_certificate_and_unknown_gets_default(gatehouse, origin, port, pki):
    opts = "tls cert %s cert %s key %s cert %s" % (
        pki.p("a-chain.pem"), pki.p("b.crt"), pki.p("b.key"), pki.p("wild.pem"))
    gatehouse(tls_config(port, [origin.addr], pki, opts))
    for sni, cn in [("a.example.com", "a.example.com"), ("b.example.com", "b.example.com"),
                    ("B.Example.COM", "b.example.com"),
                    ("x.wild.example.com", "*.wild.example.com"),
                    ("a.b.wild.example.com", "a.example.com"),   # one label only
                    ("nowhere.test", "a.example.com")]:
        rc, out = sclient(port, "-servername", sni, "-CAfile", pki.ca)
        assert subject_cn(out) == cn, "SNI %s: %s" % (sni, out[-2000:])
    rc, out = sclient(port, "-noservername", "-CAfile", pki.ca)
    assert subject_cn(out) == "a.example.com"
    # curl verifies each name end to end.
    for host in ("a.example.com", "b.example.com", "x.wild.example.com"):
        rc, status, body = curl(port, pki, "/echo", host=host)
        assert (rc, status) == (0, 200), host
        assert json.loads(body)["origin"] == "o1"


def test_certs_directory(gatehouse, origin, port, pki, tmp_path):
    d = tmp_path / "certs"
    d.mkdir()
    shutil.copy(pki.p("a.pem"), d / "10-a.pem")
    shutil.copy(pki.p("b.crt"), d / "20-b.crt")
    shutil.copy(pki.p("b.key"), d / "20-b.key")
    gatehouse(tls_config(port, [origin.addr], pki, "tls certs %s" % d))
    assert subject_cn(sclient(port, "-servername", "b.example.com")[1]) == "b.example.com"
    assert subject_cn(sclient(port, "-servername", "zzz")[1]) == "a.example.com"


# ---- protocols, ciphers, ALPN, forwarding -----------------------------------------

def test_tls11_refused_tls12_and_13_offered(gatehouse, origin, port, pki):
    gatehouse(tls_config(port, [origin.addr], pki))
    rc, out = sclient(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert rc != 0 and "alert protocol version" in out, out[-1500:]
    rc, out = sclient(port, "-tls1_2")
    assert "Protocol  : TLSv1.2" in out, out[-1500:]
    # ECDHE only, server preference: an RSA-key-exchange client gets nothing.
    rc, out = sclient(port, "-tls1_2", "-cipher", "AES128-GCM-SHA256")
    assert rc != 0 and "handshake failure" in out, out[-1500:]
    rc, out = sclient(port, "-tls1_3")
    assert "New, TLSv1.3" in out, out[-1500:]
    assert "Compression: NONE" in out


def test_tls_min_13(gatehouse, origin, port, pki):
    gatehouse(tls_config(port, [origin.addr], pki,
                         "tls cert %s tls_min 1.3" % pki.p("a-chain.pem")))
    rc, out = sclient(port, "-tls1_2")
    assert rc != 0 and "alert protocol version" in out, out[-1500:]
    rc, out = sclient(port, "-tls1_3")
    assert "New, TLSv1.3" in out, out[-1500:]


def test_alpn_http11_only(gatehouse, origin, port, pki):
    """A bind for HTTP/1.1 only (the defaults of the other protos: test_alpn.py)."""
    gatehouse(tls_config(port, [origin.addr], pki,
                         "proto h1 tls cert %s" % pki.p("a-chain.pem")))
    rc, out = sclient(port, "-alpn", "h2,http/1.1")
    assert "ALPN protocol: http/1.1" in out, out[-1500:]
    rc, out = sclient(port, "-alpn", "h2")
    assert "No ALPN negotiated" in out


def test_forwarded_proto_https(gatehouse, origin, port, pki):
    gatehouse(tls_config(port, [origin.addr], pki,
                         fe_extra="forward_headers x-forwarded-proto forwarded"))
    rc, status, body = curl(port, pki, "/echo", args=("-H", "X-Forwarded-Proto: http"))
    assert (rc, status) == (0, 200)
    h = hdrs(json.loads(body))
    assert h["x-forwarded-proto"] == ["https"]
    assert "proto=https" in h["forwarded"][0]


def test_keepalive_and_large_bodies(gatehouse, origin, port, pki, tmp_path):
    """Many records each way: partial writes, buffered records, backpressure."""
    n = (4 if ghutil.ASAN else 16) << 20
    gatehouse(tls_config(port, [origin.addr], pki))
    up = tmp_path / "up.bin"
    data = os.urandom(1 << 20) * (n >> 20)
    up.write_bytes(data)
    out = tmp_path / "down.bin"
    argv = [CURL, CURL_H1, "-sS", "--max-time", "60", "--cacert", pki.ca,
            "--resolve", "a.example.com:%d:127.0.0.1" % port,
            "-w", "%{http_code} %{num_connects}\n",
            "https://a.example.com:%d/bytes/%d" % (port, n), "-o", str(out),
            "--next", CURL_H1, "--cacert", pki.ca, "--resolve", "a.example.com:%d:127.0.0.1" % port,
            "-w", "%{http_code} %{num_connects}\n", "--data-binary", "@%s" % up,
            "https://a.example.com:%d/echo" % port, "-o", str(tmp_path / "echo.json")]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().split("\n")[:2] == ["200 1", "200 0"]   # second reused the conn
    assert out.read_bytes() == expected_bytes(n)
    j = json.loads((tmp_path / "echo.json").read_bytes())
    import hashlib
    assert j["body_len"] == n and j["body_sha256"] == hashlib.sha256(data).hexdigest()


def _tls_over(sock, hostname="a.example.com"):
    """A TLS client on memory BIOs over a plain socket, so the test decides
    what goes into each TCP write.  Returns (SSLObject, incoming, outgoing)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=hostname)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if outg.pending:
                sock.sendall(outg.read())
            d = sock.recv(65536)
            assert d, "server closed during the handshake"
            inc.write(d)
    if outg.pending:
        sock.sendall(outg.read())
    return obj, inc, outg


def test_pipelined_records_in_one_segment(gatehouse, origin, port, pki):
    """Three requests, one TLS record each, all in one TCP write: after the
    first short read the rest sits in the socket with no new event coming,
    so only a transport that keeps reading until EAGAIN answers all three."""
    gatehouse(tls_config(port, [origin.addr], pki))
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        obj, inc, outg = _tls_over(sock)
        for i in range(3):
            obj.write(b"GET /echo?n=%d HTTP/1.1\r\nHost: a.example.com\r\n\r\n" % i)
        sock.sendall(outg.read())
        got = b""
        deadline = time.monotonic() + 5 * SLACK
        while time.monotonic() < deadline:
            try:
                while True:
                    got += obj.read(65536)
            except ssl.SSLWantReadError:
                pass
            if got.count(b"HTTP/1.1 200") >= 3:
                break
            try:
                d = sock.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            inc.write(d)
        assert got.count(b"HTTP/1.1 200") == 3, got[:500]
    finally:
        sock.close()


# ---- sessions, OCSP ------------------------------------------------------------------

def test_session_resumption(gatehouse, origin, port, pki, tmp_path):
    gatehouse(tls_config(port, [origin.addr], pki))
    sess = str(tmp_path / "s13")
    rc, out = sclient(port, "-tls1_3", "-sess_out", sess)
    assert "New, TLSv1.3" in out
    rc, out = sclient(port, "-tls1_3", "-sess_in", sess)
    assert "Reused, TLSv1.3" in out, out[-1500:]
    # TLS 1.2 with tickets, and with the server-side session cache only.
    for extra in ([], ["-no_ticket"]):
        rc, out = sclient(port, "-tls1_2", "-reconnect", *extra)
        assert out.count("Reused, TLSv1.2") >= 4, (extra, out[-1500:])
    # A session from another bind (other session id context) is not resumed.
    p2 = ghutil.free_port()
    gatehouse(tls_config(p2, [origin.addr], pki), name="other")
    rc, out = sclient(p2, "-tls1_3", "-sess_in", sess)
    assert "New, TLSv1.3" in out


def test_ocsp_stapling(gatehouse, origin, port, pki):
    gatehouse(tls_config(port, [origin.addr], pki,
                         "tls cert %s ocsp %s" % (pki.p("a-chain.pem"), pki.p("a.ocsp"))))
    rc, out = sclient(port, "-status", "-servername", "a.example.com")
    assert "OCSP Response Status: successful" in out, out[-2500:]
    assert "Cert Status: good" in out


def _ocsp_response(pki, name, out):
    _run(OPENSSL, "ocsp", "-index", pki.p("index.txt"), "-rsigner", pki.ca, "-rkey",
         pki.p("ca.key"), "-CA", pki.ca, "-issuer", pki.ca, "-cert", pki.p(name + ".crt"),
         "-respout", out, "-ndays", "1")


def _ocsp_cert(pki, name, tmp_path):
    """A fresh certificate NAME.example.com from our CA, its chain file (the
    CA in it, so responses can be matched) and a 'good' OCSP response file."""
    pki.issue(name, "/CN=%s.example.com" % name, ["%s.example.com" % name])
    chain = str(tmp_path / (name + "-chain.pem"))
    with open(chain, "w") as f:
        f.write(open(pki.p(name + ".crt")).read() + open(pki.ca).read()
                + open(pki.p(name + ".key")).read())
    ocsp = str(tmp_path / (name + ".ocsp"))
    _ocsp_response(pki, name, ocsp)
    return chain, ocsp


def _revoke_and_replace(pki, name, ocsp):
    """The CA revokes NAME; an updater writes the new response in place
    the way updaters do: atomically, by rename."""
    _run(OPENSSL, "ca", "-batch", "-config", pki.p("ca.cnf"), "-cert", pki.ca, "-keyfile",
         pki.p("ca.key"), "-revoke", pki.p(name + ".crt"))
    _ocsp_response(pki, name, ocsp + ".new")
    os.rename(ocsp + ".new", ocsp)


def test_ocsp_file_refreshed_when_it_changes(gatehouse, origin, port, pki, tmp_path):
    """An updater rewrites the OCSP file: the next handshakes staple the new
    response (here: the certificate got revoked); a broken file is logged
    and the previous response stays."""
    chain, ocsp = _ocsp_cert(pki, "rot", tmp_path)
    g = gatehouse(tls_config(port, [origin.addr], pki, "tls cert %s ocsp %s" % (chain, ocsp),
                             global_extra="tune.ocsp_check 200ms"))

    def status():
        rc, out = sclient(port, "-status", "-servername", "rot.example.com")
        return out

    assert "Cert Status: good" in status()
    _revoke_and_replace(pki, "rot", ocsp)
    ghutil.wait_for(lambda: "Cert Status: revoked" in status(), 5 * SLACK,
                    what="the new response stapled")
    text = g.stderr_text()
    assert "OCSP response '%s' reloaded" % ocsp in text
    assert "REVOKED" in text
    with open(ocsp + ".new", "wb") as f:
        f.write(b"not DER at all")
    os.rename(ocsp + ".new", ocsp)
    deadline = time.monotonic() + 5 * SLACK
    while "still stapling the previous response" not in g.stderr_text():
        assert time.monotonic() < deadline, g.stderr_text()[-2000:]
        assert "Cert Status: revoked" in status()   # handshakes trigger the look
        time.sleep(0.1)
    assert "Cert Status: revoked" in status()


def test_ocsp_file_reread_on_sighup(gatehouse, origin, port, pki, tmp_path):
    """With the periodic look turned off (tune.ocsp_check 0), SIGHUP is
    what makes gatehouse read a replaced OCSP file (SIGHUP reloads the
    whole configuration, which reads the OCSP files anew)."""
    chain, ocsp = _ocsp_cert(pki, "hup", tmp_path)
    g = gatehouse(tls_config(port, [origin.addr], pki, "tls cert %s ocsp %s" % (chain, ocsp),
                             global_extra="tune.ocsp_check 0s"))

    def status():
        return sclient(port, "-status", "-servername", "hup.example.com")[1]

    assert "Cert Status: good" in status()
    _revoke_and_replace(pki, "hup", ocsp)
    time.sleep(0.3)
    assert "Cert Status: good" in status()   # not looked at by itself
    g.signal(signal.SIGHUP)
    ghutil.wait_for(lambda: "configuration reloaded (generation 2)" in g.stderr_text(),
                    5 * SLACK, what="the reload log line")
    assert "Cert Status: revoked" in status()
    assert g.alive()


# ---- client certificates -------------------------------------------------------------

def test_client_cert_required(gatehouse, make_origin, port, pki):
    o1, o2 = make_origin("plain"), make_origin("alice")
    backends = (backend_block("app", [o1.addr]) + backend_block("alice_be", [o2.addr]))
    gatehouse(tls_config(port, None, pki,
                         "tls cert %s verify required ca %s" % (pki.p("a-chain.pem"), pki.ca),
                         fe_extra='use_backend alice_be if ssl_client_dn == "CN=alice,O=Example"',
                         backends=backends))
    # No certificate: refused.
    rc, status, body = curl(port, pki, "/echo")
    assert rc != 0 and status == 0
    # Certificate from another CA: refused.
    rc, status, body = curl(port, pki, "/echo", args=("--cert", pki.p("mallory.pem")))
    assert rc != 0 and status == 0
    # alice: accepted, her DN reaches the origin, a forged one does not,
    # and the condition routed her.
    rc, status, body = curl(port, pki, "/echo", args=("--cert", pki.p("alice.pem"), "-H",
                                                      "X-SSL-Client-DN: CN=admin"))
    assert (rc, status) == (0, 200)
    j = json.loads(body)
    assert j["origin"] == "alice"
    assert hdrs(j)["x-ssl-client-dn"] == ["CN=alice,O=Example"]
    assert len(o1.stats.requests) == 0


def test_client_cert_optional(gatehouse, origin, port, pki):
    gatehouse(tls_config(port, [origin.addr], pki,
                         "tls cert %s verify optional ca %s" % (pki.p("a-chain.pem"), pki.ca)))
    rc, status, body = curl(port, pki, "/echo", args=("-H", "X-SSL-Client-DN: CN=forged"))
    assert (rc, status) == (0, 200)
    assert "x-ssl-client-dn" not in hdrs(json.loads(body))
    rc, status, body = curl(port, pki, "/echo", args=("--cert", pki.p("alice.pem")))
    assert (rc, status) == (0, 200)
    assert hdrs(json.loads(body))["x-ssl-client-dn"] == ["CN=alice,O=Example"]
    # A certificate that does not verify is refused even when optional.
    rc, status, body = curl(port, pki, "/echo", args=("--cert", pki.p("mallory.pem")))
    assert rc != 0


# ---- servers over TLS ----------------------------------------------------------------

def test_backend_tls_verify_and_pool(gatehouse, tls_origin, port, pki):
    o = tls_origin()
    gatehouse(tls_config(port, ["%s tls verify required ca %s sni api.internal" % (o.addr, pki.ca)],
                         pki))
    argv = [CURL, CURL_H1, "-sS", "--cacert", pki.ca, "--resolve",
            "a.example.com:%d:127.0.0.1" % port]
    for i in range(5):
        argv += ["https://a.example.com:%d/echo?i=%d" % (port, i), "-o", "/dev/null",
                 "-w", "%{http_code}\n"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.stdout.decode().split() == ["200"] * 5, p.stderr
    # one pooled TLS connection carried all five requests
    assert (o.connections, o.handshakes, o.requests) == (1, 1, 5)
    # big response through both TLS legs
    n = 3 << 20
    rc, status, body = curl(port, pki, "/bytes/%d" % n)
    assert (rc, status) == (0, 200) and body == expected_bytes(n)
    # a server that closes makes the next connection resume the session
    rc, status, body = curl(port, pki, "/echo?close=1")
    assert status == 200
    rc, status, body = curl(port, pki, "/echo")
    j = json.loads(body)
    assert status == 200 and j["tls_version"] == "TLSv1.3" and j["resumed"] is True
    assert hdrs(j)["x-forwarded-proto"] == ["https"]


def test_backend_tls_verify_failure_is_502(gatehouse, tls_origin, port, pki):
    o = tls_origin()
    servers = ["%s tls verify required ca %s sni wrong.internal" % (o.addr, pki.ca)]
    g = gatehouse(tls_config(port, servers, pki, be_extra="retries 0"))
    rc, status, body = curl(port, pki, "/echo")
    assert status == 502
    assert o.requests == 0
    # wrong CA: same
    p2 = ghutil.free_port()
    gatehouse(tls_config(p2, ["%s tls verify required ca %s" % (o.addr, pki.p("other-ca.pem"))],
                         pki), name="wrongca")
    rc, status, body = curl(p2, pki, "/echo")
    assert status == 502 and o.requests == 0
    ghutil.wait_for(lambda: "certificate verify failed" in g.stderr_text(), 5,
                    what="a log line naming the verify failure")


def test_backend_tls_verify_none(gatehouse, tls_origin, port, pki):
    o = tls_origin(tls_max="1.2")
    gatehouse(tls_config(port, ["%s tls verify none" % o.addr], pki))
    rc, status, body = curl(port, pki, "/echo")
    assert (rc, status) == (0, 200)
    assert json.loads(body)["tls_version"] == "TLSv1.2"


def _silent_listener():
    """Accepts TCP (the kernel does) and never says a word: a TLS server
    that hangs in the handshake."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    return ls


def test_backend_tls_handshake_counts_as_connect(gatehouse, tls_origin, port, pki):
    """A server that takes the TCP connection but never answers the
    ClientHello is a connect failure: cut by `timeout connect` (not the
    20 s `timeout server`) and retried on the next server."""
    o = tls_origin()
    ls = _silent_listener()
    try:
        servers = ["127.0.0.1:%d tls verify none" % ls.getsockname()[1],
                   "%s tls verify required ca %s sni api.internal" % (o.addr, pki.ca)]
        g = gatehouse(tls_config(port, servers, pki, be_extra="balance roundrobin\nretries 1\n"
                                 "timeout connect 300ms\ntimeout server 20s"))
        for i in range(4):
            t0 = time.monotonic()
            rc, status, body = curl(port, pki, "/echo?i=%d" % i)
            took = time.monotonic() - t0
            assert (rc, status) == (0, 200), body
            assert took < 0.3 + 2 * SLACK, "request %d took %.2fs" % (i, took)
        assert o.requests == 4
        ghutil.wait_for(lambda: "connect timeout (in the TLS handshake)" in g.stderr_text(), 5,
                        what="a log line naming the handshake timeout")
        # alone, the silent server gives a quick 502, not a 20 s wait
        p2 = ghutil.free_port()
        gatehouse(tls_config(p2, servers[:1], pki, be_extra="retries 0\ntimeout connect 300ms\n"
                             "timeout server 20s"), name="alone")
        t0 = time.monotonic()
        rc, status, body = curl(p2, pki, "/echo")
        assert status == 502 and time.monotonic() - t0 < 0.3 + 2 * SLACK
    finally:
        ls.close()


def test_health_checks_speak_tls(gatehouse, tls_origin, make_origin, port, pki):
    """Checks of a `tls` server run the TLS handshake with the server's own
    verify/SNI settings, so a check fails exactly when traffic would."""
    good, wrong_ca = tls_origin("good"), tls_origin("wrongca")
    plain = make_origin("plain")
    backends = backend_block("app", [
        ("good", "%s tls verify required ca %s sni api.internal" % (good.addr, pki.ca), 0),
        ("wrongca", "%s tls verify required ca %s sni api.internal" % (wrong_ca.addr,
                                                                       pki.p("other-ca.pem")), 0),
        ("plain", "%s tls verify none" % plain.addr, 0),
    ], extra="health http GET /healthz interval 100ms fall 2 rise 1")
    g = gatehouse(tls_config(port, [], pki, backends=backends))
    ghutil.wait_for(lambda: "server app/wrongca DOWN" in g.stderr_text() and
                    "server app/plain DOWN" in g.stderr_text(), 5 * SLACK,
                    what="both bad servers marked DOWN")
    text = g.stderr_text()
    down = {ln.split("server app/")[1].split()[0]: ln for ln in text.splitlines()
            if "DOWN:" in ln}
    assert set(down) == {"wrongca", "plain"}, text
    assert "certificate verify failed" in down["wrongca"], down["wrongca"]
    # a plain HTTP server waits for a request line that never comes
    assert "TLS handshake" in down["plain"], down["plain"]
    assert good.requests >= 2 and good.handshakes >= 2   # checks over TLS, answered
    before = good.requests
    for i in range(6):
        rc, status, body = curl(port, pki, "/echo?i=%d" % i)
        assert status == 200 and json.loads(body)["origin"] == "good"
    assert good.requests >= before + 6
    assert wrong_ca.requests == 0


def test_tcp_mode_tls_termination(gatehouse, make_echo, port, pki):
    e = make_echo()
    gatehouse(tls_config(port, [e.addr], pki, mode="tcp"))
    ctx = ssl.create_default_context(cafile=pki.ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="a.example.com") as s:
            assert s.selected_alpn_protocol() is None
            s.sendall(b"hello over tls\n" * 1000)
            got = b""
            while len(got) < 15000:
                got += s.recv(65536)
            assert got == b"hello over tls\n" * 1000


# ---- timeouts and bad input ----------------------------------------------------------

def _client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname="a.example.com")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()


@pytest.mark.parametrize("stall", ["partial_hello", "after_hello"])
def test_stalled_handshake_cut_by_timeout_header(gatehouse, origin, port, pki, stall):
    gatehouse(tls_config(port, [origin.addr], pki))
    hello = _client_hello()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        t0 = time.monotonic()
        s.sendall(hello[:20] if stall == "partial_hello" else hello)
        got = b""
        while True:   # read the server's flight (if any) until it closes
            d = s.recv(65536)
            if not d:
                break
            got += d
        took = time.monotonic() - t0
    finally:
        s.close()
    assert 1.5 <= took <= 2 + 3 * SLACK, "cut after %.2fs (timeout header 2s)" % took
    if stall == "after_hello":
        assert got[:1] == b"\x16"   # the server did answer the hello


def test_garbage_instead_of_tls(gatehouse, origin, port, pki):
    g = gatehouse(tls_config(port, [origin.addr], pki))
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    s.close()
    assert b"HTTP/1.1" not in got
    assert g.alive()
    rc, status, _ = curl(port, pki, "/echo")
    assert status == 200


def _check(tmp_path, text):
    binary = ghutil.need_gatehouse_cli()
    path = tmp_path / "check.conf"
    path.write_text(text)
    p = subprocess.run([binary, "-t", "-c", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def test_config_check_names_bad_files(tmp_path, origin, pki):
    be = backend_block("app", [origin.addr])

    def fe(opts):
        return global_block() + "frontend web {\n    bind 127.0.0.1:1 %s\n" \
            "    default_backend app\n}\n" % opts + be

    missing = str(tmp_path / "missing.pem")
    rc, out = _check(tmp_path, fe("tls cert " + missing))
    assert rc == 1 and "cannot read certificate '%s': No such file or directory" % missing in out
    rc, out = _check(tmp_path, fe("tls cert %s key %s" % (pki.p("a.crt"), pki.p("b.key"))))
    assert rc == 1 and "private key '%s' does not match certificate '%s'" % (
        pki.p("b.key"), pki.p("a.crt")) in out
    rc, out = _check(tmp_path, fe("tls cert %s" % pki.p("a.crt")))
    assert rc == 1 and "cannot load a private key from '%s'" % pki.p("a.crt") in out
    rc, out = _check(tmp_path, fe("tls cert %s verify required" % pki.p("a.pem")))
    assert rc == 1 and "'verify required' needs 'ca FILE'" in out
    # expired: a warning, not an error
    rc, out = _check(tmp_path, fe("tls cert %s" % pki.p("expired.pem")))
    assert rc == 0 and "warning: certificate '%s' expired on 2020-02-01" % pki.p("expired.pem") \
        in out, out
    # a server with tls but no verify
    text = global_block() + "frontend web {\n    bind 127.0.0.1:1\n    default_backend app\n}\n" \
        "backend app {\n    server s1 %s tls sni api.internal\n}\n" % origin.addr
    rc, out = _check(tmp_path, text)
    assert rc == 1 and "server 's1' uses tls without verify" in out


# ---- a scanner's view ----------------------------------------------------------------

def test_testssl_protocols_and_vulnerabilities(gatehouse, origin, port, pki, tmp_path):
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if not testssl:
        pytest.skip("testssl.sh is not installed (Debian package testssl.sh; make deps)")
    gatehouse(tls_config(port, [origin.addr], pki,
                         "tls cert %s cert %s" % (pki.p("a-chain.pem"), pki.p("rsa.pem"))))
    js = tmp_path / "testssl.json"
    p = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "off",
                        "--openssl-timeout", "15", "--protocols", "--vulnerable",
                        "--jsonfile", str(js), "127.0.0.1:%d" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=400)
    findings = json.loads(js.read_text())
    bad = [f for f in findings if f["severity"] not in ("OK", "INFO")
           and f["id"] not in ("engine_problem",)]   # about testssl's own openssl
    assert not bad, "testssl findings:\n%s\n%s" % (
        "\n".join("%s %s: %s" % (f["severity"], f["id"], f["finding"]) for f in bad),
        p.stdout.decode(errors="replace")[-3000:])
    ids = {f["id"]: f["finding"] for f in findings}
    assert ids["TLS1_2"].startswith("offered") and ids["TLS1_3"].startswith("offered")
    assert ids["TLS1"] == "not offered" and ids["TLS1_1"] == "not offered"
