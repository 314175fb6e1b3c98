#!/bin/sh
# tests/waf/run-nginx.sh - reproduce the nginx + ModSecurity + CRS figures in
# tests/waf/results/ (about 2 minutes; every nginx is started and stopped by
# eval.py).  See tests/waf/README.md.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
R=results
E=exclusions
mkdir -p "$R"
run() { out=$1; shift; $PY eval.py "$@" --json "$R/$out.json" --markdown "$R/$out.md" >/dev/null; 
        grep -E '^(###|Detection|Without|Against)' "$R/$out.md"; echo; }
run nginx-pl1 --target nginx-pl1
run nginx-pl2 --target nginx-pl2
run nginx-pl1-defaults --target nginx-pl1 --exclusions $E/default-before.conf \
    --baseline $R/nginx-pl1.json --label "nginx-pl1 + default exclusions"
run nginx-pl2-defaults --target nginx-pl2 --exclusions $E/default-before.conf \
    --baseline $R/nginx-pl2.json --label "nginx-pl2 + default exclusions"
run nginx-pl1-example-app --target nginx-pl1 --exclusions $E/default-before.conf \
    --exclusions $E/example-app.conf --baseline $R/nginx-pl1.json \
    --label "nginx-pl1 + default exclusions + example-app.conf (fitted to this corpus)"
run nginx-pl1-threshold10 --target nginx-pl1 --exclusions $E/default-before.conf \
    --exclusions $E/experiment-threshold10.conf --baseline $R/nginx-pl1.json \
    --label "nginx-pl1 + default exclusions + anomaly threshold 10 (experiment)"
run nginx-pl2-931130 --target nginx-pl2 --exclusions $E/default-before.conf \
    --exclusions-after $E/experiment-pl2-931130-after.conf --baseline $R/nginx-pl2.json \
    --label "nginx-pl2 + default exclusions + 931130 off URL-named arguments (experiment)"
# the held-out set (tests/waf/holdout) and the probes (tests/waf/probes)
run holdout-nginx-pl1 --target nginx-pl1 --corpus holdout --label "nginx-pl1, held-out set"
run holdout-nginx-pl2 --target nginx-pl2 --corpus holdout --label "nginx-pl2, held-out set"
# the second and third held-out sets (holdout2, holdout3)
run holdout2-nginx-pl1 --target nginx-pl1 --corpus holdout2 --label "nginx-pl1, holdout2"
run holdout2-nginx-pl2 --target nginx-pl2 --corpus holdout2 --label "nginx-pl2, holdout2"
run holdout3-nginx-pl1 --target nginx-pl1 --corpus holdout3 --label "nginx-pl1, holdout3"
run holdout3-nginx-pl2 --target nginx-pl2 --corpus holdout3 --label "nginx-pl2, holdout3"
run holdout4-nginx-pl1 --target nginx-pl1 --corpus holdout4 --label "nginx-pl1, holdout4"
run holdout4-nginx-pl2 --target nginx-pl2 --corpus holdout4 --label "nginx-pl2, holdout4"
run holdout5-nginx-pl1 --target nginx-pl1 --corpus holdout5 --label "nginx-pl1, holdout5"
run holdout5-nginx-pl2 --target nginx-pl2 --corpus holdout5 --label "nginx-pl2, holdout5"
run holdout6-nginx-pl1 --target nginx-pl1 --corpus holdout6 --label "nginx-pl1, holdout6"
run holdout6-nginx-pl2 --target nginx-pl2 --corpus holdout6 --label "nginx-pl2, holdout6"
run probes-nginx-pl1 --target nginx-pl1 --corpus probes --label "nginx-pl1, probes"
