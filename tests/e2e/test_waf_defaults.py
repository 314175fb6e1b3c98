"""gatehouse's default CRS exclusions for free-text fields (waf/crs_defaults.c
D8-D10, tests/waf/default-exclusions.md): prose about SQL, commands and HTML
in fields named like `message` or `comment` passes; an injection in the same
field that breaks out of a quote, substitutes a command or carries script is
still refused, by the default rules standing in for the CRS's there
(90032-90035); `exclude` of a CRS rule removes its stand-in too; `defaults
off` gives the CRS's verdicts back."""

from urllib.parse import urlencode

import pytest

import ghutil
from test_waf import FORM, JSON, send, start, untouched

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf sections are not translated to HAProxy")

PROSE = ("We'd like a quote for 50 seats; our IT team said the 'select' plan from "
         "your site might fit. Drop me a line, or call: /etc/hosts was fine.")
SQLI = "1' OR '1'='1' -- "            # refused by libinjection (942100) alone in the CRS


def form(**kv):
    return urlencode(kv).encode()


def blocked_by(g, rule):
    return any("waf crs blocked" in l and rule in l for l in g.stderr_text().splitlines())


def test_prose_passes_injection_in_the_same_field_does_not(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    assert send(port, "POST", "/contact", FORM, form(name="Zoe", message=PROSE)).status == 200
    assert send(port, "POST", "/api/notes", JSON,
                b'{"note": {"body": "<p>Hi <img src=\\"/a.png\\"> <!-- x --></p>"}}').status == 200
    hits = origin.stats.heads
    for body, rule in (
            (form(message=SQLI), "90032"),
            (form(comment="'; cat /etc/passwd; '"), "90034"),
            (form(review_text="<p>ok</p><object data=//evil.example/x></object>"), "90033"),
            (form(description="see /proc/self/environ"), "90035")):
        r = send(port, "POST", "/contact", FORM, body)
        assert r.status == 403, body
    assert origin.stats.heads == hits
    for rule in ("90032", "90033", "90034", "90035"):
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    # the same prose in a field that is not free text: the CRS as shipped
    assert send(port, "POST", "/contact", FORM, form(code=PROSE)).status == 403


def test_exclude_removes_the_stand_in(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 942100")
    assert send(port, "POST", "/contact", FORM, form(message=SQLI)).status == 200


def test_defaults_off_is_the_crs_as_shipped(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "POST", "/contact", FORM, form(message=PROSE)).status == 403
    assert untouched(origin)
