#!/usr/bin/env bash
# Installs everything the project needs on Debian 12 (apt packages, then the
# npm build tooling pinned by package-lock.json) and builds it into ./build.
# Safe to run again: already-installed packages and an existing build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsqlite3-dev sqlite3 libssl-dev libgtest-dev libgmock-dev
  # Appraisal certificates: QR codes (libqrencode); the tests read them back
  # with libzbar and parse the SVG with expat.
  libqrencode-dev libzbar-dev libexpat1-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libbenchmark-dev libutf8proc-dev
  prometheus-cpp-dev libxlsxwriter-dev unzip
  systemd python3 python3-yaml
  # clang-14, its sanitizer runtimes and libFuzzer (libclang-rt-14-dev) and
  # llvm-symbolizer (llvm-14) build and run the fuzz targets (deploy/fuzz.sh).
  clang-14 libclang-rt-14-dev llvm-14
  # headless Chromium for the web console's browser tests (playwright-core).
  chromium
)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${PACKAGES[@]}"
# Node.js runs buf (proto lint), supplies the packaged googleapis protos and
# runs the outside-client test. Keep a Node.js that is already installed.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y --no-install-recommends nodejs npm
fi

npm ci --no-audit --no-fund

JOBS="${MARKET_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
  ${MARKET_SANITIZE:+-DMARKET_SANITIZE=$MARKET_SANITIZE}
cmake --build build -j"$JOBS"
