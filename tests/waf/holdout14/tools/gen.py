#!/usr/bin/python3
"""gen.py - write holdout14's attacks/*.jsonl and benign/*.jsonl from the
hand-written entries in attacks.py and benign_*.py (run from anywhere)."""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import lib  # noqa: E402
import attacks, benign_a, benign_b, benign_c  # noqa: E402,F401


def main():
    for kind in ("attacks", "benign"):
        for old in glob.glob(os.path.join(ROOT, kind, "*.jsonl")):
            os.remove(old)
    for (kind, cat), entries in lib.ENTRIES.items():
        path = os.path.join(ROOT, kind, cat + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for e in entries:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print("wrote %d files, %d entries" % (len(lib.ENTRIES), sum(len(v) for v in lib.ENTRIES.values())))


if __name__ == "__main__":
    main()
