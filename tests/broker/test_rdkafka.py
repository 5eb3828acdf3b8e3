"""node-rdkafka, which builds librdkafka 2.12 from source: the newest protocol versions
librdkafka sends (Debian's librdkafka is 2.0), as admin, idempotent producer, group
consumers and an assigned consumer that seeks by timestamp, in one process."""
import json
import subprocess

from conftest import CLIENTS_DIR

RECORDS = 2000  # rdkafka_clients.js sends record i (0 <= i < RECORDS) to partition i % 4
STAMP = 1700000000000  # and stamps it STAMP + i


def test_node_rdkafka_admin_produce_consume_and_seek(broker):
    r = subprocess.run(["node", f"{CLIENTS_DIR}/rdkafka_clients.js", broker.bootstrap, "rdk"],
                       capture_output=True, timeout=120, cwd=CLIENTS_DIR)
    assert r.returncode == 0, r.stderr.decode()[-3000:] + broker.log_path.read_text()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert out["librdkafka"].startswith("2.12")
    assert out["createAgain"] == 36  # TOPIC_ALREADY_EXISTS
    assert out["shrink"] == 37  # INVALID_PARTITIONS
    assert (out["acked"], out["failed"]) == (RECORDS, 0)
    # Metadata for all topics: librdkafka sends 3 bytes after the request (its issue
    # #5049); Kafka reads the request and answers, and so must Fjord
    assert out["metadataAll"] == [4]
    assert out["metadataOne"] == [["rdk", 4]]
    assert out["watermarks"] == [[0, RECORDS // 4]] * 4
    # every record back, byte for byte, each partition in order
    want = {(i % 4, i // 4): [f"key-{i}", f"value-{i}", str(i), STAMP + i] for i in range(RECORDS)}
    got = {(p, o): rest for p, o, *rest in out["consumed"]}
    assert len(out["consumed"]) == RECORDS and got == want
    assert out["committed"] == [[p, RECORDS // 4] for p in range(4)]
    # the group's next member starts at the committed offsets: only the 8 new records
    assert out["resumed"] == sorted(f"value-{i}" for i in range(RECORDS, RECORDS + 8))
    # the first record stamped at or after STAMP + 1000, in each partition
    assert out["offsetsForTimes"] == [[p, 250] for p in range(4)]
    assert out["fromTimestamp"] == [2, 250, "key-1002", "value-1002", "1002", STAMP + 1002]
    assert out["deleteAgain"] == 3  # UNKNOWN_TOPIC_OR_PARTITION
