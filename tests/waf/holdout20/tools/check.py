#!/usr/bin/python3
"""check.py - sanity checks for tests/waf/holdout20 (no WAF involved).

Loads every line with tests/waf/corpus.py's loader, builds each request's
bytes, and checks: ids unique and prefixed h20-<category>-, category and
expect agree with file and directory, profiles exist, raw requests carry
Connection: close, ~3% of benign entries tagged code."""
import collections, os, sys
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))
import corpus

def main():
    es = corpus.load(root=ROOT)
    bad = []
    for e in es:
        cat = os.path.splitext(os.path.basename(e["_file"].split(":")[0]))[0]
        kind = e["_file"].split(os.sep)[0]
        if e["category"] != cat:
            bad.append("%s: category %s != file %s" % (e["id"], e["category"], cat))
        if e["expect"] != ("block" if kind == "attacks" else "pass"):
            bad.append("%s: expect %s in %s" % (e["id"], e["expect"], kind))
        if not e["id"].startswith("h20-%s-" % cat):
            bad.append("%s: id prefix" % e["id"])
        if "raw" not in e and e.get("profile", "chrome") not in corpus.PROFILES:
            bad.append("%s: unknown profile" % e["id"])
        if ("raw" in e) == ("target" in e):
            bad.append("%s: needs exactly one of raw/target" % e["id"])
        b = corpus.to_bytes(e)
        if not b.split(b"\r\n", 1)[0].endswith(b" HTTP/1.1"):
            bad.append("%s: request line" % e["id"])
        if "raw" in e and b"Connection: close\r\n" not in b:
            bad.append("%s: raw without Connection: close" % e["id"])
        if e.get("expect") == "block" and "code" in e.get("tags", []):
            bad.append("%s: code tag on an attack" % e["id"])
    c = collections.Counter((e["expect"], e["category"]) for e in es)
    for (exp, cat), n in sorted(c.items()):
        print("%-5s %-12s %3d" % (exp, cat, n))
    att = [e for e in es if e["expect"] == "block"]
    ben = [e for e in es if e["expect"] == "pass"]
    code = [e["id"] for e in ben if "code" in e.get("tags", [])]
    print("attacks %d in %d families, benign %d in %d kinds, code-tagged %d (%.1f%%)"
          % (len(att), len({e["category"] for e in att}), len(ben),
             len({e["category"] for e in ben}), len(code), 100.0 * len(code) / len(ben)))
    if bad:
        print("\n".join(bad))
        return 1
    print("ok")
    return 0

if __name__ == "__main__":
    sys.exit(main())
