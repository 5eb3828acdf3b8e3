"""kill -9 the broker under acks=all load with fsync-before-ack on: after a restart
every acknowledged record is readable."""
import signal
import tempfile
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import pytest

from conftest import IO_BACKENDS, Broker, call


@pytest.mark.parametrize("backend", IO_BACKENDS)
def test_acknowledged_records_survive_kill_9(backend):
    with tempfile.TemporaryDirectory(prefix="fjord-durable-") as d:
        b = Broker(d, extra=["log.flush.on.ack=true", "num.partitions=4", f"log.io.backend={backend}"]).start()
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("acked", 4, 1)])["acked"].result()
        acked, lock = set(), threading.Lock()

        def on_delivery(err, msg):
            if err is None:
                with lock:
                    acked.add(msg.value())

        p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 2,
                      "message.timeout.ms": 5000, "retries": 0})
        killed_at = []

        def kill_when_loaded():
            # Kill once the load is well under way (not on a fixed clock: a busy
            # machine may take seconds to deliver the first acks), at most after 15 s.
            end = time.time() + 15
            while time.time() < end:
                with lock:
                    if len(acked) >= 20000:
                        break
                time.sleep(0.005)
            b.proc.send_signal(signal.SIGKILL)
            killed_at.append(time.time())

        killer = threading.Thread(target=kill_when_loaded)
        killer.start()
        deadline = time.time() + 20  # bounded load: 20 s and 3M records at most
        i = 0
        while time.time() < deadline and i < 3000000 and not (killed_at and time.time() > killed_at[0] + 1):
            try:
                p.produce("acked", value=b"r%07d" % i, on_delivery=on_delivery)
                i += 1
            except BufferError:
                p.poll(0.05)
            p.poll(0)
        p.flush(10)
        killer.join()
        b.proc.wait()
        assert len(acked) > 100, "the load should have been acknowledged for a while before the kill"
        b.proc = None
        b.start()
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "x", "enable.auto.commit": False})
        c.assign([TopicPartition("acked", p, 0) for p in range(4)])
        seen = set()
        end = time.time() + 30
        while time.time() < end and not acked <= seen:
            for m in c.consume(1000, timeout=1):
                if m.error() is None:
                    seen.add(m.value())
        c.close()
        b.stop()
        print(f"produced {i}, acknowledged {len(acked)}, read back {len(seen)}")
        missing = acked - seen
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged records lost, e.g. {sorted(missing)[:3]}"


@pytest.mark.parametrize("backend", IO_BACKENDS)
def test_group_commit_shares_fsyncs_between_requests(backend):
    """acks=all with fsync-before-ack: concurrent and pipelined requests share
    fdatasync rounds (fjord_group_commit_*), and every record is acknowledged."""
    import urllib.request
    with tempfile.TemporaryDirectory(prefix="fjord-group-commit-") as d:
        b = Broker(d, extra=["log.flush.on.ack=true", f"log.io.backend={backend}"]).start()
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("gc", 1, 1)])["gc"].result()
        delivered = []

        def produce(n):
            # Small batches, so there are hundreds of requests to share rounds even when
            # a slow machine lets each producer queue up thousands of records at a time.
            p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 0,
                          "batch.num.messages": 50, "max.in.flight.requests.per.connection": 5})
            for i in range(n):
                while True:
                    try:
                        p.produce("gc", value=b"x" * 100, on_delivery=lambda e, m: delivered.append(e))
                        break
                    except BufferError:
                        p.poll(0.01)
                p.poll(0)
            p.flush(30)

        threads = [threading.Thread(target=produce, args=(3000,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=10).read().decode()
        b.stop()
        values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                  if line.startswith("fjord_group_commit_")}
        assert len(delivered) == 12000 and all(e is None for e in delivered)
        flushes, acks = values["fjord_group_commit_flushes_total"], values["fjord_group_commit_acks_total"]
        print(f"group commit: {acks:.0f} acknowledgements from {flushes:.0f} fdatasync rounds")
        assert 0 < flushes < acks
        # Each round's duration, as a Prometheus histogram: one observation per round.
        buckets = [v for k, v in values.items() if k.startswith("fjord_group_commit_flush_seconds_bucket")]
        assert values["fjord_group_commit_flush_seconds_count"] == flushes
        assert buckets == sorted(buckets) and buckets[-1] == flushes  # cumulative, +Inf last
        mean_ms = values["fjord_group_commit_flush_seconds_sum"] / flushes * 1000
        print(f"group commit: a round took {mean_ms:.2f} ms on average")
        assert 0 < mean_ms < 10000


@pytest.mark.parametrize("backend", IO_BACKENDS)
def test_one_request_flushes_its_partitions_side_by_side(backend):
    """A durable Produce request over many partitions starts all their fdatasyncs at once
    rather than one after another (fjord_group_commit_flushes_in_flight_peak), and each
    partition is acknowledged at its own offset. The request is built by hand (kafka-python's
    encoding): librdkafka sends one partition per request, so its overlap would depend on
    timing (a sanitizer build once saw none)."""
    import urllib.request
    from kafka.protocol.produce import ProduceRequest
    from test_idempotence import batch
    with tempfile.TemporaryDirectory(prefix="fjord-group-commit-") as d:
        b = Broker(d, extra=["log.flush.on.ack=true", f"log.io.backend={backend}"]).start()
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("wide", 16, 1)])["wide"].result()
        for round_ in range(3):
            partitions = [(part, batch(-1, -1, -1, [b"r%d" % round_])) for part in range(16)]
            r = call(b, ProduceRequest[3](transactional_id=None, required_acks=-1, timeout=30000,
                                          topics=[("wide", partitions)]))
            (topic, answers), = r.topics
            assert sorted((part, error, offset) for part, error, offset, _ in answers) == [
                (part, 0, round_) for part in range(16)]
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=10).read().decode()
        b.stop()
        values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                  if line.startswith("fjord_group_commit_")}
        peak = values["fjord_group_commit_flushes_in_flight_peak"]
        print(f"group commit: peak {peak:.0f} flushes in flight on one shard")
        # The request's partitions on the shard that read it are all posted before any
        # flush's completion can run there, and the topic's 16 partitions are spread over
        # the node's 2 shards.
        assert peak >= 2 and values["fjord_group_commit_acks_total"] == 48


def test_flush_ms_flushes_on_time():
    """flush.ms: what a topic has held unflushed that long is fdatasynced (the broker
    checks each second; Kafka only every log.flush.scheduler.interval.ms, by default
    never). The recovery point, checkpointed each retention pass, shows it."""
    def recovery_point(b, topic):
        try:
            with open(f"{b.data_dir}/data/{topic}-0/recovery-point-offset-checkpoint") as f:
                return int(f.read().split()[0])
        except FileNotFoundError:
            return 0

    with tempfile.TemporaryDirectory(prefix="fjord-flush-ms-") as d:
        b = Broker(d, extra=["log.retention.check.interval.ms=200"]).start()
        try:
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            fs = admin.create_topics([NewTopic("timed", 1, 1, config={"flush.ms": "300"}), NewTopic("untimed", 1, 1)])
            for f in fs.values():
                f.result()
            p = Producer({"bootstrap.servers": b.bootstrap, "acks": "1", "linger.ms": 0})
            for topic in ("timed", "untimed"):
                for i in range(10):
                    p.produce(topic, value=b"%d" % i)
            assert p.flush(10) == 0
            deadline = time.time() + 5
            while time.time() < deadline and recovery_point(b, "timed") < 10:
                time.sleep(0.1)
            assert recovery_point(b, "timed") == 10
            assert recovery_point(b, "untimed") == 0  # left to the page cache, as Kafka's default
        finally:
            b.stop()
