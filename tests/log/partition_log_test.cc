#include "log/partition_log.h"
#include "log/checkpoint_file.h"
#include "log/io_backend.h"
#include "log/state_snapshot.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "protocol/record_batch.h"
#include "support/background_io.h"
#include "support/resident_pages.h"
#include "support/test_dir.h"

namespace fjord::log {
namespace {

namespace fs = std::filesystem;
using protocol::BatchHeader;
using protocol::ByteView;
using protocol::Record;

class PartitionLogTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fjord::testing::FreshTestDir("fjord-log-test"); }
  void TearDown() override {
    fjord::testing::WaitForBackgroundIo();
    fs::remove_all(dir_);
  }

  // The log's segment files, oldest first.
  std::vector<fs::path> SegmentFiles() const {
    std::vector<fs::path> logs;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().extension() == ".log") logs.push_back(e.path());
    std::sort(logs.begin(), logs.end());
    return logs;
  }

  // Appends `mib` MiB as batches of one 64 KiB record; the first batch written (offsets
  // assigned in place) goes to *first when it is empty.
  static void AppendMiB(PartitionLog& log, int mib, std::vector<uint8_t>* first = nullptr) {
    static const std::string value(64 << 10, 'x');
    for (int i = 0; i < mib * 16; ++i) {
      std::vector<Record> recs(1);
      recs[0].value = ByteView(std::string_view(value));
      std::vector<uint8_t> b;
      ASSERT_TRUE(protocol::EncodeBatch(BatchHeader{}, recs, &b).ok());
      ASSERT_TRUE(log.Append(b.data(), b.size(), 0).ok());
      if (first != nullptr && first->empty()) *first = b;
    }
  }

  // A batch of n records with values "v<tag>-<i>" and timestamps ts0 + i.
  std::vector<uint8_t> MakeBatch(int n, const std::string& tag, int64_t ts0 = 1000) {
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) values.push_back("v" + tag + "-" + std::to_string(i));
    std::vector<Record> recs(n);
    for (int i = 0; i < n; ++i) {
      recs[i].offset_delta = i;
      recs[i].timestamp_delta = i;
      recs[i].value = ByteView(std::string_view(values[i]));
    }
    BatchHeader h;
    h.base_timestamp = ts0;
    h.max_timestamp = ts0 + n - 1;
    h.last_offset_delta = n - 1;
    std::vector<uint8_t> out;
    EXPECT_TRUE(protocol::EncodeBatch(h, recs, &out).ok());
    return out;
  }

  // An idempotent producer's batch: producer id, epoch, base sequence.
  std::vector<uint8_t> MakeProducerBatch(int64_t pid, int16_t epoch, int32_t seq, int n,
                                         const std::string& tag) {
    std::vector<uint8_t> b = MakeBatch(n, tag);
    auto h = protocol::ParseBatchHeader(ByteView(b));
    BatchHeader header = *h;
    header.producer_id = pid;
    header.producer_epoch = epoch;
    header.base_sequence = seq;
    std::vector<Record> recs;
    protocol::DecodedBatch d;
    EXPECT_TRUE(protocol::DecodeBatch(ByteView(b), 1 << 20, &d).ok());
    std::vector<uint8_t> out;
    EXPECT_TRUE(protocol::EncodeBatch(header, d.records, &out).ok());
    return out;
  }

  fs::path dir_;
};

// A segment keeps one descriptor open (its .log); the index files are written whole at
// a roll, so every closed segment has them, and 10,000 partitions need 10,000 fds.
TEST_F(PartitionLogTest, EachSegmentHoldsOneDescriptor) {
  auto open_fds = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{});
  };
  (void)ThreadDefaultIoBackend();  // its ring and eventfd are not the segments'
  const auto before = open_fds();
  LogConfig config;
  config.segment_bytes = 300;
  config.index_interval_bytes = 0;
  auto log = PartitionLog::Open(dir_, config);
  for (int i = 0; i < 10; ++i) {
    auto b = MakeBatch(2, std::to_string(i), 1000 + i);
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  const auto segments = (*log)->segment_count();
  ASSERT_GE(segments, 3u);
  // Rolled segments are fdatasynced in the background (on a duplicated descriptor);
  // once that is done the recovery point has moved past them.
  fjord::testing::WaitForBackgroundIo();
  EXPECT_EQ(open_fds() - before, static_cast<long>(segments));
  EXPECT_GT((*log)->recovery_point(), 0);
  size_t with_index = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".index" && fs::file_size(e.path()) >= 8) ++with_index;
  }
  EXPECT_EQ(with_index, segments - 1);  // the active one's is written at close
  ASSERT_TRUE((*log)->Close().ok());
}

// preallocate: the active segment has disk blocks reserved ahead of its data while
// its size stays the data's end; a roll, the open after a crash and a clean close give
// the blocks back.
TEST_F(PartitionLogTest, PreallocateReservesBlocksAheadAndGivesThemBack) {
  fs::create_directories(dir_);
  {
    const int fd = ::open((dir_ / "probe").c_str(), O_RDWR | O_CREAT, 0644);
    const bool supported = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
    ::close(fd);
    fs::remove(dir_ / "probe");
    if (!supported) GTEST_SKIP() << "no fallocate on " << dir_;
  }
  // Disk bytes the file holds past its size, rounded up to whole blocks: a reserve is at
  // least 64 KiB; without one, a few extent-tree blocks at most.
  constexpr int64_t kStep = 64 << 10;
  auto reserved = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return static_cast<int64_t>(st.st_blocks) * 512 - ((st.st_size + 4095) / 4096) * 4096;
  };
  LogConfig config;
  config.preallocate = true;
  config.segment_bytes = 1 << 20;
  uint64_t data_bytes = 0;
  int64_t end = 0;
  {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok());
    for (int i = 0; SegmentFiles().size() < 2 || fs::file_size(SegmentFiles()[1]) < 200000; ++i) {
      auto b = MakeBatch(100, std::to_string(i), 1000 + i);
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
      data_bytes += b.size();
      ASSERT_LT(i, 10000);
    }
    end = (*log)->log_end_offset();
    const auto logs = SegmentFiles();
    ASSERT_EQ(logs.size(), 2u);
    EXPECT_EQ(fs::file_size(logs[0]) + fs::file_size(logs[1]), data_bytes);
    EXPECT_LT(reserved(logs[0]), kStep) << "a rolled segment keeps no reserve";
    EXPECT_GE(reserved(logs[1]), kStep) << "the active segment reserves ahead";
    (void)(*log).release();  // killed: no clean close
  }
  const fs::path active = SegmentFiles()[1];
  EXPECT_GE(reserved(active), kStep);
  {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_end_offset(), end);
    EXPECT_LT(reserved(active), kStep) << "the open after a crash gives the reserve back";
    auto b = MakeBatch(100, "after", 5000);
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    EXPECT_EQ((*log)->log_end_offset(), end + 100);
    EXPECT_GE(reserved(active), kStep);
    ASSERT_TRUE((*log)->Close().ok());
    EXPECT_LT(reserved(active), kStep) << "a clean close gives the reserve back";
  }
  config.preallocate = false;
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  auto b = MakeBatch(100, "off", 6000);
  ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  EXPECT_LT(reserved(active), kStep) << "preallocate=false reserves nothing";
  ASSERT_TRUE((*log)->Close().ok());
}

// retention.bytes and retention.ms delete whole closed segments, oldest first; the
// active segment stays; compact-only logs keep everything.
TEST_F(PartitionLogTest, RetentionDeletesOldSegmentsBySizeAndTime) {
  LogConfig config;
  config.segment_bytes = 300;
  auto log = PartitionLog::Open(dir_, config);
  for (int i = 0; i < 10; ++i) {
    auto b = MakeBatch(2, std::to_string(i), 1000 + i * 1000);  // timestamps 1000, 2000, ...
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  const uint64_t before = (*log)->size_bytes();
  ASSERT_GT(before, 600u);
  EXPECT_EQ(*(*log)->ApplyRetention(1'000'000), 0);  // nothing configured
  // Kafka's rule: the oldest segment goes while what remains is still >= retention.bytes.
  config.retention_bytes = 400;
  (*log)->SetConfig(config);
  EXPECT_GT(*(*log)->ApplyRetention(1'000'000), 0);
  EXPECT_GE((*log)->size_bytes(), 400u);
  EXPECT_LT((*log)->size_bytes(), 400u + 300u);
  const int64_t start = (*log)->log_start_offset();
  EXPECT_GT(start, 0);
  EXPECT_EQ((*log)->Read(start - 1, 100).status().code(), absl::StatusCode::kOutOfRange);
  // By time: every closed segment's newest record is older than 1 ms at "now" 1e6.
  config.retention_bytes = -1;
  config.retention_ms = 1;
  config.delete_retention = false;  // cleanup.policy=compact: kept
  (*log)->SetConfig(config);
  EXPECT_EQ(*(*log)->ApplyRetention(1'000'000), 0);
  config.delete_retention = true;
  (*log)->SetConfig(config);
  ASSERT_TRUE((*log)->ApplyRetention(1'000'000).ok());
  EXPECT_EQ((*log)->log_start_offset(), (*log)->log_end_offset() - 2);  // only the active segment is left
  ASSERT_TRUE((*log)->Close().ok());
  auto reopened = PartitionLog::Open(dir_, config);
  EXPECT_EQ((*reopened)->log_start_offset(), (*reopened)->log_end_offset() - 2);
}

// Records without a timestamp (-1) age by their segment file's modification time, as
// Kafka's LogSegment.largestTimestamp: before, such a segment never expired by time.
TEST_F(PartitionLogTest, RetentionAgesSegmentsWithoutTimestampsByTheirFileTime) {
  LogConfig config;
  config.segment_bytes = 300;
  config.retention_ms = 60'000;
  auto log = PartitionLog::Open(dir_, config);
  for (int i = 0; i < 6; ++i) {
    auto b = MakeBatch(1, std::to_string(i), -1);
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  std::vector<std::filesystem::path> logs;
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    if (e.path().extension() == ".log") logs.push_back(e.path());
  std::sort(logs.begin(), logs.end());
  ASSERT_GE(logs.size(), 2u);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_EQ(*(*log)->ApplyRetention(now_ms), 0);  // written just now
  // The oldest segment last written two minutes ago: past retention.ms.
  const timespec two_minutes_ago[2] = {{now_ms / 1000 - 120, 0}, {now_ms / 1000 - 120, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, logs.front().c_str(), two_minutes_ago, 0), 0);
  EXPECT_EQ(*(*log)->ApplyRetention(now_ms), 1);
  EXPECT_GT((*log)->log_start_offset(), 0);
  ASSERT_TRUE((*log)->Close().ok());
}

// Compaction keeps the newest record per key in the closed segments, keeps offsets,
// drops expired tombstones, and survives a reopen; a leftover .cleaned file is ignored.
TEST_F(PartitionLogTest, CompactionKeepsTheNewestRecordPerKey) {
  LogConfig config;
  config.segment_bytes = 400;
  config.compact = true;
  config.delete_retention = false;
  config.delete_retention_ms = 1000;
  auto log = PartitionLog::Open(dir_, config);
  std::vector<std::string> keys, values;
  auto append = [&](const std::string& key, std::optional<std::string> value, int64_t ts) {
    std::vector<Record> recs(1);
    keys.push_back(key);
    recs[0].key = ByteView(std::string_view(keys.back()));
    if (value) {
      values.push_back(*value);
      recs[0].value = ByteView(std::string_view(values.back()));
    }
    BatchHeader h;
    h.base_timestamp = h.max_timestamp = ts;
    std::vector<uint8_t> b;
    ASSERT_TRUE(protocol::EncodeBatch(h, recs, &b).ok());
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  };
  keys.reserve(200);
  values.reserve(200);
  for (int round = 0; round < 10; ++round) {
    for (int k = 0; k < 4; ++k) append("k" + std::to_string(k), "v" + std::to_string(round), 1000);
  }
  append("k3", std::nullopt, 5000);                       // a tombstone for k3
  for (int i = 0; i < 6; ++i) append("tail", "t", 5000);  // pushes the tombstone out of the active segment
  const int64_t end = (*log)->log_end_offset();
  auto all_records = [&]() {
    std::map<int64_t, std::pair<std::string, std::optional<std::string>>> out;
    for (int64_t offset = (*log)->log_start_offset(); offset < end;) {
      auto r = (*log)->Read(offset, 1 << 20);
      EXPECT_TRUE(r.ok());
      if (!r.ok() || r->bytes.empty()) break;
      protocol::ByteView tail;
      auto batches = protocol::SplitBatches(ByteView(r->bytes), &tail);
      EXPECT_TRUE(batches.ok());
      for (ByteView bv : *batches) {
        protocol::DecodedBatch d;
        EXPECT_TRUE(protocol::DecodeBatch(bv, 1 << 20, &d).ok());
        for (const auto& rec : d.records) {
          out[d.header.base_offset + rec.offset_delta] = {
              std::string(rec.key->as_string_view()),
              rec.value ? std::optional<std::string>(std::string(rec.value->as_string_view()))
                        : std::nullopt};
        }
        offset = d.header.last_offset() + 1;
      }
    }
    return out;
  };
  auto stats = (*log)->Compact(/*now_ms=*/2000);  // tombstone not yet expired
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->records_removed, 20u);
  auto records = all_records();
  std::map<std::string, int> count;
  for (const auto& [offset, kv] : records) ++count[kv.first];
  EXPECT_EQ(count["k0"], 1);
  EXPECT_EQ(count["k3"], 1);                                           // only the tombstone
  EXPECT_EQ(records.at(36).second, std::optional<std::string>("v9"));  // k0's newest keeps its offset
  // The tombstone goes once delete.retention.ms has passed; nothing is compacted twice.
  for (int i = 0; i < 10; ++i) append("tail2", "u", 9000);
  ASSERT_TRUE((*log)->Compact(/*now_ms=*/100000).ok());
  records = all_records();
  count.clear();
  for (const auto& [offset, kv] : records) ++count[kv.first];
  EXPECT_EQ(count["k3"], 0);
  EXPECT_EQ(count["k1"], 1);
  // A compaction cut short leaves a .cleaned file: ignored and removed at open.
  ASSERT_TRUE((*log)->Close().ok());
  std::ofstream(dir_ / "00000000000000000000.log.cleaned") << "junk";
  log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE(fs::exists(dir_ / "00000000000000000000.log.cleaned"));
  EXPECT_EQ(all_records(), records);
}

// The compaction lags (Kafka's min.compaction.lag.ms and max.compaction.lag.ms), on a
// log of one-record batches of keys k0-k3 with given timestamps.
class CompactionLagTest : public PartitionLogTest {
 protected:
  void SetUp() override {
    PartitionLogTest::SetUp();
    config_.segment_bytes = 400;
    config_.compact = true;
    config_.delete_retention = false;
    log_ = std::move(*PartitionLog::Open(dir_, config_));
  }
  void Rounds(int rounds, int64_t ts) {
    for (int round = 0; round < rounds; ++round) {
      for (int k = 0; k < 4; ++k) Append("k" + std::to_string(k), ts);
    }
  }
  void Append(const std::string& key, int64_t ts) {
    std::vector<Record> recs(1);
    recs[0].key = ByteView(std::string_view(key));
    recs[0].value = ByteView(std::string_view(key));
    BatchHeader h;
    h.base_timestamp = h.max_timestamp = ts;
    std::vector<uint8_t> b;
    ASSERT_TRUE(protocol::EncodeBatch(h, recs, &b).ok());
    ASSERT_TRUE(log_->Append(b.data(), b.size(), 0).ok());
  }
  // How many records of `key` the log holds.
  int Count(const std::string& key) {
    int n = 0;
    for (int64_t offset = log_->log_start_offset(); offset < log_->log_end_offset();) {
      auto r = log_->Read(offset, 1 << 20);
      EXPECT_TRUE(r.ok());
      if (!r.ok() || r->bytes.empty()) break;
      protocol::ByteView tail;
      auto batches = protocol::SplitBatches(ByteView(r->bytes), &tail);
      EXPECT_TRUE(batches.ok());
      if (!batches.ok()) break;
      for (ByteView bv : *batches) {
        protocol::DecodedBatch d;
        EXPECT_TRUE(protocol::DecodeBatch(bv, 1 << 20, &d).ok());
        for (const auto& rec : d.records) n += rec.key->as_string_view() == key;
        offset = d.header.last_offset() + 1;
      }
    }
    return n;
  }
  LogConfig config_;
  std::unique_ptr<PartitionLog> log_;
};

TEST_F(CompactionLagTest, RecordsYoungerThanTheMinLagAreNotCompacted) {
  config_.min_compaction_lag_ms = 20'000;
  log_->SetConfig(config_);
  Rounds(10, 1'000);
  Rounds(10, 50'000);
  for (int i = 0; i < 6; ++i) Append("tail", 50'000);  // the active segment holds only these
  ASSERT_TRUE(log_->Compact(/*now_ms=*/60'000).ok());
  // the young half (and the segment where it starts) is untouched, the old half compacted
  EXPECT_GE(Count("k0"), 10);
  EXPECT_LT(Count("k0"), 13);
  ASSERT_TRUE(log_->Compact(/*now_ms=*/100'000).ok());  // now all of it is old enough
  EXPECT_EQ(Count("k0"), 1);
}

TEST_F(CompactionLagTest, ALogDirtyLongerThanTheMaxLagIsCompactedBelowTheRatio) {
  config_.min_cleanable_dirty_ratio = 0.9;
  log_->SetConfig(config_);
  Rounds(20, 1'000);
  for (int i = 0; i < 6; ++i) Append("tail", 1'000);
  ASSERT_TRUE(log_->Compact(/*now_ms=*/2'000).ok());  // all dirty: ratio 1
  ASSERT_EQ(Count("k0"), 1);
  Rounds(2, 3'000);  // a little dirt: well below the ratio once closed
  for (int i = 0; i < 6; ++i) Append("tail2", 3'000);
  auto stats = log_->Compact(/*now_ms=*/10'000);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->records_removed, 0u);
  EXPECT_EQ(Count("k0"), 3);
  config_.max_compaction_lag_ms = 5'000;  // the dirt is 7 s old
  log_->SetConfig(config_);
  stats = log_->Compact(/*now_ms=*/10'000);
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->records_removed, 0u);
  EXPECT_EQ(Count("k0"), 1);
}

// After a crash only what lies past the recovery point (the last flush, checkpointed)
// is CRC-checked: recovery is bounded by the unflushed tail, not by the log.
// flush.ms: what has been unflushed that long is flushed; nothing sooner, nothing
// when flush.ms is unset, and a flush elsewhere (the group commit) restarts the wait.
TEST_F(PartitionLogTest, FlushMsFlushesWhatWaitedThatLong) {
  auto log = PartitionLog::Open(dir_, {});
  auto b = MakeBatch(4, "a");
  ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE((*log)->FlushIfDue().ok());
  EXPECT_EQ((*log)->recovery_point(), 0);  // flush.ms unset
  LogConfig config;
  config.flush_ms = 1000;  // wide: an fdatasync under ctest -j2 took 200 ms once
  (*log)->SetConfig(config);
  ASSERT_TRUE((*log)->FlushIfDue().ok());
  EXPECT_EQ((*log)->recovery_point(), 4);
  ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  ASSERT_TRUE((*log)->FlushIfDue().ok());
  EXPECT_EQ((*log)->recovery_point(), 4);  // flushed just now: not due yet
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  (*log)->NoteFlushed(8);
  ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  ASSERT_TRUE((*log)->FlushIfDue().ok());
  EXPECT_EQ((*log)->recovery_point(), 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE((*log)->FlushIfDue().ok());
  EXPECT_EQ((*log)->recovery_point(), 12);
}

TEST_F(PartitionLogTest, RecoveryChecksOnlyPastTheRecoveryPoint) {
  std::vector<uint8_t> flushed, tail;
  {
    auto log = PartitionLog::Open(dir_, {});
    for (int i = 0; i < 20; ++i) {
      auto b = MakeBatch(4, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
      (i < 15 ? flushed : tail).insert((i < 15 ? flushed : tail).end(), b.begin(), b.end());
      if (i == 14) {
        ASSERT_TRUE((*log)->Flush().ok());
        ASSERT_TRUE((*log)->CheckpointRecoveryPoint().ok());
        EXPECT_EQ((*log)->recovery_point(), 60);
        // The checkpoint is replaced in the background (FileReplacer).
        ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
        EXPECT_EQ(ReadOffsetCheckpoint(dir_ / "recovery-point-offset-checkpoint"),
                  std::optional<int64_t>(60));
      }
    }
    (void)(*log).release();  // killed: no clean close
  }
  auto log = PartitionLog::Open(dir_, {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_end_offset(), 80);
  EXPECT_EQ((*log)->recovery_checked_bytes(), tail.size());  // the 5 unflushed batches only
  EXPECT_EQ((*log)->recovery_point(), 80);                   // verified and flushed at open
  // Without a checkpoint every batch of the last segment is checked.
  ASSERT_TRUE((*log)->Close().ok());
  fs::remove(dir_ / "recovery-point-offset-checkpoint");
  fs::remove(dir_ / ".clean-shutdown");
  log = PartitionLog::Open(dir_, {});
  EXPECT_EQ((*log)->recovery_checked_bytes(), flushed.size() + tail.size());
}

// A rolled segment is flushed in the background, so a crash can come before its sync
// did: recovery then checks every segment past the recovery point, not only the last,
// and a corrupt batch in a closed segment ends the log there (later segments go).
TEST_F(PartitionLogTest, RecoveryChecksClosedSegmentsNotYetFlushed) {
  LogConfig config;
  config.segment_bytes = 400;
  std::vector<int64_t> bases;
  {
    auto log = PartitionLog::Open(dir_, config);
    for (int i = 0; i < 12; ++i) {
      auto b = MakeBatch(2, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    ASSERT_GE((*log)->segment_count(), 3u);
    EXPECT_EQ((*log)->recovery_point(), 0);  // no completion has run: nothing counts as flushed
    (void)(*log).release();                  // killed before the background syncs reported
  }
  for (const auto& e : fs::directory_iterator(dir_)) {
    const auto name = e.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log")) bases.push_back(std::stoll(name.substr(0, 20)));
  }
  std::sort(bases.begin(), bases.end());
  ASSERT_GE(bases.size(), 3u);
  {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->log_end_offset(), 24);
    uint64_t total = 0;
    for (int64_t base : bases)
      total += fs::file_size(
          dir_ / (std::string(20 - std::to_string(base).size(), '0') + std::to_string(base) + ".log"));
    EXPECT_EQ((*log)->recovery_checked_bytes(), total);  // every segment, not only the last
    (void)(*log).release();
  }
  // Corrupt the last byte of the second segment (a record's value: the CRC fails).
  const auto second =
      dir_ / (std::string(20 - std::to_string(bases[1]).size(), '0') + std::to_string(bases[1]) + ".log");
  {
    std::fstream f(second, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(second) - 1));
    f.put('\x7f');
  }
  fs::remove(dir_ / "recovery-point-offset-checkpoint");
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  EXPECT_LT((*log)->log_end_offset(), bases[2]);  // the log ends inside the second segment
  EXPECT_GE((*log)->log_end_offset(), bases[1]);
  EXPECT_EQ((*log)->segment_count(), 2u);
  EXPECT_FALSE(fs::exists(
      dir_ / (std::string(20 - std::to_string(bases[2]).size(), '0') + std::to_string(bases[2]) + ".log")));
}

// The time index narrows timestamp lookups; answers match a brute-force scan, also
// after a reopen (the index is rebuilt) and with the log start inside a segment.
TEST_F(PartitionLogTest, TimeIndexAnswersLikeAScan) {
  LogConfig config;
  config.index_interval_bytes = 200;
  auto log = PartitionLog::Open(dir_, config);
  for (int i = 0; i < 100; ++i) {
    auto b = MakeBatch(3, std::to_string(i), 1000 + i * 10);  // record timestamps 1000+10i, +1, +2
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  // The index files are written whole when the log closes (or the segment rolls).
  const auto timeindex = dir_ / "00000000000000000000.timeindex";
  ASSERT_TRUE((*log)->Close().ok());
  ASSERT_TRUE(fs::exists(timeindex));
  EXPECT_GT(fs::file_size(timeindex), 12u * 10);
  EXPECT_EQ(fs::file_size(timeindex) % 12, 0u);
  EXPECT_EQ(fs::file_size(dir_ / "00000000000000000000.index") % 8, 0u);
  log = PartitionLog::Open(dir_, config);
  auto expected = [](int64_t ts) -> std::pair<int64_t, int64_t> {
    for (int i = 0; i < 100; ++i) {
      for (int j = 0; j < 3; ++j) {
        if (1000 + i * 10 + j >= ts) return {i * 3 + j, 1000 + i * 10 + j};
      }
    }
    return {-1, -1};
  };
  for (int round = 0; round < 2; ++round) {
    for (int64_t ts : {0, 1000, 1001, 1003, 1005, 1500, 1501, 1989, 1992, 1993, 5000}) {
      EXPECT_EQ(*(*log)->OffsetForTimestamp(ts), expected(ts)) << ts << " round " << round;
    }
    ASSERT_TRUE((*log)->Close().ok());
    log = PartitionLog::Open(dir_, config);
  }
  // Log start in the middle of the segment: earlier timestamps answer with the log start.
  ASSERT_TRUE((*log)->AdvanceLogStart(150).ok());
  EXPECT_EQ(*(*log)->OffsetForTimestamp(0), std::make_pair(int64_t{150}, int64_t{1500}));
}

TEST_F(PartitionLogTest, SegmentMsRollsOnRecordTimestamps) {
  LogConfig config;
  config.segment_ms = 5000;
  auto log = PartitionLog::Open(dir_, config);
  auto append = [&](int64_t ts) {
    auto b = MakeBatch(1, "t", ts);
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  };
  append(10'000);
  append(12'000);  // 2 s after the segment's first record: same segment
  append(15'000);  // 5 s after: a new segment
  size_t segments = 0;
  for (const auto& e : fs::directory_iterator(dir_)) segments += e.path().extension() == ".log";
  EXPECT_EQ(segments, 2u);
}

// segment.jitter.ms: each segment rolls up to that much sooner than segment.ms. Of 20
// logs with records 100 ms apart, none rolls before 1 s without jitter; with 1 s of
// jitter some do (all 20 drawing below 100 ms has odds of 10^-20).
TEST_F(PartitionLogTest, SegmentJitterRollsSomeSegmentsSooner) {
  auto rolled_early = [&](int64_t jitter_ms) {
    int early = 0;
    for (int i = 0; i < 20; ++i) {
      LogConfig config;
      config.segment_ms = 1000;
      config.segment_jitter_ms = jitter_ms;
      const fs::path dir = dir_ / absl::StrCat("j", jitter_ms, "-", i);
      auto log = PartitionLog::Open(dir, config);
      for (int64_t ts = 10'000; ts < 10'950; ts += 100) {
        auto b = MakeBatch(1, "t", ts);
        EXPECT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
      }
      early += (*log)->segment_count() > 1;
    }
    return early;
  };
  EXPECT_EQ(rolled_early(0), 0);
  EXPECT_GT(rolled_early(1000), 0);
}

// Producer state comes back after a restart from the newest snapshot plus a replay of
// what follows it; a damaged snapshot falls back to an older one (or a full replay).
// producer.id.expiration.ms: a producer whose last batch is that old is forgotten, and
// may then start at any sequence, as a new one (Kafka's expiry).
TEST(ProducerStateTable, ExpireBeforeForgetsIdleProducers) {
  ProducerStateTable table;
  BatchHeader h;
  h.producer_epoch = 0;
  h.base_sequence = 0;
  h.producer_id = 1;
  h.max_timestamp = 1000;
  table.Update(h, 0);
  h.producer_id = 2;
  h.max_timestamp = 5000;
  table.Update(h, 1);
  BatchMeta original{};
  h.producer_id = 1;
  h.base_sequence = 7;
  EXPECT_EQ(table.Check(h, &original), SequenceCheck::kOutOfOrderSequence);
  EXPECT_EQ(table.ExpireBefore(1000), 1u);
  EXPECT_EQ(table.producers(), 1u);
  EXPECT_EQ(table.Check(h, &original), SequenceCheck::kAppend);  // no state: starts anywhere
  EXPECT_EQ(table.ExpireBefore(4999), 0u);
}

TEST_F(PartitionLogTest, ProducerStateSurvivesRestartsThroughSnapshots) {
  LogConfig config;
  config.segment_bytes = 600;  // several rolls, so several snapshots
  std::vector<std::vector<uint8_t>> sent;
  {
    auto log = PartitionLog::Open(dir_, config);
    for (int i = 0; i < 12; ++i) {
      sent.push_back(MakeProducerBatch(7, 0, i * 2, 2, std::to_string(i)));
      auto copy = sent.back();
      ASSERT_EQ((*log)->Append(copy.data(), copy.size(), 0)->sequence, SequenceCheck::kAppend);
    }
    ASSERT_TRUE((*log)->Close().ok());
  }
  size_t snapshots = 0;
  for (const auto& e : fs::directory_iterator(dir_)) snapshots += e.path().extension() == ".snapshot";
  EXPECT_EQ(snapshots, 2u);  // the newest two are kept
  auto expect_state = [&](const char* when) {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok()) << when;
    auto dup = sent.back();
    auto r = (*log)->Append(dup.data(), dup.size(), 0);
    EXPECT_EQ(r->sequence, SequenceCheck::kDuplicate) << when;
    EXPECT_EQ(r->base_offset, 22) << when;
    auto gap = MakeProducerBatch(7, 0, 30, 1, "gap");
    EXPECT_EQ((*log)->Append(gap.data(), gap.size(), 0)->sequence, SequenceCheck::kOutOfOrderSequence)
        << when;
    auto producers = (*log)->ActiveProducers();
    ASSERT_EQ(producers.size(), 1u) << when;
    EXPECT_EQ(producers[0].last_seq, 23) << when;
    (void)(*log).release();  // unclean: the next open replays from a snapshot
  };
  expect_state("after a clean close");
  expect_state("after a crash");
  // Damage the newest snapshot: the older one plus a longer replay gives the same state.
  std::vector<fs::path> snaps;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".snapshot") snaps.push_back(e.path());
  }
  std::sort(snaps.begin(), snaps.end());
  ASSERT_FALSE(snaps.empty());
  {
    std::fstream f(snaps.back(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('\x55');
  }
  expect_state("with the newest snapshot damaged");
  for (const auto& p : snaps) fs::remove(p);
  expect_state("with no snapshot at all");
}

// A roll's snapshot and the new segment's directory entry become durable off the shard
// (FileReplacer); until then a group-commit flush also fsyncs the directory. Temporary
// files a crash left behind are deleted at open.
TEST_F(PartitionLogTest, ARollsFilesBecomeDurableInTheBackground) {
  LogConfig config;
  config.segment_bytes = 400;
  {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok());
    auto target = (*log)->SegmentsForFlush();
    ASSERT_TRUE(target.ok());
    EXPECT_EQ(target->directory_fd, -1);  // no roll yet
    for (int fd : target->segment_fds) ::close(fd);
    while ((*log)->segment_count() < 2) {
      auto b = MakeBatch(2, "r");
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    const int64_t roll_offset = (*log)->log_end_offset() - 2;
    target = (*log)->SegmentsForFlush();
    ASSERT_TRUE(target.ok());
    EXPECT_GE(target->directory_fd, 0);
    for (int fd : target->segment_fds) ::close(fd);
    if (target->directory_fd >= 0) ::close(target->directory_fd);
    ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
    EXPECT_TRUE(fs::exists(dir_ / ProducerSnapshotName(roll_offset)));
    EXPECT_TRUE(fs::exists(dir_ / "leader-epoch-checkpoint"));
    target = (*log)->SegmentsForFlush();
    ASSERT_TRUE(target.ok());
    EXPECT_EQ(target->directory_fd, -1);
    for (int fd : target->segment_fds) ::close(fd);
    ASSERT_TRUE((*log)->Close().ok());
  }
  std::ofstream(dir_ / "recovery-point-offset-checkpoint.7.tmp") << "12";
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE(fs::exists(dir_ / "recovery-point-offset-checkpoint.7.tmp"));
}

// Leader epochs reach their checkpoint file before each producer snapshot (a roll or
// a close), not on the append that starts them; after a crash the log still knows
// every epoch's start, from the file for epochs before the newest snapshot and from
// the batch headers after it.
TEST_F(PartitionLogTest, LeaderEpochsSurviveACrashWithoutAFlush) {
  LogConfig config;
  config.segment_bytes = 400;  // a roll every few batches
  std::map<int32_t, std::pair<int32_t, int64_t>> expected;
  {
    auto log = PartitionLog::Open(dir_, config);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 30; ++i) {
      if (i % 4 == 0) (*log)->set_leader_epoch(i / 4);
      auto b = MakeBatch(2, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    ASSERT_GT((*log)->segment_count(), 3u);
    for (int32_t e = 0; e <= 8; ++e) expected[e] = (*log)->EndOffsetForEpoch(e);
    EXPECT_EQ(expected[6], std::make_pair(6, int64_t{56}));  // epoch 7 starts at batch 28
    (void)(*log).release();                                  // killed: no flush, no close
  }
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  for (int32_t e = 0; e <= 8; ++e) EXPECT_EQ((*log)->EndOffsetForEpoch(e), expected[e]) << "epoch " << e;
  // A new epoch reaches the file when the log closes, not when it flushes.
  (*log)->set_leader_epoch(9);
  auto b = MakeBatch(1, "nine");
  ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  auto file_text = [&] {
    std::ifstream in(dir_ / "leader-epoch-checkpoint");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ(file_text().find("\n9 60\n"), std::string::npos);
  ASSERT_TRUE((*log)->Close().ok());
  EXPECT_NE(file_text().find("\n9 60\n"), std::string::npos);
}

// As Kafka's leader-epoch cache: the leader's own epoch ends at the log end even before
// anything is written in it, an epoch newer than every known one is unknown, and each
// offset belongs to the epoch whose start is the nearest at or below it.
TEST_F(PartitionLogTest, LeaderEpochEndsAndTheEpochOfAnOffset) {
  auto log = PartitionLog::Open(dir_, LogConfig{});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->EndOffsetForEpoch(0), std::make_pair(0, int64_t{0}));
  EXPECT_EQ((*log)->EndOffsetForEpoch(1), std::make_pair(-1, int64_t{-1}));
  EXPECT_EQ((*log)->EpochOf(0), 0);
  auto append = [&](int records) {
    auto b = MakeBatch(records, "v");
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  };
  append(3);  // 0-2 in epoch 0
  (*log)->set_leader_epoch(2);
  append(2);                    // 3-4 in epoch 2
  (*log)->set_leader_epoch(4);  // nothing written in it yet
  EXPECT_EQ((*log)->EndOffsetForEpoch(0), std::make_pair(0, int64_t{3}));
  EXPECT_EQ((*log)->EndOffsetForEpoch(1), std::make_pair(0, int64_t{3}));  // never led: its predecessor's
  EXPECT_EQ((*log)->EndOffsetForEpoch(2), std::make_pair(2, int64_t{5}));
  EXPECT_EQ((*log)->EndOffsetForEpoch(4), std::make_pair(4, int64_t{5}));
  EXPECT_EQ((*log)->EndOffsetForEpoch(5), std::make_pair(-1, int64_t{-1}));
  EXPECT_EQ((*log)->EpochOf(2), 0);
  EXPECT_EQ((*log)->EpochOf(3), 2);
  EXPECT_EQ((*log)->EpochOf(-1), -1);
}

// log.page.cache.window.bytes: what lies more than the window behind the end is written
// back and leaves the page cache, flushed or not, in the active segment and in rolled
// ones; the window itself stays cached for consumers near the end, and what left is
// read back from the disk. A window of 0 leaves it all to the kernel (Kafka's way).
TEST_F(PartitionLogTest, PagesBehindTheWindowAreWrittenBackAndLeaveThePageCache) {
  using fjord::testing::ResidentPages;
  std::vector<uint8_t> first_batch;  // as appended (offsets assigned in place)
  auto append_mib = [&](PartitionLog& log, int mib) { AppendMiB(log, mib, &first_batch); };
  const fs::path first = dir_ / "00000000000000000000.log";
  {
    LogConfig keep_all;
    keep_all.page_cache_window_bytes = 0;
    auto log = PartitionLog::Open(dir_, keep_all);
    ASSERT_TRUE(log.ok());
    append_mib(**log, 8);
    ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
    EXPECT_GT(ResidentPages(first, 0, 6 << 20), 1400u);
    ASSERT_TRUE((*log)->Close().ok());
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  first_batch.clear();
  LogConfig config;
  config.segment_bytes = 24 << 20;
  config.page_cache_window_bytes = 2 << 20;
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  append_mib(**log, 20);  // no flush
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  const uint64_t size = fs::file_size(first);
  EXPECT_LT(ResidentPages(first, 0, size - (3 << 20)), 16u);
  EXPECT_GT(ResidentPages(first, size - (2 << 20), size), 400u);  // the window stays
  // A roll: the rolled segment goes once enough follows it.
  append_mib(**log, 8);
  ASSERT_EQ((*log)->segment_count(), 2u);
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  EXPECT_LT(ResidentPages(first, 0, fs::file_size(first)), 16u);
  auto read = (*log)->Read(0, first_batch.size());  // from the disk
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->bytes, first_batch);
}

// log.page.cache.window.max.bytes: the window grows to keep cached what a reader
// behind the end has yet to read (up to the maximum, across segments); once the reader
// has read to the end, it covers what came after that read (or the window, if more).
TEST_F(PartitionLogTest, TheWindowGrowsToCoverWhatAReaderHasYetToRead) {
  using fjord::testing::ResidentPages;
  constexpr uint64_t kMiB = 1 << 20;
  auto pages = [](const fs::path& f) { return (fs::file_size(f) + 4095) / 4096; };
  LogConfig config;
  config.segment_bytes = 8 << 20;
  config.page_cache_window_bytes = 2 << 20;
  config.page_cache_window_max_bytes = 12 << 20;
  auto log = PartitionLog::Open(dir_, config);
  ASSERT_TRUE(log.ok());
  constexpr uint64_t kReader = 7;
  AppendMiB(**log, 1);
  ASSERT_TRUE((*log)->ReadSlice(0, kMiB, kReader).ok());  // a reader at the start
  AppendMiB(**log, 19);
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  auto logs = SegmentFiles();
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ((*log)->page_cache_window(), 12u << 20);
  // 12 MiB behind the end are kept (the two newest segments, about 13 MB); the oldest
  // segment lies beyond the maximum and left.
  EXPECT_LT(ResidentPages(logs[0], 0, fs::file_size(logs[0])), 16u);
  EXPECT_GT(ResidentPages(logs[1], 0, fs::file_size(logs[1])), pages(logs[1]) - 16);
  EXPECT_GT(ResidentPages(logs[2], 0, fs::file_size(logs[2])), pages(logs[2]) - 16);
  // A reader not passed in (kNoReader) is no reader.
  ASSERT_TRUE((*log)->ReadSlice(0, kMiB).ok());
  // The reader reads at the end: the window shrinks to what came after its read (a
  // little over the 2 MiB window), and what lay further back leaves.
  const uint64_t read_at = fs::file_size(logs[2]);
  ASSERT_TRUE((*log)->ReadSlice((*log)->log_end_offset(), kMiB, kReader).ok());
  AppendMiB(**log, 2);
  ASSERT_TRUE(fjord::testing::WaitForBackgroundIo());
  ASSERT_EQ(SegmentFiles().size(), 3u);
  const uint64_t active = fs::file_size(logs[2]);
  EXPECT_EQ((*log)->page_cache_window(), active - read_at);
  EXPECT_LT(ResidentPages(logs[1], 0, fs::file_size(logs[1])), 16u);
  EXPECT_LT(ResidentPages(logs[2], 0, active - 3 * kMiB), 16u);
  EXPECT_GT(ResidentPages(logs[2], active - 2 * kMiB, active), 400u);
}

TEST_F(PartitionLogTest, AppendAssignsOffsetsAndReadsBack) {
  auto log = PartitionLog::Open(dir_, {});
  ASSERT_TRUE(log.ok()) << log.status();
  auto b1 = MakeBatch(3, "a");
  auto b2 = MakeBatch(2, "b");
  auto r1 = (*log)->Append(b1.data(), b1.size(), 0);
  auto r2 = (*log)->Append(b2.data(), b2.size(), 0);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->base_offset, 0);
  EXPECT_EQ(r1->last_offset, 2);
  EXPECT_EQ(r2->base_offset, 3);
  EXPECT_EQ((*log)->log_end_offset(), 5);
  auto read = (*log)->Read(0, 1 << 20);
  ASSERT_TRUE(read.ok());
  std::vector<uint8_t> both = b1;  // b1/b2 now carry their assigned offsets
  both.insert(both.end(), b2.begin(), b2.end());
  EXPECT_EQ(read->bytes, both);
  // Reading from inside the second batch starts at that batch.
  auto mid = (*log)->Read(4, 1 << 20);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->bytes, b2);
  // max_bytes smaller than a batch still returns one whole batch.
  auto tiny = (*log)->Read(0, 1);
  EXPECT_EQ(tiny->bytes, b1);
  // At the end: nothing; past it: out of range.
  EXPECT_TRUE((*log)->Read(5, 100)->bytes.empty());
  EXPECT_EQ((*log)->Read(6, 100).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(PartitionLogTest, RollsSegmentsAndReopens) {
  LogConfig cfg;
  cfg.segment_bytes = 300;
  {
    auto log = PartitionLog::Open(dir_, cfg);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 20; ++i) {
      auto b = MakeBatch(2, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    EXPECT_EQ((*log)->log_end_offset(), 40);
  }
  int segments = 0;
  for (const auto& e : fs::directory_iterator(dir_)) segments += e.path().extension() == ".log";
  EXPECT_GT(segments, 3);
  EXPECT_TRUE(fs::exists(dir_ / "00000000000000000000.log"));
  auto log = PartitionLog::Open(dir_, cfg);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_end_offset(), 40);
  for (int64_t off = 0; off < 40; ++off) {
    auto r = (*log)->Read(off, 1);
    ASSERT_TRUE(r.ok());
    auto h = protocol::ParseBatchHeader(ByteView(r->bytes));
    ASSERT_TRUE(h.ok());
    EXPECT_LE(h->base_offset, off);
    EXPECT_GE(h->last_offset(), off);
  }
}

// A full offset index rolls the segment, as segment.index.bytes does in Kafka.
TEST_F(PartitionLogTest, RollsWhenTheIndexIsFull) {
  LogConfig cfg;
  cfg.index_interval_bytes = 0;  // an index entry for every append
  cfg.segment_index_bytes = 24;  // three entries of 8 bytes (two of the time index's 12)
  auto log = PartitionLog::Open(dir_, cfg);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 9; ++i) {
    auto b = MakeBatch(1, std::to_string(i), 1000 + i);  // growing timestamps: time index entries too
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  std::vector<std::string> logs;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().extension() == ".log") logs.push_back(e.path().filename().string());
  std::sort(logs.begin(), logs.end());
  // The time index (12-byte entries) fills first: two batches per segment.
  ASSERT_EQ(logs.size(), 5u);
  EXPECT_EQ(logs[1], "00000000000000000002.log");
  for (int64_t off = 0; off < 9; ++off) EXPECT_TRUE((*log)->Read(off, 1).ok());
}

// Retention renames a segment's files to *.deleted and unlinks them in the background
// (the backend's completions); a restart removes leftovers of a deletion cut short.
TEST_F(PartitionLogTest, DeletedSegmentsAreRenamedThenUnlinkedInTheBackground) {
  LogConfig cfg;
  cfg.segment_bytes = 200;
  IoBackend& io = ThreadDefaultIoBackend();
  auto log = PartitionLog::Open(dir_, cfg);
  for (int i = 0; i < 6; ++i) {
    auto b = MakeBatch(2, std::to_string(i));
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  ASSERT_TRUE(fs::exists(dir_ / "00000000000000000000.log"));
  cfg.retention_bytes = 1;
  (*log)->SetConfig(cfg);
  ASSERT_GT(*(*log)->ApplyRetention(0), 0);
  EXPECT_FALSE(fs::exists(dir_ / "00000000000000000000.log"));
  EXPECT_GT(io.pending(), 0u);
  fjord::testing::WaitForBackgroundIo();
  EXPECT_EQ(io.pending(), 0u);
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_NE(e.path().extension(), ".deleted") << e.path();
  ASSERT_TRUE((*log)->Close().ok());
  std::ofstream(dir_ / "00000000000000000000.log.deleted") << "left over";
  auto reopened = PartitionLog::Open(dir_, cfg);
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(fs::exists(dir_ / "00000000000000000000.log.deleted"));
}

// ReadSlice names exactly the bytes Read returns (whole batches, at least one),
// across segments, index entries and limits of every size.
TEST_F(PartitionLogTest, ReadSliceMatchesRead) {
  LogConfig cfg;
  cfg.segment_bytes = 3000;
  cfg.index_interval_bytes = 300;
  auto log = PartitionLog::Open(dir_, cfg);
  for (int i = 0; i < 60; ++i) {
    auto b = MakeBatch(1 + i % 4, std::to_string(i) + std::string(i * 7 % 90, 'x'));
    ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
  }
  const int64_t end = (*log)->log_end_offset();
  for (int64_t off = 0; off <= end; off += 3) {
    for (size_t max : {size_t{1}, size_t{100}, size_t{500}, size_t{1000}, size_t{2900}, size_t{1} << 20}) {
      auto read = (*log)->Read(off, max);
      auto slice = (*log)->ReadSlice(off, max);
      ASSERT_TRUE(read.ok() && slice.ok());
      std::vector<uint8_t> bytes(slice->length);
      if (slice->length > 0) {
        ASSERT_EQ(::pread(slice->fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(slice->position)),
                  static_cast<ssize_t>(bytes.size()));
      }
      EXPECT_EQ(bytes, read->bytes) << "offset " << off << " max " << max;
    }
  }
  EXPECT_EQ((*log)->ReadSlice(end + 1, 100).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(PartitionLogTest, TornTailIsCutAfterACrash) {
  std::vector<uint8_t> kept;
  {
    auto log = PartitionLog::Open(dir_, {});
    for (int i = 0; i < 5; ++i) {
      auto b = MakeBatch(4, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
      if (i < 4) kept.insert(kept.end(), b.begin(), b.end());
    }
    (void)(*log).release();  // no clean close: as if killed
  }
  // Tear the last batch: drop its final 10 bytes.
  const fs::path seg = dir_ / "00000000000000000000.log";
  fs::resize_file(seg, fs::file_size(seg) - 10);
  auto log = PartitionLog::Open(dir_, {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_end_offset(), 16);
  EXPECT_EQ(fs::file_size(seg), kept.size());
  EXPECT_EQ((*log)->Read(0, 1 << 20)->bytes, kept);
  // Appending continues right after the last valid batch.
  auto b = MakeBatch(1, "new");
  EXPECT_EQ((*log)->Append(b.data(), b.size(), 0)->base_offset, 16);
}

TEST_F(PartitionLogTest, CorruptTailIsCutByCrc) {
  {
    auto log = PartitionLog::Open(dir_, {});
    for (int i = 0; i < 3; ++i) {
      auto b = MakeBatch(2, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    (void)(*log).release();
  }
  const fs::path seg = dir_ / "00000000000000000000.log";
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(seg) - 3));
    f.put('\x5a');
  }
  auto log = PartitionLog::Open(dir_, {});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_end_offset(), 4);
}

TEST_F(PartitionLogTest, OffsetForTimestamp) {
  auto log = PartitionLog::Open(dir_, {});
  auto b1 = MakeBatch(5, "a", 1000);  // ts 1000..1004, offsets 0..4
  auto b2 = MakeBatch(5, "b", 2000);  // ts 2000..2004, offsets 5..9
  ASSERT_TRUE((*log)->Append(b1.data(), b1.size(), 0).ok());
  ASSERT_TRUE((*log)->Append(b2.data(), b2.size(), 0).ok());
  EXPECT_EQ((*log)->OffsetForTimestamp(0)->first, 0);
  EXPECT_EQ((*log)->OffsetForTimestamp(1003)->first, 3);
  EXPECT_EQ((*log)->OffsetForTimestamp(1500)->first, 5);
  EXPECT_EQ((*log)->OffsetForTimestamp(2004)->second, 2004);
  EXPECT_EQ((*log)->OffsetForTimestamp(9999)->first, -1);
}

// ListOffsets' MAX_TIMESTAMP (KIP-734): the record with the newest timestamp, which need
// not be the last one; among equal timestamps the earliest offset, as Kafka answers.
TEST_F(PartitionLogTest, MaxTimestampOffsetIsTheNewestRecordsNotTheLast) {
  LogConfig cfg;
  cfg.segment_bytes = 300;  // each batch below rolls into a segment of its own
  {
    auto log = PartitionLog::Open(dir_, cfg);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ(*(*log)->MaxTimestampOffset(), std::make_pair(int64_t{-1}, int64_t{-1}));
    for (const auto& [tag, ts0] :
         std::vector<std::pair<std::string, int64_t>>{{"a", 1000}, {"b", 9000}, {"c", 2000}}) {
      auto b = MakeBatch(5, tag, ts0);  // offsets 0-4, 5-9, 10-14
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    auto tie = MakeBatch(1, "d", 9004);  // offset 15, as new as offset 9
    ASSERT_TRUE((*log)->Append(tie.data(), tie.size(), 0).ok());
    ASSERT_GT((*log)->segment_count(), 1u);
    EXPECT_EQ(*(*log)->MaxTimestampOffset(), std::make_pair(int64_t{9}, int64_t{9004}));
    ASSERT_TRUE((*log)->Close().ok());
  }
  auto reopened = PartitionLog::Open(dir_, cfg);  // the answer comes back from the files
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->MaxTimestampOffset(), std::make_pair(int64_t{9}, int64_t{9004}));
}

TEST_F(PartitionLogTest, LogAppendTimeIsStampedAndCrcStaysValid) {
  LogConfig cfg;
  cfg.log_append_time = true;
  auto log = PartitionLog::Open(dir_, cfg);
  auto b = MakeBatch(3, "t", 5);
  auto r = (*log)->Append(b.data(), b.size(), 777777);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->log_append_time, 777777);
  auto read = (*log)->Read(0, 1 << 20);
  auto h = protocol::ParseBatchHeader(ByteView(read->bytes));
  EXPECT_EQ(h->max_timestamp, 777777);
  EXPECT_TRUE(protocol::BatchCrcValid(ByteView(read->bytes)));
}

TEST_F(PartitionLogTest, AdvanceLogStartDeletesWholeSegmentsAndSurvivesRestart) {
  LogConfig cfg;
  cfg.segment_bytes = 300;
  {
    auto log = PartitionLog::Open(dir_, cfg);
    for (int i = 0; i < 20; ++i) {
      auto b = MakeBatch(2, std::to_string(i));
      ASSERT_TRUE((*log)->Append(b.data(), b.size(), 0).ok());
    }
    // Files still in the log (deleted ones are renamed away at once, unlinked later).
    auto live_files = [&] {
      return std::count_if(fs::directory_iterator(dir_), fs::directory_iterator{},
                           [](const fs::directory_entry& e) { return e.path().extension() != ".deleted"; });
    };
    const auto before = live_files();
    EXPECT_EQ((*log)->AdvanceLogStart(41).status().code(), absl::StatusCode::kOutOfRange);  // past the HW
    EXPECT_EQ(*(*log)->AdvanceLogStart(25), 25);
    EXPECT_EQ((*log)->log_start_offset(), 25);
    EXPECT_EQ(*(*log)->AdvanceLogStart(10), 25);  // never moves back
    EXPECT_LT(live_files(), before);
    EXPECT_EQ((*log)->Read(24, 100).status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_TRUE((*log)->Read(25, 100).ok());
  }
  auto log = PartitionLog::Open(dir_, cfg);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_start_offset(), 25);
  EXPECT_EQ((*log)->log_end_offset(), 40);
}

}  // namespace
}  // namespace fjord::log
