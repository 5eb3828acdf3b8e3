"""The admin HTTP endpoint: /health, /ready and Prometheus /metrics that move with load."""
import os
import subprocess
import urllib.request


def get(broker, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{broker.admin_port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def test_health_ready_and_unknown_path(broker):
    assert get(broker, "/health") == (200, "ok\n")
    assert get(broker, "/ready") == (200, "ready\n")
    assert get(broker, "/nope")[0] == 404


def test_metrics_count_requests_bytes_and_partitions(broker):
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "m", "-K", ":"],
                   input=b"".join(b"k%d:v\n" % i for i in range(500)), check=True, timeout=60)
    status, text = get(broker, "/metrics")
    assert status == 200
    assert "# TYPE fjord_request_latency_seconds histogram" in text
    assert metric(text, 'fjord_requests_total{api="Produce"}') >= 1
    assert metric(text, 'fjord_requests_total{api="Metadata"}') >= 1
    assert metric(text, 'fjord_request_latency_seconds_bucket{api="Produce",le="+Inf"}') >= 1
    assert metric(text, 'fjord_network_bytes_total{direction="in"}') > 500 * 4
    assert metric(text, "fjord_topics") == 2  # and __consumer_offsets
    # num.partitions=6, keys spread over all; and the 50 of __consumer_offsets, opened
    # at start-up to load the groups
    assert metric(text, "fjord_open_partitions") == 6 + 50
    assert metric(text, "fjord_log_size_bytes") > 0
    # The backend the broker chose and logged (io_uring where the machine allows it).
    chosen = "io_uring" if "log I/O backend: io_uring" in broker.log_path.read_text() else "pwrite"
    # A combined node's one-voter quorum: it leads, and has committed what it applied.
    assert metric(text, 'fjord_raft_role{role="leader"}') == 1
    assert metric(text, "fjord_raft_term") >= 1 and metric(text, "fjord_raft_leader_id") == 1
    assert metric(text, "fjord_raft_commit_index") == metric(text, "fjord_raft_applied_index") > 0
    assert metric(text, f'fjord_io_backend{{backend="{chosen}"}}') == 1


def test_metrics_per_topic_and_per_partition(broker):
    """Kafka's BrokerTopicMetrics and Log metrics: records and bytes in and out per topic,
    and each partition's size and offsets; a deleted topic's series go with it."""
    import time
    from confluent_kafka.admin import AdminClient, NewTopic
    from conftest import delete_records

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("per", 2, 1)])["per"].result()
    for partition, n in ((0, 300), (1, 200)):
        subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "per", "-p", str(partition)],
                       input=b"".join(b"r%d\n" % i for i in range(n)), check=True, timeout=60)
    read = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "per", "-p", "0", "-e", "-q"],
                          capture_output=True, check=True, timeout=60).stdout
    assert read.count(b"\n") == 300
    assert delete_records(broker, "per", 1, 50) == (0, 50)
    _, text = get(broker, "/metrics")
    assert metric(text, 'fjord_topic_messages_in_total{topic="per"}') == 500
    sizes = [metric(text, f'fjord_partition_log_size_bytes{{topic="per",partition="{p}"}}') for p in (0, 1)]
    assert all(s > 0 for s in sizes)
    assert metric(text, 'fjord_topic_bytes_in_total{topic="per"}') == sum(sizes)
    assert metric(text, 'fjord_topic_bytes_out_total{topic="per"}') == sizes[0]  # partition 0, read once
    assert metric(text, 'fjord_partition_log_end_offset{topic="per",partition="0"}') == 300
    assert metric(text, 'fjord_partition_log_end_offset{topic="per",partition="1"}') == 200
    assert metric(text, 'fjord_partition_log_start_offset{topic="per",partition="1"}') == 50
    admin.delete_topics(["per"])["per"].result()
    for _ in range(50):
        _, text = get(broker, "/metrics")
        if 'topic="per"' not in text:
            break
        time.sleep(0.1)
    assert 'topic="per"' not in text


def test_metrics_show_each_groups_committed_offset_and_lag(broker):
    """Consumer lag without an exporter: a group's committed offset per partition and the
    records between it and the partition's end; a group id is escaped as a label."""
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("lagging", 1, 1)])["lagging"].result()
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "lagging", "-p", "0"],
                   input=b"".join(b"r%d\n" % i for i in range(500)), check=True, timeout=60)
    for group, offset in (("readers", 300), ('odd "name"', 500)):
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("lagging", 0, offset)], asynchronous=False)
        c.close()
    _, text = get(broker, "/metrics")
    assert metric(text, 'fjord_group_committed_offset{group="readers",topic="lagging",partition="0"}') == 300
    assert metric(text, 'fjord_group_lag{group="readers",topic="lagging",partition="0"}') == 200
    assert metric(text, 'fjord_group_lag{group="odd \\"name\\"",topic="lagging",partition="0"}') == 0


def test_a_client_that_sends_nothing_is_let_go(broker):
    """A connection that never finishes its request (or never reads the answer) held a
    coroutine and a file descriptor, shared with the Kafka listener and the logs, for as
    long as it stayed open; the endpoint gives each request 5 s to arrive."""
    import socket
    import time

    fds = lambda: len(os.listdir(f"/proc/{broker.proc.pid}/fd"))  # noqa: E731
    before = fds()
    idle = [socket.create_connection(("127.0.0.1", broker.admin_port), timeout=15) for _ in range(20)]
    idle[0].sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # a header that never ends
    start = time.monotonic()
    assert get(broker, "/health")[0] == 200  # served meanwhile (after the 20 were taken)
    held = fds()
    assert held >= before + 15
    for s in idle:
        assert s.recv(1) == b""  # closed by the broker
    assert 4 < time.monotonic() - start < 12
    assert fds() <= held - 15
    assert get(broker, "/health")[0] == 200
