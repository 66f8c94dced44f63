#!/usr/bin/env bash
# Checks the systemd units in deploy/systemd:
#   1. `systemd-analyze verify` passes on every unit and prints nothing (an
#      unknown key only warns with exit code 0, so any output is a failure);
#   2. every .service runs a binary from /usr/local/bin that we build, and
#      carries the hardening and shutdown settings deploy/README.md promises;
#   3. `systemd-analyze security --offline` rates every service at most
#      MAX_EXPOSURE tenths (12 = "1.2 OK" today; 100 is the worst).
# verify needs the ExecStart binary to exist, so the units are copied to a temp
# folder with /usr/local/bin/NAME rewritten to the build's path of NAME.
#
#   systemd_units_verify.sh UNIT_DIR NAME=PATH...
#   e.g. ... deploy/systemd marketd=build/services/marketd/marketd market-credit=...
set -uo pipefail
MAX_EXPOSURE="${MAX_EXPOSURE:-20}"
UNIT_DIR="$1"; shift
ANALYZE="$(command -v systemd-analyze)" || {
  echo "systemd-analyze not found: install the systemd package (deploy/setup.sh)" >&2; exit 1; }
declare -A BIN
for pair in "$@"; do BIN["${pair%%=*}"]="${pair#*=}"; done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

REQUIRED=(
  "DynamicUser=yes" "StateDirectory=" "ProtectSystem=strict" "ProtectHome=yes"
  "NoNewPrivileges=yes" "PrivateTmp=yes" "PrivateDevices=yes"
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "CapabilityBoundingSet="
  "SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" "LockPersonality=yes"
  "Restart=on-failure" "KillSignal=SIGTERM" "Type=exec"
)

shopt -s nullglob
units=("$UNIT_DIR"/*.service "$UNIT_DIR"/*.target)
[[ ${#units[@]} -gt 0 ]] || { echo "FAIL: no units in $UNIT_DIR" >&2; exit 1; }
services=0
for unit in "${units[@]}"; do
  name="$(basename "$unit")"
  cp "$unit" "$TMP/$name"
  [[ "$name" == *.service ]] || continue
  services=$((services + 1))
  exec_line="$(grep -E '^ExecStart=' "$unit")"
  [[ $(grep -cE '^ExecStart=' "$unit") -eq 1 ]] || bad "$name: want exactly one ExecStart="
  prog="${exec_line#ExecStart=}"; prog="${prog%% *}"
  [[ "$prog" == /usr/local/bin/* ]] || bad "$name: ExecStart runs $prog, not a binary in /usr/local/bin"
  base="${prog##*/}"
  if [[ -z "${BIN[$base]:-}" ]]; then
    bad "$name: $base is not one of the built binaries (${!BIN[*]})"
  else
    sed -i "s#^ExecStart=$prog #ExecStart=${BIN[$base]} #" "$TMP/$name"
  fi
  for want in "${REQUIRED[@]}"; do
    grep -qxF -- "$want" "$unit" || grep -qx -- "${want}.*" "$unit" || bad "$name: missing $want"
  done
  stop="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")"
  [[ -n "$stop" && "$stop" -gt 10 ]] || bad "$name: TimeoutStopSec must exceed the 10 s drain"
done
[[ $services -gt 0 ]] || bad "no .service units in $UNIT_DIR"

cd "$TMP"
out="$("$ANALYZE" verify --man=no ./*.service ./*.target 2>&1)"; rc=$?
if [[ $rc -ne 0 || -n "$out" ]]; then
  bad "systemd-analyze verify (exit $rc):"; printf '%s\n' "$out" >&2
fi
for unit in ./*.service; do
  if ! out="$("$ANALYZE" security --offline=true --threshold="$MAX_EXPOSURE" "$unit" 2>&1)"; then
    bad "$unit: exposure above $MAX_EXPOSURE:"; printf '%s\n' "$out" | tail -5 >&2
  fi
done
[[ $fail -eq 0 ]] && echo "systemd units OK: ${#units[@]} units verified"
exit $fail
