#!/usr/bin/env python3
"""Where a JVM's CPU goes, by thread group: utime+stime of every thread from /proc/PID/task, names
from `jstack` (the kernel's comm keeps only 15 characters, which cannot tell Kafka's network
threads from its request handlers). docs/capacity.md, "Third round: the broker on 2 cores".

    tools/capacity/jvm_threads.py snap PID FILE          ticks per thread now (+ names) as JSON
    tools/capacity/jvm_threads.py diff BEFORE AFTER [--sales N] [--json OUT]

`diff` prints each group's ticks between the two snapshots, its share, and (with --sales) CPU-µs
per sale. Threads that started after BEFORE count from zero; threads gone by AFTER are lost.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys

# (group, regex on the Java thread name), first match wins; the JVM's own threads are named by
# HotSpot ("GC Thread#0", "G1 Refine#0", "C2 CompilerThread0", "VM Thread").
GROUPS = [
    ("network threads", r"network-thread"),
    ("request handlers", r"request-handler"),
    ("GC", r"^(GC Thread|G1 |ParGC|Parallel GC)"),
    ("VM thread (safepoints; Serial GC)", r"^VM Thread"),
    ("JIT compilers", r"CompilerThread"),
    ("group coordinator", r"group-coordinator"),
    ("raft / controller", r"raft|quorum-controller|controller-event|broker-\d+-to-controller"),
    ("log, schedulers, purgatory", r"kafka-scheduler|log-cleaner|ExpirationReaper|LogDirFailure"),
]


def ticks(pid):
    out = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            comm = (task / "comm").read_text().strip()
        except OSError:
            continue  # the thread ended between the listing and the read
        fields = stat[stat.rindex(")") + 2:].split()
        out[task.name] = {"ticks": int(fields[11]) + int(fields[12]), "comm": comm}
    return out


def java_names(pid):
    """{tid: name} from jstack (`nid=` is the kernel thread id, hex in older JDKs)."""
    try:
        text = subprocess.run(["jstack", str(pid)], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names = {}
    for m in re.finditer(r'^"([^"]+)".*?\bnid=(0x[0-9a-f]+|\d+)', text, re.M):
        names[str(int(m.group(2), 0))] = m.group(1)
    return names


def group_of(name):
    for g, rx in GROUPS:
        if re.search(rx, name):
            return g
    return "other"


def snap(pid, path):
    t = ticks(pid)
    names = java_names(pid)
    for tid, v in t.items():
        v["name"] = names.get(tid, v["comm"])
    pathlib.Path(path).write_text(json.dumps({"pid": pid, "clk_tck": os.sysconf("SC_CLK_TCK"), "threads": t}))


def diff(before, after, sales=None):
    b = json.loads(pathlib.Path(before).read_text())["threads"]
    a = json.loads(pathlib.Path(after).read_text())
    hz = a["clk_tck"]
    groups = {}
    for tid, v in a["threads"].items():
        d = v["ticks"] - b.get(tid, {}).get("ticks", 0)
        g = group_of(v["name"])
        groups[g] = groups.get(g, 0) + max(d, 0)
    total = sum(groups.values()) or 1
    rows = [{"group": g, "ticks": n, "share": n / total,
             "cpu_us_per_sale": (n / hz * 1e6 / sales) if sales else None}
            for g, n in sorted(groups.items(), key=lambda kv: -kv[1])]
    return {"total_ticks": total, "clk_tck": hz, "sales": sales, "groups": rows}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snap")
    s.add_argument("pid", type=int)
    s.add_argument("file")
    d = sub.add_parser("diff")
    d.add_argument("before")
    d.add_argument("after")
    d.add_argument("--sales", type=int)
    d.add_argument("--json")
    a = ap.parse_args(argv)
    if a.cmd == "snap":
        snap(a.pid, a.file)
        return 0
    r = diff(a.before, a.after, a.sales)
    for row in r["groups"]:
        per = f"  {row['cpu_us_per_sale']:6.1f} µs/sale" if row["cpu_us_per_sale"] is not None else ""
        print(f"  {row['group']:<36} {row['ticks']:6d} ticks {100 * row['share']:5.1f} %{per}")
    print(f"  {'total':<36} {r['total_ticks']:6d} ticks")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(r, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
