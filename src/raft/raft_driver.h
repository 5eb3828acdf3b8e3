// Drives one controller's RaftNode on its own thread: ticks it on a clock, steps it with
// the messages the transport received, proposes metadata batches, and acts on every Ready
// in Raft's order: persist (RaftStore, synced), then send, then apply to the metadata
// state machine. It compacts the log into a snapshot every snapshot_bytes of applied
// records, and keeps a window of recent batches for brokers watching the metadata.
//
// Threads: the loop thread alone touches the RaftNode and the store. gRPC threads call
// Receive/Propose/Status/WithState/UpdatesAfter, which take `mu_` briefly. The state is
// written only by the loop thread under `mu_`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "raft/metadata_state.h"
#include "raft/raft_node.h"
#include "raft/raft_store.h"

namespace fjord::controller {

struct DriverOptions {
  raft::NodeId node_id = 0;
  std::vector<raft::NodeId> voters;
  std::string dir;          // the RocksDB directory
  int tick_ms = 100;        // the clock: the core counts ticks
  int election_ticks = 10;  // a follower campaigns after [this, 2x this) ticks without a leader
  int heartbeat_ticks = 2;
  uint64_t snapshot_bytes = 20 * 1024 * 1024;  // metadata.log.max.record.bytes.between.snapshots
  size_t watch_window = 10000;                 // recent batches kept for watchers
};

struct Committed {
  uint64_t offset = 0;  // the Raft index it committed at
  metadata::ApplyResult result;
};

struct QuorumStatus {
  raft::NodeId node_id = raft::kNoNode;
  raft::NodeId leader = raft::kNoNode;
  raft::Role role = raft::Role::kFollower;
  uint64_t term = 0, commit = 0, last = 0, snapshot_index = 0, applied = 0;
  std::chrono::steady_clock::time_point leader_since;  // when this node last became leader
  std::vector<raft::NodeId> voters, observers;
  std::map<raft::NodeId, uint64_t> match;  // the leader's: RaftNode::MatchIndexes
  // The leader's, in wall-clock ms: each follower's last append answer, and the last
  // one that showed its log matching the leader's whole log (absent: not since this
  // node became leader).
  std::map<raft::NodeId, int64_t> last_answer_ms, caught_up_ms;
};

struct MetadataUpdate {
  uint64_t offset = 0;
  bool snapshot = false;  // `batch` is the whole state as of `offset`
  std::string batch;      // a serialized MetadataBatch
};

class RaftDriver {
 public:
  using SendFn = std::function<void(raft::Message)>;  // must not block
  static absl::StatusOr<std::unique_ptr<RaftDriver>> Open(DriverOptions options, SendFn send);
  ~RaftDriver();

  void Start();
  void Stop();

  void Receive(raft::Message m);
  // Proposes `batch` if this node leads and waits until it is applied here: the offset
  // and the state machine's answer (a batch the state refuses answers its error).
  // FailedPrecondition "not the leader; leader is N" on a follower.
  absl::StatusOr<Committed> Propose(const metadata::MetadataBatch& batch, absl::Duration timeout);
  QuorumStatus Status() const;

  template <class F>
  auto WithState(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(state_);
  }

  // Batches after `next_offset - 1` that are applied here, waiting up to `wait` for one;
  // a snapshot of the whole state first when the watcher is behind the kept window.
  std::vector<MetadataUpdate> UpdatesAfter(uint64_t next_offset, absl::Duration wait) const;

 private:
  // A follower answered an append (leader only): when, and whether it is caught up.
  void NoteAppendAnswer(raft::NodeId from);
  std::map<raft::NodeId, int64_t> last_answer_ms_, caught_up_ms_;  // loop thread only
  uint64_t answers_term_ = 0;                                      // the term they were heard in
  struct Waiter {
    uint64_t term;
    std::promise<absl::StatusOr<Committed>> done;
  };
  struct Proposal {
    std::string data;
    std::promise<absl::StatusOr<Committed>> done;
  };

  RaftDriver(DriverOptions options, SendFn send, std::unique_ptr<raft::RaftStore> store,
             std::unique_ptr<raft::RaftNode> node, metadata::MetadataState state);
  void Loop();
  void HandleReady();
  void ApplyEntry(uint64_t index, const raft::Entry& e);
  void InstallSnapshot(const raft::Snapshot& s);
  void MaybeCompact();
  void PublishStatus();

  const DriverOptions options_;
  const SendFn send_;
  std::unique_ptr<raft::RaftStore> store_;  // loop thread
  std::unique_ptr<raft::RaftNode> node_;    // loop thread
  std::map<uint64_t, Waiter> waiters_;      // loop thread: proposals by index
  uint64_t applied_ = 0;                    // loop thread
  uint64_t bytes_since_snapshot_ = 0;       // loop thread

  mutable std::mutex mu_;
  mutable std::condition_variable applied_cv_;  // watchers: something was applied
  std::condition_variable wake_;                // loop: input arrived
  bool stopping_ = false;
  std::vector<raft::Message> inbox_;
  std::vector<Proposal> proposals_;
  metadata::MetadataState state_;
  QuorumStatus status_;
  std::deque<std::pair<uint64_t, std::string>> recent_;  // applied batches (no-ops left out)
  uint64_t recent_base_ = 0;  // every applied batch after this offset is in recent_
  std::thread thread_;
};

}  // namespace fjord::controller
