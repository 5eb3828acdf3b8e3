"""A broker without controller.quorum.voters (what a bare `fjord` runs): no controller,
its metadata in a local file (`__fjord_metadata`). It serves and restarts like a
combined node, and refuses a metadata directory that is not its own."""
import pathlib

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from conftest import Broker


def test_lone_broker_keeps_topics_configs_and_records_across_restarts(tmp_path):
    b = Broker(str(tmp_path), quorum=False).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("lone", 3, 1, config={"retention.ms": "86400000"})])["lone"].result(15)
        p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True})
        for i in range(30):
            p.produce("lone", value=b"v%d" % i, partition=i % 3)
        assert p.flush(20) == 0
        from test_idempotence import Conn
        before, _ = Conn(b.port).init_producer_id()
        b.stop()
        b.start()
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        topic = ConfigResource(ConfigResource.Type.TOPIC, "lone")
        assert admin.describe_configs([topic])[topic].result(15)["retention.ms"].value == "86400000"
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "lone-check"})
        ends = [c.get_watermark_offsets(TopicPartition("lone", part), timeout=10)[1] for part in range(3)]
        c.close()
        assert ends == [10, 10, 10]
        # Producer ids handed out before the restart are not handed out again.
        after, _ = Conn(b.port).init_producer_id()
        assert after > before
    finally:
        b.stop()


def test_lone_broker_refuses_a_metadata_directory_that_is_not_its_own(tmp_path):
    b = Broker(str(tmp_path), quorum=False).start()
    b.stop()
    meta = pathlib.Path(tmp_path) / "data" / "__fjord_metadata" / "meta.properties"
    text = meta.read_text()
    assert "node.id=1" in text and "version=1" in text

    def start_error():
        with pytest.raises(RuntimeError) as exited:  # Broker.start: "fjord exited: <its log>"
            b.start()
        return str(exited.value)

    meta.write_text(text.replace("node.id=1", "node.id=2"))
    assert "belongs to node.id 2, not 1" in start_error()
    # It used to end in an uncaught std::invalid_argument (abort) here.
    meta.write_text(text.replace("node.id=1", "node.id=one"))
    assert "node.id is missing or not a number" in start_error()
