"""A confluent-kafka (librdkafka) group member run as its own process by the group
tests. Prints one JSON object per line on stdout:
  {"event": "ready"}                                   subscribed
  {"event": "assign"|"revoke", "partitions": [...], "t": time}
  {"event": "msgs", "records": [[partition, offset, value], ...]}
  {"event": "closed"}
Commits synchronously after each batch it has processed and before giving up
partitions, so its committed offsets always lie at what it has printed.
Usage: confluent_group_consumer.py BOOTSTRAP TOPIC GROUP [key=value librdkafka config]...
SIGTERM: commit, close (leaving the group), exit."""
import json
import signal
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, group = sys.argv[1:4]
conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
for kv in sys.argv[4:]:
    k, v = kv.split("=", 1)
    conf[k] = v
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


c = Consumer(conf)


def on_assign(consumer, partitions):
    emit({"event": "assign", "partitions": sorted(p.partition for p in partitions), "t": time.time()})


def on_revoke(consumer, partitions):
    try:
        consumer.commit(asynchronous=False)
    except Exception:
        pass  # nothing consumed yet
    emit({"event": "revoke", "partitions": sorted(p.partition for p in partitions), "t": time.time()})


c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
emit({"event": "ready"})
deadline = time.time() + 120  # bounded: the tests stop it long before
while not stop and time.time() < deadline:
    msgs = [m for m in c.consume(num_messages=500, timeout=0.2) if m.error() is None]
    if msgs:
        emit({"event": "msgs", "records": [[m.partition(), m.offset(), m.value().decode()] for m in msgs]})
        c.commit(asynchronous=False)
try:
    c.commit(asynchronous=False)
except Exception:
    pass
c.close()
emit({"event": "closed"})
