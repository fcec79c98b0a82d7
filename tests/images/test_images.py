"""The image flow without Docker: scripts/images builds and pushes all five program images to the
bench OCI registry (the stand-in for Zot); each is pulled back by tag into a fresh OCI layout with
skopeo, its manifest and config are checked, it is unpacked with umoci and its entrypoint is run
inside the unpacked rootfs (chroot, as uid 65532), so only what the image holds is used.

Env: OCI_REGISTRY (from .testbed/env), BF_IMAGES_TAG (default: a unique test tag),
BF_IMAGES_NO_BUILD=1 (use the binaries already built).
"""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ["rust-api", "blackfriday-operator", "grpc-client", "grpc-server", "consumer"]
# Every port an image must EXPOSE: contract/ports.json (the operator's Services use the same).
PORTS = {
    program: {f"{port}/tcp" for port in roles.values()}
    for program, roles in json.loads((ROOT / "contract" / "ports.json").read_text())["programs"].items()
}
RUST = {"rust-api", "blackfriday-operator"}
REPO = "blackfriday"


def registry():
    reg = os.environ.get("OCI_REGISTRY")
    if not reg:
        env = ROOT / ".testbed" / "env"
        if env.exists():
            for line in env.read_text().splitlines():
                if line.startswith("OCI_REGISTRY="):
                    reg = line.split("=", 1)[1]
    if not reg:
        pytest.fail("OCI_REGISTRY is not set (bash scripts/testbed/registry.sh start)")
    return reg


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def blob(layout, digest):
    algo, hexd = digest.split(":")
    return Path(layout) / "blobs" / algo / hexd


@pytest.fixture(scope="session")
def pushed(tmp_path_factory):
    tag = os.environ.get("BF_IMAGES_TAG") or f"test-{int(time.time())}-{os.getpid()}"
    summary = tmp_path_factory.mktemp("images") / "summary.json"
    cmd = [str(ROOT / "scripts" / "images"), "--registry", registry(), "--repository", REPO,
           "--tag", tag, "--plain-http", "--summary", str(summary)]
    if os.environ.get("BF_IMAGES_NO_BUILD") == "1":
        cmd.append("--no-build")
    p = run(cmd, timeout=1800, cwd=ROOT)
    print(p.stdout)
    print(p.stderr[-4000:])
    assert p.returncode == 0, f"scripts/images failed ({p.returncode})"
    s = json.loads(summary.read_text())
    assert s["tag"] == tag
    return s


@pytest.fixture(scope="session")
def pulled(pushed, tmp_path_factory):
    """component -> (layout dir, manifest digest) of the image pulled back from the registry."""
    out = {}
    for c in COMPONENTS:
        layout = tmp_path_factory.mktemp(f"pull-{c}") / "oci"
        ref = f"{registry()}/{REPO}/{c}:{pushed['tag']}"
        p = run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{layout}:{pushed['tag']}"])
        out[c] = (layout, p)
    return out


def manifest_and_config(layout, tag):
    idx = json.loads((Path(layout) / "index.json").read_text())
    descs = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    assert len(descs) == 1, idx
    man = json.loads(blob(layout, descs[0]["digest"]).read_text())
    cfg = json.loads(blob(layout, man["config"]["digest"]).read_text())
    return descs[0], man, cfg


def test_summary_lists_all_components(pushed):
    assert [i["component"] for i in pushed["images"]] == COMPONENTS
    for i in pushed["images"]:
        assert i["ref"] == f"{registry()}/{REPO}/{i['component']}:{pushed['tag']}"
        assert i["compressed_bytes"] > 100_000 and i["unpacked_bytes"] > i["compressed_bytes"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_tag_listed_in_registry(pushed, component):
    p = run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry()}/{REPO}/{component}"])
    assert p.returncode == 0, p.stderr
    assert pushed["tag"] in json.loads(p.stdout)["Tags"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_pull_manifest_and_config(pushed, pulled, component):
    layout, p = pulled[component]
    assert p.returncode == 0, f"pull failed: {p.stderr}"
    desc, man, cfg = manifest_and_config(layout, pushed["tag"])
    pushed_digest = {i["component"]: i["digest"] for i in pushed["images"]}[component]
    assert desc["digest"] == pushed_digest, "the registry serves another manifest than the one pushed"
    assert desc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert man["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert len(man["layers"]) == 1
    assert cfg["architecture"] == "amd64" and cfg["os"] == "linux"
    c = cfg["config"]
    assert c["Entrypoint"] == [f"/{component}"]
    assert c["User"] == "65532:65532"
    assert set(c.get("ExposedPorts", {})) == PORTS[component]
    labels = c.get("Labels", {})
    head = run(["git", "rev-parse", "HEAD"], cwd=ROOT).stdout.strip()
    assert labels.get("org.opencontainers.image.revision") == head
    assert labels.get("org.opencontainers.image.title") == component
    assert labels.get("org.opencontainers.image.source")
    if component == "blackfriday-operator":
        assert c.get("Cmd") == ["run"]


def unpack(layout, tag, dest):
    cmd = ["umoci", "unpack"]
    if os.geteuid() != 0:
        cmd.append("--rootless")
    p = run(cmd + ["--image", f"{layout}:{tag}", str(dest)])
    assert p.returncode == 0, p.stderr
    return Path(dest) / "rootfs"


def run_in_rootfs(rootfs, argv):
    """Run argv inside rootfs as 65532:65532 (chroot as root; unshare a user namespace otherwise)."""
    if os.geteuid() == 0:
        cmd = [shutil.which("chroot"), "--userspec=65532:65532", str(rootfs)] + argv
    else:
        cmd = [shutil.which("unshare"), "--user", "--map-root-user", shutil.which("chroot"), str(rootfs)] + argv
    # a clean environment for the program: nothing from the host leaks in
    return run(["env", "-i", "PATH=/", "HOME=/home/nonroot"] + cmd, timeout=60)


@pytest.fixture(scope="session")
def rootfs(pushed, pulled, tmp_path_factory):
    out = {}
    for c in COMPONENTS:
        layout, p = pulled[c]
        if p.returncode == 0:
            out[c] = unpack(layout, pushed["tag"], tmp_path_factory.mktemp(f"bundle-{c}") / "bundle")
    return out


@pytest.mark.parametrize("component", COMPONENTS)
def test_rootfs_contents(rootfs, component):
    assert component in rootfs, "image was not pulled"
    r = rootfs[component]
    files = sorted(str(p.relative_to(r)) for p in r.rglob("*") if p.is_file())
    assert f"{component}" in files
    passwd = (r / "etc/passwd").read_text()
    assert "nonroot:x:65532:65532:" in passwd
    if component in RUST:
        assert (r / "etc/ssl/certs/ca-certificates.crt").stat().st_size > 10_000
        assert (r / "lib64/ld-linux-x86-64.so.2").exists()
        libs = [f for f in files if ".so" in f]
        assert any(f.endswith("libc.so.6") for f in libs), libs
    else:
        # static Go binaries: no shared objects, no CA bundle (they do no TLS)
        assert not [f for f in files if ".so" in f], files
        assert not (r / "etc/ssl").exists()
    # nothing else: binary, passwd/group, (Rust) libs, loader, nsswitch, CA bundle
    assert len(files) <= 10, files


@pytest.mark.parametrize("component", COMPONENTS)
def test_entrypoint_runs_in_rootfs(rootfs, component):
    assert component in rootfs, "image was not pulled"
    r = rootfs[component]
    if component == "blackfriday-operator":
        p = run_in_rootfs(r, [f"/{component}", "crd"])
        assert p.returncode == 0, p.stderr
        assert "kind: CustomResourceDefinition" in p.stdout
        assert "BlackFridayPipeline" in p.stdout
    elif component == "rust-api":
        p = run_in_rootfs(r, [f"/{component}", "--help"])
        assert p.returncode == 0, p.stderr
        assert "Usage: rust-api" in p.stdout
    else:
        p = run_in_rootfs(r, [f"/{component}", "-h"])
        assert p.returncode == 0, p.stderr
        out = p.stdout + p.stderr
        assert f"Usage of {component}" in out, out
        assert {"grpc-client": "-grpc-server-1", "grpc-server": "-kafka-brokers", "consumer": "-kafka-brokers"}[component] in out, out


def test_rootfs_without_loader_does_not_run(rootfs, tmp_path):
    """The chroot run really uses only the image: without the loader the Rust binary cannot start."""
    assert "rust-api" in rootfs, "image was not pulled"
    broken = tmp_path / "rootfs"
    shutil.copytree(rootfs["rust-api"], broken, symlinks=True)
    (broken / "lib64/ld-linux-x86-64.so.2").unlink()
    p = run_in_rootfs(broken, ["/rust-api", "--help"])
    assert p.returncode != 0
