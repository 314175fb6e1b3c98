#!/usr/bin/env bash
# bench/efficiency.sh - memory per request in flight, wakeups per request and
# worker scaling, gatehouse vs HAProxy vs nginx in one run (issue 15).  The
# work is done by efficiency.py (knobs and method in its header; see
# bench/README.md, "Efficiency"); raw results go to
# bench/results/efficiency-<date>/.
#
#   bench/efficiency.sh                                         # all three, 3 rounds
#   EFF_SCENARIOS=inflight bench/efficiency.sh                  # one of them
#   EFF_ROUNDS=1 EFF_INFLIGHT_CONNS=500 EFF_DELAY=2 EFF_WAKE_SECONDS=2 EFF_SECONDS=2 \
#       bench/efficiency.sh                                     # smoke (~2 min)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in wrk haproxy nginx taskset; do
    command -v "$tool" >/dev/null || { echo "efficiency: $tool missing; run make deps" >&2; exit 1; }
done
[ -x "${GATEHOUSE_BIN:-build/gatehouse}" ] ||
    echo "efficiency: ${GATEHOUSE_BIN:-build/gatehouse} not built; it will be reported as failed" >&2
# Thousands of connections in flight: the proxies and the clients inherit
# this limit (efficiency.py raises its own to at most 20000).
hard=$(ulimit -Hn)
ulimit -Sn "$hard" 2>/dev/null || true

exec /usr/bin/python3 bench/efficiency.py "$@"
