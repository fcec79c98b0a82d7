"""The Grafana objects the operator renders (`blackfriday-operator render -f
config/samples/pipeline.yaml`), decoded and held to what Grafana and its Helm chart's sidecars read:
the datasource Secret's provisioning document against Grafana's provisioning fields, both objects
against the sidecar labels and namespace of config/platform/grafana, the dashboard against the lint.
Grafana itself does not run here (see docs/operator.md); these are its published rules."""
import copy
import os
import pathlib
import re
import subprocess

import pytest
import yaml
from dashenv import ROOT
from contract_keys import write_sales
from sales import make_sales

from bfdash import lint, load, query

SAMPLE = ROOT / "config/samples/pipeline.yaml"
VALUES = ROOT / "config/platform/grafana/values.yaml"
INSTALL = ROOT / "config/platform/grafana/install.sh"


def operator_bin():
    for p in (os.environ.get("BF_OPERATOR_BIN"), ROOT / "target/debug/blackfriday-operator",
              ROOT / "target/release/blackfriday-operator"):
        if p and pathlib.Path(p).exists():
            return pathlib.Path(p)
    if (ROOT / "operator/src/main.rs").exists():
        pytest.fail("the operator exists but is not built: cargo build -p blackfriday-operator "
                    "(scripts/test.d/50-dashboard.sh does it)")
    pytest.skip("no operator in this tree yet")


def render(tmp_path, carnet=None):
    src = SAMPLE
    if carnet:
        doc = yaml.safe_load(SAMPLE.read_text())
        doc["spec"]["grafana"]["carnet"] = carnet
        src = tmp_path / "pipeline.yaml"
        src.write_text(yaml.safe_dump(doc))
    return load.operator_render(src, operator_bin())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    return render(tmp_path_factory.mktemp("render"))


def sidecar(kind):
    """(label, value) the chart's sidecar of `kind` (datasources|dashboards) selects by, and the
    object kinds it reads."""
    conf = yaml.safe_load(VALUES.read_text())["sidecar"][kind]
    assert conf["enabled"] is True, f"sidecar.{kind} is off in {VALUES}"
    kinds = {"both": {"ConfigMap", "Secret"}, "secret": {"Secret"}, "configmap": {"ConfigMap"}}
    return conf["label"], str(conf["labelValue"]), kinds[conf.get("resource", "both")]


def release_namespace():
    """The namespace install.sh puts the Grafana release in: the sidecars watch only that one
    (values.yaml sets no searchNamespace)."""
    return re.search(r"--namespace (\S+)", INSTALL.read_text()).group(1)


def grafana_objects(objs, label):
    return [o for o in objs if label in ((o.get("metadata") or {}).get("labels") or {})]


def test_datasource_object_is_what_the_sidecar_loads(rendered):
    label, value, kinds = sidecar("datasources")
    assert "searchNamespace" not in yaml.safe_load(VALUES.read_text())["sidecar"]["datasources"]
    (obj,) = grafana_objects(rendered, label)
    assert obj["kind"] == "Secret" and obj["kind"] in kinds, "a Secret: it carries the password"
    assert obj["metadata"]["labels"][label] == value
    assert obj["metadata"]["namespace"] == release_namespace()
    (key,) = obj["data"]
    assert key.endswith((".yaml", ".yml")), "Grafana reads only YAML provisioning files"


def test_rendered_datasource_decoded(rendered):
    """The provisioning document itself, decoded: every field Grafana reads, by value."""
    (doc,) = load.datasources_from_objects(rendered)
    assert lint.lint_provisioning_schema(doc) == []
    assert lint.lint_datasources(doc) == []
    (ds,) = doc["datasources"]
    assert doc["apiVersion"] == 1
    assert ds == {
        "name": "Valkey",
        "type": "redis-datasource",
        "uid": "valkey",
        "access": "proxy",
        # the read Service, by its full name (the pods of Grafana live in another namespace)
        "url": "redis://valkey-read.valkey.svc.cluster.local:6379",
        "isDefault": False,
        "editable": False,
        "jsonData": {"client": "standalone", "poolSize": 5, "timeout": 10},
        # offline render: the operator fills in the password read from the cluster
        "secureJsonData": {"password": "<read from the password Secret at reconcile time>"},
    }


def test_dashboard_object_is_what_the_sidecar_loads(rendered):
    label, value, kinds = sidecar("dashboards")
    (obj,) = grafana_objects(rendered, label)
    assert obj["kind"] in kinds
    assert obj["metadata"]["labels"][label] == value
    assert obj["metadata"]["namespace"] == release_namespace()
    (key,) = obj["data"]
    assert key.endswith(".json")
    (dash,) = load.dashboards_from_objects(rendered)
    assert dash["uid"] == lint.UID
    # the panels query the datasource the other object provisions
    uids = {t.get("datasource", {}).get("uid") for p in load.all_panels(dash) for t in p.get("targets") or []}
    assert uids == {"valkey"}, uids


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d.update(apiVersion=2), "apiVersion"),
    (lambda d: d["datasources"][0].update(type="redis"), "type 'redis'"),
    (lambda d: d["datasources"][0].update(uid="redis"), "no datasource with uid 'valkey'"),
    (lambda d: d["datasources"][0].update(url="http://valkey:6379"), "url"),
    (lambda d: d["datasources"][0]["jsonData"].update(client="ring"), "client"),
    (lambda d: d["datasources"][0]["jsonData"].update(poolSize="5"), "poolSize"),
    (lambda d: d["datasources"].append(copy.deepcopy(d["datasources"][0])), "not unique"),
    (lambda d: d.update(datasources=[]), "non-empty"),
    (lambda d: d["datasources"][0].update(isDefault=True), "isDefault must be false"),
    (lambda d: d["datasources"][0].update(isDefault="false"), "isDefault must be bool"),
    (lambda d: d["datasources"][0].update(secureJSONData={}), "unknown field 'secureJSONData'"),
    (lambda d: d["datasources"][0].update(access="server"), "proxy and direct"),
    (lambda d: d["datasources"][0].update(orgId="1"), "orgId must be int"),
    (lambda d: d.update(delete_datasources=[]), "unknown top-level key"),
    (lambda d: d["datasources"].extend([dict(name="a", type="t", uid="a", isDefault=True),
                                        dict(name="b", type="t", uid="b", isDefault=True)]),
     "more than one default"),
])
def test_broken_provisioning_rejected(rendered, mutate, msg):
    (d,) = load.datasources_from_objects(rendered)
    d = copy.deepcopy(d)
    mutate(d)
    assert any(msg in e for e in lint.lint_datasources(d)), lint.lint_datasources(d)


def test_operator_renders_valid_provisioning(rendered):
    objs = rendered
    dss = load.datasources_from_objects(objs)
    dashes = load.dashboards_from_objects(objs)
    assert len(dss) == 1 and len(dashes) == 1
    assert lint.lint_datasources(dss[0]) == []
    # the dashboard's datasource uid is the provisioned one, and the whole lint passes against it
    assert lint.lint_dashboard(dashes[0], dss) == []
    assert load.variables(dashes[0]) == {"carnet": "202300539", "categoria": "Belleza", "producto": "BEL-001"}
    # the operator changes only the variables: panels are the committed asset's
    asset = load.load_dashboard_file()
    assert dashes[0]["panels"] == asset["panels"] and dashes[0]["uid"] == asset["uid"]


def test_operator_variables_drive_the_featured_panels(tmp_path, client):
    dash = load.dashboards_from_objects(render(tmp_path, carnet="201900016"))[0]  # last digit 6 → Hogar
    values = load.variables(dash)
    assert values["categoria"] == "Hogar" and values["producto"] == "HOG-001"
    write_sales(client, make_sales(300))
    _, results = query.run_dashboard(dash, client)
    r = {x["title"]: x for x in results}
    assert r["Nombre de la categoría"]["text"] == "Hogar" and r["#CARNET"]["text"] == "201900016"
    (pid, _), = r["Producto más vendido por categoría asignada"]["values"]
    assert pid.startswith("HOG-")
    assert r["Variación de precio de un producto de la categoría"]["series"][0][0] == "HOG-001"


def test_cli_takes_dashboard_from_operator(tmp_path, valkey_addr, client):
    write_sales(client, make_sales(100))
    p = subprocess.run([str(ROOT / "tools/dashboard/dashboard"), "run", "--operator-render", str(SAMPLE),
                        "--operator-bin", str(operator_bin()), "--valkey", valkey_addr,
                        "--png", str(tmp_path / "d.png"), "--require-data"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "carnet=202300539, categoria=Belleza, producto=BEL-001" in p.stdout
    lint_out = subprocess.run([str(ROOT / "tools/dashboard/dashboard"), "lint", "--operator-render", str(SAMPLE),
                               "--operator-bin", str(operator_bin())], capture_output=True, text=True)
    assert lint_out.returncode == 0, lint_out.stdout
