"""fjordctl group commands against a real broker, with a confluent-kafka consumer group
as the other witness: lag as confluent-kafka computes it, resets seen by its consumers."""
import subprocess
import time

from confluent_kafka import Consumer, TopicPartition


def produce(broker, topic, per_partition, partitions):
    for p in range(partitions):
        lines = "".join(f"{topic}-{p}-{i}\n" for i in range(per_partition))
        subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", topic, "-p", str(p)], input=lines.encode(),
                       check=True, timeout=60)


def consumer(broker, group):
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000})


def consume_and_commit(c, count):
    got = 0
    deadline = time.time() + 30
    while got < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
            if got == count:
                c.commit(asynchronous=False)  # every partition read so far
    assert got == count


def test_describe_shows_members_and_the_lag_confluent_kafka_computes(broker, ctl):
    assert ctl.run("topic", "create", "gt", "--partitions", "3").returncode == 0
    produce(broker, "gt", 50, 3)
    c = consumer(broker, "g1")
    c.subscribe(["gt"])
    consume_and_commit(c, 40)
    parts = [TopicPartition("gt", p) for p in range(3)]
    committed = {tp.partition: tp.offset for tp in c.committed(parts, timeout=10)}
    expected = {}
    for p in range(3):
        _, high = c.get_watermark_offsets(TopicPartition("gt", p), timeout=10)
        expected[p] = high - committed[p] if committed[p] >= 0 else None
    d = ctl.json("group", "describe", "g1")
    assert d["state"] == "Stable" and d["protocol_type"] == "consumer" and len(d["members"]) == 1
    rows = {r["partition"]: r for r in d["partitions"] if r["topic"] == "gt"}
    assert set(rows) == {0, 1, 2}
    for p in range(3):
        assert rows[p]["lag"] == expected[p], (p, rows[p], expected)
        assert rows[p]["member_id"] == d["members"][0]["member_id"]
    assert d["total_lag"] == sum(v for v in expected.values() if v is not None)
    listed = ctl.json("group", "list")
    assert {"group": "g1", "state": "Stable", "protocol_type": "consumer"} in listed
    assert ctl.json("group", "list", "--state", "Empty") == []
    text = ctl.run("group", "describe", "g1")
    assert text.returncode == 0 and b"TOTAL LAG" in text.stdout
    # An active group refuses an admin reset.
    r = ctl.run("group", "reset-offsets", "g1", "--topic", "gt", "--to-earliest", "--execute")
    assert r.returncode == 1 and r.stderr.startswith(b"fjordctl: group reset-offsets g1:"), r.stderr
    c.close()


def test_reset_offsets_dry_run_then_execute(broker, ctl):
    assert ctl.run("topic", "create", "rt", "--partitions", "2").returncode == 0
    produce(broker, "rt", 30, 2)
    c = consumer(broker, "g2")
    c.subscribe(["rt"])
    consume_and_commit(c, 60)
    c.close()
    parts = [TopicPartition("rt", p) for p in range(2)]

    def committed():
        c2 = consumer(broker, "g2")
        out = {tp.partition: tp.offset for tp in c2.committed(parts, timeout=10)}
        c2.close()
        return out

    assert committed() == {0: 30, 1: 30}
    plan = ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--to-earliest")
    assert plan["executed"] is False
    assert [(p["current_offset"], p["new_offset"]) for p in plan["partitions"]] == [(30, 0), (30, 0)]
    assert committed() == {0: 30, 1: 30}  # a dry run changes nothing
    assert ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--to-earliest", "--execute")["executed"]
    assert committed() == {0: 0, 1: 0}
    ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--shift-by", "7", "--execute")
    assert committed() == {0: 7, 1: 7}
    ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--shift-by", "-100", "--execute")
    assert committed() == {0: 0, 1: 0}  # clamped to the log start
    ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--to-datetime", "2099-01-01T00:00:00Z", "--execute")
    assert committed() == {0: 30, 1: 30}  # nothing that late: the end
    # A consumer of the group now starts where the reset put it.
    ctl.json("group", "reset-offsets", "g2", "--topic", "rt", "--shift-by", "-5", "--execute")
    c = consumer(broker, "g2")
    c.subscribe(["rt"])
    seen = []
    deadline = time.time() + 30
    while len(seen) < 10 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            seen.append((m.partition(), m.offset()))
    c.close()
    assert sorted(seen) == [(p, o) for p in range(2) for o in range(25, 30)]


def test_delete_and_bad_group_usage(broker, ctl):
    assert ctl.run("topic", "create", "dt", "--partitions", "1").returncode == 0
    produce(broker, "dt", 5, 1)
    c = consumer(broker, "g3")
    c.subscribe(["dt"])
    consume_and_commit(c, 5)
    r = ctl.run("group", "delete", "g3")
    assert r.returncode == 1 and b"NON_EMPTY_GROUP" in r.stderr
    c.close()
    r = ctl.run("group", "delete", "g3")
    assert r.returncode == 0, r.stderr
    assert all(g["group"] != "g3" for g in ctl.json("group", "list"))
    r = ctl.run("group", "describe", "g3")
    assert r.returncode == 1 and b"GROUP_ID_NOT_FOUND" in r.stderr
    for argv in (["group", "reset-offsets", "g"], ["group", "reset-offsets", "g", "--topic", "t"],
                 ["group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"],
                 ["group", "reset-offsets", "g", "--topic", "t", "--shift-by", "x"],
                 ["group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "yesterday"],
                 ["group", "describe"], ["group", "delete"]):
        r = ctl.run(*argv)
        assert r.returncode == 2, (argv, r.stderr)
