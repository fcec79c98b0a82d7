#!/usr/bin/env python3
"""Where each process of the pipeline spends its CPU: in its own code or in the kernel, and on
which kernel paths (docs/capacity.md, "Where the cost per sale is"). utime+stime per process
(what bf-loadgen reports) says how much; this says what for, from one system-wide `perf` sample.

    tools/capacity/cpu_split.py record SECONDS DATA          perf record -a (no call graphs) for SECONDS
    tools/capacity/cpu_split.py report DATA NAME=PID... [--sales N] [--json OUT]

`report` prints, per named process: its share of all samples, the part in the kernel, and the
kernel's work grouped by path (network send / receive, epoll, futex wake-ups and waits, the
scheduler, memory, other system calls), from each sample's own function (no call graphs, so a
function is put in the group its name says; see KERNEL_GROUPS). With --sales it also converts each
process's samples to CPU-µs per sale at the sampling rate: samples / frequency / sales.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

# (group, regex on a kernel function's name); the first match wins. Loopback TCP runs the
# receiver's stack in the sender's context (softirq), so "network" covers both directions.
KERNEL_GROUPS = [
    ("network (tcp/ip, sockets, loopback)", r"tcp|inet|sock|skb|__?ip_|ipv4|ip_|net_rx|netif|napi|loopback|__dev_queue|dev_hard|"
                                            r"nf_|conntrack|ipt_|xt_|raw_|sk_|release_sock|lock_sock|csum|copy_.*msg|__sys_send|__sys_recv"),
    ("epoll and poll", r"ep_|epoll|poll"),
    ("futex (wake-ups, waits)", r"futex"),
    ("scheduler and context switches", r"schedule|sched|switch_|finish_task|enqueue|dequeue|pick_next|update_curr|"
                                       r"ttwu|try_to_wake|wake_up|select_task|psi_|cpuacct|__switch_to|idle|update_load|"
                                       r"update_rq|resched|set_next|put_prev|check_preempt|load_balance|migrate"),
    ("memory (page faults, mmap, madvise)", r"page|mm_|mmap|madvise|fault|pte|pmd|folio|lru|memcg|kmem|slab|kfree|"
                                             r"kmalloc|alloc|vma|clear_user|memset|memcpy|copy_user|rep_movs"),
    ("timers and clocks", r"hrtimer|timer|clock|tick|ktime|nanosleep"),
    ("system call entry and exit", r"syscall|entry_|do_syscall|exit_to_user|__x64_sys|irqentry|native_|"
                                   r"restore_regs|swapgs|fpregs|xsave|fpu"),
    ("files and pipes (reads, writes, fsync)", r"vfs_|ksys_|fsync|ext4|jbd2|pipe|file|fd|fget|fput|read|write"),
]
KERNEL_DSO = "[kernel.kallsyms]"


def record(seconds, data):
    subprocess.run(["bash", str(pathlib.Path(__file__).with_name("need-perf.sh"))], check=True)
    return subprocess.run(["perf", "record", "-a", "-F", "499", "-o", data, "--", "sleep", str(seconds)],
                          capture_output=True, text=True).returncode


def samples(data):
    """(pid, symbol, dso) of every sample."""
    out = subprocess.run(["perf", "script", "-i", data, "-F", "pid,ip,sym,dso"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s*\(([^()]*)\)\s*$", line)
        if m:
            yield int(m.group(1)), m.group(2), m.group(3)


def kernel_group(sym):
    for group, rx in KERNEL_GROUPS:
        if re.search(rx, sym):
            return group
    return "other kernel work"


def split(data, names, sales=None, freq=499):
    """Per named process: samples, kernel samples, kernel groups; plus every other process summed."""
    by_pid = {pid: name for name, pid in names.items()}
    by_pid.setdefault(0, "idle (no process)")   # pid 0: the CPU's idle loop
    rows = {name: {"samples": 0, "kernel": 0, "groups": {}} for name in names}
    rows["everything else"] = {"samples": 0, "kernel": 0, "groups": {}}
    rows.setdefault("idle (no process)", {"samples": 0, "kernel": 0, "groups": {}})
    total = 0
    for pid, sym, dso in samples(data):
        total += 1
        r = rows[by_pid.get(pid, "everything else")]
        r["samples"] += 1
        if dso == KERNEL_DSO:
            r["kernel"] += 1
            g = kernel_group(sym)
            r["groups"][g] = r["groups"].get(g, 0) + 1
    for r in rows.values():
        r["share_of_all"] = r["samples"] / total if total else 0
        r["kernel_share"] = r["kernel"] / r["samples"] if r["samples"] else 0
        r["us_per_sale"] = r["samples"] / freq * 1e6 / sales if sales else None
        r["groups"] = dict(sorted(r["groups"].items(), key=lambda kv: -kv[1]))
    return {"samples": total, "frequency": freq, "sales": sales, "processes": rows}


def print_split(s, out=sys.stdout):
    print(f"{s['samples']} samples at {s['frequency']} Hz on every CPU", file=out)
    for name, r in s["processes"].items():
        if not r["samples"]:
            continue
        per_sale = f", {r['us_per_sale']:.0f} µs/sale" if r["us_per_sale"] is not None else ""
        top = ", ".join(f"{g} {100 * n / r['samples']:.0f} %" for g, n in list(r["groups"].items())[:4])
        print(f"  {name:16} {100 * r['share_of_all']:5.1f} % of samples{per_sale}; kernel {100 * r['kernel_share']:.0f} %"
              f"{': ' + top if top else ''}", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("seconds", type=float)
    r.add_argument("data")
    p = sub.add_parser("report")
    p.add_argument("data")
    p.add_argument("names", nargs="+", help="NAME=PID")
    p.add_argument("--sales", type=int)
    p.add_argument("--json")
    a = ap.parse_args(argv)
    if a.cmd == "record":
        return record(a.seconds, a.data)
    names = {}
    for w in a.names:
        name, _, pid = w.partition("=")
        if not pid.isdigit():
            ap.error(f"NAME=PID, not {w!r}")
        names[name] = int(pid)
    s = split(a.data, names, a.sales)
    print_split(s)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(s, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
