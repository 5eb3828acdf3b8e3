// A byte range of a segment file, with its own descriptor: the Fetch path sends it to
// the socket with sendfile(2), so record bytes go from the page cache to the socket
// without passing through the broker's memory.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <utility>

namespace fjord::log {

// Owns a file descriptor (closed on destruction).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }  // the caller closes it
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Whole record batches: [position, position + length) of the file behind `fd` (a
// duplicate of the segment's descriptor, so the range stays readable even if the
// segment is deleted meanwhile).
struct FileSlice {
  UniqueFd fd;
  uint64_t position = 0;
  uint64_t length = 0;
};

}  // namespace fjord::log
