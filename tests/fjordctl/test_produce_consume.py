"""fjordctl produce and consume against a real broker, with kcat (librdkafka) on the
other end of each."""
import collections
import json
import subprocess


def kcat(*args, input=None):
    r = subprocess.run(["kcat", *args], input=input, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def test_records_produced_by_fjordctl_are_read_back_by_kcat(broker, ctl):
    assert ctl.run("topic", "create", "pc", "--partitions", "4").returncode == 0
    lines = "".join(f"key{i % 37}:value-{i}\n" for i in range(3000))
    r = ctl.run("produce", "pc", "--key-separator", ":", "--header", "app=fjordctl", "--header", "n=1",
                input=lines.encode())
    assert r.returncode == 0, r.stderr
    out = kcat("-b", broker.bootstrap, "-C", "-t", "pc", "-o", "beginning", "-e", "-q", "-f", "%p\t%k\t%h\t%s\n")
    rows = [l.split("\t") for l in out.decode().splitlines()]
    assert len(rows) == 3000
    assert sorted(r[3] for r in rows) == sorted(f"value-{i}" for i in range(3000))
    partitions_of = collections.defaultdict(set)
    for p, k, h, v in rows:
        assert k == f"key{int(v.split('-')[1]) % 37}"
        assert h == "app=fjordctl,n=1"
        partitions_of[k].add(p)
    assert all(len(ps) == 1 for ps in partitions_of.values())  # one key, one partition
    assert len({p for ps in partitions_of.values() for p in ps}) > 1  # keys are spread
    for key in partitions_of:  # order kept per key
        values = [int(v.split("-")[1]) for p, k, h, v in rows if k == key]
        assert values == sorted(values)


def test_consume_reads_what_kcat_produced_in_every_codec(broker, ctl):
    assert ctl.run("topic", "create", "kc", "--partitions", "1").returncode == 0
    expected = []
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        lines = [f"{codec}-{i}" for i in range(200)]
        kcat("-b", broker.bootstrap, "-P", "-t", "kc", "-z", codec, input=("\n".join(lines) + "\n").encode())
        expected += lines
    r = ctl.run("consume", "kc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == expected
    r = ctl.run("consume", "kc", "--offset", "995", "--count", "3")
    assert r.stdout.decode().splitlines() == expected[995:998]
    rows = [json.loads(l) for l in ctl.run("consume", "kc", "--count", "2", "--format", "json").stdout.splitlines()]
    assert [(x["partition"], x["offset"], x["value"], x["key"]) for x in rows] == [(0, 0, "none-0", None),
                                                                                (0, 1, "none-1", None)]
    assert ctl.run("consume", "kc", "--offset", "latest").stdout == b""
    later = ctl.run("consume", "kc", "--from-time", "2099-01-01T00:00:00Z")
    assert later.returncode == 0 and later.stdout == b""
    earlier = ctl.run("consume", "kc", "--from-time", "2000-01-01T00:00:00Z", "--count", "1")
    assert earlier.stdout.decode().splitlines() == ["none-0"]


def test_produce_and_consume_errors(broker, ctl):
    r = ctl.run("produce", "nope", input=b"x\n")
    assert r.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in r.stderr
    r = ctl.run("consume", "nope")
    assert r.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in r.stderr
    for argv in (["produce"], ["produce", "t", "--acks", "2"], ["produce", "t", "--header", "novalue"],
                 ["consume"], ["consume", "t", "--offset", "soon"], ["consume", "t", "--count", "0"],
                 ["consume", "t", "--format", "xml"], ["consume", "t", "--from-time", "today"]):
        r = ctl.run(*argv)
        assert r.returncode == 2, (argv, r.stderr)
