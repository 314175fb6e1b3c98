#!/usr/bin/python3
"""gen_benign.py - writes ../benign/*.jsonl from gen_benign_a/_b (holdout20)."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_benign_a, gen_benign_b

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benign")

def main():
    os.makedirs(OUT, exist_ok=True)
    kinds = dict(gen_benign_a.K)
    kinds.update(gen_benign_b.K)
    for name, es in kinds.items():
        with open(os.path.join(OUT, name + ".jsonl"), "w", encoding="utf-8") as f:
            for n, e in enumerate(es, 1):
                d = {"id": "h20-%s-%03d" % (name, n), "category": name, "expect": "pass"}
                d.update(e)
                f.write(json.dumps(d, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    main()
