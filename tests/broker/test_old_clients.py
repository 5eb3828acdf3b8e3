"""Clients from before Kafka 0.11: Produce v0-2 (message sets) is converted to record
batches; Fetch v0-3 is answered with message sets v0/v1 converted back (headers
cannot be carried and are dropped, as Kafka does)."""
import pytest
import subprocess

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from kafka import KafkaConsumer, TopicPartition


def produce(broker, topic, n):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5, "compression.type": "lz4"})
    for i in range(n):
        p.produce(topic, key=b"k%d" % i, value=b"value-%d" % i, timestamp=1_600_000_000_000 + i,
                  headers=[("h", b"x")])
    p.flush(10)


def test_kafka_python_with_old_protocol_versions(broker):
    produce(broker, "old", 500)
    # 0.10.1 speaks Fetch v3 (message format v1, timestamps); 0.9 speaks Fetch v1 (v0)
    for api_version, has_ts in [((0, 10, 1), True), ((0, 9), False)]:
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version, group_id=None,
                          enable_auto_commit=False, consumer_timeout_ms=5000)
        tp = TopicPartition("old", 0)
        c.assign([tp])
        c.seek(tp, 10)
        got = []
        for m in c:
            got.append(m)
            if len(got) == 490:
                break
        c.close()
        assert [m.offset for m in got] == list(range(10, 500)), api_version
        assert [m.value for m in got] == [b"value-%d" % i for i in range(10, 500)]
        assert [m.key for m in got] == [b"k%d" % i for i in range(10, 500)]
        if has_ts:
            assert [m.timestamp for m in got] == [1_600_000_000_000 + i for i in range(10, 500)]


def test_kcat_with_legacy_fetch(broker):
    produce(broker, "oldkcat", 50)
    # No ApiVersions: librdkafka falls back to the 0.9 protocol (Fetch v0/v1).
    r = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", "oldkcat", "-p", "0", "-o", "beginning",
                        "-e", "-q", "-f", "%o %k %s\\n", "-X", "api.version.request=false",
                        "-X", "broker.version.fallback=0.9.0"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode().splitlines()
    assert lines == [f"{i} k{i} value-{i}" for i in range(50)]


@pytest.mark.parametrize("fallback", ["0.8.2", "0.9.0", "0.10.0"])
def test_kcat_produces_old_message_sets_with_each_codec(broker, fallback):
    """librdkafka without ApiVersions sends Produce v0/v1 with magic-0 message sets
    (fallback 0.8.2, 0.9.0) or v2 with magic 1 (0.10.0). Its magic-0 LZ4 frames carry the
    descriptor checksum clients before 0.10 computed (over the frame's magic too), which
    Kafka accepts; a modern consumer reads every record back in order, with no
    timestamp where magic 0 had none."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for codec in ("none", "gzip", "snappy", "lz4"):
        topic = f"old-{codec}-{fallback.replace('.', '')}"
        admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
        lines = "".join(f"k{i}:v{i}\n" for i in range(200))
        r = subprocess.run(["kcat", "-P", "-b", broker.bootstrap, "-t", topic, "-K:", "-z", codec,
                            "-X", "api.version.request=false", "-X", f"broker.version.fallback={fallback}"],
                           input=lines.encode(), capture_output=True, timeout=60)
        assert r.returncode == 0 and b"failed" not in r.stderr, (codec, r.stderr.decode())
        r = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
                            "-e", "-q", "-f", "%o %k %s %T\\n"], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        lines = [line.rsplit(" ", 1) for line in r.stdout.decode().splitlines()]
        assert [text for text, _ in lines] == [f"{i} k{i} v{i}" for i in range(200)], (codec, fallback)
        # Magic 0 has no timestamps: kept as none (-1), as Kafka keeps them; magic 1 has the client's.
        stamps = {int(ts) for _, ts in lines}
        assert stamps == {-1} if fallback != "0.10.0" else min(stamps) > 1_600_000_000_000, (codec, stamps)


def test_down_conversion_can_be_disabled(broker):
    """message.downconversion.enable=false: Fetch v0-3 of a partition with data to
    convert gets UNSUPPORTED_VERSION (35), as Kafka answers; v4+ reads it as usual, and
    an empty partition is no error."""
    from kafka.protocol.fetch import FetchRequest
    from conftest import call

    produce(broker, "no-down", 5)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("no-down-empty", 1, 1)])["no-down-empty"].result()
    for topic in ("no-down", "no-down-empty"):
        res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"message.downconversion.enable": "false"})
        admin.alter_configs([res])[res].result()

    def fetch(version, topic):
        if version >= 4:
            req = FetchRequest[version](-1, 10, 1, 1 << 20, 0, [(topic, [(0, 0, 1 << 20)])])
        else:
            req = FetchRequest[version](-1, 10, 1, 1 << 20, [(topic, [(0, 0, 1 << 20)])]) if version == 3 else \
                FetchRequest[version](-1, 10, 1, [(topic, [(0, 0, 1 << 20)])])
        part = call(broker, req).topics[0][1][0]
        return part[1], len(part[-1])  # error, bytes of records

    assert fetch(1, "no-down") == (35, 0)
    assert fetch(3, "no-down") == (35, 0)
    err, size = fetch(4, "no-down")
    assert err == 0 and size > 0
    assert fetch(3, "no-down-empty") == (0, 0)
