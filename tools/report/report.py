#!/usr/bin/env python3
"""The technical report in Spanish and English from the committed result files.

  report.py [--root .] [--check]

Reads docs/results/ (results.py says what is there), draws docs/img/report-*.png (plots.py) and
fills the two templates (templates/informe-tecnico.es.md → docs/informe-tecnico.md,
templates/report.en.md → docs/report.md). A template holds the prose; every `{{key}}` in it is
replaced by a table, figure, verdict or YAML block generated here from the same numbers for both
languages, so the two documents cannot drift. An unknown key is an error.
--check writes to a temporary folder and compares byte for byte with the committed files (exit 1
and the names of the files that differ).
"""
import argparse
import filecmp
import glob
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plots  # noqa: E402
from i18n import T  # noqa: E402
from results import (SERIES, Spread, baseline_runs, compare, experiment_runs, load_json,  # noqa: E402
                     machine_summary, metric, optional, split_yaml_docs)

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = {"es": "docs/informe-tecnico.md", "en": "docs/report.md"}
TEMPLATES = {"es": "templates/informe-tecnico.es.md", "en": "templates/report.en.md"}
IMG = "docs/img"
MANIFESTS = "kubernetes"  # the brief's folders of plain manifests, split from the operator's render
KIND_DIRS = {"Deployment": "deployments", "Service": "services", "Ingress": "ingress",
             "HorizontalPodAutoscaler": "hpa", "Kafka": "kafka", "KafkaNodePool": "kafka", "KafkaTopic": "kafka", "KafkaUser": "kafka",
             "VirtualMachine": "valkey"}
MANIFESTS_README = """# kubernetes/ — generated, do not edit

The brief's folders of plain manifests (deployments, services, ingress, hpa, kafka; valkey holds the
KubeVirt VirtualMachines; other holds namespaces, config, secrets' shapes, RBAC and the rest). They
are split, one object per file, from `blackfriday-operator render -f config/samples/pipeline.yaml`
(committed as `docs/results/render/pipeline.yaml`) by `scripts/report`; CI checks both are current.

They document what the operator applies. To deploy, apply the operator and one `BlackFridayPipeline`
(docs/operator.md): the operator keeps these objects consistent with each other and with the spec,
which hand-applied copies would not be.
"""
CATEGORIES = ["Electronica", "Ropa", "Hogar", "Belleza"]
FWD = {"rest": "REST", "grpc": "gRPC"}


def num(v, digits=0):
    if v is None:
        return "—"
    if digits == 0:
        return f"{v:,.0f}".replace(",", " ")
    return f"{v:.{digits}f}"


def spread_txt(s, digits=0):
    if s.n == 0:
        return "—"
    if s.n == 1:
        return num(s.median, digits)
    return f"{num(s.median, digits)} ({num(s.min, digits)}–{num(s.max, digits)})"


def commits_txt(lang, commits):
    """Commits as recorded (`+uncommitted` marks a dirty tree), in the document's language."""
    return ", ".join(c.replace("+uncommitted", T[lang]["dirty"]) for c in commits)


def ratio_txt(r):
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def variant_label(lang, series, v):
    t = T[lang]
    if series == "kafka":
        return t["users"].format(u=v.split("-")[1])
    if series == "valkey":
        n = v.split("-")[1]
        return t["replica1"] if n == "1" else t["replicas"].format(r=n)
    return t[v]


def hpa_target(hpa):
    """The HPA's CPU target of a cluster run: its own field, else the "target N % CPU" its `what` states."""
    if hpa.get("target_cpu_percent") is not None:
        return hpa["target_cpu_percent"]
    m = re.search(r"target (\d+) ?% CPU", hpa.get("what", ""))
    return int(m.group(1)) if m else None


def replicas_txt(lang, n):
    return T[lang]["replica1"] if n == 1 else T[lang]["replicas"].format(r=n)


def max_lag(run):
    s = run.get("lag_samples") or []
    return max((p[1] for p in s), default=None)


class Report:
    def __init__(self, root, out_root):
        self.root, self.out = root, out_root
        self.results = os.path.join(root, "docs/results")
        self.exp = experiment_runs(self.results)
        self.base = baseline_runs(self.results)
        self.figs = {}

    # ------------------------------------------------------------------ figures (language-free)
    def draw(self):
        img = os.path.join(self.out, IMG)
        os.makedirs(img, exist_ok=True)

        def fig(name, fn, *args, **kw):
            fn(os.path.join(img, name), *args, **kw)
            self.figs[name.rsplit(".", 1)[0]] = f"img/{name}"

        fig("report-architecture.png", plots.architecture)
        e = self.exp
        if "kafka" in e:
            vs = [v for v in SERIES["kafka"] if v in e["kafka"]]
            fig("report-kafka-load.png", plots.series_panels, "Kafka: carga de Locust · Locust load",
                [v.split("-")[1] for v in vs], [e["kafka"][v] for v in vs], "usuarios de Locust · Locust users",
                bars=False, extra=("counts.drain_seconds", "drenaje s · drain s"))
            fig("report-consumer-lag.png", plots.lag_timeline,
                [(f"{v.split('-')[1]} usuarios · users", e["kafka"][v]) for v in vs])
        if "valkey" in e:
            vs = [v for v in SERIES["valkey"] if v in e["valkey"]]
            fig("report-valkey-replicas.png", plots.series_panels, "Valkey: réplicas · replicas",
                [v.split("-")[1] for v in vs], [e["valkey"][v] for v in vs], "réplicas · replicas",
                extra=("valkey.primary_cpu_s", "CPU primario s · primary CPU s"))
        if "forward" in e:
            vs = [v for v in SERIES["forward"] if v in e["forward"]]
            fig("report-rest-grpc.png", plots.latency_cdf, [(FWD[v], e["forward"][v]) for v in vs])
            fig("report-rest-grpc-bars.png", plots.series_panels, "REST vs gRPC", [FWD[v] for v in vs],
                [e["forward"][v] for v in vs], "rust-api → …")
        if "writers" in e:
            vs = [v for v in SERIES["writers"] if v in e["writers"]]
            fig("report-writers.png", plots.series_panels, "Escritores · writers",
                ["grpc-server-1\n×1", "grpc-server-2\n×2", "ambos · both\n×3"][:len(vs)], [e["writers"][v] for v in vs],
                "procesos escritores · writer processes")
        if self.base:
            fig("report-writer-baselines.png", plots.writer_baselines, self.base)
        runs = self.all_runs()
        if runs:
            fig("report-categories.png", plots.category_shares, runs, "Belleza", runs[0].get("featured_weight", 2.0))
        hpa = optional(self.results, "cluster/hpa-timeline.json")
        if hpa and hpa.get("samples"):
            fig("report-hpa-timeline.png", plots.replica_timeline, hpa["samples"],
                "HPA de rust-api (nodo de pruebas del clúster · cluster bench node)", extra="cpu_percent",
                extra_label="CPU % del request · of request", target=hpa_target(hpa))
        edit = optional(self.results, "cluster/writer-replicas.json")
        if edit and edit.get("samples"):
            fig("report-writer-replicas.png", plots.replica_timeline, edit["samples"],
                "grpcServer2.replicas editado · edited (nodo de pruebas del clúster · cluster bench node)",
                xlabel="s desde la edición 2→1 · s since the 2→1 edit")

    def all_runs(self):
        return [r for s in self.exp.values() for runs in s.values() for r in runs]

    # ------------------------------------------------------------------ generated text per language
    def figure(self, lang, key, caption_es, caption_en):
        if key not in self.figs:  # no data for it: the table or placeholder next to it says so
            return ""
        cap = caption_es if lang == "es" else caption_en
        return f"![{cap}]({self.figs[key]})\n\n*{T[lang]['fig']}: {cap}*"

    def series_table(self, lang, series):
        t = T[lang]
        if series not in self.exp:
            return t["no_results"].format(path=f"docs/results/experiments/{series}/")
        e = self.exp[series]
        vs = [v for v in SERIES[series] if v in e]
        ref = metric(e[vs[0]], "locust.ok_rps").median or 1
        cols = [t["variant"], t["runs"], t["rps"], t["ratio"], t["p50"], t["p95"], t["p99"], t["fail"], t["drain"]]
        if series == "kafka":
            cols += [t["lag_max"], t["e2e_p50"], t["e2e_p95"], t["per_batch"]]
        if series == "valkey":
            cols += [t["valkey_cpu"], t["repl_behind"]]
        if series == "writers":
            cols.append(t["split"])
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for v in vs:
            runs = e[v]
            rps = metric(runs, "locust.ok_rps")
            fails = sum(r["locust"]["failures"] for r in runs)
            row = [variant_label(lang, series, v), str(len(runs)), spread_txt(rps), f"{rps.median / ref:.2f}",
                   spread_txt(metric(runs, "locust.latency_ms.p50")), spread_txt(metric(runs, "locust.latency_ms.p95")),
                   spread_txt(metric(runs, "locust.latency_ms.p99")), str(fails),
                   spread_txt(metric(runs, "counts.drain_seconds"), 1)]
            if series == "kafka":
                row += [spread_txt(Spread([max_lag(r) for r in runs])),
                        spread_txt(metric(runs, "kafka.accepted_to_valkey_ms.p50"), 1),
                        spread_txt(metric(runs, "kafka.accepted_to_valkey_ms.p95"), 1),
                        spread_txt(metric(runs, "kafka.records_per_batch.mean"), 1)]
            if series == "valkey":
                row += [spread_txt(metric(runs, "valkey.primary_cpu_s"), 2),
                        spread_txt(metric(runs, "valkey.replication_bytes_behind"))]
            if series == "writers":
                names = sorted({k for r in runs for k in r.get("writer_split", {})})
                row.append(", ".join(f"{n} {num(Spread([r['writer_split'].get(n) for r in runs]).median)}" for n in names))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        m = machine_summary(r for v in vs for r in e[v])
        when = t["series_when"].format(first=m["first"], last=m["last"], load=num(m["load1"].median, 1),
                                       busy=num(m["busy"].median), commits=commits_txt(lang, m["commits"]))
        lines.append(f"*{t['median_note'].format(n=min(len(e[v]) for v in vs))}; {when}*")
        for c in m["conditions"]:
            lines += ["", t["conditions"].format(c=c)]
        return "\n".join(lines)

    def verdicts(self, lang, series):
        t = T[lang]
        if series not in self.exp:
            return ""
        e = self.exp[series]
        vs = [v for v in SERIES[series] if v in e]
        out = []
        for v in vs[1:]:
            for mpath, mkey, higher, unit in (("locust.ok_rps", "m_rps", True, ""), ("locust.latency_ms.p95", "m_p95", False, " ms")):
                a, b = metric(e[vs[0]], mpath), metric(e[v], mpath)
                kind = compare(a, b, higher)
                direction = t["higher"] if (b.median > a.median) else t["lower"]
                verdict = t["v_" + kind].format(what=t[mkey], dir=direction)
                out.append(t["verdict_line"].format(variant=variant_label(lang, series, v),
                                                    ref=variant_label(lang, series, vs[0]), metric=t[mkey],
                                                    a=num(a.median) + unit, b=num(b.median) + unit,
                                                    ratio=f"×{b.median / a.median:.2f}" if a.median else "—",
                                                    verdict=verdict))
        return "\n".join(out)

    def machine(self, lang):
        t = T[lang]
        m = machine_summary(self.all_runs())
        if not m:
            return t["no_results"].format(path="docs/results/experiments/")
        text = t["machine"].format(n=m["n"], first=m["first"], last=m["last"], commits=commits_txt(lang, m["commits"]),
                                   cpu=", ".join(m["cpu_models"]), cores=", ".join(map(str, m["cores"])),
                                   busy=num(m["busy"].median), busy_min=num(m["busy"].min), busy_max=num(m["busy"].max),
                                   load=num(m["load1"].median, 1), dur=", ".join(m["durations"]))
        if m["uncommitted"]:
            text += " " + t["uncommitted"].format(paths=", ".join(f"`{p}`" for p in m["uncommitted"]))
        return text  # each series' own conditions note sits under its table

    def baselines(self, lang):
        t = T[lang]
        if not self.base:
            return t["no_results"].format(path="docs/results/baselines/")
        kinds = ["writer", "franz_go_produce_sync", "kafka_go_defaults"]
        sp = {k: Spread([r["writers"][k]["sales_per_s"] for r in self.base]) for k in kinds}
        lines = [t["wb_head"], "|---|---|---|---|---|"]
        for k in kinds:
            p50 = Spread([r["writers"][k]["p50_ms"] for r in self.base])
            p99 = Spread([r["writers"][k]["p99_ms"] for r in self.base])
            ratio = sp["writer"].median / sp[k].median if sp[k].median else None
            lines.append(f"| {t['writer_kind'][k]} | {spread_txt(sp[k])} | {spread_txt(p50, 1)} | {spread_txt(p99, 1)} | "
                         f"{'—' if k == 'writer' else ratio_txt(ratio)} |")
        lines.append("")
        b0 = self.base[0]
        lines.append(f"*{t['median_note'].format(n=len(self.base))}; "
                     + t["wb_foot"].format(conc=b0["concurrency"], dur=b0["duration"], parts=b0["partitions"],
                                           cmd=b0["command"], first=self.base[0]["date"], last=self.base[-1]["date"],
                                           commits=commits_txt(lang, sorted({r["commit"] for r in self.base})))
                     + "*")
        names = sorted({r["writers"][k].get("name", "") for r in self.base for k in kinds} - {""})
        if names:
            lines += ["", t["wb_names"].format(names="; ".join(f"`{n}`" for n in names))]
        lines.append("")
        for k in kinds[1:]:
            kind = compare(sp[k], sp["writer"], True)
            direction = t["higher"] if sp["writer"].median > sp[k].median else t["lower"]
            lines.append(t["wb_verdict"].format(name=t["writer_kind"][k].split(",")[0].split(" (")[0],
                                                ratio=ratio_txt(sp['writer'].median / sp[k].median),
                                                verdict=t["v_" + kind].format(what=t["m_rps"], dir=direction)))
        conds = sorted({r.get("conditions") for r in self.base if r.get("conditions")})
        for c in conds:
            lines += ["", t["conditions"].format(c=c)]
        return "\n".join(lines)

    def categories(self, lang):
        t = T[lang]
        runs = self.all_runs()
        if not runs:
            return t["no_results"].format(path="docs/results/experiments/")
        weight = runs[0].get("featured_weight", 2.0)
        ok = {c: sum(r["locust"]["ok_by_category"].get(c, 0) for r in runs) for c in CATEGORIES}
        total = sum(ok.values()) or 1
        wsum = 3 + weight
        lines = [t["cat_head"], "|---|---|---|---|"]
        for c in CATEGORIES:
            exp = (weight if c == "Belleza" else 1.0) / wsum
            lines.append(f"| {c} | {num(ok[c])} | {100 * ok[c] / total:.1f} % | {100 * exp:.1f} % |")
        return "\n".join(lines)

    def featured_weight(self, lang):
        """The expected shares, from the featured weight the runs recorded (Locust's --featured-weight)."""
        runs = self.all_runs()
        w = runs[0].get("featured_weight", 2.0) if runs else 2.0
        total = 3 + w
        return T[lang]["featured"].format(w=f"{w:g}", total=f"{total:g}", pct=num(100 * w / total),
                                          other=num(100 / total), times=f"{w:g}")

    def exact_runs(self, lang):
        runs = self.all_runs()
        if not runs:
            return "—"
        n_ok = sum(1 for r in runs if r["counts"]["match"])
        sales = sum(r["locust"]["ok"] for r in runs)
        if lang == "es":
            return f"{n_ok} de {len(runs)} corridas exactas ({num(sales)} ventas aceptadas en total)"
        return f"{n_ok} of {len(runs)} runs exact ({num(sales)} accepted sales in total)"

    def evidence_file(self, lang, rel, caption_es, caption_en, fig_key=None):
        data = optional(self.results, rel)
        if data is None:
            if rel.startswith("cloud/"):
                return T[lang]["never_cloud"].format(path=f"docs/results/{rel}")
            return T[lang]["not_measured"].format(path=f"docs/results/{rel}")
        parts = [""]
        # text blocks: `kubectl` (real kubectl output) and any `*_summary` (a program's own output)
        texts = [k for k, v in sorted(data.items()) if isinstance(v, str) and (k == "kubectl" or k.endswith("_summary"))]
        meta = {k: v for k, v in data.items() if isinstance(v, (str, int, float)) and k not in texts}
        labels = T[lang]["ev_keys"]
        parts.append("| | |\n|---|---|\n" + "\n".join(f"| {labels.get(k, k)} | {v} |" for k, v in sorted(meta.items())))
        if T[lang]["ev_original"] and any(k in meta for k in ("what", "where", "conditions")):
            parts.append(T[lang]["ev_original"])
        if fig_key:
            parts.append(self.figure(lang, fig_key, caption_es, caption_en))
        runs = data.get("runs")
        if isinstance(runs, list) and runs:   # one row per run, the columns of the first row
            cols = list(runs[0])
            parts.append("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
                         + "\n".join("| " + " | ".join("—" if r.get(c) is None else str(r.get(c)) for c in cols) + " |"
                                      for r in runs))
        for k in texts:
            label = "" if k == "kubectl" else f"`{k}`:\n\n"
            parts.append(label + "```\n" + data[k].rstrip() + "\n```")
        return "\n\n".join(parts)

    def kafka_batching(self, lang):
        """What the measured records per produce batch say, worded from the figures themselves."""
        t = T[lang]
        e = self.exp.get("kafka", {})
        per = [(v, metric(e[v], "kafka.records_per_batch.mean")) for v in SERIES["kafka"] if v in e]
        per = [(v, sp) for v, sp in per if sp.n]
        if not per:
            return t["batch_none"]
        (v0, a), (v1, b) = per[0], per[-1]
        args = dict(lo=num(a.median, 2), hi=num(b.median, 2), v0=variant_label(lang, "kafka", v0),
                    v1=variant_label(lang, "kafka", v1))
        return t["batch_flat" if max(sp.median for _, sp in per) < 1.5 else "batch_rises"].format(**args)

    def hpa_summary(self, lang):
        """The HPA timeline of the cluster bench in one sentence: when it scaled, at what CPU, and back."""
        t = T[lang]
        d = optional(self.results, "cluster/hpa-timeline.json")
        if not d or not d.get("samples"):
            return t["not_measured"].format(path="docs/results/cluster/hpa-timeline.json")
        s = d["samples"]
        r0, peak = s[0]["replicas"], max(x["replicas"] for x in s)
        head = t["hpa_head"].format(cmd=d.get("command", "?"), date=d.get("date", "?"), users=d.get("users", "?"),
                                    load=d.get("load_seconds", "?"), r0=replicas_txt(lang, r0))
        up = next((x for x in s if x["replicas"] > r0), None)
        if up is None:
            seen = max((x["cpu_percent"] for x in s if x.get("cpu_percent") is not None), default=None)
            return head + " " + t["hpa_flat"].format(cpu=num(seen), target=num(hpa_target(d)))
        dec = next((x for x in s if (x.get("desired") or 0) > r0), up)
        cpu = dec.get("cpu_percent")
        text = head + " " + t["hpa_up"].format(desired=dec.get("desired") or up["replicas"], t_dec=num(dec["t_s"]),
                                               cpu=num(cpu), target=num(hpa_target(d)), t_up=num(up["t_s"]), peak=peak)
        down = next((x for x in s if x["t_s"] > up["t_s"] and x["replicas"] < peak), None)
        if down is not None:
            text += " " + t["hpa_down"].format(r=replicas_txt(lang, down["replicas"]), t=num(down["t_s"]),
                                              load=d.get("load_seconds", "?"))
        return text

    def writer_edit_summary(self, lang):
        """The writer replica edit of the cluster bench: each change of ready pods, and how the removed pod ended."""
        t = T[lang]
        d = optional(self.results, "cluster/writer-replicas.json")
        if not d or not d.get("samples"):
            return t["not_measured"].format(path="docs/results/cluster/writer-replicas.json")
        s = d["samples"]
        steps = [t["edit_step"].format(a=p["replicas"], b=q["replicas"], t=num(q["t_s"], 1))
                 for p, q in zip(s, s[1:]) if p["replicas"] != q["replicas"]]
        text = t["edit_head"].format(cmd=d.get("command", "?"), steps=", ".join(steps) or "—")
        if d.get("terminated_pod"):
            text += " " + t["edit_pod"].format(pod=d["terminated_pod"], code=d.get("terminated_exit_code", "?"))
        return text

    def capacity(self, lang):
        """The open-loop capacity benchmarks (scripts/benchmarks/pipeline --save docs/results/capacity): per file, the
        knee and the CPU per sale of each configuration, and REST against gRPC where both were run."""
        t = T[lang]
        files = sorted(glob.glob(os.path.join(self.results, "capacity", "bench-pipeline-*.json")))
        if not files:
            return t["no_results"].format(path="docs/results/capacity/")
        out = []
        for f in files:
            d = load_json(f)
            stem = os.path.basename(f)[:-len(".json")]
            m = re.match(r"bench-pipeline-(.+)-(\d{8}T\d{4}Z)$", stem)
            # A/B files (bench-pipeline-<time>-ab-<variant>) were driven by bf-loadgen, the default
            driver = m.group(1) if m else "bf-loadgen"
            limits = (d.get("load") or {}).get("limits") or {}
            out.append(t["cap_head"].format(file=f"docs/results/capacity/{stem}.json", driver=driver, date=d.get("date", "?"),
                                            commit=str(d.get("commit", "?"))[:12], load=d.get("load_average_at_start", "?"),
                                            cores=d.get("cpus", "?"),
                                            limits=t["cap_limits"].format(p99=num(limits["p99_ms"]), err=num(100 * limits["error_ratio"], 1))
                                            if limits.get("p99_ms") is not None and limits.get("error_ratio") is not None else ""))
            if d.get("ab_what"):
                out += ["", t["cap_ab"].format(what=d["ab_what"])]
            if d.get("extra_flags"):  # e.g. a warm-up or extra program flags: what the figures were taken with
                out += ["", t["cap_flags"].format(flags="; ".join(f"{k} `{v}`" for k, v in sorted(d["extra_flags"].items())))]
            out += ["", t["cap_cols"], "|---|---|---|---|---|---|---|---|---|"]
            rows = {}
            for r in d.get("summary", []):
                knee, cpu = Spread(r.get("knee_accepted_per_s") or []), Spread(r.get("cpu_us_per_sale_pipeline_total") or [])
                rows[(r["mode"], r["config"])] = (knee, cpu)
                exact = r.get("exact")
                exact_txt = "—" if not exact else f"{sum(1 for x in exact if x)}/{len(exact)}"
                gen = Spread((r.get("cpu_us_per_sale") or {}).get(driver) or [])
                what = t["cap_what"].get(r["config"], r.get("what", ""))
                out.append(f"| {FWD.get(r['mode'], r['mode'])} | `{r['config']}`: {what} | {r.get('repeats', '—')} | "
                           f"{spread_txt(knee)} | {spread_txt(Spread(r.get('p99_ms') or []))} | {spread_txt(cpu)} | "
                           f"{spread_txt(gen)} | {spread_txt(Spread(r.get('records_per_produce_request') or []), 1)} | {exact_txt} |")
            if ("rest", "full") in rows and ("grpc", "full") in rows:
                out.append("")
                for i, (mkey, higher) in enumerate((("m_knee", True), ("m_cpu", False))):
                    a, b = rows[("rest", "full")][i], rows[("grpc", "full")][i]
                    kind = compare(a, b, higher)
                    direction = t["higher"] if b.median > a.median else t["lower"]
                    out.append(t["verdict_line"].format(variant="gRPC", ref="REST", metric=t[mkey], a=num(a.median), b=num(b.median),
                                                        ratio=f"×{b.median / a.median:.2f}" if a.median else "—",
                                                        verdict=t["v_" + kind].format(what=t[mkey], dir=direction)))
            if os.path.exists(os.path.join(self.results, "capacity", stem + ".png")):
                cap = t["cap_fig"].format(driver=driver, date=d.get("date", "?"))
                out += ["", f"![{cap}](results/capacity/{stem}.png)", "", f"*{t['fig']}: {cap}*"]
            out.append("")
        return "\n".join(out).rstrip("\n")

    def missing(self, lang):
        """One bullet per family of results the report reads but does not have."""
        t = T[lang]
        want = [("experiments/kafka", "m_kafka"), ("experiments/valkey", "m_valkey"), ("experiments/forward", "m_forward"),
                ("experiments/writers", "m_writers"), ("baselines", "m_baselines"), ("capacity", "m_capacity"),
                ("cluster/hpa-timeline.json", "m_hpa"), ("cluster/writer-replicas.json", "m_edit"),
                ("vms/valkey-vms.json", "m_vms"), ("cloud/run.json", "m_cloud")]
        lines = []
        for rel, key in want:
            p = os.path.join(self.results, rel)
            present = os.path.isfile(p) or (os.path.isdir(p) and any(n.endswith(".json") for n in os.listdir(p)))
            if not present:
                lines.append(f"  - {t[key]} (`docs/results/{rel}`)")
        return "\n".join(lines) if lines else t["m_none"]

    def yaml_section(self, lang):
        path = os.path.join(self.results, "render/pipeline.yaml")
        if not os.path.exists(path):
            return T[lang]["not_measured"].format(path="docs/results/render/pipeline.yaml")
        docs = split_yaml_docs(open(path).read())
        cols = "| tipo | namespace | nombre | archivo |" if lang == "es" else "| kind | namespace | name | file |"
        head = cols + "\n|---|---|---|---|\n" + "\n".join(
            f"| {k} | {ns or '—'} | {n} | [`{manifest_path(k, ns, n)}`](../{manifest_path(k, ns, n)}) |"
            for k, ns, n, _ in docs)
        blocks = []
        for k, ns, n, text in docs:
            label = f"{k} {ns + '/' if ns else ''}{n}"
            blocks.append(f"<details><summary><code>{label}</code></summary>\n\n```yaml\n{text}\n```\n\n</details>")
        count = (f"{len(docs)} objetos" if lang == "es" else f"{len(docs)} objects")
        return f"{head}\n\n{count}:\n\n" + "\n".join(blocks)

    def values(self, lang):
        fig = lambda k, es, en: self.figure(lang, k, es, en)  # noqa: E731
        v = {
            "machine": self.machine(lang),
            "exact_runs": self.exact_runs(lang),
            "categories": self.categories(lang),
            "featured_weight": self.featured_weight(lang),
            "baselines": self.baselines(lang),
            "yaml": self.yaml_section(lang),
            "kafka_batching": self.kafka_batching(lang),
            "hpa_summary": self.hpa_summary(lang),
            "writer_edit_summary": self.writer_edit_summary(lang),
            "capacity": self.capacity(lang),
            "missing": self.missing(lang),
            "fig:architecture": fig("report-architecture", "arquitectura de este sistema (dibujada por tools/report/plots.py)",
                                    "architecture of this system (drawn by tools/report/plots.py)"),
            "fig:kafka": fig("report-kafka-load", "Kafka bajo distintas cargas de Locust", "Kafka under different Locust loads"),
            "fig:lag": fig("report-consumer-lag", "lag del consumidor durante cada corrida de la serie kafka",
                           "consumer lag during each run of the kafka series"),
            "fig:valkey": fig("report-valkey-replicas", "Valkey con 0, 1 y 2 réplicas", "Valkey with 0, 1 and 2 replicas"),
            "fig:forward": fig("report-rest-grpc", "distribución de latencias REST vs gRPC (todas las corridas)",
                               "REST vs gRPC latency distributions (all runs)"),
            "fig:forward_bars": fig("report-rest-grpc-bars", "REST vs gRPC por corrida", "REST vs gRPC per run"),
            "fig:writers": fig("report-writers", "escritores: 1 vs 2 réplicas (y ambos)", "writers: 1 vs 2 replicas (and both)"),
            "fig:baselines": fig("report-writer-baselines", "el escritor frente a franz-go ProduceSync y kafka-go",
                                 "the writer against franz-go ProduceSync and kafka-go"),
            "fig:categories": fig("report-categories", "ventas por categoría con el peso de la categoría destacada",
                                  "sales per category with the featured category's weight"),
            "evidence:hpa": self.evidence_file(lang, "cluster/hpa-timeline.json", "réplicas de rust-api bajo carga (HPA)",
                                               "rust-api replicas under load (HPA)", "report-hpa-timeline"),
            "evidence:writer_edit": self.evidence_file(lang, "cluster/writer-replicas.json", "edición de grpcServer2.replicas",
                                                       "grpcServer2.replicas edit", "report-writer-replicas"),
            "evidence:vms": self.evidence_file(lang, "vms/valkey-vms.json", "", ""),
            "evidence:cloud": self.evidence_file(lang, "cloud/run.json", "", ""),
        }
        for s in SERIES:
            v[f"table:{s}"] = self.series_table(lang, s)
            v[f"verdicts:{s}"] = self.verdicts(lang, s)
        return v

    def check_templates(self):
        """Before any drawing: every {{key}} of both templates is one the generator fills."""
        for lang in ("es", "en"):
            tpl = open(os.path.join(HERE, TEMPLATES[lang])).read()
            unknown = sorted(set(re.findall(r"\{\{([^}]+)\}\}", tpl)) - set(self.values(lang)))
            if unknown:
                sys.exit(f"report: {TEMPLATES[lang]} uses unknown keys: {', '.join(unknown)}")

    def write_docs(self):
        self.check_templates()
        for lang in ("es", "en"):
            tpl = open(os.path.join(HERE, TEMPLATES[lang])).read()
            vals = self.values(lang)
            text = re.sub(r"\{\{([^}]+)\}\}", lambda m: vals[m.group(1)], tpl)
            path = os.path.join(self.out, DOCS[lang])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text.rstrip("\n") + "\n")


def manifest_path(kind, ns, name):
    folder = KIND_DIRS.get(kind, "other")
    fname = f"{ns}.{name}.yaml" if folder != "other" else f"{kind.lower()}.{ns or 'cluster'}.{name}.yaml"
    return f"{MANIFESTS}/{folder}/{fname}"


def write_manifests(results, out):
    path = os.path.join(results, "render/pipeline.yaml")
    if not os.path.exists(path):
        return
    base = os.path.join(out, MANIFESTS)
    for kind, ns, name, text in split_yaml_docs(open(path).read()):
        rel = manifest_path(kind, ns, name)
        os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
        with open(os.path.join(out, rel), "w") as f:
            f.write("# generated by scripts/report from blackfriday-operator render -f config/samples/pipeline.yaml\n")
            f.write(text + "\n")
    with open(os.path.join(base, "README.md"), "w") as f:
        f.write(MANIFESTS_README)


def outputs(root):
    """Every file the generator owns, relative to root: the two documents, docs/img/report-*.png and
    kubernetes/**."""
    files = list(DOCS.values())
    for d, _, names in sorted(os.walk(os.path.join(root, MANIFESTS))):
        files += sorted(os.path.relpath(os.path.join(d, n), root) for n in names)
    img = os.path.join(root, IMG)
    if os.path.isdir(img):
        files += [f"{IMG}/{f}" for f in sorted(os.listdir(img)) if f.startswith("report-") and f.endswith(".png")]
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    if not a.check:
        img = os.path.join(root, IMG)
        if os.path.isdir(img):  # figures that no longer have data must not linger
            for f in os.listdir(img):
                if f.startswith("report-") and f.endswith(".png"):
                    os.remove(os.path.join(img, f))
        shutil.rmtree(os.path.join(root, MANIFESTS), ignore_errors=True)
        r = Report(root, root)
        r.check_templates()
        r.draw()
        r.write_docs()
        write_manifests(r.results, root)
        files = outputs(root)
        print(f"report: wrote {', '.join(DOCS.values())}, {sum(f.startswith(IMG) for f in files)} figures in {IMG}/, "
              f"{sum(f.startswith(MANIFESTS) for f in files)} files in {MANIFESTS}/")
        return 0
    tmp = tempfile.mkdtemp(prefix="bf-report-")
    try:
        r = Report(root, tmp)
        r.check_templates()
        r.draw()
        r.write_docs()
        write_manifests(r.results, tmp)
        want, have = set(outputs(tmp)), set(outputs(root))
        bad = sorted(want ^ have)
        bad += [f for f in sorted(want & have) if not filecmp.cmp(os.path.join(tmp, f), os.path.join(root, f), shallow=False)]
        if bad:
            print("report: the committed report differs from what its results generate: " + ", ".join(bad), file=sys.stderr)
            print("report: run scripts/report and commit the result", file=sys.stderr)
            return 1
        print(f"report: {len(want)} files reproduce byte for byte from docs/results")
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
