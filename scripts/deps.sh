#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages gatehouse needs to build,
# test, fuzz and benchmark. Idempotent and quiet when everything is present:
# it asks dpkg first and only runs apt-get (update + install) for what is
# missing. Run as root (CI and the dev machines are root).
#
# Why each package:
#   gcc make                 build
#   libssl-dev libnghttp2-dev libpcre2-dev zlib1g-dev libbrotli-dev libzstd-dev
#                            TLS, HTTP/2, regex conditions, compression (gzip, br, zstd)
#   liburing-dev             tune.io_uring: batched sends (src/net/uring.c)
#   python3-brotli python3-zstandard
#                            the compression e2e tests decode br and zstd
#   python3-pytest curl nghttp2-client openssl
#                            end-to-end tests (Debian's /usr/bin/python3)
#   python3-h2 python3-grpcio python3-pytest-xdist
#                            raw HTTP/2 frames and a real gRPC client/server in the
#                            e2e tests; e2e files run in parallel
#   testssl.sh               end-to-end TLS scan (tests/e2e/test_tls.py)
#   man-db                   `man -l` renders the man pages (tests/e2e/test_install.py)
#   iproute2                 `ss` shows socket options (tests/e2e/test_sockopts.py)
#   clang libclang-rt-14-dev libFuzzer + sanitizer runtimes (make fuzz)
#   libmodsecurity-dev modsecurity-crs
#                            the WAF: libmodsecurity 3 and the OWASP Core Rule Set
#   libvectorscan-dev        the WAF's multi-pattern pre-filter (Hyperscan API)
#   libnginx-mod-http-modsecurity
#                            nginx + ModSecurity + CRS, the WAF's yardstick
#   chromium nodejs npm      the dashboard's test in a real headless browser
#                            (tests/e2e/test_dashboard.py); puppeteer-core, pinned by
#                            tests/dashboard/package-lock.json, comes from npm into
#                            tests/dashboard/node_modules (npm ci, below)
#   wrk haproxy nginx-light linux-perf strace procps
#                            benchmark (bench/run.sh): load generator, the
#                            two yardsticks, syscall counting, ps/pkill
#   varnish                  the cache benchmark's third peer (bench_cache.py)
set -euo pipefail

PKGS=(
    gcc make
    libssl-dev libnghttp2-dev libpcre2-dev zlib1g-dev libbrotli-dev libzstd-dev liburing-dev
    libmodsecurity-dev modsecurity-crs libvectorscan-dev
    python3-pytest curl wrk nghttp2-client testssl.sh man-db iproute2
    python3-h2 python3-grpcio python3-pytest-xdist python3-brotli python3-zstandard
    haproxy nginx-light libnginx-mod-http-modsecurity openssl varnish
    clang libclang-rt-14-dev
    strace procps linux-perf
    chromium nodejs
)
# A nodejs from NodeSource brings its own npm (Debian's would conflict).
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# The dashboard test's browser driver, when missing (no root needed).
dashboard_driver() {
    local dir
    dir="$(dirname "${BASH_SOURCE[0]}")/../tests/dashboard"
    [ -d "$dir/node_modules/puppeteer-core" ] && return 0
    echo "deps.sh: npm ci in tests/dashboard (puppeteer-core)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        { echo "deps.sh: npm ci failed in $dir" >&2; exit 1; }
}

missing=()
for p in "${PKGS[@]}"; do
    is_installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { dashboard_driver; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root to install" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Keep Debian's maintainer scripts from starting nginx/haproxy on :80 while
# we install (policy-rc.d exit 101 = "action forbidden"). Only add one if the
# machine has none, and remove only the one we added.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
fi
aptlog=$(mktemp)
cleanup() { [ "$added_policy" = 1 ] && rm -f "$policy"; rm -f "$aptlog"; return 0; }
trap cleanup EXIT

# Quiet on success, the whole apt output on failure.
quietly() {
    "$@" >"$aptlog" 2>&1 || { cat "$aptlog" >&2; echo "deps.sh: failed: $*" >&2; exit 1; }
}
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
quietly apt-get update -q
quietly apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"

# Belt and braces: if a system nginx/haproxy got started anyway, stop exactly
# that daemon (found through its Debian pidfile) so it does not hold ports the
# tests and the benchmark use. Processes started by tests have other pidfiles
# or none, so they are never touched.
stop_daemon() { # name pidfile
    local name=$1 pidfile=$2 pid
    [ -r "$pidfile" ] || return 0
    pid=$(head -n1 "$pidfile" | tr -dc '0-9')
    [ -n "$pid" ] || return 0
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        service "$name" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    return 0
}
stop_daemon nginx /run/nginx.pid
stop_daemon haproxy /run/haproxy.pid

for p in "${missing[@]}"; do
    is_installed "$p" || { echo "deps.sh: failed to install $p" >&2; exit 1; }
done
dashboard_driver
echo "deps.sh: done" >&2
