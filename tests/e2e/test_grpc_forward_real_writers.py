"""rust-api in grpc mode against the real Go writers and the bench's real Kafka.

Two grpc-server processes (the writer binary of go-services/cmd/grpc-server) produce to a fresh
topic of the bench Kafka, with their connection rotation (grpc-go max-connection-age, 30 s in
production) shortened to 500 ms so that rust-api's pooled connections are sent GOAWAY many times during
the run. rust-api (`--mode grpc`, both writers as targets) gets a fixed number of sales from
concurrent clients. Every sale must be answered 200, and Kafka must hold exactly one record per
answered sale id: none lost across the rotations (the one-retry of a call hyper handed back unsent,
rust-api/src/forward/grpc.rs), none written twice.

The run goes on in rounds until rust-api has been seen on at least MIN_CONNECTIONS distinct
connections to each writer (read from /proc/net/tcp), so the rotation is shown to have happened,
not assumed; no assertion is about speed.
"""
import concurrent.futures
import os
import pathlib
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
from private_testbed import free_port  # noqa: E402  (conftest puts tests/ on sys.path)

ROUND = 400           # sales per round
CLIENTS = 16          # concurrent HTTP clients
MAX_ROUNDS = 60       # bound: a rotation that never shows fails the test instead of looping
MIN_CONNECTIONS = 10  # distinct rust-api -> writer connections per writer (>= 9 rotations each)
MAX_CONNECTION_AGE = "500ms"
SALE = {"categoria": "Belleza", "producto_id": "BEL-001", "precio": 129.99, "cantidad_vendida": 3}


def kafka_bootstrap():
    v = os.environ.get("KAFKA_BOOTSTRAP")
    if not v:
        env = ROOT / ".testbed" / "env"
        for line in env.read_text().splitlines() if env.exists() else []:
            if line.startswith("KAFKA_BOOTSTRAP="):
                v = line.split("=", 1)[1].strip().strip("'\"")
    if not v:
        pytest.fail("KAFKA_BOOTSTRAP is not set: start the bench (scripts/testbed/up.sh kafka)")
    return v


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    """The writer and rust-api, built from this checkout (incremental: cheap when current)."""
    out = tmp_path_factory.mktemp("bin")
    env = dict(os.environ, GOFLAGS="-buildvcs=false")
    subprocess.run(["go", "build", "-o", str(out / "grpc-server"), "./cmd/grpc-server"],
                   cwd=ROOT / "go-services", env=env, check=True)
    if os.environ.get("E2E_RUST_API_BIN"):  # a given build (e.g. one with a change under test)
        return out / "grpc-server", pathlib.Path(os.environ["E2E_RUST_API_BIN"])
    profile = os.environ.get("E2E_CARGO_PROFILE", "dev")
    subprocess.run(["nice", "cargo", "build", "-q", "-p", "rust-api", "--bin", "rust-api",
                    "--profile", profile], cwd=ROOT, check=True)
    rust_api = ROOT / "target" / ("debug" if profile == "dev" else profile) / "rust-api"
    return out / "grpc-server", rust_api


@pytest.fixture
def topic():
    from confluent_kafka.admin import AdminClient, NewTopic
    bootstrap = kafka_bootstrap()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    name = f"e2e-grpc-{uuid.uuid4().hex[:10]}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(30)
    yield bootstrap, name
    admin.delete_topics([name])[name].result(30)


class Processes:
    """Started programs, stopped with SIGTERM (then SIGKILL) when the test ends, pass or fail."""

    def __init__(self, logdir):
        self.logdir, self.procs = logdir, []

    def start(self, name, *cmd):
        log = open(self.logdir / f"{name}.log", "w")
        p = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, p, log))
        return p

    def log(self, name):
        return (self.logdir / f"{name}.log").read_text()[-3000:]

    def stop(self):
        for _, p, _ in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p, log in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


def wait_http_ok(url, procs, name, p):
    for _ in range(300):
        assert p.poll() is None, f"{name} exited ({p.returncode}):\n{procs.log(name)}"
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"{name} never answered {url}:\n{procs.log(name)}")


def connections_to(port):
    """Local ports of established TCP connections from 127.0.0.1 to 127.0.0.1:port."""
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            local, remote, state = line.split()[1:4]
            if state == "01" and remote == f"0100007F:{port:04X}":
                found.add(local)
    return found


class ConnectionWatch(threading.Thread):
    """Samples the connections to each writer port every 20 ms while the load runs."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.seen = {p: set() for p in ports}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for port, seen in self.seen.items():
                seen |= connections_to(port)
            self.done.wait(0.02)

    def counts(self):
        return {p: len(s) for p, s in self.seen.items()}


def post_sales(url, n):
    """n sales from CLIENTS keep-alive clients: [(status, sale id, error body)]."""
    def worker(k):
        s = requests.Session()
        out = []
        for _ in range(k):
            r = s.post(url, json=SALE, timeout=30)
            out.append((r.status_code, r.headers.get("x-sale-id"), "" if r.status_code == 200 else r.text))
        return out
    per = [n // CLIENTS + (1 if i < n % CLIENTS else 0) for i in range(CLIENTS)]
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as ex:
        return [x for part in ex.map(worker, per) for x in part]


def read_topic(bootstrap, topic, want, timeout=90):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"e2e-{uuid.uuid4().hex}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    records, end = [], time.time() + timeout
    try:
        while len(records) < want and time.time() < end:
            for m in c.consume(num_messages=1000, timeout=1.0):
                assert m.error() is None, m.error()
                records.append(dict((k, v.decode()) for k, v in (m.headers() or [])))
        # anything beyond `want` would be a duplicate: read on briefly to catch it
        records.extend(dict((k, v.decode()) for k, v in (m.headers() or []))
                       for m in c.consume(num_messages=1000, timeout=3.0) if m.error() is None)
    finally:
        c.close()
    return records


def test_every_sale_through_rotating_real_writers_is_in_kafka_exactly_once(binaries, topic, tmp_path):
    writer_bin, rust_api_bin = binaries
    bootstrap, name = topic
    procs = Processes(tmp_path)
    try:
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports, 1):
            admin = free_port()
            p = procs.start(f"grpc-server-{i}", writer_bin, "--name", f"grpc-server-{i}",
                            "--listen", f"127.0.0.1:{port}", "--metrics-listen", f"127.0.0.1:{admin}",
                            "--kafka-brokers", bootstrap, "--topic", name,
                            "--max-connection-age", MAX_CONNECTION_AGE, "--log-level", "warn")
            wait_http_ok(f"http://127.0.0.1:{admin}/readyz", procs, f"grpc-server-{i}", p)
        api_port = free_port()
        api = procs.start("rust-api", rust_api_bin, "--listen", f"127.0.0.1:{api_port}", "--mode", "grpc",
                          "--writer-targets", ",".join(f"127.0.0.1:{p}" for p in ports),
                          "--downstream-timeout-ms", "10000")
        base = f"http://127.0.0.1:{api_port}"
        wait_http_ok(base + "/healthz", procs, "rust-api", api)

        watch = ConnectionWatch(ports)
        watch.start()
        answers = []
        for _ in range(MAX_ROUNDS):
            answers += post_sales(base + "/api/v1/ventas", ROUND)
            if min(watch.counts().values()) >= MIN_CONNECTIONS:
                break
        watch.done.set()
        watch.join()
        assert min(watch.counts().values()) >= MIN_CONNECTIONS, (
            f"the writers never rotated rust-api's connections ({watch.counts()} after {len(answers)} sales)")

        ids = [a[1] for a in answers]
        assert None not in ids and len(set(ids)) == len(ids), "every answer carries its own sale id"
        accepted = {a[1] for a in answers if a[0] == 200}
        failed = [a for a in answers if a[0] != 200]

        records = read_topic(bootstrap, name, len(accepted))
        in_kafka = [r.get("sale-id") for r in records]
        # nothing accepted is lost, nothing is written twice, nothing unknown is written
        missing = accepted - set(in_kafka)
        assert not missing, f"{len(missing)} accepted sales are not in Kafka, e.g. {sorted(missing)[:3]}"
        assert len(set(in_kafka)) == len(in_kafka), "a sale is in Kafka twice"
        assert set(in_kafka) <= set(ids), "Kafka holds a sale id rust-api never answered"
        # and every sale was accepted: a connection rotation must not fail one
        stored_anyway = sum(1 for a in failed if a[1] in set(in_kafka))
        assert not failed, (f"{len(failed)} of {len(answers)} sales failed across "
                            f"{sum(watch.counts().values())} connections ({stored_anyway} of them were "
                            f"stored in Kafka all the same), e.g. {failed[:3]}")
        assert {r.get("writer") for r in records} == {"grpc-server-1", "grpc-server-2"}
        print(f"{len(ids)} sales, all 200, each once in Kafka; connections per writer port: {watch.counts()}")
    finally:
        procs.stop()
