#!/usr/bin/env python3
"""The text `scripts/benchmarks/go.sh --only writer` prints → one result file (JSON).

  scripts/benchmarks/go.sh --only writer | tee w.log;  bench_go_json.py --run K --out FILE.json < w.log

Each writer line of the benchmark reads
  <name>   <rate> sales/s  ok <n>  failed <n>  p50 <go duration>  p99 <go duration>  max <go duration>
and the names say which is which: the grpc-server (our writer), franz-go defaults with ProduceSync per
call (the library's own fair baseline) and kafka-go Writer defaults with a sync WriteMessages per
call (what peers shipped). Exits 1 when a line is missing, so a changed output format is noticed.
"""
import argparse
import json
import re
import sys

from collect_run import git_commit, machine, os  # one definition of the run metadata

LINE = re.compile(r"^\s+(?P<name>\S.*?)\s+(?P<rate>[\d.]+) sales/s\s+ok (?P<ok>\d+)\s+failed (?P<failed>\d+)\s+"
                  r"p50 (?P<p50>\S+)\s+p99 (?P<p99>\S+)\s+max (?P<max>\S+)", re.M)
HEAD = re.compile(r"== writer: .*?, (?P<conc>\d+) concurrent calls, (?P<dur>\S+) each, topic with (?P<parts>\d+) partitions")
KINDS = (("writer", re.compile(r"^grpc-server")), ("franz_go_produce_sync", re.compile(r"^franz-go defaults")),
         ("kafka_go_defaults", re.compile(r"^naive: kafka-go")))
UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def go_ms(d):
    """A Go time.Duration string (1.5ms, 850µs, 1m2.5s) in milliseconds."""
    total = 0.0
    for num, unit in re.findall(r"([\d.]+)(ns|µs|us|ms|s|m|h)", d):
        total += float(num) * UNITS[unit]
    return round(total, 3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--conditions", default="")
    a = ap.parse_args()
    text = sys.stdin.read()
    head = HEAD.search(text)
    load = re.search(r"load average ([\d.]+ [\d.]+ [\d.]+)", text)
    writers = {}
    for m in LINE.finditer("\n".join(l for l in text.splitlines())):
        for kind, rx in KINDS:
            if rx.search(m.group("name")):
                writers[kind] = {"name": m.group("name"), "sales_per_s": float(m.group("rate")),
                                 "ok": int(m.group("ok")), "failed": int(m.group("failed")),
                                 "p50_ms": go_ms(m.group("p50")), "p99_ms": go_ms(m.group("p99")),
                                 "max_ms": go_ms(m.group("max"))}
    missing = [k for k, _ in KINDS if k not in writers]
    if missing or not head:
        sys.exit(f"bench_go_json: the benchmark output lacks {missing or 'its header line'}")
    model, cores = machine()
    import datetime
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = {"schema": "blackfriday.writer-bench/v1", "run": a.run,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "commit": git_commit(root), "conditions": a.conditions,
              "machine": {"cpu_model": model, "cores": cores, "loadavg_start": load.group(1).split() if load else []},
              "concurrency": int(head.group("conc")), "duration": head.group("dur"), "partitions": int(head.group("parts")),
              "command": "scripts/benchmarks/go.sh --only writer", "writers": writers}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
