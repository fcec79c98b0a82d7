"""Smoke tests for the real Valkey bench (scripts/testbed/valkey.sh start).

Proves the servers are real Valkey >= 8 (not Redis), that the replica follows the primary through
`replicaof`, that append-only persistence is on with its files on disk, and that an instance
started with `valkey.sh start-instance` keeps its data across a restart through the AOF.
"""
import os
import sys
import uuid

import pytest
import valkey

from conftest import bench_script, run, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from private_testbed import free_port  # noqa: E402


def client(addr):
    host, port = addr.rsplit(":", 1)
    return valkey.Valkey(host=host, port=int(port), socket_timeout=10, decode_responses=True)


@pytest.fixture(scope="module")
def primary(bench):
    c = client(bench.need("VALKEY_ADDR", "valkey"))
    yield c
    c.close()


@pytest.fixture(scope="module")
def replica(bench):
    c = client(bench.need("VALKEY_REPLICA_ADDR", "valkey"))
    yield c
    c.close()


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_server_is_valkey_8_or_newer(request, which):
    info = request.getfixturevalue(which).info("server")
    assert info.get("server_name") == "valkey", f"not a Valkey server: {info.get('server_name')!r}"
    version = str(info["valkey_version"])
    assert int(version.split(".")[0]) >= 8, version


def test_replication_roles(primary, replica, bench):
    rep = replica.info("replication")
    assert rep["role"] == "slave"
    host, port = bench.need("VALKEY_ADDR", "valkey").rsplit(":", 1)
    assert (rep["master_host"], str(rep["master_port"])) == (host, port)
    assert rep["master_link_status"] == "up"
    assert primary.info("replication")["connected_slaves"] >= 1


def test_set_on_primary_is_visible_on_replica(primary, replica):
    key = "smoke:" + uuid.uuid4().hex
    value = "valor-" + uuid.uuid4().hex
    assert primary.set(key, value, ex=300)
    # WAIT: the write reached at least one replica
    assert primary.execute_command("WAIT", 1, 5000) >= 1
    assert wait_for("replica to see the key", lambda: replica.get(key) == value, timeout=10)
    assert replica.ttl(key) > 0
    with pytest.raises(valkey.exceptions.ReadOnlyError):
        replica.set(key, "written on the replica")
    primary.delete(key)
    assert wait_for("replica to see the delete", lambda: replica.exists(key) == 0, timeout=10)


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_append_only_file_on_disk(request, which):
    c = request.getfixturevalue(which)
    assert c.config_get("appendonly")["appendonly"] == "yes"
    pers = c.info("persistence")
    assert pers["aof_enabled"] == 1
    data_dir = c.config_get("dir")["dir"]
    aof_dir = os.path.join(data_dir, c.config_get("appenddirname")["appenddirname"])
    manifest = os.path.join(aof_dir, c.config_get("appendfilename")["appendfilename"] + ".manifest")
    assert os.path.isfile(manifest), f"no AOF manifest at {manifest}"
    assert "/.testbed/valkey/" in data_dir, f"data outside .testbed/valkey: {data_dir}"


def test_write_lands_in_primary_aof(primary):
    key = "smoke:aof:" + uuid.uuid4().hex
    primary.set(key, "persisted")
    aof_dir = os.path.join(primary.config_get("dir")["dir"], primary.config_get("appenddirname")["appenddirname"])

    def in_aof():
        for name in os.listdir(aof_dir):
            if name.endswith(".incr.aof"):
                with open(os.path.join(aof_dir, name), "rb") as f:
                    if key.encode() in f.read():
                        return True
        return False

    assert wait_for("the SET to reach the AOF", in_aof, timeout=5)  # appendfsync everysec
    primary.delete(key)


def test_extra_instance_survives_restart_from_aof(tmp_path):
    port = free_port()
    data = tmp_path / "valkey-data"
    script = bench_script("valkey.sh")
    run(["bash", script, "start-instance", str(port), "--dir", str(data)], timeout=60)
    try:
        c = client(f"127.0.0.1:{port}")
        assert c.info("server")["server_name"] == "valkey"
        c.hset("smoke:hash", mapping={"Belleza": 3, "Hogar": 1})
        c.close()
        run(["bash", script, "stop-instance", str(port)], timeout=60)
        assert (data / "appendonlydir").is_dir()
        run(["bash", script, "start-instance", str(port), "--dir", str(data)], timeout=60)
        c = client(f"127.0.0.1:{port}")
        assert c.hgetall("smoke:hash") == {"Belleza": "3", "Hogar": "1"}
        c.close()
    finally:
        run(["bash", script, "stop-instance", str(port)], timeout=60, check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="VALKEY_PRIMARY_TMPFS mounts a tmpfs (root)")
def test_stop_unmounts_the_primary_tmpfs_even_without_its_pid_file(tmp_path):
    # the disk-full fault's volume: when its instance died and left no pid file, stop must still
    # unmount it, else the next run can neither reuse nor delete the data dir
    p, r = free_port(), free_port()
    env = dict(os.environ, TESTBED_DIR=str(tmp_path / "bench"), VALKEY_PRIMARY_PORT=str(p),
               VALKEY_REPLICA_PORT=str(r), VALKEY_PRIMARY_TMPFS="16m")
    script = bench_script("valkey.sh")
    data = tmp_path / "bench" / "valkey" / str(p)
    run(["bash", script, "start"], timeout=90, env=env)
    try:
        assert os.path.ismount(data)
        pidfile = tmp_path / "bench" / "valkey" / "run" / f"{p}.pid"
        os.kill(int(pidfile.read_text()), 9)
        pidfile.unlink()
    finally:
        run(["bash", script, "stop"], timeout=90, env=env)
    left_mounted = os.path.ismount(data)
    if left_mounted:
        run(["umount", str(data)], check=False)  # do not leak the mount when the test fails
    assert not left_mounted
