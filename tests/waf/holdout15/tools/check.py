"""check.py - validate tests/waf/holdout15 with corpus.py's own loader.

Every line must load (corpus.load raises on bad JSON and duplicate ids), ids
must be h15-<category>-NNN and unique, expect must match the directory, each
entry must build bytes with corpus.to_bytes, non-raw entries use a known
profile, raw entries start with a request line and end their head with CRLF
CRLF.  Prints counts per category and the share of benign entries tagged
"code".  Exit status 1 on any problem.
"""
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(ROOT))          # tests/waf
import corpus  # noqa: E402

errors = []
entries = corpus.load(ROOT)
ids = Counter(e["id"] for e in entries)
for e in entries:
    where = "%s (%s)" % (e["id"], e["_file"])
    kind = e["_file"].split(os.sep)[0]
    if not re.fullmatch(r"h15-%s-\d{3}" % re.escape(e["category"]), e["id"]):
        errors.append("%s: id does not match h15-<category>-NNN" % where)
    if ids[e["id"]] > 1:
        errors.append("%s: duplicate id" % where)
    want = "block" if kind == "attacks" else "pass"
    if e["expect"] != want:
        errors.append("%s: expect %s in %s/" % (where, e["expect"], kind))
    if ("raw" in e) == ("target" in e):
        errors.append("%s: needs exactly one of raw/target" % where)
    if "raw" not in e and e.get("profile", "chrome") not in corpus.PROFILES:
        errors.append("%s: unknown profile %r" % (where, e.get("profile")))
    if sum(k in e for k in ("body", "json", "form", "multipart")) > 1:
        errors.append("%s: more than one body kind" % where)
    if set(e.get("tags", [])) - {"code"}:
        errors.append("%s: unknown tag" % where)
    if kind == "attacks" and e.get("tags"):
        errors.append("%s: tags on an attack" % where)
    try:
        b = corpus.to_bytes(e)
    except Exception as ex:  # noqa: BLE001 - report any failure to build
        errors.append("%s: to_bytes failed: %r" % (where, ex))
        continue
    if not re.match(rb"[A-Z]+ \S+ HTTP/1\.[01]\r\n", b):
        errors.append("%s: bad request line" % where)
    if b"\r\n\r\n" not in b:
        errors.append("%s: no end of head" % where)
    if "raw" in e and b"\r\nhost:" not in b.lower():
        errors.append("%s: raw request without Host" % where)
    if not e.get("note"):
        errors.append("%s: no note" % where)

c = Counter((e["expect"], e["category"]) for e in entries)
for (exp, cat), n in sorted(c.items()):
    print("%-5s %-18s %3d" % (exp, cat, n))
att = [e for e in entries if e["expect"] == "block"]
ben = [e for e in entries if e["expect"] == "pass"]
code = [e for e in ben if "code" in e.get("tags", [])]
print("attacks %d in %d families, benign %d in %d kinds, code-tagged %d (%.1f%% of benign), raw %d"
      % (len(att), len({e["category"] for e in att}), len(ben), len({e["category"] for e in ben}),
         len(code), 100.0 * len(code) / max(1, len(ben)), sum("raw" in e for e in entries)))
for msg in errors:
    print("ERROR", msg)
sys.exit(1 if errors else 0)
