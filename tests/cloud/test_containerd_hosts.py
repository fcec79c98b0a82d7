"""config/cloud/containerd-hosts.sh: the one hosts.toml generator (cloud nodes and the bench node).

The output is parsed with a TOML parser and held to containerd's hosts.toml layout
(containerd docs/hosts.md: `server`, `[host."<url>"]` with `capabilities` and `ca`; a relative
`ca` is resolved against the hosts.toml's directory, remotes/docker/config/hosts.go makeAbsPath).
Run under dash too: the node DaemonSet runs it in busybox sh, so it must be POSIX.
"""
import os
import pathlib
import subprocess
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "config/cloud/containerd-hosts.sh"
SHELLS = [s for s in ("dash", "bash") if subprocess.run(["sh", "-c", f"command -v {s}"],
                                                        capture_output=True).returncode == 0]
PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"


def run(shell, *args):
    return subprocess.run([shell, str(SCRIPT), *args], capture_output=True, text=True)


@pytest.fixture(params=SHELLS)
def shell(request):
    return request.param


def test_http_registry(shell, tmp_path):
    r = run(shell, "--registry", "198.18.0.10:5000", "--scheme", "http", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    d = tmp_path / "198.18.0.10:5000"
    assert sorted(p.name for p in d.iterdir()) == ["hosts.toml"]
    doc = tomllib.loads((d / "hosts.toml").read_text())
    assert doc["server"] == "http://198.18.0.10:5000"
    assert doc["host"] == {"http://198.18.0.10:5000": {"capabilities": ["pull", "resolve"]}}


def test_https_with_ca_is_relative_and_copied(shell, tmp_path):
    ca = tmp_path / "zot-ca.pem"
    ca.write_text(PEM)
    out = tmp_path / "certs.d"
    r = run(shell, "--registry", "zot.blackfriday.internal:5000", "--scheme", "https",
            "--ca", str(ca), "--out", str(out))
    assert r.returncode == 0, r.stderr
    d = out / "zot.blackfriday.internal:5000"
    doc = tomllib.loads((d / "hosts.toml").read_text())
    assert doc["server"] == "https://zot.blackfriday.internal:5000"
    host = doc["host"]["https://zot.blackfriday.internal:5000"]
    assert host["capabilities"] == ["pull", "resolve"]
    assert host["ca"] == "ca.crt"
    # containerd joins a relative ca with the hosts.toml's directory: that file must be the CA.
    assert (d / host["ca"]).read_text() == PEM
    assert not [p for p in d.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_idempotent_and_switches_back_to_http(shell, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(PEM)
    args = ["--registry", "zot:5000", "--scheme", "https", "--ca", str(ca), "--out", str(tmp_path)]
    assert run(shell, *args).returncode == 0
    first = (tmp_path / "zot:5000/hosts.toml").read_bytes()
    assert run(shell, *args).returncode == 0
    assert (tmp_path / "zot:5000/hosts.toml").read_bytes() == first
    r = run(shell, "--registry", "zot:5000", "--scheme", "http", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "zot:5000/ca.crt").exists(), "stale CA left after switching to http"
    assert "ca" not in tomllib.loads((tmp_path / "zot:5000/hosts.toml").read_text())["host"]["http://zot:5000"]


@pytest.mark.parametrize("args,needle", [
    (["--scheme", "http", "--out", "X"], "--registry"),
    (["--registry", "zot:5000", "--out", "X"], "--scheme"),
    (["--registry", "zot:5000", "--scheme", "http"], "--out"),
    (["--registry", "zot:5000", "--scheme", "ftp", "--out", "X"], "--scheme"),
    (["--registry", "zot", "--scheme", "http", "--out", "X"], "port"),
    (["--registry", "https://zot:5000", "--scheme", "https", "--out", "X"], "without a scheme"),
    (["--registry", "zot:99999", "--scheme", "http", "--out", "X"], "1..65535"),
    (["--registry", "zot:99999999999999999999999", "--scheme", "http", "--out", "X"], "1..65535"),
    (["--registry", "zot:0", "--scheme", "http", "--out", "X"], "1..65535"),
    (["--registry", "zot:50a", "--scheme", "http", "--out", "X"], "port"),
    (["--registry", "zo\"t:5000", "--scheme", "http", "--out", "X"], "host"),
    (["--registry", "zot:5000", "--scheme", "http", "--ca", "/etc/hostname", "--out", "X"], "--ca"),
    (["--registry", "zot:5000", "--scheme", "https", "--ca", "/nonexistent", "--out", "X"], "--ca"),
    (["--registry", "zot:5000", "--scheme", "https", "--ca", "/etc/hostname", "--out", "X"], "PEM"),
    (["--bogus"], "--bogus"),
])
def test_bad_input_names_the_field(shell, tmp_path, args, needle):
    args = [str(tmp_path / "out") if a == "X" else a for a in args]
    r = run(shell, *args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert not (tmp_path / "out").exists(), "wrote files despite bad input"
