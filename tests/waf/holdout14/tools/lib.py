"""Registry the generator modules add entries to; gen.py writes the jsonl files."""
import collections

ENTRIES = collections.OrderedDict()   # (kind, category) -> [entry]


def add(kind, cat, note, **kw):
    """kind: attacks | benign; cat: file name; kw: corpus.py entry fields."""
    lst = ENTRIES.setdefault((kind, cat), [])
    e = {"id": "h14-%s-%03d" % (cat, len(lst) + 1), "category": cat,
         "expect": "block" if kind == "attacks" else "pass"}
    e.update(kw)
    e["note"] = note
    lst.append(e)
    return e


def A(cat, note, **kw):
    return add("attacks", cat, note, **kw)


def B(cat, note, **kw):
    return add("benign", cat, note, **kw)
