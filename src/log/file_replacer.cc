#include "log/file_replacer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "log/checkpoint_file.h"

namespace fjord::log {
namespace {

absl::Status WriteAll(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(errno, absl::StrCat("write ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

FileReplacer::FileReplacer(std::filesystem::path dir, IoBackend& io,
                           std::function<void(absl::Status)> on_error)
    : state_(std::make_shared<State>()) {
  state_->dir = std::move(dir);
  state_->io = &io;
  state_->on_error = std::move(on_error);
}

FileReplacer::~FileReplacer() {
  ++state_->generation;
}

bool FileReplacer::idle() const {
  return state_->queue.empty();
}

void FileReplacer::Replace(std::vector<File> files, std::function<void()> durable) {
  state_->queue.push_back(Batch{std::move(files), std::move(durable), {}});
  StartNext(state_);
}

void FileReplacer::StartNext(const std::shared_ptr<State>& state) {
  if (state->running || state->queue.empty()) return;
  state->running = true;
  Batch& batch = state->queue.front();
  std::vector<int> fds;
  for (const File& f : batch.files) {
    batch.tmp_names.push_back(absl::StrCat(f.name, ".", state->next_tmp++, ".tmp"));
    const std::string path = (state->dir / batch.tmp_names.back()).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    absl::Status s = fd < 0 ? IoError(errno, absl::StrCat("open ", path)) : WriteAll(fd, f.bytes, path);
    if (!s.ok()) {
      if (fd >= 0) ::close(fd);
      for (int other : fds) ::close(other);
      EndBatch(state, std::move(s));
      return;
    }
    fds.push_back(fd);
  }
  if (fds.empty()) {
    EndBatch(state, absl::OkStatus());
    return;
  }
  const uint64_t generation = state->generation;
  IoBackend::Done synced =
      JoinDone(fds.size(), [weak = std::weak_ptr<State>(state), generation](absl::Status s) {
        std::shared_ptr<State> st = weak.lock();
        if (st == nullptr || st->generation != generation) return;
        if (!s.ok()) return EndBatch(st, std::move(s));
        RenameFrom(st, generation, 0);
      });
  for (int fd : fds) state->io->SyncInBackground(fd, synced);
}

void FileReplacer::RenameFrom(const std::shared_ptr<State>& state, uint64_t generation, size_t index) {
  const Batch& batch = state->queue.front();
  if (index == batch.files.size()) return EndBatch(state, absl::OkStatus());
  std::weak_ptr<State> weak = state;
  state->io->RenameInBackground(
      (state->dir / batch.tmp_names[index]).string(), (state->dir / batch.files[index].name).string(),
      [weak, generation, index](absl::Status s) {
        std::shared_ptr<State> st = weak.lock();
        if (st == nullptr || st->generation != generation) return;
        if (!s.ok()) return EndBatch(st, std::move(s));
        const int fd = ::open(st->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return EndBatch(st, IoError(errno, absl::StrCat("open ", st->dir.string())));
        st->io->SyncDirectoryInBackground(fd, [weak, generation, index](absl::Status s) {
          std::shared_ptr<State> st = weak.lock();
          if (st == nullptr || st->generation != generation) return;
          if (!s.ok()) return EndBatch(st, std::move(s));
          RenameFrom(st, generation, index + 1);
        });
      });
}

void FileReplacer::EndBatch(const std::shared_ptr<State>& state, absl::Status status) {
  Batch batch = std::move(state->queue.front());
  state->queue.pop_front();
  state->running = false;
  if (status.ok()) {
    if (batch.durable) batch.durable();
  } else {
    std::error_code ec;
    for (const std::string& tmp : batch.tmp_names) std::filesystem::remove(state->dir / tmp, ec);
    if (state->on_error) state->on_error(status);
  }
  StartNext(state);
}

absl::Status FileReplacer::Finish() {
  State& st = *state_;
  ++st.generation;  // completions of what ran in the background do nothing from here
  st.running = false;
  std::deque<Batch> queue;
  queue.swap(st.queue);
  for (Batch& batch : queue) {
    for (size_t i = 0; i < batch.files.size(); ++i) {
      const std::filesystem::path target = st.dir / batch.files[i].name;
      if (batch.tmp_names.empty()) {  // never started
        const std::string& bytes = batch.files[i].bytes;
        if (absl::Status s = WriteFileAtomically(target, bytes.data(), bytes.size()); !s.ok()) return s;
        continue;
      }
      // Started in the background: its temporary file is whole. Gone means the
      // background renamed it, which it does only after the fdatasync.
      const std::filesystem::path tmp = st.dir / batch.tmp_names[i];
      if (const int fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC); fd >= 0) {
        const int rc = ::fdatasync(fd);
        const int err = errno;
        ::close(fd);
        if (rc != 0) return IoError(err, absl::StrCat("fdatasync ", tmp.string()));
        if (::rename(tmp.c_str(), target.c_str()) != 0 && errno != ENOENT)
          return IoError(errno, absl::StrCat("rename ", tmp.string()));
      } else if (errno != ENOENT) {
        return IoError(errno, absl::StrCat("open ", tmp.string()));
      }
      if (absl::Status s = SyncDirectory(st.dir); !s.ok()) return s;
    }
    if (batch.durable) batch.durable();
  }
  return absl::OkStatus();
}

}  // namespace fjord::log
