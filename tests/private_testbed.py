"""Private instances of the bench services for one pytest session.

The shared bench (`.testbed/`) may hold other suites' data, and `scripts/testbed/<svc>.sh stop` of the
shared bench must not take a session's instance with it; so a session starts its own instance of
the same script with its own TESTBED_DIR and port, sharing only the download cache.
"""
import contextlib
import os
import pathlib
import socket
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def private_testbed(service, bench_dir, start, stop, **env_overrides):
    """Run `scripts/testbed/<service>.sh *start` in bench_dir, yield bench_dir, then `*stop`."""
    script = str(ROOT / f"scripts/testbed/{service}.sh")
    env = dict(os.environ, TESTBED_DIR=str(bench_dir),
               **{k: str(v) for k, v in env_overrides.items()})
    subprocess.run(["bash", script, *map(str, start)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield pathlib.Path(bench_dir)
    finally:
        subprocess.run(["bash", script, *map(str, stop)], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
