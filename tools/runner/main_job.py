#!/usr/bin/env python3
"""scripts/main-job as a program: the Black Friday simulation on this machine (docs/main-job.md).

scripts/main-job is the entry point (its header lists the options); it runs this file. The steps
and what they print are those of the bash main job this replaces; the pieces are shared with the
other local runners: tools/runner/testbed.py (reuse the running bench, stop only what we started),
topology.py (programs, process counts, env from `blackfriday-operator render`, local ports from
contract/ports.json), supervisor.py (start, restart, health, stop), summary.py (the figures) and
fault-driver.sh (--faults).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import testbed  # noqa: E402
from estimate import estimate_lines  # noqa: E402
import summary  # noqa: E402
import topology  # noqa: E402
from supervisor import Supervisor, SupervisorError, port_open  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = "config/samples/pipeline.yaml"
ALL_FAULTS = ["consumer", "writer", "valkey", "kafka", "rust-api", "grpc-client", "together", "valkey-down", "disk-full"]
# the single targets a fault hits (`together` kills three in the same instant); fault-driver.sh has the same list
FAULT_MEMBERS = {"together": ["consumer", "writer", "valkey"], "valkey-down": ["valkey"], "disk-full": ["valkey"]}
SERVICES = ["kafka", "valkey", "registry"]


class Died(Exception):
    """die(): the job failed for the reason given (printed as `main-job: FAILED: reason`)."""


class Interrupted(Exception):
    pass


def usage_error(text):
    print(f"main-job: {text}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    """The options of scripts/main-job (its header documents them), with its error messages."""
    ap = argparse.ArgumentParser(prog="main-job", add_help=False, allow_abbrev=False)
    ap.error = lambda msg: usage_error(f"{msg} (see --help)")  # type: ignore[method-assign]
    for flag, default in (("--duration", "60s"), ("--users", "20"), ("--spawn-rate", ""), ("--partitions", "6"),
                          ("--forward", "rest"), ("--route", "both"), ("--valkey", ""), ("--valkey-vm-count", ""),
                          ("--cargo-profile", "release"), ("--operator-profile", "dev"), ("--out", "out/main-job"),
                          ("--faults", ""), ("--fault-every", "20"), ("--valkey-down", "30"), ("--disk-full", "20")):
        ap.add_argument(flag, default=default)
    for flag in ("--valkey-vms", "--short", "--no-setup", "--no-build", "--isolated", "--keep", "-h", "--help"):
        ap.add_argument(flag, action="store_true")
    o, rest = ap.parse_known_args(argv)
    if o.h or o.help:
        text = (ROOT / "scripts" / "main-job").read_text().splitlines()[1:]
        print("\n".join(text[:next(i for i, line in enumerate(text) if line.startswith("set -"))]))
        sys.exit(0)
    if rest:
        usage_error(f"unknown option {rest[0]} (see --help)")
    if o.short:
        o.duration, o.users = "20s", "5"
    o.valkey_vms = o.valkey_vms or bool(o.valkey_vm_count)
    o.spawn_rate = o.spawn_rate or o.users
    if o.forward not in ("rest", "grpc"):
        usage_error("--forward rest|grpc")
    if o.route not in ("both", "grpc-server-1", "grpc-server-2"):
        usage_error("--route both|grpc-server-1|grpc-server-2")
    if o.valkey_vm_count and not re.fullmatch(r"[1-9]", o.valkey_vm_count):
        usage_error("--valkey-vm-count 1..9")
    if o.valkey_vms and o.valkey:
        usage_error("--valkey and --valkey-vms exclude each other")
    o.faults = [f for f in (",".join(ALL_FAULTS) if o.faults == "all" else o.faults).split(",") if f]
    for f in o.faults:
        if f not in ALL_FAULTS:
            usage_error(f"--faults: unknown target {f} ({', '.join(ALL_FAULTS)}, all)")
    profiles = {"release": ("release", "target/release"), "dev": ("dev", "target/debug"), "debug": ("dev", "target/debug")}
    if o.cargo_profile not in profiles:
        usage_error("--cargo-profile release|dev")
    if o.operator_profile not in profiles:
        usage_error("--operator-profile dev|release")
    o.cargo_profile, o.target_dir = profiles[o.cargo_profile]
    o.operator_profile, o.operator_dir = profiles[o.operator_profile]
    return o


def tail(path, n):
    try:
        lines = pathlib.Path(path).read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return
    sys.stderr.write("".join(f"{line}\n" for line in lines))


class MainJob:
    """One run: the state the steps share (options, ports, bench, processes) and the steps."""

    def __init__(self, o):
        self.o = o
        self.t_start = time.time()
        self.n_step = 0
        self.ports = topology.LocalPorts(offset=20000 if o.isolated else 0)
        if o.isolated:
            os.environ.update(TESTBED_DIR=str(ROOT / ".cache/main-job/bench"), KAFKA_PORT="29092", KAFKA_CONTROLLER_PORT="29093",
                              VALKEY_PRIMARY_PORT="26379", VALKEY_REPLICA_PORT="26380", REGISTRY_PORT="25000")
        self.bench_dir = pathlib.Path(os.environ.get("TESTBED_DIR") or ROOT / ".testbed")
        if "disk-full" in o.faults:  # the bench mounts a tmpfs on the primary's data dir (scripts/testbed/valkey.sh)
            os.environ.setdefault("VALKEY_PRIMARY_TMPFS", "512m")
        self.featured = os.environ.get("BF_FEATURED_CATEGORY", "")
        out = pathlib.Path(o.out)
        out.mkdir(parents=True, exist_ok=True)
        self.out = out.resolve()
        self.logs, self.run = self.out / "logs", self.out / "run"
        for d in (self.logs, self.run):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
        for pattern in ("locust*", "counts.json", "dashboard.*", "summary.txt", "faults.*", "restarts.log", "vms.json"):
            for f in self.out.glob(pattern):
                f.unlink()
        self.sup = Supervisor(self.logs, self.run, self.out / "restarts.log", say=self.info)
        self.testbed = testbed.TestbedSession(SERVICES, log=self.logs / "bench.log",
                                        say=lambda svc: self.info(f"{svc} already running: reused, left running"))
        self.procs: list[topology.Process] = []
        self.vms_up = False
        self.driver: subprocess.Popen | None = None
        self.locust: subprocess.Popen | None = None

    # ------------------------------------------------------------ output
    def step(self, text):
        self.n_step += 1
        print(f"\n==> [{time.strftime('%H:%M:%S')} +{int(time.time() - self.t_start)}s] {self.n_step}. {text}", flush=True)

    @staticmethod
    def info(text):
        print(f"    {text}", flush=True)

    @staticmethod
    def die(text):
        raise Died(text)

    def since(self, t0):
        return int(time.time() - t0)

    def run_progress(self, log, argv, every=20, env=None) -> int:
        """Run ARGV with its output in LOG; every EVERY s say what it is doing (cargo's last line)."""
        with open(log, "w") as f:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
        n = 0
        while p.poll() is None:
            time.sleep(1)
            n += 1
            if n % every == 0:
                last = [line.strip() for line in pathlib.Path(log).read_text(errors="replace").splitlines()
                        if re.match(r"^ *(Compiling|Building|Downloading|Downloaded|Finished|go: downloading)", line)]
                self.info(f"… {n}s" + (f" ({last[-1][:100]})" if last else ""))
        return p.returncode

    def prefixed(self, argv, **kw) -> int:
        """Run ARGV with each line of its output indented like info lines (`| sed -u 's/^/    /'`)."""
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=kw.pop("stderr", None), text=True, cwd=ROOT, **kw)
        for line in p.stdout:
            print(f"    {line}", end="", flush=True)
        return p.wait()

    def vk(self, *args, addr=None, check=False) -> str:
        """valkey-cli against the primary (or ADDR); its output (the password, if any, is in REDISCLI_AUTH)."""
        host, port = (addr or self.valkey_addr).rsplit(":", 1)
        return subprocess.run([self.valkey_cli, "-h", host, "-p", port, *args], capture_output=True, text=True,
                              check=check).stdout

    # ------------------------------------------------------------ the steps
    def estimate(self):
        lines, secs = estimate_lines(self.o, ROOT)
        load = os.getloadavg()[0]
        print(f"main-job: time estimate ≈ {(secs + 59) // 60} min (more on a busy machine; load average now {load:.2f}):")
        for line in lines:
            self.info(line)
        o = self.o
        duration = f"faults {','.join(o.faults)}, one every {o.fault_every}s after recovery" if o.faults else o.duration
        print(f"main-job: duration {o.duration}, {o.users} users (spawn rate {o.spawn_rate}/s), topic partitions {o.partitions}, "
              f"forward {o.forward}, route {o.route}, output {self.out}{', isolated bench' if o.isolated else ''}", flush=True)
        self.duration_text = duration

    def setup(self):
        only = "^(00-base|20-go|30-rust-api|60-main-job" + ("|85-vms)" if self.o.valkey_vms else ")")
        self.step(f"set-up (scripts/setup --only '{only}')")
        if not self.o.do_setup:
            return self.info("skipped (--no-setup)")
        if not os.access(ROOT / "scripts/setup", os.X_OK):
            self.die("scripts/setup is missing")
        with open(self.logs / "setup.log", "w") as log:
            p = subprocess.Popen(["scripts/setup", "--only", only], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, cwd=ROOT)
            for line in p.stdout:
                log.write(line)
                if line.startswith("setup: "):
                    print(f"    {line}", end="", flush=True)
        if p.wait() != 0:
            self.die(f"scripts/setup failed (log {self.logs}/setup.log)")

    def build(self):
        o = self.o
        self.step(f"build: rust-api (cargo, profile {o.cargo_profile}), the operator (profile {o.operator_profile}), the Go programs")
        if o.do_build:
            for what, crate, profile, msg in (
                    ("rust-api", "rust-api", o.cargo_profile, "cargo build -p rust-api failed"),
                    ("operator", "blackfriday-operator", o.operator_profile,
                     f"cargo build -p blackfriday-operator failed (log {self.logs}/build-operator.log)")):
                t0 = time.time()
                log = self.logs / f"build-{what}.log"
                if self.run_progress(log, ["nice", "cargo", "build", "--profile", profile, "-p", crate]) != 0:
                    tail(log, 30)
                    self.die(msg)
                self.info(f"{crate} built ({self.since(t0)}s)")
            t0 = time.time()
            log = self.logs / "build-go.log"
            if self.run_progress(log, ["bash", "-c", "cd go-services && nice go build -o bin/ ./cmd/..."]) != 0:
                tail(log, 30)
                self.die("go build ./cmd/... failed")
            self.info(f"Go programs built ({self.since(t0)}s): {' '.join(sorted(os.listdir(ROOT / 'go-services/bin')))}")
        else:
            self.info("skipped (--no-build)")
        self.bins = {"rust-api": f"{o.target_dir}/rust-api", "grpc-client": "go-services/bin/grpc-client",
                     "grpc-server": "go-services/bin/grpc-server", "consumer": "go-services/bin/consumer"}
        self.operator = f"{o.operator_dir}/blackfriday-operator"
        for b in (self.bins["rust-api"], self.operator, *list(self.bins.values())[1:]):
            if not os.access(ROOT / b, os.X_OK):
                self.die(f"{b} is missing: the component is not built (or not written yet)")
        self.topology()

    def topology(self):
        """The operator's render of the sample for this route and forward mode: the programs, their
        process counts and env (tools/runner/topology.py); the featured category comes with it."""
        try:
            self.rendered = topology.render(self.operator, ROOT / SAMPLE, self.o.route, self.o.forward)
            self.deps = topology.deployments(self.rendered)
        except (subprocess.CalledProcessError, topology.TopologyError) as e:
            self.die(f"no topology from `{self.operator} render -f {SAMPLE}`: {getattr(e, 'stderr', None) or e}")
        self.procs = topology.processes(self.deps, self.ports)
        if not self.featured:
            consumer = next(d for d in self.deps.values() if d.program == "consumer")
            self.featured = consumer.env.get("FEATURED_CATEGORY") or ""
            if self.featured:
                self.info(f"featured category {self.featured} (from the operator's render of {SAMPLE})")
        if not self.featured:
            self.featured = "Belleza"
            self.info(f"featured category {self.featured} (default)")

    def load_bench_env(self):
        """`set -a; . TESTBED_DIR/env`: the bench's addresses into our environment (and the children's)."""
        env = subprocess.run(["bash", "-c", 'set -a; . "$0"; env -0', str(self.bench_dir / "env")],
                             capture_output=True, check=True).stdout.decode()
        for kv in env.split("\0"):
            if "=" in kv:
                k, v = kv.split("=", 1)
                os.environ[k] = v

    def bench_up(self):
        self.step("bench services: Kafka, Valkey primary + replica, OCI registry")
        self.testbed.plan()
        t0 = time.time()
        if self.testbed.up() != 0:
            tail(self.logs / "bench.log", 30)
            self.die(f"bench services did not start (log {self.logs}/bench.log)")
        self.info(f"bench up ({self.since(t0)}s)")
        self.load_bench_env()
        if self.o.valkey_vms:
            self.boot_vms()
        e = os.environ
        if self.o.valkey:
            e["VALKEY_ADDR"], _, replica = self.o.valkey.partition(",")
            e["VALKEY_REPLICA_ADDR"] = replica or e["VALKEY_ADDR"]
        for k in ("KAFKA_BOOTSTRAP", "VALKEY_ADDR", "VALKEY_REPLICA_ADDR", "OCI_REGISTRY", "ORAS", "VALKEY_CLI"):
            if not e.get(k):
                self.die(f"{k} is not set by the bench ({self.bench_dir}/env)")
        self.kafka, self.valkey_addr, self.valkey_replica = e["KAFKA_BOOTSTRAP"], e["VALKEY_ADDR"], e["VALKEY_REPLICA_ADDR"]
        self.valkey_cli = e["VALKEY_CLI"]
        self.info(f"KAFKA_BOOTSTRAP={self.kafka} VALKEY_ADDR={self.valkey_addr} VALKEY_REPLICA_ADDR={self.valkey_replica} "
                  f"OCI_REGISTRY={e['OCI_REGISTRY']}")

    def boot_vms(self):
        """The operator's Valkey VMs (render of the sample) with a fresh password; every client below
        authenticates with it (consumer, valkey-cli, the dashboard tool)."""
        self.step("boot the Valkey VMs (QEMU, the operator's rendered VirtualMachines)")
        t0 = time.time()
        if not os.access(ROOT / self.operator, os.X_OK):
            self.die(f"--valkey-vms renders the VMs with {self.operator}, which is not built")
        self.info(f"under TCG each VM takes minutes to boot (docs/valkey-vm.md); progress in {self.logs}/vms.log")
        argv = ["python3", "tests/vms/vmlab.py", "up", "--state", str(self.out / "vms")]
        if self.o.valkey_vm_count:
            argv += ["--vms", self.o.valkey_vm_count]
        self.vms_up = True
        with open(self.logs / "vms.log", "w") as log:
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, cwd=ROOT, text=True,
                                 env={**os.environ, "BF_OPERATOR_BIN": self.operator})
            n = 0
            while p.poll() is None:
                time.sleep(1)
                n += 1
                if n % 60 == 0:
                    print(f"    … {n}s", file=sys.stderr, flush=True)
            out = p.stdout.read()
        if p.returncode != 0:
            tail(self.logs / "vms.log", 30)
            self.die(f"the Valkey VMs did not boot (log {self.logs}/vms.log)")
        d = json.loads(out)
        primary, replica = d["primary"], (d["replicas"] or [d["primary"]])[-1]  # read from the last VM
        os.environ.update(VALKEY_PASSWORD=d["password"], VALKEYCLI_AUTH=d["password"], REDISCLI_AUTH=d["password"])
        self.o.valkey = f"{primary},{replica}"
        d.pop("password")  # what the run reports about the VMs (the password stays out of the output folder)
        d["up_seconds"] = self.since(t0)
        (self.out / "vms.json").write_text(json.dumps(d, indent=1) + "\n")
        boot = " ".join(f"{k} {v:.0f}s" for k, v in d["boot_seconds"].items())
        self.info(f"Valkey VMs up ({self.since(t0)}s, {d['accel']} {boot}): primary {primary}, read from {replica}")

    def topic_and_valkey(self):
        run_id = time.strftime("%Y%m%d%H%M%S")
        self.topic = "ventas" if "kafka" in self.testbed.started else f"ventas-{run_id}"
        self.group = f"blackfriday-consumer-{run_id}"
        self.step(f"Kafka topic {self.topic} ({self.o.partitions} partitions); Valkey without bf:* keys")
        with open(self.logs / "bench.log", "a") as log:
            if subprocess.run(["bash", "scripts/testbed/kafka.sh", "topic", self.topic, self.o.partitions],
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode != 0:
                self.die(f"could not create topic {self.topic}")
        if self.topic == "ventas":
            self.info(f"topic {self.topic} ready on the broker this run started")
        else:
            self.info(f"topic {self.topic} ready (the broker was already running: a fresh topic, so older records are not counted)")
        old = self.vk("--scan", "--pattern", "bf:*").split()
        if old:
            for i in range(0, len(old), 500):
                self.vk("DEL", *old[i:i + 500])
            self.info(f"deleted {len(old)} bf:* keys left by an earlier run (the check needs Valkey to hold this run only)")

    def catalogue(self):
        self.catalog_ref = f"{os.environ['OCI_REGISTRY']}/blackfriday/catalog:v1"
        self.step(f"push the catalogue artifact: locust/catalog.json → {self.catalog_ref}")
        log = self.logs / "push-catalog.log"
        with open(log, "w") as f:
            if subprocess.run(["locust/push-catalog.sh", self.catalog_ref], stdout=f, stderr=subprocess.STDOUT, cwd=ROOT).returncode:
                tail(log, 20)
                self.die("pushing the catalogue failed")
        self.info(log.read_text().splitlines()[-1] if log.read_text().strip() else "")

    def of(self, program):
        return [p for p in self.procs if p.program == program]

    def pipeline(self):
        self.step("start the pipeline: writers, consumers, grpc-client, rust-api (local processes)")
        for p in self.procs:
            for port in p.ports.values():
                if port_open("127.0.0.1", port):
                    owner = subprocess.run(["bash", "-c", f"""ss -Hltnp "sport = :{port}" 2>/dev/null | sed -n 's/.*users:((\\("[^"]*"\\),pid=\\([0-9]*\\).*/\\1 pid \\2/p' | head -n1"""],
                                           capture_output=True, text=True).stdout.strip()
                    self.die(f"port {port} is already in use{' by ' + owner if owner else ''} (another run? try --isolated, or stop it)")
        topology.local_env(self.deps, self.procs, kafka=self.kafka, topic=self.topic, group=self.group,
                           valkey=self.valkey_addr, featured=self.featured)
        admin = lambda p: f"http://127.0.0.1:{topology.admin_port(p)}/readyz"  # noqa: E731
        for p in self.of("grpc-server") + self.of("consumer"):
            self.spawn(p)
        for p in self.of("grpc-server"):
            self.sup.wait_http(admin(p), p.name)
        for program in ("grpc-client", "rust-api"):
            for p in self.of(program):
                self.spawn(p)
                self.sup.wait_http(admin(p), p.name)
        for p in self.of("consumer"):
            self.sup.wait_http(admin(p), p.name)
        self.sup.supervise()
        api, client = self.of("rust-api")[0], self.of("grpc-client")[0]
        writers = " ".join(f":{p.ports['grpc']}" for p in self.of("grpc-server"))
        self.info(f"pipeline up: rust-api :{api.ports['http']} → grpc-client :{client.ports['http']} → writers {writers} "
                  f"→ Kafka {self.topic} → consumers ×{len(self.of('consumer'))} → Valkey {self.valkey_addr}")

    def spawn(self, p: topology.Process):
        shown = " ".join(f"{k}={v}" for k, v in p.env.items()) + f" {self.bins[p.program]}"
        self.sup.spawn(p.name, [self.bins[p.program]], p.env, shown=shown)

    def check_fault_targets(self):
        needs = {m for f in self.o.faults for m in FAULT_MEMBERS.get(f, [f])}
        for svc in ("valkey", "kafka"):
            if svc in needs and (svc not in self.testbed.started or self.o.valkey):
                self.die(f"--faults {svc} needs the bench {svc} this run started (it was already running: use --isolated)")

    def start_fault_driver(self):
        port = lambda name, role: str(next(p for p in self.procs if p.name == name).ports[role])  # noqa: E731
        env = {**os.environ, "OUT": str(self.out), "RUN": str(self.run), "LOGS": str(self.logs),
               "TESTBED_DIR": str(self.bench_dir), "FAULTS": ",".join(self.o.faults), "FAULT_EVERY": self.o.fault_every,
               "FAULT_VALKEY_DOWN": self.o.valkey_down, "FAULT_DISK_FULL": self.o.disk_full, "TOPIC": self.topic,
               "GROUP": self.group, "VALKEY_ADDR": self.valkey_addr, "KAFKA_BOOTSTRAP": self.kafka,
               "P_API": port("rust-api", "http"), "P_CLIENT": port("grpc-client", "http"),
               "P_CM1": port("consumer-1", "metrics"), "P_CM2": port("consumer-2", "metrics"),
               "P_WM2A": port("grpc-server-2-a", "metrics")}
        self.driver = subprocess.Popen(["tools/runner/fault-driver.sh"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                       process_group=0)

    def progress_line(self, hist):
        try:
            rep = str(sum(int(x) for x in self.vk("HVALS", "bf:reports", check=True).split()))
        except (subprocess.CalledProcessError, ValueError):
            rep = "? (Valkey unreachable)"
        if hist.exists() and hist.stat().st_size:
            lines = hist.read_text().splitlines()
            head = lines[0].split(",")
            rows = [dict(zip(head, line.split(","))) for line in lines[1:]]
            row = next((r for r in reversed(rows) if r.get("Name") == "Aggregated"), None)
            if row is None or float(row["Total Request Count"] or 0) == 0:
                return self.info(f"load starting | valkey bf:reports total {rep}")
            return self.info(f"users {row['User Count']}  {float(row['Requests/s']):.0f} req/s  p95 {row['95%']} ms  "
                             f"requests {row['Total Request Count']}  failures {row['Total Failure Count']}  | valkey bf:reports total {rep}")
        self.info(f"load starting | valkey bf:reports total {rep}")

    def load(self):
        o = self.o
        locust_args = ["-t", o.duration, "--stop-timeout", "30"]
        if o.faults:
            self.check_fault_targets()
            # the load lasts as long as the faults (the driver ends it); -t is only a backstop
            backstop = int(o.fault_every) * 10 + int(o.valkey_down) + int(o.disk_full) + 900
            locust_args = ["-t", f"{backstop}s", "--stop-timeout", "60"]
        api = self.of("rust-api")[0].ports["http"]
        self.step(f"Locust: {o.users} users for {self.duration_text} against http://127.0.0.1:{api}, catalogue from {self.catalog_ref}")
        out = self.out
        argv = ["python3", "-m", "locust", "-f", "locust/locustfile.py", "--headless", "-H", f"http://127.0.0.1:{api}",
                "-u", o.users, "-r", o.spawn_rate, *locust_args, "--only-summary",
                "--results-file", f"{out}/locust-results.json", "--keys-file", f"{out}/locust-keys.json",
                "--answers-file", f"{out}/locust-answers.jsonl", "--stop-file", f"{self.run}/locust.stop",
                "--csv", f"{out}/locust", "--json-file", f"{out}/locust-stats"]
        with open(self.logs / "locust.log", "w") as log:
            self.locust = locust = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                      env={**os.environ, "BF_CATALOG_REF": self.catalog_ref, "BF_FEATURED_CATEGORY": self.featured})
        if o.faults:
            self.start_fault_driver()
        # progress every 5 s: Locust's request count and p95 next to what has reached Valkey; the
        # supervisor looks every second
        n = 0
        while locust.poll() is None:
            time.sleep(1)
            n += 1
            if locust.poll() is not None:
                break
            self.sup.supervise()
            if self.driver and self.driver.poll() is not None:
                self.driver = None
                self.info("faults done: stopping Locust (it finishes the sales in flight, retries included)")
                (self.run / "locust.stop").touch()
            if n % 5 == 0:
                self.progress_line(out / "locust_stats_history.csv")
        self.locust_rc = locust.wait()
        self.stop_driver()
        for line in (self.logs / "locust.log").read_text(errors="replace").splitlines():
            if re.match(r"^locust verdict|^catalogue:", line):
                self.info(line)
        results = out / "locust-results.json"
        if not results.exists() or not results.stat().st_size:
            tail(self.logs / "locust.log", 40)
            self.die(f"Locust wrote no results (exit {self.locust_rc}, log {self.logs}/locust.log)")
        if '"source": "oci"' not in results.read_text():
            self.die("Locust did not take the catalogue from the registry")

    def stop_driver(self):
        if self.driver and self.driver.poll() is None:
            os.killpg(self.driver.pid, signal.SIGTERM)
            self.driver.wait()
        self.driver = None

    def drain_and_count(self):
        self.step("wait for the consumers to drain (Valkey total = accepted sales, or consumer lag 0), then check every accepted sale was counted once")
        self.counts_rc = self.prefixed(
            ["locust/reconcile.py", "--locust-results", f"{self.out}/locust-results.json", "--keys", f"{self.out}/locust-keys.json",
             "--valkey", self.valkey_addr, "--drain-timeout", os.environ.get("BF_DRAIN_TIMEOUT") or "180", "--stable", "30",
             "--json", f"{self.out}/counts.json", "--kafka", self.kafka, "--topic", self.topic])
        self.sup.supervise()
        # Grafana reads the replica: wait until it holds what the primary holds
        pairs = lambda addr: sorted(zip(*[iter(self.vk("HGETALL", "bf:reports", addr=addr).split("\n"))] * 2))  # noqa: E731
        prim = pairs(self.valkey_addr)
        for _ in range(40):
            same = pairs(self.valkey_replica) == prim
            if same:
                break
            time.sleep(0.25)
        self.info(f"replica {self.valkey_replica} holds the same bf:reports" if same else "WARNING: replica differs from the primary")

    def metrics(self):
        """Every writer's and consumer's /metrics as the run ends, read once: the writer split and
        the Kafka tier's own figures come from these files."""
        d = self.out / "metrics"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        for p in self.of("grpc-server") + self.of("consumer"):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{p.ports['metrics']}/metrics", timeout=10) as r:
                    (d / f"{p.name}.prom").write_bytes(r.read())
            except Exception:  # noqa: BLE001  a process that does not answer has no file (curl -s did the same)
                pass
        split = ""  # which writer took the calls (grpc-server-2's two processes share its tier)
        for p in self.of("grpc-server"):
            f, n = d / f"{p.name}.prom", None
            if f.exists():
                n = next((line.split()[1] for line in f.read_text().splitlines() if line.startswith('writer_rpcs_total{code="OK"}')), None)
            split += f"{p.name} {n or '?'}  "
        self.info(f"ProcesarVenta OK per writer process: {split}")
        (self.out / "writer-split.txt").write_text(split + "\n")
        figures = subprocess.run(["python3", "tools/report/kafka_figures.py", str(self.out), "--json", f"{self.out}/kafka-figures.json"],
                                 capture_output=True, text=True, cwd=ROOT)
        sys.stderr.write(figures.stderr)
        self.info(f"Kafka tier: {figures.stdout.rstrip(chr(10))}")

    def dashboard(self):
        self.step("the dashboard: every panel query of the operator's Grafana dashboard against Valkey (replica)")
        args = []
        with open(self.out / "operator-render.yaml", "w") as f, open(self.logs / "operator-render.log", "w") as err:
            ok = os.access(ROOT / self.operator, os.X_OK) and (ROOT / SAMPLE).exists() and subprocess.run(
                [self.operator, "render", "-f", SAMPLE], stdout=f, stderr=err, cwd=ROOT).returncode == 0
        if ok:
            args = ["--operator-render", SAMPLE, "--operator-bin", self.operator]
            self.info(f"dashboard and variables from: {self.operator} render -f {SAMPLE}")
        else:
            self.info("WARNING: no operator render available; dashboard from operator/assets/grafana/dashboard.json (the file the operator embeds)")
        if os.environ.get("BF_FEATURED_CATEGORY") or not args:
            # the featured category was chosen here, not by the operator: the section shows it and its first product
            cats = json.loads((ROOT / "locust/catalog.json").read_text())["categories"]
            first = next(c["products"][0]["producto_id"] for c in cats if c["categoria"].lower() == self.featured.lower())
            args += ["--var", f"categoria={self.featured}", "--var", f"producto={first}"]
            self.info(f"featured section variables set here: categoria={self.featured} producto={first}")
        self.dash_rc = self.prefixed(["tools/dashboard/dashboard", "run", *args, "--valkey", self.valkey_replica,
                                      "--png", f"{self.out}/dashboard.png", "--json", f"{self.out}/dashboard.json", "--require-data"])

    def figures(self) -> int:
        self.step("figures")
        summary.write_summary(str(self.out))
        self.info(f"dashboard image: {self.out}/dashboard.png   Locust: {self.out}/locust-results.json, {self.out}/locust_stats.csv")
        rc = 0
        for bad, text in ((self.counts_rc, "per-category counts do not match"),
                          (self.dash_rc, "a dashboard panel had an error or no data"),
                          (self.locust_rc, f"Locust failed its limits (exit {self.locust_rc})")):
            if bad:
                print(f"main-job: {text}", file=sys.stderr, flush=True)
                rc = 1
        if self.o.faults:
            jl = self.out / "faults.jsonl"
            n_rec = len(re.findall(r'"counting_s": [0-9]', jl.read_text())) if jl.exists() else 0
            if n_rec != len(self.o.faults):
                print(f"main-job: {n_rec} of {len(self.o.faults)} faults recovered (faults.jsonl)", file=sys.stderr, flush=True)
                rc = 1
        if rc == 0:
            print(f"\nmain-job: OK in {self.since(self.t_start)}s", flush=True)
        else:
            print("\nmain-job: FAILED", file=sys.stderr, flush=True)
        return rc

    # ------------------------------------------------------------ the end
    def cleanup(self):
        """Stop everything this run started (also on failure or Ctrl-C); reused bench services stay."""
        self.stop_driver()
        if self.locust and self.locust.poll() is None:  # interrupted during the load
            self.locust.terminate()
            try:
                self.locust.wait(30)
            except subprocess.TimeoutExpired:
                self.locust.kill()
        if self.o.keep:
            pids = " ".join(str(c.popen.pid) for c in self.sup.children)
            print(f"\n==> --keep: leaving {len(self.sup.children)} service process(es) running: {pids}", flush=True)
            return
        print(f"\n==> [{time.strftime('%H:%M:%S')}] stopping what this run started", flush=True)
        self.sup.stop_all()
        if self.vms_up:
            with open(self.logs / "vms.log", "a") as log:
                subprocess.run(["python3", "tests/vms/vmlab.py", "down", "--state", str(self.out / "vms")],
                               stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            # the VMs' disks are this run's only (a fresh password, a fresh data disk): the consoles stay
            shutil.rmtree(self.out / "vms/pvc", ignore_errors=True)
            for f in [*self.out.glob("vms/*/root.qcow2"), *self.out.glob("vms/*/*.iso")]:
                f.unlink()
            self.info(f"stopped the Valkey VMs (consoles in {self.out}/vms/*/console.log)")
        if self.testbed.started:
            self.testbed.down()
            self.info(f"stopped bench services: {' '.join(self.testbed.started)}")
        self.info(f"logs: {self.logs}")

    def main(self) -> int:
        self.estimate()
        self.setup()
        self.build()
        self.bench_up()
        self.topic_and_valkey()
        self.catalogue()
        self.pipeline()
        self.load()
        self.drain_and_count()
        self.metrics()
        self.dashboard()
        return self.figures()


def _interrupted(signum, frame):
    raise Interrupted()


def main(argv=None) -> int:
    os.chdir(ROOT)
    o = parse_args(sys.argv[1:] if argv is None else argv)
    o.do_setup, o.do_build = not o.no_setup, not o.no_build
    job = MainJob(o)
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    rc = 1
    try:
        rc = job.main()
    except (Died, SupervisorError) as e:
        print(f"\nmain-job: FAILED: {e}", file=sys.stderr, flush=True)
    except Interrupted:
        print("\nmain-job: interrupted", file=sys.stderr, flush=True)
        rc = 130
    except Exception as e:  # noqa: BLE001  never a silent exit: name what failed
        import traceback
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"\nmain-job: FAILED (exit 1): {type(e).__name__}: {e} ({where.filename}:{where.lineno})", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stop is not interrupted half-way
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        job.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
