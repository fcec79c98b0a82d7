"""Every panel query of the dashboard against a real Valkey holding known sales: the runner executes the
redis-datasource command, applies the panel's transformations, and what the panel would show must equal
what the sales imply. Valkey is filled either by the real consumer from real Kafka records
(test_panels_after_real_consumer) or by writing the contract keys (test_panels_on_contract_keys)."""
import math
import subprocess

import pytest
from dashenv import ROOT, bench_env
from contract_keys import write_sales
from sales import encode_proto, expected, make_sales

from bfdash import load, query, render


def by_title(results):
    return {r["title"]: r for r in results}


def check_panels(results, exp, variables):
    r = by_title(results)
    for x in results:
        assert x["error"] is None, (x["title"], x["error"])

    def bars(title):
        return dict(r[title]["bars"])

    assert bars("Total de reportes por categoría") == {c: float(v) for c, v in exp["reports"].items()}
    for title, key in (("Producto promedio por categoría", "avg_units"), ("Precio promedio por categoría", "avg_price")):
        got = bars(title)
        assert set(got) == set(exp[key])
        for c, v in exp[key].items():
            # the consumer stores averages with 6 decimals
            assert math.isclose(got[c], v, rel_tol=1e-9, abs_tol=1e-6), (title, c, got[c], v)
    for title, key in (("Precio más alto registrado en general", "max"), ("Precio más bajo registrado en general", "min")):
        vals = dict(r[title]["values"])
        assert math.isclose(vals["precio"], exp[key][0]) and vals["producto_id"] == exp[key][1], (title, vals)
    for title, key in (("Producto más vendido registrado en general", "most"),
                       ("Producto menos vendido registrado en general", "least"),
                       ("Producto más vendido por categoría asignada", "most_cat"),
                       ("Producto menos vendido por categoría asignada", "least_cat")):
        (pid, units), = r[title]["values"]
        assert units == exp[key] and pid in exp[key + "_ids"], (title, pid, units)
    assert r["#CARNET"]["text"] == variables["carnet"]
    assert r["Nombre de la categoría"]["text"] == variables["categoria"]
    ts = r["Variación de precio de un producto de la categoría"]
    (name, vals), = ts["series"]
    assert name == variables["producto"]
    assert vals == exp["series"] and len(ts["time"]) == len(vals)
    assert ts["time"] == sorted(ts["time"])


def test_panels_on_contract_keys(client, tmp_path):
    dash = load.load_dashboard_file()
    sales = make_sales(600)
    write_sales(client, sales)
    values, results = query.run_dashboard(dash, client)
    assert values == {"carnet": "202300539", "categoria": "Belleza", "producto": "BEL-001"}
    check_panels(results, expected(sales, "Belleza", "BEL-001"), values)
    # the same panels with other variables (what the operator fills for another carnet)
    values, results = query.run_dashboard(dash, client, {"carnet": "202300510", "categoria": "Electronica",
                                                          "producto": "ELE-002"})
    check_panels(results, expected(sales, "Electronica", "ELE-002"), values)
    png = tmp_path / "d.png"
    render.render_png(dash, results, png)
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 50_000
    text = render.summary(results, values)
    assert "Total de reportes por categoría" in text and "ELE-002" in text


def test_empty_valkey_shows_no_data_not_errors(client):
    values, results = query.run_dashboard(load.load_dashboard_file(), client)
    for r in results:
        assert r["error"] is None
        if r["type"] in ("barchart", "stat", "timeseries"):
            assert not (r.get("bars") or r.get("values") or r.get("time")), r["title"]


def test_cli_run_fails_on_missing_data(valkey_addr, client, tmp_path):
    cmd = [str(ROOT / "tools/dashboard/dashboard"), "run", "--valkey", valkey_addr,
           "--png", str(tmp_path / "a.png"), "--require-data"]
    assert subprocess.run(cmd, capture_output=True).returncode == 1
    write_sales(client, make_sales(50))
    client.delete("bf:series:BEL-001")
    client.xadd("bf:series:BEL-001", {"precio": "10.5", "cantidad_vendida": "1"})
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "HGETALL bf:reports" in p.stdout and "XRANGE bf:series:BEL-001 - + COUNT 2000" in p.stdout


def test_frame_shapes_follow_the_plugin(client):
    """hgetall → one row, a field per hash field; zrange → a field per member (score); xrange → $streamId,
    $time and string fields; then reduce seriesToRows → Field + 'Last *'."""
    client.hset("bf:reports", mapping={"Ropa": 3, "Hogar": 5})
    f = query.run_target(client, {"type": "command", "command": "hgetall", "keyName": "bf:reports"})
    assert [(x.name, x.type, x.values) for x in f] == [("Ropa", "number", [3.0]), ("Hogar", "number", [5.0])]
    rows = query.apply_transformations(f, [{"id": "reduce", "options": {"reducers": ["lastNotNull"], "mode": "seriesToRows"}}])
    assert [(x.name, x.values) for x in rows] == [("Field", ["Ropa", "Hogar"]), ("Last *", [3.0, 5.0])]
    client.zadd("bf:product_units", {"A-1": 4, "B-2": 9})
    f = query.run_target(client, {"type": "command", "command": "zrange", "keyName": "bf:product_units", "min": "-1", "max": "-1"})
    assert [(x.name, x.values) for x in f] == [("B-2", [9.0])]
    client.xadd("bf:series:X", {"precio": "1.5", "cantidad_vendida": "2"}, id="1000-0")
    f = query.run_target(client, {"type": "command", "command": "xrange", "keyName": "bf:series:X", "start": "-", "end": "+"})
    assert [x.name for x in f] == ["$streamId", "$time", "precio", "cantidad_vendida"]
    assert f[2].type == "string" and f[2].values == ["1.5"]
    f = query.run_target(client, {"type": "cli", "query": "HGETALL bf:reports"})
    assert {x.name for x in f} == {"Ropa", "Hogar"}


# ---------------------------------------------------------------- the real consumer

CONSUMER = ROOT / "go-services/bin/consumer"


def _consumer_cmd(env, topic, group, valkey_addr, featured):
    """The consumer's command line (docs/go-services.md)."""
    return [str(CONSUMER), "--kafka-brokers", env["KAFKA_BOOTSTRAP"], "--topic", topic, "--group", group,
            "--valkey-addr", valkey_addr, "--featured-category", featured, "--metrics-listen", "127.0.0.1:0"]


def test_panels_after_real_consumer(valkey_addr, client, tmp_path):
    env = bench_env()
    if not env.get("KAFKA_BOOTSTRAP"):
        pytest.fail("KAFKA_BOOTSTRAP not set: the bench (scripts/testbed/up.sh kafka) must run")
    if not CONSUMER.exists():
        if (ROOT / "go-services/cmd/consumer").exists():
            pytest.fail("go-services/cmd/consumer exists but go-services/bin/consumer is not built")
        pytest.skip("go-services/bin/consumer not built (scripts/test.d/50-dashboard.sh builds it when its source exists)")
    import time
    import uuid

    from confluent_kafka import Producer
    topic = f"dash-{uuid.uuid4().hex[:8]}"
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": env["KAFKA_BOOTSTRAP"]})
    for f in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
        f.result(30)
    sales = make_sales(400, seed=11)
    prod = Producer({"bootstrap.servers": env["KAFKA_BOOTSTRAP"], "enable.idempotence": True, "acks": "all"})
    for s in sales:
        prod.produce(topic, key=s["producto_id"].encode(), value=encode_proto(s),
                     headers=[("sale-id", str(uuid.uuid4()).encode()),
                              ("accepted-at", str(int(time.time() * 1000)).encode()),
                              ("writer", b"test")])
    assert prod.flush(30) == 0
    log = open(tmp_path / "consumer.log", "w")
    p = subprocess.Popen(_consumer_cmd(env, topic, f"g-{topic}", valkey_addr, "Belleza"), stdout=log, stderr=log)
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            got = sum(int(v) for v in client.hvals("bf:reports"))
            if got >= len(sales) or p.poll() is not None:
                break
            time.sleep(0.5)
        assert p.poll() is None, (tmp_path / "consumer.log").read_text()[-2000:]
        assert got == len(sales), f"consumer wrote {got} of {len(sales)} reports"
        from bfdash.counts import KafkaLag
        probe = KafkaLag(env["KAFKA_BOOTSTRAP"], topic)
        assert probe.lag(client) == 0  # bf:offsets:<topic> reached every partition's high watermark
        client.hset(f"bf:offsets:{topic}", "0", 0)
        assert probe.lag(client) > 0   # and the probe does see a partition left behind
        probe.close()
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
    dash = load.load_dashboard_file()
    values, results = query.run_dashboard(dash, client)
    check_panels(results, expected(sales, "Belleza", "BEL-001"), values)
