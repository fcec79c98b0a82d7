#!/usr/bin/env python3
"""The test bench for one session: reuse what runs, start what does not, stop only what we started.

    tools/runner/testbed.py up   --state FILE [--log FILE] [--prefix TEXT] SVC...
    tools/runner/testbed.py down --state FILE [--log FILE] [--all SVC...]

`up` asks each service (scripts/testbed/SVC.sh status) whether it runs, says which are reused, starts
the set with scripts/testbed/up.sh, and writes the names of the services it found stopped to FILE (one a
line). `down` says and stops the services FILE names, in reverse order, with scripts/testbed/down.sh (with
--all: the services given, whoever started them) and removes FILE. scripts/main-job (through
tools/runner/main_job.py), scripts/test, scripts/experiments and scripts/benchmarks/pipeline share this
one rule; the services themselves (ports, state in TESTBED_DIR) stay in scripts/testbed.
Exit status of `up`: that of scripts/testbed/up.sh (the state file is written first, so a failed
start is still stopped by `down`).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "testbed"


class TestbedSession:
    """Services of the bench this session uses; `started` lists those it found stopped."""

    def __init__(self, services, scripts=SCRIPTS, log=None, say=print):
        self.services = [s for s in services if (pathlib.Path(scripts) / f"{s}.sh").is_file()]
        self.scripts = pathlib.Path(scripts)
        self.log = log
        self.say = say
        self.started: list[str] = []

    def _run(self, *args, mode="a"):
        out = open(self.log, mode) if self.log else None  # no log: on the terminal
        try:
            return subprocess.run(["bash", *map(str, args)], stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=ROOT).returncode
        finally:
            if self.log:
                out.close()

    def running(self, svc) -> bool:
        return subprocess.run(["bash", str(self.scripts / f"{svc}.sh"), "status"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=ROOT).returncode == 0

    def plan(self) -> list[str]:
        """Decide (before starting anything) which services this session will own."""
        self.started = []
        for svc in self.services:
            if self.running(svc):
                self.say(svc)
            else:
                self.started.append(svc)
        return self.started

    def up(self) -> int:
        """Start every service (up.sh is idempotent: running ones stay as they are)."""
        if not self.services:  # up.sh without names would start its default set
            return 0
        return self._run(self.scripts / "up.sh", *self.services, mode="w")

    def down(self, services=None) -> int:
        """Stop what this session started (or SERVICES), last started first."""
        todo = list(reversed(self.started if services is None else services))
        if not todo:
            return 0
        return self._run(self.scripts / "down.sh", *todo)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["up", "down"])
    ap.add_argument("services", nargs="*")
    ap.add_argument("--state", required=True, help="file naming the services this session started")
    ap.add_argument("--log", help="output of scripts/testbed/up.sh / down.sh (default: the terminal)")
    ap.add_argument("--prefix", default="", help="text before each 'reused' line (the caller's name)")
    ap.add_argument("--reused", default="{svc} already running: reused, left running",
                    help="the line said for a reused service ({svc} is its name; empty: nothing said)")
    ap.add_argument("--all", action="store_true", help="down: stop SERVICES, also those running before")
    a = ap.parse_intermixed_args(argv)
    state = pathlib.Path(a.state)
    if a.action == "up":
        session = TestbedSession(a.services, log=a.log,
                               say=lambda svc: a.reused and print(a.prefix + a.reused.format(svc=svc), flush=True))
        state.write_text("".join(f"{s}\n" for s in session.plan()))
        return session.up()
    started = state.read_text().split() if state.exists() else []
    session = TestbedSession([], log=a.log)
    session.started = started
    todo = a.services if a.all else started
    if todo:
        print(f"{a.prefix}stopping bench services: {' '.join(reversed(todo))}", flush=True)
    rc = session.down(a.services if a.all else None)
    if rc == 0 or not a.all:
        state.unlink(missing_ok=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
