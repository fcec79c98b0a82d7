"""The report's figures, drawn with matplotlib from the result files (and the architecture from the
component list below). Every label is bilingual (Spanish · English): one set of PNGs serves both
documents. Output is byte-for-byte reproducible: fixed size and DPI, the Agg backend, no timestamp
in the PNG metadata."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

from results import Spread, merged_histogram, metric  # noqa: E402

DPI = 110
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


def _save(fig, path):
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def _errbar(ax, xs, spreads, color, label=None, bars=False, width=0.6):
    med = [s.median for s in spreads]
    lo = [s.median - s.min for s in spreads]
    hi = [s.max - s.median for s in spreads]
    if bars:
        ax.bar(xs, med, width=width, color=color, alpha=0.8, label=label)
        ax.errorbar(xs, med, yerr=[lo, hi], fmt="none", ecolor="black", capsize=5)
    else:
        ax.errorbar(xs, med, yerr=[lo, hi], fmt="-o", color=color, capsize=5, label=label)
    # every run as a dot: the reader sees the spread, not only its ends
    for x, s in zip(xs, spreads):
        ax.scatter([x] * s.n, s.values, s=12, color="black", zorder=3)


def series_panels(path, title, labels, runs_by_variant, xlabel, bars=True, extra=None):
    """Two or three panels: accepted sales/s and p95 latency (and `extra` = (path, ylabel)) per variant,
    median with min–max bars and every run as a dot."""
    panels = [("locust.ok_rps", "ventas aceptadas/s · accepted sales/s"),
              ("locust.latency_ms.p95", "p95 ms")]
    if extra:
        panels.append(extra)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    xs = list(range(len(labels)))
    for i, (ax, (mpath, ylabel)) in enumerate(zip(axes, panels)):
        spreads = [metric(runs, mpath) for runs in runs_by_variant]
        _errbar(ax, xs, spreads, COLORS[i], bars=bars)
        ax.set_xticks(xs)
        ax.set_xticklabels(labels)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    n = min(len(r) for r in runs_by_variant)
    fig.suptitle(f"{title}  (mediana y mín–máx · median and min–max, n = {n})", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def latency_cdf(path, named_runs):
    """Latency distributions (Locust's histograms, every run of a variant merged) as CDFs."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for i, (label, runs) in enumerate(named_runs):
        hist = merged_histogram(runs)
        total = sum(hist.values())
        if not total:
            continue
        acc, xs, ys = 0, [], []
        for ms, n in hist.items():
            acc += n
            xs.append(max(ms, 1))
            ys.append(acc / total)
        ax.step(xs, ys, where="post", color=COLORS[i], label=f"{label} ({total} req.)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("latencia de Locust (ms, log) · Locust latency (ms, log)")
    ax.set_ylabel("fracción ≤ x · fraction ≤ x")
    for q in (0.5, 0.95, 0.99):
        ax.axhline(q, color="grey", lw=0.6, ls=":")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("REST vs gRPC: distribución de latencias · latency distribution", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def lag_timeline(path, named_runs):
    """Consumer lag (records in Kafka not yet in Valkey) over time during each run, one panel per
    variant, every run a line; and Locust's accepted sales/s on a second axis."""
    fig, axes = plt.subplots(1, len(named_runs), figsize=(4.2 * len(named_runs), 3.6))
    axes = axes if len(named_runs) > 1 else [axes]
    for ax, (label, runs) in zip(axes, named_runs):
        ax2 = ax.twinx()
        for k, r in enumerate(runs):
            s = r.get("lag_samples") or []
            if s:
                ax.plot([p[0] for p in s], [p[1] for p in s], color=COLORS[0], alpha=0.9, lw=1,
                        label="lag (registros · records)" if k == 0 else None)
            t = r.get("timeline") or []
            if t:
                ax2.plot([p[0] for p in t], [p[2] or 0 for p in t], color=COLORS[1], alpha=0.5, lw=0.8,
                         label="req/s (Locust)" if k == 0 else None)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("s desde el inicio de la carga · s since load start")
        ax.set_ylim(bottom=0)
        ax2.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("lag del consumidor · consumer lag")
    ax2.set_ylabel("req/s")
    h1, l1 = axes[0].get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    axes[0].legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    fig.suptitle("Kafka: lag del consumidor durante la corrida · consumer lag during the run", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def writer_baselines(path, runs):
    kinds = [("writer", "grpc-server\n(nuestro · ours)"),
             ("franz_go_produce_sync", "franz-go\nProduceSync"),
             ("kafka_go_defaults", "kafka-go\nWriter defaults")]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
    xs = list(range(len(kinds)))
    for ax, (key, ylabel, log) in zip(axes, [("sales_per_s", "ventas/s · sales/s (log)", True),
                                             ("p50_ms", "p50 ms (log)", True)]):
        spreads = [Spread([r["writers"][k][key] for r in runs]) for k, _ in kinds]
        _errbar(ax, xs, spreads, COLORS[0], bars=True)
        ax.set_xticks(xs)
        ax.set_xticklabels([lbl for _, lbl in kinds], fontsize=8)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Escritor · writer, {runs[0]['concurrency']} llamadas concurrentes · concurrent calls "
                 f"(n = {len(runs)})", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def category_shares(path, runs, featured, weight):
    cats = ["Electronica", "Ropa", "Hogar", "Belleza"]
    ok = {c: sum(r["locust"]["ok_by_category"].get(c, 0) for r in runs) for c in cats}
    total = sum(ok.values()) or 1
    w = {c: (weight if c == featured else 1.0) for c in cats}
    expected = {c: w[c] / sum(w.values()) for c in cats}
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    xs = list(range(len(cats)))
    ax.bar([x - 0.2 for x in xs], [100 * ok[c] / total for c in cats], width=0.4, color=COLORS[0],
           label="observado · observed")
    ax.bar([x + 0.2 for x in xs], [100 * expected[c] for c in cats], width=0.4, color=COLORS[1], alpha=0.6,
           label=f"esperado · expected (peso · weight {weight:g})")
    ax.set_xticks(xs)
    ax.set_xticklabels(cats)
    ax.set_ylabel("% de ventas · % of sales")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Ventas por categoría (todas las corridas) · sales per category (all runs)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def replica_timeline(path, samples, title, key="replicas", extra=None, extra_label=None, target=None,
                     xlabel="s desde el inicio de la carga · s since load start"):
    """A cluster run's replica count over time (HPA or an edit of spec.replicas), from a result file;
    `extra` a second series on its own axis (the HPA's CPU reading), `target` a horizontal line on it."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ts = [s["t_s"] for s in samples]
    ax.step(ts, [s.get(key) for s in samples], where="post", color=COLORS[0], label="réplicas · replicas")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("réplicas · replicas")
    ax.set_ylim(bottom=0, top=max((s.get(key) or 0) for s in samples) + 1)
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    handles = ax.get_legend_handles_labels()
    if extra and any(extra in s for s in samples):
        ax2 = ax.twinx()
        ax2.plot(ts, [s.get(extra) for s in samples], color=COLORS[1], alpha=0.7, label=extra_label or extra)
        if target is not None:
            ax2.axhline(target, color=COLORS[1], linestyle="--", linewidth=1,
                        label=f"objetivo · target {target:g}")
        ax2.set_ylabel(extra_label or extra)
        ax2.set_ylim(bottom=0)
        h2 = ax2.get_legend_handles_labels()
        handles = (handles[0] + h2[0], handles[1] + h2[1])
    ax.legend(*handles, fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


# ------------------------------------------------------------------ the architecture of this system
# (namespace, box label, x, y) in a 100 × 64 canvas; arrows between box keys.
BOXES = {
    "locust": ("laptop", "Locust\n(FastHttpUser)", 6, 56),
    "ingress": ("ingress-nginx", "NGINX Ingress\n/api/v1/ventas", 27, 56),
    "rustapi": ("ingest", "rust-api (Rust, axum)\nHPA 1–3 @ CPU 30 %", 50, 56),
    "client": ("ingest", "grpc-client (Go)\nHPA 1–3", 74, 56),
    "w1": ("ingest", "grpc-server-1 (Go)\n1 réplica · replica", 64, 40),
    "w2": ("ingest", "grpc-server-2 (Go)\n2 réplicas · replicas", 86, 40),
    "kafka": ("kafka", "Strimzi Kafka (KRaft)\nKafkaTopic ventas", 75, 24),
    "consumer": ("ingest", "consumer (Go)\nHPA 1–2, 1 FCALL / lote", 50, 24),
    "valkey": ("valkey", "KubeVirt VMs\nvalkey-0 primario · primary\nvalkey-1 réplica (AOF, PVC)", 25, 24),
    "grafana": ("grafana", "Grafana (Helm)\ndashboard + datasource", 25, 8),
    "zot": ("fuera · outside", "Zot (VM, fuera del clúster)\nimágenes de cada pod y disco VM\ncatálogo OCI de Locust", 6, 34),
    "operator": ("blackfriday-system", "blackfriday-operator\nBlackFridayPipeline →\ntodo lo demás · all the rest", 66, 8),
}
ARROWS = [
    ("locust", "ingress", "HTTP"), ("ingress", "rustapi", ""), ("rustapi", "client", "HTTP/JSON"),
    ("client", "w1", "gRPC"), ("client", "w2", "gRPC round_robin"), ("w1", "kafka", ""), ("w2", "kafka", "acks=all"),
    ("kafka", "consumer", "grupo · group"), ("consumer", "valkey", "FCALL"), ("valkey", "grafana", "lectura · read"),
    ("zot", "locust", "catálogo · catalog:v1"),
]
NS_COLORS = {"laptop": "#eeeeee", "fuera · outside": "#eeeeee", "ingress-nginx": "#dbe9f6", "ingest": "#fde9d2",
             "kafka": "#dff0d8", "valkey": "#f2dede", "grafana": "#e8e0f0", "blackfriday-system": "#fff7c2"}


def _edge(c, other, w, h, pad=0.9):
    """Where the line from box centre c towards `other` leaves the box (w × h plus its rounding)."""
    dx, dy = other[0] - c[0], other[1] - c[1]
    hw, hh = w / 2 + pad, h / 2 + pad
    t = min(hw / abs(dx) if dx else float("inf"), hh / abs(dy) if dy else float("inf"))
    return (c[0] + dx * t, c[1] + dy * t)


def architecture(path):
    fig, ax = plt.subplots(figsize=(11, 6.6))
    ax.set_xlim(-6, 100)
    ax.set_ylim(0, 64)
    ax.axis("off")
    w, h = 19, 8.5
    for key, (ns, label, x, y) in BOXES.items():
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.4",
                                    fc=NS_COLORS[ns], ec="#555555", lw=1))
        ax.text(x, y + 0.6, label, ha="center", va="center", fontsize=7.5)
        ax.text(x - w / 2 + 0.3, y - h / 2 + 0.3, ns, ha="left", va="bottom", fontsize=6, color="#444444",
                style="italic")
    for a, b, label in ARROWS:
        (x1, y1), (x2, y2) = BOXES[a][2:4], BOXES[b][2:4]
        start, end = _edge((x1, y1), (x2, y2), w, h), _edge((x2, y2), (x1, y1), w, h)
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.2))
        if label:
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            if abs(end[1] - start[1]) < 1:  # a short horizontal arrow: the label above it, not over it
                ax.text(mx, my + 1.0, label, ha="center", va="bottom", fontsize=6, color="#333333", zorder=3)
            else:  # a long or slanted one: on the line, on a white ground
                ax.text(mx, my, label, ha="center", va="center", fontsize=6.5, color="#333333",
                        bbox=dict(fc="white", ec="none", pad=0.6), zorder=3)
    # the operator reconciles every namespace (dashed)
    ox, oy = BOXES["operator"][2:4]
    for target in ("consumer", "kafka", "w1", "valkey"):
        tx, ty = BOXES[target][2:4]
        ax.annotate("", xy=_edge((tx, ty), (ox, oy), w, h), xytext=_edge((ox, oy), (tx, ty), w, h),
                    arrowprops=dict(arrowstyle="-|>", ls="--", color="#b8860b"))
    ax.text(77, 14.5, "reconcilia · reconciles\n(Deployments, Services, HPA, Ingress,\nKafka, VMs, Grafana ConfigMaps)",
            fontsize=6.5, color="#8a6d00")
    handles = [plt.Rectangle((0, 0), 1, 1, fc=c, ec="#555555") for c in NS_COLORS.values()]
    ax.legend(handles, list(NS_COLORS), loc="lower left", fontsize=6.5, title="namespace", title_fontsize=7,
              ncol=2, frameon=False, bbox_to_anchor=(-0.02, -0.02))
    ax.set_title("blackfriday-operator: componentes y namespaces · components and namespaces", fontsize=11)
    fig.tight_layout()
    _save(fig, path)
