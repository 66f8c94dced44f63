#!/usr/bin/env bash
# Multi-process mode: the five single-service binaries as separate processes
# on loopback, each with its own data dir, wired by peer addresses.
#
#   deploy/multiprocess.sh [BASE_DIR]      # default ./var-multi
#
# Starts market-identity first, creates one SERVICE account per other binary
# (API keys in BASE_DIR/<service>/service-credentials.json, mode 0600), then
# starts credit, listing, appraisal and warranty. Writes BASE_DIR/env with the
# MARKET_*_ADDR variables that route each marketctl command group to its
# service:   source BASE_DIR/env && marketctl listing search --query 冰箱
# Stops every process on Ctrl-C / SIGTERM. Needs a build (deploy/setup.sh).
# Ports: MARKET_PORT_BASE (default 7500) + 0/2/4/6/8 for gRPC, +1/3/5/7/9 HTTP.
# MARKET_SERVICE_FLAGS: extra flags for every binary, e.g. for tests
# "--clock-offset-file F --scheduler-period 0.5" (as marketd takes them).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${MARKET_BUILD_DIR:-$ROOT/build}"
BASE="$(mkdir -p "${1:-./var-multi}" && cd "${1:-./var-multi}" && pwd)"
P="${MARKET_PORT_BASE:-7500}"
CTL="$BIN/clients/marketctl/marketctl"
IDENTITY="127.0.0.1:$((P + 0))"
CREDIT="127.0.0.1:$((P + 2))"
LISTING="127.0.0.1:$((P + 4))"
APPRAISAL="127.0.0.1:$((P + 6))"
WARRANTY="127.0.0.1:$((P + 8))"
http() { echo "127.0.0.1:$(($1 + 1))"; }
read -r -a EXTRA <<<"${MARKET_SERVICE_FLAGS:-}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_port() {  # HOST:PORT
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "multiprocess: $1 did not open" >&2
  return 1
}

start() {  # NAME ADDR ARGS...
  local name="$1" addr="$2"; shift 2
  mkdir -p "$BASE/$name"
  "$@" "${EXTRA[@]}" >"$BASE/$name.out" 2>"$BASE/$name.err" &
  pids+=("$!")
  wait_port "$addr"
  echo "multiprocess: $name on $addr (logs $BASE/$name.err)"
}

start identity "$IDENTITY" "$BIN/services/identity/market-identity" --data-dir "$BASE/identity" \
  --listen "$IDENTITY" --http-listen "$(http $((P + 0)))"

# Service accounts, once: the bootstrap supervisor creates them.
SUP="$BASE/supervisor-credentials.json"
if [[ -f "$BASE/identity/bootstrap-admin.json" && ! -f "$SUP" ]]; then
  "$CTL" --server "$IDENTITY" --credentials "$SUP" login --bootstrap "$BASE/identity/bootstrap-admin.json" >/dev/null
fi
declare -A CODE=([credit]=91350102MA0000010J [listing]=91350102MA0000020K
                 [appraisal]=91350102MA0000030L [warranty]=91350102MA0000040M)
for svc in credit listing appraisal warranty; do
  creds="$BASE/$svc/service-credentials.json"
  mkdir -p "$BASE/$svc"
  [[ -f "$creds" ]] && continue
  out="$("$CTL" --server "$IDENTITY" --credentials "$SUP" --output json subject create \
    --kind organization --role SERVICE --display-name "market-$svc" \
    --credit-code "${CODE[$svc]}" --id "svc-$svc")"
  key="$(printf '%s' "$out" | sed -n 's/.*"initial_api_key": *"\([^"]*\)".*/\1/p')"
  (umask 077; printf '{"subject": "subjects/svc-%s", "api_key": "%s"}\n' "$svc" "$key" >"$creds")
done

common=(--identity-addr "$IDENTITY")
start credit "$CREDIT" "$BIN/services/credit/market-credit" --data-dir "$BASE/credit" \
  --listen "$CREDIT" --http-listen "$(http $((P + 2)))" "${common[@]}" --listing-addr "$LISTING" \
  --service-credentials "$BASE/credit/service-credentials.json"
start listing "$LISTING" "$BIN/services/listing/market-listing" --data-dir "$BASE/listing" \
  --listen "$LISTING" --http-listen "$(http $((P + 4)))" "${common[@]}" --credit-addr "$CREDIT" \
  --service-credentials "$BASE/listing/service-credentials.json"
if [[ -x "$BIN/services/appraisal/market-appraisal" ]]; then
  start appraisal "$APPRAISAL" "$BIN/services/appraisal/market-appraisal" \
    --data-dir "$BASE/appraisal" --listen "$APPRAISAL" --http-listen "$(http $((P + 6)))" \
    "${common[@]}" --credit-addr "$CREDIT" --listing-addr "$LISTING" \
    --service-credentials "$BASE/appraisal/service-credentials.json"
fi
if [[ -x "$BIN/services/warranty/market-warranty" ]]; then
  start warranty "$WARRANTY" "$BIN/services/warranty/market-warranty" \
    --data-dir "$BASE/warranty" --listen "$WARRANTY" --http-listen "$(http $((P + 8)))" \
    "${common[@]}" --credit-addr "$CREDIT" --listing-addr "$LISTING" \
    --service-credentials "$BASE/warranty/service-credentials.json"
fi

cat >"$BASE/env" <<ENV
export MARKET_IDENTITY_ADDR=$IDENTITY
export MARKET_CREDIT_ADDR=$CREDIT
export MARKET_LISTING_ADDR=$LISTING
export MARKET_APPRAISAL_ADDR=$APPRAISAL
export MARKET_WARRANTY_ADDR=$WARRANTY
ENV
echo "multiprocess: ready; source $BASE/env to route marketctl (Ctrl-C stops all)"
wait -n "${pids[@]}" || true
echo "multiprocess: a service exited; stopping the rest" >&2
