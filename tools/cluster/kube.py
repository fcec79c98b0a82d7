"""kubectl against the bench node (scripts/testbed/node.sh), and the waits the cluster test needs.

Everything goes through the real kubectl the node built (NODE_KUBECTL, v1.36) and the node's
kubeconfig (NODE_KUBECONFIG); JSON output is parsed, never text columns.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

KUBECTL = os.environ.get("NODE_KUBECTL", "kubectl")
KUBECONFIG = os.environ.get("NODE_KUBECONFIG", "")


def kubectl_cmd(*args: str) -> list[str]:
    """The command line of a kubectl call against the node (also for the long-running watches)."""
    return [KUBECTL, "--kubeconfig", KUBECONFIG, *args]


def kubectl(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 120) -> str:
    cmd = kubectl_cmd(*args)
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def get(kind: str, name: str | None = None, ns: str | None = None, selector: str | None = None) -> dict:
    args = ["get", kind]
    if name:
        args.append(name)
    if ns:
        args += ["-n", ns]
    if selector:
        args += ["-l", selector]
    return json.loads(kubectl(*args, "-o", "json"))


def items(kind: str, ns: str | None = None, selector: str | None = None) -> list[dict]:
    return get(kind, ns=ns, selector=selector)["items"]


def condition(obj: dict, ctype: str) -> dict | None:
    for c in obj.get("status", {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def wait_for(desc: str, fn, timeout: float, interval: float = 1.0):
    """Polls fn() until it returns a truthy value, which is returned. On timeout the assertion
    names what was awaited and the last value seen (a liveness bound, not a speed check)."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except (AssertionError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > end:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {desc}; last: {last!r}")
        time.sleep(interval)


def deployment_available(d: dict) -> bool:
    c = condition(d, "Available")
    st = d.get("status", {})
    want = d["spec"].get("replicas", 1)
    return bool(c and c["status"] == "True" and st.get("observedGeneration") == d["metadata"]["generation"]
                and st.get("availableReplicas", 0) == want and st.get("updatedReplicas", 0) == want
                and st.get("replicas", 0) == want)


def pod_ready(p: dict) -> bool:
    c = condition(p, "Ready")
    return bool(c and c["status"] == "True" and not p["metadata"].get("deletionTimestamp"))
