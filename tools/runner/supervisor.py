"""Long-running local processes: start with a log each, restart with backoff, wait for health, stop.

A process that exits is restarted after 1, 2, 4, 8, 16 s, as Kubernetes restarts a container; each
restart is said on the terminal and appended to restarts.log. A process that needs more than
`max_restarts` restarts fails the run (`SupervisorError`, with its exit status and log). Every pid is
also written to RUN/<name>.pid, where the fault driver reads it. Children run in their own process
group, so a Ctrl-C at the terminal reaches the runner only, which then stops them in order.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import signal
import subprocess
import time
import urllib.request


class SupervisorError(Exception):
    """A process could not be kept running or did not become ready (the message says which)."""


@dataclasses.dataclass
class Child:
    name: str
    argv: list
    env: dict
    popen: subprocess.Popen
    restarts: int = 0
    restart_at: float | None = None  # set when it was found exited: the time of its restart


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except Exception:  # refused, reset, timeout, non-2xx: not ready
        return False


def port_open(host: str, port: int) -> bool:
    import socket
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


class Supervisor:
    def __init__(self, logs, run, restarts_log, say=print, max_restarts=5, clock=time.monotonic):
        self.logs, self.run = pathlib.Path(logs), pathlib.Path(run)
        self.restarts_log = pathlib.Path(restarts_log)
        self.say, self.max_restarts, self.clock = say, max_restarts, clock
        self.children: list[Child] = []

    def _popen(self, name, argv, env):
        log = open(self.logs / f"{name}.log", "ab")
        try:
            p = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, process_group=0)
        finally:
            log.close()
        (self.run / f"{name}.pid").write_text(f"{p.pid}\n")
        return p

    def spawn(self, name, argv, env=None, shown=None):
        """Start NAME (argv, extra env); `shown` is what the start line says it runs."""
        env = env or {}
        child = Child(name, list(argv), env, self._popen(name, argv, env))
        self.children.append(child)
        self.say(f"started {name} (pid {child.popen.pid}): {shown or ' '.join(map(str, argv))}")
        return child

    def pid(self, name) -> int:
        return next(c.popen.pid for c in self.children if c.name == name)

    def _note(self, text):
        self.say(f"SUPERVISOR: {text}")
        with open(self.restarts_log, "a") as f:
            f.write(f"    SUPERVISOR: {text}\n")

    def supervise(self):
        """One look at every child: reap the exited, restart those whose backoff has passed."""
        now = self.clock()
        for c in self.children:
            rc = c.popen.poll()
            if rc is None:
                continue
            rc = 128 - rc if rc < 0 else rc  # killed by signal N: 128+N, as a shell says it
            if c.restart_at is None:  # just noticed: schedule the restart
                if c.restarts >= self.max_restarts:
                    tail = (self.logs / f"{c.name}.log").read_text(errors="replace").splitlines()[-30:]
                    raise SupervisorError(f"{c.name} exited (status {rc}) after {self.max_restarts} restarts "
                                          f"(log {self.logs / (c.name + '.log')})\n" + "\n".join(tail))
                delay = 1 << c.restarts
                c.restart_at = now + delay
                self._note(f"{c.name} (pid {c.popen.pid}) exited with status {rc}; restarting in {delay}s "
                           f"(restart {c.restarts + 1} of at most {self.max_restarts})")
            elif now >= c.restart_at:
                c.popen = self._popen(c.name, c.argv, c.env)
                c.restarts += 1
                c.restart_at = None
                self._note(f"restarted {c.name} (pid {c.popen.pid})")

    def wait_http(self, url, name, timeout=60.0):
        """Wait until URL answers 200, supervising meanwhile; SupervisorError after TIMEOUT s."""
        deadline = self.clock() + timeout
        while not http_ok(url):
            self.supervise()
            if self.clock() >= deadline:
                raise SupervisorError(f"{name} not ready at {url} within {timeout:.0f}s (log {self.logs / (name + '.log')})")
            time.sleep(0.25)

    def wait_port(self, addr, name, timeout=10.0):
        """Wait until something accepts TCP connections at HOST:PORT, supervising meanwhile."""
        host, port = addr.rsplit(":", 1)
        deadline = self.clock() + timeout
        while not port_open(host, int(port)):
            self.supervise()
            if self.clock() >= deadline:
                raise SupervisorError(f"nothing listening on {addr} ({name}, log {self.logs / (name + '.log')})")
            time.sleep(0.1)

    def stop(self, child: Child, grace=10.0):
        """Stop one child (SIGTERM, then SIGKILL after GRACE s) and forget it."""
        if child.popen.poll() is None:
            child.popen.terminate()
            try:
                child.popen.wait(grace)
            except subprocess.TimeoutExpired:
                child.popen.kill()
                child.popen.wait()
        self.children.remove(child)

    def stop_all(self, grace=25.0):
        """SIGTERM front to back (the last started first), wait for all together, SIGKILL the rest."""
        for c in reversed(self.children):
            if c.popen.poll() is None:
                try:
                    os.kill(c.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(c.popen.poll() is None for c in self.children):
            time.sleep(0.25)
        for c in reversed(self.children):
            if c.popen.poll() is None:
                c.popen.kill()
                c.popen.wait()
                self.say(f"{c.name} (pid {c.popen.pid}) did not stop within {grace:.0f} s of SIGTERM: killed")
            else:
                self.say(f"stopped {c.name}")
        self.children = []
