// One Raft voter, deterministic and pure: it takes clock ticks, messages and proposals,
// and hands back a Ready (see raft_types.h). No threads, clocks, sockets or files.
//
// Leader election with pre-vote (a node that cannot win does not raise terms) and
// check-quorum (a leader that has not heard from a majority for an election timeout
// steps down; a node that heard from a leader within one refuses to vote it away).
// Snapshots: the driver compacts the log up to an applied index with Compact(); a
// follower whose next entry is gone gets the snapshot instead. Observers receive the
// log like voters but never vote, campaign, or count towards a majority.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/raft_types.h"

namespace fjord::raft {

struct RaftConfig {
  NodeId id = 0;
  std::vector<NodeId> voters;     // includes id unless this node is an observer
  std::vector<NodeId> observers;  // follow the log without voting
  int election_ticks = 10;        // randomized per round in [election_ticks, 2 * election_ticks)
  int heartbeat_ticks = 2;
  size_t max_entries_per_append = 64;
  uint64_t seed = 0;  // the election-timeout jitter, so runs replay exactly
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };

class RaftNode {
 public:
  // `hard_state`, `snapshot` and `log` (the entries after the snapshot) are what a
  // previous life made durable.
  RaftNode(RaftConfig config, HardState hard_state, Snapshot snapshot, std::vector<Entry> log);
  RaftNode(RaftConfig config, HardState hard_state, std::vector<Entry> log)
      : RaftNode(std::move(config), hard_state, Snapshot{}, std::move(log)) {}

  void Tick();
  void Step(const Message& m);
  // Appends `data` at the leader; the index it will commit at, or kFailedPrecondition
  // on a node that is not the leader.
  absl::StatusOr<uint64_t> Propose(std::string data);
  Ready TakeReady();
  // Replaces entries 1..index with `data`, the state machine as of `index`, which the
  // driver has applied. The driver makes snapshot() durable itself.
  absl::Status Compact(uint64_t index, std::string data);

  Role role() const { return role_; }
  uint64_t term() const { return hard_.term; }
  NodeId leader() const { return leader_; }
  uint64_t commit_index() const { return commit_; }
  uint64_t last_index() const { return snapshot_.index + log_.size(); }
  uint64_t first_index() const { return snapshot_.index + 1; }  // lowest entry still held
  // Entry `index`, or null when compacted away or not (yet) there.
  const Entry* EntryAt(uint64_t index) const {
    return index < first_index() || index > last_index() ? nullptr : &log_[index - first_index()];
  }
  const Snapshot& snapshot() const { return snapshot_; }
  NodeId id() const { return config_.id; }
  bool is_voter() const;
  const std::vector<NodeId>& voters() const { return config_.voters; }
  const std::vector<NodeId>& observers() const { return config_.observers; }
  // The leader's view of how far each voter's and observer's log matches its own (its
  // own entry is its last index; 0 while unknown). Empty on any other node.
  std::map<NodeId, uint64_t> MatchIndexes() const;
  // The leader's match index for one follower (0 while unknown, or off the leader).
  uint64_t MatchIndex(NodeId id) const {
    auto it = match_.find(id);
    return role_ != Role::kLeader || it == match_.end() ? 0 : it->second;
  }

 private:
  uint64_t TermAt(uint64_t index) const {  // 0 when unknown
    if (index == snapshot_.index) return snapshot_.term;
    const Entry* e = EntryAt(index);
    return e == nullptr ? 0 : e->term;
  }
  uint64_t LastTerm() const { return TermAt(last_index()); }
  size_t Quorum() const { return config_.voters.size() / 2 + 1; }
  bool LogUpToDate(uint64_t index, uint64_t term) const;
  bool InLease() const;  // heard from a leader (or is one) within the election timeout

  void BecomeFollower(uint64_t term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  // Votes for itself and asks the others; true when that alone is a majority.
  bool StartCampaign(MessageType request, uint64_t term);
  void ResetElectionTimer();
  void SetTerm(uint64_t term);
  void SetVote(NodeId vote);

  void OnVoteRequest(const Message& m);
  void OnVoteResponse(const Message& m);
  void OnAppend(const Message& m);
  void OnAppendResponse(const Message& m);
  void OnSnapshot(const Message& m);

  void Append(Entry e);
  void TruncateFrom(uint64_t index);
  void SendAppend(NodeId to);
  void BroadcastAppend();  // to voters and observers
  void AdvanceCommit();
  void SetCommit(uint64_t index);
  void Send(Message m);

  RaftConfig config_;
  HardState hard_;
  Snapshot snapshot_;       // entries 1..snapshot_.index, applied and compacted
  std::vector<Entry> log_;  // entries snapshot_.index + 1 ... in order
  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  uint64_t commit_ = 0;
  uint64_t applied_ = 0;  // handed out in a Ready

  int election_elapsed_ = 0;
  int election_timeout_ = 0;  // this round's randomized timeout
  int heartbeat_elapsed_ = 0;
  std::mt19937_64 rng_;

  std::map<NodeId, bool> votes_;             // candidates and pre-candidates
  std::map<NodeId, uint64_t> next_, match_;  // leader
  std::map<NodeId, bool> recently_active_;   // leader: check-quorum

  bool broadcast_pending_ = false;  // proposals appended since the last Ready
  Ready ready_;
  uint64_t dirty_from_ = 0;  // lowest log index changed since the last Ready (0: none)
};

}  // namespace fjord::raft
