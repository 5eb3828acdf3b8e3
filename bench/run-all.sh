#!/usr/bin/env bash
# `make bench`: runs every benchmark suite in one go and regenerates
# docs/performance.md from this run's figures. Bounded: each Google Benchmark case
# runs for a fixed minimum time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench-results
mkdir -p "$out"
source bench/lib.sh
SECONDS=0
echo "bench: protocol (Google Benchmark)"
./build/bin/protocol_bench --benchmark_min_time=0.5 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$out/protocol.json" \
  --benchmark_out_format=json >/dev/null
settle
# Three Fjord nodes run side by side for the workloads and the group benchmark: data
# on disk with page-cache durability (Kafka's default), on disk with fsync before every
# acks=all answer (log.flush.on.ack=true, group commit), and on tmpfs (as the mock
# keeps its data in memory).
data=$(mktemp -d /tmp/fjord-bench-XXXXXX)
shm=$(mktemp -d /dev/shm/fjord-bench-XXXXXX)
pids=()
trap 'kill ${pids[*]:-} 2>/dev/null || true; rm -rf "$data" "$shm"' EXIT
start_node disk "$data/disk"
start_node durable "$data/durable" --override log.flush.on.ack=true --override group.initial.rebalance.delay.ms=0
start_node tmpfs "$shm"
source bench/workloads.sh
# Consumer groups (issue 5): time to a stable assignment for 10 members over 100
# partitions, and synchronous commits of 100 offsets per second. The disk node has
# Kafka's default group.initial.rebalance.delay.ms (3 s); the durable node runs with 0.
echo "bench: consumer groups (3 rounds)"
f="$out/groups.jsonl"
: > "$f"
for round in 1 2 3; do
  gb() { timeout 90 ./build/bin/group-bench "$@" --topic gb-$round 2>/dev/null >> "$f" || true; }
  gb --brokers 127.0.0.1:$port_disk --mode join --members 10 --partitions 100
  gb --brokers 127.0.0.1:$port_durable --label fjord-no-delay --mode join --members 10 --partitions 100
  gb --mock 1 --mode join --members 10 --partitions 100
  gb --brokers 127.0.0.1:$port_disk --mode commit --partitions 100 --seconds 3
  gb --mock 1 --mode commit --partitions 100 --seconds 3
done
for node in disk durable tmpfs; do stop_node $node; done
rm -rf "$data" "$shm"

settle
# The log against fio, same pattern, same file system, same run (issue 3).
echo "bench: log vs fio (4 ABBA pairs per pattern)"
bench/log_vs_fio.sh "$out"

# Log recovery after a crash (issue 3): 1 GiB and 4 GiB logs with the same 256 MiB
# unflushed tail, with and without the recovery-point checkpoint (page cache dropped).
echo "bench: log recovery"
: > "$out/recovery.jsonl"
for mib in 758 3800; do
  ./build/bin/recovery-bench --dir "$(mktemp -d /tmp/fjord-recovery-XXXXXX)" --log-mib $mib --tail-mib 256 \
    >> "$out/recovery.jsonl"
done
# The controller quorum (issue 6): commits/s on 3 voters and leader failover time.
echo "bench: controller quorum"
/usr/bin/python3 bench/quorum_bench.py "$out/quorum.jsonl"
echo "{\"seconds\": $SECONDS}" > "$out/duration.json"
/usr/bin/python3 bench/report.py "$out" docs/performance.md
echo "bench: wrote docs/performance.md in $SECONDS s"
