"""fjordctl against librdkafka's in-memory mock cluster (a process started per test):
the commands whose APIs the mock implements work, cross-checked with kcat; the others
fail in one line naming the API the mock lacks, with exit code 1."""
import json
import os
import pathlib
import subprocess

import pytest

from conftest import CTL

MOCK = os.environ.get("RDKAFKA_MOCK_CLUSTER_BIN",
                      str(pathlib.Path(__file__).resolve().parents[2] / "build/bin/rdkafka-mock-cluster"))


@pytest.fixture
def mock():
    proc = subprocess.Popen([MOCK, "--brokers", "3", "--topic", "orders:4", "--topic", "audit:1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    bootstrap = proc.stdout.readline().decode().strip()
    assert bootstrap.count(",") == 2, bootstrap
    yield bootstrap
    proc.stdin.close()  # the mock stops when its stdin closes
    proc.wait(timeout=10)


def ctl(bootstrap, *args, input=None):
    return subprocess.run([CTL, "--brokers", bootstrap, "--timeout", "10000", *args], input=input,
                          capture_output=True, timeout=60)


def ok_json(bootstrap, *args):
    r = ctl(bootstrap, "--json", *args)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def test_cluster_and_topic_commands_read_the_mock(mock):
    info = ok_json(mock, "cluster", "info")
    assert sorted(b["node_id"] for b in info["brokers"]) == [1, 2, 3]
    assert info["cluster_id"].startswith("mockCluster")
    health = ok_json(mock, "cluster", "health")
    assert health["healthy"] is True and health["offline_partitions"] == []
    topics = {t["name"]: t["partitions"] for t in ok_json(mock, "topic", "list")}
    assert topics == {"orders": 4, "audit": 1}

    r = ctl(mock, "--json", "topic", "describe", "orders")
    assert r.returncode == 0, r.stderr.decode()
    d = json.loads(r.stdout)
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2, 3]
    assert all(p["leader"] in (1, 2, 3) and p["start_offset"] == 0 for p in d["partitions"])
    # The mock has neither DescribeLogDirs nor DescribeConfigs: left out, and said so.
    assert all(p["size_bytes"] is None for p in d["partitions"]) and d["configs"] is None
    assert b"does not support DescribeLogDirs" in r.stderr and b"does not support DescribeConfigs" in r.stderr


def test_produce_to_the_mock_is_read_back_by_kcat_and_by_fjordctl(mock):
    lines = "".join(f"k{i % 5}|v{i}\n" for i in range(500))
    r = ctl(mock, "produce", "orders", "--key-separator", "|", "--header", "src=ctl", input=lines.encode())
    assert r.returncode == 0, r.stderr.decode()
    out = subprocess.run(["kcat", "-b", mock, "-C", "-t", "orders", "-o", "beginning", "-e", "-q",
                          "-f", "%p %k %h %s\n"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [l.split(" ") for l in out.stdout.decode().splitlines()]
    assert sorted(v for _, _, _, v in rows) == sorted(f"v{i}" for i in range(500))
    assert all(h == "src=ctl" and k == f"k{int(v[1:]) % 5}" for _, k, h, v in rows)
    assert all(len({p for p, k2, _, _ in rows if k2 == k}) == 1 for k in {k for _, k, _, _ in rows})

    described = ok_json(mock, "topic", "describe", "orders")
    assert sum(p["end_offset"] for p in described["partitions"]) == 500
    c = ctl(mock, "consume", "orders", "--format", "key-value")
    assert c.returncode == 0, c.stderr.decode()
    assert sorted(c.stdout.decode().splitlines()) == sorted(f"k{i % 5}\tv{i}" for i in range(500))


def test_consume_what_kcat_produced_to_the_mock(mock):
    subprocess.run(["kcat", "-b", mock, "-P", "-t", "audit"], input=b"".join(b"a%d\n" % i for i in range(50)),
                   check=True, timeout=60)
    c = ctl(mock, "consume", "audit", "--offset", "10", "--count", "5")
    assert c.returncode == 0, c.stderr.decode()
    assert c.stdout.decode().splitlines() == [f"a{i}" for i in range(10, 15)]


@pytest.mark.parametrize("argv,api", [
    (["topic", "create", "x"], "CreateTopics"),
    (["topic", "delete", "orders"], "DeleteTopics"),
    (["topic", "alter-config", "orders", "--set", "retention.ms=1"], "IncrementalAlterConfigs"),
    (["group", "list"], "ListGroups"),
    (["group", "describe", "g"], "DescribeGroups"),
    (["config", "get"], "DescribeConfigs"),
    (["cluster", "quorum"], "DescribeQuorum"),
])
def test_commands_the_mock_lacks_fail_in_one_line(mock, argv, api):
    r = ctl(mock, *argv)
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert err.count("\n") == 1 and f"does not support {api}" in err, err
