#!/usr/bin/env bash
# The architecture's one rule for includes (ARCHITECTURE.md, "Processes and
# binaries"): nothing crosses service folders but clients and event schemas.
#   - a file in services/X may include of services/Y (Y != X) only
#     Y's *_client.h and *_events.h; a test (*_test.cc) or a test helper
#     (*_testing.h, itself included by tests only) also Y's *_testing.h;
#   - services/marketd, the composition root that wires every service into
#     one process, may also include each service's *_module.h, and so may a
#     split binary's main.cc that hosts another service's module beside its
#     own (market-credit hosts the webhook service);
#   - nothing in common/ includes services/.
# Usage: layering_check.sh [ROOT]   (default: the repository this file is in)
# Prints every violation as FILE:LINE: include; exits 1 when there is one.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
violations=0

report() {  # FILE:LINE:TEXT WHY
  echo "layering violation: $1 ($2)"
  violations=$((violations + 1))
}

while IFS= read -r hit; do
  file="${hit%%:*}"
  rest="${hit#*:}"
  line="${rest%%:*}"
  include="$(sed -E 's/.*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/' <<<"${rest#*:}")"
  [[ "$include" == services/* ]] || continue
  own="$(cut -d/ -f2 <<<"$file")"
  other="$(cut -d/ -f2 <<<"$include")"
  header="$(basename "$include")"
  [[ "$own" == "$other" ]] && continue
  case "$header" in
    *_client.h | *_events.h) continue ;;
    *_testing.h) [[ "$file" == *_test.cc || "$file" == *_testing.h ]] && continue ;;
    *_module.h) [[ "$own" == marketd || "$(basename "$file")" == main.cc ]] && continue ;;
  esac
  report "$file:$line: $include" "services/$own may include only *_client.h and *_events.h of services/$other"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"services/' services \
           --include='*.h' --include='*.cc' --include='*.in' 2>/dev/null || true)

if [[ -d common ]]; then
  while IFS= read -r hit; do
    report "$hit" "common/ must not depend on services/"
  done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"services/' common \
             --include='*.h' --include='*.cc' 2>/dev/null || true)
fi

if ((violations > 0)); then
  echo "layering_check: $violations violation(s)"
  exit 1
fi
echo "layering_check: ok"
