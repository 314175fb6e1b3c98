"""The twelfth round's defaults (tests/waf/default-exclusions.md): D50
941310 on bytes that are no UTF-8 character, D51 Accept and Content-Type
parameters, D52 jql and OneRoster's filter, D53 GraphQL documents and
932110, D54 statute subsections and 90047, D55 +json collections one
document a line.  Each benign shape passes and its attack neighbours are
still refused (the benign ones were all refused by the D1-D49 build)."""

from urllib.parse import quote

import pytest

import ghutil
from httpraw import request
from test_waf import start, send

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Content-Type", "application/json")
# "м" is D0 BC and "о" D0 BE: 941310's "<" and ">" in US-ASCII
RU = "Я бы хотел больше вариантов оплаты, например СБП. Спасибо!"
JA = "鹿沼市御成橋の近くで、とても美味しかったです。"
ZH = "质量很好，物流也快，包装完整，推荐购买。"


def test_d50_utf8_text_passes_and_stray_bytes_are_refused(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ok = [("POST", "/s/next", [FORM], ("q=%s&rank=1%%3B3%%3B5" % quote(RU)).encode()),
          ("POST", "/api/reviews", [JSON], ('{"text": "%s", "lang": "ja"}' % JA).encode()),
          ("GET", "/search?q=" + quote(ZH), [], b""),
          ("GET", "/account", [("Cookie", "city=" + quote(JA))], b""),
          ("POST", "/api/notes", [("Content-Type", "application/xml")],
           ('<?xml version="1.0"?><note><text>%s %s</text></note>' % (RU, JA)).encode())]
    for m, t, h, b in ok:
        assert send(port, m, t, h, b).status == 200, (t, h)
    hits = origin.stats.heads
    bad = [("GET", "/account", [("Cookie", "pref=%BCscript%BEalert(1)%BC/script%BE")], b""),
           # a lead byte cut short: no character, 7-bit reads "<script>"
           ("GET", "/account", [("Cookie", "n=%E3%BCscript%E3%BEalert(1)%E3%BC/script%E3%BE")], b""),
           # overlong brackets (C0 BC is "<" to a decoder that takes overlongs)
           ("GET", "/account", [("Cookie", "n=%C0%BCscript%C0%BEalert(1)%C0%BC/script%C0%BE")], b""),
           ("POST", "/api/c", [JSON], b'{"t": "%E0%80%BCscript%E0%80%BEalert(1)"}'),
           # U+00BC and U+00BE themselves (the CRS's own test)
           ("POST", "/reviews", [FORM], b"review=%C2%BCscript%C2%BEalert(1)%C2%BC/script%C2%BE"),
           ("POST", "/api/comments", [JSON],
            ('{"text": "%s &#188;script&#190;alert(1)&#188;/script&#190;"}' % RU).encode()),
           ("POST", "/api/notes", [("Content-Type", "application/xml")],
            b"<note><text>&#188;script&#190;alert(1)&#188;/script&#190;</text></note>")]
    for m, t, h, b in bad:
        assert send(port, m, t, h, b).status in (400, 403), (t, h, b)
    assert origin.stats.heads == hits


def test_d50_exclude_941310_removes_its_stand_in(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 941310")
    assert send(port, "GET", "/account",
                [("Cookie", "pref=%BCscript%BEalert(1)%BC/script%BE")]).status == 200


JAVA_ACCEPT = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
IIIF_ACCEPT = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
ANNO = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def get_accept(port, target, accept, ua="JOSM/1.5 (18907 en) Java/17.0.9"):
    # one Accept header (send() adds its own)
    return request(port, "GET", target, [("Host", "shop.example.com"), ("User-Agent", ua),
                                         ("Accept", accept)], b"")


def test_d51_accept_and_content_type_parameters(gatehouse, origin, port):
    start(gatehouse, port, origin)
    assert get_accept(port, "/api/0.6/map?bbox=-9.142,38.708,-9.134,38.713", JAVA_ACCEPT).status == 200
    assert get_accept(port, "/iiif/3/obj-1/info.json", IIIF_ACCEPT).status == 200
    assert send(port, "POST", "/annotations", [("Content-Type", ANNO)],
                b'{"type": "Annotation", "body": {"value": "Glaze crawling at the foot."}}').status == 200
    hits = origin.stats.heads
    bad_accept = [JAVA_ACCEPT + "; charset=utf-7",
                  'application/ld+json;profile="<script>alert(1)</script>"',
                  'application/ld+json;charset="utf-7";profile="http://iiif.io/api/image/3/context.json"',
                  "*; q=1' or '1'='1"]
    for a in bad_accept:
        assert get_accept(port, "/iiif/3/obj-1/info.json", a).status == 403, a
    bad_ct = [('application/ld+json; profile="javascript:alert(1)"', b'{"type": "Annotation"}'),
              ('text/html; profile="http://www.w3.org/ns/anno.jsonld"', b"<p>x</p>"),
              (ANNO + "; x-evil=1", b'{"type": "Annotation"}'),
              (ANNO, b'{"body": {"value": "<script>alert(document.cookie)</script>"}}')]
    for t, b in bad_ct:
        assert send(port, "POST", "/annotations", [("Content-Type", t)], b).status == 403, t
    assert origin.stats.heads == hits


def test_d52_jql_and_oneroster_filter(gatehouse, origin, port):
    start(gatehouse, port, origin)
    jql = "/rest/api/2/search?maxResults=50&jql="
    ros = "/ims/oneroster/v1p1/classes/cl-88/students?limit=100&filter="
    ok = [jql + quote('project = OPS AND status in ("In Progress", "To Do") AND assignee = '
                      'currentUser() ORDER BY priority DESC, updated ASC', safe=""),
          ros + quote("status='active' AND familyName~'Mc'", safe="")]
    for t in ok:
        assert send(port, "GET", t).status == 200, t
    hits = origin.stats.heads
    bad = [jql + quote("project = OPS UNION SELECT password FROM cwd_user", safe=""),
           jql + quote("project = 'OPS' or '1'='1'", safe=""),
           jql + quote("project = OPS; DROP TABLE jiraissue --", safe=""),
           ros + quote("status='active' OR 1=1--", safe=""),
           ros + quote("status='x' or 'a'='a'", safe=""),
           # filter off a OneRoster path keeps 942100
           "/api/users?filter=" + quote("1' and 1=1 and 'a'='a", safe="")]
    for t in bad:
        assert send(port, "GET", t).status == 403, t
    assert origin.stats.heads == hits


def test_d53_graphql_label_field(gatehouse, origin, port):
    start(gatehouse, port, origin)
    doc = b'{"query": "query Nav { navigation(id: \\"main\\") { items { label href } } }"}'
    assert send(port, "POST", "/graphql", [JSON], doc).status == 200
    hits = origin.stats.heads
    bad = [b'{"query": "mutation { exportReport(name: \\"q4 & net user backdoor P4ss! /add\\") { id } }"}',
           b'{"query": "mutation R($c: String!) { run(name: $c) { id } }", '
           b'"variables": {"c": "{ label c: & type c:\\\\windows\\\\win.ini"}}']
    for b in bad:
        assert send(port, "POST", "/graphql", [JSON], b).status == 403, b
    # off a /graphql path 932110 reads it
    assert send(port, "GET", "/api/run?cmd=" + quote("{ label c: & type c:\\windows\\win.ini",
                                                      safe="")).status == 403
    assert origin.stats.heads == hits


def test_d54_statute_subsections(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ok = b'{"title": "Defendant\'s Motion to Compel Under Fed. R. Civ. P. 34(b)(2) and 42 U.S.C. 1983(a)"}'
    assert send(port, "POST", "/efiling/api/filings", [JSON], ok).status == 200
    hits = origin.stats.heads
    for t in ["Rule 34 (system)('id')", "1;(system)('id')", "f1(system)('id')",
              "P. 34 (sy.(st).em)('whoami')"]:
        assert send(port, "POST", "/efiling/api/filings", [JSON],
                    ('{"title": "%s"}' % t).encode()).status == 403, t
    assert origin.stats.heads == hits


def test_d55_json_collection_one_document_a_line(gatehouse, origin, port):
    start(gatehouse, port, origin)
    ct = ("Content-Type", "application/vnd.akeneo.collection+json")
    ok = b'{"identifier":"4006381333948","enabled":true}\n{"identifier":"4006381333955","enabled":false}\n'
    assert send(port, "PATCH", "/api/rest/v1/products", [ct], ok).status == 200
    hits = origin.stats.heads
    bad = [b'{"identifier":"1"}\n{"identifier":"x\' union select password from users--"}\n',
           b'{"identifier":"1"}\n{"name":"<script>alert(document.cookie)</script>"}\n',
           b'{"identifier":"1"}\nidentifier=1\' or \'1\'=\'1\n']
    for b in bad:
        assert send(port, "PATCH", "/api/rest/v1/products", [ct], b).status == 403, b
    assert origin.stats.heads == hits
