"""The broker A/B tools of docs/capacity.md ("Third round: the broker on 2 cores"), on real JVMs:

- scripts/testbed/kafka.sh's KAFKA_EXTRA_PROPS: a private broker started with `num.io.threads=1`
  appended after the default 2 really runs one request handler per pool (jstack), and a word
  that is not key=value is refused before anything starts;
- tools/capacity/jvm_threads.py: thread names from jstack and CPU ticks from /proc, grouped.
"""
import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import ROOT, bench_script

sys.path.insert(0, os.path.join(ROOT, "tools", "capacity"))
import jvm_threads  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kafka_sh(tmp_path, *args, extra_props):
    env = dict(os.environ, TESTBED_DIR=str(tmp_path), KAFKA_PORT=str(free_port()),
               KAFKA_CONTROLLER_PORT=str(free_port()), KAFKA_EXTRA_PROPS=extra_props)
    return subprocess.run(["bash", bench_script("kafka.sh"), *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_group_of_names_the_kafka_and_hotspot_threads():
    assert jvm_threads.group_of("data-plane-kafka-network-thread-1-ListenerName(PLAINTEXT)-PLAINTEXT-0") == "network threads"
    assert jvm_threads.group_of("data-plane-kafka-request-handler-1") == "request handlers"
    assert jvm_threads.group_of("G1 Refine#0") == "GC"
    assert jvm_threads.group_of("GC Thread#1") == "GC"
    assert jvm_threads.group_of("C2 CompilerThread0") == "JIT compilers"
    assert jvm_threads.group_of("VM Thread") == "VM thread (safepoints; Serial GC)"
    assert jvm_threads.group_of("something-else") == "other"


def test_extra_props_override_the_defaults_in_a_real_broker(tmp_path):
    started = kafka_sh(tmp_path, "start", extra_props="num.io.threads=1 num.network.threads=1")
    try:
        assert started.returncode == 0, started.stderr[-2000:]
        props = (tmp_path / "kafka" / "server.properties").read_text().splitlines()
        # the default stays written; the appended line comes later, and java.util.Properties keeps the later one
        assert props.index("num.io.threads=2") < props.index("num.io.threads=1")
        pid = int((tmp_path / "kafka" / "kafka.pid").read_text())
        before, after = tmp_path / "a.json", tmp_path / "b.json"
        jvm_threads.snap(pid, before)
        jvm_threads.snap(pid, after)
        names = [t["name"] for t in json.loads(after.read_text())["threads"].values()]
        handlers = sorted(n for n in names if n.startswith("data-plane-kafka-request-handler-"))
        # one handler per request pool (broker and controller in combined mode), never a second
        assert handlers and all(n == "data-plane-kafka-request-handler-0" for n in handlers), handlers
        assert any("network-thread" in n for n in names), "jstack names missing: " + ", ".join(sorted(names)[:10])
        d = jvm_threads.diff(before, after, sales=1000)
        assert {g["group"] for g in d["groups"]} >= {"request handlers", "network threads", "JIT compilers", "GC"}
        # the threads' ticks add up to (nearly) the process's own utime+stime, read right after
        stat = open(f"/proc/{pid}/stat").read()
        fields = stat[stat.rindex(")") + 2:].split()
        process_ticks = int(fields[11]) + int(fields[12])
        thread_ticks = sum(t["ticks"] for t in json.loads(after.read_text())["threads"].values())
        assert 0.5 * process_ticks <= thread_ticks <= process_ticks, (thread_ticks, process_ticks)
    finally:
        kafka_sh(tmp_path, "stop", extra_props="")


def test_extra_props_refuse_a_word_without_equals(tmp_path):
    p = kafka_sh(tmp_path, "start", extra_props="num.io.threads=1 oops")
    try:
        assert p.returncode != 0
        assert "KAFKA_EXTRA_PROPS: key=value words, not 'oops'" in p.stderr
        assert not (tmp_path / "kafka" / "kafka.pid").exists() or subprocess.run(
            ["kill", "-0", (tmp_path / "kafka" / "kafka.pid").read_text().strip()]).returncode != 0
    finally:
        kafka_sh(tmp_path, "stop", extra_props="")
