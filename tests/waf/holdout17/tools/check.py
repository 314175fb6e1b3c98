#!/usr/bin/python3
"""Validates holdout17: every line loads with tests/waf/corpus.py's loader, builds
bytes, ids are unique and prefixed h17-, categories match file names, profiles exist,
raw entries carry Connection: close, prints counts and the code-tag share."""
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SET = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(SET))   # tests/waf
import corpus  # noqa: E402

es = corpus.load(SET)            # raises on bad JSON or duplicate ids
bad = []
for e in es:
    b = corpus.to_bytes(e)
    if not b or b"\r\n\r\n" not in b:
        bad.append((e["id"], "no header end"))
    cat = e["_file"].split("/")[1].split(".")[0]
    if e["category"] != cat or not e["id"].startswith("h17-%s-" % cat):
        bad.append((e["id"], "id/category mismatch"))
    kind = e["_file"].split("/")[0]
    if e["expect"] != ("block" if kind == "attacks" else "pass"):
        bad.append((e["id"], "expect"))
    if "raw" not in e and e.get("profile", "chrome") not in corpus.PROFILES:
        bad.append((e["id"], "profile"))
    if "raw" in e and "Connection: close" not in e["raw"]:
        bad.append((e["id"], "raw without Connection: close"))
    if e.get("tags") and (e["expect"] != "pass" or e["tags"] != ["code"]):
        bad.append((e["id"], "tags"))
    if "raw" not in e and b"Content-Length" not in b and e.get("method", "GET") in ("POST", "PUT", "PATCH") \
            and not any(k in e for k in ("json", "form", "multipart", "body")):
        pass  # bodiless POSTs are allowed
c = collections.Counter((e["expect"], e["category"]) for e in es)
for (exp, cat), n in sorted(c.items()):
    print("%-5s %-22s %3d" % (exp, cat, n))
att = sum(e["expect"] == "block" for e in es)
ben = [e for e in es if e["expect"] == "pass"]
code = sum("code" in e.get("tags", []) for e in ben)
print("attacks %d in %d families, benign %d in %d kinds, code-tagged %d (%.1f%%)" % (
    att, len({e["category"] for e in es if e["expect"] == "block"}), len(ben),
    len({e["category"] for e in ben}), code, 100.0 * code / len(ben)))
if bad:
    for b in bad:
        print("BAD", *b)
    sys.exit(1)
print("ok")
