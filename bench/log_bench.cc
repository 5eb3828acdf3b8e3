// log-bench: the partition log's own append and read throughput, for comparison with
// fio's figure for the same pattern in the same run (bench/run-all.sh runs both).
//
//   log-bench --dir DIR --batch-kib B --partitions P --mib N [--fsync | --group-sync] [--read]
//             [--preallocate]
//
// Appends N MiB as batches of B KiB (1 KiB records) round-robin over P partition logs,
// fdatasync after every batch with --fsync. With --group-sync (one partition) the appends
// never wait: a second thread fdatasyncs duplicates of the log's descriptors back to
// back, each round covering what was appended before it started, as the broker's group
// commit does for fsync-before-ack; the time runs until the last append is synced, and
// the CPU includes that thread's. With --read, then drops the page cache of
// the files and reads everything back as the broker's Fetch does: PartitionLog::ReadSlice
// finds whole batches of up to 1 MiB, whose bytes are then read into one reused buffer.
// Like fio's, every append writes from the same buffer (Append rewrites only the base
// offset in place, so the batch can be appended again as it is).
// --preallocate reserves disk blocks ahead of appends (log.preallocate).
// Prints one JSON line with MB/s and the CPU seconds the process spent appending (with
// --fsync that includes the writeback, which fdatasync runs in the calling thread).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/cpu_meter.h"
#include "log/partition_log.h"
#include "protocol/record_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

// The group commit's flushing side: takes one round of descriptors at a time, syncs and
// closes them, and reports the offset the round covered.
class Syncer {
 public:
  Syncer() : thread_([this] { Run(); }) {}
  ~Syncer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool idle() {
    std::lock_guard lock(mu_);
    return !round_;
  }
  void Start(fjord::log::PartitionLog::FlushTarget target) {
    {
      std::lock_guard lock(mu_);
      round_ = std::move(target);
    }
    cv_.notify_all();
  }
  // Waits for the round in flight; returns the end offset synced so far (-1 on an error).
  int64_t WaitIdle() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !round_; });
    return synced_end_;
  }
  int64_t synced_end() {
    std::lock_guard lock(mu_);
    return synced_end_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || round_; });
      if (stop_) return;
      fjord::log::PartitionLog::FlushTarget target = *round_;
      lock.unlock();
      bool ok = true;
      for (int fd : target.segment_fds) ok = ::fdatasync(fd) == 0 && ok, ::close(fd);
      if (target.directory_fd >= 0)
        ok = ::fsync(target.directory_fd) == 0 && ok, ::close(target.directory_fd);
      lock.lock();
      synced_end_ = ok ? target.end : -1;
      round_.reset();
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<fjord::log::PartitionLog::FlushTarget> round_;
  int64_t synced_end_ = 0;
  bool stop_ = false;
  std::thread thread_;
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
  std::optional<Syncer> syncer;
  if (group_sync) syncer.emplace();
  // A round starts after an append when none is running, as WaitDurable starts one.
  auto start_round = [&](fjord::log::PartitionLog& log) {
    auto target = log.SegmentsForFlush();
    if (!target.ok()) return false;
    syncer->Start(std::move(*target));
    return true;
  };
  for (long i = 0; i < batches; ++i) {
    auto& log = logs[static_cast<size_t>(i % partitions)];
    if (!log->Append(buffer.data(), buffer.size(), 0).ok()) return 1;
    if (fsync && !log->Flush().ok()) return 1;
    if (syncer && syncer->idle()) {
      if (syncer->synced_end() < 0) return 1;
      log->NoteFlushed(syncer->synced_end());
      if (!start_round(*log)) return 1;
    }
  }
  if (syncer) {  // the last round must cover the last append
    int64_t end = syncer->WaitIdle();
    if (end >= 0 && end < logs[0]->log_end_offset()) {
      if (!start_round(*logs[0])) return 1;
      end = syncer->WaitIdle();
    }
    if (end < 0) return 1;
    logs[0]->NoteFlushed(end);
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
