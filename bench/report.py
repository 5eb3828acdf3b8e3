#!/usr/bin/env python3
"""Writes docs/performance.md from the JSON results of one `make bench` run.

Every figure is shown beside a reference measured in the same run (memcpy of the
same bytes for the protocol suite), since absolute times on a shared machine are
noise. Usage: report.py <results-dir> <output.md>
"""
import json
import pathlib
import platform
import sys
import time

from report_workloads import synced_append_cpu_per_gb, workloads_section


def load_medians(path):
    data = json.loads(path.read_text())
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, "median"):
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        rows[name] = b
    return data.get("context", {}), rows


def gbps(b):
    return b.get("bytes_per_second", 0) / 1e9


def protocol_section(results):
    ctx, rows = load_medians(results / "protocol.json")
    ref = gbps(rows["BM_Memcpy1MiB"])
    lines = [
        "## Protocol codec (issue 2)",
        "",
        "`bench/protocol_bench.cc` (Google Benchmark, median of 3 repetitions). The payload",
        "is one uncompressed record batch of 1,000 records of 1 KiB (about 1 MiB), inside",
        "a Produce v9 request. The reference is `memcpy` of the same batch in the same run.",
        "",
        "| operation | GB/s | × memcpy |",
        "|---|---:|---:|",
    ]
    labels = [
        ("BM_Memcpy1MiB", "memcpy of the batch (reference)"),
        ("BM_Crc32c1MiB", "CRC32C, SSE4.2 over 3 interleaved streams"),
        ("BM_Crc32cPortable1MiB", "CRC32C, portable slicing-by-8"),
        ("BM_DecodeProduceRequestAndCheckBatch1MiB",
         "decode Produce request + verify batch CRC + walk every record (broker's path)"),
        ("BM_DecodeBatchRecords1MiB", "decode the batch down to every record"),
        ("BM_EncodeProduceRequest1MiB", "encode Produce request (copies the records once)"),
    ]
    for key, label in labels:
        if key in rows:
            g = gbps(rows[key])
            lines.append(f"| {label} | {g:.1f} | {g / ref:.2f} |")
    if "BM_DecodeProduceRequest1MiB" in rows:
        ns = rows["BM_DecodeProduceRequest1MiB"]["real_time"]
        mem_ns = rows["BM_Memcpy1MiB"]["real_time"]
        lines.append(f"| decode Produce request alone (records stay a view: zero copy) | "
                     f"{ns:.0f} ns per request | {mem_ns / ns:.0f}× faster than copying |")
    lines += [
        "",
        "Reading: before it appends a batch the broker checks its CRC, which runs at a large",
        "fraction of memory bandwidth, and walks its records against the header as Kafka",
        "does (a few varints per record; keys and values are skipped, not read). Decoding",
        "the request itself is independent of the records' size because bytes/records",
        "fields are views into the frame.",
        "",
        f"Machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
        f"load average {', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))} during the run.",
        "",
    ]
    return lines


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2 if n else float("nan")


def groups_section(results):
    runs = [json.loads(l) for l in (results / "groups.jsonl").read_text().splitlines() if l.strip()]
    pick = lambda mode, target, key: [r[key] for r in runs if r["mode"] == mode and r["target"] == target and r[key] > 0]
    lines = [
        "## Consumer groups (issue 5)",
        "",
        "`bench/group_bench.cc` (librdkafka) against Fjord and librdkafka's mock cluster in",
        "the same run, medians of 3 rounds. Join: 10 consumers subscribe at once to a",
        "100-partition topic; the time until every partition has exactly one owner and",
        "every member has some. Commit: one consumer commits 100 offsets synchronously in a",
        "loop for 3 s.",
        "",
        "| measure | Fjord | mock | ratio |",
        "|---|---:|---:|---:|",
    ]
    f, m = pick("join", "fjord", "seconds"), pick("join", "mock", "seconds")
    if f and m:
        lines.append(f"| join, 10 members, 100 partitions (group.initial.rebalance.delay.ms=3000, Kafka's default) | "
                     f"{median(f):.2f} s | {median(m):.2f} s | {median(f) / median(m):.2f}x the mock's time |")
    z = pick("join", "fjord-no-delay", "seconds")
    if z and m:
        lines.append(f"| join, same, group.initial.rebalance.delay.ms=0 | {median(z):.2f} s | {median(m):.2f} s | "
                     f"{median(z) / median(m):.2f}x the mock's time |")
    f, m = pick("commit", "fjord", "commits_per_s"), pick("commit", "mock", "commits_per_s")
    if f and m:
        lines.append(f"| synchronous commits of 100 offsets, per second | {median(f):.0f} | {median(m):.0f} | "
                     f"{median(f) / median(m):.2f}x the mock's rate |")
    lines += [
        "",
        "Fjord writes every commit to `__consumer_offsets` before answering; the mock keeps",
        "offsets in memory. With the delay at 0 the first member's join completes alone and",
        "later members cause further rebalances, which is why Kafka defaults to 3 s.",
        "",
    ]
    return lines


def log_section(results):
    ours = [json.loads(l) for l in (results / "log.jsonl").read_text().splitlines() if l.strip()]
    ref = [json.loads(l) for l in (results / "fio.jsonl").read_text().splitlines() if l.strip()]
    lines = [
        "## Log storage against fio (issue 3)",
        "",
        "`bench/log_bench.cc` drives `PartitionLog` directly (default backend: io_uring, whose",
        "appends and waited-for syncs are pwrite and fdatasync); `bench/log_vs_fio.sh` runs fio",
        "on the same pattern, on the same file system, in the same run (psync, no",
        "preallocation): appends of exactly the log's batch size (1 KiB records in batches of",
        "about 1 MiB or 16 KiB, which straddle pages as Kafka batches do), round-robin over 1",
        "or 100 files, with and without a sync of every batch (the log: fdatasync; fio: files",
        "opened O_DSYNC, as fio's own per-write fdatasync syncs the next file in round-robin",
        "order rather than the one written). Reads are sequential, 1 MiB at a time, from disk",
        "(written back and dropped from the page cache first), through `ReadSlice` as the",
        "broker's Fetch finds its bytes. Per pattern: a discarded warm-up run, then 4 pairs in",
        "ABBA order, each run after a `sync` and with no file of the previous run left; the",
        "table shows medians and the ratio of medians.",
        "",
        "| pattern | Fjord log MB/s | fio MB/s | Fjord / fio |",
        "|---|---:|---:|---:|",
    ]
    met = True
    rows = {}
    batch_bytes = {}
    for r in ours:
        k = (r["batch_kib"], r["partitions"], r["fsync"], bool(r.get("read")))
        rows.setdefault(k, []).append(r["read_mb_s"] if r.get("read") else r["write_mb_s"])
        batch_bytes[r["batch_kib"]] = r.get("batch_bytes")
    refs = {}
    for f in ref:
        k = (f["batch_kib"], f["partitions"], f["fsync"], "read_mb_s" in f)
        refs.setdefault(k, []).append(f.get("read_mb_s", f.get("write_mb_s")))
    for k, values in rows.items():
        if k not in refs:
            continue
        kib, parts, fsync, read = k
        mine, theirs = median(values), median(refs[k])
        ratio = mine / theirs
        met &= ratio >= 0.85
        label = ("sequential read, 1 MiB" if read else
                 f"append, {kib} KiB batches{f' ({batch_bytes[kib]:,} bytes)' if batch_bytes.get(kib) else ''}, "
                 f"{parts} partition(s){', synced each batch' if fsync else ''}")
        lines.append(f"| {label} | {mine:.0f} | {theirs:.0f} | {ratio:.2f} |")
    lines += ["", f"Goal for issue 3 (>= 0.85x fio on every row): {'met' if met else 'not met'} in this run.", ""]
    return lines


def prealloc_section(results):
    runs = [json.loads(l) for l in (results / "prealloc.jsonl").read_text().splitlines() if l.strip()]
    lines = [
        "### Preallocation",
        "",
        "The log's synced appends of 1 MiB batches (an fdatasync after each, 1 GiB per run)",
        "with disk blocks reserved ahead (`log.preallocate=true`) and without (the broker's",
        "default, as Kafka's: src/log/README.md says why); a discarded warm-up, then 4 pairs in ABBA order; medians. CPU is what the",
        "appending process spent, writeback included (fdatasync runs it in the caller).",
        "",
        "| partitions | MB/s without | MB/s with | CPU s per GB without | with | with / without |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    def mb_s(r):
        return r["write_mb_s"]

    for parts in sorted({r["partitions"] for r in runs}):
        def med(pre, value):
            return median([value(r) for r in runs if r["partitions"] == parts and r["preallocate"] == pre])
        off, on = med(False, synced_append_cpu_per_gb), med(True, synced_append_cpu_per_gb)
        lines.append(f"| {parts} | {med(False, mb_s):.0f} | {med(True, mb_s):.0f} | {off:.2f} | {on:.2f} | "
                     f"{on / off:.2f} |")
    lines.append("")
    return lines


def recovery_section(results):
    runs = [json.loads(l) for l in (results / "recovery.jsonl").read_text().splitlines() if l.strip()]
    lines = [
        "## Log recovery after a crash (issue 3)",
        "",
        "`bench/recovery_bench.cc`: a log of 1 MiB batches in 1 GiB segments is flushed and",
        "checkpointed, 256 MiB more are appended without a flush, the log is abandoned as a",
        "kill -9 would leave it, the page cache of its files is dropped, and it is opened",
        "again. The reference is the same crash without `recovery-point-offset-checkpoint`",
        "(every batch of every segment is CRC-checked: the log cannot know which closed",
        "segments' background flushes finished).",
        "",
        "| log size | tail not flushed | open after crash | CRC-checked | without checkpoint | CRC-checked | time / reference |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        total = (r["log_mib"] + r["tail_mib"]) * 1.0098 / 1024  # 1 KiB records carry ~1% of batch overhead
        lines.append(f"| {total:.1f} GiB | {r['tail_mib']} MiB | {r['recovery_s']:.2f} s | {r['checked_mib']:.0f} MiB | "
                     f"{r['no_checkpoint_s']:.2f} s | {r['no_checkpoint_checked_mib']:.0f} MiB | "
                     f"{r['recovery_s'] / r['no_checkpoint_s']:.2f} |")
    lines += [
        "",
        "The CRC work is the unflushed tail in both sizes; what grows with the log is the",
        "header scan that rebuilds each segment's index at open (61 bytes read per batch:",
        "the index is never trusted).",
        "",
    ]
    return lines


def quorum_section(results):
    rows = [json.loads(l) for l in (results / "quorum.jsonl").read_text().splitlines() if l.strip()]
    fio = next(r["value"] for r in rows if r.get("reference") == "fio_sync_write_iops")
    writes = [r["writes"] for r in rows if "writes" in r]
    failovers = [r["failover_s"] for r in rows if "failover_s" in r]
    timeout_s = next(r["election_timeout_ms"] for r in rows if "election_timeout_ms" in r) / 1000
    lines = [
        "## Controller quorum (issue 6)",
        "",
        "Three controller processes and one broker on loopback (`bench/quorum_bench.py`), each",
        "change committed by a majority after a synced RocksDB write on the leader and then on",
        "a follower. Reference, same run: fio's rate of 4 KiB writes each followed by",
        f"fdatasync on the same disk, {fio:,.0f}/s; a commit needs two such writes one after",
        f"the other, so one writer can reach at most {fio / 2:,.0f} commits/s.",
        "",
        "| change | writers | commits/s | vs fio synced writes/s | vs one writer's bound (fio / 2) |",
        "|---|---|---|---|---|",
    ]
    for w in writes:
        what = "1-partition CreateTopics" if w["kind"] == "topics" else "one config change"
        cps = w["commits_per_second"]
        lines.append(f"| {what} | {w['concurrency']} | {cps:,.0f} | {cps / fio:.2f} | {cps / (fio / 2):.2f} |")
    lines += [
        "",
        "Several writers share the leader's and the follower's synced writes (one RocksDB",
        "batch per Raft Ready, one gRPC call per peer for everything queued), which is why 16",
        "writers commit several times what one does; one writer waits for four process hops",
        "and two synced writes per change.",
        "",
        f"Time from kill -9 of the leader to a new leader, {len(failovers)} kills, against the election",
        f"timeout of {timeout_s:.1f} s (controller.quorum.election.timeout.ms; a follower campaigns after",
        "45-85 % of it without hearing from a leader):",
        "",
        "| | seconds | vs the election timeout |",
        "|---|---|---|",
        f"| median | {median(failovers):.2f} | {median(failovers) / timeout_s:.2f} |",
        f"| worst | {max(failovers):.2f} | {max(failovers) / timeout_s:.2f} |",
        "",
    ]
    return lines


def main():
    results, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    # When the run ended (run-all.sh writes duration.json last), so that rendering the
    # same results again does not move the date.
    finished = results / "duration.json"
    ended = finished.stat().st_mtime if finished.exists() else time.time()
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` (`bench/run-all.sh` → `bench/report.py`); do not edit by hand.",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(ended))} on {platform.machine()}.",
        "Every figure is a ratio against a reference measured in the same run: absolute",
        "numbers on this shared 2-core machine are noise.",
        "",
    ]
    if (results / "protocol.json").exists():
        lines += protocol_section(results)
    if list(results.glob("a-r*.jsonl")):
        lines += workloads_section(results, out.parent)
    if (results / "groups.jsonl").exists():
        lines += groups_section(results)
    if (results / "log.jsonl").exists() and (results / "fio.jsonl").exists():
        lines += log_section(results)
    if (results / "prealloc.jsonl").exists():
        lines += prealloc_section(results)
    if (results / "recovery.jsonl").exists():
        lines += recovery_section(results)
    if (results / "quorum.jsonl").exists():
        lines += quorum_section(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
