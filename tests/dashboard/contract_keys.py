"""Writes the Valkey keys of docs/contracts.md §5 for a list of sales, the way the consumer does
(ties of max/min go to the smaller producto_id; averages as exact floats)
(a reference, used when the test cannot run the real consumer on real Kafka records).
A sale is a dict {categoria, producto_id, precio, cantidad_vendida}."""
import time

from bfdash.keys import KEYS, PREFIXES  # contract/valkey-keys.json (conftest puts bfdash on the path)


def write_sales(client, sales, ttl_seconds=7 * 24 * 3600, base_ms=None):
    base_ms = base_ms or int(time.time() * 1000) - len(sales)
    reports, units, price_sum = {}, {}, {}
    pmax = pmin = None
    pipe = client.pipeline(transaction=True)
    for i, s in enumerate(sales):
        c, p, q, pid = s["categoria"], float(s["precio"]), int(s["cantidad_vendida"]), s["producto_id"]
        reports[c] = reports.get(c, 0) + 1
        units[c] = units.get(c, 0) + q
        price_sum[c] = price_sum.get(c, 0.0) + p
        if pmax is None or p > pmax["precio"] or (p == pmax["precio"] and pid < pmax["producto_id"]):
            pmax = {"precio": p, "producto_id": pid, "categoria": c}
        if pmin is None or p < pmin["precio"] or (p == pmin["precio"] and pid < pmin["producto_id"]):
            pmin = {"precio": p, "producto_id": pid, "categoria": c}
        pipe.zincrby(KEYS["product_units"], q, pid)
        pipe.zincrby(PREFIXES["product_units_by_category"] + c, q, pid)
        pipe.xadd(PREFIXES["series"] + pid, {"precio": repr(p), "cantidad_vendida": str(q)},
                  id=f"{base_ms + i}-0", maxlen=1000, approximate=True)
        pipe.expire(PREFIXES["series"] + pid, ttl_seconds)
        pipe.expire(PREFIXES["product_units_by_category"] + c, ttl_seconds)
    pipe.expire(KEYS["product_units"], ttl_seconds)
    pipe.hset(KEYS["reports"], mapping=reports)
    pipe.hset(KEYS["units"], mapping=units)
    pipe.hset(KEYS["price_sum"], mapping={c: repr(v) for c, v in price_sum.items()})
    pipe.hset(KEYS["avg_units"], mapping={c: repr(units[c] / reports[c]) for c in reports})
    pipe.hset(KEYS["avg_price"], mapping={c: repr(price_sum[c] / reports[c]) for c in reports})
    pipe.hset(KEYS["price_max"], mapping={k: repr(v) if isinstance(v, float) else v for k, v in pmax.items()})
    pipe.hset(KEYS["price_min"], mapping={k: repr(v) if isinstance(v, float) else v for k, v in pmin.items()})
    pipe.execute()
    return {"reports": reports, "units": units, "price_sum": price_sum, "max": pmax, "min": pmin}
