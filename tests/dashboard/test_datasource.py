"""The datasource provisioning and the dashboard as the operator renders them
(`blackfriday-operator render -f config/samples/pipeline.yaml`), and the expected provisioning shape."""
import copy
import os
import pathlib
import subprocess

import pytest
import yaml
from dashenv import ROOT
from contract_keys import write_sales
from sales import make_sales

from bfdash import lint, load, query

EXPECTED = pathlib.Path(__file__).with_name("datasource.expected.yaml")
SAMPLE = ROOT / "config/samples/pipeline.yaml"


def operator_bin():
    for p in (os.environ.get("BF_OPERATOR_BIN"), ROOT / "target/debug/blackfriday-operator",
              ROOT / "target/release/blackfriday-operator"):
        if p and pathlib.Path(p).exists():
            return pathlib.Path(p)
    if (ROOT / "operator/src/main.rs").exists():
        pytest.fail("the operator exists but is not built: cargo build -p blackfriday-operator "
                    "(scripts/test.d/50-dashboard.sh does it)")
    pytest.skip("no operator in this tree yet")


def test_expected_shape_is_valid():
    assert lint.lint_datasources(yaml.safe_load(EXPECTED.read_text())) == []


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d.update(apiVersion=2), "apiVersion"),
    (lambda d: d["datasources"][0].update(type="redis"), "type 'redis'"),
    (lambda d: d["datasources"][0].update(uid="redis"), "no datasource with uid 'valkey'"),
    (lambda d: d["datasources"][0].update(url="http://valkey:6379"), "url"),
    (lambda d: d["datasources"][0]["jsonData"].update(client="ring"), "client"),
    (lambda d: d["datasources"][0]["jsonData"].update(poolSize="5"), "poolSize"),
    (lambda d: d["datasources"].append(copy.deepcopy(d["datasources"][0])), "not unique"),
    (lambda d: d.update(datasources=[]), "non-empty"),
])
def test_broken_provisioning_rejected(mutate, msg):
    d = yaml.safe_load(EXPECTED.read_text())
    mutate(d)
    assert any(msg in e for e in lint.lint_datasources(d)), lint.lint_datasources(d)


def render(tmp_path, carnet=None):
    src = SAMPLE
    if carnet:
        doc = yaml.safe_load(SAMPLE.read_text())
        doc["spec"]["grafana"]["carnet"] = carnet
        src = tmp_path / "pipeline.yaml"
        src.write_text(yaml.safe_dump(doc))
    return load.operator_render(src, operator_bin())


def test_operator_renders_valid_provisioning(tmp_path):
    objs = render(tmp_path)
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
