"""scripts/benchmarks/ab, the A/B driver of docs/capacity.md ("The commands"), and its summary
tools/capacity/ab.py.

The driver runs against the bench's real Kafka broker (it reads its pid, snapshots its threads)
with a recorder in the pipeline's place (AB_PIPELINE): the recorder writes what it was given and a
results.json whose CPU figures follow the variant's flags, so the test sees the rounds' order,
which flags and environment reached which run, and the verdict the summary draws from them.
"""
import json
import os
import pathlib
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools", "capacity"))
import ab  # noqa: E402

AB = pathlib.Path(ROOT) / "scripts" / "benchmarks" / "ab"

# The recorder: appends "<variant dir> <GOGC> <args>" to $AB_LOG and writes one run whose
# rust-api cost is 50 µs per sale with `--api-args --cheap`, else 100 (+ the round, as spread).
RECORDER = r'''#!/usr/bin/env python3
import json, os, pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("--out") + 1])
with open(os.environ["AB_LOG"], "a") as log:
    log.write(f"{out.parent.name}/{out.name} GOGC={os.environ.get('GOGC', '-')} {' '.join(args)}\n")
rnd = int(out.parent.name.rsplit("-", 1)[1]) if out.name == "pipeline" else 0
cheap = "--api-args" in args and args[args.index("--api-args") + 1] == "--cheap"
rust_api = (50.0 if cheap else 100.0) + rnd
run = out / "runs" / "rest-full-1"
run.mkdir(parents=True, exist_ok=True)
step = {"offered_per_s": 3000, "accepted_per_s": 3000, "ok": 30000, "errors": 0,
        "latency_ms": {"p50": 2.0, "p99": 9.0},
        "cpu_us_per_sale": {"rust-api": rust_api, "writer-1": 10.0, "writer-2": 11.0, "kafka": 40.0,
                            "bf-loadgen": 30.0}}
(run / "results.json").write_text(json.dumps({"steps": [step], "knee": {"step": 1, "accepted_per_s": 3000},
                                              "sales": 30000, "ok_total": 30000}))
(run / "counts.json").write_text(json.dumps({"match": True, "drain_seconds": 0.1}))
print("counts: EXACT")
'''


def run_ab(tmp_path, *args):
    recorder = tmp_path / "pipeline"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    log = tmp_path / "calls.log"
    env = dict(os.environ, AB_PIPELINE=str(recorder), AB_LOG=str(log))
    p = subprocess.run([str(AB), "--out", str(tmp_path / "out"), *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    calls = log.read_text().splitlines() if log.exists() else []
    return p, calls


def test_rounds_alternate_and_each_variant_gets_its_own_flags_and_environment(tmp_path):
    p, calls = run_ab(tmp_path, "--rounds", "2", "--warmup-seconds", "5",
                      "base", "cheap;--api-args=--cheap;GOGC=400",
                      "--", "--modes", "rest", "--configs", "full", "--rates", "3000", "--no-build")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    # one warm-up on the shared broker, then A B, B A
    assert [c.split()[0] for c in calls] == ["out/warmup", "base-1/pipeline", "cheap-1/pipeline",
                                             "cheap-2/pipeline", "base-2/pipeline"], calls
    warm, base1, cheap1 = calls[0], calls[1], calls[2]
    assert "--warmup-seconds 5" in warm and "--configs full --repeats 1" in warm
    assert "--api-args --cheap" in cheap1 and "GOGC=400" in cheap1
    assert "--api-args" not in base1 and "GOGC=-" in base1 and "--warmup-seconds" not in base1
    assert "--modes rest --configs full --rates 3000 --no-build" in base1
    # the summary: totals 162-163 (rust-api 100 + round, writers 21, kafka 40) against 112-113
    # (rust-api 50 + round) → apart by -31 %, the baseline (first on the command line) first
    assert "cheap at 3,000/s: apart: -31 % (112 against 162)" in p.stdout, p.stdout
    assert p.stdout.index("\nbase (") < p.stdout.index("\ncheap (")
    assert "writers 21" in p.stdout, "the writer processes are summed into one group"
    # the real broker's threads were snapshotted around every measured run
    for d in ("base-1", "cheap-2"):
        assert (tmp_path / "out" / d / "threads-after.json").is_file()
        assert "kafka" in (tmp_path / "out" / d / "cmdline").read_text().lower()


def test_bad_variants_are_refused_before_anything_runs(tmp_path):
    for args, message in [
        (["a;oops", "--", "--no-build"], "'oops' is neither --flag=value nor VAR=value"),
        (["a", "a", "--", "--no-build"], "variant 'a' is named twice"),
        (["a b", "--", "--no-build"], "variant name 'a b'"),
        (["a", "--no-build"], "unknown option --no-build"),
        (["a"], "'--' and the pipeline's arguments are missing"),
        (["--rounds", "0", "a", "--"], "--rounds: a positive integer"),
    ]:
        p, calls = run_ab(tmp_path, *args)
        assert p.returncode == 2 and message in p.stderr, (args, p.stderr)
        assert calls == []


def test_verdict_needs_the_ranges_apart():
    assert ab.verdict((300, 290, 310), (280, 270, 289)) == "apart: -7 % (280 against 300)"
    assert ab.verdict((300, 290, 310), (295, 280, 305)) == "overlap: no finding"
    assert ab.verdict((300, 290, 310), None) == "–"
