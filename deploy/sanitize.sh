#!/usr/bin/env bash
# Builds the project with AddressSanitizer (leak detection on) and
# UndefinedBehaviorSanitizer into ./build-asan and runs the unit and service
# tests there: every ctest of common/, ledger/, services/ and clients/. The
# cross-process end-to-end tests and the Node.js tests of tests/ run only in
# the normal build (deploy/test.sh).
# Expects deploy/setup.sh to have run (packages installed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD="${MARKET_ASAN_BUILD_DIR:-build-asan}"
JOBS="${MARKET_BUILD_JOBS:-$(nproc)}"
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# fuzz/ is not here: deploy/fuzz.sh replays every corpus under ASan+UBSan itself.
DIRS=(common ledger services clients)

# -O1 and minimal debug info (-g1: functions and lines, enough for ASan's
# stacks): a third less compile time than -O2 -g, which CI's 90 minutes need.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DMARKET_SANITIZE=address,undefined "${LAUNCHER[@]}"
# Only what those tests need (the per-folder "all" targets), not tests/ or bench/.
cmake --build "$BUILD" -j"$JOBS" --target "${DIRS[@]/%//all}"

# Leaks fail the run; UBSan findings abort the test with a stack trace.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/deploy/lsan.supp:print_suppressions=0"
for dir in "${DIRS[@]}"; do
  echo "== ctest (ASan+UBSan) $dir/"
  ctest --test-dir "$BUILD/$dir" -j"${MARKET_TEST_JOBS:-2}" --output-on-failure
done
