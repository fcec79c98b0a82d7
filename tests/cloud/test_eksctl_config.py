"""eks/cluster.yaml, rendered by eks/render-cluster.sh, against eksctl's own ClusterConfig JSON
schema (pkg/apis/eksctl.io/v1alpha5/assets/schema.json of the eksctl Go module, fetched by
scripts/setup.d/75-cloud.sh), plus what the schema cannot say: EBS is the default StorageClass
(defect 4), every node group trusts Zot at bootstrap with the one hosts.toml generator (defect 2)
— its three bootstrap commands are run here in a sandbox and must produce a valid hosts.toml."""
import base64
import json
import os
import re
import tomllib

import jsonschema
import pytest
import yaml

from conftest import ROOT, sh, tool_path

ENV = {"NAME": "blackfriday", "REGION": "us-east-1", "K8S_VERSION": "1.35", "GENERAL_INSTANCE": "m7i.xlarge",
       "GENERAL_NODES": "2", "KUBEVIRT_INSTANCE": "c5.metal", "KUBEVIRT_NODES": "1"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    d = tmp_path_factory.mktemp("eks")
    sh([str(ROOT / "config/cloud/zot/tls.sh"), "--out", str(d / "tls"), "--dns", "zot.blackfriday.internal"])
    env = dict(os.environ, **ENV)
    sh([str(ROOT / "config/cloud/eks/render-cluster.sh"), "--ca", str(d / "tls/ca.crt"),
        "--zot", "zot.blackfriday.internal:5000", "--out", str(d / "cluster.yaml")], env=env)
    return d, yaml.safe_load((d / "cluster.yaml").read_text())


@pytest.fixture(scope="module")
def schema():
    return json.loads(open(tool_path("EKSCTL_SCHEMA", "eksctl ClusterConfig schema")).read())


def test_schema_valid(rendered, schema):
    _, cfg = rendered
    jsonschema.validate(cfg, schema)


@pytest.mark.parametrize("mutate", [
    lambda c: c["managedNodeGroups"][0].__setitem__("preBootstrapCommand", ["x"]),   # typo
    lambda c: c["managedNodeGroups"][0].__setitem__("desiredCapacity", "two"),
    lambda c: c.__setitem__("addon", c.pop("addons")),
])
def test_schema_check_can_fail(rendered, schema, mutate):
    _, cfg = rendered
    bad = json.loads(json.dumps(cfg))
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_ebs_default_storage_class_and_metrics_server(rendered):
    _, cfg = rendered
    addons = {a["name"]: a for a in cfg["addons"]}
    assert "metrics-server" in addons
    ebs = addons["aws-ebs-csi-driver"]
    assert json.loads(ebs["configurationValues"])["defaultStorageClass"]["enabled"] is True
    assert ebs["wellKnownPolicies"]["ebsCSIController"] is True
    assert cfg["iam"]["withOIDC"] is True


def test_every_node_group_trusts_zot_at_bootstrap(rendered, tmp_path):
    d, cfg = rendered
    groups = cfg["managedNodeGroups"]
    assert {g["name"] for g in groups} == {"general", "kubevirt"}
    assert [g for g in groups if g["name"] == "kubevirt"][0]["labels"] == {"blackfriday.dev/kubevirt": "true"}
    for g in groups:
        cmds = g["preBootstrapCommands"]
        script_b64 = re.match(r"echo (\S+) \| base64 -d > /usr/local/sbin/containerd-hosts.sh$", cmds[0]).group(1)
        assert base64.b64decode(script_b64) == (ROOT / "config/cloud/containerd-hosts.sh").read_bytes(), \
            "the node bootstrap must embed the one generator, byte for byte"
        ca_b64 = re.match(r"echo (\S+) \| base64 -d > /usr/local/share/zot-ca.crt$", cmds[1]).group(1)
        assert base64.b64decode(ca_b64) == (d / "tls/ca.crt").read_bytes()
        # run the bootstrap in a sandbox (paths moved under tmp_path) with POSIX sh
        root = tmp_path / g["name"]
        for sub in ["usr/local/sbin", "usr/local/share", "etc/containerd/certs.d"]:
            (root / sub).mkdir(parents=True)
        script = "\n".join(c.replace(" /usr/", f" {root}/usr/").replace(" /etc/", f" {root}/etc/") for c in cmds)
        sh(["sh", "-ec", script])
        host = root / "etc/containerd/certs.d/zot.blackfriday.internal:5000"
        doc = tomllib.loads((host / "hosts.toml").read_text())
        assert doc["server"] == "https://zot.blackfriday.internal:5000"
        h = doc["host"]["https://zot.blackfriday.internal:5000"]
        assert h["capabilities"] == ["pull", "resolve"]
        assert (host / h["ca"]).read_bytes() == (d / "tls/ca.crt").read_bytes()
