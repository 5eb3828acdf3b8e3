#include "raft/raft_node.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"

namespace fjord::raft {

RaftNode::RaftNode(RaftConfig config, HardState hard_state, Snapshot snapshot, std::vector<Entry> log)
    : config_(std::move(config)),
      hard_(hard_state),
      snapshot_(std::move(snapshot)),
      log_(std::move(log)),
      commit_(snapshot_.index),
      applied_(snapshot_.index),
      rng_(config_.seed * 1000003 + static_cast<uint64_t>(config_.id)) {
  ResetElectionTimer();
}

std::map<NodeId, uint64_t> RaftNode::MatchIndexes() const {
  if (role_ != Role::kLeader) return {};
  std::map<NodeId, uint64_t> out = match_;
  out[id()] = last_index();
  return out;
}

bool RaftNode::is_voter() const {
  return std::find(config_.voters.begin(), config_.voters.end(), config_.id) != config_.voters.end();
}

bool RaftNode::LogUpToDate(uint64_t index, uint64_t term) const {
  return term > LastTerm() || (term == LastTerm() && index >= last_index());
}

bool RaftNode::InLease() const {
  if (role_ == Role::kLeader) return true;
  return leader_ != kNoNode && election_elapsed_ < config_.election_ticks;
}

void RaftNode::ResetElectionTimer() {
  election_elapsed_ = 0;
  election_timeout_ =
      config_.election_ticks + static_cast<int>(rng_() % static_cast<uint64_t>(config_.election_ticks));
}

void RaftNode::SetTerm(uint64_t term) {
  if (term == hard_.term) return;
  hard_.term = term;
  hard_.vote = kNoNode;
  ready_.hard_state_changed = true;
}

void RaftNode::SetVote(NodeId vote) {
  hard_.vote = vote;
  ready_.hard_state_changed = true;
}

void RaftNode::BecomeFollower(uint64_t term, NodeId leader) {
  SetTerm(term);
  role_ = Role::kFollower;
  leader_ = leader;
  votes_.clear();
  ResetElectionTimer();
}

void RaftNode::BecomePreCandidate() {
  role_ = Role::kPreCandidate;
  if (StartCampaign(MessageType::kPreVote, hard_.term + 1)) BecomeCandidate();
}

void RaftNode::BecomeCandidate() {
  SetTerm(hard_.term + 1);
  SetVote(config_.id);
  role_ = Role::kCandidate;
  if (StartCampaign(MessageType::kVote, hard_.term)) BecomeLeader();
}

bool RaftNode::StartCampaign(MessageType request, uint64_t term) {
  leader_ = kNoNode;
  votes_.clear();
  votes_[config_.id] = true;
  ResetElectionTimer();
  if (votes_.size() >= Quorum()) return true;  // a single voter wins alone
  for (NodeId peer : config_.voters) {
    if (peer == config_.id) continue;
    Send({.type = request, .to = peer, .term = term, .index = last_index(), .log_term = LastTerm()});
  }
  return false;
}

void RaftNode::BecomeLeader() {
  role_ = Role::kLeader;
  leader_ = config_.id;
  votes_.clear();
  next_.clear();
  match_.clear();
  recently_active_.clear();
  for (NodeId peer : config_.voters) {
    next_[peer] = last_index() + 1;
    match_[peer] = 0;
  }
  for (NodeId peer : config_.observers) {
    next_[peer] = last_index() + 1;
    match_[peer] = 0;
  }
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // Entries of earlier terms commit only through one of this term (Raft §5.4.2).
  Append({hard_.term, std::string()});
  BroadcastAppend();
  AdvanceCommit();  // a single voter commits alone
}

void RaftNode::Tick() {
  if (role_ == Role::kLeader) {
    if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      // A heartbeat resends whatever is still unacknowledged, so a lost pipelined
      // Append costs at most one heartbeat interval.
      for (auto& [peer, next] : next_) next = std::min(next, match_[peer] + 1);
      BroadcastAppend();
    }
    if (++election_elapsed_ >= config_.election_ticks) {  // check quorum
      election_elapsed_ = 0;
      size_t active = 1;
      for (auto& [peer, seen] : recently_active_) {
        const bool voter =
            std::find(config_.voters.begin(), config_.voters.end(), peer) != config_.voters.end();
        if (peer != config_.id && voter && seen) ++active;
        seen = false;
      }
      if (active < Quorum()) BecomeFollower(hard_.term, kNoNode);
    }
    return;
  }
  // A sole voter has no one to wait for: it campaigns on its first tick.
  const bool alone = config_.voters.size() == 1 && is_voter();
  if (++election_elapsed_ >= election_timeout_ || alone) {
    if (is_voter()) {
      BecomePreCandidate();
    } else {
      ResetElectionTimer();  // an observer waits for whoever leads
    }
  }
}

void RaftNode::Step(const Message& m) {
  const bool vote_request = m.type == MessageType::kPreVote || m.type == MessageType::kVote;
  if (vote_request && m.term > hard_.term && InLease()) return;  // a live leader is not voted away
  if (m.term > hard_.term) {
    if (m.type == MessageType::kPreVote) {
      // A pre-vote changes no term; answered below.
    } else if (m.type == MessageType::kPreVoteResponse && m.ok) {
      // Granted at our term + 1: not a reason to change anything.
    } else {
      BecomeFollower(m.term, m.type == MessageType::kAppend ? m.from : kNoNode);
    }
  } else if (m.term < hard_.term) {
    // Stale. Tell a stale leader or candidate about the newer term so it steps down.
    if (m.type == MessageType::kAppend || m.type == MessageType::kSnapshot) {
      Send({.type = MessageType::kAppendResponse, .to = m.from, .term = hard_.term, .ok = false});
    } else if (vote_request) {
      Send({.type =
                m.type == MessageType::kPreVote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse,
            .to = m.from,
            .term = hard_.term,
            .ok = false});
    }
    return;
  }
  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      return OnVoteRequest(m);
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      return OnVoteResponse(m);
    case MessageType::kAppend:
      return OnAppend(m);
    case MessageType::kAppendResponse:
      return OnAppendResponse(m);
    case MessageType::kSnapshot:
      return OnSnapshot(m);
  }
}

void RaftNode::OnVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  bool grant = is_voter() && LogUpToDate(m.index, m.log_term);
  if (pre) {
    grant = grant && m.term > hard_.term;
  } else {
    grant = grant && (hard_.vote == kNoNode || hard_.vote == m.from);
    if (grant) {
      SetVote(m.from);
      ResetElectionTimer();
    }
  }
  Send({.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse,
        .to = m.from,
        .term = pre ? m.term : hard_.term,
        .ok = grant});
}

void RaftNode::OnVoteResponse(const Message& m) {
  const bool pre = m.type == MessageType::kPreVoteResponse;
  if (pre ? role_ != Role::kPreCandidate || m.term != hard_.term + 1
          : role_ != Role::kCandidate || m.term != hard_.term) {
    return;
  }
  votes_[m.from] = m.ok;
  size_t granted = 0;
  for (const auto& [node, yes] : votes_) granted += yes ? 1 : 0;
  if (granted >= Quorum()) return pre ? BecomeCandidate() : BecomeLeader();
  if (votes_.size() - granted >= Quorum()) BecomeFollower(hard_.term, kNoNode);  // lost
}

void RaftNode::OnAppend(const Message& m) {
  if (role_ != Role::kFollower || leader_ != m.from) BecomeFollower(m.term, m.from);
  election_elapsed_ = 0;
  if (m.index < snapshot_.index) {
    // The prefix up to our snapshot is committed, so it matches the leader's: skip it.
    const uint64_t skip = std::min<uint64_t>(snapshot_.index - m.index, m.entries.size());
    Message rest = m;
    rest.entries.erase(rest.entries.begin(), rest.entries.begin() + static_cast<ptrdiff_t>(skip));
    rest.index = m.index + skip;
    rest.log_term = TermAt(rest.index);
    if (rest.index < snapshot_.index) {  // nothing new: acknowledge what we hold
      Send({.type = MessageType::kAppendResponse,
            .to = m.from,
            .term = hard_.term,
            .ok = true,
            .match = snapshot_.index});
      return;
    }
    return OnAppend(rest);
  }
  if (m.index > last_index() || TermAt(m.index) != m.log_term) {
    // The entry before these does not match: hint where ours may still match.
    Send({.type = MessageType::kAppendResponse,
          .to = m.from,
          .term = hard_.term,
          .ok = false,
          .match = std::min(last_index(), m.index == 0 ? 0 : m.index - 1)});
    return;
  }
  uint64_t index = m.index;
  for (const Entry& e : m.entries) {
    ++index;
    if (index <= last_index()) {
      if (TermAt(index) == e.term) continue;
      TruncateFrom(index);  // a conflict: never at or below the commit index (leader completeness)
    }
    Append(e);
  }
  const uint64_t matched = m.index + m.entries.size();
  SetCommit(std::max(commit_, std::min(m.commit, matched)));
  Send(
      {.type = MessageType::kAppendResponse, .to = m.from, .term = hard_.term, .ok = true, .match = matched});
}

void RaftNode::OnAppendResponse(const Message& m) {
  if (role_ != Role::kLeader || !next_.contains(m.from)) return;
  recently_active_[m.from] = true;
  if (m.ok) {
    if (m.match > match_[m.from]) match_[m.from] = m.match;
    next_[m.from] = std::max(next_[m.from], m.match + 1);
    AdvanceCommit();
    if (next_[m.from] <= last_index()) SendAppend(m.from);
  } else {
    next_[m.from] = std::max<uint64_t>(1, std::min(next_[m.from] - 1, m.match + 1));
    next_[m.from] = std::max(next_[m.from], match_[m.from] + 1);
    SendAppend(m.from);
  }
}

void RaftNode::OnSnapshot(const Message& m) {
  if (role_ != Role::kFollower || leader_ != m.from) BecomeFollower(m.term, m.from);
  election_elapsed_ = 0;
  if (m.index > commit_) {
    if (TermAt(m.index) == m.log_term && m.index <= last_index()) {
      SetCommit(m.index);  // we hold that entry: the ordinary log path applies the rest
    } else {
      // Our log does not reach or match it: the snapshot replaces all of it.
      snapshot_ = {m.index, m.log_term, m.snapshot};
      log_.clear();
      commit_ = applied_ = m.index;
      dirty_from_ = m.index + 1;  // the driver drops every stored entry after it too
      ready_.snapshot = snapshot_;
    }
  }
  Send({.type = MessageType::kAppendResponse,
        .to = m.from,
        .term = hard_.term,
        .ok = true,
        .match = std::max(m.index, commit_)});
}

absl::Status RaftNode::Compact(uint64_t index, std::string data) {
  if (index > applied_) return absl::FailedPreconditionError("compacting past what was applied");
  if (index <= snapshot_.index) return absl::OkStatus();
  const uint64_t term = TermAt(index);
  log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(index - snapshot_.index));
  snapshot_ = {index, term, std::move(data)};
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RaftNode::Propose(std::string data) {
  if (role_ != Role::kLeader) return absl::FailedPreconditionError("not the leader");
  Append({hard_.term, std::move(data)});
  broadcast_pending_ = true;  // one Append per peer for all proposals before TakeReady
  AdvanceCommit();
  return last_index();
}

void RaftNode::Append(Entry e) {
  log_.push_back(std::move(e));
  if (dirty_from_ == 0 || last_index() < dirty_from_) dirty_from_ = last_index();
  if (role_ == Role::kLeader) match_[config_.id] = last_index();
}

void RaftNode::TruncateFrom(uint64_t index) {
  log_.resize(index - first_index());
  if (dirty_from_ == 0 || index < dirty_from_) dirty_from_ = index;
}

void RaftNode::SendAppend(NodeId to) {
  const uint64_t next = next_[to];
  if (next <= snapshot_.index) {
    Send({.type = MessageType::kSnapshot,
          .to = to,
          .term = hard_.term,
          .index = snapshot_.index,
          .log_term = snapshot_.term,
          .snapshot = snapshot_.data});
    next_[to] = snapshot_.index + 1;
    return;
  }
  Message m{.type = MessageType::kAppend,
            .to = to,
            .term = hard_.term,
            .index = next - 1,
            .log_term = TermAt(next - 1)};
  for (uint64_t i = next; i <= last_index() && m.entries.size() < config_.max_entries_per_append; ++i)
    m.entries.push_back(*EntryAt(i));
  m.commit = commit_;
  // Pipelining: the next Append carries what follows, not the same entries again. A lost
  // message shows up as a rejection (or a heartbeat's), which moves next_ back.
  next_[to] = next + m.entries.size();
  Send(std::move(m));
}

void RaftNode::BroadcastAppend() {
  for (NodeId peer : config_.voters) {
    if (peer != config_.id) SendAppend(peer);
  }
  for (NodeId peer : config_.observers) SendAppend(peer);
}

void RaftNode::AdvanceCommit() {
  std::vector<uint64_t> matches;
  for (NodeId peer : config_.voters) matches.push_back(peer == config_.id ? last_index() : match_[peer]);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t candidate = matches[Quorum() - 1];
  if (candidate > commit_ && TermAt(candidate) == hard_.term) {
    SetCommit(candidate);
    BroadcastAppend();  // followers learn the commit index without waiting for a heartbeat
  }
}

void RaftNode::SetCommit(uint64_t index) {
  commit_ = std::min(index, last_index());
}

void RaftNode::Send(Message m) {
  m.from = config_.id;
  ready_.messages.push_back(std::move(m));
}

Ready RaftNode::TakeReady() {
  if (broadcast_pending_ && role_ == Role::kLeader) BroadcastAppend();
  broadcast_pending_ = false;
  Ready out = std::move(ready_);
  ready_ = Ready{};
  out.hard_state = hard_;
  if (dirty_from_ != 0) {
    out.first_new_index = dirty_from_;
    if (dirty_from_ <= last_index())
      out.new_entries.assign(log_.begin() + static_cast<ptrdiff_t>(dirty_from_ - first_index()), log_.end());
    dirty_from_ = 0;
  }
  if (commit_ > applied_) {
    out.first_committed_index = applied_ + 1;
    out.committed.assign(log_.begin() + static_cast<ptrdiff_t>(applied_ - snapshot_.index),
                         log_.begin() + static_cast<ptrdiff_t>(commit_ - snapshot_.index));
    applied_ = commit_;
  }
  return out;
}

}  // namespace fjord::raft
