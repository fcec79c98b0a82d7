"""The Valkey VMs boot for real (docs/valkey-vm.md): the containerDisk image scripts/vm-image
built, booted by QEMU as KubeVirt would with the disks and cloud-init of the operator's rendered
VirtualMachines (tests/vms/vmlab.py). The tests run in file order on one pair of VMs.
Boot times go to stdout and to $BF_TEST_OUT/85-vms-figures.json."""
import base64
import json
import os
import pathlib
import signal
import time

import pytest
import valkey
import yaml

import vmlab

ROOT = vmlab.ROOT
OUT = pathlib.Path(os.environ.get("BF_TEST_OUT", ROOT / "out/test"))
FIGURES = {}
A = {f"vm:a:{i}": f"a-{i}" for i in range(200)}     # written with both VMs up
B = {f"vm:b:{i}": f"b-{i}" for i in range(200)}     # written while the replica is down
C = {f"vm:c:{i}": f"c-{i}" for i in range(50)}      # written after both restarted


def client(vm, password):
    return valkey.Valkey(host=vm.ip, port=vmlab.VALKEY_PORT, password=password, socket_timeout=30,
                         decode_responses=True)


def until(what, predicate, deadline_s=600, every=1.0):
    """Poll predicate() until it is truthy; a deadline only to fail instead of hanging."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {deadline_s} s: {what}")


def boot(lab, vms, label):
    for vm in vms:
        vm.start()
    for vm in vms:
        seconds = vmlab.wait_valkey(vm, lab.password)
        FIGURES[f"{label}:{vm.name}"] = round(seconds, 1)
        print(f"85-vms: {vm.name} ({label}, {lab.accel}) answered with the Secret's password after {seconds:.0f} s")


@pytest.fixture(scope="module")
def rendered():
    return vmlab.Rendered.from_operator(ROOT / "config/samples/pipeline.yaml")


@pytest.fixture(scope="module")
def lab(rendered, tmp_path_factory):
    password = base64.b32encode(os.urandom(15)).decode().lower()
    qcow2 = os.environ.get("BF_VM_QCOW2") or vmlab.default_qcow2()
    lab = vmlab.Lab(tmp_path_factory.mktemp("vms"), qcow2, rendered, password)
    assert [vm.name for vm in lab.vms] == ["valkey-0", "valkey-1"], "the sample renders a primary and a replica"
    lab.up()
    yield lab
    lab.down()
    FIGURES["accel"] = lab.accel
    FIGURES["qcow2_bytes"] = pathlib.Path(qcow2).stat().st_size
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "85-vms-figures.json").write_text(json.dumps(FIGURES, indent=2))
    print("85-vms: figures", json.dumps(FIGURES))


def test_rendered_vms_boot_without_network(rendered):
    """The user-data installs nothing (Valkey is in the image) and the root disk is the image."""
    for vm in rendered.virtual_machines():
        cfg = yaml.safe_load(rendered.user_data(vm))
        for key in ("packages", "package_update", "package_upgrade", "apt"):
            assert key not in cfg, f"{vm['metadata']['name']}: cloud-init `{key}` needs the internet"
        roots = [v["containerDisk"]["image"] for v in vm["spec"]["template"]["spec"]["volumes"] if "containerDisk" in v]
        assert len(roots) == 1 and "/valkey-vm:" in roots[0]


def test_both_boot_and_valkey_requires_the_secret_password(lab):
    boot(lab, lab.vms, "first boot")
    for vm in lab.vms:
        assert client(vm, lab.password).ping() is True
        with pytest.raises(valkey.exceptions.AuthenticationError):
            client(vm, None).ping()                          # NOAUTH
        with pytest.raises(valkey.exceptions.AuthenticationError):
            client(vm, lab.password + "-wrong").ping()      # WRONGPASS
        # the data directory is the data disk (the PVC), not the root disk
        assert client(vm, lab.password).config_get("dir")["dir"] == "/var/lib/valkey"
        assert client(vm, lab.password).config_get("appendonly")["appendonly"] == "yes"


def test_replica_replicates(lab):
    primary, replica = (client(vm, lab.password) for vm in lab.vms)
    assert primary.info("replication")["role"] == "master"
    until("replica link up", lambda: replica.info("replication").get("master_link_status") == "up")
    primary.mset(A)
    assert primary.wait(1, 60000) >= 1
    assert replica.mget(list(A)) == list(A.values())
    with pytest.raises(valkey.exceptions.ReadOnlyError):
        replica.set("vm:on-replica", "x")


def test_aof_survives_kill9_of_primary_and_rebooted_replica_rejoins(lab):
    primary_vm, replica_vm = lab.vms
    replica_vm.kill(signal.SIGKILL)                          # the replica's pod dies
    primary = client(primary_vm, lab.password)
    primary.mset(B)
    # B must be on the data disk before the kill. Not WAITAOF: with appendfsync everysec, Valkey
    # 8.0.1 answered WAITAOF 1 0 0 with [1, 0] while INFO still showed aof_pending_bio_fsync:1, and
    # a kill -9 then lost B (this suite's first run; guest fsyncs are slow under TCG). An AOF
    # rewrite is unambiguous: its base file holding A and B is fsynced and the manifest that
    # names it is fsynced and renamed before INFO reports the rewrite done.
    before = primary.info("persistence")["aof_rewrites"]
    primary.bgrewriteaof()
    done = until("AOF rewrite done", lambda: (lambda p: p["aof_rewrites"] > before and not p["aof_rewrite_in_progress"]
                                              and not p["aof_rewrite_scheduled"] and p)(primary.info("persistence")))
    assert done["aof_last_bgrewrite_status"] == "ok" and done["aof_enabled"] == 1
    primary_vm.kill(signal.SIGKILL)                          # kill -9 the primary's QEMU
    # both come back as KubeVirt restarts a VM: a new root overlay from the image, cloud-init
    # again, the same data disk (PVC)
    boot(lab, [primary_vm, replica_vm], "restart")
    primary = client(primary_vm, lab.password)
    assert primary.mget(list(A)) == list(A.values()), "data written before the replica died"
    assert primary.mget(list(B)) == list(B.values()), "AOF lost writes after kill -9"
    replica = client(replica_vm, lab.password)
    until("restarted replica rejoins", lambda: replica.info("replication").get("master_link_status") == "up")
    primary.mset(C)
    assert primary.wait(1, 60000) >= 1
    for batch in (A, B, C):
        assert replica.mget(list(batch)) == list(batch.values())
    assert primary.info("replication")["connected_slaves"] == 1
