"""gatehouse's default CRS exclusions for free-text fields (waf/crs_defaults.c
D8-D10, tests/waf/default-exclusions.md): prose about SQL, commands and HTML
in fields named like `message` or `comment` passes; an injection in the same
field that breaks out of a quote, substitutes a command or carries script is
still refused, by the default rules standing in for the CRS's there
(90032-90035); `exclude` of a CRS rule removes its stand-in too; `defaults
off` gives the CRS's verdicts back."""

from urllib.parse import quote, urlencode

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


# D12-D14 and the code-fence exception of 90034 (tests/waf/default-exclusions.md,
# "Second round"); each test sends the benign shape the default clears and the
# attacks in the same place it promises to keep refusing.

VND_JSON = [("Content-Type", "application/vnd.api+json")]
RETURN_URL = "/login?returnUrl=" + "%2Faccount%2Forders%3Fpage%3D2%26sort%3Ddesc%26type%3Dall"


def test_json_under_a_structured_suffix_is_parsed_as_json(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    ok = b'{"data": {"type": "articles", "attributes": {"title": "Hello"}}}'
    assert send(port, "POST", "/api/articles", VND_JSON, ok).status == 200
    assert send(port, "PATCH", "/api/users/1", [("Content-Type", "application/merge-patch+json")],
                b'{"name": "Zoe"}').status == 200
    hits = origin.stats.heads
    # parsed as JSON: the SQLi inside an attribute is seen
    r = send(port, "POST", "/api/articles", VND_JSON,
             b'{"data": {"id": "1\' UNION SELECT password FROM users--"}}')
    assert r.status == 403
    assert blocked_by(g, "942100"), g.stderr_tail()
    # a body that is not JSON under a +json type fails the JSON parser
    r = send(port, "POST", "/api/articles", VND_JSON, b"name=x' or '1'='1")
    assert r.status == 403
    assert origin.stats.heads == hits


def test_url_parameters_keep_their_query(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    assert send(port, "GET", RETURN_URL).status == 200
    assert send(port, "GET", "/oauth2/authorize?client_id=a&redirect_uri="
                "https%3A%2F%2Fapp.example.com%2Fcb%3Fstart%3D1%26find%3Dx").status == 200
    hits = origin.stats.heads
    for target, headers, body in (
            ("/login?next=" + quote("/x;cat /etc/hostname"), (), b""),
            ("/login?returnUrl=" + quote("/x|id"), (), b""),
            ("/go?target=" + quote("https://a.example/`id`"), (), b""),
            ("/oauth2/authorize?redirect_uri=" + quote("https://a.example/cb&&id"), (), b""),
            ("/api/webhooks", JSON, b'{"callback_url": "https://a.example/$(id)"}')):
        r = send(port, "POST" if body else "GET", target, headers, body)
        assert r.status == 403, target
    assert origin.stats.heads == hits
    assert blocked_by(g, "90036"), g.stderr_tail()


def test_exclude_of_a_command_rule_removes_the_url_stand_in(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 932100-932160")
    assert send(port, "GET", "/go?target=" + quote("https://a.example/`id`")).status == 200


def test_wider_free_text_family(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for body in (
            b'{"comentario": "N\xc3\xa3o consegui selecionar o tamanho, o bot\xc3\xa3o \'Select\' fica cinza. Uso o app ou o site."}',
            b'{"posts": [{"html": "<p>Spring <strong>menu</strong></p><figure><img src=\\"/r.jpg\\"></figure>"}]}',
            b'{"lines": [{"msg": "14 rue de l\'Union, 75011 Paris"}]}',
            b'{"headline": "Data engineer | Python, SQL, Spark"}',
            b'{"body_markdown": "Use csv:\\n\\n```python\\nwith open(\'d.csv\') as f:\\n    print(f.read())\\n```"}'):
        assert send(port, "POST", "/api/x", JSON, body).status == 200, body
    hits = origin.stats.heads
    for body, rule in (
            (b'{"nachricht": "x\' OR \'1\'=\'1\' -- "}', "90032"),
            (b'{"body_html": "<p>hi</p><script>alert(1)</script>"}', "941110"),
            (b'{"markdown": "![x](y) <img src=x onerror=alert(1)>"}', "941120"),
            (b'{"msg": "\'; cat /etc/passwd; \'"}', "90034")):
        assert send(port, "POST", "/api/x", JSON, body).status == 403, body
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    assert origin.stats.heads == hits


def test_markdown_code_fence_is_not_a_backtick_break_out(gatehouse, origin, port):
    start(gatehouse, port, origin)
    fenced = form(content="First install rsync:\n\n```\nsudo apt install rsync\n"
                          "rsync -av /home/pi/ /mnt/backup/\n```\n\nThen add it to cron.")
    assert send(port, "POST", "/admin/posts", FORM, fenced).status == 200
    hits = origin.stats.heads
    for text in ("```id```", "intro\n`id`", "`id`"):
        assert send(port, "POST", "/admin/posts", FORM, form(content=text)).status == 403, text
    assert origin.stats.heads == hits


def test_defaults_off_refuses_the_new_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "POST", "/api/articles", VND_JSON, b'{"data": {}}').status == 403
    assert send(port, "GET", RETURN_URL).status == 403
    assert untouched(origin)
