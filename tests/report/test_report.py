"""The report generator (tools/report): its verdict rule, its readers and its byte-for-byte check."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools", "report")
sys.path.insert(0, TOOLS)

from results import Spread, compare  # noqa: E402


@pytest.mark.parametrize("ref,other,higher,want", [
    ([100, 110, 120], [130, 140, 150], True, "better"),      # disjoint, higher is better
    ([100, 110, 120], [130, 140, 150], False, "worse"),      # disjoint, lower is better
    ([100, 110, 120], [80, 90, 95], True, "worse"),
    ([100, 110, 120], [80, 90, 95], False, "better"),
    ([100, 110, 120], [115, 140, 150], True, "noise"),       # ranges touch at 115–120
    ([100, 110, 120], [120, 130, 140], True, "noise"),       # sharing an end is overlap
    ([100], [200], True, "few"),                              # one run: no spread, no claim
    ([100, 101], [None, 300], True, "few"),
])
def test_verdict_only_from_non_overlapping_ranges(ref, other, higher, want):
    assert compare(Spread(ref), Spread(other), higher) == want


def test_spread_median_min_max():
    s = Spread([3, None, 1, 2])
    assert (s.n, s.median, s.min, s.max) == (3, 2, 1, 3)


BENCH_OUT = """machine: 2 cores, load average 1.00 2.00 3.00, go1.24.0
== writer: acknowledged sales/s through gRPC into Kafka (acks=all), 64 concurrent calls, 10s each, topic with 6 partitions
  grpc-server (franz-go, Produce+promise, idempotent, linger 2ms)     13864 sales/s  ok 138640   failed 0    p50 4.2ms     p99 12.5ms    max 45ms
  franz-go defaults, ProduceSync one record per call                 22224 sales/s  ok 222240   failed 0    p50 2.3ms     p99 850µs     max 1m2s
  naive: kafka-go Writer defaults, sync WriteMessages per call          66 sales/s  ok 660      failed 0    p50 1.001s    p99 1.01s     max 1.02s
"""


def run_tool(name, args, stdin=""):
    return subprocess.run([sys.executable, os.path.join(TOOLS, name)] + args, input=stdin, text=True,
                          capture_output=True)


def test_bench_go_output_names_each_writer(tmp_path):
    out = tmp_path / "w.json"
    p = run_tool("bench_go_json.py", ["--run", "2", "--out", str(out)], BENCH_OUT)
    assert p.returncode == 0, p.stderr
    d = json.loads(out.read_text())
    w = d["writers"]
    assert w["writer"]["sales_per_s"] == 13864 and w["writer"]["p50_ms"] == 4.2
    assert w["franz_go_produce_sync"]["p99_ms"] == 0.85 and w["franz_go_produce_sync"]["max_ms"] == 62000
    assert w["kafka_go_defaults"]["sales_per_s"] == 66 and w["kafka_go_defaults"]["p50_ms"] == 1001
    assert (d["run"], d["concurrency"], d["partitions"]) == (2, 64, 6)


def test_bench_go_output_missing_a_writer_is_refused(tmp_path):
    text = "\n".join(l for l in BENCH_OUT.splitlines() if "kafka-go" not in l)
    p = run_tool("bench_go_json.py", ["--run", "1", "--out", str(tmp_path / "w.json")], text)
    assert p.returncode != 0 and "kafka_go_defaults" in p.stderr
    assert not (tmp_path / "w.json").exists()


def fake_run_dir(d, match=True):
    d.mkdir()
    (d / "locust-results.json").write_text(json.dumps({
        "ok_by_category": {"Belleza": 40, "Electronica": 20, "Hogar": 20, "Ropa": 20}, "requests": 100,
        "failures": 0, "ok_total": 100, "fail_ratio": 0.0, "elapsed_s": 10.0, "ok_throughput_rps": 10.0,
        "latency_ms": {"p50": 5, "p95": 9, "p99": 12, "avg": 5.5, "max": 30}}))
    (d / "counts.json").write_text(json.dumps({"rows": [], "match": match, "drain_seconds": 0.2, "consumer_lag": 0}))
    (d / "locust-stats.json").write_text(json.dumps([{"name": "/api/v1/ventas", "response_times": {"5": 60, "9": 40}}]))
    (d / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%\n"
        "1000,5,,Aggregated,0,0,N/A,N/A\n1001,5,,Aggregated,10,0,5,9\n")
    (d / "writer-split.txt").write_text("grpc-server-1 34  grpc-server-2-a 33  grpc-server-2-b ?  \n")
    return d


def test_collect_run_keeps_the_figures(tmp_path):
    d = fake_run_dir(tmp_path / "run")
    lag = tmp_path / "lag.jsonl"
    lag.write_text('{"t": 1001.5, "lag": 7, "valkey_total": 3}\nnot json\n{"t": 1003.0, "lag": 0, "valkey_total": 100}\n')
    out = tmp_path / "r.json"
    p = run_tool("collect_run.py", ["--dir", str(d), "--series", "kafka", "--variant", "users-5", "--run", "1",
                                    "--out", str(out), "--lag", str(lag), "--valkey-cpu", "1.0", "1.5",
                                    "--replication", "role:master connected_slaves:1 slave0:ip=127.0.0.1,port=1,state=online,offset=90,lag=0 master_repl_offset:100",
                                    "--stat0", "cpu 100 0 100 800 0 0 0 0", "--stat1", "cpu 200 0 200 900 0 0 0 0"])
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert r["locust"]["ok_rps"] == 10.0 and r["counts"]["match"] is True
    assert r["latency_histogram_ms"] == {"5": 60, "9": 40}
    assert r["timeline"][1] == [1, 5.0, 10.0, 5.0, 9.0]
    assert r["lag_samples"] == [[1.5, 7, 3], [3.0, 0, 100]]
    assert r["valkey"] == {"primary_cpu_s": 0.5, "replicas": 1, "replication_bytes_behind": 10}
    assert r["machine"]["cpu_busy_pct_during_run"] == pytest.approx(66.7)
    assert r["writer_split"] == {"grpc-server-1": 34, "grpc-server-2-a": 33, "grpc-server-2-b": None}


def test_collect_run_refuses_a_run_that_lost_sales(tmp_path):
    d = fake_run_dir(tmp_path / "run", match=False)
    p = run_tool("collect_run.py", ["--dir", str(d), "--series", "kafka", "--variant", "users-5", "--run", "1",
                                    "--out", str(tmp_path / "r.json")])
    assert p.returncode != 0 and "disagree" in p.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.fixture
def tree(tmp_path):
    """A copy of what the generator reads and writes."""
    t = tmp_path / "repo"
    for rel in ("tools/report", "docs/results"):
        shutil.copytree(os.path.join(ROOT, rel), t / rel)
    (t / "docs/img").mkdir(parents=True)
    for f in os.listdir(os.path.join(ROOT, "docs/img")):
        if f.startswith("report-"):
            shutil.copy(os.path.join(ROOT, "docs/img", f), t / "docs/img" / f)
    for f in ("docs/report.md", "docs/informe-tecnico.md"):
        shutil.copy(os.path.join(ROOT, f), t / f)
    if os.path.isdir(os.path.join(ROOT, "kubernetes")):
        shutil.copytree(os.path.join(ROOT, "kubernetes"), t / "kubernetes")
    return t


def generate(t, *args):
    return subprocess.run([sys.executable, str(t / "tools/report/report.py"), "--root", str(t), *args],
                          capture_output=True, text=True)


def test_check_catches_a_changed_result(tree):
    files = sorted((tree / "docs/results/experiments/forward").glob("grpc.run*.json"))
    assert files, "no committed forward results"
    d = json.loads(files[0].read_text())
    d["locust"]["ok_rps"] = d["locust"]["ok_rps"] * 3 + 1
    files[0].write_text(json.dumps(d))
    p = generate(tree, "--check")
    assert p.returncode == 1
    assert "docs/report.md" in p.stderr and "docs/informe-tecnico.md" in p.stderr


def test_check_catches_a_hand_edit_of_the_spanish_report(tree):
    doc = tree / "docs/informe-tecnico.md"
    doc.write_text(doc.read_text().replace("Kafka", "Kafca", 1))
    p = generate(tree, "--check")
    assert p.returncode == 1 and "informe-tecnico.md" in p.stderr and "docs/report.md" not in p.stderr


def test_unknown_template_key_is_refused(tree):
    tpl = tree / "tools/report/templates/report.en.md"
    tpl.write_text(tpl.read_text() + "\n{{table:nosuchseries}}\n")
    p = generate(tree)
    assert p.returncode != 0 and "table:nosuchseries" in p.stderr


def test_both_languages_carry_the_same_figures(tree):
    p = generate(tree)
    assert p.returncode == 0, p.stderr
    import re
    es = (tree / "docs/informe-tecnico.md").read_text()
    en = (tree / "docs/report.md").read_text()
    img = lambda s: sorted(set(re.findall(r"\]\((img/report-[^)]+)\)", s)))  # noqa: E731
    assert img(es) == img(en) and img(es)
    # every number of the generated tables appears in both
    nums = lambda s: sorted(re.findall(r"\| (\d[\d ]*(?: \(\d[\d ]*–\d[\d ]*\))?) \|", s))  # noqa: E731
    assert nums(es) == nums(en)


def test_check_catches_a_stale_manifest(tree):
    files = sorted((tree / "kubernetes/deployments").glob("*.yaml"))
    assert files, "no generated kubernetes/deployments"
    files[0].write_text(files[0].read_text() + "# edited by hand\n")
    (tree / "kubernetes/deployments/hand-made.yaml").write_text("kind: Deployment\n")
    p = generate(tree, "--check")
    assert p.returncode == 1 and files[0].name in p.stderr and "hand-made.yaml" in p.stderr


def fake_vm_run(tmp_path, variant, boot):
    """A collect_run.py file of the valkey-vms series (Valkey in len(boot) VMs)."""
    vms = tmp_path / f"{variant}.vms.json"
    vms.write_text(json.dumps({"accel": "tcg", "boot_seconds": boot, "qcow2": str(tmp_path / "absent.qcow2"),
                               "qcow2_bytes": 5, "primary": "198.19.128.10:6379", "replicas": []}))
    out = tmp_path / "runs" / f"{variant}.run1.json"
    p = run_tool("collect_run.py", ["--dir", str(fake_run_dir(tmp_path / variant)), "--series", "valkey-vms",
                                    "--variant", variant, "--run", "1", "--out", str(out), "--vms", str(vms)])
    assert p.returncode == 0, p.stderr
    return out


def test_vms_evidence_one_row_per_run_and_the_main_job_kept(tmp_path):
    fake_vm_run(tmp_path, "replicas-0", {"valkey-0": 101.4})
    fake_vm_run(tmp_path, "replicas-1", {"valkey-0": 250.0, "valkey-1": 260.2})
    ev = tmp_path / "valkey-vms.json"
    mj = tmp_path / "mj"
    mj.mkdir()
    (mj / "vms.json").write_text(json.dumps({"accel": "tcg", "boot_seconds": {"valkey-0": 300, "valkey-1": 310}}))
    (mj / "summary.txt").write_text("    Locust vs Valkey per category: EXACT\n")
    p = run_tool("vms_evidence.py", ["--main-job", str(mj), "--command", "main-job --valkey-vms", "--out", str(ev)])
    assert p.returncode == 0, p.stderr
    p = run_tool("vms_evidence.py", ["--runs", str(tmp_path / "runs"), "--command", "x", "--out", str(ev)])
    assert p.returncode == 0, p.stderr
    d = json.loads(ev.read_text())
    assert [(r["variant"], r["vms"], r["boot_s"], r["exact"]) for r in d["runs"]] == [
        ("replicas-0", 1, "101", True), ("replicas-1", 2, "250 / 260", True)]
    assert d["runs"][0]["ok_rps"] == 10.0 and d["runs"][0]["p95_ms"] == 9 and d["accel"] == "tcg"
    assert d["main_job_summary"].strip().endswith("EXACT"), "the runs mode dropped the main-job part"
    assert d["main_job_boot_seconds"] == "valkey-0 300 / valkey-1 310"


def test_vms_evidence_refuses_runs_without_vms(tmp_path):
    out = tmp_path / "runs" / "replicas-0.run1.json"
    p = run_tool("collect_run.py", ["--dir", str(fake_run_dir(tmp_path / "r")), "--series", "valkey-vms",
                                    "--variant", "replicas-0", "--run", "1", "--out", str(out)])
    assert p.returncode == 0, p.stderr
    p = run_tool("vms_evidence.py", ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "v.json")])
    assert p.returncode != 0 and "replicas-0.run1" in p.stderr
    assert not (tmp_path / "v.json").exists()


def test_report_shows_the_vm_runs_and_the_main_job_summary(tree):
    ev = tree / "docs/results/vms/valkey-vms.json"
    ev.parent.mkdir(parents=True, exist_ok=True)
    ev.write_text(json.dumps({"date": "2026-11-30T17:00:00Z", "commit": "abc", "where": "here", "command": "c",
                              "accel": "tcg", "runs": [{"variant": "replicas-0", "vms": 1, "ok_rps": 12.5, "drain_s": None},
                                                       {"variant": "replicas-1", "vms": 2, "ok_rps": 11.0, "drain_s": 3.2}],
                              "main_job_summary": "    Locust vs Valkey per category: EXACT-MARK\n"}))
    p = generate(tree)
    assert p.returncode == 0, p.stderr
    for doc in ("docs/report.md", "docs/informe-tecnico.md"):
        text = (tree / doc).read_text()
        assert "| variant | vms | ok_rps | drain_s |" in text
        assert "| replicas-0 | 1 | 12.5 | — |" in text and "| replicas-1 | 2 | 11.0 | 3.2 |" in text
        assert "EXACT-MARK" in text and "| accel | tcg |" in text
        assert ("| comando | c |" if doc.endswith("tecnico.md") else "| command | c |") in text
        assert "`docs/results/vms/valkey-vms.json`)" not in text, f"{doc} still says not yet measured"


def test_kafka_figures_merge_processes_and_interpolate(tmp_path):
    """Two consumers' and two writers' /metrics texts → one set of Kafka figures; quantiles are
    interpolated inside the buckets as Prometheus' histogram_quantile does."""
    from kafka_figures import figures
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    consumer = """# TYPE consumer_accepted_to_valkey_seconds histogram
consumer_accepted_to_valkey_seconds_bucket{le="0.001"} 0
consumer_accepted_to_valkey_seconds_bucket{le="0.002"} %d
consumer_accepted_to_valkey_seconds_bucket{le="0.004"} %d
consumer_accepted_to_valkey_seconds_bucket{le="+Inf"} %d
consumer_accepted_to_valkey_seconds_sum 1
consumer_accepted_to_valkey_seconds_count %d
"""
    (metrics / "consumer-1.prom").write_text(consumer % (50, 100, 100, 100))
    (metrics / "consumer-2.prom").write_text(consumer % (0, 100, 100, 100))
    writer = 'producer_batch_records_bucket{le="+Inf"} %d\nproducer_batch_records_sum %d\nproducer_batch_records_count %d\n'
    (metrics / "grpc-server-1.prom").write_text(writer % (10, 40, 10))
    (metrics / "grpc-server-2-a.prom").write_text(writer % (30, 200, 30))
    got = figures(str(tmp_path))
    # 200 sales: 50 in (1, 2] ms, 150 in (2, 4] ms → p50 is 50 ranks into the second bucket's 150
    assert got["accepted_to_valkey_ms"]["sales"] == 200
    assert got["accepted_to_valkey_ms"]["p50"] == round(2 + 2 * (100 - 50) / 150, 1)
    assert got["accepted_to_valkey_ms"]["p99"] == round(2 + 2 * (198 - 50) / 150, 1)
    assert got["records_per_batch"] == {"mean": 6.0, "batches": 40, "records": 240}


def test_kafka_figures_empty_without_metrics(tmp_path):
    from kafka_figures import figures
    assert figures(str(tmp_path)) == {}


# ---------------------------------------------------------------- sentences and tables worded from the figures
def bare_report(tmp_path, files):
    """A Report over a results folder holding only `files` ({relative path: JSON object})."""
    from report import Report
    for rel, obj in files.items():
        p = tmp_path / "docs/results" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(obj))
    (tmp_path / "docs/results").mkdir(parents=True, exist_ok=True)
    return Report(str(tmp_path), str(tmp_path / "out"))


def hpa_file(replicas, desired, cpu):
    return {"command": "main-job --cluster", "date": "D", "users": 20, "load_seconds": 150,
            "what": "rust-api replicas, target 30 % CPU",
            "samples": [{"t_s": float(10 * i), "replicas": r, "desired": d, "cpu_percent": c}
                        for i, (r, d, c) in enumerate(zip(replicas, desired, cpu))]}


def test_hpa_summary_says_when_and_at_what_cpu_it_scaled_and_when_it_came_back(tmp_path):
    r = bare_report(tmp_path, {"cluster/hpa-timeline.json": hpa_file(
        [1, 1, 1, 2, 3, 3, 1], [0, 1, 3, 3, 3, 3, 1], [None, 20, 45, 40, 31, 5, 1])})
    es, en = r.hpa_summary("es"), r.hpa_summary("en")
    # the decision (desired 3 at t=20 s, CPU 45 % against the 30 % target), the peak and the way back
    assert "pidió 3 réplicas a los 20 s" in es and "45 % del *request* (objetivo 30 %)" in es
    assert "a los 30 s" in es and "máximo observado: 3 réplicas" in es and "volvió a 1 réplica a los 60 s" in es
    assert "asked for 3 replicas 20 s into the load" in en and "went back to 1 replica at 60 s" in en


def test_hpa_summary_when_the_replicas_never_changed(tmp_path):
    r = bare_report(tmp_path, {"cluster/hpa-timeline.json": hpa_file([1, 1, 1], [0, 1, 1], [None, 12, 18])})
    assert "no cambió" in r.hpa_summary("es") and "18 %" in r.hpa_summary("es")
    assert "pidió" not in r.hpa_summary("es")
    assert "aún no medido" in bare_report(tmp_path / "empty", {}).hpa_summary("es")


def test_writer_edit_summary_lists_each_change_of_ready_pods(tmp_path):
    r = bare_report(tmp_path, {"cluster/writer-replicas.json": {
        "command": "c", "terminated_pod": "p-1", "terminated_exit_code": 0,
        "samples": [{"t_s": -5, "replicas": 2}, {"t_s": 2.4, "replicas": 1}, {"t_s": 9, "replicas": 1},
                    {"t_s": 25.4, "replicas": 2}]}})
    es = r.writer_edit_summary("es")
    assert "2 → 1 a los 2.4 s, 1 → 2 a los 25.4 s" in es and "`p-1`" in es and "código de salida 0" in es


def kafka_run(variant, per_batch):
    return {"run": 1, "variant": variant, "kafka": {"records_per_batch": {"mean": per_batch}}}


@pytest.mark.parametrize("means,want_es,want_en", [
    ((1.0, 1.02, 1.04), "casi cada venta viaja sola", "almost every sale travels alone"),
    ((1.0, 3.5, 8.0), "de 1.00 con 5 usuarios a 8.00 con 50 usuarios", "from 1.00 at 5 users to 8.00 at 50 users"),
])
def test_records_per_batch_is_worded_from_the_measured_means(tmp_path, means, want_es, want_en):
    r = bare_report(tmp_path, {f"experiments/kafka/{v}.run1.json": kafka_run(v, m)
                               for v, m in zip(["users-5", "users-20", "users-50"], means)})
    assert want_es in r.kafka_batching("es") and want_en in r.kafka_batching("en")


def test_records_per_batch_not_measured(tmp_path):
    r = bare_report(tmp_path, {"experiments/kafka/users-5.run1.json": {"run": 1}})
    assert "aún no medido" in r.kafka_batching("es")


def cap_row(mode, config, knee, cpu, gen):
    return {"mode": mode, "config": config, "what": f"{config} (english)", "repeats": len(knee),
            "knee_accepted_per_s": knee, "p99_ms": [100] * len(knee), "cpu_us_per_sale_pipeline_total": cpu,
            "cpu_us_per_sale": {"bf-loadgen": gen}, "exact": [True] * len(knee) if config == "full" else None}


def test_capacity_table_and_rest_against_grpc_verdicts(tmp_path):
    r = bare_report(tmp_path, {"capacity/bench-pipeline-bf-loadgen-20261130T1722Z.json": {
        "date": "D", "commit": "abcdef", "cpus": 2, "load_average_at_start": "1 2 3",
        "load": {"limits": {"p99_ms": 250.0, "error_ratio": 0.001}}, "summary": [
            cap_row("rest", "null", [7000, 7000, 7000], [28, 29, 30], [24, 25, 26]),
            cap_row("rest", "full", [3000, 1500, 4000], [300, 350, 460], [26, 27, 28]),
            cap_row("grpc", "full", [2500, 2500, 2500], [200, 220, 240], [25, 26, 27])]}})
    es, en = r.capacity("es"), r.capacity("en")
    assert "límites de la rodilla: p99 ≤ 250 ms, ventas sin 2xx ≤ 0.1 %" in es, "the knee's limits come from the file"
    assert "| REST | `null`: rust-api solo (`--mode null`) | 3 | 7 000 (7 000–7 000) | 100 (100–100) | 29 (28–30) | 25 (24–26) | — | — |" in es
    assert "| gRPC | `full`: … → Kafka → consumidores ×2 → Valkey | 3 | 2 500 (2 500–2 500) |" in es and "| 3/3 |" in es
    assert "`full`: full (english)" in en, "English keeps the file's own description"
    # knee ranges overlap (1500–4000 vs 2500): noise; CPU per sale ranges do not (300–460 vs 200–240): a difference
    knee = next(l for l in en.splitlines() if "sales/s at the knee" in l)
    cpu = next(l for l in en.splitlines() if "CPU per sale:" in l)
    assert "inside the noise" in knee and "a difference" in cpu and "lower" in cpu
    assert "gRPC against REST" in cpu and "median 350 → 220 (×0.63)" in cpu


def test_capacity_ab_file_shows_its_variant_and_records_per_produce_request(tmp_path):
    row = cap_row("rest", "full", [], [440, 455, 473], [45, 46, 47])
    row["records_per_produce_request"], row["exact"] = [6.5, 5.7, 7.3], [True, True, True]
    r = bare_report(tmp_path, {"capacity/bench-pipeline-20261130T2222Z-ab-consumer-commit-1s.json": {
        "date": "D", "commit": "abcdef", "cpus": 2, "ab_what": "consumer commits once a second", "summary": [row]}})
    es, en = r.capacity("es"), r.capacity("en")
    assert "generador de carga `bf-loadgen`" in es, "an A/B file names its generator, not '?'"
    assert "Comparación A/B (texto original, en inglés): consumer commits once a second" in es
    assert "A/B comparison: consumer commits once a second" in en
    assert "| 455 (440–473) | 46 (45–47) | 6.5 (5.7–7.3) | 3/3 |" in en


def test_capacity_series_shows_the_options_it_ran_with(tmp_path):
    r = bare_report(tmp_path, {"capacity/bench-pipeline-bf-loadgen-20261201T0607Z.json": {
        "date": "D", "commit": "abcdef", "cpus": 2, "summary": [cap_row("rest", "full", [5000], [339], [28])],
        "extra_flags": {"warmup_seconds": "90 s at 3000/s", "rust-api": "--workers 1"}}})
    assert "Options of this series: rust-api `--workers 1`; warmup_seconds `90 s at 3000/s`" in r.capacity("en")
    assert "Opciones de esta serie (texto original): rust-api `--workers 1`" in r.capacity("es")


def test_missing_lists_the_absent_results_and_always_the_cloud(tmp_path):
    r = bare_report(tmp_path, {"experiments/kafka/users-5.run1.json": {"run": 1}})
    es = r.missing("es")
    assert "docs/results/cloud/run.json" in es and "docs/results/capacity" in es
    assert "docs/results/experiments/kafka`" not in es and "docs/results/experiments/valkey`" in es


def test_featured_weight_shares_come_from_the_runs(tmp_path):
    r = bare_report(tmp_path, {"experiments/kafka/users-5.run1.json": {"run": 1, "featured_weight": 3.0}})
    assert "`--featured-weight` 3" in r.featured_weight("es") and "3/6 = 50 %" in r.featured_weight("es")
    assert "1/6 = 17 %" in r.featured_weight("en")
