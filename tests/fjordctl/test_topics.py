"""fjordctl cluster and topic commands, run as a process against a real broker and
cross-checked with confluent-kafka (librdkafka) and kcat."""
import subprocess

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource


def test_topic_created_by_fjordctl_is_what_confluent_kafka_sees(broker, ctl):
    r = ctl.run("topic", "create", "orders", "--partitions", "4", "--config", "retention.ms=3600000",
                "--config", "cleanup.policy=compact")
    assert r.returncode == 0, r.stderr.decode()
    assert b"orders" in r.stdout and b"created" in r.stdout
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    md = admin.list_topics(timeout=10)
    assert len(md.topics["orders"].partitions) == 4
    configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "orders")])
    entries = list(configs.values())[0].result(10)
    assert entries["retention.ms"].value == "3600000"
    assert entries["cleanup.policy"].value == "compact"
    # And fjordctl's own describe agrees, with the sources Kafka names.
    d = ctl.json("topic", "describe", "orders")
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2, 3]
    by_name = {c["name"]: c for c in d["configs"]}
    assert by_name["retention.ms"]["value"] == "3600000"
    assert by_name["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG"
    assert by_name["segment.bytes"]["source"] == "DEFAULT_CONFIG"


def test_describe_offsets_and_sizes_match_the_clients(broker, ctl):
    assert ctl.run("topic", "create", "events", "--partitions", "2").returncode == 0
    lines = "".join(f"value-{i}\n" for i in range(300))
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "events", "-p", "1"], input=lines.encode(),
                   check=True, timeout=60)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "x"})
    low, high = consumer.get_watermark_offsets(TopicPartition("events", 1), timeout=10)
    consumer.close()
    d = ctl.json("topic", "describe", "events")
    p1 = d["partitions"][1]
    assert (p1["start_offset"], p1["end_offset"]) == (low, high) == (0, 300)
    assert p1["size_bytes"] > 300 * len("value-000")
    assert d["partitions"][0]["end_offset"] == 0
    assert p1["leader"] == 1 and p1["isr"] == [1]


def test_alter_config_add_partitions_and_delete(broker, ctl):
    assert ctl.run("topic", "create", "t1", "--partitions", "1").returncode == 0
    assert ctl.run("topic", "alter-config", "t1", "--set", "retention.bytes=1048576").returncode == 0
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    entries = list(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "t1")]).values())[0].result(10)
    assert entries["retention.bytes"].value == "1048576"
    assert ctl.run("topic", "alter-config", "t1", "--delete", "retention.bytes").returncode == 0
    entries = list(admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "t1")]).values())[0].result(10)
    assert entries["retention.bytes"].value == "-1"
    assert ctl.run("topic", "add-partitions", "t1", "--total", "3").returncode == 0
    assert len(admin.list_topics(timeout=10).topics["t1"].partitions) == 3
    listed = ctl.json("topic", "list")
    assert {"name": "t1", "partitions": 3, "replicas": 1, "internal": False} in listed
    assert all(not t["internal"] for t in listed)
    assert any(t["name"] == "__consumer_offsets" for t in ctl.json("topic", "list", "--internal"))
    r = ctl.run("topic", "delete", "t1")
    assert r.returncode == 0, r.stderr.decode()
    assert "t1" not in admin.list_topics(timeout=10).topics


def test_failures_say_what_and_why_with_kafkas_error_names(broker, ctl):
    assert ctl.run("topic", "create", "dup").returncode == 0
    r = ctl.run("topic", "create", "dup")
    assert r.returncode == 1
    assert r.stderr.decode().startswith("fjordctl: topic create dup:")
    assert "TOPIC_ALREADY_EXISTS (36)" in r.stderr.decode()
    r = ctl.run("topic", "delete", "missing")
    assert r.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in r.stderr
    r = ctl.run("topic", "describe", "missing")
    assert r.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in r.stderr
    r = ctl.run("topic", "add-partitions", "dup", "--total", "1")
    assert r.returncode == 1 and b"INVALID_PARTITIONS" in r.stderr
    r = ctl.run("topic", "create", "bad", "--config", "cleanup.policy=sometimes")
    assert r.returncode == 1 and b"INVALID_CONFIG" in r.stderr
    for line in r.stderr.decode().splitlines():
        assert "Traceback" not in line and "terminate" not in line


def test_bad_usage_exits_2_and_unreachable_brokers_exit_1(broker, ctl):
    for argv in (["topic", "create"], ["topic", "create", "x", "--partitions", "zero"],
                 ["topic", "create", "x", "--bogus"], ["topic", "frobnicate"], ["nothing"],
                 ["topic", "alter-config", "x"], ["topic", "add-partitions", "x"]):
        r = ctl.run(*argv)
        assert r.returncode == 2, (argv, r.stderr)
        assert r.stderr.startswith(b"fjordctl: "), r.stderr
    r = ctl.run("--brokers", "127.0.0.1:1", "--timeout", "1500", "topic", "list", brokers=False)
    assert r.returncode == 1
    assert b"cannot reach the cluster" in r.stderr and b"127.0.0.1:1" in r.stderr
    r = ctl.run("--brokers", "nocolon", "topic", "list", brokers=False)
    assert r.returncode == 2


def test_cluster_info_and_health(broker, ctl):
    info = ctl.json("cluster", "info")
    assert info["controller_id"] == 1
    assert info["brokers"] == [{"node_id": 1, "host": "127.0.0.1", "port": broker.port, "rack": None}]
    assert info["offline_partitions"] == 0 and info["under_replicated_partitions"] == 0
    health = ctl.json("cluster", "health")
    assert health["healthy"] is True
    r = ctl.run("cluster", "info")
    assert r.returncode == 0 and b"CONTROLLER" in r.stdout and b"\x1b[" not in r.stdout  # no colour off a terminal


def test_cluster_quorum(broker, ctl):
    """DescribeQuorum through the broker: the combined node leads its one-voter quorum and
    is not behind its own high watermark."""
    q = ctl.json("cluster", "quorum")
    assert q["leader_id"] == 1 and q["leader_epoch"] >= 1 and q["high_watermark"] > 0
    (me,) = q["replicas"]
    assert (me["node_id"], me["role"], me["lag"]) == (1, "leader", 0)
    assert me["log_end_offset"] == q["high_watermark"]
    assert me["endpoint"] == f"127.0.0.1:{broker.controller_port}"
    assert 0 <= me["last_caught_up_ms_ago"] < 10000  # the leader is caught up now
    table = ctl.run("cluster", "quorum").stdout.decode()
    assert "HIGH WATERMARK" in table and "LOG END OFFSET" in table and "leader" in table


def test_help_is_complete_and_matches_the_readme(ctl):
    import pathlib
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    r = ctl.run("--help", brokers=False)
    assert r.returncode == 0
    assert r.stdout.decode().rstrip() in readme
    commands = [line.split()[:2] for line in r.stdout.decode().splitlines()
                if line.startswith("  ") and line.split()[0] in ("cluster", "topic", "group", "config")]
    commands += [["produce"], ["consume"]]
    assert len(commands) == 17
    for argv in commands:
        h = ctl.run(*argv, "--help", brokers=False)
        assert h.returncode == 0
        own = h.stdout.decode().split("\nGlobal flags")[0].rstrip()
        assert own in readme, f"README lacks the help of {argv}"
    h = ctl.run("topic", "create", "--help", brokers=False).stdout
    assert b"--partitions" in h and b"--replication-factor" in h and b"--config" in h
