import os
import pathlib
import socket
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "locust"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real OCI registry of the bench (Debian docker-registry via scripts/bench/registry.sh),
    in its own folder and port for this session. Yields (host:port, oras path)."""
    d = tmp_path_factory.mktemp("bench")
    port = free_port()
    env = dict(os.environ, BENCH_DIR=str(d), BENCH_CACHE=str(ROOT / ".bench/cache"), REGISTRY_PORT=str(port))
    subprocess.run(["bash", str(ROOT / "scripts/bench/registry.sh"), "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    oras = None
    for line in (d / "env").read_text().splitlines():
        if line.startswith("ORAS="):
            oras = line.split("=", 1)[1]
    yield f"127.0.0.1:{port}", oras
    subprocess.run(["bash", str(ROOT / "scripts/bench/registry.sh"), "stop"], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
