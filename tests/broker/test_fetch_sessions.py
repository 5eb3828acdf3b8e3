"""Incremental fetch sessions (KIP-227), driven with kafka-python's Fetch v11 encoding:
a full fetch opens a session, incremental fetches name only changed partitions and
get only partitions with news, and epochs and ids are checked."""
import threading
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.api import Request
from kafka.protocol.fetch import FetchResponse_v11
from kafka.protocol.types import Array, Int8, Int32, Int64, Schema, String

from conftest import call



class FetchRequest_v11(Request):
    # kafka-python 2.0.2's own v11 schema declares forgotten_topics_data's topic with the
    # String class rather than an instance and cannot encode it: the same schema, fixed.
    API_KEY, API_VERSION, RESPONSE_TYPE = 1, 11, FetchResponse_v11
    SCHEMA = Schema(
        ("replica_id", Int32), ("max_wait_time", Int32), ("min_bytes", Int32), ("max_bytes", Int32),
        ("isolation_level", Int8), ("session_id", Int32), ("session_epoch", Int32),
        ("topics", Array(("topic", String("utf-8")),
                         ("partitions", Array(("partition", Int32), ("current_leader_epoch", Int32),
                                              ("fetch_offset", Int64), ("log_start_offset", Int64),
                                              ("max_bytes", Int32))))),
        ("forgotten_topics_data", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))),
        ("rack_id", String("utf-8")))


FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71


def fetch(broker, session_id, epoch, partitions=(), forgotten=(), max_wait=0, min_bytes=0):
    topics = [("fs", [(p, -1, offset, -1, 1 << 20) for p, offset in partitions])] if partitions else []
    forgotten_data = [("fs", list(forgotten))] if forgotten else []
    return call(broker, FetchRequest_v11(-1, max_wait, min_bytes, 1 << 24, 0, session_id, epoch, topics,
                                         forgotten_data, ""))


def partitions_of(resp):
    """{partition: (error, high watermark, record bytes)} of a Fetch v11 response."""
    out = {}
    for _topic, parts in resp.topics:
        for p in parts:
            out[p[0]] = (p[1], p[2], len(p[7] or b""))
    return out


def produce(broker, partition, n):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(n):
        p.produce("fs", value=b"v%d" % i, partition=partition)
    p.flush(10)


def test_fetch_session_lifecycle(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fs", 3, 1)])["fs"].result()
    produce(broker, 0, 5)
    produce(broker, 1, 5)

    full = fetch(broker, 0, 0, [(0, 0), (1, 0), (2, 0)])
    assert full.error_code == 0 and full.session_id != 0
    sid = full.session_id
    parts = partitions_of(full)
    assert sorted(parts) == [0, 1, 2]
    assert parts[0][1] == 5 and parts[0][2] > 0 and parts[2] == (0, 0, 0)

    # The client moved p0 and p1 to their ends: nothing new anywhere, so nothing is sent.
    inc = fetch(broker, sid, 1, [(0, 5), (1, 5)])
    assert inc.error_code == 0 and inc.session_id == sid
    assert partitions_of(inc) == {}

    # New records on p1 only: an incremental fetch naming no partitions gets just p1.
    produce(broker, 1, 3)
    inc = fetch(broker, sid, 2)
    parts = partitions_of(inc)
    assert list(parts) == [1] and parts[1][1] == 8 and parts[1][2] > 0

    # A repeated or skipped epoch, and an unknown session, are refused.
    assert fetch(broker, sid, 2).error_code == INVALID_FETCH_SESSION_EPOCH
    assert fetch(broker, sid, 9).error_code == INVALID_FETCH_SESSION_EPOCH
    assert fetch(broker, sid + 1000, 1).error_code == FETCH_SESSION_ID_NOT_FOUND

    # Forgetting p1 (and advancing it): later records on p1 are no news for this session.
    inc = fetch(broker, sid, 3, [(1, 8)], forgotten=[1])
    assert inc.error_code == 0
    produce(broker, 1, 2)
    assert partitions_of(fetch(broker, sid, 4)) == {}

    # A long poll on the session wakes up for an append on one of its partitions.
    threading.Timer(0.5, produce, args=(broker, 2, 1)).start()
    started = time.time()
    inc = fetch(broker, sid, 5, max_wait=5000, min_bytes=1)
    assert time.time() - started < 4
    parts = partitions_of(inc)
    assert list(parts) == [2] and parts[2][1] == 1

    # Epoch -1 closes the session (and is itself a sessionless full fetch).
    closed = fetch(broker, sid, -1, [(0, 0)])
    assert closed.error_code == 0 and closed.session_id == 0 and list(partitions_of(closed)) == [0]
    assert fetch(broker, sid, 6).error_code == FETCH_SESSION_ID_NOT_FOUND


def test_sessionless_fetch_returns_every_partition(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fs", 3, 1)])["fs"].result()
    resp = fetch(broker, 0, -1, [(0, 0), (1, 0), (2, 0)])
    assert resp.session_id == 0 and sorted(partitions_of(resp)) == [0, 1, 2]


def test_aborted_transactions_listed_only_for_read_committed(broker):
    """Kafka's Fetch answer: a read_committed fetch lists the aborted transactions among
    what it read (an empty list here), a read_uncommitted one and an error have none
    (null)."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fs", 1, 1)])["fs"].result()
    produce(broker, 0, 3)
    for isolation, expected in ((0, None), (1, [])):
        topics = [("fs", [(0, -1, 0, -1, 1 << 20), (7, -1, 0, -1, 1 << 20)])]
        resp = call(broker, FetchRequest_v11(-1, 0, 0, 1 << 24, isolation, 0, -1, topics, [], ""))
        parts = {p[0]: p for p in resp.topics[0][1]}
        assert parts[0][1] == 0 and parts[0][5] == expected and len(parts[0][7]) > 0
        assert parts[7][1] == 3 and parts[7][5] is None  # UNKNOWN_TOPIC_OR_PARTITION


def test_fetch_max_bytes_caps_an_answer(tmp_path):
    """The broker's fetch.max.bytes bounds a Fetch answer below the request's own
    max_bytes, as in Kafka (the first batch still goes out whole)."""
    from kafka.protocol.fetch import FetchRequest
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from conftest import Broker, call

    b = Broker(str(tmp_path), extra=["fetch.max.bytes=2048"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("capped", 1, 1)])["capped"].result()
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
        for i in range(10):
            p.produce("capped", value=b"%04d" % i * 250)
            p.flush(10)
        records = call(b, FetchRequest[4](-1, 100, 1, 1 << 20, 0, [("capped", [(0, 0, 1 << 20)])])).topics[0][1][0][-1]
        assert 1000 < len(records) <= 2048  # one ~1 KB batch of the ten
    finally:
        b.stop()
