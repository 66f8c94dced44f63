#!/usr/bin/env bash
# One command for a newcomer: install, build, and run marketd on its embedded
# default (SQLite files under ./var). Extra arguments go to marketd, e.g.
#   deploy/run-marketd.sh --listen 127.0.0.1:7400 --data-dir ./var
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
exec build/services/marketd/marketd "$@"
