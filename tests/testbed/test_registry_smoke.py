"""Smoke tests for the bench OCI registry (scripts/testbed/registry.sh start).

Proves that the registry on loopback stores OCI artifacts with a custom artifact type (pushed and
pulled back byte-identical with the oras CLI) and container images (built with umoci, pushed with
skopeo, manifest and config read back over the distribution API).
"""
import hashlib
import json
import os
import uuid

import pytest
import requests

from conftest import run

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json"])
ARTIFACT_TYPE = "application/vnd.blackfriday.catalogue.v1+json"


@pytest.fixture(scope="module")
def registry(bench):
    return bench.need("OCI_REGISTRY", "registry")


@pytest.fixture(scope="module")
def oras(bench):
    path = bench.need("ORAS", "registry")
    assert os.access(path, os.X_OK), f"oras not executable at {path}"
    return path


@pytest.fixture(scope="module")
def tools(bench):
    return {name: bench.get(name.upper()) or name for name in ("skopeo", "umoci")}


def get_manifest(registry, repo, ref):
    r = requests.get(f"http://{registry}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT}, timeout=10)
    assert r.status_code == 200, f"GET manifest {repo}:{ref}: HTTP {r.status_code} {r.text[:500]}"
    return r


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_registry_api_answers(registry):
    r = requests.get(f"http://{registry}/v2/", timeout=10)
    assert r.status_code == 200
    assert r.headers.get("Docker-Distribution-Api-Version") == "registry/2.0"


def test_oras_artifact_roundtrip(registry, oras, tmp_path):
    repo = "smoke/catalogue-" + uuid.uuid4().hex[:8]
    ref = f"{registry}/{repo}:v1"
    src = tmp_path / "src"
    src.mkdir()
    catalogue = json.dumps({"products": [{"producto_id": "BEL-001", "categoria": "Belleza",
                                          "precio": 129.99}]}, sort_keys=True).encode()
    blob = os.urandom(200_000)
    (src / "catalogue.json").write_bytes(catalogue)
    (src / "blob.bin").write_bytes(blob)

    run([oras, "push", "--plain-http", ref, "--artifact-type", ARTIFACT_TYPE,
         "--annotation", "org.opencontainers.image.description=bench smoke",
         "catalogue.json:application/json", "blob.bin:application/octet-stream"], cwd=src)

    m = get_manifest(registry, repo, "v1")
    manifest = m.json()
    assert manifest["mediaType"] == OCI_MANIFEST
    assert m.headers["Content-Type"] == OCI_MANIFEST
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert m.headers["Docker-Content-Digest"] == sha256(m.content)
    layers = {l["annotations"]["org.opencontainers.image.title"]: l for l in manifest["layers"]}
    assert layers["catalogue.json"]["mediaType"] == "application/json"
    assert layers["catalogue.json"]["digest"] == sha256(catalogue)
    assert layers["blob.bin"]["size"] == len(blob)

    out = tmp_path / "out"
    run([oras, "pull", "--plain-http", ref, "-o", str(out)])
    assert (out / "catalogue.json").read_bytes() == catalogue
    assert (out / "blob.bin").read_bytes() == blob

    # a blob fetched over plain HTTP is byte-identical too
    r = requests.get(f"http://{registry}/v2/{repo}/blobs/{sha256(catalogue)}", timeout=10)
    assert r.status_code == 200 and r.content == catalogue


def test_unknown_tag_is_404(registry):
    r = requests.get(f"http://{registry}/v2/smoke/nothing-here/manifests/v0",
                     headers={"Accept": ACCEPT}, timeout=10)
    assert r.status_code == 404


def test_image_push_and_manifest_readback(registry, tools, tmp_path):
    umoci, skopeo = tools["umoci"], tools["skopeo"]
    layout = tmp_path / "layout"
    bundle = tmp_path / "bundle"
    run([umoci, "init", "--layout", str(layout)])
    run([umoci, "new", "--image", f"{layout}:smoke"])
    run([umoci, "unpack", "--rootless", "--image", f"{layout}:smoke", str(bundle)])
    payload = b"hola desde el bench " + uuid.uuid4().hex.encode()
    (bundle / "rootfs" / "hello.txt").write_bytes(payload)
    run([umoci, "repack", "--image", f"{layout}:smoke", str(bundle)])
    run([umoci, "config", "--image", f"{layout}:smoke", "--config.entrypoint", "/bin/hello",
         "--architecture", "amd64", "--os", "linux", "--config.label", "dev.blackfriday.smoke=1"])

    repo = "smoke/image-" + uuid.uuid4().hex[:8]
    run([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:smoke", f"docker://{registry}/{repo}:v1"])

    m = get_manifest(registry, repo, "v1")
    manifest = m.json()
    # umoci 0.4 writes OCI manifests without the optional mediaType field; the registry serves
    # them with the OCI content type
    assert m.headers["Content-Type"] == OCI_MANIFEST
    assert manifest["schemaVersion"] == 2 and manifest.get("mediaType", OCI_MANIFEST) == OCI_MANIFEST
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert len(manifest["layers"]) == 1
    cfg = requests.get(f"http://{registry}/v2/{repo}/blobs/{manifest['config']['digest']}", timeout=10)
    assert cfg.status_code == 200
    config = cfg.json()
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["config"]["Entrypoint"] == ["/bin/hello"]
    assert config["config"]["Labels"]["dev.blackfriday.smoke"] == "1"

    inspect = json.loads(run([skopeo, "inspect", "--tls-verify=false", f"docker://{registry}/{repo}:v1"]).stdout)
    assert inspect["Layers"] == [l["digest"] for l in manifest["layers"]]

    tags = requests.get(f"http://{registry}/v2/{repo}/tags/list", timeout=10).json()
    assert tags["tags"] == ["v1"]

    # pull it back into a fresh layout and find our file in the layer
    back = tmp_path / "back"
    run([skopeo, "copy", "--src-tls-verify=false", f"docker://{registry}/{repo}:v1", f"oci:{back}:smoke"])
    rootfs = tmp_path / "unpacked"
    run([umoci, "unpack", "--rootless", "--image", f"{back}:smoke", str(rootfs)])
    assert (rootfs / "rootfs" / "hello.txt").read_bytes() == payload
