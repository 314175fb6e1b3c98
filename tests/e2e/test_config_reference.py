"""docs/configuration.md against the parser (issue 12, "Service management").

`gatehouse --keywords` lists every (context, keyword) the parser's tables
accept: the sections' keyword tables, and the options of `server` and `bind`
lines.  The reference must have an entry (`### `keyword``, with a
`- Context:` line naming that context) for each, and no entry the parser
does not know.  Every entry's example is checked with `gatehouse -t`,
wrapped in a minimal configuration of its context unless it is a whole one.

A change that adds directives adds their entries to docs/configuration.md,
in its feature's section; that is the only file checked here.
"""

import os
import re
import shutil
import subprocess

import pytest

import ghutil
from ghutil import REPO, run_cli

DOC = os.path.join(REPO, "docs", "configuration.md")

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="the gatehouse configuration reference")

# Where an entry of each context goes in docs/configuration.md.
SECTION_OF = {
    "global": "## `global` section",
    "frontend": "## `frontend` section",
    "backend": "## `backend` section",
    "limit": "## `limit` section",
    "waf": "## `waf` section",
    "server": "## Server options",
    "bind": "## Bind options",
}

SECTIONS = ("global", "frontend", "backend", "limit", "waf", "cache")


class Entry:
    def __init__(self, name, line, section):
        self.name, self.line, self.section = name, line, section
        self.fields = {}
        self.contexts = []
        self.example = []

    def where(self):
        return "docs/configuration.md:%d (### `%s`)" % (self.line, self.name)


def parse_doc(text):
    """The entries of the reference: `### `kw`` headings with their
    Syntax/Context/Default lines and their indented example block."""
    entries, cur, section, in_example = [], None, None, False
    for no, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("## "):
            section, cur = raw.strip(), None
            continue
        m = re.match(r"^### `([^`]+)`\s*$", raw)
        if m:
            cur = Entry(m.group(1), no, section)
            entries.append(cur)
            in_example = False
            continue
        if raw.startswith("#"):
            cur = None
            continue
        if cur is None:
            continue
        f = re.match(r"^- (Syntax|Context|Default):\s*(.*)$", raw)
        if f and not cur.example:
            cur.fields[f.group(1)] = f.group(2)
            if f.group(1) == "Context":
                ctx = re.sub(r"\([^)]*\)", "", f.group(2))
                cur.contexts = [c for c in re.split(r"[,\s]+", ctx) if c]
            continue
        if raw.startswith("    ") and (in_example or not raw.strip() == ""):
            if not in_example and cur.example:
                continue   # a second indented block: not the example
            in_example = True
            cur.example.append(raw[4:])
            continue
        if raw.strip() == "" and in_example:
            cur.example.append("")
            continue
        if in_example:
            in_example = False
    for e in entries:
        while e.example and not e.example[-1].strip():
            e.example.pop()
    return entries


def parser_keywords():
    p = run_cli(["--keywords"])
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    rows = [l.split() for l in p.stdout.decode().splitlines() if l.strip()]
    assert rows and all(len(r) == 2 for r in rows), p.stdout
    return [(r[0], r[1]) for r in rows]


def missing_from_doc(keywords, entries):
    """One message per (context, keyword) the parser knows and the reference
    does not document, saying where the entry goes."""
    have = {(c, e.name) for e in entries for c in e.contexts}
    out = []
    for ctx, kw in keywords:
        if (ctx, kw) in have:
            continue
        where = SECTION_OF.get(ctx, "a new '## `%s` section'" % ctx)
        others = sorted(c for c, n in have if n == kw)
        hint = (" (an entry `%s` exists for %s: add %s to its Context line if it is the same "
                "directive)" % (kw, ", ".join(others), ctx)) if others else ""
        out.append("the parser knows `%s` in %s (gatehouse --keywords: '%s %s') but "
                   "docs/configuration.md has no entry for it there: add '### `%s`' with "
                   "'- Context: %s' under %s of docs/configuration.md%s"
                   % (kw, ctx, ctx, kw, kw, ctx, where, hint))
    return out


def unknown_in_doc(keywords, entries):
    known = set(keywords)
    out = []
    for e in entries:
        if not e.contexts:
            out.append("%s has no '- Context:' line naming where it is allowed" % e.where())
        for c in e.contexts:
            if (c, e.name) not in known:
                out.append("%s documents `%s` in %s, which the parser does not accept there "
                           "(not in gatehouse --keywords); fix the Context line or remove the "
                           "entry" % (e.where(), e.name, c))
    return out


@pytest.fixture(scope="module")
def doc_entries():
    with open(DOC, encoding="utf-8") as f:
        return parse_doc(f.read())


@pytest.fixture(scope="module")
def keywords():
    return parser_keywords()


def test_keywords_lists_every_section_table(keywords):
    ctxs = {c for c, _ in keywords}
    assert set(SECTIONS) | {"server", "bind"} <= ctxs, sorted(ctxs)
    # rows from tables in other files than the section's own: the server
    # options of cfg_tls.c, the bind options of cfg_deploy.c / cfg_proxy.c
    for row in [("global", "workers"), ("frontend", "bind"), ("backend", "server"),
                ("server", "sni"), ("bind", "backlog"), ("bind", "accept_proxy"),
                ("bind", "ciphersuites"), ("limit", "concurrent"), ("waf", "strict")]:
        assert row in keywords, row
    assert len(keywords) == len(set(keywords)), "a keyword listed twice in one context"


def test_every_keyword_is_documented(keywords, doc_entries):
    problems = missing_from_doc(keywords, doc_entries)
    assert not problems, "\n".join(problems)


def test_reference_documents_only_known_keywords(keywords, doc_entries):
    problems = unknown_in_doc(keywords, doc_entries)
    assert not problems, "\n".join(problems)


def test_checker_names_what_is_missing_and_where(keywords, doc_entries):
    """The two checks can fail, and say what to do: drop an entry, and add
    one the parser does not know."""
    dropped = [e for e in doc_entries if e.name != "h2_max_streams"]
    msgs = missing_from_doc(keywords, dropped)
    assert len(msgs) == 1, msgs
    assert "`h2_max_streams` in frontend" in msgs[0]
    assert "'- Context: frontend' under ## `frontend` section" in msgs[0]
    msgs = missing_from_doc([("cache", "max_object_size")], doc_entries)
    assert "under a new '## `cache` section'" in msgs[0]
    bogus = Entry("no_such_directive", 1, "## `global` section")
    bogus.contexts = ["global"]
    msgs = unknown_in_doc(keywords, doc_entries + [bogus])
    assert len(msgs) == 1 and "`no_such_directive` in global" in msgs[0], msgs


def test_every_entry_has_syntax_context_default_and_example(doc_entries):
    problems = []
    for e in doc_entries:
        for f in ("Syntax", "Context", "Default"):
            if not e.fields.get(f):
                problems.append("%s: missing '- %s:' line" % (e.where(), f))
        if not any(l.strip() and not l.lstrip().startswith("#") for l in e.example):
            problems.append("%s: no example (an indented block after the text)" % e.where())
    assert not problems, "\n".join(problems)


# ---- examples through gatehouse -t ------------------------------------------------

TINY_WAF_RULES = 'SecRule ARGS "@contains attack-test" "id:100001,phase:2,deny,status:403"\n'


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The files examples name, relative to the configuration's directory:
    site.pem (chain + key), site.crt/site.key, site-chain.pem + site.ocsp,
    other.pem, ca.pem, client.pem, certs/, 503.html, waf.conf, admin.token.
    An example that needs another file names it relatively and gets a
    fixture here (absolute paths like /etc/gatehouse/... do not exist on a
    test machine)."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("needs the openssl CLI for the TLS examples")
    from test_tls import Pki
    d = tmp_path_factory.mktemp("cfgref")
    k = Pki(d / "pki")
    k.issue("a", "/CN=a.example.com", ["a.example.com"])
    k.issue("b", "/CN=b.example.com", ["b.example.com"])
    k.issue("alice", "/O=Example/CN=alice", client=True)
    chain = open(k.p("a.crt")).read() + open(k.ca).read()
    subprocess.run([openssl, "ocsp", "-index", k.p("index.txt"), "-rsigner", k.ca, "-rkey",
                    k.p("ca.key"), "-CA", k.ca, "-issuer", k.ca, "-cert", k.p("a.crt"),
                    "-respout", str(d / "site.ocsp"), "-ndays", "1"],
                   check=True, capture_output=True, timeout=60)
    (d / "site-chain.pem").write_text(chain + open(k.p("a.key")).read())
    (d / "site.pem").write_text(chain + open(k.p("a.key")).read())
    shutil.copy(k.p("a.crt"), d / "site.crt")
    shutil.copy(k.p("a.key"), d / "site.key")
    shutil.copy(k.p("b.pem"), d / "other.pem")
    shutil.copy(k.ca, d / "ca.pem")
    shutil.copy(k.p("alice.pem"), d / "client.pem")
    (d / "certs").mkdir()
    shutil.copy(k.p("b.pem"), d / "certs" / "b.pem")
    (d / "503.html").write_text("<h1>Down for maintenance</h1>\n")
    (d / "waf.conf").write_text(TINY_WAF_RULES)
    (d / "admin.token").write_text("s3cr3t-t0ken-for-the-examples\n")
    os.chmod(d / "admin.token", 0o600)
    return d


def _has(lines, word):
    return any(re.match(r"\s*%s\b" % re.escape(word), l) for l in lines)


def _indent(lines):
    return "".join("    %s\n" % l for l in lines)


def wrap(entry):
    """The example as a whole configuration: as written when it opens a
    section, else inside a minimal one of the entry's first context."""
    ex = entry.example
    first = next((l for l in ex if l.strip() and not l.lstrip().startswith("#")), "")
    if re.match(r"^(%s)\b.*\{\s*(#.*)?$" % "|".join(SECTIONS), first):
        return "\n".join(ex) + "\n"
    ctx = entry.contexts[0]
    tcp = any(re.match(r"\s*mode tcp\b", l) for l in ex)
    mode = "    mode tcp\n" if tcp else ""
    backends = "".join("backend %s {\n%s    server s1 127.0.0.1:9\n}\n" % (b, mode)
                       for b in ("app", "api", "pg"))
    if ctx in ("frontend", "bind"):
        body = ex
        pre = "" if _has(ex, "bind") else "    bind 127.0.0.1:1\n"
        post = "" if _has(ex, "default_backend") else "    default_backend app\n"
        return "frontend ex {\n%s%s%s}\n%s" % (pre, _indent(body), post, backends)
    if ctx in ("backend", "server"):
        post = "" if _has(ex, "server") else "    server s1 127.0.0.1:9\n"
        return ("frontend ex {\n    bind 127.0.0.1:1\n%s    default_backend ex\n}\n"
                "backend ex {\n%s%s}\n" % (mode, _indent(ex), post))
    if ctx == "global":
        return "global {\n%s}\n" % _indent(ex)
    if ctx == "limit":
        pre = "" if _has(ex, "key") else "    key src\n"
        post = "" if _has(ex, "rate") or _has(ex, "concurrent") else "    rate 10/s\n"
        return "limit ex {\n%s%s%s}\n" % (pre, _indent(ex), post)
    if ctx == "waf":
        pre = "" if _has(ex, "rules") else "    rules waf.conf\n"
        return "waf ex {\n%s%s}\n" % (pre, _indent(ex))
    if ctx == "cache":
        pre = "" if _has(ex, "size") else "    size 16m\n"
        return "cache ex {\n%s%s}\n" % (pre, _indent(ex))
    raise AssertionError("%s: no way to check an example in context %s" % (entry.where(), ctx))


def test_every_example_passes_the_check(doc_entries, files):
    failures = []
    for i, e in enumerate(doc_entries):
        if not e.example or not e.contexts:
            continue
        conf = files / ("example-%03d-%s.conf" % (i, re.sub(r"\W", "_", e.name)))
        conf.write_text(wrap(e))
        p = run_cli(["-t", "-c", str(conf)], timeout=120)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            failures.append("%s: its example fails `gatehouse -t`:\n%s\n--- config:\n%s"
                            % (e.where(), err, conf.read_text()))
    assert not failures, "\n\n".join(failures)


def test_a_broken_example_is_caught(doc_entries, files):
    """The example check fails on a bad value (so it is not vacuous)."""
    e = next(x for x in doc_entries if x.name == "workers")
    bad = Entry("workers", e.line, e.section)
    bad.contexts, bad.example = ["global"], ["workers 65"]
    conf = files / "broken.conf"
    conf.write_text(wrap(bad))
    p = run_cli(["-t", "-c", str(conf)])
    assert p.returncode == 1
    assert b"65 is out of range" in p.stderr
