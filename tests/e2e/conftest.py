import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "locust"))
sys.path.insert(0, str(ROOT / "tests"))

from private_testbed import free_port, private_testbed  # noqa: E402


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real OCI registry of the bench (Debian docker-registry via scripts/testbed/registry.sh),
    in its own folder and port for this session. Yields (host:port, oras path)."""
    port = free_port()
    with private_testbed("registry", tmp_path_factory.mktemp("bench"), ["start"], ["stop"],
                       REGISTRY_PORT=port) as d:
        oras = None
        for line in (d / "env").read_text().splitlines():
            if line.startswith("ORAS="):
                oras = line.split("=", 1)[1]
        yield f"127.0.0.1:{port}", oras
