// The fallback backend: pwrite(2) and fdatasync(2) on the calling thread; background
// syncs and removals on flusher threads, their completions announced on an eventfd (io_backend.h).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "log/io_backend.h"

namespace fjord::log {

class PwriteBackend final : public IoBackend {
 public:
  // `flusher_threads` background fdatasyncs may run at once (on different files).
  static absl::StatusOr<std::unique_ptr<PwriteBackend>> Create(int flusher_threads = 1);
  ~PwriteBackend() override;

  const char* name() const override { return "pwrite"; }
  absl::Status Write(int fd, const uint8_t* data, size_t n, uint64_t offset) override;
  absl::Status Sync(int fd) override;
  void SyncInBackground(int fd, Done done) override;
  void WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) override;
  void ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) override;
  // Blocking one-byte reads on a flusher thread, so a page-in and an fdatasync can
  // wait for each other there.
  void PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) override;
  void RemoveInBackground(std::filesystem::path path, Done done) override;
  int completion_fd() const override { return event_fd_; }
  void RunCompletions() override;
  size_t pending() const override { return pending_; }

 private:
  struct Job {
    std::function<absl::Status()> work;  // runs on a flusher thread
    Done done;
    absl::Status status;
  };
  void Enqueue(std::function<absl::Status()> work, Done done);
  PwriteBackend(int event_fd, int flusher_threads);
  void FlusherLoop();

  const int event_fd_;
  const int flusher_threads_;
  size_t pending_ = 0;                 // owner thread only
  std::vector<std::thread> flushers_;  // started on first use
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Job> queued_;     // guarded by mu_
  std::vector<Job> finished_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
};

}  // namespace fjord::log
