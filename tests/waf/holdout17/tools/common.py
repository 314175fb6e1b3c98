"""Shared helpers for the holdout17 generators (stdlib only)."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(kind, cat, entries):
    """kind: attacks|benign; entries: dicts without id/category/expect."""
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    exp = "block" if kind == "attacks" else "pass"
    with open(os.path.join(d, cat + ".jsonl"), "w", encoding="utf-8") as f:
        for n, e in enumerate(entries, 1):
            out = {"id": "h17-%s-%03d" % (cat, n), "category": cat, "expect": exp}
            out.update(e)
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    return len(entries)


def E(target=None, method="GET", profile=None, headers=None, note=None, tags=None, **body):
    e = {}
    if method != "GET":
        e["method"] = method
    if target is not None:
        e["target"] = target
    if profile:
        e["profile"] = profile
    if headers:
        e["headers"] = headers
    e.update(body)
    if note:
        e["note"] = note
    if tags:
        e["tags"] = tags
    return e
