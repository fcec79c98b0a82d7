import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/dashboard"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))

from private_testbed import free_port, private_testbed  # noqa: E402


@pytest.fixture(scope="session")
def valkey_addr(tmp_path_factory):
    """A Valkey instance of the bench, for this test session only (the bench's shared pair on
    VALKEY_ADDR may hold other suites' keys; the dashboard checks need exact contents)."""
    port = free_port()
    d = tmp_path_factory.mktemp("valkey")
    with private_testbed("valkey", d / "bench", ["start-instance", port, "--dir", d / "data"],
                       ["stop-instance", port]):
        yield f"127.0.0.1:{port}"


@pytest.fixture()
def client(valkey_addr):
    import valkey
    host, port = valkey_addr.rsplit(":", 1)
    c = valkey.Valkey(host=host, port=int(port))
    c.flushall()
    yield c
    c.close()
