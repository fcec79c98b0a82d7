"""The dashboard JSON: Grafana's published schema, the project's lint, the wireframe."""
import copy
import json
import subprocess

import pytest
from dashenv import ROOT

from bfdash import lint, load

VALIDATOR = ROOT / "tools/dashboard/validate-schema.mjs"


@pytest.fixture(scope="module")
def dash():
    return load.load_dashboard_file()


def _schema(path):
    if not (ROOT / "tools/dashboard/node_modules/@grafana/schema").exists():
        pytest.fail("tools/dashboard/node_modules missing: run scripts/setup")
    return subprocess.run(["node", str(VALIDATOR), str(path)], capture_output=True, text=True)


def test_valid_against_grafana_schema():
    r = _schema(load.DASHBOARD_FILE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "is a valid Dashboard" in r.stdout


def test_schema_rejects_broken_dashboard(tmp_path, dash):
    bad = copy.deepcopy(dash)
    bad["panels"][0]["gridPos"]["x"] = "left"
    del bad["schemaVersion"]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    r = _schema(f)
    assert r.returncode == 1
    assert "/panels/0/gridPos/x must be number" in r.stderr
    assert "schemaVersion" in r.stderr


def test_generator_matches_committed_file():
    r = subprocess.run(["python3", str(ROOT / "tools/dashboard/gen_dashboard.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_contract_identity(dash):
    assert dash["uid"] == "blackfriday-ventas"
    names = {v["name"]: v for v in dash["templating"]["list"]}
    for n in ("carnet", "categoria", "producto"):
        assert names[n]["type"] == "constant"
    for p in load.all_panels(dash):
        for t in p.get("targets", []):
            assert t["datasource"] == {"type": "redis-datasource", "uid": "valkey"}


def test_lint_clean(dash):
    assert lint.lint_dashboard(dash) == []


def test_every_wireframe_panel_present(dash):
    titles = {p["title"] for p in load.all_panels(dash)}
    assert set(lint.WIREFRAME) <= titles
    assert len(lint.WIREFRAME) == 13


def test_wireframe_layout(dash):
    """Positions as in the wireframe: top-left bar beside four stats, the two bar charts below,
    then the carnet row; in the section #CARNET over the category name on the left, the two
    featured stats above the time series on the right."""
    g = {p["title"]: p["gridPos"] for p in load.all_panels(dash)}
    left = g["Producto promedio por categoría"]
    assert left["x"] == 0 and left["y"] == 0
    hi, most = g["Precio más alto registrado en general"], g["Producto más vendido registrado en general"]
    lo, least = g["Precio más bajo registrado en general"], g["Producto menos vendido registrado en general"]
    assert hi["y"] == most["y"] == 0 and hi["x"] < most["x"]
    assert lo["y"] > hi["y"] and lo["x"] == hi["x"] and least["x"] == most["x"]
    assert g["Precio promedio por categoría"]["y"] > left["y"]
    assert g["Total de reportes por categoría"]["w"] > g["Precio promedio por categoría"]["w"]
    row = g["Sección única por terminación de carnet"]
    assert row["w"] == 24 and row["y"] > g["Total de reportes por categoría"]["y"]
    carnet, name = g["#CARNET"], g["Nombre de la categoría"]
    ts = g["Variación de precio de un producto de la categoría"]
    assert carnet["x"] == name["x"] == 0 and name["y"] > carnet["y"] > row["y"]
    assert ts["x"] > 0 and ts["y"] > g["Producto más vendido por categoría asignada"]["y"]
    assert g["Producto más vendido por categoría asignada"]["x"] < g["Producto menos vendido por categoría asignada"]["x"]


@pytest.mark.parametrize("mutation,expect", [
    (lambda d: d["panels"][1].update(id=d["panels"][0]["id"]), "used more than once"),
    (lambda d: d["panels"][1]["gridPos"].update(x=0), "overlap"),
    (lambda d: d["panels"][2]["gridPos"].update(x=20), "outside the 24-column grid"),
    (lambda d: d["panels"][0]["targets"][0]["datasource"].update(uid="prometheus"), "not provisioned"),
    (lambda d: d["panels"].pop(6), "'Total de reportes por categoría' missing"),
    (lambda d: d["templating"]["list"].pop(2), "'producto' missing"),
    (lambda d: d["panels"][6]["targets"][0].update(keyName="bf:units"), "does not read bf:reports"),
    (lambda d: d["panels"][0].update(transformations=[]), "reduce seriesToRows"),
    (lambda d: d["panels"][12]["targets"][0].update(keyName="bf:series:${product}"), "$product used but not defined"),
    (lambda d: d.update(uid="other"), "uid is 'other'"),
])
def test_lint_catches(dash, mutation, expect):
    d = copy.deepcopy(dash)
    mutation(d)
    errs = lint.lint_dashboard(d)
    assert any(expect in e for e in errs), errs


def test_lint_cli_exit_codes(tmp_path, dash):
    ok = subprocess.run([str(ROOT / "tools/dashboard/dashboard"), "lint"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    d = copy.deepcopy(dash)
    d["panels"][3]["gridPos"] = dict(d["panels"][1]["gridPos"])
    f = tmp_path / "d.json"
    f.write_text(json.dumps(d))
    bad = subprocess.run([str(ROOT / "tools/dashboard/dashboard"), "lint", "--dashboard", str(f)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "overlap" in bad.stdout
