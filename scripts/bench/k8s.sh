#!/usr/bin/env bash
# Real Kubernetes control plane for tests: etcd + kube-apiserver + kube-controller-manager,
# built from the Go module proxy (tools/k8s/build.sh), with the Strimzi CRDs of shared/crds,
# KubeVirt VirtualMachine/VirtualMachineInstance CRDs derived from KubeVirt's swagger, and the
# project's own crds/*.yaml, all Established before kube-controller-manager starts.
#
#   scripts/bench/k8s.sh start    build if needed, start (idempotent), write kubeconfigs + .bench/env
#   scripts/bench/k8s.sh stop     stop the processes, wipe data (logs stay in .bench/k8s/logs)
#   scripts/bench/k8s.sh status   exit 0 when all three run and /readyz is ok, 3 otherwise
#   scripts/bench/k8s.sh env      print the KUBECONFIG / KUBECONFIG_OPERATOR / KUBE_APISERVER lines
#
# Addresses: apiserver https://127.0.0.1:16443, etcd 127.0.0.1:12379 (peer 12380),
# kube-controller-manager health https://127.0.0.1:16257/healthz.
# Identities (static token file; RBAC on):
#   admin     user "bench-admin", group system:masters        -> .bench/kubeconfig
#   operator  user system:serviceaccount:blackfriday-system:blackfriday-operator,
#             groups system:serviceaccounts, system:serviceaccounts:blackfriday-system
#                                                               -> .bench/kubeconfig-operator
# Env: SHARED_DIR (default <repo>/../shared), K8S_BIN_DIR (default ~/.cache/blackfriday-operator/k8s/bin),
#      BENCH_DIR (default <repo>/.bench: state in $BENCH_DIR/k8s, env file $BENCH_DIR/env),
#      K8S_API_PORT / K8S_ETCD_PORT / K8S_ETCD_PEER_PORT / K8S_KCM_PORT (a second, private bench),
#      K8S_CONTROLLERS (kube-controller-manager --controllers), K8S_START_TIMEOUT (s, default 120),
#      K8S_REPO_CRDS=0 (do not pre-load the project's own crds/*.yaml)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
BIN=${K8S_BIN_DIR:-${BF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blackfriday-operator}/k8s/bin}
BENCH=${BENCH_DIR:-$ROOT/.bench}
S=$BENCH/k8s
PKI=$S/pki
LOGS=$S/logs
ENVFILE=$BENCH/env
API_PORT=${K8S_API_PORT:-16443}
ETCD_PORT=${K8S_ETCD_PORT:-12379}
ETCD_PEER_PORT=${K8S_ETCD_PEER_PORT:-12380}
KCM_PORT=${K8S_KCM_PORT:-16257}
SERVER=https://127.0.0.1:$API_PORT
KUBECONFIG_ADMIN=$BENCH/kubeconfig
KUBECONFIG_OP=$BENCH/kubeconfig-operator
OP_NS=blackfriday-system
OP_SA=blackfriday-operator
CONTROLLERS=${K8S_CONTROLLERS:-garbage-collector-controller,namespace-controller,deployment-controller,replicaset-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller,persistentvolumeclaim-protection-controller,persistentvolume-protection-controller}
TIMEOUT=${K8S_START_TIMEOUT:-120}

log() { echo "k8s: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid of a running process we started, or nothing
pid_of() {
  local f=$S/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$BIN/$1 " || return 1
  echo "$pid"
}

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# A port held by one of *our* daemons whose pid file is gone (e.g. .bench was wiped while it ran):
# the same binary and state under this $S. Stop it; anything else holding the port is an error.
free_port() { # port name
  local pid cmd
  port_busy "$1" || return 0
  for pid in $(ss -Htlnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    if [[ "$cmd" == *"$BIN/$2 "* && "$cmd" == *"$S/"* ]]; then
      log "stopping a stale $2 (pid $pid) that still holds port $1"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for _ in $(seq 1 50); do port_busy "$1" || return 0; sleep 0.1; done
  die "port $1 is taken by another process (not a $2 of this bench): $(ss -Htlnp "sport = :$1" | head -1)"
}

kapi() {
  python3 "$ROOT/tools/k8s/kapi.py" --server "$SERVER" --ca "$PKI/ca.crt" --token-file "$S/admin.token" "$@"
}

api_ready() {
  [ -f "$S/admin.token" ] && [ -f "$PKI/ca.crt" ] || return 1
  curl -sf --max-time 3 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$S/admin.token")" \
    "$SERVER/readyz" >/dev/null 2>&1
}

kcm_ok() { curl -skf --max-time 3 "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1; }

wait_for() { # seconds description command...
  local t=$1; shift 2  # $2 only names what is awaited, for the reader
  local end=$(( $(date +%s) + t ))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.3
  done
}

make_pki() {
  [ -f "$PKI/done" ] && return 0
  rm -rf "$PKI"; mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=blackfriday-bench-ca \
      -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout apiserver.key -out apiserver.csr
    printf '%s\n' \
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1' \
      'extendedKeyUsage=serverAuth' 'keyUsage=critical,digitalSignature,keyEncipherment' > ext.cnf
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile ext.cnf -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$LOGS/pki.log" 2>&1 || { cat "$LOGS/pki.log" >&2; die "openssl failed"; }
  openssl rand -hex 24 > "$S/admin.token"
  openssl rand -hex 24 > "$S/operator.token"
  chmod 600 "$PKI"/*.key "$S"/*.token
  # token,user,uid,"group1,group2"
  {
    echo "$(cat "$S/admin.token"),bench-admin,uid-bench-admin,\"system:masters\""
    echo "$(cat "$S/operator.token"),system:serviceaccount:$OP_NS:$OP_SA,uid-$OP_SA,\"system:serviceaccounts,system:serviceaccounts:$OP_NS\""
  } > "$S/tokens.csv"
  chmod 600 "$S/tokens.csv"
  touch "$PKI/done"
}

write_kubeconfig() { # file user tokenfile
  local ca; ca=$(base64 -w0 < "$PKI/ca.crt")
  cat > "$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: $SERVER
    certificate-authority-data: $ca
users:
- name: $2
  user:
    token: $(cat "$3")
contexts:
- name: bench
  context:
    cluster: bench
    user: $2
    namespace: default
current-context: bench
EOF
  chmod 600 "$1.tmp"; mv -f "$1.tmp" "$1"
}

env_lines() {
  echo "KUBECONFIG=$KUBECONFIG_ADMIN"
  echo "KUBECONFIG_OPERATOR=$KUBECONFIG_OP"
  echo "KUBE_APISERVER=$SERVER"
}

# replace our keys in .bench/env, keep every other line (other bench scripts write there too)
update_envfile() { # add|remove
  mkdir -p "$BENCH"
  (
    flock 9
    local tmp; tmp=$(mktemp "$BENCH/.env.XXXXXX")
    [ -f "$ENVFILE" ] && grep -v -E '^(export )?(KUBECONFIG|KUBECONFIG_OPERATOR|KUBE_APISERVER)=' "$ENVFILE" > "$tmp" || true
    [ "$1" = add ] && env_lines >> "$tmp"
    mv -f "$tmp" "$ENVFILE"
  ) 9>"$BENCH/.env.lock"
}

start_etcd() {
  pid_of etcd >/dev/null && return 0
  free_port "$ETCD_PORT" etcd
  free_port "$ETCD_PEER_PORT" etcd
  mkdir -p "$S/etcd"
  "$BIN/etcd" --name bench --data-dir "$S/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level warn \
    >"$LOGS/etcd.log" 2>&1 8>&- &
  echo $! > "$S/etcd.pid"
  wait_for 30 etcd curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" -o /dev/null \
    || { tail -20 "$LOGS/etcd.log" >&2; die "etcd did not become healthy"; }
}

# --shutdown-watch-termination-grace-period: on SIGTERM end open watches (clients re-list) and wait
# at most 5 s for them; without it the HTTP server waits for every watch connection to close and
# `stop` had to kill the apiserver (tests/bench/test_k8s_stop.py)
start_apiserver() {
  pid_of kube-apiserver >/dev/null && return 0
  free_port "$API_PORT" kube-apiserver
  "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port=$API_PORT \
    --cert-dir="$PKI" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --token-auth-file="$S/tokens.csv" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer="$SERVER" \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true \
    --enable-priority-and-fairness=false \
    --shutdown-watch-termination-grace-period=5s \
    --profiling=false \
    --v=1 \
    >"$LOGS/kube-apiserver.log" 2>&1 8>&- &
  echo $! > "$S/kube-apiserver.pid"
  wait_for "$TIMEOUT" apiserver api_ready || {
    tail -30 "$LOGS/kube-apiserver.log" >&2; die "kube-apiserver not ready after ${TIMEOUT}s"; }
}

load_crds() {
  local crds=() f
  for f in "$SHARED_DIR"/crds/strimzi/*.yaml; do [ -f "$f" ] && crds+=("$f"); done
  [ ${#crds[@]} -gt 0 ] || die "no Strimzi CRDs in $SHARED_DIR/crds/strimzi (set SHARED_DIR)"
  : > "$LOGS/crds.log"
  python3 "$ROOT/tools/k8s/vm_crd.py" --swagger "$SHARED_DIR/crds/kubevirt/swagger-v1.9.0.json" \
    --out "$ROOT/.k8s/crds" 2>>"$LOGS/crds.log" || die "vm_crd.py failed (see $LOGS/crds.log)"
  crds+=("$ROOT/.k8s/crds/virtualmachines.kubevirt.io.json" "$ROOT/.k8s/crds/virtualmachineinstances.kubevirt.io.json")
  kapi apply-crds --timeout 60 "${crds[@]}" 2>>"$LOGS/crds.log" \
    || { tail -5 "$LOGS/crds.log" >&2; die "loading CRDs failed"; }
  # the project's own CRDs (crds/*.yaml) too, so the garbage collector knows BlackFridayPipeline
  # from its first discovery; a broken one is reported, not fatal (the operator's tests catch it)
  [ "${K8S_REPO_CRDS:-1}" = 1 ] || return 0
  local own=()
  for f in "$ROOT"/crds/*.yaml; do
    [ -f "$f" ] && grep -q '^kind: CustomResourceDefinition' "$f" && own+=("$f")
  done
  [ ${#own[@]} -gt 0 ] || return 0
  kapi apply-crds --timeout 60 "${own[@]}" 2>>"$LOGS/crds.log" \
    || log "WARNING: could not load the project's CRDs from $ROOT/crds (see $LOGS/crds.log)"
}

start_kcm() {
  pid_of kube-controller-manager >/dev/null && return 0
  free_port "$KCM_PORT" kube-controller-manager
  "$BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_ADMIN" \
    --authentication-kubeconfig="$KUBECONFIG_ADMIN" --authorization-kubeconfig="$KUBECONFIG_ADMIN" --authentication-skip-lookup \
    --leader-elect=false \
    --controllers="$CONTROLLERS" \
    --bind-address=127.0.0.1 --secure-port=$KCM_PORT --cert-dir="$S/kcm-certs" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=false \
    --v=1 \
    >"$LOGS/kube-controller-manager.log" 2>&1 8>&- &
  echo $! > "$S/kube-controller-manager.pid"
  wait_for 60 kcm kcm_ok || { tail -30 "$LOGS/kube-controller-manager.log" >&2; die "kube-controller-manager not healthy"; }
}

cmd_start() {
  local t0; t0=$(date +%s)
  mkdir -p "$S" "$LOGS"
  if pid_of etcd >/dev/null && pid_of kube-apiserver >/dev/null && pid_of kube-controller-manager >/dev/null \
     && api_ready && kcm_ok; then
    write_kubeconfig "$KUBECONFIG_ADMIN" bench-admin "$S/admin.token"
    write_kubeconfig "$KUBECONFIG_OP" "$OP_SA" "$S/operator.token"
    update_envfile add
    log "already running at $SERVER"
    return 0
  fi
  command -v openssl >/dev/null || die "openssl missing (run scripts/setup.d/10-k8s.sh)"
  "$ROOT/tools/k8s/build.sh"
  make_pki
  write_kubeconfig "$KUBECONFIG_ADMIN" bench-admin "$S/admin.token"
  write_kubeconfig "$KUBECONFIG_OP" "$OP_SA" "$S/operator.token"
  local t1; t1=$(date +%s)
  start_etcd
  start_apiserver
  local t2; t2=$(date +%s)
  load_crds
  local t3; t3=$(date +%s)
  start_kcm   # after the CRDs: the garbage collector then sees them in its first discovery
  update_envfile add
  log "ready at $SERVER in $(( $(date +%s) - t1 )) s (apiserver $(( t2 - t1 )) s, CRDs $(( t3 - t2 )) s; build/pki $(( t1 - t0 )) s)"
  log "kubeconfigs: $KUBECONFIG_ADMIN (admin), $KUBECONFIG_OP (operator); env in $ENVFILE"
}

stop_one() {
  local pid
  pid=$(pid_of "$1") || { rm -f "$S/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then log "$1 ($pid) ignored TERM, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  rm -f "$S/$1.pid"
}

cmd_stop() {
  stop_one kube-controller-manager
  stop_one kube-apiserver
  stop_one etcd
  update_envfile remove
  rm -f "$KUBECONFIG_ADMIN" "$KUBECONFIG_OP"
  if [ -d "$S" ]; then
    find "$S" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  fi
  log "stopped; data wiped (logs kept in $LOGS)"
}

cmd_status() {
  local rc=0 p pid
  for p in etcd kube-apiserver kube-controller-manager; do
    if pid=$(pid_of $p); then echo "$p: running (pid $pid)"; else echo "$p: stopped"; rc=3; fi
  done
  if api_ready; then echo "apiserver: ready at $SERVER"; else echo "apiserver: not ready"; rc=3; fi
  if kcm_ok; then echo "controller-manager: healthy"; else echo "controller-manager: not healthy"; rc=3; fi
  return $rc
}

# one start/stop at a time (scripts/test of several users, up.sh in parallel); the daemons get
# the lock fd closed (8>&-) so they never hold it
lock() {
  mkdir -p "$BENCH"
  exec 8>"$BENCH/.k8s.lock"
  flock -w 600 8 || die "could not get $BENCH/.k8s.lock within 600 s"
}

case "${1:-}" in
  start) lock; cmd_start ;;
  stop) lock; cmd_stop ;;
  status) cmd_status ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
