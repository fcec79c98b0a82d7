#!/usr/bin/env python3
"""main-job's figures (step 10) from the files a run wrote to its output folder.

    tools/runner/summary.py OUT      -> the summary lines (main-job also keeps them in OUT/summary.txt)

Reads locust-results.json, counts.json, writer-split.txt and, when present, vms.json and
faults.jsonl (with locust-answers.jsonl); writes faults.json from faults.jsonl. Figures only: the
pass/fail of the run is main-job's.
"""
import json
import os
import sys


def _fmt(v):
    return "never" if v is None else f"{v:.1f}"


def fault_lines(out):
    """The recovery table of a --faults run; also writes OUT/faults.json."""
    faults = [json.loads(line) for line in open(f"{out}/faults.jsonl")]
    answers = [json.loads(line) for line in open(f"{out}/locust-answers.jsonl")]
    lines = ["    recovery after each SIGKILL (s after the kill; printed, never judged):",
             f"      {'target':<12} {'ready':>6} {'counting':>9} {'failed answers':>15} {'last failure':>13}"]
    for i, f in enumerate(faults):
        end = faults[i + 1]["killed_at"] if i + 1 < len(faults) else float("inf")
        bad = [a for a in answers if f["killed_at"] <= a["t"] < end and not 200 <= a["s"] < 300]
        last = f"{max(a['t'] for a in bad) - f['killed_at']:.1f}" if bad else "-"
        lines.append(f"      {f['target']:<12} {_fmt(f['ready_s']):>6} {_fmt(f['counting_s']):>9} {len(bad):>15} {last:>13}")
    json.dump(faults, open(f"{out}/faults.json", "w"), indent=2)
    return lines


def summary_lines(out):
    r = json.load(open(f"{out}/locust-results.json"))
    c = json.load(open(f"{out}/counts.json"))
    lat = r["latency_ms"]
    d = c.get("drain_seconds")
    lines = [
        f"    sales {r['sales']}  accepted {r['ok_total']}  requests {r['requests']} (retries {r['retries']})  "
        f"failed answers {r['failures']}  decided sales not accepted {100 * r['fail_ratio']:.2f} %  status {r['status_counts']}",
        f"    in doubt: {sum(r['in_doubt_by_category'].values())} (cut short by the stop: {r.get('cut_short', 0)}; counted: {sum(c.get('in_doubt_counted', {}).values())})"
        f"  refused (4xx): {sum(r['refused_by_category'].values())}  answers without the JSON error body: {len(r['contract_violations'])}",
        f"    throughput {r['throughput_rps']} req/s over {r['elapsed_s']} s ({r['ok_throughput_rps']} accepted sales/s)",
        f"    latency ms  p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  avg {lat['avg']:.1f}  max {lat['max']:.0f}",
        f"    consumers drained {'in %.1f s' % d if d is not None else '(unknown)'} after the load stopped; consumer lag now {c.get('consumer_lag')}",
        f"    Locust vs Valkey per category: {'EXACT' if c['match'] else 'MISMATCH'}",
        f"    ProcesarVenta OK per writer process: {open(f'{out}/writer-split.txt').read().strip()}",
        f"    Locust verdict: {r['verdict']}  catalogue {r['catalog'].get('reference')} {r['catalog'].get('manifest_digest')}",
    ]
    if os.path.exists(f"{out}/vms.json"):
        v = json.load(open(f"{out}/vms.json"))
        boot = "  ".join(f"{k} {s:.0f} s" for k, s in v["boot_seconds"].items())
        lines.append(f"    Valkey in {len(v['boot_seconds'])} VM(s) under QEMU ({v['accel'].upper()}): QEMU start → Valkey answers: {boot}; "
                     f"image {v['qcow2_bytes'] / 2**20:.0f} MiB qcow2")
    if os.path.exists(f"{out}/faults.jsonl"):
        lines += fault_lines(out)
    return lines


def write_summary(out):
    """Print the summary and keep it in OUT/summary.txt (what `| tee` did)."""
    text = "\n".join(summary_lines(out)) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    with open(f"{out}/summary.txt", "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    write_summary(sys.argv[1])
