"""A clean stop first ends the client connections: each answers what it has read (a
waiting fetch at once, a waiting join with NOT_COORDINATOR) and reads no more; one whose
client does not read its answers is closed after a while. Then it closes every log, and
each close fsyncs the log's files: with thousands of partitions that takes seconds. The
shards close theirs at the same time, not one after another, and each says how many it
closes and how long that took."""
import re
import socket
import struct
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.group import JoinGroupRequest

from conftest import Broker, recv_exact, send_request

PARTITIONS = 400


def test_shards_close_their_logs_at_once_and_say_so(tmp_path):
    b = Broker(str(tmp_path), smp=2).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("many", PARTITIONS, 1)])["many"].result(20)
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 20})
        for i in range(PARTITIONS):  # a record in every partition opens its log
            p.produce("many", value=b"v", partition=i)
        assert p.flush(30) == 0
    finally:
        assert b.stop() == 0
    text = b.log_path.read_text()
    events = re.findall(r"shard (\d+): (closing|closed) (\d+) log\(s\)", text)
    kinds = [kind for _, kind, _ in events]
    assert "closed" in kinds, text
    before_any_closed = events[:kinds.index("closed")]
    assert {shard for shard, _, _ in before_any_closed} == {"0", "1"}, text  # both had begun
    closing = {shard: int(n) for shard, kind, n in events if kind == "closing"}
    closed = {shard: int(n) for shard, kind, n in events if kind == "closed"}
    assert closing == closed and sum(closing.values()) >= PARTITIONS, text
    assert min(closing.values()) > 0, text  # the partitions are spread over both shards
    assert re.search(r"shard \d: closed \d+ log\(s\) in \d+\.\d\d s", text), text
    assert "stopped cleanly" in text


def receive(s, request, correlation_id):
    """The response to `request`, then the end of the connection."""
    data = recv_exact(s, struct.unpack(">i", recv_exact(s, 4))[0])
    assert struct.unpack(">i", data[:4])[0] == correlation_id
    assert s.recv(1) == b""  # closed after the answer
    return request.RESPONSE_TYPE.decode(data[4:])


def test_a_stop_answers_the_requests_it_has_read(tmp_path):
    b = Broker(str(tmp_path), extra=["group.initial.rebalance.delay.ms=60000"]).start()
    fetcher = joiner = None
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("quiet", 1, 1)])["quiet"].result(20)
        fetcher = socket.create_connection(("127.0.0.1", b.port), timeout=20)
        joiner = socket.create_connection(("127.0.0.1", b.port), timeout=20)
        # A fetch that would wait a minute for a byte, a join that would wait a minute
        # for more members.
        fetch = FetchRequest[4](-1, 60000, 1, 1 << 20, 0, [("quiet", [(0, 0, 1 << 20)])])
        send_request(fetcher, fetch, 1)
        join = JoinGroupRequest[2]("g", 30000, 60000, "", "consumer", [("range", b"")])
        send_request(joiner, join, 2)
        time.sleep(1)  # both are waiting in the node
        start = time.monotonic()
        assert b.stop() == 0
        took = time.monotonic() - start
        fetched = receive(fetcher, fetch, 1)
        joined = receive(joiner, join, 2)
    finally:
        for s in (fetcher, joiner):
            if s:
                s.close()
        b.stop()
    (topic, [(partition, error, high_watermark, *_, records)]), = fetched.topics
    assert (topic, partition, error, high_watermark, records) == ("quiet", 0, 0, 0, b"")
    assert joined.error_code == 16  # NOT_COORDINATOR, as Kafka answers when it unloads a group
    assert took < 5, took
    text = b.log_path.read_text()
    assert re.search(r"stop: answering and closing \d+ client connection\(s\)", text), text
    assert "stop: client connections closed in" in text, text
    assert "still open" not in text, text
    assert "stopped cleanly" in text, text


def test_a_stop_closes_a_connection_that_does_not_read(tmp_path):
    b = Broker(str(tmp_path)).start()
    reader = None
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("full", 1, 1)])["full"].result(20)
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 20})
        for _ in range(8 * 1024):
            p.produce("full", value=b"x" * 1024, partition=0)
        assert p.flush(30) == 0
        # Forty 8 MiB answers asked for and never read: the node's writes block.
        reader = socket.create_connection(("127.0.0.1", b.port), timeout=20)
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        fetch = FetchRequest[4](-1, 0, 1, 8 << 20, 0, [("full", [(0, 0, 8 << 20)])])
        for i in range(40):
            send_request(reader, fetch, i)
        time.sleep(1)
        start = time.monotonic()
        assert b.stop() == 0
        took = time.monotonic() - start
    finally:
        if reader:
            reader.close()
        b.stop()
    text = b.log_path.read_text()
    assert re.search(r"stop: 1 client connection\(s\) still open after 5 s; closing them", text), text
    assert 5 <= took < 15, took
    assert "stopped cleanly" in text, text
