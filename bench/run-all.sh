#!/usr/bin/env bash
# `make bench`: runs every benchmark suite in one go and regenerates
# docs/performance.md from this run's figures. Bounded: each Google Benchmark case
# runs for a fixed minimum time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench-results
mkdir -p "$out"
echo "bench: protocol (Google Benchmark)"
./build/bin/protocol_bench --benchmark_min_time=0.5 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$out/protocol.json" \
  --benchmark_out_format=json >/dev/null
# Fjord against librdkafka's in-memory mock cluster, same librdkafka workload, same run.
echo "bench: fjord vs librdkafka mock cluster"
data=$(mktemp -d /tmp/fjord-bench-XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
./build/bin/fjord --override listeners=PLAINTEXT://127.0.0.1:$port --override log.dirs=$data/data \
  --override admin.listener=127.0.0.1:$admin > $data/fjord.log 2>&1 &
fjord_pid=$!
trap 'kill $fjord_pid 2>/dev/null; rm -rf $data' EXIT
sleep 1
: > "$out/e2e.jsonl"
run() { ./build/bin/fjord-bench "$@" 2>/dev/null >> "$out/e2e.jsonl"; }
for acks in 1 all; do
  for parts in 1 64; do
    # bounded: 2M records or 8 s, whichever first
    run --brokers 127.0.0.1:$port --topic p-$acks-$parts --partitions $parts --acks $acks --count 2000000 --duration 8
    run --mock 1 --topic p-$acks-$parts --partitions $parts --acks $acks --count 2000000 --duration 8
  done
done
run --brokers 127.0.0.1:$port --mode consume --topic p-all-1 --partitions 1 --count 2000000 --duration 8
# latency at a fixed rate (records/s), acks=all
for rate in 5000 20000; do
  run --brokers 127.0.0.1:$port --topic lat-$rate --partitions 1 --acks all --rate $rate --count $((rate * 4)) --duration 6
  run --mock 1 --topic lat-$rate --partitions 1 --acks all --rate $rate --count $((rate * 4)) --duration 6
done
kill -INT $fjord_pid; wait $fjord_pid || true

# The same broker with its data on tmpfs: separates the broker's own cost from the
# disk's (the mock cluster never touches a disk).
shm=$(mktemp -d /dev/shm/fjord-bench-XXXXXX)
./build/bin/fjord --override listeners=PLAINTEXT://127.0.0.1:$port --override log.dirs=$shm/data \
  --override admin.listener=127.0.0.1:$admin > $data/fjord-tmpfs.log 2>&1 &
fjord_pid=$!
trap 'kill $fjord_pid 2>/dev/null; rm -rf $data $shm' EXIT
sleep 1
for acks in 1 all; do
  run --brokers 127.0.0.1:$port --label fjord-tmpfs --topic p-$acks-1 --partitions 1 --acks $acks --count 2000000 --duration 8
done
for rate in 5000 20000; do
  run --brokers 127.0.0.1:$port --label fjord-tmpfs --topic lat-$rate --partitions 1 --acks all --rate $rate --count $((rate * 4)) --duration 6
done
kill -INT $fjord_pid; wait $fjord_pid || true

/usr/bin/python3 bench/report.py "$out" docs/performance.md
echo "bench: wrote docs/performance.md"
