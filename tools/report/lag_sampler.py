#!/usr/bin/env python3
"""Samples the consumer lag of one main-job run, once per --interval seconds, until it is stopped
(SIGTERM) or the main job's log says it is done.

The topic is read from the main job's log (step 4 prints `Kafka topic <name> (...)`), so the
sampler can be started next to the job. Each sample is one JSON line appended to --out:
  {"t": unix seconds, "lag": Kafka high watermarks - bf:offsets:<topic> (records not yet in Valkey),
   "valkey_total": sum of bf:reports}
The lag is the one the exactly-once bookkeeping sees (tools/dashboard/bfdash/counts.KafkaLag), the
same figure the main job waits on after the load.

  lag_sampler.py --log out/experiments/kafka-users-5.log --kafka 127.0.0.1:19092 \
                 --valkey 127.0.0.1:16379 --out lag.jsonl [--interval 1]
"""
import argparse
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dashboard"))
from bfdash.counts import KafkaLag  # noqa: E402

TOPIC_LINE = re.compile(r"Kafka topic (\S+) \(")
DONE_LINE = re.compile(r"^main-job: (OK|FAILED)", re.M)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--kafka", required=True)
    ap.add_argument("--valkey", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=900.0)
    a = ap.parse_args()
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))

    import valkey
    host, port = a.valkey.rsplit(":", 1)
    # VALKEY_PASSWORD (if set) authenticates, as the consumer does (the Valkey VMs require it)
    client = valkey.Valkey(host=host, port=int(port), socket_timeout=5,
                           password=os.environ.get("VALKEY_PASSWORD") or None)
    t_end = time.time() + a.timeout
    topic = None
    while not stop["now"] and time.time() < t_end and topic is None:
        try:
            m = TOPIC_LINE.search(open(a.log, errors="replace").read())
            topic = m.group(1) if m else None
        except FileNotFoundError:
            pass
        if topic is None:
            time.sleep(0.5)
    if topic is None:
        return 0
    probe = None
    with open(a.out, "a") as out:
        while not stop["now"] and time.time() < t_end:
            t0 = time.time()
            try:
                if probe is None:
                    probe = KafkaLag(a.kafka, topic)
                if not probe.partitions:
                    # the job prints the topic's name just before creating it: a probe made in
                    # between knows no partition and would report 0 for ever
                    probe.close()
                    probe = None
                    raise RuntimeError(f"topic {topic} has no partitions yet")
                lag = probe.lag(client)
                total = sum(int(float(v)) for v in client.hvals("bf:reports"))
                out.write(json.dumps({"t": round(t0, 3), "lag": lag, "valkey_total": total}) + "\n")
                out.flush()
            except Exception as e:  # the topic or Valkey not ready yet: try again next tick
                print(f"lag_sampler: {e}", file=sys.stderr)
            try:
                if DONE_LINE.search(open(a.log, errors="replace").read()):
                    break
            except FileNotFoundError:
                pass
            time.sleep(max(0.0, a.interval - (time.time() - t0)))
    if probe is not None:
        probe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
