#!/usr/bin/env python3
"""The Black Friday run on the bench node (`scripts/main-job --cluster`, through scripts/cluster-job,
which starts the node and pushes the images first).

    tools/cluster/job.py --out DIR [--users 20] [--duration 150] [--evidence docs/results/cluster]

1. the operator with `kubectl apply -k`, the pipeline CR (Kafka/Valkey external: the node's own)
2. Locust through the Ingress (Traefik) for --duration seconds; replicas and HPAs sampled every 3 s;
   after 20 s `grpcServer2.replicas` 2→1, then 1→2
3. after the drain: every sale Locust got a 2xx for is counted once in Valkey, per category
   (locust/reconcile.py); the writer split per pod; rust-api back at one replica
4. the dashboard: every panel query of the operator's dashboard against the node's Valkey replica
   (tools/dashboard) → DIR/dashboard.png
5. DIR/summary.txt, DIR/timeline.txt, and the report's evidence files hpa-timeline.json and
   writer-replicas.json (docs/results/README.md); with --evidence they are also written there.
Exit 0 when the counts are exact, Locust kept its failure budget, every panel had data and the HPA
scaled out and back in; 1 otherwise (the reason is printed).
Environment: NODE_* (scripts/testbed/node.sh env), OCI_REGISTRY, CLUSTER_TAG.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/cluster"))
import pipeline as bf  # noqa: E402
from kube import pod_ready  # noqa: E402

sys.path.insert(0, str(ROOT / "tools/dashboard"))
from bfdash import counts  # noqa: E402


def say(msg: str):
    print(f"    {msg}", flush=True)


def step(n: int, msg: str):
    print(f"\n==> [{time.strftime('%H:%M:%S')}] cluster {n}. {msg}", flush=True)


def run_load(out: pathlib.Path, users: int, seconds: int) -> tuple[bf.Timeline, dict, int]:
    timeline, watch = bf.Timeline(out), bf.PodWatch()
    timeline.start()
    watch.start()
    locust = subprocess.Popen(bf.locust_command(out, users, seconds), stdout=open(out / "locust.log", "w"),
                              stderr=subprocess.STDOUT, env=bf.locust_env(), cwd=ROOT)
    timeline.mark("load starts")
    try:
        time.sleep(20)
        edit = bf.edit_writers(timeline, watch)
        say(f"grpcServer2.replicas 2→1: {edit['gone']} exited {edit['exit']['exitCode']} ({edit['exit'].get('reason')}), "
            f"{edit['survivor']} stayed; 1→2 after {edit['t_back'] - edit['t_edit']:.1f} s: {edit['new']} ready")
        while locust.poll() is None:
            time.sleep(5)
            r = timeline.rows[-1] if timeline.rows else {}
            say(f"t={r.get('t', 0):5.0f}s  rust-api ready {r.get('rust-api_replicas')} (HPA cpu {r.get('rust-api_cpu_pct')}%, "
                f"desired {r.get('rust-api_desired')})  grpc-server-2 {r.get('grpc-server-2_replicas')}  "
                f"grpc-client {r.get('grpc-client_replicas')}  consumer {r.get('consumer_replicas')}")
        rc = locust.returncode
        timeline.mark(f"load ends (Locust exit {rc})")
        bf.save_pod_logs(out, "after-load")
        (out / "writer-split.json").write_text(json.dumps(writer_split(), indent=1))
        return timeline, edit, rc
    except BaseException:
        if locust.poll() is None:
            locust.terminate()
        raise
    finally:
        watch.close()


def writer_split() -> dict:
    """ProcesarVenta OK per writer pod now (pods that were deleted are not listed)."""
    out = {}
    for name in ("grpc-server-1", "grpc-server-2"):
        for p in bf.items("pods", bf.NS, f"app.kubernetes.io/name={name}"):
            if pod_ready(p):
                out[p["metadata"]["name"]] = bf.writer_ok_calls(p)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=150, help="seconds of load (at least 110: the edits need 65)")
    ap.add_argument("--evidence", help="also write hpa-timeline.json and writer-replicas.json into this folder")
    ap.add_argument("--command", default="scripts/main-job --cluster", help="the command line, for the evidence")
    a = ap.parse_args(argv)
    out = pathlib.Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    problems = []

    step(1, "the operator (kubectl apply -k config/default, image from the bench registry) and the pipeline CR")
    bf.install_operator(out)
    say("operator Available")
    p = bf.apply_pipeline(out)
    say(f"pipeline Ready=True (generation {p['metadata']['generation']}); Ingress at {bf.INGRESS}")

    step(2, f"Locust: {a.users} users for {a.duration} s through the Ingress; grpcServer2.replicas 2→1→2 after 20 s")
    timeline = None
    try:
        timeline, edit, rc = run_load(out, a.users, a.duration)
        if rc != 0:
            problems.append(f"Locust exit {rc} (log {out / 'locust.log'})")

        step(3, "drain, then every accepted sale counted once per category (locust/reconcile.py)")
        reconciled = bf.reconcile(out)
        for line in reconciled.stdout.splitlines():
            say(line)
        if reconciled.returncode != 0:
            problems.append("per-category counts do not match (counts.txt)")

        peak = max((r.get("rust-api_replicas") or 0) for r in timeline.rows)
        if peak < 2:
            problems.append(f"rust-api never had more than {peak} ready replica(s)")
        timeline.mark(f"rust-api peak ready replicas {peak}; waiting for scale-in")
        bf.wait_scale_in(timeline)
        say(f"rust-api HPA: peak {peak} ready replicas, back at 1")
    finally:
        if timeline is not None:
            timeline.finish()

    step(4, "the dashboard: every panel query against the node's Valkey replica")
    # the dashboard the operator renders for this CR, when its binary is here (scripts/images built it)
    operator = ROOT / "target/release/blackfriday-operator"
    source = ["--operator-render", str(out / "pipeline.yaml"), "--operator-bin", str(operator)] if operator.exists() else []
    say("dashboard from: " + (f"{operator.name} render -f {out / 'pipeline.yaml'}" if source
                              else "operator/assets/grafana/dashboard.json (the file the operator embeds)"))
    dash = subprocess.run(
        [str(ROOT / "tools/dashboard/dashboard"), "run", *source, "--valkey", bf.VALKEY_REPLICA,
         "--png", str(out / "dashboard.png"), "--json", str(out / "dashboard.json"), "--require-data",
         "--var", f"categoria={bf.FEATURED}", "--var", f"producto={first_product(bf.FEATURED)}"],
        env=bf.locust_env(), capture_output=True, text=True)
    for line in (dash.stdout + dash.stderr).splitlines():
        say(line)
    if dash.returncode != 0:
        problems.append("a dashboard panel had an error or no data")

    step(5, "figures and evidence")
    meta = bf.run_meta(a.command, a.users, a.duration)
    bf.write_evidence(timeline, edit, meta, out, *([pathlib.Path(a.evidence)] if a.evidence else []))
    summary = summarize(out)
    (out / "summary.txt").write_text(summary)
    print(summary, end="")
    say(f"timeline: {out / 'timeline.txt'}; dashboard image: {out / 'dashboard.png'}")
    if a.evidence:
        say(f"evidence written to {a.evidence}/hpa-timeline.json and writer-replicas.json")
    for p in problems:
        print(f"cluster job: {p}", file=sys.stderr)
    return 1 if problems else 0


def first_product(category: str) -> str:
    d = json.loads((ROOT / "locust/catalog.json").read_text())
    return next(c["products"][0]["producto_id"] for c in d["categories"] if c["categoria"].lower() == category.lower())


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip() or "unknown"


def summarize(out: pathlib.Path) -> str:
    r = json.loads((out / "locust-results.json").read_text())
    c = json.loads((out / "counts.json").read_text())
    lat = r["latency_ms"]
    hpa = json.loads((out / "hpa-timeline.json").read_text())
    w = json.loads((out / "writer-replicas.json").read_text())
    split = json.loads((out / "writer-split.json").read_text())
    # the per-category table (expected = accepted + counted in-doubt sales), as reconcile.py prints it
    rows = ["    " + line for line in counts.table([tuple(row) for row in c["rows"]])
            .replace("locust 2xx", "  expected").splitlines()]
    return "\n".join([
        f"    sales {r['sales']}  accepted {r['ok_total']}  requests {r['requests']} (retries {r['retries']})  "
        f"failed answers {r['failures']}  status {r['status_counts']}",
        f"    throughput {r['throughput_rps']} req/s over {r['elapsed_s']} s; latency ms p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']}",
        *rows,
        f"    Locust vs Valkey per category: {'EXACT' if c['match'] else 'MISMATCH'}; in doubt after every retry "
        f"{c.get('in_doubt')}; consumer lag {c.get('consumer_lag')}",
        f"    rust-api HPA: peak {hpa.get('peak_replicas')} ready replicas (samples in hpa-timeline.json)",
        f"    grpcServer2 edit: {w['terminated_pod']} exited {w['terminated_exit_code']}; 1→2 at +{w['edit_back_at_s']} s, "
        f"{w['new_pod']} ready",
        f"    ProcesarVenta OK per writer pod at the end: {split}",
    ]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
