#!/usr/bin/env bash
# A test of systemd_units_verify.sh: a copy of deploy/systemd passes, and each
# planted fault makes it fail with the expected message.
#   systemd_units_verify_test.sh UNIT_DIR NAME=PATH...   (as for the check)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
UNIT_DIR="$1"; shift
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail=0

# expect_failure LABEL EXPECTED_TEXT SED_SCRIPT NAME=PATH...
expect_failure() {
  local label="$1" want="$2" script="$3"; shift 3
  rm -rf "$TMP/units"; cp -r "$UNIT_DIR" "$TMP/units"
  sed -i "$script" "$TMP/units/market-credit.service"
  if out="$(bash "$HERE/systemd_units_verify.sh" "$TMP/units" "$@" 2>&1)"; then
    echo "FAIL: $label: the check passed" >&2; fail=1
  elif ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL: $label: want '$want' in:" >&2; printf '%s\n' "$out" >&2; fail=1
  else
    echo "ok: $label detected"
  fi
}

cp -r "$UNIT_DIR" "$TMP/units"
if ! bash "$HERE/systemd_units_verify.sh" "$TMP/units" "$@" >/dev/null; then
  echo "FAIL: the unmodified units do not pass" >&2; exit 1
fi
BINS=("$@")
expect_failure "misspelt key" "Unknown key 'DynamicUsr'" 's/^DynamicUser=yes/DynamicUsr=yes/' "${BINS[@]}"
expect_failure "binary we do not build" "market-nothere is not one of the built binaries" \
  's#^ExecStart=/usr/local/bin/market-credit #ExecStart=/usr/local/bin/market-nothere #' "${BINS[@]}"
expect_failure "binary outside /usr/local/bin" "not a binary in /usr/local/bin" \
  's#^ExecStart=/usr/local/bin/#ExecStart=/opt/#' "${BINS[@]}"
expect_failure "hardening removed" "missing ProtectSystem=strict" '/^ProtectSystem=strict/d' "${BINS[@]}"
expect_failure "stop timeout below the drain" "TimeoutStopSec must exceed" \
  's/^TimeoutStopSec=.*/TimeoutStopSec=5/' "${BINS[@]}"
expect_failure "exposure raised" "exposure above" \
  '/^\(PrivateUsers\|ProtectKernel.*\|RestrictNamespaces\|SystemCallFilter\|ProtectProc\|PrivateDevices\|ProtectClock\)=/d' \
  "${BINS[@]}"
expect_failure "bad section" "Unknown section 'Servce'" 's/^\[Service\]/[Servce]/' "${BINS[@]}"
exit $fail
