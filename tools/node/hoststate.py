#!/usr/bin/env python3
"""What the bench node changes on the host, recorded before it starts and undone when it stops.

A kubelet, kube-proxy, containerd and the CNI bridge plugin change host-wide state that outlives
them: sysctls, iptables chains, mounts, network namespaces, cgroups and a few directories. The
node's start takes a snapshot of exactly those items; its stop undoes every difference that
belongs to the node and then compares again, so a leftover is reported by name instead of found
later by someone else.

  hoststate.py snapshot FILE    record the state (kept if FILE exists: the first start's wins)
  hoststate.py restore FILE     undo the node's changes (sysctls, KUBE-/CNI- iptables chains,
                                KUBE-* ipsets, mounts, cni netns, kubepods cgroups, the bridge,
                                created dirs)
  hoststate.py diff FILE        print what still differs; exit 1 if anything does

Only changes that carry the node's marks are undone (chains named KUBE-* or CNI-* — kube-router's
NetworkPolicy chains are KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-* —, ipsets named KUBE-*, mounts under
the node's paths, netns named cni-*, cgroups named kubepods*, links named bfnode*/bfpods*/veth*, the
directories listed below when they did not exist before): another program's bridge, chains or namespaces are left alone.
Stdlib only; run as root.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

# kubelet's setupKernelTunables (kernel.panic, panic_on_oops, vm.overcommit_memory, panic_on_oom,
# keys), the bridge plugin (ip_forward), kube-proxy (route_localnet, bridge-nf-call)
SYSCTLS = [
    "kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory", "vm.panic_on_oom",
    "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes", "net.ipv4.ip_forward",
    "net.ipv4.conf.all.route_localnet", "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables", "net.ipv4.conf.all.forwarding",
    "net.ipv6.conf.all.forwarding",
]
# directories the kubelet, containerd and the CNI plugins create whatever their config says
CREATED_DIRS = [
    "/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/run/containerd",
    "/var/lib/cni", "/run/netns", "/etc/kubernetes", "/var/lib/containerd", "/run/flannel",
]
TABLES = ["filter", "nat", "mangle", "raw"]
OURS = re.compile(r"^(KUBE-|CNI-)")
# kube-router's NetworkPolicy sets (KUBE-SRC-*, KUBE-DST-*) and any set named after kube-router
OUR_IPSET = re.compile(r"^(KUBE-|kube-router)")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def sh(*cmd: str, check: bool = False) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"hoststate: {' '.join(cmd)} failed: {r.stderr.strip()}")
    return r.stdout


def sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def read_sysctls() -> dict[str, str]:
    out = {}
    for name in SYSCTLS:
        p = sysctl_path(name)
        if p.exists():
            out[name] = p.read_text().strip()
    return out


def iptables_rules(tool: str) -> dict[str, list[str]]:
    """table -> the rule lines of `iptables -S` (chains as -N lines), without counters."""
    rules = {}
    for t in TABLES:
        r = subprocess.run([tool, "-w", "5", "-t", t, "-S"], capture_output=True, text=True)
        if r.returncode == 0:
            rules[t] = [line for line in r.stdout.splitlines() if line.strip()]
    return rules


def mounts() -> list[str]:
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        out.append(line.split()[4].encode().decode("unicode_escape"))
    return out


def cgroup_dirs() -> list[str]:
    """Every kubepods* cgroup directory under each v1 controller (and the v2 root)."""
    found = []
    if not CGROUP_ROOT.is_dir():
        return found
    for ctrl in CGROUP_ROOT.iterdir():
        if not ctrl.is_dir() or ctrl.is_symlink():
            continue
        try:
            for d in ctrl.iterdir():
                if d.is_dir() and d.name.startswith("kubepods"):
                    found.append(str(d))
        except OSError:
            continue
    return sorted(found)


def netns() -> list[str]:
    p = Path("/run/netns")
    return sorted(x.name for x in p.iterdir()) if p.is_dir() else []


def ipsets() -> list[str]:
    # no ipset tool (a host without kube-router's packages): nothing of ours can exist
    try:
        return sorted(sh("ipset", "list", "-n").split())
    except FileNotFoundError:
        return []


def links() -> list[str]:
    return sorted(x.name for x in Path("/sys/class/net").iterdir())


# host-side links of the node: its bridge and the veth ends of pod interfaces
OUR_LINK = re.compile(r"^(bfnode|bfpods|veth)")


def snapshot(node_paths: list[str]) -> dict:
    return {
        "sysctls": read_sysctls(),
        "iptables": iptables_rules("iptables"),
        "ip6tables": iptables_rules("ip6tables"),
        "dirs": {d: os.path.exists(d) for d in CREATED_DIRS},
        "mounts": mounts(),
        "netns": netns(),
        "cgroups": cgroup_dirs(),
        "links": links(),
        "ipsets": ipsets(),
        "node_paths": node_paths,
    }


def ours_mount(m: str, snap: dict) -> bool:
    roots = snap["node_paths"] + ["/var/lib/kubelet", "/run/containerd", "/run/netns/cni-",
                                  "/var/lib/containerd"]
    return any(m == r or m.startswith(r.rstrip("/") + "/") or
               (r.endswith("-") and m.startswith(r)) for r in roots)


def differences(snap: dict) -> list[str]:
    diffs = []
    now = snapshot(snap["node_paths"])
    for k, v in snap["sysctls"].items():
        if now["sysctls"].get(k) != v:
            diffs.append(f"sysctl {k} = {now['sysctls'].get(k)} (was {v})")
    for tool in ("iptables", "ip6tables"):
        for t, rules in now[tool].items():
            before = set(snap[tool].get(t, []))
            for line in rules:
                if line not in before and ("KUBE-" in line or "CNI-" in line):
                    diffs.append(f"{tool} -t {t}: {line}")
    for d, existed in snap["dirs"].items():
        if not existed and os.path.exists(d):
            diffs.append(f"directory {d} (did not exist)")
    before = set(snap["mounts"])
    for m in now["mounts"]:
        if m not in before and ours_mount(m, snap):
            diffs.append(f"mount {m}")
    for n in set(now["netns"]) - set(snap["netns"]):
        if n.startswith("cni-"):
            diffs.append(f"netns {n}")
    for c in set(now["cgroups"]) - set(snap["cgroups"]):
        diffs.append(f"cgroup {c}")
    for n in set(now["links"]) - set(snap["links"]):
        if OUR_LINK.match(n):
            diffs.append(f"link {n}")
    for n in set(now["ipsets"]) - set(snap.get("ipsets", [])):
        if OUR_IPSET.match(n):
            diffs.append(f"ipset {n}")
    return diffs


def restore(snap: dict) -> None:
    # sysctls
    for k, v in snap["sysctls"].items():
        p = sysctl_path(k)
        try:
            if p.read_text().strip() != v:
                p.write_text(v + "\n")
        except OSError as e:
            print(f"hoststate: cannot restore {k}: {e}", file=sys.stderr)
    # iptables: jumps into our chains from chains that existed before, then our chains
    for tool in ("iptables", "ip6tables"):
        now = iptables_rules(tool)
        for t, rules in now.items():
            before = set(snap[tool].get(t, []))
            chains = [r.split()[1] for r in rules if r.startswith("-N ")]
            new_chains = [c for c in chains if OURS.match(c) and f"-N {c}" not in before]
            for r in rules:
                if r.startswith("-A ") and r not in before and ("KUBE-" in r or "CNI-" in r):
                    chain = r.split()[1]
                    if chain in new_chains:
                        continue  # goes with the chain
                    # (shlex: kube-router's jumps carry quoted comments with spaces)
                    args = shlex.split(r)
                    args[0] = "-D"
                    subprocess.run([tool, "-w", "5", "-t", t, *args], capture_output=True)
            for c in new_chains:
                subprocess.run([tool, "-w", "5", "-t", t, "-F", c], capture_output=True)
            for c in new_chains:
                subprocess.run([tool, "-w", "5", "-t", t, "-X", c], capture_output=True)
    # ipsets (only once no rule refers to them)
    for n in set(ipsets()) - set(snap.get("ipsets", [])):
        if OUR_IPSET.match(n):
            subprocess.run(["ipset", "destroy", n], capture_output=True)
    # mounts: deepest first, lazily when busy
    before = set(snap["mounts"])
    for m in sorted((m for m in mounts() if m not in before and ours_mount(m, snap)),
                    key=len, reverse=True):
        if subprocess.run(["umount", m], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", m], capture_output=True)
    # network namespaces the CNI plugins left (their mounts went above)
    for n in set(netns()) - set(snap["netns"]):
        if n.startswith("cni-"):
            try:
                (Path("/run/netns") / n).unlink()
            except OSError:
                pass
    # kubepods cgroups, leaves first (only empty ones can go)
    for c in set(cgroup_dirs()) - set(snap["cgroups"]):
        for d in sorted((p for p in Path(c).rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                        reverse=True):
            try:
                d.rmdir()
            except OSError:
                pass
        try:
            Path(c).rmdir()
        except OSError as e:
            print(f"hoststate: cannot remove cgroup {c}: {e}", file=sys.stderr)
    # links: the bridge (its pod veths went with their namespaces)
    for n in set(links()) - set(snap["links"]):
        if OUR_LINK.match(n):
            subprocess.run(["ip", "link", "del", n], capture_output=True)
    # directories that did not exist before (after the mounts in them are gone)
    for d, existed in snap["dirs"].items():
        if not existed and os.path.exists(d):
            subprocess.run(["rm", "-rf", "--one-file-system", d], capture_output=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("snapshot", "restore", "diff"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path = argv[1], Path(argv[2])
    if cmd == "snapshot":
        if path.exists():
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(snapshot(argv[3:]), indent=1))
        tmp.rename(path)
        return 0
    if not path.exists():
        print(f"hoststate: no snapshot {path}: nothing to compare", file=sys.stderr)
        return 0
    snap = json.loads(path.read_text())
    if cmd == "restore":
        restore(snap)
    diffs = differences(snap)
    for d in diffs:
        print(f"hoststate: still changed: {d}", file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
