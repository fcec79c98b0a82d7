"""The operator's NetworkPolicies enforced on a real node (scripts/testbed/node.sh with kube-router's
firewall): probes from real pods along the edges of the reachability table (docs/security.md).

Run by scripts/test.d/82-netpol.sh. The policies, Namespaces and Services are what
`blackfriday-operator render` makes of the cluster suite's pipeline (tools/cluster/pipeline.py:
Kafka and Valkey external, the node's own broker and Valkey on 198.18.0.1, so the writers' and the
consumer's egress is the operator's ipBlock rule). Each program's Deployment is stood in for by one
probe pod with the same labels, listening on the same ports (tools/node/probe): the policies select
pods by label only, so what the probes may reach is what the programs may reach.

 1. allowed edges connect: rust-api → grpc-client through its Service name (cluster DNS, allowed by
    allow-dns, then the Service), grpc-client → a writer, the writers and the consumer → Kafka, the
    consumer → Valkey;
 2. forbidden edges do not: a pod in another namespace → rust-api, a stray pod in ingest →
    grpc-client, rust-api → Kafka and → a writer (skipping a hop), the consumer → rust-api,
    grpc-client → Valkey;
 3. the same forbidden probes connect once the render has `networkPolicies.enabled: false` (the
    operator deletes its policies then; here they are deleted the same way): the probes can fail.
Environment: NODE_* (scripts/testbed/node.sh env), OPERATOR (the operator binary), NETPOL_OUT.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/cluster"))
import pipeline as bf  # noqa: E402
from kube import items, kubectl, kubectl_cmd, wait_for  # noqa: E402

OUT = pathlib.Path(os.environ.get("NETPOL_OUT", ROOT / "out/test/netpol"))
OPERATOR = os.environ.get("OPERATOR", "")
PROBE_IMAGE = os.environ.get("NODE_PROBE_IMAGE", "node.local/probe:1")
FOREIGN_NS = "netpol-foreign"
KAFKA = bf.KAFKA
VALKEY = bf.VALKEY

pytestmark = pytest.mark.skipif(not (os.environ.get("NODE_KUBECONFIG") and OPERATOR and KAFKA),
                                reason="needs the bench node and the operator binary (scripts/test.d/82-netpol.sh)")


def render(policies: bool) -> list[dict]:
    manifest = yaml.safe_load(bf.pipeline_manifest())
    manifest["spec"]["networkPolicies"] = {"enabled": policies}
    path = OUT / f"pipeline-policies-{'on' if policies else 'off'}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    text = subprocess.run([OPERATOR, "render", "-f", str(path)], check=True, capture_output=True,
                          text=True).stdout
    (OUT / f"render-{'on' if policies else 'off'}.yaml").write_text(text)
    return [d for d in yaml.safe_load_all(text) if d]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def apply(docs: list[dict]) -> None:
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))


def probe_pod(name: str, ns: str, labels: dict, ports: list[int]) -> dict:
    """A pod that passes the namespace's restricted Pod Security level and listens on `ports`."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": PROBE_IMAGE, "imagePullPolicy": "Never",
                "args": ["listen", *[str(p) for p in ports or [8080]]],
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }


class Probes:
    def __init__(self, pods: dict[str, tuple[str, str]]):
        self.pods = pods  # role -> (namespace, pod name)
        self.log = open(OUT / "probes.txt", "a")

    def ip(self, role: str) -> str:
        ns, name = self.pods[role]
        return json.loads(kubectl("get", "pod", name, "-n", ns, "-o", "json"))["status"]["podIP"]

    def run(self, role: str, *args: str) -> bool:
        ns, name = self.pods[role]
        r = subprocess.run(kubectl_cmd("exec", "-n", ns, name, "--", "/probe", *args),
                           capture_output=True, text=True, timeout=60)
        self.log.write(f"{role} → {' '.join(args)}: {'open' if r.returncode == 0 else 'closed'} "
                       f"{(r.stdout + r.stderr).strip()}\n")
        self.log.flush()
        return r.returncode == 0

    def dial(self, role: str, target: str) -> bool:
        return self.run(role, "dial", target)


@pytest.fixture(scope="module")
def probes() -> Probes:
    OUT.mkdir(parents=True, exist_ok=True)
    docs = render(policies=True)
    assert of_kind(docs, "NetworkPolicy"), "the render has no NetworkPolicy"
    # the namespaces (with their Pod Security labels), the pipeline's Services and its policies
    apply(of_kind(docs, "Namespace") + [s for s in of_kind(docs, "Service")
                                        if s["metadata"].get("namespace") == bf.NS]
          + of_kind(docs, "NetworkPolicy"))
    kubectl("create", "namespace", FOREIGN_NS, check=False)
    pods: dict[str, tuple[str, str]] = {}
    manifests = []
    for dep in of_kind(docs, "Deployment"):
        if dep["metadata"].get("namespace") != bf.NS:
            continue
        template = dep["spec"]["template"]
        ports = [p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])]
        name = dep["metadata"]["name"]
        pods[name] = (bf.NS, f"{name}-probe")
        manifests.append(probe_pod(f"{name}-probe", bf.NS, template["metadata"]["labels"], ports))
    pods["stray"] = (bf.NS, "stray-probe")
    manifests.append(probe_pod("stray-probe", bf.NS, {"app": "stray"}, [8080]))
    pods["foreign"] = (FOREIGN_NS, "foreign-probe")
    manifests.append(probe_pod("foreign-probe", FOREIGN_NS, {"app": "foreign"}, [8080]))
    apply(manifests)
    for ns in (bf.NS, FOREIGN_NS):
        kubectl("wait", "--for=condition=Ready", "pod", "--all", "-n", ns, "--timeout=120s", timeout=150)
    print(kubectl("get", "pods", "-n", bf.NS, "-o", "wide"))
    return Probes(pods)


def forbidden(p: Probes) -> list[tuple[str, str]]:
    return [
        ("foreign", f"{p.ip('rust-api')}:8080"),
        ("stray", f"{p.ip('grpc-client')}:8081"),
        ("rust-api", KAFKA),
        ("rust-api", f"{p.ip('grpc-server-1')}:50051"),
        ("consumer", f"{p.ip('rust-api')}:8080"),
        ("grpc-client", VALKEY),
    ]


def test_allowed_edges_connect(probes: Probes):
    assert probes.run("consumer", "resolve", "kubernetes.default.svc.cluster.local"), "DNS from ingest"
    # rust-api reaches grpc-client by its Service name, as the program does (GRPC_CLIENT_URL)
    svc = wait_for("grpc-client's Service", lambda: [s for s in items("services", bf.NS)
                                                     if s["spec"].get("selector", {}).get("app.kubernetes.io/name")
                                                     == "grpc-client"], timeout=30)[0]
    port = svc["spec"]["ports"][0]["port"]
    edges = [
        ("rust-api", f"{svc['metadata']['name']}.{bf.NS}.svc.cluster.local:{port}"),
        ("grpc-client", f"{probes.ip('grpc-server-1')}:50051"),
        ("grpc-client", f"{probes.ip('grpc-server-2')}:50051"),
        ("grpc-server-1", KAFKA),
        ("grpc-server-2", KAFKA),
        ("consumer", KAFKA),
        ("consumer", VALKEY),
    ]
    closed = [e for e in edges if not probes.dial(*e)]
    assert not closed, f"pipeline edges blocked: {closed} (see {OUT}/probes.txt)"


def test_forbidden_edges_are_blocked(probes: Probes):
    edges = forbidden(probes)
    # kube-router applies a policy a moment after the API has it: wait for the first edge to close
    wait_for(f"{edges[0]} to be blocked", lambda: not probes.dial(*edges[0]), timeout=60, interval=2)
    opened = [e for e in edges if probes.dial(*e)]
    assert not opened, f"edges the policies forbid connected: {opened} (see {OUT}/probes.txt)"


def test_the_same_edges_connect_with_policies_off(probes: Probes):
    docs = render(policies=False)
    assert not of_kind(docs, "NetworkPolicy"), "networkPolicies.enabled: false still renders policies"
    for ns in {d["metadata"]["namespace"] for d in of_kind(render(policies=True), "NetworkPolicy")}:
        kubectl("delete", "networkpolicy", "--all", "-n", ns)
    edges = forbidden(probes)
    wait_for(f"{edges[0]} to open", lambda: probes.dial(*edges[0]), timeout=60, interval=2)
    closed = [e for e in edges if not probes.dial(*e)]
    assert not closed, f"with the policies off these still do not connect: {closed} (see {OUT}/probes.txt)"
