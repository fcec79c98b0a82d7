"""Shared helpers of the 75-cloud suite: offline checks of the cloud recipes (config/cloud,
config/platform, config/helm). Nothing here contacts a cloud: the dry runs run with stub cloud
tools on PATH that fail if called."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPE_ENV = {"DRY_RUN", "CLOUD_NESTED", "PROJECT", "REGION", "ZONE", "NAME", "ZOT_NAME", "ZOT_PORT", "TAG",
              "LAPTOP_CIDR", "GENERAL_MACHINE", "GENERAL_NODES", "GENERAL_INSTANCE", "KUBEVIRT_MACHINE",
              "KUBEVIRT_NODES", "KUBEVIRT_INSTANCE", "KUBEVIRT_EMULATION", "ZOT_MACHINE", "ZOT_INSTANCE",
              "INGRESS", "REGISTRY", "PLATFORM", "KEY_NAME", "K8S_VERSION", "CLOUD", "PIPELINE_PATCH", "REPO",
              "WITH_CDI", "ZOT_CA_FILE", "PLATFORM_WORK", "BF_CLOUD_STATE", "DRY_RUN_ASSUME"}
CLOUD_TOOLS = ["gcloud", "aws", "eksctl", "kubectl", "helm", "skopeo", "oras", "docker", "curl", "htpasswd"]


def sh(cmd, cwd=ROOT, env=None, check=True, **kw):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def tool_path(var, what):
    """A tool or file the suite's set-up made (scripts/setup.d/75-cloud.sh prints KEY=path;
    scripts/test.d/75-cloud.sh exports them)."""
    p = os.environ.get(var)
    if not p or not pathlib.Path(p).exists():
        pytest.fail(f"{var} not set or missing ({p!r}): run scripts/setup.d/75-cloud.sh ({what})")
    return p


@pytest.fixture
def stub_bin(tmp_path):
    """A PATH folder where every cloud tool is a stub that records the call and fails: a dry run
    that really runs one of them is caught."""
    d = tmp_path / "stub-bin"
    d.mkdir()
    calls = tmp_path / "stub-calls.log"
    for t in CLOUD_TOOLS:
        p = d / t
        p.write_text(f"#!/bin/sh\necho \"{t} $*\" >> {calls}\nexit 99\n")
        p.chmod(0o755)
    return d, calls


def dry_run(script, stub, tmp_path, *args, env_extra=None):
    d, calls = stub
    # only the caller's choices, never leftovers of the environment (a REGION or TAG set in CI)
    env = {k: v for k, v in os.environ.items() if k not in RECIPE_ENV}
    env["PATH"] = f"{d}:{env['PATH']}"
    env["BF_CLOUD_STATE"] = str(tmp_path / "state")
    env["TMPDIR"] = str(tmp_path)
    env.update(env_extra or {})
    r = sh(["bash", str(ROOT / script), "--dry-run", *args], env=env, check=False)
    assert r.returncode == 0, f"{script} --dry-run failed:\n{r.stdout}\n{r.stderr}"
    called = calls.read_text() if calls.exists() else ""
    assert called == "", f"{script} --dry-run ran cloud tools:\n{called}"
    return r.stdout
