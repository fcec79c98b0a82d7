"""Shared helpers for the bench smoke tests (tests/testbed).

The bench scripts (scripts/testbed/*.sh start) write KEY=value lines to <repo>/.testbed/env;
scripts/test exports them into every suite. These fixtures read the process environment first
and fall back to that file, so `python3 -m pytest tests/testbed` also works after
`scripts/testbed/up.sh`. A missing key FAILS the test (never skips): the bench must be up.
"""
import os
import shlex
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTBED_ENV = os.environ.get("TESTBED_ENV") or os.path.join(ROOT, ".testbed", "env")


def read_bench_env(path=TESTBED_ENV):
    """Parse .testbed/env (shell KEY=value lines, values possibly shell-quoted)."""
    env = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, value = line.removeprefix("export ").split("=", 1)
                try:
                    parts = shlex.split(value)
                    value = parts[0] if len(parts) == 1 else value
                except ValueError:
                    pass
                env[key] = value
    return env


class Bench:
    def __init__(self):
        self.file = read_bench_env()

    def get(self, key, default=None):
        return os.environ.get(key) or self.file.get(key) or default

    def need(self, key, service):
        value = self.get(key)
        if not value:
            pytest.fail(f"{key} is not set: start the bench first (scripts/testbed/{service}.sh start "
                        f"or scripts/testbed/up.sh); looked in the environment and {TESTBED_ENV}")
        return value


@pytest.fixture(scope="session")
def bench():
    return Bench()


@pytest.fixture(scope="session")
def repo_root():
    return ROOT


def bench_script(name):
    return os.path.join(ROOT, "scripts", "testbed", name)


def run(cmd, timeout=120, check=True, **kw):
    """Run a command, fail the test with its output when it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        pytest.fail(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
                    f"stdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}")
    return p


def wait_for(what, fn, timeout=10.0, interval=0.1):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
