// Crash harness: a child process appends batches with fsync-before-acknowledge and
// reports each acknowledged batch over a pipe; the parent SIGKILLs it at a random
// moment, reopens the log, and checks: every acknowledged batch is present and
// byte-identical, whatever follows is whole valid batches identical to what the child
// was writing, and appends continue right after the last valid batch. Many rounds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "log/partition_log.h"
#include "protocol/record_batch.h"
#include "support/background_io.h"

namespace fjord::log {
namespace {

namespace fs = std::filesystem;

// Batch number i: deterministic records (1-8 of them, values of 10-3000 bytes).
std::vector<uint8_t> MakeBatch(uint64_t i) {
  std::mt19937_64 rng(i * 7919 + 1);
  const int n = 1 + static_cast<int>(rng() % 8);
  std::vector<std::string> values(n);
  std::vector<protocol::Record> recs(n);
  for (int r = 0; r < n; ++r) {
    values[r] = "batch-" + std::to_string(i) + "-" + std::to_string(r) + "-";
    values[r].resize(10 + rng() % 3000, static_cast<char>('a' + (i + r) % 26));
    recs[r].offset_delta = r;
    recs[r].timestamp_delta = r;
    recs[r].value = protocol::ByteView(std::string_view(values[r]));
  }
  protocol::BatchHeader h;
  h.base_timestamp = 1000 + static_cast<int64_t>(i);
  h.max_timestamp = h.base_timestamp + n - 1;
  h.last_offset_delta = n - 1;
  h.attributes =
      static_cast<int16_t>(i % 3 == 0 ? protocol::Compression::kLz4 : protocol::Compression::kNone);
  std::vector<uint8_t> out;
  (void)protocol::EncodeBatch(h, recs, &out);
  return out;
}

int RecordCount(uint64_t i) {
  return protocol::ParseBatchHeader(protocol::ByteView(MakeBatch(i)))->record_count;
}

// The child: append batches first_batch, first_batch+1, ... forever, acking each.
[[noreturn]] void ChildAppend(const fs::path& dir, uint64_t first_batch, int ack_fd, int segment_bytes) {
  LogConfig cfg;
  cfg.flush_on_every_append = true;
  cfg.segment_bytes = segment_bytes;
  auto log = PartitionLog::Open(dir, cfg);
  if (!log.ok()) _exit(3);
  for (uint64_t i = first_batch;; ++i) {
    auto b = MakeBatch(i);
    if (!(*log)->Append(b.data(), b.size(), 0).ok()) _exit(4);
    if (write(ack_fd, &i, sizeof i) != sizeof i) _exit(5);
  }
}

// Every batch in the log: a read returns whole batches from one segment, so this walks
// segment by segment from offset 0.
std::vector<uint8_t> ReadAll(PartitionLog& log) {
  std::vector<uint8_t> bytes;
  int64_t next = 0;
  while (true) {
    auto chunk = log.Read(next, SIZE_MAX);
    if (!chunk.ok() || chunk->bytes.empty()) break;
    for (size_t p = 0; p < chunk->bytes.size();) {
      auto h =
          protocol::ParseBatchHeader(protocol::ByteView(chunk->bytes.data() + p, chunk->bytes.size() - p));
      next = h->last_offset() + 1;
      p += h->total_size();
    }
    bytes.insert(bytes.end(), chunk->bytes.begin(), chunk->bytes.end());
  }
  return bytes;
}

class CrashHarness : public ::testing::TestWithParam<int> {};

TEST_P(CrashHarness, AcknowledgedBatchesSurviveSigkill) {
  const int segment_bytes = GetParam();
  const fs::path dir = fs::temp_directory_path() /
                       ("fjord-crash-" + std::to_string(getpid()) + "-" + std::to_string(segment_bytes));
  fs::remove_all(dir);
  std::mt19937 rng(segment_bytes);
  uint64_t next_batch = 0;     // first batch the next child writes
  int64_t acked_through = -1;  // highest batch acknowledged so far
  const int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildAppend(dir, next_batch, fds[1], segment_bytes);
    }
    close(fds[1]);
    // Let it acknowledge a random number of batches (or run a random time), then kill.
    const int want = 1 + static_cast<int>(rng() % 60);
    for (int got = 0; got < want; ++got) {
      uint64_t i = 0;
      if (read(fds[0], &i, sizeof i) != sizeof i) break;
      acked_through = static_cast<int64_t>(i);
    }
    usleep(rng() % 3000);
    kill(pid, SIGKILL);
    uint64_t i = 0;
    while (read(fds[0], &i, sizeof i) == sizeof i) acked_through = static_cast<int64_t>(i);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child failed with exit " << WEXITSTATUS(status);

    // Recover, then check every batch from the start.
    auto log = PartitionLog::Open(dir, {});
    ASSERT_TRUE(log.ok()) << log.status();
    std::vector<uint8_t> bytes = ReadAll(**log);
    size_t pos = 0;
    int64_t offset = 0;
    uint64_t batch = 0;
    while (pos < bytes.size()) {
      std::vector<uint8_t> expected = MakeBatch(batch);
      protocol::SetBaseOffset(expected.data(), offset);
      protocol::SetPartitionLeaderEpoch(expected.data(), 0);  // the log stamps its leader epoch
      ASSERT_LE(pos + expected.size(), bytes.size()) << "round " << round << ": partial batch " << batch;
      ASSERT_TRUE(std::equal(expected.begin(), expected.end(), bytes.begin() + static_cast<long>(pos)))
          << "round " << round << ": batch " << batch << " differs";
      pos += expected.size();
      offset += RecordCount(batch);
      ++batch;
    }
    ASSERT_GE(static_cast<int64_t>(batch) - 1, acked_through)
        << "round " << round << ": acknowledged batch lost";
    ASSERT_EQ((*log)->log_end_offset(), offset);
    next_batch = batch;      // the next child continues right after the last valid batch
    (void)(*log).release();  // leave without a clean close: the next open recovers again
  }
  EXPECT_GT(acked_through, kRounds);
  fjord::testing::WaitForBackgroundIo();
  fs::remove_all(dir);
}

// One large segment, and segments small enough that rolls happen during the crashes.
INSTANTIATE_TEST_SUITE_P(SegmentSizes, CrashHarness, ::testing::Values(1 << 30, 64 * 1024));

}  // namespace
}  // namespace fjord::log
