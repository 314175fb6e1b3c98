"""
haproxy_compat.py - translates a gatehouse configuration into an HAProxy one.

Only for validating the harness itself (GATEHOUSE_IMPL=haproxy): the same
tests run against /usr/sbin/haproxy so that a test failure there is either a
known behavioural difference or a bug in the test.  Raises Unsupported for
anything it cannot express; the runner then skips the test.
"""

import re


class Unsupported(Exception):
    pass


def _strip_comment(line):
    out = []
    q = False
    for ch in line:
        if ch == '"':
            q = not q
        if ch == "#" and not q:
            break
        out.append(ch)
    return "".join(out)


def _tokens(line):
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+', line)
    return toks


_FETCH = {
    "host": "hdr(host)",
    "path": "path",
    "method": "method",
    "src": "src",
}


def _fetch(tok):
    if tok in _FETCH:
        return _FETCH[tok], tok == "host"
    m = re.match(r"(header|query|cookie)\(([^)]+)\)$", tok)
    if not m:
        raise Unsupported("fetch %r" % tok)
    kind, name = m.groups()
    return {"header": "hdr(%s)", "query": "url_param(%s)", "cookie": "req.cook(%s)"}[kind] % name, kind == "header"


def _cond(toks):
    """gatehouse condition tokens -> HAProxy condition string (no parens)."""
    if "(" in toks or ")" in toks:
        raise Unsupported("parenthesised conditions")
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "or":
            out.append("||")
            i += 1
            continue
        if t == "and":
            i += 1
            continue
        neg = False
        while t == "not":
            neg = not neg
            i += 1
            t = toks[i]
        fetch, icase = _fetch(toks[i])
        op = toks[i + 1]
        i += 2
        if op == "in":
            vals = []
            while i < len(toks) and toks[i] not in ("and", "or"):
                vals.append(toks[i].strip('"'))
                i += 1
        else:
            vals = [toks[i].strip('"')]
            i += 1
        matcher = {"==": "str", "!=": "str", "prefix": "beg", "suffix": "end",
                   "contains": "sub", "~": "reg", "in": "str"}.get(op)
        if matcher is None:
            raise Unsupported("op %r" % op)
        if fetch == "src" and op == "in":
            matcher = "ip"
        if op == "!=":
            neg = not neg
        flags = "-i " if icase else ""
        term = "{ %s %s-m %s %s }" % (fetch, flags, matcher, " ".join(vals))
        out.append(("!" if neg else "") + term)
    return " ".join(out)


def translate(text):
    glob = {"workers": "1", "max_connections": "9800", "drain": "10s", "bufsize": None}
    sections = []
    cur = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        toks = _tokens(line)
        if toks == ["}"]:
            cur = None
            continue
        if toks[-1] == "{":
            kind = toks[0]
            name = toks[1] if len(toks) > 2 else None
            cur = {"kind": kind, "name": name, "lines": []}
            if kind != "global":
                sections.append(cur)
            continue
        if cur is None:
            raise Unsupported("directive outside a block: %r" % line)
        if cur["kind"] == "global":
            if toks[0] == "workers":
                glob["workers"] = "2" if toks[1] == "auto" else toks[1]
            elif toks[0] == "max_connections":
                glob["max_connections"] = toks[1]
            elif toks[:2] == ["timeout", "drain"]:
                glob["drain"] = toks[2]
            elif toks[0] == "tune.bufsize":
                glob["bufsize"] = str(_size(toks[1]))
            else:
                raise Unsupported("global %r" % line)
        else:
            cur["lines"].append(toks)

    out = ["global",
           "    nbthread %s" % glob["workers"],
           "    maxconn %s" % glob["max_connections"],
           "    hard-stop-after %s" % glob["drain"]]
    if glob["bufsize"]:
        out.append("    tune.bufsize %s" % glob["bufsize"])
    out += ["defaults",
            "    timeout connect 5s",
            "    timeout client 60s",
            "    timeout http-keep-alive 60s",
            "    timeout server 30s",
            "    timeout http-request 10s",
            "    timeout tunnel 1h",
            "    option http-keep-alive",
            ""]
    for sec in sections:
        kind, name = sec["kind"], sec["name"]
        if kind not in ("frontend", "backend"):
            raise Unsupported("section %r" % kind)
        mode = "http"
        for toks in sec["lines"]:
            if toks[0] == "mode":
                mode = toks[1]
        out.append("%s %s" % (kind, name))
        out.append("    mode %s" % mode)
        fwd = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]
        for toks in sec["lines"]:
            d = toks[0]
            if d == "mode":
                continue
            if kind == "frontend":
                if d == "bind":
                    out.append("    bind %s" % toks[1])
                elif d == "timeout" and toks[1] == "header":
                    out.append("    timeout http-request %s" % toks[2])
                elif d == "timeout" and toks[1] == "client":
                    out.append("    timeout client %s" % toks[2])
                    out.append("    timeout http-keep-alive %s" % toks[2])
                elif d == "timeout" and toks[1] == "tunnel":
                    out.append("    timeout tunnel %s" % toks[2])
                elif d == "max_body_size":
                    out.append("    http-request deny deny_status 413 if { req.hdr_val(content-length) gt %d }"
                               % _size(toks[1]))
                elif d == "forward_headers":
                    fwd = [t.lower() for t in toks[1:]]
                elif d == "use_backend":
                    be = toks[1]
                    kw = toks[2]
                    cond = _cond(toks[3:])
                    out.append("    use_backend %s %s %s" % (be, kw, cond))
                elif d == "default_backend":
                    out.append("    default_backend %s" % toks[1])
                else:
                    raise Unsupported("frontend %r" % toks)
            else:
                if d == "balance":
                    out.append("    balance %s" % toks[1])
                elif d == "server":
                    extra = ""
                    if "weight" in toks:
                        extra = " weight %s" % toks[toks.index("weight") + 1]
                    out.append("    server %s %s%s" % (toks[1], toks[2], extra))
                elif d == "timeout" and toks[1] in ("connect", "server", "tunnel"):
                    out.append("    timeout %s %s" % (toks[1], toks[2]))
                    if toks[1] == "connect":
                        out.append("    retries 0")
                else:
                    raise Unsupported("backend %r" % toks)
        if kind == "backend" and mode == "http":
            out.append("    http-reuse always")
        if kind == "frontend" and mode == "http":
            if "x-forwarded-for" in fwd:
                out.append("    option forwardfor")
            if "x-forwarded-proto" in fwd:
                out.append("    http-request set-header X-Forwarded-Proto http")
            if "x-forwarded-host" in fwd:
                out.append("    http-request set-header X-Forwarded-Host %[req.hdr(host)]")
            if "forwarded" in fwd:
                out.append('    http-request set-header Forwarded for=%[src];proto=http;host=%[req.hdr(host)]')
        out.append("")
    return "\n".join(out) + "\n"


def _size(s):
    m = re.match(r"^(\d+)([kmg]?)$", s.lower())
    if not m:
        raise Unsupported("size %r" % s)
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30}[m.group(2)]
