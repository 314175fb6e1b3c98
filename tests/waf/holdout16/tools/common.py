"""Shared helpers for the holdout16 generators: write entries as JSONL with ids."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(kind, cat, entries):
    """Write entries to <kind>/<cat>.jsonl with ids h16-<cat>-NNN."""
    expect = "block" if kind == "attacks" else "pass"
    path = os.path.join(ROOT, kind, cat + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for n, e in enumerate(entries, 1):
            out = {"id": "h16-%s-%03d" % (cat, n), "category": cat, "expect": expect}
            out.update(e)
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    return len(entries)
