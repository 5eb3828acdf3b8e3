#include "log/checkpoint_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace fjord::log {

absl::Status WriteFileSynced(const std::filesystem::path& path, const void* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("open ", path.string(), ": ", std::strerror(errno)));
  const bool ok = ::write(fd, data, size) == static_cast<ssize_t>(size) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("write ", path.string(), ": ", std::strerror(saved)));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, const void* data, size_t size) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  if (absl::Status s = WriteFileSynced(tmp, data, size); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("rename ", tmp.string(), ": ", std::strerror(errno)));
  }
  // The file is whole under its name already; a directory that cannot be synced is not
  // an error for the caller (as before), the next checkpoint syncs it again.
  (void)SyncDirectory(path.parent_path());
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("open ", dir.string(), ": ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("fsync ", dir.string(), ": ", std::strerror(err)));
  return absl::OkStatus();
}

std::string EncodeOffsetCheckpoint(int64_t offset) {
  return absl::StrCat(offset, "\n");
}

absl::Status WriteOffsetCheckpoint(const std::filesystem::path& path, int64_t offset) {
  const std::string text = EncodeOffsetCheckpoint(offset);
  return WriteFileAtomically(path, text.data(), text.size());
}

std::optional<int64_t> ReadOffsetCheckpoint(const std::filesystem::path& path) {
  std::ifstream in(path);
  int64_t offset = 0;
  if (!(in >> offset)) return std::nullopt;
  return offset;
}

}  // namespace fjord::log
