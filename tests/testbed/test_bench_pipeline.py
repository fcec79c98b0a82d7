"""scripts/benchmarks/pipeline's wiring (docs/capacity.md): its argument handling, the exact-count check
between bf-loadgen's outcome files and the existing checker (locust/reconcile.py), and the summary.

No figure is judged here (benchmarks print figures): a local HTTP server stands in for rust-api, so
the test knows which sales it stored, and the check must come out EXACT for a faithful run and
name the problem when a sale the generator saw accepted is missing.
"""
import http.server
import json
import pathlib
import subprocess
import sys
import threading
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "locust"))
sys.path.insert(0, str(ROOT / "tools/capacity"))
import reconcile  # noqa: E402
import summarize  # noqa: E402

BP = ROOT / "scripts/benchmarks/pipeline"


def bp(*args):
    return subprocess.run([str(BP), *args], capture_output=True, text=True, timeout=60)


def test_dry_run_prints_the_plan_without_grpc_client_sink():
    r = bp("--dry-run", "--modes", "rest,grpc", "--repeats", "2", "--port-base", "31500")
    assert r.returncode == 0, r.stderr
    assert "7 configuration(s) × 2 repeat(s)" in r.stdout
    assert "grpc/client-sink" not in r.stdout and "rest/client-sink" in r.stdout
    assert "rust-api 31500, grpc-client 31501" in r.stdout
    assert "nothing started" in r.stdout


def test_warm_up_runs_the_first_modes_full_pipeline_before_the_plan():
    r = bp("--dry-run", "--modes", "grpc,rest", "--configs", "null", "--warmup-seconds", "60", "--warmup-rate", "2500")
    assert r.returncode == 0, r.stderr
    assert "warm-up: grpc/full at 2500 sales/s for 60 s, unmeasured" in r.stdout
    assert "warm-up" not in bp("--dry-run").stdout


def test_program_cpus_gives_every_program_a_pods_threads():
    r = bp("--dry-run", "--program-cpus", "1", "--api-args", "--pool-max-idle-per-host 64")
    assert r.returncode == 0, r.stderr
    assert "GOMAXPROCS=1, rust-api --workers 1" in r.stdout
    assert "rust-api '--workers 1 --pool-max-idle-per-host 64'" in r.stdout


@pytest.mark.parametrize("args,message", [
    (["--modes", "http"], "--modes: rest and/or grpc"),
    (["--configs", "null,fast"], "--configs: null, client-sink, kafka-sink, full"),
    (["--rates", "1000,abc"], "--rates: comma-separated sales/s"),
    (["--repeats", "0"], "--repeats: a positive integer"),
    (["--driver", "wrk"], "--driver: loadgen or locust"),
    (["--port-base", "65530"], "--port-base: at most 65525"),
    (["--program-cpus", "0"], "--program-cpus: a positive integer"),
    (["--warmup-seconds", "1m"], "--warmup-seconds: a whole number of seconds"),
    (["--warmup-rate", "0"], "--warmup-rate: a positive integer"),
    (["--cpu-split", "5s"], "--cpu-split: whole seconds"),
    (["--bogus"], "unknown option --bogus"),
])
def test_bad_arguments_name_the_option(args, message):
    r = bp(*args, "--dry-run")
    assert r.returncode == 2
    assert message in r.stderr


class Shop(http.server.BaseHTTPRequestHandler):
    """Answers 200 and stores the sale, except every 7th key (by CRC): 503 after storing it, like a
    writer whose ack was lost (in doubt, counted). `drop` keys are answered 200 but never stored."""
    protocol_version = "HTTP/1.1"
    stored, drop, lock = {}, set(), threading.Lock()

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        with self.lock:
            if key not in self.drop:
                self.stored[key] = body["categoria"]
        status = 503 if zlib.crc32(key.encode()) % 7 == 0 else 200
        out = json.dumps({"sale_id": key, "estado": "ok"} if status == 200 else
                         {"error": "downstream_unavailable", "message": "x", "in_doubt": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


@pytest.fixture(scope="module")
def loadgen():
    """bf-loadgen in the dev profile (its dependencies are rust-api's, already built for the tests)."""
    r = subprocess.run(["cargo", "build", "-q", "-p", "bf-loadgen"], cwd=ROOT, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    return ROOT / "target/debug/bf-loadgen"


def run_loadgen(loadgen, tmp_path, drop_one):
    Shop.stored, Shop.drop = {}, set()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        if drop_one:
            Shop.drop = {"t-5"}  # the 5th sale: answered 200 (crc32("t-5") % 7 != 0) but never stored
            assert zlib.crc32(b"t-5") % 7 != 0
        r = subprocess.run([str(loadgen), "--url", f"http://127.0.0.1:{srv.server_address[1]}/api/v1/ventas",
                            "--catalog", str(ROOT / "locust/catalog.json"), "--rates", "200,400",
                            "--step-seconds", "0.5", "--warmup-seconds", "0.25", "--connections", "4",
                            "--max-error-ratio", "1", "--p99-limit-ms", "100000", "--key-prefix", "t",
                            "--results", str(tmp_path / "results.json"), "--keys", str(tmp_path / "keys.json")],
                           capture_output=True, text=True, timeout=60)
    finally:
        srv.shutdown()
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((tmp_path / "results.json").read_text()), json.loads((tmp_path / "keys.json").read_text())


def reports(stored):
    out = {}
    for cat in stored.values():
        out[cat] = out.get(cat, 0) + 1
    return out


def test_generator_outcomes_reconcile_exactly(loadgen, tmp_path):
    res, keys = run_loadgen(loadgen, tmp_path, drop_one=False)
    n_ok = sum(len(v) for v in keys["ok"].values())
    n_doubt = sum(len(v) for v in keys["in_doubt"].values())
    assert res["sales"] == 50 + 100 + 200 == n_ok + n_doubt
    assert res["ok_total"] == n_ok and n_doubt > 0, "the 503s are in doubt, the 200s accepted"
    assert [s.get("warmup") for s in res["steps"]] == [True, False, False]
    assert res["knee"]["step"] == 3 and res["knee"]["offered_per_s"] == 400
    assert len(keys["ok"]) == 4, "sales of every category of the catalogue"
    rows, problems, resolved = reconcile.reconcile(keys["ok"], keys["in_doubt"], dict(Shop.stored), reports(Shop.stored))
    assert problems == []
    assert sum(resolved.values()) == n_doubt  # the shop stored its 503s: each in-doubt sale is counted
    assert rows[-1][0] == "TOTAL" and rows[-1][1] == rows[-1][2] == res["sales"]


def test_an_accepted_sale_that_was_not_stored_is_named(loadgen, tmp_path):
    res, keys = run_loadgen(loadgen, tmp_path, drop_one=True)
    rows, problems, _ = reconcile.reconcile(keys["ok"], keys["in_doubt"], dict(Shop.stored), reports(Shop.stored))
    assert any("1 accepted sale(s) not counted" in p and "t-5" in p for p in problems), problems


def fake_run(d, name, knee_rate, cpu, exact=None):
    run = d / name
    run.mkdir(parents=True)
    step = {"offered_per_s": knee_rate, "accepted_per_s": knee_rate, "ok": 10, "errors": 0, "machine_busy_cores": 2.0,
            "latency_ms": {"p50": 2.0, "p99": 50.0}, "cpu_us_per_sale": cpu}
    (run / "results.json").write_text(json.dumps({
        "steps": [step], "knee": {"step": 1}, "sales": 10, "ok_total": 10, "connections": 8, "step_seconds": 1,
        "limits": {}}))
    if exact is not None:
        (run / "counts.json").write_text(json.dumps({"match": exact, "drain_seconds": 1.5}))


def test_summary_ratios_spread_and_count_verdicts(tmp_path):
    for rep, (null, full) in enumerate([(4000, 2000), (5000, 2000), (6000, 2400)], start=1):
        fake_run(tmp_path, f"rest-null-{rep}", null, {"rust-api": 40.0, "bf-loadgen": 60.0})
        fake_run(tmp_path, f"rest-full-{rep}", full, {"rust-api": 90.0, "kafka": 100.0 + rep, "bf-loadgen": 60.0},
                 exact=(rep != 2))
    rows = summarize.summarize(summarize.load_runs(tmp_path))
    by = {r["config"]: r for r in rows}
    assert by["null"]["knee_accepted_per_s"] == (5000, 4000, 6000)
    assert by["full"]["ratio_to_null"] == (0.4, 0.4, 0.5)
    assert by["full"]["cpu_us_per_sale_pipeline_total"] == (192.0, 191.0, 193.0), "the generator is left out"
    assert by["full"]["exact"] == [True, False, True]
    out = []
    summarize.print_tables(rows, out=type("W", (), {"write": lambda self, s: out.append(s)})())
    text = "".join(out)
    assert "MISMATCH in 1 of 3" in text and "0.40 (0.40–0.50)" in text
