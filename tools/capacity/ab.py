#!/usr/bin/env python3
"""The comparison scripts/benchmarks/ab's runs make (docs/capacity.md, "The commands"): per variant,
per offered rate, CPU-µs per accepted sale of every process group and of the whole pipeline,
records per produce request, p99, median (min–max) over the rounds; the knee; exact counts; where
the broker's CPU went by thread group over each run (jvm_threads.py), with the JIT compilers'
share apart (a fresh broker's warm-up, not a steady cost); and the verdict against the first
variant (the baseline): at each rate, the pipeline totals' ranges are either apart (a finding,
with the difference of the medians) or overlap (no finding).

    tools/capacity/ab.py OUT [--save DIR --stem STEM --what TEXT --load TEXT]

--save writes DIR/STEM-<variant>.json per variant (STEM: ab-<UTC time>) (date, commit, CPU
model, every step of every run).
"""
import argparse
import datetime
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import jvm_threads  # noqa: E402
import summarize  # noqa: E402  (spread, fmt, machine, commit, GENERATORS: one definition)


def load(out):
    variants = {}
    for d in sorted(pathlib.Path(out).iterdir()):
        if not (d / "rc").is_file():
            continue
        name, rnd = d.name.rsplit("-", 1)
        runs = sorted((d / "pipeline" / "runs").glob("*/results.json"))
        if not runs:
            continue
        res = json.loads(runs[0].read_text())
        counts_f = runs[0].parent / "counts.json"
        counts = json.loads(counts_f.read_text()) if counts_f.is_file() else None
        batches = summarize.batch_sizes(runs[0].parent)
        threads = None
        if (d / "threads-before.json").is_file() and (d / "threads-after.json").is_file():
            threads = jvm_threads.diff(d / "threads-before.json", d / "threads-after.json", res["ok_total"])
        variants.setdefault(name, []).append({
            "round": int(rnd), "cmdline": (d / "cmdline").read_text().strip() if (d / "cmdline").is_file() else None,
            "variant": (d / "variant").read_text().split("\n")[:-1] if (d / "variant").is_file() else None,
            "results": res, "counts": counts, "threads": threads, "batches": batches})
    order = pathlib.Path(out) / "variants"   # the command line's order: the first is the baseline
    if order.is_file():
        names = [n for n in order.read_text().split() if n in variants]
        variants = {n: variants[n] for n in names + [n for n in variants if n not in names]}
    return variants


def pipeline_total(step):
    return sum(v for p, v in step["cpu_us_per_sale"].items() if p not in summarize.GENERATORS)


# process groups of the table: a tier's replicas are summed (writer-1..3 → writers)
GROUPS = [("rust-api", ("rust-api",)), ("grpc-client", ("grpc-client",)), ("writers", ("writer-",)),
          ("kafka", ("kafka",)), ("consumers", ("consumer-",)), ("valkey", ("valkey-",))]


def by_group(step):
    cpu = step["cpu_us_per_sale"]
    out = {}
    for group, prefixes in GROUPS:
        vals = [v for p, v in cpu.items() if any(p == x or (x.endswith("-") and p.startswith(x)) for x in prefixes)]
        if vals:
            out[group] = sum(vals)
    return out


def verdict(base, other):
    """'apart' (with the medians' difference) or 'overlap' for two (median, min, max) spreads."""
    if base is None or other is None:
        return "–"
    if other[2] < base[1] or other[1] > base[2]:
        diff = (other[0] - base[0]) / base[0] * 100
        return f"apart: {diff:+.0f} % ({other[0]:,.0f} against {base[0]:,.0f})"
    return "overlap: no finding"


def jit_apart(threads):
    """The broker's CPU-µs per sale over the whole run, and the same without the JIT compilers."""
    if not threads:
        return None, None
    total = sum(g["cpu_us_per_sale"] for g in threads["groups"])
    jit = sum(g["cpu_us_per_sale"] for g in threads["groups"] if g["group"] == "JIT compilers")
    return total, total - jit


def summarize_variant(runs):
    rates = []
    for r in runs:
        for s in r["results"]["steps"]:
            if not s.get("warmup") and s["offered_per_s"] not in rates:
                rates.append(s["offered_per_s"])
    per_rate = []
    for rate in rates:
        steps = [s for r in runs for s in r["results"]["steps"] if not s.get("warmup") and s["offered_per_s"] == rate]
        per_rate.append({
            "offered_per_s": rate, "steps": len(steps),
            "accepted_per_s": summarize.spread([s["accepted_per_s"] for s in steps]),
            "kafka_us_per_sale": summarize.spread([s["cpu_us_per_sale"].get("kafka") for s in steps]),
            "pipeline_us_per_sale": summarize.spread([pipeline_total(s) for s in steps]),
            "groups_us_per_sale": {g: summarize.spread([by_group(s).get(g) for s in steps]) for g, _ in GROUPS},
            "p99_ms": summarize.spread([s["latency_ms"]["p99"] for s in steps]),
            "errors": sum(s["errors"] for s in steps),
        })
    knees = [r["results"]["knee"] for r in runs]
    whole = [jit_apart(r["threads"]) for r in runs]
    groups = {}
    for r in runs:
        for g in (r["threads"] or {}).get("groups", []):
            groups.setdefault(g["group"], []).append(g["share"])
    return {
        "rounds": len(runs),
        "per_rate": per_rate,
        "knee_accepted_per_s": summarize.spread([k and k["accepted_per_s"] for k in knees]),
        "runs_with_a_knee": sum(1 for k in knees if k),
        "kafka_us_per_sale_whole_run": summarize.spread([w[0] for w in whole]),
        "kafka_us_per_sale_whole_run_without_jit": summarize.spread([w[1] for w in whole]),
        "kafka_thread_group_share": {g: summarize.spread(v) for g, v in
                                     sorted(groups.items(), key=lambda kv: -sorted(kv[1])[len(kv[1]) // 2])},
        "records_per_produce_request": summarize.spread([r["batches"]["records_per_produce_request"] for r in runs]),
        "exact": [bool(r["counts"] and r["counts"].get("match")) for r in runs],
    }


def print_table(summary):
    for name, s in summary.items():
        exact = "exact ×%d" % len(s["exact"]) if all(s["exact"]) else "NOT EXACT in %d of %d" % (
            s["exact"].count(False), len(s["exact"]))
        print(f"\n{name} ({s['rounds']} rounds; knee {summarize.fmt(s['knee_accepted_per_s'])} in "
              f"{s['runs_with_a_knee']}/{s['rounds']}; {exact}; records per produce request "
              f"{summarize.fmt(s['records_per_produce_request'], 1)})")
        for p in s["per_rate"]:
            groups = "  ".join(f"{g} {summarize.fmt(v)}" for g, v in p["groups_us_per_sale"].items() if v)
            print(f"  {p['offered_per_s']:>6,.0f}/s offered: pipeline {summarize.fmt(p['pipeline_us_per_sale']):>18} µs/sale "
                  f"({groups}), p99 {summarize.fmt(p['p99_ms'], 0)} ms, accepted {summarize.fmt(p['accepted_per_s'])}/s, "
                  f"errors {p['errors']}")
        if s["kafka_us_per_sale_whole_run"]:
            print(f"  kafka over the whole run {summarize.fmt(s['kafka_us_per_sale_whole_run'], 1)} µs/sale, "
                  f"without the JIT {summarize.fmt(s['kafka_us_per_sale_whole_run_without_jit'], 1)}; thread groups: "
                  + ", ".join(f"{g} {summarize.fmt(tuple(100 * x for x in v))} %"
                              for g, v in s["kafka_thread_group_share"].items() if v and v[0] >= 0.01))
    names = list(summary)
    if len(names) < 2:
        return
    base = names[0]
    print(f"\nverdict, the whole pipeline's CPU-µs per sale against {base} (ranges apart = a finding):")
    for name in names[1:]:
        rates = {p["offered_per_s"]: p for p in summary[name]["per_rate"]}
        for b in summary[base]["per_rate"]:
            o = rates.get(b["offered_per_s"])
            if o is None:
                continue
            note = "" if b["errors"] == 0 and o["errors"] == 0 else " (a step with errors: not every sale accepted)"
            print(f"  {name} at {b['offered_per_s']:,.0f}/s: {verdict(b['pipeline_us_per_sale'], o['pipeline_us_per_sale'])}{note}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--save")
    ap.add_argument("--stem", help="file name stem (default ab-<UTC time>: not bench-pipeline-*, whose summary "
                    "format tools/report reads)")
    ap.add_argument("--what", default="", help="what the series was (commands, time): kept in every file")
    ap.add_argument("--load", default="", help="the load average during the series")
    a = ap.parse_args(argv)
    variants = load(a.out)
    if not variants:
        print(f"ab: no runs in {a.out}", file=sys.stderr)
        return 1
    summary = {name: summarize_variant(runs) for name, runs in variants.items()}
    print_table(summary)
    if a.save:
        d = pathlib.Path(a.save)
        d.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        stem = a.stem or f"ab-{now:%Y%m%dT%H%M}Z"
        for name, runs in variants.items():
            doc = {"ab_variant": name, "ab_what": a.what, "date": now.isoformat(timespec="seconds"),
                   "commit": summarize.commit(), **summarize.machine(), "load_average": a.load,
                   "variant": runs[0]["variant"], "broker_cmdline": runs[0]["cmdline"], "summary": summary[name],
                   "runs": [{"round": r["round"], "knee": r["results"]["knee"], "steps": r["results"]["steps"],
                             "sales": r["results"]["sales"], "ok_total": r["results"]["ok_total"],
                             "counts": r["counts"] and {k: r["counts"].get(k) for k in ("match", "drain_seconds")},
                             "batches": r["batches"],
                             "kafka_threads": r["threads"]} for r in runs]}
            path = d / f"{stem}-{name}.json"
            path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
            print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
