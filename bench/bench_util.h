// Helpers the log benchmarks share.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/record_batch.h"

namespace fjord::bench {

// One uncompressed record batch of `records` records, each with a value of
// `value_bytes` bytes (no key), timestamps fixed.
inline std::vector<uint8_t> UniformBatch(size_t records, size_t value_bytes) {
  const std::string value(value_bytes, 'v');
  std::vector<protocol::Record> recs(records);
  for (size_t i = 0; i < recs.size(); ++i) {
    recs[i].offset_delta = static_cast<int32_t>(i);
    recs[i].value = protocol::ByteView(std::string_view(value));
  }
  protocol::BatchHeader h;
  h.base_timestamp = h.max_timestamp = 1700000000000;
  h.last_offset_delta = static_cast<int32_t>(recs.size() - 1);
  std::vector<uint8_t> out;
  if (!protocol::EncodeBatch(h, recs, &out).ok()) std::abort();
  return out;
}

// Writes back and drops the page cache of every file under `dir`, so that the next
// reads come from the disk.
inline void DropPageCache(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

}  // namespace fjord::bench
