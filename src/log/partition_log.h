// A partition's log: ordered segments in `<log.dir>/<topic>-<partition>/`.
//
// Owned by exactly one shard; not thread-safe by design (no locks on the hot path).
// Append assigns offsets in place in the client's batch bytes (base offset, leader epoch, and the
// max timestamp for LogAppendTime) and rewrites nothing else.
//
// Durability words, as used here:
//   appended  - written to the segment file with pwrite (in the page cache);
//   flushed   - fdatasync has returned for it (Flush here, or on another thread
//               through SegmentsForFlush: the broker's group commit).
// `log-start-offset` holds the log start offset moved by DeleteRecords (a decimal
// number, replaced atomically). A clean shutdown writes `.clean-shutdown`; without it, opening the log checks
// every batch of the last segment by CRC and cuts a torn tail. Producer state and
// leader epochs come from `<offset>.snapshot` and `leader-epoch-checkpoint`
// (state_snapshot.h) plus a replay of the batch headers after the snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "log/file_replacer.h"
#include "log/file_slice.h"
#include "log/io_backend.h"
#include "log/producer_state.h"
#include "log/segment.h"
#include "log/tail_readers.h"
#include "protocol/wire.h"

namespace fjord::log {

struct LogConfig {
  int64_t segment_bytes = 1LL << 30;             // segment.bytes
  int32_t index_interval_bytes = 4096;           // index.interval.bytes
  int32_t segment_index_bytes = 10485760;        // segment.index.bytes: roll when an index is this full
  int64_t flush_messages = INT64_MAX;            // flush.messages: fsync after this many
  int64_t flush_ms = INT64_MAX;                  // flush.ms: fsync what is this long unflushed
  int64_t producer_id_expiration_ms = 86400000;  // producer.id.expiration.ms (broker-wide)
  bool flush_on_every_append = false;            // fsync before acknowledging (Redpanda-style)
  bool log_append_time = false;                  // message.timestamp.type=LogAppendTime
  int64_t retention_ms = -1;                     // retention.ms (-1: keep forever)
  int64_t retention_bytes = -1;                  // retention.bytes (-1: no size limit)
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;   // segment.ms: roll a segment this old
  int64_t segment_jitter_ms = 0;                 // segment.jitter.ms: up to this much sooner
  bool delete_retention = true;                  // cleanup.policy has "delete" (compact-only: keep)
  bool compact = false;                          // cleanup.policy has "compact"
  double min_cleanable_dirty_ratio = 0.5;        // min.cleanable.dirty.ratio
  int64_t delete_retention_ms = 86400000;        // delete.retention.ms (tombstones)
  int64_t min_compaction_lag_ms = 0;             // min.compaction.lag.ms: records this new stay
  int64_t max_compaction_lag_ms = INT64_MAX;     // max.compaction.lag.ms: dirty this long, compact
  // log.page.cache.window.bytes (ours): bytes more than this far behind the log end
  // are written back and dropped from the page cache (0: leave it all to the kernel, as
  // Kafka does). See KeepWindowCached.
  int64_t page_cache_window_bytes = 0;
  // log.page.cache.window.max.bytes (ours): the window grows up to this to keep cached
  // what readers near the end have yet to read (TailReaders).
  int64_t page_cache_window_max_bytes = 0;
  // preallocate / log.preallocate: reserve disk blocks ahead of appends (Segment::Reserve).
  bool preallocate = false;
  bool operator==(const LogConfig&) const = default;
};

struct AppendResult {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t log_append_time = -1;  // -1 unless LogAppendTime
  // Idempotent producers: kDuplicate means nothing was written and the offsets are
  // those of the original batch; the error checks mean nothing was written.
  SequenceCheck sequence = SequenceCheck::kAppend;
};

struct CompactionStats {
  int segments_rewritten = 0;
  uint64_t records_removed = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

struct ReadResult {
  std::vector<uint8_t> bytes;  // whole batches
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
};

class PartitionLog {
 public:
  // Writes and syncs go through `io` (this thread's default backend when null), which
  // must outlive the log.
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(const std::filesystem::path& dir,
                                                            LogConfig config, IoBackend* io = nullptr);
  ~PartitionLog();

  // Appends one or more record batches v2 (already validated: lengths, magic, CRC).
  // Offsets are assigned from log_end_offset(). `batches` is modified in place.
  // Batches of idempotent producers are checked against the producer state first: a
  // single duplicate batch is answered with its original offsets, and a sequence or
  // epoch error writes nothing (see AppendResult::sequence).
  absl::StatusOr<AppendResult> Append(uint8_t* batches, size_t size, int64_t now_ms);

  // Whole batches starting with the one holding `offset`, up to max_bytes but always
  // at least one batch. OFFSET_OUT_OF_RANGE is OutOfRange.
  absl::StatusOr<ReadResult> Read(int64_t offset, size_t max_bytes);
  // The same batches as Read, as a file range to send without copying (sendfile);
  // an empty slice (length 0) at the log end. A `reader` (non-zero: the broker passes
  // its connection's id) is remembered as where it read, for the page-cache window.
  absl::StatusOr<FileSlice> ReadSlice(int64_t offset, size_t max_bytes,
                                      uint64_t reader = TailReaders::kNoReader);

  // First offset whose record timestamp is >= ts, or -1 with no such record.
  absl::StatusOr<std::pair<int64_t, int64_t>> OffsetForTimestamp(int64_t ts);  // {offset, timestamp}

  // DeleteRecords: moves the log start offset up to `offset` (at most the high
  // watermark; OutOfRange beyond it), deletes the segments wholly below it, and
  // checkpoints the new start so it survives restarts. Returns the log start offset.
  absl::StatusOr<int64_t> AdvanceLogStart(int64_t offset);

  // Retention (Kafka's delete policy): deletes whole closed segments, oldest first,
  // while the oldest's newest record is older than retention.ms or the log without it
  // is still at least retention.bytes; moves the log start offset past them
  // (checkpointed). The active segment stays. Returns how many segments went.
  absl::StatusOr<int> ApplyRetention(int64_t now_ms);

  // Compaction (cleanup.policy=compact; compaction.cc): when enough closed data is
  // dirty, rewrites the closed segments keeping the newest record per key.
  absl::StatusOr<CompactionStats> Compact(int64_t now_ms);

  // The record holding the largest timestamp (the first such record), or {-1, -1}.
  absl::StatusOr<std::pair<int64_t, int64_t>> MaxTimestampOffset();

  // Batches appended from now on carry this partition leader epoch (single node: 0;
  // replication moves it with each leader election).
  void set_leader_epoch(int32_t epoch) { leader_epoch_ = epoch; }
  int32_t leader_epoch() const { return leader_epoch_; }
  // OffsetForLeaderEpoch (KIP-101/279): {the largest epoch <= `epoch`, the start offset
  // of the next epoch, or the log end offset for the latest and the leader's own};
  // {-1, -1} if unknown.
  std::pair<int32_t, int64_t> EndOffsetForEpoch(int32_t epoch) const;
  // The leader epoch `offset` was written in (ListOffsets v4+): the leader's own for a
  // log with nothing written yet; -1 for an offset before every known epoch, or < 0.
  int32_t EpochOf(int64_t offset) const;

  std::vector<ProducerSummary> ActiveProducers() const { return producers_.Active(); }

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return segments_.empty() ? 0 : segments_.rbegin()->second->next_offset(); }
  // Single replica: everything appended is committed.
  int64_t high_watermark() const { return log_end_offset(); }
  uint64_t size_bytes() const;
  // Bytes behind the log end that the last append left in the page cache: the window,
  // grown for readers behind (KeepWindowCached); 0 when the page cache is left to the
  // kernel.
  uint64_t page_cache_window() const { return page_cache_window_; }
  size_t segment_count() const { return segments_.size(); }
  const std::filesystem::path& dir() const { return dir_; }
  const LogConfig& config() const { return config_; }
  // A topic config changed (AlterConfigs): new appends and the next roll use it.
  void SetConfig(const LogConfig& config) { config_ = config; }

  absl::Status Flush();
  // flush.ms: Flush when something is unflushed and the last flush (here or through
  // NoteFlushed) is at least that long ago.
  absl::Status FlushIfDue();
  // producer.id.expiration.ms: forgets idempotent producers whose last batch is stamped
  // that long before now_ms; returns how many.
  size_t ExpireProducers(int64_t now_ms) {
    return producers_.ExpireBefore(now_ms - config_.producer_id_expiration_ms);
  }
  // Disk errors (ENOSPC, EIO, EROFS, EDQUOT) take the log offline: from then on appends
  // and reads fail with the same error until the broker restarts, so nothing is
  // acknowledged on top of a segment whose state is unknown (Kafka's rule).
  bool offline() const { return !offline_reason_.ok(); }
  const absl::Status& offline_reason() const { return offline_reason_; }
  // A disk error seen elsewhere (a flush on the group-commit thread).
  void GoOffline(const absl::Status& reason) {
    if (offline_reason_.ok()) offline_reason_ = reason;
  }
  // True exactly once after the log went offline (for the broker's log line).
  bool TakeOfflineReport() {
    if (!offline() || offline_reported_) return false;
    offline_reported_ = true;
    return true;
  }
  // Everything below `end_offset` was fdatasynced elsewhere (the broker's group commit).
  void NoteFlushed(int64_t end_offset);
  // Writes `recovery-point-offset-checkpoint`: after a crash, batches below it are not
  // CRC-checked again (they were flushed), so recovery is bounded by the unflushed tail.
  // The file is replaced in the background (FileReplacer); an error there takes the log
  // offline. A checkpoint that lags only makes a recovery check more. An offline log
  // keeps the one it has.
  absl::Status CheckpointRecoveryPoint();
  int64_t recovery_point() const { return recovery_point_; }
  // Bytes the last open checked by CRC (0 after a clean shutdown).
  uint64_t recovery_checked_bytes() const { return recovery_checked_bytes_; }
  // For flushing off the shard (group commit): duplicate descriptors of the active
  // segment and of rolled segments whose background sync has not reported (to
  // fdatasync), of the log's directory while a roll's new segment may not be durable
  // in it yet (to fsync), and the log end offset that syncing all of them covers
  // (report it with NoteFlushed).
  struct FlushTarget {
    std::vector<int> segment_fds;
    int directory_fd = -1;
    int64_t end = 0;
  };
  absl::StatusOr<FlushTarget> SegmentsForFlush();
  // Syncs all of `target` on `io` in the background (fdatasync of the segments, fsync of
  // the directory; each descriptor closed by the backend) and calls done once, after the
  // last, with the first error if any.
  static void SyncInBackground(IoBackend& io, const FlushTarget& target, IoBackend::Done done);
  // Flushes and marks the log cleanly closed.
  absl::Status Close();

 private:
  // The segment and position of the batch holding `offset` (or the first after it);
  // a null segment at the log end. Offline and out-of-range logs are errors.
  absl::StatusOr<std::pair<Segment*, uint64_t>> LocateBatch(int64_t offset);
  PartitionLog(std::filesystem::path dir, LogConfig config, IoBackend& io)
      : dir_(std::move(dir)), config_(config), io_(io) {}
  absl::Status Load();
  absl::Status LoadState();
  absl::StatusOr<AppendResult> AppendOnline(
      uint8_t* data, size_t size, int64_t now_ms);  // producer state and leader epochs: snapshot, then replay
  absl::Status ReplayBatchHeaders(int64_t from);
  bool NoteEpoch(int32_t epoch, int64_t start_offset);  // true if it starts a new epoch
  absl::Status Roll(int64_t next_offset);
  absl::Status SyncDir() const;               // makes a new segment's directory entry durable
  absl::Status CheckpointRecoveryPointNow();  // as CheckpointRecoveryPoint, blocking
  int64_t CleanedUpTo() const;                // from cleaner-offset-checkpoint (0 if none)
  // max.compaction.lag.ms: the first dirty segment's first batch is older than that.
  bool DirtyLongerThanMaxLag(const Segment& first_dirty, int64_t now_ms) const;
  Segment& active() { return *segments_.rbegin()->second; }

  std::filesystem::path dir_;
  LogConfig config_;
  IoBackend& io_;
  std::map<int64_t, std::unique_ptr<Segment>> segments_;  // by base offset
  int64_t log_start_offset_ = 0;
  int64_t unflushed_messages_ = 0;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
  int64_t recovery_point_ = 0;  // every offset below it is flushed
  // Segments closed by a roll whose fdatasync runs in the background, oldest first: the
  // recovery point cannot pass the first one until its sync is done.
  struct RollFlush {
    int64_t start, end;
    bool done = false;
  };
  std::deque<RollFlush> roll_flushes_;
  // For background completions: they do nothing once the log is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  void AdvanceRecoveryPoint(int64_t to);
  absl::Status SyncPendingRolls();  // inline fdatasync of rolled segments not yet reported
  void OnRollFlushed(int64_t end, const absl::Status& s);
  absl::Status offline_reason_;  // OK while online
  bool offline_reported_ = false;
  int64_t checkpointed_recovery_point_ = -1;
  uint64_t recovery_checked_bytes_ = 0;
  // segment.ms: a new batch whose timestamp is this much past the active segment's
  // first batch (after a restart: its newest) starts a new segment; -1 while empty.
  int64_t active_first_timestamp_ = -1;
  int64_t active_roll_jitter_ms_ = 0;  // drawn per segment from segment.jitter.ms
  ProducerStateTable producers_;
  int32_t leader_epoch_ = 0;
  std::map<int32_t, int64_t> epoch_starts_;  // leader epoch -> first offset written in it
  // epoch_starts_ holds an epoch the checkpoint file does not. The file is written
  // just before each producer snapshot (at a roll and at close), not on the append
  // that starts the epoch: a synced write of it and of the directory there stalled the
  // shard once per partition after every leader change, and doubled the cost of an
  // fsync-before-ack produce. Nothing is lost by waiting: recovery replays the batch
  // headers after the newest snapshot, and each carries its leader epoch.
  bool epochs_unwritten_ = false;
  absl::Status WriteEpochsIfChanged();
  // After each append: what lies more than page_cache_window_bytes behind the log end
  // is written back and dropped from the page cache, flushed or not (in the active
  // segment, and in the newest rolled segment wholly behind the window), off the shard
  // (IoBackend::WriteBackAndDropInBackground, in steps of at least 1 MiB). Why:
  // appending takes a new page-cache page for every 4 KiB, and on a VM a page the host
  // has not backed recently costs several times the copy into it; pages dropped once
  // clean return to the free list and are reused by the next appends while still warm.
  // Measured with 1 MiB appends and an fdatasync every 4 MiB: 330-530 MB/s keeping
  // everything, 1,080 MB/s dropping all but the last 64 MiB. It also writes a log's
  // bytes as they come rather than in the kernel's bursts.
  //
  // Consumers at the end read from the page cache. One a little behind would read from
  // the disk, and then fall further behind: each fetch waits for the disk, and the
  // consumer comes back for more only after its answer (a tailing librdkafka consumer at
  // 340,000 records/s of 1 KiB stayed 0.5-2 s behind for whole runs). So the window
  // grows to cover where the slowest recent reader last read (tail_readers_), up to
  // page_cache_window_max_bytes.
  void KeepWindowCached();
  // How far `at` lies behind the log end, in bytes (counted up to `limit` at most).
  uint64_t BytesBehindEnd(TailReaders::Position at, uint64_t limit) const;
  TailReaders tail_readers_;
  uint64_t page_cache_window_ = 0;  // as KeepWindowCached last set it
  bool closed_ = false;
  // A roll's new segment file, epochs and producer snapshot reach the disk through
  // replacer_, off the shard; until its batch is durable, flushes fsync the directory
  // themselves (dir_sync_pending_, for the roll numbered rolls_).
  bool dir_sync_pending_ = false;
  uint64_t rolls_ = 0;
  int64_t checkpoint_queued_ = -1;  // the recovery point last handed to replacer_
  FileReplacer replacer_{dir_, io_, [this](absl::Status s) { GoOffline(s); }};
};

}  // namespace fjord::log
