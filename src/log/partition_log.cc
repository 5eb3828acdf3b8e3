#include "log/partition_log.h"

#include <fcntl.h>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <fstream>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "log/checkpoint_file.h"
#include "log/state_snapshot.h"
#include "protocol/record_batch.h"

namespace fjord::log {
namespace {

constexpr char kCleanShutdown[] = ".clean-shutdown";
constexpr char kLogStartCheckpoint[] = "log-start-offset";
constexpr size_t kSnapshotsKept = 2;
constexpr char kRecoveryPoint[] = "recovery-point-offset-checkpoint";

// A segment's share of segment.jitter.ms: uniform below min(jitter, segment.ms), as Kafka.
int64_t RollJitter(const LogConfig& config) {
  const int64_t bound = std::min(config.segment_jitter_ms, config.segment_ms);
  if (bound <= 0) return 0;
  thread_local std::mt19937_64 random{std::random_device{}()};
  return static_cast<int64_t>(random() % static_cast<uint64_t>(bound));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PartitionLog>> PartitionLog::Open(const std::filesystem::path& dir,
                                                                 LogConfig config, IoBackend* io) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("create ", dir.string(), ": ", ec.message()));
  if (created) {  // the new directory's entry must survive a crash too
    const int fd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  std::unique_ptr<PartitionLog> log(
      new PartitionLog(dir, config, io != nullptr ? *io : ThreadDefaultIoBackend()));
  if (absl::Status s = log->Load(); !s.ok()) {
    // Half loaded: nothing may be flushed or marked clean, or the next open would
    // trust a log it never checked.
    log->closed_ = true;
    return s;
  }
  return log;
}

PartitionLog::~PartitionLog() {
  if (!closed_) (void)Close();
}

absl::Status PartitionLog::Load() {
  std::vector<int64_t> bases;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("list ", dir_.string(), ": ", ec.message()));
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(kDeletedSuffix)) {  // retention renamed it; the unlink did not happen
      std::filesystem::remove(e.path(), ec);
      continue;
    }
    if (name.ends_with(".log.cleaned")) {  // a compaction cut short: the .log is intact
      std::filesystem::remove(e.path(), ec);
      continue;
    }
    if (name.ends_with(".tmp")) {  // a replacement cut short: the file it was for is intact
      std::filesystem::remove(e.path(), ec);
      continue;
    }
    if (name.size() == 24 && name.ends_with(".log")) {
      try {
        bases.push_back(std::stoll(name.substr(0, 20)));
      } catch (...) {
      }
    }
  }
  std::sort(bases.begin(), bases.end());
  const bool clean = std::filesystem::exists(dir_ / kCleanShutdown);
  // None: check every batch of the last segment.
  const int64_t recovery_point = ReadOffsetCheckpoint(dir_ / kRecoveryPoint).value_or(INT64_MIN);
  for (size_t i = 0; i < bases.size(); ++i) {
    auto seg = Segment::Open(dir_, bases[i], config_.index_interval_bytes, io_);
    if (!seg.ok()) return seg.status();
    // After a crash, what lies past the recovery point may be torn: the last segment,
    // and closed segments whose background flush had not finished. Each is checked batch
    // by batch (CRC) and cut after its last valid batch; a cut before the last segment
    // ends the log there (later segments are deleted), as Kafka's recovery does.
    const bool past_recovery_point = i + 1 == bases.size() || bases[i + 1] > recovery_point;
    if (!clean && past_recovery_point) {
      auto cut = (*seg)->Recover(recovery_point);
      if (!cut.ok()) return cut.status();
      recovery_checked_bytes_ += (*seg)->recovery_checked_bytes();
      if (*cut > 0 && i + 1 < bases.size()) {
        segments_[bases[i]] = std::move(*seg);
        for (size_t j = i + 1; j < bases.size(); ++j) {
          auto later = Segment::Open(dir_, bases[j], config_.index_interval_bytes, io_);
          if (!later.ok()) return later.status();
          if (absl::Status s = (*later)->Remove(); !s.ok()) return s;
        }
        break;
      }
    }
    segments_[bases[i]] = std::move(*seg);
  }
  if (segments_.empty()) {
    if (absl::Status s = Roll(0); !s.ok()) return s;
  }
  log_start_offset_ = segments_.begin()->first;
  if (auto checkpoint = ReadOffsetCheckpoint(dir_ / kLogStartCheckpoint)) {
    log_start_offset_ = std::clamp(*checkpoint, log_start_offset_, log_end_offset());
  }
  std::filesystem::remove(dir_ / kCleanShutdown, ec);
  recovery_point_ = log_end_offset();
  if (!clean && !segments_.empty()) {
    // What survived the crash is verified now; flushed, it is the new recovery point.
    for (auto& [base, segment] : segments_) {
      auto next = segments_.upper_bound(base);
      if (next != segments_.end() && next->first <= recovery_point) continue;  // flushed before
      if (absl::Status s = segment->Flush(); !s.ok()) return s;
    }
    if (absl::Status s = CheckpointRecoveryPointNow(); !s.ok()) return s;
  }
  if (!active().empty()) active_first_timestamp_ = active().max_timestamp();
  active_roll_jitter_ms_ = RollJitter(config_);
  return LoadState();
}

absl::Status PartitionLog::LoadState() {
  const int64_t end = log_end_offset();
  epoch_starts_ = ReadLeaderEpochCheckpoint(dir_);
  std::erase_if(epoch_starts_, [end](const auto& e) { return e.second >= end; });  // cut with a torn tail
  int64_t from = 0;
  if (auto snapshot = LoadProducerSnapshot(dir_, end)) {
    producers_ = std::move(snapshot->table);
    from = snapshot->offset;
  }
  const size_t epochs_before = epoch_starts_.size();
  if (absl::Status s = ReplayBatchHeaders(from); !s.ok()) return s;
  PruneProducerSnapshots(dir_, kSnapshotsKept, end);
  if (epoch_starts_.size() != epochs_before) return WriteLeaderEpochCheckpoint(dir_, epoch_starts_);
  return absl::OkStatus();
}

absl::Status PartitionLog::ReplayBatchHeaders(int64_t from) {
  // Producer state and leader epochs from the batches at or after `from`. Batch
  // headers only: 61 bytes read per batch, no records decoded.
  std::vector<uint8_t> header;
  for (auto& [base, seg] : segments_) {
    if (seg->next_offset() <= from) continue;
    uint64_t pos = 0;
    if (base < from) {
      auto found = seg->FindPosition(from);
      if (!found.ok()) return found.status();
      pos = *found;
    }
    while (pos < seg->size()) {
      header.clear();
      if (absl::Status s = seg->ReadAt(pos, protocol::kBatchHeaderSize, &header); !s.ok()) return s;
      protocol::Reader r(header.data(), header.size());
      protocol::BatchHeader h;
      h.base_offset = r.Int64();
      h.batch_length = r.Int32();
      h.partition_leader_epoch = r.Int32();
      r.Int8();
      r.Uint32();
      h.attributes = r.Int16();
      h.last_offset_delta = r.Int32();
      h.base_timestamp = r.Int64();
      h.max_timestamp = r.Int64();
      h.producer_id = r.Int64();
      h.producer_epoch = r.Int16();
      h.base_sequence = r.Int32();
      if (h.base_offset >= from) {
        producers_.Update(h, h.base_offset);
        NoteEpoch(h.partition_leader_epoch, h.base_offset);
      }
      pos += h.total_size();
    }
  }
  return absl::OkStatus();
}

bool PartitionLog::NoteEpoch(int32_t epoch, int64_t start_offset) {
  if (epoch >= 0 && (epoch_starts_.empty() || epoch_starts_.rbegin()->first < epoch)) {
    epoch_starts_[epoch] = start_offset;
    return true;
  }
  return false;
}

std::pair<int32_t, int64_t> PartitionLog::EndOffsetForEpoch(int32_t epoch) const {
  if (epoch < 0) return {-1, -1};
  const int32_t newest = epoch_starts_.empty() ? -1 : epoch_starts_.rbegin()->first;
  // The newest epoch ends at the log end. So does the leader's own, written in or not,
  // when no batch carries a newer one: Kafka gives it the log end as its start when the
  // broker takes the lead.
  if (epoch == newest || (epoch == leader_epoch_ && epoch > newest)) return {epoch, log_end_offset()};
  auto higher = epoch_starts_.upper_bound(epoch);
  if (higher == epoch_starts_.end()) return {-1, -1};                   // newer than any epoch we know
  if (higher == epoch_starts_.begin()) return {epoch, higher->second};  // older than any we know
  return {std::prev(higher)->first, higher->second};
}

int32_t PartitionLog::EpochOf(int64_t offset) const {
  if (offset < 0) return -1;
  for (auto it = epoch_starts_.rbegin(); it != epoch_starts_.rend(); ++it) {
    if (it->second <= offset) return it->first;
  }
  return epoch_starts_.empty() ? leader_epoch_ : -1;  // nothing written yet: the leader's own
}

absl::Status PartitionLog::Roll(int64_t next_offset) {
  auto seg = Segment::Open(dir_, next_offset, config_.index_interval_bytes, io_);
  if (!seg.ok()) return seg.status();
  const bool first = segments_.empty();
  active_first_timestamp_ = -1;
  active_roll_jitter_ms_ = RollJitter(config_);
  if (!first) {
    // The closed segment is fdatasynced in the background, as Kafka flushes a rolled
    // segment off the request path: an inline sync of up to segment.bytes of dirty
    // pages stalled every partition on the shard for hundreds of milliseconds. The
    // recovery point (and its checkpoint) moves past the segment when the sync is done.
    Segment& closing = active();
    closing.ReleaseReserve();
    if (absl::Status s = closing.WriteIndexFiles(); !s.ok()) return s;
    absl::StatusOr<int> fd = closing.DuplicateLogFd();
    if (!fd.ok()) return fd.status();
    roll_flushes_.push_back({closing.base_offset(), next_offset});
    io_.SyncInBackground(*fd, [alive = std::weak_ptr<bool>(alive_), this, next_offset](absl::Status s) {
      if (alive.expired()) return;
      OnRollFlushed(next_offset, s);
    });
  }
  segments_[next_offset] = std::move(*seg);
  if (first) return SyncDir();
  // The new segment's directory entry, the epochs and the producer snapshot become
  // durable off the shard: the first fsync after a roll waits for the file system's
  // journal (FileReplacer). Until then a flush fsyncs the directory itself.
  dir_sync_pending_ = true;
  const uint64_t roll = ++rolls_;
  std::vector<FileReplacer::File> files;
  // Opening the log later replays only the batches after the newest snapshot, so the
  // epochs that started before it must be in their file first (the replacer renames in
  // order).
  if (epochs_unwritten_) {
    files.push_back({kLeaderEpochCheckpoint, EncodeLeaderEpochCheckpoint(epoch_starts_)});
    epochs_unwritten_ = false;
  }
  files.push_back({ProducerSnapshotName(next_offset), EncodeProducerSnapshot(producers_)});
  replacer_.Replace(std::move(files), [this, roll] {
    if (roll == rolls_) dir_sync_pending_ = false;
    PruneProducerSnapshots(dir_, kSnapshotsKept, log_end_offset());
  });
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> PartitionLog::Append(uint8_t* data, size_t size, int64_t now_ms) {
  if (offline()) return offline_reason_;
  auto result = AppendOnline(data, size, now_ms);
  if (!result.ok() && result.status().code() == absl::StatusCode::kUnavailable) GoOffline(result.status());
  return result;
}

absl::StatusOr<AppendResult> PartitionLog::AppendOnline(uint8_t* data, size_t size, int64_t now_ms) {
  AppendResult result;
  result.base_offset = log_end_offset();
  int64_t next = result.base_offset;
  int64_t max_ts = -1;
  size_t records = 0;
  std::vector<std::pair<protocol::BatchHeader, int64_t>> written;  // for the producer state
  for (size_t pos = 0; pos < size;) {
    uint8_t* b = data + pos;
    auto h = protocol::ParseBatchHeader(protocol::ByteView(b, size - pos));
    if (!h.ok()) return h.status();
    if (h->producer_id >= 0 && !written.empty() && written.back().first.producer_id == h->producer_id) {
      // A later batch of the same producer in this request follows the earlier one.
      const protocol::BatchHeader& prev = written.back().first;
      const int64_t expected = (static_cast<int64_t>(prev.base_sequence) + prev.last_offset_delta + 1) %
                               (static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1);
      if (h->producer_epoch != prev.producer_epoch || h->base_sequence != expected) {
        result.sequence = SequenceCheck::kOutOfOrderSequence;
        return result;
      }
    } else if (h->producer_id >= 0) {
      BatchMeta original{};
      const SequenceCheck check = producers_.Check(*h, &original);
      if (check == SequenceCheck::kDuplicate && pos == 0 && h->total_size() == size) {
        result.sequence = check;
        result.base_offset = original.base_offset;
        result.last_offset = original.last_offset;
        return result;
      }
      if (check != SequenceCheck::kAppend) {
        result.sequence = check == SequenceCheck::kDuplicate ? SequenceCheck::kOutOfOrderSequence : check;
        return result;
      }
    }
    protocol::SetBaseOffset(b, next);
    protocol::SetPartitionLeaderEpoch(b, leader_epoch_);
    if (config_.log_append_time) {
      protocol::SetMaxTimestamp(b, h->total_size(), protocol::TimestampType::kLogAppendTime, now_ms);
      result.log_append_time = now_ms;
      max_ts = std::max(max_ts, now_ms);
    } else {
      max_ts = std::max(max_ts, h->max_timestamp);
    }
    written.emplace_back(*h, next);
    next += h->last_offset_delta + 1;
    records += static_cast<size_t>(h->record_count);
    pos += h->total_size();
  }
  result.last_offset = next - 1;
  const bool full = active().size() + size > static_cast<uint64_t>(config_.segment_bytes);
  // Kafka's rule: the new records' timestamp against the active segment's first one.
  // segment.jitter.ms, as Kafka: each segment rolls up to that much sooner (a draw
  // below min(jitter, segment.ms)), so that partitions do not all roll at once.
  const bool old = config_.segment_ms > 0 && active_first_timestamp_ >= 0 && max_ts >= 0 &&
                   max_ts - active_first_timestamp_ >= config_.segment_ms - active_roll_jitter_ms_;
  // As Kafka: also roll when either index is full, or the offsets would no longer fit
  // the index's 32-bit relative offsets.
  const size_t index_bytes = static_cast<size_t>(std::max(config_.segment_index_bytes, 12));
  const bool index_full = active().index_entries() >= index_bytes / 8 ||
                          active().time_index_entries() >= index_bytes / 12 ||
                          result.last_offset - active().base_offset() > std::numeric_limits<int32_t>::max();
  if (active().size() > 0 && (full || old || index_full)) {
    if (absl::Status s = Roll(result.base_offset); !s.ok()) return s;
  }
  if (active().empty()) active_first_timestamp_ = max_ts >= 0 ? max_ts : now_ms;
  if (config_.preallocate) active().Reserve(size, static_cast<uint64_t>(config_.segment_bytes));
  if (absl::Status s =
          active().Append(protocol::ByteView(data, size), result.base_offset, result.last_offset, max_ts);
      !s.ok()) {
    return s;
  }
  for (const auto& [h, base] : written) producers_.Update(h, base);
  if (NoteEpoch(leader_epoch_, result.base_offset)) epochs_unwritten_ = true;  // once per leader epoch
  unflushed_messages_ += static_cast<int64_t>(records);
  KeepWindowCached();
  if (config_.flush_on_every_append || unflushed_messages_ >= config_.flush_messages) {
    if (absl::Status s = Flush(); !s.ok()) return s;
  }
  return result;
}

absl::StatusOr<ReadResult> PartitionLog::Read(int64_t offset, size_t max_bytes) {
  auto found = LocateBatch(offset);
  if (!found.ok()) return found.status();
  ReadResult out;
  out.high_watermark = high_watermark();
  out.log_start_offset = log_start_offset_;
  auto [segment, pos] = *found;
  if (segment == nullptr) return out;
  Segment& seg = *segment;
  // One read of up to max_bytes, then trimmed to whole batches in memory (at least
  // one: a first batch larger than max_bytes is read whole).
  const uint64_t want =
      std::min<uint64_t>(std::max<size_t>(max_bytes, protocol::kBatchOverheadBeforeLength), seg.size() - pos);
  if (absl::Status s = seg.ReadAt(pos, want, &out.bytes); !s.ok()) return s;
  uint64_t end = 0;
  while (end + protocol::kBatchOverheadBeforeLength <= out.bytes.size()) {
    protocol::Reader r(out.bytes.data() + end + 8, 4);
    const uint64_t total = protocol::kBatchOverheadBeforeLength + static_cast<uint64_t>(r.Int32());
    if (end + total > out.bytes.size()) {
      if (end == 0) {  // the first batch is larger than max_bytes: read the rest of it
        if (absl::Status s = seg.ReadAt(pos + out.bytes.size(), total - out.bytes.size(), &out.bytes);
            !s.ok())
          return s;
        end = total;
      }
      break;
    }
    end += total;
  }
  out.bytes.resize(end);
  return out;
}

absl::StatusOr<FileSlice> PartitionLog::ReadSlice(int64_t offset, size_t max_bytes, uint64_t reader) {
  auto found = LocateBatch(offset);
  if (!found.ok()) return found.status();
  auto [seg, pos] = *found;
  if (reader != TailReaders::kNoReader && config_.page_cache_window_bytes > 0) {
    const Segment& at = seg != nullptr ? *seg : active();
    tail_readers_.Note(reader, {at.base_offset(), seg != nullptr ? pos : at.size()},
                       TailReaders::Clock::now());
  }
  if (seg == nullptr) return FileSlice{};
  auto end = seg->WholeBatchesEnd(pos, max_bytes);
  if (!end.ok()) return end.status();
  auto fd = seg->DuplicateLogFd();
  if (!fd.ok()) return fd.status();
  FileSlice slice;
  slice.fd = UniqueFd(*fd);
  slice.position = pos;
  slice.length = *end - pos;
  return slice;
}

absl::StatusOr<std::pair<Segment*, uint64_t>> PartitionLog::LocateBatch(int64_t offset) {
  if (offline()) return offline_reason_;
  if (offset < log_start_offset_ || offset > log_end_offset()) {
    return absl::OutOfRangeError(
        absl::StrCat("offset ", offset, " is outside [", log_start_offset_, ", ", log_end_offset(), "]"));
  }
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    auto pos = it->second->FindPosition(offset);
    if (!pos.ok()) return pos.status();
    if (*pos < it->second->size()) return std::make_pair(it->second.get(), *pos);
  }
  return std::make_pair(static_cast<Segment*>(nullptr), uint64_t{0});
}

absl::StatusOr<std::pair<int64_t, int64_t>> PartitionLog::OffsetForTimestamp(int64_t ts) {
  for (auto& [base, seg] : segments_) {
    if (seg->max_timestamp() < ts) continue;
    // From where the time index says older records end, walk the batches; decode the
    // first whose max timestamp reaches ts.
    int64_t offset = std::max(seg->TimeIndexLookup(ts), log_start_offset_);
    while (offset < seg->next_offset()) {
      auto r = Read(offset, 1);
      if (!r.ok()) return r.status();
      if (r->bytes.empty()) break;
      protocol::DecodedBatch d;
      if (absl::Status s =
              protocol::DecodeBatch(protocol::ByteView(r->bytes), protocol::kDefaultMaxDecompressed, &d);
          !s.ok()) {
        return s;
      }
      if (d.header.max_timestamp >= ts) {
        for (const protocol::Record& rec : d.records) {
          const int64_t t = d.header.timestamp_type() == protocol::TimestampType::kLogAppendTime
                                ? d.header.max_timestamp
                                : d.header.base_timestamp + rec.timestamp_delta;
          const int64_t at = d.header.base_offset + rec.offset_delta;
          if (t >= ts && at >= log_start_offset_) return std::make_pair(at, t);
        }
      }
      offset = d.header.last_offset() + 1;
    }
  }
  return std::make_pair(int64_t{-1}, int64_t{-1});
}

absl::StatusOr<std::pair<int64_t, int64_t>> PartitionLog::MaxTimestampOffset() {
  int64_t max_ts = -1;
  for (const auto& [base, seg] : segments_) max_ts = std::max(max_ts, seg->max_timestamp());
  if (max_ts < 0) return std::make_pair(int64_t{-1}, int64_t{-1});
  return OffsetForTimestamp(max_ts);
}

absl::StatusOr<int> PartitionLog::ApplyRetention(int64_t now_ms) {
  if (!config_.delete_retention) return 0;
  int deleted = 0;
  uint64_t total = size_bytes();
  while (segments_.size() > 1) {
    const Segment& oldest = *segments_.begin()->second;
    const int64_t largest = oldest.largest_timestamp();
    const bool too_old = config_.retention_ms >= 0 && largest >= 0 && now_ms - largest > config_.retention_ms;
    const bool too_big = config_.retention_bytes >= 0 &&
                         total - oldest.size() >= static_cast<uint64_t>(config_.retention_bytes);
    if (!too_old && !too_big) break;
    total -= oldest.size();
    const int64_t next_base = std::next(segments_.begin())->first;
    auto moved = AdvanceLogStart(std::max(next_base, log_start_offset_));
    if (!moved.ok()) return moved.status();
    ++deleted;
  }
  return deleted;
}

absl::StatusOr<int64_t> PartitionLog::AdvanceLogStart(int64_t offset) {
  if (offset > high_watermark()) {
    return absl::OutOfRangeError(
        absl::StrCat("offset ", offset, " is past the high watermark ", high_watermark()));
  }
  if (offset <= log_start_offset_) return log_start_offset_;
  // Checkpoint first: a crash after it but before the deletes only leaves extra files.
  if (absl::Status s = WriteOffsetCheckpoint(dir_ / kLogStartCheckpoint, offset); !s.ok()) return s;
  log_start_offset_ = offset;
  // Whole segments below the new start go (never the active one).
  while (segments_.size() > 1 && segments_.begin()->second->next_offset() <= offset) {
    if (absl::Status s = segments_.begin()->second->Remove(); !s.ok()) return s;
    segments_.erase(segments_.begin());
  }
  return log_start_offset_;
}

uint64_t PartitionLog::size_bytes() const {
  uint64_t n = 0;
  for (const auto& [base, seg] : segments_) n += seg->size();
  return n;
}

void PartitionLog::SyncInBackground(IoBackend& io, const FlushTarget& target, IoBackend::Done done) {
  const bool with_dir = target.directory_fd >= 0;
  IoBackend::Done each = JoinDone(target.segment_fds.size() + (with_dir ? 1 : 0), std::move(done));
  for (int fd : target.segment_fds) io.SyncInBackground(fd, each);
  if (with_dir) io.SyncDirectoryInBackground(target.directory_fd, each);
}

absl::StatusOr<PartitionLog::FlushTarget> PartitionLog::SegmentsForFlush() {
  std::vector<int> fds;
  auto add = [&fds](const Segment& seg) -> absl::Status {
    auto fd = seg.DuplicateLogFd();
    if (!fd.ok()) return fd.status();
    fds.push_back(*fd);
    return absl::OkStatus();
  };
  absl::Status status;
  for (const RollFlush& f : roll_flushes_) {
    auto it = segments_.find(f.start);
    if (it != segments_.end() && status.ok()) status = add(*it->second);
  }
  if (status.ok()) status = add(*segments_.rbegin()->second);
  int dir_fd = -1;
  if (status.ok() && dir_sync_pending_) {
    dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) status = IoError(errno, absl::StrCat("open ", dir_.string()));
  }
  if (!status.ok()) {
    for (int fd : fds) ::close(fd);
    return status;
  }
  return FlushTarget{std::move(fds), dir_fd, log_end_offset()};
}

void PartitionLog::NoteFlushed(int64_t end_offset) {
  while (!roll_flushes_.empty() && roll_flushes_.front().end <= end_offset) roll_flushes_.pop_front();
  AdvanceRecoveryPoint(end_offset);
}

uint64_t PartitionLog::BytesBehindEnd(TailReaders::Position at, uint64_t limit) const {
  uint64_t behind = 0;
  for (auto it = segments_.rbegin(); it != segments_.rend() && behind < limit; ++it) {
    const Segment& seg = *it->second;
    if (it->first <= at.segment_base) return behind + (seg.size() - std::min(seg.size(), at.position));
    behind += seg.size();
  }
  return behind;
}

void PartitionLog::KeepWindowCached() {
  auto window = static_cast<uint64_t>(config_.page_cache_window_bytes);
  if (window > 0 && tail_readers_.size() > 0) {
    const auto most = static_cast<uint64_t>(std::max(config_.page_cache_window_max_bytes, int64_t{0}));
    if (const auto slowest = tail_readers_.Slowest(TailReaders::Clock::now()); slowest && most > window)
      window = std::clamp(BytesBehindEnd(*slowest, most), window, most);
  }
  page_cache_window_ = window;
  if (window == 0) return;
  uint64_t after = 0;  // bytes from the segment's end to the log end
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    Segment& seg = *it->second;
    if (after >= window) {
      // The newest segment wholly behind the window: the older ones were dropped when
      // they were in its place (since this log was opened), unless a reader's wider
      // window covered them then; those the kernel reclaims in its own time.
      seg.DropCachedPages(seg.size());
      return;
    }
    if (seg.size() > window - after) seg.DropCachedPages(seg.size() - (window - after));
    after += seg.size();
  }
}

absl::Status PartitionLog::SyncPendingRolls() {
  for (const RollFlush& f : roll_flushes_) {
    auto it = segments_.find(f.start);
    if (it == segments_.end()) continue;  // deleted meanwhile
    if (absl::Status s = it->second->Flush(); !s.ok()) return s;
  }
  roll_flushes_.clear();
  return absl::OkStatus();
}

absl::Status PartitionLog::SyncDir() const {
  return SyncDirectory(dir_);
}

absl::Status PartitionLog::Flush() {
  if (offline()) return offline_reason_;
  unflushed_messages_ = 0;
  const int64_t end = log_end_offset();
  // Everything appended must be on disk when Flush returns: rolled segments whose
  // background sync has not reported are synced here too (cheap if it already ran).
  if (absl::Status s = SyncPendingRolls(); !s.ok()) {
    if (s.code() == absl::StatusCode::kUnavailable) GoOffline(s);
    return s;
  }
  if (absl::Status s = active().Flush(); !s.ok()) {
    if (s.code() == absl::StatusCode::kUnavailable) GoOffline(s);
    return s;
  }
  if (dir_sync_pending_) {
    if (absl::Status s = SyncDir(); !s.ok()) {
      GoOffline(s);
      return s;
    }
    dir_sync_pending_ = false;
  }
  AdvanceRecoveryPoint(end);
  return absl::OkStatus();
}

absl::Status PartitionLog::FlushIfDue() {
  if (config_.flush_ms == INT64_MAX || offline() || recovery_point_ >= log_end_offset())
    return absl::OkStatus();
  if (std::chrono::steady_clock::now() - last_flush_ < std::chrono::milliseconds(config_.flush_ms)) {
    return absl::OkStatus();
  }
  return Flush();
}

absl::Status PartitionLog::WriteEpochsIfChanged() {
  if (!epochs_unwritten_) return absl::OkStatus();
  if (absl::Status s = WriteLeaderEpochCheckpoint(dir_, epoch_starts_); !s.ok()) return s;
  epochs_unwritten_ = false;
  return absl::OkStatus();
}

void PartitionLog::AdvanceRecoveryPoint(int64_t to) {
  last_flush_ = std::chrono::steady_clock::now();
  if (!roll_flushes_.empty()) to = std::min(to, roll_flushes_.front().start);
  recovery_point_ = std::max(recovery_point_, to);
}

void PartitionLog::OnRollFlushed(int64_t end, const absl::Status& s) {
  if (!s.ok()) {
    GoOffline(s);
    return;
  }
  for (RollFlush& f : roll_flushes_) {
    if (f.end == end) f.done = true;
  }
  int64_t flushed = recovery_point_;
  while (!roll_flushes_.empty() && roll_flushes_.front().done) {
    flushed = roll_flushes_.front().end;
    roll_flushes_.pop_front();
  }
  AdvanceRecoveryPoint(flushed);
  if (absl::Status c = CheckpointRecoveryPoint(); !c.ok()) GoOffline(c);
}

absl::Status PartitionLog::CheckpointRecoveryPoint() {
  // An offline log keeps the checkpoint it has: its next open recovers from there.
  if (offline()) return absl::OkStatus();
  if (recovery_point_ == checkpointed_recovery_point_ || recovery_point_ == checkpoint_queued_)
    return absl::OkStatus();
  const int64_t value = recovery_point_;
  checkpoint_queued_ = value;
  replacer_.Replace({{kRecoveryPoint, EncodeOffsetCheckpoint(value)}},
                    [this, value] { checkpointed_recovery_point_ = value; });
  return absl::OkStatus();
}

absl::Status PartitionLog::CheckpointRecoveryPointNow() {
  if (recovery_point_ == checkpointed_recovery_point_) return absl::OkStatus();
  if (absl::Status s = WriteOffsetCheckpoint(dir_ / kRecoveryPoint, recovery_point_); !s.ok()) return s;
  checkpointed_recovery_point_ = recovery_point_;
  return absl::OkStatus();
}

absl::Status PartitionLog::Close() {
  closed_ = true;
  if (offline()) return offline_reason_;  // no clean-shutdown marker: recover at the next open
  // What rolls queued is written first, so that what follows here is the newest.
  if (absl::Status s = replacer_.Finish(); !s.ok()) {
    GoOffline(s);
    return s;
  }
  if (absl::Status s = Flush(); !s.ok()) return s;
  active().ReleaseReserve();
  if (absl::Status s = active().WriteIndexFiles(); !s.ok()) return s;
  if (absl::Status s = WriteEpochsIfChanged(); !s.ok()) return s;
  if (absl::Status s = WriteProducerSnapshot(dir_, log_end_offset(), producers_); !s.ok()) return s;
  PruneProducerSnapshots(dir_, kSnapshotsKept, log_end_offset());
  if (absl::Status s = CheckpointRecoveryPointNow(); !s.ok()) return s;
  const auto marker = dir_ / kCleanShutdown;
  int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError("cannot write the clean-shutdown marker");
  ::fsync(fd);
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace fjord::log
