// The durable half of a Raft voter: hard state (term, vote) and log entries in
// RocksDB. Save() makes a Ready's hard state and log change durable in one synced
// write batch, so a driver may send the Ready's messages once it returns.
//
// Keys and values (all integers big-endian, so keys sort by index):
//   "h"                 → u8 version (1) | u64 term | i32 vote
//   "s"                 → u8 version (1) | u64 index | u64 term | state machine bytes
//   "e" | u64 index     → u8 version (1) | u64 term | data bytes
// Entries are contiguous from the snapshot's index + 1 (from 1 without a snapshot).
// RocksDB checksums its blocks and WAL records; a value of another version or size
// is reported as corruption rather than guessed at.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/raft_types.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace fjord::raft {

struct StoredState {
  HardState hard_state;
  Snapshot snapshot;
  std::vector<Entry> log;  // entries snapshot.index + 1, ...
};

class RaftStore {
 public:
  static absl::StatusOr<std::unique_ptr<RaftStore>> Open(const std::string& dir);
  ~RaftStore();

  absl::StatusOr<StoredState> Load() const;
  // Stores ready.hard_state (when changed) and replaces entries from
  // ready.first_new_index on with ready.new_entries; synced before it returns.
  // An installed snapshot (ready.snapshot) replaces every stored entry first.
  absl::Status Save(const Ready& ready);
  // Stores a snapshot taken locally (RaftNode::Compact) and drops the entries it covers.
  absl::Status SaveSnapshot(const Snapshot& snapshot);

 private:
  explicit RaftStore(std::unique_ptr<rocksdb::DB> db);
  static void PutSnapshot(rocksdb::WriteBatch* batch, const Snapshot& snapshot);
  absl::Status WriteSynced(rocksdb::WriteBatch* batch);
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t last_index_ = 0;  // highest stored entry (or the snapshot's index), for deleting a replaced suffix
};

}  // namespace fjord::raft
