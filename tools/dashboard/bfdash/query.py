"""Runs each panel's redis-datasource query against Valkey and shapes the result as Grafana would.

Frames follow the plugin's backend (RedisGrafana/grafana-redis-datasource pkg/):
- hgetall / hmget: ONE row, one field per hash field; values that parse as numbers are numbers
- zrange (…WITHSCORES): ONE row, one field per member, the score as its value
- xrange: fields `$streamId`, `$time` (from the entry id), then every entry field as a string
Then the panel's transformations (reduce seriesToRows, convertFieldType, organize) and the panel's
own reduction (stat: reduceOptions; barchart: xField; timeseries: time + numbers).
"""
import datetime as dt
import re
import shlex

from .load import all_panels, substitute, variables


class Field:
    def __init__(self, name, ftype, values):
        self.name, self.type, self.values = name, ftype, list(values)

    def __repr__(self):
        return f"Field({self.name!r}, {self.type}, {self.values[:5]!r}{'…' if len(self.values) > 5 else ''})"


def _num_or_str(s):
    try:
        f = float(s)
        return f, "number"
    except (TypeError, ValueError):
        return s, "string"


def _s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def command_line(t):
    """The Valkey command a target sends, as a list of strings."""
    if t.get("type") == "cli" or t.get("query"):
        return shlex.split(t["query"])
    c, k = t["command"], t.get("keyName", "")
    if c == "hgetall":
        return ["HGETALL", k]
    if c == "hget":
        return ["HGET", k, t["field"]]
    if c == "hmget":
        return ["HMGET", k] + shlex.split(t["field"])
    if c == "get":
        return ["GET", k]
    if c == "zrange":
        extra = [t["zrangeQuery"]] if t.get("zrangeQuery") else []
        return ["ZRANGE", k, str(t["min"]), str(t["max"])] + extra + ["WITHSCORES"]
    if c in ("xrange", "xrevrange"):
        start, end = t.get("start") or "-", t.get("end") or "+"
        args = [start, end] if c == "xrange" else [end, start]
        if int(t.get("count") or 0) > 0:
            args += ["COUNT", str(int(t["count"]))]
        return [c.upper(), k] + args
    raise ValueError(f"unsupported command {c!r}")


def run_target(client, t):
    """Executes one target; returns a list of Fields (one frame)."""
    argv = command_line(t)
    res = client.execute_command(*argv)
    cmd = argv[0].upper()
    fields = []
    if cmd == "HGETALL":
        items = res.items() if isinstance(res, dict) else zip(res[::2], res[1::2])
        for k, v in items:
            val, ft = _num_or_str(_s(v))
            fields.append(Field(_s(k), ft, [val]))
    elif cmd == "HMGET":
        for name, v in zip(argv[2:], res):
            val, ft = _num_or_str(_s(v)) if v is not None else (None, "string")
            fields.append(Field(name, ft, [val]))
    elif cmd in ("HGET", "GET"):
        if res is not None:
            val, ft = _num_or_str(_s(res))
            fields.append(Field(argv[2] if cmd == "HGET" else "Value", ft, [val]))
    elif cmd == "ZRANGE":
        pairs = res if res and isinstance(res[0], (list, tuple)) else list(zip(res[::2], res[1::2]))
        for m, sc in pairs:
            fields.append(Field(_s(m), "number", [float(sc)]))
    elif cmd in ("XRANGE", "XREVRANGE"):
        ids, times, cols = [], [], {}
        for n, (eid, kv) in enumerate(res):
            eid = _s(eid)
            ids.append(eid)
            ms = int(eid.split("-")[0])
            times.append(dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc))
            items = kv.items() if isinstance(kv, dict) else zip(kv[::2], kv[1::2])
            for k, v in items:
                col = cols.setdefault(_s(k), [None] * n)
                col.extend([None] * (n - len(col)))
                col.append(_s(v))
        for col in cols.values():
            col.extend([None] * (len(ids) - len(col)))
        fields = [Field("$streamId", "string", ids), Field("$time", "time", times)]
        fields += [Field(k, "string", v) for k, v in cols.items()]
    else:
        fields.append(Field("Value", "string", [_s(res)]))
    return fields


REDUCER_NAMES = {"lastNotNull": "Last *", "last": "Last", "max": "Max", "min": "Min",
                 "sum": "Total", "mean": "Mean", "count": "Count", "firstNotNull": "First *"}


def _reduce(values, r):
    vals = [v for v in values if v is not None]
    if r == "lastNotNull":
        return vals[-1] if vals else None
    if r == "firstNotNull":
        return vals[0] if vals else None
    if r == "last":
        return values[-1] if values else None
    if not vals:
        return None
    return {"max": max, "min": min, "sum": sum, "count": len,
            "mean": lambda v: sum(v) / len(v)}[r](vals)


def apply_transformations(fields, transformations):
    for tr in transformations or []:
        tid, opt = tr.get("id"), tr.get("options") or {}
        if tr.get("disabled"):
            continue
        if tid == "reduce":
            reducers = opt.get("reducers") or ["lastNotNull"]
            if opt.get("mode", "seriesToRows") != "seriesToRows":
                raise ValueError("only reduce mode seriesToRows is supported")
            nums = [f for f in fields if f.type == "number"]
            out = [Field("Field", "string", [f.name for f in nums])]
            for r in reducers:
                out.append(Field(REDUCER_NAMES.get(r, r), "number", [_reduce(f.values, r) for f in nums]))
            fields = out
        elif tid == "convertFieldType":
            conv = {c["targetField"]: c["destinationType"] for c in opt.get("conversions") or []}
            new = []
            for f in fields:
                if conv.get(f.name) == "number":
                    vals = []
                    for v in f.values:
                        try:
                            vals.append(float(v))
                        except (TypeError, ValueError):
                            vals.append(None)
                    f = Field(f.name, "number", vals)
                elif conv.get(f.name) == "string":
                    f = Field(f.name, "string", [None if v is None else str(v) for v in f.values])
                new.append(f)
            fields = new
        elif tid == "organize":
            excl = {k for k, v in (opt.get("excludeByName") or {}).items() if v}
            ren = opt.get("renameByName") or {}
            fields = [Field(ren.get(f.name) or f.name, f.type, f.values) for f in fields if f.name not in excl]
        else:
            raise ValueError(f"transformation {tid!r} not supported by the runner")
    return fields


def _regex(spec):
    m = re.fullmatch(r"/(.*)/", spec or "")
    return re.compile(m.group(1)) if m else None


def shape_panel(panel, fields):
    """What the panel shows, as plain data."""
    ptype = panel.get("type")
    opts = panel.get("options") or {}
    if ptype == "barchart":
        x = opts.get("xField") or next((f.name for f in fields if f.type == "string"), None)
        xf = next((f for f in fields if f.name == x), None)
        yf = next((f for f in fields if f.type == "number" and f.name != x), None)
        if xf is None or yf is None:
            return {"bars": []}
        return {"bars": [(str(c), v) for c, v in zip(xf.values, yf.values)], "value_field": yf.name}
    if ptype == "stat":
        ro = opts.get("reduceOptions") or {}
        rx = _regex(ro.get("fields", ""))
        if rx:
            chosen = [f for f in fields if rx.search(f.name)]
        else:
            chosen = [f for f in fields if f.type == "number"]
        calc = (ro.get("calcs") or ["lastNotNull"])[0]
        return {"values": [(f.name, _reduce(f.values, calc)) for f in chosen]}
    if ptype == "timeseries":
        tf = next((f for f in fields if f.type == "time"), None)
        series = [(f.name, f.values) for f in fields if f.type == "number"]
        return {"time": tf.values if tf else [], "series": series}
    return {}


def run_dashboard(dashboard, client, overrides=None):
    """Runs every panel. Returns (variables, [result dict per panel in order])."""
    values = variables(dashboard, overrides)
    results = []
    for raw in all_panels(dashboard):
        p = substitute(raw, values)
        r = {"id": p.get("id"), "title": p.get("title"), "type": p.get("type"),
             "gridPos": p.get("gridPos"), "queries": [], "error": None,
             "decimals": ((p.get("fieldConfig") or {}).get("defaults") or {}).get("decimals", 2)}
        try:
            if p.get("type") == "text":
                content = (p.get("options") or {}).get("content", "")
                r["text"] = re.sub(r"<[^>]+>", "", content).strip().lstrip("#").strip()
            elif p.get("targets"):
                fields = []
                for t in p["targets"]:
                    r["queries"].append(" ".join(command_line(t)))
                    fields += run_target(client, t)
                r["frame"] = fields
                fields = apply_transformations(fields, p.get("transformations"))
                r["fields"] = fields
                r.update(shape_panel(p, fields))
        except Exception as e:  # a panel's error is shown like Grafana shows it, not fatal
            r["error"] = f"{type(e).__name__}: {e}"
        results.append(r)
    return values, results
