#!/usr/bin/env python3
"""scripts/benchmarks/pipeline's summary: knee, latency, ratio to the null sink and CPU per sale per
process, median (min–max) over the repeats; optionally the results JSON and a stacked bar plot.

    tools/capacity/summarize.py RUNS_DIR [--load-at-start "L1 L5 L15"] [--save DIR]

RUNS_DIR holds one folder per run, <mode>-<config>-<repeat>/, with bf-loadgen's results.json and,
for full runs, reconcile.py's counts.json.
"""
import argparse
import datetime
import json
import pathlib
import platform
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "report"))
import collect_run  # noqa: E402

CONFIG_ORDER = ["null", "client-sink", "kafka-sink", "full"]
WHAT = {
    "null": "rust-api alone (--mode null)",
    "client-sink": "rust-api → grpc-client (--sink)",
    "kafka-sink": "… → writers ×3 (--sink: no Kafka)",
    "full": "… → Kafka → consumers ×2 → Valkey",
}
# processes in the order of the chain; anything else (a new process) is appended
GENERATORS = {"bf-loadgen", "locust"}  # the load, not the pipeline: listed, never in a total
PROC_ORDER = ["rust-api", "grpc-client", "writer-1", "writer-2", "writer-3", "kafka",
              "consumer-1", "consumer-2", "valkey-primary", "valkey-replica", "bf-loadgen", "locust"]


def load_runs(runs_dir):
    runs = []
    for d in sorted(pathlib.Path(runs_dir).iterdir()):
        res = d / "results.json"
        if not res.is_file():
            continue
        mode, rest = d.name.split("-", 1)
        cfg, rep = rest.rsplit("-", 1)
        r = json.loads(res.read_text())
        counts = d / "counts.json"
        c = json.loads(counts.read_text()) if counts.is_file() else None
        runs.append({"mode": mode, "config": cfg, "repeat": int(rep), "results": r, "counts": c,
                     "batches": batch_sizes(d)})
    return runs


def histogram_mean(files, name):
    """sum/count of the Prometheus histogram `name` over the metrics files, or None."""
    total = count = 0.0
    for f in files:
        for line in f.read_text().splitlines():
            if line.startswith(name + "_sum "):
                total += float(line.split()[1])
            elif line.startswith(name + "_count "):
                count += float(line.split()[1])
    return total / count if count else None


def counter(files, name):
    """The counter `name` summed over the metrics files, or None when no file has it."""
    total, seen = 0.0, False
    for f in files:
        for line in f.read_text().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.split()[-1])
                seen = True
    return total if seen else None


def batch_sizes(run_dir):
    """Records per produce batch (per partition, all writers) and per consumer batch (one Valkey
    call), over the whole run, from the /metrics bench-pipeline saved at its end."""
    writers = sorted(run_dir.glob("metrics-writer-*.txt"))
    consumers = sorted(run_dir.glob("metrics-consumer-*.txt"))
    requests = counter(writers, "producer_produce_requests_total")
    records = histogram_mean(writers, "producer_batch_records") and sum(
        float(line.split()[1]) for f in writers for line in f.read_text().splitlines()
        if line.startswith("producer_batch_records_sum "))
    return {"records_per_produce_request": records / requests if requests and records else None,
            "records_per_produce_batch": histogram_mean(writers, "producer_batch_records"),
            "records_per_consumer_batch": histogram_mean(consumers, "consumer_batch_records")}


def spread(values):
    """(median, min, max) of the values that are not None, or None."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


def fmt(s, digits=0):
    if s is None:
        return "–"
    med, lo, hi = s
    if len(set([round(med, digits), round(lo, digits), round(hi, digits)])) == 1:
        return f"{med:,.{digits}f}"
    return f"{med:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def knee_step(r):
    k = r.get("knee")
    return r["steps"][k["step"] - 1] if k else None


def cpu_step(r):
    """The step CPU per sale is taken from: the highest-rate step in which every sale was accepted
    (the knee, or the step that broke the p99 limit only: its sales were all served, later). On a
    busy shared machine that is often past the knee; the processes' idle CPU (Kafka's JVM above
    all) weighs less at a higher rate."""
    full = [s for s in r["steps"] if not s.get("warmup") and s["errors"] == 0 and s["ok"] > 0]
    return max(full, key=lambda s: s["offered_per_s"] or 0) if full else knee_step(r)


def summarize(runs):
    groups = {}
    for run in runs:
        groups.setdefault((run["mode"], run["config"]), []).append(run)
    rows = []
    for mode in sorted({m for m, _ in groups}, key=lambda m: ["rest", "grpc"].index(m) if m in ("rest", "grpc") else 9):
        nulls = {r["repeat"]: knee_step(r["results"]) for r in groups.get((mode, "null"), [])}
        for cfg in CONFIG_ORDER:
            rs = groups.get((mode, cfg))
            if not rs:
                continue
            knees = [knee_step(r["results"]) for r in rs]
            ratios = []
            for r, k in zip(rs, knees):
                n = nulls.get(r["repeat"])
                if k and n and n["accepted_per_s"]:
                    ratios.append(k["accepted_per_s"] / n["accepted_per_s"])
            cpus = [cpu_step(r["results"]) for r in rs]
            procs = []
            for k in cpus:
                for p in (k or {}).get("cpu_us_per_sale", {}):
                    if p not in procs:
                        procs.append(p)
            procs.sort(key=lambda p: PROC_ORDER.index(p) if p in PROC_ORDER else len(PROC_ORDER))
            cpu = {p: spread([k["cpu_us_per_sale"].get(p) if k else None for k in cpus]) for p in procs}
            totals = [sum(v for p, v in k["cpu_us_per_sale"].items() if p not in GENERATORS) if k else None for k in cpus]
            counts = [r["counts"] for r in rs if r["counts"] is not None]
            rows.append({
                "mode": mode, "config": cfg, "what": WHAT[cfg], "repeats": len(rs),
                "knee_accepted_per_s": spread([k["accepted_per_s"] if k else None for k in knees]),
                "runs_with_a_knee": sum(1 for k in knees if k),
                "knee_offered_per_s": spread([k["offered_per_s"] if k else None for k in knees]),
                "p50_ms": spread([k["latency_ms"]["p50"] if k else None for k in knees]),
                "p99_ms": spread([k["latency_ms"]["p99"] if k else None for k in knees]),
                "errors_at_knee": spread([k["errors"] if k else None for k in knees]),
                "machine_busy_cores": spread([k.get("machine_busy_cores") if k else None for k in cpus]),
                "cpu_at_offered_per_s": spread([k["offered_per_s"] if k else None for k in cpus]),
                "cpu_from": "highest step with every sale accepted",
                "ratio_to_null": spread(ratios),
                "cpu_us_per_sale": cpu,
                "cpu_us_per_sale_pipeline_total": spread(totals),
                "drain_s": spread([c.get("drain_seconds") for c in counts]),
                "exact": [bool(c.get("match")) for c in counts] if counts else None,
                "records_per_produce_request": spread([r["batches"]["records_per_produce_request"] for r in rs]),
                "records_per_produce_batch": spread([r["batches"]["records_per_produce_batch"] for r in rs]),
                "records_per_consumer_batch": spread([r["batches"]["records_per_consumer_batch"] for r in rs]),
                "sales_total": sum(r["results"]["sales"] for r in rs),
                "accepted_total": sum(r["results"]["ok_total"] for r in rs),
            })
    return rows


def print_tables(rows, out=sys.stdout):
    w = out.write
    w(f"{'mode':<5} {'configuration':<12} {'knee: accepted sales/s':>26} {'knee in':>8} {'ratio to null':>20} "
      f"{'p50 ms':>16} {'p99 ms':>20} {'drain s':>14}  exact counts\n")
    for r in rows:
        exact = "–" if r["exact"] is None else ("EXACT ×%d" % len(r["exact"]) if all(r["exact"]) else
                                               "MISMATCH in %d of %d" % (r["exact"].count(False), len(r["exact"])))
        knee_in = f"{r['runs_with_a_knee']}/{r['repeats']}"
        w(f"{r['mode']:<5} {r['config']:<12} {fmt(r['knee_accepted_per_s']):>26} {knee_in:>8} {fmt(r['ratio_to_null'], 2):>20} "
          f"{fmt(r['p50_ms'], 1):>16} {fmt(r['p99_ms'], 1):>20} {fmt(r['drain_s'], 1):>14}  {exact}\n")
    w("\n(knee in: runs with a step within the limits; the figures are over those runs)\n")
    w("\nCPU-µs per accepted sale per process (utime+stime from /proc over the step; median (min–max) "
      "over the repeats), at the highest step in which every sale was accepted (p99 may be past the limit there):\n")
    for r in rows:
        w(f"  {r['mode']} / {r['config']} ({r['what']}) at {fmt(r['cpu_at_offered_per_s'])} sales/s offered "
          f"[{r['cpu_from']}]; pipeline total without the generator {fmt(r['cpu_us_per_sale_pipeline_total'])}; "
          f"machine busy {fmt(r['machine_busy_cores'], 2)} of 2 cores\n")
        for p, s in r["cpu_us_per_sale"].items():
            w(f"      {p:<16} {fmt(s, 1):>22}\n")
        if r["records_per_produce_batch"] or r["records_per_consumer_batch"]:
            w(f"      records per produce request {fmt(r['records_per_produce_request'], 1)}, "
              f"per produce batch (per partition) {fmt(r['records_per_produce_batch'], 1)}, "
              f"per consumer batch (one Valkey call) {fmt(r['records_per_consumer_batch'], 1)} (whole run)\n")


def machine():
    model, cpus = collect_run.machine()  # the report's reader of /proc/cpuinfo
    return {"cpu_model": model if model != "unknown" else platform.processor(), "cpus": cpus,
            "kernel": platform.release()}


def commit():
    try:
        c = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return c + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels, stacks = [], {}
    for r in rows:
        labels.append(f"{r['mode']}\n{r['config']}")
    procs = []
    for r in rows:
        for p in r["cpu_us_per_sale"]:
            if p not in procs and p not in GENERATORS:
                procs.append(p)
    procs.sort(key=lambda p: PROC_ORDER.index(p) if p in PROC_ORDER else len(PROC_ORDER))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(rows)), 4.5))
    bottom = [0.0] * len(rows)
    for p in procs:
        vals = [(r["cpu_us_per_sale"].get(p) or (0, 0, 0))[0] for r in rows]
        stacks[p] = vals
        ax.bar(labels, vals, bottom=bottom, label=p)
        bottom = [b + v for b, v in zip(bottom, vals)]
    for i, r in enumerate(rows):
        k = r["knee_accepted_per_s"]
        if k:
            ax.annotate(f"{k[0]:,.0f}/s", (i, bottom[i]), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("CPU-µs per accepted sale (median)")
    ax.set_title("CPU per sale per process at the highest step with every sale accepted\n(label: accepted sales/s at the knee)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs_dir")
    ap.add_argument("--load-at-start", default="")
    ap.add_argument("--extra-flags", default="{}", help="JSON: the variant's extra flags per program")
    ap.add_argument("--conditions", default="", help="what else ran on the machine (pipeline --conditions)")
    ap.add_argument("--save", help="folder for bench-pipeline-<UTC time>.json and its plot")
    a = ap.parse_args(argv)
    runs = load_runs(a.runs_dir)
    if not runs:
        print(f"summarize: no runs in {a.runs_dir}", file=sys.stderr)
        return 1
    rows = summarize(runs)
    print_tables(rows)
    if runs[0]["results"].get("tool") == "locust":
        for r in rows:
            if r["config"] == "full":
                print(f"\nP5 ({r['mode']}): Locust through the whole pipeline / Locust against the null sink = "
                      f"{fmt(r['ratio_to_null'], 2)} (goal >= 0.5)")
    if a.save:
        now = datetime.datetime.now(datetime.timezone.utc)
        d = pathlib.Path(a.save)
        d.mkdir(parents=True, exist_ok=True)
        r0 = runs[0]["results"]
        stem = f"bench-pipeline-{r0.get('tool', 'bf-loadgen')}-{now:%Y%m%dT%H%M}Z"
        doc = {
            "date": now.isoformat(timespec="seconds"), "commit": commit(), **machine(),
            "load_average_at_start": a.load_at_start,
            "conditions": (a.conditions or "not stated (scripts/benchmarks/pipeline --conditions)") +
                          "; the load average says how busy the machine was at the start, "
                          "machine_busy_cores per step how much of the 2 cores everything used",
            "extra_flags": {k: v for k, v in json.loads(a.extra_flags).items() if v},
            "load": {"generator": "tools/loadgen (bf-loadgen, open loop)", "connections": r0["connections"],
                     "step_seconds": r0["step_seconds"], "limits": r0["limits"]},
            "summary": rows,
            "runs": [{"mode": r["mode"], "config": r["config"], "repeat": r["repeat"],
                      "knee": r["results"]["knee"], "steps": r["results"]["steps"],
                      "sales": r["results"]["sales"], "ok_total": r["results"]["ok_total"],
                      "counts": r["counts"] and {k: r["counts"].get(k) for k in ("match", "drain_seconds", "consumer_lag", "in_doubt")}}
                     for r in runs],
        }
        (d / f"{stem}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print(f"\nresults: {d / (stem + '.json')}")
        try:
            plot(rows, d / f"{stem}.png")
            print(f"plot: {d / (stem + '.png')}")
        except Exception as e:  # noqa: BLE001 - the figures are printed either way
            print(f"plot not drawn: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
