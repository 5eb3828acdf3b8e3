#!/usr/bin/python3
"""Produce N records with confluent-kafka (librdkafka) and wait for every ack.
Usage: confluent_produce.py BOOTSTRAP TOPIC CODEC N"""
import sys

from confluent_kafka import Producer

bootstrap, topic, codec, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
failed = []
p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
              "client.id": "fjord-golden-confluent", "linger.ms": 100,
              "message.timeout.ms": 20000})
for i in range(n):
    p.produce(topic, key=f"k{i}", value=f"confluent-{codec}-{i:06d}-" + "x" * 200,
              headers=[("h", b"v"), ("i", str(i).encode())],
              on_delivery=lambda err, msg: failed.append(err) if err else None)
left = p.flush(25)
if left or failed:
    print(f"undelivered={left} failed={failed[:3]}", file=sys.stderr)
    sys.exit(1)
