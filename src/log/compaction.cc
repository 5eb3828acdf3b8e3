// Log compaction (cleanup.policy=compact): PartitionLog::Compact, in a file of its own.
//
// Closed segments (never the active one) are rewritten keeping, for each key, only the
// record with the highest offset among them; tombstones (null values) stay until
// delete.retention.ms has passed since their batch's newest timestamp, so that readers
// get to see the delete. Records keep their offsets (batches may have gaps, as in
// Kafka); a batch left with no records is dropped, a segment left empty is deleted.
// A segment is rewritten to `<base>.log.cleaned`, fsynced, and renamed over its
// `.log` (the index is rebuilt): a crash leaves the old or the new file, never half.
// `cleaner-offset-checkpoint` holds the offset below which everything is compacted
// (decimal); a log is cleaned again once the closed bytes above it reach
// min.cleanable.dirty.ratio of all closed bytes, or (max.compaction.lag.ms) once the
// first batch above it is older than that lag. As Kafka's first uncleanable offset,
// compaction stops at the first dirty segment holding a record newer than
// min.compaction.lag.ms.

#include <algorithm>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "log/checkpoint_file.h"
#include "log/partition_log.h"
#include "protocol/record_batch.h"

namespace fjord::log {
namespace {

constexpr char kCleanerCheckpoint[] = "cleaner-offset-checkpoint";

}  // namespace

bool PartitionLog::DirtyLongerThanMaxLag(const Segment& first_dirty, int64_t now_ms) const {
  if (config_.max_compaction_lag_ms == INT64_MAX) return false;
  // As Kafka: the first dirty batch's timestamp says how long the log has been dirty.
  constexpr size_t kEnd = protocol::kBatchMaxTimestampOffset + 8;
  std::vector<uint8_t> head;
  if (first_dirty.size() < kEnd || !first_dirty.ReadAt(0, kEnd, &head).ok() || head.size() < kEnd)
    return false;
  protocol::Reader max_timestamp(head.data() + protocol::kBatchMaxTimestampOffset, 8);
  return now_ms - max_timestamp.Int64() > config_.max_compaction_lag_ms;
}

int64_t PartitionLog::CleanedUpTo() const {
  return ReadOffsetCheckpoint(dir_ / kCleanerCheckpoint).value_or(0);
}

absl::StatusOr<CompactionStats> PartitionLog::Compact(int64_t now_ms) {
  CompactionStats stats;
  if (!config_.compact || segments_.size() < 2) return stats;
  const int64_t cleaned = CleanedUpTo();
  // Everything from end_base on stays as it is: the active segment, and the first dirty
  // segment with a record younger than min.compaction.lag.ms and all after it.
  int64_t end_base = segments_.rbegin()->first;
  for (const auto& [base, seg] : segments_) {
    if (base >= end_base) break;
    if (base >= cleaned && config_.min_compaction_lag_ms > 0 &&
        seg->max_timestamp() > now_ms - config_.min_compaction_lag_ms) {
      end_base = base;
    }
  }
  uint64_t closed = 0, dirty = 0;
  int64_t first_dirty = -1;
  for (const auto& [base, seg] : segments_) {
    if (base >= end_base) break;
    closed += seg->size();
    if (base >= cleaned) {
      dirty += seg->size();
      if (first_dirty < 0) first_dirty = base;
    }
  }
  if (closed == 0 || dirty == 0) return stats;
  if (static_cast<double>(dirty) / static_cast<double>(closed) < config_.min_cleanable_dirty_ratio &&
      !DirtyLongerThanMaxLag(*segments_.at(first_dirty), now_ms)) {
    return stats;
  }
  // Pass 1: the newest offset of every key in the closed segments.
  std::unordered_map<std::string, int64_t> latest;
  std::vector<uint8_t> bytes;
  protocol::DecodedBatch batch;
  for (auto& [base, seg] : segments_) {
    if (base >= end_base) break;
    bytes.clear();
    if (absl::Status s = seg->ReadAt(0, seg->size(), &bytes); !s.ok()) return s;
    protocol::ByteView tail;
    auto batches = protocol::SplitBatches(protocol::ByteView(bytes), &tail);
    if (!batches.ok()) return batches.status();
    for (protocol::ByteView b : *batches) {
      if (absl::Status s = protocol::DecodeBatch(b, protocol::kDefaultMaxDecompressed, &batch); !s.ok())
        return s;
      if (batch.header.is_control()) continue;
      for (const protocol::Record& r : batch.records) {
        if (r.key) latest[std::string(r.key->as_string_view())] = batch.header.base_offset + r.offset_delta;
      }
    }
  }
  // Pass 2: rewrite each closed segment with what survives.
  std::vector<int64_t> bases;
  for (const auto& [base, seg] : segments_) {
    if (base < end_base) bases.push_back(base);
  }
  for (int64_t base : bases) {
    Segment& seg = *segments_.at(base);
    bytes.clear();
    if (absl::Status s = seg.ReadAt(0, seg.size(), &bytes); !s.ok()) return s;
    protocol::ByteView tail;
    auto batches = protocol::SplitBatches(protocol::ByteView(bytes), &tail);
    if (!batches.ok()) return batches.status();
    std::vector<uint8_t> out;
    bool changed = false;
    for (protocol::ByteView b : *batches) {
      if (absl::Status s = protocol::DecodeBatch(b, protocol::kDefaultMaxDecompressed, &batch); !s.ok())
        return s;
      if (batch.header.is_control()) {
        out.insert(out.end(), b.data(), b.data() + b.size());
        continue;
      }
      std::vector<protocol::Record> kept;
      const bool tombstones_expired = now_ms - batch.header.max_timestamp > config_.delete_retention_ms;
      for (const protocol::Record& r : batch.records) {
        const int64_t offset = batch.header.base_offset + r.offset_delta;
        bool keep = true;
        if (r.key) {
          auto it = latest.find(std::string(r.key->as_string_view()));
          keep = it != latest.end() && it->second == offset && !(tombstones_expired && !r.value);
        }
        if (keep) kept.push_back(r);
      }
      stats.records_removed += batch.records.size() - kept.size();
      if (kept.size() == batch.records.size()) {
        out.insert(out.end(), b.data(), b.data() + b.size());
        continue;
      }
      changed = true;
      if (kept.empty()) continue;
      // Same base offset, same last offset delta (the offsets stay as they were).
      if (absl::Status s = protocol::EncodeBatch(batch.header, kept, &out); !s.ok()) return s;
    }
    if (!changed) continue;
    stats.bytes_before += seg.size();
    stats.bytes_after += out.size();
    ++stats.segments_rewritten;
    const auto log_path = dir_ / Segment::FileName(base, ".log");
    const auto cleaned_path = std::filesystem::path(log_path.string() + ".cleaned");
    if (absl::Status s = WriteFileSynced(cleaned_path, out.data(), out.size()); !s.ok()) return s;
    segments_.erase(base);  // closes the old files
    std::error_code ec;
    std::filesystem::rename(cleaned_path, log_path, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("rename ", cleaned_path.string(), ": ", ec.message()));
    std::filesystem::remove(dir_ / Segment::FileName(base, ".index"), ec);
    std::filesystem::remove(dir_ / Segment::FileName(base, ".timeindex"), ec);
    if (absl::Status s = SyncDir(); !s.ok()) return s;
    if (out.empty()) {
      std::filesystem::remove(log_path, ec);
      continue;
    }
    auto reopened = Segment::Open(dir_, base, config_.index_interval_bytes, io_);
    if (!reopened.ok()) return reopened.status();
    segments_[base] = std::move(*reopened);
  }
  if (absl::Status s = WriteOffsetCheckpoint(dir_ / kCleanerCheckpoint, end_base); !s.ok()) return s;
  return stats;
}

}  // namespace fjord::log
