"""tools/k8s/kapi.py, the bench's CRD loader: it must survive the API server's `conditions: null`
(issue 15, item 6: "TypeError: 'NoneType' object is not iterable … could not load the project's
CRDs") and load a CRD it has never seen, and the project's own, into the real bench."""
import base64
import importlib.util
import os
import subprocess
import sys
import tempfile
import uuid

import pytest
import yaml

from conftest import ROOT

KAPI = os.path.join(ROOT, "tools/k8s/kapi.py")
spec = importlib.util.spec_from_file_location("kapi", KAPI)
kapi = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kapi)


@pytest.mark.parametrize("crd", [
    {"status": {"conditions": None}},          # what the API server returns right after a create
    {"status": None},
    {},
    {"status": {"conditions": [{"type": "Established", "status": "True"}]}},
])
def test_not_yet_established_is_false_not_a_crash(crd):
    assert kapi.established(crd) is False


def test_established_needs_both_conditions():
    conds = [{"type": "Established", "status": "True"}, {"type": "NamesAccepted", "status": "True"}]
    assert kapi.established({"status": {"conditions": conds}}) is True


@pytest.fixture(scope="module")
def kapi_args(bench):
    """--server/--ca/--token-file of the bench admin, from its kubeconfig."""
    path = bench.need("KUBECONFIG", "k8s")
    cfg = yaml.safe_load(open(path))
    cluster = cfg["clusters"][0]["cluster"]
    d = tempfile.mkdtemp(prefix="kapi-")
    ca, token = os.path.join(d, "ca.crt"), os.path.join(d, "token")
    with open(ca, "wb") as f:
        f.write(base64.b64decode(cluster["certificate-authority-data"]))
    with open(token, "w") as f:
        f.write(cfg["users"][0]["user"]["token"])
    return ["--server", cluster["server"], "--ca", ca, "--token-file", token]


def run_kapi(args, *rest):
    return subprocess.run([sys.executable, KAPI, *args, *rest], capture_output=True, text=True, timeout=120)


def test_loads_a_new_crd_and_the_projects_own(kapi_args, tmp_path):
    # A CRD the server has never seen: its first GETs return conditions null.
    group = f"k{uuid.uuid4().hex[:8]}.kapi.blackfriday.dev"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"things.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]},
    }
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(yaml.safe_dump(crd))
    own = os.path.join(ROOT, "crds/blackfriday.dev_blackfridaypipelines.yaml")
    try:
        p = run_kapi(kapi_args, "apply-crds", "--timeout", "60", str(fresh), own)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "2 CRDs established" in p.stderr, p.stderr
    finally:
        api = kapi.Api(kapi_args[1], kapi_args[3], open(kapi_args[5]).read().strip())
        api.call("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.{group}")
