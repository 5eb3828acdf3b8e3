#include "log/io_backend.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "log/pwrite_backend.h"
#include "log/uring_backend.h"

namespace fjord::log {

absl::StatusOr<IoBackendKind> ParseIoBackendKind(std::string_view text) {
  if (text == "auto") return IoBackendKind::kAuto;
  if (text == "io_uring") return IoBackendKind::kIoUring;
  if (text == "pwrite") return IoBackendKind::kPwrite;
  return absl::InvalidArgumentError(
      absl::StrCat("'", std::string(text), "' is not one of auto, io_uring, pwrite"));
}

absl::StatusOr<std::unique_ptr<IoBackend>> MakeIoBackend(IoBackendKind kind, std::string* why_not_uring) {
  if (kind != IoBackendKind::kPwrite) {
    auto uring = UringBackend::Create();
    if (uring.ok()) return std::unique_ptr<IoBackend>(std::move(*uring));
    if (kind == IoBackendKind::kIoUring) return uring.status();
    if (why_not_uring != nullptr) *why_not_uring = std::string(uring.status().message());
  }
  auto fallback = PwriteBackend::Create();
  if (!fallback.ok()) return fallback.status();
  return std::unique_ptr<IoBackend>(std::move(*fallback));
}

IoBackend& ThreadDefaultIoBackend() {
  thread_local std::unique_ptr<IoBackend> backend;
  thread_local pid_t owner = 0;
  if (backend != nullptr && owner != ::getpid()) {
    // A forked child shares its parent's ring: it must neither use nor tear it down.
    (void)backend.release();
  }
  if (backend == nullptr) {
    const char* env = std::getenv("FJORD_IO_BACKEND");
    const std::string name = env != nullptr && *env != '\0' ? env : "auto";
    auto kind = ParseIoBackendKind(name);
    auto made = kind.ok() ? MakeIoBackend(*kind) : kind.status();
    if (!made.ok()) {
      std::fprintf(stderr, "FJORD_IO_BACKEND=%s: %s\n", name.c_str(),
                   std::string(made.status().message()).c_str());
      std::abort();
    }
    backend = std::move(*made);
    owner = ::getpid();
  }
  return *backend;
}

std::vector<uint64_t> PageInProbes(uint64_t offset, uint64_t n) {
  std::vector<uint64_t> probes;
  for (uint64_t done = 0; done < n; done += kPageInStep)
    probes.push_back(offset + std::min(n, done + kPageInStep) - 1);
  if (probes.empty()) probes.push_back(offset);
  return probes;
}

IoBackend::Done JoinDone(size_t n, IoBackend::Done done) {
  struct Joint {
    size_t left;
    IoBackend::Done done;
    absl::Status first_error;
  };
  auto joint = std::make_shared<Joint>(Joint{n, std::move(done), absl::OkStatus()});
  return [joint](absl::Status s) {
    if (!s.ok() && joint->first_error.ok()) joint->first_error = std::move(s);
    if (--joint->left != 0) return;
    IoBackend::Done last = std::move(joint->done);
    if (last) last(joint->first_error);
  };
}

absl::Status IoError(int err, std::string_view what) {
  std::string msg = absl::StrCat(std::string(what), ": ", std::strerror(err));
  if (err == ENOSPC || err == EIO || err == EROFS || err == EDQUOT) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

}  // namespace fjord::log
