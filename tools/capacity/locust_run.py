#!/usr/bin/env python3
"""scripts/benchmarks/pipeline --driver locust (P5): Locust headless against rust-api, with the CPU of
the named processes taken from /proc over the run, written as one step in bf-loadgen's results
shape so locust/reconcile.py and tools/capacity/summarize.py read it unchanged.

    tools/capacity/locust_run.py --url http://127.0.0.1:P --users N --duration S --out DIR
                                 [--cpu NAME=PID ...] [--seed N]

Locust is closed-loop (each user waits for its answer, then up to 50 ms): the figure it gives is
what the brief's load tool reaches, not the pipeline's capacity (bf-loadgen measures that).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    """utime + stime of a process (all threads), or None when it is gone."""
    try:
        s = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = s[s.rfind(")") + 1:].split()
    return int(f[11]) + int(f[12])


def machine():
    v = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(v) - v[3] - v[4]


def children_ticks():
    """CPU of waited-for children (Locust) from this process's own stat: cutime + cstime."""
    f = pathlib.Path("/proc/self/stat").read_text()
    f = f[f.rfind(")") + 1:].split()
    return int(f[13]) + int(f[14])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=30, help="seconds")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cpu", action="append", default=[], help="NAME=PID")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    procs = [tuple(s.split("=", 1)) for s in a.cpu]
    before = {n: ticks(p) for n, p in procs}
    m0, c0, t0 = machine(), children_ticks(), time.monotonic()
    env = dict(os.environ, BF_SEED=str(a.seed), BF_CATALOG_REF="")
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "locust/locustfile.py"), "--headless", "-H", a.url,
           "-u", str(a.users), "-r", str(a.users), "-t", f"{a.duration}s", "--stop-timeout", "30", "--only-summary",
           "--catalog-file", str(ROOT / "locust/catalog.json"), "--max-fail-ratio", "1",
           "--results-file", str(out / "locust-results.json"), "--keys-file", str(out / "keys.json")]
    with open(out / "locust.log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    wall = time.monotonic() - t0
    after = {n: ticks(p) for n, p in procs}
    cpu_s = {n: (after[n] - before[n]) / CLK_TCK for n, _ in procs if before[n] is not None and after[n] is not None}
    cpu_s["locust"] = (children_ticks() - c0) / CLK_TCK
    busy = (machine() - m0) / CLK_TCK / wall
    lr = json.loads((out / "locust-results.json").read_text())
    ok, secs = lr["ok_total"], lr["elapsed_s"] or a.duration
    lat = lr["latency_ms"]
    errors = lr["sales"] - ok
    step = {
        "offered_per_s": None, "users": a.users, "seconds": secs, "wall_s": wall, "sent": lr["sales"], "ok": ok,
        "in_doubt": sum(lr["in_doubt_by_category"].values()), "refused": sum(lr["refused_by_category"].values()),
        "late": 0, "errors": errors, "error_ratio": errors / lr["sales"] if lr["sales"] else 0.0,
        "status_counts": lr["status_counts"], "accepted_per_s": ok / secs if secs else 0.0,
        "latency_ms": {"p50": lat["p50"], "p90": None, "p99": lat["p99"], "max": lat["max"]},
        "cpu_s": cpu_s, "cpu_us_per_sale": {n: round(v * 1e6 / ok, 1) for n, v in cpu_s.items()} if ok else {},
        "machine_busy_cores": round(busy, 2), "passed": ok > 0,
    }
    doc = {"tool": "locust", "url": a.url, "connections": a.users, "step_seconds": a.duration,
           "limits": {"users": a.users}, "steps": [step],
           "knee": {"step": 1, "offered_per_s": None, "accepted_per_s": step["accepted_per_s"],
                    "latency_ms": step["latency_ms"], "errors": errors} if ok else None,
           "sales": lr["sales"], "ok_total": ok, "in_doubt_total": step["in_doubt"], "elapsed_s": wall,
           "locust_exit": rc, "locust_verdict": lr.get("verdict")}
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"locust {a.users} users {a.duration}s: {step['accepted_per_s']:.1f} accepted sales/s, p50 {lat['p50']} ms, "
          f"p99 {lat['p99']} ms, not accepted {errors}, Locust CPU {cpu_s['locust']:.1f} s "
          f"({cpu_s['locust'] * 1e6 / ok if ok else 0:.0f} µs per sale), machine busy {busy:.2f} cores; verdict {lr.get('verdict')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
