"""The pipeline's local topology, taken from the operator's render (`blackfriday-operator render`).

Which programs run, how many processes each, the writer route, the tier weights and every env var
come from the Deployments the operator renders for a pipeline resource; this module only moves
them from the cluster onto loopback:

- a program's ports are its container ports (contract/ports.json) moved by an offset (`LocalPorts`);
  a program run as several processes takes the next ports, one per process;
- cluster addresses in the env (Service names, `:8080` listens) become 127.0.0.1 addresses of
  the local processes, the Kafka bootstrap, the Valkey primary;
- values the cluster takes from Secrets or the pod (passwords, CA files, the pod name) and the
  Kafka login of the cluster's TLS listener are not set: the local bench Kafka is plain (the
  Valkey password, when there is one, is inherited from the runner's environment).

How many processes: a program reached through one local address (rust-api, grpc-client: there is
no load balancer on loopback) runs once; the others run as many processes as the cluster runs at
most: the Deployment's replicas, else its HorizontalPodAutoscaler's maxReplicas (the consumers are
a Kafka group and the writers are listed one address each in grpc-client's and rust-api's env).
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import string
import subprocess
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contract"

# programs started once whatever the render's replicas (see the module doc)
SINGLE_ADDRESS = ("rust-api", "grpc-client")
# variables the local bench cannot use: the cluster's Kafka login (the bench broker is plain) and
# the pod's identity; their local values come from the runner (instance id) or nowhere
CLUSTER_ONLY = ("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_TLS",
                "KAFKA_TLS_CA", "VALKEY_PASSWORD", "KAFKA_INSTANCE_ID")


class TopologyError(Exception):
    """The render does not describe a pipeline the runner can start (names what is missing)."""


@dataclasses.dataclass
class Deployment:
    """One program's Deployment in the render: its name (e.g. grpc-server-2), program (= image)."""
    name: str
    program: str
    processes: int
    env: dict  # name -> value; None for a value the cluster takes from a Secret or the pod


@dataclasses.dataclass
class Process:
    """One local process: its name (grpc-server-2-a), program, ports by role, env."""
    name: str
    program: str
    tier: str
    ports: dict
    env: dict = dataclasses.field(default_factory=dict)


def render(operator: str, pipeline_file, route: str | None = None, forward: str | None = None) -> str:
    """`OPERATOR render -f` of PIPELINE_FILE with the writer route / forward mode set (if given)."""
    pipeline = yaml.safe_load(pathlib.Path(pipeline_file).read_text())
    spec = pipeline["spec"]
    if route is not None:
        spec.setdefault("grpcClient", {})["writerRoute"] = route
    if forward is not None:
        spec.setdefault("rustApi", {})["forwardMode"] = forward
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as tmp:
        yaml.safe_dump(pipeline, tmp)
        tmp.flush()
        return subprocess.run([operator, "render", "-f", tmp.name], check=True,
                              capture_output=True, text=True).stdout


def _program_of(container: dict) -> str:
    # <registry host>/<repository>/<program>:<tag>
    return container["image"].rsplit("/", 1)[-1].split(":", 1)[0]


def deployments(rendered: str) -> dict[str, Deployment]:
    """The pipeline's Deployments in render order, with the process count of each (module doc)."""
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    hpa_max = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["maxReplicas"]
               for d in docs if d.get("kind") == "HorizontalPodAutoscaler"}
    known = json.loads((CONTRACT / "env.json").read_text())["programs"]
    out = {}
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        name = d["metadata"]["name"]
        container = d["spec"]["template"]["spec"]["containers"][0]
        program = _program_of(container)
        if program not in known:
            continue  # not a pipeline program (e.g. Grafana)
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        unknown = sorted(set(env) - set(known[program]))
        if unknown:
            raise TopologyError(f"{name}: env {unknown} is not in contract/env.json for {program}")
        n = 1 if program in SINGLE_ADDRESS else d["spec"].get("replicas") or hpa_max.get(name, 1)
        out[name] = Deployment(name, program, n, env)
    for program in known:
        if not any(dep.program == program for dep in out.values()):
            raise TopologyError(f"the render has no Deployment of {program}")
    return out


def writer_tiers(rendered: str) -> list[str]:
    """The writer tiers rust-api sends to in grpc mode, in the operator's order (its WRITER_TARGETS:
    grpc-server-1.ingest.svc.cluster.local:50051 -> grpc-server-1)."""
    api = next(d for d in deployments(rendered).values() if d.program == "rust-api")
    return [t.split(".", 1)[0] for t in (api.env.get("WRITER_TARGETS") or "").split(",") if t]


@dataclasses.dataclass
class LocalPorts:
    """Local ports of the programs: contract/ports.json moved by `offset` (0, or 20000 with
    main-job's --isolated); the k-th process of a program takes port + k.

    The writers' gRPC port (50051) lies in the kernel's ephemeral range (32768-60999): on a busy
    machine an outgoing connection can hold 127.0.0.1:50052 and a writer's listen fails (seen in a
    CI-style run). Local writers therefore listen below that range: 50051 - 40000 (10051...), or
    50051 - 25000 (25051...) with the offset."""
    offset: int = 0
    base: dict = dataclasses.field(default_factory=lambda: json.loads((CONTRACT / "ports.json").read_text())["programs"])

    def port(self, program: str, role: str, index: int = 0) -> int:
        if (program, role) == ("grpc-server", "grpc"):
            shift = -25000 if self.offset else -40000
        else:
            shift = self.offset
        return self.base[program][role] + shift + index


def processes(deps: dict[str, Deployment], ports: LocalPorts) -> list[Process]:
    """The local processes, in render order, each with its ports (one per process of a program):
    a program of one process is named like its Deployment, several take -a, -b, ... (writers) or
    -1, -2, ... (consumers: the names of their static Kafka group membership)."""
    out, seen = [], {}
    for dep in deps.values():
        for k in range(dep.processes):
            i = seen.get(dep.program, 0)
            seen[dep.program] = i + 1
            if dep.processes == 1 and dep.program != "consumer":
                name = dep.name
            elif dep.program == "consumer":
                name = f"{dep.name}-{k + 1}"
            else:
                name = f"{dep.name}-{string.ascii_lowercase[k]}"
            roles = ports.base[dep.program]
            out.append(Process(name, dep.program, dep.name, {r: ports.port(dep.program, r, i) for r in roles}))
    return out


def local_env(deps: dict[str, Deployment], procs: list[Process], *, kafka: str, topic: str, group: str,
              valkey: str, featured: str | None = None, forward: str | None = None) -> None:
    """Fill each process's env: the render's, with every address made local (module doc)."""
    addr = lambda p, role: f"127.0.0.1:{p.ports[role]}"  # noqa: E731
    by_tier: dict[str, list[Process]] = {}
    for p in procs:
        by_tier.setdefault(p.tier, []).append(p)
    tier_grpc = {t: ",".join(addr(p, "grpc") for p in ps) for t, ps in by_tier.items() if ps[0].program == "grpc-server"}
    client = next(p for p in procs if p.program == "grpc-client")

    def tiers_of(value):  # grpc-server-1.ingest.svc...:50051,... -> the local writer addresses
        names = [t.split(".", 1)[0] for t in (value or "").split(",") if t]
        missing = [n for n in names if n not in tier_grpc]
        if missing:
            raise TopologyError(f"the operator routes to unknown writer tier(s) {missing}")
        return ",".join(tier_grpc[n] for n in names)

    for p in procs:
        env = {k: v for k, v in deps[p.tier].env.items() if v is not None and k not in CLUSTER_ONLY}
        if p.program == "rust-api":
            env.update(LISTEN_ADDR=addr(p, "http"), DOWNSTREAM_URL=f"http://{addr(client, 'http')}",
                       WRITER_TARGETS=tiers_of(env.get("WRITER_TARGETS")))
            if forward:
                env["FORWARD_MODE"] = forward
        elif p.program == "grpc-client":
            env.update(LISTEN=addr(p, "http"), GRPC_SERVER_1=tiers_of(env.get("GRPC_SERVER_1")),
                       GRPC_SERVER_2=tiers_of(env.get("GRPC_SERVER_2")))
        elif p.program == "grpc-server":
            env.update(GRPC_LISTEN=addr(p, "grpc"), METRICS_LISTEN=addr(p, "metrics"),
                       KAFKA_BROKERS=kafka, KAFKA_TOPIC=topic)
        elif p.program == "consumer":
            env.update(METRICS_LISTEN=addr(p, "metrics"), KAFKA_BROKERS=kafka, KAFKA_TOPIC=topic,
                       KAFKA_GROUP=group, KAFKA_INSTANCE_ID=p.name, VALKEY_ADDR=valkey)
            if featured:
                env["FEATURED_CATEGORY"] = featured
        p.env = env


def admin_port(p: Process) -> int:
    """The port of a process's /readyz (and /metrics for writers and consumers)."""
    return p.ports.get("metrics") or p.ports["http"]
