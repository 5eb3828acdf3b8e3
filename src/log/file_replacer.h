// Replaces a partition's small files (producer snapshots, the leader-epoch and
// recovery-point checkpoints) without waiting on the shard.
//
// A file is replaced as WriteFileAtomically does it — written under a temporary name,
// fdatasynced, renamed over its name, then the directory fsynced — but only the write
// (into the page cache) runs on the caller's thread; the syncs and renames run on the
// I/O backend. Why: the first fsync after a roll waits for the file system's journal,
// and on the shard one took 384 ms (producer p99 at half of fjord-bench's full rate on
// one partition: 380-550 ms with the syncs on the shard).
//
// Replacements run one batch at a time, in the order queued, and within a batch file by
// file, each rename followed by an fsync of the directory: a crash keeps a prefix of
// what was queued, each file old or new, never a mix. Temporary names are
// `<name>.<n>.tmp`, unique within this replacer, so a background rename never moves a
// file someone else is writing; PartitionLog::Load deletes leftovers.
//
// Owned by one thread (a shard), like its backend; callbacks run from RunCompletions.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "log/io_backend.h"

namespace fjord::log {

class FileReplacer {
 public:
  struct File {
    std::string name;   // in the directory
    std::string bytes;  // the new contents
  };
  // `on_error` runs (from RunCompletions) if a background step fails; the batch it was
  // in is dropped and the next one goes on.
  FileReplacer(std::filesystem::path dir, IoBackend& io, std::function<void(absl::Status)> on_error);
  // Abandons what has not finished: later completions do nothing.
  ~FileReplacer();
  FileReplacer(const FileReplacer&) = delete;
  FileReplacer& operator=(const FileReplacer&) = delete;

  // Queues a batch; `durable` runs once its last directory fsync has (not if it failed).
  void Replace(std::vector<File> files, std::function<void()> durable = {});
  // Finishes every queued batch on this thread, blocking, in order (a close): afterwards
  // no background rename can land, and the caller may write the same names itself.
  absl::Status Finish();
  // No batch is queued or running.
  bool idle() const;

 private:
  struct Batch {
    std::vector<File> files;
    std::function<void()> durable;
    std::vector<std::string> tmp_names;  // set when the batch starts
  };
  struct State {
    std::filesystem::path dir;
    IoBackend* io;
    std::function<void(absl::Status)> on_error;
    std::deque<Batch> queue;  // the front one runs once `running`
    bool running = false;
    uint64_t next_tmp = 0;
    uint64_t generation = 0;  // bumped by Finish: older completions do nothing
  };
  static void StartNext(const std::shared_ptr<State>& state);
  static void RenameFrom(const std::shared_ptr<State>& state, uint64_t generation, size_t index);
  static void EndBatch(const std::shared_ptr<State>& state, absl::Status status);

  std::shared_ptr<State> state_;
};

}  // namespace fjord::log
