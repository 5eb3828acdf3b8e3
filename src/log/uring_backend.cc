#include "log/uring_backend.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "log/file_slice.h"

namespace fjord::log {

absl::StatusOr<std::unique_ptr<UringBackend>> UringBackend::Create(unsigned entries) {
  std::unique_ptr<UringBackend> b(new UringBackend());
  if (int r = io_uring_queue_init(entries, &b->ring_, 0); r < 0) {
    return absl::UnavailableError(absl::StrCat("io_uring_setup: ", std::strerror(-r)));
  }
  b->ring_ready_ = true;
  io_uring_probe* probe = io_uring_get_probe_ring(&b->ring_);
  const bool supported = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_WRITE) &&
                         io_uring_opcode_supported(probe, IORING_OP_FSYNC) &&
                         io_uring_opcode_supported(probe, IORING_OP_UNLINKAT) &&
                         io_uring_opcode_supported(probe, IORING_OP_FADVISE) &&
                         io_uring_opcode_supported(probe, IORING_OP_READ) &&
                         io_uring_opcode_supported(probe, IORING_OP_RENAMEAT);
  if (probe != nullptr) io_uring_free_probe(probe);
  if (!supported)
    return absl::UnavailableError(
        "io_uring lacks IORING_OP_WRITE, FSYNC, UNLINKAT, FADVISE, READ or RENAMEAT");
  b->event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->event_fd_ < 0) return IoError(errno, "eventfd");
  if (int r = io_uring_register_eventfd(&b->ring_, b->event_fd_); r < 0) {
    return absl::UnavailableError(absl::StrCat("io_uring_register_eventfd: ", std::strerror(-r)));
  }
  return b;
}

UringBackend::~UringBackend() {
  if (ring_ready_) {
    // The kernel may still write into an Op: wait for every completion first.
    io_uring_submit(&ring_);
    while (in_flight_ > 0) {
      io_uring_cqe* cqe = nullptr;
      if (int r = io_uring_wait_cqe(&ring_, &cqe); r < 0) {
        if (r == -EINTR) continue;
        break;
      }
      Reap(cqe);
    }
    io_uring_queue_exit(&ring_);
  }
  for (Op* op : finished_) {
    if (op->fd_to_close >= 0) ::close(op->fd_to_close);
    delete op;
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

io_uring_sqe* UringBackend::NextSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  ++in_flight_;
  return sqe;
}

void UringBackend::Reap(io_uring_cqe* cqe) {
  Op* op = static_cast<Op*>(io_uring_cqe_get_data(cqe));
  op->result = cqe->res;
  op->complete = true;
  io_uring_cqe_seen(&ring_, cqe);
  --in_flight_;
  if (op->background) finished_.push_back(op);
}

absl::Status UringBackend::Write(int fd, const uint8_t* p, size_t n, uint64_t at) {
  // pwrite(2), not IORING_OP_WRITE: a buffered write the kernel cannot finish without
  // blocking is handed to an io-wq worker thread, and on ext4 that is every one of them.
  // Measured with log-bench on this machine: 16 KiB appends at 158 MB/s through the ring
  // against 1,269 MB/s with pwrite. The write only copies into the page cache, so doing
  // it inline costs the shard no more; the ring keeps what does wait for the disk.
  while (n > 0) {
    const ssize_t r = ::pwrite(fd, p, std::min<size_t>(n, 1u << 30), static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return IoError(errno, "write");
    if (r == 0) return IoError(EIO, "write (no progress)");
    p += r;
    n -= static_cast<size_t>(r);
    at += static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

absl::Status UringBackend::Sync(int fd) {
  // Inline, as the caller waits anyway: IORING_OP_FSYNC always runs on an io-wq thread,
  // and the hand-off cost a third of the fsync rate with 16 KiB batches in log-bench.
  // The ring is for SyncInBackground, where the shard must not wait.
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return IoError(errno, "fdatasync");
  }
  return absl::OkStatus();
}

void UringBackend::SyncInBackground(int fd, Done done) {
  SubmitFsync(fd, IORING_FSYNC_DATASYNC, std::move(done));
}

void UringBackend::SyncDirectoryInBackground(int fd, Done done) {
  SubmitFsync(fd, 0, std::move(done));
}

void UringBackend::SubmitFsync(int fd, unsigned flags, Done done) {
  Op* op = new Op();
  op->background = true;
  op->fd_to_close = fd;
  op->what = flags == IORING_FSYNC_DATASYNC ? "fdatasync" : "fsync";
  op->done = std::move(done);
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_fsync(sqe, fd, flags);
  io_uring_sqe_set_data(sqe, op);
  io_uring_submit(&ring_);
  ++pending_;
}

void UringBackend::RenameInBackground(std::string from, std::string to, Done done) {
  Op* op = new Op();
  op->background = true;
  op->what = "rename";
  op->path = std::move(from);
  op->to_path = std::move(to);
  op->done = std::move(done);
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_renameat(sqe, AT_FDCWD, op->path.c_str(), AT_FDCWD, op->to_path.c_str(), 0);
  io_uring_sqe_set_data(sqe, op);
  io_uring_submit(&ring_);
  ++pending_;
}

void UringBackend::WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) {
  // Two steps rather than a linked pair: NextSqe may submit between two SQEs, which
  // would cut the link. The fadvise goes in when the write-back's completion runs.
  Op* op = new Op();
  op->background = true;
  op->what = "sync_file_range";
  // The descriptor is closed with the callback if the ring goes away before it runs
  // (shared: a Done must be copyable).
  auto owned = std::make_shared<UniqueFd>(fd);
  op->done = [this, owned, offset, n](absl::Status s) {
    if (s.ok()) Fadvise(owned->release(), offset, n, POSIX_FADV_DONTNEED);
  };
  io_uring_sqe* sqe = NextSqe();
  // The ring's length is 32 bits; 0 means to the end of the file.
  const unsigned len = n > UINT32_MAX ? 0 : static_cast<unsigned>(n);
  io_uring_prep_sync_file_range(sqe, fd, len, offset, static_cast<int>(kWriteBackAndWait));
  io_uring_sqe_set_data(sqe, op);
  io_uring_submit(&ring_);
  ++pending_;
}

void UringBackend::PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) {
  const std::vector<uint64_t> probes = PageInProbes(offset, n);
  // The reads share the descriptor, closed with the last one's callback (or with the
  // ops, if the ring goes away first).
  auto owned_fd = std::make_shared<UniqueFd>(fd);
  Done each = JoinDone(probes.size(), [owned_fd, done = std::move(done)](absl::Status s) {
    owned_fd->reset();
    if (done) done(std::move(s));
  });
  for (uint64_t at : probes) {
    Op* op = new Op();
    op->background = true;
    op->what = "read";
    op->done = each;
    io_uring_sqe* sqe = NextSqe();
    io_uring_prep_read(sqe, fd, &op->byte, 1, at);
    io_uring_sqe_set_data(sqe, op);
    ++pending_;
  }
  io_uring_submit(&ring_);
}

void UringBackend::ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) {
  Fadvise(fd, offset, n, POSIX_FADV_WILLNEED);
}

void UringBackend::Fadvise(int fd, uint64_t offset, uint64_t n, int advice) {
  Op* op = new Op();
  op->background = true;
  op->fd_to_close = fd;
  op->what = "fadvise";
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_fadvise(sqe, fd, offset, static_cast<off_t>(n), advice);
  // IORING_OP_FADVISE runs inline in the submitting thread when it can; DONTNEED and
  // WILLNEED may wait, so they go to an io-wq worker.
  sqe->flags |= IOSQE_ASYNC;
  io_uring_sqe_set_data(sqe, op);
  io_uring_submit(&ring_);
  ++pending_;
}

void UringBackend::SubmitUnlink(std::string path, int flags, Done done) {
  Op* op = new Op();
  op->background = true;
  op->what = "unlink";
  op->path = std::move(path);
  op->done = std::move(done);
  io_uring_sqe* sqe = NextSqe();
  io_uring_prep_unlinkat(sqe, AT_FDCWD, op->path.c_str(), flags);
  io_uring_sqe_set_data(sqe, op);
  io_uring_submit(&ring_);
  ++pending_;
}

void UringBackend::RemoveInBackground(std::filesystem::path path, Done done) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    SubmitUnlink(path.string(), 0, std::move(done));
    return;
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) files.push_back(e.path().string());
  // The directory goes once its files have; `done` gets the first error of either.
  auto remove_dir = [this, dir = path.string(), done = std::move(done)](absl::Status files_status) {
    SubmitUnlink(dir, AT_REMOVEDIR, [files_status, done](absl::Status s) {
      if (done) done(files_status.ok() ? std::move(s) : files_status);
    });
  };
  if (files.empty()) {
    remove_dir(absl::OkStatus());
    return;
  }
  Done each = JoinDone(files.size(), std::move(remove_dir));
  for (std::string& f : files) SubmitUnlink(std::move(f), 0, each);
}

void UringBackend::RunCompletions() {
  uint64_t count = 0;
  (void)!::read(event_fd_, &count, sizeof count);
  io_uring_cqe* cqe = nullptr;
  while (in_flight_ > 0 && io_uring_peek_cqe(&ring_, &cqe) == 0) Reap(cqe);
  std::vector<Op*> done;
  done.swap(finished_);
  pending_ -= done.size();
  for (Op* op : done) {
    if (op->fd_to_close >= 0) ::close(op->fd_to_close);
    const absl::Status status =
        op->result < 0 ? IoError(-op->result, absl::StrCat(op->what, " ", op->path)) : absl::OkStatus();
    Done callback = std::move(op->done);
    delete op;
    if (callback) callback(status);
  }
}

}  // namespace fjord::log
