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
