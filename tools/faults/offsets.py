#!/usr/bin/env python3
"""Where the consumers are, per partition, as the fault driver of scripts/main-job needs it.

    offsets.py --kafka B --topic T --group G --valkey H:P watch --seconds S [--valkey-down]
    offsets.py --kafka B --topic T --group G --valkey H:P catchup [--timeout S]

Three offsets per partition (all "next offset to read"): the high watermark in Kafka, the group's
committed offset in Kafka, and the offset the consumers applied (bf:offsets:<topic> in Valkey,
written in the same atomic call as the counts: docs/contracts.md §5).

The consumer's promise (go-services/internal/consumer): it commits a record to Kafka only after
Valkey holds it. So at every moment committed <= applied, per partition; a commit ahead of Valkey
is a record that can never be redelivered and was never counted: silent loss.

watch: samples every second for S seconds and prints one JSON object: the samples and every
  partition seen with committed > applied ("commit_ahead", empty when the promise held). The
  committed offsets are read BEFORE Valkey's in each sample, so a batch applied and committed
  between the two reads cannot look like a violation. --valkey-down: Valkey is not reachable;
  the committed offsets are recorded (they must not move while nothing can be applied) and the
  check against Valkey is made once, when `catchup` reads Valkey again (pass --committed-max-from).
catchup: started just before the fault ends; takes the high watermarks then and waits until
  Valkey's applied offsets reach them: prints {"catchup_s": seconds from the end of the fault,
  "backlog": records that waited}, or catchup_s null.
"""
import argparse
import json
import pathlib
import sys
import time

import valkey
from confluent_kafka import Consumer, TopicPartition

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools/dashboard"))
from bfdash.keys import PREFIXES  # noqa: E402  (contract/valkey-keys.json)


class Offsets:
    def __init__(self, kafka, topic, group, valkey_addr):
        self.topic = topic
        # a consumer that never subscribes: it does not join the group, it only reads its offsets
        self.c = Consumer({"bootstrap.servers": kafka, "group.id": group, "enable.auto.commit": False})
        md = self.c.list_topics(topic, timeout=10)
        self.partitions = sorted(md.topics[topic].partitions)
        host, port = valkey_addr.rsplit(":", 1)
        self.vk = valkey.Valkey(host=host, port=int(port), socket_timeout=2, socket_connect_timeout=2)

    def committed(self):
        tps = self.c.committed([TopicPartition(self.topic, p) for p in self.partitions], timeout=10)
        return {tp.partition: max(tp.offset, 0) for tp in tps}

    def high(self):
        return {p: self.c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)[1] for p in self.partitions}

    def applied(self):
        raw = self.vk.hgetall(PREFIXES["offsets"] + self.topic)
        return {int(k): int(v) for k, v in raw.items()}


def watch(o, seconds, valkey_down, interval=1.0):
    end = time.monotonic() + seconds
    samples, ahead, first, last = 0, [], None, None
    while True:
        committed = o.committed()   # first: see the module docstring
        first = first or committed
        last = committed
        if not valkey_down:
            applied = o.applied()
            ahead += [{"partition": p, "committed": c, "applied": applied.get(p, 0)}
                      for p, c in committed.items() if c > applied.get(p, 0)]
        samples += 1
        if time.monotonic() >= end:
            break
        time.sleep(interval)
    return {"samples": samples, "commit_ahead": ahead,
            "committed_first": first, "committed_last": last}


def catchup(o, timeout, committed_max, ready_file=None):
    """Started just before the fault ends (Valkey restarted, the disk freed): the high watermarks
    now are what arrived while the consumers could not apply."""
    t0 = time.monotonic()
    high = o.high()
    if ready_file:   # the caller may end the fault now
        open(ready_file, "w").close()

    def applied_or_none():
        try:
            return o.applied()
        except valkey.exceptions.ValkeyError:   # not up yet, or loading its AOF
            return None

    applied = None
    while applied is None and time.monotonic() - t0 < timeout:
        applied = applied_or_none()
        if applied is None:
            time.sleep(0.1)
    if applied is None:
        return {"catchup_s": None, "backlog": None, "commit_ahead": []}
    # the first read once Valkey answers: the committed offsets seen while it was down must not be
    # ahead of what it holds (it may have applied more since: that only weakens the check)
    committed = {int(p): c for p, c in (committed_max or {}).items()}
    ahead = [{"partition": p, "committed": c, "applied": applied.get(p, 0)}
             for p, c in committed.items() if c > applied.get(p, 0)]
    # records waiting: from where the consumers stood (committed while down, else applied) to the
    # high watermark when the fault ended
    start = committed or applied
    backlog = sum(max(0, h - start.get(p, 0)) for p, h in high.items())
    while time.monotonic() - t0 < timeout:
        if applied is not None and all(applied.get(p, 0) >= h for p, h in high.items()):
            return {"catchup_s": round(time.monotonic() - t0, 1), "backlog": backlog, "commit_ahead": ahead}
        time.sleep(0.1)
        applied = applied_or_none()
    return {"catchup_s": None, "backlog": backlog, "commit_ahead": ahead}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kafka", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--valkey", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch")
    w.add_argument("--seconds", type=float, required=True)
    w.add_argument("--valkey-down", action="store_true")
    c = sub.add_parser("catchup")
    c.add_argument("--timeout", type=float, default=180)
    c.add_argument("--ready-file", help="created once the high watermarks are taken")
    c.add_argument("--committed-max-from", metavar="WATCH_JSON",
                   help="the output of `watch --valkey-down`: its last committed offsets must not be ahead of Valkey")
    a = ap.parse_args()
    o = Offsets(a.kafka, a.topic, a.group, a.valkey)
    try:
        if a.cmd == "watch":
            out = watch(o, a.seconds, a.valkey_down)
        else:
            committed = None
            if a.committed_max_from:
                committed = json.load(open(a.committed_max_from)).get("committed_last")
            out = catchup(o, a.timeout, committed, a.ready_file)
    finally:
        o.c.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
