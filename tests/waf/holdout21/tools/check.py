"""check.py - load holdout21 with corpus.py's loader, build every request's bytes, check ids.

    /usr/bin/python3 tests/waf/holdout21/tools/check.py
"""
import collections
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))          # tests/waf
import corpus  # noqa: E402

es = corpus.load(ROOT)                              # raises on bad JSON / duplicate ids
bad = []
for e in es:
    if not re.fullmatch(r"h21-[a-z0-9_]+-\d{3}", e["id"]):
        bad.append("bad id %s" % e["id"])
    if not e["id"].startswith("h21-%s-" % e["category"]):
        bad.append("id/category mismatch %s" % e["id"])
    b = corpus.to_bytes(e)
    if not b.startswith(e.get("method", "GET").encode()) and "raw" not in e:
        bad.append("bytes %s" % e["id"])
    if "raw" in e:
        if b"Connection: close" not in b:
            bad.append("raw without Connection: close %s" % e["id"])
    else:
        head, _, body = b.partition(b"\r\n\r\n")
        m = re.search(rb"\r\nContent-Length: (\d+)\r\n", head + b"\r\n")
        if body and (not m or int(m.group(1)) != len(body)):
            bad.append("Content-Length %s" % e["id"])
        if body and b"Content-Type:" not in head:
            bad.append("body without Content-Type %s" % e["id"])
    if e["expect"] == "pass" and e.get("profile", "chrome") not in corpus.PROFILES:
        bad.append("profile %s" % e["id"])
ids = [e["id"] for e in es]
assert len(ids) == len(set(ids))
att = [e for e in es if e["expect"] == "block"]
ben = [e for e in es if e["expect"] == "pass"]
code = [e for e in ben if "code" in e.get("tags", [])]
print("attacks %d in %d families: %s" % (len(att), len({e["category"] for e in att}),
      dict(collections.Counter(e["category"] for e in att))))
print("benign %d in %d kinds (min %d per kind), code-tagged %d (%.1f%%)" % (
    len(ben), len({e["category"] for e in ben}),
    min(collections.Counter(e["category"] for e in ben).values()), len(code), 100.0 * len(code) / len(ben)))
print("bytes built for %d requests, %d total" % (len(es), sum(len(corpus.to_bytes(e)) for e in es)))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("OK")
