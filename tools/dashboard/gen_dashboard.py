#!/usr/bin/env python3
"""Generates operator/assets/grafana/dashboard.json (the committed file is the product;
this script is how it is kept consistent). Run: python3 tools/dashboard/gen_dashboard.py [--check]

The layout follows ../shared/seed/dashboard-wireframe.png on Grafana's 24-column grid.
Queries use the redis-datasource query model (type "command"; hgetall / zrange / xrange).
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "operator/assets/grafana/dashboard.json"
# Key names come from the contract (the consumer's Valkey function is tested against the same file).
_KEYS = json.loads((ROOT / "contract/valkey-keys.json").read_text())
K = {**_KEYS["keys"], **_KEYS["prefixes"]}
DS = {"type": "redis-datasource", "uid": "valkey"}


def target(command, key, **extra):
    t = {"refId": "A", "datasource": dict(DS), "type": "command", "command": command,
         "keyName": key, "query": ""}
    t.update(extra)
    return t


def bar(pid, title, key, unit, decimals, grid, description):
    return {
        "id": pid, "type": "barchart", "title": title, "description": description,
        "datasource": dict(DS), "gridPos": grid,
        "targets": [target("hgetall", key)],
        # hgetall gives one row with one field per category; turn it into rows
        # (Field = category, "Last *" = value) so the bar chart has a string x axis.
        "transformations": [
            {"id": "reduce", "options": {"reducers": ["lastNotNull"], "mode": "seriesToRows",
                                         "includeTimeField": False}},
        ],
        "fieldConfig": {"defaults": {"unit": unit, "decimals": decimals, "min": 0,
                                     "color": {"mode": "palette-classic"}},
                        "overrides": []},
        "options": {"xField": "Field", "orientation": "auto", "showValue": "auto",
                    "stacking": "none", "groupWidth": 0.7, "barWidth": 0.9,
                    "xTickLabelRotation": 0, "xTickLabelSpacing": 0,
                    "colorByField": "Field",
                    "legend": {"showLegend": False, "displayMode": "list",
                               "placement": "bottom", "calcs": []},
                    "tooltip": {"mode": "single", "sort": "none"}},
    }


def stat(pid, title, tgt, grid, fields, unit, decimals, description, transformations=None):
    p = {
        "id": pid, "type": "stat", "title": title, "description": description,
        "datasource": dict(DS), "gridPos": grid, "targets": [tgt],
        "fieldConfig": {"defaults": {"unit": unit, "decimals": decimals,
                                     "color": {"mode": "fixed", "fixedColor": "orange"}},
                        "overrides": []},
        "options": {"reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": fields},
                    "textMode": "value_and_name", "colorMode": "value", "graphMode": "none",
                    "justifyMode": "center", "orientation": "horizontal", "wideLayout": True,
                    "showPercentChange": False},
    }
    if transformations:
        p["transformations"] = transformations
    return p


def text(pid, title, content, grid, description):
    return {"id": pid, "type": "text", "title": title, "description": description,
            "gridPos": grid,
            "options": {"mode": "markdown", "content": content,
                        "code": {"language": "plaintext", "showLineNumbers": False,
                                 "showMiniMap": False}}}


def g(x, y, w, h):
    return {"x": x, "y": y, "w": w, "h": h}


def dashboard():
    price_fields = "/^(precio|producto_id)$/"
    panels = [
        bar(1, "Producto promedio por categoría", K["avg_units"], "none", 2, g(0, 0, 8, 8),
            f"Unidades promedio vendidas por reporte en cada categoría (HGETALL {K['avg_units']})."),
        stat(2, "Precio más alto registrado en general", target("hgetall", K["price_max"]),
             g(8, 0, 8, 4), price_fields, "none", 2,
             f"Precio más alto visto y su producto (HGETALL {K['price_max']})."),
        stat(3, "Producto más vendido registrado en general",
             target("zrange", K["product_units"], min="-1", max="-1", zrangeQuery=""),
             g(16, 0, 8, 4), "", "none", 0,
             f"Producto con más unidades vendidas (ZRANGE {K['product_units']} -1 -1 WITHSCORES)."),
        stat(4, "Precio más bajo registrado en general", target("hgetall", K["price_min"]),
             g(8, 4, 8, 4), price_fields, "none", 2,
             f"Precio más bajo visto y su producto (HGETALL {K['price_min']})."),
        stat(5, "Producto menos vendido registrado en general",
             target("zrange", K["product_units"], min="0", max="0", zrangeQuery=""),
             g(16, 4, 8, 4), "", "none", 0,
             f"Producto con menos unidades vendidas (ZRANGE {K['product_units']} 0 0 WITHSCORES)."),
        bar(6, "Precio promedio por categoría", K["avg_price"], "none", 2, g(0, 8, 8, 8),
            f"Precio promedio de los reportes de cada categoría (HGETALL {K['avg_price']})."),
        bar(7, "Total de reportes por categoría", K["reports"], "none", 0, g(8, 8, 16, 8),
            f"Número de veces que se registró cada categoría (HGETALL {K['reports']})."),
        {"id": 8, "type": "row", "title": "Sección única por terminación de carnet",
         "gridPos": g(0, 16, 24, 1), "collapsed": False, "panels": []},
        text(9, "#CARNET", "<h1 style=\"text-align:center\">${carnet}</h1>", g(0, 17, 9, 3),
             "Carnet del estudiante (variable constante carnet)."),
        stat(10, "Producto más vendido por categoría asignada",
             target("zrange", f"{K['product_units_by_category']}${{categoria}}", min="-1", max="-1", zrangeQuery=""),
             g(9, 17, 7, 4), "", "none", 0,
             f"ZRANGE {K['product_units_by_category']}${{categoria}} -1 -1 WITHSCORES."),
        stat(11, "Producto menos vendido por categoría asignada",
             target("zrange", f"{K['product_units_by_category']}${{categoria}}", min="0", max="0", zrangeQuery=""),
             g(16, 17, 8, 4), "", "none", 0,
             f"ZRANGE {K['product_units_by_category']}${{categoria}} 0 0 WITHSCORES."),
        text(12, "Nombre de la categoría", "<h1 style=\"text-align:center\">${categoria}</h1>",
             g(0, 20, 9, 8), "Categoría asignada por la terminación del carnet (variable categoria)."),
        {
            "id": 13, "type": "timeseries",
            "title": "Variación de precio de un producto de la categoría",
            "description": f"Precio de cada venta de ${{producto}} (XRANGE {K['series']}${{producto}} - +).",
            "datasource": dict(DS), "gridPos": g(9, 21, 15, 7),
            "targets": [target("xrange", f"{K['series']}${{producto}}", start="-", end="+", count=2000)],
            # xrange gives $streamId, $time (from the entry id) and every entry field as a string.
            "transformations": [
                {"id": "convertFieldType", "options": {"fields": {}, "conversions": [
                    {"targetField": "precio", "destinationType": "number"},
                    {"targetField": "cantidad_vendida", "destinationType": "number"}]}},
                {"id": "organize", "options": {"excludeByName": {"$streamId": True,
                                                                 "cantidad_vendida": True},
                                               "renameByName": {"precio": "${producto}"}}},
            ],
            "fieldConfig": {"defaults": {"unit": "none", "decimals": 2,
                                         "custom": {"drawStyle": "line", "lineWidth": 2,
                                                    "showPoints": "auto", "spanNulls": True},
                                         "color": {"mode": "palette-classic"}},
                            "overrides": []},
            "options": {"legend": {"showLegend": True, "displayMode": "list",
                                   "placement": "bottom", "calcs": []},
                        "tooltip": {"mode": "single", "sort": "none"}},
        },
    ]
    return {
        "title": "Black Friday — ventas",
        "uid": "blackfriday-ventas",
        "description": "Ventas de Black Friday agregadas en Valkey por el consumer (docs/dashboard.md).",
        "tags": ["blackfriday"],
        "schemaVersion": 41,
        "version": 1,
        "editable": True,
        "graphTooltip": 0,
        "refresh": "5s",
        "timezone": "browser",
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": [
            {"type": "constant", "name": "carnet", "label": "Carnet", "query": "202300539", "hide": 2},
            {"type": "constant", "name": "categoria", "label": "Categoría", "query": "Belleza", "hide": 2},
            {"type": "constant", "name": "producto", "label": "Producto", "query": "BEL-001", "hide": 2},
        ]},
        "panels": panels,
    }


def main():
    text_out = json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        if OUT.read_text() != text_out:
            print(f"{OUT} differs from the generator; run tools/dashboard/gen_dashboard.py", file=sys.stderr)
            return 1
        print("dashboard.json matches the generator")
        return 0
    OUT.write_text(text_out)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
