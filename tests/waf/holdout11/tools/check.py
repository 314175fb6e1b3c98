#!/usr/bin/python3
"""Checks holdout11 loads with corpus.py and that benign requests are well-formed HTTP."""
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))
import corpus  # noqa: E402

es = corpus.load(ROOT)
bad = []
for e in es:
    assert e["id"].startswith("h11-%s-" % e["category"]), e["id"]
    raw = corpus.to_bytes(e)
    if e["expect"] != "pass":
        continue
    t = e["target"]
    if not t.isascii() or "#" in t or re.search(r"[\x00-\x20\x7f]", t) or not t.startswith("/"):
        bad.append((e["id"], "target chars"))
    if re.search(r"%(?![0-9A-Fa-f]{2})", t):
        bad.append((e["id"], "bad percent escape"))
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for ln in lines[1:]:
        name, sep, val = ln.partition(b": ")
        if not sep or not re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", val) \
                or not val.isascii():
            bad.append((e["id"], "header %r" % ln[:60]))
    hs = {k.lower(): v for k, v in corpus.headers_of(e)}
    cl = [ln for ln in lines if ln.lower().startswith(b"content-length:")]
    if body or e.get("method", "GET") in ("POST", "PUT", "PATCH"):
        if not cl or int(cl[0].split(b":")[1]) != len(body):
            bad.append((e["id"], "content-length"))
    ct = [ln.decode().split(":", 1)[1].strip() for ln in lines if ln.lower().startswith(b"content-type:")]
    if body:
        if not ct:
            bad.append((e["id"], "no content-type"))
        elif "json" in ct[0] or ct[0].startswith("application/csp-report"):
            try:
                json.loads(body)
            except ValueError:
                bad.append((e["id"], "json body does not parse"))
        elif ct[0].startswith("multipart/"):
            b = ct[0].split("boundary=")[1]
            if "multipart" not in e or e["multipart"]["boundary"] != b or not body.endswith(("--%s--\r\n" % b).encode()):
                bad.append((e["id"], "multipart boundary"))
    if "json" in e or "form" in e or "multipart" in e:
        pass
print(Counter((e["expect"], e["category"]) for e in es))
print("attacks", sum(e["expect"] == "block" for e in es), "benign", sum(e["expect"] == "pass" for e in es),
      "code", sum("code" in e.get("tags", []) for e in es))
if bad:
    for b in bad:
        print("BAD", *b)
    sys.exit(1)
print("ok")
