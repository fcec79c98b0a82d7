"""Black Friday load: users post sales built from the product catalogue to POST /api/v1/ventas.

Headless (see docs/main-job.md):
  locust -f locust/locustfile.py --headless -H http://127.0.0.1:8080 -u 20 -r 10 -t 60s \
         --catalog-ref 127.0.0.1:15000/blackfriday/catalog:v1 --results-file out/locust-results.json \
         --csv out/locust --json-file out/locust-stats --only-summary --stop-timeout 10

Options (flag / environment variable / default):
  --catalog-ref       BF_CATALOG_REF        ""    OCI reference of the catalogue artifact; when empty the
                                                  local file is used (--catalog-file / BF_CATALOG_FILE)
  --featured-category BF_FEATURED_CATEGORY  Belleza  the carnet's category
  --featured-weight   BF_FEATURED_WEIGHT    2.0   its weight (others keep the catalogue's, 1.0)
  --max-fail-ratio    BF_MAX_FAIL_RATIO     0.01  exit 3 when more requests failed than this
  --max-p95-ms        BF_MAX_P95_MS         2000  exit 4 when the 95th percentile is slower
  --results-file      BF_RESULTS_FILE       out/locust-results.json  2xx per category etc., written at quit
  --seed              BF_SEED               0     random seed of the sale generator (0 = random)
  --think-time-max    BF_THINK_TIME_MAX     0.05  seconds each user waits at most between sales
Exit codes: 0 ok, 1 locust's own (e.g. import error, catalogue error), 2 no request sent or no 2xx,
3 failure ratio above the limit, 4 p95 above the limit.
"""
import json
import logging
import pathlib
import random
import sys
import threading
import time

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner, WorkerRunner

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import catalog as catalog_mod  # noqa: E402

log = logging.getLogger("blackfriday")
PATH = "/api/v1/ventas"


class Tally:
    """2xx and non-2xx answers per category, safe across greenlets (and threads)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok, self.failed, self.status = {}, {}, {}
        self.first = self.last = None

    def add(self, categoria, status, ok):
        with self.lock:
            d = self.ok if ok else self.failed
            d[categoria] = d.get(categoria, 0) + 1
            self.status[str(status)] = self.status.get(str(status), 0) + 1
            now = time.time()
            self.first = self.first or now
            self.last = now


STATE = {"catalog": None, "info": None, "weights": None, "tally": Tally(), "rng": random.Random()}


@events.init_command_line_parser.add_listener
def _(parser):
    g = parser.add_argument_group("blackfriday")
    g.add_argument("--catalog-ref", env_var="BF_CATALOG_REF", default="",
                   help="OCI reference of the catalogue artifact (empty: local file)")
    g.add_argument("--catalog-file", env_var="BF_CATALOG_FILE", default=str(catalog_mod.LOCAL_FILE))
    g.add_argument("--featured-category", env_var="BF_FEATURED_CATEGORY", default="Belleza")
    g.add_argument("--featured-weight", env_var="BF_FEATURED_WEIGHT", type=float, default=2.0)
    g.add_argument("--max-fail-ratio", env_var="BF_MAX_FAIL_RATIO", type=float, default=0.01)
    g.add_argument("--max-p95-ms", env_var="BF_MAX_P95_MS", type=float, default=2000.0)
    g.add_argument("--results-file", env_var="BF_RESULTS_FILE", default="out/locust-results.json")
    g.add_argument("--seed", env_var="BF_SEED", type=int, default=0)
    g.add_argument("--think-time-max", env_var="BF_THINK_TIME_MAX", type=float, default=0.05)


@events.init.add_listener
def _(environment, **_kw):
    opts = environment.parsed_options
    if isinstance(environment.runner, (MasterRunner, WorkerRunner)):
        # the per-category 2xx count must be exact; it is kept in one process
        log.error("distributed mode is not supported by this locustfile (the 2xx tally is per process)")
        sys.exit(1)
    try:
        doc, info = catalog_mod.load(opts.catalog_ref or None, opts.catalog_file)
        weights = catalog_mod.featured_weights(doc, opts.featured_category, opts.featured_weight)
    except catalog_mod.CatalogError as e:
        log.error("catalogue: %s", e)
        sys.exit(1)
    STATE.update(catalog=doc, info=info, weights=weights)
    if opts.seed:
        STATE["rng"].seed(opts.seed)
    BlackFridayShopper.wait_time = between(0, max(0.0, opts.think_time_max))
    n = sum(len(c["products"]) for c in doc["categories"])
    print(f"catalogue: {n} products in {len(doc['categories'])} categories from "
          f"{info.get('reference') or info.get('path')} ({info['source']}); weights {weights}", flush=True)


def make_sale(rng, doc, weights):
    cats = {c["categoria"]: c for c in doc["categories"]}
    name = rng.choices([w[0] for w in weights], weights=[w[1] for w in weights])[0]
    p = rng.choice(cats[name]["products"])
    q = doc["cantidad_vendida"]
    return {"categoria": name, "producto_id": p["producto_id"],
            "precio": round(rng.uniform(p["precio_min"], p["precio_max"]), 2),
            "cantidad_vendida": rng.randint(q["min"], q["max"])}


class BlackFridayShopper(FastHttpUser):
    wait_time = between(0, 0.05)
    # the API answers only after Kafka acknowledged; keep a generous per-request timeout
    network_timeout = 30.0
    connection_timeout = 10.0

    @task
    def vender(self):
        sale = make_sale(STATE["rng"], STATE["catalog"], STATE["weights"])
        with self.client.post(PATH, json=sale, catch_response=True) as r:
            ok = 200 <= (r.status_code or 0) < 300
            STATE["tally"].add(sale["categoria"], r.status_code or 0, ok)
            if ok:
                r.success()
            else:
                body = (r.text or "")[:200] if r.text else str(r.error)
                r.failure(f"{r.status_code}: {body}")


@events.quitting.add_listener
def _(environment, **_kw):
    opts = environment.parsed_options
    s = environment.stats.total
    t = STATE["tally"]
    p = {q: s.get_response_time_percentile(q) if s.num_requests else None for q in (0.5, 0.95, 0.99)}
    elapsed = (t.last - t.first) if t.first and t.last and t.last > t.first else 0.0
    code, reason = 0, "ok"
    if s.num_requests == 0:
        code, reason = 2, "no request was sent"
    elif not t.ok:
        code, reason = 2, "no sale was accepted (no 2xx)"
    elif s.fail_ratio > opts.max_fail_ratio:
        code, reason = 3, f"failure ratio {s.fail_ratio:.4f} > {opts.max_fail_ratio}"
    elif p[0.95] is not None and p[0.95] > opts.max_p95_ms:
        code, reason = 4, f"p95 {p[0.95]:.0f} ms > {opts.max_p95_ms:.0f} ms"
    result = {
        "ok_by_category": dict(sorted(t.ok.items())),
        "failed_by_category": dict(sorted(t.failed.items())),
        "status_counts": dict(sorted(t.status.items())),
        "requests": s.num_requests, "failures": s.num_failures,
        "ok_total": sum(t.ok.values()),
        "fail_ratio": s.fail_ratio,
        "latency_ms": {"p50": p[0.5], "p95": p[0.95], "p99": p[0.99],
                       "avg": s.avg_response_time if s.num_requests else None,
                       "max": s.max_response_time if s.num_requests else None},
        "elapsed_s": round(elapsed, 3),
        "throughput_rps": round(s.num_requests / elapsed, 1) if elapsed else None,
        "ok_throughput_rps": round(sum(t.ok.values()) / elapsed, 1) if elapsed else None,
        "catalog": STATE["info"],
        "limits": {"max_fail_ratio": opts.max_fail_ratio, "max_p95_ms": opts.max_p95_ms},
        "exit_code": code, "verdict": reason,
    }
    if opts.results_file:
        path = pathlib.Path(opts.results_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"locust verdict: {reason} (requests={s.num_requests}, failures={s.num_failures}, "
          f"p95={p[0.95]} ms); 2xx per category {result['ok_by_category']}", flush=True)
    environment.process_exit_code = code
