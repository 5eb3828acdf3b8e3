#!/usr/bin/python3
"""Produce N records with kafka-python and wait for every ack.
Usage: kafka_python_produce.py BOOTSTRAP TOPIC CODEC N   (CODEC: none or gzip)"""
import sys

from kafka import KafkaProducer

bootstrap, topic, codec, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = KafkaProducer(bootstrap_servers=bootstrap, client_id="fjord-golden-kafka-python",
                  compression_type=None if codec == "none" else codec, linger_ms=100,
                  request_timeout_ms=20000)
futures = [p.send(topic, key=f"k{i}".encode(), value=(f"kafka-python-{codec}-{i:06d}-" + "x" * 200).encode(),
                  headers=[("h", b"v")]) for i in range(n)]
for f in futures:
    f.get(timeout=25)
p.close(timeout=10)
