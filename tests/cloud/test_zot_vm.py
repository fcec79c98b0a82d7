"""The Zot VM: its cloud-init (Debian's `cloud-init schema` + the boot order that made the old one
fail), its config.json (zot's own config fields, config/cloud/zot/config.schema.json), and its TLS
certificate (SANs = the names nodes and the laptop use)."""
import base64
import copy
import json
import re
import subprocess

import jsonschema
import pytest
import yaml

from conftest import ROOT, sh

ZOT = ROOT / "config/cloud/zot"
CONFIG = json.loads((ZOT / "config.json").read_text())
SCHEMA = json.loads((ZOT / "config.schema.json").read_text())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    d = tmp_path_factory.mktemp("zotvm")
    sh([str(ZOT / "tls.sh"), "--out", str(d / "tls"), "--dns", "zot.blackfriday.internal", "--ip", "198.18.0.7"])
    (d / "htpasswd").write_text("ci:$2y$05$abcdefghijklmnopqrstuv\ncluster:$2y$05$abcdefghijklmnopqrstuv\n")
    sh([str(ZOT / "render-cloud-init.sh"), "--htpasswd", str(d / "htpasswd"), "--tls-dir", str(d / "tls"),
        "--out", str(d / "user-data.yaml")])
    return d


def cloud_init_schema(path):
    return subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("which", ["template", "rendered"])
def test_cloud_init_schema(which, rendered):
    path = ZOT / "cloud-init.yaml" if which == "template" else rendered / "user-data.yaml"
    r = cloud_init_schema(path)
    assert r.returncode == 0 and "Valid cloud-config" in r.stdout, r.stdout + r.stderr


def test_cloud_init_schema_check_can_fail(tmp_path):
    """The check is not a rubber stamp: a wrong type is refused."""
    doc = yaml.safe_load((ZOT / "cloud-init.yaml").read_text())
    doc["write_files"][0]["permissions"] = 644          # must be a string
    doc["users"][1]["system"] = "yes"                    # must be a boolean
    bad = tmp_path / "bad.yaml"
    bad.write_text("#cloud-config\n" + yaml.safe_dump(doc))
    assert cloud_init_schema(bad).returncode != 0


def files_of(path):
    doc = yaml.safe_load(path.read_text())
    out = {}
    for f in doc["write_files"]:
        content = f["content"]
        if f.get("encoding") == "b64" and not re.fullmatch(r"@[A-Z_0-9]+@", content):
            content = base64.b64decode(content).decode()
        out[f["path"]] = (content, f.get("permissions"))
    return doc, out


def test_rendered_files_are_the_repo_files(rendered):
    _, files = files_of(rendered / "user-data.yaml")
    assert json.loads(files["/etc/zot/config.json"][0]) == CONFIG
    assert files["/etc/zot/htpasswd"][0] == (rendered / "htpasswd").read_text()
    assert files["/etc/zot/tls/server.crt"][0] == (rendered / "tls/server.crt").read_text()
    assert files["/etc/zot/tls/server.key"][1] == "0600"
    assert files["/etc/zot/htpasswd"][1] == "0600"
    assert not re.search(r"@[A-Z_0-9]+@", (rendered / "user-data.yaml").read_text())


def test_boot_order_default_user_and_ownership():
    doc, files = files_of(ZOT / "cloud-init.yaml")
    # defect 3: a login user on EC2/GCE, and the zot system user
    assert "default" in doc["users"]
    zot_user = [u for u in doc["users"] if isinstance(u, dict) and u["name"] == "zot"][0]
    assert zot_user["system"] is True
    # every file zot serve reads is written by write_files (which runs before runcmd), so
    # `zot verify` has the config, the htpasswd and the TLS pair it names
    for path in [CONFIG["http"]["tls"]["cert"], CONFIG["http"]["tls"]["key"], CONFIG["http"]["auth"]["htpasswd"]["path"]]:
        assert path in files, f"{path} (named by config.json) is not written by cloud-init"
    assert "/etc/zot/config.json" in files
    script = "\n".join(c[-1] if isinstance(c, list) else c for c in doc["runcmd"])
    assert script.lstrip().startswith("set -eu"), "runcmd must stop at the first failure"
    order = [script.index(s) for s in [
        "chown -R zot:zot /etc/zot /var/lib/zot /var/log/zot",
        "chmod 0600 /etc/zot/htpasswd /etc/zot/tls/server.key",
        "runuser -u zot -- /usr/local/bin/zot verify /etc/zot/config.json",
        "systemctl enable --now zot"]]
    assert order == sorted(order), "ownership, then verify as zot, then enable"
    unit = files["/etc/systemd/system/zot.service"][0]
    assert "User=zot" in unit and "ExecStart=/usr/local/bin/zot serve /etc/zot/config.json" in unit
    for d in [CONFIG["storage"]["rootDirectory"], "/var/log/zot"]:
        assert d in script


def test_zot_config_matches_zot_fields():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(CONFIG, SCHEMA)


@pytest.mark.parametrize("mutate", [
    lambda c: c["http"].__setitem__("acessControl", c["http"].pop("accessControl")),   # typo
    lambda c: c["storage"].__setitem__("gcDelay", "2 hours"),                           # not a Go duration
    lambda c: c["http"]["accessControl"]["repositories"]["**"]["policies"][0]["actions"].append("write"),
    lambda c: c["extensions"].__setitem__("serach", {"enable": True}),
    lambda c: c["http"].__setitem__("port", 5000),                                      # zot wants a string
])
def test_zot_config_schema_refuses_what_zot_would_ignore_or_reject(mutate):
    bad = copy.deepcopy(CONFIG)
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_zot_access_policy():
    """defect 2: the add-on images (mirror/**) are readable without credentials, nothing else is."""
    repos = CONFIG["http"]["accessControl"]["repositories"]
    assert repos["mirror/**"]["anonymousPolicy"] == ["read"]
    for pattern, group in repos.items():
        if pattern != "mirror/**":
            assert not group.get("anonymousPolicy"), f"{pattern} must not be anonymous"
    users = {u for g in repos.values() for p in g.get("policies", []) for u in p["users"]}
    assert users == {"ci", "cluster"}                       # lib.sh zot_credentials makes exactly these
    assert "docker2s2" in CONFIG["http"]["compat"]
    assert CONFIG["http"]["port"] == "5000"


def tls(tmp_path, *args):
    return sh([str(ZOT / "tls.sh"), "--out", str(tmp_path), *args], check=False)


def sans(cert):
    out = sh(["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"]).stdout
    return sorted(re.findall(r"(DNS:[^,\s]+|IP Address:[^,\s]+)", out))


def test_tls_sans_and_chain(tmp_path):
    assert tls(tmp_path, "--dns", "zot.blackfriday.internal", "--ip", "198.18.0.9").returncode == 0
    assert sans(tmp_path / "server.crt") == ["DNS:zot.blackfriday.internal", "IP Address:198.18.0.9"]
    sh(["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "server.crt")])
    ca = (tmp_path / "ca.crt").read_bytes()
    # a new address: the server certificate is re-issued, the CA (trusted by the nodes) is kept
    assert tls(tmp_path, "--dns", "zot.blackfriday.internal", "--ip", "198.18.0.10").returncode == 0
    assert sans(tmp_path / "server.crt") == ["DNS:zot.blackfriday.internal", "IP Address:198.18.0.10"]
    assert (tmp_path / "ca.crt").read_bytes() == ca
    assert oct((tmp_path / "server.key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("args,needle", [([], "--dns"), (["--dns", "z", "--ip", "10.0.0.300x"], "--ip")])
def test_tls_bad_input(tmp_path, args, needle):
    r = tls(tmp_path, *args)
    assert r.returncode == 2 and needle in r.stderr
