#!/usr/bin/env python3
"""Every sale Locust got a 2xx for is counted exactly once in Valkey, per category.

    locust/reconcile.py --locust-results R.json --keys K.json --valkey HOST:PORT
                        [--kafka BOOTSTRAP --topic T] [--drain-timeout S] [--stable S] [--json OUT]

The expectation is exact (docs/contracts.md §1, §5): the consumer counts each sale id once and
keeps it with its categoria in the dedup set (hashes bf:sales:<bucket>) for the dedup window, so
after the consumers drained:
  1. every accepted key (answered 2xx at least once) is in the dedup set under its category:
     nothing accepted was lost or filed under another category;
  2. a key whose every try ended in doubt (5xx, connection error, run stopped) is counted or not:
     the dedup set says which, and it joins the expectation only if counted;
  3. bf:reports per category == accepted + counted in-doubt keys: nothing counted twice, and
     the dedup set holds no key Locust never sent (nothing invented).
Waiting for the drain and the consumer lag come from tools/dashboard (bfdash.counts).
Exit 0 when all three hold; 1 otherwise. Needs the Valkey to hold this run's keys only (the main
job deletes bf:* before its run).
"""
import argparse
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools/dashboard"))
from bfdash import counts  # noqa: E402

SALES_PREFIX = "bf:sales:"


def counted_sales(client):
    """sale id → categoria, for every sale id in the consumer's dedup set (bf:sales:<bucket>)."""
    out = {}
    for key in client.scan_iter(match=SALES_PREFIX + "*", count=1000):
        for k, v in client.hscan_iter(key, count=5000):
            out[k.decode()] = v.decode()
    return out


def reconcile(accepted, in_doubt, counted, reports):
    """Pure: returns (rows, problems, resolved). accepted/in_doubt: categoria → keys; counted:
    key → categoria (the dedup set); reports: categoria → bf:reports."""
    problems, resolved = [], {}
    owner = {k: c for c, ks in accepted.items() for k in ks}
    lost = [k for k, c in owner.items() if counted.get(k) != c]
    if lost:
        problems.append(f"{len(lost)} accepted sale(s) not counted under their category, e.g. "
                        + ", ".join(f"{k} ({owner[k]} → {counted.get(k)})" for k in lost[:3]))
    for c, ks in in_doubt.items():
        for k in ks:
            if k in owner:
                continue  # a later try got its 2xx
            owner[k] = c
            if counted.get(k) == c:
                resolved[c] = resolved.get(c, 0) + 1
    unknown = [k for k in counted if k not in owner]
    if unknown:
        problems.append(f"{len(unknown)} counted sale id(s) Locust never sent, e.g. {unknown[:3]}")
    expected = {c: len(ks) + resolved.get(c, 0) for c, ks in accepted.items()}
    for c, n in resolved.items():
        expected.setdefault(c, n)
    rows, good = counts.compare(expected, reports)
    if not good:
        problems.append("bf:reports differs from accepted + counted in-doubt sales")
    return rows, problems, resolved


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--locust-results", required=True)
    ap.add_argument("--keys", required=True, help="Locust's --keys-file")
    ap.add_argument("--valkey", default="127.0.0.1:16379")
    ap.add_argument("--kafka", help="bootstrap servers: wait for and report the consumer lag of --topic")
    ap.add_argument("--topic", default="ventas")
    ap.add_argument("--drain-timeout", type=float, default=180)
    ap.add_argument("--stable", type=float, default=30)
    ap.add_argument("--json", help="write rows, match, drain time and lag as JSON")
    a = ap.parse_args(argv)
    import os
    import valkey
    host, port = a.valkey.rsplit(":", 1)
    # VALKEY_PASSWORD (if set) authenticates: the bench node's Valkey and the Valkey VMs have one
    client = valkey.Valkey(host=host, port=int(port), socket_timeout=30,
                           password=os.environ.get("VALKEY_PASSWORD") or None)
    loc = json.loads(pathlib.Path(a.locust_results).read_text())
    keys = json.loads(pathlib.Path(a.keys).read_text())
    probe = counts.KafkaLag(a.kafka, a.topic) if a.kafka else None
    n_doubt = sum(len(v) for v in keys["in_doubt"].values())
    total, drain, reached, lag = counts.wait_drain(
        client, loc["ok_total"], a.drain_timeout, a.stable, progress=lambda m: print(m, flush=True), lag=probe)
    print(f"consumers drained in {drain:.1f}s after the load stopped" if reached else
          f"valkey total stopped at {total} (last change {drain:.1f}s after the load stopped)")
    if probe:
        lag = probe.lag(client)
        print(f"consumer lag on {a.topic}: {lag} record(s) (Kafka high watermarks - bf:offsets:{a.topic})")
        probe.close()
    counted = counted_sales(client)
    rows, problems, resolved = reconcile(keys["ok"], keys["in_doubt"], counted, counts.valkey_reports(client))
    print(f"accepted sales (distinct keys answered 2xx) {loc['ok_total']}; in doubt after every retry {n_doubt}, "
          f"of which counted {sum(resolved.values())}; counted sale ids in Valkey {len(counted)}")
    print(counts.table(rows).replace("locust 2xx", "  expected"))
    for p in problems:
        print(f"PROBLEM: {p}")
    good = not problems
    print("per-category agreement: " + ("EXACT" if good else "MISMATCH"))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps({
            "rows": rows, "match": good, "drain_seconds": drain, "consumer_lag": lag,
            "in_doubt": n_doubt, "in_doubt_counted": resolved, "counted_ids": len(counted),
            "problems": problems}, indent=2))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
