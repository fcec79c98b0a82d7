"""Loading the committed result files and summarising repeated runs.

The layout under docs/results/ (docs/results/README.md):
  experiments/<series>/<variant>.run<K>.json   one main-job run of scripts/experiments
  baselines/writer.run<K>.json                 one scripts/benchmarks/go.sh --only writer run
  render/pipeline.yaml                         blackfriday-operator render -f config/samples/pipeline.yaml
  cluster/*.json, vms/*.json                   evidence other benches add (read when present)
"""
import glob
import json
import os
import re
import statistics

# series → its variants in the order of the comparison (the first is the reference)
SERIES = {
    "kafka": ["users-5", "users-20", "users-50"],
    "valkey": ["replicas-0", "replicas-1", "replicas-2"],
    "forward": ["rest", "grpc"],
    "writers": ["grpc-server-1-x1", "grpc-server-2-x2", "both-x3"],
}


def load_json(path):
    with open(path) as f:
        return json.load(f)


def experiment_runs(results_dir):
    """{series: {variant: [run, ...]}} in SERIES order; runs sorted by their number."""
    out = {}
    for series, variants in SERIES.items():
        for variant in variants:
            files = glob.glob(os.path.join(results_dir, "experiments", series, f"{variant}.run*.json"))
            runs = sorted((load_json(p) for p in files), key=lambda r: r["run"])
            if runs:
                out.setdefault(series, {})[variant] = runs
    return out


def baseline_runs(results_dir):
    files = glob.glob(os.path.join(results_dir, "baselines", "writer.run*.json"))
    return sorted((load_json(p) for p in files), key=lambda r: r["run"])


class Spread:
    """Median and min–max of one figure over repeated runs."""

    def __init__(self, values):
        self.values = [v for v in values if v is not None]
        self.n = len(self.values)
        self.median = statistics.median(self.values) if self.values else None
        self.min = min(self.values) if self.values else None
        self.max = max(self.values) if self.values else None


def compare(ref, other, higher_is_better):
    """How `other` stands against `ref` (two Spreads), decided from their ranges alone:
    'better'/'worse' only when both have ≥ 2 runs and the min–max ranges do not overlap;
    'noise' when they overlap; 'few' when a side has fewer than 2 runs (no spread known)."""
    if ref.n < 2 or other.n < 2:
        return "few"
    if other.min > ref.max:
        return "better" if higher_is_better else "worse"
    if other.max < ref.min:
        return "worse" if higher_is_better else "better"
    return "noise"


def metric(runs, path):
    """Spread of a dotted path (e.g. 'locust.latency_ms.p95') over runs."""
    vals = []
    for r in runs:
        v = r
        for k in path.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        vals.append(v)
    return Spread(vals)


def merged_histogram(runs):
    hist = {}
    for r in runs:
        for ms, n in r.get("latency_histogram_ms", {}).items():
            hist[int(ms)] = hist.get(int(ms), 0) + n
    return dict(sorted(hist.items()))


def machine_summary(all_runs):
    """Dates, commits, CPU model, cores, conditions and load over every run given."""
    runs = list(all_runs)
    if not runs:
        return None
    dates = sorted(r["date"] for r in runs)
    return {
        "n": len(runs),
        "first": dates[0], "last": dates[-1],
        "commits": sorted({r["commit"] for r in runs}),
        "uncommitted": sorted({p for r in runs for p in r.get("uncommitted_paths", [])}),
        "cpu_models": sorted({r["machine"]["cpu_model"] for r in runs}),
        "cores": sorted({r["machine"]["cores"] for r in runs}),
        "conditions": sorted({r.get("conditions", "") for r in runs if r.get("conditions")}),
        "busy": Spread([r["machine"].get("cpu_busy_pct_during_run") for r in runs]),
        "load1": Spread([float(r["machine"]["loadavg_start"][0]) for r in runs if r["machine"].get("loadavg_start")]),
        "durations": sorted({r.get("duration", "") for r in runs}),
    }


def optional(results_dir, rel):
    p = os.path.join(results_dir, rel)
    return load_json(p) if os.path.exists(p) else None


def split_yaml_docs(text):
    """The operator's render as (kind, namespace, name, yaml text) per object, in render order."""
    docs = []
    for chunk in re.split(r"(?m)^---\s*$", text):
        if not chunk.strip():
            continue
        kind = re.search(r"(?m)^kind:\s*(\S+)", chunk)
        meta = re.search(r"(?ms)^metadata:\n((?:[ ].*\n?)+)", chunk)
        name = ns = ""
        if meta:
            m = re.search(r"(?m)^  name:\s*(\S+)", meta.group(1))
            n = re.search(r"(?m)^  namespace:\s*(\S+)", meta.group(1))
            name, ns = (m.group(1) if m else ""), (n.group(1) if n else "")
        docs.append((kind.group(1) if kind else "?", ns, name, chunk.strip("\n")))
    return docs
