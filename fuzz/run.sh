#!/usr/bin/env bash
# Runs a libFuzzer binary for a bounded time, seeded with the golden client captures.
# Usage: fuzz/run.sh <fuzzer> <seconds>
set -euo pipefail
cd "$(dirname "$0")/.."
fuzzer=$1
seconds=${2:-60}
seeds=build-fuzz/seeds
corpus=build-fuzz/corpus-$(basename "$fuzzer")  # one corpus per fuzzer
mkdir -p "$seeds" "$corpus"
# Form 0 of the fuzzer input: a zero byte, then a whole request frame.
for f in tests/golden/captures/*/*.bin tests/golden/requests/*.bin; do
  name=$(echo "$f" | tr '/' '_')
  { printf '\x00'; cat "$f"; } > "$seeds/$name"
done
if [[ $(basename "$fuzzer") == metadata_fuzzer ]]; then bash fuzz/metadata-seeds.sh "$seeds"; fi
echo "fuzz: $fuzzer for ${seconds}s, $(ls "$seeds" | wc -l) seeds"
"$fuzzer" "$corpus" "$seeds" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 2>&1 | tee build-fuzz/last-run.log | grep -E "^#[0-9]+.*(pulse|DONE)|stat::|ERROR|SUMMARY" || true
grep -q "Done [0-9]* runs" build-fuzz/last-run.log || grep -q "stat::number_of_executed_units" build-fuzz/last-run.log
! grep -q "ERROR: libFuzzer\|ERROR: AddressSanitizer\|runtime error:" build-fuzz/last-run.log
