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
/usr/bin/python3 bench/report.py "$out" docs/performance.md
echo "bench: wrote docs/performance.md"
