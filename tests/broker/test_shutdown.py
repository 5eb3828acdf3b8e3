"""A clean stop closes every log, and each close fsyncs the log's files: with thousands
of partitions that takes seconds. The shards close theirs at the same time, not one
after another, and each says how many it closes and how long that took."""
import re

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import Broker

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
