"""How many shards a node runs when --smp is not given: one per CPU the process may
run on, so a node started under taskset or in a container's cpuset does not run more
shard threads than it has CPUs."""
import os
import re
import tempfile

from confluent_kafka import Consumer, Producer, TopicPartition

from conftest import Broker


def shards_logged(b):
    found = re.findall(rb"broker: (\d+) shard\(s\)", b.log_path.read_bytes())
    assert found, b.log_path.read_text()
    return int(found[-1])


def test_the_default_is_one_shard_per_cpu_the_process_may_use():
    with tempfile.TemporaryDirectory(prefix="fjord-test-") as d:
        b = Broker(d, smp=None).start()
        try:
            assert shards_logged(b) == len(os.sched_getaffinity(0))
        finally:
            b.stop()


def test_a_node_confined_to_one_cpu_runs_one_shard_and_serves():
    with tempfile.TemporaryDirectory(prefix="fjord-test-") as d:
        one_cpu = min(os.sched_getaffinity(0))
        b = Broker(d, extra=["num.partitions=4"], smp=None,
                   preexec_fn=lambda: os.sched_setaffinity(0, {one_cpu})).start()
        try:
            assert shards_logged(b) == 1
            p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
            for i in range(4):
                p.produce("confined", value=b"v%d" % i, partition=i)
            assert p.flush(20) == 0
            c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "confined",
                          "enable.auto.commit": False})
            c.assign([TopicPartition("confined", i, 0) for i in range(4)])
            got = set()
            for _ in range(40):
                for m in c.consume(4, 0.5):
                    if m.error() is None:
                        got.add(m.value())
                if len(got) == 4:
                    break
            c.close()
            assert got == {b"v0", b"v1", b"v2", b"v3"}
        finally:
            b.stop()
