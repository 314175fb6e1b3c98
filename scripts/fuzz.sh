#!/usr/bin/env bash
# scripts/fuzz.sh - `make fuzz`: build every fuzz/fuzz_*.c as a libFuzzer
# target (clang, ASan+UBSan) into build-fuzz/ and run each for a bounded time.
#
# A target names what it links in comment lines anywhere in its file:
#     // FUZZ_SOURCES: src/http/h1.c src/http/msg.c
#     // FUZZ_LIBS: -lpcre2-8
# (globs like src/config/*.c are expanded). Without FUZZ_SOURCES it links
# every src/*/*.c except main.c; without FUZZ_LIBS it uses the Makefile's
# libraries (-lmodsecurity -lhs -lpcre2-8 -lnghttp2 -lssl -lcrypto -lz -lbrotlienc
# -lzstd -pthread).
#
# Corpus: seeds are read from fuzz/corpus/<target>/ (e.g. fuzz/corpus/fuzz_h1/,
# or fuzz/corpus/h1/ if that is the one that exists) and never written; new
# inputs go to build-fuzz/corpus/<target>/, crashes to
# build-fuzz/artifacts/<target>/. A dictionary fuzz/<target>.dict is used if
# present.
#
# Environment:
#   FUZZ_SECONDS  run time per target (default 60; 0 = build only)
#   FUZZ_TARGETS  space-separated subset, e.g. "fuzz_h1"
#   FUZZ_CC       clang binary (default clang)
#   FUZZ_JOBS     targets built and run at once (default 2)
# Exit status: non-zero if a target fails to build or any run finds a crash,
# leak, UB, timeout or OOM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER=${FUZZ_SECONDS:-60}
CLANG=${FUZZ_CC:-clang}
OUT=build-fuzz
CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DGH_NO_RESOLVE
        -fno-omit-frame-pointer -std=c11 -Isrc -D_GNU_SOURCE -pthread)
DEFAULT_LIBS="-lmodsecurity -lhs -lpcre2-8 -lnghttp2 -lssl -lcrypto -lz -lbrotlienc -lzstd -luring -pthread"

command -v "$CLANG" >/dev/null || { echo "fuzz: $CLANG not found (make deps)" >&2; exit 1; }

shopt -s nullglob
targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
    for t in $FUZZ_TARGETS; do targets+=("fuzz/${t%.c}.c"); done
else
    targets=(fuzz/fuzz_*.c)
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no fuzz/fuzz_*.c targets yet; nothing to do"
    exit 0
fi

# Value of a "FUZZ_<KEY>:" comment line in a file (all such lines joined).
directive() { # file key
    sed -n "s@^[[:space:]]*\\(//\\|/\\*\\|\\*\\)[[:space:]]*FUZZ_$2:[[:space:]]*\\(.*\\)\$@\\2@p" "$1" |
        sed 's@[[:space:]]*\*/[[:space:]]*$@@' | tr '\n' ' '
}

mkdir -p "$OUT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# One target: build, then run.  Its console output goes to $OUT/<name>.out
# and its one-line result to $OUT/<name>.result (printed by the caller);
# exit status non-zero when it failed.
one_target() { # src
    local src=$1 name
    name=$(basename "$src" .c)
    [ -f "$src" ] || { echo "fuzz: $src not found" >&2; echo "missing" >"$OUT/$name.result"; return 1; }

    local srcs_decl libs_decl libs seed work art log rc
    local -a srcs dirs opts
    srcs_decl=$(directive "$src" SOURCES)
    libs_decl=$(directive "$src" LIBS)
    srcs=()
    if [ -n "${srcs_decl// /}" ]; then
        for pat in $srcs_decl; do   # word splitting + glob expansion intended
            [ -e "$pat" ] || { echo "fuzz: $name: FUZZ_SOURCES entry $pat matches nothing" >&2; }
            srcs+=("$pat")
        done
    else
        for f in src/*/*.c; do
            [ "$(basename "$f")" = main.c ] || srcs+=("$f")
        done
    fi
    # A FUZZ_LIBS line, even an empty one, replaces the default libraries.
    if grep -q 'FUZZ_LIBS:' "$src"; then libs=$(echo $libs_decl); else libs=$DEFAULT_LIBS; fi

    echo "== fuzz: building $name (${#srcs[@]} sources; libs: $libs)"
    # shellcheck disable=SC2086
    if ! "$CLANG" "${CFLAGS[@]}" -o "$OUT/$name" "$src" "${srcs[@]}" $libs; then
        echo "fuzz: $name: build FAILED" >&2
        echo "build failed" >"$OUT/$name.result"; return 1
    fi
    echo "built" >"$OUT/$name.result"
    [ "$SECONDS_PER" -gt 0 ] || return 0

    seed=fuzz/corpus/$name
    [ -d "$seed" ] || [ ! -d "fuzz/corpus/${name#fuzz_}" ] || seed=fuzz/corpus/${name#fuzz_}
    work=$OUT/corpus/$name
    art=$OUT/artifacts/$name
    rm -rf "$art"  # artifacts of this run only
    mkdir -p "$work" "$art"
    dirs=("$work")
    [ -d "$seed" ] && dirs+=("$seed")
    opts=(-max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$art/")
    [ -f "fuzz/$name.dict" ] && opts+=(-dict="fuzz/$name.dict")

    echo "== fuzz: running $name for ${SECONDS_PER}s (seeds: ${seed}, new corpus: $work)"
    log=$OUT/$name.log
    rc=0
    "$OUT/$name" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
    grep -E '^(stat::|#[0-9]+ *DONE)' "$log" | tr '\n' ' ' | sed 's/$/\n/' || true
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $name: FAILED (exit $rc); log $log, artifacts:" >&2
        for a in "$art"/*; do
            echo "  reproduce: $OUT/$name $a" >&2
            # CI keeps the output, not the file: the input as base64
            echo "  input (base64 -d > crash): $(head -c 6000 "$a" | base64 -w0)" >&2
        done
        grep -E 'ERROR: |SUMMARY: |runtime error|invariant failed' "$log" | head -5 >&2 || true
        echo "  --- last lines of $log" >&2
        grep -vE '^#[0-9]+ +(NEW|REDUCE|pulse)' "$log" | tail -n 40 >&2 || true
        echo "CRASH (exit $rc)" >"$OUT/$name.result"; return 1
    fi
    echo "ok, corpus $(find "$work" -type f | wc -l) files" >"$OUT/$name.result"
}

# Targets run FUZZ_JOBS at a time (default 2: a libFuzzer run and a build
# each take one core), each one's output printed whole when it ends.
JOBS=${FUZZ_JOBS:-2}
failed=()
declare -A pid_of
running=0
finish() { # pid name
    local rc=0
    wait "$1" || rc=$?
    cat "$OUT/$2.out"
    [ "$rc" -eq 0 ] || failed+=("$2")
    running=$((running - 1))
}
for src in "${targets[@]}"; do
    name=$(basename "$src" .c)
    rm -f "$OUT/$name.result"
    one_target "$src" >"$OUT/$name.out" 2>&1 &
    pid_of[$name]=$!
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        # the oldest still running (targets are started in order)
        for t in "${targets[@]}"; do
            n=$(basename "$t" .c)
            p=${pid_of[$n]:-}
            if [ -n "$p" ]; then
                unset "pid_of[$n]"
                finish "$p" "$n"
                break
            fi
        done
    fi
done
for t in "${targets[@]}"; do
    n=$(basename "$t" .c)
    p=${pid_of[$n]:-}
    [ -z "$p" ] || finish "$p" "$n"
done

echo "== fuzz summary"
for src in "${targets[@]}"; do
    name=$(basename "$src" .c)
    printf '  %-20s %s\n' "$name" "$(cat "$OUT/$name.result" 2>/dev/null || echo '?')"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
