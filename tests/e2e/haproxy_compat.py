"""
haproxy_compat.py - translates a gatehouse configuration into an HAProxy one.

Only for validating the harness itself (GATEHOUSE_IMPL=haproxy): the same
tests run against /usr/sbin/haproxy so that a test failure there is either a
known behavioural difference or a bug in the test.  Raises Unsupported for
anything it cannot express; the runner then skips the test.

Besides routing, timeouts and forwarding headers it translates, for the
HTTP/2 tests: `bind ADDR [proto h1|h2|h2c] [tls cert FILE]` (other bind
options are dropped, as before), http_request / http_response deny,
return, redirect, set_header, add_header, del_header with literal values,
`request_id header NAME` (a fresh UUID each time), and the frontend's
`h2_max_streams` / `h2_header_table` (global tune.h2.* in HAProxy 2.6).
On server lines (test_h2_server.py, test_grpc.py): `weight`, `maxconn`,
`proto h1|h2` and `tls verify none|required ca FILE [sni NAME]` (`ssl ...
alpn h2` with proto h2).
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
    # header(X) / query(x) / cookie(x) stay one token; other parentheses group
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|(?:header|query|cookie)\([^()\s]+\)|\(|\)|[^\s()]+',
                      line)
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
    # values compare case-sensitively (only host is case-insensitive)
    return {"header": "hdr(%s)", "query": "url_param(%s)", "cookie": "req.cook(%s)"}[kind] % name, False


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

    head = ["global",
            "    nbthread %s" % glob["workers"],
            "    maxconn %s" % glob["max_connections"],
            "    hard-stop-after %s" % glob["drain"]]
    if glob["bufsize"]:
        head.append("    tune.bufsize %s" % glob["bufsize"])
    tunes = []                 # global lines frontend directives need (h2_*)
    out = ["defaults",
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
        sec_start = len(out)
        out.append("%s %s" % (kind, name))
        out.append("    mode %s" % mode)
        fwd = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]
        for toks in sec["lines"]:
            d = toks[0]
            if d == "mode":
                continue
            if kind == "frontend":
                if d == "bind":
                    out.append("    bind %s" % _bind(toks))
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
                elif d in ("http_request", "http_response"):
                    out.append("    " + _rule(toks))
                elif d == "request_id" and len(toks) == 3 and toks[1] == "header":
                    # a fresh UUID to the server and back to the client (HAProxy
                    # does not keep a client's own id, gatehouse does)
                    out.append("    unique-id-format %[uuid(4)]")
                    out.append("    unique-id-header %s" % toks[2])
                    out.append("    http-response set-header %s %%[unique-id]" % toks[2])
                elif d == "h2_max_streams":
                    tunes.append("    tune.h2.max-concurrent-streams %d" % int(toks[1]))
                elif d == "h2_header_table":
                    n = _size(toks[1])
                    if not 4096 <= n <= 65536:
                        raise Unsupported("h2_header_table %d (HAProxy: 4096..65536)" % n)
                    tunes.append("    tune.h2.header-table-size %d" % n)
                else:
                    raise Unsupported("frontend %r" % toks)
            else:
                if d == "balance":
                    out.append("    balance %s" % toks[1])
                elif d == "server":
                    out.append("    server %s %s%s" % (toks[1], toks[2], _server_opts(toks)))
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
                if any(l.startswith("    bind ") and " ssl " in l for l in out[sec_start:]):
                    out.append("    http-request set-header X-Forwarded-Proto "
                               "%[ssl_fc,iif(https,http)]")
                else:
                    out.append("    http-request set-header X-Forwarded-Proto http")
            if "x-forwarded-host" in fwd:
                out.append("    http-request set-header X-Forwarded-Host %[req.hdr(host)]")
            if "forwarded" in fwd:
                out.append('    http-request set-header Forwarded for=%[src];proto=http;host=%[req.hdr(host)]')
        out.append("")
    return "\n".join(head + sorted(set(tunes)) + out) + "\n"


_BIND_PROTO = {"auto": None, "h1": "h1", "h2": "h2", "h2c": "h2"}


def _bind(toks):
    """bind ADDR [proto auto|h1|h2|h2c] [tls cert FILE ...]: translated when
    every option is one of these; otherwise the options are dropped, as
    before (the tests that need them skip under HAProxy themselves)."""
    addr, opts = toks[1], toks[2:]
    out = [addr]
    certs = []
    tls = False
    proto = None
    i = 0
    while i < len(opts):
        o = opts[i]
        if o == "proto" and i + 1 < len(opts) and opts[i + 1] in _BIND_PROTO:
            proto = _BIND_PROTO[opts[i + 1]]
            i += 2
        elif o == "tls":
            tls = True
            i += 1
        elif o == "cert" and i + 1 < len(opts):
            certs.append(opts[i + 1])
            i += 2
        else:
            return addr
    if tls:
        if not certs:
            raise Unsupported("tls bind without cert")
        # HAProxy wants certificate and key in one file (test_tls's *.pem are)
        out += ["ssl"] + ["crt %s" % c for c in certs]
        out.append("alpn %s" % {"h1": "http/1.1", "h2": "h2"}.get(proto, "h2,http/1.1"))
    elif proto:
        out.append("proto %s" % proto)
    return " ".join(out)


def _server_opts(toks):
    """weight N; and, for the HTTP/2 server tests, maxconn N, proto h1|h2
    (h2c), tls verify none | tls verify required ca FILE [sni NAME] (with
    ALPN h2 when proto h2).  Other options are dropped, as before, unless
    they come with `proto` or `tls`, whose tests must not run half
    translated."""
    extra = ""
    if "weight" in toks:
        extra += " weight %s" % toks[toks.index("weight") + 1]
    if "maxconn" in toks:
        extra += " maxconn %s" % toks[toks.index("maxconn") + 1]
    proto = None
    if "proto" in toks:
        proto = {"h1": "h1", "http/1.1": "h1", "h2": "h2", "h2c": "h2"}.get(
            toks[toks.index("proto") + 1])
        if proto is None:
            raise Unsupported("server proto %r" % toks)
    if "tls" in toks:
        opts = toks[toks.index("tls") + 1:]
        kv = {}
        i = 0
        while i < len(opts):
            if opts[i] in ("verify", "ca", "sni") and i + 1 < len(opts):
                kv[opts[i]] = opts[i + 1]
                i += 2
            elif opts[i] in ("proto", "weight", "maxconn") and i + 1 < len(opts):
                i += 2
            else:
                raise Unsupported("server tls option %r" % opts[i])
        if kv.get("verify") == "none" and set(kv) == {"verify"}:
            extra += " ssl verify none"
        elif kv.get("verify") == "required" and "ca" in kv:
            extra += " ssl verify required ca-file %s" % kv["ca"]
            if "sni" in kv:
                extra += " sni str(%s)" % kv["sni"]
        else:
            raise Unsupported("server tls options %r" % opts)
        if proto == "h2":
            extra += " alpn h2"
    elif proto == "h2":
        extra += " proto h2"
    return extra


def _literal(tok):
    if "%" in tok:
        raise Unsupported("log-format value %r" % tok)
    return tok


def _rule(toks):
    """http_request / http_response: deny, return, redirect, set_header,
    add_header, del_header with literal values (no %[fetch])."""
    d = toks[0].replace("_", "-")
    cond = ""
    for kw in ("if", "unless"):
        if kw in toks:
            i = toks.index(kw)
            cond = " %s %s" % (kw, _cond(toks[i + 1:]))
            toks = toks[:i]
            break
    act, args = toks[1], toks[2:]
    if act in ("set_header", "add_header") and len(args) == 2:
        return "%s %s %s %s%s" % (d, act.replace("_", "-"), args[0], _literal(args[1]), cond)
    if act == "del_header" and len(args) == 1:
        return "%s del-header %s%s" % (d, args[0], cond)
    if act in ("deny", "return"):
        kv = dict(zip(args[::2], args[1::2]))
        if len(args) % 2 or set(kv) - {"status", "body", "content_type"}:
            raise Unsupported("rule %r" % toks)
        out = [d, act]
        if "status" in kv:
            out.append("%s %s" % ("deny_status" if act == "deny" else "status", kv["status"]))
        if "body" in kv:
            out.append("content-type %s string %s"
                       % (kv.get("content_type", '"text/plain"'), _literal(kv["body"])))
        return " ".join(out) + cond
    if act == "redirect" and d == "http-request":
        kv = dict(zip(args[::2], args[1::2]))
        if len(args) % 2 or not set(kv) <= {"location", "scheme", "prefix", "code"} or \
                len(set(kv) - {"code"}) != 1:
            raise Unsupported("rule %r" % toks)
        kind = (set(kv) - {"code"}).pop()
        out = "%s redirect %s %s" % (d, kind, _literal(kv[kind]))
        if "code" in kv:
            out += " code %s" % kv["code"]
        return out + cond
    raise Unsupported("rule %r" % toks)


def _size(s):
    m = re.match(r"^(\d+)([kmg]?)$", s.lower())
    if not m:
        raise Unsupported("size %r" % s)
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30}[m.group(2)]
