"""A 3-controller quorum as real processes: leader failover, catch-up from the log and
from a snapshot, restarts, formatting, and brokers fenced by their session timeout."""
import json
import signal
import subprocess
import time

import pytest

from conftest import BIN_DIR, ELECTION_TIMEOUT_MS, FJORD, Quorum, brokers_in, describe_quorum, partitions_in, wait_until


@pytest.fixture
def quorum(workdir):
    q = Quorum(workdir, 3, overrides=["metadata.log.max.record.bytes.between.snapshots=4096"]).start()
    yield q
    q.stop()


def caught_up(q, node_id):
    d = q.describe()
    leader = [s for s in d.values() if s.get("role") == "leader"]
    node = d.get(node_id, {})
    return bool(leader) and "applied_index" in node and \
        int(node["applied_index"]) == int(leader[0]["applied_index"]) and int(node["applied_index"]) > 0


def test_leader_kill_elects_a_new_leader_within_the_election_timeout(quorum):
    first = quorum.wait_leader()
    quorum.write_configs(20)
    killed_at = time.time()
    quorum.controllers[first].kill()
    second = quorum.wait_leader(among=[i for i in quorum.controllers if i != first])
    took = time.time() - killed_at
    # Followers campaign after 45-85 % of the election timeout without a leader; the
    # slack covers this test's polling and a loaded machine.
    print(f"new leader {second} after {took:.2f} s")
    assert took < ELECTION_TIMEOUT_MS / 1000 + 0.5
    quorum.write_configs(20, start=20)  # changes keep committing with 2 of 3
    # The old leader returns as a follower and catches up from the log.
    quorum.controllers[first].start()
    wait_until(lambda: caught_up(quorum, first), 20, "the restarted controller to catch up")
    assert "installed the leader's snapshot" not in quorum.controllers[first].log_text()
    configs = [r["config"] for r in quorum.metadata(quorum=f"{first}@127.0.0.1:{quorum.controllers[first].controller_port}")
               ["state"]["records"] if "config" in r]
    assert configs == [{"resource_type": 4, "resource_name": "", "name": "fjord.test.key", "value": "39"}]


def test_a_killed_leader_far_behind_catches_up_from_a_snapshot(quorum):
    old = quorum.wait_leader()
    quorum.controllers[old].kill()
    leader = quorum.wait_leader(among=[i for i in quorum.controllers if i != old])
    follower = old
    # Well past 4 KiB of records: the leader compacts its log into snapshots meanwhile.
    r = quorum.tool("bench-writes", "--kind", "configs", "--count", "400", "--seconds", "60", "--concurrency", "4")
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"committed": 400' in r.stdout
    d = quorum.describe()
    assert int(d[leader]["snapshot_index"]) > 0, d
    quorum.controllers[follower].start()
    wait_until(lambda: caught_up(quorum, follower), 30, "the restarted controller to catch up")
    assert "installed the leader's snapshot" in quorum.controllers[follower].log_text()
    mine = quorum.metadata(quorum=f"{follower}@127.0.0.1:{quorum.controllers[follower].controller_port}")
    theirs = quorum.metadata(quorum=f"{leader}@127.0.0.1:{quorum.controllers[leader].controller_port}")
    assert mine["state"] == theirs["state"]


def test_the_whole_quorum_killed_keeps_its_metadata(quorum):
    quorum.wait_leader()
    cluster = {"cluster": {"cluster_id": quorum.cluster_id}}
    # The first leader records the cluster id on its own, from a chore that runs every
    # 100 ms: wait for it, so that every record checked below was committed before the kill.
    wait_until(lambda: cluster in quorum.metadata()["state"]["records"], 10, "the cluster record")
    quorum.write_configs(5)
    for c in quorum.controllers.values():
        c.kill()
    for c in quorum.controllers.values():
        c.start()
    quorum.wait_leader()

    # A restarted controller applies its log again: the one answering may not have reached
    # the last write yet. Records apply in order, so once it has, the rest are there too.
    def replayed():
        records = quorum.metadata()["state"]["records"]
        return records if {"config": {"resource_type": 4, "resource_name": "", "name": "fjord.test.key",
                                      "value": "4"}} in records else None

    records = wait_until(replayed, 20, "the last committed write to be applied")
    assert cluster in records
    assert [r["config"]["value"] for r in records if "config" in r] == ["4"]


def test_a_broker_stopped_past_its_session_is_fenced_and_comes_back(workdir):
    q = Quorum(workdir, 3, overrides=["broker.session.timeout.ms=2000"]).start()
    try:
        q.wait_leader()
        opts = ["broker.session.timeout.ms=2000", "broker.heartbeat.interval.ms=300"]
        a, b = q.add_broker(11, opts), q.add_broker(12, opts)
        wait_until(lambda: len([x for x in brokers_in(q.metadata()).values() if not x["fenced"]]) == 2, 30,
                   "both brokers to register and be unfenced")
        r = q.tool("create-topic", "orders", "--partitions", "6", "--replication-factor", "2")
        assert r.returncode == 0, r.stderr
        led_by_a = [p for p in partitions_in(q.metadata()) if p["leader"] == 11]
        assert led_by_a, "placement gave broker 11 no leadership"
        epoch = brokers_in(q.metadata())[11]["broker_epoch"]

        a.kill(signal.SIGSTOP)
        stopped_at = time.time()
        fenced = wait_until(lambda: brokers_in(q.metadata())[11]["fenced"], 15, "broker 11 to be fenced")
        took = time.time() - stopped_at
        print(f"fenced after {took:.2f} s (session timeout 2 s)")
        assert fenced and 1.5 < took < 6
        for p in partitions_in(q.metadata()):
            assert p["leader"] != 11, p
            if len(p["replicas"]) > 1:  # "orders": leadership moved to the other ISR member
                assert 11 not in p["isr"] and p["leader"] == 12, p
            elif p["replicas"] == [11]:  # rf 1 (__consumer_offsets): no one else to lead; Kafka keeps the ISR
                assert p["leader"] == -1 and p["isr"] == [11], p
        moved = [p for p in partitions_in(q.metadata()) if p["replicas"][0] == 11 and len(p["replicas"]) > 1]
        assert moved and all(p["leader_epoch"] >= 1 for p in moved)

        a.kill(signal.SIGCONT)
        wait_until(lambda: not brokers_in(q.metadata())[11]["fenced"], 15, "broker 11 to register again")
        assert brokers_in(q.metadata())[11]["broker_epoch"] != epoch  # a new registration, a new epoch
        # Partitions that only it can lead have a leader again.
        assert all(p["leader"] == 11 for p in partitions_in(q.metadata()) if p["replicas"] == [11])
        assert "registering again" in a.log_text()
        # The other broker served throughout.
        out = subprocess.run(["kcat", "-b", f"127.0.0.1:{b.kafka_port}", "-L"], capture_output=True, text=True,
                             timeout=20)
        assert out.returncode == 0 and "broker 12" in out.stdout, out.stdout + out.stderr
    finally:
        q.stop()


def test_a_broker_stopping_cleanly_is_fenced_at_once(workdir):
    """Kafka's controlled shutdown: a clean stop asks the quorum to fence the broker, so its
    leaderships move now, not after broker.session.timeout.ms (30 s here)."""
    q = Quorum(workdir, 3, overrides=["broker.session.timeout.ms=30000"]).start()
    try:
        q.wait_leader()
        a, b = q.add_broker(11, ["broker.session.timeout.ms=30000"]), q.add_broker(12)
        wait_until(lambda: len([x for x in brokers_in(q.metadata()).values() if not x["fenced"]]) == 2, 30,
                   "both brokers to register and be unfenced")
        r = q.tool("create-topic", "orders", "--partitions", "6", "--replication-factor", "2")
        assert r.returncode == 0, r.stderr
        assert [p for p in partitions_in(q.metadata()) if p["leader"] == 11], "broker 11 leads nothing"

        start = time.time()
        a.kill(signal.SIGTERM)  # returns once the process has exited
        m = q.metadata()
        print(f"stopped and fenced within {time.time() - start:.2f} s")
        assert brokers_in(m)[11]["fenced"]
        for p in partitions_in(m):
            assert p["leader"] != 11, p
            if len(p["replicas"]) > 1:
                assert p["leader"] == 12 and 11 not in p["isr"], p
        assert "stop: the controller quorum fenced this broker" in a.log_text()
        assert "stopped cleanly" in a.log_text()

        a.start()  # registers again and leads again what only it can lead
        wait_until(lambda: not brokers_in(q.metadata())[11]["fenced"], 30, "broker 11 to be unfenced again")
        assert all(p["leader"] == 11 for p in partitions_in(q.metadata()) if p["replicas"] == [11])

        # As Kafka, controlled.shutdown.enable=false leaves it to the session timeout.
        a.kill(signal.SIGTERM)
        a.overrides.append("controlled.shutdown.enable=false")
        a.start()
        wait_until(lambda: not brokers_in(q.metadata())[11]["fenced"], 30, "broker 11 to be unfenced again")
        a.kill(signal.SIGTERM)
        assert not brokers_in(q.metadata())[11]["fenced"]
        assert a.log_text().count("stop: the controller quorum fenced this broker") == 2
    finally:
        q.stop()


def test_formatting_is_explicit_for_a_multi_voter_cluster(workdir):
    voters = "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3"
    base = [FJORD, "--override", "node.id=1", "--override", "process.roles=controller",
            "--override", f"controller.quorum.voters={voters}", "--override", "controller.listener.names=CONTROLLER",
            "--override", "listeners=CONTROLLER://127.0.0.1:0", "--override", f"log.dirs={workdir}/c1"]
    r = subprocess.run(base, capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "is not formatted" in r.stderr and "fjord format" in r.stderr, r.stderr
    fmt = [FJORD, "format"] + base[1:]
    r = subprocess.run(fmt + ["--cluster-id", "not-a-uuid"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "not a base64url uuid" in r.stderr
    cluster = subprocess.run([FJORD, "random-uuid"], capture_output=True, text=True).stdout.strip()
    assert subprocess.run(fmt + ["--cluster-id", cluster], capture_output=True, timeout=20).returncode == 0
    assert f"cluster.id={cluster}" in (workdir / "c1" / "meta.properties").read_text()
    r = subprocess.run(fmt + ["--cluster-id", cluster], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "already formatted" in r.stderr
    other = subprocess.run([FJORD, "random-uuid"], capture_output=True, text=True).stdout.strip()
    r = subprocess.run(fmt + ["--cluster-id", other, "--ignore-formatted"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "already formatted" in r.stderr  # never silently re-clustered
    bad = [FJORD, "--override", "controller.quorum.voters=1@localhost"]
    r = subprocess.run(bad, capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "controller.quorum.voters" in r.stderr


def test_a_controller_cut_off_from_the_others_commits_nothing(workdir, netns_link):
    ns, host_if, host_ip, ns_ip = netns_link
    q = Quorum(workdir, 3, netns_for={3: (ns, ns_ip)}, host=host_ip).start()
    try:
        # Move the leadership to controller 3 (the one that will be cut) when we can: the
        # strongest case is a leader losing its quorum. A few kills usually get there.
        leader = q.wait_leader()
        for _ in range(12):
            if leader == 3:
                break
            q.controllers[leader].kill()
            leader_after = q.wait_leader(among=[i for i in q.controllers if i != leader])
            print("killed", leader, "now", leader_after)
            q.controllers[leader].start()
            wait_until(lambda: caught_up(q, leader), 20, "the restarted controller to catch up")
            leader = leader_after
        print(f"controller 3 is {'the leader' if leader == 3 else 'a follower'} when cut off")
        q.write_configs(3)

        def node3():
            return q.describe(quorum=q.only(3), netns=ns).get(3, {})

        # A follower learns of the last commit with the leader's next heartbeat: wait for
        # that, so that `before` is all controller 3 may ever commit while cut off.
        def knows_last_commit():
            d = q.describe()
            leaders = [v for v in d.values() if v.get("role") == "leader"]
            return bool(leaders) and d.get(3, {}).get("commit_index") == leaders[0]["commit_index"]

        wait_until(knows_last_commit, 10, "controller 3 to learn the last commit")
        before = int(node3()["commit_index"])
        subprocess.run(["ip", "link", "set", host_if, "down"], check=True)
        # Its own write cannot commit: no majority answers.
        r = q.tool("--timeout", "3", "set-config", "fjord.test.key=from-the-cut-off-side", quorum=q.only(3), netns=ns)
        assert r.returncode != 0, r.stdout
        # The majority side elects (or keeps) a leader and goes on committing.
        new_leader = wait_until(lambda: q.leader(among=[1, 2]), 15, "a leader among 1 and 2")
        for i in range(10):
            r = q.tool("set-config", f"fjord.test.key=majority-{i}", quorum=q.only(1, 2))
            assert r.returncode == 0, r.stderr
        end = time.time() + 2 * ELECTION_TIMEOUT_MS / 1000
        while time.time() < end:
            state = node3()
            assert int(state["commit_index"]) == before, state  # nothing committed on the cut-off side
            time.sleep(0.1)
        assert node3()["role"] != "leader"  # check-quorum: a leader that hears no majority steps down
        subprocess.run(["ip", "link", "set", host_if, "up"], check=True)
        wait_until(lambda: caught_up(q, 3), 30, "controller 3 to catch up after the cut")
        values = [r["config"]["value"] for r in q.metadata(quorum=q.only(3))["state"]["records"] if "config" in r]
        assert values == ["majority-9"], values  # the cut-off side's write never happened
        assert q.leader() in (1, 2, 3) and new_leader in (1, 2)
    finally:
        q.stop()


def test_a_broker_follows_the_metadata_across_a_controller_failover(quorum):
    leader = quorum.wait_leader()
    broker = quorum.add_broker(11, ["broker.heartbeat.interval.ms=200"])
    wait_until(lambda: 11 in brokers_in(quorum.metadata()) and not brokers_in(quorum.metadata())[11]["fenced"], 30,
               "the broker to register")

    def kafka_topics():
        r = subprocess.run(["kcat", "-b", f"127.0.0.1:{broker.kafka_port}", "-L", "-m", "5"], capture_output=True,
                           text=True, timeout=20)
        return r.stdout

    assert quorum.tool("create-topic", "before").returncode == 0
    wait_until(lambda: '"before"' in kafka_topics(), 10, "the broker to see a topic")
    quorum.controllers[leader].kill()
    quorum.wait_leader(among=[i for i in quorum.controllers if i != leader])
    r = quorum.tool("create-topic", "after", "--partitions", "2")
    assert r.returncode == 0, r.stderr
    # The broker's stream from the dead leader broke; it reconnects to the new one.
    wait_until(lambda: '"after" with 2 partitions' in kafka_topics(), 15, "the broker to see a topic created after")
    assert not brokers_in(quorum.metadata())[11]["fenced"]  # its heartbeats found the new leader in time
    # DescribeQuorum through the broker (as kafka-metadata-quorum.sh asks): the new
    # leader's view, the live follower caught up, the killed voter left behind.
    new_leader = quorum.leader()
    follower = next(i for i in quorum.controllers if i not in (leader, new_leader))

    def quorum_seen():
        partition, nodes = describe_quorum(broker.kafka_port)
        ends = {v["replicaId"]: v["logEndOffset"] for v in partition["currentVoters"]}
        return (partition, nodes, ends) if ends.get(follower) == partition["highWatermark"] else None

    partition, nodes, ends = wait_until(quorum_seen, 15, "DescribeQuorum to show the follower caught up")
    assert partition["errorCode"] == 0 and partition["leaderId"] == new_leader
    assert set(ends) == {1, 2, 3} and ends[new_leader] >= partition["highWatermark"] > 0
    assert ends[leader] < partition["highWatermark"]  # dead since before "after" (-1: never heard from)
    # Kafka's timestamps: the leader fetches from no one and is caught up now; the
    # follower answered within the last seconds; the dead voter never answered this leader.
    voters = {v["replicaId"]: v for v in partition["currentVoters"]}
    now_ms = time.time() * 1000
    assert voters[new_leader]["lastFetchTimestamp"] == -1
    assert now_ms - 10000 < voters[new_leader]["lastCaughtUpTimestamp"] <= now_ms + 1000
    assert now_ms - 10000 < voters[follower]["lastFetchTimestamp"] <= now_ms + 1000
    assert now_ms - 10000 < voters[follower]["lastCaughtUpTimestamp"] <= now_ms + 1000
    assert voters[leader]["lastFetchTimestamp"] == voters[leader]["lastCaughtUpTimestamp"] == -1
    assert {n["nodeId"]: (n["listeners"][0]["host"], n["listeners"][0]["port"]) for n in nodes} == \
        quorum.addresses
    # fjordctl's view of the same (our own client library)
    r = subprocess.run([str(BIN_DIR / "fjordctl"), "--brokers", f"127.0.0.1:{broker.kafka_port}",
                        "--json", "cluster", "quorum"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    replicas = {x["node_id"]: x for x in json.loads(r.stdout)["replicas"]}
    roles = {i: (x["role"], x["lag"]) for i, x in replicas.items()}
    assert roles[new_leader] == ("leader", 0) and roles[follower] == ("follower", 0)
    assert roles[leader][0] == "follower" and roles[leader][1] != 0  # behind, or unknown (null)
    assert replicas[follower]["last_caught_up_ms_ago"] < 10000 and replicas[leader]["last_caught_up_ms_ago"] is None


def test_an_admin_write_waiting_for_a_lost_quorum_leaves_the_broker_serving(workdir):
    """CreateTopics while two of three controllers are SIGSTOPped waits for a commit that
    cannot come; meanwhile the broker (one shard, so the same thread) keeps answering
    Metadata and Produce for the topics it has. Once the controllers resume, the write
    completes."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    q = Quorum(workdir, 3).start()
    try:
        leader = q.wait_leader()
        broker = q.add_broker(11, ["broker.heartbeat.interval.ms=200"])
        wait_until(lambda: 11 in brokers_in(q.metadata()) and not brokers_in(q.metadata())[11]["fenced"], 30,
                   "the broker to register")
        assert q.tool("create-topic", "t").returncode == 0
        bootstrap = f"127.0.0.1:{broker.kafka_port}"

        def listed():
            return subprocess.run(["kcat", "-b", bootstrap, "-L", "-t", "t", "-m", "5"], capture_output=True,
                                  text=True, timeout=20).stdout

        wait_until(lambda: '"t" with 1 partitions' in listed(), 10, "the broker to see the topic")
        stopped = [i for i in q.controllers if i != leader]
        for i in stopped:
            q.controllers[i].kill(signal.SIGSTOP)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        pending = admin.create_topics(
            [NewTopic("waits", 1, 1)], request_timeout=60, operation_timeout=60)["waits"]
        time.sleep(1)  # the request is in, waiting on the quorum
        assert not pending.done(), pending.exception()
        started = time.time()
        produced = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "t", "-X", "acks=1"],
                                  input=b"".join(b"r%d\n" % i for i in range(100)), capture_output=True,
                                  timeout=20)
        assert produced.returncode == 0, produced.stderr
        assert '"t" with 1 partitions' in listed()
        served_in = time.time() - started
        print(f"produce and metadata answered in {served_in:.2f} s while CreateTopics waited")
        assert served_in < 10 and not pending.done()
        for i in stopped:
            q.controllers[i].kill(signal.SIGCONT)
        try:
            pending.result(timeout=60)
        except KafkaException as e:  # a retry of a write the old leader committed after all
            assert e.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, e
        wait_until(lambda: '"waits"' in subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "5"],
                                                        capture_output=True, text=True, timeout=20).stdout,
                   10, "the topic created once the quorum was back")
    finally:
        q.stop()
