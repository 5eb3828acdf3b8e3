"""log.page.cache.window.bytes with page-cache durability (Kafka's default: no fsync
before answering): what lies more than the window behind a log's end is written back
and leaves the page cache, so a partition keeps about one window cached however much
it holds; a consumer further back gets it from the disk, byte for byte. A window of 0
leaves the page cache to the kernel, as Kafka does. While a consumer fetches from
behind the end, the window grows to keep what it has yet to read cached, up to
log.page.cache.window.max.bytes."""
import ctypes
import os
import pathlib
import tempfile
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.fetch import FetchRequest_v4

from conftest import IO_BACKENDS, Broker, call

MIB = 1 << 20
RECORDS = 40000  # of 1 KiB: about 40 MiB in one partition

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]


def cached_bytes(path, start=0, end=None):
    """Bytes of `path` (of [start, end) of it) in the page cache (mincore over a
    read-only mapping)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        addr = _libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
        assert addr not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            pages = ctypes.create_string_buffer((size + 4095) // 4096)
            assert _libc.mincore(addr, size, pages) == 0, os.strerror(ctypes.get_errno())
            return 4096 * sum(b & 1 for b in pages.raw[start // 4096:None if end is None else end // 4096])
        finally:
            _libc.munmap(addr, size)
    finally:
        os.close(fd)


def value(i):
    return (b"%08d" % i) * 128  # 1 KiB


def fill(b, topic, records=RECORDS, between=None, every=1024):
    """Produces `records` values into partition 0 of `topic` (created first), calling
    `between` after each `every` of them once they are written."""
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(records):
        while True:
            try:
                p.produce(topic, value=value(i))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        if between and (i + 1) % every == 0:
            assert p.flush(30) == 0
            between()
    assert p.flush(30) == 0
    return pathlib.Path(b.data_dir) / "data" / f"{topic}-0" / "00000000000000000000.log"


def window_gauge(b, topic):
    """fjord_partition_page_cache_window_bytes of partition 0 of `topic` (admin HTTP)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    name = f'fjord_partition_page_cache_window_bytes{{topic="{topic}",partition="0"}} '
    return int(next(line for line in text.splitlines() if line.startswith(name))[len(name):])


def wait_until(check, seconds=20):
    """The write-backs run in the background: gives them (bounded) time to finish."""
    deadline = time.time() + seconds
    while not check() and time.time() < deadline:
        time.sleep(0.1)
    return check()


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
            wait_until(lambda: cached_bytes(segment) <= 6 * MIB)
            cached = cached_bytes(segment)
            # The window, the step not yet dropped (1 MiB) and a partial page at most.
            assert cached <= 6 * MIB, f"{cached} of {size} bytes still cached"
            assert window_gauge(b, "w") == 4 * MIB
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
            assert window_gauge(b, "k") == 0
            assert read_all(b, "k") == RECORDS
        finally:
            b.stop()


def test_the_window_grows_to_keep_what_a_consumer_behind_has_yet_to_read():
    with tempfile.TemporaryDirectory(prefix="fjord-window-") as d:
        # The window: 4 MiB (the default); it may grow to 24 MiB.
        b = Broker(d, extra=[f"log.page.cache.window.max.bytes={24 * MIB}"]).start()
        try:
            reads = []

            def fetch_from_the_start():  # one consumer's Fetch, 1 MiB from offset 0
                request = FetchRequest_v4(-1, 0, 1, MIB, 0, [("g", [(0, 0, MIB)])])
                (_topic, ((_p, error, _hw, *_rest, records),)), = call(b, request).topics
                assert error == 0 and len(records) > 0
                reads.append(len(records))

            segment = fill(b, "g", records=32 * 1024, between=fetch_from_the_start)
            assert len(reads) == 32
            size = segment.stat().st_size
            # 24 MiB behind the end stay cached for the consumer; what lies beyond that
            # (but the start, which its fetches read) has left.
            assert wait_until(lambda: cached_bytes(segment, 2 * MIB, size - 25 * MIB) < MIB)
            kept = cached_bytes(segment, size - 24 * MIB, size)
            assert kept > 23 * MIB, f"{kept} of the last 24 MiB cached"
            assert window_gauge(b, "g") == 24 * MIB  # what /metrics tells an operator
            # The consumer has stopped: once it has not fetched for 2 s, the window is
            # 4 MiB again at the next append.
            time.sleep(2.5)
            fill_more = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
            for i in range(2048):
                fill_more.produce("g", value=value(i))
                fill_more.poll(0)
            assert fill_more.flush(30) == 0
            size = segment.stat().st_size
            assert wait_until(lambda: cached_bytes(segment, 2 * MIB, size - 6 * MIB) < MIB), (
                f"{cached_bytes(segment, 2 * MIB, size - 6 * MIB)} bytes cached behind the window")
            assert window_gauge(b, "g") == 4 * MIB
        finally:
            b.stop()
