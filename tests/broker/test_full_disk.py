"""A full disk: the log directory on a 6 MiB tmpfs. Produce answers
KAFKA_STORAGE_ERROR once it is full and that partition's log goes offline (a log line,
fjord_offline_partitions); the broker keeps serving other requests; after space is
freed and the broker restarts, every acknowledged record is there and appends work."""
import os
import subprocess
import tempfile
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import IO_BACKENDS, Broker


@pytest.fixture
def small_disk():
    d = tempfile.mkdtemp(prefix="fjord-full-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", d], capture_output=True).returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    yield d
    subprocess.run(["umount", "-l", d], capture_output=True)
    os.rmdir(d)


@pytest.mark.parametrize("backend", IO_BACKENDS)
def test_full_disk_gets_storage_error_and_recovers(small_disk, backend):
    ballast = os.path.join(small_disk, "ballast")  # what an operator would clear away
    with open(ballast, "wb") as f:
        f.write(b"\0" * (1 << 20))
    b = Broker(small_disk, extra=["offsets.topic.num.partitions=1", "log.segment.bytes=1048576",
                                  f"log.io.backend={backend}"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("fill", 1, 1)])["fill"].result()
        results = []
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "retries": 0, "acks": "all",
                      "message.timeout.ms": 10000})
        for i in range(80):  # 80 x 100 KiB = 8 MiB into 6 MiB
            p.produce("fill", value=(b"%06d" % i) * 17000, on_delivery=lambda e, m: results.append((e, m.offset())))
            p.flush(10)
        acked = [off for e, off in results if e is None]
        errors = {e.code() for e, _ in results if e is not None}
        print(f"full disk: {len(acked)} acknowledged, then errors {sorted(errors)}")
        assert acked and errors, (len(acked), errors)
        assert errors <= {56}, errors  # KAFKA_STORAGE_ERROR
        assert b.alive()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=10).read().decode()
        assert "fjord_offline_partitions 1" in metrics
        assert "is offline after a disk error" in b.log_path.read_text()
        assert f"log I/O backend: {backend}" in b.log_path.read_text()
        # still serving: metadata and admin requests on the same broker
        md = admin.list_topics(timeout=10)
        assert "fill" in md.topics
        # offline stays offline, even once space is back, until a restart
        os.remove(ballast)
        again = []
        p.produce("fill", value=b"ok", on_delivery=lambda e, m: again.append(e))
        p.flush(10)
        assert again[0] is not None and again[0].code() == 56
        b.stop()
        b.start()
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "f", "enable.auto.commit": False,
                      "fetch.max.bytes": 1048576})
        c.assign([TopicPartition("fill", 0, 0)])
        seen = set()
        for _ in range(200):
            m = c.poll(1)
            if m is not None and m.error() is None:
                seen.add(m.offset())
            if set(acked) <= seen:
                break
        c.close()
        assert set(acked) <= seen
        p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "acks": "all"})
        after = []
        p.produce("fill", value=b"ok", on_delivery=lambda e, m: after.append((e, m.offset())))
        p.flush(10)
        assert after == [(None, max(acked) + 1)]
    finally:
        b.stop()
