"""The pipeline the cloud recipes apply (config/samples/pipeline.yaml with the Zot name and tag
set as common.sh apply_pipeline does), rendered by the operator (`blackfriday-operator render`)
and every child object — Strimzi Kafka/KafkaNodePool/KafkaTopic, KubeVirt VirtualMachines,
Deployments, Ingress... — accepted by the bench's kube-apiserver, which has the real Strimzi CRDs
and the VirtualMachine CRD derived from KubeVirt's swagger loaded (server-side dry run, strict
field validation). The Kafka external mode (the MSK option) renders no Strimzi object."""
import base64
import json
import os
import pathlib
import subprocess
import uuid

import pytest
import yaml

from conftest import ROOT, sh


@pytest.fixture(scope="module")
def operator_bin():
    # BF_OPERATOR_BIN: a binary built elsewhere from the same sources; default: the one 40-operator built
    b = pathlib.Path(os.environ.get("BF_OPERATOR_BIN", ROOT / "target/debug/blackfriday-operator"))
    if not b.exists():
        subprocess.run(["nice", "cargo", "build", "-q", "-p", "blackfriday-operator"], cwd=ROOT, check=True)
    return str(b)


def cloud_cr(tmp_path, suffix, patch=None):
    cr = yaml.safe_load((ROOT / "config/samples/pipeline.yaml").read_text())
    # what apply_pipeline's sed does (registry host and tag), and unique namespaces for this test
    cr["spec"]["registry"]["host"] = "zot.blackfriday.internal:5000"
    cr["spec"]["registry"]["tag"] = "0.2.0"
    cr["metadata"]["name"] = f"cloud-{suffix}"
    cr["spec"]["namespaces"] = {"ingest": f"c{suffix}-ingest", "kafka": f"c{suffix}-kafka", "valkey": f"c{suffix}-valkey"}
    cr["spec"]["grafana"]["namespace"] = f"c{suffix}-grafana"
    for k, v in (patch or {}).items():
        cr["spec"][k].update(v)
    f = tmp_path / "cr.yaml"
    f.write_text(yaml.safe_dump(cr))
    return f


def render(operator_bin, cr):
    out = sh([operator_bin, "render", "-f", str(cr)]).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_children_accepted_by_apiserver(operator_bin, tmp_path):
    if not os.environ.get("KUBECONFIG"):
        pytest.fail("KUBECONFIG not set: start the bench (scripts/testbed/up.sh) or run via scripts/test")
    suffix = uuid.uuid4().hex[:6]
    objs = render(operator_bin, cloud_cr(tmp_path, suffix))
    kinds = {o["kind"] for o in objs}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "VirtualMachine", "Deployment", "Ingress"} <= kinds
    images = [c["image"] for o in objs if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]]
    assert images and all(i.startswith("zot.blackfriday.internal:5000/blackfriday/") and i.endswith(":0.2.0") for i in images)
    namespaces = sorted({o["metadata"]["namespace"] for o in objs if o["metadata"].get("namespace")})
    created = []
    try:
        for ns in namespaces:
            sh(["kubectl", "create", "namespace", ns])
            created.append(ns)
        children = [o for o in objs if o["kind"] != "Namespace"]
        for o in children:
            # the pull Secret copies: offline, render cannot read zot-pull's data; in the cluster the
            # operator copies it from blackfriday-system/zot-pull (what pull-secret.sh creates)
            if o["kind"] == "Secret" and o.get("type") == "kubernetes.io/dockerconfigjson" and not o.get("data"):
                o["data"] = {".dockerconfigjson": base64.b64encode(json.dumps(
                    {"auths": {"zot.blackfriday.internal:5000": {"auth": "Y2x1c3Rlcjp4"}}}).encode()).decode()}
        f = tmp_path / "children.yaml"
        f.write_text(yaml.safe_dump_all(children))
        r = sh(["kubectl", "apply", "--dry-run=server", "--validate=strict", "-f", str(f)], check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        for kind in ["kafka.kafka.strimzi.io", "kafkanodepool.kafka.strimzi.io", "kafkatopic.kafka.strimzi.io",
                     "virtualmachine.kubevirt.io"]:
            assert f"{kind}/" in r.stdout, f"no {kind} reached the apiserver"
    finally:
        for ns in created:
            sh(["kubectl", "delete", "namespace", ns, "--wait=false"], check=False)


def test_kafka_external_renders_no_strimzi(operator_bin, tmp_path):
    objs = render(operator_bin, cloud_cr(tmp_path, "x", {"kafka": {"mode": "external",
                                                                  "bootstrapServers": "b-1.msk.example:9092,b-2.msk.example:9092"}}))
    assert not [o for o in objs if o["apiVersion"].startswith("kafka.strimzi.io")]
