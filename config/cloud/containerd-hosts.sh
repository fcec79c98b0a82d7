#!/bin/sh
# The ONE generator of containerd's registry host config (certs.d/<host:port>/hosts.toml) for Zot.
# Used by every place a node learns how to pull from Zot:
#   - GKE/EKS: the node DaemonSet (config/cloud/zot/containerd-hosts-daemonset.yaml runs this file
#     from a ConfigMap) and the EKS node bootstrap (preBootstrapCommands);
#   - the cluster bench's local kubelet node (containerd config_path = <node dir>/containerd/certs.d).
# POSIX sh on purpose: it runs in busybox on the nodes and in bash on a laptop.
#
# Usage: containerd-hosts.sh --registry HOST:PORT --scheme http|https [--ca FILE] --out CERTS_D_DIR
# Writes CERTS_D_DIR/HOST:PORT/hosts.toml (and CERTS_D_DIR/HOST:PORT/ca.crt with --ca):
#   server = "<scheme>://HOST:PORT"
#   [host."<scheme>://HOST:PORT"]
#     capabilities = ["pull", "resolve"]
#     ca = "ca.crt"                      (only with --ca; https only)
# `ca` is relative: containerd resolves it against the hosts.toml's own directory (remotes/docker/
# config/hosts.go makeAbsPath), so the same file is right wherever certs.d is mounted (a DaemonSet
# sees the node's /etc/containerd/certs.d at another path). containerd re-reads certs.d on every
# pull: no restart. Files are replaced atomically (write + rename), so a pull never reads half a file.
# Idempotent: running it again with the same arguments leaves identical files.
set -eu

usage() {
  echo "usage: containerd-hosts.sh --registry HOST:PORT --scheme http|https [--ca FILE] --out CERTS_D_DIR" >&2
  exit 2
}
fail() { echo "containerd-hosts.sh: $*" >&2; exit 2; }

registry="" scheme="" ca="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) [ $# -ge 2 ] || usage; registry="$2"; shift 2 ;;
    --scheme) [ $# -ge 2 ] || usage; scheme="$2"; shift 2 ;;
    --ca) [ $# -ge 2 ] || usage; ca="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) fail "unknown argument '$1'" ;;
  esac
done

[ -n "$registry" ] || fail "--registry HOST:PORT is required"
[ -n "$scheme" ] || fail "--scheme http|https is required"
[ -n "$out" ] || fail "--out CERTS_D_DIR is required"
case "$scheme" in http|https) ;; *) fail "--scheme must be http or https, got '$scheme'" ;; esac
# HOST:PORT: a DNS name or IPv4 address, then a port. No scheme, path or spaces (it names a directory
# and is pasted into TOML strings).
case "$registry" in
  *://*) fail "--registry takes HOST:PORT without a scheme, got '$registry'" ;;
esac
host="${registry%:*}" port="${registry##*:}"
[ "$host" != "$registry" ] || fail "--registry must be HOST:PORT (port missing), got '$registry'"
case "$host" in
  ''|*[!A-Za-z0-9.-]*) fail "--registry host must be a DNS name or IPv4 address, got '$host'" ;;
esac
case "$port" in
  ''|*[!0-9]*) fail "--registry port must be a number, got '$port'" ;;
  ??????*) fail "--registry port must be 1..65535, got '$port'" ;;   # also keeps [ -gt ] in range
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then fail "--registry port must be 1..65535, got '$port'"; fi
if [ -n "$ca" ]; then
  [ "$scheme" = https ] || fail "--ca needs --scheme https (a CA means nothing over plain http)"
  [ -r "$ca" ] || fail "--ca file '$ca' is not readable"
  grep -q -- "-----BEGIN CERTIFICATE-----" "$ca" || fail "--ca file '$ca' holds no PEM certificate"
fi

dir="$out/$registry"
mkdir -p "$dir"
url="$scheme://$registry"
tmp="$dir/.hosts.toml.$$"
{
  echo "# Written by config/cloud/containerd-hosts.sh: how containerd pulls from $registry."
  echo "server = \"$url\""
  echo ""
  echo "[host.\"$url\"]"
  echo "  capabilities = [\"pull\", \"resolve\"]"
  if [ -n "$ca" ]; then
    echo "  ca = \"ca.crt\""
  fi
} > "$tmp"
if [ -n "$ca" ]; then
  cp "$ca" "$dir/.ca.crt.$$"
  mv -f "$dir/.ca.crt.$$" "$dir/ca.crt"
else
  rm -f "$dir/ca.crt"
fi
mv -f "$tmp" "$dir/hosts.toml"
echo "containerd-hosts.sh: wrote $dir/hosts.toml ($url${ca:+, ca.crt})"
