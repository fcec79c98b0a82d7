"""Smoke tests for the real Kafka broker (scripts/testbed/kafka.sh start).

Proves the broker is a real Apache Kafka in KRaft mode: topics are created (through the admin
API and through `kafka.sh topic`), a record is produced with acks=all by an idempotent producer
and consumed back by a consumer group with the same key, value and headers, and auto topic
creation is off as docs/testbed.md says.
"""
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import bench_script, run


@pytest.fixture(scope="module")
def bootstrap(bench):
    return bench.need("KAFKA_BOOTSTRAP", "kafka")


@pytest.fixture(scope="module")
def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def create_topic(admin, name, partitions):
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=30, request_timeout=30)
    futures[name].result(timeout=60)


def test_cluster_is_one_kraft_broker(admin, bootstrap):
    md = admin.list_topics(timeout=20)
    brokers = {b.id: f"{b.host}:{b.port}" for b in md.brokers.values()}
    assert brokers == {1: bootstrap}, brokers
    assert md.cluster_id, "KRaft clusters have a cluster id"
    # KRaft: the controller quorum is node 1 itself (combined mode)
    desc = admin.describe_cluster(request_timeout=20).result(timeout=30)
    assert desc.controller is not None and desc.controller.id == 1


def test_produce_and_consume_roundtrip(admin, bootstrap):
    topic = "smoke-" + uuid.uuid4().hex[:10]
    create_topic(admin, topic, 3)

    key = b"BEL-001"
    value = uuid.uuid4().bytes + b"\x00\xffbinary payload"
    headers = [("sale-id", str(uuid.uuid4()).encode()), ("accepted-at", b"1764115200000"),
               ("writer", b"bench-smoke")]

    delivered = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "message.timeout.ms": 30000})
    producer.produce(topic, key=key, value=value, headers=headers,
                     on_delivery=lambda err, msg: delivered.append((err, msg)))
    assert producer.flush(30) == 0, "record not delivered within 30 s"
    assert len(delivered) == 1
    err, msg = delivered[0]
    assert err is None, f"delivery failed: {err}"
    assert msg.offset() == 0

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "smoke-" + uuid.uuid4().hex[:8],
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])
        got = None
        for _ in range(60):
            m = consumer.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            got = m
            break
        assert got is not None, "no record consumed within 60 s"
        assert got.topic() == topic
        assert got.partition() == msg.partition()
        assert got.key() == key
        assert got.value() == value
        assert got.headers() == headers
        consumer.commit(message=got, asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, got.partition())], timeout=20)
        assert committed[0].offset == got.offset() + 1
    finally:
        consumer.close()


def test_kafka_sh_topic_creates_partitions(admin):
    topic = "smoke-script-" + uuid.uuid4().hex[:8]
    run(["bash", bench_script("kafka.sh"), "topic", topic, "4"], timeout=120)
    md = admin.list_topics(topic=topic, timeout=20)
    assert topic in md.topics and md.topics[topic].error is None
    assert len(md.topics[topic].partitions) == 4
    # idempotent: creating it again is not an error
    run(["bash", bench_script("kafka.sh"), "topic", topic, "4"], timeout=120)


def test_auto_topic_creation_is_off(admin, bootstrap):
    topic = "smoke-missing-" + uuid.uuid4().hex[:8]
    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 4000})
    producer.produce(topic, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(15)
    assert errors and errors[0] is not None, "producing to a missing topic should fail"
    md = admin.list_topics(timeout=20)
    assert topic not in md.topics, "the broker auto-created a topic"
