"""The upstream schemas the kube bench serves (tools/k8s/upstream, SOURCES.md there).

- the schemas are those of the Strimzi / KubeVirt versions config/platform/versions.sh installs;
- the CRDs the bench's apiserver serves are exactly Strimzi's released files (generated from Maven
  Central by Strimzi's own generator) and the CRDs vm_crd.py derives from the kept KubeVirt swagger;
- a swagger or a generated CRD that is not the upstream one is refused, not loaded.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, run
from test_k8s_smoke import admin, ok  # noqa: F401  (the admin fixture of the k8s smoke tests)

UPSTREAM = os.path.join(ROOT, "tools", "k8s", "upstream")
STRIMZI_CRDS = os.path.join(UPSTREAM, "strimzi-crds.sh")
VM_CRD = os.path.join(ROOT, "tools", "k8s", "vm_crd.py")


def pins():
    """config/platform/versions.sh (KEY=value lines): the platform versions users install."""
    out = {}
    with open(os.path.join(ROOT, "config", "platform", "versions.sh")) as f:
        for line in f:
            key, sep, value = line.split("#", 1)[0].strip().partition("=")
            if sep and re.fullmatch(r"[A-Z0-9_]+", key):
                out[key] = value.strip()
    return out


def sums(path):
    with open(path) as f:
        return {name: digest for digest, name in (line.split() for line in f if line.strip())}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stored_form(schema):
    """A schema as the apiserver stores it: JSONSchemaProps drops an empty `properties: {}`
    (omitempty; 040-Crd-kafka.yaml has one under status.clusterSecurity)."""
    if isinstance(schema, dict):
        return {k: stored_form(v) for k, v in schema.items() if not (k == "properties" and v == {})}
    if isinstance(schema, list):
        return [stored_form(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def strimzi_dir():
    return run([STRIMZI_CRDS], timeout=600).stdout.strip()


def test_upstream_schemas_exist_for_the_platform_versions():
    # a version bump in config/platform/versions.sh needs the matching schemas here (SOURCES.md)
    p = pins()
    assert os.path.exists(os.path.join(UPSTREAM, f"strimzi-{p['STRIMZI_VERSION']}.sha256"))
    assert os.path.exists(os.path.join(UPSTREAM, "kubevirt", f"swagger-{p['KUBEVIRT_VERSION']}.json"))


def test_kept_swagger_is_the_upstream_file():
    path = os.path.join(UPSTREAM, "kubevirt", f"swagger-{pins()['KUBEVIRT_VERSION']}.json")
    assert sha256(path) == sums(path + ".sha256")[os.path.basename(path)]
    # the recorded sum is the one SOURCES.md gives for the upstream file
    with open(os.path.join(UPSTREAM, "SOURCES.md")) as f:
        assert sha256(path) in f.read()


def test_generated_strimzi_crds_are_the_released_files(strimzi_dir):
    want = sums(os.path.join(UPSTREAM, f"strimzi-{pins()['STRIMZI_VERSION']}.sha256"))
    got = {n: sha256(os.path.join(strimzi_dir, n)) for n in os.listdir(strimzi_dir) if n.endswith(".yaml")}
    assert got == want


@pytest.mark.parametrize("name", ["040-Crd-kafka.yaml", "043-Crd-kafkatopic.yaml",
                                  "044-Crd-kafkauser.yaml", "045-Crd-kafkanodepool.yaml"])
def test_apiserver_serves_the_strimzi_schemas(admin, strimzi_dir, name):  # noqa: F811
    with open(os.path.join(strimzi_dir, name)) as f:
        upstream = yaml.safe_load(f)
    served = ok(admin.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                          + upstream["metadata"]["name"]))
    assert [v["name"] for v in served["spec"]["versions"]] == [v["name"] for v in upstream["spec"]["versions"]]
    for s, u in zip(served["spec"]["versions"], upstream["spec"]["versions"]):
        assert s["schema"]["openAPIV3Schema"] == stored_form(u["schema"]["openAPIV3Schema"]), name


@pytest.mark.parametrize("plural", ["virtualmachines", "virtualmachineinstances"])
def test_apiserver_serves_the_derived_kubevirt_schemas(admin, tmp_path, plural):  # noqa: F811
    run([sys.executable, VM_CRD, "--out", str(tmp_path)])
    with open(tmp_path / f"{plural}.kubevirt.io.json") as f:
        derived = json.load(f)
    served = ok(admin.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.kubevirt.io"))
    assert served["metadata"]["labels"]["kubevirt.io/derived-from"] == f"swagger-{pins()['KUBEVIRT_VERSION']}"
    assert (served["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
            == derived["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def test_vm_crd_refuses_a_changed_swagger(tmp_path):
    src = os.path.join(UPSTREAM, "kubevirt", f"swagger-{pins()['KUBEVIRT_VERSION']}.json")
    bad = tmp_path / "swagger.json"
    with open(src) as f:
        doc = json.load(f)
    doc["definitions"]["v1.VirtualMachineSpec"]["properties"].pop("running", None)
    bad.write_text(json.dumps(doc))
    shutil.copy(src + ".sha256", str(bad) + ".sha256")
    p = run([sys.executable, VM_CRD, "--swagger", str(bad), "--out", str(tmp_path / "out")], check=False)
    assert p.returncode != 0 and "sha256" in p.stderr, p.stderr
    assert not (tmp_path / "out" / "virtualmachines.kubevirt.io.json").exists()


def test_strimzi_crds_refuses_output_that_differs_from_the_release(tmp_path, strimzi_dir):
    # a copy of the fetcher whose recorded sums say something else: it must keep nothing
    fake = tmp_path / "tools" / "k8s" / "upstream"
    fake.mkdir(parents=True)
    shutil.copy(os.path.join(UPSTREAM, "strimzi-crds.sh"), fake / "strimzi-crds.sh")
    (tmp_path / "config" / "platform").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "config", "platform", "versions.sh"), tmp_path / "config" / "platform")
    version = pins()["STRIMZI_VERSION"]
    lines = open(os.path.join(UPSTREAM, f"strimzi-{version}.sha256")).read().splitlines()
    lines[1] = "0" * 64 + lines[1][64:]
    (fake / f"strimzi-{version}.sha256").write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"
    # reuse the jars already fetched (mvn then copies nothing new)
    shutil.copytree(os.path.join(os.path.dirname(strimzi_dir), "jars"), cache / "upstream" / f"strimzi-{version}" / "jars")
    p = subprocess.run(["bash", str(fake / "strimzi-crds.sh")], capture_output=True, text=True,
                       timeout=600, env={**os.environ, "BF_CACHE": str(cache)})
    assert p.returncode != 0, p.stderr
    assert "differ from Strimzi" in p.stderr, p.stderr[-2000:]
    assert not [d for d in os.listdir(cache / "upstream" / f"strimzi-{version}") if d.startswith("crds")]
