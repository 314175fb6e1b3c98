"""Shared helpers for the holdout15 generators: entry builder and writer."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def E(target=None, method="GET", profile="chrome", note="", headers=None, **kw):
    d = {}
    if method != "GET":
        d["method"] = method
    if target is not None:
        d["target"] = target
    if profile != "chrome":
        d["profile"] = profile
    if headers:
        d["headers"] = [list(h) for h in headers]
    d.update(kw)
    if note:
        d["note"] = note
    return d


def RAW(raw, note):
    return {"raw": raw, "note": note}


def write(kind, data):
    """data: {category: [entry, ...]}; ids h15-<category>-NNN."""
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    for cat, entries in data.items():
        path = os.path.join(ROOT, kind, cat + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for i, e in enumerate(entries, 1):
                d = {"id": "h15-%s-%03d" % (cat, i), "category": cat,
                     "expect": "block" if kind == "attacks" else "pass"}
                d.update(e)
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
