#!/bin/bash
# Broker CPU per consume, A against B: bench/consume_cpu_ab.sh OLD_FJORD NEW_FJORD [ROUNDS]
# Per binary and round: a fresh node, 1.5 GB of 1 KiB records into 1 partition (acks=1),
# then 3 consumes of all of it from the start, the page cache dropped before each
# (needs root; all but the log's page-cache window comes from the disk). Prints the
# consume MB/s and the CPU seconds the node spent on each (utime+stime from /proc).
# The binaries alternate, so drift on this shared machine hits both alike. Bounded: each
# load-tool run 60 s at most. Run from the repository's top directory after a build.
set -euo pipefail
source bench/lib.sh
old=$1 new=$2 rounds=${3:-2}
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
run() {  # BIN LABEL
  local dir port admin pid before after out
  dir=$(mktemp -d /tmp/fjord-consume-ab-XXXX)
  port=$(free_port)
  admin=$(free_port)
  "$1" --override listeners=PLAINTEXT://127.0.0.1:$port --override log.dirs=$dir/data \
    --override admin.listener=127.0.0.1:$admin > "$dir/node.log" 2>&1 &
  pid=$!
  wait_ready "$admin"
  timeout 60 ./build/bin/fjord-bench --brokers 127.0.0.1:$port --topic t --partitions 1 --acks 1 \
    --count 1500000 --duration 10 > /dev/null 2>&1
  for _ in 1 2 3; do
    settle
    before=$(cpu $pid)
    out=$(timeout 60 ./build/bin/fjord-bench --brokers 127.0.0.1:$port --mode consume --topic t \
      --partitions 1 --count 1500000 --duration 10 2>/dev/null | tail -1)
    after=$(cpu $pid)
    echo "$2 $(grep -o '"mb_per_s":[0-9.]*' <<< "$out") broker_cpu_s=$(echo "$after - $before" | bc)"
  done
  kill -INT $pid
  wait $pid || true
  rm -rf "$dir"
}
for _ in $(seq "$rounds"); do
  run "$old" old
  run "$new" new
done
