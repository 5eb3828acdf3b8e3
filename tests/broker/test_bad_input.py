"""Bad input gets a closed connection or the right error code, and the broker keeps
serving everyone else."""
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import Broker, rss_mib


def roundtrip(broker, payload, read=True):
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
    s.sendall(payload)
    data = b""
    if read:
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if len(data) >= 4 and len(data) >= 4 + struct.unpack(">i", data[:4])[0]:
                    break
        except socket.timeout:
            data = None
    s.close()
    return data


def still_serves(broker):
    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-L"], capture_output=True, timeout=30)
    return r.returncode == 0 and b"broker 1" in r.stdout


def api_versions_request(version, correlation=7):
    header = struct.pack(">hhih", 18, version, correlation, 4) + b"test"
    body = b"" if version < 3 else b"\x00"  # (v3 bodies are not sent here: flexible header needed)
    return header + body


def test_garbage_closes_the_connection(broker):
    assert roundtrip(broker, b"\x00\x00\x00\x10" + b"\xde\xad\xbe\xef" * 4) == b""
    assert broker.alive() and still_serves(broker)


def test_a_client_sending_garbage_in_a_loop_does_not_flood_the_log(broker):
    """Each closed connection wrote a warning: 300 garbage frames, 300 lines. Now at most
    10 per 5 s over the process, then one line saying how many were held back."""
    warnings = lambda: [l for l in broker.log_path.read_text().splitlines() if "[warning]" in l]  # noqa: E731
    start = time.monotonic()
    for _ in range(300):
        assert roundtrip(broker, b"\x00\x00\x00\x10" + b"\xde\xad\xbe\xef" * 4) == b""
    windows = int((time.monotonic() - start) // 5) + 1  # (one, unless the machine crawls)
    assert 1 <= len(warnings()) <= 11 * windows
    time.sleep(5.5)  # a new window: the next warning comes after the count held back
    assert roundtrip(broker, struct.pack(">i", -5)) == b""
    time.sleep(0.2)
    lines = warnings()
    counts = [l for l in lines if "more warnings about clients' bad input were not logged (at most 10 per 5 s)" in l]
    assert counts and lines[-2] == counts[-1], lines[-3:]
    held_back = sum(int(l.split("] ")[-1].split()[0]) for l in counts)
    assert len(lines) - len(counts) + held_back == 301  # every frame: logged or counted
    assert "request size -5" in lines[-1]
    assert broker.alive() and still_serves(broker)


def test_a_log_that_cannot_be_opened_fails_its_requests_without_flooding_the_log(tmp_path):
    """A partition whose directory became a file: every request for it tries to open
    the log and fails (KAFKA_STORAGE_ERROR), and wrote an error line each time, as
    clients retry. Now those lines are budgeted (10 per 5 s, then a count); other
    partitions are served."""
    from confluent_kafka.admin import AdminClient, NewTopic
    b = Broker(str(tmp_path), extra=["offsets.topic.num.partitions=1"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        for f in admin.create_topics([NewTopic("rules", 1, 1), NewTopic("gone", 1, 1)]).values():
            f.result()
        record = v2_batch(bytes([18, 0, 0, 0, 1, 6]) + b"abc" + bytes([0]))
        assert produce_error(b, 3, record, topic=b"gone") == 0
        b.stop()
        gone = tmp_path / "data" / "gone-0"
        subprocess.run(["rm", "-rf", str(gone)], check=True)
        gone.write_bytes(b"not a directory")
        b.start()
        start = time.monotonic()
        errors = {produce_error(b, 3, record, topic=b"gone") for _ in range(200)}
        windows = int((time.monotonic() - start) // 5) + 1
        assert errors == {56}, errors  # KAFKA_STORAGE_ERROR
        time.sleep(0.2)
        lines = [l for l in b.log_path.read_text().splitlines() if "cannot open log gone-0" in l]
        assert 1 <= len(lines) <= 11 * windows, len(lines)
        assert produce_error(b, 3, record) == 0  # another partition
        assert b.alive() and still_serves(b)
    finally:
        b.stop()


def test_out_of_file_descriptors_the_listener_waits_instead_of_spinning(broker):
    """With no descriptor left, each accept failed at once while the connection stayed in
    the backlog: the listener spun a core and logged every try (about a million lines in
    3 s). Now it logs the first failure, tries again every 100 ms, and logs when
    accepting works again."""
    import resource

    pid = broker.proc.pid

    def cpu_seconds():  # utime + stime, proc(5)
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    accept_lines = lambda: [l for l in broker.log_path.read_text().splitlines() if "Kafka listener" in l]  # noqa: E731
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (len(os.listdir(f"/proc/{pid}/fd")) + 20, old[1]))
    connections = []
    try:
        for _ in range(40):  # 20 are accepted, the rest wait in the backlog
            connections.append(socket.create_connection(("127.0.0.1", broker.port), timeout=5))
        time.sleep(0.5)
        before = cpu_seconds()
        time.sleep(3)
        assert cpu_seconds() - before < 0.5
        lines = accept_lines()  # one run of failures (a descriptor freed meanwhile may split it)
        assert 1 <= len(lines) <= 6, lines
        assert "accept: Too many open files; trying again every 100 ms" in lines[0]
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
        for c in connections:
            c.close()
    assert broker.alive() and still_serves(broker)
    assert "accepting again after" in accept_lines()[-1]


def test_two_gib_length_prefix_closes_without_allocating(broker):
    assert roundtrip(broker, struct.pack(">i", 0x7FFFFFFF) + b"x" * 100) == b""
    assert roundtrip(broker, struct.pack(">i", -5)) == b""
    assert broker.alive() and still_serves(broker)


def test_size_prefixes_without_their_bytes_hold_no_memory(broker):
    """Eight connections each claim a frame of socket.request.max.bytes (100 MiB) and send
    a few bytes of it: the broker's memory grows with what arrived, not with the claims."""
    before = rss_mib(broker.proc.pid)
    claims = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        s.sendall(struct.pack(">i", 100 * 1024 * 1024) + b"\x00\x12" + b"x" * 4094)
        claims.append(s)
    time.sleep(1)
    grown = rss_mib(broker.proc.pid) - before
    for s in claims:
        s.close()
    assert grown < 64, f"{grown:.0f} MiB for 32 KiB sent"  # 800 MiB if each claim were allocated
    assert broker.alive() and still_serves(broker)


def test_unknown_api_key_closes(broker):
    frame = struct.pack(">hhih", 999, 0, 1, -1)
    assert roundtrip(broker, struct.pack(">i", len(frame)) + frame) == b""
    assert broker.alive() and still_serves(broker)


def test_unsupported_api_versions_version_gets_error_35_at_v0(broker):
    frame = struct.pack(">hhih", 18, 99, 42, -1)
    data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
    size, corr, err = struct.unpack(">iih", data[:10])
    assert corr == 42 and err == 35
    (count,) = struct.unpack(">i", data[10:14])
    keys = {struct.unpack(">hhh", data[14 + 6 * i: 20 + 6 * i])[0] for i in range(count)}
    assert {0, 1, 2, 3, 18, 19} <= keys


def test_unadvertised_version_of_another_api_closes(broker):
    frame = struct.pack(">hhih", 1, 18, 3, -1) + b"\x00" * 20  # Fetch v18: newer than Kafka 3.9's
    assert roundtrip(broker, struct.pack(">i", len(frame)) + frame) == b""
    assert still_serves(broker)


def test_truncated_produce_closes(broker):
    # Produce v3 whose topic array claims more than the frame holds
    body = struct.pack(">hhii", -1, 1, 30000, 5) + b"\x00\x01t"
    frame = struct.pack(">hhih", 0, 3, 9, -1) + body
    assert roundtrip(broker, struct.pack(">i", len(frame)) + frame) == b""
    assert broker.alive() and still_serves(broker)


def test_bad_crc_gets_corrupt_message(broker):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("crc", 1, 1)])["crc"].result()
    # One uncompressed v2 batch with one record (attributes 0, timestamp delta 0, offset
    # delta 0, null key, value "abc", no headers) and a CRC that cannot match.
    rec_body = bytes([0, 0, 0, 1]) + bytes([0x06]) + b"abc" + bytes([0])
    rec = bytes([len(rec_body) * 2]) + rec_body
    after_crc = struct.pack(">hiqqqhii", 0, 0, 0, 0, -1, -1, -1, 1) + rec
    batch_wo_len = struct.pack(">iBI", -1, 2, 0xDEADBEEF) + after_crc
    batch = struct.pack(">qi", 0, len(batch_wo_len)) + batch_wo_len
    body = (struct.pack(">hhii", -1, 1, 30000, 1) + struct.pack(">h", 3) + b"crc" + struct.pack(">i", 1)
            + struct.pack(">ii", 0, len(batch)) + batch)
    frame = struct.pack(">hhih", 0, 3, 11, -1) + body
    data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
    assert data, "expected a Produce response"
    # response v3: corr, [topics: name, [partitions: index, error, ...]]
    (corr,) = struct.unpack(">i", data[4:8])
    assert corr == 11
    off = 8 + 4 + 2 + 3 + 4 + 4
    (err,) = struct.unpack(">h", data[off: off + 2])
    assert err == 2  # CORRUPT_MESSAGE
    assert still_serves(broker)


def v2_record(i, value=b"abc", ts_delta=0, key=None):
    """Record `i` of a batch (offset delta i), with no headers (i, ts_delta and the key's
    and value's lengths below 64: one-byte varints)."""
    key_part = bytes([1]) if key is None else bytes([len(key) * 2]) + key
    body = bytes([0, ts_delta * 2, i * 2]) + key_part + bytes([len(value) * 2]) + value + bytes([0])
    return bytes([len(body) * 2]) + body


def v2_batch(records, count=1, attributes=0, last_offset_delta=None, base_offset=0, timestamp=0,
             producer=(-1, -1, -1), max_timestamp=None):
    """A record batch v2 with a correct CRC-32C around `records` (already encoded);
    `producer` is (id, epoch, base sequence); the max timestamp is `timestamp` unless
    given."""
    from kafka.record._crc32c import crc as crc32c
    last = count - 1 if last_offset_delta is None else last_offset_delta
    max_timestamp = timestamp if max_timestamp is None else max_timestamp
    after_crc = struct.pack(">hiqqqhii", attributes, last, timestamp, max_timestamp, *producer, count) + records
    batch_wo_len = struct.pack(">iBI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", base_offset, len(batch_wo_len)) + batch_wo_len


def produce_error(broker, version, records, topic=b"rules"):
    """The error code of the one partition of a Produce request (v0-8: no tags)."""
    transactional_id = struct.pack(">h", -1) if version >= 3 else b""
    body = (transactional_id + struct.pack(">hii", 1, 30000, 1) + struct.pack(">h", len(topic)) + topic
            + struct.pack(">i", 1) + struct.pack(">ii", 0, len(records)) + records)
    frame = struct.pack(">hhih", 0, version, 21, -1) + body
    data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
    assert data and struct.unpack(">i", data[4:8])[0] == 21
    off = 8 + 4 + 2 + len(topic) + 4 + 4
    err, base_offset = struct.unpack(">hq", data[off: off + 10])
    if err:  # as Kafka, a refused partition carries no offsets
        assert base_offset == -1
        if version >= 5:
            assert struct.unpack(">q", data[off + 18: off + 26])[0] == -1  # log_start_offset
    return err


def produce_v8(broker, records, topic):
    """A Produce v8 request for partition 0 of `topic`: (error code, [(batch index,
    message)], error message) of its answer."""
    body = (struct.pack(">hhii", -1, 1, 30000, 1) + struct.pack(">h", len(topic)) + topic
            + struct.pack(">i", 1) + struct.pack(">ii", 0, len(records)) + records)
    frame = struct.pack(">hhih", 0, 8, 23, -1) + body
    data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
    assert data and struct.unpack(">i", data[4:8])[0] == 23
    off = 8 + 4 + 2 + len(topic) + 4 + 4

    def string(at):
        n = struct.unpack(">h", data[at:at + 2])[0]
        return (None, at + 2) if n < 0 else (data[at + 2:at + 2 + n].decode(), at + 2 + n)

    err = struct.unpack(">h", data[off:off + 2])[0]
    off += 2 + 8 + 8 + 8
    errors = []
    for _ in range(struct.unpack(">i", data[off:off + 4])[0]):
        index = struct.unpack(">i", data[off + 4:off + 8])[0]
        message, next_off = string(off + 8)
        errors.append((index, message))
        off = next_off - 4
    message, _ = string(off + 4)
    return err, errors, message


def test_produce_v3_and_later_carry_one_batch_v2_and_zstd_from_v7(broker):
    """Kafka's rules for a Produce v3+ partition (ProduceRequest.validateRecords): one
    record batch, of magic 2 (else INVALID_RECORD, 87), compressed with zstd only from
    v7 (else UNSUPPORTED_COMPRESSION_TYPE, 76)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    from kafka.record.legacy_records import LegacyRecordBatchBuilder
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("rules", 1, 1)])["rules"].result()
    # one record: attributes 0, timestamp delta 0, offset delta 0, null key, value "abc"
    record = bytes.fromhex("12000000010661626300")
    # the same record as a zstd frame (made with `zstd -19 --no-check`)
    record_zstd = bytes.fromhex("28b52ffd006851000012000000010661626300")
    legacy = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 20)
    legacy.append(0, timestamp=None, key=None, value=b"abc")

    assert produce_error(broker, 3, v2_batch(record)) == 0
    assert produce_error(broker, 3, bytes(legacy.build())) == 87
    assert produce_error(broker, 3, v2_batch(record) + v2_batch(record)) == 87
    assert produce_error(broker, 5, v2_batch(record_zstd, attributes=4)) == 76
    assert produce_error(broker, 7, v2_batch(record_zstd, attributes=4)) == 0
    assert produce_error(broker, 2, bytes(legacy.build())) == 0  # v0-2 take message sets
    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "rules", "-e", "-f", "%s\n"],
                       capture_output=True, timeout=30)
    assert r.stdout.decode().split() == ["abc"] * 3  # what was accepted, and nothing else
    assert still_serves(broker)


def test_batches_whose_header_and_records_disagree_are_refused(broker):
    """Kafka reads every record of a produced batch and checks it against the header
    (UnifiedLog.analyzeAndValidateRecords, LogValidator.validateBatch): each of these
    has a correct CRC and gets INVALID_RECORD (87). Stored, they would have numbered
    records wrongly and stopped consumers at the bad batch; a consumer reads past the
    place where they were refused."""
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("rules", 1, 1)])["rules"].result()

    three = v2_record(0) + v2_record(1) + v2_record(2)
    assert produce_error(broker, 3, v2_batch(three, count=3)) == 0
    bad = {
        "count above the records": v2_batch(three, count=5, last_offset_delta=4),
        "offsets beyond the count": v2_batch(three, count=3, last_offset_delta=4),
        "records beyond the count": v2_batch(three, count=2),
        "negative offset range": v2_batch(three, count=3, last_offset_delta=-2),
        "garbage records": v2_batch(b"\xff" * 40, count=3),
        "bytes after the last record": v2_batch(v2_record(0) + b"\x00\x00"),
        "a record longer than the batch": v2_batch(bytes([200]) + v2_record(0)[1:]),
        "a base offset other than 0": v2_batch(v2_record(0), base_offset=7),
        "a control batch": v2_batch(v2_record(0), attributes=0x20),
        "an id without a sequence": v2_batch(v2_record(0), producer=(5, 0, -1)),
        "gzip around no records": v2_batch(bytes.fromhex("1f8b0800000000000003cb48cdc9c95728cf2fca49010085114a0d0b000000"),
                                        attributes=1),
    }
    for what, batch in bad.items():
        assert produce_error(broker, 3, batch) == 87, what
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"end"))) == 0

    # KIP-937's bounds skip a record without a timestamp (-1), as Kafka's do.
    res = ConfigResource(ConfigResource.Type.TOPIC, "rules",
                         set_config={"message.timestamp.before.max.ms": "60000"})
    admin.alter_configs([res])[res].result()
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"no-ts"), timestamp=-1)) == 0
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"old"), timestamp=1000)) == 32  # INVALID_TIMESTAMP

    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "rules", "-e", "-q", "-f", "%o %s %T\\n"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["0 abc 0", "1 abc 0", "2 abc 0", "3 end 0", "4 no-ts -1"]
    assert still_serves(broker)


def test_a_compressed_batch_with_inner_offsets_out_of_order_is_rebuilt(broker):
    """As Kafka's LogValidator: a compressed batch whose records' offset deltas do not
    run 0, 1, 2 is rebuilt with them in order (same codec, same records), so its
    records get the offsets its header spans and the next batch follows them."""
    import gzip
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("inner", 1, 1)])["inner"].result()
    out_of_order = v2_record(5, b"a") + v2_record(6, b"b") + v2_record(7, b"c")
    assert produce_error(broker, 3, v2_batch(gzip.compress(out_of_order), count=3, attributes=1), b"inner") == 0
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"d")), b"inner") == 0
    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "inner", "-e", "-q", "-f", "%o %s\\n"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["0 a", "1 b", "2 c", "3 d"]
    assert still_serves(broker)


def test_a_batch_is_stored_with_the_timestamp_type_and_max_its_records_give(broker):
    """As Kafka's LogValidator on a CreateTime topic: a batch is stored marked CreateTime,
    with the largest of its records' timestamps as its max, whatever the producer wrote
    in its header, and its CRC recomputed. A wrong max would hold back retention and
    move ListOffsets' max timestamp. In a batch marked LogAppendTime every record reads
    as the batch's max timestamp (Kafka's rule), so that is the max it keeps."""
    from confluent_kafka.admin import AdminClient, NewTopic
    from kafka.protocol.fetch import FetchRequest_v4
    from kafka.record._crc32c import crc as crc32c

    from conftest import call
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("maxts", 1, 1)])["maxts"].result()
    t = 1_700_000_000_000
    two = v2_record(0) + v2_record(1, b"late", ts_delta=5)
    assert produce_error(broker, 3, v2_batch(two, count=2, timestamp=t, max_timestamp=t + 10**9), b"maxts") == 0
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"marked"), attributes=0x08, timestamp=t,
                                             max_timestamp=t + 7), b"maxts") == 0
    assert produce_error(broker, 3, v2_batch(v2_record(0, b"right"), timestamp=t + 9), b"maxts") == 0

    request = FetchRequest_v4(-1, 0, 1, 1 << 20, 0, [("maxts", [(0, 0, 1 << 20)])])
    (_topic, ((_p, error, _hw, *_rest, records),)), = call(broker, request).topics
    assert error == 0
    stored = []
    while records:
        length = struct.unpack(">i", records[8:12])[0]
        batch, records = records[:12 + length], records[12 + length:]
        crc, attributes = struct.unpack(">Ih", batch[17:23])
        assert crc32c(batch[21:]) == crc
        stored.append((attributes & 0x08, struct.unpack(">q", batch[35:43])[0]))
    assert stored == [(0, t + 5), (0, t + 7), (0, t + 9)]

    r = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "maxts", "-e", "-q", "-f", "%s %T\\n"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == [f"abc {t}", f"late {t + 5}", f"marked {t}", f"right {t + 9}"]
    assert still_serves(broker)


def test_refused_records_are_named_in_kafkas_words(broker):
    """Produce v8+ names each refused record (record_errors) and sums them up in the
    error message, in Kafka's words (LogValidator.validateRecord, processRecordErrors):
    records without a key on a compacted topic (INVALID_RECORD), timestamps outside
    KIP-937's bounds, and batches a producer marked LogAppendTime where Kafka refuses
    them (INVALID_TIMESTAMP)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([
        NewTopic("keyed", 1, 1, config={"cleanup.policy": "compact"}),
        NewTopic("near", 1, 1, config={"message.timestamp.before.max.ms": "60000"}),
        NewTopic("stamped", 1, 1, config={"message.timestamp.type": "LogAppendTime"}),
        NewTopic("created", 1, 1)])
    for f in futures.values():
        f.result()

    three = v2_record(0) + v2_record(1, key=b"k") + v2_record(2)
    err, errors, message = produce_v8(broker, v2_batch(three, count=3), b"keyed")
    why = "Compacted topic cannot accept message without key in topic partition keyed-0"
    assert (err, errors) == (87, [(0, why), (2, why)])
    assert message == ("One or more records have been rejected due to 2 record errors in total, and only "
                       f"showing the first three errors at most: [RecordError(batchIndex=0, message='{why}'), "
                       f"RecordError(batchIndex=2, message='{why}')]")

    err, errors, message = produce_v8(broker, v2_batch(v2_record(0) + v2_record(1, ts_delta=5), count=2,
                                                       timestamp=1000), b"near")
    assert (err, message) == (32, "One or more records have been rejected due to invalid timestamp")
    assert [i for i, _ in errors] == [0, 1]
    assert errors[1][1].startswith("Timestamp 1005 of message with offset 1 is out of range. "
                                   "The timestamp should be within [")

    marked = lambda ts: v2_batch(v2_record(0), attributes=0x08, timestamp=ts)
    refused = lambda ts: [(0, f"Invalid timestamp type in message DefaultRecord(offset=0, timestamp={ts}, key=0 bytes, "
                              "value=3 bytes). Producer should not set timestamp type to LogAppendTime.")]
    now = int(time.time() * 1000)
    assert produce_v8(broker, marked(now), b"stamped")[:2] == (32, refused(now))
    assert produce_v8(broker, marked(-1), b"created")[:2] == (32, refused(-1))
    assert produce_v8(broker, marked(now), b"created") == (0, [], None)  # stored as CreateTime
    assert produce_v8(broker, v2_batch(v2_record(0, key=b"k")), b"keyed") == (0, [], None)
    assert still_serves(broker)


def test_api_versions_v3_checks_client_software_fields(broker):
    """KIP-511: name and version must be [a-zA-Z0-9.-], alphanumeric at both ends."""
    def request(name, version):
        compact = lambda b: bytes([len(b) + 1]) + b
        frame = struct.pack(">hhih", 18, 3, 9, 4) + b"test" + b"\x00" + compact(name) + compact(version) + b"\x00"
        data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
        size, corr, err = struct.unpack(">iih", data[:10])
        assert corr == 9
        return err
    assert request(b"librdkafka", b"2.0.2") == 0
    assert request(b"bad name!", b"1.0") == 42  # INVALID_REQUEST
    assert request(b"ok", b"-1.0") == 42
    assert still_serves(broker)


def test_metadata_v10_and_v11_refuse_topic_ids_as_kafka_does(broker):
    """Ids are looked up from Metadata v12; before it, a topic without a name or with an
    id makes Kafka refuse the whole request: each topic echoed ("" for no name) with
    INVALID_REQUEST, and no brokers, cluster id or controller."""
    topic_id = bytes(range(1, 17))
    no_ops = struct.pack(">i", -2**31)  # authorized operations not asked for
    for version in (10, 11):
        cluster_ops_flag = b"\x00" if version == 10 else b""
        for name in (b"\x00", b"\x04abc"):  # null; "abc" with an id
            body = b"\x02" + topic_id + name + b"\x00" + b"\x00" + cluster_ops_flag + b"\x00" + b"\x00"
            frame = struct.pack(">hhih", 3, version, 9, 4) + b"test" + b"\x00" + body
            data = roundtrip(broker, struct.pack(">i", len(frame)) + frame)
            echoed = b"\x01" if name == b"\x00" else name
            assert data[4:] == (struct.pack(">i", 9) + b"\x00" + struct.pack(">i", 0) + b"\x01" + b"\x00"
                                + struct.pack(">i", -1) + b"\x02" + struct.pack(">h", 42) + echoed + topic_id
                                + b"\x00" + b"\x01" + no_ops + b"\x00" + (no_ops if version == 10 else b"")
                                + b"\x00"), (version, name, data.hex())
    assert still_serves(broker)


def test_large_frame_sent_in_two_parts_is_answered(broker):
    """A 200 KiB frame whose first part is already read when the rest arrives: the
    broker must not wait for more bytes than the client still has to send."""
    frame = struct.pack(">hhih", 18, 99, 43, -1) + b"\0" * (200 * 1024)
    payload = struct.pack(">i", len(frame)) + frame
    for split in (4 + 90 * 1024, 4 + 150 * 1024):
        s = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        s.sendall(payload[:split])
        time.sleep(0.3)  # the broker reads this part before the rest is sent
        s.sendall(payload[split:])
        data = b""
        while len(data) < 10:
            chunk = s.recv(65536)  # a hang shows as socket.timeout
            assert chunk, "closed without an answer"
            data += chunk
        s.close()
        _, corr, err = struct.unpack(">iih", data[:10])
        assert corr == 43 and err == 35
    assert broker.alive() and still_serves(broker)


def test_clients_cannot_write_to_the_group_coordinators_topic(broker):
    """As Kafka: appends to __consumer_offsets from any client id but Kafka's own admin
    tools' get INVALID_TOPIC_EXCEPTION (17), so no client can slip records into the
    coordinator's state."""
    from confluent_kafka import KafkaError, Producer
    refused = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    p.produce("__consumer_offsets", key=b"k", value=b"v", partition=0,
              on_delivery=lambda err, msg: refused.append(err))
    p.flush(20)
    assert [e.code() for e in refused] == [KafkaError.TOPIC_EXCEPTION]
    assert still_serves(broker)


def test_an_acks_0_produce_that_fails_closes_the_connection(broker):
    """acks=0 gets no answer, so, as Kafka does, a failed one closes the connection (the
    client then reconnects and refreshes its metadata); a good one leaves it open."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fire", 1, 1)])["fire"].result()
    record = bytes.fromhex("12000000010661626300")

    def produce_acks_0(partition):
        body = (struct.pack(">hhii", -1, 0, 30000, 1) + struct.pack(">h", 4) + b"fire" + struct.pack(">i", 1)
                + struct.pack(">ii", partition, len(v2_batch(record))) + v2_batch(record))
        frame = struct.pack(">hhih", 0, 3, 31, -1) + body
        return struct.pack(">i", len(frame)) + frame

    versions = api_versions_request(0, correlation=32)
    versions = struct.pack(">i", len(versions)) + versions
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
        s.sendall(produce_acks_0(0) + versions)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        assert struct.unpack(">i", s.recv(size, socket.MSG_WAITALL)[:4])[0] == 32  # only ApiVersions answers
        s.sendall(produce_acks_0(7) + versions)  # no partition 7
        assert s.recv(4) == b""  # closed, nothing answered
    assert still_serves(broker)


def metric(b, name):
    """One unlabelled value from the broker's /metrics."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{b.admin_port}/metrics", timeout=10).read().decode()
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def test_idle_connections_are_closed(tmp_path):
    """connections.max.idle.ms, as Kafka: a connection with nothing read or answered
    for that long is closed; one that keeps asking stays open."""
    import time

    b = Broker(str(tmp_path), extra=["connections.max.idle.ms=600"]).start()
    try:
        def ask(s, corr):
            req = api_versions_request(0, corr)
            s.sendall(struct.pack(">i", len(req)) + req)
            data = b""
            while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
                chunk = s.recv(65536)
                assert chunk, "closed while active"
                data += chunk
            assert struct.unpack(">i", data[4:8])[0] == corr

        idle = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        busy = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        ask(idle, 1)
        for i in range(10):  # 2 s of a request every 200 ms
            ask(busy, 10 + i)
            time.sleep(0.2)
        idle.settimeout(2)
        assert idle.recv(100) == b""  # closed by the broker
        ask(busy, 99)
        assert still_serves(b)
        assert metric(b, "fjord_connections_closed_idle_total") >= 1
        assert metric(b, "fjord_connections") >= 1  # busy
    finally:
        b.stop()


@pytest.mark.parametrize("limit", ["max.connections", "max.connections.per.ip"])
def test_connections_past_the_limit_are_closed(tmp_path, limit):
    """max.connections / max.connections.per.ip: a connection past the limit is closed
    at once; once one closes, a new one is served."""
    import time

    b = Broker(str(tmp_path), extra=[f"{limit}=2"]).start()
    try:
        def served(s, corr=5):
            req = api_versions_request(0, corr)
            try:
                s.sendall(struct.pack(">i", len(req)) + req)
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return False
            return len(data) > 8 and struct.unpack(">i", data[4:8])[0] == corr

        def connect_served():  # a slot comes back once the broker has seen its close
            deadline = time.time() + 5
            while True:
                s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
                if served(s) or time.time() > deadline:
                    return s
                time.sleep(0.1)

        first, second = connect_served(), connect_served()  # (the start-up probe's slot too)
        assert served(first, 8) and served(second, 9)
        third = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        assert not served(third)
        first.close()
        held = connect_served()
        assert served(held, 6)
        assert "past max.connections" in open(b.log_path).read()
        assert metric(b, "fjord_connections_refused_total") >= 1
        # A client reconnecting in a loop gets refused each time, and logged 10 times at most
        # per 5 s (a line per try before).
        for _ in range(200):
            with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
                assert not served(s)
        assert metric(b, "fjord_connections_refused_total") >= 200
        assert open(b.log_path).read().count("past max.connections") <= 20
    finally:
        b.stop()


def _ss(*args):
    return subprocess.run(["ss", "-Hn", *args], capture_output=True, text=True, check=True).stdout


def test_listen_backlog_defaults_to_kafkas_50(broker):
    """socket.listen.backlog.size: ss shows a listening socket's backlog as its Send-Q."""
    fields = _ss("-lt", f"sport = :{broker.port}").split()
    assert fields[2] == "50", fields


def test_socket_options_from_server_properties(tmp_path):
    """socket.listen.backlog.size, socket.send.buffer.bytes and socket.receive.buffer.bytes
    reach the sockets (Linux reports twice what setsockopt asked for, its bookkeeping)."""
    import re

    b = Broker(str(tmp_path), extra=["socket.listen.backlog.size=77", "socket.send.buffer.bytes=32768",
                                     "socket.receive.buffer.bytes=65536"]).start()
    try:
        assert _ss("-lt", f"sport = :{b.port}").split()[2] == "77"
        client = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        req = api_versions_request(0, 3)
        client.sendall(struct.pack(">i", len(req)) + req)
        assert client.recv(65536)
        server_side = _ss("-tm", "state", "established", f"sport = :{b.port}")
        mem = re.search(r"skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)", server_side)
        assert mem, server_side
        assert (int(mem.group(1)), int(mem.group(2))) == (2 * 65536, 2 * 32768)
        client.close()
    finally:
        b.stop()


def test_queued_max_request_bytes_holds_requests_back_at_the_socket(tmp_path):
    """queued.max.request.bytes, as Kafka's memory pool: while one connection's 1 MiB request
    holds the whole budget, another's small request waits unread; it is answered once the
    first is handled (here: closed as garbage). A budget below socket.request.max.bytes
    stops start-up."""
    from conftest import BIN, Broker

    r = subprocess.run([BIN, "--override", f"log.dirs={tmp_path}/x", "--override", "queued.max.request.bytes=1000"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "queued.max.request.bytes=1000: must be at least socket.request.max.bytes" in r.stderr

    b = Broker(str(tmp_path), extra=["socket.request.max.bytes=1048576", "queued.max.request.bytes=1048576"]).start()
    try:
        big = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        big.sendall(struct.pack(">i", 1048570) + b"\xee" * 100)  # nearly all of the budget
        time.sleep(0.3)  # its body is being read: the budget is taken
        small = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        req = api_versions_request(0, 11)
        small.sendall(struct.pack(">i", len(req)) + req)
        small.settimeout(1)
        try:
            small.recv(65536)
            raise AssertionError("answered while the budget was taken")
        except socket.timeout:
            pass
        big.sendall(b"\xee" * (1048570 - 100))  # garbage: the broker closes it and gives the bytes back
        small.settimeout(10)
        data = small.recv(65536)
        assert len(data) > 8 and struct.unpack(">i", data[4:8])[0] == 11
        big.close()
        small.close()
        assert still_serves(b)
    finally:
        b.stop()


def test_a_connection_does_not_keep_the_buffer_of_one_large_request(tmp_path):
    """A 40 MB produce request grows the connection's buffer; once it is handled the
    buffer goes (the producer's connection stays open)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    b = Broker(str(tmp_path), extra=["message.max.bytes=60000000"]).start()
    try:
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("large", 1, 1)])["large"].result()
        p = Producer({"bootstrap.servers": b.bootstrap, "message.max.bytes": 60000000, "linger.ms": 0,
                      "compression.type": "none"})
        p.produce("large", b"warm-up")
        assert p.flush(30) == 0
        before = rss_mib(b.proc.pid)
        delivered = []
        p.produce("large", os.urandom(40 * 1024 * 1024), on_delivery=lambda err, m: delivered.append(err))
        assert p.flush(60) == 0 and delivered == [None]
        grown = rss_mib(b.proc.pid) - before
        assert grown < 20, f"{grown:.0f} MiB still held after a 40 MiB request"
        assert still_serves(b)
    finally:
        b.stop()


def alter_configs_v0(broker, resource_type, name, key, value):
    """AlterConfigs v0 with raw bytes (kafka-python would encode str): (error, message)."""
    def string(b):
        return struct.pack(">h", len(b)) + b
    body = (struct.pack(">ib", 1, resource_type) + string(name) + struct.pack(">i", 1) + string(key) +
            string(value) + b"\x00")
    header = struct.pack(">hhih", 33, 0, 7, 4) + b"test"
    data = roundtrip(broker, struct.pack(">i", len(header) + len(body)) + header + body)
    # size, correlation id, throttle time, resource count, then the first resource's answer
    error, length = struct.unpack(">hh", data[16:20])
    return error, None if length < 0 else data[20:20 + length].decode("utf-8")


def test_ill_formed_utf8_in_strings_is_decoded_as_kafka_decodes_it(tmp_path):
    # Kafka reads a string's ill-formed UTF-8 as U+FFFD. Fjord kept the bytes. An error
    # message then echoed bytes no client could decode. A config value reached the
    # controller, whose protobuf records refuse strings that are not UTF-8, so the value
    # was answered with UNKNOWN_SERVER_ERROR (-1).
    b = Broker(str(tmp_path)).start()
    try:
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("utf", 1, 1)])["utf"].result(15)
        error, message = alter_configs_v0(b, 2, b"utf", b"follower.replication.throttled.replicas", b"\xff:\xe2\x82")
        assert error == 40, (error, message)  # INVALID_CONFIG, in words a client can read
        assert message.startswith("Invalid value \ufffd:\ufffd for configuration"), message
        # Kafka reads no further than "3.0" of a version: the rest is kept as it came
        assert alter_configs_v0(b, 2, b"utf", b"message.format.version", b"3.0.\xc0") == (0, None)
        error, message = alter_configs_v0(b, 4, b"", b"log.message.format.version", b"\xed\xa0\x80")
        assert error == 40 and "Version \ufffd\ufffd\ufffd is not a valid version" in message, (error, message)
        b.stop()
        b.start()  # the controller's log replays, values and all
        from confluent_kafka.admin import ConfigResource
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        topic = ConfigResource(ConfigResource.Type.TOPIC, "utf")
        configs = admin.describe_configs([topic])[topic].result(15)
        assert configs["message.format.version"].value == "3.0.\ufffd"
        assert still_serves(b)
    finally:
        b.stop()


def test_a_config_value_that_is_not_utf8_stops_start_up(tmp_path):
    # It reached the controller in the broker's registration (broker.rack), whose protobuf
    # refused it: start-up failed with "registering with the controller quorum: " and no
    # reason.
    from conftest import BIN
    r = subprocess.run([BIN, "--override", f"log.dirs={tmp_path}/x", "--override", b"broker.rack=r\xff"],
                       capture_output=True, timeout=30)
    assert r.returncode != 0 and b"config broker.rack: not valid UTF-8" in r.stderr, r.stderr


def test_a_string_longer_than_kafka_allows_closes_the_connection(tmp_path):
    # A string holds at most 32767 bytes, compact or not. Fjord read a longer compact
    # string, and a string whose ill-formed UTF-8 outgrew the limit once replaced with
    # U+FFFD. An OffsetCommit with such a group id was answered, its record written with
    # a wrapped length, and after a restart the acknowledged commit was gone.
    def uvarint(n):
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    def frame(api, version, body, flexible):
        header = struct.pack(">hhih", api, version, 7, 4) + b"test" + (b"\x00" if flexible else b"")
        return struct.pack(">i", len(header) + len(body)) + header + body

    def commit_v2(group):
        return frame(8, 2, struct.pack(">h", len(group)) + group + struct.pack(">ihqi", -1, 0, -1, 1) +
                     struct.pack(">h", 1) + b"t" + struct.pack(">iiqh", 1, 0, 5, 0), flexible=False)

    def commit_v8(group):
        cstr = lambda s: uvarint(len(s) + 1) + s
        body = (cstr(group) + struct.pack(">i", -1) + cstr(b"") + b"\x00" + uvarint(2) + cstr(b"t") + uvarint(2) +
                struct.pack(">iqi", 0, 5, -1) + cstr(b"") + b"\x00\x00\x00")
        return frame(8, 8, body, flexible=True)

    b = Broker(str(tmp_path)).start()
    try:
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        admin.create_topics([NewTopic("t", 1, 1)])["t"].result(15)
        for request in (commit_v8(b"g" * 32767), commit_v2(b"\xff" * 10922)):
            data = roundtrip(b, request)  # at the limit: answered
            assert data and struct.unpack(">h", data[-2:])[0] == 0, data
        for request in (commit_v8(b"g" * 32768), commit_v2(b"\xff" * 10923)):
            assert roundtrip(b, request) == b""  # past it: closed, nothing written
        log = b.log_path.read_text()
        assert "GroupId: string of 32768 bytes, more than 32767" in log
        assert "GroupId: 32769 bytes once its ill-formed UTF-8 is replaced, more than 32767" in log
        assert still_serves(b)
    finally:
        b.stop()
