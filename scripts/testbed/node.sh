#!/usr/bin/env bash
# A real single-node Kubernetes for the tests: pods run, Services route, HPAs scale.
#
#   node.sh start     build what is missing, start everything (idempotent), write NODE_* to .testbed/env
#   node.sh build     only build what is missing (≈ 20 min of compilation on a new 2-core machine;
#                     run it ahead of a first scripts/test on a busy machine)
#   node.sh stop      stop everything, wipe the state, restore the host exactly (see below); logs stay
#   node.sh status    exit 0 when every part runs and the node is Ready, 3 otherwise
#   node.sh env       print the NODE_* lines
#   node.sh kubectl ARGS...   kubectl (v1.36, built with the node) against the node's cluster
#   node.sh kafka ARGS...     scripts/testbed/kafka.sh ARGS for the node's broker (e.g. topic ventas 3)
#   node.sh valkey ARGS...    scripts/testbed/valkey.sh ARGS for the node's Valkey (e.g. cli ...)
#
# Parts (one node per machine: the bridge and node IP are fixed; all state under .testbed/node/):
#   bridge bfnode0 with the node IP 198.18.0.1/24 (pods reach the host there); the pods' own
#   bridge bfpods0 (CNI bridge plugin, gateway 198.18.128.1: the plugin refuses a bridge that
#   already holds another IPv4 address)
#   control plane   scripts/testbed/k8s.sh with TESTBED_DIR=.testbed/node/cp, bound on the node IP
#                   (https://198.18.0.1:6443), ServiceAccount admission on, aggregation routing,
#                   controllers incl. node-lifecycle, endpointslice, HPA, root-CA publisher
#   containerd      Debian's 1.6, own config/socket/root under .testbed/node/containerd,
#                   restrict_oom_score_adj, pause image built from pause.c, certs.d for the bench
#                   registry (config/cloud/containerd-hosts.sh, the cloud recipes' generator)
#   kubelet         cgroupfs, failCgroupV1: false, NeverVerify, root dir under .testbed/node
#   kube-scheduler, kube-proxy (iptables)
#   kube-router     its NetworkPolicy firewall only (iptables + ipset; no routing, no service proxy):
#                   the node enforces NetworkPolicies (NODE_NETPOL=0: not started)
#   CoreDNS         a pod in kube-system (k8s-app: kube-dns, Service kube-dns 198.19.0.10), the
#                   image packed from the CoreDNS binary; kubernetes plugin, no forwarding
#   metrics-server  on the host (198.18.0.1:20443), registered as APIService v1beta1.metrics.k8s.io
#   Traefik v3      on the host, IngressClass `traefik`, entrypoint 198.18.0.1:20080, publishes
#                   198.18.0.1 into Ingress status
#   Kafka, Valkey   bench instances of their own on the node IP (198.18.0.1:19192, 16479/16480
#                   with a password), for pipelines with kafka/valkey mode external
# Addresses: node 198.18.0.1/24, pods 198.18.128.0/24 (of the cluster CIDR 198.18.128.0/17),
# Services 198.19.0.0/20, all in 198.18.0.0/15 (RFC 2544 benchmarking range).
#
# Host changes (undone by stop; tools/node/hoststate.py snapshots them at start, restores them at
# stop and fails the stop if anything still differs): sysctls kernel.panic, kernel.panic_on_oops,
# vm.overcommit_memory (kubelet), net.ipv4.ip_forward (bridge plugin) and the others listed in
# hoststate.py; iptables/ip6tables chains KUBE-* (kubelet, kube-proxy; `kube-proxy --cleanup` first)
# and CNI-*; mounts under the kubelet root, /run/containerd and /run/netns/cni-*; cgroups kubepods*;
# the bridge and pod veths; /var/lib/kubelet, /var/log/{containers,pods}, /run/containerd,
# /var/lib/cni, /run/netns when they did not exist before. docs/testbed-node.md has the list.
#
# Env: NODE_API_PORT (6443), NODE_ETCD_PORT (12479), NODE_ETCD_PEER_PORT (12480), NODE_KCM_PORT
# (16357), NODE_KAFKA_PORT (19192), NODE_KAFKA_CONTROLLER_PORT (19193), NODE_VALKEY_PRIMARY_PORT
# (16479), NODE_VALKEY_REPLICA_PORT (16480), NODE_INGRESS_PORT (20080), NODE_KAFKA=0 / NODE_VALKEY=0
# (do not start them), OCI_REGISTRY (registry containerd may pull from; default from .testbed/env),
# NODE_START_TIMEOUT (s, default 180), NODE_BUILD=0 (skip the build check), NODE_NETPOL=0 (no
# kube-router: NetworkPolicies are stored but not enforced). Needs root (it is a kubelet).
set -euo pipefail
BENCH_SVC=node
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

NODE_DIR="$TESTBED_DIR/node"
LOGS="$NODE_DIR/logs"
RUN="$NODE_DIR/run"
NODE_NAME=bfnode
NODE_IP=198.18.0.1
NODE_PREFIX=24
BRIDGE=bfnode0                    # holds the node IP (the kernel has no dummy links)
POD_BRIDGE=bfpods0                # the CNI bridge plugin's, gateway 198.18.128.1
CLUSTER_CIDR=198.18.128.0/17
POD_SUBNET=198.18.128.0/24
SERVICE_CIDR=198.19.0.0/20
CLUSTER_DOMAIN=cluster.local
# 6443, the apiserver's usual port: the operator's own NetworkPolicy (config/manager) opens egress
# to the API by port (443/6443), and the enforcing firewall sees the port after kube-proxy's DNAT
API_PORT="${NODE_API_PORT:-6443}"
ETCD_PORT="${NODE_ETCD_PORT:-12479}"
ETCD_PEER_PORT="${NODE_ETCD_PEER_PORT:-12480}"
KCM_PORT="${NODE_KCM_PORT:-16357}"
KAFKA_P="${NODE_KAFKA_PORT:-19192}"
KAFKA_CP="${NODE_KAFKA_CONTROLLER_PORT:-19193}"
VALKEY_P="${NODE_VALKEY_PRIMARY_PORT:-16479}"
VALKEY_R="${NODE_VALKEY_REPLICA_PORT:-16480}"
INGRESS_PORT="${NODE_INGRESS_PORT:-20080}"
# on the node IP (one node per machine) or loopback; fixed
KUBELET_PORT=20250 KUBELET_HEALTHZ=20248 PROXY_METRICS=20249 PROXY_HEALTHZ=20256 SCHED_PORT=20259
METRICS_PORT=20443 TRAEFIK_ADMIN=20081 CONTAINERD_METRICS=20338 KUBE_ROUTER_HEALTH=20244
DNS_SERVICE_IP=198.19.0.10        # the kube-dns Service (kubeadm's choice: the 10th address)
COREDNS_IMAGE=node.local/coredns:1.15.0   # tools/node/build.sh packs these two
PROBE_IMAGE=node.local/probe:1
NETPOL="${NODE_NETPOL:-1}"
TIMEOUT="${NODE_START_TIMEOUT:-180}"
K8S_BIN="${K8S_BIN_DIR:-$BF_CACHE/k8s/bin}"
NODE_BIN="${NODE_BIN_DIR:-$BF_CACHE/node/bin}"
CP="$NODE_DIR/cp"                 # the control plane's TESTBED_DIR
KUBECONFIG_NODE="$CP/kubeconfig"
SOCK="$NODE_DIR/containerd/containerd.sock"
HOSTSTATE="$NODE_DIR/host.json"
PAUSE_IMAGE=node.local/pause:3.10.2
CONTROLLERS=garbage-collector-controller,namespace-controller,deployment-controller,replicaset-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller,persistentvolumeclaim-protection-controller,persistentvolume-protection-controller,node-lifecycle-controller,taint-eviction-controller,endpointslice-controller,endpointslice-mirroring-controller,endpoints-controller,horizontal-pod-autoscaler-controller,root-ca-certificate-publisher-controller,pod-garbage-collector-controller
DAEMONS="containerd kubelet kube-scheduler kube-proxy metrics-server traefik"
if [ "$NETPOL" = 1 ]; then DAEMONS+=" kube-router"; fi

kc() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_NODE" "$@"; }
pidfile() { echo "$RUN/$1.pid"; }
running() { bench_pidfile_alive "$(pidfile "$1")"; }

# the control plane, kafka and valkey scripts with the node's private state and ports
cp_sh() {
  TESTBED_DIR="$CP" K8S_API_PORT="$API_PORT" K8S_ETCD_PORT="$ETCD_PORT" K8S_ETCD_PEER_PORT="$ETCD_PEER_PORT" \
  K8S_KCM_PORT="$KCM_PORT" K8S_BIND_ADDRESS="$NODE_IP" K8S_SERVICE_CIDR="$SERVICE_CIDR" K8S_SA_ADMISSION=1 \
  K8S_CONTROLLERS="$CONTROLLERS" K8S_BIN_DIR="$K8S_BIN" \
  K8S_APISERVER_FLAGS="--enable-aggregator-routing=true --kubelet-preferred-address-types=InternalIP" \
  K8S_KCM_FLAGS="--cluster-cidr=$CLUSTER_CIDR --horizontal-pod-autoscaler-sync-period=5s --node-monitor-grace-period=40s" \
    bash "$HERE/k8s.sh" "$@"
}
kafka_sh() {
  TESTBED_DIR="$NODE_DIR" KAFKA_HOST="$NODE_IP" KAFKA_PORT="$KAFKA_P" KAFKA_CONTROLLER_PORT="$KAFKA_CP" \
    KAFKA_AUTO_CREATE=false bash "$HERE/kafka.sh" "$@"
}
valkey_sh() {
  TESTBED_DIR="$NODE_DIR" VALKEY_HOST="$NODE_IP" VALKEY_PRIMARY_PORT="$VALKEY_P" VALKEY_REPLICA_PORT="$VALKEY_R" \
    VALKEY_PASSWORD="$(valkey_password)" bash "$HERE/valkey.sh" "$@"
}
valkey_password() {
  local f="$NODE_DIR/valkey.password"
  [ -s "$f" ] || { mkdir -p "$NODE_DIR"; openssl rand -hex 16 > "$f"; chmod 600 "$f"; }
  cat "$f"
}

registry() { # the bench registry containerd pulls from
  local r="${OCI_REGISTRY:-}"
  [ -n "$r" ] || r="$(bench_env_get OCI_REGISTRY)"
  echo "$r"
}

env_lines() {
  echo "NODE_KUBECONFIG=$KUBECONFIG_NODE"
  echo "NODE_KUBECTL=$K8S_BIN/kubectl"
  echo "NODE_IP=$NODE_IP"
  echo "NODE_NAME=$NODE_NAME"
  echo "NODE_INGRESS=http://$NODE_IP:$INGRESS_PORT"
  echo "NODE_INGRESS_CLASS=traefik"
  echo "NODE_CONTAINERD_SOCK=$SOCK"
  echo "NODE_KAFKA_BOOTSTRAP=$NODE_IP:$KAFKA_P"
  echo "NODE_VALKEY_ADDR=$NODE_IP:$VALKEY_P"
  echo "NODE_VALKEY_REPLICA_ADDR=$NODE_IP:$VALKEY_R"
  echo "NODE_VALKEY_PASSWORD_FILE=$NODE_DIR/valkey.password"
  echo "NODE_PROBE_IMAGE=$PROBE_IMAGE"
  echo "NODE_NETPOL=$NETPOL"
}
write_env() { local kv=(); while read -r l; do kv+=("$l"); done < <(env_lines); bench_env_set "${kv[@]}"; }

# ------------------------------------------------------------------------------------ configs
write_configs() {
  mkdir -p "$NODE_DIR"/{containerd,cni/net.d,cni/ipam,kubelet/manifests,kubelet/pod-logs,kubelet/root,metrics-server,traefik} "$RUN" "$LOGS"
  cat > "$NODE_DIR/containerd/config.toml" <<EOF
# generated by scripts/testbed/node.sh
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$NODE_DIR/containerd/debug.sock"
[metrics]
  address = "127.0.0.1:$CONTAINERD_METRICS"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: without this every sandbox fails (-998 for the pause
  # container) with "can't get final child's PID from pipe: EOF"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$NODE_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE_DIR/containerd/certs.d"
EOF
  local reg; reg="$(registry)"
  rm -rf "$NODE_DIR/containerd/certs.d"; mkdir -p "$NODE_DIR/containerd/certs.d"
  if [ -n "$reg" ]; then
    bash "$BF_ROOT/config/cloud/containerd-hosts.sh" --registry "$reg" --scheme http \
      --out "$NODE_DIR/containerd/certs.d" >/dev/null
  fi
  cat > "$NODE_DIR/cni/net.d/10-node.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "node-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  : > "$NODE_DIR/kubelet/resolv.conf"
  cat > "$NODE_DIR/kubelet/config.yaml" <<EOF
# generated by scripts/testbed/node.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false            # this kernel mounts cgroup v1
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$SOCK
address: $NODE_IP              # metrics-server scrapes the node's InternalIP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization:
  mode: AlwaysAllow
staticPodPath: $NODE_DIR/kubelet/manifests
podLogsDir: $NODE_DIR/kubelet/pod-logs
resolvConf: $NODE_DIR/kubelet/resolv.conf
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: ["$DNS_SERVICE_IP"]
failSwapOn: false
serializeImagePulls: false
rotateCertificates: false
registerNode: true
maxPods: 60
# images pulled under another name would otherwise be refused (ErrImageNeverPull)
imagePullCredentialsVerificationPolicy: NeverVerify
# a shared build machine whose disk other programs fill (and whose filesystem reports a size far
# above its quota, so percentages mislead): evict only when it is really full, recover fast
evictionHard: {memory.available: "200Mi", nodefs.available: "1Gi", imagefs.available: "1Gi", nodefs.inodesFree: "1%"}
evictionPressureTransitionPeriod: 20s
# no image garbage collection (100 disables it): the kubelet reads this disk as 99 % full and
# deleted the pause image (imported, so nothing can pull it back): no pod could start after that
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  cat > "$NODE_DIR/kube-proxy.yaml" <<EOF
# generated by scripts/testbed/node.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $KUBECONFIG_NODE}
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $NODE_NAME
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:$PROXY_METRICS
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ
nodePortAddresses: ["$NODE_IP/32"]
oomScoreAdj: 0
# sysctls it cannot set here (no CAP_SYS_RESOURCE for nf_conntrack_max): leave them alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# ------------------------------------------------------------------------------------ daemons
spawn() { # name args...
  local name="$1"; shift
  running "$name" && return 0
  # Every daemon talks to the node's apiserver, whatever the caller's environment says: client-go
  # programs that pick their cluster from the environment (Traefik: in-cluster variables first,
  # then KUBECONFIG, before its endpoint/token flags) would otherwise follow a KUBECONFIG that
  # scripts/test exports for the bench apiserver, and silently serve a cluster without our Ingress.
  bench_spawn "$(pidfile "$name")" "$LOGS/$name.log" \
    env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT KUBECONFIG="$KUBECONFIG_NODE" "$@"
}

fail_with_log() { tail -n 30 "$LOGS/$1.log" >&2 || true; bench_die "$2"; }

start_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  # (not `ip | grep -q`: grep's early exit fails the pipeline under pipefail, and the address is
  # added twice when a partly stopped node is started again)
  case "$(ip -4 addr show dev "$BRIDGE")" in
    *"inet $NODE_IP/"*) ;;
    *) ip addr add "$NODE_IP/$NODE_PREFIX" dev "$BRIDGE" ;;
  esac
  ip link set "$BRIDGE" up
}

start_containerd() {
  spawn containerd containerd --config "$NODE_DIR/containerd/config.toml" --log-level warn
  bench_wait_until 30 "containerd socket" ctr_ok || fail_with_log containerd "containerd did not start"
  # images no registry here serves, packed by tools/node/build.sh: the sandbox, cluster DNS and
  # the NetworkPolicy test's probe (scripts/test.d/82-netpol.sh)
  local image tar have; have=$(ctr_ -n k8s.io images ls -q)
  for image in "$PAUSE_IMAGE:pause" "$COREDNS_IMAGE:coredns" "$PROBE_IMAGE:probe"; do
    tar=${image##*:}; image=${image%:*}
    grep -qx "$image" <<<"$have" || ctr_ -n k8s.io images import --all-platforms "$NODE_BIN/$tar.tar" >/dev/null
  done
}
ctr_() { ctr --address "$SOCK" "$@"; }
ctr_ok() { [ -S "$SOCK" ] && ctr_ version >/dev/null 2>&1; }

node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

start_kubelet() {
  spawn kubelet "$K8S_BIN/kubelet" --config "$NODE_DIR/kubelet/config.yaml" \
    --kubeconfig "$KUBECONFIG_NODE" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --root-dir "$NODE_DIR/kubelet/root" --cert-dir "$NODE_DIR/kubelet/pki" --v=1
  bench_wait_until "$TIMEOUT" "node $NODE_NAME Ready" node_ready || fail_with_log kubelet "node never became Ready"
}

start_scheduler() {
  spawn kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$KUBECONFIG_NODE" \
    --authentication-kubeconfig "$KUBECONFIG_NODE" --authorization-kubeconfig "$KUBECONFIG_NODE" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --v=1
  bench_wait_until 60 "kube-scheduler healthz" curl -skf "https://127.0.0.1:$SCHED_PORT/healthz" \
    || fail_with_log kube-scheduler "kube-scheduler not healthy"
}

start_proxy() {
  spawn kube-proxy "$K8S_BIN/kube-proxy" --config "$NODE_DIR/kube-proxy.yaml" --v=1
  bench_wait_until 60 "kube-proxy healthz" curl -sf "http://127.0.0.1:$PROXY_HEALTHZ/healthz" \
    || fail_with_log kube-proxy "kube-proxy not healthy"
}

# Cluster DNS as kubeadm, GKE and EKS run it: CoreDNS pods labelled k8s-app: kube-dns in kube-system
# behind the Service kube-dns, so a NetworkPolicy's DNS rule (the operator's allow-dns) selects it.
start_coredns() {
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- {apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
            pods insecure
        }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports: [{containerPort: 53, protocol: UDP, name: dns}, {containerPort: 53, protocol: TCP, name: dns-tcp}]
        readinessProbe: {httpGet: {path: /ready, port: 8181}, periodSeconds: 2}
        livenessProbe: {httpGet: {path: /health, port: 8080}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $DNS_SERVICE_IP
  selector: {k8s-app: kube-dns}
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
EOF
  bench_wait_until 120 "the CoreDNS pod Ready" coredns_ready || {
    kc -n kube-system describe pods -l k8s-app=kube-dns | tail -n 30 >&2; bench_die "CoreDNS did not become Ready"; }
}
coredns_ready() {
  [ "$(kc -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]
}

# kube-router's NetworkPolicy firewall alone (no BGP routing, no IPVS service proxy: kube-proxy and
# the bridge keep those jobs). It writes KUBE-ROUTER-*/KUBE-POD-FW-*/KUBE-NWPLCY-* chains and
# KUBE-SRC-*/KUBE-DST-* ipsets (hoststate.py removes them at stop); same-node pod traffic is
# switched by the bridge and reaches those chains only through br_netfilter
# (net.bridge.bridge-nf-call-iptables=1, set here, restored at stop).
start_kube_router() {
  [ "$NETPOL" = 1 ] || return 0
  command -v ipset >/dev/null || bench_die "ipset missing (run scripts/setup.d/15-node.sh)"
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] \
    || bench_die "no br_netfilter in this kernel: same-node pod traffic would bypass the firewall"
  echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
  spawn kube-router "$NODE_BIN/kube-router" --kubeconfig "$KUBECONFIG_NODE" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --health-port "$KUBE_ROUTER_HEALTH" --v=1
  bench_wait_until 60 "kube-router healthz" curl -sf "http://127.0.0.1:$KUBE_ROUTER_HEALTH/healthz" \
    || fail_with_log kube-router "kube-router not healthy"
}

metrics_api_ok() {
  [ "$(kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" = True ]
}

start_metrics_server() {
  spawn metrics-server "$NODE_BIN/metrics-server" --secure-port "$METRICS_PORT" --bind-address "$NODE_IP" \
    --cert-dir "$NODE_DIR/metrics-server" --kubeconfig "$KUBECONFIG_NODE" \
    --authentication-kubeconfig "$KUBECONFIG_NODE" --authorization-kubeconfig "$KUBECONFIG_NODE" \
    --kubelet-insecure-tls --kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP --metric-resolution 15s
  # the aggregated API: a selector-less Service whose EndpointSlice names the host process
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system, labels: {app.kubernetes.io/name: metrics-server}}
spec:
  ports: [{name: https, port: 443, targetPort: $METRICS_PORT, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: metrics-server-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: metrics-server, endpointslice.kubernetes.io/managed-by: bench-node}
addressType: IPv4
ports: [{name: https, port: $METRICS_PORT, protocol: TCP}]
endpoints: [{addresses: ["$NODE_IP"], conditions: {ready: true}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io, labels: {app.kubernetes.io/name: metrics-server}}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
  bench_wait_until 90 "APIService v1beta1.metrics.k8s.io Available" metrics_api_ok \
    || fail_with_log metrics-server "metrics API not available"
}

start_traefik() {
  kc apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: traefik, labels: {app.kubernetes.io/name: traefik}}
spec: {controller: traefik.io/ingress-controller}
EOF
  # Traefik's cluster is the KUBECONFIG spawn() sets (Traefik v3 reads it from the environment;
  # it has no flag for it). INFO logs name that kubeconfig and every Ingress status it writes.
  spawn traefik "$NODE_BIN/traefik" \
    --entryPoints.web.address="$NODE_IP:$INGRESS_PORT" \
    --entryPoints.traefik.address="127.0.0.1:$TRAEFIK_ADMIN" --ping=true \
    --providers.kubernetesIngress=true \
    --providers.kubernetesIngress.ingressEndpoint.ip="$NODE_IP" \
    --log.level=INFO --accessLog=false --global.checkNewVersion=false --global.sendAnonymousUsage=false
  bench_wait_until 60 "Traefik ping" curl -sf "http://127.0.0.1:$TRAEFIK_ADMIN/ping" \
    || fail_with_log traefik "Traefik did not start"
  probe_ingress_status || fail_with_log traefik "Traefik does not write Ingress status on this cluster"
}

# An Ingress of class traefik must get the node IP as its status from Traefik: that proves Traefik
# watches this apiserver and may write status here (what the operator's Ingress condition waits for).
probe_ingress_status() {
  kc apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench-node-probe, namespace: kube-system, labels: {app.kubernetes.io/managed-by: bench-node}}
spec:
  ingressClassName: traefik
  defaultBackend: {service: {name: metrics-server, port: {number: 443}}}
EOF
  local ok=0
  bench_wait_until 60 "Traefik to publish $NODE_IP in an Ingress status" probe_has_address && ok=1
  kc -n kube-system delete ingress bench-node-probe --ignore-not-found >/dev/null 2>&1 || true
  [ "$ok" = 1 ]
}
probe_has_address() {
  [ "$(kc -n kube-system get ingress bench-node-probe -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null)" = "$NODE_IP" ]
}

all_up() {
  local d
  for d in $DAEMONS; do running "$d" || return 1; done
  cp_sh status >/dev/null 2>&1 && node_ready && metrics_api_ok
}

build() {
  [ "${NODE_BUILD:-1}" = 1 ] || return 0
  K8S_BIN_DIR="$K8S_BIN" K8S_NODE=1 K8S_KUBECTL=1 "$BF_ROOT/tools/k8s/build.sh"
  NODE_BIN_DIR="$NODE_BIN" "$BF_ROOT/tools/node/build.sh" >/dev/null
}

preflight() {
  [ "$(id -u)" = 0 ] || bench_die "the node needs root (kubelet, containerd, iptables)"
  local t
  for t in containerd runc ctr iptables ip openssl curl; do
    command -v "$t" >/dev/null || bench_die "$t missing (run scripts/setup.d/15-node.sh)"
  done
  [ -x /usr/lib/cni/bridge ] || bench_die "CNI plugins missing (run scripts/setup.d/15-node.sh)"
  # one node per machine: the bridge and node IP are fixed
  if ip link show "$BRIDGE" >/dev/null 2>&1 && [ ! -f "$HOSTSTATE" ]; then
    bench_die "bridge $BRIDGE exists but this checkout did not create it: another bench node runs on this machine (stop it with its own scripts/testbed/node.sh stop)"
  fi
}

start() {
  local t0; t0=$(date +%s)
  preflight
  if all_up; then
    bench_log "already running (node $NODE_NAME Ready), reusing it"
    write_env; return 0
  fi
  build
  local t1; t1=$(date +%s)
  mkdir -p "$NODE_DIR" "$LOGS" "$RUN"
  python3 "$BF_ROOT/tools/node/hoststate.py" snapshot "$HOSTSTATE" "$NODE_DIR"
  start_bridge
  cp_sh start
  write_configs
  if [ "${NODE_KAFKA:-1}" = 1 ]; then kafka_sh start; fi
  if [ "${NODE_VALKEY:-1}" = 1 ]; then valkey_sh start; fi
  local t2; t2=$(date +%s)
  start_containerd
  start_kubelet
  start_scheduler
  start_proxy
  start_kube_router
  start_coredns
  start_metrics_server
  start_traefik
  write_env
  bench_log "node $NODE_NAME Ready at https://$NODE_IP:$API_PORT in $(( $(date +%s) - t1 )) s (control plane + Kafka/Valkey $(( t2 - t1 )) s; build check $(( t1 - t0 )) s); kubeconfig $KUBECONFIG_NODE"
}

# ------------------------------------------------------------------------------------ stop
drain_pods() {
  # let the kubelet tear every pod down itself (CNI DEL, volume unmounts) before it stops
  running kubelet && cp_sh status >/dev/null 2>&1 || return 0
  kc cordon "$NODE_NAME" >/dev/null 2>&1 || true
  kc delete pods --all --all-namespaces --grace-period=5 --wait=false >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 120; i++)); do
    [ -z "$(ctr_ -n k8s.io tasks ls -q 2>/dev/null)" ] && break
    sleep 0.5
  done
}

kill_containers() {
  ctr_ok || return 0
  local id
  for id in $(ctr_ -n k8s.io tasks ls -q 2>/dev/null); do
    ctr_ -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 1
  for id in $(ctr_ -n k8s.io tasks ls -q 2>/dev/null); do
    ctr_ -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
  done
}

kill_shims() {
  # shims of our containerd outlive it by design; they carry its socket path in their arguments
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

stop() {
  local d any=0
  for d in $DAEMONS; do running "$d" && any=1; done
  if [ "$any" = 0 ] && [ ! -f "$HOSTSTATE" ] && ! cp_sh status >/dev/null 2>&1; then
    bench_log "not running"
    return 0
  fi
  drain_pods
  for d in traefik metrics-server kube-router kube-proxy kube-scheduler kubelet; do
    bench_stop_pidfile "$(pidfile "$d")" "$d" 20
  done
  kill_containers
  bench_stop_pidfile "$(pidfile containerd)" containerd 20
  kill_shims
  if [ -x "$K8S_BIN/kube-proxy" ]; then "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  cp_sh stop || true
  if [ -d "$NODE_DIR/kafka" ]; then kafka_sh stop || true; fi
  if [ -d "$NODE_DIR/valkey" ]; then valkey_sh stop || true; fi
  local keys; mapfile -t keys < <(env_lines | cut -d= -f1)
  bench_env_unset "${keys[@]}"
  local rc=0
  if [ -f "$HOSTSTATE" ]; then
    if python3 "$BF_ROOT/tools/node/hoststate.py" restore "$HOSTSTATE"; then
      rm -f "$HOSTSTATE"
    else
      rc=1
      bench_log "ERROR: the host still differs from before the node started (listed above); $HOSTSTATE kept, run stop again after fixing"
    fi
  fi
  # wipe the state, keep the logs (mounts under it are gone by now)
  if [ -d "$NODE_DIR" ]; then
    find "$NODE_DIR" -mindepth 1 -maxdepth 1 ! -name logs ! -name host.json ! -name cp -exec rm -rf --one-file-system {} +
  fi
  [ "$rc" = 0 ] && bench_log "stopped; host restored"
  return $rc
}

status() {
  local rc=0 d
  for d in $DAEMONS; do
    if running "$d"; then echo "$d: running (pid $(cat "$(pidfile "$d")"))"; else echo "$d: stopped"; rc=3; fi
  done
  if cp_sh status >/dev/null 2>&1; then echo "control plane: ready at https://$NODE_IP:$API_PORT"
  else echo "control plane: not ready"; rc=3; fi
  if node_ready; then echo "node $NODE_NAME: Ready"; else echo "node $NODE_NAME: not Ready"; rc=3; fi
  if metrics_api_ok; then echo "metrics API: available"; else echo "metrics API: not available"; rc=3; fi
  return $rc
}

case "${1:-}" in
  start) bench_lock node 900; start ;;
  build) build ;;
  stop) bench_lock node 900; stop ;;
  status) status ;;
  env) env_lines ;;
  kubectl) shift; kc "$@" ;;
  kafka) shift; kafka_sh "$@" ;;
  valkey) shift; valkey_sh "$@" ;;
  *) echo "usage: $0 start|build|stop|status|env|kubectl ARGS...|kafka ARGS...|valkey ARGS..." >&2; exit 2 ;;
esac
