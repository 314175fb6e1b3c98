"""check.py - validate tests/waf/holdout16: every line loads with corpus.py's
loader, builds request bytes, ids are unique and h16-<category>-NNN, profiles
exist, expect matches the directory; prints counts per category."""
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))          # tests/waf
import corpus  # noqa: E402

es = corpus.load(root=ROOT)                         # raises on bad JSON / duplicate ids
bad = []
for e in es:
    cat = e["category"]
    if not re.fullmatch(r"h16-%s-\d{3}" % re.escape(cat), e["id"]):
        bad.append("%s: id does not match category %s" % (e["id"], cat))
    kind = e["_file"].split("/")[0]
    if e["expect"] != {"attacks": "block", "benign": "pass"}[kind]:
        bad.append("%s: expect %s in %s" % (e["id"], e["expect"], kind))
    if "raw" not in e and "target" not in e:
        bad.append("%s: neither target nor raw" % e["id"])
    if e.get("profile", "chrome") not in corpus.PROFILES:
        bad.append("%s: unknown profile %s" % (e["id"], e.get("profile")))
    if "tags" in e and (kind != "benign" or e["tags"] != ["code"]):
        bad.append("%s: tags only ['code'] on benign" % e["id"])
    try:
        b = corpus.to_bytes(e)
    except Exception as ex:  # noqa: BLE001
        bad.append("%s: to_bytes failed: %r" % (e["id"], ex))
        continue
    if not b or b"\n" not in b:
        bad.append("%s: empty or one-line request" % e["id"])
    if "raw" in e and b"connection: close" not in b.lower():
        print("note: %s raw without Connection: close" % e["id"])

c = Counter((e["expect"], e["category"]) for e in es)
for (exp, cat), n in sorted(c.items()):
    print("%-5s %-22s %3d" % (exp, cat, n))
att = sum(e["expect"] == "block" for e in es)
ben = sum(e["expect"] == "pass" for e in es)
code = sum("code" in e.get("tags", []) for e in es)
print("attacks %d in %d families, benign %d in %d kinds (%d tagged code, %.1f%%)" % (
    att, len({e["category"] for e in es if e["expect"] == "block"}), ben,
    len({e["category"] for e in es if e["expect"] == "pass"}), code, 100.0 * code / ben))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("OK")
