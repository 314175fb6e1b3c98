"""The CRS's method and body type policy from the `waf` section:
`allow_methods` adds to tx.allowed_methods (911100) and `allow_types` to
tx.allowed_request_content_type (920420), after the list in force (the
operator's crs-setup.conf, else gatehouse's D1/D2, else the CRS's own with
`defaults off`).  A body of an added type is read whole as one string by
every rule (an attack inside is still refused); `raw` types are read as an
octet-stream body is.  Bad lines are configuration errors with file:line."""

import os

import pytest

import ghutil
from test_waf import CRS, start, send, untouched, waf_block

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

XML = [("Content-Type", "application/xml; charset=utf-8"), ("Depth", "1")]
PROPFIND = (b'<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop>'
            b'<D:resourcetype/><D:getetag/></D:prop></D:propfind>')
DAV = "allow_methods PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK REPORT"

SDP_TYPE = [("Content-Type", "application/sdp")]
# a WHIP offer (RFC 9725), trimmed
SDP = (b"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
       b"a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n"
       b"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n"
       b"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Fh2x\r\na=ice-pwd:t3pQ0cD2fWk1yZ8rH6mN4sV9\r\n"
       b"a=ice-options:trickle\r\na=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:"
       b"CC:87:32:BE:DD:8C:66:A5:8E:50:55:EE:39:54:87:71:C6:A0:DB:3E\r\n"
       b"a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:stream audio0\r\n"
       b"a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
       b"a=fmtp:111 minptime=10;useinbandfec=1\r\n"
       b"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
       b"a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\n"
       b"a=fmtp:97 apt=96\r\n")
SPARQL = (b"PREFIX foaf: <http://xmlns.com/foaf/0.1/>\nSELECT ?name ?mbox\n"
          b"WHERE { ?x foaf:name ?name . ?x foaf:mbox ?mbox }\nLIMIT 10\n")
MARKDOWN = (b"# Meeting notes\n\n- review the *draft* before Friday\n- [spec](https://example.com/spec)"
            b"\n- ship **v2.1** to `staging`\n\n| who | what |\n|-----|------|\n| Anja | docs |\n")
# Read whole, a SPARQL query and Markdown look like code to the CRS (941130
# on the "xmlns" of a PREFIX's URL, 932115; 932105 on a table's pipes):
# their operator lists them `raw`, as a binary type (which fails the JSON
# parser read whole, 200002).
TYPES = "allow_types application/sdp\nallow_types application/sparql-query Text/Markdown raw"


def blocked_by(g, rule):
    return any("waf crs blocked" in l and rule in l for l in g.stderr_text().splitlines())


def test_webdav_methods_refused_by_default_and_passed_with_allow_methods(gatehouse, origin, port):
    # D47 allows the WebDAV family but a PROPFIND without Depth 0/1 and
    # unregistered methods (CHECKOUT: RFC 3253's versioning stays out)
    g = start(gatehouse, port, origin)
    assert send(port, "PROPFIND", "/dav/files/anja/", [XML[0]], PROPFIND).status == 403
    assert send(port, "CHECKOUT", "/dav/files/anja/new/").status == 403
    assert untouched(origin)
    assert blocked_by(g, "911100"), g.stderr_tail()

    p2 = ghutil.free_port()
    g2 = start(gatehouse, p2, origin, waf=DAV)
    assert send(p2, "PROPFIND", "/dav/files/anja/", XML, PROPFIND).status == 200
    assert send(p2, "MKCOL", "/dav/files/anja/new/").status == 200
    assert send(p2, "MOVE", "/dav/files/anja/a.txt",
                [("Destination", "http://shop.example.com/dav/files/anja/b.txt")]).status == 200
    # D1's list is kept (added to, not replaced) ...
    assert send(p2, "PUT", "/dav/files/anja/a.txt", [("Content-Type", "application/octet-stream")],
                b"hello").status == 200
    assert send(p2, "GET", "/dav/files/anja/a.txt").status == 200
    # ... other methods are still refused, and an attack in an allowed one too
    hits = origin.stats.heads
    assert send(p2, "CHECKOUT", "/dav/").status == 403
    assert send(p2, "PROPFIND", "/dav/files/anja/?id=1'%20or%201=1--", XML, PROPFIND).status == 403
    assert origin.stats.heads == hits
    assert blocked_by(g2, "942100"), g2.stderr_tail()


def test_allow_methods_with_the_prefilter_and_with_defaults_off(gatehouse, origin, port):
    # the pre-filter reads the added list as ModSecurity does
    g = start(gatehouse, port, origin, waf=DAV + "\nprefilter on")
    assert send(port, "PROPFIND", "/dav/", XML, PROPFIND).status == 200
    assert send(port, "MKCOL", "/dav/x/").status == 200
    hits = origin.stats.heads
    assert send(port, "CHECKOUT", "/dav/").status == 403
    assert send(port, "MKCOL", "/dav/x/?id=1'%20or%201=1--").status == 403
    assert origin.stats.heads == hits
    # defaults off: added to the CRS's own list (GET HEAD POST OPTIONS)
    p2 = ghutil.free_port()
    start(gatehouse, p2, origin, waf="defaults off\nallow_methods MKCOL")
    assert send(p2, "MKCOL", "/dav/x/").status == 200
    assert send(p2, "MOVE", "/dav/x/").status == 403
    assert send(p2, "GET", "/dav/x/").status == 200
    assert send(p2, "PUT", "/dav/x/a", [("Content-Type", "application/json")], b"{}").status == 403


def test_allow_methods_adds_to_a_list_set_in_crs_setup(gatehouse, origin, port, tmp_path):
    # an operator's policy before the CRS wins over D1, and allow_methods adds to it
    policy = tmp_path / "waf-policy.conf"
    policy.write_text("SecAction \"id:1000,phase:1,pass,nolog,t:none,"
                      "setvar:'tx.allowed_methods=GET HEAD POST OPTIONS'\"\n")
    gatehouse(ghutil.simple_http_config(port, [origin.addr], frontend_extra="use_waf crs")
              + "waf crs {\n    rules %s\n    rules %s\n    prefilter off\n"
              "    allow_methods MKCOL\n}\n" % (policy, CRS))
    assert send(port, "MKCOL", "/dav/x/").status == 200
    assert send(port, "GET", "/dav/x/").status == 200
    # PUT is D1's, and the operator's list left it out
    assert send(port, "PUT", "/dav/x/a", [("Content-Type", "application/json")], b"{}").status == 403


def test_protocol_types_refused_by_default_passed_with_allow_types(gatehouse, origin, port):
    # D48 reads an unlisted type by default; with `defaults off` the CRS's
    # policy refuses it
    g = start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "POST", "/whip/live", SDP_TYPE, SDP).status == 403
    assert send(port, "POST", "/sparql", [("Content-Type", "application/sparql-query")],
                SPARQL).status == 403
    assert untouched(origin)
    assert blocked_by(g, "920420"), g.stderr_tail()

    for extra in ("", "\nprefilter on"):
        p2 = ghutil.free_port()
        g2 = start(gatehouse, p2, origin, waf=TYPES + extra)
        assert send(p2, "POST", "/whip/live", SDP_TYPE, SDP).status == 200
        assert send(p2, "POST", "/sparql",
                    [("Content-Type", "application/sparql-query; charset=utf-8")],
                    SPARQL).status == 200, g2.stderr_tail()
        assert send(p2, "PUT", "/dav/notes/a.md", [("Content-Type", "text/markdown")],
                    MARKDOWN).status == 200, g2.stderr_tail()
        # the defaults' list is kept
        assert send(p2, "POST", "/api", [("Content-Type", "application/json")],
                    b'{"a": 1}').status == 200
        # read whole: an attack inside the body is still refused
        hits = origin.stats.heads
        for body, rule in (
                (SDP + b"a=tool:1' UNION SELECT password FROM users--\r\n", "942"),
                (SDP + b"s=<script>alert(document.cookie)</script>\r\n", "941")):
            r = send(p2, "POST", "/whip/live", SDP_TYPE, body)
            assert r.status == 403, (extra, body)
            assert blocked_by(g2, rule), (rule, g2.stderr_tail())
        assert origin.stats.heads == hits


def test_raw_types_are_read_as_octet_stream(gatehouse, origin, port):
    # protobuf, as a Prometheus remote write sends it (snappy-compressed:
    # random-looking bytes; its Content-Encoding is 920450's policy, not
    # this one's)
    body = bytes(range(256)) * 4 + os.urandom(4096)
    hdrs = [("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0")]
    start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "POST", "/api/v1/write", hdrs, body).status == 403
    p2 = ghutil.free_port()
    g2 = start(gatehouse, p2, origin, waf="defaults off\nallow_types application/x-protobuf raw")
    for _ in range(5):
        body = os.urandom(8192)
        assert send(p2, "POST", "/api/v1/write", hdrs, body).status == 200, g2.stderr_tail()
    # `raw` is for that type only; others stay refused
    assert send(p2, "POST", "/whip/live", SDP_TYPE, SDP).status == 403


BAD = (
    ("allow_methods PROP'FIND", "'PROP'FIND' is not a method"),
    ("allow_methods GET,POST", "'GET,POST' is not a method"),
    ("allow_methods TRACE", "TRACE is not allowed by allow_methods"),
    ("allow_methods PROPFIND CONNECT", "CONNECT is not allowed by allow_methods"),
    ("allow_types sdp", "'sdp' is not a media type"),
    ("allow_types application/sdp;charset=utf-8", "without parameters"),
    ("allow_types text/*", "no wildcards"),
    ("allow_types application/x|y", "is not a media type"),
    ("allow_types raw application/x-protobuf", "`raw` goes after the types"),
)


@pytest.mark.parametrize("line,msg", BAD)
def test_bad_lines_are_config_errors(tmp_path, line, msg):
    conf = tmp_path / "bad.conf"
    conf.write_text(ghutil.simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + waf_block(line))
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    err = p.stderr.decode()
    assert p.returncode != 0
    n = next(i for i, l in enumerate(conf.read_text().splitlines()) if line in l) + 1
    assert "bad.conf:%d:" % n in err and msg in err, err


def test_good_lines_check(tmp_path):
    conf = tmp_path / "good.conf"
    conf.write_text(ghutil.simple_http_config(1, ["127.0.0.1:2"], frontend_extra="use_waf crs")
                    + waf_block(DAV + "\nallow_methods VERSION-CONTROL\n" + TYPES
                                + "\nallow_types application/x-protobuf application/grpc raw"))
    p = ghutil.run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 0, p.stderr.decode()


def test_bad_line_on_reload_keeps_the_old_policy(gatehouse, origin, port):
    from reloadutil import reload
    g = start(gatehouse, port, origin, waf="allow_methods CHECKOUT")
    assert send(port, "CHECKOUT", "/dav/x/").status == 200
    # a good reload adds PROPFIND ...
    assert reload(g, g.config.replace("allow_methods CHECKOUT",
                                      "allow_methods CHECKOUT\n    allow_methods PROPFIND")) == 2
    assert send(port, "PROPFIND", "/dav/", [XML[0]], PROPFIND).status == 200
    # ... a bad one is refused, and generation 2's policy keeps serving
    assert reload(g, g.config.replace("allow_methods PROPFIND", "allow_methods TRACE")) is None
    t = g.stderr_text()
    assert "TRACE is not allowed by allow_methods" in t, t[-2000:]
    assert "configuration reload failed; generation 2 keeps serving" in t
    assert send(port, "PROPFIND", "/dav/", [XML[0]], PROPFIND).status == 200
    assert send(port, "TRACE", "/").status in (403, 405)


def test_a_type_with_its_own_parser_keeps_it(gatehouse, origin, port):
    # listed again (harmless), still parsed as JSON and XML: not read as one string
    start(gatehouse, port, origin, waf="allow_types application/json application/xml "
          "application/vnd.api+json")
    assert send(port, "POST", "/api", [("Content-Type", "application/json")],
                b'{"a": {"b": [1, 2]}}').status == 200
    assert send(port, "POST", "/api", [("Content-Type", "application/vnd.api+json")],
                b'{"data": {"type": "x"}}').status == 200
    hits = origin.stats.heads
    # not JSON: the parser fails (200002), as without the line
    assert send(port, "POST", "/api", [("Content-Type", "application/json")],
                b"just text").status in (400, 403)
    assert send(port, "POST", "/api", [("Content-Type", "application/json")],
                b'{"q": "1\' union select password from users--"}').status == 403
    assert origin.stats.heads == hits
