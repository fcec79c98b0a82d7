"""CLI: python3 -m bfdash {lint,run} …  (PYTHONPATH=tools/dashboard, or tools/dashboard/dashboard)."""
import argparse
import json
import os
import pathlib
import sys

from . import lint, load


def _source(args):
    """(dashboard, datasources) from --operator-render or --dashboard."""
    if args.operator_render:
        objs = load.operator_render(args.operator_render, args.operator_bin)
        dashes = load.dashboards_from_objects(objs)
        if len(dashes) != 1:
            sys.exit(f"operator render gave {len(dashes)} dashboards, want 1")
        return dashes[0], load.datasources_from_objects(objs), "operator render"
    dss = []
    for f in args.datasources or []:
        import yaml
        dss.append(yaml.safe_load(pathlib.Path(f).read_text()))
    return load.load_dashboard_file(args.dashboard), dss, str(args.dashboard)


def _client(addr):
    """A Valkey client; VALKEY_PASSWORD (if set) authenticates, e.g. against the bench node's
    password-protected Valkey (scripts/testbed/node.sh) or the Valkey VMs (tests/vms/vmlab.py)."""
    import valkey
    host, port = addr.rsplit(":", 1)
    return valkey.Valkey(host=host, port=int(port), socket_timeout=10,
                         password=os.environ.get("VALKEY_PASSWORD") or None)


def _counts(args):
    from . import counts
    loc = counts.load_locust(args.locust_results)
    ok = loc["ok_by_category"]
    client = _client(args.valkey)
    drain = lag_left = None
    probe = counts.KafkaLag(args.kafka, args.topic) if args.kafka else None
    if args.drain_timeout > 0:
        total, drain, reached, lag_left = counts.wait_drain(
            client, sum(ok.values()), args.drain_timeout, args.stable,
            progress=lambda m: print(m, flush=True), lag=probe)
        print(f"consumers drained in {drain:.1f}s after the load stopped" if reached else
              f"valkey total stopped at {total} (last change {drain:.1f}s after the load stopped)")
    if probe:
        lag_left = probe.lag(client)
        print(f"consumer lag on {args.topic}: {lag_left} record(s) (Kafka high watermarks - bf:offsets:{args.topic})")
        probe.close()
    rows, good = counts.compare(ok, counts.valkey_reports(client))
    print(counts.table(rows))
    print("per-category agreement: " + ("EXACT" if good else "MISMATCH"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "match": good, "drain_seconds": drain, "consumer_lag": lag_left}, f, indent=2)
    return 0 if good else 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bfdash")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("lint", "run", "vars"):
        s = sub.add_parser(name)
        s.add_argument("--dashboard", default=str(load.DASHBOARD_FILE))
        s.add_argument("--datasources", action="append", help="datasource provisioning YAML")
        s.add_argument("--operator-render", metavar="PIPELINE_YAML",
                       help="take dashboard and datasources from `blackfriday-operator render -f`")
        s.add_argument("--operator-bin", default="target/release/blackfriday-operator")
    c = sub.add_parser("counts", help="Locust 2xx per category vs Valkey bf:reports (exit 1 on mismatch)")
    c.add_argument("--locust-results", required=True)
    c.add_argument("--valkey", default="127.0.0.1:16379")
    c.add_argument("--drain-timeout", type=float, default=0, help="first wait this long for the consumers")
    c.add_argument("--stable", type=float, default=20, help="stop waiting when the total is unchanged this long")
    c.add_argument("--json", help="write the comparison and drain time as JSON")
    c.add_argument("--kafka", help="bootstrap servers: also wait for / report the consumer lag of --topic")
    c.add_argument("--topic", default="ventas")
    r = sub.choices["run"]
    r.add_argument("--valkey", default="127.0.0.1:16379", help="host:port of Valkey (a replica is fine)")
    r.add_argument("--var", action="append", default=[], help="override a variable: name=value")
    r.add_argument("--png", default="out/dashboard.png")
    r.add_argument("--json", help="write the panel data as JSON")
    r.add_argument("--require-data", action="store_true", help="exit 1 if a query panel has no data")
    args = ap.parse_args(argv)

    if args.cmd == "counts":
        return _counts(args)
    dash, dss, src = _source(args)
    if args.cmd == "vars":
        for k, v in load.variables(dash).items():
            print(f"{k}={v}")
        return 0
    if args.cmd == "lint":
        errs = lint.lint_dashboard(dash, dss or None)
        for d in dss:
            errs += lint.lint_datasources(d)
        for e in errs:
            print("FAIL", e)
        print(f"dashboard lint ({src}): {len(errs)} problem(s)")
        return 1 if errs else 0

    from . import query, render
    client = _client(args.valkey)
    overrides = dict(v.split("=", 1) for v in args.var)
    values, results = query.run_dashboard(dash, client, overrides)
    pathlib.Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    render.render_png(dash, results, args.png,
                      subtitle=f"Valkey {args.valkey} · source: {src} · carnet {values.get('carnet')}")
    print(render.summary(results, values))
    print(f"dashboard image: {args.png}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if k not in ("frame", "fields")} for r in results],
                      f, indent=2, default=str, ensure_ascii=False)
    errors = [r for r in results if r.get("error")]
    empty = [r for r in results if r["type"] in ("stat", "barchart", "timeseries") and not
             (r.get("values") or r.get("bars") or r.get("time"))]
    if errors or (args.require_data and empty):
        for r in errors + empty:
            print(f"panel {r['title']!r}: {'error ' + r['error'] if r.get('error') else 'no data'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
