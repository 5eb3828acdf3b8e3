"""confluent-kafka, kafka-python and kafkajs against a real fjord process."""
import pathlib
import subprocess
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

CLIENTS = pathlib.Path(__file__).resolve().parents[1] / "clients"


def test_confluent_admin_create_describe_and_errors(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic("orders", num_partitions=12, replication_factor=1)])
    assert futures["orders"].result() is None
    md = admin.list_topics(timeout=10)
    assert len(md.topics["orders"].partitions) == 12
    assert all(p.leader == 1 for p in md.topics["orders"].partitions.values())
    # already exists, bad name, bad partition count, too many replicas: Kafka's error codes
    errors, messages = {}, {}
    for topic in [NewTopic("orders", 1, 1), NewTopic("bad name!", 1, 1), NewTopic("zero", 0, 1),
                  NewTopic("rf3", 1, 3)]:
        try:
            admin.create_topics([topic])[topic.topic].result()
            errors[topic.topic] = None
        except Exception as e:  # KafkaException wrapping KafkaError
            errors[topic.topic] = e.args[0].code()
            messages[topic.topic] = e.args[0].str()
    # TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR
    assert errors == {"orders": 36, "bad name!": 17, "zero": 37, "rf3": 38}
    # in Kafka 3.9's words (its controller's, Topic.validate's and its replica placer's)
    assert messages["orders"] == "Topic 'orders' already exists."
    assert messages["bad name!"] == ('Topic name "bad name!" is illegal, it contains a character other than '
                                     "ASCII alphanumerics, '.', '_' and '-'")
    assert messages["zero"] == "Number of partitions was set to an invalid non-positive value."
    assert messages["rf3"] == ("Unable to replicate the partition 3 time(s): The target replication factor of 3 "
                               "cannot be reached because only 1 broker(s) are registered.")
    # validate_only creates nothing
    admin.create_topics([NewTopic("dry", 3, 1)], validate_only=True)["dry"].result()
    assert "dry" not in admin.list_topics(timeout=10).topics


def test_confluent_produce_and_seek_by_timestamp(broker):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    base = int(time.time() * 1000) - 100000
    for i in range(300):
        p.produce("timed", partition=0, value=f"m{i}".encode(), timestamp=base + i * 10)
    assert p.flush(20) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    # offsets_for_times uses ListOffsets by timestamp
    found = c.offsets_for_times([TopicPartition("timed", 0, base + 1234)], timeout=10)
    assert found[0].offset == 124  # first record with ts >= base+1234 is m124 (base+1240)
    c.assign([TopicPartition("timed", 0, found[0].offset)])
    msg = c.poll(10)
    assert msg is not None and msg.error() is None and msg.value() == b"m124"
    lo, hi = c.get_watermark_offsets(TopicPartition("timed", 0), timeout=10)
    assert (lo, hi) == (0, 300)
    c.close()


def test_kafka_python_produce_and_consume(broker):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KTP
    prod = KafkaProducer(bootstrap_servers=broker.bootstrap, compression_type="gzip")
    for i in range(200):
        prod.send("kp", key=b"k", value=f"kp-{i}".encode())
    prod.flush(20)
    prod.close()
    cons = KafkaConsumer(bootstrap_servers=broker.bootstrap, consumer_timeout_ms=5000, enable_auto_commit=False)
    parts = [KTP("kp", p) for p in cons.partitions_for_topic("kp")]
    cons.assign(parts)
    cons.seek_to_beginning()
    values = [m.value.decode() for m in cons]
    cons.close()
    assert values == [f"kp-{i}" for i in range(200)]


def test_kafka_python_admin_and_a_consumer_seeking_by_timestamp(broker):
    """kafka-python's admin creates, describes, alters and deletes a topic; its consumer
    assigns partitions and seeks by timestamp (ListOffsets). kafka-python 2.0.2 (Debian's)
    has no idempotent producer: confluent-kafka's and node-rdkafka's are tested."""
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition as KTP
    from kafka.admin import ConfigResource as KpConfigResource, ConfigResourceType, NewTopic as KpNewTopic

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([KpNewTopic("kpa", 3, 1, topic_configs={"retention.ms": "3600000"})])
        (described,) = admin.describe_topics(["kpa"])
        assert described["error_code"] == 0 and len(described["partitions"]) == 3
        resource = KpConfigResource(ConfigResourceType.TOPIC, "kpa")

        def retention_ms():
            (resp,) = admin.describe_configs([resource])
            ((error, _message, _type, _name, entries),) = resp.resources
            assert error == 0
            return next(e[1] for e in entries if e[0] == "retention.ms")

        assert retention_ms() == "3600000"
        altered = admin.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, "kpa",
                                                        configs={"retention.ms": "7200000"})])
        assert altered.resources[0][0] == 0, altered
        assert retention_ms() == "7200000"

        base = int(time.time() * 1000) - 600_000
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        for i in range(10):
            producer.send("kpa", value=f"at-{i}".encode(), partition=1, timestamp_ms=base + 1000 * i)
        producer.flush(20)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                                 consumer_timeout_ms=5000)
        tp = KTP("kpa", 1)
        consumer.assign([tp])
        found = consumer.offsets_for_times({tp: base + 2500})[tp]
        assert (found.offset, found.timestamp) == (3, base + 3000)
        assert consumer.offsets_for_times({tp: base + 60_000})[tp] is None  # after every record
        consumer.seek(tp, found.offset)
        values = []
        for m in consumer:  # ends after 5 s without records at most
            values.append(m.value)
            if len(values) == 7:
                break
        assert values == [f"at-{i}".encode() for i in range(3, 10)]
        consumer.close()

        admin.delete_topics(["kpa"])
        deadline = time.time() + 10
        while "kpa" in admin.list_topics() and time.time() < deadline:
            time.sleep(0.1)
        assert "kpa" not in admin.list_topics()
    finally:
        admin.close()


def test_kafkajs_produce_and_consume(broker):
    # The script disables auto-creation (Kafka then answers UNKNOWN_TOPIC_OR_PARTITION).
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("js", num_partitions=2, replication_factor=1)])["js"].result()
    r = subprocess.run(["node", str(CLIENTS / "kafkajs_produce.js"), broker.bootstrap, "js", "gzip", "100"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "js", "-o", "beginning", "-e", "-q",
                        "-f", "%s\n"], capture_output=True, timeout=60)
    values = r.stdout.decode().split()
    assert len(values) == 100 and all(v.startswith("kafkajs-gzip-") for v in values)


def test_kafkajs_admin_producer_and_consumer(broker):
    """kafkajs's admin creates (a second time: false, the topic exists), describes,
    alters and deletes a topic and looks offsets up by time and at the end; its
    producer writes 10 records with their timestamps, and a group consumer seeks to
    the offset the timestamp gave and reads the rest."""
    import json
    r = subprocess.run(["node", str(CLIENTS / "kafkajs_admin.js"), broker.bootstrap, "jsa"], capture_output=True,
                       timeout=120, cwd=CLIENTS)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert (out["created"], out["again"]) == (True, False)
    assert out["partitions"] == [0, 1]
    assert out["retention"] == ["3600000", "7200000"]
    # Partition 0 has no record at or after the time: Fjord answers -1, as Kafka, and
    # kafkajs puts the partition's end offset in its place.
    assert sorted((p["partition"], p["offset"]) for p in out["byTime"]) == [(0, "0"), (1, "3")]
    assert sorted((p["partition"], p["offset"], p["high"]) for p in out["latest"]) == [(0, "0", "0"), (1, "10", "10")]
    assert out["consumed"] == [[1, i, f"at-{i}"] for i in range(3, 10)]
    assert out["listed"] is False


def test_confluent_admin_delete_and_add_partitions(broker):
    from confluent_kafka.admin import NewPartitions
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("grow", 2, 1), NewTopic("gone", 3, 1)])["gone"].result()
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(30):
        p.produce("gone", value=b"x", partition=i % 3)
    assert p.flush(10) == 0
    # add partitions; shrinking or keeping the count is INVALID_PARTITIONS (37)
    admin.create_partitions([NewPartitions("grow", 5)])["grow"].result()
    assert len(admin.list_topics(timeout=10).topics["grow"].partitions) == 5
    try:
        admin.create_partitions([NewPartitions("grow", 4)])["grow"].result()
        raise AssertionError("shrinking should fail")
    except Exception as e:
        assert e.args[0].code() == 37
    # delete: the topic and its data go; deleting again is UNKNOWN_TOPIC_OR_PARTITION (3)
    data = pathlib.Path(broker.data_dir) / "data"
    assert (data / "gone-0").exists()
    admin.delete_topics(["gone"])["gone"].result()
    assert "gone" not in admin.list_topics(timeout=10).topics
    # renamed away at once (gone-0.<n>-delete), removed in the background soon after
    assert not any(d.name.startswith("gone-") and not d.name.endswith("-delete") for d in data.iterdir())
    deadline = time.time() + 10
    while any(d.name.startswith("gone-") for d in data.iterdir()) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(d.name.startswith("gone-") for d in data.iterdir())
    try:
        admin.delete_topics(["gone"])["gone"].result()
        raise AssertionError("second delete should fail")
    except Exception as e:
        assert e.args[0].code() == 3


def test_describe_cluster(broker):
    # confluent-kafka 1.7 (Debian 12) has no describe_cluster; the request is built by
    # hand here (flexible v0: header v2, compact strings, tagged fields).
    import socket
    import struct

    def uvarint(b, i):
        v = shift = 0
        while True:
            x = b[i]
            i += 1
            v |= (x & 0x7F) << shift
            shift += 7
            if x < 0x80:
                return v, i

    def compact_string(b, i):
        n, i = uvarint(b, i)
        return (None if n == 0 else b[i:i + n - 1].decode()), i + max(n - 1, 0)

    frame = struct.pack(">hhih", 60, 0, 5, 4) + b"test" + b"\x00" + b"\x00" + b"\x00"
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
    s.sendall(struct.pack(">i", len(frame)) + frame)
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        data += s.recv(65536)
    s.close()
    i = 4
    (corr,) = struct.unpack(">i", data[i:i + 4])
    i += 4
    _, i = uvarint(data, i)  # header tagged fields
    throttle, err = struct.unpack(">ih", data[i:i + 6])
    i += 6
    _, i = compact_string(data, i)
    cluster_id, i = compact_string(data, i)
    (controller,) = struct.unpack(">i", data[i:i + 4])
    i += 4
    count, i = uvarint(data, i)
    brokers = []
    for _ in range(count - 1):
        (bid,) = struct.unpack(">i", data[i:i + 4])
        host, i = compact_string(data, i + 4)
        (port,) = struct.unpack(">i", data[i:i + 4])
        _, i = compact_string(data, i + 4)
        _, i = uvarint(data, i)
        brokers.append((bid, host, port))
    assert (corr, err, controller) == (5, 0, 1)
    assert len(cluster_id) == 22  # base64 of a UUID, as Kafka's
    assert brokers == [(1, "127.0.0.1", broker.port)]
