"""`tools/dashboard/dashboard counts`: the main job's verdict (Locust 2xx per category vs Valkey)."""
import json
import subprocess

from dashenv import ROOT
from contract_keys import write_sales
from sales import make_sales

CLI = str(ROOT / "tools/dashboard/dashboard")


def run(valkey_addr, tmp_path, ok, *extra):
    f = tmp_path / "locust.json"
    f.write_text(json.dumps({"ok_by_category": ok}))
    out = tmp_path / "counts.json"
    p = subprocess.run([CLI, "counts", "--locust-results", str(f), "--valkey", valkey_addr, "--json", str(out), *extra],
                       capture_output=True, text=True, timeout=60)
    return p, json.loads(out.read_text()) if out.exists() else None


def test_exact_agreement(valkey_addr, client, tmp_path):
    reports = write_sales(client, make_sales(200))["reports"]
    p, c = run(valkey_addr, tmp_path, reports, "--drain-timeout", "5", "--stable", "1")
    assert p.returncode == 0, p.stdout
    assert "per-category agreement: EXACT" in p.stdout and c["match"] is True
    assert c["rows"][-1] == ["TOTAL", 200, 200, True]


def test_mismatch_fails_and_names_the_category(valkey_addr, client, tmp_path):
    reports = write_sales(client, make_sales(200))["reports"]
    reports["Hogar"] += 1  # one more 2xx than Valkey counted: a lost sale
    p, c = run(valkey_addr, tmp_path, reports, "--drain-timeout", "3", "--stable", "1")
    assert p.returncode == 1
    assert "MISMATCH" in p.stdout and "NO (diff -1)" in p.stdout
    rows = {r[0]: r for r in c["rows"]}
    assert rows["Hogar"][3] is False and rows["Ropa"][3] is True


def test_category_missing_in_valkey_is_a_mismatch(valkey_addr, client, tmp_path):
    p, c = run(valkey_addr, tmp_path, {"Belleza": 3})
    assert p.returncode == 1 and c["match"] is False
