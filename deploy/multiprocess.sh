#!/usr/bin/env bash
# Multi-process mode: the six single-service binaries as separate processes
# on loopback, each with its own data dir, wired by peer addresses.
#
#   deploy/multiprocess.sh [BASE_DIR]      # default ./var-multi
#
# Starts market-identity first, creates one SERVICE account per other binary
# (API keys in BASE_DIR/<service>/service-credentials.json, mode 0600), then
# starts credit, stats, listing, appraisal and warranty. Writes BASE_DIR/env with the
# MARKET_*_ADDR variables that route each marketctl command group to its
# service (and MARKET_HTTP_SERVER, credit's HTTP port with the ledger tiles):   source BASE_DIR/env && marketctl listing search --query 冰箱
# Stops every process on Ctrl-C / SIGTERM. Needs a build (deploy/setup.sh).
# Ports: MARKET_PORT_BASE (default 7500) + 0/2/4/6/8/10 for gRPC, +1/3/5/7/9/11 HTTP;
# a port already taken stops the script with the service's "cannot listen".
# MARKET_SOCKET_DIR=DIR instead: gRPC on Unix sockets DIR/<service>.sock and
# HTTP on ports the kernel picks (logged in each service's "serving" line), so
# nothing can take an address between choosing and binding it (tests use it;
# loopback ports picked up front can be taken meanwhile by another process).
# MARKET_SERVICE_FLAGS: extra flags for every binary, e.g. for tests
# "--clock-offset-file F --scheduler-period 0.5" (as marketd takes them).
# mTLS on every hop by default: deploy/pki.sh makes a CA and one certificate
# per service (localhost, 127.0.0.1) in BASE_DIR/pki, every binary serves
# TLS, requires client certificates from that CA and calls its peers with
# its own certificate; marketctl gets BASE_DIR/pki/marketctl.{crt,key}
# (MARKET_TLS_CA, MARKETCTL_TLS_CERT and MARKETCTL_TLS_KEY in BASE_DIR/env).
# MARKET_TLS=off runs everything in plaintext instead.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${MARKET_BUILD_DIR:-$ROOT/build}"
BASE="$(mkdir -p "${1:-./var-multi}" && cd "${1:-./var-multi}" && pwd)"
P="${MARKET_PORT_BASE:-7500}"
SOCKETS="${MARKET_SOCKET_DIR:-}"
CTL="$BIN/clients/marketctl/marketctl"
TLS="${MARKET_TLS:-mtls}"
[[ "$TLS" == mtls || "$TLS" == off ]] || { echo "multiprocess: MARKET_TLS is mtls or off" >&2; exit 64; }
if [[ -n "$SOCKETS" ]]; then
  mkdir -p "$SOCKETS"
  SOCKETS="$(cd "$SOCKETS" && pwd)"
  addr() { echo "unix:$SOCKETS/$1.sock"; }  # NAME OFFSET
  http() { echo "127.0.0.1:0"; }            # OFFSET
else
  addr() { echo "127.0.0.1:$((P + $2))"; }
  http() { echo "127.0.0.1:$((P + $1 + 1))"; }
fi
IDENTITY="$(addr identity 0)"
CREDIT="$(addr credit 2)"
LISTING="$(addr listing 4)"
APPRAISAL="$(addr appraisal 6)"
WARRANTY="$(addr warranty 8)"
STATS="$(addr stats 10)"
read -r -a EXTRA <<<"${MARKET_SERVICE_FLAGS:-}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Waits (at most 60 s) for the "serving" log line of service NAME (process
# PID), which the binary writes once both its ports are bound: a port that
# some other program holds cannot pass for ours. Fails at once when it exits.
wait_serving() {  # NAME PID
  local log="$BASE/$1.err"
  for _ in $(seq 1 600); do
    if grep -q '"msg":"serving"' "$log" 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "multiprocess: $1 exited before serving:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "multiprocess: $1 is not serving after 60 s (log $log)" >&2
  return 1
}

PKI="$BASE/pki"
CTL_TLS=()
if [[ "$TLS" == mtls ]]; then
  [[ -f "$PKI/ca.crt" ]] || bash "$ROOT/deploy/pki.sh" ca "$PKI" >/dev/null
  for name in identity credit listing appraisal warranty stats; do
    [[ -f "$PKI/$name.crt" ]] ||
      bash "$ROOT/deploy/pki.sh" server "$PKI" "$name" --dns localhost --ip 127.0.0.1 >/dev/null
  done
  [[ -f "$PKI/marketctl.crt" ]] || bash "$ROOT/deploy/pki.sh" client "$PKI" marketctl >/dev/null
  CTL_TLS=(--tls-ca "$PKI/ca.crt" --tls-cert "$PKI/marketctl.crt" --tls-key "$PKI/marketctl.key")
fi
# The TLS flags of service NAME: its certificate, client certificates
# required, and (but identity, which calls no one) TLS to its peers.
tls_flags() {  # NAME
  [[ "$TLS" == mtls ]] || return 0
  printf '%s\n' --tls-cert "$PKI/$1.crt" --tls-key "$PKI/$1.key" --tls-client-ca "$PKI/ca.crt"
  [[ "$1" == identity ]] || printf '%s\n' --peer-ca "$PKI/ca.crt"
}

start() {  # NAME ADDR ARGS...
  local name="$1" addr="$2"; shift 2
  mkdir -p "$BASE/$name"
  local tls=()
  mapfile -t tls < <(tls_flags "$name")
  "$@" "${tls[@]}" "${EXTRA[@]}" >"$BASE/$name.out" 2>"$BASE/$name.err" &
  pids+=("$!")
  wait_serving "$name" "$!"
  local http_port
  http_port="$(sed -n 's/.*"http_port":\([0-9]*\).*"msg":"serving".*/\1/p' "$BASE/$name.err" | head -n 1)"
  echo "multiprocess: $name on $addr, HTTP port ${http_port:-?} (logs $BASE/$name.err)"
  [[ "$name" == credit ]] && CREDIT_HTTP_PORT="$http_port"
  return 0
}

start identity "$IDENTITY" "$BIN/services/identity/market-identity" --data-dir "$BASE/identity" \
  --listen "$IDENTITY" --http-listen "$(http 0)"

# Service accounts, once: the bootstrap supervisor creates them.
# The bootstrap password must be changed at first login: the new one is kept in
# $BASE/supervisor.pw (0600), and identity deletes bootstrap-admin.json.
SUP="$BASE/supervisor-credentials.json"
SUP_PW="$BASE/supervisor.pw"
if [[ -f "$BASE/identity/bootstrap-admin.json" && ! -f "$SUP" ]]; then
  [[ -f "$SUP_PW" ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$SUP_PW")
  "$CTL" "${CTL_TLS[@]}" --server "$IDENTITY" --credentials "$SUP" login \
    --bootstrap "$BASE/identity/bootstrap-admin.json" --new-password-file "$SUP_PW" >/dev/null
fi
declare -A CODE=([credit]=91350102MA0000010J [listing]=91350102MA0000020K
                 [appraisal]=91350102MA0000030L [warranty]=91350102MA0000040M
                 [stats]=91350102MA0000060P)
for svc in credit listing appraisal warranty stats; do
  creds="$BASE/$svc/service-credentials.json"
  mkdir -p "$BASE/$svc"
  [[ -f "$creds" ]] && continue
  out="$("$CTL" "${CTL_TLS[@]}" --server "$IDENTITY" --credentials "$SUP" --output json subject create \
    --kind organization --role SERVICE --display-name "market-$svc" \
    --credit-code "${CODE[$svc]}" --id "svc-$svc")"
  key="$(printf '%s' "$out" | sed -n 's/.*"initial_api_key": *"\([^"]*\)".*/\1/p')"
  (umask 077; printf '{"subject": "subjects/svc-%s", "api_key": "%s"}\n' "$svc" "$key" >"$creds")
done

common=(--identity-addr "$IDENTITY")
start credit "$CREDIT" "$BIN/services/credit/market-credit" --data-dir "$BASE/credit" \
  --listen "$CREDIT" --http-listen "$(http 2)" "${common[@]}" --listing-addr "$LISTING" \
  --stats-addr "$STATS" --service-credentials "$BASE/credit/service-credentials.json"
start stats "$STATS" "$BIN/services/stats/market-stats" --data-dir "$BASE/stats" \
  --listen "$STATS" --http-listen "$(http 10)" "${common[@]}" \
  --service-credentials "$BASE/stats/service-credentials.json"
start listing "$LISTING" "$BIN/services/listing/market-listing" --data-dir "$BASE/listing" \
  --listen "$LISTING" --http-listen "$(http 4)" "${common[@]}" --credit-addr "$CREDIT" \
  --stats-addr "$STATS" \
  --service-credentials "$BASE/listing/service-credentials.json"
if [[ -x "$BIN/services/appraisal/market-appraisal" ]]; then
  start appraisal "$APPRAISAL" "$BIN/services/appraisal/market-appraisal" \
    --data-dir "$BASE/appraisal" --listen "$APPRAISAL" --http-listen "$(http 6)" \
    "${common[@]}" --credit-addr "$CREDIT" --listing-addr "$LISTING" --stats-addr "$STATS" \
    --service-credentials "$BASE/appraisal/service-credentials.json"
fi
if [[ -x "$BIN/services/warranty/market-warranty" ]]; then
  start warranty "$WARRANTY" "$BIN/services/warranty/market-warranty" \
    --data-dir "$BASE/warranty" --listen "$WARRANTY" --http-listen "$(http 8)" \
    "${common[@]}" --credit-addr "$CREDIT" --listing-addr "$LISTING" --stats-addr "$STATS" \
    --service-credentials "$BASE/warranty/service-credentials.json"
fi

cat >"$BASE/env" <<ENV
export MARKET_IDENTITY_ADDR=$IDENTITY
export MARKET_CREDIT_ADDR=$CREDIT
export MARKET_LISTING_ADDR=$LISTING
export MARKET_APPRAISAL_ADDR=$APPRAISAL
export MARKET_WARRANTY_ADDR=$WARRANTY
export MARKET_STATS_ADDR=$STATS
export MARKET_HTTP_SERVER=127.0.0.1:${CREDIT_HTTP_PORT:-}
ENV
if [[ "$TLS" == mtls ]]; then
  cat >>"$BASE/env" <<ENV
export MARKET_TLS_CA=$PKI/ca.crt
export MARKETCTL_TLS_CERT=$PKI/marketctl.crt
export MARKETCTL_TLS_KEY=$PKI/marketctl.key
ENV
fi
echo "multiprocess: ready; source $BASE/env to route marketctl (Ctrl-C stops all)"
wait -n "${pids[@]}" || true
echo "multiprocess: a service exited; stopping the rest" >&2
