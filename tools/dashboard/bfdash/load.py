"""Loading the dashboard and the datasource provisioning: from files or from the operator."""
import json
import pathlib
import re
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
DASHBOARD_FILE = ROOT / "operator/assets/grafana/dashboard.json"
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")


def load_dashboard_file(path=DASHBOARD_FILE):
    return json.loads(pathlib.Path(path).read_text())


def operator_render(pipeline, operator_bin):
    """Runs `blackfriday-operator render -f pipeline` and returns the list of objects."""
    out = subprocess.run([str(operator_bin), "render", "-f", str(pipeline)],
                         check=True, capture_output=True, text=True).stdout
    docs = []
    for d in yaml.safe_load_all(out):
        if d is None:
            continue
        if d.get("kind") == "List":
            docs.extend(d.get("items") or [])
        else:
            docs.append(d)
    return docs


def _data_items(obj):
    """Yields (key, text) of a ConfigMap's data or a Secret's stringData/data (base64)."""
    import base64
    for k, v in (obj.get("data") or {}).items():
        if obj.get("kind") == "Secret":
            v = base64.b64decode(v).decode()
        yield k, v
    for k, v in (obj.get("stringData") or {}).items():
        yield k, v


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def dashboards_from_objects(objs):
    """Every dashboard JSON the operator provisions (ConfigMaps/Secrets labelled grafana_dashboard)."""
    found = []
    for o in objs:
        if o.get("kind") in ("ConfigMap", "Secret") and "grafana_dashboard" in _labels(o):
            for k, v in _data_items(o):
                if k.endswith(".json"):
                    found.append(json.loads(v))
    return found


def datasources_from_objects(objs):
    """Every datasource provisioning document (ConfigMaps/Secrets labelled grafana_datasource)."""
    found = []
    for o in objs:
        if o.get("kind") in ("ConfigMap", "Secret") and "grafana_datasource" in _labels(o):
            for k, v in _data_items(o):
                if k.endswith((".yaml", ".yml")):
                    found.append(yaml.safe_load(v))
    return found


def variables(dashboard, overrides=None):
    """The template variables' values: constants take their query, others their current value."""
    values = {}
    for v in (dashboard.get("templating") or {}).get("list", []):
        if v.get("type") == "constant":
            values[v["name"]] = str(v.get("query", ""))
        else:
            cur = (v.get("current") or {}).get("value")
            if cur is not None:
                values[v["name"]] = str(cur)
    values.update(overrides or {})
    return values


def used_variables(obj):
    """Names of every $var / ${var} / [[var]] used in strings inside obj."""
    names = set()
    if isinstance(obj, str):
        for m in VAR_RE.finditer(obj):
            names.add(m.group(1) or m.group(2) or m.group(3))
    elif isinstance(obj, dict):
        for v in obj.values():
            names |= used_variables(v)
    elif isinstance(obj, list):
        for v in obj:
            names |= used_variables(v)
    return names


def substitute(obj, values):
    """Replaces $var / ${var} / [[var]] in every string of obj (Grafana's interpolation).
    Names that are not variables (e.g. the xrange field `$streamId`) stay as they are."""
    if isinstance(obj, str):
        def rep(m):
            name = m.group(1) or m.group(2) or m.group(3)
            return values[name] if name in values else m.group(0)
        return VAR_RE.sub(rep, obj)
    if isinstance(obj, dict):
        return {k: substitute(v, values) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    return obj


def all_panels(dashboard):
    """Top-level panels plus those inside collapsed rows, in order."""
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels") or [])
    return out
