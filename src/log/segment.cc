#include "log/segment.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/record_batch.h"

namespace fjord::log {
namespace {

absl::Status Errno(const std::string& what) {
  return IoError(errno, what);
}

// Segment::Reserve's steps. A file holding fewer spare blocks than the smallest step
// has no reserve, only extent-tree blocks.
constexpr uint64_t kMinReserveStep = 64 << 10, kMaxReserveStep = 16 << 20;

}  // namespace

int64_t Segment::largest_timestamp() const {
  if (max_timestamp_ >= 0) return max_timestamp_;
  struct stat st {};
  if (::stat((dir_ / FileName(base_offset_, ".log")).c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::string Segment::FileName(int64_t base_offset, const char* suffix) {
  return absl::StrFormat("%020d%s", base_offset, suffix);
}

Segment::~Segment() {
  if (log_fd_ >= 0) ::close(log_fd_);
}

absl::StatusOr<std::unique_ptr<Segment>> Segment::Open(const std::filesystem::path& dir, int64_t base_offset,
                                                       int32_t index_interval_bytes, IoBackend& io) {
  std::unique_ptr<Segment> s(new Segment(dir, base_offset, index_interval_bytes, io));
  const auto log_path = dir / FileName(base_offset, ".log");
  s->log_fd_ = ::open(log_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->log_fd_ < 0) return Errno(absl::StrCat("open ", log_path.string()));
  struct stat st {};
  if (::fstat(s->log_fd_, &st) != 0) return Errno("fstat");
  s->size_ = static_cast<uint64_t>(st.st_size);
  // Blocks past the end are a reserve a crash left behind (a clean close gives it back).
  const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  s->reserved_to_ = allocated > s->size_ + kMinReserveStep ? allocated : s->size_;
  s->ReleaseReserve();
  s->next_offset_ = base_offset;
  if (absl::Status st2 = s->LoadIndex(); !st2.ok()) return st2;
  return s;
}

absl::Status Segment::LoadIndex() {
  // Trust nothing: the segment's next offset and max timestamp come from a scan of the
  // batch headers (cheap: headers only), and the index is checked against that scan.
  uint64_t cut = 0;
  return RebuildFromScan(/*truncate=*/false, &cut);
}

absl::Status Segment::RebuildFromScan(bool truncate, uint64_t* cut, int64_t verified_below) {
  recovery_checked_bytes_ = 0;
  time_index_.clear();
  bytes_since_time_index_ = 0;
  index_.clear();
  bytes_since_index_ = 0;
  next_offset_ = base_offset_;
  max_timestamp_ = -1;
  uint64_t pos = 0;
  std::vector<uint8_t> header(protocol::kBatchHeaderSize);
  std::vector<uint8_t> batch;
  while (pos + protocol::kBatchHeaderSize <= size_) {
    ssize_t r = ::pread(log_fd_, header.data(), header.size(), static_cast<off_t>(pos));
    if (r != static_cast<ssize_t>(header.size())) break;
    protocol::Reader peek{protocol::ByteView(header)};
    const int64_t base = peek.Int64();
    const int32_t length = peek.Int32();
    if (length < static_cast<int32_t>(protocol::kBatchHeaderSize - 12) || header[16] != 2) break;
    const uint64_t total = 12 + static_cast<uint64_t>(length);
    if (pos + total > size_ || base < next_offset_) break;
    if (truncate && base >= verified_below) {  // full check: CRC over the whole batch
      recovery_checked_bytes_ += total;
      batch.resize(total);
      if (::pread(log_fd_, batch.data(), total, static_cast<off_t>(pos)) != static_cast<ssize_t>(total))
        break;
      if (!protocol::BatchCrcValid(protocol::ByteView(batch))) break;
    }
    protocol::Reader rest(header.data() + 23, header.size() - 23);
    const int32_t last_delta = rest.Int32();
    rest.Int64();
    const int64_t max_ts = rest.Int64();
    if (bytes_since_index_ >= static_cast<uint64_t>(index_interval_bytes_) || index_.empty()) {
      index_.push_back({static_cast<uint32_t>(base - base_offset_), static_cast<uint32_t>(pos),
                        static_cast<uint32_t>(total)});
      bytes_since_index_ = 0;
    }
    bytes_since_index_ += total;
    next_offset_ = base + last_delta + 1;
    max_timestamp_ = std::max(max_timestamp_, max_ts);
    NoteTimestamp(total);
    pos += total;
  }
  *cut = size_ - pos;
  if (*cut != 0 && truncate) {
    if (::ftruncate(log_fd_, static_cast<off_t>(pos)) != 0) return Errno("truncate torn tail");
    size_ = pos;
    reserved_to_ = pos;
  } else if (*cut != 0) {
    size_ = pos;  // bytes past the last whole batch are ignored until Recover() cuts them
  }
  index_files_stale_ = true;
  return WriteIndexFiles();
}

absl::Status Segment::WriteIndexFiles() {
  if (!index_files_stale_) return absl::OkStatus();
  std::vector<uint8_t> bytes;
  bytes.reserve(index_.size() * 8);
  for (const IndexEntry& e : index_) {
    for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<uint8_t>(e.relative_offset >> (8 * i)));
    for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<uint8_t>(e.position >> (8 * i)));
  }
  std::vector<uint8_t> times;
  times.reserve(time_index_.size() * 12);
  for (const TimeIndexEntry& e : time_index_) {
    for (int i = 7; i >= 0; --i)
      times.push_back(static_cast<uint8_t>(static_cast<uint64_t>(e.timestamp) >> (8 * i)));
    for (int i = 3; i >= 0; --i) times.push_back(static_cast<uint8_t>(e.relative_offset >> (8 * i)));
  }
  for (const auto& [suffix, data] : {std::pair{".index", &bytes}, std::pair{".timeindex", &times}}) {
    const auto path = dir_ / FileName(base_offset_, suffix);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno(absl::StrCat("open ", path.string()));
    absl::Status s = io_.Write(fd, data->data(), data->size(), 0);
    ::close(fd);
    if (!s.ok()) return s;
  }
  index_files_stale_ = false;
  return absl::OkStatus();
}

void Segment::NoteTimestamp(uint64_t batch_bytes) {
  bytes_since_time_index_ += batch_bytes;
  const bool grown = time_index_.empty() || max_timestamp_ > time_index_.back().timestamp;
  if (max_timestamp_ < 0 || !grown ||
      bytes_since_time_index_ < static_cast<uint64_t>(index_interval_bytes_)) {
    return;
  }
  bytes_since_time_index_ = 0;
  time_index_.push_back({max_timestamp_, static_cast<uint32_t>(next_offset_ - base_offset_)});
  index_files_stale_ = true;
}

int64_t Segment::TimeIndexLookup(int64_t ts) const {
  // The last entry whose timestamp is below ts: every record before its offset is older.
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), ts,
                             [](const TimeIndexEntry& e, int64_t t) { return e.timestamp < t; });
  if (it == time_index_.begin()) return base_offset_;
  return base_offset_ + std::prev(it)->relative_offset;
}

absl::StatusOr<uint64_t> Segment::Recover(int64_t verified_below) {
  struct stat st {};
  if (::fstat(log_fd_, &st) != 0) return Errno("fstat");
  size_ = static_cast<uint64_t>(st.st_size);
  uint64_t cut = 0;
  if (absl::Status s = RebuildFromScan(/*truncate=*/true, &cut, verified_below); !s.ok()) return s;
  return cut;
}

void Segment::AddIndexEntry(uint32_t relative_offset, uint32_t position, uint32_t batch_bytes) {
  index_.push_back({relative_offset, position, batch_bytes});
  index_files_stale_ = true;
}

absl::Status Segment::Append(protocol::ByteView batches, int64_t first_offset, int64_t last_offset,
                             int64_t max_timestamp) {
  if (absl::Status s = io_.Write(log_fd_, batches.data(), batches.size(), size_); !s.ok()) return s;
  if (index_.empty() || bytes_since_index_ >= static_cast<uint64_t>(index_interval_bytes_)) {
    protocol::Reader length(batches.data() + 8, 4);  // the first batch's length field
    AddIndexEntry(static_cast<uint32_t>(first_offset - base_offset_), static_cast<uint32_t>(size_),
                  static_cast<uint32_t>(protocol::kBatchOverheadBeforeLength + length.Int32()));
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += batches.size();
  size_ += batches.size();
  next_offset_ = last_offset + 1;
  max_timestamp_ = std::max(max_timestamp_, max_timestamp);
  NoteTimestamp(batches.size());
  return absl::OkStatus();
}

void Segment::DropCachedPages(uint64_t end) {
  constexpr uint64_t kStep = 1 << 20;
  end &= ~uint64_t{4095};  // whole pages: a partial last page may still be appended to
  if (end <= cache_dropped_to_) return;
  const bool whole_segment = end == (size_ & ~uint64_t{4095});
  if (end - cache_dropped_to_ < kStep && !whole_segment) return;
  // Advisory: if the kernel keeps some pages (or the dup fails), they are only cached
  // longer.
  const int fd = ::fcntl(log_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return;
  // The kernel drops only folios wholly inside the range, and a large folio (ext4 has
  // them since Linux 6.16) may straddle the previous drop's end: so each drop starts
  // where the previous one started. Pages already dropped cost only a lookup.
  io_.WriteBackAndDropInBackground(fd, last_drop_from_, end - last_drop_from_);
  last_drop_from_ = cache_dropped_to_;
  cache_dropped_to_ = end;
}

absl::StatusOr<int> Segment::DuplicateLogFd() const {
  const int fd = ::fcntl(log_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Errno("dup");
  return fd;
}

absl::Status Segment::Flush() {
  return io_.Sync(log_fd_);
}

void Segment::Reserve(uint64_t n, uint64_t limit) {
  const uint64_t end = size_ + n;
  if (end <= reserved_to_) return;
  const uint64_t to =
      std::max(end, std::min(end + std::clamp(size_, kMinReserveStep, kMaxReserveStep), limit));
  const uint64_t from = std::max(reserved_to_, size_);
  (void)::fallocate(log_fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(to - from));
  reserved_to_ = to;
}

void Segment::ReleaseReserve() {
  if (reserved_to_ <= size_) return;  // nothing reserved: no truncate, no metadata write
  (void)::ftruncate(log_fd_, static_cast<off_t>(size_));
  reserved_to_ = size_;
}

absl::StatusOr<uint64_t> Segment::FindPosition(int64_t offset) {
  if (offset >= next_offset_) return size_;
  // Last index entry at or before the offset, then walk batch headers.
  uint64_t pos = 0;
  for (const IndexEntry& e : index_) {
    if (base_offset_ + e.relative_offset > offset) break;
    // A batch starts exactly at the offset (a consumer continuing where it stopped):
    // that batch holds it, no header to read.
    if (base_offset_ + e.relative_offset == offset) return e.position;
    pos = e.position;
  }
  uint8_t header[protocol::kBatchHeaderSize];
  while (pos < size_) {
    if (::pread(log_fd_, header, sizeof header, static_cast<off_t>(pos)) !=
        static_cast<ssize_t>(sizeof header)) {
      return Errno("read batch header");
    }
    protocol::Reader r(header, sizeof header);
    const int64_t base = r.Int64();
    const int32_t length = r.Int32();
    protocol::Reader d(header + 23, 4);
    const int64_t last = base + d.Int32();
    if (last >= offset) return pos;
    pos += 12 + static_cast<uint64_t>(length);
  }
  return size_;
}

absl::StatusOr<uint64_t> Segment::WholeBatchesEnd(uint64_t start, uint64_t max_bytes) const {
  const uint64_t limit = start + max_bytes;
  if (limit >= size_) return size_;
  // The last indexed batch start at or before the limit (past `start`) is a boundary.
  uint64_t pos = start;
  auto it = std::upper_bound(index_.begin(), index_.end(), limit,
                             [](uint64_t p, const IndexEntry& e) { return p < e.position; });
  if (it != index_.begin() && std::prev(it)->position > start) pos = std::prev(it)->position;
  uint8_t header[12];
  while (pos < size_) {
    // An indexed batch's length is in memory; others come from their header.
    auto known = std::lower_bound(index_.begin(), index_.end(), pos,
                                  [](const IndexEntry& e, uint64_t p) { return e.position < p; });
    uint64_t total = known != index_.end() && known->position == pos ? known->batch_bytes : 0;
    if (total == 0) {
      if (::pread(log_fd_, header, sizeof header, static_cast<off_t>(pos)) !=
          static_cast<ssize_t>(sizeof header)) {
        return Errno("read batch header");
      }
      protocol::Reader r(header, sizeof header);
      r.Int64();
      total = 12 + static_cast<uint64_t>(r.Int32());
    }
    if (pos + total > limit) return pos == start ? pos + total : pos;
    pos += total;
  }
  return size_;
}

absl::Status Segment::ReadAt(uint64_t position, size_t n, std::vector<uint8_t>* out) const {
  const size_t start = out->size();
  out->resize(start + n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(log_fd_, out->data() + start + done, n - done, static_cast<off_t>(position + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      out->resize(start);
      return Errno("read segment");
    }
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status Segment::Remove() {
  // Renamed now, so the log no longer has them whatever happens next (a restart deletes
  // leftover .deleted files); unlinked in the background, where a large file's unlink
  // cannot stall the shard.
  for (const char* suffix : {".log", ".index", ".timeindex"}) {
    const std::filesystem::path from = dir_ / FileName(base_offset_, suffix);
    std::filesystem::path to = from;
    to += kDeletedSuffix;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      if (errno == ENOENT) continue;
      return Errno(absl::StrCat("rename ", from.string()));
    }
    io_.RemoveInBackground(std::move(to), nullptr);
  }
  return absl::OkStatus();
}

}  // namespace fjord::log
