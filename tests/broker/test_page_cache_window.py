"""log.page.cache.window.bytes with page-cache durability (Kafka's default: no fsync
before answering): what lies more than the window behind a log's end is written back
and leaves the page cache, so a partition keeps about one window cached however much
it holds; a consumer further back gets it from the disk, byte for byte. A window of 0
leaves the page cache to the kernel, as Kafka does."""
import ctypes
import os
import pathlib
import tempfile
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import IO_BACKENDS, Broker

MIB = 1 << 20
RECORDS = 40000  # of 1 KiB: about 40 MiB in one partition

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]


def cached_bytes(path):
    """Bytes of `path` in the page cache (mincore over a read-only mapping)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        addr = _libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
        assert addr not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            pages = ctypes.create_string_buffer((size + 4095) // 4096)
            assert _libc.mincore(addr, size, pages) == 0, os.strerror(ctypes.get_errno())
            return 4096 * sum(b & 1 for b in pages.raw)
        finally:
            _libc.munmap(addr, size)
    finally:
        os.close(fd)


def value(i):
    return (b"%08d" % i) * 128  # 1 KiB


def fill(b, topic):
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(RECORDS):
        while True:
            try:
                p.produce(topic, value=value(i))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    assert p.flush(30) == 0
    return pathlib.Path(b.data_dir) / "data" / f"{topic}-0" / "00000000000000000000.log"


def read_all(b, topic):
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "window", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    deadline = time.time() + 60
    try:
        while got < RECORDS and time.time() < deadline:
            for m in c.consume(1000, 0.5):
                assert m.error() is None, m.error()
                assert m.offset() == got and m.value() == value(got), f"record {got} differs"
                got += 1
    finally:
        c.close()
    return got


@pytest.mark.parametrize("backend", IO_BACKENDS)
def test_a_partition_keeps_about_one_window_cached_and_reads_the_rest_from_disk(backend):
    with tempfile.TemporaryDirectory(prefix="fjord-window-") as d:
        b = Broker(d, extra=[f"log.io.backend={backend}"]).start()  # window: 4 MiB, the default
        try:
            segment = fill(b, "w")
            size = segment.stat().st_size
            assert size > 35 * MIB
            # The write-backs run in the background; give them (bounded) time to finish.
            deadline = time.time() + 20
            while cached_bytes(segment) > 6 * MIB and time.time() < deadline:
                time.sleep(0.1)
            cached = cached_bytes(segment)
            # The window, the step not yet dropped (1 MiB) and a partial page at most.
            assert cached <= 6 * MIB, f"{cached} of {size} bytes still cached"
            assert read_all(b, "w") == RECORDS
        finally:
            b.stop()


def test_a_window_of_0_leaves_the_page_cache_to_the_kernel():
    with tempfile.TemporaryDirectory(prefix="fjord-window-") as d:
        b = Broker(d, extra=["log.page.cache.window.bytes=0"]).start()
        try:
            segment = fill(b, "k")
            time.sleep(1)
            assert cached_bytes(segment) > 30 * MIB
            assert read_all(b, "k") == RECORDS
        finally:
            b.stop()
