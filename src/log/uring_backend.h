// The io_uring backend: one ring per shard (io_backend.h says what the calls mean).
//
// Write (pwrite into the page cache) and Sync (fdatasync) run inline: the caller waits
// for them anyway, and the ring would only add a hand-off to an io-wq thread
// (uring_backend.cc has the figures). The ring carries what the shard must not wait
// for: SyncInBackground submits IORING_OP_FSYNC (DATASYNC), RemoveInBackground
// IORING_OP_UNLINKAT and PageInInBackground IORING_OP_READ, and their completions wake
// the shard's loop through the ring's registered eventfd; callbacks run only in
// RunCompletions.
#pragma once

#include <liburing.h>

#include <string>
#include <vector>

#include "log/io_backend.h"

namespace fjord::log {

class UringBackend final : public IoBackend {
 public:
  // Fails where io_uring is unavailable or lacks the operations used here.
  static absl::StatusOr<std::unique_ptr<UringBackend>> Create(unsigned entries = 64);
  ~UringBackend() override;

  const char* name() const override { return "io_uring"; }
  absl::Status Write(int fd, const uint8_t* data, size_t n, uint64_t offset) override;
  absl::Status Sync(int fd) override;
  void SyncInBackground(int fd, Done done) override;
  void SyncDirectoryInBackground(int fd, Done done) override;
  void RenameInBackground(std::string from, std::string to, Done done) override;
  void WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) override;
  void ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) override;
  // One IORING_OP_READ of one byte per probe; the kernel waits for a page being read
  // without an io-wq thread (async buffered reads).
  void PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) override;
  // IORING_OP_UNLINKAT for each file, then for the directory once they are gone.
  void RemoveInBackground(std::filesystem::path path, Done done) override;
  int completion_fd() const override { return event_fd_; }
  void RunCompletions() override;
  size_t pending() const override { return pending_; }

 private:
  struct Op {
    bool background = false;
    bool complete = false;
    int result = 0;
    int fd_to_close = -1;
    const char* what = "";
    std::string path;     // an unlink's or rename's path, alive until the kernel is done with it
    std::string to_path;  // a rename's new path
    char byte = 0;        // where a page-in's one-byte read lands
    Done done;
  };
  void SubmitUnlink(std::string path, int flags, Done done);
  void SubmitFsync(int fd, unsigned flags, Done done);            // on io-wq; closes fd
  void Fadvise(int fd, uint64_t offset, uint64_t n, int advice);  // on io-wq; closes fd
  UringBackend() = default;
  io_uring_sqe* NextSqe();  // submits what is queued when the ring is full
  void Reap(io_uring_cqe* cqe);

  io_uring ring_{};
  bool ring_ready_ = false;
  int event_fd_ = -1;
  size_t in_flight_ = 0;       // submitted, completion not yet reaped
  size_t pending_ = 0;         // background syncs whose callbacks have not run
  std::vector<Op*> finished_;  // background syncs reaped, callbacks not yet run
};

}  // namespace fjord::log
