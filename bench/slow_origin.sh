#!/usr/bin/env bash
# bench/slow_origin.sh - one of four origins answers 50 ms late: p99 per
# balancing algorithm (gatehouse roundrobin, leastconn, random, ewma) next
# to HAProxy's leastconn on the same setup.  The work is done by
# slow_origin.py (knobs and method in its header); it prints a markdown
# table and keeps raw results in bench/results/slow-origin-<date>/.
#
#   bench/slow_origin.sh                                   # 3 rounds x 10 s
#   SLOW_ROUNDS=1 SLOW_SECONDS=3 bench/slow_origin.sh      # smoke test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in wrk haproxy nginx taskset; do
    command -v "$tool" >/dev/null || { echo "slow_origin: $tool missing; run make deps" >&2; exit 1; }
done
[ -x "${GATEHOUSE_BIN:-build/gatehouse}" ] ||
    { echo "slow_origin: ${GATEHOUSE_BIN:-build/gatehouse} not built (make)" >&2; exit 1; }
hard=$(ulimit -Hn)
ulimit -Sn "$hard" 2>/dev/null || true

exec /usr/bin/python3 bench/slow_origin.py "$@"
