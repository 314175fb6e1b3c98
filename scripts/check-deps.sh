#!/usr/bin/env bash
# scripts/check-deps.sh CC [CFLAGS...] - run by `make` before the first
# compile: is every header the build includes there?  If not, say which
# Debian packages bring the missing ones and that `make deps` installs them
# (scripts/deps.sh), instead of letting the compiler fail on one file.
set -u
cc=${1:-gcc}
shift || true

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "gatehouse: the C compiler '$cc' is missing (Debian package: gcc)." >&2
    echo "gatehouse: 'make deps' installs every build and test dependency (as root)." >&2
    exit 1
fi

# header | Debian package
checks=(
    "stdio.h|libc6-dev"
    "openssl/ssl.h|libssl-dev"
    "pcre2.h|libpcre2-dev"
    "nghttp2/nghttp2.h|libnghttp2-dev"
    "modsecurity/modsecurity.h|libmodsecurity-dev"
    "hs/hs.h|libvectorscan-dev"
    "zlib.h|zlib1g-dev"
    "brotli/encode.h|libbrotli-dev"
    "zstd.h|libzstd-dev"
    "liburing.h|liburing-dev"
)
missing=()
for c in "${checks[@]}"; do
    h=${c%%|*}
    pkg=${c#*|}
    if ! printf '#define PCRE2_CODE_UNIT_WIDTH 8\n#include <%s>\n' "$h" |
        "$cc" "$@" -E -x c - >/dev/null 2>&1; then
        missing+=("$pkg (for <$h>)")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "gatehouse: cannot build, missing build dependencies:" >&2
for m in "${missing[@]}"; do
    echo "  $m" >&2
done
echo "gatehouse: run 'make deps' (as root) to install them, then 'make' again." >&2
exit 1
