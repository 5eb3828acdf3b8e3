// One log segment: `<base offset, 20 digits>.log` holding record batches v2 exactly as
// clients sent them (offsets assigned in place), and `<base>.index`, a sparse index.
//
// .index entries (8 bytes, big-endian): uint32 offset - base_offset, uint32 byte
// position in .log of the batch that starts at or before that offset. One entry per
// `index.interval.bytes` of appended data. Entries are increasing in both fields.
// .timeindex entries (12 bytes, big-endian): int64 timestamp T, uint32 offset - base O:
// every record before O has a timestamp <= T. Added at most once per
// `index.interval.bytes`, and only when the segment's max timestamp has grown.
// The index is a cache, never trusted: opening a segment rebuilds it from a scan of
// the batch headers in .log (recovery also checks each batch's CRC). It lives in
// memory; the .index and .timeindex files are written whole, from memory, when the
// segment stops being the active one, when the log closes, and after a rebuild. So a
// segment holds one descriptor (its .log), and 10,000 partitions fit in a 20,000
// open-file limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "log/io_backend.h"
#include "protocol/wire.h"

namespace fjord::log {

// .timeindex entry: every record before base_offset + relative_offset has a timestamp
// <= timestamp. Entries grow in both fields.
struct TimeIndexEntry {
  int64_t timestamp;
  uint32_t relative_offset;
};

struct IndexEntry {
  uint32_t relative_offset;
  uint32_t position;
  // In memory only: the byte length of the batch at `position`, so that a read starting
  // there (a consumer's next fetch) needs no header read to find its first batch.
  uint32_t batch_bytes = 0;
};

// Suffix of a segment file on its way out (Segment::Remove); Load deletes leftovers.
inline constexpr char kDeletedSuffix[] = ".deleted";

class Segment {
 public:
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Opens (creating if absent) the segment at `base_offset` in `dir`.
  static absl::StatusOr<std::unique_ptr<Segment>> Open(const std::filesystem::path& dir, int64_t base_offset,
                                                       int32_t index_interval_bytes, IoBackend& io);
  static std::string FileName(int64_t base_offset, const char* suffix);

  int64_t base_offset() const { return base_offset_; }
  uint64_t size() const { return size_; }
  // Offset after the last batch (the next offset to assign if this is the active segment).
  int64_t next_offset() const { return next_offset_; }
  int64_t max_timestamp() const { return max_timestamp_; }
  // What retention.ms ages the segment by, as Kafka's LogSegment.largestTimestamp: the
  // newest record's timestamp, or, when no record carries one (-1), the .log file's
  // modification time, so that such records still expire.
  int64_t largest_timestamp() const;
  bool empty() const { return size_ == 0; }
  // Entries in .index (8 bytes each) and .timeindex (12 bytes each).
  size_t index_entries() const { return index_.size(); }
  size_t time_index_entries() const { return time_index_.size(); }

  // Appends whole batches whose offsets are already assigned; `last_offset` is the
  // last offset they hold. Written with pwrite at the end of the file.
  absl::Status Append(protocol::ByteView batches, int64_t first_offset, int64_t last_offset,
                      int64_t max_timestamp);
  absl::Status Flush();  // fdatasync of .log (the index is rebuilt if lost)
  // Allocates disk blocks for appends ahead of them: fallocate with KEEP_SIZE, so the
  // file's size stays the end of its data and recovery sees nothing new. Once `n` more
  // bytes would pass the reserve, it grows to cover them and min(16 MiB, max(64 KiB,
  // size())) beyond, never past `limit` (segment.bytes). Why: ext4 appending into
  // allocated blocks skips delayed allocation per page and block allocation at
  // writeback: log-bench's 1 MiB appends each followed by fdatasync took 0.32-0.35 CPU
  // s per GB with a reserve and 0.42-0.45 without (docs/performance.md,
  // "Preallocation", measured again by each `make bench`).
  // Advisory: where fallocate fails (a full disk, a file system without it) the append
  // goes on unreserved and the next try is a step later.
  void Reserve(uint64_t n, uint64_t limit);
  // Gives back the blocks reserved past the end (ftruncate to the size frees them); does
  // nothing when none were.
  // Advisory like Reserve: blocks it could not give back wait for the next open.
  void ReleaseReserve();
  // Writes .index and .timeindex from memory if appends changed them since the last
  // write (each file opened, written and closed: no descriptor is kept).
  absl::Status WriteIndexFiles();
  // Writes back [0, end) of .log and drops it from the page cache, in the background
  // (IoBackend::WriteBackAndDropInBackground). Works in steps of at least 1 MiB; each
  // range also covers the step before it.
  void DropCachedPages(uint64_t end);
  // A duplicate of the .log descriptor (the caller closes it), so that another thread
  // can fdatasync it while this segment keeps appending, or is closed.
  absl::StatusOr<int> DuplicateLogFd() const;

  // Byte position of the batch holding `offset` (or the first after it), found
  // through the index and a scan of batch headers; size() when past the end.
  absl::StatusOr<uint64_t> FindPosition(int64_t offset);
  // Where to start looking for the first record with a timestamp >= ts: every record
  // before the returned offset is older (the segment's base offset if none is known).
  int64_t TimeIndexLookup(int64_t ts) const;
  // End of the whole batches from `start` (a batch boundary) that fit in max_bytes; at
  // least the first batch, however large. Walks batch headers from the last index
  // entry within reach, so at most index.interval.bytes of headers are read.
  absl::StatusOr<uint64_t> WholeBatchesEnd(uint64_t start, uint64_t max_bytes) const;
  // Reads [position, position + n) of .log.
  absl::Status ReadAt(uint64_t position, size_t n, std::vector<uint8_t>* out) const;

  // Scans .log from the start checking each batch (length, magic, offsets increasing,
  // and the CRC of every batch at or after `verified_below`: below it the data was
  // flushed before the crash); truncates .log after the last valid batch and rebuilds
  // the index. Returns the number of bytes cut.
  absl::StatusOr<uint64_t> Recover(int64_t verified_below = INT64_MIN);
  // Bytes whose CRC the last Recover() checked.
  uint64_t recovery_checked_bytes() const { return recovery_checked_bytes_; }
  // Renames the segment's files to *.deleted and unlinks them in the background.
  absl::Status Remove();

 private:
  Segment(std::filesystem::path dir, int64_t base_offset, int32_t index_interval_bytes, IoBackend& io)
      : dir_(std::move(dir)),
        base_offset_(base_offset),
        index_interval_bytes_(index_interval_bytes),
        io_(io) {}
  absl::Status LoadIndex();  // reads .index; an index that does not verify is rebuilt
  absl::Status RebuildFromScan(bool truncate, uint64_t* cut, int64_t verified_below = INT64_MIN);
  void AddIndexEntry(uint32_t relative_offset, uint32_t position, uint32_t batch_bytes);

  std::filesystem::path dir_;
  int64_t base_offset_;
  int32_t index_interval_bytes_;
  IoBackend& io_;  // writes and syncs of all three files
  int log_fd_ = -1;
  uint64_t size_ = 0;
  int64_t next_offset_ = 0;
  int64_t max_timestamp_ = -1;
  uint64_t bytes_since_index_ = 0;
  uint64_t recovery_checked_bytes_ = 0;
  uint64_t cache_dropped_to_ = 0;  // DropCachedPages: [0, this) was dropped
  uint64_t last_drop_from_ = 0;    // where the last DropCachedPages range started
  uint64_t reserved_to_ = 0;       // Reserve: blocks are allocated (or tried) below this
  bool index_files_stale_ = true;  // memory holds entries the files do not
  std::vector<TimeIndexEntry> time_index_;
  uint64_t bytes_since_time_index_ = 0;
  // After a batch ending before `next_offset`: adds a time index entry if due.
  void NoteTimestamp(uint64_t batch_bytes);
  std::vector<IndexEntry> index_;
};

}  // namespace fjord::log
