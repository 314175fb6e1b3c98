"""The twelfth round's native detections (waf/crs_defaults.c 90100-90108,
tests/waf/default-exclusions.md "Twelfth round, detection"): an XML
external entity, Spring4Shell parameter names, a serialized Java object in
a cookie, a traversal in an upload's file name, SQL injection in
X-Forwarded-For, Spring actuator and server-status probes, a DDE formula
in a CSV column, a command path written in "?" wildcards and a CASE in a
sort parameter are refused at PL1 before the origin sees them, with the
pre-filter on (the rules are gatehouse's own: the pre-filter must plan
them, or such a request would skip ModSecurity), each logged with its rule
id.  Their benign neighbours pass: cXML's own DOCTYPE, internal entities,
a parameter named "class", base64 cookies, file names with dots,
forwarding headers of addresses, actuator health, ordinary spreadsheet
formulas, sort keys.  The CRS 3.3.4 as shipped (`defaults off`) and
`exclude 90100-90108` let the attacks through."""

import json
from urllib.parse import quote, urlencode

import pytest

import ghutil
from test_waf import FORM, JSON, MP_CT, check_benign_and_attacks, mp_part, send, start

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

XML = [("Content-Type", "application/xml")]


def upload(filename, ctype, data):
    return (mp_part(b'form-data; name="file"; filename="%s"\r\nContent-Type: %s'
                    % (filename, ctype), data) + b"--XyZ--\r\n")


SER = "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0"

# (method, target, headers, body, the rule that refuses it, its message)
ATTACKS = [
    ("POST", "/api/import/xml", XML,
     b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "http://169.254.169.254/latest/">]>'
     b"<r><name>&x;</name></r>", "90100", "XML external entity declaration"),
    ("POST", "/tm/xliff", MP_CT,
     upload(b"de.xlf", b"application/xml",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>'
            b"<xliff/>"), "90100", "XML external entity declaration"),
    ("POST", "/account/settings", FORM,
     urlencode([("class.module.classLoader.resources.context.parent.pipeline.first.suffix",
                 ".jsp"), ("name", "x")]).encode(), "90101", "Spring4Shell"),
    ("GET", "/portal/home", [("Cookie", "JSESSIONID=A1B2; rememberMe=" + SER)], b"",
     "90102", "Serialized Java object"),
    ("POST", "/mods/upload", MP_CT,
     upload(b"../../../../home/steam/.ssh/authorized_keys", b"application/octet-stream",
            b"ssh-ed25519 AAAA x@y"), "90103", "Path traversal in an upload file name"),
    ("GET", "/rides/history",
     [("X-Forwarded-For", "10.1.1.1' AND (SELECT 4412 FROM (SELECT(SLEEP(5)))xYz) AND 'a'='a")],
     b"", "90104", "SQL injection in a client address header"),
    ("GET", "/actuator/env", [], b"", "90105", "Operations endpoint probe"),
    ("GET", "/server-status", [], b"", "90105", "Operations endpoint probe"),
    ("POST", "/import/contacts", FORM,
     urlencode([("csv", "name,email\n=cmd|' /C calc'!A0,x@example.com\n")]).encode(),
     "90106", "Spreadsheet formula running a program"),
    ("POST", "/tools/ping", FORM,
     urlencode([("host", "127.0.0.1\n/???/c?t /???/p??s??")]).encode(),
     "90107", "Command path obfuscated with wildcards"),
    ("GET", "/kanban/boards/42/cards?sort=" + quote("position desc,(select case when "
                                                    "substring(current_user,1,1)='p' then 1 "
                                                    "else 1/0 end)"), [], b"",
     "90108", "SQL injection in a sort parameter"),
]

BENIGN = [
    ("POST", "/punchout/setup", [("Content-Type", "text/xml")],
     b'<?xml version="1.0"?>\n<!DOCTYPE cXML SYSTEM '
     b'"http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n<cXML payloadID="1@x"><Request/></cXML>'),
    ("POST", "/api/notes", XML,
     b'<?xml version="1.0"?><!DOCTYPE note [<!ENTITY ns_svg "http://www.w3.org/2000/svg">'
     b'<!ENTITY company "Acme Ltd">]><note>&company;</note>'),
    ("POST", "/timetable/save", FORM,
     urlencode([("class", "7B"), ("class.name", "Economy"), ("css_class", "btn")]).encode()),
    ("GET", "/dashboard", [("Cookie", "pref=eyJ0aGVtZSI6ImRhcmsifQ; trace=acedf00d5c3b; n=rO0Q9vZ")],
     b""),
    ("POST", "/files/upload", MP_CT,
     upload(b"report..final.pdf", b"application/pdf", b"%PDF-1.7")),
    ("GET", "/api/me", [("X-Forwarded-For", "203.0.113.7, unknown, 10.0.0.2, 2001:db8::1"),
                        ("X-Real-IP", "[2001:db8::2]:4711")], b""),
    ("GET", "/actuator/health", [], b""),
    ("GET", "/docs/spring/actuator-env-guide/server-status-page", [], b""),
    ("POST", "/sheets/cells", JSON,
     json.dumps({"formula": "=VLOOKUP(A2,'Price list'!A:B,2,FALSE)", "total": "=SUM(B2:B9)"})
     .encode()),
    ("GET", "/repos/settings?ignore=" + quote("/**/*.log") + "&q=" + quote("what???/why"), (),
     b""),
    ("GET", "/api/cases?sort=case_number&order_by=" + quote("revenue desc") + "&sortBy=when_created",
     (), b""),
]


def test_attacks_are_refused_and_lookalikes_pass(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="prefilter on")
    check_benign_and_attacks(g, origin, port, BENIGN, ATTACKS)


@pytest.mark.parametrize("waf", ["defaults off", "exclude 90100-90108"])
def test_without_the_rules_the_crs_lets_them_through(gatehouse, origin, port, waf):
    start(gatehouse, port, origin, waf=waf)
    for method, target, headers, body, rule, _ in ATTACKS:
        if waf == "defaults off" and rule == "90106":
            continue    # 942190 refuses it; its stand-in under the defaults, 90045, does not
        assert send(port, method, target, headers, body).status == 200, (waf, target, body)
