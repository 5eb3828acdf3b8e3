// log-bench: the partition log's own append and read throughput, for comparison with
// fio's figure for the same pattern in the same run (bench/run-all.sh runs both).
//
//   log-bench --dir DIR --batch-kib B --partitions P --mib N [--fsync | --group-sync] [--read]
//             [--preallocate]
//
// Appends N MiB as batches of B KiB (1 KiB records) round-robin over P partition logs,
// fdatasync after every batch with --fsync. With --group-sync (one partition) the appends
// never wait: fdatasyncs of duplicates of the log's descriptors run back to back on the
// log's I/O backend, each round covering what was appended before it started, as the
// broker's group commit does for fsync-before-ack; the time runs until the last append
// is synced, and the CPU includes the backend's threads. With --read, then drops the page
// cache of the files and reads everything back as the broker's Fetch does:
// PartitionLog::ReadSlice finds whole batches of up to 1 MiB, whose bytes are then read
// into one reused buffer.
// Like fio's, every append writes from the same buffer (Append rewrites only the base
// offset in place, so the batch can be appended again as it is).
// --preallocate reserves disk blocks ahead of appends (log.preallocate).
// Prints one JSON line with MB/s and the CPU seconds the process spent appending (with
// --fsync that includes the writeback, which fdatasync runs in the calling thread).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/cpu_meter.h"
#include "log/io_backend.h"
#include "log/partition_log.h"
#include "protocol/record_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

// The group commit's flushing side, as the broker runs it: one round at a time on the
// log's I/O backend (PartitionLog::SyncInBackground, as GroupCommitter), its completion reaped by the
// appending thread between appends.
class SyncRounds {
 public:
  explicit SyncRounds(fjord::log::IoBackend& io) : io_(io) {}
  bool running() const { return running_; }
  int64_t synced_end() const { return synced_end_; }  // -1 once a sync failed
  // Starts a round covering what the log holds now.
  bool Start(fjord::log::PartitionLog& log) {
    auto target = log.SegmentsForFlush();
    if (!target.ok()) return false;
    running_ = true;
    fjord::log::PartitionLog::SyncInBackground(io_, *target, [this, end = target->end](absl::Status s) {
      synced_end_ = s.ok() && synced_end_ >= 0 ? end : -1;
      running_ = false;
    });
    return true;
  }
  void Reap() { io_.RunCompletions(); }
  void WaitRound() {
    while (running_) {
      pollfd ready{io_.completion_fd(), POLLIN, 0};
      (void)::poll(&ready, 1, 1000);
      io_.RunCompletions();
    }
  }

 private:
  fjord::log::IoBackend& io_;
  bool running_ = false;
  int64_t synced_end_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int batch_kib = 1024, partitions = 1;
  long mib = 256;
  bool fsync = false, group_sync = false, read = false, preallocate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--dir")
      dir = next();
    else if (a == "--batch-kib")
      batch_kib = std::atoi(next().c_str());
    else if (a == "--partitions")
      partitions = std::atoi(next().c_str());
    else if (a == "--mib")
      mib = std::atol(next().c_str());
    else if (a == "--fsync")
      fsync = true;
    else if (a == "--group-sync")
      group_sync = true;
    else if (a == "--read")
      read = true;
    else if (a == "--preallocate")
      preallocate = true;
  }
  if (dir.empty() || batch_kib <= 0 || partitions <= 0 || mib <= 0 ||
      (group_sync && (fsync || partitions != 1))) {
    std::fprintf(stderr,
                 "usage: log-bench --dir DIR --batch-kib B --partitions P --mib N [--fsync | --group-sync] "
                 "[--read] [--preallocate]\n(--group-sync takes one partition)\n");
    return 2;
  }
  std::filesystem::remove_all(dir);
  fjord::log::LogConfig config;
  config.preallocate = preallocate;
  std::vector<std::unique_ptr<fjord::log::PartitionLog>> logs;
  for (int p = 0; p < partitions; ++p) {
    auto log =
        fjord::log::PartitionLog::Open(std::filesystem::path(dir) / ("t-" + std::to_string(p)), config);
    if (!log.ok()) return 1;
    logs.push_back(std::move(*log));
  }
  // ~1 KiB per record with its framing
  const std::vector<uint8_t> batch = fjord::bench::UniformBatch(static_cast<size_t>(batch_kib), 1000);
  const long batches = std::max<long>(1, mib * 1024 / batch_kib);
  std::vector<uint8_t> buffer = batch;
  const fjord::bench::CpuMeter meter(0);  // this process: its io_uring workers included
  const fjord::bench::CpuSample cpu_start = meter.Sample();
  const auto start = Clock::now();
  std::optional<SyncRounds> rounds;
  if (group_sync) rounds.emplace(fjord::log::ThreadDefaultIoBackend());
  for (long i = 0; i < batches; ++i) {
    auto& log = logs[static_cast<size_t>(i % partitions)];
    if (!log->Append(buffer.data(), buffer.size(), 0).ok()) return 1;
    if (fsync && !log->Flush().ok()) return 1;
    if (rounds) {  // a round starts after an append when none runs, as WaitDurable starts one
      rounds->Reap();
      if (rounds->synced_end() < 0) return 1;
      if (!rounds->running()) {
        log->NoteFlushed(rounds->synced_end());
        if (!rounds->Start(*log)) return 1;
      }
    }
  }
  if (rounds) {  // the last round must cover the last append
    rounds->WaitRound();
    if (rounds->synced_end() >= 0 && rounds->synced_end() < logs[0]->log_end_offset()) {
      if (!rounds->Start(*logs[0])) return 1;
      rounds->WaitRound();
    }
    if (rounds->synced_end() < 0) return 1;
    logs[0]->NoteFlushed(rounds->synced_end());
  }
  const double write_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double write_cpu_s = fjord::bench::CpuMeter::Between(cpu_start, meter.Sample()).client_s;
  const double bytes = static_cast<double>(batches) * static_cast<double>(batch.size());
  double read_mb_s = 0;
  if (read) {
    for (auto& log : logs) (void)log->Flush();
    fjord::bench::DropPageCache(dir);
    const auto rstart = Clock::now();
    double read_bytes = 0;
    std::vector<uint8_t> chunk(2 << 20);
    for (auto& log : logs) {
      int64_t offset = log->log_start_offset();
      while (offset < log->log_end_offset()) {
        auto slice = log->ReadSlice(offset, 1 << 20);
        if (!slice.ok() || slice->length == 0) return 1;
        if (chunk.size() < slice->length) chunk.resize(slice->length);
        if (::pread(slice->fd.get(), chunk.data(), slice->length, static_cast<off_t>(slice->position)) !=
            static_cast<ssize_t>(slice->length)) {
          return 1;
        }
        read_bytes += static_cast<double>(slice->length);
        // The next batch starts after the last whole batch read.
        fjord::protocol::ByteView tail;
        auto split =
            fjord::protocol::SplitBatches(fjord::protocol::ByteView(chunk.data(), slice->length), &tail);
        if (!split.ok() || split->empty()) return 1;
        auto h = fjord::protocol::ParseBatchHeader(split->back());
        offset = h->last_offset() + 1;
      }
    }
    read_mb_s = read_bytes / 1e6 / std::chrono::duration<double>(Clock::now() - rstart).count();
  }
  for (auto& log : logs) (void)log->Close();
  std::printf(
      "{\"batch_kib\":%d,\"batch_bytes\":%zu,\"partitions\":%d,\"fsync\":%s,\"group_sync\":%s,"
      "\"preallocate\":%s,\"mib\":%.0f,"
      "\"write_mb_s\":%.1f,\"write_cpu_s\":%.3f,\"read_mb_s\":%.1f}\n",
      batch_kib, batch.size(), partitions, fsync ? "true" : "false", group_sync ? "true" : "false",
      preallocate ? "true" : "false", bytes / 1048576.0, bytes / 1e6 / write_s, write_cpu_s, read_mb_s);
  std::filesystem::remove_all(dir);
  return 0;
}
