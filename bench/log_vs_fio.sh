#!/usr/bin/env bash
# The log against fio, same pattern, same file system, same run (issue 3):
#   bench/log_vs_fio.sh OUT_DIR
# Appends of 1 KiB records in 1 MiB or 16 KiB batches, round-robin over 1 or 100
# files, with and without an fdatasync after every batch; then sequential reads from
# disk. Writes OUT_DIR/log.jsonl (log-bench's lines) and OUT_DIR/fio.jsonl; then the
# log's synced appends with and without preallocation (log.preallocate), into
# OUT_DIR/prealloc.jsonl; the log group-committed into OUT_DIR/group_sync.jsonl.
#
# What makes the two comparable on this VM, each found the hard way:
# - fio writes exactly the log's batch size (log-bench prints it): a Kafka batch of 16
#   records of 1 KiB is 16,205 bytes, not 16,384, so its appends straddle pages, which
#   costs the kernel about 40 % more per byte than page-aligned writes of 16 KiB.
# - fio's synced rows open the files O_DSYNC (--sync=dsync): each write returns once it
#   is on the device, as the log's write plus fdatasync. fio's --fdatasync=1 cannot be
#   used over several files: its sync is an I/O unit of its own that takes the next
#   file in round-robin order, so it syncs a file other than the one just written
#   (strace: pwrite to file 0, fdatasync of file 1, pwrite to file 2, ...), and over 100
#   files it ran 2-3x faster than any real per-batch sync.
# - Every run starts from the same state: dirty data written back (sync) and no files
#   of the previous run left (fio unlinks its own), so no run pays for another's
#   writeback.
# - One discarded warm-up run per pattern, then the pairs in ABBA order: the first run
#   after a change of pattern is often several times slower (memory the host has not
#   backed recently), and an ABBA order gives neither side the first slot more often.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/log_vs_fio.sh OUT_DIR}
mkdir -p "$out"
scratch=$(mktemp -d /tmp/fjord-logbench-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
: > "$out/log.jsonl"
: > "$out/fio.jsonl"

fio_json() {  # KIB PARTS FSYNC RW: fio's JSON on stdin -> one line like log-bench's
  /usr/bin/python3 -c '
import json, sys
kib, parts, fsync, rw = sys.argv[1:5]
job = json.load(sys.stdin)["jobs"][0]
mbs = job[rw]["bw_bytes"] / 1e6
print(json.dumps({"batch_kib": int(kib), "partitions": int(parts), "fsync": fsync == "1",
                  "write_mb_s" if rw == "write" else "read_mb_s": round(mbs, 1)}))' "$@"
}

log_append() {  # KIB PARTS FSYNC MIB: one log-bench run, its JSON line on stdout
  local flag=""
  [ "$3" = 1 ] && flag="--fsync"
  sync
  ./build/bin/log-bench --dir "$scratch/log" --batch-kib "$1" --partitions "$2" --mib "$4" $flag
}

fio_append() {  # KIB PARTS FSYNC MIB BYTES: fio appending BYTES per write, JSON line on stdout
  local sync_mode=none
  [ "$3" = 1 ] && sync_mode=dsync
  rm -rf "$scratch/fio" && mkdir -p "$scratch/fio"
  sync
  fio --name=append --directory="$scratch/fio" --rw=write --bs="$5" --size="$4"M --nrfiles="$2" \
    --file_service_type=roundrobin --ioengine=psync --fallocate=none --sync=$sync_mode --unlink=1 \
    --output-format=json 2>/dev/null | fio_json "$1" "$2" "$3" write
}

for kib in 1024 16; do
  for parts in 1 100; do
    for sync in 0 1; do
      mib=512
      [ $sync = 1 ] && mib=64  # an fdatasync per batch: keep the run short
      [ $sync = 1 ] && [ $kib = 1024 ] && [ $parts = 100 ] && mib=400  # a few batches per file
      warm=$(log_append $kib $parts $sync $mib)
      bytes=$(echo "$warm" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["batch_bytes"])')
      for order in log-fio fio-log log-fio fio-log; do
        for who in ${order/-/ }; do
          if [ $who = log ]; then
            log_append $kib $parts $sync $mib >> "$out/log.jsonl"
          else
            fio_append $kib $parts $sync $mib "$bytes" >> "$out/fio.jsonl"
          fi
        done
      done
    done
  done
done

# Preallocation: synced 1 MiB appends over 1 and 16 partitions, with --preallocate (the
# broker's default) and without, ABBA after a discarded warm-up. The figure that
# matters is the CPU the appends took (log-bench's write_cpu_s: with --fsync the
# writeback runs in the calling thread).
for parts in 1 16; do
  log_append 1024 $parts 1 1024 >/dev/null
  for order in off-on on-off off-on on-off; do
    for who in ${order/-/ }; do
      flag=""
      [ $who = on ] && flag="--preallocate"
      sync
      ./build/bin/log-bench --dir "$scratch/log" --batch-kib 1024 --partitions $parts --mib 1024 --fsync $flag \
        >> "$out/prealloc.jsonl"
    done
  done
done

# The log flushed as fsync before ack flushes it (group commit): 1 MiB appends on one
# partition that never wait, fdatasyncs back to back on the log's I/O backend.
: > "$out/group_sync.jsonl"
for round in 1 2 3 4; do
  sync
  ./build/bin/log-bench --dir "$scratch/log" --batch-kib 1024 --partitions 1 --mib 1024 --group-sync \
    >> "$out/group_sync.jsonl"
done

# Sequential reads from disk: each side writes its file, writes it back and drops it
# from the page cache, then reads it in 1 MiB steps (log-bench through ReadSlice).
log_read() {
  sync
  ./build/bin/log-bench --dir "$scratch/log" --batch-kib 1024 --partitions 1 --mib 512 --read |
    sed 's/"fsync":false/"fsync":false,"read":true/'
}
fio_read() {
  rm -rf "$scratch/fio" && mkdir -p "$scratch/fio"
  fio --name=layout --directory="$scratch/fio" --rw=write --bs=1M --size=512M --nrfiles=1 --ioengine=psync \
    --end_fsync=1 --output-format=json >/dev/null 2>&1
  sync
  fio --name=layout --directory="$scratch/fio" --rw=read --bs=1M --size=512M --nrfiles=1 --ioengine=psync \
    --invalidate=1 --output-format=json 2>/dev/null | fio_json 1024 1 0 read >> "$out/fio.jsonl"
  rm -rf "$scratch/fio"
}
log_read >/dev/null  # warm-up, discarded
for order in log-fio fio-log log-fio fio-log; do
  for who in ${order/-/ }; do
    if [ $who = log ]; then log_read >> "$out/log.jsonl"; else fio_read; fi
  done
done
