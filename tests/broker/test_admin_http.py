"""The admin HTTP endpoint: /health, /ready and Prometheus /metrics that move with load."""
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
