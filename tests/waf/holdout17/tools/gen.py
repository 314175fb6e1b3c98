#!/usr/bin/python3
"""Writes tests/waf/holdout17/{attacks,benign}/*.jsonl from the gen_*.py tables."""
import gen_attacks
import gen_benign_a
import gen_benign_b
import gen_benign_c
from common import write

if __name__ == "__main__":
    na = sum(write("attacks", k, v) for k, v in gen_attacks.A.items())
    nb = 0
    for m in (gen_benign_a, gen_benign_b, gen_benign_c):
        nb += sum(write("benign", k, v) for k, v in m.B.items())
    print("attacks %d, benign %d" % (na, nb))
