# Helpers shared by bench/run-all.sh and bench/workloads.sh (sourced, not run).
# Every helper is bounded in time; all traffic stays on 127.0.0.1.

# Below the ephemeral range, so that a node restarted on its ports finds them free
# (tests/support/ports.py says why). Run from the repository's top directory.
free_port() { /usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/support"); import ports; print(ports.free_port())'; }

# Writes back dirty data and drops the clean page cache (best effort, needs root), so
# that one section's gigabytes do not slow the next one down.
settle() { sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# start_node NAME DIR [--override k=v]...: a Fjord node on free loopback ports, its log
# in $data/NAME.log; sets port_NAME and pid_NAME and waits (10 s at most) until it serves.
# With node_cpu=N set, the node (and every thread it starts) runs on CPU N only.
start_node() {
  local name=$1 dir=$2 port admin pid
  shift 2
  port=$(free_port)
  admin=$(free_port)
  ${node_cpu:+taskset -c "$node_cpu"} ./build/bin/fjord --override listeners=PLAINTEXT://127.0.0.1:$port \
    --override log.dirs=$dir/data --override admin.listener=127.0.0.1:$admin "$@" >> "$data/$name.log" 2>&1 &
  pid=$!
  pids+=($pid)
  eval "port_$name=$port pid_$name=$pid admin_$name=$admin"
  wait_ready "$admin"
}

wait_ready() {  # ADMIN_PORT: polls /ready every 10 ms, for 60 s at most
  /usr/bin/python3 - "$1" <<'PY'
import sys, time, urllib.request
deadline = time.time() + 60
while time.time() < deadline:
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/ready", timeout=1).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.01)
sys.exit("node not ready within 60 s")
PY
}

stop_node() {  # NAME: SIGINT (a clean stop) and wait
  local pid
  eval "pid=\$pid_$1"
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

rss_mib() {  # PID FIELD (VmRSS or VmHWM) -> MiB
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# fio_ref WORKLOAD NAME DIR fio-options...: a 3 s fio run of the disk pattern the log
# uses for WORKLOAD (appends through psync, no preallocation), as one JSON line in
# $out/refs.jsonl. Appends get a --size fio cannot reach in 3 s: rewriting pages already
# cached is 3x faster on this VM than appending new ones, which is what a log does.
fio_ref() {
  local workload=$1 name=$2 dir=$3
  shift 3
  rm -rf "$dir" && mkdir -p "$dir"
  fio --name=ref --directory="$dir" --ioengine=psync --fallocate=none --time_based --runtime=3 \
    --output-format=json "$@" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0]
rw = "read" if job["read"]["bw_bytes"] > 0 else "write"
print(json.dumps({"workload": sys.argv[1], "ref": "fio", "name": sys.argv[2],
                  "mb_per_s": round(job[rw]["bw_bytes"] / 1e6, 1)}))' "$workload" "$name" >> "$out/refs.jsonl"
  rm -rf "$dir"
}

# iperf3_ref WORKLOAD: one TCP stream over loopback for 3 s, as a JSON line.
iperf3_ref() {
  local port server
  port=$(free_port)
  timeout 20 iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
  server=$!
  sleep 0.3
  timeout 20 iperf3 -c 127.0.0.1 -p "$port" -t 3 -J 2>/dev/null | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)["end"]["sum_received"]
print(json.dumps({"workload": sys.argv[1], "ref": "iperf3", "name": "loopback, 1 TCP stream",
                  "mb_per_s": round(r["bits_per_second"] / 8e6, 1)}))' "$1" >> "$out/refs.jsonl"
  wait "$server" || true
}
