#!/usr/bin/python3
"""check.py - loads every holdout12 entry through corpus.py and checks it.

Checks: the set loads (corpus.load: valid JSON, unique ids), each id is
h12-<category>-NNN and matches its file, expect is "block" under attacks/ and
"pass" under benign/, the fields are known and well-formed, every request
builds to bytes (corpus.to_bytes) with a request line, a Host and a
Content-Length that matches the body, and benign `tags` are only ["code"].
Prints the counts per category.  Exit 1 on any problem.  Never sends anything.
"""

import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
SET = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.normpath(os.path.join(SET, "..")))
import corpus  # noqa: E402

KNOWN = {"id", "category", "expect", "method", "target", "profile", "headers", "json", "form",
         "multipart", "body", "raw", "note", "tags", "_file"}
BODY_KINDS = ("json", "form", "multipart", "body")


def check_entry(e, kind, errs):
    def bad(msg):
        errs.append("%s (%s): %s" % (e.get("id"), e.get("_file"), msg))

    cat = os.path.splitext(os.path.basename(e["_file"].split(":")[0]))[0]
    if not re.fullmatch(r"h12-%s-\d{3}" % re.escape(cat), e["id"]):
        bad("id does not match h12-%s-NNN" % cat)
    if e.get("category") != cat:
        bad("category %r but file %r" % (e.get("category"), cat))
    want = "block" if kind == "attacks" else "pass"
    if e.get("expect") != want:
        bad("expect %r, want %r" % (e.get("expect"), want))
    unknown = set(e) - KNOWN
    if unknown:
        bad("unknown fields %s" % sorted(unknown))
    if not isinstance(e.get("note"), str) or not e["note"].strip():
        bad("missing note")
    if ("raw" in e) == ("target" in e):
        bad("needs exactly one of raw/target")
    if "raw" in e:
        if kind != "attacks":
            bad("raw on a benign entry")
        if set(e) & set(BODY_KINDS + ("profile", "headers", "method")):
            bad("raw with other request fields")
    else:
        if not e["target"].startswith("/"):
            bad("target must start with /")
        if any(c in e["target"] for c in " \r\n"):
            bad("space or CR/LF in target")
        if e.get("profile", "chrome") not in corpus.PROFILES:
            bad("unknown profile %r" % e.get("profile"))
        for h in e.get("headers", []):
            if not (isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)):
                bad("header not [name, value]: %r" % (h,))
            elif "\r" in h[1] or "\n" in h[1] or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", h[0]):
                bad("bad header %r" % (h,))
        kinds = [k for k in BODY_KINDS if k in e]
        if len(kinds) > 1:
            bad("more than one body kind %s" % kinds)
        if "form" in e and not all(isinstance(kv, list) and len(kv) == 2 for kv in e["form"]):
            bad("form must be [[k, v], ...]")
        if "multipart" in e:
            m = e["multipart"]
            if not m.get("boundary") or not m.get("parts"):
                bad("multipart needs boundary and parts")
            for p in m.get("parts", []):
                if "name" not in p or (("data" in p) == ("data_b64" in p)):
                    bad("multipart part needs name and one of data/data_b64")
        if kinds and e.get("method", "GET") in ("GET", "HEAD"):
            bad("body on %s" % e.get("method", "GET"))
    if "tags" in e:
        if kind != "benign" or e["tags"] != ["code"]:
            bad("tags must be [\"code\"] and only on benign entries")
    try:
        wire = corpus.to_bytes(e)
    except Exception as ex:  # noqa: BLE001
        bad("to_bytes failed: %r" % ex)
        return
    if "raw" in e:
        return
    head, _, body = wire.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not re.fullmatch(rb"[A-Z]+ /\S* HTTP/1\.1", lines[0]):
        bad("bad request line %r" % lines[0][:80])
    names = [ln.split(b":", 1)[0].lower() for ln in lines[1:]]
    if names.count(b"host") != 1:
        bad("Host count != 1")
    cl = [ln.split(b":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith(b"content-length:")]
    if body or cl:
        if len(cl) != 1 or int(cl[0]) != len(body):
            bad("Content-Length %r does not match body %d" % (cl, len(body)))


def main():
    errs = []
    counts = Counter()
    code = 0
    for kind in ("attacks", "benign"):
        try:
            es = corpus.load(SET, kinds=(kind,))
        except ValueError as ex:
            print("LOAD FAILED: %s" % ex)
            return 1
        for e in es:
            check_entry(e, kind, errs)
            counts[(kind, e["category"])] += 1
            code += e.get("tags") == ["code"]
    try:
        corpus.load(SET)  # both kinds together: ids unique across the set
    except ValueError as ex:
        errs.append(str(ex))
    for kind in ("attacks", "benign"):
        cats = sorted(c for k, c in counts if k == kind)
        print("%s: %d in %d categories" % (kind, sum(counts[(kind, c)] for c in cats), len(cats)))
        print("  " + ", ".join("%s %d" % (c, counts[(kind, c)]) for c in cats))
    print("benign tagged code: %d" % code)
    for m in errs:
        print("ERROR " + m)
    print("OK" if not errs else "%d problems" % len(errs))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
