#!/usr/bin/env bash
# Zot's TLS: a private CA and a server certificate whose SANs are the names clients use.
#   tls.sh --out DIR --dns zot.blackfriday.internal [--dns NAME...] [--ip A.B.C.D...]
# Nodes pull via the private DNS name (Cloud DNS / Route 53 private zone), the laptop pushes via
# the VM's public IP: both must be SANs or TLS verification fails ("x509: certificate is valid
# for ..., not ..."). Writes DIR/ca.crt, DIR/ca.key (kept: nodes trust it), DIR/server.crt,
# DIR/server.key. Idempotent: the CA is made once; the server certificate is re-issued only when
# the SAN list changes. Needs openssl.
set -euo pipefail
out="" dns=() ips=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --dns) dns+=("$2"); shift 2 ;;
    --ip) ips+=("$2"); shift 2 ;;
    *) echo "tls.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "tls.sh: --out DIR is required" >&2; exit 2; }
[ ${#dns[@]} -gt 0 ] || { echo "tls.sh: at least one --dns NAME is required (the name nodes pull from)" >&2; exit 2; }
for ip in "${ips[@]}"; do
  [[ "$ip" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { echo "tls.sh: --ip '$ip' is not an IPv4 address" >&2; exit 2; }
done
mkdir -p "$out"
chmod 700 "$out"
umask 077

if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
  openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes \
    -keyout "$out/ca.key" -out "$out/ca.crt" -subj "/CN=blackfriday Zot CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  rm -f "$out/server.crt"
fi

san=""
for d in "${dns[@]}"; do san+="DNS:$d,"; done
for ip in "${ips[@]}"; do san+="IP:$ip,"; done
san="${san%,}"
if [ -s "$out/server.crt" ] && [ "$(cat "$out/server.san" 2>/dev/null)" = "$san" ]; then
  echo "tls.sh: $out/server.crt already covers $san"
  exit 0
fi
cfg="$(mktemp)"
trap 'rm -f "$cfg" "$out/server.csr"' EXIT
cat > "$cfg" <<CFG
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ${dns[0]}
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
CFG
openssl req -new -newkey rsa:2048 -nodes -keyout "$out/server.key" -out "$out/server.csr" -config "$cfg" 2>/dev/null
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days 825 -sha256 -extfile "$cfg" -extensions ext -out "$out/server.crt" 2>/dev/null
chmod 644 "$out/ca.crt" "$out/server.crt"
printf '%s' "$san" > "$out/server.san"
echo "tls.sh: issued $out/server.crt for $san"
