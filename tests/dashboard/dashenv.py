"""The bench's addresses (.testbed/env, overridden by the environment) for the dashboard tests."""
import os
import pathlib
import shlex

ROOT = pathlib.Path(__file__).resolve().parents[2]


def bench_env():
    env = {}
    f = ROOT / ".testbed/env"
    if f.exists():
        for line in f.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                try:
                    v = shlex.split(v)[0] if v else ""
                except ValueError:
                    pass
                env[k] = v
    env.update({k: v for k, v in os.environ.items() if k in ("KAFKA_BOOTSTRAP", "VALKEY_ADDR", "OCI_REGISTRY", "ORAS")})
    return env
