#!/usr/bin/env bash
# scripts/run-demo.sh - `make run`: two demo origins + gatehouse in the
# foreground on conf/quickstart.conf. Ctrl-C stops gatehouse; the trap then
# stops the origins (by PID).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${GATEHOUSE_BIN:-build/gatehouse}
CONF=${GATEHOUSE_CONF:-conf/quickstart.conf}
PY=/usr/bin/python3

[ -x "$BIN" ] || { echo "run-demo: $BIN not built (run: make)" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 9001 9002 8080; do
    if port_busy "$port"; then
        echo "run-demo: 127.0.0.1:$port is already in use; stop whatever holds it" >&2
        exit 1
    fi
done

"$BIN" -t -c "$CONF" || { echo "run-demo: $CONF does not pass -t" >&2; exit 1; }

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PY" scripts/demo_origin.py --name app1 --port 9001 & pids+=($!)
"$PY" scripts/demo_origin.py --name app2 --port 9002 & pids+=($!)

for port in 9001 9002; do
    for _ in $(seq 1 50); do port_busy "$port" && break; sleep 0.1; done
    port_busy "$port" || { echo "run-demo: origin on :$port did not start" >&2; exit 1; }
done

cat <<MSG
demo origins: app1 on 127.0.0.1:9001, app2 on 127.0.0.1:9002
gatehouse on 127.0.0.1:8080 ($CONF); in another terminal try:

    curl -i http://127.0.0.1:8080/

(repeat it to see round-robin between app1 and app2). Ctrl-C to stop.
MSG

# Foreground (so Ctrl-C reaches gatehouse directly), but not exec: the shell
# must outlive gatehouse to run the cleanup trap.
rc=0
"$BIN" -c "$CONF" || rc=$?
exit "$rc"
