#!/usr/bin/env python3
"""
pf_dump_corpus.py - writes the WAF corpus (tests/waf/corpus/, the held-out sets
holdout, holdout2 ... holdout21 and the probes, read through
tests/waf/corpus.py) as raw requests for tests/unit/test_waf_pf.c:

    python3 tests/waf/pf_dump_corpus.py [CORPUS_DIR] > /tmp/corpus.raw
    WAF_PF_RAW=/tmp/corpus.raw build/tests/test_waf_pf

CORPUS_DIR is the directory holding corpus.py (default: this directory).
Each record is "#<attack|benign> <id> <length>\\n<bytes>\\n".
"""
import os
import sys

here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import corpus  # noqa: E402

out = sys.stdout.buffer
# the corpus, the held-out sets and the probes, each where it exists
for sub in ("corpus", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7",
            "holdout8", "holdout9", "holdout10", "holdout11", "holdout12", "holdout13",
            "holdout14", "holdout15", "holdout16", "holdout17", "holdout18", "holdout19",
            "holdout20", "holdout21",
            "probes"):
    if not os.path.isdir(os.path.join(here, sub)):
        continue
    for e in corpus.load(os.path.join(here, sub)):
        kind = "attack" if e.get("expect") == "block" else "benign"
        data = corpus.to_bytes(e)
        out.write(b"#%s %s %d\n" % (kind.encode(), e["id"].encode(), len(data)))
        out.write(data + b"\n")
