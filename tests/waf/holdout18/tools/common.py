"""common.py - writes the holdout18 jsonl files from the generators' lists."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(kind, cat, entries):
    """kind: attacks | benign; cat: file name; ids h18-<cat>-NNN in order."""
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, cat + ".jsonl"), "w", encoding="utf-8") as f:
        for n, e in enumerate(entries, 1):
            out = {"id": "h18-%s-%03d" % (cat, n), "category": cat,
                   "expect": "block" if kind == "attacks" else "pass"}
            out.update(e)
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    return len(entries)


def E(target=None, **kw):
    e = {}
    if "method" in kw:
        e["method"] = kw.pop("method")
    if target is not None:
        e["target"] = target
    e.update(kw)
    return e
