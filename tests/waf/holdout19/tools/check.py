#!/usr/bin/python3
"""Loads every holdout19 line with tests/waf/corpus.py's loader, builds each
request's bytes, checks ids are unique and h19-prefixed, and prints counts."""
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))   # tests/waf
import corpus  # noqa: E402

es = corpus.load(ROOT)                       # raises on bad JSON or duplicate ids
bad = []
for e in es:
    if not e["id"].startswith("h19-%s-" % e["category"]):
        bad.append("%s: id/category mismatch" % e["id"])
    b = corpus.to_bytes(e)
    if not b.startswith(e.get("method", "GET").encode()) and "raw" not in e:
        bad.append("%s: bad request line" % e["id"])
    if "raw" in e and b"Connection: close\r\n" not in b:
        bad.append("%s: raw without Connection: close" % e["id"])
    if e["expect"] == "pass" and "raw" in e:
        bad.append("%s: raw benign" % e["id"])
c = collections.Counter((e["expect"], e["category"]) for e in es)
for (exp, cat), n in sorted(c.items()):
    print("%-5s %-22s %3d" % (exp, cat, n))
att = sum(e["expect"] == "block" for e in es)
ben = [e for e in es if e["expect"] == "pass"]
code = sum("code" in e.get("tags", []) for e in ben)
print("attacks %d (%d families), benign %d (%d kinds), code-tagged benign %d (%.1f%%)" % (
    att, len({e["category"] for e in es if e["expect"] == "block"}), len(ben),
    len({e["category"] for e in ben}), code, 100.0 * code / max(1, len(ben))))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ok: %d entries load and build" % len(es))
