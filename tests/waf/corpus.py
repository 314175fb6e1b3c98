"""
corpus.py - the WAF corpus (tests/waf/corpus/) as requests on the wire.

The corpus is data: one JSON object per line in corpus/attacks/*.jsonl and
corpus/benign/*.jsonl, the file name being the category.  This module loads
it and turns each entry into the exact bytes sent to the target; eval.py,
the bench's wrk script generator (bench/bench.py, scenario "waf") and
tests/e2e/test_waf_corpus.py all use it, so they all send the same bytes.

Entry fields (only `id` and one of target/raw are required):
  id, category, expect   "sqli-007", "sqli", "block" | "pass" (the directory
                         says which; kept in every line so grep shows it)
  method                 default GET
  target                 request target, sent as is (already URL-encoded
                         where the entry wants it encoded, raw where not)
  profile                a set of browser/client headers (PROFILES below),
                         default "chrome"; "none" = no headers but Host
  headers                [[name, value], ...], after the profile's; a name
                         the profile already has replaces the profile's
  body | json | form | multipart
                         body: a string (UTF-8 on the wire);
                         json: any JSON value, serialised compactly, with
                         Content-Type application/json unless given;
                         form: [[k, v], ...] urlencoded like a browser
                         (quote_plus), Content-Type x-www-form-urlencoded;
                         multipart: {boundary, parts: [{name, filename?,
                         content_type?, data | data_b64}]}
  raw                    the whole request (protocol-abuse entries): sent
                         byte for byte, no profile, no Content-Length fix-up
  note                   what the entry is
  tags                   ["code"] on benign entries whose free text carries
                         SQL, shell, HTML or JS on purpose (a developer forum,
                         a CMS editor, a snippet store): eval.py reports the
                         false-positive rate with and without them
Bodies always go with a Content-Length (never chunked) unless `raw`.
"""

import base64
import glob
import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
HOST = "shop.example.com"

_CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
_FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
_SAFARI_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.1 Safari/605.1.15")
_EDGE_UA = _CHROME_UA + " Edg/120.0.2210.61"
_CHROME_MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 "
                     "(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36")
_HTML_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
_SEC_CH = [["sec-ch-ua", '"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"'],
           ["sec-ch-ua-mobile", "?0"], ["sec-ch-ua-platform", '"Windows"']]


def _chrome(dest, accept, extra=()):
    return (_SEC_CH + [["User-Agent", _CHROME_UA], ["Accept", accept],
                       ["Sec-Fetch-Site", "same-origin" if dest != "document" else "none"],
                       ["Sec-Fetch-Mode", "navigate" if dest == "document" else "no-cors"],
                       ["Sec-Fetch-Dest", dest],
                       ["Accept-Encoding", "gzip, deflate, br"],
                       ["Accept-Language", "en-US,en;q=0.9"]] + list(extra))


def _firefox(accept):
    return [["User-Agent", _FIREFOX_UA], ["Accept", accept],
            ["Accept-Language", "en-GB,en;q=0.5"], ["Accept-Encoding", "gzip, deflate, br"]]


PROFILES = {
    "none": [],
    "chrome": _chrome("document", _HTML_ACCEPT, [["Upgrade-Insecure-Requests", "1"]]),
    "chrome_mobile": [["User-Agent", _CHROME_MOBILE_UA], ["Accept", _HTML_ACCEPT],
                      ["Accept-Encoding", "gzip, deflate, br"],
                      ["Accept-Language", "en-US,en;q=0.9"], ["sec-ch-ua-mobile", "?1"]],
    "edge": [["User-Agent", _EDGE_UA], ["Accept", _HTML_ACCEPT],
             ["Accept-Encoding", "gzip, deflate, br"], ["Accept-Language", "en-US,en;q=0.9"]],
    "firefox": _firefox("text/html,application/xhtml+xml,application/xml;q=0.9,"
                        "image/avif,image/webp,*/*;q=0.8"),
    "safari": [["User-Agent", _SAFARI_UA], ["Accept", "text/html,application/xhtml+xml,"
                                             "application/xml;q=0.9,*/*;q=0.8"],
               ["Accept-Language", "en-GB,en;q=0.9"], ["Accept-Encoding", "gzip, deflate, br"]],
    "chrome_css": _chrome("style", "text/css,*/*;q=0.1"),
    "chrome_js": _chrome("script", "*/*"),
    "chrome_img": _chrome("image", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
    "chrome_font": _chrome("font", "*/*", [["Origin", "https://" + HOST]]),
    "firefox_css": _firefox("text/css,*/*;q=0.1"),
    "firefox_img": _firefox("image/avif,image/webp,*/*"),
    "safari_img": [["User-Agent", _SAFARI_UA], ["Accept", "image/webp,image/avif,image/*,*/*;q=0.8"],
                   ["Accept-Language", "en-GB,en;q=0.9"]],
    # fetch()/XHR from the shop's own pages
    "xhr": _chrome("empty", "application/json, text/plain, */*",
                   [["Origin", "https://" + HOST], ["Referer", "https://%s/" % HOST],
                    ["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; csrftoken=Zx8Yw7Vu6Ts5"]]),
    # a browser form post (Content-Type comes from the body kind)
    "form": _chrome("document", _HTML_ACCEPT,
                    [["Origin", "https://" + HOST], ["Referer", "https://%s/" % HOST],
                     ["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3; csrftoken=Zx8Yw7Vu6Ts5"],
                     ["Cache-Control", "max-age=0"]]),
    "form_multipart": _chrome("document", _HTML_ACCEPT,
                              [["Origin", "https://" + HOST],
                               ["Cookie", "sessionid=q8f7w6e5r4t3y2u1i0o9p8a7s6d5f4g3"]]),
    # server-to-server API clients and a mobile app
    "api": [["User-Agent", "acme-billing/3.2.1 (+https://billing.example.net)"],
            ["Accept", "application/json"], ["Accept-Encoding", "gzip"]],
    "api_multipart": [["User-Agent", "acme-sync/1.4.0"], ["Accept", "application/json"]],
    "mobile_app": [["User-Agent", "ShopApp/5.12.0 (Android 14; Pixel 7; build 51200)"],
                   ["Accept", "application/json"], ["Accept-Encoding", "gzip"],
                   ["Authorization", "Bearer a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"]],
}


def load(root=CORPUS, kinds=("attacks", "benign")):
    """All entries, attacks first, files and lines in order."""
    out = []
    for kind in kinds:
        for path in sorted(glob.glob(os.path.join(root, kind, "*.jsonl"))):
            cat = os.path.splitext(os.path.basename(path))[0]
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        e = json.loads(line)
                    except ValueError as ex:
                        raise ValueError("%s:%d: %s" % (path, n, ex))
                    e.setdefault("category", cat)
                    e.setdefault("expect", "block" if kind == "attacks" else "pass")
                    e.setdefault("id", "%s-%03d" % (cat, n))
                    e["_file"] = "%s:%d" % (os.path.relpath(path, root), n)
                    out.append(e)
    ids = [e["id"] for e in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError("duplicate ids: %s" % sorted(dup))
    return out


def _body(e):
    """(bytes or None, default content type or None)."""
    if "json" in e:
        return json.dumps(e["json"], ensure_ascii=False).encode(), "application/json"
    if "form" in e:
        return (urllib.parse.urlencode([tuple(kv) for kv in e["form"]]).encode(),
                "application/x-www-form-urlencoded")
    if "multipart" in e:
        m = e["multipart"]
        b = m["boundary"].encode()
        out = b""
        for p in m["parts"]:
            disp = 'form-data; name="%s"' % p["name"]
            if "filename" in p:
                disp += '; filename="%s"' % p["filename"]
            out += b"--" + b + b"\r\nContent-Disposition: " + disp.encode() + b"\r\n"
            if "content_type" in p:
                out += b"Content-Type: " + p["content_type"].encode() + b"\r\n"
            data = base64.b64decode(p["data_b64"]) if "data_b64" in p else p["data"].encode()
            out += b"\r\n" + data + b"\r\n"
        out += b"--" + b + b"--\r\n"
        return out, "multipart/form-data; boundary=" + m["boundary"]
    if "body" in e:
        return e["body"].encode("utf-8"), None
    return None, None


def headers_of(e, host=HOST):
    """[[name, value]] as sent (Host first, then profile, then the entry's)."""
    hs = [["Host", host]] + [list(h) for h in PROFILES[e.get("profile", "chrome")]]
    for name, value in e.get("headers", []):
        same = [h for h in hs if h[0].lower() == name.lower()]
        if same:
            same[0][1] = value
        else:
            hs.append([name, value])
    return hs


def to_bytes(e, host=HOST, keepalive=False):
    """The request exactly as it goes on the wire."""
    if "raw" in e:
        return e["raw"].encode("utf-8")
    body, ctype = _body(e)
    hs = headers_of(e, host)
    names = {h[0].lower() for h in hs}
    if body is not None:
        if ctype and "content-type" not in names:
            hs.append(["Content-Type", ctype])
        if "content-length" not in names:
            hs.append(["Content-Length", str(len(body))])
    if not keepalive and "connection" not in names:
        hs.append(["Connection", "close"])
    head = "%s %s HTTP/1.1\r\n" % (e.get("method", "GET"), e["target"])
    head += "".join("%s: %s\r\n" % (k, v) for k, v in hs) + "\r\n"
    return head.encode("utf-8") + (body or b"")


if __name__ == "__main__":   # corpus.py [ID...]: print requests (all: a summary)
    import sys
    es = load()
    if len(sys.argv) > 1:
        for e in es:
            if e["id"] in sys.argv[1:]:
                sys.stdout.write(to_bytes(e).decode("utf-8", "replace") + "\n\n")
    else:
        from collections import Counter
        c = Counter((e["expect"], e["category"]) for e in es)
        for (exp, cat), n in sorted(c.items()):
            print("%-5s %-10s %4d" % (exp, cat, n))
        print("attacks %d, benign %d" % (sum(e["expect"] == "block" for e in es),
                                          sum(e["expect"] == "pass" for e in es)))
