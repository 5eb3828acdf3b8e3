// The Raft core's inputs and outputs: log entries, messages between nodes, the durable
// hard state, and the Ready a driver must act on (persist, then send, then apply).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fjord::raft {

using NodeId = int32_t;
constexpr NodeId kNoNode = -1;

struct Entry {
  uint64_t term = 0;
  std::string data;  // empty: the no-op a new leader appends to commit earlier terms
  bool operator==(const Entry&) const = default;
};

enum class MessageType : uint8_t {
  kPreVote,  // "would you vote for me at term+1?" (no term change anywhere)
  kPreVoteResponse,
  kVote,
  kVoteResponse,
  kAppend,  // entries after (index, log_term); heartbeat when empty
  kAppendResponse,
  kSnapshot,  // the leader's snapshot, for a follower whose next entry it has compacted away
};

// The state machine as of `index` (whose entry had `term`); replaces entries 1..index.
struct Snapshot {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string data;
  bool operator==(const Snapshot&) const = default;
};

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  // Vote requests: the candidate's last index and term. Append: the entry before
  // `entries`. Snapshot: the snapshot's last index and term.
  uint64_t index = 0;
  uint64_t log_term = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;   // Append: the leader's commit index
  std::string snapshot;  // Snapshot: the state machine's bytes
  // Responses: granted (votes) or success (append); for append, the follower's match
  // index when successful, or its hint (the highest index that may match) when not.
  bool ok = false;
  uint64_t match = 0;
};

struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  bool operator==(const HardState&) const = default;
};

// What a node asks of its driver after Tick/Step/Propose, in this order:
// 1. make `hard_state` (if changed), `snapshot` (if set: it replaces every entry up to
//    its index) and the log suffix durable: drop every entry at `first_new_index` and
//    later, then append `new_entries` starting there;
// 2. only then send `messages` (a vote or an ack promises what step 1 stored);
// 3. if `snapshot` is set, reset the state machine to it; then apply `committed`
//    (entries first_committed_index, ... in order).
struct Ready {
  bool hard_state_changed = false;
  HardState hard_state;
  std::optional<Snapshot> snapshot;  // installed from the leader
  uint64_t first_new_index = 0;      // 0: the log did not change
  std::vector<Entry> new_entries;
  std::vector<Message> messages;
  uint64_t first_committed_index = 0;
  std::vector<Entry> committed;
  bool empty() const {
    return !hard_state_changed && !snapshot && first_new_index == 0 && messages.empty() && committed.empty();
  }
};

}  // namespace fjord::raft
