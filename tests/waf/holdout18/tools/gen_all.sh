#!/bin/sh
# Regenerates every holdout18 jsonl file, then checks them.
set -e
cd "$(dirname "$0")"
/usr/bin/python3 gen_attacks.py
/usr/bin/python3 gen_benign_a.py
/usr/bin/python3 gen_benign_b.py
/usr/bin/python3 check.py
