#!/bin/sh
# tests/waf/run-gatehouse.sh BINARY - the gatehouse figures in tests/waf/results/
# (gatehouse-pl{1,2}[-nopf], holdout{,2,...,21}-gatehouse-*, probes-gatehouse-pl{1,2}): the
# corpus, the twenty-one held-out sets and the probes through BINARY's WAF with
# its default exclusions, each started and stopped by eval.py (about 4 minutes).
# Copy the binary first (cp build/gatehouse /tmp/gh-waf): a rebuild must not
# change it under a run.
set -eu
BIN=$(realpath "${1:?usage: run-gatehouse.sh BINARY}")
cd "$(dirname "$0")"
PY=/usr/bin/python3
R=results
run() { out=$1; shift; $PY eval.py --gatehouse-bin "$BIN" "$@" --json "$R/$out.json" \
            --markdown "$R/$out.md" >/dev/null
        grep -E '^(###|Detection|Without|Against)' "$R/$out.md"; echo; }
for t in gatehouse-pl1 gatehouse-pl1-nopf gatehouse-pl2 gatehouse-pl2-nopf; do
    run $t --target $t
    run holdout-$t --target $t --corpus holdout --label "$t, held-out set"
    run holdout2-$t --target $t --corpus holdout2 --label "$t, holdout2"
    run holdout3-$t --target $t --corpus holdout3 --label "$t, holdout3"
    run holdout4-$t --target $t --corpus holdout4 --label "$t, holdout4"
    run holdout5-$t --target $t --corpus holdout5 --label "$t, holdout5"
    run holdout6-$t --target $t --corpus holdout6 --label "$t, holdout6"
    run holdout7-$t --target $t --corpus holdout7 --label "$t, holdout7"
    run holdout8-$t --target $t --corpus holdout8 --label "$t, holdout8"
    run holdout9-$t --target $t --corpus holdout9 --label "$t, holdout9"
    run holdout10-$t --target $t --corpus holdout10 --label "$t, holdout10"
    run holdout11-$t --target $t --corpus holdout11 --label "$t, holdout11"
    run holdout12-$t --target $t --corpus holdout12 --label "$t, holdout12"
    run holdout13-$t --target $t --corpus holdout13 --label "$t, holdout13"
    run holdout14-$t --target $t --corpus holdout14 --label "$t, holdout14"
    run holdout15-$t --target $t --corpus holdout15 --label "$t, holdout15"
    run holdout16-$t --target $t --corpus holdout16 --label "$t, holdout16"
    run holdout17-$t --target $t --corpus holdout17 --label "$t, holdout17"
    run holdout18-$t --target $t --corpus holdout18 --label "$t, holdout18"
    run holdout19-$t --target $t --corpus holdout19 --label "$t, holdout19"
    run holdout20-$t --target $t --corpus holdout20 --label "$t, holdout20"
    run holdout21-$t --target $t --corpus holdout21 --label "$t, holdout21"
done
run probes-gatehouse-pl1 --target gatehouse-pl1 --corpus probes --label "gatehouse-pl1, probes"
run probes-gatehouse-pl2 --target gatehouse-pl2 --corpus probes --label "gatehouse-pl2, probes"
