#include "log/pwrite_backend.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "log/file_slice.h"

namespace fjord::log {

absl::StatusOr<std::unique_ptr<PwriteBackend>> PwriteBackend::Create(int flusher_threads) {
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return IoError(errno, "eventfd");
  return std::unique_ptr<PwriteBackend>(new PwriteBackend(efd, std::max(1, flusher_threads)));
}

PwriteBackend::PwriteBackend(int event_fd, int flusher_threads) : event_fd_(event_fd) {
  lanes_[kFlushLane].max_threads = static_cast<size_t>(flusher_threads);
  lanes_[kReadLane].max_threads = 1;
}

PwriteBackend::~PwriteBackend() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  for (LaneState& lane : lanes_) {
    lane.work.notify_all();
    for (std::thread& t : lane.threads) t.join();  // queued work still runs; its callbacks do not
  }
  ::close(event_fd_);
}

absl::Status PwriteBackend::Write(int fd, const uint8_t* p, size_t n, uint64_t at) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "write");
    }
    p += w;
    n -= static_cast<size_t>(w);
    at += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status PwriteBackend::Sync(int fd) {
  if (::fdatasync(fd) != 0) return IoError(errno, "fdatasync");
  return absl::OkStatus();
}

void PwriteBackend::SyncInBackground(int fd, Done done) {
  EnqueueSync(fd, /*with_metadata=*/false, std::move(done));
}

void PwriteBackend::SyncDirectoryInBackground(int fd, Done done) {
  EnqueueSync(fd, /*with_metadata=*/true, std::move(done));
}

void PwriteBackend::EnqueueSync(int fd, bool with_metadata, Done done) {
  Enqueue(
      kFlushLane,
      [fd, with_metadata] {
        absl::Status status;
        if ((with_metadata ? ::fsync(fd) : ::fdatasync(fd)) != 0)
          status = IoError(errno, with_metadata ? "fsync" : "fdatasync");
        ::close(fd);
        return status;
      },
      std::move(done));
}

void PwriteBackend::RenameInBackground(std::string from, std::string to, Done done) {
  Enqueue(
      kFlushLane,
      [from = std::move(from), to = std::move(to)] {
        if (::rename(from.c_str(), to.c_str()) != 0) return IoError(errno, absl::StrCat("rename ", from));
        return absl::OkStatus();
      },
      std::move(done));
}

void PwriteBackend::WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) {
  Enqueue(
      kFlushLane,
      [fd, offset, n] {
        const auto at = static_cast<off_t>(offset);
        const auto len = static_cast<off_t>(n);
        if (::sync_file_range(fd, at, len, kWriteBackAndWait) == 0) {
          (void)::posix_fadvise(fd, at, len, POSIX_FADV_DONTNEED);
        }
        ::close(fd);
        return absl::OkStatus();
      },
      nullptr);
}

void PwriteBackend::ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) {
  Enqueue(
      kReadLane,
      [fd, offset, n] {
        (void)::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(n), POSIX_FADV_WILLNEED);
        ::close(fd);
        return absl::OkStatus();
      },
      nullptr);
}

void PwriteBackend::PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) {
  Enqueue(
      kReadLane,
      [fd, offset, n] {
        const UniqueFd owned(fd);
        char byte;
        for (uint64_t at : PageInProbes(offset, n)) {
          while (::pread(fd, &byte, 1, static_cast<off_t>(at)) < 0) {
            if (errno != EINTR) return IoError(errno, "read");
          }
        }
        return absl::OkStatus();
      },
      std::move(done));
}

void PwriteBackend::RemoveInBackground(std::filesystem::path path, Done done) {
  Enqueue(
      kFlushLane,
      [path = std::move(path)] {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        if (ec) return IoError(ec.value(), absl::StrCat("remove ", path.string()));
        return absl::OkStatus();
      },
      std::move(done));
}

void PwriteBackend::Enqueue(Lane which, std::function<absl::Status()> work, Done done) {
  ++pending_;
  LaneState& lane = lanes_[which];
  {
    std::lock_guard lock(mu_);
    lane.queued.push_back({std::move(work), std::move(done), absl::OkStatus()});
    if (lane.threads.size() < lane.max_threads)
      lane.threads.emplace_back([this, &lane] { WorkerLoop(lane); });
  }
  lane.work.notify_one();
}

void PwriteBackend::WorkerLoop(LaneState& lane) {
  std::unique_lock lock(mu_);
  while (true) {
    lane.work.wait(lock, [this, &lane] { return stopping_ || !lane.queued.empty(); });
    if (lane.queued.empty()) return;  // stopping, nothing left
    Job job = std::move(lane.queued.front());
    lane.queued.pop_front();
    lock.unlock();
    job.status = job.work();
    lock.lock();
    finished_.push_back(std::move(job));
    const uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }
}

void PwriteBackend::RunCompletions() {
  uint64_t count = 0;
  (void)!::read(event_fd_, &count, sizeof count);
  std::vector<Job> done;
  {
    std::lock_guard lock(mu_);
    done.swap(finished_);
  }
  pending_ -= done.size();
  for (Job& j : done) {
    if (j.done) j.done(std::move(j.status));
  }
}

}  // namespace fjord::log
