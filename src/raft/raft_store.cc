#include "raft/raft_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"

namespace fjord::raft {

namespace {

constexpr uint8_t kVersion = 1;
constexpr char kHardStateKey[] = "h";
constexpr char kSnapshotKey[] = "s";

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

std::string EntryKey(uint64_t index) {
  std::string key = "e";
  PutU64(&key, index);
  return key;
}

absl::Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("raft store: ", what, ": ", s.ToString()));
}

}  // namespace

RaftStore::RaftStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
RaftStore::~RaftStore() = default;

absl::StatusOr<std::unique_ptr<RaftStore>> RaftStore::Open(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  rocksdb::DB* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::DB::Open(options, dir, &raw), "open"); !s.ok()) return s;
  auto store = std::unique_ptr<RaftStore>(new RaftStore(std::unique_ptr<rocksdb::DB>(raw)));
  auto loaded = store->Load();
  if (!loaded.ok()) return loaded.status();
  store->last_index_ = loaded->snapshot.index + loaded->log.size();
  return store;
}

absl::StatusOr<StoredState> RaftStore::Load() const {
  StoredState state;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kHardStateKey, &value);
  if (s.ok()) {
    if (value.size() != 13 || static_cast<uint8_t>(value[0]) != kVersion)
      return absl::DataLossError("raft store: hard state of unknown version or size");
    state.hard_state.term = GetU64(value.data() + 1);
    uint32_t vote = 0;
    for (int i = 9; i < 13; ++i) vote = vote << 8 | static_cast<uint8_t>(value[i]);
    state.hard_state.vote = static_cast<NodeId>(vote);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read hard state");
  }
  s = db_->Get(rocksdb::ReadOptions(), kSnapshotKey, &value);
  if (s.ok()) {
    if (value.size() < 17 || static_cast<uint8_t>(value[0]) != kVersion)
      return absl::DataLossError("raft store: snapshot of unknown version or size");
    state.snapshot = {GetU64(value.data() + 1), GetU64(value.data() + 9), value.substr(17)};
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read snapshot");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(EntryKey(1)); it->Valid() && it->key().starts_with("e"); it->Next()) {
    const rocksdb::Slice key = it->key(), v = it->value();
    if (key.size() != 9 || v.size() < 9 || static_cast<uint8_t>(v[0]) != kVersion)
      return absl::DataLossError("raft store: entry of unknown version or size");
    const uint64_t index = GetU64(key.data() + 1);
    const uint64_t expected = state.snapshot.index + state.log.size() + 1;
    if (index != expected)
      return absl::DataLossError(absl::StrCat("raft store: entry ", index, " where ", expected, " belongs"));
    state.log.push_back({GetU64(v.data() + 1), std::string(v.data() + 9, v.size() - 9)});
  }
  if (absl::Status st = FromRocks(it->status(), "read entries"); !st.ok()) return st;
  return state;
}

absl::Status RaftStore::Save(const Ready& ready) {
  if (!ready.hard_state_changed && !ready.snapshot && ready.first_new_index == 0) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  uint64_t last = last_index_;
  if (ready.snapshot) {
    PutSnapshot(&batch, *ready.snapshot);
    if (last_index_ > 0) batch.DeleteRange(EntryKey(1), EntryKey(last_index_ + 1));
    last = ready.snapshot->index;
  }
  if (ready.hard_state_changed) {
    std::string v(1, static_cast<char>(kVersion));
    PutU64(&v, ready.hard_state.term);
    const uint32_t vote = static_cast<uint32_t>(ready.hard_state.vote);
    for (int shift = 24; shift >= 0; shift -= 8) v.push_back(static_cast<char>(vote >> shift));
    batch.Put(kHardStateKey, v);
  }
  if (ready.first_new_index != 0) {
    if (ready.first_new_index <= last) batch.DeleteRange(EntryKey(ready.first_new_index), EntryKey(last + 1));
    uint64_t index = ready.first_new_index;
    for (const Entry& e : ready.new_entries) {
      std::string v(1, static_cast<char>(kVersion));
      PutU64(&v, e.term);
      v += e.data;
      batch.Put(EntryKey(index++), v);
    }
    last = index - 1;
  }
  if (absl::Status s = WriteSynced(&batch); !s.ok()) return s;
  last_index_ = last;
  return absl::OkStatus();
}

absl::Status RaftStore::SaveSnapshot(const Snapshot& snapshot) {
  rocksdb::WriteBatch batch;
  PutSnapshot(&batch, snapshot);
  batch.DeleteRange(EntryKey(1), EntryKey(snapshot.index + 1));
  if (absl::Status s = WriteSynced(&batch); !s.ok()) return s;
  last_index_ = std::max(last_index_, snapshot.index);
  return absl::OkStatus();
}

void RaftStore::PutSnapshot(rocksdb::WriteBatch* batch, const Snapshot& snapshot) {
  std::string v(1, static_cast<char>(kVersion));
  PutU64(&v, snapshot.index);
  PutU64(&v, snapshot.term);
  v += snapshot.data;
  batch->Put(kSnapshotKey, v);
}

absl::Status RaftStore::WriteSynced(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions sync;
  sync.sync = true;  // a vote or an ack leaves only after this
  return FromRocks(db_->Write(sync, batch), "write");
}

}  // namespace fjord::raft
