"""The log I/O backend: io_uring where the kernel allows it, pwrite otherwise (chosen
at start-up with one log line saying which and why), forcible with log.io.backend."""
import pathlib
import subprocess
import tempfile
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import BIN, Broker, block_io_uring


def produce_and_read_back(b, topic, n=200):
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 1})
    for i in range(n):
        p.produce(topic, value=b"v%d" % i)
    assert p.flush(20) == 0
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "io", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 20
    while len(got) < n and time.time() < deadline:
        for m in c.consume(n, 0.5):
            if m.error() is None:
                got.append(m.value())
    c.close()
    assert got == [b"v%d" % i for i in range(n)]


def test_auto_uses_io_uring_when_the_kernel_allows_it():
    with tempfile.TemporaryDirectory(prefix="fjord-io-") as d:
        b = Broker(d, extra=["log.flush.on.ack=true"]).start()
        try:
            produce_and_read_back(b, "auto")
            log = b.log_path.read_text()
        finally:
            b.stop()
        if "io_uring is unavailable" in log:
            pytest.skip("this machine does not allow io_uring: " + log.split("unavailable: ")[1].splitlines()[0])
        assert "log I/O backend: io_uring (log.io.backend=auto)" in log


def test_auto_falls_back_to_pwrite_where_io_uring_is_forbidden():
    """io_uring_setup blocked by seccomp, as under Docker's default profile."""
    with tempfile.TemporaryDirectory(prefix="fjord-io-") as d:
        b = Broker(d, extra=["log.flush.on.ack=true"], preexec_fn=block_io_uring).start()
        try:
            produce_and_read_back(b, "fallback")
            log = b.log_path.read_text()
            import urllib.request
            with urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=5) as r:
                metrics = r.read().decode()
        finally:
            b.stop()
        assert 'fjord_io_backend{backend="pwrite"} 1' in metrics  # what /metrics says is what runs
        assert "log I/O backend: pwrite (io_uring is unavailable: io_uring_setup: Operation not permitted)" in log


def test_forcing_io_uring_where_it_is_forbidden_stops_start_up():
    with tempfile.TemporaryDirectory(prefix="fjord-io-") as d:
        r = subprocess.run([BIN, "--override", f"log.dirs={d}/data", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                            "--override", "log.io.backend=io_uring"],
                           capture_output=True, timeout=30, preexec_fn=block_io_uring)
        assert r.returncode != 0
        assert b"log.io.backend=io_uring: io_uring_setup: Operation not permitted" in r.stdout + r.stderr


def test_bad_backend_name_stops_start_up_naming_the_key():
    with tempfile.TemporaryDirectory(prefix="fjord-io-") as d:
        r = subprocess.run([BIN, "--override", f"log.dirs={d}/data", "--override", "log.io.backend=aio"],
                           capture_output=True, timeout=30)
        assert r.returncode != 0
        assert b"log.io.backend" in r.stdout + r.stderr


@pytest.mark.parametrize("backend", ["io_uring", "pwrite"])
def test_start_up_removes_a_deletion_cut_short(backend):
    with tempfile.TemporaryDirectory(prefix="fjord-io-") as d:
        stale = pathlib.Path(d) / "data" / "old-0.1795338000000000000-delete"
        stale.mkdir(parents=True)
        (stale / "00000000000000000000.log").write_bytes(b"\0" * 4096)
        b = Broker(d, extra=[f"log.io.backend={backend}"]).start()
        try:
            deadline = time.time() + 10
            while stale.exists() and time.time() < deadline:
                time.sleep(0.05)
            assert not stale.exists()
        finally:
            b.stop()
