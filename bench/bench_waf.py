"""bench_waf.py - the `waf` scenario of bench.py (BENCH_SCENARIOS=waf).

What a WAF and gatehouse's other per-request filters cost on ordinary
traffic: wrk rotates over benign corpus requests (tests/waf/corpus/benign,
the ids in bench/waf-sample.txt: GETs with browser headers and cookies,
JSON/form/multipart POSTs), keep-alive, against

  gatehouse            no rules (the h1 scenario's config)
  gatehouse-rules20    20 http_request rules (set_header, deny if ...) that
                       never fire on this traffic
  gatehouse-limit      a rate limit (`limit` section keyed by src) far above
                       what wrk reaches, so it counts and never refuses
  gatehouse-waf        `waf crs` (CRS 3.3 from /usr/share/modsecurity-crs,
                       paranoia 1, mode block, body_limit 16k, prefilter on)
  gatehouse-waf-nopf   the same with prefilter off
  gatehouse-base       optional (add to BENCH_WAF_PROXIES): gatehouse, and
  gatehouse-waf-base   gatehouse-waf, run by another build (BENCH_BASE_BIN,
                       e.g. main's), to compare two builds in one run
  nginx                nginx as a plain reverse proxy (the h1 config)
  nginx-modsec         nginx + libmodsecurity 3 + CRS 3.3 paranoia 1 (the
                       Debian modsecurity.conf with SecRuleEngine On, audit
                       log of relevant transactions only, as shipped)

Same layout as h1: every proxy on CPU 0 with one worker, the origin and wrk
on CPU 1.  The origin is the h1 nginx origin with one more server block that
answers 200 "ok" to every method and path.  The gatehouse WAF rows need the
`waf` branch; until it is merged their config check fails and they are
reported as FAILED while the others are measured.  Stdlib only.
"""
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "waf"))
import corpus  # noqa: E402

PROXIES = os.environ.get(
    "BENCH_WAF_PROXIES",
    "gatehouse gatehouse-rules20 gatehouse-limit gatehouse-waf gatehouse-waf-nopf "
    "nginx nginx-modsec").split()
REF = "gatehouse"                 # ratios in the table are to this row
PORT_OFFSET = 31                  # proxies on PORT_BASE + 31 + i
ORIGIN_OFFSET = 40                # the answer-everything origin server
SAMPLE_FILE = os.path.join(ROOT, "bench", "waf-sample.txt")
MODSEC_MODULE = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"
CRS = "/usr/share/modsecurity-crs"

RULES20 = """\
    http_request deny if path prefix /internal/
    http_request deny if path prefix /admin/
    http_request deny if src in 203.0.113.0/24 198.51.100.0/24
    http_request deny if header(X-Attack) == yes
    http_request deny if method == TRACE
    http_request deny if method == CONNECT
    http_request deny if host == blocked.example
    http_request deny if path ~ "\\.(bak|old|swp)$"
    http_request deny if header(User-Agent) ~ "(?i)sqlmap|nikto"
    http_request deny if path == /server-status
    http_request set_header X-Real-IP "%[src]"
    http_request set_header X-Original-Path "%[path]"
    http_request set_header X-Scheme "%[scheme]"
    http_request add_header X-Proxy gatehouse
    http_request del_header X-Debug
    http_request del_header X-Forwarded-Host
    http_request set_header X-Bench-Host "%[host]"
    http_request set_header X-Bench-Method "%[method]"
    http_request add_header X-Bench-Rule 19
    http_request add_header X-Bench-Rule 20
"""

LIMIT_SECTION = """\
limit bench_rl {
    key src
    rate 1000000/s
    burst 1000000
}
"""


def waf_section(prefilter):
    return """\
waf crs {{
    rules {crs}
    paranoia 1
    mode block
    body_limit 16k
    prefilter {pf}
}}
""".format(crs=CRS, pf="on" if prefilter else "off")


def origin_server(port):
    """The extra server block of the origin nginx: 200 to everything
    (`return` also reads and discards a request body)."""
    return """\
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        default_type text/plain;
        location / {{ return 200 "ok\\n"; }}
    }}
""".format(port=port)


def sample():
    """The benign corpus entries named in waf-sample.txt, in that order."""
    by_id = {e["id"]: e for e in corpus.load(kinds=("benign",))}
    ids = [ln.strip() for ln in open(SAMPLE_FILE) if ln.strip() and not ln.startswith("#")]
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SystemExit("bench: %s names unknown corpus ids: %s" % (SAMPLE_FILE, missing[:5]))
    return [by_id[i] for i in ids]


def lua_string(b):
    """A Lua string literal for arbitrary bytes (decimal escapes)."""
    out = []
    for c in b:
        if 32 <= c < 127 and c not in (34, 92):
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return '"' + "".join(out) + '"'


def write_lua(tmp, entries):
    """A wrk script that sends the entries' exact bytes (keep-alive) in turn."""
    path = os.path.join(tmp, "waf-benign.lua")
    with open(path, "w") as f:
        f.write("-- generated by bench/bench_waf.py from bench/waf-sample.txt\n")
        f.write("local reqs = {\n")
        for e in entries:
            f.write("  %s,\n" % lua_string(corpus.to_bytes(e, keepalive=True)))
        f.write("}\nlocal i = 0\n"
                "request = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")
    return path


def cases(lua):
    # name, path, extra wrk args, description (as bench.CASES)
    # --timeout 10s: nginx + ModSecurity answers in hundreds of ms under
    # this load; with wrk's default 2 s a few slow answers count as errors
    return [("benign-mix", "/", ["-s", lua, "--timeout", "10s"],
             "benign corpus requests round-robin (GET and POST with bodies), keep-alive")]


def modsec_rules(tmp):
    """libmodsecurity rules for nginx-modsec: as a distribution would run
    it (modsecurity.conf, engine on, CRS PL1), audit log only for relevant
    transactions (none here: nothing is refused)."""
    path = os.path.join(tmp, "modsec-bench.conf")
    with open(path, "w") as f:
        f.write("""\
Include /etc/nginx/modsecurity.conf
SecRuleEngine On
SecStatusEngine Off
SecAuditEngine RelevantOnly
SecAuditLog {tmp}/modsec-audit.log
SecTmpDir {tmp}
SecDataDir {tmp}
Include /etc/modsecurity/crs/crs-setup.conf
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include {crs}/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
""".format(tmp=tmp, crs=CRS))
    return path


def variants(name, tmp, port, origin, gatehouse_bin, gatehouse_conf, nginx_proxy_conf):
    """[(argv, config-check argv, config path)] like bench.proxy_variants;
    gatehouse_conf and nginx_proxy_conf are bench.py's h1 config writers."""
    def gh(suffix, fe_extra="", sections="", binary=gatehouse_bin):
        plain = open(gatehouse_conf(tmp, port, origin,
                                    name="gatehouse-%s-template.conf" % suffix)).read()
        text = sections + plain.replace("    default_backend origin\n",
                                        fe_extra + "    default_backend origin\n")
        conf = os.path.join(tmp, "gatehouse-%s.conf" % suffix)
        with open(conf, "w") as f:
            f.write(text)
        return [([binary, "-c", conf], [binary, "-t", "-c", conf], conf)]
    if name == "gatehouse":
        return gh("plain")
    if name in ("gatehouse-base", "gatehouse-waf-base"):
        # another build (BENCH_BASE_BIN, e.g. main's) in the same run
        base = os.environ.get("BENCH_BASE_BIN", "")
        if not base:
            raise SystemExit("bench: %s needs BENCH_BASE_BIN" % name)
        if name == "gatehouse-base":
            return gh("plain-base", binary=base)
        return gh("waf-base", "    use_waf crs\n", waf_section(True), binary=base)
    if name == "gatehouse-rules20":
        return gh("rules20", RULES20)
    if name == "gatehouse-limit":
        return gh("limit", "    http_request limit bench_rl\n", LIMIT_SECTION)
    if name in ("gatehouse-waf", "gatehouse-waf-nopf"):
        pf = name == "gatehouse-waf"
        return gh("waf" if pf else "waf-nopf", "    use_waf crs\n", waf_section(pf))
    if name in ("nginx", "nginx-modsec"):
        text = open(nginx_proxy_conf(tmp, port, origin)).read()
        text = text.replace(os.path.join(tmp, "nginx-proxy"), os.path.join(tmp, name))
        if name == "nginx-modsec":
            text = ("load_module %s;\n" % MODSEC_MODULE) + text.replace(
                "        location / {\n",
                "        modsecurity on;\n        modsecurity_rules_file %s;\n"
                "        location / {\n" % modsec_rules(tmp))
        conf = os.path.join(tmp, "%s-waf.conf" % name)
        with open(conf, "w") as f:
            f.write(text)
        base = ["nginx", "-p", tmp, "-e", os.path.join(tmp, "%s-waf-error.log" % name), "-c", conf]
        return [(base, base + ["-t", "-q"], conf)]
    raise SystemExit("bench: unknown proxy %s (BENCH_WAF_PROXIES)" % name)


def check(port, entries, n=40):
    """Every one of the first n sample requests (and the last few, which
    include bodies) must come back 200 through the proxy; None or why not."""
    picks = entries[:n] + entries[-10:]
    for e in picks:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as ex:
            return "connect: %s" % ex
        try:
            s.sendall(corpus.to_bytes(e))
            buf = b""
            while b"\r\n" not in buf:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        except OSError as ex:
            return "%s: %s" % (e["id"], ex)
        finally:
            s.close()
        first = buf.split(b"\r\n", 1)[0].decode("latin-1")
        if not first.startswith("HTTP/1.1 200"):
            return "%s (%s %s) answered %r" % (e["id"], e.get("method", "GET"),
                                               e["target"][:40], first[:60] or "nothing")
    return None
