#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (-DMARKET_FUZZ=ON:
# libFuzzer + ASan + UBSan) into ./build-fuzz, replays every seed corpus, then
# fuzzes each target for MARKET_FUZZ_SECONDS (default 8) seconds starting
# from its corpus, and prints each target's execs/s and final coverage. A
# crash, leak, UBSan report or timeout fails the script; the input that did it
# is left in $BUILD/fuzz-artifacts/ (add it to fuzz/corpus/<target>/ once the
# bug is fixed; see README "Sanitizers and fuzzing").
# Usage: deploy/fuzz.sh [TARGET...]   (default: every fuzz/corpus/* target)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${MARKET_FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${MARKET_BUILD_JOBS:-$(nproc)}"
FUZZ_SECONDS="${MARKET_FUZZ_SECONDS:-8}"
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# -O1 and line tables only: the usual libFuzzer trade-off (fast builds,
# symbolized stacks); asserts stay on (no -DNDEBUG).
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DMARKET_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  "${LAUNCHER[@]}"
cmake --build "$BUILD" -j"$JOBS" --target fuzz_all

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/deploy/lsan.supp:print_suppressions=0"
if [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

echo "== fuzz corpus replay"
ctest --test-dir "$BUILD/fuzz" -L fuzz --output-on-failure

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=()
  for d in fuzz/corpus/*/; do TARGETS+=("$(basename "$d")"); done
fi
ARTIFACTS="$BUILD/fuzz-artifacts"
LOGS="$BUILD/fuzz-logs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ARTIFACTS" "$LOGS"

echo "== fuzz ${FUZZ_SECONDS}s per target"
printf '%-24s %10s %10s %8s %8s %s\n' target execs/s execs cov ft result
passed=0
failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/$t"
  log="$LOGS/$t.log"
  # New inputs go to $WORK/$t (the first corpus dir); fuzz/corpus stays as committed.
  if "$BUILD/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=30 \
      -rss_limit_mb=2048 -artifact_prefix="$ARTIFACTS/$t-" "$WORK/$t" "fuzz/corpus/$t" \
      >"$log" 2>&1; then
    result=ok
    passed=$((passed + 1))
  else
    result=FAILED
    failed=$((failed + 1))
  fi
  speed="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -1)"
  execs="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  ft="$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  printf '%-24s %10s %10s %8s %8s %s\n' "$t" "${speed:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  if [ "$result" = FAILED ]; then
    echo "---- $log (last 60 lines)"
    tail -n 60 "$log"
    echo "----"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
