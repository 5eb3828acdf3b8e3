"""AlterConfigs, IncrementalAlterConfigs (topics, brokers, cluster defaults),
DescribeLogDirs, DescribeProducers, DescribeTopicPartitions, OffsetForLeaderEpoch and
ListOffsets, through confluent-kafka, kafka-python and @platformatic/kafka; and Kafka's
INVALID_REQUEST answers to a topic or resource named twice in one admin request."""
import json
import os

import pytest

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType
from kafka.protocol.admin import AlterConfigsRequest_v0, DescribeConfigsRequest_v1
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Int8, Int16, Int32, Int64, Schema, String, Boolean

from conftest import call, rss_mib, run_platformatic


def describe(admin, rtype, name, keys=None):
    res = ConfigResource(rtype, name)
    return admin.describe_configs([res])[res].result()


def alter_error(admin, rtype, name, configs):
    res = ConfigResource(rtype, name, set_config=configs)
    try:
        admin.alter_configs([res])[res].result()
        return 0
    except KafkaException as e:
        return e.args[0].code()


def test_alter_topic_configs_kafka_python_replaces_all(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("alt", 1, 1, config={"retention.ms": "1000", "segment.bytes": "100000"})])["alt"].result()
    kp = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    resp = kp.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, "alt", configs={"retention.ms": "5000"})])
    assert resp.resources[0][0] == 0, resp
    kp.close()
    for _ in range(2):  # and after a restart
        cfg = describe(admin, ConfigResource.Type.TOPIC, "alt")
        assert cfg["retention.ms"].value == "5000"
        assert cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        # legacy AlterConfigs replaces the whole set: segment.bytes went back to the default
        assert cfg["segment.bytes"].value == "1073741824"
        assert cfg["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
        broker.stop()
        broker.start()
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert alter_error(admin, ConfigResource.Type.TOPIC, "alt", {"retention.ms": "soon"}) == 40  # INVALID_CONFIG
    assert alter_error(admin, ConfigResource.Type.TOPIC, "alt", {"no.such.config": "1"}) == 40
    assert alter_error(admin, ConfigResource.Type.TOPIC, "missing", {"retention.ms": "1"}) == 3
    # validate_only changes nothing
    res = ConfigResource(ConfigResource.Type.TOPIC, "alt", set_config={"retention.ms": "7"})
    admin.alter_configs([res], validate_only=True)[res].result()
    assert describe(admin, ConfigResource.Type.TOPIC, "alt")["retention.ms"].value == "5000"


def test_altered_config_applies_to_an_open_log(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("grow", 1, 1)])["grow"].result()
    errors = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "message.max.bytes": 100000})
    p.produce("grow", value=b"x" * 5000, on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors == [None]  # the log is open now
    assert alter_error(admin, ConfigResource.Type.TOPIC, "grow", {"max.message.bytes": "2000"}) == 0
    p.produce("grow", value=b"x" * 5000, on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors[1] is not None and errors[1].code() == 10  # MSG_SIZE_TOO_LARGE


def test_dynamic_broker_configs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("dyn", 1, 1)])["dyn"].result()
    # a cluster-wide default (resource name "": librdkafka refuses an empty name, so
    # kafka-python sets it) and a per-broker value over it
    kp = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    resp = kp.alter_configs([KpConfigResource(ConfigResourceType.BROKER, "", configs={"log.retention.ms": "111"})])
    assert resp.resources[0][0] == 0, resp
    kp.close()
    topic = describe(admin, ConfigResource.Type.TOPIC, "dyn")
    assert topic["retention.ms"].value == "111"
    assert topic["retention.ms"].source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value
    assert alter_error(admin, ConfigResource.Type.BROKER, "1", {"log.retention.ms": "222"}) == 0
    for _ in range(2):
        b = describe(admin, ConfigResource.Type.BROKER, "1")
        assert b["log.retention.ms"].value == "222"
        assert b["log.retention.ms"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
        assert not b["log.retention.ms"].is_read_only
        assert b["listeners"].is_read_only
        topic = describe(admin, ConfigResource.Type.TOPIC, "dyn")
        assert topic["retention.ms"].value == "222"
        assert topic["retention.ms"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
        # kafka-python's admin refuses the "" name too: its DescribeConfigs v1 encoding, sent raw
        cluster = call(broker, DescribeConfigsRequest_v1(resources=[(4, "", None)], include_synonyms=False))
        node = call(broker, DescribeConfigsRequest_v1(resources=[(4, "1", ["log.retention.ms"])], include_synonyms=True))
        entries = cluster.resources[0][4]
        assert [(e[0], e[1]) for e in entries] == [("log.retention.ms", "111")]  # only what is set cluster-wide
        # synonyms, most specific first: this broker's value, the cluster default, then as
        # Kafka the default of log.retention.hours (log.retention.ms has none of its own)
        (retention,) = node.resources[0][4]
        assert [tuple(s[:3]) for s in retention[5]] == [
            ("log.retention.ms", "222", 2), ("log.retention.ms", "111", 3), ("log.retention.hours", "168", 5)]
        broker.stop()
        broker.start()
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert alter_error(admin, ConfigResource.Type.BROKER, "1", {"listeners": "PLAINTEXT://:1"}) == 42  # INVALID_REQUEST
    assert alter_error(admin, ConfigResource.Type.BROKER, "1", {"log.retention.ms": "x"}) == 40
    # another broker's id (librdkafka would route it to that broker: sent raw)
    r = call(broker, AlterConfigsRequest_v0(resources=[(4, "7", [("log.retention.ms", "1")])], validate_only=False))
    assert r.resources[0][0] == 42
    # an empty name is no broker config: it once matched the first topic config without a
    # broker synonym, and "*" suited that one
    r = call(broker, AlterConfigsRequest_v0(resources=[(4, "1", [("", "*")])], validate_only=False))
    assert r.resources[0][0] == 42, r


# IncrementalAlterConfigs v0 and OffsetForLeaderEpoch v2, DescribeLogDirs v1 encoded by
# kafka-python's protocol types (it has no admin call for them in 2.0.2).
class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY, API_VERSION = 44, 0
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("responses", Array(("error_code", Int16), ("error_message", String("utf-8")),
                                        ("resource_type", Int8), ("resource_name", String("utf-8")))))


class IncrementalAlterConfigsRequest_v0(Request):
    API_KEY, API_VERSION, RESPONSE_TYPE = 44, 0, IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(("resources", Array(("resource_type", Int8), ("resource_name", String("utf-8")),
                                        ("configs", Array(("name", String("utf-8")), ("config_operation", Int8),
                                                          ("value", String("utf-8")))))),
                    ("validate_only", Boolean))


class OffsetForLeaderEpochResponse_v2(Response):
    API_KEY, API_VERSION = 23, 2
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("topics", Array(("topic", String("utf-8")),
                                     ("partitions", Array(("error_code", Int16), ("partition", Int32),
                                                          ("leader_epoch", Int32), ("end_offset", Int64))))))


class OffsetForLeaderEpochRequest_v2(Request):
    API_KEY, API_VERSION, RESPONSE_TYPE = 23, 2, OffsetForLeaderEpochResponse_v2
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")),
                                     ("partitions", Array(("partition", Int32), ("current_leader_epoch", Int32),
                                                          ("leader_epoch", Int32))))))


class DescribeLogDirsResponse_v1(Response):
    API_KEY, API_VERSION = 35, 1
    SCHEMA = Schema(("throttle_time_ms", Int32),
                    ("results", Array(("error_code", Int16), ("log_dir", String("utf-8")),
                                      ("topics", Array(("name", String("utf-8")),
                                                       ("partitions", Array(("partition_index", Int32),
                                                                            ("partition_size", Int64),
                                                                            ("offset_lag", Int64),
                                                                            ("is_future_key", Boolean))))))))


class DescribeLogDirsRequest_v1(Request):
    API_KEY, API_VERSION, RESPONSE_TYPE = 35, 1, DescribeLogDirsResponse_v1
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))


def test_incremental_alter_configs_with_kafka_python_encoding(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("inc", 1, 1)])["inc"].result()

    def alter(*configs):
        r = call(broker, IncrementalAlterConfigsRequest_v0([(2, "inc", list(configs))], False))
        return r.responses[0][0]

    assert alter(("retention.ms", 0, "1234"), ("cleanup.policy", 2, "compact")) == 0
    cfg = describe(admin, ConfigResource.Type.TOPIC, "inc")
    assert cfg["retention.ms"].value == "1234"
    assert cfg["cleanup.policy"].value == "delete,compact"
    assert alter(("cleanup.policy", 3, "delete")) == 0
    assert alter(("retention.ms", 1, None)) == 0
    cfg = describe(admin, ConfigResource.Type.TOPIC, "inc")
    assert cfg["cleanup.policy"].value == "compact"
    assert cfg["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert alter(("retention.ms", 2, "5")) == 40  # APPEND to a non-list: INVALID_CONFIG
    assert alter(("cleanup.policy", 0, "shred")) == 40


def test_offset_for_leader_epoch_and_log_dirs_kafka_python_encoding(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("ep", 2, 1)])["ep"].result()
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(10):
        p.produce("ep", value=b"v%d" % i, partition=0)
    p.flush(10)
    r = call(broker, OffsetForLeaderEpochRequest_v2([("ep", [(0, -1, 0), (1, -1, 0), (7, -1, 0)])]))
    parts = {p[1]: p for p in r.topics[0][1]}
    assert parts[0][0] == 0 and parts[0][2] == 0 and parts[0][3] == 10  # epoch 0 ends at the log end
    # nothing written: the leader's own epoch still starts at the log end (Kafka assigns
    # it when the broker takes the lead)
    assert parts[1][0] == 0 and parts[1][2] == 0 and parts[1][3] == 0
    assert parts[7][0] == 3  # UNKNOWN_TOPIC_OR_PARTITION
    r = call(broker, OffsetForLeaderEpochRequest_v2([("ep", [(0, 5, 0), (0, 0, 3)])]))
    # the client is ahead of us (the code from a client's own table: Kafka's is 75)
    assert r.topics[0][1][0][0] == KafkaError.UNKNOWN_LEADER_EPOCH == 75
    assert r.topics[0][1][1][0] == 0 and r.topics[0][1][1][3] == -1  # epoch 3 is newer than any
    r = call(broker, DescribeLogDirsRequest_v1([("ep", [0, 1])]))
    (error, path, topics), = r.results
    assert error == 0 and os.path.isabs(path) and path.startswith(broker.data_dir)
    sizes = {part[0]: part[1] for part in topics[0][1]}
    assert sizes[0] > 0 and sizes[1] == 0


def test_platformatic_admin_apis(broker):
    r = run_platformatic("platformatic_admin.mjs", broker.bootstrap, "pf")
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    # CreateTopics v5+: the new topic's configs, as Kafka's controller answers them (the
    # admin client hands them to its caller), and a null error message.
    assert len(out["createdConfiguration"]) == 36, out["createdConfiguration"]
    assert out["createdConfiguration"]["retention.ms"] == "604800000"
    assert out["createdConfiguration"]["cleanup.policy"] == "delete"
    for how in ("validateOnly", "created"):
        v7 = out["createTopicsV7"][how]
        assert (v7["errorCode"], v7["errorMessage"], v7["partitions"]) == (0, None, 2), (how, v7)
        assert len(v7["configs"]) == 36
        assert v7["configs"]["retention.ms"] == ["60000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value, False, False]
        assert v7["configs"]["segment.bytes"] == ["1073741824", ConfigSource.DEFAULT_CONFIG.value, False, False]
        assert v7["configs"]["retention.bytes"][1] == ConfigSource.DEFAULT_CONFIG.value
    assert out["afterSet"]["retention.ms"] == ["60000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value]
    assert out["afterSet"]["cleanup.policy"][0] == "delete,compact"
    assert out["afterDelete"]["retention.ms"][1] == ConfigSource.DEFAULT_CONFIG.value
    assert out["afterDelete"]["cleanup.policy"][0] == "compact"
    assert str(out["appendToScalar"]) == "40"
    assert out["metadataById"] == [["pf", True, 0, 3]]
    # Kafka's broker: controllers are asked on a controller's listener (MISMATCHED_ENDPOINT_TYPE)
    assert out["describeClusterEndpoints"] == {
        "2": [114, "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER", 0],
        "3": [115, "Unsupported endpoint type 3", 0]}
    assert out["metadataByUnknownId"] == [[None, "0123abcd-0123-4567-89ab-0123456789ab", 100]]  # UNKNOWN_TOPIC_ID
    # Documentation (DescribeConfigs v3+): a text for every config when asked, as Kafka
    # (a broker synonym's says which topic config it is the default of); null when not.
    topic_docs, broker_docs = out["documentation"]["asked"]
    assert len(topic_docs) == 36 and len(broker_docs) > 50
    for name, doc in {**topic_docs, **broker_docs}.items():
        assert isinstance(doc, str) and len(doc) > 20 and "\n" not in doc, (name, doc)
    assert broker_docs["log.retention.ms"] == (
        "Default of the topic config retention.ms. " + topic_docs["retention.ms"])
    assert "no tiered storage" in topic_docs["local.retention.ms"]
    assert all(doc is None for result in out["documentation"]["notAsked"] for doc in result.values())
    # BROKER_LOGGER: one logger, Kafka's root, at INFO; SET changes it until the node stops
    loggers = out["loggers"]
    dynamic_logger = 6  # DYNAMIC_BROKER_LOGGER_CONFIG (not in confluent-kafka 1.7's ConfigSource)
    assert loggers["before"] == [["root", "INFO", dynamic_logger, False]], loggers
    assert loggers["setWarn"] == 0 and loggers["afterWarn"] == [["root", "WARN", dynamic_logger, False]]
    assert loggers["badLevel"] == 40 and loggers["unknownLogger"] == 40  # INVALID_CONFIG
    assert loggers["append"] == 42 and loggers["deleteRoot"] == 42  # INVALID_REQUEST
    assert loggers["setInfo"] == 0 and loggers["afterInfo"] == loggers["before"]
    assert out["logDir"]["path"].startswith(broker.data_dir)
    assert out["logDir"]["total"] >= out["logDir"]["usable"] > 0
    sizes = dict(out["logDir"]["partitions"])
    assert sizes[0] > 0 and sizes[1] > 0 and sizes[2] == 0  # 0 and 1 were written to
    assert len(out["producers"]) == 1 and out["producers"][0]["lastSequence"] == 3
    assert out["producers"][0]["id"] >= 0
    dtp = out["describeTopicPartitions"]
    # two partitions fit the limit of 2: the cursor points at the third
    assert dtp["topics"] == [["pf", 0, [0, 1]]]
    assert str(out["unknownTopic"]) == "3"
    assert dtp["cursor"] == ["pf", 2]
    assert out["offsetForLeaderEpoch"] == [0, 0, 4]
    # Kafka's answers where the client names leader epochs (partition 0 holds offsets
    # 0-3, all written in epoch 0, the only one; partition 2 is empty)
    assert out["fetchEpochs"] == {
        "aheadOfLeader": [75, -1, None, 0],  # UNKNOWN_LEADER_EPOCH, without offsets
        "sameEpoch": [0, 4, None, 1],
        "pastEpochEnd": [0, 4, [0, 4], 0],  # diverged: epoch 0 ended at 4, no records
        "pastLogEnd": [1, -1, None, 0],  # OFFSET_OUT_OF_RANGE, without offsets
        "unknownEpoch": [1, -1, None, 0],  # epoch 3 is newer than any: its end is unknown
        "emptyPartition": [0, 0, None, 0],  # the leader's epoch starts where its log ends
    }
    assert out["listOffsetsEpochs"] == {"same": [0, 4, 0], "ahead": [75, -1, -1], "none": [0, 4, 0]}
    # Kafka's KafkaApis: a producer id without an epoch, or an epoch without an id, is
    # INVALID_REQUEST (with id and epoch -1, as its error answers); without a
    # transactional id, a given pair is not taken up
    assert out["initProducerId"] == {
        "neither": [0, True, 0], "both": [0, True, 0], "idOnly": [42, True, -1], "epochOnly": [42, True, -1]}
    assert out["acls"] == {"describe": 54, "create": 54, "delete": 54}  # SECURITY_DISABLED
    # Kafka's AclOperation bits (READ 3 ... IDEMPOTENT_WRITE 12) for a topic, the cluster
    # and a group; INT32_MIN where the request did not ask
    topic_ops = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))
    cluster_ops = sum(1 << op for op in (5, 7, 8, 9, 10, 11, 12))
    group_ops = sum(1 << op for op in (3, 6, 8))
    assert out["authorizedOperations"] == {
        "describeTopicPartitions": topic_ops,
        "asked": [topic_ops, cluster_ops, topic_ops, cluster_ops, group_ops],
        "notAsked": [-2**31] * 5,
    }
    assert out["deleteTopicsV6"] == [
        ["pf", 42, "You may not specify both topic name and topic id."],
        [None, 42, "Neither topic name nor id were specified."],
        [None, 42, "Duplicate topic id."],
    ]
    # as Kafka's controller: the name's entry is refused with the id, the id's not answered
    assert out["deleteByNameAndId"] == [["pf", True, 42, "The provided topic name maps to an ID that was already supplied."]]
    assert out["stillThere"] == 0
    # partition 1 holds offsets 0-4 stamped 1000, 5000, 3000 | 4000, 5000
    # [offset, timestamp, leader epoch]: the epoch the offset was written in (the current
    # one for the latest), -1 where no offset is found, as Kafka
    assert out["listOffsets"] == [
        [5, -1, 0],  # latest
        [0, -1, 0],  # earliest
        [1, 5000, 0],  # max timestamp: the first record of the newest stamp, not the last record
        [0, -1, 0],  # earliest local: all of the log is local
        [-1, -1, -1],  # latest tiered: nothing is
        [1, 5000, 0],  # the first record stamped 2000 or later
        [-1, -1, -1],  # none stamped 9000 or later
    ]
    assert str(out["listOffsetsTwice"]) == "42"  # INVALID_REQUEST


def test_describe_topic_partitions_pages_as_kafka_does(broker):
    """@platformatic/kafka follows DescribeTopicPartitions' cursor over pg-a (2
    partitions), pg-b (1) and pg-c (2). Each answer is what Kafka's KRaftMetadataCache
    gives: a topic the partition limit leaves no room for is not listed (before, it was
    listed with no partitions), and the cursor names it at partition 0."""
    r = run_platformatic("platformatic_topic_pages.mjs", broker.bootstrap)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    # named, 2 per answer; pg-zz does not exist
    assert out["named"] == [
        {"topics": [["pg-a", 0, [0, 1]]], "cursor": ["pg-b", 0]},
        {"topics": [["pg-b", 0, [0]], ["pg-c", 0, [0]]], "cursor": ["pg-c", 1]},
        {"topics": [["pg-c", 0, [1]], ["pg-zz", 3, []]], "cursor": None},
    ]
    # all topics, 4 per answer: __consumer_offsets' 50 partitions first, then pg-a fills
    # the 13th answer to the brim; every partition comes once, in order
    pages = out["all"]
    assert len(pages) == 14
    assert pages[-2:] == [
        {"topics": [["__consumer_offsets", 0, [48, 49]], ["pg-a", 0, [0, 1]]], "cursor": ["pg-b", 0]},
        {"topics": [["pg-b", 0, [0]], ["pg-c", 0, [0, 1]]], "cursor": None},
    ]
    seen = [(name, p) for page in pages for name, error, parts in page["topics"] for p in parts]
    assert seen == [("__consumer_offsets", p) for p in range(50)] + [
        ("pg-a", 0), ("pg-a", 1), ("pg-b", 0), ("pg-c", 0), ("pg-c", 1)]
    # a cursor into a topic the request does not name: INVALID_REQUEST for each named
    assert out["cursorNotNamed"] == {"topics": [["pg-a", 42, []], ["pg-c", 42, []]], "cursor": None}
    assert out["cursorPastTheEnd"] == {"topics": [["pg-a", 0, []], ["pg-b", 0, [0]]], "cursor": None}
    # a name no topic could have: INVALID_TOPIC_EXCEPTION
    assert out["badName"] == {"topics": [["no good", 17, []], ["pg-b", 0, [0]]], "cursor": None}


def test_a_topic_named_twice_in_one_admin_request_is_refused(broker):
    """Kafka's controller acts on no entry of a repeated topic name in CreateTopics,
    CreatePartitions or DeleteTopics and answers the name once with INVALID_REQUEST (42);
    the request's other topics are served."""
    from kafka.protocol.admin import CreatePartitionsRequest_v0, CreateTopicsRequest_v1, DeleteTopicsRequest_v1

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topics = lambda: admin.list_topics(timeout=10).topics  # noqa: E731

    r = call(broker, CreateTopicsRequest_v1([("twice", 1, 1, [], []), ("once", 2, 1, [], []),
                                             ("twice", 3, 1, [], [])], 10000, False))
    assert sorted(r.topic_errors) == [("once", 0, None), ("twice", 42, "Duplicate topic name.")]
    assert "twice" not in topics() and len(topics()["once"].partitions) == 2

    r = call(broker, CreatePartitionsRequest_v0([("once", (4, None)), ("once", (6, None))], 10000, False))
    assert r.topic_errors == [("once", 42, "Duplicate topic name.")]
    assert len(topics()["once"].partitions) == 2

    r = call(broker, DeleteTopicsRequest_v1(["once", "once"], 10000))
    assert r.topic_error_codes == [("once", 42)]
    assert "once" in topics()


def test_create_partitions_refusals_are_kafkas(broker):
    from kafka.protocol.admin import CreatePartitionsRequest_v0, CreateTopicsRequest_v1

    call(broker, CreateTopicsRequest_v1([("grow", 3, 1, [], [])], 10000, False))

    def grow(count, assignments=None):
        return call(broker, CreatePartitionsRequest_v0([("grow", (count, assignments))], 10000, True)).topic_errors

    assert grow(3) == [("grow", 37, "Topic already has 3 partition(s).")]  # INVALID_PARTITIONS
    assert grow(2) == [("grow", 37, "The topic grow currently has 3 partition(s); 2 would not be an increase.")]
    assert grow(5, [[1]]) == [  # INVALID_REPLICA_ASSIGNMENT
        ("grow", 39, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.")]
    assert grow(5, [[1], [1]]) == [("grow", 0, None)]
    assert grow(5, [[1, 1], [1]]) == [("grow", 39, "The manual partition assignment includes the broker 1 more than once.")]


def test_one_request_adds_at_most_ten_thousand_partitions(broker):
    """Kafka's controller cap: a CreateTopics or CreatePartitions that would add more than
    10,000 partitions, over all its topics, is refused whole with POLICY_VIOLATION (44). A
    CreatePartitions to 2^31-1 used to build metadata records until the node ran out of
    memory (1.9 GiB of RSS within 10 s, heartbeats to the quorum timing out)."""
    from kafka.protocol.admin import CreatePartitionsRequest_v0, CreateTopicsRequest_v1

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    partitions = lambda t: len(admin.list_topics(timeout=10).topics[t].partitions)  # noqa: E731
    too_many = "Excessively large number of partitions per request."

    def create(topics, validate_only=False):
        return sorted(call(broker, CreateTopicsRequest_v1([(n, p, 1, [], []) for n, p in topics], 10000,
                                                          validate_only)).topic_errors)

    def grow(topics, validate_only=False):
        r = call(broker, CreatePartitionsRequest_v0([(n, (c, None)) for n, c in topics], 10000, validate_only))
        return sorted(r.topic_errors)

    assert create([("huge", 2**31 - 1)]) == [("huge", 44, too_many)]
    assert create([("a", 6000), ("b", 6000)]) == [("a", 44, too_many), ("b", 44, too_many)]
    assert create([("c", 10000)], validate_only=True) == [("c", 0, None)]
    assert create([("g1", 1), ("g2", 1)]) == [("g1", 0, None), ("g2", 0, None)]
    assert not {"huge", "a", "b", "c"} & set(admin.list_topics(timeout=10).topics)

    before = rss_mib(broker.proc.pid)
    assert grow([("g1", 2**31 - 1)]) == [("g1", 44, too_many)]
    assert grow([("g1", 5002), ("g2", 5002)]) == [("g1", 44, too_many), ("g2", 44, too_many)]
    assert grow([("g1", 10001)], validate_only=True) == [("g1", 0, None)]
    assert grow([("g1", -2**31), ("g2", 5000)], validate_only=True)[0][1] == 37  # no increase, no overflow
    assert rss_mib(broker.proc.pid) - before < 64
    assert partitions("g1") == 1 and partitions("g2") == 1
    assert grow([("g1", 3)]) == [("g1", 0, None)] and partitions("g1") == 3


def test_broker_logger_levels_change_what_the_node_logs(tmp_path):
    """BROKER_LOGGER through kafka-python's encoding: WARN silences the INFO lines (here,
    those of shutting down) until the node stops, and a restart is back at INFO, as Kafka
    keeps no logger change. Another broker's id, or none, is INVALID_REQUEST; so is
    the legacy AlterConfigs, as in Kafka."""
    from conftest import Broker

    b = Broker(str(tmp_path)).start()
    try:
        def set_root(level, name="1", validate_only=False):
            r = call(b, IncrementalAlterConfigsRequest_v0([(8, name, [("root", 0, level)])], validate_only))
            return r.responses[0][0]

        def root_level():
            r = call(b, DescribeConfigsRequest_v1(resources=[(8, "1", None)], include_synonyms=False))
            return [(e[0], e[1]) for e in r.resources[0][4]]

        assert set_root("DEBUG", name="7") == 42 and set_root("DEBUG", name="") == 42
        assert set_root("ERROR", validate_only=True) == 0 and root_level() == [("root", "INFO")]
        legacy = call(b, AlterConfigsRequest_v0(resources=[(8, "1", [("root", "WARN")])], validate_only=False))
        assert legacy.resources[0][0] == 42 and root_level() == [("root", "INFO")]
        assert set_root("WARN") == 0 and root_level() == [("root", "WARN")]
        before = b.log_path.read_bytes()
        b.stop()
        assert b.log_path.read_bytes() == before  # "shutting down", "stopped cleanly": INFO
        b.start()
        assert root_level() == [("root", "INFO")]
        b.stop()
        assert b"stopped cleanly" in b.log_path.read_bytes()[len(before):]
    finally:
        b.stop()


def test_manual_assignments_kafka_refuses(broker):
    """CreateTopics with replica assignments: Kafka's controller's checks, codes and words
    (this node is broker 1, the only one)."""
    from kafka.protocol.admin import CreateTopicsRequest_v1

    def create(name, partitions, replicas, assignment):
        (result,) = call(broker, CreateTopicsRequest_v1([(name, partitions, replicas, assignment, [])],
                                                        10000, False)).topic_errors
        return result[1:]

    bad = "The manual partition assignment includes "
    assert create("a1", -1, -1, [(0, [1]), (0, [1])]) == (
        39, "Found multiple manual partition assignments for partition 0")
    assert create("a2", -1, -1, [(0, [])]) == (39, bad + "an empty replica list.")
    assert create("a3", -1, -1, [(0, [9, 1, 7])]) == (39, bad + "broker 7, but no such broker is registered.")
    assert create("a4", -1, -1, [(0, [1, 1])]) == (39, bad + "the broker 1 more than once.")
    assert create("a5", -1, -1, [(0, [1]), (2, [1])]) == (
        39, "partitions should be a consecutive 0-based integer sequence")
    assert create("a6", 2, -1, [(0, [1])]) == (
        42, "A manual partition assignment was specified, but numPartitions was not set to -1.")
    assert create("a7", -1, 1, [(0, [1])]) == (
        42, "A manual partition assignment was specified, but replication factor was not set to -1.")
    assert create("a8", -1, -1, [(1, [1]), (0, [1])]) == (0, None)  # any order, 0 and 1
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topics = admin.list_topics(timeout=10).topics
    assert len(topics["a8"].partitions) == 2 and not any(f"a{i}" in topics for i in range(1, 8))


def test_topic_names_kafka_refuses(broker):
    """'.' and '_' are one character in metric names: a topic may not differ from an
    existing one only there (INVALID_TOPIC_EXCEPTION, 17); the metadata log's name is
    Kafka's own (INVALID_REQUEST, 42)."""
    from kafka.protocol.admin import CreateTopicsRequest_v1

    def create(name):
        (result,) = call(broker, CreateTopicsRequest_v1([(name, 1, 1, [], [])], 10000, False)).topic_errors
        return result[1:]

    assert create("clicks.per_day") == (0, None)
    assert create("clicks_per.day") == (17, "Topic 'clicks_per.day' collides with existing topic: clicks.per_day")
    assert create("clicks-per-day") == (0, None)
    assert create("clicks.per_day")[0] == 36  # itself: TOPIC_ALREADY_EXISTS
    assert create("__cluster_metadata") == (42, "Creation of internal topic __cluster_metadata is prohibited.")
    # a config given without a value is refused, not taken for the default
    r = call(broker, CreateTopicsRequest_v1([("nulls", 1, 1, [], [("retention.ms", None), ("segment.ms", None)])],
                                            10000, False))
    assert r.topic_errors == [("nulls", 40, "Null value not supported for topic configs: retention.ms,segment.ms")]
    # nor is such a name created by a Metadata request (auto.create.topics.enable)
    from kafka.protocol.metadata import MetadataRequest

    (topic,) = call(broker, MetadataRequest[4](["clicks_per.day"], True)).topics
    assert topic[:2] == (17, "clicks_per.day")


def test_alter_configs_shape_checks_come_first(broker):
    """As Kafka's ConfigAdminManager.preprocess: a resource named twice in one request is
    refused at both entries, and a null value (other than IncrementalAlterConfigs' DELETE)
    refuses its resource, each with INVALID_REQUEST (42), and nothing is changed."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("shape", 1, 1)])["shape"].result()
    retention = lambda: describe(admin, ConfigResource.Type.TOPIC, "shape")["retention.ms"]  # noqa: E731

    twice = [(2, "shape", [("retention.ms", 0, "1000")]), (2, "shape", [("retention.ms", 0, "2000")])]
    r = call(broker, IncrementalAlterConfigsRequest_v0(twice, False))
    assert [(e, m) for e, m, _, _ in r.responses] == [(42, "Each resource must appear at most once.")] * 2
    r = call(broker, AlterConfigsRequest_v0([(t, n, [(k, v) for k, _, v in c]) for t, n, c in twice], False))
    assert [(e, m) for e, m, _, _ in r.resources] == [(42, "Each resource must appear at most once.")] * 2
    assert retention().source == ConfigSource.DEFAULT_CONFIG.value
    # a config named twice in one resource: refused by IncrementalAlterConfigs (even with
    # one SET and one DELETE), while legacy AlterConfigs is a map where the last one wins
    r = call(broker, IncrementalAlterConfigsRequest_v0(
        [(2, "shape", [("retention.ms", 0, "1000"), ("retention.ms", 1, None)])], False))
    assert [(e, m) for e, m, _, _ in r.responses] == [(42, "Error due to duplicate config keys")]
    assert retention().source == ConfigSource.DEFAULT_CONFIG.value
    r = call(broker, AlterConfigsRequest_v0([(2, "shape", [("retention.ms", "1000"), ("retention.ms", "2000")])],
                                            False))
    assert r.resources[0][0] == 0 and retention().value == "2000"
    call(broker, AlterConfigsRequest_v0([(2, "shape", [])], False))
    assert retention().source == ConfigSource.DEFAULT_CONFIG.value

    r = call(broker, IncrementalAlterConfigsRequest_v0(
        [(2, "shape", [("retention.ms", 0, "3000"), ("segment.ms", 0, None)])], False))
    assert r.responses[0][:2] == (42, "Null value not supported for : segment.ms")
    r = call(broker, AlterConfigsRequest_v0([(2, "shape", [("retention.ms", "3000"), ("segment.ms", None)])], False))
    assert r.resources[0][:2] == (42, "Null value not supported for : segment.ms")
    assert retention().source == ConfigSource.DEFAULT_CONFIG.value
    # DELETE needs no value; the same request with it is applied
    r = call(broker, IncrementalAlterConfigsRequest_v0(
        [(2, "shape", [("retention.ms", 0, "3000"), ("segment.ms", 1, None)])], False))
    assert r.responses[0][0] == 0 and retention().value == "3000"


def test_topic_deletion_can_be_disabled(tmp_path):
    """delete.topic.enable=false: DeleteTopics is refused whole, TOPIC_DELETION_DISABLED
    from v3 and INVALID_REQUEST before (Kafka's controller), and the topic stays.
    Kafka's sample server.properties starts without warnings about these keys."""
    from kafka.protocol.admin import DeleteTopicsRequest
    from conftest import Broker

    b = Broker(str(tmp_path), extra=["delete.topic.enable=false", "unclean.leader.election.enable=false",
                                     "replica.lag.time.max.ms=30000", "num.replica.fetchers=1",
                                     "queued.max.requests=500", "background.threads=10",
                                     "auto.include.jmx.reporter=true", "offsets.commit.timeout.ms=5000"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("stays", 1, 1)])["stays"].result()
        try:  # librdkafka 2.0 sends DeleteTopics v1
            admin.delete_topics(["stays"])["stays"].result()
            raise AssertionError("deletion should be refused")
        except KafkaException as e:
            assert e.args[0].code() == KafkaError.INVALID_REQUEST
        assert call(b, DeleteTopicsRequest[1](["stays"], 10000)).topic_error_codes == [("stays", 42)]
        assert call(b, DeleteTopicsRequest[3](["stays"], 10000)).topic_error_codes == [
            ("stays", KafkaError.TOPIC_DELETION_DISABLED)]
        assert "stays" in admin.list_topics(timeout=10).topics
        assert "unknown config key" not in open(b.log_path).read()
    finally:
        b.stop()


@pytest.mark.parametrize("overrides, message", [
    (["listeners=SSL://127.0.0.1:0"], "listener SSL is SSL, and fjord serves PLAINTEXT only"),
    (["listener.security.protocol.map=PLAINTEXT:SASL_PLAINTEXT"],
     "listener PLAINTEXT is SASL_PLAINTEXT, and fjord serves PLAINTEXT only"),
    (["listeners=CLIENT://127.0.0.1:0"], "config listeners: listener CLIENT has no security protocol"),
    (["listener.security.protocol.map=PLAINTEXT:PLAINTEXT",
      "listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0", "controller.listener.names=CONTROLLER"],
     "listener CONTROLLER has no security protocol"),
    (["listener.security.protocol.map=PLAINTEXT:TLS"], "TLS is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
    (["authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"],
     "config authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer: fjord has no authorizer"),
    # Listeners and roles Kafka refuses too.
    (["listeners=PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:1"], "config listeners: listener PLAINTEXT is named twice"),
    (["listeners=PLAINTEXT://127.0.0.1:19999,CONTROLLER://127.0.0.1:19999", "controller.listener.names=CONTROLLER"],
     "config listeners: port 19999 is used by both PLAINTEXT and CONTROLLER"),
    (["advertised.listeners=OTHER://127.0.0.1:9092"], "config advertised.listeners: listener OTHER is not one of"),
    (["advertised.listeners=PLAINTEXT://0.0.0.0:9092"], "PLAINTEXT advertises 0.0.0.0, which clients cannot connect to"),
    (["process.roles=broker,controller", "node.id=2", "controller.quorum.voters=1@127.0.0.1:1",
      "listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0", "controller.listener.names=CONTROLLER"],
     "config node.id=2: a controller must be one of controller.quorum.voters (1@127.0.0.1:1)"),
    (["process.roles=broker", "node.id=1", "controller.quorum.voters=1@127.0.0.1:1"],
     "config node.id=1: a broker-only node must not be one of controller.quorum.voters"),
    # The codecs' levels: the same ranges as the topic configs (KIP-390).
    (["compression.gzip.level=0"], "config compression.gzip.level=0: 1 to 9, or -1"),
    (["compression.lz4.level=18"], "config compression.lz4.level=18: 1 to 17"),
    (["compression.zstd.level=-131073"], "config compression.zstd.level=-131073: -131072 to 22"),
    (["compression.zstd.level=fast"], "config compression.zstd.level=fast: -131072 to 22"),
])
def test_listeners_not_served_in_plaintext_stop_start_up(tmp_path, overrides, message):
    """listener.security.protocol.map, resolved as Kafka does: a listener meant for TLS or
    SASL stops start-up with the key named, rather than serve its clients in the clear; so
    does an authorizer, rather than leave every client allowed everything, and what Kafka
    refuses of listeners and roles (a name or port twice, an advertised listener of no
    listener's name or on 0.0.0.0, a controller outside the voters or a broker inside)."""
    import subprocess
    from conftest import BIN

    args = [BIN, "--override", f"log.dirs={tmp_path}/data", "--override", "admin.listener=127.0.0.1:0"]
    for o in overrides:
        args += ["--override", o]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert message in r.stdout + r.stderr, r.stdout + r.stderr


def test_acl_apis_answer_as_kafka_without_an_authorizer(broker):
    """DescribeAcls, CreateAcls and DeleteAcls through kafka-python (v0-v1): SECURITY_DISABLED,
    "No Authorizer is configured.", as Kafka answers with authorizer.class.name unset
    (@platformatic/kafka's v3 calls are in test_platformatic_admin_apis)."""
    import kafka.errors
    from kafka.admin import ACL, ACLFilter, ACLOperation, ACLPermissionType, ResourcePattern, ResourcePatternFilter
    from kafka.admin import ACLResourcePatternType, ResourceType

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        acl = ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                  ResourcePattern(ResourceType.TOPIC, "t", ACLResourcePatternType.LITERAL))
        acl_filter = ACLFilter("User:alice", "*", ACLOperation.ANY, ACLPermissionType.ANY,
                               ResourcePatternFilter(ResourceType.TOPIC, "t", ACLResourcePatternType.LITERAL))
        try:
            admin.describe_acls(acl_filter)
            raise AssertionError("DescribeAcls should be refused")
        except kafka.errors.SecurityDisabledError as e:
            assert "No Authorizer is configured." in str(e)
        created = admin.create_acls([acl])
        assert created["succeeded"] == [] and len(created["failed"]) == 1
        assert created["failed"][0][1] is kafka.errors.SecurityDisabledError  # a class, as kafka-python reports it
        (_, matched, error), = admin.delete_acls([acl_filter])
        assert matched == [] and error is kafka.errors.SecurityDisabledError
    finally:
        admin.close()


def test_describe_quorum_on_a_combined_node(broker):
    """DescribeQuorum (v0 and v2, @platformatic/kafka): the node's one-voter quorum, its
    log end offset the high watermark, its controller endpoint; a partition other than
    __cluster_metadata-0 gets UNKNOWN_TOPIC_OR_PARTITION."""
    r = run_platformatic("platformatic_quorum.mjs", broker.bootstrap)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    for version in ("v0", "v2"):
        assert out[version]["errorCode"] == 0
        (p,) = out[version]["topics"][0]["partitions"]
        assert (p["errorCode"], p["leaderId"]) == (0, 1) and p["leaderEpoch"] >= 1
        (voter,) = p["currentVoters"]
        assert voter["replicaId"] == 1 and voter["logEndOffset"] == p["highWatermark"] > 0
        assert p["observers"] == []
    assert out["v2"]["nodes"] == [{"nodeId": 1, "listeners": [
        {"name": "CONTROLLER", "host": "127.0.0.1", "port": broker.controller_port}]}]
    assert out["v2"]["topics"][0]["partitions"][0]["currentVoters"][0]["lastCaughtUpTimestamp"] > 0
    (wrong,) = out["wrongPartition"]["topics"][0]["partitions"]
    assert (wrong["partitionIndex"], wrong["errorCode"]) == (1, 3)


def test_listener_names_of_ones_own_through_the_security_protocol_map(tmp_path):
    """A listener named CLIENT, mapped to PLAINTEXT, serves clients and is what Metadata
    advertises."""
    from conftest import Broker

    b = Broker(str(tmp_path))
    b.extra = [f"listeners=CLIENT://127.0.0.1:{b.port},CONTROLLER://127.0.0.1:{b.controller_port}",
               f"advertised.listeners=CLIENT://127.0.0.1:{b.port}",
               "listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT"]
    b.start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("named", 1, 1)])["named"].result()
        md = admin.list_topics(timeout=10)
        assert "named" in md.topics and md.brokers[1].port == b.port
        assert "unknown config key" not in open(b.log_path).read()
    finally:
        b.stop()


def test_kafkas_sample_kraft_server_properties_starts_without_warnings(tmp_path):
    """Kafka 3.9's config/kraft/server.properties, ports and paths moved: a node starts from
    it with every key known (none warned about) and serves."""
    import subprocess
    import time
    from conftest import BIN, free_port

    kafka, controller, admin_port = free_port(), free_port(), free_port()
    props = tmp_path / "server.properties"
    props.write_text(f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:{controller}
listeners=PLAINTEXT://:{kafka},CONTROLLER://:{controller}
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:{kafka},CONTROLLER://localhost:{controller}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs={tmp_path}/data
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
""")
    log = tmp_path / "fjord.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([BIN, str(props), "--override", f"admin.listener=127.0.0.1:{admin_port}"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 15
        while "serving Kafka" not in log.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        text = log.read_text()
        assert "serving Kafka" in text, text
        assert "[warning]" not in text, text
        listed = subprocess.run(["kcat", "-b", f"localhost:{kafka}", "-L"], capture_output=True, timeout=30)
        assert listed.returncode == 0 and b"broker 1" in listed.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=20)
