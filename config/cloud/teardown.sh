# shellcheck shell=bash
# Teardown steps both clouds share (sourced by gke/down.sh and eks/down.sh after lib.sh).

# Delete what makes cloud resources from inside the cluster (the load balancer of the ingress
# Service, the disks behind PVCs), and wait until they are gone, while the cluster still runs.
release_cluster_cloud_resources() {
  if exists kubectl get bfp blackfriday; then
    run kubectl delete bfp blackfriday --wait --timeout=10m
  fi
  local release ns
  for release in grafana:grafana nginx-ingress:nginx-ingress ingress-nginx:ingress-nginx; do
    ns="${release#*:}"
    if exists helm status "${release%%:*}" --namespace "$ns"; then
      run helm uninstall "${release%%:*}" --namespace "$ns" --wait --timeout 10m
    fi
  done
  # PVCs left behind (Kafka's are kept by Strimzi's deleteClaim default, Valkey's with onDelete:
  # Retain): their disks are deleted with them (reclaim policy Delete of the default classes).
  run kubectl delete pvc --all-namespaces --all --wait --timeout=10m
  run kubectl wait pv --all --for=delete --timeout=10m
}

forget_state() { # forget_state KEEP(0|1)
  if [ "$1" = 1 ]; then
    echo "local state kept in $STATE"
  else
    run rm -rf "$STATE"
  fi
}
