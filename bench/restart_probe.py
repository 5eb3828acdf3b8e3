#!/usr/bin/python3
"""Restart time (issue 8, workload f): starts a Fjord node and measures the time from
exec until it serves a partition's offsets again (which needs that log open and
recovered). Prints one JSON line with the seconds and the node's pid (left running).

Usage: restart_probe.py TOPIC EXPECTED_END NODE_LOG -- fjord-argv...
"""
import json
import subprocess
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def main():
    topic, expected_end, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    argv = sys.argv[sys.argv.index("--") + 1:]
    port = next(a.rsplit(":", 1)[1] for a in argv if a.startswith("listeners="))
    log = open(log_path, "ab")
    consumer = None
    start = time.monotonic()
    node = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = start + 120
    high = -1
    while time.monotonic() < deadline:
        if consumer is None:
            consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{port}", "group.id": "restart-probe",
                                 "reconnect.backoff.ms": 5, "reconnect.backoff.max.ms": 20,
                                 "log_level": 0})
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=2)
            if high >= expected_end:
                break
        except Exception:
            time.sleep(0.005)
    seconds = time.monotonic() - start
    consumer.close()
    print(json.dumps({"seconds": round(seconds, 3), "end_offset": high, "pid": node.pid}))


if __name__ == "__main__":
    main()
