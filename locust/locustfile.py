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
  --max-fail-ratio    BF_MAX_FAIL_RATIO     0.01  exit 3 when more sales than this ended without a 2xx
                                                  (refused, or in doubt after their retries); a sale the
                                                  end of the run cut short is not judged (see below)
  --max-attempts      BF_MAX_ATTEMPTS       10    tries per sale: an in-doubt answer (5xx, connection error)
                                                  is retried with the same Idempotency-Key, backing off
                                                  0.25 s doubling to 5 s (~30 s of retrying in all)
  --results-file      BF_RESULTS_FILE       out/locust-results.json  accepted sales per category etc., at quit
  --answers-file      BF_ANSWERS_FILE       ""    when set, one JSON line per answer (time, status, key,
                                                  category, attempt): the fault suite's timeline
  --keys-file         BF_KEYS_FILE          ""    when set, the accepted and in-doubt keys per category
                                                  (JSON), for locust/reconcile.py
  --stop-file         BF_STOP_FILE          ""    when this file appears, stop as at the end of -t (users
                                                  finish their sale, retries included, within --stop-timeout)
  --seed              BF_SEED               0     random seed of the sale generator (0 = random)
  --think-time-max    BF_THINK_TIME_MAX     0.05  seconds each user waits at most between sales
Every sale carries an Idempotency-Key (a UUID made here). The tally counts distinct keys answered
2xx at least once, per category: the number the pipeline must have counted (docs/contracts.md §1).
A sale whose every try ended in doubt is listed in `in_doubt_keys` of the results; the main job
resolves each against Valkey. So is a sale the end of the run cut short (its request or its retries
still going when locust stopped, counted in `cut_short`): it may be stored, so it is resolved like
any in-doubt sale, but it says nothing about the system and stays out of the failure ratio — with
few users and a short run, up to one such sale per user would otherwise decide the verdict.
Latency is reported, never judged (no timed limit).
Exit codes: 0 ok, 1 locust's own (e.g. import error, catalogue error), 2 no request sent or no 2xx,
3 failure ratio above the limit, 5 an error answer broke the contract (not the JSON error body).
"""
import json
import logging
import pathlib
import random
import sys
import threading
import time
import uuid

import gevent

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner, WorkerRunner

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import catalog as catalog_mod  # noqa: E402

log = logging.getLogger("blackfriday")
PATH = "/api/v1/ventas"


class Tally:
    """Every sale's fate, safe across greenlets (and threads). A sale is one Idempotency-Key;
    its tries are requests. `ok` holds the keys answered 2xx at least once, per category."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok, self.refused, self.in_doubt, self.pending = {}, {}, {}, {}
        self.status, self.violations = {}, []
        self.sales = self.retries = self.cut_short = 0
        self.first = self.last = None
        self.answers = None  # file of answer lines, when --answers-file is set

    def start(self, key, categoria):
        with self.lock:
            self.sales += 1
            self.pending[key] = categoria

    def answer(self, key, categoria, status, attempt, body_ok):
        """One try's answer; body_ok is False for an error answer without the contract's body."""
        with self.lock:
            self.status[str(status)] = self.status.get(str(status), 0) + 1
            self.retries += attempt > 1
            now = time.time()
            self.first = self.first or now
            self.last = now
            if not body_ok and len(self.violations) < 50:
                self.violations.append({"key": key, "status": status})
            if self.answers:
                self.answers.write(json.dumps({"t": round(now, 3), "s": status, "k": key, "c": categoria,
                                               "a": attempt}) + "\n")

    def end(self, key, categoria, outcome):
        """outcome: ok (2xx), refused (4xx: not stored) or in_doubt (gave up on 5xx/connection errors)."""
        with self.lock:
            self.pending.pop(key, None)
            getattr(self, outcome).setdefault(categoria, set()).add(key)


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
    g.add_argument("--max-attempts", env_var="BF_MAX_ATTEMPTS", type=int, default=10)
    g.add_argument("--results-file", env_var="BF_RESULTS_FILE", default="out/locust-results.json")
    g.add_argument("--answers-file", env_var="BF_ANSWERS_FILE", default="")
    g.add_argument("--keys-file", env_var="BF_KEYS_FILE", default="")
    g.add_argument("--stop-file", env_var="BF_STOP_FILE", default="")
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
    if opts.stop_file:
        gevent.spawn(watch_stop_file, environment, pathlib.Path(opts.stop_file))
    if opts.answers_file:
        path = pathlib.Path(opts.answers_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        STATE["tally"].answers = path.open("w", buffering=1 << 16)
    n = sum(len(c["products"]) for c in doc["categories"])
    print(f"catalogue: {n} products in {len(doc['categories'])} categories from "
          f"{info.get('reference') or info.get('path')} ({info['source']}); weights {weights}", flush=True)


def watch_stop_file(environment, path):
    """Quit like the -t limit does (SIGTERM would fire `quitting` before the users stop)."""
    while not path.exists():
        gevent.sleep(0.5)
    log.info("stop file %s found, stopping", path)
    environment.runner.quit()


def make_sale(rng, doc, weights):
    cats = {c["categoria"]: c for c in doc["categories"]}
    name = rng.choices([w[0] for w in weights], weights=[w[1] for w in weights])[0]
    p = rng.choice(cats[name]["products"])
    q = doc["cantidad_vendida"]
    return {"categoria": name, "producto_id": p["producto_id"],
            "precio": round(rng.uniform(p["precio_min"], p["precio_max"]), 2),
            "cantidad_vendida": rng.randint(q["min"], q["max"])}


def in_doubt(status):
    """Answers after which the sale may or may not be stored: retry with the same key."""
    return status == 0 or status >= 500


def contract_body(r):
    """An error answer must carry the contract's JSON error body; a connection error has none."""
    if not r.status_code:
        return True
    try:
        b = json.loads(r.text or "")
        return isinstance(b, dict) and isinstance(b.get("error"), str) and isinstance(b.get("message"), str)
    except ValueError:
        return False


class BlackFridayShopper(FastHttpUser):
    wait_time = between(0, 0.05)
    # the API answers only after Kafka acknowledged; keep a generous per-request timeout
    network_timeout = 30.0
    connection_timeout = 10.0

    @task
    def vender(self):
        sale = make_sale(STATE["rng"], STATE["catalog"], STATE["weights"])
        cat, key, tally = sale["categoria"], str(uuid.uuid4()), STATE["tally"]
        attempts = max(1, self.environment.parsed_options.max_attempts)
        tally.start(key, cat)
        backoff = 0.25
        for attempt in range(1, attempts + 1):
            with self.client.post(PATH, json=sale, headers={"Idempotency-Key": key}, catch_response=True) as r:
                status = r.status_code or 0
                ok = 200 <= status < 300
                tally.answer(key, cat, status, attempt, ok or contract_body(r))
                if ok:
                    r.success()
                else:
                    r.failure(f"{status}: {(r.text or '')[:200] if r.text else r.error}")
            if ok:
                tally.end(key, cat, "ok")
                return
            if not in_doubt(status):
                tally.end(key, cat, "refused")
                return
            if attempt < attempts:
                time.sleep(backoff)  # gevent-patched: only this user waits
                backoff = min(backoff * 2, 5.0)
        tally.end(key, cat, "in_doubt")


@events.quitting.add_listener
def _(environment, **_kw):
    opts = environment.parsed_options
    s = environment.stats.total
    t = STATE["tally"]
    with t.lock:
        # a sale still being tried when the run stopped is in doubt too (it may be stored), but the
        # stop, not the system, left it undecided: it is not judged in the failure ratio
        for key, cat in t.pending.items():
            t.in_doubt.setdefault(cat, set()).add(key)
        t.cut_short = len(t.pending)
        t.pending.clear()
        if t.answers:
            t.answers.close()
    p = {q: s.get_response_time_percentile(q) if s.num_requests else None for q in (0.5, 0.95, 0.99)}
    elapsed = (t.last - t.first) if t.first and t.last and t.last > t.first else 0.0
    n_ok = sum(len(v) for v in t.ok.values())
    decided = t.sales - t.cut_short
    not_ok = decided - n_ok
    fail_ratio = not_ok / decided if decided else 0.0
    code, reason = 0, "ok"
    if s.num_requests == 0:
        code, reason = 2, "no request was sent"
    elif not n_ok:
        code, reason = 2, "no sale was accepted (no 2xx)"
    elif t.violations:
        code, reason = 5, f"{len(t.violations)} error answer(s) without the contract's JSON body, e.g. {t.violations[0]}"
    elif fail_ratio > opts.max_fail_ratio:
        code, reason = 3, f"failure ratio {fail_ratio:.4f} > {opts.max_fail_ratio} ({not_ok} of {decided} decided sales not accepted)"
    counts = lambda d: {k: len(v) for k, v in sorted(d.items())}  # noqa: E731
    result = {
        "ok_by_category": counts(t.ok),
        "refused_by_category": counts(t.refused),
        "in_doubt_by_category": counts(t.in_doubt),
        "in_doubt_keys": {k: sorted(v) for k, v in sorted(t.in_doubt.items())},
        "status_counts": dict(sorted(t.status.items())),
        "sales": t.sales, "cut_short": t.cut_short, "requests": s.num_requests, "failures": s.num_failures, "retries": t.retries,
        "ok_total": n_ok,
        "fail_ratio": fail_ratio,
        "contract_violations": t.violations,
        "latency_ms": {"p50": p[0.5], "p95": p[0.95], "p99": p[0.99],
                       "avg": s.avg_response_time if s.num_requests else None,
                       "max": s.max_response_time if s.num_requests else None},
        "elapsed_s": round(elapsed, 3),
        "throughput_rps": round(s.num_requests / elapsed, 1) if elapsed else None,
        "ok_throughput_rps": round(n_ok / elapsed, 1) if elapsed else None,
        "catalog": STATE["info"],
        "limits": {"max_fail_ratio": opts.max_fail_ratio, "max_attempts": opts.max_attempts},
        "exit_code": code, "verdict": reason,
    }
    if opts.results_file:
        path = pathlib.Path(opts.results_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
    if opts.keys_file:
        path = pathlib.Path(opts.keys_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = {name: {k: sorted(v) for k, v in sorted(getattr(t, name).items())} for name in ("ok", "in_doubt")}
        path.write_text(json.dumps(keys) + "\n")
    print(f"locust verdict: {reason} (sales={t.sales}, requests={s.num_requests}, retries={t.retries}, "
          f"in doubt={sum(result['in_doubt_by_category'].values())} (cut short by the stop {t.cut_short}), p95={p[0.95]} ms); "
          f"accepted per category {result['ok_by_category']}", flush=True)
    environment.process_exit_code = code
