#!/usr/bin/env bash
# bench/tls.sh - TLS benchmark: gatehouse vs HAProxy vs nginx terminating
# TLS (full and resumed handshakes/s, HTTPS keep-alive req/s), one core
# each, in one run. The work is done by bench/tls.py (its docstring says
# what is measured and how); every process it starts is stopped by PID.
#
#   bench/tls.sh                                   # 3 rounds x 5 s per case
#   BENCH_ROUNDS=1 BENCH_SECONDS=2 bench/tls.sh    # smoke (~1 min)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in openssl h2load wrk haproxy nginx taskset; do
    command -v "$tool" >/dev/null || { echo "bench/tls: $tool missing; run make deps" >&2; exit 1; }
done
hard=$(ulimit -Hn)
ulimit -Sn "$hard" 2>/dev/null || true
exec /usr/bin/python3 bench/tls.py "$@"
