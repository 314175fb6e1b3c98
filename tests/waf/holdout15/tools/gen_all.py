"""Regenerate every holdout15 jsonl file: /usr/bin/python3 tests/waf/holdout15/tools/gen_all.py"""
import glob
import os
import runpy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for kind in ("attacks", "benign"):
    for p in glob.glob(os.path.join(ROOT, kind, "*.jsonl")):
        os.remove(p)
os.chdir(HERE)
for g in ("gen_attacks", "gen_benign_a", "gen_benign_b", "gen_benign_c"):
    runpy.run_path(os.path.join(HERE, g + ".py"), run_name="__main__")
