"""Locust's 2xx per category vs Valkey's bf:reports, and waiting for the consumers to drain."""
import json
import time

from .keys import KEYS, PREFIXES

CATEGORIES = ("Electronica", "Ropa", "Hogar", "Belleza")


def valkey_reports(client, key=KEYS["reports"]):
    raw = client.hgetall(key)
    return {(k.decode() if isinstance(k, bytes) else k): int(float(v)) for k, v in raw.items()}


def compare(locust_ok, valkey):
    """Rows (categoria, locust, valkey, ok) for every category either side knows, and all-ok."""
    cats = list(CATEGORIES) + sorted((set(locust_ok) | set(valkey)) - set(CATEGORIES))
    rows = []
    for c in cats:
        lo, va = int(locust_ok.get(c, 0)), int(valkey.get(c, 0))
        rows.append((c, lo, va, lo == va))
    tl, tv = sum(r[1] for r in rows), sum(r[2] for r in rows)
    rows.append(("TOTAL", tl, tv, tl == tv))
    return rows, all(r[3] for r in rows)


def table(rows):
    out = [f"{'categoria':<12} {'locust 2xx':>11} {'valkey bf:reports':>18}  match",
           f"{'-' * 12} {'-' * 11} {'-' * 18}  -----"]
    for c, lo, va, ok in rows:
        out.append(f"{c:<12} {lo:>11} {va:>18}  {'yes' if ok else 'NO (diff ' + format(va - lo, '+d') + ')'}")
    return "\n".join(out)


class KafkaLag:
    """Consumer lag as the exactly-once bookkeeping sees it: for every partition of the topic, the
    high watermark minus the next offset the consumers applied (bf:offsets:<topic> in Valkey)."""

    def __init__(self, bootstrap, topic):
        from confluent_kafka import Consumer, TopicPartition
        self.topic, self.TopicPartition = topic, TopicPartition
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bfdash-lag-probe",
                           "enable.auto.commit": False})
        md = self.c.list_topics(topic, timeout=10)
        self.partitions = sorted(md.topics[topic].partitions)

    def lag(self, client):
        applied = {int(k): int(v) for k, v in client.hgetall(PREFIXES["offsets"] + self.topic).items()}
        total = 0
        for p in self.partitions:
            _, high = self.c.get_watermark_offsets(self.TopicPartition(self.topic, p), timeout=10)
            total += max(0, high - applied.get(p, 0))
        return total

    def close(self):
        self.c.close()


def wait_drain(client, expect_total, timeout=180.0, stable_for=20.0, interval=0.5, progress=print, lag=None):
    """Polls sum(bf:reports) (and the consumer lag when `lag` is a KafkaLag) until the total equals
    expect_total or the lag is 0, or the total stops changing for stable_for seconds, or timeout.
    Returns (total, seconds until the last change, reached, lag)."""
    t0 = time.monotonic()
    last_total, last_change = None, t0
    next_note = t0
    while True:
        total = sum(valkey_reports(client).values())
        current_lag = lag.lag(client) if lag else None
        now = time.monotonic()
        if total != last_total:
            last_total, last_change = total, now
        if total == expect_total or current_lag == 0:
            return total, last_change - t0, True, current_lag
        if now - last_change >= stable_for or now - t0 >= timeout:
            return total, last_change - t0, False, current_lag
        if now >= next_note:
            progress(f"  draining: valkey total {total} / locust 2xx {expect_total}"
                     f"{'' if current_lag is None else f', consumer lag {current_lag}'} ({now - t0:.0f}s)")
            next_note = now + 5
        time.sleep(interval)


def load_locust(path):
    with open(path) as f:
        return json.load(f)
