#!/usr/bin/env bash
# bench/run.sh - `make bench`: gatehouse vs HAProxy vs nginx as reverse
# proxies in one run (see bench/README.md). The work is done by bench.py,
# which stops every process it starts (by PID) on exit, error or Ctrl-C.
#
#   BENCH_ROUNDS=3 BENCH_SECONDS=8 bench/run.sh          # defaults (scenario h1)
#   BENCH_ROUNDS=1 BENCH_SECONDS=2 BENCH_IDLE_CONNS=500 bench/run.sh   # smoke
#   BENCH_SCENARIOS=h2 bench/run.sh                       # HTTP/2 clients only
#   BENCH_SCENARIOS="h1 h2" bench/run.sh                  # both
#   BENCH_SCENARIOS=waf bench/run.sh                      # WAF and filters, benign corpus
#   BENCH_SCENARIOS=compress bench/run.sh                 # compression CPU vs nginx gzip
#                                                         # (on its own: bench_compress.py)
#   BENCH_SCENARIOS=metrics bench/run.sh                  # metrics + scraping vs no admin
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${BENCH_SCENARIOS:-}" = compress ]; then
    for tool in nginx wrk taskset; do
        command -v "$tool" >/dev/null || { echo "bench: $tool missing; run make deps" >&2; exit 1; }
    done
    exec /usr/bin/python3 bench/bench_compress.py "$@"
fi

tools="haproxy nginx taskset"
case " ${BENCH_SCENARIOS:-h1} " in *" h1 "*|*" waf "*|*" cache "*) tools="$tools wrk" ;; esac
case " ${BENCH_SCENARIOS:-h1} " in *" h2 "*) tools="$tools h2load openssl" ;; esac
for tool in $tools; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing; run make deps" >&2; exit 1; }
done
[ -x "${GATEHOUSE_BIN:-build/gatehouse}" ] ||
    echo "bench: ${GATEHOUSE_BIN:-build/gatehouse} not built; it will be reported as failed" >&2

# Many idle connections: the proxies inherit this limit.
hard=$(ulimit -Hn)
ulimit -Sn "$hard" 2>/dev/null || true

# The metrics scenario has a script of its own (bench_metrics.py); the
# others, if any are named too, follow in bench.py.
case " ${BENCH_SCENARIOS:-h1} " in *" metrics "*)
    /usr/bin/python3 bench/bench_metrics.py
    rest=$(echo " $BENCH_SCENARIOS " | sed 's/ metrics / /g' | xargs)
    [ -n "$rest" ] || exit 0
    export BENCH_SCENARIOS="$rest" ;;
esac
exec /usr/bin/python3 bench/bench.py "$@"
