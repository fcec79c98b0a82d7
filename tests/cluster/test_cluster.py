"""The pipeline on a real Kubernetes node (scripts/testbed/node.sh), installed the way users install it.

Run by scripts/test.d/80-cluster.sh, which starts the node, pushes the program images and the
catalogue to the bench registry and creates the Kafka topic; the tests run in file order and each
builds on the one before (pytest -x). The steps shared with `scripts/main-job --cluster` are in
tools/cluster/pipeline.py.

 1. the node: Ready, metrics API serving real figures;
 2. the operator: `kubectl apply -k` of an overlay of config/default that only swaps the image for
    the bench registry's; its Deployment becomes Available under its own RBAC;
 3. the pipeline CR (Kafka and Valkey external: the node's own broker and Valkey) → every
    Deployment Available, the CR Ready=True, the Ingress admitted by Traefik;
 4. every pod Running, and every container process — read from the host's /proc through
    containerd — runs as uid 65532 on a read-only root filesystem;
 5. Locust through the Ingress; mid-load grpcServer2.replicas 2→1 (one pod terminates with exit
    code 0, the other stays), then 1→2 (both pods take calls); every sale Locust got a 2xx for is
    counted once in Valkey, per category, exactly (locust/reconcile.py); the rust-api HPA scales
    out on metrics-server's CPU figures and back in after the load; no answer was a 503 (a pod
    leaving or joining a Service refuses nothing). The `kubectl get hpa`
    timeline, a replicas CSV and the report's evidence files are saved.
Environment: NODE_* (scripts/testbed/node.sh env), OCI_REGISTRY, CLUSTER_TAG (image tag),
CLUSTER_OUT (output folder), CLUSTER_LOAD_SECONDS (default 150), CLUSTER_USERS (default 20).
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/cluster"))
import pipeline as bf  # noqa: E402
from kube import condition, deployment_available, get, items, kubectl, pod_ready, wait_for  # noqa: E402

OUT = pathlib.Path(os.environ.get("CLUSTER_OUT", ROOT / "out/test/cluster"))
SOCK = os.environ.get("NODE_CONTAINERD_SOCK", "")
LOAD_SECONDS = int(os.environ.get("CLUSTER_LOAD_SECONDS", "150"))
USERS = int(os.environ.get("CLUSTER_USERS", "20"))
UID = 65532

pytestmark = pytest.mark.skipif(not (os.environ.get("NODE_KUBECONFIG") and bf.REGISTRY and bf.TAG),
                                reason="needs the bench node, registry and images (scripts/test.d/80-cluster.sh)")


# ------------------------------------------------------------------------------------- 1. node
def test_node_ready_with_metrics():
    node = items("nodes")
    assert len(node) == 1, f"want one node, got {[n['metadata']['name'] for n in node]}"
    assert condition(node[0], "Ready")["status"] == "True"
    addrs = {a["type"]: a["address"] for a in node[0]["status"]["addresses"]}
    assert addrs.get("InternalIP") == bf.NODE_IP
    # metrics-server's figures for the node come from the kubelet's resource metrics
    m = wait_for("node metrics from metrics.k8s.io",
                 lambda: json.loads(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"))["items"],
                 timeout=120, interval=3)
    assert m[0]["usage"]["cpu"] and m[0]["usage"]["memory"]


# --------------------------------------------------------------------------------- 2. operator
def test_operator_installed_with_kubectl_apply_k():
    dep = bf.install_operator(OUT)
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{bf.REGISTRY}/blackfriday/blackfriday-operator:{bf.TAG}"
    # it runs under its own ServiceAccount, whose ClusterRole is the one from config/rbac
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == "blackfriday-operator"
    crb = get("clusterrolebinding", "blackfriday-operator")
    assert {"kind": "ServiceAccount", "name": "blackfriday-operator", "namespace": bf.OP_NS} in crb["subjects"]


# --------------------------------------------------------------------------------- 3. pipeline
def test_pipeline_ready():
    p = bf.apply_pipeline(OUT)
    deps = items("deployments", bf.NS)
    names = sorted(d["metadata"]["name"] for d in deps)
    assert names == ["consumer", "grpc-client", "grpc-server-1", "grpc-server-2", "rust-api"], names
    for d in deps + items("deployments", bf.OP_NS):
        assert deployment_available(d), f"{d['metadata']['name']} not Available: {d.get('status')}"
    for c in ("Kafka", "Valkey", "Ingress", "RustApi", "GrpcServer2"):
        assert condition(p, c)["status"] == "True", bf.conditions_text(p)
    ing = get("ingress", "rust-api", bf.NS)
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert {"ip": bf.NODE_IP} in [{k: v for k, v in lb.items() if k == "ip"}
                                  for lb in ing["status"]["loadBalancer"]["ingress"]]


# -------------------------------------------------------------------------- 4. pods as 65532
def container_pids() -> dict[str, int]:
    """containerd task id -> host pid, from the node's containerd (namespace k8s.io)."""
    out = subprocess.run(["ctr", "--address", SOCK, "-n", "k8s.io", "tasks", "ls"], capture_output=True,
                         text=True, check=True).stdout
    pids = {}
    for line in out.splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[2] == "RUNNING":
            pids[f[0]] = int(f[1])
    return pids


def root_mount_options(pid: int) -> set[str]:
    for line in pathlib.Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        f = line.split()
        if f[4] == "/":
            return set(f[5].split(","))
    raise AssertionError(f"no / mount in /proc/{pid}/mountinfo")


def test_pods_run_as_65532_read_only():
    pids = container_pids()
    pods = items("pods", bf.NS) + items("pods", bf.OP_NS)
    assert len(pods) >= 6
    checked = []
    for p in pods:
        name = p["metadata"]["name"]
        assert p["status"]["phase"] == "Running", f"{name}: {p['status']['phase']}"
        for cs in p["status"]["containerStatuses"]:
            assert cs["ready"] and "running" in cs["state"], f"{name}/{cs['name']}: {cs['state']}"
            cid = cs["containerID"].split("://", 1)[1]
            pid = pids[cid]
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
            uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
            gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
            assert set(uids) == {str(UID)}, f"{name}/{cs['name']} runs as uids {uids}"
            assert set(gids) == {str(UID)}, f"{name}/{cs['name']} runs as gids {gids}"
            assert "ro" in root_mount_options(pid), f"{name}/{cs['name']}: root filesystem is writable"
            capeff = re.search(r"^CapEff:\s+(\S+)$", status, re.M).group(1)
            assert int(capeff, 16) == 0, f"{name}/{cs['name']} has capabilities {capeff}"
            checked.append(f"{name}/{cs['name']} pid {pid}")
    (OUT / "pods-65532.txt").write_text("\n".join(checked) + "\n")


# ------------------------------------------------------------------------------------ 5. load
def test_load_through_ingress_with_replica_edits_and_hpa():
    timeline, watch, logs = bf.Timeline(OUT), bf.PodWatch(), bf.LogFollower(OUT)
    timeline.start()
    watch.start()
    logs.start()
    locust = subprocess.Popen(bf.locust_command(OUT, USERS, LOAD_SECONDS), stdout=open(OUT / "locust.log", "w"),
                              stderr=subprocess.STDOUT, env=bf.locust_env(), cwd=ROOT)
    t0 = time.monotonic()
    timeline.mark("load starts")
    edit = None
    try:
        time.sleep(20)
        edit = bf.edit_writers(timeline, watch)
        left = LOAD_SECONDS - (time.monotonic() - t0)
        # clients re-resolve the headless Service when the writer ends a connection (max age 30 s
        # + 10 s grace), so the new pod needs that long under load to be found
        assert left >= 45, f"only {left:.0f}s of load left after the 1->2 edit; raise CLUSTER_LOAD_SECONDS"
        calls_at_ready = {p["metadata"]["name"]: bf.writer_ok_calls(p) for p in edit["pods"]}
        rc = locust.wait(timeout=LOAD_SECONDS + 120)
        timeline.mark(f"load ends (Locust exit {rc})")
        bf.save_pod_logs(OUT, "after-load")  # before scale-in deletes pods (and their logs)
        calls_at_end = {p["metadata"]["name"]: bf.writer_ok_calls(p) for p in bf.server2_pods() if pod_ready(p)}
        calls = {"at_ready": calls_at_ready, "at_end": calls_at_end}
        (OUT / "writer-calls.json").write_text(json.dumps(calls, indent=1))
        for name in calls_at_ready:
            assert calls_at_end[name] > calls_at_ready[name], \
                f"grpc-server-2 pod {name} took no calls after the 1->2 edit: {calls}"
        assert rc == 0, f"Locust exit {rc} (see {OUT / 'locust.log'})"
        # scale-out, scale-in and the rollovers the edits cause refuse nothing: a terminating pod
        # keeps serving while it leaves its Service (the operator's preStop sleep); without it,
        # rust-api answered 503 `downstream_unavailable` while grpc-client rolled over
        unavailable = bf.answers_with_status(OUT, 503)
        assert not unavailable, f"{len(unavailable)} answer(s) 503 at t = {sorted(set(unavailable))} s " \
                                f"(timeline.txt, pod-logs-after-load/, pod-logs-followed/)"

        # every accepted sale counted once, per category, after the consumers drained
        counts = bf.reconcile(OUT)
        print(counts.stdout)
        assert counts.returncode == 0, f"accepted sales != Valkey:\n{counts.stdout}{counts.stderr}"
        res = json.loads((OUT / "locust-results.json").read_text())
        assert sum(res["ok_by_category"].values()) > 0

        # the HPA: out on real CPU figures during the load, back in after it
        peak = max((r.get("rust-api_desired") or 0) for r in timeline.rows)
        cpu = [r.get("rust-api_cpu_pct") for r in timeline.rows if r.get("rust-api_cpu_pct") is not None]
        assert cpu, "the rust-api HPA never reported a CPU utilisation (metrics-server)"
        assert peak > 1, f"rust-api HPA never wanted more than 1 replica; CPU readings {cpu}"
        timeline.mark(f"rust-api HPA peak desired {peak}; waiting for scale-in")
        bf.wait_scale_in(timeline)
    finally:
        if locust.poll() is None:
            locust.terminate()
        watch.close()
        logs.close()
        time.sleep(4)
        timeline.finish()
        if edit:
            bf.write_evidence(timeline, edit, bf.run_meta("scripts/test --only 80-cluster", USERS, LOAD_SECONDS), OUT)
