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
        ("BM_DecodeProduceRequestAndCheckCrc1MiB", "decode Produce request + verify batch CRC (broker's path)"),
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
        "Reading: the broker's per-request cost for 1 MiB is dominated by the CRC check,",
        "which runs at a large fraction of memory bandwidth; decoding the request itself is",
        "independent of the records' size because bytes/records fields are views into the",
        "frame.",
        "",
        f"Machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
        f"load average {', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))} during the run.",
        "",
    ]
    return lines


def e2e_section(results):
    runs = [json.loads(l) for l in (results / "e2e.jsonl").read_text().splitlines() if l.strip()]

    def find(target, **kw):
        for r in runs:
            if r["target"] == target and all(r.get(k) == v for k, v in kw.items()):
                return r
        return None

    lines = [
        "## Fjord vs librdkafka's mock cluster (issue 4)",
        "",
        "`bench/fjord_bench.cc` (librdkafka) runs the same workload against a single Fjord",
        "node (`--smp` default, page-cache durability as Kafka's default) and against",
        "librdkafka's in-memory mock cluster (`rd_kafka_mock_cluster_new`, one broker) in the",
        "same run. 1 KiB records, linger.ms=5, each run bounded by 2M records or 8 s.",
        "",
        "| workload | Fjord MB/s | mock MB/s | Fjord / mock | Fjord p99 ack ms | mock p99 ack ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for acks in ("1", "all"):
        for parts in (1, 64):
            f = find("fjord", mode="produce", acks=acks, partitions=parts, rate=0)
            m = find("mock", mode="produce", acks=acks, partitions=parts, rate=0)
            if f and m:
                lines.append(f"| produce, acks={acks}, {parts} partition(s) | {f['mb_per_s']:.0f} | "
                             f"{m['mb_per_s']:.0f} | {f['mb_per_s'] / m['mb_per_s']:.2f} | "
                             f"{f['p99_ms']:.1f} | {m['p99_ms']:.1f} |")
    for acks in ("1", "all"):
        t = find("fjord-tmpfs", mode="produce", acks=acks, partitions=1, rate=0)
        m = find("mock", mode="produce", acks=acks, partitions=1, rate=0)
        if t and m:
            lines.append(f"| produce, acks={acks}, 1 partition, data on tmpfs | {t['mb_per_s']:.0f} | "
                         f"{m['mb_per_s']:.0f} | {t['mb_per_s'] / m['mb_per_s']:.2f} | "
                         f"{t['p99_ms']:.1f} | {m['p99_ms']:.1f} |")
    c = find("fjord", mode="consume")
    if c:
        lines.append(f"| consume from the page cache, 1 partition | {c['mb_per_s']:.0f} | n/a | n/a | | |")
    lines += [
        "",
        "Latency at a fixed rate (acks=all, 1 partition), produce to acknowledgement:",
        "",
        "| rate (records/s) | Fjord (disk) p50 / p99 / p99.9 / max ms | Fjord (tmpfs) | mock |",
        "|---:|---|---|---|",
    ]
    fmt = lambda x: f"{x['p50_ms']:.2f} / {x['p99_ms']:.2f} / {x['p999_ms']:.2f} / {x['max_ms']:.2f}" if x else "n/a"
    for r in runs:
        if r["target"] == "fjord" and r["rate"] > 0:
            t = find("fjord-tmpfs", mode="produce", rate=r["rate"])
            m = find("mock", mode="produce", rate=r["rate"])
            lines.append(f"| {r['rate']:.0f} | {fmt(r)} | {fmt(t)} | {fmt(m)} |")
    lines += [
        "",
        "How to read this: the tmpfs rows run the same broker with its data in memory, as",
        "the mock keeps it; where the disk and tmpfs rows differ, the difference is the",
        "disk (page-cache writeback: in one run on this machine the disk p99 at 20,000",
        "records/s reached 263 ms while tmpfs stayed at 6 ms). Where both trail the mock,",
        "the gap is the broker's own cost. Goal for issue 4 (Fjord >= 1.0x the mock on",
        "produce while durable): not met. Known costs to attack next: requests on one",
        "connection are handled one at a time (librdkafka pipelines up to 5), each append",
        "is its own pwrite plus an index pwrite, a Produce awaits each partition's shard",
        "in turn, and Fetch copies bytes out of the file instead of using sendfile.",
        "",
        "The mock's consume path is not a usable reference (about 170 records/s in a",
        "trial here), so consume has no ratio yet; issue 8 adds fio and iperf3 references.",
        "",
    ]
    return lines


def main():
    results, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` (`bench/run-all.sh` → `bench/report.py`); do not edit by hand.",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}.",
        "Every figure is a ratio against a reference measured in the same run: absolute",
        "numbers on this shared 2-core machine are noise.",
        "",
    ]
    if (results / "protocol.json").exists():
        lines += protocol_section(results)
    if (results / "e2e.jsonl").exists():
        lines += e2e_section(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
