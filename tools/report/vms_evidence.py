#!/usr/bin/env python3
"""The Valkey VM evidence file, docs/results/vms/valkey-vms.json (shape: docs/results/README.md).

    tools/report/vms_evidence.py --runs DIR --out docs/results/vms/valkey-vms.json
                                 [--command TEXT] [--conditions TEXT]
    tools/report/vms_evidence.py --main-job OUT_DIR --command TEXT --out docs/results/vms/valkey-vms.json

--runs: the `valkey-vms` series of scripts/experiments (collect_run.py files with a `vms` block),
one row per run in `runs`. --main-job: a `scripts/main-job --valkey-vms` output folder (summary.txt,
vms.json), kept as `main_job_*` keys. Each mode keeps the other's part of an existing file, so the
two can be measured at different times.
"""
import argparse
import datetime
import glob
import json
import os
import subprocess

from collect_run import git_commit, machine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAIN_JOB_KEYS = ("main_job_command", "main_job_date", "main_job_commit", "main_job_boot_seconds",
                 "main_job_summary")


def qemu_version():
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0]
    except (OSError, IndexError):
        return None


def image_figures(qcow2):
    """Size on disk and virtual size of the qcow2, and its build time (scripts/vm-image's cache)."""
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", qcow2], check=True,
                                     capture_output=True, text=True).stdout)
    fig = {"image_qcow2_bytes": os.path.getsize(qcow2), "image_virtual_bytes": info["virtual-size"],
           "image_key": os.path.basename(os.path.dirname(qcow2))}
    try:
        fig["image_build_seconds"] = int(open(os.path.join(os.path.dirname(qcow2), "build-seconds")).read().strip())
    except (OSError, ValueError):
        pass
    try:
        pkgs = open(os.path.join(os.path.dirname(qcow2), "packages.txt")).read().split()
        fig["image_valkey"] = next(p.split("=", 1)[1] for p in pkgs if p.startswith("valkey-server="))
    except (OSError, StopIteration):
        pass
    return fig


def run_row(r):
    """One experiment run as a flat row: the figures the report's table shows."""
    vms = r.get("vms", {})
    boot = vms.get("boot_seconds", {})
    lat = r["locust"]["latency_ms"]
    return {
        "variant": r["variant"], "run": r["run"], "vms": len(boot), "replicas": r["valkey"]["replicas"],
        "accel": vms.get("accel"), "date": r["date"], "commit": r["commit"],
        "cpu_model": r["machine"]["cpu_model"], "loadavg_start": " ".join(r["machine"]["loadavg_start"]),
        "boot_s": " / ".join(f"{boot[k]:.0f}" for k in sorted(boot)),
        "ok_rps": r["locust"]["ok_rps"], "p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"],
        "fail_ratio": round(r["locust"]["fail_ratio"], 5), "accepted": r["locust"]["ok"],
        "exact": r["counts"]["match"],
        "drain_s": None if r["counts"]["drain_seconds"] is None else round(r["counts"]["drain_seconds"], 2),
        "valkey_cpu_s": r["valkey"]["primary_cpu_s"], "repl_bytes_behind": r["valkey"]["replication_bytes_behind"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", help="folder of the valkey-vms series' run files")
    ap.add_argument("--main-job", help="a scripts/main-job --valkey-vms output folder")
    ap.add_argument("--command", default="")
    ap.add_argument("--conditions", default="")
    ap.add_argument("--commit", help="with --main-job: the commit the run used (default: the tree's now)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not a.runs and not a.main_job:
        ap.error("--runs or --main-job")
    old = json.load(open(a.out)) if os.path.exists(a.out) else {}
    model, cores = machine()
    doc = {"schema": "blackfriday.valkey-vms/v1",
           "where": "local run on the shared 2-core development machine (QEMU, not KubeVirt; never run on a cloud)",
           "cpu_model": model, "cores": cores, "qemu": qemu_version()}
    if a.runs:
        runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(a.runs, "*.json")))]
        if not runs:
            raise SystemExit(f"vms_evidence: no run files in {a.runs}")
        missing = [f"{r['variant']}.run{r['run']}" for r in runs if "vms" not in r]
        if missing:
            raise SystemExit(f"vms_evidence: runs without a vms block (Valkey not in VMs?): {missing}")
        rows = sorted((run_row(r) for r in runs), key=lambda x: (x["variant"], x["run"]))
        doc.update({"date": max(r["date"] for r in rows), "commit": rows[-1]["commit"], "command": a.command,
                    "accel": ", ".join(sorted({r["accel"] for r in rows})), "conditions": a.conditions,
                    "runs": rows})
        qcow2 = runs[0]["vms"].get("qcow2")
    else:
        doc.update({k: v for k, v in old.items() if k not in doc and k not in MAIN_JOB_KEYS})
        qcow2 = None
    if a.main_job:
        vms = json.load(open(os.path.join(a.main_job, "vms.json")))
        summary = open(os.path.join(a.main_job, "summary.txt")).read()
        doc.update({"main_job_command": a.command,
                    "main_job_date": datetime.datetime.fromtimestamp(
                        os.path.getmtime(os.path.join(a.main_job, "summary.txt")), datetime.timezone.utc
                    ).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "main_job_commit": a.commit or git_commit(ROOT),
                    "main_job_boot_seconds": " / ".join(f"{k} {v:.0f}" for k, v in sorted(vms["boot_seconds"].items())),
                    "main_job_summary": summary})
        doc.setdefault("accel", vms["accel"])
        doc.setdefault("date", doc["main_job_date"])
        doc.setdefault("commit", doc["main_job_commit"])
        doc.setdefault("command", a.command)
        qcow2 = qcow2 or vms.get("qcow2")
    else:
        doc.update({k: old[k] for k in MAIN_JOB_KEYS if k in old})
    if qcow2 and os.path.exists(qcow2):
        doc.update(image_figures(qcow2))
    else:
        doc.update({k: v for k, v in old.items() if k.startswith("image_")})
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        # top-level keys sorted; a run row keeps run_row's order (the report's column order)
        json.dump(dict(sorted(doc.items())), f, indent=1)
        f.write("\n")
    print(f"vms_evidence: {a.out}: {len(doc.get('runs', []))} runs"
          f"{', the main-job run' if 'main_job_summary' in doc else ''}")


if __name__ == "__main__":
    main()
