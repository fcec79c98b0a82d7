"""Project rules for the dashboard and the datasource provisioning (beyond Grafana's schema)."""
import re

from .keys import KEYS, PREFIXES
from .load import all_panels, used_variables

UID = "blackfriday-ventas"
DATASOURCE = {"uid": "valkey", "type": "redis-datasource"}
REQUIRED_VARIABLES = ("carnet", "categoria", "producto")

# Every panel of ../shared/seed/dashboard-wireframe.png: title -> (panel type, key the query reads)
WIREFRAME = {
    "Producto promedio por categoría": ("barchart", KEYS["avg_units"]),
    "Precio más alto registrado en general": ("stat", KEYS["price_max"]),
    "Producto más vendido registrado en general": ("stat", KEYS["product_units"]),
    "Precio más bajo registrado en general": ("stat", KEYS["price_min"]),
    "Producto menos vendido registrado en general": ("stat", KEYS["product_units"]),
    "Precio promedio por categoría": ("barchart", KEYS["avg_price"]),
    "Total de reportes por categoría": ("barchart", KEYS["reports"]),
    "Sección única por terminación de carnet": ("row", None),
    "#CARNET": ("text", None),
    "Producto más vendido por categoría asignada": ("stat", PREFIXES["product_units_by_category"] + "${categoria}"),
    "Producto menos vendido por categoría asignada": ("stat", PREFIXES["product_units_by_category"] + "${categoria}"),
    "Nombre de la categoría": ("text", None),
    "Variación de precio de un producto de la categoría": ("timeseries", PREFIXES["series"] + "${producto}"),
}
SUPPORTED_COMMANDS = {"hgetall", "hget", "hmget", "get", "zrange", "xrange", "xrevrange"}
GRID_COLUMNS = 24


def _overlap(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def lint_dashboard(dash, datasources=None):
    """Returns a list of problems (empty = good). `datasources` are provisioning documents
    (`apiVersion: 1, datasources: [...]`); without them the contract's datasource is assumed."""
    errs = []
    if dash.get("uid") != UID:
        errs.append(f"uid is {dash.get('uid')!r}, want {UID!r}")
    known = {}
    for doc in datasources or [{"datasources": [dict(DATASOURCE, name="Valkey")]}]:
        for ds in doc.get("datasources") or []:
            known[ds.get("uid")] = ds.get("type")

    # variables
    tvars = {v.get("name"): v for v in (dash.get("templating") or {}).get("list", [])}
    for name in REQUIRED_VARIABLES:
        v = tvars.get(name)
        if v is None:
            errs.append(f"template variable {name!r} missing")
        elif v.get("type") != "constant":
            errs.append(f"template variable {name!r} is {v.get('type')!r}, want constant")
        elif not str(v.get("query", "")).strip():
            errs.append(f"template variable {name!r} has no value")
    undefined = used_variables(dash.get("panels", [])) - set(tvars) - {"streamId", "time", "__interval", "__rate_interval"}
    for name in sorted(undefined):
        errs.append(f"variable ${name} used but not defined")

    panels = all_panels(dash)
    ids = [p.get("id") for p in panels]
    for i in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        errs.append(f"panel id {i} used more than once")
    for p in panels:
        if not isinstance(p.get("id"), int):
            errs.append(f"panel {p.get('title')!r} has no integer id")

    # gridPos: inside the grid, positive size, no overlap
    for p in panels:
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")):
            errs.append(f"panel {p.get('title')!r} gridPos incomplete: {g}")
            continue
        if g["w"] <= 0 or g["h"] <= 0 or g["x"] < 0 or g["y"] < 0 or g["x"] + g["w"] > GRID_COLUMNS:
            errs.append(f"panel {p.get('title')!r} gridPos outside the {GRID_COLUMNS}-column grid: {g}")
    placed = [p for p in panels if all(isinstance((p.get("gridPos") or {}).get(k), int) for k in "xywh")]
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            if _overlap(a["gridPos"], b["gridPos"]):
                errs.append(f"panels {a.get('title')!r} and {b.get('title')!r} overlap")

    # datasources and queries
    for p in panels:
        title = p.get("title")
        refs = []
        if isinstance(p.get("datasource"), dict):
            refs.append(p["datasource"])
        for t in p.get("targets") or []:
            if isinstance(t.get("datasource"), dict):
                refs.append(t["datasource"])
            if t.get("type") == "command":
                if t.get("command") not in SUPPORTED_COMMANDS:
                    errs.append(f"panel {title!r}: command {t.get('command')!r} not supported")
                if not str(t.get("keyName", "")).startswith("bf:"):
                    errs.append(f"panel {title!r}: key {t.get('keyName')!r} is not a bf: key")
                if t.get("command") == "zrange" and (t.get("min") in (None, "") or t.get("max") in (None, "")):
                    errs.append(f"panel {title!r}: zrange needs min and max")
            elif t.get("type") == "cli":
                if not str(t.get("query", "")).strip():
                    errs.append(f"panel {title!r}: cli query empty")
            else:
                errs.append(f"panel {title!r}: query type {t.get('type')!r} not supported")
        for ref in refs:
            uid = ref.get("uid")
            if uid not in known:
                errs.append(f"panel {title!r}: datasource uid {uid!r} is not provisioned")
            elif ref.get("type") and known[uid] and ref.get("type") != known[uid]:
                errs.append(f"panel {title!r}: datasource type {ref.get('type')!r} != provisioned {known[uid]!r}")
        if p.get("type") == "barchart":
            tr = [t for t in p.get("transformations") or [] if t.get("id") == "reduce"]
            if not tr or (tr[0].get("options") or {}).get("mode") != "seriesToRows":
                errs.append(f"panel {title!r}: bar chart over hgetall needs reduce seriesToRows")
            if (p.get("options") or {}).get("xField") != "Field":
                errs.append(f"panel {title!r}: bar chart xField must be 'Field'")

    # wireframe coverage
    by_title = {p.get("title"): p for p in panels}
    for title, (ptype, key) in WIREFRAME.items():
        p = by_title.get(title)
        if p is None:
            errs.append(f"wireframe panel {title!r} missing")
            continue
        if p.get("type") != ptype:
            errs.append(f"panel {title!r} is a {p.get('type')}, want {ptype}")
        if key is not None:
            keys = [t.get("keyName") or t.get("query", "") for t in p.get("targets") or []]
            if not any(key == k or re.search(rf"\s{re.escape(key)}(\s|$)", k) for k in keys):
                errs.append(f"panel {title!r} does not read {key} (reads {keys})")
    return errs


# Grafana's datasource provisioning file, apiVersion 1: the yaml fields of configsV1 and
# upsertDataSourceFromConfigV1 in grafana/grafana pkg/services/provisioning/datasources/types.go
# (Grafana ignores unknown keys, so a misspelt one would be silently lost) and their Go types.
PROVISIONING_KEYS = {"apiVersion", "datasources", "deleteDatasources", "prune"}
DATASOURCE_FIELDS = {
    "orgId": int, "orgName": str, "version": int, "name": str, "type": str, "access": str,
    "url": str, "user": str, "database": str, "basicAuth": bool, "basicAuthUser": str,
    "withCredentials": bool, "isDefault": bool, "correlations": list, "jsonData": dict,
    "secureJsonData": dict, "editable": bool, "uid": str,
}


def lint_provisioning_schema(doc):
    """Fields and types against Grafana's provisioning types, and its rule (config_reader.go,
    validateDefaultUniqueness) that one organisation has at most one default datasource."""
    errs = [f"unknown top-level key {k!r}" for k in sorted(set(doc) - PROVISIONING_KEYS)]
    defaults = {}
    for i, d in enumerate(doc.get("datasources") or []):
        if not isinstance(d, dict):
            errs.append(f"datasources[{i}] is not a mapping")
            continue
        for k, v in d.items():
            want = DATASOURCE_FIELDS.get(k)
            if want is None:
                errs.append(f"datasources[{i}]: unknown field {k!r} (Grafana ignores it)")
            elif not isinstance(v, want) or (want is int and isinstance(v, bool)):
                errs.append(f"datasources[{i}].{k} must be {want.__name__}, is {type(v).__name__}")
        if d.get("access", "proxy") not in ("proxy", "direct"):
            errs.append(f"datasources[{i}].access {d.get('access')!r}: Grafana knows proxy and direct")
        if d.get("isDefault") is True:
            defaults.setdefault(d.get("orgId", 1), []).append(d.get("name"))
    errs += [f"org {org}: more than one default datasource {names}" for org, names in defaults.items()
             if len(names) > 1]
    return errs


def lint_datasources(doc, want_uid="valkey"):
    """Checks a Grafana datasource provisioning document for the redis-datasource plugin."""
    errs = []
    if not isinstance(doc, dict):
        return ["provisioning document is not a mapping"]
    if doc.get("apiVersion") != 1:
        errs.append(f"apiVersion is {doc.get('apiVersion')!r}, want 1")
    dss = doc.get("datasources")
    if not isinstance(dss, list) or not dss:
        return errs + ["datasources must be a non-empty list"]
    errs += lint_provisioning_schema(doc)
    uids = [d.get("uid") for d in dss]
    if len(set(uids)) != len(uids):
        errs.append("datasource uids not unique")
    names = [d.get("name") for d in dss]
    if len(set(names)) != len(names):
        errs.append("datasource names not unique")
    mine = [d for d in dss if d.get("uid") == want_uid]
    if not mine:
        return errs + [f"no datasource with uid {want_uid!r}"]
    d = mine[0]
    for k in ("name", "type", "uid", "url"):
        if not isinstance(d.get(k), str) or not d.get(k):
            errs.append(f"datasource {want_uid}: {k} missing")
    if d.get("type") != "redis-datasource":
        errs.append(f"datasource {want_uid}: type {d.get('type')!r}, want redis-datasource")
    if d.get("access", "proxy") != "proxy":
        errs.append(f"datasource {want_uid}: access {d.get('access')!r}, want proxy")
    url = str(d.get("url", ""))
    if not re.fullmatch(r"(redis://)?[A-Za-z0-9.\-]+:\d{1,5}(/\d+)?", url):
        errs.append(f"datasource {want_uid}: url {url!r} is not redis://host:port or host:port")
    jd = d.get("jsonData") or {}
    if not isinstance(jd, dict):
        errs.append(f"datasource {want_uid}: jsonData not a mapping")
        jd = {}
    if jd.get("client", "standalone") not in ("standalone", "cluster", "sentinel", "socket"):
        errs.append(f"datasource {want_uid}: jsonData.client {jd.get('client')!r} unknown")
    for k in ("poolSize", "timeout", "pingInterval", "pipelineWindow"):
        if k in jd and not isinstance(jd[k], int):
            errs.append(f"datasource {want_uid}: jsonData.{k} must be an integer")
    for k in ("tlsAuth", "tlsSkipVerify", "acl"):
        if k in jd and not isinstance(jd[k], bool):
            errs.append(f"datasource {want_uid}: jsonData.{k} must be a boolean")
    if d.get("isDefault", False) is not False:
        errs.append(f"datasource {want_uid}: isDefault must be false (the Grafana release may "
                    "provision its own default; Grafana refuses two; the dashboard names ours by uid)")
    sj = d.get("secureJsonData") or {}
    if not isinstance(sj, dict) or any(not isinstance(v, str) for v in sj.values()):
        errs.append(f"datasource {want_uid}: secureJsonData values must be strings")
    return errs
