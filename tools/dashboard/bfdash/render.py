"""Draws the dashboard to a PNG following each panel's gridPos, and prints a terminal summary."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

BG, PANEL, EDGE, FG, MUTED = "#111217", "#181b1f", "#2c3235", "#d8d9da", "#8e9199"
PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c"]
COL_IN, ROW_IN = 0.62, 0.42  # inches per grid column / grid row


def fmt(v, decimals=2):
    if v is None:
        return "—"
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and decimals == 0:
            return f"{int(v):,}"
        return f"{v:,.{decimals}f}"
    return str(v)


def _decimals(panel_json, default=2):
    d = ((panel_json or {}).get("fieldConfig") or {}).get("defaults", {}).get("decimals")
    return default if d is None else d


def render_png(dashboard, results, path, subtitle=""):
    rows = max(r["gridPos"]["y"] + r["gridPos"]["h"] for r in results)
    W, H = 24 * COL_IN, rows * ROW_IN + 0.8
    fig = plt.figure(figsize=(W, H), dpi=100, facecolor=BG)
    fig.text(0.01, 1 - 0.35 / H, dashboard.get("title", ""), color=FG, fontsize=16, weight="bold", va="center")
    if subtitle:
        fig.text(0.99, 1 - 0.35 / H, subtitle, color=MUTED, fontsize=9, va="center", ha="right")
    top = 0.7  # inches reserved for the header
    pj = {p.get("id"): p for p in _panels(dashboard)}
    pad = 0.06
    for r in results:
        g = r["gridPos"]
        x0 = (g["x"] * COL_IN + pad) / W
        w = (g["w"] * COL_IN - 2 * pad) / W
        y_top_in = top + g["y"] * ROW_IN + pad
        h_in = g["h"] * ROW_IN - 2 * pad
        y0 = 1 - (y_top_in + h_in) / H
        h = h_in / H
        if r["type"] == "row":
            fig.text(x0, y0 + h / 2, "▾ " + r["title"], color=FG, fontsize=12, weight="bold", va="center")
            continue
        frame = fig.add_axes([x0, y0, w, h])
        frame.set_facecolor(PANEL)
        for s in frame.spines.values():
            s.set_color(EDGE)
        frame.set_xticks([]), frame.set_yticks([])
        frame.text(0.015, 1 - 0.2 / h_in, r["title"], color=FG, fontsize=10, weight="bold",
                   va="center", transform=frame.transAxes)
        # content area under the title
        cx0, cw = x0 + 0.02 * w, w * 0.96
        ch = h - 0.45 / H
        cy0 = y0 + 0.06 / H
        dec = _decimals(pj.get(r["id"]))
        if r.get("error"):
            frame.text(0.5, 0.45, "Error: " + r["error"], color="#f2495c", ha="center", va="center",
                       fontsize=9, wrap=True, transform=frame.transAxes)
        elif r["type"] == "text":
            frame.text(0.5, 0.45, r.get("text", ""), color=FG, ha="center", va="center",
                       fontsize=min(28, 10 + 3 * g["h"]), weight="bold", transform=frame.transAxes)
        elif r["type"] == "stat":
            vals = r.get("values") or []
            if not vals:
                frame.text(0.5, 0.45, "No data", color=MUTED, ha="center", va="center", fontsize=12,
                           transform=frame.transAxes)
            n = len(vals)
            for i, (name, v) in enumerate(vals):
                xc = (i + 0.5) / n
                frame.text(xc, 0.52, fmt(v, dec if isinstance(v, float) else 0), color="#ff9830",
                           ha="center", va="center", fontsize=20 if n <= 2 else 16, weight="bold",
                           transform=frame.transAxes)
                frame.text(xc, 0.2, name, color=MUTED, ha="center", va="center", fontsize=9,
                           transform=frame.transAxes)
        elif r["type"] == "barchart":
            bars = r.get("bars") or []
            ax = fig.add_axes([cx0 + 0.6 / W, cy0 + 0.35 / H, cw - 0.7 / W, ch - 0.45 / H])
            _style(ax)
            if bars:
                names = [b[0] for b in bars]
                vals = [b[1] or 0 for b in bars]
                cont = ax.bar(names, vals, color=PALETTE[: len(vals)] * 2, width=0.7)
                ax.bar_label(cont, labels=[fmt(v, dec) for v in vals], color=FG, fontsize=9, padding=2)
                ax.set_ylim(0, max(vals) * 1.18 if max(vals) > 0 else 1)
            else:
                ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center", transform=ax.transAxes)
        elif r["type"] == "timeseries":
            ax = fig.add_axes([cx0 + 0.6 / W, cy0 + 0.45 / H, cw - 0.7 / W, ch - 0.6 / H])
            _style(ax)
            times = r.get("time") or []
            series = r.get("series") or []
            if times and series:
                for i, (name, vals) in enumerate(series):
                    ax.plot(times, vals, color=PALETTE[(i + 5) % len(PALETTE)], lw=1.5, marker=".",
                            ms=3, label=name)
                ax.legend(loc="upper left", fontsize=8, facecolor=PANEL, edgecolor=EDGE, labelcolor=FG)
                loc = mdates.AutoDateLocator()
                ax.xaxis.set_major_locator(loc)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
            else:
                ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center", transform=ax.transAxes)
    fig.savefig(path, facecolor=BG)
    plt.close(fig)


def _style(ax):
    ax.set_facecolor(PANEL)
    for s in ax.spines.values():
        s.set_color(EDGE)
    ax.tick_params(colors=FG, labelsize=8)
    ax.grid(axis="y", color=EDGE, lw=0.5)


def _panels(d):
    out = []
    for p in d.get("panels", []):
        out.append(p)
        out.extend(p.get("panels") or [])
    return out


def summary(results, variables):
    lines = ["dashboard variables: " + ", ".join(f"{k}={v}" for k, v in variables.items())]
    for r in results:
        head = f"[{r['id']:>2}] {r['title']}"
        if r["type"] == "row":
            lines.append(f"---- {r['title']} ----")
            continue
        q = f"  ({'; '.join(r['queries'])})" if r["queries"] else ""
        if r.get("error"):
            body = "ERROR " + r["error"]
        elif r["type"] == "text":
            body = r.get("text", "")
        elif r["type"] == "stat":
            body = ", ".join(f"{n}={fmt(v, r.get('decimals', 2))}" for n, v in r.get("values") or []) or "No data"
        elif r["type"] == "barchart":
            body = "  ".join(f"{c}={fmt(v, r.get('decimals', 2))}" for c, v in r.get("bars") or []) or "No data"
        elif r["type"] == "timeseries":
            t, s = r.get("time") or [], r.get("series") or []
            if t and s:
                vals = [v for v in s[0][1] if v is not None]
                body = (f"{len(t)} points {t[0]:%H:%M:%S}–{t[-1]:%H:%M:%S}, {s[0][0]} "
                        f"min={fmt(min(vals))} max={fmt(max(vals))} last={fmt(vals[-1])}")
            else:
                body = "No data"
        else:
            body = ""
        lines.append(f"{head}: {body}{q}")
    return "\n".join(lines)
