"""Checks of what `scripts/main-job` wrote (run by scripts/test.d/60-e2e.sh after the short main job;
BF_MAIN_JOB_OUT names its output folder)."""
from job_output import JobOutput

RUN = JobOutput("BF_MAIN_JOB_OUT", "BF_MAIN_JOB_RC", "scripts/test.d/60-e2e.sh")
pytestmark = RUN.skip
load = RUN.load
CATS = ("Electronica", "Ropa", "Hogar", "Belleza")


def test_main_job_exit_status():
    RUN.assert_exit_ok("scripts/main-job")


def test_locust_sent_sales_of_every_category_from_the_registry_catalogue():
    r = load("locust-results.json")
    assert r["catalog"]["source"] == "oci"
    assert r["catalog"]["artifact_type"] == "application/vnd.blackfriday.catalog.v1+json"
    assert set(r["ok_by_category"]) == set(CATS)
    assert r["ok_total"] > 0  # how many is a figure of the run (docs/main-job.md), not a pass mark
    assert r["exit_code"] == 0, r["verdict"]


def test_valkey_equals_locust_per_category():
    c = load("counts.json")
    r = load("locust-results.json")
    assert c["match"] is True
    rows = {row[0]: row for row in c["rows"]}
    for cat in CATS:
        _, lo, va, ok = rows[cat]
        assert lo == r["ok_by_category"][cat] == va and ok
    assert rows["TOTAL"][2] == r["ok_total"]
    assert c["drain_seconds"] is not None


def test_every_dashboard_panel_has_data():
    panels = load("dashboard.json")
    assert len(panels) == 13
    r = load("locust-results.json")
    by = {p["title"]: p for p in panels}
    for p in panels:
        assert p["error"] is None, (p["title"], p["error"])
    reports = dict(by["Total de reportes por categoría"]["bars"])
    assert {k: int(v) for k, v in reports.items()} == r["ok_by_category"]
    for t in ("Producto promedio por categoría", "Precio promedio por categoría"):
        assert set(dict(by[t]["bars"])) == set(CATS)
    for t in ("Precio más alto registrado en general", "Precio más bajo registrado en general"):
        names = [n for n, _ in by[t]["values"]]
        assert names == ["precio", "producto_id"], names
    hi = dict(by["Precio más alto registrado en general"]["values"])["precio"]
    lo = dict(by["Precio más bajo registrado en general"]["values"])["precio"]
    assert hi >= lo > 0
    feat = by["Nombre de la categoría"]["text"]
    assert feat in CATS
    for t in ("Producto más vendido por categoría asignada", "Producto menos vendido por categoría asignada"):
        (pid, units), = by[t]["values"]
        assert pid.startswith({"Electronica": "ELE", "Ropa": "ROP", "Hogar": "HOG", "Belleza": "BEL"}[feat])
        assert units >= 1
    most = by["Producto más vendido registrado en general"]["values"][0][1]
    least = by["Producto menos vendido registrado en general"]["values"][0][1]
    assert most >= least >= 1
    ts = by["Variación de precio de un producto de la categoría"]
    assert len(ts["time"]) >= 1 and ts["series"] and len(ts["series"][0][1]) == len(ts["time"])


def test_dashboard_image_written():
    png = RUN.path("dashboard.png")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 50_000
