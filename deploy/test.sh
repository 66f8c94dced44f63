#!/usr/bin/env bash
# One command for a newcomer and for CI: install, build, lint the protos and
# run every test (unit, cross-process, outside Node.js client) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
echo "== buf lint (proto/)"
node_modules/.bin/buf lint
echo "== ctest"
cd build
ctest -j"${MARKET_TEST_JOBS:-2}" --output-on-failure
