import os
import pathlib
import socket
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/dashboard"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture(scope="session")
def valkey_addr(tmp_path_factory):
    """A Valkey instance of the bench, for this test session only (the bench's shared pair on
    VALKEY_ADDR may hold other suites' keys; the dashboard checks need exact contents)."""
    port = free_port()
    d = tmp_path_factory.mktemp("valkey")
    script = ROOT / "scripts/bench/valkey.sh"
    # own BENCH_DIR: `valkey.sh stop` of the shared bench must not take this instance with it
    env = dict(os.environ, BENCH_DIR=str(d / "bench"), BENCH_CACHE=str(ROOT / ".bench/cache"))
    subprocess.run(["bash", str(script), "start-instance", str(port), "--dir", str(d / "data")], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    yield f"127.0.0.1:{port}"
    subprocess.run(["bash", str(script), "stop-instance", str(port)], check=False, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture()
def client(valkey_addr):
    import valkey
    host, port = valkey_addr.rsplit(":", 1)
    c = valkey.Valkey(host=host, port=int(port))
    c.flushall()
    yield c
    c.close()
