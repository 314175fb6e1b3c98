"""Shared helpers for the holdout19 generators (stdlib only)."""
import json
import os
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def q(path, params):
    """A target with a browser-style query string (UTF-8, quote_plus)."""
    return path + "?" + urllib.parse.urlencode(params)


def write(kind, cat, entries):
    """Number the entries h19-<cat>-NNN and write <kind>/<cat>.jsonl."""
    expect = "block" if kind == "attacks" else "pass"
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    path = os.path.join(ROOT, kind, cat + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for n, e in enumerate(entries, 1):
            out = {"id": "h19-%s-%03d" % (cat, n), "category": cat, "expect": expect}
            out.update(e)
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    return len(entries)
