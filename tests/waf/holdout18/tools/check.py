"""check.py - holdout18 sanity: every line loads with tests/waf/corpus.py's
loader, every entry builds request bytes, ids are unique and h18-prefixed,
categories match file names, raw entries close the connection.  Prints counts.

    /usr/bin/python3 tests/waf/holdout18/tools/check.py
"""
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
SET = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(SET))          # tests/waf
import corpus                                     # noqa: E402


def main():
    es = corpus.load(SET)                         # raises on bad JSON / duplicate ids
    bad = []
    ids = Counter(e["id"] for e in es)
    bad += ["duplicate id %s" % i for i, n in ids.items() if n > 1]
    for e in es:
        cat = os.path.splitext(os.path.basename(e["_file"].split(":")[0]))[0]
        kind = e["_file"].split(os.sep)[0]
        if not e["id"].startswith("h18-%s-" % cat):
            bad.append("%s: id does not match h18-%s-NNN" % (e["_file"], cat))
        if e["category"] != cat:
            bad.append("%s: category %s != file %s" % (e["_file"], e["category"], cat))
        want = "block" if kind == "attacks" else "pass"
        if e["expect"] != want:
            bad.append("%s: expect %s in %s" % (e["_file"], e["expect"], kind))
        if "target" not in e and "raw" not in e:
            bad.append("%s: neither target nor raw" % e["_file"])
        if e.get("profile", "chrome") not in corpus.PROFILES:
            bad.append("%s: unknown profile" % e["_file"])
        try:
            b = corpus.to_bytes(e)
        except Exception as ex:                    # noqa: BLE001
            bad.append("%s: to_bytes: %r" % (e["_file"], ex))
            continue
        if "raw" in e and b"connection: close" not in b.lower():
            bad.append("%s: raw entry without Connection: close" % e["_file"])
        if not b.split(b" ", 1)[0].isalpha():
            bad.append("%s: odd method" % e["_file"])
        if kind == "attacks" and "code" in e.get("tags", []):
            bad.append("%s: code tag on an attack" % e["_file"])
    att = [e for e in es if e["expect"] == "block"]
    ben = [e for e in es if e["expect"] == "pass"]
    code = [e for e in ben if "code" in e.get("tags", [])]
    for kind, group in (("attacks", att), ("benign", ben)):
        c = Counter(e["category"] for e in group)
        print("%s %d in %d categories: %s" % (kind, len(group), len(c),
                                              ", ".join("%s %d" % kv for kv in sorted(c.items()))))
    print("benign tagged code: %d (%.1f%%)" % (len(code), 100.0 * len(code) / max(1, len(ben))))
    for b in bad:
        print("BAD", b)
    print("OK" if not bad else "%d problems" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
