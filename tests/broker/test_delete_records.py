"""DeleteRecords through kafkajs's admin: the low watermark moves and earlier records
are gone, also after a restart. (An offset past the high watermark is refused by
kafkajs itself before it asks; the broker's OutOfRange answer is unit-tested in
log_partition_test.) And Kafka's refusals, through kafka-python's encoding."""
import json
import subprocess

from conftest import CLIENTS_DIR


SCRIPT = r"""
const { Kafka, logLevel } = require('kafkajs');
const bootstrap = process.argv[process.argv.length - 1];  // node -e: no script path in argv
const kafka = new Kafka({ clientId: 'fjord-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'trim', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '2000' }] }] });
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < 100; i++) await producer.send({ topic: 'trim', messages: [{ value: 'm' + i }] });
  await producer.disconnect();
  // kafkajs finds partition leaders in its cached metadata only (as against Kafka):
  // load the new topic's metadata first.
  await admin.fetchTopicMetadata({ topics: ['trim'] });
  await admin.deleteTopicRecords({ topic: 'trim', partitions: [{ partition: 0, offset: '40' }] });
  const offsets = await admin.fetchTopicOffsets('trim');
  console.log(JSON.stringify({ low: offsets[0].low, high: offsets[0].high }));
  await admin.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_delete_records_with_kafkajs(broker):
    r = subprocess.run(["node", "-e", SCRIPT, broker.bootstrap], capture_output=True, timeout=120,
                       cwd=CLIENTS_DIR)
    assert r.returncode == 0, r.stderr.decode()
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert out["low"] == "40" and out["high"] == "100"
    for restarted in (False, True):
        if restarted:
            broker.stop()
            broker.start()
        first = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "trim", "-o", "beginning", "-e", "-q",
                                "-f", "%o %s\n"], capture_output=True, timeout=60).stdout.decode().splitlines()
        assert first[0] == "40 m40" and len(first) == 60


def test_delete_records_refusals_are_kafkas(broker):
    """Kafka refuses DeleteRecords on an internal topic (INVALID_TOPIC_EXCEPTION, 17), on a
    topic whose cleanup.policy lacks delete (POLICY_VIOLATION, 44) and to a negative
    offset other than -1 (OFFSET_OUT_OF_RANGE, 1)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from conftest import delete_records

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("plain", 1, 1),
                                  NewTopic("table", 1, 1, config={"cleanup.policy": "compact"})]).values():
        f.result()
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for topic in ("plain", "table"):
        for i in range(3):
            p.produce(topic, key=b"k%d" % i, value=b"v")
    p.flush(20)

    def delete(topic, offset):
        return delete_records(broker, topic, 0, offset)

    assert delete("__consumer_offsets", 0)[0] == 17
    assert delete("table", 1)[0] == 44
    assert delete("plain", -5)[0] == 1
    assert delete("plain", 1) == (0, 1)
    assert delete("plain", -1) == (0, 3)  # -1: up to the high watermark
