# shellcheck shell=bash
# The steps both clouds share once a cluster and the Zot VM exist (sourced by gke/up.sh and
# eks/up.sh after lib.sh): local Zot credentials and TLS, mirror + push to Zot, platform, operator
# (Helm chart published to Zot as an OCI chart), the pipeline, and how to see it working.
# Expects: STATE, ZOT_NAME (the name nodes use), ZOT_PORT, ZOT_PUBLIC_IP (the laptop's way in),
# TAG, CLOUD (gke|eks).

zot_internal() { printf '%s:%s' "$ZOT_NAME" "$ZOT_PORT"; }   # what nodes and pods use
zot_public() { printf '%s:%s' "$ZOT_PUBLIC_IP" "$ZOT_PORT"; } # what the laptop uses

# Zot's users, passwords and htpasswd; the TLS pair with both names as SANs; the user-data.
zot_prepare_vm_files() {
  run "$CLOUD_LIB_DIR/zot/tls.sh" --out "$STATE/tls" --dns "$ZOT_NAME" --ip "$ZOT_PUBLIC_IP"
  # skopeo/oras/helm read a CA directory that must hold only CA files
  run mkdir -p "$STATE/zot-ca"
  run cp "$STATE/tls/ca.crt" "$STATE/zot-ca/ca.crt"
  zot_credentials "$STATE"
  run "$CLOUD_LIB_DIR/zot/render-cloud-init.sh" --htpasswd "$STATE/htpasswd" --tls-dir "$STATE/tls" \
    --out "$STATE/zot-user-data.yaml"
}

# Zot answers 401 (auth required) on /v2/ over TLS that verifies against our CA once it runs.
zot_wait_ready() {
  local url
  url="https://$(zot_public)/v2/"
  echo "+ wait until $url answers (TLS checked against $STATE/zot-ca/ca.crt)"
  [ "$DRY_RUN" = 1 ] && return 0
  local i code
  for i in $(seq 1 90); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$STATE/zot-ca/ca.crt" "$url" || true)"
    if [ "$code" = 401 ] || [ "$code" = 200 ]; then echo "Zot is up ($url -> $code)"; return 0; fi
    sleep 10
    [ $((i % 6)) = 0 ] && echo "  still waiting for Zot (last answer: ${code:-none}); the VM runs cloud-init"
  done
  die "Zot did not come up at $url in 15 minutes: see troubleshooting 'Zot VM' in docs/deploy-$CLOUD.md"
}

# Node trust on every node (GKE: a DaemonSet; EKS does it in the node bootstrap instead).
node_trust_daemonset() {
  run kubectl apply -f "$CLOUD_LIB_DIR/zot/containerd-hosts-daemonset.yaml"
  run_to "$STATE/zot-node-trust.configmap.yaml" kubectl -n registry-config create configmap zot-node-trust \
    --from-file "containerd-hosts.sh=$CLOUD_LIB_DIR/containerd-hosts.sh" --from-file "ca.crt=$STATE/tls/ca.crt" \
    --from-literal "registry=$(zot_internal)" --dry-run=client -o yaml
  run kubectl apply -f "$STATE/zot-node-trust.configmap.yaml"
  run kubectl -n registry-config rollout status daemonset/zot-node-trust --timeout=5m
}

fill_zot() {
  auth_file "$STATE/ci.auth.json" "$(zot_public)" ci "$STATE/ci.password"
  ZOT="$(zot_public)" ZOT_CERT_DIR="$STATE/zot-ca" ZOT_AUTH="$STATE/ci.auth.json" \
    bash "$CLOUD_LIB_DIR/zot/mirror-images.sh"
  ZOT="$(zot_public)" ZOT_CERT_DIR="$STATE/zot-ca" ZOT_AUTH="$STATE/ci.auth.json" TAG="$TAG" \
    bash "$CLOUD_LIB_DIR/zot/push-images.sh"
}

install_platform() {
  REGISTRY="$(zot_internal)/mirror" ZOT_CA_FILE="$STATE/tls/ca.crt" CLOUD="$CLOUD" \
    bash "$CLOUD_ROOT/config/platform/install-all.sh"
}

# The operator: namespace (restricted PSS) + pull Secret, the Helm chart pushed to Zot as an OCI
# chart and installed from there.
install_operator() {
  run kubectl apply -f "$CLOUD_ROOT/config/manager/namespace.yaml"
  auth_file "$STATE/cluster.auth.json" "$(zot_internal)" cluster "$STATE/cluster.password"
  ZOT="$(zot_internal)" ZOT_AUTH="$STATE/cluster.auth.json" bash "$CLOUD_LIB_DIR/zot/pull-secret.sh"
  run helm package "$CLOUD_ROOT/config/helm/blackfriday-operator" --version "$TAG" --app-version "$TAG" \
    --destination "$STATE/charts"
  run helm push "$STATE/charts/blackfriday-operator-$TAG.tgz" "oci://$(zot_public)/blackfriday/charts" \
    --ca-file "$STATE/zot-ca/ca.crt" --registry-config "$STATE/ci.auth.json"
  run helm upgrade --install blackfriday-operator "oci://$(zot_public)/blackfriday/charts/blackfriday-operator" \
    --version "$TAG" --namespace blackfriday-system \
    --ca-file "$STATE/zot-ca/ca.crt" --registry-config "$STATE/ci.auth.json" \
    --set image.registry="$(zot_internal)" --set image.tag="$TAG"
  run kubectl -n blackfriday-system rollout status deploy/blackfriday-operator --timeout=5m
}

# The pipeline: the sample CR with the registry name nodes use and the tag pushed above;
# PIPELINE_PATCH (a JSON merge patch file) then adds cloud-specific fields (EKS: storage classes;
# the managed-data option: external Kafka/Valkey).
apply_pipeline() {
  local cr="$STATE/pipeline.yaml"
  run_to "$cr" sed -e "s|host: zot.blackfriday.internal:5000|host: $(zot_internal)|" \
    -e "s|tag: \"0.1.0\"|tag: \"$TAG\"|" "$CLOUD_ROOT/config/samples/pipeline.yaml"
  run kubectl apply -f "$cr"
  if [ -n "${PIPELINE_PATCH:-}" ]; then
    run kubectl patch bfp blackfriday --type merge --patch-file "$PIPELINE_PATCH"
  fi
  run kubectl wait bfp/blackfriday --for condition=Ready --timeout=45m
}

# The Locust catalogue (an OCI artifact) into Zot; Locust on the laptop reads it from there.
push_catalog() {
  local ref
  ref="$(zot_public)/blackfriday/catalog:v1"
  if [ "$DRY_RUN" = 1 ]; then
    run env SSL_CERT_FILE="$STATE/zot-ca/ca.crt" ORAS_PLAIN_HTTP=0 BF_REGISTRY_USER=ci \
      "$CLOUD_ROOT/locust/push-catalog.sh" "$ref"
    return 0
  fi
  # the password travels in the environment, never on a printed command line
  ( export BF_REGISTRY_PASSWORD; BF_REGISTRY_PASSWORD="$(cat "$STATE/ci.password")"
    run env SSL_CERT_FILE="$STATE/zot-ca/ca.crt" ORAS_PLAIN_HTTP=0 BF_REGISTRY_USER=ci \
      "$CLOUD_ROOT/locust/push-catalog.sh" "$ref" )
}

show_working() {
  step "the pipeline, working"
  run kubectl get bfp
  local ingress_ns=nginx-ingress ingress_svc=nginx-ingress-controller
  if [ "${INGRESS:-nginx}" = ingress-nginx ]; then ingress_ns=ingress-nginx ingress_svc=ingress-nginx-controller; fi
  query LB_ADDR INGRESS_ADDRESS kubectl -n "$ingress_ns" get service "$ingress_svc" \
    -o 'jsonpath={.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}'
  cat <<EOF

Load (from this laptop, catalogue read from Zot):
  SSL_CERT_FILE=$STATE/zot-ca/ca.crt BF_REGISTRY_USER=ci BF_REGISTRY_PASSWORD="\$(cat $STATE/ci.password)" \\
    python3 -m locust -f locust/locustfile.py --headless -H http://$LB_ADDR -u 20 -r 5 -t 5m \\
    --catalog-ref $(zot_public)/blackfriday/catalog:v1
Grafana (dashboard "Black Friday"; user admin):
  kubectl -n grafana get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d; echo
  kubectl -n grafana port-forward svc/grafana 3000:80    # then http://localhost:3000
Teardown: $(dirname "$0")/down.sh   (everything this script made; --dry-run lists it)
EOF
}

# Everything after the cluster and Zot exist, the same on both clouds.
deploy_on_cluster() { # deploy_on_cluster "INGRESS DESCRIPTION"
  step "images into Zot (mirror of the add-ons, our images for linux/amd64, the catalogue)"
  fill_zot
  push_catalog

  step "platform (Strimzi, KubeVirt, $1, Grafana) from the mirror"
  install_platform

  step "operator (Helm chart from Zot)"
  install_operator

  step "pipeline"
  apply_pipeline
  show_working
}
