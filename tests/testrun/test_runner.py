"""tools/runner: the local runner's pieces (topology and ports from a render, reuse-or-start of the
bench, the supervisor's restarts). Real processes and real shell scripts; no bench needed."""
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "runner"))
import testbed  # noqa: E402
import topology  # noqa: E402
from supervisor import Supervisor, SupervisorError  # noqa: E402

OPERATOR = ROOT / "target" / "debug" / "blackfriday-operator"


def deployment(name, image, env, replicas=None):
    spec = {"template": {"spec": {"containers": [{"name": name, "image": f"zot:5000/bf/{image}:0.1.0",
                                                   "env": [{"name": k, "value": v} if v is not None else
                                                           {"name": k, "valueFrom": {"secretKeyRef": {"name": "s", "key": k}}}
                                                           for k, v in env.items()]}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def hpa(name, mx):
    return {"kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"name": name}, "minReplicas": 1, "maxReplicas": mx}}


SVC = "ingest.svc.cluster.local"


def sample_render(route_targets=f"grpc-server-1.{SVC}:50051,grpc-server-2.{SVC}:50051", writer2=2, extra_env=None):
    """A render shaped like the operator's (the real one is checked below when it is built)."""
    docs = [
        deployment("rust-api", "rust-api", {"LISTEN_ADDR": "0.0.0.0:8080", "FORWARD_MODE": "grpc",
                                            "DOWNSTREAM_URL": f"http://grpc-client.{SVC}:8081",
                                            "WRITER_TARGETS": route_targets, "LOG_FORMAT": "json", **(extra_env or {})}),
        deployment("grpc-client", "grpc-client", {"LISTEN": ":8081", "GRPC_SERVER_1": f"grpc-server-1.{SVC}:50051",
                                                  "GRPC_SERVER_2": f"grpc-server-2.{SVC}:50051", "ROUTE": "both",
                                                  "ROUTE_WEIGHT_1": "1", "ROUTE_WEIGHT_2": str(writer2)}),
        deployment("grpc-server-1", "grpc-server", {"WRITER_NAME": "grpc-server-1", "GRPC_LISTEN": ":50051",
                                                    "KAFKA_BROKERS": "kafka:9093", "KAFKA_TLS": "true",
                                                    "KAFKA_SASL_PASSWORD": None}, replicas=1),
        deployment("grpc-server-2", "grpc-server", {"WRITER_NAME": "grpc-server-2", "GRPC_LISTEN": ":50051",
                                                    "KAFKA_BROKERS": "kafka:9093"}, replicas=writer2),
        deployment("consumer", "consumer", {"KAFKA_GROUP": "ventas-valkey", "VALKEY_ADDR": "valkey-primary:6379",
                                            "VALKEY_PASSWORD": None, "KAFKA_INSTANCE_ID": None,
                                            "FEATURED_CATEGORY": "Belleza", "KEY_TTL": "604800s"}),
        hpa("rust-api", 3), hpa("grpc-client", 3), hpa("consumer", 2),
        {"kind": "Service", "metadata": {"name": "rust-api"}, "spec": {}},
    ]
    return yaml.safe_dump_all(docs)


# ------------------------------------------------------------------ ports and topology
def test_local_ports_are_the_contract_ports_moved_and_numbered_up():
    p = topology.LocalPorts()
    assert (p.port("rust-api", "http"), p.port("grpc-client", "http")) == (8080, 8081)
    assert [p.port("grpc-server", "grpc", i) for i in range(3)] == [10051, 10052, 10053]  # below the ephemeral range
    assert [p.port("grpc-server", "metrics", i) for i in range(3)] == [9101, 9102, 9103]
    iso = topology.LocalPorts(offset=20000)
    assert (iso.port("rust-api", "http"), iso.port("grpc-server", "grpc", 2), iso.port("consumer", "metrics", 1)) == (28080, 25053, 29202)


def test_processes_follow_the_render_replicas_and_hpa():
    procs = topology.processes(topology.deployments(sample_render()), topology.LocalPorts())
    assert [p.name for p in procs] == ["rust-api", "grpc-client", "grpc-server-1", "grpc-server-2-a", "grpc-server-2-b",
                                       "consumer-1", "consumer-2"]
    assert {p.name: p.ports for p in procs}["grpc-server-2-b"] == {"grpc": 10053, "metrics": 9103}
    three = topology.processes(topology.deployments(sample_render(writer2=3)), topology.LocalPorts())
    assert [p.name for p in three if p.program == "grpc-server"][-1] == "grpc-server-2-c"


def test_local_env_maps_every_cluster_address_and_drops_the_cluster_login():
    deps = topology.deployments(sample_render(route_targets=f"grpc-server-2.{SVC}:50051"))
    procs = topology.processes(deps, topology.LocalPorts())
    topology.local_env(deps, procs, kafka="127.0.0.1:19092", topic="t", group="g", valkey="127.0.0.1:16379", featured="Ropa")
    env = {p.name: p.env for p in procs}
    assert env["rust-api"]["WRITER_TARGETS"] == "127.0.0.1:10052,127.0.0.1:10053"
    assert env["rust-api"]["DOWNSTREAM_URL"] == "http://127.0.0.1:8081"
    assert env["grpc-client"]["GRPC_SERVER_2"] == "127.0.0.1:10052,127.0.0.1:10053"
    assert env["grpc-client"]["ROUTE_WEIGHT_2"] == "2"
    w = env["grpc-server-2-b"]
    assert (w["WRITER_NAME"], w["GRPC_LISTEN"], w["KAFKA_BROKERS"], w["KAFKA_TOPIC"]) == ("grpc-server-2", "127.0.0.1:10053", "127.0.0.1:19092", "t")
    assert "KAFKA_TLS" not in env["grpc-server-1"] and "KAFKA_SASL_PASSWORD" not in env["grpc-server-1"]
    c = env["consumer-2"]
    assert (c["KAFKA_INSTANCE_ID"], c["KAFKA_GROUP"], c["VALKEY_ADDR"], c["FEATURED_CATEGORY"]) == ("consumer-2", "g", "127.0.0.1:16379", "Ropa")
    assert "VALKEY_PASSWORD" not in c


def test_an_env_var_outside_the_contract_or_an_unknown_tier_is_refused():
    with pytest.raises(topology.TopologyError, match="NOT_IN_CONTRACT"):
        topology.deployments(sample_render(extra_env={"NOT_IN_CONTRACT": "1"}))
    deps = topology.deployments(sample_render(route_targets=f"grpc-server-9.{SVC}:50051"))
    procs = topology.processes(deps, topology.LocalPorts())
    with pytest.raises(topology.TopologyError, match="grpc-server-9"):
        topology.local_env(deps, procs, kafka="k", topic="t", group="g", valkey="v")


@pytest.fixture(scope="module")
def operator_binary():
    """The operator as its sources are now: built here (dev profile; about a second when current).
    It used to be a skip when the binary was missing, so on a new machine, where this suite runs
    before anything is built, these tests never ran."""
    subprocess.run(["cargo", "build", "-q", "-p", "blackfriday-operator"], cwd=ROOT, check=True, timeout=3600)
    assert os.access(OPERATOR, os.X_OK)
    return OPERATOR


@pytest.mark.parametrize("route,tiers", [("both", ["grpc-server-1", "grpc-server-2"]),
                                         ("grpc-server-1", ["grpc-server-1"]), ("grpc-server-2", ["grpc-server-2"])])
def test_the_operators_render_gives_main_jobs_topology(route, tiers, operator_binary):
    rendered = topology.render(str(operator_binary), ROOT / "config/samples/pipeline.yaml", route, "grpc")
    assert topology.writer_tiers(rendered) == tiers
    deps = topology.deployments(rendered)
    procs = topology.processes(deps, topology.LocalPorts())
    assert [p.name for p in procs if p.program in ("grpc-server", "consumer")] == [
        "grpc-server-1", "grpc-server-2-a", "grpc-server-2-b", "consumer-1", "consumer-2"]
    topology.local_env(deps, procs, kafka="k", topic="t", group="g", valkey="v")
    assert procs[0].env["FORWARD_MODE"] == "grpc" and procs[1].env["ROUTE"] == route


# ------------------------------------------------------------------ reuse or start
@pytest.fixture
def fake_bench(tmp_path):
    """scripts/testbed look-alikes: SVC.sh status answers from a file; up.sh / down.sh log their calls."""
    d = tmp_path / "bench"
    d.mkdir()
    for svc in ("kafka", "valkey", "registry"):
        (d / f"{svc}.sh").write_text(f'[ "$1" = status ] && [ -e "{tmp_path}/{svc}.running" ]\n')
    for verb in ("up", "down"):
        (d / f"{verb}.sh").write_text(f'echo "{verb} $*" >> "{tmp_path}/calls"\n')
    return tmp_path


def test_bench_reuses_what_runs_and_stops_only_what_it_started(fake_bench):
    (fake_bench / "valkey.running").touch()
    reused = []
    s = testbed.TestbedSession(["kafka", "valkey", "registry", "k8s"], scripts=fake_bench / "bench", say=reused.append)
    assert s.services == ["kafka", "valkey", "registry"]  # no k8s.sh: skipped
    assert s.plan() == ["kafka", "registry"] and reused == ["valkey"]
    assert s.up() == 0 and s.down() == 0
    assert (fake_bench / "calls").read_text().splitlines() == ["up kafka valkey registry", "down registry kafka"]


def test_bench_stops_nothing_when_everything_ran_before(fake_bench):
    for svc in ("kafka", "valkey"):
        (fake_bench / f"{svc}.running").touch()
    s = testbed.TestbedSession(["kafka", "valkey"], scripts=fake_bench / "bench", say=lambda _: None)
    assert s.plan() == []
    s.down()
    assert not (fake_bench / "calls").exists()


def test_bench_cli_keeps_the_started_services_between_up_and_down(tmp_path):
    """The shell runners' form: `up` writes the state file, `down` stops what it names (real scripts,
    a service name without a script: nothing to start or stop, so the real bench is not touched)."""
    state = tmp_path / "state"
    r = subprocess.run([sys.executable, ROOT / "tools/runner/testbed.py", "up", "--state", state, "--log", tmp_path / "log", "nosuch"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and state.read_text() == ""
    r = subprocess.run([sys.executable, ROOT / "tools/runner/testbed.py", "down", "--state", state], capture_output=True, text=True)
    assert r.returncode == 0 and not state.exists()


# ------------------------------------------------------------------ supervisor
class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def wait_exit(child):
    child.popen.wait(timeout=10)


def test_supervisor_restarts_with_backoff_and_gives_up_after_the_limit(tmp_path):
    clock, said = Clock(), []
    sup = Supervisor(tmp_path, tmp_path, tmp_path / "restarts.log", say=said.append, max_restarts=2, clock=clock)
    c = sup.spawn("quitter", ["sh", "-c", "echo ran; exit 3"])
    for delay in (1, 2):
        wait_exit(c)
        sup.supervise()                      # noticed: restart scheduled after the backoff
        assert said[-1].endswith(f"restarting in {delay}s (restart {c.restarts + 1} of at most 2)") and "status 3" in said[-1]
        clock.t += delay - 0.5
        sup.supervise()
        assert c.restart_at is not None      # not before the backoff
        clock.t += 0.5
        sup.supervise()
        assert said[-1].startswith("SUPERVISOR: restarted quitter (pid ")
    wait_exit(c)
    with pytest.raises(SupervisorError, match="quitter exited \\(status 3\\) after 2 restarts"):
        sup.supervise()
    assert (tmp_path / "quitter.log").read_text().count("ran") == 3
    assert (tmp_path / "restarts.log").read_text().count("SUPERVISOR: restarted quitter") == 2
    assert (tmp_path / "quitter.pid").read_text().strip() == str(c.popen.pid)


def test_a_process_killed_by_a_signal_is_said_as_a_shell_says_it(tmp_path):
    said = []
    sup = Supervisor(tmp_path, tmp_path, tmp_path / "r.log", say=said.append, clock=Clock())
    c = sup.spawn("victim", ["sleep", "60"])
    c.popen.kill()
    wait_exit(c)
    sup.supervise()
    assert f"victim (pid {c.popen.pid}) exited with status 137;" in said[-1]


def test_supervisor_stops_what_it_started_and_waits_for_health(tmp_path):
    said = []
    sup = Supervisor(tmp_path, tmp_path, tmp_path / "r.log", say=said.append)
    sleeper = sup.spawn("sleeper", ["sleep", "60"])
    stubborn = sup.spawn("stubborn", ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"])
    with pytest.raises(SupervisorError, match="sleeper not ready at http://127.0.0.1:9/readyz"):
        sup.wait_http("http://127.0.0.1:9/readyz", "sleeper", timeout=0.5)
    time.sleep(0.2)
    sup.stop_all(grace=1)
    assert sleeper.popen.poll() is not None and stubborn.popen.poll() is not None
    assert said[-2:] == [f"stubborn (pid {stubborn.popen.pid}) did not stop within 1 s of SIGTERM: killed", "stopped sleeper"]
