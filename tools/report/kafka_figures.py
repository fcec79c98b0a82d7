#!/usr/bin/env python3
"""The Kafka tier's own figures of one main-job run, from the /metrics text the job saved of every
writer and consumer process (RUN_DIR/metrics/*.prom):

  accepted_to_valkey_ms  p50/p95/p99 of consumer_accepted_to_valkey_seconds: from the writer
                         accepting a sale (its accepted-at header) to the sale counted in Valkey,
                         all consumers together (quantiles interpolated inside the buckets, the
                         way Prometheus' histogram_quantile does)
  records_per_batch      mean of producer_batch_records: records per produce batch written to a
                         partition, all writer processes together

  kafka_figures.py RUN_DIR [--json FILE]   prints one summary line; --json also writes the object
                                           (collect_run.py stores it per run)
"""
import argparse
import glob
import json
import math
import os
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)')
LE = re.compile(r'le="([^"]+)"')


def histogram(texts, name):
    """Merged cumulative buckets [(upper bound, count)], sample count and sum of histogram `name`
    over several exposition texts."""
    buckets, count, total = {}, 0.0, 0.0
    for text in texts:
        for line in text.splitlines():
            m = SAMPLE.match(line)
            if not m:
                continue
            metric, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
            if metric == name + "_bucket":
                le = float(LE.search(labels).group(1))
                buckets[le] = buckets.get(le, 0.0) + value
            elif metric == name + "_count":
                count += value
            elif metric == name + "_sum":
                total += value
    return sorted(buckets.items()), count, total


def quantile(q, buckets):
    """histogram_quantile(q) over cumulative buckets; None without samples."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_n = 0.0, 0.0
    for le, n in buckets:
        if n >= rank:
            if math.isinf(le):
                return prev_le  # above the last finite bound: the bound is all we know
            return prev_le + (le - prev_le) * ((rank - prev_n) / (n - prev_n) if n > prev_n else 0.0)
        prev_le, prev_n = le, n
    return prev_le


def figures(run_dir):
    texts = [open(p).read() for p in sorted(glob.glob(os.path.join(run_dir, "metrics", "*.prom")))]
    out = {}
    buckets, n, _ = histogram(texts, "consumer_accepted_to_valkey_seconds")
    if n:
        out["accepted_to_valkey_ms"] = {f"p{int(q * 100)}": round(1000 * quantile(q, buckets), 1)
                                        for q in (0.5, 0.95, 0.99)}
        out["accepted_to_valkey_ms"]["sales"] = int(n)
    _, batches, records = histogram(texts, "producer_batch_records")
    if batches:
        out["records_per_batch"] = {"mean": round(records / batches, 2), "batches": int(batches),
                                    "records": int(records)}
    return out


def summary(f):
    a, b = f.get("accepted_to_valkey_ms", {}), f.get("records_per_batch", {})
    return (f"accepted->Valkey p50 {a.get('p50', '?')} ms, p95 {a.get('p95', '?')} ms, p99 {a.get('p99', '?')} ms "
            f"({a.get('sales', 0)} sales); {b.get('mean', '?')} records per produce batch")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--json")
    a = ap.parse_args()
    f = figures(a.run_dir)
    if a.json:
        with open(a.json, "w") as out:
            json.dump(f, out, indent=1, sort_keys=True)
            out.write("\n")
    print(summary(f))
