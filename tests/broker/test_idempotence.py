"""Idempotent producers: InitProducerId, duplicates answered with their original
offsets and not written, sequence and epoch errors as Kafka answers them, and the
producer state rebuilt from the log after a restart. Requests are built by hand so no
client library hides retries; confluent-kafka's idempotent producer runs end to end."""
import socket
import struct
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ _CRC_TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def batch(pid, epoch, seq, values, ts=None):
    ts = int(time.time() * 1000) if ts is None else ts
    recs = b""
    for i, val in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(val)) + val + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts, pid, epoch, seq, len(values)) + recs
    rest = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(rest)) + rest


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.corr = 0

    def exchange(self, frame):
        """Sends one request frame (after its size) and returns the response after the
        correlation id, which must be this request's."""
        self.s.sendall(struct.pack(">i", len(frame)) + frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = self.s.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        assert struct.unpack(">i", data[4:8])[0] == self.corr
        return data[8:]

    def call(self, api, version, body):
        self.corr += 1
        return self.exchange(struct.pack(">hhih", api, version, self.corr, 4) + b"test" + body)

    def init_producer_id(self):
        r = self.call(22, 0, struct.pack(">hi", -1, 60000))
        _, err, pid, epoch = struct.unpack(">ihqh", r[:16])
        assert err == 0
        return pid, epoch

    def init_producer_id_v4(self, transactional_id, producer_id, producer_epoch):
        """v3+ (flexible) carries the producer's current id and epoch (KIP-360)."""
        tid = b"\x00" if transactional_id is None else bytes([len(transactional_id) + 1]) + transactional_id
        self.corr += 1
        r = self.exchange(struct.pack(">hhih", 22, 4, self.corr, 4) + b"test\x00" + tid +
                          struct.pack(">iqh", 60000, producer_id, producer_epoch) + b"\x00")
        _, err, pid, epoch = struct.unpack(">ihqh", r[1:17])  # after the header's tags
        return err, pid, epoch

    def produce(self, topic, records):
        t = topic.encode()
        body = (struct.pack(">hhi", -1, -1, 10000) + struct.pack(">ih", 1, len(t)) + t +
                struct.pack(">iii", 1, 0, len(records)) + records)
        r = self.call(0, 3, body)
        off = 4 + 2 + len(t) + 4 + 4  # topics count, name, partitions count, index
        err, base = struct.unpack(">hq", r[off: off + 10])
        return err, base


def end_offset(broker, topic):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "x"})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    return hi


def test_duplicates_sequences_and_epochs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("idem", 1, 1)])["idem"].result()
    c = Conn(broker.port)
    pid, epoch = c.init_producer_id()
    assert pid >= 0 and epoch == 0
    assert c.init_producer_id()[0] != pid  # every producer gets its own id

    first = batch(pid, 0, 0, [b"a", b"b"])
    assert c.produce("idem", first) == (0, 0)
    assert c.produce("idem", first) == (0, 0)  # duplicate: original offset, nothing written
    assert end_offset(broker, "idem") == 2
    assert c.produce("idem", batch(pid, 0, 2, [b"c"])) == (0, 2)
    assert c.produce("idem", batch(pid, 0, 7, [b"x"]))[0] == 45  # OUT_OF_ORDER_SEQUENCE_NUMBER
    assert c.produce("idem", batch(pid, 1, 0, [b"d"])) == (0, 3)  # new epoch starts at 0
    assert c.produce("idem", batch(pid, 0, 3, [b"y"]))[0] == 47  # INVALID_PRODUCER_EPOCH (fenced)
    assert end_offset(broker, "idem") == 4

    # After a restart the state is rebuilt from the log: the duplicate is still known.
    broker.stop()
    broker.start()
    c = Conn(broker.port)
    assert c.produce("idem", batch(pid, 1, 0, [b"d"])) == (0, 3)
    assert end_offset(broker, "idem") == 4
    assert c.produce("idem", batch(pid, 1, 1, [b"e"])) == (0, 4)
    # ids are not handed out twice across restarts
    assert c.init_producer_id()[0] > pid + 1


def test_init_producer_id_with_an_id_gets_a_new_one(broker):
    """As Kafka's coordinator: without a transactional id, the id and epoch a producer
    sends (librdkafka sends its current ones when it resets) are not taken up; it gets a
    newly allocated id at epoch 0. Bumping the epoch of whatever id was sent would let a
    producer take an id the controller has not handed out, or fence another's."""
    c = Conn(broker.port)
    pid, _ = c.init_producer_id()
    err, new_pid, epoch = c.init_producer_id_v4(None, pid, 0)
    assert err == 0 and new_pid > pid and epoch == 0
    err, other, epoch = c.init_producer_id_v4(None, 10**12, 5)  # never allocated
    assert err == 0 and other > new_pid and epoch == 0
    # a transactional id needs the transaction coordinator: refused, not ignored
    assert c.init_producer_id_v4(b"txn", -1, -1) == (42, -1, -1)
    # an id without an epoch, or an epoch without an id: Kafka's INVALID_REQUEST
    assert c.init_producer_id_v4(None, pid, -1) == (42, -1, -1)
    assert c.init_producer_id_v4(None, -1, 0) == (42, -1, -1)


def test_confluent_idempotent_producer(broker):
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5})
    for i in range(5000):
        p.produce("idem-client", key=b"k%d" % (i % 10), value=b"v%d" % i)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "x"})
    total = 0
    for part in range(6):
        lo, hi = c.get_watermark_offsets(TopicPartition("idem-client", part), timeout=10)
        total += hi - lo
    c.close()
    assert total == 5000


def test_idle_producers_expire(tmp_path):
    """producer.id.expiration.ms: a producer whose last batch is stamped that long ago is
    forgotten (Kafka's expiry), so its old batch is no longer known as a duplicate."""
    from conftest import Broker
    b = Broker(str(tmp_path), extra=["producer.id.expiration.ms=60000", "log.retention.check.interval.ms=200"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("expiring", 1, 1)])["expiring"].result()
        c = Conn(b.port)
        old, recent = c.init_producer_id()[0], c.init_producer_id()[0]
        stale = batch(old, 0, 0, [b"a"], ts=int(time.time() * 1000) - 120_000)  # two minutes old
        fresh = batch(recent, 0, 0, [b"b"])
        assert c.produce("expiring", stale) == (0, 0) and c.produce("expiring", fresh) == (0, 1)
        time.sleep(1)  # several expiry passes
        assert c.produce("expiring", fresh) == (0, 1)  # still known: a duplicate
        assert c.produce("expiring", stale) == (0, 2)  # forgotten: written again
    finally:
        b.stop()
