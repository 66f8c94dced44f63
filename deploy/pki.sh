#!/usr/bin/env bash
# A small PKI for the market's TLS (README, "Secure transport (TLS)"), with the
# OpenSSL command line. Keys are ECDSA P-256, written mode 0600; certificates
# are signed by the CA in DIR with a fresh serial each time.
#
#   deploy/pki.sh ca DIR [--days N]
#       DIR/ca.key, DIR/ca.crt: the CA (refuses to replace an existing one).
#   deploy/pki.sh server DIR NAME [--dns NAME]... [--ip ADDR]... [--days N]
#       DIR/NAME.key, DIR/NAME.crt: a certificate for a process (marketd,
#       market-identity, …) valid for the given DNS names and IPs, usable as
#       server and as client certificate (serverAuth + clientAuth), so a
#       service presents it on its peer channels too. Running it again renews
#       the files in place (each replaced atomically); running servers pick
#       the new certificate up without a restart.
#   deploy/pki.sh client DIR NAME [--days N]
#       DIR/NAME.key, DIR/NAME.crt: a client-only certificate (clientAuth)
#       with CN=NAME, e.g. for a SERVICE account or marketctl --tls-cert.
#
# Defaults: the CA lasts 3650 days, other certificates 397 days.
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

[[ $# -ge 2 ]] || usage
cmd="$1" dir="$2"
shift 2
name=""
if [[ "$cmd" == server || "$cmd" == client ]]; then
  [[ $# -ge 1 && "$1" != --* ]] || usage
  name="$1"
  shift
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || { echo "pki.sh: bad NAME: $name" >&2; exit 64; }
fi
days=""
sans=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dns) [[ $# -ge 2 ]] || usage; sans+=("DNS:$2"); shift 2 ;;
    --ip) [[ $# -ge 2 ]] || usage; sans+=("IP:$2"); shift 2 ;;
    --days) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; days="$2"; shift 2 ;;
    *) echo "pki.sh: unknown option $1" >&2; usage ;;
  esac
done

umask 077
mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.pki.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

newkey() {  # FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

case "$cmd" in
  ca)
    [[ $# -eq 0 ]] || true
    if [[ -e "$dir/ca.key" || -e "$dir/ca.crt" ]]; then
      echo "pki.sh: $dir already holds a CA (ca.key, ca.crt); not replacing it" >&2
      exit 1
    fi
    newkey "$tmp/ca.key"
    openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "${days:-3650}" \
      -subj "/O=market/CN=market CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" -out "$tmp/ca.crt"
    mv "$tmp/ca.key" "$dir/ca.key"
    chmod 644 "$tmp/ca.crt"
    mv "$tmp/ca.crt" "$dir/ca.crt"
    echo "pki.sh: CA $dir/ca.crt (key $dir/ca.key, mode 0600)"
    ;;
  server | client)
    [[ -f "$dir/ca.key" && -f "$dir/ca.crt" ]] || {
      echo "pki.sh: no CA in $dir (run: pki.sh ca $dir)" >&2
      exit 1
    }
    if [[ "$cmd" == server ]]; then
      [[ ${#sans[@]} -gt 0 ]] || { echo "pki.sh: server needs --dns or --ip" >&2; exit 64; }
      eku="serverAuth,clientAuth"
    else
      [[ ${#sans[@]} -eq 0 ]] || { echo "pki.sh: client takes no --dns/--ip" >&2; exit 64; }
      eku="clientAuth"
    fi
    {
      echo "basicConstraints=critical,CA:FALSE"
      echo "keyUsage=critical,digitalSignature"
      echo "extendedKeyUsage=$eku"
      echo "authorityKeyIdentifier=keyid"
      if [[ ${#sans[@]} -gt 0 ]]; then (IFS=,; echo "subjectAltName=${sans[*]}"); fi
    } >"$tmp/ext.cnf"
    newkey "$tmp/$name.key"
    openssl req -new -key "$tmp/$name.key" -subj "/O=market/CN=$name" -out "$tmp/$name.csr"
    openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAserial "$dir/ca.srl" -CAcreateserial -sha256 -days "${days:-397}" \
      -extfile "$tmp/ext.cnf" -out "$tmp/$name.crt" 2>/dev/null
    chmod 644 "$tmp/$name.crt"
    # The key first, then the certificate: a reader that sees the new
    # certificate also sees its key.
    mv -f "$tmp/$name.key" "$dir/$name.key"
    mv -f "$tmp/$name.crt" "$dir/$name.crt"
    serial="$(openssl x509 -in "$dir/$name.crt" -noout -serial | cut -d= -f2)"
    echo "pki.sh: $cmd certificate $dir/$name.crt (serial $serial, key $dir/$name.key, mode 0600)"
    ;;
  *) usage ;;
esac
