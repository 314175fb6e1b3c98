#!/usr/bin/python3
"""check.py - validate holdout14 with corpus.py's own loader: every line is
JSON, every entry builds request bytes (nothing is sent), ids are unique and
h14-<category>-NNN, and print counts.  Exit 1 on any problem."""
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))   # tests/waf
import corpus  # noqa: E402


def main():
    es = corpus.load(root=ROOT)          # raises on bad JSON or duplicate ids
    bad = []
    for e in es:
        if not e["id"].startswith("h14-%s-" % e["category"]):
            bad.append("%s: id does not match category %s" % (e["id"], e["category"]))
        if ("raw" in e) == ("target" in e):
            bad.append("%s: needs exactly one of target/raw" % e["id"])
        if e.get("profile", "chrome") not in corpus.PROFILES:
            bad.append("%s: unknown profile" % e["id"])
        try:
            b = corpus.to_bytes(e)
        except Exception as ex:  # noqa: BLE001
            bad.append("%s: to_bytes failed: %r" % (e["id"], ex))
            continue
        if "raw" not in e:
            head = b.split(b"\r\n\r\n", 1)[0]
            if b"\n\n" in head or b"\r\n\r\n" not in b:
                bad.append("%s: malformed head" % e["id"])
            if any(c in e["target"] for c in " \r\n\t"):
                bad.append("%s: whitespace in target" % e["id"])
        if e["expect"] == "block" and e.get("tags"):
            bad.append("%s: tags on an attack" % e["id"])
    c = collections.Counter((e["expect"], e["category"]) for e in es)
    for (exp, cat), n in sorted(c.items()):
        print("%-5s %-18s %3d" % (exp, cat, n))
    att = [e for e in es if e["expect"] == "block"]
    ben = [e for e in es if e["expect"] == "pass"]
    code = [e for e in ben if "code" in e.get("tags", [])]
    print("attacks %d in %d families; benign %d in %d kinds; code-tagged %d (%.1f%%)" % (
        len(att), len({e["category"] for e in att}), len(ben), len({e["category"] for e in ben}),
        len(code), 100.0 * len(code) / max(1, len(ben))))
    for m in bad:
        print("PROBLEM", m)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
