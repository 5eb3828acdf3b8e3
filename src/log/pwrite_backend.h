// The fallback backend: pwrite(2) and fdatasync(2) on the calling thread; background
// work on threads of its own, its completions announced on an eventfd (io_backend.h).
// That work goes in two lanes with their own threads: fdatasyncs, write-backs and
// removals in one, a Fetch's read-ahead and page-ins in the other, so that a consumer
// reading from the disk does not hold up an fdatasync that producers wait for.
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
  void SyncDirectoryInBackground(int fd, Done done) override;
  void RenameInBackground(std::string from, std::string to, Done done) override;
  void WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) override;
  void ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) override;
  // Blocking one-byte reads on the read lane's thread.
  void PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) override;
  void RemoveInBackground(std::filesystem::path path, Done done) override;
  int completion_fd() const override { return event_fd_; }
  void RunCompletions() override;
  size_t pending() const override { return pending_; }

 private:
  struct Job {
    std::function<absl::Status()> work;  // runs on one of its lane's threads
    Done done;
    absl::Status status;
  };
  enum Lane { kFlushLane = 0, kReadLane = 1 };
  struct LaneState {
    size_t max_threads = 1;
    std::vector<std::thread> threads;  // started on first use
    std::condition_variable work;
    std::deque<Job> queued;  // guarded by mu_
  };
  void Enqueue(Lane lane, std::function<absl::Status()> work, Done done);
  void EnqueueSync(int fd, bool with_metadata, Done done);  // fsync or fdatasync; closes fd
  PwriteBackend(int event_fd, int flusher_threads);
  void WorkerLoop(LaneState& lane);

  const int event_fd_;
  size_t pending_ = 0;  // owner thread only
  std::mutex mu_;
  LaneState lanes_[2];
  std::vector<Job> finished_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
};

}  // namespace fjord::log
