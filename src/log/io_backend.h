// How a log's bytes reach its files: one interface, two implementations.
//
// - io_uring (uring_backend.h): one ring per shard. Writes are a pwrite into the page
//   cache (uring_backend.cc says why); fdatasyncs, write-backs, unlinks, read-aheads and
//   page-ins run in the background on the ring, and their completions are announced on
//   an eventfd that the shard's event loop watches.
// - pwrite (pwrite_backend.h): pwrite(2) and fdatasync(2); background work runs on
//   threads of the backend's own (one lane for fdatasyncs, write-backs and removals,
//   one for read-aheads and page-ins) that announce completions on an eventfd the same
//   way.
//
// Meaning of the calls, the same for both:
// - Write returns once all n bytes are in the file's page cache ("appended"): a read
//   sees them, a crash of the process keeps them, a crash of the machine may not.
// - Sync returns once everything written to the file before the call is on the device
//   ("fsynced"). SyncInBackground promises the same when `done(OK)` runs.
//
// A backend belongs to one thread (a shard): every call, and RunCompletions, comes
// from it. `done` callbacks run only inside RunCompletions, never inside another call.
#pragma once

#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fjord::log {

class IoBackend {
 public:
  using Done = std::function<void(absl::Status)>;
  virtual ~IoBackend() = default;

  virtual const char* name() const = 0;
  virtual absl::Status Write(int fd, const uint8_t* data, size_t n, uint64_t offset) = 0;
  virtual absl::Status Sync(int fd) = 0;
  // Takes ownership of `fd` (closed once the sync is done).
  virtual void SyncInBackground(int fd, Done done) = 0;
  // fsync(2) of a directory off this thread, so that the names created or renamed in it
  // before the call survive a crash (fdatasync need not cover a new entry). Takes
  // ownership of `fd`.
  virtual void SyncDirectoryInBackground(int fd, Done done) = 0;
  // rename(2) off this thread: it may wait for the file system's journal.
  virtual void RenameInBackground(std::string from, std::string to, Done done) = 0;
  // Off this thread, writes the dirty pages of [offset, offset + n) to the device and
  // waits for them (sync_file_range), then drops the range from the page cache
  // (posix_fadvise(POSIX_FADV_DONTNEED), which keeps pages that are dirty or under
  // writeback). Not a flush: neither the file's metadata nor the device's cache is
  // synced. Both calls may wait, and a shard must not. Advisory, so there is no
  // callback. Takes ownership of `fd`.
  virtual void WriteBackAndDropInBackground(int fd, uint64_t offset, uint64_t n) = 0;
  // Off this thread, asks for [offset, offset + n) from the device
  // (POSIX_FADV_WILLNEED), which allocates its pages and may wait for the block layer.
  // Advisory, so there is no callback. Takes ownership of `fd`.
  virtual void ReadAheadInBackground(int fd, uint64_t offset, uint64_t n) = 0;
  // Off this thread, waits until [offset, offset + n) is in the page cache, reading it
  // from the device if need be, then runs done(OK), or done(error) if a read fails. It
  // reads one byte at the end of every kPageInStep of the range (PageInProbes): the
  // file system's read-ahead, or an earlier POSIX_FADV_WILLNEED, brings the pages
  // around them, and nothing else is copied. Takes ownership of `fd`.
  virtual void PageInInBackground(int fd, uint64_t offset, uint64_t n, Done done) = 0;
  // Deletes a file, or a directory and the files in it, off this thread: what a
  // retention pass or a topic deletion renamed out of the log's way first.
  // `done` may be empty.
  virtual void RemoveInBackground(std::filesystem::path path, Done done) = 0;
  // Readable (an eventfd) when background work has finished; the owner then calls
  // RunCompletions, which runs the finished work's callbacks.
  virtual int completion_fd() const = 0;
  virtual void RunCompletions() = 0;
  // Background work started whose completion has not run yet.
  virtual size_t pending() const = 0;
};

enum class IoBackendKind { kAuto, kIoUring, kPwrite };

// "auto", "io_uring" or "pwrite" (the values of `log.io.backend`).
absl::StatusOr<IoBackendKind> ParseIoBackendKind(std::string_view text);

// kAuto picks io_uring when this kernel lets us set up a ring with what we use (Docker's
// default seccomp profile forbids io_uring_setup), else pwrite; `why_not_uring` then
// says what failed. Forcing kIoUring fails where it is unavailable.
absl::StatusOr<std::unique_ptr<IoBackend>> MakeIoBackend(IoBackendKind kind,
                                                         std::string* why_not_uring = nullptr);

// This thread's backend for logs opened without one (tools, tests, benchmarks): the
// kind named by the FJORD_IO_BACKEND environment variable, auto when unset, so that a
// whole test binary runs once per backend.
IoBackend& ThreadDefaultIoBackend();

// Several background operations that finish as one: returns a callback to pass to each
// of the `n` operations (n > 0). Once all n have run it, `done` runs once, with the
// first error any of them reported (OK if none), and is then destroyed with what it
// holds.
IoBackend::Done JoinDone(size_t n, IoBackend::Done done);

// Disk errors that take a log offline (ENOSPC, EIO, EROFS, EDQUOT) are Unavailable;
// anything else is Internal.
absl::Status IoError(int err, std::string_view what);

// PageInInBackground's probes: the last byte of each kPageInStep of [offset, offset + n),
// and of the range itself (at least one probe, at `offset`, for an empty range).
inline constexpr uint64_t kPageInStep = 128 << 10;
std::vector<uint64_t> PageInProbes(uint64_t offset, uint64_t n);

// sync_file_range(2) flags for WriteBackAndDropInBackground: start writing the range's
// dirty pages and wait until none is dirty or under writeback.
inline constexpr unsigned kWriteBackAndWait =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

}  // namespace fjord::log
