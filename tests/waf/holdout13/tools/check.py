#!/usr/bin/python3
"""check.py - validate held-out set 13 without sending anything.

Loads every entry through tests/waf/corpus.py, builds each request's bytes
and checks: ids unique and of the form h13-<category>-NNN, fields known and
well-formed, expect matching the directory, one Host header, a Content-Length
equal to the body's length (raw entries too, except in the protocol family
whose framing is broken on purpose), no CR/LF inside header values.

    /usr/bin/python3 tests/waf/holdout13/tools/check.py [CORPUS_DIR]
    /usr/bin/python3 tests/waf/holdout13/tools/check.py --selftest

Exit 0 when clean, 1 with one line per problem otherwise.  --selftest feeds
broken entries to the checker and fails unless each one is caught.
"""

import base64
import collections
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SET = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.normpath(os.path.join(SET, "..")))
import corpus  # noqa: E402

KNOWN = {"id", "category", "expect", "method", "target", "profile", "headers", "body", "json",
         "form", "multipart", "raw", "note", "tags", "_file"}
BODY_KINDS = ("body", "json", "form", "multipart")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def parse(wire):
    """(request line, [(name, value)], body bytes) of a request's bytes."""
    head, sep, body = wire.partition(b"\r\n\r\n")
    if not sep:
        return None, [], b""
    lines = head.split(b"\r\n")
    hs = []
    for ln in lines[1:]:
        name, _, value = ln.partition(b":")
        hs.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return lines[0].decode("latin-1"), hs, body


def check_entry(e, kind):
    errs = []
    cat = e.get("category", "")
    want = "block" if kind == "attacks" else "pass"
    if not re.match(r"^h13-%s-\d{3}$" % re.escape(cat), str(e.get("id", ""))):
        errs.append("id %r is not h13-%s-NNN" % (e.get("id"), cat))
    if os.path.splitext(os.path.basename(e["_file"].split(":")[0]))[0] != cat:
        errs.append("category %r is not the file name" % cat)
    if e.get("expect") != want:
        errs.append("expect %r, want %r" % (e.get("expect"), want))
    unknown = set(e) - KNOWN
    if unknown:
        errs.append("unknown fields %s" % sorted(unknown))
    if not isinstance(e.get("note"), str) or not e["note"].strip():
        errs.append("no note")
    if "tags" in e:
        if kind != "benign" or e["tags"] != ["code"]:
            errs.append("tags must be [\"code\"] and only on benign entries")
    if ("raw" in e) == ("target" in e):
        errs.append("exactly one of raw/target required")
    kinds = [k for k in BODY_KINDS if k in e]
    if len(kinds) > 1:
        errs.append("more than one body kind %s" % kinds)
    if "raw" in e:
        if set(e) & ({"method", "profile", "headers"} | set(BODY_KINDS)):
            errs.append("raw entry with profile/headers/body fields")
        if kind != "attacks" or cat != "protocol":
            errs.append("raw outside the protocol family")
    else:
        if not str(e["target"]).startswith("/"):
            errs.append("target does not start with /")
        if any(c in e["target"] for c in " \r\n\t"):
            errs.append("target has whitespace")
        if not TOKEN.match(e.get("method", "GET")):
            errs.append("bad method %r" % e.get("method"))
        if e.get("profile", "chrome") not in corpus.PROFILES:
            errs.append("unknown profile %r" % e.get("profile"))
        for h in e.get("headers", []):
            if not (isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)):
                errs.append("header %r is not [name, value]" % (h,))
                continue
            if not TOKEN.match(h[0]):
                errs.append("bad header name %r" % h[0])
            if "\r" in h[1] or "\n" in h[1]:
                errs.append("CR/LF in header %s" % h[0])
            if h[0].lower() == "host":
                errs.append("entry sets Host itself")
        if "form" in e and not all(isinstance(kv, list) and len(kv) == 2 for kv in e["form"]):
            errs.append("form is not [[k, v], ...]")
        if "multipart" in e:
            m = e["multipart"]
            if not m.get("boundary") or not m.get("parts"):
                errs.append("multipart without boundary or parts")
            for p in m.get("parts", []):
                if "name" not in p or ("data" in p) == ("data_b64" in p):
                    errs.append("multipart part needs name and one of data/data_b64")
                elif "data_b64" in p:
                    try:
                        base64.b64decode(p["data_b64"], validate=True)
                    except ValueError:
                        errs.append("bad data_b64")
    if errs:
        return errs
    try:
        wire = corpus.to_bytes(e)
    except Exception as ex:  # noqa: BLE001 - any failure to build is a finding
        return ["cannot build: %r" % ex]
    line, hs, body = parse(wire)
    if line is None:
        return ["no end of headers"]
    protocol = "raw" in e
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        if not protocol:
            errs.append("bad request line %r" % line)
    hosts = [v for n, v in hs if n.lower() == "host"]
    if not protocol and hosts != [corpus.HOST]:
        errs.append("Host headers %r" % hosts)
    if protocol and not hosts:
        errs.append("raw entry without Host")
    cls = [v for n, v in hs if n.lower() == "content-length"]
    tes = [v for n, v in hs if n.lower().strip() == "transfer-encoding"]
    if not protocol:
        if tes:
            errs.append("Transfer-Encoding outside protocol family")
        if body and cls != [str(len(body))]:
            errs.append("Content-Length %r, body is %d bytes" % (cls, len(body)))
        if not body and cls not in ([], ["0"]):
            errs.append("Content-Length %r without body" % cls)
    return errs


def run(root):
    problems = []
    try:
        es = corpus.load(root)
    except ValueError as ex:
        return ["load: %s" % ex], []
    for e in es:
        kind = e["_file"].split(os.sep)[0]
        for err in check_entry(e, kind):
            problems.append("%s (%s): %s" % (e.get("id"), e["_file"], err))
    return problems, es


def selftest():
    es = corpus.load(SET)
    good = [e for e in es if "target" in e and "body" in e and e["expect"] == "pass"][0]
    bad = []
    b = copy.deepcopy(good); b["expect"] = "block"; bad.append(("wrong expect", b, "benign"))
    b = copy.deepcopy(good); b["id"] = "x-1"; bad.append(("bad id", b, "benign"))
    b = copy.deepcopy(good); b["headers"] = b.get("headers", []) + [["Content-Length", "3"]]
    bad.append(("wrong Content-Length", b, "benign"))
    b = copy.deepcopy(good); b["headers"] = b.get("headers", []) + [["Host", "evil.example"]]
    bad.append(("second Host", b, "benign"))
    b = copy.deepcopy(good); b["note"] = ""; bad.append(("no note", b, "benign"))
    b = copy.deepcopy(good); b["tags"] = ["sql"]; bad.append(("bad tag", b, "benign"))
    b = copy.deepcopy(good); b["profile"] = "nope"; bad.append(("bad profile", b, "benign"))
    b = copy.deepcopy(good); b["form"] = [["a", "b"]]; bad.append(("two body kinds", b, "benign"))
    b = copy.deepcopy(good); b["headers"] = [["X-A", "1\r\nX-B: 2"]]; bad.append(("CRLF in header", b, "benign"))
    b = copy.deepcopy(good); b["colour"] = 1; bad.append(("unknown field", b, "benign"))
    failed = 0
    for what, e, kind in bad:
        if not check_entry(e, kind):
            print("selftest: %s NOT caught" % what)
            failed += 1
    # duplicate ids are caught by corpus.load
    import tempfile
    with tempfile.TemporaryDirectory(prefix="holdout13-") as d:
        os.makedirs(os.path.join(d, "benign"))
        os.makedirs(os.path.join(d, "attacks"))
        row = {k: v for k, v in good.items() if k != "_file"}
        with open(os.path.join(d, "benign", good["category"] + ".jsonl"), "w") as f:
            f.write(json.dumps(row) + "\n" + json.dumps(row) + "\n")
        probs, _ = run(d)
        if not any("duplicate" in p for p in probs):
            print("selftest: duplicate id NOT caught")
            failed += 1
    print("selftest: %d/%d broken entries caught" % (len(bad) + 1 - failed, len(bad) + 1))
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    root = sys.argv[1] if len(sys.argv) > 1 else SET
    problems, es = run(root)
    for p in problems:
        print(p)
    c = collections.Counter((e["expect"], e["category"]) for e in es)
    att = sum(n for (x, _), n in c.items() if x == "block")
    ben = sum(n for (x, _), n in c.items() if x == "pass")
    code = sum(1 for e in es if e.get("tags") == ["code"])
    print("attacks %d in %d families, benign %d in %d kinds (%d tagged code); %d problems"
          % (att, len({k for (x, k) in c if x == "block"}), ben,
             len({k for (x, k) in c if x == "pass"}), code, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
