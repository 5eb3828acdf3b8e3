// Test support: how much of a file the page cache holds (mincore(2) on a mapping).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace fjord::testing {

// Pages of [from, to) of `file` in the page cache.
inline size_t ResidentPages(const std::filesystem::path& file, uint64_t from, uint64_t to) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const size_t size = std::filesystem::file_size(file);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  std::vector<unsigned char> pages((size + 4095) / 4096);
  ::mincore(map, size, pages.data());
  ::munmap(map, size);
  size_t n = 0;
  for (uint64_t p = from / 4096; p < std::min<uint64_t>(pages.size(), (to + 4095) / 4096); ++p)
    n += pages[p] & 1;
  return n;
}

}  // namespace fjord::testing
