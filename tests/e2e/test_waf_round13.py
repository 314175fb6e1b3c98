"""The thirteenth round (tests/waf/default-exclusions.md, "Thirteenth round:
D56-D65"), designed from holdout17-19's leftovers, through real sockets at
PL1 with the pre-filter on:

- D56: a Google Visualization API query in `tq` and Confluence CQL in
  `cql` pass (942100 refused both); SQL injections in them are refused by
  90093, including ones 942100 missed.
- D57: a return path percent-encoded once and sent as a form or query
  value (a letter encoded twice, "ch%25C3%25A2teau") passes the strict
  check; ASCII, U+00BC/U+00BE, fullwidth forms, overlongs encoded twice and
  a path stay refused (400).
- D58: a boolean search with quoted phrases passes 90048; a phrase that
  opens or closes on an operator or a quote glued to text does not.
- 90108 refuses a statement stacked after ";" in a (JSON) sort field,
  90109 a backtick substitution glued to a query argument's word and 90110
  an AngularJS template expression reaching the Function constructor.

Every request in BENIGN and ATTACKS fails on the build before this round
(403 or 400 for BENIGN, 200 for ATTACKS); PRICE is refused before and after."""

import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

import ghutil
from test_waf import FORM, JSON, check_benign_and_attacks, send, start

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

BENIGN = [
    # D56 (h17-spreadsheet-005, h18-wiki-001)
    ("GET", "/api/sheets/sh_12/query?tq=" + quote("select A, sum(C) where B = 'EMEA' group by A")
     + "&tqx=out%3Ajson", (), b""),
    ("GET", "/wiki/rest/api/search?cql=" + quote('siteSearch ~ "onboarding checklist" AND type in '
                                                 '("page","blogpost")') + "&limit=20", (), b""),
    # D57 (h17-wine_shop-001): the value is "/en-gb/red/ch%C3%A2teauneuf-du-pape"
    ("POST", "/age-gate", FORM,
     urlencode([("dob_year", "1990"), ("next", "/en-gb/red/ch%C3%A2teauneuf-du-pape")]).encode()),
    ("GET", "/login?return_to=%2Fja%2F%25E6%2597%25A5%25E6%259C%25AC", (), b""),
    # D58 (h19-jobseeker_profile-004)
    ("GET", "/jobs?q=" + quote_plus('barista OR "coffee shop" -manager') + "&radius=10", (), b""),
    ("GET", "/jobs?q=" + quote_plus('"junior" OR "senior" -"team lead"'), (), b""),
]

# (method, target, headers, body, rule, message)
ATTACKS = [
    ("GET", "/pbx/admin/dialplan/export?file=ext-local%60id%60.conf", (), b"",
     "90109", "Command substitution in backticks"),
    ("GET", "/running/convert?fmt=gpx%60id%60", (), b"", "90109", "Command substitution in backticks"),
    ("POST", "/api/qa/questions/search", JSON,
     json.dumps({"tags": ["astronomy"], "sort": "votes DESC; DROP TABLE questions;--"}).encode(),
     "90108", "SQL injection in a sort parameter"),
    ("POST", "/rooms/api/bookings", JSON,
     json.dumps({"room": "oslo-4", "title": "{{constructor.constructor('alert(1)')()}}"}).encode(),
     "90110", "Template injection reaching the Function constructor"),
    ("GET", "/api/sheets/sh_12/query?tq=" + quote("select A where B = 'x' or 'a'='a' --"), (), b"",
     "90093", "SQL injection in a filter-language parameter"),
]

# refused before and after: what D56-D58 could have admitted
PRICE = [
    ("GET", "/api/sheets/sh_12/query?tq=" + quote("select A where B = 1; drop table users--"), 403),
    ("GET", "/wiki/rest/api/search?cql=" + quote("type = page union select username,password from u"),
     403),
    ("GET", "/download?next=%25C3%25A2%252e%252e%252fetc%252fpasswd", 400),
    ("GET", "/search?q=%25EF%25BC%259Cscript%25EF%25BC%259Ealert(1)", 400),
    ("GET", "/en-gb/red/ch%25C3%25A2teau/x", 400),
    ("GET", "/jobs?q=" + quote_plus('x "or 1 or"'), 403),
    ("GET", "/jobs?q=" + quote_plus('abc" OR 1 OR "def'), 403),
]


def test_benign_pass_and_attacks_are_refused(gatehouse, origin, port):
    g = start(gatehouse, port, origin, waf="prefilter on")
    check_benign_and_attacks(g, origin, port, BENIGN, ATTACKS)


def test_the_price_stays_refused(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="prefilter on")
    for method, target, status in PRICE:
        assert send(port, method, target).status == status, target
    assert origin.stats.heads == 0


@pytest.mark.parametrize("waf", ["defaults off", "exclude 90108-90110"])
def test_without_the_detections_the_crs_lets_them_through(gatehouse, origin, port, waf):
    start(gatehouse, port, origin, waf=waf)
    for method, target, headers, body, rule, _ in ATTACKS[:4]:
        assert send(port, method, target, headers, body).status == 200, (waf, target, body)
