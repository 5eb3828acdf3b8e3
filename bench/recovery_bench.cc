// recovery-bench: how long opening a partition log takes after a kill -9, for logs of
// different sizes with the same unflushed tail. Recovery should cost the tail (CRC of
// what was not flushed), not the log. Also the same log opened with no recovery-point
// checkpoint (every batch of the last segment CRC-checked) as the reference.
//
//   recovery-bench --dir DIR --log-mib N --tail-mib T [--segment-mib S]
//
// Writes N MiB of 1 MiB batches (1 KiB records) in segments of S MiB (Kafka's default
// 1024), flushes and checkpoints, writes T MiB more without flushing (choose N so that
// the tail stays in the active segment: a roll flushes; 3800 + 256 fills 4 GiB exactly
// that way with 1 GiB segments), abandons the log as a crash would, drops the page cache of
// the files (posix_fadvise) so the tail is read from disk, and times the reopen.
// Prints one JSON line.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "log/io_backend.h"
#include "log/partition_log.h"
#include "protocol/record_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  long log_mib = 3800, tail_mib = 256, segment_mib = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir")
      dir = argv[i + 1];
    else if (a == "--log-mib")
      log_mib = std::atol(argv[i + 1]);
    else if (a == "--tail-mib")
      tail_mib = std::atol(argv[i + 1]);
    else if (a == "--segment-mib")
      segment_mib = std::atol(argv[i + 1]);
  }
  if (dir.empty() || log_mib <= 0 || tail_mib < 0) {
    std::fprintf(stderr, "usage: recovery-bench --dir DIR --log-mib N --tail-mib T\n");
    return 2;
  }
  std::filesystem::remove_all(dir);
  const std::vector<uint8_t> batch = fjord::bench::UniformBatch(1024, 1024);
  fjord::log::LogConfig config;
  config.segment_bytes = segment_mib << 20;
  {
    auto log = fjord::log::PartitionLog::Open(dir, config);
    if (!log.ok()) return 1;
    std::vector<uint8_t> copy;
    for (long i = 0; i < log_mib; ++i) {
      copy = batch;
      if (!(*log)->Append(copy.data(), copy.size(), 0).ok()) return 1;
    }
    // Rolled segments are synced in the background; a broker's loop runs their
    // completions, which is what lets the recovery point pass them.
    fjord::log::IoBackend& io = fjord::log::ThreadDefaultIoBackend();
    while (io.pending() > 0) {
      io.RunCompletions();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    io.RunCompletions();
    if (!(*log)->Flush().ok() || !(*log)->CheckpointRecoveryPoint().ok()) return 1;
    for (long i = 0; i < tail_mib; ++i) {
      copy = batch;
      if (!(*log)->Append(copy.data(), copy.size(), 0).ok()) return 1;
    }
    (void)log->release();  // a crash: no flush of the tail, no clean-shutdown marker
  }
  auto reopen = [&](uint64_t* checked) {
    fjord::bench::DropPageCache(dir);
    const auto start = Clock::now();
    auto log = fjord::log::PartitionLog::Open(dir, config);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (!log.ok()) std::abort();
    *checked = (*log)->recovery_checked_bytes();
    (void)log->release();  // stay "crashed" for the next measurement
    std::filesystem::remove(std::filesystem::path(dir) / ".clean-shutdown");
    return s;
  };
  uint64_t checked = 0, checked_all = 0;
  const double with_checkpoint = reopen(&checked);
  // The reference: the same crash without the checkpoint.
  std::filesystem::remove(std::filesystem::path(dir) / "recovery-point-offset-checkpoint");
  const double without = reopen(&checked_all);
  std::printf(
      "{\"log_mib\":%ld,\"tail_mib\":%ld,\"recovery_s\":%.3f,\"checked_mib\":%.1f,"
      "\"no_checkpoint_s\":%.3f,\"no_checkpoint_checked_mib\":%.1f}\n",
      log_mib, tail_mib, with_checkpoint, checked / 1048576.0, without, checked_all / 1048576.0);
  std::filesystem::remove_all(dir);
  return 0;
}
