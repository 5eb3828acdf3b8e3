"""Consumer groups with real clients as processes (issue 5): partitions owned once,
failover after SIGKILL within the session timeout, at-least-once delivery, resume
from committed offsets, cooperative-sticky, static membership, kafka-python and
kafkajs groups, offsets that survive restarts and kill -9."""
import json
import signal
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import CLIENTS_DIR, Broker

SESSION_MS = 6000


class Member:
    """One confluent_group_consumer.py process and what it has said."""

    def __init__(self, broker, topic, group, *config):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", f"{CLIENTS_DIR}/confluent_group_consumer.py", broker.bootstrap, topic, group,
             f"session.timeout.ms={SESSION_MS}", *config],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.events, self.records, self.owned = [], [], set()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            e = json.loads(line)
            with self.lock:
                self.events.append(e)
                if e["event"] == "assign":
                    self.owned |= set(e["partitions"])
                elif e["event"] == "revoke":
                    self.owned -= set(e["partitions"])
                elif e["event"] == "msgs":
                    self.records.extend(e["records"])

    def partitions(self):
        with self.lock:
            return set(self.owned)

    def values(self):
        with self.lock:
            return {r[2] for r in self.records}

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.reader.join(5)


def wait_for(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return time.time()
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def owned_exactly_once(members, partitions):
    seen = [p for m in members for p in m.partitions()]
    return sorted(seen) == sorted(partitions)


def produce(broker, topic, values, partitions):
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for i, v in enumerate(values):
        p.produce(topic, value=v.encode(), partition=i % partitions)
    p.flush(20)


def committed(broker, group, topic, partitions):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    c.close()
    return {tp.partition: tp.offset for tp in got}


@pytest.fixture
def gbroker():
    import tempfile
    with tempfile.TemporaryDirectory(prefix="fjord-groups-") as d:
        b = Broker(d, extra=["group.initial.rebalance.delay.ms=0"]).start()
        yield b
        b.stop()


def create(broker, topic, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result()


def test_three_members_failover_and_resume(gbroker):
    create(gbroker, "orders", 12)
    first = [f"a{i}" for i in range(1200)]
    produce(gbroker, "orders", first, 12)
    members = [Member(gbroker, "orders", "billing") for _ in range(3)]
    try:
        wait_for(lambda: owned_exactly_once(members, range(12)) and all(m.partitions() for m in members), 30,
                 "three members sharing 12 partitions")
        killed_at = time.time()
        members[2].kill()
        moved_at = wait_for(lambda: owned_exactly_once(members[:2], range(12)), SESSION_MS / 1000 + 10,
                            "the killed member's partitions to move")
        print(f"partitions moved {moved_at - killed_at:.2f} s after SIGKILL (session.timeout.ms={SESSION_MS})")
        assert moved_at - killed_at <= SESSION_MS / 1000 + 5
        second = [f"b{i}" for i in range(1200)]
        produce(gbroker, "orders", second, 12)
        everyone = set(first) | set(second)
        wait_for(lambda: everyone <= (members[0].values() | members[1].values() | members[2].values()), 60,
                 "every record to be consumed at least once")
    finally:
        for m in members:
            m.stop()
    offsets = committed(gbroker, "billing", "orders", 12)
    assert offsets == {p: 200 for p in range(12)}, offsets
    # A restarted group resumes at the committed offsets: nothing before them again.
    third = [f"c{i}" for i in range(120)]
    produce(gbroker, "orders", third, 12)
    again = Member(gbroker, "orders", "billing")
    try:
        wait_for(lambda: set(third) <= again.values(), 30, "the restarted member to read the new records")
    finally:
        again.stop()
    assert {r[2] for r in again.records} == set(third)
    assert min(r[1] for r in again.records) == 200


def test_cooperative_sticky_moves_only_what_it_must(gbroker):
    create(gbroker, "coop", 12)
    a = Member(gbroker, "coop", "coop-group", "partition.assignment.strategy=cooperative-sticky")
    b = None
    try:
        wait_for(lambda: a.partitions() == set(range(12)), 30, "the first member to own everything")
        b = Member(gbroker, "coop", "coop-group", "partition.assignment.strategy=cooperative-sticky")
        wait_for(lambda: owned_exactly_once([a, b], range(12)) and len(b.partitions()) == 6, 30,
                 "an even split")
        revokes = [e for e in a.events if e["event"] == "revoke"]
        # Incremental: the first member only ever gave up the six partitions that moved.
        assert revokes and all(len(e["partitions"]) < 12 for e in revokes)
        assert sum(len(e["partitions"]) for e in revokes) == 6
    finally:
        a.stop()
        if b:
            b.stop()


def test_static_member_returns_without_rebalancing_others(gbroker):
    create(gbroker, "static", 6)
    conf = lambda name: (f"group.instance.id={name}", "session.timeout.ms=15000")
    members = [Member(gbroker, "static", "static-group", *conf(f"m{i}")) for i in range(3)]
    try:
        wait_for(lambda: owned_exactly_once(members, range(6)) and all(m.partitions() for m in members), 30,
                 "a stable static group")
        time.sleep(1)
        before = members[1].partitions()
        counts = [len(m.events) for m in members]
        members[1].kill()
        time.sleep(1)
        members[1] = Member(gbroker, "static", "static-group", *conf("m1"))
        wait_for(lambda: members[1].partitions() == before, 20, "the static member to get its partitions back")
        time.sleep(2)
        for i in (0, 2):
            later = [e for e in members[i].events[counts[i]:] if e["event"] in ("assign", "revoke")]
            assert later == [], f"member {i} rebalanced: {later}"
    finally:
        for m in members:
            m.stop()


def test_kafka_python_group_commits_and_resumes(gbroker):
    from kafka import KafkaConsumer
    create(gbroker, "kp", 3)
    produce(gbroker, "kp", [f"k{i}" for i in range(300)], 3)
    script = r"""
import json, sys
from kafka import KafkaConsumer
c = KafkaConsumer("kp", bootstrap_servers=sys.argv[1], group_id="kp-group", auto_offset_reset="earliest",
                  enable_auto_commit=False, consumer_timeout_ms=8000, session_timeout_ms=10000)
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) == int(sys.argv[2]):
        break
c.commit()
c.close()
print(json.dumps(got))
"""
    r = subprocess.run(["/usr/bin/python3", "-c", script, gbroker.bootstrap, "300"], capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert sorted(json.loads(r.stdout)) == sorted(f"k{i}" for i in range(300))
    produce(gbroker, "kp", [f"n{i}" for i in range(30)], 3)
    r = subprocess.run(["/usr/bin/python3", "-c", script, gbroker.bootstrap, "30"], capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert sorted(json.loads(r.stdout)) == sorted(f"n{i}" for i in range(30))


KAFKAJS_GROUP = r"""
const { Kafka, logLevel } = require('kafkajs');
const [bootstrap, want] = process.argv.slice(-2);
const kafka = new Kafka({ clientId: 'fjord-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
(async () => {
  const consumer = kafka.consumer({ groupId: 'js-group', sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js', fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out with ' + got.length)), 60000);
    consumer.run({ eachMessage: async ({ message }) => {
      got.push(message.value.toString());
      if (got.length === Number(want)) { clearTimeout(timer); resolve(); }
    } }).catch(reject);
  });
  await consumer.disconnect();  // commits what was processed
  console.log(JSON.stringify(got));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_kafkajs_group_commits_and_resumes(gbroker):
    create(gbroker, "js", 3)
    produce(gbroker, "js", [f"j{i}" for i in range(90)], 3)
    run = lambda n: subprocess.run(["node", "-e", KAFKAJS_GROUP, gbroker.bootstrap, str(n)], capture_output=True,
                                   timeout=120, cwd=CLIENTS_DIR)
    r = run(90)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert sorted(json.loads(r.stdout.decode().strip().splitlines()[-1])) == sorted(f"j{i}" for i in range(90))
    produce(gbroker, "js", [f"x{i}" for i in range(9)], 3)
    r = run(9)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert sorted(json.loads(r.stdout.decode().strip().splitlines()[-1])) == sorted(f"x{i}" for i in range(9))


def test_committed_offsets_survive_restart_and_kill_9(gbroker):
    create(gbroker, "keep", 4)
    c = Consumer({"bootstrap.servers": gbroker.bootstrap, "group.id": "keeper", "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("keep", p, 10 * (p + 1)) for p in range(4)], asynchronous=False)
    c.close()
    expected = {p: 10 * (p + 1) for p in range(4)}
    assert committed(gbroker, "keeper", "keep", 4) == expected
    gbroker.stop()
    gbroker.start()
    assert committed(gbroker, "keeper", "keep", 4) == expected
    c = Consumer({"bootstrap.servers": gbroker.bootstrap, "group.id": "keeper", "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("keep", 0, 77)], asynchronous=False)
    c.close()
    gbroker.proc.send_signal(signal.SIGKILL)
    gbroker.proc.wait()
    gbroker.proc = None
    gbroker.start()
    assert committed(gbroker, "keeper", "keep", 4) == {**expected, 0: 77}


def test_bad_group_requests_get_kafkas_error_codes(gbroker):
    """Encoded with kafka-python's protocol classes and sent raw: stale generations,
    unknown members, oversized metadata and the like get the codes clients expect."""
    from kafka.protocol.admin import DeleteGroupsRequest_v0
    from kafka.protocol.commit import OffsetCommitRequest_v2
    from kafka.protocol.group import (HeartbeatRequest_v0, JoinGroupRequest_v1, LeaveGroupRequest_v0,
                                      SyncGroupRequest_v0)

    from conftest import call
    create(gbroker, "bad", 2)
    join = lambda member, timeout=10000, ptype="consumer": call(
        gbroker, JoinGroupRequest_v1("g1", timeout, 10000, member, ptype, [("range", b"meta")]))
    assert join("", timeout=1000).error_code == 26  # INVALID_SESSION_TIMEOUT (group.min.session.timeout.ms)
    nameless = call(gbroker, JoinGroupRequest_v1("", 10000, 10000, "", "consumer", [("range", b"meta")]))
    assert nameless.error_code == 24  # INVALID_GROUP_ID: only the offset APIs take ""
    joined = join("")
    assert joined.error_code == 0 and joined.leader_id == joined.member_id and joined.generation_id == 1
    member, gen = joined.member_id, joined.generation_id
    assert join("", ptype="connect").error_code == 23  # INCONSISTENT_GROUP_PROTOCOL
    synced = call(gbroker, SyncGroupRequest_v0("g1", gen, member, [(member, b"assignment")]))
    assert synced.error_code == 0 and synced.member_assignment == b"assignment"

    def commit(generation, member_id, metadata=""):
        r = call(gbroker, OffsetCommitRequest_v2("g1", generation, member_id, -1, [("bad", [(0, 5, metadata)])]))
        return r.topics[0][1][0][1]
    assert commit(gen, member) == 0
    assert commit(gen - 1, member) == 22  # ILLEGAL_GENERATION
    assert commit(gen, "nobody") == 25  # UNKNOWN_MEMBER_ID
    assert commit(gen, member, "m" * 5000) == 12  # OFFSET_METADATA_TOO_LARGE (offset.metadata.max.bytes)
    assert call(gbroker, HeartbeatRequest_v0("g1", gen, "nobody")).error_code == 25
    assert call(gbroker, HeartbeatRequest_v0("g1", gen + 1, member)).error_code == 22
    assert call(gbroker, HeartbeatRequest_v0("g1", gen, member)).error_code == 0
    assert call(gbroker, DeleteGroupsRequest_v0(["g1"])).results[0][1] == 68  # NON_EMPTY_GROUP
    assert call(gbroker, DeleteGroupsRequest_v0(["never-was"])).results[0][1] == 69  # GROUP_ID_NOT_FOUND
    assert call(gbroker, LeaveGroupRequest_v0("g1", member)).error_code == 0
    assert call(gbroker, DeleteGroupsRequest_v0(["g1"])).results[0][1] == 0
    assert committed(gbroker, "g1", "bad", 2)[0] < 0  # its offsets went with it


def offset_delete(broker, group, topics):
    """OffsetDelete v0 (KIP-496; kafka-python 2.0 has no class for it): the group's
    error code and {(topic, partition): error code}."""
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Array, Int16, Int32, Schema, String

    from conftest import call

    class OffsetDeleteResponse_v0(Response):
        API_KEY, API_VERSION = 47, 0
        SCHEMA = Schema(("error_code", Int16), ("throttle_time_ms", Int32),
                        ("topics", Array(("name", String("utf-8")),
                                         ("partitions", Array(("partition", Int32), ("error_code", Int16))))))

    class OffsetDeleteRequest_v0(Request):
        API_KEY, API_VERSION, RESPONSE_TYPE = 47, 0, OffsetDeleteResponse_v0
        SCHEMA = Schema(("group_id", String("utf-8")),
                        ("topics", Array(("name", String("utf-8")), ("partitions", Array(Int32)))))

    r = call(broker, OffsetDeleteRequest_v0(group, list(topics.items())))
    return r.error_code, {(t, p): e for t, parts in r.topics for p, e in parts}


def test_offset_delete_keeps_what_a_live_consumer_subscribes_to(gbroker):
    """OffsetDelete against a group with a librdkafka consumer in it: the topic its
    subscription names keeps its offset (GROUP_SUBSCRIBED_TO_TOPIC), another goes, though
    its name is the start of the subscribed one's."""
    from kafka.protocol.commit import OffsetCommitRequest_v2

    from conftest import call
    for topic in ("orders", "orders-eu"):
        create(gbroker, topic, 1)
    commit = call(gbroker, OffsetCommitRequest_v2("od", -1, "", -1, [(t, [(0, 0, "")]) for t in ("orders", "orders-eu")]))
    assert [e for _, parts in commit.topics for _, e in parts] == [0, 0]
    member = Member(gbroker, "orders-eu", "od")
    try:
        wait_for(lambda: member.partitions() == {0}, 30, "the consumer's assignment")
        assert offset_delete(gbroker, "od", {"orders": [0], "orders-eu": [0]}) == \
            (0, {("orders", 0): 0, ("orders-eu", 0): 86})
        assert committed(gbroker, "od", "orders", 1) == {0: -1001}  # none
        assert committed(gbroker, "od", "orders-eu", 1) == {0: 0}
    finally:
        member.stop()


def test_group_admin_with_platformatic(gbroker):
    from conftest import run_platformatic
    r = run_platformatic("platformatic_groups.mjs", gbroker.bootstrap)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert out["offsets"] == [{"group": "pg-a", "offsets": [["pg", 0, 10], ["pg", 1, 11]]},
                              {"group": "pg-b", "offsets": [["pg", 0, 20], ["pg", 1, 21]]}]
    assert out["listed"] == ["pg-a", "pg-b"]
    assert out["listedEmpty"] == ["pg-a", "pg-b"] and out["listedStable"] == []
    assert out["described"] == [["nobody", "DEAD"], ["pg-a", "EMPTY"]] or \
        out["described"] == [["nobody", "Dead"], ["pg-a", "Empty"]]
    assert out["afterOffsetDelete"] == [{"group": "pg-a", "offsets": [["pg", 1, 11]]}]
    assert out["afterDelete"] == ["pg-a"]
