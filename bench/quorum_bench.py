"""Controller quorum benchmark (issue 6): committed metadata changes per second on a
3-voter quorum of real processes (1-partition CreateTopics, and one config change each,
at 1 and 16 writers), and the time from kill -9 of the leader to a new leader, over
several kills. The reference measured in the same run is the disk's synced-write rate
(fio, 4 KiB writes each followed by fdatasync, one job): a commit costs the leader's and
then a follower's synced write, one after the other.

    bench/quorum_bench.py OUT.jsonl
"""
import importlib.util
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("quorum_fixtures", ROOT / "tests/controller/conftest.py")
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

KILLS = 5
WRITE_SECONDS = 5


def fio_sync_iops(directory):
    r = subprocess.run(["fio", "--name=sync", f"--directory={directory}", "--rw=write", "--bs=4k", "--size=16M",
                        "--fdatasync=1", "--runtime=5", "--time_based", "--ioengine=psync", "--output-format=json"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)["jobs"][0]["write"]["iops"]


def main():
    out = pathlib.Path(sys.argv[1])
    lines = []
    with tempfile.TemporaryDirectory(prefix="fjord-quorum-bench-", dir="/tmp") as d:
        lines.append({"reference": "fio_sync_write_iops", "value": round(fio_sync_iops(d), 1)})
        q = fx.Quorum(pathlib.Path(d), 3).start()
        try:
            q.wait_leader()
            q.add_broker(11)
            fx.wait_until(lambda: any(not b["fenced"] for b in fx.brokers_in(q.metadata()).values()), 30,
                          "the broker to register")
            for kind in ("topics", "configs"):
                for writers in (1, 16):
                    r = q.tool("bench-writes", "--kind", kind, "--seconds", str(WRITE_SECONDS), "--concurrency",
                               str(writers), timeout=120)
                    lines.append({"writes": json.loads(r.stdout)})
            for _ in range(KILLS):
                leader = q.wait_leader()
                killed_at = time.time()
                q.controllers[leader].kill()
                fx.wait_until(lambda: q.leader(among=[i for i in q.controllers if i != leader]), 30, "a new leader")
                lines.append({"failover_s": round(time.time() - killed_at, 3),
                              "election_timeout_ms": fx.ELECTION_TIMEOUT_MS})
                q.controllers[leader].start()
                time.sleep(2)  # back as a follower before the next kill
        finally:
            q.stop()
    out.write_text("".join(json.dumps(l) + "\n" for l in lines))


if __name__ == "__main__":
    main()
