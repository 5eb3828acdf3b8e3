# Issue 8's workloads (a)-(f), sourced by bench/run-all.sh after bench/lib.sh with
# $out, $data and the nodes disk, durable and tmpfs running. Per workload, in this
# order: fio (the disk pattern the log uses), iperf3 on loopback, librdkafka's mock
# cluster, then Fjord. Every run is bounded by a record count and a duration.
DUR=${DUR:-4}              # seconds per throughput run
W_ROUNDS=${W_ROUNDS:-3}    # rounds of (a), (b), (e) and (g): the report takes medians
scratch=$(mktemp -d /tmp/fjord-workloads-XXXXXX)
: > "$out/refs.jsonl"
rm -f "$out"/[abegp]-r*.jsonl "$out"/[cdfg].jsonl "$out"/d-memory.jsonl "$out"/perf-*.txt

# gone PID: waits (10 s at most) until the process has exited, child of this shell or not.
gone() {
  wait "$1" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.05
  done
}
fb() { timeout 180 ./build/bin/fjord-bench "$@" 2>/dev/null || true; }
# --broker-pid: each run also reports the CPU seconds the client and the node spent and
# how idle the machine was (bench/cpu_meter.h).
disk=(--brokers 127.0.0.1:$port_disk --broker-pid $pid_disk)
durable=(--brokers 127.0.0.1:$port_durable --label fjord-durable --broker-pid $pid_durable)
tmpfs=(--brokers 127.0.0.1:$port_tmpfs --label fjord-tmpfs --broker-pid $pid_tmpfs)

# profile PID NAME: samples the node's CPU for 3 s (starting 1 s from now) in the
# background; `profile_report NAME` turns it into the top symbols.
profile() {
  (sleep 1; perf record -q -F 999 -e cpu-clock -p "$1" -o "$out/perf-$2.data" -- sleep 3 >/dev/null 2>&1) &
  profiler=$!
}
profile_report() {
  wait "$profiler" 2>/dev/null || true
  perf report -i "$out/perf-$1.data" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null |
    grep '%' | grep -v '^#' | sed 's/ *[- ]*$//' | head -15 > "$out/perf-$1.txt" || true
  rm -f "$out/perf-$1.data"
}

echo "bench: (a) produce throughput, 1 KiB, acks=all, 1/16/64 partitions ($W_ROUNDS rounds)"
for parts in 1 16 64; do
  fio_ref a "appends of 256 KiB to $parts file(s)" "$scratch/fio" --rw=write --bs=256k --size=8G \
    --nrfiles=$parts --file_service_type=roundrobin
  # O_DSYNC, not --fdatasync=1: over several files fio's fdatasync syncs the next file in
  # round-robin order, not the one it wrote (bench/log_vs_fio.sh).
  fio_ref a "appends of 256 KiB to $parts file(s), O_DSYNC" "$scratch/fio" --rw=write --bs=256k \
    --size=2G --nrfiles=$parts --file_service_type=roundrobin --sync=dsync
done
# What the device itself takes: no broker that writes every byte before it answers can
# go faster than this.
fio_ref a "direct (O_DIRECT) writes of 4 MiB, the device's ceiling" "$scratch/fio" --rw=write --bs=4M \
  --size=8G --direct=1
iperf3_ref a
for round in $(seq 1 "$W_ROUNDS"); do
  f="$out/a-r$round.jsonl"
  for parts in 1 16 64; do
    common=(--partitions $parts --acks all --count 2000000 --duration "$DUR")
    fb --mock 1 --topic a-$parts "${common[@]}" >> "$f"
    [ "$round-$parts" = 1-1 ] && profile "$pid_disk" produce
    if [ $parts = 1 ]; then  # kept for (b)
      fb "${disk[@]}" --topic a-$parts-$round "${common[@]}" >> "$f"
    else
      fb "${disk[@]}" --topic a-$parts-$round "${common[@]}" --delete-topic >> "$f"
    fi
    [ "$round-$parts" = 1-1 ] && profile_report produce
    fb "${durable[@]}" --topic a-$parts-$round "${common[@]}" --delete-topic >> "$f"
    [ $parts = 1 ] && fb "${tmpfs[@]}" --topic a-$parts-$round "${common[@]}" --delete-topic >> "$f"
  done
done

echo "bench: (p) produce as (a) with one core each: load tool on CPU 0, broker on CPU 1"
# On 2 shared cores (a) cannot tell a broker that is slow from a load tool that took the
# CPU. Here each side has a core of its own, as a broker on its own machine would: the
# mock's threads move to CPU 1 (--mock-cpu), the Fjord nodes start there. Each Fjord run
# also records the node's mean time to answer a Produce and to finish an fsync round
# (its fjord_request_latency_seconds and fjord_group_commit_flush_seconds).
node_timings() {  # ADMIN_PORT -> seconds and count of the node's Produce answers, then of its fsync rounds
  /usr/bin/python3 -c '
import re, sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
def get(series):
    m = re.search("^" + re.escape(series) + r" (\S+)", text, re.M)
    return m.group(1) if m else "0"
print(*(get(f"fjord_{name}_{part}{labels}") for name, labels in
        (("request_latency_seconds", "{api=\"Produce\"}"), ("group_commit_flush_seconds", ""))
        for part in ("sum", "count")))' "$1"
}
pinned_run() {  # NODE fjord-bench-options...: one run on CPU 0 against a pinned node
  local node=$1 port pid admin before line
  shift
  eval "port=\$port_$node pid=\$pid_$node admin=\$admin_$node"
  before=$(node_timings "$admin")
  line=$(timeout 180 taskset -c 0 ./build/bin/fjord-bench --brokers 127.0.0.1:$port --broker-pid $pid \
    "$@" 2>/dev/null | tail -1) || true
  [ -n "$line" ] || return 0
  /usr/bin/python3 -c '
import json, sys
run = json.loads(sys.argv[1])
t = list(map(float, sys.argv[2:]))
mean_ms = lambda i: round((t[4 + i] - t[i]) / (t[5 + i] - t[1 + i]) * 1000, 2) if t[5 + i] > t[1 + i] else None
run["broker_answer_ms"], run["broker_fsync_round_ms"] = mean_ms(0), mean_ms(2)
print(json.dumps(run))' "$line" $before $(node_timings "$admin")
}
if [ "$(nproc)" -ge 2 ]; then
  node_cpu=1 start_node pinned "$data/pinned"
  node_cpu=1 start_node pinned_durable "$data/pinned-durable" --override log.flush.on.ack=true
  for round in $(seq 1 "$W_ROUNDS"); do
    f="$out/p-r$round.jsonl"
    for parts in 1 64; do
      common=(--partitions $parts --acks all --count 2000000 --duration "$DUR")
      timeout 180 taskset -c 0 ./build/bin/fjord-bench --mock 1 --mock-cpu 1 --topic p-$parts "${common[@]}" \
        2>/dev/null >> "$f" || true
      pinned_run pinned --topic p-$parts-$round "${common[@]}" --delete-topic >> "$f"
      pinned_run pinned_durable --label fjord-durable --topic p-$parts-$round "${common[@]}" --delete-topic >> "$f"
      # The mock again, answering as late as the durable node's mean fsync round (whole
      # ms, at least 1): what the wait alone, storing nothing, does to the load tool.
      rtt=$(tail -1 "$f" | /usr/bin/python3 -c 'import json, sys
r = json.loads(sys.stdin.read() or "{}")
print(max(1, round(r.get("broker_fsync_round_ms") or 0)) if r.get("target") == "fjord-durable" else 0)') || rtt=0
      [ "$rtt" -gt 0 ] && timeout 180 taskset -c 0 ./build/bin/fjord-bench --mock 1 --mock-cpu 1 --mock-rtt "$rtt" \
        --label mock-late --topic p-$parts "${common[@]}" 2>/dev/null >> "$f" || true
    done
  done
  stop_node pinned
  stop_node pinned_durable
fi

echo "bench: (b) consume what (a) wrote"
fio_ref b "reads of 1 MiB from the page cache" "$scratch/fio" --rw=read --bs=1M --size=1G
fio_ref b "reads of 1 MiB from the disk (O_DIRECT)" "$scratch/fio" --rw=read --bs=1M --size=1G --direct=1
iperf3_ref b
for round in $(seq 1 "$W_ROUNDS"); do
  f="$out/b-r$round.jsonl"
  fb --mock 1 --mode consume --topic b --count 200000 --duration "$DUR" >> "$f"
  [ "$round" = 1 ] && profile "$pid_disk" fetch
  fb "${disk[@]}" --mode consume --topic a-1-$round --count 5000000 --duration 10 --delete-topic >> "$f"
  [ "$round" = 1 ] && profile_report fetch
done

echo "bench: (c) latency at 25/50/75% of (a)"
full=$(cat "$out"/a-r*.jsonl | /usr/bin/python3 -c '
import json, sys, statistics
xs = [r["records_per_s"] for r in map(json.loads, sys.stdin) if r["target"] == "fjord" and r["partitions"] == 1]
print(int(statistics.median(xs)) if xs else 100000)')
for pct in 25 50 75; do
  rate=$((full * pct / 100))
  common=(--partitions 1 --acks all --rate $rate --count $((rate * 5)) --duration 5)
  # The mock keeps only the last few MB of a partition and serves consumers slowly, so
  # it is a reference for produce → ack only.
  fb --mock 1 --topic c-$pct "${common[@]}" >> "$out/c.jsonl"
  common+=(--mode e2e)
  fb "${disk[@]}" --topic c-$pct "${common[@]}" --delete-topic >> "$out/c.jsonl"
  fb "${durable[@]}" --topic c-$pct "${common[@]}" --delete-topic >> "$out/c.jsonl"
done
echo "{\"full_records_per_s\": $full}" >> "$out/c.jsonl"

echo "bench: (g) produce latency while a consumer catches up from the disk"
# One shard, so that both partitions share it; the backlog is 2 GB, all but the last
# log.page.cache.window.bytes of it on the disk only.
start_node catchup "$scratch/catchup" --smp 1
catchup=(--brokers 127.0.0.1:$port_catchup --broker-pid $pid_catchup)
fb "${catchup[@]}" --topic g-backlog --partitions 1 --acks 1 --count 2000000 --duration 20 > /dev/null
live=(--topic g-live --partitions 1 --acks 1 --rate 50000 --count 250000 --duration 5)
for round in $(seq 1 "$W_ROUNDS"); do
  settle  # the backlog read by the last round leaves the page cache: each round reads the disk
  fb "${catchup[@]}" "${live[@]}" --label alone >> "$out/g-r$round.jsonl"
  fb "${catchup[@]}" --mode consume --topic g-backlog --count 2000000 --duration 10 --label catch-up \
    >> "$out/g-r$round.jsonl" &
  consumer=$!
  sleep 0.5
  fb "${catchup[@]}" "${live[@]}" --label beside-catch-up >> "$out/g-r$round.jsonl"
  wait $consumer
done
stop_node catchup
rm -rf "$scratch/catchup"

echo "bench: (d) 1,000 and 10,000 partitions"
fio_ref d "appends of 4 KiB round robin over 1,000 files" "$scratch/fio" --rw=write --bs=4k --size=4G \
  --nrfiles=1000 --openfiles=1000 --file_service_type=roundrobin
iperf3_ref d
for n in 1000 10000; do
  fb --mock 1 --topic d --partitions $n --acks all --count 2000000 --duration "$DUR" >> "$out/d.jsonl"
  start_node many "$scratch/many"
  idle=$(rss_mib "$pid_many" VmRSS)
  fb --brokers 127.0.0.1:$port_many --topic d --partitions $n --acks all --count 2000000 --duration "$DUR" \
    >> "$out/d.jsonl"
  echo "{\"partitions\": $n, \"idle_rss_mib\": $idle, \"rss_mib\": $(rss_mib "$pid_many" VmRSS)," \
    "\"peak_rss_mib\": $(rss_mib "$pid_many" VmHWM), \"open_files\": $(ls "/proc/$pid_many/fd" | wc -l)}" \
    >> "$out/d-memory.jsonl"
  stop_node many
  rm -rf "$scratch/many"
done

echo "bench: (e) 100-byte records"
fio_ref e "appends of 256 KiB to 1 file" "$scratch/fio" --rw=write --bs=256k --size=8G --nrfiles=1
iperf3_ref e
for round in $(seq 1 "$W_ROUNDS"); do
  common=(--partitions 1 --acks all --record-size 100 --count 20000000 --duration "$DUR")
  fb --mock 1 --topic e "${common[@]}" >> "$out/e-r$round.jsonl"
  fb "${disk[@]}" --topic e-$round "${common[@]}" --delete-topic >> "$out/e-r$round.jsonl"
done

echo "bench: (f) restart time against unflushed bytes"
fio_ref f "reads of 1 MiB from disk" "$scratch/fio" --rw=read --bs=1M --size=1G --invalidate=1
# Segments of 2 GiB, so nothing rolls (a roll flushes): every byte produced is unflushed.
start_node restart "$scratch/restart" --override log.segment.bytes=2147483647
for mib in 0 256 1024; do
  topic=f-$mib
  records=$((mib * 1024))
  [ $mib = 0 ] && records=1000
  fb --brokers 127.0.0.1:$port_restart --topic $topic --partitions 1 --acks 1 --count $records --duration 60 \
    > /dev/null
  if [ $mib = 0 ]; then stop_node restart; else kill -9 "$pid_restart"; gone "$pid_restart"; fi
  settle
  port=$(free_port)
  admin=$(free_port)
  probe=$(/usr/bin/python3 bench/restart_probe.py $topic $records "$data/restart.log" -- ./build/bin/fjord \
    --override listeners=PLAINTEXT://127.0.0.1:$port --override log.dirs="$scratch/restart/data" \
    --override admin.listener=127.0.0.1:$admin --override log.segment.bytes=2147483647)
  pid_restart=$(echo "$probe" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  pids+=($pid_restart)
  port_restart=$port
  echo "{\"unflushed_mib\": $mib, \"clean_stop\": $([ $mib = 0 ] && echo true || echo false), \"probe\": $probe}" \
    >> "$out/f.jsonl"
done
kill -INT "$pid_restart" 2>/dev/null || true
gone "$pid_restart"
rm -rf "$scratch"
