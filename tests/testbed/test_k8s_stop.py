"""`scripts/testbed/k8s.sh stop` ends the kube-apiserver with SIGTERM also while clients hold watches
(issue 15, item 6: with a watch open the apiserver waited for it to end, the stop gave up after
10 s and killed it). Runs a private control plane (own TESTBED_DIR and ports) so the shared bench
stays up for the other tests."""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from private_testbed import free_port  # noqa: E402

from conftest import ROOT  # noqa: E402

K8S = os.path.join(ROOT, "scripts/testbed/k8s.sh")


def test_stop_ends_the_apiserver_with_watches_open(tmp_path):
    bench = tmp_path / "bench"
    env = dict(os.environ, TESTBED_DIR=str(bench), K8S_REPO_CRDS="0",
               K8S_API_PORT=str(free_port()), K8S_ETCD_PORT=str(free_port()),
               K8S_ETCD_PEER_PORT=str(free_port()), K8S_KCM_PORT=str(free_port()))
    start = subprocess.run(["bash", K8S, "start"], env=env, capture_output=True, text=True)
    assert start.returncode == 0, start.stderr[-3000:]
    state = bench / "k8s"
    watches = []
    try:
        pid = int((state / "kube-apiserver.pid").read_text())
        token = (state / "admin.token").read_text().strip()
        server = f"https://127.0.0.1:{env['K8S_API_PORT']}"
        # both lists are never empty (namespace default, Service default/kubernetes)
        for path in ("/api/v1/namespaces?watch=1", "/api/v1/services?watch=1"):
            watches.append(subprocess.Popen(
                ["curl", "-sN", "--cacert", str(state / "pki/ca.crt"),
                 "-H", f"Authorization: Bearer {token}", server + path],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        # a watch is established once it has sent its first event (ADDED for what exists)
        for w in watches:
            ready, _, _ = select.select([w.stdout], [], [], 60)
            assert ready and w.stdout.readline(), "the watch did not start"
        stop = subprocess.run(["bash", K8S, "stop"], env=env, capture_output=True, text=True)
        assert stop.returncode == 0, stop.stderr
        assert "ignored TERM" not in stop.stderr, stop.stderr
        assert not os.path.exists(f"/proc/{pid}"), "kube-apiserver still runs after stop"
        log = (state / "logs/kube-apiserver.log").read_text()
        assert "[graceful-termination] apiserver is exiting" in log, "not a graceful exit"
    finally:
        for w in watches:
            w.kill()
            w.wait()
        subprocess.run(["bash", K8S, "stop"], env=env, capture_output=True)
