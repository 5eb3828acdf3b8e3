"""Topic configs: validated at creation, persisted, described with Kafka's sources and
synonyms, and applied (max.message.bytes, message.timestamp.type, preallocate)."""
import os

from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic


def describe(admin, rtype, name):
    res = ConfigResource(rtype, name)
    return admin.describe_configs([res])[res].result()


def test_topic_configs_round_trip_and_restart(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    t = NewTopic("cfg", 1, 1, config={"retention.ms": "3600000", "cleanup.policy": "compact"})
    admin.create_topics([t])["cfg"].result()
    for bad in [{"no.such.config": "1"}, {"retention.ms": "soon"}, {"cleanup.policy": "shred"},
                # Kafka's bounds (LogConfig's validators), in its words
                {"min.insync.replicas": "0"}, {"retention.ms": "-2"}, {"segment.ms": "0"},
                {"max.compaction.lag.ms": "0"}, {"min.cleanable.dirty.ratio": "1.5"}, {"flush.messages": "0"},
                {"compression.gzip.level": "0"}, {"compression.lz4.level": "18"}, {"compression.zstd.level": "23"},
                {"segment.jitter.ms": "-1"}, {"leader.replication.throttled.replicas": "0:x"},
                {"message.format.version": "banana"}, {"message.format.version": "3.9-IV1"},
                {"message.format.version": "4"}, {"message.format.version": "0.10"}]:
        try:
            admin.create_topics([NewTopic("bad-cfg", 1, 1, config=bad)])["bad-cfg"].result()
            raise AssertionError(f"{bad} should be refused")
        except KafkaException as e:
            assert e.args[0].code() == 40  # INVALID_CONFIG
            if "no.such.config" in bad:  # Kafka's LogConfig.validateNames words
                assert e.args[0].str() == "Unknown topic config name: no.such.config"
            if "min.insync.replicas" in bad:
                assert e.args[0].str() == "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"
            if bad.get("message.format.version") == "banana":
                assert e.args[0].str() == ("Invalid value banana for configuration message.format.version: "
                                           "Version banana is not a valid version")
    # no tiered storage: refused as Kafka refuses it with remote.log.storage.system.enable=false
    try:
        admin.create_topics([NewTopic("tiered", 1, 1, config={"remote.storage.enable": "true"})])["tiered"].result()
        raise AssertionError("remote.storage.enable=true should be refused")
    except KafkaException as e:
        assert e.args[0].code() == 40 and "Tiered Storage functionality is disabled in the broker" in e.args[0].str()
    admin.create_topics([NewTopic("edge-cfg", 1, 1, config={"retention.ms": "-1", "min.cleanable.dirty.ratio": "1",
                                                             "local.retention.ms": "-2", "compression.gzip.level": "-1",
                                                             "follower.replication.throttled.replicas": "*",
                                                             "leader.replication.throttled.replicas": "0:1,1:1"})])[
        "edge-cfg"].result()
    # Kafka's version names, full or short; after major.minor (three parts for 0.x) its
    # parser ignores the rest
    for i, version in enumerate(["2.8-IV1", "3.9", "3.7-IV4", "0.8.2", "0.10.0.1", "3.0.5"]):
        admin.create_topics([NewTopic(f"mfv-{i}", 1, 1, config={"message.format.version": version})])[
            f"mfv-{i}"].result()
    # every topic config Kafka 3.9 has is there, with Kafka's defaults for the newer ones
    every = describe(admin, ConfigResource.Type.TOPIC, "edge-cfg")
    assert len(every) == 36
    assert {k: every[k].value for k in ("compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
                                        "message.downconversion.enable", "message.format.version",
                                        "message.timestamp.difference.max.ms", "segment.jitter.ms",
                                        "remote.log.copy.disable")} == {
        "compression.gzip.level": "-1", "compression.lz4.level": "9", "compression.zstd.level": "3",
        "message.downconversion.enable": "true", "message.format.version": "3.0-IV1",
        "message.timestamp.difference.max.ms": "9223372036854775807", "segment.jitter.ms": "0",
        "remote.log.copy.disable": "false"}
    for _ in range(2):  # before and after a restart
        cfg = describe(admin, ConfigResource.Type.TOPIC, "cfg")
        assert cfg["retention.ms"].value == "3600000"
        assert cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        assert cfg["cleanup.policy"].value == "compact"
        assert cfg["segment.bytes"].value == "1073741824"
        assert cfg["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
        assert cfg["max.message.bytes"].value == "1048588"
        broker.stop()
        broker.start()
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    # the broker's num.partitions=6 was set explicitly (static), node.id was not
    b = describe(admin, ConfigResource.Type.BROKER, "1")
    assert b["num.partitions"].value == "6"
    assert b["num.partitions"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert b["node.id"].source == ConfigSource.DEFAULT_CONFIG.value
    try:
        describe(admin, ConfigResource.Type.TOPIC, "missing")
        raise AssertionError("unknown topic should fail")
    except KafkaException as e:
        assert e.args[0].code() == 3
    # a name no topic could have: INVALID_TOPIC_EXCEPTION in Kafka's words (Topic.validate)
    for name, message in [("bad name", 'Topic name "bad name" is illegal, it contains a character other than '
                                       "ASCII alphanumerics, '.', '_' and '-'"),
                          ("..", 'Topic name cannot be "." or ".."'),
                          ("x" * 250, "Topic name is illegal, it can't be longer than 249 characters, topic name: "
                           + "x" * 250)]:
        try:
            describe(admin, ConfigResource.Type.TOPIC, name)
            raise AssertionError(f"{name} should be refused")
        except KafkaException as e:
            assert (e.args[0].code(), e.args[0].str()) == (17, message)


def test_applied_topic_configs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("small", 1, 1, config={"max.message.bytes": "2000"}),
                         NewTopic("stamped", 1, 1, config={"message.timestamp.type": "LogAppendTime"})])["small"].result()
    errors = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    p.produce("small", value=b"x" * 500, on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    p.produce("small", value=b"x" * 5000, on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors[0] is None
    assert errors[1] is not None and errors[1].code() == 10  # MESSAGE_TOO_LARGE (MSG_SIZE_TOO_LARGE)
    p.produce("stamped", value=b"v", timestamp=1000)
    p.flush(10)
    # no auto-commit: there is no group coordinator yet (issue 5) to commit to
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "x", "enable.auto.commit": False})
    c.assign([TopicPartition("stamped", 0, 0)])
    m = c.poll(10)
    c.close()
    ts_type, ts = m.timestamp()
    assert ts_type == TIMESTAMP_LOG_APPEND_TIME and ts > 1000


def test_min_insync_replicas(broker):
    """min.insync.replicas above the in-sync set's size (one replica, this node) refuses
    acks=all with NOT_ENOUGH_REPLICAS, as Kafka's leader does; acks=1 is not affected. The
    broker's own setting (here set dynamically for this broker) counts where the topic has
    no override."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("isr-two", 1, 1, config={"min.insync.replicas": "2"}),
                         NewTopic("isr-default", 1, 1)])["isr-two"].result()

    def produce(topic, acks):
        errors = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": acks, "retries": 0, "linger.ms": 0})
        p.produce(topic, value=b"v", on_delivery=lambda e, m: errors.append(e))
        p.flush(10)
        return errors[0].code() if errors[0] else 0

    assert produce("isr-two", "all") == 19  # NOT_ENOUGH_REPLICAS
    assert produce("isr-two", "1") == 0
    assert produce("isr-default", "all") == 0
    default = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"min.insync.replicas": "2"})
    admin.alter_configs([default])[default].result()
    assert produce("isr-default", "all") == 19
    cfg = describe(admin, ConfigResource.Type.TOPIC, "isr-default")["min.insync.replicas"]
    assert cfg.value == "2" and cfg.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    admin.alter_configs([ConfigResource(ConfigResource.Type.BROKER, "1", set_config={})])[default].result()
    assert produce("isr-default", "all") == 0


def test_compression_type_rewrites_batches(broker):
    """compression.type other than "producer" stores every batch in that codec, as Kafka
    does: the records come back unchanged, the stored batch's codec is the topic's, and a
    batch too large once rewritten gets MESSAGE_TOO_LARGE. The broker's compression.type
    is the default of topics without an override."""
    import struct
    from kafka.protocol.fetch import FetchRequest
    from conftest import call

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    fs = admin.create_topics([NewTopic("cz-gzip", 1, 1, config={"compression.type": "gzip"}),
                              NewTopic("cz-plain", 1, 1, config={"compression.type": "uncompressed"}),
                              NewTopic("cz-producer", 1, 1),
                              NewTopic("cz-small", 1, 1, config={"compression.type": "uncompressed",
                                                                  "max.message.bytes": "4000"})])
    for f in fs.values():
        f.result()
    sent = [(b"k%d" % i, b"value-%d-" % i * 20, [("h", b"%d" % i)]) for i in range(200)]

    def produce(topic, codec):
        errors = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": codec, "linger.ms": 20,
                      "retries": 0})
        for k, v, h in sent:
            p.produce(topic, key=k, value=v, headers=h, on_delivery=lambda e, m: errors.append(e))
        p.flush(10)
        return {e.code() if e else 0 for e in errors}

    def stored_codecs(topic):
        r = call(broker, FetchRequest[4](-1, 100, 1, 1 << 24, 0, [(topic, [(0, 0, 1 << 24)])]))
        records, codecs, pos = r.topics[0][1][0][-1], set(), 0
        while pos + 23 <= len(records):
            length = struct.unpack(">i", records[pos + 8: pos + 12])[0]
            codecs.add(struct.unpack(">h", records[pos + 21: pos + 23])[0] & 7)
            pos += 12 + length
        return codecs

    def consumed(topic):
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "cz", "enable.auto.commit": False})
        c.assign([TopicPartition(topic, 0, 0)])
        got = []
        while len(got) < len(sent):
            m = c.poll(10)
            assert m is not None and m.error() is None
            got.append((m.key(), m.value(), m.headers()))
        c.close()
        return got

    assert produce("cz-gzip", "none") == {0} and produce("cz-plain", "lz4") == {0}
    assert produce("cz-producer", "lz4") == {0}
    assert stored_codecs("cz-gzip") == {1} and stored_codecs("cz-plain") == {0}
    assert stored_codecs("cz-producer") == {3}
    for topic in ("cz-gzip", "cz-plain", "cz-producer"):
        assert consumed(topic) == sent
    # one record of 20,000 bytes of one letter: tiny gzipped, too large once stored plain
    errors = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": "gzip", "retries": 0})
    p.produce("cz-small", value=b"a" * 20000, on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert [e.code() if e else 0 for e in errors] == [10]  # MESSAGE_TOO_LARGE

    this_broker = ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"compression.type": "zstd"})
    admin.alter_configs([this_broker])[this_broker].result()
    admin.create_topics([NewTopic("cz-default", 1, 1)])["cz-default"].result()
    cfg = describe(admin, ConfigResource.Type.TOPIC, "cz-default")["compression.type"]
    assert cfg.value == "zstd" and cfg.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    assert produce("cz-default", "none") == {0} and stored_codecs("cz-default") == {4}


def test_timestamp_bounds_kip_937(broker):
    """message.timestamp.before/after.max.ms: CreateTime records too far from the
    broker's clock get INVALID_TIMESTAMP; LogAppendTime topics are not checked."""
    import time
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    bounded = {"message.timestamp.before.max.ms": "60000", "message.timestamp.after.max.ms": "60000"}
    admin.create_topics([NewTopic("bounded", 1, 1, config=bounded),
                         NewTopic("bounded-append", 1, 1,
                                  config=dict(bounded, **{"message.timestamp.type": "LogAppendTime"}))])["bounded"].result()
    now = int(time.time() * 1000)
    results = {}
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "retries": 0})
    for topic in ("bounded", "bounded-append"):
        for name, ts in (("now", now), ("future", now + 3600_000), ("past", now - 3600_000)):
            p.produce(topic, value=b"v", timestamp=ts,
                      on_delivery=lambda e, m, k=(topic, name): results.__setitem__(k, e))
            p.flush(10)
    # the deprecated message.timestamp.difference.max.ms bounds a side left unset (Kafka 3.9)
    admin.create_topics([NewTopic("bounded-difference", 1, 1,
                                  config={"message.timestamp.difference.max.ms": "60000"})])["bounded-difference"].result()
    for name, ts in (("now", now), ("future", now + 3600_000), ("past", now - 3600_000)):
        p.produce("bounded-difference", value=b"v", timestamp=ts,
                  on_delivery=lambda e, m, k=("bounded-difference", name): results.__setitem__(k, e))
        p.flush(10)
    assert results[("bounded-difference", "now")] is None
    assert results[("bounded-difference", "future")].code() == 32 and results[("bounded-difference", "past")].code() == 32
    assert results[("bounded", "now")] is None
    assert results[("bounded", "future")].code() == 32  # INVALID_TIMESTAMP
    assert results[("bounded", "past")].code() == 32
    assert all(results[("bounded-append", n)] is None for n in ("now", "future", "past"))
    cfg = describe(admin, ConfigResource.Type.TOPIC, "bounded")
    assert cfg["message.timestamp.after.max.ms"].value == "60000"
    b = describe(admin, ConfigResource.Type.BROKER, "1")
    assert b["log.message.timestamp.after.max.ms"].value == "9223372036854775807"


def test_preallocate_reserves_disk_blocks_ahead(broker):
    """preallocate=true: the active segment holds disk blocks past its size; a topic with
    the default (log.preallocate=false, as Kafka's) does not; the file's size is always
    the data's, and a clean stop gives the blocks back."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    fs = admin.create_topics([NewTopic("pre-on", 1, 1, config={"preallocate": "true"}), NewTopic("pre-off", 1, 1)])
    for f in fs.values():
        f.result()
    on = describe(admin, ConfigResource.Type.TOPIC, "pre-on")["preallocate"]
    assert on.value == "true" and on.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    off = describe(admin, ConfigResource.Type.TOPIC, "pre-off")["preallocate"]
    assert off.value == "false" and off.source == ConfigSource.DEFAULT_CONFIG.value

    def segment(topic):
        path = f"{broker.data_dir}/data/{topic}-0/{0:020d}.log"
        st = os.stat(path)
        return st.st_size, st.st_blocks * 512 - (st.st_size + 4095) // 4096 * 4096

    # One acknowledged append at a time: the reserve left shrinks as appends use it, so
    # it is looked at after each; right after the append that grew it, at least 64 KiB
    # lie ahead.
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    on_reserved = off_reserved = 0
    for i in range(300):
        for t in ("pre-on", "pre-off"):
            p.produce(t, value=os.urandom(1000))
        assert p.flush(20) == 0
        on_reserved = max(on_reserved, segment("pre-on")[1])
        off_reserved = max(off_reserved, segment("pre-off")[1])
    on_size, off_size = segment("pre-on")[0], segment("pre-off")[0]
    assert on_size > 300_000 and off_size > 300_000
    assert on_reserved >= 64 << 10, on_reserved
    assert off_reserved < 64 << 10, off_reserved
    broker.stop()
    size, reserved = segment("pre-on")
    assert size == on_size and reserved < 64 << 10, reserved
    broker.start()
