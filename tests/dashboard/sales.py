"""Deterministic sales from the catalogue, their expected dashboard values, and their Kafka form
(protobuf ProductSaleRequest encoded by hand: the four fields of proto/blackfriday.proto)."""
import json
import pathlib
import random
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENUM = {"Electronica": 1, "Ropa": 2, "Hogar": 3, "Belleza": 4}


def make_sales(n, seed=7):
    cat = json.loads((ROOT / "locust/catalog.json").read_text())
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        c = rnd.choice(cat["categories"])
        p = rnd.choice(c["products"])
        out.append({"categoria": c["categoria"], "producto_id": p["producto_id"],
                    "precio": round(rnd.uniform(p["precio_min"], p["precio_max"]), 2),
                    "cantidad_vendida": rnd.randint(1, 5)})
    return out


def expected(sales, categoria, producto):
    """What every panel must show for these sales (contract §5 semantics)."""
    rep, units, psum, pu, pu_cat, series = {}, {}, {}, {}, {}, []
    pmax = pmin = None
    for s in sales:
        c, p, q, pid = s["categoria"], s["precio"], s["cantidad_vendida"], s["producto_id"]
        rep[c] = rep.get(c, 0) + 1
        units[c] = units.get(c, 0) + q
        psum[c] = psum.get(c, 0.0) + p
        pu[pid] = pu.get(pid, 0) + q
        if c == categoria:
            pu_cat[pid] = pu_cat.get(pid, 0) + q
        # equal prices go to the smaller producto_id (the consumer's rule: order-independent)
        if pmax is None or p > pmax[0] or (p == pmax[0] and pid < pmax[1]):
            pmax = (p, pid)
        if pmin is None or p < pmin[0] or (p == pmin[0] and pid < pmin[1]):
            pmin = (p, pid)
        if pid == producto:
            series.append(p)
    return {
        "reports": rep,
        "avg_units": {c: units[c] / rep[c] for c in rep},
        "avg_price": {c: psum[c] / rep[c] for c in rep},
        "max": pmax, "min": pmin,
        "most": max(pu.values()), "most_ids": {k for k, v in pu.items() if v == max(pu.values())},
        "least": min(pu.values()), "least_ids": {k for k, v in pu.items() if v == min(pu.values())},
        "most_cat": max(pu_cat.values()),
        "most_cat_ids": {k for k, v in pu_cat.items() if v == max(pu_cat.values())},
        "least_cat": min(pu_cat.values()),
        "least_cat_ids": {k for k, v in pu_cat.items() if v == min(pu_cat.values())},
        "series": series,
    }


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_proto(s):
    """ProductSaleRequest{categoria=1 (enum), producto_id=2, precio=3 (double), cantidad_vendida=4}."""
    pid = s["producto_id"].encode()
    return (b"\x08" + _varint(ENUM[s["categoria"]])
            + b"\x12" + _varint(len(pid)) + pid
            + b"\x19" + struct.pack("<d", float(s["precio"]))
            + b"\x20" + _varint(int(s["cantidad_vendida"])))
