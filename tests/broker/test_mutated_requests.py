"""Requests that decode but say odd things reach the handlers, and the broker survives
them. The decoders have their own libFuzzer targets (fuzz/); this drives the handlers
behind them in a real broker process: copies of real clients' requests
(tests/golden/requests/, see its README) with bytes of their bodies changed, sent in a
bounded, seeded loop. A crash, a hang of the whole broker or runaway memory fails it."""
import pathlib
import pickle
import random
import socket
import struct
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.admin import AlterConfigsRequest_v0

from conftest import call, rss_mib

REQUESTS = pathlib.Path(__file__).resolve().parents[1] / "golden" / "requests"
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def body_start(frame):
    """The request header's fixed part and client id stay intact: the mutations are
    meant for the handler, not for the header check."""
    client_id_length = struct.unpack(">h", frame[8:10])[0]
    return min(len(frame), 10 + max(client_id_length, 0))


def mutate(rng, frame, mild):
    f = bytearray(frame)
    lo = body_start(f)
    for _ in range(1 if mild else rng.randint(1, 4)):
        if len(f) <= lo:
            f.append(rng.randrange(256))
            continue
        i = rng.randrange(lo, len(f))
        op = rng.randrange(4 if mild else 7)
        if op == 0:
            f[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            f[i] = rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF])
        elif op in (2, 3):  # an integer field set to an edge value
            width = 2 if op == 2 else 4
            value = rng.choice(INTERESTING + [rng.randrange(1 << 32)]) & ((1 << (8 * width)) - 1)
            f[i:i + width] = value.to_bytes(width, "big")[: len(f) - i]
        elif op == 4:
            del f[rng.randrange(lo, len(f)):]
        elif op == 5:
            f[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            j = rng.randrange(lo, len(f))
            f[i:i] = f[j:j + rng.randint(1, 64)]
    return bytes(f)


def answers_api_versions(broker):
    try:
        with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
            s.sendall(struct.pack(">ihhih", 10, 18, 0, 1, 0))
            return len(s.recv(4)) == 4
    except OSError:
        return False


def test_mutated_requests_do_not_take_the_broker_down(broker, tmp_path):
    seeds = [p.read_bytes() for p in sorted(REQUESTS.glob("*.bin"))]
    assert len(seeds) >= 200
    rng = random.Random(20261204)
    rss_before = rss_mib(broker.proc.pid)
    sent = answered = closed = timed_out = 0
    recent = []
    sock = None

    def check_up():
        if not (broker.alive() and answers_api_versions(broker)):
            pickle.dump(recent, open(tmp_path / "last-requests.pkl", "wb"))
            raise AssertionError(f"broker down after {sent} requests; the last 200 are in {tmp_path}")

    deadline = time.monotonic() + 15
    while sent < 40000 and time.monotonic() < deadline:
        frame = mutate(rng, rng.choice(seeds), mild=sent % 2 == 0)
        recent = (recent + [frame])[-200:]
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", broker.port), timeout=0.5)
            sock.sendall(struct.pack(">i", len(frame)) + frame)
            sent += 1
            header = sock.recv(4)
            if len(header) < 4:
                raise ConnectionError
            left = struct.unpack(">i", header)[0]
            while left > 0:
                chunk = sock.recv(min(left, 1 << 20))
                if not chunk:
                    raise ConnectionError
                left -= len(chunk)
            answered += 1
        except socket.timeout:  # a long poll, a join waiting for others, acks=0
            timed_out += 1
            sock.close()
            sock = None
        except OSError:  # a malformed frame closes its connection
            closed += 1
            if sock is not None:
                sock.close()
            sock = None
        if sent % 500 == 0:
            check_up()
    if sock is not None:
        sock.close()
    check_up()
    print(f"sent {sent}, answered {answered}, closed {closed}, timed out {timed_out}")
    assert sent >= 2000 and answered >= sent // 5, (sent, answered)  # a fifth at least reached a handler
    assert rss_mib(broker.proc.pid) - rss_before < 512

    # ... and it still does its job for a real client, once the dynamic broker configs
    # the mutated AlterConfigs may have set (num.partitions, message.max.bytes, ...) are
    # put back: AlterConfigs replaces a resource's whole set.
    reset = call(broker, AlterConfigsRequest_v0([(4, "1", []), (4, "", [])], False))
    assert [e[0] for e in reset.resources] == [0, 0], reset
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic("after-mutations", 1, 1)]).values():
        f.result(30)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True})
    for i in range(100):
        p.produce("after-mutations", value=b"v%d" % i)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "after-mutations",
                  "auto.offset.reset": "earliest"})
    c.subscribe(["after-mutations"])
    got = []
    give_up = time.monotonic() + 30
    while len(got) < 100 and time.monotonic() < give_up:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value())
    c.close()
    assert got == [b"v%d" % i for i in range(100)]
