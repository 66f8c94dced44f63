#!/usr/bin/env bash
# A test of layering_check.sh itself: a tree that keeps the rule passes, and
# each kind of planted violation makes it fail naming the offending line.
set -euo pipefail
check="$(cd "$(dirname "$0")" && pwd)/layering_check.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

plant() {  # FILE CONTENT
  mkdir -p "$(dirname "$tmp/tree/$1")"
  printf '%s\n' "$2" >>"$tmp/tree/$1"
}

expect() {  # WANT(pass|fail) NAME [PATTERN]
  local out status=0
  out="$("$check" "$tmp/tree" 2>&1)" || status=$?
  if [[ "$1" == pass && $status -ne 0 ]] || [[ "$1" == fail && $status -eq 0 ]]; then
    echo "FAIL: $2: exit $status"; echo "$out"; failures=$((failures + 1)); return
  fi
  if [[ -n "${3:-}" ]] && ! grep -qF -- "$3" <<<"$out"; then
    echo "FAIL: $2: output lacks '$3'"; echo "$out"; failures=$((failures + 1)); return
  fi
  echo "ok: $2"
}

reset() {
  rm -rf "$tmp/tree"
  plant services/listing/listing_service.cc '#include "services/listing/listing_db.h"'
  plant services/listing/listing_service.cc '#include "services/credit/credit_events.h"'
  plant services/warranty/main.cc '#include "services/listing/listing_client.h"'
  plant services/warranty/warranty_service_test.cc '#include "services/identity/identity_testing.h"'
  plant services/listing/listing_testing.h '#include "services/identity/identity_testing.h"'
  plant services/marketd/marketd.h '#include "services/listing/listing_module.h"'
  plant common/server/runner.cc '#include "common/status/status.h"'
}

reset
expect pass "clients, events, test helpers and marketd's modules are allowed"

reset
plant services/warranty/warranty_service.cc '#include "services/listing/listing_db.h"'
expect fail "a service reading another's storage" \
  "services/warranty/warranty_service.cc:1: services/listing/listing_db.h"

reset
plant services/appraisal/appraisal_service.cc '  #  include "services/listing/names.h"'
expect fail "an indented include of another service's internals" "services/listing/names.h"

reset
plant services/credit/credit_service.cc '#include "services/identity/identity_testing.h"'
expect fail "a test helper outside a test" "services/identity/identity_testing.h"

reset
plant services/credit/credit_lists.h '#include "services/identity/identity_testing.h"'
expect fail "a test helper in a header that is not one" "services/identity/identity_testing.h"

reset
plant services/credit/credit_module.cc '#include "services/listing/listing_module.h"'
expect fail "a module outside marketd" "services/listing/listing_module.h"

reset
plant common/outbox/outbox.cc '#include "services/credit/credit_events.h"'
expect fail "common depending on a service" "common/ must not depend on services/"

echo "$((7 - failures)) passed, $failures failed"
((failures == 0))
