"""main-job's time estimate before anything runs: what is already built or installed costs seconds;
what is not, the cold figures measured on the 2-core development machine (docs/capacity.md, "time to
first result"). An estimate, printed, never a limit."""
import importlib.util
import os
import pathlib


def _newer_than(root, paths, binary):
    """True when a file under PATHS is newer than BINARY (cargo would rebuild it)."""
    t = binary.stat().st_mtime
    for p in paths:
        p = root / p
        files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file())
        if any(f.stat().st_mtime > t for f in files):
            return True
    return False


def _rust(root, name, target_dir, profile, sources, dep, cold):
    binary, deps = root / target_dir / name, list((root / target_dir / "deps").glob(dep))
    if binary.exists() and os.access(binary, os.X_OK) and not _newer_than(root, sources, binary):
        return 5, f"{name} ({profile}): up to date"
    if deps:
        what = name if name == "rust-api" else "the operator"
        return 90, f"{name} ({profile}): dependencies built, {what} itself to compile (≈ 1–2 min)"
    return cold


def estimate_lines(o, root):
    """(lines, seconds) for the options O of main_job.parse_args."""
    root = pathlib.Path(root)
    lines, secs = [], 0

    def add(s, text):
        nonlocal secs
        secs += s
        lines.append(text)

    if o.do_setup:
        if all(importlib.util.find_spec(m) for m in ("locust", "valkey", "confluent_kafka")):
            if (root / "tools/dashboard/node_modules").is_dir():
                add(15, "set-up: installed, checks only (≈ 15 s)")
            else:
                add(60, "set-up: installed on this machine; this clone's dashboard tools come from npm's cache (≈ 1 min)")
        else:
            add(300, "set-up: first run downloads Debian/PyPI/npm packages and the Kafka jars (not timed; allow ≈ 5 min)")
    if o.do_build:
        cold = ((240, "rust-api (release): cold, every dependency optimised: ≈ 3.6 CPU-min (≈ 2–4 min on 2 idle cores; 14 min measured on a machine at load 16)")
                if o.cargo_profile == "release" else (150, "rust-api (dev): cold: ≈ 2–3 min"))
        add(*_rust(root, "rust-api", o.target_dir, o.cargo_profile, ["rust-api", "proto", "Cargo.lock"], "libtokio-*.rlib", cold))
        cold = ((150, "operator (dev): cold: ≈ 2.5 min (the whole workspace's dev build, 286 crates, took 2 min 22 s here)")
                if o.operator_profile == "dev" else
                (900, "operator (release): cold, kube + k8s-openapi optimised with LTO: the longest step (≈ 15 min; the 19-min first main-job of issue 16); --operator-profile dev avoids it"))
        s, text = _rust(root, "blackfriday-operator", o.operator_dir, o.operator_profile, ["operator", "Cargo.lock"], "libk8s_openapi-*.rlib", cold)
        add(s, text.replace("blackfriday-operator (", "operator (", 1))
        if all(os.access(root / "go-services/bin" / b, os.X_OK) for b in ("grpc-server", "consumer", "grpc-client")):
            add(10, "Go programs: built before (Go's cache rebuilds what changed)")
        else:
            add(120, "Go programs: first build (module download + compile; not timed, allow ≈ 2 min)")
    add(40, "bench services and the pipeline start (≈ 40 s)")
    d = o.duration
    try:
        load = float(d.rstrip("smh")) * (60 if d.endswith("m") else 1)
    except ValueError:
        load = 60
    load = int(load)
    if o.faults:
        load = int(o.fault_every) * (len(o.faults) + 1) + 60
    add(load + 45, f"load {o.duration}, drain, count check and dashboard (≈ {load + 45} s)")
    return lines, secs
