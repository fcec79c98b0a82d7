#!/usr/bin/env python3
"""One main-job run of scripts/experiments → one result file (JSON) the report generator reads.

  collect_run.py --dir RUN_DIR --series S --variant V --run K --out FILE.json [--tsv results.tsv]
                 --valkey-cpu BEFORE AFTER --replication "INFO replication text"
                 --stat0 "cpu ..." --stat1 "cpu ..." --load0 "x y z" --load1 "x y z"
                 [--lag lag.jsonl] [--conditions TEXT] [--args "main-job args"]

RUN_DIR is the main job's --out (locust-results.json, counts.json, locust-stats.json,
locust_stats_history.csv, writer-split.txt). Exits 1 when Locust's 2xx per category and Valkey
disagree: a figure of a run that lost or doubled sales would mean nothing.
"""
import argparse
import csv
import datetime
import json
import os
import re
import subprocess
import sys

import kafka_figures


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return model, os.cpu_count()


def git_commit(root):
    """HEAD, with "+uncommitted" when tracked files outside docs/ differ from it (results and docs are
    written by this very run; only code changes make the commit inexact)."""
    sha, dirty = git_state(root)
    return sha + ("+uncommitted" if dirty else "")


def git_state(root):
    try:
        sha = subprocess.check_output(["git", "-C", root, "rev-parse", "--short=12", "HEAD"], text=True).strip()
        dirty = subprocess.check_output(["git", "-C", root, "diff", "--name-only", "HEAD", "--", ".", ":(exclude)docs"],
                                        text=True).split()
        return sha, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", []


def busy_pct(stat0, stat1):
    """Machine-wide CPU busy share between two `cpu ...` lines of /proc/stat (all cores, all
    processes): how much else was running next to the measured pipeline."""
    a = [int(x) for x in stat0.split()[1:]]
    b = [int(x) for x in stat1.split()[1:]]
    d = [y - x for x, y in zip(a, b)]
    total = sum(d[:8]) or 1
    idle = d[3] + (d[4] if len(d) > 4 else 0)
    return round(100.0 * (total - idle) / total, 1)


def histogram(stats_json):
    """Locust's response-time histogram (rounded ms → count), all request names together."""
    hist = {}
    try:
        entries = json.load(open(stats_json))
    except (OSError, ValueError):
        return {}
    for e in entries if isinstance(entries, list) else []:
        for ms, n in (e.get("response_times") or {}).items():
            k = str(int(float(ms)))
            hist[k] = hist.get(k, 0) + int(n)
    return dict(sorted(hist.items(), key=lambda kv: int(kv[0])))


def timeline(history_csv):
    """[seconds since the first row, users, req/s, p50 ms, p95 ms] of Locust's aggregated history."""
    rows = []
    try:
        with open(history_csv) as f:
            for r in csv.DictReader(f):
                if r.get("Name") != "Aggregated":
                    continue
                num = lambda k: float(r[k]) if r.get(k) not in (None, "", "N/A") else None
                rows.append([int(r["Timestamp"]), num("User Count"), num("Requests/s"), num("50%"), num("95%")])
    except OSError:
        return []
    if not rows:
        return []
    t0 = rows[0][0]
    return [[t - t0] + rest for t, *rest in rows]


def lag_samples(path, t_load0):
    out = []
    if not path or not os.path.exists(path):
        return out
    for line in open(path):
        try:
            s = json.loads(line)
        except ValueError:
            continue
        out.append([round(s["t"] - t_load0, 1), s["lag"], s["valkey_total"]])
    return out


def main():
    ap = argparse.ArgumentParser()
    for k in ("dir", "series", "variant", "out"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--tsv")
    ap.add_argument("--valkey-cpu", nargs=2, type=float, default=(0.0, 0.0))
    ap.add_argument("--replication", default="")
    ap.add_argument("--stat0", default="")
    ap.add_argument("--stat1", default="")
    ap.add_argument("--load0", default="")
    ap.add_argument("--load1", default="")
    ap.add_argument("--lag")
    ap.add_argument("--conditions", default="")
    ap.add_argument("--args", default="")
    ap.add_argument("--users", type=int)
    ap.add_argument("--duration", default="")
    ap.add_argument("--featured-weight", type=float, default=2.0)
    a = ap.parse_args()

    r = json.load(open(os.path.join(a.dir, "locust-results.json")))
    c = json.load(open(os.path.join(a.dir, "counts.json")))
    if not c["match"]:
        sys.exit(f"experiments: {a.series}/{a.variant}: Locust and Valkey disagree; its figures are not usable")
    repl = a.replication
    lags = [int(m) for m in re.findall(r"slave\d+:[^ ]*offset=(\d+)", repl)]
    m = re.search(r"master_repl_offset:(\d+)", repl)
    master = int(m.group(1)) if m else 0
    split = {}
    try:
        for name, n in re.findall(r"(\S+) (\d+|\?)", open(os.path.join(a.dir, "writer-split.txt")).read()):
            split[name] = int(n) if n.isdigit() else None
    except OSError:
        pass
    hist_rows = timeline(os.path.join(a.dir, "locust_stats_history.csv"))
    t_load0 = None
    try:
        with open(os.path.join(a.dir, "locust_stats_history.csv")) as f:
            first = next((row for row in csv.DictReader(f) if row.get("Name") == "Aggregated"), None)
            t_load0 = int(first["Timestamp"]) if first else None
    except OSError:
        pass
    model, cores = machine()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = {
        "schema": "blackfriday.experiment-run/v1",
        "series": a.series, "variant": a.variant, "run": a.run,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(root), "uncommitted_paths": git_state(root)[1],
        "machine": {"cpu_model": model, "cores": cores,
                    "loadavg_start": a.load0.split()[:3], "loadavg_end": a.load1.split()[:3],
                    "cpu_busy_pct_during_run": busy_pct(a.stat0, a.stat1) if a.stat0 and a.stat1 else None},
        "conditions": a.conditions,
        "main_job_args": a.args,
        "users": a.users, "duration": a.duration, "featured_weight": a.featured_weight,
        "locust": {
            "requests": r["requests"], "ok": r["ok_total"], "failures": r["failures"],
            "fail_ratio": r["fail_ratio"], "elapsed_s": r["elapsed_s"],
            "ok_rps": r["ok_throughput_rps"], "latency_ms": r["latency_ms"],
            "ok_by_category": r["ok_by_category"],
        },
        "latency_histogram_ms": histogram(os.path.join(a.dir, "locust-stats.json")),
        "timeline": hist_rows,
        "counts": {"match": c["match"], "drain_seconds": c.get("drain_seconds"), "consumer_lag_end": c.get("consumer_lag")},
        "valkey": {"primary_cpu_s": round(a.valkey_cpu[1] - a.valkey_cpu[0], 2),
                   "replicas": len(re.findall(r"slave\d+:", repl)),
                   "replication_bytes_behind": max((master - o for o in lags), default=0)},
        "writer_split": split,
        "kafka": kafka_figures.figures(a.dir),
        "lag_samples": lag_samples(a.lag, t_load0) if t_load0 else [],
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    if a.tsv:
        row = dict(series=a.series, variant=a.variant, run=a.run, rps=r["ok_throughput_rps"],
                   p50=r["latency_ms"]["p50"], p95=r["latency_ms"]["p95"], p99=r["latency_ms"]["p99"],
                   fail=r["fail_ratio"], drain=None if c.get("drain_seconds") is None else round(c["drain_seconds"], 2),
                   valkey_cpu=result["valkey"]["primary_cpu_s"], replicas=result["valkey"]["replicas"],
                   repl_behind=result["valkey"]["replication_bytes_behind"])
        with open(a.tsv, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
