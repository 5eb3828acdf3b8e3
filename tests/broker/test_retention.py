"""retention.ms / retention.bytes (topic overrides and the broker's log.retention.*)
delete whole closed segments, as Kafka does, and clients see the log start move;
cleanup.policy=compact topics (and __consumer_offsets) are left alone."""
import tempfile
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType

from conftest import Broker


def low_high(b, topic):
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "w", "enable.auto.commit": False})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    return lo, hi


def produce_rounds(b, topic):
    """50 rounds of the same ten keys, one record per batch; returns the producer."""
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for rnd in range(50):
        for k in range(10):
            p.produce(topic, key=b"key%d" % k, value=b"round-%d" % rnd)
            p.poll(0)
    return p


def test_retention_by_size_and_time():
    with tempfile.TemporaryDirectory(prefix="fjord-retention-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            small = {"segment.bytes": "4096"}
            admin.create_topics([NewTopic("by-size", 1, 1, config=dict(small, **{"retention.bytes": "8192"})),
                                 NewTopic("by-time", 1, 1, config=dict(small, **{"retention.ms": "1000"})),
                                 NewTopic("compacted", 1, 1, config=dict(small, **{"retention.ms": "1000",
                                                                                    "cleanup.policy": "compact"}))
                                 ])["by-size"].result()
            p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
            for topic in ("by-size", "by-time", "compacted"):
                for i in range(200):
                    p.produce(topic, value=b"x" * 200, key=b"k%d" % (i % 10))
                    p.poll(0)
            p.flush(20)
            # by size: at least 8 KiB kept, and less than 8 KiB + a segment
            deadline = time.time() + 10
            while time.time() < deadline and low_high(b, "by-size")[0] == 0:
                time.sleep(0.2)
            lo, hi = low_high(b, "by-size")
            assert hi == 200 and 0 < lo < 200
            # by time: after a second every closed segment is too old; the active one stays
            time.sleep(1.5)
            deadline = time.time() + 10
            while time.time() < deadline and low_high(b, "by-time")[0] < 150:
                time.sleep(0.2)
            lo, hi = low_high(b, "by-time")
            assert hi == 200 and 150 <= lo < 200
            assert low_high(b, "compacted") == (0, 200)
            # a consumer starting from the beginning starts at the new log start
            c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "r", "auto.offset.reset": "earliest",
                          "enable.auto.commit": False})
            c.assign([TopicPartition("by-time", 0, -2)])  # OFFSET_BEGINNING
            m = c.poll(10)
            c.close()
            assert m is not None and m.error() is None and m.offset() == lo
            # the broker default applies to topics without an override (dynamic config)
            res = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"log.retention.bytes": "4096"})
            admin.alter_configs([res])[res].result()
            admin.create_topics([NewTopic("default", 1, 1, config=small)])["default"].result()
            for i in range(200):
                p.produce("default", value=b"y" * 200)
                p.poll(0)
            p.flush(20)
            deadline = time.time() + 10
            while time.time() < deadline and low_high(b, "default")[0] == 0:
                time.sleep(0.2)
            assert low_high(b, "default")[0] > 0
        finally:
            b.stop()


def test_broker_retention_keys_take_kafkas_precedence_and_synonyms():
    """log.retention.ms wins over log.retention.hours in whatever order they are given
    (Kafka's stock server.properties sets the hours), and DescribeConfigs lists each key
    and its synonyms as Kafka's ConfigHelper does."""
    with tempfile.TemporaryDirectory(prefix="fjord-retention-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200", "log.retention.ms=1000",
                             "log.retention.hours=168", "log.roll.hours=2"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            admin.create_topics([NewTopic("inherits", 1, 1, config={"segment.bytes": "4096"})])["inherits"].result()
            p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
            for _ in range(200):
                p.produce("inherits", value=b"x" * 200)
                p.poll(0)
            p.flush(20)
            time.sleep(1.5)
            deadline = time.time() + 10
            while time.time() < deadline and low_high(b, "inherits")[0] < 150:
                time.sleep(0.2)
            lo, hi = low_high(b, "inherits")
            assert hi == 200 and 150 <= lo < 200, (lo, hi)

            kp = KafkaAdminClient(bootstrap_servers=b.bootstrap)

            def described(rtype, name):
                r = kp.describe_configs([KpConfigResource(rtype, name)], include_synonyms=True)[0]
                return {e[0]: (e[1], e[3], [tuple(s[:3]) for s in e[5]]) for e in r.resources[0][4]}

            static, default = 4, 5
            retention_ms = ("1000", static, [("log.retention.ms", "1000", static),
                                             ("log.retention.hours", "168", static),
                                             ("log.retention.hours", "168", default)])
            node = described(ConfigResourceType.BROKER, "1")
            topic = described(ConfigResourceType.TOPIC, "inherits")
            kp.close()
            assert node["log.retention.ms"] == retention_ms
            assert node["log.retention.hours"] == ("168", static, [("log.retention.hours", "168", static),
                                                                   ("log.retention.hours", "168", default)])
            # a key with no default of its own and not given is null, as in Kafka
            assert node["log.retention.minutes"] == (None, default, [])
            assert node["log.roll.ms"] == (None, default, [])
            assert node["log.roll.hours"] == ("2", static, [("log.roll.hours", "2", static),
                                                             ("log.roll.hours", "168", default)])
            assert topic["retention.ms"] == retention_ms
            # Kafka lists a topic default's synonyms from its millisecond key on: none here
            assert topic["segment.ms"] == (str(2 * 3600 * 1000), default, [])
        finally:
            b.stop()


def test_compaction_keeps_the_newest_value_per_key():
    with tempfile.TemporaryDirectory(prefix="fjord-compact-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            admin.create_topics([NewTopic("table", 1, 1, config={
                "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01"})])[
                "table"].result()
            p = produce_rounds(b, "table")
            p.flush(20)
            # a record without a key has no place in a compacted log: Kafka refuses it
            refused = []
            p.produce("table", value=b"no key", on_delivery=lambda err, msg: refused.append(err))
            p.flush(20)
            assert [e.code() for e in refused] == [KafkaError.INVALID_RECORD]

            def read_all():
                c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "t", "auto.offset.reset": "earliest",
                              "enable.auto.commit": False})
                c.assign([TopicPartition("table", 0, -2)])
                out = []
                end = time.time() + 10
                while time.time() < end:
                    m = c.poll(0.5)
                    if m is None:
                        if out:
                            break
                        continue
                    if m.error() is None:
                        out.append((m.offset(), m.key(), m.value()))
                c.close()
                return out

            deadline = time.time() + 15
            records = read_all()
            while time.time() < deadline and len(records) > 250:
                time.sleep(0.3)
                records = read_all()
            assert len(records) < 250, f"{len(records)} records: compaction did not run"
            latest = {}
            for _offset, key, value in records:
                latest[key] = value
            assert latest == {b"key%d" % k: b"round-49" for k in range(10)}
            offsets = [o for o, _k, _v in records]
            assert offsets == sorted(offsets) and offsets[-1] == 499  # offsets kept, gaps allowed
        finally:
            b.stop()


def test_compaction_lags():
    """min.compaction.lag.ms keeps records that young out of compaction; a compacted
    topic's active segment rolls by max.compaction.lag.ms (Kafka's maxSegmentMs), so a
    superseded record does not stay behind in it."""
    import glob

    def read_all(b, topic, expect):
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "t", "enable.auto.commit": False})
        c.assign([TopicPartition(topic, 0, -2)])
        out, end = [], time.time() + 10
        while len(out) < expect and time.time() < end:
            m = c.poll(0.5)
            if m is None and out:
                break  # the end of what there is
            if m is not None and m.error() is None:
                out.append((m.offset(), m.value()))
        c.close()
        return out

    with tempfile.TemporaryDirectory(prefix="fjord-compact-lag-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            fs = admin.create_topics([
                NewTopic("young", 1, 1, config={"cleanup.policy": "compact", "segment.bytes": "2048",
                                                "min.cleanable.dirty.ratio": "0.01",
                                                "min.compaction.lag.ms": "3600000"}),
                NewTopic("rolled", 1, 1, config={"cleanup.policy": "compact", "max.compaction.lag.ms": "1000"})])
            for f in fs.values():
                f.result()
            p = produce_rounds(b, "young")
            now = int(time.time() * 1000)
            for i in range(3):  # two seconds apart in record time
                p.produce("rolled", key=b"k", value=b"v%d" % i, timestamp=now + 2000 * i)
                p.flush(10)
            p.flush(20)
            segments = sorted(glob.glob(f"{b.data_dir}/data/rolled-0/*.log"))
            assert len(segments) == 3, segments
            deadline = time.time() + 10
            while time.time() < deadline and len(read_all(b, "rolled", 3)) > 2:
                time.sleep(0.3)
            assert read_all(b, "rolled", 3) == [(1, b"v1"), (2, b"v2")]  # v0 compacted away
            # young's records were acknowledged before rolled's, so the cleaner pass that
            # compacted rolled saw them too; without the lag they compact (the test above)
            assert len(read_all(b, "young", 500)) == 500
        finally:
            b.stop()


def test_cleaner_settings_from_server_properties():
    """Kafka's log.cleaner.* keys in server.properties: the defaults of the topic configs
    they stand for, and log.cleaner.enable=false stops compaction."""
    from confluent_kafka.admin import ConfigResource
    with tempfile.TemporaryDirectory(prefix="fjord-cleaner-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200", "log.cleaner.enable=false",
                             "log.cleaner.min.cleanable.ratio=0.01", "log.cleaner.delete.retention.ms=1000",
                             "log.cleaner.min.compaction.lag.ms=5", "log.cleaner.threads=2"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            admin.create_topics([NewTopic("kept", 1, 1, config={"cleanup.policy": "compact",
                                                                 "segment.bytes": "2048"})])["kept"].result()
            res = ConfigResource(ConfigResource.Type.TOPIC, "kept")
            cfg = admin.describe_configs([res])[res].result()
            assert (cfg["min.cleanable.dirty.ratio"].value, cfg["delete.retention.ms"].value,
                    cfg["min.compaction.lag.ms"].value) == ("0.01", "1000", "5")
            p = produce_rounds(b, "kept")
            p.flush(20)
            time.sleep(2)  # ten retention passes
            c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "t", "enable.auto.commit": False})
            c.assign([TopicPartition("kept", 0, 0)])
            n = 0
            while n < 500:
                m = c.poll(5)
                assert m is not None and m.error() is None
                n += 1
            c.close()
            log = open(b.log_path).read()
            assert "unknown config key log.cleaner" not in log
        finally:
            b.stop()
