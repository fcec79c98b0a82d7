#!/usr/bin/env python3
"""The cluster suite's timelines as report evidence (docs/results/README.md, `cluster/*.json`).

    python3 tools/report/cluster_evidence.py out/test/cluster docs/results/cluster

Reads what tests/cluster/test_cluster.py wrote during a run of scripts/test.d/80-cluster.sh on the
bench node — `replicas.csv` (every 3 s: ready replicas per Deployment, the HPA-observed CPU),
`events.json` (the test's marks: load start, the grpcServer2 edits) and `hpa-timeline.txt` (real
`kubectl get hpa` output) — and writes `hpa-timeline.json` (rust-api under load) and
`writer-replicas.json` (grpc-server-2 around the 2→1→2 edit) with the date, commit and command.
Nothing is computed that the run did not observe: each sample is a row of the CSV.
"""
import csv
import json
import os
import pathlib
import subprocess
import sys

COMMAND = "scripts/test --only 80-cluster (tests/cluster/test_cluster.py on the bench node)"


def _num(v):
    if v in (None, "", "None"):
        return None
    f = float(v)
    return int(f) if f.is_integer() else f


def _mark(events, prefix):
    for t, what in events:
        if what.startswith(prefix):
            return float(t)
    raise SystemExit(f"cluster_evidence: no '{prefix}' mark in events.json")


def _kubectl_excerpt(text, t_from, max_blocks=6):
    """The `kubectl get hpa` blocks from the load start on, at most max_blocks, evenly spread."""
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith("--- t=") and cur:
            blocks.append(cur)
            cur = []
        cur.append(line)
    if cur:
        blocks.append(cur)
    timed = [b for b in blocks if not b[0].split("s", 1)[1].strip().startswith(("load", "grpc", "*"))]
    timed = [b for b in timed if float(b[0][6:].split("s", 1)[0]) >= t_from] or timed
    step = max(1, len(timed) // max_blocks)
    return "\n".join("\n".join(b) for b in timed[::step][:max_blocks])


def main(src, dst):
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    rows = list(csv.DictReader(open(src / "replicas.csv")))
    events = json.loads((src / "events.json").read_text())
    if not rows:
        raise SystemExit("cluster_evidence: replicas.csv has no samples")
    load = _mark(events, "load starts")
    edit = _mark(events, "grpcServer2.replicas 2->1")
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            cwd=os.path.dirname(__file__)).stdout.strip()
    date = os.environ.get("BF_RESULT_DATE") or subprocess.run(
        ["date", "-u", "+%Y-%m-%dT%H:%M:%SZ", "-r", str(src / "replicas.csv")],
        capture_output=True, text=True).stdout.strip()
    common = {"date": date, "commit": commit, "where": "cluster bench node (scripts/bench/node.sh)",
              "command": COMMAND}
    hpa = [{"t_s": round(float(r["t"]) - load, 1), "replicas": _num(r.get("rust-api_replicas")),
            "cpu_percent": _num(r.get("rust-api_cpu_pct"))} for r in rows]
    writers = [{"t_s": round(float(r["t"]) - edit, 1), "replicas": _num(r.get("grpc-server-2_replicas"))}
               for r in rows]
    marks = "; ".join(f"{float(t) - load:.0f} s {what}" for t, what in events)
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "hpa-timeline.json").write_text(json.dumps({
        **common, "max_replicas_seen": max(s["replicas"] or 0 for s in hpa),
        "marks (s after load start)": marks,
        "kubectl": _kubectl_excerpt((src / "hpa-timeline.txt").read_text(), load),
        "samples": hpa}, indent=1) + "\n")
    (dst / "writer-replicas.json").write_text(json.dumps({
        **common, "marks (s after load start)": marks, "samples": writers}, indent=1) + "\n")
    print(f"cluster_evidence: {len(rows)} samples -> {dst}/hpa-timeline.json, writer-replicas.json")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
